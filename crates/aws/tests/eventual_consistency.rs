//! AWS's eventual consistency, which the emulator never shows: each "not
//! yet" answer replayed by an SDK double exactly as AWS gives it (code and
//! message), first twice and then success, where the operation is retried
//! and completes; then forever, where it fails within the provider's
//! max_wait saying what it waited for. docs/real-aws.md lists these.

use aws_sdk_ec2::error::ErrorMetadata;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
mod common;
use common::{marker, provider_with as provider, v};
use ecspoc_core::provider::{Provider, ProviderError};
use ecspoc_core::value::Value;
use std::time::Duration;

fn meta(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

/// Long enough for two "not yet" answers; "forever" tests use a short one.
const PATIENT: Duration = Duration::from_secs(30);
const IMPATIENT: Duration = Duration::from_millis(1200);

fn gave_up(e: &ProviderError, operation: &str, code: &str) {
    assert_eq!(e.operation.as_deref(), Some(operation), "{}", e.describe());
    assert_eq!(e.code.as_deref(), Some(code), "{}", e.describe());
    assert!(e.message.contains("still so after"), "says it waited: {}", e.message);
}

// ------------------------------------------------------------------ ECS services

mod ecs_service {
    use super::*;
    use aws_sdk_ecs::operation::create_service::{CreateServiceError, CreateServiceOutput};
    use aws_sdk_ecs::operation::delete_service::{DeleteServiceError, DeleteServiceOutput};
    use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
    use aws_sdk_ecs::operation::update_service::UpdateServiceOutput;

    fn service(status: &str) -> aws_sdk_ecs::types::Service {
        aws_sdk_ecs::types::Service::builder()
            .service_name("web")
            .service_arn("arn:aws:ecs:us-east-1:123456789012:service/ecs-cluster-dev/web")
            .cluster_arn("arn:aws:ecs:us-east-1:123456789012:cluster/ecs-cluster-dev")
            .status(status)
            .desired_count(1)
            .build()
    }

    fn planned() -> Value {
        v(serde_json::json!({
            "name": "web", "cluster": "ecs-cluster-dev", "task_definition": "web-dev:1", "desired_count": 1,
            "scheduling_strategy": "REPLICA", "propagate_tags": "NONE", "wait_for_steady_state": false
        }))
    }

    async fn create_after(
        message: &'static str,
        not_yet: usize,
        max_wait: Duration,
    ) -> (Result<Value, ProviderError>, usize) {
        let error = move || CreateServiceError::generic(meta("InvalidParameterException", message));
        let create = if not_yet == usize::MAX {
            mock!(aws_sdk_ecs::Client::create_service).then_error(error)
        } else {
            mock!(aws_sdk_ecs::Client::create_service)
                .sequence()
                .error(error)
                .times(not_yet)
                .output(|| CreateServiceOutput::builder().service(service("ACTIVE")).build())
                .build()
        };
        let describe = mock!(aws_sdk_ecs::Client::describe_services)
            .then_output(|| DescribeServicesOutput::builder().services(service("ACTIVE")).build());
        let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&create, &describe]);
        let p = provider(max_wait, |c| c.ecs = ecs);
        let r = p.create("aws_ecs_service", &planned(), &marker()).await;
        (r, create.num_calls())
    }

    const ROLE: &str =
        "Unable to assume the service linked role. Please verify that the ECS service linked role exists.";
    const TARGET_GROUP: &str = "The target group with targetGroupArn arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1 does not have an associated load balancer.";

    #[tokio::test]
    async fn create_waits_for_the_service_linked_role() {
        let (r, calls) = create_after(ROLE, 2, PATIENT).await;
        r.expect("created once the role is usable");
        assert_eq!(calls, 3);
        let (r, _) = create_after(ROLE, usize::MAX, IMPATIENT).await;
        gave_up(&r.expect_err("never usable"), "CreateService", "InvalidParameterException");
    }

    #[tokio::test]
    async fn create_waits_for_the_target_group_to_join_its_load_balancer() {
        let (r, calls) = create_after(TARGET_GROUP, 2, PATIENT).await;
        r.expect("created once the listener rule is in place");
        assert_eq!(calls, 3);
        let (r, _) = create_after(TARGET_GROUP, usize::MAX, IMPATIENT).await;
        gave_up(&r.expect_err("never attached"), "CreateService", "InvalidParameterException");
    }

    #[tokio::test]
    async fn another_invalid_parameter_is_not_waited_for() {
        let (r, calls) = create_after("Invalid revision number. Number: 0", 1, PATIENT).await;
        assert_eq!(calls, 1, "a real refusal is not retried");
        assert!(!r.expect_err("refused").message.contains("still so after"));
    }

    async fn delete_after(not_yet: usize, max_wait: Duration) -> (Result<(), ProviderError>, usize) {
        let error = || {
            DeleteServiceError::generic(meta(
                "InvalidParameterException",
                "The service cannot be stopped while deployments are active.",
            ))
        };
        let delete = if not_yet == usize::MAX {
            mock!(aws_sdk_ecs::Client::delete_service).then_error(error)
        } else {
            mock!(aws_sdk_ecs::Client::delete_service)
                .sequence()
                .error(error)
                .times(not_yet)
                .output(|| DeleteServiceOutput::builder().service(service("DRAINING")).build())
                .build()
        };
        // ACTIVE before the delete (drained first), INACTIVE for the waiter after it.
        let describe = mock!(aws_sdk_ecs::Client::describe_services)
            .sequence()
            .output(|| DescribeServicesOutput::builder().services(service("ACTIVE")).build())
            .output(|| DescribeServicesOutput::builder().services(service("INACTIVE")).build())
            .repeatedly()
            .build();
        let drain = mock!(aws_sdk_ecs::Client::update_service)
            .then_output(|| UpdateServiceOutput::builder().service(service("ACTIVE")).build());
        let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&delete, &describe, &drain], |c| c
            .time_source(aws_smithy_async::time::SystemTimeSource::new())
            .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new()));
        let p = provider(max_wait, |c| c.ecs = ecs);
        let prior = v(serde_json::json!({
            "id": "arn:aws:ecs:us-east-1:123456789012:service/ecs-cluster-dev/web", "name": "web",
            "cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/ecs-cluster-dev", "scheduling_strategy": "REPLICA"
        }));
        let r = p.delete("aws_ecs_service", &prior).await;
        (r, delete.num_calls())
    }

    #[tokio::test]
    async fn delete_waits_while_deployments_are_active() {
        let (r, calls) = delete_after(2, PATIENT).await;
        r.expect("deleted once the deployment is over");
        assert_eq!(calls, 3);
        let (r, _) = delete_after(usize::MAX, IMPATIENT).await;
        gave_up(&r.expect_err("deployments never end"), "DeleteService", "InvalidParameterException");
    }
}

