//! aws_ecs_task_definition and aws_ecs_service. A task definition revision
//! cannot change: any change registers a new one (a replacement) and the
//! service moves to it in place. A service waits for a steady state when
//! `wait_for_steady_state` is set, and drains to zero before it is deleted.

use super::common::{block_list, block_set, blocks, found, int, int_value, string_set};
use super::container_definitions as containers;
use super::ec2util::waiter;
use super::ecs::{ecs_tags, strategy_type, sync_tags, tag_map};
use crate::error::api;
use crate::tags;
use crate::values::{b, id, obj, opt_str, req, s, strings};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_ecs::client::Waiters;
use aws_sdk_ecs::types::{
    AssignPublicIp, AvailabilityZoneRebalancing, AwsVpcConfiguration, CapacityProviderStrategyItem, Compatibility,
    DeploymentCircuitBreaker, DeploymentConfiguration, LaunchType, LoadBalancer, NetworkConfiguration, NetworkMode,
    PropagateTags, SchedulingStrategy, Service, ServiceField, TaskDefinitionField,
};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;

pub struct AwsEcsTaskDefinition;
pub struct AwsEcsService;

// ---------------------------------------------------------------- task definition

fn awsvpc(v: &Value) -> bool {
    s(v, "network_mode") == Some("awsvpc")
}

async fn read_task_definition(ctx: &Ctx<'_>, key: &str, skip_destroy: bool) -> Result<Option<Value>, ProviderError> {
    let out = found(
        ctx.clients
            .ecs
            .describe_task_definition()
            .task_definition(key)
            .include(TaskDefinitionField::Tags)
            .send()
            .await
            .map_err(|e| api("DescribeTaskDefinition", e)),
    )?;
    let Some(out) = out else { return Ok(None) };
    let Some(td) = out.task_definition() else { return Ok(None) };
    if td.status().is_some_and(|s| s.as_str() == "INACTIVE") {
        return Ok(None);
    }
    let (t, all) = tags::attributes_from_map(&tag_map(out.tags()), &ctx.settings.default_tags);
    let arn = td.task_definition_arn().unwrap_or_default();
    let mode = td.network_mode().map(|m| m.as_str()).unwrap_or("bridge");
    let defs = containers::from_sdk(td.container_definitions());
    let mut compat: Vec<Value> = td.requires_compatibilities().iter().map(|c| Value::str(c.as_str())).collect();
    compat.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    Ok(Some(obj(vec![
        ("id", opt_str(td.family())),
        ("arn", Value::str(arn)),
        ("arn_without_revision", Value::str(arn.rsplit_once(':').map(|(a, _)| a).unwrap_or(arn))),
        ("revision", int_value(Some(td.revision()))),
        ("family", opt_str(td.family())),
        ("container_definitions", Value::String(containers::canonical(&defs, mode == "awsvpc").unwrap_or(defs))),
        ("task_role_arn", opt_str(td.task_role_arn())),
        ("execution_role_arn", opt_str(td.execution_role_arn())),
        ("network_mode", Value::str(mode)),
        ("requires_compatibilities", Value::List(compat)),
        ("cpu", opt_str(td.cpu())),
        ("memory", opt_str(td.memory())),
        ("skip_destroy", Value::Bool(skip_destroy)),
        ("enable_fault_injection", Value::Bool(td.enable_fault_injection().unwrap_or(false))),
        ("tags", t),
        ("tags_all", all),
    ])))
}

/// `v` with the `track_latest` setting of `from` (planned or prior state).
fn with_track_latest(v: Value, from: &Value) -> Value {
    super::common::with_setting(v, from, "track_latest", Value::Bool(false))
}

