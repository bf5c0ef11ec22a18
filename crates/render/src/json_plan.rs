//! `show -json`: Terraform's plan JSON, format version 1.2, which policy
//! tools (checkov, conftest, infracost...) read.

use ecspoc_core::addr::{InstanceAddr, Mode, ModulePath, ResourceAddr};
use ecspoc_core::config::types::TypeConstraint;
use ecspoc_core::config::{Config, Expr, Module};
use ecspoc_core::plan::{Action, Plan, PlanMode, ResourceChange};
use ecspoc_core::provider::{ProviderSet, ResourceSchema};
use ecspoc_core::state::{Instance, State, TERRAFORM_VERSION, type_json};
use ecspoc_core::value::Value;
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;

pub const FORMAT_VERSION: &str = "1.2";

/// The providers' schemas, to give values Terraform's JSON shape (absent
/// nested blocks as `[]`, which policy tools iterate over).
#[derive(Clone, Copy, Default)]
pub struct Shapes<'a>(pub Option<&'a ProviderSet>);

impl<'a> Shapes<'a> {
    fn schema(&self, addr: &InstanceAddr) -> Option<&'a ResourceSchema> {
        self.0.and_then(|p| p.resource_schema(addr.resource.mode, &addr.resource.type_)).map(|(_, s)| s)
    }

    fn fill(&self, addr: &InstanceAddr, v: &Value) -> Value {
        match self.schema(addr) {
            Some(schema) => schema.with_absent_blocks_empty(v),
            None => v.clone(),
        }
    }
}

pub fn render(plan: &Plan, config: Option<&Config>, shapes: Shapes<'_>) -> Json {
    let mut doc = Map::new();
    doc.insert("format_version".into(), json!(FORMAT_VERSION));
    doc.insert("terraform_version".into(), json!(TERRAFORM_VERSION));
    doc.insert(
        "variables".into(),
        Json::Object(plan.variables.iter().map(|(k, v)| (k.clone(), json!({"value": v.to_json()}))).collect()),
    );
    doc.insert("planned_values".into(), planned_values(plan, shapes));
    if !plan.drift.is_empty() {
        doc.insert(
            "resource_drift".into(),
            Json::Array(plan.drift.iter().map(|c| resource_change(c, shapes)).collect()),
        );
    }
    doc.insert(
        "resource_changes".into(),
        Json::Array(plan.changes.iter().map(|c| resource_change(c, shapes)).collect()),
    );
    doc.insert(
        "output_changes".into(),
        Json::Object(
            plan.outputs
                .iter()
                .map(|o| {
                    let actions = o.action().terraform_actions();
                    let mut c = json!({
                        "actions": actions,
                        "before": o.before.as_ref().map(Value::to_json),
                        "after_unknown": o.after.unknown_mask(),
                        "before_sensitive": o.sensitive,
                        "after_sensitive": o.sensitive,
                    });
                    // Terraform leaves out a value wholly unknown until apply;
                    // a partly known one has nulls where the mask says unknown.
                    if !o.after.is_unknown() {
                        c["after"] = o.after.to_json();
                    }
                    (o.name.clone(), c)
                })
                .collect(),
        ),
    );
    // As Terraform: no prior_state section when there was no state at all.
    if !plan.prior_state.is_empty() {
        doc.insert("prior_state".into(), state_values(&plan.prior_state, shapes));
    }
    if let Some(c) = config {
        doc.insert("configuration".into(), configuration(c, shapes));
    }
    doc.insert("relevant_attributes".into(), relevant_attributes(plan, config));
    if let Some(c) = config {
        let checks = checks(c);
        if !checks.is_empty() {
            doc.insert("checks".into(), Json::Array(checks));
        }
    }
    doc.insert("timestamp".into(), json!(plan.timestamp));
    doc.insert("applyable".into(), json!(plan.has_changes()));
    doc.insert("complete".into(), json!(plan.targets.is_empty()));
    doc.insert("errored".into(), json!(false));
    if plan.mode == PlanMode::Destroy {
        doc.insert("destroy".into(), json!(true));
    }
    Json::Object(doc)
}

