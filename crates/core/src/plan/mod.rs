//! The plan model: what will change and why. Every output format (human
//! text, plan JSON, the UI stream, PR comments) renders this one model.

pub mod file;
pub mod planner;
pub mod relevance;

use crate::addr::InstanceAddr;
use crate::diag::Diagnostic;
use crate::state::State;
use crate::value::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Terraform lists a module's changes before its children's, each by
/// address text, with instance keys in numeric order (checked against
/// Terraform 1.11's plan text and plan JSON).
pub fn sort_key(addr: &InstanceAddr) -> (crate::addr::ModulePath, String, crate::addr::InstanceKey) {
    (addr.resource.module.clone(), addr.resource.to_string(), addr.key.clone())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    DeleteThenCreate,
    CreateThenDelete,
    Delete,
}

impl Action {
    /// Terraform's `actions` array.
    pub fn terraform_actions(self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Create => &["create"],
            Action::Read => &["read"],
            Action::Update => &["update"],
            Action::DeleteThenCreate => &["delete", "create"],
            Action::CreateThenDelete => &["create", "delete"],
            Action::Delete => &["delete"],
        }
    }
    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }
    pub fn creates(self) -> bool {
        matches!(self, Action::Create) || self.is_replace()
    }
    pub fn deletes(self) -> bool {
        matches!(self, Action::Delete) || self.is_replace()
    }
    /// What this action adds to (add, change, destroy): a replace adds and destroys.
    pub fn tally(self) -> (usize, usize, usize) {
        match self {
            Action::Create => (1, 0, 0),
            Action::Update => (0, 1, 0),
            Action::Delete => (0, 0, 1),
            Action::DeleteThenCreate | Action::CreateThenDelete => (1, 0, 1),
            Action::NoOp | Action::Read => (0, 0, 0),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionReason {
    ReplaceBecauseCannotUpdate,
    ReplaceBecauseTainted,
    ReplaceByRequest,
    ReplaceByTriggers,
    DeleteBecauseNoResourceConfig,
    DeleteBecauseCountIndex,
    DeleteBecauseEachKey,
    DeleteBecauseNoModule,
    ReadBecauseConfigUnknown,
}

impl ActionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionReason::ReplaceBecauseCannotUpdate => "replace_because_cannot_update",
            ActionReason::ReplaceBecauseTainted => "replace_because_tainted",
            ActionReason::ReplaceByRequest => "replace_by_request",
            ActionReason::ReplaceByTriggers => "replace_by_triggers",
            ActionReason::DeleteBecauseNoResourceConfig => "delete_because_no_resource_config",
            ActionReason::DeleteBecauseCountIndex => "delete_because_count_index",
            ActionReason::DeleteBecauseEachKey => "delete_because_each_key",
            ActionReason::DeleteBecauseNoModule => "delete_because_no_module",
            ActionReason::ReadBecauseConfigUnknown => "read_because_config_unknown",
        }
    }
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ResourceChange {
    pub addr: InstanceAddr,
    /// Provider source, e.g. `registry.terraform.io/hashicorp/random`.
    pub provider: String,
    pub action: Action,
    pub reason: Option<ActionReason>,
    pub before: Option<Value>,
    /// Planned attributes; `Value::Unknown` where known only after apply.
    pub after: Option<Value>,
    /// Top-level attributes whose change forces the replacement.
    pub replace_paths: Vec<String>,
    /// Top-level attributes the schema marks sensitive.
    pub sensitive: Vec<String>,
    /// Resources this instance depends on (for state and apply order).
    pub dependencies: Vec<crate::addr::ResourceAddr>,
    pub each: Option<String>,
    pub create_before_destroy: bool,
    /// The object was found by its marker after an interrupted apply.
    pub adopted: bool,
    /// The key of the deposed object this change destroys (left by a
    /// create-before-destroy replacement that did not finish), or none for
    /// the instance's current object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposed: Option<String>,
    /// Where each changed attribute's new value comes from (`plan -explain`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explain: Vec<Origin>,
    /// The address state held the object at before a `moved` block gave it this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_address: Option<InstanceAddr>,
}

/// Why one attribute of a change has its new value.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    pub attribute: String,
    /// `file:line:column` of the expression in the configuration.
    pub location: String,
    /// What the expression reads: `var.name`, `aws_vpc.main.id`, `module.net.vpc_id`...
    pub from: Vec<String>,
    /// The object's value was changed outside ecspoc (the configuration did not change).
    pub changed_outside: bool,
    /// This attribute's change forces the replacement.
    pub forces_replacement: bool,
}

impl ResourceChange {
    pub fn is_noop(&self) -> bool {
        self.action == Action::NoOp
    }
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct OutputChange {
    pub name: String,
    pub before: Option<Value>,
    pub after: Value,
    pub sensitive: bool,
}

impl OutputChange {
    /// As Terraform: an output whose value becomes null is removed.
    pub fn action(&self) -> Action {
        match &self.before {
            None if self.after.is_null() => Action::NoOp,
            None => Action::Create,
            Some(b) if b == &self.after => Action::NoOp,
            Some(_) if self.after.is_null() => Action::Delete,
            Some(_) => Action::Update,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PlanMode {
    Normal,
    Destroy,
    RefreshOnly,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub mode: PlanMode,
    /// Every managed instance in config or state, no-ops included, sorted by address.
    pub changes: Vec<ResourceChange>,
    /// Objects changed or deleted outside ecspoc since the last apply.
    pub drift: Vec<ResourceChange>,
    pub outputs: Vec<OutputChange>,
    /// Root variables as given.
    pub variables: BTreeMap<String, Value>,
    /// The state before planning, after refresh.
    pub prior_state: State,
    /// The serial of the stored state this plan was made against.
    pub base_serial: u64,
    pub warnings: Vec<Diagnostic>,
    pub targets: Vec<String>,
    /// The configuration's files, so a saved plan applies what was planned.
    pub config_files: Vec<(PathBuf, String)>,
    pub timestamp: String,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| (!c.is_noop() && c.action != Action::Read) || c.adopted || c.previous_address.is_some())
            || self.outputs.iter().any(|o| o.action() != Action::NoOp)
            || (self.mode == PlanMode::RefreshOnly && !self.drift.is_empty())
    }

    /// (add, change, destroy) as Terraform counts them: a replace adds and destroys.
    pub fn counts(&self) -> (usize, usize, usize) {
        self.changes.iter().map(|c| c.action.tally()).fold((0, 0, 0), |a, t| (a.0 + t.0, a.1 + t.1, a.2 + t.2))
    }

    pub fn change(&self, addr: &InstanceAddr) -> Option<&ResourceChange> {
        self.changes.binary_search_by(|c| c.addr.cmp(addr)).ok().map(|i| &self.changes[i])
    }
}
