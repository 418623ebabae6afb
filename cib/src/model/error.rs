//! What can stop the model from being built, and what is only worth a
//! warning.
//!
//! The line is drawn where Pacemaker draws it: what its schema or its
//! unpacking refuses outright (no `<cib>` root, an element without the id
//! that names it, an enumerated value it does not know, an `id-ref` or
//! `template` pointing nowhere) is a [`ModelError`]; what it silently
//! coerces (an unreadable interval becomes 0, an unreadable boolean false)
//! is coerced the same way and recorded as a [`ModelWarning`] so that
//! crm_verify can still say so.

use std::fmt;

/// Why a CIB could not be turned into a model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("the root element is <{found}>, not <cib>")]
    NotACib { found: String },

    #[error("line {line}: <{element}> has no {attribute} attribute")]
    MissingAttribute { element: String, attribute: &'static str, line: u32 },

    #[error("line {line}: <{element}{}> {attribute}=\"{value}\" is not {expected}", id_suffix(.id))]
    InvalidValue {
        element: String,
        id: Option<String>,
        attribute: String,
        value: String,
        /// What would have been accepted, for the message.
        expected: &'static str,
        line: u32,
    },

    #[error("line {line}: <{element} id-ref=\"{id_ref}\"> refers to no <{element}>")]
    DanglingIdRef { element: String, id_ref: String, line: u32 },

    #[error("line {line}: <{element} id=\"{id}\"> contains no {child}")]
    MissingChild { element: String, id: String, child: &'static str, line: u32 },

    #[error("line {line}: resource {resource} uses template {template}, which does not exist")]
    UnknownTemplate { resource: String, template: String, line: u32 },
}

fn id_suffix(id: &Option<String>) -> String {
    id.as_ref().map(|id| format!(" id=\"{id}\"")).unwrap_or_default()
}

/// Something Pacemaker would accept while complaining in its logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelWarning {
    /// 1-based line of the element concerned (0 when built in code).
    pub line: u32,
    pub message: String,
}

impl fmt::Display for ModelWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}
