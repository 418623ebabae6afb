//! Agents that misbehave: hung, double-forking, missing, not executable,
//! crashing. lrmd turns each into a failed operation and stays responsive.

mod common;

use common::*;
use lrmd::op::{rc, OpRequest, OpStatus};
use lrmd::resource::{AgentClass, ResourceSpec};
use std::time::{Duration, Instant};

#[test]
fn hung_agent_is_killed_at_its_timeout_with_its_whole_group() {
    let mut d = Lrmd::start();
    let child = d.ocf_test_dir().join("hang-child");
    // The child ignores nothing; the agent ignores SIGTERM, so only the
    // SIGKILL to the group ends both.
    d.script(&child, "#!/bin/sh\nwhile :; do sleep 1; done\n");
    d.script(&d.ocf_test_dir().join("Hang"), &format!("#!/bin/sh\ntrap '' TERM\n{} &\nwhile :; do sleep 1; done\n", child.display()));
    let mut c = d.client();
    c.register(ocf("h", "test", "Hang")).unwrap();
    c.register(ocf("ok", "heartbeat-rs", "Dummy")).unwrap();

    let started = Instant::now();
    // The timeout leaves room for a loaded machine (CI has two cores) to
    // run the Dummy start below well before it.
    let hung = c.exec(OpRequest::new("h", "monitor", 0, 5_000)).unwrap();
    // While it hangs, other resources are served at once.
    let r = op(&mut c, "ok", "start", 0, 5_000);
    assert_eq!(r.rc, rc::OK);
    assert!(started.elapsed() < Duration::from_millis(4_500), "lrmd was blocked: {:?}", started.elapsed());
    // The agent may not have forked its child yet on a busy machine.
    let deadline = Instant::now() + Duration::from_millis(4_000);
    while pids_marked("resource.d/test/hang-child").is_empty() {
        assert!(Instant::now() < deadline, "the agent's child never ran");
        std::thread::sleep(Duration::from_millis(50));
    }

    let r = c.next_event(Duration::from_secs(15)).unwrap().expect("timeout result");
    let took = started.elapsed();
    assert_eq!((r.call_id, r.rc, r.status), (hung, rc::UNKNOWN_ERROR, OpStatus::Timeout));
    assert_eq!(r.exit_reason.as_deref(), Some("agent timed out after 5000ms"));
    assert!(took >= Duration::from_millis(5_000) && took < Duration::from_secs(11), "{took:?}");
    // The whole process group is gone (give the kernel a moment to reap).
    let deadline = Instant::now() + Duration::from_secs(2);
    while !pids_marked("resource.d/test/Hang").is_empty() || !pids_marked("resource.d/test/hang-child").is_empty() {
        assert!(Instant::now() < deadline, "the hung agent's group survived");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(d.alive());
    assert_eq!(op(&mut c, "ok", "monitor", 0, 5_000).rc, rc::OK);
}

#[test]
fn double_forking_agent_does_not_hang_the_operation() {
    let d = Lrmd::start();
    let daemon = d.ocf_test_dir().join("forked-daemon");
    d.script(&daemon, "#!/bin/sh\nwhile :; do sleep 1; echo tick; done\n");
    // The daemon inherits stdout and stderr, so the pipes never close.
    d.script(&d.ocf_test_dir().join("Forker"), &format!("#!/bin/sh\n( {} & )\necho started\nexit 0\n", daemon.display()));
    let mut c = d.client();
    c.register(ocf("f", "test", "Forker")).unwrap();
    let t = Instant::now();
    let r = op(&mut c, "f", "start", 0, 10_000);
    let took = t.elapsed();
    let alive = pids_marked("resource.d/test/forked-daemon");
    kill_marked("resource.d/test/forked-daemon");
    assert_eq!((r.rc, r.status), (rc::OK, OpStatus::Done));
    assert!(took < Duration::from_secs(3), "the operation waited for the daemon's pipes: {took:?}");
    assert!(r.output.starts_with("started\n"), "{:?}", r.output);
    assert!(!alive.is_empty(), "a successful start must not kill what it started");
}

#[test]
fn missing_non_executable_and_crashing_agents_are_failed_operations() {
    let mut d = Lrmd::start();
    let noexec = d.ocf_test_dir().join("NoExec");
    std::fs::write(&noexec, "#!/bin/sh\nexit 0\n").unwrap();
    d.script(&d.ocf_test_dir().join("Crash"), "#!/bin/sh\nkill -SEGV $$\n");
    let mut c = d.client();
    c.register(ocf("missing", "test", "Nope")).unwrap();
    c.register(ocf("noexec", "test", "NoExec")).unwrap();
    c.register(ocf("crash", "test", "Crash")).unwrap();
    c.register(ResourceSpec::new("lsbmissing", AgentClass::Lsb, None, "nope")).unwrap();
    c.register(ResourceSpec::from_haresources("Nope::1.2.3.4")).unwrap();

    let r = op(&mut c, "missing", "start", 0, 5_000);
    assert_eq!((r.rc, r.status), (rc::NOT_INSTALLED, OpStatus::NotInstalled));
    assert!(r.exit_reason.unwrap().ends_with("ocf/resource.d/test/Nope is not installed"));
    let r = op(&mut c, "noexec", "start", 0, 5_000);
    assert_eq!((r.rc, r.status), (rc::INSUFFICIENT_PRIV, OpStatus::Error));
    assert!(r.exit_reason.unwrap().ends_with("is not executable"));
    let r = op(&mut c, "crash", "monitor", 0, 5_000);
    assert_eq!((r.rc, r.status), (rc::UNKNOWN_ERROR, OpStatus::Error));
    assert_eq!(r.exit_reason.as_deref(), Some("agent was killed by signal 11 (SIGSEGV)"));
    assert_eq!(op(&mut c, "lsbmissing", "monitor", 0, 5_000).status, OpStatus::NotInstalled);
    assert_eq!(op(&mut c, "Nope::1.2.3.4", "start", 0, 5_000).status, OpStatus::NotInstalled);

    // Requests lrmd cannot take are refused, not fatal.
    assert!(c.exec(OpRequest::new("unknown", "start", 0, 1_000)).is_err());
    assert!(c.cancel("crash", "monitor", 5_000).is_err());
    assert!(d.alive());
    assert_eq!(c.resources().unwrap().len(), 5);
}

#[test]
fn output_is_capped() {
    let d = Lrmd::start();
    d.script(&d.ocf_test_dir().join("Chatty"), "#!/bin/sh\nhead -c 1000000 /dev/zero | tr '\\0' x\nexit 0\n");
    let mut c = d.client();
    c.register(ocf("chatty", "test", "Chatty")).unwrap();
    let r = op(&mut c, "chatty", "monitor", 0, 10_000);
    assert_eq!(r.rc, rc::OK);
    assert_eq!(r.output.len(), 64 * 1024);
}
