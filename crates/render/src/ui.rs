//! `-json`: Terraform's machine-readable UI, one JSON object per line.

use ecspoc_core::addr::InstanceAddr;
use ecspoc_core::diag::{Diagnostic, Severity};
use ecspoc_core::events::{Event, now_rfc3339_micros};
use ecspoc_core::plan::{Action, Plan, ResourceChange};
use ecspoc_core::state::{OutputValue, TERRAFORM_VERSION, type_json};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

fn envelope(level: &str, message: String, type_: &str, mut extra: Json) -> String {
    let obj = extra.as_object_mut().map(std::mem::take).unwrap_or_default();
    let mut m = serde_json::Map::new();
    m.insert("@level".into(), json!(level));
    m.insert("@message".into(), json!(message));
    m.insert("@module".into(), json!("terraform.ui"));
    m.insert("@timestamp".into(), json!(now_rfc3339_micros()));
    m.extend(obj);
    m.insert("type".into(), json!(type_));
    Json::Object(m).to_string()
}

pub fn resource(addr: &InstanceAddr) -> Json {
    let r = &addr.resource;
    json!({
        "addr": addr.to_string(),
        "module": r.module.to_string(),
        "resource": format!("{}{}", r.local(), addr.key),
        "implied_provider": ecspoc_core::config::module::provider_of_type(&r.type_),
        "resource_type": r.type_,
        "resource_name": r.name,
        "resource_key": addr.key.to_json(),
    })
}

pub fn action_word(a: Action) -> &'static str {
    match a {
        Action::NoOp => "noop",
        Action::Create => "create",
        Action::Read => "read",
        Action::Update => "update",
        Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
        Action::Delete => "delete",
    }
}

pub fn version() -> String {
    envelope(
        "info",
        format!("ecspoc {}", env!("CARGO_PKG_VERSION")),
        "version",
        json!({"terraform": TERRAFORM_VERSION, "ui": "1.2"}),
    )
}

pub fn diagnostic(d: &Diagnostic) -> String {
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warn",
    };
    let mut diag = json!({"severity": if severity == "warn" { "warning" } else { "error" }, "summary": d.summary, "detail": d.detail});
    if let Some(a) = &d.address {
        diag["address"] = json!(a);
    }
    if let Some(span) = &d.span
        && let (Some(pos), Some(file)) = (span.position(), span.file.as_ref())
    {
        let end = ecspoc_core::source::Span::new(file, span.end.max(span.start), span.end.max(span.start));
        let end_pos = end.position().unwrap_or_else(|| pos.clone());
        diag["range"] = json!({
            "filename": pos.path.display().to_string(),
            "start": {"line": pos.line, "column": pos.column, "byte": span.start},
            "end": {"line": end_pos.line, "column": end_pos.column, "byte": span.end},
        });
        // The source line with the range highlighted, as Terraform's snippet.
        let line_start = file.text[..span.start.min(file.text.len())].rfind('\n').map_or(0, |i| i + 1);
        let start_offset = span.start.saturating_sub(line_start).min(pos.line_text.len());
        let end_offset = if end_pos.line == pos.line {
            span.end.saturating_sub(line_start).clamp(start_offset, pos.line_text.len())
        } else {
            pos.line_text.len()
        };
        diag["snippet"] = json!({
            "context": null,
            "code": pos.line_text,
            "start_line": pos.line,
            "highlight_start_offset": start_offset,
            "highlight_end_offset": end_offset,
            "values": [],
        });
    }
    let prefix = if severity == "error" { "Error" } else { "Warning" };
    envelope(severity, format!("{prefix}: {}", d.summary), "diagnostic", json!({"diagnostic": diag}))
}

pub fn planned_change(c: &ResourceChange) -> String {
    let moved_only = c.action == Action::NoOp && c.previous_address.is_some();
    let verb = match c.action {
        _ if moved_only => "Plan to move",
        Action::Create => "Plan to create",
        Action::Update => "Plan to update",
        Action::Delete => "Plan to delete",
        Action::Read => "Plan to read",
        _ => "Plan to replace",
    };
    let action = if moved_only { "move" } else { action_word(c.action) };
    let mut change = json!({"resource": resource(&c.addr), "action": action});
    if let Some(from) = &c.previous_address {
        change["previous_resource"] = resource(from);
    }
    if let Some(r) = c.reason {
        change["reason"] = json!(r.as_str());
    }
    envelope("info", format!("{}: {verb}", c.addr), "planned_change", json!({"change": change}))
}

pub fn resource_drift(c: &ResourceChange) -> String {
    let what = if c.action == Action::Delete { "Drift detected (delete)" } else { "Drift detected (update)" };
    envelope(
        "info",
        format!("{}: {what}", c.addr),
        "resource_drift",
        json!({"change": {"resource": resource(&c.addr), "action": action_word(c.action)}}),
    )
}

pub fn change_summary(operation: &str, add: usize, change: usize, remove: usize) -> String {
    let message = match operation {
        "apply" => {
            format!("Apply complete! Resources: {add} added, {change} changed, {remove} destroyed.")
        }
        "destroy" => format!("Destroy complete! Resources: {remove} destroyed."),
        _ => format!("Plan: {add} to add, {change} to change, {remove} to destroy."),
    };
    envelope(
        "info",
        message,
        "change_summary",
        json!({"changes": {"add": add, "change": change, "import": 0, "remove": remove, "operation": operation}}),
    )
}

