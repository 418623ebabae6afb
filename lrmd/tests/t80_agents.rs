//! The project's own agents (agents/), run through lrmd's socket:
//! Stateful (promotable, promotion scores through crm_attribute), Httpd
//! (ha-httpd, monitor by HTTP GET), the witness log of Dummy/Httpd with
//! `ha-witness-check`, and the lab fence agent.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use lrmd::op::{rc, OpRequest, OpStatus};
use lrmd::resource::{AgentClass, ResourceSpec};
use lrmd::witness::{self, Event};

/// A free loopback port (bound, read, released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn http_get(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).ok()?;
    reply.split_once("\r\n\r\n").map(|(_, body)| body.to_string())
}

fn exec_with(c: &mut lrmd::client::Client, rsc: &str, action: &str, meta: &[(&str, &str)]) -> lrmd::op::OpRecord {
    let mut req = OpRequest::new(rsc, action, 0, 20_000);
    req.meta = meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
    c.exec_wait(req, Duration::from_secs(30)).unwrap()
}

#[test]
fn stateful_reports_roles_and_sets_promotion_scores() {
    let d = Lrmd::start();
    // A stand-in crm_attribute that records its arguments: what the agent
    // asks of the CIB is the contract under test.
    let calls = d.root().join("crm_attribute.calls");
    let fake = d.root().join("fake_crm_attribute");
    d.script(&fake, &format!("#!/bin/sh\necho \"$*\" >> {}\n", calls.display()));
    let notes = d.root().join("notify.log");
    let mut c = d.client();
    c.register(
        ocf("ms:0", "heartbeat-rs", "Stateful")
            .with_param("crm_attribute", fake.to_str().unwrap())
            .with_param("notify_log", notes.to_str().unwrap()),
    )
    .unwrap();
    let calls_text = || std::fs::read_to_string(&calls).unwrap_or_default();

    assert_eq!(op(&mut c, "ms:0", "monitor", 0, 20_000).rc, rc::NOT_RUNNING);
    assert_eq!(calls_text(), "", "a probe of a stopped instance sets no score");
    assert_eq!(op(&mut c, "ms:0", "start", 0, 20_000).rc, rc::OK);
    assert_eq!(calls_text(), "-N node1 -l reboot -n master-ms -v 5\n");
    assert_eq!(op(&mut c, "ms:0", "monitor", 0, 20_000).rc, rc::OK);
    assert_eq!(op(&mut c, "ms:0", "promote", 0, 20_000).rc, rc::OK);
    assert!(calls_text().ends_with("-N node1 -l reboot -n master-ms -v 10\n"), "{}", calls_text());
    let r = op(&mut c, "ms:0", "monitor", 0, 20_000);
    assert_eq!((r.rc, r.status), (rc::RUNNING_PROMOTED, OpStatus::Done));
    assert_eq!(op(&mut c, "ms:0", "demote", 0, 20_000).rc, rc::OK);
    assert_eq!(op(&mut c, "ms:0", "monitor", 0, 20_000).rc, rc::OK);
    let r = exec_with(&mut c, "ms:0", "notify", &[("notify_type", "pre"), ("notify_operation", "promote")]);
    assert_eq!(r.rc, rc::OK);
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "pre-promote\n");
    assert_eq!(op(&mut c, "ms:0", "stop", 0, 20_000).rc, rc::OK);
    assert!(calls_text().ends_with("-N node1 -l reboot -n master-ms -D\n"), "{}", calls_text());
    assert_eq!(op(&mut c, "ms:0", "monitor", 0, 20_000).rc, rc::NOT_RUNNING);
    // Promoting a stopped instance fails clearly.
    let r = op(&mut c, "ms:0", "promote", 0, 20_000);
    assert_eq!((r.rc, r.exit_reason.as_deref()), (rc::NOT_RUNNING, Some("cannot promote: not running")));
    // Meta-data is well-formed and names the promotable actions.
    let r = op(&mut c, "ms:0", "meta-data", 0, 5_000);
    assert!(r.output.contains("<action name=\"promote\"") && r.output.contains("<action name=\"demote\""));
}

