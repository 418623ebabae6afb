//! Shared plumbing of the command-line tools: exit codes and how a tool
//! finds the CIB it works on.
//!
//! # Layout
//!
//! - [`exit`]: Pacemaker's `crm_exit_t` values.
//! - [`cibadmin`]: the cibadmin tool's logic (CLI, operations, XPath, output).
//! - `src/bin/*.rs`: one thin binary per tool (clap, then a library call).

pub mod attribute;
pub mod cib_file;
pub mod cib_live;
pub mod local_ipc;
pub mod cibadmin;
pub mod exit;
pub mod haresources2cib;
pub mod hb_switch;
pub mod monitor;
pub mod node;
pub mod output;
pub mod resource_edit;
pub mod simulate;
pub mod status;
pub mod verify;

pub use exit::ExitCode;
