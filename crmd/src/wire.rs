//! What crmds send each other through heartbeat: every message has
//! `t=crmd` and a `crmd_op` naming it (docs/CRMD.md, "Wire").
//!
//! | crmd_op | fields | meaning |
//! | --- | --- | --- |
//! | `vote` | `election_id`, `age_ms` | [`Message::Vote`] |
//! | `no_vote` | `election_id` | [`Message::NoVote`] |
//! | `join_offer` | `join_id`, `age_ms` | [`Message::JoinOffer`] |
//! | `join_request` | `join_id`, `cib_version` (`admin:epoch:updates`), `was_dc` (`0`/`1`) | [`Message::JoinRequest`] |
//! | `join_ack` | `join_id` | [`Message::JoinAck`] |
//! | `join_confirm` | `join_id` | [`Message::JoinConfirm`] |
//! | `other_dc` | `dc` | [`Message::OtherDc`]: node to a DC whose action it refused |
//! | `lrm_op` | `transition`, `action_id`, `transition_key`, binary `data` = a one-synapse `<transition_graph>` | DC to node: run this action |
//! | `lrm_result` | `transition`, `action_id`, `rc`, `op_status` | node to DC: the result of an action that leaves no `lrm_rsc_op` (cancel) or whose record could not be written |
//! | `shutdown` | | DC to node: your resources are stopped, exit (`do_shutdown`) |
//! | `alive` | | DC to all, every second: its crmd runs (followers elect a new DC when it goes silent while its node stays) |
//! | `leaving` | | any crmd to all as it exits: followers of the sender elect a new DC at once |
//! | `member_alive` | | follower to its DC, every second: its crmd runs (the DC treats a follower silent too long as a node whose controller left) |
//!
//! Heartbeat adds `src` (the sender's node name). Numbers are decimal.

use cib::Version;
use transport::wire::{Message as HbMessage, Value};

use crate::message::Message;

/// The `t` of every crmd message.
pub const T_CRMD: &str = "crmd";

/// A crmd message as the shell sees it: the controller's own, or one
/// about resource operations that only the shells exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire {
    Controller(Message),
    /// DC to node: run the one action in `graph_xml` for transition `transition`.
    LrmOp { transition: u64, action_id: i32, key: String, graph_xml: String },
    /// Node to DC: an action's result.
    LrmResult { transition: u64, action_id: i32, rc: i32, op_status: i32 },
    /// DC to node: `do_shutdown`.
    Shutdown,
    /// DC to all: keepalive.
    Alive,
    /// To all: this crmd exits.
    Leaving,
    /// Follower to its DC: keepalive. Distinct from `Alive`, which only a
    /// DC sends (followers must not take a follower's keepalive for their
    /// DC's).
    MemberAlive,
}

fn num<T: std::str::FromStr>(m: &HbMessage, k: &str) -> Option<T> {
    m.get_str(k).and_then(|s| s.parse().ok())
}

/// The heartbeat fields of `w` (without `src`, which heartbeat adds).
pub fn encode(w: &Wire) -> HbMessage {
    let m = HbMessage::new().with_str("t", T_CRMD);
    match w {
        Wire::Controller(msg) => match msg {
            Message::Vote { election_id, age_ms } => m
                .with_str("crmd_op", "vote")
                .with_str("election_id", &election_id.to_string())
                .with_str("age_ms", &age_ms.to_string()),
            Message::NoVote { election_id } => {
                m.with_str("crmd_op", "no_vote").with_str("election_id", &election_id.to_string())
            }
            Message::JoinOffer { join_id, age_ms } => m
                .with_str("crmd_op", "join_offer")
                .with_str("join_id", &join_id.to_string())
                .with_str("age_ms", &age_ms.to_string()),
            Message::JoinRequest { join_id, cib_version, was_dc } => m
                .with_str("crmd_op", "join_request")
                .with_str("join_id", &join_id.to_string())
                .with_str(
                    "cib_version",
                    &format!("{}:{}:{}", cib_version.admin_epoch, cib_version.epoch, cib_version.num_updates),
                )
                .with_str("was_dc", if *was_dc { "1" } else { "0" }),
            Message::JoinAck { join_id } => m.with_str("crmd_op", "join_ack").with_str("join_id", &join_id.to_string()),
            Message::JoinConfirm { join_id } => {
                m.with_str("crmd_op", "join_confirm").with_str("join_id", &join_id.to_string())
            }
            Message::OtherDc { dc } => m.with_str("crmd_op", "other_dc").with_str("dc", dc),
        },
        Wire::LrmOp { transition, action_id, key, graph_xml } => m
            .with_str("crmd_op", "lrm_op")
            .with_str("transition", &transition.to_string())
            .with_str("action_id", &action_id.to_string())
            .with_str("transition_key", key)
            .with("data", Value::Binary(graph_xml.as_bytes().to_vec())),
        Wire::LrmResult { transition, action_id, rc, op_status } => m
            .with_str("crmd_op", "lrm_result")
            .with_str("transition", &transition.to_string())
            .with_str("action_id", &action_id.to_string())
            .with_str("rc", &rc.to_string())
            .with_str("op_status", &op_status.to_string()),
        Wire::Shutdown => m.with_str("crmd_op", "shutdown"),
        Wire::Alive => m.with_str("crmd_op", "alive"),
        Wire::Leaving => m.with_str("crmd_op", "leaving"),
        Wire::MemberAlive => m.with_str("crmd_op", "member_alive"),
    }
}