#[async_trait]
impl ResourceType for AwsEcsTaskDefinition {
    fn name(&self) -> &'static str {
        "aws_ecs_task_definition"
    }
    fn name_attribute(&self) -> &'static str {
        "family"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A revision of an ECS task definition. Import id: its ARN.",
            [
                ("id", A::computed(T::String, "The family.")),
                ("arn", A::computed(T::String, "The revision's ARN.")),
                (
                    "arn_without_revision",
                    A::computed(T::String, "The family's ARN, which always means the latest revision."),
                ),
                ("revision", A::computed(T::Number, "The revision number.")),
                ("family", A::required(T::String, "The family's name.").force_new()),
                (
                    "container_definitions",
                    A::required(T::String, "The containers (JSON, as RegisterTaskDefinition takes them).").force_new(),
                ),
                ("task_role_arn", A::optional(T::String, "The role the containers use.").force_new()),
                (
                    "execution_role_arn",
                    A::optional(T::String, "The role ECS uses to pull images and write logs.").force_new(),
                ),
                (
                    "network_mode",
                    A::optional_computed(T::String, "bridge, host, awsvpc or none (bridge when left out).").force_new(),
                ),
                (
                    "requires_compatibilities",
                    A::optional(string_set(), "EC2, FARGATE or EXTERNAL.").force_new().default(Value::List(vec![])),
                ),
                ("cpu", A::optional(T::String, "Task-level CPU units.").force_new()),
                ("memory", A::optional(T::String, "Task-level memory (MiB).").force_new()),
                (
                    "skip_destroy",
                    A::optional(T::Bool, "Keep the revision registered when destroyed.").default(Value::Bool(false)),
                ),
                (
                    "enable_fault_injection",
                    A::optional_computed(T::Bool, "Let tasks accept AWS Fault Injection Service requests.").force_new(),
                ),
                (
                    "track_latest",
                    A::optional(T::Bool, "Follow the family's latest active revision, even one made elsewhere.")
                        .default(Value::Bool(false)),
                ),
            ],
        )
    }
    fn validate(&self, config: &Value) -> Vec<String> {
        match s(config, "container_definitions").map(containers::to_sdk_all) {
            Some(Err(e)) => vec![e],
            _ => Vec::new(),
        }
    }
    fn documents(&self) -> Vec<(&'static str, crate::Meaning)> {
        vec![("container_definitions", |text, task| containers::canonical(text, awsvpc(task)))]
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let defs = containers::to_sdk_all(req(planned, "container_definitions")?).map_err(ProviderError::new)?;
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let out = ctx
            .clients
            .ecs
            .register_task_definition()
            .family(req(planned, "family")?)
            .set_container_definitions(Some(defs))
            .set_task_role_arn(s(planned, "task_role_arn").map(String::from))
            .set_execution_role_arn(s(planned, "execution_role_arn").map(String::from))
            .set_network_mode(s(planned, "network_mode").map(NetworkMode::from))
            .set_requires_compatibilities(Some(
                strings(planned, "requires_compatibilities").iter().map(|c| Compatibility::from(c.as_str())).collect(),
            ))
            .set_cpu(s(planned, "cpu").map(String::from))
            .set_memory(s(planned, "memory").map(String::from))
            .set_enable_fault_injection(b(planned, "enable_fault_injection"))
            .set_tags(Some(ecs_tags(&t)))
            .customize()
            .config_override(super::common::once!(aws_sdk_ecs))
            .send()
            .await
            .map_err(|e| api("RegisterTaskDefinition", e))?;
        let arn = out
            .task_definition()
            .and_then(|t| t.task_definition_arn())
            .ok_or_else(|| ProviderError::new("RegisterTaskDefinition returned no ARN"))?;
        read_task_definition(ctx, arn, b(planned, "skip_destroy").unwrap_or(false))
            .await?
            .map(|v| with_track_latest(v, planned))
            .ok_or_else(|| ProviderError::new(format!("the new task definition {arn} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        // Tracking the latest revision: the family alone names the latest active one.
        let key = match (b(state, "track_latest"), s(state, "family"), s(state, "arn")) {
            (Some(true), Some(family), _) => family,
            (_, _, Some(arn)) => arn,
            _ => id(state)?,
        };
        let read = read_task_definition(ctx, key, b(state, "skip_destroy").unwrap_or(false)).await?;
        Ok(read.map(|v| with_track_latest(v, state)))
    }
    async fn import(&self, ctx: &Ctx<'_>, id: &str) -> Result<Option<Value>, ProviderError> {
        Ok(read_task_definition(ctx, id, false).await?.map(|v| with_track_latest(v, &Value::Null)))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let arn = req(prior, "arn")?;
        sync_tags(ctx, arn, prior, planned).await?;
        read_task_definition(ctx, arn, b(planned, "skip_destroy").unwrap_or(false))
            .await?
            .map(|v| with_track_latest(v, planned))
            .ok_or_else(|| ProviderError::new(format!("task definition {arn} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        if b(prior, "skip_destroy") == Some(true) {
            return Ok(());
        }
        let r = ctx.clients.ecs.deregister_task_definition().task_definition(req(prior, "arn")?).send().await;
        found(r.map_err(|e| api("DeregisterTaskDefinition", e))).map(|_| ())
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        // The newest revision of the family, if this run registered it.
        let Some(family) = &marker.name else { return Ok(None) };
        let Some(v) = read_task_definition(ctx, family, false).await? else { return Ok(None) };
        let v = with_track_latest(v, &Value::Null);
        let arn = s(&v, "arn").unwrap_or_default();
        let out = ctx
            .clients
            .ecs
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| api("ListTagsForResource", e))?;
        Ok(tags::has_marker(&tag_map(out.tags()), marker).then_some(v))
    }
}

// ---------------------------------------------------------------- service

fn load_balancer_type() -> T {
    block_set(
        &[
            ("target_group_arn", T::String),
            ("container_name", T::String),
            ("container_port", T::Number),
            ("elb_name", T::String),
        ],
        &["container_name", "container_port"],
    )
}

fn load_balancers(planned: &Value) -> Vec<LoadBalancer> {
    blocks(planned, "load_balancer")
        .iter()
        .map(|l| {
            LoadBalancer::builder()
                .set_target_group_arn(s(l, "target_group_arn").map(String::from))
                .set_container_name(s(l, "container_name").map(String::from))
                .set_container_port(int(l, "container_port"))
                .set_load_balancer_name(s(l, "elb_name").map(String::from))
                .build()
        })
        .collect()
}

fn deployment(planned: &Value) -> DeploymentConfiguration {
    let breaker = blocks(planned, "deployment_circuit_breaker").into_iter().next().map(|c| {
        DeploymentCircuitBreaker::builder()
            .enable(b(c, "enable").unwrap_or(false))
            .rollback(b(c, "rollback").unwrap_or(false))
            .build()
    });
    DeploymentConfiguration::builder()
        .set_maximum_percent(int(planned, "deployment_maximum_percent"))
        .set_minimum_healthy_percent(int(planned, "deployment_minimum_healthy_percent"))
        .set_deployment_circuit_breaker(breaker)
        .build()
}

fn network(planned: &Value) -> Result<Option<NetworkConfiguration>, ProviderError> {
    let Some(n) = blocks(planned, "network_configuration").into_iter().next() else { return Ok(None) };
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(strings(n, "subnets")))
        .set_security_groups(Some(strings(n, "security_groups")))
        .assign_public_ip(if b(n, "assign_public_ip") == Some(true) {
            AssignPublicIp::Enabled
        } else {
            AssignPublicIp::Disabled
        })
        .build()
        .map_err(|e| ProviderError::new(format!("network_configuration: {e}")))?;
    Ok(Some(NetworkConfiguration::builder().awsvpc_configuration(vpc).build()))
}

fn capacity_strategy(planned: &Value) -> Result<Option<Vec<CapacityProviderStrategyItem>>, ProviderError> {
    let items = blocks(planned, "capacity_provider_strategy");
    if items.is_empty() {
        return Ok(None);
    }
    items
        .iter()
        .map(|i| {
            CapacityProviderStrategyItem::builder()
                .capacity_provider(s(i, "capacity_provider").unwrap_or_default())
                .set_weight(int(i, "weight"))
                .set_base(int(i, "base"))
                .build()
                .map_err(|e| ProviderError::new(format!("capacity_provider_strategy: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// (cluster, service) from an id (service ARN) or import id CLUSTER/SERVICE.
fn service_key(state: &Value) -> Result<(String, String), ProviderError> {
    let sid = id(state)?;
    if let Some(c) = s(state, "cluster") {
        return Ok((c.to_string(), sid.to_string()));
    }
    // arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME, or CLUSTER/NAME
    let tail = sid.rsplit_once(":service/").map(|(_, t)| t).unwrap_or(sid);
    tail.split_once('/')
        .map(|(c, n)| (c.to_string(), if sid.starts_with("arn:") { sid.to_string() } else { n.to_string() }))
        .ok_or_else(|| ProviderError::new(format!("an aws_ecs_service is imported as CLUSTER/SERVICE, got {sid:?}")))
}

fn service_value(ctx: &Ctx<'_>, svc: &Service, prior: &Value) -> Value {
    let (t, all) = tags::attributes_from_map(&tag_map(svc.tags()), &ctx.settings.default_tags);
    let d = svc.deployment_configuration();
    let breaker = d.and_then(|d| d.deployment_circuit_breaker()).map(|c| {
        Value::List(vec![obj(vec![("enable", Value::Bool(c.enable())), ("rollback", Value::Bool(c.rollback()))])])
    });
    let lbs: Vec<Value> = svc
        .load_balancers()
        .iter()
        .map(|l| {
            obj(vec![
                ("target_group_arn", opt_str(l.target_group_arn())),
                ("container_name", opt_str(l.container_name())),
                ("container_port", int_value(l.container_port())),
                ("elb_name", opt_str(l.load_balancer_name())),
            ])
        })
        .collect();
    let strategy: Vec<Value> = svc
        .capacity_provider_strategy()
        .iter()
        .map(|i| {
            obj(vec![
                ("capacity_provider", Value::str(i.capacity_provider())),
                ("weight", int_value(Some(i.weight()))),
                ("base", int_value(Some(i.base()))),
            ])
        })
        .collect();
    let net = svc.network_configuration().and_then(|n| n.awsvpc_configuration()).map(|v| {
        Value::List(vec![obj(vec![
            ("subnets", Value::List(v.subnets().iter().map(Value::str).collect())),
            ("security_groups", Value::List(v.security_groups().iter().map(Value::str).collect())),
            ("assign_public_ip", Value::Bool(v.assign_public_ip().is_some_and(|a| a.as_str() == "ENABLED"))),
        ])])
    });
    let keep = |k: &str, d: Value| prior.get(k).filter(|v| !v.is_null() && !v.is_unknown()).cloned().unwrap_or(d);
    let list_or_null = |v: Vec<Value>| if v.is_empty() { Value::Null } else { Value::List(v) };
    obj(vec![
        ("id", opt_str(svc.service_arn())),
        ("name", opt_str(svc.service_name())),
        ("cluster", opt_str(svc.cluster_arn())),
        ("task_definition", opt_str(svc.task_definition())),
        ("desired_count", int_value(Some(svc.desired_count()))),
        ("launch_type", opt_str(svc.launch_type().map(|l| l.as_str()))),
        ("scheduling_strategy", Value::str(svc.scheduling_strategy().map(|s| s.as_str()).unwrap_or("REPLICA"))),
        ("capacity_provider_strategy", list_or_null(strategy)),
        // AWS always reports the deployment configuration; an answer without
        // one says nothing about it, so what was known is kept.
        (
            "deployment_maximum_percent",
            d.map(|d| int_value(d.maximum_percent()))
                .unwrap_or_else(|| keep("deployment_maximum_percent", Value::Null)),
        ),
        (
            "deployment_minimum_healthy_percent",
            d.map(|d| int_value(d.minimum_healthy_percent()))
                .unwrap_or_else(|| keep("deployment_minimum_healthy_percent", Value::Null)),
        ),
        (
            "deployment_circuit_breaker",
            if d.is_some() { breaker.unwrap_or(Value::Null) } else { keep("deployment_circuit_breaker", Value::Null) },
        ),
        ("load_balancer", list_or_null(lbs)),
        ("network_configuration", net.unwrap_or(Value::Null)),
        (
            "health_check_grace_period_seconds",
            match svc.health_check_grace_period_seconds() {
                Some(g) => int_value(Some(g)),
                None => keep("health_check_grace_period_seconds", Value::Number(0.0)),
            },
        ),
        ("iam_role", opt_str(svc.role_arn())),
        ("enable_execute_command", Value::Bool(svc.enable_execute_command())),
        ("enable_ecs_managed_tags", Value::Bool(svc.enable_ecs_managed_tags())),
        ("propagate_tags", Value::str(svc.propagate_tags().map(|p| p.as_str()).unwrap_or("NONE"))),
        // AWS reports it on every service; an answer without it (the
        // emulator's) keeps what was known, else AWS's default.
        (
            "availability_zone_rebalancing",
            match svc.availability_zone_rebalancing() {
                Some(r) => Value::str(r.as_str()),
                None => prior
                    .get("availability_zone_rebalancing")
                    .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
                    .cloned()
                    .unwrap_or_else(|| Value::str("DISABLED")),
            },
        ),
        // ecspoc's own settings, not AWS's.
        ("wait_for_steady_state", keep("wait_for_steady_state", Value::Bool(false))),
        ("force_new_deployment", keep("force_new_deployment", Value::Bool(false))),
        ("tags", t),
        ("tags_all", all),
    ])
}

async fn describe_service(ctx: &Ctx<'_>, cluster: &str, service: &str) -> Result<Option<Service>, ProviderError> {
    let out = ctx
        .clients
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .include(ServiceField::Tags)
        .send()
        .await
        .map_err(|e| api("DescribeServices", e));
    let Some(out) = found(out)? else { return Ok(None) };
    Ok(out.services().iter().find(|s| s.status() != Some("INACTIVE")).cloned())
}

async fn wait_stable(ctx: &Ctx<'_>, planned: &Value, cluster: &str, arn: &str) -> Result<(), ProviderError> {
    if b(planned, "wait_for_steady_state") == Some(true) {
        ctx.clients
            .ecs
            .wait_until_services_stable()
            .cluster(cluster)
            .services(arn)
            .wait(ctx.settings.max_wait)
            .await
            .map_err(|e| waiter("ServicesStable", e))?;
        wait_rollout(ctx, cluster, arn).await?;
    }
    Ok(())
}

/// Steady is not done: with the deployment circuit breaker, running =
/// desired can hold while ECS is still replacing tasks or rolling back. The
/// primary deployment's rolloutState says when it is over (COMPLETED) or
/// failed (FAILED, with ECS's reason).
async fn wait_rollout(ctx: &Ctx<'_>, cluster: &str, arn: &str) -> Result<(), ProviderError> {
    let start = std::time::Instant::now();
    let mut delay = std::time::Duration::from_secs(2);
    loop {
        let svc = describe_service(ctx, cluster, arn).await?;
        let primary = svc.as_ref().and_then(|s| s.deployments().iter().find(|d| d.status() == Some("PRIMARY")));
        match primary.and_then(|d| d.rollout_state()).map(|r| r.as_str()) {
            None | Some("COMPLETED") => return Ok(()),
            Some("FAILED") => {
                let why = primary.and_then(|d| d.rollout_state_reason()).unwrap_or("ECS gave no reason");
                return Err(ProviderError::api("ServicesStable", Some("RolloutFailed"), why.to_string()));
            }
            Some(_) if start.elapsed() + delay >= ctx.settings.max_wait => {
                return Err(ProviderError::api(
                    "ServicesStable",
                    Some("Timeout"),
                    format!("the deployment of {arn} was still rolling out after {} s", start.elapsed().as_secs()),
                ));
            }
            Some(_) => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(15));
            }
        }
    }
}

#[async_trait]
impl ResourceType for AwsEcsService {
    fn name(&self) -> &'static str {
        "aws_ecs_service"
    }
    fn schema(&self) -> ResourceSchema {
        let int_default = |d: &'static str, n: f64| A::optional(T::Number, d).default(Value::Number(n));
        ResourceSchema::new(
            "An ECS service: tasks of a task definition kept running. Import id: CLUSTER/SERVICE.",
            [
                ("id", A::computed(T::String, "The service's ARN.")),
                ("name", A::required(T::String, "The service's name.").force_new()),
                ("cluster", A::optional_computed(T::String, "The cluster (name or ARN).").force_new()),
                ("task_definition", A::optional(T::String, "FAMILY:REVISION or the revision's ARN.")),
                ("desired_count", int_default("How many tasks to keep running.", 0.0)),
                ("launch_type", A::optional_computed(T::String, "EC2, FARGATE or EXTERNAL.").force_new()),
                (
                    "scheduling_strategy",
                    A::optional(T::String, "REPLICA or DAEMON.").force_new().default(Value::str("REPLICA")),
                ),
                (
                    "capacity_provider_strategy",
                    A::optional_computed(
                        strategy_type(),
                        "Capacity providers to place tasks on; left out, the cluster's default strategy.",
                    ),
                ),
                (
                    "deployment_maximum_percent",
                    int_default("Upper limit of tasks during a deployment, in percent.", 200.0),
                ),
                (
                    "deployment_minimum_healthy_percent",
                    int_default("Lower limit of healthy tasks during a deployment, in percent.", 100.0),
                ),
                (
                    "deployment_circuit_breaker",
                    A::optional(
                        block_list(&[("enable", T::Bool), ("rollback", T::Bool)], &["enable", "rollback"]),
                        "Stop (and roll back) a failing deployment.",
                    ),
                ),
                ("load_balancer", A::optional(load_balancer_type(), "Target groups the tasks register with.")),
                (
                    "network_configuration",
                    A::optional(
                        block_list(
                            &[
                                ("subnets", string_set()),
                                ("security_groups", string_set()),
                                ("assign_public_ip", T::Bool),
                            ],
                            &["subnets"],
                        ),
                        "awsvpc networking.",
                    ),
                ),
                (
                    "health_check_grace_period_seconds",
                    int_default("Seconds to ignore failing load balancer health checks after start.", 0.0),
                ),
                (
                    "iam_role",
                    // ECS reports its service-linked role when none is set.
                    A::optional_computed(T::String, "Role for classic load balancers.").force_new(),
                ),
                ("enable_execute_command", A::optional(T::Bool, "ECS Exec.").default(Value::Bool(false))),
                (
                    "enable_ecs_managed_tags",
                    A::optional(T::Bool, "ECS tags tasks with cluster and service.").default(Value::Bool(false)),
                ),
                (
                    "propagate_tags",
                    A::optional(T::String, "NONE, SERVICE or TASK_DEFINITION.").api_default(Value::str("NONE")),
                ),
                (
                    "availability_zone_rebalancing",
                    A::optional(T::String, "ENABLED or DISABLED: ECS moves tasks to balance Availability Zones.")
                        .default(Value::str("DISABLED")),
                ),
                (
                    "wait_for_steady_state",
                    A::optional(T::Bool, "Wait until the deployment is steady.").default(Value::Bool(false)),
                ),
                (
                    "force_new_deployment",
                    A::optional(T::Bool, "Redeploy on every update.").api_default(Value::Bool(false)),
                ),
            ],
        )
    }
    fn normalize(&self, planned: &mut Value) {
        super::common::fill_block_defaults(
            planned,
            "capacity_provider_strategy",
            &[("weight", Value::Number(0.0)), ("base", Value::Number(0.0))],
        );
        super::common::fill_block_defaults(planned, "load_balancer", &[("elb_name", Value::Null)]);
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let t = tags::create_map(planned, &ctx.settings.default_tags, marker);
        let cluster = s(planned, "cluster").unwrap_or("default");
        let create = ctx
            .clients
            .ecs
            .create_service()
            .cluster(cluster)
            .service_name(req(planned, "name")?)
            .set_task_definition(s(planned, "task_definition").map(String::from))
            .desired_count(int(planned, "desired_count").unwrap_or(0))
            .set_launch_type(s(planned, "launch_type").map(LaunchType::from))
            .set_capacity_provider_strategy(capacity_strategy(planned)?)
            .scheduling_strategy(SchedulingStrategy::from(s(planned, "scheduling_strategy").unwrap_or("REPLICA")))
            .deployment_configuration(deployment(planned))
            .set_load_balancers(Some(load_balancers(planned)).filter(|l| !l.is_empty()))
            .set_network_configuration(network(planned)?)
            .set_health_check_grace_period_seconds(int(planned, "health_check_grace_period_seconds").filter(|g| *g > 0))
            .set_role(s(planned, "iam_role").map(String::from))
            .enable_execute_command(b(planned, "enable_execute_command").unwrap_or(false))
            .enable_ecs_managed_tags(b(planned, "enable_ecs_managed_tags").unwrap_or(false))
            .propagate_tags(PropagateTags::from(s(planned, "propagate_tags").unwrap_or("NONE")))
            .set_availability_zone_rebalancing(
                s(planned, "availability_zone_rebalancing").map(AvailabilityZoneRebalancing::from),
            )
            .client_token(super::common::client_token(marker))
            .set_tags(Some(ecs_tags(&t)));
        let out = crate::consistency::retry(
            ctx,
            crate::consistency::ECS_SERVICE_NOT_YET,
            crate::consistency::propagation(ctx),
            || {
                let create = create.clone();
                async move { create.send().await.map_err(|e| api("CreateService", e)) }
            },
        )
        .await?;
        let svc = out.service().ok_or_else(|| ProviderError::new("CreateService returned no service"))?;
        let arn = svc.service_arn().unwrap_or_default().to_string();
        let cluster_arn = svc.cluster_arn().unwrap_or(cluster).to_string();
        wait_stable(ctx, planned, &cluster_arn, &arn).await?;
        let svc = crate::consistency::read_new(ctx, || describe_service(ctx, &cluster_arn, &arn))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new service {arn} could not be read back")))?;
        Ok(service_value(ctx, &svc, planned))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        self.read_many(ctx, std::slice::from_ref(state)).await.pop().unwrap_or(Ok(None))
    }
    /// DescribeServices takes ten services of one cluster per call.
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        let mut out: Vec<Option<Result<Option<Value>, ProviderError>>> = states.iter().map(|_| None).collect();
        let mut by_cluster: std::collections::BTreeMap<String, Vec<(usize, String)>> = Default::default();
        for (i, st) in states.iter().enumerate() {
            match service_key(st) {
                Ok((cluster, service)) => by_cluster.entry(cluster).or_default().push((i, service)),
                Err(e) => out[i] = Some(Err(e)),
            }
        }
        for (cluster, members) in by_cluster {
            for chunk in members.chunks(10) {
                let answer = ctx
                    .clients
                    .ecs
                    .describe_services()
                    .cluster(&cluster)
                    .set_services(Some(chunk.iter().map(|(_, s)| s.clone()).collect()))
                    .include(ServiceField::Tags)
                    .send()
                    .await
                    .map_err(|e| api("DescribeServices", e));
                for (i, service) in chunk {
                    out[*i] = Some(match &answer {
                        Ok(o) => Ok(o
                            .services()
                            .iter()
                            .find(|s| {
                                s.status() != Some("INACTIVE")
                                    && (s.service_arn() == Some(service) || s.service_name() == Some(service))
                            })
                            .map(|svc| service_value(ctx, svc, &states[*i]))),
                        // A cluster that is gone has no services.
                        Err(e) if crate::error::is_not_found(e) => Ok(None),
                        Err(e) => Err(e.clone()),
                    });
                }
            }
        }
        out.into_iter().map(|r| r.unwrap_or(Ok(None))).collect()
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let (cluster, arn) = service_key(prior)?;
        let changed = |k: &str| planned.get(k) != prior.get(k);
        let mut u = ctx.clients.ecs.update_service().cluster(&cluster).service(&arn);
        if changed("task_definition") {
            u = u.set_task_definition(s(planned, "task_definition").map(String::from));
        }
        if changed("desired_count") {
            u = u.desired_count(int(planned, "desired_count").unwrap_or(0));
        }
        if changed("capacity_provider_strategy") {
            u = u.set_capacity_provider_strategy(capacity_strategy(planned)?).force_new_deployment(true);
        }
        if ["deployment_maximum_percent", "deployment_minimum_healthy_percent", "deployment_circuit_breaker"]
            .iter()
            .any(|k| changed(k))
        {
            u = u.deployment_configuration(deployment(planned));
        }
        if changed("load_balancer") {
            u = u.set_load_balancers(Some(load_balancers(planned)));
        }
        if changed("network_configuration") {
            u = u.set_network_configuration(network(planned)?);
        }
        if changed("health_check_grace_period_seconds") {
            u = u.set_health_check_grace_period_seconds(int(planned, "health_check_grace_period_seconds"));
        }
        if changed("enable_execute_command") {
            u = u.enable_execute_command(b(planned, "enable_execute_command").unwrap_or(false));
        }
        if changed("availability_zone_rebalancing") {
            u = u.set_availability_zone_rebalancing(
                s(planned, "availability_zone_rebalancing").map(AvailabilityZoneRebalancing::from),
            );
        }
        if changed("enable_ecs_managed_tags") || changed("propagate_tags") {
            u = u
                .enable_ecs_managed_tags(b(planned, "enable_ecs_managed_tags").unwrap_or(false))
                .propagate_tags(PropagateTags::from(s(planned, "propagate_tags").unwrap_or("NONE")));
        }
        if b(planned, "force_new_deployment") == Some(true) {
            u = u.force_new_deployment(true);
        }
        u.send().await.map_err(|e| api("UpdateService", e))?;
        sync_tags(ctx, &arn, prior, planned).await?;
        wait_stable(ctx, planned, &cluster, &arn).await?;
        let svc = describe_service(ctx, &cluster, &arn)
            .await?
            .ok_or_else(|| ProviderError::new(format!("service {arn} disappeared")))?;
        Ok(service_value(ctx, &svc, planned))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let (cluster, arn) = service_key(prior)?;
        let Some(svc) = describe_service(ctx, &cluster, &arn).await? else { return Ok(()) };
        if svc.status() == Some("ACTIVE") && s(prior, "scheduling_strategy") != Some("DAEMON") {
            // Drain first, as Terraform does: no task is killed mid-request.
            ctx.clients
                .ecs
                .update_service()
                .cluster(&cluster)
                .service(&arn)
                .desired_count(0)
                .send()
                .await
                .map_err(|e| api("UpdateService", e))?;
        }
        let delete = ctx.clients.ecs.delete_service().cluster(&cluster).service(&arn).force(true);
        let limit = crate::consistency::release(ctx, std::time::Duration::from_secs(1200));
        let r = crate::consistency::retry(ctx, crate::consistency::ECS_SERVICE_BUSY, limit, || {
            let delete = delete.clone();
            async move { delete.send().await.map_err(|e| api("DeleteService", e)) }
        })
        .await;
        if found(r)?.is_none() {
            return Ok(());
        }
        ctx.clients
            .ecs
            .wait_until_services_inactive()
            .cluster(&cluster)
            .services(&arn)
            .wait(ctx.settings.max_wait)
            .await
            .map_err(|e| waiter("ServicesInactive", e))?;
        Ok(())
    }
    async fn import(&self, ctx: &Ctx<'_>, id: &str) -> Result<Option<Value>, ProviderError> {
        self.read(ctx, &obj(vec![("id", Value::str(id))])).await
    }
}
