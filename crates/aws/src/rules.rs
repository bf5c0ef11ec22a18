//! AWS's rules on argument values that its service models do not carry,
//! checked at plan time on every value known then, so a plan never promises
//! what AWS will refuse half-way through an apply. The reference is what
//! Terraform's AWS provider validates (tests/terraform_validate.rs checks
//! every rule here against the real provider), plus AWS's documented tag
//! rules, which the provider leaves to AWS.

use ecspoc_core::value::Value;
use regex::Regex;
use std::collections::HashMap;
use std::sync::LazyLock;

pub enum Check {
    /// Length in characters, inclusive.
    Len(usize, usize),
    /// The whole value matches; the text says what is allowed.
    Pattern(&'static str, &'static str),
    OneOf(&'static [&'static str]),
    Range(f64, f64),
    Among(&'static [i64]),
    /// An IPv4 network address with its prefix (`10.0.0.0/16`, not `10.0.0.1/16`).
    Ipv4Network,
    /// Does not start or end with this.
    NotAtEdges(&'static str),
    NotPrefix(&'static str),
}

/// Whose rule it is: Terraform's AWS provider validates it too, or only
/// AWS does (its service model or its documentation), so Terraform users
/// meet it half-way through an apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    TerraformProvider,
    AwsOnly,
}

/// `path`: attribute names joined by `.`, `*` for every element of a list
/// (blocks are lists).
pub struct Rule {
    pub type_: &'static str,
    pub path: &'static str,
    pub check: Check,
    pub source: Source,
}

const fn rule(type_: &'static str, path: &'static str, check: Check) -> Rule {
    Rule { type_, path, check, source: Source::TerraformProvider }
}

const fn aws(type_: &'static str, path: &'static str, check: Check) -> Rule {
    Rule { type_, path, check, source: Source::AwsOnly }
}

use Check::*;

const IAM_NAME: &str = r"[\w+=,.@-]+";
const IAM_NAME_TEXT: &str = "letters, digits and _+=,.@-";
const SG_RULE_DESCRIPTION: &str = r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*";
const SG_RULE_DESCRIPTION_TEXT: &str = "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*";
const ELB_NAME: &str = "[0-9A-Za-z-]+";
const ELB_NAME_TEXT: &str = "letters, digits and hyphens";
const LOG_RETENTION: &[i64] =
    &[0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

pub static RULES: &[Rule] = &[
    // EC2
    rule("aws_vpc", "cidr_block", Ipv4Network),
    rule("aws_subnet", "cidr_block", Ipv4Network),
    rule("aws_route", "destination_cidr_block", Ipv4Network),
    rule("aws_security_group", "name", Len(0, 255)),
    rule("aws_security_group", "description", Len(0, 255)),
    rule("aws_security_group", "ingress.*.description", Len(0, 255)),
    rule("aws_security_group", "ingress.*.description", Pattern(SG_RULE_DESCRIPTION, SG_RULE_DESCRIPTION_TEXT)),
    rule("aws_security_group", "egress.*.description", Len(0, 255)),
    rule("aws_security_group", "egress.*.description", Pattern(SG_RULE_DESCRIPTION, SG_RULE_DESCRIPTION_TEXT)),
    // EC2's documented rule for every security group rule description.
    aws("aws_vpc_security_group_ingress_rule", "description", Pattern(SG_RULE_DESCRIPTION, SG_RULE_DESCRIPTION_TEXT)),
    rule("aws_vpc_security_group_ingress_rule", "from_port", Range(-1.0, 65535.0)),
    rule("aws_vpc_security_group_ingress_rule", "to_port", Range(-1.0, 65535.0)),
    rule("aws_launch_template", "name", Len(3, 128)),
    rule("aws_launch_template", "name", Pattern(r"[0-9A-Za-z()./_\-]+", "letters, digits and ()./_-")),
    rule("aws_launch_template", "description", Len(0, 255)),
    rule("aws_launch_template", "metadata_options.*.http_tokens", OneOf(&["optional", "required"])),
    rule("aws_launch_template", "metadata_options.*.http_endpoint", OneOf(&["enabled", "disabled"])),
    rule("aws_launch_template", "metadata_options.*.http_put_response_hop_limit", Range(1.0, 64.0)),
    rule("aws_key_pair", "key_name", Len(0, 255)),
    rule("aws_eip", "domain", OneOf(&["vpc", "standard"])),
    rule("aws_nat_gateway", "connectivity_type", OneOf(&["private", "public"])),
    // Elastic Load Balancing
    rule("aws_lb", "name", Len(1, 32)),
    rule("aws_lb", "name", Pattern(ELB_NAME, ELB_NAME_TEXT)),
    rule("aws_lb", "name", NotAtEdges("-")),
    rule("aws_lb", "name", NotPrefix("internal-")),
    rule("aws_lb", "load_balancer_type", OneOf(&["application", "network", "gateway"])),
    rule("aws_lb_target_group", "name", Len(1, 32)),
    rule("aws_lb_target_group", "name", Pattern(ELB_NAME, ELB_NAME_TEXT)),
    rule("aws_lb_target_group", "name", NotAtEdges("-")),
    rule("aws_lb_target_group", "port", Range(1.0, 65535.0)),
    rule("aws_lb_target_group", "protocol", OneOf(&["GENEVE", "HTTP", "HTTPS", "TCP", "TCP_UDP", "TLS", "UDP"])),
    rule("aws_lb_target_group", "target_type", OneOf(&["alb", "instance", "ip", "lambda"])),
    rule("aws_lb_target_group", "deregistration_delay", Range(0.0, 3600.0)),
    rule("aws_lb_target_group", "health_check.*.interval", Range(5.0, 300.0)),
    rule("aws_lb_target_group", "health_check.*.timeout", Range(2.0, 120.0)),
    rule("aws_lb_target_group", "health_check.*.healthy_threshold", Range(2.0, 10.0)),
    rule("aws_lb_target_group", "health_check.*.unhealthy_threshold", Range(2.0, 10.0)),
    rule("aws_lb_target_group", "health_check.*.path", Len(1, 1024)),
    rule("aws_lb_listener", "port", Range(1.0, 65535.0)),
    rule("aws_lb_listener", "protocol", OneOf(&["GENEVE", "HTTP", "HTTPS", "TCP", "TCP_UDP", "TLS", "UDP"])),
    rule("aws_lb_listener_rule", "priority", Range(1.0, 50000.0)),
    // IAM
    rule("aws_iam_role", "name", Len(1, 64)),
    rule("aws_iam_role", "name", Pattern(IAM_NAME, IAM_NAME_TEXT)),
    rule("aws_iam_role", "path", Len(1, 512)),
    rule("aws_iam_role", "description", Len(0, 1000)),
    rule("aws_iam_role", "max_session_duration", Range(3600.0, 43200.0)),
    rule("aws_iam_role_policy", "name", Len(1, 128)),
    rule("aws_iam_role_policy", "name", Pattern(IAM_NAME, IAM_NAME_TEXT)),
    rule("aws_iam_policy", "name", Len(1, 128)),
    rule("aws_iam_policy", "name", Pattern(IAM_NAME, IAM_NAME_TEXT)),
    // IAM's model: policyDescriptionType.
    aws("aws_iam_policy", "description", Len(0, 1000)),
    rule("aws_iam_instance_profile", "name", Len(1, 128)),
    rule("aws_iam_instance_profile", "name", Pattern(IAM_NAME, IAM_NAME_TEXT)),
    // CloudWatch Logs and EventBridge
    rule("aws_cloudwatch_log_group", "name", Len(1, 512)),
    rule("aws_cloudwatch_log_group", "name", Pattern(r"[.\-_/#A-Za-z0-9]+", "letters, digits and ._-/#")),
    rule("aws_cloudwatch_log_group", "retention_in_days", Among(LOG_RETENTION)),
    rule("aws_cloudwatch_event_rule", "name", Len(1, 64)),
    rule("aws_cloudwatch_event_rule", "name", Pattern(r"[.\-_A-Za-z0-9]+", "letters, digits and ._-")),
    rule("aws_cloudwatch_event_rule", "description", Len(0, 512)),
    rule("aws_cloudwatch_event_target", "target_id", Len(1, 64)),
    rule("aws_cloudwatch_event_target", "target_id", Pattern(r"[.\-_A-Za-z0-9]+", "letters, digits and ._-")),
    // SNS
    // SNS's documented rule for topic names.
    aws("aws_sns_topic", "name", Pattern(r"[A-Za-z0-9_-]{1,256}(\.fifo)?", "1 to 256 letters, digits, _ and -")),
    rule(
        "aws_sns_topic_subscription",
        "protocol",
        OneOf(&["application", "email", "email-json", "firehose", "http", "https", "lambda", "sms", "sqs"]),
    ),
    // ECR, CodeBuild, CodePipeline
    // ECR's model: RepositoryName.
    aws("aws_ecr_repository", "name", Len(2, 256)),
    aws(
        "aws_ecr_repository",
        "name",
        Pattern(
            r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
            "lowercase letters and digits, separated by single ._- or /",
        ),
    ),
    rule("aws_ecr_repository", "image_tag_mutability", OneOf(&["MUTABLE", "IMMUTABLE"])),
    rule(
        "aws_codebuild_project",
        "name",
        Pattern(
            r"[A-Za-z0-9][A-Za-z0-9\-_]{1,149}",
            "2 to 150 letters, digits, - and _, starting with a letter or digit",
        ),
    ),
    rule("aws_codebuild_project", "build_timeout", Range(5.0, 2160.0)),
    rule("aws_codebuild_project", "queued_timeout", Range(5.0, 480.0)),
    rule(
        "aws_codebuild_project",
        "environment.*.type",
        OneOf(&[
            "ARM_CONTAINER",
            "ARM_EC2",
            "ARM_LAMBDA_CONTAINER",
            "LINUX_CONTAINER",
            "LINUX_EC2",
            "LINUX_GPU_CONTAINER",
            "LINUX_LAMBDA_CONTAINER",
            "MAC_ARM",
            "WINDOWS_CONTAINER",
            "WINDOWS_EC2",
            "WINDOWS_SERVER_2019_CONTAINER",
            "WINDOWS_SERVER_2022_CONTAINER",
        ]),
    ),
    rule("aws_codebuild_project", "environment.*.image_pull_credentials_type", OneOf(&["CODEBUILD", "SERVICE_ROLE"])),
    rule("aws_codebuild_project", "artifacts.*.type", OneOf(&["CODEPIPELINE", "NO_ARTIFACTS", "S3"])),
    rule(
        "aws_codebuild_project",
        "source.*.type",
        OneOf(&[
            "BITBUCKET",
            "CODECOMMIT",
            "CODEPIPELINE",
            "GITHUB",
            "GITHUB_ENTERPRISE",
            "GITLAB",
            "GITLAB_SELF_MANAGED",
            "NO_SOURCE",
            "S3",
        ]),
    ),
    rule("aws_codepipeline", "name", Len(1, 100)),
    // CodePipeline's model: PipelineName, StageName, ActionName, Version.
    aws("aws_codepipeline", "name", Pattern(r"[A-Za-z0-9.@\-_]+", "letters, digits and .@-_")),
    rule("aws_codepipeline", "pipeline_type", OneOf(&["V1", "V2"])),
    rule("aws_codepipeline", "artifact_store.*.type", OneOf(&["S3"])),
    aws("aws_codepipeline", "stage.*.name", Pattern(r"[A-Za-z0-9.@\-_]{1,100}", "1 to 100 letters, digits and .@-_")),
    aws(
        "aws_codepipeline",
        "stage.*.action.*.name",
        Pattern(r"[A-Za-z0-9.@\-_]{1,100}", "1 to 100 letters, digits and .@-_"),
    ),
    rule(
        "aws_codepipeline",
        "stage.*.action.*.category",
        OneOf(&["Approval", "Build", "Compute", "Deploy", "Invoke", "Source", "Test"]),
    ),
    rule("aws_codepipeline", "stage.*.action.*.owner", OneOf(&["AWS", "Custom", "ThirdParty"])),
    aws(
        "aws_codepipeline",
        "stage.*.action.*.version",
        Pattern(r"[0-9A-Za-z_-]{1,9}", "1 to 9 letters, digits, _ and -"),
    ),
    rule("aws_codepipeline", "stage.*.action.*.run_order", Range(1.0, 999.0)),
    // ECS
    rule("aws_ecs_task_definition", "family", Len(1, 255)),
    rule("aws_ecs_task_definition", "family", Pattern("[0-9A-Za-z_-]+", "letters, digits, _ and -")),
    rule("aws_ecs_task_definition", "network_mode", OneOf(&["awsvpc", "bridge", "host", "none"])),
    rule("aws_ecs_service", "launch_type", OneOf(&["EC2", "EXTERNAL", "FARGATE"])),
    rule("aws_ecs_service", "scheduling_strategy", OneOf(&["DAEMON", "REPLICA"])),
    rule("aws_ecs_service", "propagate_tags", OneOf(&["NONE", "SERVICE", "TASK_DEFINITION"])),
    rule("aws_ecs_service", "availability_zone_rebalancing", OneOf(&["ENABLED", "DISABLED"])),
    rule("aws_ecs_service", "capacity_provider_strategy.*.weight", Range(0.0, 1000.0)),
    rule("aws_ecs_service", "capacity_provider_strategy.*.base", Range(0.0, 100000.0)),
    rule(
        "aws_ecs_capacity_provider",
        "auto_scaling_group_provider.*.managed_termination_protection",
        OneOf(&["DISABLED", "ENABLED"]),
    ),
    rule(
        "aws_ecs_capacity_provider",
        "auto_scaling_group_provider.*.managed_scaling.*.target_capacity",
        Range(1.0, 100.0),
    ),
    rule(
        "aws_ecs_capacity_provider",
        "auto_scaling_group_provider.*.managed_scaling.*.status",
        OneOf(&["DISABLED", "ENABLED"]),
    ),
    rule(
        "aws_ecs_capacity_provider",
        "auto_scaling_group_provider.*.managed_scaling.*.maximum_scaling_step_size",
        Range(1.0, 10000.0),
    ),
    rule(
        "aws_ecs_capacity_provider",
        "auto_scaling_group_provider.*.managed_scaling.*.minimum_scaling_step_size",
        Range(1.0, 10000.0),
    ),
    rule("aws_autoscaling_group", "name", Len(0, 255)),
];

static PATTERNS: LazyLock<HashMap<&'static str, Regex>> = LazyLock::new(|| {
    RULES
        .iter()
        .filter_map(|r| match r.check {
            Pattern(p, _) => Regex::new(&format!("^(?:{p})$")).ok().map(|re| (p, re)),
            _ => None,
        })
        .collect()
});

