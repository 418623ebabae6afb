//! Stage 7: orderings between actions (Pacemaker's
//! `pcmk_sched_ordering.c`, the implicit orderings of primitives and
//! groups, and `update_action` propagation).
//!
//! An ordering says "first, then" between two actions, or between an
//! action and every action of a resource with a task (`rsc_start_0`),
//! resolved once all actions exist. Its flags say what one side does to
//! the other:
//!
//! - `implies_then`: a required first makes then required;
//! - `implies_first`: a required then makes first required;
//! - `runnable_left`: an unrunnable first makes then unrunnable;
//! - `asymmetrical`: like `runnable_left`, for one-way mandatory orders.
//!
//! Propagation runs to a fixed point; the first cause to change an
//! action becomes its reason ("unrunnable rsc1 start", "required rsc1
//! start"), which the Transition Summary prints.

use cib::model::{OrderKind, Role, RscAction};

use crate::schedule::Scheduler;
use crate::working_set::{RscId, Variant};

/// What an ordering does (a subset of Pacemaker's `pe_ordering` bits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderFlags {
    pub implies_then: bool,
    pub implies_first: bool,
    pub runnable_left: bool,
    pub asymmetrical: bool,
    /// Only orders the two if both happen (`optional`, `serialize`).
    pub optional: bool,
    /// `pe_order_none`: kept for bookkeeping, orders nothing.
    pub none: bool,
    /// Then can run once any of its `one_or_more` firsts can.
    pub one_or_more: bool,
    /// A resource's own stop before its start (`pe_order_restart`).
    pub restart: bool,
    /// Only carries flags to a group's members; not an ordering of its
    /// own in the graph.
    pub derived: bool,
    /// A required then (a stop) makes first (a demote) required when
    /// first's resource is promoted (`pe_order_promoted_implies_first`).
    pub promoted_implies_first: bool,
    /// Live migration (`crate::migration`): first can run only if then
    /// can run as part of a migration; a required then makes first
    /// required (`pe_order_implies_first_migratable`).
    pub implies_first_migratable: bool,
    /// Live migration: an unrunnable first turns then (the pseudo start
    /// of a migration) back into a real action (`pe_order_pseudo_left`).
    pub pseudo_left: bool,
    /// Live migration: orders only when first is not part of a
    /// migration (`pe_order_apply_first_non_migratable`).
    pub apply_first_non_migratable: bool,
    /// A required first puts then into the graph without making it
    /// required (`pe_order_implies_then_printed`): an instance's start
    /// before a `clone-one-or-more` pseudo-action.
    pub then_printed: bool,
    /// A required then puts first into the graph
    /// (`pe_order_implies_first_printed`): a clone's start or stop
    /// before its instances'. The clone's summary already does that; the
    /// flag keeps the ordering from reading as a plain optional one.
    pub first_printed: bool,
    /// From a mandatory anti-colocation (`pe_order_anti_colocation`): the
    /// graph keeps it only between actions on the same node (or where
    /// one has no node), and probes inherit it.
    pub anti_colocation: bool,
}

/// One side of an ordering before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    Action(usize),
    /// Every action of the resource with this task (interval 0).
    Task(RscId, String),
}

#[derive(Debug, Clone)]
pub struct Ordering {
    pub first: Side,
    pub then: Side,
    pub flags: OrderFlags,
}

/// A resolved edge between two actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub first: usize,
    pub then: usize,
    pub flags: OrderFlags,
}

fn invert(task: &str) -> Option<&'static str> {
    Some(match task {
        "start" => "stop",
        "stop" => "start",
        "promote" => "demote",
        "demote" => "promote",
        "promoted" => "demoted",
        "demoted" => "promoted",
        "running" => "stopped",
        "stopped" => "running",
        _ => return None,
    })
}

const MANDATORY_RUNNABLE: OrderFlags = OrderFlags { implies_then: true, implies_first: false, runnable_left: true, asymmetrical: false, optional: false, none: false, one_or_more: false, restart: false, derived: false, promoted_implies_first: false, implies_first_migratable: false, pseudo_left: false, apply_first_non_migratable: false, then_printed: false, first_printed: false, anti_colocation: false };

