//! Live migration (Pacemaker 2.1.5's `pcmk_sched_migration.c` and the
//! migration parts of `native_create_actions`, `update_action` and the
//! graph producer).
//!
//! A primitive with `allow-migrate=true` that moves from one healthy
//! node to another is not stopped and started: the agent's `migrate_to`
//! runs on the source, then `migrate_from` on the target, then the stop
//! on the source (which only cleans up), and the start becomes a
//! pseudo-action that marks the resource running on the target.
//!
//! ```text
//!   rsc_migrate_to (source) ─> rsc_migrate_from (target) ─> rsc_stop (source)
//!                                            └─────────────> rsc_start (pseudo)
//! ```
//!
//! The pieces, in pipeline order:
//!
//! - While actions are created ([`Scheduler::abort_dangling_migrations`],
//!   [`Scheduler::continues_partial_migration`],
//!   [`Scheduler::create_migration_actions_if_allowed`]): the stop left by
//!   a dangling migration; a partial migration (migrate_to done,
//!   migrate_from pending) continues with only a `migrate_from` when the
//!   target is still the chosen node; otherwise a migration is created
//!   when the resource moves, is managed, not failed, no start pending.
//!   Start and stop are flagged *migrate-runnable* (they can be carried
//!   out by the migration).
//! - Orderings ([`Scheduler::order_migration_equivalents`]): an ordering
//!   between two resources' starts, stops, promotes or demotes is
//!   doubled by one on the migration actions, so a migration still
//!   waits for what a restart would have waited for.
//! - Propagation (hooks in `orderings.rs`): `implies_first_migratable`
//!   makes a migrate action unrunnable once the stop or start it stands
//!   for can no longer be migrated; `pseudo_left` turns the pseudo start
//!   back into a real one when the migration cannot run. Anything that
//!   forces a start or stop for its own sake takes away its
//!   migrate-runnable flag.
//! - Output: the graph drops orderings that only apply to non-migrating
//!   firsts ([`Schedule::migration_skips_input`]), migrate actions carry
//!   `CRM_meta_migrate_source`/`_target` ([`Schedule::add_migration_meta`]),
//!   and the Transition Summary says `Migrate` (in `summary.rs`).
//!
//! The state lives in [`MigrationState`], a side table by action index,
//! so that the action type stays the same for every other stage.

use std::collections::{BTreeMap, BTreeSet};

use cib::model::Role;
use tengine::graph::Attributes;

use crate::orderings::{Edge, OrderFlags, Side};
use crate::schedule::{Schedule, Scheduler};
use crate::working_set::{NodeId, RscId};

/// Migration flags of actions, by action index.
#[derive(Debug, Clone, Default)]
pub struct MigrationState {
    /// Actions that a migration may carry out (`pe_action_migrate_runnable`):
    /// the migrating resource's start and stop, and its migrate actions.
    pub migrate_runnable: BTreeSet<usize>,
    /// Stops scheduled on the source of a dangling migration
    /// (`pe_action_dangle`): they do not make the resource's start
    /// required.
    pub dangling_stops: BTreeSet<usize>,
    /// `migrate_to` / `migrate_from` actions: (source, target) for the
    /// graph's meta-attributes.
    pub endpoints: BTreeMap<usize, (NodeId, NodeId)>,
}

