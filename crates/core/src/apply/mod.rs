//! Applying a plan: the same graph walked in parallel, each resource's
//! changes executed once its dependencies are done, every completed
//! operation journaled before its dependents start.

use crate::addr::{InstanceAddr, InstanceKey, Mode, ResourceAddr};
use crate::diag::{Diagnostic, Diagnostics};
use crate::engine::{Engine, InputVariables, InstanceInputs, aggregate, each_mode, plan_instance};
use crate::events::{Event, Observer};
use crate::graph::NodeKey;
use crate::plan::{Action, Plan, PlanMode, ResourceChange};
use crate::priority::{PrioritySemaphore, Ticket};
use crate::provider::{Marker, Provider};
use crate::state::journal::{JournalSink, Record};
use crate::state::{Instance, OutputValue, State};
use crate::value::Value;
use crate::walk::{NodeStatus, WalkGraph, walk};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod graph;
use graph::ApplyNode;

pub struct ApplyOptions {
    pub parallelism: usize,
    pub inputs: InputVariables,
    /// Set on Ctrl-C: no new operation starts; running ones finish.
    pub stop: Arc<AtomicBool>,
    /// Cancelled on a second Ctrl-C: operations in flight are abandoned
    /// (a create's intent stays, so the next run finds its object).
    pub cancel: tokio_util::sync::CancellationToken,
    /// How often a running operation reports it is still going.
    pub progress_every: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            inputs: BTreeMap::new(),
            stop: Arc::new(AtomicBool::new(false)),
            cancel: tokio_util::sync::CancellationToken::new(),
            progress_every: Duration::from_secs(10),
        }
    }
}

#[derive(Debug)]
pub struct ApplyOutcome {
    pub state: State,
    pub diags: Diagnostics,
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
    /// The walk was stopped (Ctrl-C) before every operation ran.
    pub interrupted: bool,
}

/// Which planned deletions a delete node carries out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Deletion {
    Orphans,
    BeforeCreate,
    Deposed,
}

