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
//! Parameter digests (restart or reload on a definition change) are not
//! compared yet.

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
                let matching: Vec<RscId> = (0..self.ws.resources.len())
                    .map(RscId)
                    .filter(|r| {
                        let res = self.ws.rsc(*r);
                        res.is_primitive() && (res.id == entry.id || res.clone_name.as_deref() == Some(entry.id.as_str()))
                    })
                    .collect();
                for rsc in matching {
                    self.process_rsc_history(rsc, node, &entry.ops);
                }
            }
        }
    }

    fn process_rsc_history(&mut self, rsc: RscId, node: NodeId, ops: &[LrmRscOp]) {
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
        if !res.running_on.contains(&node) {
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
            } else if op.interval_ms == 0 || matches!(task, "monitor" | "start" | "promote" | "migrate_from") {
                // `pcmk__check_action_config`: a recurring operation no
                // longer configured is orphaned (parameter digests are not
                // compared yet). A changed definition clears the fail
                // count, so the operation is retried fresh.
                let changed = op.interval_ms > 0 && !configured.contains(&(op.operation.clone(), op.interval_ms));
                if changed && self.ws.options.stop_orphan_actions {
                    self.schedule_cancel(rsc, node, task, op.interval_ms);
                }
                if changed && crate::unpack::failcount::fail_count(&self.ws, node, rsc, true).count.value() != 0 {
                    self.clear_failcount(rsc, node);
                }
            }
        }
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
