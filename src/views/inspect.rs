//! How `show`, `output`, `validate` and `providers` speak: one view per
//! format, chosen once per command (the human and `-json` views implement
//! it beside `OperationView`), so those commands never test `-json` either.

use crate::session::CliResult;
use ecspoc_core::plan::Plan;
use ecspoc_core::provider::ProviderSet;
use ecspoc_core::state::{OutputValue, State};
use std::collections::BTreeMap;

pub trait InspectView {
    /// `show PLANFILE`.
    fn plan(&self, plan: &Plan) -> CliResult<()>;
    /// `show` of the current state.
    fn state(&self, state: &State, providers: &ProviderSet);
    /// `output NAME`.
    fn output(&self, output: &OutputValue);
    /// `output`.
    fn outputs(&self, outputs: &BTreeMap<String, OutputValue>);
    /// `validate`: the outcome, and the exit code.
    fn validated(&self, result: CliResult<()>) -> CliResult<i32>;
    /// `providers`: every provider's types and attributes.
    fn providers(&self, providers: &ProviderSet);
}