struct Ctx {
    engine: Arc<Engine>,
    mode: PlanMode,
    changes: HashMap<ResourceAddr, Vec<ResourceChange>>,
    inputs: InputVariables,
    values: crate::engine::Values,
    state: Mutex<State>,
    journal: Arc<dyn JournalSink>,
    observer: Arc<dyn Observer>,
    global: Arc<PrioritySemaphore>,
    per_provider: HashMap<&'static str, Arc<PrioritySemaphore>>,
    /// Each resource's walk priority: its operations wait for slots in this order.
    priority: HashMap<ResourceAddr, u64>,
    progress_every: Duration,
    diags: Mutex<Diagnostics>,
    counts: Mutex<(usize, usize, usize)>,
    stop: Arc<AtomicBool>,
    cancel: tokio_util::sync::CancellationToken,
    /// Operations that had a slot coming but were not started after a stop.
    not_started: std::sync::atomic::AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub async fn apply(
    engine: Arc<Engine>,
    plan: &Plan,
    mut state: State,
    journal: Arc<dyn JournalSink>,
    opts: ApplyOptions,
    observer: Arc<dyn Observer>,
) -> ApplyOutcome {
    // What refresh found becomes state first: changes are applied to the
    // objects as they are now, and a refresh-only plan is just this. Objects
    // the plan found by their marker are among them (in prior state, not in
    // stored state); data read at plan time follows.
    let refreshed: Vec<(InstanceAddr, Option<Instance>)> = state
        .managed()
        .filter(|(a, i)| plan.prior_state.instances.get(*a) != Some(*i))
        .map(|(a, _)| (a.clone(), plan.prior_state.instances.get(a).cloned()))
        .chain(
            plan.prior_state
                .managed()
                .filter(|(a, _)| !state.instances.contains_key(*a))
                .map(|(a, i)| (a.clone(), Some(i.clone()))),
        )
        .collect();
    for (addr, now) in refreshed {
        let record = match &now {
            Some(inst) => Record::put(&addr, inst),
            None => Record::Remove { addr: addr.clone() },
        };
        if let Err(e) = journal.append(&record).await {
            return failed(state, Diagnostic::error("Failed to record refreshed state").with_detail(e.to_string()));
        }
        state.pending_creates.remove(&addr);
        match now {
            Some(inst) => state.instances.insert(addr, inst),
            None => state.instances.remove(&addr),
        };
    }
    // Deposed objects a `moved` block gave a new address: recorded there too.
    let moved_away: Vec<(InstanceAddr, String)> =
        state.deposed.keys().filter(|k| !plan.prior_state.deposed.contains_key(*k)).cloned().collect();
    let moved_here: Vec<((InstanceAddr, String), Instance)> = (plan.prior_state.deposed.iter())
        .filter(|(k, _)| !state.deposed.contains_key(*k))
        .map(|(k, i)| (k.clone(), i.clone()))
        .collect();
    for ((addr, key), inst) in moved_here {
        let record = Record::PutDeposed {
            addr: addr.clone(),
            key: key.clone(),
            provider: inst.provider.clone(),
            each: inst.each.clone(),
            instance: Box::new(crate::state::instance_to_file(&addr, &inst)),
        };
        if let Err(e) = journal.append(&record).await {
            return failed(state, Diagnostic::error("Failed to record a moved object").with_detail(e.to_string()));
        }
        state.deposed.insert((addr, key), inst);
    }
    for (addr, key) in moved_away {
        if let Err(e) = journal.append(&Record::RemoveDeposed { addr: addr.clone(), key: key.clone() }).await {
            return failed(state, Diagnostic::error("Failed to record a moved object").with_detail(e.to_string()));
        }
        state.deposed.remove(&(addr, key));
    }
    for (a, inst) in plan.prior_state.instances.iter().filter(|(a, _)| a.resource.mode == Mode::Data) {
        state.instances.insert(a.clone(), inst.clone());
    }
    let mut changes: HashMap<ResourceAddr, Vec<ResourceChange>> = HashMap::new();
    for c in &plan.changes {
        if c.action != Action::NoOp {
            changes.entry(c.addr.resource.clone()).or_default().push(c.clone());
        }
    }
    let (nodes, wg) = walk_graph(&engine, plan.mode, &changes, &state);
    let per_provider =
        engine.providers.iter().map(|p| (p.local_name(), PrioritySemaphore::new(p.concurrency().max(1)))).collect();
    let priority = nodes
        .iter()
        .zip(wg.priorities())
        .filter_map(|(n, p)| match n {
            ApplyNode::Config(NodeKey::Resource(r))
            | ApplyNode::Delete(r)
            | ApplyNode::DestroyBeforeCreate(r)
            | ApplyNode::DestroyDeposed(r) => Some((r.clone(), p)),
            _ => None,
        })
        .collect();
    let ctx = Arc::new(Ctx {
        engine: engine.clone(),
        mode: plan.mode,
        changes,
        inputs: opts.inputs,
        values: Default::default(),
        state: Mutex::new(state),
        journal,
        observer,
        global: PrioritySemaphore::new(opts.parallelism.max(1)),
        per_provider,
        priority,
        progress_every: opts.progress_every,
        diags: Mutex::new(Diagnostics::default()),
        counts: Mutex::new((0, 0, 0)),
        stop: opts.stop.clone(),
        cancel: opts.cancel.clone(),
        not_started: Default::default(),
    });
    let nodes = Arc::new(nodes);
    let (c, n2) = (ctx.clone(), nodes.clone());
    let gate = ctx.global.clone();
    let outcome = walk(&wg, opts.stop.clone(), Some(gate), move |i, ticket| {
        let ctx = c.clone();
        let node = n2[i].clone();
        async move {
            let r = match &node {
                ApplyNode::Config(key) => apply_config_node(&ctx, key, ticket).await,
                ApplyNode::Delete(addr) => delete_objects(&ctx, addr, Deletion::Orphans, ticket).await,
                ApplyNode::DestroyBeforeCreate(addr) => {
                    delete_objects(&ctx, addr, Deletion::BeforeCreate, ticket).await
                }
                ApplyNode::DestroyDeposed(addr) => delete_objects(&ctx, addr, Deletion::Deposed, ticket).await,
            };
            match r {
                Ok(()) => true,
                Err(d) => {
                    lock(&ctx.diags).extend(d);
                    false
                }
            }
        }
    })
    .await;
    report_unfinished(&ctx, &nodes, &wg, &outcome);
    let status = &outcome.status;
    let interrupted = opts.stop.load(std::sync::atomic::Ordering::SeqCst)
        && (status.contains(&NodeStatus::Skipped)
            || ctx.not_started.load(std::sync::atomic::Ordering::SeqCst) > 0
            || ctx.cancel.is_cancelled());
    let ctx = Arc::try_unwrap(ctx).unwrap_or_else(|_| unreachable!("the walk has ended, so no task holds the context"));
    let mut state = ctx.state.into_inner().unwrap_or_else(|p| p.into_inner());
    if ctx.mode == PlanMode::Destroy {
        state.outputs.clear();
        state.instances.retain(|a, _| a.resource.mode == Mode::Managed);
    } else {
        let root = crate::addr::ModulePath::root();
        for (name, o) in &engine.config.root().outputs {
            match ctx.values.get(&NodeKey::Output(root.clone(), name.clone())) {
                Some(v) if v.is_wholly_known() => {
                    state.outputs.insert(name.clone(), OutputValue { value: v, sensitive: o.sensitive });
                }
                _ => {}
            }
        }
        state.outputs.retain(|k, _| engine.config.root().outputs.contains_key(k));
    }
    let (added, changed, destroyed) = *lock(&ctx.counts);
    ApplyOutcome {
        state,
        diags: ctx.diags.into_inner().unwrap_or_else(|p| p.into_inner()),
        added,
        changed,
        destroyed,
        interrupted,
    }
}

/// No node vanishes from a run: a panic is an internal error naming its
/// node, and what was skipped because of it (or of any failure) is named.
fn report_unfinished(ctx: &Ctx, nodes: &[ApplyNode], wg: &WalkGraph, outcome: &crate::walk::WalkOutcome) {
    let mut diags = lock(&ctx.diags);
    for (i, message) in &outcome.panics {
        let mut d = Diagnostic::error("Internal error: an operation panicked").with_detail(format!(
            "ecspoc stopped working on {} because of a bug: {message}\n\nEverything completed before it is recorded in state. Please report this.",
            nodes[*i]
        ));
        if let ApplyNode::Config(NodeKey::Resource(r)) = &nodes[*i] {
            d = d.with_address(r.to_string());
        }
        diags.push(d);
    }
    let skipped: Vec<String> = outcome
        .skipped_by_failure(wg)
        .into_iter()
        .filter(|&i| !matches!(&nodes[i], ApplyNode::Config(k) if !matches!(k, NodeKey::Resource(_))))
        .filter(|&i| wg.weight[i] > 0)
        .map(|i| nodes[i].to_string())
        .collect();
    if !skipped.is_empty() && diags.has_errors() {
        diags.push(Diagnostic::error("Changes not applied").with_detail(format!(
            "These were not changed because something they depend on failed; run apply again once it is fixed:\n  {}",
            skipped.join("\n  ")
        )));
    }
}

/// The apply graph for this plan: the configuration's nodes (for destroy,
/// only what provider configurations need) and the plan's destroys.
fn walk_graph(
    engine: &Engine,
    mode: PlanMode,
    changes: &HashMap<ResourceAddr, Vec<ResourceChange>>,
    state: &State,
) -> (Vec<ApplyNode>, WalkGraph) {
    let destroy = mode == PlanMode::Destroy;
    let keys: Vec<NodeKey> = if destroy {
        let providers: Vec<NodeKey> =
            engine.graph.index.keys().filter(|k| matches!(k, NodeKey::Provider(_))).cloned().collect();
        engine.graph.closure_of_dependencies(providers).into_iter().collect()
    } else {
        engine.graph.graph.node_weights().cloned().collect()
    };
    let config =
        keys.into_iter().map(|k| (k.clone(), engine.graph.dependencies(&k).into_iter().cloned().collect())).collect();
    // Each block's dependencies are a walk of the graph: worked out for the
    // blocks that change, and for all only when an old object waits for
    // whatever refers to it.
    let deposes = changes.values().flatten().any(|c| c.action == Action::CreateThenDelete || c.deposed.is_some());
    let blocks: BTreeSet<ResourceAddr> = if deposes {
        engine
            .graph
            .index
            .keys()
            .filter_map(|k| if let NodeKey::Resource(r) = k { Some(r.clone()) } else { None })
            .collect()
    } else {
        changes.keys().map(ResourceAddr::config_addr).collect()
    };
    let block_deps = blocks
        .into_iter()
        .map(|r| {
            let deps = engine.graph.resource_dependencies(&NodeKey::Resource(r.clone()));
            (r, deps)
        })
        .collect();
    let configured = |a: &ResourceAddr| engine.resource_config(a).is_some();
    let g = graph::build(&graph::Inputs { config, block_deps, changes, configured: &configured, state, destroy });
    (g.nodes, g.walk)
}

fn failed(state: State, d: Diagnostic) -> ApplyOutcome {
    ApplyOutcome { state, diags: d.into(), added: 0, changed: 0, destroyed: 0, interrupted: false }
}

async fn apply_config_node(ctx: &Arc<Ctx>, key: &NodeKey, ticket: Option<Ticket>) -> Result<(), Diagnostics> {
    match key {
        NodeKey::Resource(addr) => apply_resource(ctx, addr, ticket).await,
        _ => ctx.engine.run_value_node(key, &ctx.values, &ctx.inputs).await,
    }
}

fn current_value(ctx: &Ctx, addr: &ResourceAddr) -> Value {
    let state = lock(&ctx.state);
    let instances: Vec<(InstanceKey, Value)> =
        state.resource_instances(addr).map(|(a, i)| (a.key.clone(), i.attributes.clone())).collect();
    drop(state);
    match ctx.engine.resource_config(addr) {
        // Not created yet (e.g. left out by -target): unknown, so what refers to it waits.
        Some(r) if instances.is_empty() && r.count.is_none() && r.for_each.is_none() => Value::Unknown,
        Some(r) => aggregate(r, instances),
        None => Value::Null,
    }
}

/// One operation to run for an instance.
struct Op {
    addr: InstanceAddr,
    action: Action,
    /// A deposed object's key: the delete removes that object, not the
    /// instance's current one.
    deposed: Option<String>,
    /// A create-before-destroy replacement: the current object is deposed
    /// (journaled) before the new one is created.
    depose_first: bool,
    planned: Value,
    /// The evaluated configuration, to converge an object adopted after a failed create.
    config: Value,
    prior: Option<Instance>,
    dependencies: Vec<ResourceAddr>,
    each: Option<String>,
    create_before_destroy: bool,
}

/// A resource block's changes in every instance of its module, run as one
/// batch (instances of different module instances in parallel).
async fn apply_resource(ctx: &Arc<Ctx>, block: &ResourceAddr, ticket: Option<Ticket>) -> Result<(), Diagnostics> {
    let engine = &ctx.engine;
    let addrs: Vec<ResourceAddr> = {
        let values = ctx.values.0.read().unwrap_or_else(|p| p.into_inner());
        let instances = engine.module_instances(&block.module, &values)?;
        instances.into_iter().map(|module| ResourceAddr { module, ..block.clone() }).collect()
    };
    let mut ops = Vec::new();
    if let Some(r) = engine.resource_config(block) {
        for addr in &addrs {
            if let Some(changes) = ctx.changes.get(addr) {
                ops.extend(instance_ops(ctx, r, addr, changes)?);
            }
        }
    }
    if !ops.is_empty() {
        let (provider, _) = engine.provider_for(&block.type_, block.mode)?;
        run_ops(ctx, provider, block, ops, ticket).await?;
    }
    for addr in &addrs {
        ctx.values.set(NodeKey::Resource(addr.clone()), current_value(ctx, addr));
    }
    Ok(())
}

/// The operations for one resource in one module instance, from its planned
/// changes re-evaluated with the values now known.
fn instance_ops(
    ctx: &Ctx,
    r: &crate::config::Resource,
    addr: &ResourceAddr,
    changes: &[ResourceChange],
) -> Result<Vec<Op>, Diagnostics> {
    let engine = &ctx.engine;
    let (provider, schema) = engine.provider_for(&addr.type_, addr.mode)?;
    // Deposed objects are deleted by their own node.
    let current = || changes.iter().filter(|c| c.deposed.is_none());
    let by_addr: BTreeMap<&InstanceAddr, &ResourceChange> = current().map(|c| (&c.addr, c)).collect();
    let mut ops = Vec::new();
    {
        let values = ctx.values.0.read().unwrap_or_else(|p| p.into_inner());
        let expansion = engine.expand(r, &addr.module, &values)?.ok_or_else(|| {
            Diagnostics::from(
                Diagnostic::error("Invalid count argument")
                    .with_detail("count/for_each is still unknown at apply time.")
                    .with_span(&r.span),
            )
        })?;
        let state = lock(&ctx.state);
        for x in &expansion {
            let a = addr.instance(x.key.clone());
            let Some(change) = by_addr.get(&a) else {
                continue;
            };
            let cfg = engine.eval_instance_config(r, &addr.module, &values, x)?;
            if change.action == Action::Read {
                ops.push(Op {
                    addr: a,
                    action: Action::Read,
                    deposed: None,
                    depose_first: false,
                    planned: cfg,
                    config: Value::Null,
                    prior: None,
                    dependencies: Vec::new(),
                    each: each_mode(r),
                    create_before_destroy: false,
                });
                continue;
            }
            let prior = state.instances.get(&a).cloned();
            let ip = plan_instance(InstanceInputs {
                provider: provider.as_ref(),
                schema,
                type_: &addr.type_,
                prior: if change.action.is_replace() || change.action == Action::Create {
                    None
                } else {
                    prior.as_ref()
                },
                config: &cfg,
                lifecycle: &r.lifecycle,
                replace_requested: None,
            })
            .map_err(|e| {
                Diagnostics::from(
                    Diagnostic::error("Provider failed to plan").with_detail(e.describe()).with_address(a.to_string()),
                )
            })?;
            check_consistent(&a, change.after.as_ref(), &ip.planned)?;
            // The old object of a replacement is deleted by its own node.
            let action = if change.action.is_replace() { Action::Create } else { change.action };
            ops.push(Op {
                addr: a,
                action,
                deposed: None,
                depose_first: change.action == Action::CreateThenDelete,
                planned: ip.planned,
                config: cfg,
                prior: if action == Action::Create { None } else { prior },
                dependencies: change.dependencies.clone(),
                each: each_mode(r),
                create_before_destroy: r.lifecycle.create_before_destroy,
            });
        }
        let produced: BTreeSet<&InstanceKey> = expansion.iter().map(|x| &x.key).collect();
        for c in current().filter(|c| c.action == Action::Delete && !produced.contains(&c.addr.key)) {
            let prior = state.instances.get(&c.addr).cloned();
            if prior.is_some() {
                ops.push(Op {
                    addr: c.addr.clone(),
                    action: Action::Delete,
                    deposed: None,
                    depose_first: false,
                    planned: Value::Null,
                    config: Value::Null,
                    prior,
                    dependencies: Vec::new(),
                    each: None,
                    create_before_destroy: false,
                });
            }
        }
    }
    Ok(ops)
}

async fn delete_objects(
    ctx: &Arc<Ctx>,
    addr: &ResourceAddr,
    which: Deletion,
    ticket: Option<Ticket>,
) -> Result<(), Diagnostics> {
    let Some(changes) = ctx.changes.get(addr) else {
        return Ok(());
    };
    let (provider, _) = ctx.engine.provider_for(&addr.type_, addr.mode)?;
    let action = match which {
        Deletion::Orphans => Action::Delete,
        Deletion::BeforeCreate => Action::DeleteThenCreate,
        Deletion::Deposed => Action::CreateThenDelete,
    };
    let delete = |addr: &InstanceAddr, prior: &Instance, deposed: Option<&String>| Op {
        addr: addr.clone(),
        action: Action::Delete,
        deposed: deposed.cloned(),
        depose_first: false,
        planned: Value::Null,
        config: Value::Null,
        prior: Some(prior.clone()),
        dependencies: Vec::new(),
        each: None,
        create_before_destroy: false,
    };
    let ops: Vec<Op> = {
        let state = lock(&ctx.state);
        let mut ops: Vec<Op> = changes
            .iter()
            .filter(|c| c.deposed.is_none() && c.action == action && which != Deletion::Deposed)
            .filter_map(|c| state.instances.get(&c.addr).map(|prior| delete(&c.addr, prior, None)))
            .collect();
        // Deposed objects: those this run's replacements deposed (keys chosen
        // as they were), and those the plan found left over.
        if which != Deletion::BeforeCreate {
            for ((a, key), prior) in state.deposed.iter().filter(|((a, _), _)| &a.resource == addr) {
                let planned = changes
                    .iter()
                    .any(|c| &c.addr == a && (c.deposed.as_ref() == Some(key) || c.action == Action::CreateThenDelete));
                if planned {
                    ops.push(delete(a, prior, Some(key)));
                }
            }
        }
        ops
    };
    run_ops(ctx, provider, addr, ops, ticket).await
}

/// Planned values that were known at plan time must not change at apply time.
fn check_consistent(addr: &InstanceAddr, planned_then: Option<&Value>, planned_now: &Value) -> Result<(), Diagnostics> {
    let (Some(Value::Map(then)), Value::Map(now)) = (planned_then, planned_now) else {
        return Ok(());
    };
    for (k, v) in then {
        if v.is_wholly_known() && now.get(k) != Some(v) {
            return Err(Diagnostic::error("Provider produced inconsistent final plan")
                .with_detail(format!("When expanding the plan for {addr}, the value of {k:?} changed from {v} to {}. This is a bug in ecspoc or its provider; run plan again.", now.get(k).cloned().unwrap_or_default()))
                .with_address(addr.to_string())
                .into());
        }
    }
    Ok(())
}

async fn run_ops(
    ctx: &Arc<Ctx>,
    provider: &Arc<dyn Provider>,
    addr: &ResourceAddr,
    ops: Vec<Op>,
    ticket: Option<Ticket>,
) -> Result<(), Diagnostics> {
    // The walker's ticket is the first operation's place in the queue.
    let mut ticket = ticket;
    let mut set = tokio::task::JoinSet::new();
    for op in ops {
        let place = ticket.take();
        let ctx = ctx.clone();
        let provider = provider.clone();
        let type_ = addr.type_.clone();
        set.spawn(async move { run_op(&ctx, provider.as_ref(), &type_, op, place).await });
    }
    let mut diags = Diagnostics::default();
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(d)) => diags.push(d),
            Err(e) => diags.push(
                Diagnostic::error("An operation panicked").with_detail(e.to_string()).with_address(addr.to_string()),
            ),
        }
    }
    if diags.is_empty() { Ok(()) } else { Err(diags) }
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "destroy",
        Action::Read => "read",
        _ => "replace",
    }
}

