//! The status section's resource history (Pacemaker's `unpack_status`,
//! `unpack_lrm_resource`, `unpack_rsc_op`, `process_rsc_state`).
//!
//! Each node's `lrm_resource` entries are matched to resources (clone
//! instances found by their base name, unknown ones becoming orphans),
//! their operations replayed in call order to find the current role and
//! any failure, and the result recorded: where the resource runs, whether
//! it failed, is blocked, or made its node unclean.

use cib::model::status::{ExecStatus, LrmResource, LrmRscOp, NodeState};
use cib::model::{AgentClass, Cib, Role, Score};

use super::failcount::{fail_count, strip_instance};
use super::nodes::{can_fence, determine_remote_online_status, fence_node, unpack_node_state, unpack_transient_attributes};
use super::on_fail::{policy, OnFailAction};
use super::resources::create_clone_instance;
use crate::nvsets::is_true;
use crate::working_set::{FailedOp, ImpliedAction, NodeId, NodeKind, RscId, UnpackLocation, Variant, WorkingSet};

// OCF exit codes.
const OCF_OK: i32 = 0;
const OCF_INVALID_PARAM: i32 = 2;
const OCF_UNIMPLEMENT_FEATURE: i32 = 3;
const OCF_INSUFFICIENT_PRIV: i32 = 4;
const OCF_NOT_INSTALLED: i32 = 5;
const OCF_NOT_CONFIGURED: i32 = 6;
const OCF_NOT_RUNNING: i32 = 7;
const OCF_RUNNING_PROMOTED: i32 = 8;
const OCF_FAILED_PROMOTED: i32 = 9;
const OCF_DEGRADED: i32 = 190;
const OCF_DEGRADED_PROMOTED: i32 = 191;

/// Unpacks node states and every node's resource history.
pub(super) fn unpack_status(ws: &mut WorkingSet, cib: &Cib) {
    for state in &cib.status.node_states {
        let Some(uname) = state.uname.as_deref() else {
            ws.warnings.push(format!("ignoring node_state {} without uname", state.id));
            continue;
        };
        let Some(node) = find_node_any(ws, &state.id, uname) else {
            ws.warnings.push(format!("ignoring recorded node state for '{uname}' because it is no longer in the configuration"));
            continue;
        };
        if matches!(ws.node(node).kind, NodeKind::Remote | NodeKind::Guest) {
            ws.nodes[node.0].remote_was_fenced = state.node_fenced.unwrap_or(false);
            continue;
        }
        unpack_node_state(ws, node, state);
    }
    while unpack_node_histories(ws, cib, false) {}
    let fence = ws.options.stonith_enabled;
    unpack_node_histories(ws, cib, fence);
    for i in 0..ws.nodes.len() {
        let node = NodeId(i);
        if !matches!(ws.node(node).kind, NodeKind::Remote | NodeKind::Guest) {
            continue;
        }
        if ws.node(node).shutdown {
            if let Some(r) = ws.node(node).remote_rsc {
                ws.resources[r.0].next_role = Role::Stopped;
            }
        }
        if !ws.node(node).unpacked {
            determine_remote_online_status(ws, node);
        }
    }
}

/// Recurring operations still active since the last start
/// (`calculate_active_ops` and `process_recurring`): the scheduler keeps
/// them instead of scheduling them again.
fn record_active_recurring(ws: &mut WorkingSet, rsc: RscId, node: NodeId, ops: &[&LrmRscOp]) {
    if !ws.node(node).online {
        return;
    }
    let (mut start, mut stop, mut implied_monitor, mut implied_clone) = (-1i64, -1i64, -1i64, -1i64);
    for (i, op) in ops.iter().enumerate() {
        let i = i as i64;
        let done = op.op_status == cib::model::status::ExecStatus::Done;
        match op.operation.as_str() {
            "stop" if done => stop = i,
            "start" | "migrate_from" => start = i,
            "monitor" if implied_monitor <= stop && (op.rc_code == 0 || op.rc_code == 8) => implied_monitor = i,
            "promote" | "demote" => implied_clone = i,
            _ => {}
        }
    }
    if start == -1 {
        start = if implied_clone != -1 { implied_clone } else { implied_monitor };
    }
    for (i, op) in ops.iter().enumerate() {
        let i = i as i64;
        if (start < stop && i <= stop) || i < start || op.interval_ms == 0 {
            continue;
        }
        if op.op_status == cib::model::status::ExecStatus::Pending {
            continue;
        }
        let entry = (rsc, node, op.operation.to_string(), op.interval_ms);
        if !ws.active_recurring.contains(&entry) {
            ws.early_actions.push(crate::working_set::EarlyAction::Recurring(entry.0, entry.1, entry.2.clone(), entry.3));
            ws.active_recurring.insert(entry);
        }
    }
}

fn find_node_any(ws: &WorkingSet, id: &str, uname: &str) -> Option<NodeId> {
    ws.node_by_id(id).or_else(|| ws.nodes.iter().position(|n| n.uname == uname).map(NodeId))
}

/// One pass over the node states; returns whether any history was
/// unpacked (later ones may depend on it: remote connections).
fn unpack_node_histories(ws: &mut WorkingSet, cib: &Cib, fence: bool) -> bool {
    let mut any = false;
    for state in &cib.status.node_states {
        let Some(uname) = state.uname.as_deref() else { continue };
        let Some(node) = find_node_any(ws, &state.id, uname) else { continue };
        let n = ws.node(node);
        if n.unpacked {
            continue;
        }
        if fence {
            // Processing every remaining node.
        } else if n.kind == NodeKind::Guest {
            let up = n.remote_rsc.is_some_and(|r| {
                let res = ws.rsc(r);
                res.role == Role::Started && res.container.is_some_and(|c| ws.rsc(c).role == Role::Started)
            });
            if !up {
                continue;
            }
        } else if n.kind == NodeKind::Remote {
            let up = n.remote_rsc.is_some_and(|r| ws.options.shutdown_lock || ws.rsc(r).role == Role::Started);
            if !up {
                continue;
            }
        } else if !ws.options.stonith_enabled && !ws.options.shutdown_lock && !n.online {
            // Unpack offline nodes after online ones, so active clone
            // instances get the low numbers.
            continue;
        }
        if matches!(n.kind, NodeKind::Remote | NodeKind::Guest) {
            determine_remote_online_status(ws, node);
            unpack_remote_attrs(ws, node, state);
        }
        ws.nodes[node.0].unpacked = true;
        for lrm in &state.lrm_resources {
            unpack_lrm_resource(ws, cib, node, lrm);
        }
        any = true;
    }
    any
}

