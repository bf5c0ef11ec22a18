//! aws_security_group (with inline ingress/egress blocks) and the one-rule
//! resources aws_vpc_security_group_ingress_rule / _egress_rule.

use super::ec2util::{batched, carries, done_already, gone_is_fine, marker_filters, sync_tags};
use crate::error::{api, is_not_found};
use crate::tags;
use crate::values::{b, id, obj, opt_str, req, s, strings};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, ResourceType as Rt, SecurityGroup, UserIdGroupPair};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

pub struct AwsSecurityGroup;
pub struct AwsSecurityGroupRule {
    pub egress: bool,
}

fn rule_type() -> T {
    let list = || T::List(Box::new(T::String));
    T::Set(Box::new(T::Object(
        [
            ("from_port", (T::Number, false)),
            ("to_port", (T::Number, false)),
            ("protocol", (T::String, false)),
            ("cidr_blocks", (list(), true)),
            ("ipv6_cidr_blocks", (list(), true)),
            ("security_groups", (super::common::string_set(), true)),
            ("prefix_list_ids", (list(), true)),
            ("self", (T::Bool, true)),
            ("description", (T::String, true)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    )))
}

/// "tcp"/"6", "udp"/"17", "icmp"/"1", "-1"/"all" as AWS names them.
fn protocol(p: &str) -> String {
    match p.to_ascii_lowercase().as_str() {
        "6" | "tcp" => "tcp".into(),
        "17" | "udp" => "udp".into(),
        "1" | "icmp" => "icmp".into(),
        "-1" | "all" => "-1".into(),
        other => other.into(),
    }
}

/// A rule in one canonical form, so config and AWS compare equal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rule {
    protocol: String,
    from: i64,
    to: i64,
    description: String,
    cidrs: Vec<String>,
    ipv6: Vec<String>,
    groups: Vec<String>,
    prefix_lists: Vec<String>,
    self_: bool,
}

impl Rule {
    fn from_value(v: &Value) -> Rule {
        let sorted = |k: &str| {
            let mut x = strings(v, k);
            x.sort();
            x
        };
        let proto = protocol(s(v, "protocol").unwrap_or("-1"));
        let all = proto == "-1";
        Rule {
            from: if all { 0 } else { v.get("from_port").and_then(Value::as_number).unwrap_or(0.0) as i64 },
            to: if all { 0 } else { v.get("to_port").and_then(Value::as_number).unwrap_or(0.0) as i64 },
            protocol: proto,
            description: s(v, "description").unwrap_or("").to_string(),
            cidrs: sorted("cidr_blocks"),
            ipv6: sorted("ipv6_cidr_blocks"),
            groups: sorted("security_groups"),
            prefix_lists: sorted("prefix_list_ids"),
            self_: b(v, "self").unwrap_or(false),
        }
    }

    fn to_value(&self) -> Value {
        let list = |x: &[String]| Value::List(x.iter().map(Value::str).collect());
        obj(vec![
            ("from_port", Value::Number(self.from as f64)),
            ("to_port", Value::Number(self.to as f64)),
            ("protocol", Value::str(&self.protocol)),
            ("cidr_blocks", list(&self.cidrs)),
            ("ipv6_cidr_blocks", list(&self.ipv6)),
            ("security_groups", list(&self.groups)),
            ("prefix_list_ids", list(&self.prefix_lists)),
            ("self", Value::Bool(self.self_)),
            ("description", Value::str(&self.description)),
        ])
    }

    fn permission(&self, own_group: &str) -> IpPermission {
        let desc = (!self.description.is_empty()).then(|| self.description.clone());
        let mut groups: Vec<UserIdGroupPair> = self
            .groups
            .iter()
            .map(|g| UserIdGroupPair::builder().group_id(g).set_description(desc.clone()).build())
            .collect();
        if self.self_ {
            groups.push(UserIdGroupPair::builder().group_id(own_group).set_description(desc.clone()).build());
        }
        IpPermission::builder()
            .ip_protocol(&self.protocol)
            .set_from_port((self.protocol != "-1").then_some(self.from as i32))
            .set_to_port((self.protocol != "-1").then_some(self.to as i32))
            .set_ip_ranges(Some(
                self.cidrs
                    .iter()
                    .map(|c| IpRange::builder().cidr_ip(c).set_description(desc.clone()).build())
                    .collect(),
            ))
            .set_ipv6_ranges(Some(
                self.ipv6
                    .iter()
                    .map(|c| Ipv6Range::builder().cidr_ipv6(c).set_description(desc.clone()).build())
                    .collect(),
            ))
            .set_user_id_group_pairs(Some(groups))
            .build()
    }
}

/// AWS groups a rule's sources per (protocol, ports); a description belongs
/// to each source. Rules are regrouped per description to match the config.
fn rules_from_permissions(perms: &[IpPermission], own_group: &str) -> Vec<Rule> {
    let mut out: BTreeMap<RuleKey, Rule> = BTreeMap::new();
    for p in perms {
        let proto = protocol(p.ip_protocol().unwrap_or("-1"));
        let (from, to) =
            if proto == "-1" { (0, 0) } else { (p.from_port().unwrap_or(0) as i64, p.to_port().unwrap_or(0) as i64) };
        rules_push(&mut out, &proto, from, to, p, own_group);
    }
    let mut rules: Vec<Rule> = out.into_values().collect();
    for r in rules.iter_mut() {
        r.cidrs.sort();
        r.ipv6.sort();
        r.groups.sort();
        r.prefix_lists.sort();
    }
    rules.sort();
    rules
}

type RuleKey = (String, i64, i64, String);

/// The rule for one (protocol, ports, description), made on first use.
fn rule_for<'a>(
    out: &'a mut BTreeMap<RuleKey, Rule>,
    proto: &str,
    from: i64,
    to: i64,
    desc: Option<&str>,
) -> &'a mut Rule {
    let d = desc.unwrap_or("").to_string();
    out.entry((proto.to_string(), from, to, d.clone())).or_insert_with(|| Rule {
        protocol: proto.to_string(),
        from,
        to,
        description: d,
        cidrs: vec![],
        ipv6: vec![],
        groups: vec![],
        prefix_lists: vec![],
        self_: false,
    })
}

