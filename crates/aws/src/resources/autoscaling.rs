//! aws_autoscaling_group. Tags are `tag` blocks with propagate_at_launch, as
//! in Terraform (default_tags do not apply). A create waits until the group
//! has its desired number of healthy instances (`wait_for_capacity_timeout`).

use super::common::{block_list, block_set, blocks, found, int, int_value, string_set};
use crate::error::api;
use crate::tags::{MARKER_ADDRESS, MARKER_LINEAGE};
use crate::values::{b, id, obj, opt_str, s, strings};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_autoscaling::types::{AutoScalingGroup, LaunchTemplateSpecification, Tag};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::time::{Duration, Instant};

pub struct AwsAutoscalingGroup;

fn tag(name: &str, key: &str, value: &str, propagate: bool) -> Tag {
    Tag::builder()
        .resource_id(name)
        .resource_type("auto-scaling-group")
        .key(key)
        .value(value)
        .propagate_at_launch(propagate)
        .build()
}

fn config_tags(name: &str, planned: &Value) -> Vec<Tag> {
    blocks(planned, "tag")
        .iter()
        .map(|t| {
            tag(
                name,
                s(t, "key").unwrap_or_default(),
                s(t, "value").unwrap_or_default(),
                b(t, "propagate_at_launch").unwrap_or(false),
            )
        })
        .collect()
}

fn launch_template(planned: &Value) -> Option<LaunchTemplateSpecification> {
    let lt = blocks(planned, "launch_template").into_iter().next()?;
    Some(
        LaunchTemplateSpecification::builder()
            .set_launch_template_id(s(lt, "id").map(String::from))
            .set_launch_template_name(s(lt, "name").map(String::from))
            .set_version(s(lt, "version").map(String::from))
            .build(),
    )
}

