//! Terraform addresses: `module.net.aws_subnet.public[0]`, `data.aws_ami.ecs`.

use std::fmt;

/// One module call on a path, with the instance key its `count` or
/// `for_each` gave it (`module.svc["api"]`), or none.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleStep {
    pub name: String,
    pub key: InstanceKey,
}

impl From<&str> for ModuleStep {
    fn from(name: &str) -> Self {
        ModuleStep { name: name.to_string(), key: InstanceKey::None }
    }
}

/// A module instance: `module.a.module.b`, `module.svc["api"]`, `module.net[0]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ModulePath(pub Vec<ModuleStep>);

impl ModulePath {
    pub fn root() -> Self {
        ModulePath(Vec::new())
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
    pub fn child(&self, name: &str) -> Self {
        self.child_instance(name, InstanceKey::None)
    }
    pub fn child_instance(&self, name: &str, key: InstanceKey) -> Self {
        let mut v = self.0.clone();
        v.push(ModuleStep { name: name.to_string(), key });
        ModulePath(v)
    }
    /// The path above, and the name of the call that leads here.
    pub fn parent(&self) -> Option<(ModulePath, &str)> {
        let (last, rest) = self.0.split_last()?;
        Some((ModulePath(rest.to_vec()), last.name.as_str()))
    }
    /// The module calls, without instance keys: where the configuration is.
    pub fn calls(&self) -> ModulePath {
        ModulePath(self.0.iter().map(|s| ModuleStep { name: s.name.clone(), key: InstanceKey::None }).collect())
    }
    /// Is `self` this path or below it? A step of `prefix` written without a
    /// key stands for every instance of that call (as `-target=module.svc`).
    pub fn within(&self, prefix: &ModulePath) -> bool {
        self.0.len() >= prefix.0.len()
            && self
                .0
                .iter()
                .zip(&prefix.0)
                .all(|(a, p)| a.name == p.name && (p.key == InstanceKey::None || a.key == p.key))
    }
    /// A module address alone (a state file's `module` field).
    pub fn parse(input: &str) -> Result<ModulePath, AddrParseError> {
        match Target::parse(input)? {
            Target::Module(m) => Ok(m),
            _ => Err(AddrParseError { input: input.to_string(), reason: "expected a module address".into() }),
        }
    }
}

impl fmt::Display for ModulePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "module.{}{}", m.name, m.key)?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    Managed,
    Data,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Managed => "managed",
            Mode::Data => "data",
        }
    }
}

/// A resource block: every instance made by its count or for_each shares it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceAddr {
    pub module: ModulePath,
    pub mode: Mode,
    pub type_: String,
    pub name: String,
}

impl ResourceAddr {
    pub fn instance(&self, key: InstanceKey) -> InstanceAddr {
        InstanceAddr { resource: self.clone(), key }
    }
    /// A resource address (`module.svc.aws_iam_role.task`), no instance key.
    pub fn parse(text: &str) -> Result<ResourceAddr, AddrParseError> {
        match Target::parse(text)? {
            Target::Resource(r) => Ok(r),
            _ => Err(AddrParseError { input: text.to_string(), reason: "expected a resource address".into() }),
        }
    }
    /// The resource block this is an instance of: module instance keys dropped
    /// (`module.svc.aws_iam_role.task`), as graph nodes and state
    /// `dependencies` name it.
    pub fn config_addr(&self) -> ResourceAddr {
        ResourceAddr { module: self.module.calls(), ..self.clone() }
    }
    /// Can objects of `self` refer to objects of `other`, given that their
    /// blocks do? Instances of one module call refer only to their own
    /// instance's objects (`module.svc["a"]` never to `module.svc["b"]`).
    pub fn can_reach(&self, other: &ResourceAddr) -> bool {
        other.module.calls() != self.module.calls() || other.module == self.module
    }
    /// The address without its module part (`aws_vpc.main`, `data.aws_ami.x`).
    pub fn local(&self) -> String {
        match self.mode {
            Mode::Managed => format!("{}.{}", self.type_, self.name),
            Mode::Data => format!("data.{}.{}", self.type_, self.name),
        }
    }
}

/// Written as its address text (`module.svc.aws_iam_role.task`), read back
/// by parsing it: state `dependencies` are parsed where the file is read.
impl serde::Serialize for ResourceAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for ResourceAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ResourceAddr::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        f.write_str(&self.local())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceKey {
    None,
    Int(i64),
    Str(String),
}

