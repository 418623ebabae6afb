//! The crate's one error type.

/// Why a received message could not be decoded into a [`crate::Message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("not a ccm message (t={0:?})")]
    NotCcm(Option<String>),
    #[error("ccm message t={kind}: field {field} missing")]
    MissingField { kind: &'static str, field: &'static str },
    #[error("ccm message t={kind}: field {field}={value:?} is not a valid value")]
    BadField { kind: &'static str, field: &'static str, value: String },
}
