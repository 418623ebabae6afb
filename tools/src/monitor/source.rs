//! Where crm_mon's CIB comes from: a file (`CIB_file`, `CIB_shadow`),
//! re-read for every frame, or the node's cib daemon (live), queried for
//! every frame over `$HA_RUNDIR/cib.sock` ([`crate::cib_live`]).
//!
//! ```text
//!  Source::File(path)   --read--------------------------> Snapshot
//!  Source::Live(socket) --query (cib_live)--------------> Snapshot
//!                       --notify subscription-----------> Watch::wait: a change or the interval
//! ```
//!
//! A live cluster that cannot be reached is not the same failure as an
//! unreadable file: Pacemaker's crm_mon reports the first as "Connection
//! to cluster failed" (exit 102, `CLUSTER CRIT` with `-s`) and the second
//! as "Could not connect to the CIB" (exit 0), and so do we.

use std::path::PathBuf;
use std::time::Duration;

use cib::env::{CibSource, EnvError};

use super::snapshot::LoadError;
use super::Snapshot;
use crate::cib_live::{Answer, Call, LiveCib, LiveError, Op, DEFAULT_TIMEOUT};
use crate::cibadmin::ops::{Command, Request};

/// The CIB crm_mon looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Offline: this file.
    File(PathBuf),
    /// Live: the local cib daemon at this socket.
    Live(PathBuf),
}

/// Why no snapshot could be taken.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be read, parsed or understood (Pacemaker: "Could
    /// not connect to the CIB: No such device or address", exit 0).
    #[error("{0}")]
    File(#[from] LoadError),
    /// The cluster is not reachable: no daemon listening, the connection
    /// broke, or it did not answer (Pacemaker: "Connection to cluster
    /// failed: ...", exit 102).
    #[error("{0}")]
    Cluster(String),
    /// The environment names no usable CIB (an `HA_*` variable is wrong).
    #[error("{0}")]
    Env(#[from] EnvError),
}

impl Source {
    /// From the environment contract: `CIB_shadow` / `CIB_file`, else live.
    pub fn from_env(source: CibSource) -> Source {
        match source {
            CibSource::File(p) => Source::File(p),
            CibSource::Live { socket } => Source::Live(socket),
        }
    }

    pub fn is_live(&self) -> bool {
        matches!(self, Source::Live(_))
    }

    /// One look at the cluster at `now`.
    pub fn snapshot(&self, now: i64) -> Result<Snapshot, SourceError> {
        match self {
            Source::File(p) => Ok(Snapshot::load(&p.to_string_lossy(), now)?),
            Source::Live(socket) => {
                let root = query(socket)?;
                let mut snap = Snapshot::from_root(&socket.to_string_lossy(), root, now)?;
                snap.live = true;
                Ok(snap)
            }
        }
    }

    /// Starts watching for changes (live only; a file is simply re-read
    /// every interval).
    pub fn watch(&self, interval: Duration) -> Option<Watch> {
        match self {
            Source::File(_) => None,
            Source::Live(socket) => Watch::subscribe(socket, interval).ok(),
        }
    }
}

/// Pacemaker's wording for a refused or missing connection: the daemon is
/// not there. Any other I/O error is shown as the system describes it.
fn cluster_error(e: LiveError) -> SourceError {
    let why = match e {
        LiveError::NotConnected(io) if matches!(io.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) => {
            "Connection refused".to_string()
        }
        LiveError::NotConnected(io) => io.to_string(),
        LiveError::Timeout => "Timer expired".to_string(),
        LiveError::Protocol(p) => format!("Protocol error: {p}"),
    };
    SourceError::Cluster(why)
}

fn query(socket: &std::path::Path) -> Result<cib::Element, SourceError> {
    let call = Call {
        op: Op::Cib(Command::Query),
        request: Request { command: Some(Command::Query), ..Request::default() },
        client: "crm_mon".into(),
        user: String::new(),
    };
    let answer = LiveCib::connect(socket, DEFAULT_TIMEOUT).and_then(|mut c| c.call(&call)).map_err(cluster_error)?;
    match answer {
        Answer::Ok(Some(root)) => Ok(root),
        Answer::Ok(None) => Err(SourceError::Cluster("No such device or address".into())),
        Answer::Failed(f) => Err(SourceError::Cluster(f.error.to_string())),
        Answer::Unavailable(why) => Err(SourceError::Cluster(why)),
    }
}

/// A connection subscribed to the daemon's change notifications, so the
/// console redraws as soon as the CIB changes instead of up to one
/// interval later.
pub struct Watch {
    conn: LiveCib,
}

impl Watch {
    fn subscribe(socket: &std::path::Path, interval: Duration) -> Result<Watch, LiveError> {
        // The read timeout is the refresh interval: waiting for a change
        // ends with a redraw either way.
        let mut conn = LiveCib::connect(socket, interval)?;
        let call = Call { op: Op::Notify, request: Request::default(), client: "crm_mon".into(), user: String::new() };
        match conn.call(&call)? {
            Answer::Ok(_) => Ok(Watch { conn }),
            other => Err(LiveError::Protocol(format!("notify refused: {other:?}"))),
        }
    }

    /// Waits for the next change or the interval, whichever comes first.
    /// `false` when the connection is gone (the caller re-subscribes
    /// later).
    pub fn wait(&mut self) -> bool {
        match self.conn.next_notification() {
            Ok(_) | Err(LiveError::Timeout) => true,
            Err(_) => false,
        }
    }
}
