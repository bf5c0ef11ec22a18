//! What plan and apply share: the loaded configuration and graph, the scope
//! expressions are evaluated in, and the evaluation of each kind of node.

use crate::addr::{InstanceKey, Mode, ModulePath, ResourceAddr};
use crate::config::{Config, Resource};
use crate::diag::{Diagnostic, Diagnostics};
use crate::eval::{self, Scope};
use crate::graph::{Graph, NodeKey};
use crate::plan::{Action, ActionReason};
use crate::provider::{PlanRequest, Provider, ProviderSet, ResourceSchema};
use crate::state::Instance;
use crate::value::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

pub struct Engine {
    pub config: Arc<Config>,
    pub providers: ProviderSet,
    pub graph: Graph,
    pub sensitivity: crate::sensitivity::Sensitivity,
    /// The root module's folder; relative paths in `file()` start here.
    pub root_dir: PathBuf,
}

/// Root variable values given on the command line, in files or the environment.
pub type InputVariables = BTreeMap<String, InputValue>;

#[derive(Clone, Debug)]
pub enum InputValue {
    /// `-var 'k=v'` and `TF_VAR_k`: a string, converted to the variable's type.
    Raw(String),
    /// From a `-var-file`: already typed.
    Typed(Value),
}

/// Node values computed so far in a walk.
#[derive(Default)]
pub struct Values(pub RwLock<HashMap<NodeKey, Value>>);

impl Values {
    pub fn set(&self, key: NodeKey, v: Value) {
        self.0.write().unwrap_or_else(|p| p.into_inner()).insert(key, v);
    }
    pub fn get(&self, key: &NodeKey) -> Option<Value> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }
}

pub struct NodeScope<'a> {
    pub engine: &'a Engine,
    pub module: &'a ModulePath,
    pub values: &'a HashMap<NodeKey, Value>,
    pub count_index: Option<Value>,
    pub each: Option<(Value, Value)>,
}

impl Scope for NodeScope<'_> {
    fn uses_secret(&self, expr: &crate::config::Expr) -> bool {
        self.engine.sensitivity.tainted(expr, self.module, &self.engine.config, &self.engine.providers)
    }
    fn var(&self, name: &str) -> Option<Value> {
        self.values.get(&NodeKey::Variable(self.module.clone(), name.into())).cloned()
    }
    fn local(&self, name: &str) -> Option<Value> {
        self.values.get(&NodeKey::Local(self.module.clone(), name.into())).cloned()
    }
    fn resource(&self, mode: Mode, type_: &str, name: &str) -> Option<Value> {
        let addr = ResourceAddr { module: self.module.clone(), mode, type_: type_.into(), name: name.into() };
        let key = NodeKey::Resource(addr.clone());
        match self.values.get(&key) {
            Some(v) => Some(v.clone()),
            // Declared but not evaluated (e.g. skipped by -target): unknown, not an error.
            None if self.engine.graph.node(&NodeKey::Resource(addr.config_addr())).is_some() => Some(Value::Unknown),
            None => None,
        }
    }
    /// `module.x`: an object of its outputs; with count a list of them, with
    /// for_each a map, one per instance.
    fn module(&self, name: &str) -> Option<Value> {
        let child = self.module.calls().child(name);
        let m = self.engine.config.modules.get(&child)?;
        let call = self.engine.config.modules.get(&self.module.calls())?.calls.get(name)?;
        let outputs = |instance: &ModulePath| {
            Value::Map(
                m.outputs
                    .keys()
                    .map(|o| {
                        let v = self.values.get(&NodeKey::Output(instance.clone(), o.clone()));
                        (o.clone(), v.cloned().unwrap_or(Value::Unknown))
                    })
                    .collect(),
            )
        };
        if !call.expands() {
            return Some(outputs(&self.module.child(name)));
        }
        let Some(expansion) = self.values.get(&NodeKey::ModuleCall(self.module.clone(), name.into())) else {
            return Some(Value::Unknown);
        };
        let instances = call_expansion(call, expansion);
        let of = |x: &Expansion| outputs(&self.module.child_instance(name, x.key.clone()));
        Some(if call.count.is_some() {
            Value::List(instances.iter().map(of).collect())
        } else {
            Value::Map(instances.iter().map(|x| (key_string(&x.key), of(x))).collect())
        })
    }
    fn count_index(&self) -> Option<Value> {
        self.count_index.clone()
    }
    fn each(&self) -> Option<(Value, Value)> {
        self.each.clone()
    }
    fn path(&self, which: &str) -> Option<Value> {
        let dir = |p: &Path| Value::String(p.to_string_lossy().to_string());
        match which {
            "module" => {
                let m = self.engine.config.modules.get(&self.module.calls())?;
                let rel =
                    m.dir.strip_prefix(&self.engine.root_dir).map(Path::to_path_buf).unwrap_or_else(|_| m.dir.clone());
                Some(if rel.as_os_str().is_empty() { Value::str(".") } else { dir(&rel) })
            }
            "root" => Some(Value::str(".")),
            "cwd" => Some(dir(&std::env::current_dir().unwrap_or_default())),
            _ => None,
        }
    }
    fn base_dir(&self) -> &Path {
        &self.engine.root_dir
    }
}

