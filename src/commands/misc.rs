//! `validate`, `graph`, `providers`, `import`, `force-unlock`, `version`.

use crate::args::{CommonArgs, ForceUnlockArgs, GraphArgs, ImportArgs, VersionArgs};
use crate::session::{self, CliError, CliResult, Ui};
use ecspoc_core::addr::{Mode, Target};
use ecspoc_core::diag::Diagnostic;
use ecspoc_core::engine::each_mode;
use ecspoc_core::state::Instance;
use ecspoc_core::state::journal::Record;

pub async fn validate(args: CommonArgs) -> CliResult<i32> {
    // Loading checks arguments against schemas, references, types and cycles.
    crate::views::inspection(Ui::new(&args)).validated(session::load_engine().map(|_| ()))
}

pub async fn graph(args: GraphArgs) -> CliResult<i32> {
    let engine = session::load_engine()?;
    match args.graph_type.as_deref() {
        None => print!("{}", ecspoc_render::dot::render_resources(&engine.graph)),
        Some("plan" | "plan-destroy" | "plan-refresh-only" | "apply") => {
            print!("{}", ecspoc_render::dot::render(&engine.graph))
        }
        Some(other) => {
            return session::fail(format!(
                "Invalid graph type {other:?}: use plan, plan-destroy, plan-refresh-only or apply (or nothing, for resources only)"
            ));
        }
    }
    Ok(0)
}

pub async fn providers(args: CommonArgs) -> CliResult<i32> {
    crate::views::inspection(Ui::new(&args)).providers(&session::providers());
    Ok(0)
}

pub async fn import(args: ImportArgs) -> CliResult<i32> {
    let ui = Ui::new(&args.common);
    let engine = session::load_engine()?;
    let backend = session::backend(&engine.config).await?;
    let addr = match Target::parse(&args.address).map_err(|e| CliError::Message(e.to_string()))? {
        Target::Instance(i) => i,
        Target::Resource(r) => r.instance(ecspoc_core::addr::InstanceKey::None),
        Target::Module(_) => {
            return session::fail("Import needs a resource address, e.g. aws_vpc.main");
        }
    };
    let Some(r) = engine.resource_config(&addr.resource).filter(|r| r.mode == Mode::Managed) else {
        return session::fail(format!(
            "Configuration for import target does not exist\n\nThe configuration has no resource block for {}. Add one (e.g. [resource.{}.{}]) before importing.",
            addr.resource, addr.resource.type_, addr.resource.name
        ));
    };
    let (provider, schema) = engine.provider_for(&addr.resource.type_, Mode::Managed)?;
    let inputs = session::input_variables(&args.vars)?;
    // As Terraform: the provider is configured (region, default_tags) before it reads.
    let provider_name = ecspoc_core::config::module::provider_of_type(&addr.resource.type_);
    engine.configure_provider(&provider_name, &inputs).await?;
    session::with_lock(backend.as_ref(), &args.lock, "OperationTypeImport", async || {
        let mut state = backend.read().await?;
        if state.instances.contains_key(&addr) {
            return session::fail(format!("Resource already managed by ecspoc\n\n{addr} is already in state; to import to this address you must first remove it with `ecspoc state rm {addr}`."));
        }
        ui.line(&format!("{addr}: Importing from ID {:?}...", args.id));
        let attrs = provider
            .import(&addr.resource.type_, &args.id)
            .await
            .map_err(|e| CliError::from(Diagnostic::error("Import failed").with_detail(e.describe()).with_address(addr.to_string())))?
            .ok_or_else(|| CliError::Message(format!("Cannot import non-existent remote object\n\nWhile attempting to import an existing object to {addr}, the provider found no object with ID {:?}.", args.id)))?;
        let sensitive = engine.sensitivity.resource_attributes(&addr.resource, schema.sensitive_names());
        let inst = Instance { schema_version: schema.version, ..Instance::new(attrs, provider.source(), each_mode(r), sensitive) };
        let journal = backend.open_journal(&state).await?;
        journal.append(&Record::put(&addr, &inst)).await?;
        state.instances.insert(addr.clone(), inst);
        session::persist(backend.as_ref(), &mut state).await?;
        ui.line(&format!("{addr}: Import prepared!\n\nImport successful!\n\nThe resources that were imported are shown above. These resources are now in\nyour ecspoc state and will henceforth be managed by ecspoc."));
        Ok(0)
    })
    .await
}

pub async fn force_unlock(args: ForceUnlockArgs) -> CliResult<i32> {
    let engine = session::load_engine()?;
    let backend = session::backend(&engine.config).await?;
    backend.force_unlock(&args.lock_id).await?;
    println!("ecspoc state has been successfully unlocked!");
    Ok(0)
}

pub fn version(args: VersionArgs) -> CliResult<i32> {
    let v = env!("CARGO_PKG_VERSION");
    if args.json {
        println!(
            "{}",
            serde_json::json!({"ecspoc_version": v, "terraform_version": ecspoc_core::state::TERRAFORM_VERSION, "platform": format!("{}_{}", std::env::consts::OS, std::env::consts::ARCH), "provider_selections": {}})
        );
    } else {
        println!(
            "ecspoc v{v}\n(compatible with Terraform {} state and plan formats)\non {}_{}",
            ecspoc_core::state::TERRAFORM_VERSION,
            std::env::consts::OS,
            std::env::consts::ARCH
        );
    }
    Ok(0)
}
