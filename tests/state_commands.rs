//! `state list|show|rm|mv|pull|push`, `import`, `output`, `show`, `providers`, `version`.

mod common;
use common::Workdir;

const CONFIG: &str = r#"
[resource.terraform_data.a]
input = "alpha"

[resource.terraform_data.b]
count = 2
input = "b${count.index}"

[resource.random_string.secret]
length = 16
special = false

[output.a]
value = "${terraform_data.a.output}"

[output.b]
value = "${terraform_data.b[*].output}"

[output.secret]
value = "${random_string.secret.result}"
sensitive = true
"#;

fn applied() -> Workdir {
    let w = Workdir::new(&[("main.toml", CONFIG)]);
    w.ok(&["apply", "-auto-approve"]);
    w
}

#[test]
fn list_and_show() {
    let w = applied();
    assert_eq!(
        w.state_list(),
        vec!["random_string.secret", "terraform_data.a", "terraform_data.b[0]", "terraform_data.b[1]"]
    );
    assert_eq!(w.ok(&["state", "list", "terraform_data.b"]).stdout.lines().count(), 2);
    let show = w.ok(&["state", "show", "terraform_data.b[1]"]).stdout;
    assert!(show.starts_with("# terraform_data.b[1]:\nresource \"terraform_data\" \"b\" {"), "{show}");
    assert!(show.contains("input  = \"b1\""), "{show}");
    assert_eq!(w.run(&["state", "show", "terraform_data.zzz"]).code, 1);
}

#[test]
fn rm_forgets_without_destroying_and_the_next_plan_recreates() {
    let w = applied();
    let r = w.ok(&["state", "rm", "terraform_data.b[0]"]);
    assert!(
        r.stdout.contains("Removed terraform_data.b[0]")
            && r.stdout.contains("Successfully removed 1 resource instance(s).")
    );
    assert_eq!(w.state()["serial"], 2, "each write bumps the serial");
    assert!(w.file("terraform.tfstate.backup").exists());
    let plan = w.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2);
    assert!(plan.stdout.contains("terraform_data.b[0] will be created"), "{}", plan.stdout);
}

#[test]
fn mv_renames_instances_and_resources() {
    let w = applied();
    w.ok(&["state", "mv", "terraform_data.a", "terraform_data.renamed"]);
    let list = w.state_list();
    assert!(list.contains(&"terraform_data.renamed".to_string()) && !list.contains(&"terraform_data.a".to_string()));
    let r = w.run(&["state", "mv", "terraform_data.renamed", "random_string.x"]);
    assert_eq!(r.code, 1, "types must match: {}", r.all());
    let r = w.run(&["state", "mv", "terraform_data.b[0]", "terraform_data.b[1]"]);
    assert_eq!(r.code, 1, "the destination exists: {}", r.all());
}

