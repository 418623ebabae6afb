//! Real `heartbeat` and `ccm` daemons on 127.0.0.1-3 (one udpport, ucast
//! lines naming each other, HA_BINDADDR per node). Checks, through
//! `ccm_tool` and `ccm::client::watch`:
//! - the three nodes agree on one view of all three, with quorum;
//! - SIGKILL of n3's heartbeat and ccm: n1 and n2 agree on a new view
//!   without it, with a higher instance and quorum, within deadtime +
//!   keepalive + 0.5 s (heartbeat's detection) + 1 s (ccm's rounds);
//! - n3 restarted: it rejoins, all three agree on a view with a higher
//!   instance than any before, and n3's persisted instance survived;
//! - a `watch` subscriber on n1 saw the views in increasing order.
//!
//! A node started alone installs nothing before initdead (2 s), then a
//! view of itself without quorum, above the instance it had persisted.
//! `ccm_tool` with no daemon exits 2. Every process is killed by a guard.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Once;
use std::time::{Duration, Instant};

const PORT: u16 = 47_531;
const KEEPALIVE_MS: u64 = 200;
const DEADTIME_MS: u64 = 1_000;

/// `heartbeat` belongs to the transport package, so it is built here
/// (a no-op when up to date) into the same target directory as ccm.
fn heartbeat_bin() -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "transport", "--bin", "heartbeat"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build for heartbeat");
        assert!(st.success(), "cargo build of heartbeat failed: {st}");
    });
    Path::new(env!("CARGO_BIN_EXE_ccm")).with_file_name("heartbeat")
}

struct Node {
    name: String,
    addr: String,
    conf: PathBuf,
    var: PathBuf,
    run: PathBuf,
    log: PathBuf,
}

