//! Giving objects in state a new address: `state mv` and `moved` blocks.
//! Addresses match exactly, instance keys included: `module.svc` is the
//! call's instance without a key, not every instance of it.

use super::State;
use crate::addr::{InstanceAddr, InstanceKey, ModulePath, ResourceAddr, Target};

/// Why objects cannot be moved; state is left as it was.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MoveError {
    #[error("no objects in state match {0}")]
    NothingAt(String),
    #[error(
        "the source and destination must be of the same kind (a resource instance, a resource of the same type, or a module)"
    )]
    DifferentKinds,
    #[error("cannot move {from} to {to}: resource types differ")]
    TypesDiffer { from: String, to: String },
    #[error("cannot move {from} to {to}: the destination already exists")]
    DestinationExists { from: String, to: String },
}

/// Is `a` exactly at `target` or below it (keys compared, not wildcards)?
fn exactly_at(a: &InstanceAddr, target: &Target) -> bool {
    match target {
        Target::Module(m) => a.resource.module.0.starts_with(&m.0),
        Target::Resource(r) => &a.resource == r,
        Target::Instance(i) => a == i,
    }
}

fn renamed(a: &InstanceAddr, from: &Target, to: &Target) -> Result<InstanceAddr, MoveError> {
    Ok(match (from, to) {
        (Target::Instance(_), Target::Instance(d)) => d.clone(),
        (Target::Instance(_), Target::Resource(d)) => d.instance(InstanceKey::None),
        (Target::Resource(s), Target::Resource(d)) if s.mode == d.mode => d.instance(a.key.clone()),
        (Target::Module(s), Target::Module(d)) => {
            let below = &a.resource.module.0[s.0.len()..];
            let module = ModulePath(d.0.iter().chain(below).cloned().collect());
            ResourceAddr { module, ..a.resource.clone() }.instance(a.key.clone())
        }
        _ => return Err(MoveError::DifferentKinds),
    })
}

impl State {
    /// Move every object at `from` (current and deposed) to the same place
    /// under `to`; returns each instance's old and new address. Checked
    /// first, so an error changes nothing.
    pub fn move_objects(&mut self, from: &Target, to: &Target) -> Result<Vec<(InstanceAddr, InstanceAddr)>, MoveError> {
        if matches!(from, Target::Module(_)) != matches!(to, Target::Module(_)) {
            return Err(MoveError::DifferentKinds);
        }
        let mut at: Vec<InstanceAddr> = self.instances.keys().filter(|a| exactly_at(a, from)).cloned().collect();
        at.extend(self.deposed.keys().map(|(a, _)| a).filter(|a| exactly_at(a, from)).cloned());
        at.sort();
        at.dedup();
        if at.is_empty() {
            return Err(MoveError::NothingAt(from.to_string()));
        }
        let mut moves = Vec::new();
        for a in &at {
            let new = renamed(a, from, to)?;
            if new.resource.type_ != a.resource.type_ {
                return Err(MoveError::TypesDiffer { from: a.to_string(), to: new.to_string() });
            }
            let taken = self.instances.contains_key(&new) || self.deposed.keys().any(|(d, _)| d == &new);
            if taken && !at.contains(&new) {
                return Err(MoveError::DestinationExists { from: a.to_string(), to: new.to_string() });
            }
            moves.push((a.clone(), new));
        }
        let mut current = Vec::new();
        let mut deposed = Vec::new();
        for (old, new) in &moves {
            if let Some(inst) = self.instances.remove(old) {
                current.push((new.clone(), inst));
            }
            if let Some(m) = self.pending_creates.remove(old) {
                self.pending_creates.insert(new.clone(), m);
            }
            let keys: Vec<String> = self.deposed.keys().filter(|(d, _)| d == old).map(|(_, k)| k.clone()).collect();
            for k in keys {
                if let Some(inst) = self.deposed.remove(&(old.clone(), k.clone())) {
                    deposed.push(((new.clone(), k), inst));
                }
            }
        }
        self.instances.extend(current);
        self.deposed.extend(deposed);
        Ok(moves)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Instance;
    use crate::value::Value;

    fn state(addrs: &[&str]) -> State {
        let mut s = State::new();
        for a in addrs {
            let inst = Instance::new(Value::object([("id".into(), Value::str(*a))]), "p", None, Vec::new());
            s.instances.insert(InstanceAddr::parse(a).unwrap(), inst);
        }
        s
    }

    fn listed(s: &State) -> Vec<String> {
        s.instances.keys().map(ToString::to_string).collect()
    }

    #[test]
    fn a_module_moves_with_what_is_below_it_and_keys_match_exactly() {
        let mut s = state(&[
            "module.svc.terraform_data.a",
            "module.svc.module.inner.terraform_data.b[0]",
            r#"module.svc["x"].terraform_data.a"#,
        ]);
        let moves = s
            .move_objects(&Target::parse("module.svc").unwrap(), &Target::parse(r#"module.svc["api"]"#).unwrap())
            .unwrap();
        assert_eq!(moves.len(), 2, "the keyed instance is another module instance");
        assert_eq!(
            listed(&s),
            [
                r#"module.svc["api"].terraform_data.a"#,
                r#"module.svc["api"].module.inner.terraform_data.b[0]"#,
                r#"module.svc["x"].terraform_data.a"#,
            ]
        );
    }

    #[test]
    fn a_move_that_cannot_be_made_changes_nothing() {
        let mut s = state(&["terraform_data.a", "terraform_data.b", "random_id.c"]);
        let before = listed(&s);
        let t = |x: &str| Target::parse(x).unwrap();
        assert!(matches!(
            s.move_objects(&t("terraform_data.a"), &t("terraform_data.b")),
            Err(MoveError::DestinationExists { .. })
        ));
        assert!(matches!(
            s.move_objects(&t("terraform_data.a"), &t("random_id.a")),
            Err(MoveError::TypesDiffer { .. })
        ));
        assert_eq!(
            s.move_objects(&t("terraform_data.z"), &t("terraform_data.y")),
            Err(MoveError::NothingAt("terraform_data.z".into()))
        );
        assert_eq!(s.move_objects(&t("module.m"), &t("terraform_data.y")), Err(MoveError::DifferentKinds));
        assert_eq!(listed(&s), before);
    }
}
