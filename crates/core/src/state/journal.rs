//! The apply journal: one JSON line per completed operation, synced before
//! the engine moves on, so a crash loses nothing; O(1) per operation. It is
//! replayed into the state file by the next command that takes the lock.

use super::{Instance, InstanceFile, State, StateError, instance_from_file, instance_to_file};
use crate::addr::{InstanceAddr, Target};
use crate::provider::Marker;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Record {
    /// The journal belongs to this state lineage.
    Begin { lineage: String },
    /// A create is about to be sent; the object will carry `marker`.
    Intent { addr: String, marker: Marker },
    /// An object exists with these attributes (created, updated, adopted, imported).
    Put { addr: String, provider: String, each: Option<String>, instance: Box<InstanceFile> },
    /// An object is gone.
    Remove { addr: String },
}

impl Record {
    pub fn put(addr: &InstanceAddr, inst: &Instance) -> Record {
        Record::Put {
            addr: addr.to_string(),
            provider: inst.provider.clone(),
            each: inst.each.clone(),
            instance: Box::new(instance_to_file(&addr.key, inst)),
        }
    }
}

/// Where journal records go. The apply walk holds one of these.
pub trait JournalSink: Send + Sync {
    fn append(&self, record: &Record) -> Result<(), StateError>;
}

/// An append-only file; each append is written and `fdatasync`ed before it returns.
pub struct FileJournal {
    path: PathBuf,
    file: Mutex<File>,
}

impl FileJournal {
    pub fn open(path: &Path, lineage: &str) -> Result<FileJournal, StateError> {
        let fresh = !path.exists();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| StateError::Io { context: format!("opening the journal {}", path.display()), source: e })?;
        let j = FileJournal { path: path.to_path_buf(), file: Mutex::new(file) };
        if fresh {
            j.append(&Record::Begin { lineage: lineage.to_string() })?;
        }
        Ok(j)
    }
}

impl JournalSink for FileJournal {
    fn append(&self, record: &Record) -> Result<(), StateError> {
        let mut line = serde_json::to_vec(record)
            .map_err(|e| StateError::Corrupt { path: self.path.display().to_string(), reason: e.to_string() })?;
        line.push(b'\n');
        let io = |e| StateError::Io { context: format!("writing the journal {}", self.path.display()), source: e };
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(&line).map_err(io)?;
        f.sync_data().map_err(io)
    }
}

/// A journal that keeps records in memory (tests, and `-lock=false` dry runs).
#[derive(Default)]
pub struct MemoryJournal(pub Mutex<Vec<Record>>);

impl JournalSink for MemoryJournal {
    fn append(&self, record: &Record) -> Result<(), StateError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(record.clone());
        Ok(())
    }
}

/// Read a journal's records. A torn last line (a crash mid-write) is dropped;
/// a bad line before the end means corruption.
pub fn read_records(path: &Path) -> Result<Vec<Record>, StateError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(StateError::Io { context: format!("reading the journal {}", path.display()), source: e });
        }
    };
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| StateError::Io { context: format!("reading the journal {}", path.display()), source: e })?;
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(r) => out.push(r),
            Err(_) if i + 1 == lines.len() => break,
            Err(e) => {
                return Err(StateError::Corrupt {
                    path: path.display().to_string(),
                    reason: format!("line {}: {e}", i + 1),
                });
            }
        }
    }
    Ok(out)
}

/// Apply journal records to a state. Returns whether anything changed.
pub fn replay(state: &mut State, records: &[Record], path: &Path) -> Result<bool, StateError> {
    let mut changed = false;
    let parse = |a: &str| match Target::parse(a) {
        Ok(Target::Instance(i)) => Ok(i),
        Ok(Target::Resource(r)) => Ok(r.instance(crate::addr::InstanceKey::None)),
        _ => Err(StateError::Corrupt { path: path.display().to_string(), reason: format!("bad address {a:?}") }),
    };
    for r in records {
        match r {
            Record::Begin { lineage } => {
                if lineage != &state.lineage && !state.is_empty() {
                    return Err(StateError::Corrupt {
                        path: path.display().to_string(),
                        reason: format!("the journal belongs to lineage {lineage}, the state to {}", state.lineage),
                    });
                }
                state.lineage = lineage.clone();
            }
            Record::Intent { addr, marker } => {
                state.pending_creates.insert(parse(addr)?, marker.clone());
            }
            Record::Put { addr, provider, each, instance } => {
                let a = parse(addr)?;
                state.pending_creates.remove(&a);
                state.instances.insert(a, instance_from_file(instance, provider, each.clone()));
                changed = true;
            }
            Record::Remove { addr } => {
                let a = parse(addr)?;
                state.pending_creates.remove(&a);
                state.instances.remove(&a);
                changed = true;
            }
        }
    }
    Ok(changed)
}
