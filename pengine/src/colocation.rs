//! Colocation constraints (Pacemaker's `pcmk_sched_colocation.c`):
//! unpacking `rsc_colocation` (simple and with resource sets), the
//! implicit colocations of group members, and the two ways a colocation
//! moves scores:
//!
//! - "this with": once the primary is assigned, the dependent's node
//!   scores follow it (`apply_coloc_score`);
//! - "with this": before the primary is assigned, the scores of its
//!   dependents (and theirs, recursively) are folded into its own, scaled
//!   by `score / INFINITY` (`add_colocated_node_scores`), so
//!   a group's first member sees the whole group.
//!
//! Each resource keeps its colocations sorted as Pacemaker sorts them
//! (other side's priority, then variant, then id), which decides the
//! order primaries are assigned in.

use std::collections::BTreeMap;

use cib::model::{ResourceSet, Role, Score};

use crate::schedule::Scheduler;
use crate::working_set::{NodeId, RscId, Variant};

/// Pacemaker's marker for a node made unusable while merging
/// non-negative scores (`INFINITY_HACK`).
const INFINITY_HACK: i32 = -100_000_000;

/// One colocation between two resources.
#[derive(Debug, Clone)]
pub struct Colocation {
    pub id: String,
    pub dependent: RscId,
    pub primary: RscId,
    pub score: Score,
    /// `Unknown` = any role.
    pub dependent_role: Role,
    pub primary_role: Role,
    pub node_attribute: Option<String>,
    /// Whether the dependent may pull an active primary towards itself.
    pub influence: bool,
}

/// How scores are merged (Pacemaker's `pe_weights_*` flags).
#[derive(Debug, Clone, Copy, Default)]
pub struct MergeFlags {
    /// Give up the merge when no node would be left available.
    pub rollback: bool,
    /// Keep only non-negative results.
    pub positive: bool,
}

/// What a colocation still changes (`enum pcmk__coloc_affects`).
enum Affects {
    Nothing,
    Location,
    Role,
}

/// Node scores while merging: the raw value may be [`INFINITY_HACK`].
type Work = BTreeMap<NodeId, i32>;

fn role_filter(role: Option<Role>) -> Role {
    match role {
        None | Some(Role::Started) => Role::Unknown,
        Some(r) => r,
    }
}

