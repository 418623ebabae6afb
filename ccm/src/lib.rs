//! Cluster membership (daemon `ccm`): which nodes can all hear each other,
//! the membership generation, and quorum.
//!
//! # Layout
//!
//! Planned: a core without I/O (`handle(event, now) -> Vec<Command>`) and a
//! tokio shell, driven in tests by a simulated network.
