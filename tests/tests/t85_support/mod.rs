//! Shared by the t85 tests (pingd, ipfail, seed 002 live, split brain):
//! a lab cluster with the full stack launched by heartbeat, ha.cf
//! additions per test, a ping node outside every node (the bridge
//! namespace's 10.213.0.254), cutting one node off from it alone, the
//! witness log, crm_mon and CIB helpers. Every wait is bounded; the lab is
//! a [`LabGuard`] (destroyed on drop, also on panic).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use tests::lab::{LabGuard, LabSpec, Media};

/// The ping node: the bridge namespace's address on link 0, outside
/// every node (never killed, paused or cut with one).
pub const PING: &str = "10.213.0.254";

/// Builds every daemon heartbeat launches and every tool the tests run
/// (debug; never stale).
pub fn bin_dir() -> PathBuf {
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
                "-p", "ccm", "--bin", "ccm", "--bin", "ccm_tool",
                "-p", "cibd", "--bin", "cib",
                "-p", "lrmd", "--bin", "lrmd", "--bin", "ha-httpd", "--bin", "ha-witness", "--bin", "ha-witness-check",
                "-p", "crmd", "--bin", "crmd",
                "-p", "pengined", "--bin", "pengine",
                "-p", "attrd", "--bin", "attrd", "--bin", "attrd_updater", "--bin", "pingd", "--bin", "ipfail",
                "-p", "tools", "--bin", "cibadmin", "--bin", "crm_mon", "--bin", "crm_resource", "--bin", "crm_attribute",
                "--bin", "crm_failcount", "--bin", "crm_standby",
            ]),
            "cargo build of the cluster's daemons and tools failed"
        );
        let _ = build(&["-p", "stonithd"]);
        assert!(nix::unistd::Uid::effective().is_root(), "the lab tests need root (namespaces, nftables)");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_ha-lab")).parent().unwrap().to_path_buf()
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Polls `f` every 200 ms until it holds; panics with `what` (and
/// `context()`) after `limit`. Returns how long it took.
pub fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool, context: impl Fn() -> String) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}\n{}", context());
        std::thread::sleep(Duration::from_millis(200));
    }
    start.elapsed()
}

