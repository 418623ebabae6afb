//! Configuration changes seen in the history (Pacemaker's
//! `pcmk__handle_rsc_config_changes`) and fail counts to clear.
//!
//! For every resource active on a node that can run resources (or is in
//! maintenance), the operations since its last start are compared with
//! the configuration: a recurring operation no longer configured (or
//! disabled) is cancelled, and maintenance cancels every recurring
//! operation. An orphan (a resource gone from the configuration) has its
//! history deleted from each node that knows it. Expired failures, found
//! while unpacking, get their fail counts cleared.
//!
//! Parameter digests (`cib::op_digest`) recorded for operations since the
//! last start are compared with the configured parameters: a changed
//! restart digest (or a changed digest of an agent that cannot reload)
//! restarts the resource, a changed recurring operation is rescheduled.
//! Agent reloads (`reload-agent`) are not scheduled yet: a change an
//! agent could reload leaves the resource alone.

use cib::model::status::ExecStatus;
use cib::model::LrmRscOp;

use crate::orderings::{OrderFlags, Side};
use crate::schedule::Scheduler;
use crate::unpack::history::{compare_ops, glib_sort};
use crate::working_set::{NodeId, RscId};

impl Scheduler<'_> {
    pub(crate) fn handle_config_changes(&mut self) {
        for (rsc, node) in self.ws.clear_failcounts.clone() {
            self.clear_failcount(rsc, node);
        }
        let status = &self.cib.status;
        // Primitives by id and history name: each history entry looks its
        // resources up here rather than scanning every resource (that
        // scan, per entry, was most of the time of large running
        // clusters; docs/SCALE.md).
        let mut by_name: std::collections::HashMap<String, Vec<RscId>> = std::collections::HashMap::new();
        for (i, res) in self.ws.resources.iter().enumerate() {
            if !res.is_primitive() {
                continue;
            }
            by_name.entry(res.id.clone()).or_default().push(RscId(i));
            if let Some(c) = res.clone_name.as_deref().filter(|c| *c != res.id) {
                by_name.entry(c.to_string()).or_default().push(RscId(i));
            }
        }
        // Both lists are in resource order; one resource may be in both.
        let lookup = |id: &str| -> Vec<RscId> { by_name.get(id).cloned().unwrap_or_default() };
        for n in 0..self.ws.nodes.len() {
            let node = NodeId(n);
            if !(self.ws.node(node).maintenance || self.node_available(node, None)) {
                continue;
            }
            let uname = self.ws.node(node).uname.clone();
            let Some(state) = status.node_states.iter().find(|s| s.uname.as_deref() == Some(uname.as_str())) else { continue };
            for entry in &state.lrm_resources {
                if entry.ops.is_empty() {
                    continue;
                }
                let matching = lookup(entry.id.as_str());
                for rsc in matching {
                    self.process_rsc_history(rsc, node, entry);
                }
            }
        }
    }

    fn process_rsc_history(&mut self, rsc: RscId, node: NodeId, entry: &cib::model::LrmResource) {
        let ops = &entry.ops[..];
        let res = self.ws.rsc(rsc);
        if res.flags.orphan {
            let top = self.ws.top(rsc);
            let anon_clone = self.ws.rsc(top).clone_info().is_some() && !self.ws.rsc(top).flags.unique;
            if !anon_clone && !res.flags.failed {
                // Unmanaged orphans (stop-orphan-resources=false) are
                // left alone: the action stays optional.
                let del = self.custom_action(Some(rsc), "delete", 0, Some(node), false);
                let opt = OrderFlags { optional: true, ..Default::default() };
                self.order(Side::Task(rsc, "stop".into()), Side::Action(del), opt);
                self.order(Side::Action(del), Side::Task(rsc, "start".into()), opt);
            }
            return;
        }
        let active = res.running_on.contains(&node);
        // `pcmk__rsc_agent_changed`: the history was written by another
        // agent (class, provider or type); it is cleaned up, and an
        // active resource restarted.
        if self.agent_changed(rsc, entry) {
            if active {
                self.custom_action(Some(rsc), "stop", 0, Some(node), false);
                self.ws.resources[rsc.0].flags.start_pending = true;
            }
            self.schedule_cleanup(rsc, node);
        }
        let res = self.ws.rsc(rsc);
        if !active {
            return;
        }
        let mut sorted: Vec<&LrmRscOp> = ops.iter().collect();
        glib_sort(&mut sorted, &compare_ops);
        let (start, stop) = active_indexes(&sorted);
        if start < stop {
            return;
        }
        let maintenance = res.flags.maintenance || self.ws.node(node).maintenance;
        let configured: Vec<(String, u64)> = res.primitive().map(|p| p.ops.iter().filter(|o| o.enabled != Some(false)).map(|o| (o.name.clone(), o.interval_ms)).collect()).unwrap_or_default();
        for (i, op) in sorted.iter().enumerate() {
            if (i as i64) < start {
                continue;
            }
            let task = op.operation.as_str();
            if op.interval_ms > 0 && maintenance {
                self.schedule_cancel(rsc, node, task, op.interval_ms);
            } else if op.interval_ms > 0 || matches!(task, "monitor" | "start" | "promote" | "migrate_from") {
                // `pcmk__check_action_config`: a recurring operation no
                // longer configured is orphaned; otherwise the recorded
                // parameter digests are compared with the configuration.
                // A changed definition clears the fail count, so the
                // operation is retried fresh.
                let orphaned = op.interval_ms > 0 && !configured.contains(&(op.operation.to_string(), op.interval_ms));
                if orphaned && self.ws.options.stop_orphan_actions {
                    self.schedule_cancel(rsc, node, task, op.interval_ms);
                }
                let changed = orphaned || self.check_digests(rsc, node, op);
                if changed && crate::unpack::failcount::fail_count(&self.ws, node, rsc, true).count.value() != 0 {
                    self.clear_failcount(rsc, node);
                }
            }
        }
    }

    /// Whether the agent recorded in a history entry differs from the
    /// configured one.
    fn agent_changed(&self, rsc: RscId, entry: &cib::model::LrmResource) -> bool {
        let Some(p) = self.ws.rsc(rsc).primitive() else { return false };
        p.class.as_str() != entry.class || p.provider != entry.provider || p.agent != entry.agent_type
    }

    /// `pcmk__schedule_cleanup` (required): delete the resource's history
    /// on the node, after its stop and before its start; not for a failed
    /// resource, nor on a node that is down or unclean.
    fn schedule_cleanup(&mut self, rsc: RscId, node: NodeId) {
        let n = self.ws.node(node);
        if self.ws.rsc(rsc).flags.failed || n.unclean || !n.online {
            return;
        }
        let del = self.custom_action(Some(rsc), "delete", 0, Some(node), false);
        let opt = OrderFlags { optional: true, ..Default::default() };
        self.order(Side::Task(rsc, "stop".into()), Side::Action(del), opt);
        self.order(Side::Action(del), Side::Task(rsc, "start".into()), opt);
    }

    /// `rsc_action_digest_cmp` + the action taken on a difference
    /// (`pcmk__check_action_config`). True when the definition changed.
    fn check_digests(&mut self, rsc: RscId, node: NodeId, op: &LrmRscOp) -> bool {
        let Some(recorded) = op.op_digest.as_deref() else {
            // Pacemaker treats an unknown digest like a changed one; old
            // records without digests are left alone here (decision in
            // docs/PENGINE.md).
            return false;
        };
        // A probe or a migration's completion stands for a start.
        let task = match op.operation.as_str() {
            "monitor" | "migrate_from" if op.interval_ms == 0 => "start",
            t => t,
        };
        // Instance sets guarded by rules are not evaluated by
        // `from_model`: skip such resources rather than guess.
        let conditional = std::cell::Cell::new(false);
        let filter = |set: &cib::model::NvSet| {
            if !set.is_unconditional() {
                conditional.set(true);
            }
            set.is_unconditional()
        };
        let xml_id = self.ws.rsc(rsc).xml_id.clone();
        let Some(params) = cib::op_digest::OpParams::from_index(self.cib, &self.primitives, &xml_id, task, op.interval_ms, &filter) else { return false };
        if conditional.get() {
            return false;
        }
        let restart_changed = op.op_restart_digest.as_deref().is_some_and(|d| {
            let names: Vec<&str> = op.op_force_restart.iter().map(String::as_str).collect();
            cib::op_digest::digest_only(&params, &names) != d
        });
        let all_changed = cib::op_digest::op_digest(&params) != recorded
            // A sanitized CIB (secrets replaced) still matches by its
            // secure digest.
            && !op.op_secure_digest.as_deref().is_some_and(|d| {
                let private: Vec<&str> = op.op_secure_params.iter().map(String::as_str).collect();
                let fence = self.ws.rsc(rsc).primitive().is_some_and(|p| p.class == cib::model::AgentClass::Stonith);
                cib::op_digest::secure_digest(&params, &private, fence) == d
            });
        if restart_changed {
            self.force_restart(rsc, task, op.interval_ms);
        } else if !all_changed {
            return false;
        } else if op.interval_ms > 0 {
            // `pcmk__reschedule_recurring`: the recurring operation runs
            // again with the new parameters (replacing the old one) —
            // where the resource stays; elsewhere it stops anyway.
            if self.assign[rsc.0].allocated_to != Some(node) {
                return true;
            }
            let mon = self.custom_action(Some(rsc), task, op.interval_ms, Some(node), false);
            self.actions[mon].optional = false;
        } else if op.op_restart_digest.is_none() {
            // The agent cannot reload.
            self.force_restart(rsc, task, op.interval_ms);
        }
        true
    }

    /// `force_restart`: the operation (a start, normally) becomes
    /// required wherever the resource is placed, which restarts it.
    fn force_restart(&mut self, rsc: RscId, task: &str, interval_ms: u64) {
        let Some(to) = self.assign[rsc.0].allocated_to else { return };
        let a = self.custom_action(Some(rsc), task, interval_ms, Some(to), false);
        self.actions[a].reason = Some("resource definition change".to_string());
    }

    fn clear_failcount(&mut self, rsc: RscId, node: NodeId) -> usize {
        let a = self.custom_action(Some(rsc), "clear_failcount", 0, Some(node), false);
        self.actions[a].optional = false;
        a
    }

    /// `clear_failcounts_if_orphaned`: an orphan's fail counts are
    /// cleared on every online node that has one, before it stops.
    pub(crate) fn clear_orphan_failcounts(&mut self) {
        if !self.ws.options.stop_orphan_resources {
            return;
        }
        for top in self.ws.top_level.clone() {
            if !self.ws.rsc(top).flags.orphan {
                continue;
            }
            for n in 0..self.ws.nodes.len() {
                let node = NodeId(n);
                if !self.ws.node(node).online || crate::unpack::failcount::fail_count(&self.ws, node, top, true).count.value() == 0 {
                    continue;
                }
                let clear = self.clear_failcount(top, node);
                self.order(Side::Action(clear), Side::Task(top, "stop".into()), OrderFlags { optional: true, ..Default::default() });
            }
        }
    }

    /// `pcmk__schedule_cancel`: cancel a recurring operation (after the
    /// resource stops there, if it does).
    fn schedule_cancel(&mut self, rsc: RscId, node: NodeId, task: &str, interval_ms: u64) {
        let cancel = self.custom_action(Some(rsc), "cancel", interval_ms, Some(node), false);
        self.actions[cancel].cancel_task = Some(task.to_string());
        self.actions[cancel].optional = false;
        self.order(Side::Task(rsc, "stop".into()), Side::Action(cancel), OrderFlags { optional: true, ..Default::default() });
    }
}

/// `calculate_active_ops`: indexes of the last start and the last
/// successful stop.
fn active_indexes(ops: &[&LrmRscOp]) -> (i64, i64) {
    let (mut start, mut stop, mut implied_monitor, mut implied_clone) = (-1i64, -1i64, -1i64, -1i64);
    for (i, op) in ops.iter().enumerate() {
        let i = i as i64;
        match op.operation.as_str() {
            "stop" if op.op_status == ExecStatus::Done => stop = i,
            "start" | "migrate_from" => start = i,
            "monitor" if implied_monitor <= stop && (op.rc_code == 0 || op.rc_code == 8) => implied_monitor = i,
            "promote" | "demote" => implied_clone = i,
            _ => {}
        }
    }
    if start == -1 {
        start = if implied_clone != -1 { implied_clone } else { implied_monitor };
    }
    (start, stop)
}