fn rules_push(out: &mut BTreeMap<RuleKey, Rule>, proto: &str, from: i64, to: i64, p: &IpPermission, own_group: &str) {
    for r in p.ip_ranges() {
        if let Some(c) = r.cidr_ip() {
            rule_for(out, proto, from, to, r.description()).cidrs.push(c.to_string());
        }
    }
    for r in p.ipv6_ranges() {
        if let Some(c) = r.cidr_ipv6() {
            rule_for(out, proto, from, to, r.description()).ipv6.push(c.to_string());
        }
    }
    for g in p.user_id_group_pairs() {
        match g.group_id() {
            Some(gid) if gid == own_group => rule_for(out, proto, from, to, g.description()).self_ = true,
            Some(gid) => rule_for(out, proto, from, to, g.description()).groups.push(gid.to_string()),
            None => {}
        }
    }
    for pl in p.prefix_list_ids() {
        if let Some(id) = pl.prefix_list_id() {
            rule_for(out, proto, from, to, pl.description()).prefix_lists.push(id.to_string());
        }
    }
}

fn canonical(v: Option<&Value>) -> Vec<Rule> {
    let mut rules: Vec<Rule> = match v {
        Some(Value::List(items)) => items.iter().map(Rule::from_value).collect(),
        _ => Vec::new(),
    };
    rules.sort();
    rules
}

fn rules_value(rules: &[Rule]) -> Value {
    Value::List(rules.iter().map(Rule::to_value).collect())
}

