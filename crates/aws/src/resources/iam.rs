//! IAM: aws_iam_role, aws_iam_role_policy, aws_iam_role_policy_attachment,
//! aws_iam_instance_profile and aws_iam_policy. IAM is global: ids are names
//! (ARN for a policy), documents come back URL-encoded and are compared by
//! meaning.

use super::common::{adoption_name, found, int, int_value, name_or_generated};
use crate::error::api;
use crate::json_doc::{canonical_policy, from_iam};
use crate::tags::{self, Tags};
use crate::values::{b, id, obj, opt_str, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_iam::types::Tag;
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::time::Duration;

pub struct AwsIamRole;
pub struct AwsIamRolePolicy;
pub struct AwsIamRolePolicyAttachment;
pub struct AwsIamInstanceProfile;
pub struct AwsIamPolicy;

fn iam_tags(t: &Tags) -> Vec<Tag> {
    t.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

fn tag_map(remote: &[Tag]) -> Tags {
    remote.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

/// IAM is eventually consistent: a role just created may not yet be usable
/// by the call that follows.
async fn settle<T, F, Fut>(f: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    crate::consistency::retry_while(&["NoSuchEntity"], Duration::from_secs(60), f).await
}

/// Actions IAM authorizes only on `"*"` (no resource-level permissions, per
/// AWS's service authorization reference): `"*"` is no finding for them.
const ACTIONS_WITHOUT_RESOURCES: &[&str] = &[
    "ecr:GetAuthorizationToken",
    "sts:GetCallerIdentity",
    "ecs:DescribeTaskDefinition",
    "ecs:RegisterTaskDefinition",
    "ecs:DeregisterTaskDefinition",
    "ecs:ListTaskDefinitions",
    "ecs:ListClusters",
    "cloudwatch:PutMetricData",
];

/// Allow statements of a policy document that grant every action of a
/// service (or all services) or act on every resource: what a review should see.
fn broad_grants(config: &Value, key: &str) -> Vec<String> {
    let Some(text) = config.get(key).and_then(Value::as_str) else { return Vec::new() };
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else { return Vec::new() };
    let list = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(String::from)).collect(),
            _ => Vec::new(),
        }
    };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(items) => items.clone(),
        s @ serde_json::Value::Object(_) => vec![s.clone()],
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for st in statements.iter().filter(|s| s["Effect"] == "Allow") {
        let actions = list(&st["Action"]);
        let wild: Vec<&String> = actions.iter().filter(|a| *a == "*" || a.ends_with(":*")).collect();
        if !wild.is_empty() {
            let names: Vec<&str> = wild.iter().map(|a| a.as_str()).collect();
            out.push(format!("{key} allows every action of {}", names.join(", ")));
        }
        let only_unscoped =
            !actions.is_empty() && actions.iter().all(|a| ACTIONS_WITHOUT_RESOURCES.contains(&a.as_str()));
        if list(&st["Resource"]).iter().any(|r| r == "*") && !only_unscoped {
            out.push(format!("{key} allows {} on every resource (\"*\")", actions.join(", ")));
        }
    }
    out
}