#[test]
fn httpd_serves_the_node_name_and_its_monitor_is_an_http_get() {
    let d = Lrmd::start_as("alpha");
    let port = free_port();
    let log = d.root().join("witness.log");
    let mut c = d.client();
    c.register(
        ocf("web", "heartbeat-rs", "Httpd")
            .with_param("ip", "127.0.0.1")
            .with_param("port", &port.to_string())
            .with_param("witness", log.to_str().unwrap()),
    )
    .unwrap();
    assert_eq!(op(&mut c, "web", "monitor", 0, 20_000).rc, rc::NOT_RUNNING);
    let r = op(&mut c, "web", "start", 0, 20_000);
    assert_eq!((r.rc, r.status), (rc::OK, OpStatus::Done), "{r:?}");
    assert_eq!(http_get(port).as_deref(), Some("alpha\n"));
    assert_eq!(op(&mut c, "web", "monitor", 0, 20_000).rc, rc::OK);

    // The server dies behind lrmd's back: the monitor sees it.
    let pid: i32 = std::fs::read_to_string(d.rsctmp().join("Httpd-web.pid")).unwrap().trim().parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while op(&mut c, "web", "monitor", 0, 20_000).rc != rc::NOT_RUNNING {
        assert!(Instant::now() < deadline, "the monitor never saw the dead server");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(op(&mut c, "web", "start", 0, 20_000).rc, rc::OK);
    assert_eq!(op(&mut c, "web", "stop", 0, 20_000).rc, rc::OK);
    assert_eq!(http_get(port), None, "the port still answers after stop");
    assert_eq!(op(&mut c, "web", "monitor", 0, 20_000).rc, rc::NOT_RUNNING);

    // Two starts and two stops, in order, on node alpha.
    let entries = witness::parse(&std::fs::read_to_string(&log).unwrap()).unwrap();
    let events: Vec<(&str, Event, &str)> = entries.iter().map(|e| (e.node.as_str(), e.event, e.rsc.as_str())).collect();
    assert_eq!(events, [("alpha", Event::Start, "web"), ("alpha", Event::Start, "web"), ("alpha", Event::Stop, "web")]);
    assert!(entries.windows(2).all(|w| w[0].mono_ns <= w[1].mono_ns));
}

#[test]
fn httpd_serves_a_docroot_and_reports_a_busy_port() {
    let d = Lrmd::start();
    let port = free_port();
    let root = d.root().join("www");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("index.html"), "hello from the docroot\n").unwrap();
    let mut c = d.client();
    let spec = |id: &str| {
        ocf(id, "heartbeat-rs", "Httpd")
            .with_param("ip", "127.0.0.1")
            .with_param("port", &port.to_string())
            .with_param("docroot", root.to_str().unwrap())
    };
    c.register(spec("a")).unwrap();
    c.register(spec("b")).unwrap();
    assert_eq!(op(&mut c, "a", "start", 0, 20_000).rc, rc::OK);
    assert_eq!(http_get(port).as_deref(), Some("hello from the docroot\n"));
    // Same port again: the server cannot bind; the start fails and says why.
    let r = op(&mut c, "b", "start", 0, 20_000);
    assert_eq!(r.rc, rc::UNKNOWN_ERROR);
    assert!(r.exit_reason.as_deref().unwrap_or("").starts_with("ha-httpd exited"), "{r:?}");
    assert_eq!(op(&mut c, "a", "stop", 0, 20_000).rc, rc::OK);
}

fn witness_check(log: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ha-witness-check")).arg(log).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn witness_check_proves_a_clean_failover_and_catches_a_double_run() {
    let n1 = Lrmd::start_as("n1");
    let n2 = Lrmd::start_as("n2");
    let log = n1.root().join("shared-witness.log");
    let spec = ocf("d", "heartbeat-rs", "Dummy").with_param("witness", log.to_str().unwrap());
    let (mut c1, mut c2) = (n1.client(), n2.client());
    c1.register(spec.clone()).unwrap();
    c2.register(spec).unwrap();

    // A failover: n1 stops before n2 starts.
    assert_eq!(op(&mut c1, "d", "start", 0, 20_000).rc, rc::OK);
    assert_eq!(op(&mut c1, "d", "stop", 0, 20_000).rc, rc::OK);
    assert_eq!(op(&mut c2, "d", "start", 0, 20_000).rc, rc::OK);
    let (code, out) = witness_check(&log);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok: 3 events, 2 starts"), "{out}");

    // n1 starts it again while n2 runs it: a double run.
    assert_eq!(op(&mut c1, "d", "start", 0, 20_000).rc, rc::OK);
    let (code, out) = witness_check(&log);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("DOUBLE RUN: d started on n1 at "), "{out}");
    assert!(out.contains("while running on n2 since"), "{out}");

    // An unwritable witness log fails the start rather than hiding it.
    let mut c = n2.client();
    c.register(ocf("e", "heartbeat-rs", "Dummy").with_param("witness", "/nonexistent/dir/w.log")).unwrap();
    let r = op(&mut c, "e", "start", 0, 20_000);
    assert_eq!(r.rc, rc::UNKNOWN_ERROR);
    assert_eq!(r.exit_reason.as_deref(), Some("cannot append to witness log /nonexistent/dir/w.log"));
}

