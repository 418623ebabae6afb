//! The policy engine: `schedule(&Cib, now)` will return allocation scores
//! and a transition graph. Pure: no I/O, no clock, no environment, no
//! randomness; iteration is in document or sorted order, so the same
//! input always gives byte-identical output. `pengine/clippy.toml` forbids
//! the clock, the environment, files and processes in this crate.
//!
//! # Layout
//!
//! ```text
//!  cib::model::Cib, now ──unpack──> WorkingSet ──schedule──> Schedule { scores, actions, summary } ──> graph, DOT
//! ```
//!
//! One module per pipeline stage, following Pacemaker's scheduler
//! (docs/PENGINE.md has the plan and what exists):
//!
//! - [`mod@unpack`]: stage 1, the CIB's configuration and status into a
//!   [`WorkingSet`] (nodes with their state, the resource tree with roles,
//!   failures, orphans).
//! - [`mod@schedule`]: stages 2-8 in order, on a [`schedule::Scheduler`]
//!   whose state the stage modules share: [`location`] (constraints,
//!   node health), [`node_criteria`] (stickiness, fail counts, Heartbeat
//!   failure stickiness), [`colocation`], [`assign`], [`actions`],
//!   [`probes`] (probes, recurring monitors), [`config_changes`],
//!   [`fencing`], [`orderings`], and the outputs [`graph`] (tengine's
//!   transition graph), [`dot`] and [`summary`] (Transition Summary).
//! - [`working_set`]: the types every stage shares.
//! - Helpers: [`options`] (cluster options and defaults), [`rules`] (rule
//!   evaluation), [`nvsets`] (name/value sets into tables), [`iso8601`]
//!   (dates), [`natural`] (Pacemaker's node-name order).

// Purity is enforced: clippy.toml lists the forbidden calls, this makes
// them errors.
#![deny(clippy::disallowed_methods)]

pub mod actions;
pub mod assign;
pub mod clone;
pub mod clone_order;
pub mod collective_order;
pub mod colocation;
pub mod config_changes;
pub mod dot;
pub mod error;
pub mod explain;
pub mod fencing;
pub mod graph;
pub mod iso8601;
pub mod location;
pub mod migration;
pub mod natural;
pub mod node_criteria;
pub mod notify;
pub mod nvsets;
pub mod options;
pub mod orderings;
pub mod pending_start;
pub mod param_failcounts;
pub mod probes;
pub mod promotable;
pub mod rules;
pub mod schedule;
pub mod summary;
pub mod tickets;
pub mod unfencing;
pub mod unpack;
pub mod utilization;
pub mod working_set;

pub use error::PengineError;
pub use explain::{explain, Contribution, Explanation};
pub use schedule::{schedule, schedule_explained, Schedule, ScoreLine};
pub use unpack::unpack;
pub use working_set::{Node, NodeId, NodeKind, Resource, RscId, Variant, WorkingSet};