fn unpack_remote_attrs(ws: &mut WorkingSet, node: NodeId, state: &NodeState) {
    unpack_transient_attributes(ws, node, state);
    let n = &mut ws.nodes[node.0];
    if !n.remote_requires_reset {
        n.unclean = false;
        n.unseen = false;
    }
    if state.node_in_maintenance == Some(true) {
        n.maintenance = true;
    }
    if n.attr("shutdown").is_some_and(|s| s != "0") {
        n.shutdown = true;
    }
}

fn unpack_lrm_resource(ws: &mut WorkingSet, cib: &Cib, node: NodeId, lrm: &LrmResource) {
    if lrm.ops.is_empty() {
        return;
    }
    let rsc = match find_resource_for_history(ws, cib, node, &lrm.id) {
        Some(r) => r,
        None => create_orphan(ws, lrm),
    };
    if ws.options.shutdown_lock {
        if let Some(t) = lrm.shutdown_lock.filter(|t| *t != 0) {
            let limit = ws.options.shutdown_lock_limit;
            // An expired lock is dropped (the history will be cleaned).
            if limit == 0 || ws.now <= t + limit {
                let r = &mut ws.resources[rsc.0];
                r.lock_node = Some(node);
                r.lock_time = Some(t);
            }
        }
    }
    let saved_role = ws.rsc(rsc).role;
    ws.resources[rsc.0].role = Role::Unknown;
    let mut ops: Vec<&LrmRscOp> = lrm.ops.iter().collect();
    glib_sort(&mut ops, &compare_ops);

    let mut state = HistoryState { on_fail: OnFailAction::Ignore, last_failure: None, rescheduled: Vec::new() };
    for op in &ops {
        unpack_rsc_op(ws, cib, rsc, node, op, &mut state);
    }
    // Pacemaker creates the active recurring operations before the
    // actions the resource's state implies. A recurring operation whose
    // failure expired is scheduled again: it does not count as active.
    let active: Vec<&LrmRscOp> = ops.iter().copied().filter(|o| !state.rescheduled.iter().any(|r| std::ptr::eq(*r, *o))).collect();
    record_active_recurring(ws, rsc, node, &active);
    process_rsc_state(ws, rsc, node, state.on_fail);

    if let Some(req) = target_role(ws, rsc) {
        let r = &mut ws.resources[rsc.0];
        if r.next_role == Role::Unknown || req < r.next_role {
            r.next_role = req;
        }
    }
    let r = &mut ws.resources[rsc.0];
    if saved_role > r.role {
        r.role = saved_role;
    }
}

/// The target-role that limits a resource, if any (`get_target_role`).
fn target_role(ws: &WorkingSet, rsc: RscId) -> Option<Role> {
    let v = ws.rsc(rsc).meta("target-role")?;
    if v.eq_ignore_ascii_case("started") || v.eq_ignore_ascii_case("default") {
        return None;
    }
    let role = Role::parse(v).filter(|r| *r != Role::Unknown)?;
    if role > Role::Started && (!ws.rsc(ws.top(rsc)).flags.promotable || role > Role::Unpromoted) {
        return None;
    }
    Some(role)
}

/// Mutable state while replaying one resource's operations on one node.
struct HistoryState<'h> {
    on_fail: OnFailAction,
    /// The last failed operation seen.
    last_failure: Option<&'h LrmRscOp>,
    /// Recurring operations whose failure expired: rescheduled
    /// (`pe_action_reschedule`).
    rescheduled: Vec<&'h LrmRscOp>,
}

/// Finds the resource a history entry belongs to (`unpack_find_resource`);
/// `None` for an orphan.
fn find_resource_for_history(ws: &mut WorkingSet, cib: &Cib, node: NodeId, rsc_id: &str) -> Option<RscId> {
    let mut rsc = ws.find_resource_indexed(rsc_id);
    let parent;
    match rsc {
        None => {
            // Maybe an instance of an anonymous clone, recorded with or
            // without its number: look for instance 0.
            let zero = format!("{}:0", strip_instance(rsc_id));
            let clone0 = ws.find_resource_indexed(&zero).filter(|r| !ws.rsc(*r).flags.unique);
            rsc = clone0;
            parent = clone0.map(|c| ws.top(c));
        }
        Some(r) if !ws.rsc(r).is_primitive() => return None,
        Some(r) => parent = Some(ws.top(r)),
    }
    if let Some(p) = parent {
        let pr = ws.rsc(p);
        if pr.clone_info().is_some() && !pr.flags.unique {
            let base = strip_instance(rsc_id).to_string();
            rsc = Some(find_anonymous_clone(ws, cib, node, p, &base));
        } else if let Some(info) = pr.bundle.as_deref().filter(|_| !pr.flags.unique) {
            // A bundle's primitive recorded on a replica's guest node is
            // that replica's instance.
            let base = strip_instance(rsc_id);
            let uname = ws.node(node).uname.clone();
            let replica = (0..info.replicas).find(|i| uname == format!("{}-{i}", pr.id));
            if let Some(i) = replica {
                let want = format!("{base}:{i}");
                rsc = pr.children.iter().copied().find(|c| ws.rsc(*c).id == want).or(rsc);
            }
        }
    }
    if let Some(r) = rsc {
        let res = &mut ws.resources[r.0];
        if res.id != rsc_id && res.clone_name.as_deref() != Some(rsc_id) {
            res.clone_name = Some(rsc_id.to_string());
            ws.names.note_name(rsc_id, r);
        }
    }
    rsc
}

/// The resource in `subtree(top)` with this id or configured id, within
/// a clone (`find_rsc` with `pe_find_clone`).
fn find_in_instance(ws: &WorkingSet, top: RscId, base: &str) -> Option<RscId> {
    ws.subtree(top).into_iter().find(|r| {
        let res = ws.rsc(*r);
        res.id == base || res.xml_id == base
    })
}

