//! aws_internet_gateway and aws_internet_gateway_attachment

use super::ec2util::{batched, carries, done_already, gone_is_fine, marker_filters, sync_tags};
use crate::error::{api, is_not_found};
use crate::tags;
use crate::values::{id, obj, opt_str, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_ec2::types::{InternetGateway, ResourceType as Rt};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::time::Duration;

pub struct AwsInternetGateway;
pub struct AwsInternetGatewayAttachment;

fn attached_vpc(g: &InternetGateway) -> Option<&str> {
    g.attachments().iter().find_map(|a| a.vpc_id())
}

fn to_value(ctx: &Ctx<'_>, g: &InternetGateway) -> Value {
    let (tags_value, tags_all) = tags::attributes(g.tags(), &ctx.settings.default_tags);
    let gid = g.internet_gateway_id().unwrap_or_default();
    let owner = g.owner_id().unwrap_or_default();
    obj(vec![
        ("id", Value::str(gid)),
        (
            "arn",
            Value::String(format!(
                "arn:{}:ec2:{}:{owner}:internet-gateway/{gid}",
                crate::partition::of_region(&ctx.settings.region).id,
                ctx.settings.region
            )),
        ),
        ("vpc_id", opt_str(attached_vpc(g))),
        ("owner_id", opt_str(g.owner_id())),
        ("tags", tags_value),
        ("tags_all", tags_all),
    ])
}

async fn describe(ctx: &Ctx<'_>, gid: &str) -> Result<Option<InternetGateway>, ProviderError> {
    match ctx
        .clients
        .ec2
        .describe_internet_gateways()
        .internet_gateway_ids(gid)
        .send()
        .await
        .map_err(|e| api("DescribeInternetGateways", e))
    {
        Ok(o) => Ok(o.internet_gateways().first().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn attach(ctx: &Ctx<'_>, gid: &str, vpc: &str) -> Result<(), ProviderError> {
    let r = ctx
        .clients
        .ec2
        .attach_internet_gateway()
        .internet_gateway_id(gid)
        .vpc_id(vpc)
        .send()
        .await
        .map_err(|e| api("AttachInternetGateway", e));
    if done_already(r, &["Resource.AlreadyAssociated"])?.is_none() {
        // Attached already: fine if to this VPC (a retried call), not if to another.
        let attached =
            describe(ctx, gid).await?.is_some_and(|g| g.attachments().iter().any(|a| a.vpc_id() == Some(vpc)));
        if !attached {
            return Err(ProviderError::api(
                "AttachInternetGateway",
                Some("Resource.AlreadyAssociated"),
                format!("{gid} is attached to another VPC"),
            ));
        }
    }
    Ok(())
}

async fn detach(ctx: &Ctx<'_>, gid: &str, vpc: &str) -> Result<(), ProviderError> {
    let ec2 = &ctx.clients.ec2;
    // Public addresses mapped in the VPC keep the gateway busy for a while.
    let r = crate::consistency::retry_while(&["DependencyViolation"], Duration::from_secs(600), || async {
        ec2.detach_internet_gateway()
            .internet_gateway_id(gid)
            .vpc_id(vpc)
            .send()
            .await
            .map_err(|e| api("DetachInternetGateway", e))
    })
    .await;
    match r {
        Err(e) if !is_not_found(&e) && e.code.as_deref() != Some("Gateway.NotAttached") => Err(e),
        _ => Ok(()),
    }
}

#[async_trait]
impl ResourceType for AwsInternetGateway {
    fn name(&self) -> &'static str {
        "aws_internet_gateway"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An internet gateway, attached to a VPC when vpc_id is set.",
            [
                ("id", A::computed(T::String, "The gateway's id.")),
                ("arn", A::computed(T::String, "The gateway's ARN.")),
                (
                    "vpc_id",
                    A::optional_computed(
                        T::String,
                        "The VPC to attach to (or attached by an aws_internet_gateway_attachment).",
                    ),
                ),
                ("owner_id", A::computed(T::String, "The owning account.")),
            ],
        )
    }

    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let out = ctx
            .clients
            .ec2
            .create_internet_gateway()
            .tag_specifications(tags::for_create(Rt::InternetGateway, planned, &ctx.settings.default_tags, marker))
            .customize()
            .config_override(super::common::once!(aws_sdk_ec2))
            .send()
            .await
            .map_err(|e| api("CreateInternetGateway", e))?;
        let gid = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .ok_or_else(|| ProviderError::new("CreateInternetGateway returned no id"))?
            .to_string();
        if let Some(vpc) = s(planned, "vpc_id") {
            attach(ctx, &gid, vpc).await?;
        }
        let g = crate::consistency::read_new(ctx, || describe(ctx, &gid))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new gateway {gid} could not be read back")))?;
        Ok(to_value(ctx, &g))
    }

    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(describe(ctx, id(state)?).await?.map(|g| to_value(ctx, &g)))
    }

    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        batched(
            states,
            |ids| async move {
                let o = ctx
                    .clients
                    .ec2
                    .describe_internet_gateways()
                    .set_internet_gateway_ids(Some(ids))
                    .send()
                    .await
                    .map_err(|e| api("DescribeInternetGateways", e))?;
                Ok(o.internet_gateways()
                    .iter()
                    .map(|x| (x.internet_gateway_id().unwrap_or_default().to_string(), to_value(ctx, x)))
                    .collect())
            },
            |s| async move { self.read(ctx, &s).await },
        )
        .await
    }

    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let gid = id(prior)?;
        let (old, new) = (s(prior, "vpc_id"), s(planned, "vpc_id"));
        if old != new {
            if let Some(vpc) = old {
                detach(ctx, gid, vpc).await?;
            }
            if let Some(vpc) = new {
                attach(ctx, gid, vpc).await?;
            }
        }
        sync_tags(ctx, gid, prior, planned).await?;
        self.read(ctx, prior)
            .await?
            .ok_or_else(|| ProviderError::new(format!("internet gateway {gid} disappeared during the update")))
    }

    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let gid = id(prior)?;
        if let Some(g) = describe(ctx, gid).await?
            && let Some(vpc) = attached_vpc(&g)
        {
            detach(ctx, gid, vpc).await?;
        }
        gone_is_fine(
            ctx.clients
                .ec2
                .delete_internet_gateway()
                .internet_gateway_id(gid)
                .send()
                .await
                .map_err(|e| api("DeleteInternetGateway", e)),
        )
    }

    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let o = ctx
            .clients
            .ec2
            .describe_internet_gateways()
            .set_filters(Some(marker_filters(marker)))
            .send()
            .await
            .map_err(|e| api("DescribeInternetGateways", e))?;
        Ok(o.internet_gateways().iter().find(|g| carries(g.tags(), marker)).map(|g| to_value(ctx, g)))
    }
}

