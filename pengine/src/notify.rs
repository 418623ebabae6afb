//! Clone notifications (Pacemaker's `pe__clone_notif_pseudo_ops` and
//! `pe__create_notifications`), for clones with `notify=true`.
//!
//! When a clone's `start` (or `stop`) is required, the instances hear
//! about it before and after:
//!
//! ```text
//!  CLONE_pre_notify_start ─> INST_pre_notify_start (each active instance, where it runs)
//!        │                         │
//!        └──────> CLONE_confirmed-pre_notify_start <─┘ ──> CLONE_start ... CLONE_running
//!                                                 │                         │
//!  CLONE_post_notify_running <────────────────────┴─────────────────────────┘
//!        ├─> INST_post_notify_start (each instance active afterwards, where it will run)
//!        └─> CLONE_confirmed-post_notify_running <─ (each post notification)
//! ```
//!
//! `stop`/`stopped` likewise; a stop's confirmed post-notification comes
//! before a start's pre-notification. The notifications are created once
//! requiredness and runnability are settled: they only follow the clone's
//! own actions and change nothing else.

use crate::orderings::{Edge, OrderFlags};
use crate::schedule::Scheduler;
use crate::working_set::{NodeId, RscId, Variant};

const MANDATORY: OrderFlags = OrderFlags { implies_then: true, implies_first: false, runnable_left: false, asymmetrical: false, optional: false, none: false, one_or_more: false, restart: false, derived: false, promoted_implies_first: false, implies_first_migratable: false, pseudo_left: false, apply_first_non_migratable: false, then_printed: false, first_printed: false, anti_colocation: false };