/// What the known values of one resource's arguments break, one message each.
pub fn check(type_: &str, config: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for r in RULES.iter().filter(|r| r.type_ == type_) {
        let mut at = Vec::new();
        values_at(config, &r.path.split('.').collect::<Vec<_>>(), String::new(), &mut at);
        for (path, v) in at {
            if let Some(broken) = broken(&r.check, v) {
                out.push(format!("{path}: {broken}"));
            }
        }
    }
    out
}

fn values_at<'v>(v: &'v Value, path: &[&str], here: String, out: &mut Vec<(String, &'v Value)>) {
    let Some((first, rest)) = path.split_first() else {
        if !v.is_null() && !v.is_unknown() {
            out.push((here, v));
        }
        return;
    };
    match (*first, v) {
        ("*", Value::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                values_at(item, rest, format!("{here}[{i}]"), out);
            }
        }
        // A block written once is one object.
        ("*", Value::Map(_)) => values_at(v, rest, format!("{here}[0]"), out),
        (name, Value::Map(m)) => {
            if let Some(item) = m.get(name) {
                let here = if here.is_empty() { name.to_string() } else { format!("{here}.{name}") };
                values_at(item, rest, here, out);
            }
        }
        _ => {}
    }
}

fn broken(check: &Check, v: &Value) -> Option<String> {
    let s = v.to_template_string();
    let n = v.as_number().or_else(|| s.as_deref().and_then(|s| s.trim().parse().ok()));
    match check {
        Len(min, max) => {
            let len = s?.chars().count();
            (len < *min || len > *max).then(|| format!("{len} characters; AWS takes {min} to {max}"))
        }
        Pattern(p, what) => {
            let s = s?;
            let ok = PATTERNS.get(p).is_none_or(|re| re.is_match(&s));
            (!ok).then(|| format!("{s:?} may contain only {what}"))
        }
        OneOf(allowed) => {
            let s = s?;
            (!allowed.contains(&s.as_str())).then(|| format!("{s:?} is not one of {}", allowed.join(", ")))
        }
        Range(min, max) => {
            let n = n?;
            (n < *min || n > *max).then(|| format!("{n} is outside {min} to {max}"))
        }
        Among(allowed) => {
            let n = n?;
            (!allowed.iter().any(|a| *a as f64 == n)).then(|| {
                let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
                format!("{n} is not one of {}", list.join(", "))
            })
        }
        Ipv4Network => {
            let s = s?;
            (!is_ipv4_network(&s)).then(|| format!("{s:?} is not an IPv4 network address with its prefix length"))
        }
        NotAtEdges(edge) => {
            let s = s?;
            (s.starts_with(edge) || s.ends_with(edge)).then(|| format!("{s:?} may not start or end with {edge:?}"))
        }
        NotPrefix(prefix) => {
            let s = s?;
            s.starts_with(prefix).then(|| format!("{s:?} may not start with {prefix:?}"))
        }
    }
}

