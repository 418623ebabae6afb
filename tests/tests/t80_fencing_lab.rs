//! Fencing in the running cluster, end to end, in the lab (issue 7:
//! "Node failure with fencing", "Two-node link cut, with fencing").
//!
//! Each node runs the whole stack launched by heartbeat (`crm respawn`),
//! stonithd included; `agents/fence` is merged over /usr/sbin inside the
//! nodes, so the CIB's `stonith:fence_lab` device (`relay=ROOT/power.sock`)
//! runs there and powers nodes off through the lab's power switch relay
//! (`tests::lab::power::Relay`, a thread of this test in the host's
//! namespaces). A Dummy (`ocf:heartbeat-rs:Dummy`, `priority=10`) writes
//! every start and stop into a witness log outside the nodes; fence_lab
//! writes `NODE fenced -` after each power-off.
//!
//! - `a_paused_node_is_fenced_before_its_resource_starts_elsewhere`: three
//!   nodes; the node running the Dummy (the DC) is paused (SIGSTOP: alive but
//!   silent, the dangerous case). The survivors fence it (its namespace
//!   dies), and only then start the Dummy on one of them: the witness
//!   log's `fenced` precedes the new start, and ha-witness-check finds no
//!   double run.
//!   `a_paused_non_dc_node_...`: the same with the Dummy on a node that
//!   is not the DC (the DC sees it leave; in the first test the survivors
//!   elect a new DC first). `a_powered_off_node_...`: a node that really
//!   died is fenced as well (fence_lab finds it off: done) before its
//!   resource moves; booted again, it rejoins without a second fencing.
//! - `a_two_node_link_cut_leaves_exactly_one_survivor`: two nodes, the
//!   link cut (partition). Both sides want to fence the other;
//!   priority-fencing-delay=5s delays the shot at the node that runs the
//!   priority-10 Dummy, so that node shoots first: exactly one survivor,
//!   the one running the Dummy, and no double run.
//!   `a_device_delay_decides_a_two_node_link_cut`: the same race decided
//!   by the device's `pcmk_delay_base=n2:5s` instead.
//! - `a_three_node_partition_fences_the_minority_only`: {n3} | {n1,n2}:
//!   the majority fences n3 and recovers its Dummy; n3, without quorum,
//!   asks to fence nobody.
//! - `a_failed_fencing_is_retried_and_nothing_is_recovered_meanwhile`: the
//!   power switch unplugged, the Dummy's node paused: every attempt fails
//!   and the Dummy is started nowhere; the switch back, the next attempt
//!   shoots and the Dummy then starts elsewhere.
//! - `the_demo_cluster_fails_over_with_fencing`: examples/cluster with a
//!   fence_lab device; the active node powered off, fenced, the service
//!   answers from a survivor (the failover time is printed). Needs
//!   Debian's IPaddr2 as t70 does.
//!
//! Needs root, ip/nsenter/unshare/nft and overlayfs: it fails, not
//! skips, without them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::time::{Duration, Instant};

use tests::lab::power::Relay;
use tests::lab::web::WebCluster;
use tests::lab::{LabSpec, Media};

