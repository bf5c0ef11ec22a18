//! Which values are secret, decided from the configuration before anything
//! is evaluated: a sensitive variable, a sensitive attribute of a resource, or
//! anything computed from one. Such values print as `(sensitive value)`; a
//! root output that carries one must say `sensitive = true`, as in Terraform.

use crate::addr::{ModulePath, ResourceAddr};
use crate::config::{Config, Expr, Reference};
use crate::diag::{Diagnostic, Diagnostics};
use crate::graph::{Graph, NodeKey};
use crate::provider::ProviderSet;
use crate::value::Value;
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Debug, Default)]
pub struct Sensitivity {
    /// Variables, locals and outputs whose value is (or contains) a secret.
    pub nodes: HashSet<NodeKey>,
    /// Resource arguments set from a secret, by resource.
    pub attributes: HashMap<ResourceAddr, BTreeSet<String>>,
}

impl Sensitivity {
    pub fn analyse(config: &Config, graph: &Graph, providers: &ProviderSet) -> Result<Sensitivity, Diagnostics> {
        let mut s = Sensitivity::default();
        let mut diags = Diagnostics::default();
        // The graph was checked for cycles, so this order exists.
        let order = petgraph::algo::toposort(&graph.graph, None).unwrap_or_default();
        for ix in order {
            let key = &graph.graph[ix];
            match key {
                NodeKey::Variable(m, n) => {
                    let v = &config.modules[m].variables[n];
                    let from_caller = m.parent().is_some_and(|(parent, call)| {
                        config.modules[&parent].calls[call]
                            .inputs
                            .iter()
                            .any(|(name, _, e)| name == n && s.tainted(e, &parent, config, providers))
                    });
                    if v.sensitive || from_caller {
                        s.nodes.insert(key.clone());
                    }
                }
                NodeKey::Local(m, n) => {
                    if s.tainted(&config.modules[m].locals[n].expr, m, config, providers) {
                        s.nodes.insert(key.clone());
                    }
                }
                NodeKey::Output(m, n) => {
                    let o = &config.modules[m].outputs[n];
                    let tainted = s.tainted(&o.value, m, config, providers);
                    if tainted && !o.sensitive && m.is_root() {
                        diags.push(
                            Diagnostic::error("Output refers to sensitive values")
                                .with_detail(format!(
                                    "The output {n:?} is computed from sensitive values. To make sure secrets are not exported by accident, an output that carries one must say so: add sensitive = true to it."
                                ))
                                .with_span(&o.span),
                        );
                    }
                    if tainted || o.sensitive {
                        s.nodes.insert(key.clone());
                    }
                }
                NodeKey::Resource(addr) => {
                    let Some(r) =
                        config.modules[&addr.module].resources.get(&(addr.mode, addr.type_.clone(), addr.name.clone()))
                    else {
                        continue;
                    };
                    let secret: BTreeSet<String> = r
                        .body
                        .iter()
                        .filter(|(_, _, e)| s.tainted(e, &addr.module, config, providers))
                        .map(|(k, _, _)| k.clone())
                        .collect();
                    if !secret.is_empty() {
                        s.attributes.insert(addr.clone(), secret);
                    }
                }
                NodeKey::Provider(_) | NodeKey::ModuleCall(..) => {}
            }
        }
        if diags.has_errors() { Err(diags) } else { Ok(s) }
    }

    /// Whether `e` reads anything secret.
    /// `module` may be an instance (`module.svc["api"]`): what is secret is
    /// decided per module call, the same for all its instances.
    pub fn tainted(&self, e: &Expr, module: &ModulePath, config: &Config, providers: &ProviderSet) -> bool {
        let module = &module.calls();
        e.references_with_attribute().into_iter().any(|(r, attr)| match r {
            Reference::Var(n) => self.nodes.contains(&NodeKey::Variable(module.clone(), n)),
            Reference::Local(n) => self.nodes.contains(&NodeKey::Local(module.clone(), n)),
            Reference::Module { name, .. } => {
                let child = module.child(&name);
                match attr {
                    Some(out) => self.nodes.contains(&NodeKey::Output(child, out)),
                    None => config.modules.get(&child).is_some_and(|m| {
                        m.outputs.keys().any(|o| self.nodes.contains(&NodeKey::Output(child.clone(), o.clone())))
                    }),
                }
            }
            Reference::Resource { mode, type_, name } => {
                let addr = ResourceAddr { module: module.clone(), mode, type_: type_.clone(), name };
                let from_config = self.attributes.get(&addr);
                let schema = providers.resource_schema(mode, &type_).map(|(_, s)| s);
                match attr {
                    Some(a) => {
                        schema.is_some_and(|s| s.is_sensitive(&a)) || from_config.is_some_and(|c| c.contains(&a))
                    }
                    None => schema.is_some_and(|s| s.attributes.values().any(|x| x.sensitive)) || from_config.is_some(),
                }
            }
            _ => false,
        })
    }

    /// `sensitive` plus every other attribute of `object` that holds the same
    /// value as a sensitive one (a provider echoing a secret back, as
    /// terraform_data's `output` echoes `input`).
    pub fn with_echoes(object: &Value, sensitive: &[String]) -> Vec<String> {
        let Some(m) = object.as_map() else { return sensitive.to_vec() };
        let secrets: Vec<&Value> =
            sensitive.iter().filter_map(|k| m.get(k)).filter(|v| !v.is_null() && v.is_wholly_known()).collect();
        let mut out: BTreeSet<String> = sensitive.iter().cloned().collect();
        for (k, v) in m {
            if secrets.contains(&v) {
                out.insert(k.clone());
            }
        }
        out.into_iter().collect()
    }

    /// The sensitive attributes of a resource: its schema's and those set from secrets.
    pub fn resource_attributes(&self, addr: &ResourceAddr, schema_sensitive: Vec<String>) -> Vec<String> {
        let mut all: BTreeSet<String> = schema_sensitive.into_iter().collect();
        if let Some(extra) = self.attributes.get(&addr.config_addr()) {
            all.extend(extra.iter().cloned());
        }
        all.into_iter().collect()
    }
}
