//! Saved plans (`plan -out=FILE`): one serde type, written and read here,
//! holding the plan model, the configuration's files, the variables and the
//! prior state, so `apply FILE` does exactly what was shown. The file holds
//! secrets (variables, state), so it is written readable by its owner only.

use super::{OutputChange, Plan, PlanMode, ResourceChange};
use crate::state::{State, StateError, StateFile};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the first key of every plan file says.
const KIND: &str = "ecspoc-plan";
/// Bumped whenever the layout changes; other versions are refused.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("cannot read the plan file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not an ecspoc plan file ({reason})")]
    NotAPlan { path: String, reason: String },
    #[error(
        "{path} was written by ecspoc {written_by} in plan format {format}; this ecspoc ({ours}) reads format {FORMAT_VERSION}. Run plan again with this version."
    )]
    OtherVersion { path: String, format: u32, written_by: String, ours: &'static str },
    #[error("the plan file {path} is damaged: {reason}. Run plan again.")]
    Corrupt { path: String, reason: String },
    #[error("the plan file's prior state is not valid: {0}")]
    State(#[from] StateError),
}

/// Just enough to say what a file is before reading the rest.
#[derive(Deserialize)]
struct Header {
    kind: String,
    format_version: u32,
    #[serde(default)]
    ecspoc_version: String,
}

#[derive(Serialize, Deserialize)]
struct PlanFile {
    kind: String,
    format_version: u32,
    ecspoc_version: String,
    timestamp: String,
    mode: PlanMode,
    base_serial: u64,
    variables: BTreeMap<String, Value>,
    targets: Vec<String>,
    config_files: Vec<(PathBuf, String)>,
    changes: Vec<ResourceChange>,
    drift: Vec<ResourceChange>,
    outputs: Vec<OutputChange>,
    prior_state: StateFile,
    /// The providers' warnings (open ports, broad grants), for reviews of the saved plan.
    #[serde(default)]
    warnings: Vec<SavedWarning>,
}

#[derive(Serialize, Deserialize)]
struct SavedWarning {
    summary: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
}

/// The bytes of a saved plan.
pub fn to_bytes(plan: &Plan) -> Result<Vec<u8>, serde_json::Error> {
    let file = PlanFile {
        kind: KIND.into(),
        format_version: FORMAT_VERSION,
        ecspoc_version: env!("CARGO_PKG_VERSION").into(),
        timestamp: plan.timestamp.clone(),
        mode: plan.mode,
        base_serial: plan.base_serial,
        variables: plan.variables.clone(),
        targets: plan.targets.clone(),
        config_files: plan.config_files.clone(),
        changes: plan.changes.clone(),
        drift: plan.drift.clone(),
        outputs: plan.outputs.clone(),
        prior_state: plan.prior_state.to_file(),
        warnings: plan
            .warnings
            .iter()
            .map(|w| SavedWarning { summary: w.summary.clone(), detail: w.detail.clone(), address: w.address.clone() })
            .collect(),
    };
    serde_json::to_vec(&file)
}

/// Write a saved plan, readable by its owner only.
pub fn write(path: &Path, plan: &Plan) -> Result<(), PlanFileError> {
    let io = |source| PlanFileError::Io { path: path.display().to_string(), source };
    let bytes = to_bytes(plan).map_err(|e| io(std::io::Error::other(e)))?;
    let mut f = crate::state::private_file::create(path).map_err(io)?;
    std::io::Write::write_all(&mut f, &bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

pub fn read(path: &Path) -> Result<Plan, PlanFileError> {
    let bytes = std::fs::read(path).map_err(|source| PlanFileError::Io { path: path.display().to_string(), source })?;
    from_bytes(&bytes, &path.display().to_string())
}

pub fn from_bytes(bytes: &[u8], path: &str) -> Result<Plan, PlanFileError> {
    let header: Header = serde_json::from_slice(bytes).map_err(|e| {
        let reason = if e.is_eof() || e.is_syntax() { format!("not valid JSON: {e}") } else { e.to_string() };
        PlanFileError::NotAPlan { path: path.into(), reason }
    })?;
    if header.kind != KIND {
        return Err(PlanFileError::NotAPlan { path: path.into(), reason: format!("its kind is {:?}", header.kind) });
    }
    if header.format_version != FORMAT_VERSION {
        return Err(PlanFileError::OtherVersion {
            path: path.into(),
            format: header.format_version,
            written_by: if header.ecspoc_version.is_empty() { "unknown".into() } else { header.ecspoc_version },
            ours: env!("CARGO_PKG_VERSION"),
        });
    }
    let file: PlanFile = serde_json::from_slice(bytes)
        .map_err(|e| PlanFileError::Corrupt { path: path.into(), reason: e.to_string() })?;
    Ok(Plan {
        mode: file.mode,
        changes: file.changes,
        drift: file.drift,
        outputs: file.outputs,
        variables: file.variables,
        prior_state: State::from_file(file.prior_state, path)?,
        base_serial: file.base_serial,
        warnings: file
            .warnings
            .into_iter()
            .map(|w| {
                let d = crate::diag::Diagnostic::warning(w.summary).with_detail(w.detail);
                match w.address {
                    Some(a) => d.with_address(a),
                    None => d,
                }
            })
            .collect(),
        targets: file.targets,
        config_files: file.config_files,
        timestamp: file.timestamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{InstanceKey, Mode, ModulePath, ResourceAddr};
    use crate::plan::{Action, ActionReason};

    fn plan() -> Plan {
        let addr = ResourceAddr {
            module: ModulePath(vec!["svc".into()]),
            mode: Mode::Managed,
            type_: "aws_vpc".into(),
            name: "main".into(),
        }
        .instance(InstanceKey::Str("a\"b".into()));
        let change = ResourceChange {
            addr,
            provider: "registry.terraform.io/hashicorp/aws".into(),
            action: Action::DeleteThenCreate,
            reason: Some(ActionReason::ReplaceBecauseCannotUpdate),
            before: Some(Value::object([("id".into(), Value::str("vpc-1")), ("n".into(), Value::Null)])),
            after: Some(Value::object([("id".into(), Value::Unknown), ("n".into(), Value::Null)])),
            replace_paths: vec!["cidr_block".into()],
            sensitive: vec![],
            dependencies: vec![crate::addr::ResourceAddr::parse("aws_x.y").unwrap()],
            each: Some("map".into()),
            create_before_destroy: true,
            adopted: false,
            deposed: None,
            explain: Vec::new(),
            previous_address: None,
        };
        Plan {
            mode: PlanMode::Normal,
            changes: vec![change],
            drift: vec![],
            outputs: vec![OutputChange { name: "o".into(), before: None, after: Value::Unknown, sensitive: true }],
            variables: BTreeMap::from([("v".into(), Value::List(vec![Value::Number(1.5), Value::Null]))]),
            prior_state: State::new(),
            base_serial: 7,
            warnings: vec![],
            targets: vec!["module.svc".into()],
            config_files: vec![(PathBuf::from("main.toml"), "x = 1\n".into())],
            timestamp: "2026-11-30T00:00:00Z".into(),
        }
    }

    #[test]
    fn a_plan_round_trips_with_unknowns_nulls_and_instance_keys() {
        let p = plan();
        let back = from_bytes(&to_bytes(&p).unwrap(), "p").unwrap();
        assert_eq!(back.changes[0].addr, p.changes[0].addr);
        assert_eq!(back.changes[0].after, p.changes[0].after);
        assert_eq!(back.changes[0].before, p.changes[0].before);
        assert_eq!(back.changes[0].action, Action::DeleteThenCreate);
        assert_eq!(back.outputs[0].after, Value::Unknown);
        assert_eq!(back.variables, p.variables);
        assert_eq!((back.base_serial, back.prior_state.lineage), (7, p.prior_state.lineage));
    }

    #[test]
    fn damaged_and_foreign_files_are_refused_with_what_is_wrong() {
        let bytes = to_bytes(&plan()).unwrap();
        let half = from_bytes(&bytes[..bytes.len() / 2], "p").unwrap_err().to_string();
        assert!(half.contains("not an ecspoc plan file") && half.contains("not valid JSON"), "{half}");
        let text =
            String::from_utf8(bytes.clone()).unwrap().replacen("\"format_version\":2", "\"format_version\":1", 1);
        let old = from_bytes(text.as_bytes(), "p").unwrap_err().to_string();
        assert!(old.contains("plan format 1") && old.contains("reads format 2"), "{old}");
        let other = from_bytes(br#"{"kind": "terraform", "format_version": 2}"#, "p").unwrap_err().to_string();
        assert!(other.contains("its kind is"), "{other}");
        let text = String::from_utf8(bytes).unwrap().replacen("\"DeleteThenCreate\"", "\"Explode\"", 1);
        let bad = from_bytes(text.as_bytes(), "p").unwrap_err().to_string();
        assert!(bad.contains("damaged"), "{bad}");
    }
}
