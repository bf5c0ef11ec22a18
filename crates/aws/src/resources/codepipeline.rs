//! aws_codepipeline: stages of actions (source, build, deploy) with an S3
//! artifact store. Its id is its name.

use super::common::{block_list, block_set, blocks, found, int, int_value};
use crate::error::api;
use crate::tags::{self, Tags};
use crate::values::{id, obj, req, s, strings};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionDeclaration, ActionOwner, ActionTypeId, ArtifactStore, ArtifactStoreType, InputArtifact,
    OutputArtifact, PipelineDeclaration, PipelineType, StageDeclaration, Tag,
};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;

pub struct AwsCodepipeline;

fn pipeline_tags(t: &Tags) -> Vec<Tag> {
    t.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

fn bad(what: &str) -> impl Fn(aws_smithy_types::error::operation::BuildError) -> ProviderError + '_ {
    move |e| ProviderError::new(format!("{what}: {e}"))
}

fn declaration(planned: &Value, version: Option<i32>) -> Result<PipelineDeclaration, ProviderError> {
    let store = blocks(planned, "artifact_store")
        .into_iter()
        .next()
        .ok_or_else(|| ProviderError::new("artifact_store is required"))?;
    let store = ArtifactStore::builder()
        .r#type(ArtifactStoreType::from(s(store, "type").unwrap_or("S3")))
        .location(req(store, "location")?)
        .build()
        .map_err(bad("artifact_store"))?;
    let mut stages = Vec::new();
    for st in blocks(planned, "stage") {
        let mut actions = Vec::new();
        for a in blocks(st, "action") {
            let type_id = ActionTypeId::builder()
                .category(ActionCategory::from(req(a, "category")?))
                .owner(ActionOwner::from(req(a, "owner")?))
                .provider(req(a, "provider")?)
                .version(s(a, "version").unwrap_or("1"))
                .build()
                .map_err(bad("action"))?;
            let config = a
                .get("configuration")
                .and_then(Value::as_map)
                .map(|m| m.iter().filter_map(|(k, v)| v.to_template_string().map(|v| (k.clone(), v))).collect());
            let inputs = strings(a, "input_artifacts")
                .into_iter()
                .filter_map(|n| InputArtifact::builder().name(n).build().ok())
                .collect();
            let outputs = strings(a, "output_artifacts")
                .into_iter()
                .filter_map(|n| OutputArtifact::builder().name(n).build().ok())
                .collect();
            actions.push(
                ActionDeclaration::builder()
                    .name(req(a, "name")?)
                    .action_type_id(type_id)
                    .set_run_order(int(a, "run_order"))
                    .set_configuration(config)
                    .set_input_artifacts(Some(inputs))
                    .set_output_artifacts(Some(outputs))
                    .set_namespace(s(a, "namespace").map(String::from))
                    .set_role_arn(s(a, "role_arn").map(String::from))
                    .build()
                    .map_err(bad("action"))?,
            );
        }
        stages.push(
            StageDeclaration::builder()
                .name(req(st, "name")?)
                .set_actions(Some(actions))
                .build()
                .map_err(bad("stage"))?,
        );
    }
    PipelineDeclaration::builder()
        .name(req(planned, "name")?)
        .role_arn(req(planned, "role_arn")?)
        .artifact_store(store)
        .set_stages(Some(stages))
        .set_version(version)
        .pipeline_type(PipelineType::from(s(planned, "pipeline_type").unwrap_or("V1")))
        .build()
        .map_err(bad("pipeline"))
}

