//! Terraform's built-in functions. A function whose inputs are not yet known
//! returns Unknown, except those that only look at a collection's shape.

use super::{EvalError, Scope, eval_template_text, values_equal};
use crate::value::{Value, format_number};
use base64::Engine;
use std::collections::BTreeMap;
use std::net::IpAddr;

type FResult = Result<Value, EvalError>;

fn fail<T>(msg: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError(msg.into()))
}

fn arity(args: &[Value], min: usize, max: usize) -> Result<(), EvalError> {
    if args.len() < min || args.len() > max {
        if min == max {
            return fail(format!("takes {min} argument(s), got {}", args.len()));
        }
        return fail(format!("takes {min} to {max} arguments, got {}", args.len()));
    }
    Ok(())
}

fn string(v: &Value, what: &str) -> Result<String, EvalError> {
    v.to_template_string().ok_or_else(|| EvalError(format!("{what} must be a string, got {}", v.type_name())))
}

fn number(v: &Value, what: &str) -> Result<f64, EvalError> {
    v.as_number().ok_or_else(|| EvalError(format!("{what} must be a number, got {}", v.type_name())))
}

fn list(v: &Value, what: &str) -> Result<Vec<Value>, EvalError> {
    match v {
        Value::List(items) => Ok(items.clone()),
        other => fail(format!("{what} must be a list, got {}", other.type_name())),
    }
}

fn map(v: &Value, what: &str) -> Result<BTreeMap<String, Value>, EvalError> {
    match v {
        Value::Map(m) => Ok(m.clone()),
        other => fail(format!("{what} must be a map or object, got {}", other.type_name())),
    }
}

/// Functions that work on a collection's structure and pass unknown elements through.
const STRUCTURAL: &[&str] = &[
    "length", "element", "lookup", "merge", "concat", "keys", "values", "contains", "coalesce", "tolist", "toset",
    "tomap", "flatten", "zipmap", "compact", "slice", "reverse", "distinct",
];

