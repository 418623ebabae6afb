//! The policy engine's error type.
//!
//! Unpacking never fails on odd status data (Pacemaker logs and carries
//! on); errors are for inputs the caller hands in, such as a date that is
//! not in any form Pacemaker accepts.

/// Errors of the policy engine.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PengineError {
    /// A date-time in none of the ISO 8601 forms Pacemaker reads.
    #[error("invalid date-time '{text}': {reason}")]
    InvalidDate { text: String, reason: &'static str },
}
