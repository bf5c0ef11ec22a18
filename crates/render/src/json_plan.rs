//! `show -json`: Terraform's plan JSON, format version 1.2, which policy
//! tools (checkov, conftest, infracost...) read.

use ecspoc_core::addr::{InstanceAddr, Mode, ModulePath};
use ecspoc_core::config::{Config, Expr, Module};
use ecspoc_core::plan::{Action, Plan, PlanMode, ResourceChange};
use ecspoc_core::state::{Instance, State, TERRAFORM_VERSION, type_json};
use ecspoc_core::value::Value;
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;

pub const FORMAT_VERSION: &str = "1.2";

pub fn render(plan: &Plan, config: Option<&Config>) -> Json {
    let mut doc = Map::new();
    doc.insert("format_version".into(), json!(FORMAT_VERSION));
    doc.insert("terraform_version".into(), json!(TERRAFORM_VERSION));
    doc.insert(
        "variables".into(),
        Json::Object(plan.variables.iter().map(|(k, v)| (k.clone(), json!({"value": v.to_json()}))).collect()),
    );
    doc.insert("planned_values".into(), planned_values(plan));
    if !plan.drift.is_empty() {
        doc.insert("resource_drift".into(), Json::Array(plan.drift.iter().map(resource_change).collect()));
    }
    doc.insert("resource_changes".into(), Json::Array(plan.changes.iter().map(resource_change).collect()));
    doc.insert(
        "output_changes".into(),
        Json::Object(
            plan.outputs
                .iter()
                .map(|o| {
                    let actions = o.action().terraform_actions();
                    (
                        o.name.clone(),
                        json!({
                            "actions": actions,
                            "before": o.before.as_ref().map(Value::to_json),
                            "after": o.after.to_json(),
                            "after_unknown": !o.after.is_wholly_known(),
                            "before_sensitive": o.sensitive,
                            "after_sensitive": o.sensitive,
                        }),
                    )
                })
                .collect(),
        ),
    );
    doc.insert("prior_state".into(), state_values(&plan.prior_state));
    if let Some(c) = config {
        doc.insert("configuration".into(), configuration(c));
    }
    doc.insert("relevant_attributes".into(), json!([]));
    doc.insert("timestamp".into(), json!(plan.timestamp));
    doc.insert("applyable".into(), json!(plan.has_changes()));
    doc.insert("complete".into(), json!(plan.targets.is_empty()));
    doc.insert("errored".into(), json!(false));
    if plan.mode == PlanMode::Destroy {
        doc.insert("destroy".into(), json!(true));
    }
    Json::Object(doc)
}

fn sensitive_mask(v: Option<&Value>, sensitive: &[String]) -> Json {
    match v {
        Some(Value::Map(m)) => {
            Json::Object(m.keys().filter(|k| sensitive.contains(k)).map(|k| (k.clone(), Json::Bool(true))).collect())
        }
        Some(_) => json!({}),
        None => Json::Bool(false),
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

pub fn resource_change(c: &ResourceChange) -> Json {
    let mut m = resource_fields(&c.addr, &c.provider);
    let after_unknown = match &c.after {
        Some(a) => a.unknown_mask(),
        None => json!({}),
    };
    let mut change = json!({
        "actions": c.action.terraform_actions(),
        "before": c.before.as_ref().map(Value::to_json),
        "after": c.after.as_ref().map(Value::to_json),
        "after_unknown": if after_unknown == json!(false) { json!({}) } else { after_unknown },
        "before_sensitive": sensitive_mask(c.before.as_ref(), &c.sensitive),
        "after_sensitive": sensitive_mask(c.after.as_ref(), &c.sensitive),
    });
    if !c.replace_paths.is_empty() {
        change["replace_paths"] = Json::Array(c.replace_paths.iter().map(|p| json!([p])).collect());
    }
    m.insert("change".into(), change);
    if let Some(r) = c.reason {
        m.insert("action_reason".into(), json!(r.as_str()));
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
) -> Json {
    let mut m = resource_fields(addr, provider);
    m.remove("module_address");
    m.insert("schema_version".into(), json!(schema_version));
    m.insert("values".into(), values.to_json());
    m.insert("sensitive_values".into(), sensitive_mask(Some(values), sensitive));
    Json::Object(m)
}

fn planned_values(plan: &Plan) -> Json {
    let resources = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::Delete)
        .filter_map(|c| {
            c.after
                .as_ref()
                .map(|a| (c.addr.resource.module.clone(), resource_values(&c.addr, &c.provider, 0, a, &c.sensitive)))
        })
        .collect();
    let outputs: Map<String, Json> = plan
        .outputs
        .iter()
        .map(|o| (o.name.clone(), json!({"sensitive": o.sensitive, "value": o.after.to_json()})))
        .collect();
    json!({"outputs": outputs, "root_module": module_tree(resources)})
}

/// A state as Terraform's JSON state representation (`show -json` of state, `prior_state`).
pub fn state_values(state: &State) -> Json {
    let resources = state
        .instances
        .iter()
        .map(|(a, i): (&InstanceAddr, &Instance)| {
            (
                a.resource.module.clone(),
                resource_values(a, &i.provider, i.schema_version, &i.attributes, &i.sensitive_attributes),
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

fn expression(e: &Expr) -> Json {
    if let Some(v) = e.as_literal() {
        return json!({"constant_value": v.to_json()});
    }
    let refs = ecspoc_core::config::expr::describe_all(&e.references());
    json!({"references": refs})
}

fn configuration(c: &Config) -> Json {
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
                (
                    call.name.clone(),
                    json!({
                        "source": call.source,
                        "expressions": call.inputs.iter().map(|(k, _, e)| (k.clone(), expression(e))).collect::<Map<_, _>>(),
                        "module": body,
                    }),
                )
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
        json!({"resources": resources, "module_calls": calls, "outputs": outputs, "variables": variables})
    }
    let root = ModulePath::root();
    let providers: Map<String, Json> = c
        .root()
        .providers
        .keys()
        .map(|p| (p.clone(), json!({"name": p, "full_name": format!("registry.terraform.io/hashicorp/{p}")})))
        .collect();
    json!({"provider_config": providers, "root_module": module_json(c, &root, c.root())})
}
