//! `ecspoc show -markdown`: the pull-request comment of real saved plans,
//! snapshot-tested per situation (no changes, creates, an update with a
//! policy diff, a replacement, a destroy, a failed plan, three environments,
//! drift and warnings, a plan too large for one comment), each also parsed as
//! GitHub parses it to prove its structure.

mod common;
use common::moto::{Moto, block};
use common::{Workdir, redact};

/// Run-to-run noise: UUIDs (terraform_data ids), emulator ids, account ids.
fn stable(md: &str) -> String {
    let r = redact(md);
    let ids = regex::Regex::new(r"\b(vpc|sg|sgr|subnet|igw|rtb|eipalloc|i|nat)-[0-9a-f]{8,17}\b").expect("re");
    ids.replace_all(&r, "$1-[id]").into_owned()
}

fn gfm() -> comrak::Options<'static> {
    let mut o = comrak::Options::default();
    o.extension.table = true;
    o.extension.autolink = true;
    o.render.unsafe_ = true;
    o
}

/// What GitHub needs of the comment: under the limit, one summary table,
/// balanced details, no block left open.
fn well_formed(md: &str) {
    assert!(md.chars().count() <= 65_536, "{} characters", md.chars().count());
    let html = comrak::markdown_to_html(&format!("{md}\n\nEND-SENTINEL\n"), &gfm());
    assert!(html.trim_end().ends_with("<p>END-SENTINEL</p>"), "a block was left open:\n{md}");
    assert_eq!(html.matches("<table>").count(), 1, "one summary table:\n{html}");
    assert_eq!(html.matches("<details>").count(), html.matches("</details>").count());
}

fn saved(w: &Workdir, name: &str) -> String {
    let file = format!("{name}.tfplan");
    let r = w.run(&["plan", &format!("-out={file}")]);
    assert!(r.code == 0 || r.code == 2, "{}", r.all());
    file
}

fn comment(w: &Workdir, files: &[&str]) -> String {
    let mut args = vec!["show", "-markdown"];
    args.extend(files);
    let md = w.ok(&args).stdout;
    well_formed(&md);
    md
}

const BASE: &str = r#"
[resource.terraform_data.cluster]
input = { name = "ecs-dev", policy = "${jsonencode({ Version = \"2012-10-17\", Statement = [{ Effect = \"Allow\", Action = [\"logs:PutLogEvents\"], Resource = \"arn:aws:logs:*:*:*\" }] })}" }

[resource.terraform_data.service]
for_each = { web = 2, api = 1 }
input = "${each.key}:${each.value}"
triggers_replace = "${each.key}"
"#;

#[test]
fn every_kind_of_change_reads_as_a_review_comment() {
    let w = Workdir::new(&[("main.toml", BASE)]);
    let creates = comment(&w, &[&saved(&w, "dev")]);
    insta::assert_snapshot!("comment_creates_only", stable(&creates));
    w.ok(&["apply", "-auto-approve"]);

    let none = comment(&w, &[&saved(&w, "dev")]);
    assert!(none.contains("| dev | 0 | 0 | 0 | 0 | no changes |"), "{none}");
    insta::assert_snapshot!("comment_no_changes", stable(&none));

    // A policy diff, a replacement (triggers_replace), a destroy.
    let changed = BASE
        .replace("logs:PutLogEvents", "logs:*")
        .replace("triggers_replace = \"${each.key}\"", "triggers_replace = \"${each.key}-v2\"")
        .replace("{ web = 2, api = 1 }", "{ web = 2 }");
    w.write("main.toml", &changed);
    let md = comment(&w, &[&saved(&w, "dev")]);
    assert!(md.contains("### Destroys and replacements"), "{md}");
    let destroys = md.split("### dev").next().unwrap_or_default();
    assert!(destroys.contains("terraform_data.service[&quot;api&quot;]</code> (destroy)"), "{md}");
    assert!(destroys.contains("(replace, forced by <code>triggers_replace</code>)"), "{md}");
    assert!(
        md.contains("-                       \"logs:PutLogEvents\"") || md.contains("\"logs:PutLogEvents\""),
        "{md}"
    );
    insta::assert_snapshot!("comment_update_replace_destroy", stable(&md));
}