fn version(s: &str) -> Option<Version> {
    let mut it = s.split(':').map(|p| p.parse::<u64>());
    let v = Version::new(it.next()?.ok()?, it.next()?.ok()?, it.next()?.ok()?);
    it.next().is_none().then_some(v)
}

/// The message a cluster message carries, if it is a crmd message we
/// understand (anything else is ignored by the caller).
pub fn decode(m: &HbMessage) -> Option<Wire> {
    if m.get_str("t") != Some(T_CRMD) {
        return None;
    }
    let msg = match m.get_str("crmd_op")? {
        "vote" => Message::Vote { election_id: num(m, "election_id")?, age_ms: num(m, "age_ms")? },
        "no_vote" => Message::NoVote { election_id: num(m, "election_id")? },
        "join_offer" => Message::JoinOffer { join_id: num(m, "join_id")?, age_ms: num(m, "age_ms")? },
        "join_request" => Message::JoinRequest {
            join_id: num(m, "join_id")?,
            cib_version: version(m.get_str("cib_version")?)?,
            was_dc: m.get_str("was_dc") == Some("1"),
        },
        "join_ack" => Message::JoinAck { join_id: num(m, "join_id")? },
        "join_confirm" => Message::JoinConfirm { join_id: num(m, "join_id")? },
        "other_dc" => Message::OtherDc { dc: m.get_str("dc")?.to_string() },
        "lrm_op" => {
            let data = m.get_binary("data").or_else(|| m.get_str("data").map(str::as_bytes))?;
            return Some(Wire::LrmOp {
                transition: num(m, "transition")?,
                action_id: num(m, "action_id")?,
                key: m.get_str("transition_key")?.to_string(),
                graph_xml: String::from_utf8(data.to_vec()).ok()?,
            });
        }
        "lrm_result" => {
            return Some(Wire::LrmResult {
                transition: num(m, "transition")?,
                action_id: num(m, "action_id")?,
                rc: num(m, "rc")?,
                op_status: num(m, "op_status")?,
            })
        }
        "shutdown" => return Some(Wire::Shutdown),
        "alive" => return Some(Wire::Alive),
        "leaving" => return Some(Wire::Leaving),
        "member_alive" => return Some(Wire::MemberAlive),
        _ => return None,
    };
    Some(Wire::Controller(msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_round_trips_through_heartbeat_fields() {
        let all = [
            Wire::Controller(Message::Vote { election_id: 3, age_ms: 12_000 }),
            Wire::Controller(Message::NoVote { election_id: 3 }),
            Wire::Controller(Message::JoinOffer { join_id: 2, age_ms: 5 }),
            Wire::Controller(Message::JoinRequest { join_id: 2, cib_version: Version::new(0, 7, 42), was_dc: true }),
            Wire::Controller(Message::JoinAck { join_id: 2 }),
            Wire::Controller(Message::JoinConfirm { join_id: 2 }),
            Wire::Controller(Message::OtherDc { dc: "n3".into() }),
            Wire::LrmOp { transition: 4, action_id: 9, key: "9:4:0:u".into(), graph_xml: "<transition_graph/>".into() },
            Wire::LrmResult { transition: 4, action_id: 9, rc: 7, op_status: 0 },
            Wire::Shutdown,
            Wire::Alive,
            Wire::Leaving,
            Wire::MemberAlive,
        ];
        for w in all {
            let m = encode(&w);
            // Through the real netstring encoding, as heartbeat carries it.
            let bytes = m.to_netstring().unwrap();
            let back = transport::api::unframe(&bytes).unwrap();
            assert_eq!(decode(&back), Some(w));
        }
    }

    #[test]
    fn field_names_are_the_documented_ones() {
        let m = encode(&Wire::Controller(Message::JoinRequest { join_id: 2, cib_version: Version::new(1, 2, 3), was_dc: false }));
        assert_eq!(m.get_str("t"), Some("crmd"));
        assert_eq!(m.get_str("crmd_op"), Some("join_request"));
        assert_eq!(m.get_str("cib_version"), Some("1:2:3"));
        assert_eq!(m.get_str("was_dc"), Some("0"));
    }

    #[test]
    fn foreign_or_broken_messages_are_ignored() {
        assert_eq!(decode(&HbMessage::new().with_str("t", "cib")), None);
        assert_eq!(decode(&HbMessage::new().with_str("t", "crmd").with_str("crmd_op", "vote")), None);
        let bad = HbMessage::new().with_str("t", "crmd").with_str("crmd_op", "join_request").with_str("join_id", "1").with_str("cib_version", "1:2");
        assert_eq!(decode(&bad), None);
    }
}
