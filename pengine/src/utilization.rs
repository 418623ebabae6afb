//! Node capacity, resource utilization and the placement strategies
//! (Pacemaker 2.1.5's `pcmk_sched_utilization.c`, and what
//! `placement-strategy` changes in `pcmk__sort_nodes`,
//! `pcmk__sort_resources` and `pcmk__primitive_internal_constraints`).
//!
//! ```text
//!  node <utilization> (capacity) ─┐
//!  resource <utilization> ────────┼─> ban nodes short of capacity ─> assign_best_node
//!  placement-strategy ────────────┘   sort nodes / resources
//!                                     load_stopped_NODE pseudo-actions + orderings
//! ```
//!
//! Under the `default` strategy nothing here changes anything. Otherwise:
//!
//! - top-level resources are assigned by priority, then by their score
//!   where they run, then by their best score on any node
//!   ([`Scheduler::sort_resources_for_placement`]);
//! - before a primitive picks its node, nodes without room for it and
//!   for the unassigned resources that must run with it (mandatory
//!   colocations, both ways) are banned; when no node has room for all of
//!   them, only nodes without room for the primitive itself are, and the
//!   node with the most free capacity is preferred
//!   ([`Scheduler::ban_insufficient_capacity`]);
//! - nodes of equal score are sorted by free capacity first (`balanced`)
//!   or only by name (`minimal`) ([`Scheduler::cmp_equal_score_nodes`]);
//! - each managed primitive with utilization gets "stop, then
//!   `load_stopped_NODE`" for the nodes it runs on and "`load_stopped_NODE`,
//!   then start (or migrate_to)" for the nodes it may run on; such an
//!   ordering only counts between actions on the same node (for
//!   migrate_to: the node it migrates to) whose first side happens
//!   ([`Scheduler::create_load_stopped_actions`],
//!   [`Scheduler::add_load_orderings`]).
//!
//! A node's free capacity is not stored: it is its configured capacity
//! minus the utilization of the primitives assigned to it so far, so
//! whatever assigns or takes back an assignment keeps it right.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use cib::model::{Role, Score};

use crate::nvsets::{as_written, unpack_into};
use crate::orderings::{Edge, OrderFlags};
use crate::rules::RuleInput;
use crate::schedule::Scheduler;
use crate::working_set::{NodeId, RscId, Variant, WorkingSet};

/// Amounts by utilization name (`cpu`, `memory`...).
pub type Amounts = BTreeMap<String, i64>;

/// The `placement-strategy` cluster option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Utilization is ignored; equal scores go to the node with the fewest
    /// resources.
    #[default]
    Default,
    /// Nodes must have room for what they run.
    Utilization,
    /// As `utilization`, but equal scores go to the first node by name,
    /// filling nodes one at a time.
    Minimal,
    /// As `utilization`, but equal scores go to the node with the most
    /// free capacity.
    Balanced,
}

impl Strategy {
    /// Any case; an invalid value means `default`, as Pacemaker's option
    /// check replaces it.
    pub fn parse(value: &str) -> Strategy {
        match value.to_ascii_lowercase().as_str() {
            "utilization" => Strategy::Utilization,
            "minimal" => Strategy::Minimal,
            "balanced" => Strategy::Balanced,
            _ => Strategy::Default,
        }
    }
}

/// A load ordering before it is resolved to actions
/// (`pe_order_load`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoadOrder {
    /// The resource's stop, then this `load_stopped` action.
    StopThenLoad { rsc: RscId, load: usize },
    /// This `load_stopped` action, then the resource's start.
    LoadThenStart { load: usize, rsc: RscId },
    /// This `load_stopped` action, then the resource's migrate_to.
    LoadThenMigrate { load: usize, rsc: RscId },
}

/// What the scheduler knows about utilization.
#[derive(Debug, Clone, Default)]
pub struct UtilizationState {
    pub strategy: Strategy,
    /// Each primitive's utilization, indexed by [`RscId`] (empty for
    /// other resources).
    pub rsc: Vec<Amounts>,
    /// Each node's configured capacity, indexed by [`NodeId`].
    pub capacity: Vec<Amounts>,
    /// Load orderings, resolved once requiredness is final.
    loads: Vec<LoadOrder>,
}

