//! Bad input gets a clear error that says where and what, and changes nothing.

mod common;
use common::Workdir;

/// Run `plan` on a broken root module and return stderr; nothing may be written.
fn plan_error(files: &[(&str, &str)]) -> String {
    let w = Workdir::new(files);
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 1, "expected failure:\n{}", r.all());
    assert!(!w.file("terraform.tfstate").exists(), "a failed plan writes no state");
    r.stderr
}

#[test]
fn toml_syntax_error_names_file_line_column_and_shows_the_line() {
    let e = plan_error(&[("main.toml", "[resource.terraform_data.a]\ninput = \"x\"\noops =\n")]);
    assert!(e.contains("Error: Invalid TOML syntax"), "{e}");
    assert!(e.contains("on main.toml line 3, column"), "{e}");
    assert!(e.contains("   3: oops ="), "{e}");
}

#[test]
fn json_syntax_error_is_located_too() {
    let e = plan_error(&[("main.tf.json", "{\"resource\": {\"terraform_data\": {\"a\": {\"input\": 1,}}}}")]);
    assert!(e.contains("Error: Invalid JSON syntax") && e.contains("on main.tf.json line 1"), "{e}");
}

#[test]
fn tf_json_files_mean_the_same_as_toml() {
    let w = Workdir::new(&[
        (
            "a.tf.json",
            r#"{"resource": {"terraform_data": {"a": {"input": "${var.v}"}}}, "variable": {"v": {"default": "x"}}}"#,
        ),
        ("b.toml", "[resource.terraform_data.b]\ninput = \"${terraform_data.a.output}\"\n"),
    ]);
    let r = w.ok(&["apply", "-auto-approve"]);
    assert!(r.stdout.contains("2 added"), "{}", r.stdout);
}

#[test]
fn unknown_block_type() {
    let e = plan_error(&[("main.toml", "[resorce.terraform_data.a]\ninput = 1\n")]);
    assert!(e.contains("Unsupported block type") && e.contains("\"resorce\"") && e.contains("line 1, column 2"), "{e}");
}

#[test]
fn unknown_argument_and_missing_required_and_wrong_type_are_all_reported() {
    let e = plan_error(&[(
        "main.toml",
        "[resource.terraform_data.a]\ninptu = 1\n\n[resource.random_id.b]\nprefix = \"p\"\n\n[resource.random_id.c]\nbyte_length = \"many\"\n",
    )]);
    assert!(e.contains("Unsupported argument") && e.contains("\"inptu\"") && e.contains("line 2, column 1"), "{e}");
    assert!(e.contains("Missing required argument") && e.contains("\"byte_length\" is required in random_id"), "{e}");
    assert!(e.contains("Incorrect attribute value type") && e.contains("line 8, column 15"), "{e}");
}

#[test]
fn references_to_undeclared_things() {
    let e = plan_error(&[(
        "main.toml",
        "[resource.terraform_data.a]\ninput = \"${var.missing}\"\n[resource.terraform_data.b]\ninput = \"${terraform_data.nope.id}\"\n[output.o]\nvalue = \"${module.ghost.x}\"\n",
    )]);
    assert!(e.contains("Reference to undeclared input variable") && e.contains("\"missing\""), "{e}");
    assert!(e.contains("Reference to undeclared resource") && e.contains("terraform_data.nope"), "{e}");
    assert!(e.contains("Reference to undeclared module"), "{e}");
}

#[test]
fn unknown_resource_type() {
    let e = plan_error(&[("main.toml", "[resource.aws_vpcc.main]\ncidr_block = \"10.0.0.0/16\"\n")]);
    assert!(e.contains("Invalid resource type") && e.contains("\"aws_vpcc\""), "{e}");
}

