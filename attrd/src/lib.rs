//! attrd: each node's transient attributes (fail counts, pingd, ...),
//! held in memory by the node's own attrd and written into the CIB status
//! section through the local cib daemon, after their dampening delay.
//!
//! ```text
//!  attrd_updater / crm_attribute -l reboot / crm_failcount / crmd
//!        | $HA_RUNDIR/attrd.sock (protocol)
//!        v
//!  server (tokio) --Input--> core::Core (table, dampening) --Write--> cib_writer --> cib.sock
//!        | other node's attribute: heartbeat (t=attrd) to that node's attrd
//! ```
//!
//! Layout:
//! - [`core`]: the attribute table and dampening, no I/O.
//! - [`value`]: `value++` / `value+=N`, fail-count names.
//! - [`protocol`]: local requests/replies and the cluster messages.
//! - [`cib_writer`]: the status-section writes (blocking cib client).
//! - [`heartbeat`]: the heartbeat link.
//! - [`server`]: the daemon shell. [`client`]: blocking and async clients.
//! - [`updater`]: attrd_updater's command line.
//! - [`pingd`], [`ipfail`]: the ping-node helpers heartbeat respawns
//!   (binaries `pingd`, `ipfail`; docs/PINGD.md).
//!
//! See docs/ATTRD.md.

pub mod cib_writer;
pub mod client;
pub mod core;
pub mod error;
pub mod heartbeat;
pub mod ipfail;
pub mod pingd;
pub mod protocol;
pub mod server;
pub mod updater;
pub mod value;

pub use error::Error;
