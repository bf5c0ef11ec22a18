//! Terraform addresses: `module.net.aws_subnet.public[0]`, `data.aws_ami.ecs`.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ModulePath(pub Vec<String>);

impl ModulePath {
    pub fn root() -> Self {
        ModulePath(Vec::new())
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
    pub fn child(&self, name: &str) -> Self {
        let mut v = self.0.clone();
        v.push(name.to_string());
        ModulePath(v)
    }
    pub fn parent(&self) -> Option<(ModulePath, &str)> {
        let (last, rest) = self.0.split_last()?;
        Some((ModulePath(rest.to_vec()), last.as_str()))
    }
}

impl fmt::Display for ModulePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "module.{m}")?;
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
    /// The address without its module part (`aws_vpc.main`, `data.aws_ami.x`).
    pub fn local(&self) -> String {
        match self.mode {
            Mode::Managed => format!("{}.{}", self.type_, self.name),
            Mode::Data => format!("data.{}.{}", self.type_, self.name),
        }
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
            InstanceKey::Str(s) => write!(f, "[{s:?}]"),
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
        let text = String::deserialize(d)?;
        match Target::parse(&text).map_err(serde::de::Error::custom)? {
            Target::Instance(i) => Ok(i),
            Target::Resource(r) => Ok(r.instance(InstanceKey::None)),
            Target::Module(_) => {
                Err(serde::de::Error::custom(format!("{text:?} is a module, not a resource instance")))
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
        let mut rest = input.trim();
        let mut module = Vec::new();
        while let Some(after) = rest.strip_prefix("module.") {
            let end = after.find('.').unwrap_or(after.len());
            let name = &after[..end];
            if !is_identifier(name) {
                return Err(err("a module name must be an identifier"));
            }
            module.push(name.to_string());
            rest = after.get(end + 1..).unwrap_or("");
        }
        let module = ModulePath(module);
        if rest.is_empty() {
            return if module.is_root() { Err(err("empty address")) } else { Ok(Target::Module(module)) };
        }
        let (mode, rest) = match rest.strip_prefix("data.") {
            Some(r) => (Mode::Data, r),
            None => (Mode::Managed, rest),
        };
        let (type_, rest) = rest.split_once('.').ok_or_else(|| err("expected TYPE.NAME"))?;
        let (name, key) = match rest.find('[') {
            Some(i) => (&rest[..i], Some(&rest[i..])),
            None => (rest, None),
        };
        if !is_identifier(type_) || !is_identifier(name) {
            return Err(err("resource type and name must be identifiers"));
        }
        let resource = ResourceAddr { module, mode, type_: type_.to_string(), name: name.to_string() };
        let Some(key) = key else {
            return Ok(Target::Resource(resource));
        };
        let inner = key
            .strip_prefix('[')
            .and_then(|k| k.strip_suffix(']'))
            .ok_or_else(|| err("an instance key is written [0] or [\"key\"]"))?;
        let key = if let Some(s) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            InstanceKey::Str(s.replace("\\\"", "\""))
        } else {
            InstanceKey::Int(inner.parse().map_err(|_| err("an instance key is a number or a quoted string"))?)
        };
        Ok(Target::Instance(resource.instance(key)))
    }

    /// Does this target name `addr` (or a module/resource that contains it)?
    pub fn contains(&self, addr: &InstanceAddr) -> bool {
        match self {
            Target::Module(m) => addr.resource.module.0.starts_with(&m.0),
            Target::Resource(r) => &addr.resource == r,
            Target::Instance(i) => i == addr,
        }
    }

    pub fn contains_resource(&self, addr: &ResourceAddr) -> bool {
        match self {
            Target::Module(m) => addr.module.0.starts_with(&m.0),
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
        assert_eq!(Target::parse("module.net").unwrap(), Target::Module(ModulePath(vec!["net".into()])));
    }
}
