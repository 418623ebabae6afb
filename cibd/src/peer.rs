//! Messages between the cib daemons of different nodes, and their
//! encoding as heartbeat cluster messages (`t=cib cib_op=...`).
//!
//! XML travels as a binary field (`data`): raw bytes in the netstring
//! encoding, base64 in the classic one, and never subject to the classic
//! encoding's "no newline in a string" rule.

use cib::xml::parse_element;
use cib::{Element, Version};
use tools::cib_live::{Answer, Call};
use transport::wire::{Message, Value};

/// The `t` of every message this daemon sends; other clients of heartbeat
/// (ccm, crmd) see these too and ignore them by `t`.
pub const T_CIB: &str = "cib";

/// One cib-to-cib message.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerMsg {
    /// "My cib daemon runs, and this is my version": sent to all on start,
    /// and answered (`reply`) directly by each peer, so every node learns
    /// every peer's version and pulls from whoever is ahead. `authority`:
    /// the sender is the master of a partition its DC declared quorate
    /// since the last membership loss (its copy wins over any other
    /// non-authority copy, whatever the versions; see `core`).
    Announce { version: Version, digest: String, reply: bool, authority: bool },
    /// The daemon is stopping.
    Leave,
    /// A write forwarded to the master; `call` is the forwarder's number.
    Request { call: u64, call_data: Box<Call> },
    /// The master's answer to a forwarded write.
    Reply { call: u64, answer: Answer },
    /// A change applied on the master, as a v2 patchset.
    Diff { patch: Element },
    /// "Send me your whole CIB."
    SyncRequest,
    /// A whole CIB. `force`: the master's `sync` (take it, whatever its
    /// version); otherwise taken only if newer (or the master's at equal
    /// version). `authority`: as in `Announce`; a non-authority node takes
    /// it whatever the versions.
    Full { cib: Element, force: bool, authority: bool },
    /// "I have applied everything up to this version": a replica's
    /// confirmation of a configuration diff (or of a whole copy it took),
    /// which the master waits for before acknowledging a configuration
    /// write.
    Applied { version: Version },
    /// "I (re)started in haresources mode and generated this configuration
    /// from my file": sent once, to the authority a restarted node finds
    /// on joining, which writes it unless the cluster runs it already
    /// (docs/HARESOURCES_MODE.md).
    Propose { config: Element },
}

/// Why a message from a peer could not be understood.
#[derive(Debug, thiserror::Error)]
#[error("cib message from {from}: {why}")]
pub struct BadPeerMsg {
    pub from: String,
    pub why: String,
}

fn data(m: &Message) -> Result<Element, String> {
    let bytes = m.get_binary("data").ok_or("no data field")?;
    let s = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    parse_element(s).map_err(|e| format!("line {}: {}", e.line, e.message))
}

fn num(m: &Message, name: &str) -> Result<u64, String> {
    m.get_str(name).and_then(|v| v.parse().ok()).ok_or_else(|| format!("no {name}"))
}

fn push_version(m: &mut Message, v: &Version) {
    m.push("admin_epoch", Value::Str(v.admin_epoch.to_string()));
    m.push("epoch", Value::Str(v.epoch.to_string()));
    m.push("num_updates", Value::Str(v.num_updates.to_string()));
}

fn version(m: &Message) -> Result<Version, String> {
    Ok(Version::new(num(m, "admin_epoch")?, num(m, "epoch")?, num(m, "num_updates")?))
}

