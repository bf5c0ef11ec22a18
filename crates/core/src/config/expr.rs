//! Configuration values as expressions: strings are Terraform templates
//! (`"${aws_vpc.main.id}"`), parsed once at load time by the hcl crate.

use super::raw::{Raw, RawNode};
use crate::addr::Mode;
use crate::diag::Diagnostic;
use crate::source::Span;
use crate::value::Value;
use hcl::expr::{Expression, TraversalOperator};
use hcl::template::{Element, Template};
use std::collections::HashSet;
use std::str::FromStr;

#[derive(Clone, Debug)]
pub enum Expr {
    Literal(Value, Span),
    /// A string that is exactly one `${...}`: the result has the expression's type.
    Single(Box<Expression>, Span),
    /// Any other template: the result is a string.
    Template(Box<Template>, Span),
    List(Vec<Expr>, Span),
    Object(Vec<(String, Span, Expr)>, Span),
}

impl Expr {
    pub fn span(&self) -> &Span {
        match self {
            Expr::Literal(_, s) | Expr::Single(_, s) | Expr::Template(_, s) | Expr::List(_, s) | Expr::Object(_, s) => {
                s
            }
        }
    }

    pub fn null(span: Span) -> Expr {
        Expr::Literal(Value::Null, span)
    }

    pub fn from_raw(node: &RawNode) -> Result<Expr, Diagnostic> {
        let span = node.span.clone();
        Ok(match &node.raw {
            Raw::Null => Expr::Literal(Value::Null, span),
            Raw::Bool(b) => Expr::Literal(Value::Bool(*b), span),
            Raw::Number(n) => Expr::Literal(Value::Number(*n), span),
            Raw::String(s) => parse_template(s, span)?,
            Raw::List(items) => Expr::List(items.iter().map(Expr::from_raw).collect::<Result<_, _>>()?, span),
            Raw::Table(entries) => Expr::Object(
                entries
                    .iter()
                    .map(|(k, ks, v)| Ok((k.clone(), ks.clone(), Expr::from_raw(v)?)))
                    .collect::<Result<_, Diagnostic>>()?,
                span,
            ),
        })
    }

    /// The literal value, when the expression has no template in it.
    pub fn as_literal(&self) -> Option<Value> {
        match self {
            Expr::Literal(v, _) => Some(v.clone()),
            Expr::List(items, _) => items.iter().map(Expr::as_literal).collect::<Option<_>>().map(Value::List),
            Expr::Object(entries, _) => entries
                .iter()
                .map(|(k, _, v)| v.as_literal().map(|v| (k.clone(), v)))
                .collect::<Option<_>>()
                .map(Value::Map),
            _ => None,
        }
    }

    /// The value with every part that needs evaluating unknown: what can be
    /// checked before anything is evaluated.
    pub fn known_part(&self) -> Value {
        match self {
            Expr::Literal(v, _) => v.clone(),
            Expr::List(items, _) => Value::List(items.iter().map(Expr::known_part).collect()),
            Expr::Object(entries, _) => {
                Value::Map(entries.iter().map(|(k, _, v)| (k.clone(), v.known_part())).collect())
            }
            Expr::Single(..) | Expr::Template(..) => Value::Unknown,
        }
    }

    /// The expression as written, before evaluation (`"${var.x}-a"` stays a
    /// string): what Terraform's plan JSON shows as `constant_value` for a
    /// configuration in its JSON syntax.
    pub fn as_written(&self) -> serde_json::Value {
        match self {
            Expr::Literal(v, _) => v.to_json(),
            Expr::List(items, _) => serde_json::Value::Array(items.iter().map(Expr::as_written).collect()),
            Expr::Object(entries, _) => {
                serde_json::Value::Object(entries.iter().map(|(k, _, v)| (k.clone(), v.as_written())).collect())
            }
            Expr::Single(_, span) | Expr::Template(_, span) => {
                written_string(span).map(serde_json::Value::String).unwrap_or(serde_json::Value::Null)
            }
        }
    }

    /// Every reference this expression makes, for the dependency graph.
    pub fn references(&self) -> Vec<(Reference, Span)> {
        let mut out = Vec::new();
        self.walk(&mut |r, _, span| out.push((r, span.clone())));
        out
    }

