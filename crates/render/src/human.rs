//! The plan as Terraform prints it for people.

use crate::Color;
use crate::values::{as_json_document, document_lines, inline, is_json_document, quote};
use ecspoc_core::addr::Mode;
use ecspoc_core::plan::{Action, ActionReason, OutputChange, Plan, PlanMode, ResourceChange};
use ecspoc_core::state::OutputValue;
use ecspoc_core::value::Value;
use similar::{ChangeTag, TextDiff};
use std::collections::{BTreeMap, BTreeSet};

const TOOL: &str = "ecspoc";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sym {
    Create,
    Update,
    Delete,
    Read,
    None,
}

impl Sym {
    fn text(self) -> &'static str {
        match self {
            Sym::Create => "+",
            Sym::Update => "~",
            Sym::Delete => "-",
            Sym::Read => "<=",
            Sym::None => " ",
        }
    }
    fn paint(self, color: Color) -> String {
        let code = match self {
            Sym::Create => "32",
            Sym::Update => "33",
            Sym::Delete => "31",
            Sym::Read => "36",
            Sym::None => return " ".into(),
        };
        color.paint(code, self.text())
    }
}

fn action_symbol(a: Action, color: Color) -> String {
    match a {
        Action::Create => format!("  {}", Sym::Create.paint(color)),
        Action::Update => format!("  {}", Sym::Update.paint(color)),
        Action::Delete => format!("  {}", Sym::Delete.paint(color)),
        Action::Read => format!(" {}", Sym::Read.paint(color)),
        Action::DeleteThenCreate => color.paint("31", "-") + "/" + &color.paint("32", "+"),
        Action::CreateThenDelete => color.paint("32", "+") + "/" + &color.paint("31", "-"),
        Action::NoOp => "   ".into(),
    }
}

/// The whole `plan` output after refresh.
pub fn render_plan(plan: &Plan, color: Color) -> String {
    let mut out = String::new();
    if !plan.drift.is_empty() {
        out.push_str(&render_drift(plan, color));
    }
    let changes: Vec<&ResourceChange> =
        plan.changes.iter().filter(|c| !c.is_noop() || c.adopted || c.previous_address.is_some()).collect();
    let output_changes: Vec<&OutputChange> = plan.outputs.iter().filter(|o| o.action() != Action::NoOp).collect();
    if plan.mode == PlanMode::RefreshOnly {
        if plan.drift.is_empty() {
            out.push_str(&color.bold("No changes."));
            out.push_str(" Your infrastructure still matches the configuration.\n");
        } else {
            out.push_str("This is a refresh-only plan, so ecspoc will not take any actions to undo these. If you were expecting these changes then you can apply this plan to record the updated values in the ecspoc state without changing any remote objects.\n");
        }
        return out;
    }
    if changes.is_empty() && output_changes.is_empty() && plan.mode == PlanMode::Destroy {
        out.push_str(&color.bold("No changes."));
        out.push_str(" No objects need to be destroyed.\n\n");
        out.push_str(&format!("Either you have not created any objects yet or the existing objects were already deleted outside of {TOOL}.\n"));
        out.push_str(&render_warnings(plan));
        return out;
    }
    if changes.is_empty() && output_changes.is_empty() {
        out.push_str(&color.bold("No changes."));
        out.push_str(" Your infrastructure matches the configuration.\n\n");
        out.push_str(&format!(
            "{TOOL} has compared your real infrastructure against your configuration\nand found no differences, so no changes are needed.\n"
        ));
        out.push_str(&render_warnings(plan));
        return out;
    }
    if !changes.is_empty() {
        let legend = legend(&changes, color);
        if !legend.is_empty() {
            out.push_str(&legend);
            out.push('\n');
        }
        out.push_str(&format!("{TOOL} will perform the following actions:\n\n"));
        for c in &changes {
            out.push_str(&render_change(c, color));
            out.push('\n');
        }
        let (add, change, destroy) = plan.counts();
        out.push_str(&format!("{} {add} to add, {change} to change, {destroy} to destroy.\n", color.bold("Plan:")));
    }
    if !output_changes.is_empty() {
        out.push_str("\nChanges to Outputs:\n");
        // Names align across every output, changed or not, as Terraform's do.
        let width = plan.outputs.iter().map(|o| o.name.len()).max().unwrap_or(0);
        out.push_str(&render_output_changes(&output_changes, width, color));
    }
    let replaced: Vec<&&ResourceChange> = changes.iter().filter(|c| c.action.deletes()).collect();
    if !replaced.is_empty() {
        out.push('\n');
        out.push_str(&color.paint("33", &format!("Warning: this plan destroys {} object(s):", replaced.len())));
        out.push('\n');
        for c in replaced {
            let how = if c.action.is_replace() { "replaced" } else { "destroyed" };
            out.push_str(&format!("  - {} ({how})\n", c.addr));
        }
    }
    out.push_str(&render_warnings(plan));
    out
}

fn render_warnings(plan: &Plan) -> String {
    let mut out = String::new();
    for w in &plan.warnings {
        out.push('\n');
        out.push_str(&w.render());
    }
    out
}

fn legend(changes: &[&ResourceChange], color: Color) -> String {
    let present: BTreeSet<u8> = changes
        .iter()
        .map(|c| match c.action {
            Action::Create => 0,
            Action::Update => 1,
            Action::Delete => 2,
            Action::DeleteThenCreate => 3,
            Action::CreateThenDelete => 4,
            Action::Read => 5,
            Action::NoOp => 6,
        })
        .collect();
    // Moves alone have no symbol: Terraform prints no legend then.
    if present.iter().all(|k| *k == 6) {
        return String::new();
    }
    let mut out = format!(
        "{TOOL} used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n"
    );
    let rows = [
        (0, format!("  {} create", Sym::Create.paint(color))),
        (1, format!("  {} update in-place", Sym::Update.paint(color))),
        (2, format!("  {} destroy", Sym::Delete.paint(color))),
        (3, format!("{} destroy and then create replacement", action_symbol(Action::DeleteThenCreate, color))),
        (4, format!("{} create replacement and then destroy", action_symbol(Action::CreateThenDelete, color))),
        (5, format!(" {} read (data resources)", Sym::Read.paint(color))),
    ];
    for (k, row) in rows {
        if present.contains(&k) {
            out.push_str(&row);
            out.push('\n');
        }
    }
    out
}