#[async_trait]
impl ResourceType for AwsInternetGatewayAttachment {
    fn name(&self) -> &'static str {
        "aws_internet_gateway_attachment"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "Attaches an internet gateway to a VPC. Import id: IGW_ID:VPC_ID.",
            [
                ("id", A::computed(T::String, "IGW_ID:VPC_ID.")),
                ("internet_gateway_id", A::required(T::String, "The gateway.").force_new()),
                ("vpc_id", A::required(T::String, "The VPC.").force_new()),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, _: &Marker) -> Result<Value, ProviderError> {
        let (gid, vpc) = (req(planned, "internet_gateway_id")?, req(planned, "vpc_id")?);
        attach(ctx, gid, vpc).await?;
        Ok(obj(vec![
            ("id", Value::String(format!("{gid}:{vpc}"))),
            ("internet_gateway_id", Value::str(gid)),
            ("vpc_id", Value::str(vpc)),
        ]))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let (gid, vpc) =
            id(state)?.split_once(':').ok_or_else(|| ProviderError::new("an attachment id is IGW_ID:VPC_ID"))?;
        let attached = describe(ctx, gid).await?.is_some_and(|g| attached_vpc(&g) == Some(vpc));
        Ok(attached.then(|| {
            obj(vec![
                ("id", Value::String(format!("{gid}:{vpc}"))),
                ("internet_gateway_id", Value::str(gid)),
                ("vpc_id", Value::str(vpc)),
            ])
        }))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, _: &Value) -> Result<Value, ProviderError> {
        self.read(ctx, prior).await?.ok_or_else(|| ProviderError::new("the attachment disappeared"))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        detach(ctx, req(prior, "internet_gateway_id")?, req(prior, "vpc_id")?).await
    }
}
