//! The Heartbeat messaging layer (daemon `heartbeat`).
//!
//! # Layout
//!
//! Planned: `hacf` (ha.cf), `authkeys`, `wire` (Heartbeat 3.0.6 netstring
//! messages), `link` (UDP media), `identity` (hb_uuid, hb_generation).
//! See docs/ENVIRONMENT.md for the files this crate owns.
