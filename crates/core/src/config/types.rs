//! Terraform type constraints (`string`, `list(string)`, `object({a=number})`)
//! and the conversions Terraform applies when a value meets one.

use crate::value::{Value, format_number};
use hcl::expr::{Expression, ObjectKey};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::str::FromStr;

#[derive(Clone, Debug, PartialEq)]
pub enum TypeConstraint {
    Any,
    String,
    Number,
    Bool,
    List(Box<TypeConstraint>),
    /// Unordered and unique; Terraform iterates it in cty's order (`set_order`).
    Set(Box<TypeConstraint>),
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
                "list" => Ok(TypeConstraint::List(Box::new(TypeConstraint::Any))),
                "set" => Ok(TypeConstraint::Set(Box::new(TypeConstraint::Any))),
                "map" => Ok(TypeConstraint::Map(Box::new(TypeConstraint::Any))),
                other => Err(format!("unknown type {other:?}")),
            },
            Expression::FuncCall(fc) => {
                let arg = fc.args.first().ok_or_else(|| format!("{}() needs an argument", fc.name.name))?;
                match fc.name.name.as_str() {
                    "list" => Ok(TypeConstraint::List(Box::new(Self::from_expr(arg)?))),
                    "set" => Ok(TypeConstraint::Set(Box::new(Self::from_expr(arg)?))),
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
            (TypeConstraint::List(inner) | TypeConstraint::Set(inner), Value::List(items)) => items
                .iter()
                .enumerate()
                .flat_map(|(i, item)| inner.unknown_attributes(item, &format!("{path}[{i}]")))
                .collect(),
            (TypeConstraint::List(inner) | TypeConstraint::Set(inner), Value::Map(_)) => {
                inner.unknown_attributes(v, path)
            }
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
            (TypeConstraint::List(inner) | TypeConstraint::Set(inner), Value::Null)
                if matches!(**inner, TypeConstraint::Object(_)) =>
            {
                Value::List(Vec::new())
            }
            _ => self.each_nested(v, &|t, item| t.with_absent_blocks_empty(item)),
        }
    }

    /// `v` with `f` applied to each element of a list or set and each
    /// attribute of an object, given its own type; anything else as it is.
    /// The descent every walk over a typed value shares.
    fn each_nested(&self, v: &Value, f: &dyn Fn(&TypeConstraint, &Value) -> Value) -> Value {
        match (self, v) {
            (TypeConstraint::List(inner) | TypeConstraint::Set(inner), Value::List(items)) => {
                Value::List(items.iter().map(|i| f(inner, i)).collect())
            }
            (TypeConstraint::Object(attrs), Value::Map(m)) => Value::Map(
                m.iter()
                    .map(|(k, i)| (k.clone(), attrs.get(k).map(|(t, _)| f(t, i)).unwrap_or_else(|| i.clone())))
                    .collect(),
            ),
            _ => v.clone(),
        }
    }

    /// `v` with every set in it (at any depth) in the order Terraform
    /// iterates sets, so plans, state and their text list elements as
    /// Terraform does, whatever order an API answered in.
    pub fn in_set_order(&self, v: &Value) -> Value {
        match (self, v) {
            (TypeConstraint::Set(inner), Value::List(items)) => {
                let mut items: Vec<Value> = items.iter().map(|i| inner.in_set_order(i)).collect();
                items.sort_by(|a, b| set_order(a, b, inner));
                Value::List(items)
            }
            (TypeConstraint::Map(inner), Value::Map(m)) => {
                Value::Map(m.iter().map(|(k, i)| (k.clone(), inner.in_set_order(i))).collect())
            }
            (TypeConstraint::Tuple(types), Value::List(items)) => Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(n, i)| types.get(n).map(|t| t.in_set_order(i)).unwrap_or(i.clone()))
                    .collect(),
            ),
            _ => self.each_nested(v, &|t, item| t.in_set_order(item)),
        }
    }

    /// `v` with each set of plain values that holds an unknown element
    /// unknown as a whole, as providers built on Terraform's plugin SDK plan
    /// it: how many distinct elements there will be is not known either.
    pub fn with_partly_unknown_sets_unknown(&self, v: &Value) -> Value {
        let plain =
            |t: &TypeConstraint| matches!(t, TypeConstraint::String | TypeConstraint::Number | TypeConstraint::Bool);
        match (self, v) {
            (TypeConstraint::Set(inner), Value::List(items)) if plain(inner) && items.iter().any(Value::is_unknown) => {
                Value::Unknown
            }
            _ => self.each_nested(v, &|t, item| t.with_partly_unknown_sets_unknown(item)),
        }
    }

    /// What Terraform's JSON formats write for this type (`["set","string"]`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            TypeConstraint::Any => json!("dynamic"),
            TypeConstraint::String => json!("string"),
            TypeConstraint::Number => json!("number"),
            TypeConstraint::Bool => json!("bool"),
            TypeConstraint::List(i) => json!(["list", i.to_json()]),
            TypeConstraint::Set(i) => json!(["set", i.to_json()]),
            TypeConstraint::Map(i) => json!(["map", i.to_json()]),
            TypeConstraint::Object(attrs) => {
                json!([
                    "object",
                    attrs.iter().map(|(k, (t, _))| (k.clone(), t.to_json())).collect::<serde_json::Map<_, _>>()
                ])
            }
            TypeConstraint::Tuple(types) => json!(["tuple", types.iter().map(|t| t.to_json()).collect::<Vec<_>>()]),
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
            (TypeConstraint::List(inner) | TypeConstraint::Set(inner), Value::Map(_))
                if matches!(**inner, TypeConstraint::Object(_)) =>
            {
                Value::List(vec![inner.blocks_as_lists(v)])
            }
            _ => self.each_nested(v, &|t, item| t.blocks_as_lists(item)),
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
            TypeConstraint::Set(inner) => match v {
                Value::List(items) => {
                    let mut out: Vec<Value> = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        let c = inner.convert(item).map_err(|e| format!("element {i}: {e}"))?;
                        // Unknown elements may turn out equal to others: kept.
                        if c.is_unknown() || !out.contains(&c) {
                            out.push(c);
                        }
                    }
                    Ok(self.in_set_order(&Value::List(out)))
                }
                other => Err(format!("set required, got {}", other.type_name())),
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

