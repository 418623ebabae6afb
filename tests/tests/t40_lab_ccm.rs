//! Real `heartbeat` and `ccm` daemons in the lab (docs/LAB.md, docs/CCM.md):
//! each node is its own host. Checks, through `ccm_tool` run inside the
//! nodes:
//! - 3 nodes agree on one view of all three, with quorum;
//! - a killed node (its whole PID namespace) leaves the others' view within
//!   deadtime + keepalive + 0.5 s (heartbeat) + 1 s (ccm), with a higher
//!   instance; booted again with heartbeat and ccm, it rejoins with a higher
//!   instance still;
//! - partition {n1} | {n2, n3}: n1 alone has no quorum, n2 and n3 agree on
//!   a view of both with quorum; healed, all three agree on one view above
//!   both sides' instances.
//!
//! Needs root, `ip`, `nsenter`, `unshare` and `nft`: a machine without them
//! fails these tests loudly. Every lab is destroyed by its guard.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use tests::lab::{LabGuard, LabSpec, Media};

/// The directory of the project's binaries, built here (a no-op when up to
/// date) so the daemons are never stale.
fn bin_dir() -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "transport", "-p", "ccm"])
            .args(["--bin", "heartbeat", "--bin", "cl_status", "--bin", "ccm", "--bin", "ccm_tool"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build for heartbeat and ccm");
        assert!(st.success(), "cargo build of heartbeat/ccm failed: {st}");
        assert!(nix::unistd::Uid::effective().is_root(), "the lab tests need root (namespaces, nftables)");
        for tool in ["ip", "nsenter", "unshare", "nft", "mount"] {
            let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].iter().any(|d| PathBuf::from(d).join(tool).exists());
            assert!(found, "{tool} is missing (nft: apt-get install nftables)");
        }
    });
    PathBuf::from(env!("CARGO_BIN_EXE_ha-lab")).parent().unwrap().to_path_buf()
}

fn lab(nodes: usize) -> (LabGuard, tempfile::TempDir) {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let name = format!("c{}x{}", std::process::id() % 1_000_000, SEQ.fetch_add(1, Ordering::SeqCst));
    let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
    let mut spec = LabSpec::new(&name, tmp.path(), nodes, 1, &bin_dir());
    spec.media = Media::Ucast;
    (LabGuard::create(spec).expect("create the lab"), tmp)
}

/// Boots the node, starts heartbeat, then ccm (it daemonizes inside the
/// node, so it dies with the node's PID namespace).
fn start(lab: &mut LabGuard, node: &str) {
    lab.start(node).unwrap();
    let o = lab.exec(node, "ccm", &[]).unwrap();
    assert!(o.status.success(), "ccm on {node}: {}", String::from_utf8_lossy(&o.stderr));
}

/// A view as `ccm_tool` prints it: `instance 7: n1 n2 n3 (quorum, leader n1)`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    instance: u64,
    members: Vec<String>,
    quorum: bool,
}

fn view(lab: &LabGuard, node: &str) -> Option<Seen> {
    let o = lab.exec(node, "ccm_tool", &[]).ok()?;
    if o.status.code() != Some(0) {
        return None;
    }
    let line = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let (head, tail) = line.split_once(" (")?;
    let (inst, members) = head.strip_prefix("instance ")?.split_once(':')?;
    Some(Seen {
        instance: inst.parse().ok()?,
        members: members.split_whitespace().map(str::to_string).collect(),
        quorum: tail.starts_with("quorum,"),
    })
}

/// All of `nodes` hold the same view, of exactly `members`.
fn agreed(lab: &LabGuard, nodes: &[&str], members: &[&str]) -> Option<Seen> {
    let first = view(lab, nodes[0])?;
    if first.members != members {
        return None;
    }
    nodes[1..].iter().all(|n| view(lab, n).as_ref() == Some(&first)).then_some(first)
}

fn wait_agreed(lab: &LabGuard, nodes: &[&str], members: &[&str], limit: Duration) -> (Seen, Duration) {
    let start = Instant::now();
    loop {
        if let Some(v) = agreed(lab, nodes, members) {
            return (v, start.elapsed());
        }
        let now: Vec<_> = nodes.iter().map(|n| (n, view(lab, n))).collect();
        assert!(start.elapsed() < limit, "{nodes:?} did not agree on {members:?} within {limit:?}: {now:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn three_nodes_agree_lose_a_killed_one_and_take_it_back() {
    let (mut lab, _tmp) = lab(3);
    let t = lab.spec.timing;
    let started = Instant::now();
    for n in ["n1", "n2", "n3"] {
        start(&mut lab, n);
    }
    let all = ["n1", "n2", "n3"];
    let (first, _) = wait_agreed(&lab, &all, &all, Duration::from_secs(10));
    eprintln!("first view {first:?} agreed {:?} after the first start", started.elapsed());
    assert!(first.quorum);

    let killed = Instant::now();
    lab.kill("n3").unwrap();
    let bound = Duration::from_millis(t.deadtime_ms + t.keepalive_ms + 500 + 1_000);
    let (second, _) = wait_agreed(&lab, &["n1", "n2"], &["n1", "n2"], bound);
    eprintln!("n3 killed: {second:?} agreed {:?} after the kill", killed.elapsed());
    assert!(second.instance > first.instance && second.quorum, "{second:?}");

    let booted = Instant::now();
    start(&mut lab, "n3");
    let (third, _) = wait_agreed(&lab, &all, &all, Duration::from_secs(10));
    eprintln!("n3 back: {third:?} agreed {:?} after boot", booted.elapsed());
    assert!(third.instance > second.instance && third.quorum, "{third:?}");
    let log = std::fs::read_to_string(lab.spec.log_file("n3")).unwrap();
    assert!(log.contains("n3 ccm: [") && log.contains(&format!("membership: instance {}:", third.instance)), "{log}");
}

#[test]
fn only_the_majority_side_of_a_partition_has_quorum() {
    let (mut lab, _tmp) = lab(3);
    let t = lab.spec.timing;
    for n in ["n1", "n2", "n3"] {
        start(&mut lab, n);
    }
    let all = ["n1", "n2", "n3"];
    let (first, _) = wait_agreed(&lab, &all, &all, Duration::from_secs(10));

    let cut = Instant::now();
    lab.partition(&[vec!["n1".to_string()]]).unwrap();
    let bound = Duration::from_millis(t.deadtime_ms + t.keepalive_ms + 500 + 1_000);
    let (majority, _) = wait_agreed(&lab, &["n2", "n3"], &["n2", "n3"], bound);
    let (minority, _) = wait_agreed(&lab, &["n1"], &["n1"], bound);
    eprintln!("partitioned: {majority:?} and {minority:?} within {:?}", cut.elapsed());
    assert!(majority.quorum, "{majority:?}");
    assert!(!minority.quorum, "{minority:?}");
    assert!(majority.instance > first.instance && minority.instance > first.instance);
    // Stable: a few keepalives later nothing changed on either side.
    std::thread::sleep(Duration::from_millis(3 * t.keepalive_ms));
    assert_eq!(agreed(&lab, &["n2", "n3"], &["n2", "n3"]), Some(majority.clone()));
    assert_eq!(view(&lab, "n1"), Some(minority.clone()));

    let healed = Instant::now();
    lab.heal().unwrap();
    let (one, _) = wait_agreed(&lab, &all, &all, Duration::from_secs(10));
    eprintln!("healed: {one:?} agreed {:?} after the heal", healed.elapsed());
    assert!(one.quorum && one.instance > majority.instance.max(minority.instance), "{one:?}");
}
