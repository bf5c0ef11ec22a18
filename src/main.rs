//! The ecspoc command line: Terraform's verbs, flags and exit codes.

mod args;
mod backends;
mod commands;
mod github;
mod session;
mod signals;
mod views;

use args::{Cli, Command};
use clap::Parser;
use commands::{comment, init, misc, plan_apply, show, state};
use session::{CliError, Ui};
use std::path::PathBuf;

fn main() {
    let cli = match Cli::try_parse_from(args::normalize(std::env::args())) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 1 } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(run(cli));
    std::process::exit(code);
}

fn json_flag(c: &Command) -> bool {
    match c {
        Command::Plan(p) => p.common.json,
        Command::Apply(a) | Command::Destroy(a) => a.plan.common.json,
        Command::Show(s) => s.common.json,
        Command::Validate(c) => c.json,
        _ => false,
    }
}

async fn run(cli: Cli) -> i32 {
    signals::get();
    // Before any state or saved plan is read: how state files write each provider's dynamic values.
    ecspoc_core::state::register_state_formats(&session::providers());
    let ui = Ui { color: ecspoc_render::Color::Off, json: json_flag(&cli.command) };
    let dir = match (&cli.chdir, &cli.env) {
        (Some(_), Some(_)) => {
            ui.error(&CliError::Message("Use -chdir=DIR or -e NAME, not both.".into()));
            return 1;
        }
        (Some(d), None) => Some(d.clone()),
        (None, Some(name)) => Some(PathBuf::from("environments").join(name)),
        (None, None) => None,
    };
    if let Some(dir) = dir
        && let Err(e) = std::env::set_current_dir(&dir)
    {
        let hint =
            if cli.env.is_some() { " (-e NAME looks for environments/NAME under the current folder)" } else { "" };
        ui.error(&CliError::Message(format!(
            "Error handling -chdir option: cannot change to {}: {e}{hint}",
            dir.display()
        )));
        return 1;
    }
    let result = match cli.command {
        Command::Init(a) => init::init(a).await,
        Command::Validate(a) => misc::validate(a).await,
        Command::Plan(a) => plan_apply::plan(a).await,
        Command::Apply(a) => plan_apply::apply(a, false).await,
        Command::Destroy(a) => plan_apply::apply(a, true).await,
        Command::Show(a) => show::show(a).await,
        Command::Output(a) => show::output(a).await,
        Command::Comment(a) => comment::comment(a).await,
        Command::State(c) => state::run(c).await,
        Command::Import(a) => misc::import(a).await,
        Command::Graph(a) => misc::graph(a).await,
        Command::Providers(a) => misc::providers(a).await,
        Command::ForceUnlock(a) => misc::force_unlock(a).await,
        Command::Version(a) => misc::version(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            ui.error(&e);
            1
        }
    }
}