/// The attributes of other resources that resources with planned changes
/// read (`{"resource": "module.net.aws_vpc.main", "attribute": ["id"]}`):
/// what may have contributed to the changes, so drift in them matters.
fn relevant_attributes(plan: &Plan, config: Option<&Config>) -> Json {
    use ecspoc_core::config::Reference;
    let Some(config) = config else { return json!([]) };
    let changed: std::collections::BTreeSet<&ResourceAddr> =
        plan.changes.iter().filter(|c| !c.is_noop()).map(|c| &c.addr.resource).collect();
    let mut out: Vec<(ModulePath, String, Vec<String>)> = Vec::new();
    let add = |out: &mut Vec<(ModulePath, String, Vec<String>)>, path: &ModulePath, prefix: &str, e: &Expr| {
        for (reference, attrs) in e.references_with_path() {
            if let Reference::Resource { .. } = &reference {
                let entry = (path.clone(), format!("{prefix}{}", reference.describe()), attrs);
                if !out.contains(&entry) {
                    out.push(entry);
                }
            }
        }
    };
    for (path, m) in &config.modules {
        let prefix = if path.is_root() { String::new() } else { format!("{path}.") };
        for r in m.resources.values() {
            let own = ResourceAddr { module: path.clone(), mode: r.mode, type_: r.type_.clone(), name: r.name.clone() };
            if !changed.contains(&own) {
                continue;
            }
            for (_, _, e) in &r.body {
                add(&mut out, path, &prefix, e);
            }
        }
        // Outputs read attributes too: a module's (they feed its callers) and
        // the root's that change.
        for o in m.outputs.values() {
            if !path.is_root() || plan.outputs.iter().any(|c| c.name == o.name && c.action() != Action::NoOp) {
                add(&mut out, path, &prefix, &o.value);
            }
        }
    }
    // A module's before its children's, then by address, as Terraform.
    out.sort();
    Json::Array(out.into_iter().map(|(_, resource, attrs)| json!({"resource": resource, "attribute": attrs})).collect())
}

/// Terraform's check results: every variable with validation rules is a
/// checkable object. A plan exists only when they all passed.
fn checks(c: &Config) -> Vec<Json> {
    let mut out = Vec::new();
    for (path, m) in &c.modules {
        for v in m.variables.values().filter(|v| !v.validations.is_empty()) {
            let shown = if path.is_root() { format!("var.{}", v.name) } else { format!("{path}.var.{}", v.name) };
            let mut address = json!({"kind": "var", "name": v.name, "to_display": shown});
            if !path.is_root() {
                address["module"] = json!(path.to_string());
            }
            out.push(json!({
                "address": address,
                "status": "pass",
                "instances": [{"address": {"to_display": shown}, "status": "pass"}],
            }));
        }
    }
    out
}

/// Terraform's sensitivity mask of an object: `true` for a sensitive
/// attribute, the shape of collections (lists of `false`, objects of their
/// non-false entries), nothing for plain values. An unknown collection is
/// `[]` or `{}` by its schema type.
fn sensitive_mask(v: Option<&Value>, sensitive: &[String], schema: Option<&ResourceSchema>) -> Json {
    match v {
        Some(Value::Map(m)) => Json::Object(
            m.iter()
                .map(|(k, x)| {
                    let ty = schema.and_then(|s| s.attributes.get(k.as_str())).map(|a| &a.ty);
                    (k.clone(), mask(x, sensitive.contains(k), ty))
                })
                .filter(|(_, j)| j != &Json::Bool(false))
                .collect(),
        ),
        Some(_) => json!({}),
        None => Json::Bool(false),
    }
}