/// `  # ADDR will be ...`: the address bold, and what destroys in bold red, as Terraform's.
fn header(c: &ResourceChange, color: Color) -> String {
    let addr = &c.addr;
    let loud = |word: &str| color.bold(&color.paint("31", word));
    let what = match (c.action, c.reason) {
        (Action::Create, _) => "will be created".to_string(),
        (Action::Read, _) => "will be read during apply".to_string(),
        (Action::Update, _) => "will be updated in-place".to_string(),
        (Action::Delete, _) => format!("will be {}", loud("destroyed")),
        (Action::NoOp, _) => "will be recorded in state".to_string(),
        (_, Some(ActionReason::ReplaceBecauseTainted)) => format!("is tainted, so must be {}", loud("replaced")),
        (_, Some(ActionReason::ReplaceByRequest)) => format!("will be {}, as requested", loud("replaced")),
        (_, Some(ActionReason::ReplaceByTriggers)) => {
            format!("will be {} due to changes in replace_triggered_by", loud("replaced"))
        }
        _ => format!("must be {}", loud("replaced")),
    };
    let at = |text: String| color.bold(&format!("  # {text}"));
    if let Some(key) = &c.deposed {
        return format!(
            "{} {what}\n  # (left over from a partially-failed replacement of this instance)\n",
            at(format!("{addr} (deposed object {key})"))
        );
    }
    // Terraform's words for a moved object: alone, or beside its change.
    if let Some(from) = c.previous_address.as_ref().filter(|_| c.action == Action::NoOp && !c.adopted) {
        return format!("{} has moved to {}\n", at(from.to_string()), color.bold(&addr.to_string()));
    }
    let mut s = format!("{} {what}\n", at(addr.to_string()));
    if let Some(from) = &c.previous_address {
        s.push_str(&format!("  # (moved from {from})\n"));
    }
    match c.reason {
        Some(ActionReason::DeleteBecauseNoResourceConfig) => {
            s.push_str(&format!("  # (because {} is not in configuration)\n", addr.resource))
        }
        Some(ActionReason::DeleteBecauseNoModule) => {
            s.push_str(&format!("  # (because {} is not in configuration)\n", addr.resource.module))
        }
        Some(ActionReason::DeleteBecauseCountIndex) => {
            s.push_str(&format!("  # (because index {} is out of range for count)\n", addr.key))
        }
        Some(ActionReason::DeleteBecauseEachKey) => {
            s.push_str(&format!("  # (because key {} is not in for_each map)\n", addr.key))
        }
        Some(ActionReason::ReadBecauseConfigUnknown) => s.push_str("  # (config refers to values not yet known)\n"),
        _ => {}
    }
    if c.adopted {
        s.push_str(&format!("  # (found by its ecspoc marker after an interrupted apply; {TOOL} adopts it)\n"));
    }
    s
}

