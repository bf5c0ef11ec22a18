//! create_before_destroy is crash-safe: the old object is journaled as a
//! deposed object before the new one is created, so a kill -9 between the
//! new create and the old delete leaves it in state; the next plan shows it
//! as Terraform does and apply destroys it. Nothing is left in the emulator.

mod common;
use common::moto::{Moto, block};
use common::{Run, Workdir};
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
[variable.suffix]
type = "string"

[variable.wait]
type = "string"
default = "30s"

[resource.aws_cloudwatch_log_group.app]
name = "/ecspoc-test/deposed/${var.suffix}"
retention_in_days = 7
[resource.aws_cloudwatch_log_group.app.lifecycle]
create_before_destroy = true

# Replaced when the group is: the old group is destroyed only after this, so
# a kill during its wait lands between the new create and the old delete.
[resource.time_sleep.after]
create_duration = "${var.wait}"
triggers = { group = "${aws_cloudwatch_log_group.app.arn}" }
"#;

fn groups(moto: &Moto) -> Vec<String> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk());
    let out = block(logs.describe_log_groups().log_group_name_prefix("/ecspoc-test/deposed/").send()).expect("groups");
    out.log_groups().iter().filter_map(|g| g.log_group_name().map(String::from)).collect()
}

#[test]
fn a_kill_between_the_new_create_and_the_old_delete_leaves_a_deposed_object_that_apply_destroys() {
    let moto = Moto::shared();
    let w = Workdir::new(&[("main.toml", CONFIG)]).with_aws(moto);
    w.ok(&["apply", "-auto-approve", "-var", "suffix=a", "-var", "wait=0s"]);
    assert_eq!(groups(moto), ["/ecspoc-test/deposed/a"]);

    let mut child = w.spawn(&["apply", "-auto-approve", "-var", "suffix=b"]);
    let start = Instant::now();
    // The new group is recorded (after the old one was deposed): kill now.
    let recorded = |j: String| j.lines().any(|l| l.contains("\"op\":\"put\"") && l.contains("/ecspoc-test/deposed/b"));
    while !recorded(w.read("terraform.tfstate.journal")) {
        assert!(start.elapsed() < Duration::from_secs(30), "the new group was never recorded");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert_eq!(groups(moto), ["/ecspoc-test/deposed/a", "/ecspoc-test/deposed/b"], "both exist after the kill");
    let journal = w.read("terraform.tfstate.journal");
    assert!(journal.contains("\"op\":\"depose\""), "the old object was deposed before the create:\n{journal}");

    // The next plan shows it as Terraform does, in text and JSON.
    let plan = w.run(&["plan", "-var", "suffix=b", "-var", "wait=1s", "-out=p.tfplan"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let header = plan
        .stdout
        .lines()
        .find(|l| l.contains("aws_cloudwatch_log_group.app (deposed object "))
        .unwrap_or_else(|| panic!("no deposed object in the plan:\n{}", plan.stdout));
    assert!(header.ends_with(") will be destroyed"), "{header}");
    assert!(plan.stdout.contains("# (left over from a partially-failed replacement of this instance)"));
    let json: serde_json::Value = serde_json::from_str(&w.ok(&["show", "-json", "p.tfplan"]).stdout).unwrap();
    let deposed: Vec<&serde_json::Value> =
        json["resource_changes"].as_array().unwrap().iter().filter(|c| c.get("deposed").is_some()).collect();
    assert_eq!(deposed.len(), 1, "{json}");
    assert_eq!(deposed[0]["change"]["actions"], serde_json::json!(["delete"]));
    assert_eq!(deposed[0]["change"]["before"]["name"], "/ecspoc-test/deposed/a");
    let state: serde_json::Value = serde_json::from_str(&w.ok(&["state", "pull"]).stdout).unwrap();
    let group =
        state["resources"].as_array().unwrap().iter().find(|r| r["type"] == "aws_cloudwatch_log_group").unwrap();
    let kinds: Vec<bool> = group["instances"].as_array().unwrap().iter().map(|i| i.get("deposed").is_some()).collect();
    assert_eq!(kinds, [false, true], "state holds the new object and the deposed old one, as Terraform writes them");

    let r = w.ok(&["apply", "p.tfplan"]);
    assert!(r.stdout.contains("1 destroyed"), "{}", r.stdout);
    assert_eq!(groups(moto), ["/ecspoc-test/deposed/b"], "nothing left behind");
    let again =
        Run::from(w.command(&["plan", "-detailed-exitcode", "-var", "suffix=b", "-var", "wait=1s"]).output().unwrap());
    assert_eq!(again.code, 0, "{}", again.all());
    w.ok(&["destroy", "-auto-approve", "-var", "suffix=b", "-var", "wait=1s"]);
    assert!(groups(moto).is_empty());
}

#[test]
fn a_replacement_that_fails_to_create_keeps_the_old_object_current() {
    let moto = Moto::shared();
    let config = CONFIG.replace("/ecspoc-test/deposed/${var.suffix}", "/ecspoc-test/deposed-fail/${var.suffix}");
    let w = Workdir::new(&[("main.toml", &config)]).with_aws(moto);
    w.ok(&["apply", "-auto-approve", "-var", "suffix=a", "-var", "wait=0s"]);
    // A group of that name exists already, made by someone else: the create
    // fails when sent (ecspoc never takes over an object that is not its own).
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk());
    block(logs.create_log_group().log_group_name("/ecspoc-test/deposed-fail/b").send()).expect("a group in the way");
    let r = w.run(&["apply", "-auto-approve", "-var", "suffix=b", "-var", "wait=0s"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("ResourceAlreadyExists"), "{}", r.stderr);
    let state: serde_json::Value = serde_json::from_str(&w.ok(&["state", "pull"]).stdout).unwrap();
    let group =
        state["resources"].as_array().unwrap().iter().find(|r| r["type"] == "aws_cloudwatch_log_group").unwrap();
    let instances = group["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 1, "no deposed object is left: {instances:?}");
    assert!(instances[0].get("deposed").is_none());
    assert_eq!(instances[0]["attributes"]["name"], "/ecspoc-test/deposed-fail/a", "the old object is current again");
    w.ok(&["destroy", "-auto-approve", "-var", "suffix=a", "-var", "wait=0s"]);
    block(logs.delete_log_group().log_group_name("/ecspoc-test/deposed-fail/b").send()).expect("clean up");
}

/// A deposed object whose resource a `moved` block renames: planned for
/// destruction at its new address, destroyed there, and nothing left at
/// the old one (the move is journaled for deposed objects too).
#[test]
fn a_deposed_object_moves_with_its_resource() {
    let w = common::Workdir::new(&[("main.toml", "[resource.terraform_data.old]\ninput = \"x\"\n")]);
    w.ok(&["apply", "-auto-approve"]);
    let mut state = w.state();
    for r in state["resources"].as_array_mut().expect("resources") {
        let mut deposed = r["instances"][0].clone();
        deposed["deposed"] = "00000001".into();
        deposed["attributes"]["id"] = "5a1b2c3d-0000-4000-8000-000000000001".into();
        r["instances"].as_array_mut().expect("instances").push(deposed);
    }
    w.write("terraform.tfstate", &serde_json::to_string_pretty(&state).expect("JSON"));
    w.write(
        "main.toml",
        "[resource.terraform_data.new]\ninput = \"x\"\n\n[[moved]]\nfrom = \"terraform_data.old\"\nto = \"terraform_data.new\"\n",
    );
    let plan = w.run(&["plan", "-detailed-exitcode"]);
    common::expect_changes(
        &plan,
        &[
            "# terraform_data.old has moved to terraform_data.new",
            "# terraform_data.new (deposed object 00000001) will be destroyed",
            "Plan: 0 to add, 0 to change, 1 to destroy.",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    let after = w.state();
    let resources = after["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), 1, "{after}");
    assert_eq!(resources[0]["name"], "new");
    assert_eq!(resources[0]["instances"].as_array().map(Vec::len), Some(1), "no deposed object left: {after}");
    common::no_changes(&w);
}
