//! The aws provider's data sources.

mod policy_document;

use crate::error::api;
use crate::resources::ec2util::filter;
use crate::values::{b, obj, opt_str, req, s, strings};
use crate::{Ctx, DataSource};
use async_trait::async_trait;
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;

pub fn all() -> Vec<Box<dyn DataSource>> {
    vec![
        Box::new(AvailabilityZones),
        Box::new(Region),
        Box::new(Partition),
        Box::new(CallerIdentity),
        Box::new(SsmParameter),
        Box::new(Ami),
        Box::new(policy_document::PolicyDocument),
    ]
}

fn list(items: Vec<String>) -> Value {
    Value::List(items.into_iter().map(Value::String).collect())
}

pub struct AvailabilityZones;

#[async_trait]
impl DataSource for AvailabilityZones {
    fn name(&self) -> &'static str {
        "aws_availability_zones"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "The region's availability zones.",
            [
                ("id", A::computed(T::String, "The region.")),
                ("state", A::optional(T::String, "available, information, impaired or unavailable.")),
                ("names", A::computed(T::List(Box::new(T::String)), "Zone names, sorted.")),
                ("zone_ids", A::computed(T::List(Box::new(T::String)), "Zone ids, in the order of names.")),
            ],
        )
    }
    async fn read(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Value, ProviderError> {
        let mut req = ctx.clients.ec2.describe_availability_zones();
        if let Some(state) = s(config, "state") {
            req = req.filters(filter("state", &[state]));
        }
        let out = req.send().await.map_err(|e| api("DescribeAvailabilityZones", e))?;
        let mut zones: Vec<(String, String)> = out
            .availability_zones()
            .iter()
            .filter(|z| z.zone_type().is_none_or(|t| t == "availability-zone"))
            .map(|z| (z.zone_name().unwrap_or_default().to_string(), z.zone_id().unwrap_or_default().to_string()))
            .collect();
        zones.sort();
        Ok(obj(vec![
            ("id", Value::String(ctx.settings.region.clone())),
            ("state", opt_str(s(config, "state"))),
            ("names", list(zones.iter().map(|z| z.0.clone()).collect())),
            ("zone_ids", list(zones.iter().map(|z| z.1.clone()).collect())),
        ]))
    }
}

pub struct Region;

#[async_trait]
impl DataSource for Region {
    fn name(&self) -> &'static str {
        "aws_region"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "The provider's region.",
            [
                ("id", A::computed(T::String, "The region.")),
                ("name", A::computed(T::String, "The region, e.g. us-east-1.")),
                ("region", A::computed(T::String, "The region.")),
                ("endpoint", A::computed(T::String, "The EC2 endpoint host.")),
            ],
        )
    }
    async fn read(&self, ctx: &Ctx<'_>, _: &Value) -> Result<Value, ProviderError> {
        let r = Value::String(ctx.settings.region.clone());
        Ok(obj(vec![
            ("id", r.clone()),
            ("name", r.clone()),
            ("region", r),
            (
                "endpoint",
                Value::String(format!(
                    "ec2.{}.{}",
                    ctx.settings.region,
                    crate::partition::of_region(&ctx.settings.region).dns_suffix
                )),
            ),
        ]))
    }
}

pub struct Partition;

#[async_trait]
impl DataSource for Partition {
    fn name(&self) -> &'static str {
        "aws_partition"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "The partition of the provider's region: what ARNs and service principals are written with.",
            [
                ("id", A::computed(T::String, "The partition.")),
                ("partition", A::computed(T::String, "aws, aws-cn, aws-us-gov, ...")),
                ("dns_suffix", A::computed(T::String, "amazonaws.com, amazonaws.com.cn, ...")),
                ("reverse_dns_prefix", A::computed(T::String, "com.amazonaws, cn.com.amazonaws, ...")),
            ],
        )
    }
    async fn read(&self, ctx: &Ctx<'_>, _: &Value) -> Result<Value, ProviderError> {
        let p = crate::partition::of_region(&ctx.settings.region);
        Ok(obj(vec![
            ("id", Value::str(p.id)),
            ("partition", Value::str(p.id)),
            ("dns_suffix", Value::str(p.dns_suffix)),
            ("reverse_dns_prefix", Value::str(p.reverse_dns_prefix)),
        ]))
    }
}

pub struct CallerIdentity;

#[async_trait]
impl DataSource for CallerIdentity {
    fn name(&self) -> &'static str {
        "aws_caller_identity"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "Who the credentials belong to.",
            [
                ("id", A::computed(T::String, "The account id.")),
                ("account_id", A::computed(T::String, "The account id.")),
                ("arn", A::computed(T::String, "The caller's ARN.")),
                ("user_id", A::computed(T::String, "The caller's unique id.")),
            ],
        )
    }
    async fn read(&self, ctx: &Ctx<'_>, _: &Value) -> Result<Value, ProviderError> {
        let out = ctx.clients.sts.get_caller_identity().send().await.map_err(|e| api("GetCallerIdentity", e))?;
        Ok(obj(vec![
            ("id", opt_str(out.account())),
            ("account_id", opt_str(out.account())),
            ("arn", opt_str(out.arn())),
            ("user_id", opt_str(out.user_id())),
        ]))
    }
}

pub struct SsmParameter;