impl PeerMsg {
    pub fn op_name(&self) -> &'static str {
        match self {
            PeerMsg::Announce { .. } => "announce",
            PeerMsg::Leave => "leave",
            PeerMsg::Request { .. } => "request",
            PeerMsg::Reply { .. } => "reply",
            PeerMsg::Diff { .. } => "diff",
            PeerMsg::SyncRequest => "sync_request",
            PeerMsg::Full { .. } => "full",
            PeerMsg::Applied { .. } => "applied",
            PeerMsg::Propose { .. } => "propose",
        }
    }

    /// The cluster message (without heartbeat's own `src`, `seq`, ... fields).
    pub fn to_message(&self) -> Message {
        let mut m = Message::new().with_str("t", T_CIB).with_str("cib_op", self.op_name());
        let xml = |e: &Element| Value::Binary(e.to_xml_compact().into_bytes());
        match self {
            PeerMsg::Announce { version, digest, reply, authority } => {
                push_version(&mut m, version);
                m.push("digest", Value::Str(digest.clone()));
                m.push("reply", Value::Str(reply.to_string()));
                m.push("authority", Value::Str(authority.to_string()));
            }
            PeerMsg::Applied { version } => push_version(&mut m, version),
            PeerMsg::Leave | PeerMsg::SyncRequest => {}
            PeerMsg::Request { call, call_data } => {
                m.push("call", Value::Str(call.to_string()));
                m.push("data", xml(&call_data.to_xml(*call)));
            }
            PeerMsg::Reply { call, answer } => {
                m.push("call", Value::Str(call.to_string()));
                m.push("data", xml(&answer.to_xml(*call)));
            }
            PeerMsg::Diff { patch } => m.push("data", xml(patch)),
            PeerMsg::Propose { config } => m.push("data", xml(config)),
            PeerMsg::Full { cib, force, authority } => {
                m.push("force", Value::Str(force.to_string()));
                m.push("authority", Value::Str(authority.to_string()));
                m.push("data", xml(cib));
            }
        }
        m
    }

    /// Decodes a delivered cluster message: `Ok(None)` when it is not a
    /// cib message at all, else the sender (heartbeat's `src`) and message.
    pub fn from_message(m: &Message) -> Result<Option<(String, PeerMsg)>, BadPeerMsg> {
        if m.get_str("t") != Some(T_CIB) {
            return Ok(None);
        }
        let from = m.get_str("src").unwrap_or_default().to_string();
        let bad = |why: String| BadPeerMsg { from: from.clone(), why };
        let msg = match m.get_str("cib_op").unwrap_or_default() {
            "announce" => PeerMsg::Announce {
                version: version(m).map_err(bad)?,
                digest: m.get_str("digest").unwrap_or_default().to_string(),
                reply: m.get_str("reply") == Some("true"),
                authority: m.get_str("authority") == Some("true"),
            },
            "applied" => PeerMsg::Applied { version: version(m).map_err(bad)? },
            "leave" => PeerMsg::Leave,
            "sync_request" => PeerMsg::SyncRequest,
            "request" => {
                let (call, call_data) = Call::from_xml(&data(m).map_err(bad)?).map_err(bad)?;
                PeerMsg::Request { call, call_data: Box::new(call_data) }
            }
            "reply" => {
                let (call, answer) = Answer::from_xml(&data(m).map_err(bad)?).map_err(bad)?;
                PeerMsg::Reply { call, answer }
            }
            "diff" => PeerMsg::Diff { patch: data(m).map_err(bad)? },
            "propose" => PeerMsg::Propose { config: data(m).map_err(bad)? },
            "full" => PeerMsg::Full {
                cib: data(m).map_err(bad)?,
                force: m.get_str("force") == Some("true"),
                authority: m.get_str("authority") == Some("true"),
            },
            other => return Err(bad(format!("unknown cib_op {other:?}"))),
        };
        Ok(Some((from, msg)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tools::cibadmin::ops::{Command, Request};

    fn round_trip(msg: PeerMsg) {
        let mut m = msg.to_message();
        m.push("src", Value::Str("n2".into()));
        // Through the real wire encoding, as heartbeat carries it.
        let bytes = m.to_netstring().unwrap();
        let back = transport::wire::decode(&bytes).unwrap().message;
        assert_eq!(PeerMsg::from_message(&back).unwrap(), Some(("n2".to_string(), msg)));
    }

    #[test]
    fn every_message_round_trips() {
        let cib = parse_element(r#"<cib epoch="3"><configuration description="two&#10;lines"/><status/></cib>"#).unwrap();
        round_trip(PeerMsg::Announce { version: Version::new(1, 2, 3), digest: "abc".into(), reply: true, authority: false });
        round_trip(PeerMsg::Announce { version: Version::new(1, 2, 3), digest: "abc".into(), reply: false, authority: true });
        round_trip(PeerMsg::Applied { version: Version::new(0, 7, 2) });
        round_trip(PeerMsg::Leave);
        round_trip(PeerMsg::SyncRequest);
        round_trip(PeerMsg::Diff { patch: parse_element(r#"<diff format="2"><version/></diff>"#).unwrap() });
        round_trip(PeerMsg::Full { cib: cib.clone(), force: true, authority: false });
        round_trip(PeerMsg::Full { cib: cib.clone(), force: false, authority: true });
        round_trip(PeerMsg::Reply { call: 9, answer: Answer::Ok(Some(cib.clone())) });
        round_trip(PeerMsg::Propose { config: cib.child("configuration").unwrap().clone() });
        let call = Call {
            op: tools::cib_live::Op::Cib(Command::Modify),
            request: Request { command: Some(Command::Modify), input: Some(cib), ..Request::default() },
            client: "cibadmin".into(),
            user: "root".into(),
        };
        let msg = PeerMsg::Request { call: 4, call_data: Box::new(call) };
        let mut m = msg.to_message();
        m.push("src", Value::Str("n3".into()));
        let Some((from, PeerMsg::Request { call, call_data })) = PeerMsg::from_message(&m).unwrap() else { panic!() };
        assert_eq!((from.as_str(), call, call_data.request.input.is_some()), ("n3", 4, true));
    }

    #[test]
    fn other_messages_are_not_ours() {
        assert_eq!(PeerMsg::from_message(&Message::new().with_str("t", "crmd")).unwrap(), None);
        assert!(PeerMsg::from_message(&Message::new().with_str("t", "cib").with_str("cib_op", "zap")).is_err());
    }
}
