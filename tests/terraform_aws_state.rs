//! AWS state both ways with Terraform 1.11 and its AWS provider 5.100.0, on
//! the dev environment against the emulator: what one tool applied, the
//! other plans without changes, but for the emulator's own differences,
//! each named below with the reason. The emulator answers an ECS service
//! without awsvpc networking with an empty network configuration, on which
//! Terraform's provider crashes; the tests' proxy answers as AWS does (none).

mod common;
use common::moto::{Moto, block};
use common::terraform::{convert_tree, terraform_with};
use common::{Run, Workdir, no_changes};
use std::collections::BTreeSet;

const TARGETS: [&str; 6] = [
    "-target=module.network",
    "-target=module.bastion",
    "-target=module.cluster",
    "-target=module.events",
    "-target=module.service",
    "-target=module.pipeline",
];

/// modules/ and environments/dev, as ecspoc reads them.
fn ecspoc_dev(moto: &Moto) -> Workdir {
    common::stack(&["dev"], moto)
}

/// The same as `.tf.json`, the provider told what an emulator needs, and to
/// ignore ecspoc's marker tags (what a team moving to Terraform writes).
fn terraform_dev(from: &Workdir) -> Workdir {
    let tf = Workdir::new(&[]);
    convert_tree(&from.path().join("modules"), &tf.path().join("modules"));
    convert_tree(&from.path().join("environments"), &tf.path().join("environments"));
    let main = tf.file("environments/dev/main.tf.json");
    let mut j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&main).unwrap()).unwrap();
    let aws = &mut j["provider"]["aws"];
    for (k, v) in emulator_settings() {
        aws[k] = v;
    }
    aws["s3_use_path_style"] = true.into();
    std::fs::write(&main, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    tf
}

/// What Terraform's AWS provider needs to run on the emulator, and ecspoc's
/// marker tags ignored (what a team moving to Terraform writes).
fn emulator_settings() -> serde_json::Map<String, serde_json::Value> {
    let settings = serde_json::json!({
        "skip_credentials_validation": true, "skip_requesting_account_id": true, "skip_metadata_api_check": true,
        "ignore_tags": {"key_prefixes": ["ecspoc:"]},
    });
    settings.as_object().cloned().unwrap_or_default()
}

/// A configuration in ecspoc's TOML, as Terraform's JSON syntax in a folder
/// of its own, the provider set up by `emulator_settings`.
fn terraform_twin(toml_text: &str) -> Workdir {
    let t: toml::Table = toml::from_str(toml_text).expect("TOML");
    let mut j = serde_json::to_value(&t).expect("JSON");
    j["provider"] = serde_json::json!({ "aws": emulator_settings() });
    Workdir::new(&[("main.tf.json", &j.to_string())])
}

