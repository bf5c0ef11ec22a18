//! One module's configuration: its blocks decoded from the merged files.

use super::expr::{Expr, Reference};
use super::raw::{Raw, RawNode};
use super::types::TypeConstraint;
use crate::addr::{Mode, is_identifier};
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::Span;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    pub ty: TypeConstraint,
    /// A value from `-var` or `TF_VAR_` is the string given, not an
    /// expression: Terraform's rule for variables of no type or of a
    /// primitive type (`any` and collections are parsed).
    pub input_is_literal: bool,
    pub default: Option<Expr>,
    pub description: String,
    pub sensitive: bool,
    pub nullable: bool,
    pub validations: Vec<Validation>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Validation {
    pub condition: Expr,
    pub error_message: String,
}

#[derive(Clone, Debug)]
pub struct Local {
    pub name: String,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    pub create_before_destroy: bool,
    pub prevent_destroy: bool,
    /// Attribute names, or `["all"]`.
    pub ignore_changes: Vec<String>,
    pub replace_triggered_by: Vec<Expr>,
}

#[derive(Clone, Debug)]
pub struct Resource {
    pub mode: Mode,
    pub type_: String,
    pub name: String,
    /// Arguments other than the meta-arguments, with the span of each key.
    pub body: Vec<(String, Span, Expr)>,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<(Reference, Span)>,
    pub lifecycle: Lifecycle,
    /// `provider = "aws.west"`: the provider configuration's local name and alias.
    pub provider: Option<String>,
    pub span: Span,
}

impl Resource {
    /// The provider's local name: `aws` for `aws_vpc`, `terraform` for `terraform_data`.
    pub fn provider_name(&self) -> String {
        if let Some(p) = &self.provider {
            return p.split('.').next().unwrap_or(p).to_string();
        }
        provider_of_type(&self.type_)
    }
}

pub fn provider_of_type(type_: &str) -> String {
    type_.split('_').next().unwrap_or(type_).to_string()
}

#[derive(Clone, Debug)]
pub struct ModuleCall {
    pub name: String,
    pub source: String,
    pub inputs: Vec<(String, Span, Expr)>,
    /// `count` / `for_each`: the call makes that many module instances
    /// (`module.svc[0]`, `module.svc["api"]`).
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<(Reference, Span)>,
    pub span: Span,
}

impl ModuleCall {
    pub fn expands(&self) -> bool {
        self.count.is_some() || self.for_each.is_some()
    }
}

#[derive(Clone, Debug)]
pub struct Output {
    pub name: String,
    pub value: Expr,
    pub description: String,
    pub sensitive: bool,
    pub depends_on: Vec<(Reference, Span)>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub name: String,
    pub body: Vec<(String, Span, Expr)>,
    pub span: Span,
}

