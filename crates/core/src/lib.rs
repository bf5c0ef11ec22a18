//! ecspoc's engine: configuration, expressions, dependency graph, plan, apply
//! and state. It names no provider and does no terminal I/O.

pub mod addr;
pub mod apply;
pub mod backend;
pub mod config;
pub mod diag;
pub mod engine;
pub mod eval;
pub mod events;
pub mod graph;
pub mod plan;
pub mod priority;
pub mod provider;
pub mod sensitivity;
pub mod source;
pub mod state;
pub mod value;
pub mod walk;
