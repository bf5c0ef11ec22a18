//! scripts/aws-smoke deploys to a real account, so here it is only shown to
//! refuse, before building or calling anything, where it must not run.

use std::process::Command;

fn smoke(env: &[(&str, &str)]) -> (i32, String) {
    let home = tempfile::tempdir().expect("tempdir");
    let mut c = Command::new("bash");
    c.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/aws-smoke")).env("HOME", home.path());
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ENDPOINT_URL",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("bash");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn aws_smoke_refuses_without_credentials_and_against_the_emulator() {
    let (code, err) = smoke(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no AWS credentials are configured"), "{err}");
    let (code, err) = smoke(&[("AWS_ACCESS_KEY_ID", "test"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unset it to test against AWS itself"), "{err}");
}
