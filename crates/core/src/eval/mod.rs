//! Evaluating expressions against a scope. Unknown values ("known after
//! apply") flow through every operator and function instead of failing.

mod functions;

use crate::config::Reference;
use crate::config::expr::{Expr, classify};
use crate::diag::Diagnostic;
use crate::source::Span;
use crate::value::Value;
use hcl::expr::{BinaryOperator, Expression, TraversalOperator, UnaryOperator};
use hcl::template::{Directive, Element, Template};
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

/// Where references get their values. The planner and the apply walk each
/// provide one; `None` means "not declared" (an error), never "unknown".
pub trait Scope {
    fn var(&self, name: &str) -> Option<Value>;
    fn local(&self, name: &str) -> Option<Value>;
    fn resource(&self, mode: crate::addr::Mode, type_: &str, name: &str) -> Option<Value>;
    fn module(&self, name: &str) -> Option<Value>;
    fn count_index(&self) -> Option<Value> {
        None
    }
    fn each(&self) -> Option<(Value, Value)> {
        None
    }
    fn self_value(&self) -> Option<Value> {
        None
    }
    /// `path.module`, `path.root`, `path.cwd`.
    fn path(&self, which: &str) -> Option<Value>;
    /// The folder that relative paths in `file()` are read from.
    fn base_dir(&self) -> &Path;
    /// Whether `expr` reads a secret: its errors then quote no value.
    fn uses_secret(&self, _expr: &Expr) -> bool {
        false
    }
}

/// An evaluation failure: a message, placed at the expression's span by `eval`.
#[derive(Debug, Clone)]
pub struct EvalError(pub String);

type EResult = Result<Value, EvalError>;

fn fail<T>(msg: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError(msg.into()))
}

/// Evaluate a configuration expression.
pub fn eval(expr: &Expr, scope: &dyn Scope) -> Result<Value, Diagnostic> {
    let mut ev = Evaluator { scope, bound: Vec::new() };
    ev.expr(expr).map_err(|e| {
        let detail = if scope.uses_secret(expr) { hide_values(&e.0) } else { e.0 };
        Diagnostic::error("Invalid expression").with_detail(detail).with_span(expr.span())
    })
}

/// An error about an expression that reads a secret: messages quote the
/// values they fail on, so only the function's name is kept.
fn hide_values(message: &str) -> String {
    let function = message
        .split_once("(): ")
        .map(|(name, _)| name)
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    let what = match function {
        Some(name) => format!("{name}() failed"),
        None => "The expression failed".to_string(),
    };
    format!(
        "{what} on a value computed from a sensitive value; the details are hidden so that the secret is not printed."
    )
}

/// Evaluate with extra names bound (templatefile's variables).
pub fn eval_template_text(text: &str, vars: BTreeMap<String, Value>, scope: &dyn Scope) -> EResult {
    let template = Template::from_str(text).map_err(|e| EvalError(format!("invalid template: {e}")))?;
    let mut ev = Evaluator { scope, bound: vars.into_iter().collect() };
    ev.template(&template)
}

struct Evaluator<'a> {
    scope: &'a dyn Scope,
    /// Names bound by `for` expressions and templatefile variables, innermost last.
    bound: Vec<(String, Value)>,
}

