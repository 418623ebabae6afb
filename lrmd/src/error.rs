//! The crate's one error type. Agent outcomes are never errors: a failed
//! start is an `OpResult` with rc 1; these are failures of lrmd itself or
//! of a request to it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LrmdError {
    #[error("unknown resource class {0:?}")]
    UnknownClass(String),
    #[error("resource {0:?} is not registered")]
    NoSuchResource(String),
    #[error("no operation {key:?} to cancel on resource {rsc:?}")]
    NoSuchOperation { rsc: String, key: String },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("cannot connect to lrmd at {path}: {source}")]
    Connect { path: PathBuf, source: std::io::Error },
    #[error("lrmd protocol error: {0}")]
    Protocol(String),
    #[error("lrmd refused the request: {0}")]
    Refused(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("timed out waiting for lrmd")]
    Timeout,
}