/// More instances than any real configuration needs; a larger count is a
/// mistake, refused before it can exhaust memory.
const MAX_COUNT: f64 = 1_000_000.0;

/// One instance a resource block expands to.
#[derive(Clone, Debug)]
pub struct Expansion {
    pub key: InstanceKey,
    pub count_index: Option<Value>,
    pub each: Option<(Value, Value)>,
}

impl Engine {
    /// Check the configuration against provider schemas and build its graph;
    /// every problem found is reported, not only the first.
    pub fn new(config: Config, providers: ProviderSet, root_dir: PathBuf) -> Result<Engine, Diagnostics> {
        crate::state::register_state_formats(&providers);
        let mut diags = check_arguments(&config, &providers);
        match Graph::build(&config, &providers) {
            Ok(graph) if !diags.has_errors() => {
                let sensitivity = crate::sensitivity::Sensitivity::analyse(&config, &graph, &providers)?;
                Ok(Engine { config: Arc::new(config), providers, graph, sensitivity, root_dir })
            }
            Ok(_) => Err(diags),
            Err(d) => {
                diags.extend(d);
                Err(diags)
            }
        }
    }

    /// The block of a resource, in whichever instance of its module.
    pub fn resource_config(&self, addr: &ResourceAddr) -> Option<&Resource> {
        self.config.modules.get(&addr.module.calls())?.resources.get(&(
            addr.mode,
            addr.type_.clone(),
            addr.name.clone(),
        ))
    }

    /// The instances of a module (a path of calls, no keys): each call's
    /// count/for_each, evaluated by its `ModuleCall` node, multiplies the
    /// instances of the module it is in.
    pub fn module_instances(
        &self,
        calls: &ModulePath,
        values: &HashMap<NodeKey, Value>,
    ) -> Result<Vec<ModulePath>, Diagnostic> {
        let mut instances = vec![ModulePath::root()];
        let mut here = ModulePath::root();
        for step in &calls.0 {
            let call = self.config.modules.get(&here).and_then(|m| m.calls.get(&step.name)).ok_or_else(|| {
                Diagnostic::error("Reference to undeclared module").with_detail(format!(
                    "No module call named {:?} is declared in {}.",
                    step.name,
                    if here.is_root() { "the root module".to_string() } else { here.to_string() }
                ))
            })?;
            let mut next = Vec::new();
            for parent in instances {
                if !call.expands() {
                    next.push(parent.child(&step.name));
                    continue;
                }
                let key = NodeKey::ModuleCall(parent.clone(), step.name.clone());
                let expansion = values.get(&key).ok_or_else(|| {
                    Diagnostic::error("Module instances not yet known")
                        .with_detail(format!("The instances of {key} were needed before they were evaluated."))
                        .with_span(&call.span)
                })?;
                next.extend(
                    call_expansion(call, expansion).into_iter().map(|x| parent.child_instance(&step.name, x.key)),
                );
            }
            instances = next;
            here = here.child(&step.name);
        }
        Ok(instances)
    }

    /// `count.index` / `each` for the inputs of one module instance, from its call's expansion.
    fn instance_expansion(&self, instance: &ModulePath, values: &HashMap<NodeKey, Value>) -> Option<Expansion> {
        let (parent, name) = instance.parent()?;
        let key = &instance.0.last()?.key;
        expansion_at(key, values.get(&NodeKey::ModuleCall(parent.clone(), name.to_string()))?)
    }