/// A stand-in for a lab node: `unshare --pid --fork` makes a PID namespace
/// whose init (a shell) has a child, as a node's init has its daemons.
/// Killed on drop.
struct FakeNode {
    unshare: std::process::Child,
    init: i32,
}

impl FakeNode {
    /// None when namespaces cannot be made (not root).
    fn start(marker: &str) -> Option<FakeNode> {
        let mut unshare = Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "sh", "-c"])
            .arg(format!("sleep 1000 & exec sleep 1001 # {marker}"))
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            // The init: unshare's child, pid 1 in its namespace.
            let children = std::fs::read_to_string(format!("/proc/{}/task/{}/children", unshare.id(), unshare.id())).unwrap_or_default();
            if let Some(init) = children.split_whitespace().next().and_then(|p| p.parse().ok()) {
                return Some(FakeNode { unshare, init });
            }
            if unshare.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
                let _ = unshare.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

use std::os::unix::process::CommandExt;

impl Drop for FakeNode {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.init), nix::sys::signal::Signal::SIGKILL);
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
    }
}

#[test]
fn lab_fence_agent_powers_a_node_off_and_records_it() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: fencing a PID namespace needs root (unshare --pid)");
        return;
    }
    let d = Lrmd::start();
    let agent = Path::new(env!("CARGO_MANIFEST_DIR")).join("../agents/fence/fence_lab").canonicalize().unwrap();
    symlink(&agent, d.stonith_dir().join("fence_lab")).unwrap();
    let marker = format!("fencetest-{}", std::process::id());
    let node = FakeNode::start(&marker).expect("unshare --pid works as root");
    let pids = d.root().join("pids");
    std::fs::create_dir_all(&pids).unwrap();
    let net = std::fs::read_link(format!("/proc/{}/ns/net", node.init)).unwrap();
    std::fs::write(pids.join("labn1.pid"), format!("{} {}\n", node.init, net.display())).unwrap();
    // A stale file: a pid that is alive (ours) but not with that namespace.
    std::fs::write(pids.join("labn2.pid"), format!("{} net:[1]\n", std::process::id())).unwrap();
    let log = d.root().join("witness.log");

    let mut c = d.client();
    c.register(
        ResourceSpec::new("fence", AgentClass::Stonith, None, "fence_lab")
            .with_param("pid_dir", pids.to_str().unwrap())
            .with_param("witness", log.to_str().unwrap()),
    )
    .unwrap();
    let run = |c: &mut lrmd::client::Client, action: &str, port: Option<&str>| {
        let mut req = OpRequest::new("fence", action, 0, 20_000);
        if let Some(p) = port {
            req.params.insert("port".into(), p.into());
        }
        c.exec_wait(req, Duration::from_secs(30)).unwrap()
    };
    assert_eq!(run(&mut c, "start", None).rc, rc::OK, "start = monitor: the pid dir is there");
    let r = run(&mut c, "list", None);
    assert_eq!((r.rc, r.output.as_str()), (rc::OK, "labn1\nlabn2\n"));
    assert_eq!(run(&mut c, "status", Some("labn1")).rc, rc::OK);
    assert_eq!(run(&mut c, "status", Some("labn2")).rc, rc::UNKNOWN_ERROR, "a stale pid file is off");
    assert!(!pids_marked(&marker).is_empty());

    let r = run(&mut c, "off", Some("labn1"));
    assert_eq!((r.rc, r.status), (rc::OK, OpStatus::Done), "{r:?}");
    // The whole namespace is gone: init and its child.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pids_marked(&marker).is_empty() || Path::new(&format!("/proc/{}/ns", node.init)).exists() {
        assert!(Instant::now() < deadline, "the node survived fencing: {:?}", pids_marked(&marker));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(run(&mut c, "status", Some("labn1")).rc, rc::UNKNOWN_ERROR);
    let entries = witness::parse(&std::fs::read_to_string(&log).unwrap()).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].node.as_str(), entries[0].event, entries[0].rsc.as_str()), ("labn1", Event::Fenced, "-"));
    // Our own process, named by the stale file, was never touched; "on"
    // is the lab's.
    assert_eq!(run(&mut c, "off", Some("labn2")).rc, rc::OK);
    assert_eq!(run(&mut c, "on", Some("labn1")).rc, rc::UNKNOWN_ERROR);
    let r = run(&mut c, "meta-data", None);
    assert!(r.output.contains("<resource-agent name=\"fence_lab\""));
}
