//! The stack is valid Terraform: every module and environment, written
//! mechanically as Terraform's JSON syntax, passes `terraform validate` with
//! the real AWS provider (5.100.0, from this machine's mirror). Terraform
//! applies the AWS provider's own validators there (names, enums, patterns,
//! required arguments), the rules AWS enforces that the models do not carry.

mod common;
use common::terraform::{convert_tree, terraform};
use std::path::Path;

#[test]
fn every_environment_passes_terraform_validate_with_the_real_aws_provider() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().expect("tempdir");
    convert_tree(&repo.join("modules"), &out.path().join("modules"));
    convert_tree(&repo.join("environments"), &out.path().join("environments"));
    let mut failures = Vec::new();
    for env in ["dev", "staging", "prod"] {
        let dir = out.path().join("environments").join(env);
        let init = terraform(&dir, &["init", "-input=false", "-no-color", "-backend=false"]);
        assert!(init.status.success(), "terraform init in {env}: {}", String::from_utf8_lossy(&init.stderr));
        let validate = terraform(&dir, &["validate", "-json", "-no-color"]);
        let report: serde_json::Value = serde_json::from_slice(&validate.stdout).expect("validate -json");
        for d in report["diagnostics"].as_array().into_iter().flatten() {
            failures.push(format!(
                "{env}: {}: {} ({}:{})\n  {}",
                d["severity"].as_str().unwrap_or(""),
                d["summary"].as_str().unwrap_or(""),
                d["range"]["filename"].as_str().unwrap_or(""),
                d["range"]["start"]["line"],
                d["detail"].as_str().unwrap_or("").replace('\n', " "),
            ));
        }
        if report["valid"] != serde_json::Value::Bool(true) && failures.is_empty() {
            failures.push(format!("{env}: not valid: {report}"));
        }
    }
    assert!(failures.is_empty(), "terraform validate:\n{}", failures.join("\n"));
}
