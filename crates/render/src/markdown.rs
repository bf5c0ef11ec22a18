//! The plan as a pull-request comment (GitHub-flavoured markdown): a title
//! and a hidden marker that finds the comment again, a summary table per
//! environment, warnings, destroys and replacements first, then each
//! resource's diff in a collapsible section.
//!
//! Everything that comes from configuration or AWS is inert here: text
//! outside code blocks is escaped (HTML, markdown punctuation, `@` so nobody
//! is mentioned), code blocks are fenced with more backticks than they hold.
//! The comment stays under GitHub's limit: least important detail goes
//! first (unchanged lines of the diffs, then whole diffs, largest first, then
//! the list of resources), the summary and warnings always stay, and the
//! comment says what was cut and where the full plan is.

use crate::Color;
use crate::human;
use ecspoc_core::plan::{Action, Plan, ResourceChange};
use ecspoc_core::provider::ProviderSet;

/// GitHub refuses comments longer than this (characters).
pub const GITHUB_LIMIT: usize = 65_536;

/// One environment's plan, or why there is none.
pub enum Outcome<'a> {
    Planned { plan: &'a Plan, providers: Option<&'a ProviderSet> },
    Failed { errors: Vec<String> },
}

pub struct Environment<'a> {
    pub name: String,
    pub outcome: Outcome<'a>,
    /// Findings of policy tools run on this environment's plan (checkov).
    pub findings: Vec<String>,
}

pub struct Options {
    /// Names the comment among others on the pull request: one per set of environments.
    pub id: String,
    /// Where the full plans are, said when detail was cut.
    pub full_plan_at: String,
    /// The most characters the comment may have.
    pub limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { id: "default".into(), full_plan_at: "the workflow run's artifacts".into(), limit: GITHUB_LIMIT }
    }
}

/// The hidden line that identifies a comment made for `id`.
pub fn marker(id: &str) -> String {
    format!("<!-- ecspoc-plan-comment: {} -->", id.replace("--", "- -").replace('>', "&gt;"))
}

/// A resource's diff, in the order and detail it may be shown.
struct Section {
    env: usize,
    heading: String,
    diff: String,
    /// Destroys and replacements come first.
    first: bool,
    /// An update: its unmarked lines are unchanged context (in a create or a
    /// destroy every line is the object's).
    has_context: bool,
}

/// How much of the detail a rendering keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    Full,
    /// Only the lines of a diff that change something, and the resource's header.
    ChangedLines,
}

