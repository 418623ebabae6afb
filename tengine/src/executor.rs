//! The executor core: runs a [`TransitionGraph`] without doing any I/O or
//! reading any clock.
//!
//! The caller asks for the next [`Step`], carries out the actions it is
//! handed (or has an [`ActionSink`](crate::ActionSink) do so), and reports
//! each result with [`Executor::complete`]; time comes in as `now`
//! (milliseconds on any monotonic scale the caller likes), and
//! [`Executor::expire`] turns overdue actions into timeouts.
//!
//! # Rules (Pacemaker's graph consumer)
//!
//! - Synapses are scanned in graph order, in passes. A synapse fires when
//!   every input is confirmed; a result that arrives during a pass (as it
//!   does for pseudo actions, and for every action in a simulation) is
//!   seen by the synapses after it in the same pass. A pass that fired
//!   something is followed by another; a result arriving while idle
//!   starts a new pass from the top.
//! - Pseudo events, and actions with `CRM_meta_op_no_wait=true` (e.g.
//!   `do_shutdown`), are confirmed as soon as they are handed out.
//! - A failed or timed-out action aborts the transition at priority
//!   [`INFINITY`]: from then on only synapses of priority `INFINITY`, or
//!   made only of pseudo events, still fire. Its failure confirms the inputs
//!   of `INFINITY`-priority synapses only; the others never become ready.
//!   An action marked `CRM_meta_can_fail` fails without any of this.
//! - With `batch-limit` > 0, no synapse fires while that many are in flight.
//! - An action's deadline is `now` + its timeout (`CRM_meta_timeout` +
//!   `CRM_meta_start_delay`, or the cluster delay when that is 0) + the
//!   cluster delay; fencing uses `stonith-timeout` as its timeout.

use std::collections::{HashMap, VecDeque};

use crate::error::Error;
use crate::graph::{Action, ActionKind, TransitionGraph, INFINITY};

/// How an action ended, as far as the graph is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionResult {
    /// Completed with the expected result.
    Ok,
    /// Completed with any other result.
    Failed,
    /// No result in time.
    TimedOut,
}

/// Which [`ActionSink`](crate::ActionSink) method carries an action out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dispatch {
    /// `<rsc_op>`
    Rsc,
    /// `<pseudo_event>`
    Pseudo,
    /// `<crm_event operation="stonith">`
    Fence,
    /// Any other `<crm_event>` (`do_shutdown`, `clear_failcount`, `lrm_delete`...).
    Cluster,
}

impl Dispatch {
    pub fn of(action: &Action) -> Dispatch {
        match action.kind() {
            ActionKind::RscOp => Dispatch::Rsc,
            ActionKind::PseudoEvent => Dispatch::Pseudo,
            ActionKind::CrmEvent if action.is_fencing() => Dispatch::Fence,
            ActionKind::CrmEvent => Dispatch::Cluster,
        }
    }
}

/// Where one synapse stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SynapseState {
    /// Some input is not confirmed yet.
    Pending,
    /// Every input is confirmed but it has not fired (not scanned yet, held
    /// by the batch limit, or skipped because of an abort).
    Ready,
    /// Fired; some action has no result yet.
    Fired,
    /// Every action completed successfully.
    Confirmed,
    /// Every action completed, at least one of them failed.
    Failed,
}

/// Where one action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionState {
    NotFired,
    /// Handed out; a result is expected by the deadline.
    InFlight {
        deadline: u64,
    },
    Confirmed,
    Failed(ActionResult),
}

/// An action handed out by [`Executor::next`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    /// Index of the synapse in `graph.synapses`.
    pub synapse: usize,
    /// Index of the action in that synapse's `actions`.
    pub index: usize,
    pub action_id: i32,
    pub dispatch: Dispatch,
    /// Already confirmed by the executor (pseudo events, no-wait actions):
    /// no result is expected.
    pub confirmed: bool,
    /// When it times out, for actions that expect a result.
    pub deadline: Option<u64>,
}

/// What the caller should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Carry out this action.
    Fire(Fired),
    /// Nothing can fire until a result arrives or `next_deadline` passes.
    Wait { next_deadline: Option<u64> },
    /// The transition is over.
    Done(RunOutcome),
}

