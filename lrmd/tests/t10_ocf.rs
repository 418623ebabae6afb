//! OCF agents through the daemon socket: Debian's ocf:heartbeat:Dummy, the
//! project's ocf:heartbeat-rs:Dummy, and test agents that show what the
//! agent sees.

mod common;

use common::*;
use lrmd::op::{rc, OpRequest, OpStatus};
use std::time::Duration;

fn lifecycle(provider: &str) {
    let d = Lrmd::start();
    let mut c = d.client();
    c.register(ocf("d1", provider, "Dummy")).unwrap();
    let state = d.rsctmp().join("Dummy-d1.state");

    let probe = op(&mut c, "d1", "monitor", 0, 20_000);
    assert_eq!((probe.key.as_str(), probe.rc, probe.status), ("d1_monitor_0", rc::NOT_RUNNING, OpStatus::Done), "{probe:?}");
    let start = op(&mut c, "d1", "start", 0, 20_000);
    assert_eq!((start.rc, start.status), (rc::OK, OpStatus::Done), "{start:?}");
    assert!(state.exists(), "the state file is under the node's HA_RSCTMP");
    let mon = op(&mut c, "d1", "monitor", 0, 20_000);
    assert_eq!(mon.rc, rc::OK);
    let stop = op(&mut c, "d1", "stop", 0, 20_000);
    assert_eq!(stop.rc, rc::OK);
    assert!(!state.exists());
    let probe2 = op(&mut c, "d1", "monitor", 0, 20_000);
    assert_eq!(probe2.rc, rc::NOT_RUNNING);

    // Call ids count up; the history keeps the latest per key.
    assert_eq!([probe.call_id, start.call_id, mon.call_id, stop.call_id, probe2.call_id], [1, 2, 3, 4, 5]);
    let (history, recurring) = c.history("d1").unwrap();
    let keys: Vec<(&str, u32, i32)> = history.iter().map(|r| (r.key.as_str(), r.call_id, r.rc)).collect();
    assert_eq!(keys, [("d1_monitor_0", 5, 7), ("d1_start_0", 2, 0), ("d1_stop_0", 4, 0)]);
    assert!(recurring.is_empty());
    assert!(history.iter().all(|r| r.last_run > 1_600_000_000 && r.last_rc_change >= r.last_run));
}

#[test]
fn debian_heartbeat_dummy_probe_start_monitor_stop() {
    lifecycle("heartbeat");
}

#[test]
fn our_dummy_probe_start_monitor_stop() {
    lifecycle("heartbeat-rs");
}

#[test]
fn meta_data_comes_back_as_output() {
    let d = Lrmd::start();
    let mut c = d.client();
    c.register(ocf("d", "heartbeat", "Dummy")).unwrap();
    c.register(ocf("ours", "heartbeat-rs", "Dummy")).unwrap();
    for rsc in ["d", "ours"] {
        let r = op(&mut c, rsc, "meta-data", 0, 5_000);
        assert_eq!(r.rc, rc::OK);
        assert!(r.output.contains("<resource-agent name=\"Dummy\""), "{}", r.output);
    }
}

#[test]
fn our_dummy_reports_an_exit_reason() {
    let d = Lrmd::start();
    let mut c = d.client();
    c.register(ocf("bad", "heartbeat-rs", "Dummy").with_param("state", "/nonexistent-dir/x.state")).unwrap();
    let r = op(&mut c, "bad", "start", 0, 5_000);
    assert_eq!((r.rc, r.status), (rc::NOT_CONFIGURED, OpStatus::Done));
    assert_eq!(r.exit_reason.as_deref(), Some("state directory /nonexistent-dir does not exist"));
}

#[test]
fn agent_environment_and_exit_codes_as_data() {
    let d = Lrmd::start();
    let dump = d.root().join("env.out");
    d.script(
        &d.ocf_test_dir().join("Env"),
        // (lrmd also asks it for meta-data, to record digests: not dumped.)
        &format!(
            "#!/bin/sh\n[ \"$1\" = meta-data ] && exit 0\nenv | sort > {}\necho \"arg=$1\" >> {}\nexit 190\n",
            dump.display(),
            dump.display()
        ),
    );
    let mut c = d.client();
    c.register(ocf("e1", "test", "Env").with_param("ip", "10.0.0.1").with_param("fake", "a b")).unwrap();
    let mut req = OpRequest::new("e1", "monitor", 0, 7_000);
    req.params.insert("OCF_CHECK_LEVEL".into(), "20".into());
    req.meta.insert("target-role".into(), "Started".into());
    let r = c.exec_wait(req, Duration::from_secs(10)).unwrap();
    assert_eq!((r.rc, r.status), (rc::DEGRADED, OpStatus::Done), "190 is a value, not an error");
    let env = std::fs::read_to_string(&dump).unwrap();
    let root = d.root().display().to_string();
    for line in [
        "OCF_RA_VERSION_MAJOR=1".to_string(),
        "OCF_RA_VERSION_MINOR=1".into(),
        format!("OCF_ROOT={root}/ocf"),
        "OCF_RESOURCE_INSTANCE=e1".into(),
        "OCF_RESOURCE_TYPE=Env".into(),
        "OCF_RESOURCE_PROVIDER=test".into(),
        "OCF_RESKEY_ip=10.0.0.1".into(),
        "OCF_RESKEY_fake=a b".into(),
        "OCF_CHECK_LEVEL=20".into(),
        "OCF_RESKEY_CRM_meta_interval=0".into(),
        "OCF_RESKEY_CRM_meta_timeout=7000".into(),
        "OCF_RESKEY_CRM_meta_target_role=Started".into(),
        format!("HA_RSCTMP={root}/rsctmp"),
        format!("HA_RUNDIR={root}/run"),
        "HA_NODENAME=node1".into(),
        "arg=monitor".into(),
    ] {
        assert!(env.lines().any(|l| l == line), "missing {line:?} in\n{env}");
    }
}
