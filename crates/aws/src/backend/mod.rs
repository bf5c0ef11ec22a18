//! Terraform's S3 backend: the state as one S3 object in Terraform's format 4,
//! locked by an S3 lock object (`<key>.tflock`, written only if absent) and/or
//! a DynamoDB item (`LockID = <bucket>/<key>`), with the state's MD5 digest in
//! DynamoDB (`<bucket>/<key>-md5`) as Terraform keeps it.
//!
//! The apply journal lives beside the state as numbered objects
//! (`<key>.journal/0000000001`), one per batch of completed operations, so an
//! operation is durable in S3 before its dependents start without uploading
//! the whole state each time. As with the local backend, only the lock holder
//! folds the journal into the state (at its next write) and deletes it.

mod lock;
mod settings;

pub use settings::{S3Settings, SettingError};

use crate::calls::CallCounter;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier, ServerSideEncryption};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ecspoc_core::backend::{LockInfo, StateStore};
use ecspoc_core::state::journal::{self, BatchWriter, BatchedJournal, JournalSink, Record};
use ecspoc_core::state::{self, State, StateError};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

pub struct S3Backend {
    settings: S3Settings,
    state_key: String,
    s3: aws_sdk_s3::Client,
    dynamodb: Option<aws_sdk_dynamodb::Client>,
    /// Our lock, while we hold it (also when no lock kind is configured:
    /// then only this process's own bookkeeping says who may fold the journal).
    held: Mutex<Option<LockInfo>>,
    calls: CallCounter,
}

/// How long a state whose digest does not match is read again before giving
/// up: S3 was eventually consistent for overwrites before December 2020, and
/// Terraform still waits this long.
const DIGEST_WAIT: Duration = Duration::from_secs(10);

fn remote(context: String, e: ecspoc_core::provider::ProviderError) -> StateError {
    StateError::Io { context, source: std::io::Error::other(e.describe()) }
}