/// `utilization_value`: an integer (leading digits, as strtoll reads
/// them), clamped to C's `int`; anything else counts as 0.
pub fn utilization_value(text: &str) -> i64 {
    crate::rules::scan_ll(text).map_or(0, |v| v.clamp(i32::MIN as i64, i32::MAX as i64))
}

impl UtilizationState {
    /// Reads the strategy, every node's capacity and every primitive's
    /// utilization (template included, rules evaluated at `ws.now`).
    pub fn new(primitives: &cib::op_digest::PrimitiveIndex<'_>, ws: &WorkingSet) -> UtilizationState {
        let strategy = Strategy::parse(&ws.options.placement_strategy);
        let to_amounts = |table: &BTreeMap<String, String>| -> Amounts { table.iter().map(|(k, v)| (k.clone(), utilization_value(v))).collect() };
        let capacity = ws.nodes.iter().map(|n| to_amounts(&n.utilization)).collect();
        let input = RuleInput { now: ws.now, ..Default::default() };
        let rsc = ws
            .resources
            .iter()
            .map(|r| {
                if !r.is_primitive() {
                    return Amounts::new();
                }
                let mut table = BTreeMap::new();
                if let Some((p, _)) = primitives.get(&r.xml_id) {
                    unpack_into(&mut table, &p.utilization, None, &input, false, as_written);
                }
                to_amounts(&table)
            })
            .collect();
        UtilizationState { strategy, rsc, capacity, loads: Vec::new() }
    }
}


/// `have_enough_capacity`: every amount `needed` fits in `free` (a name
/// the node lacks has room for nothing above 0).
pub fn have_enough_capacity(free: &Amounts, needed: &Amounts) -> bool {
    needed.iter().all(|(k, v)| *v <= free.get(k).copied().unwrap_or(0))
}

/// `pcmk__compare_node_capacities`: negative when `a` has more free
/// capacity than `b` (counted per utilization name), positive when `b`
/// has, 0 when they tie.
pub fn compare_capacities(a: &Amounts, b: &Amounts) -> i32 {
    let mut result = 0;
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for k in names {
        let (x, y) = (a.get(k).copied().unwrap_or(0), b.get(k).copied().unwrap_or(0));
        match x.cmp(&y) {
            Ordering::Greater => result -= 1,
            Ordering::Less => result += 1,
            Ordering::Equal => {}
        }
    }
    result
}

/// Pacemaker's `crm_str_hash` (`g_str_hash_traditional`: h * 31 + c
/// over the bytes as signed chars), which its node tables use.
fn crm_str_hash(key: &str) -> u32 {
    key.bytes().fold(0u32, |h, b| h.wrapping_shl(5).wrapping_sub(h).wrapping_add(b as i8 as i32 as u32))
}

/// The order Pacemaker iterates a resource's allowed-node table: filled
/// in node order, then copied `copies` times (each copy inserts in the
/// order the previous table iterates, which moves colliding keys).
pub fn node_table_order(keys: &[&str], copies: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    for _ in 0..=copies {
        let reordered: Vec<&str> = order.iter().map(|i| keys[*i]).collect();
        order = glib_iteration_order(&reordered).into_iter().map(|j| order[j]).collect();
    }
    order
}

