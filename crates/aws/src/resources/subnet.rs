//! aws_subnet

use super::ec2util::{batched, carries, gone_is_fine, marker_filters, sync_tags, waiter};
use crate::error::{api, is_not_found};
use crate::tags;
use crate::values::{b, id, obj, opt_str, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{AttributeBooleanValue, HostnameType, ResourceType as Rt, Subnet};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::time::Duration;

pub struct AwsSubnet;

fn to_value(ctx: &Ctx<'_>, sn: &Subnet) -> Value {
    let (tags_value, tags_all) = tags::attributes(sn.tags(), &ctx.settings.default_tags);
    let dns = sn.private_dns_name_options_on_launch();
    obj(vec![
        ("id", opt_str(sn.subnet_id())),
        ("arn", opt_str(sn.subnet_arn())),
        ("vpc_id", opt_str(sn.vpc_id())),
        ("cidr_block", opt_str(sn.cidr_block())),
        ("availability_zone", opt_str(sn.availability_zone())),
        ("availability_zone_id", opt_str(sn.availability_zone_id())),
        ("map_public_ip_on_launch", Value::Bool(sn.map_public_ip_on_launch().unwrap_or(false))),
        ("assign_ipv6_address_on_creation", Value::Bool(sn.assign_ipv6_address_on_creation().unwrap_or(false))),
        ("enable_dns64", Value::Bool(sn.enable_dns64().unwrap_or(false))),
        (
            "enable_resource_name_dns_a_record_on_launch",
            Value::Bool(dns.and_then(|d| d.enable_resource_name_dns_a_record()).unwrap_or(false)),
        ),
        (
            "enable_resource_name_dns_aaaa_record_on_launch",
            Value::Bool(dns.and_then(|d| d.enable_resource_name_dns_aaaa_record()).unwrap_or(false)),
        ),
        ("private_dns_hostname_type_on_launch", opt_str(dns.and_then(|d| d.hostname_type()).map(|h| h.as_str()))),
        ("ipv6_native", Value::Bool(sn.ipv6_native().unwrap_or(false))),
        (
            "ipv6_cidr_block_association_id",
            opt_str(sn.ipv6_cidr_block_association_set().first().and_then(|a| a.association_id())),
        ),
        ("owner_id", opt_str(sn.owner_id())),
        ("tags", tags_value),
        ("tags_all", tags_all),
    ])
}

/// What ModifySubnetAttribute sets, one attribute a call; false (or unset)
/// is what a new subnet has.
const MODIFIABLE: [&str; 6] = [
    "map_public_ip_on_launch",
    "assign_ipv6_address_on_creation",
    "enable_dns64",
    "enable_resource_name_dns_a_record_on_launch",
    "enable_resource_name_dns_aaaa_record_on_launch",
    "private_dns_hostname_type_on_launch",
];

async fn modify(ctx: &Ctx<'_>, sid: &str, attr: &str, v: &Value) -> Result<(), ProviderError> {
    let on = |b: bool| AttributeBooleanValue::builder().value(b).build();
    let call = ctx.clients.ec2.modify_subnet_attribute().subnet_id(sid);
    let call = match (attr, v) {
        ("map_public_ip_on_launch", Value::Bool(b)) => call.map_public_ip_on_launch(on(*b)),
        ("assign_ipv6_address_on_creation", Value::Bool(b)) => call.assign_ipv6_address_on_creation(on(*b)),
        ("enable_dns64", Value::Bool(b)) => call.enable_dns64(on(*b)),
        ("enable_resource_name_dns_a_record_on_launch", Value::Bool(b)) => {
            call.enable_resource_name_dns_a_record_on_launch(on(*b))
        }
        ("enable_resource_name_dns_aaaa_record_on_launch", Value::Bool(b)) => {
            call.enable_resource_name_dns_aaaa_record_on_launch(on(*b))
        }
        ("private_dns_hostname_type_on_launch", Value::String(h)) => {
            call.private_dns_hostname_type_on_launch(HostnameType::from(h.as_str()))
        }
        _ => return Ok(()),
    };
    call.send().await.map_err(|e| api("ModifySubnetAttribute", e))?;
    Ok(())
}

#[async_trait]
impl ResourceType for AwsSubnet {
    fn name(&self) -> &'static str {
        "aws_subnet"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A range of a VPC in one availability zone.",
            [
                ("id", A::computed(T::String, "The subnet's id.")),
                ("arn", A::computed(T::String, "The subnet's ARN.")),
                ("vpc_id", A::required(T::String, "The VPC.").force_new()),
                ("cidr_block", A::required(T::String, "The IPv4 range.").force_new()),
                ("availability_zone", A::optional_computed(T::String, "The zone, e.g. us-east-1a.").force_new()),
                ("availability_zone_id", A::computed(T::String, "The zone's id.")),
                (
                    "map_public_ip_on_launch",
                    A::optional(T::Bool, "Give instances a public IP.").default(Value::Bool(false)),
                ),
                (
                    "assign_ipv6_address_on_creation",
                    A::optional(T::Bool, "Give network interfaces an IPv6 address.").default(Value::Bool(false)),
                ),
                ("enable_dns64", A::optional(T::Bool, "DNS64 for IPv6-only subnets.").default(Value::Bool(false))),
                (
                    "enable_resource_name_dns_a_record_on_launch",
                    A::optional(T::Bool, "A records for instances' resource names.").default(Value::Bool(false)),
                ),
                (
                    "enable_resource_name_dns_aaaa_record_on_launch",
                    A::optional(T::Bool, "AAAA records for instances' resource names.").default(Value::Bool(false)),
                ),
                (
                    "private_dns_hostname_type_on_launch",
                    A::optional_computed(T::String, "ip-name or resource-name: how instances are named."),
                ),
                (
                    "ipv6_native",
                    A::optional(T::Bool, "IPv6 only, no IPv4 range.").force_new().default(Value::Bool(false)),
                ),
                ("ipv6_cidr_block_association_id", A::computed(T::String, "The IPv6 range's association.")),
                ("owner_id", A::computed(T::String, "The owning account.")),
            ],
        )
    }

    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let ec2 = &ctx.clients.ec2;
        let out = ec2
            .create_subnet()
            .vpc_id(req(planned, "vpc_id")?)
            .cidr_block(req(planned, "cidr_block")?)
            .set_availability_zone(s(planned, "availability_zone").map(String::from))
            .set_ipv6_native(b(planned, "ipv6_native").filter(|on| *on))
            .tag_specifications(tags::for_create(Rt::Subnet, planned, &ctx.settings.default_tags, marker))
            .customize()
            .config_override(super::common::once!(aws_sdk_ec2))
            .send()
            .await
            .map_err(|e| api("CreateSubnet", e))?;
        let sid = out
            .subnet()
            .and_then(|s| s.subnet_id())
            .ok_or_else(|| ProviderError::new("CreateSubnet returned no subnet id"))?
            .to_string();
        ec2.wait_until_subnet_available()
            .subnet_ids(&sid)
            .wait(ctx.settings.max_wait)
            .await
            .map_err(|e| waiter("SubnetAvailable", e))?;
        for attr in MODIFIABLE {
            // Only what differs from a new subnet's settings.
            if let Some(v @ (Value::Bool(true) | Value::String(_))) = planned.get(attr) {
                modify(ctx, &sid, attr, v).await?;
            }
        }
        let new_key = obj(vec![("id", Value::String(sid.clone()))]);
        crate::consistency::read_new(ctx, || self.read(ctx, &new_key))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new subnet {sid} could not be read back")))
    }

    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        match ctx
            .clients
            .ec2
            .describe_subnets()
            .subnet_ids(id(state)?)
            .send()
            .await
            .map_err(|e| api("DescribeSubnets", e))
        {
            Ok(o) => Ok(o.subnets().first().map(|sn| to_value(ctx, sn))),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        batched(
            states,
            |ids| async move {
                let o = ctx
                    .clients
                    .ec2
                    .describe_subnets()
                    .set_subnet_ids(Some(ids))
                    .send()
                    .await
                    .map_err(|e| api("DescribeSubnets", e))?;
                Ok(o.subnets()
                    .iter()
                    .map(|sn| (sn.subnet_id().unwrap_or_default().to_string(), to_value(ctx, sn)))
                    .collect())
            },
            |s| async move { self.read(ctx, &s).await },
        )
        .await
    }

    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let sid = id(prior)?;
        for attr in MODIFIABLE {
            if let Some(want) = planned.get(attr).filter(|v| !v.is_null() && !v.is_unknown())
                && prior.get(attr) != Some(want)
            {
                modify(ctx, sid, attr, want).await?;
            }
        }
        sync_tags(ctx, sid, prior, planned).await?;
        self.read(ctx, prior)
            .await?
            .ok_or_else(|| ProviderError::new(format!("subnet {sid} disappeared during the update")))
    }

    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let sid = id(prior)?.to_string();
        let ec2 = &ctx.clients.ec2;
        let r = crate::consistency::retry_while(&["DependencyViolation"], Duration::from_secs(600), || async {
            ec2.delete_subnet().subnet_id(&sid).send().await.map_err(|e| api("DeleteSubnet", e))
        })
        .await;
        gone_is_fine(r)
    }

    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let o = ctx
            .clients
            .ec2
            .describe_subnets()
            .set_filters(Some(marker_filters(marker)))
            .send()
            .await
            .map_err(|e| api("DescribeSubnets", e))?;
        Ok(o.subnets().iter().find(|sn| carries(sn.tags(), marker)).map(|sn| to_value(ctx, sn)))
    }
}
