//! AWS's eventual consistency: answers that mean "not yet" rather than "no".
//! Each is matched on the error code AWS returns and, where the code alone
//! is too broad, on the fragment of its message that Terraform's AWS
//! provider matches; the call is tried again, waiting 500 ms doubling to
//! 10 s, for a bounded time (never beyond the provider's `max_wait`), then
//! fails with AWS's last answer and how long it was waited for. docs/real-aws.md
//! lists every one with the test that shows it.

use ecspoc_core::provider::ProviderError;
use std::future::Future;
use std::time::{Duration, Instant};

/// One "not yet" answer.
#[derive(Clone, Copy, Debug)]
pub struct NotYet {
    pub code: &'static str,
    /// Matched case-insensitively; `None`: the code alone says it.
    pub message: Option<&'static str>,
    /// What AWS is still doing, for the message when the wait runs out
    /// (empty: AWS's answer is returned as it is).
    pub why: &'static str,
}

impl NotYet {
    fn matches(&self, e: &ProviderError) -> bool {
        e.code.as_deref() == Some(self.code)
            && self.message.is_none_or(|m| e.message.to_ascii_lowercase().contains(&m.to_ascii_lowercase()))
    }
}

const fn code(code: &'static str, why: &'static str) -> NotYet {
    NotYet { code, message: None, why }
}

const fn says(code: &'static str, message: &'static str, why: &'static str) -> NotYet {
    NotYet { code, message: Some(message), why }
}

const IAM_PROPAGATION: &str = "a new IAM role or instance profile is not yet usable everywhere";

/// RunInstances with an instance profile created moments ago.
pub const INSTANCE_PROFILE_NOT_YET: &[NotYet] =
    &[says("InvalidParameterValue", "Invalid IAM Instance Profile", IAM_PROPAGATION)];
/// CreateLaunchTemplate / CreateAutoScalingGroup naming a new instance profile.
pub const LAUNCH_PROFILE_NOT_YET: &[NotYet] = &[
    says("InvalidParameterValue", "Invalid IAM Instance Profile", IAM_PROPAGATION),
    says("ValidationError", "Invalid IAM Instance Profile", IAM_PROPAGATION),
    says("ValidationError", "You must use a valid fully-formed launch template", IAM_PROPAGATION),
];
/// CodeBuild CreateProject / UpdateProject with a new service role.
/// (AWS has written it with and without a colon after "perform".)
pub const CODEBUILD_ROLE_NOT_YET: &[NotYet] = &[
    says("InvalidInputException", "not authorized to perform sts:AssumeRole", IAM_PROPAGATION),
    says("InvalidInputException", "not authorized to perform: sts:AssumeRole", IAM_PROPAGATION),
];
/// CodePipeline CreatePipeline / UpdatePipeline with a new role.
pub const CODEPIPELINE_ROLE_NOT_YET: &[NotYet] =
    &[says("InvalidStructureException", "not authorized", IAM_PROPAGATION)];
/// ECS CreateService right after its role, target group or listener.
pub const ECS_SERVICE_NOT_YET: &[NotYet] = &[
    says("InvalidParameterException", "Unable to assume the service linked role", IAM_PROPAGATION),
    says(
        "InvalidParameterException",
        "verify that the ECS service role being passed has the proper permissions",
        IAM_PROPAGATION,
    ),
    says(
        "InvalidParameterException",
        "does not have an associated load balancer",
        "the target group is not yet attached to its load balancer's listener",
    ),
];
/// ECS DeleteService while a deployment is still going.
pub const ECS_SERVICE_BUSY: &[NotYet] = &[says(
    "InvalidParameterException",
    "The service cannot be stopped while deployments are active",
    "the service's deployments are still active",
)];
/// IAM DeleteRole while something still holds the role.
pub const ROLE_IN_USE: &[NotYet] =
    &[code("DeleteConflict", "the role is still attached to an instance profile or policy being removed")];
