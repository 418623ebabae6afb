//! Stage 4: assigning resources to nodes (Pacemaker's
//! `pcmk__primitive_assign`, `pcmk__group_assign`, `assign_best_node`).
//!
//! Top-level resources are assigned in priority order. A primitive first
//! has its primaries assigned and follows them ("this with"
//! colocations), folds in the scores of what depends on it ("with this"),
//! prints its scores (`-s`), and then takes the best available node:
//! highest score, then fewest resources already assigned, then the node
//! it runs on, then the lowest name. A score below zero, or a node that
//! cannot run resources, leaves it stopped.
//!
//! A group hands its colocations to its members (the first member takes
//! what the group depends on, the last what depends on the group) and
//! assigns its members in order; the internal colocations keep them
//! together.

use cib::model::{Role, Score};

use crate::colocation::MergeFlags;
use crate::options::NoQuorumPolicy;
use crate::schedule::{ScoreLine, Scheduler};
use crate::working_set::{NodeId, NodeKind, RscId, Variant};

impl Scheduler<'_> {
    /// Assigns every resource (`assign_resources`): remote connections
    /// first, then the rest, in priority order.
    pub(crate) fn assign_all(&mut self) {
        // A placement strategy reorders them (`crate::utilization`).
        self.sort_resources_for_placement();
        let tops = self.ws.top_level.clone();
        for r in &tops {
            if self.ws.rsc(*r).is_remote_node {
                let prefer = self.ws.rsc(*r).partial_migration_target;
                self.assign(*r, prefer);
            }
        }
        for r in &tops {
            if !self.ws.rsc(*r).is_remote_node {
                self.assign(*r, None);
            }
        }
    }

    pub(crate) fn assign(&mut self, r: RscId, prefer: Option<NodeId>) -> Option<NodeId> {
        match self.ws.rsc(r).variant {
            Variant::Primitive(_) => self.primitive_assign(r, prefer),
            Variant::Group => self.group_assign(r, prefer),
            Variant::Clone(_) => {
                self.clone_assign(r);
                None
            }
            Variant::Bundle => {
                // Bundles (tier T5d): their children as independent
                // primitives.
                if !self.assign[r.0].provisional || self.assign[r.0].allocating {
                    return None;
                }
                self.assign[r.0].allocating = true;
                for c in self.ws.rsc(r).children.clone() {
                    self.assign(c, None);
                }
                self.assign[r.0].allocating = false;
                self.assign[r.0].provisional = false;
                None
            }
        }
    }

    pub(crate) fn show_scores(&mut self, function: &'static str, r: RscId) {
        let res = self.ws.rsc(r);
        if res.flags.orphan {
            // Pacemaker does not show orphans' scores.
            return;
        }
        for (n, s) in &res.allowed_nodes {
            self.scores.push(ScoreLine { function, rsc: res.id.clone(), node: self.ws.node(*n).uname.clone(), score: *s });
        }
        for c in res.children.clone() {
            self.show_scores(function, c);
        }
    }

    fn group_assign(&mut self, g: RscId, prefer: Option<NodeId>) -> Option<NodeId> {
        if !self.assign[g.0].provisional {
            return self.assign[g.0].allocated_to;
        }
        if self.assign[g.0].allocating {
            return None;
        }
        let members = self.ws.rsc(g).children.clone();
        let (Some(first), Some(last)) = (members.first().copied(), members.last().copied()) else {
            self.assign[g.0].provisional = false;
            return None;
        };
        self.assign[g.0].allocating = true;
        // "Group with R" becomes "first member with R", "R with group"
        // becomes "R with last member", each kept in order
        // (`expand_group_colocations`).
        // The other members take the group's mandatory colocations too
        // (`pcmk__group_with_colocations`): an unmanaged first member
        // stays where it is, yet the rest may not follow it where the
        // group may not run (colocate-unmanaged-group).
        let others: Vec<RscId> = members.iter().copied().skip(1).collect();
        for c in std::mem::take(&mut self.assign[g.0].this_with) {
            self.add_this_with(first, c);
            if self.colocations[c].score >= Score::INFINITY {
                for m in &others {
                    self.add_this_with(*m, c);
                }
            }
        }
        for c in std::mem::take(&mut self.assign[g.0].with_this) {
            self.add_with_this(last, c);
        }
        self.show_scores("pcmk__group_assign", g);
        let mut group_node = None;
        for m in members {
            let node = self.assign(m, prefer);
            if group_node.is_none() {
                group_node = node;
            }
        }
        let next = self.ws.rsc(first).next_role;
        self.ws.resources[g.0].next_role = next;
        self.assign[g.0].allocating = false;
        self.assign[g.0].provisional = false;
        if self.group_colocated(g) {
            self.assign[g.0].allocated_to = group_node;
            group_node
        } else {
            None
        }
    }

    fn primitive_assign(&mut self, r: RscId, prefer: Option<NodeId>) -> Option<NodeId> {
        if let Some(p) = self.ws.rsc(r).parent {
            if !self.assign[p.0].allocating {
                self.assign(p, prefer);
            }
        }
        if !self.assign[r.0].provisional {
            return self.assign[r.0].allocated_to;
        }
        if self.assign[r.0].allocating {
            return None;
        }
        self.assign[r.0].allocating = true;

        for c in self.assign[r.0].this_with.clone() {
            let col = self.colocations[c].clone();
            let archive = (col.dependent_role >= Role::Promoted || (col.score.value() < 0 && !col.score.is_infinite())).then(|| self.ws.rsc(r).allowed_nodes.clone());
            self.assign(col.primary, None);
            self.apply_coloc_score(c, r);
            if let Some(saved) = archive {
                if !self.any_available(&self.ws.rsc(r).allowed_nodes) {
                    self.ws.resources[r.0].allowed_nodes = saved;
                }
            }
            self.note(|s| {
                let to = s.assign[col.primary.0].allocated_to.map_or("no node".to_string(), |n| s.ws.node(n).uname.clone());
                format!("colocation {} with {} ({to}), score {}", col.id, s.ws.rsc(col.primary).id, col.score)
            });
        }
        for c in self.assign[r.0].with_this.clone() {
            if !self.has_influence(c) {
                continue;
            }
            let col = self.colocations[c].clone();
            let mut nodes = std::mem::take(&mut self.ws.resources[r.0].allowed_nodes);
            let factor = col.score.value() as f32 / Score::INFINITY.value() as f32;
            self.add_colocated_node_scores(col.dependent, &mut nodes, col.node_attribute.as_deref(), factor, MergeFlags { rollback: true, positive: false });
            self.ws.resources[r.0].allowed_nodes = nodes;
            self.note(|s| format!("colocation {}: scores of {} x {factor}", col.id, s.ws.rsc(col.dependent).id));
        }

        let res = self.ws.rsc(r);
        if res.next_role == Role::Stopped {
            self.resource_location(r, None, Score::MINUS_INFINITY);
            self.note(|_| "role Stopped (target-role, or nowhere to run)".to_string());
        } else if res.next_role > res.role && !self.ws.have_quorum && self.ws.options.no_quorum_policy == NoQuorumPolicy::Freeze {
            self.ws.resources[r.0].next_role = res.role;
        }
        self.show_scores("pcmk__primitive_assign", r);
        self.record_explanations(r);

        if self.ws.options.stonith_enabled && !self.have_fencing_device() {
            self.ws.resources[r.0].flags.managed = false;
        }
        if !self.ws.rsc(r).flags.managed {
            let role = self.ws.rsc(r).role;
            self.ws.resources[r.0].next_role = role;
            let current = self.current_node(r);
            self.finalize_assignment(r, current, true);
        } else if self.ws.options.stop_all_resources {
            self.finalize_assignment(r, None, true);
        } else if self.assign[r.0].provisional {
            self.assign_best_node(r, prefer);
        }
        self.assign[r.0].allocating = false;
        if self.ws.rsc(r).is_remote_node {
            self.remote_connection_assigned(r);
        }
        self.assign[r.0].allocated_to
    }

    /// `remote_connection_assigned`: a remote node whose connection will
    /// run is online for the rest of the scheduling, and one never seen
    /// is not fenced after all (the connection is tried instead: "fencing
    /// will be revoked if remote connection can be re-established
    /// elsewhere"); one whose connection stops is shutting down.
    fn remote_connection_assigned(&mut self, r: RscId) {
        let (id, runs) = (self.ws.rsc(r).id.clone(), self.ws.rsc(r).next_role != Role::Stopped);
        let Some(n) = self.ws.nodes.iter().position(|n| n.kind == NodeKind::Remote && n.uname == id) else { return };
        let runs = runs && self.assign[r.0].allocated_to.is_some();
        let node = &mut self.ws.nodes[n];
        if runs {
            node.online = true;
            if node.unseen {
                node.unclean = false;
            }
        } else {
            node.shutdown = true;
        }
    }

    pub(crate) fn have_fencing_device(&self) -> bool {
        // `have-watchdog=true` (SBD self-fencing) counts as a device, as
        // Pacemaker's `unpack_config` sets `pe_flag_have_stonith_resource`.
        let watchdog = crate::nvsets::is_true(self.ws.options.all.get("have-watchdog").map(String::as_str));
        watchdog || self.ws.resources.iter().any(|r| r.primitive().is_some_and(|p| p.class == cib::model::AgentClass::Stonith))
    }

    /// Nodes sorted as `pcmk__sort_nodes` sorts them for a resource.
    pub(crate) fn sorted_nodes(&self, r: RscId, preferred: Option<NodeId>) -> Vec<(NodeId, Score)> {
        let mut nodes: Vec<(NodeId, Score)> = self.ws.rsc(r).allowed_nodes.iter().map(|(n, s)| (*n, *s)).collect();
        let eff = |n: NodeId, s: Score| if self.node_available(n, None) { s } else { Score::MINUS_INFINITY };
        // Equal scores: by the placement strategy (`crate::utilization`).
        let free = self.capacities_for_sorting();
        let cmp = |(a, sa): &(NodeId, Score), (b, sb): &(NodeId, Score)| eff(*b, *sb).cmp(&eff(*a, *sa)).then_with(|| self.cmp_equal_score_nodes(&free, *a, *b, preferred));
        if free.is_some() {
            // Comparing capacities need not be transitive: sort as
            // Pacemaker does, same algorithm from the same start.
            self.in_hash_values_order(r, &mut nodes);
            crate::unpack::history::glib_sort(&mut nodes, &cmp);
        } else {
            nodes.sort_by(cmp);
        }
        nodes
    }

    fn assign_best_node(&mut self, r: RscId, prefer: Option<NodeId>) -> bool {
        // Nodes without room are banned; without room anywhere, the
        // node with the most is preferred (`crate::utilization`).
        let most_free = self.ban_insufficient_capacity(r);
        let prefer = prefer.or(most_free);
        let current = self.current_node(r);
        let nodes = self.sorted_nodes(r, current);
        let best = nodes.first().copied();
        let mut chosen = None;
        if let (Some(p), Some((_, best_score))) = (prefer, best) {
            if let Some(s) = self.ws.rsc(r).allowed_nodes.get(&p).copied() {
                if s >= best_score && self.node_available(p, Some(s)) {
                    chosen = Some((p, s));
                }
            }
        }
        if chosen.is_none() {
            if let Some((bn, bs)) = best {
                chosen = Some((bn, bs));
                let unique_instance = self.ws.rsc(r).parent.is_some_and(|p| self.ws.rsc(p).clone_info().is_some() && self.ws.rsc(p).flags.unique);
                if !unique_instance && bs.value() > 0 && self.node_available(bn, None) {
                    if let Some(run) = current {
                        if self.node_available(run, Some(self.ws.node(run).weight)) {
                            for (n, s) in nodes.iter().skip(1) {
                                if *s != bs {
                                    break;
                                }
                                if *n == run {
                                    chosen = Some((*n, *s));
                                }
                            }
                        }
                    }
                }
            }
        }
        self.finalize_assignment(r, chosen.map(|(n, _)| n), false)
    }

    /// `pcmk__finalize_assignment`.
    pub(crate) fn finalize_assignment(&mut self, r: RscId, chosen: Option<NodeId>, force: bool) -> bool {
        let mut chosen = chosen;
        if !force {
            if let Some(n) = chosen {
                let score = self.ws.rsc(r).allowed_nodes.get(&n).copied().unwrap_or(self.ws.node(n).weight);
                if score.value() < 0 || !self.node_available(n, Some(score)) {
                    self.ws.resources[r.0].next_role = Role::Stopped;
                    chosen = None;
                }
            }
        }
        self.assign[r.0].provisional = false;
        self.assign[r.0].allocated_to = None;
        match chosen {
            None => {
                self.ws.resources[r.0].next_role = Role::Stopped;
                false
            }
            Some(n) => {
                self.assign[r.0].allocated_to = Some(n);
                self.num_resources[n.0] += 1;
                true
            }
        }
    }
}
