//! Stage 5: the actions that take each resource from where it is to
//! where it was assigned (Pacemaker's `pcmk__primitive_create_actions`,
//! `custom_action`, `schedule_restart_actions`,
//! `schedule_role_transition_actions`).
//!
//! An action is created once per (resource, task, node) and then only
//! made more required: asking again for a required action clears its
//! `optional` flag. Whether it can run depends on its node (online, not
//! pending) and, for starts, on quorum. Stops of a resource that is not
//! assigned anywhere carry the reason "node availability", which the
//! Transition Summary prints.

use cib::model::Role;

use crate::options::NoQuorumPolicy;
use crate::schedule::Scheduler;
use crate::working_set::{NodeId, RscId, Variant};

/// One scheduled action (Pacemaker's `pe_action_t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// Creation order (Pacemaker numbers graph actions from it).
    pub id: usize,
    pub rsc: Option<RscId>,
    /// `start`, `stop`, `monitor`, `running`, `stopped`...
    pub task: String,
    pub interval_ms: u64,
    pub node: Option<NodeId>,
    /// Needed only if something else requires it.
    pub optional: bool,
    pub runnable: bool,
    /// Bookkeeping only, executed by nobody (group start/stop...).
    pub pseudo: bool,
    /// Why it is scheduled, for the summary ("node availability"...).
    pub reason: Option<String>,
    /// Fencing actions: `reboot`, `off` or `on`.
    pub stonith_action: Option<String>,
    /// A recurring monitor for the stopped role: expects "not running".
    pub stopped_monitor: bool,
    /// A `cancel`: the task of the recurring operation it cancels.
    pub cancel_task: Option<String>,
    /// A clone notification (`notify`): `pre_notify_start`,
    /// `post_notify_stop`... which names it in the graph.
    pub notify_key: Option<String>,
}

