//! The local backend: `terraform.tfstate` (+ `.backup`), written atomically,
//! an OS file lock that dies with its process, and the apply journal beside it.
//!
//! The journal belongs to the process holding the lock: only that process
//! replays it into the state file, compacts or deletes it. Any other reader
//! (`show`, `output`, `-lock=false`) sees state plus journal in memory and
//! changes neither. A command that writes state or the journal without having
//! taken the lock (`-lock=false`) takes it then, without waiting, or fails.

use super::journal::{self, FileJournal, JournalSink, Record};
use super::private_file;
use super::{State, StateError};
use crate::backend::{LockAttempt, LockInfo, StateStore, wait_for_lock};
use std::fs::{self, File};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

pub struct LocalBackend {
    pub path: PathBuf,
    lock: Mutex<Option<File>>,
}

impl LocalBackend {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LocalBackend { path: path.into(), lock: Mutex::new(None) }
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "terraform.tfstate".into());
        self.path.with_file_name(format!("{name}{suffix}"))
    }

    pub fn journal_path(&self) -> PathBuf {
        self.sibling(".journal")
    }

    pub fn backup_path(&self) -> PathBuf {
        self.sibling(".backup")
    }

    fn lock_path(&self) -> PathBuf {
        let name = self.path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        self.path.with_file_name(format!(".{name}.lock.info"))
    }

    fn io(&self, what: &str, e: std::io::Error) -> StateError {
        StateError::Io { context: format!("{what} {}", self.path.display()), source: e }
    }

    fn read_file(&self) -> Result<Option<State>, StateError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io("reading", e)),
        };
        let path = self.path.display().to_string();
        if text.trim().is_empty() {
            // An empty file where objects were recorded is a lost state, not a new one.
            if self.backup_has_objects() || self.journal_has_objects() {
                return Err(StateError::Corrupt { path, reason: self.restore_hint("the file is empty") });
            }
            return Ok(None);
        }
        match super::decode(&text, &path) {
            Err(StateError::Corrupt { path, reason }) => {
                Err(StateError::Corrupt { path, reason: self.restore_hint(&reason) })
            }
            other => other.map(Some),
        }
    }

    /// `stored_is_empty` says what the file holds now (`None`: no state in it),
    /// as the caller has just read it, so it is not read again here.
    fn write_file(&self, state: &State, stored_is_empty: Option<bool>) -> Result<(), StateError> {
        let text = super::encode(state, &self.path.display().to_string())?;
        if self.should_back_up(stored_is_empty) {
            let backup = self.backup_path();
            fs::copy(&self.path, &backup).map_err(|e| self.io("backing up", e))?;
            private_file::restrict(&backup).map_err(|e| self.io("backing up", e))?;
        }
        private_file::write_atomic(&self.path, text.as_bytes()).map_err(|e| self.io("writing", e))
    }
}

#[async_trait::async_trait]
impl StateStore for LocalBackend {
    fn describe(&self) -> String {
        format!("local state {}", self.path.display())
    }

    fn lock_path(&self) -> String {
        self.path.display().to_string()
    }

    async fn lock(&self, info: &LockInfo, timeout: Duration) -> Result<(), StateError> {
        let location = self.lock_path().display().to_string();
        wait_for_lock(timeout, &location, async || self.try_lock(info)).await
    }

    async fn unlock(&self) -> Result<(), StateError> {
        if let Some(f) = self.lock.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = f.set_len(0);
            let _ = f.unlock();
        }
        Ok(())
    }

    async fn force_unlock(&self, _id: &str) -> Result<(), StateError> {
        Err(StateError::Locked(
            "Local state cannot be unlocked by another process: its lock is an operating-system file lock, released when the process that holds it exits.".into(),
        ))
    }

    async fn read(&self) -> Result<State, StateError> {
        let stored = self.read_file()?;
        let stored_is_empty = stored.as_ref().map(State::is_empty);
        let mut state = stored.unwrap_or_default();
        let jpath = self.journal_path();
        let records = journal::read_records(&jpath)?;
        if !records.is_empty() {
            let changed = journal::replay(&mut state, &records, &jpath)?;
            // Without the lock the journal may be a running apply's: look, never touch.
            if !self.holds_lock() {
                return Ok(state);
            }
            if changed {
                state.serial += 1;
                self.write_file(&state, stored_is_empty)?;
            }
            // Keep only unfinished creates, so the planner can adopt them.
            let _ = fs::remove_file(&jpath);
            if !state.pending_creates.is_empty() {
                journal::rewrite(&jpath, &state.lineage, &pending_intents(&state))?;
            }
        }
        Ok(state)
    }

    async fn write(&self, state: &mut State) -> Result<(), StateError> {
        self.claim()?;
        let current = self.read_file()?;
        if super::prepare_write(state, current.as_ref(), &self.path.display().to_string())? {
            self.write_file(state, current.as_ref().map(State::is_empty))?;
        }
        self.compact_journal(state)
    }

    async fn open_journal(&self, state: &State) -> Result<Box<dyn JournalSink>, StateError> {
        self.claim()?;
        Ok(Box::new(FileJournal::open(&self.journal_path(), &state.lineage)?))
    }
}

