//! What validation found: problems with their place in the document.

use std::fmt;

/// How serious a problem is. Errors make a document invalid; warnings are
/// what `crm_verify` reports without rejecting the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, tied to the element it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// Name of the offending element, e.g. `primitive`.
    pub element: String,
    /// Its `id`, when it has one, so users can find it without a line number.
    pub id: Option<String>,
    /// 1-based source line of the element; 0 when built in code.
    pub line: u32,
    pub message: String,
}

impl Problem {
    pub fn error(el: &cib::Element, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, el, message)
    }

    pub fn warning(el: &cib::Element, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, el, message)
    }

    fn new(severity: Severity, el: &cib::Element, message: impl Into<String>) -> Self {
        Problem {
            severity,
            element: el.name.clone(),
            id: el.id().map(str::to_string),
            line: el.line,
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    /// `line 12: primitive id=rsc1: unknown resource class 'foo'`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        f.write_str(&self.element)?;
        if let Some(id) = &self.id {
            write!(f, " id={id}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Everything validation found in one document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Warning)
    }

    /// Valid means no errors; warnings do not count.
    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }
}
