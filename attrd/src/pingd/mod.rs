//! pingd: ping-node connectivity as a node attribute (seed 003:
//! `respawn hacluster /usr/local/ha/lib/heartbeat/pingd -m 100 -d 5s`).
//!
//! ```text
//! heartbeat.sock: nodelist, nodetype, nodestatus, then pushed t=nodestatus
//!     --> core::Connectivity (which ping nodes answer)
//!     --> value = multiplier x answering ping nodes
//!     --> attrd.sock: update NAME=value, dampen_ms (attrd writes it into
//!         the status section once the value held still for the delay)
//! ```
//!
//! Heartbeat pings the `ping` / `ping_group` nodes of ha.cf itself
//! (transport's ping medium); pingd only listens to their status, as
//! Heartbeat 2's pingd did without `-h`. See docs/PINGD.md.
//!
//! Layout: [`core`] (pure), [`nodes`] (heartbeat's node table),
//! [`shell`] (the daemon loop).

pub mod core;
pub mod nodes;
pub mod shell;