/// One resource change: the `# ADDR will be ...` line and its body.
pub fn render_change(c: &ResourceChange, color: Color) -> String {
    let mut out = header(c, color);
    let r = &c.addr.resource;
    let kind = if r.mode == Mode::Data { "data" } else { "resource" };
    out.push_str(&format!("{} {kind} \"{}\" \"{}\" {{\n", action_symbol(c.action, color), r.type_, r.name));
    let empty = BTreeMap::new();
    let before = c.before.as_ref().and_then(Value::as_map).unwrap_or(&empty);
    let after = c.after.as_ref().and_then(Value::as_map).unwrap_or(&empty);
    // Nested blocks come after the attributes, as blocks.
    // Registered by type; a data source's as `data.TYPE`.
    let schema_key = if r.mode == Mode::Data { format!("data.{}", r.type_) } else { r.type_.clone() };
    let blocks = ecspoc_core::state::block_attributes(&schema_key);
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).filter(|n| !blocks.contains(n)).collect();
    // Values of no fixed type: their maps are objects, and Terraform's
    // renderer marks no replacement on them (the header says it).
    let dynamic = ecspoc_core::state::dynamic_attributes(&r.type_);
    let mut rows: Vec<Row> = Vec::new();
    let mut hidden = 0;
    let maps = ecspoc_core::state::map_attributes(&schema_key);
    for name in names {
        // A map's keys are quoted, an object's are not, as Terraform writes them.
        let shown = |v: Option<&Value>| {
            let v = v.cloned().unwrap_or(Value::Null);
            if maps.contains(name) { with_quoted_keys(v) } else { v }
        };
        let (b, a) = (shown(before.get(name)), shown(after.get(name)));
        let sensitive = c.sensitive.iter().any(|s| s == name);
        let is_dynamic = dynamic.iter().any(|d| d == name);
        let forces = !is_dynamic && c.replace_paths.iter().any(|p| p == name);
        match c.action {
            Action::Create | Action::Read => {
                if !a.is_null() {
                    rows.push(Row::new(Sym::Create, name, None, Some(&a), sensitive, false));
                }
            }
            Action::Delete => {
                if !b.is_null() {
                    rows.push(Row::new(Sym::Delete, name, Some(&b), None, sensitive, false));
                }
            }
            _ => {
                if b == a {
                    if IMPORTANT.contains(&name.as_str()) && !b.is_null() {
                        rows.push(Row::new(Sym::None, name, Some(&b), Some(&a), sensitive, false));
                    } else if !b.is_null() {
                        hidden += 1;
                    }
                } else if a.is_null() {
                    rows.push(Row::new(Sym::Delete, name, Some(&b), None, sensitive, forces));
                } else if b.is_null() {
                    rows.push(Row::new(Sym::Create, name, None, Some(&a), sensitive, forces));
                } else {
                    rows.push(Row::new(Sym::Update, name, Some(&b), Some(&a), sensitive, forces));
                }
            }
        }
    }
    let sets = ecspoc_core::state::set_attributes(&schema_key);
    for row in rows.iter_mut() {
        row.objects = dynamic.contains(&row.name);
        row.set = sets.contains(&row.name);
    }
    // Terraform aligns every attribute name of a block, multi-line values
    // and unchanged (hidden) ones included; names null on both sides are not there.
    let present = |n: &&String| {
        !blocks.contains(n) && (!before.get(*n).is_none_or(Value::is_null) || !after.get(*n).is_none_or(Value::is_null))
    };
    let hidden_width = if hidden > 0 {
        before.keys().chain(after.keys()).filter(present).map(|n| n.len()).max().unwrap_or(0)
    } else {
        0
    };
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(hidden_width);
    for row in rows {
        out.push_str(&row.render(width, 6, color));
    }
    if hidden > 0 {
        out.push_str(&hidden_note("        ", hidden, "attribute", color));
    }
    let mut unchanged_blocks = 0;
    for name in &blocks {
        let items = |m: &BTreeMap<String, Value>| match m.get(name) {
            Some(Value::List(items)) => items.clone(),
            _ => Vec::new(),
        };
        let (bl, al) = (items(before), items(after));
        let unknown = after.get(name).is_some_and(Value::is_unknown) && !matches!(c.action, Action::Delete);
        let mut group = String::new();
        if unknown {
            group.push_str(&format!(
                "      {} {name} (known after apply)\n",
                action_symbol(c.action, color).trim_start()
            ));
        }
        let as_set = sets.contains(name) && c.before.is_some() && !unknown;
        if as_set {
            // A set of blocks: what goes, then what comes; never paired.
            for b in bl.iter().filter(|b| !al.contains(b)) {
                group.push_str(&nested_block(Sym::Delete, name, b, 6, color));
            }
            for a in al.iter().filter(|a| !bl.contains(a)) {
                group.push_str(&nested_block(Sym::Create, name, a, 6, color));
            }
            unchanged_blocks += bl.iter().filter(|b| al.contains(b)).count();
        }
        // A list of blocks: by position.
        for i in (0..bl.len().max(al.len())).filter(|_| !as_set) {
            let (b, a) = (bl.get(i).filter(|_| c.before.is_some()), al.get(i).filter(|_| !unknown));
            match (b, a) {
                (Some(b), Some(a)) if b == a => unchanged_blocks += 1,
                (Some(b), Some(a)) => {
                    group.push_str(&format!("      {} {name} {{\n", Sym::Update.paint(color)));
                    let forced: Vec<&str> =
                        c.replace_paths.iter().filter_map(|p| p.strip_prefix(&format!("{name}.{i}."))).collect();
                    group.push_str(&marked_forces(&collection_diff(b, a, 10, true, color), &forced, 10, color));
                    group.push_str("        }\n");
                }
                (Some(b), None) => group.push_str(&nested_block(Sym::Delete, name, b, 6, color)),
                (None, Some(a)) => group.push_str(&nested_block(Sym::Create, name, a, 6, color)),
                (None, None) => {}
            }
        }
        if !group.is_empty() {
            out.push('\n');
            out.push_str(&group);
        }
    }
    if unchanged_blocks > 0 {
        out.push('\n');
        out.push_str(&hidden_note("        ", unchanged_blocks, "block", color));
    }
    out.push_str("    }\n");
    out
}

/// `diff` (a block's rows at `indent`) with Terraform's `# forces
/// replacement` after the first line of each attribute named in `forced`.
fn marked_forces(diff: &str, forced: &[&str], indent: usize, color: Color) -> String {
    let pad = " ".repeat(indent);
    let marker = color.paint("31", " # forces replacement");
    diff.lines()
        .map(|line| {
            let starts_forced = line.strip_prefix(&pad).is_some_and(|rest| {
                let rest = strip_escapes(rest);
                let name = rest.get(2..).unwrap_or("").split([' ', '=']).next().unwrap_or("");
                !rest.starts_with(' ') && forced.contains(&name)
            });
            if starts_forced { format!("{line}{marker}\n") } else { format!("{line}\n") }
        })
        .collect()
}

