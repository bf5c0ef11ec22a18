//! One function per command: parse nothing, decide nothing about formats;
//! call the engine and hand results to a renderer.

pub mod comment;
pub mod init;
pub mod misc;
pub mod plan_apply;
pub mod show;
pub mod state;
