//! The dependency graph: every variable, local, resource, data source, output
//! and provider configuration is a node; references and depends_on are edges.

use crate::addr::{Mode, ModulePath, ResourceAddr};
use crate::config::{Config, Expr, Reference};
use crate::diag::{Diagnostic, Diagnostics};
use crate::provider::ProviderSet;
use crate::source::Span;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKey {
    Variable(ModulePath, String),
    Local(ModulePath, String),
    Resource(ResourceAddr),
    Output(ModulePath, String),
    /// A provider configuration of the root module, by local name.
    Provider(String),
    /// The `count` / `for_each` of a module call (in the module at the path):
    /// which instances of the called module exist. Only calls that have one.
    ModuleCall(ModulePath, String),
}

impl fmt::Display for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = |m: &ModulePath| {
            if m.is_root() { String::new() } else { format!("{m}.") }
        };
        match self {
            NodeKey::Variable(m, n) => write!(f, "{}var.{n}", prefix(m)),
            NodeKey::Local(m, n) => write!(f, "{}local.{n}", prefix(m)),
            NodeKey::Resource(r) => write!(f, "{r}"),
            NodeKey::Output(m, n) => write!(f, "{}output.{n}", prefix(m)),
            NodeKey::Provider(p) => write!(f, "provider[\"{p}\"]"),
            NodeKey::ModuleCall(m, n) => write!(f, "{}module.{n} (expand)", prefix(m)),
        }
    }
}

impl NodeKey {
    /// The same node in one instance of its module (`module.svc["api"]`):
    /// values are kept per module instance, the graph per module call.
    pub fn at(&self, instance: &ModulePath) -> NodeKey {
        match self {
            NodeKey::Variable(_, n) => NodeKey::Variable(instance.clone(), n.clone()),
            NodeKey::Local(_, n) => NodeKey::Local(instance.clone(), n.clone()),
            NodeKey::Output(_, n) => NodeKey::Output(instance.clone(), n.clone()),
            NodeKey::ModuleCall(_, n) => NodeKey::ModuleCall(instance.clone(), n.clone()),
            NodeKey::Resource(r) => NodeKey::Resource(ResourceAddr { module: instance.clone(), ..r.clone() }),
            NodeKey::Provider(p) => NodeKey::Provider(p.clone()),
        }
    }

    pub fn module(&self) -> ModulePath {
        match self {
            NodeKey::Variable(m, _) | NodeKey::Local(m, _) | NodeKey::Output(m, _) | NodeKey::ModuleCall(m, _) => {
                m.clone()
            }
            NodeKey::Resource(r) => r.module.clone(),
            NodeKey::Provider(_) => ModulePath::root(),
        }
    }
}

pub struct Graph {
    pub graph: DiGraph<NodeKey, ()>,
    pub index: HashMap<NodeKey, NodeIndex>,
    pub spans: HashMap<NodeKey, Span>,
}

impl Graph {
    pub fn node(&self, key: &NodeKey) -> Option<NodeIndex> {
        self.index.get(key).copied()
    }

    /// Direct dependencies of a node.
    pub fn dependencies(&self, key: &NodeKey) -> Vec<&NodeKey> {
        match self.node(key) {
            Some(ix) => {
                self.graph.neighbors_directed(ix, petgraph::Direction::Incoming).map(|n| &self.graph[n]).collect()
            }
            None => Vec::new(),
        }
    }

    /// The resources a node depends on, following through variables, locals
    /// and outputs (what Terraform records as an instance's `dependencies`).
    pub fn resource_dependencies(&self, key: &NodeKey) -> BTreeSet<ResourceAddr> {
        let mut out = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut stack: Vec<NodeIndex> = self.node(key).into_iter().collect();
        while let Some(ix) = stack.pop() {
            for dep in self.graph.neighbors_directed(ix, petgraph::Direction::Incoming) {
                if !seen.insert(dep) {
                    continue;
                }
                match &self.graph[dep] {
                    NodeKey::Resource(r) => {
                        out.insert(r.clone());
                    }
                    NodeKey::Provider(_) => {}
                    _ => stack.push(dep),
                }
            }
        }
        out
    }