fn to_value(ctx: &Ctx<'_>, p: &PipelineDeclaration, arn: &str, remote: &Tags) -> Value {
    let (t, all) = tags::attributes_from_map(remote, &ctx.settings.default_tags);
    let store = p.artifact_store().map(|a| {
        Value::List(vec![obj(vec![("type", Value::str(a.r#type().as_str())), ("location", Value::str(a.location()))])])
    });
    let names =
        |xs: Vec<&str>| if xs.is_empty() { Value::Null } else { Value::List(xs.into_iter().map(Value::str).collect()) };
    let stages: Vec<Value> = p
        .stages()
        .iter()
        .map(|st| {
            let actions: Vec<Value> = st
                .actions()
                .iter()
                .map(|a| {
                    let t = a.action_type_id();
                    let mut config: Vec<(&String, &String)> =
                        a.configuration().map(|c| c.iter().collect()).unwrap_or_default();
                    config.sort();
                    obj(vec![
                        ("name", Value::str(a.name())),
                        ("category", Value::str(t.map(|t| t.category().as_str()).unwrap_or_default())),
                        ("owner", Value::str(t.map(|t| t.owner().as_str()).unwrap_or_default())),
                        ("provider", Value::str(t.map(|t| t.provider()).unwrap_or_default())),
                        ("version", Value::str(t.map(|t| t.version()).unwrap_or_default())),
                        ("run_order", int_value(Some(a.run_order().unwrap_or(1)))),
                        (
                            "configuration",
                            if config.is_empty() {
                                Value::Null
                            } else {
                                Value::Map(config.into_iter().map(|(k, v)| (k.clone(), Value::str(v))).collect())
                            },
                        ),
                        ("input_artifacts", names(a.input_artifacts().iter().map(|i| i.name()).collect())),
                        ("output_artifacts", names(a.output_artifacts().iter().map(|o| o.name()).collect())),
                        ("namespace", a.namespace().map(Value::str).unwrap_or(Value::Null)),
                        ("role_arn", a.role_arn().map(Value::str).unwrap_or(Value::Null)),
                    ])
                })
                .collect();
            obj(vec![("name", Value::str(st.name())), ("action", Value::List(actions))])
        })
        .collect();
    obj(vec![
        ("id", Value::str(p.name())),
        ("arn", Value::str(arn)),
        ("name", Value::str(p.name())),
        ("role_arn", Value::str(p.role_arn())),
        ("pipeline_type", Value::str(p.pipeline_type().map(|t| t.as_str()).unwrap_or("V1"))),
        ("artifact_store", store.unwrap_or(Value::Null)),
        ("stage", Value::List(stages)),
        ("tags", t),
        ("tags_all", all),
    ])
}

/// The pipeline, its ARN, version and tags.
async fn describe(ctx: &Ctx<'_>, name: &str) -> Result<Option<(PipelineDeclaration, String, Tags)>, ProviderError> {
    let cp = &ctx.clients.codepipeline;
    let Some(out) = found(cp.get_pipeline().name(name).send().await.map_err(|e| api("GetPipeline", e)))? else {
        return Ok(None);
    };
    let Some(p) = out.pipeline().cloned() else { return Ok(None) };
    let arn = out.metadata().and_then(|m| m.pipeline_arn()).unwrap_or_default().to_string();
    let tagged =
        cp.list_tags_for_resource().resource_arn(&arn).send().await.map_err(|e| api("ListTagsForResource", e))?;
    let remote = tagged.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
    Ok(Some((p, arn, remote)))
}

#[async_trait]
impl ResourceType for AwsCodepipeline {
    fn name(&self) -> &'static str {
        "aws_codepipeline"
    }
    fn schema(&self) -> ResourceSchema {
        let list = || T::List(Box::new(T::String));
        let action = block_list(
            &[
                ("name", T::String),
                ("category", T::String),
                ("owner", T::String),
                ("provider", T::String),
                ("version", T::String),
                ("run_order", T::Number),
                ("configuration", T::Map(Box::new(T::String))),
                ("input_artifacts", list()),
                ("output_artifacts", list()),
                ("namespace", T::String),
                ("role_arn", T::String),
            ],
            // Required as Terraform's AWS provider requires them.
            &["name", "category", "owner", "provider", "version"],
        );
        ResourceSchema::new(
            "A CodePipeline pipeline.",
            [
                ("id", A::computed(T::String, "The pipeline's name.")),
                ("arn", A::computed(T::String, "The pipeline's ARN.")),
                ("name", A::required(T::String, "The pipeline's name.").force_new()),
                ("role_arn", A::required(T::String, "The role the pipeline runs as.")),
                ("pipeline_type", A::optional(T::String, "V1 or V2.").default(Value::str("V1"))),
                (
                    "artifact_store",
                    A::required(
                        block_set(&[("type", T::String), ("location", T::String)], &["location", "type"]),
                        "The S3 bucket for artifacts.",
                    ),
                ),
                (
                    "stage",
                    A::required(
                        block_list(&[("name", T::String), ("action", action)], &["name", "action"]),
                        "The stages, in order.",
                    ),
                ),
            ],
        )
    }
    fn normalize(&self, planned: &mut Value) {
        if let Value::Map(m) = planned
            && let Some(Value::List(stages)) = m.get_mut("stage")
        {
            for st in stages.iter_mut() {
                super::common::fill_block_defaults(st, "action", &[("run_order", Value::Number(1.0))]);
            }
        }
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = req(planned, "name")?;
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let create = ctx
            .clients
            .codepipeline
            .create_pipeline()
            .pipeline(declaration(planned, None)?)
            .set_tags(Some(pipeline_tags(&t)));
        let r = crate::consistency::retry(
            ctx,
            crate::consistency::CODEPIPELINE_ROLE_NOT_YET,
            crate::consistency::propagation(ctx),
            || {
                let create = create.clone();
                async move { create.send().await.map_err(|e| api("CreatePipeline", e)) }
            },
        )
        .await;
        if let Err(e) = r
            && (e.code.as_deref() != Some("PipelineNameInUseException") || self.adopt(ctx, marker).await?.is_none())
        {
            return Err(e);
        }
        let new_key = obj(vec![("id", Value::str(name))]);
        crate::consistency::read_new(ctx, || self.read(ctx, &new_key))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new pipeline {name} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(describe(ctx, id(state)?).await?.map(|(p, arn, t)| to_value(ctx, &p, &arn, &t)))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let name = id(prior)?;
        let cp = &ctx.clients.codepipeline;
        let Some((current, arn, _)) = describe(ctx, name).await? else {
            return Err(ProviderError::new(format!("pipeline {name} disappeared")));
        };
        if ["role_arn", "pipeline_type", "artifact_store", "stage"].iter().any(|k| planned.get(k) != prior.get(k)) {
            let update = cp.update_pipeline().pipeline(declaration(planned, current.version())?);
            crate::consistency::retry(
                ctx,
                crate::consistency::CODEPIPELINE_ROLE_NOT_YET,
                crate::consistency::propagation(ctx),
                || {
                    let update = update.clone();
                    async move { update.send().await.map_err(|e| api("UpdatePipeline", e)) }
                },
            )
            .await?;
        }
        let change = tags::change(prior, planned, &ctx.settings.default_tags);
        if !change.removed.is_empty() {
            cp.untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(change.removed))
                .send()
                .await
                .map_err(|e| api("UntagResource", e))?;
        }
        if !change.set.is_empty() {
            cp.tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(pipeline_tags(&change.set)))
                .send()
                .await
                .map_err(|e| api("TagResource", e))?;
        }
        self.read(ctx, prior)
            .await?
            .ok_or_else(|| ProviderError::new(format!("pipeline {name} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let r = ctx.clients.codepipeline.delete_pipeline().name(id(prior)?).send().await;
        found(r.map_err(|e| api("DeletePipeline", e))).map(|_| ())
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let Some(name) = &marker.name else { return Ok(None) };
        Ok(describe(ctx, name)
            .await?
            .filter(|(_, _, t)| tags::has_marker(t, marker))
            .map(|(p, arn, t)| to_value(ctx, &p, &arn, &t)))
    }
}
