//! The action sink: what carries actions out, one method per kind as in
//! Pacemaker's graph function table, and the synchronous runner that
//! drives an [`Executor`] through one.
//!
//! crmd drives the [`Executor`] itself (its actions complete later, as
//! messages); simulations and tests use [`run`], where each sink call
//! returns the action's result at once.

use crate::executor::{ActionResult, Dispatch, Executor, RunOutcome, Step};
use crate::graph::{Action, TransitionGraph};

/// Carries out the actions of a transition.
pub trait ActionSink {
    /// A resource agent operation (`<rsc_op>`).
    fn rsc(&mut self, action: &Action) -> ActionResult;

    /// A pseudo event: nothing to execute, it is confirmed regardless; the
    /// sink may log it or handle side effects (remote node state).
    fn pseudo(&mut self, action: &Action);

    /// Fencing (`<crm_event operation="stonith">`); the kind of fencing is
    /// `CRM_meta_stonith_action` (`reboot`, `off`, `on`).
    fn fence(&mut self, action: &Action) -> ActionResult;

    /// Any other cluster event: `do_shutdown`, `clear_failcount`,
    /// `lrm_delete`... (those marked `CRM_meta_op_no_wait` are confirmed
    /// whatever this returns).
    fn cluster(&mut self, action: &Action) -> ActionResult;
}

/// Runs a graph to its end through a sink whose calls complete at once.
///
/// No clock is involved: every action completes within its own call, so
/// nothing can time out.
pub fn run(graph: &TransitionGraph, sink: &mut impl ActionSink) -> RunOutcome {
    let mut ex = Executor::new(graph.clone());
    loop {
        match ex.next(0) {
            Step::Fire(fired) => {
                let action = ex.action(&fired);
                let result = match fired.dispatch {
                    Dispatch::Rsc => sink.rsc(action),
                    Dispatch::Pseudo => {
                        sink.pseudo(action);
                        ActionResult::Ok
                    }
                    Dispatch::Fence => sink.fence(action),
                    Dispatch::Cluster => sink.cluster(action),
                };
                if !fired.confirmed {
                    ex.complete(fired.action_id, result)
                        .expect("an action just handed out is in flight");
                }
            }
            // Every action completed inside its call, so nothing is in
            // flight and the executor cannot be waiting.
            Step::Wait { .. } => unreachable!("synchronous run left an action in flight"),
            Step::Done(outcome) => return outcome,
        }
    }
}
