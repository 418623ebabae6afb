//! The messages controllers exchange (Pacemaker's `crm_election`, `join_offer`,
//! `join_request`, `join_ack_nack`, `join_confirm`, by their role).
//!
//! The wire encoding (heartbeat fields) belongs to the daemon shell; the core
//! only sees these values.

use cib::Version;

/// A controller-to-controller message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// "I am a candidate": the sender's election id and uptime.
    Vote { election_id: u64, age_ms: u64 },
    /// "You beat me": answers the vote of the node's election `election_id`.
    NoVote { election_id: u64 },
    /// DC to node: join me. Carries the DC's uptime so that a node in an
    /// election can tell whether the DC beats it.
    JoinOffer { join_id: u64, age_ms: u64 },
    /// Node to DC: I join, here is my CIB version. `was_dc`: I gave up
    /// the DC role since my last join (offer everyone a new round).
    JoinRequest { join_id: u64, cib_version: Version, was_dc: bool },
    /// DC to node: your join is finalized (after the CIB sync).
    JoinAck { join_id: u64 },
    /// Node to DC: I have the DC's CIB and report my resource state.
    JoinConfirm { join_id: u64 },
    /// Node to a DC it does not follow (it refused that DC's action):
    /// "my DC is `dc`". Two DCs in one membership: the receiver holds an
    /// election at once (Pacemaker's "Another DC detected"), so one of
    /// them steps down instead of both acting.
    OtherDc { dc: String },
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Every other member of the current view.
    All,
    /// One node, by name.
    Node(String),
}
