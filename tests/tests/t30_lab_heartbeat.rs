//! Real `heartbeat` daemons in the lab (docs/LAB.md): each node is its own
//! host (network, PID, UTS, mount and IPC namespaces), joined by veth links
//! to bridges. Checks, through `cl_status` run inside the nodes:
//! - 3 nodes see each other active; each node has its own host name and
//!   its own /run;
//! - a killed node (its whole PID namespace) is declared dead by the others
//!   within deadtime + one keepalive + 0.5 s, and comes back with a higher
//!   generation;
//! - with two links per node, cutting one keeps the node up, the others log
//!   "Link n2:eth1 dead." and `cl_status hblinkstatus` agrees; restored, it
//!   comes back up;
//! - bcast and mcast media work between lab nodes;
//! - a partition splits the views, healing joins them; a paused node is
//!   dead to the others and back on resume without restarting; 100% loss
//!   on a node's only link is a cut.
//!
//! Needs root, `ip`, `nsenter`, `unshare` and `nft` (nftables): a machine
//! without them fails these tests loudly rather than skipping them. Every
//! lab is destroyed by its guard, also when an assertion fails.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use tests::lab::{LabGuard, LabSpec, Media};

/// The directory of the project's binaries: `ha-lab` is built for this
/// test by cargo; `heartbeat` and `cl_status` belong to another package,
/// so they are built here (a no-op when up to date), never taken stale.
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
        for tool in ["ip", "nsenter", "unshare", "nft", "mount"] {
            let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].iter().any(|d| PathBuf::from(d).join(tool).exists());
            assert!(found, "{tool} is missing (nft: apt-get install nftables)");
        }
    });
    PathBuf::from(env!("CARGO_BIN_EXE_ha-lab")).parent().unwrap().to_path_buf()
}

/// A lab with a name no other test (or test run) uses at the same time.
fn lab(nodes: usize, links: usize, media: Media) -> (LabGuard, tempfile::TempDir) {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let name = format!("t{}x{}", std::process::id() % 1_000_000, SEQ.fetch_add(1, Ordering::SeqCst));
    let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
    let mut spec = LabSpec::new(&name, tmp.path(), nodes, links, &bin_dir());
    spec.media = media;
    (LabGuard::create(spec).expect("create the lab"), tmp)
}

/// `cl_status` on a node: (stdout trimmed, exit code).
fn cl_status(lab: &LabGuard, node: &str, args: &[&str]) -> (String, i32) {
    let o = lab.exec(node, "cl_status", args).unwrap();
    (String::from_utf8_lossy(&o.stdout).trim().to_string(), o.status.code().unwrap_or(-1))
}

