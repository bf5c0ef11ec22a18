//! aws_vpc

use super::ec2util::{batched, carries, filter, marker_filters, sync_tags, waiter};
use crate::error::{api, is_not_found};
use crate::tags;
use crate::values::{b, id, obj, opt_str, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType as Rt, Tenancy, Vpc, VpcAttributeName};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::collections::HashMap;
use std::time::Duration;

pub struct AwsVpc;

async fn dns_attribute(ctx: &Ctx<'_>, vpc: &str, attr: VpcAttributeName) -> Result<bool, ProviderError> {
    let out = ctx
        .clients
        .ec2
        .describe_vpc_attribute()
        .vpc_id(vpc)
        .attribute(attr.clone())
        .send()
        .await
        .map_err(|e| api("DescribeVpcAttribute", e))?;
    let v = match attr {
        VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames().and_then(|a| a.value()),
        VpcAttributeName::EnableNetworkAddressUsageMetrics => {
            out.enable_network_address_usage_metrics().and_then(|a| a.value())
        }
        _ => out.enable_dns_support().and_then(|a| a.value()),
    };
    Ok(v.unwrap_or(false))
}

async fn set_dns_attribute(ctx: &Ctx<'_>, vpc: &str, attr: VpcAttributeName, value: bool) -> Result<(), ProviderError> {
    let v = AttributeBooleanValue::builder().value(value).build();
    let req = ctx.clients.ec2.modify_vpc_attribute().vpc_id(vpc);
    let req = match attr {
        VpcAttributeName::EnableDnsHostnames => req.enable_dns_hostnames(v),
        VpcAttributeName::EnableNetworkAddressUsageMetrics => req.enable_network_address_usage_metrics(v),
        _ => req.enable_dns_support(v),
    };
    req.send().await.map_err(|e| api("ModifyVpcAttribute", e))?;
    Ok(())
}

type Defaults = (Option<String>, Option<String>, Option<String>);

/// Each VPC's main route table, default security group and default network
/// ACL: three calls however many VPCs there are.
async fn defaults(ctx: &Ctx<'_>, vpcs: &[String]) -> Result<HashMap<String, Defaults>, ProviderError> {
    let ec2 = &ctx.clients.ec2;
    let ids: Vec<&str> = vpcs.iter().map(String::as_str).collect();
    let rt = ec2
        .describe_route_tables()
        .filters(filter("vpc-id", &ids))
        .filters(filter("association.main", &["true"]))
        .send()
        .await
        .map_err(|e| api("DescribeRouteTables", e))?;
    let sg = ec2
        .describe_security_groups()
        .filters(filter("vpc-id", &ids))
        .filters(filter("group-name", &["default"]))
        .send()
        .await
        .map_err(|e| api("DescribeSecurityGroups", e))?;
    let acl = ec2
        .describe_network_acls()
        .filters(filter("vpc-id", &ids))
        .filters(filter("default", &["true"]))
        .send()
        .await
        .map_err(|e| api("DescribeNetworkAcls", e))?;
    Ok(vpcs
        .iter()
        .map(|v| {
            let of = |x: Option<&str>| x == Some(v.as_str());
            (
                v.clone(),
                (
                    rt.route_tables()
                        .iter()
                        .find(|r| of(r.vpc_id()))
                        .and_then(|r| r.route_table_id())
                        .map(String::from),
                    sg.security_groups().iter().find(|g| of(g.vpc_id())).and_then(|g| g.group_id()).map(String::from),
                    acl.network_acls()
                        .iter()
                        .find(|a| of(a.vpc_id()))
                        .and_then(|a| a.network_acl_id())
                        .map(String::from),
                ),
            )
        })
        .collect())
}

async fn to_value(ctx: &Ctx<'_>, v: &Vpc) -> Result<Value, ProviderError> {
    let vid = v.vpc_id().unwrap_or_default().to_string();
    let found = defaults(ctx, std::slice::from_ref(&vid)).await?;
    to_value_with(ctx, v, found.get(&vid).cloned().unwrap_or_default()).await
}

