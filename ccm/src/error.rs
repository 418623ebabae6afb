//! The crate's one error type.

/// Why a received message could not be decoded into a [`crate::Message`],
/// or why the view socket ([`crate::client`]) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("not a ccm message (t={0:?})")]
    NotCcm(Option<String>),
    #[error("ccm message t={kind}: field {field} missing")]
    MissingField { kind: &'static str, field: &'static str },
    #[error("ccm message t={kind}: field {field}={value:?} is not a valid value")]
    BadField { kind: &'static str, field: &'static str, value: String },
    /// The view socket could not be reached or read (`what` says which
    /// step, `message` is the I/O error's text).
    #[error("{what}: {message}")]
    Io { what: String, message: String },
    /// The view socket sent a line that is not the protocol's.
    #[error("ccm view socket: bad line {line:?}: {why}")]
    BadLine { line: String, why: &'static str },
}

impl Error {
    pub(crate) fn io(what: impl Into<String>, e: std::io::Error) -> Error {
        Error::Io { what: what.into(), message: e.to_string() }
    }
}