impl Node {
    fn new(root: &Path, i: u32, port: u16) -> Node {
        let dir = root.join(format!("n{i}"));
        let node = Node {
            name: format!("n{i}"),
            addr: format!("127.0.0.{i}"),
            conf: dir.join("conf"),
            var: dir.join("var"),
            run: dir.join("run"),
            log: dir.join("ha-log"),
        };
        for d in [&node.conf, &node.var, &node.run] {
            std::fs::create_dir_all(d).unwrap();
        }
        let ucast: String = (1..=3).map(|j| format!("ucast lo 127.0.0.{j}\n")).collect();
        let hacf = format!(
            "logfile {}\nuse_logd no\nkeepalive {KEEPALIVE_MS}ms\ndeadtime {}\nwarntime 500ms\ninitdead 2\n\
             udpport {port}\n{ucast}auto_failback on\nnode n1 n2 n3\ncrm no\n",
            node.log.display(),
            DEADTIME_MS / 1000
        );
        std::fs::write(node.conf.join("ha.cf"), hacf).unwrap();
        let keys = node.conf.join("authkeys");
        std::fs::write(&keys, "auth 1\n1 sha1 CcmLoopbackSecret\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
        node
    }

    fn command(&self, bin: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(bin);
        c.env_clear()
            .env("HA_NODENAME", &self.name)
            .env("HA_CONFDIR", &self.conf)
            .env("HA_VARLIB", &self.var)
            .env("HA_RUNDIR", &self.run)
            .env("HA_BINDADDR", &self.addr);
        c
    }

    /// heartbeat -f, then ccm -f (which waits for heartbeat's socket).
    fn start(&self) -> (Child, Child) {
        let out = |n: &str| std::fs::File::create(self.run.join(n)).unwrap();
        let hb = self.command(heartbeat_bin()).arg("-f").stderr(out("heartbeat.stderr")).spawn().unwrap();
        let ccm = self.command(env!("CARGO_BIN_EXE_ccm")).arg("-f").stderr(out("ccm.stderr")).spawn().unwrap();
        (hb, ccm)
    }

    /// `ccm_tool` with `args`: (stdout trimmed, exit code).
    fn ccm_tool(&self, args: &[&str]) -> (String, i32) {
        let o = self.command(env!("CARGO_BIN_EXE_ccm_tool")).args(args).output().unwrap();
        (String::from_utf8_lossy(&o.stdout).trim().to_string(), o.status.code().unwrap_or(-1))
    }

    /// The installed view, through the client library.
    fn view(&self) -> Option<ccm::View> {
        ccm::client::current(&self.run.join("ccm.sock"), Duration::from_secs(2)).ok().and_then(|(_, v)| v)
    }

    fn persisted(&self) -> u64 {
        std::fs::read_to_string(self.var.join("ccm_instance")).unwrap().trim().parse().unwrap()
    }
}

/// Kills what the test started, even when an assertion fails.
#[derive(Default)]
struct Guard {
    children: Vec<Child>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

fn names(v: &ccm::View) -> Vec<&str> {
    v.members.iter().map(String::as_str).collect()
}

/// All of `nodes` hold the same view, whose members are `members`.
fn agreed(nodes: &[&Node], members: &[&str]) -> Option<ccm::View> {
    let first = nodes[0].view()?;
    if names(&first) != members {
        return None;
    }
    nodes[1..].iter().all(|n| n.view().as_ref() == Some(&first)).then_some(first)
}

#[test]
fn three_nodes_agree_lose_one_and_take_it_back() {
    let tmp = tempfile::tempdir().unwrap();
    let n: Vec<Node> = (1..=3).map(|i| Node::new(tmp.path(), i, PORT)).collect();
    let mut guard = Guard::default();
    heartbeat_bin();
    let started = Instant::now();
    for node in &n {
        let (hb, ccm) = node.start();
        guard.children.extend([hb, ccm]);
    }
    let all: Vec<&Node> = n.iter().collect();
    let mut first = None;
    let took = wait_for("n1-n3 to agree on a view of all three", Duration::from_secs(10), || {
        first = agreed(&all, &["n1", "n2", "n3"]);
        first.is_some()
    });
    let first = first.unwrap();
    eprintln!("first view {first} agreed {:?} after start (agreement seen after {took:?} of polling)", started.elapsed());
    assert!(first.quorum && first.leader == "n1", "{first}");
    assert_eq!(n[1].ccm_tool(&[]), (first.to_string(), 0));
    assert_eq!(n[1].ccm_tool(&["-p"]), ("n1 n2 n3".to_string(), 0));
    assert_eq!(n[2].ccm_tool(&["-q"]), ("1".to_string(), 0));
    assert_eq!(n[0].ccm_tool(&["-i"]), (first.instance.to_string(), 0));

    // A subscriber on n1 for the rest of the test.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let sock = n[0].run.join("ccm.sock");
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let watcher = std::thread::spawn(move || {
        rt.block_on(async {
            let mut w = ccm::client::watch(&sock).await.unwrap();
            assert_eq!(w.node, "n1");
            while let Ok(Some(Some(v))) = w.next().await {
                if seen_tx.send(v).is_err() {
                    break;
                }
            }
        })
    });

    // SIGKILL n3's heartbeat and ccm.
    let n3_promised = n[2].persisted();
    for c in &mut guard.children[4..6] {
        c.kill().unwrap();
        c.wait().unwrap();
    }
    let bound = Duration::from_millis(DEADTIME_MS + KEEPALIVE_MS + 500 + 1_000);
    let mut second = None;
    let took = wait_for("n1 and n2 to agree on a view without n3", bound, || {
        second = agreed(&all[..2], &["n1", "n2"]);
        second.is_some()
    });
    let second = second.unwrap();
    eprintln!("n3 killed: view {second} agreed after {took:?}");
    assert!(second.instance > first.instance && second.quorum, "{second}");

    // n3 back: one view of all three, above every instance so far.
    let (hb, ccm) = n[2].start();
    guard.children[4] = hb;
    guard.children[5] = ccm;
    let restarted = Instant::now();
    let mut third = None;
    wait_for("n3 to rejoin", Duration::from_secs(10), || {
        third = agreed(&all, &["n1", "n2", "n3"]);
        third.is_some()
    });
    let third = third.unwrap();
    eprintln!("n3 restarted: view {third} agreed after {:?}", restarted.elapsed());
    assert!(third.instance > second.instance && third.instance > n3_promised && third.quorum, "{third}");
    assert!(n[2].persisted() >= third.instance);

    // The subscriber saw the views in increasing order, ending with the last.
    let mut views: Vec<ccm::View> = Vec::new();
    wait_for("the watcher to see the last view", Duration::from_secs(2), || {
        views.extend(seen_rx.try_iter());
        views.last() == Some(&third)
    });
    assert_eq!(views[0], first);
    assert!(views.contains(&second), "{views:?}");
    assert!(views.windows(2).all(|w| w[0].instance < w[1].instance), "{views:?}");
    let log = std::fs::read_to_string(&n[0].log).unwrap();
    assert!(log.contains("n1 ccm: [") && log.contains(&format!("info: membership: {third}")), "{log}");

    // Stopping n1's ccm closes the subscriber's stream.
    let ccm1 = &mut guard.children[1];
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(ccm1.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    ccm1.wait().unwrap();
    drop(seen_rx);
    watcher.join().unwrap();
    assert!(!n[0].run.join("ccm.sock").exists());
}

#[test]
fn ccm_tool_without_a_daemon_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::new(tmp.path(), 9, PORT + 2);
    let o = node.command(env!("CARGO_BIN_EXE_ccm_tool")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ccm.sock"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_lone_node_waits_for_initdead_then_has_no_quorum() {
    let tmp = tempfile::tempdir().unwrap();
    let n1 = Node::new(tmp.path(), 1, PORT + 1);
    std::fs::write(n1.var.join("ccm_instance"), "41\n").unwrap();
    heartbeat_bin();
    let mut guard = Guard::default();
    let started = Instant::now();
    let (hb, ccm) = n1.start();
    guard.children.extend([hb, ccm]);
    wait_for("ccm's socket", Duration::from_secs(5), || n1.ccm_tool(&[]).1 != 2);
    let mut last = (String::new(), 0);
    let took = wait_for("a lone view", Duration::from_secs(6), || {
        last = n1.ccm_tool(&[]);
        if last.1 != 0 {
            assert_eq!(last, ("no view".to_string(), 1), "before the first view");
        }
        last.1 == 0
    });
    let waited = started.elapsed();
    eprintln!("lone view {last:?} {waited:?} after start");
    assert!(waited >= Duration::from_millis(2_000), "a view after {waited:?}, before initdead");
    assert!(took > Duration::ZERO);
    assert_eq!(last.0, "instance 42: n1 (no quorum, leader n1)");
    assert_eq!(n1.persisted(), 42);
}
