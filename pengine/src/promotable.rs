//! Promotable clones (Pacemaker 2.1.5's `pcmk_sched_promotable.c`):
//! which instances are promoted, and the clone-level promote/demote
//! pseudo-actions and orderings.
//!
//! Roles are chosen after the clone's instances are placed
//! ([`Scheduler::set_instance_roles`]):
//!
//! 1. before placement, each instance's promotion scores (the node
//!    attribute `master-<instance or resource name>`, set by the agent
//!    through `crm_attribute --promotion`) are added to its node scores
//!    where they apply (the instance is active there, or was probed
//!    there, or nothing was ever probed), and the highest becomes its
//!    priority ([`Scheduler::add_promotion_scores`]);
//! 2. after placement, each placed instance's priority is its promotion
//!    score on its node (-1 without one; `-INFINITY` when it may not be
//!    promoted), plus Promoted-role location constraints for that node
//!    and role-based colocations;
//! 3. the priorities are added to the clone's node scores, the clone's
//!    Promoted-role colocations are folded in, and each instance's final
//!    "sort index" is its clone's score on its node;
//! 4. instances are sorted by sort index (then current role, then the
//!    usual instance order) and the first `promoted-max` that may be
//!    promoted on their node (`promoted-node-max`, non-negative
//!    priority, a usable node) are promoted; the rest stay unpromoted.
//!
//! A resource's priority is repurposed as its promotion priority while
//! roles are chosen, as Pacemaker does (so instance sorting sees it), and
//! reset to the clone's once actions exist.

use std::collections::BTreeMap;

use cib::model::{Role, Score};

use crate::colocation::MergeFlags;
use crate::options::NoQuorumPolicy;
use crate::schedule::{ScoreLine, Scheduler};
use crate::unpack::history::glib_sort;
use crate::working_set::{NodeId, RscId};

