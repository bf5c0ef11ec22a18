//! The apply graph: the nodes an apply walks and what each waits for, built
//! in named passes (as OpenTofu's apply graph builder is), each one small
//! enough to test on its own.
//!
//! Configuration nodes are blocks (one per resource block, variable, ...);
//! destroy nodes are per resource in one module instance, so one module
//! instance's objects never wait for another's.

use crate::addr::ResourceAddr;
use crate::graph::NodeKey;
use crate::plan::planner::depends_on;
use crate::plan::{Action, ActionReason, ResourceChange};
use crate::state::State;
use crate::walk::WalkGraph;
use std::collections::{BTreeSet, HashMap};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ApplyNode {
    Config(NodeKey),
    /// Deleting a resource that has no block in the configuration (or all of them, for destroy).
    Delete(ResourceAddr),
    /// Deleting the old objects of destroy-then-create replacements: after the
    /// old objects that depend on them, before the new ones are created.
    DestroyBeforeCreate(ResourceAddr),
    /// Deleting the old objects of create-before-destroy replacements: after
    /// everything that depends on them has moved to the new ones.
    DestroyDeposed(ResourceAddr),
}

impl std::fmt::Display for ApplyNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyNode::Config(k) => write!(f, "{k}"),
            ApplyNode::Delete(a) => write!(f, "{a} (destroy)"),
            ApplyNode::DestroyBeforeCreate(a) => write!(f, "{a} (destroy before replacement)"),
            ApplyNode::DestroyDeposed(a) => write!(f, "{a} (destroy the replaced object)"),
        }
    }
}

/// What the passes read.
pub(crate) struct Inputs<'a> {
    /// The configuration nodes to walk, each with those it depends on.
    pub config: Vec<(NodeKey, Vec<NodeKey>)>,
    /// The resource blocks each block depends on, through variables, locals
    /// and outputs: for every block that changes, and for every block when
    /// an object is deposed (whatever refers to it moves first).
    pub block_deps: HashMap<ResourceAddr, BTreeSet<ResourceAddr>>,
    /// The plan's changes by resource (per module instance), no-ops left out.
    pub changes: &'a HashMap<ResourceAddr, Vec<ResourceChange>>,
    /// Resources (per module instance) whose block is in the configuration.
    pub configured: &'a dyn Fn(&ResourceAddr) -> bool,
    pub state: &'a State,
    pub destroy: bool,
}

pub(crate) struct ApplyGraph {
    pub nodes: Vec<ApplyNode>,
    pub walk: WalkGraph,
}

#[derive(Default)]
struct Builder {
    nodes: Vec<ApplyNode>,
    index: HashMap<ApplyNode, usize>,
    deps: Vec<Vec<usize>>,
}

impl Builder {
    fn add(&mut self, node: ApplyNode) {
        if !self.index.contains_key(&node) {
            self.index.insert(node.clone(), self.nodes.len());
            self.nodes.push(node);
            self.deps.push(Vec::new());
        }
    }

    fn get(&self, node: &ApplyNode) -> Option<usize> {
        self.index.get(node).copied()
    }

    /// `after` waits for `before`; nodes not in the graph are skipped.
    fn order(&mut self, before: &ApplyNode, after: &ApplyNode) {
        if let (Some(b), Some(a)) = (self.get(before), self.get(after))
            && a != b
            && !self.deps[a].contains(&b)
        {
            self.deps[a].push(b);
        }
    }
}

fn config(a: &ResourceAddr) -> ApplyNode {
    ApplyNode::Config(NodeKey::Resource(a.config_addr()))
}

/// Which resources' objects go how.
struct Destroys {
    /// Every object goes: destroy mode, no block, or no module instance.
    deleted: BTreeSet<ResourceAddr>,
    /// Destroy-then-create replacements.
    before_create: BTreeSet<ResourceAddr>,
    /// Create-then-destroy replacements, and deposed objects left by earlier runs.
    deposed: BTreeSet<ResourceAddr>,
}

impl Destroys {
    fn of(i: &Inputs) -> Destroys {
        let deleted: BTreeSet<ResourceAddr> = i
            .changes
            .iter()
            .filter(|(addr, cs)| {
                let module_instance_gone = cs.iter().all(|c| c.reason == Some(ActionReason::DeleteBecauseNoModule));
                i.destroy || !(i.configured)(addr) || module_instance_gone
            })
            .map(|(a, _)| a.clone())
            .collect();
        let with = |wanted: &dyn Fn(&ResourceChange) -> bool| -> BTreeSet<ResourceAddr> {
            i.changes
                .iter()
                .filter(|(a, cs)| !deleted.contains(*a) && cs.iter().any(wanted))
                .map(|(a, _)| a.clone())
                .collect()
        };
        let before_create = with(&|c| c.action == Action::DeleteThenCreate);
        let deposed = with(&|c| c.action == Action::CreateThenDelete || c.deposed.is_some());
        Destroys { deleted, before_create, deposed }
    }
}

