//! Plan, apply and converge a multi-module configuration with count and
//! for_each; the human and JSON plans are snapshot-tested.

mod common;
use common::{Workdir, redact};

const ROOT: &str = r#"
[variable.name]
type = "string"
default = "dev"

[variable.cidr]
type = "string"
default = "10.60.0.0/16"
[[variable.cidr.validation]]
condition = "${can(cidrhost(var.cidr, 0))}"
error_message = "cidr must be an IPv4 or IPv6 CIDR block."

[locals]
prefix = "ecs-${var.name}"
policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["logs:PutLogEvents"], Resource = "*" }] }

[module.net]
source = "./modules/net"
cidr = "${var.cidr}"
name = "${local.prefix}"

[resource.terraform_data.cluster]
input = { name = "${local.prefix}-cluster", subnets = "${module.net.subnet_cidrs}" }

[resource.terraform_data.policy]
input = "${jsonencode(local.policy)}"

[resource.terraform_data.service]
for_each = { web = 2, api = 1 }
input = "${each.key}:${each.value}:${terraform_data.cluster.output.name}"
triggers_replace = "${var.name}"

[output.cluster]
value = "${terraform_data.cluster.output.name}"

[output.subnets]
value = "${module.net.subnet_cidrs}"
"#;

const NET: &str = r#"
[variable.cidr]
type = "string"
[variable.name]
type = "string"

[resource.terraform_data.subnet]
count = 2
input = "${cidrsubnet(var.cidr, 7, 99 - count.index)}"

[output.subnet_cidrs]
value = "${terraform_data.subnet[*].output}"
"#;

fn fixture() -> Workdir {
    Workdir::new(&[("main.toml", ROOT), ("modules/net/main.toml", NET)])
}

#[test]
fn plan_from_empty_state_matches_snapshot() {
    let w = fixture();
    let r = w.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 2, "changes present: {}", r.all());
    assert!(r.stdout.contains("Plan: 6 to add, 0 to change, 0 to destroy."), "{}", r.stdout);
    insta::assert_snapshot!("plan_from_empty", r.stdout);
    assert!(!w.file("terraform.tfstate").exists(), "plan must not write state");
}

#[test]
fn saved_plan_shows_terraform_plan_json() {
    let w = fixture();
    w.ok(&["plan", "-out=tfplan"]);
    let r = w.ok(&["show", "-json", "tfplan"]);
    let mut doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("plan JSON");
    assert_eq!(doc["format_version"], "1.2");
    let changes = doc["resource_changes"].as_array().expect("resource_changes");
    assert_eq!(changes.len(), 6);
    let addresses: Vec<&str> = changes.iter().map(|c| c["address"].as_str().unwrap_or("")).collect();
    // Terraform's order (checked against Terraform 1.11 in tests/terraform_plan_json.rs):
    // a module's changes before its children's, each by address.
    assert_eq!(
        addresses,
        vec![
            "terraform_data.cluster",
            "terraform_data.policy",
            "terraform_data.service[\"api\"]",
            "terraform_data.service[\"web\"]",
            "module.net.terraform_data.subnet[0]",
            "module.net.terraform_data.subnet[1]",
        ]
    );
    let subnet = changes.iter().find(|c| c["address"] == "module.net.terraform_data.subnet[1]").expect("subnet[1]");
    assert_eq!(subnet["module_address"], "module.net");
    assert_eq!(subnet["index"], 1);
    assert_eq!(subnet["change"]["actions"], serde_json::json!(["create"]));
    assert_eq!(subnet["change"]["after"]["input"], "10.60.196.0/23");
    assert_eq!(subnet["change"]["after_unknown"]["id"], true);
    doc["timestamp"] = serde_json::json!("[time]");
    insta::assert_snapshot!("plan_json", serde_json::to_string_pretty(&doc).expect("json"));
}

#[test]
fn apply_converges_and_a_second_plan_is_empty() {
    let w = fixture();
    let r = w.ok(&["apply", "-auto-approve"]);
    assert!(r.stdout.contains("Apply complete! Resources: 6 added, 0 changed, 0 destroyed."), "{}", r.stdout);
    assert!(r.stdout.contains("cluster = \"ecs-dev-cluster\""), "{}", r.stdout);
    let noop = w.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(noop.code, 0, "{}", noop.all());
    assert!(noop.stdout.contains("No changes. Your infrastructure matches the configuration."));

    let state = w.state();
    assert_eq!(state["version"], 4);
    assert_eq!(state["serial"], 1);
    assert!(state["lineage"].as_str().is_some_and(|l| l.len() == 36));
    let service = state["resources"].as_array().unwrap().iter().find(|r| r["name"] == "service").expect("service");
    assert_eq!(service["each"], "map");
    assert_eq!(service["instances"][0]["index_key"], "api");
    assert_eq!(service["instances"][0]["dependencies"], serde_json::json!(["terraform_data.cluster"]));
    assert_eq!(state["outputs"]["subnets"]["value"], serde_json::json!(["10.60.198.0/23", "10.60.196.0/23"]));
    assert_eq!(w.ok(&["output", "-raw", "cluster"]).stdout, "ecs-dev-cluster");
    assert!(!w.file("terraform.tfstate.journal").exists(), "the journal is compacted into the state");
}

