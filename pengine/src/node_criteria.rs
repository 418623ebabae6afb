//! Stage 2: per-node criteria that do not come from constraints
//! (Pacemaker's `apply_node_criteria` after the locations): stickiness,
//! the migration-threshold ban, and Heartbeat 2.x failure stickiness.
//!
//! # Stickiness
//!
//! A managed primitive active on exactly one node gets its
//! `resource-stickiness` there (Heartbeat 2.x: `resource_stickiness`, or
//! the cluster option `default-resource-stickiness`). In an asymmetric
//! cluster only where it is still allowed.
//!
//! # Fail counts
//!
//! Pacemaker: once a resource's effective fail count on a node reaches
//! `migration-threshold`, the node is banned (`-INFINITY`).
//!
//! Heartbeat 2.x (seed 002): when `resource-failure-stickiness` is set
//! (meta-attribute, or the cluster option
//! `default-resource-failure-stickiness`), each node's score is
//!
//! ```text
//!   node score + stickiness (where it runs) + fail count x failure stickiness
//! ```
//!
//! For a group the group is the unit, as Heartbeat scored it: its
//! stickiness counts once where the group runs and the fail counts of all
//! its members add up; both go on the first member, whose scores decide
//! the group's node. (Pacemaker would give every active member its own
//! stickiness; Pacemaker ignores failure stickiness, so only Heartbeat
//! CIBs take this path.)

use cib::model::Score;

use crate::schedule::Scheduler;
use crate::unpack::failcount::fail_count;
use crate::working_set::{NodeId, RscId, Variant};

impl Scheduler<'_> {
    pub(crate) fn apply_node_criteria(&mut self) {
        for i in 0..self.ws.resources.len() {
            let r = RscId(i);
            self.assign[i].stickiness = self.stickiness_of(r);
        }
        let tops = self.ws.top_level.clone();
        for top in &tops {
            self.apply_stickiness(*top);
        }
        for node in 0..self.ws.nodes.len() {
            for top in &tops {
                self.check_failure_threshold(*top, NodeId(node));
            }
        }
    }

    fn stickiness_of(&self, r: RscId) -> Score {
        match self.ws.rsc(r).meta("resource-stickiness") {
            Some(v) => Score::parse(v),
            None => self.ws.options.default_resource_stickiness,
        }
    }

    /// The Heartbeat 2.x failure stickiness of a resource, if it uses one.
    pub(crate) fn failure_stickiness(&self, r: RscId) -> Option<Score> {
        match self.ws.rsc(r).meta("resource-failure-stickiness") {
            Some(v) => Some(Score::parse(v)),
            None => self.ws.options.all.get("default-resource-failure-stickiness").map(|v| Score::parse(v)),
        }
    }

    fn apply_stickiness(&mut self, r: RscId) {
        if matches!(self.ws.rsc(r).variant, Variant::Group) && self.failure_stickiness(r).is_some() {
            self.apply_heartbeat_group(r);
            return;
        }
        if !self.ws.rsc(r).children.is_empty() {
            for c in self.ws.rsc(r).children.clone() {
                self.apply_stickiness(c);
            }
            return;
        }
        let res = self.ws.rsc(r);
        let managed = res.flags.managed;
        let stickiness = self.assign[r.0].stickiness;
        if managed && stickiness.value() >= 1 && res.running_on.len() == 1 {
            let node = res.running_on[0];
            if self.ws.options.symmetric_cluster || res.allowed_nodes.contains_key(&node) {
                self.resource_location(r, Some(node), stickiness);
                self.note(|_| "stickiness".to_string());
            }
        }
        if let Some(fs) = self.failure_stickiness(r) {
            if managed {
                for n in 0..self.ws.nodes.len() {
                    let count = fail_count(&self.ws, NodeId(n), r, true).count;
                    if count.value() > 0 {
                        self.resource_location(r, Some(NodeId(n)), fs.times(count.value() as i64));
                        self.note(|_| format!("{count} failure(s) x resource-failure-stickiness {fs}"));
                    }
                }
            }
        }
    }

    /// Heartbeat 2.x group scoring: one stickiness for the group, the
    /// members' fail counts summed, both on the first member.
    fn apply_heartbeat_group(&mut self, group: RscId) {
        let members = self.ws.rsc(group).children.clone();
        let Some(first) = members.first().copied() else { return };
        if !self.ws.rsc(group).flags.managed {
            return;
        }
        let stickiness = self.assign[group.0].stickiness;
        let active: Vec<NodeId> = self.ws.locations(group, false);
        if stickiness.value() >= 1 && active.len() == 1 {
            self.add_node_score(first, active[0], stickiness);
            self.note(|s| format!("stickiness of group {}", s.ws.rsc(group).id));
        }
        let fs = self.failure_stickiness(group).unwrap_or(Score::ZERO);
        for n in 0..self.ws.nodes.len() {
            let total: i64 = members.iter().map(|m| fail_count(&self.ws, NodeId(n), *m, true).count.value() as i64).sum();
            if total > 0 {
                self.add_node_score(first, NodeId(n), fs.times(total));
                self.note(|_| format!("{total} failure(s) of the group's members x resource-failure-stickiness {fs}"));
            }
        }
    }

    /// `check_failure_threshold`: ban a node once the fail count reached
    /// migration-threshold.
    fn check_failure_threshold(&mut self, r: RscId, node: NodeId) {
        if !self.ws.rsc(r).children.is_empty() {
            for c in self.ws.rsc(r).children.clone() {
                self.check_failure_threshold(c, node);
            }
            return;
        }
        let res = self.ws.rsc(r);
        if !res.flags.managed || res.flags.failure_ignored {
            return;
        }
        let threshold = res.migration_threshold;
        if threshold.value() == 0 {
            return;
        }
        let count = fail_count(&self.ws, node, r, true).count;
        if count.value() <= 0 {
            return;
        }
        if threshold.value() as i64 - count.value() as i64 <= 0 {
            // A failed anonymous clone instance bans the whole clone.
            // A member of a cloned group too (`uber_parent`).
            let top = self.ws.top(r);
            let failed = if top != r && self.ws.rsc(top).clone_info().is_some() && !res.flags.unique { top } else { r };
            self.resource_location(failed, Some(node), Score::MINUS_INFINITY);
            self.note(|s| format!("fail count {count} of {} reached migration-threshold {threshold}", s.ws.rsc(r).id));
        }
    }
}
