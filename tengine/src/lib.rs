//! The transition engine: runs a transition graph (a DAG of synapses)
//! through an `ActionSink`, so crmd plugs in real actions and crm_simulate
//! a simulated one.
//!
//! # Layout
//!
//! Planned: `graph` (parse and model), `run` (the executor core).