/// The order in which Terraform (cty) iterates a set's elements of type
/// `elem`: null last, unknown after known, strings by their bytes, numbers
/// by value, false before true; anything else by the text cty hashes it by.
pub fn set_order(a: &Value, b: &Value, elem: &TypeConstraint) -> Ordering {
    let rank = |v: &Value| match v {
        Value::Null => 2,
        Value::Unknown => 1,
        _ => 0,
    };
    match (a, b) {
        _ if a == b => Ordering::Equal,
        _ if rank(a) != rank(b) => rank(a).cmp(&rank(b)),
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => {
            let (mut x, mut y) = (String::new(), String::new());
            hash_text(a, elem, &mut x);
            hash_text(b, elem, &mut y);
            x.as_bytes().cmp(y.as_bytes())
        }
    }
}

/// cty's text for a value in a set (`makeSetHashBytes`): objects as
/// `<v;v;>` by attribute name, maps `{"k":v;}`, lists and sets `[v;]`.
fn hash_text(v: &Value, ty: &TypeConstraint, out: &mut String) {
    let any = TypeConstraint::Any;
    match v {
        Value::Unknown => out.push('?'),
        Value::Null => out.push('~'),
        Value::Bool(b) => out.push(if *b { 'T' } else { 'F' }),
        Value::Number(n) => out.push_str(&format_number(*n)),
        Value::String(s) => out.push_str(&format!("{s:?}")),
        Value::List(items) => {
            let (open, close) = if matches!(ty, TypeConstraint::Tuple(_)) { ('<', '>') } else { ('[', ']') };
            out.push(open);
            for (i, item) in items.iter().enumerate() {
                let t = match ty {
                    TypeConstraint::List(t) | TypeConstraint::Set(t) => t,
                    TypeConstraint::Tuple(ts) => ts.get(i).unwrap_or(&any),
                    _ => &any,
                };
                hash_text(item, t, out);
                out.push(';');
            }
            out.push(close);
        }
        Value::Map(m) => match ty {
            TypeConstraint::Map(t) => {
                out.push('{');
                for (k, item) in m {
                    out.push_str(&format!("{k:?}:"));
                    hash_text(item, t, out);
                    out.push(';');
                }
                out.push('}');
            }
            _ => {
                // An object: every attribute of its type, absent ones null.
                out.push('<');
                let names: std::collections::BTreeSet<&String> = match ty {
                    TypeConstraint::Object(attrs) => attrs.keys().chain(m.keys()).collect(),
                    _ => m.keys().collect(),
                };
                for name in names {
                    let t = match ty {
                        TypeConstraint::Object(attrs) => attrs.get(name).map(|(t, _)| t).unwrap_or(&any),
                        _ => &any,
                    };
                    hash_text(m.get(name).unwrap_or(&Value::Null), t, out);
                    out.push(';');
                }
                out.push('>');
            }
        },
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

    #[test]
    fn sets_are_unique_and_in_terraforms_order() {
        let t = TypeConstraint::parse("set(string)").unwrap();
        let v = Value::List(["b", "a", "b", "B"].map(Value::str).to_vec());
        assert_eq!(t.convert(&v).unwrap(), Value::List(["B", "a", "b"].map(Value::str).to_vec()));
        let t = TypeConstraint::parse("set(number)").unwrap();
        let v = Value::List(vec![Value::Unknown, Value::Number(10.0), Value::Number(9.0)]);
        assert_eq!(t.convert(&v).unwrap(), Value::List(vec![Value::Number(9.0), Value::Number(10.0), Value::Unknown]));
        assert_eq!(TypeConstraint::parse("set(string)").unwrap().with_partly_unknown_sets_unknown(&v), Value::Unknown);
        // Objects by cty's hash text: `<["0.0.0.0/0";];443;>` before `<["10.0.0.0/8";];22;>`.
        let rule = |cidr: &str, port: f64| {
            Value::object([
                ("cidr_blocks".into(), Value::List(vec![Value::str(cidr)])),
                ("port".into(), Value::Number(port)),
            ])
        };
        let t = TypeConstraint::parse("set(object({cidr_blocks = list(string), port = number}))").unwrap();
        let v = Value::List(vec![rule("10.0.0.0/8", 22.0), rule("0.0.0.0/0", 443.0)]);
        assert_eq!(t.in_set_order(&v), Value::List(vec![rule("0.0.0.0/0", 443.0), rule("10.0.0.0/8", 22.0)]));
        assert_eq!(
            t.to_json(),
            serde_json::json!(["set", ["object", {"cidr_blocks": ["list", "string"], "port": "number"}]])
        );
    }
}
