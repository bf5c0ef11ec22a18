//! Every module documents itself: each variable has a type and a
//! description, each output a description, and the module's README.md (made
//! by scripts/module-docs) has a row for each.

use std::path::Path;

#[test]
fn every_module_input_and_output_is_typed_described_and_in_its_readme() {
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("modules");
    let mut seen = 0;
    for dir in std::fs::read_dir(&modules).expect("modules").flatten() {
        let name = dir.file_name().to_string_lossy().to_string();
        let source = std::fs::read_to_string(dir.path().join("main.toml")).expect("main.toml");
        let doc: toml::Table = source.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
        let readme = std::fs::read_to_string(dir.path().join("README.md"))
            .unwrap_or_else(|_| panic!("modules/{name} has no README.md: run scripts/module-docs"));
        let section = |k: &str| doc.get(k).and_then(|v| v.as_table()).cloned().unwrap_or_default();
        for (var, spec) in section("variable") {
            assert!(spec.get("type").is_some(), "modules/{name}: variable {var} has no type");
            assert!(spec.get("description").is_some(), "modules/{name}: variable {var} has no description");
            assert!(
                readme.contains(&format!("| `{var}` |")),
                "modules/{name}/README.md lacks input {var}: run scripts/module-docs"
            );
        }
        for (out, spec) in section("output") {
            assert!(spec.get("description").is_some(), "modules/{name}: output {out} has no description");
            assert!(
                readme.contains(&format!("| `{out}` |")),
                "modules/{name}/README.md lacks output {out}: run scripts/module-docs"
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 6, "network, bastion, cluster, events, service, pipeline");
}