impl Evaluator<'_> {
    fn expr(&mut self, e: &Expr) -> EResult {
        match e {
            Expr::Literal(v, _) => Ok(v.clone()),
            Expr::Single(x, _) => self.hcl(x),
            Expr::Template(t, _) => self.template(t),
            Expr::List(items, _) => items.iter().map(|i| self.expr(i)).collect::<Result<_, _>>().map(Value::List),
            Expr::Object(entries, _) => {
                entries.iter().map(|(k, _, v)| Ok((k.clone(), self.expr(v)?))).collect::<Result<_, _>>().map(Value::Map)
            }
        }
    }

    fn template(&mut self, t: &Template) -> EResult {
        let mut out = String::new();
        let mut unknown = false;
        for el in t.elements() {
            match el {
                Element::Literal(l) => out.push_str(l),
                Element::Interpolation(i) => {
                    let v = self.hcl(&i.expr)?;
                    if !v.is_wholly_known() {
                        unknown = true;
                        continue;
                    }
                    match v.to_template_string() {
                        Some(s) => out.push_str(&s),
                        None if v.is_null() => {
                            return fail("cannot include a null value in a string template");
                        }
                        None => {
                            return fail(format!(
                                "cannot include a {} value in a string template; use jsonencode() or join()",
                                v.type_name()
                            ));
                        }
                    }
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(d) => {
                        let c = self.hcl(&d.cond_expr)?;
                        if c.is_unknown() {
                            unknown = true;
                            continue;
                        }
                        let c = c.as_bool().ok_or_else(|| EvalError("an %{if} condition must be a bool".into()))?;
                        let branch = if c { Some(&d.true_template) } else { d.false_template.as_ref() };
                        if let Some(b) = branch {
                            match self.template(b)? {
                                Value::String(s) => out.push_str(&s),
                                _ => unknown = true,
                            }
                        }
                    }
                    Directive::For(d) => {
                        let coll = self.hcl(&d.collection_expr)?;
                        if coll.is_unknown() {
                            unknown = true;
                            continue;
                        }
                        for (k, v) in iterate(&coll)? {
                            let n = self.bound.len();
                            if let Some(kv) = &d.key_var {
                                self.bound.push((kv.to_string(), k));
                            }
                            self.bound.push((d.value_var.to_string(), v));
                            let r = self.template(&d.template);
                            self.bound.truncate(n);
                            match r? {
                                Value::String(s) => out.push_str(&s),
                                _ => unknown = true,
                            }
                        }
                    }
                },
            }
        }
        Ok(if unknown { Value::Unknown } else { Value::String(out) })
    }

    fn lookup_bound(&self, name: &str) -> Option<Value> {
        self.bound.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    /// Resolve a root name plus as many operators as it consumes; returns the
    /// value and the number of operators used.
    fn root(&mut self, name: &str, ops: &[TraversalOperator]) -> Result<(Value, usize), EvalError> {
        if let Some(v) = self.lookup_bound(name) {
            return Ok((v, 0));
        }
        let s = self.scope;
        let reference = classify(name, ops);
        let missing = |what: String| EvalError(format!("reference to undeclared {what}"));
        match reference {
            Reference::Var(n) => s.var(&n).map(|v| (v, 1)).ok_or_else(|| missing(format!("input variable \"{n}\""))),
            Reference::Local(n) => s.local(&n).map(|v| (v, 1)).ok_or_else(|| missing(format!("local value \"{n}\""))),
            Reference::Module { name: m, .. } => {
                s.module(&m).map(|v| (v, 1)).ok_or_else(|| missing(format!("module \"{m}\"")))
            }
            Reference::Resource { mode, type_, name: n } => {
                let used = if mode == crate::addr::Mode::Data { 2 } else { 1 };
                s.resource(mode, &type_, &n)
                    .map(|v| (v, used))
                    .ok_or_else(|| missing(format!("resource \"{}\"", reference_name(mode, &type_, &n))))
            }
            Reference::CountIndex => match (ops.first(), s.count_index()) {
                (Some(TraversalOperator::GetAttr(a)), Some(i)) if a.as_str() == "index" => Ok((i, 1)),
                _ => fail("count.index is only available in a resource that sets count"),
            },
            Reference::Each => match (ops.first(), s.each()) {
                (Some(TraversalOperator::GetAttr(a)), Some((k, _))) if a.as_str() == "key" => Ok((k, 1)),
                (Some(TraversalOperator::GetAttr(a)), Some((_, v))) if a.as_str() == "value" => Ok((v, 1)),
                _ => fail("each.key and each.value are only available in a resource that sets for_each"),
            },
            Reference::Path => match ops.first() {
                Some(TraversalOperator::GetAttr(a)) => s
                    .path(a.as_str())
                    .map(|v| (v, 1))
                    .ok_or_else(|| EvalError(format!("unknown path attribute {:?}", a.as_str()))),
                _ => fail("use path.module, path.root or path.cwd"),
            },
            Reference::Terraform => match ops.first() {
                Some(TraversalOperator::GetAttr(a)) if a.as_str() == "workspace" => Ok((Value::str("default"), 1)),
                _ => fail("only terraform.workspace is available"),
            },
            Reference::SelfRef => {
                s.self_value().map(|v| (v, 0)).ok_or_else(|| EvalError("self is not available here".into()))
            }
            Reference::Unknown(n) => fail(format!(
                "unknown name {n:?}: expected var., local., module., data., a resource type, count., each. or path."
            )),
        }
    }

    fn hcl(&mut self, e: &Expression) -> EResult {
        match e {
            Expression::Null => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b)),
            Expression::Number(n) => Ok(Value::Number(n.as_f64().unwrap_or(f64::NAN))),
            Expression::String(s) => Ok(Value::String(s.clone())),
            Expression::Array(items) => items.iter().map(|i| self.hcl(i)).collect::<Result<_, _>>().map(Value::List),
            Expression::Object(obj) => {
                let mut m = BTreeMap::new();
                for (k, v) in obj.iter() {
                    let key = match k {
                        hcl::expr::ObjectKey::Identifier(i) => i.to_string(),
                        hcl::expr::ObjectKey::Expression(Expression::Variable(v)) => v.to_string(),
                        hcl::expr::ObjectKey::Expression(ke) => match self.hcl(ke)? {
                            Value::Unknown => return Ok(Value::Unknown),
                            kv => kv
                                .to_template_string()
                                .ok_or_else(|| EvalError("object keys must be strings".into()))?,
                        },
                        _ => return fail("unsupported object key"),
                    };
                    m.insert(key, self.hcl(v)?);
                }
                Ok(Value::Map(m))
            }
            Expression::TemplateExpr(te) => {
                let text = match te.as_ref() {
                    hcl::expr::TemplateExpr::QuotedString(s) => s.clone(),
                    hcl::expr::TemplateExpr::Heredoc(h) => h.template.clone(),
                };
                let t = Template::from_str(&text).map_err(|e| EvalError(format!("invalid template: {e}")))?;
                self.template(&t)
            }
            Expression::Variable(v) => self.root(v.as_str(), &[]).map(|(v, _)| v),
            Expression::Traversal(t) => {
                let (mut value, used) = match &t.expr {
                    Expression::Variable(v) => self.root(v.as_str(), &t.operators)?,
                    other => (self.hcl(other)?, 0),
                };
                let ops = &t.operators[used..];
                value = self.traverse(value, ops)?;
                Ok(value)
            }
            Expression::FuncCall(fc) => {
                let name = fc.name.name.as_str();
                // try() and can() look at errors, so their arguments are evaluated lazily.
                if name == "try" {
                    for a in &fc.args {
                        if let Ok(v) = self.hcl(a) {
                            return Ok(v);
                        }
                    }
                    return fail("no argument of try() could be evaluated without an error");
                }
                if name == "can" {
                    let a = fc.args.first().ok_or_else(|| EvalError("can() takes one argument".into()))?;
                    return Ok(Value::Bool(self.hcl(a).is_ok()));
                }
                let mut args = fc.args.iter().map(|a| self.hcl(a)).collect::<Result<Vec<_>, _>>()?;
                if fc.expand_final {
                    match args.pop() {
                        Some(Value::List(items)) => args.extend(items),
                        Some(Value::Unknown) => return Ok(Value::Unknown),
                        _ => return fail("the final argument before ... must be a list"),
                    }
                }
                functions::call(name, args, self.scope).map_err(|e| EvalError(format!("{name}(): {}", e.0)))
            }
            Expression::Parenthesis(p) => self.hcl(p),
            Expression::Conditional(c) => {
                let cond = self.hcl(&c.cond_expr)?;
                if cond.is_unknown() {
                    return Ok(Value::Unknown);
                }
                match cond.as_bool() {
                    Some(true) => self.hcl(&c.true_expr),
                    Some(false) => self.hcl(&c.false_expr),
                    None => fail(format!("a condition must be a bool, got {}", cond.type_name())),
                }
            }
            Expression::Operation(op) => match op.as_ref() {
                hcl::expr::Operation::Unary(u) => {
                    let v = self.hcl(&u.expr)?;
                    if v.is_unknown() {
                        return Ok(Value::Unknown);
                    }
                    match u.operator {
                        UnaryOperator::Neg => v
                            .as_number()
                            .map(|n| Value::Number(-n))
                            .ok_or_else(|| EvalError("unary minus needs a number".into())),
                        UnaryOperator::Not => {
                            v.as_bool().map(|b| Value::Bool(!b)).ok_or_else(|| EvalError("! needs a bool".into()))
                        }
                    }
                }
                hcl::expr::Operation::Binary(b) => {
                    let l = self.hcl(&b.lhs_expr)?;
                    let r = self.hcl(&b.rhs_expr)?;
                    binary(b.operator, l, r)
                }
            },
            Expression::ForExpr(fe) => {
                let coll = self.hcl(&fe.collection_expr)?;
                if coll.is_unknown() {
                    return Ok(Value::Unknown);
                }
                let mut list = Vec::new();
                let mut map: BTreeMap<String, Value> = BTreeMap::new();
                let mut grouped: BTreeMap<String, Vec<Value>> = BTreeMap::new();
                for (k, v) in iterate(&coll)? {
                    let n = self.bound.len();
                    if let Some(kv) = &fe.key_var {
                        self.bound.push((kv.to_string(), k));
                    }
                    self.bound.push((fe.value_var.to_string(), v));
                    let step = (|| -> Result<(), EvalError> {
                        if let Some(c) = &fe.cond_expr {
                            match self.hcl(c)? {
                                Value::Unknown => {
                                    return fail("a for expression's if clause is not known until apply");
                                }
                                c => {
                                    if !c.as_bool().ok_or_else(|| {
                                        EvalError("a for expression's if clause must be a bool".into())
                                    })? {
                                        return Ok(());
                                    }
                                }
                            }
                        }
                        let value = self.hcl(&fe.value_expr)?;
                        match &fe.key_expr {
                            None => list.push(value),
                            Some(ke) => {
                                let key = self
                                    .hcl(ke)?
                                    .to_template_string()
                                    .ok_or_else(|| EvalError("for expression keys must be strings".into()))?;
                                if fe.grouping {
                                    grouped.entry(key).or_default().push(value);
                                } else if map.insert(key.clone(), value).is_some() {
                                    return fail(format!("duplicate key {key:?} in for expression; use ... to group"));
                                }
                            }
                        }
                        Ok(())
                    })();
                    self.bound.truncate(n);
                    step?;
                }
                Ok(match (&fe.key_expr, fe.grouping) {
                    (None, _) => Value::List(list),
                    (Some(_), true) => Value::Map(grouped.into_iter().map(|(k, v)| (k, Value::List(v))).collect()),
                    (Some(_), false) => Value::Map(map),
                })
            }
            _ => fail("unsupported expression"),
        }
    }

    fn traverse(&mut self, mut value: Value, ops: &[TraversalOperator]) -> EResult {
        for (i, op) in ops.iter().enumerate() {
            if value.is_unknown() {
                return Ok(Value::Unknown);
            }
            value = match op {
                TraversalOperator::GetAttr(name) => get_attr(&value, name.as_str())?,
                TraversalOperator::Index(ix) => {
                    let key = self.hcl(ix)?;
                    index(&value, &key)?
                }
                TraversalOperator::LegacyIndex(n) => index(&value, &Value::Number(*n as f64))?,
                TraversalOperator::AttrSplat | TraversalOperator::FullSplat => {
                    let items = match value {
                        Value::Null => Vec::new(),
                        Value::List(items) => items,
                        other => vec![other],
                    };
                    let rest = &ops[i + 1..];
                    let mapped = items.into_iter().map(|item| self.traverse(item, rest)).collect::<Result<_, _>>()?;
                    return Ok(Value::List(mapped));
                }
            };
        }
        Ok(value)
    }
}

