//! Seed 001 in the lab: haresources mode (`crm no`) with `ping
//! 10.213.0.254` and `respawn hacluster /usr/lib/heartbeat/ipfail`;
//! haresources `n1 IPaddr2::10.213.0.100/24/eth0 svc` (svc: a resource.d
//! script wrapping our Dummy agent, writing the witness log).
//!
//! - `the_primary_that_loses_its_ping_node_gives_its_resources_to_the_peer`:
//!   the group runs on n1; n1 cut off from the ping node alone (the
//!   seed's `iptables -I INPUT -p icmp -j DROP`) -> n1's ipfail logs the
//!   seed's steps (status dead, "We are dead", asks the other side,
//!   "Delayed giveup", "giveup() called") and puts n1 in standby; the
//!   group moves to n2 (address and service), n2 never gives up. The ping
//!   node back -> n1 leaves standby and, with auto_failback on, the group
//!   comes home. No double run (witness log).
//! - `auto_failback_off_leaves_the_group_with_the_peer_after_the_ping_node_returns`:
//!   the same give-up; the ping node back -> n1 leaves standby, the group
//!   stays on n2.

mod t85_support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

use t85_support::{repo, wait_for, Cluster, PING};

const VIP: &str = "10.213.0.100";
const START: Duration = Duration::from_secs(90);
const MOVE: Duration = Duration::from_secs(45);

/// A Heartbeat resource.d script (`svc start|stop|status`) running our
/// Dummy agent with a witness log.
fn svc_script(witness: &str) -> String {
    format!(
        "#!/bin/sh\n\
         OCF_ROOT={ocf}; OCF_RESOURCE_INSTANCE=svc; OCF_RESKEY_state=/run/t85-svc.state; OCF_RESKEY_witness={witness}\n\
         export OCF_ROOT OCF_RESOURCE_INSTANCE OCF_RESKEY_state OCF_RESKEY_witness\n\
         agent=$OCF_ROOT/resource.d/heartbeat-rs/Dummy\n\
         case \"$1\" in\n\
         start|stop) exec \"$agent\" \"$1\" ;;\n\
         status) if \"$agent\" monitor; then echo \"svc is running\"; else echo \"svc is stopped\"; fi; exit 0 ;;\n\
         *) echo \"usage: $0 {{start|stop|status}}\" >&2; exit 1 ;;\n\
         esac\n",
        ocf = repo().join("agents/ocf").display(),
    )
}

fn vip_holders(c: &Cluster) -> Vec<String> {
    c.nodes()
        .into_iter()
        .filter(|n| {
            let o = Command::new("ip").args(["-n", &c.lab.spec.node_ns(n), "-4", "-o", "addr", "show", "dev", "eth0"]).output().unwrap();
            String::from_utf8_lossy(&o.stdout).contains(&format!("inet {VIP}/"))
        })
        .collect()
}

/// The group runs on `node` alone: the address and the service.
fn on(c: &Cluster, node: &str) -> bool {
    let holders = vip_holders(c);
    assert!(holders.len() < 2, "the address is on both nodes\n{}", c.logs(80));
    holders == [node] && c.running("svc") == [node]
}