pub fn plan_messages(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = plan.drift.iter().map(resource_drift).collect();
    out.extend(plan.changes.iter().filter(|c| !c.is_noop() || c.previous_address.is_some()).map(planned_change));
    for w in &plan.warnings {
        out.push(diagnostic(w));
    }
    let (a, c, d) = plan.counts();
    out.push(change_summary("plan", a, c, d));
    out.push(planned_outputs(plan));
    out
}

/// The plan's `outputs` message: each root output's action, no values (as
/// Terraform's plan stream).
fn planned_outputs(plan: &Plan) -> String {
    let o: serde_json::Map<String, Json> = plan
        .outputs
        .iter()
        .map(|o| {
            let action = match o.action() {
                Action::Create => "create",
                Action::Delete => "delete",
                Action::NoOp => "noop",
                _ => "update",
            };
            (o.name.clone(), json!({"sensitive": o.sensitive, "action": action}))
        })
        .collect();
    let message = format!("Outputs: {}", o.len());
    envelope("info", message, "outputs", json!({ "outputs": o }))
}

/// A `log` message: how many remote calls a provider made.
pub fn api_calls(provider: &str, calls: &BTreeMap<String, u64>, retries: &BTreeMap<String, u64>) -> String {
    let total: u64 = calls.values().sum();
    let retried: u64 = retries.values().sum();
    envelope(
        "info",
        format!("{provider}: {total} API calls, {retried} retries"),
        "log",
        json!({"provider": provider, "api_calls": calls, "total": total, "retries": retries, "retries_total": retried}),
    )
}

pub fn outputs(outputs: &BTreeMap<String, OutputValue>) -> String {
    let o: serde_json::Map<String, Json> = outputs
        .iter()
        .map(|(k, v)| {
            let mut j = json!({"sensitive": v.sensitive, "type": type_json(&v.value)});
            if !v.sensitive {
                j["value"] = v.value.to_json();
            }
            (k.clone(), j)
        })
        .collect();
    envelope("info", format!("Outputs: {}", outputs.len()), "outputs", json!({"outputs": o}))
}

fn past(a: Action) -> (&'static str, &'static str) {
    match a {
        Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete => ("Creating...", "Creation complete"),
        Action::Update => ("Modifying...", "Modifications complete"),
        Action::Delete => ("Destroying...", "Destruction complete"),
        Action::Read => ("Reading...", "Read complete"),
        Action::NoOp => ("", ""),
    }
}

fn id_suffix(id: &Option<String>) -> String {
    id.as_ref().map(|i| format!(" [id={i}]")).unwrap_or_default()
}

pub fn event(e: &Event) -> String {
    match e {
        Event::RefreshStart { addr, id } => envelope(
            "info",
            format!("{addr}: Refreshing state...{}", id_suffix(id)),
            "refresh_start",
            json!({"hook": {"resource": resource(addr), "id_key": "id", "id_value": id}}),
        ),
        Event::RefreshComplete { addr, id } => envelope(
            "info",
            format!("{addr}: Refresh complete{}", id.as_ref().map(|i| format!(" [id={i}]")).unwrap_or_default()),
            "refresh_complete",
            json!({"hook": {"resource": resource(addr), "id_key": "id", "id_value": id}}),
        ),
        Event::ApplyStart { addr, action } => envelope(
            "info",
            format!("{addr}: {}", past(*action).0),
            "apply_start",
            json!({"hook": {"resource": resource(addr), "action": action_word(*action)}}),
        ),
        Event::ApplyProgress { addr, action, elapsed } => envelope(
            "info",
            format!("{addr}: Still {}... [{}s elapsed]", progress_word(*action), elapsed.as_secs()),
            "apply_progress",
            json!({"hook": {"resource": resource(addr), "action": action_word(*action), "elapsed_seconds": elapsed.as_secs()}}),
        ),
        Event::ApplyComplete { addr, action, id, elapsed } => envelope(
            "info",
            format!(
                "{addr}: {} after {}s{}",
                past(*action).1,
                elapsed.as_secs(),
                id.as_ref().map(|i| format!(" [id={i}]")).unwrap_or_default()
            ),
            "apply_complete",
            json!({"hook": {"resource": resource(addr), "action": action_word(*action), "id_key": "id", "id_value": id, "elapsed_seconds": elapsed.as_secs()}}),
        ),
        Event::ApplyErrored { addr, action, elapsed } => envelope(
            "error",
            format!("{addr}: {} errored after {}s", past(*action).0.trim_end_matches("..."), elapsed.as_secs()),
            "apply_errored",
            json!({"hook": {"resource": resource(addr), "action": action_word(*action), "elapsed_seconds": elapsed.as_secs()}}),
        ),
    }
}

pub fn progress_word(a: Action) -> &'static str {
    match a {
        Action::Update => "modifying",
        Action::Delete => "destroying",
        Action::Read => "reading",
        _ => "creating",
    }
}

/// The human progress line Terraform prints for an event.
pub fn human_event(e: &Event) -> Option<String> {
    Some(match e {
        Event::RefreshStart { addr, id } => format!("{addr}: Refreshing state...{}", id_suffix(id)),
        Event::RefreshComplete { .. } => return None,
        Event::ApplyStart { addr, action } => format!("{addr}: {}", past(*action).0),
        Event::ApplyProgress { addr, action, elapsed } => {
            format!("{addr}: Still {}... [{}s elapsed]", progress_word(*action), elapsed.as_secs())
        }
        Event::ApplyComplete { addr, action, id, elapsed } => {
            format!(
                "{addr}: {} after {}s{}",
                past(*action).1,
                elapsed.as_secs(),
                id.as_ref().map(|i| format!(" [id={i}]")).unwrap_or_default()
            )
        }
        Event::ApplyErrored { .. } => return None,
    })
}