fn reference_name(mode: crate::addr::Mode, type_: &str, name: &str) -> String {
    match mode {
        crate::addr::Mode::Data => format!("data.{type_}.{name}"),
        crate::addr::Mode::Managed => format!("{type_}.{name}"),
    }
}

fn get_attr(value: &Value, name: &str) -> EResult {
    match value {
        Value::Map(m) => {
            m.get(name).cloned().ok_or_else(|| EvalError(format!("this object has no attribute named {name:?}")))
        }
        Value::Null => fail(format!("attempt to get attribute {name:?} from a null value")),
        Value::List(_) => {
            fail(format!("a list has no attribute {name:?}; index it first, e.g. [0].{name}, or use [*].{name}"))
        }
        other => fail(format!("a {} value has no attributes", other.type_name())),
    }
}

fn index(value: &Value, key: &Value) -> EResult {
    if key.is_unknown() {
        return Ok(Value::Unknown);
    }
    match value {
        Value::List(items) => {
            let i = key.as_number().ok_or_else(|| EvalError("a list index must be a number".into()))?;
            if i < 0.0 || i.fract() != 0.0 || i as usize >= items.len() {
                return fail(format!(
                    "index {} out of range for a list of {} elements",
                    crate::value::format_number(i),
                    items.len()
                ));
            }
            Ok(items[i as usize].clone())
        }
        Value::Map(m) => {
            let k = key.to_template_string().ok_or_else(|| EvalError("a map key must be a string".into()))?;
            m.get(&k).cloned().ok_or_else(|| EvalError(format!("the given key {k:?} does not exist")))
        }
        Value::Null => fail("attempt to index a null value"),
        other => fail(format!("a {} value cannot be indexed", other.type_name())),
    }
}

