//! AWS state both ways with Terraform 1.11 and its AWS provider 5.100.0, on
//! the dev environment against the emulator: what one tool applied, the
//! other plans without changes, but for the emulator's own differences,
//! each named below with the reason. Terraform's provider crashes on the
//! emulator's answer for an ECS service (a nil network configuration), so
//! both tools work on the network, bastion, cluster and events modules.

mod common;
use common::moto::Moto;
use common::terraform::{convert_tree, terraform_with};
use common::{Run, Workdir};
use std::collections::BTreeSet;
use std::path::Path;

const TARGETS: [&str; 4] =
    ["-target=module.network", "-target=module.bastion", "-target=module.cluster", "-target=module.events"];

/// modules/ and environments/dev, as ecspoc reads them.
fn ecspoc_dev(moto: &Moto) -> Workdir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in std::fs::read_dir(root.join("modules")).expect("modules").flatten() {
        let name = dir.file_name().to_string_lossy().to_string();
        files.push((
            format!("modules/{name}/main.toml"),
            std::fs::read_to_string(dir.path().join("main.toml")).unwrap(),
        ));
    }
    files.push((
        "environments/dev/main.toml".into(),
        std::fs::read_to_string(root.join("environments/dev/main.toml")).unwrap(),
    ));
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let mut w = Workdir::new(&refs).with_aws(moto);
    w.env.push(("TF_VAR_emulator".into(), "true".into()));
    w
}

/// The same as `.tf.json`, the provider told what an emulator needs, and to
/// ignore ecspoc's marker tags (what a team moving to Terraform writes).
fn terraform_dev(from: &Workdir) -> Workdir {
    let tf = Workdir::new(&[]);
    convert_tree(&from.path().join("modules"), &tf.path().join("modules"));
    convert_tree(&from.path().join("environments"), &tf.path().join("environments"));
    let main = tf.file("environments/dev/main.tf.json");
    let mut j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&main).unwrap()).unwrap();
    let aws = &mut j["provider"]["aws"];
    for k in
        ["skip_credentials_validation", "skip_requesting_account_id", "skip_metadata_api_check", "s3_use_path_style"]
    {
        aws[k] = true.into();
    }
    aws["ignore_tags"] = serde_json::json!({ "key_prefixes": ["ecspoc:"] });
    std::fs::write(&main, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    tf
}

fn tf_env(moto: &Moto) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = moto.env().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    env.push(("TF_VAR_emulator".into(), "true".into()));
    env
}

fn terraform(tf: &Workdir, moto: &Moto, args: &[&str]) -> (Option<i32>, String) {
    let out = terraform_with(&tf.file("environments/dev"), args, &tf_env(moto));
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// `# ADDR will be ...` and `# ADDR has changed` lines of a plan, by resource (keys dropped).
fn planned(text: &str, what: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("# "))
        .filter(|l| l.contains(what))
        .map(|l| l.split(' ').next().unwrap_or("").split('[').next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn ecspoc_plans_no_change_on_the_aws_state_terraform_wrote() {
    let moto = Moto::dedicated();
    let w = ecspoc_dev(&moto);
    let tf = terraform_dev(&w);
    let (code, text) = terraform(&tf, &moto, &["init", "-input=false", "-no-color"]);
    assert_eq!(code, Some(0), "{text}");
    let apply: Vec<&str> = ["apply", "-auto-approve", "-input=false", "-no-color"].into_iter().chain(TARGETS).collect();
    let (code, text) = terraform(&tf, &moto, &apply);
    assert_eq!(code, Some(0), "terraform apply:\n{text}");
    w.write("environments/dev/terraform.tfstate", &tf.read("environments/dev/terraform.tfstate"));

    let plan: Vec<&str> = ["-e", "dev", "plan"].into_iter().chain(TARGETS).collect();
    let r: Run = w.run(&plan);
    assert_eq!(r.code, 0, "ecspoc cannot plan on Terraform's state:\n{}", r.all());
    // The emulator stores instance_warmup_period 0 when none is sent; AWS
    // applies its default, 300, which ecspoc plans.
    let emulator_only = BTreeSet::from(["module.cluster.aws_ecs_capacity_provider.hosts".to_string()]);
    let changes = planned(&r.stdout, " will be ");
    assert!(
        changes.is_subset(&emulator_only),
        "false changes on Terraform's state: {:?}\n{}",
        changes.difference(&emulator_only).collect::<Vec<_>>(),
        r.stdout
    );
    // Drift is noted only where it matters to a planned change.
    let drift = planned(&r.stdout, " has changed");
    let related = BTreeSet::from([
        "module.cluster.aws_ecs_capacity_provider.hosts".to_string(),
        "module.cluster.aws_autoscaling_group.hosts".to_string(),
    ]);
    assert!(drift.is_subset(&related), "false drift notes: {:?}", drift.difference(&related).collect::<Vec<_>>());
}

#[test]
fn terraform_plans_no_change_on_the_aws_state_ecspoc_wrote() {
    let moto = Moto::dedicated();
    let w = ecspoc_dev(&moto);
    let apply: Vec<&str> = ["-e", "dev", "apply", "-auto-approve"].into_iter().chain(TARGETS).collect();
    w.ok(&apply);
    let tf = terraform_dev(&w);
    tf.write("environments/dev/terraform.tfstate", &w.read("environments/dev/terraform.tfstate"));
    let (code, text) = terraform(&tf, &moto, &["init", "-input=false", "-no-color"]);
    assert_eq!(code, Some(0), "{text}");
    let plan: Vec<&str> = ["plan", "-input=false", "-no-color", "-lock=false"].into_iter().chain(TARGETS).collect();
    let (code, text) = terraform(&tf, &moto, &plan);
    // Before: the provider crashed upgrading schema version 0 states, refused
    // attributes it does not have, and planned 44 updates for marker tags.
    assert_eq!(code, Some(0), "Terraform cannot plan on ecspoc's state:\n{text}");
    let emulator_only = BTreeSet::from([
        // The emulator files the template's own tags under its launch data;
        // Terraform plans the same on the state it wrote itself.
        "module.cluster.aws_launch_template.hosts".to_string(),
        // The emulator's DescribeLoadBalancerAttributes leaves out attributes
        // Terraform's provider defaults (client_keep_alive, desync_mitigation_mode...).
        "module.cluster.aws_lb.main".to_string(),
    ]);
    let changes = planned(&text, " will be ");
    assert!(
        changes.is_subset(&emulator_only),
        "false changes on ecspoc's state: {:?}\n{text}",
        changes.difference(&emulator_only).collect::<Vec<_>>()
    );
}