fn code<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> Option<&str> {
    match e {
        SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}

fn status<E>(e: &SdkError<E, HttpResponse>) -> Option<u16> {
    match e {
        SdkError::ServiceError(s) => Some(s.raw().status().as_u16()),
        _ => None,
    }
}

/// An MD5 digest in lower-case hex, as Terraform stores it in DynamoDB.
fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl S3Backend {
    /// Clients for the backend's own settings (region, credentials, role,
    /// endpoints, retries), independent of `[provider.aws]`.
    pub async fn new(settings: S3Settings, workspace: &str) -> Result<S3Backend, StateError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(settings.max_retries + 1));
        if let Some(r) = &settings.region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        if let Some(p) = &settings.profile {
            loader = loader.profile_name(p);
        }
        if let (Some(a), Some(s)) = (&settings.access_key, &settings.secret_key) {
            loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                a,
                s,
                settings.token.clone(),
                None,
                "s3-backend-settings",
            ));
        }
        let mut shared = loader.load().await;
        if shared.region().is_none() {
            return Err(StateError::Conflict(
                "the s3 backend needs a region: set region in [terraform.backend.s3] (or -backend-config=region=...), or AWS_REGION".into(),
            ));
        }
        if let Some(role) = &settings.assume_role {
            let mut b = aws_config::sts::AssumeRoleProvider::builder(&role.role_arn)
                .session_name(role.session_name.clone().unwrap_or_else(|| "ecspoc-s3-backend".into()))
                .configure(&shared);
            if let Some(x) = &role.external_id {
                b = b.external_id(x);
            }
            let provider = b.build().await;
            shared = shared
                .into_builder()
                .credentials_provider(aws_types::sdk_config::SharedCredentialsProvider::new(provider))
                .build();
        }
        let calls = CallCounter::default();
        let mut s3 = aws_sdk_s3::config::Builder::from(&shared).interceptor(calls.clone());
        if let Some(e) = &settings.endpoints.s3 {
            s3 = s3.endpoint_url(e);
        }
        let path_style = settings.use_path_style
            || settings.endpoints.s3.is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL").is_some();
        let s3 = aws_sdk_s3::Client::from_conf(s3.force_path_style(path_style).build());
        let dynamodb = settings.dynamodb_table.as_ref().map(|_| {
            let mut b = aws_sdk_dynamodb::config::Builder::from(&shared).interceptor(calls.clone());
            if let Some(e) = &settings.endpoints.dynamodb {
                b = b.endpoint_url(e);
            }
            aws_sdk_dynamodb::Client::from_conf(b.build())
        });
        let state_key = settings.state_key(workspace);
        Ok(S3Backend { settings, state_key, s3, dynamodb, held: Mutex::new(None), calls })
    }

    fn url(&self) -> String {
        format!("s3://{}/{}", self.settings.bucket, self.state_key)
    }

    /// Terraform's lock and digest item keys.
    fn lock_id(&self) -> String {
        format!("{}/{}", self.settings.bucket, self.state_key)
    }

    fn journal_prefix(&self) -> String {
        format!("{}.journal/", self.state_key)
    }

    fn holds_lock(&self) -> bool {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// A PutObject with the backend's encryption and ACL settings.
    fn put(&self, key: &str, body: Vec<u8>) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
        put_object(&self.s3, &self.settings, key, body)
    }

    /// An object's bytes, or None when there is no such object.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        let context = || format!("reading s3://{}/{key}", self.settings.bucket);
        match self.s3.get_object().bucket(&self.settings.bucket).key(key).send().await {
            Ok(out) => {
                let body = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| StateError::Io { context: context(), source: std::io::Error::other(e.to_string()) })?;
                Ok(Some(body.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(remote(context(), crate::error::api("GetObject", e))),
        }
    }

    /// The stored state object's text, checked against the digest in DynamoDB.
    async fn read_stored(&self) -> Result<Option<State>, StateError> {
        let start = std::time::Instant::now();
        loop {
            let body = self.get(&self.state_key).await?;
            let expected = self.stored_digest().await?;
            let actual = body.as_deref().map(md5_hex);
            let matches = match (&expected, &actual) {
                (None, _) => true,
                (Some(e), Some(a)) => e == a,
                // A digest for a state that is not there (yet).
                (Some(_), None) => false,
            };
            if matches {
                let Some(bytes) = body else { return Ok(None) };
                let text = String::from_utf8(bytes)
                    .map_err(|e| StateError::Corrupt { path: self.url(), reason: e.to_string() })?;
                if text.trim().is_empty() {
                    return Ok(None);
                }
                return state::decode(&text, &self.url()).map(Some);
            }
            if start.elapsed() >= DIGEST_WAIT {
                return Err(StateError::Corrupt {
                    path: self.url(),
                    reason: format!(
                        "the state data in S3 does not have the expected content: its MD5 is {}, the digest stored in DynamoDB table {} (item {}-md5) is {}. \
                         Either S3 has not yet shown the latest write, or the state was changed outside this backend; \
                         if the object is right, update the item's Digest value to {}.",
                        actual.as_deref().unwrap_or("(no object)"),
                        self.settings.dynamodb_table.as_deref().unwrap_or_default(),
                        self.lock_id(),
                        expected.as_deref().unwrap_or_default(),
                        actual.as_deref().unwrap_or("(no object)"),
                    ),
                });
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    async fn stored_digest(&self) -> Result<Option<String>, StateError> {
        let (Some(db), Some(table)) = (&self.dynamodb, &self.settings.dynamodb_table) else { return Ok(None) };
        let out = db
            .get_item()
            .table_name(table)
            .key("LockID", AttributeValue::S(format!("{}-md5", self.lock_id())))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| {
                remote(format!("reading the state digest from DynamoDB table {table}"), crate::error::api("GetItem", e))
            })?;
        Ok(out.item().and_then(|i| i.get("Digest")).and_then(|d| d.as_s().ok()).filter(|d| !d.is_empty()).cloned())
    }

    async fn put_digest(&self, digest: &str) -> Result<(), StateError> {
        let (Some(db), Some(table)) = (&self.dynamodb, &self.settings.dynamodb_table) else { return Ok(()) };
        db.put_item()
            .table_name(table)
            .item("LockID", AttributeValue::S(format!("{}-md5", self.lock_id())))
            .item("Digest", AttributeValue::S(digest.into()))
            .send()
            .await
            .map_err(|e| {
                remote(format!("writing the state digest to DynamoDB table {table}"), crate::error::api("PutItem", e))
            })?;
        Ok(())
    }

    /// The journal's objects, oldest first.
    async fn journal_keys(&self) -> Result<Vec<String>, StateError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .s3
                .list_objects_v2()
                .bucket(&self.settings.bucket)
                .prefix(self.journal_prefix())
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    remote(format!("listing the journal of {}", self.url()), crate::error::api("ListObjectsV2", e))
                })?;
            keys.extend(out.contents().iter().filter_map(|o| o.key().map(String::from)));
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn journal_records(&self, keys: &[String]) -> Result<Vec<Record>, StateError> {
        let mut bytes = Vec::new();
        for k in keys {
            if let Some(b) = self.get(k).await? {
                bytes.extend(b);
            }
        }
        journal::parse_records(&bytes, Path::new(&self.journal_prefix()))
    }

    async fn delete_keys(&self, keys: &[String]) -> Result<(), StateError> {
        for chunk in keys.chunks(1000) {
            let objects: Vec<ObjectIdentifier> =
                chunk.iter().filter_map(|k| ObjectIdentifier::builder().key(k).build().ok()).collect();
            let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().map_err(|e| {
                StateError::Io { context: "deleting the journal".into(), source: std::io::Error::other(e) }
            })?;
            let out =
                self.s3.delete_objects().bucket(&self.settings.bucket).delete(delete).send().await.map_err(|e| {
                    remote(format!("deleting the journal of {}", self.url()), crate::error::api("DeleteObjects", e))
                })?;
            if let Some(e) = out.errors().first() {
                return Err(StateError::Io {
                    context: format!("deleting the journal of {}", self.url()),
                    source: std::io::Error::other(format!(
                        "{}: {} {}",
                        e.key().unwrap_or_default(),
                        e.code().unwrap_or_default(),
                        e.message().unwrap_or_default()
                    )),
                });
            }
        }
        Ok(())
    }

    /// After a full write the journal holds nothing new, except unfinished
    /// creates (rewritten as a fresh first object, so the planner can adopt them).
    async fn compact_journal(&self, state: &State) -> Result<(), StateError> {
        let keys = self.journal_keys().await?;
        if !state.pending_creates.is_empty() {
            let mut bytes =
                journal::encode(&Record::Begin { lineage: state.lineage.clone() }, Path::new(&self.journal_prefix()))?;
            for (addr, marker) in &state.pending_creates {
                let r = Record::Intent { addr: addr.clone(), marker: marker.clone() };
                bytes.extend(journal::encode(&r, Path::new(&self.journal_prefix()))?);
            }
            // After the newest existing object, so a crash between the two steps replays in order.
            let next = next_sequence(&keys);
            let key = segment_key(&self.journal_prefix(), next);
            self.put(&key, bytes).send().await.map_err(|e| {
                remote(format!("writing the journal of {}", self.url()), crate::error::api("PutObject", e))
            })?;
        }
        self.delete_keys(&keys).await
    }

    /// Writing state or the journal needs the lock even under `-lock=false`:
    /// take it now without waiting, or refuse rather than write beside another run.
    async fn claim(&self) -> Result<(), StateError> {
        if self.holds_lock() {
            return Ok(());
        }
        // A UUID, as every ID of this backend's locks (Terraform's force-unlock takes it).
        let info = LockInfo { id: uuid::Uuid::new_v4().to_string(), ..LockInfo::write_claim(self.lock_id()) };
        match self.try_lock(&info).await? {
            Ok(()) => Ok(()),
            Err(holder) => Err(LockInfo::claim_refused(holder.as_ref(), &self.lock_id())),
        }
    }
}