// ------------------------------------------------------------------ EC2

mod ec2 {
    use super::*;
    use aws_sdk_ec2::operation::create_internet_gateway::CreateInternetGatewayOutput;
    use aws_sdk_ec2::operation::delete_security_group::{DeleteSecurityGroupError, DeleteSecurityGroupOutput};
    use aws_sdk_ec2::operation::describe_addresses::DescribeAddressesOutput;
    use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
    use aws_sdk_ec2::operation::describe_internet_gateways::{
        DescribeInternetGatewaysError, DescribeInternetGatewaysOutput,
    };
    use aws_sdk_ec2::operation::release_address::{ReleaseAddressError, ReleaseAddressOutput};
    use aws_sdk_ec2::operation::run_instances::{RunInstancesError, RunInstancesOutput};
    use aws_sdk_ec2::types::{Instance, InstanceState, InstanceStateName, InternetGateway, Reservation};

    fn instance() -> Instance {
        Instance::builder()
            .instance_id("i-1")
            .image_id("ami-1")
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .subnet_id("subnet-1")
            .state(InstanceState::builder().name(InstanceStateName::Running).build())
            .build()
    }

    async fn run_after(not_yet: usize, max_wait: Duration) -> (Result<Value, ProviderError>, usize, Vec<String>) {
        let error = || {
            RunInstancesError::generic(meta(
                "InvalidParameterValue",
                "Value (ecs-host-dev) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
            ))
        };
        let tokens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = tokens.clone();
        let run = mock!(aws_sdk_ec2::Client::run_instances).match_requests(move |r| {
            if let Ok(mut t) = seen.lock() {
                t.push(r.client_token().unwrap_or_default().to_string());
            }
            true
        });
        let run = if not_yet == usize::MAX {
            run.then_error(error)
        } else {
            run.sequence()
                .error(error)
                .times(not_yet)
                .output(|| RunInstancesOutput::builder().instances(instance()).build())
                .build()
        };
        let describe = mock!(aws_sdk_ec2::Client::describe_instances).then_output(|| {
            DescribeInstancesOutput::builder()
                .reservations(Reservation::builder().instances(instance()).build())
                .build()
        });
        let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&run, &describe], |c| c
            .time_source(aws_smithy_async::time::SystemTimeSource::new())
            .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new()));
        let p = provider(max_wait, |c| c.ec2 = ec2);
        let planned = v(serde_json::json!({
            "ami": "ami-1", "instance_type": "t3.micro", "subnet_id": "subnet-1", "iam_instance_profile": "ecs-host-dev"
        }));
        let r = p.create("aws_instance", &planned, &marker()).await;
        let tokens = tokens.lock().map(|t| t.clone()).unwrap_or_default();
        (r, run.num_calls(), tokens)
    }

    #[tokio::test]
    async fn run_instances_waits_for_a_new_instance_profile_with_one_client_token() {
        let (r, calls, tokens) = run_after(2, PATIENT).await;
        r.expect("launched once the profile is usable");
        assert_eq!(calls, 3);
        assert!(tokens.windows(2).all(|w| w[0] == w[1]) && tokens[0].len() == 32, "one instance: {tokens:?}");
        let (r, _, _) = run_after(usize::MAX, IMPATIENT).await;
        gave_up(&r.expect_err("never usable"), "RunInstances", "InvalidParameterValue");
    }

    async fn delete_group_after(
        code: &'static str,
        not_yet: usize,
        max_wait: Duration,
    ) -> (Result<(), ProviderError>, usize) {
        let error = move || DeleteSecurityGroupError::generic(meta(code, "resource sg-1 has a dependent object"));
        let delete = if not_yet == usize::MAX {
            mock!(aws_sdk_ec2::Client::delete_security_group).then_error(error)
        } else {
            mock!(aws_sdk_ec2::Client::delete_security_group)
                .sequence()
                .error(error)
                .times(not_yet)
                .output(|| DeleteSecurityGroupOutput::builder().build())
                .build()
        };
        let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&delete]);
        let p = provider(max_wait, |c| c.ec2 = ec2);
        let r = p.delete("aws_security_group", &v(serde_json::json!({ "id": "sg-1" }))).await;
        (r, delete.num_calls())
    }

    #[tokio::test]
    async fn a_security_group_is_deleted_once_its_network_interfaces_are_released() {
        for code in ["DependencyViolation", "InvalidGroup.InUse"] {
            let (r, calls) = delete_group_after(code, 2, PATIENT).await;
            r.unwrap_or_else(|e| panic!("{code}: {}", e.describe()));
            assert_eq!(calls, 3, "{code}");
        }
        let (r, _) = delete_group_after("DependencyViolation", usize::MAX, IMPATIENT).await;
        gave_up(&r.expect_err("never released"), "DeleteSecurityGroup", "DependencyViolation");
    }

    async fn release_after(not_yet: usize, max_wait: Duration) -> (Result<(), ProviderError>, usize) {
        let error = || ReleaseAddressError::generic(meta("InvalidIPAddress.InUse", "Address is in use."));
        let release = if not_yet == usize::MAX {
            mock!(aws_sdk_ec2::Client::release_address).then_error(error)
        } else {
            mock!(aws_sdk_ec2::Client::release_address)
                .sequence()
                .error(error)
                .times(not_yet)
                .output(|| ReleaseAddressOutput::builder().build())
                .build()
        };
        let describe = mock!(aws_sdk_ec2::Client::describe_addresses).then_output(|| {
            DescribeAddressesOutput::builder()
                .addresses(aws_sdk_ec2::types::Address::builder().allocation_id("eipalloc-1").build())
                .build()
        });
        let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&release, &describe]);
        let p = provider(max_wait, |c| c.ec2 = ec2);
        let r = p.delete("aws_eip", &v(serde_json::json!({ "id": "eipalloc-1" }))).await;
        (r, release.num_calls())
    }

    #[tokio::test]
    async fn an_address_is_released_once_its_disassociation_is_seen() {
        let (r, calls) = release_after(2, PATIENT).await;
        r.expect("released");
        assert_eq!(calls, 3);
        let (r, _) = release_after(usize::MAX, IMPATIENT).await;
        gave_up(&r.expect_err("never free"), "ReleaseAddress", "InvalidIPAddress.InUse");
    }

    #[tokio::test]
    async fn a_launch_template_waits_for_a_new_instance_profile() {
        use aws_sdk_ec2::operation::create_launch_template::{CreateLaunchTemplateError, CreateLaunchTemplateOutput};
        use aws_sdk_ec2::operation::describe_launch_template_versions::DescribeLaunchTemplateVersionsOutput;
        use aws_sdk_ec2::operation::describe_launch_templates::DescribeLaunchTemplatesOutput;
        use aws_sdk_ec2::types::{LaunchTemplate, LaunchTemplateVersion};
        let lt = || LaunchTemplate::builder().launch_template_id("lt-1").launch_template_name("ecs-hosts-dev").build();
        for (not_yet, max_wait) in [(2, PATIENT), (usize::MAX, IMPATIENT)] {
            let error = || {
                CreateLaunchTemplateError::generic(meta(
                    "InvalidParameterValue",
                    "Value (ecs-host-dev) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
                ))
            };
            let create = if not_yet == usize::MAX {
                mock!(aws_sdk_ec2::Client::create_launch_template).then_error(error)
            } else {
                mock!(aws_sdk_ec2::Client::create_launch_template)
                    .sequence()
                    .error(error)
                    .times(not_yet)
                    .output(move || CreateLaunchTemplateOutput::builder().launch_template(lt()).build())
                    .build()
            };
            let describe = mock!(aws_sdk_ec2::Client::describe_launch_templates)
                .then_output(move || DescribeLaunchTemplatesOutput::builder().launch_templates(lt()).build());
            let versions = mock!(aws_sdk_ec2::Client::describe_launch_template_versions).then_output(|| {
                DescribeLaunchTemplateVersionsOutput::builder()
                    .launch_template_versions(LaunchTemplateVersion::builder().version_number(1).build())
                    .build()
            });
            let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&create, &describe, &versions]);
            let p = provider(max_wait, |c| c.ec2 = ec2);
            let planned = v(serde_json::json!({
                "name": "ecs-hosts-dev", "image_id": "ami-1", "iam_instance_profile": [{ "name": "ecs-host-dev" }]
            }));
            let r = p.create("aws_launch_template", &planned, &marker()).await;
            if not_yet == usize::MAX {
                gave_up(&r.expect_err("never usable"), "CreateLaunchTemplate", "InvalidParameterValue");
            } else {
                r.expect("created once the profile is usable");
                assert_eq!(create.num_calls(), 3);
            }
        }
    }

    /// An object just created may not be visible to Describe yet.
    #[tokio::test]
    async fn a_new_object_not_yet_visible_is_read_again() {
        let create = mock!(aws_sdk_ec2::Client::create_internet_gateway).then_output(|| {
            CreateInternetGatewayOutput::builder()
                .internet_gateway(InternetGateway::builder().internet_gateway_id("igw-1").build())
                .build()
        });
        let describe = mock!(aws_sdk_ec2::Client::describe_internet_gateways)
            .sequence()
            .error(|| {
                DescribeInternetGatewaysError::generic(meta(
                    "InvalidInternetGatewayID.NotFound",
                    "The internetGateway ID 'igw-1' does not exist",
                ))
            })
            .times(2)
            .output(|| {
                DescribeInternetGatewaysOutput::builder()
                    .internet_gateways(InternetGateway::builder().internet_gateway_id("igw-1").owner_id("1").build())
                    .build()
            })
            .build();
        let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&create, &describe]);
        let p = provider(PATIENT, |c| c.ec2 = ec2);
        let state = p.create("aws_internet_gateway", &v(serde_json::json!({})), &marker()).await.expect("read back");
        assert_eq!(state.get("id"), Some(&Value::str("igw-1")));
        assert_eq!(create.num_calls(), 1, "created once");
        assert_eq!(describe.num_calls(), 3);
    }
}

