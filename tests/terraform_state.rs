//! State both ways with Terraform 1.11 (on PATH): what ecspoc writes,
//! Terraform reads and plans no change on, and the other way round, for the
//! built-in terraform_data, whose dynamic values both write as
//! `{"value": V, "type": T}`.

mod common;
use common::Workdir;
use common::terraform::{convert_tree, terraform, terraform_ok};

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
