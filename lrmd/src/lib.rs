//! The local resource manager: runs OCF, LSB, Heartbeat resource.d and
//! fencing agents, one operation at a time per resource, with recurring
//! monitors, and reports results in the CIB status section's terms.
//!
//! # Layout
//!
//! ```text
//!  client (crmd, lrmadmin)          lrmd daemon (server)                 agents
//!  ------------------------   ---------------------------------   -----------------
//!  client::Client  --JSON-->  server: socket, peer creds check
//!                 <--lines--   core::Core  (no I/O: queues,   --Run-->  runner (tokio:
//!                              recurring ops, history)         <-OpResult-  process group,
//!                                                                           timeout, caps)
//!                                                              agent: where the agent is,
//!                                                              argv/env/stdin, exit mapping
//! ```
//!
//! - [`resource`]: `ResourceSpec`, `AgentClass`, haresources `TYPE::ARG` entries.
//! - [`op`]: `OpRequest`, `OpResult` (agent outcomes are data), `OpRecord`
//!   (`lrm_rsc_op`), OCF codes and `OpStatus`.
//! - [`core`]: the scheduler without I/O (`Core`, `Command`, `Now`).
//! - [`digest`]: the `op-digest` family on each record (`cib::op_digest`).
//! - [`agent`]: pure translation of a request into an invocation per
//!   class, and of a process outcome back into an `OpResult`.
//! - [`runner`]: the tokio code that runs one invocation; [`spawn`]:
//!   posix_spawn with prepared argv/environment, pidfd exit watch.
//! - [`protocol`]: the wire messages of the socket (docs/LRMD.md).
//! - [`server`]: the daemon loop; [`client`]: a blocking client library.
//! - [`local`]: agents run directly, for crm_resource's local commands.
//! - [`witness`]: the start/stop witness log of the project's agents and
//!   its double-run checker.
//!
//! docs/LRMD.md describes the behaviour, the protocol and what is left.

pub mod agent;
pub mod async_client;
pub mod client;
pub mod core;
pub mod digest;
pub mod local;
pub mod error;
pub mod op;
pub mod protocol;
pub mod resource;
pub mod runner;
pub mod server;
pub mod spawn;
pub mod witness;

pub use error::LrmdError;
