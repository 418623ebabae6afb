//! Seeds 000 and 004 in the lab: Heartbeat 1.x style (`crm no`, a
//! haresources file) run by the CRM (docs/HARESOURCES_MODE.md).
//!
//! Two nodes, `n1 IPaddr2::10.213.0.100/24/eth0 httpd` in haresources on
//! both. `IPaddr2` is Debian's `/etc/ha.d/resource.d/IPaddr2` (a wrapper of
//! ocf:heartbeat:IPaddr2, a real address on the node's eth0); `httpd` is a
//! resource.d script this test writes, wrapping our ocf:heartbeat-rs:Httpd
//! (ha-httpd on the floating address, port 80, answering with the node's
//! name, appending to a witness log). The client is the lab's bridge
//! namespace, outside every node, with an address of its own on the
//! nodes' network.
//!
//! - `auto_failback_on_fails_over_and_back_and_ignores_a_stopped_httpd`:
//!   the address answers from n1; `heartbeat -k` on n1 -> n2 answers; n1
//!   started again -> n1 answers; httpd stopped by hand on n1 -> no
//!   switch (v1 has no resource monitoring).
//! - `auto_failback_off_leaves_the_group_where_it_went`: the same failover,
//!   then n1 comes back and n2 keeps answering.
//!
//! - `haresources_is_read_again_at_every_start`: n1 restarted with a file
//!   preferring n2: the cluster runs the new configuration (both copies),
//!   the group stays on n2.
//!
//! Throughout, the address is never on both nodes (sampled), and the
//! witness log (ha-witness-check) shows no double run of httpd.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use tests::lab::{LabGuard, LabSpec, Media};

const VIP: &str = "10.213.0.100";
/// The client's own address, on the bridge (outside every node).
const CLIENT: &str = "10.213.0.250/24";
/// A cold start: initdead, ccm, election, join, probes, start; generous
/// for a loaded 2-core machine.
const START: Duration = Duration::from_secs(90);
const FAILOVER: Duration = Duration::from_secs(45);

/// Builds every daemon heartbeat launches in haresources mode and the
/// programs the agents call (never stale binaries).
fn bin_dir() -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let build = |args: &[&str]| {
            Command::new(env!("CARGO"))
                .args(["build", "-q"])
                .args(args)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("run cargo build")
                .success()
        };
        assert!(
            build(&[
                "-p", "transport", "--bin", "heartbeat", "--bin", "cl_status", "-p", "ccm", "--bin", "ccm", "-p", "cibd",
                "--bin", "cib", "-p", "lrmd", "--bin", "lrmd", "--bin", "ha-httpd", "--bin", "ha-witness", "--bin",
                "ha-witness-check", "-p", "crmd", "--bin", "crmd", "-p", "pengined", "--bin", "pengine", "-p", "tools",
                "--bin", "crm_mon", "--bin", "cibadmin"
            ]),
            "cargo build of the cluster daemons failed"
        );
        // Optional daemons of the launcher's list (started when built).
        for (pkg, bin) in [("attrd", "attrd"), ("stonithd", "stonithd")] {
            let _ = build(&["-p", pkg, "--bin", bin]);
        }
        assert!(nix::unistd::Uid::effective().is_root(), "the lab tests need root (namespaces, nftables)");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_ha-lab")).parent().unwrap().to_path_buf()
}

/// ocf:heartbeat-rs:Httpd's OCF_ROOT in the repository.
fn agents_ocf() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../agents/ocf").canonicalize().unwrap()
}

/// The lab's `httpd`: a Heartbeat resource.d script (`httpd
/// start|stop|status`), as seed 000's httpd init script is used, wrapping
/// our Httpd agent. `status` answers with the words Heartbeat's scripts
/// use ("running" / "stopped").
fn httpd_script(witness: &Path) -> String {
    format!(
        "#!/bin/sh\n\
         # httpd for haresources mode in the lab: ha-httpd on the floating address.\n\
         OCF_ROOT={ocf}; export OCF_ROOT\n\
         OCF_RESOURCE_INSTANCE=httpd; export OCF_RESOURCE_INSTANCE\n\
         OCF_RESKEY_ip={VIP}; OCF_RESKEY_port=80; OCF_RESKEY_witness={witness}\n\
         export OCF_RESKEY_ip OCF_RESKEY_port OCF_RESKEY_witness\n\
         agent=$OCF_ROOT/resource.d/heartbeat-rs/Httpd\n\
         case \"$1\" in\n\
         start|stop) exec \"$agent\" \"$1\" ;;\n\
         status) if \"$agent\" monitor; then echo \"httpd is running\"; else echo \"httpd is stopped\"; fi; exit 0 ;;\n\
         *) echo \"usage: $0 {{start|stop|status}}\" >&2; exit 1 ;;\n\
         esac\n",
        ocf = agents_ocf().display(),
        witness = witness.display(),
    )
}

