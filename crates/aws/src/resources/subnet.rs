//! aws_subnet

use super::ec2util::{batched, carries, gone_is_fine, marker_filters, sync_tags, waiter};
use crate::error::{api, is_not_found};
use crate::tags;
use crate::values::{b, id, obj, opt_str, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType as Rt, Subnet};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::time::Duration;

pub struct AwsSubnet;

fn to_value(ctx: &Ctx<'_>, sn: &Subnet) -> Value {
    let (tags_value, tags_all) = tags::attributes(sn.tags(), &ctx.settings.default_tags);
    obj(vec![
        ("id", opt_str(sn.subnet_id())),
        ("arn", opt_str(sn.subnet_arn())),
        ("vpc_id", opt_str(sn.vpc_id())),
        ("cidr_block", opt_str(sn.cidr_block())),
        ("availability_zone", opt_str(sn.availability_zone())),
        ("availability_zone_id", opt_str(sn.availability_zone_id())),
        ("map_public_ip_on_launch", Value::Bool(sn.map_public_ip_on_launch().unwrap_or(false))),
        ("owner_id", opt_str(sn.owner_id())),
        ("tags", tags_value),
        ("tags_all", tags_all),
    ])
}

async fn set_public_ip(ctx: &Ctx<'_>, sid: &str, on: bool) -> Result<(), ProviderError> {
    ctx.clients
        .ec2
        .modify_subnet_attribute()
        .subnet_id(sid)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(on).build())
        .send()
        .await
        .map_err(|e| api("ModifySubnetAttribute", e))?;
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
        if b(planned, "map_public_ip_on_launch") == Some(true) {
            set_public_ip(ctx, &sid, true).await?;
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
        if let Some(want) = b(planned, "map_public_ip_on_launch")
            && b(prior, "map_public_ip_on_launch") != Some(want)
        {
            set_public_ip(ctx, sid, want).await?;
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