async fn run_op(
    ctx: &Ctx,
    provider: &dyn Provider,
    type_: &str,
    op: Op,
    place: Option<Ticket>,
) -> Result<(), Diagnostic> {
    let priority = (ctx.priority.get(&op.addr.resource))
        .or_else(|| ctx.priority.get(&op.addr.resource.config_addr()))
        .copied()
        .unwrap_or(0);
    let _g = match place {
        Some(t) => t.wait().await,
        None => ctx.global.acquire(priority).await,
    };
    let _p = match ctx.per_provider.get(provider.local_name()) {
        Some(s) => Some(s.acquire(priority).await),
        None => None,
    };
    if ctx.stop.load(std::sync::atomic::Ordering::SeqCst) {
        // Interrupted while waiting for a slot: this operation never begins.
        ctx.not_started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        return Ok(());
    }
    let started = Instant::now();
    ctx.observer.on(Event::ApplyStart { addr: op.addr.clone(), action: op.action });
    let work = execute(ctx, provider, type_, &op);
    tokio::pin!(work);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + ctx.progress_every, ctx.progress_every);
    let result = loop {
        tokio::select! {
            r = &mut work => break r,
            _ = ctx.cancel.cancelled() => break Err(format!(
                "cancelled by a second interrupt before it finished{}",
                if op.action == Action::Create || op.action.is_replace() {
                    "; if the object was made, the next run finds it by its marker"
                } else {
                    "; the next run reads the object as it is now"
                }
            )),
            _ = ticker.tick() => ctx.observer.on(Event::ApplyProgress { addr: op.addr.clone(), action: op.action, elapsed: started.elapsed() }),
        }
    };
    let elapsed = started.elapsed();
    match result {
        Ok(id) => {
            ctx.observer.on(Event::ApplyComplete { addr: op.addr.clone(), action: op.action, id, elapsed });
            let mut c = lock(&ctx.counts);
            let (add, change, destroy) = op.action.tally();
            *c = (c.0 + add, c.1 + change, c.2 + destroy);
            Ok(())
        }
        Err(e) => {
            ctx.observer.on(Event::ApplyErrored { addr: op.addr.clone(), action: op.action, elapsed });
            Err(Diagnostic::error(format!("failed to {} {}", verb(op.action), op.addr))
                .with_detail(e)
                .with_address(op.addr.to_string()))
        }
    }
}

