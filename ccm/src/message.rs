//! The consensus messages ccm nodes exchange, and their field encoding.
//!
//! Messages travel through heartbeat's client API, whose messages are flat
//! `name=value` lists; [`Message::to_fields`] and [`Message::from_fields`]
//! map to and from that shape without depending on the transport crate.
//! Member lists are space-separated node names (heartbeat node names are
//! host names and never contain spaces).
//!
//! | `t=`          | fields                         | sent by                 |
//! |---------------|--------------------------------|-------------------------|
//! | `ccm_propose` | `instance`, `members`          | leader, to all          |
//! | `ccm_ack`     | `instance`                     | follower, to the leader |
//! | `ccm_nack`    | `instance`, `highest`          | follower, to the leader |
//! | `ccm_commit`  | `instance`, `members`, `quorum`| leader, to all          |
//! | `ccm_join`    | `view` (may be absent), `highest` | follower, to its leader |

use std::collections::BTreeSet;

use crate::Error;

/// One consensus message. The sender is not inside: heartbeat tells the
/// receiver who sent it (`src`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// "Install view `instance` with exactly these members": a leader's
    /// proposal, sent to every node.
    Propose { instance: u64, members: BTreeSet<String> },
    /// "I promise `instance` and accept your proposal for it."
    Ack { instance: u64 },
    /// "Your `instance` is too low; I have promised or seen `highest`."
    Nack { instance: u64, highest: u64 },
    /// "Everyone acked `instance`: install it." `quorum` is decided once,
    /// by the leader, so that every member reports the same.
    Commit { instance: u64, members: BTreeSet<String>, quorum: bool },
    /// "My view (`view`, or none) does not match what I see; please run a
    /// round." Sent by a follower to its leader on every retry.
    Join { view: Option<u64>, highest: u64 },
}

const PROPOSE: &str = "ccm_propose";
const ACK: &str = "ccm_ack";
const NACK: &str = "ccm_nack";
const COMMIT: &str = "ccm_commit";
const JOIN: &str = "ccm_join";

impl Message {
    /// The `t=` value of this message.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Propose { .. } => PROPOSE,
            Message::Ack { .. } => ACK,
            Message::Nack { .. } => NACK,
            Message::Commit { .. } => COMMIT,
            Message::Join { .. } => JOIN,
        }
    }

    /// The message as heartbeat `name=value` fields, `t` first.
    pub fn to_fields(&self) -> Vec<(&'static str, String)> {
        let mut f = vec![("t", self.kind().to_owned())];
        match self {
            Message::Propose { instance, members } => {
                f.push(("instance", instance.to_string()));
                f.push(("members", join(members)));
            }
            Message::Ack { instance } => f.push(("instance", instance.to_string())),
            Message::Nack { instance, highest } => {
                f.push(("instance", instance.to_string()));
                f.push(("highest", highest.to_string()));
            }
            Message::Commit { instance, members, quorum } => {
                f.push(("instance", instance.to_string()));
                f.push(("members", join(members)));
                f.push(("quorum", if *quorum { "1" } else { "0" }.to_owned()));
            }
            Message::Join { view, highest } => {
                if let Some(v) = view {
                    f.push(("view", v.to_string()));
                }
                f.push(("highest", highest.to_string()));
            }
        }
        f
    }

    /// Decodes a message from its fields; `get` looks a field up by name.
    pub fn from_fields<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Message, Error> {
        let t = get("t");
        let kind = match t {
            Some(PROPOSE) => PROPOSE,
            Some(ACK) => ACK,
            Some(NACK) => NACK,
            Some(COMMIT) => COMMIT,
            Some(JOIN) => JOIN,
            other => return Err(Error::NotCcm(other.map(str::to_owned))),
        };
        let field = |field: &'static str| field_value(&get, kind, field);
        let number = |field: &'static str| -> Result<u64, Error> {
            let v = field_value(&get, kind, field)?;
            v.parse().map_err(|_| Error::BadField { kind, field, value: v.to_owned() })
        };
        let members = || -> Result<BTreeSet<String>, Error> {
            Ok(field("members")?.split_whitespace().map(str::to_owned).collect())
        };
        Ok(match kind {
            PROPOSE => Message::Propose { instance: number("instance")?, members: members()? },
            ACK => Message::Ack { instance: number("instance")? },
            NACK => Message::Nack { instance: number("instance")?, highest: number("highest")? },
            COMMIT => {
                let quorum = match field("quorum")? {
                    "1" => true,
                    "0" => false,
                    v => return Err(Error::BadField { kind, field: "quorum", value: v.to_owned() }),
                };
                Message::Commit { instance: number("instance")?, members: members()?, quorum }
            }
            _ => Message::Join {
                view: match get("view") {
                    Some(_) => Some(number("view")?),
                    None => None,
                },
                highest: number("highest")?,
            },
        })
    }
}

fn field_value<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
    kind: &'static str,
    field: &'static str,
) -> Result<&'a str, Error> {
    get(field).ok_or(Error::MissingField { kind, field })
}

fn join(members: &BTreeSet<String>) -> String {
    members.iter().map(String::as_str).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(fields: &[(&str, &str)]) -> Result<Message, Error> {
        Message::from_fields(|name| fields.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
    }

    fn round_trip(m: Message) {
        let fields = m.to_fields();
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert_eq!(decode(&borrowed), Ok(m));
    }

    #[test]
    fn every_message_round_trips() {
        let members: BTreeSet<String> = ["n1", "n2", "n3"].iter().map(|s| s.to_string()).collect();
        round_trip(Message::Propose { instance: 7, members: members.clone() });
        round_trip(Message::Ack { instance: 7 });
        round_trip(Message::Nack { instance: 7, highest: 12 });
        round_trip(Message::Commit { instance: 7, members, quorum: true });
        round_trip(Message::Join { view: Some(3), highest: 9 });
        round_trip(Message::Join { view: None, highest: 0 });
    }

    #[test]
    fn fields_are_readable() {
        let m = Message::Commit { instance: 4, members: ["b", "a"].iter().map(|s| s.to_string()).collect(), quorum: false };
        let f = m.to_fields();
        assert_eq!(
            f,
            vec![
                ("t", "ccm_commit".to_owned()),
                ("instance", "4".to_owned()),
                ("members", "a b".to_owned()),
                ("quorum", "0".to_owned())
            ]
        );
    }

    #[test]
    fn bad_messages_are_named() {
        assert_eq!(decode(&[("t", "status")]), Err(Error::NotCcm(Some("status".into()))));
        assert_eq!(decode(&[]), Err(Error::NotCcm(None)));
        assert_eq!(
            decode(&[("t", "ccm_ack")]),
            Err(Error::MissingField { kind: "ccm_ack", field: "instance" })
        );
        assert_eq!(
            decode(&[("t", "ccm_ack"), ("instance", "-1")]),
            Err(Error::BadField { kind: "ccm_ack", field: "instance", value: "-1".into() })
        );
        assert_eq!(
            decode(&[("t", "ccm_commit"), ("instance", "1"), ("members", "a"), ("quorum", "yes")]),
            Err(Error::BadField { kind: "ccm_commit", field: "quorum", value: "yes".into() })
        );
    }
}