/// DeleteSecurityGroup while network interfaces (a load balancer's, an instance's) still use it.
pub const SECURITY_GROUP_IN_USE: &[NotYet] = &[
    code("DependencyViolation", "network interfaces that use the group are still being released"),
    code("InvalidGroup.InUse", "another security group's rule still refers to the group"),
];
/// ReleaseAddress right after DisassociateAddress.
pub const ADDRESS_IN_USE: &[NotYet] = &[
    code("InvalidIPAddress.InUse", "the address is still being disassociated"),
    says("AuthFailure", "does not belong to you", "the address is still being disassociated"),
];
/// DeleteAutoScalingGroup while a scaling activity runs.
pub const SCALING_IN_PROGRESS: &[NotYet] = &[
    code("ResourceInUse", "a scaling activity of the group is in progress"),
    code("ScalingActivityInProgress", "a scaling activity of the group is in progress"),
];

/// How long IAM changes take to be seen everywhere, at most (Terraform's AWS
/// provider waits as long), within the provider's `max_wait`.
pub fn propagation(ctx: &crate::Ctx<'_>) -> Duration {
    Duration::from_secs(120).min(ctx.settings.max_wait)
}

/// A dependent being released (network interfaces, deployments), within `max_wait`.
pub fn release(ctx: &crate::Ctx<'_>, at_most: Duration) -> Duration {
    at_most.min(ctx.settings.max_wait)
}

/// Read an object just created. AWS's reads may not see it for a moment
/// (EC2's Describe* answer `...NotFound`, other services answer nothing):
/// read again, for as long as IAM propagation may take, before concluding
/// that it is not there.
pub async fn read_new<T, F, Fut>(ctx: &crate::Ctx<'_>, mut read: F) -> Result<Option<T>, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let limit = propagation(ctx);
    let start = Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        match read().await {
            Ok(Some(v)) => return Ok(Some(v)),
            Ok(None) => {}
            Err(e) if crate::error::is_not_found(&e) => {}
            Err(e) => return Err(e),
        }
        if start.elapsed() + delay >= limit {
            return Ok(None);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// `f` again while it fails with one of `codes` (a dependency not yet
/// released, an entity not yet visible), up to `limit`; AWS's answer is
/// returned as it is when the wait runs out. Throttling and 5xx are the
/// SDK's retry policy's job, not this.
pub async fn retry_while<T, F, Fut>(codes: &[&'static str], limit: Duration, f: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let not_yet: Vec<NotYet> = codes.iter().map(|c| code(c, "")).collect();
    retry_counted(None, &not_yet, limit, f).await
}

/// `f` again while its error is one of `not_yet`, for at most `limit`;
/// each repeat is counted as a retry of its operation.
pub async fn retry<T, F, Fut>(
    ctx: &crate::Ctx<'_>,
    not_yet: &[NotYet],
    limit: Duration,
    f: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    retry_counted(Some(ctx.calls), not_yet, limit, f).await
}

async fn retry_counted<T, F, Fut>(
    calls: Option<&crate::CallCounter>,
    not_yet: &[NotYet],
    limit: Duration,
    mut f: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        let e = match f().await {
            Err(e) => e,
            ok => return ok,
        };
        let Some(hit) = not_yet.iter().find(|n| n.matches(&e)) else { return Err(e) };
        if start.elapsed() + delay >= limit {
            if hit.why.is_empty() {
                return Err(e);
            }
            let waited = start.elapsed().as_secs();
            return Err(ProviderError {
                message: format!("{} (still so after {waited} s of waiting while {})", e.message, hit.why),
                ..e
            });
        }
        if let (Some(calls), Some(op)) = (calls, e.operation.as_deref()) {
            calls.retried(op);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_matching_code_and_message_is_retried_and_the_wait_is_bounded() {
        let refusal = |m: &str| ProviderError::api("CreateService", Some("InvalidParameterException"), m.to_string());
        let mut calls = 0;
        let other = retry_counted(None, ECS_SERVICE_NOT_YET, Duration::from_secs(5), || {
            calls += 1;
            async { Err::<(), _>(refusal("Invalid cluster")) }
        })
        .await;
        assert_eq!(calls, 1, "another message of the same code is a real refusal");
        assert_eq!(other.err().map(|e| e.message), Some("Invalid cluster".into()));

        let started = Instant::now();
        let never = retry_counted(None, ECS_SERVICE_NOT_YET, Duration::from_millis(1600), || async {
            Err::<(), _>(refusal("Unable to Assume the service linked role. Please verify..."))
        })
        .await
        .err()
        .map(|e| e.message)
        .unwrap_or_default();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(never.contains("still so after 1 s of waiting while a new IAM role"), "{never}");
    }
}