impl InstanceKey {
    pub fn to_json(&self) -> Option<serde_json::Value> {
        match self {
            InstanceKey::None => None,
            InstanceKey::Int(i) => Some(serde_json::Value::from(*i)),
            InstanceKey::Str(s) => Some(serde_json::Value::from(s.clone())),
        }
    }
    pub fn from_json(v: Option<&serde_json::Value>) -> InstanceKey {
        match v {
            Some(serde_json::Value::Number(n)) => InstanceKey::Int(n.as_i64().unwrap_or(0)),
            Some(serde_json::Value::String(s)) => InstanceKey::Str(s.clone()),
            _ => InstanceKey::None,
        }
    }
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::None => Ok(()),
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            // Terraform's quoting: only the quote and the backslash are escaped.
            InstanceKey::Str(s) => write!(f, "[\"{}\"]", s.replace('\\', "\\\\").replace('"', "\\\"")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceAddr {
    pub resource: ResourceAddr,
    pub key: InstanceKey,
}

/// Written as its address text (`module.a.aws_vpc.b["k"]`), read back by parsing it.
impl serde::Serialize for InstanceAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for InstanceAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        InstanceAddr::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl InstanceAddr {
    /// One instance (`aws_x.y`, `module.m["k"].aws_x.y[0]`); a resource
    /// address without a key names its only instance.
    pub fn parse(text: &str) -> Result<InstanceAddr, AddrParseError> {
        match Target::parse(text)? {
            Target::Instance(i) => Ok(i),
            Target::Resource(r) => Ok(r.instance(InstanceKey::None)),
            Target::Module(_) => {
                Err(AddrParseError { input: text.to_string(), reason: "a module, not a resource instance".into() })
            }
        }
    }
}

impl fmt::Display for InstanceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.resource, self.key)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid address {input:?}: {reason}")]
pub struct AddrParseError {
    pub input: String,
    pub reason: String,
}

/// What a user may name with `-target`, `-replace`, `state rm`: a module, a
/// resource (all its instances) or one instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Module(ModulePath),
    Resource(ResourceAddr),
    Instance(InstanceAddr),
}

impl Target {
    pub fn parse(input: &str) -> Result<Target, AddrParseError> {
        let err = |reason: &str| AddrParseError { input: input.to_string(), reason: reason.to_string() };
        let mut cur = Cursor { rest: input.trim() };
        let mut module = Vec::new();
        while cur.eat("module.") {
            let name = cur.identifier().ok_or_else(|| err("a module name must be an identifier"))?;
            let key = cur.key().map_err(|r| err(&r))?;
            module.push(ModuleStep { name, key });
            if !cur.eat(".") {
                break;
            }
        }
        let module = ModulePath(module);
        if cur.rest.is_empty() {
            return if module.is_root() { Err(err("empty address")) } else { Ok(Target::Module(module)) };
        }
        let mode = if cur.eat("data.") { Mode::Data } else { Mode::Managed };
        let type_ = cur.identifier().ok_or_else(|| err("resource type and name must be identifiers"))?;
        if !cur.eat(".") {
            return Err(err("expected TYPE.NAME"));
        }
        let name = cur.identifier().ok_or_else(|| err("resource type and name must be identifiers"))?;
        let key = cur.key().map_err(|r| err(&r))?;
        if !cur.rest.is_empty() {
            return Err(err(&format!("unexpected {:?} after the address", cur.rest)));
        }
        let resource = ResourceAddr { module, mode, type_, name };
        Ok(match key {
            InstanceKey::None => Target::Resource(resource),
            key => Target::Instance(resource.instance(key)),
        })
    }

    /// Does this target name `addr` (or a module/resource that contains it)?
    pub fn contains(&self, addr: &InstanceAddr) -> bool {
        match self {
            Target::Module(m) => addr.resource.module.within(m),
            Target::Resource(r) => &addr.resource == r,
            Target::Instance(i) => i == addr,
        }
    }

    /// The module (instance) the target is in, or is.
    pub fn module(&self) -> &ModulePath {
        match self {
            Target::Module(m) => m,
            Target::Resource(r) | Target::Instance(InstanceAddr { resource: r, .. }) => &r.module,
        }
    }

    /// The blocks the target is in: module instance keys dropped.
    pub fn config_target(&self) -> Target {
        match self {
            Target::Module(m) => Target::Module(m.calls()),
            Target::Resource(r) => Target::Resource(r.config_addr()),
            Target::Instance(i) => {
                Target::Instance(InstanceAddr { resource: i.resource.config_addr(), key: i.key.clone() })
            }
        }
    }

