//! Modules with `count` and `for_each`: `module.svc["api"]`, `module.net[0]`,
//! with `each` and `count.index` in the call's arguments and the calls'
//! outputs as maps and lists. Planned, applied, grown, shrunk, renamed with
//! `state mv` and targeted; the plan text and state compared with Terraform
//! 1.11 running the same configuration.

mod common;
use common::terraform::{assert_same_plan, comparable, convert_tree, terraform, terraform_ok};
use common::{Workdir, expect_changes, no_changes};

const ROOT: &str = r#"
[variable.services]
type = "map(number)"
default = { api = 1, web = 2 }

[variable.nets]
type = "number"
default = 2

[resource.terraform_data.base]
input = "base"

[module.svc]
source = "./svc"
for_each = "${var.services}"
size = "${each.value}"
base = "${terraform_data.base.output}"

[module.net]
source = "./svc"
count = "${var.nets}"
size = "${count.index}"
base = "net"

[output.sizes]
value = "${{ for k, m in module.svc : k => m.label }}"

[output.nets]
value = "${module.net[*].label}"
"#;

const MODULE: &str = r#"
[variable.size]
type = "number"

[variable.base]
type = "string"

[resource.terraform_data.this]
input = "${var.base}-${var.size}"

[resource.terraform_data.child]
input = "${terraform_data.this.output}"

[output.label]
value = "${terraform_data.child.output}"
"#;

fn workdir() -> Workdir {
    Workdir::new(&[("main.toml", ROOT), ("svc/main.toml", MODULE)])
}

fn with_services(w: &Workdir, services: &str) {
    w.write("main.toml", &ROOT.replace("{ api = 1, web = 2 }", services));
}