impl Scheduler<'_> {
    /// Unpacks every `rsc_colocation`.
    pub(crate) fn unpack_colocations(&mut self) {
        let cib = self.cib;
        for c in &cib.constraints.colocations {
            if !c.lifetime.is_empty() && !crate::rules::all_match(c.lifetime.iter(), &crate::rules::RuleInput { now: self.ws.now, ..Default::default() }) {
                continue;
            }
            let score = c.score.unwrap_or(Score::ZERO);
            if c.sets.is_empty() {
                let (Some(rsc), Some(with)) = (&c.rsc, &c.with_rsc) else { continue };
                let deps = self.expand_resource_ref(rsc);
                let prims = self.expand_resource_ref(with);
                for d in &deps {
                    for p in &prims {
                        let influence = self.influence(c.influence, *d);
                        self.new_colocation(&c.id, c.node_attribute.clone(), score, *d, *p, role_filter(c.rsc_role), role_filter(c.with_rsc_role), influence);
                    }
                }
                continue;
            }
            let mut last: Option<&ResourceSet> = None;
            for set in &c.sets {
                self.unpack_colocation_set(&c.id, set, score, c.influence);
                if let Some(prev) = last {
                    self.colocate_sets(&c.id, prev, set, score, c.influence);
                }
                last = Some(set);
            }
        }
    }

    fn set_resources(&self, set: &ResourceSet) -> Vec<RscId> {
        set.resources.iter().flat_map(|r| self.expand_resource_ref(r)).collect()
    }

    /// Within one set: each resource with the one before it (when
    /// sequential), or every pair kept apart (negative, non-sequential).
    fn unpack_colocation_set(&mut self, id: &str, set: &ResourceSet, score: Score, influence: Option<bool>) {
        let local = set.score.unwrap_or(score);
        if local.value() == 0 {
            return;
        }
        let role = role_filter(set.role);
        let rscs = self.set_resources(set);
        if set.sequential.unwrap_or(true) {
            for w in rscs.windows(2) {
                let infl = self.influence(influence, w[1]);
                self.new_colocation(id, None, local, w[1], w[0], role, role, infl);
            }
        } else if local.value() < 0 {
            for (i, a) in rscs.iter().enumerate() {
                for b in &rscs[i + 1..] {
                    let infl = self.influence(influence, *a);
                    self.new_colocation(id, None, local, *a, *b, role, role, infl);
                }
            }
        }
    }

    /// Between two sets: the first set depends on the second.
    fn colocate_sets(&mut self, id: &str, set1: &ResourceSet, set2: &ResourceSet, score: Score, influence: Option<bool>) {
        let r1 = self.set_resources(set1);
        let r2 = self.set_resources(set2);
        let role1 = role_filter(set1.role);
        let role2 = role_filter(set2.role);
        let first1 = if set1.sequential.unwrap_or(true) { r1.first().copied() } else { None };
        let last2 = if set2.sequential.unwrap_or(true) { r2.last().copied() } else { None };
        match (first1, last2) {
            (Some(a), Some(b)) => {
                let infl = self.influence(influence, a);
                self.new_colocation(id, None, score, a, b, role1, role2, infl);
            }
            (Some(a), None) => {
                for b in r2 {
                    let infl = self.influence(influence, a);
                    self.new_colocation(id, None, score, a, b, role1, role2, infl);
                }
            }
            (None, Some(b)) => {
                for a in r1 {
                    let infl = self.influence(influence, a);
                    self.new_colocation(id, None, score, a, b, role1, role2, infl);
                }
            }
            (None, None) => {
                for a in &r1 {
                    for b in &r2 {
                        let infl = self.influence(influence, *a);
                        self.new_colocation(id, None, score, *a, *b, role1, role2, infl);
                    }
                }
            }
        }
    }

    /// `influence` as written, else the dependent's `critical`
    /// meta-attribute (default true).
    fn influence(&self, written: Option<bool>, dependent: RscId) -> bool {
        written.unwrap_or_else(|| self.ws.rsc(dependent).meta("critical").is_none_or(|v| crate::nvsets::is_true(Some(v))))
    }

    /// `pcmk__new_colocation`: records a colocation and inserts it in both
    /// resources' sorted lists.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new_colocation(
        &mut self,
        id: &str,
        node_attribute: Option<String>,
        score: Score,
        dependent: RscId,
        primary: RscId,
        dependent_role: Role,
        primary_role: Role,
        influence: bool,
    ) {
        if score.value() == 0 || dependent == primary {
            return;
        }
        let idx = self.colocations.len();
        self.colocations.push(Colocation { id: id.to_string(), dependent, primary, score, dependent_role, primary_role, node_attribute, influence });
        if score.value() <= Score::MINUS_INFINITY.value() {
            self.anti_colocation_order(dependent, dependent_role, primary, primary_role);
            self.anti_colocation_order(primary, primary_role, dependent, dependent_role);
        }
        let list = self.assign[dependent.0].this_with.clone();
        let pos = self.sorted_position(&list, idx, true);
        self.assign[dependent.0].this_with.insert(pos, idx);
        let list = self.assign[primary.0].with_this.clone();
        let pos = self.sorted_position(&list, idx, false);
        self.assign[primary.0].with_this.insert(pos, idx);
    }

    /// Adds an existing colocation to a resource's "this with" list, in
    /// order (`pcmk__add_this_with`: clone instances take their clone's).
    pub(crate) fn add_this_with(&mut self, rsc: RscId, c: usize) {
        let list = self.assign[rsc.0].this_with.clone();
        let pos = self.sorted_position(&list, c, true);
        self.assign[rsc.0].this_with.insert(pos, c);
    }

    /// Adds an existing colocation to a resource's "with this" list.
    pub(crate) fn add_with_this(&mut self, rsc: RscId, c: usize) {
        let list = self.assign[rsc.0].with_this.clone();
        let pos = self.sorted_position(&list, c, false);
        self.assign[rsc.0].with_this.insert(pos, c);
    }

    /// Where `g_list_insert_sorted` puts a new colocation: before the
    /// first one that does not sort before it.
    fn sorted_position(&self, list: &[usize], new: usize, by_primary: bool) -> usize {
        let key = |c: usize| {
            let col = &self.colocations[c];
            if by_primary {
                col.primary
            } else {
                col.dependent
            }
        };
        let cmp = |a: RscId, b: RscId| -> std::cmp::Ordering {
            let (ra, rb) = (self.ws.rsc(a), self.ws.rsc(b));
            self.priority(b)
                .cmp(&self.priority(a))
                .then_with(|| variant_rank(&rb.variant).cmp(&variant_rank(&ra.variant)))
                .then_with(|| rb.flags.promotable.cmp(&ra.flags.promotable))
                .then_with(|| ra.id.as_bytes().cmp(rb.id.as_bytes()))
        };
        let k = key(new);
        list.iter().position(|c| cmp(k, key(*c)) != std::cmp::Ordering::Greater).unwrap_or(list.len())
    }

    /// Group members: each is colocated with the one before it.
    pub(crate) fn create_group_internal_colocations(&mut self) {
        for i in 0..self.ws.resources.len() {
            let g = RscId(i);
            if !matches!(self.ws.rsc(g).variant, Variant::Group) || !self.group_colocated(g) {
                continue;
            }
            let members = self.ws.rsc(g).children.clone();
            for w in members.windows(2) {
                let infl = self.influence(None, w[1]);
                self.new_colocation("group:internal_colocation", None, Score::INFINITY, w[1], w[0], Role::Unknown, Role::Unknown, infl);
            }
        }
    }

    /// `pcmk__colocation_has_influence`.
    pub(crate) fn has_influence(&self, c: usize) -> bool {
        let col = &self.colocations[c];
        col.influence || self.ws.locations(col.primary, false).is_empty()
    }

    /// Applies colocation `c` to its dependent once the primary is
    /// assigned (`rsc_colocation_rh`).
    /// `dep` is the colocation's dependent, or the member of a group
    /// dependent that took over the group's colocations.
    pub(crate) fn apply_coloc_score(&mut self, c: usize, dep: RscId) {
        let col = self.colocations[c].clone();
        let mut primary = col.primary;
        if let Variant::Group = self.ws.rsc(primary).variant {
            if self.assign[primary.0].provisional {
                return;
            }
            let kids = &self.ws.rsc(primary).children;
            if kids.is_empty() {
                return;
            }
            // A mandatory colocation needs the whole group up: follow the
            // last member; an optional one is happy with the first.
            primary = if col.score.is_infinity() { *kids.last().unwrap() } else { kids[0] };
        }
        if self.assign[primary.0].provisional {
            return;
        }
        if self.ws.rsc(primary).clone_info().is_some() {
            if self.ws.rsc(primary).flags.promotable && col.primary_role != Role::Unknown && self.assign[dep.0].provisional {
                self.update_dependent_with_promotable(&col, primary, dep);
                return;
            }
            self.apply_clone_coloc(&col, primary, dep);
            return;
        }
        match self.colocation_affects(dep, primary, &col) {
            Affects::Nothing => return,
            Affects::Role => {
                self.apply_coloc_to_priority(dep, primary, &col);
                return;
            }
            Affects::Location => {}
        }
        let attr = col.node_attribute.as_deref().unwrap_or("#id");
        let target = self.assign[primary.0].allocated_to;
        let value = match target {
            Some(n) => self.ws.node(n).attr(attr).map(str::to_string),
            None if col.score.value() < 0 => return,
            None => None,
        };
        let mut work = self.ws.rsc(dep).allowed_nodes.clone();
        for (node, score) in work.iter_mut() {
            if target.is_none() {
                // The primary will not run: the dependent loses the
                // colocation's score everywhere (`pcmk__apply_coloc_to_weights`).
                *score += -col.score;
            } else if value.is_some() && self.ws.node(*node).attr(attr).map(str::to_string).as_deref().map(str::to_ascii_lowercase) == value.as_deref().map(str::to_ascii_lowercase) {
                if !col.score.is_infinity() {
                    *score += col.score;
                }
            } else if col.score.is_infinity() {
                *score += Score::MINUS_INFINITY;
            }
        }
        if col.score.is_infinite() || self.any_available(&work) {
            self.ws.resources[dep.0].allowed_nodes = work;
        }
    }

    /// `pcmk__colocation_affects`: whether a colocation still changes
    /// where the dependent goes, or (a promotable instance already
    /// placed) its promotion priority, or nothing.
    fn colocation_affects(&self, dep: RscId, primary: RscId, col: &Colocation) -> Affects {
        if self.assign[primary.0].provisional {
            return Affects::Nothing;
        }
        let dep_placed = !self.assign[dep.0].provisional;
        let in_promotable = self.ws.rsc(dep).parent.is_some_and(|p| self.ws.rsc(p).flags.promotable);
        if col.dependent_role >= Role::Unpromoted && in_promotable && dep_placed {
            return Affects::Role;
        }
        if dep_placed {
            return Affects::Nothing;
        }
        let (dn, pn) = (self.ws.rsc(dep).next_role, self.ws.rsc(primary).next_role);
        let positive = col.score.value() > 0;
        let negative = col.score.value() < 0;
        if positive && col.dependent_role != Role::Unknown && col.dependent_role != dn {
            return Affects::Nothing;
        }
        if positive && col.primary_role != Role::Unknown && col.primary_role != pn {
            return Affects::Nothing;
        }
        // Pacemaker 2.1.5 skips an anti-colocation whose role already
        // matches (sic): it then only affects placement otherwise.
        if negative && col.dependent_role != Role::Unknown && col.dependent_role == dn {
            return Affects::Nothing;
        }
        if negative && col.primary_role != Role::Unknown && col.primary_role == pn {
            return Affects::Nothing;
        }
        Affects::Location
    }

    /// `pcmk__apply_coloc_to_priority`: a placed promotable instance's
    /// promotion priority gains (or, for the Unpromoted role, loses) the
    /// score where its primary is; a mandatory Promoted colocation away
    /// from the primary forbids promotion.
    fn apply_coloc_to_priority(&mut self, dep: RscId, primary: RscId, col: &Colocation) {
        let (Some(dn), Some(pn)) = (self.assign[dep.0].allocated_to, self.assign[primary.0].allocated_to) else { return };
        let attr = col.node_attribute.as_deref().unwrap_or("#id");
        let dv = self.ws.node(dn).attr(attr).map(str::to_ascii_lowercase);
        let pv = self.ws.node(pn).attr(attr).map(str::to_ascii_lowercase);
        if dv != pv {
            if col.score == Score::INFINITY && col.dependent_role == Role::Promoted {
                self.assign[dep.0].priority = Some(Score::MINUS_INFINITY);
            }
            return;
        }
        if col.primary_role != Role::Unknown && col.primary_role != self.ws.rsc(primary).next_role {
            return;
        }
        let add = if col.dependent_role == Role::Unpromoted { Score::from(-col.score.value()) } else { col.score };
        let p = add + self.priority(dep);
        self.assign[dep.0].priority = Some(p);
    }

    /// A colocation applied for roles, once the dependent (a promotable
    /// instance) is placed (`apply_coloc_score` from
    /// `set_instance_priority`).
    pub(crate) fn apply_coloc_for_roles(&mut self, c: usize, dep: RscId) {
        let col = self.colocations[c].clone();
        let mut primary = col.primary;
        if let Variant::Group = self.ws.rsc(primary).variant {
            let kids = &self.ws.rsc(primary).children;
            if self.assign[primary.0].provisional || kids.is_empty() {
                return;
            }
            primary = if col.score.is_infinity() { *kids.last().unwrap() } else { kids[0] };
        }
        if self.assign[primary.0].provisional {
            return;
        }
        if self.ws.rsc(primary).clone_info().is_some() {
            if self.ws.rsc(primary).flags.promotable && col.primary_role != Role::Unknown && col.dependent_role == Role::Promoted {
                self.update_promotable_dependent_priority(&col, primary, dep);
                return;
            }
            if col.score.is_infinity() {
                return;
            }
            for child in self.ws.rsc(primary).children.clone() {
                if let Affects::Role = self.colocation_affects(dep, child, &col) {
                    self.apply_coloc_to_priority(dep, child, &col);
                }
            }
            return;
        }
        if let Affects::Role = self.colocation_affects(dep, primary, &col) {
            self.apply_coloc_to_priority(dep, primary, &col);
        }
    }

    /// `pcmk__update_dependent_with_promotable`: placing a resource
    /// colocated with a role of a promotable clone: an optional
    /// colocation scores the nodes of the instances with that role; a
    /// mandatory one (unless Promoted with Promoted) allows only those
    /// nodes, adding the instances' scores there.
    fn update_dependent_with_promotable(&mut self, col: &Colocation, primary: RscId, dep: RscId) {
        let attr = col.node_attribute.as_deref().unwrap_or("#uname");
        let mut affected: Vec<(NodeId, Score)> = Vec::new();
        for inst in self.ws.rsc(primary).children.clone() {
            let Some(node) = self.assigned_node(inst) else { continue };
            if self.next_role_of(inst) != col.primary_role {
                continue;
            }
            if col.score < Score::INFINITY {
                let value = self.ws.node(node).attr(attr).map(str::to_ascii_lowercase);
                let nodes: Vec<NodeId> = self.ws.rsc(dep).allowed_nodes.keys().copied().collect();
                for n in nodes {
                    if self.ws.node(n).attr(attr).map(str::to_ascii_lowercase) == value {
                        *self.ws.resources[dep.0].allowed_nodes.get_mut(&n).unwrap() += col.score;
                    }
                }
            }
            let weight = self.ws.rsc(inst).allowed_nodes.get(&node).copied().unwrap_or(Score::ZERO);
            affected.insert(0, (node, weight));
        }
        if col.score >= Score::INFINITY && (col.dependent_role != Role::Promoted || col.primary_role != Role::Promoted) {
            let nodes: Vec<NodeId> = self.ws.rsc(dep).allowed_nodes.keys().copied().collect();
            for n in nodes {
                let w = self.ws.resources[dep.0].allowed_nodes.get_mut(&n).unwrap();
                match affected.iter().find(|(a, _)| *a == n) {
                    None => *w = Score::MINUS_INFINITY,
                    Some((_, s)) => *w += *s,
                }
            }
            // A node the dependent had no entry for stays closed to it
            // (`node_list_exclude` adds it at -INFINITY: in an
            // asymmetric cluster, only a location opens a node).
            for (n, _) in &affected {
                self.ws.resources[dep.0].allowed_nodes.entry(*n).or_insert(Score::MINUS_INFINITY);
            }
        }
    }

    /// `pcmk__update_promotable_dependent_priority`: a placed instance
    /// colocated in the Promoted role with a role of a promotable clone
    /// gains the score when an instance with that role is on its node;
    /// a mandatory one cannot be promoted otherwise.
    fn update_promotable_dependent_priority(&mut self, col: &Colocation, primary: RscId, dep: RscId) {
        if self.find_compatible_instance(dep, primary, col.primary_role).is_some() {
            let p = self.priority(dep) + col.score;
            self.assign[dep.0].priority = Some(p);
        } else if col.score >= Score::INFINITY {
            self.assign[dep.0].priority = Some(Score::MINUS_INFINITY);
        }
    }

    /// `find_compatible_child`: an instance of `clone` with `role`
    /// (Unknown: any) placed where `rsc` is (or, unplaced, on its best
    /// node that has one), lowest instance number first.
    pub(crate) fn find_compatible_instance(&self, rsc: RscId, clone: RscId, role: Role) -> Option<RscId> {
        let nodes: Vec<NodeId> = match self.assigned_node(rsc) {
            Some(n) => vec![n],
            None => self.sorted_nodes(rsc, None).into_iter().map(|(n, _)| n).collect(),
        };
        let mut kids = self.ws.rsc(clone).children.clone();
        kids.sort_by_key(|k| crate::clone::instance_number(&self.ws.rsc(*k).id));
        for n in nodes {
            for k in &kids {
                let blocked = self.ws.subtree(*k).iter().any(|x| self.ws.rsc(*x).flags.blocked);
                if (role == Role::Unknown || self.next_role_of(*k) == role) && !blocked && self.assigned_node(*k) == Some(n) {
                    return Some(*k);
                }
            }
        }
        None
    }

    /// Colocation with a clone: with INFINITY only nodes hosting an
    /// instance stay allowed; otherwise each instance's node gets the
    /// score.
    fn apply_clone_coloc(&mut self, col: &Colocation, clone: RscId, dep: RscId) {
        let hosts: Vec<NodeId> = self.ws.rsc(clone).children.iter().filter_map(|i| self.assign[i.0].allocated_to).collect();
        let mut work = self.ws.rsc(dep).allowed_nodes.clone();
        for (node, score) in work.iter_mut() {
            let hosted = hosts.contains(node);
            if col.score.is_infinity() {
                if !hosted {
                    *score += Score::MINUS_INFINITY;
                }
            } else if hosted {
                *score += col.score;
            }
        }
        if col.score.is_infinite() || self.any_available(&work) {
            self.ws.resources[dep.0].allowed_nodes = work;
        }
    }

    /// `pcmk__any_node_available`.
    pub(crate) fn any_available(&self, nodes: &BTreeMap<NodeId, Score>) -> bool {
        nodes.iter().any(|(n, s)| self.node_available(*n, Some(*s)))
    }

    /// Folds the scores of `rsc` (and of what depends on it) into
    /// `nodes`, scaled by `factor` (`pcmk__add_colocated_node_scores`).
    pub(crate) fn add_colocated_node_scores(&mut self, rsc: RscId, nodes: &mut BTreeMap<NodeId, Score>, attr: Option<&str>, factor: f32, flags: MergeFlags) {
        let mut work: Work = nodes.iter().map(|(n, s)| (*n, s.value())).collect();
        self.merge_into(rsc, &mut work, attr, factor, flags);
        for (n, v) in work {
            let v = if v == INFINITY_HACK && flags.positive { 1 } else { v };
            nodes.insert(n, Score::from(v));
        }
    }

    fn merge_into(&mut self, rsc: RscId, work: &mut Work, attr: Option<&str>, factor: f32, flags: MergeFlags) {
        if self.assign[rsc.0].merging {
            return;
        }
        // 2.1.5's `pcmk__native_merge_weights` for a group: the first
        // member's scores (its own chain takes in the other members
        // through the internal colocations), then what is colocated with
        // the *last* member. Once the group has been assigned, "R with
        // group" sits on the last member, so R is reached by both and
        // counts twice; before, by neither (measured against 2.1.5,
        // docs/PENGINE.md decision 17).
        let group_ends = match self.ws.rsc(rsc).variant {
            Variant::Group => {
                let members = &self.ws.rsc(rsc).children;
                let (Some(first), Some(last)) = (members.first().copied(), members.last().copied()) else { return };
                Some((first, last))
            }
            _ => None,
        };
        self.assign[rsc.0].merging = true;
        let mut copy = work.clone();
        // Whose "with this" colocations are followed next.
        let followed = match group_ends {
            Some((first, last)) => {
                self.merge_into(first, &mut copy, attr, factor, flags);
                last
            }
            None => {
                self.add_scores_matching_attr(&mut copy, rsc, attr.unwrap_or("#uname"), factor, flags.positive);
                rsc
            }
        };
        let any = copy.iter().any(|(n, s)| *s >= 0 && self.node_available(*n, None));
        if !any && flags.rollback {
            // Nothing could run with these scores: forget them.
            self.assign[rsc.0].merging = false;
            return;
        }
        if any {
            for c in self.assign[followed.0].with_this.clone() {
                if !self.has_influence(c) {
                    continue;
                }
                let col = self.colocations[c].clone();
                let f = chained_factor(factor, col.score);
                self.merge_into(col.dependent, &mut copy, col.node_attribute.as_deref(), f, flags);
            }
        }
        *work = copy;
        self.assign[rsc.0].merging = false;
    }

    /// `add_node_scores_matching_attr`.
    fn add_scores_matching_attr(&self, work: &mut Work, rsc: RscId, attr: &str, factor: f32, only_positive: bool) {
        // The candidates of `best_score_matching`, read once: each
        // available allowed node's attribute value and score (looking the
        // value up again for every node of `work` was nodes x nodes map
        // searches).
        let candidates: Vec<(&str, i32)> = self
            .ws
            .rsc(rsc)
            .allowed_nodes
            .iter()
            .filter(|(n, _)| self.node_available(**n, None))
            .filter_map(|(n, s)| self.ws.node(*n).attr(attr).map(|v| (v, s.value())))
            .collect();
        for (node, weight) in work.iter_mut() {
            let value = self.ws.node(*node).attr(attr);
            let score = best_score_matching(&candidates, value);
            if factor < 0.0 && score < 0 {
                continue;
            }
            if *weight == INFINITY_HACK {
                continue;
            }
            let f = factor * score as f32;
            let mut w = if f < 0.0 { (f - 0.5) as i32 } else { (f + 0.5) as i32 };
            if w == 0 && score != 0 {
                w = if factor > 0.0 {
                    1
                } else if factor < 0.0 {
                    -1
                } else {
                    0
                };
            }
            let new = (Score::from(w) + Score::from(*weight)).value();
            if only_positive && new < 0 && *weight > 0 {
                *weight = INFINITY_HACK;
                continue;
            }
            if only_positive && new < 0 && *weight == 0 {
                continue;
            }
            *weight = new;
        }
    }

}

