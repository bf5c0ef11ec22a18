//! The apply journal: one JSON line per completed operation, synced before
//! the engine moves on, so a crash loses nothing; O(1) per operation. It is
//! replayed into the state file by the next command that takes the lock.

use super::{Instance, InstanceFile, State, StateError, instance_from_file, instance_to_file};
use crate::addr::InstanceAddr;
use crate::provider::Marker;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Record {
    /// The journal belongs to this state lineage.
    Begin { lineage: String },
    /// A create is about to be sent; the object will carry `marker`.
    Intent { addr: InstanceAddr, marker: Marker },
    /// An object exists with these attributes (created, updated, adopted, imported).
    Put { addr: InstanceAddr, provider: String, each: Option<String>, instance: Box<InstanceFile> },
    /// An object is gone.
    Remove { addr: InstanceAddr },
    /// A create-before-destroy replacement starts: the current object becomes
    /// a deposed object with this key, until it is destroyed.
    Depose { addr: InstanceAddr, key: String },
    /// The replacement was not created: the deposed object is current again.
    Undepose { addr: InstanceAddr, key: String },
    /// A deposed object is gone.
    RemoveDeposed { addr: InstanceAddr, key: String },
    /// A deposed object is at this address (a `moved` block gave it a new one).
    PutDeposed { addr: InstanceAddr, key: String, provider: String, each: Option<String>, instance: Box<InstanceFile> },
}

impl Record {
    pub fn put(addr: &InstanceAddr, inst: &Instance) -> Record {
        Record::Put {
            addr: addr.clone(),
            provider: inst.provider.clone(),
            each: inst.each.clone(),
            instance: Box::new(instance_to_file(addr, inst)),
        }
    }
}

/// Where journal records go. The apply walk holds one of these.
#[async_trait::async_trait]
pub trait JournalSink: Send + Sync {
    /// Returns once the record is durable.
    async fn append(&self, record: &Record) -> Result<(), StateError>;
}

/// One record as a journal line (JSON and a newline).
pub fn encode(record: &Record, path: &Path) -> Result<Vec<u8>, StateError> {
    let mut line = serde_json::to_vec(record)
        .map_err(|e| StateError::Corrupt { path: path.display().to_string(), reason: e.to_string() })?;
    line.push(b'\n');
    Ok(line)
}

/// An append-only journal file: each batch is appended and `fdatasync`ed,
/// one batch at a time, behind the same group commit as any other store
/// (`BatchedJournal`): many concurrent operations share one sync.
pub struct FileJournal {
    file: std::sync::Arc<Mutex<File>>,
}

impl FileJournal {
    /// The journal at `path`, opened for appending (begun with the lineage it
    /// belongs to when it is new). Needs a tokio runtime.
    pub fn open(path: &Path, lineage: &str) -> Result<BatchedJournal, StateError> {
        let io = |e| StateError::Io { context: format!("opening the journal {}", path.display()), source: e };
        let fresh = !path.exists();
        let mut file = super::private_file::options().create(true).append(true).open(path).map_err(io)?;
        if fresh {
            file.write_all(&encode(&Record::Begin { lineage: lineage.to_string() }, path)?).map_err(io)?;
            file.sync_data().map_err(io)?;
        }
        let writer = FileJournal { file: std::sync::Arc::new(Mutex::new(file)) };
        Ok(BatchedJournal::start(writer, 0, 1, path.display().to_string()))
    }
}

#[async_trait::async_trait]
impl BatchWriter for FileJournal {
    async fn write_batch(&self, _seq: u64, bytes: Vec<u8>) -> Result<(), String> {
        let file = self.file.clone();
        tokio::task::spawn_blocking(move || {
            let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
            f.write_all(&bytes).and_then(|()| f.sync_data()).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("the journal writer stopped: {e}"))?
    }
}

/// Where a batched journal's batches go (numbered objects in a remote
/// store, say). A batch is whole journal lines; `write_batch` returns once it
/// is durable. Batches may be written concurrently: replay reads them in
/// `seq` order, and two records of one object are never in flight together
/// (the engine waits for one to be durable before the operation that writes
/// the next can start), so concurrent batches commute.
#[async_trait::async_trait]
pub trait BatchWriter: Send + Sync + 'static {
    async fn write_batch(&self, seq: u64, bytes: Vec<u8>) -> Result<(), String>;
}

