//! The aws provider's IAM, logs, SNS and EventBridge types against the
//! local AWS emulator: created, refreshed, planned with no changes, updated,
//! replaced, drifted and repaired, imported, destroyed, and seen gone.

mod common;
use common::moto::{Moto, block};
use common::{Workdir, expect_changes, no_changes, state_attr, state_id};

const PROVIDER: &str = r#"
[provider.aws]
region = "us-east-1"
[provider.aws.default_tags.tags]
Project = "ecspoc-test"
"#;

fn iam_config(env: &str, trust_service: &str, log_actions: &str, description: &str) -> String {
    format!(
        r#"{PROVIDER}
[[data.aws_iam_policy_document.trust.statement]]
actions = ["sts:AssumeRole"]
[[data.aws_iam_policy_document.trust.statement.principals]]
type = "Service"
identifiers = ["{trust_service}"]

[resource.aws_iam_role.instance]
name = "ecs-instance-{env}"
assume_role_policy = "${{data.aws_iam_policy_document.trust.json}}"
description = "{description}"
tags = {{ Env = "{env}" }}

[resource.aws_iam_role_policy.logs]
role = "${{aws_iam_role.instance.name}}"
name = "logs"
policy = '''{{ "Version": "2012-10-17", "Statement": [{{ "Effect": "Allow", "Action": [{log_actions}], "Resource": "*" }}] }}'''

[resource.aws_iam_role_policy_attachment.ecs]
role = "${{aws_iam_role.instance.name}}"
policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"

[resource.aws_iam_instance_profile.instance]
name = "ecs-instance-{env}"
role = "${{aws_iam_role.instance.name}}"

[resource.aws_iam_policy.read]
name = "read-{env}"
description = "{description}"
policy = "${{jsonencode({{ Version = \"2012-10-17\", Statement = [{{ Effect = \"Allow\", Action = \"s3:GetObject\", Resource = \"*\" }}] }})}}"
"#
    )
}