pub(super) fn call(name: &str, args: Vec<Value>, scope: &dyn Scope) -> FResult {
    if args.iter().any(Value::is_unknown) || (!STRUCTURAL.contains(&name) && !args.iter().all(Value::is_wholly_known)) {
        return Ok(Value::Unknown);
    }
    let a = &args;
    match name {
        // Strings
        "format" => {
            arity(a, 1, usize::MAX)?;
            format(&string(&a[0], "the format")?, &a[1..])
        }
        "formatlist" => {
            arity(a, 1, usize::MAX)?;
            let n = a[1..]
                .iter()
                .filter_map(|v| if let Value::List(l) = v { Some(l.len()) } else { None })
                .max()
                .unwrap_or(1);
            let f = string(&a[0], "the format")?;
            (0..n)
                .map(|i| {
                    let row: Vec<Value> =
                        a[1..]
                            .iter()
                            .map(|v| {
                                if let Value::List(l) = v {
                                    l.get(i).cloned().unwrap_or(Value::Null)
                                } else {
                                    v.clone()
                                }
                            })
                            .collect();
                    format(&f, &row)
                })
                .collect::<Result<_, _>>()
                .map(Value::List)
        }
        "join" => {
            arity(a, 2, 2)?;
            let sep = string(&a[0], "the separator")?;
            let parts = list(&a[1], "the second argument")?
                .iter()
                .map(|v| string(v, "each element"))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::String(parts.join(&sep)))
        }
        "split" => {
            arity(a, 2, 2)?;
            let sep = string(&a[0], "the separator")?;
            let s = string(&a[1], "the string")?;
            if s.is_empty() {
                return Ok(Value::List(vec![Value::str("")]));
            }
            Ok(Value::List(s.split(sep.as_str()).map(Value::str).collect()))
        }
        "lower" => one_string(a, |s| s.to_lowercase()),
        "upper" => one_string(a, |s| s.to_uppercase()),
        "trimspace" => one_string(a, |s| s.trim().to_string()),
        "title" => one_string(a, |s| {
            s.split(' ')
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
                })
                .collect::<Vec<String>>()
                .join(" ")
        }),
        "trimprefix" | "trimsuffix" | "startswith" | "endswith" | "strcontains" => {
            arity(a, 2, 2)?;
            let s = string(&a[0], "the string")?;
            let p = string(&a[1], "the second argument")?;
            Ok(match name {
                "trimprefix" => Value::String(s.strip_prefix(p.as_str()).unwrap_or(&s).to_string()),
                "trimsuffix" => Value::String(s.strip_suffix(p.as_str()).unwrap_or(&s).to_string()),
                "startswith" => Value::Bool(s.starts_with(&p)),
                "endswith" => Value::Bool(s.ends_with(&p)),
                _ => Value::Bool(s.contains(&p)),
            })
        }
        "replace" => {
            arity(a, 3, 3)?;
            let s = string(&a[0], "the string")?;
            let from = string(&a[1], "the substring")?;
            let to = string(&a[2], "the replacement")?;
            if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
                let re = regex::Regex::new(&from[1..from.len() - 1])
                    .map_err(|e| EvalError(format!("invalid regular expression: {e}")))?;
                Ok(Value::String(re.replace_all(&s, to.as_str()).into_owned()))
            } else {
                Ok(Value::String(s.replace(&from, &to)))
            }
        }
        "substr" => {
            arity(a, 3, 3)?;
            let s: Vec<char> = string(&a[0], "the string")?.chars().collect();
            let mut offset = number(&a[1], "the offset")? as i64;
            let length = number(&a[2], "the length")? as i64;
            if offset < 0 {
                offset += s.len() as i64;
            }
            let start = offset.clamp(0, s.len() as i64) as usize;
            let end = if length < 0 { s.len() } else { start.saturating_add(length as usize).min(s.len()) };
            Ok(Value::String(s[start..end].iter().collect()))
        }
        "regex" => {
            arity(a, 2, 2)?;
            let re = regex::Regex::new(&string(&a[0], "the pattern")?)
                .map_err(|e| EvalError(format!("invalid regular expression: {e}")))?;
            let s = string(&a[1], "the string")?;
            let caps = re.captures(&s).ok_or_else(|| EvalError("pattern did not match".into()))?;
            Ok(match caps.len() {
                1 => Value::str(&caps[0]),
                _ => Value::List(
                    caps.iter().skip(1).map(|c| c.map(|m| Value::str(m.as_str())).unwrap_or(Value::Null)).collect(),
                ),
            })
        }
        // Collections
        "length" => {
            arity(a, 1, 1)?;
            Ok(Value::Number(match &a[0] {
                Value::List(l) => l.len(),
                Value::Map(m) => m.len(),
                Value::String(s) => s.chars().count(),
                other => {
                    return fail(format!("cannot take the length of a {} value", other.type_name()));
                }
            } as f64))
        }
        "element" => {
            arity(a, 2, 2)?;
            let l = list(&a[0], "the first argument")?;
            if l.is_empty() {
                return fail("cannot use element() on an empty list");
            }
            let i = number(&a[1], "the index")?;
            if i < 0.0 {
                return fail("the index must not be negative");
            }
            Ok(l[(i as usize) % l.len()].clone())
        }
        "lookup" => {
            arity(a, 2, 3)?;
            let m = map(&a[0], "the first argument")?;
            let k = string(&a[1], "the key")?;
            match (m.get(&k), a.get(2)) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(d)) => Ok(d.clone()),
                (None, None) => fail(format!("the given key {k:?} does not exist")),
            }
        }
        "merge" => {
            let mut out = BTreeMap::new();
            for v in a {
                if !v.is_null() {
                    out.extend(map(v, "each argument")?);
                }
            }
            Ok(Value::Map(out))
        }
        "concat" => {
            Ok(Value::List(a.iter().map(|v| list(v, "each argument")).collect::<Result<Vec<_>, _>>()?.concat()))
        }
        "keys" => {
            arity(a, 1, 1)?;
            Ok(Value::List(map(&a[0], "the argument")?.into_keys().map(Value::String).collect()))
        }
        "values" => {
            arity(a, 1, 1)?;
            Ok(Value::List(map(&a[0], "the argument")?.into_values().collect()))
        }
        "contains" => {
            arity(a, 2, 2)?;
            let l = list(&a[0], "the first argument")?;
            if l.iter().any(Value::is_unknown) {
                return Ok(Value::Unknown);
            }
            Ok(Value::Bool(l.iter().any(|v| {
                values_equal(v, &a[1])
                    || v.to_template_string().is_some() && v.to_template_string() == a[1].to_template_string()
            })))
        }
        "coalesce" => {
            for v in a {
                match v {
                    Value::Unknown => return Ok(Value::Unknown),
                    Value::Null => {}
                    Value::String(s) if s.is_empty() => {}
                    other => return Ok(other.clone()),
                }
            }
            fail("no non-null, non-empty argument")
        }
        "compact" => {
            arity(a, 1, 1)?;
            Ok(Value::List(
                list(&a[0], "the argument")?.into_iter().filter(|v| !v.is_null() && v.as_str() != Some("")).collect(),
            ))
        }
        "flatten" => {
            arity(a, 1, 1)?;
            fn flat(v: Value, out: &mut Vec<Value>) {
                match v {
                    Value::List(items) => items.into_iter().for_each(|i| flat(i, out)),
                    other => out.push(other),
                }
            }
            let mut out = Vec::new();
            flat(Value::List(list(&a[0], "the argument")?), &mut out);
            Ok(Value::List(out))
        }
        "distinct" | "toset" => {
            arity(a, 1, 1)?;
            let mut out: Vec<Value> = Vec::new();
            for v in list(&a[0], "the argument")? {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            if name == "toset" && out.iter().all(|v| v.as_str().is_some()) {
                out.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
            }
            Ok(Value::List(out))
        }
        "tolist" => {
            arity(a, 1, 1)?;
            Ok(Value::List(list(&a[0], "the argument")?))
        }
        "tomap" => {
            arity(a, 1, 1)?;
            Ok(Value::Map(map(&a[0], "the argument")?))
        }
        "reverse" => {
            arity(a, 1, 1)?;
            let mut l = list(&a[0], "the argument")?;
            l.reverse();
            Ok(Value::List(l))
        }
        "slice" => {
            arity(a, 3, 3)?;
            let l = list(&a[0], "the list")?;
            let (s, e) = (number(&a[1], "the start")? as usize, number(&a[2], "the end")? as usize);
            if s > e || e > l.len() {
                return fail("slice bounds out of range");
            }
            Ok(Value::List(l[s..e].to_vec()))
        }
        "sort" => {
            arity(a, 1, 1)?;
            let mut l = list(&a[0], "the argument")?
                .iter()
                .map(|v| string(v, "each element"))
                .collect::<Result<Vec<_>, _>>()?;
            l.sort();
            Ok(Value::List(l.into_iter().map(Value::String).collect()))
        }
        "zipmap" => {
            arity(a, 2, 2)?;
            let k = list(&a[0], "the keys")?;
            let v = list(&a[1], "the values")?;
            if k.len() != v.len() {
                return fail("the keys and values lists must have the same length");
            }
            Ok(Value::Map(
                k.iter()
                    .map(|k| string(k, "each key"))
                    .zip(v)
                    .map(|(k, v)| k.map(|k| (k, v)))
                    .collect::<Result<_, _>>()?,
            ))
        }
        "range" => {
            arity(a, 1, 3)?;
            let nums = a.iter().map(|v| number(v, "each argument")).collect::<Result<Vec<_>, _>>()?;
            let (start, end, step) = match nums.as_slice() {
                [e] => (0.0, *e, 1.0),
                [s, e] => (*s, *e, if s <= e { 1.0 } else { -1.0 }),
                [s, e, st] => (*s, *e, *st),
                _ => unreachable!("arity checked"),
            };
            if step == 0.0 {
                return fail("the step must not be zero");
            }
            let mut out = Vec::new();
            let mut x = start;
            while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
                out.push(Value::Number(x));
                x += step;
                if out.len() > 1024 * 1024 {
                    return fail("more than 1048576 elements");
                }
            }
            Ok(Value::List(out))
        }
        // Numbers
        "min" | "max" => {
            let nums = a.iter().map(|v| number(v, "each argument")).collect::<Result<Vec<_>, _>>()?;
            if nums.is_empty() {
                return fail("needs at least one number");
            }
            let r = if name == "min" {
                nums.iter().cloned().fold(f64::INFINITY, f64::min)
            } else {
                nums.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
            };
            Ok(Value::Number(r))
        }
        "abs" | "ceil" | "floor" => {
            arity(a, 1, 1)?;
            let n = number(&a[0], "the argument")?;
            Ok(Value::Number(match name {
                "abs" => n.abs(),
                "ceil" => n.ceil(),
                _ => n.floor(),
            }))
        }
        // Conversions
        "tostring" => {
            arity(a, 1, 1)?;
            match &a[0] {
                Value::Null => Ok(Value::Null),
                v => v
                    .to_template_string()
                    .map(Value::String)
                    .ok_or_else(|| EvalError(format!("cannot convert {} to string", v.type_name()))),
            }
        }
        "tonumber" => {
            arity(a, 1, 1)?;
            match &a[0] {
                Value::Null => Ok(Value::Null),
                v => v.as_number().map(Value::Number).ok_or_else(|| EvalError(format!("cannot convert {v} to number"))),
            }
        }
        "tobool" => {
            arity(a, 1, 1)?;
            match &a[0] {
                Value::Null => Ok(Value::Null),
                v => v.as_bool().map(Value::Bool).ok_or_else(|| EvalError(format!("cannot convert {v} to bool"))),
            }
        }
        // Encoding
        "jsonencode" => {
            arity(a, 1, 1)?;
            Ok(Value::String(serde_json::to_string(&a[0].to_json()).map_err(|e| EvalError(e.to_string()))?))
        }
        "jsondecode" => {
            arity(a, 1, 1)?;
            let s = string(&a[0], "the argument")?;
            let j: serde_json::Value = serde_json::from_str(&s).map_err(|e| EvalError(format!("invalid JSON: {e}")))?;
            Ok(Value::from_json(&j))
        }
        "base64encode" => one_string(a, |s| base64::engine::general_purpose::STANDARD.encode(s.as_bytes())),
        "base64decode" => {
            arity(a, 1, 1)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(string(&a[0], "the argument")?.as_bytes())
                .map_err(|e| EvalError(format!("invalid base64: {e}")))?;
            String::from_utf8(bytes).map(Value::String).map_err(|_| EvalError("the decoded bytes are not UTF-8".into()))
        }
        // Files
        "file" => {
            arity(a, 1, 1)?;
            let path = scope.base_dir().join(string(&a[0], "the path")?);
            std::fs::read_to_string(&path)
                .map(Value::String)
                .map_err(|e| EvalError(format!("cannot read {}: {e}", path.display())))
        }
        "fileexists" => {
            arity(a, 1, 1)?;
            Ok(Value::Bool(scope.base_dir().join(string(&a[0], "the path")?).is_file()))
        }
        "templatefile" => {
            arity(a, 2, 2)?;
            let path = scope.base_dir().join(string(&a[0], "the path")?);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| EvalError(format!("cannot read {}: {e}", path.display())))?;
            let vars = map(&a[1], "the variables")?;
            let isolated = super::EmptyScope(scope.base_dir().to_path_buf());
            eval_template_text(&text, vars, &isolated)
        }
        // Networking
        "cidrsubnet" => {
            arity(a, 3, 3)?;
            cidrsubnet(&string(&a[0], "the prefix")?, number(&a[1], "newbits")?, number(&a[2], "netnum")?)
        }
        "cidrhost" => {
            arity(a, 2, 2)?;
            cidrhost(&string(&a[0], "the prefix")?, number(&a[1], "hostnum")?)
        }
        "cidrnetmask" => {
            arity(a, 1, 1)?;
            let net: ipnet::Ipv4Net =
                string(&a[0], "the prefix")?.parse().map_err(|e| EvalError(format!("invalid IPv4 prefix: {e}")))?;
            Ok(Value::String(net.netmask().to_string()))
        }
        other => fail(format!("there is no function named {other:?}")),
    }
}

