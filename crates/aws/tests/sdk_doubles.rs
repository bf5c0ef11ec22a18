//! What the emulator cannot show, with SDK-level test doubles
//! (aws-smithy-mocks): throttling then success, an "already exists" answer,
//! and a waiter that times out.

use aws_sdk_ec2::error::ErrorMetadata;
use aws_sdk_ec2::operation::create_nat_gateway::CreateNatGatewayOutput;
use aws_sdk_ec2::operation::create_security_group::CreateSecurityGroupError;
use aws_sdk_ec2::operation::describe_nat_gateways::DescribeNatGatewaysOutput;
use aws_sdk_ec2::operation::describe_subnets::{DescribeSubnetsError, DescribeSubnetsOutput};
use aws_sdk_ec2::types::{NatGateway, NatGatewayState, Subnet};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
mod common;
use common::{marker, provider_with, settings, shared, v};
use ecspoc_aws::{AwsProvider, Clients, retry_config};
use ecspoc_core::provider::Provider;
use ecspoc_core::value::Value;
use std::time::Duration;

fn provider(ec2: aws_sdk_ec2::Client, max_wait: Duration) -> AwsProvider {
    provider_with(max_wait, |c| c.ec2 = ec2)
}

fn throttled() -> DescribeSubnetsError {
    DescribeSubnetsError::generic(
        ErrorMetadata::builder().code("RequestLimitExceeded").message("Request limit exceeded.").build(),
    )
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_then_succeeds() {
    let rule = mock!(aws_sdk_ec2::Client::describe_subnets)
        .sequence()
        .error(throttled)
        .times(2)
        .output(|| {
            DescribeSubnetsOutput::builder()
                .subnets(
                    Subnet::builder()
                        .subnet_id("subnet-1")
                        .vpc_id("vpc-1")
                        .cidr_block("10.0.1.0/24")
                        .availability_zone("us-east-1a")
                        .build(),
                )
                .build()
        })
        .build();
    // The provider's own retry policy, with the first backoff shortened for the test.
    let retry = retry_config(&Value::Null).with_initial_backoff(Duration::from_millis(1));
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&rule], |c| c.retry_config(retry.clone()));
    let p = provider(ec2, Duration::from_secs(5));
    let state = Value::object([("id".into(), Value::str("subnet-1"))]);
    let read = p.read("aws_subnet", &state).await.expect("read after retries");
    assert_eq!(read.and_then(|v| v.get("cidr_block").cloned()), Some(Value::str("10.0.1.0/24")));
    assert_eq!(rule.num_calls(), 3, "two throttled attempts, then the answer");
}

#[tokio::test]
async fn throttling_that_never_ends_is_a_clear_error() {
    let rule = mock!(aws_sdk_ec2::Client::describe_subnets).sequence().error(throttled).times(10).build();
    let retry =
        aws_config::retry::RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(1));
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&rule], |c| c.retry_config(retry.clone()));
    let p = provider(ec2, Duration::from_secs(5));
    let err =
        p.read("aws_subnet", &Value::object([("id".into(), Value::str("subnet-1"))])).await.expect_err("gives up");
    assert_eq!(err.describe(), "DescribeSubnets: RequestLimitExceeded: Request limit exceeded.");
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn an_already_exists_answer_names_the_operation_and_the_aws_code() {
    let rule = mock!(aws_sdk_ec2::Client::create_security_group).then_error(|| {
        CreateSecurityGroupError::generic(
            ErrorMetadata::builder()
                .code("InvalidGroup.Duplicate")
                .message("The security group 'bastion' already exists for VPC 'vpc-1'")
                .build(),
        )
    });
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&rule]);
    let p = provider(ec2, Duration::from_secs(5));
    let planned = Value::object([
        ("name".into(), Value::str("bastion")),
        ("description".into(), Value::str("SSH")),
        ("vpc_id".into(), Value::str("vpc-1")),
    ]);
    let err = p.create("aws_security_group", &planned, &marker()).await.expect_err("duplicate");
    assert_eq!(err.operation.as_deref(), Some("CreateSecurityGroup"));
    assert_eq!(err.code.as_deref(), Some("InvalidGroup.Duplicate"));
    assert!(err.message.contains("already exists"), "{}", err.message);
    assert_eq!(rule.num_calls(), 1, "not retried: it is not a transient error");
}

