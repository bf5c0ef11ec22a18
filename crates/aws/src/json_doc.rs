//! JSON documents (IAM policies, event patterns, container definitions)
//! compared by meaning: both what the configuration says and what AWS returns
//! are brought to one canonical text, so re-ordered keys or other whitespace
//! are no change, and a real change shows as a line diff.

/// Keys sorted, no whitespace. `None` when `text` is not JSON.
pub fn canonical(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    Some(sorted(v).to_string())
}

fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<(String, serde_json::Value)> = m.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// An IAM policy in canonical form: IAM treats `"Action": "x"` and
/// `"Action": ["x"]` alike, one statement alike with a list of one, and the
/// values of actions, resources, principals and conditions as sets (so does
/// Terraform's provider when it compares policies): they are sorted.
pub fn canonical_policy(text: &str) -> Option<String> {
    let mut v: serde_json::Value = serde_json::from_str(text).ok()?;
    if let Some(obj) = v.as_object_mut()
        && let Some(st) = obj.get_mut("Statement")
    {
        if st.is_object() {
            *st = serde_json::Value::Array(vec![st.take()]);
        }
        for s in st.as_array_mut().into_iter().flatten() {
            for key in ["Action", "NotAction", "Resource", "NotResource"] {
                if let Some(x) = s.get_mut(key) {
                    unwrap_single(x);
                }
            }
            for key in ["Principal", "NotPrincipal"] {
                if let Some(p) = s.get_mut(key).and_then(|p| p.as_object_mut()) {
                    p.values_mut().for_each(unwrap_single);
                }
            }
            if let Some(c) = s.get_mut("Condition").and_then(|c| c.as_object_mut()) {
                for ops in c.values_mut().filter_map(|o| o.as_object_mut()) {
                    ops.values_mut().for_each(unwrap_single);
                }
            }
        }
    }
    Some(sorted(v).to_string())
}

fn unwrap_single(x: &mut serde_json::Value) {
    if let Some(a) = x.as_array_mut() {
        // A set of strings: one order, no repeats.
        if a.iter().all(|v| v.is_string()) {
            a.sort_by(|p, q| p.as_str().cmp(&q.as_str()));
            a.dedup();
        }
        if a.len() == 1 {
            *x = a[0].clone();
        }
    }
}

/// IAM's URL-encoded documents, decoded and made canonical.
pub fn from_iam(encoded: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy().to_string();
    canonical_policy(&decoded).unwrap_or(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_and_whitespace_are_no_change() {
        assert_eq!(canonical(r#"{"b": 1, "a": [ {"y":2,"x":1} ]}"#), canonical(r#"{"a":[{"x":1,"y":2}],"b":1}"#));
        assert_ne!(canonical(r#"{"a": [1, 2]}"#), canonical(r#"{"a": [2, 1]}"#));
    }

    #[test]
    fn single_actions_equal_lists_of_one() {
        let a = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":["*"]}}"#;
        let b = r#"{"Statement":[{"Resource":"*","Action":["s3:GetObject"],"Effect":"Allow"}],"Version":"2012-10-17"}"#;
        assert_eq!(canonical_policy(a), canonical_policy(b));
        assert_eq!(from_iam(&a.replace('{', "%7B").replace('}', "%7D")), canonical_policy(b).unwrap_or_default());
    }
}
