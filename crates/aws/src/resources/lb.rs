//! Elastic Load Balancing v2: aws_lb, aws_lb_target_group, aws_lb_listener
//! and aws_lb_listener_rule. Ids are ARNs, as in Terraform.

use super::common::{block_list, block_set, blocks, found, int, int_value, string_set};
use super::ec2util::waiter;
use crate::error::api;
use crate::tags::{self, Tags};
use crate::values::{b, id, obj, opt_str, req, s, strings};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::client::Waiters;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, FixedResponseActionConfig, HostHeaderConditionConfig, IpAddressType, LoadBalancer,
    LoadBalancerAttribute, LoadBalancerSchemeEnum, LoadBalancerTypeEnum, Matcher, PathPatternConditionConfig,
    ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum, RuleCondition, Tag, TargetGroup,
    TargetGroupAttribute, TargetTypeEnum,
};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::collections::HashMap;

pub struct AwsLb;
pub struct AwsLbTargetGroup;
pub struct AwsLbListener;
pub struct AwsLbListenerRule;

fn elb_tags(t: &Tags) -> Vec<Tag> {
    t.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// Tags of many ELB objects in one call (at most 20 ARNs per call).
async fn tags_of(ctx: &Ctx<'_>, arns: &[String]) -> Result<HashMap<String, Tags>, ProviderError> {
    let mut out = HashMap::new();
    for chunk in arns.chunks(20) {
        let r = ctx
            .clients
            .elbv2
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| api("DescribeTags", e))?;
        for d in r.tag_descriptions() {
            let t = d
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
                .collect();
            out.insert(d.resource_arn().unwrap_or_default().to_string(), t);
        }
    }
    Ok(out)
}

/// `tags` and `tags_all` of one object, from tags fetched for many.
fn tag_attributes(ctx: &Ctx<'_>, tags: &HashMap<String, Tags>, arn: &str) -> (Value, Value) {
    tags::attributes_from_map(&tags.get(arn).cloned().unwrap_or_default(), &ctx.settings.default_tags)
}

/// Read many ELB objects: one describe call for all (`describe` maps ARNs to
/// objects), one DescribeTags per 20, then `value` for each.
async fn read_elb<T, D, DFut, V, VFut>(
    ctx: &Ctx<'_>,
    states: &[Value],
    describe: D,
    value: V,
) -> Vec<Result<Option<Value>, ProviderError>>
where
    D: Fn(Vec<String>) -> DFut + Copy,
    DFut: std::future::Future<Output = Result<Vec<(String, T)>, ProviderError>>,
    V: Fn(T, HashMap<String, Tags>, Value) -> VFut + Copy,
    VFut: std::future::Future<Output = Result<Value, ProviderError>>,
{
    super::ec2util::batched(
        states,
        |arns| async move {
            let found_ = describe(arns).await?;
            let tags = tags_of(ctx, &found_.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>()).await?;
            let mut out = HashMap::new();
            for (arn, object) in found_ {
                let prior = states.iter().find(|st| st.get("id").and_then(Value::as_str) == Some(arn.as_str()));
                out.insert(arn.clone(), value(object, tags.clone(), prior.cloned().unwrap_or(Value::Null)).await?);
            }
            Ok(out)
        },
        |st| async move {
            let Some(arn) = st.get("id").and_then(Value::as_str).map(String::from) else {
                return Err(ProviderError::new("id is required"));
            };
            let Some((_, object)) = found(describe(vec![arn.clone()]).await)?.and_then(|mut v| v.pop()) else {
                return Ok(None);
            };
            let tags = tags_of(ctx, std::slice::from_ref(&arn)).await?;
            value(object, tags, st).await.map(Some)
        },
    )
    .await
}

async fn sync_tags(ctx: &Ctx<'_>, arn: &str, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
    let change = tags::change(prior, planned, &ctx.settings.default_tags);
    let elb = &ctx.clients.elbv2;
    if !change.removed.is_empty() {
        elb.remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(change.removed))
            .send()
            .await
            .map_err(|e| api("RemoveTags", e))?;
    }
    if !change.set.is_empty() {
        elb.add_tags()
            .resource_arns(arn)
            .set_tags(Some(elb_tags(&change.set)))
            .send()
            .await
            .map_err(|e| api("AddTags", e))?;
    }
    Ok(())
}

fn suffix(arn: &str, marker: &str) -> Value {
    Value::str(arn.split_once(marker).map(|(_, t)| t).unwrap_or(arn))
}