    pub fn scope<'a>(&'a self, module: &'a ModulePath, values: &'a HashMap<NodeKey, Value>) -> NodeScope<'a> {
        NodeScope { engine: self, module, values, count_index: None, each: None }
    }

    pub fn provider_for(&self, type_: &str, mode: Mode) -> Result<(&Arc<dyn Provider>, &ResourceSchema), Diagnostic> {
        self.providers.resource_schema(mode, type_).ok_or_else(|| {
            Diagnostic::error(format!("No provider for {type_:?}"))
                .with_detail("No registered provider offers this type.")
        })
    }

    /// Evaluate a variable, local, output or provider node into `values`;
    /// a provider node also configures its provider.
    pub async fn run_value_node(
        &self,
        key: &NodeKey,
        values: &Values,
        inputs: &InputVariables,
    ) -> Result<(), Diagnostics> {
        // One value per instance of the node's module.
        let evaluated = {
            let snapshot = values.0.read().unwrap_or_else(|p| p.into_inner());
            let mut out = Vec::new();
            for instance in self.module_instances(&key.module(), &snapshot)? {
                let at = key.at(&instance);
                let v = self.eval_value_node(&at, &snapshot, inputs)?;
                out.push((at, v));
            }
            out
        };
        for (at, v) in evaluated {
            if let NodeKey::Provider(name) = &at
                && let Some(p) = self.providers.get(name)
            {
                p.configure(&v).await.map_err(|e| {
                    Diagnostics::from(
                        Diagnostic::error(format!("Invalid provider configuration for {name:?}"))
                            .with_detail(e.describe()),
                    )
                })?;
            }
            values.set(at, v);
        }
        Ok(())
    }

    /// Configure one provider outside a plan (import): its configuration and
    /// the variables and locals it reads are evaluated, nothing else.
    pub async fn configure_provider(&self, name: &str, inputs: &InputVariables) -> Result<(), Diagnostics> {
        let Some(target) = self.graph.node(&NodeKey::Provider(name.to_string())) else { return Ok(()) };
        let reversed = petgraph::visit::Reversed(&self.graph.graph);
        let mut needed = std::collections::HashSet::new();
        let mut dfs = petgraph::visit::Dfs::new(reversed, target);
        while let Some(ix) = dfs.next(reversed) {
            needed.insert(ix);
        }
        let order = petgraph::algo::toposort(&self.graph.graph, None)
            .map_err(|_| Diagnostics::from(Diagnostic::error("The configuration has a dependency cycle")))?;
        let values = Values::default();
        for ix in order.into_iter().filter(|ix| needed.contains(ix)) {
            match &self.graph.graph[ix] {
                NodeKey::Resource(r) => {
                    return Err(Diagnostics::from(Diagnostic::error("Provider configuration depends on a resource").with_detail(
                        format!("provider {name:?} reads {r}, which is only known during a plan; import cannot configure it."),
                    )));
                }
                key => self.run_value_node(key, &values, inputs).await?,
            }
        }
        Ok(())
    }

    /// Evaluate a variable, local, output or provider node.
    pub fn eval_value_node(
        &self,
        key: &NodeKey,
        values: &HashMap<NodeKey, Value>,
        inputs: &InputVariables,
    ) -> Result<Value, Diagnostics> {
        match key {
            NodeKey::Variable(module, name) => self.eval_variable(module, name, values, inputs),
            NodeKey::Local(module, name) => {
                let l = &self.config.modules[&module.calls()].locals[name];
                Ok(eval::eval(&l.expr, &self.scope(module, values))?)
            }
            NodeKey::Output(module, name) => {
                let o = &self.config.modules[&module.calls()].outputs[name];
                Ok(eval::eval(&o.value, &self.scope(module, values))?)
            }
            NodeKey::ModuleCall(module, name) => {
                let call = &self.config.modules[&module.calls()].calls[name];
                let expansion = self.expand_meta(call.count.as_ref(), call.for_each.as_ref(), module, values)?;
                let Some(instances) = expansion else {
                    let e = call.count.as_ref().or(call.for_each.as_ref()).map(|e| e.span().clone());
                    let what = if call.count.is_some() { "count" } else { "for_each" };
                    return Err(Diagnostic::error(format!("Invalid {what} argument"))
                        .with_detail(format!("The {what} of module {name:?} depends on resource attributes that cannot be determined until apply, so ecspoc cannot predict how many instances will be created. Use -target to apply the resources it depends on first."))
                        .with_span(&e.unwrap_or_default())
                        .into());
                };
                // Kept in the shape a reference reads: the count, or each key's value.
                Ok(if call.count.is_some() {
                    Value::Number(instances.len() as f64)
                } else {
                    Value::Map(
                        instances
                            .into_iter()
                            .map(|x| (key_string(&x.key), x.each.map(|e| e.1).unwrap_or_default()))
                            .collect(),
                    )
                })
            }
            NodeKey::Provider(name) => {
                let root = ModulePath::root();
                let p = &self.config.root().providers[name];
                let scope = self.scope(&root, values);
                let mut m = BTreeMap::new();
                for (k, _, e) in &p.body {
                    m.insert(k.clone(), eval::eval(e, &scope)?);
                }
                Ok(Value::Map(m))
            }
            NodeKey::Resource(_) => Ok(Value::Null),
        }
    }

    fn eval_variable(
        &self,
        module: &ModulePath,
        name: &str,
        values: &HashMap<NodeKey, Value>,
        inputs: &InputVariables,
    ) -> Result<Value, Diagnostics> {
        let v = &self.config.modules[&module.calls()].variables[name];
        let given = if module.is_root() {
            match inputs.get(name) {
                Some(InputValue::Raw(s)) => Some(parse_raw_input(s, v.input_is_literal)),
                Some(InputValue::Typed(t)) => Some(t.clone()),
                None => None,
            }
        } else {
            let (parent, call) =
                module.parent().ok_or_else(|| Diagnostics::from(Diagnostic::error("module without a parent")))?;
            let call = &self.config.modules[&parent.calls()].calls[call];
            match call.inputs.iter().find(|(n, _, _)| n == name) {
                Some((_, _, e)) => {
                    let x = self.instance_expansion(module, values);
                    let scope = NodeScope {
                        count_index: x.as_ref().and_then(|x| x.count_index.clone()),
                        each: x.and_then(|x| x.each),
                        ..self.scope(&parent, values)
                    };
                    Some(eval::eval(e, &scope)?)
                }
                None => None,
            }
        };
        let raw = match (given, &v.default) {
            // `nullable = false`: a null from the caller means "use the default".
            (Some(Value::Null), Some(d)) if !v.nullable => eval::eval(d, &self.scope(module, values))?,
            (Some(g), _) => g,
            (None, Some(d)) => eval::eval(d, &self.scope(module, values))?,
            (None, None) => {
                return Err(Diagnostic::error("No value for required variable")
                    .with_detail(format!("The root module input variable {name:?} is not set, and has no default value. Use -var=\"{name}=...\" or a -var-file to provide it."))
                    .with_span(&v.span)
                    .into());
            }
        };
        let value = v.ty.convert(&raw).map_err(|e| {
            // A conversion error may quote the value; a secret's must not.
            let why = if v.sensitive { format!("it is not a valid {:?} value", v.ty) } else { e };
            Diagnostics::from(
                Diagnostic::error("Invalid value for input variable")
                    .with_detail(format!("variable {name:?}: {why}"))
                    .with_span(&v.span),
            )
        })?;
        if value.is_null() && !v.nullable {
            return Err(Diagnostic::error("Invalid value for input variable")
                .with_detail(format!("variable {name:?} must not be null"))
                .with_span(&v.span)
                .into());
        }
        if !value.is_unknown() {
            let mut own = HashMap::new();
            own.insert(NodeKey::Variable(module.clone(), name.into()), value.clone());
            let scope = self.scope(module, &own);
            for val in &v.validations {
                match eval::eval(&val.condition, &scope)? {
                    Value::Bool(false) => {
                        return Err(Diagnostic::error("Invalid value for variable")
                            .with_detail(format!(
                                "{}\n\nThis was checked by the validation rule at {}.",
                                val.error_message,
                                val.condition.span().location()
                            ))
                            .with_span(&v.span)
                            .into());
                    }
                    Value::Bool(true) | Value::Unknown => {}
                    other => {
                        return Err(Diagnostic::error("Invalid validation condition")
                            .with_detail(format!("A validation condition must be a bool, got {}.", other.type_name()))
                            .with_span(val.condition.span())
                            .into());
                    }
                }
            }
        }
        Ok(value)
    }

    /// The instances a resource expands to; `None` when count/for_each is not yet known.
    pub fn expand(
        &self,
        r: &Resource,
        module: &ModulePath,
        values: &HashMap<NodeKey, Value>,
    ) -> Result<Option<Vec<Expansion>>, Diagnostic> {
        self.expand_meta(r.count.as_ref(), r.for_each.as_ref(), module, values)
    }

    /// A block's `count` or `for_each`, evaluated in one module instance.
    fn expand_meta(
        &self,
        count: Option<&crate::config::Expr>,
        for_each: Option<&crate::config::Expr>,
        module: &ModulePath,
        values: &HashMap<NodeKey, Value>,
    ) -> Result<Option<Vec<Expansion>>, Diagnostic> {
        let scope = self.scope(module, values);
        if let Some(c) = count {
            let v = eval::eval(c, &scope)?;
            if v.is_unknown() {
                return Ok(None);
            }
            let n = v.as_number().filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n <= MAX_COUNT).ok_or_else(|| {
                Diagnostic::error("Invalid count argument")
                    .with_detail(format!("count must be a whole number from 0 to {MAX_COUNT}, got {v}."))
                    .with_span(c.span())
            })?;
            return Ok(Some(
                (0..n as i64)
                    .map(|i| Expansion {
                        key: InstanceKey::Int(i),
                        count_index: Some(Value::Number(i as f64)),
                        each: None,
                    })
                    .collect(),
            ));
        }
        if let Some(fe) = for_each {
            let v = eval::eval(fe, &scope)?;
            let invalid = |detail: String| {
                Diagnostic::error("Invalid for_each argument").with_detail(detail).with_span(fe.span())
            };
            return match v {
                Value::Unknown => Ok(None),
                Value::Map(m) => Ok(Some(
                    m.into_iter()
                        .map(|(k, v)| Expansion {
                            key: InstanceKey::Str(k.clone()),
                            count_index: None,
                            each: Some((Value::String(k), v)),
                        })
                        .collect(),
                )),
                Value::List(items) => {
                    let mut out: BTreeMap<String, Expansion> = BTreeMap::new();
                    for i in items {
                        let s = i.as_str().ok_or_else(|| {
                            invalid("for_each over a set needs strings; use a map for other values.".into())
                        })?;
                        out.insert(
                            s.into(),
                            Expansion {
                                key: InstanceKey::Str(s.into()),
                                count_index: None,
                                each: Some((i.clone(), i.clone())),
                            },
                        );
                    }
                    Ok(Some(out.into_values().collect()))
                }
                other => {
                    Err(invalid(format!("for_each must be a map or a set of strings, got {}.", other.type_name())))
                }
            };
        }
        Ok(Some(vec![Expansion { key: InstanceKey::None, count_index: None, each: None }]))
    }

    /// Evaluate an instance's arguments and check them against the schema.
    pub fn eval_instance_config(
        &self,
        r: &Resource,
        module: &ModulePath,
        values: &HashMap<NodeKey, Value>,
        x: &Expansion,
    ) -> Result<Value, Diagnostics> {
        let (provider, schema) = self.provider_for(&r.type_, r.mode)?;
        let scope =
            NodeScope { engine: self, module, values, count_index: x.count_index.clone(), each: x.each.clone() };
        let mut diags = Diagnostics::default();
        let mut out = BTreeMap::new();
        for (k, _, e) in &r.body {
            // Names were checked by `check_arguments` when the engine was built.
            let Some(attr) = schema.attributes.get(k.as_str()) else { continue };
            let v = match eval::eval(e, &scope) {
                Ok(v) => v,
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            let unknown = attr.ty.unknown_attributes(&v, k);
            if !unknown.is_empty() {
                for path in unknown {
                    diags.push(
                        Diagnostic::error("Unsupported argument")
                            .with_detail(format!("{} has no argument {path}.", r.type_))
                            .with_span(e.span()),
                    );
                }
                continue;
            }
            match attr.ty.convert_argument(&v) {
                Ok(c) => {
                    out.insert(k.clone(), c);
                }
                Err(msg) => diags.push(
                    Diagnostic::error("Incorrect attribute value type")
                        .with_detail(format!("{k:?}: {msg}."))
                        .with_span(e.span()),
                ),
            }
        }
        for (name, attr) in &schema.attributes {
            if attr.required && out.get(*name).is_none_or(Value::is_null) {
                diags.push(missing_argument(name, r));
            }
        }
        if diags.is_empty() {
            let value = Value::Map(out);
            for msg in provider.validate(&r.type_, &value) {
                diags.push(Diagnostic::error("Invalid resource configuration").with_detail(msg).with_span(&r.span));
            }
            if diags.is_empty() {
                return Ok(value);
            }
        }
        Err(diags)
    }
}

