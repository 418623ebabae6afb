//! An async client of the lrmd socket, for daemons (crmd). Same protocol
//! as [`crate::client`]; requests may be made from several tasks at once.
//!
//! ```text
//!  AsyncClient::request --line--> lrmd
//!        ^ oneshot (FIFO: lrmd answers in request order)
//!  reader task <--lines-- lrmd --> replies to the waiting request,
//!                                  events to the Receiver<OpRecord> from connect
//! ```
//!
//! The event receiver yields `None` once lrmd closed the connection: the
//! caller has lost its resource manager (crmd exits and is respawned).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot};

use crate::error::LrmdError;
use crate::op::{OpRecord, OpRequest};
use crate::protocol::{ClientMessage, Reply, Request, ServerMessage, MAX_LINE};
use crate::resource::ResourceSpec;

type Waiter = oneshot::Sender<Result<Reply, String>>;

/// A connection to lrmd; cheap to clone (clones share the connection).
#[derive(Clone)]
pub struct AsyncClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// Writes and the queue of waiters change together under this lock,
    /// so the n-th queued waiter gets the n-th reply.
    writer: tokio::sync::Mutex<(OwnedWriteHalf, u64)>,
    /// Shared with the reader task (which must not hold the writer, so
    /// that dropping the last client closes the connection).
    waiting: Arc<Mutex<VecDeque<(u64, Waiter)>>>,
}

impl std::fmt::Debug for AsyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AsyncClient")
    }
}

/// Connects to lrmd at `path`. Events arrive on the receiver once
/// [`AsyncClient::subscribe`] has been called.
pub async fn connect(path: &Path) -> Result<(AsyncClient, mpsc::UnboundedReceiver<OpRecord>), LrmdError> {
    let stream = UnixStream::connect(path).await.map_err(|source| LrmdError::Connect { path: path.to_path_buf(), source })?;
    let (rd, wr) = stream.into_split();
    let waiting = Arc::new(Mutex::new(VecDeque::new()));
    let inner = Arc::new(Inner { writer: tokio::sync::Mutex::new((wr, 0)), waiting: waiting.clone() });
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(rd);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match lines.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) if buf.len() > MAX_LINE => break,
                Ok(_) => {}
            }
            match serde_json::from_slice::<ServerMessage>(&buf) {
                Ok(ServerMessage::Event(r)) => {
                    // A closed receiver only means nobody listens to events.
                    let _ = tx.send(*r);
                }
                Ok(ServerMessage::Reply { id, result }) => {
                    let w = waiting.lock().expect("lrmd waiters").pop_front();
                    match w {
                        // id 0 answers no request (a refusal of the connection).
                        Some((want, w)) if want == id || id == 0 => {
                            let _ = w.send(result);
                        }
                        Some((want, w)) => {
                            let _ = w.send(Err(format!("reply {id} to request {want}")));
                        }
                        None => break,
                    }
                }
                Err(_) => break,
            }
        }
        // Waiters see their sender dropped: lrmd went away.
        waiting.lock().expect("lrmd waiters").clear();
    });
    Ok((AsyncClient { inner }, rx))
}

impl AsyncClient {
    /// Sends a request and waits for its reply.
    pub async fn request(&self, request: Request) -> Result<Reply, LrmdError> {
        let rx = {
            let mut w = self.inner.writer.lock().await;
            w.1 += 1;
            let id = w.1;
            let mut line = serde_json::to_vec(&ClientMessage { id, request }).map_err(|e| LrmdError::Protocol(e.to_string()))?;
            line.push(b'\n');
            let (tx, rx) = oneshot::channel();
            self.inner.waiting.lock().expect("lrmd waiters").push_back((id, tx));
            w.0.write_all(&line).await?;
            rx
        };
        match rx.await {
            Ok(r) => r.map_err(LrmdError::Refused),
            Err(_) => Err(LrmdError::Protocol("lrmd closed the connection".into())),
        }
    }

    pub async fn register(&self, resource: ResourceSpec) -> Result<(), LrmdError> {
        self.request(Request::Register { resource }).await.map(|_| ())
    }

    pub async fn unregister(&self, rsc: &str) -> Result<(), LrmdError> {
        self.request(Request::Unregister { rsc: rsc.to_string() }).await.map(|_| ())
    }

    /// Queues an operation; returns its call id (the result is an event).
    pub async fn exec(&self, op: OpRequest) -> Result<u32, LrmdError> {
        match self.request(Request::Exec { op }).await? {
            Reply::CallId(id) => Ok(id),
            other => Err(LrmdError::Protocol(format!("unexpected reply {other:?}"))),
        }
    }

    pub async fn cancel(&self, rsc: &str, action: &str, interval_ms: u64) -> Result<(), LrmdError> {
        let r = Request::Cancel { rsc: rsc.to_string(), action: action.to_string(), interval_ms };
        self.request(r).await.map(|_| ())
    }

    pub async fn subscribe(&self) -> Result<(), LrmdError> {
        self.request(Request::Subscribe).await.map(|_| ())
    }

    pub async fn resources(&self) -> Result<Vec<ResourceSpec>, LrmdError> {
        match self.request(Request::Resources).await? {
            Reply::Resources(r) => Ok(r),
            other => Err(LrmdError::Protocol(format!("unexpected reply {other:?}"))),
        }
    }

    /// The latest record per operation key and the recurring operations.
    pub async fn history(&self, rsc: &str) -> Result<(Vec<OpRecord>, Vec<OpRequest>), LrmdError> {
        match self.request(Request::History { rsc: rsc.to_string() }).await? {
            Reply::History { records, recurring } => Ok((records, recurring)),
            other => Err(LrmdError::Protocol(format!("unexpected reply {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake lrmd answering in order and pushing an event in between.
    #[tokio::test]
    async fn replies_reach_their_requests_and_events_the_receiver() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("lrmd.sock");
        let listener = tokio::net::UnixListener::bind(&sock).unwrap();
        let server = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let (rd, mut wr) = s.into_split();
            let mut lines = BufReader::new(rd).lines();
            let mut n = 0;
            while let Some(l) = lines.next_line().await.unwrap() {
                let m: ClientMessage = serde_json::from_str(&l).unwrap();
                n += 1;
                let reply = match m.request {
                    Request::Exec { .. } => Reply::CallId(40 + n),
                    _ => Reply::Done,
                };
                let ev = OpRecord { rsc: "d".into(), action: "start".into(), key: "d_start_0".into(), call_id: 1, rc: 0, status: crate::op::OpStatus::Done, interval_ms: 0, last_run: 0, last_rc_change: 0, exec_ms: 0, queue_ms: 0, exit_reason: None, transition_key: None, output: String::new(), digests: Default::default() };
                let mut out = serde_json::to_vec(&ServerMessage::Event(Box::new(ev))).unwrap();
                out.push(b'\n');
                out.extend(serde_json::to_vec(&ServerMessage::Reply { id: m.id, result: Ok(reply) }).unwrap());
                out.push(b'\n');
                wr.write_all(&out).await.unwrap();
            }
        });
        let (c, mut events) = connect(&sock).await.unwrap();
        c.subscribe().await.unwrap();
        let (a, b) = tokio::join!(c.exec(OpRequest::new("d", "start", 0, 1000)), c.exec(OpRequest::new("d", "stop", 0, 1000)));
        let mut ids = [a.unwrap(), b.unwrap()];
        ids.sort();
        assert_eq!(ids, [42, 43]);
        for _ in 0..3 {
            assert_eq!(events.recv().await.unwrap().key, "d_start_0");
        }
        drop(c);
        // The server sees the end of the connection.
        server.await.unwrap();
    }
}
