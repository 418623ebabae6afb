//! The store's error type.

use std::io;
use std::path::{Path, PathBuf};

/// Why the store could not read or write a CIB. Every variant names the
/// file involved; corruption errors also name the newest backup that
/// still verifies, so the message tells the operator what to restore.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A system call failed; `op` says which step ("read", "rename"...).
    #[error("cannot {op} {}: {source}", .path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The file is not well-formed XML (or not UTF-8, or empty).
    #[error("{}:{line}: {message}{}", .path.display(), backup_hint(.newest_good_backup))]
    Parse { path: PathBuf, line: u32, message: String, newest_good_backup: Option<PathBuf> },

    /// The file's content does not match its `.sig`: it was damaged, or
    /// edited while the cluster was running.
    #[error(
        "{} is corrupt: its digest {actual} does not match {expected:?} in {} \
         (to accept a hand edit, stop the cluster and delete {}){}",
        .path.display(), .sig.display(), .sig.display(), backup_hint(.newest_good_backup)
    )]
    DigestMismatch {
        path: PathBuf,
        sig: PathBuf,
        /// What the `.sig` file says.
        expected: String,
        /// What the file's content hashes to.
        actual: String,
        newest_good_backup: Option<PathBuf>,
    },

    /// `update` needs an existing CIB to apply a change to.
    #[error("{} does not exist", .path.display())]
    NotFound { path: PathBuf },

    /// Fault injection for tests: the write stopped here as if the process
    /// had died (nothing after this point ran, no clean-up either).
    #[doc(hidden)]
    #[error("simulated crash at {point:?}")]
    SimulatedCrash { point: super::CrashPoint },
}

fn backup_hint(backup: &Option<PathBuf>) -> String {
    match backup {
        Some(b) => format!("; newest good backup: {}", b.display()),
        None => "; no good backup found".to_string(),
    }
}

impl StoreError {
    pub(crate) fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
        move |source| StoreError::Io { op, path: path.to_path_buf(), source }
    }

    /// The backup named by a corruption error, if any.
    pub fn newest_good_backup(&self) -> Option<&Path> {
        match self {
            StoreError::Parse { newest_good_backup, .. } | StoreError::DigestMismatch { newest_good_backup, .. } => {
                newest_good_backup.as_deref()
            }
            _ => None,
        }
    }
}

/// The outcome of [`super::CibStore::update`] when it does not commit:
/// either the store failed, or the caller's closure refused the change
/// (in which case nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Rejected(E),
}
