//! Small helpers to read configuration values and build attribute objects.

use ecspoc_core::value::Value;

pub fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

pub fn req<'a>(v: &'a Value, k: &str) -> Result<&'a str, ecspoc_core::provider::ProviderError> {
    s(v, k).ok_or_else(|| ecspoc_core::provider::ProviderError::new(format!("{k} is required")))
}

pub fn b(v: &Value, k: &str) -> Option<bool> {
    v.get(k).and_then(Value::as_bool)
}

/// A time as Terraform's AWS provider writes it (RFC 3339, whole seconds).
pub fn rfc3339(t: Option<&aws_smithy_types::DateTime>) -> Value {
    t.and_then(|t| {
        aws_smithy_types::DateTime::from_secs(t.secs()).fmt(aws_smithy_types::date_time::Format::DateTime).ok()
    })
    .map(Value::String)
    .unwrap_or(Value::Null)
}

pub fn opt_str(x: Option<&str>) -> Value {
    x.map(Value::str).unwrap_or(Value::Null)
}

pub fn obj(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// The identifier every resource keeps in `id`.
pub fn id(v: &Value) -> Result<&str, ecspoc_core::provider::ProviderError> {
    req(v, "id")
}

pub fn strings(v: &Value, k: &str) -> Vec<String> {
    match v.get(k) {
        Some(Value::List(items)) => items.iter().filter_map(|i| i.to_template_string()).collect(),
        _ => Vec::new(),
    }
}