/// `moved { from = ..., to = ... }`: objects state holds at `from` are
/// planned at `to` instead of being destroyed and created again.
#[derive(Clone, Debug)]
pub struct Moved {
    pub from: crate::addr::Target,
    pub to: crate::addr::Target,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Backend {
    pub kind: String,
    pub config: BTreeMap<String, serde_json::Value>,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct Module {
    pub dir: PathBuf,
    pub variables: BTreeMap<String, Variable>,
    pub locals: BTreeMap<String, Local>,
    /// Keyed by (mode, type, name), so lookups stay cheap in large configurations.
    pub resources: BTreeMap<(Mode, String, String), Resource>,
    pub calls: BTreeMap<String, ModuleCall>,
    pub outputs: BTreeMap<String, Output>,
    pub providers: BTreeMap<String, ProviderConfig>,
    pub backend: Option<Backend>,
    /// In the order written: a later move may start where an earlier one ended.
    pub moved: Vec<Moved>,
}

fn err(summary: &str, detail: impl Into<String>, span: &Span) -> Diagnostic {
    Diagnostic::error(summary).with_detail(detail).with_span(span)
}

fn expect_bool(node: &RawNode, what: &str) -> Result<bool, Diagnostic> {
    match node.raw {
        Raw::Bool(b) => Ok(b),
        _ => Err(err(
            "Incorrect attribute value type",
            format!("{what} must be a bool, found {}.", node.kind()),
            &node.span,
        )),
    }
}

fn expect_string(node: &RawNode, what: &str) -> Result<String, Diagnostic> {
    node.as_str().map(str::to_string).ok_or_else(|| {
        err("Incorrect attribute value type", format!("{what} must be a string, found {}.", node.kind()), &node.span)
    })
}

/// `depends_on = ["aws_vpc.main", "module.net"]` (Terraform JSON writes bare references as strings).
fn parse_depends_on(node: &RawNode) -> Result<Vec<(Reference, Span)>, Diagnostic> {
    let Raw::List(items) = &node.raw else {
        return Err(err("Invalid depends_on", "depends_on must be a list of references.", &node.span));
    };
    let mut out = Vec::new();
    for item in items {
        let text = expect_string(item, "a depends_on entry")?;
        let text = text.trim_start_matches("${").trim_end_matches('}');
        let parts: Vec<&str> = text.split('.').collect();
        let r = match parts.as_slice() {
            ["module", m, ..] => Reference::Module { name: m.to_string(), output: None },
            ["data", t, n, ..] => Reference::Resource { mode: Mode::Data, type_: t.to_string(), name: n.to_string() },
            [t, n, ..] if t.contains('_') => {
                Reference::Resource { mode: Mode::Managed, type_: t.to_string(), name: n.to_string() }
            }
            _ => {
                return Err(err(
                    "Invalid depends_on reference",
                    format!("{text:?} is not a resource or module reference."),
                    &item.span,
                ));
            }
        };
        out.push((r, item.span.clone()));
    }
    Ok(out)
}

const META_ARGS: &[&str] = &["count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection"];

impl Module {
    /// Decode one file's top-level table into this module, reporting duplicates.
    pub fn add_file(&mut self, root: &RawNode, diags: &mut Diagnostics) {
        let Some(entries) = root.as_table() else {
            return;
        };
        for (key, key_span, node) in entries {
            let result = match key.as_str() {
                "variable" => self.add_variables(node),
                "locals" => self.add_locals(node),
                "resource" => self.add_resources(node, Mode::Managed),
                "data" => self.add_resources(node, Mode::Data),
                "module" => self.add_calls(node),
                "output" => self.add_outputs(node),
                "provider" => self.add_providers(node),
                "terraform" => self.add_terraform(node),
                "moved" => self.add_moved(node),
                other => Err(err(
                    "Unsupported block type",
                    format!("Blocks of type {other:?} are not expected here. Expected one of: variable, locals, resource, data, module, output, provider, terraform, moved."),
                    key_span,
                )
                .into()),
            };
            if let Err(d) = result {
                diags.extend(d);
            }
        }
    }

    fn add_variables(&mut self, node: &RawNode) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::default();
        for (name, span, body) in node.table_entries("variable block")? {
            match decode_variable(&name, &span, &body) {
                Ok(v) => {
                    if let Some(prev) = self.variables.get(&name) {
                        diags.push(duplicate("variable", &name, &span, &prev.span));
                    } else {
                        self.variables.insert(name, v);
                    }
                }
                Err(d) => diags.push(d),
            }
        }
        if diags.is_empty() { Ok(()) } else { Err(diags) }
    }

    fn add_locals(&mut self, node: &RawNode) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::default();
        for (name, span, value) in node.table_entries("locals block")? {
            if let Some(prev) = self.locals.get(&name) {
                diags.push(duplicate("local value", &name, &span, &prev.span));
                continue;
            }
            match Expr::from_raw(&value) {
                Ok(expr) => {
                    self.locals.insert(name.clone(), Local { name, expr, span });
                }
                Err(d) => diags.push(d),
            }
        }
        if diags.is_empty() { Ok(()) } else { Err(diags) }
    }

