//! State is never lost: kill -9 mid-apply, partial failure, and locking.

mod common;
use common::{CHAINS, Workdir};
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
    assert!(
        !r.stderr.contains("failed to create terraform_data.after_bad"),
        "a skipped dependent did not fail: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("Changes not applied") && r.stderr.contains("terraform_data.after_bad"),
        "but it is named as not applied: {}",
        r.stderr
    );
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

fn signal(child: &std::process::Child, name: &str) {
    let status = std::process::Command::new("kill").arg(format!("-{name}")).arg(child.id().to_string()).status();
    assert!(status.is_ok_and(|s| s.success()), "kill -{name}");
}

/// Files local_file wrote: every one of them must be in state.
fn files_on_disk(w: &Workdir) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(w.file("files"))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn files_in_state(listed: &[String]) -> Vec<String> {
    let mut out: Vec<String> = listed
        .iter()
        .filter_map(|a| a.strip_prefix("local_file.out[")?.strip_suffix(']').map(|i| format!("{i}.txt")))
        .collect();
    out.sort();
    out
}

#[test]
fn reads_beside_a_running_apply_leave_its_journal_alone_and_kill_9_still_loses_nothing() {
    let w = Workdir::new(&[("main.toml", CHAINS)]);
    let mut child = w.spawn(&["apply", "-auto-approve"]);
    wait_for(Duration::from_secs(60), "two completed operations", || journal_puts(&w) >= 2);
    // Every command that reads without the lock, while the apply runs.
    for args in [
        &["show"][..],
        &["show", "-json"],
        &["output"],
        &["state", "list"],
        &["state", "pull"],
        &["plan", "-lock=false"],
    ] {
        let before = journal_puts(&w);
        let r = w.run(args);
        assert!(r.code == 0 || r.code == 2, "{args:?}: {}", r.all());
        assert!(journal_puts(&w) >= before, "{args:?} took records out of the running apply's journal");
    }
    let puts = journal_puts(&w);
    wait_for(Duration::from_secs(60), "the apply to go on journaling", || journal_puts(&w) > puts);
    child.kill().expect("kill -9");
    let _ = child.wait();
    let done = journal_puts(&w);
    let listed = w.state_list();
    assert_eq!(listed.len(), done, "every journaled object is in state: {listed:?}");
    assert_eq!(files_in_state(&listed), files_on_disk(&w), "every file on disk is recorded");
    let r = w.ok(&["apply", "-auto-approve"]);
    assert!(r.stdout.contains(&format!("{} added", 12 - done)), "{}", r.stdout);
    assert_eq!(w.state_list().len(), 12);
}

