use super::*;
use crate::op::rc;
use crate::resource::AgentClass;

fn at(ms: u64) -> Now {
    Now { mono_ms: ms, epoch_s: 1_000 + ms / 1000 }
}

fn dummy() -> ResourceSpec {
    ResourceSpec::new("d", AgentClass::Ocf, Some("heartbeat"), "Dummy")
}

fn ok() -> OpResult {
    OpResult { rc: rc::OK, status: OpStatus::Done, exit_reason: None, stdout: String::new(), stderr: String::new() }
}

fn rc_result(code: i32) -> OpResult {
    OpResult { rc: code, ..ok() }
}

fn run(call_id: u32, request: &OpRequest) -> Command {
    Command::Run { call_id, spec: dummy(), request: request.clone() }
}

#[allow(clippy::too_many_arguments)]
fn record(req: &OpRequest, call_id: u32, rc: i32, last_run: u64, change: u64, exec: u64, queue: u64) -> OpRecord {
    OpRecord {
        rsc: req.rsc.clone(),
        action: req.action.clone(),
        key: req.key(),
        call_id,
        rc,
        status: OpStatus::Done,
        interval_ms: req.interval_ms,
        last_run,
        last_rc_change: change,
        exec_ms: exec,
        queue_ms: queue,
        exit_reason: None,
        transition_key: None,
        output: String::new(),
        digests: crate::digest::for_record(&dummy(), req, None),
    }
}

fn core() -> Core {
    let mut c = Core::new();
    c.register(dummy());
    c
}

#[test]
fn one_shot_runs_at_once_and_is_reported() {
    let mut c = core();
    let start = OpRequest::new("d", "start", 0, 20_000);
    let (id, cmds) = c.exec(start.clone(), at(0)).unwrap();
    assert_eq!(id, 1);
    assert_eq!(cmds, vec![run(1, &start)]);
    let cmds = c.finished(1, ok(), at(1_500));
    assert_eq!(cmds, vec![Command::Notify(record(&start, 1, 0, 1_000, 1_001, 1_500, 0))]);
    assert_eq!(c.history("d").unwrap(), vec![record(&start, 1, 0, 1_000, 1_001, 1_500, 0)]);
    assert_eq!(c.next_wakeup(), None);
}

#[test]
fn unknown_resource_is_an_error_not_a_command() {
    let mut c = core();
    assert!(matches!(c.exec(OpRequest::new("x", "start", 0, 1), at(0)), Err(LrmdError::NoSuchResource(_))));
    assert!(matches!(c.cancel("d", "monitor", 1000, at(0)), Err(LrmdError::NoSuchOperation { .. })));
}

#[test]
fn one_operation_at_a_time_per_resource_with_queue_time() {
    let mut c = core();
    c.register(ResourceSpec::new("other", AgentClass::Lsb, None, "nginx"));
    let start = OpRequest::new("d", "start", 0, 20_000);
    let stop = OpRequest::new("d", "stop", 0, 20_000);
    let other = OpRequest::new("other", "start", 0, 20_000);
    assert_eq!(c.exec(start.clone(), at(0)).unwrap().1, vec![run(1, &start)]);
    // Same resource: waits. Another resource: runs at once.
    assert_eq!(c.exec(stop.clone(), at(100)).unwrap().1, vec![]);
    let (_, cmds) = c.exec(other.clone(), at(200)).unwrap();
    assert_eq!(cmds, vec![Command::Run { call_id: 3, spec: c.resource("other").unwrap().clone(), request: other }]);
    // The start finishes: reported, then the stop starts.
    let cmds = c.finished(1, ok(), at(400));
    assert_eq!(cmds, vec![Command::Notify(record(&start, 1, 0, 1_000, 1_000, 400, 0)), run(2, &stop)]);
    let cmds = c.finished(2, ok(), at(500));
    assert_eq!(cmds, vec![Command::Notify(record(&stop, 2, 0, 1_000, 1_000, 100, 300))]);
}

