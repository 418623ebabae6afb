//! The client's error type.

/// Why a call to attrd gave no answer, or a refusal.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No attrd listening, or the connection broke.
    #[error("{0}")]
    NotConnected(#[source] std::io::Error),
    /// No answer within the timeout.
    #[error("Timer expired")]
    Timeout,
    /// The attribute is unknown (queries).
    #[error("attribute does not exist")]
    NoSuch,
    /// attrd refused the request; the text says why.
    #[error("{0}")]
    Refused(String),
    #[error("protocol error: {0}")]
    Protocol(String),
}
