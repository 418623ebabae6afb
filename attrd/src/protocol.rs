//! The local protocol (`$HA_RUNDIR/attrd.sock`, defined in
//! `tools::attribute::attrd_ipc` so the tools can speak it) and the
//! cluster messages between attrds.
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

use transport::wire::Message;

pub use tools::attribute::attrd_ipc::{NodeValue, Reply, Request};

/// The heartbeat message that carries an update or delete to the owning
/// node (queries and refreshes stay local).
pub fn to_message(req: &Request) -> Option<Message> {
    let m = Message::new().with_str("t", "attrd");
    let (m, dampen_ms) = match req {
        Request::Update { name, value, dampen_ms, .. } => (m.with_str("attrd_op", "update").with_str("name", name).with_str("value", value), dampen_ms),
        Request::Delete { name, dampen_ms, .. } => (m.with_str("attrd_op", "delete").with_str("name", name), dampen_ms),
        _ => return None,
    };
    Some(match dampen_ms {
        Some(d) => m.with_str("dampen_ms", &d.to_string()),
        None => m,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let r = Request::Update { node: Some("n2".into()), name: "fail-count-r1#monitor_10000".into(), value: "value++".into(), dampen_ms: Some(5000) };
        assert_eq!(
            from_message(&to_message(&r).unwrap()),
            Some(Request::Update { node: None, name: "fail-count-r1#monitor_10000".into(), value: "value++".into(), dampen_ms: Some(5000) })
        );
        let d = Request::Delete { node: None, name: "pingd".into(), dampen_ms: None };
        assert_eq!(from_message(&to_message(&d).unwrap()), Some(d));
        assert!(to_message(&Request::Refresh).is_none());
    }
}
