//! A raw HTTP request as the model sees it: which service and operation,
//! and its input as JSON members named as in the model, whatever the wire
//! protocol (JSON, query, EC2 query, REST with XML).

use super::model::Model;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub struct HttpRequest {
    pub method: String,
    /// Path and query string, as on the request line.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    fn query(&self) -> BTreeMap<String, String> {
        let q = self.target.split_once('?').map_or("", |(_, q)| q);
        form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    }
}

/// botocore's folder for the service the request is signed for.
pub fn service_of(req: &HttpRequest) -> Option<&'static str> {
    let auth = req.header("authorization")?;
    let scope = auth.split("Credential=").nth(1)?.split([',', ' ']).next()?;
    let signing_name = scope.split('/').nth(3)?;
    let body = String::from_utf8_lossy(&req.body);
    Some(match signing_name {
        "elasticloadbalancing" if body.contains("Version=2012-06-01") => "elb",
        "elasticloadbalancing" => "elbv2",
        "ec2" => "ec2",
        "iam" => "iam",
        "ecs" => "ecs",
        "autoscaling" => "autoscaling",
        "logs" => "logs",
        "sns" => "sns",
        "events" => "events",
        "s3" => "s3",
        "ecr" => "ecr",
        "codebuild" => "codebuild",
        "codepipeline" => "codepipeline",
        "ssm" => "ssm",
        "sts" => "sts",
        "dynamodb" => "dynamodb",
        _ => return None,
    })
}

/// The operation's name and its input, or `None` when the request cannot be
/// read as any of the model's operations.
pub fn decode(model: &Model, req: &HttpRequest) -> Option<(String, Value)> {
    if let Some(target) = req.header("x-amz-target") {
        let operation = target.rsplit('.').next()?.to_string();
        let input =
            if req.body.is_empty() { Value::Object(Map::new()) } else { serde_json::from_slice(&req.body).ok()? };
        return Some((operation, input));
    }
    match model.protocol() {
        "query" | "ec2" => {
            let mut params: BTreeMap<String, String> = form_urlencoded::parse(&req.body).into_owned().collect();
            params.extend(req.query());
            let operation = params.get("Action")?.clone();
            let shape = model.operation_input(&operation)?;
            let form = Form { model, params: &params, ec2: model.protocol() == "ec2" };
            let input = form.structure(shape, "").unwrap_or(Value::Object(Map::new()));
            Some((operation, input))
        }
        "rest-xml" | "rest-json" => rest(model, req),
        _ => None,
    }
}

/// Form-encoded (query protocol) parameters read back into members.
struct Form<'a> {
    model: &'a Model,
    params: &'a BTreeMap<String, String>,
    ec2: bool,
}

impl Form<'_> {
    fn has_under(&self, prefix: &str) -> bool {
        self.params.contains_key(prefix)
            || self
                .params
                .range(format!("{prefix}.")..)
                .next()
                .is_some_and(|(k, _)| k.starts_with(&format!("{prefix}.")))
    }

    fn read(&self, shape_name: &str, key: &str) -> Option<Value> {
        let shape = self.model.shape(shape_name)?;
        match shape.get("type").and_then(Value::as_str)? {
            "structure" => self.structure(shape_name, key),
            "list" => {
                let member = shape.get("member")?;
                let member_shape = member.get("shape")?.as_str()?;
                let flat = self.ec2 || shape.get("flattened").and_then(Value::as_bool) == Some(true);
                let base = if flat {
                    key.to_string()
                } else {
                    format!("{key}.{}", member.get("locationName").and_then(Value::as_str).unwrap_or("member"))
                };
                if self.params.get(key).is_some_and(String::is_empty) {
                    return Some(Value::Array(Vec::new()));
                }
                let mut items = Vec::new();
                for i in 1.. {
                    let item_key = format!("{base}.{i}");
                    if !self.has_under(&item_key) {
                        break;
                    }
                    items.push(self.read(member_shape, &item_key).unwrap_or(Value::Null));
                }
                (!items.is_empty()).then_some(Value::Array(items))
            }
            "map" => {
                let name_of = |part: &str, default: &str| {
                    shape
                        .get(part)
                        .and_then(|p| p.get("locationName"))
                        .and_then(Value::as_str)
                        .unwrap_or(default)
                        .to_string()
                };
                let (k, v) = (name_of("key", "key"), name_of("value", "value"));
                let flat = shape.get("flattened").and_then(Value::as_bool) == Some(true);
                let base = if flat { key.to_string() } else { format!("{key}.entry") };
                let value_shape = shape.pointer("/value/shape")?.as_str()?;
                let mut entries = Map::new();
                for i in 1.. {
                    let entry = format!("{base}.{i}");
                    let Some(name) = self.params.get(&format!("{entry}.{k}")) else { break };
                    entries
                        .insert(name.clone(), self.read(value_shape, &format!("{entry}.{v}")).unwrap_or(Value::Null));
                }
                (!entries.is_empty()).then_some(Value::Object(entries))
            }
            _ => self.params.get(key).map(|s| Value::String(s.clone())),
        }
    }

    fn structure(&self, shape_name: &str, key: &str) -> Option<Value> {
        let members = self.model.shape(shape_name)?.get("members")?.as_object()?;
        let mut out = Map::new();
        for (name, member) in members {
            let wire = self.wire_name(name, member);
            let child = if key.is_empty() { wire } else { format!("{key}.{wire}") };
            if let Some(v) = member.get("shape").and_then(Value::as_str).and_then(|s| self.read(s, &child)) {
                out.insert(name.clone(), v);
            }
        }
        (!out.is_empty() || key.is_empty()).then_some(Value::Object(out))
    }

    /// EC2 names members by `queryName`, else by `locationName` capitalised;
    /// the query protocol by `locationName`, else the member's name.
    fn wire_name(&self, name: &str, member: &Value) -> String {
        let location = member.get("locationName").and_then(Value::as_str);
        if self.ec2 {
            if let Some(q) = member.get("queryName").and_then(Value::as_str) {
                return q.to_string();
            }
            let n = location.unwrap_or(name);
            let mut c = n.chars();
            return c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default();
        }
        location.unwrap_or(name).to_string()
    }
}

