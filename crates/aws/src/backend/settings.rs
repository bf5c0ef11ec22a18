//! `[terraform.backend.s3]`: the settings Terraform's S3 backend takes, read
//! from the block merged with `init -backend-config`, and checked as
//! Terraform checks them (an error names the argument).

use serde_json::Value as Json;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Endpoints {
    pub s3: Option<String>,
    pub dynamodb: Option<String>,
    pub sts: Option<String>,
}

#[derive(Clone, PartialEq)]
pub struct S3Settings {
    pub bucket: String,
    pub key: String,
    pub region: Option<String>,
    pub encrypt: bool,
    pub kms_key_id: Option<String>,
    pub acl: Option<String>,
    pub use_lockfile: bool,
    pub dynamodb_table: Option<String>,
    pub workspace_key_prefix: String,
    pub profile: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    pub assume_role: Option<AssumeRole>,
    pub endpoints: Endpoints,
    pub use_path_style: bool,
    pub max_retries: u32,
}

// Credentials never reach a log or an error through Debug.
impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("region", &self.region)
            .field("use_lockfile", &self.use_lockfile)
            .field("dynamodb_table", &self.dynamodb_table)
            .finish_non_exhaustive()
    }
}

/// Arguments Terraform's S3 backend accepts that change nothing here: checks
/// ecspoc never makes (it asks STS nothing, never reads instance metadata
/// unless the SDK's chain does) and settings of other credential sources.
const ACCEPTED_WITHOUT_EFFECT: &[&str] = &[
    "skip_credentials_validation",
    "skip_region_validation",
    "skip_requesting_account_id",
    "skip_metadata_api_check",
    "skip_s3_checksum",
    "shared_credentials_files",
    "shared_config_files",
    "insecure",
    "http_proxy",
    "https_proxy",
    "no_proxy",
];

/// An argument the block or `-backend-config` got wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingError {
    pub argument: String,
    pub message: String,
}

impl std::fmt::Display for SettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.argument, self.message)
    }
}

fn err(argument: &str, message: impl Into<String>) -> SettingError {
    SettingError { argument: argument.into(), message: message.into() }
}

fn string(config: &BTreeMap<String, Json>, name: &str) -> Result<Option<String>, SettingError> {
    match config.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(err(name, format!("must be a string, not {other}"))),
    }
}

/// Booleans may come as `"true"` from `-backend-config=KEY=VALUE`.
fn boolean(config: &BTreeMap<String, Json>, name: &str) -> Result<bool, SettingError> {
    match config.get(name) {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Bool(b)) => Ok(*b),
        Some(Json::String(s)) if s == "true" => Ok(true),
        Some(Json::String(s)) if s == "false" => Ok(false),
        Some(other) => Err(err(name, format!("must be true or false, not {other}"))),
    }
}

fn object<'a>(
    config: &'a BTreeMap<String, Json>,
    name: &str,
) -> Result<Option<&'a serde_json::Map<String, Json>>, SettingError> {
    match config.get(name) {
        None | Some(Json::Null) => Ok(None),
        // A block written as [[...]] in TOML arrives as a list of one.
        Some(Json::Array(items)) if items.len() == 1 => object_of(name, &items[0]).map(Some),
        Some(v) => object_of(name, v).map(Some),
    }
}

fn object_of<'a>(name: &str, v: &'a Json) -> Result<&'a serde_json::Map<String, Json>, SettingError> {
    v.as_object().ok_or_else(|| err(name, "must be a block of arguments"))
}

fn nested_string(
    block: &serde_json::Map<String, Json>,
    outer: &str,
    name: &str,
) -> Result<Option<String>, SettingError> {
    match block.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(err(&format!("{outer}.{name}"), format!("must be a string, not {other}"))),
    }
}

/// An object key as Terraform's S3 backend allows it.
fn check_key_path(name: &str, value: &str) -> Result<(), SettingError> {
    if value.is_empty() {
        return Err(err(name, "must not be empty"));
    }
    if value.starts_with('/') || value.ends_with('/') {
        return Err(err(name, "must not start or end with \"/\""));
    }
    if value.contains("//") {
        return Err(err(name, "must not contain \"//\""));
    }
    Ok(())
}

