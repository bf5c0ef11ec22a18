//! Source files and byte spans, so every diagnostic can name file, line and column.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One configuration file as read from disk.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

/// A byte range in one source file. `file` is `None` for values that came from
/// outside any file (command-line variables, defaults made by the engine).
#[derive(Clone, Debug, Default)]
pub struct Span {
    pub file: Option<Arc<SourceFile>>,
    pub start: usize,
    pub end: usize,
}

/// A resolved human position: 1-based line and column plus the text of that line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub line_text: String,
}

impl Span {
    pub fn new(file: &Arc<SourceFile>, start: usize, end: usize) -> Self {
        Span { file: Some(file.clone()), start, end }
    }

    /// A span that points at a whole file (used where the format gives no finer position).
    pub fn file_start(file: &Arc<SourceFile>) -> Self {
        Span::new(file, 0, 0)
    }

    pub fn path(&self) -> Option<&Path> {
        self.file.as_deref().map(|f| f.path.as_path())
    }

    pub fn position(&self) -> Option<Position> {
        let file = self.file.as_ref()?;
        let mut start = self.start.min(file.text.len());
        while !file.text.is_char_boundary(start) {
            start -= 1;
        }
        let before = &file.text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = file.text[line_start..start].chars().count() + 1;
        let line_end = file.text[line_start..].find('\n').map(|i| line_start + i).unwrap_or(file.text.len());
        Some(Position {
            path: file.path.clone(),
            line,
            column,
            line_text: file.text[line_start..line_end].trim_end_matches('\r').to_string(),
        })
    }

    /// `file:line:col`, or an empty string when the span has no file.
    pub fn location(&self) -> String {
        match self.position() {
            Some(p) => format!("{}:{}:{}", p.path.display(), p.line, p.column),
            None => String::new(),
        }
    }
}
