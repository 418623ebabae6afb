//! The one error type of the crate's client.

use std::io;

/// Why [`crate::client::compute`] gave no graph.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No daemon listening, or the connection broke.
    #[error("could not reach the policy engine at {socket}: {source}")]
    NotConnected { socket: String, source: io::Error },
    /// No answer within the timeout.
    #[error("the policy engine did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The daemon answered, but could not schedule this CIB (unreadable
    /// CIB, a panic inside the scheduler); the text says why.
    #[error("the policy engine failed: {0}")]
    Failed(String),
    /// Something that is not a frame of this protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
}