fn group_value(ctx: &Ctx<'_>, g: &SecurityGroup, revoke_on_delete: bool) -> Value {
    let gid = g.group_id().unwrap_or_default();
    let (tags_value, tags_all) = tags::attributes(g.tags(), &ctx.settings.default_tags);
    let owner = g.owner_id().unwrap_or_default();
    obj(vec![
        ("id", Value::str(gid)),
        (
            "arn",
            Value::String(format!(
                "arn:{}:ec2:{}:{owner}:security-group/{gid}",
                crate::partition::of_region(&ctx.settings.region).id,
                ctx.settings.region
            )),
        ),
        ("name", opt_str(g.group_name())),
        ("name_prefix", super::common::prefix_of(g.group_name())),
        ("description", opt_str(g.description())),
        ("vpc_id", opt_str(g.vpc_id())),
        ("owner_id", opt_str(g.owner_id())),
        ("ingress", rules_value(&rules_from_permissions(g.ip_permissions(), gid))),
        ("egress", rules_value(&rules_from_permissions(g.ip_permissions_egress(), gid))),
        ("revoke_rules_on_delete", Value::Bool(revoke_on_delete)),
        ("tags", tags_value),
        ("tags_all", tags_all),
    ])
}

async fn describe(ctx: &Ctx<'_>, gid: &str) -> Result<Option<SecurityGroup>, ProviderError> {
    match ctx
        .clients
        .ec2
        .describe_security_groups()
        .group_ids(gid)
        .send()
        .await
        .map_err(|e| api("DescribeSecurityGroups", e))
    {
        Ok(o) => Ok(o.security_groups().first().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What EC2 answers when a retried authorize or revoke finds its work done.
const RULE_EXISTS: &str = "InvalidPermission.Duplicate";
const RULE_GONE: &str = "InvalidPermission.NotFound";

/// Make the group's rules in one direction equal `want`.
async fn sync_rules(ctx: &Ctx<'_>, gid: &str, egress: bool, have: &[Rule], want: &[Rule]) -> Result<(), ProviderError> {
    let ec2 = &ctx.clients.ec2;
    let revoke: Vec<IpPermission> = have.iter().filter(|r| !want.contains(r)).map(|r| r.permission(gid)).collect();
    let grant: Vec<IpPermission> = want.iter().filter(|r| !have.contains(r)).map(|r| r.permission(gid)).collect();
    if !revoke.is_empty() {
        if egress {
            let r = ec2
                .revoke_security_group_egress()
                .group_id(gid)
                .set_ip_permissions(Some(revoke))
                .send()
                .await
                .map_err(|e| api("RevokeSecurityGroupEgress", e));
            done_already(r, &[RULE_GONE])?;
        } else {
            let r = ec2
                .revoke_security_group_ingress()
                .group_id(gid)
                .set_ip_permissions(Some(revoke))
                .send()
                .await
                .map_err(|e| api("RevokeSecurityGroupIngress", e));
            done_already(r, &[RULE_GONE])?;
        }
    }
    if !grant.is_empty() {
        if egress {
            let r = ec2
                .authorize_security_group_egress()
                .group_id(gid)
                .set_ip_permissions(Some(grant))
                .send()
                .await
                .map_err(|e| api("AuthorizeSecurityGroupEgress", e));
            done_already(r, &[RULE_EXISTS])?;
        } else {
            let r = ec2
                .authorize_security_group_ingress()
                .group_id(gid)
                .set_ip_permissions(Some(grant))
                .send()
                .await
                .map_err(|e| api("AuthorizeSecurityGroupIngress", e));
            done_already(r, &[RULE_EXISTS])?;
        }
    }
    Ok(())
}

fn open_to_world(r: &Rule) -> bool {
    r.cidrs.iter().any(|c| c == "0.0.0.0/0") || r.ipv6.iter().any(|c| c == "::/0")
}

fn covers(r: &Rule, port: i64) -> bool {
    r.protocol == "-1" || (r.protocol == "tcp" && r.from <= port && port <= r.to)
}

/// Warnings for ingress rules that let the whole internet in.
fn ingress_warnings(rules: &[Rule]) -> Vec<String> {
    let mut out = Vec::new();
    for r in rules.iter().filter(|r| open_to_world(r)) {
        if r.protocol == "-1" {
            out.push("ingress allows all traffic from anywhere (0.0.0.0/0)".to_string());
        } else if covers(r, 22) {
            out.push(format!("ingress allows SSH (tcp/22) from anywhere (0.0.0.0/0), ports {}-{}", r.from, r.to));
        }
    }
    out
}

#[async_trait]
impl ResourceType for AwsSecurityGroup {
    fn name(&self) -> &'static str {
        "aws_security_group"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A security group. When ingress or egress is set, it is the whole set of rules in that direction.",
            [
                ("id", A::computed(T::String, "The group's id.")),
                ("arn", A::computed(T::String, "The group's ARN.")),
                ("name", A::optional_computed(T::String, "The group's name; generated when left out.").force_new()),
                ("name_prefix", super::common::name_prefix_schema()),
                (
                    "description",
                    A::optional(T::String, "The group's description.")
                        .force_new()
                        .default(Value::str("Managed by Terraform")),
                ),
                ("vpc_id", A::optional_computed(T::String, "The VPC.").force_new()),
                ("owner_id", A::computed(T::String, "The owning account.")),
                ("ingress", A::optional_computed(rule_type(), "Inbound rules.").list_attribute()),
                ("egress", A::optional_computed(rule_type(), "Outbound rules.").list_attribute()),
                (
                    "revoke_rules_on_delete",
                    A::optional(T::Bool, "Revoke all rules before deleting.").default(Value::Bool(false)),
                ),
            ],
        )
    }
    fn normalize(&self, planned: &mut Value) {
        if let Value::Map(m) = planned {
            for dir in ["ingress", "egress"] {
                if let Some(v @ Value::List(_)) = m.get(dir)
                    && v.is_wholly_known()
                {
                    let rules = canonical(Some(v));
                    m.insert(dir.into(), rules_value(&rules));
                }
            }
        }
    }
    fn warnings(&self, planned: &Value) -> Vec<String> {
        match planned.get("ingress") {
            Some(v) if v.is_wholly_known() => ingress_warnings(&canonical(Some(v))),
            _ => Vec::new(),
        }
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let ec2 = &ctx.clients.ec2;
        let name = s(planned, "name")
            .or(marker.name.as_deref())
            .map(String::from)
            .unwrap_or_else(|| format!("terraform-{}", &super::common::client_token(marker)[..20]));
        let out = ec2
            .create_security_group()
            .group_name(&name)
            .description(s(planned, "description").unwrap_or("Managed by Terraform"))
            .set_vpc_id(s(planned, "vpc_id").map(String::from))
            .tag_specifications(tags::for_create(Rt::SecurityGroup, planned, &ctx.settings.default_tags, marker))
            .send()
            .await
            .map_err(|e| api("CreateSecurityGroup", e))?;
        let gid = out.group_id().ok_or_else(|| ProviderError::new("CreateSecurityGroup returned no id"))?.to_string();
        let g = crate::consistency::read_new(ctx, || describe(ctx, &gid))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new group {gid} could not be read back")))?;
        // AWS adds an allow-all egress rule; as in Terraform, only the configured rules stay.
        let have_egress = rules_from_permissions(g.ip_permissions_egress(), &gid);
        sync_rules(ctx, &gid, true, &have_egress, &canonical(planned.get("egress"))).await?;
        sync_rules(ctx, &gid, false, &[], &canonical(planned.get("ingress"))).await?;
        self.read(
            ctx,
            &obj(vec![
                ("id", Value::String(gid.clone())),
                ("revoke_rules_on_delete", planned.get("revoke_rules_on_delete").cloned().unwrap_or_default()),
            ]),
        )
        .await?
        .ok_or_else(|| ProviderError::new(format!("the new group {gid} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(describe(ctx, id(state)?)
            .await?
            .map(|g| group_value(ctx, &g, b(state, "revoke_rules_on_delete").unwrap_or(false))))
    }
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        let revoke: HashMap<String, bool> = states
            .iter()
            .filter_map(|s| Some((s.get("id")?.as_str()?.to_string(), b(s, "revoke_rules_on_delete").unwrap_or(false))))
            .collect();
        let revoke = &revoke;
        batched(
            states,
            |ids| async move {
                let o = ctx
                    .clients
                    .ec2
                    .describe_security_groups()
                    .set_group_ids(Some(ids))
                    .send()
                    .await
                    .map_err(|e| api("DescribeSecurityGroups", e))?;
                Ok(o.security_groups()
                    .iter()
                    .map(|g| {
                        let gid = g.group_id().unwrap_or_default().to_string();
                        let r = revoke.get(&gid).copied().unwrap_or(false);
                        (gid, group_value(ctx, g, r))
                    })
                    .collect())
            },
            |s| async move { self.read(ctx, &s).await },
        )
        .await
    }

    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let gid = id(prior)?;
        for (dir, egress) in [("ingress", false), ("egress", true)] {
            let (have, want) = (canonical(prior.get(dir)), canonical(planned.get(dir)));
            if have != want {
                sync_rules(ctx, gid, egress, &have, &want).await?;
            }
        }
        sync_tags(ctx, gid, prior, planned).await?;
        let state = obj(vec![
            ("id", Value::str(gid)),
            ("revoke_rules_on_delete", planned.get("revoke_rules_on_delete").cloned().unwrap_or_default()),
        ]);
        self.read(ctx, &state)
            .await?
            .ok_or_else(|| ProviderError::new(format!("security group {gid} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let gid = id(prior)?.to_string();
        if b(prior, "revoke_rules_on_delete") == Some(true) {
            sync_rules(ctx, &gid, false, &canonical(prior.get("ingress")), &[]).await?;
            sync_rules(ctx, &gid, true, &canonical(prior.get("egress")), &[]).await?;
        }
        let ec2 = &ctx.clients.ec2;
        let limit = crate::consistency::release(ctx, Duration::from_secs(900));
        let r = crate::consistency::retry(ctx, crate::consistency::SECURITY_GROUP_IN_USE, limit, || async {
            ec2.delete_security_group().group_id(&gid).send().await.map_err(|e| api("DeleteSecurityGroup", e))
        })
        .await;
        gone_is_fine(r)
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let o = ctx
            .clients
            .ec2
            .describe_security_groups()
            .set_filters(Some(marker_filters(marker)))
            .send()
            .await
            .map_err(|e| api("DescribeSecurityGroups", e))?;
        Ok(o.security_groups().iter().find(|g| carries(g.tags(), marker)).map(|g| group_value(ctx, g, false)))
    }
}

fn one_rule_value(ctx: &Ctx<'_>, r: &aws_sdk_ec2::types::SecurityGroupRule) -> Value {
    let (tags_value, tags_all) = tags::attributes(r.tags(), &ctx.settings.default_tags);
    let rid = r.security_group_rule_id().unwrap_or_default();
    let proto = protocol(r.ip_protocol().unwrap_or("-1"));
    let ports = |p: Option<i32>| {
        if proto == "-1" { Value::Null } else { p.map(|n| Value::Number(n as f64)).unwrap_or(Value::Null) }
    };
    obj(vec![
        ("id", Value::str(rid)),
        ("security_group_rule_id", Value::str(rid)),
        (
            "arn",
            Value::String(format!(
                "arn:{}:ec2:{}:{}:security-group-rule/{rid}",
                crate::partition::of_region(&ctx.settings.region).id,
                ctx.settings.region,
                r.group_owner_id().unwrap_or_default()
            )),
        ),
        ("security_group_id", opt_str(r.group_id())),
        ("ip_protocol", Value::String(proto.clone())),
        ("from_port", ports(r.from_port())),
        ("to_port", ports(r.to_port())),
        ("cidr_ipv4", opt_str(r.cidr_ipv4())),
        ("cidr_ipv6", opt_str(r.cidr_ipv6())),
        ("referenced_security_group_id", opt_str(r.referenced_group_info().and_then(|g| g.group_id()))),
        ("prefix_list_id", opt_str(r.prefix_list_id())),
        ("description", opt_str(r.description())),
        ("tags", tags_value),
        ("tags_all", tags_all),
    ])
}

#[async_trait]
impl ResourceType for AwsSecurityGroupRule {
    fn name(&self) -> &'static str {
        if self.egress { "aws_vpc_security_group_egress_rule" } else { "aws_vpc_security_group_ingress_rule" }
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "One security group rule, with its own id (sgr-...).",
            [
                ("id", A::computed(T::String, "The rule's id.")),
                ("security_group_rule_id", A::computed(T::String, "The rule's id.")),
                ("arn", A::computed(T::String, "The rule's ARN.")),
                ("security_group_id", A::required(T::String, "The group.").force_new()),
                ("ip_protocol", A::required(T::String, "tcp, udp, icmp, or -1 for all.")),
                ("from_port", A::optional(T::Number, "First port.")),
                ("to_port", A::optional(T::Number, "Last port.")),
                ("cidr_ipv4", A::optional(T::String, "An IPv4 source or destination.")),
                ("cidr_ipv6", A::optional(T::String, "An IPv6 source or destination.")),
                ("referenced_security_group_id", A::optional(T::String, "A security group source or destination.")),
                ("prefix_list_id", A::optional(T::String, "A prefix list.")),
                ("description", A::optional(T::String, "A description.")),
            ],
        )
    }
    fn normalize(&self, planned: &mut Value) {
        if let Value::Map(m) = planned
            && let Some(p) = m.get("ip_protocol").and_then(Value::as_str)
        {
            let p = protocol(p);
            if p == "-1" {
                m.insert("from_port".into(), Value::Null);
                m.insert("to_port".into(), Value::Null);
            }
            m.insert("ip_protocol".into(), Value::String(p));
        }
    }
    fn warnings(&self, planned: &Value) -> Vec<String> {
        if self.egress {
            return Vec::new();
        }
        let rule = Rule {
            protocol: protocol(s(planned, "ip_protocol").unwrap_or("-1")),
            from: planned.get("from_port").and_then(Value::as_number).unwrap_or(0.0) as i64,
            to: planned.get("to_port").and_then(Value::as_number).unwrap_or(0.0) as i64,
            description: String::new(),
            cidrs: s(planned, "cidr_ipv4").map(|c| vec![c.to_string()]).unwrap_or_default(),
            ipv6: s(planned, "cidr_ipv6").map(|c| vec![c.to_string()]).unwrap_or_default(),
            groups: vec![],
            prefix_lists: vec![],
            self_: false,
        };
        ingress_warnings(&[rule])
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let gid = req(planned, "security_group_id")?;
        let proto = protocol(req(planned, "ip_protocol")?);
        let desc = s(planned, "description").map(String::from);
        let port =
            |k: &str| if proto == "-1" { None } else { planned.get(k).and_then(Value::as_number).map(|n| n as i32) };
        let perm = IpPermission::builder()
            .ip_protocol(&proto)
            .set_from_port(port("from_port"))
            .set_to_port(port("to_port"))
            .set_ip_ranges(
                s(planned, "cidr_ipv4")
                    .map(|c| vec![IpRange::builder().cidr_ip(c).set_description(desc.clone()).build()]),
            )
            .set_ipv6_ranges(
                s(planned, "cidr_ipv6")
                    .map(|c| vec![Ipv6Range::builder().cidr_ipv6(c).set_description(desc.clone()).build()]),
            )
            .set_user_id_group_pairs(
                s(planned, "referenced_security_group_id")
                    .map(|g| vec![UserIdGroupPair::builder().group_id(g).set_description(desc.clone()).build()]),
            )
            .build();
        let spec = tags::for_create(Rt::SecurityGroupRule, planned, &ctx.settings.default_tags, marker);
        let rules = if self.egress {
            let o = ctx
                .clients
                .ec2
                .authorize_security_group_egress()
                .group_id(gid)
                .ip_permissions(perm)
                .tag_specifications(spec)
                .send()
                .await
                .map_err(|e| api("AuthorizeSecurityGroupEgress", e))?;
            o.security_group_rules().to_vec()
        } else {
            let o = ctx
                .clients
                .ec2
                .authorize_security_group_ingress()
                .group_id(gid)
                .ip_permissions(perm)
                .tag_specifications(spec)
                .send()
                .await
                .map_err(|e| api("AuthorizeSecurityGroupIngress", e))?;
            o.security_group_rules().to_vec()
        };
        let rule = rules.first().ok_or_else(|| ProviderError::new("the authorize call returned no rule"))?;
        Ok(one_rule_value(ctx, rule))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let rid = id(state)?;
        match ctx
            .clients
            .ec2
            .describe_security_group_rules()
            .security_group_rule_ids(rid)
            .send()
            .await
            .map_err(|e| api("DescribeSecurityGroupRules", e))
        {
            Ok(o) => Ok(o
                .security_group_rules()
                .iter()
                .find(|r| r.is_egress() == Some(self.egress))
                .map(|r| one_rule_value(ctx, r))),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let (gid, rid) = (req(prior, "security_group_id")?, id(prior)?);
        let proto = protocol(req(planned, "ip_protocol")?);
        let port =
            |k: &str| if proto == "-1" { None } else { planned.get(k).and_then(Value::as_number).map(|n| n as i32) };
        let request = aws_sdk_ec2::types::SecurityGroupRuleRequest::builder()
            .ip_protocol(&proto)
            .set_from_port(port("from_port"))
            .set_to_port(port("to_port"))
            .set_cidr_ipv4(s(planned, "cidr_ipv4").map(String::from))
            .set_cidr_ipv6(s(planned, "cidr_ipv6").map(String::from))
            .set_referenced_group_id(s(planned, "referenced_security_group_id").map(String::from))
            .set_prefix_list_id(s(planned, "prefix_list_id").map(String::from))
            .set_description(s(planned, "description").map(String::from))
            .build();
        let update = aws_sdk_ec2::types::SecurityGroupRuleUpdate::builder()
            .security_group_rule_id(rid)
            .security_group_rule(request)
            .build();
        ctx.clients
            .ec2
            .modify_security_group_rules()
            .group_id(gid)
            .security_group_rules(update)
            .send()
            .await
            .map_err(|e| api("ModifySecurityGroupRules", e))?;
        sync_tags(ctx, rid, prior, planned).await?;
        self.read(ctx, prior)
            .await?
            .ok_or_else(|| ProviderError::new(format!("rule {rid} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let (gid, rid) = (req(prior, "security_group_id")?, id(prior)?);
        let r = if self.egress {
            ctx.clients
                .ec2
                .revoke_security_group_egress()
                .group_id(gid)
                .security_group_rule_ids(rid)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| api("RevokeSecurityGroupEgress", e))
        } else {
            ctx.clients
                .ec2
                .revoke_security_group_ingress()
                .group_id(gid)
                .security_group_rule_ids(rid)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| api("RevokeSecurityGroupIngress", e))
        };
        gone_is_fine(r)
    }
}