    /// References with the attribute read from the referenced object, when
    /// one is named (`aws_db_instance.main.password` gives `password`).
    pub fn references_with_attribute(&self) -> Vec<(Reference, Option<String>)> {
        let mut out = Vec::new();
        self.walk(&mut |r, path, _| out.push((r, path.attrs.first().cloned())));
        out
    }

    /// References with every attribute named after the object, in order
    /// (`aws_lb.main.subnet_mapping` gives `["subnet_mapping"]`; indexes and
    /// splats end the path), as Terraform's plan JSON lists them.
    pub fn references_with_path(&self) -> Vec<(Reference, Vec<String>)> {
        let mut out = Vec::new();
        self.walk(&mut |r, path, _| out.push((r, if path.after_splat { Vec::new() } else { path.attrs })));
        out
    }

    fn walk(&self, f: &mut dyn FnMut(Reference, RefPath, &Span)) {
        match self {
            Expr::Literal(..) => {}
            Expr::Single(e, span) => walk_expr(e, &mut Vec::new(), &mut |r, a| f(r, a, span)),
            Expr::Template(t, span) => walk_template(t, &mut Vec::new(), &mut |r, a| f(r, a, span)),
            Expr::List(items, _) => items.iter().for_each(|i| i.walk(f)),
            Expr::Object(entries, _) => entries.iter().for_each(|(_, _, v)| v.walk(f)),
        }
    }
}

/// The string literal a span covers, decoded in its file's syntax.
fn written_string(span: &Span) -> Option<String> {
    let file = span.file.as_ref()?;
    let text = file.text.get(span.start..span.end)?;
    if file.path.to_string_lossy().ends_with(".json") {
        serde_json::from_str::<String>(text).ok()
    } else {
        let table: toml::Table = toml::from_str(&format!("v = {text}")).ok()?;
        table.get("v")?.as_str().map(String::from)
    }
}

pub fn parse_template(s: &str, span: Span) -> Result<Expr, Diagnostic> {
    if !s.contains("${") && !s.contains("%{") {
        return Ok(Expr::Literal(Value::String(s.to_string()), span));
    }
    let template = Template::from_str(s)
        .map_err(|e| Diagnostic::error("Invalid template expression").with_detail(e.to_string()).with_span(&span))?;
    match template.elements() {
        [Element::Interpolation(i)] => Ok(Expr::Single(Box::new(i.expr.clone()), span)),
        elements if elements.iter().all(|e| matches!(e, Element::Literal(_))) => {
            let text: String = elements
                .iter()
                .filter_map(|e| match e {
                    Element::Literal(l) => Some(l.as_str()),
                    _ => None,
                })
                .collect();
            Ok(Expr::Literal(Value::String(text), span))
        }
        _ => Ok(Expr::Template(Box::new(template), span)),
    }
}

/// What an expression can refer to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reference {
    Var(String),
    Local(String),
    Resource {
        mode: Mode,
        type_: String,
        name: String,
    },
    Module {
        name: String,
        /// The output named (`module.net.vpc_id`), if the traversal names one.
        output: Option<String>,
    },
    CountIndex,
    Each,
    Path,
    Terraform,
    SelfRef,
    /// A name that is none of the above (an error at validation).
    Unknown(String),
}

impl Reference {
    pub fn describe(&self) -> String {
        match self {
            Reference::Var(n) => format!("var.{n}"),
            Reference::Local(n) => format!("local.{n}"),
            Reference::Resource { mode: Mode::Managed, type_, name } => format!("{type_}.{name}"),
            Reference::Resource { mode: Mode::Data, type_, name } => format!("data.{type_}.{name}"),
            Reference::Module { name, .. } => format!("module.{name}"),
            Reference::CountIndex => "count.index".into(),
            Reference::Each => "each".into(),
            Reference::Path => "path".into(),
            Reference::Terraform => "terraform".into(),
            Reference::SelfRef => "self".into(),
            Reference::Unknown(n) => n.clone(),
        }
    }
}

fn attr_names(ops: &[TraversalOperator]) -> Vec<Option<&str>> {
    ops.iter()
        .map(|op| match op {
            TraversalOperator::GetAttr(id) => Some(id.as_str()),
            _ => None,
        })
        .collect()
}