/// Run the provider calls of one operation, journaling each completed step.
async fn execute(ctx: &Ctx, provider: &dyn Provider, type_: &str, op: &Op) -> Result<Option<String>, String> {
    let schema = match op.action {
        Action::Read => provider.schema().data_sources.get(type_),
        _ => provider.schema().resources.get(type_),
    };
    let sensitive = ctx
        .engine
        .sensitivity
        .resource_attributes(&op.addr.resource, schema.map(|s| s.sensitive_names()).unwrap_or_default());
    let record = async |r: Record| ctx.journal.append(&r).await.map_err(journal_failed);
    // Attributes a provider returns are in its schema's current version.
    let version = schema.map_or(0, |s| s.version);
    let new_instance = |attrs: Value| Instance {
        sensitive_attributes: crate::sensitivity::Sensitivity::with_echoes(&attrs, &sensitive),
        dependencies: op.dependencies.clone(),
        create_before_destroy: op.create_before_destroy,
        schema_version: version,
        ..Instance::new(attrs, provider.source(), op.each.clone(), Vec::new())
    };
    let create = || async {
        let mut marker = Marker {
            address: op.addr.to_string(),
            lineage: lock(&ctx.state).lineage.clone(),
            name: None,
            create_id: uuid::Uuid::new_v4().simple().to_string(),
        };
        marker.name = provider.created_name(type_, &op.planned, &marker);
        if provider.adopts_by_marker(type_) {
            record(Record::Intent { addr: op.addr.clone(), marker: marker.clone() }).await?;
            // Until the object is recorded, its intent stays: the next run looks for it by marker.
            lock(&ctx.state).pending_creates.insert(op.addr.clone(), marker.clone());
        }
        let mut attempt = 0;
        let attrs = loop {
            let failure = match provider.create(type_, &op.planned, &marker).await {
                Ok(attrs) => break attrs,
                Err(e) => e,
            };
            if failure.transient && attempt < CREATE_ATTEMPTS {
                // The remote side may still be making it visible: wait before looking.
                tokio::time::sleep(create_backoff(attempt)).await;
            }
            match adopt_after_failed_create(ctx, provider, type_, op, &marker, &failure, &new_instance).await {
                Adoption::Done(id) => return Ok(id),
                Adoption::Failed(message) => return Err(message),
                Adoption::NotFound if failure.transient && attempt < CREATE_ATTEMPTS => attempt += 1,
                Adoption::NotFound => return Err(failure.describe()),
            }
        };
        record_object(ctx, &op.addr, new_instance(attrs)).await
    };
    let delete = |prior: &Instance| {
        let prior = prior.clone();
        async move {
            provider.delete(type_, &prior.attributes).await.map_err(|e| e.describe())?;
            // The run's state first: if the journal cannot be written, the
            // state saved at the end (or errored.tfstate) still has the truth.
            lock(&ctx.state).instances.remove(&op.addr);
            record(Record::Remove { addr: op.addr.clone() }).await?;
            Ok::<_, String>(())
        }
    };
    match op.action {
        Action::Create if op.depose_first => {
            // The old object is journaled as deposed before the new one
            // exists: a crash anywhere after leaves it in state, to destroy.
            let key = depose(ctx, &op.addr).await?;
            let created = create().await;
            if created.is_err()
                && let Some(key) = key
            {
                undepose(ctx, &op.addr, key).await?;
            }
            created
        }
        Action::Create => create().await,
        Action::Read => {
            let attrs = provider.read_data(type_, &op.planned).await.map_err(|e| e.describe())?;
            let inst = Instance::new(attrs, provider.source(), op.each.clone(), sensitive.clone());
            lock(&ctx.state).instances.insert(op.addr.clone(), inst);
            Ok(None)
        }
        Action::Update => {
            let prior = op.prior.as_ref().ok_or("the object to update is no longer in state")?;
            let attrs = provider.update(type_, &prior.attributes, &op.planned).await.map_err(|e| e.describe())?;
            let attrs = match schema {
                Some(schema) => crate::state::keep_unmodeled(&prior.attributes, attrs, schema),
                None => attrs,
            };
            let inst = Instance {
                sensitive_attributes: crate::sensitivity::Sensitivity::with_echoes(&attrs, &sensitive),
                attributes: attrs,
                dependencies: op.dependencies.clone(),
                schema_version: version,
                ..prior.clone()
            };
            record_object(ctx, &op.addr, inst).await
        }
        Action::Delete if op.deposed.is_some() => {
            let prior = op.prior.as_ref().ok_or("the old object is unknown")?;
            let key = op.deposed.clone().unwrap_or_default();
            provider.delete(type_, &prior.attributes).await.map_err(|e| {
                format!("the deposed object {key} could not be destroyed (it stays in state, and the next apply tries again): {}", e.describe())
            })?;
            lock(&ctx.state).deposed.remove(&(op.addr.clone(), key.clone()));
            record(Record::RemoveDeposed { addr: op.addr.clone(), key }).await?;
            Ok(None)
        }
        Action::Delete => {
            let prior = op.prior.as_ref().ok_or("the object to destroy is no longer in state")?;
            delete(prior).await?;
            Ok(None)
        }
        // Replacements run as a delete node and a create (see build_walk).
        Action::DeleteThenCreate | Action::CreateThenDelete => create().await,
        Action::NoOp => Ok(None),
    }
}

