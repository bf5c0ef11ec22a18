//! What resources of every service share: generated names, reads that find
//! the object gone, and number/list attribute helpers.

use crate::error::is_not_found;
use ecspoc_core::provider::{Marker, ProviderError};
use ecspoc_core::value::Value;

/// SDK settings for a create that AWS cannot de-duplicate (no client token,
/// no unique name): sent once, since an SDK retry after a lost answer would
/// make a second object. The engine tries again itself, after looking for
/// the first by its marker. Use: `.customize().config_override(once!(aws_sdk_ec2))`.
macro_rules! once {
    ($sdk:ident) => {
        $sdk::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled())
    };
}
pub(crate) use once;

/// The configured `name`, or the one chosen for the marker (from
/// `name_prefix`), or one derived from the marker, so that a retry after a
/// crash asks for the same name and finds the object it left.
pub fn name_or_generated(planned: &Value, marker: &Marker) -> String {
    name_for_create(planned, "name", marker)
}

/// `name_or_generated` for an API whose name attribute is `attr` (`key_name`).
pub fn name_for_create(planned: &Value, attr: &str, marker: &Marker) -> String {
    match (planned.get(attr).and_then(Value::as_str), marker.name.as_deref()) {
        (Some(n), _) | (None, Some(n)) => n.to_string(),
        (None, None) => generated_name(marker),
    }
}

/// `prefix` and 26 hexadecimal digits: the shape of the names Terraform's
/// AWS provider makes from a `name_prefix`, so that either tool reads the
/// prefix back from the name (`prefix_of`).
pub fn prefixed_name(prefix: &str, marker: &Marker) -> String {
    let digits = sha1_smol::Sha1::from(format!("{}/{}/{}", marker.lineage, marker.address, marker.create_id))
        .digest()
        .to_string();
    format!("{prefix}{}", &digits[..UNIQUE_SUFFIX_LENGTH])
}

const UNIQUE_SUFFIX_LENGTH: usize = 26;

/// The `name_prefix` argument (`key_name_prefix`, `bucket_prefix`).
pub fn name_prefix_schema() -> ecspoc_core::provider::AttrSchema {
    ecspoc_core::provider::AttrSchema::optional_computed(
        ecspoc_core::config::types::TypeConstraint::String,
        "A unique name is made from this prefix; conflicts with the name.",
    )
    .force_new()
}

/// The `name_prefix` a name was made from, if it ends in a generated
/// suffix; null otherwise (as Terraform's AWS provider reads it back).
pub fn prefix_of(name: Option<&str>) -> Value {
    match name {
        Some(n)
            if n.len() > UNIQUE_SUFFIX_LENGTH
                && n.as_bytes()[n.len() - UNIQUE_SUFFIX_LENGTH..].iter().all(u8::is_ascii_hexdigit) =>
        {
            Value::str(&n[..n.len() - UNIQUE_SUFFIX_LENGTH])
        }
        _ => Value::Null,
    }
}

pub fn generated_name(marker: &Marker) -> String {
    format!("ecspoc-{}", &client_token(marker)[..20])
}

/// An idempotency token derived from the marker: a retry of the same create
/// (by the SDK, or after a crash through the journal) sends the same one, so
/// AWS answers with the object it made instead of a second; a replacement,
/// a new create, sends another.
pub fn client_token(marker: &Marker) -> String {
    let seed = match marker.create_id.as_str() {
        "" => format!("{}/{}", marker.lineage, marker.address),
        id => format!("{}/{}/{id}", marker.lineage, marker.address),
    };
    sha1_smol::Sha1::from(seed).digest().to_string()[..32].to_string()
}

/// The name adoption looks for: the configured one, or the generated one.
pub fn adoption_name(marker: &Marker) -> String {
    marker.name.clone().unwrap_or_else(|| generated_name(marker))
}

/// `v` with the setting `key` of `from` (the planned value or prior state),
/// else `default`: settings of how the provider works, which AWS does not
/// keep, stay in state as configured (Terraform's provider keeps them so).
pub fn with_setting(mut v: Value, from: &Value, key: &str, default: Value) -> Value {
    if let Value::Map(m) = &mut v {
        let setting = from.get(key).filter(|s| !s.is_null() && !s.is_unknown()).cloned().unwrap_or(default);
        m.insert(key.to_string(), setting);
    }
    v
}

/// `Ok(None)` when the read failed because the object does not exist.
pub fn found<T>(r: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn num(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_number)
}

pub fn int(v: &Value, k: &str) -> Option<i32> {
    num(v, k).map(|n| n as i32)
}

pub fn int_value(n: Option<i32>) -> Value {
    n.map(|n| Value::Number(n as f64)).unwrap_or(Value::Null)
}

/// Blocks written many times (`[[x.stage]]`).
pub fn blocks<'a>(v: &'a Value, k: &str) -> Vec<&'a Value> {
    match v.get(k) {
        Some(Value::List(items)) => items.iter().collect(),
        Some(m @ Value::Map(_)) => vec![m],
        _ => Vec::new(),
    }
}

/// The object type of a block's attributes; every one optional unless named in `required`.
pub fn block_type(
    attrs: &[(&str, ecspoc_core::config::types::TypeConstraint)],
    required: &[&str],
) -> ecspoc_core::config::types::TypeConstraint {
    ecspoc_core::config::types::TypeConstraint::Object(
        attrs.iter().map(|(k, t)| (k.to_string(), (t.clone(), !required.contains(k)))).collect(),
    )
}

/// A list of blocks of that type.
pub fn block_list(
    attrs: &[(&str, ecspoc_core::config::types::TypeConstraint)],
    required: &[&str],
) -> ecspoc_core::config::types::TypeConstraint {
    ecspoc_core::config::types::TypeConstraint::List(Box::new(block_type(attrs, required)))
}

/// A set of blocks of that type (Terraform's `nesting_mode = "set"`).
pub fn block_set(
    attrs: &[(&str, ecspoc_core::config::types::TypeConstraint)],
    required: &[&str],
) -> ecspoc_core::config::types::TypeConstraint {
    ecspoc_core::config::types::TypeConstraint::Set(Box::new(block_type(attrs, required)))
}

/// A set of strings (ids, names): Terraform's `["set", "string"]`.
pub fn string_set() -> ecspoc_core::config::types::TypeConstraint {
    use ecspoc_core::config::types::TypeConstraint as T;
    T::Set(Box::new(T::String))
}

/// Fill a block's unset attributes with AWS's defaults, so a plan compares
/// what AWS will report.
pub fn fill_block_defaults(planned: &mut Value, key: &str, defaults: &[(&str, Value)]) {
    if let Value::Map(m) = planned
        && let Some(Value::List(items)) = m.get_mut(key)
    {
        for item in items.iter_mut() {
            if let Value::Map(b) = item {
                for (k, d) in defaults {
                    if b.get(*k).is_none_or(Value::is_null) {
                        b.insert(k.to_string(), d.clone());
                    }
                }
            }
        }
    }
}
