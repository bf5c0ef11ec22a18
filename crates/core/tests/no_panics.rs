//! Property tests: no input makes the loader or evaluator panic, and state
//! survives a round trip through Terraform's file format.

use ecspoc_core::addr::{InstanceKey, Mode, ModulePath, ModuleStep, ResourceAddr};
use ecspoc_core::config::Config;
use ecspoc_core::config::expr::parse_template;
use ecspoc_core::eval::{EmptyScope, eval};
use ecspoc_core::source::Span;
use ecspoc_core::state::{Instance, OutputValue, State};
use ecspoc_core::value::Value;
use proptest::prelude::*;

fn template_text() -> impl Strategy<Value = String> {
    // Pieces that exercise the expression syntax and the functions, glued at random.
    let piece = prop_oneof![
        Just("${".to_string()),
        Just("}".to_string()),
        Just("%{ if true }".to_string()),
        Just("%{ endif }".to_string()),
        Just("cidrsubnet(\"10.0.0.0/8\", ".to_string()),
        Just("cidrhost(\"fd00::/120\", -1)".to_string()),
        Just("format(\"%05.2f %q\", ".to_string()),
        Just("substr(\"héllo\", -9, 99)".to_string()),
        Just("range(1e18)".to_string()),
        Just("element([], 3)".to_string()),
        Just("jsondecode(\"[1, {\\\"a\\\": null}]\")".to_string()),
        Just("[for x in [1, 2] : x * 1e308]".to_string()),
        Just("[1,2][*]".to_string()),
        Just("1 / 0".to_string()),
        Just("-9223372036854775808 % -1".to_string()),
        Just("\"a\"[0]".to_string()),
        Just(")".to_string()),
        Just(", ".to_string()),
        "[a-z0-9_.\\[\\]()\"+*/%<>=!?:, -]{0,12}",
    ];
    proptest::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn evaluating_any_template_never_panics(text in template_text()) {
        let scope = EmptyScope(std::env::temp_dir());
        if let Ok(e) = parse_template(&text, Span::default()) {
            let _ = eval(&e, &scope);
        }
    }

    #[test]
    fn loading_any_configuration_text_never_panics(text in "[\\[\\]a-z_.=\"${} \n0-9#{}-]{0,200}", json in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let name = if json { "main.tf.json" } else { "main.toml" };
        std::fs::write(dir.path().join(name), &text).unwrap();
        let _ = Config::load(dir.path());
    }

    #[test]
    fn state_round_trips_through_the_v4_format(
        names in proptest::collection::btree_set("[a-z][a-z0-9_]{0,8}", 1..8),
        keys in proptest::collection::vec(prop_oneof![Just(InstanceKey::None), (0i64..5).prop_map(InstanceKey::Int), "[a-z-]{1,5}".prop_map(InstanceKey::Str)], 1..8),
        value in "[ -~]{0,20}",
        modules in proptest::collection::vec(("[a-z]{1,4}", prop_oneof![Just(InstanceKey::None), (0i64..3).prop_map(InstanceKey::Int), "[a-z.\\[\\]\" ]{1,5}".prop_map(InstanceKey::Str)]), 0..3),
    ) {
        let mut state = State::new();
        for (name, key) in names.iter().zip(keys.iter().cycle()) {
            let r = ResourceAddr { module: ModulePath(modules.iter().map(|(name, key)| ModuleStep { name: name.clone(), key: key.clone() }).collect()), mode: Mode::Managed, type_: "terraform_data".into(), name: name.clone() };
            state.instances.insert(r.instance(key.clone()), Instance {
                attributes: Value::object([("id".into(), Value::str(&value)), ("n".into(), Value::Number(1.5))]),
                provider: "terraform.io/builtin/terraform".into(),
                dependencies: vec![],
                tainted: false,
                create_before_destroy: false,
                schema_version: 0,
                sensitive_attributes: vec![],
                each: match key { InstanceKey::None => None, InstanceKey::Int(_) => Some("list".into()), InstanceKey::Str(_) => Some("map".into()) },
                kept: Default::default(),
            });
        }
        state.outputs.insert("o".into(), OutputValue { value: Value::str(&value), sensitive: false });
        let text = serde_json::to_string(&state.to_file()).unwrap();
        let back = State::from_file(serde_json::from_str(&text).unwrap(), "t").unwrap();
        // Read back, the file writes the same again; instances and outputs are what they were.
        prop_assert_eq!(serde_json::to_string(&back.to_file()).unwrap(), text);
        prop_assert_eq!(back.instances.len(), state.instances.len());
        for (addr, inst) in &state.instances {
            prop_assert_eq!(&back.instances[addr].attributes, &inst.attributes);
        }
        prop_assert_eq!(back.outputs, state.outputs);
    }
}
