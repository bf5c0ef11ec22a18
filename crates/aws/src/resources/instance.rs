//! aws_key_pair and aws_instance

use super::ec2util::{batched, carries, gone_is_fine, marker_filters, sync_tags, waiter};
use crate::error::{api, is_not_found};
use crate::tags;
use crate::values::{id, obj, opt_str, req, s, strings};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{
    AttributeValue, IamInstanceProfileSpecification, Instance, InstanceStateName, InstanceType, KeyPairInfo,
    ResourceType as Rt,
};
use base64::Engine;
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::collections::HashMap;

pub struct AwsKeyPair;
pub struct AwsInstance;

fn key_value(ctx: &Ctx<'_>, k: &KeyPairInfo, public_key: Option<&Value>) -> Value {
    let (tags_value, tags_all) = tags::attributes(k.tags(), &ctx.settings.default_tags);
    let name = k.key_name().unwrap_or_default();
    obj(vec![
        ("id", Value::str(name)),
        ("key_name", Value::str(name)),
        ("key_name_prefix", super::common::prefix_of(Some(name))),
        ("key_pair_id", opt_str(k.key_pair_id())),
        (
            "arn",
            Value::String(format!(
                "arn:{}:ec2:{}::key-pair/{name}",
                crate::partition::of_region(&ctx.settings.region).id,
                ctx.settings.region
            )),
        ),
        ("fingerprint", opt_str(k.key_fingerprint())),
        ("key_type", opt_str(k.key_type().map(|t| t.as_str()))),
        // What was sent, when known (AWS may normalise the comment); else what AWS returns.
        (
            "public_key",
            public_key
                .filter(|v| !v.is_null())
                .cloned()
                .or_else(|| k.public_key().map(|p| Value::str(p.trim())))
                .unwrap_or(Value::Null),
        ),
        ("tags", tags_value),
        ("tags_all", tags_all),
    ])
}