fn validate_policy(config: &Value, key: &str) -> Vec<String> {
    match config.get(key) {
        Some(Value::String(text)) if canonical_policy(text).is_none() => {
            vec![format!("{key} is not valid JSON; build it with jsonencode(...) or data.aws_iam_policy_document")]
        }
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------- role

/// `v` with the role's `force_detach_policies` setting of `from`.
fn with_force_detach(v: Value, from: &Value) -> Value {
    super::common::with_setting(v, from, "force_detach_policies", Value::Bool(false))
}

/// What `force_detach_policies` does before a role is deleted: its managed
/// policies detached, its inline ones deleted.
async fn detach_all_policies(ctx: &Ctx<'_>, role: &str) -> Result<(), ProviderError> {
    let iam = &ctx.clients.iam;
    let mut attached = iam.list_attached_role_policies().role_name(role).into_paginator().send();
    while let Some(page) = attached.next().await {
        let Some(page) = found(page.map_err(|e| api("ListAttachedRolePolicies", e)))? else { return Ok(()) };
        for p in page.attached_policies() {
            let r =
                iam.detach_role_policy().role_name(role).set_policy_arn(p.policy_arn().map(String::from)).send().await;
            found(r.map_err(|e| api("DetachRolePolicy", e)))?;
        }
    }
    let mut inline = iam.list_role_policies().role_name(role).into_paginator().send();
    while let Some(page) = inline.next().await {
        let Some(page) = found(page.map_err(|e| api("ListRolePolicies", e)))? else { return Ok(()) };
        for name in page.policy_names() {
            let r = iam.delete_role_policy().role_name(role).policy_name(name).send().await;
            found(r.map_err(|e| api("DeleteRolePolicy", e)))?;
        }
    }
    Ok(())
}

async fn read_role(ctx: &Ctx<'_>, name: &str) -> Result<Option<Value>, ProviderError> {
    let out = found(ctx.clients.iam.get_role().role_name(name).send().await.map_err(|e| api("GetRole", e)))?;
    let Some(role) = out.as_ref().and_then(|o| o.role()) else { return Ok(None) };
    let (t, all) = tags::attributes_from_map(&tag_map(role.tags()), &ctx.settings.default_tags);
    Ok(Some(obj(vec![
        ("id", Value::str(role.role_name())),
        ("name", Value::str(role.role_name())),
        ("name_prefix", super::common::prefix_of(Some(role.role_name()))),
        ("arn", Value::str(role.arn())),
        ("unique_id", Value::str(role.role_id())),
        ("create_date", crate::values::rfc3339(Some(role.create_date()))),
        ("path", Value::str(role.path())),
        ("description", opt_str(role.description())),
        ("max_session_duration", int_value(role.max_session_duration())),
        ("assume_role_policy", opt_str(role.assume_role_policy_document().map(from_iam).as_deref())),
        ("tags", t),
        ("tags_all", all),
    ])))
}

#[async_trait]
impl ResourceType for AwsIamRole {
    fn name(&self) -> &'static str {
        "aws_iam_role"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An IAM role.",
            [
                ("id", A::computed(T::String, "The role's name.")),
                ("name", A::optional_computed(T::String, "The role's name; generated when left out.").force_new()),
                ("name_prefix", super::common::name_prefix_schema()),
                ("arn", A::computed(T::String, "The role's ARN.")),
                ("unique_id", A::computed(T::String, "The stable id IAM gives the role.")),
                ("path", A::optional(T::String, "The role's path.").force_new().default(Value::str("/"))),
                ("description", A::optional(T::String, "What the role is for.")),
                (
                    "max_session_duration",
                    A::optional(T::Number, "Longest session, in seconds.").default(Value::Number(3600.0)),
                ),
                ("assume_role_policy", A::required(T::String, "Who may assume the role (a JSON policy).")),
                ("create_date", A::computed(T::String, "When it was made (RFC 3339).")),
                (
                    "force_detach_policies",
                    A::optional(T::Bool, "Detach and delete the role's policies before deleting it.")
                        .default(Value::Bool(false)),
                ),
            ],
        )
    }
    fn documents(&self) -> Vec<(&'static str, crate::Meaning)> {
        vec![("assume_role_policy", |text, _| canonical_policy(text))]
    }
    fn validate(&self, config: &Value) -> Vec<String> {
        validate_policy(config, "assume_role_policy")
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = name_or_generated(planned, marker);
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let r = ctx
            .clients
            .iam
            .create_role()
            .role_name(&name)
            .path(s(planned, "path").unwrap_or("/"))
            .assume_role_policy_document(req(planned, "assume_role_policy")?)
            .set_description(s(planned, "description").map(String::from))
            .set_max_session_duration(int(planned, "max_session_duration"))
            .set_tags(Some(iam_tags(&t)))
            .send()
            .await
            .map_err(|e| api("CreateRole", e));
        if let Err(e) = r {
            // A crash after CreateRole: the role is there, with our marker.
            if e.code.as_deref() != Some("EntityAlreadyExists") || self.adopt(ctx, marker).await?.is_none() {
                return Err(e);
            }
        }
        let v = settle(|| async {
            read_role(ctx, &name).await?.ok_or_else(|| {
                ProviderError::api("GetRole", Some("NoSuchEntity"), format!("role {name} not yet visible"))
            })
        })
        .await?;
        Ok(with_force_detach(v, planned))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(read_role(ctx, id(state)?).await?.map(|v| with_force_detach(v, state)))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let name = id(prior)?;
        let iam = &ctx.clients.iam;
        if planned.get("assume_role_policy") != prior.get("assume_role_policy") {
            iam.update_assume_role_policy()
                .role_name(name)
                .policy_document(req(planned, "assume_role_policy")?)
                .send()
                .await
                .map_err(|e| api("UpdateAssumeRolePolicy", e))?;
        }
        if planned.get("description") != prior.get("description")
            || planned.get("max_session_duration") != prior.get("max_session_duration")
        {
            iam.update_role()
                .role_name(name)
                .description(s(planned, "description").unwrap_or(""))
                .set_max_session_duration(int(planned, "max_session_duration"))
                .send()
                .await
                .map_err(|e| api("UpdateRole", e))?;
        }
        let change = tags::change(prior, planned, &ctx.settings.default_tags);
        if !change.removed.is_empty() {
            iam.untag_role()
                .role_name(name)
                .set_tag_keys(Some(change.removed))
                .send()
                .await
                .map_err(|e| api("UntagRole", e))?;
        }
        if !change.set.is_empty() {
            iam.tag_role()
                .role_name(name)
                .set_tags(Some(iam_tags(&change.set)))
                .send()
                .await
                .map_err(|e| api("TagRole", e))?;
        }
        let v = read_role(ctx, name)
            .await?
            .ok_or_else(|| ProviderError::new(format!("role {name} disappeared during the update")))?;
        Ok(with_force_detach(v, planned))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let name = id(prior)?;
        let iam = &ctx.clients.iam;
        // As Terraform does: a role cannot be deleted while in an instance profile.
        if let Some(out) = found(
            iam.list_instance_profiles_for_role()
                .role_name(name)
                .send()
                .await
                .map_err(|e| api("ListInstanceProfilesForRole", e)),
        )? {
            for p in out.instance_profiles() {
                iam.remove_role_from_instance_profile()
                    .instance_profile_name(p.instance_profile_name())
                    .role_name(name)
                    .send()
                    .await
                    .map_err(|e| api("RemoveRoleFromInstanceProfile", e))?;
            }
        }
        if b(prior, "force_detach_policies") == Some(true) {
            detach_all_policies(ctx, name).await?;
        }
        let r = crate::consistency::retry(
            ctx,
            crate::consistency::ROLE_IN_USE,
            crate::consistency::propagation(ctx),
            || async { iam.delete_role().role_name(name).send().await.map_err(|e| api("DeleteRole", e)) },
        )
        .await;
        found(r)?;
        Ok(())
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let name = adoption_name(marker);
        let out = found(ctx.clients.iam.get_role().role_name(&name).send().await.map_err(|e| api("GetRole", e)))?;
        match out.and_then(|o| o.role().map(|r| tags::has_marker(&tag_map(r.tags()), marker))) {
            Some(true) => Ok(read_role(ctx, &name).await?.map(|v| with_force_detach(v, &Value::Null))),
            _ => Ok(None),
        }
    }
}

