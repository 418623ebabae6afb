//! crm_mon's library: the cluster status as Pacemaker 2.1.5's crm_mon
//! shows it, in text (`-1`), XML (`--output-as xml`, the
//! `<pacemaker-result>` document of Pacemaker's crm_mon API schema) and
//! HTML (a self-contained page), plus the one-line Nagios check (`-s`).
//!
//! # Layout
//!
//! ```text
//!  CIB_file / live ──load──> Snapshot { raw CIB, typed Cib, WorkingSet (pengine::unpack at now) }
//!                         │
//!          ┌──────────────┼───────────────┬──────────────┐
//!        text            xml            html          nagios      (renderers: Snapshot + Options -> String)
//! ```
//!
//! - [`snapshot`]: loading a CIB and the facts every renderer shares
//!   (summary counts, DC, node history, failures, bans, tickets).
//! - [`text`], [`xml`], [`html`], [`nagios`]: one renderer each.
//! - [`clock`]: local-time formatting as Pacemaker prints times.
//! - [`source`]: where the CIB comes from (a file, or the cib daemon,
//!   with its change notifications for the refreshing console).
//! - [`cli`]: the command line, one-shot and refreshing modes, `-h`/`-d`.
//!
//! The resource and node lines reuse [`crate::status`], the printer
//! crm_simulate shares, so crm_mon and crm_simulate cannot drift apart.

pub mod cli;
pub mod bans;
pub mod clock;
pub mod html;
pub mod nagios;
pub mod snapshot;
pub mod source;
pub mod text;
pub mod xml;

pub use snapshot::Snapshot;

/// What to show: crm_mon's display options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// `-r`: inactive resources too.
    pub inactive: bool,
    /// `-f`: the "Migration Summary" (fail counts).
    pub fail_counts: bool,
    /// `-A`: node attributes.
    pub node_attributes: bool,
    /// `-n`: resources grouped by node.
    pub group_by_node: bool,
    /// `-o`: operation history.
    pub operations: bool,
    /// `-t`: timing details of operations.
    pub timing: bool,
    /// `--show-detail`: failed actions in technical form, node ids.
    pub detail: bool,
    /// `-L`: negative location constraints.
    pub bans: bool,
    /// `-c`: tickets.
    pub tickets: bool,
}

/// Output formats crm_mon supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Xml,
    Html,
    /// The XML document mapped mechanically (`crate::output::json`).
    Json,
}
