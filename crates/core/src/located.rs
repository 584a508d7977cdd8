//! An authoring mistake, located by file and line: what packing a course folder (`pack`), reading its
//! `course.toml` and agenda (`course`) and its exercises (`exercise::author`) report to the teacher. A
//! leaf module, so that those three depend on it and not on each other.

use std::fmt;

/// A mistake in a course folder, located by file and, where it helps, line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackError {
    /// Course path of the file at fault.
    pub file: String,
    /// 1-based line, when there is one to point at.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl PackError {
    /// An error about a whole file.
    pub fn new(file: &str, message: impl Into<String>) -> PackError {
        PackError { file: file.to_owned(), line: None, message: message.into() }
    }

    /// An error at byte `offset` of `text`, the content of `file`.
    pub fn at(file: &str, text: &str, offset: usize, message: impl Into<String>) -> PackError {
        let line = text.get(..offset).map_or(1, |before| before.matches('\n').count() + 1);
        PackError { file: file.to_owned(), line: Some(line), message: message.into() }
    }
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for PackError {}

impl PackError {
    /// The mistake a TOML parser found in `file` (its text `text`): at its line, except a missing field,
    /// reported on the whole file (its line would point at the table's end, nowhere useful).
    pub fn from_toml(file: &str, text: &str, error: &toml::de::Error) -> PackError {
        let message = error.message().to_owned();
        match error.span() {
            Some(span) if !message.starts_with("missing field") => PackError::at(file, text, span.start, message),
            _ => PackError::new(file, message),
        }
    }
}
