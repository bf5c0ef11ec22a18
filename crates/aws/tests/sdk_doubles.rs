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
use ecspoc_aws::{AwsProvider, Clients, Settings, retry_config};
use ecspoc_core::provider::{Marker, Provider};
use ecspoc_core::value::Value;
use std::time::Duration;

fn shared() -> aws_types::SdkConfig {
    aws_types::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_types::region::Region::new("us-east-1"))
        .build()
}

fn settings(max_wait: Duration) -> Settings {
    Settings { region: "us-east-1".into(), default_tags: Default::default(), max_wait }
}

fn provider(ec2: aws_sdk_ec2::Client, max_wait: Duration) -> AwsProvider {
    AwsProvider::with_clients(Clients { ec2, ..Clients::from_sdk_config(&shared()) }, settings(max_wait))
}

fn marker() -> Marker {
    Marker { address: "aws_thing.test".into(), lineage: "00000000-0000-4000-8000-000000000000".into(), name: None }
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