#[test]
fn iam_types_full_lifecycle() {
    let moto = Moto::shared();
    let iam = aws_sdk_iam::Client::new(&moto.sdk());
    let config = |svc: &str, actions: &str, desc: &str| iam_config("life", svc, actions, desc);
    let w =
        Workdir::new(&[("main.toml", &config("ec2.amazonaws.com", "\"logs:PutLogEvents\"", "first"))]).with_aws(moto);

    // Create.
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &["# aws_iam_role.instance will be created", "# aws_iam_instance_profile.instance will be created"],
    );
    w.ok(&["apply", "-auto-approve"]);
    let role =
        block(iam.get_role().role_name("ecs-instance-life").send()).expect("role").role().cloned().expect("role");
    assert!(role.tags().iter().any(|t| t.key() == "ecspoc:address" && t.value() == "aws_iam_role.instance"));
    let trust = state_attr(&w, "aws_iam_role.instance", "assume_role_policy");
    assert!(trust.as_str().is_some_and(|t| t.contains("ec2.amazonaws.com")), "{trust}");
    let profile = block(iam.get_instance_profile().instance_profile_name("ecs-instance-life").send()).expect("profile");
    assert_eq!(profile.instance_profile().map(|p| p.roles().len()), Some(1));
    let attached = block(iam.list_attached_role_policies().role_name("ecs-instance-life").send()).expect("attached");
    assert_eq!(attached.attached_policies().len(), 1);
    no_changes(&w);

    // The same policy with other whitespace and key order is no change.
    let reordered = config("ec2.amazonaws.com", "\"logs:PutLogEvents\"", "first").replace(
        r#"{ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": "*" }] }"#,
        r#"{"Statement":[{"Resource":"*","Action":"logs:PutLogEvents","Effect":"Allow"}],"Version":"2012-10-17"}"#,
    );
    assert!(reordered.contains(r#"{"Statement""#));
    w.write("main.toml", &reordered);
    no_changes(&w);

    // Update in place: trust policy, inline policy, description, tags; the policy gets a new version.
    w.write(
        "main.toml",
        &config("ecs-tasks.amazonaws.com", "\"logs:PutLogEvents\", \"logs:CreateLogStream\"", "second"),
    );
    let plan = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &plan,
        &[
            "# aws_iam_role.instance will be updated in-place",
            "+ \"logs:CreateLogStream\"",
            "\"ecs-tasks.amazonaws.com\"",
        ],
    );
    // description forces a new aws_iam_policy, as in Terraform.
    expect_changes(&plan, &["# aws_iam_policy.read must be replaced", "# forces replacement"]);
    let role_id = state_attr(&w, "aws_iam_role.instance", "unique_id");
    w.ok(&["apply", "-auto-approve"]);
    assert_eq!(state_attr(&w, "aws_iam_role.instance", "unique_id"), role_id, "updated in place");
    let inline =
        block(iam.get_role_policy().role_name("ecs-instance-life").policy_name("logs").send()).expect("inline");
    assert!(inline.policy_document().contains("CreateLogStream"));
    no_changes(&w);

    // Replace: a new role name replaces the role, and what hangs off it follows.
    w.write(
        "main.toml",
        &config("ecs-tasks.amazonaws.com", "\"logs:PutLogEvents\", \"logs:CreateLogStream\"", "second")
            .replace("name = \"ecs-instance-life\"\nassume", "name = \"ecs-instance-life2\"\nassume"),
    );
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &["# aws_iam_role.instance must be replaced", "# aws_iam_role_policy_attachment.ecs must be replaced"],
    );
    w.ok(&["apply", "-auto-approve"]);
    assert!(block(iam.get_role().role_name("ecs-instance-life").send()).is_err(), "old role deleted");
    assert_eq!(state_id(&w, "aws_iam_role.instance"), "ecs-instance-life2");
    no_changes(&w);

    // Drift: the inline policy and a tag changed by hand are shown and put back.
    block(
        iam.put_role_policy()
            .role_name("ecs-instance-life2")
            .policy_name("logs")
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
            .send(),
    )
    .expect("put");
    block(
        iam.detach_role_policy()
            .role_name("ecs-instance-life2")
            .policy_arn("arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role")
            .send(),
    )
    .expect("detach");
    let drift = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &drift,
        &[
            "# aws_iam_role_policy.logs will be updated in-place",
            "- Action = \"*\"",
            "# aws_iam_role_policy_attachment.ecs will be created",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);

    // A new policy document is a new default version of the managed policy.
    let policy_arn = state_id(&w, "aws_iam_policy.read");
    let with_list = w
        .read("main.toml")
        .replace(r#"Action = \"s3:GetObject\""#, r#"Action = [\"s3:GetObject\", \"s3:ListBucket\"]"#);
    assert_ne!(with_list, w.read("main.toml"));
    w.write("main.toml", &with_list);
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &["# aws_iam_policy.read will be updated in-place", "+ \"s3:ListBucket\""],
    );
    w.ok(&["apply", "-auto-approve"]);
    let policy = block(iam.get_policy().policy_arn(&policy_arn).send()).expect("policy");
    assert_eq!(policy.policy().and_then(|p| p.default_version_id()), Some("v2"));
    no_changes(&w);

    // Drift on the role itself and on the instance profile.
    block(iam.update_role().role_name("ecs-instance-life2").description("edited by hand").send()).expect("update role");
    block(
        iam.remove_role_from_instance_profile()
            .instance_profile_name("ecs-instance-life")
            .role_name("ecs-instance-life2")
            .send(),
    )
    .expect("remove role");
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &["~ description = \"edited by hand\" -> \"second\"", "+ role = \"ecs-instance-life2\""],
    );
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);

    // Import into a fresh state finds the same objects.
    let w2 = Workdir::new(&[("main.toml", &w.read("main.toml"))]).with_aws(moto);
    w2.ok(&["import", "aws_iam_role.instance", "ecs-instance-life2"]);
    w2.ok(&["import", "aws_iam_role_policy.logs", "ecs-instance-life2:logs"]);
    w2.ok(&[
        "import",
        "aws_iam_role_policy_attachment.ecs",
        "ecs-instance-life2/arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    ]);
    w2.ok(&["import", "aws_iam_instance_profile.instance", "ecs-instance-life"]);
    let policy_arn = state_id(&w, "aws_iam_policy.read");
    w2.ok(&["import", "aws_iam_policy.read", &policy_arn]);
    no_changes(&w2);

    // Destroy: all gone.
    w.ok(&["destroy", "-auto-approve"]);
    assert!(block(iam.get_role().role_name("ecs-instance-life2").send()).is_err());
    assert!(block(iam.get_instance_profile().instance_profile_name("ecs-instance-life").send()).is_err());
    assert!(block(iam.get_policy().policy_arn(&policy_arn).send()).is_err());
}

fn events_config(env: &str, cluster_arn: &str, statuses: &str, retention: u32, topic: &str) -> String {
    format!(
        r#"{PROVIDER}
[resource.aws_cloudwatch_log_group.agent]
name = "/ecs/{env}/ecs-agent.log"
retention_in_days = {retention}

[resource.aws_sns_topic.alerts]
name = "{topic}"
display_name = "ECS alerts {env}"

[[data.aws_iam_policy_document.publish.statement]]
actions = ["sns:Publish"]
resources = ["${{aws_sns_topic.alerts.arn}}"]
[[data.aws_iam_policy_document.publish.statement.principals]]
type = "Service"
identifiers = ["events.amazonaws.com"]

[resource.aws_sns_topic_policy.alerts]
arn = "${{aws_sns_topic.alerts.arn}}"
policy = "${{data.aws_iam_policy_document.publish.json}}"

[resource.aws_sns_topic_subscription.ops]
topic_arn = "${{aws_sns_topic.alerts.arn}}"
protocol = "email"
endpoint = "ops-{env}@example.com"

[resource.aws_cloudwatch_event_rule.inactive]
name = "instance-inactive-{env}"
description = "A container instance of {env} went INACTIVE"
event_pattern = '${{jsonencode({{ source = ["aws.ecs"], "detail-type" = ["ECS Container Instance State Change"], detail = {{ clusterArn = ["{cluster_arn}"], status = [{statuses}] }} }})}}'

[resource.aws_cloudwatch_event_target.inactive]
rule = "${{aws_cloudwatch_event_rule.inactive.name}}"
target_id = "sns"
arn = "${{aws_sns_topic.alerts.arn}}"

# Delivery to a log group is how the test sees which events match: the
# emulator neither delivers to SNS nor implements TestEventPattern.
[resource.aws_cloudwatch_log_group.matched]
name = "/ecspoc-test/{env}/matched-events"

[resource.aws_cloudwatch_event_target.log]
rule = "${{aws_cloudwatch_event_rule.inactive.name}}"
target_id = "log"
arn = "${{aws_cloudwatch_log_group.matched.arn}}"
"#
    )
}

fn ecs_detail(cluster_arn: &str, status: &str) -> String {
    serde_json::json!({ "clusterArn": cluster_arn, "status": status, "version": 14 }).to_string()
}

#[test]
fn logs_sns_and_events_full_lifecycle() {
    let moto = Moto::shared();
    let sdk = moto.sdk();
    let (logs, sns, events) = (
        aws_sdk_cloudwatchlogs::Client::new(&sdk),
        aws_sdk_sns::Client::new(&sdk),
        aws_sdk_eventbridge::Client::new(&sdk),
    );
    let dev = "arn:aws:ecs:us-east-1:123456789012:cluster/ecs-cluster-dev";
    let w = Workdir::new(&[("main.toml", &events_config("dev", dev, "\"INACTIVE\"", 7, "alerts-dev"))]).with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);

    let targets = block(events.list_targets_by_rule().rule("instance-inactive-dev").send()).expect("targets");
    assert!(targets.targets().iter().any(|t| t.arn() == state_id(&w, "aws_sns_topic.alerts")));
    let policy =
        block(sns.get_topic_attributes().topic_arn(state_id(&w, "aws_sns_topic.alerts")).send()).expect("attrs");
    assert!(policy.attributes().and_then(|a| a.get("Policy")).is_some_and(|p| p.contains("events.amazonaws.com")));

    // Same pattern, keys in another order: no change.
    let reordered = events_config("dev", dev, "\"INACTIVE\"", 7, "alerts-dev")
        .replace(r#"source = ["aws.ecs"], "detail-type" = ["ECS Container Instance State Change"], "#, "")
        .replace(
            r#"status = ["INACTIVE"] }"#,
            r#"status = ["INACTIVE"] }, "detail-type" = ["ECS Container Instance State Change"], source = ["aws.ecs"]"#,
        );
    assert_ne!(reordered, events_config("dev", dev, "\"INACTIVE\"", 7, "alerts-dev"));
    w.write("main.toml", &reordered);
    no_changes(&w);

    // Update in place: pattern (as a line diff), retention, description.
    w.write("main.toml", &events_config("dev", dev, "\"INACTIVE\", \"DRAINING\"", 14, "alerts-dev"));
    let plan = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &plan,
        &[
            "# aws_cloudwatch_event_rule.inactive will be updated in-place",
            "+ \"DRAINING\"",
            "~ retention_in_days = 7 -> 14",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    let group =
        block(logs.describe_log_groups().log_group_name_prefix("/ecs/dev/ecs-agent.log").send()).expect("groups");
    assert_eq!(group.log_groups()[0].retention_in_days(), Some(14));
    no_changes(&w);

    // Replace: a new topic name replaces the topic; policy, subscription and target follow.
    let old_topic = state_id(&w, "aws_sns_topic.alerts");
    w.write("main.toml", &events_config("dev", dev, "\"INACTIVE\", \"DRAINING\"", 14, "alerts2-dev"));
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &["# aws_sns_topic.alerts must be replaced", "# aws_sns_topic_subscription.ops must be replaced"],
    );
    w.ok(&["apply", "-auto-approve"]);
    assert!(block(sns.get_topic_attributes().topic_arn(&old_topic).send()).is_err(), "old topic deleted");
    let targets = block(events.list_targets_by_rule().rule("instance-inactive-dev").send()).expect("targets");
    assert!(targets.targets().iter().any(|t| t.arn() == state_id(&w, "aws_sns_topic.alerts")));
    no_changes(&w);

    // Drift: retention and rule state changed, target removed by hand.
    block(logs.put_retention_policy().log_group_name("/ecs/dev/ecs-agent.log").retention_in_days(1).send())
        .expect("retention");
    block(events.disable_rule().name("instance-inactive-dev").send()).expect("disable");
    block(events.remove_targets().rule("instance-inactive-dev").ids("sns").send()).expect("remove");
    // The rule matches an INACTIVE event of its cluster only: of three
    // events put on the bus, one reaches the rule's log group target. (With
    // the SNS target gone: the emulator fails delivery to SNS.)
    let staging = "arn:aws:ecs:us-east-1:123456789012:cluster/ecs-cluster-staging";
    for (cluster, status) in [(staging, "INACTIVE"), (dev, "ACTIVE"), (dev, "INACTIVE")] {
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .source("aws.ecs")
            .detail_type("ECS Container Instance State Change")
            .detail(ecs_detail(cluster, status))
            .build();
        let out = block(events.put_events().entries(entry).send()).expect("put events");
        assert_eq!(out.failed_entry_count(), 0);
    }
    let delivered = moto.call_json(
        "Logs_20140328.FilterLogEvents",
        &serde_json::json!({ "logGroupName": "/ecspoc-test/dev/matched-events" }),
    );
    let messages: Vec<&str> =
        delivered["events"].as_array().into_iter().flatten().filter_map(|e| e["message"].as_str()).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains(dev) && messages[0].contains("\"INACTIVE\""), "{}", messages[0]);
    let topic_arn = state_id(&w, "aws_sns_topic.alerts");
    block(
        sns.set_topic_attributes().topic_arn(&topic_arn).attribute_name("DisplayName").attribute_value("hand").send(),
    )
    .expect("display name");
    block(sns.unsubscribe().subscription_arn(state_id(&w, "aws_sns_topic_subscription.ops")).send())
        .expect("unsubscribe");
    let drift = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &drift,
        &[
            "~ retention_in_days = 1 -> 14",
            "~ state = \"DISABLED\" -> \"ENABLED\"",
            "# aws_cloudwatch_event_target.inactive will be created",
            "~ display_name = \"hand\" -> \"ECS alerts dev\"",
            "# aws_sns_topic_subscription.ops will be created",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);

    // Import.
    let w2 = Workdir::new(&[("main.toml", &w.read("main.toml"))]).with_aws(moto);
    for (addr, id) in [
        ("aws_cloudwatch_log_group.agent", "/ecs/dev/ecs-agent.log".to_string()),
        ("aws_sns_topic.alerts", state_id(&w, "aws_sns_topic.alerts")),
        ("aws_sns_topic_policy.alerts", state_id(&w, "aws_sns_topic.alerts")),
        ("aws_sns_topic_subscription.ops", state_id(&w, "aws_sns_topic_subscription.ops")),
        ("aws_cloudwatch_event_rule.inactive", "instance-inactive-dev".to_string()),
        ("aws_cloudwatch_event_target.inactive", "instance-inactive-dev/sns".to_string()),
        ("aws_cloudwatch_log_group.matched", "/ecspoc-test/dev/matched-events".to_string()),
        ("aws_cloudwatch_event_target.log", "default/instance-inactive-dev/log".to_string()),
    ] {
        w2.ok(&["import", addr, &id]);
    }
    no_changes(&w2);

    // Replace: names follow the environment, so renaming it replaces log groups, the rule,
    // its targets and the subscription; the old rule is gone.
    w.write("main.toml", &events_config("dev2", dev, "\"INACTIVE\", \"DRAINING\"", 14, "alerts2-dev"));
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &[
            "# aws_cloudwatch_log_group.agent must be replaced",
            "# aws_cloudwatch_event_rule.inactive must be replaced",
            "# aws_cloudwatch_event_target.inactive must be replaced",
            "# aws_sns_topic_subscription.ops must be replaced",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    assert!(block(events.describe_rule().name("instance-inactive-dev").send()).is_err(), "old rule deleted");
    assert!(
        block(logs.describe_log_groups().log_group_name_prefix("/ecs/dev/").send())
            .expect("groups")
            .log_groups()
            .is_empty()
    );
    no_changes(&w);

    // Destroy: all gone.
    let topic = state_id(&w, "aws_sns_topic.alerts");
    w.ok(&["destroy", "-auto-approve"]);
    assert!(block(events.describe_rule().name("instance-inactive-dev2").send()).is_err());
    assert!(
        block(logs.describe_log_groups().log_group_name_prefix("/ecs/dev2/").send())
            .expect("groups")
            .log_groups()
            .is_empty()
    );
    assert!(
        block(logs.describe_log_groups().log_group_name_prefix("/ecs/dev/").send())
            .expect("groups")
            .log_groups()
            .is_empty()
    );
    assert!(
        block(logs.describe_log_groups().log_group_name_prefix("/ecspoc-test/dev/").send())
            .expect("groups")
            .log_groups()
            .is_empty()
    );
    assert!(block(sns.get_topic_attributes().topic_arn(&topic).send()).is_err());
    assert!(block(events.describe_rule().name("instance-inactive-dev").send()).is_err());
}

fn pipeline_storage_config(env: &str, bucket: &str, mutability: &str, block_acls: bool) -> String {
    format!(
        r#"{PROVIDER}
[resource.aws_s3_bucket.artifacts]
bucket = "{bucket}"
force_destroy = true
tags = {{ Env = "{env}" }}

# aws_s3_bucket_versioning is tested with an SDK test double
# (crates/aws/tests/sdk_doubles.rs): moto's GetBucketVersioning answer has a
# root element the SDK refuses.

[resource.aws_s3_bucket_public_access_block.artifacts]
bucket = "${{aws_s3_bucket.artifacts.id}}"
block_public_acls = {block_acls}
block_public_policy = true
ignore_public_acls = true
restrict_public_buckets = true

[resource.aws_ecr_repository.app]
name = "php-hello-{env}"
image_tag_mutability = "{mutability}"
force_delete = true
image_scanning_configuration = {{ scan_on_push = true }}
"#
    )
}

#[test]
fn s3_and_ecr_full_lifecycle() {
    let moto = Moto::shared();
    let sdk = moto.sdk();
    let (s3, ecr) = (
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build()),
        aws_sdk_ecr::Client::new(&sdk),
    );
    let w = Workdir::new(&[("main.toml", &pipeline_storage_config("dev", "artifacts-dev-1", "MUTABLE", true))])
        .with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    let tagging = block(s3.get_bucket_tagging().bucket("artifacts-dev-1").send()).expect("tags");
    assert!(tagging.tag_set().iter().any(|t| t.key() == "ecspoc:address"));
    assert!(
        state_attr(&w, "aws_ecr_repository.app", "repository_url")
            .as_str()
            .is_some_and(|u| u.ends_with("/php-hello-dev"))
    );
    no_changes(&w);

    // Update in place; an object in the bucket (force_destroy handles it later).
    block(s3.put_object().bucket("artifacts-dev-1").key("source.zip").body(b"zip".to_vec().into()).send())
        .expect("put");
    w.write("main.toml", &pipeline_storage_config("dev", "artifacts-dev-1", "IMMUTABLE", false));
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &["~ image_tag_mutability = \"MUTABLE\" -> \"IMMUTABLE\"", "~ block_public_acls = true -> false"],
    );
    w.ok(&["apply", "-auto-approve"]);
    let repo = block(ecr.describe_repositories().repository_names("php-hello-dev").send()).expect("repo");
    assert_eq!(repo.repositories()[0].image_tag_mutability().map(|m| m.as_str()), Some("IMMUTABLE"));
    no_changes(&w);

    // Drift: a tag and the public access block changed by hand.
    block(
        s3.put_public_access_block()
            .bucket("artifacts-dev-1")
            .public_access_block_configuration(
                aws_sdk_s3::types::PublicAccessBlockConfiguration::builder().block_public_policy(false).build(),
            )
            .send(),
    )
    .expect("pab");
    block(
        ecr.put_image_tag_mutability()
            .repository_name("php-hello-dev")
            .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Mutable)
            .send(),
    )
    .expect("mutability");
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key("Env").value("hand").build().expect("tag"))
        .build()
        .expect("tagging");
    block(s3.put_bucket_tagging().bucket("artifacts-dev-1").tagging(tagging).send()).expect("bucket tags");
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &[
            "~ block_public_policy = false -> true",
            "~ image_tag_mutability = \"MUTABLE\" -> \"IMMUTABLE\"",
            "~ \"Env\" = \"hand\" -> \"dev\"",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);

    // Replace: new bucket and repository names (the old bucket holds an object).
    w.write("main.toml", &pipeline_storage_config("dev2", "artifacts-dev-2", "IMMUTABLE", false));
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &["# aws_s3_bucket.artifacts must be replaced", "# aws_ecr_repository.app must be replaced"],
    );
    w.ok(&["apply", "-auto-approve"]);
    assert!(block(s3.head_bucket().bucket("artifacts-dev-1").send()).is_err(), "old bucket deleted with its object");
    assert!(block(ecr.describe_repositories().repository_names("php-hello-dev").send()).is_err());
    no_changes(&w);

    // Import.
    let w2 = Workdir::new(&[("main.toml", &w.read("main.toml"))]).with_aws(moto);
    for (addr, id) in [
        ("aws_s3_bucket.artifacts", "artifacts-dev-2"),
        ("aws_s3_bucket_public_access_block.artifacts", "artifacts-dev-2"),
        ("aws_ecr_repository.app", "php-hello-dev2"),
    ] {
        w2.ok(&["import", addr, id]);
    }
    // force_destroy and force_delete are ecspoc's own settings, not AWS's: import cannot know them.
    expect_changes(
        &w2.run(&["plan", "-detailed-exitcode"]),
        &["~ force_destroy = false -> true", "~ force_delete = false -> true"],
    );

    w.ok(&["destroy", "-auto-approve"]);
    assert!(block(s3.head_bucket().bucket("artifacts-dev-2").send()).is_err());
    assert!(block(ecr.describe_repositories().repository_names("php-hello-dev2").send()).is_err());
}

