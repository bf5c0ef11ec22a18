//! aws_cloudwatch_log_group. Its id is its name; `arn` is without the
//! trailing `:*` that DescribeLogGroups adds, as in Terraform.

use super::common::{found, int, int_value};
use crate::error::api;
use crate::tags::{self, Tags};
use crate::values::{b, id, obj, opt_str, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::collections::HashMap;

pub struct AwsCloudwatchLogGroup;

async fn remote_tags(ctx: &Ctx<'_>, arn: &str) -> Result<Tags, ProviderError> {
    let out = ctx
        .clients
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| api("ListTagsForResource", e))?;
    Ok(out.tags().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default())
}

async fn to_value(ctx: &Ctx<'_>, g: &aws_sdk_cloudwatchlogs::types::LogGroup) -> Result<Value, ProviderError> {
    let name = g.log_group_name().unwrap_or_default();
    let arn = g.arn().unwrap_or_default().trim_end_matches(":*").to_string();
    let (t, all) = tags::attributes_from_map(&remote_tags(ctx, &arn).await?, &ctx.settings.default_tags);
    Ok(obj(vec![
        ("id", Value::str(name)),
        ("name", Value::str(name)),
        ("name_prefix", super::common::prefix_of(Some(name))),
        ("arn", Value::String(arn)),
        ("retention_in_days", int_value(Some(g.retention_in_days().unwrap_or(0)))),
        ("kms_key_id", opt_str(g.kms_key_id())),
        ("log_group_class", Value::str(g.log_group_class().map(|c| c.as_str()).unwrap_or("STANDARD"))),
        ("skip_destroy", Value::Bool(false)),
        ("tags", t),
        ("tags_all", all),
    ]))
}

/// Log groups whose names start with `prefix`, by name.
async fn describe(
    ctx: &Ctx<'_>,
    prefix: &str,
) -> Result<HashMap<String, aws_sdk_cloudwatchlogs::types::LogGroup>, ProviderError> {
    let mut out = HashMap::new();
    let mut pages = ctx.clients.logs.describe_log_groups().log_group_name_prefix(prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        for g in page.map_err(|e| api("DescribeLogGroups", e))?.log_groups() {
            out.insert(g.log_group_name().unwrap_or_default().to_string(), g.clone());
        }
    }
    Ok(out)
}

async fn set_retention(ctx: &Ctx<'_>, name: &str, days: Option<i32>) -> Result<(), ProviderError> {
    let logs = &ctx.clients.logs;
    match days.filter(|d| *d > 0) {
        Some(d) => {
            logs.put_retention_policy()
                .log_group_name(name)
                .retention_in_days(d)
                .send()
                .await
                .map_err(|e| api("PutRetentionPolicy", e))?;
        }
        None => {
            found(
                logs.delete_retention_policy()
                    .log_group_name(name)
                    .send()
                    .await
                    .map_err(|e| api("DeleteRetentionPolicy", e)),
            )?;
        }
    }
    Ok(())
}

const RETENTION_DAYS: &[i32] =
    &[0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

#[async_trait]
impl ResourceType for AwsCloudwatchLogGroup {
    fn name(&self) -> &'static str {
        "aws_cloudwatch_log_group"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A CloudWatch Logs log group.",
            [
                ("id", A::computed(T::String, "The group's name.")),
                ("name", A::optional_computed(T::String, "The group's name; generated when left out.").force_new()),
                ("name_prefix", super::common::name_prefix_schema()),
                ("arn", A::computed(T::String, "The group's ARN.")),
                (
                    "retention_in_days",
                    A::optional(T::Number, "Days to keep events; 0 keeps them forever.").default(Value::Number(0.0)),
                ),
                ("kms_key_id", A::optional(T::String, "KMS key that encrypts the group.")),
                ("log_group_class", A::optional_computed(T::String, "STANDARD or INFREQUENT_ACCESS.").force_new()),
                (
                    "skip_destroy",
                    A::optional(T::Bool, "Keep the group when the resource is destroyed.").default(Value::Bool(false)),
                ),
            ],
        )
        .holds_data()
    }
    fn validate(&self, config: &Value) -> Vec<String> {
        match int(config, "retention_in_days") {
            Some(d) if !RETENTION_DAYS.contains(&d) => {
                vec![format!("retention_in_days must be one of {RETENTION_DAYS:?}, got {d}")]
            }
            _ => Vec::new(),
        }
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = &super::common::name_or_generated(planned, marker);
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let r = ctx
            .clients
            .logs
            .create_log_group()
            .log_group_name(name)
            .set_kms_key_id(s(planned, "kms_key_id").map(String::from))
            .log_group_class(s(planned, "log_group_class").unwrap_or("STANDARD").into())
            .set_tags(Some(t.into_iter().collect()))
            .send()
            .await
            .map_err(|e| api("CreateLogGroup", e));
        if let Err(e) = r
            && (e.code.as_deref() != Some("ResourceAlreadyExistsException") || self.adopt(ctx, marker).await?.is_none())
        {
            return Err(e);
        }
        set_retention(ctx, name, int(planned, "retention_in_days")).await?;
        let new_key = obj(vec![("id", Value::str(name))]);
        crate::consistency::read_new(ctx, || self.read(ctx, &new_key))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new log group {name} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let name = id(state)?;
        match describe(ctx, name).await?.get(name) {
            Some(g) => Ok(Some(to_value(ctx, g).await?)),
            None => Ok(None),
        }
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let name = id(prior)?;
        let logs = &ctx.clients.logs;
        if planned.get("retention_in_days") != prior.get("retention_in_days") {
            set_retention(ctx, name, int(planned, "retention_in_days")).await?;
        }
        if planned.get("kms_key_id") != prior.get("kms_key_id") {
            match s(planned, "kms_key_id") {
                Some(k) => logs
                    .associate_kms_key()
                    .log_group_name(name)
                    .kms_key_id(k)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| api("AssociateKmsKey", e))?,
                None => logs
                    .disassociate_kms_key()
                    .log_group_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| api("DisassociateKmsKey", e))?,
            }
        }
        let arn = req(prior, "arn")?;
        let change = tags::change(prior, planned, &ctx.settings.default_tags);
        if !change.removed.is_empty() {
            logs.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(change.removed))
                .send()
                .await
                .map_err(|e| api("UntagResource", e))?;
        }
        if !change.set.is_empty() {
            logs.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(change.set.into_iter().collect()))
                .send()
                .await
                .map_err(|e| api("TagResource", e))?;
        }
        self.read(ctx, prior)
            .await?
            .ok_or_else(|| ProviderError::new(format!("log group {name} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        if b(prior, "skip_destroy") == Some(true) {
            return Ok(());
        }
        found(
            ctx.clients
                .logs
                .delete_log_group()
                .log_group_name(id(prior)?)
                .send()
                .await
                .map_err(|e| api("DeleteLogGroup", e)),
        )?;
        Ok(())
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let Some(name) = &marker.name else { return Ok(None) };
        let Some(g) = describe(ctx, name).await?.remove(name) else { return Ok(None) };
        let arn = g.arn().unwrap_or_default().trim_end_matches(":*").to_string();
        if tags::has_marker(&remote_tags(ctx, &arn).await?, marker) {
            Ok(Some(to_value(ctx, &g).await?))
        } else {
            Ok(None)
        }
    }
}
