//! `crm_resource -O` (`--list-operations`, the operations still in
//! effect) and `-o` (`--list-all-operations`, the whole recorded
//! history), optionally narrowed by `-r RSC` and `-N NODE`, as Pacemaker
//! 2.1.5 lists them:
//!
//! ```text
//! DcIPaddr<TAB>(ocf:heartbeat:IPaddr):<TAB> Started: DcIPaddr_monitor_5000 (node=hadev2, call=19, rc=0, last-rc-change='Fri Jul 13 13:50:59 2012', exec=10ms): complete
//! ```
//!
//! (`<TAB>` is a tab character.) The walk follows Pacemaker's `find_operations`: node states in status
//! order (a node must be known, and online unless fencing is enabled),
//! their `lrm_resource` entries in order (`-r` compares the history's id,
//! so an unknown resource simply lists nothing), each entry's operations
//! in the scheduler's history order (`sort_op_by_callid` through GLib's
//! merge sort, over the list built backwards). `-O` keeps what `calculate_active_ops` says is still
//! active (from the last start on). The line's first part is the resource's status line
//! without its node (the status printer's), its current state included.

use cib::model::status::{LrmRscOp, NodeState};
use cib::model::Cib;
use cib::Element;
use pengine::WorkingSet;

use crate::cib_file::Outcome;
use crate::monitor::clock::ctime;
use crate::status::resources::primitive_text;
use crate::status::ShowOptions;
use crate::ExitCode;

/// What to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `-O`: the operations still in effect.
    Active,
    /// `-o`: every recorded operation.
    All,
}

/// Lists the operations of `rsc` (a history id) on `node`, or all.
/// `raw` is the CIB as read: the line shows attributes as written
/// (`call`, `rc`, `last-rc-change`, `exec-time`), which the model
/// normalises (it also reads Heartbeat's `last_rc_change`, which
/// Pacemaker's listing ignores).
///
/// Each listed operation is also added to `xml` as the `<operation>`
/// element of `--output-as xml`.
pub fn list(raw: &Element, model: &Cib, ws: &WorkingSet, rsc: Option<&str>, node: Option<&str>, which: Which, xml: &mut Vec<Element>) -> Outcome {
    let mut o = Outcome::default();
    if let Some(n) = node {
        if ws.node_by_uname(n).is_none() {
            o.err(&format!("crm_resource: Node '{n}' not found\n"));
            o.err("Error performing operation: No such object\n");
            return o.exit(ExitCode::NoSuch);
        }
    }
    for state in &model.status.node_states {
        if node.is_some_and(|n| !state.uname.as_deref().is_some_and(|u| n.eq_ignore_ascii_case(u))) {
            continue;
        }
        let uname = state.uname.as_deref().unwrap_or_default();
        let Some(n) = state.uname.as_deref().and_then(|u| ws.node_by_uname(u)) else {
            // Pacemaker's `CRM_LOG_ASSERT(this_node != NULL)`, word for word.
            o.err("(log_assertion_as) \terror: find_operations: Triggered fatal assertion at unpack.c:4362 : this_node != NULL\n");
            continue;
        };
        // Offline nodes run nothing, unless fencing may still have to
        // make sure of it.
        if !ws.node(n).online && !ws.options.stonith_enabled {
            continue;
        }
        for (lrm_id, ops) in entries(state, rsc, which) {
            for op in ops {
                let raw_op = raw_op(raw, &state.id, lrm_id, &op.id);
                o.out(&line(ws, raw_op, uname, lrm_id, op));
                xml.push(element(ws, raw_op, uname, lrm_id, op));
            }
        }
    }
    o
}

/// The listed operations of each `lrm_resource` of a node state.
fn entries<'s>(state: &'s NodeState, rsc: Option<&str>, which: Which) -> Vec<(&'s str, Vec<&'s LrmRscOp>)> {
    let mut out = Vec::new();
    for lrm in &state.lrm_resources {
        if rsc.is_some_and(|r| !r.eq_ignore_ascii_case(&lrm.id)) {
            continue;
        }
        // Built by prepending, then GLib's merge sort: the comparator
        // is not a total order (pending ops), so only the same algorithm
        // gives the same order.
        let mut ops: Vec<&LrmRscOp> = lrm.ops.iter().rev().collect();
        if ops.is_empty() {
            continue;
        }
        pengine::unpack::history::glib_sort(&mut ops, &pengine::unpack::history::compare_ops);
        if which == Which::Active {
            ops = active(ops);
        }
        out.push((lrm.id.as_str(), ops));
    }
    out
}

/// `calculate_active_ops` then `extract_operations`' filter.
fn active(sorted: Vec<&LrmRscOp>) -> Vec<&LrmRscOp> {
    let (mut start, mut stop) = (-1i64, -1i64);
    let (mut implied_monitor_start, mut implied_clone_start) = (-1i64, -1i64);
    for (i, op) in sorted.iter().enumerate() {
        let i = i as i64;
        let task = op.operation.as_str();
        if task.eq_ignore_ascii_case("stop") && op.op_status.code() == 0 {
            stop = i;
        } else if task.eq_ignore_ascii_case("start") || task.eq_ignore_ascii_case("migrate_from") {
            start = i;
        } else if implied_monitor_start <= stop && task.eq_ignore_ascii_case("monitor") {
            if op.rc_code == 0 || op.rc_code == 8 {
                implied_monitor_start = i;
            }
        } else if task.eq_ignore_ascii_case("promote") || task.eq_ignore_ascii_case("demote") {
            implied_clone_start = i;
        }
    }
    if start == -1 {
        if implied_clone_start != -1 {
            start = implied_clone_start;
        } else if implied_monitor_start != -1 {
            start = implied_monitor_start;
        }
    }
    let mut out = Vec::new();
    for (i, op) in sorted.into_iter().enumerate() {
        if start < stop {
            break;
        } else if (i as i64) < start {
            continue;
        }
        out.push(op);
    }
    out
}