fn one_string(a: &[Value], f: impl Fn(&str) -> String) -> FResult {
    arity(a, 1, 1)?;
    Ok(Value::String(f(&string(&a[0], "the argument")?)))
}

fn parse_net(prefix: &str) -> Result<(u128, u32, u8, bool), EvalError> {
    let net: ipnet::IpNet = prefix.parse().map_err(|e| EvalError(format!("invalid CIDR prefix {prefix:?}: {e}")))?;
    Ok(match net {
        ipnet::IpNet::V4(n) => (u32::from(n.network()) as u128, 32, n.prefix_len(), true),
        ipnet::IpNet::V6(n) => (u128::from(n.network()), 128, n.prefix_len(), false),
    })
}

fn to_ip(bits: u128, v4: bool) -> IpAddr {
    if v4 { IpAddr::V4((bits as u32).into()) } else { IpAddr::V6(bits.into()) }
}

fn cidrsubnet(prefix: &str, newbits: f64, netnum: f64) -> FResult {
    let (base, width, len, v4) = parse_net(prefix)?;
    let room = width - len as u32;
    if !(0.0..=room as f64).contains(&newbits) || newbits.fract() != 0.0 {
        return fail(format!(
            "cannot extend prefix /{len} by {} bits: newbits must be a whole number from 0 to {room}",
            format_number(newbits)
        ));
    }
    let new_len = len as u32 + newbits as u32;
    if netnum < 0.0 || (newbits as u32) < 64 && netnum as u128 >= (1u128 << newbits as u32) {
        return fail(format!("netnum {} does not fit in {newbits} bits", format_number(netnum)));
    }
    let shift = width - new_len;
    let bits = base | (netnum as u128).checked_shl(shift).unwrap_or(0);
    Ok(Value::String(format!("{}/{new_len}", to_ip(bits, v4))))
}

