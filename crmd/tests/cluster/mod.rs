//! A real cluster on 127.0.0.1-N for the end-to-end tests: per node its
//! own HA_* directories and a heartbeat, ccm, cib, lrmd and crmd started
//! by the test. Every process is killed by a guard on drop, whatever
//! happens in the test.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

/// The daemons of a node, in start order.
pub const DAEMONS: [&str; 7] = ["heartbeat", "ccm", "cib", "attrd", "pengine", "lrmd", "crmd"];

/// `crmd` is this package's; the others belong to other packages and are
/// built here (a no-op when up to date), never taken stale.
pub fn bin(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-q", "-j2"])
            .args(["-p", "transport", "--bin", "heartbeat"])
            .args(["-p", "ccm", "--bin", "ccm"])
            .args(["-p", "cibd", "--bin", "cib"])
            .args(["-p", "attrd", "--bin", "attrd"])
            .args(["-p", "pengined", "--bin", "pengine"])
            .args(["-p", "lrmd", "--bin", "lrmd", "--bin", "lrmadmin"])
            .args(["-p", "tools", "--bin", "cibadmin", "--bin", "crm_mon", "--bin", "crm_resource"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(st.success(), "cargo build of the other daemons failed: {st}");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_crmd")).parent().unwrap().join(name)
}

/// The repository's agents (OCF_ROOT for lrmd).
pub fn ocf_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("agents/ocf")
}

/// Kills its process (SIGKILL) on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn wait_for(limit: Duration, mut ok: impl FnMut() -> bool, what: impl Fn() -> String) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {}", what());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One node: directories, environment, its running daemons.
pub struct Node {
    pub name: String,
    pub addr: String,
    pub dir: PathBuf,
    pub conf: PathBuf,
    pub var: PathBuf,
    pub run: PathBuf,
    pub rsctmp: PathBuf,
    pub procs: Vec<(&'static str, Proc)>,
}

impl Node {
    pub fn new(root: &Path, i: u32, n: u32, port: u16) -> Node {
        let dir = root.join(format!("n{i}"));
        let node = Node {
            name: format!("n{i}"),
            addr: format!("127.0.0.{i}"),
            conf: dir.join("conf"),
            var: dir.join("var"),
            run: dir.join("run"),
            rsctmp: dir.join("rsctmp"),
            dir,
            procs: Vec::new(),
        };
        for d in [&node.conf, &node.var, &node.run, &node.rsctmp] {
            std::fs::create_dir_all(d).unwrap();
        }
        let ucast: String = (1..=n).map(|j| format!("ucast lo 127.0.0.{j}\n")).collect();
        let names: Vec<String> = (1..=n).map(|j| format!("n{j}")).collect();
        let hacf = format!(
            "logfile {}\nuse_logd no\nkeepalive 200ms\ndeadtime 2\nwarntime 1\ninitdead 2\nudpport {port}\n{ucast}node {}\ncrm no\n",
            node.dir.join("ha-log").display(),
            names.join(" ")
        );
        std::fs::write(node.conf.join("ha.cf"), hacf).unwrap();
        let keys = node.conf.join("authkeys");
        std::fs::write(&keys, "auth 1\n1 sha1 crmdtest\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
        node
    }

    pub fn command(&self, bin_name: &str) -> Command {
        let mut c = Command::new(bin(bin_name));
        c.env_remove("CIB_file")
            .env_remove("CIB_shadow")
            .env("HA_NODENAME", &self.name)
            .env("HA_CONFDIR", &self.conf)
            .env("HA_VARLIB", &self.var)
            .env("HA_RUNDIR", &self.run)
            .env("HA_RSCTMP", &self.rsctmp)
            .env("HA_BINDADDR", &self.addr)
            .env("OCF_ROOT", ocf_root());
        c
    }

    fn spawn(&mut self, daemon: &'static str) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join(format!("{daemon}.stderr"))).unwrap();
        let mut c = self.command(daemon);
        match daemon {
            "heartbeat" | "ccm" => {
                c.arg("-f");
            }
            "crmd" => {
                c.args(["-f", "--dc-deadtime-ms", "3000", "--election-timeout-ms", "1000", "--join-timeout-ms", "3000"]);
            }
            "lrmd" => {
                c.arg("--ocf-root").arg(ocf_root());
            }
            _ => {}
        }
        let p = Proc(c.stdout(Stdio::null()).stderr(log).spawn().unwrap());
        self.procs.push((daemon, p));
        let sock = self.run.join(format!("{daemon}.sock"));
        if daemon != "crmd" {
            wait_for(Duration::from_secs(15), || sock.exists(), || format!("{}'s {daemon}.sock", self.name));
        }
    }

    /// Starts every daemon (stale sockets of a killed run removed first).
    pub fn start(&mut self) {
        for d in DAEMONS {
            let _ = std::fs::remove_file(self.run.join(format!("{d}.sock")));
            let _ = std::fs::remove_file(self.run.join(format!("{d}.pid")));
        }
        for d in DAEMONS {
            self.spawn(d);
        }
    }

    pub fn start_one(&mut self, daemon: &'static str) {
        let _ = std::fs::remove_file(self.run.join(format!("{daemon}.pid")));
        self.spawn(daemon);
    }

    /// SIGKILL every daemon: the node "crashes". Its HA_RSCTMP is cleared
    /// as a reboot clears /run.
    pub fn crash(&mut self) {
        self.procs.clear();
        for e in std::fs::read_dir(&self.rsctmp).unwrap() {
            let _ = std::fs::remove_file(e.unwrap().path());
        }
    }

    /// SIGKILL one daemon.
    pub fn kill(&mut self, daemon: &str) {
        self.procs.retain(|(d, _)| *d != daemon);
    }

    pub fn runs(&self, rsc: &str) -> bool {
        self.rsctmp.join(format!("Dummy-{rsc}.state")).exists()
    }

    pub fn tool(&self, name: &str, args: &[&str]) -> Output {
        self.command(name).args(args).output().unwrap()
    }

    pub fn cibadmin(&self, args: &[&str]) {
        let o = self.tool("cibadmin", args);
        assert!(o.status.success(), "{}: cibadmin {args:?}: {}", self.name, String::from_utf8_lossy(&o.stderr));
    }

    pub fn crm_mon(&self) -> String {
        let o = self.tool("crm_mon", &["-1"]);
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
    }

    /// The node's crmd log lines (stderr in the foreground).
    pub fn crmd_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("crmd.stderr")).unwrap_or_default()
    }
}

/// A cluster of `n` nodes.
pub struct Cluster {
    pub nodes: Vec<Node>,
    _tmp: tempfile::TempDir,
}

impl Cluster {
    pub fn new(n: u32, port: u16) -> Cluster {
        let tmp = tempfile::tempdir().unwrap();
        let nodes = (1..=n).map(|i| Node::new(tmp.path(), i, n, port)).collect();
        Cluster { nodes, _tmp: tmp }
    }

    pub fn node(&mut self, name: &str) -> &mut Node {
        self.nodes.iter_mut().find(|n| n.name == name).unwrap()
    }

    /// Nodes whose Dummy `rsc` state file exists.
    pub fn running(&self, rsc: &str) -> Vec<String> {
        self.nodes.iter().filter(|n| n.runs(rsc)).map(|n| n.name.clone()).collect()
    }

    /// Waits until `rsc` runs on exactly `on` (and nowhere else).
    pub fn wait_running_on(&self, rsc: &str, on: &str, limit: Duration) {
        wait_for(limit, || self.running(rsc) == [on.to_string()], || {
            format!("{rsc} to run on {on} only (runs on {:?})\n{}", self.running(rsc), self.logs())
        });
    }

    /// The DC as a live node's crm_mon shows it.
    pub fn dc(&self, via: &str) -> Option<String> {
        let n = self.nodes.iter().find(|n| n.name == via)?;
        let mon = n.crm_mon();
        let line = mon.lines().find(|l| l.contains("Current DC:"))?;
        line.split_whitespace().skip_while(|w| *w != "DC:").nth(1).map(str::to_string)
    }

    pub fn logs(&self) -> String {
        self.nodes.iter().map(|n| format!("--- {} crmd:\n{}\n", n.name, tail(&n.crmd_log(), 40))).collect()
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The CIB the tests load: no fencing, one Dummy with a 2 s monitor and
/// a preference for n1.
pub fn load_config(node: &Node) {
    node.cibadmin(&[
        "-C",
        "-o",
        "crm_config",
        "-X",
        r#"<cluster_property_set id="cib-bootstrap-options"><nvpair id="opt-stonith" name="stonith-enabled" value="false"/></cluster_property_set>"#,
    ]);
    node.cibadmin(&[
        "-C",
        "-o",
        "resources",
        "-X",
        r#"<primitive id="d" class="ocf" provider="heartbeat-rs" type="Dummy"><operations><op id="d-mon" name="monitor" interval="2s" timeout="20s"/></operations></primitive>"#,
    ]);
    node.cibadmin(&["-C", "-o", "constraints", "-X", r#"<rsc_location id="d-prefers-n1" rsc="d" node="n1" score="100"/>"#]);
}
