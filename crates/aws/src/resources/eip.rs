//! aws_eip, aws_eip_association and aws_nat_gateway

use super::ec2util::{batched, carries, filter, gone_is_fine, marker_filters, sync_tags, waiter};
use crate::error::{api, is_not_found};
use crate::tags;
use crate::values::{id, obj, opt_str, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{Address, AddressAttributeName, DomainType, NatGateway, NatGatewayState, ResourceType as Rt};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;

pub struct AwsEip;
pub struct AwsEipAssociation;
pub struct AwsNatGateway;

/// What one address reads as; `account` and `ptr` (its reverse DNS
/// record) come from calls beside DescribeAddresses.
fn eip_value(ctx: &Ctx<'_>, a: &Address, account: &str, ptr: Option<&str>) -> Value {
    let (tags_value, tags_all) = tags::attributes(a.tags(), &ctx.settings.default_tags);
    let region = &ctx.settings.region;
    let partition = crate::partition::of_region(region);
    let alloc = a.allocation_id().unwrap_or_default();
    let dashed = |ip: &str| ip.replace('.', "-");
    // The names EC2 gives addresses, as Terraform's provider derives them.
    let (private_zone, public_zone) = match region.as_str() {
        "us-east-1" => ("ec2.internal".to_string(), format!("compute-1.{}", partition.dns_suffix)),
        r => (format!("{r}.compute.internal"), format!("{r}.compute.{}", partition.dns_suffix)),
    };
    obj(vec![
        ("id", opt_str(a.allocation_id())),
        ("allocation_id", opt_str(a.allocation_id())),
        ("arn", Value::String(format!("arn:{}:ec2:{region}:{account}:elastic-ip/{alloc}", partition.id))),
        ("domain", opt_str(a.domain().map(|d| d.as_str()))),
        ("vpc", Value::Bool(a.domain().is_some_and(|d| *d == DomainType::Vpc))),
        ("public_ip", opt_str(a.public_ip())),
        ("public_dns", opt_str(a.public_ip().map(|ip| format!("ec2-{}.{public_zone}", dashed(ip))).as_deref())),
        ("private_ip", opt_str(a.private_ip_address())),
        (
            "private_dns",
            opt_str(a.private_ip_address().map(|ip| format!("ip-{}.{private_zone}", dashed(ip))).as_deref()),
        ),
        ("association_id", opt_str(a.association_id())),
        ("instance", opt_str(a.instance_id())),
        ("network_interface", opt_str(a.network_interface_id())),
        ("carrier_ip", opt_str(a.carrier_ip())),
        ("customer_owned_ip", opt_str(a.customer_owned_ip())),
        ("customer_owned_ipv4_pool", opt_str(a.customer_owned_ipv4_pool())),
        ("network_border_group", opt_str(a.network_border_group())),
        ("public_ipv4_pool", opt_str(a.public_ipv4_pool())),
        ("ptr_record", opt_str(ptr)),
        ("tags", tags_value),
        ("tags_all", tags_all),
    ])
}

/// The values of addresses by allocation id: one DescribeAddressesAttribute
/// call for their reverse DNS records, the account asked for once.
async fn eip_values(ctx: &Ctx<'_>, addresses: &[Address]) -> Result<Vec<(String, Value)>, ProviderError> {
    let ids: Vec<String> = addresses.iter().filter_map(|a| a.allocation_id().map(String::from)).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let account = ctx.account_id().await?.to_string();
    let records = ctx
        .clients
        .ec2
        .describe_addresses_attribute()
        .set_allocation_ids(Some(ids))
        .attribute(AddressAttributeName::DomainName)
        .send()
        .await
        .map_err(|e| api("DescribeAddressesAttribute", e))?;
    let ptr = |alloc: &str| {
        records.addresses().iter().find(|r| r.allocation_id() == Some(alloc)).and_then(|r| r.ptr_record())
    };
    Ok(addresses
        .iter()
        .map(|a| {
            let alloc = a.allocation_id().unwrap_or_default();
            (alloc.to_string(), eip_value(ctx, a, &account, ptr(alloc)))
        })
        .collect())
}

async fn eip_value_of(ctx: &Ctx<'_>, a: Option<Address>) -> Result<Option<Value>, ProviderError> {
    Ok(match a {
        Some(a) => eip_values(ctx, &[a]).await?.pop().map(|(_, v)| v),
        None => None,
    })
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
                ("arn", A::computed(T::String, "The address's ARN.")),
                ("vpc", A::optional_computed(T::Bool, "In a VPC (deprecated: domain says it).")),
                ("public_dns", A::computed(T::String, "The public DNS name EC2 gives the address.")),
                ("private_dns", A::computed(T::String, "The private DNS name of its private address.")),
                ("carrier_ip", A::computed(T::String, "A Wavelength Zone's carrier address, if any.")),
                ("customer_owned_ip", A::computed(T::String, "An Outpost's customer-owned address, if any.")),
                ("customer_owned_ipv4_pool", A::optional(T::String, "An Outpost's customer-owned pool.").force_new()),
                (
                    "network_border_group",
                    A::optional_computed(T::String, "Where AWS advertises the address.").force_new(),
                ),
                ("public_ipv4_pool", A::optional_computed(T::String, "The pool the address comes from.").force_new()),
                ("ipam_pool_id", A::optional_computed(T::String, "The IPAM pool to allocate from.").force_new()),
                ("ptr_record", A::computed(T::String, "The address's reverse DNS record.")),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let out = ctx
            .clients
            .ec2
            .allocate_address()
            .domain(DomainType::from(s(planned, "domain").unwrap_or("vpc")))
            .set_network_border_group(s(planned, "network_border_group").map(String::from))
            .set_public_ipv4_pool(s(planned, "public_ipv4_pool").map(String::from))
            .set_customer_owned_ipv4_pool(s(planned, "customer_owned_ipv4_pool").map(String::from))
            .set_ipam_pool_id(s(planned, "ipam_pool_id").map(String::from))
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
        let v = eip_value_of(ctx, Some(a)).await?.unwrap_or_default();
        Ok(super::common::with_setting(v, planned, "ipam_pool_id", Value::Null))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let v = eip_value_of(ctx, describe_eip(ctx, id(state)?).await?).await?;
        // AWS does not say which IPAM pool an address came from: as created.
        Ok(v.map(|v| super::common::with_setting(v, state, "ipam_pool_id", Value::Null)))
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
                Ok(eip_values(ctx, o.addresses()).await?.into_iter().collect())
            },
            |s| async move { self.read(ctx, &s).await },
        )
        .await
        .into_iter()
        .zip(states)
        .map(|(read, state)| {
            read.map(|v| v.map(|v| super::common::with_setting(v, state, "ipam_pool_id", Value::Null)))
        })
        .collect()
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
        eip_value_of(ctx, o.addresses().iter().find(|a| carries(a.tags(), marker)).cloned()).await
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
    // The primary address; the others are secondary private addresses.
    let addresses = n.nat_gateway_addresses();
    let addr = addresses.iter().find(|a| a.is_primary() != Some(false));
    let secondary: Vec<Value> = addresses
        .iter()
        .filter(|a| a.is_primary() == Some(false))
        .filter_map(|a| a.private_ip().map(Value::str))
        .collect();
    obj(vec![
        ("id", opt_str(n.nat_gateway_id())),
        ("subnet_id", opt_str(n.subnet_id())),
        ("allocation_id", opt_str(addr.and_then(|a| a.allocation_id()))),
        ("connectivity_type", opt_str(n.connectivity_type().map(|c| c.as_str()).or(Some("public")))),
        ("network_interface_id", opt_str(addr.and_then(|a| a.network_interface_id()))),
        ("private_ip", opt_str(addr.and_then(|a| a.private_ip()))),
        ("public_ip", opt_str(addr.and_then(|a| a.public_ip()))),
        ("association_id", opt_str(addr.and_then(|a| a.association_id()))),
        ("secondary_private_ip_address_count", Value::Number(secondary.len() as f64)),
        ("secondary_private_ip_addresses", Value::List(secondary)),
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
                ("association_id", A::computed(T::String, "The association of its Elastic IP.")),
                (
                    "secondary_private_ip_address_count",
                    A::optional_computed(T::Number, "How many secondary private addresses (private gateways).")
                        .force_new(),
                ),
                (
                    "secondary_private_ip_addresses",
                    A::optional_computed(
                        super::common::string_set(),
                        "Secondary private addresses (private gateways).",
                    )
                    .force_new(),
                ),
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
            .set_secondary_private_ip_address_count(super::common::int(planned, "secondary_private_ip_address_count"))
            .set_secondary_private_ip_addresses(match planned.get("secondary_private_ip_addresses") {
                Some(Value::List(ips)) if !ips.is_empty() => {
                    Some(ips.iter().filter_map(Value::as_str).map(String::from).collect())
                }
                _ => None,
            })
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
