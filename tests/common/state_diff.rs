//! Comparing state files as Terraform's tools would: field by field,
//! resources in any order, `serial` and `terraform_version` aside, and
//! never printing a value (real states carry secrets).

/// Where the state in `actual` differs from the one in `expected`.
pub fn differences(expected: &str, actual: &str) -> Vec<String> {
    let mut out = Vec::new();
    walk(&comparable(expected), &comparable(actual), "", &mut out);
    out
}

/// A state file as a comparable value: resources in one order (Terraform's
/// and ecspoc's differ), `serial` and `terraform_version` left out.
fn comparable(text: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(text).expect("JSON");
    if let Some(m) = v.as_object_mut() {
        m.remove("serial");
        m.remove("terraform_version");
    }
    if let Some(rs) = v["resources"].as_array_mut() {
        rs.sort_by_key(|r| format!("{}|{}|{}|{}", r["module"].as_str().unwrap_or(""), r["mode"], r["type"], r["name"]));
    }
    v
}

/// Paths where two JSON values differ.
fn walk(a: &serde_json::Value, b: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    use serde_json::Value as J;
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => walk(u, v, &format!("{path}/{k}"), out),
                    (Some(_), None) => out.push(format!("{path}/{k}: dropped")),
                    (None, Some(v)) => out.push(format!("{path}/{k}: added {v}")),
                    (None, None) => {}
                }
            }
        }
        (J::Array(x), J::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                walk(u, v, &format!("{path}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: {} became {}", short(a), short(b))),
        _ => {}
    }
}

/// What a differing value is, never what it holds (corpus states carry secrets).
fn short(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("a string of {} bytes", s.len()),
        serde_json::Value::Array(a) => format!("a list of {}", a.len()),
        serde_json::Value::Object(o) => format!("an object of {} keys", o.len()),
        other => other.to_string(),
    }
}
