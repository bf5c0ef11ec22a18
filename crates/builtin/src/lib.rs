//! Providers that need no cloud, with Terraform's names and attributes:
//! `terraform_data`, `random_id`, `random_string`, `time_sleep`, `local_file`.
//! They prove the engine is provider-agnostic and carry its tests and benchmarks.

mod local;
mod random;
mod terraform;
mod time;

use ecspoc_core::provider::ProviderSet;
use std::sync::Arc;

pub use local::LocalProvider;
pub use random::RandomProvider;
pub use terraform::TerraformProvider;
pub use time::{TimeProvider, parse_duration};

/// Register every built-in provider.
pub fn register(set: &mut ProviderSet) {
    set.register(Arc::new(TerraformProvider::new()));
    set.register(Arc::new(RandomProvider::new()));
    set.register(Arc::new(TimeProvider::new()));
    set.register(Arc::new(LocalProvider::new()));
}

fn set(v: &mut ecspoc_core::value::Value, key: &str, value: ecspoc_core::value::Value) {
    if let ecspoc_core::value::Value::Map(m) = v {
        m.insert(key.to_string(), value);
    }
}
