//! Stage 6: fencing and shutdowns (Pacemaker's
//! `schedule_fencing_and_shutdowns`, `pe_fence_op`,
//! `pcmk__order_vs_fence`).
//!
//! Every unclean node that can be fenced gets a fencing action
//! (`stonith-NODE-reboot`, or the configured `stonith-action`). The first
//! reason the node was found unclean is the action's reason, which the
//! Transition Summary prints (`Fence (reboot) node1 'peer is no longer
//! part of the cluster'`). Stops on the fenced node cannot run; fencing
//! implies them, so they become pseudo-actions ordered after it, and
//! resources that require fencing start only after it. Fencing of nodes
//! other than the DC is chained unless `concurrent-fencing` is set, and
//! the DC goes last. A node shutting down cleanly gets a `do_shutdown`
//! event after its resources have stopped.

use crate::actions::Action;
use crate::orderings::{OrderFlags, Side};
use crate::schedule::Scheduler;
use crate::unpack::nodes::can_fence;
use crate::working_set::{EarlyAction, NodeId, NodeKind, RscId};

impl Scheduler<'_> {
    /// Fencing devices never run on Pacemaker Remote or guest nodes
    /// (they cannot run stonith agents): `-INFINITY` there, as
    /// Pacemaker's scores show.
    pub(crate) fn ban_fencing_devices_from_remote_nodes(&mut self) {
        let remote: Vec<NodeId> =
            (0..self.ws.nodes.len()).map(NodeId).filter(|n| matches!(self.ws.node(*n).kind, NodeKind::Remote | NodeKind::Guest)).collect();
        if remote.is_empty() {
            return;
        }
        for r in 0..self.ws.resources.len() {
            if self.ws.resources[r].primitive().is_some_and(|p| p.class == cib::model::AgentClass::Stonith) {
                for n in &remote {
                    self.ws.resources[r].allowed_nodes.insert(*n, cib::model::Score::MINUS_INFINITY);
                }
            }
        }
    }

    /// The fencing action of a node, created on first use
    /// (`pe_fence_op`): the first reason given is kept.
    pub(crate) fn fence_op(&mut self, node: NodeId, reason: &str, optional: bool) -> usize {
        let key = (None, "stonith_0".to_string(), Some(node));
        let i = match self.action_index.get(&key).copied() {
            Some(i) => i,
            None => {
                let i = self.actions.len();
                let how = match self.ws.options.stonith_action.as_str() {
                    "poweroff" => "off".to_string(),
                    other => other.to_string(),
                };
                self.actions.push(Action {
                    id: i,
                    rsc: None,
                    task: "stonith".into(),
                    interval_ms: 0,
                    node: Some(node),
                    optional: true,
                    runnable: true,
                    pseudo: false,
                    reason: None,
                    stonith_action: Some(how),
                    stopped_monitor: false,
                    cancel_task: None,
                    notify_key: None,
                });
                self.action_index.insert(key, i);
                i
            }
        };
        if self.actions[i].reason.is_none() {
            self.actions[i].reason = Some(reason.to_string());
        }
        if !optional {
            self.actions[i].optional = false;
        }
        i
    }

    /// The actions Pacemaker creates while unpacking, in its order, so
    /// they get the lowest ids: active recurring operations (optional),
    /// stops the history implies, fencing of nodes found unclean
    /// (optional until scheduled; the first reason is kept).
    pub(crate) fn create_early_actions(&mut self) {
        for early in self.ws.early_actions.clone() {
            match early {
                EarlyAction::Recurring(r, n, task, interval) => {
                    self.custom_action(Some(r), &task, interval, Some(n), true);
                }
                EarlyAction::Implied(i) => {
                    let imp = self.ws.implied_actions[i].clone();
                    if imp.task == "stop" || imp.task == "demote" {
                        self.custom_action(Some(imp.rsc), imp.task, 0, Some(imp.node), false);
                    }
                }
                EarlyAction::Fence(node) => {
                    if self.ws.node(node).unclean {
                        let reason = self.ws.node(node).fence_reasons.first().cloned().unwrap_or_else(|| "node is unclean".into());
                        self.fence_op(node, &reason, true);
                    }
                }
            }
        }
    }

    /// `pe_fence_node` for a node found during scheduling to need it.
    pub(crate) fn fence_node_now(&mut self, node: NodeId, reason: &str) {
        if !self.ws.node(node).unclean {
            self.ws.nodes[node.0].unclean = true;
            self.ws.nodes[node.0].fence_reasons.push(reason.to_string());
        }
        if can_fence(&self.ws, node) {
            self.fence_op(node, reason, true);
        }
    }

    pub(crate) fn schedule_fencing_and_shutdowns(&mut self) {
        let have_managed = self.ws.resources.iter().any(|r| r.flags.managed);
        let mut dc_down = None;
        let mut fencing_ops: Vec<usize> = Vec::new();
        let mut shutdown_ops: Vec<usize> = Vec::new();
        for n in 0..self.ws.nodes.len() {
            let node = NodeId(n);
            let nd = self.ws.node(node);
            if nd.kind == NodeKind::Guest {
                continue;
            }
            if have_managed && nd.unclean && can_fence(&self.ws, node) {
                let op = self.fence_op(node, "node is unclean", false);
                self.order_vs_fence(op);
                if self.ws.node(node).is_dc {
                    dc_down = Some(op);
                } else {
                    if !self.ws.options.concurrent_fencing {
                        if let Some(last) = fencing_ops.first() {
                            self.order(Side::Action(*last), Side::Action(op), OrderFlags { optional: true, ..Default::default() });
                        }
                    }
                    fencing_ops.insert(0, op);
                }
            } else if nd.online && nd.shutdown && !matches!(nd.kind, NodeKind::Remote) {
                let op = self.shutdown_op(node);
                if self.ws.node(node).is_dc {
                    dc_down = Some(op);
                } else {
                    shutdown_ops.insert(0, op);
                }
            }
        }
        if let Some(dc) = dc_down {
            let opt = OrderFlags { optional: true, ..Default::default() };
            if self.actions[dc].task == "do_shutdown" {
                for s in &shutdown_ops {
                    self.order(Side::Action(*s), Side::Action(dc), opt);
                }
            }
            if self.ws.options.concurrent_fencing {
                for f in &fencing_ops {
                    self.order(Side::Action(*f), Side::Action(dc), opt);
                }
            } else if let Some(last) = fencing_ops.first() {
                self.order(Side::Action(*last), Side::Action(dc), opt);
            }
        }
    }

    /// `pcmk__new_shutdown_action`: the node shuts down once every
    /// resource on it has stopped.
    fn shutdown_op(&mut self, node: NodeId) -> usize {
        let i = self.actions.len();
        self.actions.push(Action { id: i, rsc: None, task: "do_shutdown".into(), interval_ms: 0, node: Some(node), optional: false, runnable: true, pseudo: false, reason: None, stonith_action: None, stopped_monitor: false, cancel_task: None, notify_key: None });
        self.action_index.insert((None, "do_shutdown_0".into(), Some(node)), i);
        let stops: Vec<usize> = self.actions.iter().filter(|a| a.node == Some(node) && a.task == "stop" && a.rsc.is_some_and(|r| self.ws.rsc(r).is_primitive())).map(|a| a.id).collect();
        for s in stops {
            self.order(Side::Action(s), Side::Action(i), OrderFlags { optional: true, ..Default::default() });
        }
        i
    }

    /// `rsc_is_known_on`: the resource's state on the node is known, or,
    /// for an instance of an anonymous clone, any instance's is (the
    /// clone's known nodes).
    fn known_on(&self, rsc: RscId, node: crate::working_set::NodeId) -> bool {
        let res = self.ws.rsc(rsc);
        if res.known_on.contains(&node) {
            return true;
        }
        let Some(p) = res.parent.filter(|p| self.ws.rsc(*p).clone_info().is_some() && !self.ws.rsc(*p).flags.unique) else { return false };
        self.ws.subtree(p).iter().any(|x| self.ws.rsc(*x).known_on.contains(&node))
    }

    /// `pcmk__order_vs_fence`: what fencing a node implies for each
    /// managed primitive.
    fn order_vs_fence(&mut self, fence: usize) {
        let target = self.actions[fence].node.expect("fencing has a node");
        for r in 0..self.ws.resources.len() {
            let rsc = RscId(r);
            let res = self.ws.rsc(rsc);
            if !res.is_primitive() || !res.flags.managed {
                continue;
            }
            // Starts of resources that need fencing wait for it; so do
            // starts of resources needing quorum whose state on the
            // fenced node is unknown (it may be active there).
            // A migration action needs what the start needs
            // (crate::migration).
            let starts: Vec<usize> = self.actions.iter().filter(|a| a.rsc == Some(rsc) && (a.task == "start" || a.task == "promote" || self.needs_like_start(a.id)) && a.interval_ms == 0).map(|a| a.id).collect();
            let needs_fencing = res.flags.needs_fencing;
            let unknown_there = res.flags.needs_quorum && res.allowed_nodes.contains_key(&target) && !self.known_on(rsc, target);
            for s in starts {
                if needs_fencing {
                    self.order(Side::Action(fence), Side::Action(s), OrderFlags { optional: true, ..Default::default() });
                } else if unknown_there && self.actions[s].task == "start" {
                    self.order(Side::Action(fence), Side::Action(s), OrderFlags { optional: true, runnable_left: true, ..Default::default() });
                }
            }
            // A stop on the fenced node will never complete: fencing
            // implies it.
            // So does a demote there, when the node is down or unclean or
            // the resource failed; it then waits for the fencing too, as
            // an implied stop does (`native_stop_constraints`).
            let order_implicit = self.ws.rsc(rsc).flags.needs_fencing || self.ws.node(target).kind == NodeKind::Guest;
            let top = self.ws.top(rsc);
            let implied_demote = !self.ws.node(target).online || self.ws.node(target).unclean || self.ws.rsc(rsc).flags.failed;
            let bundled = matches!(self.ws.rsc(top).variant, crate::working_set::Variant::Bundle);
            let demotes: Vec<usize> = self.actions.iter().filter(|a| a.rsc == Some(rsc) && a.task == "demote" && a.node == Some(target)).map(|a| a.id).collect();
            for d in demotes.into_iter().filter(|_| implied_demote) {
                self.actions[d].pseudo = true;
                self.actions[d].runnable = true;
                if order_implicit && !bundled {
                    self.order(Side::Action(fence), Side::Action(d), OrderFlags { optional: true, ..Default::default() });
                }
            }
            let stops: Vec<usize> = self.actions.iter().filter(|a| a.rsc == Some(rsc) && a.task == "stop" && a.node == Some(target)).map(|a| a.id).collect();
            for s in stops {
                self.actions[s].pseudo = true;
                self.actions[s].runnable = true;
                if order_implicit {
                    self.order(Side::Action(fence), Side::Action(s), OrderFlags { optional: true, ..Default::default() });
                    if top != rsc {
                        self.order(Side::Action(fence), Side::Task(top, "stop".into()), OrderFlags { optional: true, ..Default::default() });
                    }
                }
            }
        }
    }
}
