//! crm_mon's text output (`-1`, and each frame of the refreshing mode),
//! section by section as Pacemaker 2.1.5 prints them, a blank line
//! between sections.

use pengine::{NodeKind, WorkingSet};

use super::clock::{ctime, readable_interval};
use super::snapshot::{display_task, exec_status_text, Snapshot};
use super::Options;
use crate::status::nodes::{node_health, node_list, status_text};
use crate::status::resources::{ocf_exit_text, primitive_text, print_resource};
use crate::status::text::Out;
use crate::status::ShowOptions;

/// The whole text status.
pub fn render(snap: &Snapshot, opts: &Options) -> String {
    let mut sections: Vec<String> = Vec::new();
    sections.push(summary(snap));
    let show = ShowOptions { inactive: opts.inactive, pending: true };
    sections.push(nodes(snap, opts, show));
    sections.push(resources(snap, opts, show));
    if opts.node_attributes {
        sections.push(node_attributes(snap));
    }
    if opts.operations || opts.fail_counts {
        sections.push(node_summary(snap, opts));
    }
    sections.push(failed_actions(snap, opts));
    if opts.tickets {
        sections.push(tickets(snap));
    }
    if opts.bans {
        sections.push(bans(snap));
    }
    let mut out = String::new();
    for s in sections.into_iter().filter(|s| !s.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&s);
    }
    out
}

