//! The cluster status printer shared by crm_simulate, crm_mon -1 and
//! crm_resource -L: Pacemaker 2.1.5's text output of a working set
//! (lib/pengine/pe_output.c and the variant printers).
//!
//! # Layout
//!
//! - [`text`]: the nested-list writer (`  * item`, two spaces per level).
//! - [`nodes`]: the node list (Online/OFFLINE summaries, nodes in a
//!   special state one per line).
//! - [`resources`]: primitives, groups, clones; what each line says.
//!
//! The printer reads a [`pengine::WorkingSet`] and writes text; it
//! decides nothing about the cluster.

pub mod nodes;
pub mod resources;
pub mod text;

use pengine::WorkingSet;

use text::Out;

/// What to show (a subset of Pacemaker's `pcmk_show_*` options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShowOptions {
    /// Show stopped resources too ("Full List of Resources").
    pub inactive: bool,
    /// Show operations in flight (Starting, Stopping, Monitoring...).
    pub pending: bool,
}

impl Default for ShowOptions {
    /// crm_simulate's choice: everything, pending operations included.
    fn default() -> Self {
        ShowOptions { inactive: true, pending: true }
    }
}

/// The "node list" and "resource list" sections under `title`, as
/// crm_simulate prints them (without the trailing blank line).
pub fn cluster_status(ws: &WorkingSet, title: &str, opts: ShowOptions) -> String {
    let mut out = Out::new();
    out.header(0, title);
    nodes::node_list(&mut out, ws, 1);
    out.blank();
    resources::resource_list(&mut out, ws, 1, opts);
    out.finish()
}