fn sort_strings(planned: &mut Value, keys: &[&str]) {
    if let Value::Map(m) = planned {
        for k in keys {
            if let Some(Value::List(items)) = m.get_mut(*k) {
                items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
        }
    }
}

// ---------------------------------------------------------------- load balancer

async fn lb_value(ctx: &Ctx<'_>, lb: &LoadBalancer, tags: &HashMap<String, Tags>) -> Result<Value, ProviderError> {
    let arn = lb.load_balancer_arn().unwrap_or_default();
    let (t, all) = tag_attributes(ctx, tags, arn);
    let attrs = ctx
        .clients
        .elbv2
        .describe_load_balancer_attributes()
        .load_balancer_arn(arn)
        .send()
        .await
        .map_err(|e| api("DescribeLoadBalancerAttributes", e))?;
    let attr =
        |k: &str| attrs.attributes().iter().find(|a| a.key() == Some(k)).and_then(|a| a.value()).map(String::from);
    let mut subnets: Vec<Value> =
        lb.availability_zones().iter().filter_map(|z| z.subnet_id()).map(Value::str).collect();
    subnets.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    let mut groups: Vec<Value> = lb.security_groups().iter().map(Value::str).collect();
    groups.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    Ok(obj(vec![
        ("id", Value::str(arn)),
        ("arn", Value::str(arn)),
        ("arn_suffix", suffix(arn, ":loadbalancer/")),
        ("name", opt_str(lb.load_balancer_name())),
        ("name_prefix", super::common::prefix_of(lb.load_balancer_name())),
        ("dns_name", opt_str(lb.dns_name())),
        ("zone_id", opt_str(lb.canonical_hosted_zone_id())),
        ("vpc_id", opt_str(lb.vpc_id())),
        ("internal", Value::Bool(lb.scheme().is_some_and(|s| s.as_str() == "internal"))),
        ("load_balancer_type", Value::str(lb.r#type().map(|t| t.as_str()).unwrap_or("application"))),
        ("ip_address_type", Value::str(lb.ip_address_type().map(|t| t.as_str()).unwrap_or("ipv4"))),
        ("subnets", Value::List(subnets)),
        ("security_groups", if groups.is_empty() { Value::Null } else { Value::List(groups) }),
        (
            "idle_timeout",
            int_value(Some(attr("idle_timeout.timeout_seconds").and_then(|v| v.parse().ok()).unwrap_or(60))),
        ),
        ("enable_deletion_protection", Value::Bool(attr("deletion_protection.enabled").as_deref() == Some("true"))),
        ("tags", t),
        ("tags_all", all),
    ]))
}

async fn describe_lbs(
    ctx: &Ctx<'_>,
    arns: Option<Vec<String>>,
    names: Option<Vec<String>>,
) -> Result<Vec<LoadBalancer>, ProviderError> {
    let out = ctx
        .clients
        .elbv2
        .describe_load_balancers()
        .set_load_balancer_arns(arns)
        .set_names(names)
        .send()
        .await
        .map_err(|e| api("DescribeLoadBalancers", e))?;
    Ok(out.load_balancers().to_vec())
}

async fn set_lb_attributes(ctx: &Ctx<'_>, arn: &str, planned: &Value) -> Result<(), ProviderError> {
    let mut attrs = vec![
        LoadBalancerAttribute::builder()
            .key("deletion_protection.enabled")
            .value(b(planned, "enable_deletion_protection").unwrap_or(false).to_string())
            .build(),
    ];
    if s(planned, "load_balancer_type").unwrap_or("application") == "application" {
        attrs.push(
            LoadBalancerAttribute::builder()
                .key("idle_timeout.timeout_seconds")
                .value(int(planned, "idle_timeout").unwrap_or(60).to_string())
                .build(),
        );
    }
    ctx.clients
        .elbv2
        .modify_load_balancer_attributes()
        .load_balancer_arn(arn)
        .set_attributes(Some(attrs))
        .send()
        .await
        .map_err(|e| api("ModifyLoadBalancerAttributes", e))?;
    Ok(())
}

#[async_trait]
impl ResourceType for AwsLb {
    fn name(&self) -> &'static str {
        "aws_lb"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An application or network load balancer.",
            [
                ("id", A::computed(T::String, "The load balancer's ARN.")),
                ("arn", A::computed(T::String, "The load balancer's ARN.")),
                ("arn_suffix", A::computed(T::String, "The ARN's tail, for CloudWatch metrics.")),
                (
                    "name",
                    A::optional_computed(
                        T::String,
                        "The load balancer's name (at most 32 characters); generated when left out.",
                    )
                    .force_new(),
                ),
                ("name_prefix", super::common::name_prefix_schema()),
                ("dns_name", A::computed(T::String, "The DNS name.")),
                ("zone_id", A::computed(T::String, "The Route 53 zone of the DNS name.")),
                ("vpc_id", A::computed(T::String, "The VPC.")),
                (
                    "internal",
                    A::optional(T::Bool, "Internal rather than internet-facing.")
                        .force_new()
                        .default(Value::Bool(false)),
                ),
                (
                    "load_balancer_type",
                    A::optional(T::String, "application or network.").force_new().default(Value::str("application")),
                ),
                ("ip_address_type", A::optional(T::String, "ipv4 or dualstack.").default(Value::str("ipv4"))),
                ("subnets", A::required(string_set(), "Subnets, one per availability zone.")),
                ("security_groups", A::optional_computed(string_set(), "Security groups.")),
                (
                    "idle_timeout",
                    A::optional(T::Number, "Seconds a connection may be idle.").default(Value::Number(60.0)),
                ),
                ("enable_deletion_protection", A::optional(T::Bool, "Refuse deletion.").default(Value::Bool(false))),
            ],
        )
    }
    fn validate(&self, config: &Value) -> Vec<String> {
        match s(config, "name") {
            Some(n) if n.len() > 32 => vec![format!("name {n:?} is longer than the 32 characters AWS allows")],
            _ => Vec::new(),
        }
    }
    fn normalize(&self, planned: &mut Value) {
        sort_strings(planned, &["subnets", "security_groups"]);
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = &super::common::name_or_generated(planned, marker);
        // Look first: a load balancer of that name that is not ours is an error, never taken over.
        if let Some(lb) =
            found(describe_lbs(ctx, None, Some(vec![name.to_string()])).await)?.unwrap_or_default().first()
        {
            let arn = lb.load_balancer_arn().unwrap_or_default();
            let remote = tags_of(ctx, &[arn.to_string()]).await?;
            if tags::has_marker(&remote.get(arn).cloned().unwrap_or_default(), marker) {
                return lb_value(ctx, lb, &remote).await;
            }
            return Err(ProviderError::api(
                "CreateLoadBalancer",
                Some("DuplicateLoadBalancerName"),
                format!("a load balancer named {name} exists already and was not created by this configuration"),
            ));
        }
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let groups = strings(planned, "security_groups");
        let out = ctx
            .clients
            .elbv2
            .create_load_balancer()
            .name(name)
            .set_subnets(Some(strings(planned, "subnets")))
            .set_security_groups((!groups.is_empty()).then_some(groups))
            .scheme(if b(planned, "internal") == Some(true) {
                LoadBalancerSchemeEnum::Internal
            } else {
                LoadBalancerSchemeEnum::InternetFacing
            })
            .r#type(LoadBalancerTypeEnum::from(s(planned, "load_balancer_type").unwrap_or("application")))
            .ip_address_type(IpAddressType::from(s(planned, "ip_address_type").unwrap_or("ipv4")))
            .set_tags(Some(elb_tags(&t)))
            .send()
            .await
            .map_err(|e| api("CreateLoadBalancer", e))?;
        let arn = out
            .load_balancers()
            .first()
            .and_then(|l| l.load_balancer_arn())
            .ok_or_else(|| ProviderError::new("CreateLoadBalancer returned no ARN"))?
            .to_string();
        ctx.clients
            .elbv2
            .wait_until_load_balancer_available()
            .load_balancer_arns(&arn)
            .wait(ctx.settings.max_wait)
            .await
            .map_err(|e| waiter("LoadBalancerAvailable", e))?;
        set_lb_attributes(ctx, &arn, planned).await?;
        let new_key = obj(vec![("id", Value::String(arn.clone()))]);
        crate::consistency::read_new(ctx, || self.read(ctx, &new_key))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new load balancer {arn} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        self.read_many(ctx, std::slice::from_ref(state)).await.pop().unwrap_or(Ok(None))
    }
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        read_elb(
            ctx,
            states,
            |arns| async move {
                let lbs = describe_lbs(ctx, Some(arns), None).await?;
                Ok(lbs.into_iter().map(|l| (l.load_balancer_arn().unwrap_or_default().to_string(), l)).collect())
            },
            |lb, tags, _| async move { lb_value(ctx, &lb, &tags).await },
        )
        .await
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let arn = id(prior)?;
        let elb = &ctx.clients.elbv2;
        let changed = |k: &str| planned.get(k) != prior.get(k);
        if changed("subnets") {
            elb.set_subnets()
                .load_balancer_arn(arn)
                .set_subnets(Some(strings(planned, "subnets")))
                .send()
                .await
                .map_err(|e| api("SetSubnets", e))?;
        }
        if changed("security_groups") && !planned.get("security_groups").is_some_and(Value::is_unknown) {
            elb.set_security_groups()
                .load_balancer_arn(arn)
                .set_security_groups(Some(strings(planned, "security_groups")))
                .send()
                .await
                .map_err(|e| api("SetSecurityGroups", e))?;
        }
        if changed("ip_address_type") {
            elb.set_ip_address_type()
                .load_balancer_arn(arn)
                .ip_address_type(IpAddressType::from(s(planned, "ip_address_type").unwrap_or("ipv4")))
                .send()
                .await
                .map_err(|e| api("SetIpAddressType", e))?;
        }
        if changed("idle_timeout") || changed("enable_deletion_protection") {
            set_lb_attributes(ctx, arn, planned).await?;
        }
        sync_tags(ctx, arn, prior, planned).await?;
        self.read(ctx, prior).await?.ok_or_else(|| ProviderError::new(format!("load balancer {arn} disappeared")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let arn = id(prior)?;
        let r = ctx.clients.elbv2.delete_load_balancer().load_balancer_arn(arn).send().await;
        if found(r.map_err(|e| api("DeleteLoadBalancer", e)))?.is_none() {
            return Ok(());
        }
        ctx.clients
            .elbv2
            .wait_until_load_balancers_deleted()
            .load_balancer_arns(arn)
            .wait(ctx.settings.max_wait)
            .await
            .map_err(|e| waiter("LoadBalancersDeleted", e))?;
        Ok(())
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let Some(name) = &marker.name else { return Ok(None) };
        let lbs = found(describe_lbs(ctx, None, Some(vec![name.clone()])).await)?.unwrap_or_default();
        for lb in &lbs {
            let arn = lb.load_balancer_arn().unwrap_or_default();
            let remote = tags_of(ctx, &[arn.to_string()]).await?;
            if tags::has_marker(&remote.get(arn).cloned().unwrap_or_default(), marker) {
                return Ok(Some(lb_value(ctx, lb, &remote).await?));
            }
        }
        Ok(None)
    }
}

// ---------------------------------------------------------------- target group

fn health_check_type() -> T {
    block_list(
        &[
            ("enabled", T::Bool),
            ("path", T::String),
            ("port", T::String),
            ("protocol", T::String),
            ("interval", T::Number),
            ("timeout", T::Number),
            ("healthy_threshold", T::Number),
            ("unhealthy_threshold", T::Number),
            ("matcher", T::String),
        ],
        &[],
    )
}

const HEALTH_CHECK_DEFAULTS: &[(&str, f64)] =
    &[("interval", 30.0), ("timeout", 5.0), ("healthy_threshold", 3.0), ("unhealthy_threshold", 3.0)];

async fn target_group_value(
    ctx: &Ctx<'_>,
    tg: &TargetGroup,
    tags: &HashMap<String, Tags>,
) -> Result<Value, ProviderError> {
    let arn = tg.target_group_arn().unwrap_or_default();
    let (t, all) = tag_attributes(ctx, tags, arn);
    let attrs = ctx
        .clients
        .elbv2
        .describe_target_group_attributes()
        .target_group_arn(arn)
        .send()
        .await
        .map_err(|e| api("DescribeTargetGroupAttributes", e))?;
    let delay = attrs
        .attributes()
        .iter()
        .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"))
        .and_then(|a| a.value())
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(300);
    let health = obj(vec![
        ("enabled", Value::Bool(tg.health_check_enabled().unwrap_or(true))),
        ("path", opt_str(tg.health_check_path())),
        ("port", Value::str(tg.health_check_port().unwrap_or("traffic-port"))),
        ("protocol", opt_str(tg.health_check_protocol().map(|p| p.as_str()))),
        ("interval", int_value(tg.health_check_interval_seconds())),
        ("timeout", int_value(tg.health_check_timeout_seconds())),
        ("healthy_threshold", int_value(tg.healthy_threshold_count())),
        ("unhealthy_threshold", int_value(tg.unhealthy_threshold_count())),
        ("matcher", opt_str(tg.matcher().and_then(|m| m.http_code()))),
    ]);
    Ok(obj(vec![
        ("id", Value::str(arn)),
        ("arn", Value::str(arn)),
        // targetgroup/NAME/ID: the resource part, after the ARN's last colon.
        ("arn_suffix", Value::str(arn.rsplit_once(':').map_or(arn, |(_, t)| t))),
        ("name", opt_str(tg.target_group_name())),
        ("name_prefix", super::common::prefix_of(tg.target_group_name())),
        ("port", int_value(tg.port())),
        ("protocol", opt_str(tg.protocol().map(|p| p.as_str()))),
        ("vpc_id", opt_str(tg.vpc_id())),
        ("target_type", Value::str(tg.target_type().map(|t| t.as_str()).unwrap_or("instance"))),
        // A string in Terraform's provider (and so in state), seconds all the same.
        ("deregistration_delay", Value::String(delay.to_string())),
        ("health_check", Value::List(vec![health])),
        ("load_balancer_arns", Value::List(tg.load_balancer_arns().iter().map(Value::str).collect())),
        ("tags", t),
        ("tags_all", all),
    ]))
}

fn health_field<'a>(planned: &'a Value, k: &str) -> Option<&'a Value> {
    blocks(planned, "health_check").into_iter().next().and_then(|h| h.get(k)).filter(|v| !v.is_null())
}

