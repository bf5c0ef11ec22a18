//! The aws provider against the local AWS emulator: every resource type is
//! created, refreshed, planned with no changes, updated, replaced, drifted
//! and repaired, imported, destroyed, and seen gone from the emulator.

mod common;
use common::moto::{Moto, block};
use common::{Workdir, expect_changes, expect_drift, no_changes, state_id};

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
        &["+ cidr_block", "= \"10.11.0.0/16\"", "+ enable_dns_support = true", "\"Project\" = \"ecspoc-test\""],
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
        &[
            "will be updated in-place",
            "~ enable_dns_hostnames = true -> false",
            "~ \"Name\" = \"first\" -> \"renamed\"",
        ],
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
    expect_drift(&w, &["Objects have changed outside of ecspoc", "~ enable_dns_hostnames = false -> true"]);
    let drift = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(&drift, &["~ enable_dns_hostnames = true -> false", "\"hand-edited\" -> \"renamed\""]);
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

fn network_config(private_cidr: &str, public_ip: bool, route_via_nat: bool, tag: &str) -> String {
    let target = if route_via_nat {
        "nat_gateway_id = \"${aws_nat_gateway.nat.id}\""
    } else {
        "gateway_id = \"${aws_internet_gateway.igw.id}\""
    };
    format!(
        r#"
[provider.aws]
region = "us-east-1"

[data.aws_availability_zones.available]
state = "available"

[resource.aws_vpc.net]
cidr_block = "10.20.0.0/16"

[resource.aws_subnet.public]
vpc_id = "${{aws_vpc.net.id}}"
cidr_block = "10.20.1.0/24"
availability_zone = "${{data.aws_availability_zones.available.names[0]}}"
map_public_ip_on_launch = {public_ip}
tags = {{ Name = "{tag}" }}

[resource.aws_subnet.private]
vpc_id = "${{aws_vpc.net.id}}"
cidr_block = "{private_cidr}"
availability_zone = "${{data.aws_availability_zones.available.names[1]}}"

[resource.aws_internet_gateway.igw]
vpc_id = "${{aws_vpc.net.id}}"
tags = {{ Name = "{tag}" }}

[resource.aws_route_table.public]
vpc_id = "${{aws_vpc.net.id}}"
tags = {{ Name = "{tag}" }}

[resource.aws_route.out]
route_table_id = "${{aws_route_table.public.id}}"
destination_cidr_block = "0.0.0.0/0"
{target}

[resource.aws_route_table_association.public]
subnet_id = "${{aws_subnet.public.id}}"
route_table_id = "${{aws_route_table.public.id}}"

[resource.aws_route_table_association.private]
subnet_id = "${{aws_subnet.private.id}}"
route_table_id = "${{aws_route_table.public.id}}"

[resource.aws_eip.nat]
domain = "vpc"
tags = {{ Name = "{tag}" }}

[resource.aws_nat_gateway.nat]
allocation_id = "${{aws_eip.nat.id}}"
subnet_id = "${{aws_subnet.public.id}}"
tags = {{ Name = "{tag}" }}
"#
    )
}