#[test]
fn failed_plans_and_several_environments_share_one_comment() {
    let dev = Workdir::new(&[("main.toml", BASE)]);
    let dev_plan = dev.file(&saved(&dev, "dev"));
    let staging = Workdir::new(&[("main.toml", &BASE.replace("ecs-dev", "ecs-staging"))]);
    let staging_plan = staging.file(&saved(&staging, "staging"));
    // prod's plan fails: its -json stream is what CI keeps.
    let prod = Workdir::new(&[("main.toml", "[resource.terraform_data.x]\ninput = \"${var.missing}\"\n")]);
    let r = prod.run(&["plan", "-json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    prod.write("prod.jsonl", &r.stdout);

    let files: Vec<String> =
        [dev_plan, staging_plan, prod.file("prod.jsonl")].iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
    let md = comment(&dev, &refs);
    assert!(
        md.starts_with("## ecspoc plan: dev, staging, prod\n<!-- ecspoc-plan-comment: dev,staging,prod -->"),
        "{md}"
    );
    assert!(md.contains("| prod | | | | | **plan failed**: Reference to undeclared input variable |"), "{md}");
    assert!(md.contains("### dev") && md.contains("### staging"), "{md}");
    insta::assert_snapshot!("comment_three_environments_one_failed", stable(&md));

    // The same set of environments gives the same marker: CI updates one comment.
    let again = comment(&dev, &refs);
    assert_eq!(again.lines().nth(1), md.lines().nth(1));
    let other = comment(&dev, &refs[..1]);
    assert_ne!(other.lines().nth(1), md.lines().nth(1), "another set, another comment");
}

#[test]
fn a_plan_too_large_for_one_comment_is_cut_and_says_where_the_rest_is() {
    let lines: String = (0..400).map(|n| format!("line {n} of a long document\\n")).collect();
    let config = format!("[resource.terraform_data.doc]\ncount = 40\ninput = \"{lines}${{count.index}}\"\n");
    let w = Workdir::new(&[("main.toml", &config)]);
    let md = comment(&w, &[&saved(&w, "dev")]);
    assert!(md.contains("| dev | 40 | 0 | 0 | 0 | changes |"), "the summary stays");
    assert!(
        md.contains("to stay under GitHub's size limit; the full plans are in the workflow run's artifacts"),
        "{}",
        &md[md.len().saturating_sub(400)..]
    );
    insta::assert_snapshot!(
        "comment_too_large_tail",
        stable(md.lines().rev().take(3).collect::<Vec<_>>().join("\n").as_str())
    );
}

/// Drift and the provider's warnings, from the emulator: SSH opened to the
/// world, an IAM grant of every action, a bucket destroyed, a tag changed
/// outside ecspoc.
#[test]
fn warnings_and_drift_come_first() {
    let moto = Moto::shared();
    let config = |cidr: &str, action: &str, bucket: bool| {
        let mut c = format!(
            r#"
[provider.aws]
region = "us-east-1"

[resource.aws_vpc.main]
cidr_block = "10.91.0.0/16"
tags = {{ Name = "comment" }}

# The group reads the VPC's tags: as it changes, drift there matters.
[resource.aws_security_group.ssh]
name = "comment-ssh"
description = "ssh in ${{aws_vpc.main.tags.Name}}"
vpc_id = "${{aws_vpc.main.id}}"
ingress = [{{ from_port = 22, to_port = 22, protocol = "tcp", cidr_blocks = ["{cidr}"], ipv6_cidr_blocks = [], prefix_list_ids = [], security_groups = [], self = false, description = "ssh" }}]

[resource.aws_iam_role.app]
name = "comment-app"
assume_role_policy = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"ecs-tasks.amazonaws.com"}},"Action":"sts:AssumeRole"}}]}}'

