//! ipfail: in a two-node cluster, the node that reaches fewer ping nodes
//! than its peer gives its resources to the peer (seed 001:
//! `respawn hacluster /usr/lib/heartbeat/ipfail` with a `ping` node).
//!
//! ```text
//! heartbeat.sock: ping nodes' and the peer's status, t=ipfail messages
//!     --> core::Ipfail (compare counts, delayed give-up)
//!     --> t=ipfail to the peer | attrd: standby=on (give up) / delete (reclaim)
//! ```
//!
//! "Give up" is this node's transient `standby` attribute (reboot
//! lifetime, through attrd): the policy engine moves every resource off a
//! standby node, in haresources mode as in CRM mode, and the attribute
//! is gone when the node's heartbeat restarts. See docs/PINGD.md.
//!
//! Layout: [`core`] (pure), [`wire`] (the peer messages), [`shell`].

pub mod core;
pub mod shell;
pub mod wire;
