//! Making a plan: walk the graph, refresh each resource's objects, evaluate
//! its configuration, and diff the two.

use super::{Action, ActionReason, Origin, OutputChange, Plan, PlanMode, ResourceChange};
use crate::addr::{InstanceAddr, InstanceKey, Mode, ResourceAddr, Target};
use crate::diag::{Diagnostic, Diagnostics};
use crate::engine::{Engine, InputVariables, InstanceInputs, aggregate, each_mode, plan_instance};
use crate::events::{Event, Observer, now_rfc3339};
use crate::graph::NodeKey;
use crate::state::{Instance, State};
use crate::value::Value;
use crate::walk::{WalkGraph, walk};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

#[derive(Clone, Debug)]
pub struct PlanOptions {
    pub mode: PlanMode,
    pub inputs: InputVariables,
    pub targets: Vec<Target>,
    pub replace: Vec<InstanceAddr>,
    pub refresh: bool,
    pub parallelism: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            mode: PlanMode::Normal,
            inputs: BTreeMap::new(),
            targets: Vec::new(),
            replace: Vec::new(),
            refresh: true,
            parallelism: 10,
        }
    }
}

#[derive(Default)]
struct Accumulator {
    changes: Vec<ResourceChange>,
    drift: Vec<ResourceChange>,
    /// The state after refresh: what the plan's `prior_state` shows.
    refreshed: BTreeMap<InstanceAddr, Instance>,
    adopted: BTreeSet<InstanceAddr>,
    /// Every resource planned, per module instance: what state holds beyond
    /// these is an orphan.
    planned: BTreeSet<ResourceAddr>,
    diags: Diagnostics,
    warnings: Vec<Diagnostic>,
}

struct Ctx {
    engine: Arc<Engine>,
    stored: State,
    opts: PlanOptions,
    values: crate::engine::Values,
    acc: Mutex<Accumulator>,
    observer: Arc<dyn Observer>,
    global: Arc<Semaphore>,
    per_provider: HashMap<&'static str, Arc<Semaphore>>,
    /// Refresh results by resource type, filled by the first block of each type.
    type_reads: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<TypeReads>>>>,
    /// Instances a `moved` block gave a new address: new -> old.
    moved_from: BTreeMap<InstanceAddr, InstanceAddr>,
}

type TypeReads = HashMap<InstanceAddr, Result<Option<Value>, crate::provider::ProviderError>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The root module's `moved` blocks, in order, on the stored state: objects
/// at `from` get the `to` address, unless something is there already (a
/// warning, as Terraform gives). Returns each moved instance's old address.
fn apply_moves(
    engine: &Engine,
    stored: &mut State,
) -> Result<(BTreeMap<InstanceAddr, InstanceAddr>, Vec<Diagnostic>), Diagnostics> {
    use crate::state::moves::MoveError;
    let mut previous: BTreeMap<InstanceAddr, InstanceAddr> = BTreeMap::new();
    let mut warnings = Vec::new();
    for m in &engine.config.root().moved {
        match stored.move_objects(&m.from, &m.to) {
            Ok(moves) => {
                for (old, new) in moves {
                    let first = previous.remove(&old).unwrap_or(old);
                    previous.insert(new, first);
                }
            }
            // Nothing left at `from`: already moved, or never made.
            Err(MoveError::NothingAt(_)) => {}
            Err(e @ MoveError::DestinationExists { .. }) => warnings.push(
                Diagnostic::warning("Moved object still exists")
                    .with_detail(format!("This moved block was not applied: {e}. Remove one of the objects (ecspoc state rm) to let it apply."))
                    .with_span(&m.span),
            ),
            Err(e) => {
                return Err(Diagnostic::error("Invalid moved block").with_detail(format!("{e}.")).with_span(&m.span).into());
            }
        }
    }
    Ok((previous, warnings))
}