struct Compute<'a> {
    env: &'a str,
    instance_type: &'a str,
    image: &'a str,
    health_path: &'a str,
    rule_path: &'a str,
    desired: u32,
    insights: &'a str,
}

fn compute_config(c: &Compute) -> String {
    let Compute { env, instance_type, image, health_path, rule_path, desired, insights } = c;
    format!(
        r##"{PROVIDER}
[resource.aws_vpc.main]
cidr_block = "10.70.0.0/16"

[resource.aws_subnet.a]
vpc_id = "${{aws_vpc.main.id}}"
cidr_block = "10.70.1.0/24"
availability_zone = "us-east-1a"

[resource.aws_subnet.b]
vpc_id = "${{aws_vpc.main.id}}"
cidr_block = "10.70.2.0/24"
availability_zone = "us-east-1b"

[data.aws_ssm_parameter.ecs_ami]
name = "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id"

[resource.aws_launch_template.hosts]
name = "ecs-hosts-{env}"
image_id = "${{data.aws_ssm_parameter.ecs_ami.value}}"
instance_type = "{instance_type}"
update_default_version = true
user_data = '${{base64encode("#!/bin/bash\necho ECS_CLUSTER=ecs-cluster-{env} >> /etc/ecs/ecs.config\n")}}'
metadata_options = {{ http_tokens = "required" }}

[resource.aws_autoscaling_group.hosts]
name = "ecs-hosts-{env}"
min_size = 1
max_size = 1
desired_capacity = 1
vpc_zone_identifier = ["${{aws_subnet.a.id}}", "${{aws_subnet.b.id}}"]
launch_template = {{ id = "${{aws_launch_template.hosts.id}}", version = "$Latest" }}
[[resource.aws_autoscaling_group.hosts.tag]]
key = "Name"
value = "ecs-host-{env}"
propagate_at_launch = true

[resource.aws_ecs_cluster.main]
name = "ecs-cluster-{env}"
setting = {{ name = "containerInsights", value = "{insights}" }}

[resource.aws_ecs_capacity_provider.hosts]
name = "hosts-{env}"
auto_scaling_group_provider = {{ auto_scaling_group_arn = "${{aws_autoscaling_group.hosts.arn}}" }}

[resource.aws_ecs_cluster_capacity_providers.main]
cluster_name = "${{aws_ecs_cluster.main.name}}"
capacity_providers = ["${{aws_ecs_capacity_provider.hosts.name}}"]
default_capacity_provider_strategy = {{ capacity_provider = "${{aws_ecs_capacity_provider.hosts.name}}", weight = 1 }}

[resource.aws_lb.main]
name = "alb-{env}"
subnets = ["${{aws_subnet.a.id}}", "${{aws_subnet.b.id}}"]

[resource.aws_lb_target_group.not_found]
name = "not-found-{env}"
port = 80
protocol = "HTTP"
vpc_id = "${{aws_vpc.main.id}}"
deregistration_delay = 30
health_check = {{ path = "/", matcher = "404", interval = 10, timeout = 5, healthy_threshold = 2 }}

[resource.aws_lb_target_group.web]
name = "web-{env}"
port = 80
protocol = "HTTP"
vpc_id = "${{aws_vpc.main.id}}"
health_check = {{ path = "{health_path}", matcher = "200-299" }}

[resource.aws_lb_listener.http]
load_balancer_arn = "${{aws_lb.main.arn}}"
port = 80
default_action = {{ type = "forward", target_group_arn = "${{aws_lb_target_group.not_found.arn}}" }}

[resource.aws_lb_listener_rule.web]
listener_arn = "${{aws_lb_listener.http.arn}}"
priority = 10
action = {{ type = "forward", target_group_arn = "${{aws_lb_target_group.web.arn}}" }}
condition = {{ path_pattern = {{ values = ["{rule_path}"] }} }}

[resource.aws_ecs_task_definition.web]
family = "web-{env}"
container_definitions = '''[{{ "name": "web", "image": "{image}", "memory": 128,
  "portMappings": [{{ "containerPort": 80 }}],
  "environment": [{{ "name": "ENV", "value": "{env}" }}, {{ "name": "A", "value": "1" }}],
  "logConfiguration": {{ "logDriver": "awslogs", "options": {{ "awslogs-group": "/ecs/web-{env}", "awslogs-region": "us-east-1" }} }} }}]'''

[resource.aws_ecs_service.web]
name = "web"
cluster = "${{aws_ecs_cluster.main.arn}}"
task_definition = "${{aws_ecs_task_definition.web.arn}}"
desired_count = {desired}
deployment_minimum_healthy_percent = 50
deployment_circuit_breaker = {{ enable = true, rollback = true }}
load_balancer = {{ target_group_arn = "${{aws_lb_target_group.web.arn}}", container_name = "web", container_port = 80 }}
depends_on = ["aws_lb_listener_rule.web"]
"##
    )
}

