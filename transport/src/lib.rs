//! The Heartbeat messaging layer (daemon `heartbeat`).
//!
//! # Layout
//!
//! - [`identity`]: the node's uuid (`hb_uuid`) and restart generation
//!   (`hb_generation`) in Heartbeat's on-disk formats.
//!
//! Planned: `hacf` (ha.cf), `authkeys`, `wire` (Heartbeat 3.0.6 netstring
//! messages), `link` (UDP media).
//! See docs/ENVIRONMENT.md for the files this crate owns.

pub mod identity;
