//! aws_launch_template. A change of what instances get makes a new version
//! (AWS never edits one); `update_default_version` makes it the default.

use super::common::{block_list, blocks, found, int, int_value};
use super::ec2util::{carries, filter, marker_filters, sync_tags};
use crate::error::api;
use crate::tags;
use crate::values::{b, id, obj, opt_str, s, strings};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    InstanceType, LaunchTemplate, LaunchTemplateHttpTokensState, LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateInstanceMetadataEndpointState, LaunchTemplateInstanceMetadataOptionsRequest, LaunchTemplateVersion,
    RequestLaunchTemplateData, ResourceType as Rt,
};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;

pub struct AwsLaunchTemplate;

/// The attributes that are the template's data (a change makes a version).
const DATA: &[&str] = &[
    "image_id",
    "instance_type",
    "key_name",
    "user_data",
    "iam_instance_profile",
    "vpc_security_group_ids",
    "metadata_options",
];

fn data(planned: &Value) -> RequestLaunchTemplateData {
    let profile = blocks(planned, "iam_instance_profile").into_iter().next().map(|p| {
        LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
            .set_name(s(p, "name").map(String::from))
            .set_arn(s(p, "arn").map(String::from))
            .build()
    });
    let metadata = blocks(planned, "metadata_options").into_iter().next().map(|m| {
        LaunchTemplateInstanceMetadataOptionsRequest::builder()
            .set_http_tokens(s(m, "http_tokens").map(LaunchTemplateHttpTokensState::from))
            .set_http_endpoint(s(m, "http_endpoint").map(LaunchTemplateInstanceMetadataEndpointState::from))
            .set_http_put_response_hop_limit(int(m, "http_put_response_hop_limit"))
            .build()
    });
    let groups = strings(planned, "vpc_security_group_ids");
    RequestLaunchTemplateData::builder()
        .set_image_id(s(planned, "image_id").map(String::from))
        .set_instance_type(s(planned, "instance_type").map(InstanceType::from))
        .set_key_name(s(planned, "key_name").map(String::from))
        .set_user_data(s(planned, "user_data").map(String::from))
        .set_iam_instance_profile(profile)
        .set_security_group_ids((!groups.is_empty()).then_some(groups))
        .set_metadata_options(metadata)
        .build()
}

fn to_value(ctx: &Ctx<'_>, lt: &LaunchTemplate, latest: Option<&LaunchTemplateVersion>) -> Value {
    let (t, all) = tags::attributes(lt.tags(), &ctx.settings.default_tags);
    let ltid = lt.launch_template_id().unwrap_or_default();
    let d = latest.and_then(|v| v.launch_template_data());
    let profile = d
        .and_then(|d| d.iam_instance_profile())
        .map(|p| Value::List(vec![obj(vec![("name", opt_str(p.name())), ("arn", opt_str(p.arn()))])]));
    let metadata = d.and_then(|d| d.metadata_options()).map(|m| {
        Value::List(vec![obj(vec![
            ("http_tokens", opt_str(m.http_tokens().map(|x| x.as_str()))),
            ("http_endpoint", opt_str(m.http_endpoint().map(|x| x.as_str()))),
            ("http_put_response_hop_limit", int_value(m.http_put_response_hop_limit())),
        ])])
    });
    let groups = d.map(|d| d.security_group_ids().iter().map(Value::str).collect::<Vec<_>>()).unwrap_or_default();
    let owner = lt.created_by().and_then(|c| c.split(':').nth(4)).unwrap_or("");
    obj(vec![
        ("id", Value::str(ltid)),
        (
            "arn",
            Value::String(format!(
                "arn:{}:ec2:{}:{owner}:launch-template/{ltid}",
                crate::partition::of_region(&ctx.settings.region).id,
                ctx.settings.region
            )),
        ),
        ("name", opt_str(lt.launch_template_name())),
        ("name_prefix", super::common::prefix_of(lt.launch_template_name())),
        ("description", opt_str(latest.and_then(|v| v.version_description()))),
        ("default_version", Value::Number(lt.default_version_number().unwrap_or(1) as f64)),
        ("latest_version", Value::Number(lt.latest_version_number().unwrap_or(1) as f64)),
        ("image_id", opt_str(d.and_then(|d| d.image_id()))),
        ("instance_type", opt_str(d.and_then(|d| d.instance_type()).map(|i| i.as_str()))),
        ("key_name", opt_str(d.and_then(|d| d.key_name()))),
        ("user_data", opt_str(d.and_then(|d| d.user_data()))),
        ("iam_instance_profile", profile.unwrap_or(Value::Null)),
        ("vpc_security_group_ids", if groups.is_empty() { Value::Null } else { Value::List(groups) }),
        ("metadata_options", metadata.unwrap_or(Value::Null)),
        ("tags", t),
        ("tags_all", all),
    ])
}