async fn describe_target_group(
    ctx: &Ctx<'_>,
    arn: Option<&str>,
    name: Option<&str>,
) -> Result<Option<TargetGroup>, ProviderError> {
    let out = ctx
        .clients
        .elbv2
        .describe_target_groups()
        .set_target_group_arns(arn.map(|a| vec![a.to_string()]))
        .set_names(name.map(|n| vec![n.to_string()]))
        .send()
        .await
        .map_err(|e| api("DescribeTargetGroups", e));
    Ok(found(out)?.and_then(|o| o.target_groups().first().cloned()))
}

/// `deregistration_delay` as seconds, whether written `30` or `"30"`.
fn delay_seconds(planned: &Value) -> i32 {
    match planned.get("deregistration_delay") {
        Some(Value::String(t)) => t.trim().parse().unwrap_or(300),
        _ => int(planned, "deregistration_delay").unwrap_or(300),
    }
}

async fn set_deregistration_delay(ctx: &Ctx<'_>, arn: &str, planned: &Value) -> Result<(), ProviderError> {
    let attr = TargetGroupAttribute::builder()
        .key("deregistration_delay.timeout_seconds")
        .value(delay_seconds(planned).to_string())
        .build();
    ctx.clients
        .elbv2
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(attr)
        .send()
        .await
        .map_err(|e| api("ModifyTargetGroupAttributes", e))?;
    Ok(())
}

