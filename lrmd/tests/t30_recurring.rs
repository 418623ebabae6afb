//! Recurring monitors through the daemon socket: a killed resource is
//! reported once, within interval + timeout; cancel stops the monitor.

mod common;

use common::*;
use lrmd::op::{rc, OpRequest, OpStatus};
use std::time::{Duration, Instant};

#[test]
fn one_second_monitor_reports_a_killed_dummy_once_and_cancel_stops_it() {
    let d = Lrmd::start();
    let mut c = d.client();
    c.register(ocf("d1", "heartbeat", "Dummy")).unwrap();
    assert_eq!(op(&mut c, "d1", "start", 0, 20_000).rc, rc::OK);

    let interval = Duration::from_millis(1_000);
    let timeout = Duration::from_millis(5_000);
    let call_id = c.exec(OpRequest::new("d1", "monitor", 1_000, 5_000)).unwrap();
    let first = c.next_event(timeout).unwrap().expect("the first result is always reported");
    assert_eq!((first.call_id, first.key.as_str(), first.rc), (call_id, "d1_monitor_1000", rc::OK));

    // Healthy: the monitor keeps running (history moves on) but says nothing.
    assert_eq!(c.next_event(Duration::from_millis(2_500)).unwrap(), None);
    let (history, recurring) = c.history("d1").unwrap();
    let last = history.iter().find(|r| r.key == "d1_monitor_1000").unwrap();
    assert!(last.last_run > first.last_run, "the monitor ran again: {last:?}");
    assert_eq!(recurring.len(), 1);

    // Kill the resource behind lrmd's back.
    let killed_at = Instant::now();
    std::fs::remove_file(d.rsctmp().join("Dummy-d1.state")).unwrap();
    let failure = c.next_event(interval + timeout).unwrap().expect("the failure is reported");
    let latency = killed_at.elapsed();
    assert_eq!((failure.call_id, failure.rc, failure.status), (call_id, rc::NOT_RUNNING, OpStatus::Done));
    assert!(latency <= interval + timeout, "reported after {latency:?}");
    // Still failing, but no duplicate report.
    assert_eq!(c.next_event(Duration::from_millis(3_000)).unwrap(), None);

    c.cancel("d1", "monitor", 1_000).unwrap();
    let cancelled = c.next_event(Duration::from_secs(2)).unwrap().expect("cancel is reported");
    assert_eq!((cancelled.call_id, cancelled.status), (call_id, OpStatus::Cancelled));
    // Restart the resource: a monitor still running would now report rc 0.
    assert_eq!(op(&mut c, "d1", "start", 0, 20_000).rc, rc::OK);
    assert_eq!(c.next_event(Duration::from_millis(2_500)).unwrap(), None);
    assert!(c.history("d1").unwrap().1.is_empty());
    assert!(c.cancel("d1", "monitor", 1_000).is_err(), "nothing left to cancel");
}

#[test]
fn operations_on_one_resource_queue_behind_each_other() {
    let d = Lrmd::start();
    let mut c = d.client();
    c.register(ocf("slow", "heartbeat-rs", "Dummy").with_param("op_sleep", "1")).unwrap();
    let start = c.exec(OpRequest::new("slow", "start", 0, 10_000)).unwrap();
    let mon = c.exec(OpRequest::new("slow", "monitor", 0, 10_000)).unwrap();
    let a = c.next_event(Duration::from_secs(10)).unwrap().unwrap();
    let b = c.next_event(Duration::from_secs(10)).unwrap().unwrap();
    assert_eq!((a.call_id, b.call_id), (start, mon), "FIFO per resource");
    assert_eq!(b.rc, rc::OK, "the monitor ran after the start finished");
    assert!(a.exec_ms >= 1_000, "{a:?}");
    assert!(b.queue_ms >= 900, "the monitor waited for the start: {b:?}");
}
