//! The executor core on small graphs built in code: the exact steps it
//! hands out, results, aborts, timeouts, the batch limit.

use tengine::executor::{ActionState, Dispatch};
use tengine::{
    run, Action, ActionHeader, ActionKind, ActionResult, Executor, GraphAttrs, Resource, RunStatus,
    SimulatedSink, Step, Synapse, SynapseState, TransitionGraph, INFINITY,
};

fn rsc_op(id: i32, rsc: &str, op: &str, node: &str) -> Action {
    let mut h = ActionHeader::new(ActionKind::RscOp, id, op, &format!("{rsc}_{op}_0"));
    h.on_node = Some(node.into());
    h.on_node_uuid = Some(node.into());
    let mut a = Action::new(h);
    a.resource = Some(Resource {
        element: "primitive".into(),
        id: rsc.into(),
        long_id: None,
        class: Some("ocf".into()),
        provider: Some("heartbeat".into()),
        agent: Some("Dummy".into()),
    });
    a.attributes.set("CRM_meta_on_node", node);
    a.attributes.set("CRM_meta_on_node_uuid", node);
    a.attributes.set("CRM_meta_timeout", "20000");
    a
}

fn pseudo(id: i32, key: &str) -> Action {
    Action::new(ActionHeader::new(ActionKind::PseudoEvent, id, key, key))
}

fn crm_event(id: i32, op: &str, node: &str) -> Action {
    let mut h = ActionHeader::new(ActionKind::CrmEvent, id, op, &format!("{op}-{node}"));
    h.on_node = Some(node.into());
    h.on_node_uuid = Some(node.into());
    Action::new(h)
}

/// A synapse with one action, waiting for the actions with these ids.
fn syn(id: i32, priority: i32, action: Action, inputs: &[&Action]) -> Synapse {
    Synapse {
        id,
        priority,
        actions: vec![action],
        inputs: inputs.iter().map(|a| a.header.clone()).collect(),
    }
}

fn fire(ex: &mut Executor, now: u64) -> tengine::Fired {
    match ex.next(now) {
        Step::Fire(f) => f,
        other => panic!("expected an action, got {other:?}"),
    }
}

/// stop A -> stopped (pseudo) -> start B; start C independent.
fn chain() -> TransitionGraph {
    let stop = rsc_op(1, "A", "stop", "n1");
    let stopped = pseudo(2, "grp_stopped_0");
    let start = rsc_op(3, "B", "start", "n2");
    let other = rsc_op(4, "C", "start", "n1");
    let mut g = TransitionGraph::new(GraphAttrs::new(7));
    g.synapses = vec![
        syn(0, 0, start.clone(), &[&stopped]),
        syn(1, 0, stopped.clone(), &[&stop]),
        syn(2, 0, stop, &[]),
        syn(3, 0, other, &[]),
    ];
    g
}

