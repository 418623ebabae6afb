//! End to end with heartbeat as the launcher: ha.cf says `crm respawn`,
//! the test starts only heartbeat on each of three nodes (127.0.0.1-3),
//! and heartbeat starts ccm, cib, lrmd, attrd, pengine and crmd. One
//! ocf:heartbeat:Dummy (Debian's resource-agents; its state file lives in
//! the node's HA_RSCTMP) prefers n1.
//!
//! - it runs on n1 only;
//! - n1's crmd is SIGKILLed: heartbeat respawns it, it rejoins, and the
//!   resource never leaves n1 nor runs twice.
//!
//! The guard stops each heartbeat (SIGTERM: children first), then
//! SIGKILLs whatever process still carries one of the test's HA_RUNDIRs.

mod cluster;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cluster::{wait_for, Node, Proc};

const PORT: u16 = 47_650;

/// Processes whose environment names `rundir` as HA_RUNDIR (the node's
/// heartbeat and every child it started).
fn pids_of(rundir: &Path) -> Vec<i32> {
    let needle = format!("HA_RUNDIR={}", rundir.display());
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
        if let Ok(env) = std::fs::read(e.path().join("environ")) {
            if env.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
                pids.push(pid);
            }
        }
    }
    pids
}

fn kill(pid: i32, sig: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
}

/// Stops a node's heartbeat and everything it launched, whatever happens.
struct Launched {
    node: Node,
    hb: Option<Proc>,
}

impl Drop for Launched {
    fn drop(&mut self) {
        if let Some(mut hb) = self.hb.take() {
            kill(hb.0.id() as i32, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && !matches!(hb.0.try_wait(), Ok(Some(_))) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        for pid in pids_of(&self.node.run) {
            kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

fn read_pid(path: PathBuf) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[test]
fn heartbeat_launches_the_stack_and_respawns_crmd() {
    let tmp = tempfile::tempdir().unwrap();
    let mut nodes: Vec<Launched> = (1..=3)
        .map(|i| {
            let node = Node::new(tmp.path(), i, 3, PORT);
            let cf = node.conf.join("ha.cf");
            let text = std::fs::read_to_string(&cf).unwrap().replace("crm no\n", "crm respawn\n");
            std::fs::write(&cf, text).unwrap();
            Launched { node, hb: None }
        })
        .collect();
    for n in &mut nodes {
        let err = std::fs::File::create(n.node.dir.join("heartbeat.stderr")).unwrap();
        n.hb = Some(Proc(n.node.command("heartbeat").arg("-f").stderr(err).spawn().unwrap()));
    }
    let n1 = &nodes[0].node;
    let log = |n: &Node| std::fs::read_to_string(n.dir.join("ha-log")).unwrap_or_default();
    wait_for(Duration::from_secs(30), || n1.run.join("cib.sock").exists(), || format!("heartbeat to start the cib\n{}", log(n1)));
    std::thread::sleep(Duration::from_secs(1));
    n1.cibadmin(&[
        "-C",
        "-o",
        "crm_config",
        "-X",
        r#"<cluster_property_set id="cib-bootstrap-options"><nvpair id="opt-stonith" name="stonith-enabled" value="false"/></cluster_property_set>"#,
    ]);
    n1.cibadmin(&["-C", "-o", "resources", "-X", r#"<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="d-mon" name="monitor" interval="2s" timeout="20s"/></operations></primitive>"#]);
    n1.cibadmin(&["-C", "-o", "constraints", "-X", r#"<rsc_location id="d-prefers-n1" rsc="d" node="n1" score="100"/>"#]);

    let running = |nodes: &[Launched]| -> Vec<String> { nodes.iter().filter(|n| n.node.runs("d")).map(|n| n.node.name.clone()).collect() };
    let logs = |nodes: &[Launched]| -> String { nodes.iter().map(|n| format!("--- {}:\n{}\n", n.node.name, log(&n.node))).collect() };
    wait_for(Duration::from_secs(90), || running(&nodes) == ["n1"], || format!("d on n1 only (runs on {:?})\n{}", running(&nodes), logs(&nodes)));

    // SIGKILL n1's crmd: heartbeat respawns it (crm respawn).
    let crmd_pid = || read_pid(nodes[0].node.run.join("crmd.pid"));
    let old = crmd_pid().expect("crmd.pid");
    kill(old, nix::sys::signal::Signal::SIGKILL);
    wait_for(
        Duration::from_secs(30),
        || crmd_pid().is_some_and(|p| p != old && std::path::Path::new(&format!("/proc/{p}")).exists()),
        || format!("heartbeat to respawn crmd\n{}", logs(&nodes)),
    );
    for _ in 0..20 {
        assert_eq!(running(&nodes), ["n1"], "{}", logs(&nodes));
        std::thread::sleep(Duration::from_millis(500));
    }
    // The new crmd has joined: its log shows it (the ha-log gets every daemon's lines).
    wait_for(
        Duration::from_secs(30),
        || log(&nodes[0].node).lines().filter(|l| l.contains("crmd") && l.contains(&format!("[{}]", crmd_pid().unwrap_or(0)))).any(|l| l.contains("S_NOT_DC") || l.contains("S_IDLE")),
        || format!("the respawned crmd to join\n{}", logs(&nodes)),
    );
    assert_eq!(running(&nodes), ["n1"], "{}", logs(&nodes));
}