#[test]
fn ecs_compute_and_load_balancing_full_lifecycle() {
    let moto = Moto::shared();
    let sdk = moto.sdk();
    let (ecs, elb, asg) = (
        aws_sdk_ecs::Client::new(&sdk),
        aws_sdk_elasticloadbalancingv2::Client::new(&sdk),
        aws_sdk_autoscaling::Client::new(&sdk),
    );
    let base = Compute {
        env: "cmp",
        instance_type: "t3.medium",
        image: "php:8",
        health_path: "/",
        rule_path: "/web*",
        desired: 1,
        insights: "enabled",
    };
    let w = Workdir::new(&[("main.toml", &compute_config(&base))]).with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    let cluster_arn = state_id(&w, "aws_ecs_cluster.main");
    let svc = block(ecs.describe_services().cluster(&cluster_arn).services("web").send()).expect("service");
    assert_eq!(svc.services()[0].task_definition(), state_attr(&w, "aws_ecs_task_definition.web", "arn").as_str());
    let groups =
        block(asg.describe_auto_scaling_groups().auto_scaling_group_names("ecs-hosts-cmp").send()).expect("asg");
    assert!(groups.auto_scaling_groups()[0].tags().iter().any(|t| t.key() == Some("ecspoc:address")));
    let cluster = block(ecs.describe_clusters().clusters(&cluster_arn).send()).expect("cluster");
    assert_eq!(cluster.clusters()[0].capacity_providers(), ["hosts-cmp"]);
    let rule = state_id(&w, "aws_lb_listener_rule.web");
    let rules = block(elb.describe_rules().rule_arns(&rule).send()).expect("rules");
    assert_eq!(rules.rules()[0].priority(), Some("10"));
    no_changes(&w);

    // Container definitions in another key order with AWS's defaults written out: no change.
    let same = compute_config(&base).replace(
        r#"[{ "name": "web", "image": "php:8", "memory": 128,"#,
        r#"[{ "essential": true, "cpu": 0, "mountPoints": [], "memory": 128, "image": "php:8", "name": "web","#,
    );
    assert_ne!(same, compute_config(&base));
    w.write("main.toml", &same);
    no_changes(&w);

    // Update in place: cluster setting, launch template (a new version), health check, rule path, desired count.
    let next = Compute {
        instance_type: "t3.large",
        health_path: "/health",
        rule_path: "/app*",
        desired: 2,
        insights: "disabled",
        ..base
    };
    w.write("main.toml", &compute_config(&next));
    let plan = w.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &plan,
        &[
            "# aws_launch_template.hosts will be updated in-place",
            "~ instance_type = \"t3.medium\" -> \"t3.large\"",
            "# aws_ecs_cluster.main will be updated in-place",
            "~ desired_count = 1 -> 2",
            "# aws_lb_listener_rule.web will be updated in-place",
        ],
    );
    let lt_id = state_id(&w, "aws_launch_template.hosts");
    w.ok(&["apply", "-auto-approve"]);
    assert_eq!(state_id(&w, "aws_launch_template.hosts"), lt_id);
    assert_eq!(state_attr(&w, "aws_launch_template.hosts", "latest_version"), serde_json::json!(2));
    let svc = block(ecs.describe_services().cluster(&cluster_arn).services("web").send()).expect("service");
    assert_eq!(svc.services()[0].desired_count(), 2);
    let tg = block(elb.describe_target_groups().names("web-cmp").send()).expect("tg");
    assert_eq!(tg.target_groups()[0].health_check_path(), Some("/health"));
    no_changes(&w);

    // Replace: a new image registers a new task definition revision; the service moves to it in place.
    let old_td = state_attr(&w, "aws_ecs_task_definition.web", "arn").as_str().map(String::from).expect("arn");
    w.write("main.toml", &compute_config(&Compute { image: "php:8.3", ..next }));
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &[
            "# aws_ecs_task_definition.web must be replaced",
            "# aws_ecs_service.web will be updated in-place",
            "~ image = \"php:8\" -> \"php:8.3\"",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    let new_td = state_attr(&w, "aws_ecs_task_definition.web", "arn").as_str().map(String::from).expect("arn");
    assert_ne!(new_td, old_td);
    let svc = block(ecs.describe_services().cluster(&cluster_arn).services("web").send()).expect("service");
    assert_eq!(svc.services()[0].task_definition(), Some(new_td.as_str()));
    let old = block(ecs.describe_task_definition().task_definition(&old_td).send()).expect("old revision");
    assert_eq!(old.task_definition().and_then(|t| t.status()).map(|s| s.as_str()), Some("INACTIVE"));
    no_changes(&w);

    // Drift: desired count, ASG size and the rule's priority changed by hand.
    block(ecs.update_service().cluster(&cluster_arn).service("web").desired_count(5).send()).expect("scale");
    block(asg.update_auto_scaling_group().auto_scaling_group_name("ecs-hosts-cmp").max_size(3).send()).expect("asg");
    let pair = aws_sdk_elasticloadbalancingv2::types::RulePriorityPair::builder().rule_arn(&rule).priority(20).build();
    block(elb.set_rule_priorities().rule_priorities(pair).send()).expect("priority");
    // ... and the load balancer's idle timeout, a target group's deregistration delay, the
    // listener's default action and the cluster's setting.
    let lb = state_id(&w, "aws_lb.main");
    let idle = aws_sdk_elasticloadbalancingv2::types::LoadBalancerAttribute::builder()
        .key("idle_timeout.timeout_seconds")
        .value("120")
        .build();
    block(elb.modify_load_balancer_attributes().load_balancer_arn(&lb).attributes(idle).send()).expect("idle");
    let delay = aws_sdk_elasticloadbalancingv2::types::TargetGroupAttribute::builder()
        .key("deregistration_delay.timeout_seconds")
        .value("5")
        .build();
    let not_found = state_id(&w, "aws_lb_target_group.not_found");
    block(elb.modify_target_group_attributes().target_group_arn(&not_found).attributes(delay).send()).expect("delay");
    let web_tg = state_id(&w, "aws_lb_target_group.web");
    let forward_web = aws_sdk_elasticloadbalancingv2::types::Action::builder()
        .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
        .target_group_arn(&web_tg)
        .build();
    let listener = state_id(&w, "aws_lb_listener.http");
    block(elb.modify_listener().listener_arn(&listener).default_actions(forward_web).send()).expect("listener");
    let insights = aws_sdk_ecs::types::ClusterSetting::builder()
        .name(aws_sdk_ecs::types::ClusterSettingName::ContainerInsights)
        .value("enabled")
        .build();
    block(ecs.update_cluster().cluster(&cluster_arn).settings(insights).send()).expect("cluster");
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &[
            "~ desired_count = 5 -> 2",
            "~ max_size = 3 -> 1",
            "~ priority = 20 -> 10",
            "~ idle_timeout = 120 -> 60",
            "~ deregistration_delay = \"5\" -> \"30\"",
            "# aws_lb_listener.http will be updated in-place",
            "# aws_ecs_cluster.main will be updated in-place",
            // `setting` is a set of blocks: Terraform never pairs its old and
            // new elements, the old one goes and the new one comes.
            "- value = \"enabled\" -> null",
            "+ value = \"disabled\"",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);

    // Import into a fresh state.
    let w2 = Workdir::new(&[("main.toml", &w.read("main.toml"))]).with_aws(moto);
    for addr in [
        "aws_vpc.main",
        "aws_subnet.a",
        "aws_subnet.b",
        "aws_launch_template.hosts",
        "aws_lb.main",
        "aws_lb_target_group.not_found",
        "aws_lb_target_group.web",
        "aws_lb_listener.http",
        "aws_lb_listener_rule.web",
    ] {
        w2.ok(&["import", addr, &state_id(&w, addr)]);
    }
    for (addr, id) in [
        ("aws_autoscaling_group.hosts", "ecs-hosts-cmp".to_string()),
        ("aws_ecs_cluster.main", "ecs-cluster-cmp".to_string()),
        ("aws_ecs_capacity_provider.hosts", "hosts-cmp".to_string()),
        ("aws_ecs_cluster_capacity_providers.main", "ecs-cluster-cmp".to_string()),
        ("aws_ecs_task_definition.web", new_td.clone()),
        ("aws_ecs_service.web", "ecs-cluster-cmp/web".to_string()),
    ] {
        w2.ok(&["import", addr, &id]);
    }
    // update_default_version and wait_for_capacity_timeout are ecspoc settings import cannot see.
    // Only what AWS cannot tell: update_default_version is ecspoc's setting,
    // and the emulator reports no deployment configuration for a service.
    let after_import = w2.run(&["plan", "-detailed-exitcode"]);
    expect_changes(
        &after_import,
        &[
            "Plan: 0 to add, 2 to change, 0 to destroy.",
            "~ update_default_version = false -> true",
            "+ deployment_minimum_healthy_percent = 50",
        ],
    );
    assert!(
        !after_import.stdout.contains("has changed"),
        "import read tags without default_tags:\n{}",
        after_import.stdout
    );

    // Replace: a new environment name replaces every named object; the old ones are gone.
    w.write("main.toml", &compute_config(&Compute { env: "cmp2", image: "php:8.3", ..next }));
    expect_changes(
        &w.run(&["plan", "-detailed-exitcode"]),
        &[
            "# aws_launch_template.hosts must be replaced",
            "# aws_autoscaling_group.hosts must be replaced",
            "# aws_ecs_cluster.main must be replaced",
            "# aws_ecs_capacity_provider.hosts must be replaced",
            "# aws_ecs_cluster_capacity_providers.main must be replaced",
            "# aws_lb.main must be replaced",
            "# aws_lb_target_group.web must be replaced",
            "# aws_lb_listener.http must be replaced",
            "# aws_lb_listener_rule.web must be replaced",
            "# aws_ecs_service.web must be replaced",
        ],
    );
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);
    assert!(block(elb.describe_load_balancers().names("alb-cmp").send()).is_err(), "old load balancer deleted");
    assert!(
        block(asg.describe_auto_scaling_groups().auto_scaling_group_names("ecs-hosts-cmp").send())
            .expect("asg")
            .auto_scaling_groups()
            .is_empty(),
        "old group deleted"
    );
    let old_cluster = block(ecs.describe_clusters().clusters(&cluster_arn).send()).expect("clusters");
    assert!(old_cluster.clusters().iter().all(|c| c.status() == Some("INACTIVE")), "old cluster deleted");
    let cluster_arn = state_id(&w, "aws_ecs_cluster.main");

    // Destroy: nothing left.
    w.ok(&["destroy", "-auto-approve"]);
    let svc = block(ecs.describe_services().cluster(&cluster_arn).services("web").send()).expect("service");
    assert!(svc.services().iter().all(|s| s.status() == Some("INACTIVE")), "{:?}", svc.services());
    let clusters = block(ecs.describe_clusters().clusters(&cluster_arn).send()).expect("clusters");
    assert!(clusters.clusters().iter().all(|c| c.status() == Some("INACTIVE")));
    assert!(
        block(asg.describe_auto_scaling_groups().auto_scaling_group_names("ecs-hosts-cmp2").send())
            .expect("asg")
            .auto_scaling_groups()
            .is_empty()
    );
    assert!(block(elb.describe_load_balancers().names("alb-cmp2").send()).is_err());
    assert!(block(elb.describe_target_groups().names("web-cmp2").send()).is_err());
}