/// A two-node lab in haresources mode (crm no, the lab's default), with
/// seed 000's haresources line and the given auto_failback.
struct Seed {
    lab: LabGuard,
    /// heartbeat -f of each start (its stderr holds the children's logs).
    heartbeats: Vec<Child>,
    witness: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Drop for Seed {
    fn drop(&mut self) {
        // The lab guard kills every process of the nodes; these are the
        // nsenter parents left in the host's PID namespace.
        for c in &mut self.heartbeats {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::env::var_os("T75_LOGS").is_some() {
            eprintln!("{}", self.logs());
        }
    }
}

impl Seed {
    fn new(auto_failback: &str) -> Seed {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let name = format!("s{}x{}", std::process::id() % 1_000_000, SEQ.fetch_add(1, Ordering::SeqCst));
        let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
        let mut spec = LabSpec::new(&name, tmp.path(), 2, 1, &bin_dir());
        spec.media = Media::Ucast;
        let lab = LabGuard::create(spec).expect("create the lab");
        let witness = tmp.path().join("witness.log");
        std::fs::write(&witness, "").unwrap();
        for node in ["n1", "n2"] {
            let conf = lab.spec.node_dir(node).join("conf");
            let cf = conf.join("ha.cf");
            let text = std::fs::read_to_string(&cf).unwrap();
            assert!(text.contains("crm no\n") && text.contains("auto_failback on\n"), "{text}");
            std::fs::write(&cf, text.replace("auto_failback on\n", &format!("auto_failback {auto_failback}\n"))).unwrap();
            // Identical on both nodes, as Heartbeat requires.
            std::fs::write(conf.join("haresources"), format!("n1 IPaddr2::{VIP}/24/eth0 httpd\n")).unwrap();
            let rd = conf.join("resource.d");
            std::fs::create_dir_all(&rd).unwrap();
            std::os::unix::fs::symlink("/etc/ha.d/resource.d/IPaddr2", rd.join("IPaddr2")).unwrap();
            let httpd = rd.join("httpd");
            std::fs::write(&httpd, httpd_script(&witness)).unwrap();
            std::fs::set_permissions(&httpd, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let br = lab.spec.bridge_ns();
        let ok = Command::new("ip").args(["-n", &br, "addr", "add", CLIENT, "dev", "br0"]).status().unwrap().success();
        assert!(ok, "client address on the bridge");
        Seed { lab, heartbeats: Vec::new(), witness, _tmp: tmp }
    }

    /// Boots the node if needed and runs `heartbeat -f` there, its output
    /// appended to the node's `heartbeat.out`; returns once its API
    /// socket answers.
    fn start(&mut self, node: &str) {
        self.lab.boot(node).unwrap();
        let out_path = self.lab.spec.node_dir(node).join("heartbeat.out");
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&out_path).unwrap();
        let mut cmd = self.lab.command(node, "heartbeat", &["-f"]).unwrap();
        cmd.stdin(Stdio::null()).stdout(out.try_clone().unwrap()).stderr(out);
        self.heartbeats.push(cmd.spawn().unwrap());
        wait_for(&format!("heartbeat on {node}"), Duration::from_secs(20), || {
            self.lab.exec(node, "cl_status", &["hbstatus"]).is_ok_and(|o| o.status.success())
        });
    }

    /// `heartbeat -k`: the graceful stop (seed 000's `service heartbeat stop`).
    fn stop(&mut self, node: &str) {
        self.lab.stop(node).unwrap_or_else(|e| panic!("heartbeat -k on {node}: {e}\n{}", self.logs()));
        for c in &mut self.heartbeats {
            let _ = c.try_wait();
        }
    }

    /// What the client gets from the floating address: the serving
    /// node's name, or None.
    fn fetch(&self) -> Option<String> {
        let o = Command::new("ip")
            .args(["netns", "exec", &self.lab.spec.bridge_ns()])
            .arg(self.lab.spec.bin_dir.join("ha-httpd"))
            .args(["get", "--ip", VIP, "--port", "80", "--timeout-ms", "1000"])
            .output()
            .ok()?;
        o.status.success().then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
    }

    /// Whether the floating address is on the node's eth0.
    fn has_vip(&self, node: &str) -> bool {
        let o = Command::new("ip").args(["-n", &self.lab.spec.node_ns(node), "-4", "-o", "addr", "show", "dev", "eth0"]).output().unwrap();
        String::from_utf8_lossy(&o.stdout).contains(&format!("inet {VIP}/"))
    }

    /// Never on both nodes: checked at every sample.
    fn holders(&self) -> Vec<&'static str> {
        let h: Vec<&'static str> = ["n1", "n2"].into_iter().filter(|n| self.has_vip(n)).collect();
        assert!(h.len() < 2, "the floating address is on both nodes\n{}", self.logs());
        h
    }

    /// Waits until the client is served by `node` and only `node` holds
    /// the address.
    fn wait_served_by(&self, node: &str, limit: Duration) {
        let start = Instant::now();
        loop {
            let holders = self.holders();
            let got = self.fetch();
            if holders == [node] && got.as_deref() == Some(node) {
                eprintln!("served by {node} after {:?}", start.elapsed());
                return;
            }
            assert!(
                start.elapsed() < limit,
                "timed out after {limit:?} waiting for {node} to serve {VIP} (holders {holders:?}, client got {got:?})\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Samples for `d` that `node` alone keeps the address (and, when
    /// `serving`, answers).
    fn stays_on(&self, node: &str, serving: bool, d: Duration) {
        let start = Instant::now();
        while start.elapsed() < d {
            assert_eq!(self.holders(), [node], "the group left {node}\n{}", self.logs());
            if serving {
                assert_eq!(self.fetch().as_deref(), Some(node), "{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn witness_events(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(&self.witness)
            .unwrap()
            .lines()
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                (w.len() == 4).then(|| (w[1].to_string(), w[2].to_string()))
            })
            .collect()
    }

    fn assert_no_double_run(&self) {
        let o = Command::new(self.lab.spec.bin_dir.join("ha-witness-check")).arg(&self.witness).output().unwrap();
        assert!(
            o.status.success(),
            "ha-witness-check: {}{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
            std::fs::read_to_string(&self.witness).unwrap()
        );
    }

    /// Once both nodes are members again: the DC's view through crm_mon.
    fn wait_both_online(&self, limit: Duration) {
        let start = Instant::now();
        loop {
            let o = self.lab.exec("n2", "crm_mon", &["-1"]).unwrap();
            let text = String::from_utf8_lossy(&o.stdout).to_string();
            if text.lines().any(|l| l.contains("Online:") && l.contains("n1") && l.contains("n2")) {
                return;
            }
            assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for n1 and n2 online in crm_mon:\n{text}\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn logs(&self) -> String {
        let mut s = String::new();
        for node in ["n1", "n2"] {
            let dir = self.lab.spec.node_dir(node);
            for f in ["ha-log", "heartbeat.out"] {
                let text = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(150).collect();
                s.push_str(&format!("==== {node} {f} (last {} lines)\n", tail.len()));
                for l in tail.into_iter().rev() {
                    s.push_str(l);
                    s.push('\n');
                }
            }
        }
        s.push_str(&format!("==== witness\n{}", std::fs::read_to_string(&self.witness).unwrap_or_default()));
        s
    }
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Both nodes start; the group goes to n1 (the haresources line's node).
fn cold_start(auto_failback: &str) -> Seed {
    let mut s = Seed::new(auto_failback);
    s.start("n1");
    s.start("n2");
    s.wait_served_by("n1", START);
    // The configuration came from haresources: v1 scripts, no monitors.
    let o = s.lab.exec("n1", "cibadmin", &["-Q", "-o", "resources"]).unwrap();
    let resources = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(resources.contains(r#"class="heartbeat""#) && resources.contains(r#"type="IPaddr2""#), "{resources}");
    assert!(!resources.contains(r#"name="monitor""#), "v1 mode has no monitor operations: {resources}");
    s
}

/// `heartbeat -k` on n1: n2 takes the group over and the client gets n2.
fn stop_n1_and_fail_over(s: &mut Seed) {
    s.stop("n1");
    assert!(!s.has_vip("n1"), "a stopped node gives its resources up\n{}", s.logs());
    s.wait_served_by("n2", FAILOVER);
    s.stays_on("n2", true, Duration::from_secs(3));
}

#[test]
fn auto_failback_on_fails_over_and_back_and_ignores_a_stopped_httpd() {
    let mut s = cold_start("on");
    stop_n1_and_fail_over(&mut s);

    // n1 back: auto_failback on moves the group home.
    s.start("n1");
    s.wait_served_by("n1", START);
    s.stays_on("n1", true, Duration::from_secs(3));

    // Seed 004: httpd stopped by hand on the active node does not switch.
    let httpd = s.lab.spec.node_dir("n1").join("conf/resource.d/httpd");
    let o = s.lab.exec("n1", &httpd.display().to_string(), &["stop"]).unwrap();
    assert!(o.status.success(), "httpd stop by hand: {o:?}");
    assert_eq!(s.fetch(), None, "httpd is down");
    let starts_before = s.witness_events().iter().filter(|(_, e)| e == "start").count();
    s.stays_on("n1", false, Duration::from_secs(10));
    assert_eq!(s.fetch(), None, "nobody restarted httpd: v1 mode does not monitor it\n{}", s.logs());
    let starts_after = s.witness_events().iter().filter(|(_, e)| e == "start").count();
    assert_eq!(starts_before, starts_after, "no start anywhere after httpd was stopped by hand\n{}", s.logs());

    // httpd: n1, n2, n1 (and never two at once).
    let starts: Vec<String> = s.witness_events().into_iter().filter(|(_, e)| e == "start").map(|(n, _)| n).collect();
    assert_eq!(starts, ["n1", "n2", "n1"], "{}", s.logs());
    s.assert_no_double_run();
    s.stop("n2");
    s.stop("n1");
    s.assert_no_double_run();
}

/// The joiner's newer copy replaces the DC's status too; the DC notices
/// the lost node states and has every node join again, so the status is
/// rebuilt (docs/CRMD.md, "Join"): crm_mon shows both nodes and the DC,
/// and the group stays where it runs.
#[test]
fn haresources_is_read_again_at_every_start() {
    let mut s = cold_start("on");
    // n1 restarted with a file that prefers n2: its configuration is the
    // newer one (docs/HARESOURCES_MODE.md) and the whole cluster runs it.
    s.stop("n1");
    s.wait_served_by("n2", FAILOVER);
    let hr = s.lab.spec.node_dir("n1").join("conf/haresources");
    std::fs::write(&hr, format!("n2 IPaddr2::{VIP}/24/eth0 httpd\n")).unwrap();
    s.start("n1");
    s.wait_both_online(FAILOVER);
    s.stays_on("n2", true, Duration::from_secs(8));
    // Both copies hold the new preference.
    for node in ["n1", "n2"] {
        let o = s.lab.exec(node, "cibadmin", &["-Q", "-o", "constraints"]).unwrap();
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(text.contains(r#"value="n2""#) && !text.contains(r#"value="n1""#), "{node}: {text}\n{}", s.logs());
    }
    s.assert_no_double_run();
    s.stop("n1");
    s.stop("n2");
}

#[test]
fn auto_failback_off_leaves_the_group_where_it_went() {
    let mut s = cold_start("off");
    stop_n1_and_fail_over(&mut s);

    // n1 back: with auto_failback off the group stays on n2.
    s.start("n1");
    s.wait_both_online(START);
    s.stays_on("n2", true, Duration::from_secs(8));
    let starts: Vec<String> = s.witness_events().into_iter().filter(|(_, e)| e == "start").map(|(n, _)| n).collect();
    assert_eq!(starts, ["n1", "n2"], "{}", s.logs());
    s.assert_no_double_run();
    s.stop("n1");
    s.stop("n2");
    s.assert_no_double_run();
}