/// The instances a module call's evaluated expansion (as its `ModuleCall`
/// node keeps it: the count, or each key's value) stands for.
pub fn call_expansion(call: &crate::config::ModuleCall, expansion: &Value) -> Vec<Expansion> {
    let keys: Vec<InstanceKey> = match expansion {
        Value::Number(n) if call.count.is_some() => (0..*n as i64).map(InstanceKey::Int).collect(),
        Value::Map(m) => m.keys().cloned().map(InstanceKey::Str).collect(),
        _ => Vec::new(),
    };
    keys.iter().filter_map(|k| expansion_at(k, expansion)).collect()
}

/// One instance of a call's expansion: `count.index`, or `each` from its key.
fn expansion_at(key: &InstanceKey, expansion: &Value) -> Option<Expansion> {
    match (key, expansion) {
        (InstanceKey::Int(i), Value::Number(_)) => {
            Some(Expansion { key: key.clone(), count_index: Some(Value::Number(*i as f64)), each: None })
        }
        (InstanceKey::Str(k), Value::Map(m)) => Some(Expansion {
            key: key.clone(),
            count_index: None,
            each: Some((Value::String(k.clone()), m.get(k)?.clone())),
        }),
        _ => None,
    }
}

/// A for_each key as a map key.
fn key_string(key: &InstanceKey) -> String {
    match key {
        InstanceKey::Str(s) => s.clone(),
        other => other.to_string(),
    }
}

