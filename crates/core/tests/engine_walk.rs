//! The engine with a provider written here: concurrency limits, progress
//! events, critical-path-first scheduling and adoption after a crash.

use async_trait::async_trait;
use ecspoc_core::addr::{InstanceAddr, InstanceKey, Mode, ModulePath, ResourceAddr};
use ecspoc_core::apply::{ApplyOptions, apply};
use ecspoc_core::config::Config;
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::engine::Engine;
use ecspoc_core::events::{Event, Observer};
use ecspoc_core::plan::Action;
use ecspoc_core::plan::planner::{PlanOptions, plan};
use ecspoc_core::provider::{AttrSchema, Marker, Provider, ProviderError, ProviderSchema, ProviderSet, ResourceSchema};
use ecspoc_core::state::State;
use ecspoc_core::state::journal::MemoryJournal;
use ecspoc_core::value::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `test_thing`: sleeps `delay_ms` on create, records how many creates overlap,
/// and remembers every marker it was given (its "cloud").
struct TestProvider {
    schema: ProviderSchema,
    concurrency: usize,
    running: AtomicUsize,
    max_running: AtomicUsize,
    creates: AtomicUsize,
    flaky_failures: AtomicUsize,
    cloud: Mutex<HashMap<String, Value>>,
}

impl TestProvider {
    fn new(concurrency: usize) -> Arc<TestProvider> {
        let mut schema = ProviderSchema::default();
        schema.resources.insert(
            "test_thing",
            ResourceSchema::new(
                "a thing",
                [
                    ("id", AttrSchema::computed(T::String, "id")),
                    ("input", AttrSchema::optional(T::Any, "anything")),
                    ("delay_ms", AttrSchema::optional(T::Number, "create takes this long")),
                    ("generation", AttrSchema::optional(T::Any, "changing it replaces the thing").force_new()),
                ],
            ),
        );
        Arc::new(TestProvider {
            schema,
            concurrency,
            running: AtomicUsize::new(0),
            max_running: AtomicUsize::new(0),
            creates: AtomicUsize::new(0),
            flaky_failures: AtomicUsize::new(0),
            cloud: Mutex::new(HashMap::new()),
        })
    }
}

#[async_trait]
impl Provider for TestProvider {
    fn local_name(&self) -> &'static str {
        "test"
    }
    fn source(&self) -> &'static str {
        "example.com/test/test"
    }
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }
    fn concurrency(&self) -> usize {
        self.concurrency
    }
    async fn read(&self, _: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(Some(state.clone()))
    }
    async fn create(&self, _: &str, planned: &Value, marker: &Marker) -> Result<Value, ProviderError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        let ms = planned.get("delay_ms").and_then(Value::as_number).unwrap_or(0.0);
        tokio::time::sleep(Duration::from_millis(ms as u64)).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        let fault = planned.get("input").and_then(Value::as_str).unwrap_or_default();
        if fault == "panic" {
            panic!("injected panic in create");
        }
        if fault == "flaky" && self.flaky_failures.fetch_add(1, Ordering::SeqCst) < 2 {
            return Err(ProviderError::api("CreateThing", Some("ServiceUnavailable"), "try later").transient());
        }
        if fault == "refused" {
            return Err(ProviderError::api("CreateThing", Some("InvalidParameter"), "refused before acting"));
        }
        let n = self.creates.fetch_add(1, Ordering::SeqCst);
        let mut v = planned.clone();
        if let Value::Map(m) = &mut v {
            m.insert("id".into(), Value::String(format!("thing-{n}")));
        }
        self.cloud.lock().unwrap().insert(marker.address.clone(), v.clone());
        if fault == "answer lost" {
            return Err(ProviderError::api("CreateThing", Some("RequestTimeout"), "the answer was lost"));
        }
        Ok(v)
    }
    async fn update(&self, _: &str, _: &Value, planned: &Value) -> Result<Value, ProviderError> {
        Ok(planned.clone())
    }
    async fn delete(&self, _: &str, _: &Value) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn import(&self, _: &str, _: &str) -> Result<Option<Value>, ProviderError> {
        Ok(None)
    }
    async fn read_data(&self, _: &str, _: &Value) -> Result<Value, ProviderError> {
        Err(ProviderError::new("no data sources"))
    }
    async fn adopt(&self, _: &str, marker: &Marker) -> Result<Option<Value>, ProviderError> {
        Ok(self.cloud.lock().unwrap().get(&marker.address).cloned())
    }
    fn adopts_by_marker(&self, _: &str) -> bool {
        true
    }
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