#[test]
fn pull_prints_the_state_and_push_refuses_other_lineages() {
    let w = applied();
    let pulled = w.ok(&["state", "pull"]).stdout;
    let doc: serde_json::Value = serde_json::from_str(&pulled).expect("state JSON");
    assert_eq!(doc["version"], 4);
    let mut other = doc.clone();
    other["lineage"] = serde_json::json!("00000000-0000-0000-0000-000000000000");
    w.write("other.tfstate.json", &other.to_string());
    let r = w.run(&["state", "push", "other.tfstate.json"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("lineage"), "{}", r.stderr);
    let mut newer = doc.clone();
    newer["resources"] = serde_json::json!([]);
    newer["serial"] = serde_json::json!(7);
    w.write("newer.json", &newer.to_string());
    w.ok(&["state", "push", "newer.json"]);
    assert!(w.state_list().is_empty());
    assert_eq!(w.state()["serial"], 7, "a pushed state keeps its higher serial");
}

#[test]
fn import_adopts_an_existing_object() {
    let w = Workdir::new(&[(
        "main.toml",
        "[resource.local_file.cfg]\nfilename = \"existing.conf\"\ncontent = \"hello\\n\"\n",
    )]);
    w.write("existing.conf", "hello\n");
    let r = w.ok(&["import", "local_file.cfg", "existing.conf"]);
    assert!(r.stdout.contains("Import successful!"), "{}", r.stdout);
    assert_eq!(w.state_list(), vec!["local_file.cfg"]);
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0, "the imported object matches the configuration");
    let again = w.run(&["import", "local_file.cfg", "existing.conf"]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already managed"), "{}", again.stderr);
    let missing = w.run(&["import", "local_file.nope", "x"]);
    assert!(missing.stderr.contains("Configuration for import target does not exist"), "{}", missing.stderr);
}

#[test]
fn outputs_hide_sensitive_values() {
    let w = applied();
    let all = w.ok(&["output"]).stdout;
    assert!(all.contains("a = \"alpha\"") && all.contains("secret = <sensitive>"), "{all}");
    let json: serde_json::Value = serde_json::from_str(&w.ok(&["output", "-json"]).stdout).expect("json");
    assert_eq!(json["b"]["value"], serde_json::json!(["b0", "b1"]));
    assert_eq!(json["secret"]["sensitive"], true);
    assert_eq!(w.ok(&["output", "-raw", "secret"]).stdout.len(), 16, "-raw prints the value when asked by name");
    assert_eq!(w.run(&["output", "-raw", "b"]).code, 1, "-raw takes only scalars");
    assert_eq!(w.run(&["output", "nope"]).code, 1);
}

#[test]
fn show_prints_state_and_json() {
    let w = applied();
    let text = w.ok(&["show"]).stdout;
    assert!(text.contains("# terraform_data.a:") && text.contains("Outputs:"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&w.ok(&["show", "-json"]).stdout).expect("json");
    assert_eq!(json["format_version"], "1.0");
    assert_eq!(json["values"]["root_module"]["resources"].as_array().map(Vec::len), Some(4));
}

#[test]
fn providers_and_version() {
    let w = Workdir::new(&[("main.toml", CONFIG)]);
    let p = w.ok(&["providers"]).stdout;
    for t in ["terraform_data", "random_id", "random_string", "time_sleep", "local_file"] {
        assert!(p.contains(&format!("resource {t}:")), "{t} missing from {p}");
    }
    assert!(p.contains("byte_length (required, forces replacement)"), "{p}");
    let json: serde_json::Value = serde_json::from_str(&w.ok(&["providers", "-json"]).stdout).expect("json");
    assert!(
        json["provider_schemas"]["registry.terraform.io/hashicorp/random"]["resource_schemas"]["random_id"].is_object()
    );
    assert!(w.ok(&["version"]).stdout.starts_with("ecspoc v"));
    assert!(w.ok(&["-version"]).stdout.starts_with("ecspoc"));
}

/// Every instance address of a state file, written as Terraform writes them
/// (computed here from the JSON, independently of ecspoc's state model).
fn addresses_in(state: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for r in state["resources"].as_array().into_iter().flatten() {
        let module = r["module"].as_str().map(|m| format!("{m}.")).unwrap_or_default();
        let data = if r["mode"] == "data" { "data." } else { "" };
        let base = format!("{module}{data}{}.{}", r["type"].as_str().unwrap_or(""), r["name"].as_str().unwrap_or(""));
        for i in r["instances"].as_array().into_iter().flatten() {
            out.push(match &i["index_key"] {
                serde_json::Value::Number(n) => format!("{base}[{n}]"),
                serde_json::Value::String(s) => format!("{base}[{s:?}]"),
                _ => base.clone(),
            });
        }
    }
    out.sort();
    out
}

/// The team's corpus of state files Terraform wrote (0.12 to 1.13, from
/// public repositories; `SOURCES.md` there says where each came from),
/// read where it is and never copied into the project. Some hold secrets:
/// nothing here prints their values.
fn corpus() -> Vec<(String, String)> {
    let dir = common::tfstate_corpus();
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let file = ["terraform.tfstate", "terraform.tfstate.backup"]
                .iter()
                .map(|f| e.path().join(f))
                .find(|p| p.is_file())
                .unwrap_or_else(|| panic!("{name}: no state file"));
            (name, std::fs::read_to_string(file).expect("state text"))
        })
        .collect();
    out.sort();
    assert_eq!(out.len(), 5, "the corpus holds five states");
    out
}

