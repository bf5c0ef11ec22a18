//! SNS: aws_sns_topic, aws_sns_topic_policy, aws_sns_topic_subscription.
//! Topics are keyed by ARN; CreateTopic on an existing name returns it, so
//! a retry after a crash finds the same topic.

use super::common::found;
use crate::error::api;
use crate::json_doc::canonical_policy;
use crate::tags::{self, Tags};
use crate::values::{b, id, obj, opt_str, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_sns::types::Tag;
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::collections::HashMap;

pub struct AwsSnsTopic;
pub struct AwsSnsTopicPolicy;
pub struct AwsSnsTopicSubscription;

fn sns_tags(t: &Tags) -> Vec<Tag> {
    t.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

async fn attributes(ctx: &Ctx<'_>, arn: &str) -> Result<Option<HashMap<String, String>>, ProviderError> {
    let out = found(
        ctx.clients.sns.get_topic_attributes().topic_arn(arn).send().await.map_err(|e| api("GetTopicAttributes", e)),
    )?;
    Ok(out.map(|o| o.attributes().cloned().unwrap_or_default()))
}

async fn set_attribute(ctx: &Ctx<'_>, arn: &str, name: &str, value: &str) -> Result<(), ProviderError> {
    ctx.clients
        .sns
        .set_topic_attributes()
        .topic_arn(arn)
        .attribute_name(name)
        .attribute_value(value)
        .send()
        .await
        .map_err(|e| api("SetTopicAttributes", e))?;
    Ok(())
}

fn canonical_or_raw(text: Option<&String>) -> Value {
    text.filter(|t| !t.is_empty())
        .map(|t| Value::String(canonical_policy(t).unwrap_or_else(|| t.clone())))
        .unwrap_or(Value::Null)
}

async fn read_topic(ctx: &Ctx<'_>, arn: &str) -> Result<Option<Value>, ProviderError> {
    let Some(a) = attributes(ctx, arn).await? else { return Ok(None) };
    let tagged = ctx
        .clients
        .sns
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| api("ListTagsForResource", e))?;
    let remote: Tags = tagged.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
    let (t, all) = tags::attributes_from_map(&remote, &ctx.settings.default_tags);
    let name = arn.rsplit(':').next().unwrap_or_default();
    let get = |k: &str| a.get(k).map(String::as_str).filter(|v| !v.is_empty());
    Ok(Some(obj(vec![
        ("id", Value::str(arn)),
        ("arn", Value::str(arn)),
        ("name", Value::str(name)),
        ("name_prefix", super::common::prefix_of(Some(name))),
        ("display_name", Value::str(a.get("DisplayName").map(String::as_str).unwrap_or(""))),
        ("policy", canonical_or_raw(a.get("Policy"))),
        ("delivery_policy", canonical_or_raw(a.get("DeliveryPolicy"))),
        ("kms_master_key_id", opt_str(a.get("KmsMasterKeyId").map(String::as_str).filter(|k| !k.is_empty()))),
        ("fifo_topic", Value::Bool(a.get("FifoTopic").is_some_and(|f| f == "true"))),
        ("content_based_deduplication", Value::Bool(get("ContentBasedDeduplication") == Some("true"))),
        ("fifo_throughput_scope", opt_str(get("FifoThroughputScope"))),
        (
            "signature_version",
            get("SignatureVersion").and_then(|v| v.parse::<f64>().ok()).map_or(Value::Null, Value::Number),
        ),
        ("tracing_config", opt_str(get("TracingConfig"))),
        ("archive_policy", canonical_or_raw(a.get("ArchivePolicy"))),
        ("beginning_archive_time", opt_str(get("BeginningArchiveTime"))),
        ("owner", opt_str(a.get("Owner").map(String::as_str))),
        ("tags", t),
        ("tags_all", all),
    ])))
}

/// Topic settings that SetTopicAttributes changes, by attribute name.
const TOPIC_SETTINGS: &[(&str, &str)] = &[
    ("display_name", "DisplayName"),
    ("policy", "Policy"),
    ("delivery_policy", "DeliveryPolicy"),
    ("kms_master_key_id", "KmsMasterKeyId"),
    ("content_based_deduplication", "ContentBasedDeduplication"),
    ("fifo_throughput_scope", "FifoThroughputScope"),
    ("signature_version", "SignatureVersion"),
    ("tracing_config", "TracingConfig"),
    ("archive_policy", "ArchivePolicy"),
];

/// A topic setting as SetTopicAttributes takes it ("" unsets), if known.
fn setting_text(planned: &Value, attr: &str) -> Option<String> {
    match planned.get(attr) {
        None | Some(Value::Null) => Some(String::new()),
        Some(v) if v.is_unknown() => None,
        Some(v) => v.to_template_string(),
    }
}

#[async_trait]
impl ResourceType for AwsSnsTopic {
    fn name(&self) -> &'static str {
        "aws_sns_topic"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An SNS topic. Import id: its ARN.",
            [
                ("id", A::computed(T::String, "The topic's ARN.")),
                ("arn", A::computed(T::String, "The topic's ARN.")),
                ("name", A::optional_computed(T::String, "The topic's name; generated when left out.").force_new()),
                ("name_prefix", super::common::name_prefix_schema()),
                (
                    "display_name",
                    A::optional(T::String, "Shown as the sender of SMS and email.").default(Value::str("")),
                ),
                ("policy", A::optional_computed(T::String, "The access policy (JSON); AWS writes a default one.")),
                ("delivery_policy", A::optional(T::String, "Retry policy for HTTP/S endpoints (JSON).")),
                ("kms_master_key_id", A::optional(T::String, "KMS key for server-side encryption.")),
                ("fifo_topic", A::optional(T::Bool, "A FIFO topic.").force_new().default(Value::Bool(false))),
                (
                    "content_based_deduplication",
                    A::optional(T::Bool, "FIFO: deduplicate by the message's body.").default(Value::Bool(false)),
                ),
                ("fifo_throughput_scope", A::optional_computed(T::String, "FIFO: Topic or MessageGroup.")),
                ("signature_version", A::optional_computed(T::Number, "1 (SHA1) or 2 (SHA256) for signed messages.")),
                ("tracing_config", A::optional_computed(T::String, "PassThrough or Active (X-Ray).")),
                ("archive_policy", A::optional(T::String, "FIFO: how long messages are archived (JSON).")),
                ("beginning_archive_time", A::computed(T::String, "The earliest time messages can be replayed from.")),
                ("owner", A::computed(T::String, "The owning account.")),
            ],
        )
    }
    fn documents(&self) -> Vec<(&'static str, crate::Meaning)> {
        vec![
            ("policy", |text, _| canonical_policy(text)),
            ("delivery_policy", |text, _| canonical_policy(text)),
            ("archive_policy", |text, _| canonical_policy(text)),
        ]
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let mut attrs = HashMap::new();
        if b(planned, "fifo_topic") == Some(true) {
            attrs.insert("FifoTopic".to_string(), "true".to_string());
        }
        let out = ctx
            .clients
            .sns
            .create_topic()
            .name(super::common::name_or_generated(planned, marker))
            .set_attributes(Some(attrs))
            .set_tags(Some(sns_tags(&t)))
            .send()
            .await
            .map_err(|e| api("CreateTopic", e))?;
        let arn = out.topic_arn().ok_or_else(|| ProviderError::new("CreateTopic returned no ARN"))?.to_string();
        for (attr, name) in TOPIC_SETTINGS {
            // What differs from a new topic's settings (false is one of them).
            if let Some(v) = setting_text(planned, attr).filter(|v| !v.is_empty() && v != "false") {
                set_attribute(ctx, &arn, name, &v).await?;
            }
        }
        crate::consistency::read_new(ctx, || read_topic(ctx, &arn))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new topic {arn} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        read_topic(ctx, id(state)?).await
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let arn = id(prior)?;
        for (attr, name) in TOPIC_SETTINGS {
            if planned.get(attr) != prior.get(attr)
                && let Some(v) = setting_text(planned, attr)
            {
                set_attribute(ctx, arn, name, &v).await?;
            }
        }
        let change = tags::change(prior, planned, &ctx.settings.default_tags);
        let sns = &ctx.clients.sns;
        if !change.removed.is_empty() {
            sns.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(change.removed))
                .send()
                .await
                .map_err(|e| api("UntagResource", e))?;
        }
        if !change.set.is_empty() {
            sns.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(sns_tags(&change.set)))
                .send()
                .await
                .map_err(|e| api("TagResource", e))?;
        }
        read_topic(ctx, arn)
            .await?
            .ok_or_else(|| ProviderError::new(format!("topic {arn} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        found(ctx.clients.sns.delete_topic().topic_arn(id(prior)?).send().await.map_err(|e| api("DeleteTopic", e)))?;
        Ok(())
    }
}

// ---------------------------------------------------------------- topic policy

/// The policy SNS gives a new topic: only its owner may use it. Deleting an
/// aws_sns_topic_policy puts this back, as Terraform does.
fn default_policy(arn: &str, owner: &str) -> String {
    serde_json::json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                       "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": owner}}
        }]
    })
    .to_string()
}