fn missing_argument(name: &str, r: &Resource) -> Diagnostic {
    Diagnostic::error("Missing required argument")
        .with_detail(format!("The argument {name:?} is required in {}, but no definition was found.", r.type_))
        .with_span(&r.span)
}

/// Argument names against each resource's schema, and required arguments
/// present: what can be known without evaluating anything.
fn check_arguments(config: &Config, providers: &ProviderSet) -> Diagnostics {
    let mut diags = Diagnostics::default();
    for m in config.modules.values() {
        for r in m.resources.values() {
            let Some((provider, schema)) = providers.resource_schema(r.mode, &r.type_) else { continue };
            let found_before = diags.0.len();
            for (k, ks, _) in &r.body {
                match schema.attributes.get(k.as_str()) {
                    None => {
                        let known: Vec<&str> = schema
                            .attributes
                            .iter()
                            .filter(|(_, a)| a.required || a.optional)
                            .map(|(n, _)| *n)
                            .collect();
                        diags.push(
                            Diagnostic::error("Unsupported argument")
                                .with_detail(format!(
                                    "An argument named {k:?} is not expected in {}. Expected: {}.",
                                    r.type_,
                                    known.join(", ")
                                ))
                                .with_span(ks),
                        );
                    }
                    Some(a) if !a.required && !a.optional => {
                        diags.push(
                            Diagnostic::error("Invalid argument")
                                .with_detail(format!("{k:?} is computed by the provider and cannot be set."))
                                .with_span(ks),
                        );
                    }
                    Some(_) => {}
                }
            }
            for (name, a) in &schema.attributes {
                if a.required && !r.body.iter().any(|(k, _, _)| k == name) {
                    diags.push(missing_argument(name, r));
                }
            }
            // Literal values can be type-checked now.
            for (k, _, e) in &r.body {
                if let (Some(a), Some(v)) = (schema.attributes.get(k.as_str()), e.as_literal())
                    && let Err(msg) = a.ty.convert_argument(&v)
                {
                    diags.push(
                        Diagnostic::error("Incorrect attribute value type")
                            .with_detail(format!("{k:?}: {msg}."))
                            .with_span(e.span()),
                    );
                }
            }
            // And the provider's rules on values, for the parts written literally
            // (what `terraform validate` checks; the rest is checked at plan time).
            if diags.0.len() == found_before && r.mode == Mode::Managed {
                let written = Value::Map(
                    r.body
                        .iter()
                        .filter(|(k, _, _)| schema.attributes.contains_key(k.as_str()))
                        .map(|(k, _, e)| (k.clone(), e.known_part()))
                        .collect(),
                );
                for msg in provider.validate(&r.type_, &written) {
                    diags.push(Diagnostic::error("Invalid resource configuration").with_detail(msg).with_span(&r.span));
                }
            }
        }
    }
    diags
}