/// Two lab nodes in haresources mode with seed 001's ha.cf lines and the
/// given auto_failback; the group on n1.
fn seed_001(prefix: &str, auto_failback: &str) -> Cluster {
    let extra = format!("ping {PING}\nrespawn hacluster /usr/lib/heartbeat/ipfail\n");
    let mut c = Cluster::new(prefix, 2, "no", &extra);
    let witness = c.witness.display().to_string();
    for n in c.nodes() {
        let conf = c.lab.spec.node_dir(&n).join("conf");
        let cf = std::fs::read_to_string(conf.join("ha.cf")).unwrap();
        assert!(cf.contains("crm no\n") && cf.contains("auto_failback on\n"), "{cf}");
        let cf = cf.replace("auto_failback on\n", &format!("auto_failback {auto_failback}\n"));
        std::fs::write(conf.join("ha.cf"), cf).unwrap();
        std::fs::write(conf.join("haresources"), format!("n1 IPaddr2::{VIP}/24/eth0 svc\n")).unwrap();
        let rd = conf.join("resource.d");
        std::fs::create_dir_all(&rd).unwrap();
        std::os::unix::fs::symlink("/etc/ha.d/resource.d/IPaddr2", rd.join("IPaddr2")).unwrap();
        std::fs::write(rd.join("svc"), svc_script(&witness)).unwrap();
        std::fs::set_permissions(rd.join("svc"), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    c.start_all();
    wait_for("the group on n1", START, || on(&c, "n1"), || format!("{}\n{}", c.crm_mon("n1", &[]), c.logs(60)));
    c
}

#[test]
fn auto_failback_off_leaves_the_group_with_the_peer_after_the_ping_node_returns() {
    let c = seed_001("ipo", "off");
    c.cut_ping("n1");
    wait_for("the group on n2", MOVE, || on(&c, "n2"), || format!("{}\n{}", c.crm_mon("n2", &[]), c.logs(80)));
    c.restore_ping("n1");
    wait_for("n1 to leave standby", MOVE, || c.log("n1").contains("Taking resources back"), || c.logs(60));
    wait_for(
        "crm_mon to show n1 online",
        MOVE,
        || !c.crm_mon("n2", &[]).contains("standby"),
        || format!("{}\n{}", c.crm_mon("n2", &[]), c.logs(60)),
    );
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(6) {
        assert!(on(&c, "n2"), "auto_failback off: the group stays on n2\n{}", c.logs(60));
        std::thread::sleep(Duration::from_millis(300));
    }
    c.witness_check().unwrap_or_else(|e| panic!("double run: {e}\n{}", c.logs(60)));
}

#[test]
fn the_primary_that_loses_its_ping_node_gives_its_resources_to_the_peer() {
    let c = seed_001("ipf", "on");

    // Seed 001's test 1: the primary loses its ping node.
    let cut = Instant::now();
    c.cut_ping("n1");
    let took = wait_for("the group on n2", MOVE, || on(&c, "n2"), || format!("{}\n{}", c.crm_mon("n2", &[]), c.logs(80)));
    println!("n1 cut from the ping node: the group answers from n2 {:.1} s later", (cut.elapsed().max(took)).as_secs_f64());
    let log = c.log("n1");
    for step in [
        "ipfail: [",
        &format!("Status update: Node {PING} now has status dead") as &str,
        "NS: We are dead. :<",
        "Asking other side for ping node count.",
        "Giving up because we were told that we have less ping nodes.",
        "Delayed giveup in ",
        "giveup() called (timeout worked)",
        "n1 wants to go standby [all]",
    ] {
        assert!(log.contains(step), "n1's log lacks {step:?}\n{log}");
    }
    assert!(!c.log("n2").contains("giveup() called"), "n2 reaches the ping node: it never gives up\n{}", c.log("n2"));
    let mon = c.crm_mon("n2", &[]);
    assert!(mon.contains("n1: standby") || mon.contains("Node n1: standby"), "{mon}");
    println!("crm_mon -1 on n2 after the give-up:\n{mon}");
    std::thread::sleep(Duration::from_secs(3));
    assert!(on(&c, "n2"), "the group stays on n2\n{}", c.logs(60));

    // The ping node back: n1 takes its place again (auto_failback on).
    c.restore_ping("n1");
    wait_for("the group back on n1", MOVE, || on(&c, "n1"), || format!("{}\n{}", c.crm_mon("n1", &[]), c.logs(80)));
    assert!(c.log("n1").contains("Taking resources back"), "{}", c.log("n1"));
    let starts: Vec<String> = c.witness_events().into_iter().filter(|(_, e, _)| e == "start").map(|(n, _, _)| n).collect();
    assert_eq!(starts, ["n1", "n2", "n1"], "{}", c.logs(60));
    c.witness_check().unwrap_or_else(|e| panic!("double run: {e}\n{}", c.logs(60)));
    c.lab.stop("n2").unwrap();
    c.lab.stop("n1").unwrap();
    c.witness_check().unwrap_or_else(|e| panic!("double run: {e}\n{}", c.logs(60)));
}
