//! AWS SDK errors as provider errors: the operation, AWS's error code and
//! message, nothing else (no request bodies, so no secrets).

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ecspoc_core::provider::ProviderError;

pub fn api<E, R>(operation: &str, err: SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            ProviderError::api(operation, e.code(), e.message().unwrap_or("the service gave no message").to_string())
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
pub fn is_not_found(e: &ProviderError) -> bool {
    e.code.as_deref().is_some_and(|c| {
        c.ends_with(".NotFound")
            || c.ends_with("NotFound")
            || c == "InvalidAllocationID.NotFound"
            || c == "ParameterNotFound"
    })
}