/// How a transition ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// Every synapse ran and every action succeeded.
    Complete,
    /// An action failed or the caller aborted; `never_ran` lists what was
    /// left (Pacemaker's "Stopped").
    Aborted,
    /// Nothing failed, yet some synapses could never become ready (an input
    /// that no synapse provides, or a cycle): Pacemaker's "Terminated".
    Terminated,
}

/// The end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub status: RunStatus,
    /// Ids of synapses that ran to the end, in graph order.
    pub completed: Vec<i32>,
    /// Ids of actions that failed or timed out, in the order they did.
    pub failed_actions: Vec<(i32, ActionResult)>,
    /// Ids of synapses that never fired, in graph order.
    pub never_ran: Vec<i32>,
}

/// Bookkeeping for one synapse.
#[derive(Debug, Clone)]
struct SynapseBook {
    executed: bool,
    /// Pacemaker keeps a private copy of each input action per synapse,
    /// confirmed by the results it hears of; this is that copy's flag.
    inputs_confirmed: Vec<bool>,
    /// Actions not yet completed, once fired.
    outstanding: usize,
    any_failed: bool,
}

/// The executor for one transition (see the module docs).
#[derive(Debug, Clone)]
pub struct Executor {
    graph: TransitionGraph,
    synapses: Vec<SynapseBook>,
    /// State of each action, by (synapse, index).
    actions: Vec<Vec<ActionState>>,
    /// Action id -> its (synapse, index); the first one if ids repeat.
    by_id: HashMap<i32, (usize, usize)>,
    /// Action id -> the (synapse, input index) pairs that wait for it.
    waiters: HashMap<i32, Vec<(usize, usize)>>,
    /// Synapses at a lower priority may no longer fire real actions.
    abort_priority: i32,
    cluster_delay: u64,
    stonith_timeout: u64,
    batch_limit: i32,
    /// Actions of the synapse being fired, still to hand out.
    queue: VecDeque<(usize, usize)>,
    /// Scan position within the current pass, if one is under way.
    cursor: Option<usize>,
    fired_in_pass: usize,
    /// Something changed since the last pass ended (or nothing ran yet).
    pass_needed: bool,
    failed_actions: Vec<(i32, ActionResult)>,
}

impl Executor {
    pub fn new(graph: TransitionGraph) -> Self {
        let mut by_id = HashMap::new();
        let mut waiters: HashMap<i32, Vec<(usize, usize)>> = HashMap::new();
        let mut synapses = Vec::with_capacity(graph.synapses.len());
        let mut actions = Vec::with_capacity(graph.synapses.len());
        for (s, syn) in graph.synapses.iter().enumerate() {
            for (i, a) in syn.actions.iter().enumerate() {
                by_id.entry(a.id()).or_insert((s, i));
            }
            for (i, input) in syn.inputs.iter().enumerate() {
                waiters.entry(input.id).or_default().push((s, i));
            }
            synapses.push(SynapseBook {
                executed: false,
                inputs_confirmed: vec![false; syn.inputs.len()],
                outstanding: 0,
                any_failed: false,
            });
            actions.push(vec![ActionState::NotFired; syn.actions.len()]);
        }
        Executor {
            cluster_delay: graph.attrs.cluster_delay_ms(),
            stonith_timeout: graph.attrs.stonith_timeout_ms(),
            batch_limit: graph.attrs.batch_limit.unwrap_or(0),
            graph,
            synapses,
            actions,
            by_id,
            waiters,
            abort_priority: 0,
            queue: VecDeque::new(),
            cursor: None,
            fired_in_pass: 0,
            pass_needed: true,
            failed_actions: Vec::new(),
        }
    }

    pub fn graph(&self) -> &TransitionGraph {
        &self.graph
    }

    /// The action a [`Fired`] refers to.
    pub fn action(&self, fired: &Fired) -> &Action {
        &self.graph.synapses[fired.synapse].actions[fired.index]
    }

    pub fn abort_priority(&self) -> i32 {
        self.abort_priority
    }