#[test]
fn recurring_monitor_reports_changes_only() {
    let mut c = core();
    let mon = OpRequest::new("d", "monitor", 10_000, 20_000);
    assert_eq!(c.exec(mon.clone(), at(0)).unwrap().1, vec![run(1, &mon)]);
    // First result is always reported; the next run is due interval after completion.
    assert_eq!(c.finished(1, ok(), at(50)), vec![Command::Notify(record(&mon, 1, 0, 1_000, 1_000, 50, 0))]);
    assert_eq!(c.next_wakeup(), Some(10_050));
    assert_eq!(c.tick(at(10_049)), vec![]);
    assert_eq!(c.tick(at(10_050)), vec![run(1, &mon)]);
    // Same result: not reported again, but the history moves on.
    assert_eq!(c.finished(1, ok(), at(10_060)), vec![]);
    assert_eq!(c.history("d").unwrap()[0].last_run, 1_010);
    assert_eq!(c.history("d").unwrap()[0].last_rc_change, 1_000);
    assert_eq!(c.next_wakeup(), Some(20_060));
    // The resource dies: reported once...
    assert_eq!(c.tick(at(20_060)), vec![run(1, &mon)]);
    assert_eq!(
        c.finished(1, rc_result(rc::NOT_RUNNING), at(20_070)),
        vec![Command::Notify(record(&mon, 1, 7, 1_020, 1_020, 10, 0))]
    );
    // ...and not again while it stays dead.
    assert_eq!(c.tick(at(30_070)), vec![run(1, &mon)]);
    assert_eq!(c.finished(1, rc_result(rc::NOT_RUNNING), at(30_080)), vec![]);
    assert_eq!(c.recurring("d"), vec![mon]);
}

#[test]
fn due_recurring_op_waits_behind_a_running_one() {
    let mut c = core();
    let mon = OpRequest::new("d", "monitor", 1_000, 20_000);
    c.exec(mon.clone(), at(0)).unwrap();
    c.finished(1, ok(), at(10));
    let stop = OpRequest::new("d", "stop", 0, 20_000);
    assert_eq!(c.exec(stop.clone(), at(500)).unwrap().1, vec![run(2, &stop)]);
    // Due while the stop runs: queued, no run.
    assert_eq!(c.tick(at(1_010)), vec![]);
    assert_eq!(c.next_wakeup(), None);
    let cmds = c.finished(2, ok(), at(1_200));
    assert_eq!(cmds, vec![Command::Notify(record(&stop, 2, 0, 1_000, 1_001, 700, 0)), run(1, &mon)]);
}

#[test]
fn cancel_between_runs_reports_once_and_stops_scheduling() {
    let mut c = core();
    let mon = OpRequest::new("d", "monitor", 1_000, 20_000);
    c.exec(mon.clone(), at(0)).unwrap();
    c.finished(1, ok(), at(10));
    let cmds = c.cancel("d", "monitor", 1_000, at(500)).unwrap();
    let mut cancelled = record(&mon, 1, 0, 1_000, 1_000, 0, 0);
    cancelled.status = OpStatus::Cancelled;
    cancelled.digests = Default::default();
    assert_eq!(cmds, vec![Command::Notify(cancelled)]);
    assert_eq!(c.next_wakeup(), None);
    assert_eq!(c.tick(at(5_000)), vec![]);
    assert!(c.cancel("d", "monitor", 1_000, at(5_000)).is_err());
}

#[test]
fn cancel_while_running_kills_drops_the_result_and_keeps_the_resource_busy() {
    let mut c = core();
    let mon = OpRequest::new("d", "monitor", 1_000, 20_000);
    let stop = OpRequest::new("d", "stop", 0, 20_000);
    c.exec(mon.clone(), at(0)).unwrap();
    let cmds = c.cancel("d", "monitor", 1_000, at(100)).unwrap();
    assert!(matches!(&cmds[..], [Command::Notify(r), Command::Kill { call_id: 1 }] if r.status == OpStatus::Cancelled && r.call_id == 1));
    assert_eq!(c.exec(stop.clone(), at(200)).unwrap().1, vec![]);
    // The monitor's late result is not reported; the stop then runs.
    assert_eq!(c.finished(1, rc_result(rc::NOT_RUNNING), at(300)), vec![run(2, &stop)]);
    assert_eq!(c.next_wakeup(), None);
    assert!(c.history("d").unwrap().is_empty());
}

