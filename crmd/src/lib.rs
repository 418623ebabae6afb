//! The cluster resource manager daemon's core: the controller state
//! machine, DC election and the join protocol, without I/O.
//!
//! # Layout
//!
//! ```text
//! ccm views -------------+
//! peers' messages -------+                                  Send(message)
//! CIB changes -----------+--> Controller::handle(event, now) --> SetTimer / CancelTimer
//! pengine / tengine done +      fsa::next(state, input)         ComputeTransition / ExecuteTransition
//! timer firings ---------+      election, join                  SyncCib / WriteStatus / Exit
//! ```
//!
//! - [`fsa`]: `State`, `Input`, `Action` and the one transition table
//!   (pinned pair by pair by `src/fsa/testdata/fsa_table.txt`).
//! - [`election`]: the vote comparison rule and a candidate's bookkeeping.
//! - [`join`]: the DC's join phases per node.
//! - [`message`]: what controllers send each other.
//! - [`controller`]: the core that turns events into inputs, runs the
//!   table's actions and emits [`Command`]s.
//!
//! The daemon shell (tokio, heartbeat client API, cib/lrmd/pengine IPC)
//! is not written yet; docs/CRMD.md says what it needs. `tests/` holds a
//! deterministic simulation of N controllers (fake network and clock).
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use crmd::{Command, Config, Controller, Event, State};
//!
//! // A one-node cluster elects itself and computes a transition.
//! let mut c = Controller::new(Config::new("n1"), Duration::ZERO);
//! let view = ccm::View {
//!     instance: 1,
//!     members: ["n1".to_string()].into(),
//!     quorum: true,
//!     leader: "n1".into(),
//! };
//! let cmds = c.handle(Event::Membership(view), Duration::ZERO);
//! assert_eq!(c.state(), State::PolicyEngine);
//! assert!(cmds.contains(&Command::ComputeTransition { id: 1 }));
//! ```

pub mod controller;
pub mod election;
pub mod fsa;
pub mod join;
pub mod message;

pub use controller::{Command, Config, Controller, Event, StatusUpdate, Timer};
pub use fsa::{Action, Input, State};
pub use join::Phase;
pub use message::{Destination, Message};