/// "10m", "90s", "0" (do not wait), as Terraform writes it.
fn capacity_timeout(planned: &Value) -> Duration {
    let text = s(planned, "wait_for_capacity_timeout").unwrap_or("10m");
    let (num, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = num.parse().unwrap_or(600);
    Duration::from_secs(match unit {
        "h" => n * 3600,
        "m" => n * 60,
        _ => n,
    })
}

/// The group as state holds it; tags ignored by `ignore_tags` are left out.
fn to_value(g: &AutoScalingGroup, prior: &Value, defaults: &crate::tags::Defaults) -> Value {
    let mut tags: Vec<Value> = g
        .tags()
        .iter()
        .filter(|t| t.key() != Some(MARKER_ADDRESS) && t.key() != Some(MARKER_LINEAGE))
        .filter(|t| !t.key().is_some_and(|k| defaults.ignores(k)))
        .map(|t| {
            obj(vec![
                ("key", opt_str(t.key())),
                ("value", opt_str(t.value())),
                ("propagate_at_launch", Value::Bool(t.propagate_at_launch().unwrap_or(false))),
            ])
        })
        .collect();
    tags.sort_by(|a, b| s(a, "key").cmp(&s(b, "key")));
    let lt = g.launch_template().map(|l| {
        // The configuration's own spelling of the template (id or name) is kept.
        let want = blocks(prior, "launch_template").into_iter().next();
        let by_name = want.is_some_and(|w| s(w, "name").is_some() && s(w, "id").is_none());
        Value::List(vec![obj(vec![
            ("id", if by_name { Value::Null } else { opt_str(l.launch_template_id()) }),
            ("name", if by_name { opt_str(l.launch_template_name()) } else { Value::Null }),
            ("version", opt_str(l.version())),
        ])])
    });
    let mut subnets: Vec<String> =
        g.vpc_zone_identifier().unwrap_or_default().split(',').filter(|x| !x.is_empty()).map(String::from).collect();
    subnets.sort();
    let mut groups: Vec<Value> = g.target_group_arns().iter().map(Value::str).collect();
    groups.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    obj(vec![
        ("id", opt_str(g.auto_scaling_group_name())),
        ("arn", opt_str(g.auto_scaling_group_arn())),
        ("name", opt_str(g.auto_scaling_group_name())),
        ("name_prefix", super::common::prefix_of(g.auto_scaling_group_name())),
        ("min_size", int_value(g.min_size())),
        ("max_size", int_value(g.max_size())),
        ("desired_capacity", int_value(g.desired_capacity())),
        ("vpc_zone_identifier", Value::List(subnets.into_iter().map(Value::String).collect())),
        ("launch_template", lt.unwrap_or(Value::Null)),
        ("target_group_arns", if groups.is_empty() { Value::Null } else { Value::List(groups) }),
        ("health_check_type", opt_str(g.health_check_type())),
        ("health_check_grace_period", int_value(g.health_check_grace_period())),
        ("default_cooldown", int_value(g.default_cooldown())),
        ("protect_from_scale_in", Value::Bool(g.new_instances_protected_from_scale_in().unwrap_or(false))),
        ("capacity_rebalance", Value::Bool(g.capacity_rebalance().unwrap_or(false))),
        ("tag", if tags.is_empty() { Value::Null } else { Value::List(tags) }),
        ("wait_for_capacity_timeout", prior.get("wait_for_capacity_timeout").cloned().unwrap_or(Value::str("10m"))),
    ])
}

async fn describe(ctx: &Ctx<'_>, names: Vec<String>) -> Result<Vec<AutoScalingGroup>, ProviderError> {
    let out = ctx
        .clients
        .autoscaling
        .describe_auto_scaling_groups()
        .set_auto_scaling_group_names(Some(names))
        .send()
        .await
        .map_err(|e| api("DescribeAutoScalingGroups", e))?;
    // A group being deleted is still described, with a status.
    Ok(out.auto_scaling_groups().iter().filter(|g| g.status().is_none()).cloned().collect())
}

/// Poll until `done` holds for the group (or it is gone, when `gone` is asked).
async fn wait_for(
    ctx: &Ctx<'_>,
    name: &str,
    limit: Duration,
    what: &str,
    done: impl Fn(Option<&AutoScalingGroup>) -> bool,
) -> Result<(), ProviderError> {
    let start = Instant::now();
    loop {
        let out = ctx
            .clients
            .autoscaling
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(name)
            .send()
            .await
            .map_err(|e| api("DescribeAutoScalingGroups", e))?;
        if done(out.auto_scaling_groups().first()) {
            return Ok(());
        }
        if start.elapsed() >= limit {
            return Err(ProviderError::api(
                "DescribeAutoScalingGroups",
                Some("WaiterTimeout"),
                format!("{what}: gave up after {}s", limit.as_secs()),
            ));
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

fn is_ours(g: &AutoScalingGroup, marker: &Marker) -> bool {
    let remote: crate::tags::Tags =
        g.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect();
    crate::tags::has_marker(&remote, marker)
}

fn has_capacity(g: Option<&AutoScalingGroup>) -> bool {
    g.is_some_and(|g| {
        let healthy = g
            .instances()
            .iter()
            .filter(|i| {
                i.lifecycle_state().is_some_and(|l| l.as_str() == "InService") && i.health_status() == Some("Healthy")
            })
            .count();
        healthy as i32 >= g.desired_capacity().unwrap_or(0)
    })
}

#[async_trait]
impl ResourceType for AwsAutoscalingGroup {
    fn name(&self) -> &'static str {
        "aws_autoscaling_group"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An EC2 Auto Scaling group.",
            [
                ("id", A::computed(T::String, "The group's name.")),
                ("arn", A::computed(T::String, "The group's ARN.")),
                ("name", A::optional_computed(T::String, "The group's name; generated when left out.").force_new()),
                ("name_prefix", super::common::name_prefix_schema()),
                ("min_size", A::required(T::Number, "Fewest instances.")),
                ("max_size", A::required(T::Number, "Most instances.")),
                ("desired_capacity", A::optional_computed(T::Number, "Instances wanted now.")),
                ("vpc_zone_identifier", A::required(string_set(), "Subnets to launch into.")),
                (
                    "launch_template",
                    A::required(
                        block_list(&[("id", T::String), ("name", T::String), ("version", T::String)], &[]),
                        "The launch template (id or name) and version.",
                    ),
                ),
                ("target_group_arns", A::optional(string_set(), "Target groups instances register with.")),
                ("health_check_type", A::optional_computed(T::String, "EC2 or ELB (EC2 when left out).")),
                (
                    "health_check_grace_period",
                    A::optional(T::Number, "Seconds before health checks count.").default(Value::Number(300.0)),
                ),
                (
                    "default_cooldown",
                    A::optional_computed(T::Number, "Seconds between scaling activities (300 when left out)."),
                ),
                (
                    "protect_from_scale_in",
                    A::optional(T::Bool, "New instances are protected from scale-in.").default(Value::Bool(false)),
                ),
                (
                    "capacity_rebalance",
                    A::optional(T::Bool, "Replace Spot instances at risk.").api_default(Value::Bool(false)),
                ),
                (
                    "tag",
                    A::optional(
                        block_set(
                            &[("key", T::String), ("value", T::String), ("propagate_at_launch", T::Bool)],
                            &["key", "value"],
                        ),
                        "Tags, each saying whether instances get it too.",
                    ),
                ),
                (
                    "wait_for_capacity_timeout",
                    A::optional(T::String, "How long to wait for healthy instances; \"0\" does not wait.")
                        .default(Value::str("10m")),
                ),
            ],
        )
    }
    fn normalize(&self, planned: &mut Value) {
        super::common::fill_block_defaults(planned, "tag", &[("propagate_at_launch", Value::Bool(false))]);
        super::common::fill_block_defaults(planned, "launch_template", &[("version", Value::str("$Default"))]);
        if let Value::Map(m) = planned {
            for k in ["vpc_zone_identifier", "target_group_arns"] {
                if let Some(Value::List(items)) = m.get_mut(k) {
                    items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                }
            }
            if let Some(Value::List(items)) = m.get_mut("tag") {
                items.sort_by(|a, b| s(a, "key").cmp(&s(b, "key")));
            }
        }
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = &super::common::name_or_generated(planned, marker);
        // Look first: a group of that name that is not ours is an error, never taken over.
        if let Some(g) = describe(ctx, vec![name.to_string()]).await?.first() {
            if !is_ours(g, marker) {
                return Err(ProviderError::api(
                    "CreateAutoScalingGroup",
                    Some("AlreadyExists"),
                    format!(
                        "an Auto Scaling group named {name} exists already and was not created by this configuration"
                    ),
                ));
            }
            return Ok(to_value(g, planned, &ctx.settings.default_tags));
        }
        let mut tags = config_tags(name, planned);
        tags.push(tag(name, MARKER_ADDRESS, &crate::tags::marker_address(&marker.address), false));
        tags.push(tag(name, MARKER_LINEAGE, &marker.lineage, false));
        let groups = strings(planned, "target_group_arns");
        let create = ctx
            .clients
            .autoscaling
            .create_auto_scaling_group()
            .auto_scaling_group_name(name)
            .min_size(int(planned, "min_size").unwrap_or(0))
            .max_size(int(planned, "max_size").unwrap_or(0))
            .set_desired_capacity(int(planned, "desired_capacity"))
            .vpc_zone_identifier(strings(planned, "vpc_zone_identifier").join(","))
            .set_launch_template(launch_template(planned))
            .set_target_group_arns((!groups.is_empty()).then_some(groups))
            .set_health_check_type(s(planned, "health_check_type").map(String::from))
            .set_health_check_grace_period(int(planned, "health_check_grace_period"))
            .set_default_cooldown(int(planned, "default_cooldown"))
            .new_instances_protected_from_scale_in(b(planned, "protect_from_scale_in").unwrap_or(false))
            .capacity_rebalance(b(planned, "capacity_rebalance").unwrap_or(false))
            .set_tags(Some(tags));
        crate::consistency::retry(
            ctx,
            crate::consistency::LAUNCH_PROFILE_NOT_YET,
            crate::consistency::propagation(ctx),
            || {
                let create = create.clone();
                async move { create.send().await.map_err(|e| api("CreateAutoScalingGroup", e)) }
            },
        )
        .await?;
        let timeout = capacity_timeout(planned);
        if !timeout.is_zero() {
            wait_for(ctx, name, timeout, "waiting for the group's desired capacity of healthy instances", has_capacity)
                .await?;
        }
        crate::consistency::read_new(ctx, || self.read(ctx, planned))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new group {name} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let name = s(state, "id").or(s(state, "name")).ok_or_else(|| ProviderError::new("id is required"))?;
        let groups = found(describe(ctx, vec![name.to_string()]).await)?.unwrap_or_default();
        Ok(groups.first().map(|g| to_value(g, state, &ctx.settings.default_tags)))
    }
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        super::ec2util::batched(
            states,
            |ids| async move {
                let groups = describe(ctx, ids).await?;
                Ok(groups
                    .iter()
                    .map(|g| {
                        let name = g.auto_scaling_group_name().unwrap_or_default().to_string();
                        let prior = states
                            .iter()
                            .find(|s| s.get("id").and_then(Value::as_str) == Some(name.as_str()))
                            .cloned()
                            .unwrap_or(Value::Null);
                        (name, to_value(g, &prior, &ctx.settings.default_tags))
                    })
                    .collect())
            },
            |s| async move { self.read(ctx, &s).await },
        )
        .await
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let name = id(prior)?;
        let asg = &ctx.clients.autoscaling;
        let changed = |k: &str| planned.get(k) != prior.get(k);
        if [
            "min_size",
            "max_size",
            "desired_capacity",
            "vpc_zone_identifier",
            "launch_template",
            "health_check_type",
            "health_check_grace_period",
            "default_cooldown",
            "protect_from_scale_in",
            "capacity_rebalance",
        ]
        .iter()
        .any(|k| changed(k))
        {
            asg.update_auto_scaling_group()
                .auto_scaling_group_name(name)
                .min_size(int(planned, "min_size").unwrap_or(0))
                .max_size(int(planned, "max_size").unwrap_or(0))
                .set_desired_capacity(int(planned, "desired_capacity"))
                .vpc_zone_identifier(strings(planned, "vpc_zone_identifier").join(","))
                .set_launch_template(launch_template(planned))
                .set_health_check_type(s(planned, "health_check_type").map(String::from))
                .set_health_check_grace_period(int(planned, "health_check_grace_period"))
                .set_default_cooldown(int(planned, "default_cooldown"))
                .new_instances_protected_from_scale_in(b(planned, "protect_from_scale_in").unwrap_or(false))
                .capacity_rebalance(b(planned, "capacity_rebalance").unwrap_or(false))
                .send()
                .await
                .map_err(|e| api("UpdateAutoScalingGroup", e))?;
        }
        if changed("target_group_arns") {
            let old = strings(prior, "target_group_arns");
            let new = strings(planned, "target_group_arns");
            let gone: Vec<String> = old.iter().filter(|a| !new.contains(a)).cloned().collect();
            let added: Vec<String> = new.iter().filter(|a| !old.contains(a)).cloned().collect();
            if !gone.is_empty() {
                asg.detach_load_balancer_target_groups()
                    .auto_scaling_group_name(name)
                    .set_target_group_arns(Some(gone))
                    .send()
                    .await
                    .map_err(|e| api("DetachLoadBalancerTargetGroups", e))?;
            }
            if !added.is_empty() {
                asg.attach_load_balancer_target_groups()
                    .auto_scaling_group_name(name)
                    .set_target_group_arns(Some(added))
                    .send()
                    .await
                    .map_err(|e| api("AttachLoadBalancerTargetGroups", e))?;
            }
        }
        if changed("tag") {
            let new = config_tags(name, planned);
            let stale: Vec<Tag> =
                config_tags(name, prior).into_iter().filter(|t| !new.iter().any(|n| n.key() == t.key())).collect();
            if !stale.is_empty() {
                asg.delete_tags().set_tags(Some(stale)).send().await.map_err(|e| api("DeleteTags", e))?;
            }
            if !new.is_empty() {
                asg.create_or_update_tags()
                    .set_tags(Some(new))
                    .send()
                    .await
                    .map_err(|e| api("CreateOrUpdateTags", e))?;
            }
        }
        self.read(ctx, planned)
            .await?
            .ok_or_else(|| ProviderError::new(format!("group {name} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let name = id(prior)?;
        // force_delete terminates the instances with the group.
        let delete =
            ctx.clients.autoscaling.delete_auto_scaling_group().auto_scaling_group_name(name).force_delete(true);
        let limit = crate::consistency::release(ctx, std::time::Duration::from_secs(600));
        let r = crate::consistency::retry(ctx, crate::consistency::SCALING_IN_PROGRESS, limit, || {
            let delete = delete.clone();
            async move { delete.send().await.map_err(|e| api("DeleteAutoScalingGroup", e)) }
        })
        .await;
        match r {
            Err(e) if e.message.contains("not found") => return Ok(()),
            r => {
                found(r)?;
            }
        }
        wait_for(ctx, name, ctx.settings.max_wait, "waiting for the group to be deleted", |g| g.is_none()).await
    }
    async fn import(&self, ctx: &Ctx<'_>, id: &str) -> Result<Option<Value>, ProviderError> {
        self.read(ctx, &obj(vec![("id", Value::str(id))])).await
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let Some(name) = &marker.name else { return Ok(None) };
        let groups = describe(ctx, vec![name.clone()]).await?;
        Ok(groups.iter().find(|g| is_ours(g, marker)).map(|g| to_value(g, &Value::Null, &ctx.settings.default_tags)))
    }
}
