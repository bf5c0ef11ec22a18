use async_trait::async_trait;
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{
    AttrSchema as A, Marker, PlanRequest, PlanResponse, Provider, ProviderError, ProviderSchema, ResourceSchema,
};
use ecspoc_core::value::Value;

/// Terraform's built-in provider: `terraform_data`.
pub struct TerraformProvider {
    schema: ProviderSchema,
}

impl TerraformProvider {
    pub fn new() -> Self {
        let mut schema = ProviderSchema::default();
        schema.resources.insert(
            "terraform_data",
            ResourceSchema::new(
                "Holds a value in state; changing triggers_replace replaces it.",
                [
                    ("id", A::computed(T::String, "A unique id.")),
                    ("input", A::optional(T::Any, "A value stored in state; changes update in place.")),
                    ("output", A::computed(T::Any, "The stored input.")),
                    (
                        "triggers_replace",
                        A::optional(T::Any, "A value whose change replaces the resource.").force_new(),
                    ),
                ],
            ),
        );
        TerraformProvider { schema }
    }
}

impl Default for TerraformProvider {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Provider for TerraformProvider {
    fn local_name(&self) -> &'static str {
        "terraform"
    }
    fn source(&self) -> &'static str {
        "terraform.io/builtin/terraform"
    }
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }
    fn concurrency(&self) -> usize {
        64
    }
    /// As Terraform's: `output` is known after apply whenever `input` is new
    /// or changes (it is set by the apply), and keeps its value otherwise.
    fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        let input = planned.get("input").cloned().unwrap_or_default();
        let output = match req.prior {
            Some(prior) if prior.get("input").cloned().unwrap_or_default() == input => {
                prior.get("output").cloned().unwrap_or_default()
            }
            _ => Value::Unknown,
        };
        crate::set(&mut planned, "output", output);
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }
    async fn read(&self, _: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(Some(state.clone()))
    }
    async fn read_many(&self, _: &str, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        states.iter().map(|s| Ok(Some(s.clone()))).collect()
    }
    async fn create(&self, _: &str, planned: &Value, _: &Marker) -> Result<Value, ProviderError> {
        let mut v = planned.clone();
        crate::set(&mut v, "id", Value::String(uuid::Uuid::new_v4().to_string()));
        crate::set(&mut v, "output", planned.get("input").cloned().unwrap_or_default());
        Ok(v)
    }
    async fn update(&self, _: &str, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let mut v = planned.clone();
        crate::set(&mut v, "id", prior.get("id").cloned().unwrap_or_default());
        crate::set(&mut v, "output", planned.get("input").cloned().unwrap_or_default());
        Ok(v)
    }
    async fn delete(&self, _: &str, _: &Value) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn import(&self, _: &str, id: &str) -> Result<Option<Value>, ProviderError> {
        Ok(Some(Value::object([
            ("id".into(), Value::str(id)),
            ("input".into(), Value::Null),
            ("output".into(), Value::Null),
            ("triggers_replace".into(), Value::Null),
        ])))
    }
    async fn read_data(&self, t: &str, _: &Value) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!("{t} is not a data source")))
    }
}