fn pending_intents(state: &State) -> Vec<Record> {
    state
        .pending_creates
        .iter()
        .map(|(addr, marker)| Record::Intent { addr: addr.clone(), marker: marker.clone() })
        .collect()
}

impl LocalBackend {
    /// After a full write the journal holds nothing new, except unfinished creates.
    fn compact_journal(&self, state: &State) -> Result<(), StateError> {
        let jpath = self.journal_path();
        if jpath.exists() {
            fs::remove_file(&jpath).map_err(|e| self.io("removing the journal of", e))?;
        }
        if !state.pending_creates.is_empty() {
            journal::rewrite(&jpath, &state.lineage, &pending_intents(state))?;
        }
        Ok(())
    }

    pub fn exists(path: &Path) -> bool {
        path.exists()
    }

    fn holds_lock(&self) -> bool {
        self.lock.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// One attempt at the OS lock: `Err(holder)` when another process has it.
    fn try_lock(&self, info: &LockInfo) -> Result<LockAttempt, StateError> {
        let lock_path = self.lock_path();
        let mut f = private_file::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| self.io("opening the lock file for", e))?;
        match f.try_lock() {
            Ok(()) => {
                let text = serde_json::to_string(info).unwrap_or_default();
                f.set_len(0).map_err(|e| self.io("writing the lock for", e))?;
                f.rewind().map_err(|e| self.io("writing the lock for", e))?;
                f.write_all(text.as_bytes()).map_err(|e| self.io("writing the lock for", e))?;
                let _ = f.sync_data();
                *self.lock.lock().unwrap_or_else(|p| p.into_inner()) = Some(f);
                Ok(Ok(()))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut held = String::new();
                let _ = f.read_to_string(&mut held);
                Ok(Err(serde_json::from_str(&held).ok()))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(self.io("locking", e)),
        }
    }

    /// Writing state or the journal needs the lock even under `-lock=false`:
    /// take it now without waiting, or refuse rather than write beside another run.
    fn claim(&self) -> Result<(), StateError> {
        if self.holds_lock() {
            return Ok(());
        }
        match self.try_lock(&LockInfo::write_claim(self.describe()))? {
            Ok(()) => Ok(()),
            Err(holder) => Err(LockInfo::claim_refused(holder.as_ref(), &self.lock_path().display().to_string())),
        }
    }

    fn backup_has_objects(&self) -> bool {
        fs::read_to_string(self.backup_path())
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v.get("resources").and_then(|r| r.as_array()).map(|r| !r.is_empty()))
            .unwrap_or(false)
    }

    fn journal_has_objects(&self) -> bool {
        journal::read_records(&self.journal_path())
            .map(|rs| rs.iter().any(|r| matches!(r, Record::Put { .. })))
            .unwrap_or(false)
    }

    fn restore_hint(&self, reason: &str) -> String {
        let backup = self.backup_path();
        let mut s = format!("{reason}. Nothing was changed.");
        if backup.exists() {
            s.push_str(&format!(
                " The previous state is in {}: check it, then restore it with `cp {} {}` (a journal beside it, if any, is replayed on the next run).",
                backup.display(),
                backup.display(),
                self.path.display()
            ));
        }
        s
    }

    /// The backup keeps the last state that held something: a missing or
    /// empty file never replaces it.
    fn should_back_up(&self, stored_is_empty: Option<bool>) -> bool {
        match stored_is_empty {
            None => false,
            Some(false) => true,
            Some(true) => !self.backup_has_objects(),
        }
    }
}