/// Every corpus state, in a folder holding nothing else, as Terraform
/// allows: the reading commands list every instance and change nothing.
#[test]
fn reading_commands_work_on_every_corpus_state_with_no_configuration() {
    for (name, text) in corpus() {
        let w = Workdir::new(&[("terraform.tfstate", &text)]);
        let expected = addresses_in(&serde_json::from_str(&text).expect("JSON"));
        let r = w.run(&["state", "list"]);
        assert_eq!(r.code, 0, "{name}: state list failed: {}", r.stderr.lines().last().unwrap_or(""));
        let mut listed = r.stdout.lines().map(String::from).collect::<Vec<_>>();
        listed.sort();
        assert_eq!(listed, expected, "{name}");
        let first = &expected[0];
        let shown = w.ok(&["state", "show", first]).stdout;
        assert!(shown.starts_with(&format!("# {first}:")), "{name}: state show {first} printed another header");
        let pulled: serde_json::Value = serde_json::from_str(&w.ok(&["state", "pull"]).stdout).expect("pull is JSON");
        assert_eq!(pulled["lineage"], serde_json::from_str::<serde_json::Value>(&text).expect("JSON")["lineage"]);
        assert_eq!(w.run(&["output"]).code, 0, "{name}: output");
        assert!(w.read("terraform.tfstate") == text, "{name}: reading changed the file");
    }
}

/// The resource blocks of a state file, by address.
fn resource_address(r: &serde_json::Value) -> String {
    let module = r["module"].as_str().map(|m| format!("{m}.")).unwrap_or_default();
    let data = if r["mode"] == "data" { "data." } else { "" };
    format!("{module}{data}{}.{}", r["type"].as_str().unwrap_or(""), r["name"].as_str().unwrap_or(""))
}

/// `state rm` of one resource and `state mv` of another, on every corpus
/// state: the file written back is the one read, without the removed
/// resource and with the other's new name, every other field as it was
/// (`private`, 0.12's `depends_on` and provider addresses, output types,
/// check results, module instance keys...), `serial` and
/// `terraform_version` aside.
#[test]
fn state_rm_and_mv_write_every_corpus_state_back_unchanged_otherwise() {
    for (name, text) in corpus() {
        let original: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let managed: Vec<&serde_json::Value> =
            original["resources"].as_array().unwrap().iter().filter(|r| r["mode"] == "managed").collect();
        assert!(managed.len() >= 2, "{name}: two managed resources to work on");
        let (gone, renamed) = (resource_address(managed[0]), resource_address(managed[1]));
        let new_name = format!("{}_moved", renamed);
        let w = Workdir::new(&[("terraform.tfstate", &text)]);
        w.ok(&["state", "rm", &gone]);
        w.ok(&["state", "mv", &renamed, &new_name]);

        let mut expected = original.clone();
        let resources = expected["resources"].as_array_mut().unwrap();
        // 0.12's legacy provider addresses are written as Terraform 0.13+ writes them
        // (Terraform 1.11 itself turns provider.libvirt into this on the same file).
        for r in resources.iter_mut() {
            if let Some(name) = r["provider"].as_str().and_then(|p| p.strip_prefix("provider.")) {
                r["provider"] = format!("provider[\"registry.terraform.io/-/{name}\"]").into();
            }
        }
        resources.retain(|r| resource_address(r) != gone);
        for r in resources.iter_mut() {
            if resource_address(r) == renamed {
                r["name"] = format!("{}_moved", r["name"].as_str().unwrap()).into();
            }
        }
        let after = w.read("terraform.tfstate");
        let found = common::state_diff::differences(&expected.to_string(), &after);
        assert!(found.is_empty(), "{name}: written back differently:\n{}", found.join("\n"));
        let serial = |t: &str| serde_json::from_str::<serde_json::Value>(t).expect("JSON")["serial"].as_u64();
        assert!(serial(&after) > serial(&text), "{name}: the serial grew");
    }
}