impl Scheduler<'_> {
    pub(crate) fn create_notifications(&mut self) {
        for r in 0..self.ws.resources.len() {
            let clone = RscId(r);
            if !matches!(self.ws.rsc(clone).variant, Variant::Clone(_)) || !crate::nvsets::is_true(self.ws.rsc(clone).meta("notify")) {
                continue;
            }
            let stop = self.notify_for(clone, "stop", "stopped");
            let start = self.notify_for(clone, "start", "running");
            let opt = OrderFlags { optional: true, ..Default::default() };
            if let (Some((_, post_done)), Some((pre, _))) = (stop, start) {
                self.edges.push(Edge { first: post_done, then: pre, flags: opt });
            }
            if !self.ws.rsc(clone).flags.promotable {
                continue;
            }
            // Promotions are announced after everything else is done;
            // demotions before anything else starts.
            let promote = self.notify_for(clone, "promote", "promoted");
            let demote = self.notify_for(clone, "demote", "demoted");
            let pairs = [(stop, promote), (start, promote), (demote, promote), (demote, start), (demote, stop)];
            for (first, then) in pairs {
                if let (Some((_, post_done)), Some((pre, _))) = (first, then) {
                    self.edges.push(Edge { first: post_done, then: pre, flags: opt });
                }
            }
        }
    }

    /// The notifications around one clone action; returns its
    /// pre-notification and confirmed post-notification, to chain one
    /// action's notifications after another's.
    fn notify_for(&mut self, clone: RscId, task: &str, done: &str) -> Option<(usize, usize)> {
        let action = self.find_action(clone, task, None)?;
        let complete = self.find_action(clone, done, None)?;
        if self.actions[action].optional {
            return None;
        }
        let runnable = self.actions[action].runnable;
        let pseudo = |s: &mut Self, name: String, runnable: bool| {
            let a = s.custom_action(Some(clone), &name, 0, None, false);
            s.actions[a].pseudo = true;
            s.actions[a].runnable = runnable;
            a
        };
        let pre = pseudo(self, format!("pre_notify_{task}"), runnable);
        let pre_done = pseudo(self, format!("confirmed-pre_notify_{task}"), runnable);
        let post_runnable = self.actions[complete].runnable;
        let post = pseudo(self, format!("post_notify_{done}"), post_runnable);
        let post_done = pseudo(self, format!("confirmed-post_notify_{done}"), post_runnable);
        for (f, t) in [(pre, pre_done), (pre_done, action), (pre_done, post), (complete, post), (post, post_done)] {
            self.edges.push(Edge { first: f, then: t, flags: MANDATORY });
        }
        // Pre-notifications go to every instance where it is active now,
        // post-notifications to every instance where it will be active.
        let mut instances = Vec::new();
        for i in self.ws.rsc(clone).children.clone() {
            instances.extend(self.ws.subtree(i).into_iter().filter(|x| self.ws.rsc(*x).is_primitive()));
        }
        // An instance stopping in this transition hears of the stop
        // beforehand only: not of a start, nor after the stop.
        let stopping = |s: &Self, i: RscId| s.actions.iter().any(|a| a.rsc == Some(i) && a.task == "stop" && !a.optional && a.runnable);
        if task == "promote" || task == "demote" {
            self.role_notifications(&instances, task, (pre, pre_done, post, post_done));
            return Some((pre, post_done));
        }
        // Nobody hears of what cannot happen (`pe_notify` skips an
        // unrunnable pre/post pseudo-action).
        for i in instances.iter().filter(|_| runnable) {
            if task == "start" && stopping(self, *i) {
                continue;
            }
            for node in self.ws.rsc(*i).running_on.clone() {
                let op = self.notify_op(*i, node, &format!("pre_notify_{task}"));
                self.edges.push(Edge { first: pre, then: op, flags: MANDATORY });
                self.edges.push(Edge { first: op, then: pre_done, flags: MANDATORY });
            }
        }
        for i in instances.iter().filter(|_| post_runnable) {
            let Some(node) = self.assign[i.0].allocated_to else { continue };
            // A stop is announced afterwards only to instances that were
            // running and keep running.
            let was_stopped = self.ws.rsc(*i).role <= cib::model::Role::Stopped;
            if self.ws.rsc(*i).next_role <= cib::model::Role::Stopped || (task == "stop" && (stopping(self, *i) || was_stopped)) {
                continue;
            }
            let op = self.notify_op(*i, node, &format!("post_notify_{task}"));
            self.edges.push(Edge { first: post, then: op, flags: MANDATORY });
            self.edges.push(Edge { first: op, then: post_done, flags: MANDATORY });
        }
        Some((pre, post_done))
    }

    /// Promote and demote notifications (`pe__create_notifications`): a
    /// demotion is announced before and after to every instance where it
    /// runs now; a promotion to every instance where it will run.
    fn role_notifications(&mut self, instances: &[RscId], task: &str, (pre, pre_done, post, post_done): (usize, usize, usize, usize)) {
        let notify = |s: &mut Self, i: RscId, node: NodeId, when: &str, (first, then): (usize, usize)| {
            if !s.actions[first].runnable {
                return;
            }
            let op = s.notify_op(i, node, &format!("{when}_notify_{task}"));
            s.edges.push(Edge { first, then: op, flags: MANDATORY });
            s.edges.push(Edge { first: op, then, flags: MANDATORY });
        };
        for &i in instances {
            if task == "demote" {
                if self.ws.rsc(i).role == cib::model::Role::Stopped {
                    continue;
                }
                for node in self.ws.rsc(i).running_on.clone() {
                    notify(self, i, node, "pre", (pre, pre_done));
                    notify(self, i, node, "post", (post, post_done));
                }
            } else {
                if self.ws.rsc(i).next_role == cib::model::Role::Stopped {
                    continue;
                }
                let Some(node) = self.assign[i.0].allocated_to else { continue };
                notify(self, i, node, "pre", (pre, pre_done));
                notify(self, i, node, "post", (post, post_done));
            }
        }
    }

    /// One instance's notification on a node.
    fn notify_op(&mut self, rsc: RscId, node: NodeId, key: &str) -> usize {
        let index = (Some(rsc), format!("{key}_0"), Some(node));
        if let Some(i) = self.action_index.get(&index).copied() {
            return i;
        }
        let i = self.actions.len();
        let n = self.ws.node(node);
        let runnable = n.online && !n.pending && !n.unclean;
        self.actions.push(crate::actions::Action {
            id: i,
            rsc: Some(rsc),
            task: "notify".to_string(),
            interval_ms: 0,
            node: Some(node),
            optional: false,
            runnable,
            pseudo: false,
            reason: None,
            stonith_action: None,
            stopped_monitor: false,
            cancel_task: None,
            notify_key: Some(key.to_string()),
        });
        self.action_index.insert(index, i);
        i
    }
}

/// The key of a notification as the history name of its instance
/// carries it (`action2xml`: the notification's `notify_operation`,
/// which for a post-notification is the clone's completion action):
/// `post_notify_start` becomes `post_notify_running`.
pub(crate) fn history_notify_key(key: &str) -> String {
    let Some(task) = key.strip_prefix("post_notify_") else { return key.to_string() };
    let done = match task {
        "start" => "running",
        "stop" => "stopped",
        "promote" => "promoted",
        "demote" => "demoted",
        other => other,
    };
    format!("post_notify_{done}")
}
