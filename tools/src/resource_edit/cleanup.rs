//! `-C` (cleanup), `-R` (refresh) and Heartbeat's `-P [-H NODE]`
//! (reprobe): forget operation history so the cluster looks again.
//!
//! Pacemaker 2.1.5 asks the controller of each node to delete the history
//! and crashes on a CIB file; here the status section is edited directly
//! (on a file, or on the live CIB through the cib daemon), which is what
//! the controllers would have written:
//!
//! - cleanup: the resource's fail counts and failed operations
//!   (`attribute::failcount::clear`, shared with `crm_failcount -D`);
//! - refresh: its fail counts and its whole history (`lrm_resource`);
//! - reprobe: every resource's history on the node(s).
//!
//! As in Pacemaker, a group or clone is handled member by member, and
//! without `-N` only the online nodes where the resource has history
//! are cleaned, one "Cleaned up RSC on NODE" line each.

use cib::{Element, Node};
use pengine::{RscId, Variant, WorkingSet};

use super::{fail, remove_where};
use crate::attribute::failcount::clear;
use crate::attribute::node_id;
use crate::cib_file::{CibFile, Outcome, WriteError};
use crate::ExitCode;

/// What to forget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forget {
    /// Failures only (`-C`).
    Failures,
    /// The whole history (`-R`, `-P`).
    History,
}

/// The (history id, node) pairs a cleanup of `r` touches, as
/// `cli_resource_delete` walks them: members first, then for a primitive
/// the named node or every online node that knows it.
fn targets(ws: &WorkingSet, r: RscId, node: Option<&str>, out: &mut Vec<(String, String, String)>) {
    let res = ws.rsc(r);
    if !res.children.is_empty() || matches!(res.variant, Variant::Group | Variant::Clone(_)) {
        for &c in &res.children {
            targets(ws, c, node, out);
        }
        return;
    }
    let mut push = |uname: &str| {
        let entry = (res.id.clone(), res.xml_id.clone(), uname.to_string());
        if !out.contains(&entry) {
            out.push(entry);
        }
    };
    match node {
        Some(n) => push(n),
        None => {
            for (i, n) in ws.nodes.iter().enumerate() {
                if n.online && res.known_on.contains(&pengine::NodeId(i)) {
                    push(&n.uname);
                }
            }
        }
    }
}

/// Removes `id`'s whole history (every instance's) on the node `node_id`.
fn drop_history(cib: &mut Element, node_id: &str, id: &str) -> bool {
    let Some(status) = cib.child_mut("status") else { return false };
    let mut n = 0;
    for state in status.elements_mut().filter(|s| s.name == "node_state" && s.id() == Some(node_id)) {
        n += remove_where(state, &|e| {
            e.name == "lrm_resource" && e.id().is_some_and(|rid| rid == id || rid.strip_prefix(id).is_some_and(|r| r.starts_with(':')))
        });
    }
    n > 0
}

/// `-C` / `-R` with `-r RSC` (`r` found in `ws`).
#[allow(clippy::too_many_arguments)]
pub fn resource(
    file: &CibFile,
    ws: &WorkingSet,
    r: RscId,
    node: Option<&str>,
    op: Option<&str>,
    interval: u64,
    forget: Forget,
    quiet: bool,
) -> Outcome {
    let o = Outcome::default();
    if let Some(n) = node {
        if ws.node_by_uname(n).is_none() {
            return fail(o, &format!("crm_resource: Unable to clean up {} because node {n} not found\n", ws.rsc(r).id), ExitCode::NoSuch);
        }
    }
    let mut list = Vec::new();
    targets(ws, r, node, &mut list);
    let result = file.edit(|cib| -> Result<(), String> {
        for (_, xml_id, uname) in &list {
            let Some(id) = node_id(cib, uname) else { continue };
            clear(cib, &id, xml_id, op, interval);
            if forget == Forget::History {
                drop_history(cib, &id, xml_id);
            }
        }
        Ok(())
    });
    let mut o = finish(o, result);
    if o.code == 0 && !quiet {
        for (id, _, uname) in &list {
            o.out(&format!("Cleaned up {id} on {uname}\n"));
        }
    }
    o
}

/// `-C` / `-R` without `-r`: every resource, on `node` or everywhere.
pub fn all(file: &CibFile, ws: &WorkingSet, node: Option<&str>, op: Option<&str>, interval: u64, forget: Forget, quiet: bool) -> Outcome {
    let o = Outcome::default();
    if let Some(n) = node {
        if ws.node_by_uname(n).is_none() {
            return fail(o, &format!("crm_resource: Node {n} not found\n"), ExitCode::NoSuch);
        }
    }
    let ids: Vec<String> = ws.resources.iter().filter(|r| r.is_primitive()).map(|r| r.xml_id.clone()).collect();
    let result = file.edit(|cib| -> Result<(), String> {
        for id in node_ids(cib, node) {
            if forget == Forget::History {
                forget_node(cib, &id);
            }
            for rsc in &ids {
                clear(cib, &id, rsc, op, interval);
            }
        }
        Ok(())
    });
    let mut o = finish(o, result);
    if o.code == 0 && !quiet {
        o.out(&format!("Cleaned up all resources on {}\n", node.unwrap_or("all nodes")));
    }
    o
}

/// Heartbeat's `-P [-H NODE]`: the node's (or every node's) whole
/// operation history goes, so the cluster probes everything again.
pub fn reprobe(file: &CibFile, node: Option<&str>) -> Outcome {
    let o = Outcome::default();
    let result = file.edit(|cib| -> Result<(), String> {
        if let Some(n) = node {
            if node_id(cib, n).is_none() {
                return Err(format!("crm_resource: Node '{n}' not found\n"));
            }
        }
        for id in node_ids(cib, node) {
            forget_node(cib, &id);
        }
        Ok(())
    });
    finish(o, result)
}

/// The `node_state` ids of `node`, or of every node.
fn node_ids(cib: &Element, node: Option<&str>) -> Vec<String> {
    match node {
        Some(n) => node_id(cib, n).into_iter().collect(),
        None => cib
            .child("status")
            .map(|s| s.children_named("node_state").filter_map(|e| e.id()).map(str::to_string).collect())
            .unwrap_or_default(),
    }
}

/// Empties the node's `lrm_resources`.
fn forget_node(cib: &mut Element, node_id: &str) {
    let Some(status) = cib.child_mut("status") else { return };
    for state in status.elements_mut().filter(|s| s.name == "node_state" && s.id() == Some(node_id)) {
        for lrm in state.elements_mut().filter(|e| e.name == "lrm") {
            for lrs in lrm.elements_mut().filter(|e| e.name == "lrm_resources") {
                lrs.children.retain(|c| !matches!(c, Node::Element(e) if e.name == "lrm_resource"));
            }
        }
    }
}

fn finish(mut o: Outcome, result: Result<(), WriteError<String>>) -> Outcome {
    match result {
        Ok(()) => o,
        Err(WriteError::Edit(msg)) => fail(o, &msg, ExitCode::NoSuch),
        Err(WriteError::Invalid(_)) => o.exit(ExitCode::Config),
        Err(WriteError::Unavailable(u)) => {
            let (msg, code) = u.report("crm_resource");
            o.err(&msg);
            o.exit(code)
        }
    }
}
