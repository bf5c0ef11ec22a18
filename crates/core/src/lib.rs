//! ecspoc's engine: configuration, expressions, dependency graph, plan, apply
//! and state. It names no provider and does no terminal I/O.

pub mod addr;
pub mod config;
pub mod diag;
pub mod eval;
pub mod source;
pub mod value;
