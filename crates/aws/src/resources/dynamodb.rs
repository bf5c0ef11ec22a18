//! DynamoDB: aws_dynamodb_table, for the S3 backend's lock table (bootstrap/)
//! and whatever else a stack keeps in a table. Keyed by name; a create that
//! meets its own table (marker tag) from an interrupted run adopts it.

use super::common::{block_list, block_set, blocks, found, int, int_value};
use crate::error::api;
use crate::tags::{self, Tags};
use crate::values::{b, id, obj, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PointInTimeRecoverySpecification,
    PointInTimeRecoveryStatus, ProvisionedThroughput, ScalarAttributeType, TableStatus, Tag,
};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::time::{Duration, Instant};

pub struct AwsDynamodbTable;

fn invalid(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(format!("aws_dynamodb_table: {e}"))
}

fn db_tags(t: &Tags) -> Vec<Tag> {
    t.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

async fn remote_tags(ctx: &Ctx<'_>, arn: &str) -> Result<Tags, ProviderError> {
    let mut out = Tags::new();
    let mut token: Option<String> = None;
    loop {
        let page = ctx
            .clients
            .dynamodb
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| api("ListTagsOfResource", e))?;
        out.extend(page.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())));
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return Ok(out),
        }
    }
}

/// The table as Terraform records it, or None when there is no such table.
async fn read_table(ctx: &Ctx<'_>, name: &str) -> Result<Option<Value>, ProviderError> {
    let db = &ctx.clients.dynamodb;
    let out = found(db.describe_table().table_name(name).send().await.map_err(|e| api("DescribeTable", e)))?;
    let Some(t) = out.as_ref().and_then(|o| o.table()) else { return Ok(None) };
    if t.table_status() == Some(&TableStatus::Deleting) {
        return Ok(None);
    }
    let arn = t.table_arn().unwrap_or_default().to_string();
    let key = |kind: KeyType| {
        t.key_schema()
            .iter()
            .find(|k| k.key_type() == &kind)
            .map(|k| Value::str(k.attribute_name()))
            .unwrap_or(Value::Null)
    };
    let mut attributes: Vec<(String, String)> = t
        .attribute_definitions()
        .iter()
        .map(|a| (a.attribute_name().to_string(), a.attribute_type().as_str().to_string()))
        .collect();
    attributes.sort();
    let billing = t.billing_mode_summary().and_then(|b| b.billing_mode()).map(|m| m.as_str()).unwrap_or("PROVISIONED");
    let throughput = t.provisioned_throughput();
    let pitr = db
        .describe_continuous_backups()
        .table_name(name)
        .send()
        .await
        .map_err(|e| api("DescribeContinuousBackups", e))?
        .continuous_backups_description()
        .and_then(|c| c.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        .is_some_and(|s| s == &PointInTimeRecoveryStatus::Enabled);
    let (tags_value, all) = tags::attributes_from_map(&remote_tags(ctx, &arn).await?, &ctx.settings.default_tags);
    Ok(Some(obj(vec![
        ("id", Value::str(name)),
        ("name", Value::str(name)),
        ("arn", Value::String(arn)),
        ("billing_mode", Value::str(billing)),
        ("hash_key", key(KeyType::Hash)),
        ("range_key", key(KeyType::Range)),
        (
            "attribute",
            Value::List(
                attributes
                    .into_iter()
                    .map(|(n, ty)| obj(vec![("name", Value::String(n)), ("type", Value::String(ty))]))
                    .collect(),
            ),
        ),
        ("read_capacity", int_value(throughput.and_then(|p| p.read_capacity_units()).map(|n| n as i32))),
        ("write_capacity", int_value(throughput.and_then(|p| p.write_capacity_units()).map(|n| n as i32))),
        ("deletion_protection_enabled", Value::Bool(t.deletion_protection_enabled().unwrap_or(false))),
        ("point_in_time_recovery", Value::List(vec![obj(vec![("enabled", Value::Bool(pitr))])])),
        ("tags", tags_value),
        ("tags_all", all),
    ])))
}

/// Until the table is ACTIVE (creates and updates take seconds to minutes).
async fn wait_active(ctx: &Ctx<'_>, name: &str) -> Result<(), ProviderError> {
    let limit = crate::consistency::release(ctx, Duration::from_secs(600));
    let start = Instant::now();
    loop {
        let out = ctx.clients.dynamodb.describe_table().table_name(name).send().await;
        let status = out.ok().and_then(|o| o.table().and_then(|t| t.table_status().cloned()));
        if status == Some(TableStatus::Active) {
            return Ok(());
        }
        if start.elapsed() >= limit {
            return Err(invalid(format!(
                "table {name} is still {} after {} s",
                status.map(|s| s.as_str().to_string()).unwrap_or_else(|| "not visible".into()),
                limit.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn throughput(planned: &Value) -> Result<Option<ProvisionedThroughput>, ProviderError> {
    if s(planned, "billing_mode") == Some("PAY_PER_REQUEST") {
        return Ok(None);
    }
    let units = |k| {
        int(planned, k).map(i64::from).ok_or_else(|| invalid(format!("{k} is required with billing_mode PROVISIONED")))
    };
    ProvisionedThroughput::builder()
        .read_capacity_units(units("read_capacity")?)
        .write_capacity_units(units("write_capacity")?)
        .build()
        .map(Some)
        .map_err(invalid)
}

async fn set_pitr(ctx: &Ctx<'_>, name: &str, enabled: bool) -> Result<(), ProviderError> {
    let spec =
        PointInTimeRecoverySpecification::builder().point_in_time_recovery_enabled(enabled).build().map_err(invalid)?;
    ctx.clients
        .dynamodb
        .update_continuous_backups()
        .table_name(name)
        .point_in_time_recovery_specification(spec)
        .send()
        .await
        .map_err(|e| api("UpdateContinuousBackups", e))?;
    Ok(())
}

fn pitr_wanted(planned: &Value) -> Option<bool> {
    blocks(planned, "point_in_time_recovery").first().and_then(|p| b(p, "enabled"))
}

#[async_trait]
impl ResourceType for AwsDynamodbTable {
    fn name(&self) -> &'static str {
        "aws_dynamodb_table"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A DynamoDB table. Import id: its name.",
            [
                ("id", A::computed(T::String, "The table's name.")),
                ("name", A::required(T::String, "The table's name.").force_new()),
                ("arn", A::computed(T::String, "The table's ARN.")),
                (
                    "billing_mode",
                    A::optional(T::String, "PROVISIONED (read/write capacity) or PAY_PER_REQUEST.")
                        .default(Value::str("PROVISIONED")),
                ),
                ("hash_key", A::required(T::String, "The partition key's attribute.").force_new()),
                ("range_key", A::optional(T::String, "The sort key's attribute.").force_new()),
                (
                    "attribute",
                    A::required(
                        block_set(&[("name", T::String), ("type", T::String)], &["name", "type"]),
                        "Key attributes: name and type (S, N or B).",
                    )
                    .force_new(),
                ),
                ("read_capacity", A::optional_computed(T::Number, "Read capacity units (PROVISIONED).")),
                ("write_capacity", A::optional_computed(T::Number, "Write capacity units (PROVISIONED).")),
                (
                    "deletion_protection_enabled",
                    A::optional(T::Bool, "Refuse DeleteTable while set.").default(Value::Bool(false)),
                ),
                (
                    "point_in_time_recovery",
                    A::optional_computed(block_list(&[("enabled", T::Bool)], &["enabled"]), "Continuous backups."),
                ),
            ],
        )
        .holds_data()
    }
    fn validate(&self, config: &Value) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(m) = s(config, "billing_mode")
            && !["PROVISIONED", "PAY_PER_REQUEST"].contains(&m)
        {
            out.push(format!("billing_mode must be PROVISIONED or PAY_PER_REQUEST, got {m:?}"));
        }
        let names: Vec<&str> = blocks(config, "attribute").iter().filter_map(|a| s(a, "name")).collect();
        for a in blocks(config, "attribute") {
            if let Some(t) = s(a, "type")
                && !["S", "N", "B"].contains(&t)
            {
                out.push(format!("attribute.type must be S, N or B, got {t:?}"));
            }
        }
        for k in ["hash_key", "range_key"] {
            if let Some(key) = s(config, k)
                && config.get("attribute").is_some_and(|a| !a.is_unknown())
                && !names.contains(&key)
            {
                out.push(format!("{k} {key:?} must be one of the attribute blocks' names"));
            }
        }
        out
    }
    fn normalize(&self, planned: &mut Value) {
        // A set in Terraform: compared in name order, as read() reports it.
        if let Value::Map(m) = planned
            && let Some(Value::List(items)) = m.get_mut("attribute")
        {
            items.sort_by(|a, b| s(a, "name").cmp(&s(b, "name")));
        }
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = req(planned, "name")?;
        let mut definitions = Vec::new();
        for a in blocks(planned, "attribute") {
            definitions.push(
                AttributeDefinition::builder()
                    .attribute_name(req(a, "name")?)
                    .attribute_type(ScalarAttributeType::from(req(a, "type")?))
                    .build()
                    .map_err(invalid)?,
            );
        }
        let mut keys = vec![
            KeySchemaElement::builder()
                .attribute_name(req(planned, "hash_key")?)
                .key_type(KeyType::Hash)
                .build()
                .map_err(invalid)?,
        ];
        if let Some(r) = s(planned, "range_key") {
            keys.push(KeySchemaElement::builder().attribute_name(r).key_type(KeyType::Range).build().map_err(invalid)?);
        }
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let sent = ctx
            .clients
            .dynamodb
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::from(s(planned, "billing_mode").unwrap_or("PROVISIONED")))
            .set_provisioned_throughput(throughput(planned)?)
            .set_attribute_definitions(Some(definitions))
            .set_key_schema(Some(keys))
            .deletion_protection_enabled(b(planned, "deletion_protection_enabled").unwrap_or(false))
            .set_tags(Some(db_tags(&t)))
            .send()
            .await
            .map_err(|e| api("CreateTable", e));
        match sent {
            Ok(_) => {}
            // Ours already, from a run that stopped before recording it.
            Err(e) if e.code.as_deref() == Some("ResourceInUseException") => {
                let theirs = self.adopt(ctx, marker).await?;
                if theirs.is_none() {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
        wait_active(ctx, name).await?;
        if pitr_wanted(planned) == Some(true) {
            set_pitr(ctx, name, true).await?;
        }
        crate::consistency::read_new(ctx, || read_table(ctx, name))
            .await?
            .ok_or_else(|| invalid(format!("the new table {name} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        read_table(ctx, id(state)?).await
    }
    async fn import(&self, ctx: &Ctx<'_>, id: &str) -> Result<Option<Value>, ProviderError> {
        read_table(ctx, id).await
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let name = id(prior)?;
        let db = &ctx.clients.dynamodb;
        let changed = |k: &str| planned.get(k) != prior.get(k) && !planned.get(k).is_some_and(Value::is_unknown);
        if changed("billing_mode") || changed("read_capacity") || changed("write_capacity") {
            db.update_table()
                .table_name(name)
                .billing_mode(BillingMode::from(s(planned, "billing_mode").unwrap_or("PROVISIONED")))
                .set_provisioned_throughput(throughput(planned)?)
                .send()
                .await
                .map_err(|e| api("UpdateTable", e))?;
            wait_active(ctx, name).await?;
        }
        if changed("deletion_protection_enabled") {
            db.update_table()
                .table_name(name)
                .deletion_protection_enabled(b(planned, "deletion_protection_enabled").unwrap_or(false))
                .send()
                .await
                .map_err(|e| api("UpdateTable", e))?;
            wait_active(ctx, name).await?;
        }
        if let Some(want) = pitr_wanted(planned)
            && pitr_wanted(prior) != Some(want)
        {
            set_pitr(ctx, name, want).await?;
        }
        let arn = s(prior, "arn").unwrap_or_default().to_string();
        let change = tags::change(prior, planned, &ctx.settings.default_tags);
        if !change.removed.is_empty() {
            db.untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(change.removed))
                .send()
                .await
                .map_err(|e| api("UntagResource", e))?;
        }
        if !change.set.is_empty() {
            db.tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(db_tags(&change.set)))
                .send()
                .await
                .map_err(|e| api("TagResource", e))?;
        }
        read_table(ctx, name).await?.ok_or_else(|| invalid(format!("table {name} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let name = id(prior)?;
        let r = ctx.clients.dynamodb.delete_table().table_name(name).send().await.map_err(|e| api("DeleteTable", e));
        if found(r)?.is_none() {
            return Ok(());
        }
        // Gone only when DescribeTable no longer finds it.
        let limit = crate::consistency::release(ctx, Duration::from_secs(600));
        let start = Instant::now();
        loop {
            let out = ctx
                .clients
                .dynamodb
                .describe_table()
                .table_name(name)
                .send()
                .await
                .map_err(|e| api("DescribeTable", e));
            if found(out)?.is_none() {
                return Ok(());
            }
            if start.elapsed() >= limit {
                return Err(invalid(format!("table {name} is still being deleted after {} s", limit.as_secs())));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let Some(name) = marker.name.as_deref() else { return Ok(None) };
        let Some(table) = read_table(ctx, name).await? else { return Ok(None) };
        let arn = s(&table, "arn").unwrap_or_default().to_string();
        if tags::has_marker(&remote_tags(ctx, &arn).await?, marker) { Ok(Some(table)) } else { Ok(None) }
    }
}