async fn to_value_with(ctx: &Ctx<'_>, v: &Vpc, found: Defaults) -> Result<Value, ProviderError> {
    let vid = v.vpc_id().unwrap_or_default();
    let (tags_value, tags_all) = tags::attributes(v.tags(), &ctx.settings.default_tags);
    let (main_rt, default_sg, default_acl) = found;
    let owner = v.owner_id().unwrap_or_default();
    // The IPv6 range in use, as Terraform's provider reads it.
    let ipv6 = v
        .ipv6_cidr_block_association_set()
        .iter()
        .find(|a| a.ipv6_cidr_block_state().and_then(|s| s.state()).is_some_and(|s| s.as_str() == "associated"));
    Ok(obj(vec![
        ("id", Value::str(vid)),
        (
            "arn",
            Value::String(format!(
                "arn:{}:ec2:{}:{owner}:vpc/{vid}",
                crate::partition::of_region(&ctx.settings.region).id,
                ctx.settings.region
            )),
        ),
        ("cidr_block", opt_str(v.cidr_block())),
        ("instance_tenancy", opt_str(v.instance_tenancy().map(|t| t.as_str()))),
        ("enable_dns_support", Value::Bool(dns_attribute(ctx, vid, VpcAttributeName::EnableDnsSupport).await?)),
        ("enable_dns_hostnames", Value::Bool(dns_attribute(ctx, vid, VpcAttributeName::EnableDnsHostnames).await?)),
        (
            "enable_network_address_usage_metrics",
            Value::Bool(dns_attribute(ctx, vid, VpcAttributeName::EnableNetworkAddressUsageMetrics).await?),
        ),
        ("ipv6_association_id", opt_str(ipv6.and_then(|a| a.association_id()))),
        ("ipv6_cidr_block", opt_str(ipv6.and_then(|a| a.ipv6_cidr_block()))),
        ("ipv6_cidr_block_network_border_group", opt_str(ipv6.and_then(|a| a.network_border_group()))),
        ("dhcp_options_id", opt_str(v.dhcp_options_id())),
        ("owner_id", opt_str(v.owner_id())),
        ("main_route_table_id", opt_str(main_rt.as_deref())),
        ("default_route_table_id", opt_str(main_rt.as_deref())),
        ("default_security_group_id", opt_str(default_sg.as_deref())),
        ("default_network_acl_id", opt_str(default_acl.as_deref())),
        ("tags", tags_value),
        ("tags_all", tags_all),
    ]))
}

