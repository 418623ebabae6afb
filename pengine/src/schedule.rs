//! Stages 2 to 7 of the pipeline: from an unpacked [`WorkingSet`] to
//! allocation scores, an assignment of resources to nodes, the actions
//! that carry it out and the "Transition Summary" lines
//! (Pacemaker's `pcmk__schedule_actions`).
//!
//! ```text
//!  WorkingSet ─ location (constraints, rules) ─ node_criteria (stickiness,
//!    fail counts, Heartbeat failure stickiness) ─ colocation (unpack, group
//!    internals) ─ assign (colocation scores, best node) ─ actions (start,
//!    stop, recurring monitors, group pseudo-actions) ─ summary
//! ```
//!
//! Every stage is an `impl Scheduler` block in its own module; the state
//! they share lives here. Iteration is over arenas and `BTreeMap`s, so the
//! output is byte-stable.

use std::collections::BTreeMap;

use cib::model::{Cib, Score};

use crate::actions::Action;
use crate::colocation::Colocation;
use crate::summary::SummaryItem;
use crate::working_set::{NodeId, RscId, WorkingSet};

/// Per-resource assignment state (Pacemaker's `pe_rsc_provisional`,
/// `pe_rsc_allocating`, `pe_rsc_merging` flags and `allocated_to`).
#[derive(Debug, Clone, Default)]
pub struct AssignState {
    /// Not assigned yet.
    pub provisional: bool,
    /// Being assigned (detects colocation loops).
    pub allocating: bool,
    /// Its colocated scores are being merged (detects loops).
    pub merging: bool,
    pub allocated_to: Option<NodeId>,
    /// Colocations where this resource is the dependent ("this with"),
    /// in Pacemaker's order (primary priority, variant, id).
    pub this_with: Vec<usize>,
    /// Colocations where this resource is the primary ("with this").
    pub with_this: Vec<usize>,
    /// `resource-stickiness` (or Heartbeat's default).
    pub stickiness: Score,
    /// Promotable clone instances: the priority Pacemaker repurposes as
    /// the promotion score while roles are chosen (`None`: the
    /// `priority` meta-attribute).
    pub priority: Option<Score>,
    /// Promotable clone instances: the promotion order
    /// (`pe_resource_t.sort_index`).
    pub sort_index: Score,
}

/// One line of `crm_simulate -s`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreLine {
    /// The Pacemaker function that printed it (`pcmk__primitive_assign`...).
    pub function: &'static str,
    pub rsc: String,
    pub node: String,
    pub score: Score,
}

impl std::fmt::Display for ScoreLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.function == "promotion-score" {
            // A promotable instance's final promotion order on its node.
            return write!(f, "{} promotion score on {}: {}", self.rsc, self.node, self.score);
        }
        write!(f, "{}: {} allocation score on {}: {}", self.function, self.rsc, self.node, self.score)
    }
}

/// The scheduler's working state; see the module documentation.
#[derive(Debug)]
pub struct Scheduler<'c> {
    pub ws: WorkingSet,
    pub cib: &'c Cib,
    /// The configuration's primitives by id (operation parameters are
    /// looked up for every recorded operation).
    pub primitives: cib::op_digest::PrimitiveIndex<'c>,
    /// Configured (not orphaned) resources by id, the first in arena
    /// order (constraints name them).
    pub configured: std::collections::HashMap<String, RscId>,
    /// Indexed by [`RscId`].
    pub assign: Vec<AssignState>,
    /// Resources assigned to each node so far (tie-breaker when sorting
    /// nodes), indexed by [`NodeId`].
    pub num_resources: Vec<u32>,
    pub colocations: Vec<Colocation>,
    pub scores: Vec<ScoreLine>,
    pub actions: Vec<Action>,
    /// Orderings as configured or implied, before resolution.
    pub orderings: Vec<crate::orderings::Ordering>,
    /// Orderings resolved to pairs of actions.
    pub edges: Vec<crate::orderings::Edge>,
    /// Index of actions by (resource, task key, node) for lookups.
    pub action_index: BTreeMap<(Option<RscId>, String, Option<NodeId>), usize>,
    /// `clone-one-or-more` pseudo-actions: how many of their firsts must
    /// be runnable (`required_runnable_before`; 1 when absent).
    pub one_or_more_min: BTreeMap<usize, usize>,
    /// Score changes and where they came from, when explaining
    /// (`crate::explain`).
    pub ledger: Option<crate::explain::Ledger>,
    /// The contributions behind each primitive's printed scores.
    pub explanations: Vec<crate::explain::Explanation>,
    /// Location constraints limited to the Promoted role, per resource
    /// named by the constraint (`rsc_location` lists): they add to a
    /// promotable instance's promotion priority, not to its placement.
    pub promoted_locations: BTreeMap<RscId, Vec<(NodeId, Score)>>,
    /// Live migration flags of actions (`crate::migration`).
    pub migration: crate::migration::MigrationState,
    /// Capacities, utilization and the placement strategy
    /// (`crate::utilization`).
    pub utilization: crate::utilization::UtilizationState,
    /// Actions in the graph even when optional (`pe_action_print_always`;
    /// `crate::pending_start`).
    pub always_in_graph: std::collections::BTreeSet<usize>,
    /// Information lines Pacemaker's scheduler prints through the tool's
    /// output (`out->info`) in the order met: crm_verify shows them.
    pub notices: Vec<String>,
}

