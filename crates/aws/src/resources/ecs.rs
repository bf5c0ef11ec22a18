//! ECS clusters and their capacity: aws_ecs_cluster, aws_ecs_capacity_provider
//! and aws_ecs_cluster_capacity_providers. Cluster and capacity provider ids
//! are ARNs (as in Terraform); both are imported by name.

use super::common::{block_list, block_set, blocks, found, int, int_value, string_set};
use crate::consistency::retry_while;
use crate::error::api;
use crate::tags::{self, Tags};
use crate::values::{id, obj, opt_str, req, s, strings};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_ecs::types::{
    AutoScalingGroupProvider, CapacityProvider, CapacityProviderField, CapacityProviderStrategyItem, Cluster,
    ClusterConfiguration, ClusterField, ClusterSetting, ClusterSettingName, ExecuteCommandConfiguration,
    ExecuteCommandLogging, ManagedScaling, ManagedScalingStatus, ManagedTerminationProtection, Tag,
};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::time::Duration;

pub struct AwsEcsCluster;
pub struct AwsEcsCapacityProvider;
pub struct AwsEcsClusterCapacityProviders;

pub fn ecs_tags(t: &Tags) -> Vec<Tag> {
    t.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

pub fn tag_map(remote: &[Tag]) -> Tags {
    remote.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect()
}

/// Bring an ECS object's tags from `prior` to `planned`.
pub async fn sync_tags(ctx: &Ctx<'_>, arn: &str, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
    let change = tags::change(prior, planned, &ctx.settings.default_tags);
    let ecs = &ctx.clients.ecs;
    if !change.removed.is_empty() {
        ecs.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(change.removed))
            .send()
            .await
            .map_err(|e| api("UntagResource", e))?;
    }
    if !change.set.is_empty() {
        ecs.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(ecs_tags(&change.set)))
            .send()
            .await
            .map_err(|e| api("TagResource", e))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- cluster

fn settings(planned: &Value) -> Vec<ClusterSetting> {
    blocks(planned, "setting")
        .iter()
        .map(|b| {
            ClusterSetting::builder()
                .set_name(s(b, "name").map(ClusterSettingName::from))
                .set_value(s(b, "value").map(String::from))
                .build()
        })
        .collect()
}

fn configuration(planned: &Value) -> Option<ClusterConfiguration> {
    let c = blocks(planned, "configuration").into_iter().next()?;
    let e = blocks(c, "execute_command_configuration").into_iter().next()?;
    Some(
        ClusterConfiguration::builder()
            .execute_command_configuration(
                ExecuteCommandConfiguration::builder()
                    .set_kms_key_id(s(e, "kms_key_id").map(String::from))
                    .set_logging(s(e, "logging").map(ExecuteCommandLogging::from))
                    .build(),
            )
            .build(),
    )
}

fn cluster_value(ctx: &Ctx<'_>, c: &Cluster) -> Value {
    let (t, all) = tags::attributes_from_map(&tag_map(c.tags()), &ctx.settings.default_tags);
    let mut settings: Vec<(String, String)> = c
        .settings()
        .iter()
        .map(|s| {
            (s.name().map(|n| n.as_str().to_string()).unwrap_or_default(), s.value().unwrap_or_default().to_string())
        })
        .collect();
    settings.sort();
    let configuration = c.configuration().and_then(|cfg| cfg.execute_command_configuration()).map(|e| {
        Value::List(vec![obj(vec![(
            "execute_command_configuration",
            Value::List(vec![obj(vec![
                ("kms_key_id", opt_str(e.kms_key_id())),
                ("logging", opt_str(e.logging().map(|l| l.as_str()))),
            ])]),
        )])])
    });
    obj(vec![
        ("id", Value::str(c.cluster_arn().unwrap_or_default())),
        ("arn", Value::str(c.cluster_arn().unwrap_or_default())),
        ("name", Value::str(c.cluster_name().unwrap_or_default())),
        (
            "setting",
            Value::List(
                settings
                    .into_iter()
                    .map(|(n, v)| obj(vec![("name", Value::String(n)), ("value", Value::String(v))]))
                    .collect(),
            ),
        ),
        ("configuration", configuration.unwrap_or(Value::Null)),
        ("tags", t),
        ("tags_all", all),
    ])
}

async fn describe_clusters(ctx: &Ctx<'_>, ids: Vec<String>) -> Result<Vec<Cluster>, ProviderError> {
    let out = ctx
        .clients
        .ecs
        .describe_clusters()
        .set_clusters(Some(ids))
        .include(ClusterField::Tags)
        .include(ClusterField::Settings)
        .include(ClusterField::Configurations)
        .send()
        .await
        .map_err(|e| api("DescribeClusters", e))?;
    // A deleted cluster is still described for a while, as INACTIVE.
    Ok(out.clusters().iter().filter(|c| c.status() != Some("INACTIVE")).cloned().collect())
}

#[async_trait]
impl ResourceType for AwsEcsCluster {
    fn name(&self) -> &'static str {
        "aws_ecs_cluster"
    }
    fn schema(&self) -> ResourceSchema {
        let execute = block_list(&[("kms_key_id", T::String), ("logging", T::String)], &[]);
        ResourceSchema::new(
            "An ECS cluster. Import id: its name.",
            [
                ("id", A::computed(T::String, "The cluster's ARN.")),
                ("arn", A::computed(T::String, "The cluster's ARN.")),
                ("name", A::required(T::String, "The cluster's name.").force_new()),
                (
                    "setting",
                    A::optional_computed(
                        block_set(&[("name", T::String), ("value", T::String)], &["name", "value"]),
                        "Cluster settings, e.g. { name = \"containerInsights\", value = \"enabled\" }.",
                    ),
                ),
                (
                    "configuration",
                    A::optional(
                        block_list(&[("execute_command_configuration", execute)], &[]),
                        "ECS Exec settings (kms_key_id, logging).",
                    ),
                ),
            ],
        )
    }
    fn normalize(&self, planned: &mut Value) {
        // AWS reports settings sorted by name.
        if let Value::Map(m) = planned
            && let Some(Value::List(items)) = m.get_mut("setting")
        {
            items.sort_by(|a, b| s(a, "name").cmp(&s(b, "name")));
        }
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = req(planned, "name")?;
        // CreateCluster on an existing name returns that cluster: look first,
        // so a cluster that is not ours is an error, not taken over.
        if let Some(c) = describe_clusters(ctx, vec![name.to_string()]).await?.first() {
            if tags::has_marker(&tag_map(c.tags()), marker) {
                return Ok(cluster_value(ctx, c));
            }
            return Err(ProviderError::api(
                "CreateCluster",
                Some("ClusterAlreadyExists"),
                format!(
                    "an ECS cluster named {name} exists already and was not created by this configuration; import it or choose another name"
                ),
            ));
        }
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let out = ctx
            .clients
            .ecs
            .create_cluster()
            .cluster_name(name)
            .set_settings(Some(settings(planned)).filter(|s| !s.is_empty()))
            .set_configuration(configuration(planned))
            .set_tags(Some(ecs_tags(&t)))
            .send()
            .await
            .map_err(|e| api("CreateCluster", e))?;
        let arn = out.cluster().and_then(|c| c.cluster_arn()).unwrap_or(name).to_string();
        let new_key = obj(vec![("id", Value::String(arn))]);
        crate::consistency::read_new(ctx, || self.read(ctx, &new_key))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new cluster {name} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let found_ = found(describe_clusters(ctx, vec![id(state)?.to_string()]).await)?.unwrap_or_default();
        Ok(found_.first().map(|c| cluster_value(ctx, c)))
    }
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        super::ec2util::batched(
            states,
            |ids| async move {
                Ok(describe_clusters(ctx, ids)
                    .await?
                    .iter()
                    .map(|c| (c.cluster_arn().unwrap_or_default().to_string(), cluster_value(ctx, c)))
                    .collect())
            },
            |s| async move { self.read(ctx, &s).await },
        )
        .await
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let arn = id(prior)?;
        if planned.get("setting") != prior.get("setting") || planned.get("configuration") != prior.get("configuration")
        {
            ctx.clients
                .ecs
                .update_cluster()
                .cluster(arn)
                .set_settings(Some(settings(planned)))
                .set_configuration(configuration(planned))
                .send()
                .await
                .map_err(|e| api("UpdateCluster", e))?;
        }
        sync_tags(ctx, arn, prior, planned).await?;
        self.read(ctx, prior)
            .await?
            .ok_or_else(|| ProviderError::new(format!("cluster {arn} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let arn = id(prior)?;
        // Container instances of a just-deleted Auto Scaling group take minutes to deregister.
        let busy = [
            "ClusterContainsContainerInstancesException",
            "ClusterContainsServicesException",
            "ClusterContainsTasksException",
        ];
        let r = retry_while(&busy, ctx.settings.max_wait.min(Duration::from_secs(1200)), || async {
            ctx.clients.ecs.delete_cluster().cluster(arn).send().await.map_err(|e| api("DeleteCluster", e))
        })
        .await;
        found(r).map(|_| ())
    }
    async fn import(&self, ctx: &Ctx<'_>, id: &str) -> Result<Option<Value>, ProviderError> {
        self.read(ctx, &obj(vec![("id", Value::str(id))])).await
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let Some(name) = &marker.name else { return Ok(None) };
        let found_ = describe_clusters(ctx, vec![name.clone()]).await?;
        Ok(found_.iter().find(|c| tags::has_marker(&tag_map(c.tags()), marker)).map(|c| cluster_value(ctx, c)))
    }
}

// ---------------------------------------------------------------- capacity provider

fn managed_scaling_type() -> T {
    block_list(
        &[
            ("status", T::String),
            ("target_capacity", T::Number),
            ("minimum_scaling_step_size", T::Number),
            ("maximum_scaling_step_size", T::Number),
            ("instance_warmup_period", T::Number),
        ],
        &[],
    )
}

fn asg_provider(planned: &Value) -> Result<AutoScalingGroupProvider, ProviderError> {
    let p = blocks(planned, "auto_scaling_group_provider")
        .into_iter()
        .next()
        .ok_or_else(|| ProviderError::new("auto_scaling_group_provider is required"))?;
    let scaling = blocks(p, "managed_scaling").into_iter().next().map(|m| {
        ManagedScaling::builder()
            .set_status(s(m, "status").map(ManagedScalingStatus::from))
            .set_target_capacity(int(m, "target_capacity"))
            .set_minimum_scaling_step_size(int(m, "minimum_scaling_step_size"))
            .set_maximum_scaling_step_size(int(m, "maximum_scaling_step_size"))
            .set_instance_warmup_period(int(m, "instance_warmup_period"))
            .build()
    });
    AutoScalingGroupProvider::builder()
        .auto_scaling_group_arn(req(p, "auto_scaling_group_arn")?)
        .set_managed_scaling(scaling)
        .set_managed_termination_protection(
            s(p, "managed_termination_protection").map(ManagedTerminationProtection::from),
        )
        .build()
        .map_err(|e| ProviderError::new(format!("auto_scaling_group_provider: {e}")))
}

fn capacity_provider_value(ctx: &Ctx<'_>, c: &CapacityProvider) -> Value {
    let (t, all) = tags::attributes_from_map(&tag_map(c.tags()), &ctx.settings.default_tags);
    let p = c.auto_scaling_group_provider();
    let scaling = p.and_then(|p| p.managed_scaling()).map(|m| {
        Value::List(vec![obj(vec![
            ("status", opt_str(m.status().map(|s| s.as_str()))),
            ("target_capacity", int_value(m.target_capacity())),
            ("minimum_scaling_step_size", int_value(m.minimum_scaling_step_size())),
            ("maximum_scaling_step_size", int_value(m.maximum_scaling_step_size())),
            ("instance_warmup_period", int_value(m.instance_warmup_period())),
        ])])
    });
    obj(vec![
        ("id", opt_str(c.capacity_provider_arn())),
        ("arn", opt_str(c.capacity_provider_arn())),
        ("name", opt_str(c.name())),
        (
            "auto_scaling_group_provider",
            Value::List(vec![obj(vec![
                ("auto_scaling_group_arn", opt_str(p.map(|p| p.auto_scaling_group_arn()))),
                (
                    "managed_termination_protection",
                    Value::str(
                        p.and_then(|p| p.managed_termination_protection()).map(|m| m.as_str()).unwrap_or("DISABLED"),
                    ),
                ),
                ("managed_scaling", scaling.unwrap_or(Value::Null)),
            ])]),
        ),
        ("tags", t),
        ("tags_all", all),
    ])
}

async fn describe_capacity_provider(ctx: &Ctx<'_>, key: &str) -> Result<Option<CapacityProvider>, ProviderError> {
    let out = ctx
        .clients
        .ecs
        .describe_capacity_providers()
        .capacity_providers(key)
        .include(CapacityProviderField::Tags)
        .send()
        .await
        .map_err(|e| api("DescribeCapacityProviders", e))?;
    Ok(out.capacity_providers().iter().find(|c| c.status().is_none_or(|s| s.as_str() == "ACTIVE")).cloned())
}

#[async_trait]
impl ResourceType for AwsEcsCapacityProvider {
    fn name(&self) -> &'static str {
        "aws_ecs_capacity_provider"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An ECS capacity provider on an Auto Scaling group. Import id: its name.",
            [
                ("id", A::computed(T::String, "The capacity provider's ARN.")),
                ("arn", A::computed(T::String, "The capacity provider's ARN.")),
                ("name", A::required(T::String, "The capacity provider's name.").force_new()),
                (
                    "auto_scaling_group_provider",
                    A::required(
                        block_list(
                            &[
                                ("auto_scaling_group_arn", T::String),
                                ("managed_termination_protection", T::String),
                                ("managed_scaling", managed_scaling_type()),
                            ],
                            &["auto_scaling_group_arn"],
                        ),
                        "The Auto Scaling group (another one replaces the capacity provider) and how ECS scales it.",
                    )
                    .force_new_within(&["auto_scaling_group_arn"]),
                ),
            ],
        )
    }
    fn normalize(&self, planned: &mut Value) {
        // What AWS reports when managed scaling is left out or partly set.
        let scaling_defaults = [
            ("status", Value::str("DISABLED")),
            ("target_capacity", Value::Number(100.0)),
            ("minimum_scaling_step_size", Value::Number(1.0)),
            ("maximum_scaling_step_size", Value::Number(10000.0)),
            ("instance_warmup_period", Value::Number(300.0)),
        ];
        super::common::fill_block_defaults(
            planned,
            "auto_scaling_group_provider",
            &[
                ("managed_termination_protection", Value::str("DISABLED")),
                ("managed_scaling", Value::List(vec![obj(vec![])])),
            ],
        );
        if let Value::Map(m) = planned
            && let Some(Value::List(providers)) = m.get_mut("auto_scaling_group_provider")
        {
            for p in providers.iter_mut() {
                super::common::fill_block_defaults(p, "managed_scaling", &scaling_defaults);
            }
        }
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = req(planned, "name")?;
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let r = ctx
            .clients
            .ecs
            .create_capacity_provider()
            .name(name)
            .auto_scaling_group_provider(asg_provider(planned)?)
            .set_tags(Some(ecs_tags(&t)))
            .send()
            .await
            .map_err(|e| api("CreateCapacityProvider", e));
        if let Err(e) = r
            && self.adopt(ctx, marker).await?.is_none()
        {
            return Err(e);
        }
        let new_key = obj(vec![("id", Value::str(name))]);
        crate::consistency::read_new(ctx, || self.read(ctx, &new_key))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new capacity provider {name} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let c = found(describe_capacity_provider(ctx, id(state)?).await)?.flatten();
        Ok(c.map(|c| capacity_provider_value(ctx, &c)))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let arn = id(prior)?;
        if planned.get("auto_scaling_group_provider") != prior.get("auto_scaling_group_provider") {
            let p = asg_provider(planned)?;
            let update = aws_sdk_ecs::types::AutoScalingGroupProviderUpdate::builder()
                .set_managed_scaling(p.managed_scaling().cloned())
                .set_managed_termination_protection(p.managed_termination_protection().cloned())
                .build();
            ctx.clients
                .ecs
                .update_capacity_provider()
                .name(req(prior, "name")?)
                .auto_scaling_group_provider(update)
                .send()
                .await
                .map_err(|e| api("UpdateCapacityProvider", e))?;
        }
        sync_tags(ctx, arn, prior, planned).await?;
        self.read(ctx, prior).await?.ok_or_else(|| ProviderError::new(format!("capacity provider {arn} disappeared")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let key = id(prior)?;
        let r = ctx.clients.ecs.delete_capacity_provider().capacity_provider(key).send().await;
        if found(r.map_err(|e| api("DeleteCapacityProvider", e)))?.is_none() {
            return Ok(());
        }
        // Deletion goes on after the answer (DELETE_IN_PROGRESS): the group it
        // managed is not free until the provider is INACTIVE.
        let start = std::time::Instant::now();
        let mut delay = std::time::Duration::from_secs(1);
        loop {
            let Some(c) = found(describe_capacity_provider(ctx, key).await)?.flatten() else { return Ok(()) };
            if c.update_status().is_some_and(|s| s.as_str() == "DELETE_FAILED") {
                return Err(ProviderError::api(
                    "DeleteCapacityProvider",
                    Some("DELETE_FAILED"),
                    c.update_status_reason().unwrap_or("AWS gave no reason").to_string(),
                ));
            }
            if start.elapsed() + delay >= ctx.settings.max_wait {
                return Err(ProviderError::api(
                    "DeleteCapacityProvider",
                    Some("Timeout"),
                    format!("capacity provider {key} was still being deleted after {} s", start.elapsed().as_secs()),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(std::time::Duration::from_secs(10));
        }
    }
    async fn import(&self, ctx: &Ctx<'_>, id: &str) -> Result<Option<Value>, ProviderError> {
        self.read(ctx, &obj(vec![("id", Value::str(id))])).await
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let Some(name) = &marker.name else { return Ok(None) };
        let c = found(describe_capacity_provider(ctx, name).await)?.flatten();
        Ok(c.filter(|c| tags::has_marker(&tag_map(c.tags()), marker)).map(|c| capacity_provider_value(ctx, &c)))
    }
}

// ---------------------------------------------------------------- cluster capacity providers

fn strategy(planned: &Value) -> Result<Vec<CapacityProviderStrategyItem>, ProviderError> {
    blocks(planned, "default_capacity_provider_strategy")
        .iter()
        .map(|b| {
            CapacityProviderStrategyItem::builder()
                .capacity_provider(s(b, "capacity_provider").unwrap_or_default())
                .set_weight(int(b, "weight"))
                .set_base(int(b, "base"))
                .build()
                .map_err(|e| ProviderError::new(format!("default_capacity_provider_strategy: {e}")))
        })
        .collect()
}

pub fn strategy_type() -> T {
    block_set(&[("capacity_provider", T::String), ("weight", T::Number), ("base", T::Number)], &["capacity_provider"])
}

#[async_trait]
impl ResourceType for AwsEcsClusterCapacityProviders {
    fn name(&self) -> &'static str {
        "aws_ecs_cluster_capacity_providers"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "The capacity providers of an ECS cluster and its default strategy. Import id: the cluster's name.",
            [
                ("id", A::computed(T::String, "The cluster's name.")),
                ("cluster_name", A::required(T::String, "The cluster's name.").force_new()),
                (
                    "capacity_providers",
                    A::optional(string_set(), "Capacity provider names.").default(Value::List(vec![])),
                ),
                (
                    "default_capacity_provider_strategy",
                    A::optional(strategy_type(), "How tasks are spread by default."),
                ),
            ],
        )
    }
    fn normalize(&self, planned: &mut Value) {
        super::common::fill_block_defaults(
            planned,
            "default_capacity_provider_strategy",
            &[("weight", Value::Number(0.0)), ("base", Value::Number(0.0))],
        );
        if let Value::Map(m) = planned
            && let Some(Value::List(items)) = m.get_mut("capacity_providers")
        {
            items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, _marker: &Marker) -> Result<Value, ProviderError> {
        let key = obj(vec![("id", Value::str(req(planned, "cluster_name")?))]);
        self.update(ctx, &key, planned).await
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let name = id(state)?;
        let Some(c) =
            found(describe_clusters(ctx, vec![name.to_string()]).await)?.unwrap_or_default().into_iter().next()
        else {
            return Ok(None);
        };
        let mut providers: Vec<Value> = c.capacity_providers().iter().map(Value::str).collect();
        providers.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        let strategy: Vec<Value> = c
            .default_capacity_provider_strategy()
            .iter()
            .map(|i| {
                obj(vec![
                    ("capacity_provider", Value::str(i.capacity_provider())),
                    ("weight", int_value(Some(i.weight()))),
                    ("base", int_value(Some(i.base()))),
                ])
            })
            .collect();
        Ok(Some(obj(vec![
            ("id", Value::str(name)),
            ("cluster_name", Value::str(c.cluster_name().unwrap_or(name))),
            ("capacity_providers", Value::List(providers)),
            (
                "default_capacity_provider_strategy",
                if strategy.is_empty() { Value::Null } else { Value::List(strategy) },
            ),
        ])))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let name = id(prior)?;
        // A capacity provider just created may not be usable by the cluster yet.
        retry_while(&["UpdateInProgressException", "ResourceInUseException"], Duration::from_secs(300), || async {
            ctx.clients
                .ecs
                .put_cluster_capacity_providers()
                .cluster(name)
                .set_capacity_providers(Some(strings(planned, "capacity_providers")))
                .set_default_capacity_provider_strategy(Some(strategy(planned)?))
                .send()
                .await
                .map_err(|e| api("PutClusterCapacityProviders", e))
        })
        .await?;
        self.read(ctx, prior).await?.ok_or_else(|| ProviderError::new(format!("cluster {name} is gone")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let r = ctx
            .clients
            .ecs
            .put_cluster_capacity_providers()
            .cluster(id(prior)?)
            .set_capacity_providers(Some(vec![]))
            .set_default_capacity_provider_strategy(Some(vec![]))
            .send()
            .await
            .map_err(|e| api("PutClusterCapacityProviders", e));
        found(r).map(|_| ())
    }
}
