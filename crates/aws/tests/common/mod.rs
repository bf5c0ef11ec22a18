//! What the SDK-double tests share: a provider whose clients a test
//! replaces, a marker, values from JSON.
#![allow(dead_code)]

use ecspoc_aws::{AwsProvider, Clients, Settings};
use ecspoc_core::provider::Marker;
use ecspoc_core::value::Value;
use std::time::Duration;

pub fn shared() -> aws_types::SdkConfig {
    aws_types::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_types::region::Region::new("us-east-1"))
        .build()
}

pub fn settings(max_wait: Duration) -> Settings {
    Settings { region: "us-east-1".into(), default_tags: Default::default(), max_wait }
}

/// A provider whose clients `f` replaces; `max_wait` bounds every wait.
pub fn provider_with(max_wait: Duration, f: impl FnOnce(&mut Clients)) -> AwsProvider {
    let mut clients = Clients::from_sdk_config(&shared());
    f(&mut clients);
    AwsProvider::with_clients(clients, settings(max_wait))
}

pub fn marker() -> Marker {
    Marker {
        address: "aws_thing.test".into(),
        lineage: "00000000-0000-4000-8000-000000000000".into(),
        name: None,
        create_id: String::new(),
    }
}

pub fn v(json: serde_json::Value) -> Value {
    Value::from_json(&json)
}
