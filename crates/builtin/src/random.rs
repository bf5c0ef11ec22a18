use async_trait::async_trait;
use base64::Engine;
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{
    AttrSchema as A, Marker, PlanRequest, PlanResponse, Provider, ProviderError, ProviderSchema, ResourceSchema,
};
use ecspoc_core::value::Value;
use rand::Rng;

/// hashicorp/random: `random_id` and `random_string`.
pub struct RandomProvider {
    schema: ProviderSchema,
}

impl RandomProvider {
    pub fn new() -> Self {
        let keepers = || {
            A::optional(T::Map(Box::new(T::String)), "Arbitrary values whose change makes a new random value.")
                .force_new()
        };
        let mut schema = ProviderSchema::default();
        schema.resources.insert(
            "random_id",
            ResourceSchema::new(
                "Random bytes, shown as base64url (id), base64, hex and decimal.",
                [
                    ("id", A::computed(T::String, "The random bytes, base64url without padding.")),
                    ("byte_length", A::required(T::Number, "How many random bytes.").force_new()),
                    ("prefix", A::optional(T::String, "Text put before b64_url, b64_std and hex.").force_new()),
                    ("keepers", keepers()),
                    ("b64_url", A::computed(T::String, "base64url (RFC 4648 §5) without padding.")),
                    ("b64_std", A::computed(T::String, "Standard base64 with padding.")),
                    ("hex", A::computed(T::String, "Hexadecimal.")),
                    ("dec", A::computed(T::String, "Decimal (big-endian).")),
                ],
            ),
        );
        let flag = |d| A::optional_computed(T::Bool, d).force_new();
        schema.resources.insert(
            "random_string",
            ResourceSchema::new(
                "A random string of printable characters.",
                [
                    ("id", A::computed(T::String, "The generated string.")),
                    ("length", A::required(T::Number, "Length of the string.").force_new()),
                    ("special", flag("Include special characters (default true).")),
                    ("upper", flag("Include upper-case letters (default true).")),
                    ("lower", flag("Include lower-case letters (default true).")),
                    ("numeric", flag("Include digits (default true).")),
                    ("min_special", A::optional_computed(T::Number, "Minimum special characters.").force_new()),
                    ("min_upper", A::optional_computed(T::Number, "Minimum upper-case letters.").force_new()),
                    ("min_lower", A::optional_computed(T::Number, "Minimum lower-case letters.").force_new()),
                    ("min_numeric", A::optional_computed(T::Number, "Minimum digits.").force_new()),
                    (
                        "override_special",
                        A::optional(T::String, "The special characters to use instead of the default set.").force_new(),
                    ),
                    ("keepers", keepers()),
                    ("result", A::computed(T::String, "The generated string.")),
                ],
            ),
        );
        RandomProvider { schema }
    }
}

impl Default for RandomProvider {
    fn default() -> Self {
        Self::new()
    }
}

fn num(v: &Value, k: &str) -> f64 {
    v.get(k).and_then(Value::as_number).unwrap_or(0.0)
}

fn flag(v: &Value, k: &str) -> bool {
    v.get(k).and_then(Value::as_bool).unwrap_or(true)
}