[resource.aws_iam_role_policy.app]
name = "app"
role = "${{aws_iam_role.app.name}}"
policy = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"arn:aws:s3:::comment-data/*"}}]}}'
"#
        );
        if bucket {
            c.push_str("\n[resource.aws_s3_bucket.data]\nbucket = \"comment-data\"\n");
        }
        c
    };
    let w = Workdir::new(&[("main.toml", &config("10.0.0.0/8", "s3:GetObject", true))]).with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    let vpc = common::state_id(&w, "aws_vpc.main");
    block(
        moto.ec2()
            .create_tags()
            .resources(&vpc)
            .tags(aws_sdk_ec2::types::Tag::builder().key("Name").value("changed-by-hand").build())
            .send(),
    )
    .expect("tag");

    w.write("main.toml", &config("0.0.0.0/0", "s3:*", false));
    let plan = saved(&w, "dev");
    // checkov's findings on the same plan join the warnings.
    let (report, _) = common::checkov(&w, &w.ok(&["show", "-json", &plan]).stdout);
    let failed: Vec<String> = report["results"]["failed_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["check_id"].as_str().map(String::from))
        .collect();
    assert!(failed.iter().any(|c| c == "CKV_AWS_24"), "checkov sees SSH from anywhere: {failed:?}");
    std::fs::rename(w.file("checkov.json"), w.file("dev.checkov.json")).expect("rename");
    let md = comment(&w, &[&plan, "dev.checkov.json"]);
    let warnings = md.split("### Destroys and replacements").next().unwrap_or_default();
    for expected in [
        "SSH",
        "<code>aws_iam_role_policy.app</code>: policy allows every action of s3:\\*",
        "<code>aws_s3_bucket.data</code> is destroyed, and what it holds with it",
        "changed outside ecspoc since the last apply: <code>aws_vpc.main</code>",
        "**dev**: checkov CKV\\_AWS\\_24",
    ] {
        assert!(warnings.contains(expected), "missing {expected:?} in:\n{warnings}");
    }
    insta::assert_snapshot!("comment_warnings_and_drift", stable(warnings));
    w.ok(&["destroy", "-auto-approve"]);
}

/// `ecspoc comment` against a server that answers as GitHub's REST API does.
mod comment_command {
    use super::*;
    use common::github::{FakeGithub, Limit, TOKEN};

    fn run(w: &Workdir, gh: &FakeGithub, args: &[&str]) -> common::Run {
        let mut c = w.command(args);
        c.env("GITHUB_TOKEN", TOKEN).env("GITHUB_REPOSITORY", "acme/infra").env("GITHUB_API_URL", &gh.url);
        common::Run::from(c.output().expect("run"))
    }

