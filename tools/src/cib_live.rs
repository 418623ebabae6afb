//! The live CIB: the cib daemon's local IPC protocol and a blocking client
//! (docs/CIB_DAEMON.md, "Local IPC").
//!
//! ```text
//!  tool --Request--> frame(<cib_request>) --$HA_RUNDIR/cib.sock--> cib daemon
//!  tool <--Answer--- frame(<cib_reply>)   <-------------------------'
//!                    frame(<cib_notify>)  (pushed to subscribers: one per applied change)
//! ```
//!
//! A frame is a 4-byte big-endian length followed by that many bytes of
//! compact XML (one element). XML because everything a request carries is
//! XML already (the input object, query results, patchsets), and because it
//! keeps the protocol readable with `strace`. The protocol lives here rather
//! than in the daemon's crate because the daemon depends on this crate (for
//! the operations in [`crate::cibadmin::ops`]), and the tools need the client.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use cib::{Document, Element, Node};

use crate::cibadmin::ops::{CibError, Command, Failure, Request};

/// Largest frame accepted either way (a CIB with a long status section is
/// a few MB at most).
pub const MAX_FRAME: usize = 32 << 20;

/// The default time a tool waits for an answer (Pacemaker's cibadmin
/// waits 30 s unless told otherwise with `-t`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What a client asks of the daemon: the cibadmin operations plus the two
/// the daemon adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// One of cibadmin's operations ([`Command`]).
    Cib(Command),
    /// Push the master's copy to every node (replicas take it whatever its version).
    Sync,
    /// Subscribe this connection to diff notifications.
    Notify,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Cib(Command::Query) => "query",
            Op::Cib(Command::Create) => "create",
            Op::Cib(Command::Modify) => "modify",
            Op::Cib(Command::Replace) => "replace",
            Op::Cib(Command::Delete) => "delete",
            Op::Cib(Command::Bump) => "bump",
            Op::Cib(Command::Erase) => "erase",
            Op::Sync => "sync",
            Op::Notify => "notify",
        }
    }

    pub fn from_name(s: &str) -> Option<Op> {
        Some(match s {
            "query" => Op::Cib(Command::Query),
            "create" => Op::Cib(Command::Create),
            "modify" => Op::Cib(Command::Modify),
            "replace" => Op::Cib(Command::Replace),
            "delete" => Op::Cib(Command::Delete),
            "bump" => Op::Cib(Command::Bump),
            "erase" => Op::Cib(Command::Erase),
            "sync" => Op::Sync,
            "notify" => Op::Notify,
            _ => return None,
        })
    }

    /// Whether the operation changes the CIB (and so must go to the master).
    pub fn is_write(self) -> bool {
        !matches!(self, Op::Cib(Command::Query) | Op::Notify)
    }
}

/// One call: the operation, its cibadmin request, and who asks (recorded
/// as `update-client` / `update-user` on configuration changes).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub op: Op,
    pub request: Request,
    /// The client's name (`cibadmin`, `crm_resource`, ...).
    pub client: String,
    /// The user on whose behalf the change is made; the daemon overrides
    /// it with the peer credentials of a local connection.
    pub user: String,
}

/// The daemon's answer to one call.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Done; the query result, if any.
    Ok(Option<Element>),
    /// Refused by the operation itself (the CIB is unchanged).
    Failed(Failure),
    /// The cluster could not carry the call out (no master reachable, the
    /// master went away while the call was in flight); the text says why.
    Unavailable(String),
}

/// Why a live call did not produce an [`Answer`].
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// No daemon listening, or the connection broke.
    #[error("Transport endpoint is not connected")]
    NotConnected(#[source] io::Error),
    /// No answer within the timeout.
    #[error("Timer expired")]
    Timeout,
    /// The daemon sent something that is not a frame of this protocol.
    #[error("Protocol error: {0}")]
    Protocol(String),
}

fn flag(e: &mut Element, name: &str, on: bool) {
    if on {
        e.set_attr(name, "true");
    }
}

fn is_set(e: &Element, name: &str) -> bool {
    e.attr(name) == Some("true")
}

/// Wraps `el` in an element called `name` (absent stays absent).
fn wrapped(name: &str, el: Option<&Element>) -> Option<Element> {
    el.map(|e| Element::new(name).with_child(e.clone()))
}

fn unwrap_child(e: &Element, name: &str) -> Option<Element> {
    e.child(name).and_then(|w| w.elements().next().cloned())
}

