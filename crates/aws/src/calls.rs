//! Counts the AWS API operations a run makes, per operation name, through an
//! SDK interceptor (so retries of one call count once), and apart from them
//! the retries: the SDK's further attempts (throttling, 5xx) and the calls
//! repeated while AWS becomes consistent (consistency.rs).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Default)]
pub struct CallCounter {
    operations: Arc<Mutex<BTreeMap<String, u64>>>,
    retries: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl CallCounter {
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.operations.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Retries by operation: the SDK's and those waiting out consistency.
    pub fn retries(&self) -> BTreeMap<String, u64> {
        self.retries.lock().map(|m| m.clone()).unwrap_or_default()
    }

    pub fn retried(&self, operation: &str) {
        if let Ok(mut m) = self.retries.lock() {
            *m.entry(operation.to_string()).or_default() += 1;
        }
    }
}

fn operation_name(cfg: &ConfigBag) -> String {
    cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
        .map(|m| format!("{}.{}", m.service(), m.name()))
        .unwrap_or_else(|| "unknown".into())
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "ecspoc-call-counter"
    }

    // Once per operation (not per retry), after the operation's own
    // configuration, which names it, has been applied.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(mut m) = self.operations.lock() {
            *m.entry(operation_name(cfg)).or_default() += 1;
        }
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempt = cfg.load::<aws_smithy_runtime_api::client::retries::RequestAttempts>().map(|a| a.attempts());
        if attempt.is_some_and(|a| a > 1) {
            self.retried(&operation_name(cfg));
        }
        Ok(())
    }
}
