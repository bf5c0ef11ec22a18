//! Lifecycle rules, replacement ordering, refresh modes and data sources.

mod common;
use common::Workdir;

fn id_of(w: &Workdir, addr: &str) -> String {
    let show = w.ok(&["state", "show", addr]).stdout;
    show.lines()
        .find_map(|l| {
            l.trim().strip_prefix("id").map(|r| r.trim_start_matches([' ', '=']).trim_matches('"').to_string())
        })
        .unwrap_or_default()
}

#[test]
fn ignore_changes_keeps_the_stored_value() {
    let cfg = |v: &str| {
        format!(
            "[resource.terraform_data.a]\ninput = \"{v}\"\n[resource.terraform_data.a.lifecycle]\nignore_changes = [\"input\"]\n"
        )
    };
    let w = Workdir::new(&[("main.toml", &cfg("one"))]);
    w.ok(&["apply", "-auto-approve"]);
    w.write("main.toml", &cfg("two"));
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn replace_flag_replaces_an_unchanged_object() {
    let w = Workdir::new(&[("main.toml", "[resource.terraform_data.a]\ninput = 1\n")]);
    w.ok(&["apply", "-auto-approve"]);
    let before = id_of(&w, "terraform_data.a");
    let plan = w.ok(&["plan", "-replace=terraform_data.a"]).stdout;
    assert!(plan.contains("# terraform_data.a will be replaced, as requested"), "{plan}");
    w.ok(&["apply", "-auto-approve", "-replace=terraform_data.a"]);
    assert_ne!(id_of(&w, "terraform_data.a"), before);
}

#[test]
fn replace_triggered_by_follows_the_referenced_resource() {
    let cfg = |v: &str| {
        format!(
            "[resource.terraform_data.source]\ninput = \"{v}\"\n[resource.terraform_data.follower]\ninput = \"constant\"\n[resource.terraform_data.follower.lifecycle]\nreplace_triggered_by = [\"terraform_data.source\"]\n"
        )
    };
    let w = Workdir::new(&[("main.toml", &cfg("v1"))]);
    w.ok(&["apply", "-auto-approve"]);
    w.write("main.toml", &cfg("v2"));
    let plan = w.ok(&["plan"]).stdout;
    assert!(plan.contains("terraform_data.follower will be replaced due to changes in replace_triggered_by"), "{plan}");
    assert!(plan.contains("Plan: 1 to add, 1 to change, 1 to destroy."), "{plan}");
}

#[test]
fn create_before_destroy_creates_the_replacement_first() {
    let cfg = |v: &str| {
        format!(
            "[resource.terraform_data.a]\ntriggers_replace = \"{v}\"\n[resource.terraform_data.a.lifecycle]\ncreate_before_destroy = true\n"
        )
    };
    let w = Workdir::new(&[("main.toml", &cfg("1"))]);
    w.ok(&["apply", "-auto-approve"]);
    w.write("main.toml", &cfg("2"));
    let plan = w.ok(&["plan"]).stdout;
    assert!(plan.contains("+/- resource \"terraform_data\" \"a\""), "{plan}");
    assert!(plan.contains("+/- create replacement and then destroy"), "{plan}");
    let apply = w.ok(&["apply", "-auto-approve"]).stdout;
    assert!(apply.contains("Resources: 1 added, 0 changed, 1 destroyed."), "{apply}");
    assert_eq!(w.state()["resources"][0]["instances"][0]["create_before_destroy"], true);
}

#[test]
fn refresh_only_records_drift_without_changing_anything() {
    let w = Workdir::new(&[("main.toml", "[resource.local_file.f]\nfilename = \"f.txt\"\ncontent = \"x\"\n")]);
    w.ok(&["apply", "-auto-approve"]);
    std::fs::remove_file(w.file("f.txt")).expect("delete outside ecspoc");
    let no_refresh = w.run(&["plan", "-refresh=false", "-detailed-exitcode"]);
    assert_eq!(no_refresh.code, 0, "without refresh the drift is not seen: {}", no_refresh.all());
    let plan = w.run(&["plan", "-refresh-only", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("# local_file.f has been deleted"), "{}", plan.stdout);
    assert!(plan.stdout.contains("This is a refresh-only plan"), "{}", plan.stdout);
    w.ok(&["apply", "-refresh-only", "-auto-approve"]);
    assert!(w.state_list().is_empty(), "the deletion is recorded");
    assert!(!w.file("f.txt").exists(), "and nothing was created");
    let normal = w.ok(&["plan"]).stdout;
    assert!(normal.contains("local_file.f will be created"), "{normal}");
}

#[test]
fn drift_is_shown_and_repaired() {
    let w = Workdir::new(&[("main.toml", "[resource.local_file.f]\nfilename = \"f.txt\"\ncontent = \"wanted\"\n")]);
    w.ok(&["apply", "-auto-approve"]);
    w.write("f.txt", "changed by hand");
    // Shown by a refresh-only plan; a normal plan shows it once, as the change
    // that undoes it (nothing else reads the file), as Terraform does.
    let drift = w.run(&["plan", "-refresh-only", "-detailed-exitcode"]);
    assert_eq!(drift.code, 2, "{}", drift.all());
    assert!(drift.stdout.contains("Objects have changed outside of ecspoc"), "{}", drift.stdout);
    let plan = w.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2);
    assert!(!plan.stdout.contains("Objects have changed outside of ecspoc"), "{}", plan.stdout);
    w.ok(&["apply", "-auto-approve"]);
    assert_eq!(w.read("f.txt"), "wanted");
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn data_sources_are_read_at_plan_time_when_their_arguments_are_known() {
    let w = Workdir::new(&[
        (
            "main.toml",
            "[data.local_file.input]\nfilename = \"input.txt\"\n\n[resource.terraform_data.copy]\ninput = \"${upper(data.local_file.input.content)}\"\n",
        ),
        ("input.txt", "hello"),
    ]);
    let plan = w.ok(&["plan"]).stdout;
    assert!(plan.contains("+ input  = \"HELLO\""), "{plan}");
    w.ok(&["apply", "-auto-approve"]);
    assert!(w.state_list().contains(&"data.local_file.input".to_string()));
    let missing = Workdir::new(&[("main.toml", "[data.local_file.input]\nfilename = \"nope.txt\"\n")]);
    let r = missing.run(&["plan"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Failed to read data source") && r.stderr.contains("nope.txt"), "{}", r.stderr);
}

#[test]
fn sensitive_values_never_appear_in_plans_or_outputs() {
    let w = Workdir::new(&[(
        "main.toml",
        "[variable.token]\ntype = \"string\"\nsensitive = true\n[resource.local_file.secret]\nfilename = \"s.txt\"\nsensitive_content = \"${var.token}\"\n",
    )]);
    let r = w.ok(&["plan", "-var", "token=hunter2-secret"]);
    assert!(!r.stdout.contains("hunter2-secret"), "{}", r.stdout);
    assert!(r.stdout.contains("sensitive_content    = (sensitive value)"), "{}", r.stdout);
    let a = w.ok(&["apply", "-auto-approve", "-var", "token=hunter2-secret", "-json"]);
    assert!(!a.stdout.contains("hunter2-secret"), "{}", a.stdout);
    assert!(!w.ok(&["state", "show", "local_file.secret"]).stdout.contains("hunter2-secret"));
}

#[test]
fn values_computed_from_secrets_stay_hidden_and_outputs_must_say_sensitive() {
    let base = r#"
[variable.db_password]
type = "string"
sensitive = true

[locals]
dsn = "postgres://app:${var.db_password}@db:5432/app"

[resource.terraform_data.app]
input = "${local.dsn}"
"#;
    let w = Workdir::new(&[("main.toml", base)]);
    let r = w.ok(&["apply", "-auto-approve", "-var", "db_password=s3cr3t-pw"]);
    assert!(!r.stdout.contains("s3cr3t-pw"), "{}", r.stdout);
    assert!(r.stdout.contains("+ input  = (sensitive value)"), "{}", r.stdout);
    assert!(!w.ok(&["state", "show", "terraform_data.app"]).stdout.contains("s3cr3t-pw"));
    assert_eq!(w.state()["resources"][0]["instances"][0]["sensitive_attributes"][0][0]["value"], "input");

    w.write("main.toml", &format!("{base}\n[output.dsn]\nvalue = \"${{local.dsn}}\"\n"));
    let r = w.run(&["plan", "-var", "db_password=s3cr3t-pw"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("Output refers to sensitive values") && r.stderr.contains("main.toml line 12"),
        "{}",
        r.stderr
    );
    w.write("main.toml", &format!("{base}\n[output.dsn]\nvalue = \"${{local.dsn}}\"\nsensitive = true\n"));
    w.ok(&["apply", "-auto-approve", "-var", "db_password=s3cr3t-pw"]);
    assert!(w.ok(&["output"]).stdout.contains("dsn = <sensitive>"));

    let bad = w.run(&["plan", "-var", "db_password=[1,2]", "-var-file=nope.tfvars"]);
    assert!(!bad.stderr.contains("s3cr3t"), "{}", bad.stderr);
}

#[test]
fn a_data_source_whose_arguments_are_unknown_is_read_during_apply() {
    let w = Workdir::new(&[(
        "main.toml",
        r#"
[resource.local_file.written]
filename = "generated.txt"
content = "made by ecspoc"

[data.local_file.read_back]
filename = '${local_file.written.id != "" ? local_file.written.filename : "never"}'

[resource.terraform_data.copy]
input = "${data.local_file.read_back.content}"
"#,
    )]);
    let plan = w.ok(&["plan"]).stdout;
    assert!(plan.contains("# data.local_file.read_back will be read during apply"), "{plan}");
    assert!(plan.contains("# (config refers to values not yet known)"), "{plan}");
    w.ok(&["apply", "-auto-approve"]);
    let copy = w.ok(&["state", "show", "terraform_data.copy"]).stdout;
    assert!(copy.contains("\"made by ecspoc\""), "{copy}");
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn nested_modules_pass_values_down_and_up() {
    let w = Workdir::new(&[
        (
            "main.toml",
            "[module.outer]\nsource = \"./modules/outer\"\nname = \"dev\"\n[output.deep]\nvalue = \"${module.outer.inner_id}\"\n",
        ),
        (
            "modules/outer/main.toml",
            "[variable.name]\ntype = \"string\"\n[module.inner]\nsource = \"../inner\"\nlabel = \"${var.name}-inner\"\n[output.inner_id]\nvalue = \"${module.inner.label}\"\n",
        ),
        (
            "modules/inner/main.toml",
            "[variable.label]\ntype = \"string\"\n[resource.terraform_data.x]\ninput = \"${var.label}\"\n[output.label]\nvalue = \"${terraform_data.x.output}\"\n",
        ),
    ]);
    let r = w.ok(&["apply", "-auto-approve"]);
    assert!(r.stdout.contains("module.outer.module.inner.terraform_data.x: Creation complete"), "{}", r.stdout);
    assert_eq!(w.ok(&["output", "-raw", "deep"]).stdout, "dev-inner");
    assert_eq!(w.state()["resources"][0]["module"], "module.outer.module.inner");
}