/// A line without its colour codes.
fn strip_escapes(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A nested block added or removed: `+ health_check {`, each attribute
/// marked, its own nested blocks after a blank line.
fn nested_block(sym: Sym, name: &str, item: &Value, indent: usize, color: Color) -> String {
    let pad = " ".repeat(indent);
    let mut out = format!("{pad}{} {name} {{\n", sym.paint(color));
    let empty = BTreeMap::new();
    let m = item.as_map().unwrap_or(&empty);
    let is_nested = |v: &Value| matches!(v, Value::List(items) if !items.is_empty() && items.iter().all(|i| matches!(i, Value::Map(_))));
    let attrs: Vec<(&String, &Value)> = m.iter().filter(|(_, v)| !v.is_null() && !is_nested(v)).collect();
    let width = attrs.iter().map(|(k, _)| quote_key(k).len()).max().unwrap_or(0);
    for (k, v) in attrs {
        let mut line = entry(sym, k, v, width, indent + 4, color);
        if sym == Sym::Delete {
            // What goes is followed by ` -> null`, after the value's last line.
            line.pop();
            line.push_str(&to_null(color));
            line.push('\n');
        }
        out.push_str(&line);
    }
    let has_attributes = m.values().any(|v| !v.is_null() && !is_nested(v));
    for (k, v) in m.iter().filter(|(_, v)| is_nested(v)) {
        // Terraform puts a blank line before each group of blocks, after attributes only.
        if has_attributes {
            out.push('\n');
        }
        if let Value::List(children) = v {
            for child in children {
                out.push_str(&nested_block(sym, k, child, indent + 4, color));
            }
        }
    }
    out.push_str(&format!("{pad}  }}\n"));
    out
}

struct Row {
    sym: Sym,
    name: String,
    before: Option<Value>,
    after: Option<Value>,
    sensitive: bool,
    forces: bool,
    single_line: bool,
    /// Maps in this value are objects ("attributes hidden"), not maps ("elements").
    objects: bool,
    /// A set: diffed as one (`set_diff`).
    set: bool,
}

impl Row {
    fn new(sym: Sym, name: &str, before: Option<&Value>, after: Option<&Value>, sensitive: bool, forces: bool) -> Row {
        let single_line = sensitive || [before, after].iter().flatten().all(|v| inline(v).is_some());
        Row {
            sym,
            name: name.to_string(),
            before: before.cloned(),
            after: after.cloned(),
            sensitive,
            forces,
            single_line,
            objects: false,
            set: false,
        }
    }

    fn render(&self, width: usize, indent: usize, color: Color) -> String {
        let pad = " ".repeat(indent);
        let name = format!("{:<width$}", self.name);
        let forces = if self.forces { color.paint("31", " # forces replacement") } else { String::new() };
        let sym = self.sym.paint(color);
        if self.sensitive {
            let text = match (&self.before, &self.after, self.sym) {
                (_, _, Sym::Update) => "(sensitive value)".to_string(),
                (_, _, Sym::Delete) => format!("(sensitive value){}", to_null(color)),
                _ => "(sensitive value)".to_string(),
            };
            return format!("{pad}{sym} {name} = {text}{forces}\n");
        }
        if self.single_line {
            let b = self.before.as_ref().and_then(inline).unwrap_or_default();
            let a = self.after.as_ref().and_then(inline).unwrap_or_default();
            let text = match self.sym {
                Sym::Create | Sym::Read => a,
                Sym::Delete => format!("{b}{}", to_null(color)),
                // Terraform's yellow arrow is between two known values only.
                Sym::Update if self.after.as_ref().is_some_and(Value::is_unknown) => format!("{b} -> {a}"),
                Sym::Update => format!("{b}{}{a}", arrow(color)),
                Sym::None => b,
            };
            return format!("{pad}{sym} {name} = {text}{forces}\n");
        }
        // Multi-line: collections and documents.
        let mut out = String::new();
        match (&self.before, &self.after) {
            (Some(Value::String(b)), Some(Value::String(a))) => {
                match json_diff(&sym, &name, (b, a), &forces, indent, color) {
                    Some(text) => out.push_str(&text),
                    None => out.push_str(&string_diff(&pad, sym, &name, b, a, &forces, color)),
                }
            }
            (Some(b), Some(a)) if is_collection(b) && is_collection(a) => {
                let open = if matches!(a, Value::List(_)) { "[" } else { "{" };
                out.push_str(&format!("{pad}{sym} {name} = {open}{forces}\n"));
                match (b, a) {
                    (Value::List(bl), Value::List(al)) if self.set => {
                        out.push_str(&set_diff(bl, al, indent + 4, color))
                    }
                    _ => out.push_str(&collection_diff(b, a, indent + 4, self.objects, color)),
                }
                out.push_str(&format!("{pad}  {}\n", if open == "[" { "]" } else { "}" }));
            }
            (Some(b), Some(Value::Unknown))
                if self.sym == Sym::Update && (is_collection(b) || matches!(b, Value::String(_))) =>
            {
                // Terraform lists what goes, then says the new value is not known yet.
                let text =
                    block(&pad, Sym::Delete, &name, b, indent, color, &format!(" -> (known after apply){forces}"));
                let (delete, update) = (Sym::Delete.paint(color), Sym::Update.paint(color));
                out.push_str(&text.replacen(&format!("{pad}{delete} "), &format!("{pad}{update} "), 1));
            }
            (b, a) => {
                // Whole value added, removed, or replaced by a different shape.
                if let Some(b) = b.as_ref().filter(|_| self.sym != Sym::Create) {
                    out.push_str(&block(
                        &pad,
                        Sym::Delete,
                        &name,
                        b,
                        indent,
                        color,
                        &if self.sym == Sym::Update { String::new() } else { to_null(color) },
                    ));
                }
                if let Some(a) = a.as_ref().filter(|_| self.sym != Sym::Delete) {
                    out.push_str(&block(&pad, Sym::Create, &name, a, indent, color, ""));
                }
                if !forces.is_empty() {
                    out.push_str(&format!("{pad}  {forces}\n"));
                }
            }
        }
        out
    }
}

fn is_collection(v: &Value) -> bool {
    matches!(v, Value::List(_) | Value::Map(_))
}

/// `name = <value>` where the value may span lines, every line marked with `sym`.
fn block(pad: &str, sym: Sym, name: &str, v: &Value, indent: usize, color: Color, suffix: &str) -> String {
    let s = sym.paint(color);
    match v {
        Value::String(text) if json_value(text).is_some() => {
            // Terraform shows a JSON document as the value it encodes, each
            // member marked, inside `jsonencode(...)`.
            let doc = json_value(text).unwrap_or_default();
            let mut out = format!("{pad}{s} {name} = jsonencode(\n");
            out.push_str(&json_body(sym, &doc, indent + 6, color));
            out.push_str(&format!("{pad}  ){suffix}\n"));
            out
        }
        Value::String(text) => {
            let mut out = format!("{pad}{s} {name} = <<-EOT\n");
            for line in document_lines(text) {
                out.push_str(&format!("{pad}      {line}\n"));
            }
            out.push_str(&format!("{pad}  EOT{suffix}\n"));
            out
        }
        Value::List(items) => {
            let mut out = format!("{pad}{s} {name} = [\n");
            for item in items {
                out.push_str(&element(sym, item, indent + 4, color));
            }
            out.push_str(&format!("{pad}  ]{suffix}\n"));
            out
        }
        Value::Map(m) => {
            let mut out = format!("{pad}{s} {name} = {{\n");
            let width = m.keys().map(|k| quote_key(k).len()).max().unwrap_or(0);
            for (k, item) in m {
                if item.is_null() {
                    continue;
                }
                out.push_str(&entry(sym, k, item, width, indent + 4, color));
            }
            out.push_str(&format!("{pad}  }}{suffix}\n"));
            out
        }
        other => format!("{pad}{s} {name} = {}{suffix}\n", inline(other).unwrap_or_default()),
    }
}

/// A string holding a JSON object or array, as the value it encodes.
fn json_value(text: &str) -> Option<Value> {
    as_json_document(text).map(|j| Value::from_json(&j))
}

/// A whole JSON document added or removed: its opening bracket unmarked at
/// `indent`, every member marked `sym` inside.
fn json_body(sym: Sym, doc: &Value, indent: usize, color: Color) -> String {
    let pad = " ".repeat(indent);
    match doc {
        Value::Map(m) => {
            let mut out = format!("{pad}{{\n");
            let width = m.keys().map(|k| quote_key(k).len()).max().unwrap_or(0);
            for (k, item) in m {
                out.push_str(&entry(sym, k, item, width, indent + 2, color));
            }
            out.push_str(&format!("{pad}}}\n"));
            out
        }
        Value::List(items) => {
            let mut out = format!("{pad}[\n");
            for item in items {
                out.push_str(&element(sym, item, indent + 2, color));
            }
            out.push_str(&format!("{pad}]\n"));
            out
        }
        other => format!("{pad}{}\n", inline(other).unwrap_or_default()),
    }
}

/// A JSON document that changed: member by member, as Terraform diffs the
/// values the two documents encode; `None` when they are not both
/// objects or both arrays.
fn json_diff(sym: &str, name: &str, (b, a): (&str, &str), forces: &str, indent: usize, color: Color) -> Option<String> {
    let pad = " ".repeat(indent);
    let (bv, av) = (json_value(b)?, json_value(a)?);
    let open = match (&bv, &av) {
        (Value::Map(_), Value::Map(_)) => "{",
        (Value::List(_), Value::List(_)) => "[",
        _ => return None,
    };
    if bv == av {
        return None;
    }
    let close = if open == "{" { "}" } else { "]" };
    let mut out = format!("{pad}{sym} {name} = jsonencode({forces}\n");
    out.push_str(&format!("{pad}    {} {open}\n", Sym::Update.paint(color)));
    out.push_str(&collection_diff(&bv, &av, indent + 8, true, color));
    out.push_str(&format!("{pad}      {close}\n{pad}  )\n"));
    Some(out)
}

/// ` -> ` between an old value and its new one, in Terraform's yellow.
fn arrow(color: Color) -> String {
    format!(" {} ", color.paint("33", "->"))
}

/// ` -> null` after a value that goes, in Terraform's grey.
fn to_null(color: Color) -> String {
    format!(" {}", color.paint("90", "-> null"))
}

/// `# (N unchanged ... hidden)`, in Terraform's grey.
fn hidden_note(pad: &str, n: usize, what: &str, color: Color) -> String {
    let text = format!("# ({n} unchanged {what}{} hidden)", if n == 1 { "" } else { "s" });
    format!("{pad}{}\n", color.paint("90", &text))
}

/// Attributes Terraform shows even when unchanged: they say which object it is.
const IMPORTANT: [&str; 3] = ["id", "name", "tags"];

/// A map's keys written quoted already (`"Environment"`), which `quote_key` keeps.
fn with_quoted_keys(v: Value) -> Value {
    match v {
        Value::Map(m) => Value::Map(m.into_iter().map(|(k, v)| (quote(&k), v)).collect()),
        other => other,
    }
}

fn quote_key(k: &str) -> String {
    let quoted = k.len() >= 2 && k.starts_with('"') && k.ends_with('"');
    if quoted || ecspoc_core::addr::is_identifier(k) { k.to_string() } else { quote(k) }
}

fn entry(sym: Sym, key: &str, v: &Value, width: usize, indent: usize, color: Color) -> String {
    let pad = " ".repeat(indent);
    let k = format!("{:<width$}", quote_key(key));
    match inline(v) {
        Some(text) => format!("{pad}{} {k} = {text}\n", sym.paint(color)),
        // Aligned like the others, as Terraform aligns every name of an object.
        None => block(&pad, sym, &k, v, indent, color, ""),
    }
}

fn element(sym: Sym, v: &Value, indent: usize, color: Color) -> String {
    let pad = " ".repeat(indent);
    match (inline(v), v) {
        (Some(text), _) => format!("{pad}{} {text},\n", sym.paint(color)),
        (None, Value::Map(m)) => {
            let mut out = format!("{pad}{} {{\n", sym.paint(color));
            let width = m.iter().filter(|(_, v)| !v.is_null()).map(|(k, _)| quote_key(k).len()).max().unwrap_or(0);
            for (k, item) in m {
                if !item.is_null() {
                    out.push_str(&entry(sym, k, item, width, indent + 4, color));
                }
            }
            out.push_str(&format!("{pad}  }},\n"));
            out
        }
        (None, other) => {
            let mut out = block(&pad, sym, "", other, indent, color, "");
            out = out.replacen(" = ", "", 1);
            out
        }
    }
}

/// One element of a list diff.
enum ListOp<'a> {
    Same(&'a Value),
    Removed(&'a Value),
    Added(&'a Value),
    Changed(&'a Value, &'a Value),
}

/// Maps diffed key by key, lists element by element. An object (`objects`:
/// a value of no fixed type, or inside a JSON document) always shows its
/// `id`, `name` and `tags`, as Terraform's renderer does.
fn collection_diff(b: &Value, a: &Value, indent: usize, objects: bool, color: Color) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    match (b, a) {
        (Value::Map(bm), Value::Map(am)) => {
            let keys: BTreeSet<&String> = bm.keys().chain(am.keys()).collect();
            let width = keys.iter().map(|k| quote_key(k).len()).max().unwrap_or(0);
            let mut hidden = 0;
            for k in keys {
                let bv = bm.get(k).cloned().unwrap_or(Value::Null);
                let av = am.get(k).cloned().unwrap_or(Value::Null);
                if bv == av && objects && IMPORTANT.contains(&k.as_str()) {
                    out.push_str(&entry(Sym::None, k, &bv, width, indent, color));
                } else if bv == av {
                    hidden += usize::from(!bv.is_null());
                } else if av.is_null() {
                    let gone = entry(Sym::Delete, k, &bv, width, indent, color);
                    out.push_str(&gone.replacen('\n', &format!("{}\n", to_null(color)), 1));
                } else if bv.is_null() {
                    out.push_str(&entry(Sym::Create, k, &av, width, indent, color));
                } else if let (Some(bt), Some(at)) = (inline(&bv), inline(&av)) {
                    out.push_str(&format!(
                        "{pad}{} {:<width$} = {bt}{}{at}\n",
                        Sym::Update.paint(color),
                        quote_key(k),
                        arrow(color)
                    ));
                } else if is_collection(&bv) && is_collection(&av) {
                    out.push_str(&format!(
                        "{pad}{} {:<width$} = {}\n",
                        Sym::Update.paint(color),
                        quote_key(k),
                        if matches!(av, Value::List(_)) { "[" } else { "{" }
                    ));
                    out.push_str(&collection_diff(&bv, &av, indent + 4, objects, color));
                    out.push_str(&format!("{pad}  {}\n", if matches!(av, Value::List(_)) { "]" } else { "}" }));
                } else if let (Value::String(bs), Value::String(as_)) = (&bv, &av) {
                    let name = format!("{:<width$}", quote_key(k));
                    let sym = Sym::Update.paint(color);
                    match json_diff(&sym, &name, (bs, as_), "", indent, color) {
                        Some(text) => out.push_str(&text),
                        None => out.push_str(&string_diff(&pad, sym, &name, bs, as_, "", color)),
                    }
                } else {
                    out.push_str(&entry(Sym::Delete, k, &bv, width, indent, color));
                    out.push_str(&entry(Sym::Create, k, &av, width, indent, color));
                }
            }
            if hidden > 0 {
                let what = if objects { "attribute" } else { "element" };
                out.push_str(&hidden_note(&format!("{pad}  "), hidden, what, color));
            }
        }
        (Value::List(bl), Value::List(al)) => {
            let render = |items: &[Value]| {
                items.iter().map(|v| serde_json::to_string(&v.to_json()).unwrap_or_default() + "\n").collect::<String>()
            };
            // Values of no fixed type (tuples) of one length are compared
            // element by element, as Terraform compares tuples; lists by their
            // longest common run, an object removed and one added at the same
            // place being one object changed.
            let ops: Vec<ListOp> = if objects && bl.len() == al.len() {
                bl.iter().zip(al).map(|(b, a)| if b == a { ListOp::Same(a) } else { ListOp::Changed(b, a) }).collect()
            } else {
                let (bt, at) = (render(bl), render(al));
                let diff = TextDiff::from_lines(&bt, &at);
                let mut ops: Vec<ListOp> = Vec::new();
                let (mut bi, mut ai) = (0, 0);
                for change in diff.iter_all_changes() {
                    match change.tag() {
                        ChangeTag::Equal => {
                            ops.push(ListOp::Same(&al[ai]));
                            bi += 1;
                            ai += 1;
                        }
                        ChangeTag::Delete => {
                            ops.push(ListOp::Removed(&bl[bi]));
                            bi += 1;
                        }
                        ChangeTag::Insert => {
                            let new = &al[ai];
                            ai += 1;
                            // Pair with the first removal of this run still unpaired.
                            let run_start = ops
                                .iter()
                                .rposition(|o| {
                                    !matches!(o, ListOp::Removed(_) | ListOp::Added(_) | ListOp::Changed(..))
                                })
                                .map_or(0, |i| i + 1);
                            let paired = ops[run_start..]
                                .iter()
                                .position(|o| matches!(o, ListOp::Removed(Value::Map(_))))
                                .filter(|_| matches!(new, Value::Map(_)));
                            match paired {
                                Some(i) => {
                                    let ListOp::Removed(old) = ops[run_start + i] else { unreachable!() };
                                    ops[run_start + i] = ListOp::Changed(old, new);
                                }
                                None => ops.push(ListOp::Added(new)),
                            }
                        }
                    }
                }
                ops
            };
            // As Terraform: an unchanged element next to a change is shown for
            // context; the others are counted where they stand.
            let changed = |i: usize| ops.get(i).is_some_and(|o| !matches!(o, ListOp::Same(_)));
            let mut hidden = 0;
            let hidden_note = |hidden: &mut usize, out: &mut String| {
                if *hidden > 0 {
                    out.push_str(&hidden_note(&format!("{pad}  "), *hidden, "element", color));
                    *hidden = 0;
                }
            };
            for (i, op) in ops.iter().enumerate() {
                match op {
                    ListOp::Same(_) if !(changed(i + 1) || i > 0 && changed(i - 1)) => hidden += 1,
                    ListOp::Same(v) => {
                        hidden_note(&mut hidden, &mut out);
                        out.push_str(&element(Sym::None, v, indent, color));
                    }
                    ListOp::Removed(v) => {
                        hidden_note(&mut hidden, &mut out);
                        out.push_str(&element(Sym::Delete, v, indent, color));
                    }
                    ListOp::Added(v) => {
                        hidden_note(&mut hidden, &mut out);
                        out.push_str(&element(Sym::Create, v, indent, color));
                    }
                    ListOp::Changed(old, new) => {
                        hidden_note(&mut hidden, &mut out);
                        match (inline(old), inline(new)) {
                            (Some(o), Some(n)) => {
                                out.push_str(&format!("{pad}{} {o}{}{n},\n", Sym::Update.paint(color), arrow(color)))
                            }
                            // Of another kind now: the old goes, the new comes.
                            _ if !(matches!(
                                (old, new),
                                (Value::Map(_), Value::Map(_)) | (Value::List(_), Value::List(_))
                            )) =>
                            {
                                out.push_str(&element(Sym::Delete, old, indent, color));
                                out.push_str(&element(Sym::Create, new, indent, color));
                            }
                            _ => {
                                out.push_str(&format!("{pad}{} {{\n", Sym::Update.paint(color)));
                                out.push_str(&collection_diff(old, new, indent + 4, objects, color));
                                out.push_str(&format!("{pad}  }},\n"));
                            }
                        }
                    }
                }
            }
            hidden_note(&mut hidden, &mut out);
        }
        _ => {}
    }
    out
}

/// A set changed: as Terraform, elements are never paired or shown for
/// context; what goes (in the old order), then what comes, then a count of
/// the unchanged ones.
fn set_diff(b: &[Value], a: &[Value], indent: usize, color: Color) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    let mut unchanged = 0;
    for v in b {
        if a.contains(v) {
            unchanged += 1;
        } else {
            out.push_str(&element(Sym::Delete, v, indent, color));
        }
    }
    for v in a.iter().filter(|v| !b.contains(v)) {
        out.push_str(&element(Sym::Create, v, indent, color));
    }
    if unchanged > 0 {
        out.push_str(&hidden_note(&format!("{pad}  "), unchanged, "element", color));
    }
    out
}

/// A changed multi-line string or JSON document, shown as a line diff with context.
fn string_diff(pad: &str, sym: String, name: &str, b: &str, a: &str, forces: &str, color: Color) -> String {
    let json = is_json_document(&Value::str(b)) && is_json_document(&Value::str(a));
    let (open, close) = if json { ("jsonencode(", ")") } else { ("<<-EOT", "EOT") };
    if !json && !b.contains('\n') && !a.contains('\n') {
        return format!("{pad}{sym} {name} = {} -> {}{forces}\n", quote(b), quote(a));
    }
    let bl = document_lines(b).join("\n") + "\n";
    let al = document_lines(a).join("\n") + "\n";
    let diff = TextDiff::from_lines(&bl, &al);
    let mut out = format!("{pad}{sym} {name} = {open}{forces}\n");
    if bl == al {
        out.push_str(&format!("{pad}      # (whitespace or key order changed only; no change in meaning)\n"));
    }
    // Show changed lines with three lines of context; say how many are hidden.
    let hidden = |n: usize| hidden_note(&format!("{pad}      "), n, "line", color);
    let mut shown_until = 0;
    for group in diff.grouped_ops(3) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else { continue };
        let start = first.old_range().start;
        if start > shown_until {
            out.push_str(&hidden(start - shown_until));
        }
        shown_until = last.old_range().end;
        for op in &group {
            for change in diff.iter_changes(op) {
                let line = change.value().trim_end_matches('\n');
                let marker = match change.tag() {
                    ChangeTag::Equal => " ".to_string(),
                    ChangeTag::Delete => Sym::Delete.paint(color),
                    ChangeTag::Insert => Sym::Create.paint(color),
                };
                out.push_str(&format!("{pad}    {marker} {line}\n"));
            }
        }
    }
    let total = bl.lines().count();
    if total > shown_until && shown_until > 0 {
        out.push_str(&hidden(total - shown_until));
    }
    out.push_str(&format!("{pad}  {close}\n"));
    out
}

