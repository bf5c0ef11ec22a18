//! AWS SDK errors as provider errors: the operation, AWS's error code and
//! message, nothing else (no request bodies, so no secrets).

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ecspoc_core::provider::ProviderError;

pub fn api<E>(operation: &str, err: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let transient = is_transient(&err);
    let e = describe(operation, err);
    if transient { e.transient() } else { e }
}

/// Codes AWS answers when a request was refused for now, not for good (the
/// SDK's own lists: throttling, and transient service errors).
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
];

fn is_transient<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(s) => {
            s.raw().status().is_server_error() || s.err().code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
        }
        _ => false,
    }
}

fn describe<E>(operation: &str, err: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let message = match e.message() {
                Some(m) => m.to_string(),
                // No code and no message: the answer itself could not be read.
                // Only the kind of failure is kept: details quote the answer,
                // which may hold a secret (a decrypted parameter).
                None => {
                    let full = format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&err));
                    let kind: Vec<&str> = full.split(": ").take(3).collect();
                    format!("the answer could not be read: {}", kind.join(": "))
                }
            };
            ProviderError::api(operation, e.code(), message)
        }
        SdkError::TimeoutError(_) => ProviderError::api(operation, Some("Timeout"), "the request timed out"),
        SdkError::DispatchFailure(d) => {
            let why = if d.is_io() {
                "connection failed"
            } else if d.is_timeout() {
                "timed out"
            } else {
                "could not be sent"
            };
            ProviderError::api(
                operation,
                Some("DispatchFailure"),
                format!("the request {why}: {err:?}").chars().take(300).collect::<String>(),
            )
        }
        _ => ProviderError::api(
            operation,
            err.code(),
            err.message().map(String::from).unwrap_or_else(|| format!("{err}")),
        ),
    }
}

/// Does this error say the object does not exist (so a read returns nothing)?
/// Services spell it `InvalidVpcID.NotFound`, `NoSuchEntity`, `NoSuchBucket`,
/// `ClusterNotFoundException`, `ParameterNotFound`...
pub fn is_not_found(e: &ProviderError) -> bool {
    e.code.as_deref().is_some_and(|c| c.contains("NotFound") || c.starts_with("NoSuch"))
}
