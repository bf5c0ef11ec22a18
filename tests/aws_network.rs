//! The aws provider against the local AWS emulator: every resource type is
//! created, refreshed, planned with no changes, updated, replaced, drifted
//! and repaired, imported, destroyed, and seen gone from the emulator.

mod common;
use common::moto::{Moto, block};
use common::{Run, Workdir};

fn state_id(w: &Workdir, addr: &str) -> String {
    let state = w.state();
    let (name, _) = addr.rsplit_once('.').map(|(t, n)| (n, t)).unwrap_or((addr, ""));
    state["resources"]
        .as_array()
        .and_then(|rs| {
            rs.iter()
                .find(|r| format!("{}.{}", r["type"].as_str().unwrap_or(""), r["name"].as_str().unwrap_or("")) == addr)
        })
        .and_then(|r| r["instances"][0]["attributes"]["id"].as_str())
        .unwrap_or_else(|| panic!("{addr} ({name}) not in state"))
        .to_string()
}

/// Each expectation is a line of the plan with its runs of spaces squeezed
/// (attribute alignment depends on the longest name in the block).
fn expect_changes(r: &Run, what: &[&str]) {
    assert_eq!(r.code, 2, "expected changes:\n{}", r.all());
    let squeezed: Vec<String> = r.stdout.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    for w in what {
        assert!(squeezed.iter().any(|l| l.contains(w)), "missing {w:?} in:\n{}", r.stdout);
    }
}

fn no_changes(w: &Workdir) {
    let r = w.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "expected no changes:\n{}", r.all());
}

fn vpc_config(cidr: &str, name: &str, hostnames: bool) -> String {
    format!(
        r#"
[provider.aws]
region = "us-east-1"
[provider.aws.default_tags.tags]
Project = "ecspoc-test"

[resource.aws_vpc.main]
cidr_block = "{cidr}"
enable_dns_hostnames = {hostnames}
tags = {{ Name = "{name}" }}
"#
    )
}

#[test]
fn aws_vpc_full_lifecycle() {
    let moto = Moto::shared();
    let ec2 = moto.ec2();
    let w = Workdir::new(&[("main.toml", &vpc_config("10.11.0.0/16", "first", true))]).with_aws(moto);

    // Create: the object exists, with tags_all (default_tags) and ecspoc's marker.
    let plan = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &plan,
        &["+ cidr_block", "= \"10.11.0.0/16\"", "+ enable_dns_support = true", "Project = \"ecspoc-test\""],
    );
    w.ok(&["apply", "-auto-approve"]);
    let id = state_id(&w, "aws_vpc.main");
    let vpc = block(ec2.describe_vpcs().vpc_ids(&id).send()).expect("describe").vpcs()[0].clone();
    let tag = |k: &str| vpc.tags().iter().find(|t| t.key() == Some(k)).and_then(|t| t.value()).map(String::from);
    assert_eq!(tag("Name").as_deref(), Some("first"));
    assert_eq!(tag("Project").as_deref(), Some("ecspoc-test"));
    assert_eq!(tag("ecspoc:address").as_deref(), Some("aws_vpc.main"));
    let hostnames = block(
        ec2.describe_vpc_attribute()
            .vpc_id(&id)
            .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
            .send(),
    )
    .expect("attr");
    assert_eq!(hostnames.enable_dns_hostnames().and_then(|a| a.value()), Some(true));
    let state = w.state();
    assert!(
        state["resources"][0]["instances"][0]["attributes"]["main_route_table_id"]
            .as_str()
            .is_some_and(|s| s.starts_with("rtb-"))
    );

    // Refresh + no-change plan.
    no_changes(&w);

    // In-place update: a DNS attribute and a tag.
    w.write("main.toml", &vpc_config("10.11.0.0/16", "renamed", false));
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &["will be updated in-place", "~ enable_dns_hostnames = true -> false", "~ Name = \"first\" -> \"renamed\""],
    );
    w.ok(&["apply", "-auto-approve"]);
    assert_eq!(state_id(&w, "aws_vpc.main"), id, "updated in place");
    no_changes(&w);

    // Drift: a tag and a DNS setting changed outside ecspoc are shown and put back.
    block(
        ec2.create_tags()
            .resources(&id)
            .tags(aws_sdk_ec2::types::Tag::builder().key("Name").value("hand-edited").build())
            .send(),
    )
    .expect("tag");
    block(
        ec2.modify_vpc_attribute()
            .vpc_id(&id)
            .enable_dns_hostnames(aws_sdk_ec2::types::AttributeBooleanValue::builder().value(true).build())
            .send(),
    )
    .expect("modify");
    let drift = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &drift,
        &[
            "Objects have changed outside of ecspoc",
            "~ enable_dns_hostnames = true -> false",
            "\"hand-edited\" -> \"renamed\"",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);

    // Import: forget it, import it by id, and nothing is left to change.
    w.ok(&["state", "rm", "aws_vpc.main"]);
    w.ok(&["import", "aws_vpc.main", &id]);
    no_changes(&w);

    // Replacement: a new CIDR cannot be changed in place.
    w.write("main.toml", &vpc_config("10.12.0.0/16", "renamed", false));
    expect_changes(&w.run(&["plan", "-detailed-exitcode"]), &["must be replaced", "# forces replacement"]);
    w.ok(&["apply", "-auto-approve"]);
    let new_id = state_id(&w, "aws_vpc.main");
    assert_ne!(new_id, id);
    assert!(block(ec2.describe_vpcs().vpc_ids(&id).send()).is_err(), "the old VPC is gone");

    // Destroy: gone from the emulator.
    w.ok(&["destroy", "-auto-approve"]);
    assert!(block(ec2.describe_vpcs().vpc_ids(&new_id).send()).is_err(), "the VPC is gone");
    assert!(w.state_list().is_empty());
}
