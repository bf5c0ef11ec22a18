//! `[provider.aws]`: region, profile, default_tags, endpoints and retries,
//! turned into SDK clients. Credentials come from the SDK's standard chain
//! (environment, shared config and profiles, SSO, web identity, instance
//! metadata); `AWS_ENDPOINT_URL` is honoured by the SDK itself.

use crate::calls::CallCounter;
use crate::tags;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema, ProviderError, ResourceSchema};
use ecspoc_core::value::Value;
use std::collections::BTreeMap;

/// One SDK client per AWS service, named as in `[provider.aws.endpoints]`.
macro_rules! clients {
    ($($name:ident => $sdk:ident),* $(,)?) => {
        pub struct Clients {
            $(pub $name: $sdk::Client,)*
        }
        const SERVICES: &[&str] = &[$(stringify!($name)),*];
        fn make_clients(
            shared: &aws_types::SdkConfig,
            endpoints: &BTreeMap<String, String>,
            calls: &CallCounter,
        ) -> Clients {
            Clients {
                $($name: {
                    let mut b = $sdk::config::Builder::from(shared).interceptor(calls.clone());
                    if let Some(e) = endpoints.get(stringify!($name)) {
                        b = b.endpoint_url(e);
                    }
                    $sdk::Client::from_conf(b.build())
                },)*
            }
        }
    };
}

impl Clients {
    /// Every client on one SDK configuration, no endpoint overrides (tests
    /// replace the one they mock).
    pub fn from_sdk_config(shared: &aws_types::SdkConfig) -> Clients {
        make_clients(shared, &BTreeMap::new(), &CallCounter::default())
    }
}

clients! {
    ec2 => aws_sdk_ec2,
    ssm => aws_sdk_ssm,
    sts => aws_sdk_sts,
    iam => aws_sdk_iam,
    ecs => aws_sdk_ecs,
    autoscaling => aws_sdk_autoscaling,
    elbv2 => aws_sdk_elasticloadbalancingv2,
    logs => aws_sdk_cloudwatchlogs,
    sns => aws_sdk_sns,
    events => aws_sdk_eventbridge,
    s3 => aws_sdk_s3,
    ecr => aws_sdk_ecr,
    codebuild => aws_sdk_codebuild,
    codepipeline => aws_sdk_codepipeline,
    dynamodb => aws_sdk_dynamodb,
}

pub struct Settings {
    pub region: String,
    /// default_tags, with ignore_tags.
    pub default_tags: tags::Defaults,
    /// The longest any waiter waits (an object becoming available or gone).
    pub max_wait: std::time::Duration,
}

pub const DEFAULT_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(900);

const KNOWN: &[&str] = &[
    "region",
    "profile",
    "default_tags",
    "ignore_tags",
    "endpoints",
    "max_retries",
    "retry_mode",
    "skip_credentials_validation",
    "s3_use_path_style",
];

/// A block written `[provider.aws.x]` or `[[provider.aws.x]]`.
fn block<'a>(config: &'a Value, name: &str) -> Option<&'a Value> {
    match config.get(name)? {
        Value::List(items) => items.first(),
        other => Some(other),
    }
}

pub fn validate(config: &Value) -> Result<(), ProviderError> {
    let Some(m) = config.as_map() else { return Ok(()) };
    if let Some(k) = m.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ProviderError::new(format!(
            "[provider.aws] has no setting {k:?}; expected one of: {}",
            KNOWN.join(", ")
        )));
    }
    if let Some(ep) = block(config, "endpoints").and_then(Value::as_map)
        && let Some(k) = ep.keys().find(|k| !SERVICES.contains(&k.as_str()))
    {
        return Err(ProviderError::new(format!(
            "endpoints has no service {k:?}; this build talks to: {}",
            SERVICES.join(", ")
        )));
    }
    if let Some(mode) = config.get("retry_mode").and_then(Value::as_str)
        && mode != "standard"
        && mode != "adaptive"
    {
        return Err(ProviderError::new(format!("retry_mode must be \"standard\" or \"adaptive\", got {mode:?}")));
    }
    Ok(())
}

