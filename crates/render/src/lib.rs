//! Renderers of the one plan model: Terraform's human plan text, its plan
//! JSON (format 1.2), its machine-readable UI messages, a pull-request
//! comment in markdown, and Graphviz DOT.
//! They return strings; the CLI decides where they go.

pub mod dot;
pub mod human;
pub mod json_plan;
pub mod markdown;
pub mod ui;
mod values;

/// Colour on or off; the renderers emit ANSI only when asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    On,
    Off,
}

impl Color {
    /// `text` in an SGR style (`"1;32"`: bold green) when colours are on.
    pub fn paint(self, code: &str, text: &str) -> String {
        match self {
            Color::On => format!("\x1b[{code}m{text}\x1b[0m"),
            Color::Off => text.to_string(),
        }
    }
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
}
