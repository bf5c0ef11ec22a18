//! `show` and `output`.

use crate::args::{OutputArgs, ShowArgs};
use crate::session::{self, CliResult, Ui};
use ecspoc_core::plan::file as planfile;
use ecspoc_core::value::Value;

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
    let view = crate::views::inspection(ui);
    if let Some(file) = args.planfiles.first() {
        view.plan(&planfile::read(file)?)?;
        return Ok(0);
    }
    let engine = session::load_engine()?;
    let backend = session::backend(&engine.config).await?;
    view.state(&backend.read().await?, &engine.providers);
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
            } else {
                crate::views::inspection(ui).output(o);
            }
        }
        None => crate::views::inspection(ui).outputs(&state.outputs),
    }
    Ok(0)
}
