//! The local resource manager: runs OCF, LSB, Heartbeat resource.d and
//! fencing agents, one operation at a time per resource.
//!
//! # Layout
//!
//! Planned: a core without I/O (queues, recurring monitors, history) and a
//! tokio shell that runs agent processes.