    /// Aborts the transition at `priority` (crmd does this when the cluster
    /// changes under a running transition): synapses below it no longer
    /// fire real actions. Aborts only ever raise the priority.
    pub fn abort(&mut self, priority: i32) {
        if priority > self.abort_priority {
            self.abort_priority = priority;
            self.pass_needed = true;
        }
    }

    pub fn synapse_state(&self, synapse: usize) -> SynapseState {
        let book = &self.synapses[synapse];
        match (book.executed, book.outstanding, book.any_failed) {
            (true, 0, false) => SynapseState::Confirmed,
            (true, 0, true) => SynapseState::Failed,
            (true, _, _) => SynapseState::Fired,
            (false, _, _) if book.inputs_confirmed.iter().all(|c| *c) => SynapseState::Ready,
            (false, _, _) => SynapseState::Pending,
        }
    }

    pub fn action_state(&self, action_id: i32) -> Option<ActionState> {
        self.by_id.get(&action_id).map(|&(s, i)| self.actions[s][i])
    }

    /// Ids of the actions waiting for a result.
    pub fn in_flight(&self) -> impl Iterator<Item = i32> + '_ {
        self.all_states()
            .filter(|(_, st)| matches!(st, ActionState::InFlight { .. }))
            .map(|(id, _)| id)
    }

    /// The earliest deadline among the actions in flight.
    pub fn next_deadline(&self) -> Option<u64> {
        self.all_states()
            .filter_map(|(_, st)| match st {
                ActionState::InFlight { deadline } => Some(deadline),
                _ => None,
            })
            .min()
    }

    fn all_states(&self) -> impl Iterator<Item = (i32, ActionState)> + '_ {
        self.graph
            .synapses
            .iter()
            .zip(&self.actions)
            .flat_map(|(syn, states)| syn.actions.iter().zip(states).map(|(a, st)| (a.id(), *st)))
    }

    /// Synapses fired and not yet finished (what `batch-limit` counts).
    fn pending_synapses(&self) -> usize {
        self.synapses
            .iter()
            .filter(|b| b.executed && b.outstanding > 0)
            .count()
    }

    /// The next thing to do (see the module docs for the order).
    pub fn next(&mut self, now: u64) -> Step {
        loop {
            if let Some((s, i)) = self.queue.pop_front() {
                return Step::Fire(self.hand_out(s, i, now));
            }
            let cursor = match self.cursor {
                Some(c) => c,
                None if self.pass_needed => {
                    self.pass_needed = false;
                    self.fired_in_pass = 0;
                    0
                }
                None => return self.idle_step(),
            };
            let throttled =
                self.batch_limit > 0 && self.pending_synapses() >= self.batch_limit as usize;
            if cursor >= self.synapses.len() || throttled {
                // End of a pass: another one if this one fired anything.
                self.cursor = None;
                if self.fired_in_pass > 0 {
                    self.pass_needed = true;
                }
                continue;
            }
            self.cursor = Some(cursor + 1);
            if self.should_fire(cursor) {
                self.fire(cursor);
            }
        }
    }

    fn idle_step(&self) -> Step {
        if self.in_flight().next().is_some() {
            Step::Wait {
                next_deadline: self.next_deadline(),
            }
        } else {
            Step::Done(self.outcome())
        }
    }

    fn should_fire(&self, s: usize) -> bool {
        let book = &self.synapses[s];
        if book.executed || !book.inputs_confirmed.iter().all(|c| *c) {
            return false;
        }
        let syn = &self.graph.synapses[s];
        let has_real_action = syn
            .actions
            .iter()
            .any(|a| a.kind() != ActionKind::PseudoEvent);
        !(has_real_action && syn.priority < self.abort_priority)
    }

    fn fire(&mut self, s: usize) {
        self.fired_in_pass += 1;
        let n = self.graph.synapses[s].actions.len();
        let book = &mut self.synapses[s];
        book.executed = true;
        book.outstanding = n;
        self.queue.extend((0..n).map(|i| (s, i)));
    }

    fn hand_out(&mut self, s: usize, i: usize, now: u64) -> Fired {
        let action = &self.graph.synapses[s].actions[i];
        let dispatch = Dispatch::of(action);
        let id = action.id();
        let confirm_now = dispatch == Dispatch::Pseudo || action.no_wait();
        let deadline = if confirm_now {
            None
        } else {
            let own = match dispatch {
                Dispatch::Fence => self.stonith_timeout,
                _ => match action.timeout_ms() {
                    0 => self.cluster_delay,
                    t => t as u64,
                },
            };
            Some(now + own + self.cluster_delay)
        };
        self.actions[s][i] = ActionState::InFlight {
            deadline: deadline.unwrap_or(u64::MAX),
        };
        if confirm_now {
            self.settle(s, i, ActionResult::Ok);
        }
        Fired {
            synapse: s,
            index: i,
            action_id: id,
            dispatch,
            confirmed: confirm_now,
            deadline,
        }
    }

    /// Reports the result of an action handed out earlier.
    pub fn complete(&mut self, action_id: i32, result: ActionResult) -> Result<(), Error> {
        let &(s, i) = self
            .by_id
            .get(&action_id)
            .ok_or(Error::UnknownAction(action_id))?;
        if !matches!(self.actions[s][i], ActionState::InFlight { .. }) {
            let kind = self.graph.synapses[s].actions[i].kind();
            return Err(Error::NotInFlight {
                id: action_id,
                kind,
            });
        }
        self.settle(s, i, result);
        Ok(())
    }

    /// Times out every action whose deadline is at or before `now`, and
    /// returns their ids.
    pub fn expire(&mut self, now: u64) -> Vec<i32> {
        let mut expired = Vec::new();
        for s in 0..self.actions.len() {
            for i in 0..self.actions[s].len() {
                if let ActionState::InFlight { deadline } = self.actions[s][i] {
                    if deadline <= now {
                        expired.push(self.graph.synapses[s].actions[i].id());
                        self.settle(s, i, ActionResult::TimedOut);
                    }
                }
            }
        }
        expired
    }

    /// Records a result and propagates it (Pacemaker's graph update).
    fn settle(&mut self, s: usize, i: usize, result: ActionResult) {
        let action = &self.graph.synapses[s].actions[i];
        let id = action.id();
        let counts_as_ok = result == ActionResult::Ok || action.can_fail();
        self.actions[s][i] = match result {
            ActionResult::Ok => ActionState::Confirmed,
            failed => ActionState::Failed(failed),
        };
        if result != ActionResult::Ok {
            self.failed_actions.push((id, result));
        }
        let book = &mut self.synapses[s];
        book.outstanding -= 1;
        if !counts_as_ok {
            book.any_failed = true;
            self.abort_priority = INFINITY;
        }
        // A failure confirms only the inputs of INFINITY-priority synapses.
        if let Some(waiters) = self.waiters.get(&id) {
            for &(ws, wi) in waiters {
                let book = &mut self.synapses[ws];
                if !book.executed && (counts_as_ok || self.graph.synapses[ws].priority == INFINITY)
                {
                    book.inputs_confirmed[wi] = true;
                }
            }
        }
        if self.cursor.is_none() {
            // Like the controller's trigger_graph(): rescan from the top.
            self.pass_needed = true;
        }
    }

    /// The outcome so far (final once [`Step::Done`] was returned).
    pub fn outcome(&self) -> RunOutcome {
        let mut completed = Vec::new();
        let mut never_ran = Vec::new();
        for (s, syn) in self.graph.synapses.iter().enumerate() {
            match self.synapse_state(s) {
                SynapseState::Confirmed | SynapseState::Failed => completed.push(syn.id),
                SynapseState::Pending | SynapseState::Ready => never_ran.push(syn.id),
                SynapseState::Fired => {}
            }
        }
        let status = if self.abort_priority > 0 {
            RunStatus::Aborted
        } else if never_ran.is_empty() {
            // Failures, if any, were of can_fail actions.
            RunStatus::Complete
        } else {
            RunStatus::Terminated
        };
        RunOutcome {
            status,
            completed,
            failed_actions: self.failed_actions.clone(),
            never_ran,
        }
    }
}
