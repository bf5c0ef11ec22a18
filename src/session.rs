//! Glue shared by the commands: where we run, loading configuration and
//! state, variables, locking, and printing (the only terminal I/O there is).

use crate::args::{CommonArgs, LockArgs, VarArgs};
use ecspoc_core::backend::{LockInfo, StateStore};
use ecspoc_core::config::Config;
use ecspoc_core::diag::{Diagnostic, Diagnostics};
use ecspoc_core::engine::{Engine, InputValue, InputVariables};
use ecspoc_core::events::now_rfc3339;
use ecspoc_core::provider::ProviderSet;
use ecspoc_core::state::StateError;
use ecspoc_core::state::local::LocalBackend;
use ecspoc_core::value::Value;
use ecspoc_render::Color;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Every way a command can fail; each is exit code 1.
#[derive(Debug)]
pub enum CliError {
    Diagnostics(Diagnostics),
    State(StateError),
    Message(String),
}

impl From<Diagnostics> for CliError {
    fn from(d: Diagnostics) -> Self {
        CliError::Diagnostics(d)
    }
}
impl From<Diagnostic> for CliError {
    fn from(d: Diagnostic) -> Self {
        CliError::Diagnostics(d.into())
    }
}
impl From<ecspoc_core::plan::file::PlanFileError> for CliError {
    fn from(e: ecspoc_core::plan::file::PlanFileError) -> Self {
        CliError::Message(e.to_string())
    }
}

impl From<StateError> for CliError {
    fn from(e: StateError) -> Self {
        CliError::State(e)
    }
}

pub type CliResult<T> = Result<T, CliError>;

impl CliError {
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            CliError::Diagnostics(d) => d.0.clone(),
            CliError::State(s) => vec![Diagnostic::error(state_summary(s)).with_detail(s.to_string())],
            CliError::Message(m) => vec![Diagnostic::error(m.clone())],
        }
    }

    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        match self {
            CliError::Diagnostics(d) => d.0,
            other => other.diagnostics(),
        }
    }
}

pub fn fail<T>(msg: impl Into<String>) -> CliResult<T> {
    Err(CliError::Message(msg.into()))
}

/// Output settings of one command.
#[derive(Clone, Copy)]
pub struct Ui {
    pub color: Color,
    pub json: bool,
}

impl Ui {
    pub fn new(common: &CommonArgs) -> Ui {
        // Colours on a terminal, or wherever CLICOLOR_FORCE asks for them
        // (CI logs that show ANSI colours); never with -no-color or NO_COLOR.
        let forced = std::env::var("CLICOLOR_FORCE").is_ok_and(|v| !v.is_empty() && v != "0");
        let color = if !common.no_color
            && std::env::var_os("NO_COLOR").is_none()
            && (forced || std::io::stdout().is_terminal())
        {
            Color::On
        } else {
            Color::Off
        };
        Ui { color, json: common.json }
    }

    pub fn out(&self, text: &str) {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(text.as_bytes());
        let _ = o.flush();
    }

    pub fn line(&self, text: &str) {
        self.out(&format!("{text}\n"));
    }

    pub fn error(&self, e: &CliError) {
        for d in e.diagnostics() {
            if self.json {
                self.line(&ecspoc_render::ui::diagnostic(&d));
            } else {
                let text = d.render();
                let mut err = std::io::stderr().lock();
                let label = if d.is_error() {
                    self.color.paint("1;31", "Error:")
                } else {
                    self.color.paint("1;33", "Warning:")
                };
                let body = text.split_once(':').map(|(_, rest)| rest).unwrap_or(&text);
                let _ = writeln!(err, "\n{label}{body}");
            }
        }
    }
}

fn state_summary(e: &StateError) -> &'static str {
    match e {
        StateError::Locked(_) => "Error acquiring the state lock",
        StateError::Corrupt { .. } => "Failed to load state",
        StateError::UnsupportedVersion { .. } => "Unsupported state file format",
        StateError::Io { .. } => "Failed to read or write state",
        StateError::Conflict(_) => "State conflict",
    }
}

