//! The S3 backend against the emulator's S3 and DynamoDB: state round trips
//! byte for byte, both lock kinds keep a second run out, a killed apply is
//! recovered with force-unlock and its journal, state moves between backends
//! without loss, stale pushes are refused, and a backend that goes away
//! mid-apply leaves an errored.tfstate that can be pushed.

mod common;
use common::fault_proxy::FaultProxy;
use common::moto::{Moto, block};
use common::s3_store::{KEY, Locks, store};
use common::{CHAINS, Run, Workdir};
use std::time::{Duration, Instant};

fn wait_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const DATA: &str = r#"
[resource.terraform_data.item]
count = 5
input = { n = "${count.index}", tags = ["a", "b"] }

[output.first]
value = "${terraform_data.item[0].output.n}"
"#;

fn workdir(config: &str, backend: &str) -> Workdir {
    Workdir::new(&[("main.toml", config), ("backend.toml", backend)]).with_aws(Moto::shared())
}

fn lock_id(r: &Run) -> String {
    common::s3_store::lock_id(&r.all())
}

#[test]
fn state_round_trips_byte_for_byte_with_terraforms_digest() {
    let st = store("roundtrip");
    let w = workdir(DATA, &st.backend_block(Locks::Both, &Moto::shared().endpoint));
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 1, "an s3 backend needs init first:\n{}", r.all());
    assert!(r.stderr.contains("Backend initialization required"), "{}", r.stderr);
    w.ok(&["init"]);
    w.ok(&["apply", "-auto-approve"]);
    assert!(!w.file("terraform.tfstate").exists(), "nothing written locally");
    let stored = st.object(KEY).expect("state object");
    let state: serde_json::Value = serde_json::from_slice(&stored).unwrap();
    assert_eq!(state["version"], 4);
    assert_eq!(state["resources"][0]["instances"].as_array().unwrap().len(), 5);

    // Terraform's digest item: LockID <bucket>/<key>-md5, Digest = hex MD5 of the object.
    let digest = st.item(&format!("{}/{KEY}-md5", st.bucket), "Digest").expect("digest item");
    assert_eq!(digest.len(), 32);
    assert!(!st.lock_held(), "the lock is released after apply");
    assert!(st.keys(&format!("{KEY}.journal/")).is_empty(), "the journal is folded into the state");

    // Commands that change nothing leave the object as it was, byte for byte.
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0);
    w.ok(&["apply", "-auto-approve"]);
    w.ok(&["state", "list"]);
    assert_eq!(st.object(KEY).unwrap(), stored, "unchanged state is not rewritten");
    let pulled = w.ok(&["state", "pull"]).stdout;
    assert_eq!(pulled.as_bytes(), &stored[..], "state pull prints the object as stored");
    let out = w.ok(&["output", "first"]).stdout;
    assert_eq!(out.trim(), "0", "a lone interpolation keeps the number");

    // A digest that does not match is refused after Terraform's wait, naming both sums.
    block(async {
        st.db
            .put_item()
            .table_name(&st.table)
            .item("LockID", aws_sdk_dynamodb::types::AttributeValue::S(format!("{}/{KEY}-md5", st.bucket)))
            .item("Digest", aws_sdk_dynamodb::types::AttributeValue::S("0".repeat(32)))
            .send()
            .await
            .unwrap();
    });
    let r = w.run(&["state", "list"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("does not have the expected content") && r.stderr.contains(&digest), "{}", r.stderr);
}

