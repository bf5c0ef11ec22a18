//! The aws provider's resource types, one file each.

pub mod ec2util;
mod vpc;

use crate::ResourceType;

pub fn all() -> Vec<Box<dyn ResourceType>> {
    vec![Box::new(vpc::AwsVpc)]
}
