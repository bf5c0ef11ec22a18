//! `init`: record the backend (the block merged with `-backend-config`) and,
//! when it changed, move the state as Terraform does: `-migrate-state` copies
//! it from the backend used before, `-reconfigure` starts over without it.

use crate::args::InitArgs;
use crate::backends::{self, Choice};
use crate::session::{self, CliError, CliResult, Ui};
use ecspoc_core::backend::StateStore;
use ecspoc_core::state::State;

pub async fn init(args: InitArgs) -> CliResult<i32> {
    let ui = Ui::new(&args.common);
    let engine = session::load_engine()?;
    let block = backends::block(&engine.config);
    let hash = backends::block_hash(&block.choice);
    let mut wanted = block.choice.clone();
    if !args.backend_config.is_empty() {
        if block.span.is_none() {
            return session::fail(
                "-backend-config was given, but the configuration has no backend block to complete; add [terraform.backend.KIND].",
            );
        }
        wanted.config.extend(backends::overrides(&args.backend_config)?);
    }
    // Check the settings before touching any state.
    let new_backend = backends::open(&wanted, block.span.as_ref()).await?;
    let previous = match backends::read_record()? {
        Some(r) => Choice { kind: r.backend.kind, config: r.backend.config },
        None => Choice::local_default(),
    };
    ui.line(&format!("Initializing the backend...\n  {}", new_backend.describe()));
    if previous != wanted && !args.reconfigure {
        let old_backend = backends::open(&previous, None).await?;
        migrate(&args, &ui, old_backend.as_ref(), new_backend.as_ref()).await?;
    }
    backends::write_record(&wanted, hash)?;
    ui.line("");
    ui.line("Initializing provider plugins...");
    let mut names: Vec<&str> = Vec::new();
    for m in engine.config.modules.values() {
        for r in m.resources.values() {
            if let Some((p, _)) = engine.providers.resource_schema(r.mode, &r.type_) {
                names.push(p.source());
            }
        }
    }
    names.sort();
    names.dedup();
    for n in names {
        ui.line(&format!("- Using built-in {n}"));
    }
    ui.line("\necspoc has been successfully initialized!");
    Ok(0)
}

/// Copy the previous backend's state into the new one, both locked, and
/// check that it arrived whole. Nothing to copy is no migration at all.
async fn migrate(args: &InitArgs, ui: &Ui, from: &dyn StateStore, to: &dyn StateStore) -> CliResult<()> {
    session::with_lock(from, &args.lock, "OperationTypeMigrate", async || {
        let source = from.read().await?;
        if source.is_empty() && source.outputs.is_empty() {
            return Ok(());
        }
        if !args.migrate_state && !args.force_copy {
            return session::fail(format!(
                "Backend configuration changed\n\nThe state in {} holds {} resource instance(s), and the backend is now {}. \
                 To copy that state to the new backend, run `ecspoc init -migrate-state` (with -force-copy to answer yes without a prompt); \
                 to use the new backend as it is, without that state, run `ecspoc init -reconfigure`.",
                from.describe(),
                source.managed().count(),
                to.describe()
            ));
        }
        session::with_lock(to, &args.lock, "OperationTypeMigrate", async || copy(args, ui, &source, from, to).await).await
    })
    .await
}

async fn copy(args: &InitArgs, ui: &Ui, source: &State, from: &dyn StateStore, to: &dyn StateStore) -> CliResult<()> {
    let existing = to.read().await?;
    let question = if existing.is_empty() {
        format!(
            "Do you want to copy existing state to the new backend?\n  The state in {} will be copied to {}.",
            from.describe(),
            to.describe()
        )
    } else if existing.lineage == source.lineage {
        format!(
            "Do you want to overwrite the state in the new backend with the previous state?\n  {} (serial {}) will replace {} (serial {}).",
            from.describe(),
            source.serial,
            to.describe(),
            existing.serial
        )
    } else {
        if !args.force_copy {
            return session::fail(format!(
                "Backend migration refused: {} already holds another state (lineage {}, {} resource instance(s)); \
                 copying lineage {} over it would lose it. Empty that state first, or run with -force-copy to replace it.",
                to.describe(),
                existing.lineage,
                existing.managed().count(),
                source.lineage
            ));
        }
        String::new()
    };
    if !args.force_copy {
        let (q, detail) = question.split_once("\n  ").unwrap_or((&question, ""));
        if !session::confirm(q, detail).await? {
            return session::fail("Migration cancelled: nothing was copied, and the backend was not changed.");
        }
    }
    let mut copied = source.clone();
    if existing.lineage != source.lineage && !existing.is_empty() {
        // -force-copy over another lineage: the new backend takes this one's history.
        copied.lineage = existing.lineage.clone();
    }
    to.write(&mut copied).await?;
    let arrived = to.read().await?;
    if arrived.instances != source.instances || arrived.outputs != source.outputs {
        return Err(CliError::Message(format!(
            "The state copied to {} does not read back as it was sent; the previous backend was left as it is, and the new one was not recorded.",
            to.describe()
        )));
    }
    ui.line(&format!(
        "Successfully copied {} resource instance(s) from {} to {}.",
        source.managed().count(),
        from.describe(),
        to.describe()
    ));
    Ok(())
}
