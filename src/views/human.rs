//! The human view: Terraform's text, coloured on a terminal.

use super::OperationView;
use crate::session::Ui;
use ecspoc_core::events::Event;
use ecspoc_core::plan::Plan;
use ecspoc_core::state::OutputValue;
use ecspoc_render::human;
use std::collections::BTreeMap;
use std::path::Path;

/// The line Terraform draws before what it says about saving a plan.
const RULE: &str = "─────────────────────────────────────────────────────────────────────────────";

pub struct HumanView {
    pub ui: Ui,
}

impl HumanView {
    fn bold_green(&self, s: &str) -> String {
        self.ui.color.paint("1;32", s)
    }
}

impl OperationView for HumanView {
    fn event(&self, e: &Event) {
        if let Some(line) = ecspoc_render::ui::human_event(e) {
            self.ui.line(&line);
        }
    }
    fn planned(&self, plan: &Plan) {
        self.ui.out("\n");
        self.ui.out(&human::render_plan(plan, self.ui.color));
    }
    fn explanations(&self, plan: &Plan) {
        self.ui.out(&human::render_explanations(plan));
    }
    fn not_saved(&self) {
        self.ui.line(&format!(
            "\n{RULE}\n\nNote: You didn't use the -out option to save this plan, so ecspoc can't\nguarantee to take exactly these actions if you run \"ecspoc apply\" now."
        ));
    }
    fn saved(&self, path: &Path) {
        let shown = path.display().to_string();
        self.ui.line(&format!(
            "\n{RULE}\n\nSaved the plan to: {shown}\n\nTo perform exactly these actions, run the following command to apply:\n    ecspoc apply {shown:?}"
        ));
    }
    fn nothing_to_apply(&self, destroy: bool) {
        self.ui.line(if destroy {
            "\nDestroy complete! Resources: 0 destroyed."
        } else {
            "\nApply complete! Resources: 0 added, 0 changed, 0 destroyed."
        });
    }
    fn can_ask(&self) -> bool {
        true
    }
    fn applying(&self) {
        self.ui.line("");
    }
    fn applied(
        &self,
        destroy: bool,
        (added, changed, destroyed): (usize, usize, usize),
        outputs: &BTreeMap<String, OutputValue>,
    ) {
        if destroy {
            self.ui.line(&format!("\n{} Resources: {destroyed} destroyed.", self.bold_green("Destroy complete!")));
            return;
        }
        self.ui.line(&format!(
            "\n{} Resources: {added} added, {changed} changed, {destroyed} destroyed.",
            self.bold_green("Apply complete!")
        ));
        if !outputs.is_empty() {
            self.ui.line(&format!("\n{}\n", self.bold_green("Outputs:")));
            self.ui.out(&human::render_outputs(outputs));
        }
    }
    /// On stderr, and only when ECSPOC_LOG=debug: a person rarely wants them.
    fn api_calls(&self, who: &str, calls: &BTreeMap<String, u64>, retries: &BTreeMap<String, u64>) {
        if !std::env::var("ECSPOC_LOG").is_ok_and(|v| v.eq_ignore_ascii_case("debug")) {
            return;
        }
        let detail: Vec<String> = calls.iter().map(|(k, v)| format!("{k}={v}")).collect();
        eprintln!(
            "[debug] {who}: {} API calls, {} retries ({})",
            calls.values().sum::<u64>(),
            retries.values().sum::<u64>(),
            detail.join(", ")
        );
    }
}
