//! ecspoc's `aws` provider, on the official AWS SDK for Rust. Each resource
//! type and data source lives in a file of its own under `resources/` and
//! `data/`, behind the small `ResourceType` / `DataSource` traits here.

pub mod backend;
mod calls;
mod config;
mod consistency;
mod data;
mod error;
mod json_doc;
mod partition;
mod resources;
pub mod rules;
mod tags;
mod values;

use async_trait::async_trait;
pub use calls::CallCounter;
use ecspoc_core::provider::{
    Marker, PlanRequest, PlanResponse, Provider, ProviderError, ProviderSchema, ResourceSchema,
};
use ecspoc_core::value::Value;
use std::collections::{BTreeMap, HashMap};
use tokio::sync::OnceCell;

pub use config::{Clients, DEFAULT_MAX_WAIT, Settings, retry_config};
pub use tags::marker_address;

/// What a resource operation gets: the SDK clients and the provider settings.
pub struct Ctx<'a> {
    pub clients: &'a Clients,
    pub settings: &'a Settings,
    /// Where retries are counted.
    pub calls: &'a CallCounter,
    /// The account the credentials belong to, asked for once when needed.
    account: &'a OnceCell<String>,
}

impl Ctx<'_> {
    /// The account the credentials belong to (STS GetCallerIdentity, once
    /// per run): ARNs AWS does not return are built with it, as Terraform's
    /// provider builds them.
    pub async fn account_id(&self) -> Result<&str, ProviderError> {
        let account = self
            .account
            .get_or_try_init(|| async {
                let out = self
                    .clients
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| error::api("GetCallerIdentity", e))?;
                out.account()
                    .map(String::from)
                    .ok_or_else(|| ProviderError::new("GetCallerIdentity returned no account"))
            })
            .await?;
        Ok(account.as_str())
    }
}

#[async_trait]
pub trait ResourceType: Send + Sync {
    fn name(&self) -> &'static str;
    fn schema(&self) -> ResourceSchema;
    /// Has `tags` and `tags_all`.
    fn taggable(&self) -> bool {
        true
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError>;
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError>;
    async fn read_many(&self, ctx: &Ctx<'_>, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        let mut out = Vec::with_capacity(states.len());
        for s in states {
            out.push(self.read(ctx, s).await);
        }
        out
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError>;
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError>;
    /// Terraform's import id for this type; by default the object's `id`.
    async fn import(&self, ctx: &Ctx<'_>, id: &str) -> Result<Option<Value>, ProviderError> {
        self.read(ctx, &values::obj(vec![("id", Value::str(id))])).await
    }
    /// Find an object carrying ecspoc's marker tags.
    async fn adopt(&self, _ctx: &Ctx<'_>, _marker: &Marker) -> Result<Option<Value>, ProviderError> {
        Ok(None)
    }
    fn warnings(&self, _planned: &Value) -> Vec<String> {
        Vec::new()
    }
    /// The attribute holding the name the object is created under.
    fn name_attribute(&self) -> &'static str {
        "name"
    }
    /// Checks of a wholly known configuration beyond its types.
    fn validate(&self, _config: &Value) -> Vec<String> {
        Vec::new()
    }
    /// Put planned values in the form AWS reports them (e.g. rule sets sorted).
    fn normalize(&self, _planned: &mut Value) {}
    /// Attributes holding JSON documents that AWS may spell differently
    /// from the configuration (member order, IAM's sets, defaults filled
    /// in), each with the form two spellings are compared in (given the
    /// text and the whole object). Plans and state keep them as written,
    /// as Terraform's provider does.
    fn documents(&self) -> Vec<(&'static str, Meaning)> {
        Vec::new()
    }
}

/// A JSON document's canonical form, given its text and the object it is in.
pub type Meaning = fn(&str, &Value) -> Option<String>;

#[async_trait]
pub trait DataSource: Send + Sync {
    fn name(&self) -> &'static str;
    fn schema(&self) -> ResourceSchema;
    async fn read(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Value, ProviderError>;
}

pub struct AwsProvider {
    schema: ProviderSchema,
    resources: HashMap<&'static str, Box<dyn ResourceType>>,
    data_sources: HashMap<&'static str, Box<dyn DataSource>>,
    settings: std::sync::Mutex<Option<Value>>,
    clients: OnceCell<(Clients, Settings)>,
    calls: CallCounter,
    account: OnceCell<String>,
}

impl Default for AwsProvider {
    fn default() -> Self {
        Self::new()
    }
}

/// The schema version Terraform's AWS provider (5.100.0, `terraform
/// providers schema -json`) gives each type, written in state beside the
/// attributes: a lower one makes the provider run its state upgraders on
/// attributes already in the current form (and crash on some).
/// `tests/terraform_validate.rs` checks this table against the provider.
fn schema_version(type_: &str) -> u64 {
    const AT_ONE: &[&str] = &[
        "aws_autoscaling_group",
        "aws_cloudwatch_event_rule",
        "aws_cloudwatch_event_target",
        "aws_dynamodb_table",
        "aws_ecs_service",
        "aws_ecs_task_definition",
        "aws_instance",
        "aws_key_pair",
        "aws_security_group",
        "aws_subnet",
        "aws_vpc",
    ];
    u64::from(AT_ONE.contains(&type_))
}

impl AwsProvider {
    pub fn new() -> Self {
        let mut schema = ProviderSchema::default();
        let mut resources = HashMap::new();
        for r in resources::all() {
            let mut s = r.schema();
            if r.taggable() {
                config::add_tag_attributes(&mut s);
            }
            s.version = schema_version(r.name());
            schema.resources.insert(r.name(), s);
            resources.insert(r.name(), r);
        }
        let mut data_sources = HashMap::new();
        for d in data::all() {
            schema.data_sources.insert(d.name(), d.schema());
            data_sources.insert(d.name(), d);
        }
        AwsProvider {
            schema,
            resources,
            data_sources,
            settings: std::sync::Mutex::new(None),
            clients: OnceCell::new(),
            calls: CallCounter::default(),
            account: OnceCell::new(),
        }
    }