fn mask(v: &Value, sensitive: bool, ty: Option<&TypeConstraint>) -> Json {
    if sensitive {
        return Json::Bool(true);
    }
    fn inner(t: Option<&TypeConstraint>) -> Option<&TypeConstraint> {
        match t {
            Some(TypeConstraint::List(i) | TypeConstraint::Set(i) | TypeConstraint::Map(i)) => Some(&**i),
            _ => None,
        }
    }
    match v {
        Value::List(items) => Json::Array(items.iter().map(|i| mask(i, false, inner(ty))).collect()),
        Value::Map(m) => Json::Object(
            m.iter()
                .map(|(k, x)| {
                    let t = match ty {
                        Some(TypeConstraint::Object(attrs)) => attrs.get(k).map(|(t, _)| t),
                        other => inner(other),
                    };
                    (k.clone(), mask(x, false, t))
                })
                .filter(|(_, j)| j != &Json::Bool(false))
                .collect(),
        ),
        Value::Unknown => match ty {
            Some(TypeConstraint::List(_) | TypeConstraint::Set(_) | TypeConstraint::Tuple(_)) => json!([]),
            Some(TypeConstraint::Map(_) | TypeConstraint::Object(_)) => json!({}),
            _ => Json::Bool(false),
        },
        _ => Json::Bool(false),
    }
}

fn resource_fields(addr: &InstanceAddr, provider: &str) -> Map<String, Json> {
    let r = &addr.resource;
    let mut m = Map::new();
    m.insert("address".into(), json!(addr.to_string()));
    if !r.module.is_root() {
        m.insert("module_address".into(), json!(r.module.to_string()));
    }
    m.insert("mode".into(), json!(r.mode.as_str()));
    m.insert("type".into(), json!(r.type_));
    m.insert("name".into(), json!(r.name));
    if let Some(k) = addr.key.to_json() {
        m.insert("index".into(), k);
    }
    m.insert("provider_name".into(), json!(provider));
    m
}

pub fn resource_change(c: &ResourceChange, shapes: Shapes<'_>) -> Json {
    let mut m = resource_fields(&c.addr, &c.provider);
    if let Some(key) = &c.deposed {
        m.insert("deposed".into(), json!(key));
    }
    if let Some(from) = &c.previous_address {
        m.insert("previous_address".into(), json!(from.to_string()));
    }
    let before = c.before.as_ref().map(|v| shapes.fill(&c.addr, v));
    let after = c.after.as_ref().map(|v| shapes.fill(&c.addr, v));
    let after_unknown = match &c.after {
        Some(a) => a.unknown_mask(),
        None => json!({}),
    };
    let mut change = json!({
        "actions": c.action.terraform_actions(),
        "before": before.as_ref().map(Value::to_json),
        "after": after.as_ref().map(Value::to_json),
        "after_unknown": if after_unknown == json!(false) { json!({}) } else { after_unknown },
        "before_sensitive": sensitive_mask(c.before.as_ref(), &c.sensitive, shapes.schema(&c.addr)),
        "after_sensitive": sensitive_mask(c.after.as_ref(), &c.sensitive, shapes.schema(&c.addr)),
    });
    if !c.replace_paths.is_empty() {
        // `block.0.attribute` is the path ["block", 0, "attribute"].
        let path = |p: &String| -> Json {
            p.split('.').map(|step| step.parse::<u64>().map(Json::from).unwrap_or_else(|_| json!(step))).collect()
        };
        change["replace_paths"] = Json::Array(c.replace_paths.iter().map(path).collect());
    }
    m.insert("change".into(), change);
    if let Some(r) = c.reason {
        m.insert("action_reason".into(), json!(r.as_str()));
    }
    // ecspoc's own key (tools reading Terraform's format ignore it): why each attribute changes.
    if !c.explain.is_empty() {
        m.insert("ecspoc_explain".into(), json!(c.explain));
    }
    Json::Object(m)
}

