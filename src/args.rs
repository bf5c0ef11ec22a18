//! The command line, with Terraform's spelling: `-out=FILE`, `-var 'k=v'`,
//! `-chdir=DIR` before the command. Single-dash long flags are rewritten to
//! clap's double dash before parsing.

use clap::{ArgAction, Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "ecspoc",
    version,
    about = "Plan and apply ECS stacks, the Terraform way",
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Switch to DIR before running the command (Terraform's -chdir).
    #[arg(long, value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// Shorthand for -chdir=environments/NAME.
    #[arg(short = 'e', long = "env", value_name = "NAME")]
    pub env: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Prepare the working directory: check configuration and backend.
    Init(InitArgs),
    /// Check the configuration without touching state or providers.
    Validate(CommonArgs),
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Make the changes of a plan (a saved one, or one made now).
    Apply(ApplyArgs),
    /// Destroy everything the state holds.
    Destroy(ApplyArgs),
    /// Show a saved plan, or the state.
    Show(ShowArgs),
    /// Show root module outputs.
    Output(OutputArgs),
    /// Create or update the pull request's plan comment from saved plans.
    Comment(CommentArgs),
    /// Inspect and edit the state.
    #[command(subcommand)]
    State(StateCommand),
    /// Bring an existing object under management: ADDR ID.
    Import(ImportArgs),
    /// Print the dependency graph in Graphviz DOT.
    Graph(GraphArgs),
    /// List providers, their resource types and attributes.
    Providers(CommonArgs),
    /// Release a stuck lock by its ID.
    ForceUnlock(ForceUnlockArgs),
    /// Print the version.
    Version(VersionArgs),
}

#[derive(Args, Debug, Clone, Default)]
pub struct GraphArgs {
    /// `plan` draws every node (variables, locals, outputs, providers); by
    /// default only resources, grouped by module, as Terraform 1.7+ does.
    #[arg(long = "type", value_name = "TYPE")]
    pub graph_type: Option<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    /// No ANSI colour.
    #[arg(long)]
    pub no_color: bool,
    /// Accepted for Terraform compatibility; ecspoc never prompts for variables.
    #[arg(long, action = ArgAction::Set, default_value_t = false, hide = true)]
    pub input: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct VarArgs {
    /// Set a root variable: -var 'name=value' (taken as written for variables of
    /// no type or a primitive type; an HCL or JSON value for any and collections).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variables from a .tfvars, .tfvars.json or .tfvars.toml file.
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct LockArgs {
    /// Take the state lock (default true).
    #[arg(long, action = ArgAction::Set, default_value_t = true)]
    pub lock: bool,
    /// How long to wait for the lock, e.g. 30s.
    #[arg(long, default_value = "0s")]
    pub lock_timeout: String,
}

#[derive(Args, Debug, Clone)]
pub struct PlanArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Write the plan to FILE, to apply exactly it later.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when nothing changes, 2 when something does, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Limit the plan to ADDR and what it depends on (repeatable).
    #[arg(long, value_name = "ADDR")]
    pub target: Vec<String>,
    /// Replace ADDR even if nothing changed (repeatable).
    #[arg(long, value_name = "ADDR")]
    pub replace: Vec<String>,
    /// Read remote objects before planning (default true).
    #[arg(long, action = ArgAction::Set, default_value_t = true)]
    pub refresh: bool,
    /// Only record changes made outside ecspoc.
    #[arg(long)]
    pub refresh_only: bool,
    /// Plan to destroy everything.
    #[arg(long)]
    pub destroy: bool,
    /// Operations at once (provider limits apply too).
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// Say where each changed attribute's new value comes from.
    #[arg(long)]
    pub explain: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// A plan saved with plan -out.
    pub planfile: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct ShowArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// A pull-request comment in markdown of one or more environments'
    /// saved plans (or failed plans, as their `plan -json` output); each
    /// file is named after its environment (`dev.tfplan`).
    #[arg(long)]
    pub markdown: bool,
    /// With -markdown: which comment on the pull request this is (one per set of environments).
    #[arg(long, value_name = "ID")]
    pub comment_id: Option<String>,
    /// With -markdown: where readers find the full plans when the comment is cut.
    #[arg(long, value_name = "TEXT")]
    pub full_plan_at: Option<String>,
    pub planfiles: Vec<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct CommentArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The pull request's number (GITHUB_TOKEN, GITHUB_REPOSITORY and
    /// GITHUB_API_URL say where and as whom, as GitHub Actions sets them).
    #[arg(long, value_name = "N")]
    pub pr: u64,
    /// Print the request instead of sending it.
    #[arg(long)]
    pub dry_run: bool,
    /// Which comment this is (default: the environments' names).
    #[arg(long, value_name = "ID")]
    pub comment_id: Option<String>,
    /// Where readers find the full plans when the comment is cut.
    #[arg(long, value_name = "TEXT")]
    pub full_plan_at: Option<String>,
    /// Saved plans (or failed plans' `plan -json` output), named after their environments.
    #[arg(required = true)]
    pub planfiles: Vec<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print a string output's value with no quotes.
    #[arg(long)]
    pub raw: bool,
    pub name: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// List the addresses in state (optionally those under ADDRs).
    List { addresses: Vec<String> },
    /// Show one instance's attributes.
    Show { address: String },
    /// Forget instances without destroying them.
    Rm {
        addresses: Vec<String>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Move an instance, resource or module to another address.
    Mv {
        source: String,
        destination: String,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Print the state file.
    Pull,
    /// Replace the state with FILE (same lineage unless -force).
    Push {
        file: PathBuf,
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ImportArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    pub address: String,
    pub id: String,
}

#[derive(Args, Debug, Clone)]
pub struct InitArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Backend settings over the block's: KEY=VALUE, or a file of them (.tfbackend, .json, .toml).
    #[arg(long = "backend-config", value_name = "KEY=VALUE|FILE")]
    pub backend_config: Vec<String>,
    /// Copy the state of the previously configured backend to the new one.
    #[arg(long)]
    pub migrate_state: bool,
    /// Use the backend as now configured, ignoring the one used before (no state is copied).
    #[arg(long)]
    pub reconfigure: bool,
    /// Answer yes to copying state during migration, without a prompt.
    #[arg(long)]
    pub force_copy: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ForceUnlockArgs {
    pub lock_id: String,
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug, Clone)]
pub struct VersionArgs {
    #[arg(long)]
    pub json: bool,
}

/// Terraform writes long flags with one dash (`-out=x`); clap wants two.
/// `-e` stays short; `--x` and plain values are left alone.
pub fn normalize(args: impl IntoIterator<Item = String>) -> Vec<String> {
    args.into_iter()
        .enumerate()
        .map(|(i, a)| {
            let single_dash_long = i > 0
                && !a.starts_with("--")
                && a.len() > 2
                && a.starts_with('-')
                && a.as_bytes()[1].is_ascii_alphabetic();
            if single_dash_long { format!("-{a}") } else { a }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_dash_flags_become_two() {
        let n = normalize(
            ["ecspoc", "-chdir=x", "plan", "-out=p", "-var", "a=b", "-e", "dev", "--json", "-"].map(String::from),
        );
        assert_eq!(n, vec!["ecspoc", "--chdir=x", "plan", "--out=p", "--var", "a=b", "-e", "dev", "--json", "-"]);
    }

    #[test]
    fn parses_terraform_style_flags() {
        let cli = Cli::try_parse_from(normalize(
            [
                "ecspoc",
                "-e",
                "dev",
                "plan",
                "-refresh=false",
                "-target=a.b",
                "-target",
                "c.d",
                "-lock-timeout=3s",
                "-detailed-exitcode",
            ]
            .map(String::from),
        ))
        .unwrap();
        assert_eq!(cli.env.as_deref(), Some("dev"));
        let Command::Plan(p) = cli.command else { panic!("not a plan") };
        assert!(!p.refresh && p.detailed_exitcode);
        assert_eq!(p.target, vec!["a.b", "c.d"]);
        assert_eq!(p.lock.lock_timeout, "3s");
    }
}
