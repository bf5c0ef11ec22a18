//! The engine's dynamic value: JSON's shapes plus `Unknown` ("known after apply").

use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt;

/// Serialized (in plan files) as serde's external tagging: `"Null"`,
/// `{"String": "x"}`, `"Unknown"`, which keeps unknowns apart from nulls.
#[derive(Clone, Debug, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// A value that will be known only after apply.
    Unknown,
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when no part of the value is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "object",
            Value::Unknown => "unknown",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Terraform's string conversion for interpolation: numbers without a
    /// trailing `.0`, bools as `true`/`false`. `None` for collections and null.
    pub fn to_template_string(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(format_number(*n)),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// JSON form with unknown leaves dropped (as Terraform's `after`).
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null | Value::Unknown => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => Json::String(s.clone()),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(m) => {
                Json::Object(m.iter().filter(|(_, v)| !v.is_unknown()).map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// Terraform's `after_unknown`: `true` at unknown leaves, the same shape
    /// elsewhere, `false` for known scalars (omitted inside objects).
    pub fn unknown_mask(&self) -> Json {
        match self {
            Value::Unknown => Json::Bool(true),
            Value::List(items) => Json::Array(items.iter().map(Value::unknown_mask).collect()),
            Value::Map(m) => Json::Object(
                m.iter()
                    .filter(|(_, v)| !v.is_wholly_known() || matches!(v, Value::List(_) | Value::Map(_)))
                    .map(|(k, v)| (k.clone(), v.unknown_mask()))
                    .collect(),
            ),
            _ => Json::Bool(false),
        }
    }

    pub fn from_json(j: &Json) -> Value {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            Json::String(s) => Value::String(s.clone()),
            Json::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            Json::Object(o) => Value::Map(o.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()),
        }
    }

    /// Rebuild a value from its known part and Terraform's unknown mask
    /// (`after` + `after_unknown` in plan JSON).
    pub fn from_json_with_unknown(j: &Json, mask: &Json) -> Value {
        match mask {
            Json::Bool(true) => Value::Unknown,
            Json::Object(mo) => match j {
                Json::Object(o) => {
                    let mut m: BTreeMap<String, Value> = o
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::from_json_with_unknown(v, mo.get(k).unwrap_or(&Json::Null))))
                        .collect();
                    for (k, mv) in mo {
                        if !m.contains_key(k) && mv == &Json::Bool(true) {
                            m.insert(k.clone(), Value::Unknown);
                        }
                    }
                    Value::Map(m)
                }
                Json::Null => Value::Map(
                    mo.iter()
                        .filter(|(_, v)| **v == Json::Bool(true))
                        .map(|(k, _)| (k.clone(), Value::Unknown))
                        .collect(),
                ),
                other => Value::from_json(other),
            },
            Json::Array(ma) => match j {
                Json::Array(a) => Value::List(
                    a.iter()
                        .enumerate()
                        .map(|(i, v)| Value::from_json_with_unknown(v, ma.get(i).unwrap_or(&Json::Null)))
                        .collect(),
                ),
                other => Value::from_json(other),
            },
            _ => Value::from_json(j),
        }
    }

    /// Truthiness for conditions; `None` when the value is not a bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s == "true" => Some(true),
            Value::String(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Merge `other` over `self` where both are maps (used for tags_all-like defaults).
    pub fn object(entries: impl IntoIterator<Item = (String, Value)>) -> Value {
        Value::Map(entries.into_iter().collect())
    }
}

pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n}") }
}

fn number_to_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map(Json::Number).unwrap_or(Json::Null)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unknown => f.write_str("(known after apply)"),
            Value::String(s) => write!(f, "{s:?}"),
            other => write!(f, "{}", other.to_json()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_integers_integral() {
        let j: Json = serde_json::json!({"a": 1, "b": [true, "x", 2.5], "c": null});
        let v = Value::from_json(&j);
        assert_eq!(v.to_json(), j);
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(2.5), "2.5");
    }

    #[test]
    fn unknowns_survive_the_mask_round_trip() {
        let v = Value::object([
            ("id".to_string(), Value::Unknown),
            ("name".to_string(), Value::str("x")),
            ("list".to_string(), Value::List(vec![Value::Unknown, Value::str("y")])),
            ("nested".to_string(), Value::object([("a".to_string(), Value::Unknown)])),
        ]);
        assert_eq!(Value::from_json_with_unknown(&v.to_json(), &v.unknown_mask()), v);
    }

    #[test]
    fn unknown_mask_marks_only_unknown_leaves() {
        let v = Value::object([
            ("id".to_string(), Value::Unknown),
            ("name".to_string(), Value::str("x")),
            ("list".to_string(), Value::List(vec![Value::Unknown, Value::str("y")])),
        ]);
        assert_eq!(v.unknown_mask(), serde_json::json!({"id": true, "list": [true, false]}));
        assert_eq!(v.to_json(), serde_json::json!({"name": "x", "list": [null, "y"]}));
    }
}