fn is_ipv4_network(s: &str) -> bool {
    let Some((addr, len)) = s.split_once('/') else { return false };
    let (Ok(addr), Ok(len)) = (addr.parse::<std::net::Ipv4Addr>(), len.parse::<u32>()) else { return false };
    if len > 32 {
        return false;
    }
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(addr) & !mask == 0
}

/// The most tags an object takes, the marker's two included.
pub const MAX_TAGS: usize = 50;

/// AWS's tag rules, which hold for every service: at most 50 tags (ecspoc's
/// marker takes two), keys of 1 to 128 and values of at most 256 characters,
/// no `aws:` prefix, and only letters, digits, spaces and `_.:/=+-@` (what
/// CloudWatch Logs, ELBv2, IAM, ECS and CodeBuild take; EC2 takes more).
pub fn check_tags(tags: &BTreeMap<String, String>, what: &str) -> Vec<String> {
    let mut out = Vec::new();
    let allowed = |s: &str| s.chars().all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c));
    if tags.len() + 2 > MAX_TAGS {
        out.push(format!(
            "{what}: {} tags; AWS takes at most {MAX_TAGS} per object, and ecspoc's marker takes 2 of them",
            tags.len()
        ));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            out.push(format!("{what}: tag key {k:?} must be 1 to 128 characters"));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            out.push(format!("{what}: tag key {k:?} may not start with \"aws:\", which AWS keeps for itself"));
        }
        if !allowed(k) {
            out.push(format!("{what}: tag key {k:?} may contain only letters, digits, spaces and _.:/=+-@"));
        }
        if v.chars().count() > 256 {
            out.push(format!("{what}: the value of tag {k:?} is longer than 256 characters"));
        }
        if !allowed(v) {
            out.push(format!(
                "{what}: the value of tag {k:?} ({v:?}) may contain only letters, digits, spaces and _.:/=+-@"
            ));
        }
    }
    out
}

use std::collections::BTreeMap;
