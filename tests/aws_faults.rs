//! AWS fails: requests are throttled, answered with 500 or 503, or dropped,
//! before AWS acts or after (the answer lost). A fault proxy in front of the
//! emulator does that to a share of requests; ecspoc must converge without
//! making any object twice, and say clearly what failed when AWS keeps failing.

mod common;
use common::Workdir;
use common::fault_proxy::FaultProxy;
use common::moto::{Moto, block};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const NETWORK: &str = include_str!("../examples/network/main.toml");

/// examples/network, with its own CIDR and name so tests sharing the emulator
/// do not meet, and a retry budget of `max_retries`.
fn network(name: &str, cidr: &str, max_retries: Option<u32>) -> String {
    let retries = max_retries.map(|n| format!("\nmax_retries = {n}")).unwrap_or_default();
    NETWORK
        .replacen("region = \"us-east-1\"", &format!("region = \"us-east-1\"{retries}"), 1)
        .replacen("default = \"demo\"", &format!("default = \"{name}\""), 1)
        .replacen("default = \"10.60.0.0/16\"", &format!("default = \"{cidr}\""), 1)
}

/// Every object of this state's lineage in the emulator, counted by the
/// address its marker names: more than one for an address is a duplicate.
fn objects_by_marker(moto: &Moto, lineage: &str) -> BTreeMap<String, usize> {
    let ec2 = moto.ec2();
    let mut tag_sets: Vec<Vec<aws_sdk_ec2::types::Tag>> = Vec::new();
    let vpcs = block(ec2.describe_vpcs().send()).expect("vpcs");
    tag_sets.extend(vpcs.vpcs().iter().map(|x| x.tags().to_vec()));
    let subnets = block(ec2.describe_subnets().send()).expect("subnets");
    tag_sets.extend(subnets.subnets().iter().map(|x| x.tags().to_vec()));
    let igws = block(ec2.describe_internet_gateways().send()).expect("igws");
    tag_sets.extend(igws.internet_gateways().iter().map(|x| x.tags().to_vec()));
    let rts = block(ec2.describe_route_tables().send()).expect("route tables");
    tag_sets.extend(rts.route_tables().iter().map(|x| x.tags().to_vec()));
    let eips = block(ec2.describe_addresses().send()).expect("addresses");
    tag_sets.extend(eips.addresses().iter().map(|x| x.tags().to_vec()));
    let nats = block(ec2.describe_nat_gateways().send()).expect("nat gateways");
    tag_sets.extend(
        nats.nat_gateways()
            .iter()
            .filter(|n| n.state().is_some_and(|s| s.as_str() != "deleted"))
            .map(|x| x.tags().to_vec()),
    );
    let sgs = block(ec2.describe_security_groups().send()).expect("security groups");
    tag_sets.extend(sgs.security_groups().iter().map(|x| x.tags().to_vec()));
    let keys = block(ec2.describe_key_pairs().send()).expect("key pairs");
    tag_sets.extend(keys.key_pairs().iter().map(|x| x.tags().to_vec()));
    let instances = block(ec2.describe_instances().send()).expect("instances");
    for r in instances.reservations() {
        tag_sets.extend(
            r.instances()
                .iter()
                .filter(|i| i.state().and_then(|s| s.name()).is_some_and(|n| n.as_str() != "terminated"))
                .map(|x| x.tags().to_vec()),
        );
    }
    let mut out = BTreeMap::new();
    for tags in tag_sets {
        let get = |k: &str| tags.iter().find(|t| t.key() == Some(k)).and_then(|t| t.value()).map(String::from);
        if get("ecspoc:lineage").as_deref() == Some(lineage)
            && let Some(addr) = get("ecspoc:address")
        {
            *out.entry(addr).or_insert(0) += 1;
        }
    }
    out
}

fn lineage(w: &Workdir) -> String {
    w.state()["lineage"].as_str().expect("lineage").to_string()
}

fn assert_no_duplicates(moto: &Moto, w: &Workdir) -> BTreeMap<String, usize> {
    let found = objects_by_marker(moto, &lineage(w));
    let twice: Vec<_> = found.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "objects made more than once: {twice:?}");
    found
}

