//! A seeded chaos run over a 3-node lab cluster (issue 7: "No double run,
//! seen from reality"; docs/CRMD.md, "Chaos run").
//!
//! Three nodes, each its own host (namespaces), heartbeat launching the
//! whole stack (`crm respawn`), `no-quorum-policy=stop`, the lab's
//! fence_lab device (or no fencing with `CHAOS_FENCING=0`), three
//! ocf:heartbeat-rs:Dummy resources (monitor 3 s) that append every start
//! and stop to a witness log outside the nodes. A writer thread adds a
//! `cluster_property_set` through a random node's cib every ~500 ms and
//! remembers each write cibadmin acknowledged (exit 0; also appended to
//! `acked.log` in the lab's directory).
//!
//! Faults, drawn from a seeded generator: power-off of a node (and power
//! on), power-off of the DC, pause/resume of a node (SIGSTOP for 1-4 s),
//! cut/restore of a node's only link, partition {one} | {two others} and
//! heal, standby on/off, graceful restart (`heartbeat -k`, start). After
//! each fault (and after undoing it) the run waits, bounded, for the
//! cluster to settle: a DC, the expected nodes online, each resource
//! running on exactly one expected node according to its state file, the
//! same as crm_mon shows, and `crm_simulate -L` with nothing left to do.
//!
//! At the end: `ha-witness-check` finds no double run; every acknowledged
//! write is in the CIB of every node; the last settle holds.
//!
//! `CHAOS_FAULTS` (default 12), `CHAOS_SEED` (default 1), `CHAOS_KINDS`
//! (comma list of kill,dckill,pause,cut,partition,standby,restart; default
//! all), `CHAOS_LOGS=1` (print the nodes' logs when a settle fails),
//! `CHAOS_KEEP=1` (keep the lab's files), `CHAOS_FENCING=0` (no fencing;
//! with fencing, a node fence_lab powered off is powered on again after
//! the fault). Progress is printed per fault
//! (`--nocapture`). Needs root.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use tests::lab::power::Relay;
use tests::lab::spec::LabSpec;
use tests::lab::web::WebCluster;
use tests::lab::{sys, Media};

const RSCS: [&str; 3] = ["c1", "c2", "c3"];
const NODES: [&str; 3] = ["n1", "n2", "n3"];
/// Bound of one settle (a node's cold start included).
const SETTLE: Duration = Duration::from_secs(120);

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
                "-p", "lrmd", "--bin", "lrmd", "--bin", "ha-witness", "--bin", "ha-witness-check",
                "-p", "crmd", "--bin", "crmd",
                "-p", "pengined", "--bin", "pengine",
                "-p", "attrd", "--bin", "attrd",
                "-p", "tools", "--bin", "cibadmin", "--bin", "crm_mon", "--bin", "crm_attribute", "--bin", "crm_simulate",
            ]),
            "cargo build of the cluster's daemons and tools failed"
        );
        let _ = build(&["-p", "stonithd"]);
        assert!(nix::unistd::Uid::effective().is_root(), "the lab tests need root (namespaces, nftables)");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_ha-lab")).parent().unwrap().to_path_buf()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// splitmix64: a seeded generator (no dependency needed for this).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Kill,
    DcKill,
    Pause,
    Cut,
    Partition,
    Standby,
    Restart,
}

impl Kind {
    const ALL: [Kind; 7] = [Kind::Kill, Kind::DcKill, Kind::Pause, Kind::Cut, Kind::Partition, Kind::Standby, Kind::Restart];

