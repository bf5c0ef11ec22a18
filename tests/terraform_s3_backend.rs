//! The S3 backend both ways with Terraform 1.11's own S3 backend, on the
//! emulator: Terraform reads the state object and digest ecspoc wrote and
//! plans no change; ecspoc reads what Terraform wrote; Terraform sees
//! ecspoc's lock (object and item) and releases it with its force-unlock.

mod common;
use common::moto::Moto;
use common::s3_store::{KEY, Locks, Store, store};
use common::terraform::{convert_tree, terraform, terraform_ok};
use common::{Run, Workdir};
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
[resource.terraform_data.cluster]
input = { name = "ecs-dev", subnets = ["10.0.1.0/24", "10.0.2.0/24"], size = 2 }

[resource.terraform_data.service]
for_each = { web = 2, api = 1 }
input = "${each.key}:${each.value}"

[output.cluster]
value = "${terraform_data.cluster.output}"
"#;

/// The backend block both tools read; Terraform's backend also needs to be
/// told not to ask STS and IAM who it is, and to use path-style URLs.
fn backend(st: &Store, locks: Locks, key: &str) -> String {
    st.backend_block(locks, &Moto::shared().endpoint).replace(KEY, key)
        + "skip_credentials_validation = true\nskip_requesting_account_id = true\nskip_metadata_api_check = true\n\
           use_path_style = true\naccess_key = \"test\"\nsecret_key = \"test\"\n"
}

/// The same configuration in Terraform's JSON syntax, in a folder of its own
/// (each tool keeps its own `.terraform/`).
fn terraform_copy(config: &str, backend: &str) -> Workdir {
    let src = Workdir::new(&[("main.toml", config), ("backend.toml", backend)]);
    let tf = Workdir::new(&[]);
    convert_tree(src.path(), tf.path());
    terraform_ok(tf.path(), &["init", "-input=false", "-no-color"]);
    tf
}

fn ecspoc(config: &str, backend: &str) -> Workdir {
    let w = Workdir::new(&[("main.toml", config), ("backend.toml", backend)]).with_aws(Moto::shared());
    w.ok(&["init"]);
    w
}

fn plan_code(tf: &Workdir) -> (Option<i32>, String) {
    let out = terraform(tf.path(), &["plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock-timeout=5s"]);
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn terraforms_s3_backend_reads_what_ecspoc_wrote_and_the_other_way_round() {
    let st = store("tf-both-ways");
    let backend = backend(&st, Locks::Both, KEY);
    let w = ecspoc(CONFIG, &backend);
    w.ok(&["apply", "-auto-approve"]);

    // Terraform: state object, DynamoDB digest and lock all read as its own.
    let tf = terraform_copy(CONFIG, &backend);
    let (code, text) = plan_code(&tf);
    assert_eq!(code, Some(0), "Terraform wants changes on ecspoc's S3 state:\n{text}");

    // Terraform changes it (new serial, new digest); ecspoc reads that.
    let changed = CONFIG.replace("size = 2", "size = 3");
    let tf = terraform_copy(&changed, &backend);
    terraform_ok(tf.path(), &["apply", "-auto-approve", "-input=false", "-no-color"]);
    let serial_by_terraform = st.state()["serial"].as_u64().unwrap();
    w.write("main.toml", &changed);
    let r = w.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "ecspoc wants changes on Terraform's S3 state:\n{}", r.all());
    let cluster = w.ok(&["output", "-json", "cluster"]).stdout;
    assert!(cluster.contains("\"size\":3"), "{cluster}");

    // And ecspoc writes after Terraform; Terraform agrees again.
    let again = changed.replace("ecs-dev", "ecs-dev-2");
    w.write("main.toml", &again);
    w.ok(&["apply", "-auto-approve"]);
    assert!(st.state()["serial"].as_u64().unwrap() > serial_by_terraform);
    let tf = terraform_copy(&again, &backend);
    let (code, text) = plan_code(&tf);
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn terraform_sees_ecspocs_lock_and_releases_it_with_force_unlock() {
    let st = store("tf-locks");
    let key = "locks/terraform.tfstate";
    let backend = backend(&st, Locks::Both, key);
    let slow = "[resource.time_sleep.hold]\ncreate_duration = \"60s\"\n";
    let w = ecspoc(slow, &backend);
    let mut child = w.spawn(&["apply", "-auto-approve"]);
    let start = Instant::now();
    while !(st.object(&format!("{key}.tflock")).is_some() && st.item(&format!("{}/{key}", st.bucket), "Info").is_some())
    {
        assert!(start.elapsed() < Duration::from_secs(30), "ecspoc never took both locks");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill -9");
    let _ = child.wait();

    let tf = terraform_copy("[resource.terraform_data.x]\ninput = 1\n", &backend);
    let out = terraform(tf.path(), &["plan", "-input=false", "-no-color", "-lock-timeout=1s"]);
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "Terraform must see ecspoc's lock:\n{text}");
    assert!(text.contains("Error acquiring the state lock"), "{text}");
    let ecspoc_sees = Run::from(w.command(&["plan", "-lock-timeout=0s"]).output().unwrap());
    let id = common::s3_store::lock_id(&ecspoc_sees.stderr);
    assert!(text.contains(&id), "Terraform shows ecspoc's lock ID {id}:\n{text}");
    assert!(text.contains("OperationTypeApply"), "{text}");
    assert!(text.contains(&format!("{}/{key}", st.bucket)), "the lock's Path is bucket/key, as Terraform's:\n{text}");
    terraform_ok(tf.path(), &["force-unlock", "-force", &id]);
    assert!(st.object(&format!("{key}.tflock")).is_none(), "Terraform removed ecspoc's lock object");
    assert!(st.item(&format!("{}/{key}", st.bucket), "Info").is_none(), "and its lock item");
}