/// Classify a root name and its traversal into a reference.
pub fn classify(root: &str, ops: &[TraversalOperator]) -> Reference {
    let names = attr_names(ops);
    let first = names.first().copied().flatten();
    let second = names.get(1).copied().flatten();
    match root {
        "var" => first.map(|n| Reference::Var(n.into())).unwrap_or(Reference::Unknown("var".into())),
        "local" => first.map(|n| Reference::Local(n.into())).unwrap_or(Reference::Unknown("local".into())),
        "module" => first
            .map(|n| Reference::Module { name: n.into(), output: second.map(String::from) })
            .unwrap_or(Reference::Unknown("module".into())),
        "data" => match (first, second) {
            (Some(t), Some(n)) => Reference::Resource { mode: Mode::Data, type_: t.into(), name: n.into() },
            _ => Reference::Unknown("data".into()),
        },
        "count" => Reference::CountIndex,
        "each" => Reference::Each,
        "path" => Reference::Path,
        "terraform" => Reference::Terraform,
        "self" => Reference::SelfRef,
        other => match first {
            Some(n) if other.contains('_') => {
                Reference::Resource { mode: Mode::Managed, type_: other.into(), name: n.into() }
            }
            _ => Reference::Unknown(other.into()),
        },
    }
}

/// What a traversal reads of the object it addresses.
#[derive(Default)]
struct RefPath {
    /// Attributes after the object (instance keys and splats skipped), up
    /// to the next index or splat.
    attrs: Vec<String>,
    /// A splat came before them: the path reads every instance.
    after_splat: bool,
}

fn attribute_path_after(r: &Reference, ops: &[TraversalOperator]) -> RefPath {
    let used = match r {
        Reference::Resource { mode: Mode::Data, .. } => 2,
        Reference::Resource { .. } | Reference::Module { .. } => 1,
        Reference::Each | Reference::Path | Reference::Terraform | Reference::SelfRef => 0,
        _ => return RefPath::default(),
    };
    let rest: Vec<&TraversalOperator> = ops.iter().skip(used).collect();
    let lead = rest.iter().take_while(|op| !matches!(op, TraversalOperator::GetAttr(_))).count();
    let after_splat =
        rest[..lead].iter().any(|op| matches!(op, TraversalOperator::AttrSplat | TraversalOperator::FullSplat));
    let attrs = rest[lead..]
        .iter()
        .map_while(|op| match op {
            TraversalOperator::GetAttr(a) => Some(a.to_string()),
            _ => None,
        })
        .collect();
    RefPath { attrs, after_splat }
}

fn walk_template(t: &Template, bound: &mut Vec<String>, f: &mut dyn FnMut(Reference, RefPath)) {
    for el in t.elements() {
        match el {
            Element::Literal(_) => {}
            Element::Interpolation(i) => walk_expr(&i.expr, bound, f),
            Element::Directive(d) => match d.as_ref() {
                hcl::template::Directive::If(d) => {
                    walk_expr(&d.cond_expr, bound, f);
                    walk_template(&d.true_template, bound, f);
                    if let Some(ft) = &d.false_template {
                        walk_template(ft, bound, f);
                    }
                }
                hcl::template::Directive::For(d) => {
                    walk_expr(&d.collection_expr, bound, f);
                    let n = bound.len();
                    bound.push(d.value_var.to_string());
                    if let Some(k) = &d.key_var {
                        bound.push(k.to_string());
                    }
                    walk_template(&d.template, bound, f);
                    bound.truncate(n);
                }
            },
        }
    }
}