/// Module instances with keys, as Terraform 1.13 wrote them
/// (`module.eks.module.eks_managed_node_group["example"]`): listed, and
/// moved to another key with everything below them, nested modules too.
#[test]
fn state_mv_moves_a_module_instance_of_a_corpus_state() {
    let (_, text) = corpus().into_iter().find(|(n, _)| n.starts_with("v1.13.3")).expect("the 1.13.3 state");
    let w = Workdir::new(&[("terraform.tfstate", &text)]);
    let from = "module.eks.module.eks_managed_node_group[\"example\"]";
    let to = "module.eks.module.eks_managed_node_group[\"renamed\"]";
    let listed = w.ok(&["state", "list", from]).stdout;
    let under: Vec<&str> = listed.lines().collect();
    assert!(under.len() > 1 && under.iter().all(|a| a.starts_with(from)), "{under:?}");
    assert!(under.iter().any(|a| a.contains(".module.user_data.")), "nested module instances are listed");
    w.ok(&["state", "mv", from, to]);
    let moved = w.ok(&["state", "list", to]).stdout;
    let expected: Vec<String> = under.iter().map(|a| a.replacen(from, to, 1)).collect();
    assert_eq!(moved.lines().map(String::from).collect::<Vec<_>>(), expected);
    assert!(w.ok(&["state", "list", from]).stdout.is_empty());
    let state: serde_json::Value = serde_json::from_str(&w.read("terraform.tfstate")).unwrap();
    let modules: Vec<&str> =
        state["resources"].as_array().unwrap().iter().filter_map(|r| r["module"].as_str()).collect();
    assert!(modules.contains(&"module.eks.module.eks_managed_node_group[\"renamed\"].module.user_data"), "{modules:?}");
}

/// A state from a future Terraform, one with a malformed module address,
/// and one with two objects at one address: refused, saying where and
/// what, by reading and writing commands alike, and the file left as it was.
#[test]
fn bad_state_files_are_refused_and_left_untouched() {
    let good = r#"{"version": 4, "terraform_version": "1.11.4", "serial": 3, "lineage": "6f1c2e0a-0000-4000-8000-000000000001", "outputs": {},
      "resources": [{"mode": "managed", "type": "terraform_data", "name": "a", "provider": "provider[\"terraform.io/builtin/terraform\"]",
        "instances": [{"schema_version": 0, "attributes": {"id": "x", "input": null, "output": null, "triggers_replace": null}, "sensitive_attributes": []}]}]}"#;
    let future = good.replace("\"version\": 4", "\"version\": 5");
    let bad_module = good.replace("\"mode\": \"managed\"", "\"module\": \"module.a[unquoted]\", \"mode\": \"managed\"");
    let twice = good
        .replace("\"instances\": [{", "\"instances\": [{\"schema_version\": 0, \"attributes\": {\"id\": \"y\"}}, {");
    for (what, text, says) in [
        ("future version", future, "format version 5"),
        ("malformed module address", bad_module, "invalid module address \"module.a[unquoted]\""),
        ("duplicate instances", twice, "terraform_data.a appears twice"),
    ] {
        let w = Workdir::new(&[("terraform.tfstate", &text), ("main.toml", "[resource.terraform_data.a]\n")]);
        for args in
            [&["state", "list"][..], &["plan"], &["state", "rm", "terraform_data.a"], &["apply", "-auto-approve"]]
        {
            let r = w.run(args);
            assert_eq!(r.code, 1, "{what}: {args:?} must fail:\n{}", r.all());
            assert!(
                r.stderr.contains(says) && r.stderr.contains("terraform.tfstate"),
                "{what}: {args:?}:\n{}",
                r.stderr
            );
            assert_eq!(w.read("terraform.tfstate"), text, "{what}: {args:?} changed the file");
        }
    }
}
