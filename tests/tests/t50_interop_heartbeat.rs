//! Interoperability with the real thing: Debian's heartbeat 3.0.6 in one
//! lab node, ours in the others, ucast, one sha1 key (issue 5, docs/TRANSPORT.md
//! "Interoperability"). Checks, each side through its own `cl_status`:
//! - the real node and ours show each other `active`;
//! - a node of ours with another key is `dead` on both sides, and our
//!   receivers count its packets as rejected;
//! - the real node's history does not fill up: our `NS_ackmsg`s reach it
//!   (without them it logs "Message hist queue is filling up" once 250 of
//!   its messages are unacknowledged, 25 s at keepalive 100 ms);
//! - killing ours: the real node declares it dead within its deadtime (plus
//!   the second of slack Heartbeat's dead-node check takes); killing the
//!   real one: ours declares it dead within deadtime + keepalive + 0.5 s.
//!
//! Needs root, the lab's tools (`ip`, `nsenter`, `unshare`, `nft`) and
//! Debian's `heartbeat` package (/usr/libexec/heartbeat/heartbeat): without
//! them the test fails loudly rather than skipping.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use tests::lab::foreign::{CL_STATUS_306, HEARTBEAT_306};
use tests::lab::{LabGuard, LabSpec, Media, Timing};

