//! The stack is valid Terraform: every module and environment, written
//! mechanically as Terraform's JSON syntax, passes `terraform validate` with
//! the real AWS provider (5.100.0, from this machine's mirror). Terraform
//! applies the AWS provider's own validators there (names, enums, patterns,
//! required arguments), the rules AWS enforces that the models do not carry.

mod common;
use common::terraform::{convert_tree, terraform, terraform_ok};
use std::path::Path;

#[test]
fn every_environment_passes_terraform_validate_with_the_real_aws_provider() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().expect("tempdir");
    convert_tree(&repo.join("modules"), &out.path().join("modules"));
    convert_tree(&repo.join("environments"), &out.path().join("environments"));
    convert_tree(&repo.join("bootstrap"), &out.path().join("environments/bootstrap"));
    let mut failures = Vec::new();
    // bootstrap/ (the account's state bucket and lock table) is checked as one more root module.
    for env in ["dev", "staging", "prod", "bootstrap"] {
        let dir = out.path().join("environments").join(env);
        terraform_ok(&dir, &["init", "-input=false", "-no-color", "-backend=false"]);
        let validate = terraform(&dir, &["validate", "-json", "-no-color"]);
        let report: serde_json::Value = serde_json::from_slice(&validate.stdout).expect("validate -json");
        for d in report["diagnostics"].as_array().into_iter().flatten() {
            failures.push(format!(
                "{env}: {}: {} ({}:{})\n  {}",
                d["severity"].as_str().unwrap_or(""),
                d["summary"].as_str().unwrap_or(""),
                d["range"]["filename"].as_str().unwrap_or(""),
                d["range"]["start"]["line"],
                d["detail"].as_str().unwrap_or("").replace('\n', " "),
            ));
        }
        if report["valid"] != serde_json::Value::Bool(true) && failures.is_empty() {
            failures.push(format!("{env}: not valid: {report}"));
        }
    }
    assert!(failures.is_empty(), "terraform validate:\n{}", failures.join("\n"));
}

