//! The plan text, line for line against Terraform 1.11's own renderer: the
//! same configuration (terraform_data, built into both) applied and then
//! changed, planned by Terraform and by ecspoc. Only what must differ is
//! taken out: the tool's name, ids, refresh lines (both refresh in
//! parallel), and ecspoc's own destroy warning.

mod common;
use common::Workdir;
use common::terraform::{terraform, terraform_ok};

/// The text from the legend to the end of the plan, comparable.
fn comparable(text: &str) -> String {
    let uuid = regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let mut out = Vec::new();
    let mut started = false;
    let mut skipping_warning = false;
    for line in text.lines() {
        let line = line.replace("Terraform", "TOOL").replace("terraform apply", "TOOL apply").replace("ecspoc", "TOOL");
        if line.starts_with("TOOL used the selected providers") || line.starts_with("No changes.") {
            started = true;
        }
        if line.starts_with("─") {
            break;
        }
        if line.starts_with("Warning: this plan destroys") {
            skipping_warning = true;
        }
        if skipping_warning {
            skipping_warning = !line.is_empty();
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

fn tf_json(toml_text: &str) -> String {
    let table: toml::Table = toml::from_str(toml_text).expect("TOML");
    serde_json::to_string_pretty(&table).expect("JSON")
}

/// Apply `before` with each tool, then plan `after` with each.
fn plans(before: &str, after: &str) -> (String, String) {
    let ours = Workdir::new(&[("main.toml", before)]);
    ours.ok(&["apply", "-auto-approve"]);
    ours.write("main.toml", after);
    let mine = ours.run(&["plan", "-no-color"]);
    assert!(mine.code == 0, "{}", mine.all());

    let theirs = Workdir::new(&[("main.tf.json", &tf_json(before))]);
    terraform_ok(theirs.path(), &["init", "-no-color", "-input=false"]);
    terraform_ok(theirs.path(), &["apply", "-auto-approve", "-no-color", "-input=false"]);
    theirs.write("main.tf.json", &tf_json(after));
    let out = terraform(theirs.path(), &["plan", "-no-color", "-input=false"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (comparable(&String::from_utf8_lossy(&out.stdout)), comparable(&mine.stdout))
}

fn same_text(name: &str, before: &str, after: &str) {
    let (theirs, mine) = plans(before, after);
    assert!(!theirs.is_empty(), "{name}: no plan text from Terraform");
    let diff = similar::TextDiff::from_lines(&theirs, &mine);
    let shown: String = diff.unified_diff().header("terraform", "ecspoc").to_string();
    assert!(theirs == mine, "{name}: the plan text differs from Terraform's:\n{shown}");
}

#[test]
fn creates_and_destroys_read_as_terraforms() {
    same_text(
        "create and destroy",
        "[resource.terraform_data.old]\ninput = \"bye\"\n",
        r#"
[resource.terraform_data.new]
input = { name = "web", ports = [80, 443], labels = { team = "platform" }, enabled = true }

[resource.terraform_data.text]
input = "one line"
"#,
    );
}

#[test]
fn list_changes_show_terraforms_context_lines() {
    same_text(
        "list insertion",
        "[resource.terraform_data.a]\ninput = [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]\n",
        "[resource.terraform_data.a]\ninput = [\"a\", \"b\", \"c\", \"x\", \"d\", \"e\", \"f\"]\n",
    );
}

#[test]
fn a_value_known_only_after_apply_lists_what_goes() {
    same_text(
        "object to unknown",
        "[resource.terraform_data.a]\ninput = [\"a\", \"b\"]\n",
        "[resource.terraform_data.a]\ninput = [\"a\", \"c\", \"b\"]\n",
    );
}

#[test]
fn replacements_and_outputs_read_as_terraforms() {
    same_text(
        "replace and outputs",
        r#"
[resource.terraform_data.a]
input = "v1"
triggers_replace = "one"

[output.kept]
value = "same"

[output.changed]
value = "before"

[output.removed]
value = "gone soon"
"#,
        r#"
[resource.terraform_data.a]
input = "v1"
triggers_replace = "two"

[output.kept]
value = "same"

[output.changed]
value = "after"

[output.added]
value = "new"
"#,
    );
}

#[test]
fn object_changes_align_names_and_hide_unchanged_attributes() {
    same_text(
        "object update",
        r#"
[resource.terraform_data.a]
input = { name = "x", size = 2, tags = ["a", "b"], nested = { deep = true } }

[resource.terraform_data.b]
input = "hello"

[output.name]
value = "${terraform_data.a.output.name}"

[output.gone]
value = "bye"
"#,
        r#"
[resource.terraform_data.a]
input = { name = "y", size = 2, tags = ["a", "c", "b"], nested = { deep = true } }

[resource.terraform_data.c]
input = "new"

[output.name]
value = "${terraform_data.a.output.name}"
"#,
    );
}