impl Scheduler<'_> {
    pub(crate) fn order(&mut self, first: Side, then: Side, flags: OrderFlags) {
        self.orderings.push(Ordering { first, then, flags });
    }

    fn order_tasks(&mut self, first: RscId, ftask: &str, then: RscId, ttask: &str, flags: OrderFlags) {
        self.order(Side::Task(first, ftask.into()), Side::Task(then, ttask.into()), flags);
    }

    /// The implicit orderings of every resource, then the configured ones.
    pub(crate) fn create_orderings(&mut self) {
        for top in self.ws.top_level.clone() {
            self.internal_orderings(top);
        }
        self.unpack_orders();
    }

    fn internal_orderings(&mut self, r: RscId) {
        match self.ws.rsc(r).variant {
            Variant::Primitive(_) => {
                // Stop before start (a restart or a move).
                let f = OrderFlags { implies_then: true, optional: true, restart: true, ..Default::default() };
                self.order_tasks(r, "stop", r, "start", f);
                if self.ws.rsc(self.ws.top(r)).flags.promotable || self.ws.rsc(r).role > Role::Unpromoted {
                    // Demote before stop, start before promote.
                    self.order_tasks(r, "demote", r, "stop", OrderFlags { promoted_implies_first: true, ..Default::default() });
                    self.order_tasks(r, "start", r, "promote", OrderFlags { runnable_left: true, ..Default::default() });
                }
            }
            Variant::Group => self.group_orderings(r),
            Variant::Clone(_) => {
                // The clone's pseudo-actions bracket every instance (no
                // ordering between instances: tier T3 is not done).
                let opt = OrderFlags { optional: true, ..Default::default() };
                self.order_tasks(r, "stopped", r, "start", opt);
                self.order_tasks(r, "stop", r, "stopped", OrderFlags { runnable_left: true, ..Default::default() });
                self.order_tasks(r, "start", r, "running", OrderFlags { runnable_left: true, ..Default::default() });
                let promotable = self.ws.rsc(r).flags.promotable;
                if promotable {
                    self.order_tasks(r, "demoted", r, "stop", opt);
                    self.order_tasks(r, "running", r, "promote", OrderFlags { runnable_left: true, ..Default::default() });
                }
                // An ordered clone's instances start one after another
                // and stop in reverse.
                let ordered = crate::nvsets::is_true(self.ws.rsc(r).meta("ordered"));
                let mut last: Option<RscId> = None;
                for c in self.ws.rsc(r).children.clone() {
                    self.internal_orderings(c);
                    self.order_tasks(r, "start", c, "start", OrderFlags { runnable_left: true, first_printed: true, ..Default::default() });
                    self.order_tasks(c, "start", r, "running", OrderFlags { implies_then: true, ..Default::default() });
                    if let (true, Some(l)) = (ordered, last) {
                        self.order_tasks(l, "start", c, "start", opt);
                    }
                    self.order_tasks(r, "stop", c, "stop", OrderFlags { first_printed: true, ..Default::default() });
                    self.order_tasks(c, "stop", r, "stopped", OrderFlags { implies_then: true, ..Default::default() });
                    if let (true, Some(l)) = (ordered, last) {
                        self.order_tasks(c, "stop", l, "stop", opt);
                    }
                    last = Some(c);
                }
                if promotable {
                    self.promotable_orderings(r);
                }
            }
            _ => {
                for c in self.ws.rsc(r).children.clone() {
                    self.internal_orderings(c);
                }
            }
        }
    }

    /// `pcmk__order_promotable_instances`: the clone's promote/demote
    /// pseudo-actions bracket the instances', demotions come before
    /// stops, starts and promotions, starts before promotions.
    fn promotable_orderings(&mut self, r: RscId) {
        let opt = OrderFlags { optional: true, ..Default::default() };
        for (f, t) in [("stopped", "start"), ("stopped", "promote"), ("demoted", "stop"), ("demoted", "start"), ("demoted", "promote"), ("running", "promote"), ("demote", "demoted")] {
            self.order_tasks(r, f, r, t, opt);
        }
        for c in self.ws.rsc(r).children.clone() {
            self.order_tasks(c, "demote", c, "promote", opt);
            self.order_tasks(r, "promote", c, "promote", opt);
            self.order_tasks(c, "promote", r, "promoted", opt);
            self.order_tasks(r, "demote", c, "demote", opt);
            self.order_tasks(c, "demote", r, "demoted", OrderFlags { implies_then: true, ..Default::default() });
        }
    }

    /// `pcmk__group_internal_constraints`: members start in order and stop
    /// in reverse; the group's pseudo-actions bracket them.
    fn group_orderings(&mut self, g: RscId) {
        let ordered = self.ws.rsc(g).meta("ordered").is_none_or(|v| crate::nvsets::is_true(Some(v)));
        let opt = OrderFlags { optional: true, ..Default::default() };
        self.order_tasks(g, "stopped", g, "start", opt);
        self.order_tasks(g, "stop", g, "stopped", MANDATORY_RUNNABLE);
        self.order_tasks(g, "start", g, "running", MANDATORY_RUNNABLE);
        let members = self.ws.rsc(g).children.clone();
        let mut last: Option<RscId> = None;
        for m in &members {
            let m = *m;
            self.internal_orderings(m);
            // The group's own stop and start bracket every member (its
            // pseudo-actions take their flags from the members, see
            // `update_group_pseudo_actions`).
            let mut stopped = OrderFlags::default();
            if last.is_none() && ordered {
                stopped = OrderFlags { implies_then: true, ..Default::default() };
            }
            self.order_tasks(g, "stop", m, "stop", OrderFlags { optional: true, ..Default::default() });
            self.order_tasks(m, "stop", g, "stopped", stopped);
            self.order_tasks(m, "start", g, "running", MANDATORY_RUNNABLE);
            if !ordered {
                self.order_tasks(g, "start", m, "start", OrderFlags { implies_first: true, ..MANDATORY_RUNNABLE });
            } else {
                self.order_tasks(g, "start", m, "start", OrderFlags { optional: true, ..Default::default() });
                if let Some(prev) = last {
                    self.order_tasks(prev, "start", m, "start", MANDATORY_RUNNABLE);
                    self.order_tasks(m, "stop", prev, "stop", OrderFlags { optional: true, restart: true, ..Default::default() });
                }
            }
            last = Some(m);
        }
        if let (true, Some(l)) = (ordered, last) {
            self.order_tasks(g, "stop", l, "stop", OrderFlags { implies_then: true, ..Default::default() });
            self.order_tasks(l, "stop", g, "stopped", opt);
        }
        if self.ws.rsc(self.ws.top(g)).flags.promotable {
            // A cloned group in a promotable clone: its promote/demote
            // bracket the members'; members promote in order and demote
            // in reverse.
            // (No demote → demoted or promote → promoted of the group's
            // own: its members bracket both, `member_internal_constraints`.)
            let mut prev: Option<RscId> = None;
            for m in members {
                self.order_tasks(g, "demote", m, "demote", opt);
                self.order_tasks(m, "demote", g, "demoted", OrderFlags { implies_then: true, ..Default::default() });
                self.order_tasks(m, "promote", g, "promoted", MANDATORY_RUNNABLE);
                self.order_tasks(g, "promote", m, "promote", opt);
                if let (true, Some(p)) = (ordered, prev) {
                    self.order_tasks(p, "promote", m, "promote", MANDATORY_RUNNABLE);
                    self.order_tasks(m, "demote", p, "demote", opt);
                }
                prev = Some(m);
            }
        }
    }

    /// `rsc_order` constraints (simple form and sets).
    fn unpack_orders(&mut self) {
        let cib = self.cib;
        for o in &cib.constraints.orders {
            let kind = o.effective_kind();
            let symmetrical = o.symmetrical.unwrap_or(kind != OrderKind::Serialize);
            if o.sets.is_empty() {
                let (Some(first), Some(then)) = (&o.first, &o.then) else { continue };
                let firsts = self.expand_resource_ref(first);
                let thens = self.expand_resource_ref(then);
                let fa = o.first_action();
                let ta = o.then_action();
                for f in &firsts {
                    for t in &thens {
                        let min = self.clone_min_required(*f, o.require_all);
                        if min > 0 {
                            self.clone_min_order(&o.id, *f, fa, *t, ta, kind, symmetrical, min);
                        } else {
                            self.simple_order(*f, fa, *t, ta, kind, symmetrical);
                        }
                    }
                }
                continue;
            }
            // Sets: within a sequential set each member after the one
            // before it; between sets, the last of one (every member when
            // not sequential) before the first of the next (every member
            // when not sequential). A set with require-all=false goes
            // through a pseudo-action that can run once any member can.
            let mut prev: Option<(Vec<RscId>, RscAction, bool, Option<usize>)> = None;
            for set in &o.sets {
                let rscs: Vec<RscId> = set.resources.iter().flat_map(|r| self.expand_resource_ref(r)).collect();
                let action = set.action.unwrap_or(RscAction::Start);
                let set_kind = set.kind.unwrap_or(kind);
                let sequential = set.sequential.unwrap_or(true);
                if sequential {
                    for w in rscs.windows(2) {
                        self.simple_order(w[0], action, w[1], action, set_kind, symmetrical);
                    }
                }
                let mut any_of = None;
                if !set.require_all.unwrap_or(true) && !sequential {
                    let pseudo = self.pseudo_action(&format!("one-or-more:{}", set.id));
                    for r in &rscs {
                        self.order(Side::Task(*r, action.as_str().into()), Side::Action(pseudo), OrderFlags { one_or_more: true, implies_then: true, ..Default::default() });
                    }
                    any_of = Some(pseudo);
                }
                if let Some((p_rscs, p_action, p_seq, p_any)) = prev {
                    let thens: Vec<RscId> = if sequential { rscs.first().copied().into_iter().collect() } else { rscs.clone() };
                    let flags = flags_for_kind(kind, p_action.as_str(), if symmetrical { Symmetry::Symmetric } else { Symmetry::Asymmetric });
                    if let Some(pseudo) = p_any {
                        for t in &thens {
                            self.order(Side::Action(pseudo), Side::Task(*t, action.as_str().into()), OrderFlags { runnable_left: true, implies_then: true, ..flags });
                        }
                    } else {
                        let firsts: Vec<RscId> = if p_seq { p_rscs.last().copied().into_iter().collect() } else { p_rscs };
                        for f in &firsts {
                            for t in &thens {
                                self.simple_order(*f, p_action, *t, action, kind, symmetrical);
                            }
                        }
                    }
                }
                prev = Some((rscs, action, sequential, any_of));
            }
        }
    }

    /// How many instances of a clone `first` must be able to act before
    /// `then` may: its `clone-min`, or one when the order does not
    /// `require-all`; 0 for an ordinary order.
    fn clone_min_required(&self, first: RscId, require_all: Option<bool>) -> usize {
        let r = self.ws.rsc(first);
        if r.clone_info().is_none() {
            return 0;
        }
        match r.meta("clone-min") {
            Some(v) => crate::rules::scan_ll(v).map_or(0, |n| n.max(0) as usize),
            None if require_all == Some(false) => 1,
            None => 0,
        }
    }

    /// Pacemaker's `clone_min_ordering`: every instance's action before a
    /// `clone-one-or-more:ID` pseudo-action that can run once `min` of
    /// them can, and that before `then`. The inverse order is an ordinary
    /// one.
    #[allow(clippy::too_many_arguments)]
    fn clone_min_order(&mut self, id: &str, first: RscId, fa: RscAction, then: RscId, ta: RscAction, kind: OrderKind, symmetrical: bool, min: usize) {
        let (fas, tas) = (fa.as_str(), ta.as_str());
        let pseudo = self.pseudo_action(&format!("clone-one-or-more:{id}"));
        self.one_or_more_min.insert(pseudo, min);
        for c in self.ws.rsc(first).children.clone() {
            self.order(Side::Task(c, fas.into()), Side::Action(pseudo), OrderFlags { one_or_more: true, then_printed: true, ..Default::default() });
        }
        let flags = flags_for_kind(kind, fas, if symmetrical { Symmetry::Symmetric } else { Symmetry::Asymmetric });
        self.order(Side::Action(pseudo), Side::Task(then, tas.into()), OrderFlags { runnable_left: true, ..flags });
        if !symmetrical {
            return;
        }
        let (Some(fi), Some(ti)) = (invert(fas), invert(tas)) else { return };
        let flags = flags_for_kind(kind, fi, Symmetry::Inverse);
        self.order_tasks(then, ti, first, fi, flags);
    }

    fn simple_order(&mut self, first: RscId, fa: RscAction, then: RscId, ta: RscAction, kind: OrderKind, symmetrical: bool) {
        let (fa, ta) = (fa.as_str(), ta.as_str());
        let flags = flags_for_kind(kind, fa, if symmetrical { Symmetry::Symmetric } else { Symmetry::Asymmetric });
        self.order_tasks(first, fa, then, ta, flags);
        if !symmetrical {
            return;
        }
        let (Some(fi), Some(ti)) = (invert(fa), invert(ta)) else { return };
        let flags = flags_for_kind(kind, fi, Symmetry::Inverse);
        self.order_tasks(then, ti, first, fi, flags);
    }

    /// Turns orderings into edges between existing actions.
    pub(crate) fn resolve_orderings(&mut self) {
        let mut edges = Vec::new();
        // An order into a group's start or stop reaches its members too
        // (Pacemaker updates a group's members with its actions).
        for i in 0..self.orderings.len() {
            let o = self.orderings[i].clone();
            if let Side::Task(g, task) = &o.then {
                let first_rsc = self.side_rsc(&o.first);
                let collective = matches!(self.ws.rsc(*g).variant, Variant::Group | Variant::Clone(_));
                // From outside the collective: another resource, or a
                // pseudo-action of none (`clone-one-or-more`).
                let outside = first_rsc.is_none_or(|f| self.ws.rsc(f).parent != Some(*g) && f != *g);
                if collective && (task == "start" || task == "stop") && outside {
                    // A group's first member (the rest follow it through
                    // the group's own chain); every instance of a clone.
                    let take = if matches!(self.ws.rsc(*g).variant, Variant::Group) { 1 } else { usize::MAX };
                    let members: Vec<RscId> = self.ws.rsc(*g).children.iter().copied().take(take).collect();
                    for m in members {
                        let flags = OrderFlags { implies_first: false, derived: true, ..o.flags };
                        self.orderings.push(Ordering { first: o.first.clone(), then: Side::Task(m, task.clone()), flags });
                    }
                }
            }
        }
        // A "first" that will not happen still orders: it is created,
        // unrunnable (no node), so what depends on it cannot run either
        // (`rsc_order_first`). Stopping something already stopped is no
        // such case. Created before any ordering is resolved, so the
        // resource's own orderings reach it too (but see below).
        let mut placeholders = std::collections::BTreeSet::new();
        // Actions of each resource, kept up to date as placeholders are
        // created: resolving a `Side::Task` looks there instead of
        // scanning every action (quadratic; docs/SCALE.md).
        let mut by_rsc = self.actions_by_rsc();
        for i in 0..self.orderings.len() {
            let o = self.orderings[i].clone();
            let then_rsc = self.side_rsc(&o.then);
            if let Side::Task(fr, task) = &o.first {
                let stopped = self.ws.current_role(*fr) <= cib::model::Role::Stopped;
                if then_rsc.is_none() && self.ws.rsc(*fr).parent.is_none() {
                    continue;
                }
                // Into a pseudo-action of no resource (a clone instance
                // before `clone-one-or-more`), the first is created too.
                if then_rsc != Some(*fr) && !(stopped && task == "stop") && self.side_actions(&by_rsc, &o.first).is_empty() {
                    let a = self.custom_action(Some(*fr), task, 0, None, true);
                    if !by_rsc[fr.0].contains(&a) {
                        by_rsc[fr.0].push(a);
                    }
                    placeholders.insert(a);
                }
            }
        }
        // Pacemaker creates a placeholder while applying the first
        // ordering that needs it. Configured orderings are applied before
        // the implicit ones, so the resource's own stop-then-start reaches
        // a placeholder they need; one only a group's or clone's internal
        // orderings need (a member before the next one or before its
        // collective's completion) comes after the member's own orderings,
        // which never reach it.
        let internal_only: std::collections::BTreeSet<usize> = placeholders
            .iter()
            .copied()
            .filter(|p| {
                let (pr, ptask) = (self.actions[*p].rsc, self.actions[*p].task.clone());
                !self.orderings.iter().any(|o| {
                    let Side::Task(fr, task) = &o.first else { return false };
                    let then_rsc = self.side_rsc(&o.then);
                    let parent = self.ws.rsc(*fr).parent;
                    let internal = then_rsc.is_some_and(|t| parent == Some(t) || (parent.is_some() && self.ws.rsc(t).parent == parent));
                    Some(*fr) == pr && *task == ptask && then_rsc != pr && !internal
                })
            })
            .collect();
        for i in 0..self.orderings.len() {
            let o = self.orderings[i].clone();
            let firsts = self.side_actions(&by_rsc, &o.first);
            let thens = self.side_actions(&by_rsc, &o.then);
            for f in &firsts {
                for t in &thens {
                    // The collective's own action before its member's is
                    // applied before the member's completion ordering
                    // creates the placeholder too
                    // (`member_internal_constraints`).
                    let from_parent = matches!(&o.first, Side::Task(fr, _) if self.actions[*t].rsc.is_some_and(|tr| self.ws.rsc(tr).parent == Some(*fr)));
                    if (o.flags.restart || from_parent) && internal_only.contains(t) {
                        continue;
                    }
                    if f != t {
                        edges.push(Edge { first: *f, then: *t, flags: o.flags });
                    }
                }
            }
        }
        self.edges = edges;
        self.inhibit_uninterleaved_instances();
        self.interleave_instance_edges();
    }

    fn side_rsc(&self, side: &Side) -> Option<RscId> {
        match side {
            Side::Action(a) => self.actions[*a].rsc,
            Side::Task(r, _) => Some(*r),
        }
    }

    /// The actions of a side: one action, or a resource's actions of a
    /// task (interval 0, in creation order) found through `by_rsc`
    /// ([`Self::actions_by_rsc`]).
    fn side_actions(&self, by_rsc: &[Vec<usize>], side: &Side) -> Vec<usize> {
        match side {
            Side::Action(a) => vec![*a],
            Side::Task(r, task) => by_rsc[r.0].iter().copied().filter(|&a| self.actions[a].task == *task && self.actions[a].interval_ms == 0).collect(),
        }
    }

    /// Each resource's actions (indexed by [`RscId`]), in creation order.
    pub(crate) fn actions_by_rsc(&self) -> Vec<Vec<usize>> {
        let mut by_rsc = vec![Vec::new(); self.ws.resources.len()];
        for a in &self.actions {
            if let Some(r) = a.rsc {
                by_rsc[r.0].push(a.id);
            }
        }
        by_rsc
    }

    /// Propagates requiredness and runnability along the edges until
    /// nothing changes.
    pub(crate) fn propagate(&mut self) {
        // One-or-more pseudo-actions: runnable while any first is.
        let mut any_of: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for a in &self.actions {
            // Without any member that could start, one-or-more cannot run.
            if a.rsc.is_none() && a.pseudo && (a.task.starts_with("one-or-more:") || a.task.starts_with("clone-one-or-more:")) {
                any_of.entry(a.id).or_default();
            }
        }
        for e in &self.edges {
            if e.flags.one_or_more {
                any_of.entry(e.then).or_default().push(e.first);
            }
        }
        // Edges into and out of each action, newest first (Pacemaker
        // prepends to its before/after lists).
        let mut befores: Vec<Vec<usize>> = vec![Vec::new(); self.actions.len()];
        let mut afters: Vec<Vec<usize>> = vec![Vec::new(); self.actions.len()];
        for (i, e) in self.edges.iter().enumerate().rev() {
            if e.flags.none {
                continue;
            }
            befores[e.then].push(i);
            afters[e.first].push(i);
        }
        let mut changed = true;
        let mut rounds = 0;
        while changed && rounds < 100 {
            changed = false;
            rounds += 1;
            changed |= self.update_group_pseudo_actions();
            for (then, firsts) in &any_of {
                let min = self.one_or_more_min.get(then).copied().unwrap_or(1);
                if self.actions[*then].runnable && firsts.iter().filter(|f| self.actions[**f].runnable).count() < min {
                    self.actions[*then].runnable = false;
                    changed = true;
                }
            }
            // Depth first from each action, newest first, as Pacemaker's
            // `update_action` walks: the first cause to change an action
            // names it.
            for a in (0..self.actions.len()).rev() {
                changed |= self.update_action(a, &befores, &afters, 0);
            }
        }
        self.print_implied_thens();
    }

    /// Applies the orderings into `then`; on a change, updates what
    /// follows it (and what precedes it, when a first changed).
    fn update_action(&mut self, then: usize, befores: &[Vec<usize>], afters: &[Vec<usize>], depth: usize) -> bool {
        if depth > 200 {
            return false;
        }
        let mut any = false;
        for &i in &befores[then] {
            let e = self.edges[i];
            let (then_changed, first_changed) = self.apply_edge(e);
            if first_changed {
                any = true;
                for &j in &afters[e.first] {
                    let t = self.edges[j].then;
                    if t != then {
                        self.update_action(t, befores, afters, depth + 1);
                    }
                }
            }
            if then_changed {
                any = true;
            }
        }
        if any {
            for &j in &afters[then] {
                let t = self.edges[j].then;
                self.update_action(t, befores, afters, depth + 1);
            }
        }
        any
    }

    /// What one ordering does to its two actions; returns whether then
    /// and first changed.
    fn apply_edge(&mut self, e: Edge) -> (bool, bool) {
        let (mut f, t) = (e.first, e.then);
        // Reasons name the ordering's own first action.
        let mut cause = e.first;
        // Between two clones' own actions an interleaved order does
        // nothing itself: its instances' orders do it all
        // (`update_interleaved_actions`).
        if let (Some(fr), Some(tr)) = (self.actions[f].rsc, self.actions[t].rsc) {
            if fr != tr && self.ws.rsc(tr).clone_info().is_some() && self.interleaved(fr, t) {
                return (false, false);
            }
        }
        // An order into a clone reaches only those of its instances that
        // can act (`update_noninterleaved_actions`).
        // Only primitive instances so far: a cloned group's summary is
        // not modelled closely enough for this.
        let primitive_instance = self.actions[t].rsc.filter(|r| self.ws.rsc(*r).is_primitive()).and_then(|r| self.ws.rsc(r).parent).is_some_and(|p| self.ws.rsc(p).clone_info().is_some());
        let interleaved_into = self.actions[f].rsc.is_some_and(|fr| self.ws.rsc(fr).clone_info().is_some() && self.interleaved(fr, t));
        if e.flags.derived && !self.actions[t].runnable && primitive_instance && !interleaved_into {
            return (false, false);
        }
        // An interleaved order reaches an instance through its partner
        // instance's action, found by node (`update_interleaved_actions`);
        // the partner's action is the cause.
        if e.flags.derived && primitive_instance && interleaved_into {
            match self.interleaved_partner_action(f, t) {
                Some(p) => {
                    f = p;
                    cause = p;
                }
                None => return (false, false),
            }
        }
        // A clone's action counts, for an action on a node, as its
        // instance's action there (Pacemaker's node-specific clone flags).
        if let (Some(cr), Some(node)) = (self.actions[f].rsc, self.actions[t].node) {
            let primitive_instances = self.ws.rsc(cr).children.first().is_some_and(|c| self.ws.rsc(*c).is_primitive());
            // An order into another clone that is not interleaved reaches
            // each of its instances with the whole first clone's flags
            // (`update_noninterleaved_actions`: no node).
            let into_instance = self.actions[t].rsc.and_then(|r| self.ws.rsc(r).parent).is_some_and(|p| p != cr && self.ws.rsc(p).clone_info().is_some());
            let whole_clone = e.flags.derived && into_instance && !self.interleaved(cr, t);
            let whole_clone = whole_clone || (e.flags.derived && interleaved_into && primitive_instance);
            if self.ws.rsc(cr).clone_info().is_some() && primitive_instances && self.actions[t].rsc != Some(cr) && !whole_clone {
                let task = match self.actions[f].task.as_str() {
                    "running" => "start",
                    "stopped" => "stop",
                    "promoted" => "promote",
                    "demoted" => "demote",
                    other => other,
                };
                let task = task.to_string();
                let inst = self.ws.rsc(cr).children.iter().find_map(|i| self.find_action(*i, &task, Some(node)));
                match inst {
                    Some(i) => f = i,
                    None => return (false, false),
                }
                // Interleaved clones order instance by instance: the
                // instance's action is the cause.
                if self.interleaved(cr, t) {
                    cause = f;
                }
            }
        }
        let (mut then_changed, mut first_changed) = (false, false);
        // Pacemaker applies an ordering's flags in a fixed order,
        // implies_then first, so "required X" wins over "unrunnable X"
        // as the reason. A stop or start a migration carries out implies
        // nothing.
        if e.flags.implies_then && !self.actions[f].optional && self.actions[t].optional && !self.is_migrate_runnable(f) {
            self.actions[t].optional = false;
            let why = self.because("required", cause);
            self.set_reason_from(t, cause, why);
            then_changed = true;
        }
        // A one-way mandatory order (`native_update_actions`'s
        // `pe_order_asymmetrical`): an unrunnable first makes then
        // required and unrunnable, except a stop of what is stopped and
        // an optional start where the resource already runs (it stays).
        if e.flags.asymmetrical && !self.actions[f].runnable && self.asymmetrical_blocks(t) {
            if self.actions[t].optional {
                self.actions[t].optional = false;
                then_changed = true;
            }
            if self.actions[t].runnable {
                self.actions[t].runnable = false;
                let why = self.because("unrunnable", cause);
                self.set_reason_from(t, cause, why);
                self.clear_migrate_runnable(t, cause);
                then_changed = true;
            }
        }
        if e.flags.runnable_left && !self.actions[f].runnable && self.actions[t].runnable {
            self.actions[t].runnable = false;
            let why = self.because("unrunnable", cause);
            self.set_reason_from(t, cause, why);
            // Nor can it be part of a migration (crate::migration).
            self.clear_migrate_runnable(t, cause);
            then_changed = true;
        }
        if e.flags.restart {
            // `handle_restart_ordering`: when then is required, or is an
            // unrunnable action of the same managed resource (a resource
            // that should restart but cannot start is still stopped).
            let same = self.actions[f].rsc == self.actions[t].rsc;
            let managed = self.actions[t].rsc.is_some_and(|r| self.ws.rsc(r).flags.managed);
            let applies = !self.actions[t].optional || (!self.actions[t].runnable && managed && same);
            if applies {
                if self.actions[f].optional && (!self.actions[t].optional || self.actions[f].runnable) {
                    self.actions[f].optional = false;
                    first_changed = true;
                }
                // An unmigratable then makes first unmigratable
                // (crate::migration).
                if !self.is_migrate_runnable(t) {
                    first_changed |= self.clear_migrate_runnable(f, t);
                }
                if !self.actions[f].optional && !self.actions[f].runnable && self.actions[t].runnable {
                    self.actions[t].runnable = false;
                    then_changed = true;
                }
            }
        }
        // Stopping something ordered before the stop of a resource the
        // cluster may not touch cannot happen either.
        if e.flags.implies_first
            && !self.actions[f].runnable
            && self.actions[t].runnable
            && self.actions[t].task == "stop"
            && self.actions[f].rsc.is_some_and(|r| !self.ws.rsc(r).flags.managed)
        {
            self.actions[t].runnable = false;
            then_changed = true;
        }
        if e.flags.promoted_implies_first
            && !self.actions[t].optional
            && self.actions[f].optional
            && self.actions[f].rsc.is_some_and(|r| self.ws.rsc(r).role == Role::Promoted)
        {
            self.actions[f].optional = false;
            let why = self.because("required", t);
            self.set_reason_from(f, t, why);
            first_changed = true;
            if !self.is_migrate_runnable(t) {
                first_changed |= self.clear_migrate_runnable(f, t);
            }
        }
        // Pacemaker 2.1.5 makes first required only from the flags its
        // resource summarises (`pcmk__update_ordered_actions`): a
        // primitive's own action is never made required this way.
        // A collective's own pseudo-action is required by then only when
        // its summary already is (a member's action is required), which
        // `update_group_pseudo_actions` gives it anyway: Pacemaker's test
        // is on the summarised flags, not the action's.
        let first_primitive = self.actions[f].rsc.is_some_and(|r| self.ws.rsc(r).is_primitive());
        let summary_required = self.actions[f].rsc.is_some_and(|r| self.summary_required(r, f));
        if e.flags.implies_first && !first_primitive && summary_required && !self.actions[t].optional && self.actions[f].optional {
            self.actions[f].optional = false;
            let why = self.because("required", t);
            self.set_reason_from(f, t, why);
            first_changed = true;
        }
        // What a required then needs for itself cannot be migrated when
        // then is not (crate::migration).
        if e.flags.implies_first && !self.actions[t].optional && !self.is_migrate_runnable(t) {
            first_changed |= self.clear_migrate_runnable(f, t);
        }
        let (mt, mf) = self.apply_migration_edge(e.flags, f, t);
        then_changed |= mt;
        first_changed |= mf;
        if then_changed && !self.actions[t].runnable {
            self.block_colocation_dependents(t);
        }
        (then_changed, first_changed)
    }

    /// Whether an unrunnable first of a one-way order stops `then`
    /// (`native_update_actions`): not a stop of a stopped resource, nor an
    /// optional start on the one node where the resource runs.
    fn asymmetrical_blocks(&self, then: usize) -> bool {
        let t = &self.actions[then];
        let Some(r) = t.rsc else { return false };
        let role = self.ws.current_role(r);
        if role <= Role::Stopped && t.task == "stop" {
            return false;
        }
        let running = &self.ws.rsc(r).running_on;
        let stays = role >= Role::Started && t.task == "start" && t.optional && t.node.is_some() && running.len() == 1 && t.node == running.first().copied();
        !stays
    }

    /// `pcmk__block_colocation_dependents`: once no instance of a
    /// resource can start (or be promoted), what must be colocated with
    /// it (with its Promoted role) cannot start (or be promoted) either.
    fn block_colocation_dependents(&mut self, a: usize) {
        let act = &self.actions[a];
        let is_start = act.task == "start";
        if act.runnable || (!is_start && act.task != "promote") {
            return;
        }
        let (Some(r), task) = (act.rsc, act.task.clone()) else { return };
        let top = self.ws.top(r);
        for child in self.ws.rsc(top).children.clone() {
            match self.find_action_any_node(child, &task) {
                Some(c) if !self.actions[c].runnable => {}
                _ => return,
            }
        }
        let cols: Vec<usize> = (0..self.colocations.len()).filter(|c| self.colocations[*c].primary == top).collect();
        for c in cols {
            let col = self.colocations[c].clone();
            if col.score < cib::model::Score::INFINITY || (!is_start && col.primary_role != Role::Promoted) {
                continue;
            }
            let blocked = if col.dependent_role == Role::Promoted { "promote" } else { "start" };
            self.mark_action_blocked(col.dependent, blocked, r);
        }
    }

    fn mark_action_blocked(&mut self, rsc: RscId, task: &str, reason: RscId) {
        let why = format!("colocation with {}", self.ws.rsc(reason).id);
        let hits: Vec<usize> = self.actions.iter().filter(|a| a.rsc == Some(rsc) && a.runnable && a.task == task).map(|a| a.id).collect();
        for a in hits {
            self.actions[a].runnable = false;
            self.set_reason(a, why.clone());
            self.block_colocation_dependents(a);
        }
        // A group's members are not marked (`mark_start_blocked` looks at
        // the resource's own actions): its members' scores keep them
        // where the colocation allows, and an unmanaged member that
        // stays keeps its monitors. A clone's instances follow through
        // the clone's start.
        if !matches!(self.ws.rsc(rsc).variant, Variant::Group) {
            for c in self.ws.rsc(rsc).children.clone() {
                self.mark_action_blocked(c, task, reason);
            }
        }
    }

    /// A group's pseudo-actions summarise its members'
    /// (`pcmk__group_action_flags`): start/running are required when a
    /// member start is and cannot run when a member has no runnable
    /// start; stop/stopped are required when a member stop is.
    fn update_group_pseudo_actions(&mut self) -> bool {
        let mut changed = false;
        for g in 0..self.ws.resources.len() {
            let g = RscId(g);
            let clone = matches!(self.ws.rsc(g).variant, Variant::Clone(_));
            if !matches!(self.ws.rsc(g).variant, Variant::Group) && !clone {
                continue;
            }
            let members = self.ws.rsc(g).children.clone();
            for (mine, member_task) in [("start", "start"), ("running", "start"), ("stop", "stop"), ("stopped", "stop"), ("promote", "promote"), ("promoted", "promote"), ("demote", "demote"), ("demoted", "demote")] {
                let Some(a) = self.find_action(g, mine, None) else { continue };
                let member_actions: Vec<Option<usize>> = members.iter().map(|m| self.find_action_any_node(*m, member_task)).collect();
                // Placeholders without a node (a start ordered before
                // something but never scheduled) do not make a group act;
                // a clone counts them (`summary_action_flags`).
                if self.actions[a].optional && member_actions.iter().flatten().any(|m| !self.actions[*m].optional && (clone || self.actions[*m].node.is_some())) {
                    self.actions[a].optional = false;
                    changed = true;
                }
                // A group runs once every member does; a clone once any
                // instance does.
                let blocked = |m: &Option<usize>| m.is_none_or(|m| !self.actions[m].runnable);
                let unrunnable = if clone { member_actions.iter().all(blocked) } else { member_actions.iter().any(blocked) };
                // A group's promotion is blocked only by a member whose
                // promote cannot run (members may have none).
                let unrunnable = if !clone && mine == "promoted" { member_actions.iter().flatten().any(|m| !self.actions[*m].runnable) } else { unrunnable };
                // A clone's own start cannot run either when no instance
                // can start (`pcmk__collective_action_flags`).
                let summarised = mine == "running" || mine == "promoted" || (clone && mine == "start");
                if summarised && self.actions[a].runnable && unrunnable {
                    self.actions[a].runnable = false;
                    changed = true;
                }
            }
        }
        changed
    }

    fn because(&self, change: &str, cause: usize) -> String {
        let a = &self.actions[cause];
        match a.rsc {
            Some(r) => format!("{change} {} {}", self.ws.rsc(r).id, a.task),
            None => format!("{change} {}", a.task),
        }
    }

    /// Records why an action changed, unless its own resource changed it
    /// (`pe_action_set_flag_reason`).
    fn set_reason_from(&mut self, a: usize, cause: usize, why: String) {
        if self.actions[a].rsc != self.actions[cause].rsc {
            self.set_reason(a, why);
        }
    }

    fn set_reason(&mut self, a: usize, why: String) {
        if self.actions[a].reason.is_none() {
            self.actions[a].reason = Some(why);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Symmetry {
    Symmetric,
    Asymmetric,
    Inverse,
}

/// `ordering_flags_for_kind`.
fn flags_for_kind(kind: OrderKind, first_task: &str, symmetry: Symmetry) -> OrderFlags {
    let mut f = OrderFlags { optional: true, ..Default::default() };
    match kind {
        OrderKind::Optional | OrderKind::Serialize => {}
        OrderKind::Mandatory => match symmetry {
            Symmetry::Asymmetric => f.asymmetrical = true,
            Symmetry::Symmetric => {
                f.implies_then = true;
                if first_task == "start" || first_task == "promote" {
                    f.runnable_left = true;
                }
            }
            Symmetry::Inverse => f.implies_first = true,
        },
    }
    f
}
