//! S3: aws_s3_bucket, aws_s3_bucket_versioning and
//! aws_s3_bucket_public_access_block. All three are keyed by bucket name.

use super::common::{adoption_name, blocks, found, generated_name};
use crate::error::api;
use crate::tags::{self, Tags};
use crate::values::{b, id, obj, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete, ObjectIdentifier,
    PublicAccessBlockConfiguration, Tag, Tagging, VersioningConfiguration,
};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;

pub struct AwsS3Bucket;
pub struct AwsS3BucketVersioning;
pub struct AwsS3BucketPublicAccessBlock;

async fn remote_tags(ctx: &Ctx<'_>, bucket: &str) -> Result<Tags, ProviderError> {
    match ctx.clients.s3.get_bucket_tagging().bucket(bucket).send().await.map_err(|e| api("GetBucketTagging", e)) {
        Ok(o) => Ok(o.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()),
        Err(e) if e.code.as_deref() == Some("NoSuchTagSet") => Ok(Tags::new()),
        Err(e) => Err(e),
    }
}

/// S3 replaces a bucket's whole tag set at once.
async fn put_tags(ctx: &Ctx<'_>, bucket: &str, t: &Tags) -> Result<(), ProviderError> {
    let s3 = &ctx.clients.s3;
    if t.is_empty() {
        s3.delete_bucket_tagging().bucket(bucket).send().await.map_err(|e| api("DeleteBucketTagging", e))?;
        return Ok(());
    }
    let set = t.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect();
    let tagging =
        Tagging::builder().set_tag_set(Some(set)).build().map_err(|e| ProviderError::new(format!("tags: {e}")))?;
    s3.put_bucket_tagging().bucket(bucket).tagging(tagging).send().await.map_err(|e| api("PutBucketTagging", e))?;
    Ok(())
}

async fn read_bucket(ctx: &Ctx<'_>, bucket: &str, force_destroy: bool) -> Result<Option<Value>, ProviderError> {
    if found(ctx.clients.s3.head_bucket().bucket(bucket).send().await.map_err(|e| api("HeadBucket", e)))?.is_none() {
        return Ok(None);
    }
    let (t, all) = tags::attributes_from_map(&remote_tags(ctx, bucket).await?, &ctx.settings.default_tags);
    let region = &ctx.settings.region;
    Ok(Some(obj(vec![
        ("id", Value::str(bucket)),
        ("bucket", Value::str(bucket)),
        ("bucket_prefix", super::common::prefix_of(Some(bucket))),
        ("arn", Value::String(format!("arn:{}:s3:::{bucket}", crate::partition::of_region(&ctx.settings.region).id))),
        ("bucket_domain_name", Value::String(format!("{bucket}.s3.amazonaws.com"))),
        ("bucket_regional_domain_name", Value::String(format!("{bucket}.s3.{region}.amazonaws.com"))),
        ("region", Value::str(region)),
        ("force_destroy", Value::Bool(force_destroy)),
        ("tags", t),
        ("tags_all", all),
    ])))
}

