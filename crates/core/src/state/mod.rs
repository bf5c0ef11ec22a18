//! State: what ecspoc manages, as a map from instance address to its last
//! known attributes. Read from and written as Terraform's format version 4.

mod file;
pub mod journal;
pub mod local;
pub mod moves;
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
    /// The resource blocks this object depended on when it was last changed.
    pub dependencies: Vec<ResourceAddr>,
    pub tainted: bool,
    pub create_before_destroy: bool,
    pub schema_version: u64,
    pub sensitive_attributes: Vec<String>,
    /// `list` or `map` when the resource uses count or for_each.
    pub each: Option<String>,
    /// What the state file held that ecspoc does not use, written back as
    /// read while the object is unchanged.
    pub kept: Kept,
}

/// Fields of a state file's instance (and its resource) that ecspoc reads
/// past: a new object (a create or an update) starts without them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Kept {
    pub private: Option<String>,
    /// `sensitive_attributes` as written (paths into nested values too), and
    /// whether it was there at all (Terraform before 0.15 wrote none).
    pub sensitive_paths: Option<Vec<serde_json::Value>>,
    pub extra: BTreeMap<String, serde_json::Value>,
    pub resource_extra: BTreeMap<String, serde_json::Value>,
    pub status: Option<String>,
    /// Read from a state file (not made by this run).
    pub from_file: bool,
    /// The resource's provider as the file wrote it (0.12 wrote
    /// `provider.aws`, later `provider["registry.terraform.io/hashicorp/aws"]`).
    pub provider_as_written: Option<String>,
}

/// Where a deposed object is: the instance it was current at, and the key
/// that tells it apart from others there (8 hex digits, as Terraform's).
pub type DeposedAddr = (InstanceAddr, String);

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
            kept: Kept::default(),
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
    /// Old objects of create-before-destroy replacements not yet destroyed:
    /// real objects, kept in state until they are.
    pub deposed: BTreeMap<DeposedAddr, Instance>,
    /// What the file held beyond ecspoc's model, written back as read.
    pub kept: KeptState,
}

/// Parts of a state file ecspoc carries without using them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeptState {
    /// Resources listed with no instance (Terraform writes some).
    pub empty_resources: Vec<ResourceFile>,
    /// Each output's value and type as read: the type is written back while
    /// the value is the same (Terraform's types say list, set or tuple).
    pub output_types: BTreeMap<String, (serde_json::Value, serde_json::Value)>,
    pub extra: BTreeMap<String, serde_json::Value>,
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

/// Terraform 0.12 wrote provider configurations as `provider.NAME[.ALIAS]`
/// (`module.m.provider.NAME` inside modules); Terraform 0.13 and later read
/// them as the legacy namespace and write `provider["registry.terraform.io/-/NAME"]`
/// (checked with Terraform 1.11 on the corpus's 0.12 state). ecspoc does the same.
fn normalize_legacy_provider(written: &str) -> Option<String> {
    let at = written.find("provider.")?;
    let (module, rest) = (&written[..at], &written[at + "provider.".len()..]);
    if !(module.is_empty() || module.starts_with("module.") && module.ends_with('.')) {
        return None;
    }
    let (name, alias) = match rest.split_once('.') {
        Some((n, a)) => (n, format!(".{a}")),
        None => (rest, String::new()),
    };
    crate::addr::is_identifier(name).then(|| format!("{module}provider[\"registry.terraform.io/-/{name}\"]{alias}"))
}

/// A state file's text (format 4) read into the model; `path` names it in errors.
pub fn decode(text: &str, path: &str) -> Result<State, StateError> {
    let raw: serde_json::Value =
        serde_json::from_str(text).map_err(|e| StateError::Corrupt { path: path.into(), reason: e.to_string() })?;
    if let Some(v) = raw.get("version").and_then(|v| v.as_u64())
        && v != STATE_VERSION
    {
        return Err(StateError::UnsupportedVersion { path: path.into(), version: v });
    }
    let file: StateFile =
        serde_json::from_value(raw).map_err(|e| StateError::Corrupt { path: path.into(), reason: e.to_string() })?;
    State::from_file(file, path)
}

