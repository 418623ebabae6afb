//! Ping nodes in the lab (docs/TRANSPORT.md "Ping nodes"): n1 pings n2's
//! address (`ping`) and a group of n2's and n3's (`ping_group`); the other
//! nodes' kernels answer (their heartbeat need not run). Cutting n2's link
//! makes the ping node dead within deadping + keepalive + 0.5 s while the
//! group stays `ping` through n3; restoring it brings it back.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;
use std::time::{Duration, Instant};

use tests::lab::{LabGuard, LabSpec, Media};

fn bin_dir() -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "transport", "--bin", "heartbeat", "--bin", "cl_status"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build for heartbeat and cl_status");
        assert!(st.success(), "cargo build of heartbeat/cl_status failed: {st}");
        assert!(nix::unistd::Uid::effective().is_root(), "the lab tests need root (namespaces, nftables)");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_ha-lab")).parent().unwrap().to_path_buf()
}

fn cl_status(lab: &LabGuard, node: &str, args: &[&str]) -> (String, i32) {
    let o = lab.exec(node, "cl_status", args).unwrap();
    (String::from_utf8_lossy(&o.stdout).trim().to_string(), o.status.code().unwrap_or(-1))
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

#[test]
fn a_ping_node_cut_off_is_dead_and_its_group_stays_up_through_another_member() {
    let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
    let name = format!("p{}", std::process::id() % 1_000_000);
    let mut spec = LabSpec::new(&name, tmp.path(), 3, 1, &bin_dir());
    spec.media = Media::Ucast;
    let mut lab = LabGuard::create(spec).expect("create the lab");
    let (a2, a3) = (lab.spec.addr(2, 0), lab.spec.addr(3, 0));
    let cf = lab.spec.node_dir("n1").join("conf/ha.cf");
    let mut text = std::fs::read_to_string(&cf).unwrap();
    text.push_str(&format!("ping {a2}\nping_group grp {a2} {a3}\n"));
    std::fs::write(&cf, text).unwrap();
    lab.start("n1").unwrap();

    let ping = || ("ping".to_string(), 0);
    wait_for("ping node up", Duration::from_secs(5), || cl_status(&lab, "n1", &["nodestatus", &a2]) == ping());
    wait_for("group up", Duration::from_secs(5), || cl_status(&lab, "n1", &["nodestatus", "grp"]) == ping());
    assert_eq!(cl_status(&lab, "n1", &["nodetype", &a2]), ping());

    let t = lab.spec.timing;
    lab.cut("n2", 0).unwrap();
    let took = wait_for("ping node dead", Duration::from_secs(10), || {
        cl_status(&lab, "n1", &["nodestatus", &a2]) == ("dead".into(), 1)
    });
    // deadping defaults to deadtime.
    let bound = Duration::from_millis(t.deadtime_ms + t.keepalive_ms + 500);
    assert!(took <= bound, "dead after {took:?}, bound {bound:?}");
    assert_eq!(cl_status(&lab, "n1", &["nodestatus", "grp"]), ping(), "n3 still answers for the group");
    assert_eq!(cl_status(&lab, "n1", &["hblinkstatus", "grp", &a2]), ("dead".into(), 1));
    assert_eq!(cl_status(&lab, "n1", &["hblinkstatus", "grp", &a3]), ("up".into(), 0));

    lab.restore("n2", 0).unwrap();
    wait_for("ping node back", Duration::from_secs(5), || cl_status(&lab, "n1", &["nodestatus", &a2]) == ping());
    let log = std::fs::read_to_string(lab.spec.log_file("n1")).unwrap();
    assert!(log.contains(&format!("node {a2}: is dead")), "{log}");
    assert!(log.contains(&format!("Link grp:{a2} dead.")), "{log}");
}
