//! State is never lost: kill -9 mid-apply, partial failure, and locking.

mod common;
use common::Workdir;
use std::time::{Duration, Instant};

/// Poll until `cond` holds, failing after `limit`. Polling a condition is the
/// synchronisation; the short pause only keeps the loop from spinning.
fn wait_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn journal_puts(w: &Workdir) -> usize {
    w.read("terraform.tfstate.journal").lines().filter(|l| l.contains("\"op\":\"put\"")).count()
}

const CHAINS: &str = r#"
[resource.time_sleep.wait]
count = 6
create_duration = "${(count.index + 1) * 300}ms"

[resource.local_file.out]
count = 6
filename = "files/${count.index}.txt"
content = "chain ${count.index} after ${time_sleep.wait[count.index].create_duration}"
"#;

#[test]
fn kill_9_in_the_middle_of_an_apply_loses_nothing_and_the_rerun_converges() {
    let w = Workdir::new(&[("main.toml", CHAINS)]);
    let mut child = w.spawn(&["apply", "-auto-approve"]);
    wait_for(Duration::from_secs(60), "three completed operations in the journal", || journal_puts(&w) >= 3);
    child.kill().expect("kill -9");
    let _ = child.wait();
    let done_before_kill = journal_puts(&w);
    assert!(done_before_kill < 12, "the kill came too late to test anything ({done_before_kill} done)");

    // Nothing completed is lost: the next command replays the journal.
    let listed = w.state_list();
    assert_eq!(listed.len(), done_before_kill, "state after replay: {listed:?}");

    let r = w.ok(&["apply", "-auto-approve"]);
    let expected = format!("Apply complete! Resources: {} added, 0 changed, 0 destroyed.", 12 - done_before_kill);
    assert!(r.stdout.contains(&expected), "only the missing objects are created again:\n{}", r.stdout);
    let mut listed = w.state_list();
    assert_eq!(listed.len(), 12);
    listed.dedup();
    assert_eq!(listed.len(), 12, "no duplicates");
    for i in 0..6 {
        assert!(w.file(&format!("files/{i}.txt")).exists());
    }
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0, "converged");
    assert!(!w.file("terraform.tfstate.journal").exists());
}

#[test]
fn a_failure_skips_its_dependents_while_independent_branches_finish() {
    let config = r#"
[resource.terraform_data.ok]
input = "fine"

[resource.terraform_data.ok_too]
input = "${terraform_data.ok.output}-again"

[resource.local_file.bad]
filename = "blocker/out.txt"
content = "cannot be written while blocker is a file"

[resource.terraform_data.after_bad]
input = "${local_file.bad.id}"
"#;
    let w = Workdir::new(&[("main.toml", config), ("blocker", "a file where a folder is needed")]);
    let r = w.run(&["apply", "-auto-approve"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("failed to create local_file.bad"), "the error names the root cause: {}", r.stderr);
    assert!(r.stderr.contains("blocker"), "{}", r.stderr);
    assert!(!r.stderr.contains("after_bad"), "skipped dependents are not reported as errors: {}", r.stderr);
    assert_eq!(w.state_list(), vec!["terraform_data.ok", "terraform_data.ok_too"]);

    std::fs::remove_file(w.file("blocker")).expect("unblock");
    let r = w.ok(&["apply", "-auto-approve"]);
    assert!(r.stdout.contains("Resources: 2 added, 0 changed, 0 destroyed."), "resumes where it stopped: {}", r.stdout);
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0);
}

const SLOW: &str = "[resource.time_sleep.hold]\ncreate_duration = \"3s\"\n";

#[test]
fn a_second_command_fails_at_once_while_the_lock_is_held_and_waits_with_lock_timeout() {
    let w = Workdir::new(&[("main.toml", SLOW)]);
    let mut child = w.spawn(&["apply", "-auto-approve"]);
    wait_for(Duration::from_secs(30), "the lock to be taken", || !w.read(".terraform.tfstate.lock.info").is_empty());
    let started = Instant::now();
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("Error acquiring the state lock"), "{}", r.stderr);
    assert!(r.stderr.contains("Who:") && r.stderr.contains("OperationTypeApply"), "says who holds it: {}", r.stderr);
    assert!(started.elapsed() < Duration::from_secs(3), "fails at once, without -lock-timeout");
    let waited = w.run(&["plan", "-lock-timeout=60s", "-detailed-exitcode"]);
    assert_eq!(waited.code, 0, "waits for the apply, then finds nothing to do: {}", waited.all());
    assert!(child.wait().expect("apply").success());
}

#[test]
fn a_killed_run_leaves_no_stuck_lock() {
    let w = Workdir::new(&[("main.toml", "[resource.time_sleep.hold]\ncreate_duration = \"60s\"\n")]);
    let mut child = w.spawn(&["apply", "-auto-approve"]);
    wait_for(Duration::from_secs(30), "the lock to be taken", || !w.read(".terraform.tfstate.lock.info").is_empty());
    child.kill().expect("kill -9");
    let _ = child.wait();
    let r = w.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 2, "the lock died with its process: {}", r.all());
    let r = w.run(&["force-unlock", "anything"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("operating-system file lock"), "{}", r.stderr);
}
