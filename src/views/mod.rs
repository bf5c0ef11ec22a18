//! How commands speak, chosen once per command: a view per output format
//! behind one interface (as OpenTofu's command views are), so commands say
//! what happened and never test a `-json` flag. `OperationView` serves
//! `plan`, `apply` and `destroy`; `InspectView` the commands that show.

mod human;
mod inspect;
mod json;

use crate::session::Ui;
use ecspoc_core::events::{Event, Observer};
use ecspoc_core::plan::Plan;
use ecspoc_core::state::OutputValue;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub use human::HumanView;
pub use inspect::InspectView;
pub use json::JsonView;

/// What an operation reports, in the order it happens.
pub trait OperationView: Send + Sync {
    /// Before anything else, even a failure to read state.
    fn started(&self) {}
    /// Progress from the engine: refreshes, operations starting and ending.
    fn event(&self, e: &Event);
    /// The plan, once made.
    fn planned(&self, plan: &Plan);
    /// `plan -explain`: where each changed value comes from.
    fn explanations(&self, plan: &Plan);
    /// After a plan with changes that was not saved with -out.
    fn not_saved(&self);
    /// After a plan saved with -out.
    fn saved(&self, path: &Path);
    /// An apply with nothing to do.
    fn nothing_to_apply(&self, destroy: bool);
    /// Whether the apply may ask for a `yes` first (a JSON stream cannot).
    fn can_ask(&self) -> bool;
    /// The operations are about to start.
    fn applying(&self);
    /// The apply finished; counts are added, changed, destroyed.
    fn applied(&self, destroy: bool, counts: (usize, usize, usize), outputs: &BTreeMap<String, OutputValue>);
    /// A provider's (or the backend's) API calls and retries for this command.
    fn api_calls(&self, who: &str, calls: &BTreeMap<String, u64>, retries: &BTreeMap<String, u64>);
}

/// The view `-json` asks for, or the human one.
pub fn operation(ui: Ui) -> Arc<dyn OperationView> {
    if ui.json { Arc::new(JsonView { ui }) } else { Arc::new(HumanView { ui }) }
}

/// The inspection commands' view `-json` asks for, or the human one.
pub fn inspection(ui: Ui) -> Box<dyn InspectView> {
    if ui.json { Box::new(JsonView { ui }) } else { Box::new(HumanView { ui }) }
}

/// The engine's progress reported through a view.
pub struct Progress(pub Arc<dyn OperationView>);

impl Observer for Progress {
    fn on(&self, e: Event) {
        self.0.event(&e);
    }
}
