//! The seed stack's environments (environments/*, modules/*) against the
//! local AWS emulator: dev and staging applied side by side in one account,
//! converging, independent, destroyed cleanly; and drift repaired.

mod common;
use common::moto::{Moto, block};
use common::{Run, Workdir, checkov, stack};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A copy of the repository's modules and the named environments.
fn state(w: &Workdir, env: &str) -> serde_json::Value {
    serde_json::from_str(&w.read(&format!("environments/{env}/terraform.tfstate"))).expect("state")
}

/// Every id and ARN of the managed objects in an environment's state.
fn physical_ids(state: &serde_json::Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in state["resources"].as_array().into_iter().flatten().filter(|r| r["mode"] == "managed") {
        for i in r["instances"].as_array().into_iter().flatten() {
            for k in ["id", "arn"] {
                if let Some(v) = i["attributes"][k].as_str() {
                    out.insert(v.to_string());
                }
            }
        }
    }
    out
}

/// (start, end) in microseconds of each resource applied, from a -json stream.
fn apply_intervals(run: &Run) -> BTreeMap<String, (i64, i64)> {
    let micros = |t: &str| -> i64 {
        // 2026-11-28T10:00:00.123456Z: seconds of the day are enough within one run.
        let time = t.split('T').nth(1).unwrap_or("").trim_end_matches('Z');
        let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
        let secs: i64 = hms.split(':').filter_map(|p| p.parse::<i64>().ok()).fold(0, |acc, p| acc * 60 + p);
        secs * 1_000_000 + format!("{frac:0<6}")[..6].parse::<i64>().unwrap_or(0)
    };
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for line in run.stdout.lines() {
        let Ok(j) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let (Some(kind), Some(addr), Some(t)) =
            (j["type"].as_str(), j["hook"]["resource"]["addr"].as_str(), j["@timestamp"].as_str())
        else {
            continue;
        };
        let e = out.entry(addr.to_string()).or_insert((i64::MAX, i64::MIN));
        match kind {
            "apply_start" => e.0 = micros(t),
            "apply_complete" => e.1 = micros(t),
            _ => {}
        }
    }
    out
}

fn module_of(addr: &str) -> &str {
    addr.strip_prefix("module.").and_then(|a| a.split('.').next()).unwrap_or("")
}

/// The most modules with a resource being applied at one moment.
fn max_modules_in_flight(intervals: &BTreeMap<String, (i64, i64)>) -> usize {
    intervals
        .iter()
        .map(|(_, (start, _))| {
            intervals
                .iter()
                .filter(|(_, (s, e))| s <= start && start < e)
                .map(|(a, _)| module_of(a))
                .collect::<BTreeSet<_>>()
                .len()
        })
        .max()
        .unwrap_or(0)
}

fn planned_addresses(r: &Run) -> Vec<String> {
    r.stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("# "))
        .filter(|l| l.contains(" will be ") || l.contains(" must be "))
        .filter_map(|l| l.split(' ').next().map(String::from))
        .collect()
}