#[tokio::test]
async fn a_nat_gateway_that_never_becomes_available_times_out_clearly() {
    let create = mock!(aws_sdk_ec2::Client::create_nat_gateway).then_output(|| {
        CreateNatGatewayOutput::builder().nat_gateway(NatGateway::builder().nat_gateway_id("nat-1").build()).build()
    });
    let pending = mock!(aws_sdk_ec2::Client::describe_nat_gateways).then_output(|| {
        DescribeNatGatewaysOutput::builder()
            .nat_gateways(NatGateway::builder().nat_gateway_id("nat-1").state(NatGatewayState::Pending).build())
            .build()
    });
    // A real clock and sleep: the test defaults' clock stands still, and a
    // waiter measures its time against it.
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&create, &pending], |c| c
        .time_source(aws_smithy_async::time::SystemTimeSource::new())
        .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new()));
    let p = provider(ec2, Duration::from_secs(1));
    let planned = Value::object([
        ("subnet_id".into(), Value::str("subnet-1")),
        ("allocation_id".into(), Value::str("eipalloc-1")),
        ("connectivity_type".into(), Value::str("public")),
    ]);
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(60), p.create("aws_nat_gateway", &planned, &marker()))
        .await
        .expect("the waiter gives up by itself")
        .expect_err("times out");
    assert_eq!(err.operation.as_deref(), Some("NatGatewayAvailable"), "{}", err.describe());
    assert!(err.describe().contains("WaiterFailed"), "{}", err.describe());
    assert!(started.elapsed() < Duration::from_secs(30), "gave up near the configured wait, not later");
}

fn versioning(status: &str) -> Value {
    Value::object([
        ("bucket".into(), Value::str("artifacts")),
        (
            "versioning_configuration".into(),
            Value::List(vec![Value::object([
                ("status".into(), Value::str(status)),
                ("mfa_delete".into(), Value::str("Disabled")),
            ])]),
        ),
    ])
}

// The emulator answers GetBucketVersioning with a root element the SDK
// refuses, so aws_s3_bucket_versioning is shown here instead.
#[tokio::test]
async fn bucket_versioning_is_put_read_back_and_suspended_on_delete() {
    use aws_sdk_s3::operation::get_bucket_versioning::GetBucketVersioningOutput;
    use aws_sdk_s3::operation::put_bucket_versioning::PutBucketVersioningOutput;
    use aws_sdk_s3::types::BucketVersioningStatus as Status;
    let status_of = |r: &aws_sdk_s3::operation::put_bucket_versioning::PutBucketVersioningInput| {
        r.versioning_configuration().and_then(|c| c.status()).cloned()
    };
    let enable = mock!(aws_sdk_s3::Client::put_bucket_versioning)
        .match_requests(move |r| r.bucket() == Some("artifacts") && status_of(r) == Some(Status::Enabled))
        .then_output(|| PutBucketVersioningOutput::builder().build());
    let suspend = mock!(aws_sdk_s3::Client::put_bucket_versioning)
        .match_requests(move |r| status_of(r) == Some(Status::Suspended))
        .then_output(|| PutBucketVersioningOutput::builder().build());
    let read = mock!(aws_sdk_s3::Client::get_bucket_versioning)
        .match_requests(|r| r.bucket() == Some("artifacts"))
        .then_output(|| GetBucketVersioningOutput::builder().status(Status::Enabled).build());
    let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&enable, &suspend, &read]);
    let p = AwsProvider::with_clients(
        Clients { s3, ..Clients::from_sdk_config(&shared()) },
        settings(Duration::from_secs(5)),
    );

    let created = p.create("aws_s3_bucket_versioning", &versioning("Enabled"), &marker()).await.expect("create");
    let Value::Map(mut want) = versioning("Enabled") else { unreachable!() };
    want.insert("id".into(), Value::str("artifacts"));
    assert_eq!(created, Value::Map(want));
    assert_eq!((enable.num_calls(), read.num_calls()), (1, 1));
    p.delete("aws_s3_bucket_versioning", &created).await.expect("delete");
    assert_eq!(suspend.num_calls(), 1, "versioning cannot be turned off, only suspended");
}

fn with_clients(f: impl FnOnce(&mut Clients)) -> AwsProvider {
    provider_with(Duration::from_secs(5), f)
}

