//! `plan -explain`: where each changed attribute's new value comes from
//! (the expression's file:line:column, what it reads), which attribute
//! forces a replacement, and what changed outside ecspoc; the same under
//! `ecspoc_explain` in the plan JSON. Locations are checked against the files.

mod common;
use common::Workdir;

const MAIN: &str = r#"[variable.name]
type = "string"
default = "web"

[resource.terraform_data.base]
input = "${var.name}-base"

[resource.terraform_data.app]
input = { name = "${var.name}", base = "${terraform_data.base.output}" }
triggers_replace = "${var.name}"

[module.files]
source = "./files"
text = "${var.name}"
"#;

const MODULE: &str = r#"[variable.text]
type = "string"

[resource.local_file.note]
filename = "${path.module}/note.txt"
content = "note for ${var.text}"
"#;

/// `file:line:column` of the first value written `after` `key = ` in `text`.
fn location(file: &str, text: &str, key_line: &str) -> String {
    let (n, line) = text.lines().enumerate().find(|(_, l)| l.starts_with(key_line)).expect("the line");
    let column = line.find(" = ").expect("an assignment") + 4;
    format!("{file}:{}:{column}", n + 1)
}

#[test]
fn explain_says_where_each_new_value_comes_from() {
    let w = Workdir::new(&[("main.toml", MAIN), ("files/main.toml", MODULE)]);
    w.ok(&["apply", "-auto-approve"]);
    let r = w.ok(&["plan", "-explain", "-var", "name=api", "-out=p.tfplan"]);
    let why = r.stdout.split("Why these changes:").nth(1).expect("an explanation").to_string();
    let app_input = location("main.toml", MAIN, "input = {");
    let trigger = location("main.toml", MAIN, "triggers_replace");
    let base_input = location("main.toml", MAIN, "input = \"${var.name}-base\"");
    let content = location("files/main.toml", MODULE, "content");
    for line in [
        format!("input: set at {app_input}, from var.name, terraform_data.base.output"),
        format!("triggers_replace: set at {trigger}, from var.name; forces replacement"),
        format!("input: set at {base_input}, from var.name"),
        format!("content: set at {content}, from var.text"),
    ] {
        assert!(why.contains(&line), "missing {line:?} in:\n{why}");
    }
    // The same in the plan JSON, under ecspoc's own key.
    let json: serde_json::Value = serde_json::from_str(&w.ok(&["show", "-json", "p.tfplan"]).stdout).unwrap();
    let app =
        json["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "terraform_data.app").unwrap();
    let trig = app["ecspoc_explain"].as_array().unwrap().iter().find(|o| o["attribute"] == "triggers_replace").unwrap();
    assert_eq!(trig["location"], trigger.as_str());
    assert_eq!(trig["forces_replacement"], true);
    assert_eq!(trig["from"], serde_json::json!(["var.name"]));
}

#[test]
fn explain_tells_a_change_made_outside_from_one_in_the_configuration() {
    const GROUP: &str =
        "[resource.aws_cloudwatch_log_group.app]\nname = \"/ecspoc-test/explain\"\nretention_in_days = 7\n";
    let moto = common::moto::Moto::shared();
    let w = Workdir::new(&[("main.toml", GROUP)]).with_aws(moto);
    w.ok(&["apply", "-auto-approve"]);
    // Someone changes the retention in the console; the configuration is unchanged.
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk());
    common::moto::block(
        logs.put_retention_policy().log_group_name("/ecspoc-test/explain").retention_in_days(30).send(),
    )
    .expect("retention changed outside");
    let r = w.ok(&["plan", "-explain"]);
    let why = r.stdout.split("Why these changes:").nth(1).unwrap_or_else(|| panic!("no explanation:\n{}", r.stdout));
    let at = location("main.toml", GROUP, "retention_in_days");
    assert!(
        why.contains(&format!("retention_in_days: changed outside ecspoc; the configuration at {at} sets it back")),
        "{why}"
    );
    w.ok(&["destroy", "-auto-approve"]);
}

/// On the dev environment: a service's memory changed in `local.services`
/// reaches its task definition through the module's `var.memory` (a
/// replacement, forced there), and its log group's retention changed by
/// hand is set back from the module's file. Locations from the files.
#[test]
fn explain_on_the_dev_environment_follows_values_into_modules() {
    let moto = common::moto::Moto::dedicated();
    let w = common::stack(&["dev"], &moto);
    let r = w.run(&["-e", "dev", "apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let env = w.read("environments/dev/main.toml");
    let changed = env.replacen("memory = 256", "memory = 384", 1);
    assert_ne!(changed, env);
    w.write("environments/dev/main.toml", &changed);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk());
    common::moto::block(
        logs.put_retention_policy().log_group_name("/ecs/container/php-hello-dev").retention_in_days(30).send(),
    )
    .expect("retention changed outside");

    let r = w.run(&["-e", "dev", "plan", "-explain"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let why = r.stdout.split("Why these changes:").nth(1).unwrap_or_else(|| panic!("no explanation:\n{}", r.stdout));
    let module = w.read("modules/service/main.toml");
    let definitions = location("../../modules/service/main.toml", &module, "container_definitions");
    let retention = location("../../modules/service/main.toml", &module, "retention_in_days");
    for line in [
        format!(
            "container_definitions: set at {definitions}, from var.service, var.image, var.command, var.cpu, var.memory, var.port, var.environment, aws_cloudwatch_log_group.container.name, data.aws_region.current.name; forces replacement"
        ),
        format!("retention_in_days: changed outside ecspoc; the configuration at {retention} sets it back"),
    ] {
        assert!(why.contains(&line), "missing {line:?} in:\n{why}");
    }
    assert!(why.contains(r#"module.service["php-hello"].aws_ecs_task_definition.app"#), "{why}");
}