/// Make the instance's current object a deposed object, under a new key.
async fn depose(ctx: &Ctx, addr: &InstanceAddr) -> Result<Option<String>, String> {
    let key = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let old = lock(&ctx.state).instances.remove(addr);
    let Some(old) = old else { return Ok(None) };
    lock(&ctx.state).deposed.insert((addr.clone(), key.clone()), old);
    ctx.journal.append(&Record::Depose { addr: addr.clone(), key: key.clone() }).await.map_err(journal_failed)?;
    Ok(Some(key))
}

/// The replacement was not created: the deposed object is current again
/// (unless the failed create still left a new object there).
async fn undepose(ctx: &Ctx, addr: &InstanceAddr, key: String) -> Result<(), String> {
    {
        let mut st = lock(&ctx.state);
        if st.instances.contains_key(addr) {
            return Ok(());
        }
        let Some(old) = st.deposed.remove(&(addr.clone(), key.clone())) else { return Ok(()) };
        st.instances.insert(addr.clone(), old);
    }
    ctx.journal.append(&Record::Undepose { addr: addr.clone(), key }).await.map_err(journal_failed)
}

fn journal_failed(e: crate::state::StateError) -> String {
    format!("the journal could not be written, so ecspoc stopped: {e}")
}

/// Keep an object as it now exists in the run's state (which settles a
/// pending create of its address), then journal it; returns its id. The run's
/// state comes first: if the journal cannot be written (a remote backend out
/// of reach), the state saved at the end, or errored.tfstate, still has it.
async fn record_object(ctx: &Ctx, addr: &InstanceAddr, inst: Instance) -> Result<Option<String>, String> {
    let record = Record::put(addr, &inst);
    let id = inst.id().map(String::from);
    {
        let mut st = lock(&ctx.state);
        st.pending_creates.remove(addr);
        st.instances.insert(addr.clone(), inst);
    }
    ctx.journal.append(&record).await.map_err(journal_failed)?;
    Ok(id)
}

