//! One fuzz target per parser of input ecspoc does not control, and one for
//! the function library. Each takes arbitrary bytes and must return, never
//! panic; `tests/fuzz.rs` feeds them their corpus and mutations of it. The
//! same functions fit a libFuzzer harness (`fuzz_target!(|d| config_toml(d))`).

use ecspoc_core::addr::Target;
use ecspoc_core::config::Config;
use ecspoc_core::config::expr::parse_template;
use ecspoc_core::config::types::TypeConstraint;
use ecspoc_core::engine::Engine;
use ecspoc_core::eval::{EmptyScope, eval};
use ecspoc_core::provider::ProviderSet;
use ecspoc_core::source::Span;
use ecspoc_core::state::{State, StateFile, journal};
use std::path::{Path, PathBuf};

pub type FuzzTarget = fn(&[u8]);

/// Every target by name, as the corpus folders are named.
pub const TARGETS: &[(&str, FuzzTarget)] = &[
    ("config_toml", config_toml),
    ("config_json", config_json),
    ("variables", variables),
    ("state", state),
    ("journal", journal_lines),
    ("template", template),
    ("address", address),
    ("duration", duration),
    ("plan_file", plan_file),
];

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Load a root module from memory, then build the engine (schema checks,
/// the graph, the sensitivity pass) with the built-in providers.
fn load(name: &str, data: &[u8]) {
    let files = vec![(PathBuf::from(name), text(data))];
    if let Ok(config) = Config::load_snapshot(&files, Path::new(".")) {
        let mut providers = ProviderSet::new();
        ecspoc_builtin::register(&mut providers);
        let _ = Engine::new(config, providers, PathBuf::from("."));
    }
}

pub fn config_toml(data: &[u8]) {
    load("main.toml", data);
}

pub fn config_json(data: &[u8]) {
    load("main.tf.json", data);
}

/// `.tfvars` in its three syntaxes, then each value converted to common types.
pub fn variables(data: &[u8]) {
    let t = text(data);
    let types = [
        "string",
        "number",
        "bool",
        "list(string)",
        "map(number)",
        "object({a = string, b = list(number)})",
        "set(any)",
        "tuple([string, number])",
    ];
    for name in ["x.tfvars", "x.tfvars.json", "x.tfvars.toml"] {
        if let Ok(pairs) = ecspoc_core::config::var_file::parse(name, &t) {
            for (_, v) in pairs.iter().take(8) {
                for ty in types {
                    if let Ok(c) = TypeConstraint::parse(ty) {
                        let _ = c.convert(v);
                    }
                }
            }
        }
    }
    let _ = TypeConstraint::parse(&t);
}

/// A state file: parsed, checked, and written back.
pub fn state(data: &[u8]) {
    if let Ok(file) = serde_json::from_slice::<StateFile>(data)
        && let Ok(s) = State::from_file(file, "fuzz.tfstate")
    {
        let _ = serde_json::to_string(&s.to_file());
    }
}

/// Journal bytes (torn anywhere), replayed into an empty state.
pub fn journal_lines(data: &[u8]) {
    if let Ok(records) = journal::parse_records(data, Path::new("fuzz.journal")) {
        let mut s = State::new();
        let _ = journal::replay(&mut s, &records, Path::new("fuzz.journal"));
    }
}

/// A `${...}` template, evaluated with Terraform's functions.
pub fn template(data: &[u8]) {
    let scope = EmptyScope(std::env::temp_dir().join("ecspoc-fuzz-no-such-dir"));
    if let Ok(e) = parse_template(&text(data), Span::default()) {
        let _ = eval(&e, &scope);
    }
}

/// Addresses as -target, -replace and state commands take them.
pub fn address(data: &[u8]) {
    let _ = Target::parse(&text(data));
}

/// Durations as time_sleep and -lock-timeout take them.
pub fn duration(data: &[u8]) {
    let _ = ecspoc_builtin::parse_duration(&text(data));
}

/// A saved plan file, as `apply PLANFILE` and `show PLANFILE` read it.
pub fn plan_file(data: &[u8]) {
    let _ = ecspoc_core::plan::file::from_bytes(data, "fuzz.plan");
}