#[test]
fn changes_render_as_updates_replacements_and_document_diffs() {
    let w = fixture();
    w.ok(&["apply", "-auto-approve"]);
    w.write(
        "main.toml",
        &ROOT.replace("logs:PutLogEvents", "logs:CreateLogStream").replace("web = 2, api = 1", "web = 3"),
    );
    let r = w.run(&["plan", "-var", "name=stg", "-detailed-exitcode"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("Plan: 1 to add, 2 to change, 2 to destroy."), "{}", r.stdout);
    // Refresh lines come in parallel, so in no fixed order: leave them out.
    let body: Vec<&str> = r.stdout.lines().filter(|l| !l.contains(": Refreshing state...")).collect();
    insta::assert_snapshot!("plan_with_updates", redact(&body.join("\n")));
    let a = w.ok(&["apply", "-auto-approve", "-var", "name=stg"]);
    assert!(a.stdout.contains("Resources: 1 added, 2 changed, 2 destroyed."), "{}", a.stdout);
    assert_eq!(w.run(&["plan", "-var", "name=stg", "-detailed-exitcode"]).code, 0);
}

#[test]
fn reordered_json_keys_are_no_change() {
    let w = fixture();
    w.ok(&["apply", "-auto-approve"]);
    // Same policy, keys in another order: the plan sees no change in meaning.
    let reordered = ROOT.replace(
        r#"policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["logs:PutLogEvents"], Resource = "*" }] }"#,
        r#"policy = { Statement = [{ Resource = "*", Action = ["logs:PutLogEvents"], Effect = "Allow" }], Version = "2012-10-17" }"#,
    );
    assert_ne!(reordered, ROOT);
    w.write("main.toml", &reordered);
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn target_limits_the_plan_to_the_target_and_its_dependencies() {
    let w = fixture();
    let r = w.ok(&["plan", "-target=terraform_data.cluster"]);
    assert!(r.stdout.contains("Plan: 3 to add"), "{}", r.stdout);
    assert!(r.stdout.contains("module.net.terraform_data.subnet[0] will be created"));
    assert!(!r.stdout.contains("terraform_data.policy"));
}

#[test]
fn saved_plan_is_refused_when_state_changed_since() {
    let w = fixture();
    w.ok(&["plan", "-out=first.plan"]);
    w.ok(&["apply", "-auto-approve", "-target=terraform_data.policy"]);
    let before = w.read("terraform.tfstate");
    let r = w.run(&["apply", "first.plan"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Saved plan is stale"), "{}", r.all());
    assert!(
        r.stderr.contains("made before any state existed") && r.stderr.contains("serial 1"),
        "says why: {}",
        r.stderr
    );
    assert_eq!(w.read("terraform.tfstate"), before, "a refused apply changes nothing");
    w.ok(&["plan", "-out=second.plan"]);
    let a = w.ok(&["apply", "second.plan"]);
    assert!(a.stdout.contains("Apply complete! Resources: 5 added"), "{}", a.stdout);
}

#[test]
fn destroy_removes_everything_in_reverse_order() {
    let w = fixture();
    w.ok(&["apply", "-auto-approve"]);
    let r = w.ok(&["destroy", "-auto-approve"]);
    assert!(r.stdout.contains("Destroy complete! Resources: 6 destroyed."), "{}", r.stdout);
    let pos = |s: &str| r.stdout.find(&format!("{s}: Destruction complete")).unwrap_or_else(|| panic!("{s} destroyed"));
    assert!(pos("terraform_data.service[\"web\"]") < pos("terraform_data.cluster"));
    assert!(pos("terraform_data.cluster") < pos("module.net.terraform_data.subnet[0]"));
    assert!(w.state_list().is_empty());
    assert_eq!(w.state()["outputs"], serde_json::json!({}));
}

#[test]
fn json_ui_stream_has_terraform_message_types() {
    let w = fixture();
    let r = w.ok(&["apply", "-auto-approve", "-json"]);
    let types: Vec<String> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .map(|v| {
            assert!(v["@level"].is_string() && v["@message"].is_string() && v["@timestamp"].is_string());
            v["type"].as_str().unwrap_or("").to_string()
        })
        .collect();
    for t in ["version", "planned_change", "change_summary", "apply_start", "apply_complete", "outputs"] {
        assert!(types.iter().any(|x| x == t), "missing {t} in {types:?}");
    }
    assert_eq!(types[0], "version");
}

#[test]
fn json_plan_stream_starts_with_version_and_says_what_happens_to_each_output() {
    let w = fixture();
    let r = w.run(&["plan", "-json", "-detailed-exitcode"]);
    let msgs: Vec<serde_json::Value> = r.stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert_eq!(msgs[0]["type"], "version", "{}", r.stdout);
    let outputs = msgs.iter().find(|m| m["type"] == "outputs").expect("an outputs message");
    let o = outputs["outputs"].as_object().expect("outputs");
    assert!(!o.is_empty() && o.values().all(|v| v["action"] == "create" && v.get("value").is_none()), "{outputs}");
    // Even when the state cannot be read, the stream starts with its version.
    w.write("terraform.tfstate", "{not json");
    let r = w.run(&["plan", "-json"]);
    assert_eq!(r.code, 1);
    let first: serde_json::Value = serde_json::from_str(r.stdout.lines().next().unwrap_or("")).expect("JSON");
    assert_eq!(first["type"], "version", "{}", r.stdout);
}

#[test]
fn graph_prints_dot_with_dependency_edges() {
    let w = fixture();
    let r = w.ok(&["graph", "-type=plan"]);
    assert!(r.stdout.starts_with("digraph {"));
    assert!(r.stdout.contains("\"terraform_data.cluster\" -> \"module.net.output.subnet_cidrs\""), "{}", r.stdout);
    assert!(r.stdout.contains("\"module.net.terraform_data.subnet\" -> \"module.net.var.cidr\""));
    // By default, resources only: dependencies through outputs and variables
    // become edges between resources, and each module is a box.
    let r = w.ok(&["graph"]);
    assert!(r.stdout.contains("\"terraform_data.cluster\" -> \"module.net.terraform_data.subnet\""), "{}", r.stdout);
    assert!(r.stdout.contains("label = \"module.net\""), "{}", r.stdout);
    assert!(!r.stdout.contains("var.cidr"), "{}", r.stdout);
    assert_eq!(w.run(&["graph", "-type=nonsense"]).code, 1);
}

#[test]
fn chdir_and_env_select_the_root_module() {
    let w = Workdir::new(&[("environments/dev/main.toml", "[resource.terraform_data.x]\ninput = 1\n")]);
    let r = w.ok(&["-e", "dev", "plan"]);
    assert!(r.stdout.contains("terraform_data.x will be created"));
    let r = w.ok(&["-chdir=environments/dev", "apply", "-auto-approve"]);
    assert!(r.stdout.contains("1 added"));
    assert!(w.file("environments/dev/terraform.tfstate").exists());
    let missing = w.run(&["-e", "nope", "plan"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("environments/nope"), "{}", missing.stderr);
}

#[test]
fn a_plan_saved_before_any_state_existed_applies_on_the_first_run() {
    let w = fixture();
    w.ok(&["plan", "-out=first.plan"]);
    let r = w.ok(&["apply", "first.plan"]);
    assert!(r.stdout.contains("Apply complete! Resources: 6 added"), "{}", r.stdout);
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0);
    // And every later run: a plan saved now applies until the state changes.
    w.write("main.toml", &ROOT.replace("default = \"dev\"", "default = \"qa\""));
    w.ok(&["plan", "-out=second.plan"]);
    let r = w.ok(&["apply", "second.plan"]);
    assert!(r.stdout.contains("Apply complete!"), "{}", r.stdout);
    let r = w.run(&["apply", "second.plan"]);
    assert!(r.stderr.contains("Saved plan is stale") && r.stderr.contains("serial"), "{}", r.all());
}

#[test]
fn destroying_nothing_says_so_and_succeeds() {
    let w = fixture();
    let r = w.ok(&["plan", "-destroy", "-detailed-exitcode"]);
    assert!(r.stdout.contains("No changes. No objects need to be destroyed."), "{}", r.stdout);
    let r = w.ok(&["destroy", "-auto-approve"]);
    assert!(r.stdout.contains("Destroy complete! Resources: 0 destroyed."), "{}", r.stdout);
    // A partial state: what exists is destroyed, references to the rest wait.
    w.ok(&["apply", "-auto-approve", "-target=terraform_data.policy"]);
    let r = w.ok(&["destroy", "-auto-approve"]);
    assert!(r.stdout.contains("Destroy complete! Resources: 1 destroyed."), "{}", r.stdout);
}

#[test]
fn a_corrupt_or_foreign_plan_file_is_refused_and_changes_nothing() {
    let w = fixture();
    w.ok(&["plan", "-out=good.plan"]);
    let good = w.read("good.plan");
    w.write("truncated.plan", &good[..good.len() / 2]);
    assert!(good.contains("\"format_version\":2"), "{good}");
    w.write("other.plan", &good.replacen("\"format_version\":2", "\"format_version\":99", 1));
    w.write("state.plan", &good.replacen("\"kind\":\"ecspoc-plan\"", "\"kind\":\"tfstate\"", 1));
    for (file, says) in [
        ("truncated.plan", "not valid JSON"),
        ("other.plan", "plan format 99"),
        ("state.plan", "not an ecspoc plan file"),
        ("missing.plan", "cannot read the plan file"),
    ] {
        let r = w.run(&["apply", file]);
        assert_eq!(r.code, 1, "{file}: {}", r.all());
        assert!(r.stderr.contains(says), "{file}: {}", r.stderr);
        assert!(!w.file("terraform.tfstate").exists(), "{file}: nothing written");
    }
}

#[test]
fn var_values_in_hcl_syntax_and_bare_collection_types() {
    let w = Workdir::new(&[(
        "main.toml",
        "[variable.tags]\ntype = \"map\"\n\n[variable.azs]\ntype = \"list(string)\"\n\n[output.name]\nvalue = \"${var.tags.Name}\"\n\n[output.second_az]\nvalue = \"${var.azs[1]}\"\n",
    )]);
    let r = w.ok(&["apply", "-auto-approve", "-var", "tags={Name=\"x\", Env=\"dev\"}", "-var", "azs=[\"a\",\"b\"]"]);
    assert!(r.stdout.contains("name = \"x\"") && r.stdout.contains("second_az = \"b\""), "{}", r.stdout);
}

#[test]
fn removed_outputs_and_destroy_plans_list_their_outputs_as_deleted() {
    let w = fixture();
    w.ok(&["apply", "-auto-approve"]);
    w.write("main.toml", &ROOT.replace("[output.cluster]\nvalue = \"${terraform_data.cluster.output.name}\"\n", ""));
    let r = w.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stdout.contains("Changes to Outputs:") && r.stdout.contains("- cluster = \"ecs-dev-cluster\" -> null"),
        "{}",
        r.stdout
    );
    w.ok(&["plan", "-destroy", "-out=destroy.plan"]);
    let doc: serde_json::Value = serde_json::from_str(&w.ok(&["show", "-json", "destroy.plan"]).stdout).expect("JSON");
    let changes = doc["output_changes"].as_object().expect("output_changes");
    assert!(changes.contains_key("cluster") && changes.contains_key("subnets"), "{changes:?}");
    for (name, c) in changes {
        assert_eq!(c["actions"], serde_json::json!(["delete"]), "{name}");
        assert!(c["after"].is_null() && !c["before"].is_null(), "{name}: {c}");
    }
    // References name the attribute and the object, as Terraform's do.
    let refs = &doc["configuration"]["root_module"]["outputs"]["subnets"]["expression"]["references"];
    assert_eq!(refs, &serde_json::json!(["module.net.subnet_cidrs", "module.net"]));
}

/// examples/quickstart, copied into a fresh folder.
fn quickstart() -> Workdir {
    fn copy(from: &std::path::Path, rel: &str, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(from).expect("quickstart").flatten() {
            let name = format!("{rel}{}", e.file_name().to_string_lossy());
            if e.path().is_dir() {
                if name != "out" {
                    copy(&e.path(), &format!("{name}/"), out);
                }
            } else if name.ends_with(".toml") || name.ends_with(".tf.json") || name.ends_with(".tpl") {
                out.push((name, std::fs::read_to_string(e.path()).expect("read")));
            }
        }
    }
    let mut files = Vec::new();
    copy(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart"), "", &mut files);
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    Workdir::new(&refs)
}

#[test]
fn quickstart_applies_its_first_saved_plan_and_destroys_through_one() {
    let w = quickstart();
    w.ok(&["init"]);
    w.ok(&["plan", "-out=first.plan"]);
    let r = w.ok(&["apply", "first.plan"]);
    assert!(r.stdout.contains("Apply complete!"), "{}", r.stdout);
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0, "converged");
    w.ok(&["plan", "-destroy", "-out=destroy.plan"]);
    let r = w.ok(&["apply", "destroy.plan"]);
    assert!(r.stdout.contains("Destroy complete!") || r.stdout.contains("Apply complete!"), "{}", r.stdout);
    assert!(w.state_list().is_empty());
}
