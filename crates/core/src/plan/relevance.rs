//! Terraform's "relevant attributes": the attributes of resources that the
//! configuration of a changing resource or output reads, directly or
//! through locals, module inputs and module outputs. A plan notes drift
//! only where it touches one of them: a change the plan undoes is shown
//! once, as the change (Terraform 1.2 and later).

use crate::addr::{ModulePath, ResourceAddr};
use crate::config::expr::{Expr, Reference};
use crate::config::{Config, Module};
use std::collections::BTreeSet;

/// Resource blocks and the attribute read from each (`None`: the whole object).
#[derive(Debug, Default)]
pub struct Relevant(BTreeSet<(ResourceAddr, Option<String>)>);

impl Relevant {
    /// Narrow a drift note to its relevant attributes (the others shown as
    /// they were stored); false when none is left to show. A deleted object
    /// is noted when anything of it is relevant.
    pub fn keep_relevant(&self, drift: &mut super::ResourceChange) -> bool {
        let resource = drift.addr.resource.config_addr();
        let (Some(crate::value::Value::Map(before)), Some(crate::value::Value::Map(after))) =
            (drift.before.as_ref(), drift.after.as_mut())
        else {
            return self.0.iter().any(|(r, _)| r == &resource);
        };
        let mut changed = false;
        for (k, v) in after.iter_mut() {
            let old = before.get(k).cloned().unwrap_or_default();
            if *v == old {
                continue;
            }
            if self.touches(&resource, k) {
                changed = true;
            } else {
                *v = old;
            }
        }
        changed
    }

    /// Is a change of `attribute` of `resource` (an instance's block) relevant?
    pub fn touches(&self, resource: &ResourceAddr, attribute: &str) -> bool {
        let block = resource.config_addr();
        self.0.contains(&(block.clone(), None)) || self.0.contains(&(block, Some(attribute.to_string())))
    }
}

/// What the configuration of `resources` (blocks, by module path without
/// instance keys) and root `outputs` reads.
pub fn relevant_attributes<'a>(
    config: &Config,
    resources: impl IntoIterator<Item = &'a ResourceAddr>,
    outputs: impl IntoIterator<Item = &'a str>,
) -> Relevant {
    let mut work: Vec<(ModulePath, &Expr)> = Vec::new();
    for r in resources {
        let module = r.module.calls();
        let Some(block) =
            config.modules.get(&module).and_then(|m| m.resources.get(&(r.mode, r.type_.clone(), r.name.clone())))
        else {
            continue;
        };
        work.extend(block.body.iter().map(|(_, _, e)| (module.clone(), e)));
        work.extend(block.count.iter().chain(&block.for_each).map(|e| (module.clone(), e)));
    }
    if let Some(root) = config.modules.get(&ModulePath::root()) {
        work.extend(outputs.into_iter().filter_map(|o| root.outputs.get(o)).map(|o| (ModulePath::root(), &o.value)));
    }
    let mut seen: BTreeSet<(ModulePath, String)> = BTreeSet::new();
    let mut out = Relevant::default();
    while let Some((module, expr)) = work.pop() {
        let Some(m) = config.modules.get(&module) else { continue };
        for (reference, path) in expr.references_with_path() {
            match reference {
                Reference::Resource { mode, type_, name } => {
                    let addr = ResourceAddr { module: module.clone(), mode, type_, name };
                    out.0.insert((addr, path.into_iter().next()));
                }
                Reference::Local(n) if seen.insert((module.clone(), format!("local.{n}"))) => {
                    work.extend(m.locals.get(&n).map(|l| (module.clone(), &l.expr)));
                }
                Reference::Var(n) if seen.insert((module.clone(), format!("var.{n}"))) => {
                    work.extend(module_input(config, &module, &n));
                }
                Reference::Module { name, output }
                    if seen.insert((module.clone(), format!("module.{name}.{output:?}"))) =>
                {
                    let child = module.child(&name);
                    let values = module_outputs(config.modules.get(&child), output.as_deref());
                    work.extend(values.into_iter().map(|e| (child.clone(), e)));
                }
                _ => {}
            }
        }
    }
    out
}

/// The expression a module's call gives its input `name`, in the caller.
fn module_input<'c>(config: &'c Config, module: &ModulePath, name: &str) -> Option<(ModulePath, &'c Expr)> {
    let (parent, call) = module.parent()?;
    let expr = config.modules.get(&parent)?.calls.get(call)?.inputs.iter().find(|(n, _, _)| n == name)?;
    Some((parent, &expr.2))
}

/// The value expressions of a module's output `name`, or of all of them.
fn module_outputs<'m>(module: Option<&'m Module>, name: Option<&str>) -> Vec<&'m Expr> {
    module
        .into_iter()
        .flat_map(|m| m.outputs.values())
        .filter(|o| name.is_none_or(|n| o.name == n))
        .map(|o| &o.value)
        .collect()
}
