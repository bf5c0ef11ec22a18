//! aws_route_table, aws_route and aws_route_table_association

use super::ec2util::{batched, carries, done_already, filter, gone_is_fine, marker_filters, sync_tags};
use crate::error::{api, is_not_found};
use crate::tags;
use crate::values::{id, obj, opt_str, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType as Rt, Route, RouteTable};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::time::Duration;

pub struct AwsRouteTable;
pub struct AwsRoute;
pub struct AwsRouteTableAssociation;

async fn describe(ctx: &Ctx<'_>, rtb: &str) -> Result<Option<RouteTable>, ProviderError> {
    match ctx
        .clients
        .ec2
        .describe_route_tables()
        .route_table_ids(rtb)
        .send()
        .await
        .map_err(|e| api("DescribeRouteTables", e))
    {
        Ok(o) => Ok(o.route_tables().first().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn table_value(ctx: &Ctx<'_>, t: &RouteTable) -> Value {
    let (tags_value, tags_all) = tags::attributes(t.tags(), &ctx.settings.default_tags);
    let tid = t.route_table_id().unwrap_or_default();
    let owner = t.owner_id().unwrap_or_default();
    obj(vec![
        ("id", Value::str(tid)),
        (
            "arn",
            Value::String(format!(
                "arn:{}:ec2:{}:{owner}:route-table/{tid}",
                crate::partition::of_region(&ctx.settings.region).id,
                ctx.settings.region
            )),
        ),
        ("vpc_id", opt_str(t.vpc_id())),
        ("owner_id", opt_str(t.owner_id())),
        ("route", Value::List(t.routes().iter().filter_map(inline_route).collect())),
        (
            "propagating_vgws",
            Value::List(t.propagating_vgws().iter().filter_map(|g| g.gateway_id()).map(Value::str).collect()),
        ),
        ("tags", tags_value),
        ("tags_all", tags_all),
    ])
}

/// A route as Terraform's provider lists it in a table's `route`: every one
/// but the local route and those propagated from a virtual private gateway.
fn inline_route(r: &Route) -> Option<Value> {
    let origin = r.origin().map(|o| o.as_str());
    if r.gateway_id() == Some("local") || origin == Some("EnableVgwRoutePropagation") {
        return None;
    }
    // A gateway endpoint's id is its own attribute.
    let (gateway, endpoint) = match r.gateway_id() {
        Some(g) if g.starts_with("vpce-") => (None, Some(g)),
        g => (g, None),
    };
    Some(obj(vec![
        ("carrier_gateway_id", opt_str(r.carrier_gateway_id())),
        ("cidr_block", opt_str(r.destination_cidr_block())),
        ("core_network_arn", opt_str(r.core_network_arn())),
        ("destination_prefix_list_id", opt_str(r.destination_prefix_list_id())),
        ("egress_only_gateway_id", opt_str(r.egress_only_internet_gateway_id())),
        ("gateway_id", opt_str(gateway)),
        ("ipv6_cidr_block", opt_str(r.destination_ipv6_cidr_block())),
        ("local_gateway_id", opt_str(r.local_gateway_id())),
        ("nat_gateway_id", opt_str(r.nat_gateway_id())),
        ("network_interface_id", opt_str(r.network_interface_id())),
        ("transit_gateway_id", opt_str(r.transit_gateway_id())),
        ("vpc_endpoint_id", opt_str(endpoint)),
        ("vpc_peering_connection_id", opt_str(r.vpc_peering_connection_id())),
    ]))
}

/// The type of `route`: a set of route objects, an attribute in Terraform's schema.
fn route_set() -> T {
    let fields = [
        "carrier_gateway_id",
        "cidr_block",
        "core_network_arn",
        "destination_prefix_list_id",
        "egress_only_gateway_id",
        "gateway_id",
        "ipv6_cidr_block",
        "local_gateway_id",
        "nat_gateway_id",
        "network_interface_id",
        "transit_gateway_id",
        "vpc_endpoint_id",
        "vpc_peering_connection_id",
    ];
    T::Set(Box::new(T::Object(fields.iter().map(|f| (f.to_string(), (T::String, true))).collect())))
}

#[async_trait]
impl ResourceType for AwsRouteTable {
    fn name(&self) -> &'static str {
        "aws_route_table"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A route table; its routes are aws_route resources.",
            [
                ("id", A::computed(T::String, "The route table's id.")),
                ("arn", A::computed(T::String, "The route table's ARN.")),
                ("vpc_id", A::required(T::String, "The VPC.").force_new()),
                ("owner_id", A::computed(T::String, "The owning account.")),
                (
                    "route",
                    A::computed(route_set(), "Its routes (aws_route resources'), but the local and propagated ones.")
                        .list_attribute(),
                ),
                (
                    "propagating_vgws",
                    A::computed(super::common::string_set(), "Virtual private gateways propagating routes."),
                ),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let out = ctx
            .clients
            .ec2
            .create_route_table()
            .vpc_id(req(planned, "vpc_id")?)
            .tag_specifications(tags::for_create(Rt::RouteTable, planned, &ctx.settings.default_tags, marker))
            .customize()
            .config_override(super::common::once!(aws_sdk_ec2))
            .send()
            .await
            .map_err(|e| api("CreateRouteTable", e))?;
        let t = out.route_table().ok_or_else(|| ProviderError::new("CreateRouteTable returned no table"))?;
        Ok(table_value(ctx, t))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(describe(ctx, id(state)?).await?.map(|t| table_value(ctx, &t)))
    }
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        batched(
            states,
            |ids| async move {
                let o = ctx
                    .clients
                    .ec2
                    .describe_route_tables()
                    .set_route_table_ids(Some(ids))
                    .send()
                    .await
                    .map_err(|e| api("DescribeRouteTables", e))?;
                Ok(o.route_tables()
                    .iter()
                    .map(|x| (x.route_table_id().unwrap_or_default().to_string(), table_value(ctx, x)))
                    .collect())
            },
            |s| async move { self.read(ctx, &s).await },
        )
        .await
    }

    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let tid = id(prior)?;
        sync_tags(ctx, tid, prior, planned).await?;
        self.read(ctx, prior)
            .await?
            .ok_or_else(|| ProviderError::new(format!("route table {tid} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let tid = id(prior)?.to_string();
        let ec2 = &ctx.clients.ec2;
        let r = crate::consistency::retry_while(&["DependencyViolation"], Duration::from_secs(300), || async {
            ec2.delete_route_table().route_table_id(&tid).send().await.map_err(|e| api("DeleteRouteTable", e))
        })
        .await;
        gone_is_fine(r)
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let o = ctx
            .clients
            .ec2
            .describe_route_tables()
            .set_filters(Some(marker_filters(marker)))
            .send()
            .await
            .map_err(|e| api("DescribeRouteTables", e))?;
        Ok(o.route_tables().iter().find(|t| carries(t.tags(), marker)).map(|t| table_value(ctx, t)))
    }
}

/// Terraform's aws_route id: `r-` + table id + CRC-32 of the destination.
fn route_id(rtb: &str, destination: &str) -> String {
    format!("r-{rtb}{}", crc32fast::hash(destination.as_bytes()))
}

fn route_value(rtb: &str, r: &Route) -> Value {
    let dest = r.destination_cidr_block().unwrap_or_default();
    // AWS reports the local route's gateway as "local"; NAT gateways have their own field.
    obj(vec![
        ("id", Value::String(route_id(rtb, dest))),
        ("route_table_id", Value::str(rtb)),
        ("destination_cidr_block", Value::str(dest)),
        ("gateway_id", opt_str(r.gateway_id())),
        ("nat_gateway_id", opt_str(r.nat_gateway_id())),
        ("network_interface_id", opt_str(r.network_interface_id())),
        ("instance_id", opt_str(r.instance_id())),
        ("instance_owner_id", opt_str(r.instance_owner_id())),
        ("vpc_peering_connection_id", opt_str(r.vpc_peering_connection_id())),
        ("origin", opt_str(r.origin().map(|o| o.as_str()))),
        ("state", opt_str(r.state().map(|o| o.as_str()))),
    ])
}

#[async_trait]
impl ResourceType for AwsRoute {
    fn name(&self) -> &'static str {
        "aws_route"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "One route of a route table. Import id: ROUTE_TABLE_ID_DESTINATION.",
            [
                ("id", A::computed(T::String, "r-<table><crc32 of destination>.")),
                ("route_table_id", A::required(T::String, "The route table.").force_new()),
                ("destination_cidr_block", A::required(T::String, "The IPv4 destination.").force_new()),
                ("gateway_id", A::optional(T::String, "An internet or virtual private gateway.")),
                ("nat_gateway_id", A::optional(T::String, "A NAT gateway.")),
                ("network_interface_id", A::optional_computed(T::String, "A network interface.")),
                ("instance_id", A::computed(T::String, "The instance behind the network interface, if any.")),
                ("instance_owner_id", A::computed(T::String, "That instance's account.")),
                ("vpc_peering_connection_id", A::optional(T::String, "A VPC peering connection.")),
                ("origin", A::computed(T::String, "How the route was created.")),
                ("state", A::computed(T::String, "active or blackhole.")),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, _: &Marker) -> Result<Value, ProviderError> {
        let (rtb, dest) = (req(planned, "route_table_id")?, req(planned, "destination_cidr_block")?);
        let made = ctx
            .clients
            .ec2
            .create_route()
            .route_table_id(rtb)
            .destination_cidr_block(dest)
            .set_gateway_id(s(planned, "gateway_id").map(String::from))
            .set_nat_gateway_id(s(planned, "nat_gateway_id").map(String::from))
            .set_network_interface_id(s(planned, "network_interface_id").map(String::from))
            .set_vpc_peering_connection_id(s(planned, "vpc_peering_connection_id").map(String::from))
            .send()
            .await
            .map_err(|e| api("CreateRoute", e));
        let made = done_already(made, &["RouteAlreadyExists"])?.is_some();
        let route = self
            .read(ctx, &obj(vec![("route_table_id", Value::str(rtb)), ("destination_cidr_block", Value::str(dest))]))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new route to {dest} in {rtb} could not be read back")))?;
        // The route existed: an SDK retry of this call made it if it goes where
        // this one was to go; otherwise it is someone else's.
        let same_target = ["gateway_id", "nat_gateway_id", "network_interface_id", "vpc_peering_connection_id"]
            .iter()
            .all(|k| s(planned, k).is_none() || s(planned, k) == s(&route, k));
        if !made && !same_target {
            return Err(ProviderError::api(
                "CreateRoute",
                Some("RouteAlreadyExists"),
                format!("{rtb} already has a route to {dest} with another target: import it or remove it"),
            ));
        }
        Ok(route)
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let (rtb, dest) = (req(state, "route_table_id")?, req(state, "destination_cidr_block")?);
        let Some(t) = describe(ctx, rtb).await? else { return Ok(None) };
        Ok(t.routes().iter().find(|r| r.destination_cidr_block() == Some(dest)).map(|r| route_value(rtb, r)))
    }
    /// One DescribeRouteTables call for the routes of every table.
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        let mut tables: Vec<String> =
            states.iter().filter_map(|s| s.get("route_table_id").and_then(Value::as_str).map(String::from)).collect();
        tables.sort();
        tables.dedup();
        match ctx
            .clients
            .ec2
            .describe_route_tables()
            .set_route_table_ids(Some(tables))
            .send()
            .await
            .map_err(|e| api("DescribeRouteTables", e))
        {
            Ok(o) => states
                .iter()
                .map(|st| {
                    let (rtb, dest) = (req(st, "route_table_id")?, req(st, "destination_cidr_block")?);
                    Ok(o.route_tables()
                        .iter()
                        .find(|t| t.route_table_id() == Some(rtb))
                        .and_then(|t| t.routes().iter().find(|r| r.destination_cidr_block() == Some(dest)))
                        .map(|r| route_value(rtb, r)))
                })
                .collect(),
            Err(_) => {
                let mut out = Vec::new();
                for st in states {
                    out.push(self.read(ctx, st).await);
                }
                out
            }
        }
    }

    async fn update(&self, ctx: &Ctx<'_>, _prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let (rtb, dest) = (req(planned, "route_table_id")?, req(planned, "destination_cidr_block")?);
        ctx.clients
            .ec2
            .replace_route()
            .route_table_id(rtb)
            .destination_cidr_block(dest)
            .set_gateway_id(s(planned, "gateway_id").map(String::from))
            .set_nat_gateway_id(s(planned, "nat_gateway_id").map(String::from))
            .set_network_interface_id(s(planned, "network_interface_id").map(String::from))
            .set_vpc_peering_connection_id(s(planned, "vpc_peering_connection_id").map(String::from))
            .send()
            .await
            .map_err(|e| api("ReplaceRoute", e))?;
        self.read(ctx, planned)
            .await?
            .ok_or_else(|| ProviderError::new(format!("the route to {dest} in {rtb} disappeared")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let (rtb, dest) = (req(prior, "route_table_id")?, req(prior, "destination_cidr_block")?);
        gone_is_fine(
            ctx.clients
                .ec2
                .delete_route()
                .route_table_id(rtb)
                .destination_cidr_block(dest)
                .send()
                .await
                .map_err(|e| api("DeleteRoute", e)),
        )
    }
    async fn import(&self, ctx: &Ctx<'_>, import_id: &str) -> Result<Option<Value>, ProviderError> {
        let (rtb, dest) = import_id.split_once('_').ok_or_else(|| {
            ProviderError::new("an aws_route import id is ROUTE_TABLE_ID_DESTINATION, e.g. rtb-0abc_0.0.0.0/0")
        })?;
        self.read(ctx, &obj(vec![("route_table_id", Value::str(rtb)), ("destination_cidr_block", Value::str(dest))]))
            .await
    }
}

fn association_value(a: &aws_sdk_ec2::types::RouteTableAssociation) -> Value {
    obj(vec![
        ("id", opt_str(a.route_table_association_id())),
        ("route_table_id", opt_str(a.route_table_id())),
        ("subnet_id", opt_str(a.subnet_id())),
        ("gateway_id", opt_str(a.gateway_id())),
    ])
}

/// The association a route table filter names, e.g. by subnet or by id.
async fn association_where(
    ctx: &Ctx<'_>,
    filter_name: &str,
    value: &str,
    is_it: impl Fn(&aws_sdk_ec2::types::RouteTableAssociation) -> bool,
) -> Result<Option<Value>, ProviderError> {
    let o = ctx
        .clients
        .ec2
        .describe_route_tables()
        .filters(filter(filter_name, &[value]))
        .send()
        .await
        .map_err(|e| api("DescribeRouteTables", e))?;
    Ok(o.route_tables().iter().flat_map(|t| t.associations()).find(|a| is_it(a)).map(association_value))
}

async fn association_of_subnet(ctx: &Ctx<'_>, subnet: &str) -> Result<Option<Value>, ProviderError> {
    association_where(ctx, "association.subnet-id", subnet, |a| a.subnet_id() == Some(subnet)).await
}

async fn find_association(ctx: &Ctx<'_>, assoc: &str) -> Result<Option<Value>, ProviderError> {
    association_where(ctx, "association.route-table-association-id", assoc, |a| {
        a.route_table_association_id() == Some(assoc)
    })
    .await
}

#[async_trait]
impl ResourceType for AwsRouteTableAssociation {
    fn name(&self) -> &'static str {
        "aws_route_table_association"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "Associates a subnet (or gateway) with a route table. Import id: SUBNET_ID/ROUTE_TABLE_ID.",
            [
                ("id", A::computed(T::String, "The association's id.")),
                ("route_table_id", A::required(T::String, "The route table.")),
                ("subnet_id", A::optional(T::String, "The subnet.").force_new()),
                ("gateway_id", A::optional(T::String, "The gateway.").force_new()),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, _: &Marker) -> Result<Value, ProviderError> {
        let out = ctx
            .clients
            .ec2
            .associate_route_table()
            .route_table_id(req(planned, "route_table_id")?)
            .set_subnet_id(s(planned, "subnet_id").map(String::from))
            .set_gateway_id(s(planned, "gateway_id").map(String::from))
            .send()
            .await
            .map_err(|e| api("AssociateRouteTable", e));
        let rtb = req(planned, "route_table_id")?;
        let Some(out) = done_already(out, &["Resource.AlreadyAssociated"])? else {
            // Associated already: an SDK retry of this call did it if it is with this table.
            let subnet = s(planned, "subnet_id").unwrap_or_default();
            return match association_of_subnet(ctx, subnet).await? {
                Some(a) if s(&a, "route_table_id") == Some(rtb) => Ok(a),
                _ => Err(ProviderError::api(
                    "AssociateRouteTable",
                    Some("Resource.AlreadyAssociated"),
                    format!("{subnet} is associated with another route table: import the association or remove it"),
                )),
            };
        };
        let assoc = out.association_id().ok_or_else(|| ProviderError::new("AssociateRouteTable returned no id"))?;
        find_association(ctx, assoc)
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new association {assoc} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        find_association(ctx, id(state)?).await
    }
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        let ids: Vec<String> =
            states.iter().filter_map(|s| s.get("id").and_then(Value::as_str).map(String::from)).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let o = match ctx
            .clients
            .ec2
            .describe_route_tables()
            .filters(filter("association.route-table-association-id", &refs))
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => {
                let e = api("DescribeRouteTables", e);
                return states.iter().map(|_| Err(e.clone())).collect();
            }
        };
        states
            .iter()
            .map(|st| {
                let assoc = id(st)?;
                Ok(o.route_tables()
                    .iter()
                    .flat_map(|t| t.associations())
                    .find(|a| a.route_table_association_id() == Some(assoc))
                    .map(association_value))
            })
            .collect()
    }

    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let out = ctx
            .clients
            .ec2
            .replace_route_table_association()
            .association_id(id(prior)?)
            .route_table_id(req(planned, "route_table_id")?)
            .send()
            .await
            .map_err(|e| api("ReplaceRouteTableAssociation", e))?;
        let assoc = out
            .new_association_id()
            .ok_or_else(|| ProviderError::new("ReplaceRouteTableAssociation returned no id"))?;
        find_association(ctx, assoc)
            .await?
            .ok_or_else(|| ProviderError::new(format!("association {assoc} could not be read back")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        gone_is_fine(
            ctx.clients
                .ec2
                .disassociate_route_table()
                .association_id(id(prior)?)
                .send()
                .await
                .map_err(|e| api("DisassociateRouteTable", e)),
        )
    }
    async fn import(&self, ctx: &Ctx<'_>, import_id: &str) -> Result<Option<Value>, ProviderError> {
        let (subnet, rtb) = import_id
            .split_once('/')
            .ok_or_else(|| ProviderError::new("an association import id is SUBNET_ID/ROUTE_TABLE_ID"))?;
        let Some(t) = describe(ctx, rtb).await? else { return Ok(None) };
        Ok(t.associations()
            .iter()
            .find(|a| a.subnet_id() == Some(subnet) || a.gateway_id() == Some(subnet))
            .map(association_value))
    }
}