fn render_drift(plan: &Plan, color: Color) -> String {
    let mut out = String::new();
    out.push_str(&format!("\n{}\n\n", color.bold(&format!("Note: Objects have changed outside of {TOOL}"))));
    out.push_str(&format!("{TOOL} detected the following changes made outside of {TOOL} since the\nlast \"{TOOL} apply\" which may have affected this plan:\n\n"));
    for d in &plan.drift {
        let r = &d.addr.resource;
        if d.action == Action::Delete {
            out.push_str(&format!("{} has been deleted\n", color.bold(&format!("  # {}", d.addr))));
            out.push_str(&format!("  {} resource \"{}\" \"{}\" {{\n", Sym::Delete.paint(color), r.type_, r.name));
            if let Some(id) = d.before.as_ref().and_then(|b| b.get("id")).and_then(inline) {
                out.push_str(&format!("      {} id = {id}{}\n", Sym::Delete.paint(color), to_null(color)));
            }
            out.push_str("    }\n\n");
        } else {
            let mut body = render_change(d, color);
            body = body.replacen("will be updated in-place", "has changed", 1);
            out.push_str(&body);
            out.push('\n');
        }
    }
    out.push_str(&format!(
        "\nUnless you have made equivalent changes to your configuration, or ignored the\nrelevant attributes using ignore_changes, the following plan may include\nactions to undo or respond to these changes.\n\n{}\n\n",
        color.paint("90", &"─".repeat(77))
    ));
    out
}

