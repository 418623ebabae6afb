//! The async client the controller uses: one call sends the CIB and waits
//! for the graph.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cib::Element;
use tengine::TransitionGraph;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tools::cib_live;

use crate::error::Error;
use crate::protocol::{Reply, Request};

/// What the daemon computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Computed {
    pub graph: TransitionGraph,
    /// The daemon's transition counter (also in `graph.attrs`).
    pub transition_id: u64,
    /// The saved input (`.../pe-input-N.bz2`); with a series max of 0 the
    /// name it would have had.
    pub input: PathBuf,
    /// Whether `input` was written.
    pub saved: bool,
}

/// Sends `cib` (the whole document, `<cib>`) to the daemon at `socket`
/// and waits at most `timeout` for the transition graph.
pub async fn compute(socket: &Path, cib: &Element, timeout: Duration) -> Result<Computed, Error> {
    match tokio::time::timeout(timeout, exchange(socket, cib)).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout(timeout)),
    }
}

async fn exchange(socket: &Path, cib: &Element) -> Result<Computed, Error> {
    let not_connected = |source| Error::NotConnected { socket: socket.display().to_string(), source };
    let mut stream = UnixStream::connect(socket).await.map_err(not_connected)?;
    let req = Request { call_id: 1, cib: cib.clone() };
    stream.write_all(&cib_live::frame(&req.to_xml())).await.map_err(not_connected)?;
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).await.map_err(not_connected)?;
    let len = cib_live::frame_len(header).map_err(Error::Protocol)?;
    let mut body = vec![0; len];
    stream.read_exact(&mut body).await.map_err(not_connected)?;
    let e = cib_live::unframe(&body).map_err(Error::Protocol)?;
    let (call_id, reply) = Reply::from_xml(&e).map_err(Error::Protocol)?;
    if call_id != req.call_id {
        return Err(Error::Protocol(format!("answer to call {call_id}, expected {}", req.call_id)));
    }
    match reply {
        Reply::Failed(why) => Err(Error::Failed(why)),
        Reply::Done(d) => {
            let graph = TransitionGraph::from_element(&d.graph).map_err(|e| Error::Protocol(format!("unreadable graph: {e}")))?;
            Ok(Computed { graph, transition_id: d.transition_id, input: d.input, saved: d.saved })
        }
    }
}