/// Which instance of an anonymous clone a history entry on `node` is
/// (`find_anonymous_clone`): the instance already active there, else a
/// free one, else a new orphan instance.
fn find_anonymous_clone(ws: &mut WorkingSet, cib: &Cib, node: NodeId, clone: RscId, base: &str) -> RscId {
    let mut found = None;
    let mut inactive = None;
    let mut skip_inactive = false;
    for child in ws.rsc(clone).children.clone() {
        if found.is_some() {
            break;
        }
        let locations = ws.locations(child, true);
        if let Some(first) = locations.first() {
            if *first == node {
                if let Some(r) = find_in_instance(ws, child, base) {
                    if !ws.rsc(r).running_on.is_empty() {
                        // A second history entry for the same anonymous
                        // clone on one node: treat it as an orphan.
                        skip_inactive = true;
                    } else {
                        found = Some(r);
                    }
                }
            }
        } else if !skip_inactive && inactive.is_none() && !ws.rsc(child).flags.blocked {
            inactive = find_in_instance(ws, child, base);
            if let Some(i) = inactive {
                if ws.rsc(i).pending_node.is_some_and(|p| p != node) {
                    inactive = None;
                }
            }
        }
    }
    if found.is_none() && !skip_inactive {
        found = inactive;
    }
    // An instance that does not need fencing, seen on a node that is down,
    // must not use up an instance number.
    if let Some(r) = found {
        let n = ws.node(node);
        let universal = ws.rsc(clone).clone_info().is_some_and(|c| c.clone_max as usize == ws.nodes.len());
        if !ws.rsc(r).flags.needs_fencing && (!n.online || n.unclean) && n.kind != NodeKind::Guest && !universal {
            found = None;
        }
    }
    match found {
        Some(r) => r,
        None => {
            let top = create_clone_instance(ws, cib, clone);
            find_in_instance(ws, top, base).unwrap_or(top)
        }
    }
}

/// A resource in the history but not in the configuration.
fn create_orphan(ws: &mut WorkingSet, lrm: &LrmResource) -> RscId {
    let mut meta = std::collections::BTreeMap::new();
    meta.insert("class".to_string(), lrm.class.clone());
    if let Some(p) = &lrm.provider {
        meta.insert("provider".to_string(), p.clone());
    }
    meta.insert("type".to_string(), lrm.agent_type.clone());
    let id = RscId(ws.resources.len());
    let mut managed = ws.options.is_managed_default && !ws.options.maintenance_mode;
    if !ws.options.stop_orphan_resources {
        managed = false;
    }
    let class = AgentClass::parse(&lrm.class);
    let needs_fencing = ws.options.stonith_enabled && class != AgentClass::Stonith;
    ws.resources.push(crate::working_set::Resource {
        id: lrm.id.clone(),
        xml_id: lrm.id.clone(),
        clone_name: None,
        variant: Variant::Primitive(crate::working_set::PrimitiveInfo {
            class,
            provider: lrm.provider.clone(),
            agent: lrm.agent_type.clone(),
            ops: Vec::new(),
        }),
        parent: None,
        children: Vec::new(),
        description: None,
        meta,
        flags: crate::working_set::RscFlags {
            managed,
            orphan: true,
            // Outside a clone every resource is unique (`common_unpack`),
            // so a later `rsc:1` entry is an orphan of its own, not
            // instance 0's.
            unique: true,
            maintenance: ws.options.maintenance_mode,
            needs_fencing,
            needs_quorum: true,
            ..Default::default()
        },
        // Pacemaker starts every resource as Stopped; the history says otherwise.
        role: Role::Stopped,
        next_role: Role::Unknown,
        running_on: Vec::new(),
        known_on: Default::default(),
        allowed_nodes: Default::default(),
        pending_task: None,
        pending_node: None,
        lock_node: None,
        lock_time: None,
        partial_migration_source: None,
        partial_migration_target: None,
        dangling_migrations: Vec::new(),
        migration_threshold: Score::INFINITY,
        failure_timeout: 0,
        remote_reconnect_ms: 0,
        is_remote_node: false,
        container: None,
        bundle: None,
    });
    ws.add_top_level(id);
    // An orphaned remote connection still provides its remote node.
    if lrm.class == "ocf" && lrm.provider.as_deref() == Some("pacemaker") && lrm.agent_type == "remote" {
        let kind = if lrm.container.is_some() { NodeKind::Guest } else { NodeKind::Remote };
        let n = super::nodes::orphan_remote_node(ws, &lrm.id, kind).0;
        if matches!(ws.nodes[n].kind, NodeKind::Remote | NodeKind::Guest) && ws.nodes[n].remote_rsc.is_none() {
            ws.resources[id.0].is_remote_node = true;
            ws.nodes[n].remote_rsc = Some(id);
            ws.nodes[n].online = false;
        }
    }
    if ws.options.stop_orphan_resources {
        location(ws, id, None, Score::MINUS_INFINITY, "__orphan_do_not_run__");
    }
    id
}

/// `resource_location`: adds a score for a node (or all nodes) to a
/// resource and its descendants.
fn location(ws: &mut WorkingSet, rsc: RscId, node: Option<NodeId>, score: Score, tag: &'static str) {
    let nodes: Vec<NodeId> = match node {
        Some(n) => vec![n],
        None => (0..ws.nodes.len()).map(NodeId).collect(),
    };
    for r in ws.subtree(rsc) {
        for n in &nodes {
            let e = ws.resources[r.0].allowed_nodes.entry(*n).or_insert(Score::ZERO);
            *e += score;
        }
    }
    ws.locations.push(UnpackLocation { rsc, node, score, tag });
}

/// The operation's expected result, from its transition key (-1 when the
/// key is missing or from before Pacemaker 0.6).
fn target_rc(op: &LrmRscOp) -> i32 {
    op.decoded_transition_key().map_or(-1, |k| k.target_rc)
}

fn is_probe(op: &LrmRscOp) -> bool {
    op.operation == "monitor" && op.interval_ms == 0
}

/// A failed probe that only means "not running here" (agent or
/// parameters missing on this node).
fn masks_probe_failure(op: &LrmRscOp) -> bool {
    is_probe(op) && (op.rc_code == OCF_NOT_INSTALLED || op.rc_code == OCF_INVALID_PARAM || op.op_status == ExecStatus::NotInstalled)
}

fn op_key(op: &LrmRscOp) -> &str {
    op.operation_key.as_deref().unwrap_or(&op.id)
}

fn set_active(ws: &mut WorkingSet, rsc: RscId) {
    let promotable = ws.rsc(ws.top(rsc)).flags.promotable;
    ws.resources[rsc.0].role = if promotable { Role::Unpromoted } else { Role::Started };
}

