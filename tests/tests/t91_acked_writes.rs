//! No acknowledged CIB write is lost (issue 7; docs/CIB_DAEMON.md,
//! "Replication rules"): the chaos run's lost writes, reduced to the
//! faults that lost them, without resources and without fencing so that
//! the partition's two copies really meet at the merge.
//!
//! Three lab nodes running the whole stack (`crm respawn`), no
//! resources, `stonith-enabled=false`. A writer adds a
//! `cluster_property_set` through a random node's cib every 150 ms and
//! remembers what cibadmin acknowledged. Faults, in order:
//!
//! 1. partition {DC} | {the other two} for 5 s (heartbeat's deadtime is
//!    1 s, so both sides elect, and the DC's side applied writes before
//!    it learnt it was alone), then heal: the copies merge;
//! 2. power-off of the (new) DC, power on after 4 s;
//! 3. cut of a non-DC node's link for 4 s, restore.
//!
//! After each, the nodes must converge (the same `crm_config` on all
//! three, within 120 s); at the end every acknowledged write must be on
//! every node. Needs root.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use tests::lab::spec::LabSpec;
use tests::lab::web::WebCluster;
use tests::lab::{sys, Media};

const NODES: [&str; 3] = ["n1", "n2", "n3"];
/// Bound of one convergence.
const CONVERGE: Duration = Duration::from_secs(120);

