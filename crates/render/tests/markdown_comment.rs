//! The pull-request comment, parsed as GitHub parses it (comrak, GFM):
//! its structure holds for any plan (balanced code blocks and details, the
//! summary table present, under the size limit), hostile values stay inert,
//! and detail is cut least important first.

use comrak::nodes::{AstNode, NodeValue};
use comrak::{Arena, Options as Gfm, markdown_to_html, parse_document};
use ecspoc_core::addr::{InstanceAddr, Target};
use ecspoc_core::plan::{Action, Plan, PlanMode, ResourceChange};
use ecspoc_core::state::State;
use ecspoc_core::value::Value;
use ecspoc_render::markdown::{Environment, GITHUB_LIMIT, Options, Outcome, marker, render};
use proptest::prelude::*;

fn gfm() -> Gfm<'static> {
    let mut o = Gfm::default();
    o.extension.table = true;
    o.extension.autolink = true;
    o.extension.strikethrough = true;
    o.extension.tasklist = true;
    o.render.unsafe_ = true; // GitHub keeps <details>; the sanitizer is checked by hand below
    o
}

fn addr(text: &str) -> InstanceAddr {
    match Target::parse(text) {
        Ok(Target::Instance(i)) => i,
        Ok(Target::Resource(r)) => r.instance(ecspoc_core::addr::InstanceKey::None),
        other => panic!("{text}: {other:?}"),
    }
}

fn change(address: &str, action: Action, before: Option<Value>, after: Option<Value>) -> ResourceChange {
    ResourceChange {
        addr: addr(address),
        provider: "registry.terraform.io/hashicorp/terraform".into(),
        action,
        reason: None,
        before,
        after,
        replace_paths: if action.is_replace() { vec!["input".into()] } else { Vec::new() },
        sensitive: Vec::new(),
        dependencies: Vec::new(),
        each: None,
        create_before_destroy: false,
        adopted: false,
        deposed: None,
        explain: Vec::new(),
        previous_address: None,
    }
}

fn plan(changes: Vec<ResourceChange>) -> Plan {
    Plan {
        mode: PlanMode::Normal,
        changes,
        drift: Vec::new(),
        outputs: Vec::new(),
        variables: Default::default(),
        prior_state: State::default(),
        base_serial: 0,
        warnings: Vec::new(),
        targets: Vec::new(),
        config_files: Vec::new(),
        timestamp: String::new(),
    }
}

fn obj(input: &str) -> Value {
    Value::object([("input".to_string(), Value::str(input)), ("id".to_string(), Value::str("x"))])
}

/// Checks GitHub's rendering relies on, from the parsed document.
fn check_structure(md: &str, limit: usize) {
    assert!(md.chars().count() <= limit, "{} characters, limit {limit}", md.chars().count());
    let arena = Arena::new();
    let root = parse_document(&arena, md, &gfm());
    let mut tables = 0;
    let mut html_blocks = String::new();
    fn walk<'a>(n: &'a AstNode<'a>, tables: &mut usize, html: &mut String) {
        match &n.data.borrow().value {
            NodeValue::Table(_) => *tables += 1,
            NodeValue::HtmlBlock(b) => html.push_str(&b.literal),
            NodeValue::HtmlInline(s) => html.push_str(s),
            _ => {}
        }
        for c in n.children() {
            walk(c, tables, html);
        }
    }
    walk(root, &mut tables, &mut html_blocks);
    assert_eq!(tables, 1, "one summary table:\n{md}");
    let opens = html_blocks.matches("<details>").count();
    let closes = html_blocks.matches("</details>").count();
    assert_eq!(opens, closes, "balanced details:\n{md}");
    // Every code block is closed: a paragraph after the comment is still a paragraph.
    let html = markdown_to_html(&format!("{md}\n\nEND-SENTINEL\n"), &gfm());
    assert!(html.trim_end().ends_with("<p>END-SENTINEL</p>"), "a block was left open:\n{md}");
    assert!(md.contains(&marker("test")), "the marker");
}

fn opts(limit: usize) -> Options {
    Options { id: "test".into(), full_plan_at: "the run's artifacts".into(), limit }
}