pub(crate) fn build(i: &Inputs) -> ApplyGraph {
    let destroys = Destroys::of(i);
    let mut b = Builder::default();
    add_config_nodes(&mut b, i);
    add_destroy_nodes(&mut b, &destroys);
    order_destroy_before_create(&mut b, i, &destroys);
    order_deposed_after_referrers(&mut b, i, &destroys);
    order_deletes_after_dependents(&mut b, i, &destroys);
    order_orphans_before_replaced_objects(&mut b, i, &destroys);
    let weights = weigh(&b.nodes, i);
    let mut walk = WalkGraph::new(b.nodes.len());
    walk.deps = b.deps;
    walk.weight = weights;
    ApplyGraph { nodes: b.nodes, walk }
}

/// Every configuration node, after the nodes it depends on.
fn add_config_nodes(b: &mut Builder, i: &Inputs) {
    for (key, _) in &i.config {
        b.add(ApplyNode::Config(key.clone()));
    }
    for (key, deps) in &i.config {
        for d in deps {
            b.order(&ApplyNode::Config(d.clone()), &ApplyNode::Config(key.clone()));
        }
    }
}

/// A node per resource whose objects are deleted, each after its provider's configuration.
fn add_destroy_nodes(b: &mut Builder, d: &Destroys) {
    let nodes = (d.deleted.iter().map(|a| ApplyNode::Delete(a.clone())))
        .chain(d.before_create.iter().map(|a| ApplyNode::DestroyBeforeCreate(a.clone())))
        .chain(d.deposed.iter().map(|a| ApplyNode::DestroyDeposed(a.clone())));
    for node in nodes {
        let (ApplyNode::Delete(a) | ApplyNode::DestroyBeforeCreate(a) | ApplyNode::DestroyDeposed(a)) = &node else {
            continue;
        };
        let provider = NodeKey::Provider(crate::config::module::provider_of_type(&a.type_));
        b.add(node.clone());
        b.order(&ApplyNode::Config(provider), &node);
    }
}

/// Does Y (a resource in one module instance) refer to X? Instances of one
/// module call refer only to their own instance's objects.
fn refers(i: &Inputs, y: &ResourceAddr, x: &ResourceAddr) -> bool {
    i.block_deps.get(&y.config_addr()).is_some_and(|d| d.contains(&x.config_addr())) && y.can_reach(x)
}

/// Destroy-then-create: X's old objects go before its new ones are made,
/// and after the old objects of every replacement that depends on X.
fn order_destroy_before_create(b: &mut Builder, i: &Inputs, d: &Destroys) {
    for x in &d.before_create {
        let destroy_x = ApplyNode::DestroyBeforeCreate(x.clone());
        b.order(&destroy_x, &config(x));
        for y in d.before_create.iter().filter(|y| refers(i, y, x)) {
            b.order(&ApplyNode::DestroyBeforeCreate(y.clone()), &destroy_x);
        }
    }
}

/// Create-then-destroy: X's deposed objects go after its new ones are made
/// and after everything that refers to X has moved to them.
fn order_deposed_after_referrers(b: &mut Builder, i: &Inputs, d: &Destroys) {
    for x in &d.deposed {
        let destroy_x = ApplyNode::DestroyDeposed(x.clone());
        b.order(&config(x), &destroy_x);
        for (y, deps) in &i.block_deps {
            if deps.contains(&x.config_addr()) {
                b.order(&ApplyNode::Config(NodeKey::Resource(y.clone())), &destroy_x);
            }
        }
    }
}

/// An object is deleted only after everything that depended on it (as state
/// records it) has been changed or deleted.
fn order_deletes_after_dependents(b: &mut Builder, i: &Inputs, d: &Destroys) {
    let mut by_block: HashMap<ResourceAddr, Vec<&ResourceAddr>> = HashMap::new();
    for a in &d.deleted {
        by_block.entry(a.config_addr()).or_default().push(a);
    }
    for (a, inst) in i.state.managed() {
        let dependent =
            if d.deleted.contains(&a.resource) { ApplyNode::Delete(a.resource.clone()) } else { config(&a.resource) };
        for dep in &inst.dependencies {
            for x in by_block.get(dep).into_iter().flatten().filter(|x| depends_on(&a.resource, dep, x)) {
                b.order(&dependent, &ApplyNode::Delete((*x).clone()));
            }
        }
    }
}

