//! The local backend: `terraform.tfstate` (+ `.backup`), written atomically,
//! an OS file lock that dies with its process, and the apply journal beside it.

use super::journal::{self, FileJournal, JournalSink, Record};
use super::{State, StateError, StateFile};
use crate::backend::{LockInfo, StateStore};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
        if text.trim().is_empty() {
            return Ok(None);
        }
        let path = self.path.display().to_string();
        let raw: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| StateError::Corrupt { path: path.clone(), reason: e.to_string() })?;
        if let Some(v) = raw.get("version").and_then(|v| v.as_u64())
            && v != super::STATE_VERSION
        {
            return Err(StateError::UnsupportedVersion { path, version: v });
        }
        let file: StateFile = serde_json::from_value(raw)
            .map_err(|e| StateError::Corrupt { path: path.clone(), reason: e.to_string() })?;
        State::from_file(file, &path).map(Some)
    }

    fn write_file(&self, state: &State) -> Result<(), StateError> {
        let text = serde_json::to_string_pretty(&state.to_file())
            .map_err(|e| StateError::Corrupt { path: self.path.display().to_string(), reason: e.to_string() })?;
        if self.path.exists() {
            fs::copy(&self.path, self.backup_path()).map_err(|e| self.io("backing up", e))?;
        }
        let tmp = self.sibling(".tmp");
        {
            let mut f = File::create(&tmp).map_err(|e| self.io("writing", e))?;
            f.write_all(text.as_bytes()).map_err(|e| self.io("writing", e))?;
            f.write_all(b"\n").map_err(|e| self.io("writing", e))?;
            f.sync_all().map_err(|e| self.io("syncing", e))?;
        }
        fs::rename(&tmp, &self.path).map_err(|e| self.io("replacing", e))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl StateStore for LocalBackend {
    fn describe(&self) -> String {
        format!("local state {}", self.path.display())
    }

    async fn lock(&self, info: &LockInfo, timeout: Duration) -> Result<(), StateError> {
        let lock_path = self.lock_path();
        let start = Instant::now();
        let mut delay = Duration::from_millis(50);
        loop {
            let mut f = OpenOptions::new()
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
                    return Ok(());
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    if start.elapsed() >= timeout {
                        let mut held = String::new();
                        let _ = f.read_to_string(&mut held);
                        let holder: Option<LockInfo> = serde_json::from_str(&held).ok();
                        return Err(StateError::Locked(LockInfo::describe_conflict(holder.as_ref(), &lock_path)));
                    }
                    tokio::time::sleep(delay.min(timeout.saturating_sub(start.elapsed()))).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(self.io("locking", e)),
            }
        }
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
        let mut state = self.read_file()?.unwrap_or_default();
        let jpath = self.journal_path();
        let records = journal::read_records(&jpath)?;
        if !records.is_empty() {
            let changed = journal::replay(&mut state, &records, &jpath)?;
            if changed {
                state.serial += 1;
                self.write_file(&state)?;
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
        let current = self.read_file()?;
        if let Some(cur) = &current {
            if cur.lineage != state.lineage && !cur.is_empty() {
                return Err(StateError::Conflict(format!(
                    "the state at {} has lineage {}, not {}: refusing to overwrite another configuration's state",
                    self.path.display(),
                    cur.lineage,
                    state.lineage
                )));
            }
            if cur.instances == state.instances && cur.outputs == state.outputs && self.path.exists() {
                state.serial = cur.serial;
                self.compact_journal(state)?;
                return Ok(());
            }
            // Never go backwards; a pushed state may bring a higher serial of its own.
            state.serial = state.serial.max(cur.serial + 1);
        } else {
            state.serial += 1;
        }
        self.write_file(state)?;
        self.compact_journal(state)
    }

    fn open_journal(&self, state: &State) -> Result<Box<dyn JournalSink>, StateError> {
        Ok(Box::new(FileJournal::open(&self.journal_path(), &state.lineage)?))
    }
}

fn pending_intents(state: &State) -> Vec<Record> {
    state
        .pending_creates
        .iter()
        .map(|(addr, marker)| Record::Intent { addr: addr.to_string(), marker: marker.clone() })
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
}
