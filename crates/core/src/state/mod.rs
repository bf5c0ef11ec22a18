//! State: what ecspoc manages, as a map from instance address to its last
//! known attributes. Read from and written as Terraform's format version 4.

mod file;
pub mod journal;
pub mod local;
pub mod private_file;

use crate::addr::{InstanceAddr, InstanceKey, Mode, ModulePath, ResourceAddr, Target};
use crate::provider::Marker;
use crate::value::Value;
pub use file::{InstanceFile, OutputFile, ResourceFile, StateFile};
use std::collections::BTreeMap;

pub const STATE_VERSION: u64 = 4;
/// The Terraform version written into state and plan JSON; tools that read
/// them check it is a release that wrote format 4 / plan format 1.2.
pub const TERRAFORM_VERSION: &str = "1.9.8";

#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub attributes: Value,
    /// Provider source, e.g. `registry.terraform.io/hashicorp/aws`.
    pub provider: String,
    pub dependencies: Vec<String>,
    pub tainted: bool,
    pub create_before_destroy: bool,
    pub schema_version: u64,
    pub sensitive_attributes: Vec<String>,
    /// `list` or `map` when the resource uses count or for_each.
    pub each: Option<String>,
}

impl Instance {
    /// A fresh object as a provider returned it, with no dependencies yet.
    pub fn new(attributes: Value, provider: &str, each: Option<String>, sensitive_attributes: Vec<String>) -> Instance {
        Instance {
            attributes,
            provider: provider.to_string(),
            dependencies: Vec::new(),
            tainted: false,
            create_before_destroy: false,
            schema_version: 0,
            sensitive_attributes,
            each,
        }
    }

    pub fn id(&self) -> Option<&str> {
        self.attributes.get("id").and_then(Value::as_str)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct OutputValue {
    pub value: Value,
    pub sensitive: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub serial: u64,
    pub lineage: String,
    pub instances: BTreeMap<InstanceAddr, Instance>,
    pub outputs: BTreeMap<String, OutputValue>,
    /// Creates that were started but not seen to finish (from the journal):
    /// the planner asks the provider to find these objects by their marker.
    pub pending_creates: BTreeMap<InstanceAddr, Marker>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state file {path} is not valid JSON state: {reason}")]
    Corrupt { path: String, reason: String },
    #[error(
        "the state file {path} has format version {version}; this ecspoc reads version {STATE_VERSION}. It was not changed."
    )]
    UnsupportedVersion { path: String, version: u64 },
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("{0}")]
    Locked(String),
    #[error("{0}")]
    Conflict(String),
}