async fn latest_version(ctx: &Ctx<'_>, ltid: &str) -> Result<Option<LaunchTemplateVersion>, ProviderError> {
    let out = ctx
        .clients
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(ltid)
        .versions("$Latest")
        .send()
        .await
        .map_err(|e| api("DescribeLaunchTemplateVersions", e))?;
    Ok(out.launch_template_versions().first().cloned())
}

async fn describe(ctx: &Ctx<'_>, ids: Vec<String>) -> Result<Vec<LaunchTemplate>, ProviderError> {
    let out = ctx
        .clients
        .ec2
        .describe_launch_templates()
        .set_launch_template_ids(Some(ids))
        .send()
        .await
        .map_err(|e| api("DescribeLaunchTemplates", e))?;
    Ok(out.launch_templates().to_vec())
}

#[async_trait]
impl ResourceType for AwsLaunchTemplate {
    fn name(&self) -> &'static str {
        "aws_launch_template"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An EC2 launch template: what instances of an Auto Scaling group get.",
            [
                ("id", A::computed(T::String, "The template's id, e.g. lt-0abc.")),
                ("arn", A::computed(T::String, "The template's ARN.")),
                ("name", A::optional_computed(T::String, "The template's name; generated when left out.").force_new()),
                ("name_prefix", super::common::name_prefix_schema()),
                ("description", A::optional(T::String, "Description of the version.")),
                ("default_version", A::computed(T::Number, "The default version.")),
                ("latest_version", A::computed(T::Number, "The newest version.")),
                (
                    "update_default_version",
                    A::optional(T::Bool, "Make each new version the default.").default(Value::Bool(false)),
                ),
                ("image_id", A::optional(T::String, "The AMI.")),
                ("instance_type", A::optional(T::String, "e.g. t3.medium.")),
                ("key_name", A::optional(T::String, "The key pair for SSH.")),
                ("user_data", A::optional(T::String, "Base64 user data: base64encode(...).")),
                (
                    "iam_instance_profile",
                    A::optional(
                        block_list(&[("name", T::String), ("arn", T::String)], &[]),
                        "The instance profile (name or arn).",
                    ),
                ),
                ("vpc_security_group_ids", A::optional(super::common::string_set(), "Security groups.")),
                (
                    "metadata_options",
                    A::optional(
                        block_list(
                            &[
                                ("http_tokens", T::String),
                                ("http_endpoint", T::String),
                                ("http_put_response_hop_limit", T::Number),
                            ],
                            &[],
                        ),
                        "Instance metadata service settings (http_tokens = \"required\" for IMDSv2).",
                    ),
                ),
            ],
        )
    }
    fn validate(&self, config: &Value) -> Vec<String> {
        use base64::Engine;
        match s(config, "user_data") {
            Some(u) if base64::engine::general_purpose::STANDARD.decode(u).is_err() => {
                vec!["user_data must be base64: write base64encode(...) around the script".into()]
            }
            _ => Vec::new(),
        }
    }
    fn normalize(&self, planned: &mut Value) {
        if let Value::Map(m) = planned
            && let Some(Value::List(groups)) = m.get_mut("vpc_security_group_ids")
        {
            groups.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let create = ctx
            .clients
            .ec2
            .create_launch_template()
            .launch_template_name(super::common::name_or_generated(planned, marker))
            .set_version_description(s(planned, "description").map(String::from))
            .launch_template_data(data(planned))
            .tag_specifications(tags::for_create(Rt::LaunchTemplate, planned, &ctx.settings.default_tags, marker))
            .client_token(super::common::generated_name(marker));
        let out = crate::consistency::retry(
            ctx,
            crate::consistency::LAUNCH_PROFILE_NOT_YET,
            crate::consistency::propagation(ctx),
            || {
                let create = create.clone();
                async move { create.send().await.map_err(|e| api("CreateLaunchTemplate", e)) }
            },
        )
        .await?;
        let ltid = out
            .launch_template()
            .and_then(|l| l.launch_template_id())
            .ok_or_else(|| ProviderError::new("CreateLaunchTemplate returned no id"))?;
        let key = obj(vec![
            ("id", Value::str(ltid)),
            ("update_default_version", planned.get("update_default_version").cloned().unwrap_or(Value::Null)),
        ]);
        crate::consistency::read_new(ctx, || self.read(ctx, &key))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new launch template {ltid} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let ltid = id(state)?;
        let Some(lts) = found(describe(ctx, vec![ltid.to_string()]).await)? else { return Ok(None) };
        let Some(lt) = lts.first() else { return Ok(None) };
        let latest = latest_version(ctx, ltid).await?;
        let mut v = to_value(ctx, lt, latest.as_ref());
        if let Value::Map(m) = &mut v {
            m.insert(
                "update_default_version".into(),
                state.get("update_default_version").cloned().unwrap_or(Value::Bool(false)),
            );
        }
        Ok(Some(v))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let ltid = id(prior)?;
        let ec2 = &ctx.clients.ec2;
        if DATA.iter().chain(&["description"]).any(|k| planned.get(k) != prior.get(k)) {
            // The whole data, not a diff from a source version: each version stands alone.
            let out = ec2
                .create_launch_template_version()
                .launch_template_id(ltid)
                .set_version_description(s(planned, "description").map(String::from))
                .launch_template_data(data(planned))
                .send()
                .await
                .map_err(|e| api("CreateLaunchTemplateVersion", e))?;
            let version = out.launch_template_version().and_then(|v| v.version_number());
            if b(planned, "update_default_version") == Some(true)
                && let Some(v) = version
            {
                ec2.modify_launch_template()
                    .launch_template_id(ltid)
                    .default_version(v.to_string())
                    .send()
                    .await
                    .map_err(|e| api("ModifyLaunchTemplate", e))?;
            }
        }
        sync_tags(ctx, ltid, prior, planned).await?;
        let mut key = prior.clone();
        if let Value::Map(m) = &mut key {
            m.insert(
                "update_default_version".into(),
                planned.get("update_default_version").cloned().unwrap_or(Value::Null),
            );
        }
        self.read(ctx, &key).await?.ok_or_else(|| ProviderError::new(format!("launch template {ltid} disappeared")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let r = ctx.clients.ec2.delete_launch_template().launch_template_id(id(prior)?).send().await;
        found(r.map_err(|e| api("DeleteLaunchTemplate", e))).map(|_| ())
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let mut filters = marker_filters(marker);
        if let Some(n) = &marker.name {
            filters.push(filter("launch-template-name", &[n]));
        }
        let out = ctx
            .clients
            .ec2
            .describe_launch_templates()
            .set_filters(Some(filters))
            .send()
            .await
            .map_err(|e| api("DescribeLaunchTemplates", e))?;
        match out.launch_templates().iter().find(|lt| carries(lt.tags(), marker)) {
            Some(lt) => {
                let latest = latest_version(ctx, lt.launch_template_id().unwrap_or_default()).await?;
                Ok(Some(to_value(ctx, lt, latest.as_ref())))
            }
            None => Ok(None),
        }
    }
}