pub fn render(envs: &[Environment<'_>], opts: &Options) -> String {
    let head = head(envs, opts);
    let mut sections = sections(envs);
    sections.sort_by_key(|s| (!s.first, s.env));
    let mut detail = Detail::Full;
    let mut cut_diffs = std::collections::BTreeSet::new();
    let mut listed = sections.len();
    loop {
        let body = body(envs, &sections, detail, &cut_diffs, listed);
        let note = cut_note(&sections, detail, &cut_diffs, listed, opts);
        let text = format!("{head}{body}{note}");
        if text.chars().count() <= opts.limit {
            return text;
        }
        // Cut the least important detail first.
        if detail == Detail::Full {
            detail = Detail::ChangedLines;
            continue;
        }
        let largest = (0..listed)
            .filter(|i| !cut_diffs.contains(i))
            .max_by_key(|i| (sections[*i].diff.len(), std::cmp::Reverse(*i)));
        if let Some(i) = largest {
            cut_diffs.insert(i);
            continue;
        }
        if listed > 0 {
            listed = listed.saturating_sub((listed / 4).max(1));
            continue;
        }
        // Summary and warnings alone are too long: keep the summary.
        let short = format!("{}{note}", head_without_warnings(envs, opts));
        return truncate_plain(&short, opts.limit);
    }
}

fn head(envs: &[Environment<'_>], opts: &Options) -> String {
    let mut out = head_without_warnings(envs, opts);
    let warnings = warnings(envs);
    if !warnings.is_empty() {
        out.push_str("\n### :warning: Warnings\n\n");
        for w in warnings {
            out.push_str(&format!("- {w}\n"));
        }
    }
    out
}

fn head_without_warnings(envs: &[Environment<'_>], opts: &Options) -> String {
    let names: Vec<String> = envs.iter().map(|e| text(&e.name)).collect();
    let mut out = format!("## ecspoc plan: {}\n{}\n\n", names.join(", "), marker(&opts.id));
    out.push_str("| environment | add | change | replace | destroy | result |\n|---|---:|---:|---:|---:|---|\n");
    for e in envs {
        match &e.outcome {
            Outcome::Planned { plan, .. } => {
                let (add, change, replace, destroy) = counts(plan);
                let result = if plan.has_changes() { "changes" } else { "no changes" };
                out.push_str(&format!("| {} | {add} | {change} | {replace} | {destroy} | {result} |\n", text(&e.name)));
            }
            Outcome::Failed { errors } => {
                let first = errors.first().map(|e| e.lines().next().unwrap_or_default()).unwrap_or("unknown error");
                out.push_str(&format!("| {} | | | | | **plan failed**: {} |\n", text(&e.name), text(first)));
            }
        }
    }
    for e in envs {
        if let Outcome::Failed { errors } = &e.outcome {
            out.push_str(&format!("\n**{}: the plan failed**\n\n", text(&e.name)));
            out.push_str(&code_block("text", &errors.join("\n\n")));
        }
    }
    out
}

/// (add, change in place, replace, destroy) of one plan.
fn counts(plan: &Plan) -> (usize, usize, usize, usize) {
    let (mut add, mut change, mut replace, mut destroy) = (0, 0, 0, 0);
    for c in &plan.changes {
        match c.action {
            Action::Create => add += 1,
            Action::Update => change += 1,
            Action::Delete => destroy += 1,
            Action::DeleteThenCreate | Action::CreateThenDelete => replace += 1,
            Action::Read | Action::NoOp => {}
        }
    }
    (add, change, replace, destroy)
}

fn changed(plan: &Plan) -> impl Iterator<Item = &ResourceChange> {
    plan.changes.iter().filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
}

fn warnings(envs: &[Environment<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for e in envs {
        let Outcome::Planned { plan, providers } = &e.outcome else { continue };
        let env = text(&e.name);
        if !plan.targets.is_empty() {
            let targets: Vec<String> = plan.targets.iter().map(|t| code(t)).collect();
            out.push(format!(
                "**{env}**: planned with `-target` ({}): the rest of the configuration was not compared",
                targets.join(", ")
            ));
        }
        // Warnings of the provider (open ports, broad IAM grants) about what changes.
        let changing: std::collections::BTreeSet<String> = changed(plan).map(|c| c.addr.to_string()).collect();
        for w in &plan.warnings {
            if w.address.as_ref().is_none_or(|a| changing.contains(a)) {
                let at = w.address.as_deref().map(|a| format!("{}: ", code(a))).unwrap_or_default();
                let detail = if w.detail.is_empty() { String::new() } else { format!(" ({})", text(&w.detail)) };
                out.push(format!("**{env}**: {at}{}{detail}", text(&w.summary)));
            }
        }
        for c in changed(plan).filter(|c| c.action.deletes()) {
            let holds_data = providers
                .and_then(|p| p.resource_schema(c.addr.resource.mode, &c.addr.resource.type_))
                .is_some_and(|(_, s)| s.holds_data);
            if holds_data {
                let how = if c.action.is_replace() { "replaced" } else { "destroyed" };
                out.push(format!("**{env}**: {} is {how}, and what it holds with it", code(&c.addr.to_string())));
            }
        }
        if !plan.drift.is_empty() {
            let addrs: Vec<String> = plan.drift.iter().map(|d| code(&d.addr.to_string())).collect();
            out.push(format!("**{env}**: changed outside ecspoc since the last apply: {}", addrs.join(", ")));
        }
    }
    for e in envs {
        for f in &e.findings {
            out.push(format!("**{}**: {}", text(&e.name), text(f)));
        }
    }
    out
}

fn sections(envs: &[Environment<'_>]) -> Vec<Section> {
    let mut out = Vec::new();
    for (i, e) in envs.iter().enumerate() {
        let Outcome::Planned { plan, .. } = &e.outcome else { continue };
        for c in changed(plan) {
            let verb = match c.action {
                Action::Create => "create",
                Action::Update => "update in place",
                Action::Delete => "destroy",
                Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
                Action::Read | Action::NoOp => "read",
            };
            let forced = if c.replace_paths.is_empty() {
                String::new()
            } else {
                let paths: Vec<String> = c.replace_paths.iter().map(|p| html(p)).collect();
                format!(", forced by <code>{}</code>", paths.join("</code>, <code>"))
            };
            let symbol = match c.action {
                Action::Create => "+",
                Action::Update => "~",
                Action::Delete => "-",
                _ => "-/+",
            };
            out.push(Section {
                env: i,
                heading: format!("<code>{symbol} {}</code> ({verb}{forced})", html(&c.addr.to_string())),
                diff: diff_lines(&human::render_change(c, Color::Off)),
                first: c.action.deletes(),
                has_context: matches!(c.action, Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete),
            });
        }
    }
    out
}

/// Terraform's change block with each line's marker moved to the first
/// column, where a `diff` block colours it: `+` added, `-` removed, `!` changed.
fn diff_lines(block: &str) -> String {
    let mut out = String::new();
    for line in block.lines() {
        let body = line.trim_start();
        let indent = line.len() - body.len();
        let (mark, rest) = if let Some(r) = body.strip_prefix("-/+ ").or_else(|| body.strip_prefix("+/- ")) {
            ("!", r)
        } else if let Some(r) = body.strip_prefix("+ ") {
            ("+", r)
        } else if let Some(r) = body.strip_prefix("- ") {
            ("-", r)
        } else if let Some(r) = body.strip_prefix("~ ") {
            ("!", r)
        } else {
            (" ", body)
        };
        out.push_str(&format!("{mark}{}{rest}\n", " ".repeat(indent + 1)));
    }
    out
}

fn only_changed_lines(diff: &str) -> String {
    diff.lines().filter(|l| !l.starts_with(' ')).map(|l| format!("{l}\n")).collect()
}

fn body(
    envs: &[Environment<'_>],
    sections: &[Section],
    detail: Detail,
    cut: &std::collections::BTreeSet<usize>,
    listed: usize,
) -> String {
    let mut out = String::new();
    let first: Vec<&Section> = sections.iter().filter(|s| s.first).collect();
    if !first.is_empty() {
        out.push_str("\n### Destroys and replacements\n\n");
        for s in &first {
            out.push_str(&format!("- **{}**: {}\n", text(&envs[s.env].name), s.heading));
        }
    }
    let mut env = None;
    for (i, s) in sections.iter().enumerate().take(listed) {
        if env != Some(s.env) && !sections[..i].iter().any(|x| x.env == s.env) {
            out.push_str(&format!("\n### {}\n\n", text(&envs[s.env].name)));
        }
        env = Some(s.env);
        out.push_str(&format!("<details><summary>{}</summary>\n\n", s.heading));
        if cut.contains(&i) {
            out.push_str(&format!("_Diff left out to fit the comment ({} characters)._\n", s.diff.len()));
        } else {
            let diff =
                if detail == Detail::Full || !s.has_context { s.diff.clone() } else { only_changed_lines(&s.diff) };
            out.push_str(&code_block("diff", &diff));
        }
        out.push_str("\n</details>\n");
    }
    if listed < sections.len() {
        out.push_str(&format!("\n_{} more changed resources are not listed here._\n", sections.len() - listed));
    }
    out
}

fn cut_note(
    sections: &[Section],
    detail: Detail,
    cut: &std::collections::BTreeSet<usize>,
    listed: usize,
    opts: &Options,
) -> String {
    let mut what = Vec::new();
    if detail == Detail::ChangedLines && sections.iter().take(listed).any(|s| s.has_context) {
        what.push("unchanged lines of the diffs".to_string());
    }
    if !cut.is_empty() {
        what.push(format!("{} of {} diffs", cut.len(), sections.len()));
    }
    if listed < sections.len() {
        what.push(format!("{} resources", sections.len() - listed));
    }
    if what.is_empty() {
        return String::new();
    }
    format!(
        "\n---\n_This comment leaves out {} to stay under GitHub's size limit; the full plans are in {}._\n",
        what.join(", "),
        text(&opts.full_plan_at)
    )
}

/// Last resort: cut at a line boundary, outside any block (the head has one
/// code block per failed environment).
fn truncate_plain(s: &str, limit: usize) -> String {
    let suffix = "\n_…cut to fit GitHub's limit._\n";
    let budget = limit.saturating_sub(suffix.chars().count());
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in s.lines() {
        if out.chars().count() + line.chars().count() + 1 > budget {
            break;
        }
        let t = line.trim_start();
        if t.starts_with("```") {
            let ticks: String = t.chars().take_while(|c| *c == '`').collect();
            fence = match fence {
                Some(f) if ticks.len() >= f.len() && t.trim_end() == ticks => None,
                None => Some(ticks),
                keep => keep,
            };
        }
        out.push_str(line);
        out.push('\n');
    }
    if let Some(f) = fence {
        out.push_str(&f);
        out.push('\n');
    }
    out.push_str(suffix);
    out
}

/// A fenced code block its content cannot close: the fence is longer than
/// any run of backticks inside.
fn code_block(lang: &str, content: &str) -> String {
    let longest = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let body = if content.ends_with('\n') { content.to_string() } else { format!("{content}\n") };
    format!("{fence}{lang}\n{body}{fence}\n")
}

/// What GitHub would turn into a link or a mention, broken with a
/// zero-width space: `@name`, `scheme://`, `www.`.
fn defuse(s: &str) -> String {
    s.replace('@', "@\u{200B}").replace("://", ":\u{200B}//").replace("www.", "www\u{200B}.")
}

/// Characters HTML gives meaning to, as entities (inside `<summary>`, `<code>`).
fn html(s: &str) -> String {
    let s = defuse(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '`' => out.push_str("&#96;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text in markdown (table cells too: `|` is escaped): HTML escaped,
/// markdown punctuation backslash-escaped, links and mentions defused, one line.
fn text(s: &str) -> String {
    let s = defuse(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '!' | '|' | '~' | '{' | '}' | '+' | '-' | '.' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Inline code that nothing inside can end or turn into HTML.
fn code(s: &str) -> String {
    format!("<code>{}</code>", html(s))
}
