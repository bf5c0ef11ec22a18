//! The one interface through which the engine reaches a provider. The engine
//! names no provider: they are registered by the binary in a `ProviderSet`.

use crate::config::types::TypeConstraint;
use crate::value::Value;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct AttrSchema {
    pub ty: TypeConstraint,
    pub required: bool,
    pub optional: bool,
    /// Set by the provider (alone, or when the configuration leaves it out).
    pub computed: bool,
    /// A change cannot be made in place: the object is replaced.
    pub force_new: bool,
    pub sensitive: bool,
    /// The value planned when the configuration leaves this attribute out.
    pub default: Option<Value>,
    /// What the remote side reports when this attribute is left out: a
    /// create plans it null (as Terraform's providers plan it); later plans
    /// expect it, so a value changed by hand is set back.
    pub api_default: Option<Value>,
    pub description: &'static str,
    /// A list of objects that is not a nested block in Terraform's schema
    /// (written `ingress = [{...}]`, as an attribute): see `is_block`.
    pub list_attribute: bool,
    /// Attributes inside this block whose change cannot be made in place:
    /// the object is replaced (`auto_scaling_group_provider.auto_scaling_group_arn`).
    pub force_new_within: &'static [&'static str],
}

impl AttrSchema {
    fn base(ty: TypeConstraint, description: &'static str) -> Self {
        AttrSchema {
            ty,
            required: false,
            optional: false,
            computed: false,
            force_new: false,
            sensitive: false,
            default: None,
            api_default: None,
            description,
            list_attribute: false,
            force_new_within: &[],
        }
    }
    pub fn required(ty: TypeConstraint, description: &'static str) -> Self {
        AttrSchema { required: true, ..Self::base(ty, description) }
    }
    pub fn optional(ty: TypeConstraint, description: &'static str) -> Self {
        AttrSchema { optional: true, ..Self::base(ty, description) }
    }
    pub fn computed(ty: TypeConstraint, description: &'static str) -> Self {
        AttrSchema { computed: true, ..Self::base(ty, description) }
    }
    pub fn optional_computed(ty: TypeConstraint, description: &'static str) -> Self {
        AttrSchema { optional: true, computed: true, ..Self::base(ty, description) }
    }
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn default(mut self, v: Value) -> Self {
        self.default = Some(v);
        self
    }
    /// See `api_default`.
    pub fn api_default(mut self, v: Value) -> Self {
        self.api_default = Some(v);
        self
    }
    /// See `force_new_within`.
    pub fn force_new_within(mut self, names: &'static [&'static str]) -> Self {
        self.force_new_within = names;
        self
    }
    /// A list of objects Terraform's schema has as an attribute, not as
    /// nested blocks (a security group's `ingress`).
    pub fn list_attribute(mut self) -> Self {
        self.list_attribute = true;
        self
    }
    /// A nested block (`health_check { ... }`): a list of objects, unless
    /// marked as an attribute. Plans show blocks as blocks.
    pub fn is_block(&self) -> bool {
        matches!(&self.ty, TypeConstraint::List(inner) | TypeConstraint::Set(inner) if matches!(**inner, TypeConstraint::Object(_)))
            && !self.list_attribute
    }
    /// A set (`["set", ...]` in Terraform's schema): unordered, unique.
    pub fn is_set(&self) -> bool {
        matches!(self.ty, TypeConstraint::Set(_))
    }
}

#[derive(Clone, Debug, Default)]
pub struct ResourceSchema {
    pub description: &'static str,
    pub version: u64,
    pub attributes: BTreeMap<&'static str, AttrSchema>,
    /// Destroying an object of this type loses data (a bucket's objects, a
    /// repository's images, a log group's events): reviews warn of it.
    pub holds_data: bool,
}