/// `-var 'x=5'` gives a string; complex types are written in JSON.
/// A `-var` or `TF_VAR_` value: a string as it is; any other type in HCL
/// syntax, as Terraform reads it (`{Name="x"}`, `["a","b"]`), or JSON.
fn parse_raw_input(s: &str, literal: bool) -> Value {
    if literal {
        return Value::String(s.into());
    }
    if let Ok(j) = serde_json::from_str::<serde_json::Value>(s) {
        return Value::from_json(&j);
    }
    // One HCL attribute whose value is the expression; literals only, as Terraform allows.
    match hcl::from_str::<serde_json::Value>(&format!("v = {s}\n")) {
        Ok(serde_json::Value::Object(m)) if m.len() == 1 => m.get("v").map(Value::from_json).unwrap_or_default(),
        _ => Value::String(s.into()),
    }
}

/// The outcome of diffing one instance's configuration against its prior state.
pub struct InstancePlan {
    pub action: Action,
    pub reason: Option<ActionReason>,
    pub planned: Value,
    pub replace_paths: Vec<String>,
}

pub struct InstanceInputs<'a> {
    pub provider: &'a dyn Provider,
    pub schema: &'a ResourceSchema,
    pub type_: &'a str,
    pub prior: Option<&'a Instance>,
    pub config: &'a Value,
    pub lifecycle: &'a crate::config::Lifecycle,
    /// Replace even without a change: `-replace` or `replace_triggered_by`.
    pub replace_requested: Option<ActionReason>,
}