/// A body each type accepts in both tools, with every block a rule reaches.
fn base(type_: &str) -> serde_json::Value {
    use serde_json::json;
    let rule = json!({"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"], "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false, "description": "ok"});
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let action = |name: &str, category: &str, provider: &str| json!({"name": name, "category": category, "owner": "AWS", "provider": provider, "version": "1", "run_order": 1, "input_artifacts": [], "output_artifacts": ["a"], "configuration": {}});
    match type_ {
        "aws_vpc" => json!({"cidr_block": "10.0.0.0/16"}),
        "aws_subnet" => json!({"vpc_id": "vpc-1", "cidr_block": "10.0.1.0/24"}),
        "aws_route" => json!({"route_table_id": "rtb-1", "destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-1"}),
        "aws_security_group" => json!({"name": "ok", "description": "ok", "ingress": [rule.clone()], "egress": [rule]}),
        "aws_vpc_security_group_ingress_rule" => {
            json!({"security_group_id": "sg-1", "ip_protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_ipv4": "10.0.0.0/8", "description": "ok"})
        }
        "aws_launch_template" => {
            json!({"name": "ok-template", "description": "ok", "metadata_options": [{"http_tokens": "required", "http_endpoint": "enabled", "http_put_response_hop_limit": 2}]})
        }
        "aws_key_pair" => {
            json!({"key_name": "ok", "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJIQI/QpJCpdSrdwxTZ+PxnEXIsUaeSnnnFKD02VatQT x"})
        }
        "aws_eip" => json!({"domain": "vpc"}),
        "aws_nat_gateway" => {
            json!({"subnet_id": "subnet-1", "allocation_id": "eipalloc-1", "connectivity_type": "public"})
        }
        "aws_lb" => json!({"name": "ok-lb", "load_balancer_type": "application", "subnets": ["subnet-1", "subnet-2"]}),
        "aws_lb_target_group" => {
            json!({"name": "ok-tg", "port": 80, "protocol": "HTTP", "vpc_id": "vpc-1", "target_type": "instance", "deregistration_delay": 30, "health_check": [{"interval": 30, "timeout": 5, "healthy_threshold": 3, "unhealthy_threshold": 3, "path": "/"}]})
        }
        "aws_lb_listener" => {
            json!({"load_balancer_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/ok/1", "port": 80, "protocol": "HTTP", "default_action": [{"type": "forward", "target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/ok/1"}]})
        }
        "aws_lb_listener_rule" => {
            json!({"listener_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/ok/1/2", "priority": 10, "action": [{"type": "forward", "target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/ok/1"}], "condition": [{"path_pattern": [{"values": ["/ok"]}]}]})
        }
        "aws_iam_role" => {
            json!({"name": "ok", "path": "/", "description": "ok", "max_session_duration": 3600, "assume_role_policy": policy})
        }
        "aws_iam_role_policy" => json!({"name": "ok", "role": "ok", "policy": policy}),
        "aws_iam_policy" => json!({"name": "ok", "description": "ok", "policy": policy}),
        "aws_iam_instance_profile" => json!({"name": "ok", "role": "ok"}),
        "aws_cloudwatch_log_group" => json!({"name": "/ok", "retention_in_days": 7}),
        "aws_cloudwatch_event_rule" => {
            json!({"name": "ok", "description": "ok", "event_pattern": r#"{"source":["aws.ecs"]}"#})
        }
        "aws_cloudwatch_event_target" => {
            json!({"rule": "ok", "target_id": "ok", "arn": "arn:aws:sns:us-east-1:123456789012:ok"})
        }
        "aws_sns_topic" => json!({"name": "ok"}),
        "aws_sns_topic_subscription" => {
            json!({"topic_arn": "arn:aws:sns:us-east-1:123456789012:ok", "protocol": "sqs", "endpoint": "arn:aws:sqs:us-east-1:123456789012:ok"})
        }
        "aws_ecr_repository" => json!({"name": "ok", "image_tag_mutability": "MUTABLE"}),
        "aws_codebuild_project" => {
            json!({"name": "ok", "service_role": "arn:aws:iam::123456789012:role/ok", "build_timeout": 60,
            "artifacts": [{"type": "NO_ARTIFACTS"}],
            "environment": [{"type": "LINUX_CONTAINER", "compute_type": "BUILD_GENERAL1_SMALL", "image": "aws/codebuild/standard:7.0", "image_pull_credentials_type": "CODEBUILD"}],
            "source": [{"type": "NO_SOURCE", "buildspec": "version: 0.2"}]})
        }
        "aws_codepipeline" => {
            json!({"name": "ok", "role_arn": "arn:aws:iam::123456789012:role/ok", "pipeline_type": "V1",
            "artifact_store": [{"type": "S3", "location": "bucket"}],
            "stage": [{"name": "Source", "action": [action("Source", "Source", "S3")]}, {"name": "Build", "action": [action("Build", "Build", "CodeBuild")]}]})
        }
        "aws_ecs_task_definition" => {
            json!({"family": "ok", "network_mode": "bridge", "container_definitions": r#"[{"name":"web","image":"nginx","memory":128}]"#})
        }
        "aws_ecs_service" => {
            json!({"name": "ok", "launch_type": "EC2", "scheduling_strategy": "REPLICA", "propagate_tags": "NONE", "capacity_provider_strategy": [{"capacity_provider": "ok", "weight": 1, "base": 0}]})
        }
        "aws_ecs_capacity_provider" => {
            json!({"name": "ok", "auto_scaling_group_provider": [{"auto_scaling_group_arn": "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/ok", "managed_termination_protection": "DISABLED",
            "managed_scaling": [{"status": "ENABLED", "target_capacity": 100, "maximum_scaling_step_size": 1, "minimum_scaling_step_size": 1}]}]})
        }
        "aws_autoscaling_group" => {
            json!({"name": "ok", "min_size": 0, "max_size": 1, "vpc_zone_identifier": ["subnet-1"], "launch_template": [{"id": "lt-1", "version": "$Latest"}]})
        }
        other => panic!("no base body for {other}: add one"),
    }
}

/// A value the rule refuses.
fn breaking(check: &ecspoc_aws::rules::Check) -> serde_json::Value {
    use ecspoc_aws::rules::Check::*;
    use serde_json::json;
    match check {
        Len(_, max) => json!("a".repeat(max + 1)),
        Pattern(..) => json!("it's"),
        OneOf(_) => json!("NOT_ALLOWED"),
        Range(_, max) => json!(max + 1.0),
        Among(_) => json!(2),
        Ipv4Network => json!("10.0.0.1/16"),
        NotAtEdges(edge) => json!(format!("{edge}ok")),
        NotPrefix(prefix) => json!(format!("{prefix}ok")),
    }
}

fn set_path(v: &mut serde_json::Value, path: &[&str], to: serde_json::Value) {
    match path.split_first() {
        None => *v = to,
        Some((&"*", rest)) => set_path(&mut v[0], rest, to),
        Some((name, rest)) => set_path(&mut v[*name], rest, to),
    }
}

/// Every plan-time rule of the aws provider, against Terraform's AWS
/// provider: a value that breaks the rule is refused by `ecspoc validate`,
/// and by `terraform validate` exactly when the rule is marked as the
/// provider's (the others are AWS's own, which Terraform users meet at
/// apply); the bodies they were put in are valid in both tools.
#[test]
fn every_provider_rule_refuses_what_terraforms_aws_provider_refuses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = ecspoc_aws::rules::RULES;
    let mut types: Vec<&str> = rules.iter().map(|r| r.type_).collect();
    types.dedup();
    // One file per case: a diagnostic's file names its case.
    let write = |name: &str, type_: &str, body: &serde_json::Value| {
        let doc = serde_json::json!({"resource": {type_: {name: body}}});
        std::fs::write(
            dir.path().join(format!("{name}.tf.json")),
            serde_json::to_string_pretty(&doc).unwrap_or_default(),
        )
        .expect("write");
    };
    for t in &types {
        write(&format!("good_{t}"), t, &base(t));
    }
    for (i, r) in rules.iter().enumerate() {
        let mut body = base(r.type_);
        set_path(&mut body, &r.path.split('.').collect::<Vec<_>>(), breaking(&r.check));
        write(&format!("bad_{i}"), r.type_, &body);
    }
    std::fs::write(
        dir.path().join("provider.tf.json"),
        r#"{"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}}, "provider": {"aws": {"region": "us-east-1"}}}"#,
    )
    .expect("write");

    terraform_ok(dir.path(), &["init", "-input=false", "-no-color", "-backend=false"]);
    let report: serde_json::Value =
        serde_json::from_slice(&terraform(dir.path(), &["validate", "-json", "-no-color"]).stdout)
            .expect("validate -json");
    let mut terraform_refused = std::collections::BTreeSet::new();
    for d in report["diagnostics"].as_array().into_iter().flatten() {
        let file = d["range"]["filename"].as_str().unwrap_or("(no file)");
        terraform_refused.insert(file.trim_end_matches(".tf.json").to_string());
    }

    let w = common::Workdir { dir, env: Vec::new() };
    let ours: serde_json::Value =
        serde_json::from_str(&w.run(&["validate", "-json"]).stdout).expect("ecspoc validate -json");
    let mut ecspoc_refused = std::collections::BTreeSet::new();
    for d in ours["diagnostics"].as_array().into_iter().flatten() {
        let file = d["range"]["filename"].as_str().unwrap_or("(no file)");
        let case = Path::new(file).file_name().and_then(|f| f.to_str()).unwrap_or(file);
        ecspoc_refused.insert(case.trim_end_matches(".tf.json").to_string());
    }

    let mut wrong = Vec::new();
    for t in &types {
        let case = format!("good_{t}");
        for (tool, refused) in [("terraform", &terraform_refused), ("ecspoc", &ecspoc_refused)] {
            if refused.contains(&case) {
                wrong.push(format!("{tool} refuses the base body of {t}"));
            }
        }
    }
    for (i, r) in rules.iter().enumerate() {
        let case = format!("bad_{i}");
        let what = format!("{} {} = {}", r.type_, r.path, breaking(&r.check));
        if !ecspoc_refused.contains(&case) {
            wrong.push(format!("ecspoc accepts {what}"));
        }
        // Terraform refuses exactly the rules said to be its provider's.
        let by_terraform = r.source == ecspoc_aws::rules::Source::TerraformProvider;
        if terraform_refused.contains(&case) != by_terraform {
            let verb = if by_terraform { "accepts" } else { "refuses (mark the rule as Terraform's)" };
            wrong.push(format!("terraform {verb} {what}"));
        }
    }
    let details: Vec<String> = report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(ours["diagnostics"].as_array().into_iter().flatten())
        .filter(|d| d["range"]["filename"].as_str().is_some_and(|f| f.contains("good_")))
        .map(|d| format!("{}: {} {}", d["range"]["filename"], d["summary"], d["detail"]))
        .collect();
    assert!(wrong.is_empty(), "{}\n\nabout base bodies:\n{}", wrong.join("\n"), details.join("\n"));
}

/// Every aws type's schema against Terraform's AWS provider's own (`terraform
/// providers schema -json`): the same schema version, which state files
/// carry (a lower one makes the provider run its upgraders on attributes
/// already in the current form, and some crash), and no attribute the
/// provider does not have (it refuses to decode such a state).
#[test]
fn every_aws_type_has_the_providers_schema_version_and_only_its_attributes() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.tf.json"),
        r#"{"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}}}"#,
    )
    .expect("write");
    terraform_ok(dir.path(), &["init", "-input=false", "-no-color", "-backend=false"]);
    let theirs: serde_json::Value =
        serde_json::from_str(&terraform_ok(dir.path(), &["providers", "schema", "-json"])).expect("schema JSON");
    let theirs = &theirs["provider_schemas"]["registry.terraform.io/hashicorp/aws"];
    let w = common::Workdir::new(&[("main.toml", "")]);
    let ours: serde_json::Value = serde_json::from_str(&w.ok(&["providers", "-json"]).stdout).expect("JSON");
    let ours = ours["provider_schemas"]
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.ends_with("hashicorp/aws")).map(|(_, v)| v.clone()))
        .expect("the aws provider's schemas");
    let mut wrong = Vec::new();
    // Data sources: names and types (their schema versions are not kept in state).
    for (type_, schema) in ours["data_source_schemas"].as_object().expect("data sources") {
        match theirs["data_source_schemas"].get(type_) {
            Some(t) => same_types(&format!("data.{type_}"), &schema["block"], &t["block"], &mut wrong),
            None => wrong.push(format!("data.{type_}: no such data source in the provider")),
        }
    }
    let theirs = &theirs["resource_schemas"];
    for (type_, schema) in ours["resource_schemas"].as_object().expect("types") {
        let Some(t) = theirs.get(type_) else {
            wrong.push(format!("{type_}: no such type in the provider"));
            continue;
        };
        if schema["version"] != t["version"] {
            wrong
                .push(format!("{type_}: schema version {} where the provider has {}", schema["version"], t["version"]));
        }
        let names = |s: &serde_json::Value| -> std::collections::BTreeSet<String> {
            ["attributes", "block_types"]
                .iter()
                .flat_map(|k| {
                    s["block"][k].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default()
                })
                .collect()
        };
        for extra in names(schema).difference(&names(t)) {
            wrong.push(format!("{type_}.{extra}: not an attribute of the provider"));
        }
        // A nested block where the provider has one, an attribute where it has one:
        // plans show them differently.
        let keys = |s: &serde_json::Value, k: &str| -> std::collections::BTreeSet<String> {
            s["block"][k].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
        };
        for name in keys(schema, "block_types").difference(&keys(t, "block_types")) {
            wrong.push(format!("{type_}.{name}: a nested block in ecspoc, an attribute in the provider"));
        }
        for name in keys(schema, "attributes").intersection(&keys(t, "block_types")) {
            wrong.push(format!("{type_}.{name}: an attribute in ecspoc, a nested block in the provider"));
        }
        same_types(type_, &schema["block"], &t["block"], &mut wrong);
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every attribute's type (sets and lists told apart, at any depth) and
/// every nested block's nesting mode as the provider's: plans order and
/// diff sets differently from lists.
fn same_types(path: &str, ours: &serde_json::Value, theirs: &serde_json::Value, wrong: &mut Vec<String>) {
    for (name, a) in ours["attributes"].as_object().into_iter().flatten() {
        let their = &theirs["attributes"][name]["type"];
        if !their.is_null() && a["type"] != *their {
            wrong.push(format!("{path}.{name}: of type {} where the provider has {their}", a["type"]));
        }
    }
    for (name, b) in ours["block_types"].as_object().into_iter().flatten() {
        let their = &theirs["block_types"][name];
        if their.is_null() {
            continue;
        }
        if b["nesting_mode"] != their["nesting_mode"] {
            wrong.push(format!(
                "{path}.{name}: nested as a {} where the provider has a {}",
                b["nesting_mode"], their["nesting_mode"]
            ));
        }
        same_types(&format!("{path}.{name}"), &b["block"], &their["block"], wrong);
    }
}

/// `output -json` (all, and one) and `validate -json` are Terraform's
/// documents: the same configuration, applied by each tool, gives the same
/// JSON; an invalid one the same verdict and counts, each diagnostic with
/// Terraform's fields.
#[test]
fn output_and_validate_json_are_terraforms_documents() {
    let toml_text = r#"
[resource.terraform_data.d]
input = "x"

[output.s]
value = "a"
[output.l]
value = ["a", 1]
[output.m]
value = { k = "v" }
[output.secret]
value = "shh"
sensitive = true
"#;
    let json = |t: &str| serde_json::to_string(&toml::from_str::<toml::Table>(t).expect("TOML")).expect("JSON");
    let ours = common::Workdir::new(&[("main.toml", toml_text)]);
    let theirs = common::Workdir::new(&[("main.tf.json", &json(toml_text))]);
    terraform_ok(theirs.path(), &["init", "-input=false", "-no-color"]);
    let parsed = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap_or_else(|e| panic!("{e}: {s}"));
    assert_eq!(
        parsed(&ours.ok(&["validate", "-json"]).stdout),
        parsed(&terraform_ok(theirs.path(), &["validate", "-json"]))
    );
    ours.ok(&["apply", "-auto-approve"]);
    terraform_ok(theirs.path(), &["apply", "-auto-approve", "-no-color", "-input=false"]);
    for args in [vec!["output", "-json"], vec!["output", "-json", "l"], vec!["output", "-json", "secret"]] {
        assert_eq!(parsed(&ours.ok(&args).stdout), parsed(&terraform_ok(theirs.path(), &args)), "{args:?}");
    }

    let bad = "[resource.terraform_data.d]\ninputx = \"x\"\n";
    ours.write("main.toml", bad);
    theirs.write("main.tf.json", &json(bad));
    let mine = ours.run(&["validate", "-json"]);
    assert_eq!(mine.code, 1, "{}", mine.all());
    let out = terraform(theirs.path(), &["validate", "-json"]);
    let (mine, theirs) = (parsed(&mine.stdout), parsed(&String::from_utf8_lossy(&out.stdout)));
    for k in ["format_version", "valid", "error_count", "warning_count"] {
        assert_eq!(mine[k], theirs[k], "{k}: {mine} / {theirs}");
    }
    for d in mine["diagnostics"].as_array().expect("diagnostics") {
        for field in ["severity", "summary", "detail"] {
            assert!(d[field].is_string(), "{field} in {d}");
        }
        assert_eq!(d["range"]["start"]["line"], 2, "{d}");
    }
}