// ---------------------------------------------------------------- inline policy

#[async_trait]
impl ResourceType for AwsIamRolePolicy {
    fn name(&self) -> &'static str {
        "aws_iam_role_policy"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An inline policy of an IAM role. Import id: ROLE:NAME.",
            [
                ("id", A::computed(T::String, "ROLE:NAME.")),
                ("role", A::required(T::String, "The role's name.").force_new()),
                ("name", A::optional_computed(T::String, "The policy's name; generated when left out.").force_new()),
                ("name_prefix", super::common::name_prefix_schema()),
                ("policy", A::required(T::String, "The policy document (JSON).")),
            ],
        )
    }
    fn warnings(&self, planned: &Value) -> Vec<String> {
        broad_grants(planned, "policy")
    }
    fn documents(&self) -> Vec<(&'static str, crate::Meaning)> {
        vec![("policy", |text, _| canonical_policy(text))]
    }
    fn validate(&self, config: &Value) -> Vec<String> {
        validate_policy(config, "policy")
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        // PutRolePolicy overwrites: a retry after a crash is harmless.
        let mut named = planned.clone();
        if let Value::Map(m) = &mut named {
            m.insert("name".into(), Value::String(name_or_generated(planned, marker)));
        }
        self.update(ctx, &named, &named).await
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let (role, name) =
            id(state)?.split_once(':').ok_or_else(|| ProviderError::new("an aws_iam_role_policy id is ROLE:NAME"))?;
        let out = found(
            ctx.clients
                .iam
                .get_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| api("GetRolePolicy", e)),
        )?;
        Ok(out.map(|o| {
            obj(vec![
                ("id", Value::String(format!("{role}:{name}"))),
                ("role", Value::str(o.role_name())),
                ("name", Value::str(o.policy_name())),
                ("name_prefix", super::common::prefix_of(Some(o.policy_name()))),
                ("policy", Value::String(from_iam(o.policy_document()))),
            ])
        }))
    }
    async fn update(&self, ctx: &Ctx<'_>, _prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let role = req(planned, "role")?;
        let name = req(planned, "name")?;
        settle(|| async {
            ctx.clients
                .iam
                .put_role_policy()
                .role_name(role)
                .policy_name(name)
                .policy_document(req(planned, "policy")?)
                .send()
                .await
                .map_err(|e| api("PutRolePolicy", e))
        })
        .await?;
        let key = obj(vec![("id", Value::String(format!("{role}:{name}")))]);
        crate::consistency::read_new(ctx, || self.read(ctx, &key))
            .await?
            .ok_or_else(|| ProviderError::new(format!("policy {name} of role {role} could not be read back")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        found(
            ctx.clients
                .iam
                .delete_role_policy()
                .role_name(req(prior, "role")?)
                .policy_name(req(prior, "name")?)
                .send()
                .await
                .map_err(|e| api("DeleteRolePolicy", e)),
        )?;
        Ok(())
    }
}

// ---------------------------------------------------------------- managed policy attachment

#[async_trait]
impl ResourceType for AwsIamRolePolicyAttachment {
    fn name(&self) -> &'static str {
        "aws_iam_role_policy_attachment"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A managed policy attached to an IAM role. Import id: ROLE/POLICY_ARN.",
            [
                ("id", A::computed(T::String, "ROLE/POLICY_ARN.")),
                ("role", A::required(T::String, "The role's name.").force_new()),
                ("policy_arn", A::required(T::String, "The managed policy's ARN.").force_new()),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, _marker: &Marker) -> Result<Value, ProviderError> {
        let role = req(planned, "role")?;
        let arn = req(planned, "policy_arn")?;
        // Attaching twice is no error: a retry after a crash is harmless.
        settle(|| async {
            ctx.clients
                .iam
                .attach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| api("AttachRolePolicy", e))
        })
        .await?;
        Ok(attachment(role, arn))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        // The attributes say which attachment; the id is only a name for it
        // (Terraform's provider writes ROLE-<timestamp>, ecspoc ROLE/ARN,
        // import takes ROLE/ARN), and is kept as it was.
        let key = id(state)?;
        let (role, arn) = match (s(state, "role"), s(state, "policy_arn")) {
            (Some(role), Some(arn)) => (role, arn),
            _ => key.split_once('/').ok_or_else(|| {
                ProviderError::new("an aws_iam_role_policy_attachment is imported as ROLE/POLICY_ARN")
            })?,
        };
        let found_here = |role: &str, arn: &str| {
            let mut a = attachment(role, arn);
            if let Value::Map(m) = &mut a {
                m.insert("id".into(), Value::str(key));
            }
            a
        };
        let mut pages = ctx.clients.iam.list_attached_role_policies().role_name(role).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = match found(page.map_err(|e| api("ListAttachedRolePolicies", e)))? {
                Some(p) => p,
                None => return Ok(None),
            };
            if page.attached_policies().iter().any(|p| p.policy_arn() == Some(arn)) {
                return Ok(Some(found_here(role, arn)));
            }
        }
        Ok(None)
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, _planned: &Value) -> Result<Value, ProviderError> {
        self.read(ctx, prior).await?.ok_or_else(|| ProviderError::new("the policy attachment is gone"))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        found(
            ctx.clients
                .iam
                .detach_role_policy()
                .role_name(req(prior, "role")?)
                .policy_arn(req(prior, "policy_arn")?)
                .send()
                .await
                .map_err(|e| api("DetachRolePolicy", e)),
        )?;
        Ok(())
    }
}

