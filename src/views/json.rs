//! The `-json` view: Terraform's machine-readable UI stream, a JSON object per line.

use super::{InspectView, OperationView};
use crate::session::{self, CliError, CliResult, Ui};
use ecspoc_core::events::Event;
use ecspoc_core::plan::Plan;
use ecspoc_core::provider::{ProviderSet, ResourceSchema};
use ecspoc_core::state::OutputValue;
use ecspoc_core::state::State;
use ecspoc_render::json_plan;
use ecspoc_render::ui;
use std::collections::BTreeMap;
use std::path::Path;

pub struct JsonView {
    pub ui: Ui,
}

impl OperationView for JsonView {
    fn started(&self) {
        self.ui.line(&ui::version());
    }
    fn event(&self, e: &Event) {
        self.ui.line(&ui::event(e));
    }
    fn planned(&self, plan: &Plan) {
        for m in ui::plan_messages(plan) {
            self.ui.line(&m);
        }
    }
    /// The explanations are in plan JSON (`ecspoc_explain`), not in the stream.
    fn explanations(&self, _: &Plan) {}
    fn not_saved(&self) {}
    fn saved(&self, _: &Path) {}
    fn nothing_to_apply(&self, _: bool) {}
    fn can_ask(&self) -> bool {
        false
    }
    fn applying(&self) {}
    fn applied(
        &self,
        destroy: bool,
        (added, changed, destroyed): (usize, usize, usize),
        outputs: &BTreeMap<String, OutputValue>,
    ) {
        let operation = if destroy { "destroy" } else { "apply" };
        self.ui.line(&ui::change_summary(operation, added, changed, destroyed));
        self.ui.line(&ui::outputs(outputs));
    }
    fn api_calls(&self, who: &str, calls: &BTreeMap<String, u64>, retries: &BTreeMap<String, u64>) {
        self.ui.line(&ui::api_calls(who, calls, retries));
    }
}

impl InspectView for JsonView {
    /// Plan JSON; no section is silently missing: a configuration that
    /// cannot be rebuilt is an error.
    fn plan(&self, plan: &Plan) -> CliResult<()> {
        let engine = session::engine_from_snapshot(&plan.config_files)?;
        let doc = json_plan::render(plan, Some(&engine.config), json_plan::Shapes(Some(&engine.providers)));
        self.ui.line(&doc.to_string());
        Ok(())
    }
    fn state(&self, state: &State, providers: &ProviderSet) {
        self.ui.line(&json_plan::state_values(state, json_plan::Shapes(Some(providers))).to_string());
    }
    fn output(&self, output: &OutputValue) {
        self.ui.line(&output.value.to_json().to_string());
    }
    fn outputs(&self, outputs: &BTreeMap<String, OutputValue>) {
        let m: serde_json::Map<String, serde_json::Value> = outputs
            .iter()
            .map(|(k, o)| {
                let typed = serde_json::json!({
                    "sensitive": o.sensitive, "type": ecspoc_core::state::type_json(&o.value), "value": o.value.to_json(),
                });
                (k.clone(), typed)
            })
            .collect();
        self.ui.line(&serde_json::to_string_pretty(&m).unwrap_or_default());
    }
    /// Terraform's `validate -json` document; errors in it, exit code 1.
    fn validated(&self, result: CliResult<()>) -> CliResult<i32> {
        let diags = match result {
            Ok(()) => Vec::new(),
            Err(CliError::Diagnostics(d)) => d.0,
            Err(other) => return Err(other),
        };
        let described: Vec<serde_json::Value> = diags
            .iter()
            .map(|x| {
                serde_json::from_str::<serde_json::Value>(&ui::diagnostic(x))
                    .map(|v| v["diagnostic"].clone())
                    .unwrap_or_default()
            })
            .collect();
        let doc = serde_json::json!({
            "format_version": "1.0", "valid": diags.is_empty(), "error_count": diags.len(), "warning_count": 0,
            "diagnostics": described,
        });
        self.ui.line(&doc.to_string());
        Ok(if diags.is_empty() { 0 } else { 1 })
    }
    /// `terraform providers schema -json`'s document.
    fn providers(&self, providers: &ProviderSet) {
        let schema = |s: &ResourceSchema| serde_json::json!({"version": s.version, "block": schema_block(s)});
        let mut doc = serde_json::Map::new();
        for p in providers.iter() {
            let types = |t: &BTreeMap<&'static str, ResourceSchema>| {
                t.iter().map(|(n, s)| (n.to_string(), schema(s))).collect::<serde_json::Map<_, _>>()
            };
            doc.insert(
                p.source().to_string(),
                serde_json::json!({
                    "resource_schemas": types(&p.schema().resources),
                    "data_source_schemas": types(&p.schema().data_sources),
                }),
            );
        }
        self.ui.line(&serde_json::json!({"format_version": "1.0", "provider_schemas": doc}).to_string());
    }
}

/// A resource type's schema as `terraform providers schema -json` writes
/// it: nested blocks under `block_types`, each with its own attributes.
fn schema_block(s: &ResourceSchema) -> serde_json::Value {
    use ecspoc_core::config::types::TypeConstraint as T;
    let (blocks, plain): (Vec<_>, Vec<_>) = s.attributes.iter().partition(|(_, a)| a.is_block());
    let mut block = nested_block(blocks.iter().map(|(n, a)| (n.to_string(), &a.ty)).collect());
    block["attributes"] = plain
        .iter()
        .map(|(n, a)| {
            let described = serde_json::json!({
                "type": a.ty.to_json(), "description": a.description, "required": a.required, "optional": a.optional,
                "computed": a.computed, "sensitive": a.sensitive, "force_new": a.force_new,
            });
            (n.to_string(), described)
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    block["description"] = s.description.into();
    return block;

    /// Blocks' own attributes; their lists and sets of objects are blocks again.
    fn nested_block(blocks: Vec<(String, &T)>) -> serde_json::Value {
        let mut types = serde_json::Map::new();
        for (name, ty) in blocks {
            let (T::List(inner) | T::Set(inner)) = ty else { continue };
            let T::Object(fields) = &**inner else { continue };
            let is_block = |t: &T| matches!(t, T::List(i) | T::Set(i) if matches!(**i, T::Object(_)));
            let mut block = nested_block(
                fields.iter().filter(|(_, (t, _))| is_block(t)).map(|(n, (t, _))| (n.clone(), t)).collect(),
            );
            block["attributes"] = fields
                .iter()
                .filter(|(_, (t, _))| !is_block(t))
                .map(|(n, (t, optional))| {
                    (n.clone(), serde_json::json!({"type": t.to_json(), "required": !optional, "optional": optional}))
                })
                .collect::<serde_json::Map<_, _>>()
                .into();
            let nesting = if matches!(ty, T::Set(_)) { "set" } else { "list" };
            types.insert(name, serde_json::json!({"nesting_mode": nesting, "block": block}));
        }
        serde_json::json!({ "block_types": types })
    }
}
