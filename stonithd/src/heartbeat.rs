//! stonithd's heartbeat I/O in one place: sign on as client `stonithd`,
//! push incoming `t=stonithd` messages into the daemon's channel, send to
//! one node or to all.

use std::path::Path;
use std::time::Duration;

use anyhow::bail;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use transport::api;
use transport::wire::{Message, Value};

use crate::protocol::Peer;

/// Sends cluster messages (through a writer task).
#[derive(Clone)]
pub struct Link(mpsc::UnboundedSender<Message>);

impl Link {
    fn send(&self, dest: Option<&str>, msg: &Peer) -> bool {
        let mut m = Message::new().with_str("t", "send");
        if let Some(d) = dest {
            m.push("dest", Value::Str(d.to_string()));
        }
        m.push("msg", Value::Struct(msg.to_message()));
        self.0.send(m).is_ok()
    }

    /// To `node`'s stonithd.
    pub fn send_to(&self, node: &str, msg: &Peer) -> bool {
        self.send(Some(node), msg)
    }

    /// To every node's stonithd.
    pub fn broadcast(&self, msg: &Peer) -> bool {
        self.send(None, msg)
    }
}

/// What comes from heartbeat.
pub enum Incoming {
    Peer {
        from: String,
        msg: Peer,
    },
    /// The connection is gone (heartbeat stopped: the daemon exits and is
    /// respawned).
    Closed(String),
}

/// Connects (retrying for `patience` while heartbeat starts), signs on,
/// and spawns the reader and writer tasks.
pub async fn connect(
    socket: &Path,
    patience: Duration,
    tx: mpsc::UnboundedSender<Incoming>,
) -> anyhow::Result<Link> {
    let deadline = tokio::time::Instant::now() + patience;
    let stream = loop {
        match UnixStream::connect(socket).await {
            Ok(s) => break s,
            Err(e) if tokio::time::Instant::now() >= deadline => {
                bail!("cannot reach heartbeat at {}: {e}", socket.display())
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let (mut r, mut w) = stream.into_split();
    w.write_all(&api::frame(
        &Message::new()
            .with_str("t", "signon")
            .with_str("client", "stonithd"),
    )?)
    .await?;
    loop {
        let Some(m) = api::read_frame(&mut r).await? else {
            bail!("heartbeat closed the connection at sign-on")
        };
        match m.get_str("t") {
            Some("ok") => break,
            Some("error") => bail!(
                "heartbeat refused sign-on: {}",
                m.get_str("reason").unwrap_or("?")
            ),
            _ => {}
        }
    }
    tokio::spawn(async move {
        loop {
            match api::read_frame(&mut r).await {
                Ok(Some(m)) => {
                    if m.get_str("t") != Some("msg") {
                        continue;
                    }
                    let Some(Value::Struct(inner)) = m.get("msg") else {
                        continue;
                    };
                    if let Some(msg) = Peer::from_message(inner) {
                        let from = inner.get_str("src").unwrap_or_default().to_string();
                        if tx.send(Incoming::Peer { from, msg }).is_err() {
                            return;
                        }
                    }
                }
                Ok(None) => {
                    let _ = tx.send(Incoming::Closed("closed".into()));
                    return;
                }
                Err(e) => {
                    let _ = tx.send(Incoming::Closed(e.to_string()));
                    return;
                }
            }
        }
    });
    let (out, mut rx) = mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            match api::frame(&m) {
                Ok(bytes) => {
                    if w.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                Err(e) => tracing::error!("stonithd: cannot send a message to heartbeat: {e}"),
            }
        }
    });
    Ok(Link(out))
}
