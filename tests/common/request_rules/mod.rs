//! AWS's published request rules, checked on every request a test sends.
//!
//! The emulator accepts requests that AWS refuses. This holds each request
//! to the constraints of AWS's own service models (botocore's JSON models,
//! which the emulator's Python environment already carries): required
//! members, string lengths and patterns, enums, numeric ranges and list and
//! map sizes. The proxy in front of the emulator answers a request that
//! breaks one with a 400 `ValidationError` naming the operation, the
//! parameter and the rule, so the test that sent it fails as it would on AWS.
//!
//! Patterns are matched against the whole value, as AWS's services apply
//! them (IAM refuses `a b` as a role name although `[\w+=,.@-]+` occurs in
//! it). A pattern Rust's regex cannot compile (look-arounds) is counted as
//! unchecked, never guessed at.

mod decode;
mod model;

pub use decode::HttpRequest;
pub use model::{Model, Models};

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// One broken rule: where in the request, and which rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub service: String,
    pub operation: String,
    /// `Tags[0].Value`, as the SDKs name members.
    pub parameter: String,
    pub rule: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}: {}", self.service, self.operation, self.parameter, self.rule)
    }
}

/// What the check made of one request.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    /// botocore's name for the service (`iam`, `elbv2`), when known.
    pub service: Option<String>,
    pub operation: Option<String>,
    pub violations: Vec<Violation>,
    /// The SDK's attempt number (`amz-sdk-request: attempt=2`): above 1 is a retry.
    pub attempt: u32,
}

pub struct RequestRules {
    models: Models,
    patterns: Mutex<HashMap<String, Option<regex::Regex>>>,
}

impl RequestRules {
    pub fn new(models: Models) -> RequestRules {
        RequestRules { models, patterns: Mutex::new(HashMap::new()) }
    }

    /// Rules from the botocore beside the emulator, or `None` when there is none.
    pub fn from_emulator() -> Option<RequestRules> {
        Models::beside_emulator().map(RequestRules::new)
    }

    pub fn check(&self, req: &HttpRequest) -> Checked {
        let attempt = req
            .header("amz-sdk-request")
            .and_then(|v| v.split(';').find_map(|p| p.trim().strip_prefix("attempt=")?.parse().ok()))
            .unwrap_or(1);
        let Some(service) = decode::service_of(req) else {
            return Checked { attempt, ..Checked::default() };
        };
        let Some(model) = self.models.get(service) else {
            return Checked { service: Some(service.into()), attempt, ..Checked::default() };
        };
        let Some((operation, input)) = decode::decode(&model, req) else {
            return Checked { service: Some(service.into()), attempt, ..Checked::default() };
        };
        let mut violations = Vec::new();
        if let Some(shape) = model.operation_input(&operation) {
            let mut walk = Walk { rules: self, model: &model, found: Vec::new() };
            walk.value(shape, &input, "");
            violations = walk
                .found
                .into_iter()
                .map(|(parameter, rule)| Violation {
                    service: service.into(),
                    operation: operation.clone(),
                    parameter,
                    rule,
                })
                .collect();
        }
        Checked { service: Some(service.into()), operation: Some(operation), violations, attempt }
    }

    /// Whole-value match; `None` when the pattern cannot be compiled here.
    fn matches(&self, pattern: &str, s: &str) -> Option<bool> {
        let mut cache = self.patterns.lock().ok()?;
        let re = cache
            .entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(&format!("^(?:{pattern})$")).ok())
            .as_ref()?;
        Some(re.is_match(s))
    }
}

struct Walk<'a> {
    rules: &'a RequestRules,
    model: &'a Model,
    found: Vec<(String, String)>,
}

impl Walk<'_> {
    fn fail(&mut self, path: &str, rule: String) {
        self.found.push((if path.is_empty() { "(input)".into() } else { path.into() }, rule));
    }

    fn value(&mut self, shape_name: &str, v: &Value, path: &str) {
        let Some(shape) = self.model.shape(shape_name) else { return };
        let min = shape.get("min").and_then(Value::as_f64);
        let max = shape.get("max").and_then(Value::as_f64);
        match shape.get("type").and_then(Value::as_str).unwrap_or("") {
            "structure" => self.structure(shape, v, path),
            "list" => {
                let Some(items) = v.as_array() else { return };
                self.size(path, items.len(), min, max, "items");
                if let Some(member) = shape.pointer("/member/shape").and_then(Value::as_str) {
                    for (i, item) in items.iter().enumerate() {
                        self.value(member, item, &format!("{path}[{i}]"));
                    }
                }
            }
            "map" => {
                let Some(entries) = v.as_object() else { return };
                self.size(path, entries.len(), min, max, "entries");
                let key = shape.pointer("/key/shape").and_then(Value::as_str);
                let val = shape.pointer("/value/shape").and_then(Value::as_str);
                for (k, item) in entries {
                    if let Some(key) = key {
                        self.value(key, &Value::String(k.clone()), &format!("{path} key {k:?}"));
                    }
                    if let Some(val) = val {
                        self.value(val, item, &format!("{path}[{k:?}]"));
                    }
                }
            }
            "string" => {
                let Some(s) = v.as_str() else { return };
                self.size(path, s.chars().count(), min, max, "characters");
                if let Some(allowed) = shape.get("enum").and_then(Value::as_array)
                    && !allowed.iter().any(|a| a.as_str() == Some(s))
                {
                    let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                    self.fail(path, format!("{s:?} is not one of [{}]", names.join(", ")));
                }
                if let Some(pattern) = shape.get("pattern").and_then(Value::as_str)
                    && self.rules.matches(pattern, s) == Some(false)
                {
                    self.fail(path, format!("{s:?} does not match the pattern {pattern}"));
                }
            }
            "integer" | "long" | "double" | "float" => {
                let n = v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
                let Some(n) = n else { return };
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                    self.fail(path, format!("{n} is outside {}..={}", bound(min), bound(max)));
                }
            }
            _ => {}
        }
    }

    fn structure(&mut self, shape: &Value, v: &Value, path: &str) {
        let Some(obj) = v.as_object() else { return };
        for name in shape.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if obj.get(name).is_none_or(Value::is_null) {
                self.fail(&join(path, name), "is required".into());
            }
        }
        let Some(members) = shape.get("members").and_then(Value::as_object) else { return };
        for (name, item) in obj {
            if let Some(member) = members.get(name).and_then(|m| m.get("shape")).and_then(Value::as_str) {
                self.value(member, item, &join(path, name));
            }
        }
    }

    fn size(&mut self, path: &str, n: usize, min: Option<f64>, max: Option<f64>, unit: &str) {
        let n = n as f64;
        if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
            self.fail(path, format!("{n} {unit}, allowed {}..={}", bound(min), bound(max)));
        }
    }
}

fn bound(b: Option<f64>) -> String {
    b.map(|b| b.to_string()).unwrap_or_default()
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_string() } else { format!("{path}.{name}") }
}
