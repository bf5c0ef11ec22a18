//! `plan`, `apply` and `destroy`.

use crate::args::{ApplyArgs, PlanArgs};
use crate::session::{self, CliError, CliResult, Printer, Ui};
use ecspoc_core::addr::{InstanceAddr, Target};
use ecspoc_core::apply::{ApplyOptions, ApplyOutcome};
use ecspoc_core::backend::StateStore;
use ecspoc_core::diag::Diagnostics;
use ecspoc_core::engine::{Engine, InputValue, InputVariables};
use ecspoc_core::plan::file as planfile;
use ecspoc_core::plan::planner::{self, PlanOptions};
use ecspoc_core::plan::{Plan, PlanMode};
use ecspoc_render::human;
use std::sync::Arc;

fn plan_options(args: &PlanArgs, destroy: bool) -> CliResult<PlanOptions> {
    let targets = args
        .target
        .iter()
        .map(|t| Target::parse(t).map_err(|e| CliError::Message(format!("Invalid target address: {e}"))))
        .collect::<CliResult<Vec<_>>>()?;
    let replace = args
        .replace
        .iter()
        .map(|t| match Target::parse(t) {
            Ok(Target::Instance(i)) => Ok(i),
            Ok(Target::Resource(r)) => Ok(r.instance(ecspoc_core::addr::InstanceKey::None)),
            Ok(Target::Module(_)) => {
                Err(CliError::Message(format!("Invalid -replace address {t:?}: name a resource instance")))
            }
            Err(e) => Err(CliError::Message(format!("Invalid -replace address: {e}"))),
        })
        .collect::<CliResult<Vec<InstanceAddr>>>()?;
    if args.parallelism == 0 {
        return session::fail("The -parallelism value must be at least 1.");
    }
    let mode = if destroy || args.destroy {
        PlanMode::Destroy
    } else if args.refresh_only {
        PlanMode::RefreshOnly
    } else {
        PlanMode::Normal
    };
    Ok(PlanOptions {
        mode,
        inputs: session::input_variables(&args.vars)?,
        targets,
        replace,
        refresh: args.refresh,
        parallelism: args.parallelism,
    })
}

async fn make_plan(engine: &Arc<Engine>, backend: &dyn StateStore, opts: PlanOptions, ui: Ui) -> CliResult<Plan> {
    // The stream always starts with its version, even when reading state fails.
    if ui.json {
        ui.line(&ecspoc_render::ui::version());
    }
    let state = backend.read().await?;
    let observer = Arc::new(Printer { ui });
    let interrupted = &crate::signals::get().first;
    let plan = tokio::select! {
        p = planner::plan(engine.clone(), state, opts, observer) => p?,
        _ = interrupted.cancelled() => return session::fail("Interrupted: planning stopped; nothing was changed."),
    };
    if ui.json {
        for m in ecspoc_render::ui::plan_messages(&plan) {
            ui.line(&m);
        }
    } else {
        ui.out("\n");
        ui.out(&human::render_plan(&plan, ui.color));
    }
    Ok(plan)
}

/// The line Terraform draws before what it says about saving a plan.
const RULE: &str = "─────────────────────────────────────────────────────────────────────────────";

pub async fn plan(args: PlanArgs) -> CliResult<i32> {
    let ui = Ui::new(&args.common);
    let engine = session::load_engine()?;
    let backend = session::backend(&engine.config).await?;
    let opts = plan_options(&args, false)?;
    let plan = session::with_lock(backend.as_ref(), &args.lock, "OperationTypePlan", async || {
        make_plan(&engine, backend.as_ref(), opts, ui).await
    })
    .await;
    session::report_api_calls(ui, &engine.providers, backend.as_ref());
    let plan = plan?;
    if args.explain && !ui.json {
        ui.out(&human::render_explanations(&plan));
    }
    if args.out.is_none() && !ui.json && plan.has_changes() {
        ui.line(&format!(
            "\n{}\n\nNote: You didn't use the -out option to save this plan, so ecspoc can't\nguarantee to take exactly these actions if you run \"ecspoc apply\" now.",
            RULE
        ));
    }
    if let Some(out) = &args.out {
        planfile::write(out, &plan)?;
        if !ui.json {
            ui.line(&format!("\n{}\n\nSaved the plan to: {}\n\nTo perform exactly these actions, run the following command to apply:\n    ecspoc apply {:?}", RULE, out.display(), out.display().to_string()));
        }
    }
    Ok(if args.detailed_exitcode && plan.has_changes() { 2 } else { 0 })
}