#[test]
fn each_instance_of_a_module_is_planned_applied_and_its_outputs_collected() {
    let w = workdir();
    let plan = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &plan,
        &[
            r#"# module.svc["api"].terraform_data.this will be created"#,
            r#"# module.svc["web"].terraform_data.child will be created"#,
            "# module.net[0].terraform_data.this will be created",
            "# module.net[1].terraform_data.child will be created",
            "Plan: 9 to add, 0 to change, 0 to destroy.",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    let mut listed = w.state_list();
    listed.sort();
    assert_eq!(
        listed,
        [
            "module.net[0].terraform_data.child",
            "module.net[0].terraform_data.this",
            "module.net[1].terraform_data.child",
            "module.net[1].terraform_data.this",
            r#"module.svc["api"].terraform_data.child"#,
            r#"module.svc["api"].terraform_data.this"#,
            r#"module.svc["web"].terraform_data.child"#,
            r#"module.svc["web"].terraform_data.this"#,
            "terraform_data.base",
        ]
    );
    let sizes: serde_json::Value = serde_json::from_str(&w.ok(&["output", "-json", "sizes"]).stdout).expect("JSON");
    assert_eq!(sizes, serde_json::json!({"api": "base-1", "web": "base-2"}), "each.value reached each instance");
    let nets: serde_json::Value = serde_json::from_str(&w.ok(&["output", "-json", "nets"]).stdout).expect("JSON");
    assert_eq!(nets, serde_json::json!(["net-0", "net-1"]), "count.index reached each instance");
    // The state records each object under its module instance, as Terraform does.
    let state = w.state();
    let modules: Vec<&str> =
        state["resources"].as_array().expect("resources").iter().filter_map(|r| r["module"].as_str()).collect();
    assert!(modules.contains(&r#"module.svc["api"]"#) && modules.contains(&"module.net[1]"), "{modules:?}");
    no_changes(&w);
}

#[test]
fn adding_and_removing_a_key_touches_only_that_instance() {
    let w = workdir();
    w.ok(&["apply", "-auto-approve"]);
    let api_id = common::state_id(&w, r#"module.svc["api"].terraform_data.this"#);
    with_services(&w, "{ api = 1, db = 3 }");
    let plan = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &plan,
        &[
            r#"# module.svc["db"].terraform_data.this will be created"#,
            r#"# module.svc["web"].terraform_data.this will be destroyed"#,
            r#"# (because module.svc["web"] is not in configuration)"#,
            "Plan: 2 to add, 0 to change, 2 to destroy.",
        ],
    );
    assert!(!plan.stdout.contains(r#"# module.svc["api"]"#), "api is untouched:\n{}", plan.stdout);
    w.ok(&["apply", "-auto-approve"]);
    assert!(!w.state_list().iter().any(|a| a.contains("web")), "{:?}", w.state_list());
    assert_eq!(common::state_id(&w, r#"module.svc["api"].terraform_data.this"#), api_id, "api kept its objects");
    // count shrinks from the end.
    let plan = w.run(&["plan", "-detailed-exitcode", "-var", "nets=1"]);
    expect_changes(
        &plan,
        &["# module.net[1].terraform_data.this will be destroyed", "Plan: 0 to add, 0 to change, 2 to destroy."],
    );
    assert!(!plan.stdout.contains("# module.net[0]"), "{}", plan.stdout);
}

#[test]
fn a_module_instance_renamed_with_state_mv_keeps_its_objects() {
    let w = workdir();
    w.ok(&["apply", "-auto-approve"]);
    let id = common::state_id(&w, r#"module.svc["web"].terraform_data.this"#);
    let mv = w.ok(&["state", "mv", r#"module.svc["web"]"#, r#"module.svc["www"]"#]);
    assert!(mv.stdout.contains("Successfully moved 2 object(s)."), "{}", mv.stdout);
    with_services(&w, "{ api = 1, www = 2 }");
    // No object changes; only the output's key does.
    let plan = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(&plan, &["Changes to Outputs:", r#"- web = "base-2""#, r#"+ www = "base-2""#]);
    assert!(!plan.stdout.contains(" will be "), "{}", plan.stdout);
    assert_eq!(common::state_id(&w, r#"module.svc["www"].terraform_data.this"#), id);
}

#[test]
fn a_target_names_one_module_instance() {
    let w = workdir();
    w.ok(&["apply", "-auto-approve"]);
    with_services(&w, "{ api = 5, web = 6 }");
    let plan = w.run(&["plan", "-detailed-exitcode", r#"-target=module.svc["api"]"#]);
    expect_changes(
        &plan,
        &[
            r#"# module.svc["api"].terraform_data.this will be updated in-place"#,
            "Plan: 0 to add, 2 to change, 0 to destroy.",
        ],
    );
    assert!(!plan.stdout.contains(r#"# module.svc["web"]"#), "{}", plan.stdout);
    w.ok(&["apply", "-auto-approve", r#"-target=module.svc["api"]"#]);
    let plan = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &plan,
        &[
            r#"# module.svc["web"].terraform_data.this will be updated in-place"#,
            "Plan: 0 to add, 2 to change, 0 to destroy.",
        ],
    );
    // And a destroy of one instance leaves the others.
    w.ok(&["apply", "-auto-approve"]);
    w.ok(&["destroy", "-auto-approve", "-target=module.net[1]"]);
    let listed = w.state_list();
    assert!(
        listed.iter().any(|a| a.starts_with("module.net[0]")) && !listed.iter().any(|a| a.starts_with("module.net[1]")),
        "{listed:?}"
    );
}

#[test]
fn count_and_for_each_that_cannot_be_used_are_refused_before_anything_changes() {
    let both = ROOT.replace("count = \"${var.nets}\"", "count = 2\nfor_each = { a = 1 }");
    let w = Workdir::new(&[("main.toml", &both), ("svc/main.toml", MODULE)]);
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("Invalid combination of \"count\" and \"for_each\"") && r.stderr.contains("main.toml"),
        "{}",
        r.stderr
    );

    // Known only after apply: which instances exist cannot be planned.
    let unknown = ROOT.replace("count = \"${var.nets}\"", "count = \"${length(terraform_data.base.id)}\"");
    let w = Workdir::new(&[("main.toml", &unknown), ("svc/main.toml", MODULE)]);
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("Invalid count argument") && r.stderr.contains("-target"), "{}", r.stderr);
    assert!(!w.file("terraform.tfstate").exists(), "nothing was written");

    let bad = ROOT.replace("for_each = \"${var.services}\"", "for_each = 3");
    let w = Workdir::new(&[("main.toml", &bad), ("svc/main.toml", MODULE)]);
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("Invalid for_each argument") && r.stderr.contains("map or a set of strings"),
        "{}",
        r.stderr
    );
}

/// The same configuration in Terraform's JSON syntax, beside ecspoc's.
fn terraform_copy(w: &Workdir) -> Workdir {
    let tf = Workdir::new(&[]);
    convert_tree(w.path(), tf.path());
    terraform_ok(tf.path(), &["init", "-input=false", "-no-color"]);
    tf
}

fn assert_same(name: &str, theirs: &str, mine: &str) {
    assert_same_plan(name, &comparable(theirs), &comparable(mine));
}

#[test]
fn plan_text_and_state_match_terraforms_both_ways() {
    // A first plan: every instance created, outputs known in shape.
    let w = workdir();
    let tf = terraform_copy(&w);
    let theirs = terraform(tf.path(), &["plan", "-no-color", "-input=false"]);
    assert_same("create", &String::from_utf8_lossy(&theirs.stdout), &w.ok(&["plan", "-no-color"]).stdout);

    // Terraform applies; ecspoc reads its state and plans no change.
    terraform_ok(tf.path(), &["apply", "-auto-approve", "-input=false", "-no-color"]);
    w.write("terraform.tfstate", &tf.read("terraform.tfstate"));
    no_changes(&w);

    // A key removed and one added: the same plan from both, output diff included.
    with_services(&w, "{ api = 1, db = 3 }");
    let theirs = terraform(tf.path(), &["plan", "-no-color", "-input=false", "-var", "services={api=1,db=3}"]);
    let mine = w.ok(&["plan", "-no-color"]).stdout;
    assert_same("a key removed, one added", &String::from_utf8_lossy(&theirs.stdout), &mine);

    // ecspoc applies that; Terraform reads its state and plans no change.
    w.ok(&["apply", "-auto-approve"]);
    tf.write("terraform.tfstate", &w.read("terraform.tfstate"));
    let out = terraform(
        tf.path(),
        &["plan", "-detailed-exitcode", "-input=false", "-no-color", "-var", "services={api=1,db=3}"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "Terraform wants changes on ecspoc's state:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

const BEFORE_MOVE: &str = r#"
[module.svc_api]
source = "./svc"
size = 1
base = "b"

[module.svc_web]
source = "./svc"
size = 2
base = "b"
"#;

const AFTER_MOVE: &str = r#"
[module.svc]
source = "./svc"
for_each = { api = 1, web = 2 }
size = "${each.value}"
base = "b"

[[moved]]
from = "module.svc_api"
to = "module.svc[\"api\"]"

[[moved]]
from = "module.svc_web"
to = "module.svc[\"web\"]"
"#;

#[test]
fn moved_blocks_turn_separate_calls_into_one_with_for_each_without_replacing_anything() {
    let w = Workdir::new(&[("main.toml", BEFORE_MOVE), ("svc/main.toml", MODULE)]);
    w.ok(&["apply", "-auto-approve"]);
    let tf = terraform_copy(&w);
    terraform_ok(tf.path(), &["apply", "-auto-approve", "-input=false", "-no-color"]);
    let id = common::state_id(&w, "module.svc_web.terraform_data.this");

    w.write("main.toml", AFTER_MOVE);
    let after = Workdir::new(&[("main.toml", AFTER_MOVE), ("svc/main.toml", MODULE)]);
    convert_tree(after.path(), tf.path());
    terraform_ok(tf.path(), &["init", "-input=false", "-no-color"]);
    // Terraform's plan text for the moves, and ecspoc's on the same state.
    let theirs = terraform(tf.path(), &["plan", "-no-color", "-input=false"]);
    let ours = Workdir::new(&[("main.toml", AFTER_MOVE), ("svc/main.toml", MODULE)]);
    ours.write("terraform.tfstate", &tf.read("terraform.tfstate"));
    assert_same("moves", &String::from_utf8_lossy(&theirs.stdout), &ours.ok(&["plan", "-no-color"]).stdout);

    let plan = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &plan,
        &[
            r#"# module.svc_web.terraform_data.this has moved to module.svc["web"].terraform_data.this"#,
            "Plan: 0 to add, 0 to change, 0 to destroy.",
        ],
    );
    let json = w.ok(&["plan", "-json"]).stdout;
    assert!(json.contains(r#""action":"move""#) && json.contains(r#""previous_resource""#), "{json}");
    w.ok(&["apply", "-auto-approve"]);
    assert_eq!(
        common::state_id(&w, r#"module.svc["web"].terraform_data.this"#),
        id,
        "the same object, at its new address"
    );
    assert!(!w.state_list().iter().any(|a| a.contains("svc_")), "{:?}", w.state_list());
    no_changes(&w);
    // Terraform reads what ecspoc wrote and has nothing left to move or change.
    tf.write("terraform.tfstate", &w.read("terraform.tfstate"));
    let out = terraform(tf.path(), &["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_move_onto_an_existing_object_is_a_warning_and_moves_nothing() {
    let w = Workdir::new(&[("main.toml", BEFORE_MOVE), ("svc/main.toml", MODULE)]);
    w.ok(&["apply", "-auto-approve"]);
    let both = format!("{BEFORE_MOVE}\n[[moved]]\nfrom = \"module.svc_api\"\nto = \"module.svc_web\"\n");
    w.write("main.toml", &both);
    let r = w.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.all().contains("Moved object still exists"), "{}", r.all());
    let bad = format!("{BEFORE_MOVE}\n[[moved]]\nfrom = \"module.svc_api\"\nto = \"terraform_data.x\"\n");
    w.write("main.toml", &bad);
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Invalid \"moved\" addresses") && r.stderr.contains("main.toml"), "{}", r.stderr);
}