#[test]
fn a_lock_false_write_beside_a_running_apply_is_refused_and_changes_nothing() {
    let w = Workdir::new(&[("main.toml", SLOW), ("other.toml", "[resource.terraform_data.x]\ninput = 1\n")]);
    let mut child = w.spawn(&["apply", "-auto-approve"]);
    wait_for(Duration::from_secs(30), "the apply's first record", || journal_puts(&w) >= 1);
    let journal = w.read("terraform.tfstate.journal");
    for args in [&["apply", "-auto-approve", "-lock=false"][..], &["state", "rm", "-lock=false", "terraform_data.x"]] {
        let r = w.run(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        assert!(r.stderr.contains("-lock=false"), "{args:?} says why: {}", r.stderr);
        assert!(w.read("terraform.tfstate.journal").starts_with(&journal), "{args:?} touched the journal");
    }
    assert!(child.wait().expect("apply").success());
    assert_eq!(w.state_list(), vec!["terraform_data.x", "time_sleep.hold"]);
}

fn interrupt_mid_apply(sig: &str) {
    let w = Workdir::new(&[("main.toml", CHAINS)]);
    let child = w.spawn(&["apply", "-auto-approve"]);
    wait_for(Duration::from_secs(60), "a completed operation", || journal_puts(&w) >= 1);
    signal(&child, sig);
    let out = child.wait_with_output().expect("apply");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Interrupt received") && stderr.contains("Apply interrupted"), "{stderr}");
    // Operations in flight finished and were recorded; the lock is free at once.
    let listed = w.state_list();
    assert!(listed.len() < 12, "the interrupt came too late to test anything");
    assert_eq!(files_in_state(&listed), files_on_disk(&w), "every file written is recorded");
    assert!(!w.read("terraform.tfstate.journal").contains("\"op\":\"intent\""), "no create was left half-done");
    let r = w.ok(&["apply", "-auto-approve"]);
    assert!(r.stdout.contains(&format!("{} added", 12 - listed.len())), "{}", r.stdout);
    assert_eq!(w.run(&["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn ctrl_c_mid_apply_finishes_what_runs_records_it_and_releases_the_lock() {
    interrupt_mid_apply("INT");
}

#[test]
fn sigterm_mid_apply_is_handled_like_ctrl_c() {
    interrupt_mid_apply("TERM");
}

#[test]
fn a_second_ctrl_c_cancels_what_is_in_flight() {
    let w = Workdir::new(&[("main.toml", "[resource.time_sleep.hold]\ncreate_duration = \"120s\"\n")]);
    let mut child = w.spawn(&["apply", "-auto-approve"]);
    // The journal opens as the apply walk starts (time_sleep leaves nothing to
    // find by marker, so no intent precedes its create).
    wait_for(Duration::from_secs(30), "the apply to start", || w.read("terraform.tfstate.journal").contains("begin"));
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "INT");
    // The first interrupt lets the two-minute create go on...
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().expect("wait").is_none(), "the first interrupt must not end the apply");
    signal(&child, "INT");
    // ...the second ends it long before the create would finish.
    wait_for(Duration::from_secs(60), "the apply to exit", || child.try_wait().expect("wait").is_some());
    let out = child.wait_with_output().expect("apply");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cancelled by a second interrupt"), "{stderr}");
    assert!(w.state_list().is_empty(), "the cancelled create is not recorded");
}

#[test]
fn ctrl_c_while_waiting_for_the_lock_stops_waiting() {
    let w = Workdir::new(&[("main.toml", "[resource.time_sleep.hold]\ncreate_duration = \"120s\"\n")]);
    let mut holder = w.spawn(&["apply", "-auto-approve"]);
    wait_for(Duration::from_secs(30), "the lock to be taken", || !w.read(".terraform.tfstate.lock.info").is_empty());
    let mut waiter = w.spawn(&["plan", "-lock-timeout=300s"]);
    std::thread::sleep(Duration::from_millis(300));
    signal(&waiter, "INT");
    wait_for(Duration::from_secs(60), "the waiting plan to exit", || waiter.try_wait().expect("wait").is_some());
    let out = waiter.wait_with_output().expect("plan");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Interrupted while waiting for the state lock"), "{stderr}");
    holder.kill().expect("kill");
    let _ = holder.wait();
}

#[test]
fn an_emptied_state_file_is_refused_while_its_backup_holds_objects() {
    let w = Workdir::new(&[(
        "main.toml",
        "[resource.terraform_data.a]\ninput = 1\n[resource.terraform_data.b]\ninput = 2\n",
    )]);
    w.ok(&["apply", "-auto-approve"]);
    w.write("main.toml", "[resource.terraform_data.a]\ninput = 1\n[resource.terraform_data.b]\ninput = 3\n");
    w.ok(&["apply", "-auto-approve"]);
    let backup = w.read("terraform.tfstate.backup");
    assert!(backup.contains("terraform_data"));
    std::fs::write(w.file("terraform.tfstate"), "").expect("truncate");
    for args in [&["plan"][..], &["apply", "-auto-approve"], &["state", "list"]] {
        let r = w.run(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        assert!(r.stderr.contains("empty") && r.stderr.contains("terraform.tfstate.backup"), "{}", r.stderr);
    }
    assert_eq!(w.read("terraform.tfstate.backup"), backup, "the backup is untouched");
    assert!(w.read("terraform.tfstate").is_empty(), "and so is the state");
    // Truncated mid-file: the same refusal, with the way back.
    let whole = backup.clone();
    std::fs::write(w.file("terraform.tfstate"), &whole[..whole.len() / 2]).expect("truncate");
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("cp terraform.tfstate.backup terraform.tfstate"), "{}", r.stderr);
    std::fs::write(w.file("terraform.tfstate"), &whole).expect("restore");
    assert_eq!(w.state_list().len(), 2);
}

#[cfg(unix)]
#[test]
fn state_backup_journal_lock_and_plan_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let w = Workdir::new(&[("main.toml", "[resource.time_sleep.hold]\ncreate_duration = \"2s\"\n")]);
    let mut child = w.spawn(&["apply", "-auto-approve"]);
    wait_for(Duration::from_secs(30), "the journal", || w.file("terraform.tfstate.journal").exists());
    let mode = |name: &str| std::fs::metadata(w.file(name)).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    assert_eq!(mode("terraform.tfstate.journal"), 0o600);
    assert_eq!(mode(".terraform.tfstate.lock.info"), 0o600);
    assert!(child.wait().expect("apply").success());
    w.write("main.toml", "[resource.time_sleep.hold]\ncreate_duration = \"1ms\"\n");
    w.ok(&["apply", "-auto-approve"]);
    w.ok(&["plan", "-destroy", "-out=tfplan"]);
    for f in ["terraform.tfstate", "terraform.tfstate.backup", "tfplan"] {
        assert_eq!(mode(f), 0o600, "{f}");
    }
}
