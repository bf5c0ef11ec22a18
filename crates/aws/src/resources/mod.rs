//! The aws provider's resource types, one file each.

pub mod ec2util;
mod eip;
mod instance;
mod internet_gateway;
mod route_table;
mod security_group;
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
    ]
}