fn propose(schema: &ResourceSchema, prior: Option<&Value>, config: &Value, ignore: &[String]) -> Value {
    let mut m = BTreeMap::new();
    for (name, attr) in &schema.attributes {
        let c = config.get(name).cloned().unwrap_or(Value::Null);
        let p = prior.and_then(|p| p.get(name)).cloned();
        let ignored = prior.is_some() && (ignore.iter().any(|i| i == "all" || i == name));
        let v = if ignored {
            p.unwrap_or(Value::Null)
        } else if !c.is_null() {
            c
        } else if let Some(d) = &attr.default {
            d.clone()
        } else if let Some(d) = &attr.api_default {
            // Unset on create; afterwards, what the remote side reports when unset.
            if prior.is_some() { d.clone() } else { Value::Null }
        } else if attr.computed {
            match (prior, p) {
                // A state written before the schema had this attribute
                // (read with -refresh=false): unset, not a change to make.
                (Some(_), None) => Value::Null,
                (_, p) => p.unwrap_or(Value::Unknown),
            }
        } else {
            Value::Null
        };
        m.insert(name.to_string(), v);
    }
    Value::Map(m)
}

/// Null, or no blocks at all: as in Terraform, zero blocks (an empty
/// `dynamic`, say) and a block left out are the same configuration.
fn absent(ty: Option<&crate::config::types::TypeConstraint>, v: Option<&Value>) -> bool {
    use crate::config::types::TypeConstraint as T;
    match v {
        None | Some(Value::Null) => true,
        Some(Value::List(items)) if items.is_empty() => {
            matches!(ty, Some(T::List(inner) | T::Set(inner)) if matches!(**inner, T::Object(_)))
        }
        _ => false,
    }
}

/// Diff one instance: the proposed new state, then replace or update or nothing.
pub fn plan_instance(i: InstanceInputs<'_>) -> Result<InstancePlan, crate::provider::ProviderError> {
    let ignore = &i.lifecycle.ignore_changes;
    let Some(prior) = i.prior else {
        let proposed = propose(i.schema, None, i.config, &[]);
        let resp = i.provider.plan(PlanRequest { type_: i.type_, prior: None, proposed, config: i.config })?;
        return Ok(InstancePlan {
            action: Action::Create,
            reason: None,
            planned: resp.planned,
            replace_paths: Vec::new(),
        });
    };
    let proposed = propose(i.schema, Some(&prior.attributes), i.config, ignore);
    let resp =
        i.provider.plan(PlanRequest { type_: i.type_, prior: Some(&prior.attributes), proposed, config: i.config })?;
    let changed: Vec<&str> = i
        .schema
        .attributes
        .keys()
        .copied()
        .filter(|k| {
            let ty = i.schema.attributes.get(*k).map(|a| &a.ty);
            resp.planned.get(k) != prior.attributes.get(k)
                && !(absent(ty, resp.planned.get(k)) && absent(ty, prior.attributes.get(k)))
        })
        .collect();
    let mut replace_paths: Vec<String> = changed
        .iter()
        .filter(|k| {
            i.schema.attributes.get(**k).is_some_and(|a| a.force_new) || resp.requires_replace.iter().any(|r| r == **k)
        })
        .map(|k| k.to_string())
        .collect();
    // Inside blocks: the path Terraform names, `block.INDEX.attribute`.
    for k in &changed {
        let within = i.schema.attributes.get(*k).map_or(&[][..], |a| a.force_new_within);
        let items = |v: Option<&Value>| match v {
            Some(Value::List(items)) => items.clone(),
            _ => Vec::new(),
        };
        let (before, after) = (items(prior.attributes.get(k)), items(resp.planned.get(k)));
        for (n, (b, a)) in before.iter().zip(&after).enumerate() {
            for name in within {
                if b.get(name) != a.get(name) {
                    replace_paths.push(format!("{k}.{n}.{name}"));
                }
            }
        }
    }
    replace_paths.sort();
    let reason = if prior.tainted {
        Some(ActionReason::ReplaceBecauseTainted)
    } else if i.replace_requested.is_some() {
        i.replace_requested
    } else if !replace_paths.is_empty() {
        Some(ActionReason::ReplaceBecauseCannotUpdate)
    } else {
        None
    };
    if let Some(reason) = reason {
        let fresh = propose(i.schema, None, i.config, &[]);
        let resp = i.provider.plan(PlanRequest { type_: i.type_, prior: None, proposed: fresh, config: i.config })?;
        let action =
            if i.lifecycle.create_before_destroy { Action::CreateThenDelete } else { Action::DeleteThenCreate };
        return Ok(InstancePlan { action, reason: Some(reason), planned: resp.planned, replace_paths });
    }
    if changed.is_empty() {
        return Ok(InstancePlan {
            action: Action::NoOp,
            reason: None,
            planned: prior.attributes.clone(),
            replace_paths: Vec::new(),
        });
    }
    let planned = as_prior_where_unchanged(i.schema, &prior.attributes, resp.planned);
    Ok(InstancePlan { action: Action::Update, reason: None, planned, replace_paths: Vec::new() })
}