/// Every object version and delete marker, so the bucket can go.
async fn empty_bucket(ctx: &Ctx<'_>, bucket: &str) -> Result<(), ProviderError> {
    let s3 = &ctx.clients.s3;
    loop {
        let out = s3.list_object_versions().bucket(bucket).send().await.map_err(|e| api("ListObjectVersions", e))?;
        let mut ids = Vec::new();
        for (key, version) in out
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(out.delete_markers().iter().map(|m| (m.key(), m.version_id())))
        {
            if let Some(k) = key
                && let Ok(o) = ObjectIdentifier::builder().key(k).set_version_id(version.map(String::from)).build()
            {
                ids.push(o);
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        let delete =
            Delete::builder().set_objects(Some(ids)).build().map_err(|e| ProviderError::new(format!("{e}")))?;
        s3.delete_objects().bucket(bucket).delete(delete).send().await.map_err(|e| api("DeleteObjects", e))?;
    }
}

#[async_trait]
impl ResourceType for AwsS3Bucket {
    fn name(&self) -> &'static str {
        "aws_s3_bucket"
    }
    fn name_attribute(&self) -> &'static str {
        "bucket"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An S3 bucket.",
            [
                ("id", A::computed(T::String, "The bucket's name.")),
                ("bucket", A::optional_computed(T::String, "The bucket's name; generated when left out.").force_new()),
                ("bucket_prefix", super::common::name_prefix_schema()),
                ("arn", A::computed(T::String, "The bucket's ARN.")),
                ("bucket_domain_name", A::computed(T::String, "bucket.s3.amazonaws.com.")),
                ("bucket_regional_domain_name", A::computed(T::String, "bucket.s3.REGION.amazonaws.com.")),
                ("region", A::computed(T::String, "The bucket's region.")),
                (
                    "force_destroy",
                    A::optional(T::Bool, "Delete every object when the bucket is destroyed.")
                        .default(Value::Bool(false)),
                ),
            ],
        )
        .holds_data()
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let bucket = match s(planned, "bucket") {
            Some(b) => b.to_string(),
            None => marker.name.clone().unwrap_or_else(|| generated_name(marker)),
        };
        let mut create = ctx.clients.s3.create_bucket().bucket(&bucket);
        if ctx.settings.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(ctx.settings.region.as_str()))
                    .build(),
            );
        }
        match create.send().await.map_err(|e| api("CreateBucket", e)) {
            Ok(_) => {}
            // Ours already, from an apply that stopped before recording it.
            Err(e) if e.code.as_deref() == Some("BucketAlreadyOwnedByYou") => {
                if !tags::has_marker(&remote_tags(ctx, &bucket).await?, marker) {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
        put_tags(ctx, &bucket, &tags::create_map(planned, &ctx.settings.default_tags, marker)).await?;
        read_bucket(ctx, &bucket, b(planned, "force_destroy").unwrap_or(false))
            .await?
            .ok_or_else(|| ProviderError::new(format!("the new bucket {bucket} could not be read back")))
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        read_bucket(ctx, id(state)?, b(state, "force_destroy").unwrap_or(false)).await
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let bucket = id(prior)?;
        if planned.get("tags_all") != prior.get("tags_all") {
            // Keep ecspoc's marker, which is not part of tags_all.
            let remote = remote_tags(ctx, bucket).await?;
            let mut t = tags::all(&ctx.settings.default_tags, &tags::from_value(planned.get("tags")));
            for k in [tags::MARKER_ADDRESS, tags::MARKER_LINEAGE] {
                if let Some(v) = remote.get(k) {
                    t.insert(k.to_string(), v.clone());
                }
            }
            put_tags(ctx, bucket, &t).await?;
        }
        read_bucket(ctx, bucket, b(planned, "force_destroy").unwrap_or(false))
            .await?
            .ok_or_else(|| ProviderError::new(format!("bucket {bucket} disappeared during the update")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let bucket = id(prior)?;
        if b(prior, "force_destroy") == Some(true) && found(empty_bucket(ctx, bucket).await)?.is_none() {
            return Ok(());
        }
        match ctx.clients.s3.delete_bucket().bucket(bucket).send().await.map_err(|e| api("DeleteBucket", e)) {
            Err(e) if e.code.as_deref() == Some("BucketNotEmpty") => Err(ProviderError {
                message: format!("{} (set force_destroy = true to delete its objects too)", e.message),
                ..e
            }),
            r => found(r).map(|_| ()),
        }
    }
    async fn adopt(&self, ctx: &Ctx<'_>, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        let bucket = adoption_name(marker);
        match found(remote_tags(ctx, &bucket).await)? {
            Some(t) if tags::has_marker(&t, marker) => read_bucket(ctx, &bucket, false).await,
            _ => Ok(None),
        }
    }
}

/// A bucket setting (versioning, encryption, public access block) is keyed
/// by its bucket's name: creating one is updating it from nothing.
pub fn bucket_key(planned: &Value) -> Result<Value, ProviderError> {
    Ok(obj(vec![("id", Value::str(req(planned, "bucket")?))]))
}

/// A bucket setting's answer: None when the bucket is gone or the setting
/// was never made (S3 answers that with a code of the setting's own).
pub fn bucket_setting<T>(r: Result<T, ProviderError>, never_set: &str) -> Result<Option<T>, ProviderError> {
    match r {
        Err(e) if e.code.as_deref() == Some(never_set) => Ok(None),
        r => found(r),
    }
}

// ---------------------------------------------------------------- versioning

#[async_trait]
impl ResourceType for AwsS3BucketVersioning {
    fn name(&self) -> &'static str {
        "aws_s3_bucket_versioning"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "Versioning of an S3 bucket. Import id: the bucket's name.",
            [
                ("id", A::computed(T::String, "The bucket's name.")),
                ("bucket", A::required(T::String, "The bucket's name.").force_new()),
                (
                    "versioning_configuration",
                    A::required(
                        super::common::block_list(&[("status", T::String), ("mfa_delete", T::String)], &["status"]),
                        "status: Enabled, Suspended or Disabled.",
                    ),
                ),
            ],
        )
    }
    fn validate(&self, config: &Value) -> Vec<String> {
        blocks(config, "versioning_configuration")
            .iter()
            .filter_map(|c| s(c, "status"))
            .filter(|st| !["Enabled", "Suspended", "Disabled"].contains(st))
            .map(|st| format!("versioning_configuration.status must be Enabled, Suspended or Disabled, got {st:?}"))
            .collect()
    }
    fn normalize(&self, planned: &mut Value) {
        super::common::fill_block_defaults(
            planned,
            "versioning_configuration",
            &[("mfa_delete", Value::str("Disabled"))],
        );
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, _marker: &Marker) -> Result<Value, ProviderError> {
        self.update(ctx, &bucket_key(planned)?, planned).await
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let bucket = id(state)?;
        let out = found(
            ctx.clients
                .s3
                .get_bucket_versioning()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| api("GetBucketVersioning", e)),
        )?;
        let Some(o) = out else { return Ok(None) };
        let status = o.status().map(|s| s.as_str()).unwrap_or("Disabled");
        let mfa = o.mfa_delete().map(|s| s.as_str()).unwrap_or("Disabled");
        Ok(Some(obj(vec![
            ("id", Value::str(bucket)),
            ("bucket", Value::str(bucket)),
            (
                "versioning_configuration",
                Value::List(vec![obj(vec![("status", Value::str(status)), ("mfa_delete", Value::str(mfa))])]),
            ),
        ])))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let bucket = id(prior)?;
        let status =
            blocks(planned, "versioning_configuration").first().and_then(|c| s(c, "status")).unwrap_or("Enabled");
        // "Disabled" is how a bucket starts; it cannot be set back, only suspended.
        if status != "Disabled" {
            let cfg = VersioningConfiguration::builder().status(BucketVersioningStatus::from(status)).build();
            ctx.clients
                .s3
                .put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(cfg)
                .send()
                .await
                .map_err(|e| api("PutBucketVersioning", e))?;
        }
        self.read(ctx, prior).await?.ok_or_else(|| ProviderError::new(format!("bucket {bucket} is gone")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        // As Terraform: versioning that was on is suspended (it cannot be turned off).
        let cfg = VersioningConfiguration::builder().status(BucketVersioningStatus::Suspended).build();
        let r = ctx
            .clients
            .s3
            .put_bucket_versioning()
            .bucket(id(prior)?)
            .versioning_configuration(cfg)
            .send()
            .await
            .map_err(|e| api("PutBucketVersioning", e));
        found(r).map(|_| ())
    }
}

// ---------------------------------------------------------------- public access block

const BLOCK_SETTINGS: [&str; 4] =
    ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];

#[async_trait]
impl ResourceType for AwsS3BucketPublicAccessBlock {
    fn name(&self) -> &'static str {
        "aws_s3_bucket_public_access_block"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        let flag = |d: &'static str| A::optional(T::Bool, d).default(Value::Bool(false));
        ResourceSchema::new(
            "Public access settings of an S3 bucket. Import id: the bucket's name.",
            [
                ("id", A::computed(T::String, "The bucket's name.")),
                ("bucket", A::required(T::String, "The bucket's name.").force_new()),
                ("block_public_acls", flag("Refuse public ACLs.")),
                ("block_public_policy", flag("Refuse public bucket policies.")),
                ("ignore_public_acls", flag("Ignore public ACLs.")),
                ("restrict_public_buckets", flag("Only the owner and AWS services may use a public bucket.")),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, _marker: &Marker) -> Result<Value, ProviderError> {
        self.update(ctx, &bucket_key(planned)?, planned).await
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let bucket = id(state)?;
        let r = ctx
            .clients
            .s3
            .get_public_access_block()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| api("GetPublicAccessBlock", e));
        let out = bucket_setting(r, "NoSuchPublicAccessBlockConfiguration")?;
        let Some(c) = out.as_ref().and_then(|o| o.public_access_block_configuration()) else { return Ok(None) };
        let flags =
            [c.block_public_acls(), c.block_public_policy(), c.ignore_public_acls(), c.restrict_public_buckets()];
        let mut entries = vec![("id", Value::str(bucket)), ("bucket", Value::str(bucket))];
        entries.extend(BLOCK_SETTINGS.iter().zip(flags).map(|(k, f)| (*k, Value::Bool(f.unwrap_or(false)))));
        Ok(Some(obj(entries)))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let bucket = id(prior)?;
        let flag = |k: &str| b(planned, k).unwrap_or(false);
        let cfg = PublicAccessBlockConfiguration::builder()
            .block_public_acls(flag("block_public_acls"))
            .block_public_policy(flag("block_public_policy"))
            .ignore_public_acls(flag("ignore_public_acls"))
            .restrict_public_buckets(flag("restrict_public_buckets"))
            .build();
        ctx.clients
            .s3
            .put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(cfg)
            .send()
            .await
            .map_err(|e| api("PutPublicAccessBlock", e))?;
        self.read(ctx, prior).await?.ok_or_else(|| ProviderError::new(format!("bucket {bucket} is gone")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        let r = ctx
            .clients
            .s3
            .delete_public_access_block()
            .bucket(id(prior)?)
            .send()
            .await
            .map_err(|e| api("DeletePublicAccessBlock", e));
        found(r).map(|_| ())
    }
}