impl Scheduler<'_> {
    /// `allow-migrate` (Pacemaker's `pe_rsc_allow_migrate`); remote node
    /// connections migrate unless told not to.
    pub(crate) fn migratable(&self, r: RscId) -> bool {
        let res = self.ws.rsc(r);
        match res.meta("allow-migrate") {
            Some(v) => crate::nvsets::is_true(Some(v)),
            None => res.is_remote_node,
        }
    }

    pub(crate) fn is_migrate_runnable(&self, a: usize) -> bool {
        self.migration.migrate_runnable.contains(&a)
    }

    /// Clears an action's migrate-runnable flag because of `cause`; the
    /// reason (overwriting) names the cause when it belongs to another
    /// resource, as `pe_action_set_flag_reason` does. Returns whether it
    /// changed.
    pub(crate) fn clear_migrate_runnable(&mut self, a: usize, cause: usize) -> bool {
        if !self.migration.migrate_runnable.remove(&a) {
            return false;
        }
        if self.actions[a].rsc != self.actions[cause].rsc {
            let c = &self.actions[cause];
            let why = match c.rsc {
                Some(r) => format!("unrunnable {} {}", self.ws.rsc(r).id, c.task),
                None => format!("unrunnable {}", c.task),
            };
            self.actions[a].reason = Some(why);
        }
        true
    }

    /// A clone's stop pseudo-action does not keep what depends on the
    /// clone from migrating, unless an instance both stops and starts
    /// (`allow_dependent_migrations` in `clone_create_pseudo_actions`):
    /// the stop is flagged migrate-runnable, so a migrating resource's
    /// stop ordered before it stays migrate-runnable.
    pub(crate) fn allow_dependent_migrations(&mut self, clone: RscId) {
        // One pass over the actions (clones may have many instances).
        let mut instance_of: BTreeMap<RscId, usize> = BTreeMap::new();
        for (i, inst) in self.ws.rsc(clone).children.iter().enumerate() {
            for p in self.ws.subtree(*inst) {
                instance_of.insert(p, i);
            }
        }
        let mut seen = vec![(false, false); self.ws.rsc(clone).children.len()];
        for a in self.actions.iter().filter(|a| a.interval_ms == 0 && !a.optional) {
            let Some(i) = a.rsc.and_then(|r| instance_of.get(&r).copied()) else { continue };
            match a.task.as_str() {
                "stop" if a.runnable || a.pseudo => seen[i].0 = true,
                "start" if a.runnable => seen[i].1 = true,
                _ => {}
            }
        }
        if seen.iter().any(|(stopping, starting)| *stopping && *starting) {
            return;
        }
        if let Some(stop) = self.find_action(clone, "stop", None) {
            self.migration.migrate_runnable.insert(stop);
        }
    }

    /// Whether an action is a migrate action that takes over its
    /// start's requirements (fencing, quorum): the `migrate_to`, or the
    /// `migrate_from` of a partial migration (`migrate_to->needs =
    /// start->needs`).
    pub(crate) fn needs_like_start(&self, a: usize) -> bool {
        let act = &self.actions[a];
        if !self.migration.endpoints.contains_key(&a) {
            return false;
        }
        act.task == "migrate_to" || (act.task == "migrate_from" && act.rsc.is_some_and(|r| self.ws.rsc(r).partial_migration_target.is_some()))
    }

    /// Stops on the sources of dangling migrations
    /// (`pcmk__abort_dangling_migration`).
    pub(crate) fn abort_dangling_migrations(&mut self, r: RscId) {
        for node in self.ws.rsc(r).dangling_migrations.clone() {
            let stop = self.custom_action(Some(r), "stop", 0, Some(node), false);
            self.migration.dangling_stops.insert(stop);
        }
    }

    /// Whether a partial migration goes on: active on exactly its source
    /// and target, both clean, the source is the current node and the
    /// target still the chosen one.
    pub(crate) fn continues_partial_migration(&self, r: RscId, current: Option<NodeId>, num_all: usize, num_clean: usize) -> bool {
        let res = self.ws.rsc(r);
        let (Some(src), Some(tgt)) = (res.partial_migration_source, res.partial_migration_target) else { return false };
        num_all == 2 && num_clean == 2 && current == Some(src) && self.assign[r.0].allocated_to == Some(tgt)
    }

    /// A multiply active resource forgets its partial migration: it is
    /// stopped everywhere instead.
    pub(crate) fn abandon_partial_migration(&mut self, r: RscId) {
        let res = &mut self.ws.resources[r.0];
        res.partial_migration_source = None;
        res.partial_migration_target = None;
    }

    /// A stop on a node of a partially migrated resource: `None` to skip
    /// it (the target, when it is still the chosen node: the migration
    /// continues there), else whether it stays optional (any other stop
    /// is forced).
    pub(crate) fn partial_migration_stop(&self, r: RscId, node: NodeId, optional: bool) -> Option<bool> {
        match self.ws.rsc(r).partial_migration_target {
            Some(t) if t == node && self.assign[r.0].allocated_to == Some(node) => None,
            Some(_) => Some(false),
            None => Some(optional),
        }
    }

    /// The end of `native_create_actions`: migrate when the resource
    /// moves and nothing forbids it. `allowed`: migratable and not
    /// multiply active.
    pub(crate) fn create_migration_actions_if_allowed(&mut self, r: RscId, current: Option<NodeId>, is_moving: bool, allowed: bool) {
        let res = self.ws.rsc(r);
        let chosen = self.assign[r.0].allocated_to;
        if !allowed {
            return;
        }
        if let Some(t) = res.partial_migration_target {
            if chosen != Some(t) {
                // Stuck in a migration to a node no longer chosen: a full
                // stop and start.
                return;
            }
        } else if !is_moving || !res.flags.managed || res.flags.failed || res.flags.start_pending || res.next_role < Role::Started || current.is_some_and(|c| self.ws.node(c).unclean) {
            return;
        }
        let (Some(current), Some(chosen)) = (current, chosen) else { return };
        if self.ws.node(chosen).unclean {
            return;
        }
        self.create_migration_actions(r, current, chosen);
    }

    /// `handle_migration_actions` / `pcmk__create_migration_actions`.
    fn create_migration_actions(&mut self, r: RscId, current: NodeId, chosen: NodeId) {
        let partial = self.ws.rsc(r).partial_migration_target.is_some();
        let start = self.custom_action(Some(r), "start", 0, Some(chosen), true);
        let stop = self.custom_action(Some(r), "stop", 0, Some(current), true);
        let migrate_to = (!partial).then(|| self.custom_action(Some(r), "migrate_to", 0, Some(current), true));
        let migrate_from = self.custom_action(Some(r), "migrate_from", 0, Some(chosen), true);
        let opt = OrderFlags { optional: true, ..Default::default() };
        let task = |t: &str| Side::Task(r, t.to_string());
        self.migration.migrate_runnable.extend([start, stop, migrate_from]);
        // Easier than taking the start out of the graph.
        self.actions[start].pseudo = true;
        if let Some(to) = migrate_to {
            self.migration.migrate_runnable.insert(to);
            // A migrate_to needs what the start needs (quorum).
            if !self.actions[start].runnable && self.actions[start].reason.as_deref().is_some_and(|w| w.contains("quorum")) {
                self.actions[to].runnable = false;
            }
            // Probe, then migrate_to, then migrate_from.
            self.order(task("monitor"), task("migrate_to"), opt);
            self.order(task("migrate_to"), task("migrate_from"), OrderFlags { implies_first_migratable: true, ..opt });
        } else {
            // The migrate_to already happened: probe, then migrate_from.
            self.order(task("monitor"), task("migrate_from"), opt);
        }
        self.order(task("migrate_from"), task("stop"), OrderFlags { implies_first_migratable: true, ..opt });
        self.order(task("migrate_from"), task("start"), OrderFlags { implies_first_migratable: true, pseudo_left: true, ..opt });
        if let Some(to) = migrate_to {
            self.migration.endpoints.insert(to, (current, chosen));
        }
        self.migration.endpoints.insert(migrate_from, (current, chosen));
    }

    /// `pcmk__order_migration_equivalents` for every ordering made so
    /// far: orderings between starts, stops, promotes and demotes of two
    /// unrelated resources, at least one of them migratable, are doubled
    /// on the migration actions. Only orderings whose two sides exist
    /// are added: Pacemaker's orderings from an action that was never
    /// scheduled are optional here and change nothing.
    pub(crate) fn order_migration_equivalents(&mut self) {
        if !(0..self.ws.resources.len()).any(|r| self.migratable(RscId(r))) {
            return;
        }
        let opt = OrderFlags { optional: true, ..Default::default() };
        let mut new = Vec::new();
        for o in &self.orderings {
            let (Some((first, ftask)), Some((then, ttask))) = (self.side_rsc_task(&o.first), self.side_rsc_task(&o.then)) else { continue };
            // An order after a collective waits for its completion
            // (`running`...); Pacemaker doubles it before that mapping.
            let ftask = if self.ws.rsc(first).is_primitive() { ftask } else { started_task(&ftask).to_string() };
            if first == then || self.is_ancestor(first, then) || self.is_ancestor(then, first) {
                continue;
            }
            let first_m = self.migratable(first);
            let then_m = self.migratable(then);
            if !first_m && !then_m {
                continue;
            }
            let non_migratable = OrderFlags { apply_first_non_migratable: first_m, ..opt };
            match (ftask.as_str(), ttask.as_str()) {
                ("start", "start") => {
                    if first_m && then_m {
                        new.push((first, "migrate_from", then, "migrate_to", opt));
                    }
                    if then_m {
                        new.push((first, "start", then, "migrate_to", non_migratable));
                    }
                }
                ("stop", "stop") if then_m => {
                    // A restarting first stops before the then migrates.
                    new.push((first, "stop", then, "migrate_to", non_migratable));
                    if self.ws.rsc(then).partial_migration_target.is_some() {
                        new.push((first, "stop", then, "migrate_from", non_migratable));
                    }
                }
                ("promote", "start") if then_m => new.push((first, "promote", then, "migrate_to", opt)),
                ("demote", "stop") if then_m => {
                    new.push((first, "demote", then, "migrate_to", opt));
                    if self.ws.rsc(then).partial_migration_target.is_some() {
                        new.push((first, "demote", then, "migrate_from", opt));
                    }
                }
                _ => {}
            }
        }
        let existing: BTreeSet<(RscId, &str)> = self.actions.iter().filter(|a| a.interval_ms == 0).filter_map(|a| a.rsc.map(|r| (r, a.task.as_str()))).collect();
        let new: Vec<_> = new
            .into_iter()
            .map(|(f, ft, t, tt, flags)| (f, if self.ws.rsc(f).is_primitive() { ft } else { completed_task(ft) }, t, tt, flags))
            .filter(|(f, ft, t, tt, _)| existing.contains(&(*f, *ft)) && existing.contains(&(*t, *tt)))
            .collect();
        for (f, ft, t, tt, flags) in new {
            self.order(Side::Task(f, ft.to_string()), Side::Task(t, tt.to_string()), flags);
        }
    }

    /// Whether `anc` is a parent (or further up) of `r` (`is_parent`).
    fn is_ancestor(&self, anc: RscId, r: RscId) -> bool {
        let mut p = self.ws.rsc(r).parent;
        while let Some(x) = p {
            if x == anc {
                return true;
            }
            p = self.ws.rsc(x).parent;
        }
        false
    }

    /// The resource and task of one side of an ordering, when it names a
    /// resource.
    fn side_rsc_task(&self, side: &Side) -> Option<(RscId, String)> {
        match side {
            Side::Task(r, t) => Some((*r, t.clone())),
            Side::Action(a) => self.actions[*a].rsc.map(|r| (r, self.actions[*a].task.clone())),
        }
    }

    /// A dangling migration's stop does not imply the resource's own
    /// later actions (`rsc_order_then`: "dangling migration ordering").
    pub(crate) fn relax_dangling_edges(&mut self) {
        if self.migration.dangling_stops.is_empty() {
            return;
        }
        for e in &mut self.edges {
            if self.migration.dangling_stops.contains(&e.first) && self.actions[e.then].rsc == self.actions[e.first].rsc {
                e.flags.implies_then = false;
            }
        }
    }

    /// The migration rules of `update_action` for one ordering (first
    /// `f`, then `t`); returns whether then and first changed.
    pub(crate) fn apply_migration_edge(&mut self, flags: OrderFlags, f: usize, t: usize) -> (bool, bool) {
        let (mut then_changed, mut first_changed) = (false, false);
        if flags.implies_first_migratable {
            let then_migrates = self.actions[t].runnable && self.is_migrate_runnable(t);
            if !then_migrates && self.actions[f].runnable {
                self.actions[f].runnable = false;
                self.note_reason(f, t, "unrunnable");
                first_changed = true;
            }
            if !self.actions[t].optional && self.actions[f].optional {
                self.actions[f].optional = false;
                self.note_reason(f, t, "required");
                first_changed = true;
            }
        }
        if flags.pseudo_left && !self.actions[f].runnable {
            if self.clear_migrate_runnable(t, f) {
                then_changed = true;
            }
            if self.actions[t].pseudo {
                self.actions[t].pseudo = false;
                then_changed = true;
            }
        }
        (then_changed, first_changed)
    }

    fn note_reason(&mut self, a: usize, cause: usize, change: &str) {
        if self.actions[a].rsc == self.actions[cause].rsc || self.actions[a].reason.is_some() {
            return;
        }
        let c = &self.actions[cause];
        let why = match c.rsc {
            Some(r) => format!("{change} {} {}", self.ws.rsc(r).id, c.task),
            None => format!("{change} {}", c.task),
        };
        self.actions[a].reason = Some(why);
    }

    /// The runnable `migrate_from` of a resource on a node, for the
    /// Transition Summary's "Migrate" line.
    pub(crate) fn migrate_from_on(&self, r: RscId, node: Option<NodeId>) -> Option<usize> {
        node.and_then(|n| self.find_action(r, "migrate_from", Some(n)))
    }
}

