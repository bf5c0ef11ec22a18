//! `show -markdown` and `comment`: saved plans as one pull-request comment,
//! created once and updated in place by later runs.

use crate::args::CommentArgs;
use crate::github::Github;
use crate::session::{self, CliError, CliResult, Ui};
use ecspoc_core::engine::Engine;
use ecspoc_core::plan::Plan;
use ecspoc_core::plan::file as planfile;
use ecspoc_render::markdown::{self, Environment, Options, Outcome};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What one file given on the command line holds.
enum Loaded {
    Plan(Box<Plan>, Arc<Engine>),
    Failed(Vec<String>),
    /// A policy tool's report on an environment's plan (checkov's JSON).
    Findings(Vec<String>),
}

/// The environment a file is about: its name without extensions (`dev.tfplan` -> `dev`).
fn environment_name(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.split('.').next().filter(|n| !n.is_empty()).unwrap_or(&name).to_string()
}

fn load(path: &Path) -> CliResult<Loaded> {
    match planfile::read(path) {
        Ok(plan) => {
            let engine = session::engine_from_snapshot(&plan.config_files)?;
            Ok(Loaded::Plan(Box::new(plan), engine))
        }
        Err(planfile::PlanFileError::NotAPlan { .. }) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::Message(format!("cannot read {}: {e}", path.display())))?;
            if let Some(findings) = checkov_findings(&text) {
                return Ok(Loaded::Findings(findings));
            }
            match failed_plan_errors(&text) {
                Some(errors) => Ok(Loaded::Failed(errors)),
                None => session::fail(format!(
                    "{} is neither a saved plan, the `plan -json` output of a failed plan, nor a checkov JSON report",
                    path.display()
                )),
            }
        }
        Err(e) => Err(CliError::Message(e.to_string())),
    }
}

/// The failed checks of a checkov JSON report (one framework's object, or a
/// list of them), or `None` when the text is not one.
fn checkov_findings(text: &str) -> Option<Vec<String>> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let reports = match &v {
        serde_json::Value::Array(items) => items.clone(),
        serde_json::Value::Object(_) => vec![v.clone()],
        _ => return None,
    };
    if !reports.iter().all(|r| r.get("results").is_some() || r.get("passed").is_some()) {
        return None;
    }
    let mut out = Vec::new();
    for r in &reports {
        for f in r["results"]["failed_checks"].as_array().into_iter().flatten() {
            out.push(format!(
                "checkov {}: {} ({})",
                f["check_id"].as_str().unwrap_or("?"),
                f["check_name"].as_str().unwrap_or(""),
                f["resource"].as_str().unwrap_or("?")
            ));
        }
    }
    Some(out)
}

/// The errors of a `plan -json` stream, or `None` when it is not one.
fn failed_plan_errors(text: &str) -> Option<Vec<String>> {
    let mut messages = 0;
    let mut errors = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let m: serde_json::Value = serde_json::from_str(line).ok()?;
        messages += 1;
        let d = &m["diagnostic"];
        if m["type"] == "diagnostic" && d["severity"] == "error" {
            let mut e = d["summary"].as_str().unwrap_or("error").to_string();
            if let Some(addr) = d["address"].as_str() {
                e = format!("{addr}: {e}");
            }
            if let Some(detail) = d["detail"].as_str().filter(|s| !s.is_empty()) {
                e = format!("{e}\n{detail}");
            }
            errors.push(e);
        }
    }
    (messages > 0).then(|| if errors.is_empty() { vec!["the plan stopped without saying why".into()] } else { errors })
}

/// The comment for these files.
pub fn markdown(files: &[PathBuf], id: Option<&str>, full_plan_at: Option<&str>) -> CliResult<String> {
    if files.is_empty() {
        return session::fail("show -markdown needs one or more plan files (e.g. dev.tfplan staging.tfplan)");
    }
    let loaded: Vec<(String, Loaded)> =
        files.iter().map(|f| Ok((environment_name(f), load(f)?))).collect::<CliResult<_>>()?;
    let findings = |env: &str| -> Vec<String> {
        loaded
            .iter()
            .filter(|(n, _)| n == env)
            .filter_map(|(_, l)| match l {
                Loaded::Findings(f) => Some(f.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    };
    let envs: Vec<Environment<'_>> = loaded
        .iter()
        .filter_map(|(name, l)| {
            let outcome = match l {
                Loaded::Plan(plan, engine) => Outcome::Planned { plan, providers: Some(&engine.providers) },
                Loaded::Failed(errors) => Outcome::Failed { errors: errors.clone() },
                Loaded::Findings(_) => return None,
            };
            Some(Environment { name: name.clone(), outcome, findings: findings(name) })
        })
        .collect();
    if envs.is_empty() {
        return session::fail(
            "show -markdown needs a saved plan (or a failed plan's -json output) of each environment",
        );
    }
    let names: Vec<&str> = envs.iter().map(|e| e.name.as_str()).collect();
    let mut opts = Options { id: id.map(String::from).unwrap_or_else(|| names.join(",")), ..Options::default() };
    if let Some(at) = full_plan_at {
        opts.full_plan_at = at.to_string();
    }
    Ok(markdown::render(&envs, &opts))
}

pub async fn comment(args: CommentArgs) -> CliResult<i32> {
    let ui = Ui::new(&args.common);
    let body = markdown(&args.planfiles, args.comment_id.as_deref(), args.full_plan_at.as_deref())?;
    // The marker is the first comment line of the body.
    let id_line = body.lines().find(|l| l.starts_with("<!-- ecspoc-plan-comment:")).unwrap_or_default().to_string();
    let gh = Github::from_env(args.dry_run).map_err(|e| CliError::Message(e.to_string()))?;
    let outcome = tokio::task::spawn_blocking(move || gh.upsert_comment(args.pr, &id_line, &body))
        .await
        .map_err(|e| CliError::Message(format!("the GitHub request stopped: {e}")))?;
    let done = outcome.map_err(|e| CliError::Message(e.to_string()))?;
    ui.line(&done.to_string());
    Ok(0)
}
