//! The local client API: a Unix stream socket `$HA_RUNDIR/heartbeat.sock`.
//!
//! Framing: every frame is a 4-byte big-endian length, then that many
//! bytes of one [`Message`] in the netstring encoding (unsigned; the
//! socket's peer credentials authenticate). Frames are at most
//! [`MAX_FRAME`] bytes.
//!
//! A client's first request must be `t=signon client=<name>`; the daemon
//! checks the peer's uid/gid against ha.cf's `apiauth <name> uid=.. gid=..`
//! line, or, for a name without one, lets in root and the daemon's own
//! user. Then requests, each answered by one frame `t=ok ...` or
//! `t=error reason=...`, in order:
//!
//! | request | fields | reply fields |
//! | --- | --- | --- |
//! | `signon` | `client` | `node` (this node), `deadtime`, `keepalive` (ms) |
//! | `nodelist` | | `nodes` (space-separated, ha.cf order) |
//! | `nodestatus` | `node` | `status` (`active`, `up`, `init`, `dead`; `ping` for answering ping nodes) |
//! | `nodetype` | `node` | `type` (`normal`, or `ping` for ping / ping_group nodes) |
//! | `links` | `node` | `links` (space-separated link names) |
//! | `linkstatus` | `node`, `link` | `status` (`up`, `dead`) |
//! | `clientstatus` | `node`, `client`, `timeout` (ms) | `status` (`online`, `offline`) |
//! | `send` | `dest` (optional), `msg` (nested message) | |
//! | `counters` | | one decimal field per counter |
//!
//! Between replies the daemon pushes, to every signed-on client:
//! `t=msg (2)msg=<cluster message>` for each message delivered to this
//! node (in order per sender), `t=nodestatus node status`, and
//! `t=linkstatus node link status`. [`Client`] keeps them aside while it
//! waits for a reply.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::wire::{self, Message, Value};

/// Largest frame accepted either way.
pub const MAX_FRAME: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("bad frame: {0}")]
    Frame(String),
    #[error("{0}")]
    Refused(String),
}

/// Encodes one frame.
pub fn frame(m: &Message) -> Result<Vec<u8>, ApiError> {
    let body = m.to_netstring().map_err(|e| ApiError::Frame(e.to_string()))?;
    if body.len() > MAX_FRAME {
        return Err(ApiError::Frame(format!("{} bytes is over the limit", body.len())));
    }
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes a frame body.
pub fn unframe(body: &[u8]) -> Result<Message, ApiError> {
    wire::decode(body).map(|p| p.message).map_err(|e| ApiError::Frame(e.to_string()))
}

/// Reads one frame from an async stream; `None` at a clean end.
pub async fn read_frame<R: tokio::io::AsyncRead + Unpin>(r: &mut R) -> Result<Option<Message>, ApiError> {
    use tokio::io::AsyncReadExt;
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(ApiError::Frame(format!("{len} bytes is over the limit")));
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).await?;
    unframe(&body).map(Some)
}

pub fn ok() -> Message {
    Message::new().with_str("t", "ok")
}

pub fn error(reason: &str) -> Message {
    Message::new().with_str("t", "error").with_str("reason", reason)
}

/// A synchronous client, for tools (cl_status) and tests.
#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
    /// Pushed frames (messages, events) read while waiting for a reply.
    pushed: VecDeque<Message>,
    /// This node's name, from the signon reply.
    pub node: String,
    pub deadtime_ms: u64,
    pub keepalive_ms: u64,
}

impl Client {
    /// Connects and signs on as `client`.
    pub fn signon(socket: &Path, client: &str, timeout: Duration) -> Result<Client, ApiError> {
        let stream = UnixStream::connect(socket)?;
        stream.set_read_timeout(Some(timeout))?;
        let mut c = Client { stream, pushed: VecDeque::new(), node: String::new(), deadtime_ms: 0, keepalive_ms: 0 };
        let r = c.request(Message::new().with_str("t", "signon").with_str("client", client))?;
        c.node = r.get_str("node").unwrap_or_default().to_string();
        c.deadtime_ms = r.get_str("deadtime").and_then(|s| s.parse().ok()).unwrap_or(0);
        c.keepalive_ms = r.get_str("keepalive").and_then(|s| s.parse().ok()).unwrap_or(0);
        Ok(c)
    }