impl Call {
    /// `<cib_request call_id op section xpath ...><input>...</input></cib_request>`
    pub fn to_xml(&self, call_id: u64) -> Element {
        let r = &self.request;
        let mut e = Element::new("cib_request")
            .with_attr("call_id", call_id.to_string())
            .with_attr("op", self.op.name())
            .with_attr("client", &self.client)
            .with_attr("user", &self.user);
        if let Some(s) = &r.section {
            e.set_attr("section", s);
        }
        flag(&mut e, "xpath", r.xpath);
        flag(&mut e, "allow_create", r.allow_create);
        flag(&mut e, "no_children", r.no_children);
        flag(&mut e, "node_path", r.node_path);
        flag(&mut e, "multiple", r.multiple);
        if let Some(i) = wrapped("input", r.input.as_ref()) {
            e.children.push(Node::Element(i));
        }
        e
    }

    /// The inverse of [`Call::to_xml`]: the call and its id.
    pub fn from_xml(e: &Element) -> Result<(u64, Call), String> {
        if e.name != "cib_request" {
            return Err(format!("expected <cib_request>, got <{}>", e.name));
        }
        let call_id = e.attr("call_id").and_then(|v| v.parse().ok()).ok_or("no call_id")?;
        let op = e.attr("op").and_then(Op::from_name).ok_or_else(|| format!("unknown op {:?}", e.attr("op")))?;
        let request = Request {
            command: match op {
                Op::Cib(c) => Some(c),
                _ => None,
            },
            section: e.attr("section").map(str::to_string),
            xpath: is_set(e, "xpath"),
            input: unwrap_child(e, "input"),
            allow_create: is_set(e, "allow_create"),
            no_children: is_set(e, "no_children"),
            node_path: is_set(e, "node_path"),
            multiple: is_set(e, "multiple"),
        };
        let call = Call {
            op,
            request,
            client: e.attr("client").unwrap_or("unknown").to_string(),
            user: e.attr("user").unwrap_or("").to_string(),
        };
        Ok((call_id, call))
    }
}

/// The wire name of a [`CibError`].
pub fn error_name(e: CibError) -> &'static str {
    match e {
        CibError::NoSuchObject => "no_such_object",
        CibError::Exists => "exists",
        CibError::InvalidArgument => "invalid_argument",
        CibError::OldData => "old_data",
        CibError::SchemaValidation => "schema_validation",
        CibError::ProtocolNotSupported => "protocol_not_supported",
    }
}

fn error_from_name(s: &str) -> Option<CibError> {
    [
        CibError::NoSuchObject,
        CibError::Exists,
        CibError::InvalidArgument,
        CibError::OldData,
        CibError::SchemaValidation,
        CibError::ProtocolNotSupported,
    ]
    .into_iter()
    .find(|e| error_name(*e) == s)
}

impl Answer {
    /// `<cib_reply call_id rc="ok|<error>|unavailable" [reason]><output/><rejected/></cib_reply>`
    pub fn to_xml(&self, call_id: u64) -> Element {
        let mut e = Element::new("cib_reply").with_attr("call_id", call_id.to_string());
        let (rc, output, rejected) = match self {
            Answer::Ok(out) => ("ok", out.as_ref(), None),
            Answer::Failed(f) => (error_name(f.error), f.output.as_deref(), f.rejected.as_deref()),
            Answer::Unavailable(why) => {
                e.set_attr("reason", why);
                ("unavailable", None, None)
            }
        };
        e.set_attr("rc", rc);
        for w in [wrapped("output", output), wrapped("rejected", rejected)].into_iter().flatten() {
            e.children.push(Node::Element(w));
        }
        e
    }

    pub fn from_xml(e: &Element) -> Result<(u64, Answer), String> {
        if e.name != "cib_reply" {
            return Err(format!("expected <cib_reply>, got <{}>", e.name));
        }
        let call_id = e.attr("call_id").and_then(|v| v.parse().ok()).ok_or("no call_id")?;
        let output = unwrap_child(e, "output");
        let answer = match e.attr("rc").unwrap_or_default() {
            "ok" => Answer::Ok(output),
            "unavailable" => Answer::Unavailable(e.attr("reason").unwrap_or("unavailable").to_string()),
            rc => {
                let error = error_from_name(rc).ok_or_else(|| format!("unknown rc {rc:?}"))?;
                Answer::Failed(Failure {
                    error,
                    output: output.map(Box::new),
                    rejected: unwrap_child(e, "rejected").map(Box::new),
                })
            }
        };
        Ok((call_id, answer))
    }
}

/// A diff notification: `<cib_notify><diff .../></cib_notify>`.
pub fn notify_xml(patch: &Element) -> Element {
    Element::new("cib_notify").with_child(patch.clone())
}

/// Encodes one frame.
pub fn frame(e: &Element) -> Vec<u8> {
    let body = e.to_xml_compact();
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(body.as_bytes());
    out
}

