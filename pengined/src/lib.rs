//! pengined: the policy engine as its own process (binary `pengine`).
//!
//! The controller sends the whole CIB; the daemon schedules it with the
//! pure [`pengine`] library, saves the input as Pacemaker does
//! (`$HA_VARLIB/pengine/pe-input-N.bz2`) and answers the transition graph.
//! A scheduling panic is caught and answered as an error: the daemon lives on.
//!
//! ```text
//!  crmd --client::compute(cib)--> $HA_RUNDIR/pengine.sock --> server (tokio)
//!                                                               | one request at a time
//!                                                               v
//!                                  compute::schedule (pure, catch_unwind)
//!                                                               |
//!                                  series::SeriesDir::save (pe-input-N.bz2, pe-input.last)
//!  crmd <--Computed{graph, transition_id, input}-- <pengine_reply> -'
//! ```
//!
//! Layout:
//! - [`protocol`]: the request and reply elements (framed as `tools::cib_live` frames).
//! - [`compute`]: CIB in, graph and series out; no I/O.
//! - [`series`]: pe-input / pe-warn / pe-error file names, wrap-around, saving.
//! - [`server`]: the socket, peer credentials, the worker.
//! - [`client`]: the async client the controller uses.
//!
//! See docs/PENGINED.md.

pub mod client;
pub mod compute;
pub mod error;
pub mod protocol;
pub mod series;
pub mod server;

pub use client::Computed;
pub use error::Error;
