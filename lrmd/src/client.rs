//! A blocking client of the lrmd socket, for tools and tests (crmd will
//! want an async one; the protocol is the same).
//!
//! Events that arrive while waiting for a reply are kept and handed out by
//! [`Client::next_event`] in arrival order.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::LrmdError;
use crate::op::{OpRecord, OpRequest};
use crate::protocol::{ClientMessage, Reply, Request, ServerMessage, MAX_LINE};
use crate::resource::ResourceSpec;

/// How long a request waits for its reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    last_id: u64,
    events: VecDeque<OpRecord>,
    /// Bytes of a line not yet complete when a read timed out.
    partial: Vec<u8>,
}

impl Client {
    pub fn connect(path: &Path) -> Result<Client, LrmdError> {
        let stream = UnixStream::connect(path).map_err(|source| LrmdError::Connect { path: path.to_path_buf(), source })?;
        let writer = stream.try_clone()?;
        Ok(Client { reader: BufReader::new(stream), writer, last_id: 0, events: VecDeque::new(), partial: Vec::new() })
    }

    /// Sends a request and waits for its reply.
    pub fn request(&mut self, request: Request) -> Result<Reply, LrmdError> {
        self.last_id += 1;
        let id = self.last_id;
        let mut line = serde_json::to_vec(&ClientMessage { id, request }).map_err(|e| LrmdError::Protocol(e.to_string()))?;
        line.push(b'\n');
        self.writer.write_all(&line)?;
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            match self.read_message(deadline)? {
                // id 0 answers no request: lrmd refusing the connection
                // or a line it could not read.
                Some(ServerMessage::Reply { id: got, result }) if got == id || got == 0 => {
                    return result.map_err(LrmdError::Refused);
                }
                Some(ServerMessage::Reply { id: got, result }) => {
                    return Err(LrmdError::Protocol(format!("reply {got} to request {id}: {result:?}")));
                }
                Some(ServerMessage::Event(r)) => self.events.push_back(*r),
                None => return Err(LrmdError::Timeout),
            }
        }
    }

    pub fn register(&mut self, resource: ResourceSpec) -> Result<(), LrmdError> {
        self.request(Request::Register { resource }).map(|_| ())
    }

    pub fn unregister(&mut self, rsc: &str) -> Result<(), LrmdError> {
        self.request(Request::Unregister { rsc: rsc.to_string() }).map(|_| ())
    }

    /// Queues an operation; returns its call id.
    pub fn exec(&mut self, op: OpRequest) -> Result<u32, LrmdError> {
        match self.request(Request::Exec { op })? {
            Reply::CallId(id) => Ok(id),
            other => Err(LrmdError::Protocol(format!("unexpected reply {other:?}"))),
        }
    }

    pub fn cancel(&mut self, rsc: &str, action: &str, interval_ms: u64) -> Result<(), LrmdError> {
        self.request(Request::Cancel { rsc: rsc.to_string(), action: action.to_string(), interval_ms }).map(|_| ())
    }

    pub fn subscribe(&mut self) -> Result<(), LrmdError> {
        self.request(Request::Subscribe).map(|_| ())
    }

    pub fn resources(&mut self) -> Result<Vec<ResourceSpec>, LrmdError> {
        match self.request(Request::Resources)? {
            Reply::Resources(r) => Ok(r),
            other => Err(LrmdError::Protocol(format!("unexpected reply {other:?}"))),
        }
    }

    /// The latest record per operation key and the recurring operations.
    pub fn history(&mut self, rsc: &str) -> Result<(Vec<OpRecord>, Vec<OpRequest>), LrmdError> {
        match self.request(Request::History { rsc: rsc.to_string() })? {
            Reply::History { records, recurring } => Ok((records, recurring)),
            other => Err(LrmdError::Protocol(format!("unexpected reply {other:?}"))),
        }
    }

    /// The next operation event (needs [`Client::subscribe`]), or `None`
    /// after `timeout`.
    pub fn next_event(&mut self, timeout: Duration) -> Result<Option<OpRecord>, LrmdError> {
        if let Some(r) = self.events.pop_front() {
            return Ok(Some(r));
        }
        match self.read_message(Instant::now() + timeout)? {
            Some(ServerMessage::Event(r)) => Ok(Some(*r)),
            Some(ServerMessage::Reply { id, .. }) => {
                Err(LrmdError::Protocol(format!("unexpected reply {id} while waiting for events")))
            }
            None => Ok(None),
        }
    }

    /// Runs an operation and waits for its first result (subscribes first).
    pub fn exec_wait(&mut self, op: OpRequest, timeout: Duration) -> Result<OpRecord, LrmdError> {
        self.subscribe()?;
        let call_id = self.exec(op)?;
        let deadline = Instant::now() + timeout;
        let mut skipped = VecDeque::new();
        let found = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left)? {
                Some(r) if r.call_id == call_id => break Ok(r),
                Some(r) => skipped.push_back(r),
                None => break Err(LrmdError::Timeout),
            }
        };
        // Others' events stay available, in order.
        skipped.extend(self.events.drain(..));
        self.events = skipped;
        found
    }

    /// One message, or `None` at the deadline.
    fn read_message(&mut self, deadline: Instant) -> Result<Option<ServerMessage>, LrmdError> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.reader.get_ref().set_read_timeout(Some(left))?;
            match self.reader.read_until(b'\n', &mut self.partial) {
                Ok(0) => return Err(LrmdError::Protocol("lrmd closed the connection".into())),
                Ok(_) if self.partial.ends_with(b"\n") => {
                    let line = std::mem::take(&mut self.partial);
                    return serde_json::from_slice(&line).map(Some).map_err(|e| LrmdError::Protocol(e.to_string()));
                }
                Ok(_) => return Err(LrmdError::Protocol("lrmd closed the connection mid-line".into())),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {
                    if self.partial.len() > MAX_LINE {
                        return Err(LrmdError::Protocol("line too long".into()));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}
