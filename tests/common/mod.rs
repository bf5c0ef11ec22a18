//! Runs the real `ecspoc` binary in a temporary root module folder.
#![allow(dead_code)]

pub mod fault_proxy;
pub mod github;
pub mod moto;
pub mod request_rules;
pub mod s3_store;
pub mod state_diff;
pub mod terraform;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The team's corpus of real state files: `ECSPOC_TFSTATE_CORPUS`, or
/// `../shared/corpus/tfstate` beside the project (scripts/test finds it
/// beside the clone's origin too). Read in place, never copied.
pub fn tfstate_corpus() -> PathBuf {
    let dir = match std::env::var_os("ECSPOC_TFSTATE_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/tfstate"),
    };
    assert!(
        dir.is_dir(),
        "the state corpus is not at {}: set ECSPOC_TFSTATE_CORPUS to the folder holding ../shared/corpus/tfstate",
        dir.display()
    );
    dir
}

/// Six chains of a wait then a file: slow enough to interrupt mid-apply.
pub const CHAINS: &str = r#"
[resource.time_sleep.wait]
count = 6
create_duration = "${(count.index + 1) * 300}ms"

[resource.local_file.out]
count = 6
filename = "files/${count.index}.txt"
content = "chain ${count.index} after ${time_sleep.wait[count.index].create_duration}"
"#;

pub struct Workdir {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ecspoc")
}

impl Workdir {
    pub fn new(files: &[(&str, &str)]) -> Workdir {
        let w = Workdir { dir: tempfile::tempdir().expect("tempdir"), env: Vec::new() };
        for (name, text) in files {
            w.write(name, text);
        }
        w
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) {
        let p = self.file(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap_or_default()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args).current_dir(self.path()).env("NO_COLOR", "1").env_remove("TF_VAR_name");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Run every later command against the local AWS emulator.
    pub fn with_aws(mut self, moto: &moto::Moto) -> Workdir {
        self.env.extend(moto.env().into_iter().map(|(k, v)| (k.to_string(), v)));
        self
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).stdin(Stdio::null()).output().expect("run ecspoc"))
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ecspoc")
    }

    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "ecspoc {args:?} failed:\n{}", r.all());
        r
    }

    pub fn state(&self) -> serde_json::Value {
        serde_json::from_str(&self.read("terraform.tfstate")).expect("state is JSON")
    }

    /// Instance addresses in the state file, as `state list` prints them.
    pub fn state_list(&self) -> Vec<String> {
        self.ok(&["state", "list"]).stdout.lines().map(String::from).collect()
    }
}

/// Replace run-to-run noise (UUIDs, random ids, timestamps) for snapshots.
pub fn redact(text: &str) -> String {
    let uuid = regex_lite(text, r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[uuid]");
    regex_lite(&uuid, r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[time]")
}

fn regex_lite(text: &str, pattern: &str, with: &str) -> String {
    regex::Regex::new(pattern).expect("pattern").replace_all(text, with).into_owned()
}

// Helpers for the AWS lifecycle tests.

/// An attribute of a resource's first instance, from the state file
/// (`aws_vpc.main`, `module.svc["api"].terraform_data.this`).
pub fn state_attr(w: &Workdir, addr: &str, attr: &str) -> serde_json::Value {
    let state = w.state();
    let address = |r: &serde_json::Value| {
        let local = format!("{}.{}", r["type"].as_str().unwrap_or(""), r["name"].as_str().unwrap_or(""));
        match r["module"].as_str() {
            Some(m) => format!("{m}.{local}"),
            None => local,
        }
    };
    state["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| address(r) == addr))
        .map(|r| r["instances"][0]["attributes"][attr].clone())
        .unwrap_or_else(|| panic!("{addr} not in state"))
}

pub fn state_id(w: &Workdir, addr: &str) -> String {
    state_attr(w, addr, "id").as_str().unwrap_or_else(|| panic!("{addr} has no id in state")).to_string()
}

/// Each expectation is a line of the plan with its runs of spaces squeezed
/// (attribute alignment depends on the longest name in the block).
pub fn expect_changes(r: &Run, what: &[&str]) {
    assert_eq!(r.code, 2, "expected changes:\n{}", r.all());
    let squeezed: Vec<String> = r.stdout.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    for w in what {
        assert!(squeezed.iter().any(|l| l.contains(w)), "missing {w:?} in:\n{}", r.stdout);
    }
}

/// Drift a refresh-only plan shows (a normal plan shows only drift that
/// something changing reads, as Terraform does).
pub fn expect_drift(w: &Workdir, what: &[&str]) {
    expect_changes(&w.run(&["plan", "-refresh-only", "-detailed-exitcode"]), what);
}

pub fn no_changes(w: &Workdir) {
    let r = w.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "expected no changes:\n{}", r.all());
}

/// checkov (a policy tool that reads Terraform's plan JSON), installed by
/// scripts/install-checkov; its findings as JSON and what it said on stderr.
pub fn checkov(w: &Workdir, plan_json: &str) -> (serde_json::Value, String) {
    let program = std::env::var("ECSPOC_CHECKOV").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/ecspoc/checkov-3.3.30/bin/checkov")
    });
    assert!(
        std::path::Path::new(&program).exists(),
        "checkov is not installed: run scripts/install-checkov (scripts/test does)"
    );
    let file = w.file("plan.json");
    std::fs::write(&file, plan_json).expect("write plan JSON");
    let out = std::process::Command::new(&program)
        .args(["-f", "plan.json", "--framework", "terraform_plan", "--skip-download", "-o", "json"])
        .current_dir(w.path())
        .output()
        .expect("run checkov");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("checkov said {e}: {stdout}"));
    w.write("checkov.json", &stdout);
    let doc = if doc.is_array() { doc[0].clone() } else { doc };
    (doc, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// modules/ and the named environments in a workdir, on the emulator, with
/// the environments' `emulator` switch on.
pub fn stack(envs: &[&str], moto: &moto::Moto) -> Workdir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in std::fs::read_dir(root.join("modules")).expect("modules").flatten() {
        let name = dir.file_name().to_string_lossy().to_string();
        files.push((
            format!("modules/{name}/main.toml"),
            std::fs::read_to_string(dir.path().join("main.toml")).expect("module"),
        ));
    }
    for e in envs {
        files.push((
            format!("environments/{e}/main.toml"),
            std::fs::read_to_string(root.join(format!("environments/{e}/main.toml"))).expect("env"),
        ));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let mut w = Workdir::new(&refs).with_aws(moto);
    w.env.push(("TF_VAR_emulator".into(), "true".into()));
    w
}