fn unpack_rsc_op<'h>(ws: &mut WorkingSet, cib: &Cib, rsc: RscId, node: NodeId, op: &'h LrmRscOp, st: &mut HistoryState<'h>) {
    let task = op.operation.as_str();
    if task == "notify" || task == "meta-data" {
        return;
    }
    let mut status = match op.op_status {
        ExecStatus::Unknown(10) | ExecStatus::Unknown(11) => ExecStatus::ErrorHard,
        ExecStatus::Unknown(_) => return,
        s => s,
    };
    let parent = if ws.rsc(rsc).flags.unique { rsc } else { ws.top(rsc) };
    let target = target_rc(op);
    let mut rc = op.rc_code;
    let expired = status != ExecStatus::NotInstalled && operation_expired(ws, rsc, node, op);
    let (old_rc, old_target) = (rc, target);
    remap(ws, rsc, node, op, target, &mut rc, &mut status, &mut st.on_fail);
    let maskable = masks_probe_failure(op);

    if expired && maskable && old_rc != old_target {
        let r = &mut ws.resources[rsc.0];
        if r.role <= Role::Stopped {
            r.role = Role::Unknown;
        }
        return;
    } else if expired && rc != target {
        // An expired failure is ignored (a recurring one is rescheduled).
        let n = ws.node(node);
        if op.interval_ms > 0 && n.online && !n.unclean {
            st.rescheduled.push(op);
        }
        if op.interval_ms == 0 || (n.online && !n.unclean) {
            return;
        }
    }
    if maskable {
        update_resource_state(ws, rsc, node, op, target, st);
        record_failed_op(ws, op, node, rsc);
        location(ws, parent, Some(node), Score::MINUS_INFINITY, "masked-probe-failure");
        return;
    }
    match status {
        ExecStatus::Cancelled => return,
        ExecStatus::Pending => {
            if task == "start" {
                ws.resources[rsc.0].flags.start_pending = true;
                set_active(ws, rsc);
            } else if task == "promote" {
                ws.resources[rsc.0].role = Role::Promoted;
            } else if task == "migrate_to" && ws.node(node).unclean {
                // A migrate_to in flight on an unclean source may have
                // reached the target: stop it there (crate::migration).
                if let Some(t) = op.migrate_target.as_deref().and_then(|t| ws.node_by_uname(t)) {
                    ws.early_actions.push(crate::working_set::EarlyAction::Implied(ws.implied_actions.len()));
                    ws.implied_actions.push(ImpliedAction { rsc, node: t, task: "stop" });
                }
            }
            let r = &mut ws.resources[rsc.0];
            if r.pending_task.is_none() && (op.interval_ms != 0 || task != "monitor") {
                r.pending_task = Some(task.to_string());
                r.pending_node = Some(node);
            }
            return;
        }
        ExecStatus::Done => {
            update_resource_state(ws, rsc, node, op, rc, st);
            if task == "migrate_to" && rc == OCF_OK {
                unpack_migrate_to_success(ws, cib, rsc, node, op);
            }
            return;
        }
        ExecStatus::NotInstalled => {
            let pol = policy(ws, cib, rsc, task, op.interval_ms);
            if pol.on_fail == OnFailAction::Ignore {
                // Cannot ignore a missing agent; printed as FAILED.
                st.on_fail = OnFailAction::Migrate;
            }
            location(ws, parent, Some(node), Score::MINUS_INFINITY, "hard-error");
            unpack_rsc_op_failure(ws, cib, rsc, node, rc, op, st);
            return;
        }
        ExecStatus::NotConnected => {
            if matches!(ws.node(node).kind, NodeKind::Remote | NodeKind::Guest) {
                if let Some(conn) = ws.node(node).remote_rsc {
                    if ws.rsc(conn).flags.managed {
                        let c = &mut ws.resources[conn.0];
                        c.flags.failed = true;
                        c.flags.stop = true;
                    }
                }
            }
        }
        _ => {}
    }
    let pol = policy(ws, cib, rsc, task, op.interval_ms);
    if pol.on_fail == OnFailAction::Ignore || (pol.on_fail == OnFailAction::RestartContainer && task == "stop") {
        update_resource_state(ws, rsc, node, op, target, st);
        ws.resources[rsc.0].flags.failure_ignored = true;
        record_failed_op(ws, op, node, rsc);
        if pol.on_fail == OnFailAction::RestartContainer && st.on_fail <= OnFailAction::Recover {
            st.on_fail = pol.on_fail;
        }
    } else {
        unpack_rsc_op_failure(ws, cib, rsc, node, rc, op, st);
        if status == ExecStatus::ErrorHard {
            location(ws, parent, Some(node), Score::MINUS_INFINITY, "hard-error");
        } else if status == ExecStatus::ErrorFatal {
            location(ws, parent, None, Score::MINUS_INFINITY, "fatal-error");
        }
    }
}

/// Whether a failure of this operation has expired (`check_operation_expiry`).
fn operation_expired(ws: &mut WorkingSet, rsc: RscId, node: NodeId, op: &LrmRscOp) -> bool {
    let r = ws.rsc(rsc);
    let mut expired = false;
    let mut unexpired = Score::ZERO;
    if r.failure_timeout > 0 {
        if let Some(last_run) = op.last_rc_change {
            if ws.now >= last_run + r.failure_timeout {
                expired = true;
            }
            let f = if block_failure(ws, rsc, op) {
                // Failures of on-fail=block operations never expire.
                fail_count(ws, node, rsc, false)
            } else {
                fail_count(ws, node, rsc, true)
            };
            unexpired = f.count;
            let recheck = f.last_failure + r.failure_timeout;
            if recheck > ws.now {
                ws.recheck_by = Some(ws.recheck_by.map_or(recheck, |t| t.min(recheck)));
            }
        }
    }
    if expired && fail_count(ws, node, rsc, false).count.value() != 0 {
        if unexpired.value() != 0 {
            expired = false;
        } else if !ws.clear_failcounts.contains(&(rsc, node)) {
            // The failures are forgotten: the fail count goes too.
            ws.clear_failcounts.push((rsc, node));
        }
    }
    if expired && is_probe(op) && [OCF_OK, OCF_NOT_RUNNING, OCF_RUNNING_PROMOTED, OCF_DEGRADED, OCF_DEGRADED_PROMOTED].contains(&op.rc_code) {
        // Probes that found a definite state never expire.
        expired = false;
    }
    expired
}

/// Whether this history entry is a failure of an operation configured
/// with `on-fail=block` (Pacemaker's `block_failure` for one entry).
fn block_failure(ws: &WorkingSet, rsc: RscId, op: &LrmRscOp) -> bool {
    let Some(p) = ws.rsc(rsc).primitive() else { return false };
    let xml_name = strip_instance(&ws.rsc(rsc).id);
    p.ops.iter().filter(|c| c.on_fail == Some(cib::model::resources::OnFail::Block)).any(|c| {
        if c.interval_ms != op.interval_ms || !c.name.eq_ignore_ascii_case(&op.operation) {
            return false;
        }
        if op.id.eq_ignore_ascii_case(&format!("{xml_name}_last_failure_0")) {
            return true;
        }
        op.id.eq_ignore_ascii_case(&format!("{xml_name}_{}_{}", c.name, c.interval_ms)) && op.rc_code != target_rc(op)
    })
}

