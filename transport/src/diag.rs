//! Diagnostics about configuration files, as data: the parsers never log
//! and never stop at the first problem; they return every finding with its
//! file, line and severity, and the caller decides what to print and
//! whether to start. Heartbeat logged these and refused to start on any
//! error; [`has_errors`] is that decision.

use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth saying; the file is still used as written.
    Warning,
    /// The file cannot be used: Heartbeat would not start.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the caller named it (e.g. `/etc/ha.d/ha.cf`).
    pub file: String,
    /// 1-based line; 0 for findings about the whole file (a missing
    /// directive, a check across directives).
    pub line: usize,
    pub severity: Severity,
    pub message: String,
}

impl Diagnostic {
    pub fn error(file: &str, line: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic { file: file.to_string(), line, severity: Severity::Error, message: message.into() }
    }

    pub fn warning(file: &str, line: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic { file: file.to_string(), line, severity: Severity::Warning, message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line: severity: message`, or `file: severity: message` for
    /// whole-file findings, the shape compilers use so editors can jump.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}: {}", self.file, self.severity, self.message)
        } else {
            write!(f, "{}:{}: {}: {}", self.file, self.line, self.severity, self.message)
        }
    }
}

/// True when any finding is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(|d| d.severity == Severity::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_and_line() {
        assert_eq!(Diagnostic::error("ha.cf", 3, "bad").to_string(), "ha.cf:3: error: bad");
        assert_eq!(Diagnostic::warning("ha.cf", 0, "meh").to_string(), "ha.cf: warning: meh");
        assert!(has_errors(&[Diagnostic::warning("a", 1, "x"), Diagnostic::error("a", 2, "y")]));
        assert!(!has_errors(&[Diagnostic::warning("a", 1, "x")]));
    }
}