fn walk_expr(e: &Expression, bound: &mut Vec<String>, f: &mut dyn FnMut(Reference, RefPath)) {
    match e {
        Expression::Null | Expression::Bool(_) | Expression::Number(_) | Expression::String(_) => {}
        Expression::Array(items) => items.iter().for_each(|i| walk_expr(i, bound, f)),
        Expression::Object(obj) => {
            for (k, v) in obj.iter() {
                if let hcl::expr::ObjectKey::Expression(ke) = k {
                    // A bare identifier key in an object literal is a name, not a reference.
                    if !matches!(ke, Expression::Variable(_)) {
                        walk_expr(ke, bound, f);
                    }
                }
                walk_expr(v, bound, f);
            }
        }
        Expression::TemplateExpr(te) => {
            if let hcl::expr::TemplateExpr::QuotedString(s) = te.as_ref()
                && let Ok(t) = Template::from_str(s)
            {
                walk_template(&t, bound, f);
            } else if let hcl::expr::TemplateExpr::Heredoc(h) = te.as_ref()
                && let Ok(t) = Template::from_str(&h.template)
            {
                walk_template(&t, bound, f);
            }
        }
        Expression::Variable(v) if !bound.iter().any(|b| b == v.as_str()) => {
            f(classify(v.as_str(), &[]), RefPath::default());
        }
        Expression::Traversal(t) => {
            if let Expression::Variable(v) = &t.expr {
                if !bound.iter().any(|b| b == v.as_str()) {
                    let r = classify(v.as_str(), &t.operators);
                    let path = attribute_path_after(&r, &t.operators);
                    f(r, path);
                }
            } else {
                walk_expr(&t.expr, bound, f);
            }
            for op in &t.operators {
                if let TraversalOperator::Index(ix) = op {
                    walk_expr(ix, bound, f);
                }
            }
        }
        Expression::FuncCall(fc) => fc.args.iter().for_each(|a| walk_expr(a, bound, f)),
        Expression::Parenthesis(p) => walk_expr(p, bound, f),
        Expression::Conditional(c) => {
            walk_expr(&c.cond_expr, bound, f);
            walk_expr(&c.true_expr, bound, f);
            walk_expr(&c.false_expr, bound, f);
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => walk_expr(&u.expr, bound, f),
            hcl::expr::Operation::Binary(b) => {
                walk_expr(&b.lhs_expr, bound, f);
                walk_expr(&b.rhs_expr, bound, f);
            }
        },
        Expression::ForExpr(fe) => {
            walk_expr(&fe.collection_expr, bound, f);
            let n = bound.len();
            bound.push(fe.value_var.to_string());
            if let Some(k) = &fe.key_var {
                bound.push(k.to_string());
            }
            if let Some(k) = &fe.key_expr {
                walk_expr(k, bound, f);
            }
            walk_expr(&fe.value_expr, bound, f);
            if let Some(c) = &fe.cond_expr {
                walk_expr(c, bound, f);
            }
            bound.truncate(n);
        }
        _ => {}
    }
}

/// Names of the references, deduplicated, for messages.
pub fn describe_all(refs: &[(Reference, Span)]) -> Vec<String> {
    let mut seen = HashSet::new();
    refs.iter().map(|(r, _)| r.describe()).filter(|d| seen.insert(d.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(s: &str) -> Vec<String> {
        let e = parse_template(s, Span::default()).unwrap();
        e.references().into_iter().map(|(r, _)| r.describe()).collect()
    }

    #[test]
    fn finds_references_in_templates() {
        assert_eq!(refs("${aws_vpc.main.id}"), vec!["aws_vpc.main"]);
        assert_eq!(
            refs("${cidrsubnet(var.cidr, 4, count.index + 1)}-${local.x}"),
            vec!["var.cidr", "count.index", "local.x"]
        );
        assert_eq!(refs("${[for s in aws_subnet.a : s.id if s.id != var.x]}"), vec!["aws_subnet.a", "var.x"]);
        assert_eq!(refs("${data.aws_ami.ecs.id}"), vec!["data.aws_ami.ecs"]);
        assert_eq!(refs("${module.net.vpc_id}"), vec!["module.net"]);
        assert!(refs("$${not_a_ref}").is_empty());
    }

    #[test]
    fn single_interpolation_keeps_type() {
        assert!(matches!(parse_template("${var.n}", Span::default()).unwrap(), Expr::Single(..)));
        assert!(matches!(parse_template("a-${var.n}", Span::default()).unwrap(), Expr::Template(..)));
        assert!(matches!(parse_template("plain", Span::default()).unwrap(), Expr::Literal(..)));
        assert!(parse_template("${var.", Span::default()).is_err());
    }
}