type AsyncJob = (Vec<u8>, tokio::sync::oneshot::Sender<Result<(), String>>);

/// Group commit for a slow store: up to `in_flight` batches are written at
/// once; records queued while all of them are busy go together in the next
/// batch. Each caller still waits until its own record is durable, but a
/// burst of completions costs one request, not one each, and one slow
/// request does not hold up the rest.
pub struct BatchedJournal {
    what: String,
    queue: tokio::sync::mpsc::UnboundedSender<AsyncJob>,
}

impl BatchedJournal {
    /// Batches are numbered from `first_seq`; `what` names the journal in
    /// errors. Needs a tokio runtime.
    pub fn start(writer: impl BatchWriter, first_seq: u64, in_flight: usize, what: String) -> BatchedJournal {
        let (queue, mut jobs) = tokio::sync::mpsc::unbounded_channel::<AsyncJob>();
        let writer = std::sync::Arc::new(writer);
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight.max(1)));
        tokio::spawn(async move {
            let mut seq = first_seq;
            while let Some(first) = jobs.recv().await {
                // Wait for a free slot before gathering, so a busy store gets bigger batches.
                let Ok(slot) = slots.clone().acquire_owned().await else { break };
                let mut batch = vec![first];
                while let Ok(more) = jobs.try_recv() {
                    batch.push(more);
                }
                let (writer, this) = (writer.clone(), seq);
                seq += 1;
                tokio::spawn(async move {
                    let bytes: Vec<u8> = batch.iter().flat_map(|(b, _)| b.iter().copied()).collect();
                    let result = writer.write_batch(this, bytes).await;
                    drop(slot);
                    for (_, reply) in batch {
                        let _ = reply.send(result.clone());
                    }
                });
            }
        });
        BatchedJournal { what, queue }
    }
}

#[async_trait::async_trait]
impl JournalSink for BatchedJournal {
    async fn append(&self, record: &Record) -> Result<(), StateError> {
        let failed = |e: String| StateError::Io {
            context: format!("writing the journal {}", self.what),
            source: std::io::Error::other(e),
        };
        let (reply, done) = tokio::sync::oneshot::channel();
        self.queue
            .send((encode(record, Path::new(&self.what))?, reply))
            .map_err(|_| failed("the journal writer has stopped".into()))?;
        done.await.map_err(|_| failed("the journal writer has stopped".into()))?.map_err(failed)
    }
}

/// Replace the journal with exactly these records (after a compaction), synced.
pub fn rewrite(path: &Path, lineage: &str, records: &[Record]) -> Result<(), StateError> {
    let io = |e| StateError::Io { context: format!("writing the journal {}", path.display()), source: e };
    let mut bytes = encode(&Record::Begin { lineage: lineage.to_string() }, path)?;
    for r in records {
        bytes.extend(encode(r, path)?);
    }
    let mut f = super::private_file::create(path).map_err(io)?;
    f.write_all(&bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

/// A journal that keeps records in memory (tests, and `-lock=false` dry runs).
#[derive(Default)]
pub struct MemoryJournal(pub Mutex<Vec<Record>>);

#[async_trait::async_trait]
impl JournalSink for MemoryJournal {
    async fn append(&self, record: &Record) -> Result<(), StateError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(record.clone());
        Ok(())
    }
}

/// Read a journal's records. A torn last line (a crash mid-write, even in
/// the middle of a UTF-8 character) is dropped; a bad line before the end
/// means corruption.
pub fn read_records(path: &Path) -> Result<Vec<Record>, StateError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(StateError::Io { context: format!("reading the journal {}", path.display()), source: e });
        }
    };
    parse_records(&bytes, path)
}

