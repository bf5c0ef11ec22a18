//! Terraform type constraints (`string`, `list(string)`, `object({a=number})`)
//! and the conversions Terraform applies when a value meets one.

use crate::value::{Value, format_number};
use hcl::expr::{Expression, ObjectKey};
use std::collections::BTreeMap;
use std::str::FromStr;

#[derive(Clone, Debug, PartialEq)]
pub enum TypeConstraint {
    Any,
    String,
    Number,
    Bool,
    List(Box<TypeConstraint>),
    Map(Box<TypeConstraint>),
    Object(BTreeMap<String, (TypeConstraint, bool)>),
    Tuple(Vec<TypeConstraint>),
}

impl TypeConstraint {
    pub fn parse(s: &str) -> Result<TypeConstraint, String> {
        let expr = Expression::from_str(s).map_err(|e| format!("invalid type constraint {s:?}: {e}"))?;
        Self::from_expr(&expr)
    }

    fn from_expr(e: &Expression) -> Result<TypeConstraint, String> {
        match e {
            Expression::Variable(v) => match v.as_str() {
                "any" => Ok(TypeConstraint::Any),
                "string" => Ok(TypeConstraint::String),
                "number" => Ok(TypeConstraint::Number),
                "bool" => Ok(TypeConstraint::Bool),
                // Terraform 0.11's bare collection types, still accepted: of any element type.
                "list" | "set" => Ok(TypeConstraint::List(Box::new(TypeConstraint::Any))),
                "map" => Ok(TypeConstraint::Map(Box::new(TypeConstraint::Any))),
                other => Err(format!("unknown type {other:?}")),
            },
            Expression::FuncCall(fc) => {
                let arg = fc.args.first().ok_or_else(|| format!("{}() needs an argument", fc.name.name))?;
                match fc.name.name.as_str() {
                    "list" | "set" => Ok(TypeConstraint::List(Box::new(Self::from_expr(arg)?))),
                    "map" => Ok(TypeConstraint::Map(Box::new(Self::from_expr(arg)?))),
                    "tuple" => match arg {
                        Expression::Array(items) => {
                            Ok(TypeConstraint::Tuple(items.iter().map(Self::from_expr).collect::<Result<_, _>>()?))
                        }
                        _ => Err("tuple() takes a list of types".into()),
                    },
                    "object" => match arg {
                        Expression::Object(obj) => {
                            let mut attrs = BTreeMap::new();
                            for (k, v) in obj.iter() {
                                let name = match k {
                                    ObjectKey::Identifier(i) => i.to_string(),
                                    ObjectKey::Expression(Expression::Variable(v)) => v.to_string(),
                                    ObjectKey::Expression(Expression::String(s)) => s.clone(),
                                    _ => {
                                        return Err("object() attribute names must be identifiers".into());
                                    }
                                };
                                let (ty, optional) = match v {
                                    Expression::FuncCall(fc) if fc.name.name.as_str() == "optional" => {
                                        let inner = fc.args.first().ok_or("optional() needs a type")?;
                                        (Self::from_expr(inner)?, true)
                                    }
                                    other => (Self::from_expr(other)?, false),
                                };
                                attrs.insert(name, (ty, optional));
                            }
                            Ok(TypeConstraint::Object(attrs))
                        }
                        _ => Err("object() takes an object of attribute types".into()),
                    },
                    other => Err(format!("unknown type constructor {other:?}")),
                }
            }
            _ => Err("a type constraint is a type name or constructor".into()),
        }
    }

