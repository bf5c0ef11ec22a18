//! `dynamic` blocks, as Terraform writes them in its JSON syntax:
//!
//! ```toml
//! [resource.aws_ecs_service.app.dynamic.capacity_provider_strategy]
//! for_each = "${var.provider == \"\" ? [] : [var.provider]}"
//! content = { capacity_provider = "${capacity_provider_strategy.value}", weight = 1 }
//! ```
//!
//! Each becomes one argument, the list of its blocks, written as the for
//! expression `[for IT in [for k, v in FOR_EACH : {key = k, value = v}] :
//! CONTENT]`, so evaluation, unknown values and references (the iterator is
//! a bound name, not a resource) need nothing of their own. Blocks written
//! statically beside it come first: `concat(STATIC, DYNAMIC)`.

use super::expr::{Expr, parse_template};
use super::raw::{Raw, RawNode};
use crate::addr::is_identifier;
use crate::diag::Diagnostic;
use crate::source::Span;
use hcl::Expression;
use hcl::Identifier;
use hcl::expr::{ForExpr, FuncCall, Object, ObjectKey, TemplateExpr};

/// Body entries with every `dynamic` entry folded into the block it makes.
pub fn expand(entries: Vec<(String, Span, RawNode)>) -> Result<Vec<(String, Span, RawOrExpr)>, Diagnostic> {
    let mut out: Vec<(String, Span, RawOrExpr)> = Vec::new();
    let mut dynamic = Vec::new();
    for (k, ks, v) in entries {
        if k == "dynamic" {
            for (block, bs, spec) in v.table_entries("dynamic block")? {
                dynamic.push((block, bs, spec));
            }
        } else {
            out.push((k, ks, RawOrExpr::Raw(v)));
        }
    }
    for (block, span, spec) in dynamic {
        let made = blocks(&block, &span, &spec)?;
        match out.iter_mut().find(|(k, _, _)| *k == block) {
            Some((_, _, existing)) => {
                let written = existing.to_hcl()?;
                let joined = FuncCall::builder("concat").arg(as_list(written)).arg(made).build();
                *existing = RawOrExpr::Expr(Expr::Single(Box::new(Expression::from(joined)), span.clone()));
            }
            None => out.push((block, span.clone(), RawOrExpr::Expr(Expr::Single(Box::new(made), span)))),
        }
    }
    Ok(out)
}

/// An argument as read, or one the expansion made.
pub enum RawOrExpr {
    Raw(RawNode),
    Expr(Expr),
}

impl RawOrExpr {
    /// The node as written, for arguments that are never made by expansion.
    pub fn raw(&self) -> Option<&RawNode> {
        match self {
            RawOrExpr::Raw(r) => Some(r),
            RawOrExpr::Expr(_) => None,
        }
    }

    pub fn into_expr(self) -> Result<Expr, Diagnostic> {
        match self {
            RawOrExpr::Raw(r) => Expr::from_raw(&r),
            RawOrExpr::Expr(e) => Ok(e),
        }
    }

    fn to_hcl(&self) -> Result<Expression, Diagnostic> {
        match self {
            RawOrExpr::Raw(r) => hcl_of(r),
            RawOrExpr::Expr(Expr::Single(e, _)) => Ok((**e).clone()),
            RawOrExpr::Expr(_) => Ok(Expression::Null),
        }
    }
}

/// A block written once may be one object: the static part as a list.
fn as_list(e: Expression) -> Expression {
    match e {
        Expression::Object(_) => Expression::Array(vec![e]),
        other => other,
    }
}

fn blocks(block: &str, span: &Span, spec: &RawNode) -> Result<Expression, Diagnostic> {
    let (mut for_each, mut iterator, mut content) = (None, block.to_string(), None);
    for (k, ks, v) in spec.table_entries("dynamic block")? {
        match k.as_str() {
            "for_each" => for_each = Some(hcl_of(&v)?),
            "iterator" => match &v.raw {
                Raw::String(s) if is_identifier(s) => iterator = s.clone(),
                _ => return Err(invalid("iterator is the name the content refers to each element by", &v.span)),
            },
            "content" => content = Some(content_of(&v)?),
            "labels" => return Err(invalid("blocks with labels are not supported in resource arguments", &ks)),
            other => {
                return Err(invalid(
                    &format!("a dynamic block takes for_each, iterator and content, not {other:?}"),
                    &ks,
                ));
            }
        }
    }
    let for_each = for_each.ok_or_else(|| invalid(&format!("dynamic {block:?} needs for_each"), span))?;
    let content = content.ok_or_else(|| invalid(&format!("dynamic {block:?} needs content"), span))?;
    let (k, v) = (Identifier::unchecked("__dynamic_key"), Identifier::unchecked("__dynamic_value"));
    let pair = Object::from([
        (ObjectKey::Identifier(Identifier::unchecked("key")), Expression::Variable(k.clone().into())),
        (ObjectKey::Identifier(Identifier::unchecked("value")), Expression::Variable(v.clone().into())),
    ]);
    let elements =
        ForExpr::new(v, Expression::Parenthesis(Box::new(for_each)), Expression::Object(pair)).with_key_var(k);
    let each = ForExpr::new(Identifier::unchecked(iterator), Expression::from(elements), content);
    Ok(Expression::from(each))
}

/// The content table, its own `dynamic` entries expanded too.
fn content_of(node: &RawNode) -> Result<Expression, Diagnostic> {
    let mut obj = Object::new();
    for (k, _, v) in expand(node.table_entries("dynamic content")?)? {
        obj.insert(ObjectKey::Expression(Expression::String(k)), v.to_hcl()?);
    }
    Ok(Expression::Object(obj))
}

/// A configuration value as an HCL expression.
fn hcl_of(node: &RawNode) -> Result<Expression, Diagnostic> {
    Ok(match &node.raw {
        Raw::Null => Expression::Null,
        Raw::Bool(b) => Expression::Bool(*b),
        Raw::Number(n) => match hcl::Number::from_f64(*n) {
            Some(n) => Expression::Number(n),
            None => return Err(invalid("not a finite number", &node.span)),
        },
        Raw::String(s) => match parse_template(s, node.span.clone())? {
            Expr::Single(e, _) => Expression::Parenthesis(e),
            Expr::Literal(crate::value::Value::String(t), _) => Expression::String(t),
            _ => Expression::TemplateExpr(Box::new(TemplateExpr::QuotedString(s.clone()))),
        },
        Raw::List(items) => Expression::Array(items.iter().map(hcl_of).collect::<Result<_, _>>()?),
        Raw::Table(entries) => {
            let mut obj = Object::new();
            for (k, _, v) in entries {
                obj.insert(ObjectKey::Expression(Expression::String(k.clone())), hcl_of(v)?);
            }
            Expression::Object(obj)
        }
    })
}

fn invalid(detail: &str, span: &Span) -> Diagnostic {
    Diagnostic::error("Invalid dynamic block").with_detail(detail.to_string()).with_span(span)
}
