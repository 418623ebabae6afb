//! Orderings after a collective wait for all of it (Pacemaker 2.1.5's
//! `action_for_ordering`, applied in `pcmk__update_action_for_orderings`).
//!
//! When the first action of an ordering belongs to a group or clone and
//! the then action to some other resource (not inside it), what then
//! really waits for is the collective's completion pseudo-action:
//!
//! ```text
//!  grp:1_promote ─> ms_promoted      becomes   grp:1_promoted ─> ms_promoted
//!  ms_promoted ─> fs_start           becomes   ms_confirmed-post_notify_promoted ─> fs_start
//!                                               (a top-level clone with notify=true)
//! ```
//!
//! The first step (`start` → `running`, `stop` → `stopped`, `promote` →
//! `promoted`, `demote` → `demoted`) happens as soon as edges exist, so
//! propagation sees the remapped edge as Pacemaker's does. The second one
//! needs the notification pseudo-actions, which `crate::notify` creates
//! after propagation; it only moves edges, so nothing has to propagate
//! again: the post-notifications are required and runnable exactly when
//! the completion action is.

use crate::orderings::{Edge, OrderFlags};
use crate::schedule::Scheduler;
use crate::working_set::{RscId, Variant};

/// The completion pseudo-action an ordering after `task` of a
/// collective waits for (`action_uuid_for_ordering`); `None` for tasks
/// that are not remapped (monitors, notifications...).
fn completed(task: &str) -> Option<&'static str> {
    Some(match task {
        "start" | "running" => "running",
        "stop" | "stopped" => "stopped",
        "promote" | "promoted" => "promoted",
        "demote" | "demoted" => "demoted",
        _ => return None,
    })
}

impl Scheduler<'_> {
    fn is_collective(&self, r: RscId) -> bool {
        matches!(self.ws.rsc(r).variant, Variant::Group | Variant::Clone(_) | Variant::Bundle)
    }

    /// Whether `anc` is `r` itself or one of its ancestors.
    fn is_ancestor_or_self(&self, anc: RscId, mut r: RscId) -> bool {
        loop {
            if r == anc {
                return true;
            }
            match self.ws.rsc(r).parent {
                Some(p) => r = p,
                None => return false,
            }
        }
    }

    /// The collective whose action `e.first` is, when the ordering leaves
    /// it for another resource, with the task to wait for.
    fn remappable_first(&self, e: &Edge) -> Option<(RscId, &'static str)> {
        if e.flags.none {
            return None;
        }
        let first = &self.actions[e.first];
        let (Some(fr), Some(tr)) = (first.rsc, self.actions[e.then].rsc) else { return None };
        if fr == tr || self.is_ancestor_or_self(fr, tr) || !self.is_collective(fr) {
            return None;
        }
        if first.interval_ms > 0 || first.notify_key.is_some() || first.node.is_some() {
            return None;
        }
        Some((fr, completed(&first.task)?))
    }

    /// Remaps the firsts of orderings that leave a collective to its
    /// completion pseudo-action (`grp_start` → `grp_running`).
    pub(crate) fn remap_collective_firsts(&mut self) {
        for i in 0..self.edges.len() {
            let e = self.edges[i];
            let Some((fr, task)) = self.remappable_first(&e) else { continue };
            if self.actions[e.first].task == task {
                continue;
            }
            if let Some(done) = self.find_action(fr, task, None) {
                if done != e.then {
                    self.edges[i].first = done;
                }
            }
        }
    }

    /// Whether orderings after `r` wait for its confirmed
    /// post-notifications: a clone with `notify=true` that is not inside
    /// another resource (only outermost resources notify).
    fn notifies(&self, r: RscId) -> bool {
        let res = self.ws.rsc(r);
        matches!(res.variant, Variant::Clone(_)) && res.parent.is_none() && crate::nvsets::is_true(res.meta("notify"))
    }

    /// Once notifications exist: orderings after a notifying clone's
    /// completion wait for its confirmed post-notification, and each
    /// instance's recurring monitors wait for the post-notifications it
    /// is sent (`pe_post_notify`).
    pub(crate) fn order_after_notifications(&mut self) {
        for i in 0..self.edges.len() {
            let e = self.edges[i];
            let Some((fr, task)) = self.remappable_first(&e) else { continue };
            if !self.notifies(fr) {
                continue;
            }
            let key = format!("confirmed-post_notify_{task}");
            if let Some(done) = self.find_action(fr, &key, None) {
                if done != e.then {
                    self.edges[i].first = done;
                }
            }
        }
        self.order_monitors_after_post_notifications();
    }

    /// `pe_post_notify`: an instance told of a completed action starts
    /// its recurring monitors after the whole post-notification is
    /// confirmed.
    fn order_monitors_after_post_notifications(&mut self) {
        let mut new = Vec::new();
        for e in &self.edges {
            let op = &self.actions[e.first];
            let done = &self.actions[e.then];
            let is_post = op.task == "notify" && op.notify_key.as_deref().is_some_and(|k| k.starts_with("post_notify_"));
            if !is_post || !done.task.starts_with("confirmed-post_notify_") {
                continue;
            }
            let Some(r) = op.rsc else { continue };
            for m in self.actions.iter().filter(|a| a.rsc == Some(r) && a.interval_ms > 0 && a.task != "cancel") {
                new.push(Edge { first: e.then, then: m.id, flags: OrderFlags { optional: true, ..Default::default() } });
            }
        }
        for e in new {
            if !self.edges.iter().any(|x| x.first == e.first && x.then == e.then) {
                self.edges.push(e);
            }
        }
    }
}
