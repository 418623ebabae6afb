//! The cib daemon: one node's copy of the replicated CIB.
//!
//! # Layout
//!
//! ```text
//!  local clients (cibadmin, crm_*)        other nodes' cib daemons
//!        | $HA_RUNDIR/cib.sock                 | heartbeat client API (t=cib messages)
//!        v                                     v
//!      shell  --Input-->  core::Core  --Command-->  shell: replies, sends, store writes, notifications
//! ```
//!
//! - [`core`]: the state machine without I/O (master or replica, forwarding,
//!   diffs, joins and full syncs). Time comes in as an argument.
//! - [`peer`]: the cib-to-cib messages and their heartbeat encoding.
//! - [`shell`]: tokio: the store, the local socket, the heartbeat connection.
//! - [`haresources_mode`]: `crm no` with haresources: the configuration
//!   generated from haresources at every start (docs/HARESOURCES_MODE.md).
//! - `src/bin/cib.rs`: the binary, named `cib` as Heartbeat's was.
//!
//! The local IPC protocol is in `tools::cib_live` (the tools need the
//! client; this crate needs cibadmin's operations from `tools`, so the
//! protocol lives below both). docs/CIB_DAEMON.md describes the protocol,
//! the replication rules and the decisions.

pub mod core;
pub mod haresources_mode;
pub mod peer;
pub mod shell;
