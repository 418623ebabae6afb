//! The local protocol of the attribute daemon (`$HA_RUNDIR/attrd.sock`,
//! docs/ATTRD.md) and a blocking call. It lives here, below both the
//! daemon (crate `attrd`, which depends on tools) and the tools that hand
//! transient attributes to it when it runs (crm_attribute `-l reboot`,
//! crm_failcount), as `cib_live` does for the cib daemon.
//!
//! Frames are [`crate::cib_live`]'s (4-byte big-endian length + compact
//! XML), one reply per request, in order:
//!
//! ```xml
//! <attrd_request op="update" name="pingd" value="100" node="n2" dampen_ms="5000"/>
//! <attrd_request op="delete" name="fail-count-r1#monitor_10000"/>
//! <attrd_request op="query" name="pingd" [node="n2" | all="true"]/>
//! <attrd_request op="refresh"/>
//! <attrd_reply rc="ok"><value node="n1" value="100"/></attrd_reply>
//! <attrd_reply rc="no_such" reason="attribute does not exist"/>
//! <attrd_reply rc="error" reason="..."/>
//! ```

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cib::env::CibSource;
use cib::Element;

use crate::cib_live::{frame, frame_len, unframe};

/// A request to an attrd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `node`: None = the attrd's own node. `value` may be `value++` /
    /// `value+=N` (added to the old value).
    Update { node: Option<String>, name: String, value: String, dampen_ms: Option<u64> },
    Delete { node: Option<String>, name: String, dampen_ms: Option<u64> },
    Query { node: Option<String>, name: String, all: bool },
    Refresh,
}

/// One node's value in a query answer (`None`: known, no value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeValue {
    pub node: String,
    pub value: Option<String>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Ok(Vec<NodeValue>),
    /// The attribute is unknown (query only).
    NoSuch,
    Error(String),
}

fn opt(e: &Element, name: &str) -> Option<String> {
    e.attr(name).map(str::to_string)
}

fn dampen(e: &Element) -> Result<Option<u64>, String> {
    e.attr("dampen_ms").map(|v| v.parse().map_err(|_| format!("bad dampen_ms {v:?}"))).transpose()
}

impl Request {
    pub fn to_xml(&self) -> Element {
        let mut e = Element::new("attrd_request");
        let (op, node, name, dampen_ms) = match self {
            Request::Update { node, name, value, dampen_ms } => {
                e.set_attr("value", value);
                ("update", node, Some(name), dampen_ms)
            }
            Request::Delete { node, name, dampen_ms } => ("delete", node, Some(name), dampen_ms),
            Request::Query { node, name, all } => {
                if *all {
                    e.set_attr("all", "true");
                }
                ("query", node, Some(name), &None)
            }
            Request::Refresh => ("refresh", &None, None, &None),
        };
        e.set_attr("op", op);
        if let Some(n) = name {
            e.set_attr("name", n);
        }
        if let Some(n) = node {
            e.set_attr("node", n);
        }
        if let Some(d) = dampen_ms {
            e.set_attr("dampen_ms", d.to_string());
        }
        e
    }

    pub fn from_xml(e: &Element) -> Result<Request, String> {
        if e.name != "attrd_request" {
            return Err(format!("expected <attrd_request>, got <{}>", e.name));
        }
        let name = || e.attr("name").map(str::to_string).ok_or_else(|| "no name".to_string());
        Ok(match e.attr("op") {
            Some("update") => Request::Update { node: opt(e, "node"), name: name()?, value: opt(e, "value").ok_or("no value")?, dampen_ms: dampen(e)? },
            Some("delete") => Request::Delete { node: opt(e, "node"), name: name()?, dampen_ms: dampen(e)? },
            Some("query") => Request::Query { node: opt(e, "node"), name: name()?, all: e.attr("all") == Some("true") },
            Some("refresh") => Request::Refresh,
            op => return Err(format!("unknown op {op:?}")),
        })
    }
}

impl Reply {
    pub fn to_xml(&self) -> Element {
        let e = Element::new("attrd_reply");
        match self {
            Reply::Ok(values) => {
                let mut e = e.with_attr("rc", "ok");
                for v in values {
                    let mut c = Element::new("value").with_attr("node", &v.node);
                    if let Some(val) = &v.value {
                        c.set_attr("value", val);
                    }
                    e = e.with_child(c);
                }
                e
            }
            Reply::NoSuch => e.with_attr("rc", "no_such").with_attr("reason", "attribute does not exist"),
            Reply::Error(why) => e.with_attr("rc", "error").with_attr("reason", why),
        }
    }

    pub fn from_xml(e: &Element) -> Result<Reply, String> {
        if e.name != "attrd_reply" {
            return Err(format!("expected <attrd_reply>, got <{}>", e.name));
        }
        Ok(match e.attr("rc") {
            Some("ok") => Reply::Ok(
                e.children_named("value")
                    .map(|c| NodeValue { node: c.attr("node").unwrap_or_default().to_string(), value: opt(c, "value") })
                    .collect(),
            ),
            Some("no_such") => Reply::NoSuch,
            Some("error") => Reply::Error(e.attr("reason").unwrap_or("error").to_string()),
            rc => return Err(format!("unknown rc {rc:?}")),
        })
    }
}

/// Sends one request and reads its reply (blocking).
pub fn call(socket: &Path, req: &Request, timeout: Duration) -> io::Result<Reply> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(&frame(&req.to_xml()))?;
    let mut header = [0u8; 4];
    stream.read_exact(&mut header)?;
    let bad = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
    let mut body = vec![0; frame_len(header).map_err(bad)?];
    stream.read_exact(&mut body)?;
    unframe(&body).and_then(|e| Reply::from_xml(&e)).map_err(bad)
}

/// The attrd socket beside a live CIB's socket, when attrd is running
/// (its socket exists); `None` for a CIB file or without attrd, where the
/// tools edit the status section themselves.
pub fn live_socket(source: &Result<CibSource, cib::env::EnvError>) -> Option<PathBuf> {
    let Ok(CibSource::Live { socket }) = source else { return None };
    let attrd = socket.with_file_name("attrd.sock");
    attrd.exists().then_some(attrd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_round_trip() {
        let reqs = [
            Request::Update { node: Some("n2".into()), name: "fail-count-r1#monitor_10000".into(), value: "value++".into(), dampen_ms: Some(5000) },
            Request::Delete { node: None, name: "pingd".into(), dampen_ms: None },
            Request::Query { node: None, name: "pingd".into(), all: true },
            Request::Refresh,
        ];
        for r in &reqs {
            assert_eq!(&Request::from_xml(&unframe(&frame(&r.to_xml())[4..]).unwrap()).unwrap(), r);
        }
        let replies = [
            Reply::Ok(vec![NodeValue { node: "n1".into(), value: Some("1".into()) }, NodeValue { node: "n2".into(), value: None }]),
            Reply::NoSuch,
            Reply::Error("no".into()),
        ];
        for r in &replies {
            assert_eq!(&Reply::from_xml(&unframe(&frame(&r.to_xml())[4..]).unwrap()).unwrap(), r);
        }
        assert_eq!(live_socket(&Ok(CibSource::File("/x".into()))), None);
    }
}