impl ResourceSchema {
    pub fn new(description: &'static str, attrs: impl IntoIterator<Item = (&'static str, AttrSchema)>) -> Self {
        ResourceSchema { description, version: 0, attributes: attrs.into_iter().collect(), holds_data: false }
    }
    pub fn holds_data(mut self) -> Self {
        self.holds_data = true;
        self
    }
    pub fn is_sensitive(&self, attr: &str) -> bool {
        self.attributes.get(attr).is_some_and(|a| a.sensitive)
    }
    /// An object of this type with absent nested blocks as `[]` (Terraform's JSON shape).
    pub fn with_absent_blocks_empty(&self, v: &Value) -> Value {
        self.each_attribute(v, |t, item| t.with_absent_blocks_empty(item))
    }

    /// `v` with each attribute's sets in Terraform's order (see `TypeConstraint::in_set_order`).
    pub fn in_set_order(&self, v: &Value) -> Value {
        self.each_attribute(v, |t, item| t.in_set_order(item))
    }

    /// `v` with sets of plain values that hold an unknown element unknown
    /// as a whole (see `TypeConstraint::with_partly_unknown_sets_unknown`).
    pub fn with_partly_unknown_sets_unknown(&self, v: &Value) -> Value {
        self.each_attribute(v, |t, item| t.with_partly_unknown_sets_unknown(item))
    }

    fn each_attribute(&self, v: &Value, f: impl Fn(&TypeConstraint, &Value) -> Value) -> Value {
        let Value::Map(m) = v else { return v.clone() };
        Value::Map(
            m.iter()
                .map(|(k, item)| {
                    let item = self.attributes.get(k.as_str()).map(|a| f(&a.ty, item)).unwrap_or_else(|| item.clone());
                    (k.clone(), item)
                })
                .collect(),
        )
    }

    /// Names of the attributes never to show (state's `sensitive_attributes`).
    pub fn sensitive_names(&self) -> Vec<String> {
        self.attributes.iter().filter(|(_, a)| a.sensitive).map(|(n, _)| n.to_string()).collect()
    }
}

#[derive(Clone, Debug, Default)]
pub struct ProviderSchema {
    pub resources: BTreeMap<&'static str, ResourceSchema>,
    pub data_sources: BTreeMap<&'static str, ResourceSchema>,
}

/// Written on every object the engine creates (as tags, where the API has
/// them) so that an object created just before a crash can be found again.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Marker {
    pub address: String,
    pub lineage: String,
    /// The `name` the object is created under, when its configuration sets
    /// one: APIs that key objects by name are searched by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New for each create (kept across retries and crashes through the
    /// journal): idempotency tokens and generated names derive from it, so
    /// the replacement of an object never gets its predecessor's token, which
    /// AWS would answer with the old, terminated object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub create_id: String,
}

#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    /// The API operation that failed, e.g. `CreateVpc`.
    pub operation: Option<String>,
    /// The API's error code, e.g. `InvalidParameterValue`.
    pub code: Option<String>,
    pub message: String,
    /// The failure may pass on a later try (throttling, a 5xx answer, a lost
    /// connection, a timeout): whether the remote side acted is unknown.
    pub transient: bool,
}

impl ProviderError {
    pub fn new(message: impl Into<String>) -> Self {
        ProviderError { operation: None, code: None, message: message.into(), transient: false }
    }
    pub fn api(operation: &str, code: Option<&str>, message: impl Into<String>) -> Self {
        ProviderError {
            operation: Some(operation.into()),
            code: code.map(Into::into),
            message: message.into(),
            transient: false,
        }
    }
    /// Mark the failure as one that may pass on a later try.
    pub fn transient(mut self) -> Self {
        self.transient = true;
        self
    }
    /// `CreateVpc: InvalidParameterValue: message`, as much as is known.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        if let Some(op) = &self.operation {
            s.push_str(op);
            s.push_str(": ");
        }
        if let Some(code) = &self.code {
            s.push_str(code);
            s.push_str(": ");
        }
        s.push_str(&self.message);
        s
    }
}

/// What the engine proposes for one instance; the provider may refine it.
pub struct PlanRequest<'a> {
    pub type_: &'a str,
    pub prior: Option<&'a Value>,
    /// Configuration values over prior or unknown computed values.
    pub proposed: Value,
    pub config: &'a Value,
}

pub struct PlanResponse {
    pub planned: Value,
    /// Attributes whose change forces replacement beyond the schema's force-new ones.
    pub requires_replace: Vec<String>,
}

