//! The aws provider's resource types, one file each.

mod autoscaling;
mod codebuild;
mod codepipeline;
pub mod common;
mod container_definitions;
mod dynamodb;
pub mod ec2util;
mod ecr;
mod ecs;
mod ecs_service;
mod eip;
mod events;
mod iam;
mod instance;
mod internet_gateway;
mod launch_template;
mod lb;
mod logs;
mod route_table;
mod s3;
mod s3_encryption;
mod security_group;
mod sns;
mod subnet;
mod vpc;

use crate::ResourceType;

pub fn all() -> Vec<Box<dyn ResourceType>> {
    vec![
        Box::new(vpc::AwsVpc),
        Box::new(subnet::AwsSubnet),
        Box::new(internet_gateway::AwsInternetGateway),
        Box::new(internet_gateway::AwsInternetGatewayAttachment),
        Box::new(route_table::AwsRouteTable),
        Box::new(route_table::AwsRoute),
        Box::new(route_table::AwsRouteTableAssociation),
        Box::new(eip::AwsEip),
        Box::new(eip::AwsEipAssociation),
        Box::new(eip::AwsNatGateway),
        Box::new(security_group::AwsSecurityGroup),
        Box::new(instance::AwsKeyPair),
        Box::new(instance::AwsInstance),
        Box::new(security_group::AwsSecurityGroupRule { egress: false }),
        Box::new(security_group::AwsSecurityGroupRule { egress: true }),
        Box::new(iam::AwsIamRole),
        Box::new(iam::AwsIamRolePolicy),
        Box::new(iam::AwsIamRolePolicyAttachment),
        Box::new(iam::AwsIamInstanceProfile),
        Box::new(iam::AwsIamPolicy),
        Box::new(logs::AwsCloudwatchLogGroup),
        Box::new(sns::AwsSnsTopic),
        Box::new(sns::AwsSnsTopicPolicy),
        Box::new(sns::AwsSnsTopicSubscription),
        Box::new(events::AwsCloudwatchEventRule),
        Box::new(events::AwsCloudwatchEventTarget),
        Box::new(s3::AwsS3Bucket),
        Box::new(s3::AwsS3BucketVersioning),
        Box::new(s3::AwsS3BucketPublicAccessBlock),
        Box::new(s3_encryption::AwsS3BucketServerSideEncryptionConfiguration),
        Box::new(dynamodb::AwsDynamodbTable),
        Box::new(ecr::AwsEcrRepository),
        Box::new(codebuild::AwsCodebuildProject),
        Box::new(codepipeline::AwsCodepipeline),
        Box::new(launch_template::AwsLaunchTemplate),
        Box::new(autoscaling::AwsAutoscalingGroup),
        Box::new(lb::AwsLb),
        Box::new(lb::AwsLbTargetGroup),
        Box::new(lb::AwsLbListener),
        Box::new(lb::AwsLbListenerRule),
        Box::new(ecs::AwsEcsCluster),
        Box::new(ecs::AwsEcsCapacityProvider),
        Box::new(ecs::AwsEcsClusterCapacityProviders),
        Box::new(ecs_service::AwsEcsTaskDefinition),
        Box::new(ecs_service::AwsEcsService),
    ]
}
