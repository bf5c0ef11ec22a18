//! bootstrap/: the account's state bucket and lock table, made by ecspoc on
//! the emulator, then used as an environment's S3 backend through
//! scripts/use-s3-backend's output.

mod common;
use common::Workdir;
use common::moto::{Moto, block};

fn copy_bootstrap(w: &Workdir) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    w.write("main.toml", &std::fs::read_to_string(root.join("bootstrap/main.toml")).expect("bootstrap/main.toml"));
}

#[test]
fn bootstrap_makes_a_bucket_and_table_that_hold_an_environments_state() {
    let moto = Moto::shared();
    let boot = Workdir::new(&[]).with_aws(moto);
    copy_bootstrap(&boot);
    let vars =
        ["-var", "bucket=ecspoc-state-bootstrap-test", "-var", "lock_table=bootstrap-locks", "-var", "emulator=true"];
    let apply: Vec<&str> = ["apply", "-auto-approve"].into_iter().chain(vars).collect();
    boot.ok(&apply);
    let plan: Vec<&str> = ["plan", "-detailed-exitcode"].into_iter().chain(vars).collect();
    assert_eq!(boot.run(&plan).code, 0, "bootstrap converges:\n{}", boot.run(&plan).all());

    // The bucket is encrypted and private, as the backend expects.
    let sdk = moto.sdk();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    block(async {
        let enc = s3.get_bucket_encryption().bucket("ecspoc-state-bootstrap-test").send().await.expect("encryption");
        let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
        assert_eq!(rule.apply_server_side_encryption_by_default().unwrap().sse_algorithm().as_str(), "AES256");
        let pab = s3.get_public_access_block().bucket("ecspoc-state-bootstrap-test").send().await.expect("pab");
        assert_eq!(pab.public_access_block_configuration().unwrap().block_public_policy(), Some(true));
    });

    // An environment's backend block from the outputs, as scripts/use-s3-backend writes it.
    let out: serde_json::Value =
        serde_json::from_str(&boot.ok(&["output", "-json", "backend_config"]).stdout).expect("JSON output");
    assert_eq!(out["dynamodb_table"], "bootstrap-locks");
    let mut backend = String::from("[terraform.backend.s3]\nkey = \"environments/test/terraform.tfstate\"\n");
    for (k, v) in out.as_object().unwrap() {
        if !v.is_null() {
            backend.push_str(&format!("{k} = {v}\n"));
        }
    }
    let env = Workdir::new(&[("main.toml", "[resource.terraform_data.x]\ninput = 1\n")]).with_aws(moto);
    env.ok(&["apply", "-auto-approve"]);
    env.write("backend.toml", &backend);
    env.ok(&["init", "-migrate-state", "-force-copy"]);
    env.ok(&["apply", "-auto-approve"]);
    block(async {
        let o = s3
            .get_object()
            .bucket("ecspoc-state-bootstrap-test")
            .key("environments/test/terraform.tfstate")
            .send()
            .await
            .expect("the environment's state is in the bucket");
        let text = o.body.collect().await.unwrap().into_bytes();
        assert!(String::from_utf8_lossy(&text).contains("terraform_data"));
    });
}