    /// Every node that `keys` depend on, transitively, plus the keys themselves.
    pub fn closure_of_dependencies(&self, keys: impl IntoIterator<Item = NodeKey>) -> BTreeSet<NodeKey> {
        let mut out = BTreeSet::new();
        let mut stack: Vec<NodeIndex> = keys.into_iter().filter_map(|k| self.node(&k)).collect();
        while let Some(ix) = stack.pop() {
            if out.insert(self.graph[ix].clone()) {
                stack.extend(self.graph.neighbors_directed(ix, petgraph::Direction::Incoming));
            }
        }
        out
    }

    /// Build the graph, checking that every reference names something declared.
    pub fn build(config: &Config, providers: &ProviderSet) -> Result<Graph, Diagnostics> {
        let mut b = Builder {
            g: Graph { graph: DiGraph::new(), index: HashMap::new(), spans: HashMap::new() },
            diags: Diagnostics::default(),
        };
        // Nodes first, so references can be checked against them.
        for (path, m) in &config.modules {
            for v in m.variables.values() {
                b.add(NodeKey::Variable(path.clone(), v.name.clone()), &v.span);
            }
            for l in m.locals.values() {
                b.add(NodeKey::Local(path.clone(), l.name.clone()), &l.span);
            }
            for r in m.resources.values() {
                let addr =
                    ResourceAddr { module: path.clone(), mode: r.mode, type_: r.type_.clone(), name: r.name.clone() };
                if providers.resource_schema(r.mode, &r.type_).is_none() {
                    let kind = if r.mode == Mode::Data { "data source" } else { "resource type" };
                    let known = providers.iter().map(|p| p.local_name()).collect::<Vec<_>>().join(", ");
                    b.diags.push(
                        Diagnostic::error(format!("Invalid {kind}"))
                            .with_detail(format!("The provider has no {kind} named {:?}. Providers available: {known}. `ecspoc providers` lists every type.", r.type_))
                            .with_span(&r.span),
                    );
                }
                b.add(NodeKey::Resource(addr), &r.span);
            }
            for o in m.outputs.values() {
                b.add(NodeKey::Output(path.clone(), o.name.clone()), &o.span);
            }
            if path.is_root() {
                for p in m.providers.values() {
                    b.add(NodeKey::Provider(p.name.clone()), &p.span);
                }
            }
            for call in m.calls.values().filter(|c| c.expands()) {
                b.add(NodeKey::ModuleCall(path.clone(), call.name.clone()), &call.span);
            }
        }
        // Everything in a module made by count/for_each waits for the call's
        // expansion: until then nobody knows which instances exist.
        let keys: Vec<NodeKey> = b.g.index.keys().cloned().collect();
        for key in keys {
            if let Some((parent, name)) = key.module().parent() {
                b.edge(&NodeKey::ModuleCall(parent, name.to_string()), &key);
            }
        }
        for (path, m) in &config.modules {
            for v in m.variables.values() {
                let key = NodeKey::Variable(path.clone(), v.name.clone());
                for val in &v.validations {
                    for (r, span) in val.condition.references() {
                        if r != Reference::Var(v.name.clone()) {
                            b.diags.push(
                                Diagnostic::error("Invalid reference in variable validation")
                                    .with_detail(format!("The condition for variable {:?} can only refer to the variable itself, not {}.", v.name, r.describe()))
                                    .with_span(&span),
                            );
                        }
                    }
                }
                // A child module's variable takes its value from the parent's call.
                if let Some((parent, call_name)) = path.parent()
                    && let Some(call) = config.modules.get(&parent).and_then(|pm| pm.calls.get(call_name))
                {
                    if let Some((_, _, e)) = call.inputs.iter().find(|(n, _, _)| n == &v.name) {
                        b.edges_from_expr(config, &parent, &key, e);
                    }
                    for (r, span) in &call.depends_on {
                        b.edge_from_ref(config, &parent, &key, r, span);
                    }
                }
            }
            for l in m.locals.values() {
                b.edges_from_expr(config, path, &NodeKey::Local(path.clone(), l.name.clone()), &l.expr);
            }
            for r in m.resources.values() {
                let key = NodeKey::Resource(ResourceAddr {
                    module: path.clone(),
                    mode: r.mode,
                    type_: r.type_.clone(),
                    name: r.name.clone(),
                });
                for (_, _, e) in &r.body {
                    b.edges_from_expr(config, path, &key, e);
                }
                for e in r.count.iter().chain(r.for_each.iter()).chain(r.lifecycle.replace_triggered_by.iter()) {
                    b.edges_from_expr(config, path, &key, e);
                }
                for (dep, span) in &r.depends_on {
                    b.edge_from_ref(config, path, &key, dep, span);
                }
                let pname = r.provider_name();
                if config.root().providers.contains_key(&pname) {
                    b.edge(&NodeKey::Provider(pname), &key);
                }
            }
            for o in m.outputs.values() {
                let key = NodeKey::Output(path.clone(), o.name.clone());
                b.edges_from_expr(config, path, &key, &o.value);
                for (dep, span) in &o.depends_on {
                    b.edge_from_ref(config, path, &key, dep, span);
                }
            }
            for call in m.calls.values() {
                let expand = NodeKey::ModuleCall(path.clone(), call.name.clone());
                for e in call.count.iter().chain(call.for_each.iter()) {
                    b.edges_from_expr(config, path, &expand, e);
                }
                for (dep, span) in &call.depends_on {
                    b.edge_from_ref(config, path, &expand, dep, span);
                }
                for (name, span, _) in &call.inputs {
                    let child = path.child(&call.name);
                    let declared = config.modules.get(&child).is_some_and(|cm| cm.variables.contains_key(name));
                    if !declared && config.modules.contains_key(&child) {
                        b.diags.push(
                            Diagnostic::error("Unsupported argument")
                                .with_detail(format!("An argument named {name:?} is not expected here: module {:?} declares no such variable.", call.name))
                                .with_span(span),
                        );
                    }
                }
                if let Some(cm) = config.modules.get(&path.child(&call.name)) {
                    for v in cm.variables.values() {
                        if v.default.is_none() && !call.inputs.iter().any(|(n, _, _)| n == &v.name) {
                            b.diags.push(
                                Diagnostic::error("Missing required argument")
                                    .with_detail(format!(
                                        "The argument {:?} is required by module {:?}, but no definition was found.",
                                        v.name, call.name
                                    ))
                                    .with_span(&call.span),
                            );
                        }
                    }
                }
            }
            if path.is_root() {
                for p in m.providers.values() {
                    for (_, _, e) in &p.body {
                        b.edges_from_expr(config, path, &NodeKey::Provider(p.name.clone()), e);
                    }
                }
            }
        }
        b.check_cycles();
        if b.diags.has_errors() { Err(b.diags) } else { Ok(b.g) }
    }
}