/// Decides whether an operation result is a failure (`remap_operation`).
#[allow(clippy::too_many_arguments)]
fn remap(ws: &mut WorkingSet, rsc: RscId, node: NodeId, op: &LrmRscOp, target: i32, rc: &mut i32, status: &mut ExecStatus, on_fail: &mut OnFailAction) {
    if *status != ExecStatus::Done && *status != ExecStatus::Error {
        return;
    }
    let probe = is_probe(op);
    // Degraded results are informational: the error-free equivalent when
    // that is what was expected.
    if *rc == OCF_DEGRADED && target == OCF_OK {
        *rc = OCF_OK;
    } else if *rc == OCF_DEGRADED_PROMOTED && target == OCF_RUNNING_PROMOTED {
        *rc = OCF_RUNNING_PROMOTED;
    }
    *status = ExecStatus::Done;
    if target < 0 || target != *rc {
        *status = ExecStatus::Error;
    }
    match *rc {
        OCF_OK => {
            if probe && target == OCF_NOT_RUNNING {
                *status = ExecStatus::Done;
            }
        }
        OCF_NOT_RUNNING => {
            if probe || target == *rc || !ws.rsc(rsc).flags.managed {
                *status = ExecStatus::Done;
                let r = &mut ws.resources[rsc.0];
                r.role = Role::Stopped;
                *on_fail = OnFailAction::Ignore;
                r.next_role = Role::Unknown;
            }
        }
        OCF_RUNNING_PROMOTED => {
            if probe && *rc != target {
                *status = ExecStatus::Done;
            }
            ws.resources[rsc.0].role = Role::Promoted;
        }
        OCF_DEGRADED_PROMOTED | OCF_FAILED_PROMOTED => {
            ws.resources[rsc.0].role = Role::Promoted;
            *status = ExecStatus::Error;
        }
        OCF_NOT_CONFIGURED => *status = ExecStatus::ErrorFatal,
        OCF_UNIMPLEMENT_FEATURE => {
            if op.interval_ms == 0 {
                check_recoverable(ws, rsc, node, op);
                *status = ExecStatus::ErrorHard;
            } else {
                *status = ExecStatus::NotSupported;
            }
        }
        OCF_NOT_INSTALLED | OCF_INVALID_PARAM | OCF_INSUFFICIENT_PRIV => {
            check_recoverable(ws, rsc, node, op);
            *status = ExecStatus::ErrorHard;
        }
        _ => {
            if *status == ExecStatus::Done {
                *status = ExecStatus::Error;
            }
        }
    }
}

/// A failed stop that fencing cannot clean up blocks the resource.
fn check_recoverable(ws: &mut WorkingSet, rsc: RscId, node: NodeId, op: &LrmRscOp) {
    if op.operation != "stop" || can_fence(ws, node) {
        return;
    }
    let r = &mut ws.resources[rsc.0];
    r.flags.managed = false;
    r.flags.blocked = true;
}

fn record_failed_op(ws: &mut WorkingSet, op: &LrmRscOp, node: NodeId, rsc: RscId) {
    if !ws.node(node).online {
        return;
    }
    let key = op_key(op).to_string();
    if ws.failed_ops.iter().any(|f| f.op_key == key && f.node == node) {
        return;
    }
    ws.failed_ops.push(FailedOp {
        node,
        rsc,
        op_id: op.id.to_string(),
        op_key: key,
        operation: op.operation.to_string(),
        interval_ms: op.interval_ms,
        call_id: op.call_id,
        rc_code: op.rc_code,
        op_status: op.op_status.code(),
        exit_reason: op.exit_reason.as_deref().map(str::to_string),
        last_rc_change: op.last_rc_change,
        exec_time: op.exec_time,
        queue_time: op.queue_time,
        on_node: op.on_node.as_deref().map(str::to_string),
    });
}

/// The history of `rsc` on the node named `uname` (by `lrm_resource` id).
fn history_on<'c>(cib: &'c Cib, uname: &str, lrm_id: &str) -> Vec<&'c LrmRscOp> {
    cib.status
        .node_states
        .iter()
        .filter(|s| s.uname.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(uname)))
        .flat_map(|s| s.lrm_resources.iter())
        .filter(|l| l.id == lrm_id)
        .flat_map(|l| l.ops.iter())
        .collect()
}

/// `pe__is_newer_op`: by call id on the same node, else by
/// last-rc-change.
fn is_newer(a: &LrmRscOp, b: &LrmRscOp, same_node: bool) -> bool {
    if same_node && a.call_id >= 0 && b.call_id >= 0 {
        return a.call_id > b.call_id;
    }
    match (a.last_rc_change, b.last_rc_change) {
        (Some(x), Some(y)) => x > y,
        _ => false,
    }
}

/// Any newer operation on the node that is not a monitor, or a newer
/// monitor that found the resource not running
/// (`non_monitor_after` / `monitor_not_running_after`).
fn newer_state(cib: &Cib, uname: &str, lrm_id: &str, than: &LrmRscOp, same_node: bool, monitors_too: bool) -> bool {
    history_on(cib, uname, lrm_id).into_iter().any(|op| {
        let monitor = op.operation == "monitor";
        let counts = if monitor { monitors_too && op.rc_code == OCF_NOT_RUNNING } else { op.operation != "notify" };
        counts && !std::ptr::eq(op, than) && is_newer(op, than, same_node)
    })
}

