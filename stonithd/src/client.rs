//! Clients of the local stonithd: async ([`fence`], [`history`], for crmd)
//! and blocking ([`Client`], for stonith_admin). A fence request is
//! answered twice: `pending` with how long to wait (the daemon adds the
//! delays it will apply), then the outcome.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use tools::cib_live::{frame, frame_len, unframe};

use crate::error::Error;
use crate::protocol::{Event, FenceStatus, OpState, Reply, Request};

/// How long to wait for the daemon's first answer.
pub const ANSWER_WAIT: Duration = Duration::from_secs(30);
/// Added to the announced wait (messages, process exit).
pub const MARGIN: Duration = Duration::from_secs(5);

/// How a fencing request ended (agent failures are data, not errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FenceOutcome {
    /// The history record: state, status, delegate, reason, completion.
    pub event: Event,
}

impl FenceOutcome {
    pub fn succeeded(&self) -> bool {
        self.event.state == OpState::Done
    }

    pub fn status(&self) -> FenceStatus {
        self.event.status
    }

    /// The node that ran the device.
    pub fn delegate(&self) -> Option<&str> {
        self.event.delegate.as_deref()
    }

    pub fn reason(&self) -> Option<&str> {
        self.event.reason.as_deref()
    }
}

/// `NAME.PID`, as Pacemaker names fencing clients in the history.
pub fn client_name(name: &str) -> String {
    format!("{name}.{}", std::process::id())
}

fn decode(body: &[u8]) -> Result<Reply, Error> {
    let e = unframe(body).map_err(Error::Protocol)?;
    Reply::from_xml(&e).map_err(Error::Protocol)
}

fn io_err(e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Error::Timeout,
        _ => Error::NotConnected(e),
    }
}

fn refused(r: Reply) -> Error {
    match r {
        Reply::Error { status, reason } => Error::Refused { status, reason },
        other => Error::Protocol(format!("unexpected reply {other:?}")),
    }
}

/// A blocking connection.
pub struct Client {
    stream: UnixStream,
}

impl Client {
    pub fn connect(socket: &Path) -> Result<Client, Error> {
        Ok(Client {
            stream: UnixStream::connect(socket).map_err(Error::NotConnected)?,
        })
    }

    fn read(&mut self, wait: Duration) -> Result<Reply, Error> {
        self.stream
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .map_err(Error::NotConnected)?;
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header).map_err(io_err)?;
        let mut body = vec![0; frame_len(header).map_err(Error::Protocol)?];
        self.stream.read_exact(&mut body).map_err(io_err)?;
        decode(&body)
    }

    /// Sends one request and returns its final reply (after `pending`).
    pub fn request(&mut self, req: &Request) -> Result<Reply, Error> {
        self.stream
            .write_all(&frame(&req.to_xml()))
            .map_err(Error::NotConnected)?;
        let wait = match req {
            Request::Devices { timeout_ms, .. } | Request::Monitor { timeout_ms, .. } => {
                Duration::from_millis(*timeout_ms) + MARGIN
            }
            _ => ANSWER_WAIT,
        };
        match self.read(wait)? {
            Reply::Pending { wait_ms } => self.read(Duration::from_millis(wait_ms) + MARGIN),
            r => Ok(r),
        }
    }

    pub fn fence(
        &mut self,
        target: &str,
        action: &str,
        timeout: Duration,
        delay_ms: Option<i64>,
        client: &str,
    ) -> Result<FenceOutcome, Error> {
        let req = Request::Fence {
            target: target.into(),
            action: action.into(),
            timeout_ms: timeout.as_millis() as u64,
            delay_ms,
            client: client.into(),
        };
        match self.request(&req)? {
            Reply::Fenced(event) => Ok(FenceOutcome { event }),
            r => Err(refused(r)),
        }
    }

    pub fn history(&mut self, target: Option<&str>) -> Result<Vec<Event>, Error> {
        match self.request(&Request::History {
            target: target.map(str::to_string),
        })? {
            Reply::History(v) => Ok(v),
            r => Err(refused(r)),
        }
    }

    /// Registered devices; with a target, those that can fence it.
    pub fn devices(
        &mut self,
        target: Option<&str>,
        timeout: Duration,
    ) -> Result<Vec<String>, Error> {
        match self.request(&Request::Devices {
            target: target.map(str::to_string),
            timeout_ms: timeout.as_millis() as u64,
        })? {
            Reply::Devices(v) => Ok(v),
            r => Err(refused(r)),
        }
    }

    /// Runs the device's monitor here.
    pub fn monitor(&mut self, device: &str, timeout: Duration) -> Result<(), Error> {
        match self.request(&Request::Monitor {
            device: device.into(),
            timeout_ms: timeout.as_millis() as u64,
        })? {
            Reply::MonitorOk => Ok(()),
            r => Err(refused(r)),
        }
    }
}