/// The text a state is stored as: pretty JSON and a newline, as Terraform writes it.
pub fn encode(state: &State, path: &str) -> Result<String, StateError> {
    let mut text = serde_json::to_string_pretty(&state.to_file())
        .map_err(|e| StateError::Corrupt { path: path.into(), reason: e.to_string() })?;
    text.push('\n');
    Ok(text)
}

/// A provider's answer, with every top-level attribute its schema does not
/// know carried over from what was stored (another tool's provider may model
/// more): written back, they keep that tool's state whole.
pub fn keep_unmodeled(stored: &Value, mut read: Value, schema: &crate::provider::ResourceSchema) -> Value {
    if let (Value::Map(old), Value::Map(new)) = (stored, &mut read) {
        for (k, v) in old {
            if !schema.attributes.contains_key(k.as_str()) && !new.contains_key(k) {
                new.insert(k.clone(), v.clone());
            }
        }
    }
    read
}

/// Before writing `state` over `current` (what the store holds now): refuse
/// another lineage's state, keep the serial when nothing changed (returns
/// false: nothing to write), and never let the serial go backwards (a pushed
/// state may bring a higher serial of its own).
pub fn prepare_write(state: &mut State, current: Option<&State>, location: &str) -> Result<bool, StateError> {
    let Some(cur) = current else {
        state.serial += 1;
        return Ok(true);
    };
    if cur.lineage != state.lineage && !cur.is_empty() {
        return Err(StateError::Conflict(format!(
            "the state at {location} has lineage {}, not {}: refusing to overwrite another configuration's state",
            cur.lineage, state.lineage
        )));
    }
    if cur.instances == state.instances && cur.outputs == state.outputs {
        state.serial = cur.serial;
        return Ok(false);
    }
    state.serial = state.serial.max(cur.serial + 1);
    Ok(true)
}

