//! Clone assignment (Pacemaker 2.1.5's `pcmk__clone_allocate`,
//! `distribute_children`, `allocate_instance`, `pcmk__cmp_instance`).
//!
//! A clone is assigned as a whole: what it is colocated with first, then
//! the scores of what is colocated with it are folded into its own
//! (positive ones only), its scores are printed, its instances sorted
//! (active, allowed, higher priority, on a node that can run resources,
//! not failed, higher colocated score where they run, lower instance
//! number) and handed out:
//!
//! 1. each active, healthy instance is first offered its current node,
//!    while that node holds fewer than `clone-max / available nodes`
//!    instances ("optimal"); the offer is taken back when the instance
//!    would rather go elsewhere;
//! 2. the rest are assigned in order, each banned from nodes that already
//!    hold `clone-node-max` instances or that the clone may not use;
//!    beyond `clone-max`, an instance is banned everywhere.
//!
//! Instances take their clone's colocations: all of them when fewer
//! instances than nodes will run, else only the mandatory and negative
//! ones (a preference cannot make a difference when every node gets a
//! copy). Colocation with a clone is in `colocation.rs`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use cib::model::Score;

use crate::colocation::MergeFlags;
use crate::schedule::Scheduler;
use crate::working_set::{NodeId, RscId};
use crate::unpack::history::glib_sort;