impl Observer for Recorder {
    fn on(&self, e: Event) {
        self.0.lock().unwrap().push(e);
    }
}

fn engine(toml: &str, provider: Arc<TestProvider>) -> (Arc<Engine>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.toml"), toml).unwrap();
    let config = Config::load(dir.path()).unwrap_or_else(|d| panic!("{d}"));
    let mut set = ProviderSet::new();
    set.register(provider);
    let e = Engine::new(config, set, dir.path().to_path_buf()).unwrap_or_else(|d| panic!("{d}"));
    (Arc::new(e), dir)
}

async fn plan_and_apply(
    e: &Arc<Engine>,
    state: State,
    parallelism: usize,
    progress: Duration,
) -> (ecspoc_core::apply::ApplyOutcome, Arc<Recorder>) {
    let rec = Arc::new(Recorder::default());
    let p = plan(e.clone(), state.clone(), PlanOptions { parallelism, ..PlanOptions::default() }, rec.clone())
        .await
        .unwrap_or_else(|d| panic!("{d}"));
    let opts = ApplyOptions { parallelism, progress_every: progress, ..ApplyOptions::default() };
    let out = apply(e.clone(), &p, state, Arc::new(MemoryJournal::default()), opts, rec.clone()).await;
    (out, rec)
}

const TWENTY: &str = "[resource.test_thing.x]\ncount = 20\ndelay_ms = 40\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_never_runs_more_operations_than_its_limit() {
    let p = TestProvider::new(3);
    let (e, _d) = engine(TWENTY, p.clone());
    let (out, _) = plan_and_apply(&e, State::new(), 10, Duration::from_secs(10)).await;
    assert!(out.diags.is_empty(), "{}", out.diags);
    assert_eq!(out.added, 20);
    assert_eq!(p.max_running.load(Ordering::SeqCst), 3, "bounded by the provider's own limit, and reaching it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallelism_bounds_every_provider() {
    let p = TestProvider::new(100);
    let (e, _d) = engine(TWENTY, p.clone());
    let (out, _) = plan_and_apply(&e, State::new(), 4, Duration::from_secs(10)).await;
    assert_eq!(out.added, 20);
    assert_eq!(p.max_running.load(Ordering::SeqCst), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_operations_report_progress() {
    let p = TestProvider::new(10);
    let (e, _d) = engine("[resource.test_thing.slow]\ndelay_ms = 200\n", p);
    let (out, rec) = plan_and_apply(&e, State::new(), 10, Duration::from_millis(50)).await;
    assert_eq!(out.added, 1);
    let events = rec.0.lock().unwrap();
    let progress = events.iter().filter(|e| matches!(e, Event::ApplyProgress { action: Action::Create, .. })).count();
    assert!(progress >= 2, "expected several progress events, got {progress}");
    assert!(matches!(events.last(), Some(Event::ApplyComplete { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_longest_chain_starts_first() {
    // With one slot, the head of the three-long chain must go before the loners.
    let cfg = r#"
[resource.test_thing.loner_a]
input = 1
[resource.test_thing.loner_b]
input = 2
[resource.test_thing.chain_1]
input = 3
[resource.test_thing.chain_2]
input = "${test_thing.chain_1.id}"
[resource.test_thing.chain_3]
input = "${test_thing.chain_2.id}"
"#;
    let p = TestProvider::new(10);
    let (e, _d) = engine(cfg, p);
    let (out, rec) = plan_and_apply(&e, State::new(), 1, Duration::from_secs(10)).await;
    assert_eq!(out.added, 5);
    let first = rec.0.lock().unwrap().iter().find_map(|e| match e {
        Event::ApplyStart { addr, .. } => Some(addr.to_string()),
        _ => None,
    });
    assert_eq!(first.as_deref(), Some("test_thing.chain_1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_created_just_before_a_crash_is_adopted_not_duplicated() {
    let p = TestProvider::new(10);
    let (e, _d) = engine("[resource.test_thing.vpc]\ninput = \"main\"\n", p.clone());
    // The cloud has the object (created under the marker) but state does not:
    // the process died after the create call and before the journal's put.
    let addr = InstanceAddr {
        resource: ResourceAddr {
            module: ModulePath::root(),
            mode: Mode::Managed,
            type_: "test_thing".into(),
            name: "vpc".into(),
        },
        key: InstanceKey::None,
    };
    let mut state = State::new();
    let marker =
        Marker { address: addr.to_string(), lineage: state.lineage.clone(), name: None, create_id: String::new() };
    let created =
        p.create("test_thing", &Value::object([("input".into(), Value::str("main"))]), &marker).await.unwrap();
    state.pending_creates.insert(addr.clone(), marker);
    let creates_before = p.creates.load(Ordering::SeqCst);

    let rec = Arc::new(Recorder::default());
    let planned =
        plan(e.clone(), state.clone(), PlanOptions::default(), rec.clone()).await.unwrap_or_else(|d| panic!("{d}"));
    let change = planned.change(&addr).expect("a change for the adopted object");
    assert!(change.adopted, "found by its marker");
    assert_eq!(change.action, Action::NoOp, "the adopted object already matches");
    let out = apply(e.clone(), &planned, state, Arc::new(MemoryJournal::default()), ApplyOptions::default(), rec).await;
    assert!(out.diags.is_empty(), "{}", out.diags);
    assert_eq!(p.creates.load(Ordering::SeqCst), creates_before, "no second create");
    assert_eq!(out.state.instances.get(&addr).map(|i| i.attributes.clone()), Some(created));
    assert!(out.state.pending_creates.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacements_destroy_dependents_old_objects_first_and_create_in_dependency_order() {
    let cfg = |g: u32| {
        format!(
            "[resource.test_thing.subnet]\ngeneration = {g}\n[resource.test_thing.nat]\ngeneration = \"${{test_thing.subnet.id}}\"\n"
        )
    };
    let p = TestProvider::new(10);
    let (e1, _d1) = engine(&cfg(1), p.clone());
    let (first, _) = plan_and_apply(&e1, State::new(), 10, Duration::from_secs(10)).await;
    assert!(first.diags.is_empty(), "{}", first.diags);
    let (e2, _d2) = engine(&cfg(2), p.clone());
    let (second, rec) = plan_and_apply(&e2, first.state, 10, Duration::from_secs(10)).await;
    assert!(second.diags.is_empty(), "{}", second.diags);
    assert_eq!((second.added, second.destroyed), (2, 2));
    let order: Vec<String> = rec
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::ApplyStart { addr, action } => Some(format!("{action:?} {addr}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        order,
        vec!["Delete test_thing.nat", "Delete test_thing.subnet", "Create test_thing.subnet", "Create test_thing.nat"],
        "the NAT goes before its subnet, and comes back after it"
    );
}

fn addr(name: &str) -> InstanceAddr {
    InstanceAddr {
        resource: ResourceAddr {
            module: ModulePath::root(),
            mode: Mode::Managed,
            type_: "test_thing".into(),
            name: name.into(),
        },
        key: InstanceKey::None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_an_internal_error_that_names_the_resource_and_what_it_blocked() {
    let cfg = r#"
[resource.test_thing.bad]
input = "panic"
[resource.test_thing.after_bad]
input = "${test_thing.bad.id}"
[resource.test_thing.fine]
input = 1
"#;
    let p = TestProvider::new(10);
    let (e, _d) = engine(cfg, p);
    let (out, _) = plan_and_apply(&e, State::new(), 10, Duration::from_secs(10)).await;
    let text = out.diags.to_string();
    assert!(out.diags.has_errors());
    assert!(text.contains("panicked") && text.contains("injected panic in create"), "{text}");
    assert!(text.contains("test_thing.bad"), "{text}");
    assert!(text.contains("Changes not applied") && text.contains("test_thing.after_bad"), "{text}");
    assert!(out.state.instances.contains_key(&addr("fine")), "completed work is kept");
    assert!(!out.state.instances.contains_key(&addr("after_bad")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_was_lost_adopts_the_object_it_made() {
    let p = TestProvider::new(10);
    let (e, _d) = engine("[resource.test_thing.x]\ninput = \"answer lost\"\n", p.clone());
    let (out, _) = plan_and_apply(&e, State::new(), 10, Duration::from_secs(10)).await;
    assert!(out.diags.is_empty(), "{}", out.diags);
    assert_eq!(p.creates.load(Ordering::SeqCst), 1, "one object, not two");
    let recorded = out.state.instances.get(&addr("x")).expect("the object is in state");
    assert_eq!(recorded.id(), Some("thing-0"));
    assert!(out.state.pending_creates.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_create_keeps_its_intent_for_the_next_run() {
    let p = TestProvider::new(10);
    let (e, _d) = engine("[resource.test_thing.x]\ninput = \"refused\"\n", p.clone());
    let (out, _) = plan_and_apply(&e, State::new(), 10, Duration::from_secs(10)).await;
    assert!(out.diags.to_string().contains("InvalidParameter"), "{}", out.diags);
    assert!(out.state.pending_creates.contains_key(&addr("x")), "the next run looks for it by marker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_refused_for_now_is_tried_again_once_nothing_carries_its_marker() {
    let p = TestProvider::new(10);
    let (e, _d) = engine("[resource.test_thing.x]\ninput = \"flaky\"\n", p.clone());
    let (out, _) = plan_and_apply(&e, State::new(), 10, Duration::from_secs(10)).await;
    assert!(out.diags.is_empty(), "{}", out.diags);
    assert_eq!(p.flaky_failures.load(Ordering::SeqCst), 3, "two refusals, then success");
    assert_eq!(p.creates.load(Ordering::SeqCst), 1);
    assert!(out.state.instances.contains_key(&addr("x")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_create_of_a_removed_block_is_found_and_destroyed() {
    let p = TestProvider::new(10);
    // The object was made just before a crash; then its block was deleted.
    let mut state = State::new();
    let gone = addr("removed");
    let marker =
        Marker { address: gone.to_string(), lineage: state.lineage.clone(), name: None, create_id: String::new() };
    p.create("test_thing", &Value::object([("input".into(), Value::str("x"))]), &marker).await.unwrap();
    state.pending_creates.insert(gone.clone(), marker);
    let (e, _d) = engine("[resource.test_thing.kept]\ninput = 1\n", p.clone());
    let rec = Arc::new(Recorder::default());
    let planned =
        plan(e.clone(), state.clone(), PlanOptions::default(), rec.clone()).await.unwrap_or_else(|d| panic!("{d}"));
    let change = planned.change(&gone).expect("the found object is planned");
    assert_eq!(change.action, Action::Delete);
    let out = apply(e.clone(), &planned, state, Arc::new(MemoryJournal::default()), ApplyOptions::default(), rec).await;
    assert!(out.diags.is_empty(), "{}", out.diags);
    assert_eq!(out.destroyed, 1);
    assert!(!out.state.instances.contains_key(&gone));
    assert!(out.state.pending_creates.is_empty(), "nothing is left pending");
}