fn status_of(lab: &LabGuard, on: &str, of: &str) -> (String, i32) {
    cl_status(lab, on, &["nodestatus", of])
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

fn all_see_each_other(lab: &LabGuard, nodes: &[&str]) {
    for a in nodes {
        for b in nodes {
            wait_for(&format!("{a} to see {b} active"), Duration::from_secs(5), || status_of(lab, a, b) == active());
        }
    }
}

fn start_all(lab: &mut LabGuard) {
    for n in lab.spec.node_names() {
        lab.start(&n).unwrap();
    }
}

fn log(lab: &LabGuard, node: &str) -> String {
    std::fs::read_to_string(lab.spec.log_file(node)).unwrap_or_default()
}

fn generation(lab: &LabGuard, node: &str) -> u64 {
    let p = lab.spec.node_dir(node).join("var/hb_generation");
    std::fs::read_to_string(p).unwrap().trim().parse().unwrap()
}

#[test]
fn three_nodes_see_each_other_detect_a_kill_and_rejoin() {
    let (mut lab, _tmp) = lab(3, 1, Media::Ucast);
    start_all(&mut lab);
    all_see_each_other(&lab, &["n1", "n2", "n3"]);

    // Separate hosts: own host name, own /run, own PID numbering.
    let o = lab.exec("n2", "hostname", &[]).unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "n2\n");
    let o = lab.exec("n1", "sh", &["-c", "echo lab > /run/lab-marker && echo $$ > /dev/null"]).unwrap();
    assert!(o.status.success(), "{o:?}");
    assert!(!lab.exec("n2", "test", &["-e", "/run/lab-marker"]).unwrap().status.success(), "n2 sees n1's /run");
    assert!(!std::path::Path::new("/run/lab-marker").exists(), "the host sees n1's /run");
    let pid: i32 = std::fs::read_to_string(lab.spec.node_dir("n1").join("run/heartbeat.pid")).unwrap().trim().parse().unwrap();
    assert!(pid < 100, "heartbeat's pid {pid} is not from the node's own PID namespace");

    // Kill n3 (its whole PID namespace): dead on n1 and n2 within
    // deadtime + one keepalive + 0.5 s.
    let t = lab.spec.timing;
    let old_generation = generation(&lab, "n3");
    let start = Instant::now();
    lab.kill("n3").unwrap();
    assert!(lab.init_pid("n3").is_none());
    let bound = Duration::from_millis(t.deadtime_ms + t.keepalive_ms + 500);
    let mut seen = [false, false];
    while seen != [true, true] {
        for (i, a) in ["n1", "n2"].iter().enumerate() {
            seen[i] = seen[i] || status_of(&lab, a, "n3") == dead();
        }
        assert!(start.elapsed() < bound, "n3 not dead on both n1 and n2 within {bound:?} ({seen:?})");
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("n3 declared dead {:?} after the kill", start.elapsed());
    assert!(log(&lab, "n1").contains("WARN: node n3: is dead"), "{}", log(&lab, "n1"));
    assert_eq!(status_of(&lab, "n1", "n2"), active());

    // Power n3 on again and start heartbeat: it rejoins with a higher
    // generation, and the others log the restart.
    lab.start("n3").unwrap();
    all_see_each_other(&lab, &["n1", "n2", "n3"]);
    let new_generation = generation(&lab, "n3");
    assert!(new_generation > old_generation, "{new_generation} <= {old_generation}");
    for n in ["n1", "n2"] {
        let text = log(&lab, n);
        assert!(text.contains(&format!("info: node n3: restarted with generation {new_generation}")), "{n}: {text}");
    }

    // A graceful stop: the others hear the shutdown notice at once.
    lab.stop("n2").unwrap();
    wait_for("n1 to see n2 leave", Duration::from_millis(t.deadtime_ms / 2), || status_of(&lab, "n1", "n2") == dead());
    assert!(log(&lab, "n1").contains("Received shutdown notice from 'n2'."));
}

#[test]
fn two_links_cutting_one_keeps_the_node_up() {
    let (mut lab, _tmp) = lab(3, 2, Media::Ucast);
    start_all(&mut lab);
    all_see_each_other(&lab, &["n1", "n2", "n3"]);
    for link in ["eth0", "eth1"] {
        wait_for("n1 to see n2's links up", Duration::from_secs(3), || {
            cl_status(&lab, "n1", &["hblinkstatus", "n2", link]) == ("up".into(), 0)
        });
    }
    let (links, rc) = cl_status(&lab, "n1", &["listhblinks", "n2"]);
    assert_eq!(rc, 0);
    assert!(links.contains("eth0") && links.contains("eth1"), "{links}");

    // Cut n2's second link: n1 and n3 declare that link dead, n2 stays up
    // all along (checked at every poll).
    let t = lab.spec.timing;
    lab.cut("n2", 1).unwrap();
    assert_eq!(lab.faults("n2").unwrap(), ["halab_cut_eth1"]);
    for on in ["n1", "n3"] {
        wait_for(&format!("{on} to see n2:eth1 dead"), Duration::from_millis(t.deadtime_ms + t.keepalive_ms + 1_500), || {
            assert_eq!(status_of(&lab, on, "n2"), active(), "n2 went down on {on} with one link left");
            cl_status(&lab, on, &["hblinkstatus", "n2", "eth1"]) == ("dead".into(), 1)
        });
        assert_eq!(cl_status(&lab, on, &["hblinkstatus", "n2", "eth0"]), ("up".into(), 0));
        assert!(log(&lab, on).contains("info: Link n2:eth1 dead."), "{}", log(&lab, on));
    }
    // n2 sees the others' eth1 dead too: the cut is both ways.
    wait_for("n2 to see n1:eth1 dead", Duration::from_secs(3), || {
        cl_status(&lab, "n2", &["hblinkstatus", "n1", "eth1"]) == ("dead".into(), 1)
    });
    // Stay up for a few more deadtimes on one link.
    let until = Instant::now() + Duration::from_millis(2 * t.deadtime_ms);
    while Instant::now() < until {
        assert_eq!(status_of(&lab, "n1", "n2"), active());
        std::thread::sleep(Duration::from_millis(100));
    }

    lab.restore("n2", 1).unwrap();
    assert!(lab.faults("n2").unwrap().is_empty());
    wait_for("n1 to see n2:eth1 up again", Duration::from_secs(3), || {
        cl_status(&lab, "n1", &["hblinkstatus", "n2", "eth1"]) == ("up".into(), 0)
    });
    let text = log(&lab, "n1");
    let dead_at = text.find("info: Link n2:eth1 dead.").unwrap();
    assert!(text[dead_at..].contains("info: Link n2:eth1 up."), "{text}");
    assert!(!text.contains("WARN: node n2: is dead"), "{text}");
}

#[test]
fn bcast_between_lab_nodes() {
    let (mut lab, _tmp) = lab(3, 1, Media::Bcast);
    start_all(&mut lab);
    all_see_each_other(&lab, &["n1", "n2", "n3"]);
    assert!(log(&lab, "n1").contains("bcast eth0"), "{}", log(&lab, "n1"));
    assert_eq!(cl_status(&lab, "n3", &["hblinkstatus", "n1", "eth0"]), ("up".into(), 0));
}

#[test]
fn mcast_between_lab_nodes() {
    let (mut lab, _tmp) = lab(3, 2, Media::Mcast);
    start_all(&mut lab);
    all_see_each_other(&lab, &["n1", "n2", "n3"]);
    assert!(log(&lab, "n1").contains("mcast eth1"), "{}", log(&lab, "n1"));
    for link in ["eth0", "eth1"] {
        wait_for("n2 to see n3's links", Duration::from_secs(3), || {
            cl_status(&lab, "n2", &["hblinkstatus", "n3", link]) == ("up".into(), 0)
        });
    }
}

#[test]
fn partition_pause_and_loss() {
    let (mut lab, _tmp) = lab(3, 1, Media::Ucast);
    start_all(&mut lab);
    all_see_each_other(&lab, &["n1", "n2", "n3"]);
    let limit = Duration::from_secs(4);

    // {n1} | {n2, n3}: each side sees the other dead, its own side up.
    lab.partition(&[vec!["n1".to_string()]]).unwrap();
    wait_for("n1 to lose n2 and n3", limit, || status_of(&lab, "n1", "n2") == dead() && status_of(&lab, "n1", "n3") == dead());
    wait_for("n2 and n3 to lose n1", limit, || status_of(&lab, "n2", "n1") == dead() && status_of(&lab, "n3", "n1") == dead());
    assert_eq!(status_of(&lab, "n2", "n3"), active());
    assert_eq!(status_of(&lab, "n3", "n2"), active());
    lab.heal().unwrap();
    all_see_each_other(&lab, &["n1", "n2", "n3"]);

    // A paused node is dead to the others; resumed, it is back with the
    // same generation (it never restarted).
    let generation_before = generation(&lab, "n3");
    lab.pause("n3").unwrap();
    wait_for("n1 to see paused n3 dead", limit, || status_of(&lab, "n1", "n3") == dead());
    lab.resume("n3").unwrap();
    wait_for("n1 to see n3 back", limit, || status_of(&lab, "n1", "n3") == active());
    assert_eq!(generation(&lab, "n3"), generation_before);
    assert!(!log(&lab, "n1").contains("node n3: restarted"), "{}", log(&lab, "n1"));

    // 100% loss on n2's only link is a cut; 0% removes it.
    lab.loss("n2", 0, 100).unwrap();
    assert_eq!(lab.faults("n2").unwrap(), ["halab_loss_eth0"]);
    wait_for("n1 to see n2 dead under 100% loss", limit, || status_of(&lab, "n1", "n2") == dead());
    lab.loss("n2", 0, 0).unwrap();
    assert!(lab.faults("n2").unwrap().is_empty());
    wait_for("n1 to see n2 back", limit, || status_of(&lab, "n1", "n2") == active());
}

#[test]
fn destroy_leaves_nothing_behind() {
    let (mut lab, _tmp) = lab(2, 2, Media::Ucast);
    lab.start("n1").unwrap();
    let namespaces = [lab.spec.bridge_ns(), lab.spec.node_ns("n1"), lab.spec.node_ns("n2")];
    let init = lab.init_pid("n1").unwrap();
    lab.pause("n2").unwrap();
    lab.destroy().unwrap();
    for ns in &namespaces {
        assert!(!PathBuf::from("/run/netns").join(ns).exists(), "{ns} survived destroy");
    }
    // The init may linger a moment as a zombie of the host's init.
    wait_for("n1's init to vanish", Duration::from_secs(2), || {
        let stat = std::fs::read_to_string(format!("/proc/{init}/stat")).unwrap_or_default();
        stat.is_empty() || stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z'))
    });
    // A second destroy (the guard's) finds nothing to do and succeeds.
    lab.destroy().unwrap();
}

#[test]
fn the_host_is_untouched_and_a_panicking_test_still_cleans_up() {
    let host_links = || String::from_utf8(Command::new("ip").args(["-o", "link", "show"]).output().unwrap().stdout).unwrap();
    let before = host_links();
    let names = std::sync::Mutex::new(Vec::new());
    let result = std::panic::catch_unwind(|| {
        let (lab, _tmp) = lab(2, 2, Media::Bcast);
        names.lock().unwrap().extend([lab.spec.bridge_ns(), lab.spec.node_ns("n1"), lab.spec.node_ns("n2")]);
        // Every interface lives in the lab's namespaces, none on the host.
        assert_eq!(host_links(), before, "the lab changed the host's interfaces");
        panic!("a failing assertion inside a lab test");
    });
    assert!(result.is_err());
    let names = names.into_inner().unwrap();
    assert_eq!(names.len(), 3);
    for ns in &names {
        assert!(!PathBuf::from("/run/netns").join(ns).exists(), "{ns} survived the panic");
    }
}