fn attachment(role: &str, arn: &str) -> Value {
    obj(vec![
        ("id", Value::String(format!("{role}/{arn}"))),
        ("role", Value::str(role)),
        ("policy_arn", Value::str(arn)),
    ])
}

// ---------------------------------------------------------------- instance profile

async fn read_profile(ctx: &Ctx<'_>, name: &str) -> Result<Option<Value>, ProviderError> {
    let out = found(
        ctx.clients
            .iam
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map_err(|e| api("GetInstanceProfile", e)),
    )?;
    let Some(p) = out.as_ref().and_then(|o| o.instance_profile()) else { return Ok(None) };
    let (t, all) = tags::attributes_from_map(&tag_map(p.tags()), &ctx.settings.default_tags);
    Ok(Some(obj(vec![
        ("id", Value::str(p.instance_profile_name())),
        ("name", Value::str(p.instance_profile_name())),
        ("name_prefix", super::common::prefix_of(Some(p.instance_profile_name()))),
        ("arn", Value::str(p.arn())),
        ("unique_id", Value::str(p.instance_profile_id())),
        ("create_date", crate::values::rfc3339(Some(p.create_date()))),
        ("path", Value::str(p.path())),
        ("role", opt_str(p.roles().first().map(|r| r.role_name()))),
        ("tags", t),
        ("tags_all", all),
    ])))
}

