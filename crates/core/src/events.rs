//! What the engine reports while it works. The CLI turns these into
//! Terraform's progress lines or its `-json` UI stream; the core prints nothing.

use crate::addr::InstanceAddr;
use crate::plan::Action;
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Event {
    RefreshStart { addr: InstanceAddr, id: Option<String> },
    RefreshComplete { addr: InstanceAddr, id: Option<String> },
    ApplyStart { addr: InstanceAddr, action: Action },
    ApplyProgress { addr: InstanceAddr, action: Action, elapsed: Duration },
    ApplyComplete { addr: InstanceAddr, action: Action, id: Option<String>, elapsed: Duration },
    ApplyErrored { addr: InstanceAddr, action: Action, elapsed: Duration },
}

pub trait Observer: Send + Sync {
    fn on(&self, event: Event);
}

/// Reports nowhere (tests, benchmarks).
pub struct Silent;

impl Observer for Silent {
    fn on(&self, _: Event) {}
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// With microseconds, as Terraform's machine-readable UI writes `@timestamp`.
pub fn now_rfc3339_micros() -> String {
    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()
}