fn bin_dir() -> PathBuf {
    let st = Command::new(env!("CARGO"))
        .args(["build", "-q", "-p", "transport", "--bin", "heartbeat", "--bin", "cl_status"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build for heartbeat and cl_status");
    assert!(st.success(), "cargo build of heartbeat/cl_status failed: {st}");
    assert!(nix::unistd::Uid::effective().is_root(), "the lab tests need root (namespaces, nftables)");
    for tool in ["ip", "nsenter", "unshare", "nft", "mount"] {
        let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].iter().any(|d| PathBuf::from(d).join(tool).exists());
        assert!(found, "{tool} is missing (nft: apt-get install nftables)");
    }
    assert!(
        PathBuf::from(HEARTBEAT_306).exists() && PathBuf::from(CL_STATUS_306).exists(),
        "Debian's heartbeat 3.0.6 is not installed (apt-get install heartbeat)"
    );
    PathBuf::from(env!("CARGO_BIN_EXE_ha-lab")).parent().unwrap().to_path_buf()
}

const KEEPALIVE: Duration = Duration::from_millis(100);
const DEADTIME: Duration = Duration::from_millis(1500);

/// `program args` on a node: (stdout trimmed, exit code).
fn run(lab: &LabGuard, node: &str, program: &str, args: &[&str]) -> (String, i32) {
    let o = lab.exec(node, program, args).unwrap();
    (String::from_utf8_lossy(&o.stdout).trim().to_string(), o.status.code().unwrap_or(-1))
}

/// Node status of `of` as `on` sees it, through `on`'s own cl_status
/// (Debian's on the real node, ours elsewhere).
fn status(lab: &LabGuard, on: &str, of: &str) -> (String, i32) {
    let prog = if on == REAL { CL_STATUS_306 } else { "cl_status" };
    run(lab, on, prog, &["nodestatus", of])
}

fn active() -> (String, i32) {
    ("active".into(), 0)
}

fn dead() -> (String, i32) {
    ("dead".into(), 1)
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

/// A node's log; the real Heartbeat writes raw message bytes (uuids) into
/// it, so it is read lossily.
fn log(lab: &LabGuard, node: &str) -> String {
    String::from_utf8_lossy(&std::fs::read(lab.spec.log_file(node)).unwrap_or_default()).into_owned()
}

/// The real Heartbeat's node.
const REAL: &str = "n1";
/// Ours, same key.
const OURS: &str = "n2";
/// Ours, another key.
const STRANGER: &str = "n3";

#[test]
fn debian_heartbeat_306_and_ours_see_each_other() {
    let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
    let name = format!("i{}", std::process::id() % 1_000_000);
    let mut spec = LabSpec::new(&name, tmp.path(), 3, 1, &bin_dir());
    spec.media = Media::Ucast;
    spec.timing = Timing {
        keepalive_ms: KEEPALIVE.as_millis() as u64,
        deadtime_ms: DEADTIME.as_millis() as u64,
        warntime_ms: 750,
        initdead_ms: 4000,
    };
    let mut lab = LabGuard::create(spec).expect("create the lab");
    // The stranger: same configuration, another key.
    {
        use std::os::unix::fs::PermissionsExt;
        let keys = lab.spec.node_dir(STRANGER).join("conf/authkeys");
        std::fs::write(&keys, "auth 1\n1 sha1 NotTheLabSecret\n").unwrap();
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    lab.start_foreign(REAL).expect("start Debian's heartbeat");
    let real_started = Instant::now();
    lab.start(OURS).unwrap();
    lab.start(STRANGER).unwrap();

    // Each sees the other active, each through its own cl_status. The
    // real node becomes active itself only after its join handshake
    // (reqnodes answered by repnodes: "Comm_now_up()").
    wait_for("ours to see the real node active", Duration::from_secs(10), || status(&lab, OURS, REAL) == active());
    wait_for("the real node to see ours active", Duration::from_secs(10), || status(&lab, REAL, OURS) == active());
    let real_log = log(&lab, REAL);
    assert!(real_log.contains("Comm_now_up(): updating status to active"), "{real_log}");
    assert!(real_log.contains("Link n2:eth0 up."), "{real_log}");
    let o = lab.exec(REAL, CL_STATUS_306, &["hbstatus"]).unwrap();
    assert!(o.status.success(), "Debian's cl_status hbstatus: {o:?}");

    // The stranger is dead on both sides once initdead is over, and sees
    // both others dead.
    let initdead = Duration::from_millis(lab.spec.timing.initdead_ms) + Duration::from_secs(3);
    wait_for("ours to show the stranger dead", initdead, || status(&lab, OURS, STRANGER) == dead());
    wait_for("the real node to show the stranger dead", initdead, || status(&lab, REAL, STRANGER) == dead());
    for other in [REAL, OURS] {
        wait_for(&format!("the stranger to show {other} dead"), initdead, || status(&lab, STRANGER, other) == dead());
    }
    // Ours counts the stranger's packets as rejected (through its API
    // socket, which lives in the node's HA_RUNDIR under the lab root).
    let sock = lab.spec.node_dir(OURS).join("run/heartbeat.sock");
    let mut client = transport::api::Client::signon(&sock, "t50", Duration::from_secs(3)).unwrap();
    let rejected = client.counters().unwrap().into_iter().find(|(k, _)| k == "rejected").map(|(_, v)| v).unwrap();
    assert!(rejected > 0, "ours counted no rejected packet from the stranger");
    drop(client);

    // Our acks keep the real node's history from filling: it logs the
    // error at 250 unacknowledged messages, 25 s of keepalives at 100 ms.
    let soak = Duration::from_secs(30);
    if let Some(left) = soak.checked_sub(real_started.elapsed()) {
        // Meanwhile the two keep seeing each other.
        let until = Instant::now() + left;
        while Instant::now() < until {
            assert_eq!(status(&lab, OURS, REAL), active());
            assert_eq!(status(&lab, REAL, OURS), active());
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    let real_log = log(&lab, REAL);
    assert!(!real_log.contains("hist queue is filling up"), "{real_log}");
    assert!(!real_log.contains("clients are now paused"), "{real_log}");
    assert!(!real_log.contains("node n2: is dead"), "{real_log}");
    assert!(!real_log.contains("Status update for node n3"), "the stranger was seen: {real_log}");
    // Heartbeat's own words for a packet signed with another key.
    assert!(real_log.contains("netstring authentication failed"), "{real_log}");
    assert!(!log(&lab, OURS).contains("Status update for node n3"), "the stranger was seen by ours");

    // Kill ours: the real node declares it dead within its deadtime
    // (Heartbeat checks once a second: deadtime + 1 s, + 0.5 s of polling).
    lab.kill(OURS).unwrap();
    let took = wait_for("the real node to declare ours dead", DEADTIME * 4, || status(&lab, REAL, OURS) == dead());
    assert!(took <= DEADTIME + Duration::from_millis(1500), "the real node took {took:?} to declare n2 dead");
    assert!(log(&lab, REAL).contains("WARN: node n2: is dead"), "{}", log(&lab, REAL));

    // Ours again (a new generation): back to active on the real node.
    lab.start(OURS).unwrap();
    wait_for("the real node to see ours back", Duration::from_secs(10), || status(&lab, REAL, OURS) == active());
    wait_for("ours to see the real node again", Duration::from_secs(10), || status(&lab, OURS, REAL) == active());

    // Kill the real one: ours declares it dead within deadtime + keepalive
    // + 0.5 s (t10/t30's bound).
    lab.kill(REAL).unwrap();
    let took = wait_for("ours to declare the real node dead", DEADTIME * 4, || status(&lab, OURS, REAL) == dead());
    assert!(
        took <= DEADTIME + KEEPALIVE + Duration::from_millis(500),
        "ours took {took:?} to declare the real node dead"
    );
    assert!(log(&lab, OURS).contains("WARN: node n1: is dead"), "{}", log(&lab, OURS));
}