fn codebuild_config(project: &str) -> String {
    format!(
        r#"{PROVIDER}
[resource.aws_iam_role.build]
name = "build-role"
assume_role_policy = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"codebuild.amazonaws.com"}},"Action":"sts:AssumeRole"}}]}}'

[resource.aws_codebuild_project.build]
name = "{project}"
service_role = "${{aws_iam_role.build.arn}}"
# AWS ignores location for CODEPIPELINE; the emulator insists on one.
artifacts = {{ type = "CODEPIPELINE", location = "web-pipeline" }}
source = {{ type = "CODEPIPELINE", location = "web-pipeline", buildspec = "version: 0.2\nphases:\n  build:\n    commands: [docker build .]\n" }}
[resource.aws_codebuild_project.build.environment]
type = "LINUX_CONTAINER"
compute_type = "BUILD_GENERAL1_SMALL"
image = "aws/codebuild/standard:7.0"
privileged_mode = true
environment_variable = [{{ name = "REPOSITORY_URI", value = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web" }}]
"#
    )
}

// In-place updates of a project, and aws_codepipeline as a whole, are shown
// with SDK doubles (crates/aws/tests/sdk_doubles.rs): the emulator does not
// implement UpdateProject, and its GetPipeline answer has timestamps the SDK
// cannot read.
#[test]
fn codebuild_project_lifecycle() {
    let moto = Moto::shared();
    let cb = aws_sdk_codebuild::Client::new(&moto.sdk());
    let w = Workdir::new(&[("main.toml", &codebuild_config("web-build"))]).with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    let project = block(cb.batch_get_projects().names("web-build").send()).expect("project");
    let p = &project.projects()[0];
    assert_eq!(p.environment().and_then(|e| e.privileged_mode()), Some(true));
    assert!(p.tags().iter().any(|t| t.key() == Some("ecspoc:address")));
    no_changes(&w);

    // Replace: a new project name.
    w.write("main.toml", &codebuild_config("web-build-2"));
    expect_changes(&w.run(&["plan", "-detailed-exitcode"]), &["# aws_codebuild_project.build must be replaced"]);
    w.ok(&["apply", "-auto-approve"]);
    assert!(block(cb.batch_get_projects().names("web-build").send()).expect("batch").projects().is_empty());
    no_changes(&w);

    // Drift: the project deleted by hand is planned again.
    block(cb.delete_project().name("web-build-2").send()).expect("delete");
    expect_changes(&w.run(&["plan", "-detailed-exitcode"]), &["# aws_codebuild_project.build will be created"]);
    w.ok(&["apply", "-auto-approve"]);
    no_changes(&w);

    // Import (by name or ARN).
    let w2 = Workdir::new(&[("main.toml", &w.read("main.toml"))]).with_aws(moto);
    w2.ok(&["import", "aws_iam_role.build", "build-role"]);
    w2.ok(&["import", "aws_codebuild_project.build", "web-build-2"]);
    // The ignored CODEPIPELINE location is the one thing AWS cannot tell an import.
    expect_changes(
        &w2.run(&["plan", "-detailed-exitcode"]),
        &["Plan: 0 to add, 1 to change, 0 to destroy.", "+ location = \"web-pipeline\""],
    );

    w.ok(&["destroy", "-auto-approve"]);
    assert!(block(cb.batch_get_projects().names("web-build-2").send()).expect("batch").projects().is_empty());
}

/// Objects keyed by name, created just before ecspoc died (the journal has
/// only the intent, with the name), are found by name and marker and adopted.
#[test]
fn name_keyed_objects_created_just_before_a_crash_are_adopted() {
    let moto = Moto::shared();
    let sdk = moto.sdk();
    let (iam, ecr, logs) =
        (aws_sdk_iam::Client::new(&sdk), aws_sdk_ecr::Client::new(&sdk), aws_sdk_cloudwatchlogs::Client::new(&sdk));
    let lineage = "5a1e7c2d-0000-4000-8000-0000000ad0b2";
    let config = r#"
[provider.aws]
region = "us-east-1"

[resource.aws_iam_role.adopted]
name = "adopted-role"
assume_role_policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}'

[resource.aws_ecr_repository.adopted]
name = "adopted-repo"

[resource.aws_cloudwatch_log_group.adopted]
name = "/ecspoc-test/adopted"
"#;
    let intent = |addr: &str, name: &str| {
        format!(
            "{{\"op\":\"intent\",\"addr\":\"{addr}\",\"marker\":{{\"address\":\"{addr}\",\"lineage\":\"{lineage}\",\"name\":\"{name}\"}}}}\n"
        )
    };
    let journal = format!(
        "{{\"op\":\"begin\",\"lineage\":\"{lineage}\"}}\n{}{}{}",
        intent("aws_iam_role.adopted", "adopted-role"),
        intent("aws_ecr_repository.adopted", "adopted-repo"),
        intent("aws_cloudwatch_log_group.adopted", "/ecspoc-test/adopted")
    );
    let w = Workdir::new(&[("main.toml", config), ("terraform.tfstate.journal", &journal)]).with_aws(moto);

    // What the interrupted apply had made, with its marker.
    let iam_tag = |k: &str, v: &str| aws_sdk_iam::types::Tag::builder().key(k).value(v).build().expect("tag");
    block(
        iam.create_role()
            .role_name("adopted-role")
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
            .tags(iam_tag("ecspoc:address", "aws_iam_role.adopted"))
            .tags(iam_tag("ecspoc:lineage", lineage))
            .send(),
    )
    .expect("role");
    let ecr_tag = |k: &str, v: &str| aws_sdk_ecr::types::Tag::builder().key(k).value(v).build().expect("tag");
    block(
        ecr.create_repository()
            .repository_name("adopted-repo")
            .tags(ecr_tag("ecspoc:address", "aws_ecr_repository.adopted"))
            .tags(ecr_tag("ecspoc:lineage", lineage))
            .send(),
    )
    .expect("repo");
    block(
        logs.create_log_group()
            .log_group_name("/ecspoc-test/adopted")
            .tags("ecspoc:address", "aws_cloudwatch_log_group.adopted")
            .tags("ecspoc:lineage", lineage)
            .send(),
    )
    .expect("group");

    let plan = w.ok(&["plan"]).stdout;
    for addr in ["aws_iam_role.adopted", "aws_ecr_repository.adopted", "aws_cloudwatch_log_group.adopted"] {
        assert!(plan.contains(&format!("# {addr} will be recorded in state")), "{plan}");
    }
    w.ok(&["apply", "-auto-approve"]);
    assert_eq!(state_id(&w, "aws_iam_role.adopted"), "adopted-role");
    assert_eq!(state_id(&w, "aws_ecr_repository.adopted"), "adopted-repo");
    no_changes(&w);
    w.ok(&["destroy", "-auto-approve"]);
    assert!(block(iam.get_role().role_name("adopted-role").send()).is_err());
}