/// `default_tags { tags }` and `ignore_tags { keys, key_prefixes }`, as the
/// AWS provider reads them.
pub fn default_tags(config: &Value) -> tags::Defaults {
    let strings = |name: &str| -> Vec<String> {
        block(config, "ignore_tags")
            .and_then(|b| b.get(name))
            .map(|v| match v {
                Value::List(items) => items.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
                _ => Vec::new(),
            })
            .unwrap_or_default()
    };
    tags::Defaults {
        tags: tags::from_value(block(config, "default_tags").and_then(|d| d.get("tags"))),
        ignore_keys: strings("keys"),
        ignore_key_prefixes: strings("key_prefixes"),
    }
}

pub async fn build(config: &Value, calls: &CallCounter) -> Result<(Clients, Settings), ProviderError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(r) = config.get("region").and_then(Value::as_str) {
        loader = loader.region(Region::new(r.to_string()));
    }
    if let Some(p) = config.get("profile").and_then(Value::as_str) {
        loader = loader.profile_name(p);
    }
    loader = loader.retry_config(retry_config(config));
    let shared = loader.load().await;
    let region = shared.region().map(|r| r.to_string()).ok_or_else(|| {
        ProviderError::new(
            "the aws provider needs a region: set region in [provider.aws], or AWS_REGION in the environment",
        )
    })?;
    let endpoints: BTreeMap<String, String> = block(config, "endpoints")
        .and_then(Value::as_map)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default();
    let mut clients = make_clients(&shared, &endpoints, calls);
    if s3_path_style(config) {
        clients.s3 = aws_sdk_s3::Client::from_conf(clients.s3.config().to_builder().force_path_style(true).build());
    }
    Ok((clients, Settings { region, default_tags: default_tags(config), max_wait: DEFAULT_MAX_WAIT }))
}

/// `s3_use_path_style`, as Terraform names it. Left out, it is on when a
/// custom endpoint is set: emulators on loopback have no bucket subdomains.
fn s3_path_style(config: &Value) -> bool {
    config.get("s3_use_path_style").and_then(Value::as_bool).unwrap_or_else(|| {
        block(config, "endpoints").is_some_and(|e| e.get("s3").is_some())
            || std::env::var_os("AWS_ENDPOINT_URL").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
    })
}

/// Retries: up to 25 attempts by default (Terraform's provider's number), in
/// the SDK's standard mode: exponential backoff with jitter after throttling,
/// 5xx answers and lost connections. Not adaptive by default: its client-side
/// rate limiter waited 9-16 s after each throttle, so an apply with 30% faults
/// took 90 times as long; the provider's own concurrency limit keeps the
/// request rate down instead. `retry_mode = "adaptive"` still selects it.
pub fn retry_config(config: &Value) -> RetryConfig {
    let attempts = config.get("max_retries").and_then(Value::as_number).map(|n| n as u32 + 1).unwrap_or(25);
    let retry = match config.get("retry_mode").and_then(Value::as_str) {
        Some("adaptive") => RetryConfig::adaptive(),
        _ => RetryConfig::standard(),
    };
    retry.with_max_attempts(attempts).with_initial_backoff(INITIAL_BACKOFF)
}

/// The first retry waits up to this long (full jitter), each next one up to
/// twice as long, 20 s at most. 100 ms is the AWS SDK for Java's standard
/// base delay; the Rust SDK's 1 s made an apply with 30% faults take 16
/// times as long as without, 100 ms about 4 times (BENCHMARKS.md).
const INITIAL_BACKOFF: std::time::Duration = std::time::Duration::from_millis(100);

pub fn add_tag_attributes(s: &mut ResourceSchema) {
    s.attributes.insert("tags", AttrSchema::optional(T::Map(Box::new(T::String)), "Tags of this object."));
    s.attributes.insert(
        "tags_all",
        AttrSchema::computed(T::Map(Box::new(T::String)), "Tags including the provider's default_tags."),
    );
}
