//! The transition engine: Pacemaker's transition graph as typed data, its
//! XML form, and the executor that runs it through an [`ActionSink`], so
//! crmd plugs in real actions and crm_simulate a simulated one.
//!
//! # Layout
//!
//! ```text
//!  exp XML --read--> TransitionGraph --write--> Pacemaker's exact text
//!                        |   ^
//!                        |   +-- built in code by pengine
//!                        v
//!                    Executor (pure: results and `now` in, actions out)
//!                        |
//!          run(graph, &mut impl ActionSink)     crmd: drives Executor itself
//!                        |
//!                 SimulatedSink -> "Executing Cluster Transition:" lines
//! ```
//!
//! See docs/TENGINE.md for the model, the writer's quirks, the execution
//! rules and the API.
//!
//! - [`graph`]: the model (`TransitionGraph`, `Synapse`, `Action`...).
//! - [`read`] / [`mod@write`]: XML in, Pacemaker's text out (docs/TENGINE.md
//!   lists the writer's quirks).
//! - [`executor`]: the incremental core: synapse states, firing order,
//!   confirmations, failures and aborts, timeouts against a passed-in clock.
//! - [`sink`]: the `ActionSink` trait and the synchronous [`run`].
//! - [`simulate`]: the sink crm_simulate uses, printing what it fires.
//! - [`validate`]: structural problems (duplicate ids, missing inputs, cycles).

pub mod error;
pub mod executor;
pub mod graph;
pub mod read;
pub mod simulate;
pub mod sink;
pub mod validate;
pub mod write;

pub use error::Error;
pub use executor::{ActionResult, Executor, Fired, RunOutcome, RunStatus, Step, SynapseState};
pub use graph::{
    Action, ActionHeader, ActionKind, Attributes, GraphAttrs, Resource, Synapse, TransitionGraph,
    INFINITY,
};
pub use simulate::SimulatedSink;
pub use sink::{run, ActionSink};
pub use validate::Problem;