// ------------------------------------------------------------------ IAM, Auto Scaling, CodeBuild, CodePipeline

mod services {
    use super::*;

    #[tokio::test]
    async fn a_role_is_deleted_once_nothing_holds_it() {
        use aws_sdk_iam::operation::delete_role::{DeleteRoleError, DeleteRoleOutput};
        use aws_sdk_iam::operation::list_instance_profiles_for_role::ListInstanceProfilesForRoleOutput;
        for (not_yet, max_wait) in [(2, PATIENT), (usize::MAX, IMPATIENT)] {
            let error = || {
                DeleteRoleError::generic(meta(
                    "DeleteConflict",
                    "Cannot delete entity, must remove roles from instance profile first.",
                ))
            };
            let delete = if not_yet == usize::MAX {
                mock!(aws_sdk_iam::Client::delete_role).then_error(error)
            } else {
                mock!(aws_sdk_iam::Client::delete_role)
                    .sequence()
                    .error(error)
                    .times(not_yet)
                    .output(|| DeleteRoleOutput::builder().build())
                    .build()
            };
            let profiles = mock!(aws_sdk_iam::Client::list_instance_profiles_for_role).then_output(|| {
                ListInstanceProfilesForRoleOutput::builder()
                    .set_instance_profiles(Some(Vec::new()))
                    .build()
                    .expect("output")
            });
            let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&delete, &profiles]);
            let p = provider(max_wait, |c| c.iam = iam);
            let r =
                p.delete("aws_iam_role", &v(serde_json::json!({ "id": "ecs-host-dev", "name": "ecs-host-dev" }))).await;
            if not_yet == usize::MAX {
                gave_up(&r.expect_err("always held"), "DeleteRole", "DeleteConflict");
            } else {
                r.expect("deleted");
                assert_eq!(delete.num_calls(), 3);
            }
        }
    }

    fn group() -> aws_sdk_autoscaling::types::AutoScalingGroup {
        aws_sdk_autoscaling::types::AutoScalingGroup::builder()
            .auto_scaling_group_name("ecs-dev")
            .min_size(0)
            .max_size(1)
            .desired_capacity(0)
            .default_cooldown(300)
            .health_check_type("EC2")
            .availability_zones("us-east-1a")
            .created_time(aws_smithy_types::DateTime::from_secs(0))
            .build()
    }

    #[tokio::test]
    async fn an_auto_scaling_group_waits_for_its_instance_profile_and_its_scaling_activity() {
        use aws_sdk_autoscaling::operation::create_auto_scaling_group::{
            CreateAutoScalingGroupError, CreateAutoScalingGroupOutput,
        };
        use aws_sdk_autoscaling::operation::delete_auto_scaling_group::{
            DeleteAutoScalingGroupError, DeleteAutoScalingGroupOutput,
        };
        use aws_sdk_autoscaling::operation::describe_auto_scaling_groups::DescribeAutoScalingGroupsOutput;
        let create = mock!(aws_sdk_autoscaling::Client::create_auto_scaling_group)
            .sequence()
            .error(|| {
                CreateAutoScalingGroupError::generic(meta(
                    "ValidationError",
                    "You must use a valid fully-formed launch template. Value (ecs-host-dev) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
                ))
            })
            .times(2)
            .output(|| CreateAutoScalingGroupOutput::builder().build())
            .build();
        let delete = mock!(aws_sdk_autoscaling::Client::delete_auto_scaling_group)
            .sequence()
            .error(|| {
                DeleteAutoScalingGroupError::generic(meta(
                    "ScalingActivityInProgress",
                    "An update or scaling activity is in progress.",
                ))
            })
            .times(2)
            .output(|| DeleteAutoScalingGroupOutput::builder().build())
            .build();
        // None before the create, read back after it, gone after the delete.
        let none = || DescribeAutoScalingGroupsOutput::builder().set_auto_scaling_groups(Some(Vec::new())).build();
        let describe = mock!(aws_sdk_autoscaling::Client::describe_auto_scaling_groups)
            .sequence()
            .output(none)
            .output(|| DescribeAutoScalingGroupsOutput::builder().auto_scaling_groups(group()).build())
            .output(|| DescribeAutoScalingGroupsOutput::builder().set_auto_scaling_groups(Some(Vec::new())).build())
            .repeatedly()
            .build();
        let asg = mock_client!(aws_sdk_autoscaling, RuleMode::MatchAny, [&create, &delete, &describe]);
        let p = provider(PATIENT, |c| c.autoscaling = asg);
        let planned = v(serde_json::json!({
            "name": "ecs-dev", "min_size": 0, "max_size": 1, "vpc_zone_identifier": ["subnet-1"],
            "launch_template": [{ "id": "lt-1", "version": "$Latest" }], "wait_for_capacity_timeout": "0"
        }));
        p.create("aws_autoscaling_group", &planned, &marker()).await.expect("created");
        assert_eq!(create.num_calls(), 3);
        p.delete("aws_autoscaling_group", &v(serde_json::json!({ "id": "ecs-dev", "name": "ecs-dev" })))
            .await
            .expect("deleted");
        assert_eq!(delete.num_calls(), 3);
    }

    #[tokio::test]
    async fn a_codebuild_project_waits_until_codebuild_may_assume_its_role() {
        use aws_sdk_codebuild::operation::batch_get_projects::BatchGetProjectsOutput;
        use aws_sdk_codebuild::operation::create_project::{CreateProjectError, CreateProjectOutput};
        for (not_yet, max_wait) in [(2, PATIENT), (usize::MAX, IMPATIENT)] {
            let error = || {
                CreateProjectError::generic(meta(
                    "InvalidInputException",
                    "CodeBuild is not authorized to perform: sts:AssumeRole on arn:aws:iam::123456789012:role/build",
                ))
            };
            let create = if not_yet == usize::MAX {
                mock!(aws_sdk_codebuild::Client::create_project).then_error(error)
            } else {
                mock!(aws_sdk_codebuild::Client::create_project)
                    .sequence()
                    .error(error)
                    .times(not_yet)
                    .output(|| CreateProjectOutput::builder().build())
                    .build()
            };
            let get = mock!(aws_sdk_codebuild::Client::batch_get_projects).then_output(|| {
                BatchGetProjectsOutput::builder()
                    .projects(aws_sdk_codebuild::types::Project::builder().name("web-build").build())
                    .build()
            });
            let cb = mock_client!(aws_sdk_codebuild, RuleMode::MatchAny, [&create, &get]);
            let p = provider(max_wait, |c| c.codebuild = cb);
            let planned = v(serde_json::json!({
                "name": "web-build", "service_role": "arn:aws:iam::123456789012:role/build",
                "artifacts": [{ "type": "NO_ARTIFACTS" }], "source": [{ "type": "NO_SOURCE", "buildspec": "version: 0.2" }],
                "environment": [{ "type": "LINUX_CONTAINER", "compute_type": "BUILD_GENERAL1_SMALL", "image": "aws/codebuild/standard:7.0" }]
            }));
            let r = p.create("aws_codebuild_project", &planned, &marker()).await;
            if not_yet == usize::MAX {
                gave_up(&r.expect_err("never"), "CreateProject", "InvalidInputException");
            } else {
                r.expect("created");
                assert_eq!(create.num_calls(), 3);
            }
        }
    }

    #[tokio::test]
    async fn a_pipeline_waits_until_codepipeline_may_assume_its_role() {
        use aws_sdk_codepipeline::operation::create_pipeline::CreatePipelineError;
        let error = || {
            CreatePipelineError::generic(meta(
                "InvalidStructureException",
                "CodePipeline is not authorized to perform AssumeRole on role arn:aws:iam::123456789012:role/pipeline",
            ))
        };
        let create = mock!(aws_sdk_codepipeline::Client::create_pipeline).then_error(error);
        let cp = mock_client!(aws_sdk_codepipeline, RuleMode::MatchAny, [&create]);
        let p = provider(Duration::from_millis(2000), |c| c.codepipeline = cp);
        let planned = v(serde_json::json!({
            "name": "web", "role_arn": "arn:aws:iam::123456789012:role/pipeline", "pipeline_type": "V1",
            "artifact_store": [{ "type": "S3", "location": "artifacts" }],
            "stage": [{ "name": "Source", "action": [{ "name": "Source", "category": "Source", "owner": "AWS", "provider": "S3", "version": "1", "run_order": 1, "output_artifacts": ["s"], "configuration": { "S3Bucket": "artifacts", "S3ObjectKey": "s.zip" } }] }]
        }));
        let e = p.create("aws_codepipeline", &planned, &marker()).await.expect_err("never authorized");
        gave_up(&e, "CreatePipeline", "InvalidStructureException");
        assert!(create.num_calls() >= 2, "tried again before giving up: {}", create.num_calls());
    }

    #[tokio::test]
    async fn a_capacity_provider_delete_waits_until_it_is_inactive() {
        use aws_sdk_ecs::operation::delete_capacity_provider::DeleteCapacityProviderOutput;
        use aws_sdk_ecs::operation::describe_capacity_providers::DescribeCapacityProvidersOutput;
        use aws_sdk_ecs::types::{CapacityProvider, CapacityProviderStatus, CapacityProviderUpdateStatus};
        let provider_in = |status: CapacityProviderStatus, update: CapacityProviderUpdateStatus| {
            CapacityProvider::builder()
                .name("ecs-dev")
                .status(status)
                .update_status(update)
                .update_status_reason("the group still has instances protected from scale-in")
                .build()
        };
        let delete = mock!(aws_sdk_ecs::Client::delete_capacity_provider)
            .then_output(|| DeleteCapacityProviderOutput::builder().build());
        let describe = mock!(aws_sdk_ecs::Client::describe_capacity_providers)
            .sequence()
            .output(move || {
                DescribeCapacityProvidersOutput::builder()
                    .capacity_providers(provider_in(
                        CapacityProviderStatus::Active,
                        CapacityProviderUpdateStatus::DeleteInProgress,
                    ))
                    .build()
            })
            .times(2)
            .output(move || {
                DescribeCapacityProvidersOutput::builder()
                    .capacity_providers(provider_in(
                        CapacityProviderStatus::Inactive,
                        CapacityProviderUpdateStatus::DeleteComplete,
                    ))
                    .build()
            })
            .build();
        let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&delete, &describe]);
        let p = provider(PATIENT, |c| c.ecs = ecs);
        p.delete("aws_ecs_capacity_provider", &v(serde_json::json!({ "id": "ecs-dev", "name": "ecs-dev" })))
            .await
            .expect("deleted");
        assert_eq!(describe.num_calls(), 3, "polled until INACTIVE");

        let delete = mock!(aws_sdk_ecs::Client::delete_capacity_provider)
            .then_output(|| DeleteCapacityProviderOutput::builder().build());
        let failed = mock!(aws_sdk_ecs::Client::describe_capacity_providers).then_output(move || {
            DescribeCapacityProvidersOutput::builder()
                .capacity_providers(provider_in(
                    CapacityProviderStatus::Active,
                    CapacityProviderUpdateStatus::DeleteFailed,
                ))
                .build()
        });
        let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&delete, &failed]);
        let p = provider(PATIENT, |c| c.ecs = ecs);
        let e = p
            .delete("aws_ecs_capacity_provider", &v(serde_json::json!({ "id": "ecs-dev", "name": "ecs-dev" })))
            .await
            .expect_err("AWS says it failed");
        assert_eq!(e.code.as_deref(), Some("DELETE_FAILED"));
        assert!(e.message.contains("protected from scale-in"), "{}", e.message);
    }
}