fn cidrhost(prefix: &str, hostnum: f64) -> FResult {
    let (base, width, len, v4) = parse_net(prefix)?;
    let host_bits = width - len as u32;
    let size: u128 = if host_bits >= 128 { u128::MAX } else { 1u128 << host_bits };
    let n = if hostnum < 0.0 { size as f64 + hostnum } else { hostnum };
    if n < 0.0 || n as u128 >= size {
        return fail(format!("host number {} does not fit in prefix {prefix}", format_number(hostnum)));
    }
    Ok(Value::String(to_ip(base + n as u128, v4).to_string()))
}

/// The widest width or precision format() takes: enough for any real use,
/// small enough that a typo cannot ask for gigabytes.
const MAX_FORMAT_SIZE: usize = 10_000;

fn format_size(digits: &str, what: &str) -> Result<usize, EvalError> {
    match digits.parse::<usize>() {
        Ok(n) if n <= MAX_FORMAT_SIZE => Ok(n),
        _ if digits.is_empty() => Ok(0),
        _ => fail(format!("a format {what} must be at most {MAX_FORMAT_SIZE}, got {digits}")),
    }
}

/// Terraform's format verbs: %s %d %f %v %q %t %%, with width and precision.
fn format(f: &str, args: &[Value]) -> FResult {
    let mut out = String::new();
    let mut chars = f.chars().peekable();
    let mut next_arg = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let mut flags = String::new();
        while let Some(&c) = chars.peek() {
            if "-+ #0".contains(c) {
                flags.push(c);
                chars.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&c) = chars.peek().filter(|c| c.is_ascii_digit()) {
            width.push(c);
            chars.next();
        }
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&c) = chars.peek().filter(|c| c.is_ascii_digit()) {
                p.push(c);
                chars.next();
            }
            precision = Some(format_size(&p, "precision")?);
        }
        let verb = chars.next().ok_or_else(|| EvalError("format string ends inside a verb".into()))?;
        let arg =
            args.get(next_arg).ok_or_else(|| EvalError(format!("not enough arguments for format string {f:?}")))?;
        next_arg += 1;
        let text = match verb {
            's' | 'v' => match arg {
                Value::List(_) | Value::Map(_) if verb == 'v' => {
                    serde_json::to_string(&arg.to_json()).unwrap_or_default()
                }
                _ => string(arg, "a %s argument")?,
            },
            'q' => serde_json::to_string(&string(arg, "a %q argument")?).unwrap_or_default(),
            'd' => format!("{}", number(arg, "a %d argument")?.trunc() as i64),
            'f' => format!("{:.*}", precision.unwrap_or(6), number(arg, "a %f argument")?),
            't' => arg.as_bool().ok_or_else(|| EvalError("a %t argument must be a bool".into()))?.to_string(),
            'x' => format!("{:x}", number(arg, "a %x argument")? as i64),
            other => return fail(format!("unsupported format verb %{other}")),
        };
        let width: usize = if width.is_empty() { 0 } else { format_size(&width, "width")? };
        let pad = width.saturating_sub(text.chars().count());
        if flags.contains('-') {
            out.push_str(&text);
            out.push_str(&" ".repeat(pad));
        } else if flags.contains('0') && matches!(verb, 'd' | 'f') {
            let (sign, digits) = text.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", &text));
            out.push_str(sign);
            out.push_str(&"0".repeat(pad));
            out.push_str(digits);
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(&text);
        }
    }
    if next_arg < args.len() {
        return fail(format!("too many arguments for format string {f:?}"));
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use crate::eval::{EmptyScope, eval_str};
    use crate::value::Value;

    fn ev(s: &str) -> Value {
        eval_str(s, &EmptyScope(std::env::temp_dir())).unwrap_or_else(|d| panic!("{s}: {d}"))
    }

    fn s(s: &str) -> Value {
        Value::str(s)
    }

    #[test]
    fn networking() {
        assert_eq!(ev("${cidrsubnet(\"10.60.0.0/16\", 7, 99)}"), s("10.60.198.0/23"));
        assert_eq!(ev("${cidrsubnet(\"10.60.0.0/16\", 3, 5)}"), s("10.60.160.0/19"));
        assert_eq!(ev("${cidrhost(\"10.0.0.0/24\", 5)}"), s("10.0.0.5"));
        assert_eq!(ev("${cidrhost(\"10.0.0.0/24\", -2)}"), s("10.0.0.254"));
        assert_eq!(ev("${cidrsubnet(\"fd00::/56\", 8, 3)}"), s("fd00:0:0:3::/64"));
        assert!(eval_str("${cidrsubnet(\"10.0.0.0/30\", 4, 0)}", &EmptyScope(std::env::temp_dir())).is_err());
    }

    #[test]
    fn huge_arguments_are_errors_not_panics() {
        let scope = EmptyScope(std::env::temp_dir());
        for (expr, says) in [
            ("${cidrsubnet(\"10.0.0.0/8\", 1e300, 0)}", "newbits must be a whole number from 0 to 24"),
            ("${cidrsubnet(\"10.0.0.0/8\", 4294967295, 0)}", "newbits"),
            ("${cidrsubnet(\"10.0.0.0/8\", -1, 0)}", "newbits"),
            ("${format(\"%99999999999999999999d\", 1)}", "width must be at most"),
            ("${format(\"%2000000000s\", \"x\")}", "width must be at most"),
            ("${format(\"%.99999999f\", 1)}", "precision must be at most"),
        ] {
            let err = eval_str(expr, &scope).expect_err(expr).to_string();
            assert!(err.contains(says), "{expr}: {err}");
        }
        assert_eq!(ev("${substr(\"hello\", 1, 1e300)}"), s("ello"));
    }

    #[test]
    fn strings_and_collections() {
        assert_eq!(ev("${format(\"%s-%03d\", \"web\", 7)}"), s("web-007"));
        assert_eq!(ev("${join(\",\", split(\"-\", \"a-b-c\"))}"), s("a,b,c"));
        assert_eq!(ev("${upper(substr(\"hello\", 1, 3))}"), s("ELL"));
        assert_eq!(ev("${replace(\"a.b.c\", \"/[.]/\", \"-\")}"), s("a-b-c"));
        assert_eq!(ev("${length(concat([1], [2, 3]))}"), Value::Number(3.0));
        assert_eq!(ev("${lookup({a = 1}, \"b\", 9)}"), Value::Number(9.0));
        assert_eq!(ev("${keys(merge({b = 1}, {a = 2}))}"), Value::List(vec![s("a"), s("b")]));
        assert_eq!(ev("${contains([\"x\"], \"x\") && !contains([], 1)}"), Value::Bool(true));
        assert_eq!(ev("${coalesce(\"\", null, \"z\")}"), s("z"));
        assert_eq!(ev("${max(1, 5, 3) - min(4, 2)}"), Value::Number(3.0));
        assert_eq!(ev("${element([\"a\", \"b\"], 3)}"), s("b"));
        assert_eq!(ev("${tonumber(\"42\") + 1}"), Value::Number(43.0));
        assert_eq!(ev("${tostring(5)}"), s("5"));
        assert_eq!(ev("${jsonencode({b = [1, true], a = \"x\"})}"), s(r#"{"a":"x","b":[1,true]}"#));
        assert_eq!(ev("${jsondecode(\"{\\\"k\\\": [1]}\").k[0]}"), Value::Number(1.0));
        assert_eq!(ev("${base64encode(\"hi\")}"), s("aGk="));
        assert_eq!(ev("${toset([\"b\", \"a\", \"b\"])}"), Value::List(vec![s("a"), s("b")]));
        assert_eq!(ev("${[for i, v in [\"a\", \"b\"] : \"${i}${v}\"]}"), Value::List(vec![s("0a"), s("1b")]));
        assert_eq!(
            ev("${{for k, v in {a = 1, b = 2} : k => v * 10 if v > 1}}"),
            Value::object([("b".into(), Value::Number(20.0))])
        );
        assert_eq!(ev("${1 + 2 * 3 == 7 ? \"yes\" : \"no\"}"), s("yes"));
        assert_eq!(ev("${try(jsondecode(\"nope\"), \"fallback\")}"), s("fallback"));
        assert_eq!(ev("%{ for x in [\"a\", \"b\"] }${x};%{ endfor }"), s("a;b;"));
    }

    #[test]
    fn file_and_templatefile_read_relative_to_the_base_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.tpl"), "cluster=${name}\n").unwrap();
        let scope = EmptyScope(dir.path().to_path_buf());
        let v = eval_str("${templatefile(\"t.tpl\", {name = \"dev\"})}", &scope).unwrap();
        assert_eq!(v, s("cluster=dev\n"));
        assert_eq!(eval_str("${file(\"t.tpl\")}", &scope).unwrap(), s("cluster=${name}\n"));
        assert!(eval_str("${file(\"missing\")}", &scope).is_err());
    }
}
