//! Reading `*.toml` and `*.tf.json` files into one spanned tree, so the rest of
//! the loader does not care which syntax a block was written in.

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{SourceFile, Span};
use std::sync::Arc;
use toml::de::{DeTable, DeValue};

#[derive(Clone, Debug)]
pub enum Raw {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<RawNode>),
    Table(Vec<(String, Span, RawNode)>),
}

#[derive(Clone, Debug)]
pub struct RawNode {
    pub raw: Raw,
    pub span: Span,
}

impl RawNode {
    pub fn kind(&self) -> &'static str {
        match self.raw {
            Raw::Null => "null",
            Raw::Bool(_) => "bool",
            Raw::Number(_) => "number",
            Raw::String(_) => "string",
            Raw::List(_) => "array",
            Raw::Table(_) => "table",
        }
    }

    pub fn as_table(&self) -> Option<&[(String, Span, RawNode)]> {
        match &self.raw {
            Raw::Table(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.raw {
            Raw::String(s) => Some(s),
            _ => None,
        }
    }

    /// A table, or an array of tables merged (Terraform JSON allows both for blocks).
    pub fn table_entries(&self, what: &str) -> Result<Vec<(String, Span, RawNode)>, Diagnostic> {
        match &self.raw {
            Raw::Table(t) => Ok(t.clone()),
            Raw::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend(item.table_entries(what)?);
                }
                Ok(out)
            }
            _ => Err(Diagnostic::error(format!("Invalid {what}"))
                .with_detail(format!("Expected a table, found {}.", self.kind()))
                .with_span(&self.span)),
        }
    }
}

pub fn parse_file(file: &Arc<SourceFile>) -> Result<RawNode, Diagnostics> {
    let name = file.path.to_string_lossy();
    if name.ends_with(".json") { parse_json(file) } else { parse_toml(file) }
}

fn parse_toml(file: &Arc<SourceFile>) -> Result<RawNode, Diagnostics> {
    match DeTable::parse(&file.text) {
        Ok(table) => {
            let span = Span::new(file, table.span().start, table.span().end);
            Ok(RawNode { raw: convert_table(file, table.get_ref()), span })
        }
        Err(e) => {
            let range = e.span().unwrap_or(0..0);
            let message = e.message().trim().to_string();
            Err(Diagnostic::error("Invalid TOML syntax")
                .with_detail(message)
                .with_span(&Span::new(file, range.start, range.end))
                .into())
        }
    }
}

fn convert_table(file: &Arc<SourceFile>, table: &DeTable<'_>) -> Raw {
    Raw::Table(
        table
            .iter()
            .map(|(k, v)| {
                let key_span = Span::new(file, k.span().start, k.span().end);
                (k.get_ref().to_string(), key_span, convert_value(file, v.get_ref(), v.span()))
            })
            .collect(),
    )
}

fn convert_value(file: &Arc<SourceFile>, value: &DeValue<'_>, range: std::ops::Range<usize>) -> RawNode {
    let span = Span::new(file, range.start, range.end);
    let raw = match value {
        DeValue::String(s) => Raw::String(s.to_string()),
        DeValue::Integer(i) => {
            Raw::Number(i64::from_str_radix(i.as_str(), i.radix()).map(|n| n as f64).unwrap_or(f64::NAN))
        }
        DeValue::Float(f) => Raw::Number(f.as_str().replace('_', "").parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => Raw::Bool(*b),
        DeValue::Datetime(d) => Raw::String(d.to_string()),
        DeValue::Array(items) => Raw::List(items.iter().map(|v| convert_value(file, v.get_ref(), v.span())).collect()),
        DeValue::Table(t) => convert_table(file, t),
    };
    RawNode { raw, span }
}

fn parse_json(file: &Arc<SourceFile>) -> Result<RawNode, Diagnostics> {
    // serde_json decides what is valid JSON (strictly, with clear messages);
    // jsonc-parser then gives every key and value its byte range.
    serde_json::from_str::<serde::de::IgnoredAny>(&file.text).map_err(|e| {
        let offset = line_col_to_offset(&file.text, e.line(), e.column());
        Diagnostics::from(
            Diagnostic::error("Invalid JSON syntax")
                .with_detail(e.to_string())
                .with_span(&Span::new(file, offset, offset)),
        )
    })?;
    let parsed = jsonc_parser::parse_to_ast(&file.text, &Default::default(), &Default::default()).map_err(|e| {
        Diagnostics::from(
            Diagnostic::error("Invalid JSON syntax").with_detail(e.to_string()).with_span(&Span::file_start(file)),
        )
    })?;
    Ok(match parsed.value {
        Some(v) => convert_json(file, &v),
        None => RawNode { raw: Raw::Null, span: Span::file_start(file) },
    })
}

fn convert_json(file: &Arc<SourceFile>, value: &jsonc_parser::ast::Value<'_>) -> RawNode {
    use jsonc_parser::ast::Value as J;
    let at = |r: &jsonc_parser::common::Range| Span::new(file, r.start, r.end);
    let (raw, span) = match value {
        J::NullKeyword(n) => (Raw::Null, at(&n.range)),
        J::BooleanLit(b) => (Raw::Bool(b.value), at(&b.range)),
        J::NumberLit(n) => (Raw::Number(n.value.parse().unwrap_or(f64::NAN)), at(&n.range)),
        J::StringLit(s) => (Raw::String(s.value.to_string()), at(&s.range)),
        J::Array(a) => (Raw::List(a.elements.iter().map(|v| convert_json(file, v)).collect()), at(&a.range)),
        J::Object(o) => (
            Raw::Table(
                o.properties
                    .iter()
                    .map(|p| {
                        let (name, range) = match &p.name {
                            jsonc_parser::ast::ObjectPropName::String(s) => (s.value.to_string(), &s.range),
                            jsonc_parser::ast::ObjectPropName::Word(w) => (w.value.to_string(), &w.range),
                        };
                        (name, at(range), convert_json(file, &p.value))
                    })
                    .collect(),
            ),
            at(&o.range),
        ),
    };
    RawNode { raw, span }
}

fn line_col_to_offset(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + column.saturating_sub(1).min(l.len());
        }
        offset += l.len();
    }
    text.len()
}
