//! Cluster membership (daemon `ccm`): which nodes can all hear each other,
//! the membership instance, and quorum.
//!
//! # Layout
//!
//! ```text
//! heartbeat node events --+
//! peers' ccm messages ----+--> Ccm::handle(input, now) --> Vec<Command>
//! ticks, ping status -----+        (engine, no I/O)        Persist, Send,
//!                                                           Install(View), Timer
//! ```
//!
//! - [`engine`]: the core, [`Ccm`]: inputs, commands, the protocol.
//! - [`message`]: the consensus messages and their heartbeat field encoding.
//! - [`quorum`]: majority of configured nodes, the two-node rule,
//!   tie-breakers.
//! - [`view`]: the agreed membership handed to crmd and cib.
//! - [`config`]: node name, configured nodes, retry interval.
//!
//! - [`shell`]: the daemon's tokio shell: heartbeat's client API in,
//!   persistence, one timer, views out on `ccm.sock` (binaries `ccm` and
//!   `ccm_tool`).
//! - [`client`]: the `ccm.sock` protocol and [`client::watch`], how crmd
//!   and cib follow the membership.
//!
//! The core is exercised by a deterministic simulation in `tests/` (fake
//! clock, fake network with drops, delays, partitions and crashes, from
//! seeds); the shell by real daemons on loopback (`tests/t70_loopback.rs`).
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use ccm::{Ccm, Command, Config, Input};
//!
//! // A cluster of one configured node forms its view at the first tick.
//! let mut ccm = Ccm::new(Config::new("n1", ["n1"]), 0);
//! let commands = ccm.handle(Input::Tick, Duration::ZERO);
//! assert_eq!(commands.len(), 2); // Persist, then Install
//! let Command::Install(view) = &commands[1] else { panic!() };
//! assert_eq!(view.to_string(), "instance 1: n1 (quorum, leader n1)");
//! ```

pub mod client;
pub mod config;
pub mod engine;
mod error;
pub mod message;
pub mod quorum;
pub mod shell;
pub mod view;

pub use config::Config;
pub use engine::{Ccm, Command, Destination, Input, NodeStatus};
pub use error::Error;
pub use message::Message;
pub use quorum::{QuorumContext, QuorumRules, TieBreaker};
pub use view::View;