impl Scheduler<'_> {
    /// `pcmk__add_promotion_scores`: promotion scores into the instances'
    /// node scores and priorities, before placement.
    pub(crate) fn add_promotion_scores(&mut self, clone: RscId) {
        for child in self.ws.rsc(clone).children.clone() {
            let nodes: Vec<NodeId> = self.ws.rsc(child).allowed_nodes.keys().copied().collect();
            for n in nodes {
                // A node that cannot run resources is never promoted on;
                // its score would only shuffle instances.
                if !self.node_available(n, None) {
                    continue;
                }
                let (score, _) = self.promotion_score(child, n);
                if score.value() > 0 {
                    if let Some(w) = self.ws.resources[child.0].allowed_nodes.get_mut(&n) {
                        *w += score;
                    }
                }
                if score > self.priority(child) {
                    self.assign[child.0].priority = Some(score);
                }
            }
        }
        self.note(|s| format!("promotion scores of {}", s.ws.rsc(clone).id));
    }

    /// `promotion_score`: an instance's promotion score on a node and
    /// whether none was set (a cloned group sums its members').
    fn promotion_score(&self, rsc: RscId, node: NodeId) -> (Score, bool) {
        let kids = &self.ws.rsc(rsc).children;
        if !kids.is_empty() {
            let mut sum = Score::ZERO;
            let mut default = true;
            for k in kids {
                let (s, d) = self.promotion_score(*k, node);
                default &= d;
                sum += s;
            }
            return (sum, default);
        }
        if !self.promotion_score_applies(rsc, node) {
            return (Score::ZERO, true);
        }
        let res = self.ws.rsc(rsc);
        // The name the agent knows itself by: its history name.
        let name = res.clone_name.as_deref().unwrap_or(&res.id);
        let n = self.ws.node(node);
        let mut value = n.attr(&format!("master-{name}"));
        if value.is_none() && !res.flags.unique {
            // No history yet: an anonymous instance goes by its base name.
            let base = base_name(&res.id);
            if base != res.id {
                value = n.attr(&format!("master-{base}"));
            }
        }
        match value {
            Some(v) => (Score::parse(v), false),
            None => (Score::ZERO, true),
        }
    }

    /// `promotion_score_applies`.
    fn promotion_score_applies(&self, rsc: RscId, node: NodeId) -> bool {
        let res = self.ws.rsc(rsc);
        let base = base_name(&res.id);
        let parent = self.ws.top(rsc);
        let allowed = || res.allowed_nodes.get(&node).is_some_and(|s| s.value() >= 0);
        if !res.flags.unique {
            // The instance active on the node decides; without one, any
            // instance probed there does.
            let active = self.instance_members(parent, base).into_iter().find(|m| self.ws.rsc(*m).running_on.contains(&node));
            if active == Some(rsc) {
                return allowed();
            }
            if active.is_none() && self.instance_members(parent, base).iter().any(|m| self.ws.rsc(*m).known_on.contains(&node)) {
                return allowed();
            }
        }
        // Nothing probed anywhere yet (cluster start): every score counts.
        if res.running_on.is_empty() && res.known_on.is_empty() {
            return allowed();
        }
        if res.known_on.contains(&node) || res.running_on.contains(&node) {
            return allowed();
        }
        false
    }

    /// The primitives named `base` (without instance number) in each
    /// instance of a clone, in instance order.
    fn instance_members(&self, clone: RscId, base: &str) -> Vec<RscId> {
        let mut out = Vec::new();
        for child in &self.ws.rsc(clone).children {
            if let Some(m) = self.ws.subtree(*child).into_iter().find(|x| self.ws.rsc(*x).is_primitive() && base_name(&self.ws.rsc(*x).id) == base) {
                out.push(m);
            }
        }
        out
    }

    /// The node a resource is assigned to, if all of it is on one
    /// (`fns->location(rsc, NULL, FALSE)`).
    pub(crate) fn assigned_node(&self, rsc: RscId) -> Option<NodeId> {
        let res = self.ws.rsc(rsc);
        if res.is_primitive() {
            return self.assign[rsc.0].allocated_to;
        }
        let mut found: Option<NodeId> = None;
        for c in &res.children {
            match (self.assigned_node(*c), found) {
                (None, _) => {}
                (Some(n), None) => found = Some(n),
                (Some(n), Some(f)) if n != f => return None,
                _ => {}
            }
        }
        found
    }

    /// Whether any part of a resource is assigned somewhere.
    fn assigned_anywhere(&self, rsc: RscId) -> bool {
        self.ws.subtree(rsc).iter().any(|x| self.ws.rsc(*x).is_primitive() && self.assign[x.0].allocated_to.is_some())
    }

    /// The next role of a resource (`fns->state(rsc, FALSE)`): the highest
    /// of its members' for a collection.
    pub(crate) fn next_role_of(&self, rsc: RscId) -> Role {
        let res = self.ws.rsc(rsc);
        if res.is_primitive() {
            return res.next_role;
        }
        res.children.iter().map(|c| self.next_role_of(*c)).max().unwrap_or(Role::Unknown)
    }

    /// `pcmk__set_instance_roles`: chooses the instances to promote.
    pub(crate) fn set_instance_roles(&mut self, clone: RscId) {
        for child in self.ws.rsc(clone).children.clone() {
            self.set_instance_priority(clone, child);
        }
        self.sort_promotable_instances(clone);
        let mut promoted = 0u32;
        let mut per_node: BTreeMap<NodeId, u32> = BTreeMap::new();
        for child in self.ws.rsc(clone).children.clone() {
            self.set_instance_role(clone, child, &mut promoted, &mut per_node);
        }
    }

    /// `set_instance_priority`.
    fn set_instance_priority(&mut self, clone: RscId, instance: RscId) {
        if self.ws.current_role(instance) == Role::Started {
            for x in self.ws.subtree(instance) {
                if self.ws.rsc(x).role == Role::Started {
                    self.ws.resources[x.0].role = Role::Unpromoted;
                }
            }
        }
        let Some(chosen) = self.assigned_node(instance) else { return };
        let next = self.next_role_of(instance);
        match next {
            Role::Started | Role::Unknown => {
                let (score, default) = self.promotion_score(instance, chosen);
                // Without a score an instance can still be promoted by a
                // location constraint, but not by nothing at all.
                self.assign[instance.0].priority = Some(if default { Score::from(-1) } else { score });
            }
            Role::Unpromoted | Role::Stopped => self.assign[instance.0].priority = Some(Score::MINUS_INFINITY),
            Role::Promoted => {}
        }
        for owner in [instance, clone] {
            let extra: Vec<Score> = self.promoted_locations.get(&owner).map(|l| l.iter().filter(|(n, _)| *n == chosen).map(|(_, s)| *s).collect()).unwrap_or_default();
            for s in extra {
                let p = self.priority(instance) + s;
                self.assign[instance.0].priority = Some(p);
            }
        }
        // A cloned group's colocations act through its first member.
        let dep = if self.ws.rsc(instance).is_primitive() { instance } else { self.ws.rsc(instance).children.first().copied().unwrap_or(instance) };
        for c in self.assign[dep.0].this_with.clone() {
            self.apply_coloc_for_roles(c, dep);
        }
        let p = self.priority(instance);
        self.assign[instance.0].sort_index = if next == Role::Promoted { Score::INFINITY } else { p };
    }

    /// `sort_promotable_instances`.
    fn sort_promotable_instances(&mut self, clone: RscId) {
        self.assign[clone.0].merging = true;
        for child in self.ws.rsc(clone).children.clone() {
            let idx = self.assign[child.0].sort_index;
            if idx.value() < 0 {
                continue;
            }
            let Some(chosen) = self.assigned_node(child) else { continue };
            if let Some(w) = self.ws.resources[clone.0].allowed_nodes.get_mut(&chosen) {
                *w += idx;
            }
        }
        for c in self.assign[clone.0].this_with.clone() {
            let col = self.colocations[c].clone();
            if col.dependent_role != Role::Promoted {
                continue;
            }
            let factor = col.score.value() as f32 / Score::INFINITY.value() as f32;
            let flags = MergeFlags { rollback: col.score < Score::INFINITY, positive: false };
            let mut nodes = std::mem::take(&mut self.ws.resources[clone.0].allowed_nodes);
            self.add_colocated_node_scores(col.primary, &mut nodes, col.node_attribute.as_deref(), factor, flags);
            self.ws.resources[clone.0].allowed_nodes = nodes;
        }
        for c in self.assign[clone.0].with_this.clone() {
            let col = self.colocations[c].clone();
            if col.primary_role != Role::Promoted || !self.has_influence(c) {
                continue;
            }
            let factor = col.score.value() as f32 / Score::INFINITY.value() as f32;
            let mut nodes = std::mem::take(&mut self.ws.resources[clone.0].allowed_nodes);
            self.add_colocated_node_scores(col.dependent, &mut nodes, col.node_attribute.as_deref(), factor, MergeFlags { rollback: true, positive: true });
            self.ws.resources[clone.0].allowed_nodes = nodes;
        }
        if self.lacks_promotion_ticket(clone) {
            for w in self.ws.resources[clone.0].allowed_nodes.values_mut() {
                *w += Score::MINUS_INFINITY;
            }
        }
        for child in self.ws.rsc(clone).children.clone() {
            let chosen = self.assigned_node(child);
            if !self.ws.rsc(child).flags.managed && self.ws.rsc(child).next_role == Role::Promoted {
                self.assign[child.0].sort_index = Score::INFINITY;
            } else if let Some(n) = chosen {
                if self.assign[child.0].sort_index.value() >= 0 {
                    let w = self.ws.rsc(clone).allowed_nodes.get(&n).copied().unwrap_or(Score::ZERO);
                    self.assign[child.0].sort_index = w;
                }
            }
        }
        let mut children = self.ws.rsc(clone).children.clone();
        glib_sort(&mut children, &|a, b| {
            let (ia, ib) = (self.assign[a.0].sort_index, self.assign[b.0].sort_index);
            ib.cmp(&ia).then_with(|| self.ws.current_role(*b).cmp(&self.ws.current_role(*a))).then_with(|| self.cmp_instance(*a, *b))
        });
        self.ws.resources[clone.0].children = children;
        self.assign[clone.0].merging = false;
    }

    /// Whether a Promoted-role `rsc_ticket` of the clone is not granted
    /// (or in standby) (`pcmk__require_promotion_tickets`).
    fn lacks_promotion_ticket(&self, clone: RscId) -> bool {
        let cib = self.cib;
        let id = &self.ws.rsc(clone).id;
        cib.constraints.tickets.iter().any(|t| {
            let direct = t.rsc.as_deref() == Some(id.as_str()) && t.rsc_role == Some(Role::Promoted);
            let in_set = t.sets.iter().any(|set| set.role.or(t.rsc_role) == Some(Role::Promoted) && set.resources.iter().any(|r| r == id));
            if !direct && !in_set {
                return false;
            }
            let state = cib.status.tickets.iter().find(|s| s.id == t.ticket);
            !state.is_some_and(|s| s.granted) || state.is_some_and(|s| s.standby)
        })
    }

    /// `set_instance_role`.
    fn set_instance_role(&mut self, clone: RscId, instance: RscId, promoted: &mut u32, per_node: &mut BTreeMap<NodeId, u32>) {
        let chosen_now = self.assigned_node(instance);
        self.scores.push(ScoreLine {
            function: "promotion-score",
            rsc: self.ws.rsc(instance).id.clone(),
            node: chosen_now.map_or("none".to_string(), |n| self.ws.node(n).uname.clone()),
            score: self.assign[instance.0].sort_index,
        });
        let info = self.ws.rsc(clone).clone_info().cloned();
        let promoted_max = info.as_ref().map_or(1, |i| i.promoted_max);
        let mut chosen = None;
        if self.assign[instance.0].sort_index.value() >= 0 && (*promoted < promoted_max || !self.ws.rsc(clone).flags.managed) {
            chosen = self.node_to_be_promoted_on(clone, instance, per_node);
        }
        let Some(node) = chosen else {
            self.set_next_role_unpromoted(instance);
            return;
        };
        if self.ws.current_role(instance) < Role::Promoted && !self.ws.have_quorum && self.ws.options.no_quorum_policy == NoQuorumPolicy::Freeze {
            self.set_next_role_unpromoted(instance);
            return;
        }
        *per_node.entry(node).or_insert(0) += 1;
        for x in self.ws.subtree(instance) {
            if self.ws.rsc(x).next_role == Role::Unknown {
                self.ws.resources[x.0].next_role = Role::Promoted;
            }
        }
        *promoted += 1;
    }

    fn set_next_role_unpromoted(&mut self, rsc: RscId) {
        let role = if self.assigned_anywhere(rsc) { Role::Unpromoted } else { Role::Stopped };
        self.ws.resources[rsc.0].next_role = role;
        for c in self.ws.rsc(rsc).children.clone() {
            self.set_next_role_unpromoted(c);
        }
    }

    /// `node_to_be_promoted_on`.
    fn node_to_be_promoted_on(&self, clone: RscId, rsc: RscId, per_node: &BTreeMap<NodeId, u32>) -> Option<NodeId> {
        for c in &self.ws.rsc(rsc).children {
            self.node_to_be_promoted_on(clone, *c, per_node)?;
        }
        let node = self.assigned_node(rsc)?;
        let managed = self.ws.rsc(rsc).flags.managed;
        if !managed {
            if self.ws.current_role(rsc) != Role::Promoted {
                return None;
            }
        } else if self.priority(rsc).value() < 0 || !self.node_available(node, None) {
            return None;
        }
        self.ws.rsc(clone).allowed_nodes.get(&node)?;
        let max = self.ws.rsc(clone).clone_info().map_or(1, |i| i.promoted_node_max);
        if managed && per_node.get(&node).copied().unwrap_or(0) >= max {
            return None;
        }
        Some(node)
    }

    /// After a promotable clone's instances have their actions: the
    /// clone's `promote`/`promoted` and `demote`/`demoted` pseudo-actions
    /// (required when an instance's promote or demote is), and the
    /// instances' priorities back to the clone's
    /// (`pcmk__create_promotable_actions`).
    pub(crate) fn create_promotable_actions(&mut self, clone: RscId) {
        let mut promoting = false;
        let mut demoting = false;
        for child in self.ws.rsc(clone).children.clone() {
            for x in self.ws.subtree(child) {
                for a in &self.actions {
                    if a.rsc == Some(x) && !a.optional && a.interval_ms == 0 {
                        promoting |= a.task == "promote";
                        demoting |= a.task == "demote";
                    }
                }
            }
        }
        self.custom_action(Some(clone), "promote", 0, None, !promoting);
        self.custom_action(Some(clone), "promoted", 0, None, !promoting);
        self.custom_action(Some(clone), "demote", 0, None, !demoting);
        self.custom_action(Some(clone), "demoted", 0, None, !demoting);
        let p = self.priority(clone);
        for child in self.ws.rsc(clone).children.clone() {
            self.assign[child.0].priority = Some(p);
        }
    }
}

/// An instance id without its `:N` suffix (`clone_strip`).
pub(crate) fn base_name(id: &str) -> &str {
    match id.rfind(':') {
        Some(i) if id[i + 1..].chars().all(|c| c.is_ascii_digit()) && i + 1 < id.len() => &id[..i],
        _ => id,
    }
}

#[cfg(test)]
mod tests {
    use super::base_name;

    #[test]
    fn base_names_drop_the_instance_number() {
        assert_eq!(base_name("stateful:3"), "stateful");
        assert_eq!(base_name("stateful"), "stateful");
        assert_eq!(base_name("a:b"), "a:b");
    }
}
