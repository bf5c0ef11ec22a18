//! `plan`, `apply` and `destroy`.

use crate::args::{ApplyArgs, PlanArgs};
use crate::session::{self, CliError, CliResult, Ui};
use crate::views::{self, OperationView, Progress};
use ecspoc_core::addr::{InstanceAddr, Target};
use ecspoc_core::apply::{ApplyOptions, ApplyOutcome};
use ecspoc_core::backend::StateStore;
use ecspoc_core::diag::Diagnostics;
use ecspoc_core::engine::{Engine, InputValue, InputVariables};
use ecspoc_core::plan::file as planfile;
use ecspoc_core::plan::planner::{self, PlanOptions};
use ecspoc_core::plan::{Plan, PlanMode};
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

async fn make_plan(
    engine: &Arc<Engine>,
    backend: &dyn StateStore,
    opts: PlanOptions,
    view: &Arc<dyn OperationView>,
) -> CliResult<Plan> {
    view.started();
    let state = backend.read().await?;
    let observer = Arc::new(Progress(view.clone()));
    let interrupted = &crate::signals::get().first;
    let plan = tokio::select! {
        p = planner::plan(engine.clone(), state, opts, observer) => p?,
        _ = interrupted.cancelled() => return session::fail("Interrupted: planning stopped; nothing was changed."),
    };
    view.planned(&plan);
    Ok(plan)
}

pub async fn plan(args: PlanArgs) -> CliResult<i32> {
    let view = views::operation(Ui::new(&args.common));
    let engine = session::load_engine()?;
    let backend = session::backend(&engine.config).await?;
    let opts = plan_options(&args, false)?;
    let plan = session::with_lock(backend.as_ref(), &args.lock, "OperationTypePlan", async || {
        make_plan(&engine, backend.as_ref(), opts, &view).await
    })
    .await;
    session::report_api_calls(view.as_ref(), &engine.providers, backend.as_ref());
    let plan = plan?;
    if args.explain {
        view.explanations(&plan);
    }
    match &args.out {
        Some(out) => {
            planfile::write(out, &plan)?;
            view.saved(out);
        }
        None if plan.has_changes() => view.not_saved(),
        None => {}
    }
    Ok(if args.detailed_exitcode && plan.has_changes() { 2 } else { 0 })
}

pub async fn apply(args: ApplyArgs, destroy: bool) -> CliResult<i32> {
    let view = views::operation(Ui::new(&args.plan.common));
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
            run_apply(&engine, backend.as_ref(), &plan, state, inputs, &args, interrupts, &view).await
        })
        .await;
        session::report_api_calls(view.as_ref(), &engine.providers, backend.as_ref());
        return result;
    }
    let engine = session::load_engine()?;
    let backend = session::backend(&engine.config).await?;
    let opts = plan_options(&args.plan, destroy)?;
    let inputs = opts.inputs.clone();
    let op = if destroy { "OperationTypeDestroy" } else { "OperationTypeApply" };
    let result = session::with_lock(backend.as_ref(), &args.plan.lock, op, async || {
        let plan = make_plan(&engine, backend.as_ref(), opts, &view).await?;
        if !plan.has_changes() {
            view.nothing_to_apply(destroy);
            return Ok(0);
        }
        if !args.auto_approve && view.can_ask() {
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
        run_apply(&engine, backend.as_ref(), &plan, state, inputs.clone(), &args, interrupts, &view).await
    })
    .await;
    session::report_api_calls(view.as_ref(), &engine.providers, backend.as_ref());
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
    view: &Arc<dyn OperationView>,
) -> CliResult<i32> {
    let journal: Arc<dyn ecspoc_core::state::journal::JournalSink> = Arc::from(backend.open_journal(&state).await?);
    view.applying();
    let opts = ApplyOptions {
        parallelism: args.plan.parallelism.max(1),
        inputs,
        stop: interrupts.stop.clone(),
        cancel: interrupts.second.clone(),
        ..ApplyOptions::default()
    };
    let ApplyOutcome { mut state, diags, added, changed, destroyed, interrupted } =
        ecspoc_core::apply::apply(engine.clone(), plan, state, journal, opts, Arc::new(Progress(view.clone()))).await;
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
    let outputs = if destroy { Default::default() } else { state.outputs.clone() };
    view.applied(destroy, (added, changed, destroyed), &outputs);
    Ok(0)
}