async fn describe_key(ctx: &Ctx<'_>, name: &str) -> Result<Option<KeyPairInfo>, ProviderError> {
    match ctx
        .clients
        .ec2
        .describe_key_pairs()
        .key_names(name)
        .include_public_key(true)
        .send()
        .await
        .map_err(|e| api("DescribeKeyPairs", e))
    {
        Ok(o) => Ok(o.key_pairs().first().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl ResourceType for AwsKeyPair {
    fn name(&self) -> &'static str {
        "aws_key_pair"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An SSH public key registered with EC2. Import id: the key name.",
            [
                ("id", A::computed(T::String, "The key name.")),
                ("key_name", A::optional_computed(T::String, "The key's name; generated when left out.").force_new()),
                ("key_name_prefix", super::common::name_prefix_schema()),
                ("public_key", A::required(T::String, "The public key, OpenSSH format.").force_new()),
                ("key_pair_id", A::computed(T::String, "The key pair's id.")),
                ("arn", A::computed(T::String, "The key pair's ARN.")),
                ("fingerprint", A::computed(T::String, "The key's fingerprint.")),
                ("key_type", A::computed(T::String, "rsa or ed25519.")),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let name = &super::common::name_for_create(planned, "key_name", marker);
        ctx.clients
            .ec2
            .import_key_pair()
            .key_name(name)
            .public_key_material(Blob::new(req(planned, "public_key")?.as_bytes()))
            .tag_specifications(tags::for_create(Rt::KeyPair, planned, &ctx.settings.default_tags, marker))
            .send()
            .await
            .map_err(|e| api("ImportKeyPair", e))?;
        let k = crate::consistency::read_new(ctx, || describe_key(ctx, name))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new key pair {name} could not be read back")))?;
        Ok(key_value(ctx, &k, planned.get("public_key")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(describe_key(ctx, id(state)?).await?.map(|k| key_value(ctx, &k, state.get("public_key"))))
    }
    fn name_attribute(&self) -> &'static str {
        "key_name"
    }
    /// Key pairs are keyed by name: a retried ImportKeyPair meets "Duplicate"
    /// on the key the first try made, found here by name and marker.
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let Some(name) = &marker.name else { return Ok(None) };
        Ok(describe_key(ctx, name).await?.filter(|k| carries(k.tags(), marker)).map(|k| key_value(ctx, &k, None)))
    }
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        let public: HashMap<String, Value> = states
            .iter()
            .filter_map(|s| {
                Some((s.get("id")?.as_str()?.to_string(), s.get("public_key").cloned().unwrap_or_default()))
            })
            .collect();
        let public = &public;
        batched(
            states,
            |ids| async move {
                let o = ctx
                    .clients
                    .ec2
                    .describe_key_pairs()
                    .set_key_names(Some(ids))
                    .include_public_key(true)
                    .send()
                    .await
                    .map_err(|e| api("DescribeKeyPairs", e))?;
                Ok(o.key_pairs()
                    .iter()
                    .map(|k| {
                        let name = k.key_name().unwrap_or_default().to_string();
                        let v = key_value(ctx, k, public.get(&name));
                        (name, v)
                    })
                    .collect())
            },
            |s| async move { self.read(ctx, &s).await },
        )
        .await
    }

    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let name = id(prior)?;
        let k =
            describe_key(ctx, name).await?.ok_or_else(|| ProviderError::new(format!("key pair {name} disappeared")))?;
        let kid = k.key_pair_id().unwrap_or(name);
        sync_tags(ctx, kid, prior, planned).await?;
        self.read(ctx, prior)
            .await?
            .ok_or_else(|| ProviderError::new(format!("key pair {name} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        gone_is_fine(
            ctx.clients.ec2.delete_key_pair().key_name(id(prior)?).send().await.map_err(|e| api("DeleteKeyPair", e)),
        )
    }
}

fn instance_value(ctx: &Ctx<'_>, i: &Instance, user_data: Option<&Value>) -> Value {
    let (tags_value, tags_all) = tags::attributes(i.tags(), &ctx.settings.default_tags);
    let iid = i.instance_id().unwrap_or_default();
    let mut groups: Vec<String> = i.security_groups().iter().filter_map(|g| g.group_id().map(String::from)).collect();
    groups.sort();
    let profile =
        i.iam_instance_profile().and_then(|p| p.arn()).and_then(|arn| arn.rsplit('/').next()).map(String::from);
    obj(vec![
        ("id", Value::str(iid)),
        (
            "arn",
            Value::String(format!(
                "arn:{}:ec2:{}:{}:instance/{iid}",
                crate::partition::of_region(&ctx.settings.region).id,
                ctx.settings.region,
                i.network_interfaces().first().and_then(|n| n.owner_id()).unwrap_or_default()
            )),
        ),
        ("ami", opt_str(i.image_id())),
        ("instance_type", opt_str(i.instance_type().map(|t| t.as_str()))),
        ("subnet_id", opt_str(i.subnet_id())),
        ("vpc_security_group_ids", Value::List(groups.into_iter().map(Value::String).collect())),
        ("key_name", opt_str(i.key_name())),
        ("iam_instance_profile", opt_str(profile.as_deref())),
        ("associate_public_ip_address", Value::Bool(i.public_ip_address().is_some())),
        // EC2 returns user data only through another call; state keeps what was sent.
        ("user_data", user_data.cloned().unwrap_or(Value::Null)),
        ("availability_zone", opt_str(i.placement().and_then(|p| p.availability_zone()))),
        ("private_ip", opt_str(i.private_ip_address())),
        ("public_ip", opt_str(i.public_ip_address())),
        ("public_dns", opt_str(i.public_dns_name())),
        (
            "primary_network_interface_id",
            opt_str(i.network_interfaces().first().and_then(|n| n.network_interface_id())),
        ),
        ("instance_state", opt_str(i.state().and_then(|s| s.name()).map(|n| n.as_str()))),
        ("tags", tags_value),
        ("tags_all", tags_all),
    ])
}

async fn describe_instance(ctx: &Ctx<'_>, iid: &str) -> Result<Option<Instance>, ProviderError> {
    match ctx.clients.ec2.describe_instances().instance_ids(iid).send().await.map_err(|e| api("DescribeInstances", e)) {
        Ok(o) => Ok(o
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| {
                !matches!(
                    i.state().and_then(|s| s.name()),
                    Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)
                )
            })
            .cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl ResourceType for AwsInstance {
    fn name(&self) -> &'static str {
        "aws_instance"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An EC2 instance; ecspoc waits until it runs, and until it is terminated.",
            [
                ("id", A::computed(T::String, "The instance's id.")),
                ("arn", A::computed(T::String, "The instance's ARN.")),
                ("ami", A::required(T::String, "The image.").force_new()),
                ("instance_type", A::required(T::String, "e.g. t3.micro; a change stops and starts the instance.")),
                ("subnet_id", A::optional_computed(T::String, "The subnet.").force_new()),
                ("vpc_security_group_ids", A::optional_computed(super::common::string_set(), "Security groups.")),
                ("key_name", A::optional(T::String, "An EC2 key pair.").force_new()),
                ("iam_instance_profile", A::optional(T::String, "An instance profile name.")),
                ("associate_public_ip_address", A::optional_computed(T::Bool, "Give it a public address.").force_new()),
                ("user_data", A::optional(T::String, "Boot script, as text.").force_new()),
                ("availability_zone", A::computed(T::String, "Its zone.")),
                ("private_ip", A::computed(T::String, "Its private address.")),
                ("public_ip", A::computed(T::String, "Its public address, if any.")),
                ("public_dns", A::computed(T::String, "Its public DNS name, if any.")),
                ("primary_network_interface_id", A::computed(T::String, "Its network interface.")),
                ("instance_state", A::computed(T::String, "pending, running, stopped...")),
            ],
        )
    }
    fn normalize(&self, planned: &mut Value) {
        if let Value::Map(m) = planned
            && let Some(Value::List(ids)) = m.get_mut("vpc_security_group_ids")
            && ids.iter().all(Value::is_wholly_known)
        {
            ids.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let ec2 = &ctx.clients.ec2;
        let groups = strings(planned, "vpc_security_group_ids");
        let mut run = ec2
            .run_instances()
            .image_id(req(planned, "ami")?)
            .instance_type(InstanceType::from(req(planned, "instance_type")?))
            .min_count(1)
            .max_count(1)
            .client_token(super::common::client_token(marker))
            .set_key_name(s(planned, "key_name").map(String::from))
            .set_user_data(s(planned, "user_data").map(|u| base64::engine::general_purpose::STANDARD.encode(u)))
            .tag_specifications(tags::for_create(Rt::Instance, planned, &ctx.settings.default_tags, marker));
        if let Some(p) = s(planned, "iam_instance_profile") {
            run = run.iam_instance_profile(IamInstanceProfileSpecification::builder().name(p).build());
        }
        // A public address is asked for on the primary interface, which then
        // carries the subnet and groups too.
        match planned.get("associate_public_ip_address").and_then(Value::as_bool) {
            Some(public) => {
                let nic = aws_sdk_ec2::types::InstanceNetworkInterfaceSpecification::builder()
                    .device_index(0)
                    .associate_public_ip_address(public)
                    .set_subnet_id(s(planned, "subnet_id").map(String::from))
                    .set_groups((!groups.is_empty()).then_some(groups))
                    .build();
                run = run.network_interfaces(nic);
            }
            None => {
                run = run
                    .set_subnet_id(s(planned, "subnet_id").map(String::from))
                    .set_security_group_ids((!groups.is_empty()).then_some(groups));
            }
        }
        // The same client token on every try: AWS makes one instance.
        let out = crate::consistency::retry(
            ctx,
            crate::consistency::INSTANCE_PROFILE_NOT_YET,
            crate::consistency::propagation(ctx),
            || {
                let run = run.clone();
                async move { run.send().await.map_err(|e| api("RunInstances", e)) }
            },
        )
        .await?;
        let iid = out
            .instances()
            .first()
            .and_then(|i| i.instance_id())
            .ok_or_else(|| ProviderError::new("RunInstances returned no instance"))?
            .to_string();
        ec2.wait_until_instance_running()
            .instance_ids(&iid)
            .wait(ctx.settings.max_wait)
            .await
            .map_err(|e| waiter("InstanceRunning", e))?;
        let i = crate::consistency::read_new(ctx, || describe_instance(ctx, &iid))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new instance {iid} could not be read back")))?;
        Ok(instance_value(ctx, &i, planned.get("user_data")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(describe_instance(ctx, id(state)?).await?.map(|i| instance_value(ctx, &i, state.get("user_data"))))
    }
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        let user_data: HashMap<String, Value> = states
            .iter()
            .filter_map(|s| Some((s.get("id")?.as_str()?.to_string(), s.get("user_data").cloned().unwrap_or_default())))
            .collect();
        let user_data = &user_data;
        batched(
            states,
            |ids| async move {
                let o = ctx
                    .clients
                    .ec2
                    .describe_instances()
                    .set_instance_ids(Some(ids))
                    .send()
                    .await
                    .map_err(|e| api("DescribeInstances", e))?;
                Ok(o.reservations()
                    .iter()
                    .flat_map(|r| r.instances())
                    .filter(|i| {
                        !matches!(
                            i.state().and_then(|s| s.name()),
                            Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)
                        )
                    })
                    .map(|i| {
                        let iid = i.instance_id().unwrap_or_default().to_string();
                        let ud = user_data.get(&iid);
                        (iid, instance_value(ctx, i, ud))
                    })
                    .collect())
            },
            |s| async move { self.read(ctx, &s).await },
        )
        .await
    }

    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let iid = id(prior)?;
        let ec2 = &ctx.clients.ec2;
        if s(prior, "instance_type") != s(planned, "instance_type") {
            // The type of a running instance cannot change: stop, change, start.
            ec2.stop_instances().instance_ids(iid).send().await.map_err(|e| api("StopInstances", e))?;
            ec2.wait_until_instance_stopped()
                .instance_ids(iid)
                .wait(ctx.settings.max_wait)
                .await
                .map_err(|e| waiter("InstanceStopped", e))?;
            ec2.modify_instance_attribute()
                .instance_id(iid)
                .instance_type(AttributeValue::builder().value(req(planned, "instance_type")?).build())
                .send()
                .await
                .map_err(|e| api("ModifyInstanceAttribute", e))?;
            ec2.start_instances().instance_ids(iid).send().await.map_err(|e| api("StartInstances", e))?;
            ec2.wait_until_instance_running()
                .instance_ids(iid)
                .wait(ctx.settings.max_wait)
                .await
                .map_err(|e| waiter("InstanceRunning", e))?;
        }
        let (old, new) = (strings(prior, "vpc_security_group_ids"), strings(planned, "vpc_security_group_ids"));
        if !new.is_empty() && old != new {
            ec2.modify_instance_attribute()
                .instance_id(iid)
                .set_groups(Some(new))
                .send()
                .await
                .map_err(|e| api("ModifyInstanceAttribute", e))?;
        }
        if s(prior, "iam_instance_profile") != s(planned, "iam_instance_profile")
            && let Some(p) = s(planned, "iam_instance_profile")
        {
            ec2.associate_iam_instance_profile()
                .instance_id(iid)
                .iam_instance_profile(IamInstanceProfileSpecification::builder().name(p).build())
                .send()
                .await
                .map_err(|e| api("AssociateIamInstanceProfile", e))?;
        }
        sync_tags(ctx, iid, prior, planned).await?;
        let i = describe_instance(ctx, iid)
            .await?
            .ok_or_else(|| ProviderError::new(format!("instance {iid} disappeared during the update")))?;
        Ok(instance_value(ctx, &i, planned.get("user_data")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let iid = id(prior)?;
        let ec2 = &ctx.clients.ec2;
        match ec2.terminate_instances().instance_ids(iid).send().await.map_err(|e| api("TerminateInstances", e)) {
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        ec2.wait_until_instance_terminated()
            .instance_ids(iid)
            .wait(ctx.settings.max_wait)
            .await
            .map_err(|e| waiter("InstanceTerminated", e))?;
        Ok(())
    }
    async fn import(&self, ctx: &Ctx<'_>, import_id: &str) -> Result<Option<Value>, ProviderError> {
        let Some(i) = describe_instance(ctx, import_id).await? else { return Ok(None) };
        // Imported user data is read back from EC2, decoded.
        let attr = ctx
            .clients
            .ec2
            .describe_instance_attribute()
            .instance_id(import_id)
            .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
            .send()
            .await
            .map_err(|e| api("DescribeInstanceAttribute", e))?;
        let user_data = attr
            .user_data()
            .and_then(|u| u.value())
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .map(Value::String);
        Ok(Some(instance_value(ctx, &i, user_data.as_ref())))
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let o = ctx
            .clients
            .ec2
            .describe_instances()
            .set_filters(Some(marker_filters(marker)))
            .send()
            .await
            .map_err(|e| api("DescribeInstances", e))?;
        let found = o
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| {
                carries(i.tags(), marker)
                    && !matches!(
                        i.state().and_then(|s| s.name()),
                        Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)
                    )
            })
            .cloned();
        Ok(found.map(|i| instance_value(ctx, &i, None)))
    }
}