/// `best_node_score_matching_attr`: the highest score among the
/// candidates (available allowed nodes' attribute values and scores)
/// whose value is `value`, compared case-insensitively as Pacemaker does;
/// -INFINITY when none (or no value).
fn best_score_matching(candidates: &[(&str, i32)], value: Option<&str>) -> i32 {
    let mut best = Score::MINUS_INFINITY.value();
    let Some(value) = value else { return best };
    for (v, s) in candidates {
        if *s > best && v.eq_ignore_ascii_case(value) {
            best = *s;
        }
    }
    best
}

/// The factor a colocation further down a chain is merged with: its own
/// score over INFINITY, signed by the factor so far — not scaled by it.
/// Pacemaker 2.1.5 keeps only the sign (`multiplier`), so a mandatory
/// anti-colocation two steps away still weighs in fully: a resource
/// whose weak anti-colocated dependent has a group banned from two nodes
/// colocated -INFINITY with it gets those -INFINITY scores too (checked
/// against 2.1.5 on generated CIBs, docs/PENGINE.md).
fn chained_factor(factor: f32, score: Score) -> f32 {
    let multiplier = if factor < 0.0 { -1.0 } else { 1.0 };
    multiplier * score.value() as f32 / Score::INFINITY.value() as f32
}

impl Scheduler<'_> {
    /// `anti_colocation_order`: whatever makes `first` lose its role
    /// comes before whatever makes `then` gain its own (stop before
    /// start, a demote before a promote), as a mandatory anti-colocation
    /// orders them in both directions.
    fn anti_colocation_order(&mut self, first: RscId, first_role: Role, then: RscId, then_role: Role) {
        let first_tasks: &[&str] = match first_role {
            Role::Promoted => &["demote"],
            Role::Unpromoted => &["stop", "promote"],
            _ => &["stop"],
        };
        let then_tasks: &[&str] = match then_role {
            Role::Promoted => &["promote"],
            Role::Unpromoted => &["start", "demote"],
            _ => &["start"],
        };
        let flags = crate::orderings::OrderFlags { optional: true, anti_colocation: true, ..Default::default() };
        for f in first_tasks {
            for t in then_tasks {
                self.order(crate::orderings::Side::Task(first, (*f).into()), crate::orderings::Side::Task(then, (*t).into()), flags);
            }
        }
    }
}

fn variant_rank(v: &Variant) -> u8 {
    match v {
        Variant::Primitive(_) => 0,
        Variant::Group => 1,
        Variant::Clone(_) => 2,
        Variant::Bundle => 3,
    }
}