#[async_trait]
pub trait Provider: Send + Sync {
    /// The name resource types start with: `aws` for `aws_vpc`.
    fn local_name(&self) -> &'static str;
    /// Terraform's provider source, written into state and plan JSON.
    fn source(&self) -> &'static str;
    fn schema(&self) -> &ProviderSchema;
    /// How many operations this provider runs at once (bounds apply and refresh).
    fn concurrency(&self) -> usize {
        10
    }
    async fn configure(&self, _config: &Value) -> Result<(), ProviderError> {
        Ok(())
    }
    /// Checks beyond the schema's types; messages name the attribute. The
    /// configuration may hold unknown values: check what is known.
    fn validate(&self, _type_: &str, _config: &Value) -> Vec<String> {
        Vec::new()
    }
    /// Risky planned values worth a warning (e.g. SSH open to the world).
    fn warnings(&self, _type_: &str, _planned: &Value) -> Vec<String> {
        Vec::new()
    }
    fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        Ok(PlanResponse { planned: req.proposed, requires_replace: Vec::new() })
    }
    /// Current state of an object, `None` if it no longer exists.
    async fn read(&self, type_: &str, state: &Value) -> Result<Option<Value>, ProviderError>;
    /// Many objects of one type: providers whose API takes many ids override this.
    async fn read_many(&self, type_: &str, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        let mut out = Vec::with_capacity(states.len());
        for s in states {
            out.push(self.read(type_, s).await);
        }
        out
    }
    async fn create(&self, type_: &str, planned: &Value, marker: &Marker) -> Result<Value, ProviderError>;
    async fn update(&self, type_: &str, prior: &Value, planned: &Value) -> Result<Value, ProviderError>;
    async fn delete(&self, type_: &str, prior: &Value) -> Result<(), ProviderError>;
    async fn import(&self, type_: &str, id: &str) -> Result<Option<Value>, ProviderError>;
    async fn read_data(&self, type_: &str, config: &Value) -> Result<Value, ProviderError>;
    /// Remote operations made so far, by name (for reports; empty when the
    /// provider makes none).
    fn api_calls(&self) -> BTreeMap<String, u64> {
        BTreeMap::new()
    }
    /// Of those, how many were sent again (the remote side throttled, failed
    /// for now, or was not yet consistent), by name.
    fn api_retries(&self) -> BTreeMap<String, u64> {
        BTreeMap::new()
    }
    /// The name an object is created under (recorded in its marker), when
    /// the API keys objects by name: the configured one, or one the
    /// provider generates from `marker` (unnamed yet), so that a retry after
    /// a crash asks for the same name and finds the object it left.
    fn created_name(&self, _type_: &str, planned: &Value, _marker: &Marker) -> Option<String> {
        planned.get("name").and_then(Value::as_str).map(String::from)
    }
    /// Find an object that carries `marker` but is missing from state.
    async fn adopt(&self, _type_: &str, _marker: &Marker) -> Result<Option<Value>, ProviderError> {
        Ok(None)
    }
    /// Whether `adopt` can find this type's objects. Only then is an intent
    /// journaled before each create (a record, and a request on a remote
    /// backend, that nothing could use otherwise).
    fn adopts_by_marker(&self, _type_: &str) -> bool {
        false
    }
}

/// The providers a run may use, found by the prefix of a resource type.
#[derive(Clone, Default)]
pub struct ProviderSet {
    providers: BTreeMap<&'static str, Arc<dyn Provider>>,
}

impl ProviderSet {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn register(&mut self, p: Arc<dyn Provider>) {
        self.providers.insert(p.local_name(), p);
    }
    pub fn get(&self, local_name: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.get(local_name)
    }
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.providers.values()
    }
    /// The provider and schema of a resource or data source type.
    pub fn resource_schema(
        &self,
        mode: crate::addr::Mode,
        type_: &str,
    ) -> Option<(&Arc<dyn Provider>, &ResourceSchema)> {
        let p = self.providers.get(crate::config::module::provider_of_type(type_).as_str())?;
        let schema = match mode {
            crate::addr::Mode::Managed => p.schema().resources.get(type_),
            crate::addr::Mode::Data => p.schema().data_sources.get(type_),
        }?;
        Some((p, schema))
    }
}