/// Decodes a frame body.
pub fn unframe(body: &[u8]) -> Result<Element, String> {
    let s = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    Document::parse(s).map(|d| d.root).map_err(|e| format!("line {}: {}", e.line, e.message))
}

/// The length announced by a frame header, checked against [`MAX_FRAME`].
pub fn frame_len(header: [u8; 4]) -> Result<usize, String> {
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_FRAME {
        return Err(format!("frame of {len} bytes is over the limit"));
    }
    Ok(len)
}

/// A blocking connection to the local cib daemon.
pub struct LiveCib {
    stream: UnixStream,
    next_call: u64,
}

impl LiveCib {
    /// Connects to the daemon's socket; answers must come within `timeout`.
    pub fn connect(socket: &Path, timeout: Duration) -> Result<LiveCib, LiveError> {
        let stream = UnixStream::connect(socket).map_err(LiveError::NotConnected)?;
        stream.set_read_timeout(Some(timeout)).map_err(LiveError::NotConnected)?;
        Ok(LiveCib { stream, next_call: 1 })
    }

    fn read_frame(&mut self) -> Result<Element, LiveError> {
        let io_err = |e: io::Error| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => LiveError::Timeout,
            _ => LiveError::NotConnected(e),
        };
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header).map_err(io_err)?;
        let len = frame_len(header).map_err(LiveError::Protocol)?;
        let mut body = vec![0; len];
        self.stream.read_exact(&mut body).map_err(io_err)?;
        unframe(&body).map_err(LiveError::Protocol)
    }

    /// Sends one call and waits for its answer (notifications that arrive
    /// meanwhile are dropped: a tool that subscribes reads them with
    /// [`LiveCib::next_notification`] instead of making calls).
    pub fn call(&mut self, call: &Call) -> Result<Answer, LiveError> {
        let id = self.next_call;
        self.next_call += 1;
        self.stream.write_all(&frame(&call.to_xml(id))).map_err(LiveError::NotConnected)?;
        loop {
            let e = self.read_frame()?;
            if e.name == "cib_notify" {
                continue;
            }
            let (got, answer) = Answer::from_xml(&e).map_err(LiveError::Protocol)?;
            if got == id {
                return Ok(answer);
            }
        }
    }

    /// The next diff pushed after an [`Op::Notify`] call.
    pub fn next_notification(&mut self) -> Result<Element, LiveError> {
        loop {
            let e = self.read_frame()?;
            if e.name == "cib_notify" {
                return e.elements().next().cloned().ok_or_else(|| LiveError::Protocol("empty notification".into()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::xml::parse_element;

    #[test]
    fn calls_round_trip() {
        let input = parse_element(r#"<primitive id="r1" class="ocf" description="a&#10;b"/>"#).unwrap();
        let call = Call {
            op: Op::Cib(Command::Create),
            request: Request {
                command: Some(Command::Create),
                section: Some("resources".into()),
                input: Some(input.clone()),
                allow_create: true,
                ..Request::default()
            },
            client: "cibadmin".into(),
            user: "root".into(),
        };
        let wire = frame(&call.to_xml(7));
        let (id, back) = Call::from_xml(&unframe(&wire[4..]).unwrap()).unwrap();
        assert_eq!(id, 7);
        assert_eq!(back.op, Op::Cib(Command::Create));
        assert_eq!(back.request.input, Some(input));
        assert_eq!(back.request.section.as_deref(), Some("resources"));
        assert!(back.request.allow_create && !back.request.xpath);
        assert_eq!((back.client.as_str(), back.user.as_str()), ("cibadmin", "root"));
    }

    #[test]
    fn answers_round_trip() {
        let out = parse_element(r#"<failed><failed_update id="r1" object_type="primitive"/></failed>"#).unwrap();
        let answers = [
            Answer::Ok(None),
            Answer::Ok(Some(out.clone())),
            Answer::Failed(Failure { error: CibError::Exists, output: Some(Box::new(out.clone())), rejected: None }),
            Answer::Failed(Failure { error: CibError::SchemaValidation, output: None, rejected: Some(Box::new(out)) }),
            Answer::Unavailable("master n1 left".into()),
        ];
        for a in answers {
            let (id, back) = Answer::from_xml(&unframe(&frame(&a.to_xml(3))[4..]).unwrap()).unwrap();
            assert_eq!((id, back), (3, a));
        }
        assert!(Answer::from_xml(&parse_element(r#"<cib_reply call_id="1" rc="bogus"/>"#).unwrap()).is_err());
    }

    #[test]
    fn oversized_frames_are_refused() {
        assert!(frame_len((MAX_FRAME as u32 + 1).to_be_bytes()).is_err());
        assert_eq!(frame_len(12u32.to_be_bytes()), Ok(12));
    }
}