fn converged(w: &Workdir, env: &str) {
    let r = w.run(&["-e", env, "plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "{env} did not converge:\n{}", r.all());
}

#[test]
fn dev_and_staging_live_side_by_side_in_one_account() {
    let moto = Moto::dedicated();
    let w = stack(&["dev", "staging"], &moto);

    // Both applied at once against one account.
    let dev = w.spawn(&["-e", "dev", "apply", "-auto-approve", "-json"]);
    let staging = w.spawn(&["-e", "staging", "apply", "-auto-approve", "-json"]);
    let (dev, staging) = (dev.wait_with_output().expect("dev"), staging.wait_with_output().expect("staging"));
    let (dev, staging) = (Run::from(dev), Run::from(staging));
    assert_eq!(dev.code, 0, "dev apply:\n{}", dev.all());
    assert_eq!(staging.code, 0, "staging apply:\n{}", staging.all());

    // Independent parts of the graph ran at the same time.
    let intervals = apply_intervals(&dev);
    assert!(intervals.len() > 80, "{} resources applied", intervals.len());
    let overlap = max_modules_in_flight(&intervals);
    assert!(overlap >= 3, "at most {overlap} modules had work in flight at once");

    // Both converge, and no physical name is shared.
    converged(&w, "dev");
    converged(&w, "staging");
    let (dev_ids, staging_ids) = (physical_ids(&state(&w, "dev")), physical_ids(&state(&w, "staging")));
    let shared: Vec<&String> = dev_ids.intersection(&staging_ids).collect();
    assert!(shared.is_empty(), "dev and staging share {shared:?}");

    // A service owner's change in staging plans that service's objects only.
    let file = "environments/staging/main.toml";
    let before = w.read(file);
    let changed = before.replace("php:8.3-apache", "php:8.4-apache");
    assert_ne!(changed, before);
    w.write(file, &changed);
    let plan = w.run(&["-e", "staging", "plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    let addrs = planned_addresses(&plan);
    assert!(!addrs.is_empty());
    assert!(addrs.iter().all(|a| a.starts_with(r#"module.service["php-hello"]."#)), "{addrs:?}");
    assert!(addrs.contains(&r#"module.service["php-hello"].aws_ecs_task_definition.app"#.to_string()), "{addrs:?}");
    w.write(file, &before);

    // Destroying staging leaves dev as it was.
    let r = w.run(&["-e", "staging", "destroy", "-auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    converged(&w, "dev");

    // Destroying dev leaves nothing behind.
    let r = w.run(&["-e", "dev", "destroy", "-auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    nothing_left(&moto);

    // Every request of both environments' lives held to AWS's published rules.
    let requests = moto.requests();
    let broken: Vec<String> = requests.iter().flat_map(|r| r.violations.iter().map(|v| v.to_string())).collect();
    assert!(requests.len() > 500, "the rules saw {} requests", requests.len());
    assert!(broken.is_empty(), "requests AWS would refuse: {broken:#?}");
}

/// API calls of a dev apply and destroy, as ecspoc counts them and as the
/// emulator's proxy saw them (run by scripts/bench; figures in BENCHMARKS.md).
#[test]
#[ignore = "a measurement: scripts/bench runs it"]
fn bench_api_calls_of_a_dev_apply_and_destroy() {
    let moto = Moto::dedicated();
    let w = stack(&["dev"], &moto);
    for (what, args) in [
        ("apply", ["-e", "dev", "apply", "-auto-approve", "-json"]),
        ("destroy", ["-e", "dev", "destroy", "-auto-approve", "-json"]),
    ] {
        let seen_before = moto.requests().len();
        let started = std::time::Instant::now();
        let r = w.run(&args);
        let took = started.elapsed();
        assert_eq!(r.code, 0, "{what}:\n{}", r.all());
        let log = r
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|m| m["provider"] == "aws" && m.get("api_calls").is_some())
            .unwrap_or_else(|| panic!("no API call report in:\n{}", r.stdout));
        let seen = &moto.requests()[seen_before..];
        let sdk_attempts = seen.iter().filter(|r| r.attempt > 1).count();
        let mut by_service: BTreeMap<&str, usize> = BTreeMap::new();
        for r in seen {
            *by_service.entry(r.service.as_str()).or_default() += 1;
        }
        eprintln!(
            "dev {what}: {:.1} s; ecspoc counted {} API calls and {} retries; the emulator's proxy saw {} requests ({} SDK re-attempts) by service {by_service:?}",
            took.as_secs_f64(),
            log["total"],
            log["retries_total"],
            seen.len(),
            sdk_attempts
        );
    }
}

/// The dev environment applied with the S3 backend (both lock kinds) on the
/// emulator: the backend's requests by operation, and the journal objects
/// the apply wrote (run by scripts/bench; figures in BENCHMARKS.md).
#[test]
#[ignore = "a measurement: scripts/bench runs it"]
fn bench_backend_requests_of_a_dev_apply_on_s3() {
    // The same apply with the local backend first, on an emulator of its own.
    let local_moto = Moto::dedicated();
    let local = stack(&["dev"], &local_moto);
    let started = std::time::Instant::now();
    local.ok(&["-e", "dev", "apply", "-auto-approve", "-json"]);
    let local_took = started.elapsed();

    let moto = Moto::dedicated();
    let st = common::s3_store::store_on(&moto, "dev-bench");
    let w = stack(&["dev"], &moto);
    let backend = st
        .backend_block(common::s3_store::Locks::Both, &moto.endpoint)
        .replace(common::s3_store::KEY, "environments/dev/terraform.tfstate");
    w.write("environments/dev/backend.toml", &backend);
    w.ok(&["-e", "dev", "init"]);
    let started = std::time::Instant::now();
    let r = w.run(&["-e", "dev", "apply", "-auto-approve", "-json"]);
    let took = started.elapsed();
    assert_eq!(r.code, 0, "{}", r.all());
    let log: Vec<serde_json::Value> = r.stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let report = |who: &str| log.iter().find(|m| m["provider"] == who && m.get("api_calls").is_some()).cloned();
    let backend = report("backend").expect("a backend request report");
    let aws = report("aws").expect("an aws call report");
    let stored = st.object("environments/dev/terraform.tfstate").expect("the state object");
    let state: serde_json::Value = serde_json::from_slice(&stored).expect("state JSON");
    let resources = state["resources"].as_array().map(|r| r.len()).unwrap_or(0);
    eprintln!(
        "dev apply on S3: {:.1} s (local backend: {:.1} s); {} resources in state ({} KiB); {} AWS API calls; {} backend requests {}",
        took.as_secs_f64(),
        local_took.as_secs_f64(),
        resources,
        stored.len() / 1024,
        aws["total"],
        backend["total"],
        backend["api_calls"]
    );
}

fn nothing_left(moto: &Moto) {
    let sdk = moto.sdk();
    let ec2 = moto.ec2();
    let vpcs = block(ec2.describe_vpcs().send()).expect("vpcs");
    assert!(vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)), "VPCs left: {:?}", vpcs.vpcs());
    let instances = block(ec2.describe_instances().send()).expect("instances");
    for i in instances.reservations().iter().flat_map(|r| r.instances()) {
        assert_eq!(
            i.state().and_then(|s| s.name()).map(|n| n.as_str()),
            Some("terminated"),
            "instance left: {:?}",
            i.instance_id()
        );
    }
    assert!(block(ec2.describe_addresses().send()).expect("eips").addresses().is_empty(), "addresses left");
    assert!(block(ec2.describe_key_pairs().send()).expect("keys").key_pairs().is_empty(), "key pairs left");
    assert!(
        block(ec2.describe_launch_templates().send()).expect("lts").launch_templates().is_empty(),
        "launch templates left"
    );
    let nats = block(ec2.describe_nat_gateways().send()).expect("nats");
    assert!(nats.nat_gateways().iter().all(|n| n.state().map(|s| s.as_str()) == Some("deleted")), "NAT gateways left");
    let sgs = block(ec2.describe_security_groups().send()).expect("sgs");
    assert!(sgs.security_groups().iter().all(|g| g.group_name() == Some("default")), "security groups left");

    let ecs = aws_sdk_ecs::Client::new(&sdk);
    let clusters = block(ecs.list_clusters().send()).expect("clusters");
    let described =
        block(ecs.describe_clusters().set_clusters(Some(clusters.cluster_arns().to_vec())).send()).expect("describe");
    assert!(described.clusters().iter().all(|c| c.status() == Some("INACTIVE")), "clusters left");
    let tds = block(ecs.list_task_definitions().status(aws_sdk_ecs::types::TaskDefinitionStatus::Active).send())
        .expect("tds");
    assert!(tds.task_definition_arns().is_empty(), "task definitions left: {:?}", tds.task_definition_arns());
    // The emulator cannot list capacity providers without names.
    let cps = block(
        ecs.describe_capacity_providers().capacity_providers("hosts-dev").capacity_providers("hosts-staging").send(),
    )
    .expect("capacity providers");
    assert!(
        cps.capacity_providers().iter().all(|c| c.status().is_some_and(|s| s.as_str() == "INACTIVE")),
        "capacity providers left"
    );

    let asg = aws_sdk_autoscaling::Client::new(&sdk);
    assert!(
        block(asg.describe_auto_scaling_groups().send()).expect("asgs").auto_scaling_groups().is_empty(),
        "ASGs left"
    );
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk);
    assert!(
        block(elb.describe_load_balancers().send()).expect("lbs").load_balancers().is_empty(),
        "load balancers left"
    );
    assert!(block(elb.describe_target_groups().send()).expect("tgs").target_groups().is_empty(), "target groups left");
    let iam = aws_sdk_iam::Client::new(&sdk);
    let roles = block(iam.list_roles().send()).expect("roles");
    assert!(
        roles.roles().is_empty(),
        "roles left: {:?}",
        roles.roles().iter().map(|r| r.role_name()).collect::<Vec<_>>()
    );
    assert!(
        block(iam.list_instance_profiles().send()).expect("profiles").instance_profiles().is_empty(),
        "instance profiles left"
    );
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    assert!(block(logs.describe_log_groups().send()).expect("groups").log_groups().is_empty(), "log groups left");
    let sns = aws_sdk_sns::Client::new(&sdk);
    assert!(block(sns.list_topics().send()).expect("topics").topics().is_empty(), "topics left");
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    assert!(block(events.list_rules().send()).expect("rules").rules().is_empty(), "rules left");
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    assert!(block(s3.list_buckets().send()).expect("buckets").buckets().is_empty(), "buckets left");
    let ecr = aws_sdk_ecr::Client::new(&sdk);
    assert!(block(ecr.describe_repositories().send()).expect("repos").repositories().is_empty(), "repositories left");
    let cb = aws_sdk_codebuild::Client::new(&sdk);
    assert!(block(cb.list_projects().send()).expect("projects").projects().is_empty(), "build projects left");
}

#[test]
fn drift_in_a_security_group_rule_and_a_route_is_shown_and_repaired() {
    let moto = Moto::dedicated();
    let ec2 = moto.ec2();
    let w = stack(&["dev"], &moto);
    // The first run of the environment through a saved plan, as CI does it.
    let r = w.run(&["-e", "dev", "plan", "-out=first.plan"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let shown = w.run(&["-e", "dev", "show", "-json", "first.plan"]);
    assert_eq!(shown.code, 0, "{}", shown.all());
    let doc: serde_json::Value = serde_json::from_str(&shown.stdout).expect("plan JSON");
    let calls = doc["configuration"]["root_module"]["module_calls"].as_object().expect("module calls");
    for m in ["network", "bastion", "cluster", "events", "service", "pipeline"] {
        assert!(calls[m]["module"]["resources"].as_array().is_some_and(|r| !r.is_empty()), "{m} in configuration");
    }
    let r = w.run(&["-e", "dev", "apply", "first.plan"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let st = state(&w, "dev");
    let attr = |module: &str, addr: &str, index: usize, key: &str| -> String {
        st["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| {
                r["module"] == module
                    && format!("{}.{}", r["type"].as_str().unwrap_or(""), r["name"].as_str().unwrap_or("")) == addr
            })
            .and_then(|r| r["instances"][index]["attributes"][key].as_str())
            .unwrap_or_else(|| panic!("{module}.{addr}[{index}].{key} not in state"))
            .to_string()
    };

    // By hand: the bastion's SSH rule opened to the world, a private default route deleted.
    let sg = attr("module.bastion", "aws_security_group.bastion", 0, "id");
    let ssh = |cidr: &str| {
        aws_sdk_ec2::types::IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(22)
            .to_port(22)
            .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip(cidr).description("SSH from ssh_from").build())
            .build()
    };
    block(ec2.revoke_security_group_ingress().group_id(&sg).ip_permissions(ssh("203.0.113.10/32")).send())
        .expect("revoke");
    block(ec2.authorize_security_group_ingress().group_id(&sg).ip_permissions(ssh("0.0.0.0/0")).send())
        .expect("authorize");
    let rtb = attr("module.network", "aws_route_table.private", 1, "id");
    block(ec2.delete_route().route_table_id(&rtb).destination_cidr_block("0.0.0.0/0").send()).expect("delete route");

    // The plan shows exactly those two, and apply puts them back.
    let plan = w.run(&["-e", "dev", "plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    let addrs = planned_addresses(&plan);
    assert_eq!(
        addrs,
        ["module.bastion.aws_security_group.bastion", "module.network.aws_route.private_default[1]"],
        "{}",
        plan.stdout
    );
    let squeezed: Vec<String> =
        plan.stdout.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    assert!(squeezed.iter().any(|l| l.contains("- \"0.0.0.0/0\"")), "{}", plan.stdout);
    assert!(squeezed.iter().any(|l| l.contains("+ \"203.0.113.10/32\"")), "{}", plan.stdout);
    assert!(plan.stdout.contains("Plan: 1 to add, 1 to change, 0 to destroy."), "{}", plan.stdout);
    let r = w.run(&["-e", "dev", "apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    converged(&w, "dev");
    let group = block(ec2.describe_security_groups().group_ids(&sg).send()).expect("sg");
    let cidrs: Vec<&str> = group.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| p.ip_ranges())
        .filter_map(|r| r.cidr_ip())
        .collect();
    assert_eq!(cidrs, ["203.0.113.10/32"]);
    let table = block(ec2.describe_route_tables().route_table_ids(&rtb).send()).expect("rtb");
    assert!(table.route_tables()[0].routes().iter().any(|r| r.destination_cidr_block() == Some("0.0.0.0/0")));
}

/// An environment's easy mistakes are caught at plan time: a CIDR that is not
/// a /16 is refused before any change, and SSH open to the world is warned about.
#[test]
fn environment_inputs_are_checked_and_risky_ones_warned_about() {
    let moto = Moto::dedicated();
    let w = stack(&["dev"], &moto);
    let file = "environments/dev/main.toml";
    let good = w.read(file);

    w.write(file, &good.replace("vpc_cidr = \"10.60.0.0/16\"", "vpc_cidr = \"10.60.0.0/24\""));
    let r = w.run(&["-e", "dev", "plan"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("vpc_cidr must be an IPv4 /16 block such as 10.60.0.0/16."), "{}", r.stderr);
    assert!(!w.file("environments/dev/terraform.tfstate").exists());

    w.write(file, &good.replace("ssh_from = \"203.0.113.10/32\"", "ssh_from = \"0.0.0.0/0\""));
    let r = w.run(&["-e", "dev", "plan"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let warning = r.all().lines().filter(|l| l.contains("0.0.0.0/0") && l.contains("22")).count();
    assert!(warning > 0, "no warning about SSH from anywhere:\n{}", r.all());
}

/// Every environment in the repository is a valid root module.
#[test]
fn every_environment_validates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut envs: Vec<String> = std::fs::read_dir(root.join("environments"))
        .expect("environments")
        .flatten()
        .map(|d| d.file_name().to_string_lossy().to_string())
        .collect();
    envs.sort();
    assert_eq!(envs, ["dev", "prod", "staging"]);
    let moto = Moto::shared();
    let refs: Vec<&str> = envs.iter().map(String::as_str).collect();
    let w = stack(&refs, moto);
    for e in &envs {
        let r = w.run(&["-e", e, "validate"]);
        assert_eq!(r.code, 0, "{e}:\n{}", r.all());
        assert!(r.stdout.contains("Success! The configuration is valid."), "{e}: {}", r.stdout);
    }
}

/// terraform-compliance (installed by scripts/install-terraform-compliance)
/// on the plan JSON written by `checkov`, with tests/fixtures/compliance.
fn terraform_compliance(w: &Workdir, what: &str) {
    let program = std::env::var("ECSPOC_TERRAFORM_COMPLIANCE").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/ecspoc/terraform-compliance-1.16.0/bin/terraform-compliance")
    });
    assert!(
        Path::new(&program).exists(),
        "terraform-compliance is not installed: run scripts/install-terraform-compliance"
    );
    let features = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compliance");
    let out = std::process::Command::new(&program)
        .args(["-p", "plan.json", "--no-ansi", "-f"])
        .arg(&features)
        .current_dir(w.path())
        .output()
        .expect("run terraform-compliance");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what}: terraform-compliance failed on ecspoc's plan JSON:\n{text}");
    assert!(!text.contains("Traceback") && !text.contains("ERROR"), "{what}: {text}");
    assert!(text.contains("3 scenarios") && !text.contains("failed"), "{what}: {text}");
}

/// Terraform's documented plan JSON (format 1.2): the sections every plan has,
/// and the keys of every resource change.
fn assert_terraform_plan_shape(doc: &serde_json::Value, what: &str) {
    for k in [
        "format_version",
        "terraform_version",
        "variables",
        "planned_values",
        "resource_changes",
        "output_changes",
        "prior_state",
        "configuration",
        "relevant_attributes",
        "timestamp",
        "applyable",
        "complete",
        "errored",
    ] {
        assert!(doc.get(k).is_some(), "{what}: plan JSON has no {k}");
    }
    for c in doc["resource_changes"].as_array().expect("resource_changes") {
        for k in ["address", "mode", "type", "name", "provider_name", "change"] {
            assert!(c.get(k).is_some(), "{what}: a resource change has no {k}: {c}");
        }
        for k in ["actions", "before", "after", "after_unknown", "before_sensitive", "after_sensitive"] {
            assert!(c["change"].get(k).is_some(), "{what}: {} change has no {k}", c["address"]);
        }
    }
}

/// The plan JSON of a saved plan of dev, checked by checkov: no check fails
/// to run, nothing fails to parse.
fn scan(w: &Workdir, args: &[&str], what: &str) -> serde_json::Value {
    let mut plan = vec!["-e", "dev", "plan", "-out=scan.plan"];
    plan.extend_from_slice(args);
    let r = w.run(&plan);
    assert!(r.code == 0, "{what}: {}", r.all());
    let shown = w.run(&["-e", "dev", "show", "-json", "scan.plan"]);
    assert_eq!(shown.code, 0, "{what}: {}", shown.all());
    let doc: serde_json::Value = serde_json::from_str(&shown.stdout).expect("plan JSON");
    assert_terraform_plan_shape(&doc, what);
    let (findings, stderr) = checkov(w, &shown.stdout);
    assert_eq!(findings["summary"]["parsing_errors"], 0, "{what}: {findings}");
    assert!(!stderr.contains("Failed to run check"), "{what}: a checkov check crashed on ecspoc's plan:\n{stderr}");
    terraform_compliance(w, what);
    findings
}

#[test]
fn policy_tools_read_every_kind_of_plan_of_dev_without_an_error() {
    let moto = Moto::dedicated();
    let w = stack(&["dev"], &moto);
    let created = scan(&w, &[], "create");
    // A check that follows references between resources: each artifact
    // bucket is found to have its public access block.
    let passed: Vec<String> = created["results"]["passed_checks"]
        .as_array()
        .expect("passed checks")
        .iter()
        .filter(|c| c["check_id"] == "CKV2_AWS_6")
        .map(|c| c["resource"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        passed.iter().any(|r| r.contains("php-hello")) && passed.iter().any(|r| r.contains("404")),
        "the public access block check passes for both artifact buckets: {passed:?}"
    );
    let r = w.run(&["-e", "dev", "apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // An update in place and a replacement: a new image for php-hello, a new retention for its logs.
    let main = w.read("environments/dev/main.toml");
    w.write(
        "environments/dev/main.toml",
        &main
            .replace("php:8.3-apache", "php:8.4-apache")
            .replace("[locals.services.php-hello]", "[locals.services.php-hello]\nlog_retention_days = 30"),
    );
    let changed = scan(&w, &[], "update and replace");
    assert!(changed["summary"]["resource_count"].as_u64().unwrap_or(0) > 0);
    // Drift: the bastion's SSH rule opened by hand.
    let sg = physical_ids(&state(&w, "dev")).into_iter().find(|i| i.starts_with("sg-"));
    if let Some(sg) = sg {
        let _ = block(
            moto.ec2()
                .authorize_security_group_ingress()
                .group_id(&sg)
                .ip_permissions(
                    aws_sdk_ec2::types::IpPermission::builder()
                        .ip_protocol("tcp")
                        .from_port(22)
                        .to_port(22)
                        .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip("0.0.0.0/0").build())
                        .build(),
                )
                .send(),
        );
    }
    scan(&w, &[], "drift");
    scan(&w, &["-destroy"], "destroy");
}

#[test]
fn an_environment_applied_before_services_were_one_for_each_block_moves_without_replacing_anything() {
    let moto = Moto::dedicated();
    let w = stack(&["dev"], &moto);
    let current = w.read("environments/dev/main.toml");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let before =
        std::fs::read_to_string(root.join("tests/fixtures/environments/dev-before-for-each.toml")).expect("fixture");
    w.write("environments/dev/main.toml", &before);
    let r = w.run(&["-e", "dev", "apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let ids = physical_ids(&state(&w, "dev"));

    // The moved blocks carry every object of the four calls to its new address.
    w.write("environments/dev/main.toml", &current);
    let plan = w.run(&["-e", "dev", "plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("Plan: 0 to add, 0 to change, 0 to destroy."), "{}", plan.stdout);
    assert!(
        plan.stdout.contains(r#"# module.service_php_hello.aws_ecs_service.app has moved to module.service["php-hello"].aws_ecs_service.app"#),
        "{}",
        plan.stdout
    );
    let r = w.run(&["-e", "dev", "apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(physical_ids(&state(&w, "dev")), ids, "the same objects");
    let r = w.run(&["-e", "dev", "plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}", r.all());
}