/// Prints engine events as Terraform's progress lines or `-json` messages.
/// After a command: each provider's API call count, and the state backend's
/// requests (as "backend"), as the view reports them.
pub fn report_api_calls(view: &dyn crate::views::OperationView, providers: &ProviderSet, backend: &dyn StateStore) {
    type Counts = BTreeMap<String, u64>;
    let mut counts: Vec<(&str, Counts, Counts)> =
        providers.iter().map(|p| (p.local_name(), p.api_calls(), p.api_retries())).collect();
    counts.push(("backend", backend.requests(), BTreeMap::new()));
    for (name, calls, retries) in counts.iter().filter(|(_, calls, _)| !calls.is_empty()) {
        view.api_calls(name, calls, retries);
    }
}

/// Save a run's state. When the backend cannot take it, the state is kept in
/// `errored.tfstate` (as Terraform does), with the serial it would have had,
/// and the error says how to push it once the backend is back.
pub async fn persist(backend: &dyn StateStore, state: &mut ecspoc_core::state::State) -> CliResult<()> {
    let base = state.serial;
    let Err(e) = backend.write(state).await else { return Ok(()) };
    let mut kept = state.clone();
    kept.serial = base + 1;
    let saved = ecspoc_core::state::encode(&kept, ERRORED_STATE).map_err(|e| e.to_string()).and_then(|text| {
        ecspoc_core::state::private_file::write_atomic(Path::new(ERRORED_STATE), text.as_bytes())
            .map_err(|e| e.to_string())
    });
    let detail = match saved {
        Ok(()) => format!(
            "{e}\n\nThe state of this run, with every object it created, changed or destroyed, was written to {ERRORED_STATE} \
             in the current folder. When {} is reachable again, push it with `ecspoc state push {ERRORED_STATE}`, then run plan.",
            backend.describe()
        ),
        Err(w) => format!(
            "{e}\n\nWriting it to {ERRORED_STATE} failed too ({w}): do not run apply again before the state is recovered."
        ),
    };
    Err(Diagnostic::error("Failed to save state").with_detail(detail).into())
}

pub const ERRORED_STATE: &str = "errored.tfstate";

pub fn providers() -> ProviderSet {
    let mut set = ProviderSet::new();
    ecspoc_builtin::register(&mut set);
    set.register(std::sync::Arc::new(ecspoc_aws::AwsProvider::new()));
    set
}

/// The root module folder is the working directory (after -chdir / -e).
pub fn load_engine() -> CliResult<Arc<Engine>> {
    let config = Config::load(Path::new("."))?;
    Ok(Arc::new(Engine::new(config, providers(), PathBuf::from("."))?))
}

pub fn engine_from_snapshot(files: &[(PathBuf, String)]) -> CliResult<Arc<Engine>> {
    let config = Config::load_snapshot(files, Path::new("."))?;
    Ok(Arc::new(Engine::new(config, providers(), PathBuf::from("."))?))
}

/// The state of this folder, for commands that need only the state (`state
/// ...`, `output`): the configured backend, or, in a folder holding no
/// configuration at all, `terraform.tfstate`, as Terraform does.
pub async fn state_backend() -> CliResult<Box<dyn StateStore>> {
    let has_config = std::fs::read_dir(".")
        .map(|entries| {
            entries.flatten().any(|e| ecspoc_core::config::is_config_file_name(&e.file_name().to_string_lossy()))
        })
        .unwrap_or(true);
    if !has_config {
        return Ok(Box::new(LocalBackend::new("terraform.tfstate")));
    }
    let config = Config::load(Path::new("."))?;
    backend(&config).await
}

pub async fn backend(config: &Config) -> CliResult<Box<dyn StateStore>> {
    crate::backends::for_config(config).await
}

pub fn lock_timeout(args: &LockArgs) -> CliResult<Duration> {
    ecspoc_builtin::parse_duration(&args.lock_timeout)
        .map_err(|e| CliError::Message(format!("Invalid -lock-timeout: {e}")))
}

pub fn lock_info(operation: &str, backend: &dyn StateStore) -> LockInfo {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    LockInfo {
        id: uuid::Uuid::new_v4().to_string(),
        operation: operation.into(),
        info: format!("pid {}", std::process::id()),
        who: format!("{user}@{host}"),
        version: env!("CARGO_PKG_VERSION").into(),
        created: now_rfc3339(),
        path: backend.lock_path(),
    }
}