#[async_trait]
impl ResourceType for AwsSnsTopicPolicy {
    fn name(&self) -> &'static str {
        "aws_sns_topic_policy"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "The access policy of an SNS topic. Import id: the topic's ARN.",
            [
                ("id", A::computed(T::String, "The topic's ARN.")),
                ("arn", A::required(T::String, "The topic's ARN.").force_new()),
                ("policy", A::required(T::String, "The access policy (JSON).")),
                ("owner", A::computed(T::String, "The topic's owning account.")),
            ],
        )
    }
    fn documents(&self) -> Vec<(&'static str, crate::Meaning)> {
        vec![("policy", |text, _| canonical_policy(text))]
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, _marker: &Marker) -> Result<Value, ProviderError> {
        let key = obj(vec![("id", Value::str(req(planned, "arn")?))]);
        self.update(ctx, &key, planned).await
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let arn = id(state)?;
        let Some(a) = attributes(ctx, arn).await? else { return Ok(None) };
        Ok(Some(obj(vec![
            ("id", Value::str(arn)),
            ("arn", Value::str(arn)),
            ("policy", canonical_or_raw(a.get("Policy"))),
            ("owner", opt_str(a.get("Owner").map(String::as_str))),
        ])))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let arn = id(prior)?;
        set_attribute(ctx, arn, "Policy", req(planned, "policy")?).await?;
        self.read(ctx, prior).await?.ok_or_else(|| ProviderError::new(format!("topic {arn} is gone")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let arn = id(prior)?;
        let Some(a) = attributes(ctx, arn).await? else { return Ok(()) };
        let owner = a.get("Owner").cloned().unwrap_or_default();
        set_attribute(ctx, arn, "Policy", &default_policy(arn, &owner))
            .await
            .or_else(|e| if crate::error::is_not_found(&e) { Ok(()) } else { Err(e) })
    }
}

// ---------------------------------------------------------------- subscription

#[async_trait]
impl ResourceType for AwsSnsTopicSubscription {
    fn name(&self) -> &'static str {
        "aws_sns_topic_subscription"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A subscription of an endpoint to an SNS topic. Import id: its ARN.",
            [
                ("id", A::computed(T::String, "The subscription's ARN.")),
                ("arn", A::computed(T::String, "The subscription's ARN.")),
                ("topic_arn", A::required(T::String, "The topic's ARN.").force_new()),
                ("protocol", A::required(T::String, "email, email-json, https, http, sqs, lambda, sms...").force_new()),
                ("endpoint", A::required(T::String, "Where messages go.").force_new()),
                (
                    "raw_message_delivery",
                    A::optional(T::Bool, "Deliver the message as published.").default(Value::Bool(false)),
                ),
                ("filter_policy", A::optional(T::String, "Which messages to deliver (JSON).")),
                (
                    "filter_policy_scope",
                    A::optional_computed(T::String, "What the filter policy reads: MessageAttributes or MessageBody."),
                ),
                (
                    "confirmation_was_authenticated",
                    A::computed(T::Bool, "The subscription was confirmed with authentication."),
                ),
                ("pending_confirmation", A::computed(T::Bool, "The endpoint has not confirmed yet (email, http/s).")),
                ("owner_id", A::computed(T::String, "The owning account.")),
                // Settings of Terraform's provider only (AWS knows nothing of
                // them), kept in state so that Terraform reads what it expects.
                (
                    "confirmation_timeout_in_minutes",
                    A::optional(T::Number, "How long Terraform's provider waits for an http(s) confirmation.")
                        .default(Value::Number(1.0)),
                ),
                (
                    "endpoint_auto_confirms",
                    A::optional(
                        T::Bool,
                        "The http(s) endpoint confirms by itself (Terraform's provider waits for it).",
                    )
                    .default(Value::Bool(false)),
                ),
            ],
        )
    }
    fn documents(&self) -> Vec<(&'static str, crate::Meaning)> {
        vec![("filter_policy", |text, _| crate::json_doc::canonical(text))]
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, _marker: &Marker) -> Result<Value, ProviderError> {
        let mut attrs = HashMap::new();
        if b(planned, "raw_message_delivery") == Some(true) {
            attrs.insert("RawMessageDelivery".to_string(), "true".to_string());
        }
        if let Some(f) = s(planned, "filter_policy") {
            attrs.insert("FilterPolicy".to_string(), f.to_string());
        }
        if let Some(scope) = s(planned, "filter_policy_scope") {
            attrs.insert("FilterPolicyScope".to_string(), scope.to_string());
        }
        // Subscribe is idempotent for the same topic, protocol and endpoint.
        let out = ctx
            .clients
            .sns
            .subscribe()
            .topic_arn(req(planned, "topic_arn")?)
            .protocol(req(planned, "protocol")?)
            .endpoint(req(planned, "endpoint")?)
            .set_attributes(Some(attrs))
            .return_subscription_arn(true)
            .send()
            .await
            .map_err(|e| api("Subscribe", e))?;
        let arn = out.subscription_arn().ok_or_else(|| ProviderError::new("Subscribe returned no ARN"))?;
        let new_key = obj(vec![
            ("id", Value::str(arn)),
            (
                "confirmation_timeout_in_minutes",
                planned.get("confirmation_timeout_in_minutes").cloned().unwrap_or(Value::Null),
            ),
            ("endpoint_auto_confirms", planned.get("endpoint_auto_confirms").cloned().unwrap_or(Value::Null)),
        ]);
        crate::consistency::read_new(ctx, || self.read(ctx, &new_key))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new subscription {arn} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let arn = id(state)?;
        let out = found(
            ctx.clients
                .sns
                .get_subscription_attributes()
                .subscription_arn(arn)
                .send()
                .await
                .map_err(|e| api("GetSubscriptionAttributes", e)),
        )?;
        let Some(a) = out.map(|o| o.attributes().cloned().unwrap_or_default()) else { return Ok(None) };
        let get = |k: &str| a.get(k).map(String::as_str);
        Ok(Some(obj(vec![
            ("id", Value::str(arn)),
            ("arn", Value::str(arn)),
            ("topic_arn", opt_str(get("TopicArn"))),
            ("protocol", opt_str(get("Protocol"))),
            ("endpoint", opt_str(get("Endpoint"))),
            ("raw_message_delivery", Value::Bool(get("RawMessageDelivery") == Some("true"))),
            (
                "filter_policy",
                opt_str(get("FilterPolicy").filter(|f| !f.is_empty()).and_then(crate::json_doc::canonical).as_deref()),
            ),
            ("filter_policy_scope", opt_str(get("FilterPolicyScope"))),
            ("confirmation_was_authenticated", Value::Bool(get("ConfirmationWasAuthenticated") == Some("true"))),
            ("pending_confirmation", Value::Bool(get("PendingConfirmation") == Some("true"))),
            ("owner_id", opt_str(get("Owner"))),
            // Not AWS's: as they were (or as configured, after a create).
            (
                "confirmation_timeout_in_minutes",
                state
                    .get("confirmation_timeout_in_minutes")
                    .filter(|v| !v.is_null())
                    .cloned()
                    .unwrap_or(Value::Number(1.0)),
            ),
            (
                "endpoint_auto_confirms",
                state.get("endpoint_auto_confirms").filter(|v| !v.is_null()).cloned().unwrap_or(Value::Bool(false)),
            ),
        ])))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let arn = id(prior)?;
        let sns = &ctx.clients.sns;
        if planned.get("raw_message_delivery") != prior.get("raw_message_delivery") {
            let v = if b(planned, "raw_message_delivery") == Some(true) { "true" } else { "false" };
            sns.set_subscription_attributes()
                .subscription_arn(arn)
                .attribute_name("RawMessageDelivery")
                .attribute_value(v)
                .send()
                .await
                .map_err(|e| api("SetSubscriptionAttributes", e))?;
        }
        if planned.get("filter_policy") != prior.get("filter_policy") {
            sns.set_subscription_attributes()
                .subscription_arn(arn)
                .attribute_name("FilterPolicy")
                .attribute_value(s(planned, "filter_policy").unwrap_or(""))
                .send()
                .await
                .map_err(|e| api("SetSubscriptionAttributes", e))?;
        }
        if let Some(scope) = s(planned, "filter_policy_scope")
            .filter(|_| planned.get("filter_policy_scope") != prior.get("filter_policy_scope"))
        {
            sns.set_subscription_attributes()
                .subscription_arn(arn)
                .attribute_name("FilterPolicyScope")
                .attribute_value(scope)
                .send()
                .await
                .map_err(|e| api("SetSubscriptionAttributes", e))?;
        }
        self.read(ctx, prior).await?.ok_or_else(|| ProviderError::new(format!("subscription {arn} disappeared")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let arn = id(prior)?;
        // A subscription still pending confirmation cannot be removed; AWS drops it after three days.
        if b(prior, "pending_confirmation") == Some(true) || arn == "pending confirmation" {
            return Ok(());
        }
        found(ctx.clients.sns.unsubscribe().subscription_arn(arn).send().await.map_err(|e| api("Unsubscribe", e)))?;
        Ok(())
    }
}
