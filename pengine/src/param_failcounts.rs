//! Fail counts cleared because the failed operation's definition changed
//! (Pacemaker 2.1.5's `check_operation_expiry` with
//! `should_clear_for_param_change`).
//!
//! A node's `RSC_last_failure_0` entry records the last failure of a
//! start or monitor. When the parameters it ran with (its `op-digest`)
//! differ from the configuration now, the failure says nothing about the
//! resource as configured: the fail count on that node is cleared
//! (`clear_failcount`), so the resource gets a fresh try. An entry with
//! no digest is left alone, as Pacemaker does.

use cib::model::LrmRscOp;

use crate::schedule::Scheduler;
use crate::working_set::{NodeId, RscId};

impl Scheduler<'_> {
    /// Queues the clearing (`ws.clear_failcounts`) for every last
    /// failure whose definition changed; `handle_config_changes`
    /// schedules them with the expired ones.
    pub(crate) fn clear_failcounts_for_param_changes(&mut self) {
        let status = &self.cib.status;
        // Primitives by id and by the name their instances go by, in
        // arena order, built at the first failure entry (a scan of every
        // resource per entry was quadratic in large clusters).
        let mut by_name: Option<std::collections::HashMap<String, Vec<RscId>>> = None;
        for n in 0..self.ws.nodes.len() {
            let node = NodeId(n);
            if !self.ws.node(node).online {
                continue;
            }
            let uname = self.ws.node(node).uname.clone();
            let Some(state) = status.node_states.iter().find(|s| s.uname.as_deref() == Some(uname.as_str())) else { continue };
            for entry in &state.lrm_resources {
                for op in &entry.ops {
                    if !op.id.ends_with("_last_failure_0") || !matches!(op.operation.as_str(), "start" | "monitor") {
                        continue;
                    }
                    let names = by_name.get_or_insert_with(|| self.primitives_by_history_name());
                    let Some(rsc) = self.history_resource(names, &entry.id, node) else { continue };
                    if self.ws.clear_failcounts.contains(&(rsc, node)) || !self.definition_changed(rsc, op) {
                        continue;
                    }
                    self.ws.clear_failcounts.push((rsc, node));
                }
            }
        }
    }

    /// The primitive a node's history entry belongs to: the resource of
    /// that id, or the clone instance known under that name there.
    fn history_resource(&self, by_name: &std::collections::HashMap<String, Vec<RscId>>, lrm_id: &str, node: NodeId) -> Option<RscId> {
        let all = by_name.get(lrm_id)?;
        all.iter().copied().find(|r| self.ws.rsc(*r).known_on.contains(&node)).or(all.first().copied())
    }

    /// Every primitive under its id and its clone name (once if the same).
    fn primitives_by_history_name(&self) -> std::collections::HashMap<String, Vec<RscId>> {
        let mut map: std::collections::HashMap<String, Vec<RscId>> = std::collections::HashMap::new();
        for (i, res) in self.ws.resources.iter().enumerate().filter(|(_, r)| r.is_primitive()) {
            map.entry(res.id.clone()).or_default().push(RscId(i));
            if let Some(name) = res.clone_name.as_deref().filter(|n| *n != res.id) {
                map.entry(name.to_string()).or_default().push(RscId(i));
            }
        }
        map
    }

    /// Whether the recorded digest of an operation differs from the
    /// configured parameters (`rsc_action_digest_cmp`, comparison only).
    fn definition_changed(&self, rsc: RscId, op: &LrmRscOp) -> bool {
        let Some(recorded) = op.op_digest.as_deref() else { return false };
        // A probe stands for a start.
        let task = if op.operation == "monitor" && op.interval_ms == 0 { "start" } else { op.operation.as_str() };
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
            // Rule-guarded parameters are not evaluated here: no guess.
            return false;
        }
        if cib::op_digest::op_digest(&params) == recorded {
            return false;
        }
        // A sanitized CIB (secrets replaced) still matches by its secure
        // digest.
        !op.op_secure_digest.as_deref().is_some_and(|d| {
            let private: Vec<&str> = op.op_secure_params.iter().map(String::as_str).collect();
            let fence = self.ws.rsc(rsc).primitive().is_some_and(|p| p.class == cib::model::AgentClass::Stonith);
            cib::op_digest::secure_digest(&params, &private, fence) == d
        })
    }
}