#[test]
fn cancel_a_queued_one_shot() {
    let mut c = core();
    let start = OpRequest::new("d", "start", 0, 20_000);
    let probe = OpRequest::new("d", "monitor", 0, 20_000);
    c.exec(start.clone(), at(0)).unwrap();
    c.exec(probe.clone(), at(0)).unwrap();
    let cmds = c.cancel("d", "monitor", 0, at(5)).unwrap();
    assert!(matches!(&cmds[..], [Command::Notify(r)] if r.status == OpStatus::Cancelled && r.key == "d_monitor_0"));
    assert_eq!(c.finished(1, ok(), at(10)), vec![Command::Notify(record(&start, 1, 0, 1_000, 1_000, 10, 0))]);
}

#[test]
fn same_recurring_key_replaces_the_old_one() {
    let mut c = core();
    let mon = OpRequest::new("d", "monitor", 1_000, 20_000);
    c.exec(mon.clone(), at(0)).unwrap();
    c.finished(1, ok(), at(10));
    let (id, cmds) = c.exec(mon.clone(), at(20)).unwrap();
    assert_eq!(id, 2);
    assert!(matches!(&cmds[0], Command::Notify(r) if r.status == OpStatus::Cancelled && r.call_id == 1));
    assert_eq!(cmds[1], run(2, &mon));
    assert_eq!(c.recurring("d").len(), 1);
}

#[test]
fn replacing_a_recurring_op_under_way_kills_its_run() {
    let mut c = core();
    let mon = OpRequest::new("d", "monitor", 1_000, 20_000);
    c.exec(mon.clone(), at(0)).unwrap();
    let (id, cmds) = c.exec(mon.clone(), at(20)).unwrap();
    assert_eq!(id, 2);
    assert!(matches!(&cmds[..], [Command::Notify(r), Command::Kill { call_id: 1 }] if r.call_id == 1 && r.status == OpStatus::Cancelled));
    // The new one runs once the killed one is gone.
    assert_eq!(c.finished(1, ok(), at(30)), vec![run(2, &mon)]);
}

#[test]
fn unregister_cancels_what_is_queued() {
    let mut c = core();
    let start = OpRequest::new("d", "start", 0, 20_000);
    let mon = OpRequest::new("d", "monitor", 1_000, 20_000);
    c.exec(start, at(0)).unwrap();
    c.exec(mon, at(0)).unwrap();
    c.finished(1, ok(), at(2));
    c.finished(2, ok(), at(3));
    let cmds = c.unregister("d", at(4)).unwrap();
    assert!(matches!(&cmds[..], [Command::Notify(r)] if r.status == OpStatus::Cancelled && r.key == "d_monitor_1000"));
    assert!(c.resource("d").is_none());
    assert_eq!(c.next_wakeup(), None);
    // A late result for a forgotten resource is ignored.
    assert_eq!(c.finished(2, ok(), at(5)), vec![]);
}