    /// A provider on clients made elsewhere (tests use SDK test doubles).
    pub fn with_clients(clients: Clients, settings: Settings) -> Self {
        let p = Self::new();
        let _ = p.clients.set((clients, settings));
        p
    }

    /// default_tags and ignore_tags of the provider configuration, once configured.
    fn configured_default_tags(&self) -> tags::Defaults {
        self.settings.lock().ok().and_then(|s| s.as_ref().map(config::default_tags)).unwrap_or_default()
    }

    async fn ctx(&self) -> Result<Ctx<'_>, ProviderError> {
        let pair = self
            .clients
            .get_or_try_init(|| async {
                let cfg = self.settings.lock().map(|s| s.clone()).unwrap_or_default().unwrap_or(Value::Null);
                config::build(&cfg, &self.calls).await
            })
            .await?;
        Ok(Ctx { clients: &pair.0, settings: &pair.1, calls: &self.calls, account: &self.account })
    }

    /// What AWS answered as state keeps it: sets in Terraform's order, JSON
    /// documents spelled as in `written` (planned or stored) where they mean the same.
    fn as_kept(&self, type_: &str, answered: Value, written: &Value) -> Value {
        self.spelled_as(type_, self.in_set_order(type_, answered), written)
    }

    /// `v` with each JSON document spelled as in `written` (the configured
    /// or stored value) where the two mean the same.
    fn spelled_as(&self, type_: &str, mut v: Value, written: &Value) -> Value {
        let Some(r) = self.resources.get(type_) else { return v };
        for (attr, meaning) in r.documents() {
            let (Some(new), Some(old)) =
                (v.get(attr).and_then(Value::as_str), written.get(attr).and_then(Value::as_str))
            else {
                continue;
            };
            let same = new != old && meaning(new, &v).is_some_and(|m| meaning(old, written).as_ref() == Some(&m));
            if same && let Value::Map(m) = &mut v {
                m.insert(attr.to_string(), Value::str(old));
            }
        }
        v
    }

    /// What AWS answered, its sets in Terraform's order (as state keeps them).
    fn in_set_order(&self, type_: &str, v: Value) -> Value {
        match self.schema.resources.get(type_) {
            Some(schema) => schema.in_set_order(&v),
            None => v,
        }
    }

