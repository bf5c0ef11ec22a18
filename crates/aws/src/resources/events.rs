//! EventBridge: aws_cloudwatch_event_rule and aws_cloudwatch_event_target.
//! Event patterns are compared by meaning. Ids as Terraform's: a rule on the
//! default bus is its name (else BUS/NAME); a target is RULE-TARGET_ID, and
//! is imported as RULE/TARGET_ID or BUS/RULE/TARGET_ID.

use super::common::{adoption_name, found};
use crate::error::api;
use crate::json_doc::canonical;
use crate::tags::{self, Tags};
use crate::values::{b, id, obj, opt_str, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_eventbridge::types::{RuleState, Tag, Target};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;

pub struct AwsCloudwatchEventRule;
pub struct AwsCloudwatchEventTarget;

const DEFAULT_BUS: &str = "default";

fn event_tags(t: &Tags) -> Vec<Tag> {
    t.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

/// (bus, rule name) from a rule's id.
fn rule_key(id: &str) -> (&str, &str) {
    id.rsplit_once('/').unwrap_or((DEFAULT_BUS, id))
}

fn rule_id(bus: &str, name: &str) -> String {
    if bus == DEFAULT_BUS { name.to_string() } else { format!("{bus}/{name}") }
}

async fn remote_tags(ctx: &Ctx<'_>, arn: &str) -> Result<Tags, ProviderError> {
    let out = ctx
        .clients
        .events
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| api("ListTagsForResource", e))?;
    Ok(out.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
}

async fn read_rule(ctx: &Ctx<'_>, bus: &str, name: &str) -> Result<Option<Value>, ProviderError> {
    let out = found(
        ctx.clients
            .events
            .describe_rule()
            .name(name)
            .event_bus_name(bus)
            .send()
            .await
            .map_err(|e| api("DescribeRule", e)),
    )?;
    let Some(r) = out else { return Ok(None) };
    let arn = r.arn().unwrap_or_default();
    let (t, all) = tags::attributes_from_map(&remote_tags(ctx, arn).await?, &ctx.settings.default_tags);
    Ok(Some(obj(vec![
        ("id", Value::String(rule_id(bus, name))),
        ("arn", Value::str(arn)),
        ("name", Value::str(name)),
        ("name_prefix", super::common::prefix_of(Some(name))),
        ("event_bus_name", Value::str(bus)),
        ("description", opt_str(r.description())),
        ("event_pattern", opt_str(r.event_pattern().map(|p| canonical(p).unwrap_or_else(|| p.to_string())).as_deref())),
        ("schedule_expression", opt_str(r.schedule_expression())),
        ("role_arn", opt_str(r.role_arn())),
        ("state", Value::str(r.state().map(|s| s.as_str()).unwrap_or("ENABLED"))),
        ("tags", t),
        ("tags_all", all),
    ])))
}

/// `force_destroy`: how ecspoc deletes, not something AWS keeps.
fn force_destroy_schema(description: &'static str) -> A {
    A::optional(T::Bool, description).default(Value::Bool(false))
}

/// `v` with the `force_destroy` setting of `from` (planned or prior state).
fn with_force_destroy(v: Value, from: &Value) -> Value {
    super::common::with_setting(v, from, "force_destroy", Value::Bool(false))
}

async fn put_rule(ctx: &Ctx<'_>, planned: &Value, name: &str, tags: Option<Vec<Tag>>) -> Result<(), ProviderError> {
    ctx.clients
        .events
        .put_rule()
        .name(name)
        .event_bus_name(s(planned, "event_bus_name").unwrap_or(DEFAULT_BUS))
        .set_description(s(planned, "description").map(String::from))
        .set_event_pattern(s(planned, "event_pattern").map(String::from))
        .set_schedule_expression(s(planned, "schedule_expression").map(String::from))
        .set_role_arn(s(planned, "role_arn").map(String::from))
        .state(RuleState::from(s(planned, "state").unwrap_or("ENABLED")))
        .set_tags(tags)
        .send()
        .await
        .map_err(|e| api("PutRule", e))?;
    Ok(())
}

#[async_trait]
impl ResourceType for AwsCloudwatchEventRule {
    fn name(&self) -> &'static str {
        "aws_cloudwatch_event_rule"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An EventBridge rule: an event pattern or a schedule.",
            [
                ("id", A::computed(T::String, "NAME, or BUS/NAME off the default bus.")),
                ("arn", A::computed(T::String, "The rule's ARN.")),
                ("name", A::optional_computed(T::String, "The rule's name; generated when left out.").force_new()),
                ("name_prefix", super::common::name_prefix_schema()),
                (
                    "event_bus_name",
                    A::optional(T::String, "The event bus.").force_new().default(Value::str(DEFAULT_BUS)),
                ),
                ("description", A::optional(T::String, "What the rule is for.")),
                ("event_pattern", A::optional(T::String, "Which events match (JSON).")),
                ("schedule_expression", A::optional(T::String, "cron(...) or rate(...).")),
                ("role_arn", A::optional(T::String, "Role EventBridge uses to reach targets.")),
                (
                    "state",
                    A::optional(T::String, "ENABLED, DISABLED or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS.")
                        .api_default(Value::str("ENABLED")),
                ),
                ("force_destroy", force_destroy_schema("Delete the rule even if another service manages it.")),
            ],
        )
    }
    fn documents(&self) -> Vec<(&'static str, crate::Meaning)> {
        vec![("event_pattern", |text, _| canonical(text))]
    }
    fn validate(&self, config: &Value) -> Vec<String> {
        let mut errs = Vec::new();
        if let Some(p) = s(config, "event_pattern")
            && canonical(p).is_none()
        {
            errs.push("event_pattern is not valid JSON; build it with jsonencode(...)".to_string());
        }
        if s(config, "event_pattern").is_none() && s(config, "schedule_expression").is_none() {
            errs.push("one of event_pattern or schedule_expression must be set".to_string());
        }
        errs
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = super::common::name_or_generated(planned, marker);
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        // PutRule creates or overwrites: a retry after a crash is harmless.
        put_rule(ctx, planned, &name, Some(event_tags(&t))).await?;
        let bus = s(planned, "event_bus_name").unwrap_or(DEFAULT_BUS);
        let v = crate::consistency::read_new(ctx, || read_rule(ctx, bus, &name))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new rule {name} could not be read back")))?;
        Ok(with_force_destroy(v, planned))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let (bus, name) = rule_key(id(state)?);
        Ok(read_rule(ctx, bus, name).await?.map(|v| with_force_destroy(v, state)))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let (bus, name) = rule_key(id(prior)?);
        put_rule(ctx, planned, name, None).await?;
        let arn = req(prior, "arn")?;
        let change = tags::change(prior, planned, &ctx.settings.default_tags);
        let ev = &ctx.clients.events;
        if !change.removed.is_empty() {
            ev.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(change.removed))
                .send()
                .await
                .map_err(|e| api("UntagResource", e))?;
        }
        if !change.set.is_empty() {
            ev.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(event_tags(&change.set)))
                .send()
                .await
                .map_err(|e| api("TagResource", e))?;
        }
        let v = read_rule(ctx, bus, name)
            .await?
            .ok_or_else(|| ProviderError::new(format!("rule {name} disappeared during the update")))?;
        Ok(with_force_destroy(v, planned))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let (bus, name) = rule_key(id(prior)?);
        found(
            ctx.clients
                .events
                .delete_rule()
                .name(name)
                .event_bus_name(bus)
                .force(b(prior, "force_destroy").unwrap_or(false))
                .send()
                .await
                .map_err(|e| api("DeleteRule", e)),
        )?;
        Ok(())
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let name = adoption_name(marker);
        let Some(v) = read_rule(ctx, DEFAULT_BUS, &name).await? else { return Ok(None) };
        let v = with_force_destroy(v, &Value::Null);
        let remote = remote_tags(ctx, s(&v, "arn").unwrap_or_default()).await?;
        Ok(tags::has_marker(&remote, marker).then_some(v))
    }
}