fn concurrent_applies_one_proceeds(locks: Locks, name: &str) {
    let st = store(name);
    let config = r#"
[resource.time_sleep.hold]
create_duration = "3s"

[resource.terraform_data.after]
input = "${time_sleep.hold.id}"
"#;
    let w = workdir(config, &st.backend_block(locks, &Moto::shared().endpoint));
    w.ok(&["init"]);
    let first = w.spawn(&["apply", "-auto-approve"]);
    wait_for(Duration::from_secs(30), "the first apply to take the lock", || st.lock_held());
    let second = w.run(&["apply", "-auto-approve", "-lock-timeout=0s"]);
    let first = Run::from(first.wait_with_output().expect("first apply"));
    assert_eq!(first.code, 0, "{}", first.all());
    assert_eq!(second.code, 1, "the second apply must not run:\n{}", second.all());
    for what in ["Error acquiring the state lock", "Operation: OperationTypeApply", "Who:", "Created:"] {
        assert!(second.stderr.contains(what), "{what} missing:\n{}", second.stderr);
    }
    lock_id(&second);
    assert!(!st.lock_held(), "released after the first apply");
    assert_eq!(st.state()["resources"].as_array().unwrap().len(), 2, "one apply's work, once");
    // Waiting long enough gets the lock.
    let holder = w.spawn(&["apply", "-auto-approve", "-replace=time_sleep.hold"]);
    wait_for(Duration::from_secs(30), "the lock", || st.lock_held());
    let waited = w.run(&["plan", "-lock-timeout=60s"]);
    assert_eq!(Run::from(holder.wait_with_output().unwrap()).code, 0);
    assert_eq!(waited.code, 0, "{}", waited.all());
}

#[test]
fn a_second_apply_on_a_lockfile_locked_state_reports_the_lock() {
    concurrent_applies_one_proceeds(Locks::Lockfile, "lockfile");
}

#[test]
fn a_second_apply_on_a_dynamodb_locked_state_reports_the_lock() {
    concurrent_applies_one_proceeds(Locks::DynamoDb, "dynamodb");
}

#[test]
fn a_killed_apply_is_force_unlocked_and_converges_with_nothing_lost() {
    let st = store("killed");
    let w = workdir(CHAINS, &st.backend_block(Locks::Both, &Moto::shared().endpoint));
    w.ok(&["init"]);
    let mut child = w.spawn(&["apply", "-auto-approve"]);
    wait_for(Duration::from_secs(60), "three completed operations in the S3 journal", || st.journal_puts() >= 3);
    child.kill().expect("kill -9");
    let _ = child.wait();
    let done = st.journal_puts();
    assert!(done < 12, "the kill came too late ({done} done)");

    let locked = w.run(&["plan", "-lock-timeout=0s"]);
    assert_eq!(locked.code, 1, "{}", locked.all());
    let id = lock_id(&locked);
    let wrong = w.run(&["force-unlock", "-force", "not-the-id"]);
    assert_eq!(wrong.code, 1);
    assert!(wrong.stderr.contains("does not match"), "{}", wrong.stderr);
    w.ok(&["force-unlock", "-force", &id]);
    assert!(!st.lock_held());

    // Read-only commands see the journal and leave it alone.
    assert_eq!(w.state_list().len(), done, "every completed operation is in state");
    assert!(!st.keys(&format!("{KEY}.journal/")).is_empty());
    let r = w.ok(&["apply", "-auto-approve"]);
    let expected = format!("Resources: {} added, 0 changed, 0 destroyed.", 12 - done);
    assert!(r.stdout.contains(&expected), "only the rest is created:\n{}", r.stdout);
    assert_eq!(w.state_list().len(), 12);
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0, "converged");
    assert!(st.keys(&format!("{KEY}.journal/")).is_empty(), "journal folded in");
}