    fn resource(&self, type_: &str) -> Result<&dyn ResourceType, ProviderError> {
        self.resources
            .get(type_)
            .map(|r| r.as_ref())
            .ok_or_else(|| ProviderError::new(format!("the aws provider has no resource type {type_}")))
    }
}

#[async_trait]
impl Provider for AwsProvider {
    fn local_name(&self) -> &'static str {
        "aws"
    }
    fn source(&self) -> &'static str {
        "registry.terraform.io/hashicorp/aws"
    }
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }
    fn concurrency(&self) -> usize {
        // Well under EC2's request-rate buckets; the SDK's adaptive retry
        // mode slows down further if AWS throttles.
        16
    }
    async fn configure(&self, config: &Value) -> Result<(), ProviderError> {
        config::validate(config)?;
        if let Ok(mut s) = self.settings.lock() {
            *s = Some(config.clone());
        }
        Ok(())
    }
    /// API operations made so far, by `Service.Operation`.
    fn api_calls(&self) -> BTreeMap<String, u64> {
        self.calls.snapshot()
    }
    fn api_retries(&self) -> BTreeMap<String, u64> {
        self.calls.retries()
    }
    /// The configured name, or `<name>_prefix` followed by a suffix derived
    /// from the marker (Terraform's `name_prefix`).
    fn created_name(&self, type_: &str, planned: &Value, marker: &Marker) -> Option<String> {
        let attr = self.resources.get(type_)?.name_attribute();
        match planned.get(attr).and_then(Value::as_str) {
            Some(name) => Some(name.to_string()),
            None => {
                let prefix = planned.get(&format!("{attr}_prefix")).and_then(Value::as_str)?;
                Some(resources::common::prefixed_name(prefix, marker))
            }
        }
    }
    fn validate(&self, type_: &str, config: &Value) -> Vec<String> {
        let Some(r) = self.resources.get(type_) else { return Vec::new() };
        let mut out = rules::check(type_, config);
        let name = r.name_attribute();
        let set = |k: &str| config.get(k).is_some_and(|v| !v.is_null());
        if set(name) && set(&format!("{name}_prefix")) {
            out.push(format!("{name} conflicts with {name}_prefix: set one (the name, or a prefix to make it from)"));
        }
        if r.taggable() {
            let defaults = self.configured_default_tags();
            let own: tags::Tags = config
                .get("tags")
                .and_then(Value::as_map)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.to_template_string().unwrap_or_default())).collect())
                .unwrap_or_default();
            out.extend(rules::check_tags(&tags::all(&defaults, &own), "tags (with the provider's default_tags)"));
        }
        // A resource's own checks read whole values.
        if config.is_wholly_known() {
            out.extend(r.validate(config));
        }
        out
    }
    fn warnings(&self, type_: &str, planned: &Value) -> Vec<String> {
        self.resources.get(type_).map(|r| r.warnings(planned)).unwrap_or_default()
    }
    fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        if let Some(r) = self.resources.get(req.type_) {
            r.normalize(&mut planned);
        }
        if let Some(schema) = self.schema.resources.get(req.type_) {
            planned = schema.in_set_order(&schema.with_partly_unknown_sets_unknown(&planned));
        }
        if let Some(prior) = req.prior {
            planned = self.spelled_as(req.type_, planned, prior);
        }
        if self.resources.get(req.type_).is_some_and(|r| r.taggable()) {
            // tags_all is known at plan time when default_tags are literal.
            let defaults = self.configured_default_tags();
            let own = tags::from_value(planned.get("tags"));
            if let Value::Map(m) = &mut planned {
                // Ignored keys are in neither tags_all nor the state, as in Terraform.
                m.insert("tags_all".into(), tags::to_value(&defaults.visible(tags::all(&defaults, &own))));
            }
        }
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }
    async fn read(&self, type_: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        let ctx = self.ctx().await?;
        let read = self.resource(type_)?.read(&ctx, state).await?;
        Ok(read.map(|v| self.as_kept(type_, v, state)))
    }
    async fn read_many(&self, type_: &str, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        let ctx = match self.ctx().await {
            Ok(c) => c,
            Err(e) => return states.iter().map(|_| Err(e.clone())).collect(),
        };
        match self.resource(type_) {
            Ok(r) => r
                .read_many(&ctx, states)
                .await
                .into_iter()
                .zip(states)
                .map(|(read, state)| read.map(|v| v.map(|v| self.as_kept(type_, v, state))))
                .collect(),
            Err(e) => states.iter().map(|_| Err(e.clone())).collect(),
        }
    }
    async fn create(&self, type_: &str, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let ctx = self.ctx().await?;
        let created = self.resource(type_)?.create(&ctx, planned, marker).await?;
        Ok(self.as_kept(type_, created, planned))
    }
    async fn update(&self, type_: &str, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let ctx = self.ctx().await?;
        let updated = self.resource(type_)?.update(&ctx, prior, planned).await?;
        Ok(self.as_kept(type_, updated, planned))
    }
    async fn delete(&self, type_: &str, prior: &Value) -> Result<(), ProviderError> {
        let ctx = self.ctx().await?;
        self.resource(type_)?.delete(&ctx, prior).await
    }
    async fn import(&self, type_: &str, id: &str) -> Result<Option<Value>, ProviderError> {
        let ctx = self.ctx().await?;
        Ok(self.resource(type_)?.import(&ctx, id).await?.map(|v| self.in_set_order(type_, v)))
    }
    async fn read_data(&self, type_: &str, config: &Value) -> Result<Value, ProviderError> {
        let ctx = self.ctx().await?;
        let d = self
            .data_sources
            .get(type_)
            .ok_or_else(|| ProviderError::new(format!("the aws provider has no data source {type_}")))?;
        d.read(&ctx, config).await
    }
    async fn adopt(&self, type_: &str, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let ctx = self.ctx().await?;
        Ok(self.resource(type_)?.adopt(&ctx, marker).await?.map(|v| self.in_set_order(type_, v)))
    }
    /// Every AWS create may leave an object behind a lost answer or a crash.
    fn adopts_by_marker(&self, _type_: &str) -> bool {
        true
    }
}