#[async_trait]
impl ResourceType for AwsVpc {
    fn name(&self) -> &'static str {
        "aws_vpc"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A virtual private cloud.",
            [
                ("id", A::computed(T::String, "The VPC's id, e.g. vpc-0abc.")),
                ("arn", A::computed(T::String, "The VPC's ARN.")),
                ("cidr_block", A::required(T::String, "The IPv4 range, e.g. 10.60.0.0/16.").force_new()),
                (
                    "instance_tenancy",
                    A::optional(T::String, "default or dedicated.").force_new().default(Value::str("default")),
                ),
                (
                    "enable_dns_support",
                    A::optional(T::Bool, "Amazon DNS server in the VPC.").default(Value::Bool(true)),
                ),
                (
                    "enable_dns_hostnames",
                    A::optional(T::Bool, "DNS hostnames for instances.").default(Value::Bool(false)),
                ),
                (
                    "enable_network_address_usage_metrics",
                    A::optional_computed(T::Bool, "Network Address Usage metrics for the VPC."),
                ),
                ("ipv6_association_id", A::computed(T::String, "The association of its IPv6 range, if any.")),
                ("ipv6_cidr_block", A::computed(T::String, "Its IPv6 range, if any.")),
                ("ipv6_cidr_block_network_border_group", A::computed(T::String, "Where its IPv6 range is advertised.")),
                ("dhcp_options_id", A::computed(T::String, "The DHCP options set.")),
                ("owner_id", A::computed(T::String, "The owning account.")),
                ("main_route_table_id", A::computed(T::String, "The main route table.")),
                ("default_route_table_id", A::computed(T::String, "The default route table.")),
                ("default_security_group_id", A::computed(T::String, "The default security group.")),
                ("default_network_acl_id", A::computed(T::String, "The default network ACL.")),
            ],
        )
    }

    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let ec2 = &ctx.clients.ec2;
        let out = ec2
            .create_vpc()
            .cidr_block(req(planned, "cidr_block")?)
            .instance_tenancy(Tenancy::from(s(planned, "instance_tenancy").unwrap_or("default")))
            .tag_specifications(tags::for_create(Rt::Vpc, planned, &ctx.settings.default_tags, marker))
            .customize()
            .config_override(super::common::once!(aws_sdk_ec2))
            .send()
            .await
            .map_err(|e| api("CreateVpc", e))?;
        let vid = out
            .vpc()
            .and_then(|v| v.vpc_id())
            .ok_or_else(|| ProviderError::new("CreateVpc returned no VPC id"))?
            .to_string();
        ec2.wait_until_vpc_available()
            .vpc_ids(&vid)
            .wait(ctx.settings.max_wait)
            .await
            .map_err(|e| waiter("VpcAvailable", e))?;
        if b(planned, "enable_dns_support") == Some(false) {
            set_dns_attribute(ctx, &vid, VpcAttributeName::EnableDnsSupport, false).await?;
        }
        if b(planned, "enable_dns_hostnames") == Some(true) {
            set_dns_attribute(ctx, &vid, VpcAttributeName::EnableDnsHostnames, true).await?;
        }
        if b(planned, "enable_network_address_usage_metrics") == Some(true) {
            set_dns_attribute(ctx, &vid, VpcAttributeName::EnableNetworkAddressUsageMetrics, true).await?;
        }
        let new_key = obj(vec![("id", Value::String(vid.clone()))]);
        crate::consistency::read_new(ctx, || self.read(ctx, &new_key))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new VPC {vid} could not be read back")))
    }

    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let vid = id(state)?;
        let out = match ctx.clients.ec2.describe_vpcs().vpc_ids(vid).send().await.map_err(|e| api("DescribeVpcs", e)) {
            Ok(o) => o,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        match out.vpcs().first() {
            Some(v) => Ok(Some(to_value(ctx, v).await?)),
            None => Ok(None),
        }
    }

    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        batched(
            states,
            |ids| async move {
                let out = ctx
                    .clients
                    .ec2
                    .describe_vpcs()
                    .set_vpc_ids(Some(ids.clone()))
                    .send()
                    .await
                    .map_err(|e| api("DescribeVpcs", e))?;
                let found = defaults(ctx, &ids).await?;
                let mut m = HashMap::new();
                for v in out.vpcs() {
                    let vid = v.vpc_id().unwrap_or_default().to_string();
                    let d = found.get(&vid).cloned().unwrap_or_default();
                    m.insert(vid, to_value_with(ctx, v, d).await?);
                }
                Ok(m)
            },
            |s| async move { self.read(ctx, &s).await },
        )
        .await
    }

    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let vid = id(prior)?;
        for (attr, name) in [
            (VpcAttributeName::EnableDnsSupport, "enable_dns_support"),
            (VpcAttributeName::EnableDnsHostnames, "enable_dns_hostnames"),
            (VpcAttributeName::EnableNetworkAddressUsageMetrics, "enable_network_address_usage_metrics"),
        ] {
            if let Some(want) = b(planned, name)
                && b(prior, name) != Some(want)
            {
                set_dns_attribute(ctx, vid, attr, want).await?;
            }
        }
        sync_tags(ctx, vid, prior, planned).await?;
        self.read(ctx, prior)
            .await?
            .ok_or_else(|| ProviderError::new(format!("VPC {vid} disappeared during the update")))
    }

    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let vid = id(prior)?.to_string();
        let ec2 = &ctx.clients.ec2;
        // Network interfaces of just-deleted NAT gateways and instances linger for minutes.
        let r = crate::consistency::retry_while(&["DependencyViolation"], Duration::from_secs(600), || async {
            ec2.delete_vpc().vpc_id(&vid).send().await.map_err(|e| api("DeleteVpc", e))
        })
        .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let out = ctx
            .clients
            .ec2
            .describe_vpcs()
            .set_filters(Some(marker_filters(marker)))
            .send()
            .await
            .map_err(|e| api("DescribeVpcs", e))?;
        match out.vpcs().iter().find(|v| carries(v.tags(), marker)) {
            Some(v) => Ok(Some(to_value(ctx, v).await?)),
            None => Ok(None),
        }
    }
}