/// A successful `migrate_to` on the source (Pacemaker 2.1.5's
/// `unpack_migrate_to_success`), which only counts while it is the last
/// word on both ends:
/// - `migrate_from` succeeded on the target: complete; the target's own
///   history says the resource runs there.
/// - `migrate_from` failed: active on the target when that is up and has
///   not moved on, else failed (a restart, no new migration).
/// - no `migrate_from` (pending or erased): a partial migration, active
///   on the target, when that is up and has not moved on; else failed
///   while this is still the source's last operation.
///
/// A dangling migration (both ends done, no stop on the source yet)
/// leaves the resource stopped on the source and remembered, for the
/// stop `crate::migration` schedules there.
fn unpack_migrate_to_success(ws: &mut WorkingSet, cib: &Cib, rsc: RscId, node: NodeId, op: &LrmRscOp) {
    let (Some(source), Some(target)) = (op.migrate_source.as_deref(), op.migrate_target.as_deref()) else { return };
    if !source.eq_ignore_ascii_case(&ws.node(node).uname) {
        return;
    }
    let lrm_id = ws.rsc(rsc).clone_name.clone().unwrap_or_else(|| ws.rsc(rsc).id.clone());
    let source_newer_op = newer_state(cib, source, &lrm_id, op, true, false);
    let migrate_from = history_on(cib, target, &lrm_id)
        .into_iter()
        .find(|o| o.operation == "migrate_from" && o.migrate_source.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(source)));
    if migrate_from.is_some() && source_newer_op {
        return;
    }
    let target_newer_state = match migrate_from {
        Some(from) => newer_state(cib, target, &lrm_id, from, true, true),
        None => newer_state(cib, target, &lrm_id, op, false, true),
    };
    if source_newer_op && target_newer_state {
        return;
    }
    let target_node = ws.node_by_uname(target).filter(|t| ws.node(*t).online);
    let fail = |ws: &mut WorkingSet| {
        // Forces a restart and prevents a new migration.
        let r = &mut ws.resources[rsc.0];
        r.flags.failed = true;
        r.flags.stop = true;
    };
    match migrate_from {
        // Dangling: not active on the source any more.
        Some(from) if from.rc_code == OCF_OK && from.op_status == ExecStatus::Done => {
            let r = &mut ws.resources[rsc.0];
            r.role = Role::Stopped;
            r.dangling_migrations.insert(0, node);
        }
        Some(from) if from.op_status != ExecStatus::Pending => match target_node {
            Some(t) if !target_newer_state => add_running(ws, rsc, t, true),
            _ => fail(ws),
        },
        _ => match target_node {
            Some(t) if !target_newer_state => {
                add_running(ws, rsc, t, false);
                if ws.node(node).online {
                    let r = &mut ws.resources[rsc.0];
                    r.partial_migration_target = Some(t);
                    r.partial_migration_source = Some(node);
                }
            }
            _ if !source_newer_op => fail(ws),
            _ => {}
        },
    }
}

/// Whether the node has no completed history of the resource (every
/// entry, if any, is rc 193: pending) (`unknown_on_node`).
fn unknown_on(cib: &Cib, uname: &str, lrm_id: &str) -> bool {
    history_on(cib, uname, lrm_id).iter().all(|o| o.rc_code == 193)
}

/// A failed `migrate_to` on the source (`unpack_migrate_to_failure`):
/// the resource must be assumed active; on the target too, when that
/// knows the resource and has not moved on since.
fn unpack_migrate_to_failure(ws: &mut WorkingSet, cib: &Cib, rsc: RscId, node: NodeId, op: &LrmRscOp) {
    let (Some(source), Some(target)) = (op.migrate_source.as_deref(), op.migrate_target.as_deref()) else { return };
    if !source.eq_ignore_ascii_case(&ws.node(node).uname) {
        return;
    }
    ws.resources[rsc.0].role = Role::Started;
    let lrm_id = ws.rsc(rsc).clone_name.clone().unwrap_or_else(|| ws.rsc(rsc).id.clone());
    let from = history_on(cib, target, &lrm_id).into_iter().find(|o| {
        o.operation == "migrate_from" && o.rc_code == OCF_OK && o.migrate_source.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(source))
    });
    let newer = match from {
        Some(f) => newer_state(cib, target, &lrm_id, f, true, true),
        None => newer_state(cib, target, &lrm_id, op, false, true),
    };
    if !unknown_on(cib, target, &lrm_id) && !newer {
        if let Some(t) = ws.node_by_uname(target).filter(|t| ws.node(*t).online) {
            add_running(ws, rsc, t, false);
        }
    }
}

/// A failed `migrate_from` on the target (`unpack_migrate_from_failure`):
/// the resource must be assumed active, on the source too when that
/// knows it and has not moved on since its `migrate_to`.
fn unpack_migrate_from_failure(ws: &mut WorkingSet, cib: &Cib, rsc: RscId, node: NodeId, op: &LrmRscOp) {
    let (Some(source), Some(target)) = (op.migrate_source.as_deref(), op.migrate_target.as_deref()) else { return };
    if !target.eq_ignore_ascii_case(&ws.node(node).uname) {
        return;
    }
    ws.resources[rsc.0].role = Role::Started;
    let lrm_id = ws.rsc(rsc).clone_name.clone().unwrap_or_else(|| ws.rsc(rsc).id.clone());
    let to = history_on(cib, source, &lrm_id).into_iter().find(|o| {
        o.operation == "migrate_to" && o.rc_code == OCF_OK && o.migrate_target.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(target))
    });
    let newer = match to {
        Some(t) => newer_state(cib, source, &lrm_id, t, true, true),
        None => newer_state(cib, source, &lrm_id, op, false, true),
    };
    if !unknown_on(cib, source, &lrm_id) && !newer {
        if let Some(s) = ws.node_by_uname(source).filter(|s| ws.node(*s).online) {
            add_running(ws, rsc, s, true);
        }
    }
}

/// A completed operation's effect on the role (`update_resource_state`).
fn update_resource_state<'h>(ws: &mut WorkingSet, rsc: RscId, node: NodeId, op: &'h LrmRscOp, rc: i32, st: &mut HistoryState<'h>) {
    let task = op.operation.as_str();
    let mut clear_past_failure = false;
    if rc == OCF_NOT_INSTALLED || masks_probe_failure(op) {
        ws.resources[rsc.0].role = Role::Stopped;
    } else if rc == OCF_NOT_RUNNING {
        clear_past_failure = true;
    } else if task == "monitor" {
        if let Some(last) = st.last_failure {
            if op_key(last) == op_key(op) {
                clear_past_failure = true;
            }
        }
        if ws.rsc(rsc).role < Role::Started {
            set_active(ws, rsc);
        }
    } else if task == "start" || task == "migrate_from" {
        ws.resources[rsc.0].role = Role::Started;
        clear_past_failure = true;
    } else if task == "stop" {
        ws.resources[rsc.0].role = Role::Stopped;
        clear_past_failure = true;
    } else if task == "promote" {
        ws.resources[rsc.0].role = Role::Promoted;
        clear_past_failure = true;
    } else if task == "demote" {
        if st.on_fail == OnFailAction::Demote {
            clear_past_failure = true;
        }
        ws.resources[rsc.0].role = Role::Unpromoted;
    } else if task == "migrate_to" {
        // Active on the source; what the migration left on the target is
        // read by `unpack_migrate_to_success` after this.
        ws.resources[rsc.0].role = Role::Started;
    } else if ws.rsc(rsc).role < Role::Started {
        set_active(ws, rsc);
    }
    let _ = node;
    if clear_past_failure {
        match st.on_fail {
            OnFailAction::Stop | OnFailAction::Fence | OnFailAction::Migrate | OnFailAction::Standby => {}
            OnFailAction::Block | OnFailAction::Ignore | OnFailAction::Demote | OnFailAction::Recover | OnFailAction::RestartContainer => {
                st.on_fail = OnFailAction::Ignore;
                ws.resources[rsc.0].next_role = Role::Unknown;
            }
            OnFailAction::ResetRemote => {
                if ws.rsc(rsc).remote_reconnect_ms == 0 {
                    st.on_fail = OnFailAction::Ignore;
                    ws.resources[rsc.0].next_role = Role::Unknown;
                }
            }
        }
    }
}