/// The order in which GLib (2.74, Debian's) iterates a string-keyed hash
/// table (keyed with [`crm_str_hash`]) after `keys` were inserted in the
/// given order: open addressing over `size` buckets (a power of two,
/// from 8), first probe at `hash * 11 % prime`, quadratic steps, grown by
/// reinsertion when 15/16 full. Returns indexes into `keys`.
pub fn glib_iteration_order(keys: &[&str]) -> Vec<usize> {
    const PRIMES: [u32; 16] = [1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749];
    struct Table {
        shift: usize,
        hashes: Vec<u32>,
        slots: Vec<Option<usize>>,
        nnodes: usize,
        noccupied: usize,
    }
    impl Table {
        fn with_shift(shift: usize) -> Table {
            Table { shift, hashes: vec![0; 1 << shift], slots: vec![None; 1 << shift], nnodes: 0, noccupied: 0 }
        }
        fn index(&self, hash: u32) -> usize {
            (hash.wrapping_mul(11) % PRIMES[self.shift.min(PRIMES.len() - 1)]) as usize
        }
        fn insert(&mut self, hash: u32, key: usize) {
            let mask = self.hashes.len() - 1;
            let (mut i, mut step) = (self.index(hash), 0);
            while self.hashes[i] != 0 {
                step += 1;
                i = (i + step) & mask;
            }
            self.hashes[i] = hash;
            self.slots[i] = Some(key);
            self.nnodes += 1;
            self.noccupied += 1;
            let size = self.hashes.len();
            if (size > self.nnodes * 4 && size > 8) || size <= self.noccupied + self.noccupied / 16 {
                self.resize();
            }
        }
        /// `g_hash_table_resize`: a size for `nnodes * 1.333`, entries
        /// moved in bucket order, each evicting what sits where it goes.
        fn resize(&mut self) {
            let target = (self.nnodes as f64 * 1.333) as usize;
            let shift = (usize::BITS - target.leading_zeros()) as usize;
            let old_size = self.hashes.len();
            self.shift = shift.max(3);
            let size = 1usize << self.shift;
            self.hashes.resize(size.max(old_size), 0);
            self.slots.resize(size.max(old_size), None);
            let mask = size - 1;
            let mut moved = vec![false; size.max(old_size)];
            for i in 0..old_size {
                if self.hashes[i] < 2 {
                    self.hashes[i] = 0;
                    continue;
                }
                if moved[i] {
                    continue;
                }
                let mut hash = std::mem::take(&mut self.hashes[i]);
                let mut key = self.slots[i].take();
                loop {
                    let (mut j, mut step) = (self.index(hash), 0);
                    while moved[j] {
                        step += 1;
                        j = (j + step) & mask;
                    }
                    moved[j] = true;
                    let replaced = std::mem::replace(&mut self.hashes[j], hash);
                    let evicted = std::mem::replace(&mut self.slots[j], key);
                    if replaced < 2 {
                        break;
                    }
                    hash = replaced;
                    key = evicted;
                }
            }
            self.hashes.truncate(size);
            self.slots.truncate(size);
            self.noccupied = self.nnodes;
        }
    }
    let mut t = Table::with_shift(3);
    for (k, key) in keys.iter().enumerate() {
        let h = crm_str_hash(key);
        t.insert(if h < 2 { 2 } else { h }, k);
    }
    t.slots.into_iter().flatten().collect()
}

