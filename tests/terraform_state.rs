//! State both ways with Terraform 1.11 (on PATH): what ecspoc writes,
//! Terraform reads and plans no change on, and the other way round, for the
//! built-in terraform_data, whose dynamic values both write as
//! `{"value": V, "type": T}`.

mod common;
use common::Workdir;
use common::terraform::{assert_same_plan, comparable, convert_tree, terraform, terraform_ok};

const CONFIG: &str = r#"
[resource.terraform_data.cluster]
input = { name = "ecs-dev", subnets = ["10.0.1.0/24", "10.0.2.0/24"], size = 2, spot = false }

[resource.terraform_data.service]
for_each = { web = 2, api = 1 }
input = "${each.key}:${each.value}"
triggers_replace = "${terraform_data.cluster.output.name}"

[output.cluster]
value = "${terraform_data.cluster.output}"
"#;

fn as_tf_json(w: &Workdir) {
    convert_tree(w.path(), w.path());
    std::fs::remove_file(w.file("main.toml")).expect("one syntax at a time");
}

#[test]
fn terraform_plans_no_change_on_state_ecspoc_wrote() {
    let w = Workdir::new(&[("main.toml", CONFIG)]);
    w.ok(&["apply", "-auto-approve"]);
    // And after an update in place.
    w.write("main.toml", &CONFIG.replace("size = 2", "size = 3"));
    w.ok(&["apply", "-auto-approve"]);
    as_tf_json(&w);
    terraform_ok(w.path(), &["init", "-input=false", "-no-color"]);
    let out = terraform(w.path(), &["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "Terraform wants changes on ecspoc's state:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ecspoc_plans_no_change_on_state_terraform_wrote() {
    let w = Workdir::new(&[("main.toml", CONFIG)]);
    let tf = Workdir::new(&[("main.toml", CONFIG)]);
    as_tf_json(&tf);
    terraform_ok(tf.path(), &["init", "-input=false", "-no-color"]);
    terraform_ok(tf.path(), &["apply", "-auto-approve", "-input=false", "-no-color"]);
    w.write("terraform.tfstate", &tf.read("terraform.tfstate"));
    let r = w.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "ecspoc wants changes on Terraform's state:\n{}", r.all());
    let out = w.ok(&["output", "-json", "cluster"]).stdout;
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["name"], "ecs-dev", "values read through Terraform's encoding: {v}");
    // ecspoc changes it; Terraform reads the result and agrees.
    w.write("main.toml", &CONFIG.replace("ecs-dev", "ecs-dev-2"));
    w.ok(&["apply", "-auto-approve"]);
    tf.write("terraform.tfstate", &w.read("terraform.tfstate"));
    let tf_config = tf.read("main.tf.json").replace("ecs-dev", "ecs-dev-2");
    tf.write("main.tf.json", &tf_config);
    let out = terraform(tf.path(), &["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

/// Outputs of every type Terraform stores, and a tainted instance: what the
/// corpus lacks.
const EVERY_KIND: &str = r#"
[variable.secret]
type = "string"
default = "s3cret"
sensitive = true

[resource.terraform_data.a]
input = "a"

[resource.terraform_data.b]
input = "b"

[resource.terraform_data.c]
input = { n = 1, tags = ["x"] }

[output.string]
value = "text"
[output.number]
value = 42
[output.bool]
value = true
[output.tuple]
value = ["x", 1]
[output.list]
value = "${tolist([\"x\", \"y\"])}"
[output.set]
value = "${toset([\"p\", \"q\"])}"
[output.map]
value = "${tomap({a = \"1\", b = \"2\"})}"
[output.object]
value = { k = "v", n = 1, nested = { list = [1, 2], deep = [{ a = "b" }] } }
[output.secret]
value = "${var.secret}"
sensitive = true
[output.data]
value = "${terraform_data.c.output}"
"#;

/// Terraform writes the state (a tainted instance, every output type);
/// ecspoc removes one resource and writes back everything else exactly;
/// both tools then plan the same replacement, line for line; after
/// ecspoc's apply, Terraform agrees nothing is left to do, and the outputs
/// ecspoc wrote carry the types Terraform wrote.
#[test]
fn a_tainted_instance_and_every_output_type_survive_ecspoc_both_ways() {
    let tf = Workdir::new(&[("main.toml", EVERY_KIND)]);
    as_tf_json(&tf);
    terraform_ok(tf.path(), &["init", "-input=false", "-no-color"]);
    terraform_ok(tf.path(), &["apply", "-auto-approve", "-input=false", "-no-color"]);
    terraform_ok(tf.path(), &["taint", "-no-color", "terraform_data.a"]);
    let written = tf.read("terraform.tfstate");

    let w = Workdir::new(&[("main.toml", EVERY_KIND), ("terraform.tfstate", &written)]);
    w.ok(&["state", "rm", "terraform_data.b"]);
    let mut expected: serde_json::Value = serde_json::from_str(&written).expect("JSON");
    expected["resources"].as_array_mut().expect("resources").retain(|r| r["name"] != "b");
    let found = common::state_diff::differences(&expected.to_string(), &w.read("terraform.tfstate"));
    assert!(found.is_empty(), "written back differently:\n{}", found.join("\n"));

    // The same plan from both tools on the state ecspoc wrote.
    tf.write("terraform.tfstate", &w.read("terraform.tfstate"));
    let theirs = terraform(tf.path(), &["plan", "-no-color", "-input=false"]);
    let mine = w.ok(&["plan", "-no-color"]);
    assert!(mine.stdout.contains("# terraform_data.a is tainted, so must be replaced"), "{}", mine.stdout);
    assert_same_plan(
        "a tainted instance",
        &comparable(&String::from_utf8_lossy(&theirs.stdout)),
        &comparable(&mine.stdout),
    );

    w.ok(&["apply", "-auto-approve"]);
    tf.write("terraform.tfstate", &w.read("terraform.tfstate"));
    let out = terraform(tf.path(), &["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let outputs = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("JSON")["outputs"].clone();
    assert_eq!(
        outputs(&w.read("terraform.tfstate")),
        outputs(&written),
        "output values and types as Terraform wrote them"
    );
}

/// A deposed object (left by an interrupted create_before_destroy), in a
/// state Terraform wrote with one added as Terraform's format documents it
/// (`"deposed": KEY` beside the current object): kept exactly by ecspoc's
/// writes, and planned for destruction with Terraform's words.
#[test]
fn a_deposed_object_in_terraforms_state_is_kept_and_planned_as_terraform_plans_it() {
    const CONFIG: &str =
        "[resource.terraform_data.old]\ninput = \"x\"\n\n[resource.terraform_data.other]\ninput = \"y\"\n";
    let tf = Workdir::new(&[("main.toml", CONFIG)]);
    as_tf_json(&tf);
    terraform_ok(tf.path(), &["init", "-input=false", "-no-color"]);
    terraform_ok(tf.path(), &["apply", "-auto-approve", "-input=false", "-no-color"]);
    let mut state: serde_json::Value = serde_json::from_str(&tf.read("terraform.tfstate")).expect("JSON");
    for r in state["resources"].as_array_mut().expect("resources") {
        if r["name"] == "old" {
            let mut deposed = r["instances"][0].clone();
            deposed["deposed"] = "00000001".into();
            deposed["attributes"]["id"] = "2f1c1b7e-0d5b-4d8e-9a43-6f1d1a1b2c3d".into();
            r["instances"].as_array_mut().expect("instances").push(deposed);
        }
    }
    let text = serde_json::to_string_pretty(&state).expect("JSON");
    tf.write("terraform.tfstate", &text);

    let w = Workdir::new(&[("main.toml", CONFIG), ("terraform.tfstate", &text)]);
    let theirs = terraform(tf.path(), &["plan", "-no-color", "-input=false"]);
    let mine = w.ok(&["plan", "-no-color"]);
    assert!(
        mine.stdout.contains("# terraform_data.old (deposed object 00000001) will be destroyed"),
        "{}",
        mine.stdout
    );
    assert_same_plan(
        "a deposed object",
        &comparable(&String::from_utf8_lossy(&theirs.stdout)),
        &comparable(&mine.stdout),
    );

    w.ok(&["state", "rm", "terraform_data.other"]);
    state["resources"].as_array_mut().expect("resources").retain(|r| r["name"] != "other");
    let found = common::state_diff::differences(&state.to_string(), &w.read("terraform.tfstate"));
    assert!(found.is_empty(), "written back differently:\n{}", found.join("\n"));
}
