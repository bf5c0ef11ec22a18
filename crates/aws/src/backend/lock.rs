//! The S3 backend's two lock kinds, as Terraform takes them: the lock object
//! `<key>.tflock` written only if absent (S3 conditional writes), and the
//! DynamoDB item `LockID = <bucket>/<key>` put only if absent. With both
//! configured both are taken, the object first; either one held by someone
//! else means the state is locked.

use super::{S3Backend, code, remote, status};
use aws_sdk_dynamodb::types::AttributeValue;
use ecspoc_core::backend::{LockAttempt, LockInfo};
use ecspoc_core::state::StateError;

/// Whether a lock record is there to delete: never one another ID took.
fn ours_to_delete(held: Option<LockInfo>, id: &str, what: &str) -> Result<bool, StateError> {
    match held {
        Some(h) if h.id != id => {
            Err(StateError::Locked(format!("{what} now holds lock {:?}, not {id:?}; it was left alone", h.id)))
        }
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

fn lock_text(info: &LockInfo) -> Result<String, StateError> {
    serde_json::to_string(info).map_err(|e| StateError::Locked(format!("the lock info could not be written: {e}")))
}

impl S3Backend {
    fn lock_key(&self) -> String {
        format!("{}.tflock", self.state_key)
    }

    /// One attempt at every configured lock kind; on conflict, nothing is kept.
    pub(super) async fn try_lock(&self, info: &LockInfo) -> Result<LockAttempt, StateError> {
        // Held from before the first request: if this future is dropped
        // mid-request (an interrupt while waiting), `unlock` still releases
        // whatever was taken, checking that it carries this lock's ID.
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = Some(info.clone());
        let taken = self.try_lock_kinds(info).await;
        if !matches!(taken, Ok(Ok(()))) {
            *self.held.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
        taken
    }

    async fn try_lock_kinds(&self, info: &LockInfo) -> Result<LockAttempt, StateError> {
        if self.settings.use_lockfile {
            match self.put_lock_object(info).await? {
                Ok(()) => {}
                Err(holder) => return Ok(Err(holder)),
            }
        }
        if self.dynamodb.is_some() {
            let taken = self.put_lock_item(info).await;
            if !matches!(taken, Ok(Ok(()))) && self.settings.use_lockfile {
                // Give back the object we took: the state stays locked by the item's holder only.
                let _ = self.delete_lock_object(&info.id).await;
            }
            match taken? {
                Ok(()) => {}
                Err(holder) => return Ok(Err(holder)),
            }
        }
        Ok(Ok(()))
    }

    async fn put_lock_object(&self, info: &LockInfo) -> Result<LockAttempt, StateError> {
        let sent = self.put(&self.lock_key(), lock_text(info)?.into_bytes()).if_none_match("*").send().await;
        match sent {
            Ok(_) => Ok(Ok(())),
            // 412: the object exists; 409: another conditional write to it is in flight.
            Err(e) if status(&e) == Some(412) || status(&e) == Some(409) || code(&e) == Some("PreconditionFailed") => {
                Ok(Err(self.lock_object_info().await.ok().flatten()))
            }
            Err(e) => Err(remote(format!("taking the lock {}", self.lock_key()), crate::error::api("PutObject", e))),
        }
    }

    async fn lock_object_info(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(self.get(&self.lock_key()).await?.and_then(|b| serde_json::from_slice(&b).ok()))
    }

    async fn put_lock_item(&self, info: &LockInfo) -> Result<LockAttempt, StateError> {
        let (Some(db), Some(table)) = (&self.dynamodb, &self.settings.dynamodb_table) else { return Ok(Ok(())) };
        let sent = db
            .put_item()
            .table_name(table)
            .item("LockID", AttributeValue::S(self.lock_id()))
            .item("Info", AttributeValue::S(lock_text(info)?))
            .condition_expression("attribute_not_exists(LockID)")
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Ok(())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Ok(Err(self.lock_item_info().await.ok().flatten()))
            }
            Err(e) => {
                Err(remote(format!("taking the lock in DynamoDB table {table}"), crate::error::api("PutItem", e)))
            }
        }
    }

    async fn lock_item_info(&self) -> Result<Option<LockInfo>, StateError> {
        let (Some(db), Some(table)) = (&self.dynamodb, &self.settings.dynamodb_table) else { return Ok(None) };
        let out = db
            .get_item()
            .table_name(table)
            .key("LockID", AttributeValue::S(self.lock_id()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| {
                remote(format!("reading the lock in DynamoDB table {table}"), crate::error::api("GetItem", e))
            })?;
        Ok(out
            .item()
            .and_then(|i| i.get("Info"))
            .and_then(|v| v.as_s().ok())
            .and_then(|s| serde_json::from_str(s).ok()))
    }

    /// Release our own lock (after a command, on error, on interrupt).
    pub(super) async fn release(&self, id: &str) -> Result<(), StateError> {
        let mut first_error = None;
        if self.dynamodb.is_some()
            && let Err(e) = self.delete_lock_item(id).await
        {
            first_error.get_or_insert(e);
        }
        if self.settings.use_lockfile
            && let Err(e) = self.delete_lock_object(id).await
        {
            first_error.get_or_insert(e);
        }
        first_error.map_or(Ok(()), Err)
    }

    /// `force-unlock ID`: release a lock left behind, after checking that ID
    /// is the lock's; refuse when there is no lock at all.
    pub(super) async fn release_found(&self, id: &str) -> Result<(), StateError> {
        let object = if self.settings.use_lockfile { self.lock_object_info().await? } else { None };
        let item = if self.dynamodb.is_some() { self.lock_item_info().await? } else { None };
        if object.is_none() && item.is_none() {
            return Err(StateError::Locked(format!(
                "Failed to unlock state: there is no lock on {} to release.",
                self.lock_id()
            )));
        }
        for held in [&object, &item].into_iter().flatten() {
            if held.id != id {
                return Err(StateError::Locked(format!(
                    "Failed to unlock state: lock ID {id:?} does not match existing lock ID {:?} (held by {}, {} since {}).",
                    held.id, held.who, held.operation, held.created
                )));
            }
        }
        self.release(id).await
    }

    async fn delete_lock_object(&self, id: &str) -> Result<(), StateError> {
        let what = format!("the lock object {}", self.lock_key());
        if !ours_to_delete(self.lock_object_info().await?, id, &what)? {
            return Ok(());
        }
        self.s3.delete_object().bucket(&self.settings.bucket).key(self.lock_key()).send().await.map_err(|e| {
            remote(format!("releasing the lock {}", self.lock_key()), crate::error::api("DeleteObject", e))
        })?;
        Ok(())
    }

    async fn delete_lock_item(&self, id: &str) -> Result<(), StateError> {
        let (Some(db), Some(table)) = (&self.dynamodb, &self.settings.dynamodb_table) else { return Ok(()) };
        let what = format!("the lock item {} in DynamoDB table {table}", self.lock_id());
        if !ours_to_delete(self.lock_item_info().await?, id, &what)? {
            return Ok(());
        }
        db.delete_item().table_name(table).key("LockID", AttributeValue::S(self.lock_id())).send().await.map_err(
            |e| remote(format!("releasing the lock in DynamoDB table {table}"), crate::error::api("DeleteItem", e)),
        )?;
        Ok(())
    }
}