pub async fn plan(
    engine: Arc<Engine>,
    mut stored: State,
    opts: PlanOptions,
    observer: Arc<dyn Observer>,
) -> Result<Plan, Diagnostics> {
    let (moved_from, move_warnings) = apply_moves(&engine, &mut stored)?;
    let nodes: Vec<NodeKey> = engine.graph.graph.node_weights().cloned().collect();
    let mut wg = WalkGraph::new(nodes.len());
    for (i, key) in nodes.iter().enumerate() {
        let ix = engine.graph.index[key];
        wg.deps[i] =
            engine.graph.graph.neighbors_directed(ix, petgraph::Direction::Incoming).map(|d| d.index()).collect();
        wg.weight[i] = u64::from(matches!(key, NodeKey::Resource(_)));
    }
    let per_provider =
        engine.providers.iter().map(|p| (p.local_name(), Arc::new(Semaphore::new(p.concurrency().max(1))))).collect();
    let ctx = Arc::new(Ctx {
        engine: engine.clone(),
        stored,
        moved_from,
        global: Arc::new(Semaphore::new(opts.parallelism.max(1))),
        opts,
        values: Default::default(),
        acc: Mutex::new(Accumulator { warnings: move_warnings, ..Accumulator::default() }),
        observer,
        per_provider,
        type_reads: Mutex::new(HashMap::new()),
    });
    let nodes = Arc::new(nodes);
    let c = ctx.clone();
    let n2 = nodes.clone();
    let outcome = walk(&wg, Arc::new(AtomicBool::new(false)), None, move |i, _| {
        let ctx = c.clone();
        let key = n2[i].clone();
        async move {
            match plan_node(&ctx, &key).await {
                Ok(()) => true,
                Err(d) => {
                    lock(&ctx.acc).diags.extend(d);
                    false
                }
            }
        }
    })
    .await;
    for (i, message) in outcome.panics {
        lock(&ctx.acc).diags.push(Diagnostic::error("Internal error: planning panicked").with_detail(format!(
            "ecspoc stopped planning {} because of a bug: {message}. Please report this.",
            nodes[i]
        )));
    }
    plan_orphans(&ctx).await;
    plan_deposed(&ctx);
    finish(ctx)
}

/// Deposed objects (left by a create-before-destroy replacement that did not
/// finish) are real objects nothing configures: each is destroyed, in every
/// mode but refresh-only, as Terraform does.
fn plan_deposed(ctx: &Ctx) {
    if ctx.opts.mode == PlanMode::RefreshOnly {
        return;
    }
    let mut acc = lock(&ctx.acc);
    for ((a, key), inst) in &ctx.stored.deposed {
        let mut ch = drift_change(a, inst, None, Action::Delete);
        ch.deposed = Some(key.clone());
        acc.changes.push(ch);
    }
}

async fn plan_node(ctx: &Ctx, key: &NodeKey) -> Result<(), Diagnostics> {
    match key {
        // A block in a module with count/for_each: once per module instance.
        NodeKey::Resource(block) => {
            let instances = {
                let values = ctx.values.0.read().unwrap_or_else(|p| p.into_inner());
                ctx.engine.module_instances(&block.module, &values)?
            };
            let planned = instances.into_iter().map(|module| {
                let addr = ResourceAddr { module, ..block.clone() };
                async move { plan_resource(ctx, &addr).await }
            });
            let mut diags = Diagnostics::default();
            for r in futures_util::future::join_all(planned).await {
                if let Err(d) = r {
                    diags.extend(d);
                }
            }
            if diags.has_errors() { Err(diags) } else { Ok(()) }
        }
        _ => ctx.engine.run_value_node(key, &ctx.values, &ctx.opts.inputs).await,
    }
}