impl S3Settings {
    pub fn from_config(config: &BTreeMap<String, Json>) -> Result<S3Settings, SettingError> {
        const KNOWN: &[&str] = &[
            "bucket",
            "key",
            "region",
            "encrypt",
            "kms_key_id",
            "acl",
            "use_lockfile",
            "dynamodb_table",
            "workspace_key_prefix",
            "profile",
            "access_key",
            "secret_key",
            "token",
            "assume_role",
            "endpoints",
            "use_path_style",
            "max_retries",
        ];
        for name in config.keys() {
            if !KNOWN.contains(&name.as_str()) && !ACCEPTED_WITHOUT_EFFECT.contains(&name.as_str()) {
                let hint = match name.as_str() {
                    "endpoint" | "dynamodb_endpoint" | "sts_endpoint" => {
                        " (Terraform 1.6 moved it to endpoints: endpoints = { s3 = \"...\", dynamodb = \"...\" })"
                    }
                    "force_path_style" => " (now use_path_style)",
                    "role_arn" => " (now assume_role = { role_arn = \"...\" })",
                    _ => "",
                };
                return Err(err(name, format!("the s3 backend has no argument {name:?}{hint}")));
            }
        }
        let bucket = string(config, "bucket")?.ok_or_else(|| err("bucket", "is required"))?;
        if bucket.is_empty() {
            return Err(err("bucket", "must not be empty"));
        }
        let key = string(config, "key")?.ok_or_else(|| err("key", "is required"))?;
        check_key_path("key", &key)?;
        let workspace_key_prefix = string(config, "workspace_key_prefix")?.unwrap_or_else(|| "env:".into());
        if workspace_key_prefix.starts_with('/') || workspace_key_prefix.ends_with('/') {
            return Err(err("workspace_key_prefix", "must not start or end with \"/\""));
        }
        let kms_key_id = string(config, "kms_key_id")?;
        if let Some(k) = &kms_key_id
            && !(k.starts_with("arn:") || k.starts_with("alias/") || is_key_id(k))
        {
            return Err(err("kms_key_id", "must be a KMS key id, key ARN, alias name (alias/...) or alias ARN"));
        }
        let assume_role = match object(config, "assume_role")? {
            None => None,
            Some(b) => Some(AssumeRole {
                role_arn: nested_string(b, "assume_role", "role_arn")?
                    .ok_or_else(|| err("assume_role.role_arn", "is required"))?,
                session_name: nested_string(b, "assume_role", "session_name")?,
                external_id: nested_string(b, "assume_role", "external_id")?,
            }),
        };
        let endpoints = match object(config, "endpoints")? {
            None => Endpoints::default(),
            Some(b) => {
                for k in b.keys() {
                    if !["s3", "dynamodb", "sts", "iam", "sso"].contains(&k.as_str()) {
                        return Err(err(&format!("endpoints.{k}"), "is not an endpoint the s3 backend uses"));
                    }
                }
                Endpoints {
                    s3: nested_string(b, "endpoints", "s3")?,
                    dynamodb: nested_string(b, "endpoints", "dynamodb")?,
                    sts: nested_string(b, "endpoints", "sts")?,
                }
            }
        };
        let max_retries = match config.get("max_retries") {
            None | Some(Json::Null) => 5,
            Some(Json::Number(n)) => {
                n.as_u64().filter(|n| *n <= 100).ok_or_else(|| err("max_retries", "must be 0 to 100"))? as u32
            }
            Some(Json::String(s)) => {
                s.parse().ok().filter(|n| *n <= 100).ok_or_else(|| err("max_retries", "must be 0 to 100"))?
            }
            Some(other) => return Err(err("max_retries", format!("must be a number, not {other}"))),
        };
        let (access_key, secret_key) = (string(config, "access_key")?, string(config, "secret_key")?);
        if access_key.is_some() != secret_key.is_some() {
            return Err(err(
                if access_key.is_some() { "secret_key" } else { "access_key" },
                "must be set with the other",
            ));
        }
        Ok(S3Settings {
            bucket,
            key,
            region: string(config, "region")?,
            encrypt: boolean(config, "encrypt")?,
            kms_key_id,
            acl: string(config, "acl")?,
            use_lockfile: boolean(config, "use_lockfile")?,
            dynamodb_table: string(config, "dynamodb_table")?.filter(|t| !t.is_empty()),
            workspace_key_prefix,
            profile: string(config, "profile")?,
            access_key,
            secret_key,
            token: string(config, "token")?,
            assume_role,
            endpoints,
            use_path_style: boolean(config, "use_path_style")?,
            max_retries,
        })
    }

    /// The state object's key: `key` in the default workspace, else
    /// `<workspace_key_prefix>/<workspace>/<key>`.
    pub fn state_key(&self, workspace: &str) -> String {
        if workspace == "default" {
            self.key.clone()
        } else {
            format!("{}/{workspace}/{}", self.workspace_key_prefix, self.key)
        }
    }
}

fn is_key_id(k: &str) -> bool {
    k.len() == 36 && k.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(j: serde_json::Value) -> Result<S3Settings, SettingError> {
        let map: BTreeMap<String, Json> = serde_json::from_value(j).unwrap();
        S3Settings::from_config(&map)
    }

    #[test]
    fn reads_terraforms_arguments() {
        let s = parse(serde_json::json!({
            "bucket": "b", "key": "envs/dev/terraform.tfstate", "region": "eu-west-1",
            "encrypt": "true", "use_lockfile": true, "dynamodb_table": "locks",
            "endpoints": {"s3": "http://127.0.0.1:1"}, "skip_credentials_validation": true,
            "assume_role": {"role_arn": "arn:aws:iam::1:role/r"}
        }))
        .unwrap();
        assert!(s.encrypt && s.use_lockfile);
        assert_eq!(s.state_key("default"), "envs/dev/terraform.tfstate");
        assert_eq!(s.state_key("preview"), "env:/preview/envs/dev/terraform.tfstate");
        assert_eq!(s.endpoints.s3.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(s.max_retries, 5);
    }

    #[test]
    fn errors_name_the_argument() {
        let e = parse(serde_json::json!({"key": "k"})).unwrap_err();
        assert_eq!(e.argument, "bucket");
        let e = parse(serde_json::json!({"bucket": "b", "key": "/k"})).unwrap_err();
        assert_eq!(e.argument, "key");
        let e = parse(serde_json::json!({"bucket": "b", "key": "k", "endpoint": "x"})).unwrap_err();
        assert!(e.message.contains("endpoints"), "{e}");
        let e = parse(serde_json::json!({"bucket": "b", "key": "k", "encrypt": "yes"})).unwrap_err();
        assert_eq!(e.argument, "encrypt");
        let e = parse(serde_json::json!({"bucket": "b", "key": "k", "access_key": "A"})).unwrap_err();
        assert_eq!(e.argument, "secret_key");
    }

    #[test]
    fn debug_never_shows_credentials() {
        let s = parse(serde_json::json!({"bucket": "b", "key": "k", "access_key": "AKIA", "secret_key": "SECRET"}))
            .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("SECRET") && !shown.contains("AKIA"), "{shown}");
    }
}