/// `terraform ARGS` in `dir` on the emulator: its exit code and all it printed.
fn terraform_at(dir: &std::path::Path, moto: &Moto, args: &[&str]) -> (Option<i32>, String) {
    let out = terraform_with(dir, args, &tf_env(moto));
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// `terraform ARGS` in `w` on the emulator, which must succeed: its standard output.
fn terraform_ok_at(w: &Workdir, moto: &Moto, args: &[&str]) -> String {
    let out = terraform_with(w.path(), args, &tf_env(moto));
    assert!(out.status.success(), "terraform {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tf_env(moto: &Moto) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = moto.env().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    env.push(("TF_VAR_emulator".into(), "true".into()));
    env
}

fn terraform(tf: &Workdir, moto: &Moto, args: &[&str]) -> (Option<i32>, String) {
    terraform_at(&tf.file("environments/dev"), moto, args)
}

/// `# ADDR will be ...` and `# ADDR has changed` lines of a plan, by resource
/// (the instance key dropped, module instance keys kept).
fn planned(text: &str, what: &str) -> BTreeSet<String> {
    let instance_key = regex::Regex::new(r#"\[("[^"]*"|\d+)\]$"#).unwrap();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("# "))
        .filter(|l| l.contains(what))
        .map(|l| instance_key.replace(l.split(' ').next().unwrap_or(""), "").to_string())
        .collect()
}

#[test]
fn ecspoc_plans_no_change_on_the_aws_state_terraform_wrote() {
    let moto = Moto::dedicated();
    let w = ecspoc_dev(&moto);
    let tf = terraform_dev(&w);
    let (code, text) = terraform(&tf, &moto, &["init", "-input=false", "-no-color"]);
    assert_eq!(code, Some(0), "{text}");
    let apply: Vec<&str> = ["apply", "-auto-approve", "-input=false", "-no-color"].into_iter().chain(TARGETS).collect();
    let (code, text) = terraform(&tf, &moto, &apply);
    assert_eq!(code, Some(0), "terraform apply:\n{text}");
    w.write("environments/dev/terraform.tfstate", &tf.read("environments/dev/terraform.tfstate"));

    let plan: Vec<&str> = ["-e", "dev", "plan", "-out=dev.tfplan"].into_iter().chain(TARGETS).collect();
    let r: Run = w.run(&plan);
    assert_eq!(r.code, 0, "ecspoc cannot plan on Terraform's state:\n{}", r.all());
    // The emulator stores instance_warmup_period 0 when none is sent; AWS
    // applies its default, 300, which ecspoc plans. It keeps no ECS service
    // health check grace period (Terraform stored the 0 it read back).
    let emulator_only = BTreeSet::from([
        "module.cluster.aws_ecs_capacity_provider.hosts".to_string(),
        r#"module.service["404"].aws_ecs_service.app"#.to_string(),
        r#"module.service["php-hello"].aws_ecs_service.app"#.to_string(),
    ]);
    for service in ["404", "php-hello"] {
        let changed = changed_attributes(&r.stdout, &format!(r#"module.service["{service}"].aws_ecs_service.app"#));
        assert_eq!(changed, BTreeSet::from(["health_check_grace_period_seconds".to_string()]), "{}", r.stdout);
    }
    let changes = planned(&r.stdout, " will be ");
    assert!(
        changes.is_subset(&emulator_only),
        "false changes on Terraform's state: {:?}\n{}",
        changes.difference(&emulator_only).collect::<Vec<_>>(),
        r.stdout
    );
    // Drift is noted only where it matters to a planned change.
    let drift = planned(&r.stdout, " has changed");
    let related = BTreeSet::from([
        "module.cluster.aws_ecs_capacity_provider.hosts".to_string(),
        "module.cluster.aws_autoscaling_group.hosts".to_string(),
        // Terraform stored "" for availability_zone_rebalancing, which the
        // emulator does not return; ecspoc reads AWS's default, DISABLED.
        r#"module.service["404"].aws_ecs_service.app"#.to_string(),
        r#"module.service["php-hello"].aws_ecs_service.app"#.to_string(),
    ]);
    assert!(
        drift.is_subset(&related),
        "false drift notes: {:?}\n{}",
        drift.difference(&related).collect::<Vec<_>>(),
        r.stdout
    );

    // Every attribute ecspoc reads back equals what Terraform's provider stored
    // for the same object, but for the differences named here.
    let shown = w.ok(&["-chdir=environments/dev", "show", "-json", "dev.tfplan"]).stdout;
    let refreshed = resources_by_address(
        &serde_json::from_str::<serde_json::Value>(&shown).unwrap()["prior_state"]["values"]["root_module"],
    );
    let stored: serde_json::Value = serde_json::from_str(&tf.read("environments/dev/terraform.tfstate")).unwrap();
    let known: BTreeSet<(&str, &str)> = BTreeSet::from([
        // Stale in Terraform's state: changed after it was stored (the NAT
        // gateway and the bastion's address associated, the listener attached,
        // aws_sns_topic_policy wrote the policy).
        ("aws_eip", "association_id"),
        ("aws_eip", "network_interface"),
        ("aws_eip", "private_ip"),
        ("aws_eip", "private_dns"),
        ("aws_instance", "public_ip"),
        ("aws_instance", "public_dns"),
        ("aws_lb_target_group", "load_balancer_arns"),
        // (and the default routes added to a table after it was stored)
        ("aws_route_table", "route"),
        ("aws_sns_topic", "policy"),
        // Terraform ran with skip_requesting_account_id: its ARNs lack the account.
        ("aws_instance", "arn"),
        ("aws_eip", "arn"),
        ("aws_launch_template", "arn"),
        // The emulator returns no log group class; AWS answers STANDARD, which ecspoc fills in.
        ("aws_cloudwatch_log_group", "log_group_class"),
        // Nor an ECS service's availability_zone_rebalancing: Terraform stored
        // "", ecspoc reads AWS's default, DISABLED.
        ("aws_ecs_service", "availability_zone_rebalancing"),
        // ecspoc keeps the configuration's spelling of the template (id or name).
        ("aws_autoscaling_group", "launch_template"),
        // Each tool stores its own normal form; ecspoc compares them by meaning with ECS's defaults.
        ("aws_ecs_task_definition", "container_definitions"),
    ]);
    let mut wrong = Vec::new();
    for r in stored["resources"].as_array().unwrap().iter().filter(|r| r["mode"] == "managed") {
        let type_ = r["type"].as_str().unwrap();
        for i in r["instances"].as_array().unwrap() {
            let addr = instance_address(r, i);
            let Some(ours) = refreshed.get(&addr) else { continue };
            for (k, theirs) in i["attributes"].as_object().unwrap() {
                let Some(mine) = ours.get(k) else { continue };
                if !known.contains(&(type_, k.as_str())) && !same_meaning(theirs, mine) {
                    wrong.push(format!("{addr}.{k}: Terraform stored {theirs}, ecspoc read {mine}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "attributes ecspoc reads differently:\n{}", wrong.join("\n"));
}

/// The attributes a plan text changes in one resource's block (`~`, `+`, `-` rows).
fn changed_attributes(text: &str, address: &str) -> BTreeSet<String> {
    let start = format!("# {address} will be");
    let mut lines = text.lines().skip_while(|l| !l.trim_start().starts_with(&start)).skip(2);
    let mut out = BTreeSet::new();
    for l in lines.by_ref() {
        if l == "    }" {
            break;
        }
        let row = l.trim_start();
        if let Some(rest) = row.strip_prefix("~ ").or_else(|| row.strip_prefix("+ ")).or_else(|| row.strip_prefix("- "))
        {
            // Attribute rows sit at the block's first level (six spaces in).
            if l.len() - row.len() == 6 {
                out.insert(rest.split([' ', '=']).next().unwrap_or("").to_string());
            }
        }
    }
    out
}

/// `values` of every resource instance in a plan JSON module tree, by address.
fn resources_by_address(module: &serde_json::Value) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut out = std::collections::BTreeMap::new();
    for r in module["resources"].as_array().into_iter().flatten() {
        out.insert(r["address"].as_str().unwrap_or("").to_string(), r["values"].clone());
    }
    for c in module["child_modules"].as_array().into_iter().flatten() {
        out.extend(resources_by_address(c));
    }
    out
}

fn instance_address(r: &serde_json::Value, i: &serde_json::Value) -> String {
    let module = r["module"].as_str().map(|m| format!("{m}.")).unwrap_or_default();
    let key = match &i["index_key"] {
        serde_json::Value::Number(n) => format!("[{n}]"),
        serde_json::Value::String(s) => format!("[{s:?}]"),
        _ => String::new(),
    };
    format!("{module}{}.{}{key}", r["type"].as_str().unwrap_or(""), r["name"].as_str().unwrap_or(""))
}

/// Equal but for spelling: unset and zero values, list order (AWS's sets),
/// numbers in strings, JSON documents by meaning with IAM's set values sorted.
fn same_meaning(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    let blank = |v: &J| {
        matches!(v, J::Null)
            || v == ""
            || v == 0
            || v == false
            || v.as_array().is_some_and(|a| a.is_empty())
            || v.as_object().is_some_and(|o| o.is_empty())
    };
    let json_doc = |v: &J| {
        v.as_str()
            .filter(|s| s.starts_with(['{', '[']))
            .and_then(|s| serde_json::from_str::<J>(s).ok())
            .map(sort_string_lists)
    };
    if a == b || (blank(a) && blank(b)) {
        return true;
    }
    if let (Some(x), Some(y)) = (json_doc(a), json_doc(b)) {
        return x == y;
    }
    match (a, b) {
        (J::String(s), J::Number(n)) | (J::Number(n), J::String(s)) => s.parse::<f64>().ok() == n.as_f64(),
        (J::Array(x), J::Array(y)) => {
            let mut left: Vec<&J> = y.iter().collect();
            x.len() == y.len()
                && x.iter().all(|e| match left.iter().position(|f| same_meaning(e, f)) {
                    Some(i) => {
                        left.swap_remove(i);
                        true
                    }
                    None => false,
                })
        }
        (J::Object(x), J::Object(y)) => {
            x.keys().chain(y.keys()).all(|k| same_meaning(x.get(k).unwrap_or(&J::Null), y.get(k).unwrap_or(&J::Null)))
        }
        _ => false,
    }
}

/// Lists of strings in one order (IAM treats actions, resources and principals as sets).
fn sort_string_lists(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::Array(a) if a.iter().all(J::is_string) => {
            let mut a = a;
            a.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
            if a.len() == 1 { a.remove(0) } else { J::Array(a) }
        }
        J::Array(a) => J::Array(a.into_iter().map(sort_string_lists).collect()),
        J::Object(o) => J::Object(o.into_iter().map(|(k, v)| (k, sort_string_lists(v))).collect()),
        other => other,
    }
}

#[test]
fn terraform_plans_no_change_on_the_aws_state_ecspoc_wrote() {
    let moto = Moto::dedicated();
    let w = ecspoc_dev(&moto);
    let apply: Vec<&str> = ["-e", "dev", "apply", "-auto-approve"].into_iter().chain(TARGETS).collect();
    w.ok(&apply);
    let tf = terraform_dev(&w);
    tf.write("environments/dev/terraform.tfstate", &w.read("environments/dev/terraform.tfstate"));
    let (code, text) = terraform(&tf, &moto, &["init", "-input=false", "-no-color"]);
    assert_eq!(code, Some(0), "{text}");
    let plan: Vec<&str> = ["plan", "-input=false", "-no-color", "-lock=false"].into_iter().chain(TARGETS).collect();
    let (code, text) = terraform(&tf, &moto, &plan);
    // Before: the provider crashed upgrading schema version 0 states, refused
    // attributes it does not have, and planned 44 updates for marker tags.
    assert_eq!(code, Some(0), "Terraform cannot plan on ecspoc's state:\n{text}");
    // ECS services: the emulator keeps no health check grace period and
    // returns no availability_zone_rebalancing, which AWS always does.
    for service in ["404", "php-hello"] {
        let changed = changed_attributes(&text, &format!(r#"module.service["{service}"].aws_ecs_service.app"#));
        let expected = ["availability_zone_rebalancing", "health_check_grace_period_seconds"];
        assert!(changed.iter().all(|c| expected.contains(&c.as_str())), "{changed:?}\n{text}");
    }
    let emulator_only = BTreeSet::from([
        r#"module.service["404"].aws_ecs_service.app"#.to_string(),
        r#"module.service["php-hello"].aws_ecs_service.app"#.to_string(),
        // The emulator files the template's own tags under its launch data;
        // Terraform plans the same on the state it wrote itself.
        "module.cluster.aws_launch_template.hosts".to_string(),
        // The emulator's DescribeLoadBalancerAttributes leaves out attributes
        // Terraform's provider defaults (client_keep_alive, desync_mitigation_mode...).
        "module.cluster.aws_lb.main".to_string(),
    ]);
    let changes = planned(&text, " will be ");
    assert!(
        changes.is_subset(&emulator_only),
        "false changes on ecspoc's state: {:?}\n{text}",
        changes.difference(&emulator_only).collect::<Vec<_>>()
    );
}

/// A plan's resource blocks by address: from `  # ADDR will be` to the
/// block's closing `    }`.
fn blocks_by_address(text: &str) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in text.lines() {
        // `  # (config refers to values not yet known)` is a reason line of the block above.
        if let Some(rest) = line.strip_prefix("  # ").filter(|r| !r.starts_with('(')) {
            let addr = rest.split(' ').next().unwrap_or("").to_string();
            current = Some((addr, vec![line]));
            continue;
        }
        if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
            if line == "    }" {
                let (addr, lines) = current.take().unwrap_or_default();
                out.insert(addr, lines.join("\n"));
            }
        }
    }
    out
}

/// The types whose create blocks in dev read as Terraform's, line for line.
/// A type leaves this list only with a reason; one whose blocks all agree
/// and is not here fails the test too, so the list stays the measurement.
const SAME_CREATE_TEXT: &[&str] = &[
    "aws_cloudwatch_event_rule",
    "aws_cloudwatch_event_target",
    "aws_cloudwatch_log_group",
    "aws_ecr_repository",
    "aws_ecs_cluster",
    "aws_ecs_cluster_capacity_providers",
    "aws_ecs_task_definition",
    "aws_eip",
    "aws_iam_instance_profile",
    "aws_iam_policy_document",
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_internet_gateway",
    "aws_key_pair",
    "aws_nat_gateway",
    "aws_route",
    "aws_route_table",
    "aws_route_table_association",
    "aws_s3_bucket_public_access_block",
    "aws_security_group",
    "aws_sns_topic",
    "aws_sns_topic_policy",
    "aws_sns_topic_subscription",
    "aws_subnet",
    "aws_vpc",
];

#[test]
fn the_dev_create_plan_reads_as_terraforms() {
    let moto = Moto::dedicated();
    let w = ecspoc_dev(&moto);
    let tf = terraform_dev(&w);
    let (code, text) = terraform(&tf, &moto, &["init", "-input=false", "-no-color"]);
    assert_eq!(code, Some(0), "{text}");
    let (code, theirs) = terraform(&tf, &moto, &["plan", "-input=false", "-no-color", "-lock=false"]);
    assert_eq!(code, Some(0), "{theirs}");
    let mine = w.ok(&["-e", "dev", "plan", "-no-color"]).stdout;
    let (theirs, mine) = (blocks_by_address(&theirs), blocks_by_address(&mine));
    assert_eq!(theirs.keys().collect::<Vec<_>>(), mine.keys().collect::<Vec<_>>(), "the same objects planned");

    let instance_key = regex::Regex::new(r#"\[("[^"]*"|\d+)\]$"#).unwrap();
    let type_of = |addr: &str| instance_key.replace(addr, "").rsplit('.').nth(1).unwrap_or("").to_string();
    let mut agree: std::collections::BTreeMap<String, bool> = std::collections::BTreeMap::new();
    let mut report = String::new();
    for (addr, text) in &theirs {
        let same = mine.get(addr) == Some(text);
        *agree.entry(type_of(addr)).or_insert(true) &= same;
        if !same {
            let diff = similar::TextDiff::from_lines(text.as_str(), mine[addr].as_str());
            report += &format!("{addr}:\n{}\n", diff.unified_diff().context_radius(1).header("terraform", "ecspoc"));
        }
    }
    let same: Vec<&str> = agree.iter().filter(|(_, s)| **s).map(|(t, _)| t.as_str()).collect();
    let blocks = theirs.keys().filter(|a| same.contains(&type_of(a).as_str())).count();
    eprintln!("{} of {} types, {blocks} of {} blocks read as Terraform's", same.len(), agree.len(), theirs.len());
    if std::env::var_os("ECSPOC_PLAN_TEXT_REPORT").is_some() {
        eprintln!("{report}");
    }
    assert_eq!(same, SAME_CREATE_TEXT, "types whose create text agrees (ECSPOC_PLAN_TEXT_REPORT=1 shows the diffs)");
}

/// The lines of a plan from the first line starting with `from` (trimmed)
/// through the line, at that indentation, that closes it.
fn section(text: &str, from: &str, close: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| l.trim_start().starts_with(from)) else { return String::new() };
    let indent = lines[start].len() - lines[start].trim_start().len();
    let end = (start + 1..lines.len())
        .find(|&i| lines[i].trim_start() == close && lines[i].len() - lines[i].trim_start().len() == indent + 2)
        .unwrap_or(lines.len() - 1);
    lines[start..=end].join("\n")
}

/// Sets as Terraform shows them: a set of blocks (an ECS cluster's
/// `setting`) and a set attribute of objects (a security group's
/// `ingress`) changed: the old element goes and the new comes, never
/// paired, in Terraform's order, unchanged elements counted.
#[test]
fn set_changes_read_as_terraforms() {
    let moto = Moto::dedicated();
    let config = r#"
[variable.insights]
default = "enabled"
[variable.cidr]
default = "10.0.0.0/8"

[resource.aws_ecs_cluster.c]
name = "sets"
setting = { name = "containerInsights", value = "${var.insights}" }

[resource.aws_security_group.g]
name = "sets"
description = "sets"
ingress = [
  { from_port = 443, to_port = 443, protocol = "tcp", cidr_blocks = ["0.0.0.0/0"], description = "https", ipv6_cidr_blocks = [], prefix_list_ids = [], security_groups = [], self = false },
  { from_port = 22, to_port = 22, protocol = "tcp", cidr_blocks = ["${var.cidr}"], description = "ssh", ipv6_cidr_blocks = [], prefix_list_ids = [], security_groups = [], self = false },
]
"#;
    let plan_args = ["plan", "-no-color", "-input=false", "-var", "insights=disabled", "-var", "cidr=192.168.0.0/16"];
    let ours = Workdir::new(&[("main.toml", config)]).with_aws(&moto);
    ours.ok(&["apply", "-auto-approve"]);
    let mine = ours.run(&plan_args);
    assert_eq!(mine.code, 0, "{}", mine.all());

    // Terraform's objects under names of their own.
    let twin = terraform_twin(&config.replace("name = \"sets\"", "name = \"sets-tf\""));
    terraform_ok_at(&twin, &moto, &["init", "-input=false", "-no-color"]);
    terraform_ok_at(&twin, &moto, &["apply", "-auto-approve", "-input=false", "-no-color"]);
    let theirs = terraform_ok_at(&twin, &moto, &plan_args);
    for (from, close) in [("- setting {", "}"), ("~ ingress", "]")] {
        let (t, m) = (section(&theirs, from, close), section(&mine.stdout, from, close));
        assert!(!t.is_empty(), "no {from:?} in Terraform's plan:\n{theirs}");
        // The setting block's removal and addition are two sections: compare both.
        let (t, m) = if from.starts_with("- setting") {
            (
                format!("{t}\n{}", section(&theirs, "+ setting {", "}")),
                format!("{m}\n{}", section(&mine.stdout, "+ setting {", "}")),
            )
        } else {
            (t, m)
        };
        common::terraform::assert_same_plan(from, &t, &m);
    }
}

/// `name_prefix` (Terraform's way to let the provider make unique names, as
/// create_before_destroy needs): the name is known after apply, made of the
/// prefix and 26 hexadecimal digits as Terraform's provider makes it, so
/// each tool reads the other's prefix back and plans no change.
#[test]
fn name_prefix_makes_names_each_tool_reads_back() {
    let moto = Moto::dedicated();
    let config = |who: &str| {
        format!(
            r#"
[resource.aws_sns_topic.t]
name_prefix = "{who}-topic-"

[resource.aws_security_group.g]
name_prefix = "{who}-sg-"
description = "prefixed"

[resource.aws_cloudwatch_log_group.l]
name_prefix = "/{who}/logs-"
"#
        )
    };
    let ours = Workdir::new(&[("main.toml", &config("ours"))]).with_aws(&moto);
    let plan = ours.ok(&["plan", "-no-color"]).stdout;
    for line in ["+ name                   = (known after apply)", "+ name_prefix            = \"ours-sg-\""] {
        assert!(plan.contains(line), "{line:?} in:\n{plan}");
    }
    ours.ok(&["apply", "-auto-approve"]);
    let shape = regex::Regex::new(r"^(ours-topic-|ours-sg-|/ours/logs-)[0-9a-f]{26}$").unwrap();
    for addr in ["aws_sns_topic.t", "aws_security_group.g", "aws_cloudwatch_log_group.l"] {
        let name = common::state_attr(&ours, addr, "name");
        assert!(shape.is_match(name.as_str().unwrap_or("")), "{addr}: {name}");
    }
    no_changes(&ours);

    // Both names set is refused before anything is made.
    ours.write("extra.toml", "[resource.aws_sns_topic.both]\nname = \"x\"\nname_prefix = \"y-\"\n");
    let r = ours.run(&["plan"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("name conflicts with name_prefix"), "{}", r.stderr);
    std::fs::remove_file(ours.file("extra.toml")).unwrap();

    // Terraform on ecspoc's state, then ecspoc on Terraform's.
    let theirs = terraform_twin(&config("ours"));
    theirs.write("terraform.tfstate", &ours.read("terraform.tfstate"));
    terraform_ok_at(&theirs, &moto, &["init", "-input=false", "-no-color"]);
    let (code, text) = terraform_at(theirs.path(), &moto, &["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    assert_eq!(code, Some(0), "Terraform plans changes on ecspoc's prefixed names:\n{text}");

    let tf_made = terraform_twin(&config("tf"));
    terraform_ok_at(&tf_made, &moto, &["init", "-input=false", "-no-color"]);
    terraform_ok_at(&tf_made, &moto, &["apply", "-auto-approve", "-input=false", "-no-color"]);
    let ours_on_theirs = Workdir::new(&[("main.toml", &config("tf"))]).with_aws(&moto);
    ours_on_theirs.write("terraform.tfstate", &tf_made.read("terraform.tfstate"));
    no_changes(&ours_on_theirs);
}

/// A change inside a block that the object cannot take in place: a
/// capacity provider moved to another Auto Scaling group is replaced, the
/// block's attribute marked `# forces replacement`, as Terraform marks it;
/// plan JSON names the path inside the block.
#[test]
fn a_replacement_forced_inside_a_block_is_marked_there() {
    let moto = Moto::dedicated();
    let config = |prefix: &str| {
        format!(
            r#"
[variable.which]
default = "a"

[resource.aws_vpc.v]
cidr_block = "10.7.0.0/16"

[resource.aws_subnet.s]
vpc_id = "${{aws_vpc.v.id}}"
cidr_block = "10.7.1.0/24"
availability_zone = "us-east-1a"

[resource.aws_launch_template.lt]
name = "{prefix}-lt"
image_id = "ami-12c6146b"
instance_type = "t3.micro"

[resource.aws_autoscaling_group.a]
name = "{prefix}-a"
min_size = 0
max_size = 1
vpc_zone_identifier = ["${{aws_subnet.s.id}}"]
launch_template = {{ id = "${{aws_launch_template.lt.id}}" }}

[resource.aws_autoscaling_group.b]
name = "{prefix}-b"
min_size = 0
max_size = 1
vpc_zone_identifier = ["${{aws_subnet.s.id}}"]
launch_template = {{ id = "${{aws_launch_template.lt.id}}" }}

[resource.aws_ecs_capacity_provider.p]
name = "{prefix}"
auto_scaling_group_provider = {{ auto_scaling_group_arn = "${{var.which == \"a\" ? aws_autoscaling_group.a.arn : aws_autoscaling_group.b.arn}}" }}
"#
        )
    };
    let ours = Workdir::new(&[("main.toml", &config("ours"))]).with_aws(&moto);
    ours.ok(&["apply", "-auto-approve"]);
    let mine = ours.run(&["plan", "-no-color", "-var", "which=b", "-out=p.tfplan"]);
    assert_eq!(mine.code, 0, "{}", mine.all());

    let theirs = terraform_twin(&config("tf"));
    let tf = |args: &[&str]| terraform_ok_at(&theirs, &moto, args);
    tf(&["init", "-input=false", "-no-color"]);
    tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let theirs_text = tf(&["plan", "-no-color", "-input=false", "-var", "which=b"]);

    // The lines both tools must print alike (ids and ARNs differ between the two applies).
    let ids = regex::Regex::new(r#""arn:aws:[^"]*""#).unwrap();
    let wanted = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| {
                l.contains("must be replaced")
                    || l.contains("-/+ resource")
                    || l.contains("auto_scaling_group_arn")
                    || l.contains("~ auto_scaling_group_provider {")
                    || l.starts_with("Plan:")
            })
            .map(|l| ids.replace_all(l.trim_end(), "ARN").split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    };
    assert_eq!(wanted(&mine.stdout), wanted(&theirs_text), "ecspoc:\n{}\nTerraform:\n{theirs_text}", mine.stdout);
    assert!(mine.stdout.contains("# forces replacement"), "{}", mine.stdout);

    let shown: serde_json::Value =
        serde_json::from_str(&ours.ok(&["show", "-json", "p.tfplan"]).stdout).expect("plan JSON");
    let change = shown["resource_changes"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["address"] == "aws_ecs_capacity_provider.p"))
        .expect("the capacity provider's change");
    assert_eq!(
        change["change"]["replace_paths"],
        serde_json::json!([["auto_scaling_group_provider", 0, "auto_scaling_group_arn"]])
    );
    ours.ok(&["apply", "-auto-approve", "-var", "which=b"]);
    let r = ours.run(&["plan", "-detailed-exitcode", "-var", "which=b"]);
    assert_eq!(r.code, 0, "the replacement converged:\n{}", r.all());
}

/// Drift as Terraform shows it: objects changed by hand (a log group's
/// retention, a topic's display name) are noted under "Objects have changed
/// outside of ...", then planned back, both sections line for line with
/// Terraform's own plan of the same configuration and the same changes.
#[test]
fn drift_reads_as_terraforms() {
    let moto = Moto::dedicated();
    let config = |who: &str| {
        format!(
            r#"
[resource.aws_cloudwatch_log_group.l]
name = "/drift/{who}"
retention_in_days = 14

# The topic reads the log group's retention: as the topic changes, drift
# there is relevant to this plan.
[resource.aws_sns_topic.t]
name = "drift-{who}"
display_name = "kept ${{aws_cloudwatch_log_group.l.retention_in_days}} days"
"#
        )
    };
    let drift = |who: &str| {
        let sdk = moto.sdk();
        block(
            aws_sdk_cloudwatchlogs::Client::new(&sdk)
                .put_retention_policy()
                .log_group_name(format!("/drift/{who}"))
                .retention_in_days(1)
                .send(),
        )
        .expect("retention");
        block(
            aws_sdk_sns::Client::new(&sdk)
                .set_topic_attributes()
                .topic_arn(format!("arn:aws:sns:us-east-1:123456789012:drift-{who}"))
                .attribute_name("DisplayName")
                .attribute_value("by hand")
                .send(),
        )
        .expect("display name");
    };
    let ours = Workdir::new(&[("main.toml", &config("ours"))]).with_aws(&moto);
    ours.ok(&["apply", "-auto-approve"]);
    drift("ours");
    let mine = ours.run(&["plan", "-no-color"]);
    assert_eq!(mine.code, 0, "{}", mine.all());

    let theirs = terraform_twin(&config("tf"));
    let tf = |args: &[&str]| terraform_ok_at(&theirs, &moto, args);
    tf(&["init", "-input=false", "-no-color"]);
    tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    drift("tf");
    let theirs_text = tf(&["plan", "-no-color", "-input=false"]);

    // Names and ids differ between the two applies. Terraform's provider
    // stores "" and {} for strings and tags left unset (its plugin SDK's
    // zero values), ecspoc stores null: `tags = {}` rows and the hidden
    // counts they make differ, nothing else.
    let same_names = |text: &str| {
        let text = text.replace("drift-tf", "drift-ours").replace("/drift/tf", "/drift/ours");
        let arn = regex::Regex::new(r"arn:aws:[a-z]+:us-east-1:\d*:").unwrap();
        let text = common::terraform::comparable_with_drift(&arn.replace_all(&text, "arn:"));
        let hidden = regex::Regex::new(r"^\s*# \(\d+ unchanged attributes? hidden\)$").unwrap();
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| !hidden.is_match(l) && l.trim_start() != "tags = {}" && !l.trim_start().starts_with("tags "))
            .collect();
        // Names align to the widest one, hidden ones included: compare rows without the padding.
        rows.iter().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n")
    };
    common::terraform::assert_same_plan("drift", &same_names(&theirs_text), &same_names(&mine.stdout));
    // The topic reads the retention: that drift is noted. The topic's own is
    // not (nothing changing reads it); the plan shows it once, as the change.
    for text in [&mine.stdout, &theirs_text] {
        assert!(text.contains("# aws_cloudwatch_log_group.l has changed"), "{text}");
        assert!(!text.contains("# aws_sns_topic.t has changed"), "{text}");
    }
}