impl State {
    pub fn new() -> State {
        State {
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            instances: BTreeMap::new(),
            outputs: BTreeMap::new(),
            pending_creates: BTreeMap::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.instances.is_empty() && self.outputs.is_empty()
    }

    pub fn managed(&self) -> impl Iterator<Item = (&InstanceAddr, &Instance)> {
        self.instances.iter().filter(|(a, _)| a.resource.mode == Mode::Managed)
    }

    /// Instances of one resource block.
    pub fn resource_instances<'a>(
        &'a self,
        r: &'a ResourceAddr,
    ) -> impl Iterator<Item = (&'a InstanceAddr, &'a Instance)> + 'a {
        let start = r.instance(InstanceKey::None);
        self.instances.range(start..).take_while(move |(a, _)| &a.resource == r)
    }

    pub fn matching<'a>(&'a self, target: &'a Target) -> impl Iterator<Item = (&'a InstanceAddr, &'a Instance)> + 'a {
        self.instances.iter().filter(move |(a, _)| target.contains(a))
    }

    pub fn from_file(f: StateFile, path: &str) -> Result<State, StateError> {
        if f.version != STATE_VERSION {
            return Err(StateError::UnsupportedVersion { path: path.into(), version: f.version });
        }
        let mut instances = BTreeMap::new();
        for r in f.resources {
            let mode = match r.mode.as_str() {
                "managed" => Mode::Managed,
                "data" => Mode::Data,
                other => {
                    return Err(StateError::Corrupt {
                        path: path.into(),
                        reason: format!("unknown resource mode {other:?}"),
                    });
                }
            };
            let module = match &r.module {
                None => ModulePath::root(),
                Some(m) => match Target::parse(m) {
                    Ok(Target::Module(m)) => m,
                    _ => {
                        return Err(StateError::Corrupt {
                            path: path.into(),
                            reason: format!("invalid module address {m:?}"),
                        });
                    }
                },
            };
            let provider = r.provider.trim_start_matches("provider[\"").trim_end_matches("\"]").to_string();
            let resource = ResourceAddr { module, mode, type_: r.type_, name: r.name };
            for i in r.instances {
                if i.deposed.is_some() {
                    continue;
                }
                let addr = resource.instance(InstanceKey::from_json(i.index_key.as_ref()));
                instances.insert(
                    addr,
                    Instance {
                        attributes: Value::from_json(&i.attributes),
                        provider: provider.clone(),
                        dependencies: i.dependencies,
                        tainted: i.status.as_deref() == Some("tainted"),
                        create_before_destroy: i.create_before_destroy,
                        schema_version: i.schema_version,
                        sensitive_attributes: i
                            .sensitive_attributes
                            .iter()
                            .filter_map(|p| {
                                p.get(0).and_then(|s| s.get("value")).and_then(|v| v.as_str()).map(String::from)
                            })
                            .collect(),
                        each: r.each.clone(),
                    },
                );
            }
        }
        let outputs = f
            .outputs
            .into_iter()
            .map(|(k, o)| (k, OutputValue { value: Value::from_json(&o.value), sensitive: o.sensitive }))
            .collect();
        Ok(State { serial: f.serial, lineage: f.lineage, instances, outputs, pending_creates: BTreeMap::new() })
    }

    pub fn to_file(&self) -> StateFile {
        let mut resources: Vec<ResourceFile> = Vec::new();
        // BTreeMap order is module, mode, type, name, key: Terraform's sort order.
        for (addr, inst) in &self.instances {
            let r = &addr.resource;
            let same = resources.last().is_some_and(|last| {
                last.module.as_deref().unwrap_or("") == r.module.to_string()
                    && last.mode == r.mode.as_str()
                    && last.type_ == r.type_
                    && last.name == r.name
            });
            if !same {
                resources.push(ResourceFile {
                    module: (!r.module.is_root()).then(|| r.module.to_string()),
                    mode: r.mode.as_str().to_string(),
                    type_: r.type_.clone(),
                    name: r.name.clone(),
                    each: inst.each.clone(),
                    provider: format!("provider[\"{}\"]", inst.provider),
                    instances: Vec::new(),
                });
            }
            if let Some(last) = resources.last_mut() {
                last.instances.push(instance_to_file(&addr.key, inst));
            }
        }
        StateFile {
            version: STATE_VERSION,
            terraform_version: TERRAFORM_VERSION.to_string(),
            serial: self.serial,
            lineage: self.lineage.clone(),
            outputs: self
                .outputs
                .iter()
                .map(|(k, o)| {
                    (
                        k.clone(),
                        OutputFile { value: o.value.to_json(), type_: type_json(&o.value), sensitive: o.sensitive },
                    )
                })
                .collect(),
            resources,
            check_results: None,
        }
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

pub fn instance_to_file(key: &InstanceKey, inst: &Instance) -> InstanceFile {
    InstanceFile {
        index_key: key.to_json(),
        status: inst.tainted.then(|| "tainted".to_string()),
        deposed: None,
        schema_version: inst.schema_version,
        attributes: inst.attributes.to_json(),
        sensitive_attributes: inst
            .sensitive_attributes
            .iter()
            .map(|a| serde_json::json!([{"type": "get_attr", "value": a}]))
            .collect(),
        private: None,
        dependencies: inst.dependencies.clone(),
        create_before_destroy: inst.create_before_destroy,
    }
}

pub fn instance_from_file(f: &InstanceFile, provider: &str, each: Option<String>) -> Instance {
    Instance {
        attributes: Value::from_json(&f.attributes),
        provider: provider.to_string(),
        dependencies: f.dependencies.clone(),
        tainted: f.status.as_deref() == Some("tainted"),
        create_before_destroy: f.create_before_destroy,
        schema_version: f.schema_version,
        sensitive_attributes: f
            .sensitive_attributes
            .iter()
            .filter_map(|p| p.get(0).and_then(|s| s.get("value")).and_then(|v| v.as_str()).map(String::from))
            .collect(),
        each,
    }
}

/// Terraform's JSON type description of a value (`"string"`, `["list","string"]`...).
pub fn type_json(v: &Value) -> serde_json::Value {
    use serde_json::json;
    match v {
        Value::Null | Value::Unknown => json!("dynamic"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::List(items) => json!(["tuple", items.iter().map(type_json).collect::<Vec<_>>()]),
        Value::Map(m) => {
            json!(["object", m.iter().map(|(k, v)| (k.clone(), type_json(v))).collect::<serde_json::Map<_, _>>()])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> State {
        let mut s = State::new();
        let r = ResourceAddr {
            module: ModulePath(vec!["net".into()]),
            mode: Mode::Managed,
            type_: "random_id".into(),
            name: "x".into(),
        };
        for i in 0..2 {
            s.instances.insert(
                r.instance(InstanceKey::Int(i)),
                Instance {
                    attributes: Value::object([
                        ("id".into(), Value::str(format!("id{i}"))),
                        ("byte_length".into(), Value::Number(4.0)),
                    ]),
                    provider: "registry.terraform.io/hashicorp/random".into(),
                    dependencies: vec!["module.net.terraform_data.a".into()],
                    tainted: i == 1,
                    create_before_destroy: false,
                    schema_version: 0,
                    sensitive_attributes: vec![],
                    each: Some("list".into()),
                },
            );
        }
        s.outputs.insert("o".into(), OutputValue { value: Value::str("v"), sensitive: true });
        s
    }

    #[test]
    fn round_trips_through_the_v4_file_format() {
        let s = sample();
        let text = serde_json::to_string_pretty(&s.to_file()).unwrap();
        let j: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(j["version"], 4);
        assert_eq!(j["resources"][0]["module"], "module.net");
        assert_eq!(j["resources"][0]["each"], "list");
        assert_eq!(j["resources"][0]["provider"], "provider[\"registry.terraform.io/hashicorp/random\"]");
        assert_eq!(j["resources"][0]["instances"][1]["index_key"], 1);
        assert_eq!(j["resources"][0]["instances"][1]["status"], "tainted");
        assert_eq!(j["outputs"]["o"]["sensitive"], true);
        let back = State::from_file(serde_json::from_str(&text).unwrap(), "t").unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn refuses_other_versions() {
        let mut f = sample().to_file();
        f.version = 5;
        assert!(matches!(State::from_file(f, "t"), Err(StateError::UnsupportedVersion { version: 5, .. })));
    }
}
