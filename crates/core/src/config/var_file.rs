//! Variable definition files: `.tfvars` (HCL), `.tfvars.json` and
//! `.tfvars.toml`, each a flat set of `name = value` pairs.

use crate::value::Value;

/// The pairs of one file; `name` picks the syntax by its ending. The error
/// names what is wrong, never a value (a file may hold secrets).
pub fn parse(name: &str, text: &str) -> Result<Vec<(String, Value)>, String> {
    let json: serde_json::Value = if name.ends_with(".json") {
        serde_json::from_str(text).map_err(|e| format!("invalid JSON at line {}, column {}", e.line(), e.column()))?
    } else if name.ends_with(".toml") {
        let t: toml::Table = toml::from_str(text).map_err(|e| match e.span() {
            Some(s) => format!("invalid TOML at byte {}: {}", s.start, e.message()),
            None => format!("invalid TOML: {}", e.message()),
        })?;
        serde_json::to_value(t).map_err(|e| e.to_string())?
    } else {
        hcl::from_str::<serde_json::Value>(text).map_err(|e| match e {
            hcl::Error::Parse(p) => {
                format!("invalid HCL at line {}, column {}", p.location().line(), p.location().column())
            }
            _ => "invalid HCL".to_string(),
        })?
    };
    let obj = json.as_object().ok_or_else(|| "the file must hold name = value pairs".to_string())?;
    Ok(obj.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_syntaxes_mean_the_same() {
        let want = vec![("azs".to_string(), Value::List(vec![Value::str("a"), Value::str("b")]))];
        assert_eq!(parse("x.tfvars", "azs = [\"a\", \"b\"]\n").unwrap(), want);
        assert_eq!(parse("x.tfvars.json", "{\"azs\": [\"a\", \"b\"]}").unwrap(), want);
        assert_eq!(parse("x.tfvars.toml", "azs = [\"a\", \"b\"]\n").unwrap(), want);
    }

    #[test]
    fn errors_say_where_but_quote_nothing() {
        let e = parse("x.tfvars", "password = \"hunter2\"\nbroken = = 1\n").unwrap_err();
        assert!(e.contains("line 2") && !e.contains("hunter2"), "{e}");
    }
}