/// A PutObject of `body` at `key`, with the backend's encryption and ACL:
/// the state, the lock object and the journal's objects alike.
fn put_object(
    s3: &aws_sdk_s3::Client,
    settings: &S3Settings,
    key: &str,
    body: Vec<u8>,
) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
    let mut req =
        s3.put_object().bucket(&settings.bucket).key(key).content_type("application/json").body(ByteStream::from(body));
    if settings.encrypt {
        req = match &settings.kms_key_id {
            Some(k) => req.server_side_encryption(ServerSideEncryption::AwsKms).ssekms_key_id(k),
            None => req.server_side_encryption(ServerSideEncryption::Aes256),
        };
    }
    if let Some(acl) = &settings.acl {
        req = req.acl(acl.as_str().into());
    }
    req
}

fn segment_key(prefix: &str, n: u64) -> String {
    format!("{prefix}{n:010}")
}

fn next_sequence(keys: &[String]) -> u64 {
    keys.iter().filter_map(|k| k.rsplit('/').next()?.parse::<u64>().ok()).max().map(|n| n + 1).unwrap_or(1)
}

/// Writes each batch of journal lines as the object of its number.
struct SegmentWriter {
    s3: aws_sdk_s3::Client,
    settings: S3Settings,
    prefix: String,
}

