//! stonithd: the fencing daemon. One per node; it knows the fence devices
//! this node may run (the CIB's `primitive class="stonith"` and ha.cf's
//! `stonith` / `stonith_host` lines), takes fencing requests from the DC
//! (or `stonith_admin`), has them carried out by a node that is not the
//! target, and keeps the history of every fencing operation.
//!
//! ```text
//!  crmd / stonith_admin --client--> $HA_RUNDIR/stonithd.sock (protocol)
//!                                      |
//!  cib daemon --cib_watch (query + notify)--> server (tokio) --lrmd::runner--> fence agent / stonith(8)
//!                                      |  no capable device here, or the target is this node:
//!                                      |  heartbeat t=stonithd: query -> query_reply -> exec -> result (broadcast)
//!                                      v
//!                          history (every node records every result)
//! ```
//!
//! Layout:
//! - [`device`]: devices and their host rules (pure).
//! - [`delay`]: priority-fencing-delay, pcmk_delay_base/max (pure).
//! - [`history`]: the history and its text forms (pure).
//! - [`topology`]: fencing-topology levels and their device runs (pure).
//! - [`protocol`]: local requests/replies and peer messages.
//! - [`cib_watch`]: keeps the CIB current (blocking thread).
//! - [`heartbeat`]: the heartbeat link.
//! - [`server`]: the daemon shell. [`client`]: blocking and async clients.
//! - [`admin`]: stonith_admin's command line.
//!
//! See docs/STONITHD.md.

pub mod admin;
pub mod cib_watch;
pub mod client;
pub mod delay;
pub mod device;
pub mod error;
pub mod heartbeat;
pub mod history;
pub mod protocol;
pub mod server;
pub mod topology;

pub use error::Error;

/// stonith_admin's default timeout (120 s), also used when a request
/// gives none.
pub const DEFAULT_TIMEOUT_MS: u64 = 120_000;