struct Builder {
    g: Graph,
    diags: Diagnostics,
}

impl Builder {
    fn add(&mut self, key: NodeKey, span: &Span) {
        let ix = self.g.graph.add_node(key.clone());
        self.g.index.insert(key.clone(), ix);
        self.g.spans.insert(key, span.clone());
    }

    fn edge(&mut self, from: &NodeKey, to: &NodeKey) {
        if let (Some(a), Some(b)) = (self.g.node(from), self.g.node(to))
            && !self.g.graph.contains_edge(a, b)
        {
            self.g.graph.add_edge(a, b, ());
        }
    }

    fn edges_from_expr(&mut self, config: &Config, module: &ModulePath, to: &NodeKey, e: &Expr) {
        for (r, span) in e.references() {
            self.edge_from_ref(config, module, to, &r, &span);
        }
    }

    fn edge_from_ref(&mut self, config: &Config, module: &ModulePath, to: &NodeKey, r: &Reference, span: &Span) {
        let undeclared = |what: String, hint: &str| {
            Diagnostic::error(format!("Reference to undeclared {what}")).with_detail(hint.to_string()).with_span(span)
        };
        let from = match r {
            Reference::Var(n) => NodeKey::Variable(module.clone(), n.clone()),
            Reference::Local(n) => NodeKey::Local(module.clone(), n.clone()),
            Reference::Resource { mode, type_, name } => NodeKey::Resource(ResourceAddr {
                module: module.clone(),
                mode: *mode,
                type_: type_.clone(),
                name: name.clone(),
            }),
            Reference::Module { name, output } => {
                let child = module.child(name);
                if !config.modules.contains_key(&child) {
                    self.diags.push(undeclared(
                        "module".into(),
                        &format!("No module call named {name:?} is declared in this module."),
                    ));
                    return;
                }
                // `module.x.out` depends on that output; `module.x` as a whole
                // (or an output that does not exist: evaluation reports it) on all.
                let declared = &config.modules[&child].outputs;
                let outputs: Vec<NodeKey> = match output.as_ref().filter(|o| declared.contains_key(*o)) {
                    Some(o) => vec![NodeKey::Output(child.clone(), o.clone())],
                    None => declared.keys().map(|o| NodeKey::Output(child.clone(), o.clone())).collect(),
                };
                for o in outputs {
                    self.edge(&o, to);
                }
                return;
            }
            Reference::CountIndex | Reference::Each | Reference::Path | Reference::Terraform | Reference::SelfRef => {
                return;
            }
            Reference::Unknown(n) => {
                self.diags.push(
                    Diagnostic::error("Invalid reference")
                        .with_detail(format!("{n:?} is not a valid reference: expected var., local., module., data., a resource type, count., each., path. or terraform."))
                        .with_span(span),
                );
                return;
            }
        };
        if self.g.node(&from).is_none() {
            let (what, hint) = match &from {
                NodeKey::Variable(_, n) => (
                    "input variable".to_string(),
                    format!("An input variable named {n:?} has not been declared in this module."),
                ),
                NodeKey::Local(_, n) => {
                    ("local value".into(), format!("A local value named {n:?} has not been declared in this module."))
                }
                NodeKey::Resource(a) => {
                    let kind = if a.mode == Mode::Data { "data source" } else { "resource" };
                    (kind.to_string(), format!("A {kind} {:?} has not been declared in this module.", a.local()))
                }
                _ => ("object".into(), String::new()),
            };
            self.diags.push(undeclared(what, &hint));
            return;
        }
        self.edge(&from, to);
    }

    fn check_cycles(&mut self) {
        for scc in petgraph::algo::tarjan_scc(&self.g.graph) {
            let is_cycle = scc.len() > 1 || scc.first().is_some_and(|n| self.g.graph.contains_edge(*n, *n));
            if !is_cycle {
                continue;
            }
            let mut members: Vec<&NodeKey> = scc.iter().map(|n| &self.g.graph[*n]).collect();
            members.sort();
            let list = members
                .iter()
                .map(|k| {
                    let loc = self.g.spans.get(*k).map(Span::location).unwrap_or_default();
                    if loc.is_empty() { format!("  - {k}") } else { format!("  - {k} ({loc})") }
                })
                .collect::<Vec<_>>()
                .join("\n");
            let first_span = members.first().and_then(|k| self.g.spans.get(*k)).cloned().unwrap_or_default();
            self.diags.push(
                Diagnostic::error("Cycle in the dependency graph")
                    .with_detail(format!(
                        "These {} objects depend on each other, so none can be evaluated first:\n{list}",
                        members.len()
                    ))
                    .with_span(&first_span),
            );
        }
    }
}
