//! Where state lives and how it is locked: a small trait, so the engine does
//! not care whether it is a local file or an S3 object.

use crate::state::journal::JournalSink;
use crate::state::{State, StateError};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Terraform's lock information, shown to whoever finds the lock taken.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LockInfo {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Operation")]
    pub operation: String,
    #[serde(rename = "Info")]
    pub info: String,
    #[serde(rename = "Who")]
    pub who: String,
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Created")]
    pub created: String,
    #[serde(rename = "Path")]
    pub path: String,
}

impl LockInfo {
    /// `location` names the lock (a file, an S3 object, a DynamoDB item).
    pub fn describe_conflict(holder: Option<&LockInfo>, location: &str) -> String {
        let mut s = String::from("Error acquiring the state lock: the state is locked by another process.\n");
        match holder {
            Some(h) => s.push_str(&format!(
                "\nLock Info:\n  ID:        {}\n  Path:      {}\n  Operation: {}\n  Who:       {}\n  Version:   {}\n  Created:   {}\n  Info:      {}\n",
                h.id, h.path, h.operation, h.who, h.version, h.created, h.info
            )),
            None => s.push_str(&format!("\nLock: {location}\n")),
        }
        s.push_str("\nWait for that command to finish, or use -lock-timeout=DURATION to wait for it.");
        s
    }
}

impl LockInfo {
    /// The lock a command takes, without waiting, when it must write state
    /// or the journal under `-lock=false` (see `claim_refused`).
    pub fn write_claim(path: String) -> LockInfo {
        LockInfo {
            id: format!("claim-{}", std::process::id()),
            operation: "OperationTypeWrite".into(),
            info: format!("pid {} (-lock=false)", std::process::id()),
            who: String::new(),
            version: env!("CARGO_PKG_VERSION").into(),
            created: crate::events::now_rfc3339(),
            path,
        }
    }

    /// Why a write under `-lock=false` was refused: another process holds the lock.
    pub fn claim_refused(holder: Option<&LockInfo>, location: &str) -> StateError {
        StateError::Locked(format!(
            "{}\n\nWith -lock=false ecspoc still never writes the state or its journal while another process holds the lock: that process's journal would be lost.",
            LockInfo::describe_conflict(holder, location)
        ))
    }
}

/// One attempt at a lock: taken, or held by someone (whose info may be unreadable).
pub type LockAttempt = Result<(), Option<LockInfo>>;

/// Try `attempt` until it takes the lock or `timeout` passes (50 ms doubling
/// to 2 s between tries); the error names the holder.
pub async fn wait_for_lock<F, Fut>(timeout: Duration, location: &str, mut attempt: F) -> Result<(), StateError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<LockAttempt, StateError>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(50);
    loop {
        match attempt().await? {
            Ok(()) => return Ok(()),
            Err(holder) => {
                if start.elapsed() >= timeout {
                    return Err(StateError::Locked(LockInfo::describe_conflict(holder.as_ref(), location)));
                }
                tokio::time::sleep(delay.min(timeout.saturating_sub(start.elapsed()))).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

#[async_trait::async_trait]
pub trait StateStore: Send + Sync {
    fn describe(&self) -> String;
    /// What lock info's `Path` says, as Terraform writes it (the state file's
    /// path, or `bucket/key`).
    fn lock_path(&self) -> String {
        self.describe()
    }
    /// Take the lock, retrying until `timeout`; the error says who holds it.
    async fn lock(&self, info: &LockInfo, timeout: Duration) -> Result<(), StateError>;
    async fn unlock(&self) -> Result<(), StateError>;
    async fn force_unlock(&self, id: &str) -> Result<(), StateError>;
    /// The current state, with any journal left by an interrupted apply replayed.
    async fn read(&self) -> Result<State, StateError>;
    /// Persist the whole state (serial bumped when it changed) and compact the journal.
    async fn write(&self, state: &mut State) -> Result<(), StateError>;
    async fn open_journal(&self, state: &State) -> Result<Box<dyn JournalSink>, StateError>;
    /// Requests made to a remote store so far, by operation (none for local files).
    fn requests(&self) -> std::collections::BTreeMap<String, u64> {
        Default::default()
    }
}