/// Group resource JSON objects into Terraform's nested module tree.
fn module_tree(resources: Vec<(ModulePath, Json)>) -> Json {
    let mut by_module: BTreeMap<ModulePath, Vec<Json>> = BTreeMap::new();
    for (m, r) in resources {
        by_module.entry(m).or_default().push(r);
    }
    fn build(path: &ModulePath, by_module: &BTreeMap<ModulePath, Vec<Json>>) -> Json {
        let mut obj = Map::new();
        if !path.is_root() {
            obj.insert("address".into(), json!(path.to_string()));
        }
        obj.insert("resources".into(), Json::Array(by_module.get(path).cloned().unwrap_or_default()));
        let children: Vec<ModulePath> = by_module
            .keys()
            .filter(|&m| m.0.len() > path.0.len() && m.0.starts_with(&path.0))
            .map(|m| ModulePath(m.0[..=path.0.len()].to_vec()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if !children.is_empty() {
            obj.insert("child_modules".into(), Json::Array(children.iter().map(|c| build(c, by_module)).collect()));
        }
        Json::Object(obj)
    }
    build(&ModulePath::root(), &by_module)
}

fn resource_values(
    addr: &InstanceAddr,
    provider: &str,
    schema_version: u64,
    values: &Value,
    sensitive: &[String],
    shapes: Shapes<'_>,
) -> Json {
    let mut m = resource_fields(addr, provider);
    m.remove("module_address");
    m.insert("schema_version".into(), json!(schema_version));
    m.insert("values".into(), values.to_json());
    m.insert("sensitive_values".into(), sensitive_mask(Some(values), sensitive, shapes.schema(addr)));
    Json::Object(m)
}

fn planned_values(plan: &Plan, shapes: Shapes<'_>) -> Json {
    let resources = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::Delete)
        .filter_map(|c| {
            c.after.as_ref().map(|a| {
                let a = shapes.fill(&c.addr, a);
                (c.addr.resource.module.clone(), resource_values(&c.addr, &c.provider, 0, &a, &c.sensitive, shapes))
            })
        })
        .collect();
    let outputs: Map<String, Json> = plan
        .outputs
        .iter()
        .filter(|o| o.action() != Action::Delete)
        .map(|o| {
            let mut j = json!({"sensitive": o.sensitive});
            if o.after.is_wholly_known() {
                j["value"] = o.after.to_json();
            }
            (o.name.clone(), j)
        })
        .collect();
    json!({"outputs": outputs, "root_module": module_tree(resources)})
}

/// A state as Terraform's JSON state representation (`show -json` of state, `prior_state`).
pub fn state_values(state: &State, shapes: Shapes<'_>) -> Json {
    let resources = state
        .instances
        .iter()
        .map(|(a, i): (&InstanceAddr, &Instance)| {
            (
                a.resource.module.clone(),
                resource_values(
                    a,
                    &i.provider,
                    i.schema_version,
                    &shapes.fill(a, &i.attributes),
                    &i.sensitive_attributes,
                    shapes,
                ),
            )
        })
        .collect();
    let outputs: Map<String, Json> = state
        .outputs
        .iter()
        .map(|(k, o)| {
            (k.clone(), json!({"sensitive": o.sensitive, "value": o.value.to_json(), "type": type_json(&o.value)}))
        })
        .collect();
    json!({
        "format_version": "1.0",
        "terraform_version": TERRAFORM_VERSION,
        "values": {"outputs": outputs, "root_module": module_tree(resources)},
    })
}

/// As Terraform shows an expression of its JSON syntax: the value as written,
/// and what it refers to when it refers to anything.
fn expression(e: &Expr) -> Json {
    if let Some(v) = e.as_literal() {
        return json!({"constant_value": v.to_json()});
    }
    let mut j = json!({"constant_value": e.as_written()});
    let refs = references(e);
    if !refs.is_empty() {
        j["references"] = json!(refs);
    }
    j
}

/// References as Terraform lists them: the attribute traversed, then the
/// object (`aws_vpc.main.id`, `aws_vpc.main`; `module.net.vpc_id`,
/// `module.net`), so policy tools can follow them from one resource to another.
fn references(e: &Expr) -> Vec<String> {
    use ecspoc_core::config::Reference;
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for (r, path) in e.references_with_path() {
        match &r {
            // Every prefix of the attribute path, longest first, then the object.
            Reference::Resource { .. } => {
                for n in (1..=path.len()).rev() {
                    push(format!("{}.{}", r.describe(), path[..n].join(".")));
                }
                push(r.describe());
            }
            Reference::Module { name, output: Some(o) } => {
                push(format!("module.{name}.{o}"));
                push(format!("module.{name}"));
            }
            // Terraform names these with their attribute (each.key, path.module).
            Reference::Each | Reference::Path | Reference::Terraform | Reference::SelfRef if !path.is_empty() => {
                push(format!("{}.{}", r.describe(), path[0]))
            }
            _ => push(r.describe()),
        }
    }
    out
}

fn configuration(c: &Config, shapes: Shapes<'_>) -> Json {
    fn module_json(c: &Config, path: &ModulePath, m: &Module) -> Json {
        let resources: Vec<Json> = m
            .resources
            .values()
            .map(|r| {
                let addr = if r.mode == Mode::Data {
                    format!("data.{}.{}", r.type_, r.name)
                } else {
                    format!("{}.{}", r.type_, r.name)
                };
                let mut o = json!({
                    "address": addr,
                    "mode": r.mode.as_str(),
                    "type": r.type_,
                    "name": r.name,
                    "provider_config_key": r.provider_name(),
                    "expressions": r.body.iter().map(|(k, _, e)| (k.clone(), expression(e))).collect::<Map<_, _>>(),
                    "schema_version": 0,
                });
                if let Some(cnt) = &r.count {
                    o["count_expression"] = expression(cnt);
                }
                if let Some(fe) = &r.for_each {
                    o["for_each_expression"] = expression(fe);
                }
                if !r.depends_on.is_empty() {
                    o["depends_on"] = json!(r.depends_on.iter().map(|(d, _)| d.describe()).collect::<Vec<_>>());
                }
                o
            })
            .collect();
        let calls: Map<String, Json> = m
            .calls
            .values()
            .map(|call| {
                let child = path.child(&call.name);
                let body = c.modules.get(&child).map(|cm| module_json(c, &child, cm)).unwrap_or(json!({}));
                let mut j = json!({
                    "source": call.source,
                    "expressions": call.inputs.iter().map(|(k, _, e)| (k.clone(), expression(e))).collect::<Map<_, _>>(),
                    "module": body,
                });
                if let Some(cnt) = &call.count {
                    j["count_expression"] = expression(cnt);
                }
                if let Some(fe) = &call.for_each {
                    j["for_each_expression"] = expression(fe);
                }
                (call.name.clone(), j)
            })
            .collect();
        let outputs: Map<String, Json> = m
            .outputs
            .values()
            .map(|o| {
                let mut j = json!({"expression": expression(&o.value)});
                if o.sensitive {
                    j["sensitive"] = json!(true);
                }
                if !o.description.is_empty() {
                    j["description"] = json!(o.description);
                }
                (o.name.clone(), j)
            })
            .collect();
        let variables: Map<String, Json> = m
            .variables
            .values()
            .map(|v| {
                let mut j = json!({});
                if let Some(d) = v.default.as_ref().and_then(Expr::as_literal) {
                    j["default"] = d.to_json();
                }
                if !v.description.is_empty() {
                    j["description"] = json!(v.description);
                }
                if v.sensitive {
                    j["sensitive"] = json!(true);
                }
                (v.name.clone(), j)
            })
            .collect();
        let mut j = json!({"resources": resources, "outputs": outputs, "variables": variables});
        if !calls.is_empty() {
            j["module_calls"] = Json::Object(calls);
        }
        j
    }
    let root = ModulePath::root();
    // Terraform keys provider configurations by local name (and module path
    // for those inside modules); the full name is the provider's own source.
    let full_name = |name: &str| match shapes.0.and_then(|p| p.get(name)) {
        Some(p) => p.source().to_string(),
        None => format!("registry.terraform.io/hashicorp/{name}"),
    };
    let mut providers: Map<String, Json> = Map::new();
    for (path, m) in &c.modules {
        for (name, p) in &m.providers {
            let key = if path.is_root() { name.clone() } else { format!("{path}:{name}") };
            let mut j = json!({
                "name": name,
                "full_name": full_name(name),
                "expressions": p.body.iter().map(|(k, _, e)| (k.clone(), expression(e))).collect::<Map<_, _>>(),
            });
            if !path.is_root() {
                j["module_address"] = json!(path.to_string());
            }
            providers.insert(key, j);
        }
    }
    // Providers used without a block of their own are listed too.
    for m in c.modules.values() {
        for r in m.resources.values() {
            let name = r.provider_name();
            if !providers.contains_key(&name) {
                providers.insert(name.clone(), json!({"name": name, "full_name": full_name(&name)}));
            }
        }
    }
    json!({"provider_config": providers, "root_module": module_json(c, &root, c.root())})
}