    #[test]
    fn the_first_run_creates_later_runs_update_the_same_comment_and_others_are_untouched() {
        let gh = FakeGithub::start();
        // 130 comments by others: the list takes two pages of 100.
        let theirs: Vec<u64> = (0..130).map(|i| gh.add(7, "reviewer", &format!("looks good {i}"))).collect();
        let quoting = gh.add(7, "reviewer", "about <!-- another-tool-comment: dev -->");
        let w = Workdir::new(&[("main.toml", BASE)]);
        let plan = saved(&w, "dev");

        let r = run(&w, &gh, &["comment", "-pr=7", &plan]);
        assert_eq!(r.code, 0, "{}", r.all());
        assert!(r.stdout.contains("Created the plan comment"), "{}", r.stdout);
        let ours: Vec<_> = gh.comments(7).into_iter().filter(|c| !theirs.contains(&c.id) && c.id != quoting).collect();
        assert_eq!(ours.len(), 1);
        assert!(ours[0].body.contains("<!-- ecspoc-plan-comment: dev -->"));
        let listed = gh.requests().iter().filter(|r| r.starts_with("GET ")).count();
        assert_eq!(listed, 2, "both pages were read: {:?}", gh.requests());

        // Later runs: the same comment, updated; rate limits waited out.
        w.ok(&["apply", "-auto-approve"]);
        let plan = saved(&w, "dev");
        gh.limit_next(Limit::RetryAfter);
        let r = run(&w, &gh, &["comment", "-pr=7", &plan]);
        assert_eq!(r.code, 0, "{}", r.all());
        assert!(r.stdout.contains("Updated the plan comment"), "{}", r.stdout);
        gh.limit_next(Limit::Exhausted);
        let r = run(&w, &gh, &["comment", "-pr=7", &plan]);
        assert_eq!(r.code, 0, "{}", r.all());
        let now = gh.comments(7);
        assert_eq!(now.len(), 132, "no second comment");
        let mine = now.iter().find(|c| c.id == ours[0].id).expect("ours");
        assert!(mine.body.contains("no changes"), "{}", mine.body);
        for c in now.iter().filter(|c| c.id != ours[0].id) {
            assert!(c.body.starts_with("looks good") || c.id == quoting, "touched: {c:?}");
        }
        assert!(gh.requests().iter().any(|r| r.starts_with("PATCH /repos/acme/infra/issues/comments/")));
        assert!(!r.all().contains(TOKEN), "the token is never printed");
    }

    #[test]
    fn dry_run_prints_the_request_and_errors_say_what_github_answered() {
        let gh = FakeGithub::start();
        let w = Workdir::new(&[("main.toml", BASE)]);
        let plan = saved(&w, "dev");
        let r = run(&w, &gh, &["comment", "-pr=9", "-dry-run", &plan]);
        assert_eq!(r.code, 0, "{}", r.all());
        assert!(r.stdout.starts_with(&format!("POST {}/repos/acme/infra/issues/9/comments", gh.url)), "{}", r.stdout);
        assert!(r.stdout.contains("## ecspoc plan: dev"));
        assert!(gh.comments(9).is_empty(), "nothing sent");
        assert!(gh.requests().iter().all(|r| r.starts_with("GET ")), "{:?}", gh.requests());

        // A bad token: GitHub's answer, named.
        let mut c = w.command(&["comment", "-pr=9", &plan]);
        c.env("GITHUB_TOKEN", "wrong").env("GITHUB_REPOSITORY", "acme/infra").env("GITHUB_API_URL", &gh.url);
        let out = c.output().expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("GET /repos/acme/infra/issues/9/comments?per_page=100: 401 Bad credentials"), "{err}");
        assert!(!err.contains("wrong"), "no token in errors: {err}");

        // Where GitHub Actions would say: missing settings.
        let mut c = w.command(&["comment", "-pr=9", &plan]);
        c.env_remove("GITHUB_REPOSITORY").env("GITHUB_TOKEN", TOKEN);
        let out = c.output().expect("run");
        assert!(String::from_utf8_lossy(&out.stderr).contains("GITHUB_REPOSITORY is not set"));
    }
}

#[test]
fn sensitive_values_never_reach_the_comment() {
    let config = r#"
[variable.db_password]
type = "string"
sensitive = true
default = "hunter2-very-secret"

[resource.terraform_data.db]
input = { user = "app", password = "${var.db_password}" }
"#;
    let w = Workdir::new(&[("main.toml", config)]);
    w.ok(&["apply", "-auto-approve"]);
    w.write("main.toml", &config.replace("hunter2-very-secret", "hunter3-also-secret").replace("\"app\"", "\"app2\""));
    let md = comment(&w, &[&saved(&w, "dev")]);
    assert!(md.contains("terraform_data.db</code> (update in place)"), "the change is shown:\n{md}");
    assert!(!md.contains("hunter2") && !md.contains("hunter3"), "a secret leaked:\n{md}");
    assert!(md.contains("(sensitive value)"), "{md}");
}