#[async_trait]
impl ResourceType for AwsLbTargetGroup {
    fn name(&self) -> &'static str {
        "aws_lb_target_group"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A target group: where a load balancer sends requests, with its health check.",
            [
                ("id", A::computed(T::String, "The target group's ARN.")),
                ("arn", A::computed(T::String, "The target group's ARN.")),
                ("arn_suffix", A::computed(T::String, "The ARN's tail, for CloudWatch metrics.")),
                (
                    "name",
                    A::optional_computed(
                        T::String,
                        "The target group's name (at most 32 characters); generated when left out.",
                    )
                    .force_new(),
                ),
                ("name_prefix", super::common::name_prefix_schema()),
                ("port", A::required(T::Number, "The port targets receive traffic on.").force_new()),
                ("protocol", A::required(T::String, "HTTP, HTTPS, TCP...").force_new()),
                ("vpc_id", A::required(T::String, "The VPC.").force_new()),
                (
                    "target_type",
                    A::optional(T::String, "instance, ip or lambda.").force_new().default(Value::str("instance")),
                ),
                (
                    "deregistration_delay",
                    A::optional(T::String, "Seconds to drain a target (a string, as in Terraform's provider).")
                        .default(Value::str("300")),
                ),
                ("health_check", A::optional_computed(health_check_type(), "How targets are checked.")),
                ("load_balancer_arns", A::computed(string_set(), "Load balancers sending to this group.")),
            ],
        )
    }
    fn validate(&self, config: &Value) -> Vec<String> {
        match s(config, "name") {
            Some(n) if n.len() > 32 => vec![format!("name {n:?} is longer than the 32 characters AWS allows")],
            _ => Vec::new(),
        }
    }
    fn normalize(&self, planned: &mut Value) {
        let protocol = s(planned, "protocol").unwrap_or("HTTP").to_string();
        let http = protocol.starts_with("HTTP");
        let mut defaults: Vec<(&str, Value)> = vec![
            ("enabled", Value::Bool(true)),
            ("port", Value::str("traffic-port")),
            ("protocol", Value::String(protocol.clone())),
            ("path", if http { Value::str("/") } else { Value::Null }),
            ("matcher", if http { Value::str("200") } else { Value::Null }),
        ];
        defaults.extend(HEALTH_CHECK_DEFAULTS.iter().map(|(k, v)| (*k, Value::Number(*v))));
        super::common::fill_block_defaults(planned, "health_check", &defaults);
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = &super::common::name_or_generated(planned, marker);
        if let Some(tg) = describe_target_group(ctx, None, Some(name)).await? {
            let arn = tg.target_group_arn().unwrap_or_default();
            let remote = tags_of(ctx, &[arn.to_string()]).await?;
            if tags::has_marker(&remote.get(arn).cloned().unwrap_or_default(), marker) {
                return target_group_value(ctx, &tg, &remote).await;
            }
            return Err(ProviderError::api(
                "CreateTargetGroup",
                Some("DuplicateTargetGroupName"),
                format!("a target group named {name} exists already and was not created by this configuration"),
            ));
        }
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let num = |k: &str| health_field(planned, k).and_then(Value::as_number).map(|n| n as i32);
        let text = |k: &str| health_field(planned, k).and_then(Value::as_str).map(String::from);
        let out = ctx
            .clients
            .elbv2
            .create_target_group()
            .name(name)
            .port(int(planned, "port").unwrap_or(80))
            .protocol(ProtocolEnum::from(req(planned, "protocol")?))
            .vpc_id(req(planned, "vpc_id")?)
            .target_type(TargetTypeEnum::from(s(planned, "target_type").unwrap_or("instance")))
            .set_health_check_enabled(health_field(planned, "enabled").and_then(Value::as_bool))
            .set_health_check_path(text("path"))
            .set_health_check_port(text("port"))
            .set_health_check_protocol(text("protocol").map(|p| ProtocolEnum::from(p.as_str())))
            .set_health_check_interval_seconds(num("interval"))
            .set_health_check_timeout_seconds(num("timeout"))
            .set_healthy_threshold_count(num("healthy_threshold"))
            .set_unhealthy_threshold_count(num("unhealthy_threshold"))
            .set_matcher(text("matcher").map(|m| Matcher::builder().http_code(m).build()))
            .set_tags(Some(elb_tags(&t)))
            .send()
            .await
            .map_err(|e| api("CreateTargetGroup", e))?;
        let arn = out
            .target_groups()
            .first()
            .and_then(|t| t.target_group_arn())
            .ok_or_else(|| ProviderError::new("CreateTargetGroup returned no ARN"))?
            .to_string();
        set_deregistration_delay(ctx, &arn, planned).await?;
        let new_key = obj(vec![("id", Value::String(arn.clone()))]);
        crate::consistency::read_new(ctx, || self.read(ctx, &new_key))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new target group {arn} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        self.read_many(ctx, std::slice::from_ref(state)).await.pop().unwrap_or(Ok(None))
    }
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        read_elb(
            ctx,
            states,
            |arns| async move {
                let out = ctx
                    .clients
                    .elbv2
                    .describe_target_groups()
                    .set_target_group_arns(Some(arns))
                    .send()
                    .await
                    .map_err(|e| api("DescribeTargetGroups", e))?;
                Ok(out
                    .target_groups()
                    .iter()
                    .map(|t| (t.target_group_arn().unwrap_or_default().to_string(), t.clone()))
                    .collect())
            },
            |tg, tags, _| async move { target_group_value(ctx, &tg, &tags).await },
        )
        .await
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let arn = id(prior)?;
        if planned.get("health_check") != prior.get("health_check")
            && !planned.get("health_check").is_some_and(Value::is_unknown)
        {
            let num = |k: &str| health_field(planned, k).and_then(Value::as_number).map(|n| n as i32);
            let text = |k: &str| health_field(planned, k).and_then(Value::as_str).map(String::from);
            ctx.clients
                .elbv2
                .modify_target_group()
                .target_group_arn(arn)
                .set_health_check_enabled(health_field(planned, "enabled").and_then(Value::as_bool))
                .set_health_check_path(text("path"))
                .set_health_check_port(text("port"))
                .set_health_check_protocol(text("protocol").map(|p| ProtocolEnum::from(p.as_str())))
                .set_health_check_interval_seconds(num("interval"))
                .set_health_check_timeout_seconds(num("timeout"))
                .set_healthy_threshold_count(num("healthy_threshold"))
                .set_unhealthy_threshold_count(num("unhealthy_threshold"))
                .set_matcher(text("matcher").map(|m| Matcher::builder().http_code(m).build()))
                .send()
                .await
                .map_err(|e| api("ModifyTargetGroup", e))?;
        }
        if planned.get("deregistration_delay") != prior.get("deregistration_delay") {
            set_deregistration_delay(ctx, arn, planned).await?;
        }
        sync_tags(ctx, arn, prior, planned).await?;
        self.read(ctx, prior).await?.ok_or_else(|| ProviderError::new(format!("target group {arn} disappeared")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let arn = id(prior)?;
        // A listener or rule just deleted may still hold the group for a moment.
        let r = crate::consistency::retry_while(&["ResourceInUse"], std::time::Duration::from_secs(120), || async {
            ctx.clients
                .elbv2
                .delete_target_group()
                .target_group_arn(arn)
                .send()
                .await
                .map_err(|e| api("DeleteTargetGroup", e))
        })
        .await;
        found(r).map(|_| ())
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let Some(name) = &marker.name else { return Ok(None) };
        let Some(tg) = describe_target_group(ctx, None, Some(name)).await? else { return Ok(None) };
        let arn = tg.target_group_arn().unwrap_or_default();
        let remote = tags_of(ctx, &[arn.to_string()]).await?;
        if tags::has_marker(&remote.get(arn).cloned().unwrap_or_default(), marker) {
            Ok(Some(target_group_value(ctx, &tg, &remote).await?))
        } else {
            Ok(None)
        }
    }
}