// ------------------------------------------------------------------ ECS rollouts

mod rollout {
    use super::*;
    use aws_sdk_ecs::operation::create_service::CreateServiceOutput;
    use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
    use aws_sdk_ecs::types::{Deployment, DeploymentRolloutState, Service};

    fn service(rollout: DeploymentRolloutState) -> Service {
        Service::builder()
            .service_name("web")
            .service_arn("arn:aws:ecs:us-east-1:123456789012:service/ecs-cluster-dev/web")
            .cluster_arn("arn:aws:ecs:us-east-1:123456789012:cluster/ecs-cluster-dev")
            .status("ACTIVE")
            .desired_count(1)
            .running_count(1)
            .deployments(
                Deployment::builder()
                    .status("PRIMARY")
                    .desired_count(1)
                    .running_count(1)
                    .rollout_state(rollout)
                    .rollout_state_reason("ECS deployment circuit breaker: tasks failed to start.")
                    .build(),
            )
            .build()
    }

    async fn create_with(states: Vec<DeploymentRolloutState>) -> (Result<Value, ProviderError>, usize) {
        let create = mock!(aws_sdk_ecs::Client::create_service).then_output(|| {
            CreateServiceOutput::builder().service(service(DeploymentRolloutState::InProgress)).build()
        });
        let mut seq = mock!(aws_sdk_ecs::Client::describe_services).sequence();
        for st in states {
            seq = seq.output(move || DescribeServicesOutput::builder().services(service(st.clone())).build());
        }
        let describe = seq.repeatedly().build();
        let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&create, &describe], |c| c
            .time_source(aws_smithy_async::time::SystemTimeSource::new())
            .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new()));
        let p = provider(PATIENT, |c| c.ecs = ecs);
        let planned = v(serde_json::json!({
            "name": "web", "cluster": "ecs-cluster-dev", "task_definition": "web-dev:1", "desired_count": 1,
            "scheduling_strategy": "REPLICA", "propagate_tags": "NONE", "wait_for_steady_state": true
        }));
        let r = p.create("aws_ecs_service", &planned, &marker()).await;
        (r, describe.num_calls())
    }

    /// running = desired while the rollout still runs is not steady yet.
    #[tokio::test]
    async fn a_steady_state_wait_lasts_until_the_rollout_completes() {
        use DeploymentRolloutState::*;
        let (r, calls) = create_with(vec![InProgress, InProgress, InProgress, Completed]).await;
        r.expect("steady once COMPLETED");
        assert!(calls >= 4, "polled past IN_PROGRESS: {calls}");
        let (r, _) = create_with(vec![InProgress, Failed]).await;
        let e = r.expect_err("rolled back");
        assert_eq!(e.code.as_deref(), Some("RolloutFailed"));
        assert!(e.message.contains("circuit breaker"), "{}", e.message);
    }
}
