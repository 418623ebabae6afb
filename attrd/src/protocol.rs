//! The local protocol (`$HA_RUNDIR/attrd.sock`) and the cluster messages
//! between attrds.
//!
//! Local frames are `tools::cib_live`'s (4-byte big-endian length +
//! compact XML), one reply per request, in order:
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
//!
//! Between nodes (heartbeat messages, `t=attrd`): `attrd_op=update`
//! with `name`, `value`, `dampen_ms` (optional), and `attrd_op=delete`
//! with `name`, sent to the node that owns the attribute.

use cib::Element;
use transport::wire::Message;

/// A request to an attrd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `node`: None = the attrd's own node.
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
        let e = Element::new("attrd_request");
        let with_node = |e: Element, node: &Option<String>| match node {
            Some(n) => e.with_attr("node", n),
            None => e,
        };
        let with_dampen = |e: Element, d: &Option<u64>| match d {
            Some(d) => e.with_attr("dampen_ms", d.to_string()),
            None => e,
        };
        match self {
            Request::Update { node, name, value, dampen_ms } => {
                with_dampen(with_node(e.with_attr("op", "update").with_attr("name", name).with_attr("value", value), node), dampen_ms)
            }
            Request::Delete { node, name, dampen_ms } => with_dampen(with_node(e.with_attr("op", "delete").with_attr("name", name), node), dampen_ms),
            Request::Query { node, name, all } => {
                let e = with_node(e.with_attr("op", "query").with_attr("name", name), node);
                if *all {
                    e.with_attr("all", "true")
                } else {
                    e
                }
            }
            Request::Refresh => e.with_attr("op", "refresh"),
        }
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

    /// The heartbeat message that carries an update or delete to the
    /// owning node (queries and refreshes stay local).
    pub fn to_message(&self) -> Option<Message> {
        let m = Message::new().with_str("t", "attrd");
        let m = match self {
            Request::Update { name, value, dampen_ms, .. } => {
                let m = m.with_str("attrd_op", "update").with_str("name", name).with_str("value", value);
                match dampen_ms {
                    Some(d) => m.with_str("dampen_ms", &d.to_string()),
                    None => m,
                }
            }
            Request::Delete { name, dampen_ms, .. } => {
                let m = m.with_str("attrd_op", "delete").with_str("name", name);
                match dampen_ms {
                    Some(d) => m.with_str("dampen_ms", &d.to_string()),
                    None => m,
                }
            }
            _ => return None,
        };
        Some(m)
    }

    /// The request a peer's message carries (for the receiving node).
    pub fn from_message(m: &Message) -> Option<Request> {
        if m.get_str("t") != Some("attrd") {
            return None;
        }
        let name = m.get_str("name")?.to_string();
        let dampen_ms = m.get_str("dampen_ms").and_then(|d| d.parse().ok());
        match m.get_str("attrd_op")? {
            "update" => Some(Request::Update { node: None, name, value: m.get_str("value")?.to_string(), dampen_ms }),
            "delete" => Some(Request::Delete { node: None, name, dampen_ms }),
            _ => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use tools::cib_live::{frame, unframe};

    #[test]
    fn requests_replies_and_messages_round_trip() {
        let reqs = [
            Request::Update { node: Some("n2".into()), name: "fail-count-r1#monitor_10000".into(), value: "value++".into(), dampen_ms: Some(5000) },
            Request::Delete { node: None, name: "pingd".into(), dampen_ms: None },
            Request::Query { node: None, name: "pingd".into(), all: true },
            Request::Refresh,
        ];
        for r in &reqs {
            assert_eq!(&Request::from_xml(&unframe(&frame(&r.to_xml())[4..]).unwrap()).unwrap(), r);
        }
        let m = reqs[0].to_message().unwrap();
        assert_eq!(
            Request::from_message(&m),
            Some(Request::Update { node: None, name: "fail-count-r1#monitor_10000".into(), value: "value++".into(), dampen_ms: Some(5000) })
        );
        assert!(reqs[2].to_message().is_none());
        let replies = [
            Reply::Ok(vec![NodeValue { node: "n1".into(), value: Some("1".into()) }, NodeValue { node: "n2".into(), value: None }]),
            Reply::NoSuch,
            Reply::Error("no".into()),
        ];
        for r in &replies {
            assert_eq!(&Reply::from_xml(&unframe(&frame(&r.to_xml())[4..]).unwrap()).unwrap(), r);
        }
    }
}