impl Scheduler<'_> {
    /// `pcmk__clone_allocate`.
    pub(crate) fn clone_assign(&mut self, clone: RscId) {
        if !self.assign[clone.0].provisional || self.assign[clone.0].allocating {
            return;
        }
        if self.ws.rsc(clone).flags.promotable {
            self.add_promotion_scores(clone);
        }
        self.assign[clone.0].allocating = true;
        for c in self.assign[clone.0].this_with.clone() {
            let primary = self.colocations[c].primary;
            self.assign(primary, None);
        }
        for c in self.assign[clone.0].with_this.clone() {
            if !self.has_influence(c) {
                continue;
            }
            let col = self.colocations[c].clone();
            let mut nodes = std::mem::take(&mut self.ws.resources[clone.0].allowed_nodes);
            let factor = col.score.value() as f32 / Score::INFINITY.value() as f32;
            self.add_colocated_node_scores(col.dependent, &mut nodes, col.node_attribute.as_deref(), factor, MergeFlags { rollback: true, positive: true });
            self.ws.resources[clone.0].allowed_nodes = nodes;
            self.note(|s| format!("colocation {}: scores of {} x {factor}", col.id, s.ws.rsc(col.dependent).id));
        }
        self.show_scores("pcmk__clone_allocate", clone);
        let mut children = self.ws.rsc(clone).children.clone();
        glib_sort(&mut children, &|a, b| self.cmp_instance(*a, *b));
        self.ws.resources[clone.0].children = children.clone();
        self.distribute_children(clone, &children);
        if self.ws.rsc(clone).flags.promotable {
            self.set_instance_roles(clone);
        }
        self.assign[clone.0].allocating = false;
        self.assign[clone.0].provisional = false;
    }

    fn distribute_children(&mut self, clone: RscId, children: &[RscId]) {
        let Some(info) = self.ws.rsc(clone).clone_info().cloned() else {
            for c in children {
                self.assign(*c, None);
            }
            return;
        };
        let max = info.clone_max;
        let per_host = info.clone_node_max;
        let mut count: BTreeMap<NodeId, u32> = BTreeMap::new();
        let available = self.ws.rsc(clone).allowed_nodes.keys().filter(|n| self.node_available(**n, None)).count() as u32;
        let all_coloc = max < available;
        let loop_max = max.checked_div(available).unwrap_or(1).max(1);
        let mut allocated = 0u32;
        for &child in children {
            if allocated >= max {
                break;
            }
            let running = self.ws.locations(child, false);
            if running.is_empty() || !self.assign[child.0].provisional || self.did_fail(child) {
                continue;
            }
            let node = running[0];
            if !self.node_available(node, Some(self.ws.node(node).weight)) {
                continue;
            }
            let local = self.ws.rsc(clone).allowed_nodes.contains_key(&node);
            if local && count.get(&node).copied().unwrap_or(0) >= loop_max {
                continue;
            }
            if self.allocate_instance(clone, child, Some(node), all_coloc, per_host, &mut count).is_some() {
                allocated += 1;
            }
        }
        for &child in children {
            if !self.assign[child.0].provisional {
                continue;
            }
            if allocated >= max {
                self.resource_location(child, None, Score::MINUS_INFINITY);
                self.note(|s| format!("clone-max of {} reached", s.ws.rsc(clone).id));
            } else if self.allocate_instance(clone, child, None, all_coloc, per_host, &mut count).is_some() {
                allocated += 1;
            }
        }
    }

    /// `allocate_instance`: assigns one instance, preferring `prefer`
    /// (taken back when another node is better).
    fn allocate_instance(&mut self, clone: RscId, rsc: RscId, prefer: Option<NodeId>, all_coloc: bool, limit: u32, count: &mut BTreeMap<NodeId, u32>) -> Option<NodeId> {
        if !self.assign[rsc.0].provisional {
            return self.assign[rsc.0].allocated_to.or_else(|| self.ws.locations(rsc, false).first().copied());
        }
        if self.assign[rsc.0].allocating {
            return None;
        }
        self.append_parent_colocations(clone, rsc, all_coloc);
        if let Some(p) = prefer {
            match self.ws.rsc(rsc).allowed_nodes.get(&p) {
                Some(s) if s.value() >= 0 => {}
                _ => return None,
            }
        }
        // Ban the instance from nodes it cannot run on.
        let nodes: Vec<NodeId> = self.ws.rsc(rsc).allowed_nodes.keys().copied().collect();
        for n in nodes {
            if !self.can_run_instance(clone, rsc, n, limit, count) {
                for x in self.ws.subtree(rsc) {
                    if let Some(s) = self.ws.resources[x.0].allowed_nodes.get_mut(&n) {
                        *s += Score::MINUS_INFINITY;
                    }
                }
            }
        }
        self.note(|s| format!("clone-node-max of {} reached, or node not allowed for the clone", s.ws.rsc(clone).id));
        let backup = self.ws.rsc(rsc).allowed_nodes.clone();
        let mut chosen = self.assign(rsc, prefer);
        if self.ws.rsc(rsc).is_primitive() {
            chosen = self.assign[rsc.0].allocated_to;
        }
        if let (Some(c), Some(p)) = (chosen, prefer) {
            if c != p {
                self.ws.resources[rsc.0].allowed_nodes = backup;
                self.unassign(rsc);
                chosen = None;
            }
        }
        if let Some(c) = chosen {
            if self.ws.rsc(clone).allowed_nodes.contains_key(&c) {
                *count.entry(c).or_insert(0) += 1;
            }
        }
        chosen
    }

    /// `can_run_instance`.
    fn can_run_instance(&self, clone: RscId, rsc: RscId, node: NodeId, limit: u32, count: &BTreeMap<NodeId, u32>) -> bool {
        if self.ws.rsc(rsc).flags.orphan || !self.node_available(node, None) {
            return false;
        }
        match self.ws.rsc(clone).allowed_nodes.get(&node) {
            None => false,
            Some(s) if s.value() < 0 => false,
            Some(_) => count.get(&node).copied().unwrap_or(0) < limit,
        }
    }

    /// `append_parent_colocation`: the clone's colocations become the
    /// instance's (Pacemaker appends them again on every attempt).
    fn append_parent_colocations(&mut self, clone: RscId, child: RscId, all: bool) {
        for c in self.assign[clone.0].this_with.clone() {
            let s = self.colocations[c].score;
            if all || s.value() < 0 || s == Score::INFINITY {
                self.add_this_with(child, c);
            }
        }
        for c in self.assign[clone.0].with_this.clone() {
            if !self.has_influence(c) {
                continue;
            }
            if all || self.colocations[c].score.value() < 0 {
                self.add_with_this(child, c);
            }
        }
    }

    /// `pcmk__unassign_resource`, for the whole subtree.
    pub(crate) fn unassign(&mut self, rsc: RscId) {
        for x in self.ws.subtree(rsc) {
            if let Some(n) = self.assign[x.0].allocated_to.take() {
                self.num_resources[n.0] = self.num_resources[n.0].saturating_sub(1);
            }
            self.assign[x.0].provisional = true;
        }
    }

    fn did_fail(&self, rsc: RscId) -> bool {
        self.ws.subtree(rsc).iter().any(|x| self.ws.rsc(*x).flags.failed)
    }

    /// The node an instance is active on and on how many
    /// (`pe__find_active_on`).
    fn active_on(&self, rsc: RscId) -> (Option<NodeId>, usize) {
        let nodes = self.ws.locations(rsc, false);
        let clean = nodes.iter().copied().find(|n| self.ws.node(*n).online && !self.ws.node(*n).unclean);
        (clean.or(nodes.first().copied()), nodes.len())
    }

    /// `pcmk__cmp_instance`: the order instances are assigned in.
    pub(crate) fn cmp_instance(&self, a: RscId, b: RscId) -> Ordering {
        let (mut n1, c1) = self.active_on(a);
        let (mut n2, c2) = self.active_on(b);
        if c1 > 0 && c2 > 0 && c1 != c2 {
            return c1.cmp(&c2);
        }
        let allowed = |r: RscId, n: &mut Option<NodeId>| -> bool {
            if let Some(node) = *n {
                if self.ws.rsc(r).allowed_nodes.get(&node).is_none_or(|s| s.value() < 0) {
                    *n = None;
                    return false;
                }
            }
            true
        };
        let can1 = allowed(a, &mut n1);
        let can2 = allowed(b, &mut n2);
        if can1 != can2 {
            return if can1 { Ordering::Less } else { Ordering::Greater };
        }
        let (p1, p2) = (self.priority(a), self.priority(b));
        if p1 != p2 {
            return p2.cmp(&p1);
        }
        let (node1, node2) = match (n1, n2) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) => (x, y),
        };
        let (can1, can2) = (self.node_available(node1, None), self.node_available(node2, None));
        if can1 != can2 {
            return if can1 { Ordering::Less } else { Ordering::Greater };
        }
        let parent = |r: RscId| self.ws.rsc(r).parent;
        let in_parent = |r: RscId, n: NodeId| parent(r).is_some_and(|p| self.ws.rsc(p).allowed_nodes.contains_key(&n));
        match (in_parent(a, node1), in_parent(b, node2)) {
            (false, false) => return Ordering::Equal,
            (false, true) => return Ordering::Greater,
            (true, false) => return Ordering::Less,
            _ => {}
        }
        let (f1, f2) = (self.did_fail(a), self.did_fail(b));
        if f1 != f2 {
            return if f1 { Ordering::Greater } else { Ordering::Less };
        }
        let s1 = self.colocated_score_on(a, node1);
        let s2 = self.colocated_score_on(b, node2);
        if s1 != s2 {
            return s2.cmp(&s1);
        }
        instance_number(&self.ws.rsc(a).id).cmp(&instance_number(&self.ws.rsc(b).id))
    }

    /// An instance's score on its current node after its clone's
    /// colocations (`cmp_instance_by_colocation`).
    fn colocated_score_on(&self, rsc: RscId, node: NodeId) -> Score {
        let Some(parent) = self.ws.rsc(rsc).parent else { return Score::ZERO };
        // Merging needs `&mut self` for its loop guards only; work on a
        // scratch copy of the guards.
        let mut table: BTreeMap<NodeId, Score> = BTreeMap::from([(node, self.ws.node(node).weight)]);
        let mut me = ScratchMerge { s: self, merging: vec![false; self.ws.resources.len()] };
        for c in self.assign[parent.0].this_with.clone() {
            let col = &self.colocations[c];
            let factor = col.score.value() as f32 / Score::INFINITY.value() as f32;
            me.merge(col.primary, &mut table, col.node_attribute.as_deref(), factor, false);
        }
        for c in self.assign[parent.0].with_this.clone() {
            if !self.has_influence(c) {
                continue;
            }
            let col = &self.colocations[c];
            let factor = col.score.value() as f32 / Score::INFINITY.value() as f32;
            me.merge(col.dependent, &mut table, col.node_attribute.as_deref(), factor, true);
        }
        table.get(&node).copied().unwrap_or(Score::ZERO)
    }
}