/// A configuration as the engine hands it over: each attribute converted to
/// its schema type (missing block attributes become null), then normalized
/// by the provider's plan.
fn planned_as_engine(p: &AwsProvider, type_: &str, config: Value) -> Value {
    let schema = &p.schema().resources[type_];
    let Value::Map(m) = config else { return config };
    let converted: std::collections::BTreeMap<String, Value> = m
        .into_iter()
        .map(|(k, val)| {
            let c = schema
                .attributes
                .get(k.as_str())
                .map(|a| a.ty.convert_argument(&val).expect("config matches the schema"));
            (k, c.unwrap_or(val))
        })
        .collect();
    let config = Value::Map(converted);
    let req = ecspoc_core::provider::PlanRequest { type_, prior: None, proposed: config.clone(), config: &config };
    p.plan(req).expect("plan").planned
}

fn pipeline_planned(p: &AwsProvider, file: &str) -> Value {
    planned_as_engine(
        p,
        "aws_codepipeline",
        v(serde_json::json!({
            "name": "web-pipeline",
            "role_arn": "arn:aws:iam::123456789012:role/pipeline",
            "pipeline_type": "V1",
            "artifact_store": [{ "type": "S3", "location": "artifacts" }],
            "stage": [
                { "name": "Source", "action": [{ "name": "Source", "category": "Source", "owner": "AWS", "provider": "S3", "version": "1", "run_order": 1,
                    "output_artifacts": ["source"], "configuration": { "S3Bucket": "artifacts", "S3ObjectKey": "source.zip" } }] },
                { "name": "Deploy", "action": [{ "name": "Deploy", "category": "Deploy", "owner": "AWS", "provider": "ECS", "version": "1", "run_order": 1,
                    "input_artifacts": ["source"], "configuration": { "ClusterName": "ecs-cluster-dev", "ServiceName": "web", "FileName": file } }] }
            ]
        })),
    )
}

// The emulator's GetPipeline answer has timestamps the SDK cannot read, so
// aws_codepipeline's whole life is shown against SDK doubles.
#[tokio::test]
async fn codepipeline_is_created_read_updated_with_its_version_and_deleted() {
    use aws_sdk_codepipeline::operation::create_pipeline::CreatePipelineOutput;
    use aws_sdk_codepipeline::operation::delete_pipeline::DeletePipelineOutput;
    use aws_sdk_codepipeline::operation::get_pipeline::GetPipelineOutput;
    use aws_sdk_codepipeline::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_codepipeline::operation::update_pipeline::UpdatePipelineOutput;
    use aws_sdk_codepipeline::types::PipelineMetadata;

    let created = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = created.clone();
    let create = mock!(aws_sdk_codepipeline::Client::create_pipeline)
        .match_requests(move |r| {
            if let Ok(mut s) = seen.lock() {
                *s = r.pipeline().cloned();
            }
            r.tags().iter().any(|t| t.key() == "ecspoc:address")
        })
        .then_output(|| CreatePipelineOutput::builder().build());
    let stored = created.clone();
    let get = mock!(aws_sdk_codepipeline::Client::get_pipeline)
        .match_requests(|r| r.name() == Some("web-pipeline"))
        .then_output(move || {
            let mut p = stored.lock().ok().and_then(|s| s.clone()).expect("created first");
            p.version = Some(1);
            GetPipelineOutput::builder()
                .pipeline(p)
                .metadata(
                    PipelineMetadata::builder()
                        .pipeline_arn("arn:aws:codepipeline:us-east-1:123456789012:web-pipeline")
                        .build(),
                )
                .build()
        });
    let tags = mock!(aws_sdk_codepipeline::Client::list_tags_for_resource)
        .then_output(|| ListTagsForResourceOutput::builder().build());
    let update = mock!(aws_sdk_codepipeline::Client::update_pipeline)
        .match_requests(|r| {
            let p = r.pipeline();
            let deploy =
                p.and_then(|p| p.stages().get(1)).and_then(|s| s.actions().first()).and_then(|a| a.configuration());
            p.and_then(|p| p.version()) == Some(1)
                && deploy.and_then(|c| c.get("FileName")).map(String::as_str) == Some("images.json")
        })
        .then_output(|| UpdatePipelineOutput::builder().build());
    let delete = mock!(aws_sdk_codepipeline::Client::delete_pipeline)
        .match_requests(|r| r.name() == Some("web-pipeline"))
        .then_output(|| DeletePipelineOutput::builder().build());
    let cp = mock_client!(aws_sdk_codepipeline, RuleMode::MatchAny, [&create, &get, &tags, &update, &delete]);
    let p = with_clients(|c| c.codepipeline = cp);

    let planned = pipeline_planned(&p, "imagedefinitions.json");
    let state = p.create("aws_codepipeline", &planned, &marker()).await.expect("create");
    assert_eq!(create.num_calls(), 1);
    // What was read back equals what was planned: no change on the next plan.
    for k in ["name", "role_arn", "artifact_store", "stage", "pipeline_type"] {
        assert_eq!(state.get(k), planned.get(k), "{k}");
    }
    assert_eq!(state.get("id"), Some(&Value::str("web-pipeline")));

    p.update("aws_codepipeline", &state, &pipeline_planned(&p, "images.json")).await.expect("update");
    assert_eq!(update.num_calls(), 1, "UpdatePipeline with the current version and the new FileName");
    p.delete("aws_codepipeline", &state).await.expect("delete");
    assert_eq!(delete.num_calls(), 1);
}