impl Scheduler<'_> {
    /// Whether the strategy looks at utilization at all.
    pub(crate) fn uses_utilization(&self) -> bool {
        self.utilization.strategy != Strategy::Default
    }

    /// Each node's free capacity now: its capacity minus what the
    /// primitives assigned to it use (`pcmk__consume_node_capacity` for
    /// each assignment so far).
    pub(crate) fn free_capacities(&self) -> Vec<Amounts> {
        let mut free = self.utilization.capacity.clone();
        for (i, a) in self.assign.iter().enumerate() {
            let Some(n) = a.allocated_to else { continue };
            if !self.ws.resources[i].is_primitive() {
                continue;
            }
            for (k, v) in &self.utilization.rsc[i] {
                *free[n.0].entry(k.clone()).or_insert(0) -= v;
            }
        }
        free
    }

    /// Free capacities when the strategy sorts nodes by them (`balanced`).
    pub(crate) fn capacities_for_sorting(&self) -> Option<Vec<Amounts>> {
        (self.utilization.strategy == Strategy::Balanced).then(|| self.free_capacities())
    }

    /// Reorders nodes as `g_hash_table_get_values` lists a resource's
    /// allowed nodes (reverse iteration order, the table filled in node
    /// order), the order Pacemaker starts sorting them from.
    pub(crate) fn in_hash_values_order(&self, r: RscId, nodes: &mut Vec<(NodeId, Score)>) {
        nodes.sort_by_key(|(n, _)| *n);
        let ids: Vec<&str> = nodes.iter().map(|(n, _)| self.ws.node(*n).id.as_str()).collect();
        let order = node_table_order(&ids, self.node_table_copies(r));
        *nodes = order.into_iter().rev().map(|i| nodes[i]).collect();
    }

    /// How many times Pacemaker has replaced a primitive's allowed-node
    /// table by a copy when it is assigned: once per colocation applied
    /// to it ("this with", `pcmk__apply_coloc_to_weights`) and once per
    /// dependent whose scores it took ("with this", merge). An estimate
    /// from the colocation lists: enough for the common cases.
    fn node_table_copies(&self, r: RscId) -> usize {
        let a = &self.assign[r.0];
        a.this_with.len() + a.with_this.iter().filter(|c| self.has_influence(**c)).count()
    }

    /// How `pcmk__sort_nodes` orders two nodes of equal score: `minimal`
    /// by name only; `balanced` by free capacity first; then fewer
    /// resources assigned, then the preferred (current) node, then name.
    pub(crate) fn cmp_equal_score_nodes(&self, free: &Option<Vec<Amounts>>, a: NodeId, b: NodeId, preferred: Option<NodeId>) -> Ordering {
        let by_name = || self.ws.node(a).uname.as_bytes().cmp(self.ws.node(b).uname.as_bytes());
        if self.utilization.strategy == Strategy::Minimal {
            return by_name();
        }
        if let Some(free) = free {
            match compare_capacities(&free[a.0], &free[b.0]) {
                r if r < 0 => return Ordering::Less,
                r if r > 0 => return Ordering::Greater,
                _ => {}
            }
        }
        self.num_resources[a.0]
            .cmp(&self.num_resources[b.0])
            .then_with(|| match preferred {
                Some(p) if p == a => Ordering::Less,
                Some(p) if p == b => Ordering::Greater,
                _ => Ordering::Equal,
            })
            .then_with(by_name)
    }

    /// `pcmk__ban_insufficient_capacity`: bans `r` from the nodes that
    /// lack room for it and for the unassigned resources that must run
    /// with it; when no node has room for all of them, only from the
    /// nodes that lack room for `r` itself, and returns the node with
    /// the most free capacity for `r` to prefer.
    pub(crate) fn ban_insufficient_capacity(&mut self, r: RscId) -> Option<NodeId> {
        if !self.uses_utilization() {
            return None;
        }
        let mut colocated = Vec::new();
        self.colocated_resources(r, r, &mut colocated);
        if !colocated.contains(&r) {
            colocated.push(r);
        }
        let mut together = Amounts::new();
        for c in &colocated {
            self.add_utilization(*c, &colocated, &mut together);
        }
        let free = self.free_capacities();
        // Pacemaker walks the allowed nodes in hash-table order, which
        // decides between equally free nodes.
        let allowed: Vec<(NodeId, Score)> = self.ws.rsc(r).allowed_nodes.iter().map(|(n, s)| (*n, *s)).collect();
        let ids: Vec<&str> = allowed.iter().map(|(n, _)| self.ws.node(*n).id.as_str()).collect();
        let available: Vec<NodeId> = node_table_order(&ids, self.node_table_copies(r)).into_iter().map(|i| allowed[i]).filter(|(n, s)| self.node_available(*n, Some(*s))).map(|(n, _)| n).collect();
        let mut any_capable = false;
        let mut most_free: Option<NodeId> = None;
        for n in &available {
            any_capable |= have_enough_capacity(&free[n.0], &together);
            if most_free.is_none_or(|m| compare_capacities(&free[n.0], &free[m.0]) < 0) {
                most_free = Some(*n);
            }
        }
        let needed = if any_capable { together } else { self.utilization.rsc[r.0].clone() };
        for n in available {
            if !have_enough_capacity(&free[n.0], &needed) {
                self.resource_location(r, Some(n), Score::MINUS_INFINITY);
            }
        }
        self.note(|s| format!("utilization: not enough capacity for {}", s.ws.rsc(r).id));
        if any_capable {
            None
        } else {
            most_free
        }
    }

    /// `colocated_resources`: `rsc` and what must run where it runs,
    /// following mandatory colocations both ways (from `orig`, not back
    /// to it). A colocated group brings all its members.
    fn colocated_resources(&self, rsc: RscId, orig: RscId, out: &mut Vec<RscId>) {
        if let Variant::Group = self.ws.rsc(rsc).variant {
            let members = self.ws.rsc(rsc).children.clone();
            let cloned = self.ws.rsc(rsc).parent.is_some_and(|p| self.ws.rsc(p).clone_info().is_some());
            let take = if self.group_colocated(rsc) || cloned { members.len() } else { 1 };
            for m in members.into_iter().take(take) {
                self.colocated_resources(m, orig, out);
            }
        }
        if out.contains(&rsc) {
            return;
        }
        out.push(rsc);
        for c in self.assign[rsc.0].this_with.clone() {
            let col = &self.colocations[c];
            if col.primary == orig {
                continue;
            }
            if col.score == Score::INFINITY && self.colocation_moves(rsc, col.primary, c) {
                self.colocated_resources(col.primary, orig, out);
            }
        }
        let is_clone = self.ws.rsc(rsc).clone_info().is_some();
        for c in self.assign[rsc.0].with_this.clone() {
            let col = &self.colocations[c];
            if col.dependent == orig {
                continue;
            }
            // Whether an instance will end up with a non-clone dependent
            // cannot be known here.
            if is_clone && self.ws.rsc(col.dependent).clone_info().is_none() {
                continue;
            }
            if col.score == Score::INFINITY && self.colocation_moves(col.dependent, rsc, c) {
                self.colocated_resources(col.dependent, orig, out);
            }
        }
    }

    /// `pcmk__colocation_affects(..., preview)` is "location": whether
    /// colocation `c` would decide where `dep` runs, whatever has been
    /// assigned so far.
    fn colocation_moves(&self, dep: RscId, primary: RscId, c: usize) -> bool {
        let col = &self.colocations[c];
        let in_promotable = self.ws.rsc(dep).parent.is_some_and(|p| self.ws.rsc(p).flags.promotable);
        if col.dependent_role >= Role::Unpromoted && in_promotable && !self.assign[dep.0].provisional {
            return false;
        }
        if col.dependent_role != Role::Unknown && col.dependent_role != self.ws.rsc(dep).next_role {
            return false;
        }
        col.primary_role == Role::Unknown || col.primary_role == self.ws.rsc(primary).next_role
    }

    /// `add_utilization`: adds what `rsc` will use if it is not assigned
    /// yet: a primitive its own; a colocated group its members not
    /// counted on their own (else its first member); a clone one
    /// instance (those of its instances that are counted on their own
    /// count already, else its first).
    fn add_utilization(&self, rsc: RscId, all: &[RscId], sum: &mut Amounts) {
        if !self.assign[rsc.0].provisional {
            return;
        }
        let res = self.ws.rsc(rsc);
        match &res.variant {
            Variant::Primitive(_) => {
                for (k, v) in &self.utilization.rsc[rsc.0] {
                    *sum.entry(k.clone()).or_insert(0) += v;
                }
            }
            Variant::Group => {
                let take = if self.group_colocated(rsc) { res.children.len() } else { 1 };
                for m in res.children.iter().take(take) {
                    if self.assign[m.0].provisional && !all.contains(m) {
                        self.add_utilization(*m, all, sum);
                    }
                }
            }
            Variant::Clone(_) => {
                let mut existing = false;
                for child in &res.children {
                    if all.contains(child) {
                        existing = true;
                    } else if self.ws.rsc(*child).children.iter().any(|m| all.contains(m)) {
                        // A cloned group: count the instance, not the member.
                        self.add_utilization(*child, all, sum);
                        existing = true;
                    }
                }
                if let (false, Some(first)) = (existing, res.children.first()) {
                    self.add_utilization(*first, all, sum);
                }
            }
            Variant::Bundle => {}
        }
    }

    /// `pcmk__sort_resources`: under a strategy other than `default`,
    /// top-level resources are assigned by descending priority, then by
    /// their score on the node they run on, then by their score on each
    /// node in turn (nodes sorted as for assignment).
    pub(crate) fn sort_resources_for_placement(&mut self) {
        if !self.uses_utilization() {
            return;
        }
        let free = self.capacities_for_sorting();
        let mut nodes: Vec<NodeId> = (0..self.ws.nodes.len()).map(NodeId).collect();
        let weight = |s: &Self, n: NodeId| if s.node_available(n, None) { s.ws.node(n).weight } else { Score::MINUS_INFINITY };
        crate::unpack::history::glib_sort(&mut nodes, &|a, b| weight(self, *b).cmp(&weight(self, *a)).then_with(|| self.cmp_equal_score_nodes(&free, *a, *b, None)));
        let mut tops = self.ws.top_level.clone();
        let scores: BTreeMap<RscId, BTreeMap<NodeId, i32>> = tops.iter().map(|r| (*r, self.scores_with_primaries(*r))).collect();
        let priority = |r: RscId| self.ws.rsc(r).meta("priority").map_or(Score::ZERO, Score::parse);
        let score_on = |r: RscId, n: Option<NodeId>| n.and_then(|n| scores[&r].get(&n).copied()).unwrap_or(Score::MINUS_INFINITY.value());
        let current = |r: RscId| self.ws.locations(r, false).first().copied();
        let cmp = |a: &RscId, b: &RscId| -> Ordering {
            priority(*b)
                .cmp(&priority(*a))
                .then_with(|| score_on(*b, current(*b)).cmp(&score_on(*a, current(*a))))
                .then_with(|| {
                    for n in &nodes {
                        match score_on(*b, Some(*n)).cmp(&score_on(*a, Some(*n))) {
                            Ordering::Equal => continue,
                            other => return other,
                        }
                    }
                    Ordering::Equal
                })
        };
        crate::unpack::history::glib_sort(&mut tops, &cmp);
        self.ws.top_level = tops;
    }

    /// A resource's node scores plus, scaled by each colocation's score,
    /// those of the resources it is colocated with (its primaries,
    /// recursively) — what `cmp_resources` compares. A group counts as
    /// its last member, which is colocated with the one before it and so
    /// on, plus the group's own colocations (Pacemaker's merge on a
    /// group starts from its last member; checked against Pacemaker on
    /// bug-lf-2619 and random CIBs).
    fn scores_with_primaries(&self, r: RscId) -> BTreeMap<NodeId, i32> {
        let start = match self.ws.rsc(r).variant {
            Variant::Group => self.ws.rsc(r).children.last().copied().unwrap_or(r),
            _ => r,
        };
        let mut work: BTreeMap<NodeId, i32> = self.ws.rsc(start).allowed_nodes.iter().map(|(n, s)| (*n, s.value())).collect();
        let mut visiting = vec![start];
        if start != r {
            visiting.push(r);
        }
        for c in self.assign[start.0].this_with.iter().chain(if start != r { self.assign[r.0].this_with.iter() } else { [].iter() }) {
            let col = &self.colocations[*c];
            let factor = col.score.value() as f32 / Score::INFINITY.value() as f32;
            self.merge_primary_scores(col.primary, &mut work, col.node_attribute.as_deref(), factor, &mut visiting);
        }
        work
    }

    /// Adds `rsc`'s best score among nodes sharing each node's value of
    /// `attr` (scaled), then follows `rsc`'s own primaries; undone when it
    /// would leave no node available (Pacemaker's rollback).
    fn merge_primary_scores(&self, rsc: RscId, work: &mut BTreeMap<NodeId, i32>, attr: Option<&str>, factor: f32, visiting: &mut Vec<RscId>) {
        if visiting.contains(&rsc) {
            return;
        }
        visiting.push(rsc);
        let mut copy = work.clone();
        let members: Vec<RscId> = match self.ws.rsc(rsc).variant {
            Variant::Group => self.ws.rsc(rsc).children.clone(),
            _ => vec![rsc],
        };
        let attr = attr.unwrap_or("#uname");
        for m in &members {
            for (node, weight) in copy.iter_mut() {
                let value = self.ws.node(*node).attr(attr);
                let best = self
                    .ws
                    .rsc(*m)
                    .allowed_nodes
                    .iter()
                    .filter(|(n, _)| self.node_available(**n, None) && value.is_some() && self.ws.node(**n).attr(attr).map(str::to_ascii_lowercase) == value.map(str::to_ascii_lowercase))
                    .map(|(_, s)| s.value())
                    .max()
                    .unwrap_or(Score::MINUS_INFINITY.value());
                if factor < 0.0 && best < 0 {
                    continue;
                }
                let f = factor * best as f32;
                let mut add = if f < 0.0 { (f - 0.5) as i32 } else { (f + 0.5) as i32 };
                if add == 0 && best != 0 {
                    add = if factor > 0.0 { 1 } else { -1 };
                }
                *weight = (Score::from(add) + Score::from(*weight)).value();
            }
        }
        if copy.iter().any(|(n, s)| *s >= 0 && self.node_available(*n, None)) {
            let sign = if factor < 0.0 { -1.0 } else { 1.0 };
            for c in self.assign[rsc.0].this_with.clone() {
                let col = &self.colocations[c];
                let f = sign * col.score.value() as f32 / Score::INFINITY.value() as f32;
                self.merge_primary_scores(col.primary, &mut copy, col.node_attribute.as_deref(), f, visiting);
            }
            *work = copy;
        }
        visiting.pop();
    }

    /// `pcmk__create_utilization_constraints` for every managed
    /// primitive with utilization, in assignment order: creates the
    /// `load_stopped_NODE` pseudo-actions (required) and records the
    /// load orderings, resolved by [`Self::add_load_orderings`].
    pub(crate) fn create_load_stopped_actions(&mut self) {
        if !self.uses_utilization() {
            return;
        }
        for top in self.ws.top_level.clone() {
            for r in self.ws.subtree(top) {
                let res = self.ws.rsc(r);
                if !res.is_primitive() || !res.flags.managed || self.utilization.rsc[r.0].is_empty() {
                    continue;
                }
                for n in res.running_on.clone() {
                    let load = self.load_stopped(n);
                    self.utilization.loads.push(LoadOrder::StopThenLoad { rsc: r, load });
                }
                for n in self.ws.rsc(r).allowed_nodes.keys().copied().collect::<Vec<_>>() {
                    let load = self.load_stopped(n);
                    self.utilization.loads.push(LoadOrder::LoadThenStart { load, rsc: r });
                    self.utilization.loads.push(LoadOrder::LoadThenMigrate { load, rsc: r });
                }
            }
        }
    }

    /// `new_load_stopped_op`: the required pseudo-action
    /// `load_stopped_NODE`, created once per node.
    fn load_stopped(&mut self, node: NodeId) -> usize {
        let name = format!("load_stopped_{}", self.ws.node(node).uname);
        let a = self.pseudo_action(&name);
        if self.actions[a].node.is_none() {
            self.actions[a].node = Some(node);
            self.actions[a].optional = false;
        }
        a
    }

    /// Whether an action will be in the transition graph (required,
    /// runnable, and a pseudo-action or on a node that is up).
    fn will_run(&self, a: usize) -> bool {
        let act = &self.actions[a];
        if act.optional || !act.runnable {
            return false;
        }
        act.pseudo || act.rsc.is_none() || act.node.is_some_and(|n| self.ws.node(n).online && !self.ws.node(n).unclean)
    }

    /// Adds the load orderings that order anything, once requiredness
    /// and runnability are final (Pacemaker drops the others while
    /// building the graph): both actions in the graph, on the same node
    /// (for a migrate_to, the node the resource migrates to). A
    /// `load_stopped` before a migrate_to that would close a loop (two
    /// resources migrating in opposite directions) is dropped
    /// (`pcmk__disable_invalid_orderings`).
    pub(crate) fn add_load_orderings(&mut self) {
        let loads = std::mem::take(&mut self.utilization.loads);
        let plain = OrderFlags { optional: true, ..Default::default() };
        let mut seen: BTreeSet<(usize, usize)> = BTreeSet::new();
        let mut migrations: Vec<(usize, usize)> = Vec::new();
        for lo in &loads {
            match *lo {
                LoadOrder::StopThenLoad { rsc, load } => {
                    for a in self.actions_of(rsc, "stop") {
                        if self.actions[a].node == self.actions[load].node && self.will_run(a) && self.will_run(load) && seen.insert((a, load)) {
                            self.edges.push(Edge { first: a, then: load, flags: plain });
                        }
                    }
                }
                LoadOrder::LoadThenStart { load, rsc } => {
                    for a in self.actions_of(rsc, "start") {
                        if self.actions[a].node == self.actions[load].node && self.will_run(a) && self.will_run(load) && seen.insert((load, a)) {
                            self.edges.push(Edge { first: load, then: a, flags: plain });
                        }
                    }
                }
                LoadOrder::LoadThenMigrate { load, rsc } => {
                    let target = self.assign[rsc.0].allocated_to;
                    for a in self.actions_of(rsc, "migrate_to") {
                        if target.is_some() && self.actions[load].node == target && self.will_run(a) && self.will_run(load) && seen.insert((load, a)) {
                            migrations.push((load, a));
                        }
                    }
                }
            }
        }
        // Loops are looked for with every candidate in place, newest
        // migrate_to first, as Pacemaker walks its action list (which it
        // builds by prepending): the first orderings found in a loop go.
        migrations.sort_by_key(|(_, m)| std::cmp::Reverse(*m));
        let mut kept: Vec<bool> = vec![true; migrations.len()];
        for i in 0..migrations.len() {
            let (load, migrate) = migrations[i];
            let extra: Vec<(usize, usize)> = migrations.iter().zip(&kept).enumerate().filter(|(j, (_, k))| *j != i && **k).map(|(_, (e, _))| *e).collect();
            if self.reaches(migrate, load, &extra) {
                kept[i] = false;
            }
        }
        for ((load, migrate), keep) in migrations.into_iter().zip(kept) {
            if keep {
                self.edges.push(Edge { first: load, then: migrate, flags: plain });
            }
        }
    }

    /// Actions of `rsc` with this task (interval 0), on any node.
    fn actions_of(&self, rsc: RscId, task: &str) -> Vec<usize> {
        self.actions.iter().filter(|a| a.rsc == Some(rsc) && a.task == task && a.interval_ms == 0).map(|a| a.id).collect()
    }

    /// Whether `to` follows `from` through orderings between actions in
    /// the graph (plus `extra` ones).
    fn reaches(&self, from: usize, to: usize, extra: &[(usize, usize)]) -> bool {
        let mut next: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for e in &self.edges {
            if e.flags.none || e.flags.derived || !self.will_run(e.first) || !self.will_run(e.then) {
                continue;
            }
            next.entry(e.first).or_default().push(e.then);
        }
        for (f, t) in extra {
            next.entry(*f).or_default().push(*t);
        }
        let mut seen = BTreeSet::from([from]);
        let mut queue = VecDeque::from([from]);
        while let Some(a) = queue.pop_front() {
            for t in next.get(&a).into_iter().flatten() {
                if *t == to {
                    return true;
                }
                if seen.insert(*t) {
                    queue.push_back(*t);
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amounts(pairs: &[(&str, i64)]) -> Amounts {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn hash_order_is_glibs() {
        // "n2" hashes to bucket 1, "n1" to bucket 4 of 8 (prime 7).
        assert_eq!(glib_iteration_order(&["n1", "n2"]), vec![1, 0]);
        // All five collide in bucket 4: quadratic probing places them,
        // and a copy (inserting in iteration order) moves them (seen in
        // Pacemaker's own traces for these node ids).
        let ids = ["1000", "1007", "1014", "1021", "1028"];
        assert_eq!(node_table_order(&ids, 0), vec![3, 0, 1, 4, 2]);
        assert_eq!(node_table_order(&ids, 1), vec![4, 3, 0, 2, 1]);
        // Every key comes out once, also across a resize.
        let keys: Vec<String> = (0..40).map(|i| format!("node-{i}")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut order = glib_iteration_order(&refs);
        order.sort();
        assert_eq!(order, (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn strategy_names_any_case_and_invalid_is_default() {
        assert_eq!(Strategy::parse("Balanced"), Strategy::Balanced);
        assert_eq!(Strategy::parse("minimal"), Strategy::Minimal);
        assert_eq!(Strategy::parse("UTILIZATION"), Strategy::Utilization);
        assert_eq!(Strategy::parse("roundrobin"), Strategy::Default);
    }

    #[test]
    fn values_are_leading_integers_clamped_to_int() {
        assert_eq!(utilization_value("512"), 512);
        assert_eq!(utilization_value("-3"), -3);
        assert_eq!(utilization_value("12abc"), 12);
        assert_eq!(utilization_value("lots"), 0);
        assert_eq!(utilization_value("99999999999"), i32::MAX as i64);
    }

    #[test]
    fn enough_capacity_needs_every_name() {
        let free = amounts(&[("cpu", 2), ("memory", 1024)]);
        assert!(have_enough_capacity(&free, &amounts(&[("cpu", 2), ("memory", 512)])));
        assert!(!have_enough_capacity(&free, &amounts(&[("cpu", 3)])));
        // A name the node lacks has no room.
        assert!(!have_enough_capacity(&free, &amounts(&[("disk", 1)])));
        assert!(have_enough_capacity(&free, &amounts(&[("disk", 0)])));
    }

    #[test]
    fn capacities_compare_name_by_name() {
        let a = amounts(&[("cpu", 2), ("memory", 512)]);
        let b = amounts(&[("cpu", 1), ("memory", 1024)]);
        assert_eq!(compare_capacities(&a, &b), 0, "one name each way");
        let c = amounts(&[("cpu", 4), ("memory", 1024)]);
        assert!(compare_capacities(&c, &b) < 0);
        assert!(compare_capacities(&b, &c) > 0);
        // Missing names count as 0.
        assert!(compare_capacities(&amounts(&[("disk", 1)]), &Amounts::new()) < 0);
    }
}