    /// Convert `v` to this type as Terraform does (e.g. `"5"` to 5 for a number),
    /// or say why it cannot be.
    /// Attribute names inside `v` that this type's objects do not have, as
    /// paths (`health_check.pth`): conversion would drop them silently.
    pub fn unknown_attributes(&self, v: &Value, path: &str) -> Vec<String> {
        match (self, v) {
            (TypeConstraint::List(inner), Value::List(items)) => items
                .iter()
                .enumerate()
                .flat_map(|(i, item)| inner.unknown_attributes(item, &format!("{path}[{i}]")))
                .collect(),
            (TypeConstraint::List(inner), Value::Map(_)) => inner.unknown_attributes(v, path),
            (TypeConstraint::Map(inner), Value::Map(m)) => {
                m.iter().flat_map(|(k, item)| inner.unknown_attributes(item, &format!("{path}.{k}"))).collect()
            }
            (TypeConstraint::Object(attrs), Value::Map(m)) => m
                .iter()
                .flat_map(|(k, item)| match attrs.get(k) {
                    Some((ty, _)) => ty.unknown_attributes(item, &format!("{path}.{k}")),
                    None => vec![format!("{path}.{k}")],
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `v` with every nested block that is null written as an empty list, as
    /// Terraform writes absent blocks (`[]`) in plan and state JSON.
    pub fn with_absent_blocks_empty(&self, v: &Value) -> Value {
        match (self, v) {
            (TypeConstraint::List(inner), Value::Null) if matches!(**inner, TypeConstraint::Object(_)) => {
                Value::List(Vec::new())
            }
            (TypeConstraint::List(inner), Value::List(items)) => {
                Value::List(items.iter().map(|i| inner.with_absent_blocks_empty(i)).collect())
            }
            (TypeConstraint::Object(attrs), Value::Map(m)) => Value::Map(
                m.iter()
                    .map(|(k, item)| {
                        let item = attrs
                            .get(k)
                            .map(|(ty, _)| ty.with_absent_blocks_empty(item))
                            .unwrap_or_else(|| item.clone());
                        (k.clone(), item)
                    })
                    .collect(),
            ),
            _ => v.clone(),
        }
    }

    /// A resource argument's conversion: as `convert`, but a block that
    /// appears once may be written as one object (Terraform's JSON syntax),
    /// at any depth. Variables' types stay strict.
    pub fn convert_argument(&self, v: &Value) -> Result<Value, String> {
        self.convert(&self.blocks_as_lists(v))
    }

    fn blocks_as_lists(&self, v: &Value) -> Value {
        match (self, v) {
            (TypeConstraint::List(inner), Value::Map(_)) if matches!(**inner, TypeConstraint::Object(_)) => {
                Value::List(vec![inner.blocks_as_lists(v)])
            }
            (TypeConstraint::List(inner), Value::List(items)) => {
                Value::List(items.iter().map(|i| inner.blocks_as_lists(i)).collect())
            }
            (TypeConstraint::Object(attrs), Value::Map(m)) => Value::Map(
                m.iter()
                    .map(|(k, item)| {
                        let item = attrs.get(k).map(|(ty, _)| ty.blocks_as_lists(item)).unwrap_or_else(|| item.clone());
                        (k.clone(), item)
                    })
                    .collect(),
            ),
            _ => v.clone(),
        }
    }

    pub fn convert(&self, v: &Value) -> Result<Value, String> {
        if v.is_unknown() || v.is_null() {
            return Ok(v.clone());
        }
        match self {
            TypeConstraint::Any => Ok(v.clone()),
            TypeConstraint::String => match v {
                Value::String(_) => Ok(v.clone()),
                Value::Number(n) => Ok(Value::String(format_number(*n))),
                Value::Bool(b) => Ok(Value::String(b.to_string())),
                other => Err(format!("string required, got {}", other.type_name())),
            },
            TypeConstraint::Number => match v {
                Value::Number(_) => Ok(v.clone()),
                Value::String(s) => {
                    s.trim().parse::<f64>().map(Value::Number).map_err(|_| format!("a number is required, got {s:?}"))
                }
                other => Err(format!("number required, got {}", other.type_name())),
            },
            TypeConstraint::Bool => {
                v.as_bool().map(Value::Bool).ok_or_else(|| format!("bool required, got {}", v.type_name()))
            }
            TypeConstraint::List(inner) => match v {
                Value::List(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| inner.convert(item).map_err(|e| format!("element {i}: {e}")))
                    .collect::<Result<_, _>>()
                    .map(Value::List),
                other => Err(format!("list required, got {}", other.type_name())),
            },
            TypeConstraint::Tuple(types) => match v {
                Value::List(items) if items.len() == types.len() => {
                    items.iter().zip(types).map(|(i, t)| t.convert(i)).collect::<Result<_, _>>().map(Value::List)
                }
                _ => Err(format!("tuple of {} elements required", types.len())),
            },
            TypeConstraint::Map(inner) => match v {
                Value::Map(m) => m
                    .iter()
                    .map(|(k, item)| {
                        inner.convert(item).map(|c| (k.clone(), c)).map_err(|e| format!("element {k:?}: {e}"))
                    })
                    .collect::<Result<_, _>>()
                    .map(Value::Map),
                other => Err(format!("map required, got {}", other.type_name())),
            },
            TypeConstraint::Object(attrs) => match v {
                Value::Map(m) => {
                    let mut out = BTreeMap::new();
                    for (name, (ty, optional)) in attrs {
                        match m.get(name) {
                            Some(val) => {
                                out.insert(
                                    name.clone(),
                                    ty.convert(val).map_err(|e| format!("attribute {name:?}: {e}"))?,
                                );
                            }
                            None if *optional => {
                                out.insert(name.clone(), Value::Null);
                            }
                            None => return Err(format!("attribute {name:?} is required")),
                        }
                    }
                    Ok(Value::Map(out))
                }
                other => Err(format!("object required, got {}", other.type_name())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_converts() {
        let t = TypeConstraint::parse("list(number)").unwrap();
        assert_eq!(t.convert(&Value::List(vec![Value::str("2")])).unwrap(), Value::List(vec![Value::Number(2.0)]));
        let o = TypeConstraint::parse("object({name = string, port = optional(number)})").unwrap();
        let v = Value::object([("name".into(), Value::str("web"))]);
        let converted = o.convert(&v).unwrap();
        assert_eq!(converted.get("port"), Some(&Value::Null));
        assert!(o.convert(&Value::object([])).is_err());
        assert!(TypeConstraint::parse("strng").is_err());
        assert!(TypeConstraint::Number.convert(&Value::str("abc")).is_err());
    }

    #[test]
    fn a_block_written_once_is_a_list_of_one_for_arguments_only() {
        let block = TypeConstraint::List(Box::new(TypeConstraint::Object(
            [("path".to_string(), (TypeConstraint::String, true))].into_iter().collect(),
        )));
        let one = Value::object([("path".into(), Value::str("/"))]);
        let converted = block.convert_argument(&one).expect("argument");
        assert_eq!(converted, Value::List(vec![Value::object([("path".into(), Value::str("/"))])]));
        assert!(block.convert(&one).is_err(), "a variable of type list(object) takes a list");
    }
}