/// What scheduling produced.
#[derive(Debug)]
pub struct Schedule {
    pub ws: WorkingSet,
    /// Node each resource was assigned to (indexed by [`RscId`]).
    pub allocated_to: Vec<Option<NodeId>>,
    /// `-s` lines in the order Pacemaker prints them.
    pub scores: Vec<ScoreLine>,
    pub actions: Vec<Action>,
    /// Orderings between actions.
    pub edges: Vec<crate::orderings::Edge>,
    pub summary: Vec<SummaryItem>,
    /// With [`schedule_explained`]: the contributions to each
    /// `pcmk__primitive_assign` score line.
    pub explanations: Vec<crate::explain::Explanation>,
    /// Live migration flags of actions (`crate::migration`).
    pub migration: crate::migration::MigrationState,
    /// Actions in the graph even when optional (`crate::pending_start`).
    pub always_in_graph: std::collections::BTreeSet<usize>,
    /// See [`Scheduler::notices`].
    pub notices: Vec<String>,
}

impl Schedule {
    /// The "Transition Summary" lines, formatted as Pacemaker prints them
    /// (columns widen as longer names are met, as Pacemaker's static
    /// widths do).
    pub fn summary_lines(&self) -> Vec<String> {
        crate::summary::format_items(&self.summary)
    }
}

/// Runs every scheduling stage on an unpacked working set.
pub fn schedule(cib: &Cib, ws: WorkingSet) -> Schedule {
    run(cib, ws, false)
}

/// [`schedule`], also recording what each allocation score is made of
/// (`crm_simulate --explain`); the scores are the same.
pub fn schedule_explained(cib: &Cib, ws: WorkingSet) -> Schedule {
    run(cib, ws, true)
}

fn run(cib: &Cib, ws: WorkingSet, explain: bool) -> Schedule {
    let n_rsc = ws.resources.len();
    let n_nodes = ws.nodes.len();
    let primitives = cib::op_digest::PrimitiveIndex::new(cib);
    let utilization = crate::utilization::UtilizationState::new(&primitives, &ws);
    let mut configured = std::collections::HashMap::new();
    for (i, r) in ws.resources.iter().enumerate() {
        if !r.flags.orphan {
            configured.entry(r.id.clone()).or_insert(RscId(i));
        }
    }
    let mut s = Scheduler {
        ws,
        cib,
        primitives,
        configured,
        assign: vec![AssignState { provisional: true, ..Default::default() }; n_rsc],
        num_resources: vec![0; n_nodes],
        colocations: Vec::new(),
        scores: Vec::new(),
        actions: Vec::new(),
        action_index: BTreeMap::new(),
        orderings: Vec::new(),
        one_or_more_min: BTreeMap::new(),
        edges: Vec::new(),
        ledger: explain.then(Default::default),
        explanations: Vec::new(),
        promoted_locations: BTreeMap::new(),
        migration: Default::default(),
        utilization,
        always_in_graph: Default::default(),
        notices: Vec::new(),
    };
    // Scores set while unpacking: bans of orphans and failed resources.
    s.note(|_| "status (failure handling while unpacking)".to_string());
    s.apply_target_roles();
    s.ban_fencing_devices_from_remote_nodes();
    s.apply_node_health();
    s.unpack_colocations();
    s.apply_locations();
    s.apply_tickets();
    s.note(|_| "rsc_ticket (ticket not granted or standby)".to_string());
    s.apply_node_criteria();
    s.create_group_internal_colocations();
    s.assign_all();
    s.create_early_actions();
    s.clear_failcounts_for_param_changes();
    s.handle_config_changes();
    s.schedule_probes();
    s.clear_orphan_failcounts();
    s.create_all_actions();
    s.represent_pending_starts();
    s.schedule_unfencing();
    s.schedule_fencing_and_shutdowns();
    s.create_load_stopped_actions();
    s.create_orderings();
    s.order_migration_equivalents();
    s.resolve_orderings();
    s.relax_dangling_edges();
    s.order_probes();
    // After the probes walked the orderings as configured (Pacemaker
    // remaps while propagating).
    s.remap_collective_firsts();
    s.propagate();
    s.create_notifications();
    s.order_after_notifications();
    s.add_load_orderings();
    let summary = s.summarize();
    Schedule {
        edges: s.edges,
        allocated_to: s.assign.iter().map(|a| a.allocated_to).collect(),
        ws: s.ws,
        scores: s.scores,
        actions: s.actions,
        summary,
        explanations: s.explanations,
        migration: s.migration,
        always_in_graph: s.always_in_graph,
        notices: s.notices,
    }
}