/// The `lrm_rsc_op` element behind a model operation.
fn raw_op<'r>(raw: &'r Element, state_id: &str, lrm_id: &str, op_id: &str) -> Option<&'r Element> {
    raw.child("status")?
        .children_named("node_state")
        .find(|s| s.attr("id") == Some(state_id))?
        .descendants()
        .filter(|e| e.name == "lrm_resource" && e.attr("id") == Some(lrm_id))
        .flat_map(|l| l.children_named("lrm_rsc_op"))
        .find(|e| e.attr("id") == Some(op_id))
}

/// One listed operation (`node-and-op`).
fn line(ws: &WorkingSet, raw: Option<&Element>, uname: &str, lrm_id: &str, op: &LrmRscOp) -> String {
    let rsc_text = match super::status::find(ws, lrm_id) {
        Some(r) if ws.rsc(r).is_primitive() => primitive_text(ws, r, ShowOptions { inactive: true, pending: true }, false),
        _ => format!("Unknown resource {lrm_id}"),
    };
    // printf's "%s" of a missing attribute.
    let attr = |name: &str| raw.and_then(|e| e.attr(name)).unwrap_or("(null)").to_string();
    let key = op.operation_key.as_deref().unwrap_or(&op.id);
    let last_change = raw.and_then(|e| e.attr("last-rc-change")).and_then(|v| v.trim().parse::<i64>().ok());
    let last = match last_change {
        Some(t) => format!(", last-rc-change='{}', exec={}ms", ctime(t), attr("exec-time")),
        None => String::new(),
    };
    let status = raw.and_then(|e| e.attr("op-status")).and_then(|v| v.trim().parse::<i32>().ok()).unwrap_or(-2).max(-2);
    format!(
        "{rsc_text}: {key} (node={uname}, call={}, rc={}{last}): {}\n",
        attr("call-id"),
        attr("rc-code"),
        crate::monitor::snapshot::exec_status_text(status)
    )
}

/// One listed operation in XML (2.1.5's `node-and-op` message): the
/// attributes as recorded (absent ones left out), the resource's
/// printable id and agent when the history names a known resource, the
/// change time and duration when recorded.
fn element(ws: &WorkingSet, raw: Option<&Element>, uname: &str, lrm_id: &str, op: &LrmRscOp) -> Element {
    let key = op.operation_key.as_deref().unwrap_or(&op.id);
    let attr = |name: &str| raw.and_then(|e| e.attr(name));
    let status = attr("op-status").and_then(|v| v.trim().parse::<i32>().ok()).unwrap_or(-2).max(-2);
    let mut e = Element::new("operation").with_attr("op", key).with_attr("node", uname);
    for (name, from) in [("call", "call-id"), ("rc", "rc-code")] {
        if let Some(v) = attr(from) {
            e.set_attr(name, v);
        }
    }
    e.set_attr("status", crate::monitor::snapshot::exec_status_text(status));
    if let Some(r) = super::status::find(ws, lrm_id) {
        e.set_attr("rsc", ws.printable_id(r));
        if let pengine::Variant::Primitive(p) = &ws.rsc(r).variant {
            // class:provider:type, the provider empty for classes without one.
            let provider = if p.class == cib::model::AgentClass::Ocf { p.provider.as_deref().unwrap_or_default() } else { "" };
            e.set_attr("agent", format!("{}:{provider}:{}", p.class.as_str(), p.agent));
        }
    }
    if let Some(t) = attr("last-rc-change").and_then(|v| v.trim().parse::<i64>().ok()) {
        e.set_attr("last-rc-change", ctime(t));
        if let Some(x) = attr("exec-time") {
            e.set_attr("exec-time", x);
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Operations as the CIB model reads them from a status section.
    fn ops(list: &[(i64, &str, i32)]) -> Vec<LrmRscOp> {
        let body: String = list
            .iter()
            .map(|(call, task, rc)| format!(r#"<lrm_rsc_op id="r_{task}_{call}" operation="{task}" call-id="{call}" rc-code="{rc}" op-status="0" interval="0"/>"#))
            .collect();
        let xml = format!(
            r#"<cib epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status><node_state id="n1" uname="n1"><lrm id="n1"><lrm_resources><lrm_resource id="r" class="ocf" provider="heartbeat" type="Dummy">{body}</lrm_resource></lrm_resources></lrm></node_state></status></cib>"#
        );
        let cib = Cib::from_document(&cib::Document::parse(&xml).unwrap()).unwrap();
        cib.status.node_states[0].lrm_resources[0].ops.clone()
    }

    #[test]
    fn active_keeps_what_follows_the_last_start() {
        let history = ops(&[(1, "monitor", 7), (2, "start", 0), (3, "monitor", 0), (4, "stop", 0), (5, "start", 0), (6, "monitor", 0)]);
        let refs: Vec<&LrmRscOp> = history.iter().collect();
        let kept: Vec<i64> = active(refs).iter().map(|o| o.call_id).collect();
        assert_eq!(kept, vec![5, 6]);
        let stopped = ops(&[(1, "start", 0), (2, "stop", 0)]);
        assert!(active(stopped.iter().collect()).is_empty());
    }
}