    fn read(&mut self) -> Result<Message, ApiError> {
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len)?;
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_FRAME {
            return Err(ApiError::Frame(format!("{len} bytes is over the limit")));
        }
        let mut body = vec![0; len];
        self.stream.read_exact(&mut body)?;
        unframe(&body)
    }

    /// Sends a request and waits for its reply; `t=error` becomes
    /// [`ApiError::Refused`].
    pub fn request(&mut self, m: Message) -> Result<Message, ApiError> {
        self.stream.write_all(&frame(&m)?)?;
        loop {
            let r = self.read()?;
            match r.get_str("t") {
                Some("ok") => return Ok(r),
                Some("error") => return Err(ApiError::Refused(r.get_str("reason").unwrap_or("refused").to_string())),
                _ => self.pushed.push_back(r),
            }
        }
    }

    fn query(&mut self, t: &str, fields: &[(&str, &str)], want: &str) -> Result<String, ApiError> {
        let mut m = Message::new().with_str("t", t);
        for (k, v) in fields {
            m.push(k, Value::Str(v.to_string()));
        }
        let r = self.request(m)?;
        r.get_str(want).map(str::to_string).ok_or_else(|| ApiError::Frame(format!("reply has no {want}")))
    }

    pub fn nodes(&mut self) -> Result<Vec<String>, ApiError> {
        Ok(self.query("nodelist", &[], "nodes")?.split_whitespace().map(str::to_string).collect())
    }

    pub fn node_status(&mut self, node: &str) -> Result<String, ApiError> {
        self.query("nodestatus", &[("node", node)], "status")
    }

    pub fn node_type(&mut self, node: &str) -> Result<String, ApiError> {
        self.query("nodetype", &[("node", node)], "type")
    }

    pub fn links(&mut self, node: &str) -> Result<Vec<String>, ApiError> {
        Ok(self.query("links", &[("node", node)], "links")?.split_whitespace().map(str::to_string).collect())
    }

    pub fn link_status(&mut self, node: &str, link: &str) -> Result<String, ApiError> {
        self.query("linkstatus", &[("node", node), ("link", link)], "status")
    }

    pub fn client_status(&mut self, node: &str, client: &str, timeout_ms: u64) -> Result<String, ApiError> {
        self.query("clientstatus", &[("node", node), ("client", client), ("timeout", &timeout_ms.to_string())], "status")
    }

    /// Counters by name (received, malformed, rejected, replayed, ...).
    pub fn counters(&mut self) -> Result<Vec<(String, u64)>, ApiError> {
        let r = self.request(Message::new().with_str("t", "counters"))?;
        Ok(r.fields
            .iter()
            .filter_map(|f| match &f.value {
                Value::Str(s) if f.name != "t" => s.parse().ok().map(|n| (f.name.clone(), n)),
                _ => None,
            })
            .collect())
    }

    /// Sends `msg` to `dest` or, with `None`, to every node.
    pub fn send(&mut self, dest: Option<&str>, msg: Message) -> Result<(), ApiError> {
        let mut m = Message::new().with_str("t", "send");
        if let Some(d) = dest {
            m.push("dest", Value::Str(d.into()));
        }
        m.push("msg", Value::Struct(msg));
        self.request(m).map(|_| ())
    }

    /// The next cluster message (events skipped), waiting at most
    /// `timeout` overall; `None` when none came.
    pub fn next_message(&mut self, timeout: Duration) -> Result<Option<Message>, ApiError> {
        let deadline = std::time::Instant::now() + timeout;
        let saved = self.stream.read_timeout()?;
        let result = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() && self.pushed.is_empty() {
                break Ok(None);
            }
            if self.pushed.is_empty() {
                self.stream.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
            }
            match self.next_event() {
                Ok(m) => {
                    if m.get_str("t") == Some("msg") {
                        if let Some(Value::Struct(inner)) = m.get("msg") {
                            break Ok(Some(inner.clone()));
                        }
                    }
                }
                Err(ApiError::Io(e)) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    break Ok(None)
                }
                Err(e) => break Err(e),
            }
        };
        self.stream.set_read_timeout(saved)?;
        result
    }

    /// The next pushed frame (message or event), waiting up to the
    /// socket's read timeout.
    pub fn next_event(&mut self) -> Result<Message, ApiError> {
        match self.pushed.pop_front() {
            Some(m) => Ok(m),
            None => self.read(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let inner = Message::new().with_str("t", "app").with("data", Value::Binary(vec![0, 1, 2]));
        let m = Message::new().with_str("t", "send").with("msg", Value::Struct(inner));
        let f = frame(&m).unwrap();
        assert_eq!(u32::from_be_bytes(f[..4].try_into().unwrap()) as usize, f.len() - 4);
        assert_eq!(unframe(&f[4..]).unwrap(), m);
        assert!(unframe(b"garbage").is_err());
    }
}
