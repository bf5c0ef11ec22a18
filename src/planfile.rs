//! Saved plans (`plan -out=FILE`): the plan model with the configuration's
//! files and the variables, so `apply FILE` does exactly what was shown.

use crate::session::{CliError, CliResult};
use ecspoc_core::addr::Target;
use ecspoc_core::plan::{Action, ActionReason, OutputChange, Plan, PlanMode, ResourceChange};
use ecspoc_core::state::{State, StateFile};
use ecspoc_core::value::Value;
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};

const FORMAT: u64 = 1;

fn change_to_json(c: &ResourceChange) -> Json {
    let mut j = ecspoc_render::json_plan::resource_change(c);
    j["ecspoc"] = json!({
        "dependencies": c.dependencies,
        "each": c.each,
        "create_before_destroy": c.create_before_destroy,
        "adopted": c.adopted,
        "sensitive": c.sensitive,
    });
    j
}

fn bad(msg: impl Into<String>) -> CliError {
    CliError::Message(format!("The saved plan is not valid: {}", msg.into()))
}

fn action_from(actions: &Json) -> CliResult<Action> {
    let v: Vec<&str> = actions.as_array().ok_or_else(|| bad("actions"))?.iter().filter_map(Json::as_str).collect();
    Ok(match v.as_slice() {
        ["no-op"] => Action::NoOp,
        ["create"] => Action::Create,
        ["read"] => Action::Read,
        ["update"] => Action::Update,
        ["delete", "create"] => Action::DeleteThenCreate,
        ["create", "delete"] => Action::CreateThenDelete,
        ["delete"] => Action::Delete,
        other => return Err(bad(format!("unknown actions {other:?}"))),
    })
}

fn change_from_json(j: &Json) -> CliResult<ResourceChange> {
    let addr_text = j["address"].as_str().ok_or_else(|| bad("address"))?;
    let addr = match Target::parse(addr_text).map_err(|e| bad(e.to_string()))? {
        Target::Instance(i) => i,
        Target::Resource(r) => r.instance(ecspoc_core::addr::InstanceKey::None),
        Target::Module(_) => return Err(bad("a module address where an instance was expected")),
    };
    let change = &j["change"];
    let value = |k: &str, mask: Option<&Json>| match &change[k] {
        Json::Null => None,
        v => Some(match mask {
            Some(m) => Value::from_json_with_unknown(v, m),
            None => Value::from_json(v),
        }),
    };
    let after = if change["after"].is_null() && change["after_unknown"].as_object().is_some_and(|m| !m.is_empty()) {
        Some(Value::from_json_with_unknown(&Json::Null, &change["after_unknown"]))
    } else {
        value("after", Some(&change["after_unknown"]))
    };
    let reason: Option<ActionReason> = match j.get("action_reason") {
        Some(r) => Some(serde_json::from_value(r.clone()).map_err(|e| bad(e.to_string()))?),
        None => None,
    };
    let e = &j["ecspoc"];
    let strings = |v: &Json| {
        v.as_array().map(|a| a.iter().filter_map(Json::as_str).map(String::from).collect()).unwrap_or_default()
    };
    Ok(ResourceChange {
        addr,
        provider: j["provider_name"].as_str().unwrap_or_default().to_string(),
        action: action_from(&change["actions"])?,
        reason,
        before: value("before", None),
        after,
        replace_paths: change["replace_paths"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| p[0].as_str().map(String::from)).collect())
            .unwrap_or_default(),
        sensitive: strings(&e["sensitive"]),
        dependencies: strings(&e["dependencies"]),
        each: e["each"].as_str().map(String::from),
        create_before_destroy: e["create_before_destroy"].as_bool().unwrap_or(false),
        adopted: e["adopted"].as_bool().unwrap_or(false),
    })
}

pub fn write(path: &Path, plan: &Plan) -> CliResult<()> {
    let doc = json!({
        "ecspoc_plan_format": FORMAT,
        "timestamp": plan.timestamp,
        "mode": plan.mode,
        "lineage": plan.prior_state.lineage,
        "base_serial": plan.base_serial,
        "variables": plan.variables.iter().map(|(k, v)| (k.clone(), json!({"value": v.to_json(), "unknown": v.unknown_mask()}))).collect::<serde_json::Map<_, _>>(),
        "targets": plan.targets,
        "config_files": plan.config_files,
        "changes": plan.changes.iter().map(change_to_json).collect::<Vec<_>>(),
        "drift": plan.drift.iter().map(change_to_json).collect::<Vec<_>>(),
        "outputs": plan.outputs.iter().map(|o| json!({"name": o.name, "before": o.before.as_ref().map(Value::to_json), "after": o.after.to_json(), "after_unknown": o.after.unknown_mask(), "sensitive": o.sensitive})).collect::<Vec<_>>(),
        "prior_state": plan.prior_state.to_file(),
    });
    let text = serde_json::to_string(&doc).map_err(|e| CliError::Message(e.to_string()))?;
    // A plan holds the variables and state it was made from: secrets included.
    let written = ecspoc_core::state::private_file::create(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
    written.map_err(|e| CliError::Message(format!("Failed to write the plan file {}: {e}", path.display())))
}

pub fn read(path: &Path) -> CliResult<Plan> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Message(format!("Failed to read the plan file {}: {e}", path.display())))?;
    let doc: Json = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if doc["ecspoc_plan_format"].as_u64() != Some(FORMAT) {
        return Err(bad("it was not written by this version of ecspoc (plan format differs)"));
    }
    let mode: PlanMode = serde_json::from_value(doc["mode"].clone()).map_err(|e| bad(e.to_string()))?;
    let state_file: StateFile = serde_json::from_value(doc["prior_state"].clone()).map_err(|e| bad(e.to_string()))?;
    let prior_state = State::from_file(state_file, &path.display().to_string())?;
    let list = |k: &str| doc[k].as_array().cloned().unwrap_or_default();
    let changes = list("changes").iter().map(change_from_json).collect::<CliResult<Vec<_>>>()?;
    let drift = list("drift").iter().map(change_from_json).collect::<CliResult<Vec<_>>>()?;
    let outputs = list("outputs")
        .iter()
        .map(|o| OutputChange {
            name: o["name"].as_str().unwrap_or_default().to_string(),
            before: (!o["before"].is_null()).then(|| Value::from_json(&o["before"])),
            after: Value::from_json_with_unknown(&o["after"], &o["after_unknown"]),
            sensitive: o["sensitive"].as_bool().unwrap_or(false),
        })
        .collect();
    let variables = doc["variables"]
        .as_object()
        .map(|m| {
            m.iter().map(|(k, v)| (k.clone(), Value::from_json_with_unknown(&v["value"], &v["unknown"]))).collect()
        })
        .unwrap_or_default();
    let config_files: Vec<(PathBuf, String)> =
        serde_json::from_value(doc["config_files"].clone()).map_err(|e| bad(e.to_string()))?;
    Ok(Plan {
        mode,
        changes,
        drift,
        outputs,
        variables,
        base_serial: doc["base_serial"].as_u64().unwrap_or(0),
        prior_state,
        warnings: Vec::new(),
        targets: list("targets").iter().filter_map(|t| t.as_str().map(String::from)).collect(),
        config_files,
        timestamp: doc["timestamp"].as_str().unwrap_or_default().to_string(),
    })
}
