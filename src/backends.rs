//! Which backend a working folder uses. The configuration's backend block,
//! merged with `init -backend-config`, is recorded by `init` in
//! `.terraform/terraform.tfstate` (Terraform's own file for this, its format
//! too); commands then use that record, and refuse to run on a backend block
//! that changed since `init` rather than plan against the wrong state.

use crate::session::{CliError, CliResult};
use ecspoc_aws::backend::{S3Backend, S3Settings};
use ecspoc_core::backend::StateStore;
use ecspoc_core::config::Config;
use ecspoc_core::diag::Diagnostic;
use ecspoc_core::source::Span;
use ecspoc_core::state::local::LocalBackend;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;

pub const RECORD_PATH: &str = ".terraform/terraform.tfstate";

/// A backend and its full settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub kind: String,
    pub config: BTreeMap<String, Json>,
}

impl Choice {
    pub fn local_default() -> Choice {
        Choice { kind: "local".into(), config: BTreeMap::new() }
    }

    pub fn is_local_default(&self) -> bool {
        self.kind == "local" && self.config.get("path").is_none_or(|p| p == "terraform.tfstate")
    }
}

/// The backend block as written (no `-backend-config` yet), and where.
pub struct Block {
    pub choice: Choice,
    pub span: Option<Span>,
}

pub fn block(config: &Config) -> Block {
    match &config.root().backend {
        None => Block { choice: Choice::local_default(), span: None },
        Some(b) => {
            Block { choice: Choice { kind: b.kind.clone(), config: b.config.clone() }, span: Some(b.span.clone()) }
        }
    }
}

/// A hash of the block as written, so a later change to it is noticed.
pub fn block_hash(choice: &Choice) -> u64 {
    let text = serde_json::to_string(&(&choice.kind, &choice.config)).unwrap_or_default();
    u64::from(crc32fast::hash(text.as_bytes()))
}

#[derive(Serialize, Deserialize)]
pub struct Record {
    pub version: u32,
    pub terraform_version: String,
    pub backend: RecordedBackend,
    /// Whatever else Terraform keeps in this file, kept.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Json>,
}

#[derive(Serialize, Deserialize)]
pub struct RecordedBackend {
    #[serde(rename = "type")]
    pub kind: String,
    pub config: BTreeMap<String, Json>,
    pub hash: u64,
}

pub fn read_record() -> CliResult<Option<Record>> {
    let text = match std::fs::read_to_string(RECORD_PATH) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return crate::session::fail(format!("Failed to read {RECORD_PATH}: {e}")),
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        CliError::Message(format!(
            "Failed to read {RECORD_PATH}: {e}\n\nThe file records the backend `ecspoc init` configured; run `ecspoc init -reconfigure` to write it again."
        ))
    })
}

pub fn write_record(choice: &Choice, hash: u64) -> CliResult<()> {
    if choice.is_local_default() {
        return match std::fs::remove_file(RECORD_PATH) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                crate::session::fail(format!("Failed to remove {RECORD_PATH}: {e}"))
            }
            _ => Ok(()),
        };
    }
    let record = Record {
        version: 3,
        terraform_version: "1.11.4".into(),
        backend: RecordedBackend { kind: choice.kind.clone(), config: choice.config.clone(), hash },
        extra: BTreeMap::new(),
    };
    let text = serde_json::to_string_pretty(&record).map_err(|e| CliError::Message(e.to_string()))?;
    // Owner-only: it may hold credentials given with -backend-config.
    std::fs::create_dir_all(".terraform")
        .and_then(|()| ecspoc_core::state::private_file::write_atomic(Path::new(RECORD_PATH), text.as_bytes()))
        .map_err(|e| CliError::Message(format!("Failed to write {RECORD_PATH}: {e}")))
}

/// The backend commands use: the block, as `init` recorded it.
pub async fn for_config(config: &Config) -> CliResult<Box<dyn StateStore>> {
    let block = block(config);
    let record = read_record()?;
    let reason = match &record {
        None if block.choice.kind == "local" => return open(&block.choice, block.span.as_ref()).await,
        None => format!("Initial configuration of the requested backend {:?}", block.choice.kind),
        Some(r) if r.backend.kind == block.choice.kind && r.backend.hash == block_hash(&block.choice) => {
            let recorded = Choice { kind: r.backend.kind.clone(), config: r.backend.config.clone() };
            return open(&recorded, block.span.as_ref()).await;
        }
        Some(r) if block.span.is_none() => format!("Unsetting the previously set backend {:?}", r.backend.kind),
        Some(r) if r.backend.kind != block.choice.kind => {
            format!("Backend type changed from {:?} to {:?}", r.backend.kind, block.choice.kind)
        }
        Some(_) => "Backend configuration block has changed".into(),
    };
    let mut d = Diagnostic::error("Backend initialization required, please run \"ecspoc init\"").with_detail(format!(
        "Reason: {reason}\n\nThe backend is where ecspoc keeps state. Its configuration changed since `ecspoc init` recorded it in {RECORD_PATH}, \
         so this command would read the wrong state. Run `ecspoc init` (with -migrate-state to copy the existing state \
         to the new backend, or -reconfigure to use the new one as it is)."
    ));
    if let Some(s) = &block.span {
        d = d.with_span(s);
    }
    Err(d.into())
}

/// A backend from its full settings; errors point at the block when there is one.
pub async fn open(choice: &Choice, span: Option<&Span>) -> CliResult<Box<dyn StateStore>> {
    let invalid = |detail: String| {
        let mut d = Diagnostic::error("Invalid backend configuration").with_detail(detail);
        if let Some(s) = span {
            d = d.with_span(s);
        }
        CliError::from(d)
    };
    match choice.kind.as_str() {
        "local" => {
            for k in choice.config.keys() {
                if k != "path" && k != "workspace_dir" {
                    return Err(invalid(format!("The local backend has no argument {k:?}.")));
                }
            }
            let path = match choice.config.get("path") {
                None | Some(Json::Null) => "terraform.tfstate",
                Some(Json::String(p)) => p.as_str(),
                Some(other) => return Err(invalid(format!("path: must be a string, not {other}"))),
            };
            Ok(Box::new(LocalBackend::new(path)))
        }
        "s3" => {
            let settings = S3Settings::from_config(&choice.config)
                .map_err(|e| invalid(format!("The s3 backend's {}: {}.", e.argument, e.message)))?;
            Ok(Box::new(S3Backend::new(settings, "default").await?))
        }
        other => Err(invalid(format!(
            "The {other:?} backend is not available in this build of ecspoc; it has \"local\" and \"s3\"."
        ))),
    }
}

/// `-backend-config` values: `KEY=VALUE`, or a file of `KEY = VALUE` lines
/// (`.tfbackend`/HCL, `.json` or `.toml`), applied in order over the block.
pub fn overrides(items: &[String]) -> CliResult<BTreeMap<String, Json>> {
    let mut out = BTreeMap::new();
    for item in items {
        let path = Path::new(item);
        if path.is_file() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::Message(format!("Failed to read -backend-config file {item}: {e}")))?;
            let pairs = ecspoc_core::config::var_file::parse(item, &text)
                .map_err(|e| CliError::Message(format!("Invalid -backend-config file {item}: {e}")))?;
            out.extend(pairs.into_iter().map(|(k, v)| (k, v.to_json())));
        } else if let Some((k, v)) = item.split_once('=') {
            out.insert(k.trim().to_string(), Json::String(v.to_string()));
        } else {
            return crate::session::fail(format!(
                "Invalid -backend-config value {item:?}: give KEY=VALUE or the path of an existing file"
            ));
        }
    }
    Ok(out)
}
