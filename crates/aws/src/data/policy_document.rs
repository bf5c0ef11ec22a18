//! data.aws_iam_policy_document: an IAM policy built from `statement`
//! blocks, printed as Terraform prints it, with no AWS call.

use crate::resources::common::{block_list, block_set, blocks, string_set};
use crate::values::{s, strings};
use crate::{Ctx, DataSource};
use async_trait::async_trait;
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use serde_json::{Map, Value as Json};

pub struct PolicyDocument;

fn list() -> T {
    T::List(Box::new(T::String))
}

/// The statement block, typed as Terraform's provider types it (its lists of
/// actions, resources and principals are sets).
fn statement_type() -> T {
    let principals = block_set(&[("type", T::String), ("identifiers", string_set())], &["type", "identifiers"]);
    block_list(
        &[
            ("sid", T::String),
            ("effect", T::String),
            ("actions", string_set()),
            ("not_actions", string_set()),
            ("resources", string_set()),
            ("not_resources", string_set()),
            ("principals", principals.clone()),
            ("not_principals", principals),
            (
                "condition",
                block_set(
                    &[("test", T::String), ("variable", T::String), ("values", list())],
                    &["test", "variable", "values"],
                ),
            ),
        ],
        &[],
    )
}

/// One value as a string, several as a list in reverse order: the JSON
/// Terraform's AWS provider writes for these sets, byte for byte.
fn one_or_many(mut items: Vec<String>) -> Json {
    items.sort_by(|a, b| b.cmp(a));
    items.dedup();
    if items.len() == 1 {
        Json::String(items.remove(0))
    } else {
        Json::Array(items.into_iter().map(Json::String).collect())
    }
}

fn principals(blocks_: Vec<&Value>) -> Option<Json> {
    if blocks_.is_empty() {
        return None;
    }
    let mut m: Map<String, Json> = Map::new();
    for p in blocks_ {
        let kind = s(p, "type").unwrap_or("AWS");
        let ids = strings(p, "identifiers");
        if kind == "*" {
            return Some(Json::String("*".into()));
        }
        let mut all: Vec<String> = match m.remove(kind) {
            Some(Json::String(x)) => vec![x],
            Some(Json::Array(xs)) => xs.into_iter().filter_map(|x| x.as_str().map(String::from)).collect(),
            _ => Vec::new(),
        };
        all.extend(ids);
        m.insert(kind.to_string(), one_or_many(all));
    }
    Some(Json::Object(m))
}

fn statement(st: &Value) -> Result<Json, ProviderError> {
    let mut out = Map::new();
    if let Some(sid) = s(st, "sid").filter(|x| !x.is_empty()) {
        out.insert("Sid".into(), Json::String(sid.into()));
    }
    let effect = s(st, "effect").unwrap_or("Allow");
    if effect != "Allow" && effect != "Deny" {
        return Err(ProviderError::new(format!("statement effect must be \"Allow\" or \"Deny\", got {effect:?}")));
    }
    out.insert("Effect".into(), Json::String(effect.into()));
    for (key, name) in [
        ("actions", "Action"),
        ("not_actions", "NotAction"),
        ("resources", "Resource"),
        ("not_resources", "NotResource"),
    ] {
        let items = strings(st, key);
        if !items.is_empty() {
            out.insert(name.into(), one_or_many(items));
        }
    }
    if let Some(p) = principals(blocks(st, "principals")) {
        out.insert("Principal".into(), p);
    }
    if let Some(p) = principals(blocks(st, "not_principals")) {
        out.insert("NotPrincipal".into(), p);
    }
    let conditions = blocks(st, "condition");
    if !conditions.is_empty() {
        let mut by_test: Map<String, Json> = Map::new();
        for c in conditions {
            let test = s(c, "test").unwrap_or_default().to_string();
            let entry = by_test.entry(test).or_insert_with(|| Json::Object(Map::new()));
            if let Json::Object(vars) = entry {
                vars.insert(s(c, "variable").unwrap_or_default().to_string(), one_or_many(strings(c, "values")));
            }
        }
        out.insert("Condition".into(), Json::Object(by_test));
    }
    Ok(Json::Object(out))
}

/// The policy document, pretty-printed as Terraform does.
pub fn build(config: &Value) -> Result<String, ProviderError> {
    let mut doc = Map::new();
    doc.insert("Version".into(), Json::String(s(config, "version").unwrap_or("2012-10-17").into()));
    if let Some(id) = s(config, "policy_id") {
        doc.insert("Id".into(), Json::String(id.into()));
    }
    let statements = blocks(config, "statement").into_iter().map(statement).collect::<Result<Vec<_>, _>>()?;
    doc.insert("Statement".into(), Json::Array(statements));
    serde_json::to_string_pretty(&Json::Object(doc)).map_err(|e| ProviderError::new(format!("policy document: {e}")))
}

#[async_trait]
impl DataSource for PolicyDocument {
    fn name(&self) -> &'static str {
        "aws_iam_policy_document"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An IAM policy document built from statement blocks.",
            [
                ("id", A::computed(T::String, "A hash of the document.")),
                ("version", A::optional(T::String, "The policy language version.")),
                ("policy_id", A::optional(T::String, "The policy's Id element.")),
                ("statement", A::optional(statement_type(), "The statements.")),
                ("json", A::computed(T::String, "The document, pretty-printed.")),
                ("minified_json", A::computed(T::String, "The document without whitespace.")),
            ],
        )
    }
    async fn read(&self, _ctx: &Ctx<'_>, config: &Value) -> Result<Value, ProviderError> {
        let json = build(config)?;
        let minified = serde_json::from_str::<Json>(&json).map(|j| j.to_string()).unwrap_or_default();
        let mut out = config.as_map().cloned().unwrap_or_default();
        out.insert("id".into(), Value::String(format!("{}", crc32fast::hash(json.as_bytes()))));
        out.insert("json".into(), Value::String(json));
        out.insert("minified_json".into(), Value::String(minified));
        Ok(Value::Map(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::obj;

    fn stmt(actions: &[&str], principal: Option<(&str, &str)>) -> Value {
        let mut m = vec![("actions", Value::List(actions.iter().map(|a| Value::str(*a)).collect()))];
        if let Some((t, i)) = principal {
            m.push((
                "principals",
                Value::List(vec![obj(vec![
                    ("type", Value::str(t)),
                    ("identifiers", Value::List(vec![Value::str(i)])),
                ])]),
            ));
        }
        obj(m)
    }

    #[test]
    fn a_trust_policy_reads_as_terraform_writes_it() {
        let config = obj(vec![(
            "statement",
            Value::List(vec![stmt(&["sts:AssumeRole"], Some(("Service", "ec2.amazonaws.com")))]),
        )]);
        let doc: Json = serde_json::from_str(&build(&config).expect("build")).expect("json");
        assert_eq!(
            doc,
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}]})
        );
    }

    #[test]
    fn several_actions_are_a_sorted_list_and_a_bad_effect_is_refused() {
        let config =
            obj(vec![("statement", Value::List(vec![stmt(&["logs:PutLogEvents", "logs:CreateLogStream"], None)]))]);
        let doc: Json = serde_json::from_str(&build(&config).expect("build")).expect("json");
        assert_eq!(doc["Statement"][0]["Action"], serde_json::json!(["logs:PutLogEvents", "logs:CreateLogStream"]));
        let bad = obj(vec![("statement", Value::List(vec![obj(vec![("effect", Value::str("allow"))])]))]);
        assert!(build(&bad).is_err_and(|e| e.message.contains("\"allow\"")));
    }
}