/// Records from a journal's bytes (see `read_records`).
pub fn parse_records(bytes: &[u8], path: &Path) -> Result<Vec<Record>, StateError> {
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        // Only the last line can be torn: every record ends with a newline.
        let last = i + 1 == lines.len();
        match serde_json::from_slice(line) {
            Ok(r) => out.push(r),
            Err(_) if last => break,
            Err(e) => {
                return Err(StateError::Corrupt {
                    path: path.display().to_string(),
                    reason: format!("journal line {}: {e}", i + 1),
                });
            }
        }
    }
    Ok(out)
}

/// Apply journal records to a state. Returns whether anything changed.
pub fn replay(state: &mut State, records: &[Record], path: &Path) -> Result<bool, StateError> {
    let mut changed = false;
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
                state.pending_creates.insert(addr.clone(), marker.clone());
            }
            Record::Put { addr, provider, each, instance } => {
                let a = addr.clone();
                state.pending_creates.remove(&a);
                let inst = instance_from_file(instance, &a.resource.type_, provider, each.clone());
                state.instances.insert(a, inst);
                changed = true;
            }
            Record::Remove { addr } => {
                let a = addr.clone();
                state.pending_creates.remove(&a);
                state.instances.remove(&a);
                changed = true;
            }
            Record::Depose { addr, key } => {
                let a = addr.clone();
                if let Some(old) = state.instances.remove(&a) {
                    state.deposed.insert((a, key.clone()), old);
                    changed = true;
                }
            }
            Record::Undepose { addr, key } => {
                let a = addr.clone();
                if !state.instances.contains_key(&a)
                    && let Some(old) = state.deposed.remove(&(a.clone(), key.clone()))
                {
                    state.instances.insert(a, old);
                    changed = true;
                }
            }
            Record::RemoveDeposed { addr, key } => {
                let a = addr.clone();
                changed |= state.deposed.remove(&(a, key.clone())).is_some();
            }
            Record::PutDeposed { addr, key, provider, each, instance } => {
                let inst = instance_from_file(instance, &addr.resource.type_, provider, each.clone());
                state.deposed.insert((addr.clone(), key.clone()), inst);
                changed = true;
            }
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> InstanceAddr {
        InstanceAddr::parse(text).unwrap()
    }

    fn put_line(text: &str) -> Vec<u8> {
        let r = Record::Remove { addr: addr(text) };
        let mut l = serde_json::to_vec(&r).unwrap();
        l.push(b'\n');
        l
    }

    #[test]
    fn a_tear_inside_a_utf8_character_drops_only_the_last_line() {
        let mut bytes = put_line("terraform_data.a");
        let torn = put_line("terraform_data.b[\"\u{e9}t\u{e9}\"]");
        let cut = torn.iter().position(|&b| b == 0xc3).unwrap() + 1;
        bytes.extend_from_slice(&torn[..cut]);
        let records = parse_records(&bytes, Path::new("j")).unwrap();
        assert_eq!(records, vec![Record::Remove { addr: addr("terraform_data.a") }]);
    }

    #[test]
    fn a_deposed_object_stays_until_removed_and_comes_back_if_the_replacement_failed() {
        let mut state = State::new();
        let a = addr("terraform_data.a");
        state.instances.insert(a.clone(), Instance::new(crate::value::Value::str("old"), "p", None, vec![]));
        let key = || "0a1b2c3d".to_string();
        let depose = Record::Depose { addr: a.clone(), key: key() };
        replay(&mut state, std::slice::from_ref(&depose), Path::new("j")).unwrap();
        assert!(state.instances.is_empty() && state.deposed.contains_key(&(a.clone(), key())));
        replay(&mut state, &[Record::Undepose { addr: a.clone(), key: key() }], Path::new("j")).unwrap();
        assert!(state.deposed.is_empty() && state.instances.contains_key(&a), "back when nothing replaced it");
        replay(&mut state, &[depose, Record::RemoveDeposed { addr: a.clone(), key: key() }], Path::new("j")).unwrap();
        assert!(state.deposed.is_empty() && state.instances.is_empty());
    }

    #[test]
    fn a_bad_line_before_the_end_is_corruption() {
        let mut bytes = b"{not json\n".to_vec();
        bytes.extend(put_line("terraform_data.a"));
        let err = parse_records(&bytes, Path::new("j")).unwrap_err().to_string();
        assert!(err.contains("journal line 1"), "{err}");
    }
}