/// A read-only version of `add_colocated_node_scores` for comparisons.
struct ScratchMerge<'a, 'c> {
    s: &'a Scheduler<'c>,
    merging: Vec<bool>,
}

impl ScratchMerge<'_, '_> {
    fn merge(&mut self, rsc: RscId, table: &mut BTreeMap<NodeId, Score>, attr: Option<&str>, factor: f32, positive: bool) {
        if self.merging[rsc.0] {
            return;
        }
        self.merging[rsc.0] = true;
        let s = self.s;
        let attr = attr.unwrap_or("#uname");
        for (node, weight) in table.iter_mut() {
            let value = s.ws.node(*node).attr(attr);
            let mut best = Score::MINUS_INFINITY.value();
            let source = if s.ws.rsc(rsc).is_primitive() || s.ws.rsc(rsc).clone_info().is_some() { rsc } else { s.ws.rsc(rsc).children.first().copied().unwrap_or(rsc) };
            for (n, sc) in &s.ws.rsc(source).allowed_nodes {
                if sc.value() > best && s.node_available(*n, None) && value.is_some() && s.ws.node(*n).attr(attr).map(str::to_ascii_lowercase) == value.map(str::to_ascii_lowercase) {
                    best = sc.value();
                }
            }
            if factor < 0.0 && best < 0 {
                continue;
            }
            let f = factor * best as f32;
            let w = if f < 0.0 { (f - 0.5) as i32 } else { (f + 0.5) as i32 };
            let new = *weight + Score::from(w);
            if positive && new.value() < 0 {
                continue;
            }
            *weight = new;
        }
        self.merging[rsc.0] = false;
    }
}

/// The number after the last `:` of an instance id.
pub(crate) fn instance_number(id: &str) -> i64 {
    id.rsplit(':').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_numbers_compare_as_numbers() {
        assert_eq!(instance_number("clvmd:10"), 10);
        assert!(instance_number("clvmd:2") < instance_number("clvmd:10"));
        assert_eq!(instance_number("rsc"), 0);
    }

    #[test]
    fn glib_sort_splits_as_glib_does() {
        // With a comparison that is not a total order the split decides
        // the result: "everything equals its neighbours except 2 > 0".
        // Expected values are what GLib 2.74's g_list_sort returns (checked
        // by calling it through ctypes): the first half is the shorter.
        let cmp = |a: &u32, b: &u32| if *a == 2 && *b == 0 { Ordering::Greater } else { Ordering::Equal };
        let mut v = [0u32, 1, 2];
        glib_sort(&mut v, &cmp);
        assert_eq!(v, [0, 1, 2]);
        let mut w = [2u32, 1, 0];
        glib_sort(&mut w, &cmp);
        // [2] | [1, 0]: 2 meets 1 first (equal), so nothing moves.
        assert_eq!(w, [2, 1, 0]);
    }
}