#[test]
fn network_resources_full_lifecycle() {
    let moto = Moto::shared();
    let ec2 = moto.ec2();
    let w = Workdir::new(&[("main.toml", &network_config("10.20.11.0/24", false, false, "one"))]).with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    let ids: Vec<(String, String)> = [
        "aws_vpc.net",
        "aws_subnet.public",
        "aws_internet_gateway.igw",
        "aws_route_table.public",
        "aws_route.out",
        "aws_route_table_association.public",
        "aws_eip.nat",
        "aws_nat_gateway.nat",
    ]
    .iter()
    .map(|a| (a.to_string(), state_id(&w, a)))
    .collect();
    let id = |a: &str| ids.iter().find(|(x, _)| x == a).map(|(_, i)| i.clone()).unwrap_or_default();
    assert!(
        id("aws_route.out").starts_with(&format!("r-{}", id("aws_route_table.public"))),
        "Terraform's route id form"
    );
    let subnet =
        block(ec2.describe_subnets().subnet_ids(id("aws_subnet.public")).send()).expect("subnet").subnets()[0].clone();
    assert_eq!(subnet.availability_zone(), Some("us-east-1a"));
    let igw = block(ec2.describe_internet_gateways().internet_gateway_ids(id("aws_internet_gateway.igw")).send())
        .expect("igw")
        .internet_gateways()[0]
        .clone();
    assert_eq!(igw.attachments()[0].vpc_id(), Some(id("aws_vpc.net").as_str()));
    let nat = block(ec2.describe_nat_gateways().nat_gateway_ids(id("aws_nat_gateway.nat")).send())
        .expect("nat")
        .nat_gateways()[0]
        .clone();
    assert_eq!(nat.nat_gateway_addresses()[0].allocation_id(), Some(id("aws_eip.nat").as_str()));
    no_changes(&w);

    // In place: tags everywhere, the subnet's public-IP setting, the route's target.
    w.write("main.toml", &network_config("10.20.11.0/24", true, true, "two"));
    let r = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(&r, &["~ map_public_ip_on_launch = false -> true", "Plan: 0 to add, 6 to change, 0 to destroy."]);
    w.ok(&["apply", "-auto-approve"]);
    let rt = block(ec2.describe_route_tables().route_table_ids(id("aws_route_table.public")).send())
        .expect("rt")
        .route_tables()[0]
        .clone();
    let default_route =
        rt.routes().iter().find(|r| r.destination_cidr_block() == Some("0.0.0.0/0")).expect("default route").clone();
    assert_eq!(default_route.nat_gateway_id(), Some(id("aws_nat_gateway.nat").as_str()));
    no_changes(&w);

    // Drift: the route deleted and the subnet setting flipped outside ecspoc.
    block(ec2.delete_route().route_table_id(id("aws_route_table.public")).destination_cidr_block("0.0.0.0/0").send())
        .expect("delete route");
    block(
        ec2.modify_subnet_attribute()
            .subnet_id(id("aws_subnet.public"))
            .map_public_ip_on_launch(aws_sdk_ec2::types::AttributeBooleanValue::builder().value(false).build())
            .send(),
    )
    .expect("modify subnet");
    let nat_name = aws_sdk_ec2::types::Tag::builder().key("Name").value("edited").build();
    block(ec2.create_tags().resources(id("aws_nat_gateway.nat")).tags(nat_name).send()).expect("tag nat");
    expect_drift(&w, &["# aws_route.out has been deleted"]);
    let drift = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &drift,
        &[
            "# aws_route.out will be created",
            "~ map_public_ip_on_launch = false -> true",
            "# aws_nat_gateway.nat will be updated in-place",
            "Plan: 1 to add, 2 to change, 0 to destroy.",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);

    // Import every object by Terraform's import id.
    let route_import = format!("{}_0.0.0.0/0", id("aws_route_table.public"));
    let assoc_import = format!("{}/{}", id("aws_subnet.public"), id("aws_route_table.public"));
    for (addr, import_id) in [
        ("aws_vpc.net", id("aws_vpc.net")),
        ("aws_subnet.public", id("aws_subnet.public")),
        ("aws_internet_gateway.igw", id("aws_internet_gateway.igw")),
        ("aws_route_table.public", id("aws_route_table.public")),
        ("aws_route.out", route_import),
        ("aws_route_table_association.public", assoc_import),
        ("aws_eip.nat", id("aws_eip.nat")),
        ("aws_nat_gateway.nat", id("aws_nat_gateway.nat")),
    ] {
        w.ok(&["state", "rm", addr]);
        w.ok(&["import", addr, &import_id]);
    }
    no_changes(&w);

    // Replacement: a new range replaces the subnet and its association. (The
    // public subnet would take the NAT gateway with it, and moto keeps a
    // deleted NAT gateway's address associated, unlike AWS; the engine's
    // ordering of such chains is tested without the emulator.)
    let old_private = state_id(&w, "aws_subnet.private");
    w.write("main.toml", &network_config("10.20.12.0/24", true, true, "two"));
    let r = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &r,
        &[
            "# aws_subnet.private must be replaced",
            "# aws_route_table_association.private must be replaced",
            "Plan: 2 to add, 0 to change, 2 to destroy.",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    assert!(block(ec2.describe_subnets().subnet_ids(&old_private).send()).is_err(), "the old subnet is gone");
    no_changes(&w);

    // Destroy: nothing left in the emulator.
    let last_vpc = state_id(&w, "aws_vpc.net");
    w.ok(&["destroy", "-auto-approve"]);
    assert!(block(ec2.describe_vpcs().vpc_ids(&last_vpc).send()).is_err());
    let left = block(
        ec2.describe_nat_gateways()
            .filter(aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(&last_vpc).build())
            .send(),
    )
    .expect("nat");
    assert!(left.nat_gateways().iter().all(|n| n.state() == Some(&aws_sdk_ec2::types::NatGatewayState::Deleted)));
    assert!(
        block(ec2.describe_addresses().allocation_ids(id("aws_eip.nat")).send()).is_err(),
        "the address is released"
    );
}

fn sg_config(ssh_from: &str, egress_ports: &[u16], rule_port: u16, description: &str) -> String {
    let egress: Vec<String> = egress_ports
        .iter()
        .map(|p| format!("{{ from_port = {p}, to_port = {p}, protocol = \"tcp\", cidr_blocks = [\"0.0.0.0/0\"], description = \"out {p}\" }}"))
        .collect();
    format!(
        r#"
[provider.aws]
region = "us-east-1"

[resource.aws_vpc.sg]
cidr_block = "10.30.0.0/16"

[resource.aws_security_group.bastion]
name = "bastion-test"
description = "bastion hosts"
vpc_id = "${{aws_vpc.sg.id}}"
ingress = [{{ from_port = 22, to_port = 22, protocol = "tcp", cidr_blocks = ["{ssh_from}"], description = "ssh" }}]
egress = [{egress}]

[resource.aws_security_group.hosts]
name = "hosts-test"
description = "{description}"
vpc_id = "${{aws_vpc.sg.id}}"

[resource.aws_vpc_security_group_ingress_rule.from_bastion]
security_group_id = "${{aws_security_group.hosts.id}}"
referenced_security_group_id = "${{aws_security_group.bastion.id}}"
ip_protocol = "tcp"
from_port = 22
to_port = 22

[resource.aws_vpc_security_group_ingress_rule.office]
security_group_id = "${{aws_security_group.hosts.id}}"
cidr_ipv4 = "198.51.100.0/24"
ip_protocol = "tcp"
from_port = {rule_port}
to_port = {rule_port}
description = "office"

[resource.aws_vpc_security_group_egress_rule.all]
security_group_id = "${{aws_security_group.hosts.id}}"
ip_protocol = "-1"
cidr_ipv4 = "0.0.0.0/0"
"#,
        egress = egress.join(", ")
    )
}

#[test]
fn security_groups_and_rules_full_lifecycle() {
    let moto = Moto::shared();
    let ec2 = moto.ec2();
    let w = Workdir::new(&[("main.toml", &sg_config("203.0.113.0/24", &[443], 22, "instances"))]).with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    let sg = state_id(&w, "aws_security_group.bastion");
    let group = block(ec2.describe_security_groups().group_ids(&sg).send()).expect("sg").security_groups()[0].clone();
    let egress_ports: Vec<Option<i32>> = group.ip_permissions_egress().iter().map(|p| p.from_port()).collect();
    assert_eq!(egress_ports, vec![Some(443)], "AWS's default allow-all egress was removed");
    assert_eq!(group.ip_permissions()[0].ip_ranges()[0].cidr_ip(), Some("203.0.113.0/24"));
    let rule_id = state_id(&w, "aws_vpc_security_group_ingress_rule.office");
    assert!(rule_id.starts_with("sgr-"), "{rule_id}");
    no_changes(&w);

    // SSH open to the world is planned, with a warning.
    w.write("main.toml", &sg_config("0.0.0.0/0", &[443], 22, "instances"));
    let r = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(&r, &["will be updated in-place"]);
    assert!(r.all().contains("allows SSH (tcp/22) from anywhere (0.0.0.0/0)"), "{}", r.all());

    // In place: a new egress rule, and the rule resource's port.
    w.write("main.toml", &sg_config("203.0.113.0/24", &[443, 80], 2222, "instances"));
    let r = w.run(&["plan", "-detailed-exitcode"]);
    // (moto's ModifySecurityGroupRules ignores referenced groups, so the rule
    // changed in place here is a CIDR rule.)
    expect_changes(
        &r,
        &[
            "# aws_security_group.bastion will be updated in-place",
            "# aws_vpc_security_group_ingress_rule.office will be updated in-place",
            "Plan: 0 to add, 2 to change, 0 to destroy.",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    assert_eq!(state_id(&w, "aws_vpc_security_group_ingress_rule.office"), rule_id, "updated in place");
    no_changes(&w);

    // Drift: the SSH rule revoked outside ecspoc comes back.
    let perm = aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip("203.0.113.0/24").description("ssh").build())
        .build();
    block(ec2.revoke_security_group_ingress().group_id(&sg).ip_permissions(perm).send()).expect("revoke");
    expect_drift(&w, &["Objects have changed outside of ecspoc", "# aws_security_group.bastion has changed"]);
    let drift = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(&drift, &["# aws_security_group.bastion will be updated in-place"]);
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);

    // Import both kinds.
    for (addr, import_id) in
        [("aws_security_group.bastion", sg.clone()), ("aws_vpc_security_group_ingress_rule.office", rule_id.clone())]
    {
        w.ok(&["state", "rm", addr]);
        w.ok(&["import", addr, &import_id]);
    }
    no_changes(&w);

    // Replacement: a group's description cannot change in place; its rules follow it.
    let hosts = state_id(&w, "aws_security_group.hosts");
    w.write("main.toml", &sg_config("203.0.113.0/24", &[443, 80], 2222, "container hosts"));
    let r = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &r,
        &[
            "# aws_security_group.hosts must be replaced",
            "# forces replacement",
            "# aws_vpc_security_group_ingress_rule.office must be replaced",
            "Plan: 4 to add, 0 to change, 4 to destroy.",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    assert!(block(ec2.describe_security_groups().group_ids(&hosts).send()).is_err(), "the old group is gone");
    no_changes(&w);

    w.ok(&["destroy", "-auto-approve"]);
    let new_sg = sg;
    assert!(block(ec2.describe_security_groups().group_ids(&new_sg).send()).is_err());
    assert!(w.state_list().is_empty());
}

const PUBLIC_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJIQI/QpJCpdSrdwxTZ+PxnEXIsUaeSnnnFKD02VatQT ecspoc-test";

fn bastion_config(instance_type: &str, name: &str, user_data: &str) -> String {
    format!(
        r#"
[provider.aws]
region = "us-east-1"

[data.aws_ssm_parameter.ecs_ami]
name = "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id"

[data.aws_caller_identity.me]
[data.aws_region.here]

[resource.aws_vpc.b]
cidr_block = "10.40.0.0/16"

[resource.aws_subnet.b]
vpc_id = "${{aws_vpc.b.id}}"
cidr_block = "10.40.1.0/24"

[resource.aws_key_pair.ops]
key_name = "ops-test"
public_key = "{PUBLIC_KEY}"

[resource.aws_instance.bastion]
ami = "${{data.aws_ssm_parameter.ecs_ami.insecure_value}}"
instance_type = "{instance_type}"
subnet_id = "${{aws_subnet.b.id}}"
key_name = "${{aws_key_pair.ops.key_name}}"
user_data = "{user_data}"
tags = {{ Name = "{name}", Account = "${{data.aws_caller_identity.me.account_id}}", Region = "${{data.aws_region.here.name}}" }}

[resource.aws_eip.bastion]
domain = "vpc"

[resource.aws_eip_association.bastion]
allocation_id = "${{aws_eip.bastion.id}}"
instance_id = "${{aws_instance.bastion.id}}"
"#
    )
}

#[test]
fn bastion_instance_key_pair_and_address_full_lifecycle() {
    let moto = Moto::shared();
    let ec2 = moto.ec2();
    let w = Workdir::new(&[("main.toml", &bastion_config("t3.micro", "bastion", "#!/bin/bash\\necho hello"))])
        .with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    let iid = state_id(&w, "aws_instance.bastion");
    let inst = block(ec2.describe_instances().instance_ids(&iid).send()).expect("instance").reservations()[0]
        .instances()[0]
        .clone();
    assert_eq!(inst.key_name(), Some("ops-test"));
    assert_eq!(inst.instance_type().map(|t| t.as_str()), Some("t3.micro"));
    let tag = |k: &str| inst.tags().iter().find(|t| t.key() == Some(k)).and_then(|t| t.value()).map(String::from);
    assert_eq!(tag("Account").as_deref(), Some("123456789012"), "data.aws_caller_identity");
    assert_eq!(tag("Region").as_deref(), Some("us-east-1"), "data.aws_region");
    let eip = state_id(&w, "aws_eip.bastion");
    let addr = block(ec2.describe_addresses().allocation_ids(&eip).send()).expect("eip").addresses()[0].clone();
    assert_eq!(addr.instance_id(), Some(iid.as_str()), "the address is associated");
    no_changes(&w);

    // In place: the type (stop, modify, start) and a tag.
    w.write("main.toml", &bastion_config("t3.small", "jump", "#!/bin/bash\\necho hello"));
    let r = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &r,
        &["~ instance_type = \"t3.micro\" -> \"t3.small\"", "Plan: 0 to add, 1 to change, 0 to destroy."],
    );
    w.ok(&["apply", "-auto-approve"]);
    assert_eq!(state_id(&w, "aws_instance.bastion"), iid);
    let inst = block(ec2.describe_instances().instance_ids(&iid).send()).expect("instance").reservations()[0]
        .instances()[0]
        .clone();
    assert_eq!(inst.instance_type().map(|t| t.as_str()), Some("t3.small"));
    no_changes(&w);

    // Drift: a tag removed by hand is put back.
    block(ec2.delete_tags().resources(&iid).tags(aws_sdk_ec2::types::Tag::builder().key("Name").build()).send())
        .expect("untag");
    expect_drift(&w, &["Objects have changed outside of ecspoc", "# aws_instance.bastion has changed"]);
    expect_changes(&w.run(&["plan", "-detailed-exitcode"]), &["+ \"Name\" = \"jump\""]);
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);

    // Import (instance user data is read back from EC2).
    for (addr, import_id) in [
        ("aws_instance.bastion", iid.clone()),
        ("aws_key_pair.ops", "ops-test".to_string()),
        ("aws_eip.bastion", eip.clone()),
        ("aws_eip_association.bastion", state_id(&w, "aws_eip_association.bastion")),
    ] {
        w.ok(&["state", "rm", addr]);
        w.ok(&["import", addr, &import_id]);
    }
    no_changes(&w);

    // Replacement: new user data replaces the instance; the association follows.
    w.write("main.toml", &bastion_config("t3.small", "jump", "#!/bin/bash\\necho changed"));
    let r = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &r,
        &[
            "# aws_instance.bastion must be replaced",
            "# aws_eip_association.bastion must be replaced",
            "- echo hello",
            "+ echo changed",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    let new_iid = state_id(&w, "aws_instance.bastion");
    assert_ne!(new_iid, iid);
    let old = block(ec2.describe_instances().instance_ids(&iid).send()).expect("old").reservations()[0].instances()[0]
        .clone();
    assert_eq!(old.state().and_then(|s| s.name()).map(|n| n.as_str()), Some("terminated"));
    no_changes(&w);

    w.ok(&["destroy", "-auto-approve"]);
    let gone = block(ec2.describe_instances().instance_ids(&new_iid).send()).expect("describe").reservations()[0]
        .instances()[0]
        .clone();
    assert_eq!(gone.state().and_then(|s| s.name()).map(|n| n.as_str()), Some("terminated"));
    assert!(block(ec2.describe_key_pairs().key_names("ops-test").send()).is_err(), "the key pair is gone");
    assert!(w.state_list().iter().all(|a| a.starts_with("data.")), "{:?}", w.state_list());
}

/// The network and bastion of the seed stack: a no-change plan reads every
/// object with fewer AWS API calls than there are resources (reads of one
/// type are batched into one call where the API takes many ids).
#[test]
fn a_no_change_plan_of_network_and_bastion_makes_fewer_api_calls_than_resources() {
    let moto = Moto::shared();
    let config =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/network_bastion/main.toml"))
            .expect("fixture");
    let w = Workdir::new(&[("main.toml", &config)]).with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    let resources = w.state_list().iter().filter(|a| !a.starts_with("data.")).count();
    let r = w.run(&["plan", "-json", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let log = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "log" && v["provider"] == "aws")
        .expect("an api_calls log message");
    let total = log["total"].as_u64().expect("total");
    eprintln!("no-change plan of {resources} resources: {total} AWS API calls: {}", log["api_calls"]);
    assert!(total < resources as u64, "{total} calls for {resources} resources: {}", log["api_calls"]);
    assert_eq!(log["api_calls"]["EC2.DescribeSubnets"], 1, "four subnets in two blocks, one call");
    w.ok(&["destroy", "-auto-approve"]);
}

/// A VPC created just before ecspoc died (the create answered, the journal
/// had only the intent) is found by its marker tags and adopted, not duplicated.
#[test]
fn an_object_created_just_before_a_crash_is_adopted_by_its_marker() {
    let moto = Moto::shared();
    let ec2 = moto.ec2();
    let lineage = "5a1e7c2d-0000-4000-8000-00000000ad0b";
    let config =
        "[provider.aws]\nregion = \"us-east-1\"\n\n[resource.aws_vpc.adopted]\ncidr_block = \"10.50.0.0/16\"\n";
    let journal = format!(
        "{{\"op\":\"begin\",\"lineage\":\"{lineage}\"}}\n{{\"op\":\"intent\",\"addr\":\"aws_vpc.adopted\",\"marker\":{{\"address\":\"aws_vpc.adopted\",\"lineage\":\"{lineage}\"}}}}\n"
    );
    let w = Workdir::new(&[("main.toml", config), ("terraform.tfstate.journal", &journal)]).with_aws(moto);
    let tag = |k: &str, v: &str| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build();
    let spec = aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(aws_sdk_ec2::types::ResourceType::Vpc)
        .tags(tag("ecspoc:address", "aws_vpc.adopted"))
        .tags(tag("ecspoc:lineage", lineage))
        .build();
    let made = block(ec2.create_vpc().cidr_block("10.50.0.0/16").tag_specifications(spec).send()).expect("create");
    let vpc_id = made.vpc().and_then(|v| v.vpc_id()).expect("id").to_string();

    let plan = w.ok(&["plan"]).stdout;
    assert!(plan.contains("# aws_vpc.adopted will be recorded in state"), "{plan}");
    assert!(plan.contains("found by its ecspoc marker"), "{plan}");
    w.ok(&["apply", "-auto-approve"]);
    assert_eq!(state_id(&w, "aws_vpc.adopted"), vpc_id, "the existing VPC, not a new one");
    let marked = block(
        ec2.describe_vpcs()
            .filters(aws_sdk_ec2::types::Filter::builder().name("tag:ecspoc:lineage").values(lineage).build())
            .send(),
    )
    .expect("describe");
    assert_eq!(marked.vpcs().len(), 1, "no duplicate");
    no_changes(&w);
    w.ok(&["destroy", "-auto-approve"]);
}

/// aws_internet_gateway_attachment and data.aws_ami, which the other
/// lifecycles do not use.
#[test]
fn gateway_attachment_and_ami_lookup() {
    let moto = Moto::shared();
    let ec2 = moto.ec2();
    let config = |attach: bool| {
        let attachment = if attach {
            "[resource.aws_internet_gateway_attachment.a]\ninternet_gateway_id = \"${aws_internet_gateway.g.id}\"\nvpc_id = \"${aws_vpc.v.id}\"\n"
        } else {
            ""
        };
        format!(
            "[provider.aws]\nregion = \"us-east-1\"\n\n[data.aws_ami.ecs]\nowners = [\"amazon\"]\nmost_recent = true\nname_regex = \"amzn\"\n\n[resource.aws_vpc.v]\ncidr_block = \"10.70.0.0/16\"\ntags = {{ Image = \"${{data.aws_ami.ecs.id}}\" }}\n\n[resource.aws_internet_gateway.g]\n\n{attachment}"
        )
    };
    let w = Workdir::new(&[("main.toml", &config(true))]).with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    let vpc = state_id(&w, "aws_vpc.v");
    let gw = state_id(&w, "aws_internet_gateway.g");
    assert_eq!(state_id(&w, "aws_internet_gateway_attachment.a"), format!("{gw}:{vpc}"));
    let image = w.ok(&["state", "show", "data.aws_ami.ecs"]).stdout;
    assert!(image.contains("image_id") && image.contains("ami-"), "{image}");
    let g = block(ec2.describe_internet_gateways().internet_gateway_ids(&gw).send()).expect("igw").internet_gateways()
        [0]
    .clone();
    assert_eq!(g.attachments()[0].vpc_id(), Some(vpc.as_str()));
    no_changes(&w);

    // Drift: detached by hand, planned back.
    block(ec2.detach_internet_gateway().internet_gateway_id(&gw).vpc_id(&vpc).send()).expect("detach");
    expect_drift(&w, &["# aws_internet_gateway_attachment.a has been deleted"]);
    expect_changes(&w.run(&["plan", "-detailed-exitcode"]), &["# aws_internet_gateway_attachment.a will be created"]);
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);

    // Import by IGW_ID:VPC_ID, then destroy just the attachment.
    w.ok(&["state", "rm", "aws_internet_gateway_attachment.a"]);
    w.ok(&["import", "aws_internet_gateway_attachment.a", &format!("{gw}:{vpc}")]);
    no_changes(&w);
    w.write("main.toml", &config(false));
    expect_changes(&w.run(&["plan", "-detailed-exitcode"]), &["# aws_internet_gateway_attachment.a will be destroyed"]);
    w.ok(&["apply", "-auto-approve"]);
    let g = block(ec2.describe_internet_gateways().internet_gateway_ids(&gw).send()).expect("igw").internet_gateways()
        [0]
    .clone();
    assert!(g.attachments().is_empty(), "detached");
    w.ok(&["destroy", "-auto-approve"]);
}

const SECOND_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGdKXVvYdxLZ3y8wQDfbqMhE7n9pVr0N4d2hDOZy7Xq8 ecspoc-test-2";

fn remaining_config(vpc: &str, dest: &str, table: &str, key: &str, key_tag: &str) -> String {
    format!(
        r#"
[provider.aws]
region = "us-east-1"

[resource.aws_vpc.one]
cidr_block = "10.80.0.0/16"
[resource.aws_vpc.two]
cidr_block = "10.81.0.0/16"

[resource.aws_subnet.s]
vpc_id = "${{aws_vpc.one.id}}"
cidr_block = "10.80.1.0/24"

[resource.aws_internet_gateway.g]
vpc_id = "${{aws_vpc.one.id}}"
tags = {{ Name = "g" }}

[resource.aws_route_table.a]
vpc_id = "${{aws_vpc.{vpc}.id}}"
tags = {{ Name = "a" }}
[resource.aws_route_table.b]
vpc_id = "${{aws_vpc.one.id}}"

[resource.aws_route.r]
route_table_id = "${{aws_route_table.b.id}}"
destination_cidr_block = "{dest}"
gateway_id = "${{aws_internet_gateway.g.id}}"

[resource.aws_route_table_association.s]
subnet_id = "${{aws_subnet.s.id}}"
route_table_id = "${{aws_route_table.{table}.id}}"

[resource.aws_key_pair.k]
key_name = "remaining-test"
public_key = "{key}"
tags = {{ Team = "{key_tag}" }}

[resource.aws_eip.e]
domain = "vpc"
tags = {{ Name = "e" }}

[resource.aws_security_group.sg]
name = "remaining-test"
vpc_id = "${{aws_vpc.one.id}}"

[resource.aws_vpc_security_group_ingress_rule.https]
security_group_id = "${{aws_security_group.sg.id}}"
cidr_ipv4 = "10.0.0.0/8"
ip_protocol = "tcp"
from_port = 443
to_port = 443
"#
    )
}

/// The lifecycle steps the other tests leave out: route table drift and
/// replacement, route replacement, association update, EIP drift, key pair
/// update and replacement, security group rule drift.
#[test]
fn remaining_lifecycle_steps() {
    let moto = Moto::shared();
    let ec2 = moto.ec2();
    let w =
        Workdir::new(&[("main.toml", &remaining_config("one", "0.0.0.0/0", "b", PUBLIC_KEY, "ops"))]).with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);
    let rt_a = state_id(&w, "aws_route_table.a");
    let eip = state_id(&w, "aws_eip.e");
    let rule = state_id(&w, "aws_vpc_security_group_ingress_rule.https");
    let assoc = state_id(&w, "aws_route_table_association.s");

    // Drift on a route table's and an EIP's tags, and a rule revoked by hand.
    let name_tag = |v: &str| aws_sdk_ec2::types::Tag::builder().key("Name").value(v).build();
    block(ec2.create_tags().resources(&rt_a).tags(name_tag("edited")).send()).expect("tag rt");
    block(ec2.create_tags().resources(&eip).tags(name_tag("edited")).send()).expect("tag eip");
    block(ec2.create_tags().resources(state_id(&w, "aws_internet_gateway.g")).tags(name_tag("edited")).send())
        .expect("tag igw");
    let state = w.state();
    let key_pair_id = state["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["type"] == "aws_key_pair"))
        .and_then(|r| r["instances"][0]["attributes"]["key_pair_id"].as_str())
        .expect("key pair id")
        .to_string();
    block(
        ec2.delete_tags().resources(&key_pair_id).tags(aws_sdk_ec2::types::Tag::builder().key("Team").build()).send(),
    )
    .expect("untag key");
    let sg = state_id(&w, "aws_security_group.sg");
    block(ec2.revoke_security_group_ingress().group_id(&sg).security_group_rule_ids(&rule).send()).expect("revoke");
    expect_drift(&w, &["# aws_vpc_security_group_ingress_rule.https has been deleted"]);
    let drift = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &drift,
        &[
            "# aws_route_table.a will be updated in-place",
            "# aws_eip.e will be updated in-place",
            "# aws_internet_gateway.g will be updated in-place",
            "# aws_key_pair.k will be updated in-place",
            "# aws_vpc_security_group_ingress_rule.https will be created",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);

    // In place: the association moves to another table; the key pair's tags change.
    w.write("main.toml", &remaining_config("one", "0.0.0.0/0", "a", PUBLIC_KEY, "platform"));
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &[
            "# aws_route_table_association.s will be updated in-place",
            "# aws_key_pair.k will be updated in-place",
            "Plan: 0 to add, 2 to change, 0 to destroy.",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    let new_assoc = state_id(&w, "aws_route_table_association.s");
    let rt = block(ec2.describe_route_tables().route_table_ids(&rt_a).send()).expect("rt").route_tables()[0].clone();
    assert!(
        rt.associations().iter().any(|a| a.route_table_association_id() == Some(new_assoc.as_str())),
        "now on table a"
    );
    assert_ne!(new_assoc, assoc, "AWS gives a replaced association a new id");
    no_changes(&w);

    // Replacements: a table in another VPC, a route to another destination, a new public key.
    w.write("main.toml", &remaining_config("two", "192.0.2.0/24", "a", SECOND_KEY, "platform"));
    let r = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &r,
        &[
            "# aws_route_table.a must be replaced",
            "# aws_route.r must be replaced",
            "# aws_key_pair.k must be replaced",
            "# forces replacement",
        ],
    );
    // The association pointed at table a, which moves to another VPC: it follows, as AWS requires.
    w.write("main.toml", &remaining_config("two", "192.0.2.0/24", "b", SECOND_KEY, "platform"));
    w.ok(&["apply", "-auto-approve"]);
    assert!(block(ec2.describe_route_tables().route_table_ids(&rt_a).send()).is_err(), "the old table is gone");
    let key = block(ec2.describe_key_pairs().key_names("remaining-test").include_public_key(true).send())
        .expect("key")
        .key_pairs()[0]
        .clone();
    assert!(key.public_key().is_some_and(|k| k.contains("AAAAIGdKXVvY")), "the new key");
    no_changes(&w);
    w.ok(&["destroy", "-auto-approve"]);
    assert!(block(ec2.describe_addresses().allocation_ids(&eip).send()).is_err());
}

fn dynamic_config(ports: &[u16]) -> String {
    let ports: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
    format!(
        r#"
[provider.aws]
region = "us-east-1"

[variable.ports]
type = "list(number)"
default = [{ports}]

[resource.aws_vpc.main]
cidr_block = "10.77.0.0/16"

[resource.aws_security_group.web]
name = "dynamic-web"
description = "ports from a variable"
vpc_id = "${{aws_vpc.main.id}}"
egress = [{{ from_port = 443, to_port = 443, protocol = "tcp", cidr_blocks = ["0.0.0.0/0"], ipv6_cidr_blocks = [], prefix_list_ids = [], security_groups = [], self = false, description = "written" }}]

[resource.aws_security_group.web.dynamic.ingress]
for_each = "${{var.ports}}"
iterator = "port"
content = {{ from_port = "${{port.value}}", to_port = "${{port.value}}", protocol = "tcp", cidr_blocks = ["${{aws_vpc.main.cidr_block}}"], ipv6_cidr_blocks = [], prefix_list_ids = [], security_groups = [], self = false, description = "port ${{port.key}}" }}

[resource.aws_security_group.web.dynamic.egress]
for_each = "${{var.ports}}"
content = {{ from_port = "${{egress.value}}", to_port = "${{egress.value}}", protocol = "tcp", cidr_blocks = ["10.0.0.0/8"], ipv6_cidr_blocks = [], prefix_list_ids = [], security_groups = [], self = false, description = "dynamic" }}
"#,
        ports = ports.join(", ")
    )
}

/// `dynamic` blocks as Terraform's JSON syntax writes them: one block per
/// element (the iterator named or the block's own name), after the blocks
/// written beside them, none for an empty collection.
#[test]
fn dynamic_blocks_make_one_block_per_element() {
    let moto = Moto::shared();
    let ec2 = moto.ec2();
    let w = Workdir::new(&[("main.toml", &dynamic_config(&[80, 8080]))]).with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    let sg = state_id(&w, "aws_security_group.web");
    let group = block(ec2.describe_security_groups().group_ids(&sg).send()).expect("sg").security_groups()[0].clone();
    let mut ingress: Vec<(i32, String)> = group
        .ip_permissions()
        .iter()
        .map(|p| (p.from_port().unwrap_or(-1), p.ip_ranges()[0].description().unwrap_or("").to_string()))
        .collect();
    ingress.sort();
    assert_eq!(ingress, vec![(80, "port 0".to_string()), (8080, "port 1".to_string())]);
    let mut egress: Vec<i32> = group.ip_permissions_egress().iter().map(|p| p.from_port().unwrap_or(-1)).collect();
    egress.sort();
    assert_eq!(egress, vec![80, 443, 8080], "the written block and the dynamic ones");
    no_changes(&w);

    w.write("main.toml", &dynamic_config(&[]));
    expect_changes(&w.run(&["plan", "-detailed-exitcode"]), &["# aws_security_group.web will be updated in-place"]);
    w.ok(&["apply", "-auto-approve"]);
    let group = block(ec2.describe_security_groups().group_ids(&sg).send()).expect("sg").security_groups()[0].clone();
    assert!(group.ip_permissions().is_empty(), "{:?}", group.ip_permissions());
    assert_eq!(group.ip_permissions_egress().len(), 1);
    no_changes(&w);
    w.ok(&["destroy", "-auto-approve"]);
}

/// `ignore_tags` as the AWS provider reads it: tags with those keys or
/// prefixes, set by anyone else, are neither shown, nor drift, nor removed.
#[test]
fn ignored_tags_are_neither_drift_nor_removed() {
    let moto = Moto::shared();
    let ec2 = moto.ec2();
    let config = |name: &str| {
        format!(
            r#"
[provider.aws]
region = "us-east-1"
[provider.aws.ignore_tags]
keys = ["CostCenter"]
key_prefixes = ["team:"]

[resource.aws_vpc.main]
cidr_block = "10.78.0.0/16"
tags = {{ Name = "{name}" }}
"#
        )
    };
    let w = Workdir::new(&[("main.toml", &config("ignore-tags"))]).with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    let vpc = state_id(&w, "aws_vpc.main");
    let tag = |k: &str, v: &str| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build();
    block(ec2.create_tags().resources(&vpc).tags(tag("CostCenter", "42")).tags(tag("team:owner", "web")).send())
        .expect("tags by hand");
    no_changes(&w);
    let shown = w.ok(&["state", "show", "aws_vpc.main"]).stdout;
    assert!(!shown.contains("CostCenter") && !shown.contains("team:owner"), "{shown}");

    w.write("main.toml", &config("ignore-tags-2"));
    w.ok(&["apply", "-auto-approve"]);
    let d = block(ec2.describe_vpcs().vpc_ids(&vpc).send()).expect("vpc");
    let keys: Vec<&str> = d.vpcs()[0].tags().iter().filter_map(|t| t.key()).collect();
    for k in ["CostCenter", "team:owner", "Name", "ecspoc:address"] {
        assert!(keys.contains(&k), "{k} kept: {keys:?}");
    }
    no_changes(&w);
    w.ok(&["destroy", "-auto-approve"]);
}
