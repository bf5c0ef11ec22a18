//! aws_ecr_repository: a container image repository, keyed by name.

use super::common::{blocks, found};
use crate::error::api;
use crate::tags::{self, Tags};
use crate::values::{b, id, obj, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Repository, Tag};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::collections::HashMap;

pub struct AwsEcrRepository;

fn ecr_tags(t: &Tags) -> Vec<Tag> {
    t.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

async fn remote_tags(ctx: &Ctx<'_>, arn: &str) -> Result<Tags, ProviderError> {
    let out = ctx
        .clients
        .ecr
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| api("ListTagsForResource", e))?;
    Ok(out.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
}

fn scan_on_push(planned: &Value) -> bool {
    blocks(planned, "image_scanning_configuration").first().and_then(|c| b(c, "scan_on_push")).unwrap_or(false)
}

async fn to_value(ctx: &Ctx<'_>, r: &Repository, force_delete: bool) -> Result<Value, ProviderError> {
    let arn = r.repository_arn().unwrap_or_default();
    let (t, all) = tags::attributes_from_map(&remote_tags(ctx, arn).await?, &ctx.settings.default_tags);
    let scan = r.image_scanning_configuration().map(|c| c.scan_on_push()).unwrap_or(false);
    Ok(obj(vec![
        ("id", Value::str(r.repository_name().unwrap_or_default())),
        ("name", Value::str(r.repository_name().unwrap_or_default())),
        ("arn", Value::str(arn)),
        ("registry_id", Value::str(r.registry_id().unwrap_or_default())),
        ("repository_url", Value::str(r.repository_uri().unwrap_or_default())),
        ("image_tag_mutability", Value::str(r.image_tag_mutability().map(|m| m.as_str()).unwrap_or("MUTABLE"))),
        ("image_scanning_configuration", Value::List(vec![obj(vec![("scan_on_push", Value::Bool(scan))])])),
        ("force_delete", Value::Bool(force_delete)),
        ("tags", t),
        ("tags_all", all),
    ]))
}

async fn describe(ctx: &Ctx<'_>, names: Vec<String>) -> Result<HashMap<String, Repository>, ProviderError> {
    let out = ctx
        .clients
        .ecr
        .describe_repositories()
        .set_repository_names(Some(names))
        .send()
        .await
        .map_err(|e| api("DescribeRepositories", e))?;
    Ok(out.repositories().iter().map(|r| (r.repository_name().unwrap_or_default().to_string(), r.clone())).collect())
}

#[async_trait]
impl ResourceType for AwsEcrRepository {
    fn name(&self) -> &'static str {
        "aws_ecr_repository"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An ECR image repository.",
            [
                ("id", A::computed(T::String, "The repository's name.")),
                ("name", A::required(T::String, "The repository's name.").force_new()),
                ("arn", A::computed(T::String, "The repository's ARN.")),
                ("registry_id", A::computed(T::String, "The registry (account) id.")),
                ("repository_url", A::computed(T::String, "ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME.")),
                (
                    "image_tag_mutability",
                    A::optional(T::String, "MUTABLE or IMMUTABLE.").default(Value::str("MUTABLE")),
                ),
                (
                    "image_scanning_configuration",
                    A::optional_computed(
                        super::common::block_list(&[("scan_on_push", T::Bool)], &["scan_on_push"]),
                        "Scan images when pushed.",
                    ),
                ),
                (
                    "force_delete",
                    A::optional(T::Bool, "Delete the repository even if it holds images.").default(Value::Bool(false)),
                ),
            ],
        )
        .holds_data()
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = req(planned, "name")?;
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let r = ctx
            .clients
            .ecr
            .create_repository()
            .repository_name(name)
            .image_tag_mutability(ImageTagMutability::from(s(planned, "image_tag_mutability").unwrap_or("MUTABLE")))
            .image_scanning_configuration(
                ImageScanningConfiguration::builder().scan_on_push(scan_on_push(planned)).build(),
            )
            .set_tags(Some(ecr_tags(&t)))
            .send()
            .await
            .map_err(|e| api("CreateRepository", e));
        if let Err(e) = r
            && (e.code.as_deref() != Some("RepositoryAlreadyExistsException")
                || self.adopt(ctx, marker).await?.is_none())
        {
            return Err(e);
        }
        crate::consistency::read_new(ctx, || self.read(ctx, planned))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new repository {name} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let name = s(state, "id").or(s(state, "name")).ok_or_else(|| ProviderError::new("id is required"))?;
        let Some(mut found_) = found(describe(ctx, vec![name.to_string()]).await)? else { return Ok(None) };
        match found_.remove(name) {
            Some(r) => Ok(Some(to_value(ctx, &r, b(state, "force_delete").unwrap_or(false)).await?)),
            None => Ok(None),
        }
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let name = id(prior)?;
        let ecr = &ctx.clients.ecr;
        if planned.get("image_tag_mutability") != prior.get("image_tag_mutability") {
            ecr.put_image_tag_mutability()
                .repository_name(name)
                .image_tag_mutability(ImageTagMutability::from(s(planned, "image_tag_mutability").unwrap_or("MUTABLE")))
                .send()
                .await
                .map_err(|e| api("PutImageTagMutability", e))?;
        }
        if scan_on_push(planned) != scan_on_push(prior)
            && !planned.get("image_scanning_configuration").is_some_and(Value::is_unknown)
        {
            ecr.put_image_scanning_configuration()
                .repository_name(name)
                .image_scanning_configuration(
                    ImageScanningConfiguration::builder().scan_on_push(scan_on_push(planned)).build(),
                )
                .send()
                .await
                .map_err(|e| api("PutImageScanningConfiguration", e))?;
        }
        let arn = req(prior, "arn")?;
        let change = tags::change(prior, planned, &ctx.settings.default_tags);
        if !change.removed.is_empty() {
            ecr.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(change.removed))
                .send()
                .await
                .map_err(|e| api("UntagResource", e))?;
        }
        if !change.set.is_empty() {
            ecr.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(ecr_tags(&change.set)))
                .send()
                .await
                .map_err(|e| api("TagResource", e))?;
        }
        let mut key = prior.clone();
        if let Value::Map(m) = &mut key {
            m.insert("force_delete".into(), planned.get("force_delete").cloned().unwrap_or(Value::Bool(false)));
        }
        self.read(ctx, &key)
            .await?
            .ok_or_else(|| ProviderError::new(format!("repository {name} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let r = ctx
            .clients
            .ecr
            .delete_repository()
            .repository_name(id(prior)?)
            .force(b(prior, "force_delete").unwrap_or(false))
            .send()
            .await
            .map_err(|e| api("DeleteRepository", e));
        found(r).map(|_| ())
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let Some(name) = &marker.name else { return Ok(None) };
        let Some(mut repos) = found(describe(ctx, vec![name.clone()]).await)? else { return Ok(None) };
        let Some(r) = repos.remove(name) else { return Ok(None) };
        if tags::has_marker(&remote_tags(ctx, r.repository_arn().unwrap_or_default()).await?, marker) {
            Ok(Some(to_value(ctx, &r, false).await?))
        } else {
            Ok(None)
        }
    }
}