/// An update's planned object, spelled as the prior one wherever nothing
/// changes: attributes the schema does not model (another tool's provider
/// stored them) carried over, and an absent value (null, or no blocks) kept
/// in the prior's spelling, so the plan shows only what changes.
fn as_prior_where_unchanged(schema: &ResourceSchema, prior: &Value, planned: Value) -> Value {
    let mut planned = crate::state::keep_unmodeled(prior, planned, schema);
    if let (Value::Map(p), Value::Map(new)) = (prior, &mut planned) {
        for (name, attr) in &schema.attributes {
            if absent(Some(&attr.ty), p.get(*name)) && absent(Some(&attr.ty), new.get(*name)) {
                match p.get(*name) {
                    Some(v) => new.insert(name.to_string(), v.clone()),
                    None => new.remove(*name),
                };
            }
        }
    }
    planned
}

/// A resource block's value as references see it: one object, a list (count)
/// or a map (for_each).
pub fn aggregate(r: &Resource, instances: Vec<(InstanceKey, Value)>) -> Value {
    if r.count.is_some() {
        Value::List(instances.into_iter().map(|(_, v)| v).collect())
    } else if r.for_each.is_some() {
        Value::Map(instances.into_iter().map(|(k, v)| (key_string(&k), v)).collect())
    } else {
        instances.into_iter().next().map(|(_, v)| v).unwrap_or(Value::Null)
    }
}

pub fn each_mode(r: &Resource) -> Option<String> {
    if r.count.is_some() {
        Some("list".into())
    } else if r.for_each.is_some() {
        Some("map".into())
    } else {
        None
    }
}

#[cfg(test)]
mod raw_input_tests {
    use super::parse_raw_input;
    use crate::value::Value;

    #[test]
    fn var_values_are_read_in_hcl_syntax_for_any_and_collections() {
        assert_eq!(
            parse_raw_input("{Name=\"x\", Env = \"dev\"}", false),
            Value::object([("Env".into(), Value::str("dev")), ("Name".into(), Value::str("x"))])
        );
        assert_eq!(parse_raw_input("[\"a\",\"b\"]", false), Value::List(vec![Value::str("a"), Value::str("b")]));
        assert_eq!(parse_raw_input("3", false), Value::Number(3.0));
    }

    #[test]
    fn var_values_are_strings_for_no_type_and_primitive_types() {
        // `-var insights=disabled` is the string "disabled", not a reference to `disabled`.
        assert_eq!(parse_raw_input("disabled", true), Value::str("disabled"));
        assert_eq!(parse_raw_input("[\"a\"]", true), Value::str("[\"a\"]"));
        assert_eq!(parse_raw_input("{Name=\"x\"}", true), Value::str("{Name=\"x\"}"));
        let mode = |ty: &str| {
            let files = [(std::path::PathBuf::from("m/main.toml"), format!("[variable.v]\n{ty}\n"))];
            let c = crate::config::Config::load_snapshot(&files, std::path::Path::new("m")).expect("module");
            c.root().variables["v"].input_is_literal
        };
        assert!(mode(""));
        assert!(mode("type = \"number\""));
        assert!(!mode("type = \"any\""));
        assert!(!mode("type = \"list(string)\""));
    }
}
