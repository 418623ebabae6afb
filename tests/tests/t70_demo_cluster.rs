//! README's main command as a test: examples/cluster-demo.sh's steps in
//! the lab, asserted (docs/FAILOVER.md).
//!
//! Three nodes, each its own host (namespaces), heartbeat launching the
//! whole stack (`crm respawn`), examples/cluster/web.xml loaded: a
//! floating address (Debian's ocf:heartbeat:IPaddr2) grouped with the demo
//! HTTP service (ocf:heartbeat-rs:Httpd, answering with the node's name).
//! - Before: a client outside the nodes gets the page through the floating
//!   address; exactly one node holds the address and runs the service
//!   (witness log); `crm_mon -1` shows the group started there.
//! - The active node is powered off: another node answers within the
//!   bound; the failover time is printed; afterwards exactly one survivor
//!   holds the address and runs the service, and `crm_mon -1` shows it.
//! - `ha-witness-check` finds no double run in the witness log.
//!
//! Needs root, ip/nsenter/unshare/nft, overlayfs and Debian's
//! resource-agents (IPaddr2): it fails, not skips, without them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::time::Duration;

use tests::lab::web::{WebCluster, GROUP, VIP};
use tests::lab::{LabSpec, Media};

/// Builds every daemon heartbeat launches and every tool the steps run
/// (debug; never stale). stonithd is built when its package has it.
fn bin_dir() -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let build = |args: &[&str]| {
            Command::new(env!("CARGO"))
                .args(["build", "-q", "-j2"])
                .args(args)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("run cargo build")
                .success()
        };
        assert!(
            build(&[
                "-p", "transport", "--bin", "heartbeat", "--bin", "cl_status",
                "-p", "ccm", "--bin", "ccm",
                "-p", "cibd", "--bin", "cib",
                "-p", "lrmd", "--bin", "lrmd", "--bin", "ha-httpd", "--bin", "ha-witness", "--bin", "ha-witness-check",
                "-p", "crmd", "--bin", "crmd",
                "-p", "pengined", "--bin", "pengine",
                "-p", "attrd", "--bin", "attrd",
                "-p", "tools", "--bin", "cibadmin", "--bin", "crm_mon", "--bin", "crm_resource", "--bin", "crm_attribute",
            ]),
            "cargo build of the cluster's daemons and tools failed"
        );
        let _ = build(&["-p", "stonithd"]);
        assert!(nix::unistd::Uid::effective().is_root(), "the lab tests need root (namespaces, nftables)");
        assert!(
            Path::new("/usr/lib/ocf/resource.d/heartbeat/IPaddr2").exists(),
            "IPaddr2 is missing: apt-get install resource-agents"
        );
    });
    PathBuf::from(env!("CARGO_BIN_EXE_ha-lab")).parent().unwrap().to_path_buf()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Long enough for a cold start on two shared cores (initdead, ccm,
/// dc-deadtime 5 s, election, join, probes of two agents on 3 nodes).
const START: Duration = Duration::from_secs(90);
/// The failover bound: detection (deadtime 1 s) plus recovery, with room
/// for a loaded machine; the figure itself is printed.
const FAILOVER: Duration = Duration::from_secs(30);

#[test]
fn the_demo_cluster_serves_through_the_floating_address_and_fails_over() {
    let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
    let name = format!("d{}", std::process::id() % 1_000_000);
    let mut spec = LabSpec::new(&name, tmp.path(), 3, 1, &bin_dir());
    spec.media = Media::Ucast;
    let mut c = WebCluster::create(spec, &repo()).expect("create the lab");
    c.start(START).unwrap_or_else(|e| panic!("{e}\n{}", c.logs(40)));
    c.load("n1").expect("load examples/cluster");

    // Before: one node serves, through the floating address.
    let mut active = None;
    c.wait("the service to answer through the floating address", START, |c| {
        active = c.answer(Duration::from_secs(2));
        active.is_some()
    })
    .unwrap_or_else(|e| panic!("{e}\n{}\n{}", c.crm_mon("n1"), c.logs(40)));
    let active = active.unwrap();
    assert!(["n1", "n2", "n3"].contains(&active.as_str()), "the page names its node: {active:?}");
    assert_eq!(c.vip_holders(), std::slice::from_ref(&active), "exactly the answering node holds {VIP}");
    assert_eq!(c.witnessed_running(), std::slice::from_ref(&active), "exactly the answering node runs the service");
    let other = c.live_other(&active).unwrap();
    c.wait("crm_mon to show the group started", Duration::from_secs(20), |c| {
        let mon = c.crm_mon(&other);
        mon.contains(GROUP) && mon.contains("web-ip") && mon.contains("web-httpd") && mon.contains(&format!("Started {active}"))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", c.crm_mon(&other)));
    println!("crm_mon -1 on {other} before:\n{}", c.crm_mon(&other));

    // Power off the active node: another answers within the bound.
    let f = c.fail(&active, FAILOVER).unwrap_or_else(|e| panic!("{e}\n{}", c.logs(40)));
    println!(
        "failover: {} -> {} in {:.3} s ({} was {}the DC)",
        f.from,
        f.to,
        f.elapsed.as_secs_f64(),
        f.from,
        if f.was_dc { "" } else { "not " }
    );
    assert_ne!(f.to, active);
    assert!(f.elapsed < FAILOVER);

    // After: exactly one survivor holds the address and runs the service,
    // and it keeps answering.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(c.vip_holders(), std::slice::from_ref(&f.to), "{}", c.logs(40));
    assert_eq!(c.witnessed_running(), std::slice::from_ref(&f.to), "{}", c.logs(40));
    assert_eq!(c.answer(Duration::from_secs(2)).as_deref(), Some(f.to.as_str()));
    c.wait("crm_mon to show the group on the survivor", Duration::from_secs(20), |c| {
        c.crm_mon(&f.to).contains(&format!("Started {}", f.to))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", c.crm_mon(&f.to)));
    println!("crm_mon -1 on {} after:\n{}", f.to, c.crm_mon(&f.to));

    // No double run, seen from reality.
    let check = Command::new(c.lab.spec.bin_dir.join("ha-witness-check")).arg(&c.witness).output().unwrap();
    assert!(
        check.status.success(),
        "ha-witness-check: {}\n{}",
        String::from_utf8_lossy(&check.stdout),
        std::fs::read_to_string(&c.witness).unwrap_or_default()
    );
    drop(c);
    drop(tmp);
}