/// A create failed, but AWS may have acted before the answer was lost (or an
/// SDK retry met "already exists"): an object carrying this run's marker is
/// ours. It is recorded, then brought to the configuration in place when it
/// can be; otherwise the failure stands and the next plan shows what remains.
async fn adopt_after_failed_create(
    ctx: &Ctx,
    provider: &dyn Provider,
    type_: &str,
    op: &Op,
    marker: &Marker,
    failure: &crate::provider::ProviderError,
    new_instance: &impl Fn(Value) -> Instance,
) -> Adoption {
    let found = match provider.adopt(type_, marker).await {
        Ok(Some(attrs)) => attrs,
        // Nothing found: the intent stays for the next run (or a retry).
        Ok(None) => return Adoption::NotFound,
        Err(e) => {
            return Adoption::Failed(format!(
                "{} (looking for the object by its marker failed too: {}; the next run looks again)",
                failure.describe(),
                e.describe()
            ));
        }
    };
    let adopted = new_instance(found);
    if let Err(e) = record_object(ctx, &op.addr, adopted.clone()).await {
        return Adoption::Failed(e);
    }
    let Some((r, schema)) = ctx.engine.resource_config(&op.addr.resource).zip(provider.schema().resources.get(type_))
    else {
        return Adoption::Failed(failure.describe());
    };
    let converge = plan_instance(InstanceInputs {
        provider,
        schema,
        type_,
        prior: Some(&adopted),
        config: &op.config,
        lifecycle: &r.lifecycle,
        replace_requested: None,
    });
    let recorded = "an object carrying this run's marker was found and recorded in state";
    match converge {
        Ok(p) if p.action == Action::NoOp => Adoption::Done(adopted.id().map(String::from)),
        Ok(p) if p.action == Action::Update => {
            let attrs = match provider.update(type_, &adopted.attributes, &p.planned).await {
                Ok(attrs) => attrs,
                Err(e) => {
                    return Adoption::Failed(format!(
                        "{} ({recorded}; bringing it up to date failed: {})",
                        failure.describe(),
                        e.describe()
                    ));
                }
            };
            match record_object(ctx, &op.addr, new_instance(attrs)).await {
                Ok(id) => Adoption::Done(id),
                Err(e) => Adoption::Failed(e),
            }
        }
        _ => Adoption::Failed(format!("{} ({recorded}; the next plan shows what it still needs)", failure.describe())),
    }
}

enum Adoption {
    /// The object was ours, is recorded, and matches the configuration.
    Done(Option<String>),
    /// Nothing carries the marker: the create had no effect, as far as can be seen.
    NotFound,
    Failed(String),
}

/// How often a create that failed for now is tried again, each time after
/// checking by marker that the failed try made nothing.
const CREATE_ATTEMPTS: u32 = 6;

fn create_backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64 << attempt.min(5)).min(Duration::from_secs(8))
}