impl Scheduler<'_> {
    /// `target-role` gives the next role of resources the history did not
    /// already decide (Pacemaker applies it while unpacking).
    fn apply_target_roles(&mut self) {
        for i in 0..self.ws.resources.len() {
            let r = &self.ws.resources[i];
            let Some(req) = r.meta("target-role").and_then(cib::model::Role::parse) else { continue };
            if req == cib::model::Role::Unknown {
                continue;
            }
            // Promoted is what a promotable clone does anyway, and roles
            // above Started mean nothing outside one (`get_target_role`).
            let promotable = self.ws.rsc(self.ws.top(RscId(i))).flags.promotable;
            if req > cib::model::Role::Started && (!promotable || req > cib::model::Role::Unpromoted) {
                continue;
            }
            // A group's target-role reaches its members through meta
            // inheritance; Started means "no limit".
            if req == cib::model::Role::Started {
                continue;
            }
            let r = &mut self.ws.resources[i];
            if r.next_role == cib::model::Role::Unknown || req < r.next_role {
                r.next_role = req;
            }
        }
    }

    /// `resource_location`: adds `score` on `node` (or every node) to a
    /// resource and its descendants; a new entry starts from the node's
    /// own weight, as Pacemaker copies the node.
    pub(crate) fn resource_location(&mut self, rsc: RscId, node: Option<NodeId>, score: Score) {
        let nodes: Vec<NodeId> = match node {
            Some(n) => vec![n],
            None => (0..self.ws.nodes.len()).map(NodeId).collect(),
        };
        for r in self.ws.subtree(rsc) {
            for n in &nodes {
                self.add_node_score(r, *n, score);
            }
        }
    }

    pub(crate) fn add_node_score(&mut self, rsc: RscId, node: NodeId, score: Score) {
        let base = self.ws.node(node).weight;
        if self.ledger.is_some() && base != Score::ZERO && !self.ws.rsc(rsc).allowed_nodes.contains_key(&node) {
            // A new entry starts from the node's weight: explain it apart
            // from the score being added.
            let label = format!("node {} weight (offline, shutting down or configured)", self.ws.node(node).uname);
            if let Some(l) = self.ledger.as_mut() {
                l.record_start(rsc, node, label, base);
            }
        }
        let e = self.ws.resources[rsc.0].allowed_nodes.entry(node).or_insert(base);
        *e += score;
    }

    /// Pacemaker's `pcmk__node_available(node, consider_score, false)`.
    pub(crate) fn node_available(&self, node: NodeId, score: Option<Score>) -> bool {
        let n = self.ws.node(node);
        if !n.online || n.shutdown || n.unclean || n.standby || n.maintenance {
            return false;
        }
        !matches!(score, Some(s) if s.value() < 0)
    }

    /// The node a resource is active on (`pe__current_node`: the first).
    pub(crate) fn current_node(&self, rsc: RscId) -> Option<NodeId> {
        self.ws.rsc(rsc).running_on.first().copied()
    }

    /// Resource priority (`priority` meta-attribute).
    pub(crate) fn priority(&self, rsc: RscId) -> Score {
        if let Some(p) = self.assign[rsc.0].priority {
            return p;
        }
        self.ws.rsc(rsc).meta("priority").map_or(Score::ZERO, Score::parse)
    }
}