/// An orphan that depends on a destroy-then-create replacement goes before
/// the replaced object's old one.
fn order_orphans_before_replaced_objects(b: &mut Builder, i: &Inputs, d: &Destroys) {
    for (a, inst) in i.state.managed().filter(|(a, _)| d.deleted.contains(&a.resource)) {
        for x in d.before_create.iter().filter(|x| inst.dependencies.iter().any(|dep| depends_on(&a.resource, dep, x)))
        {
            b.order(&ApplyNode::Delete(a.resource.clone()), &ApplyNode::DestroyBeforeCreate(x.clone()));
        }
    }
}

/// A node's own work: how many changes it carries (a block's, in all its
/// module instances); evaluating costs nothing.
fn weigh(nodes: &[ApplyNode], i: &Inputs) -> Vec<u64> {
    nodes
        .iter()
        .map(|n| match n {
            ApplyNode::Config(NodeKey::Resource(block)) => {
                i.changes.iter().filter(|(a, _)| a.config_addr() == *block).map(|(_, c)| c.len() as u64).sum()
            }
            ApplyNode::Config(_) => 0,
            ApplyNode::Delete(a) | ApplyNode::DestroyBeforeCreate(a) | ApplyNode::DestroyDeposed(a) => {
                i.changes.get(a).map_or(0, |c| c.len() as u64)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{InstanceAddr, InstanceKey, Target};
    use crate::state::Instance;
    use crate::value::Value;

    fn addr(text: &str) -> ResourceAddr {
        match Target::parse(text).expect("address") {
            Target::Resource(r) => r,
            other => panic!("{other} is not a resource"),
        }
    }

    fn change(a: &str, action: Action, reason: Option<ActionReason>) -> ResourceChange {
        ResourceChange {
            addr: addr(a).instance(InstanceKey::None),
            provider: "p".into(),
            action,
            reason,
            before: None,
            after: None,
            replace_paths: Vec::new(),
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

    /// A state holding `a`, recorded as depending on the blocks in `deps`.
    fn stored(entries: &[(&str, &[&str])]) -> State {
        let mut s = State::new();
        for (a, deps) in entries {
            let mut inst = Instance::new(Value::Null, "p", None, Vec::new());
            inst.dependencies = deps.iter().map(|d| addr(d)).collect();
            s.instances.insert(InstanceAddr::parse(a).expect("address"), inst);
        }
        s
    }

    struct Case {
        config: Vec<(NodeKey, Vec<NodeKey>)>,
        block_deps: HashMap<ResourceAddr, BTreeSet<ResourceAddr>>,
        changes: HashMap<ResourceAddr, Vec<ResourceChange>>,
        state: State,
        destroy: bool,
    }

    impl Case {
        /// Blocks `a` (the `test_` type), each with the blocks it refers to.
        fn new(blocks: &[(&str, &[&str])]) -> Case {
            let key = |a: &str| NodeKey::Resource(addr(a));
            let mut config = vec![(NodeKey::Provider("test".into()), Vec::new())];
            let mut block_deps = HashMap::new();
            for (a, deps) in blocks {
                let mut on: Vec<NodeKey> = deps.iter().map(|d| key(d)).collect();
                on.push(NodeKey::Provider("test".into()));
                config.push((key(a), on));
                block_deps.insert(addr(a), deps.iter().map(|d| addr(d)).collect());
            }
            Case { config, block_deps, changes: HashMap::new(), state: State::new(), destroy: false }
        }

        fn with(mut self, c: ResourceChange) -> Case {
            self.changes.entry(c.addr.resource.clone()).or_default().push(c);
            self
        }

        /// The graph, and a check that `before` comes before `after` (by their display names).
        fn build(&self) -> (ApplyGraph, impl Fn(&ApplyGraph, &str, &str) -> bool) {
            let blocks: BTreeSet<ResourceAddr> = self.block_deps.keys().cloned().collect();
            let configured = |a: &ResourceAddr| blocks.contains(&a.config_addr());
            let g = build(&Inputs {
                config: self.config.clone(),
                block_deps: self.block_deps.clone(),
                changes: &self.changes,
                configured: &configured,
                state: &self.state,
                destroy: self.destroy,
            });
            let waits = |g: &ApplyGraph, before: &str, after: &str| {
                let ix = |name: &str| {
                    g.nodes.iter().position(|n| n.to_string() == name).unwrap_or_else(|| panic!("no node {name}"))
                };
                let (b, a) = (ix(before), ix(after));
                // Transitively: the walk only needs the order.
                let mut stack = vec![a];
                let mut seen = BTreeSet::new();
                while let Some(n) = stack.pop() {
                    if n == b {
                        return true;
                    }
                    if seen.insert(n) {
                        stack.extend(g.walk.deps[n].iter().copied());
                    }
                }
                false
            };
            (g, waits)
        }
    }

    #[test]
    fn destroy_then_create_deletes_dependents_old_objects_first_and_creates_after() {
        let case = Case::new(&[("test_a.x", &[]), ("test_a.y", &["test_a.x"])])
            .with(change("test_a.x", Action::DeleteThenCreate, None))
            .with(change("test_a.y", Action::DeleteThenCreate, None));
        let (g, waits) = case.build();
        assert!(waits(&g, "test_a.y (destroy before replacement)", "test_a.x (destroy before replacement)"));
        assert!(waits(&g, "test_a.x (destroy before replacement)", "test_a.x"));
        assert!(waits(&g, "test_a.x", "test_a.y"), "new objects in dependency order");
    }

    #[test]
    fn a_deposed_object_goes_after_everything_that_refers_to_it_has_moved() {
        let case = Case::new(&[("test_a.x", &[]), ("test_a.y", &["test_a.x"])])
            .with(change("test_a.x", Action::CreateThenDelete, None))
            .with(change("test_a.y", Action::Update, None));
        let (g, waits) = case.build();
        assert!(waits(&g, "test_a.x", "test_a.x (destroy the replaced object)"));
        assert!(waits(&g, "test_a.y", "test_a.x (destroy the replaced object)"));
    }

    #[test]
    fn an_orphan_is_deleted_before_what_it_depended_on_and_after_its_provider() {
        let mut case = Case::new(&[("test_a.kept", &[])])
            .with(change("test_a.gone", Action::Delete, Some(ActionReason::DeleteBecauseNoResourceConfig)))
            .with(change("test_a.base", Action::Delete, Some(ActionReason::DeleteBecauseNoResourceConfig)));
        case.state = stored(&[("test_a.gone", &["test_a.base"]), ("test_a.base", &[]), ("test_a.kept", &[])]);
        let (g, waits) = case.build();
        assert!(waits(&g, "test_a.gone (destroy)", "test_a.base (destroy)"));
        assert!(waits(&g, "provider[\"test\"]", "test_a.gone (destroy)"));
        assert!(!waits(&g, "test_a.base (destroy)", "test_a.gone (destroy)"));
    }

    #[test]
    fn a_removed_module_instance_waits_only_for_its_own_instance() {
        let gone = |a: &str| change(a, Action::Delete, Some(ActionReason::DeleteBecauseNoModule));
        let mut case =
            Case::new(&[("module.svc.test_a.role", &[]), ("module.svc.test_a.app", &["module.svc.test_a.role"])])
                .with(gone(r#"module.svc["old"].test_a.app"#))
                .with(gone(r#"module.svc["old"].test_a.role"#))
                .with(change(
                    r#"module.svc["new"].test_a.role"#,
                    Action::Delete,
                    Some(ActionReason::DeleteBecauseNoModule),
                ));
        case.state = stored(&[
            (r#"module.svc["old"].test_a.app"#, &["module.svc.test_a.role"]),
            (r#"module.svc["old"].test_a.role"#, &[]),
            (r#"module.svc["new"].test_a.role"#, &[]),
        ]);
        let (g, waits) = case.build();
        assert!(waits(&g, r#"module.svc["old"].test_a.app (destroy)"#, r#"module.svc["old"].test_a.role (destroy)"#));
        assert!(
            !waits(&g, r#"module.svc["old"].test_a.app (destroy)"#, r#"module.svc["new"].test_a.role (destroy)"#),
            "another instance's objects do not wait"
        );
    }

    #[test]
    fn every_node_weighs_its_changes_and_a_block_those_of_all_its_module_instances() {
        let case = Case::new(&[("module.svc.test_a.x", &[])])
            .with(change(r#"module.svc["a"].test_a.x"#, Action::Create, None))
            .with(change(r#"module.svc["b"].test_a.x"#, Action::Create, None));
        let (g, _) = case.build();
        let at = |name: &str| g.nodes.iter().position(|n| n.to_string() == name).map(|i| g.walk.weight[i]);
        assert_eq!(at("module.svc.test_a.x"), Some(2));
        assert_eq!(at("provider[\"test\"]"), Some(0));
    }
}
