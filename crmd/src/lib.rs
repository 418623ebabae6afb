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
//! Without I/O too: [`wire`] (heartbeat fields of crmd messages),
//! [`alerts`] (the alerts section and each agent's environment),
//! [`status`] (what crmd writes into and reads from the status section),
//! [`lrm`] (graph actions into lrmd requests, records into `lrm_rsc_op`).
//!
//! The daemon shell ([`shell`], binary `crmd`) is the only I/O: tokio,
//! heartbeat client API, ccm views, cib, lrmd; docs/CRMD.md describes it.
//! `tests/` holds a deterministic simulation of N controllers (fake
//! network and clock) and end-to-end tests of real clusters.
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

pub mod alerts;
pub mod controller;
pub mod election;
pub mod fsa;
pub mod join;
pub mod lrm;
pub mod message;
pub mod shell;
pub mod status;
pub mod wire;

pub use controller::{Command, Config, Controller, Event, StatusUpdate, Timer};
pub use fsa::{Action, Input, State};
pub use join::Phase;
pub use message::{Destination, Message};