#[test]
fn thirty_percent_faults_converge_without_a_duplicate() {
    let moto = Moto::shared();
    let proxy = FaultProxy::start(&moto.endpoint, 0.3, 0x5eed_0030);
    let mut w = Workdir::new(&[("main.toml", &network("faults30", "10.70.0.0/16", None))]).with_aws(moto);
    w.env.push(("AWS_ENDPOINT_URL".into(), proxy.endpoint()));

    let started = Instant::now();
    let r = w.run(&["apply", "-auto-approve"]);
    eprintln!(
        "apply at 30% faults: {:?}, {} requests, faults {:?}",
        started.elapsed(),
        proxy.requests(),
        proxy.injected()
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(proxy.injected_total() > 10, "the proxy must really have failed requests");
    let found = assert_no_duplicates(moto, &w);
    let tagged = [
        "aws_vpc.",
        "aws_subnet.",
        "aws_internet_gateway.",
        "aws_route_table.",
        "aws_eip.",
        "aws_nat_gateway.",
        "aws_security_group.",
        "aws_key_pair.",
        "aws_instance.",
    ];
    let mut in_state: Vec<String> = w
        .state_list()
        .into_iter()
        .filter(|a| tagged.iter().any(|t| a.starts_with(t)))
        .map(|a| ecspoc_aws::marker_address(&a))
        .collect();
    in_state.sort();
    assert_eq!(found.keys().cloned().collect::<Vec<_>>(), in_state, "every tagged object in state, once");
    let plan = w.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 0, "converged, also read through faults:\n{}", plan.all());

    let r = w.run(&["destroy", "-auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(objects_by_marker(moto, &lineage(&w)).is_empty(), "destroy leaves nothing");
}

#[test]
fn faults_past_the_retry_budget_fail_clearly_keep_state_and_the_rerun_converges() {
    let moto = Moto::shared();
    let proxy = FaultProxy::start(&moto.endpoint, 0.0, 0x5eed_0100);
    let mut w = Workdir::new(&[("main.toml", &network("faults100", "10.71.0.0/16", Some(2)))]).with_aws(moto);
    w.env.push(("AWS_ENDPOINT_URL".into(), proxy.endpoint()));

    let child = w.spawn(&["apply", "-auto-approve"]);
    let start = Instant::now();
    while w.read("terraform.tfstate.journal").matches("\"op\":\"put\"").count() < 4 {
        assert!(start.elapsed() < Duration::from_secs(120), "the apply made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    proxy.set_rate(1.0);
    let out = child.wait_with_output().expect("apply");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // Each error names the object, the AWS operation and AWS's code.
    let first = stderr.split("\nError: ").nth(1).unwrap_or_default();
    assert!(first.contains("aws_"), "names the address: {stderr}");
    assert!(
        ["InternalError", "ServiceUnavailable", "RequestLimitExceeded", "DispatchFailure"]
            .iter()
            .any(|c| first.contains(c)),
        "names AWS's code: {stderr}"
    );
    assert!(
        regex::Regex::new(r"[A-Z][a-z]+[A-Z][A-Za-z]+: ").expect("re").is_match(first),
        "names the operation: {stderr}"
    );

    proxy.set_rate(0.0);
    let kept = w.state_list();
    assert!(kept.len() >= 4, "what was created before the faults is kept: {kept:?}");
    let r = w.run(&["apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_no_duplicates(moto, &w);
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0);
    assert_eq!(w.run(&["destroy", "-auto-approve"]).code, 0);
}

/// A benchmark, not a test (`scripts/bench` runs it): apply time of
/// examples/network through the proxy at several fault rates, in the standard
/// retry mode ecspoc uses and the adaptive one it used before.
#[test]
#[ignore = "a benchmark: run by scripts/bench"]
fn bench_apply_time_under_faults() {
    let moto = Moto::shared();
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    println!(
        "| retry mode | faults | apply wall time (each run, sorted) | requests | injected faults | API calls that were retries |"
    );
    println!("|---|---|---|---|---|---|");
    // One apply and destroy first, so the emulator's first-use costs are not in the figures.
    let warm = Workdir::new(&[("main.toml", &network("benchwarm", "10.79.0.0/16", None))]).with_aws(moto);
    assert_eq!(warm.run(&["apply", "-auto-approve"]).code, 0);
    assert_eq!(warm.run(&["destroy", "-auto-approve"]).code, 0);
    let cases = [("standard", 0.0), ("standard", 0.1), ("standard", 0.3), ("adaptive", 0.3)];
    for (i, (mode, rate)) in cases.iter().enumerate() {
        let mut times = Vec::new();
        let (mut requests, mut injected, mut calls) = (0, 0, 0);
        for run in 0..runs {
            let proxy = FaultProxy::start(&moto.endpoint, *rate, 0xbe00 + (i * 16 + run) as u64);
            let mut config = network(&format!("bench{i}x{run}"), &format!("10.{}.0.0/16", 80 + i * 4 + run), None);
            config = config.replacen(
                "region = \"us-east-1\"",
                &format!("region = \"us-east-1\"\nretry_mode = \"{mode}\""),
                1,
            );
            let mut w = Workdir::new(&[("main.toml", &config)]).with_aws(moto);
            w.env.push(("AWS_ENDPOINT_URL".into(), proxy.endpoint()));
            let started = Instant::now();
            let r = w.run(&["apply", "-auto-approve", "-json"]);
            times.push(started.elapsed());
            assert_eq!(r.code, 0, "{}", r.all());
            requests += proxy.requests();
            injected += proxy.injected_total();
            calls += api_calls(&r.stdout);
            proxy.set_rate(0.0);
            assert_eq!(w.run(&["destroy", "-auto-approve"]).code, 0);
        }
        times.sort();
        let each: Vec<String> = times.iter().map(|t| format!("{:.1} s", t.as_secs_f64())).collect();
        // Requests the proxy saw beyond the operations ecspoc made were retries.
        println!(
            "| {mode} | {:.0}% | {} | {} | {} | {} |",
            rate * 100.0,
            each.join(", "),
            requests / runs as u64,
            injected / runs as u64,
            requests.saturating_sub(calls) / runs as u64
        );
    }
}

/// The operations a run made, from its `-json` API-call log message.
fn api_calls(stream: &str) -> u64 {
    stream
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["type"] == "log" && m.get("api_calls").is_some())
        .filter_map(|m| m["total"].as_u64())
        .sum()
}