impl State {
    pub fn new() -> State {
        State {
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            instances: BTreeMap::new(),
            outputs: BTreeMap::new(),
            pending_creates: BTreeMap::new(),
            deposed: BTreeMap::new(),
            // As Terraform writes a new state: no checks run yet.
            kept: KeptState {
                extra: BTreeMap::from([("check_results".to_string(), serde_json::Value::Null)]),
                ..KeptState::default()
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.instances.is_empty() && self.outputs.is_empty() && self.deposed.is_empty()
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
        let mut deposed = BTreeMap::new();
        let mut kept = KeptState {
            extra: f.extra.clone(),
            output_types: f.outputs.iter().map(|(k, o)| (k.clone(), (o.value.clone(), o.type_.clone()))).collect(),
            ..KeptState::default()
        };
        for mut r in f.resources {
            if let Some(normal) = normalize_legacy_provider(&r.provider) {
                r.provider = normal;
            }
            if r.instances.is_empty() {
                kept.empty_resources.push(r);
                continue;
            }
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
                Some(m) => match ModulePath::parse(m) {
                    Ok(m) => m,
                    Err(_) => {
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
                let addr = resource.instance(InstanceKey::from_json(i.index_key.as_ref()));
                let mut inst = instance_from_file(&i, &resource.type_, &provider, r.each.clone());
                inst.kept.resource_extra = r.extra.clone();
                inst.kept.provider_as_written = Some(r.provider.clone());
                if let Some(key) = &i.deposed {
                    if deposed.insert((addr.clone(), key.clone()), inst).is_some() {
                        return Err(StateError::Corrupt {
                            path: path.into(),
                            reason: format!("{addr} has two deposed objects with key {key:?}"),
                        });
                    }
                    continue;
                }
                // Two objects at one address: which one is real cannot be guessed.
                if instances.insert(addr.clone(), inst).is_some() {
                    return Err(StateError::Corrupt {
                        path: path.into(),
                        reason: format!(
                            "{addr} appears twice (two resource blocks, or two instances with one index_key)"
                        ),
                    });
                }
            }
        }
        let outputs = f
            .outputs
            .into_iter()
            .map(|(k, o)| (k, OutputValue { value: Value::from_json(&o.value), sensitive: o.sensitive }))
            .collect();
        Ok(State {
            serial: f.serial,
            lineage: f.lineage,
            instances,
            outputs,
            pending_creates: BTreeMap::new(),
            deposed,
            kept,
        })
    }

    pub fn to_file(&self) -> StateFile {
        let mut resources: Vec<ResourceFile> = Vec::new();
        // BTreeMap order is module, mode, type, name, key: Terraform's sort order.
        for (addr, inst) in &self.instances {
            let r = &addr.resource;
            let same = resources.last().is_some_and(|last| is_group_of(last, r));
            if !same {
                let mut f = resource_file(r, inst.each.clone(), &inst.provider, inst.kept.resource_extra.clone());
                // The provider as written, while it names the same provider.
                if let Some(written) = &inst.kept.provider_as_written
                    && written.trim_start_matches("provider[\"").trim_end_matches("\"]") == inst.provider
                {
                    f.provider = written.clone();
                }
                resources.push(f);
            }
            if let Some(last) = resources.last_mut() {
                last.instances.push(instance_to_file(addr, inst));
            }
        }
        // Deposed objects after their resource's current ones (their own group if none is left).
        for ((addr, key), inst) in &self.deposed {
            let mut file = instance_to_file(addr, inst);
            file.deposed = Some(key.clone());
            match resources.iter_mut().find(|f| is_group_of(f, &addr.resource)) {
                Some(f) => f.instances.push(file),
                None => {
                    let mut f = resource_file(
                        &addr.resource,
                        inst.each.clone(),
                        &inst.provider,
                        inst.kept.resource_extra.clone(),
                    );
                    if let Some(written) = &inst.kept.provider_as_written
                        && written.trim_start_matches("provider[\"").trim_end_matches("\"]") == inst.provider
                    {
                        f.provider = written.clone();
                    }
                    f.instances.push(file);
                    resources.push(f);
                }
            }
        }
        resources.extend(self.kept.empty_resources.iter().cloned());
        StateFile {
            version: STATE_VERSION,
            terraform_version: TERRAFORM_VERSION.to_string(),
            serial: self.serial,
            lineage: self.lineage.clone(),
            outputs: self
                .outputs
                .iter()
                .map(|(k, o)| {
                    let value = o.value.to_json();
                    // The type as read while the value is unchanged.
                    let type_ = match self.kept.output_types.get(k) {
                        Some((v, t)) if *v == value => t.clone(),
                        _ => type_json(&o.value),
                    };
                    (k.clone(), OutputFile { value, type_, sensitive: o.sensitive })
                })
                .collect(),
            resources,
            extra: self.kept.extra.clone(),
        }
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

/// Is this group of the file that resource's?
fn is_group_of(f: &ResourceFile, r: &ResourceAddr) -> bool {
    f.module.as_deref().unwrap_or("") == r.module.to_string()
        && f.mode == r.mode.as_str()
        && f.type_ == r.type_
        && f.name == r.name
}

fn resource_file(
    r: &ResourceAddr,
    each: Option<String>,
    provider: &str,
    extra: BTreeMap<String, serde_json::Value>,
) -> ResourceFile {
    ResourceFile {
        module: (!r.module.is_root()).then(|| r.module.to_string()),
        mode: r.mode.as_str().to_string(),
        type_: r.type_.clone(),
        name: r.name.clone(),
        each,
        provider: format!("provider[\"{provider}\"]"),
        instances: Vec::new(),
        extra,
    }
}

/// The top-level attribute names a `sensitive_attributes` list marks.
fn sensitive_names(paths: &[serde_json::Value]) -> Vec<String> {
    let mut names: Vec<String> = paths
        .iter()
        .filter_map(|p| p.get(0).and_then(|s| s.get("value")).and_then(|v| v.as_str()).map(String::from))
        .collect();
    names.dedup();
    names
}

/// Attributes of dynamic type (any value) by resource type, from the
/// providers' schemas: Terraform writes their values in state as
/// `{"value": V, "type": T}`, and so does ecspoc, so each reads the other's.
/// Registered from the providers before anything reads state.
static DYNAMIC_ATTRIBUTES: std::sync::RwLock<BTreeMap<String, Vec<String>>> = std::sync::RwLock::new(BTreeMap::new());
/// Each type's nested blocks and maps, learned from the providers' schemas with the formats.
static BLOCK_ATTRIBUTES: std::sync::RwLock<BTreeMap<String, Vec<String>>> = std::sync::RwLock::new(BTreeMap::new());
static MAP_ATTRIBUTES: std::sync::RwLock<BTreeMap<String, Vec<String>>> = std::sync::RwLock::new(BTreeMap::new());
static SET_ATTRIBUTES: std::sync::RwLock<BTreeMap<String, Vec<String>>> = std::sync::RwLock::new(BTreeMap::new());

/// Learn how state files write these providers' dynamic values: before any
/// state or saved plan is read (the binary does it first thing).
pub fn register_state_formats(providers: &crate::provider::ProviderSet) {
    for (registry, wanted) in [
        (&BLOCK_ATTRIBUTES, (|a| a.is_block()) as fn(&crate::provider::AttrSchema) -> bool),
        (&MAP_ATTRIBUTES, |a| matches!(a.ty, crate::config::types::TypeConstraint::Map(_))),
        (&SET_ATTRIBUTES, |a| a.is_set()),
    ] {
        let Ok(mut m) = registry.write() else { continue };
        for p in providers.iter() {
            // Data sources under `data.TYPE` (a type may be both, with other attributes).
            let resources = p.schema().resources.iter().map(|(t, s)| (t.to_string(), s));
            let data = p.schema().data_sources.iter().map(|(t, s)| (format!("data.{t}"), s));
            for (type_, schema) in resources.chain(data) {
                let names: Vec<String> =
                    schema.attributes.iter().filter(|(_, a)| wanted(a)).map(|(n, _)| n.to_string()).collect();
                if !names.is_empty() {
                    m.insert(type_, names);
                }
            }
        }
    }
    let Ok(mut m) = DYNAMIC_ATTRIBUTES.write() else { return };
    for p in providers.iter() {
        for (type_, schema) in &p.schema().resources {
            let dynamic: Vec<String> = schema
                .attributes
                .iter()
                .filter(|(_, a)| matches!(a.ty, crate::config::types::TypeConstraint::Any))
                .map(|(n, _)| n.to_string())
                .collect();
            if !dynamic.is_empty() {
                m.insert(type_.to_string(), dynamic);
            }
        }
    }
}

/// The attributes of a type that are nested blocks (`health_check { ... }`),
/// as the providers' schemas said when they were registered (a data
/// source's type as `data.TYPE`; so for maps and sets).
pub fn block_attributes(type_: &str) -> Vec<String> {
    BLOCK_ATTRIBUTES.read().ok().and_then(|m| m.get(type_).cloned()).unwrap_or_default()
}

/// The attributes of a type that are sets (values or blocks): plans diff them as sets.
pub fn set_attributes(type_: &str) -> Vec<String> {
    SET_ATTRIBUTES.read().ok().and_then(|m| m.get(type_).cloned()).unwrap_or_default()
}

/// The attributes of a type that are maps (`tags`): plans quote their keys.
pub fn map_attributes(type_: &str) -> Vec<String> {
    MAP_ATTRIBUTES.read().ok().and_then(|m| m.get(type_).cloned()).unwrap_or_default()
}

/// The attributes of a type whose values have no fixed type (Terraform's
/// `dynamic`: terraform_data's input, output, triggers_replace), as the
/// providers' schemas said when they were registered.
pub fn dynamic_attributes(type_: &str) -> Vec<String> {
    DYNAMIC_ATTRIBUTES.read().ok().and_then(|m| m.get(type_).cloned()).unwrap_or_default()
}

/// Is this Terraform's JSON description of a type?
fn is_type_json(t: &serde_json::Value) -> bool {
    match t {
        serde_json::Value::String(s) => matches!(s.as_str(), "string" | "number" | "bool" | "dynamic"),
        serde_json::Value::Array(parts) => parts
            .first()
            .and_then(|k| k.as_str())
            .is_some_and(|k| matches!(k, "list" | "set" | "map" | "object" | "tuple")),
        _ => false,
    }
}

/// `{"value": V, "type": T}` to V for the dynamic attributes.
fn unwrap_dynamic(type_: &str, mut attributes: serde_json::Value) -> serde_json::Value {
    for name in dynamic_attributes(type_) {
        if let Some(v) = attributes.get_mut(&name)
            && let Some(m) = v.as_object()
            && m.len() == 2
            && m.get("type").is_some_and(is_type_json)
            && let Some(inner) = m.get("value").cloned()
        {
            *v = inner;
        }
    }
    attributes
}

/// V to `{"value": V, "type": T}` for the dynamic attributes (null stays null).
fn wrap_dynamic(type_: &str, mut attributes: serde_json::Value, values: &Value) -> serde_json::Value {
    for name in dynamic_attributes(type_) {
        if let (Some(slot), Some(v)) = (attributes.get_mut(&name), values.get(&name))
            && !slot.is_null()
        {
            *slot = serde_json::json!({ "value": slot.clone(), "type": type_json(v) });
        }
    }
    attributes
}

pub fn instance_to_file(addr: &InstanceAddr, inst: &Instance) -> InstanceFile {
    let key = &addr.key;
    // The paths as read while they still mark the same attributes.
    let sensitive_attributes = match &inst.kept.sensitive_paths {
        Some(paths) if sensitive_names(paths) == inst.sensitive_attributes => Some(paths.clone()),
        None if inst.sensitive_attributes.is_empty() && inst.kept.from_file => None,
        _ => Some(
            inst.sensitive_attributes.iter().map(|a| serde_json::json!([{"type": "get_attr", "value": a}])).collect(),
        ),
    };
    let status = match (inst.tainted, &inst.kept.status) {
        (true, _) => Some("tainted".to_string()),
        (false, Some(s)) if s != "tainted" => Some(s.clone()),
        _ => None,
    };
    InstanceFile {
        index_key: key.to_json(),
        status,
        deposed: None,
        schema_version: inst.schema_version,
        attributes: wrap_dynamic(&addr.resource.type_, inst.attributes.to_json(), &inst.attributes),
        sensitive_attributes,
        private: inst.kept.private.clone(),
        dependencies: inst.dependencies.clone(),
        create_before_destroy: inst.create_before_destroy,
        extra: inst.kept.extra.clone(),
    }
}

pub fn instance_from_file(f: &InstanceFile, type_: &str, provider: &str, each: Option<String>) -> Instance {
    let paths = f.sensitive_attributes.clone().unwrap_or_default();
    Instance {
        attributes: Value::from_json(&unwrap_dynamic(type_, f.attributes.clone())),
        provider: provider.to_string(),
        dependencies: f.dependencies.clone(),
        tainted: f.status.as_deref() == Some("tainted"),
        create_before_destroy: f.create_before_destroy,
        schema_version: f.schema_version,
        sensitive_attributes: sensitive_names(&paths),
        each,
        kept: Kept {
            private: f.private.clone(),
            sensitive_paths: f.sensitive_attributes.clone(),
            extra: f.extra.clone(),
            resource_extra: BTreeMap::new(),
            status: f.status.clone(),
            from_file: true,
            provider_as_written: None,
        },
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
                    dependencies: vec![ResourceAddr::parse("module.net.terraform_data.a").unwrap()],
                    tainted: i == 1,
                    create_before_destroy: false,
                    schema_version: 0,
                    sensitive_attributes: vec![],
                    each: Some("list".into()),
                    kept: Kept::default(),
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
        assert_eq!(serde_json::to_string_pretty(&back.to_file()).unwrap(), text, "written again, the same file");
        for (addr, inst) in &s.instances {
            let read = &back.instances[addr];
            assert_eq!(
                (&read.attributes, read.tainted, &read.dependencies),
                (&inst.attributes, inst.tainted, &inst.dependencies)
            );
        }
        assert_eq!(back.outputs, s.outputs);
    }

    /// A deposed object (a real object a create-before-destroy left) and a
    /// resource with no instance stay in the file when ecspoc writes it.
    #[test]
    fn deposed_objects_and_fields_ecspoc_does_not_use_are_written_back() {
        let text = r#"{"version":4,"terraform_version":"1.9.8","serial":3,"lineage":"l","outputs":{"ids":{"value":["a"],"type":["list","string"]}},"resources":[{"mode":"managed","type":"aws_instance","name":"web","provider":"provider[\"registry.terraform.io/hashicorp/aws\"]","instances":[{"schema_version":1,"attributes":{"id":"i-new"},"sensitive_attributes":[[{"type":"get_attr","value":"user_data"},{"type":"index","value":{"value":0,"type":"number"}}]],"private":"eyJzY2hlbWFfdmVyc2lvbiI6IjEifQ==","identity_schema_version":0,"identity":{"id":"i-new"}},{"deposed":"00000001","schema_version":1,"attributes":{"id":"i-old"},"sensitive_attributes":[]}]},{"mode":"data","type":"aws_region","name":"current","provider":"provider[\"registry.terraform.io/hashicorp/aws\"]","instances":[]}],"check_results":[{"object_kind":"resource","config_addr":"aws_instance.web","status":"pass"}]}"#;
        let state = State::from_file(serde_json::from_str(text).unwrap(), "t").unwrap();
        assert_eq!(state.instances.len(), 1, "the deposed object is not a current instance");
        assert_eq!(
            state.deposed.keys().map(|(a, k)| format!("{a} {k}")).collect::<Vec<_>>(),
            ["aws_instance.web 00000001"]
        );
        let mut again: serde_json::Value = serde_json::to_value(state.to_file()).unwrap();
        let mut read: serde_json::Value = serde_json::from_str(text).unwrap();
        for v in [&mut again, &mut read] {
            v.as_object_mut().unwrap().remove("terraform_version");
        }
        assert_eq!(again, read);
    }

    #[test]
    fn legacy_provider_addresses_are_normalised_as_terraform_does() {
        assert_eq!(
            normalize_legacy_provider("provider.libvirt").as_deref(),
            Some("provider[\"registry.terraform.io/-/libvirt\"]")
        );
        assert_eq!(
            normalize_legacy_provider("module.net.provider.aws.west").as_deref(),
            Some("module.net.provider[\"registry.terraform.io/-/aws\"].west")
        );
        assert_eq!(normalize_legacy_provider("provider[\"registry.terraform.io/hashicorp/aws\"]"), None);
    }

    #[test]
    fn refuses_other_versions() {
        let mut f = sample().to_file();
        f.version = 5;
        assert!(matches!(State::from_file(f, "t"), Err(StateError::UnsupportedVersion { version: 5, .. })));
    }
}
