//! End to end: three real nodes on 127.0.0.1-3 (heartbeat, ccm, cib, lrmd,
//! crmd each), one ocf:heartbeat-rs:Dummy preferring n1, no fencing.
//! Which node runs it is read from reality: the agent's state file in
//! each node's HA_RSCTMP.
//!
//! - `failover_failback_and_move`: it runs on n1 only and crm_mon says so;
//!   n1 crashes (SIGKILL of all its daemons) -> it runs on exactly one
//!   other node; n1 comes back -> it moves back; `crm_resource -M -r d -N
//!   n2` -> it runs on n2 only.
//! - `dc_crmd_killed`: the DC's crmd alone is killed -> another node
//!   becomes DC, the resource keeps running on exactly one node; the
//!   crmd restarts and rejoins without moving it.

mod cluster;

use std::time::Duration;

use cluster::{load_config, wait_for, Cluster};

/// Long enough for a cold start (initdead 2 s, ccm, election, join,
/// probes) on a loaded 2-core machine; the failover bounds are tighter.
const START: Duration = Duration::from_secs(60);
const FAILOVER: Duration = Duration::from_secs(30);

fn start_cluster(port: u16) -> Cluster {
    let mut c = Cluster::new(3, port);
    for n in &mut c.nodes {
        n.start();
    }
    load_config(&c.nodes[0]);
    c
}

#[test]
fn failover_failback_and_move() {
    let mut c = start_cluster(47_610);
    c.wait_running_on("d", "n1", START);
    // crm_mon (live) on another node shows it and the DC.
    wait_for(
        Duration::from_secs(20),
        || {
            let mon = c.nodes[1].crm_mon();
            mon.contains("Current DC: n") && mon.lines().any(|l| l.contains("d\t") || l.contains(" d ")) && mon.contains("Started n1")
        },
        || format!("crm_mon to show d Started n1 and the DC:\n{}", c.nodes[1].crm_mon()),
    );

    // n1 crashes: d is started on one other node within the bound.
    c.node("n1").crash();
    wait_for(FAILOVER, || c.running("d").len() == 1, || format!("d to fail over (runs on {:?})\n{}", c.running("d"), c.logs()));
    let elsewhere = c.running("d");
    assert_ne!(elsewhere, ["n1"], "n1 is down");
    // And stays on exactly one node.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(c.running("d"), elsewhere, "{}", c.logs());

    // n1 comes back: the preference moves d home.
    c.node("n1").start();
    c.wait_running_on("d", "n1", START);

    // crm_resource -M (live) moves it to n2.
    let o = c.nodes[2].tool("crm_resource", &["-M", "-r", "d", "-N", "n2"]);
    assert!(o.status.success(), "crm_resource -M: {}", String::from_utf8_lossy(&o.stderr));
    c.wait_running_on("d", "n2", FAILOVER);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(c.running("d"), ["n2"], "{}", c.logs());
}

#[test]
fn dc_crmd_killed() {
    let mut c = start_cluster(47_620);
    c.wait_running_on("d", "n1", START);
    let mut dc = None;
    wait_for(Duration::from_secs(20), || {
        dc = c.dc("n2");
        dc.is_some()
    }, || format!("a DC in crm_mon:\n{}", c.nodes[1].crm_mon()));
    let dc = dc.unwrap();
    let other = if dc == "n2" { "n3" } else { "n2" };
    c.node(&dc).kill("crmd");
    // Another node takes over as DC.
    wait_for(
        FAILOVER,
        || c.dc(other).is_some_and(|d| d != dc),
        || format!("a new DC after {dc}'s crmd died (crm_mon on {other}: {:?})\n{}", c.dc(other), c.logs()),
    );
    // The resource never stops running nor runs twice meanwhile.
    for _ in 0..10 {
        assert_eq!(c.running("d"), ["n1"], "{}", c.logs());
        std::thread::sleep(Duration::from_millis(500));
    }
    // The crmd comes back (as heartbeat would respawn it) and rejoins.
    c.node(&dc).start_one("crmd");
    let log_ok = |c: &Cluster| c.nodes.iter().find(|n| n.name == dc).is_some_and(|n| n.crmd_log().matches("S_NOT_DC").count() > 0 || n.crmd_log().contains("-> S_IDLE"));
    wait_for(FAILOVER, || log_ok(&c), || format!("{dc}'s new crmd to join\n{}", c.logs()));
    for _ in 0..10 {
        assert_eq!(c.running("d"), ["n1"], "{}", c.logs());
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_failed_monitor_is_counted_and_recovered() {
    let c = start_cluster(47_630);
    c.wait_running_on("d", "n1", START);
    // The agent's monitor finds its state file gone: "not running" (7).
    let state = c.nodes[0].rsctmp.join("Dummy-d.state");
    wait_for(Duration::from_secs(10), || c.nodes[0].crmd_log().contains("d_monitor_2000: ok"), || format!("the monitor to run\n{}", c.logs()));
    std::fs::remove_file(&state).unwrap();
    // n1 records the failure and its fail count; the DC restarts d there
    // (migration-threshold is INFINITY and n1 is preferred).
    let failcount = |c: &Cluster| {
        let o = c.nodes[2].tool("cibadmin", &["-Q", "-o", "status"]);
        String::from_utf8_lossy(&o.stdout).lines().any(|l| l.contains(r#"name="fail-count-d#monitor_2000""#) && l.contains(r#"value="1""#))
    };
    wait_for(FAILOVER, || failcount(&c), || format!("fail-count-d#monitor_2000=1 in the status\n{}", c.logs()));
    wait_for(FAILOVER, || state.exists(), || format!("d to be restarted on n1\n{}", c.logs()));
    c.wait_running_on("d", "n1", FAILOVER);
    assert!(c.nodes[0].crmd_log().contains("Operation d_monitor_2000: not running"), "{}", c.logs());
    if std::env::var_os("CRMD_T60_LOGS").is_some() {
        eprintln!("{}", c.logs());
    }
}

#[test]
fn a_clean_crmd_shutdown_moves_resources_first() {
    let mut c = start_cluster(47_640);
    c.wait_running_on("d", "n1", START);
    // SIGTERM to n1's crmd: d moves away, then the crmd exits.
    let pid = c.node("n1").procs.iter().find(|(d, _)| *d == "crmd").map(|(_, p)| p.0.id()).unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    wait_for(FAILOVER, || c.running("d").len() == 1 && !c.nodes[0].runs("d"), || format!("d to move off n1 (runs on {:?})\n{}", c.running("d"), c.logs()));
    let exited = |c: &mut Cluster| {
        let n1 = c.node("n1");
        n1.procs.iter_mut().find(|(d, _)| *d == "crmd").is_some_and(|(_, p)| matches!(p.0.try_wait(), Ok(Some(_))))
    };
    wait_for(FAILOVER, || exited(&mut c), || "n1's crmd to exit".into());
    // Back again: the old shutdown request is forgotten, d comes home.
    c.node("n1").kill("crmd");
    c.node("n1").start_one("crmd");
    c.wait_running_on("d", "n1", START);
    if std::env::var_os("CRMD_T60_LOGS").is_some() {
        eprintln!("{}", c.logs());
    }
}
