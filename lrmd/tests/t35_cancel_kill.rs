//! Cancelling an operation whose agent is running kills the agent's whole
//! process group (SIGTERM, then SIGKILL after the grace), so a hung
//! monitor is not waited for: by cancel, by replacing a recurring
//! operation, and by unregistering the resource.

mod common;

use common::*;
use lrmd::client::Client;
use lrmd::op::{rc, OpRequest, OpStatus};
use std::time::{Duration, Instant};

/// An agent whose monitor hangs (ignoring SIGTERM, with a child) and whose
/// other actions succeed at once. `tag` names the child's script so each
/// test finds its own processes.
fn hung_monitor_agent(d: &Lrmd, tag: &str) {
    let child = d.ocf_test_dir().join(format!("{tag}-child"));
    d.script(&child, "#!/bin/sh\nwhile :; do sleep 1; done\n");
    d.script(
        &d.ocf_test_dir().join(tag),
        &format!(
            "#!/bin/sh\ncase \"$1\" in\nmonitor) trap '' TERM; {} & while :; do sleep 1; done;;\nmeta-data) exit 0;;\nesac\nexit 0\n",
            child.display()
        ),
    );
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool, within: Duration) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the hung monitor (and its child) really run.
fn wait_hung(tag: &str) {
    wait_for("the hung monitor's child never ran", || !pids_marked(&format!("resource.d/test/{tag}-child")).is_empty(), Duration::from_secs(10));
}

fn assert_group_gone(tag: &str, within: Duration) {
    wait_for(
        "the cancelled agent's process group survived",
        || pids_marked(&format!("resource.d/test/{tag}")).is_empty(),
        within,
    );
}

/// The next event.
fn next(c: &mut Client) -> lrmd::op::OpRecord {
    c.next_event(Duration::from_secs(10)).unwrap().expect("an event")
}

#[test]
fn cancel_kills_a_hung_monitor_and_the_resource_is_free_at_once() {
    let d = Lrmd::start();
    hung_monitor_agent(&d, "HangA");
    let mut c = d.client();
    c.register(ocf("h", "test", "HangA")).unwrap();
    let t = Instant::now();
    // A minute's timeout: only the kill can end it within this test.
    let mon = c.exec(OpRequest::new("h", "monitor", 5_000, 60_000)).unwrap();
    wait_hung("HangA");
    c.cancel("h", "monitor", 5_000).unwrap();
    let r = next(&mut c);
    assert_eq!((r.call_id, r.status), (mon, OpStatus::Cancelled));
    // lrmd's grace is 500 ms in the tests; the agent ignores SIGTERM, so
    // SIGKILL ends it.
    assert_group_gone("HangA", Duration::from_secs(5));
    // The next operation runs as soon as the agent is gone, not at the
    // monitor's timeout; the killed run's result is never reported.
    let r = op(&mut c, "h", "stop", 0, 10_000);
    assert_eq!((r.action.as_str(), r.rc, r.status), ("stop", rc::OK, OpStatus::Done));
    assert!(t.elapsed() < Duration::from_secs(20), "waited for the hung monitor: {:?}", t.elapsed());
    assert_eq!(c.next_event(Duration::from_millis(500)).unwrap(), None);
}

#[test]
fn replacing_a_recurring_monitor_under_way_kills_the_old_run() {
    let d = Lrmd::start();
    hung_monitor_agent(&d, "HangB");
    let mut c = d.client();
    c.register(ocf("h", "test", "HangB")).unwrap();
    let old = c.exec(OpRequest::new("h", "monitor", 5_000, 60_000)).unwrap();
    wait_hung("HangB");
    let old_pids = pids_marked("resource.d/test/HangB-child");
    let new = c.exec(OpRequest::new("h", "monitor", 5_000, 60_000)).unwrap();
    let r = next(&mut c);
    assert_eq!((r.call_id, r.status), (old, OpStatus::Cancelled));
    // The old run's processes go; the new run starts its own.
    wait_for(
        "the replaced run survived",
        || {
            let now = pids_marked("resource.d/test/HangB-child");
            old_pids.iter().all(|p| !now.contains(p))
        },
        Duration::from_secs(5),
    );
    wait_hung("HangB");
    c.cancel("h", "monitor", 5_000).unwrap();
    let r = next(&mut c);
    assert_eq!((r.call_id, r.status), (new, OpStatus::Cancelled));
    assert_group_gone("HangB", Duration::from_secs(5));
}

#[test]
fn unregister_kills_the_run_under_way() {
    let mut d = Lrmd::start();
    hung_monitor_agent(&d, "HangC");
    let mut c = d.client();
    c.register(ocf("h", "test", "HangC")).unwrap();
    let probe = c.exec(OpRequest::new("h", "monitor", 0, 60_000)).unwrap();
    wait_hung("HangC");
    c.unregister("h").unwrap();
    let r = next(&mut c);
    assert_eq!((r.call_id, r.status), (probe, OpStatus::Cancelled));
    assert_group_gone("HangC", Duration::from_secs(5));
    assert!(c.resources().unwrap().is_empty());
    // Registered again, it works normally.
    c.register(ocf("h", "test", "HangC")).unwrap();
    assert_eq!(op(&mut c, "h", "start", 0, 10_000).rc, rc::OK);
    assert!(d.alive());
}