/// A failed operation (`unpack_rsc_op_failure`).
fn unpack_rsc_op_failure<'h>(ws: &mut WorkingSet, cib: &Cib, rsc: RscId, node: NodeId, rc: i32, op: &'h LrmRscOp, st: &mut HistoryState<'h>) {
    let task = op.operation.as_str();
    st.last_failure = Some(op);
    record_failed_op(ws, op, node, rsc);
    let pol = policy(ws, cib, rsc, task, op.interval_ms);
    if st.on_fail < pol.on_fail {
        st.on_fail = pol.on_fail;
    }
    match task {
        "stop" => location(ws, rsc, Some(node), Score::MINUS_INFINITY, "__stop_fail__"),
        "migrate_to" => unpack_migrate_to_failure(ws, cib, rsc, node, op),
        "migrate_from" => unpack_migrate_from_failure(ws, cib, rsc, node, op),
        "promote" => ws.resources[rsc.0].role = Role::Promoted,
        "demote" => {
            let r = &mut ws.resources[rsc.0];
            if pol.on_fail == OnFailAction::Block {
                r.role = Role::Promoted;
                r.next_role = Role::Stopped;
            } else if rc == OCF_NOT_RUNNING {
                r.role = Role::Stopped;
            } else {
                r.role = Role::Unpromoted;
            }
        }
        _ => {}
    }
    if is_probe(op) && rc == OCF_NOT_INSTALLED {
        ws.resources[rsc.0].role = Role::Stopped;
    } else if ws.rsc(rsc).role < Role::Started {
        set_active(ws, rsc);
    }
    let r = &mut ws.resources[rsc.0];
    if pol.fail_role != Role::Started && r.next_role < pol.fail_role {
        r.next_role = pol.fail_role;
    }
    if pol.fail_role == Role::Stopped {
        // Keep it (or, for an anonymous clone, the whole clone) down.
        let mut fail_rsc = rsc;
        if ws.rsc(rsc).parent.is_some() {
            let top = ws.top(rsc);
            if ws.rsc(top).clone_info().is_some() && !ws.rsc(top).flags.unique {
                fail_rsc = top;
            }
        }
        location(ws, fail_rsc, None, Score::MINUS_INFINITY, "on-fail-stop");
    }
}

/// Records where the resource is and what its failures require
/// (`process_rsc_state`).
fn process_rsc_state(ws: &mut WorkingSet, rsc: RscId, node: NodeId, mut on_fail: OnFailAction) {
    let role = ws.rsc(rsc).role;
    if role != Role::Unknown {
        let mut iter = Some(rsc);
        while let Some(r) = iter {
            ws.resources[r.0].known_on.insert(node);
            if ws.rsc(r).flags.unique {
                break;
            }
            iter = ws.rsc(r).parent;
        }
    }
    // What is needed of the node, not a clone of it (its attributes hold
    // every fail count: a copy per history entry was 20 % of a large run).
    let n = ws.node(node);
    let (online, maintenance, kind, remote_rsc) = (n.online, n.maintenance, n.kind, n.remote_rsc);
    if role > Role::Stopped && !online && !maintenance && ws.rsc(rsc).flags.managed {
        let mut should_fence = false;
        if kind == NodeKind::Guest {
            let r = &mut ws.resources[rsc.0];
            r.flags.failed = true;
            r.flags.stop = true;
            should_fence = true;
        } else if ws.options.stonith_enabled {
            if kind == NodeKind::Remote && remote_rsc.is_some_and(|c| !ws.rsc(c).flags.failed) {
                ws.nodes[node.0].unseen = true;
            }
            should_fence = true;
        }
        if should_fence {
            let reason = format!("{} is thought to be active there", ws.rsc(rsc).id);
            fence_node(ws, node, reason);
        }
    }
    let save_on_fail = on_fail;
    if ws.node(node).unclean {
        // Resources may start again once the node is fenced.
        on_fail = OnFailAction::Ignore;
    }
    match on_fail {
        OnFailAction::Ignore => {}
        OnFailAction::Demote => {
            ws.resources[rsc.0].flags.failed = true;
            { ws.early_actions.push(crate::working_set::EarlyAction::Implied(ws.implied_actions.len())); ws.implied_actions.push(ImpliedAction { rsc, node, task: "demote" }); }
        }
        OnFailAction::Fence => {
            let reason = format!("{} failed there", ws.rsc(rsc).id);
            fence_node(ws, node, reason);
        }
        OnFailAction::Standby => {
            let n = &mut ws.nodes[node.0];
            n.standby = true;
            n.standby_onfail = true;
        }
        OnFailAction::Block => {
            let r = &mut ws.resources[rsc.0];
            r.flags.managed = false;
            r.flags.blocked = true;
        }
        OnFailAction::Migrate => location(ws, rsc, Some(node), Score::MINUS_INFINITY, "__action_migration_auto__"),
        OnFailAction::Stop => ws.resources[rsc.0].next_role = Role::Stopped,
        OnFailAction::Recover => {
            if role != Role::Stopped && role != Role::Unknown {
                let r = &mut ws.resources[rsc.0];
                r.flags.failed = true;
                r.flags.stop = true;
                { ws.early_actions.push(crate::working_set::EarlyAction::Implied(ws.implied_actions.len())); ws.implied_actions.push(ImpliedAction { rsc, node, task: "stop" }); }
            }
        }
        OnFailAction::RestartContainer => {
            let r = &mut ws.resources[rsc.0];
            r.flags.failed = true;
            r.flags.stop = true;
            if let Some(c) = r.container {
                ws.stop_needed.push(c);
            } else if role != Role::Stopped && role != Role::Unknown {
                { ws.early_actions.push(crate::working_set::EarlyAction::Implied(ws.implied_actions.len())); ws.implied_actions.push(ImpliedAction { rsc, node, task: "stop" }); }
            }
        }
        OnFailAction::ResetRemote => {
            let r = &mut ws.resources[rsc.0];
            r.flags.failed = true;
            r.flags.stop = true;
            if ws.options.stonith_enabled && r.is_remote_node {
                let id = r.id.clone();
                if let Some(t) = ws.nodes.iter().position(|n| n.id == id).map(NodeId) {
                    if ws.node(t).kind == NodeKind::Remote && !ws.node(t).remote_was_fenced {
                        fence_node(ws, t, "remote connection is unrecoverable".into());
                    }
                }
            }
            if role > Role::Stopped {
                { ws.early_actions.push(crate::working_set::EarlyAction::Implied(ws.implied_actions.len())); ws.implied_actions.push(ImpliedAction { rsc, node, task: "stop" }); }
            }
            if ws.rsc(rsc).remote_reconnect_ms > 0 {
                ws.resources[rsc.0].next_role = Role::Stopped;
            }
        }
    }
    if ws.rsc(rsc).flags.failed && ws.rsc(rsc).is_remote_node {
        let id = ws.rsc(rsc).id.clone();
        if let Some(t) = ws.nodes.iter().position(|n| n.id == id) {
            if ws.nodes[t].unclean {
                ws.nodes[t].unseen = false;
            }
        }
    }
    if role != Role::Stopped && role != Role::Unknown {
        add_running(ws, rsc, node, save_on_fail != OnFailAction::Ignore);
        let r = &mut ws.resources[rsc.0];
        match on_fail {
            OnFailAction::Ignore => {}
            OnFailAction::Demote | OnFailAction::Block => r.flags.failed = true,
            _ => {
                r.flags.failed = true;
                r.flags.stop = true;
            }
        }
    } else if ws.rsc(rsc).clone_name.as_deref().is_some_and(|c| c.contains(':')) {
        // Older histories recorded instance numbers; a stopped instance
        // must not look like an orphan.
        ws.resources[rsc.0].clone_name = None;
    }
    let r = ws.rsc(rsc);
    if r.role == Role::Stopped && r.partial_migration_source == Some(node) && r.partial_migration_target.is_some() && !r.running_on.is_empty() {
        ws.resources[rsc.0].role = Role::Started;
    }
}