fn render_output_changes(outputs: &[&OutputChange], width: usize, color: Color) -> String {
    let mut out = String::new();
    for o in outputs {
        let (sym, text) = match (o.action(), o.sensitive) {
            (Action::Delete, true) => (Sym::Delete, format!("(sensitive value){}", to_null(color))),
            (Action::Delete, _) if o.before.as_ref().is_some_and(|b| is_collection(b) && inline(b).is_none()) => {
                let name = format!("{:<width$}", o.name);
                out.push_str(&block(
                    "  ",
                    Sym::Delete,
                    &name,
                    o.before.as_ref().unwrap_or(&Value::Null),
                    2,
                    color,
                    &to_null(color),
                ));
                continue;
            }
            (_, true) => (if o.before.is_some() { Sym::Update } else { Sym::Create }, "(sensitive value)".to_string()),
            // A collection known in shape is drawn as Terraform draws it, element by element.
            (Action::Create, _) if inline(&o.after).is_none() && matches!(o.after, Value::List(_) | Value::Map(_)) => {
                out.push_str(&block("  ", Sym::Create, &format!("{:<width$}", o.name), &o.after, 2, color, ""));
                continue;
            }
            (Action::Create, _) => (Sym::Create, inline(&o.after).unwrap_or_else(|| compact(&o.after))),
            // A collection that changes: element by element, as an attribute's
            // (Terraform types `{for ...}` results as objects: "attributes").
            (Action::Update, _)
                if o.before.as_ref().is_some_and(|b| is_collection(b) && inline(b).is_none())
                    && (is_collection(&o.after) || o.after.is_unknown()) =>
            {
                let mut row = Row::new(Sym::Update, &o.name, o.before.as_ref(), Some(&o.after), false, false);
                row.objects = true;
                // Inside an output Terraform leaves out the " -> null" of what goes.
                let text = row.render(width, 2, color);
                let mut lines = text.lines();
                out.push_str(lines.next().unwrap_or_default());
                out.push('\n');
                for line in lines {
                    out.push_str(line.strip_suffix(to_null(color).as_str()).unwrap_or(line));
                    out.push('\n');
                }
                continue;
            }
            (Action::Delete, _) => (
                Sym::Delete,
                format!(
                    "{}{}",
                    o.before.as_ref().map(|b| inline(b).unwrap_or_else(|| compact(b))).unwrap_or_default(),
                    to_null(color)
                ),
            ),
            _ => (
                Sym::Update,
                format!(
                    "{}{}{}",
                    o.before.as_ref().map(|b| inline(b).unwrap_or_else(|| compact(b))).unwrap_or_default(),
                    if o.after.is_unknown() { " -> ".to_string() } else { arrow(color) },
                    inline(&o.after).unwrap_or_else(|| compact(&o.after))
                ),
            ),
        };
        out.push_str(&format!("  {} {:<width$} = {text}\n", sym.paint(color), o.name));
    }
    out
}