fn random_id_value(planned: &Value, bytes: &[u8]) -> Value {
    let prefix = planned.get("prefix").and_then(Value::as_str).unwrap_or("").to_string();
    let b64_url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let b64_std = base64::engine::general_purpose::STANDARD.encode(bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let dec = decimal(bytes);
    let mut v = planned.clone();
    crate::set(&mut v, "id", Value::String(b64_url.clone()));
    crate::set(&mut v, "b64_url", Value::String(format!("{prefix}{b64_url}")));
    crate::set(&mut v, "b64_std", Value::String(format!("{prefix}{b64_std}")));
    crate::set(&mut v, "hex", Value::String(format!("{prefix}{hex}")));
    crate::set(&mut v, "dec", Value::String(format!("{prefix}{dec}")));
    v
}

/// Big-endian bytes as a decimal string (schoolbook division by 10).
fn decimal(bytes: &[u8]) -> String {
    let mut digits = bytes.to_vec();
    let mut out = Vec::new();
    while digits.iter().any(|&d| d != 0) {
        let mut rem = 0u32;
        for d in digits.iter_mut() {
            let cur = rem * 256 + *d as u32;
            *d = (cur / 10) as u8;
            rem = cur % 10;
        }
        out.push(b'0' + rem as u8);
    }
    if out.is_empty() {
        return "0".into();
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

const SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";

fn random_string(planned: &Value) -> String {
    let length = num(planned, "length") as usize;
    let special_set = planned.get("override_special").and_then(Value::as_str).unwrap_or(SPECIAL).to_string();
    let mut classes: Vec<(Vec<char>, usize)> = Vec::new();
    if flag(planned, "upper") {
        classes.push((('A'..='Z').collect(), num(planned, "min_upper") as usize));
    }
    if flag(planned, "lower") {
        classes.push((('a'..='z').collect(), num(planned, "min_lower") as usize));
    }
    if flag(planned, "numeric") {
        classes.push((('0'..='9').collect(), num(planned, "min_numeric") as usize));
    }
    if flag(planned, "special") && !special_set.is_empty() {
        classes.push((special_set.chars().collect(), num(planned, "min_special") as usize));
    }
    let mut rng = rand::rng();
    let all: Vec<char> = classes.iter().flat_map(|(c, _)| c.iter().copied()).collect();
    let mut chars: Vec<char> = Vec::with_capacity(length);
    for (set, min) in &classes {
        for _ in 0..*min {
            chars.push(set[rng.random_range(0..set.len())]);
        }
    }
    while chars.len() < length && !all.is_empty() {
        chars.push(all[rng.random_range(0..all.len())]);
    }
    // Shuffle so the minimums are not all at the front.
    for i in (1..chars.len()).rev() {
        chars.swap(i, rng.random_range(0..=i));
    }
    chars.into_iter().take(length).collect()
}

#[async_trait]
impl Provider for RandomProvider {
    fn local_name(&self) -> &'static str {
        "random"
    }
    fn source(&self) -> &'static str {
        "registry.terraform.io/hashicorp/random"
    }
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }
    fn concurrency(&self) -> usize {
        64
    }
    fn validate(&self, type_: &str, config: &Value) -> Vec<String> {
        if !config.is_wholly_known() {
            return Vec::new();
        }
        let mut out = Vec::new();
        match type_ {
            "random_id" if num(config, "byte_length") < 1.0 => out.push("byte_length must be at least 1".into()),
            "random_string" if num(config, "length") < 1.0 => out.push("length must be at least 1".into()),
            "random_string" => {
                let mins: f64 =
                    ["min_upper", "min_lower", "min_numeric", "min_special"].iter().map(|k| num(config, k)).sum();
                if mins > num(config, "length") {
                    out.push(format!("the min_* values add up to {mins}, more than length {}", num(config, "length")));
                }
            }
            _ => {}
        }
        out
    }
    fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        if req.type_ == "random_string" {
            for k in ["special", "upper", "lower", "numeric"] {
                if planned.get(k).is_none_or(Value::is_unknown) {
                    crate::set(&mut planned, k, Value::Bool(true));
                }
            }
            for k in ["min_special", "min_upper", "min_lower", "min_numeric"] {
                if planned.get(k).is_none_or(Value::is_unknown) {
                    crate::set(&mut planned, k, Value::Number(0.0));
                }
            }
        }
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }
    async fn read(&self, _: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(Some(state.clone()))
    }
    async fn read_many(&self, _: &str, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        states.iter().map(|s| Ok(Some(s.clone()))).collect()
    }
    async fn create(&self, type_: &str, planned: &Value, _: &Marker) -> Result<Value, ProviderError> {
        match type_ {
            "random_id" => {
                let n = num(planned, "byte_length") as usize;
                let mut bytes = vec![0u8; n];
                rand::rng().fill(bytes.as_mut_slice());
                Ok(random_id_value(planned, &bytes))
            }
            _ => {
                let s = random_string(planned);
                let mut v = planned.clone();
                crate::set(&mut v, "id", Value::String(s.clone()));
                crate::set(&mut v, "result", Value::String(s));
                Ok(v)
            }
        }
    }
    async fn update(&self, _: &str, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        // Only non-force-new attributes reach here; keep the generated values.
        let mut v = prior.clone();
        if let (Value::Map(m), Value::Map(p)) = (&mut v, planned) {
            for (k, val) in p {
                if !val.is_unknown() {
                    m.insert(k.clone(), val.clone());
                }
            }
        }
        Ok(v)
    }
    async fn delete(&self, _: &str, _: &Value) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn import(&self, type_: &str, id: &str) -> Result<Option<Value>, ProviderError> {
        match type_ {
            "random_id" => {
                let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(id)
                    .map_err(|e| ProviderError::new(format!("the import id must be base64url without padding: {e}")))?;
                let base = Value::object([
                    ("byte_length".into(), Value::Number(bytes.len() as f64)),
                    ("prefix".into(), Value::Null),
                    ("keepers".into(), Value::Null),
                ]);
                Ok(Some(random_id_value(&base, &bytes)))
            }
            _ => {
                let n = id.chars().count() as f64;
                let has = |f: fn(&char) -> bool| Value::Bool(id.chars().any(|c| f(&c)));
                Ok(Some(Value::object([
                    ("id".into(), Value::str(id)),
                    ("result".into(), Value::str(id)),
                    ("length".into(), Value::Number(n)),
                    ("upper".into(), has(char::is_ascii_uppercase)),
                    ("lower".into(), has(char::is_ascii_lowercase)),
                    ("numeric".into(), has(char::is_ascii_digit)),
                    ("special".into(), has(|c| !c.is_ascii_alphanumeric())),
                    ("min_upper".into(), Value::Number(0.0)),
                    ("min_lower".into(), Value::Number(0.0)),
                    ("min_numeric".into(), Value::Number(0.0)),
                    ("min_special".into(), Value::Number(0.0)),
                    ("override_special".into(), Value::Null),
                    ("keepers".into(), Value::Null),
                ])))
            }
        }
    }
    async fn read_data(&self, t: &str, _: &Value) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!("{t} is not a data source")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_of_bytes() {
        assert_eq!(decimal(&[0x01, 0x00]), "256");
        assert_eq!(decimal(&[0xff; 4]), "4294967295");
        assert_eq!(decimal(&[0]), "0");
    }

    #[test]
    fn random_string_respects_classes_and_minimums() {
        let cfg = Value::object([
            ("length".into(), Value::Number(12.0)),
            ("special".into(), Value::Bool(false)),
            ("upper".into(), Value::Bool(false)),
            ("min_numeric".into(), Value::Number(5.0)),
        ]);
        for _ in 0..50 {
            let s = random_string(&cfg);
            assert_eq!(s.len(), 12);
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()), "{s}");
            assert!(s.chars().filter(char::is_ascii_digit).count() >= 5, "{s}");
        }
    }
}
