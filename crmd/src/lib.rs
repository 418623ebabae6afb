//! The cluster resource manager daemon: the DC state machine, election,
//! join, and transitions.
//!
//! # Layout
//!
//! Planned: `fsa` (State and Input enums, one exhaustive transition
//! function), a tokio shell around it.