// The emulator has no CodeBuild UpdateProject.
#[tokio::test]
async fn codebuild_update_keeps_the_marker_tags() {
    use aws_sdk_codebuild::operation::batch_get_projects::BatchGetProjectsOutput;
    use aws_sdk_codebuild::operation::update_project::UpdateProjectOutput;
    use aws_sdk_codebuild::types::{Project, Tag};

    let get = mock!(aws_sdk_codebuild::Client::batch_get_projects).then_output(|| {
        BatchGetProjectsOutput::builder()
            .projects(
                Project::builder()
                    .name("web-build")
                    .arn("arn:aws:codebuild:us-east-1:123456789012:project/web-build")
                    .tags(Tag::builder().key("ecspoc:address").value("aws_codebuild_project.build").build())
                    .tags(Tag::builder().key("ecspoc:lineage").value("l").build())
                    .build(),
            )
            .build()
    });
    let update = mock!(aws_sdk_codebuild::Client::update_project)
        .match_requests(|r| {
            r.environment().map(|e| e.image()) == Some("aws/codebuild/standard:8.0")
                && r.tags().iter().any(|t| t.key() == Some("ecspoc:address"))
                && r.tags().iter().any(|t| t.key() == Some("Team") && t.value() == Some("web"))
        })
        .then_output(|| UpdateProjectOutput::builder().build());
    let cb = mock_client!(aws_sdk_codebuild, RuleMode::MatchAny, [&get, &update]);
    let p = with_clients(|c| c.codebuild = cb);
    let planned = |image: &str| {
        v(serde_json::json!({
            "name": "web-build",
            "service_role": "arn:aws:iam::123456789012:role/build",
            "build_timeout": 60,
            "artifacts": [{ "type": "CODEPIPELINE" }],
            "source": [{ "type": "CODEPIPELINE" }],
            "environment": [{ "image": image, "type": "LINUX_CONTAINER", "compute_type": "BUILD_GENERAL1_SMALL", "privileged_mode": true }],
            "tags": { "Team": "web" }
        }))
    };
    let mut prior = planned("aws/codebuild/standard:7.0");
    if let Value::Map(m) = &mut prior {
        m.insert("id".into(), Value::str("arn:aws:codebuild:us-east-1:123456789012:project/web-build"));
    }
    p.update("aws_codebuild_project", &prior, &planned("aws/codebuild/standard:8.0")).await.expect("update");
    assert_eq!(update.num_calls(), 1, "UpdateProject with the new image, the user's tags and the marker");
}

fn cluster(tags: &[(&str, &str)]) -> aws_sdk_ecs::types::Cluster {
    let mut c = aws_sdk_ecs::types::Cluster::builder()
        .cluster_name("ecs-cluster-dev")
        .cluster_arn("arn:aws:ecs:us-east-1:123456789012:cluster/ecs-cluster-dev")
        .status("ACTIVE");
    for (k, val) in tags {
        c = c.tags(aws_sdk_ecs::types::Tag::builder().key(*k).value(*val).build());
    }
    c.build()
}