#[async_trait]
impl ResourceType for AwsIamInstanceProfile {
    fn name(&self) -> &'static str {
        "aws_iam_instance_profile"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An IAM instance profile: how an EC2 instance gets a role.",
            [
                ("id", A::computed(T::String, "The profile's name.")),
                ("name", A::optional_computed(T::String, "The profile's name; generated when left out.").force_new()),
                ("name_prefix", super::common::name_prefix_schema()),
                ("arn", A::computed(T::String, "The profile's ARN.")),
                ("unique_id", A::computed(T::String, "The stable id IAM gives the profile.")),
                ("create_date", A::computed(T::String, "When it was made (RFC 3339).")),
                ("path", A::optional(T::String, "The profile's path.").force_new().default(Value::str("/"))),
                ("role", A::optional(T::String, "The role's name.")),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = name_or_generated(planned, marker);
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let r = ctx
            .clients
            .iam
            .create_instance_profile()
            .instance_profile_name(&name)
            .path(s(planned, "path").unwrap_or("/"))
            .set_tags(Some(iam_tags(&t)))
            .send()
            .await
            .map_err(|e| api("CreateInstanceProfile", e));
        if let Err(e) = r
            && (e.code.as_deref() != Some("EntityAlreadyExists") || self.adopt(ctx, marker).await?.is_none())
        {
            return Err(e);
        }
        let prior = read_profile(ctx, &name).await?.unwrap_or(Value::Null);
        self.update(
            ctx,
            &prior,
            &obj(vec![("id", Value::str(&name)), ("role", planned.get("role").cloned().unwrap_or(Value::Null))]),
        )
        .await
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        read_profile(ctx, id(state)?).await
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let name = id(prior).or_else(|_| id(planned))?;
        let iam = &ctx.clients.iam;
        if planned.get("role") != prior.get("role") {
            if let Some(old) = s(prior, "role") {
                found(
                    iam.remove_role_from_instance_profile()
                        .instance_profile_name(name)
                        .role_name(old)
                        .send()
                        .await
                        .map_err(|e| api("RemoveRoleFromInstanceProfile", e)),
                )?;
            }
            if let Some(new) = s(planned, "role") {
                settle(|| async {
                    iam.add_role_to_instance_profile()
                        .instance_profile_name(name)
                        .role_name(new)
                        .send()
                        .await
                        .map_err(|e| api("AddRoleToInstanceProfile", e))
                })
                .await?;
            }
        }
        if planned.get("tags").is_some() {
            let change = tags::change(prior, planned, &ctx.settings.default_tags);
            if !change.removed.is_empty() {
                iam.untag_instance_profile()
                    .instance_profile_name(name)
                    .set_tag_keys(Some(change.removed))
                    .send()
                    .await
                    .map_err(|e| api("UntagInstanceProfile", e))?;
            }
            if !change.set.is_empty() {
                iam.tag_instance_profile()
                    .instance_profile_name(name)
                    .set_tags(Some(iam_tags(&change.set)))
                    .send()
                    .await
                    .map_err(|e| api("TagInstanceProfile", e))?;
            }
        }
        read_profile(ctx, name).await?.ok_or_else(|| ProviderError::new(format!("instance profile {name} disappeared")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let name = id(prior)?;
        let iam = &ctx.clients.iam;
        if let Some(role) = s(prior, "role") {
            found(
                iam.remove_role_from_instance_profile()
                    .instance_profile_name(name)
                    .role_name(role)
                    .send()
                    .await
                    .map_err(|e| api("RemoveRoleFromInstanceProfile", e)),
            )?;
        }
        found(
            iam.delete_instance_profile()
                .instance_profile_name(name)
                .send()
                .await
                .map_err(|e| api("DeleteInstanceProfile", e)),
        )?;
        Ok(())
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let name = adoption_name(marker);
        let out = found(
            ctx.clients
                .iam
                .get_instance_profile()
                .instance_profile_name(&name)
                .send()
                .await
                .map_err(|e| api("GetInstanceProfile", e)),
        )?;
        match out.and_then(|o| o.instance_profile().map(|p| tags::has_marker(&tag_map(p.tags()), marker))) {
            Some(true) => read_profile(ctx, &name).await,
            _ => Ok(None),
        }
    }
}

// ---------------------------------------------------------------- managed policy

async fn read_policy(ctx: &Ctx<'_>, arn: &str) -> Result<Option<Value>, ProviderError> {
    let iam = &ctx.clients.iam;
    let out = found(iam.get_policy().policy_arn(arn).send().await.map_err(|e| api("GetPolicy", e)))?;
    let Some(p) = out.as_ref().and_then(|o| o.policy()) else { return Ok(None) };
    let version = p.default_version_id().unwrap_or("v1");
    let doc = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .map_err(|e| api("GetPolicyVersion", e))?;
    let (t, all) = tags::attributes_from_map(&tag_map(p.tags()), &ctx.settings.default_tags);
    Ok(Some(obj(vec![
        ("id", Value::str(arn)),
        ("arn", Value::str(arn)),
        ("name", opt_str(p.policy_name())),
        ("name_prefix", super::common::prefix_of(p.policy_name())),
        ("path", opt_str(p.path())),
        ("description", opt_str(p.description())),
        ("policy_id", opt_str(p.policy_id())),
        ("policy", opt_str(doc.policy_version().and_then(|v| v.document()).map(from_iam).as_deref())),
        ("tags", t),
        ("tags_all", all),
    ])))
}

#[async_trait]
impl ResourceType for AwsIamPolicy {
    fn name(&self) -> &'static str {
        "aws_iam_policy"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A customer managed IAM policy. A change of document makes a new default version.",
            [
                ("id", A::computed(T::String, "The policy's ARN.")),
                ("arn", A::computed(T::String, "The policy's ARN.")),
                ("name", A::optional_computed(T::String, "The policy's name; generated when left out.").force_new()),
                ("name_prefix", super::common::name_prefix_schema()),
                ("path", A::optional(T::String, "The policy's path.").force_new().default(Value::str("/"))),
                ("description", A::optional(T::String, "What the policy is for.").force_new()),
                ("policy_id", A::computed(T::String, "The stable id IAM gives the policy.")),
                ("policy", A::required(T::String, "The policy document (JSON).")),
            ],
        )
    }
    fn warnings(&self, planned: &Value) -> Vec<String> {
        broad_grants(planned, "policy")
    }
    fn documents(&self) -> Vec<(&'static str, crate::Meaning)> {
        vec![("policy", |text, _| canonical_policy(text))]
    }
    fn validate(&self, config: &Value) -> Vec<String> {
        validate_policy(config, "policy")
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = name_or_generated(planned, marker);
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let out = ctx
            .clients
            .iam
            .create_policy()
            .policy_name(&name)
            .path(s(planned, "path").unwrap_or("/"))
            .set_description(s(planned, "description").map(String::from))
            .policy_document(req(planned, "policy")?)
            .set_tags(Some(iam_tags(&t)))
            .send()
            .await;
        let arn = match out.map_err(|e| api("CreatePolicy", e)) {
            Ok(o) => o.policy().and_then(|p| p.arn()).map(String::from),
            Err(e) if e.code.as_deref() == Some("EntityAlreadyExists") => {
                self.adopt(ctx, marker).await?.and_then(|v| s(&v, "arn").map(String::from))
            }
            Err(e) => return Err(e),
        }
        .ok_or_else(|| ProviderError::new(format!("CreatePolicy returned no ARN for {name}")))?;
        crate::consistency::read_new(ctx, || read_policy(ctx, &arn))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new policy {arn} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        read_policy(ctx, id(state)?).await
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let arn = id(prior)?;
        let iam = &ctx.clients.iam;
        if planned.get("policy") != prior.get("policy") {
            // IAM keeps at most five versions: drop the oldest non-default one first.
            let versions =
                iam.list_policy_versions().policy_arn(arn).send().await.map_err(|e| api("ListPolicyVersions", e))?;
            let mut old: Vec<_> = versions.versions().iter().filter(|v| !v.is_default_version()).collect();
            if versions.versions().len() >= 5 {
                old.sort_by_key(|v| v.create_date().map(|d| d.secs()));
                if let Some(v) = old.first().and_then(|v| v.version_id()) {
                    iam.delete_policy_version()
                        .policy_arn(arn)
                        .version_id(v)
                        .send()
                        .await
                        .map_err(|e| api("DeletePolicyVersion", e))?;
                }
            }
            iam.create_policy_version()
                .policy_arn(arn)
                .policy_document(req(planned, "policy")?)
                .set_as_default(true)
                .send()
                .await
                .map_err(|e| api("CreatePolicyVersion", e))?;
        }
        let change = tags::change(prior, planned, &ctx.settings.default_tags);
        if !change.removed.is_empty() {
            iam.untag_policy()
                .policy_arn(arn)
                .set_tag_keys(Some(change.removed))
                .send()
                .await
                .map_err(|e| api("UntagPolicy", e))?;
        }
        if !change.set.is_empty() {
            iam.tag_policy()
                .policy_arn(arn)
                .set_tags(Some(iam_tags(&change.set)))
                .send()
                .await
                .map_err(|e| api("TagPolicy", e))?;
        }
        read_policy(ctx, arn)
            .await?
            .ok_or_else(|| ProviderError::new(format!("policy {arn} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let arn = id(prior)?;
        let iam = &ctx.clients.iam;
        // Non-default versions must go before the policy can.
        if let Some(versions) =
            found(iam.list_policy_versions().policy_arn(arn).send().await.map_err(|e| api("ListPolicyVersions", e)))?
        {
            for v in versions.versions().iter().filter(|v| !v.is_default_version()) {
                if let Some(vid) = v.version_id() {
                    found(
                        iam.delete_policy_version()
                            .policy_arn(arn)
                            .version_id(vid)
                            .send()
                            .await
                            .map_err(|e| api("DeletePolicyVersion", e)),
                    )?;
                }
            }
        }
        found(iam.delete_policy().policy_arn(arn).send().await.map_err(|e| api("DeletePolicy", e)))?;
        Ok(())
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let name = adoption_name(marker);
        let mut pages =
            ctx.clients.iam.list_policies().scope(aws_sdk_iam::types::PolicyScopeType::Local).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api("ListPolicies", e))?;
            if let Some(arn) =
                page.policies().iter().find(|p| p.policy_name() == Some(name.as_str())).and_then(|p| p.arn())
            {
                let tagged = ctx
                    .clients
                    .iam
                    .list_policy_tags()
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(|e| api("ListPolicyTags", e))?;
                if tags::has_marker(&tag_map(tagged.tags()), marker) {
                    return read_policy(ctx, arn).await;
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod broad_grant_tests {
    use super::*;

    fn policy(statement: &str) -> Value {
        Value::object([(
            "policy".to_string(),
            Value::str(format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#)),
        )])
    }

    #[test]
    fn wildcards_are_findings_unless_the_action_takes_no_resource() {
        assert_eq!(
            broad_grants(&policy(r#"{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}"#), "policy"),
            vec!["policy allows every action of s3:*"]
        );
        assert_eq!(
            broad_grants(&policy(r#"{"Effect":"Allow","Action":["ecs:UpdateService"],"Resource":"*"}"#), "policy"),
            vec![r#"policy allows ecs:UpdateService on every resource ("*")"#]
        );
        assert!(
            broad_grants(
                &policy(r#"{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}"#),
                "policy"
            )
            .is_empty()
        );
        assert!(broad_grants(&policy(r#"{"Effect":"Deny","Action":"*","Resource":"*"}"#), "policy").is_empty());
    }
}
