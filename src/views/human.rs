//! The human view: Terraform's text, coloured on a terminal.

use super::{InspectView, OperationView};
use crate::session::{CliError, CliResult, Ui};
use ecspoc_core::events::Event;
use ecspoc_core::plan::Plan;
use ecspoc_core::provider::ProviderSet;
use ecspoc_core::state::OutputValue;
use ecspoc_core::state::State;
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

impl InspectView for HumanView {
    fn plan(&self, plan: &Plan) -> CliResult<()> {
        self.ui.out(&human::render_plan(plan, self.ui.color));
        Ok(())
    }
    fn state(&self, state: &State, _: &ProviderSet) {
        if state.is_empty() {
            self.ui.line("The state file is empty. No resources are represented.");
            return;
        }
        for (addr, inst) in &state.instances {
            self.ui.out(&crate::commands::state::render_instance(addr, inst));
            self.ui.line("");
        }
        if !state.outputs.is_empty() {
            self.ui.line("\nOutputs:\n");
            self.ui.out(&human::render_outputs(&state.outputs));
        }
    }
    fn output(&self, output: &OutputValue) {
        self.ui.line(&human::hcl_like(&output.value, 0));
    }
    fn outputs(&self, outputs: &BTreeMap<String, OutputValue>) {
        if outputs.is_empty() {
            self.ui.error(&CliError::Message(
                "No outputs found\n\nThe state file either has no outputs defined, or all the defined outputs are empty."
                    .into(),
            ));
            return;
        }
        self.ui.out(&human::render_outputs(outputs));
    }
    fn validated(&self, result: CliResult<()>) -> CliResult<i32> {
        result?;
        self.ui.line("Success! The configuration is valid.");
        Ok(0)
    }
    fn providers(&self, providers: &ProviderSet) {
        for p in providers.iter() {
            self.ui.line(&format!("provider[{}] (concurrency {})", p.source(), p.concurrency()));
            for (kind, types) in [("resource", &p.schema().resources), ("data", &p.schema().data_sources)] {
                for (t, s) in types {
                    self.ui.line(&format!("  {kind} {t}: {}", s.description));
                    for (n, a) in &s.attributes {
                        let flags: Vec<&str> = [
                            (a.required, "required"),
                            (a.optional, "optional"),
                            (a.computed, "computed"),
                            (a.force_new, "forces replacement"),
                            (a.sensitive, "sensitive"),
                        ]
                        .into_iter()
                        .filter_map(|(on, name)| on.then_some(name))
                        .collect();
                        self.ui.line(&format!("    {n} ({}): {}", flags.join(", "), a.description));
                    }
                }
            }
        }
    }
}
