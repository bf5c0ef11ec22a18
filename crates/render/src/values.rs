//! Writing values as Terraform's plan text does: quoted strings, heredocs
//! for multi-line text, JSON documents pretty-printed so they diff by line.

use ecspoc_core::value::{Value, format_number};

/// A one-line rendering, or `None` when the value needs several lines.
pub fn inline(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("null".into()),
        Value::Unknown => Some("(known after apply)".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(format_number(*n)),
        Value::String(s) if s.contains('\n') || as_json_document(s).is_some() => None,
        Value::String(s) => Some(quote(s)),
        Value::List(items) if items.is_empty() => Some("[]".into()),
        Value::Map(m) if m.is_empty() => Some("{}".into()),
        _ => None,
    }
}

pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// A string holding a JSON object or array (a policy, an event pattern).
pub fn as_json_document(s: &str) -> Option<serde_json::Value> {
    let t = s.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<serde_json::Value>(s).ok().filter(|j| j.is_object() || j.is_array())
}

/// The lines a multi-line string is shown as: JSON pretty-printed with sorted
/// keys (so reordering is not a change), other text line by line.
pub fn document_lines(s: &str) -> Vec<String> {
    match as_json_document(s) {
        Some(j) => serde_json::to_string_pretty(&sort_keys(&j)).unwrap_or_default().lines().map(String::from).collect(),
        None => s.lines().map(String::from).collect(),
    }
}

fn sort_keys(j: &serde_json::Value) -> serde_json::Value {
    match j {
        serde_json::Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            serde_json::Value::Object(keys.into_iter().map(|k| (k.clone(), sort_keys(&o[k]))).collect())
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

pub fn is_json_document(v: &Value) -> bool {
    matches!(v, Value::String(s) if as_json_document(s).is_some())
}
