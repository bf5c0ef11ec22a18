//! The `-json` view: Terraform's machine-readable UI stream, a JSON object per line.

use super::OperationView;
use crate::session::Ui;
use ecspoc_core::events::Event;
use ecspoc_core::plan::Plan;
use ecspoc_core::state::OutputValue;
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