// The emulator replaces an ECS cluster whose name exists; AWS returns the
// existing one. Either way ecspoc must not take over a cluster it did not make.
#[tokio::test]
async fn an_ecs_cluster_that_exists_is_adopted_only_when_it_carries_our_marker() {
    use aws_sdk_ecs::operation::describe_clusters::DescribeClustersOutput;
    let planned = v(serde_json::json!({ "name": "ecs-cluster-dev" }));
    let m = marker();

    let theirs = mock!(aws_sdk_ecs::Client::describe_clusters)
        .then_output(|| DescribeClustersOutput::builder().clusters(cluster(&[("Team", "other")])).build());
    let create = mock!(aws_sdk_ecs::Client::create_cluster).then_error(unreachable_create);
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&theirs, &create]);
    let p = with_clients(|c| c.ecs = ecs);
    let err = p.create("aws_ecs_cluster", &planned, &m).await.expect_err("not ours");
    assert_eq!(err.code.as_deref(), Some("ClusterAlreadyExists"));
    assert!(err.message.contains("ecs-cluster-dev") && err.message.contains("import"), "{}", err.message);
    assert_eq!(create.num_calls(), 0, "nothing was created or changed");

    let (addr, lineage) = (m.address.clone(), m.lineage.clone());
    let ours = mock!(aws_sdk_ecs::Client::describe_clusters).then_output(move || {
        DescribeClustersOutput::builder()
            .clusters(cluster(&[("ecspoc:address", &addr), ("ecspoc:lineage", &lineage)]))
            .build()
    });
    let create = mock!(aws_sdk_ecs::Client::create_cluster).then_error(unreachable_create);
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&ours, &create]);
    let p = with_clients(|c| c.ecs = ecs);
    let adopted = p.create("aws_ecs_cluster", &planned, &m).await.expect("ours: adopted");
    assert_eq!(adopted.get("arn"), Some(&Value::str("arn:aws:ecs:us-east-1:123456789012:cluster/ecs-cluster-dev")));
    assert_eq!(create.num_calls(), 0);
}

fn unreachable_create() -> aws_sdk_ecs::operation::create_cluster::CreateClusterError {
    aws_sdk_ecs::operation::create_cluster::CreateClusterError::generic(
        ErrorMetadata::builder().code("TestFailure").message("CreateCluster must not be called").build(),
    )
}

fn ecs_service(running: i32) -> aws_sdk_ecs::types::Service {
    aws_sdk_ecs::types::Service::builder()
        .service_name("web")
        .service_arn("arn:aws:ecs:us-east-1:123456789012:service/ecs-cluster-dev/web")
        .cluster_arn("arn:aws:ecs:us-east-1:123456789012:cluster/ecs-cluster-dev")
        .status("ACTIVE")
        .desired_count(2)
        .running_count(running)
        .deployments(aws_sdk_ecs::types::Deployment::builder().status("PRIMARY").build())
        .build()
}

fn service_with_clients(
    describe: &aws_smithy_mocks::Rule,
    max_wait: Duration,
) -> (AwsProvider, aws_smithy_mocks::Rule) {
    use aws_sdk_ecs::operation::create_service::CreateServiceOutput;
    let create = mock!(aws_sdk_ecs::Client::create_service)
        .match_requests(|r| r.client_token().is_some_and(|t| t.len() == 32))
        .then_output(|| CreateServiceOutput::builder().service(ecs_service(0)).build());
    // A real clock and sleep, which waiters measure their time against.
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&create, describe], |c| c
        .time_source(aws_smithy_async::time::SystemTimeSource::new())
        .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new()));
    let mut clients = Clients::from_sdk_config(&shared());
    clients.ecs = ecs;
    (AwsProvider::with_clients(clients, settings(max_wait)), create)
}

fn service_planned() -> Value {
    v(serde_json::json!({
        "name": "web", "cluster": "ecs-cluster-dev", "task_definition": "web-dev:1", "desired_count": 2,
        "scheduling_strategy": "REPLICA", "propagate_tags": "NONE", "wait_for_steady_state": true
    }))
}

// The emulator's services never run tasks: waiting for a steady state is
// shown here, against answers as AWS gives them.
#[tokio::test]
async fn a_service_create_waits_until_its_tasks_run() {
    use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .then_output(|| DescribeServicesOutput::builder().services(ecs_service(2)).build());
    let (p, create) = service_with_clients(&describe, Duration::from_secs(30));
    let state = p.create("aws_ecs_service", &service_planned(), &marker()).await.expect("steady");
    assert_eq!(create.num_calls(), 1, "created once, with an idempotency token");
    assert!(describe.num_calls() >= 2, "the waiter polled, then the service was read back");
    assert_eq!(state.get("desired_count"), Some(&Value::Number(2.0)));
}

#[tokio::test]
async fn a_service_that_never_becomes_steady_is_a_clear_error() {
    use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .then_output(|| DescribeServicesOutput::builder().services(ecs_service(0)).build());
    let (p, _) = service_with_clients(&describe, Duration::from_secs(1));
    let err = tokio::time::timeout(Duration::from_secs(60), p.create("aws_ecs_service", &service_planned(), &marker()))
        .await
        .expect("the waiter gives up by itself")
        .expect_err("times out");
    assert_eq!(err.operation.as_deref(), Some("ServicesStable"), "{}", err.describe());
}