/// REST protocols: the operation whose method and URI template fit best
/// (operations sharing a template, like S3's PutObject and CopyObject, are
/// told apart by the required headers and query members present); members
/// bound to the URI, query string and headers. Bodies are not read: the REST
/// service ecspoc calls, S3, has no rules on them.
fn rest(model: &Model, req: &HttpRequest) -> Option<(String, Value)> {
    let path: Vec<String> = req
        .path()
        .split('/')
        .skip(1)
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let query = req.query();
    // (literal parts fitted, fewer required members missing), name, input.
    type Candidate<'m> = ((usize, usize), &'m String, Map<String, Value>);
    let mut best: Option<Candidate> = None;
    for (name, op) in model.operations() {
        if op.pointer("/http/method").and_then(Value::as_str) != Some(req.method.as_str()) {
            continue;
        }
        let Some(uri) = op.pointer("/http/requestUri").and_then(Value::as_str) else { continue };
        let Some((score, labels)) = fit(uri, &path, &query) else { continue };
        let shape = op.pointer("/input/shape").and_then(Value::as_str).and_then(|s| model.shape(s));
        let (input, missing) = bind(shape, &labels, &query, req);
        let rank = (score, usize::MAX - missing);
        if best.as_ref().is_none_or(|b| rank > b.0) {
            best = Some((rank, name, input));
        }
    }
    let (_, name, input) = best?;
    Some((name.clone(), Value::Object(input)))
}

/// An operation's input from the request's URI labels, query and headers,
/// and how many of its required members are missing.
fn bind(
    shape: Option<&Value>,
    labels: &BTreeMap<String, String>,
    query: &BTreeMap<String, String>,
    req: &HttpRequest,
) -> (Map<String, Value>, usize) {
    let mut input = Map::new();
    // The body is there but not read: its member counts as present.
    if let Some(payload) = shape.and_then(|s| s.get("payload")).and_then(Value::as_str)
        && !req.body.is_empty()
    {
        input.insert(payload.to_string(), Value::Bool(true));
    }
    if let Some(members) = shape.and_then(|s| s.get("members")).and_then(Value::as_object) {
        for (member, spec) in members {
            let location_name = spec.get("locationName").and_then(Value::as_str).unwrap_or(member);
            let found = match spec.get("location").and_then(Value::as_str) {
                Some("uri") => labels.get(location_name).cloned(),
                Some("querystring") => query.get(location_name).cloned(),
                Some("header") => req.header(location_name).map(String::from),
                _ => None,
            };
            if let Some(v) = found {
                input.insert(member.clone(), Value::String(v));
            }
        }
    }
    let required = shape.and_then(|s| s.get("required")).and_then(Value::as_array);
    let missing = required.into_iter().flatten().filter_map(Value::as_str).filter(|r| !input.contains_key(*r)).count();
    (input, missing)
}

/// Does `/{Bucket}/{Key+}?tagging` fit this path and query? Its score (more
/// literal parts fitted is a better fit) and the labels' values.
fn fit(template: &str, path: &[String], query: &BTreeMap<String, String>) -> Option<(usize, BTreeMap<String, String>)> {
    let (tpath, tquery) = template.split_once('?').unwrap_or((template, ""));
    let parts: Vec<&str> = tpath.split('/').skip(1).filter(|p| !p.is_empty()).collect();
    let given: Vec<&String> = path.iter().filter(|p| !p.is_empty()).collect();
    let mut labels = BTreeMap::new();
    let mut score = 0;
    let mut i = 0;
    for part in &parts {
        if let Some(label) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if let Some(greedy) = label.strip_suffix('+') {
                let rest: Vec<&str> = given.get(i..)?.iter().map(|s| s.as_str()).collect();
                if rest.is_empty() {
                    return None;
                }
                labels.insert(greedy.to_string(), rest.join("/"));
                i = given.len();
                continue;
            }
            labels.insert(label.to_string(), given.get(i)?.to_string());
        } else if given.get(i).map(|s| s.as_str()) != Some(*part) {
            return None;
        } else {
            score += 2;
        }
        i += 1;
    }
    if i != given.len() {
        return None;
    }
    for literal in tquery.split('&').filter(|l| !l.is_empty()) {
        let (k, v) = literal.split_once('=').unwrap_or((literal, ""));
        match query.get(k) {
            Some(have) if v.is_empty() || have == v => score += 2,
            _ => return None,
        }
    }
    Some((score + 1, labels))
}