#[test]
fn state_migrates_local_to_s3_and_back_without_loss() {
    let st = store("migrate");
    let w = Workdir::new(&[("main.toml", DATA)]).with_aws(Moto::shared());
    w.ok(&["apply", "-auto-approve"]);
    let local = w.state();
    let backend = st.backend_block(Locks::Both, &Moto::shared().endpoint);

    w.write("backend.toml", &backend);
    let r = w.run(&["plan"]);
    assert!(r.stderr.contains("Initial configuration of the requested backend \"s3\""), "{}", r.stderr);
    let r = w.run(&["init"]);
    assert_eq!(r.code, 1, "existing state is not left behind silently:\n{}", r.all());
    assert!(r.stderr.contains("-migrate-state"), "{}", r.stderr);
    w.ok(&["init", "-migrate-state", "-force-copy"]);
    let remote = st.state();
    assert_eq!(remote["resources"], local["resources"], "identical resources in S3");
    assert_eq!(remote["lineage"], local["lineage"]);
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0);

    // A change made on S3, then back to local.
    w.write("main.toml", &format!("{DATA}\n[resource.terraform_data.extra]\ninput = \"x\"\n"));
    w.ok(&["apply", "-auto-approve"]);
    let remote = st.state();
    std::fs::remove_file(w.file("backend.toml")).unwrap();
    let r = w.run(&["plan"]);
    assert!(r.stderr.contains("Unsetting the previously set backend \"s3\""), "{}", r.stderr);
    w.ok(&["init", "-migrate-state", "-force-copy"]);
    let back = w.state();
    assert_eq!(back["resources"], remote["resources"], "identical resources back home");
    assert_eq!(back["serial"], remote["serial"]);
    assert!(!w.file(".terraform/terraform.tfstate").exists());
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn backend_config_comes_from_init_flags_and_files() {
    let st = store("partial");
    let endpoint = &Moto::shared().endpoint;
    let w = workdir(DATA, "[terraform.backend.s3]\nkey = \"envs/test/terraform.tfstate\"\nuse_lockfile = true\n");
    w.write(
        "dev.s3.tfbackend",
        &format!("bucket = \"{}\"\nregion = \"us-east-1\"\nendpoints = {{\n  s3 = \"{endpoint}\"\n}}\n", st.bucket),
    );
    let r = w.run(&["init"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("bucket: is required") && r.stderr.contains("on backend.toml line 1"), "{}", r.stderr);
    w.ok(&["init", "-backend-config=dev.s3.tfbackend", "-backend-config=encrypt=true"]);
    w.ok(&["apply", "-auto-approve"]);
    assert_eq!(st.state()["resources"].as_array().unwrap().len(), 1);
    let record = w.read(".terraform/terraform.tfstate");
    assert!(record.contains(&st.bucket) && record.contains("\"encrypt\": \"true\""), "{record}");
    // A changed block needs init again.
    w.write("backend.toml", "[terraform.backend.s3]\nkey = \"other.tfstate\"\nuse_lockfile = true\n");
    let r = w.run(&["plan"]);
    assert!(r.stderr.contains("Backend configuration block has changed"), "{}", r.stderr);
}

#[test]
fn a_push_with_a_stale_serial_or_another_lineage_is_refused() {
    let st = store("push");
    let w = workdir(DATA, &st.backend_block(Locks::Lockfile, &Moto::shared().endpoint));
    w.ok(&["init"]);
    w.ok(&["apply", "-auto-approve"]);
    w.write("old.tfstate", &w.ok(&["state", "pull"]).stdout);
    w.write("main.toml", &format!("{DATA}\n[resource.terraform_data.extra]\ninput = \"x\"\n"));
    w.ok(&["apply", "-auto-approve"]);
    let before = st.object(KEY).unwrap();

    let r = w.run(&["state", "push", "old.tfstate"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("lower serial"), "{}", r.stderr);
    let mut other: serde_json::Value = serde_json::from_str(&w.read("old.tfstate")).unwrap();
    other["lineage"] = "00000000-0000-0000-0000-000000000000".into();
    other["serial"] = 99.into();
    w.write("other.tfstate", &other.to_string());
    let r = w.run(&["state", "push", "other.tfstate"]);
    assert!(r.stderr.contains("lineage"), "{}", r.stderr);
    assert_eq!(st.object(KEY).unwrap(), before, "refused pushes change nothing");

    w.ok(&["state", "push", "-force", "old.tfstate"]);
    assert_eq!(st.state()["resources"].as_array().unwrap().len(), 1, "-force overwrites");
}

#[test]
fn a_backend_lost_mid_apply_leaves_an_errored_state_that_can_be_pushed() {
    let st = store("errored");
    let moto = Moto::shared();
    let proxy = FaultProxy::start(&moto.endpoint, 0.0, 11);
    let w = workdir(CHAINS, &st.backend_block(Locks::Lockfile, &proxy.endpoint()));
    w.ok(&["init"]);
    let child = w.spawn(&["apply", "-auto-approve"]);
    wait_for(Duration::from_secs(60), "two completed operations in the S3 journal", || st.journal_puts() >= 2);
    proxy.set_rate(1.0);
    let r = Run::from(child.wait_with_output().expect("apply"));
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Failed to save state") && r.stderr.contains("ecspoc state push errored.tfstate"),
        "{}",
        r.stderr
    );
    let errored: serde_json::Value = serde_json::from_str(&w.read("errored.tfstate")).expect("errored.tfstate");
    let kept: usize =
        errored["resources"].as_array().unwrap().iter().map(|r| r["instances"].as_array().unwrap().len()).sum();
    let files = (0..6).filter(|i| w.file(&format!("files/{i}.txt")).exists()).count();
    assert!(kept >= st.journal_puts() && kept >= files, "errored.tfstate holds everything done ({kept})");

    proxy.set_rate(0.0);
    // The lock could not be released either: force-unlock it, then push.
    let locked = w.run(&["state", "push", "errored.tfstate"]);
    if locked.code != 0 {
        assert!(locked.stderr.contains("Error acquiring the state lock"), "{}", locked.stderr);
        w.ok(&["force-unlock", "-force", &lock_id(&locked)]);
        w.ok(&["state", "push", "errored.tfstate"]);
    }
    assert_eq!(w.state_list().len(), kept);
    let r = w.ok(&["apply", "-auto-approve"]);
    let expected = format!("Resources: {} added, 0 changed, 0 destroyed.", 12 - kept);
    assert!(r.stdout.contains(&expected), "nothing done twice:\n{}", r.stdout);
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn sigterm_mid_apply_records_the_work_and_releases_the_lock() {
    let st = store("sigterm");
    let w = workdir(CHAINS, &st.backend_block(Locks::Both, &Moto::shared().endpoint));
    w.ok(&["init"]);
    let child = w.spawn(&["apply", "-auto-approve"]);
    wait_for(Duration::from_secs(60), "a completed operation in the S3 journal", || st.journal_puts() >= 1);
    let term = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(term.success());
    let r = Run::from(child.wait_with_output().expect("apply"));
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("Interrupt received") || r.all().contains("interrupted"), "{}", r.all());
    assert!(!st.lock_held(), "the lock is released on SIGTERM");
    assert!(st.keys(&format!("{KEY}.journal/")).is_empty(), "the journal is folded into the state");
    let recorded = w.state_list().len();
    assert!((1..12).contains(&recorded), "{recorded} recorded");
    let r = w.ok(&["apply", "-auto-approve"]);
    assert!(r.stdout.contains(&format!("{} added", 12 - recorded)), "{}", r.stdout);
}

/// The `-json` log's count of state backend requests, by operation.
fn backend_requests(r: &Run) -> serde_json::Value {
    r.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|m| m["provider"] == "backend")
        .map(|m| m["api_calls"].clone())
        .unwrap_or_default()
}

