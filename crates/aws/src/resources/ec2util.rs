//! What EC2 resources share: tag updates, marker filters, waiter errors and
//! waiting out eventual consistency.

use crate::error::api;
use crate::tags;
use aws_sdk_ec2::types::Filter;
use ecspoc_core::provider::{Marker, ProviderError};
use ecspoc_core::value::Value;
use std::collections::HashMap;
use std::future::Future;

pub fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder().name(name).set_values(Some(values.iter().map(|v| v.to_string()).collect())).build()
}

/// Filters that find objects carrying ecspoc's marker for `marker`.
/// Filters for objects of this state's lineage. The address is matched by
/// `carries`, not by a filter: EC2 reads `*` and `?` in filter values as
/// wildcards (and the emulator `[...]` too), and instance keys may hold them.
pub fn marker_filters(marker: &Marker) -> Vec<Filter> {
    vec![
        filter(&format!("tag:{}", tags::MARKER_LINEAGE), &[&marker.lineage]),
        filter("tag-key", &[tags::MARKER_ADDRESS]),
    ]
}

/// Does an object with these tags carry exactly this marker?
pub fn carries(object_tags: &[aws_sdk_ec2::types::Tag], marker: &Marker) -> bool {
    tags::has_marker(&tags::from_ec2(object_tags), marker)
}

pub fn waiter<E: std::fmt::Debug>(what: &str, e: E) -> ProviderError {
    ProviderError::api(what, Some("WaiterFailed"), format!("{e:?}").chars().take(400).collect::<String>())
}

/// Read many objects with one describe call (`all` maps ids to values). If
/// that call fails because one of the ids no longer exists, each is read on
/// its own with `one`, so one deleted object does not hide the rest.
pub async fn batched<All, AllFut, One, OneFut>(
    states: &[Value],
    all: All,
    one: One,
) -> Vec<Result<Option<Value>, ProviderError>>
where
    All: FnOnce(Vec<String>) -> AllFut,
    AllFut: Future<Output = Result<HashMap<String, Value>, ProviderError>>,
    One: Fn(Value) -> OneFut,
    OneFut: Future<Output = Result<Option<Value>, ProviderError>>,
{
    let ids: Vec<String> =
        states.iter().filter_map(|s| s.get("id").and_then(Value::as_str).map(String::from)).collect();
    if ids.len() == states.len() && !ids.is_empty() {
        match all(ids.clone()).await {
            Ok(found) => return ids.iter().map(|i| Ok(found.get(i).cloned())).collect(),
            Err(e) if !crate::error::is_not_found(&e) => return ids.iter().map(|_| Err(e.clone())).collect(),
            Err(_) => {}
        }
    }
    let mut out = Vec::with_capacity(states.len());
    for s in states {
        out.push(one(s.clone()).await);
    }
    out
}

/// Bring an object's tags from what `prior` recorded to what `planned` wants
/// (marker tags are left alone).
pub async fn sync_tags(ctx: &crate::Ctx<'_>, id: &str, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
    let ec2 = &ctx.clients.ec2;
    let change = tags::change(prior, planned, &ctx.settings.default_tags);
    if !change.removed.is_empty() {
        let keys = change.removed.iter().map(|k| aws_sdk_ec2::types::Tag::builder().key(k).build()).collect();
        ec2.delete_tags().resources(id).set_tags(Some(keys)).send().await.map_err(|e| api("DeleteTags", e))?;
    }
    if !change.set.is_empty() {
        ec2.create_tags()
            .resources(id)
            .set_tags(Some(tags::ec2_tags(&change.set)))
            .send()
            .await
            .map_err(|e| api("CreateTags", e))?;
    }
    Ok(())
}

/// A delete that finds the object already gone has done its job.
/// A call that SDK retries may repeat after AWS acted: an error with one of
/// `codes` means the first try did it (`Ok(None)`).
pub fn done_already<T>(r: Result<T, ProviderError>, codes: &[&str]) -> Result<Option<T>, ProviderError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code.as_deref().is_some_and(|c| codes.contains(&c)) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn gone_is_fine<T>(r: Result<T, ProviderError>) -> Result<(), ProviderError> {
    match r {
        Err(e) if !crate::error::is_not_found(&e) => Err(e),
        _ => Ok(()),
    }
}