/// The task a collective's completion pseudo-action completes
/// (`running` -> `start`...).
fn started_task(task: &str) -> &str {
    match task {
        "running" => "start",
        "stopped" => "stop",
        "promoted" => "promote",
        "demoted" => "demote",
        other => other,
    }
}

/// The inverse of [`started_task`].
fn completed_task(task: &'static str) -> &'static str {
    match task {
        "start" => "running",
        "stop" => "stopped",
        "promote" => "promoted",
        "demote" => "demoted",
        other => other,
    }
}

impl Schedule {
    /// Orderings the graph leaves out because of migrations
    /// (`should_add_input_to_graph`): those that apply only when first
    /// does not migrate, and plain orderings after a stop that a
    /// migration carries out.
    pub fn migration_skips_input(&self, e: &Edge) -> bool {
        let first_migrates = self.migration.migrate_runnable.contains(&e.first);
        if e.flags.implies_first_migratable && !self.actions[e.first].runnable {
            return true;
        }
        if e.flags.apply_first_non_migratable && first_migrates {
            return true;
        }
        // Our flags do not carry every Pacemaker ordering type: orderings
        // into node-level pseudo-actions (load_stopped_NODE, do_shutdown)
        // are never plain optional there, so they are not dropped here.
        let plain_optional = e.flags == OrderFlags { optional: true, ..Default::default() };
        plain_optional && first_migrates && self.actions[e.then].rsc.is_some() && self.actions[e.first].task == "stop" && self.actions[e.first].interval_ms == 0
    }

    /// `CRM_meta_migrate_source`/`_target` on migrate actions, and
    /// `CRM_meta_record_pending` on `migrate_to` (its effect reaches the
    /// target, so a source lost mid-way must leave a record).
    pub fn add_migration_meta(&self, a: usize, attrs: &mut Attributes) {
        let Some((src, tgt)) = self.migration.endpoints.get(&a) else { return };
        attrs.set("CRM_meta_migrate_source", self.ws.node(*src).uname.clone());
        attrs.set("CRM_meta_migrate_target", self.ws.node(*tgt).uname.clone());
        let remote = self.actions[a].rsc.is_some_and(|r| self.ws.rsc(r).is_remote_node);
        if self.actions[a].task == "migrate_to" && !remote {
            attrs.set("CRM_meta_record_pending", "true");
        }
    }
}