/// `track_latest`: a revision registered outside ecspoc becomes the one in
/// state when the resource tracks the family's latest; otherwise the
/// revision ecspoc made stays.
#[test]
fn a_task_definition_tracking_the_latest_revision_follows_one_made_elsewhere() {
    let moto = Moto::shared();
    let defs = r#"[{"name":"web","image":"nginx:1","memory":128,"essential":true}]"#;
    let config = |family: &str, track: bool| {
        format!(
            "{PROVIDER}\n[resource.aws_ecs_task_definition.t]\nfamily = \"{family}\"\ntrack_latest = {track}\ncontainer_definitions = '{defs}'\n"
        )
    };
    let ecs = aws_sdk_ecs::Client::new(&moto.sdk());
    let register_by_hand = |family: &str| {
        let c = aws_sdk_ecs::types::ContainerDefinition::builder()
            .name("web")
            .image("nginx:1")
            .memory(128)
            .essential(true)
            .build();
        // With the provider's default tag, as a teammate's own tool would tag it.
        let tag = aws_sdk_ecs::types::Tag::builder().key("Project").value("ecspoc-test").build();
        block(ecs.register_task_definition().family(family).container_definitions(c).tags(tag).send())
            .expect("register");
    };
    for (family, track, revision) in [("tracked-latest", true, 2.0), ("kept-own", false, 1.0)] {
        let w = Workdir::new(&[("main.toml", &config(family, track))]).with_aws(moto);
        w.ok(&["apply", "-auto-approve"]);
        assert_eq!(state_attr(&w, "aws_ecs_task_definition.t", "revision"), 1.0, "{family}");
        register_by_hand(family);
        w.ok(&["apply", "-refresh-only", "-auto-approve"]);
        assert_eq!(state_attr(&w, "aws_ecs_task_definition.t", "revision"), revision, "{family}");
        assert_eq!(state_attr(&w, "aws_ecs_task_definition.t", "track_latest"), track, "{family}");
        no_changes(&w);
        w.ok(&["destroy", "-auto-approve"]);
    }
}