// ---------------------------------------------------------------- target

/// (bus, rule, target id) from a target's id or import id.
fn target_key(id: &str) -> Result<(String, String, String), ProviderError> {
    let parts: Vec<&str> = id.split('/').collect();
    match parts.as_slice() {
        [bus, rule, target] => Ok((bus.to_string(), rule.to_string(), target.to_string())),
        [rule, target] => Ok((DEFAULT_BUS.into(), rule.to_string(), target.to_string())),
        _ => Err(ProviderError::new(format!(
            "an aws_cloudwatch_event_target is imported as RULE/TARGET_ID or BUS/RULE/TARGET_ID, got {id:?}"
        ))),
    }
}

#[async_trait]
impl ResourceType for AwsCloudwatchEventTarget {
    fn name(&self) -> &'static str {
        "aws_cloudwatch_event_target"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "Where an EventBridge rule sends matching events.",
            [
                ("id", A::computed(T::String, "RULE-TARGET_ID.")),
                ("rule", A::required(T::String, "The rule's name.").force_new()),
                (
                    "event_bus_name",
                    A::optional(T::String, "The rule's bus.").force_new().default(Value::str(DEFAULT_BUS)),
                ),
                ("target_id", A::optional_computed(T::String, "The target's id within the rule.").force_new()),
                ("arn", A::required(T::String, "The target's ARN (SNS topic, SQS queue, Lambda...).")),
                ("input", A::optional(T::String, "Constant JSON sent instead of the event.")),
                ("input_path", A::optional(T::String, "JSONPath of the part of the event to send.")),
                ("role_arn", A::optional(T::String, "Role EventBridge uses to reach the target.")),
                ("force_destroy", force_destroy_schema("Remove the target even from a rule another service manages.")),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let target_id = match s(planned, "target_id") {
            Some(t) => t.to_string(),
            None => super::common::generated_name(marker),
        };
        let mut p = planned.clone();
        if let Value::Map(m) = &mut p {
            m.insert("target_id".into(), Value::String(target_id));
        }
        self.update(ctx, &p, &p).await
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let (bus, rule, target) = match (s(state, "rule"), s(state, "target_id")) {
            (Some(r), Some(t)) => {
                (s(state, "event_bus_name").unwrap_or(DEFAULT_BUS).to_string(), r.to_string(), t.to_string())
            }
            _ => target_key(id(state)?)?,
        };
        let mut token = None;
        loop {
            let page = ctx
                .clients
                .events
                .list_targets_by_rule()
                .rule(&rule)
                .event_bus_name(&bus)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| api("ListTargetsByRule", e));
            let Some(page) = found(page)? else { return Ok(None) };
            if let Some(t) = page.targets().iter().find(|t| t.id() == target) {
                let v = obj(vec![
                    ("id", Value::String(format!("{rule}-{target}"))),
                    ("rule", Value::str(&rule)),
                    ("event_bus_name", Value::str(&bus)),
                    ("target_id", Value::str(&target)),
                    ("arn", Value::str(t.arn())),
                    ("input", opt_str(t.input())),
                    ("input_path", opt_str(t.input_path())),
                    ("role_arn", opt_str(t.role_arn())),
                ]);
                return Ok(Some(with_force_destroy(v, state)));
            }
            token = page.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
        Ok(None)
    }
    async fn import(&self, ctx: &Ctx<'_>, id: &str) -> Result<Option<Value>, ProviderError> {
        let (bus, rule, target) = target_key(id)?;
        let key = obj(vec![
            ("rule", Value::String(rule)),
            ("target_id", Value::String(target)),
            ("event_bus_name", Value::String(bus)),
        ]);
        self.read(ctx, &key).await
    }
    async fn update(&self, ctx: &Ctx<'_>, _prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let target = Target::builder()
            .id(req(planned, "target_id")?)
            .arn(req(planned, "arn")?)
            .set_input(s(planned, "input").map(String::from))
            .set_input_path(s(planned, "input_path").map(String::from))
            .set_role_arn(s(planned, "role_arn").map(String::from))
            .build()
            .map_err(|e| ProviderError::new(format!("event target: {e}")))?;
        let out = ctx
            .clients
            .events
            .put_targets()
            .rule(req(planned, "rule")?)
            .event_bus_name(s(planned, "event_bus_name").unwrap_or(DEFAULT_BUS))
            .targets(target)
            .send()
            .await
            .map_err(|e| api("PutTargets", e))?;
        if let Some(f) = out.failed_entries().first() {
            return Err(ProviderError::api(
                "PutTargets",
                f.error_code(),
                f.error_message().unwrap_or("the target was not added").to_string(),
            ));
        }
        crate::consistency::read_new(ctx, || self.read(ctx, planned))
            .await?
            .ok_or_else(|| ProviderError::new("the event target could not be read back"))
            .map(|v| with_force_destroy(v, planned))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        found(
            ctx.clients
                .events
                .remove_targets()
                .rule(req(prior, "rule")?)
                .event_bus_name(s(prior, "event_bus_name").unwrap_or(DEFAULT_BUS))
                .force(b(prior, "force_destroy").unwrap_or(false))
                .ids(req(prior, "target_id")?)
                .send()
                .await
                .map_err(|e| api("RemoveTargets", e)),
        )?;
        Ok(())
    }
}
