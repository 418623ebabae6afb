//! An async client of heartbeat's client API (`$HA_RUNDIR/heartbeat.sock`,
//! transport/src/api.rs: length-prefixed netstring frames).
//!
//! The sign-on is blocking ([`signon`]) so the binary can do it before it
//! daemonizes, with errors on the terminal; [`Heartbeat`] then takes the
//! stream over inside the tokio runtime. Replies (`t=ok`/`t=error`) and
//! pushed frames (`t=msg`, `t=nodestatus`, `t=linkstatus`) share the
//! stream: [`Heartbeat::request`] waits for a reply and keeps pushed frames
//! aside, so it is only used at start, before any [`Heartbeat::post`]
//! whose reply it could take for its own.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::mpsc;
use crate::api::{self, ApiError};
use crate::wire::{Message, Value};

/// What heartbeat said at sign-on.
#[derive(Debug, Clone)]
pub struct Signon {
    /// This node's name, as heartbeat knows it.
    pub node: String,
    pub keepalive_ms: u64,
    pub deadtime_ms: u64,
}

/// Connects to `socket` and signs on as `client`, retrying the connection
/// until `wait` has passed (heartbeat may still be starting).
pub fn signon(socket: &Path, client: &str, wait: Duration) -> Result<(std::os::unix::net::UnixStream, Signon), ApiError> {
    let start = std::time::Instant::now();
    let mut stream = loop {
        match std::os::unix::net::UnixStream::connect(socket) {
            Ok(s) => break s,
            Err(e) if start.elapsed() >= wait => return Err(e.into()),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(&api::frame(&Message::new().with_str("t", "signon").with_str("client", client))?)?;
    // Nothing is pushed to a client before it is signed on, so the first
    // frame is the reply.
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > api::MAX_FRAME {
        return Err(ApiError::Frame(format!("{len} bytes is over the limit")));
    }
    let mut body = vec![0; len];
    stream.read_exact(&mut body)?;
    let r = api::unframe(&body)?;
    if r.get_str("t") != Some("ok") {
        return Err(ApiError::Refused(r.get_str("reason").unwrap_or("sign-on refused").to_string()));
    }
    stream.set_read_timeout(None)?;
    let num = |k: &str| r.get_str(k).and_then(|s| s.parse().ok()).unwrap_or(0);
    let info = Signon { node: r.get_str("node").unwrap_or_default().to_string(), keepalive_ms: num("keepalive"), deadtime_ms: num("deadtime") };
    Ok((stream, info))
}

/// The signed-on connection, inside the runtime.
#[derive(Debug)]
pub struct Heartbeat {
    writer: OwnedWriteHalf,
    /// Frames read by the reader task; closed when heartbeat goes away.
    frames: mpsc::Receiver<Result<Message, ApiError>>,
    /// Pushed frames read while [`Heartbeat::request`] waited for a reply.
    stash: VecDeque<Message>,
}

impl Heartbeat {
    /// Takes over a signed-on stream (must be called inside a runtime).
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> std::io::Result<Heartbeat> {
        stream.set_nonblocking(true)?;
        let (mut rd, writer) = tokio::net::UnixStream::from_std(stream)?.into_split();
        let (tx, frames) = mpsc::channel(1024);
        tokio::spawn(async move {
            loop {
                match api::read_frame(&mut rd).await {
                    Ok(Some(m)) => {
                        if tx.send(Ok(m)).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
        });
        Ok(Heartbeat { writer, frames, stash: VecDeque::new() })
    }

    /// Writes a request without waiting for its reply (which comes back
    /// through [`Heartbeat::next_frame`] as `t=ok` or `t=error`).
    pub async fn post(&mut self, m: &Message) -> Result<(), ApiError> {
        self.writer.write_all(&api::frame(m)?).await?;
        Ok(())
    }

    /// Sends a request and waits for its reply; `t=error` is
    /// [`ApiError::Refused`]. Only with no posted request outstanding.
    pub async fn request(&mut self, m: &Message) -> Result<Message, ApiError> {
        self.post(m).await?;
        loop {
            let r = self.frames.recv().await.ok_or_else(gone)??;
            match r.get_str("t") {
                Some("ok") => return Ok(r),
                Some("error") => return Err(ApiError::Refused(r.get_str("reason").unwrap_or("refused").to_string())),
                _ => self.stash.push_back(r),
            }
        }
    }

    /// The next frame from heartbeat; `None` when it closed the connection.
    /// Cancel-safe (usable in `select!`).
    pub async fn next_frame(&mut self) -> Option<Result<Message, ApiError>> {
        if let Some(m) = self.stash.pop_front() {
            return Some(Ok(m));
        }
        self.frames.recv().await
    }

    /// `nodelist`: every node heartbeat knows, in ha.cf order.
    pub async fn nodes(&mut self) -> Result<Vec<String>, ApiError> {
        let r = self.request(&Message::new().with_str("t", "nodelist")).await?;
        Ok(r.get_str("nodes").unwrap_or_default().split_whitespace().map(str::to_string).collect())
    }

    /// `nodestatus`: `active`, `up`, `init`, `dead` (`ping` for ping nodes).
    pub async fn node_status(&mut self, node: &str) -> Result<String, ApiError> {
        let r = self.request(&Message::new().with_str("t", "nodestatus").with_str("node", node)).await?;
        r.get_str("status").map(str::to_string).ok_or_else(|| ApiError::Frame("nodestatus reply has no status".into()))
    }

    /// Sends `msg` through heartbeat to `dest`, or to every node.
    pub async fn send(&mut self, dest: Option<&str>, msg: Message) -> Result<(), ApiError> {
        let mut m = Message::new().with_str("t", "send");
        if let Some(d) = dest {
            m.push("dest", Value::Str(d.to_string()));
        }
        m.push("msg", Value::Struct(msg));
        self.post(&m).await
    }
}

fn gone() -> ApiError {
    ApiError::Io(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "heartbeat closed the connection"))
}