#[test]
fn unregister_while_busy_kills_the_run_and_a_new_registration_waits_for_it() {
    let mut c = core();
    let start = OpRequest::new("d", "start", 0, 20_000);
    let mon = OpRequest::new("d", "monitor", 1_000, 20_000);
    c.exec(start, at(0)).unwrap();
    c.exec(mon, at(0)).unwrap();
    let cmds = c.unregister("d", at(1)).unwrap();
    // The running start: reported cancelled and killed; the queued
    // recurring monitor: reported cancelled once.
    assert!(matches!(&cmds[..],
        [Command::Notify(a), Command::Kill { call_id: 1 }, Command::Notify(b)]
        if a.call_id == 1 && a.status == OpStatus::Cancelled && b.key == "d_monitor_1000" && b.status == OpStatus::Cancelled));
    assert!(c.resource("d").is_none());
    // Registered again while the killed agent is still exiting: a new
    // operation waits for it.
    c.register(dummy());
    let probe = OpRequest::new("d", "monitor", 0, 20_000);
    assert_eq!(c.exec(probe.clone(), at(2)).unwrap().1, vec![]);
    assert_eq!(c.finished(1, rc_result(rc::UNKNOWN_ERROR), at(3)), vec![run(3, &probe)]);
    assert!(c.history("d").unwrap().is_empty());
    // Unregistered and finished: nothing is left behind.
    c.finished(3, ok(), at(4));
    c.unregister("d", at(5)).unwrap();
    c.register(dummy());
    assert_eq!(c.exec(probe.clone(), at(6)).unwrap().1, vec![run(4, &probe)]);
}

#[test]
fn last_rc_change_moves_only_when_rc_changes() {
    let mut c = core();
    let probe = OpRequest::new("d", "monitor", 0, 20_000);
    c.exec(probe.clone(), at(0)).unwrap();
    c.finished(1, rc_result(rc::NOT_RUNNING), at(0));
    c.exec(probe.clone(), at(5_000)).unwrap();
    let cmds = c.finished(2, rc_result(rc::NOT_RUNNING), at(5_000));
    assert_eq!(cmds, vec![Command::Notify(record(&probe, 2, 7, 1_005, 1_000, 0, 0))]);
    c.exec(probe.clone(), at(9_000)).unwrap();
    let cmds = c.finished(3, ok(), at(9_000));
    assert_eq!(cmds, vec![Command::Notify(record(&probe, 3, 0, 1_009, 1_009, 0, 0))]);
}

#[test]
fn records_use_agent_info_once_known() {
    let mut c = core();
    let start = OpRequest::new("d", "start", 0, 20_000);
    assert!(c.wants_agent_info(&dummy(), &start));
    assert!(!c.wants_agent_info(&dummy(), &OpRequest::new("d", "stop", 0, 20_000)));
    let meta = r#"<resource-agent><parameters><parameter name="state" unique="1"/></parameters>
        <actions><action name="reload"/></actions></resource-agent>"#;
    c.set_agent_info(crate::digest::agent_key(&dummy()), cib::op_digest::AgentInfo::from_metadata(meta).unwrap());
    assert!(!c.wants_agent_info(&dummy(), &start));
    c.exec(start.clone(), at(0)).unwrap();
    let cmds = c.finished(1, ok(), at(10));
    let [Command::Notify(r)] = &cmds[..] else { panic!("{cmds:?}") };
    assert_eq!(r.digests.op_digest.as_deref(), Some("f2317cad3d54cec5d7d7aa7d0bf35cf8"));
    assert_eq!(r.digests.op_force_restart.as_deref(), Some("  state  "));
    assert_eq!(r.digests.op_secure_params.as_deref(), Some(" "));
}

#[test]
fn recurring_digests_follow_a_redefined_resource() {
    let mut c = core();
    let mon = OpRequest::new("d", "monitor", 1_000, 20_000);
    c.exec(mon.clone(), at(0)).unwrap();
    c.finished(1, ok(), at(10));
    let first = c.history("d").unwrap()[0].digests.clone();
    assert_eq!(first, crate::digest::for_record(&dummy(), &mon, None));
    // Same definition: same digests on the next run.
    c.tick(at(1_010));
    c.finished(1, ok(), at(1_020));
    assert_eq!(c.history("d").unwrap()[0].digests, first);
    // Redefined with another parameter: the next record says so.
    let changed = dummy().with_param("fake", "x");
    c.register(changed.clone());
    c.tick(at(2_020));
    c.finished(1, ok(), at(2_030));
    let now = c.history("d").unwrap()[0].digests.clone();
    assert_ne!(now, first);
    assert_eq!(now, crate::digest::for_record(&changed, &mon, None));
}