/// Run `f` holding the state lock (unless -lock=false); always unlock.
pub async fn with_lock<T>(
    backend: &dyn StateStore,
    args: &LockArgs,
    operation: &str,
    f: impl AsyncFnOnce() -> CliResult<T>,
) -> CliResult<T> {
    if args.lock {
        let interrupted = &crate::signals::get().first;
        let (info, timeout) = (lock_info(operation, backend), lock_timeout(args)?);
        tokio::select! {
            r = backend.lock(&info, timeout) => r?,
            _ = interrupted.cancelled() => {
                // A lock taken as the interrupt came is given back.
                let _ = backend.unlock().await;
                return fail("Interrupted while waiting for the state lock; nothing was changed.");
            }
        }
    }
    let r = f().await;
    // Also releases a lock taken without waiting to write under -lock=false.
    let Err(e) = backend.unlock().await else { return r };
    let release = Diagnostic::error("Error releasing the state lock").with_detail(format!(
        "{e}\n\nThe state is still locked. Once {} is reachable, release the lock with `ecspoc force-unlock LOCK_ID` \
         (its ID is shown by the next command that finds it taken).",
        backend.describe()
    ));
    let mut diags = match r {
        Ok(_) => Vec::new(),
        Err(earlier) => earlier.into_diagnostics(),
    };
    diags.push(release);
    Err(CliError::Diagnostics(Diagnostics(diags)))
}

/// Root variables: auto-loaded files, then -var-file and -var in order, TF_VAR_ first.
pub fn input_variables(args: &VarArgs) -> CliResult<InputVariables> {
    let mut out = InputVariables::new();
    for (k, v) in std::env::vars() {
        if let Some(name) = k.strip_prefix("TF_VAR_") {
            out.insert(name.to_string(), InputValue::Raw(v));
        }
    }
    let mut files: Vec<PathBuf> = ["terraform.tfvars", "terraform.tfvars.json", "terraform.tfvars.toml"]
        .iter()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect();
    let mut auto: Vec<PathBuf> = std::fs::read_dir(".")
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().contains(".auto.tfvars"))
                .collect()
        })
        .unwrap_or_default();
    auto.sort();
    files.extend(auto);
    files.extend(args.var_files.iter().cloned());
    for f in files {
        for (k, v) in read_var_file(&f)? {
            out.insert(k, InputValue::Typed(v));
        }
    }
    for v in &args.vars {
        let (k, val) = v.split_once('=').ok_or_else(|| {
            CliError::Message(format!("Invalid -var option {v:?}: the given -var option must be set to NAME=VALUE"))
        })?;
        out.insert(k.trim().to_string(), InputValue::Raw(val.to_string()));
    }
    Ok(out)
}

fn read_var_file(path: &Path) -> CliResult<Vec<(String, Value)>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Message(format!("Failed to read variables file {}: {e}", path.display())))?;
    ecspoc_core::config::var_file::parse(&path.to_string_lossy(), &text)
        .map_err(|e| CliError::Message(format!("Invalid variables file {}: {e}", path.display())))
}

/// Ask on a terminal; refuse where nobody can answer. An interrupt at the
/// prompt answers no, so the caller still releases the state lock.
pub async fn confirm(question: &str, detail: &str) -> CliResult<bool> {
    if !std::io::stdin().is_terminal() {
        return fail(format!(
            "{question}\n\nNo terminal to answer on: run again with -auto-approve to approve without a prompt."
        ));
    }
    print!("\n{question}\n  {detail}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    let _ = std::io::stdout().flush();
    let interrupts = crate::signals::get();
    interrupts.at_prompt.store(true, std::sync::atomic::Ordering::SeqCst);
    // A plain thread: a read blocked on the terminal must not keep the process alive.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut answer = String::new();
        let _ = tx.send(std::io::stdin().read_line(&mut answer).map(|_| answer));
    });
    let answer = tokio::select! {
        a = rx => a,
        _ = interrupts.first.cancelled() => {
            interrupts.at_prompt.store(false, std::sync::atomic::Ordering::SeqCst);
            return fail("Interrupted at the prompt: nothing was changed.");
        }
    };
    interrupts.at_prompt.store(false, std::sync::atomic::Ordering::SeqCst);
    let answer = answer.map_err(|_| CliError::Message("the prompt was closed".into()))?;
    let answer = answer.map_err(|e| CliError::Message(e.to_string()))?;
    Ok(answer.trim() == "yes")
}