fn compact(v: &Value) -> String {
    if !v.is_wholly_known() {
        return "(known after apply)".into();
    }
    serde_json::to_string(&v.to_json()).unwrap_or_default()
}

/// `Outputs:` after apply and for `ecspoc output`: `name = value`, sensitive hidden.
pub fn render_outputs(outputs: &BTreeMap<String, OutputValue>) -> String {
    let mut out = String::new();
    for (name, o) in outputs {
        let text = if o.sensitive { "<sensitive>".to_string() } else { hcl_like(&o.value, 0) };
        out.push_str(&format!("{name} = {text}\n"));
    }
    out
}

/// Values written the way Terraform's `output` command shows them.
pub fn hcl_like(v: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent + 2);
    match v {
        Value::List(items) if !items.is_empty() => {
            let mut s = String::from("[\n");
            for i in items {
                s.push_str(&format!("{pad}{},\n", hcl_like(i, indent + 2)));
            }
            s.push_str(&format!("{}]", " ".repeat(indent)));
            s
        }
        Value::Map(m) if !m.is_empty() => {
            let width = m.keys().map(|k| quote_key(k).len()).max().unwrap_or(0);
            let mut s = String::from("{\n");
            for (k, i) in m {
                s.push_str(&format!("{pad}{:<width$} = {}\n", quote_key(k), hcl_like(i, indent + 2)));
            }
            s.push_str(&format!("{}}}", " ".repeat(indent)));
            s
        }
        Value::String(s) if s.contains('\n') => {
            format!("<<EOT\n{s}{}EOT", if s.ends_with('\n') { "" } else { "\n" })
        }
        other => inline(other).unwrap_or_else(|| compact(other)),
    }
}

/// `plan -explain`: for each change, where every changed attribute's new
/// value comes from (the expression's place in the configuration and what it
/// reads), which attribute forces a replacement, and what changed outside.
pub fn render_explanations(plan: &Plan) -> String {
    let explained: Vec<&ResourceChange> = plan.changes.iter().filter(|c| !c.explain.is_empty()).collect();
    if explained.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nWhy these changes:\n");
    for c in explained {
        out.push_str(&format!("\n  # {}\n", c.addr));
        for o in &c.explain {
            let mut why = if o.changed_outside {
                format!("changed outside {TOOL}; the configuration at {} sets it back", o.location)
            } else {
                format!("set at {}", o.location)
            };
            if !o.from.is_empty() {
                why.push_str(&format!(", from {}", o.from.join(", ")));
            }
            if o.forces_replacement {
                why.push_str("; forces replacement");
            }
            out.push_str(&format!("      {}: {why}\n", o.attribute));
        }
    }
    out
}