pub async fn apply(args: ApplyArgs, destroy: bool) -> CliResult<i32> {
    let ui = Ui::new(&args.plan.common);
    let interrupts = crate::signals::get();
    if let Some(file) = &args.planfile {
        if destroy {
            return session::fail(
                "destroy does not take a plan file; use: ecspoc plan -destroy -out=FILE, then ecspoc apply FILE",
            );
        }
        let plan = planfile::read(file)?;
        let engine = session::engine_from_snapshot(&plan.config_files)?;
        let backend = session::backend(&engine.config).await?;
        let inputs: InputVariables =
            plan.variables.iter().map(|(k, v)| (k.clone(), InputValue::Typed(v.clone()))).collect();
        let result = session::with_lock(backend.as_ref(), &args.plan.lock, "OperationTypeApply", async || {
            let mut state = backend.read().await?;
            check_not_stale(&mut state, &plan)?;
            run_apply(&engine, backend.as_ref(), &plan, state, inputs, &args, interrupts, ui).await
        })
        .await;
        session::report_api_calls(ui, &engine.providers, backend.as_ref());
        return result;
    }
    let engine = session::load_engine()?;
    let backend = session::backend(&engine.config).await?;
    let opts = plan_options(&args.plan, destroy)?;
    let inputs = opts.inputs.clone();
    let op = if destroy { "OperationTypeDestroy" } else { "OperationTypeApply" };
    let result = session::with_lock(backend.as_ref(), &args.plan.lock, op, async || {
        let plan = make_plan(&engine, backend.as_ref(), opts, ui).await?;
        if !plan.has_changes() {
            if !ui.json {
                ui.line(if destroy {
                    "\nDestroy complete! Resources: 0 destroyed."
                } else {
                    "\nApply complete! Resources: 0 added, 0 changed, 0 destroyed."
                });
            }
            return Ok(0);
        }
        if !args.auto_approve && !ui.json {
            let (q, d) = if destroy {
                (
                    "Do you really want to destroy all resources?",
                    "ecspoc will destroy all your managed infrastructure, as shown above.\n  There is no undo.",
                )
            } else {
                ("Do you want to perform these actions?", "ecspoc will perform the actions described above.")
            };
            if !session::confirm(q, d).await? {
                return session::fail(format!("{} cancelled.", if destroy { "Destroy" } else { "Apply" }));
            }
        } else if !args.auto_approve {
            return session::fail("-json apply needs -auto-approve or a saved plan file.");
        }
        let state = backend.read().await?;
        run_apply(&engine, backend.as_ref(), &plan, state, inputs.clone(), &args, interrupts, ui).await
    })
    .await;
    session::report_api_calls(ui, &engine.providers, backend.as_ref());
    result
}

/// A saved plan applies only to the state it was made from. A plan made
/// before any state existed applies while there is still none, and the new
/// state takes the plan's lineage.
fn check_not_stale(state: &mut ecspoc_core::state::State, plan: &Plan) -> CliResult<()> {
    let never_written = |serial: u64, empty: bool| serial == 0 && empty;
    // A plan's prior state holds the data sources it read: only managed objects count.
    let plan_from_nothing = plan.prior_state.managed().next().is_none() && plan.prior_state.outputs.is_empty();
    if never_written(plan.base_serial, plan_from_nothing)
        && never_written(state.serial, state.is_empty() && state.pending_creates.is_empty())
    {
        state.lineage = plan.prior_state.lineage.clone();
        return Ok(());
    }
    let why = if never_written(plan.base_serial, plan_from_nothing) {
        format!(
            "the plan was made before any state existed, and the state has been written since (serial {})",
            state.serial
        )
    } else if state.lineage != plan.prior_state.lineage {
        format!(
            "the state now has lineage {} but the plan was made from lineage {}: it is another configuration's state",
            state.lineage, plan.prior_state.lineage
        )
    } else if state.serial != plan.base_serial {
        format!(
            "the state is at serial {} but the plan was made at serial {}: another operation changed it since",
            state.serial, plan.base_serial
        )
    } else {
        return Ok(());
    };
    session::fail(format!(
        "Saved plan is stale\n\nThe given plan file can no longer be applied because {why}. Run plan again."
    ))
}

#[allow(clippy::too_many_arguments)]
async fn run_apply(
    engine: &Arc<Engine>,
    backend: &dyn StateStore,
    plan: &Plan,
    state: ecspoc_core::state::State,
    inputs: InputVariables,
    args: &ApplyArgs,
    interrupts: &crate::signals::Interrupts,
    ui: Ui,
) -> CliResult<i32> {
    let journal: Arc<dyn ecspoc_core::state::journal::JournalSink> = Arc::from(backend.open_journal(&state).await?);
    if !ui.json {
        ui.line("");
    }
    let opts = ApplyOptions {
        parallelism: args.plan.parallelism.max(1),
        inputs,
        stop: interrupts.stop.clone(),
        cancel: interrupts.second.clone(),
        ..ApplyOptions::default()
    };
    let ApplyOutcome { mut state, diags, added, changed, destroyed, interrupted } =
        ecspoc_core::apply::apply(engine.clone(), plan, state, journal, opts, Arc::new(Printer { ui })).await;
    // Persist whatever succeeded, even when something failed.
    if let Err(e) = session::persist(backend, &mut state).await {
        // The failures that stopped the run (a journal out of reach) come first.
        return Err(match e {
            CliError::Diagnostics(d) => CliError::Diagnostics(Diagnostics(diags.0.into_iter().chain(d.0).collect())),
            other => other,
        });
    }
    if !diags.is_empty() || interrupted {
        if interrupted && diags.is_empty() {
            return session::fail(
                "Apply interrupted: operations that had started finished and are recorded in state; run apply again to continue.",
            );
        }
        return Err(CliError::Diagnostics(diags));
    }
    let destroy = plan.mode == PlanMode::Destroy;
    if ui.json {
        ui.line(&ecspoc_render::ui::change_summary(
            if destroy { "destroy" } else { "apply" },
            added,
            changed,
            destroyed,
        ));
        ui.line(&ecspoc_render::ui::outputs(&state.outputs));
    } else {
        if destroy {
            ui.line(&format!("\n{} Resources: {destroyed} destroyed.", ui.color_bold_green("Destroy complete!")));
        } else {
            ui.line(&format!(
                "\n{} Resources: {added} added, {changed} changed, {destroyed} destroyed.",
                ui.color_bold_green("Apply complete!")
            ));
        }
        if !state.outputs.is_empty() && !destroy {
            ui.line(&format!("\n{}\n", ui.color_bold_green("Outputs:")));
            ui.out(&human::render_outputs(&state.outputs));
        }
    }
    Ok(0)
}

impl Ui {
    fn color_bold_green(&self, s: &str) -> String {
        if self.color == ecspoc_render::Color::On { format!("\x1b[1;32m{s}\x1b[0m") } else { s.to_string() }
    }
}
