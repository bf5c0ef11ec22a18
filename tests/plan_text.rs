//! The plan text, line for line against Terraform 1.11's own renderer: the
//! same configuration (terraform_data, built into both) applied and then
//! changed, planned by Terraform and by ecspoc. Only what must differ is
//! taken out: the tool's name, ids, refresh lines (both refresh in
//! parallel), and ecspoc's own destroy warning.

mod common;
use common::Workdir;
use common::terraform::{assert_same_plan, comparable, styles, terraform, terraform_ok};

fn tf_json(toml_text: &str) -> String {
    let table: toml::Table = toml::from_str(toml_text).expect("TOML");
    serde_json::to_string_pretty(&table).expect("JSON")
}

/// Apply `before` with each tool, then plan `after` with each (with `extra` plan flags).
fn plans_with(before: &str, after: &str, extra: &[&str]) -> (String, String) {
    let ours = Workdir::new(&[("main.toml", before)]);
    ours.ok(&["apply", "-auto-approve"]);
    ours.write("main.toml", after);
    let args: Vec<&str> = ["plan", "-no-color"].iter().chain(extra).copied().collect();
    let mine = ours.run(&args);
    assert!(mine.code == 0, "{}", mine.all());

    let theirs = Workdir::new(&[("main.tf.json", &tf_json(before))]);
    terraform_ok(theirs.path(), &["init", "-no-color", "-input=false"]);
    terraform_ok(theirs.path(), &["apply", "-auto-approve", "-no-color", "-input=false"]);
    theirs.write("main.tf.json", &tf_json(after));
    let args: Vec<&str> = ["plan", "-no-color", "-input=false"].iter().chain(extra).copied().collect();
    let out = terraform(theirs.path(), &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (comparable(&String::from_utf8_lossy(&out.stdout)), comparable(&mine.stdout))
}

fn same_text(name: &str, before: &str, after: &str) {
    same_text_with(name, before, after, &[]);
}

fn same_text_with(name: &str, before: &str, after: &str, extra: &[&str]) {
    let (theirs, mine) = plans_with(before, after, extra);
    assert_same_plan(name, &theirs, &mine);
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

/// A tuple (a list literal in a value of no fixed type) that keeps its
/// length changes element by element; one that grows, by insertion.
#[test]
fn tuples_of_one_length_change_element_by_element() {
    same_text(
        "tuple element replaced",
        "[resource.terraform_data.a]\ninput = { a = \"1\", l = [\"x\", \"y\"], o = [{ k = 1 }, { k = 2 }] }\n",
        "[resource.terraform_data.a]\ninput = { a = \"2\", l = [\"x\", \"z\"], o = [{ k = 1 }, { k = 3 }] }\n",
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

const WITH_OUTPUTS: &str = r#"
[resource.terraform_data.a]
input = { name = "web", size = 2 }

[output.name]
value = "${terraform_data.a.output.name}"

[output.size]
value = "${terraform_data.a.output.size}"
"#;

#[test]
fn a_destroy_plan_lists_its_outputs_going() {
    same_text_with("destroy plan", WITH_OUTPUTS, WITH_OUTPUTS, &["-destroy"]);
}

#[test]
fn no_changes_read_as_terraforms() {
    same_text("no changes", WITH_OUTPUTS, WITH_OUTPUTS);
}

#[test]
fn multi_line_strings_show_as_heredoc_diffs() {
    same_text(
        "heredoc",
        "[resource.terraform_data.a]\ninput = \"line one\\nline two\\nline three\\n\"\n",
        "[resource.terraform_data.a]\ninput = \"line one\\nline 2\\nline three\\nline four\\n\"\n",
    );
}

const POLICY_BEFORE: &str = r#"
[resource.terraform_data.policy]
input = "${jsonencode({Version = \"2012-10-17\", Statement = [{Sid = \"A\", Effect = \"Allow\", Action = [\"s3:GetObject\", \"s3:PutObject\"], Resource = \"*\"}, {Sid = \"B\", Effect = \"Deny\", Action = \"iam:*\", Resource = [\"arn:aws:iam::1:role/x\"], Condition = {Bool = {\"aws:SecureTransport\" = \"false\"}}}]})}"

[resource.terraform_data.containers]
input = "${jsonencode([{name = \"app\", image = \"nginx\", cpu = 256, essential = true, portMappings = [{containerPort = 80}], environment = []}])}"

[resource.terraform_data.gone]
input = "${jsonencode({a = 1, b = [1, 2]})}"
"#;

/// JSON documents (policies, container definitions) as Terraform shows
/// them: the value they encode inside `jsonencode(`, created, changed
/// member by member (an object's `name` always shown), destroyed, and
/// becoming known only after apply.
#[test]
fn json_documents_show_as_structural_diffs() {
    let after = POLICY_BEFORE
        .replace("\\\"s3:PutObject\\\"", "\\\"s3:DeleteObject\\\"")
        .replace("Effect = \\\"Deny\\\"", "Effect = \\\"Allow\\\"")
        .replace("cpu = 256", "cpu = 512, memory = 128");
    let after = after[..after.find("[resource.terraform_data.gone]").unwrap()].to_string();
    assert_ne!(after, POLICY_BEFORE);
    same_text("json documents created", "[resource.terraform_data.seed]\ninput = 1\n", POLICY_BEFORE);
    same_text("json documents changed and destroyed", POLICY_BEFORE, &after);
    // A document inside an object.
    let nested = r#"
[resource.terraform_data.role]
input = { name = "php-hello-dev", policy = "${jsonencode({ Version = \"2012-10-17\", Statement = [{ Effect = \"Allow\", Action = [\"s3:GetObject\"], Resource = \"*\" }] })}" }
"#;
    let widened = nested.replace("[\\\"s3:GetObject\\\"]", "[\\\"s3:GetObject\\\", \\\"s3:PutObject\\\"]");
    assert_ne!(widened, nested);
    same_text("a json document in an object", nested, &widened);
}

/// The one deliberate difference: Terraform prints the old value of
/// terraform_data's `output` that came from a sensitive variable in clear;
/// ecspoc, which tracks what carries a secret, never does.
#[test]
fn sensitive_values_are_hidden_where_terraform_hides_them_and_where_it_does_not() {
    let (theirs, mine) = plans_with(
        "[variable.secret]\ntype = \"string\"\nsensitive = true\ndefault = \"s3cret\"\n\n[resource.terraform_data.a]\ninput = \"${var.secret}\"\n",
        "[variable.secret]\ntype = \"string\"\nsensitive = true\ndefault = \"other\"\n\n[resource.terraform_data.a]\ninput = \"${var.secret}\"\n",
        &[],
    );
    assert!(theirs.contains("~ output = \"s3cret\" -> (known after apply)"), "{theirs}");
    assert!(!mine.contains("s3cret") && !mine.contains("other"), "{mine}");
    let leak = |t: &str| t.replace("\"s3cret\" -> (known after apply)", "(sensitive value)");
    assert_eq!(leak(&theirs), mine, "everything else as Terraform's");
}

/// Colours as Terraform's on a terminal (ecspoc with CLICOLOR_FORCE, as in
/// a CI log): every mark, bold and colour compared, whatever escape codes
/// each tool spells them with.
#[test]
fn colours_are_terraforms() {
    let before = r#"
[resource.terraform_data.kept]
input = { name = "web", size = 1, tags = ["a", "b", "c"] }

[resource.terraform_data.swapped]
input = "x"
triggers_replace = "one"

[resource.terraform_data.gone]
input = "${jsonencode({a = 1, b = [1, 2]})}"

[output.sizes]
value = { web = 1, api = 2 }
"#;
    let after = r#"
[resource.terraform_data.kept]
input = { name = "web", size = 2, tags = ["a", "c"] }

[resource.terraform_data.swapped]
input = "x"
triggers_replace = "two"

[resource.terraform_data.added]
input = "new"

[output.sizes]
value = { web = 1 }
"#;
    let ours = Workdir::new(&[("main.toml", before)]);
    ours.ok(&["apply", "-auto-approve"]);
    ours.write("main.toml", after);
    let out = ours.command(&["plan"]).env_remove("NO_COLOR").env("CLICOLOR_FORCE", "1").output().expect("run ecspoc");
    let mine = common::Run::from(out);
    assert_eq!(mine.code, 0, "{}", mine.all());
    assert!(mine.stdout.contains('\x1b'), "coloured:\n{}", mine.stdout);

    let theirs = Workdir::new(&[("main.tf.json", &tf_json(before))]);
    terraform_ok(theirs.path(), &["init", "-no-color", "-input=false"]);
    terraform_ok(theirs.path(), &["apply", "-auto-approve", "-no-color", "-input=false"]);
    theirs.write("main.tf.json", &tf_json(after));
    let out = terraform(theirs.path(), &["plan", "-input=false"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let (theirs, mine) =
        (comparable(&styles(&String::from_utf8_lossy(&out.stdout))), comparable(&styles(&mine.stdout)));
    assert_same_plan("colours", &theirs, &mine);
}
