//! Configuration: a root module folder and the local modules it calls.

mod dynamic;
pub mod expr;
pub mod module;
pub mod raw;
pub mod types;
pub mod var_file;

use crate::addr::ModulePath;
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{SourceFile, Span};
pub use expr::{Expr, Reference};
pub use module::{Lifecycle, Local, Module, ModuleCall, Moved, Output, ProviderConfig, Resource, Variable};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every module of a configuration, keyed by its path from the root.
#[derive(Debug, Default)]
pub struct Config {
    pub modules: BTreeMap<ModulePath, Module>,
    pub files: Vec<Arc<SourceFile>>,
}

const MAX_MODULE_DEPTH: usize = 16;

impl Config {
    pub fn root(&self) -> &Module {
        static EMPTY: std::sync::OnceLock<Module> = std::sync::OnceLock::new();
        self.modules.get(&ModulePath::root()).unwrap_or_else(|| EMPTY.get_or_init(Module::default))
    }

    /// Load the root module in `dir` and, recursively, each module it calls.
    pub fn load(dir: &Path) -> Result<Config, Diagnostics> {
        let mut config = Config::default();
        let mut diags = Diagnostics::default();
        config.load_module(&normalize(dir), ModulePath::root(), &mut diags, None);
        if diags.has_errors() { Err(diags) } else { Ok(config) }
    }

    /// Load from in-memory files (a saved plan carries its configuration this way).
    pub fn load_snapshot(files: &[(PathBuf, String)], root: &Path) -> Result<Config, Diagnostics> {
        let by_dir: BTreeMap<PathBuf, Vec<(PathBuf, String)>> = files.iter().fold(BTreeMap::new(), |mut m, (p, t)| {
            m.entry(normalize(p.parent().unwrap_or(Path::new(".")))).or_default().push((p.clone(), t.clone()));
            m
        });
        let mut config = Config::default();
        let mut diags = Diagnostics::default();
        config.load_module(&normalize(root), ModulePath::root(), &mut diags, Some(&by_dir));
        if diags.has_errors() { Err(diags) } else { Ok(config) }
    }

    /// The files of every module, for a saved plan's snapshot.
    pub fn snapshot(&self) -> Vec<(PathBuf, String)> {
        self.files.iter().map(|f| (f.path.clone(), f.text.clone())).collect()
    }

    fn load_module(
        &mut self,
        dir: &Path,
        path: ModulePath,
        diags: &mut Diagnostics,
        snapshot: Option<&BTreeMap<PathBuf, Vec<(PathBuf, String)>>>,
    ) {
        let files = match snapshot {
            Some(s) => Ok(s.get(&normalize(dir)).cloned().unwrap_or_default()),
            None => read_module_files(dir),
        };
        let files = match files {
            Ok(f) => f,
            Err(e) => {
                diags.push(
                    Diagnostic::error("Failed to read module directory").with_detail(format!("{}: {e}", dir.display())),
                );
                return;
            }
        };
        if files.is_empty() && path.is_root() {
            diags.push(Diagnostic::error("No configuration files").with_detail(format!(
                "{} holds no *.toml or *.tf.json files. Run ecspoc in a module folder, or use -chdir=DIR or -e NAME.",
                dir.display()
            )));
            return;
        }
        let mut module = Module { dir: dir.to_path_buf(), ..Module::default() };
        for (file_path, text) in files {
            // A module called more than once is one set of files: kept once,
            // so a saved plan's snapshot holds each path once.
            let file = match self.files.iter().find(|f| normalize(&f.path) == normalize(&file_path)) {
                Some(f) => f.clone(),
                None => {
                    let f = Arc::new(SourceFile { path: file_path, text });
                    self.files.push(f.clone());
                    f
                }
            };
            match raw::parse_file(&file) {
                Ok(root) => module.add_file(&root, diags),
                Err(d) => diags.extend(d),
            }
        }
        if let Some(m) = module.moved.first().filter(|_| !path.is_root()) {
            diags.push(
                Diagnostic::error("Unsupported moved block")
                    .with_detail("ecspoc reads moved blocks in the root module only; write this move there, with the module's address in front.")
                    .with_span(&m.span),
            );
        }
        let calls: Vec<_> = module.calls.values().cloned().collect();
        self.modules.insert(path.clone(), module);
        for call in calls {
            if !(call.source.starts_with("./") || call.source.starts_with("../")) {
                diags.push(
                    Diagnostic::error("Unsupported module source")
                        .with_detail(format!("Module {:?} has source {:?}; ecspoc loads local modules, whose source starts with ./ or ../.", call.name, call.source))
                        .with_span(&call.span),
                );
                continue;
            }
            if path.0.len() >= MAX_MODULE_DEPTH {
                diags.push(
                    Diagnostic::error("Module nesting too deep")
                        .with_detail("A module calls itself, directly or through others.")
                        .with_span(&call.span),
                );
                continue;
            }
            let child_dir = normalize(&dir.join(&call.source));
            if snapshot.is_none() && !child_dir.is_dir() {
                diags.push(
                    Diagnostic::error("Module not found")
                        .with_detail(format!(
                            "The module {:?} points at {}, which is not a folder.",
                            call.name,
                            child_dir.display()
                        ))
                        .with_span(&call.span),
                );
                continue;
            }
            self.load_module(&child_dir, path.child(&call.name), diags, snapshot);
        }
    }
}

/// Resolve `..` and `.` lexically, so module paths print and compare cleanly.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                // Pop a normal component; keep leading `..`s.
                if out.file_name().is_some() {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// `*.toml` and `*.tf.json` hold configuration; variable files
/// (`*.tfvars.toml`, `*.tfvars.json`) and hidden files do not.
pub fn is_config_file_name(name: &str) -> bool {
    !name.starts_with('.') && !name.contains(".tfvars") && (name.ends_with(".toml") || name.ends_with(".tf.json"))
}

fn read_module_files(dir: &Path) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            p.is_file() && (name.ends_with(".toml") || name.ends_with(".tf.json")) && !name.starts_with('.')
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)?;
            Ok((normalize(&p), text))
        })
        .collect()
}

/// A value given from outside the files (`-var`), as an expression.
pub fn cli_expr(value: &str) -> Expr {
    Expr::Literal(crate::value::Value::String(value.to_string()), Span::default())
}