#[test]
fn hostile_values_are_inert() {
    let evil = "`</details><script>alert(1)</script> @org/team [x](javascript:alert(1)) ``` ~~~ <img src=x onerror=alert(1)> www.evil.example https://evil.example";
    let key = format!("terraform_data.x[\"{}\"]", evil.replace('"', "'"));
    let p = plan(vec![
        change(&key, Action::Create, None, Some(obj(evil))),
        change("terraform_data.y", Action::DeleteThenCreate, Some(obj("old")), Some(obj(evil))),
    ]);
    let envs = [
        Environment {
            name: evil.into(),
            outcome: Outcome::Planned { plan: &p, providers: None },
            findings: Vec::new(),
        },
        Environment {
            name: "failed".into(),
            outcome: Outcome::Failed { errors: vec![evil.into()] },
            findings: vec![evil.into()],
        },
    ];
    let md = render(&envs, &opts(GITHUB_LIMIT));
    check_structure(&md, GITHUB_LIMIT);
    let html = markdown_to_html(&md, &gfm());
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<a "), "no link: {html}");
    // Outside code elements and blocks only what the renderer itself writes.
    let outside_code: String = {
        let mut s = html.clone();
        for (open, close) in [("<pre", "</pre>"), ("<code>", "</code>")] {
            while let (Some(a), Some(b)) = (s.find(open), s.find(close)) {
                if b < a {
                    break;
                }
                s.replace_range(a..b + close.len(), "");
            }
        }
        s
    };
    // Link syntax and URLs stay text: nothing to follow.
    assert!(!outside_code.contains("href"), "{outside_code}");
    assert!(!outside_code.contains("@org/team"), "no mention outside code: {outside_code}");
    assert_eq!(html.matches("<details>").count(), html.matches("</details>").count(), "{html}");
}

#[test]
fn too_large_plans_lose_detail_least_important_first_and_say_so() {
    // Every line differs, and an unchanged multi-line value beside it.
    let lines = |p: &str| (0..300).map(|n| format!("{p} {n}\n")).collect::<String>();
    let changes: Vec<ResourceChange> = (0..60)
        .map(|i| {
            let mut before = obj(&lines("old"));
            let mut after = obj(&lines("new"));
            for v in [&mut before, &mut after] {
                if let Value::Map(m) = v {
                    m.insert("context".into(), Value::str(lines(&format!("same {i}"))));
                }
            }
            change(&format!("terraform_data.r[{i}]"), Action::Update, Some(before), Some(after))
        })
        .collect();
    let p = plan(changes);
    let envs = [Environment {
        name: "dev".into(),
        outcome: Outcome::Planned { plan: &p, providers: None },
        findings: Vec::new(),
    }];
    let full = render(&envs, &opts(10_000_000));
    assert!(full.chars().count() > GITHUB_LIMIT, "the case is too large: {}", full.len());
    let md = render(&envs, &opts(GITHUB_LIMIT));
    check_structure(&md, GITHUB_LIMIT);
    assert!(md.contains("| dev | 0 | 60 | 0 | 0 | changes |"), "the summary stays");
    assert!(md.contains("leaves out unchanged lines of the diffs"), "says what was cut:\n{}", &md[md.len() - 300..]);
    assert!(md.contains("the full plans are in the run's artifacts"));
}

fn arb_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Create),
        Just(Action::Update),
        Just(Action::Delete),
        Just(Action::DeleteThenCreate),
        Just(Action::NoOp)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any plan, any content, any size: the structure holds and the limit too.
    #[test]
    fn the_comment_keeps_its_structure_for_any_plan(
        envs in proptest::collection::vec(
            (
                "[a-z]{1,8}",
                proptest::collection::vec((arb_action(), "\\PC{0,40}", 0usize..4000), 0..40),
                any::<bool>(),
            ),
            1..4,
        ),
        limit in 2_000usize..70_000,
    ) {
        let plans: Vec<Plan> = envs
            .iter()
            .map(|(_, changes, _)| {
                plan(
                    changes
                        .iter()
                        .enumerate()
                        .map(|(i, (action, text, size))| {
                            let big = format!("{text}\n{}", "x".repeat(*size));
                            let before = (*action != Action::Create).then(|| obj(text));
                            let after = (*action != Action::Delete).then(|| obj(&big));
                            change(&format!("terraform_data.r[{i}]"), *action, before, after)
                        })
                        .collect(),
                )
            })
            .collect();
        let rendered: Vec<Environment<'_>> = envs
            .iter()
            .zip(&plans)
            .map(|((name, _, failed), p)| Environment {
                name: name.clone(),
                outcome: if *failed {
                    Outcome::Failed { errors: vec!["boom ``` </details>".into()] }
                } else {
                    Outcome::Planned { plan: p, providers: None }
                },
                findings: Vec::new(),
            })
            .collect();
        let md = render(&rendered, &opts(limit));
        check_structure(&md, limit);
        for (name, _, _) in &envs {
            prop_assert!(md.contains(&format!("| {name} |")), "every environment in the summary");
        }
    }
}