#[test]
fn only_due_timers_fire() {
    let mut c = core();
    c.register(ResourceSpec::new("e", AgentClass::Ocf, Some("heartbeat"), "Dummy"));
    let a = OpRequest::new("d", "monitor", 1_000, 20_000);
    let b = OpRequest::new("e", "monitor", 5_000, 20_000);
    c.exec(a.clone(), at(0)).unwrap();
    c.exec(b, at(0)).unwrap();
    c.finished(1, ok(), at(10));
    c.finished(2, ok(), at(10));
    assert_eq!(c.next_wakeup(), Some(1_010));
    assert_eq!(c.tick(at(1_009)), vec![]);
    assert_eq!(c.tick(at(1_010)), vec![run(1, &a)]);
    assert_eq!(c.next_wakeup(), Some(5_010));
    c.cancel("e", "monitor", 5_000, at(20)).unwrap();
    assert_eq!(c.next_wakeup(), None, "a cancelled op leaves no timer");
}

#[test]
fn tick_within_starts_what_falls_due_in_the_slack_window_only() {
    let mut c = core();
    c.register(ResourceSpec::new("e", AgentClass::Ocf, Some("heartbeat"), "Dummy"));
    let a = OpRequest::new("d", "monitor", 1_000, 20_000);
    let b = OpRequest::new("e", "monitor", 1_000, 20_000);
    c.exec(a.clone(), at(0)).unwrap();
    c.exec(b.clone(), at(0)).unwrap();
    c.finished(1, ok(), at(10));
    c.finished(2, ok(), at(25));
    // d is due at 1_010, e at 1_025: a 20 ms window at d's time takes both.
    assert_eq!(c.tick_within(at(1_004), 5), vec![], "nothing due by 1_009");
    let spec_e = ResourceSpec::new("e", AgentClass::Ocf, Some("heartbeat"), "Dummy");
    assert_eq!(
        c.tick_within(at(1_010), 20),
        vec![run(1, &a), Command::Run { call_id: 2, spec: spec_e, request: b.clone() }]
    );
    assert_eq!(c.next_wakeup(), None);
    // The early run's record carries the real time it ran at.
    let cmds = c.finished(2, ok(), at(1_012));
    assert!(matches!(&cmds[..], [] ), "unchanged result is not reported again: {cmds:?}");
    assert_eq!(c.next_wakeup(), Some(2_012));
}

#[test]
fn a_fence_device_is_running_only_where_it_was_started() {
    let mut c = Core::new();
    let dev = ResourceSpec::new("fence1", AgentClass::Stonith, None, "fence_lab");
    c.register(dev.clone());
    let is_notify_rc = |cmds: &[Command], code: i32| matches!(cmds, [Command::Notify(r)] if r.rc == code && r.status == OpStatus::Done);
    // A probe before any start: not running, without running the agent.
    let probe = OpRequest::new("fence1", "monitor", 0, 20_000);
    let (_, cmds) = c.exec(probe.clone(), at(0)).unwrap();
    assert!(is_notify_rc(&cmds, rc::NOT_RUNNING), "{cmds:?}");
    // Started: monitors reach the device.
    let start = OpRequest::new("fence1", "start", 0, 20_000);
    let (id, cmds) = c.exec(start.clone(), at(10)).unwrap();
    assert_eq!(cmds, vec![Command::Run { call_id: id, spec: dev.clone(), request: start }]);
    c.finished(id, ok(), at(20));
    let (id, cmds) = c.exec(probe.clone(), at(30)).unwrap();
    assert_eq!(cmds, vec![Command::Run { call_id: id, spec: dev.clone(), request: probe.clone() }]);
    c.finished(id, ok(), at(40));
    // Stopped again: not running.
    let stop = OpRequest::new("fence1", "stop", 0, 20_000);
    let (id, _) = c.exec(stop, at(50)).unwrap();
    c.finished(id, ok(), at(60));
    let (_, cmds) = c.exec(probe, at(70)).unwrap();
    assert!(is_notify_rc(&cmds, rc::NOT_RUNNING), "{cmds:?}");
}