/// 1,000 terraform_data (10 hubs, 99 chains of 10) applied with the local
/// backend and with the S3 backend on the emulator, alternating, BENCH_RUNS
/// times; wall time and the backend's requests (run by scripts/bench;
/// figures in BENCHMARKS.md).
#[test]
#[ignore = "a measurement: scripts/bench runs it"]
fn bench_1000_terraform_data_on_s3_against_local() {
    let mut config = String::new();
    for h in 0..10 {
        config.push_str(&format!("[resource.terraform_data.hub_{h}]\ninput = \"hub-{h}\"\n"));
    }
    for c in 0..99 {
        for k in 0..10 {
            let up = if k == 0 {
                format!("terraform_data.hub_{}.id", c % 10)
            } else {
                format!("terraform_data.c{c}_{}.id", k - 1)
            };
            config.push_str(&format!("[resource.terraform_data.c{c}_{k}]\ninput = \"${{{up}}}\"\n"));
        }
    }
    let st = store("bench");
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    println!(
        "| run | local apply (s) | S3 apply (s) | S3/local | S3 requests | of which PutObject | state object (KiB) | Terraform 1.11, S3 backend (s) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for run in 0..runs {
        let local = Workdir::new(&[("main.toml", &config)]);
        let started = Instant::now();
        local.ok(&["apply", "-auto-approve", "-json", "-parallelism=10"]);
        let local_s = started.elapsed().as_secs_f64();

        let key = format!("bench/{run}/terraform.tfstate");
        let block = st.backend_block(Locks::Both, &Moto::shared().endpoint).replace(KEY, &key);
        let s3 = workdir(&config, &block);
        s3.ok(&["init"]);
        let started = Instant::now();
        let r = s3.ok(&["apply", "-auto-approve", "-json", "-parallelism=10"]);
        let s3_s = started.elapsed().as_secs_f64();
        let requests = backend_requests(&r);
        let total: u64 = requests.as_object().map(|m| m.values().filter_map(|v| v.as_u64()).sum()).unwrap_or(0);
        let size = st.object(&key).map(|b| b.len()).unwrap_or(0) as f64 / 1024.0;

        // Terraform's own S3 backend on the same configuration (it saves state at the end only).
        let tf_key = format!("bench/{run}/terraform-by-terraform.tfstate");
        let tf_block = st.backend_block(Locks::Both, &Moto::shared().endpoint).replace(KEY, &tf_key)
            + "skip_credentials_validation = true\nskip_requesting_account_id = true\nuse_path_style = true\naccess_key = \"test\"\nsecret_key = \"test\"\n";
        let src = Workdir::new(&[("main.toml", &config), ("backend.toml", &tf_block)]);
        let tf = Workdir::new(&[]);
        common::terraform::convert_tree(src.path(), tf.path());
        common::terraform::terraform_ok(tf.path(), &["init", "-input=false", "-no-color"]);
        let started = Instant::now();
        common::terraform::terraform_ok(
            tf.path(),
            &["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"],
        );
        let tf_s = started.elapsed().as_secs_f64();
        println!(
            "| {} | {local_s:.2} | {s3_s:.2} | {:.2} | {total} | {} | {size:.0} | {tf_s:.2} |",
            run + 1,
            s3_s / local_s,
            requests["S3.PutObject"]
        );
        eprintln!("run {}: backend requests by operation: {requests}", run + 1);
    }
}

#[test]
fn the_backend_assumes_a_role_and_push_reads_standard_input() {
    let st = store("assume");
    let block = st.backend_block(Locks::Lockfile, &Moto::shared().endpoint)
        + "assume_role = { role_arn = \"arn:aws:iam::123456789012:role/ecspoc-state\", session_name = \"ci\" }\n";
    let w = workdir(DATA, &block);
    w.ok(&["init"]);
    w.ok(&["apply", "-auto-approve"]);
    // STS answered (through the request-rules proxy) and the state was written with its credentials.
    let assumed = Moto::shared().requests().iter().any(|r| r.operation == "AssumeRole");
    assert!(assumed, "no AssumeRole request reached the emulator");
    assert_eq!(st.state()["resources"].as_array().unwrap().len(), 1);

    // `state push -` takes the state from standard input.
    let mut state = st.state();
    state["serial"] = (state["serial"].as_u64().unwrap() + 1).into();
    state["outputs"]["pushed"] = serde_json::json!({"value": "yes", "type": "string"});
    let mut child = w
        .command(&["state", "push", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), state.to_string().as_bytes()).unwrap();
    let r = Run::from(child.wait_with_output().unwrap());
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(st.state()["outputs"]["pushed"]["value"], "yes");
}
