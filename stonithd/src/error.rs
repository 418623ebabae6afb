//! The client's error type: a call that got no answer. A fencing
//! operation that ran and failed is not an error but a
//! [`crate::client::FenceOutcome`] (agent outcomes are data).

use crate::protocol::FenceStatus;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No stonithd listening, or the connection broke.
    #[error("{0}")]
    NotConnected(#[source] std::io::Error),
    /// No answer within the time the daemon announced (or the timeout).
    #[error("Timer expired")]
    Timeout,
    /// The daemon refused the request or the request failed before any
    /// operation ran (unknown device, no device, bad request).
    #[error("{reason}")]
    Refused { status: FenceStatus, reason: String },
    #[error("protocol error: {0}")]
    Protocol(String),
}