/// A lab cluster: `crm respawn` (or haresources mode), our agents merged
/// into /usr/lib/ocf, a witness log beside the nodes.
pub struct Cluster {
    pub lab: LabGuard,
    pub witness: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Cluster {
    /// `crm`: ha.cf's crm value (`respawn`, or `no` for haresources
    /// mode); `extra`: lines appended to every ha.cf.
    pub fn new(prefix: &str, nodes: usize, crm: &str, extra: &str) -> Cluster {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let name = format!("{prefix}{}x{}", std::process::id() % 100_000, SEQ.fetch_add(1, Ordering::SeqCst));
        let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
        let mut spec = LabSpec::new(&name, tmp.path(), nodes, 1, &bin_dir());
        spec.media = Media::Ucast;
        spec.crm = crm.to_string();
        spec.ocf_overlay = Some(repo().join("agents/ocf/resource.d"));
        let lab = LabGuard::create(spec).expect("create the lab");
        let witness = tmp.path().join("witness.log");
        std::fs::write(&witness, "").unwrap();
        let c = Cluster { lab, witness, _tmp: tmp };
        for n in c.nodes() {
            let cf = c.lab.spec.node_dir(&n).join("conf/ha.cf");
            let mut text = std::fs::read_to_string(&cf).unwrap();
            text.push_str(extra);
            std::fs::write(&cf, text).unwrap();
        }
        c
    }

    pub fn nodes(&self) -> Vec<String> {
        self.lab.spec.node_names()
    }

    pub fn start(&mut self, node: &str) {
        self.lab.start(node).unwrap_or_else(|e| panic!("start {node}: {e}"));
    }

    pub fn start_all(&mut self) {
        for n in self.nodes() {
            self.start(&n);
        }
    }

    /// Runs a program inside a node.
    pub fn exec(&self, node: &str, program: &str, args: &[&str]) -> Output {
        self.lab.exec(node, program, args).unwrap_or_else(|e| panic!("{node}: {program} {args:?}: {e}"))
    }

    /// stdout of a program that must succeed.
    pub fn ok(&self, node: &str, program: &str, args: &[&str]) -> String {
        let o = self.exec(node, program, args);
        assert!(
            o.status.success(),
            "{node}: {program} {args:?} exited {:?}: {}{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `crm_mon -1 ARGS` on a node (stdout and stderr).
    pub fn crm_mon(&self, node: &str, args: &[&str]) -> String {
        let mut a = vec!["-1"];
        a.extend_from_slice(args);
        let o = self.exec(node, "crm_mon", &a);
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
    }

    /// The DC and online nodes as crm_mon on `via` shows them.
    pub fn dc_and_online(&self, via: &str) -> (Option<String>, Vec<String>) {
        let mon = self.crm_mon(via, &[]);
        let dc = mon
            .lines()
            .find(|l| l.contains("Current DC:"))
            .and_then(|l| l.split_whitespace().skip_while(|w| *w != "DC:").nth(1))
            .filter(|d| d.starts_with('n'))
            .map(str::to_string);
        let online = mon
            .lines()
            .find(|l| l.trim_start().starts_with("* Online:") || l.trim_start().starts_with("Online:"))
            .and_then(|l| l.split('[').nth(1))
            .and_then(|l| l.split(']').next())
            .map(|s| {
                let mut v: Vec<String> = s.split_whitespace().map(str::to_string).collect();
                v.sort();
                v
            })
            .unwrap_or_default();
        (dc, online)
    }

    /// Waits until `via` sees a DC and exactly `nodes` online.
    pub fn wait_online(&self, via: &str, nodes: &[&str], limit: Duration) {
        let want: Vec<String> = nodes.iter().map(|s| s.to_string()).collect();
        wait_for(
            &format!("a DC and {want:?} online on {via}"),
            limit,
            || {
                let (dc, online) = self.dc_and_online(via);
                dc.is_some() && online == want
            },
            || format!("{}\n{}", self.crm_mon(via, &[]), self.logs(40)),
        );
    }

    /// Creates (or modifies) a section of the CIB from XML text, on `via`.
    pub fn cib_create(&self, via: &str, section: &str, xml: &str) {
        let f = self.lab.spec.root.join(format!("{section}-{}.xml", std::process::id()));
        std::fs::write(&f, xml).unwrap();
        let path = f.display().to_string();
        if !self.exec(via, "cibadmin", &["-M", "-o", section, "-x", &path]).status.success() {
            self.ok(via, "cibadmin", &["-C", "-o", section, "-x", &path]);
        }
    }

    /// A node attribute's value in the status section as crm_mon -1 -A
    /// on `via` shows it (`* NAME : VALUE` under `* Node: NODE:`).
    pub fn node_attribute(&self, via: &str, node: &str, name: &str) -> Option<String> {
        node_attribute_in(&self.crm_mon(via, &["-A"]), node, name)
    }

    /// Drops every packet between `node` and the ping node, in the node's
    /// own network namespace (heartbeat's links to the peers stay up).
    pub fn cut_ping(&self, node: &str) {
        let script = format!(
            "table inet t85_ping {{\n chain i {{ type filter hook input priority 0; ip saddr {PING} drop; }}\n \
             chain o {{ type filter hook output priority 0; ip daddr {PING} drop; }}\n}}\n"
        );
        nft(&self.lab.spec.node_ns(node), &script);
    }

    pub fn restore_ping(&self, node: &str) {
        nft(&self.lab.spec.node_ns(node), "delete table inet t85_ping\n");
    }

    /// Witness events `(node, event, resource)` in order.
    pub fn witness_events(&self) -> Vec<(String, String, String)> {
        std::fs::read_to_string(&self.witness)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                (w.len() >= 4).then(|| (w[1].to_string(), w[2].to_string(), w[3].to_string()))
            })
            .collect()
    }

    /// Nodes where `rsc` was started and not stopped since, per the
    /// witness log (a `fenced` line ends everything on its node).
    pub fn running(&self, rsc: &str) -> Vec<String> {
        let mut on: Vec<String> = Vec::new();
        for (node, ev, r) in self.witness_events() {
            match ev.as_str() {
                "start" if r == rsc && !on.contains(&node) => on.push(node),
                "stop" if r == rsc => on.retain(|n| *n != node),
                "fenced" => on.retain(|n| *n != node),
                _ => {}
            }
        }
        on.sort();
        on
    }

    /// ha-witness-check's verdict: Ok, or its report.
    pub fn witness_check(&self) -> Result<(), String> {
        let o = Command::new(self.lab.spec.bin_dir.join("ha-witness-check")).arg(&self.witness).output().unwrap();
        if o.status.success() {
            Ok(())
        } else {
            Err(format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
        }
    }

    /// The last `lines` lines of every node's ha-log and the witness log.
    pub fn logs(&self, lines: usize) -> String {
        let mut s = String::new();
        for n in self.nodes() {
            let text = std::fs::read_to_string(self.lab.spec.log_file(&n)).unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            s.push_str(&format!("--- {n} ha-log (last {lines} lines):\n"));
            for l in &all[all.len().saturating_sub(lines)..] {
                s.push_str(l);
                s.push('\n');
            }
        }
        s.push_str(&format!("--- witness:\n{}", std::fs::read_to_string(&self.witness).unwrap_or_default()));
        s
    }

    pub fn log(&self, node: &str) -> String {
        std::fs::read_to_string(self.lab.spec.log_file(node)).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::env::var_os("T85_LOGS").is_some() {
            eprintln!("{}", self.logs(400));
        }
    }
}

/// Runs an nft script inside a network namespace.
pub fn nft(ns: &str, script: &str) {
    use std::io::Write;
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns, "nft", "-f", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nft");
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "nft in {ns}: {}\n{script}", String::from_utf8_lossy(&o.stderr));
}

/// Finds `* NAME : VALUE` under `* Node: NODE:` in crm_mon -A's text.
pub fn node_attribute_in(mon: &str, node: &str, name: &str) -> Option<String> {
    let mut in_node = false;
    for l in mon.lines() {
        let t = l.trim_start().trim_start_matches("* ").trim();
        if let Some(rest) = t.strip_prefix("Node: ").or_else(|| t.strip_prefix("Node ")) {
            in_node = rest.trim_end_matches(':').split_whitespace().next() == Some(node);
            continue;
        }
        if in_node {
            if let Some((k, v)) = t.split_once(':') {
                if k.trim() == name {
                    return Some(v.split_whitespace().next().unwrap_or("").to_string());
                }
            }
        }
    }
    None
}

#[test]
fn crm_mon_attributes_are_found_per_node() {
    let mon = "Node Attributes:\n  * Node: n1:\n    * pingd                           \t: 100       \n  * Node: n2:\n    * pingd                           \t: 0         \n";
    assert_eq!(node_attribute_in(mon, "n1", "pingd").as_deref(), Some("100"));
    assert_eq!(node_attribute_in(mon, "n2", "pingd").as_deref(), Some("0"));
    assert_eq!(node_attribute_in(mon, "n3", "pingd"), None);
}
