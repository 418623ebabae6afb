//! The wire protocol of `$HA_RUNDIR/lrmd.sock`: one JSON object per line
//! (newline-delimited JSON), both ways. docs/LRMD.md has examples.
//!
//! Why JSON lines: the messages are small structured records that change as
//! crmd's needs grow; serde gives both ends from the same types, and a
//! human can talk to the socket with `socat`. XML would only be needed on
//! the way into the CIB, where `OpRecord::to_element` does it.
//!
//! Client to lrmd: `{"id":7,"type":"exec","op":{...}}`. lrmd answers every
//! request with `{"reply":{"id":7,"result":{"Ok":{...}}}}` or
//! `{"reply":{"id":7,"result":{"Err":"message"}}}`, in request order.
//! A client that sent `subscribe` also gets `{"event":{...OpRecord...}}`
//! lines whenever an operation completes or is cancelled, interleaved
//! with replies.

use serde::{Deserialize, Serialize};

use crate::op::{OpRecord, OpRequest};
use crate::resource::ResourceSpec;

/// Longest line either side accepts; longer is a protocol error.
pub const MAX_LINE: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientMessage {
    pub id: u64,
    #[serde(flatten)]
    pub request: Request,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Request {
    /// Add or redefine a resource.
    Register { resource: ResourceSpec },
    Unregister { rsc: String },
    /// Queue an operation; answered with its call id at once, the result
    /// comes as an event.
    Exec { op: OpRequest },
    Cancel { rsc: String, action: String, interval_ms: u64 },
    /// The registered resources.
    Resources,
    /// The latest record per operation key, and the recurring operations.
    History { rsc: String },
    /// Send this connection every operation event from now on.
    Subscribe,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reply {
    Done,
    CallId(u32),
    Resources(Vec<ResourceSpec>),
    History { records: Vec<OpRecord>, recurring: Vec<OpRequest> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerMessage {
    Reply { id: u64, result: Result<Reply, String> },
    // Boxed: a record is much larger than a reply.
    Event(Box<OpRecord>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_look_as_documented() {
        let m = ClientMessage { id: 7, request: Request::Cancel { rsc: "d".into(), action: "monitor".into(), interval_ms: 1000 } };
        let s = serde_json::to_string(&m).unwrap();
        assert_eq!(s, r#"{"id":7,"type":"cancel","rsc":"d","action":"monitor","interval_ms":1000}"#);
        assert_eq!(serde_json::from_str::<ClientMessage>(&s).unwrap(), m);
        let r = ServerMessage::Reply { id: 7, result: Ok(Reply::CallId(3)) };
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"reply":{"id":7,"result":{"Ok":{"call-id":3}}}}"#);
        let e = ServerMessage::Reply { id: 8, result: Err("no".into()) };
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"reply":{"id":8,"result":{"Err":"no"}}}"#);
        let reg: ClientMessage = serde_json::from_str(
            r#"{"id":1,"type":"register","resource":{"id":"d","class":"ocf","provider":"heartbeat","type":"Dummy"}}"#,
        )
        .unwrap();
        assert!(matches!(reg.request, Request::Register { resource } if resource.agent_type == "Dummy"));
    }
}