/// "Cluster Summary" and the maintenance banner.
pub fn summary(snap: &Snapshot) -> String {
    let ws = &snap.ws;
    let mut out = Out::new();
    out.header(0, "Cluster Summary");
    out.named_item(1, "Stack", snap.stack());
    match ws.dc_node {
        Some(dc) => out.named_item(
            1,
            "Current DC",
            &format!(
                "{} (version {}) - {}partition {} quorum",
                ws.node(dc).uname,
                snap.dc_version().unwrap_or("unknown"),
                if snap.mixed_version() { "MIXED-VERSION " } else { "" },
                if snap.with_quorum() { "with" } else { "WITHOUT" }
            ),
        ),
        None => out.named_item(1, "Current DC", "NONE"),
    }
    out.named_item(1, "Last updated", &ctime(snap.now));
    out.named_item(1, "Last change", &format!(" {}", snap.last_change()));
    let n = snap.nodes_configured();
    out.item(1, &format!("{n} node{} configured", plural(n)));
    let (r, disabled, blocked) = snap.resource_counts();
    let base = format!("{r} resource instance{} configured", plural(r));
    let line = match (disabled, blocked) {
        (0, 0) => base,
        (d, 0) => format!("{base} ({d} DISABLED)"),
        (0, b) => format!("{base} ({b} BLOCKED from further action due to failure)"),
        (d, b) => format!("{base} ({d} DISABLED, {b} BLOCKED from further action due to failure)"),
    };
    out.item(1, &line);
    let mut s = out.finish();
    if ws.options.maintenance_mode {
        s.push_str("\n              *** Resource management is DISABLED ***\n");
        s.push_str("  The cluster will not attempt to start, stop or recover services\n");
    } else if ws.options.stop_all_resources {
        s.push_str("\n    *** Resource management is DISABLED ***\n");
        s.push_str("  The cluster will keep all resources stopped\n");
    }
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// "Node List"; with `-n` every node with its resources.
fn nodes(snap: &Snapshot, opts: &Options, show: ShowOptions) -> String {
    let ws = &snap.ws;
    let mut out = Out::new();
    if !opts.group_by_node {
        node_list(&mut out, ws, 0);
        return out.finish();
    }
    if ws.nodes.is_empty() {
        return String::new();
    }
    out.header(0, "Node List");
    for n in &ws.nodes {
        let kind = match n.kind {
            NodeKind::Guest => "GuestNode",
            NodeKind::Remote => "RemoteNode",
            _ => "Node",
        };
        let mut line = format!("{kind} {}: {}", n.uname, status_text(n));
        match node_health(ws, n) {
            h if h < 0 => line.push_str(" (health is RED)"),
            0 => line.push_str(" (health is YELLOW)"),
            _ => {}
        }
        out.header(1, &line);
        out.header(2, "Resources");
        for &r in &n.running {
            by_node_resource(&mut out, ws, r, 3, show);
        }
    }
    out.finish()
}

/// A resource listed under its node: primitives without the node name.
fn by_node_resource(out: &mut Out, ws: &WorkingSet, r: pengine::RscId, level: usize, show: ShowOptions) {
    if ws.rsc(r).is_primitive() {
        if ws.rsc(r).meta("internal_rsc").is_some_and(|v| v == "true") {
            return;
        }
        out.item(level, &primitive_text(ws, r, show, false));
    } else {
        print_resource(out, ws, r, level, show);
    }
}

/// "Active Resources" / "Full List of Resources" / (with `-n`)
/// "Inactive Resources".
fn resources(snap: &Snapshot, opts: &Options, show: ShowOptions) -> String {
    let ws = &snap.ws;
    if opts.group_by_node && !opts.inactive {
        return String::new();
    }
    let mut out = Out::new();
    let title = if opts.group_by_node {
        "Inactive Resources"
    } else if opts.inactive {
        "Full List of Resources"
    } else {
        "Active Resources"
    };
    out.header(0, title);
    let mut printed = false;
    for &r in &ws.top_level {
        let active = ws.is_active(r, true);
        let partially = ws.is_active(r, false);
        if ws.rsc(r).flags.orphan && !active {
            continue;
        }
        if opts.group_by_node {
            if active {
                continue;
            }
        } else if !partially && !opts.inactive {
            continue;
        }
        printed |= print_resource(&mut out, ws, r, 1, show);
    }
    if !printed {
        out.item(
            1,
            if opts.group_by_node {
                "No inactive resources"
            } else if opts.inactive {
                "No resources"
            } else {
                "No active resources"
            },
        );
    }
    out.finish()
}

/// "Node Attributes" (`-A`): online nodes with attributes to show.
fn node_attributes(snap: &Snapshot) -> String {
    let ws = &snap.ws;
    let mut out = Out::new();
    let mut any = false;
    for (i, n) in ws.nodes.iter().enumerate() {
        if !n.online {
            continue;
        }
        let attrs = snap.display_attrs(pengine::NodeId(i));
        if attrs.is_empty() {
            continue;
        }
        if !any {
            out.header(0, "Node Attributes");
            any = true;
        }
        out.header(1, &format!("Node: {}", n.uname));
        for (name, value) in attrs {
            let base = format!("{name:<32}\t: {value:<10}");
            let line = match snap.ping_expected(pengine::NodeId(i), name) {
                Some(expected) => {
                    let v = scan_int(value).unwrap_or(0);
                    if v <= 0 {
                        format!("{base}\t: Connectivity is lost")
                    } else if v < expected {
                        format!("{base}\t: Connectivity is degraded (Expected={expected})")
                    } else {
                        base
                    }
                }
                None => base,
            };
            out.item(2, &line);
        }
    }
    out.finish()
}

/// One operation of the history (`op_history_string`).
pub fn op_line(op: &cib::model::status::LrmRscOp, timing: bool) -> String {
    let task = display_task(op);
    let interval = (op.interval_ms != 0).then(|| format!(" interval=\"{}ms\"", op.interval_ms));
    if timing {
        let mut s = format!("({}) {}:{}", op.call_id, task, interval.unwrap_or_default());
        if let Some(t) = op.last_rc_change.filter(|t| *t > 0) {
            s.push_str(&format!(" last-rc-change=\"{}\"", ctime(t)));
        }
        if let Some(e) = op.exec_time {
            s.push_str(&format!(" exec-time=\"{e}ms\""));
        }
        if let Some(q) = op.queue_time {
            s.push_str(&format!(" queue-time=\"{q}ms\""));
        }
        s.push_str(&format!(" rc={} ({})", op.rc_code, ocf_exit_text(op.rc_code)));
        s
    } else {
        match interval {
            Some(i) => format!("({}) {}:{}", op.call_id, task, i),
            None => format!("({}) {}", op.call_id, task),
        }
    }
}

/// `rsc: migration-threshold=N[ fail-count=N][ last-failure='...']`.
fn resource_history(snap: &Snapshot, id: &str, rsc: Option<pengine::RscId>, all: bool, count: i64, last: i64) -> String {
    let Some(r) = rsc else { return format!("{id}: orphan") };
    if all || count != 0 || last > 0 {
        let mut s = format!("{id}: migration-threshold={}", snap.ws.rsc(r).migration_threshold.value());
        if count > 0 {
            s.push_str(&format!(" fail-count={count}"));
        }
        if last > 0 {
            s.push_str(&format!(" last-failure='{}'", ctime(last)));
        }
        s
    } else {
        format!("{id}:")
    }
}

/// "Migration Summary" (`-f`) or "Operations" (`-o`).
fn node_summary(snap: &Snapshot, opts: &Options) -> String {
    let ws = &snap.ws;
    let mut out = Out::new();
    let mut any = false;
    for (n, rscs) in snap.history() {
        if !any {
            out.header(0, if opts.operations { "Operations" } else { "Migration Summary" });
            any = true;
        }
        let mut node_done = false;
        for h in rscs {
            let Some(r) = h.rsc else { continue };
            let f = snap.failures(n, r);
            let (count, last) = (i64::from(f.count.value()), f.last_failure);
            if !opts.operations {
                if count <= 0 {
                    continue;
                }
                if !node_done {
                    out.header(1, &format!("Node: {}", ws.node(n).uname));
                    node_done = true;
                }
                out.item(2, &resource_history(snap, h.lrm_id, h.rsc, false, count, last));
            } else {
                if h.ops.is_empty() {
                    continue;
                }
                if !node_done {
                    out.header(1, &format!("Node: {}", ws.node(n).uname));
                    node_done = true;
                }
                out.header(2, &resource_history(snap, ws.printable_id(r), h.rsc, true, count, last));
                for op in &h.ops {
                    out.item(3, &op_line(op, opts.timing));
                }
            }
        }
    }
    out.finish()
}

/// Splits an operation key into resource, task and interval.
pub fn split_op_key(key: &str) -> Option<(String, String, u64)> {
    let (rest, interval) = key.rsplit_once('_')?;
    let interval: u64 = interval.parse().ok()?;
    for special in ["_pre_notify_", "_post_notify_", "_confirmed-pre_notify_", "_confirmed-post_notify_"] {
        if let Some(i) = rest.find(special) {
            return Some((rest[..i].to_string(), rest[i + 1..].to_string(), interval));
        }
    }
    for two in ["_migrate_to", "_migrate_from"] {
        if let Some(r) = rest.strip_suffix(two) {
            return Some((r.to_string(), two[1..].to_string(), interval));
        }
    }
    let (rsc, task) = rest.rsplit_once('_')?;
    Some((rsc.to_string(), task.to_string(), interval))
}

/// One failed action, the friendly way or (`--show-detail`) the
/// technical way.
pub fn failed_action_line(snap: &Snapshot, f: &pengine::working_set::FailedOp, detail: bool) -> String {
    let node = &snap.ws.node(f.node).uname;
    let reason = f.exit_reason.as_deref().filter(|r| !r.is_empty());
    if detail {
        let mut s = format!(
            "{} on {} '{}' ({}): call={}, status='{}'",
            f.op_key,
            node,
            ocf_exit_text(f.rc_code),
            f.rc_code,
            f.call_id,
            exec_status_text(f.op_status)
        );
        if let Some(r) = reason {
            s.push_str(&format!(", exitreason='{r}'"));
        }
        if let Some(t) = f.last_rc_change {
            s.push_str(&format!(", last-rc-change='{}'", ctime(t)));
        }
        if let Some(q) = f.queue_time {
            s.push_str(&format!(", queued={q}ms"));
        }
        if let Some(e) = f.exec_time {
            s.push_str(&format!(", exec={e}ms"));
        }
        return s;
    }
    let (rsc, task, interval) = split_op_key(&f.op_key).unwrap_or_else(|| ("unknown resource".into(), "unknown action".into(), 0));
    let mut s = format!("{rsc} ");
    if interval != 0 {
        s.push_str(&format!("{}-interval ", readable_interval(interval)));
    }
    let task = if interval == 0 && task == "monitor" { "probe" } else { task.as_str() };
    s.push_str(&format!("{task} on {node}"));
    if f.op_status == 0 {
        s.push_str(&format!(" returned '{}'", ocf_exit_text(f.rc_code)));
        if let Some(r) = reason {
            s.push_str(&format!(" ({r})"));
        }
    } else {
        s.push_str(&format!(" could not be executed ({}", exec_status_text(f.op_status)));
        if let Some(r) = reason {
            s.push_str(&format!(": {r}"));
        }
        s.push(')');
    }
    if let Some(t) = f.last_rc_change {
        s.push_str(&format!(" at {}", ctime(t)));
    }
    if let Some(e) = f.exec_time.filter(|e| *e > 0) {
        s.push_str(&format!(" after {}", readable_interval(e)));
    }
    s
}

/// "Failed Resource Actions".
fn failed_actions(snap: &Snapshot, opts: &Options) -> String {
    let failed = snap.failed_actions();
    if failed.is_empty() {
        return String::new();
    }
    let mut out = Out::new();
    out.header(0, "Failed Resource Actions");
    for f in failed {
        out.item(1, &failed_action_line(snap, f, opts.detail));
    }
    out.finish()
}

/// "Negative Location Constraints" (`-L`).
fn bans(snap: &Snapshot) -> String {
    let bans = snap.bans();
    if bans.is_empty() {
        return String::new();
    }
    let mut out = Out::new();
    out.header(0, "Negative Location Constraints");
    for b in bans {
        let role = if b.promoted_only { "in Promoted role " } else { "" };
        out.item(1, &format!("{}\tprevents {} from running {role}on {}", b.id, b.rsc, b.node));
    }
    out.finish()
}

/// "Tickets" (`-c`).
fn tickets(snap: &Snapshot) -> String {
    let tickets = snap.tickets();
    if tickets.is_empty() {
        return String::new();
    }
    let mut out = Out::new();
    out.header(0, "Tickets");
    for t in tickets {
        let state = if t.granted { "granted" } else { "revoked" };
        let standby = if t.standby { " [standby]" } else { "" };
        match t.last_granted {
            Some(lg) => out.item(1, &format!("{}: {state}{standby} last-granted=\"{}\"", t.id, ctime(lg))),
            None => out.item(1, &format!("{}: {state}{standby}", t.id)),
        }
    }
    out.finish()
}

/// `pcmk__scan_min_int`-like: the leading integer of a string.
fn scan_int(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, t.strip_prefix('+').unwrap_or(t)),
    };
    let n: String = digits.chars().take_while(|c| c.is_ascii_digit()).collect();
    n.parse::<i64>().ok().map(|v| v * sign)
}
