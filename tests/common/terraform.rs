//! Terraform itself, for comparing with it: the stack's TOML written
//! mechanically as Terraform's JSON syntax (`main.toml` -> `main.tf.json`,
//! the same tables, keys and strings), and `terraform` run against the real
//! AWS provider from this machine's filesystem mirror.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Copy `from` to `to`, every `.toml` file as `.tf.json`; other files are left out.
pub fn convert_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())).flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            convert_tree(&path, &to.join(&name));
        } else if let Some(stem) = name.strip_suffix(".toml") {
            let text = std::fs::read_to_string(&path).expect("read");
            let table: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let json = serde_json::to_string_pretty(&table).expect("JSON");
            std::fs::create_dir_all(to).expect("mkdir");
            std::fs::write(to.join(format!("{stem}.tf.json")), json).expect("write");
        }
    }
}

/// The folder holding `registry.terraform.io/hashicorp/aws/...`
/// (`ECSPOC_TF_PLUGIN_MIRROR` overrides).
pub fn plugin_mirror() -> PathBuf {
    if let Some(p) = std::env::var_os("ECSPOC_TF_PLUGIN_MIRROR") {
        return PathBuf::from(p);
    }
    let default = PathBuf::from("/opt/tf-plugins");
    assert!(
        default.join("registry.terraform.io/hashicorp/aws").is_dir(),
        "the AWS provider's filesystem mirror is not at {}: set ECSPOC_TF_PLUGIN_MIRROR",
        default.display()
    );
    default
}

/// `terraform ARGS` in `dir`, providers from the mirror only, nothing from the network.
pub fn terraform(dir: &Path, args: &[&str]) -> Output {
    terraform_with(dir, args, &[])
}

/// The same, with more environment (an emulator's endpoint and keys).
pub fn terraform_with(dir: &Path, args: &[&str], env: &[(String, String)]) -> Output {
    let rc = dir.join(".terraformrc-ecspoc-test");
    if !rc.exists() {
        let mirror = plugin_mirror();
        std::fs::write(
            &rc,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path = {:?}\n  }}\n}}\n",
                mirror.display().to_string()
            ),
        )
        .expect("write the CLI configuration");
    }
    Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_IN_AUTOMATION")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("terraform is on PATH on this project's machines")
}

/// `terraform ARGS` that must succeed: its stdout.
pub fn terraform_ok(dir: &Path, args: &[&str]) -> String {
    let out = terraform(dir, args);
    assert!(
        out.status.success(),
        "terraform {args:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A plan's text from the legend to the end, comparable between the tools:
/// the tool's name, ids and ecspoc's own destroy warning taken out.
pub fn comparable(text: &str) -> String {
    let uuid = regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let mut out = Vec::new();
    let mut started = false;
    let mut skipping_warning = false;
    let marks = regex::Regex::new(r"<[0-9;]*>").unwrap();
    for line in text.lines() {
        let line = tool_neutral(line);
        // Decided on the text alone, marks of `styles` aside.
        let plain = marks.replace_all(&line, "").to_string();
        // (A plan of moves alone has no legend.)
        if plain.starts_with("TOOL used the selected providers")
            || plain.starts_with("TOOL will perform the following actions")
            || plain.starts_with("No changes.")
        {
            started = true;
        }
        if plain.starts_with("─") {
            break;
        }
        if plain.starts_with("Warning: this plan destroys") {
            skipping_warning = true;
        }
        if skipping_warning {
            skipping_warning = !plain.is_empty();
            continue;
        }
        if started {
            out.push(uuid.replace_all(&line, "[uuid]").to_string());
        }
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// A line with the tool's name, whichever tool printed it, as `TOOL`.
fn tool_neutral(line: &str) -> String {
    line.replace("Terraform", "TOOL").replace("terraform apply", "TOOL apply").replace("ecspoc", "TOOL")
}

/// `comparable`, preceded by the drift notes ("Objects have changed
/// outside of ...") up to the rule that closes them.
pub fn comparable_with_drift(text: &str) -> String {
    let drift: Vec<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("Note: Objects have changed outside"))
        .take_while(|l| !l.starts_with('─'))
        .map(tool_neutral)
        .collect();
    // The plan proper follows the rule that closes the drift notes.
    let rest = match text.find("Note: Objects have changed outside") {
        Some(at) => text[at..].split_once('─').map(|(_, r)| r.trim_start_matches('─')).unwrap_or(""),
        None => text,
    };
    format!("{}\n{}", drift.join("\n").trim_end(), comparable(rest))
}

/// A coloured text with its ANSI styles written as marks where they change
/// (`<1;31>destroyed<>`), so two tools' colours compare however each spells
/// its escape codes; the style of spaces is not compared.
pub fn styles(text: &str) -> String {
    let (mut bold, mut fg): (bool, Option<u32>) = (false, None);
    let mut shown = (false, None);
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            let mut code = String::new();
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
                code.push(d);
            }
            for part in code.split(';') {
                match part.parse::<u32>().unwrap_or(0) {
                    0 => (bold, fg) = (false, None),
                    1 => bold = true,
                    22 => bold = false,
                    39 => fg = None,
                    n @ (30..=37 | 90..=97) => fg = Some(n),
                    _ => {}
                }
            }
            continue;
        }
        if !c.is_whitespace() && (bold, fg) != shown {
            shown = (bold, fg);
            let mut mark: Vec<String> = Vec::new();
            if bold {
                mark.push("1".into());
            }
            if let Some(f) = fg {
                mark.push(f.to_string());
            }
            out.push_str(&format!("<{}>", mark.join(";")));
        }
        if c == '\n' {
            // Each line's marks stand alone: a line is compared with its twin.
            shown = (false, None);
        }
        out.push(c);
    }
    out
}

/// Two plan texts made `comparable`, Terraform's and ecspoc's, equal: a
/// unified diff of them when not.
pub fn assert_same_plan(name: &str, theirs: &str, mine: &str) {
    assert!(!theirs.is_empty(), "{name}: no plan text from Terraform");
    let diff = similar::TextDiff::from_lines(theirs, mine);
    assert!(
        theirs == mine,
        "{name}: the plan text differs from Terraform's:\n{}",
        diff.unified_diff().header("terraform", "ecspoc")
    );
}