fn bin_dir() -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let ok = Command::new(env!("CARGO"))
            .args(["build", "-q", "-j2"])
            .args([
                "-p", "transport", "--bin", "heartbeat", "--bin", "cl_status",
                "-p", "ccm", "--bin", "ccm",
                "-p", "cibd", "--bin", "cib",
                "-p", "lrmd", "--bin", "lrmd",
                "-p", "crmd", "--bin", "crmd",
                "-p", "pengined", "--bin", "pengine",
                "-p", "attrd", "--bin", "attrd",
                "-p", "stonithd",
                "-p", "tools", "--bin", "cibadmin", "--bin", "crm_mon",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build")
            .success();
        assert!(ok, "cargo build of the cluster's daemons and tools failed");
        assert!(nix::unistd::Uid::effective().is_root(), "the lab tests need root (namespaces, nftables)");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_ha-lab")).parent().unwrap().to_path_buf()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// `cibadmin` inside a node without borrowing the lab (the writer's).
fn node_command(spec: &LabSpec, node: &str, args: &[&str]) -> Option<Command> {
    let pid = sys::node_init_pid(&spec.node_ns(node))?;
    let mut cmd = Command::new("nsenter");
    cmd.arg("-t").arg(pid.to_string()).args(["-n", "-p", "-u", "-m", "-i", "--"]);
    cmd.arg(spec.bin_dir.join("cibadmin")).args(args).env_clear();
    for (k, v) in spec.env(node) {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null());
    Some(cmd)
}

/// One new property set every 150 ms through node `k % 3` (a fixed
/// rotation: every node's cib takes writes, the DC's included).
fn writer(spec: LabSpec, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<String>>>, tried: Arc<Mutex<u64>>) {
    let mut k = 0usize;
    while !stop.load(Ordering::Relaxed) {
        k += 1;
        let node = NODES[k % NODES.len()];
        let id = format!("w-{k}");
        let xml = format!(r#"<cluster_property_set id="{id}"><nvpair id="{id}-v" name="{id}" value="{k}"/></cluster_property_set>"#);
        if let Some(mut cmd) = node_command(&spec, node, &["-C", "-o", "crm_config", "-X", &xml]) {
            *tried.lock().unwrap() += 1;
            if cmd.output().is_ok_and(|o| o.status.success()) {
                acked.lock().unwrap().push(id);
            }
        }
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// Stops the writer on every exit path (a panic included).
struct StopWriter(Arc<AtomicBool>);

impl Drop for StopWriter {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn query(c: &WebCluster, node: &str) -> Option<String> {
    let o = c.lab.exec(node, "cibadmin", &["-Q", "-o", "crm_config"]).ok()?;
    o.status.success().then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// The property set ids of a `crm_config` query.
fn ids(xml: &str) -> BTreeSet<String> {
    xml.split(r#"<cluster_property_set id=""#).skip(1).filter_map(|s| s.split('"').next()).map(str::to_string).collect()
}

/// Waits until a DC is known and every node holds the same property sets.
fn converge(c: &WebCluster, what: &str, t0: Instant) {
    let start = Instant::now();
    loop {
        let copies: Vec<Option<BTreeSet<String>>> = NODES.iter().map(|n| query(c, n).map(|x| ids(&x))).collect();
        let same = copies.iter().all(|s| s.is_some() && *s == copies[0]);
        if same && c.dc("n1").is_some() {
            println!("[{:6.1}s] converged ({what}) in {:.1}s", t0.elapsed().as_secs_f64(), start.elapsed().as_secs_f64());
            return;
        }
        assert!(start.elapsed() < CONVERGE, "no convergence after {what}\n{}\n{}", c.crm_mon("n1"), c.logs(60));
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn no_acknowledged_write_is_lost_across_a_partition_merge_a_dc_power_off_and_a_cut() {
    let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
    let name = format!("w{}", std::process::id() % 1_000_000);
    let mut spec = LabSpec::new(&name, tmp.path(), 3, 1, &bin_dir());
    spec.media = Media::Ucast;
    let mut c = WebCluster::create(spec, &repo()).expect("create the lab");
    let t0 = Instant::now();
    for n in NODES {
        c.lab.start(n).unwrap();
    }
    let opts = r#"<cluster_property_set id="cib-bootstrap-options"><nvpair id="o-st" name="stonith-enabled" value="false"/><nvpair id="o-nq" name="no-quorum-policy" value="stop"/></cluster_property_set>"#;
    let start = Instant::now();
    while !c.lab.exec("n1", "cibadmin", &["-M", "-c", "-o", "crm_config", "-X", opts]).is_ok_and(|o| o.status.success()) {
        assert!(start.elapsed() < CONVERGE, "could not configure the cluster\n{}", c.logs(40));
        std::thread::sleep(Duration::from_secs(1));
    }
    converge(&c, "start", t0);

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let tried = Arc::new(Mutex::new(0u64));
    let w = {
        let (spec, stop, acked, tried) = (c.lab.spec.clone(), stop.clone(), acked.clone(), tried.clone());
        std::thread::spawn(move || writer(spec, stop, acked, tried))
    };
    let guard = StopWriter(stop);
    std::thread::sleep(Duration::from_secs(2));

    // 1. The DC alone on one side.
    let dc = c.dc("n1").expect("a DC");
    let rest: Vec<String> = NODES.iter().filter(|n| **n != dc).map(|s| s.to_string()).collect();
    println!("[{:6.1}s] partition {{{dc}}} | {{{}}}", t0.elapsed().as_secs_f64(), rest.join(","));
    c.lab.partition(&[vec![dc.clone()], rest.clone()]).unwrap();
    std::thread::sleep(Duration::from_secs(5));
    c.lab.heal().unwrap();
    println!("[{:6.1}s] heal", t0.elapsed().as_secs_f64());
    converge(&c, "merge", t0);
    std::thread::sleep(Duration::from_secs(2));

    // 2. The DC powered off.
    let dc = c.dc("n1").expect("a DC");
    println!("[{:6.1}s] power off {dc}", t0.elapsed().as_secs_f64());
    c.lab.kill(&dc).unwrap();
    std::thread::sleep(Duration::from_secs(4));
    c.lab.start(&dc).unwrap();
    converge(&c, "DC power-off", t0);
    std::thread::sleep(Duration::from_secs(2));

    // 3. A follower's link cut.
    let dc = c.dc("n1").expect("a DC");
    let victim = NODES.iter().find(|n| **n != dc).unwrap().to_string();
    println!("[{:6.1}s] cut {victim}", t0.elapsed().as_secs_f64());
    c.lab.cut(&victim, 0).unwrap();
    std::thread::sleep(Duration::from_secs(4));
    c.lab.restore(&victim, 0).unwrap();
    converge(&c, "cut", t0);
    std::thread::sleep(Duration::from_secs(2));

    drop(guard);
    w.join().unwrap();
    converge(&c, "end", t0);
    let acked = acked.lock().unwrap().clone();
    let tried = *tried.lock().unwrap();
    let mut lost = Vec::new();
    for n in NODES {
        let have = ids(&query(&c, n).unwrap_or_default());
        lost.extend(acked.iter().filter(|id| !have.contains(*id)).map(|id| format!("{id} on {n}")));
    }
    println!("[{:6.1}s] writes acknowledged {} of {tried}, lost {}", t0.elapsed().as_secs_f64(), acked.len(), lost.len());
    assert!(acked.len() > 20, "too few writes were acknowledged to mean anything: {} of {tried}", acked.len());
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}\n{}", c.logs(80));
}
