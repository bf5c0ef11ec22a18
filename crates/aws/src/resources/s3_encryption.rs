//! aws_s3_bucket_server_side_encryption_configuration: a bucket's default
//! encryption (SSE-S3 or SSE-KMS), keyed by bucket name as Terraform's.

use super::common::{block_list, block_set, blocks, found};
use super::s3::{bucket_key, bucket_setting};
use crate::error::api;
use crate::values::{b, id, obj, opt_str, req, s};
use crate::{Ctx, ResourceType};
use async_trait::async_trait;
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;

pub struct AwsS3BucketServerSideEncryptionConfiguration;

const ALGORITHMS: [&str; 3] = ["AES256", "aws:kms", "aws:kms:dsse"];

fn invalid(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(format!("aws_s3_bucket_server_side_encryption_configuration: {e}"))
}

fn rules(planned: &Value) -> Result<Vec<ServerSideEncryptionRule>, ProviderError> {
    let mut out = Vec::new();
    for rule in blocks(planned, "rule") {
        let mut r = ServerSideEncryptionRule::builder().set_bucket_key_enabled(b(rule, "bucket_key_enabled"));
        if let Some(d) = blocks(rule, "apply_server_side_encryption_by_default").first() {
            let by_default = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::from(req(d, "sse_algorithm")?))
                .set_kms_master_key_id(s(d, "kms_master_key_id").filter(|k| !k.is_empty()).map(String::from))
                .build()
                .map_err(invalid)?;
            r = r.apply_server_side_encryption_by_default(by_default);
        }
        out.push(r.build());
    }
    Ok(out)
}

#[async_trait]
impl ResourceType for AwsS3BucketServerSideEncryptionConfiguration {
    fn name(&self) -> &'static str {
        "aws_s3_bucket_server_side_encryption_configuration"
    }
    fn taggable(&self) -> bool {
        false
    }
    fn schema(&self) -> ResourceSchema {
        let by_default =
            block_list(&[("sse_algorithm", T::String), ("kms_master_key_id", T::String)], &["sse_algorithm"]);
        ResourceSchema::new(
            "A bucket's default server-side encryption. Import id: the bucket's name.",
            [
                ("id", A::computed(T::String, "The bucket's name.")),
                ("bucket", A::required(T::String, "The bucket's name.").force_new()),
                (
                    "rule",
                    A::required(
                        block_set(
                            &[("apply_server_side_encryption_by_default", by_default), ("bucket_key_enabled", T::Bool)],
                            &[],
                        ),
                        "apply_server_side_encryption_by_default { sse_algorithm, kms_master_key_id }, bucket_key_enabled.",
                    ),
                ),
            ],
        )
    }
    fn validate(&self, config: &Value) -> Vec<String> {
        blocks(config, "rule")
            .iter()
            .flat_map(|r| blocks(r, "apply_server_side_encryption_by_default"))
            .filter_map(|d| s(d, "sse_algorithm"))
            .filter(|a| !ALGORITHMS.contains(a))
            .map(|a| format!("sse_algorithm must be one of {}, got {a:?}", ALGORITHMS.join(", ")))
            .collect()
    }
    fn normalize(&self, planned: &mut Value) {
        // AWS reports bucket_key_enabled as false when it was never set.
        super::common::fill_block_defaults(planned, "rule", &[("bucket_key_enabled", Value::Bool(false))]);
    }
    async fn create(&self, ctx: &Ctx<'_>, planned: &Value, _marker: &Marker) -> Result<Value, ProviderError> {
        self.update(ctx, &bucket_key(planned)?, planned).await
    }
    async fn read(&self, ctx: &Ctx<'_>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let bucket = id(state)?;
        let r = ctx
            .clients
            .s3
            .get_bucket_encryption()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| api("GetBucketEncryption", e));
        let out = bucket_setting(r, "ServerSideEncryptionConfigurationNotFoundError")?;
        let Some(cfg) = out.as_ref().and_then(|o| o.server_side_encryption_configuration()) else { return Ok(None) };
        let rules = cfg
            .rules()
            .iter()
            .map(|r| {
                let by_default = r
                    .apply_server_side_encryption_by_default()
                    .map(|d| {
                        vec![obj(vec![
                            ("sse_algorithm", Value::str(d.sse_algorithm().as_str())),
                            ("kms_master_key_id", opt_str(d.kms_master_key_id())),
                        ])]
                    })
                    .unwrap_or_default();
                obj(vec![
                    ("apply_server_side_encryption_by_default", Value::List(by_default)),
                    ("bucket_key_enabled", Value::Bool(r.bucket_key_enabled().unwrap_or(false))),
                ])
            })
            .collect();
        Ok(Some(obj(vec![("id", Value::str(bucket)), ("bucket", Value::str(bucket)), ("rule", Value::List(rules))])))
    }
    async fn update(&self, ctx: &Ctx<'_>, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let bucket = id(prior)?;
        let cfg =
            ServerSideEncryptionConfiguration::builder().set_rules(Some(rules(planned)?)).build().map_err(invalid)?;
        ctx.clients
            .s3
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(cfg)
            .send()
            .await
            .map_err(|e| api("PutBucketEncryption", e))?;
        crate::consistency::read_new(ctx, || self.read(ctx, prior))
            .await?
            .ok_or_else(|| invalid(format!("the encryption of bucket {bucket} could not be read back")))
    }
    async fn delete(&self, ctx: &Ctx<'_>, prior: &Value) -> Result<(), ProviderError> {
        // The bucket goes back to AWS's default encryption (SSE-S3).
        let r = ctx
            .clients
            .s3
            .delete_bucket_encryption()
            .bucket(id(prior)?)
            .send()
            .await
            .map_err(|e| api("DeleteBucketEncryption", e));
        found(r).map(|_| ())
    }
}