// ---------------------------------------------------------------- actions and conditions

fn action_type() -> T {
    block_list(
        &[
            ("type", T::String),
            ("target_group_arn", T::String),
            ("order", T::Number),
            (
                "fixed_response",
                block_list(
                    &[("content_type", T::String), ("message_body", T::String), ("status_code", T::String)],
                    &["content_type"],
                ),
            ),
            (
                "redirect",
                block_list(
                    &[
                        ("host", T::String),
                        ("path", T::String),
                        ("port", T::String),
                        ("protocol", T::String),
                        ("query", T::String),
                        ("status_code", T::String),
                    ],
                    &["status_code"],
                ),
            ),
        ],
        &["type"],
    )
}

fn condition_type() -> T {
    let values = block_list(&[("values", string_set())], &["values"]);
    block_set(&[("path_pattern", values.clone()), ("host_header", values)], &[])
}

fn actions(planned: &Value, key: &str) -> Vec<Action> {
    blocks(planned, key)
        .iter()
        .map(|a| {
            let fixed = blocks(a, "fixed_response").into_iter().next().map(|f| {
                FixedResponseActionConfig::builder()
                    .set_content_type(s(f, "content_type").map(String::from))
                    .set_message_body(s(f, "message_body").map(String::from))
                    .set_status_code(s(f, "status_code").map(String::from))
                    .build()
            });
            let redirect = blocks(a, "redirect").into_iter().next().map(|r| {
                RedirectActionConfig::builder()
                    .set_host(s(r, "host").map(String::from))
                    .set_path(s(r, "path").map(String::from))
                    .set_port(s(r, "port").map(String::from))
                    .set_protocol(s(r, "protocol").map(String::from))
                    .set_query(s(r, "query").map(String::from))
                    .set_status_code(s(r, "status_code").map(RedirectActionStatusCodeEnum::from))
                    .build()
            });
            Action::builder()
                .set_type(s(a, "type").map(ActionTypeEnum::from))
                .set_target_group_arn(s(a, "target_group_arn").map(String::from))
                .set_order(int(a, "order"))
                .set_fixed_response_config(fixed)
                .set_redirect_config(redirect)
                .build()
        })
        .collect()
}

