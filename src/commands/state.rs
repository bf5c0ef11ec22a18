//! `state list | show | rm | mv | pull | push`.

use crate::args::StateCommand;
use crate::session::{self, CliError, CliResult, Ui};
use ecspoc_core::addr::{InstanceAddr, Mode, Target};
use ecspoc_core::state::{Instance, State, StateFile};
use ecspoc_core::value::Value;

fn parse(a: &str) -> CliResult<Target> {
    Target::parse(a).map_err(|e| CliError::Message(e.to_string()))
}

pub fn render_instance(addr: &InstanceAddr, inst: &Instance) -> String {
    let r = &addr.resource;
    let kind = if r.mode == Mode::Data { "data" } else { "resource" };
    let mut out = format!("# {addr}:\n{kind} \"{}\" \"{}\" {{\n", r.type_, r.name);
    if let Some(m) = inst.attributes.as_map() {
        let shown: Vec<(&String, &Value)> = m.iter().filter(|(_, v)| !v.is_null()).collect();
        let width = shown.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in shown {
            let text = if inst.sensitive_attributes.contains(k) {
                "(sensitive value)".to_string()
            } else {
                ecspoc_render::human::hcl_like(v, 4)
            };
            out.push_str(&format!("    {k:<width$} = {text}\n"));
        }
    }
    out.push_str("}\n");
    out
}

pub async fn run(cmd: StateCommand) -> CliResult<i32> {
    let ui = Ui::new(&Default::default());
    // Only the state is needed: a folder holding just terraform.tfstate works,
    // as in Terraform (what ecspoc writes back keeps every field it read).
    let backend = session::state_backend().await?;
    match cmd {
        StateCommand::List { addresses } => {
            let state = backend.read().await?;
            let filters = addresses.iter().map(|a| parse(a)).collect::<CliResult<Vec<_>>>()?;
            for addr in state.instances.keys() {
                if filters.is_empty() || filters.iter().any(|f| f.contains(addr)) {
                    ui.line(&addr.to_string());
                }
            }
        }
        StateCommand::Show { address } => {
            let state = backend.read().await?;
            let t = parse(&address)?;
            let found: Vec<_> = state.matching(&t).collect();
            if found.is_empty() {
                return session::fail(format!(
                    "No instance found for the given address!\n\nThis command requires that the address references one specific instance; {address} is not in state."
                ));
            }
            for (a, i) in found {
                ui.out(&render_instance(a, i));
            }
        }
        StateCommand::Rm { addresses, lock } => {
            let targets = addresses.iter().map(|a| parse(a)).collect::<CliResult<Vec<_>>>()?;
            if targets.is_empty() {
                return session::fail("At least one address is required.");
            }
            session::with_lock(backend.as_ref(), &lock, "OperationTypeInvalid", async || {
                let mut state = backend.read().await?;
                let gone: Vec<InstanceAddr> = state.instances.keys().filter(|a| targets.iter().any(|t| t.contains(a))).cloned().collect();
                if gone.is_empty() {
                    return session::fail("Invalid target address: no matching objects found. To view the available instances, use \"ecspoc state list\".");
                }
                for a in &gone {
                    state.instances.remove(a);
                    ui.line(&format!("Removed {a}"));
                }
                backend.write(&mut state).await?;
                ui.line(&format!("Successfully removed {} resource instance(s).", gone.len()));
                Ok(())
            })
            .await?;
        }
        StateCommand::Mv { source, destination, lock } => {
            let (src, dst) = (parse(&source)?, parse(&destination)?);
            session::with_lock(backend.as_ref(), &lock, "OperationTypeInvalid", async || {
                let mut state = backend.read().await?;
                let moved = move_addresses(&mut state, &src, &dst)?;
                backend.write(&mut state).await?;
                ui.line(&format!("Move {source:?} to {destination:?}\nSuccessfully moved {moved} object(s)."));
                Ok(())
            })
            .await?;
        }
        StateCommand::Pull => {
            let state = backend.read().await?;
            ui.line(&serde_json::to_string_pretty(&state.to_file()).unwrap_or_default());
        }
        StateCommand::Push { file, force, lock } => {
            // "-" reads the state from standard input, as in Terraform.
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(&file)
            }
            .map_err(|e| CliError::Message(format!("Failed to read {}: {e}", file.display())))?;
            let sf: StateFile = serde_json::from_str(&text)
                .map_err(|e| CliError::Message(format!("{} is not a state file: {e}", file.display())))?;
            let mut incoming = State::from_file(sf, &file.display().to_string())?;
            session::with_lock(backend.as_ref(), &lock, "OperationTypeInvalid", async || {
                let current = backend.read().await?;
                if !force && !current.is_empty() {
                    if current.lineage != incoming.lineage {
                        return session::fail(format!("Failed to write state: cannot import a state with lineage {:?} over unrelated state with lineage {:?}; use -force to overwrite.", incoming.lineage, current.lineage));
                    }
                    if incoming.serial < current.serial {
                        return session::fail(format!("Failed to write state: cannot overwrite existing state with serial {} with a different state that has a lower serial ({}); use -force to overwrite.", current.serial, incoming.serial));
                    }
                    let same = incoming.instances == current.instances && incoming.outputs == current.outputs;
                    if incoming.serial == current.serial && !same {
                        return session::fail(format!("Failed to write state: cannot overwrite existing state with serial {} with a different state that has the same serial; use -force to overwrite.", current.serial));
                    }
                }
                if force {
                    incoming.lineage = current.lineage.clone();
                }
                backend.write(&mut incoming).await?;
                Ok(())
            })
            .await?;
        }
    }
    Ok(0)
}

fn move_addresses(state: &mut State, src: &Target, dst: &Target) -> CliResult<usize> {
    use ecspoc_core::state::moves::MoveError;
    match state.move_objects(src, dst) {
        Ok(moves) => Ok(moves.len()),
        Err(MoveError::NothingAt(_)) => session::fail(
            "Invalid source address: no objects match it. Use \"ecspoc state list\" to see the addresses in state.",
        ),
        Err(e) => session::fail(format!("{}.", capitalized(&e.to_string()))),
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}