#[async_trait::async_trait]
impl BatchWriter for SegmentWriter {
    async fn write_batch(&self, seq: u64, bytes: Vec<u8>) -> Result<(), String> {
        let key = segment_key(&self.prefix, seq);
        put_object(&self.s3, &self.settings, &key, bytes)
            .send()
            .await
            .map_err(|e| crate::error::api("PutObject", e).describe())?;
        Ok(())
    }
}

/// Journal batches written at once. The apply walk waits for each record
/// before dependents start, so the store's latency sets the pace. Measured
/// with 1,000 terraform_data on the emulator (BENCHMARKS.md): 1 in flight
/// 3.3 s and 203 PUTs, 2: 2.7 s / 305, 4: 2.4 s / 508, 8: 3.0 s / 905 (the
/// emulator itself saturates). Real S3 has more latency and no such limit.
const JOURNAL_IN_FLIGHT: usize = 4;

#[async_trait::async_trait]
impl StateStore for S3Backend {
    fn describe(&self) -> String {
        let mut locks = Vec::new();
        if self.settings.use_lockfile {
            locks.push(format!("lock object {}.tflock", self.state_key));
        }
        if let Some(t) = &self.settings.dynamodb_table {
            locks.push(format!("DynamoDB table {t}"));
        }
        let locks = if locks.is_empty() { "no locking".to_string() } else { locks.join(" and ") };
        format!("s3 state {} ({locks})", self.url())
    }

    fn lock_path(&self) -> String {
        self.lock_id()
    }

    async fn lock(&self, info: &LockInfo, timeout: Duration) -> Result<(), StateError> {
        let location = self.lock_id();
        ecspoc_core::backend::wait_for_lock(timeout, &location, async || self.try_lock(info).await).await
    }

    async fn unlock(&self) -> Result<(), StateError> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner()).take();
        match held {
            Some(info) => self.release(&info.id).await,
            None => Ok(()),
        }
    }

    async fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        self.release_found(id).await
    }

    async fn read(&self) -> Result<State, StateError> {
        let mut state = self.read_stored().await?.unwrap_or_default();
        let keys = self.journal_keys().await?;
        if !keys.is_empty() {
            // Replayed in memory; the lock holder's next write folds it in and deletes it.
            let records = self.journal_records(&keys).await?;
            journal::replay(&mut state, &records, Path::new(&self.journal_prefix()))?;
        }
        Ok(state)
    }

    async fn write(&self, state: &mut State) -> Result<(), StateError> {
        self.claim().await?;
        let current = self.read_stored().await?;
        if state::prepare_write(state, current.as_ref(), &self.url())? {
            let text = state::encode(state, &self.url())?;
            let digest = md5_hex(text.as_bytes());
            self.put(&self.state_key, text.into_bytes())
                .send()
                .await
                .map_err(|e| remote(format!("writing {}", self.url()), crate::error::api("PutObject", e)))?;
            self.put_digest(&digest).await?;
        }
        self.compact_journal(state).await
    }

    async fn open_journal(&self, state: &State) -> Result<Box<dyn JournalSink>, StateError> {
        self.claim().await?;
        let keys = self.journal_keys().await?;
        let mut next = next_sequence(&keys);
        if keys.is_empty() {
            // The journal opens with the lineage it belongs to, in an object of its own.
            let begin =
                journal::encode(&Record::Begin { lineage: state.lineage.clone() }, Path::new(&self.journal_prefix()))?;
            self.put(&segment_key(&self.journal_prefix(), next), begin).send().await.map_err(|e| {
                remote(format!("writing the journal of {}", self.url()), crate::error::api("PutObject", e))
            })?;
            next += 1;
        }
        let writer =
            SegmentWriter { s3: self.s3.clone(), settings: self.settings.clone(), prefix: self.journal_prefix() };
        let what = format!("s3://{}/{}", self.settings.bucket, self.journal_prefix());
        Ok(Box::new(BatchedJournal::start(writer, next, JOURNAL_IN_FLIGHT, what)))
    }

    fn requests(&self) -> BTreeMap<String, u64> {
        self.calls.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_sort_and_continue() {
        let keys = vec!["k.journal/0000000002".to_string(), "k.journal/0000000010".to_string()];
        assert_eq!(next_sequence(&keys), 11);
        assert_eq!(next_sequence(&[]), 1);
        assert!(segment_key("k.journal/", 9) < segment_key("k.journal/", 10));
    }

    #[test]
    fn digest_is_terraforms_hex_md5() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