    fn name(self) -> &'static str {
        match self {
            Kind::Kill => "kill",
            Kind::DcKill => "dckill",
            Kind::Pause => "pause",
            Kind::Cut => "cut",
            Kind::Partition => "partition",
            Kind::Standby => "standby",
            Kind::Restart => "restart",
        }
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A command run inside a node without borrowing the lab (the writer
/// thread's), as `Lab::command` builds it.
fn node_command(spec: &LabSpec, node: &str, program: &str, args: &[&str]) -> Option<Command> {
    let pid = sys::node_init_pid(&spec.node_ns(node))?;
    let mut cmd = Command::new("nsenter");
    cmd.arg("-t").arg(pid.to_string()).args(["-n", "-p", "-u", "-m", "-i", "--"]);
    cmd.arg(spec.bin_dir.join(program)).args(args).env_clear();
    for (k, v) in spec.env(node) {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null());
    Some(cmd)
}

/// The writer: one new `cluster_property_set` per call through a random
/// node; the ids cibadmin acknowledged.
fn writer(spec: LabSpec, seed: u64, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<String>>>, tried: Arc<Mutex<u64>>) {
    use std::io::Write;
    let mut rng = Rng(seed ^ 0x5eed);
    // Also on disk, so that a run cut short can still be checked.
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(spec.root.join("acked.log")).ok();
    let mut k = 0u64;
    while !stop.load(Ordering::Relaxed) {
        k += 1;
        let node = rng.pick(&NODES);
        let id = format!("chaos-{k}");
        let xml = format!(r#"<cluster_property_set id="{id}"><nvpair id="{id}-v" name="{id}" value="{k}"/></cluster_property_set>"#);
        if let Some(mut cmd) = node_command(&spec, node, "cibadmin", &["-C", "-o", "crm_config", "-X", &xml]) {
            *tried.lock().unwrap() += 1;
            // cibadmin's own 30 s bound applies; a node powered off under
            // it ends it sooner.
            if cmd.output().is_ok_and(|o| o.status.success()) {
                if let Some(f) = file.as_mut() {
                    let _ = writeln!(f, "{id}");
                }
                acked.lock().unwrap().push(id);
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

struct Chaos {
    c: WebCluster,
    /// Nodes powered on (a killed node is off until started again).
    on: BTreeSet<String>,
    log: Vec<String>,
    t0: Instant,
}

impl Chaos {
    fn say(&mut self, s: String) {
        let line = format!("[{:7.1}s] {s}", self.t0.elapsed().as_secs_f64());
        println!("{line}");
        self.log.push(line);
    }

    fn exec(&self, node: &str, program: &str, args: &[&str]) -> String {
        match self.c.lab.exec(node, program, args) {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
            Err(e) => format!("{e}"),
        }
    }

    fn state_file(&self, node: &str, rsc: &str) -> PathBuf {
        self.c.lab.spec.node_dir(node).join(format!("rsctmp/Dummy-{rsc}.state"))
    }

    /// Where each resource runs by its state files, on running nodes (a
    /// powered-off node's files stay on disk until it boots).
    fn running(&self) -> Vec<(String, Vec<String>)> {
        let alive: Vec<&String> = self.on.iter().filter(|n| self.c.lab.init_pid(n).is_some()).collect();
        RSCS.iter()
            .map(|r| (r.to_string(), alive.iter().filter(|n| self.state_file(n, r).exists()).map(|n| n.to_string()).collect()))
            .collect()
    }

    fn dc(&self, via: &str) -> Option<String> {
        self.c.dc(via)
    }

    /// What is wrong with the cluster now, seen through `members` (the
    /// nodes expected online); None when it is settled.
    fn unsettled(&self, members: &BTreeSet<String>, standby: Option<&str>) -> Option<String> {
        let via = members.iter().next()?;
        let mon = self.c.crm_mon(via);
        let Some(dc) = self.dc(via) else { return Some(format!("no DC on {via}")) };
        if !members.contains(&dc) {
            return Some(format!("DC {dc} not expected"));
        }
        let want: Vec<String> = members.iter().cloned().collect();
        let online = self.c.online(via).unwrap_or_default();
        // A node in standby is listed apart by crm_mon.
        let online_all: Vec<String> = {
            let mut v = online.clone();
            if let Some(s) = standby {
                if mon.contains(&format!("Node {s}: standby")) && !v.iter().any(|n| n == s) {
                    v.push(s.to_string());
                    v.sort();
                }
            }
            v
        };
        if online_all != want {
            return Some(format!("online {online:?}, want {want:?}"));
        }
        for (rsc, on) in self.running() {
            if on.len() != 1 {
                return Some(format!("{rsc} runs on {on:?}"));
            }
            if !members.contains(&on[0]) || standby == Some(on[0].as_str()) {
                return Some(format!("{rsc} runs on {}", on[0]));
            }
            let started = mon.lines().any(|l| l.contains(&format!("{rsc}\t")) && l.contains(&format!("Started {}", on[0])));
            if !started {
                return Some(format!("crm_mon does not show {rsc} Started {}", on[0]));
            }
        }
        let sim = self.exec(via, "crm_simulate", &["-L"]);
        let todo: Vec<&str> = sim
            .split("Transition Summary:")
            .nth(1)
            .unwrap_or("")
            .lines()
            .filter(|l| ["Start", "Stop", "Move", "Recover", "Restart", "Migrate"].iter().any(|w| l.trim_start().trim_start_matches("* ").starts_with(w)))
            .collect();
        if !todo.is_empty() {
            return Some(format!("crm_simulate -L still plans {todo:?}"));
        }
        None
    }

    /// Waits until settled twice in a row, 1 s apart (bounded).
    fn settle(&mut self, what: &str, members: &BTreeSet<String>, standby: Option<&str>) -> bool {
        let start = Instant::now();
        let mut good = 0;
        let mut last = String::new();
        while start.elapsed() < SETTLE {
            // Fencing may power off an expected node at any time (a paused
            // node resumed just before its fencing went through).
            for n in members {
                if self.c.lab.init_pid(n).is_none() {
                    self.say(format!("  {n} is off (fenced): power on"));
                    self.power_on(n);
                }
            }
            match self.unsettled(members, standby) {
                None => {
                    good += 1;
                    if good == 2 {
                        self.say(format!("  settled ({what}) in {:.1}s", start.elapsed().as_secs_f64()));
                        return true;
                    }
                }
                Some(why) => {
                    good = 0;
                    last = why;
                }
            }
            std::thread::sleep(Duration::from_millis(1000));
        }
        self.say(format!("  NOT SETTLED ({what}) after {SETTLE:?}: {last}"));
        if let Some(via) = members.iter().next() {
            println!("crm_mon -1 on {via}:\n{}", self.c.crm_mon(via));
        }
        if std::env::var_os("CHAOS_LOGS").is_some() {
            println!("{}", self.c.logs(150));
        }
        false
    }

    fn all(&self) -> BTreeSet<String> {
        NODES.iter().map(|s| s.to_string()).collect()
    }

    fn without(&self, node: &str) -> BTreeSet<String> {
        NODES.iter().filter(|n| **n != node).map(|s| s.to_string()).collect()
    }

    /// Power-off: the node's processes die at once; the witness log is
    /// told (`fenced`), since a dead node runs nothing.
    fn power_off(&mut self, node: &str) {
        self.c.lab.kill(node).unwrap();
        self.on.remove(node);
        let mut cmd = Command::new(self.c.lab.spec.bin_dir.join("ha-witness"));
        cmd.arg("--file").arg(&self.c.witness).args(["--node", node, "fenced", "-"]);
        sys::run(&mut cmd).unwrap();
    }

    fn power_on(&mut self, node: &str) {
        self.c.lab.start(node).unwrap();
        self.on.insert(node.to_string());
    }

    /// crm_attribute's live update reads, edits and replaces the
    /// configuration: the writer's changes in between make it fail
    /// (`Update was older than existing configuration`), so it is tried
    /// again, as an operator would.
    fn standby(&mut self, node: &str, on: bool) -> bool {
        let via = self.all().into_iter().find(|n| n != node).unwrap();
        let v = if on { "on" } else { "off" };
        for _ in 0..20 {
            let o = self.c.lab.exec(&via, "crm_attribute", &["-t", "nodes", "-N", node, "-n", "standby", "-v", v]).unwrap();
            if o.status.success() {
                return true;
            }
            self.say(format!("  crm_attribute standby {v} for {node} failed: {}", String::from_utf8_lossy(&o.stderr).trim()));
            std::thread::sleep(Duration::from_millis(500));
        }
        false
    }

    /// One fault, undone, with a settle after each half. Returns the
    /// settles that failed.
    fn fault(&mut self, kind: Kind, rng: &mut Rng) -> u32 {
        let node = rng.pick(&NODES).to_string();
        let mut failed = 0;
        let mut check = |me: &mut Chaos, what: &str, m: &BTreeSet<String>, sb: Option<&str>| {
            if !me.settle(what, m, sb) {
                failed += 1;
            }
        };
        match kind {
            Kind::Kill | Kind::DcKill => {
                let victim = if kind == Kind::DcKill { self.dc(&node).unwrap_or(node.clone()) } else { node.clone() };
                self.say(format!("{}: power off {victim}", kind.name()));
                self.power_off(&victim);
                let rest = self.without(&victim);
                check(self, "survivors", &rest, None);
                self.say(format!("  power on {victim}"));
                self.power_on(&victim);
            }
            Kind::Restart => {
                self.say(format!("restart: heartbeat -k on {node}"));
                if let Err(e) = self.c.lab.stop(&node) {
                    self.say(format!("  heartbeat -k on {node}: {e}"));
                }
                let rest = self.without(&node);
                check(self, "survivors", &rest, None);
                self.say(format!("  start {node}"));
                self.power_on(&node);
            }
            Kind::Pause => {
                let ms = 1000 + rng.below(3000);
                self.say(format!("pause: {node} for {ms} ms"));
                self.c.lab.pause(&node).unwrap();
                std::thread::sleep(Duration::from_millis(ms));
                // With fencing it may have been powered off meanwhile.
                let _ = self.c.lab.resume(&node);
            }
            Kind::Cut => {
                let ms = 2000 + rng.below(4000);
                self.say(format!("cut: {node}'s link for {ms} ms"));
                self.c.lab.cut(&node, 0).unwrap();
                std::thread::sleep(Duration::from_millis(ms));
                let rest = self.without(&node);
                check(self, "majority", &rest, None);
                self.c.lab.restore(&node, 0).unwrap();
                self.say(format!("  restore {node}"));
            }
            Kind::Partition => {
                let rest: Vec<String> = self.without(&node).into_iter().collect();
                self.say(format!("partition: {{{node}}} | {{{}}}", rest.join(",")));
                self.c.lab.partition(&[vec![node.clone()], rest.clone()]).unwrap();
                let rest = self.without(&node);
                check(self, "majority", &rest, None);
                self.c.lab.heal().unwrap();
                self.say("  heal".into());
            }
            Kind::Standby => {
                self.say(format!("standby: {node} on"));
                if self.standby(&node, true) {
                    let all = self.all();
                    check(self, "standby", &all, Some(&node));
                }
                self.say(format!("  standby {node} off"));
                self.standby(&node, false);
            }
        }
        self.revive();
        let all = self.all();
        check(self, "all nodes", &all, None);
        failed
    }

    /// Powers on the nodes fencing powered off (fence_lab has written
    /// `fenced` into the witness log already).
    fn revive(&mut self) {
        for n in NODES {
            if self.c.lab.init_pid(n).is_none() {
                self.say(format!("  {n} is off (fenced): power on"));
                self.power_on(n);
            }
        }
    }
}

#[test]
fn chaos_run_ends_without_double_runs_or_lost_writes() {
    let faults: usize = env_or("CHAOS_FAULTS", 12);
    let seed: u64 = env_or("CHAOS_SEED", 1);
    let kinds: Vec<Kind> = match std::env::var("CHAOS_KINDS") {
        Ok(list) => Kind::ALL.into_iter().filter(|k| list.split(',').any(|w| w.trim() == k.name())).collect(),
        Err(_) => Kind::ALL.to_vec(),
    };
    assert!(!kinds.is_empty(), "CHAOS_KINDS names no known fault");

    let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
    let name = format!("x{}", std::process::id() % 1_000_000);
    // Fencing is what makes pause and partition safe (a paused node cannot
    // stop anything; a minority stops its resources only as fast as the
    // majority starts them): on unless CHAOS_FENCING=0.
    let fencing = std::env::var("CHAOS_FENCING").map(|v| v != "0").unwrap_or(true);
    let mut spec = LabSpec::new(&name, tmp.path(), 3, 1, &bin_dir());
    spec.media = Media::Ucast;
    if fencing {
        spec.fence_overlay = Some(repo().join("agents/fence"));
    }
    let c = WebCluster::create(spec, &repo()).expect("create the lab");
    let mut ch = Chaos { c, on: BTreeSet::new(), log: Vec::new(), t0: Instant::now() };
    // The lab's power switch for fence_lab; stopped before the lab goes.
    let _relay = fencing.then(|| Relay::start(&ch.c.lab.spec.root).expect("start the power relay"));
    ch.say(format!(
        "chaos: seed {seed}, {faults} faults of {:?}, fencing {}",
        kinds.iter().map(|k| k.name()).collect::<Vec<_>>(),
        if fencing { "on (fence_lab)" } else { "off" }
    ));
    for n in NODES {
        ch.power_on(n);
    }
    let witness = ch.c.witness.display().to_string();
    let mut crm_config = String::from(r#"<cluster_property_set id="cib-bootstrap-options">"#);
    let stonith = if fencing { "true" } else { "false" };
    for (k, v) in [("stonith-enabled", stonith), ("stonith-timeout", "30s"), ("no-quorum-policy", "stop")] {
        crm_config.push_str(&format!(r#"<nvpair id="opt-{k}" name="{k}" value="{v}"/>"#));
    }
    crm_config.push_str("</cluster_property_set>");
    let mut resources = String::from("<resources>");
    if fencing {
        let relay = tests::lab::power::socket(&ch.c.lab.spec.root).display().to_string();
        resources.push_str(&format!(
            r#"<primitive id="fence" class="stonith" type="fence_lab"><instance_attributes id="fence-params"><nvpair id="fence-relay" name="relay" value="{relay}"/><nvpair id="fence-witness" name="witness" value="{witness}"/><nvpair id="fence-hosts" name="pcmk_host_list" value="n1 n2 n3"/></instance_attributes></primitive>"#
        ));
    }
    for r in RSCS {
        resources.push_str(&format!(
            r#"<primitive id="{r}" class="ocf" provider="heartbeat-rs" type="Dummy"><instance_attributes id="{r}-ia"><nvpair id="{r}-w" name="witness" value="{witness}"/></instance_attributes><operations><op id="{r}-mon" name="monitor" interval="3s" timeout="20s"/></operations></primitive>"#
        ));
    }
    resources.push_str("</resources>");
    let all = ch.all();
    let start = Instant::now();
    loop {
        let a = ch.c.lab.exec("n1", "cibadmin", &["-M", "-c", "-o", "crm_config", "-X", &crm_config]);
        let b = ch.c.lab.exec("n1", "cibadmin", &["-M", "-c", "-o", "resources", "-X", &resources]);
        if a.is_ok_and(|o| o.status.success()) && b.is_ok_and(|o| o.status.success()) {
            break;
        }
        assert!(start.elapsed() < SETTLE, "could not load the configuration\n{}", ch.c.logs(40));
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(ch.settle("start", &all, None), "the cluster never settled at start\n{}\n{}", ch.c.crm_mon("n1"), ch.c.logs(60));

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let tried = Arc::new(Mutex::new(0u64));
    let w = {
        let (spec, stop, acked, tried) = (ch.c.lab.spec.clone(), stop.clone(), acked.clone(), tried.clone());
        std::thread::spawn(move || writer(spec, seed, stop, acked, tried))
    };
    // The writer stops on every exit path, so the lab's guard can go.
    struct StopWriter(Arc<AtomicBool>);
    impl Drop for StopWriter {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let guard = StopWriter(stop.clone());

    let mut rng = Rng(seed);
    let mut failed_settles = 0;
    for i in 1..=faults {
        let kind = kinds[rng.below(kinds.len() as u64) as usize];
        ch.say(format!("fault {i}/{faults}"));
        failed_settles += ch.fault(kind, &mut rng);
    }
    drop(guard);
    w.join().unwrap();
    let final_ok = ch.settle("final", &all, None);

    // Every acknowledged write, on every node.
    let acked = acked.lock().unwrap().clone();
    let mut lost = Vec::new();
    for n in NODES {
        let cib = ch.exec(n, "cibadmin", &["-Q", "-o", "crm_config"]);
        for id in &acked {
            if !cib.contains(&format!(r#"id="{id}""#)) {
                lost.push(format!("{id} on {n}"));
            }
        }
    }
    let check = Command::new(ch.c.lab.spec.bin_dir.join("ha-witness-check")).arg(&ch.c.witness).output().unwrap();
    let doubles = String::from_utf8_lossy(&check.stdout).into_owned() + &String::from_utf8_lossy(&check.stderr);
    let starts = std::fs::read_to_string(&ch.c.witness).unwrap_or_default().lines().filter(|l| l.contains(" start ")).count();
    ch.say(format!(
        "result: {faults} faults (seed {seed}), {failed_settles} settles failed, final settle {}, writes acknowledged {} of {}, lost {}, starts {starts}, witness check: {}",
        if final_ok { "ok" } else { "FAILED" },
        acked.len(),
        *tried.lock().unwrap(),
        lost.len(),
        if check.status.success() { "no double run".to_string() } else { doubles.trim().to_string() }
    ));
    if std::env::var_os("CHAOS_KEEP").is_some() {
        // The lab's processes go with the guard; its files stay for reading.
        println!("lab files kept in {}", tmp.keep().display());
    }
    assert!(check.status.success(), "double runs:\n{doubles}\n{}", ch.log.join("\n"));
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}\n{}", ch.log.join("\n"));
    assert!(final_ok, "the cluster did not settle at the end\n{}\n{}", ch.c.crm_mon("n1"), ch.c.logs(60));
    assert_eq!(failed_settles, 0, "some faults never settled\n{}", ch.log.join("\n"));
    drop(ch);
}
