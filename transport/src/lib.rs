//! The Heartbeat messaging layer (daemon `heartbeat`).
//!
//! # Layout
//!
//! ```text
//! ha.cf ----> hacf::parse ------> HaCf (+ diagnostics)
//! authkeys -> authkeys::Authkeys::load -> keys (+ diagnostics)
//! haresources -> haresources::parse -> resource groups
//! UDP bytes <-> wire::{decode, Message::sign} <-> Message, Verdict
//!
//! media (UDP sockets) -> RecvCounters::accept -> engine::Engine::handle -> Commands
//!                         timer ticks, api clients --^        (send, deliver, events, log)
//! daemon: the tokio shell running the engine; bin/heartbeat, bin/cl_status
//! (the HA_* environment comes from the `haenv` crate)
//! ```
//!
//! - [`diag`]: findings in configuration files, as data.
//! - [`time`]: Heartbeat's time values (`2`, `0.5`, `500ms`).
//! - [`hacf`]: ha.cf, every directive the seeds use, Heartbeat's defaults
//!   and checks.
//! - [`authkeys`]: authkeys, HMAC-SHA1/HMAC-MD5/crc signing.
//! - [`haresources`]: v1 resource groups (shared with haresources2cib).
//! - [`wire`]: Heartbeat 3.0.6's netstring and classic message formats.
//! - [`status`]: the typed keepalive (`t=status`) message.
//! - [`identity`]: the node's uuid (`hb_uuid`) and restart generation
//!   (`hb_generation`) in Heartbeat's on-disk formats.
//! - [`fuzzing`]: the properties the fuzz target checks.
//! - [`sequence`]: per-sender sequence numbers, replay rejection, gaps.
//! - [`engine`]: the core without I/O: liveness, links, retransmission.
//! - [`compress`]: Heartbeat's message compression (`_compressed_payload`).
//! - [`fragment`]: messages larger than a datagram, split and reassembled.
//! - [`ping`]: ICMP echo for `ping` / `ping_group` pseudo-nodes.
//! - [`media`]: ucast/bcast/mcast sockets (socket2) and receive checks.
//! - [`api`]: the local client API (framing, requests, a sync client).
//! - [`api_async`]: an async client of that API for daemons (ccm, crmd).
//! - [`daemon`]: the tokio shell of `heartbeat`.
//! - [`launcher`]: which children heartbeat runs and Heartbeat's respawn
//!   rules (pure); [`children`]: the processes.

pub mod api;
pub mod api_async;
pub mod authkeys;
pub mod children;
pub mod compress;
pub mod daemon;
pub mod diag;
pub mod engine;
pub mod fragment;
pub mod fuzzing;
pub mod hacf;
pub mod haresources;
pub mod identity;
pub mod launcher;
pub mod media;
pub mod ping;
pub mod sequence;
pub mod service;
pub mod status;
pub mod time;
pub mod wire;
