//! aws_codebuild_project: a build project (the pipeline's docker build).

use super::common::{block_list, blocks, found, int, int_value};
use crate::error::api;
use crate::tags::{self, Tags};
use crate::values::{b, id, obj, opt_str, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_codebuild::types::{
    ArtifactsType, ComputeType, EnvironmentType, EnvironmentVariable, EnvironmentVariableType,
    ImagePullCredentialsType, Project, ProjectArtifacts, ProjectEnvironment, ProjectSource, SourceType, Tag,
};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;

pub struct AwsCodebuildProject;

fn build_tags(t: &Tags) -> Vec<Tag> {
    t.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

fn first<'a>(v: &'a Value, k: &str) -> Result<&'a Value, ProviderError> {
    blocks(v, k).into_iter().next().ok_or_else(|| ProviderError::new(format!("{k} is required")))
}

fn bad(what: &str) -> impl Fn(aws_smithy_types::error::operation::BuildError) -> ProviderError + '_ {
    move |e| ProviderError::new(format!("{what}: {e}"))
}

struct Spec {
    artifacts: ProjectArtifacts,
    environment: ProjectEnvironment,
    source: ProjectSource,
}

fn spec(planned: &Value) -> Result<Spec, ProviderError> {
    let a = first(planned, "artifacts")?;
    let artifacts = ProjectArtifacts::builder()
        .r#type(ArtifactsType::from(s(a, "type").unwrap_or("NO_ARTIFACTS")))
        .set_location(s(a, "location").map(String::from))
        .set_name(s(a, "name").map(String::from))
        .build()
        .map_err(bad("artifacts"))?;
    let e = first(planned, "environment")?;
    let vars = blocks(e, "environment_variable")
        .iter()
        .map(|v| {
            EnvironmentVariable::builder()
                .name(s(v, "name").unwrap_or_default())
                .value(s(v, "value").unwrap_or_default())
                .r#type(EnvironmentVariableType::from(s(v, "type").unwrap_or("PLAINTEXT")))
                .build()
                .map_err(bad("environment_variable"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let environment = ProjectEnvironment::builder()
        .r#type(EnvironmentType::from(s(e, "type").unwrap_or("LINUX_CONTAINER")))
        .image(req(e, "image")?)
        .compute_type(ComputeType::from(s(e, "compute_type").unwrap_or("BUILD_GENERAL1_SMALL")))
        .privileged_mode(b(e, "privileged_mode").unwrap_or(false))
        .image_pull_credentials_type(ImagePullCredentialsType::from(
            s(e, "image_pull_credentials_type").unwrap_or("CODEBUILD"),
        ))
        .set_environment_variables(Some(vars))
        .build()
        .map_err(bad("environment"))?;
    let src = first(planned, "source")?;
    let source = ProjectSource::builder()
        .r#type(SourceType::from(s(src, "type").unwrap_or("NO_SOURCE")))
        .set_location(s(src, "location").map(String::from))
        .set_buildspec(s(src, "buildspec").map(String::from))
        .build()
        .map_err(bad("source"))?;
    Ok(Spec { artifacts, environment, source })
}

/// For CODEPIPELINE sources and artifacts AWS ignores `location`: what the
/// configuration said is kept rather than compared.
fn ignored_location(prior: &Value, block: &str, kind: &str, remote: Option<&str>) -> Value {
    if kind != "CODEPIPELINE" {
        return opt_str(remote);
    }
    blocks(prior, block).into_iter().next().and_then(|b| b.get("location")).cloned().unwrap_or(Value::Null)
}

fn to_value(ctx: &Ctx<'_>, p: &Project, prior: &Value) -> Value {
    let remote: Tags =
        p.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect();
    let (t, all) = tags::attributes_from_map(&remote, &ctx.settings.default_tags);
    let artifacts = p.artifacts().map(|a| {
        let kind = a.r#type().as_str();
        obj(vec![
            ("type", Value::str(kind)),
            ("location", ignored_location(prior, "artifacts", kind, a.location())),
            ("name", opt_str(a.name())),
        ])
    });
    let environment = p.environment().map(|e| {
        let vars: Vec<Value> = e
            .environment_variables()
            .iter()
            .map(|v| {
                obj(vec![
                    ("name", Value::str(v.name())),
                    ("value", Value::str(v.value())),
                    ("type", Value::str(v.r#type().map(|t| t.as_str()).unwrap_or("PLAINTEXT"))),
                ])
            })
            .collect();
        obj(vec![
            ("type", Value::str(e.r#type().as_str())),
            ("image", Value::str(e.image())),
            ("compute_type", Value::str(e.compute_type().as_str())),
            ("privileged_mode", Value::Bool(e.privileged_mode().unwrap_or(false))),
            (
                "image_pull_credentials_type",
                Value::str(e.image_pull_credentials_type().map(|t| t.as_str()).unwrap_or("CODEBUILD")),
            ),
            ("environment_variable", if vars.is_empty() { Value::Null } else { Value::List(vars) }),
        ])
    });
    let source = p.source().map(|src| {
        let kind = src.r#type().as_str();
        obj(vec![
            ("type", Value::str(kind)),
            ("location", ignored_location(prior, "source", kind, src.location())),
            ("buildspec", opt_str(src.buildspec())),
        ])
    });
    let one = |v: Option<Value>| v.map(|v| Value::List(vec![v])).unwrap_or(Value::Null);
    obj(vec![
        ("id", opt_str(p.arn())),
        ("arn", opt_str(p.arn())),
        ("name", opt_str(p.name())),
        ("description", opt_str(p.description())),
        ("service_role", opt_str(p.service_role())),
        ("build_timeout", int_value(Some(p.timeout_in_minutes().unwrap_or(60)))),
        ("queued_timeout", int_value(Some(p.queued_timeout_in_minutes().unwrap_or(480)))),
        ("artifacts", one(artifacts)),
        ("environment", one(environment)),
        ("source", one(source)),
        ("tags", t),
        ("tags_all", all),
    ])
}

async fn describe(ctx: &Ctx<'_>, key: &str) -> Result<Option<Project>, ProviderError> {
    let out =
        ctx.clients.codebuild.batch_get_projects().names(key).send().await.map_err(|e| api("BatchGetProjects", e));
    Ok(found(out)?.and_then(|o| o.projects().first().cloned()))
}

#[async_trait]
impl ResourceType for AwsCodebuildProject {
    fn name(&self) -> &'static str {
        "aws_codebuild_project"
    }
    fn schema(&self) -> ResourceSchema {
        let vars = block_list(&[("name", T::String), ("value", T::String), ("type", T::String)], &["name", "value"]);
        ResourceSchema::new(
            "A CodeBuild project. Import id: its name or ARN.",
            [
                ("id", A::computed(T::String, "The project's ARN.")),
                ("arn", A::computed(T::String, "The project's ARN.")),
                ("name", A::required(T::String, "The project's name.").force_new()),
                ("description", A::optional(T::String, "What the project builds.")),
                ("service_role", A::required(T::String, "The role builds run as.")),
                (
                    "build_timeout",
                    A::optional(T::Number, "Minutes before a build is stopped.").default(Value::Number(60.0)),
                ),
                (
                    "queued_timeout",
                    A::optional(T::Number, "Minutes a build may wait in the queue before it is stopped.")
                        .default(Value::Number(480.0)),
                ),
                (
                    "artifacts",
                    A::required(
                        block_list(&[("type", T::String), ("location", T::String), ("name", T::String)], &["type"]),
                        "Where build output goes (CODEPIPELINE in a pipeline).",
                    ),
                ),
                (
                    "environment",
                    A::required(
                        block_list(
                            &[
                                ("type", T::String),
                                ("image", T::String),
                                ("compute_type", T::String),
                                ("privileged_mode", T::Bool),
                                ("image_pull_credentials_type", T::String),
                                ("environment_variable", vars),
                            ],
                            // Required as Terraform's AWS provider requires them.
                            &["compute_type", "image", "type"],
                        ),
                        "The build container (privileged_mode for docker builds).",
                    ),
                ),
                (
                    "source",
                    A::required(
                        block_list(
                            &[("type", T::String), ("location", T::String), ("buildspec", T::String)],
                            &["type"],
                        ),
                        "Where the source comes from and the buildspec.",
                    ),
                ),
            ],
        )
    }
    fn normalize(&self, planned: &mut Value) {
        super::common::fill_block_defaults(
            planned,
            "environment",
            &[
                ("type", Value::str("LINUX_CONTAINER")),
                ("compute_type", Value::str("BUILD_GENERAL1_SMALL")),
                ("privileged_mode", Value::Bool(false)),
                ("image_pull_credentials_type", Value::str("CODEBUILD")),
            ],
        );
        if let Value::Map(m) = planned
            && let Some(Value::List(envs)) = m.get_mut("environment")
        {
            for e in envs.iter_mut() {
                super::common::fill_block_defaults(e, "environment_variable", &[("type", Value::str("PLAINTEXT"))]);
            }
        }
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = req(planned, "name")?;
        let Spec { artifacts, environment, source } = spec(planned)?;
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let create = ctx
            .clients
            .codebuild
            .create_project()
            .name(name)
            .set_description(s(planned, "description").map(String::from))
            .service_role(req(planned, "service_role")?)
            .set_timeout_in_minutes(int(planned, "build_timeout"))
            .set_queued_timeout_in_minutes(int(planned, "queued_timeout"))
            .artifacts(artifacts)
            .environment(environment)
            .source(source)
            .set_tags(Some(build_tags(&t)));
        let r = crate::consistency::retry(
            ctx,
            crate::consistency::CODEBUILD_ROLE_NOT_YET,
            crate::consistency::propagation(ctx),
            || {
                let create = create.clone();
                async move { create.send().await.map_err(|e| api("CreateProject", e)) }
            },
        )
        .await;
        if let Err(e) = r
            && (e.code.as_deref() != Some("ResourceAlreadyExistsException") || self.adopt(ctx, marker).await?.is_none())
        {
            return Err(e);
        }
        crate::consistency::read_new(ctx, || describe(ctx, name))
            .await?
            .map(|p| to_value(ctx, &p, planned))
            .ok_or_else(|| ProviderError::new(format!("the new project {name} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(describe(ctx, id(state)?).await?.map(|p| to_value(ctx, &p, state)))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let name = req(prior, "name")?;
        let Spec { artifacts, environment, source } = spec(planned)?;
        // UpdateProject replaces the tag set: keep ecspoc's marker in it.
        let remote: Tags = describe(ctx, name)
            .await?
            .map(|p| {
                p.tags()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let mut t = tags::all(&ctx.settings.default_tags, &tags::from_value(planned.get("tags")));
        for k in [tags::MARKER_ADDRESS, tags::MARKER_LINEAGE] {
            if let Some(v) = remote.get(k) {
                t.insert(k.to_string(), v.clone());
            }
        }
        let update = ctx
            .clients
            .codebuild
            .update_project()
            .name(name)
            .description(s(planned, "description").unwrap_or(""))
            .service_role(req(planned, "service_role")?)
            .set_timeout_in_minutes(int(planned, "build_timeout"))
            .set_queued_timeout_in_minutes(int(planned, "queued_timeout"))
            .artifacts(artifacts)
            .environment(environment)
            .source(source)
            .set_tags(Some(build_tags(&t)));
        crate::consistency::retry(
            ctx,
            crate::consistency::CODEBUILD_ROLE_NOT_YET,
            crate::consistency::propagation(ctx),
            || {
                let update = update.clone();
                async move { update.send().await.map_err(|e| api("UpdateProject", e)) }
            },
        )
        .await?;
        let key = match planned.clone() {
            Value::Map(mut m) => {
                m.insert("id".into(), Value::str(id(prior)?));
                Value::Map(m)
            }
            _ => prior.clone(),
        };
        self.read(ctx, &key)
            .await?
            .ok_or_else(|| ProviderError::new(format!("project {name} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let r = ctx.clients.codebuild.delete_project().name(req(prior, "name")?).send().await;
        found(r.map_err(|e| api("DeleteProject", e))).map(|_| ())
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let Some(name) = &marker.name else { return Ok(None) };
        let Some(p) = describe(ctx, name).await? else { return Ok(None) };
        let remote: Tags =
            p.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect();
        Ok(tags::has_marker(&remote, marker).then(|| to_value(ctx, &p, &Value::Null)))
    }
}