/// A state written before ecspoc modelled some attributes (here
/// `name_prefix`, which forces replacement, and `create_date`), planned
/// without refreshing: nothing to change, nothing replaced; a refresh-only
/// apply fills them in.
#[test]
fn attributes_newer_than_the_state_change_nothing() {
    let moto = Moto::shared();
    let config = format!(
        "{PROVIDER}\n[resource.aws_iam_role.r]\nname = \"older-state\"\nassume_role_policy = '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"Service\":\"ecs-tasks.amazonaws.com\"}},\"Action\":\"sts:AssumeRole\"}}]}}'\n"
    );
    let w = Workdir::new(&[("main.toml", &config)]).with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    let mut state = w.state();
    let attrs = state["resources"][0]["instances"][0]["attributes"].as_object_mut().expect("attributes");
    for gone in ["name_prefix", "create_date"] {
        attrs.remove(gone);
    }
    w.write("terraform.tfstate", &serde_json::to_string_pretty(&state).expect("JSON"));
    let r = w.run(&["plan", "-refresh=false", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "a state older than the schema plans no change:\n{}", r.all());
    no_changes(&w);
    w.ok(&["apply", "-refresh-only", "-auto-approve"]);
    assert!(state_attr(&w, "aws_iam_role.r", "create_date").is_string(), "filled in by the refresh");
    w.ok(&["destroy", "-auto-approve"]);
}
