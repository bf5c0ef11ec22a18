//! `show` and `output`.

use crate::args::{OutputArgs, ShowArgs};
use crate::session::{self, CliResult, Ui};
use ecspoc_core::plan::file as planfile;
use ecspoc_core::value::Value;
use ecspoc_render::{human, json_plan};

pub async fn show(args: ShowArgs) -> CliResult<i32> {
    let ui = Ui::new(&args.common);
    if args.markdown {
        ui.out(&crate::commands::comment::markdown(
            &args.planfiles,
            args.comment_id.as_deref(),
            args.full_plan_at.as_deref(),
        )?);
        return Ok(0);
    }
    if args.planfiles.len() > 1 {
        return session::fail("show takes one plan file (several only with -markdown)");
    }
    if let Some(file) = args.planfiles.first() {
        let plan = planfile::read(file)?;
        if ui.json {
            // No section is silently missing: a configuration that cannot be rebuilt is an error.
            let engine = session::engine_from_snapshot(&plan.config_files)?;
            let doc = json_plan::render(&plan, Some(&engine.config), json_plan::Shapes(Some(&engine.providers)));
            ui.line(&doc.to_string());
        } else {
            ui.out(&human::render_plan(&plan, ui.color));
        }
        return Ok(0);
    }
    let engine = session::load_engine()?;
    let backend = session::backend(&engine.config).await?;
    let state = backend.read().await?;
    if ui.json {
        ui.line(&json_plan::state_values(&state, json_plan::Shapes(Some(&engine.providers))).to_string());
        return Ok(0);
    }
    if state.is_empty() {
        ui.line("The state file is empty. No resources are represented.");
        return Ok(0);
    }
    for (addr, inst) in &state.instances {
        ui.out(&crate::commands::state::render_instance(addr, inst));
        ui.line("");
    }
    if !state.outputs.is_empty() {
        ui.line("\nOutputs:\n");
        ui.out(&human::render_outputs(&state.outputs));
    }
    Ok(0)
}

pub async fn output(args: OutputArgs) -> CliResult<i32> {
    let ui = Ui::new(&args.common);
    let backend = session::state_backend().await?;
    let state = backend.read().await?;
    match &args.name {
        Some(name) => {
            let Some(o) = state.outputs.get(name) else {
                return session::fail(format!(
                    "Output {name:?} not found\n\nThe output variable requested could not be found in the state file. If you recently added it to your configuration, be sure to run `ecspoc apply`."
                ));
            };
            if args.raw {
                match &o.value {
                    Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                        ui.out(&o.value.to_template_string().unwrap_or_default())
                    }
                    _ => {
                        return session::fail(
                            "Unsupported value for raw output: -raw prints only strings, numbers and bools; use -json for other types.",
                        );
                    }
                }
            } else if ui.json {
                ui.line(&o.value.to_json().to_string());
            } else {
                ui.line(&human::hcl_like(&o.value, 0));
            }
        }
        None if ui.json => {
            let m: serde_json::Map<String, serde_json::Value> = state
                .outputs
                .iter()
                .map(|(k, o)| (k.clone(), serde_json::json!({"sensitive": o.sensitive, "type": ecspoc_core::state::type_json(&o.value), "value": o.value.to_json()})))
                .collect();
            ui.line(&serde_json::to_string_pretty(&m).unwrap_or_default());
        }
        None => {
            if state.outputs.is_empty() {
                ui.error(&session::CliError::Message("No outputs found\n\nThe state file either has no outputs defined, or all the defined outputs are empty.".into()));
                return Ok(0);
            }
            ui.out(&human::render_outputs(&state.outputs));
        }
    }
    Ok(0)
}