impl Scheduler<'_> {
    /// Finds or creates an action (`custom_action`). Asking for a
    /// required action makes an existing optional one required.
    pub(crate) fn custom_action(&mut self, rsc: Option<RscId>, task: &str, interval_ms: u64, node: Option<NodeId>, optional: bool) -> usize {
        let key = (rsc, format!("{task}_{interval_ms}"), node);
        if let Some(i) = self.action_index.get(&key).copied() {
            let unmanaged_one_shot = interval_ms == 0 && rsc.is_some_and(|r| !self.ws.rsc(r).flags.managed);
            if !optional && !unmanaged_one_shot {
                self.actions[i].optional = false;
            }
            return i;
        }
        let pseudo = rsc.is_some_and(|r| !self.ws.rsc(r).is_primitive());
        let mut a = Action { id: self.actions.len(), rsc, task: task.to_string(), interval_ms, node, optional, runnable: true, pseudo, reason: None, stonith_action: None, stopped_monitor: false, cancel_task: None, notify_key: None };
        self.update_runnability(&mut a);
        if let Some(r) = rsc {
            // Unmanaged resources get no one-shot actions; their
            // recurring monitors still run.
            if !self.ws.rsc(r).flags.managed && interval_ms == 0 {
                a.optional = true;
            }
        }
        let i = a.id;
        let fence_for_stop = task == "stop" && !a.runnable && !a.pseudo && rsc.is_some_and(|r| self.ws.rsc(r).flags.managed) && node.is_some_and(|n| !self.ws.node(n).online && !self.ws.node(n).unclean);
        self.actions.push(a);
        self.action_index.insert(key, i);
        if fence_for_stop {
            // A stop that cannot run on an offline node leaves only
            // fencing to be sure the resource is down.
            self.fence_node_now(node.unwrap(), "resource actions are unrunnable");
        }
        i
    }

    /// A pseudo-action of no resource (`one-or-more:SET`...).
    pub(crate) fn pseudo_action(&mut self, task: &str) -> usize {
        let key = (None, format!("{task}_0"), None);
        if let Some(i) = self.action_index.get(&key).copied() {
            return i;
        }
        let i = self.actions.len();
        self.actions.push(Action { id: i, rsc: None, task: task.to_string(), interval_ms: 0, node: None, optional: true, runnable: true, pseudo: true, reason: None, stonith_action: None, stopped_monitor: false, cancel_task: None, notify_key: None });
        self.action_index.insert(key, i);
        i
    }

    /// `update_action_runnability` for a new action.
    fn update_runnability(&self, a: &mut Action) {
        if a.pseudo {
            a.runnable = true;
            return;
        }
        let Some(node) = a.node else {
            a.runnable = false;
            return;
        };
        let n = self.ws.node(node);
        if !n.online {
            a.runnable = false;
            return;
        }
        if n.pending {
            a.runnable = false;
            return;
        }
        let needs_quorum = matches!(a.task.as_str(), "start" | "promote") && a.rsc.is_some_and(|r| self.ws.rsc(r).flags.needs_quorum);
        if !needs_quorum || self.ws.have_quorum {
            return;
        }
        match self.ws.options.no_quorum_policy {
            NoQuorumPolicy::Stop => {
                a.runnable = false;
                a.reason = Some("no quorum".to_string());
            }
            NoQuorumPolicy::Freeze => {
                let r = self.ws.rsc(a.rsc.unwrap());
                if !self.ws.is_active(a.rsc.unwrap(), false) || r.next_role < r.role {
                    a.runnable = false;
                    a.reason = Some("quorum freeze".to_string());
                }
            }
            _ => {}
        }
    }

    /// Finds an action of a resource.
    pub(crate) fn find_action(&self, rsc: RscId, task: &str, node: Option<NodeId>) -> Option<usize> {
        self.action_index.get(&(Some(rsc), format!("{task}_0"), node)).copied()
    }

    /// The actions of `rsc` with this task and interval 0, on any node,
    /// found through the action index (in key order, not creation order)
    /// when the task is one every such action is indexed under (those
    /// [`Self::custom_action`] creates); `None` otherwise, and the caller
    /// scans. Per-resource lookups during propagation would otherwise scan
    /// every action (docs/SCALE.md).
    pub(crate) fn indexed_actions_of_task(&self, rsc: RscId, task: &str) -> Option<Vec<usize>> {
        if !matches!(task, "start" | "stop" | "promote" | "demote") {
            return None;
        }
        let key = format!("{task}_0");
        let lo = (Some(rsc), key.clone(), None);
        let hi = (Some(rsc), key, Some(NodeId(usize::MAX)));
        Some(self.action_index.range(lo..=hi).map(|(_, i)| *i).collect())
    }

    /// Any action of `rsc` with this task, on any node, first created.
    pub(crate) fn find_action_any_node(&self, rsc: RscId, task: &str) -> Option<usize> {
        if let Some(ids) = self.indexed_actions_of_task(rsc, task) {
            return ids.into_iter().min();
        }
        self.actions.iter().position(|a| a.rsc == Some(rsc) && a.task == task && a.interval_ms == 0)
    }

    pub(crate) fn create_all_actions(&mut self) {
        for top in self.ws.top_level.clone() {
            self.create_actions(top);
        }
    }

    fn create_actions(&mut self, r: RscId) {
        match self.ws.rsc(r).variant {
            Variant::Primitive(_) => self.primitive_actions(r),
            Variant::Group => {
                for c in self.ws.rsc(r).children.clone() {
                    self.create_actions(c);
                }
                self.group_actions(r);
                if self.ws.rsc(self.ws.top(r)).flags.promotable {
                    // A cloned group's promote/demote pseudo-actions,
                    // required when a member's promote/demote is.
                    let members = self.ws.rsc(r).children.clone();
                    for (task, done) in [("demote", "demoted"), ("promote", "promoted")] {
                        let required = members.iter().any(|m| self.actions.iter().any(|a| a.rsc == Some(*m) && a.task == task && !a.optional && a.runnable));
                        self.custom_action(Some(r), task, 0, None, !required);
                        self.custom_action(Some(r), done, 0, None, !required);
                    }
                }
            }
            Variant::Clone(_) => {
                for c in self.ws.rsc(r).children.clone() {
                    self.create_actions(c);
                }
                // Clones bracket their instances like groups do.
                self.group_actions(r);
                self.allow_dependent_migrations(r);
                if self.ws.rsc(r).flags.promotable {
                    self.create_promotable_actions(r);
                }
            }
            _ => {
                for c in self.ws.rsc(r).children.clone() {
                    self.create_actions(c);
                }
            }
        }
    }

    /// A group's pseudo-actions: `start`/`running` and `stop`/`stopped`,
    /// required when any member's is.
    fn group_actions(&mut self, g: RscId) {
        let members = self.ws.rsc(g).children.clone();
        let any = |s: &Self, task: &str| members.iter().any(|m| s.indexed_actions_of_task(*m, task).expect("start and stop are indexed").iter().any(|&i| !s.actions[i].optional && s.actions[i].runnable));
        let start_required = any(self, "start");
        let stop_required = any(self, "stop");
        let start = self.custom_action(Some(g), "start", 0, None, !start_required);
        self.custom_action(Some(g), "running", 0, None, !start_required);
        let _ = start;
        self.custom_action(Some(g), "stop", 0, None, !stop_required);
        self.custom_action(Some(g), "stopped", 0, None, !stop_required);
    }

    fn primitive_actions(&mut self, r: RscId) {
        // set_default_next_role
        if self.ws.rsc(r).next_role == Role::Unknown {
            self.ws.resources[r.0].next_role = if self.assign[r.0].allocated_to.is_some() { Role::Started } else { Role::Stopped };
        }
        let res = self.ws.rsc(r);
        let allocated = self.assign[r.0].allocated_to;
        // `pe__find_active_on`: unless the resource needs fencing, the
        // first node that is online and clean.
        let clean = |n: &NodeId| self.ws.node(*n).online && !self.ws.node(*n).unclean;
        let current = match res.partial_migration_source {
            Some(src) if res.running_on.contains(&src) => Some(src),
            _ if !res.flags.needs_fencing => res.running_on.iter().copied().find(clean).or(res.running_on.first().copied()),
            _ => res.running_on.first().copied(),
        };
        let num_all = res.running_on.len();
        let num_clean = res.running_on.iter().filter(|n| clean(n)).count();
        let mut need_stop = false;
        let mut is_moving = false;
        if let (Some(c), Some(a)) = (current, allocated) {
            if c != a && res.next_role >= Role::Started {
                is_moving = true;
                need_stop = true;
            }
        }
        // Live migration (crate::migration): a partial migration that
        // goes on is not "multiply active"; one that cannot is forgotten.
        self.abort_dangling_migrations(r);
        let continuing = self.continues_partial_migration(r, current, num_all, num_clean);
        let res = self.ws.rsc(r);
        let multiply_active = !continuing && if res.flags.needs_fencing { num_all > 1 } else { num_clean > 1 };
        let allow_migrate = self.migratable(r) && !multiply_active;
        if multiply_active {
            self.abandon_partial_migration(r);
        }
        let res = self.ws.rsc(r);
        // `multiple-active=stop_unexpected`: the copy on the node the
        // resource is assigned to stays; only the others are stopped
        // (docs/SPLIT_BRAIN.md).
        let mut expected = None;
        if multiply_active {
            match res.meta("multiple-active").unwrap_or("stop_start") {
                "block" | "stop_only" => {}
                "stop_unexpected" => {
                    need_stop = true;
                    if res.next_role > Role::Stopped {
                        expected = allocated;
                    }
                }
                _ => need_stop = true,
            }
        }
        let mut need_promote = false;
        if !is_moving {
            if res.flags.failed {
                if res.flags.stop {
                    need_stop = true;
                } else if res.next_role == Role::Promoted {
                    // Recovery by demotion: promoted again afterwards.
                    need_promote = true;
                }
            } else if res.flags.blocked {
                need_stop = true;
            } else if res.role > Role::Started && current.is_some() {
                if let Some(node) = allocated {
                    // A promoted resource whose start is required (by
                    // an ordering, later) must restart.
                    let start = self.custom_action(Some(r), "start", 0, Some(node), true);
                    if !self.actions[start].optional {
                        need_stop = true;
                    }
                }
            }
        }
        self.schedule_restart_actions(r, current, need_stop, need_promote, expected);
        self.schedule_role_transition_actions(r);
        self.create_recurring_monitors(r);
        self.create_migration_actions_if_allowed(r, current, is_moving, allow_migrate);
    }

    /// Down to stopped on the current node, back up to the current role
    /// on the assigned one (`schedule_restart_actions`); optional unless
    /// `need_stop` (or, for the promotion, `need_promote`). `expected`: a
    /// multiply active resource's node where it stays (`stop_unexpected`):
    /// no stop or demote there, and its start and promote are
    /// pseudo-actions (Pacemaker's `is_expected_node`).
    fn schedule_restart_actions(&mut self, r: RscId, current: Option<NodeId>, need_stop: bool, need_promote: bool, expected: Option<NodeId>) {
        let target = self.ws.rsc(r).role;
        let mut role = target;
        while role != Role::Stopped {
            let next = next_role_towards(role, Role::Stopped);
            if !self.role_step(r, role, next, current, !need_stop, expected) {
                break;
            }
            role = next;
        }
        let next_role = self.ws.rsc(r).next_role;
        let chosen = self.assign[r.0].allocated_to;
        while target <= next_role && role != target && !self.ws.rsc(r).flags.blocked {
            let next = next_role_towards(role, target);
            let required = need_stop || (next == Role::Promoted && need_promote);
            if !self.role_step(r, role, next, chosen, !required, expected) {
                break;
            }
            role = next;
        }
    }

    /// `schedule_role_transition_actions`: from the current role to the
    /// next one, step by step.
    fn schedule_role_transition_actions(&mut self, r: RscId) {
        let mut role = self.ws.rsc(r).role;
        let next_role = self.ws.rsc(r).next_role;
        let chosen = self.assign[r.0].allocated_to;
        while role != next_role {
            let next = next_role_towards(role, next_role);
            if !self.role_step(r, role, next, chosen, false, None) {
                break;
            }
            role = next;
        }
    }

    /// One step of Pacemaker's `rsc_action_matrix`; false when there is
    /// nothing to do (or nothing possible), which ends the walk.
    fn role_step(&mut self, r: RscId, from: Role, to: Role, node: Option<NodeId>, optional: bool, expected: Option<NodeId>) -> bool {
        use Role::*;
        match (from, to) {
            (Unknown, Stopped) | (Started | Unpromoted, Stopped) | (Unpromoted, Started) => {
                self.stop_resource_except(r, node, optional, expected);
                true
            }
            (Stopped, Started | Unpromoted) => {
                if let Some(n) = node {
                    self.start_resource(r, n, optional);
                    if expected == Some(n) {
                        let start = self.custom_action(Some(r), "start", 0, Some(n), true);
                        self.actions[start].pseudo = true;
                    }
                }
                true
            }
            (Started | Unpromoted, Promoted) => {
                let Some(n) = node else { return false };
                self.promote_resource(r, n, optional, expected);
                true
            }
            (Promoted, Stopped | Started | Unpromoted) => {
                if expected.is_some() && expected == node {
                    return true;
                }
                for current in self.ws.rsc(r).running_on.clone() {
                    self.custom_action(Some(r), "demote", 0, Some(current), optional);
                }
                true
            }
            _ => false,
        }
    }

    /// `PromoteRsc`: a promotion that can happen only if the starts there
    /// can.
    fn promote_resource(&mut self, r: RscId, node: NodeId, optional: bool, expected: Option<NodeId>) {
        let starts_runnable = self.actions.iter().filter(|a| a.rsc == Some(r) && a.task == "start" && a.node == Some(node)).all(|a| a.runnable);
        if starts_runnable {
            let p = self.custom_action(Some(r), "promote", 0, Some(node), optional);
            if expected == Some(node) {
                self.actions[p].pseudo = true;
            }
            return;
        }
        let promotes: Vec<usize> = self.actions.iter().filter(|a| a.rsc == Some(r) && a.task == "promote" && a.node == Some(node)).map(|a| a.id).collect();
        for p in promotes {
            self.actions[p].runnable = false;
        }
    }

    fn stop_resource_except(&mut self, r: RscId, _node: Option<NodeId>, optional: bool, expected: Option<NodeId>) {
        for current in self.ws.rsc(r).running_on.clone() {
            if expected == Some(current) {
                continue;
            }
            // A partial migration's target keeps the resource.
            let Some(optional) = self.partial_migration_stop(r, current, optional) else { continue };
            let stop = self.custom_action(Some(r), "stop", 0, Some(current), optional);
            if self.assign[r.0].allocated_to.is_none() {
                self.actions[stop].reason = Some("node availability".to_string());
            } else if expected.is_some() {
                self.actions[stop].reason = Some("being multiply active".to_string());
            }
            if !self.ws.rsc(r).flags.managed {
                self.actions[stop].runnable = false;
            }
        }
    }

    fn start_resource(&mut self, r: RscId, node: NodeId, optional: bool) {
        let start = self.custom_action(Some(r), "start", 0, Some(node), true);
        if self.actions[start].runnable && !optional {
            self.actions[start].optional = false;
        }
    }
}