#[test]
fn a_cycle_names_every_member_with_its_location() {
    let e = plan_error(&[(
        "main.toml",
        "[resource.terraform_data.a]\ninput = \"${terraform_data.c.id}\"\n[resource.terraform_data.b]\ninput = \"${terraform_data.a.id}\"\n[resource.terraform_data.c]\ninput = \"${local.l}\"\n[locals]\nl = \"${terraform_data.b.id}\"\n",
    )]);
    assert!(e.contains("Cycle in the dependency graph") && e.contains("These 4 objects"), "{e}");
    for m in [
        "terraform_data.a (main.toml:1:",
        "terraform_data.b (main.toml:3:",
        "terraform_data.c (main.toml:5:",
        "local.l (main.toml:8:",
    ] {
        assert!(e.contains(m), "missing {m} in {e}");
    }
}

#[test]
fn variable_validation_and_type_errors() {
    let files = [(
        "main.toml",
        "[variable.cidr]\ntype = \"string\"\n[[variable.cidr.validation]]\ncondition = \"${can(cidrhost(var.cidr, 0))}\"\nerror_message = \"cidr must be a CIDR block, e.g. 10.60.0.0/16.\"\n[variable.size]\ntype = \"number\"\ndefault = 2\n[resource.terraform_data.a]\ninput = \"${var.cidr}-${var.size}\"\n",
    )];
    let w = Workdir::new(&files);
    let r = w.run(&["plan", "-var", "cidr=10.60.0.0/99"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("cidr must be a CIDR block, e.g. 10.60.0.0/16."), "{}", r.stderr);
    let r = w.run(&["plan", "-var", "cidr=10.0.0.0/16", "-var", "size=two"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("variable \"size\"") && r.stderr.contains("a number is required"), "{}", r.stderr);
    let r = w.run(&["plan"]);
    assert!(r.stderr.contains("No value for required variable") && r.stderr.contains("\"cidr\""), "{}", r.stderr);
    assert_eq!(w.run(&["plan", "-var", "cidr=10.0.0.0/16"]).code, 0);
}

#[test]
fn evaluation_errors_point_at_the_expression() {
    let e = plan_error(&[(
        "main.toml",
        "[resource.terraform_data.a]\ninput = \"${element([], 0)}\"\n\n[resource.terraform_data.b]\ninput = \"${nosuchfn(1)}\"\n",
    )]);
    assert!(e.contains("element(): cannot use element() on an empty list") && e.contains("line 2, column 9"), "{e}");
    assert!(e.contains("there is no function named \"nosuchfn\""), "{e}");
}

#[test]
fn a_corrupt_state_file_is_refused_and_left_as_it_was() {
    let w = Workdir::new(&[
        ("main.toml", "[resource.terraform_data.a]\ninput = 1\n"),
        ("terraform.tfstate", "{\"version\": 4, \"lineage\": "),
    ]);
    let r = w.run(&["apply", "-auto-approve"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Failed to load state") && r.stderr.contains("terraform.tfstate"), "{}", r.stderr);
    assert_eq!(w.read("terraform.tfstate"), "{\"version\": 4, \"lineage\": ");
    assert!(!w.file("terraform.tfstate.backup").exists());
}

#[test]
fn a_newer_state_version_is_refused() {
    let newer = r#"{"version": 5, "terraform_version": "9.0.0", "serial": 3, "lineage": "x", "resources": []}"#;
    let w = Workdir::new(&[("main.toml", "[resource.terraform_data.a]\ninput = 1\n"), ("terraform.tfstate", newer)]);
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("format version 5") && r.stderr.contains("It was not changed"), "{}", r.stderr);
    assert_eq!(w.read("terraform.tfstate"), newer);
}

#[test]
fn bad_flags_and_addresses() {
    let w = Workdir::new(&[("main.toml", "[resource.terraform_data.a]\ninput = 1\n")]);
    let r = w.run(&["plan", "-target=not an address"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Invalid target address"), "{}", r.stderr);
    assert_eq!(w.run(&["plan", "-parallelism=0"]).code, 1);
    assert_eq!(w.run(&["plan", "-nosuchflag"]).code, 1);
    let r = w.run(&["plan", "-var", "novalue"]);
    assert!(r.stderr.contains("NAME=VALUE"), "{}", r.stderr);
    let r = w.run(&["apply"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("-auto-approve"), "apply without a terminal must ask for -auto-approve: {}", r.stderr);
    assert!(!w.file("terraform.tfstate").exists());
}

#[test]
fn prevent_destroy_stops_the_plan() {
    let w = Workdir::new(&[(
        "main.toml",
        "[resource.terraform_data.a]\ninput = 1\n[resource.terraform_data.a.lifecycle]\nprevent_destroy = true\n",
    )]);
    w.ok(&["apply", "-auto-approve"]);
    let r = w.run(&["destroy", "-auto-approve"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Instance cannot be destroyed"), "{}", r.stderr);
    assert_eq!(w.state_list(), vec!["terraform_data.a"]);
}

/// A typo inside a block, a malformed policy and an unknown container setting
/// are refused before any AWS call (no credentials, no emulator needed).
#[test]
fn mistakes_inside_aws_blocks_and_documents_are_named() {
    let e = plan_error(&[(
        "main.toml",
        r#"
[provider.aws]
region = "us-east-1"

[resource.aws_lb_target_group.web]
name = "web"
port = 80
protocol = "HTTP"
vpc_id = "vpc-1"
health_check = { pth = "/health" }
"#,
    )]);
    assert!(e.contains("Error: Unsupported argument"), "{e}");
    assert!(e.contains("aws_lb_target_group has no argument health_check.pth"), "{e}");
    assert!(e.contains("on main.toml line 10"), "{e}");

    let e = plan_error(&[(
        "main.toml",
        r#"
[provider.aws]
region = "us-east-1"

[resource.aws_iam_role.r]
name = "r"
assume_role_policy = "{ not json"

[resource.aws_ecs_task_definition.t]
family = "t"
container_definitions = '[{"name": "web", "image": "php:8", "memroy": 256}]'
"#,
    )]);
    assert!(e.contains("assume_role_policy is not valid JSON"), "{e}");
    assert!(e.contains("container_definitions[0].memroy is not a container setting ecspoc knows"), "{e}");
}

#[test]
fn a_function_failing_on_a_secret_does_not_quote_it() {
    let files = [(
        "main.toml",
        "[variable.db_password]\ntype = \"string\"\nsensitive = true\n\n[resource.terraform_data.a]\ninput = \"${cidrsubnet(var.db_password, 4, 1)}\"\n\n[resource.terraform_data.b]\ninput = \"${format(\\\"%d\\\", var.db_password)}\"\n",
    )];
    let w = Workdir::new(&files);
    let r = w.run(&["plan", "-var", "db_password=hunter2-Secret"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("cidrsubnet() failed") && r.stderr.contains("details are hidden"), "{}", r.stderr);
    assert!(!r.all().contains("hunter2"), "the secret leaked:\n{}", r.all());
    // The same error on a value that is not secret says everything.
    let r = w.run(&["plan", "-var", "db_password=x"]);
    assert!(r.stderr.contains("cidrsubnet() failed"), "{}", r.stderr);
    let plain = Workdir::new(&[(
        "main.toml",
        "[resource.terraform_data.a]\ninput = \"${cidrsubnet(\\\"not-a-cidr\\\", 4, 1)}\"\n",
    )]);
    let r = plain.run(&["plan"]);
    assert!(r.stderr.contains("not-a-cidr"), "{}", r.stderr);
}

#[test]
fn errors_in_tf_json_point_at_the_real_line_and_column_and_json_diagnostics_carry_a_snippet() {
    let text = "{\n  \"resource\": {\n    \"terraform_data\": {\n      \"a\": {\n        \"input\": \"x\",\n        \"bogus\": 1\n      }\n    }\n  }\n}\n";
    let e = plan_error(&[("main.tf.json", text)]);
    assert!(e.contains("on main.tf.json line 6, column 9") && e.contains("\"bogus\": 1"), "{e}");
    let w = Workdir::new(&[("main.tf.json", text)]);
    let r = w.run(&["plan", "-json"]);
    assert_eq!(r.code, 1);
    let diag: serde_json::Value = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|m| m["type"] == "diagnostic")
        .expect("a diagnostic message");
    let d = &diag["diagnostic"];
    assert_eq!(d["range"]["start"]["line"], 6, "{d}");
    assert_eq!(d["snippet"]["code"], "        \"bogus\": 1", "{d}");
    assert_eq!(d["snippet"]["start_line"], 6);
    let (from, to) = (d["snippet"]["highlight_start_offset"].as_u64(), d["snippet"]["highlight_end_offset"].as_u64());
    assert_eq!((from, to), (Some(8), Some(15)), "the highlight covers \"bogus\": {d}");
}

/// AWS's rules on values the models do not carry, and its tag rules, refuse
/// a plan before any request to AWS: literal values at `validate`, values
/// from variables at `plan`.
#[test]
fn values_aws_refuses_are_named_before_any_call() {
    use common::fault_proxy::FaultProxy;
    use common::moto::Moto;
    let moto = Moto::shared();
    let proxy = FaultProxy::start(&moto.endpoint, 0.0, 1);
    let config = r#"
[provider.aws]
region = "us-east-1"
[provider.aws.default_tags.tags]
"aws:owner" = "me"

[variable.why]
type = "string"
default = "the team's SSH"

[resource.aws_security_group.bastion]
name = "bastion"
description = "bastion"
ingress = [{ from_port = 22, to_port = 22, protocol = "tcp", cidr_blocks = ["10.0.0.0/8"], ipv6_cidr_blocks = [], prefix_list_ids = [], security_groups = [], self = false, description = "${var.why}" }]

[resource.aws_lb_target_group.web]
name = "-web"
port = 80
protocol = "HTTP"
vpc_id = "vpc-1"
"#;
    let mut w = Workdir::new(&[("main.toml", config)]).with_aws(moto);
    w.env.push(("AWS_ENDPOINT_URL".into(), proxy.endpoint()));

    let validate = w.run(&["validate"]);
    assert_eq!(validate.code, 1, "{}", validate.all());
    assert!(validate.stderr.contains(r#"name: "-web" may not start or end with "-""#), "{}", validate.stderr);
    assert!(validate.stderr.contains("main.toml"), "located: {}", validate.stderr);

    w.write("main.toml", &config.replace("name = \"-web\"", "name = \"web\""));
    let plan = w.run(&["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(
        plan.stderr.contains(r#"ingress[0].description: "the team's SSH" may contain only letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*"#),
        "{}",
        plan.stderr
    );
    assert!(plan.stderr.contains(r#"tag key "aws:owner" may not start with "aws:""#), "{}", plan.stderr);
    assert!(!w.file("terraform.tfstate").exists());
    assert_eq!(proxy.requests(), 0, "nothing was sent to AWS");

    // Tag counts: AWS takes 50 per object and the marker takes two.
    let many: Vec<String> = (0..49).map(|i| format!("k{i} = \"v\"")).collect();
    w.write(
        "main.toml",
        &format!("[provider.aws]\nregion = \"us-east-1\"\n\n[resource.aws_vpc.main]\ncidr_block = \"10.0.0.0/16\"\ntags = {{ {} }}\n", many.join(", ")),
    );
    let validate = w.run(&["validate"]);
    assert_eq!(validate.code, 1, "{}", validate.all());
    assert!(
        validate.stderr.contains("49 tags; AWS takes at most 50 per object, and ecspoc's marker takes 2 of them"),
        "{}",
        validate.stderr
    );
}