fn actions_value(actions: &[Action]) -> Value {
    Value::List(
        actions
            .iter()
            .map(|a| {
                let fixed = a.fixed_response_config().map(|f| {
                    Value::List(vec![obj(vec![
                        ("content_type", opt_str(f.content_type())),
                        ("message_body", opt_str(f.message_body())),
                        ("status_code", opt_str(f.status_code())),
                    ])])
                });
                let redirect = a.redirect_config().map(|r| {
                    Value::List(vec![obj(vec![
                        ("host", opt_str(r.host())),
                        ("path", opt_str(r.path())),
                        ("port", opt_str(r.port())),
                        ("protocol", opt_str(r.protocol())),
                        ("query", opt_str(r.query())),
                        ("status_code", opt_str(r.status_code().map(|c| c.as_str()))),
                    ])])
                });
                obj(vec![
                    ("type", opt_str(a.r#type().map(|t| t.as_str()))),
                    ("target_group_arn", opt_str(a.target_group_arn())),
                    ("order", int_value(a.order())),
                    ("fixed_response", fixed.unwrap_or(Value::Null)),
                    ("redirect", redirect.unwrap_or(Value::Null)),
                ])
            })
            .collect(),
    )
}

/// Actions as AWS reports them: numbered in order, redirect parts defaulted.
fn normalize_actions(planned: &mut Value, key: &str) {
    if let Value::Map(m) = planned
        && let Some(Value::List(items)) = m.get_mut(key)
    {
        for (i, a) in items.iter_mut().enumerate() {
            if let Value::Map(a) = a {
                if a.get("order").is_none_or(Value::is_null) {
                    a.insert("order".into(), Value::Number((i + 1) as f64));
                }
                let mut tmp = Value::Map(std::mem::take(a));
                super::common::fill_block_defaults(
                    &mut tmp,
                    "redirect",
                    &[
                        ("host", Value::str("#{host}")),
                        ("path", Value::str("/#{path}")),
                        ("port", Value::str("#{port}")),
                        ("protocol", Value::str("#{protocol}")),
                        ("query", Value::str("#{query}")),
                    ],
                );
                if let Value::Map(back) = tmp {
                    *a = back;
                }
            }
        }
    }
}

fn conditions(planned: &Value) -> Vec<RuleCondition> {
    blocks(planned, "condition")
        .iter()
        .flat_map(|c| {
            let mut out = Vec::new();
            if let Some(p) = blocks(c, "path_pattern").into_iter().next() {
                out.push(
                    RuleCondition::builder()
                        .field("path-pattern")
                        .path_pattern_config(
                            PathPatternConditionConfig::builder().set_values(Some(strings(p, "values"))).build(),
                        )
                        .build(),
                );
            }
            if let Some(h) = blocks(c, "host_header").into_iter().next() {
                out.push(
                    RuleCondition::builder()
                        .field("host-header")
                        .host_header_config(
                            HostHeaderConditionConfig::builder().set_values(Some(strings(h, "values"))).build(),
                        )
                        .build(),
                );
            }
            out
        })
        .collect()
}

fn conditions_value(conds: &[RuleCondition]) -> Value {
    let values =
        |v: &[String]| Value::List(vec![obj(vec![("values", Value::List(v.iter().map(Value::str).collect()))])]);
    Value::List(
        conds
            .iter()
            .map(|c| {
                let path = c.path_pattern_config().map(|p| p.values()).filter(|v| !v.is_empty());
                let host = c.host_header_config().map(|h| h.values()).filter(|v| !v.is_empty());
                // Older answers carry only field + values.
                let plain = c.values();
                let (path, host) = match c.field() {
                    Some("path-pattern") => (path.or(Some(plain)), None),
                    Some("host-header") => (None, host.or(Some(plain))),
                    _ => (path, host),
                };
                obj(vec![
                    ("path_pattern", path.map(values).unwrap_or(Value::Null)),
                    ("host_header", host.map(values).unwrap_or(Value::Null)),
                ])
            })
            .collect(),
    )
}

// ---------------------------------------------------------------- listener

#[async_trait]
impl ResourceType for AwsLbListener {
    fn name(&self) -> &'static str {
        "aws_lb_listener"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A listener of a load balancer: a port and what requests on it get by default.",
            [
                ("id", A::computed(T::String, "The listener's ARN.")),
                ("arn", A::computed(T::String, "The listener's ARN.")),
                ("load_balancer_arn", A::required(T::String, "The load balancer.").force_new()),
                ("port", A::required(T::Number, "The port.")),
                (
                    "protocol",
                    A::optional(T::String, "HTTP or HTTPS (TCP... for network load balancers).")
                        .default(Value::str("HTTP")),
                ),
                ("certificate_arn", A::optional(T::String, "The certificate for HTTPS.")),
                ("ssl_policy", A::optional_computed(T::String, "The TLS policy for HTTPS.")),
                ("default_action", A::required(action_type(), "What requests no rule matches get.")),
            ],
        )
    }
    fn normalize(&self, planned: &mut Value) {
        normalize_actions(planned, "default_action");
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        // CreateListener with the same settings is idempotent on AWS.
        let out = ctx
            .clients
            .elbv2
            .create_listener()
            .load_balancer_arn(req(planned, "load_balancer_arn")?)
            .port(int(planned, "port").unwrap_or(80))
            .protocol(ProtocolEnum::from(s(planned, "protocol").unwrap_or("HTTP")))
            .set_ssl_policy(s(planned, "ssl_policy").map(String::from))
            .set_certificates(s(planned, "certificate_arn").map(|c| {
                vec![aws_sdk_elasticloadbalancingv2::types::Certificate::builder().certificate_arn(c).build()]
            }))
            .set_default_actions(Some(actions(planned, "default_action")))
            .set_tags(Some(elb_tags(&t)))
            .send()
            .await
            .map_err(|e| api("CreateListener", e))?;
        let arn = out
            .listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .ok_or_else(|| ProviderError::new("CreateListener returned no ARN"))?;
        let new_key = obj(vec![("id", Value::str(arn))]);
        crate::consistency::read_new(ctx, || self.read(ctx, &new_key))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new listener {arn} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        self.read_many(ctx, std::slice::from_ref(state)).await.pop().unwrap_or(Ok(None))
    }
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        read_elb(
            ctx,
            states,
            |arns| async move {
                let out = ctx
                    .clients
                    .elbv2
                    .describe_listeners()
                    .set_listener_arns(Some(arns))
                    .send()
                    .await
                    .map_err(|e| api("DescribeListeners", e))?;
                Ok(out
                    .listeners()
                    .iter()
                    .map(|l| (l.listener_arn().unwrap_or_default().to_string(), l.clone()))
                    .collect())
            },
            |l, tags, _| async move {
                let arn = l.listener_arn().unwrap_or_default();
                let (t, all) = tag_attributes(ctx, &tags, arn);
                Ok(obj(vec![
                    ("id", Value::str(arn)),
                    ("arn", Value::str(arn)),
                    ("load_balancer_arn", opt_str(l.load_balancer_arn())),
                    ("port", int_value(l.port())),
                    ("protocol", opt_str(l.protocol().map(|p| p.as_str()))),
                    ("certificate_arn", opt_str(l.certificates().first().and_then(|c| c.certificate_arn()))),
                    ("ssl_policy", opt_str(l.ssl_policy())),
                    ("default_action", actions_value(l.default_actions())),
                    ("tags", t),
                    ("tags_all", all),
                ]))
            },
        )
        .await
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let arn = id(prior)?;
        let changed = ["port", "protocol", "certificate_arn", "ssl_policy", "default_action"]
            .iter()
            .any(|k| planned.get(k) != prior.get(k));
        if changed {
            ctx.clients
                .elbv2
                .modify_listener()
                .listener_arn(arn)
                .set_port(int(planned, "port"))
                .set_protocol(s(planned, "protocol").map(ProtocolEnum::from))
                .set_ssl_policy(s(planned, "ssl_policy").map(String::from))
                .set_certificates(s(planned, "certificate_arn").map(|c| {
                    vec![aws_sdk_elasticloadbalancingv2::types::Certificate::builder().certificate_arn(c).build()]
                }))
                .set_default_actions(Some(actions(planned, "default_action")))
                .send()
                .await
                .map_err(|e| api("ModifyListener", e))?;
        }
        sync_tags(ctx, arn, prior, planned).await?;
        self.read(ctx, prior).await?.ok_or_else(|| ProviderError::new(format!("listener {arn} disappeared")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let r = ctx.clients.elbv2.delete_listener().listener_arn(id(prior)?).send().await;
        found(r.map_err(|e| api("DeleteListener", e))).map(|_| ())
    }
}

// ---------------------------------------------------------------- listener rule

#[async_trait]
impl ResourceType for AwsLbListenerRule {
    fn name(&self) -> &'static str {
        "aws_lb_listener_rule"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A rule of a listener: requests matching its conditions get its actions.",
            [
                ("id", A::computed(T::String, "The rule's ARN.")),
                ("arn", A::computed(T::String, "The rule's ARN.")),
                ("listener_arn", A::required(T::String, "The listener.").force_new()),
                ("priority", A::required(T::Number, "1 to 50000; lower is checked first.")),
                ("action", A::required(action_type(), "What matching requests get.")),
                ("condition", A::required(condition_type(), "What requests match (path_pattern, host_header).")),
            ],
        )
    }
    fn normalize(&self, planned: &mut Value) {
        normalize_actions(planned, "action");
        if let Value::Map(m) = planned
            && let Some(Value::List(items)) = m.get_mut("condition")
        {
            for c in items.iter_mut() {
                if let Value::Map(c) = c {
                    for k in ["path_pattern", "host_header"] {
                        c.entry(k.to_string()).or_insert(Value::Null);
                    }
                }
            }
        }
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let out = ctx
            .clients
            .elbv2
            .create_rule()
            .listener_arn(req(planned, "listener_arn")?)
            .priority(int(planned, "priority").unwrap_or(1))
            .set_actions(Some(actions(planned, "action")))
            .set_conditions(Some(conditions(planned)))
            .set_tags(Some(elb_tags(&t)))
            .send()
            .await
            .map_err(|e| api("CreateRule", e))?;
        let arn = out
            .rules()
            .first()
            .and_then(|r| r.rule_arn())
            .ok_or_else(|| ProviderError::new("CreateRule returned no ARN"))?;
        self.read(
            ctx,
            &obj(vec![
                ("id", Value::str(arn)),
                ("listener_arn", planned.get("listener_arn").cloned().unwrap_or(Value::Null)),
            ]),
        )
        .await?
        .ok_or_else(|| ProviderError::new(format!("the new rule {arn} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        self.read_many(ctx, std::slice::from_ref(state)).await.pop().unwrap_or(Ok(None))
    }
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        read_elb(
            ctx,
            states,
            |arns| async move {
                let out = ctx
                    .clients
                    .elbv2
                    .describe_rules()
                    .set_rule_arns(Some(arns))
                    .send()
                    .await
                    .map_err(|e| api("DescribeRules", e))?;
                Ok(out.rules().iter().map(|r| (r.rule_arn().unwrap_or_default().to_string(), r.clone())).collect())
            },
            |r, tags, prior| async move {
                let arn = r.rule_arn().unwrap_or_default();
                let (t, all) = tag_attributes(ctx, &tags, arn);
                // A rule's ARN names its listener: .../listener-rule/app/LB/ID/LISTENER/RULE.
                let listener = s(&prior, "listener_arn").map(String::from).unwrap_or_else(|| {
                    let base = arn.replacen(":listener-rule/", ":listener/", 1);
                    base.rsplit_once('/').map(|(l, _)| l.to_string()).unwrap_or(base)
                });
                Ok(obj(vec![
                    ("id", Value::str(arn)),
                    ("arn", Value::str(arn)),
                    ("listener_arn", Value::String(listener)),
                    (
                        "priority",
                        r.priority().and_then(|p| p.parse::<f64>().ok()).map(Value::Number).unwrap_or(Value::Null),
                    ),
                    ("action", actions_value(r.actions())),
                    ("condition", conditions_value(r.conditions())),
                    ("tags", t),
                    ("tags_all", all),
                ]))
            },
        )
        .await
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let arn = id(prior)?;
        let elb = &ctx.clients.elbv2;
        if planned.get("priority") != prior.get("priority") {
            let pair = aws_sdk_elasticloadbalancingv2::types::RulePriorityPair::builder()
                .rule_arn(arn)
                .priority(int(planned, "priority").unwrap_or(1))
                .build();
            elb.set_rule_priorities().rule_priorities(pair).send().await.map_err(|e| api("SetRulePriorities", e))?;
        }
        if planned.get("action") != prior.get("action") || planned.get("condition") != prior.get("condition") {
            elb.modify_rule()
                .rule_arn(arn)
                .set_actions(Some(actions(planned, "action")))
                .set_conditions(Some(conditions(planned)))
                .send()
                .await
                .map_err(|e| api("ModifyRule", e))?;
        }
        sync_tags(ctx, arn, prior, planned).await?;
        self.read(ctx, prior).await?.ok_or_else(|| ProviderError::new(format!("rule {arn} disappeared")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let r = ctx.clients.elbv2.delete_rule().rule_arn(id(prior)?).send().await;
        found(r.map_err(|e| api("DeleteRule", e))).map(|_| ())
    }
}