/// (key, value) pairs of a list (keys are indexes) or a map.
pub(crate) fn iterate(coll: &Value) -> Result<Vec<(Value, Value)>, EvalError> {
    match coll {
        Value::List(items) => Ok(items.iter().enumerate().map(|(i, v)| (Value::Number(i as f64), v.clone())).collect()),
        Value::Map(m) => Ok(m.iter().map(|(k, v)| (Value::String(k.clone()), v.clone())).collect()),
        Value::Null => Ok(Vec::new()),
        other => fail(format!("cannot iterate over a {} value", other.type_name())),
    }
}

fn binary(op: BinaryOperator, l: Value, r: Value) -> EResult {
    use BinaryOperator::*;
    if l.is_unknown() || r.is_unknown() {
        return Ok(Value::Unknown);
    }
    match op {
        Eq => Ok(Value::Bool(values_equal(&l, &r))),
        NotEq => Ok(Value::Bool(!values_equal(&l, &r))),
        And | Or => {
            let (a, b) = (
                l.as_bool().ok_or_else(|| EvalError("&& and || need bools".into()))?,
                r.as_bool().ok_or_else(|| EvalError("&& and || need bools".into()))?,
            );
            Ok(Value::Bool(if op == And { a && b } else { a || b }))
        }
        _ => {
            let a = l.as_number().ok_or_else(|| EvalError(format!("a number is required, got {}", l.type_name())))?;
            let b = r.as_number().ok_or_else(|| EvalError(format!("a number is required, got {}", r.type_name())))?;
            Ok(match op {
                Plus => Value::Number(a + b),
                Minus => Value::Number(a - b),
                Mul => Value::Number(a * b),
                Div if b == 0.0 => return fail("division by zero"),
                Div => Value::Number(a / b),
                Mod if b == 0.0 => return fail("modulo by zero"),
                Mod => Value::Number(a % b),
                Less => Value::Bool(a < b),
                LessEq => Value::Bool(a <= b),
                Greater => Value::Bool(a > b),
                GreaterEq => Value::Bool(a >= b),
                _ => unreachable!("handled above"),
            })
        }
    }
}

/// Equality as Terraform sees it after conversion: `5 == "5"` is false, but a
/// number equals the same number.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    a == b
}

/// Evaluate a `${...}` snippet written in a test, with no references.
pub fn eval_str(text: &str, scope: &dyn Scope) -> Result<Value, Diagnostic> {
    let e = crate::config::expr::parse_template(text, Span::default())?;
    eval(&e, scope)
}

/// A scope with nothing declared (functions and literals only).
pub struct EmptyScope(pub std::path::PathBuf);

impl Scope for EmptyScope {
    fn var(&self, _: &str) -> Option<Value> {
        None
    }
    fn local(&self, _: &str) -> Option<Value> {
        None
    }
    fn resource(&self, _: crate::addr::Mode, _: &str, _: &str) -> Option<Value> {
        None
    }
    fn module(&self, _: &str) -> Option<Value> {
        None
    }
    fn path(&self, _: &str) -> Option<Value> {
        None
    }
    fn base_dir(&self) -> &Path {
        &self.0
    }
}
