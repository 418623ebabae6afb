//! The policy engine: `schedule(&Cib, now)` returns allocation scores and a
//! transition graph. Pure: no I/O, no clock, no randomness.
//!
//! # Layout
//!
//! Planned: one module per pipeline stage (unpack status, node criteria,
//! location, assignment, actions, fencing, orderings, graph).