async fn read_async(stream: &mut tokio::net::UnixStream, wait: Duration) -> Result<Reply, Error> {
    use tokio::io::AsyncReadExt;
    let read = async {
        let mut header = [0u8; 4];
        stream
            .read_exact(&mut header)
            .await
            .map_err(Error::NotConnected)?;
        let mut body = vec![0; frame_len(header).map_err(Error::Protocol)?];
        stream
            .read_exact(&mut body)
            .await
            .map_err(Error::NotConnected)?;
        decode(&body)
    };
    tokio::time::timeout(wait, read)
        .await
        .unwrap_or(Err(Error::Timeout))
}

async fn request_async(socket: &Path, req: &Request) -> Result<Reply, Error> {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(Error::NotConnected)?;
    stream
        .write_all(&frame(&req.to_xml()))
        .await
        .map_err(Error::NotConnected)?;
    match read_async(&mut stream, ANSWER_WAIT).await? {
        Reply::Pending { wait_ms } => {
            read_async(&mut stream, Duration::from_millis(wait_ms) + MARGIN).await
        }
        r => Ok(r),
    }
}

/// Asks the local stonithd (at `socket`) to fence `target` (`reboot`,
/// `off` or `on`) within `timeout`; the daemon applies
/// priority-fencing-delay and the device delays on top (and says so in
/// its `pending` answer). For crmd.
pub async fn fence(
    socket: &Path,
    target: &str,
    action: &str,
    timeout: Duration,
) -> Result<FenceOutcome, Error> {
    fence_with_delay(socket, target, action, timeout, None).await
}

/// [`fence`] with the requested delay given by the caller (`Some(ms)`:
/// used instead of the priority-fencing-delay the daemon would compute;
/// `Some(-1)` disables device delays too), as Pacemaker's controller
/// passes the delay its scheduler put into the graph. crmd computes it
/// from the very CIB its transition came from, so the daemon's copy,
/// which may not have caught up with the node's departure yet, cannot
/// decide the race.
pub async fn fence_with_delay(
    socket: &Path,
    target: &str,
    action: &str,
    timeout: Duration,
    delay_ms: Option<i64>,
) -> Result<FenceOutcome, Error> {
    let req = Request::Fence {
        target: target.into(),
        action: action.into(),
        timeout_ms: timeout.as_millis() as u64,
        delay_ms,
        client: client_name("crmd"),
    };
    match request_async(socket, &req).await? {
        Reply::Fenced(event) => Ok(FenceOutcome { event }),
        r => Err(refused(r)),
    }
}

/// The fencing history (`None` or `*`: every node), pending first, then
/// newest first.
pub async fn history(socket: &Path, target: Option<&str>) -> Result<Vec<Event>, Error> {
    match request_async(
        socket,
        &Request::History {
            target: target.map(str::to_string),
        },
    )
    .await?
    {
        Reply::History(v) => Ok(v),
        r => Err(refused(r)),
    }
}