/// Pacemaker's `rsc_state_matrix`: the next role on the way from `from`
/// to `to` (a resource is started before it is promoted, demoted before
/// it is stopped).
pub(crate) fn next_role_towards(from: Role, to: Role) -> Role {
    use Role::*;
    match (from, to) {
        (Unknown, Unknown) => Unknown,
        (Unknown, _) => Stopped,
        (Stopped, Started) => Started,
        (Stopped, Unpromoted | Promoted) => Unpromoted,
        (Stopped, _) => Stopped,
        (Started, Unknown | Stopped) => Stopped,
        (Started, Started) => Started,
        (Started, Unpromoted) => Unpromoted,
        (Started, Promoted) => Promoted,
        (Unpromoted, Unpromoted) => Unpromoted,
        (Unpromoted, Promoted) => Promoted,
        (Unpromoted, _) => Stopped,
        (Promoted, Unknown) => Stopped,
        (Promoted, Promoted) => Promoted,
        (Promoted, _) => Unpromoted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_step_through_started_and_unpromoted() {
        assert_eq!(next_role_towards(Role::Stopped, Role::Promoted), Role::Unpromoted);
        assert_eq!(next_role_towards(Role::Unpromoted, Role::Promoted), Role::Promoted);
        assert_eq!(next_role_towards(Role::Promoted, Role::Stopped), Role::Unpromoted);
        assert_eq!(next_role_towards(Role::Unpromoted, Role::Started), Role::Stopped);
        assert_eq!(next_role_towards(Role::Started, Role::Stopped), Role::Stopped);
    }
}