    pub fn contains_resource(&self, addr: &ResourceAddr) -> bool {
        match self {
            Target::Module(m) => addr.module.within(m),
            Target::Resource(r) | Target::Instance(InstanceAddr { resource: r, .. }) => r == addr,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Module(m) => write!(f, "{m}"),
            Target::Resource(r) => write!(f, "{r}"),
            Target::Instance(i) => write!(f, "{i}"),
        }
    }
}

/// Reads an address left to right: identifiers, dots and `[key]`s, where a
/// quoted key may hold dots, brackets and escaped quotes.
struct Cursor<'a> {
    rest: &'a str,
}

impl Cursor<'_> {
    fn eat(&mut self, prefix: &str) -> bool {
        match self.rest.strip_prefix(prefix) {
            Some(r) => {
                self.rest = r;
                true
            }
            None => false,
        }
    }

    fn identifier(&mut self) -> Option<String> {
        let end =
            self.rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(self.rest.len());
        let id = &self.rest[..end];
        if !is_identifier(id) {
            return None;
        }
        self.rest = &self.rest[end..];
        Some(id.to_string())
    }

    /// `[0]`, `["key"]`, or nothing.
    fn key(&mut self) -> Result<InstanceKey, String> {
        if !self.eat("[") {
            return Ok(InstanceKey::None);
        }
        const FORM: &str = "an instance key is written [0] or [\"key\"]";
        if self.eat("\"") {
            let mut key = String::new();
            let mut chars = self.rest.char_indices();
            loop {
                match chars.next() {
                    None => return Err(FORM.into()),
                    Some((_, '\\')) => match chars.next() {
                        Some((_, c @ ('"' | '\\'))) => key.push(c),
                        Some((_, 'n')) => key.push('\n'),
                        Some((_, 't')) => key.push('\t'),
                        _ => return Err("an instance key escapes only \\\", \\\\, \\n and \\t".into()),
                    },
                    Some((i, '"')) => {
                        self.rest = &self.rest[i + 1..];
                        break;
                    }
                    Some((_, c)) => key.push(c),
                }
            }
            if !self.eat("]") {
                return Err(FORM.into());
            }
            return Ok(InstanceKey::Str(key));
        }
        let end = self.rest.find(']').ok_or(FORM)?;
        let n = self.rest[..end].parse().map_err(|_| "an instance key is a number or a quoted string".to_string())?;
        self.rest = &self.rest[end + 1..];
        Ok(InstanceKey::Int(n))
    }
}

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_addresses() {
        for a in [
            "aws_vpc.main",
            "module.net.aws_subnet.public[0]",
            "module.a.module.b.data.aws_ami.x",
            "random_id.x[\"blue\"]",
        ] {
            let t = Target::parse(a).unwrap();
            let printed = match t {
                Target::Resource(r) => r.to_string(),
                Target::Instance(i) => i.to_string(),
                Target::Module(m) => m.to_string(),
            };
            assert_eq!(printed, a);
        }
        assert!(Target::parse("aws_vpc").is_err());
        assert!(Target::parse("aws_vpc.x[abc]").is_err());
        assert!(Target::parse("aws_vpc.x[0]extra").is_err());
        assert!(Target::parse("module.a[\"unterminated].x.y").is_err());
        assert_eq!(Target::parse("module.net").unwrap(), Target::Module(ModulePath(vec!["net".into()])));
    }

    #[test]
    fn module_instances_have_keys_that_may_hold_anything() {
        for a in [
            "module.svc[\"api\"].aws_ecs_service.this",
            "module.net[0].aws_subnet.public[1]",
            "module.a[\"x.y]\"].module.b[2].data.aws_ami.x[\"q\\\"uote\"]",
            "module.svc[\"api\"]",
        ] {
            let printed = Target::parse(a).unwrap_or_else(|e| panic!("{a}: {e}")).to_string();
            assert_eq!(printed, a);
        }
        let api = Target::parse("module.svc[\"api\"].aws_x.y").unwrap();
        let Target::Instance(i) = Target::parse("module.svc[\"api\"].aws_x.y[0]").unwrap() else { panic!() };
        assert!(api.contains(&i));
        assert!(Target::parse("module.svc").unwrap().contains(&i), "a call without key names every instance");
        assert!(!Target::parse("module.svc[\"web\"]").unwrap().contains(&i));
        assert_eq!(i.resource.module.calls().to_string(), "module.svc");
    }
}
