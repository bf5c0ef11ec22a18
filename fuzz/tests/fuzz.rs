//! Runs every fuzz target on its corpus, then on mutations of it for a
//! bounded time (`FUZZ_SECONDS` per target, 10 by default; `scripts/test`
//! runs this). A panic fails the test with the smallest input proptest finds;
//! its seed is kept in `fuzz/regressions/TARGET.txt` and replayed first on
//! every later run. Seeds are fixed, so a run can be repeated exactly.

use ecspoc_fuzz::TARGETS;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, TestRng, TestRunner};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            files_under(&p, keep, out);
        } else if keep(&p)
            && let Ok(bytes) = std::fs::read(&p)
        {
            out.push(bytes);
        }
    }
}

/// The corpus of a target: its own folder, plus real files of the project
/// (and the shared state corpus beside it), read in place, never copied.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let root = root();
    files_under(&root.join("fuzz/corpus").join(target), &|_| true, &mut out);
    let ends = |suffix: &'static str| move |p: &Path| p.to_string_lossy().ends_with(suffix);
    match target {
        "config_toml" => {
            for dir in ["examples", "modules", "environments"] {
                files_under(&root.join(dir), &ends(".toml"), &mut out);
            }
        }
        "config_json" => files_under(&root.join("tests/fixtures"), &ends(".tf.json"), &mut out),
        "state" => {
            let shared = std::env::var_os("ECSPOC_TFSTATE_CORPUS")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| root.join("../shared/corpus/tfstate"));
            files_under(&shared, &ends(".tfstate"), &mut out);
        }
        _ => {}
    }
    assert!(!out.is_empty(), "the {target} corpus is empty");
    out
}

/// Pieces worth splicing in: syntax, huge and odd numbers, torn UTF-8.
const TOKENS: &[&str] = &[
    "${",
    "}",
    "%{ if true }",
    "%{ endif }",
    "%{ for x in [1] }",
    "%{ endfor }",
    "[",
    "]",
    "{",
    "\"",
    "=",
    "\n",
    ",",
    ":",
    "null",
    "true",
    "1e308",
    "-1",
    "9999999999999999999999",
    "0.5",
    "count.index",
    "each.key",
    "var.x",
    "module.m.o",
    "local.l",
    "self.id",
    "[*]",
    "...",
    "=>",
    "cidrsubnet(\"10.0.0.0/8\", ",
    "format(\"%99999d\", ",
    "range(",
    "substr(",
    "element(",
    "jsondecode(",
    "lookup(",
    "merge(",
    "\u{e9}",
    "\u{1F600}",
    "\\u0000",
    "\\",
    "#",
    "//",
    "/*",
    "*/",
    "[resource.terraform_data.",
    "[variable.",
    "[module.",
    "[output.",
    "[locals]",
    "\"resources\":",
    "\"instances\":",
    "\"index_key\":",
    "\"mode\":\"managed\"",
    "\"module\":\"module.a[0]\"",
    "{\"op\":\"put\",\"addr\":",
    "{\"op\":\"intent\",",
    "h",
    "ms",
    "ns",
    "µs",
    "\"Unknown\"",
    "{\"Map\":{}}",
    "\"format_version\":2",
];

#[derive(Clone, Debug)]
enum Mutation {
    Insert(usize, usize),
    Delete(usize, usize),
    Byte(usize, u8),
    Splice(usize, usize, usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0..TOKENS.len()).prop_map(|(p, t)| Mutation::Insert(p, t)),
        2 => (any::<usize>(), 1usize..16).prop_map(|(p, n)| Mutation::Delete(p, n)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Byte(p, b)),
        1 => (any::<usize>(), any::<usize>(), any::<usize>(), 1usize..64).prop_map(|(p, o, q, n)| Mutation::Splice(p, o, q, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(seeds: &[Vec<u8>], start: usize, ops: &[Mutation]) -> Vec<u8> {
    let mut d = seeds[start % seeds.len()].clone();
    for op in ops {
        let at = |p: usize, d: &Vec<u8>| if d.is_empty() { 0 } else { p % (d.len() + 1) };
        match *op {
            Mutation::Insert(p, t) => {
                let i = at(p, &d);
                d.splice(i..i, TOKENS[t].bytes());
            }
            Mutation::Delete(p, n) => {
                let i = at(p, &d);
                let end = (i + n).min(d.len());
                d.drain(i..end);
            }
            Mutation::Byte(p, b) => {
                if !d.is_empty() {
                    let i = p % d.len();
                    d[i] = b;
                }
            }
            Mutation::Splice(p, other, q, n) => {
                let src = &seeds[other % seeds.len()];
                if !src.is_empty() {
                    let from = q % src.len();
                    let piece: Vec<u8> = src[from..(from + n).min(src.len())].to_vec();
                    let i = at(p, &d);
                    d.splice(i..i, piece);
                }
            }
            Mutation::Truncate(p) => {
                let i = at(p, &d);
                d.truncate(i);
            }
        }
    }
    d
}

fn budget() -> Duration {
    let secs = std::env::var("FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10u64);
    Duration::from_secs(secs)
}

fn fuzz(name: &str) {
    let (_, target) = TARGETS.iter().find(|(n, _)| *n == name).expect("a target of that name");
    let seeds = corpus(name);
    for s in &seeds {
        target(s);
    }
    let regressions: &'static str = Box::leak(
        root().join("fuzz/regressions").join(format!("{name}.txt")).to_string_lossy().into_owned().into_boxed_str(),
    );
    let started = Instant::now();
    let mut round: u8 = 0;
    let runs = std::sync::atomic::AtomicU64::new(0);
    while started.elapsed() < budget() {
        let config = Config {
            cases: 256,
            failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
            ..Config::default()
        };
        let seed = [round; 32];
        let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        let strategy = (0..seeds.len(), proptest::collection::vec(mutation(), 0..12));
        let result = runner.run(&strategy, |(start, ops)| {
            runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            target(&mutate(&seeds, start, &ops));
            Ok(())
        });
        if let Err(e) = result {
            panic!("fuzz target {name} panicked: {e}");
        }
        round = round.wrapping_add(1);
    }
    eprintln!(
        "fuzz {name}: {} corpus inputs, {} mutations in {:.0?}",
        seeds.len(),
        runs.into_inner(),
        started.elapsed()
    );
}

#[test]
fn config_toml() {
    fuzz("config_toml");
}

#[test]
fn config_json() {
    fuzz("config_json");
}

#[test]
fn variables() {
    fuzz("variables");
}

#[test]
fn state() {
    fuzz("state");
}

#[test]
fn journal() {
    fuzz("journal");
}

#[test]
fn template() {
    fuzz("template");
}

#[test]
fn address() {
    fuzz("address");
}

#[test]
fn duration() {
    fuzz("duration");
}

#[test]
fn plan_file() {
    fuzz("plan_file");
}
