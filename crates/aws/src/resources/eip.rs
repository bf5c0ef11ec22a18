//! aws_eip, aws_eip_association and aws_nat_gateway

use super::ec2util::{batched, carries, filter, gone_is_fine, marker_filters, sync_tags, waiter};
use crate::error::{api, is_not_found};
use crate::tags;
use crate::values::{id, obj, opt_str, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{Address, DomainType, NatGateway, NatGatewayState, ResourceType as Rt};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;

pub struct AwsEip;
pub struct AwsEipAssociation;
pub struct AwsNatGateway;

fn eip_value(ctx: &Ctx<'_>, a: &Address) -> Value {
    let (tags_value, tags_all) = tags::attributes(a.tags(), &ctx.settings.default_tags);
    obj(vec![
        ("id", opt_str(a.allocation_id())),
        ("allocation_id", opt_str(a.allocation_id())),
        ("domain", opt_str(a.domain().map(|d| d.as_str()))),
        ("public_ip", opt_str(a.public_ip())),
        ("private_ip", opt_str(a.private_ip_address())),
        ("association_id", opt_str(a.association_id())),
        ("instance", opt_str(a.instance_id())),
        ("network_interface", opt_str(a.network_interface_id())),
        ("tags", tags_value),
        ("tags_all", tags_all),
    ])
}

async fn describe_eip(ctx: &Ctx<'_>, alloc: &str) -> Result<Option<Address>, ProviderError> {
    match ctx
        .clients
        .ec2
        .describe_addresses()
        .allocation_ids(alloc)
        .send()
        .await
        .map_err(|e| api("DescribeAddresses", e))
    {
        Ok(o) => Ok(o.addresses().first().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Gone already is fine: an SDK retry of this very call may have found it done.
async fn disassociate(ctx: &Ctx<'_>, assoc: &str) -> Result<(), ProviderError> {
    let r = ctx.clients.ec2.disassociate_address().association_id(assoc).send().await;
    gone_is_fine(r.map_err(|e| api("DisassociateAddress", e)))
}

#[async_trait]
impl ResourceType for AwsEip {
    fn name(&self) -> &'static str {
        "aws_eip"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An Elastic IP address.",
            [
                ("id", A::computed(T::String, "The allocation id.")),
                ("allocation_id", A::computed(T::String, "The allocation id.")),
                ("domain", A::optional(T::String, "vpc.").force_new().default(Value::str("vpc"))),
                ("public_ip", A::computed(T::String, "The address.")),
                ("private_ip", A::computed(T::String, "The private address it maps to.")),
                ("association_id", A::computed(T::String, "The current association.")),
                ("instance", A::optional_computed(T::String, "An instance to associate with.")),
                ("network_interface", A::computed(T::String, "The associated network interface.")),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let out = ctx
            .clients
            .ec2
            .allocate_address()
            .domain(DomainType::from(s(planned, "domain").unwrap_or("vpc")))
            .tag_specifications(tags::for_create(Rt::ElasticIp, planned, &ctx.settings.default_tags, marker))
            .customize()
            .config_override(super::common::once!(aws_sdk_ec2))
            .send()
            .await
            .map_err(|e| api("AllocateAddress", e))?;
        let alloc = out
            .allocation_id()
            .ok_or_else(|| ProviderError::new("AllocateAddress returned no allocation id"))?
            .to_string();
        if let Some(instance) = s(planned, "instance") {
            ctx.clients
                .ec2
                .associate_address()
                .allocation_id(&alloc)
                .instance_id(instance)
                .send()
                .await
                .map_err(|e| api("AssociateAddress", e))?;
        }
        let a = crate::consistency::read_new(ctx, || describe_eip(ctx, &alloc))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new address {alloc} could not be read back")))?;
        Ok(eip_value(ctx, &a))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(describe_eip(ctx, id(state)?).await?.map(|a| eip_value(ctx, &a)))
    }
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        batched(
            states,
            |ids| async move {
                let o = ctx
                    .clients
                    .ec2
                    .describe_addresses()
                    .set_allocation_ids(Some(ids))
                    .send()
                    .await
                    .map_err(|e| api("DescribeAddresses", e))?;
                Ok(o.addresses()
                    .iter()
                    .map(|x| (x.allocation_id().unwrap_or_default().to_string(), eip_value(ctx, x)))
                    .collect())
            },
            |s| async move { self.read(ctx, &s).await },
        )
        .await
    }

    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let alloc = id(prior)?;
        let ec2 = &ctx.clients.ec2;
        if s(prior, "instance") != s(planned, "instance") {
            if let Some(assoc) = s(prior, "association_id") {
                disassociate(ctx, assoc).await?;
            }
            if let Some(instance) = s(planned, "instance") {
                ec2.associate_address()
                    .allocation_id(alloc)
                    .instance_id(instance)
                    .send()
                    .await
                    .map_err(|e| api("AssociateAddress", e))?;
            }
        }
        sync_tags(ctx, alloc, prior, planned).await?;
        self.read(ctx, prior)
            .await?
            .ok_or_else(|| ProviderError::new(format!("address {alloc} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let alloc = id(prior)?;
        let ec2 = &ctx.clients.ec2;
        if let Some(a) = describe_eip(ctx, alloc).await?
            && let Some(assoc) = a.association_id()
        {
            disassociate(ctx, assoc).await?;
        }
        let limit = crate::consistency::release(ctx, std::time::Duration::from_secs(300));
        let r = crate::consistency::retry(ctx, crate::consistency::ADDRESS_IN_USE, limit, || async {
            ec2.release_address().allocation_id(alloc).send().await.map_err(|e| api("ReleaseAddress", e))
        })
        .await;
        gone_is_fine(r)
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let o = ctx
            .clients
            .ec2
            .describe_addresses()
            .set_filters(Some(marker_filters(marker)))
            .send()
            .await
            .map_err(|e| api("DescribeAddresses", e))?;
        Ok(o.addresses().iter().find(|a| carries(a.tags(), marker)).map(|a| eip_value(ctx, a)))
    }
}

#[async_trait]
impl ResourceType for AwsEipAssociation {
    fn name(&self) -> &'static str {
        "aws_eip_association"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "Associates an Elastic IP with an instance. Import id: the association id.",
            [
                ("id", A::computed(T::String, "The association id.")),
                ("allocation_id", A::required(T::String, "The address.").force_new()),
                ("instance_id", A::required(T::String, "The instance.").force_new()),
                ("public_ip", A::computed(T::String, "The address.")),
                ("private_ip_address", A::computed(T::String, "The private address it maps to.")),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, _: &Marker) -> Result<Value, ProviderError> {
        let out = ctx
            .clients
            .ec2
            .associate_address()
            .allocation_id(req(planned, "allocation_id")?)
            .instance_id(req(planned, "instance_id")?)
            .send()
            .await
            .map_err(|e| api("AssociateAddress", e))?;
        let assoc =
            out.association_id().ok_or_else(|| ProviderError::new("AssociateAddress returned no association id"))?;
        let new_key = obj(vec![("id", Value::str(assoc))]);
        crate::consistency::read_new(ctx, || self.read(ctx, &new_key))
            .await?
            .ok_or_else(|| ProviderError::new("the new association could not be read back"))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let assoc = id(state)?;
        let o = ctx
            .clients
            .ec2
            .describe_addresses()
            .filters(filter("association-id", &[assoc]))
            .send()
            .await
            .map_err(|e| api("DescribeAddresses", e))?;
        Ok(o.addresses().first().map(|a| {
            obj(vec![
                ("id", Value::str(assoc)),
                ("allocation_id", opt_str(a.allocation_id())),
                ("instance_id", opt_str(a.instance_id())),
                ("public_ip", opt_str(a.public_ip())),
                ("private_ip_address", opt_str(a.private_ip_address())),
            ])
        }))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, _: &Value) -> Result<Value, ProviderError> {
        self.read(ctx, prior).await?.ok_or_else(|| ProviderError::new("the association disappeared"))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        disassociate(ctx, id(prior)?).await
    }
}

fn nat_value(ctx: &Ctx<'_>, n: &NatGateway) -> Value {
    let (tags_value, tags_all) = tags::attributes(n.tags(), &ctx.settings.default_tags);
    let addr = n.nat_gateway_addresses().first();
    obj(vec![
        ("id", opt_str(n.nat_gateway_id())),
        ("subnet_id", opt_str(n.subnet_id())),
        ("allocation_id", opt_str(addr.and_then(|a| a.allocation_id()))),
        ("connectivity_type", opt_str(n.connectivity_type().map(|c| c.as_str()).or(Some("public")))),
        ("network_interface_id", opt_str(addr.and_then(|a| a.network_interface_id()))),
        ("private_ip", opt_str(addr.and_then(|a| a.private_ip()))),
        ("public_ip", opt_str(addr.and_then(|a| a.public_ip()))),
        ("tags", tags_value),
        ("tags_all", tags_all),
    ])
}

async fn describe_nat(ctx: &Ctx<'_>, nid: &str) -> Result<Option<NatGateway>, ProviderError> {
    match ctx
        .clients
        .ec2
        .describe_nat_gateways()
        .nat_gateway_ids(nid)
        .send()
        .await
        .map_err(|e| api("DescribeNatGateways", e))
    {
        // A deleted gateway stays visible for an hour in state "deleted".
        Ok(o) => Ok(o
            .nat_gateways()
            .first()
            .filter(|n| !matches!(n.state(), Some(NatGatewayState::Deleted | NatGatewayState::Deleting)))
            .cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl ResourceType for AwsNatGateway {
    fn name(&self) -> &'static str {
        "aws_nat_gateway"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A NAT gateway; ecspoc waits until it is available, and until it is deleted.",
            [
                ("id", A::computed(T::String, "The gateway's id.")),
                ("subnet_id", A::required(T::String, "The public subnet it lives in.").force_new()),
                ("allocation_id", A::optional_computed(T::String, "The Elastic IP (public gateways).").force_new()),
                (
                    "connectivity_type",
                    A::optional(T::String, "public or private.").force_new().default(Value::str("public")),
                ),
                ("network_interface_id", A::computed(T::String, "Its network interface.")),
                ("private_ip", A::computed(T::String, "Its private address.")),
                ("public_ip", A::computed(T::String, "Its public address.")),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let ec2 = &ctx.clients.ec2;
        let out = ec2
            .create_nat_gateway()
            .subnet_id(req(planned, "subnet_id")?)
            .set_allocation_id(s(planned, "allocation_id").map(String::from))
            .connectivity_type(aws_sdk_ec2::types::ConnectivityType::from(
                s(planned, "connectivity_type").unwrap_or("public"),
            ))
            .client_token(super::common::client_token(marker))
            .tag_specifications(tags::for_create(Rt::Natgateway, planned, &ctx.settings.default_tags, marker))
            .send()
            .await
            .map_err(|e| api("CreateNatGateway", e))?;
        let nid = out
            .nat_gateway()
            .and_then(|n| n.nat_gateway_id())
            .ok_or_else(|| ProviderError::new("CreateNatGateway returned no id"))?
            .to_string();
        ec2.wait_until_nat_gateway_available()
            .nat_gateway_ids(&nid)
            .wait(ctx.settings.max_wait)
            .await
            .map_err(|e| waiter("NatGatewayAvailable", e))?;
        let n = crate::consistency::read_new(ctx, || describe_nat(ctx, &nid))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new NAT gateway {nid} could not be read back")))?;
        Ok(nat_value(ctx, &n))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(describe_nat(ctx, id(state)?).await?.map(|n| nat_value(ctx, &n)))
    }
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        batched(
            states,
            |ids| async move {
                let o = ctx
                    .clients
                    .ec2
                    .describe_nat_gateways()
                    .set_nat_gateway_ids(Some(ids))
                    .send()
                    .await
                    .map_err(|e| api("DescribeNatGateways", e))?;
                Ok(o.nat_gateways()
                    .iter()
                    .filter(|n| !matches!(n.state(), Some(NatGatewayState::Deleted | NatGatewayState::Deleting)))
                    .map(|x| (x.nat_gateway_id().unwrap_or_default().to_string(), nat_value(ctx, x)))
                    .collect())
            },
            |s| async move { self.read(ctx, &s).await },
        )
        .await
    }

    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let nid = id(prior)?;
        sync_tags(ctx, nid, prior, planned).await?;
        self.read(ctx, prior)
            .await?
            .ok_or_else(|| ProviderError::new(format!("NAT gateway {nid} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let nid = id(prior)?;
        let ec2 = &ctx.clients.ec2;
        match ec2.delete_nat_gateway().nat_gateway_id(nid).send().await.map_err(|e| api("DeleteNatGateway", e)) {
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        ec2.wait_until_nat_gateway_deleted()
            .nat_gateway_ids(nid)
            .wait(ctx.settings.max_wait)
            .await
            .map_err(|e| waiter("NatGatewayDeleted", e))?;
        Ok(())
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let o = ctx
            .clients
            .ec2
            .describe_nat_gateways()
            .set_filter(Some(marker_filters(marker)))
            .send()
            .await
            .map_err(|e| api("DescribeNatGateways", e))?;
        Ok(o.nat_gateways()
            .iter()
            .find(|n| {
                carries(n.tags(), marker)
                    && !matches!(n.state(), Some(NatGatewayState::Deleted | NatGatewayState::Deleting))
            })
            .map(|n| nat_value(ctx, n)))
    }
}