/// Builds every daemon heartbeat launches and the tools the tests run.
fn bin_dir() -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let ok = Command::new(env!("CARGO"))
            .args(["build", "-q", "-j2"])
            .args([
                "-p", "transport", "--bin", "heartbeat", "--bin", "cl_status",
                "-p", "ccm", "--bin", "ccm",
                "-p", "cibd", "--bin", "cib",
                "-p", "lrmd", "--bin", "lrmd", "--bin", "ha-httpd", "--bin", "ha-witness", "--bin", "ha-witness-check",
                "-p", "crmd", "--bin", "crmd",
                "-p", "pengined", "--bin", "pengine",
                "-p", "attrd", "--bin", "attrd",
                "-p", "stonithd", "--bin", "stonithd", "--bin", "stonith_admin",
                "-p", "tools", "--bin", "cibadmin", "--bin", "crm_mon", "--bin", "crm_resource", "--bin", "crm_attribute",
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

/// A cold start on two shared cores (initdead, ccm, dc-deadtime, election,
/// join, probes).
const START: Duration = Duration::from_secs(90);
/// Detection (deadtime 1 s), election, scheduling, fencing, the start.
const RECOVERY: Duration = Duration::from_secs(60);

/// A fencing lab cluster: the demo cluster's lab (full stack, our OCF
/// agents) with fence_lab merged in, and the power switch relay.
struct FenceCluster {
    /// Dropped first: the relay stops before the lab goes.
    relay: Option<Relay>,
    c: WebCluster,
    /// The lab root, removed after the lab is destroyed.
    _tmp: tempfile::TempDir,
}

impl FenceCluster {
    fn start(tag: &str, nodes: usize) -> FenceCluster {
        let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
        let name = format!("f{tag}{}", std::process::id() % 100_000);
        let mut spec = LabSpec::new(&name, tmp.path(), nodes, 1, &bin_dir());
        spec.media = Media::Ucast;
        spec.fence_overlay = Some(repo().join("agents/fence"));
        let mut c = WebCluster::create(spec, &repo()).expect("create the lab");
        let relay = Relay::start(&c.lab.spec.root).expect("start the power relay");
        c.start(START).unwrap_or_else(|e| panic!("{e}\n{}", c.logs(40)));
        FenceCluster { relay: Some(relay), c, _tmp: tmp }
    }

    /// Unplugs (`false`) or plugs in (`true`) the power switch.
    fn power_switch(&mut self, on: bool) {
        self.relay = None;
        if on {
            self.relay = Some(Relay::start(&self.c.lab.spec.root).expect("start the power relay"));
        }
    }

    fn root(&self) -> &Path {
        &self.c.lab.spec.root
    }

    /// Loads the fencing configuration through `via`: cluster options, the
    /// fence_lab device (with `device_extra` nvpairs), the Dummy preferring
    /// `home`.
    fn load(&self, via: &str, extra_options: &str, device_extra: &str, home: &str) {
        let root = self.root();
        let witness = self.c.witness.display().to_string();
        let relay = tests::lab::power::socket(root).display().to_string();
        let hosts = self.c.lab.spec.node_names().join(" ");
        let options = format!(
            r#"<cluster_property_set id="cib-bootstrap-options">
  <nvpair id="opt-stonith-enabled" name="stonith-enabled" value="true"/>
  <nvpair id="opt-stonith-timeout" name="stonith-timeout" value="30s"/>
  {extra_options}
</cluster_property_set>"#
        );
        let resources = format!(
            r#"<resources>
  <primitive id="fence" class="stonith" type="fence_lab">
    <instance_attributes id="fence-params">
      <nvpair id="fence-relay" name="relay" value="{relay}"/>
      <nvpair id="fence-witness" name="witness" value="{witness}"/>
      <nvpair id="fence-hosts" name="pcmk_host_list" value="{hosts}"/>
      {device_extra}
    </instance_attributes>
  </primitive>
  <primitive id="d" class="ocf" provider="heartbeat-rs" type="Dummy">
    <meta_attributes id="d-meta">
      <nvpair id="d-priority" name="priority" value="10"/>
      <nvpair id="d-stickiness" name="resource-stickiness" value="100"/>
      <nvpair id="d-role" name="target-role" value="Stopped"/>
    </meta_attributes>
    <instance_attributes id="d-params">
      <nvpair id="d-witness" name="witness" value="{witness}"/>
    </instance_attributes>
    <operations>
      <op id="d-monitor" name="monitor" interval="5s" timeout="20s"/>
    </operations>
  </primitive>
</resources>"#
        );
        let constraints = format!(
            r#"<constraints><rsc_location id="d-home" rsc="d" node="{home}" score="50"/></constraints>"#
        );
        let write = |name: &str, text: &str| {
            let p = root.join(name);
            std::fs::write(&p, text).unwrap();
            p.display().to_string()
        };
        let opts = write("fence-options.xml", &options);
        // The DC may have created the property set already (dc-version...).
        if !self.tool(via, "cibadmin", &["-M", "-o", "crm_config", "-x", &opts]).status.success() {
            self.checked(via, "cibadmin", &["-C", "-o", "crm_config", "-x", &opts]);
        }
        self.checked(via, "cibadmin", &["-R", "-o", "resources", "-x", &write("fence-resources.xml", &resources)]);
        self.checked(via, "cibadmin", &["-R", "-o", "constraints", "-x", &write("fence-constraints.xml", &constraints)]);
        // d starts only now, with its location constraint in place (loaded
        // after the resources, which it refers to): otherwise a first
        // transition might place it without the constraint, and its
        // stickiness would keep it there.
        self.checked(via, "cibadmin", &["-D", "-o", "resources", "-x", &write("fence-start.xml", r#"<nvpair id="d-role"/>"#)]);
    }

    fn tool(&self, node: &str, program: &str, args: &[&str]) -> std::process::Output {
        self.c.lab.exec(node, program, args).unwrap_or_else(|e| panic!("{node}: {program}: {e}"))
    }

    fn checked(&self, node: &str, program: &str, args: &[&str]) -> std::process::Output {
        let o = self.tool(node, program, args);
        assert!(
            o.status.success(),
            "{node}: {program} {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }

    fn witness(&self) -> Vec<Event> {
        events(&std::fs::read_to_string(&self.c.witness).unwrap_or_default())
    }

    fn witness_check(&self) {
        let check = Command::new(self.c.lab.spec.bin_dir.join("ha-witness-check")).arg(&self.c.witness).output().unwrap();
        assert!(
            check.status.success(),
            "ha-witness-check: {}\n{}",
            String::from_utf8_lossy(&check.stdout),
            std::fs::read_to_string(&self.c.witness).unwrap_or_default()
        );
    }

    fn powered(&self, node: &str) -> bool {
        self.c.lab.init_pid(node).is_some()
    }

    /// Everything a failure message needs.
    fn report(&self) -> String {
        let alive: Vec<String> = self.c.lab.spec.node_names().into_iter().filter(|n| self.powered(n)).collect();
        let mon = alive.first().map(|n| self.c.crm_mon(n)).unwrap_or_default();
        format!(
            "powered: {alive:?}\nwitness:\n{}\npower.log:\n{}\ncrm_mon:\n{mon}\n{}",
            std::fs::read_to_string(&self.c.witness).unwrap_or_default(),
            std::fs::read_to_string(tests::lab::power::log(self.root())).unwrap_or_default(),
            self.c.logs(60)
        )
    }

    /// Polls `ok` every 200 ms until it holds, or panics after `limit`.
    fn wait(&self, what: &str, limit: Duration, mut ok: impl FnMut(&FenceCluster) -> bool) {
        let t0 = Instant::now();
        while !ok(self) {
            assert!(t0.elapsed() < limit, "timed out after {limit:?} waiting for {what}\n{}", self.report());
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// One witness log line: `MONO_NS NODE start|stop|fenced RSC`.
#[derive(Debug, Clone, PartialEq)]
struct Event {
    ns: u64,
    node: String,
    what: String,
    rsc: String,
}

fn events(text: &str) -> Vec<Event> {
    text.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            Some(Event { ns: w.first()?.parse().ok()?, node: w.get(1)?.to_string(), what: w.get(2)?.to_string(), rsc: w.get(3)?.to_string() })
        })
        .collect()
}

/// Nodes running `rsc` by the witness log (a start not ended by a stop or
/// by the node's power-off), sorted.
fn running(ev: &[Event], rsc: &str) -> Vec<String> {
    let mut on: Vec<String> = Vec::new();
    for e in ev {
        match e.what.as_str() {
            "start" if e.rsc == rsc && !on.contains(&e.node) => on.push(e.node.clone()),
            "stop" if e.rsc == rsc => on.retain(|n| *n != e.node),
            "fenced" => on.retain(|n| *n != e.node),
            _ => {}
        }
    }
    on.sort();
    on
}

#[test]
fn a_paused_node_is_fenced_before_its_resource_starts_elsewhere() {
    lost_node_is_fenced("p", true, false);
}

#[test]
fn a_paused_non_dc_node_is_fenced_before_its_resource_starts_elsewhere() {
    lost_node_is_fenced("q", false, false);
}

#[test]
fn a_powered_off_node_is_fenced_too_before_its_resource_starts_elsewhere() {
    lost_node_is_fenced("k", false, true);
}

/// Three nodes; the Dummy runs on the DC (`on_dc`) or on another node,
/// which is then paused (or powered off: `kill`; its fencing then finds it
/// off, which counts as done).
fn lost_node_is_fenced(tag: &str, on_dc: bool, kill: bool) {
    let mut f = FenceCluster::start(tag, 3);
    let dc = f.c.dc("n1").unwrap_or_else(|| panic!("no DC\n{}", f.report()));
    let victim = if on_dc { dc.clone() } else { ["n3", "n2"].into_iter().find(|n| *n != dc).unwrap().to_string() };
    let victim = victim.as_str();
    let others: Vec<String> = f.c.lab.spec.node_names().into_iter().filter(|n| n != victim).collect();
    f.load(&others[0], r#"<nvpair id="opt-no-quorum-policy" name="no-quorum-policy" value="stop"/>"#, "", victim);
    f.wait(&format!("d to run on {victim} only"), START, |f| running(&f.witness(), "d") == [victim]);
    println!("d runs on {victim}; the DC is {dc}");
    let before = f.witness().len();

    // Alive but silent: every process of the node stopped, none dead.
    let t0 = Instant::now();
    if kill {
        f.c.lab.kill(victim).unwrap();
    } else {
        f.c.lab.pause(victim).unwrap();
    }
    f.wait(&format!("{victim} to be fenced and d to run on a survivor"), RECOVERY, |f| {
        let r = running(&f.witness(), "d");
        !f.powered(victim) && r.len() == 1 && r[0] != victim
    });
    println!(
        "{victim} ({}the DC) {} -> fenced and d restarted in {:.3} s",
        if on_dc { "" } else { "not " },
        if kill { "powered off" } else { "paused" },
        t0.elapsed().as_secs_f64()
    );

    let ev = f.witness();
    let new = &ev[before..];
    let fenced = new.iter().find(|e| e.node == victim && e.what == "fenced").unwrap_or_else(|| panic!("no fenced line\n{}", f.report()));
    let start = new.iter().find(|e| e.what == "start" && e.rsc == "d").unwrap_or_else(|| panic!("no new start\n{}", f.report()));
    assert!(fenced.ns < start.ns, "the fencing ({}) precedes the start on {} ({})\n{}", fenced.ns, start.node, start.ns, f.report());
    assert!(new.iter().position(|e| e == fenced) < new.iter().position(|e| e == start));
    // Nothing of the victim runs: its namespace died (the relay killed it).
    assert!(!f.powered(victim));
    let power = std::fs::read_to_string(tests::lab::power::log(f.root())).unwrap();
    assert!(power.lines().any(|l| l.ends_with(&format!("off {victim} ok"))), "{power}");
    assert_eq!(power.lines().count(), 1, "only {victim} was shot: {power}");

    // The survivors' DC asked for it, and the fencing history shows it.
    let survivor = start.node.clone();
    let logs: String = others.iter().map(|n| std::fs::read_to_string(f.c.lab.spec.log_file(n)).unwrap_or_default()).collect();
    assert!(logs.contains(&format!("Requesting fencing (reboot) of node {victim}")), "{}", f.report());
    assert!(logs.contains(&format!("Peer {victim} was terminated (reboot)")), "{}", f.report());
    let hist = f.tool(&survivor, "stonith_admin", &["-H", victim]);
    let hist = String::from_utf8_lossy(&hist.stdout);
    assert!(hist.contains(&format!("reboot of {victim} successful")), "{hist}");
    f.wait("crm_mon to show d started on the survivor", Duration::from_secs(20), |f| {
        f.c.crm_mon(&survivor).contains(&format!("Started {survivor}"))
    });
    println!("crm_mon -1 on {survivor}:\n{}", f.c.crm_mon(&survivor));

    // Stays put: no second start anywhere, and no double run ever.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(running(&f.witness(), "d"), std::slice::from_ref(&survivor), "{}", f.report());
    f.witness_check();

    if kill {
        // The fenced node boots again and rejoins as a clean member: not
        // fenced a second time, and d stays where it is (stickiness).
        f.c.rejoin(victim, START).unwrap_or_else(|e| panic!("{e}\n{}", f.report()));
        std::thread::sleep(Duration::from_secs(3));
        let power = std::fs::read_to_string(tests::lab::power::log(f.root())).unwrap();
        assert_eq!(power.lines().count(), 1, "no second shot: {power}");
        assert!(f.powered(victim));
        assert_eq!(running(&f.witness(), "d"), std::slice::from_ref(&survivor), "{}", f.report());
        f.witness_check();
        println!("{victim} rejoined; d stays on {survivor}");
    }
}

#[test]
fn a_two_node_link_cut_leaves_exactly_one_survivor() {
    link_cut_leaves_one_survivor("c", true);
}

#[test]
fn a_device_delay_decides_a_two_node_link_cut() {
    link_cut_leaves_one_survivor("b", false);
}

/// Two nodes, the Dummy on n2, the link cut. The race is decided by
/// priority-fencing-delay (`priority`: the node running the priority-10
/// Dummy is shot only after 5 s) or by the device's
/// `pcmk_delay_base=n2:5s` (fencing n2 waits 5 s wherever the device runs).
fn link_cut_leaves_one_survivor(tag: &str, priority: bool) {
    let f = FenceCluster::start(tag, 2);
    if priority {
        f.load("n1", r#"<nvpair id="opt-pfd" name="priority-fencing-delay" value="5s"/>"#, "", "n2");
    } else {
        f.load("n1", "", r#"<nvpair id="fence-delay" name="pcmk_delay_base" value="n2:5s"/>"#, "n2");
    }
    f.wait("d to run on n2 only", START, |f| running(&f.witness(), "d") == ["n2"]);
    let before = f.witness().len();

    let t0 = Instant::now();
    f.c.lab.partition(&[vec!["n1".to_string()], vec!["n2".to_string()]]).unwrap();
    f.wait("one node to be fenced", RECOVERY, |f| !f.powered("n1") || !f.powered("n2"));
    println!("link cut -> a node fenced in {:.3} s", t0.elapsed().as_secs_f64());
    // Past the delay the loser's request would have waited out: still one.
    std::thread::sleep(Duration::from_secs(8));
    assert!(f.powered("n2"), "n2 (running d, favoured by the delay) survives\n{}", f.report());
    assert!(!f.powered("n1"), "n1 was fenced\n{}", f.report());

    let ev = f.witness();
    let new = &ev[before..];
    assert!(new.iter().any(|e| e.node == "n1" && e.what == "fenced"), "{}", f.report());
    assert!(!new.iter().any(|e| e.node == "n2" && e.what == "fenced"), "{}", f.report());
    assert!(!new.iter().any(|e| e.what == "start" && e.node == "n1"), "d never started on n1\n{}", f.report());
    assert_eq!(running(&ev, "d"), ["n2"], "{}", f.report());
    let power = std::fs::read_to_string(tests::lab::power::log(f.root())).unwrap();
    assert_eq!(power.lines().filter(|l| l.contains(" off ")).count(), 1, "exactly one shot: {power}");
    f.witness_check();
    // n2 shot at once; n1, if it got as far as asking, waited the delay.
    let log = |n: &str| std::fs::read_to_string(f.c.lab.spec.log_file(n)).unwrap_or_default();
    let (log1, log2) = (log("n1"), log("n2"));
    assert!(log2.contains("Requesting fencing (reboot) of node n1"), "{}", f.report());
    assert!(!log2.contains("fencing of n1 delayed"), "{}", f.report());
    for l in log1.lines().filter(|l| l.contains("Requesting fencing") || l.contains("delayed by priority-fencing-delay")) {
        println!("n1: {l}");
        if priority && l.contains("Requesting fencing") {
            assert!(log1.contains("fencing of n2 delayed by priority-fencing-delay (5000 ms)"), "{}", f.report());
        }
    }

    // The survivor runs d (its monitor keeps passing) and knows n1 is gone.
    f.wait("crm_mon on n2 to show d started and n1 offline", Duration::from_secs(20), |f| {
        let mon = f.c.crm_mon("n2");
        mon.contains("Started n2") && mon.contains("OFFLINE")
    });
    println!("crm_mon -1 on n2:\n{}", f.c.crm_mon("n2"));
}

/// Three nodes split {victim} | {the other two}: only the side with quorum
/// may fence (Pacemaker's pe_can_fence), so the lone node shoots nobody
/// and stops what it ran (no-quorum-policy=stop); the majority fences it
/// and then recovers its resource.
#[test]
fn a_three_node_partition_fences_the_minority_only() {
    let f = FenceCluster::start("m", 3);
    let victim = "n3";
    f.load("n1", r#"<nvpair id="opt-no-quorum-policy" name="no-quorum-policy" value="stop"/>"#, "", victim);
    f.wait("d to run on n3 only", START, |f| running(&f.witness(), "d") == [victim]);
    let before = f.witness().len();

    let t0 = Instant::now();
    f.c.lab.partition(&[vec![victim.to_string()], vec!["n1".to_string(), "n2".to_string()]]).unwrap();
    f.wait("n3 to be fenced and d to run in the majority", RECOVERY, |f| {
        let r = running(&f.witness(), "d");
        !f.powered(victim) && r.len() == 1 && r[0] != victim
    });
    println!("{{n3}} | {{n1,n2}} -> n3 fenced and d restarted in {:.3} s", t0.elapsed().as_secs_f64());
    std::thread::sleep(Duration::from_secs(3));
    assert!(f.powered("n1") && f.powered("n2"), "the majority survives\n{}", f.report());
    let power = std::fs::read_to_string(tests::lab::power::log(f.root())).unwrap();
    assert_eq!(power.lines().collect::<Vec<_>>().len(), 1, "one shot only: {power}");
    assert!(power.trim_end().ends_with("off n3 ok"), "{power}");
    let log3 = std::fs::read_to_string(f.c.lab.spec.log_file(victim)).unwrap_or_default();
    assert!(!log3.contains("Requesting fencing"), "the minority never asks to fence\n{}", f.report());
    let ev = f.witness();
    let new = &ev[before..];
    let fenced = new.iter().position(|e| e.node == victim && e.what == "fenced").expect("fenced line");
    let start = new.iter().position(|e| e.what == "start" && e.rsc == "d").expect("a new start");
    assert!(fenced < start && new[fenced].ns < new[start].ns, "{}", f.report());
    f.witness_check();
}

/// The demo cluster (floating address + HTTP service, examples/cluster)
/// with fencing (`WebCluster::create_with_fencing`): the active node
/// powered off is fenced (fence_lab finds it off) before the group starts
/// on a survivor; the client sees the service answer from there.
#[test]
fn the_demo_cluster_fails_over_with_fencing() {
    let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
    let name = format!("fw{}", std::process::id() % 100_000);
    let mut spec = LabSpec::new(&name, tmp.path(), 3, 1, &bin_dir());
    spec.media = Media::Ucast;
    let mut c = WebCluster::create_with_fencing(spec, &repo()).expect("create the lab");
    c.start(START).unwrap_or_else(|e| panic!("{e}\n{}", c.logs(40)));
    c.load("n1").expect("load examples/cluster and the fencing device");
    let mut active = None;
    c.wait("the service to answer", START, |c| {
        active = c.answer(Duration::from_secs(2));
        active.is_some()
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", c.logs(40)));
    let active = active.unwrap();
    std::thread::sleep(Duration::from_secs(2));

    let f = c.fail(&active, RECOVERY).unwrap_or_else(|e| panic!("{e}\n{}", c.logs(40)));
    println!("with fencing: {} -> {} in {:.3} s ({}the DC)", f.from, f.to, f.elapsed.as_secs_f64(), if f.was_dc { "" } else { "not " });
    let root = c.lab.spec.root.clone();
    let power = std::fs::read_to_string(tests::lab::power::log(&root)).unwrap_or_default();
    assert!(power.lines().any(|l| l.ends_with(&format!("off {active} ok"))), "{active} was fenced: {power}\n{}", c.logs(40));
    let logs: String = c
        .lab
        .spec
        .node_names()
        .iter()
        .filter(|n| **n != active)
        .map(|n| std::fs::read_to_string(c.lab.spec.log_file(n)).unwrap_or_default())
        .collect();
    assert!(logs.contains(&format!("Peer {active} was terminated (reboot)")), "{}", c.logs(40));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(c.witnessed_running(), std::slice::from_ref(&f.to), "{}", c.logs(40));
    let check = Command::new(c.lab.spec.bin_dir.join("ha-witness-check")).arg(&c.witness).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    drop(c);
    drop(tmp);
}

/// A fencing that fails is retried, and nothing of the unclean node is
/// recovered meanwhile: the power switch is unplugged, the Dummy's node
/// paused; the survivors' DC asks again and again (each attempt fails)
/// while the Dummy runs nowhere else; once the switch is back, the next
/// attempt shoots the node and only then the Dummy starts elsewhere.
#[test]
fn a_failed_fencing_is_retried_and_nothing_is_recovered_meanwhile() {
    let mut f = FenceCluster::start("r", 3);
    let victim = "n3";
    f.load("n1", r#"<nvpair id="opt-no-quorum-policy" name="no-quorum-policy" value="stop"/>"#, "", victim);
    f.wait("d to run on n3 only", START, |f| running(&f.witness(), "d") == [victim]);
    let before = f.witness().len();

    f.power_switch(false);
    f.c.lab.pause(victim).unwrap();
    let failures = |f: &FenceCluster| {
        ["n1", "n2"]
            .iter()
            .map(|n| std::fs::read_to_string(f.c.lab.spec.log_file(n)).unwrap_or_default())
            .map(|l| l.lines().filter(|x| x.contains("Fencing of n3 (reboot) failed")).count())
            .sum::<usize>()
    };
    // The log has each line twice (logfile and debugfile are one file).
    f.wait("three failed attempts", RECOVERY, |f| failures(f) >= 6);
    assert!(f.powered(victim), "still there, paused");
    let new = &f.witness()[before..];
    assert!(!new.iter().any(|e| e.what == "start"), "nothing recovered while n3 is not fenced\n{}", f.report());
    assert!(!tests::lab::power::log(f.root()).exists(), "no power-off happened");

    f.power_switch(true);
    let t0 = Instant::now();
    f.wait("n3 fenced and d restarted once the switch is back", RECOVERY, |f| {
        let r = running(&f.witness(), "d");
        !f.powered(victim) && r.len() == 1 && r[0] != victim
    });
    println!("{} failed attempts; switch back -> fenced and d restarted in {:.3} s", failures(&f) / 2, t0.elapsed().as_secs_f64());
    let ev = f.witness();
    let new = &ev[before..];
    let fenced = new.iter().position(|e| e.node == victim && e.what == "fenced").expect("fenced line");
    let start = new.iter().position(|e| e.what == "start" && e.rsc == "d").expect("a new start");
    assert!(fenced < start && new[fenced].ns < new[start].ns, "{}", f.report());
    f.witness_check();
}

/// `stonith-max-attempts` (issue 7): with the switch unplugged and the
/// limit at 2, the DC gives up after the second failed fencing of the
/// paused node ("Too many failures (2) to fence n3, giving up") and then
/// asks no more while nothing happens; the next event (a CIB change)
/// computes a transition that tries again, and with the switch back it
/// shoots, and only then the Dummy starts elsewhere.
#[test]
fn the_dc_gives_up_at_stonith_max_attempts_until_the_next_event() {
    let mut f = FenceCluster::start("m", 3);
    let victim = "n3";
    f.load(
        "n1",
        r#"<nvpair id="opt-no-quorum-policy" name="no-quorum-policy" value="stop"/>
  <nvpair id="opt-max-attempts" name="stonith-max-attempts" value="2"/>"#,
        "",
        victim,
    );
    f.wait("d to run on n3 only", START, |f| running(&f.witness(), "d") == [victim]);
    let before = f.witness().len();

    f.power_switch(false);
    f.c.lab.pause(victim).unwrap();
    // Distinct lines: a log may hold each line twice (logfile and
    // debugfile one file).
    let count = |f: &FenceCluster, what: &str| {
        ["n1", "n2"]
            .iter()
            .map(|n| std::fs::read_to_string(f.c.lab.spec.log_file(n)).unwrap_or_default())
            .map(|l| l.lines().filter(|x| x.contains(what)).map(str::to_string).collect::<std::collections::BTreeSet<_>>().len())
            .sum::<usize>()
    };
    f.wait("the DC to give up", RECOVERY, |f| count(f, "Too many failures (2) to fence n3, giving up") > 0);
    // An event already under way (the fence device's own start failing
    // with the switch unplugged changes the CIB) may have a transition
    // try once more, and give up again; then the DC stays quiet, where
    // without the limit it retried every few seconds (the test above).
    let failed = |f: &FenceCluster| count(f, "Fencing of n3 (reboot) failed");
    let (t0, mut last, mut quiet) = (Instant::now(), failed(&f), Instant::now());
    while quiet.elapsed() < Duration::from_secs(15) {
        assert!(t0.elapsed() < RECOVERY, "the DC kept trying\n{}", f.report());
        std::thread::sleep(Duration::from_millis(500));
        if failed(&f) != last {
            (last, quiet) = (failed(&f), Instant::now());
        }
    }
    println!("{last} failed attempts before the DC stayed quiet for 15 s");
    assert!(last <= 4, "attempts: {last}\n{}", f.report());
    assert_eq!(
        count(&f, "to fence n3, giving up"),
        count(&f, "Fencing of n3 (reboot) failed") - 1,
        "every attempt after the second gave up at once\n{}",
        f.report()
    );
    assert!(f.powered(victim), "still there, paused");
    assert!(!f.witness()[before..].iter().any(|e| e.what == "start"), "nothing recovered\n{}", f.report());

    // The switch back, then an event: a cluster option changes.
    f.power_switch(true);
    f.checked(
        "n1",
        "crm_attribute",
        &["--type", "crm_config", "--name", "cluster-recheck-interval", "--update", "5min"],
    );
    f.wait("n3 fenced and d restarted after the next event", RECOVERY, |f| {
        let r = running(&f.witness(), "d");
        !f.powered(victim) && r.len() == 1 && r[0] != victim
    });
    let ev = f.witness();
    let new = &ev[before..];
    let fenced = new.iter().position(|e| e.node == victim && e.what == "fenced").expect("fenced line");
    let start = new.iter().position(|e| e.what == "start" && e.rsc == "d").expect("a new start");
    assert!(fenced < start && new[fenced].ns < new[start].ns, "{}", f.report());
    f.witness_check();
}