/// Records a resource as active on a node (`native_add_running`).
fn add_running(ws: &mut WorkingSet, rsc: RscId, node: NodeId, _failed: bool) {
    if ws.rsc(rsc).running_on.contains(&node) {
        return;
    }
    ws.resources[rsc.0].running_on.push(node);
    if ws.rsc(rsc).is_primitive() {
        ws.nodes[node.0].running.push(rsc);
        if ws.node(node).maintenance {
            let r = &mut ws.resources[rsc.0];
            r.flags.managed = false;
            r.flags.maintenance = true;
        }
    }
    let parent = ws.rsc(rsc).parent;
    if !ws.rsc(rsc).flags.managed {
        location(ws, rsc, Some(node), Score::INFINITY, "not_managed_default");
        let mut p = parent;
        while let Some(pp) = p {
            if !ws.node(node).online {
                break;
            }
            ws.resources[pp.0].running_on.push(node);
            p = ws.rsc(pp).parent;
        }
        return;
    }
    if ws.rsc(rsc).is_primitive() && ws.rsc(rsc).running_on.len() > 1 {
        match ws.rsc(rsc).meta("multiple-active").unwrap_or("stop_start") {
            "stop_only" => {
                location(ws, rsc, None, Score::MINUS_INFINITY, "multiple-active");
            }
            "block" => {
                let r = &mut ws.resources[rsc.0];
                r.flags.managed = false;
                r.flags.blocked = true;
                if let Some(p) = parent {
                    let pr = ws.rsc(p);
                    if matches!(pr.variant, Variant::Group | Variant::Bundle) && pr.meta("multiple-active") == Some("block") {
                        for c in pr.children.clone() {
                            let cr = &mut ws.resources[c.0];
                            cr.flags.managed = false;
                            cr.flags.blocked = true;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(p) = parent {
        add_running(ws, p, node, false);
    }
}

/// Pacemaker's history order (`sort_op_by_callid`): by call id, equal ids
/// by last-rc-change, pending operations placed by their transition.
pub fn compare_ops(a: &&LrmRscOp, b: &&LrmRscOp) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    if a.id == b.id {
        return Equal;
    }
    let (ac, bc) = (a.call_id, b.call_id);
    if ac == -1 && bc == -1 {
        return Equal;
    }
    if ac >= 0 && ac < bc {
        return Less;
    }
    if bc >= 0 && ac > bc {
        return Greater;
    }
    if bc >= 0 && ac == bc {
        let (la, lb) = (a.last_rc_change.unwrap_or(-1), b.last_rc_change.unwrap_or(-1));
        if la >= 0 && la < lb {
            return Less;
        }
        if lb >= 0 && la > lb {
            return Greater;
        }
        return Equal;
    }
    // One of them is pending: compare transitions from the magic.
    let decode = |op: &LrmRscOp| -> Option<(String, i32)> {
        let magic = op.transition_magic.as_deref()?;
        let (_, key) = magic.split_once(';')?;
        let k = cib::model::status::TransitionKey::parse(key)?;
        Some((k.uuid, k.transition_id))
    };
    let (Some((au, aid)), Some((bu, bid))) = (decode(a), decode(b)) else { return Equal };
    if !au.eq_ignore_ascii_case(&bu) || aid == bid {
        if bc == -1 {
            return Less;
        }
        if ac == -1 {
            return Greater;
        }
    } else if (aid >= 0 && aid < bid) || bid == -1 {
        return Less;
    } else if (bid >= 0 && aid > bid) || aid == -1 {
        return Greater;
    }
    Equal
}

/// GLib's `g_list_sort`: a stable top-down merge sort whose split and
/// merge are reproduced exactly, because the history comparison is not a
/// total order and the result depends on the algorithm.
pub fn glib_sort<T: Copy>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> std::cmp::Ordering) {
    if v.len() < 2 {
        return;
    }
    let mid = v.len() / 2;
    glib_sort(&mut v[..mid], cmp);
    glib_sort(&mut v[mid..], cmp);
    let (left, right) = (v[..mid].to_vec(), v[mid..].to_vec());
    let (mut i, mut j, mut k) = (0, 0, 0);
    while i < left.len() && j < right.len() {
        if cmp(&left[i], &right[j]) != std::cmp::Ordering::Greater {
            v[k] = left[i];
            i += 1;
        } else {
            v[k] = right[j];
            j += 1;
        }
        k += 1;
    }
    for x in left[i..].iter().chain(right[j..].iter()) {
        v[k] = *x;
        k += 1;
    }
}

#[allow(dead_code)]
fn unused(_: bool) -> bool {
    is_true(None)
}