    fn add_resources(&mut self, node: &RawNode, mode: Mode) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::default();
        for (type_, type_span, by_name) in node.table_entries("resource block")? {
            if !is_identifier(&type_) {
                diags.push(err(
                    "Invalid resource type",
                    format!("{type_:?} is not a valid resource type name."),
                    &type_span,
                ));
                continue;
            }
            for (name, span, body) in by_name.table_entries("resource block")? {
                if !is_identifier(&name) {
                    diags.push(err(
                        "Invalid resource name",
                        format!("{name:?} is not a valid name: use letters, digits, _ and -."),
                        &span,
                    ));
                    continue;
                }
                if let Some(prev) = self.resources.get(&(mode, type_.clone(), name.clone())) {
                    let what = if mode == Mode::Data { "data source" } else { "resource" };
                    diags.push(duplicate(what, &format!("{type_}.{name}"), &span, &prev.span));
                    continue;
                }
                match decode_resource(mode, &type_, &name, &span, &body) {
                    Ok(r) => {
                        self.resources.insert((mode, type_.clone(), name.clone()), r);
                    }
                    Err(d) => diags.extend(d),
                }
            }
        }
        if diags.is_empty() { Ok(()) } else { Err(diags) }
    }

    fn add_calls(&mut self, node: &RawNode) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::default();
        for (name, span, body) in node.table_entries("module block")? {
            if let Some(prev) = self.calls.get(&name) {
                diags.push(duplicate("module call", &name, &span, &prev.span));
                continue;
            }
            let mut source = None;
            let mut inputs = Vec::new();
            let mut depends_on = Vec::new();
            let (mut count, mut for_each) = (None, None);
            for (k, ks, v) in body.table_entries("module block")? {
                let r = match k.as_str() {
                    "source" => expect_string(&v, "source").map(|s| source = Some(s)),
                    "depends_on" => parse_depends_on(&v).map(|d| depends_on = d),
                    "count" => Expr::from_raw(&v).map(|e| count = Some(e)),
                    "for_each" => Expr::from_raw(&v).map(|e| for_each = Some(e)),
                    "providers" | "version" => Err(err(
                        "Unsupported module argument",
                        format!("{k:?} on module calls is not supported yet by ecspoc."),
                        &ks,
                    )),
                    _ => Expr::from_raw(&v).map(|e| inputs.push((k.clone(), ks.clone(), e))),
                };
                if let Err(d) = r {
                    diags.push(d);
                }
            }
            if count.is_some() && for_each.is_some() {
                diags.push(err(
                    "Invalid combination of \"count\" and \"for_each\"",
                    "A module call may use count or for_each, not both.",
                    &span,
                ));
                continue;
            }
            match source {
                Some(source) => {
                    self.calls
                        .insert(name.clone(), ModuleCall { name, source, inputs, count, for_each, depends_on, span });
                }
                None => diags.push(err(
                    "Missing required argument",
                    format!("The module {name:?} needs a \"source\" argument."),
                    &span,
                )),
            }
        }
        if diags.is_empty() { Ok(()) } else { Err(diags) }
    }

    fn add_outputs(&mut self, node: &RawNode) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::default();
        for (name, span, body) in node.table_entries("output block")? {
            if let Some(prev) = self.outputs.get(&name) {
                diags.push(duplicate("output", &name, &span, &prev.span));
                continue;
            }
            let mut value = None;
            let mut description = String::new();
            let mut sensitive = false;
            let mut depends_on = Vec::new();
            for (k, ks, v) in body.table_entries("output block")? {
                let r = match k.as_str() {
                    "value" => Expr::from_raw(&v).map(|e| value = Some(e)),
                    "description" => expect_string(&v, "description").map(|s| description = s),
                    "sensitive" => expect_bool(&v, "sensitive").map(|b| sensitive = b),
                    "depends_on" => parse_depends_on(&v).map(|d| depends_on = d),
                    other => Err(unsupported_argument(other, "output", &ks)),
                };
                if let Err(d) = r {
                    diags.push(d);
                }
            }
            match value {
                Some(value) => {
                    self.outputs.insert(name.clone(), Output { name, value, description, sensitive, depends_on, span });
                }
                None => diags.push(err(
                    "Missing required argument",
                    format!("The output {name:?} needs a \"value\"."),
                    &span,
                )),
            }
        }
        if diags.is_empty() { Ok(()) } else { Err(diags) }
    }

    fn add_providers(&mut self, node: &RawNode) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::default();
        for (name, span, body) in node.table_entries("provider block")? {
            let mut attrs = Vec::new();
            for (k, ks, v) in body.table_entries("provider block")? {
                match Expr::from_raw(&v) {
                    Ok(e) => attrs.push((k, ks, e)),
                    Err(d) => diags.push(d),
                }
            }
            self.providers.insert(name.clone(), ProviderConfig { name, body: attrs, span });
        }
        if diags.is_empty() { Ok(()) } else { Err(diags) }
    }

    /// `[[moved]]` in TOML, `"moved": [{...}]` in JSON; `from` and `to` are
    /// addresses (Terraform's JSON syntax writes them as plain strings).
    fn add_moved(&mut self, node: &RawNode) -> Result<(), Diagnostics> {
        let blocks: Vec<&RawNode> = match &node.raw {
            Raw::List(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut diags = Diagnostics::default();
        for block in blocks {
            let (mut from, mut to) = (None, None);
            for (k, ks, v) in block.table_entries("moved block")? {
                let slot = match k.as_str() {
                    "from" => &mut from,
                    "to" => &mut to,
                    other => {
                        diags.push(unsupported_argument(other, "moved", &ks));
                        continue;
                    }
                };
                let text = expect_string(&v, &k)?;
                let bare = text.strip_prefix("${").and_then(|t| t.strip_suffix('}')).unwrap_or(&text);
                match crate::addr::Target::parse(bare) {
                    Ok(t) => *slot = Some(t),
                    Err(e) => diags.push(err("Invalid address", format!("{k}: {e}."), &v.span)),
                }
            }
            match (from, to) {
                (Some(from), Some(to)) => {
                    let same_kind = matches!(
                        (&from, &to),
                        (crate::addr::Target::Module(_), crate::addr::Target::Module(_))
                            | (
                                crate::addr::Target::Resource(_) | crate::addr::Target::Instance(_),
                                crate::addr::Target::Resource(_) | crate::addr::Target::Instance(_)
                            )
                    );
                    if !same_kind {
                        diags.push(err(
                            "Invalid \"moved\" addresses",
                            format!(
                                "Cannot move {from} to {to}: a module moves to a module, a resource to a resource."
                            ),
                            &block.span,
                        ));
                    } else {
                        self.moved.push(Moved { from, to, span: block.span.clone() });
                    }
                }
                _ if diags.has_errors() => {}
                _ => diags.push(err(
                    "Missing required argument",
                    "A moved block needs both \"from\" and \"to\".",
                    &block.span,
                )),
            }
        }
        if diags.is_empty() { Ok(()) } else { Err(diags) }
    }

    fn add_terraform(&mut self, node: &RawNode) -> Result<(), Diagnostics> {
        for (k, ks, v) in node.table_entries("terraform block")? {
            match k.as_str() {
                "backend" => {
                    for (kind, kspan, body) in v.table_entries("backend block")? {
                        let json = raw_to_json(&body);
                        let config = json.as_object().map(|o| o.clone().into_iter().collect()).unwrap_or_default();
                        self.backend = Some(Backend { kind, config, span: kspan });
                    }
                }
                "required_version" | "required_providers" | "experiments" => {}
                other => return Err(unsupported_argument(other, "terraform", &ks).into()),
            }
        }
        Ok(())
    }
}

fn duplicate(what: &str, name: &str, span: &Span, prev: &Span) -> Diagnostic {
    err(
        &format!("Duplicate {what}"),
        format!("A {what} named {name:?} was already declared at {}.", prev.location()),
        span,
    )
}

fn unsupported_argument(name: &str, block: &str, span: &Span) -> Diagnostic {
    err("Unsupported argument", format!("An argument named {name:?} is not expected in a {block} block."), span)
}

fn raw_to_json(node: &RawNode) -> serde_json::Value {
    match &node.raw {
        Raw::Null => serde_json::Value::Null,
        Raw::Bool(b) => (*b).into(),
        Raw::Number(n) => crate::value::Value::Number(*n).to_json(),
        Raw::String(s) => s.clone().into(),
        Raw::List(items) => items.iter().map(raw_to_json).collect(),
        Raw::Table(t) => {
            t.iter().map(|(k, _, v)| (k.clone(), raw_to_json(v))).collect::<serde_json::Map<_, _>>().into()
        }
    }
}

fn decode_variable(name: &str, span: &Span, body: &RawNode) -> Result<Variable, Diagnostic> {
    let mut v = Variable {
        name: name.to_string(),
        ty: TypeConstraint::Any,
        input_is_literal: true,
        default: None,
        description: String::new(),
        sensitive: false,
        nullable: true,
        validations: Vec::new(),
        span: span.clone(),
    };
    for (k, ks, val) in body.table_entries("variable block")? {
        match k.as_str() {
            "type" => {
                let s = expect_string(&val, "type")?;
                let s = s.trim_start_matches("${").trim_end_matches('}');
                v.ty = TypeConstraint::parse(s).map_err(|e| err("Invalid type specification", e, &val.span))?;
                v.input_is_literal =
                    matches!(v.ty, TypeConstraint::String | TypeConstraint::Number | TypeConstraint::Bool);
            }
            "default" => v.default = Some(Expr::from_raw(&val)?),
            "description" => v.description = expect_string(&val, "description")?,
            "sensitive" => v.sensitive = expect_bool(&val, "sensitive")?,
            "nullable" => v.nullable = expect_bool(&val, "nullable")?,
            "validation" => {
                let items = match &val.raw {
                    Raw::List(items) => items.clone(),
                    _ => vec![val.clone()],
                };
                for item in items {
                    let mut condition = None;
                    let mut error_message = String::new();
                    for (vk, vks, vv) in item.table_entries("validation block")? {
                        match vk.as_str() {
                            "condition" => condition = Some(Expr::from_raw(&vv)?),
                            "error_message" => error_message = expect_string(&vv, "error_message")?,
                            other => return Err(unsupported_argument(other, "validation", &vks)),
                        }
                    }
                    let condition = condition.ok_or_else(|| {
                        err("Missing required argument", "A validation block needs a \"condition\".", &item.span)
                    })?;
                    v.validations.push(Validation { condition, error_message });
                }
            }
            other => return Err(unsupported_argument(other, "variable", &ks)),
        }
    }
    if let Some(d) = &v.default
        && let Some(lit) = d.as_literal()
    {
        v.ty.convert(&lit).map_err(|e| err("Invalid default value for variable", e, d.span()))?;
    }
    Ok(v)
}

fn decode_resource(mode: Mode, type_: &str, name: &str, span: &Span, body: &RawNode) -> Result<Resource, Diagnostics> {
    let mut r = Resource {
        mode,
        type_: type_.to_string(),
        name: name.to_string(),
        body: Vec::new(),
        count: None,
        for_each: None,
        depends_on: Vec::new(),
        lifecycle: Lifecycle::default(),
        provider: None,
        span: span.clone(),
    };
    let mut diags = Diagnostics::default();
    for (k, ks, arg) in super::dynamic::expand(body.table_entries("resource block")?)? {
        let result = match (k.as_str(), arg.raw()) {
            ("count", Some(v)) => Expr::from_raw(v).map(|e| r.count = Some(e)),
            ("for_each", Some(v)) => Expr::from_raw(v).map(|e| r.for_each = Some(e)),
            ("depends_on", Some(v)) => parse_depends_on(v).map(|d| r.depends_on = d),
            ("provider", Some(v)) => expect_string(v, "provider")
                .map(|p| r.provider = Some(p.trim_start_matches("${").trim_end_matches('}').to_string())),
            ("lifecycle", Some(v)) if mode == Mode::Managed => decode_lifecycle(v).map(|l| r.lifecycle = l),
            ("provisioner" | "connection", _) => {
                Err(err("Unsupported block type", format!("{k:?} blocks are not supported by ecspoc."), &ks))
            }
            _ if META_ARGS.contains(&k.as_str()) => Err(unsupported_argument(&k, "data", &ks)),
            _ => arg.into_expr().map(|e| r.body.push((k.clone(), ks.clone(), e))),
        };
        if let Err(d) = result {
            diags.push(d);
        }
    }
    if r.count.is_some() && r.for_each.is_some() {
        diags.push(err(
            "Invalid combination of \"count\" and \"for_each\"",
            "A resource may use count or for_each, not both.",
            span,
        ));
    }
    if diags.is_empty() { Ok(r) } else { Err(diags) }
}

fn decode_lifecycle(node: &RawNode) -> Result<Lifecycle, Diagnostic> {
    let mut l = Lifecycle::default();
    for (k, ks, v) in node.table_entries("lifecycle block")? {
        match k.as_str() {
            "create_before_destroy" => l.create_before_destroy = expect_bool(&v, "create_before_destroy")?,
            "prevent_destroy" => l.prevent_destroy = expect_bool(&v, "prevent_destroy")?,
            "ignore_changes" => match &v.raw {
                Raw::String(s) if s == "all" => l.ignore_changes = vec!["all".into()],
                Raw::List(items) => {
                    for i in items {
                        let s = expect_string(i, "an ignore_changes entry")?;
                        l.ignore_changes.push(s.trim_start_matches("${").trim_end_matches('}').to_string());
                    }
                }
                _ => {
                    return Err(err(
                        "Invalid ignore_changes",
                        "ignore_changes is a list of attribute names, or \"all\".",
                        &v.span,
                    ));
                }
            },
            "replace_triggered_by" => {
                let Raw::List(items) = &v.raw else {
                    return Err(err(
                        "Invalid replace_triggered_by",
                        "replace_triggered_by is a list of references.",
                        &v.span,
                    ));
                };
                for i in items {
                    let s = expect_string(i, "a replace_triggered_by entry")?;
                    let wrapped = if s.starts_with("${") { s } else { format!("${{{s}}}") };
                    l.replace_triggered_by.push(super::expr::parse_template(&wrapped, i.span.clone())?);
                }
            }
            other => return Err(unsupported_argument(other, "lifecycle", &ks)),
        }
    }
    Ok(l)
}