#[test]
fn fires_ready_synapses_in_graph_order_and_waits_for_results() {
    let mut ex = Executor::new(chain());
    let a = fire(&mut ex, 0);
    assert_eq!(
        (a.action_id, a.dispatch, a.confirmed),
        (1, Dispatch::Rsc, false)
    );
    // 20 s timeout + 60 s cluster-delay.
    assert_eq!(a.deadline, Some(80_000));
    let b = fire(&mut ex, 0);
    assert_eq!(b.action_id, 4);
    assert_eq!(
        ex.next(5),
        Step::Wait {
            next_deadline: Some(80_000)
        }
    );
    assert_eq!(ex.synapse_state(0), SynapseState::Pending);
    assert_eq!(ex.synapse_state(2), SynapseState::Fired);

    ex.complete(1, ActionResult::Ok).unwrap();
    // The pseudo event fires and is confirmed at once, then what it gates.
    let p = fire(&mut ex, 10);
    assert_eq!(
        (p.action_id, p.dispatch, p.confirmed, p.deadline),
        (2, Dispatch::Pseudo, true, None)
    );
    let s = fire(&mut ex, 10);
    assert_eq!((s.action_id, s.deadline), (3, Some(80_010)));
    assert_eq!(
        ex.next(10),
        Step::Wait {
            next_deadline: Some(80_000)
        }
    );

    ex.complete(4, ActionResult::Ok).unwrap();
    ex.complete(3, ActionResult::Ok).unwrap();
    match ex.next(20) {
        Step::Done(o) => {
            assert_eq!(o.status, RunStatus::Complete);
            assert_eq!(o.completed, vec![0, 1, 2, 3]);
            assert!(o.never_ran.is_empty() && o.failed_actions.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn results_are_checked() {
    let mut ex = Executor::new(chain());
    assert!(matches!(
        ex.complete(99, ActionResult::Ok),
        Err(tengine::Error::UnknownAction(99))
    ));
    assert!(matches!(
        ex.complete(3, ActionResult::Ok),
        Err(tengine::Error::NotInFlight { id: 3, .. })
    ));
    fire(&mut ex, 0);
    ex.complete(1, ActionResult::Ok).unwrap();
    assert!(
        ex.complete(1, ActionResult::Ok).is_err(),
        "a second result for the same action"
    );
}

#[test]
fn a_failure_aborts_and_reports_what_never_ran() {
    let mut ex = Executor::new(chain());
    fire(&mut ex, 0);
    fire(&mut ex, 0);
    ex.complete(1, ActionResult::Failed).unwrap();
    ex.complete(4, ActionResult::Ok).unwrap();
    assert_eq!(ex.abort_priority(), INFINITY);
    match ex.next(0) {
        Step::Done(o) => {
            assert_eq!(o.status, RunStatus::Aborted);
            assert_eq!(o.failed_actions, vec![(1, ActionResult::Failed)]);
            assert_eq!(o.never_ran, vec![0, 1]);
            assert_eq!(o.completed, vec![2, 3]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ex.synapse_state(2), SynapseState::Failed);
    assert_eq!(
        ex.action_state(1),
        Some(ActionState::Failed(ActionResult::Failed))
    );
}

#[test]
fn after_an_abort_only_infinity_and_pseudo_synapses_fire() {
    let bad = rsc_op(1, "A", "stop", "n1");
    let fence = crm_event(2, "stonith", "n1");
    let mut fence = fence;
    fence.attributes.set("CRM_meta_stonith_action", "reboot");
    let ordinary = rsc_op(3, "B", "start", "n2");
    let marker = pseudo(4, "all_stopped");
    let mut g = TransitionGraph::new(GraphAttrs::new(1));
    g.synapses = vec![
        syn(0, 0, bad.clone(), &[]),
        syn(1, INFINITY, fence.clone(), &[&bad]),
        syn(2, 0, ordinary, &[]),
        syn(3, 0, marker, &[&fence]),
    ];
    let mut ex = Executor::new(g);
    // Synapse 2 fires in the first pass, before anything failed.
    assert_eq!(fire(&mut ex, 0).action_id, 1);
    assert_eq!(fire(&mut ex, 0).action_id, 3);
    ex.complete(1, ActionResult::Failed).unwrap();
    // The failure still confirms the input of the INFINITY synapse.
    let f = fire(&mut ex, 0);
    assert_eq!(
        (f.action_id, f.dispatch, f.deadline),
        (2, Dispatch::Fence, Some(120_000))
    );
    ex.complete(3, ActionResult::Ok).unwrap();
    ex.complete(2, ActionResult::Ok).unwrap();
    // A pseudo-only synapse runs despite the abort.
    assert_eq!(fire(&mut ex, 0).action_id, 4);
    assert!(
        matches!(ex.next(0), Step::Done(o) if o.status == RunStatus::Aborted && o.never_ran.is_empty())
    );
}

#[test]
fn an_external_abort_holds_back_lower_priority_synapses() {
    let mut ex = Executor::new(chain());
    ex.abort(1000);
    match ex.next(0) {
        Step::Done(o) => {
            assert_eq!(o.status, RunStatus::Aborted);
            assert_eq!(o.never_ran, vec![0, 1, 2, 3]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ex.synapse_state(2), SynapseState::Ready);
}

#[test]
fn overdue_actions_time_out() {
    let mut ex = Executor::new(chain());
    fire(&mut ex, 1000);
    fire(&mut ex, 1000);
    assert!(ex.expire(80_999).is_empty());
    assert_eq!(ex.expire(81_000), vec![1, 4]);
    assert_eq!(ex.in_flight().count(), 0);
    match ex.next(81_000) {
        Step::Done(o) => {
            assert_eq!(o.status, RunStatus::Aborted);
            assert_eq!(
                o.failed_actions,
                vec![(1, ActionResult::TimedOut), (4, ActionResult::TimedOut)]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_wait_actions_and_zero_timeouts() {
    let mut shutdown = crm_event(1, "do_shutdown", "n1");
    shutdown.attributes.set("CRM_meta_op_no_wait", "true");
    let clear = crm_event(2, "clear_failcount", "n1");
    let mut g = TransitionGraph::new(GraphAttrs::new(1));
    g.attrs.cluster_delay = "2min".into();
    g.synapses = vec![syn(0, 0, shutdown, &[]), syn(1, 0, clear, &[])];
    let mut ex = Executor::new(g);
    let s = fire(&mut ex, 0);
    assert_eq!(
        (s.dispatch, s.confirmed, s.deadline),
        (Dispatch::Cluster, true, None)
    );
    // No CRM_meta_timeout: the cluster delay stands in for it.
    let c = fire(&mut ex, 0);
    assert_eq!((c.confirmed, c.deadline), (false, Some(240_000)));
}

#[test]
fn batch_limit_holds_synapses_back() {
    let mut g = TransitionGraph::new(GraphAttrs::new(1));
    g.attrs.batch_limit = Some(2);
    g.synapses = (0..4)
        .map(|i| syn(i, 0, rsc_op(i + 10, &format!("r{i}"), "start", "n1"), &[]))
        .collect();
    let mut ex = Executor::new(g);
    assert_eq!(fire(&mut ex, 0).action_id, 10);
    assert_eq!(fire(&mut ex, 0).action_id, 11);
    assert!(matches!(ex.next(0), Step::Wait { .. }));
    ex.complete(11, ActionResult::Ok).unwrap();
    assert_eq!(fire(&mut ex, 0).action_id, 12);
    assert!(matches!(ex.next(0), Step::Wait { .. }));
}

#[test]
fn an_input_nobody_provides_terminates_the_run() {
    let ghost = rsc_op(9, "G", "stop", "n1");
    let mut g = TransitionGraph::new(GraphAttrs::new(1));
    g.synapses = vec![syn(0, 0, rsc_op(1, "A", "start", "n1"), &[&ghost])];
    let outcome = run(&g, &mut SimulatedSink::for_graph(&g));
    assert_eq!(outcome.status, RunStatus::Terminated);
    assert_eq!(outcome.never_ran, vec![0]);
}

#[test]
fn the_synchronous_runner_fires_within_a_pass() {
    // Pass 1: synapses 0 and 1 are not ready when scanned; 2 fires and is
    // confirmed at once, 3 fires. Pass 2: 0 is scanned before 1 fires, so
    // it waits for pass 3.
    let mut sink = SimulatedSink::for_graph(&chain());
    let outcome = run(&chain(), &mut sink);
    assert_eq!(outcome.status, RunStatus::Complete);
    assert_eq!(
        sink.lines,
        [
            "  * Resource action: A               stop on n1",
            "  * Resource action: C               start on n1",
            "  * Pseudo action:   grp_stopped_0",
            "  * Resource action: B               start on n2",
        ]
    );
}

#[test]
fn injected_failures_stop_the_simulation() {
    let mut sink = SimulatedSink::for_graph(&chain());
    sink.fail_action(1);
    let outcome = run(&chain(), &mut sink);
    assert_eq!(outcome.status, RunStatus::Aborted);
    // The failure comes before synapse 3 is scanned: it is held back too.
    assert_eq!(outcome.never_ran, vec![0, 1, 3]);
    assert_eq!(
        sink.lines,
        ["  * Resource action: A               stop on n1"]
    );
}