#[async_trait]
impl DataSource for SsmParameter {
    fn name(&self) -> &'static str {
        "aws_ssm_parameter"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A Systems Manager parameter, e.g. the ECS-optimized AMI's id.",
            [
                ("id", A::computed(T::String, "The parameter's name.")),
                ("name", A::required(T::String, "The parameter's name or ARN.")),
                ("with_decryption", A::optional(T::Bool, "Decrypt SecureString values.").default(Value::Bool(true))),
                ("value", A::computed(T::String, "The value.").sensitive()),
                ("insecure_value", A::computed(T::String, "The value, when it is not a SecureString.")),
                ("type", A::computed(T::String, "String, StringList or SecureString.")),
                ("version", A::computed(T::Number, "The version.")),
                ("arn", A::computed(T::String, "The parameter's ARN.")),
            ],
        )
    }
    async fn read(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Value, ProviderError> {
        let name = req(config, "name")?;
        let out = ctx
            .clients
            .ssm
            .get_parameter()
            .name(name)
            .with_decryption(b(config, "with_decryption").unwrap_or(true))
            .send()
            .await
            .map_err(|e| api("GetParameter", e))?;
        let p =
            out.parameter().ok_or_else(|| ProviderError::new(format!("GetParameter returned nothing for {name}")))?;
        let secure = p.r#type().is_some_and(|t| t.as_str() == "SecureString");
        Ok(obj(vec![
            ("id", opt_str(p.name())),
            ("name", opt_str(p.name())),
            ("with_decryption", Value::Bool(b(config, "with_decryption").unwrap_or(true))),
            ("value", opt_str(p.value())),
            ("insecure_value", if secure { Value::Null } else { opt_str(p.value()) }),
            ("type", opt_str(p.r#type().map(|t| t.as_str()))),
            ("version", Value::Number(p.version() as f64)),
            ("arn", opt_str(p.arn())),
        ]))
    }
}

pub struct Ami;

#[async_trait]
impl DataSource for Ami {
    fn name(&self) -> &'static str {
        "aws_ami"
    }
    fn schema(&self) -> ResourceSchema {
        // A set of filter blocks, each with a set of values, as in Terraform's provider.
        let filter_type = T::Set(Box::new(T::Object(
            [("name".to_string(), (T::String, false)), ("values".to_string(), (T::Set(Box::new(T::String)), false))]
                .into_iter()
                .collect(),
        )));
        ResourceSchema::new(
            "An AMI found by owners, filters and name pattern.",
            [
                ("id", A::computed(T::String, "The AMI's id.")),
                ("owners", A::optional(T::List(Box::new(T::String)), "Account ids or aliases (amazon, self).")),
                (
                    "most_recent",
                    A::optional(T::Bool, "Take the newest when several match.").default(Value::Bool(false)),
                ),
                ("filter", A::optional(filter_type, "DescribeImages filters: [{name, values}].")),
                ("name_regex", A::optional(T::String, "A pattern the name must match.")),
                ("image_id", A::computed(T::String, "The AMI's id.")),
                ("name", A::computed(T::String, "The AMI's name.")),
                ("architecture", A::computed(T::String, "x86_64 or arm64.")),
                ("creation_date", A::computed(T::String, "When it was made.")),
                ("owner_id", A::computed(T::String, "The owning account.")),
                ("root_device_name", A::computed(T::String, "The root device.")),
            ],
        )
    }
    async fn read(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Value, ProviderError> {
        let mut req =
            ctx.clients.ec2.describe_images().set_owners(Some(strings(config, "owners")).filter(|o| !o.is_empty()));
        if let Some(Value::List(filters)) = config.get("filter") {
            for f in filters {
                let values = strings(f, "values");
                let refs: Vec<&str> = values.iter().map(String::as_str).collect();
                req = req.filters(filter(s(f, "name").unwrap_or_default(), &refs));
            }
        }
        let out = req.send().await.map_err(|e| api("DescribeImages", e))?;
        let pattern = match s(config, "name_regex") {
            Some(p) => Some(regex::Regex::new(p).map_err(|e| ProviderError::new(format!("name_regex: {e}")))?),
            None => None,
        };
        let mut images: Vec<_> = out
            .images()
            .iter()
            .filter(|i| pattern.as_ref().is_none_or(|p| p.is_match(i.name().unwrap_or_default())))
            .collect();
        images.sort_by(|a, b| a.creation_date().cmp(&b.creation_date()));
        let image = match (images.len(), b(config, "most_recent").unwrap_or(false)) {
            (0, _) => {
                return Err(ProviderError::new(
                    "Your query returned no results. Please change your search criteria and try again.",
                ));
            }
            (1, _) | (_, true) => images[images.len() - 1],
            (n, false) => {
                return Err(ProviderError::new(format!(
                    "Your query returned {n} results. Set most_recent = true, or narrow the search."
                )));
            }
        };
        Ok(obj(vec![
            ("id", opt_str(image.image_id())),
            ("owners", config.get("owners").cloned().unwrap_or(Value::Null)),
            ("most_recent", Value::Bool(b(config, "most_recent").unwrap_or(false))),
            ("filter", config.get("filter").cloned().unwrap_or(Value::Null)),
            ("name_regex", opt_str(s(config, "name_regex"))),
            ("image_id", opt_str(image.image_id())),
            ("name", opt_str(image.name())),
            ("architecture", opt_str(image.architecture().map(|a| a.as_str()))),
            ("creation_date", opt_str(image.creation_date())),
            ("owner_id", opt_str(image.owner_id())),
            ("root_device_name", opt_str(image.root_device_name())),
        ]))
    }
}