/// Refresh the stored instances of one resource; returns the refreshed ones.
async fn refresh(ctx: &Ctx, addr: &ResourceAddr) -> Result<Vec<(InstanceAddr, Instance)>, Diagnostics> {
    let stored: Vec<(InstanceAddr, Instance)> =
        ctx.stored.resource_instances(addr).map(|(a, i)| (a.clone(), i.clone())).collect();
    let (provider, schema) = ctx.engine.provider_for(&addr.type_, addr.mode)?;
    let mut out = Vec::new();
    let pending: Vec<(InstanceAddr, crate::provider::Marker)> = ctx
        .stored
        .pending_creates
        .iter()
        .filter(|(a, _)| &a.resource == addr)
        .map(|(a, m)| (a.clone(), m.clone()))
        .collect();
    if addr.mode == Mode::Managed && !pending.is_empty() {
        for (a, marker) in pending {
            if stored.iter().any(|(s, _)| s == &a) {
                continue;
            }
            let found = provider.adopt(&addr.type_, &marker).await.map_err(|e| {
                Diagnostics::from(
                    Diagnostic::error("Failed to look for an object left by an interrupted apply")
                        .with_detail(e.describe())
                        .with_address(a.to_string()),
                )
            })?;
            if let Some(attrs) = found {
                let r = ctx.engine.resource_config(addr);
                let sensitive = provider
                    .schema()
                    .resources
                    .get(addr.type_.as_str())
                    .map(|s| s.sensitive_names())
                    .unwrap_or_default();
                let inst = Instance::new(attrs, provider.source(), r.and_then(each_mode), sensitive);
                lock(&ctx.acc).adopted.insert(a.clone());
                out.push((a, inst));
            }
        }
    }
    if !ctx.opts.refresh || addr.mode == Mode::Data || stored.is_empty() {
        out.extend(stored);
        return Ok(out);
    }
    for (a, i) in &stored {
        ctx.observer.on(Event::RefreshStart { addr: a.clone(), id: i.id().map(String::from) });
    }
    // Every stored object of this type is read at once, whichever block
    // asks first, so a provider can use one call for many ids.
    let cell = lock(&ctx.type_reads).entry(addr.type_.clone()).or_default().clone();
    let by_addr = cell
        .get_or_init(|| async {
            let of_type: Vec<(InstanceAddr, Value)> = ctx
                .stored
                .managed()
                .filter(|(a, _)| a.resource.type_ == addr.type_)
                .map(|(a, i)| (a.clone(), i.attributes.clone()))
                .collect();
            let _g = ctx.global.acquire().await;
            let _p = match ctx.per_provider.get(provider.local_name()) {
                Some(s) => Some(s.acquire().await),
                None => None,
            };
            let states: Vec<Value> = of_type.iter().map(|(_, v)| v.clone()).collect();
            let results = provider.read_many(&addr.type_, &states).await;
            of_type.into_iter().map(|(a, _)| a).zip(results).collect::<HashMap<_, _>>()
        })
        .await;
    let results: Vec<Result<Option<Value>, crate::provider::ProviderError>> = stored
        .iter()
        .map(|(a, _)| {
            by_addr
                .get(a)
                .cloned()
                .unwrap_or_else(|| Err(crate::provider::ProviderError::new("the provider returned no result")))
        })
        .collect();
    let mut diags = Diagnostics::default();
    // Drift worth a note is a change to something the configuration sets;
    // computed values moving (an address now associated) are not, nor are
    // optional ones it leaves to AWS or to another resource (a topic's
    // policy written by aws_sns_topic_policy).
    let body = ctx.engine.resource_config(addr).map(|r| r.body.iter().map(|(k, _, _)| k.as_str()).collect::<Vec<_>>());
    let set_by_config = |k: &str, at: &crate::provider::AttrSchema| {
        at.required || (at.optional && (!at.computed || body.as_ref().is_none_or(|b| b.contains(&k))))
    };
    for ((a, inst), result) in stored.into_iter().zip(results) {
        match result {
            Ok(Some(attrs)) => {
                // In refresh-only mode every change is shown (and saved), as
                // Terraform shows it: a new revision number is worth recording.
                let every_change = ctx.opts.mode == PlanMode::RefreshOnly;
                let configurable_changed = schema.attributes.iter().any(|(k, at)| {
                    (every_change || set_by_config(k, at)) && !same_as_stored(attrs.get(k), inst.attributes.get(k))
                });
                // What another tool stored that this provider does not model stays as it was.
                let attrs = crate::state::keep_unmodeled(&inst.attributes, attrs, schema);
                if configurable_changed {
                    // Shown as Terraform shows drift: only what differs in meaning.
                    let shown = spelled_as_stored(&attrs, &inst.attributes);
                    lock(&ctx.acc).drift.push(drift_change(&a, &inst, Some(&shown), Action::Update));
                }
                let id = attrs.get("id").and_then(Value::as_str).map(String::from);
                ctx.observer.on(Event::RefreshComplete { addr: a.clone(), id });
                out.push((a, Instance { attributes: attrs, schema_version: schema.version, ..inst }));
            }
            Ok(None) => {
                lock(&ctx.acc).drift.push(drift_change(&a, &inst, None, Action::Delete));
            }
            Err(e) => {
                diags.push(Diagnostic::error("Failed to refresh").with_detail(e.describe()).with_address(a.to_string()))
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(out)
}

/// Where each attribute that changes gets its new value: the expression's
/// location, what it reads, whether the object changed outside ecspoc (the
/// value stored before refresh is what the configuration says), and whether
/// it forces the replacement.
fn explain(r: &crate::config::Resource, ch: &ResourceChange, stored: Option<&Instance>) -> Vec<Origin> {
    if !matches!(ch.action, Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete) {
        return Vec::new();
    }
    let (before, after) = (ch.before.as_ref(), ch.after.as_ref());
    r.body
        .iter()
        .filter(|(k, _, _)| before.and_then(|b| b.get(k)) != after.and_then(|a| a.get(k)))
        .map(|(k, _, expr)| Origin {
            attribute: k.clone(),
            location: expr.span().location(),
            from: {
                // Each thing read once, in the order the expression reads them.
                let mut seen = BTreeSet::new();
                let texts =
                    expr.references_with_path().iter().map(|(r, path)| reference_text(r, path)).collect::<Vec<_>>();
                texts.into_iter().filter(|t| seen.insert(t.clone())).collect()
            },
            changed_outside: stored.is_some_and(|s| {
                s.attributes.get(k) == after.and_then(|a| a.get(k))
                    && s.attributes.get(k) != before.and_then(|b| b.get(k))
            }),
            forces_replacement: ch.replace_paths.iter().any(|p| p == k),
        })
        .collect()
}

fn reference_text(r: &crate::config::Reference, path: &[String]) -> String {
    use crate::config::Reference as R;
    let head = match r {
        R::Var(n) => format!("var.{n}"),
        R::Local(n) => format!("local.{n}"),
        R::Resource { mode: Mode::Data, type_, name } => format!("data.{type_}.{name}"),
        R::Resource { type_, name, .. } => format!("{type_}.{name}"),
        R::Module { name, output } => match output {
            Some(o) => return format!("module.{name}.{o}"),
            None => format!("module.{name}"),
        },
        R::CountIndex => "count.index".into(),
        R::Each => "each".into(),
        R::Path => "path".into(),
        R::Terraform => "terraform".into(),
        R::SelfRef => "self".into(),
        R::Unknown(n) => n.clone(),
    };
    std::iter::once(head).chain(path.iter().cloned()).collect::<Vec<_>>().join(".")
}

/// Is a value read now the one stored, as Terraform's providers see it? An
/// unset value and its type's zero value ("", 0, false, an empty list or
/// map) are the same: Terraform's SDK stores one where ecspoc reads the other.
fn same_as_stored(now: Option<&Value>, stored: Option<&Value>) -> bool {
    fn blank(v: Option<&Value>) -> bool {
        match v {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Number(n)) => *n == 0.0,
            Some(Value::Bool(b)) => !b,
            Some(Value::List(l)) => l.is_empty(),
            Some(Value::Map(m)) => m.is_empty(),
            Some(_) => false,
        }
    }
    if now == stored || (blank(now) && blank(stored)) {
        return true;
    }
    // Blocks: the same rule inside them. Lists in any order (most that AWS
    // returns are sets: rules, subnets), each element matched once.
    match (now, stored) {
        (Some(Value::List(a)), Some(Value::List(b))) => {
            let mut unmatched: Vec<&Value> = b.iter().collect();
            a.len() == b.len()
                && a.iter().all(|x| match unmatched.iter().position(|y| same_as_stored(Some(x), Some(y))) {
                    Some(i) => {
                        unmatched.swap_remove(i);
                        true
                    }
                    None => false,
                })
        }
        // JSON documents (policies, container definitions) by meaning,
        // whichever tool wrote them: a member with an empty value is one left out.
        (Some(Value::String(a)), Some(Value::String(b))) if a.starts_with(['{', '[']) => {
            match (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)) {
                (Ok(x), Ok(y)) => same_document(&x, &y),
                _ => false,
            }
        }
        (Some(Value::Map(a)), Some(Value::Map(b))) => {
            a.keys().chain(b.keys()).all(|k| same_as_stored(a.get(k), b.get(k)))
        }
        _ => false,
    }
}

/// `read`, with each attribute that means the same as the stored one
/// (`same_as_stored`) in its stored spelling.
fn spelled_as_stored(read: &Value, stored: &Value) -> Value {
    let (Value::Map(r), Value::Map(st)) = (read, stored) else { return read.clone() };
    let mut out = r.clone();
    for (k, v) in out.iter_mut() {
        if same_as_stored(Some(v), st.get(k)) {
            match st.get(k) {
                Some(old) => *v = old.clone(),
                None => *v = Value::Null,
            }
        }
    }
    for (k, old) in st {
        out.entry(k.clone()).or_insert_with(|| old.clone());
    }
    Value::Map(out)
}

/// Two JSON documents alike but for members whose value is empty (null,
/// `[]`, `{}`) in one and missing in the other; lists keep their order.
fn same_document(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    let empty = |v: Option<&J>| match v {
        None | Some(J::Null) => true,
        Some(J::Array(x)) => x.is_empty(),
        Some(J::Object(x)) => x.is_empty(),
        _ => false,
    };
    match (a, b) {
        (J::Object(x), J::Object(y)) => x.keys().chain(y.keys()).all(|k| match (x.get(k), y.get(k)) {
            (Some(u), Some(v)) => same_document(u, v),
            (u, v) => empty(u) && empty(v),
        }),
        (J::Array(x), J::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(u, v)| same_document(u, v)),
        _ => a == b,
    }
}

fn drift_change(a: &InstanceAddr, inst: &Instance, after: Option<&Value>, action: Action) -> ResourceChange {
    ResourceChange {
        addr: a.clone(),
        provider: inst.provider.clone(),
        action,
        reason: None,
        before: Some(inst.attributes.clone()),
        after: after.cloned(),
        replace_paths: Vec::new(),
        sensitive: inst.sensitive_attributes.clone(),
        dependencies: inst.dependencies.clone(),
        each: inst.each.clone(),
        create_before_destroy: inst.create_before_destroy,
        adopted: false,
        deposed: None,
        explain: Vec::new(),
        previous_address: None,
    }
}

async fn plan_resource(ctx: &Ctx, addr: &ResourceAddr) -> Result<(), Diagnostics> {
    let engine = &ctx.engine;
    let Some(r) = engine.resource_config(addr) else {
        return Ok(());
    };
    let (provider, schema) = engine.provider_for(&addr.type_, addr.mode)?;
    let refreshed = refresh(ctx, addr).await?;
    let adopted: BTreeSet<InstanceAddr> = lock(&ctx.acc).adopted.clone();
    let mut prior: BTreeMap<InstanceAddr, Instance> = refreshed.into_iter().collect();
    lock(&ctx.acc).planned.insert(addr.clone());
    let dependencies: Vec<ResourceAddr> = engine
        .graph
        .resource_dependencies(&NodeKey::Resource(addr.config_addr()))
        .into_iter()
        .filter(|d| d.mode == Mode::Managed)
        .collect();
    let sensitive = engine.sensitivity.resource_attributes(addr, schema.sensitive_names());
    let change =
        |a: &InstanceAddr, action: Action, reason, before: Option<&Instance>, after: Option<Value>, replace_paths| {
            ResourceChange {
                addr: a.clone(),
                provider: provider.source().to_string(),
                action,
                reason,
                before: before.map(|b| b.attributes.clone()),
                after,
                replace_paths,
                sensitive: sensitive.clone(),
                dependencies: dependencies.clone(),
                each: each_mode(r),
                create_before_destroy: r.lifecycle.create_before_destroy,
                adopted: adopted.contains(a),
                deposed: None,
                explain: Vec::new(),
                previous_address: None,
            }
        };

    let mut changes = Vec::new();
    let mut instance_values: Vec<(InstanceKey, Value)> = Vec::new();
    let mut reads = Vec::new();

    if ctx.opts.mode != PlanMode::Normal {
        for (a, inst) in &prior {
            instance_values.push((a.key.clone(), inst.attributes.clone()));
            if ctx.opts.mode == PlanMode::Destroy && addr.mode == Mode::Managed {
                if r.lifecycle.prevent_destroy {
                    return Err(prevent_destroy_error(a, r));
                }
                changes.push(change(a, Action::Delete, None, Some(inst), None, Vec::new()));
            }
        }
    } else {
        // Evaluate and diff under the read lock; provider I/O happens after.
        let expanded = {
            let values = ctx.values.0.read().unwrap_or_else(|p| p.into_inner());
            let Some(expansion) = engine.expand(r, &addr.module, &values)? else {
                let e = r.count.as_ref().or(r.for_each.as_ref()).map(|e| e.span().clone()).unwrap_or_default();
                return Err(Diagnostic::error(if r.count.is_some() { "Invalid count argument" } else { "Invalid for_each argument" })
                    .with_detail("The value depends on resource attributes that cannot be determined until apply, so ecspoc cannot predict how many instances will be created. Use -target to apply the resources it depends on first.")
                    .with_span(&e)
                    .into());
            };
            let mut diags = Diagnostics::default();
            let mut out = Vec::new();
            for x in expansion {
                match engine.eval_instance_config(r, &addr.module, &values, &x) {
                    Ok(cfg) => out.push((x.key, cfg)),
                    Err(d) => diags.extend(d),
                }
            }
            if diags.has_errors() {
                return Err(diags);
            }
            out
        };
        let keys: BTreeSet<InstanceKey> = expanded.iter().map(|(k, _)| k.clone()).collect();
        let triggered = replace_triggered(ctx, r, addr);
        for (key, cfg) in expanded {
            let a = addr.instance(key.clone());
            let p = prior.get(&a);
            if addr.mode == Mode::Data {
                if cfg.is_wholly_known() {
                    reads.push((a, cfg));
                } else {
                    let planned = unknown_data(schema, &cfg);
                    instance_values.push((key, planned.clone()));
                    changes.push(change(
                        &a,
                        Action::Read,
                        Some(ActionReason::ReadBecauseConfigUnknown),
                        None,
                        Some(planned),
                        Vec::new(),
                    ));
                }
                continue;
            }
            let ip = plan_instance(InstanceInputs {
                provider: provider.as_ref(),
                schema,
                type_: &addr.type_,
                prior: p,
                config: &cfg,
                lifecycle: &r.lifecycle,
                replace_requested: if ctx.opts.replace.contains(&a) {
                    Some(ActionReason::ReplaceByRequest)
                } else if triggered {
                    Some(ActionReason::ReplaceByTriggers)
                } else {
                    None
                },
            })
            .map_err(|e| {
                Diagnostics::from(
                    Diagnostic::error("Provider failed to plan").with_detail(e.describe()).with_address(a.to_string()),
                )
            })?;
            if ip.action.deletes() && r.lifecycle.prevent_destroy {
                return Err(prevent_destroy_error(&a, r));
            }
            for w in provider.warnings(&addr.type_, &ip.planned) {
                lock(&ctx.acc).warnings.push(Diagnostic::warning(w).with_address(a.to_string()).with_span(&r.span));
            }
            instance_values.push((key, ip.planned.clone()));
            let mut ch = change(&a, ip.action, ip.reason, p, Some(ip.planned), ip.replace_paths);
            ch.explain = explain(r, &ch, ctx.stored.instances.get(&a));
            changes.push(ch);
        }
        // Stored instances whose key is no longer produced.
        for (a, inst) in &prior {
            if addr.mode == Mode::Managed && !keys.contains(&a.key) {
                if r.lifecycle.prevent_destroy {
                    return Err(prevent_destroy_error(a, r));
                }
                let reason = if r.for_each.is_some() {
                    ActionReason::DeleteBecauseEachKey
                } else {
                    ActionReason::DeleteBecauseCountIndex
                };
                changes.push(change(a, Action::Delete, Some(reason), Some(inst), None, Vec::new()));
            }
        }
    }
    // Data sources whose arguments are known are read now.
    for (a, cfg) in reads {
        let value = {
            let _g = ctx.global.acquire().await;
            provider.read_data(&addr.type_, &cfg).await.map_err(|e| {
                Diagnostics::from(
                    Diagnostic::error("Failed to read data source")
                        .with_detail(e.describe())
                        .with_address(a.to_string())
                        .with_span(&r.span),
                )
            })?
        };
        instance_values.push((a.key.clone(), value.clone()));
        prior.insert(a.clone(), Instance::new(value, provider.source(), each_mode(r), schema.sensitive_names()));
    }
    for c in changes.iter_mut() {
        let mut all =
            crate::sensitivity::Sensitivity::with_echoes(c.after.as_ref().unwrap_or(&Value::Null), &c.sensitive);
        all = crate::sensitivity::Sensitivity::with_echoes(c.before.as_ref().unwrap_or(&Value::Null), &all);
        c.sensitive = all;
    }
    instance_values.sort_by(|a, b| a.0.cmp(&b.0));
    // A destroy plan needs no value of an object that is not there (data not
    // read, resources never made): unknown, so whatever refers to it waits
    // instead of failing on a null.
    let value = if ctx.opts.mode == PlanMode::Destroy && instance_values.is_empty() {
        Value::Unknown
    } else {
        aggregate(r, instance_values)
    };
    ctx.values.set(NodeKey::Resource(addr.clone()), value);
    let mut acc = lock(&ctx.acc);
    acc.changes.extend(changes);
    acc.refreshed.extend(prior);
    Ok(())
}

/// `lifecycle.replace_triggered_by`: replace when a referenced resource has a
/// planned create, update or replacement. References are graph edges, so
/// those resources were planned before this one.
fn replace_triggered(ctx: &Ctx, r: &crate::config::Resource, addr: &ResourceAddr) -> bool {
    let referenced: BTreeSet<ResourceAddr> = r
        .lifecycle
        .replace_triggered_by
        .iter()
        .flat_map(|e| e.references())
        .filter_map(|(reference, _)| match reference {
            crate::config::Reference::Resource { mode, type_, name } => {
                Some(ResourceAddr { module: addr.module.clone(), mode, type_, name })
            }
            _ => None,
        })
        .collect();
    if referenced.is_empty() {
        return false;
    }
    lock(&ctx.acc).changes.iter().any(|c| {
        referenced.contains(&c.addr.resource)
            && (matches!(c.action, Action::Create | Action::Update) || c.action.is_replace())
    })
}

fn prevent_destroy_error(a: &InstanceAddr, r: &crate::config::Resource) -> Diagnostics {
    Diagnostic::error("Instance cannot be destroyed")
        .with_detail(format!(
            "{a} has lifecycle.prevent_destroy set, but the plan calls for it to be destroyed. To avoid this, change the configuration so it is updated in place, or remove prevent_destroy."
        ))
        .with_span(&r.span)
        .into()
}

fn unknown_data(schema: &crate::provider::ResourceSchema, cfg: &Value) -> Value {
    Value::Map(
        schema
            .attributes
            .iter()
            .map(|(k, a)| {
                (
                    k.to_string(),
                    cfg.get(k).cloned().filter(|v| !v.is_null()).unwrap_or(if a.computed {
                        Value::Unknown
                    } else {
                        Value::Null
                    }),
                )
            })
            .collect(),
    )
}

/// Resources in state whose block is gone from the configuration.
/// Resources of module instances that no longer exist are orphans too.
async fn plan_orphans(ctx: &Ctx) {
    let in_config: BTreeSet<ResourceAddr> = lock(&ctx.acc).planned.clone();
    // A create left unfinished for a block since removed is looked for too:
    // if its object exists, it is an orphan like any other.
    let orphans: BTreeSet<ResourceAddr> = ctx
        .stored
        .instances
        .keys()
        .chain(ctx.stored.pending_creates.keys())
        .map(|a| a.resource.clone())
        .filter(|r| !in_config.contains(r))
        .collect();
    for addr in orphans {
        let refreshed = if addr.mode == Mode::Managed && ctx.engine.provider_for(&addr.type_, addr.mode).is_ok() {
            match refresh(ctx, &addr).await {
                Ok(r) => r,
                Err(d) => {
                    lock(&ctx.acc).diags.extend(d);
                    continue;
                }
            }
        } else {
            ctx.stored.resource_instances(&addr).map(|(a, i)| (a.clone(), i.clone())).collect()
        };
        let module_gone = {
            let values = ctx.values.0.read().unwrap_or_else(|p| p.into_inner());
            !ctx.engine.config.modules.contains_key(&addr.module.calls())
                || !ctx.engine.module_instances(&addr.module.calls(), &values).is_ok_and(|m| m.contains(&addr.module))
        };
        let mut acc = lock(&ctx.acc);
        for (a, inst) in refreshed {
            if addr.mode == Mode::Managed && ctx.opts.mode != PlanMode::RefreshOnly {
                let reason = if module_gone {
                    ActionReason::DeleteBecauseNoModule
                } else {
                    ActionReason::DeleteBecauseNoResourceConfig
                };
                let mut ch = drift_change(&a, &inst, None, Action::Delete);
                ch.reason = (ctx.opts.mode == PlanMode::Normal).then_some(reason);
                acc.changes.push(ch);
            }
            if addr.mode == Mode::Managed {
                acc.refreshed.insert(a, inst);
            }
        }
    }
}

/// Does the resource at `dependent`, which records `dependency` (a block, as
/// state keeps it), depend on the objects of `x`?
pub(crate) fn depends_on(dependent: &ResourceAddr, dependency: &ResourceAddr, x: &ResourceAddr) -> bool {
    x.config_addr() == *dependency && dependent.can_reach(x)
}

fn finish(ctx: Arc<Ctx>) -> Result<Plan, Diagnostics> {
    let ctx = Arc::try_unwrap(ctx).unwrap_or_else(|_| unreachable!("the walk has ended, so no task holds the context"));
    let mut acc = ctx.acc.into_inner().unwrap_or_else(|p| p.into_inner());
    if acc.diags.has_errors() {
        return Err(acc.diags);
    }
    let engine = &ctx.engine;
    let opts = &ctx.opts;
    // -target: keep the targets and what they depend on (for destroy: what depends on them).
    if !opts.targets.is_empty() {
        // The graph knows blocks, not module instances: a target names the
        // blocks it is in, and what they depend on is kept...
        let targeted: Vec<NodeKey> = engine
            .graph
            .index
            .keys()
            .filter(|k| {
                matches!(k, NodeKey::Resource(r) if opts.targets.iter().any(|t| t.config_target().contains_resource(r)))
            })
            .cloned()
            .collect();
        let keep = engine.graph.closure_of_dependencies(targeted);
        // ...except the other instances of a targeted module instance.
        let other_instance = |c: &ResourceChange| {
            opts.targets.iter().any(|t| {
                let m = t.module();
                c.addr.resource.module.calls().within(&m.calls()) && !c.addr.resource.module.within(m)
            })
        };
        acc.changes.retain(|c| {
            opts.targets.iter().any(|t| t.contains(&c.addr))
                || (opts.mode != PlanMode::Destroy
                    && keep.contains(&NodeKey::Resource(c.addr.resource.config_addr()))
                    && !other_instance(c))
        });
        if opts.mode == PlanMode::Destroy {
            // Whatever depends on a destroyed object must go first, so it goes too.
            let mut doomed: BTreeSet<ResourceAddr> = acc.changes.iter().map(|c| c.addr.resource.clone()).collect();
            loop {
                let more: Vec<ResourceChange> = ctx
                    .stored
                    .managed()
                    .filter(|(a, i)| {
                        !doomed.contains(&a.resource)
                            && i.dependencies.iter().any(|d| doomed.iter().any(|x| depends_on(&a.resource, d, x)))
                    })
                    .map(|(a, i)| drift_change(a, i, None, Action::Delete))
                    .collect();
                if more.is_empty() {
                    break;
                }
                for c in more {
                    doomed.insert(c.addr.resource.clone());
                    acc.changes.push(c);
                }
            }
        }
    }
    for c in acc.changes.iter_mut().filter(|c| c.deposed.is_none()) {
        c.previous_address = ctx.moved_from.get(&c.addr).cloned();
    }
    acc.changes.sort_by_cached_key(|c| (super::sort_key(&c.addr), c.deposed.clone()));
    acc.changes.dedup_by(|a, b| a.addr == b.addr && a.deposed == b.deposed);
    let mut outputs = Vec::new();
    let root_outputs = &engine.config.root().outputs;
    if opts.mode != PlanMode::Destroy {
        for (name, o) in root_outputs {
            let after = ctx
                .values
                .get(&NodeKey::Output(crate::addr::ModulePath::root(), name.clone()))
                .unwrap_or(Value::Unknown);
            let before = ctx.stored.outputs.get(name).map(|s| s.value.clone());
            outputs.push(OutputChange { name: name.clone(), before, after, sensitive: o.sensitive });
        }
    }
    // Outputs that go away: all of them in a destroy plan, else those whose block was removed.
    for (name, stored) in &ctx.stored.outputs {
        if opts.mode == PlanMode::Destroy || !root_outputs.contains_key(name) {
            outputs.push(OutputChange {
                name: name.clone(),
                before: Some(stored.value.clone()),
                after: Value::Null,
                sensitive: stored.sensitive,
            });
        }
    }
    outputs.sort_by(|a, b| a.name.cmp(&b.name));
    // Only drift that matters to this plan is shown, as Terraform shows it:
    // changes to attributes that a changing resource or output reads.
    if opts.mode != PlanMode::RefreshOnly {
        let changing: Vec<ResourceAddr> =
            acc.changes.iter().filter(|c| !c.is_noop()).map(|c| c.addr.resource.clone()).collect();
        let outputs_changing = outputs.iter().filter(|o| o.action() != Action::NoOp).map(|o| o.name.as_str());
        let relevant = super::relevance::relevant_attributes(&engine.config, &changing, outputs_changing);
        acc.drift.retain_mut(|d| relevant.keep_relevant(d));
    }
    acc.drift.sort_by_cached_key(|c| super::sort_key(&c.addr));
    let variables = engine
        .config
        .root()
        .variables
        .keys()
        .filter_map(|n| {
            ctx.values.get(&NodeKey::Variable(crate::addr::ModulePath::root(), n.clone())).map(|v| (n.clone(), v))
        })
        .collect();
    let prior_state = State {
        serial: ctx.stored.serial,
        lineage: ctx.stored.lineage.clone(),
        instances: acc.refreshed,
        outputs: ctx.stored.outputs.clone(),
        pending_creates: BTreeMap::new(),
        deposed: ctx.stored.deposed.clone(),
        kept: ctx.stored.kept.clone(),
    };
    Ok(Plan {
        mode: opts.mode,
        changes: acc.changes,
        drift: acc.drift,
        outputs,
        variables,
        base_serial: ctx.stored.serial,
        prior_state,
        warnings: acc.warnings,
        targets: opts.targets.iter().map(ToString::to_string).collect(),
        config_files: engine.config.snapshot(),
        timestamp: now_rfc3339(),
    })
}

#[cfg(test)]
mod tests {
    use super::same_as_stored;
    use crate::value::Value;

    fn j(text: &str) -> Value {
        Value::from_json(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn what_terraform_stored_and_what_ecspoc_reads_are_the_same_when_only_the_spelling_differs() {
        let same = |a: &str, b: &str| same_as_stored(Some(&j(a)), Some(&j(b)));
        assert!(same(r#""""#, "null"), "unset and empty");
        assert!(same(r#"[{"name": null, "port": 0}]"#, r#"[{"name": "", "port": null}]"#), "inside blocks");
        assert!(same(r#"[{"p": 22}, {"p": 443}]"#, r#"[{"p": 443}, {"p": 22}]"#), "sets in any order");
        assert!(same(r#""{\"b\":1,\"a\":[1,2]}""#, r#""{\"a\":[1,2],\"b\":1}""#), "JSON by meaning");
        assert!(!same(r#"[{"p": 22}, {"p": 22}]"#, r#"[{"p": 22}, {"p": 443}]"#), "each element matched once");
        assert!(!same(r#""{\"a\":[1,2]}""#, r#""{\"a\":[2,1]}""#), "JSON lists keep their order");
        assert!(
            same(r#""[{\"name\":\"x\",\"mountPoints\":[],\"environment\":[]}]""#, r#""[{\"name\":\"x\"}]""#),
            "empty members of a document are members left out"
        );
        assert!(!same(r#""[{\"name\":\"x\",\"cpu\":0}]""#, r#""[{\"name\":\"x\"}]""#), "zero is a value in a document");
        assert!(!same(r#""x""#, "null"));
    }
}
