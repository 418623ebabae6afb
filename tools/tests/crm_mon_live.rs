//! crm_mon against a live (stand-alone) cib daemon (`cib -s`):
//! - with no daemon: Pacemaker's "Connection to cluster failed" and exit
//!   102 (`--output-as xml` as a `<status code="102">`, `-s` as
//!   `CLUSTER CRIT` with exit 2);
//! - live output equals file-mode output on a copy of the live CIB (Last
//!   updated masked), for `-1`, `-1 -r -f`, `--output-as xml`, `-s`;
//! - the Stack line says `heartbeat` when the CIB does not record one;
//! - `-1 -h FILE` writes the page from the live CIB;
//! - the refreshing console redraws on a change long before its interval
//!   (the daemon's notifications), and waits for a cluster that is not
//!   there yet.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::Once;
use std::time::{Duration, Instant};

fn bin(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "cibd", "--bin", "cib", "-p", "tools", "--bin", "cibadmin"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(st.success(), "cargo build of cib failed: {st}");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_crm_mon")).parent().unwrap().join(name)
}

/// Kills the process on drop, whatever happens in the test.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Node {
    root: PathBuf,
}

impl Node {
    fn new(root: &Path) -> Node {
        for d in ["conf", "var", "run"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        Node { root: root.to_path_buf() }
    }

    fn command(&self, tool: &str) -> Command {
        let mut c = Command::new(bin(tool));
        c.env_remove("CIB_file")
            .env_remove("CIB_shadow")
            .env("TZ", "UTC")
            .env("HA_NODENAME", "n1")
            .env("HA_CONFDIR", self.root.join("conf"))
            .env("HA_VARLIB", self.root.join("var"))
            .env("HA_RUNDIR", self.root.join("run"))
            .env("HA_BINDADDR", "127.0.0.1");
        c
    }

    fn start_cib(&self) -> Proc {
        let log = std::fs::File::create(self.root.join("cib.log")).unwrap();
        let p = Proc(self.command("cib").arg("-s").stderr(log).stdout(Stdio::null()).spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.root.join("run/cib.sock").exists() {
            assert!(Instant::now() < deadline, "the cib daemon's socket did not appear");
            std::thread::sleep(Duration::from_millis(50));
        }
        p
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        self.command(tool).args(args).output().unwrap()
    }

    fn cibadmin_ok(&self, args: &[&str]) -> String {
        let o = self.run("cibadmin", args);
        assert!(o.status.success(), "cibadmin {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    }

    /// crm_mon on a CIB_file copy of the live CIB.
    fn file_mode(&self, args: &[&str]) -> Output {
        let copy = self.root.join("copy.xml");
        std::fs::write(&copy, self.cibadmin_ok(&["-Q"])).unwrap();
        self.command("crm_mon").env("CIB_file", &copy).args(args).output().unwrap()
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// stdout with the clock masked (both runs read it separately).
fn masked(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            if l.contains("Last updated:") {
                "  * Last updated: X".to_string()
            } else if let Some(i) = l.find("<last_update time=\"") {
                format!("{}<last_update time=\"X\"/>", &l[..i])
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn without_a_daemon_crm_mon_says_not_connected() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::new(tmp.path());

    let o = node.run("crm_mon", &["-1"]);
    assert_eq!(code(&o), 102);
    assert_eq!(String::from_utf8_lossy(&o.stderr), "crm_mon: Connection to cluster failed: Connection refused\n");
    assert!(o.stdout.is_empty());

    let o = node.run("crm_mon", &["--output-as", "xml"]);
    assert_eq!(code(&o), 102);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(r#"<status code="102" message="Not connected">"#), "{out}");
    assert!(out.contains("<error>crm_mon: Connection to cluster failed: Connection refused</error>"), "{out}");

    let o = node.run("crm_mon", &["-s"]);
    assert_eq!(code(&o), 2, "Nagios CRITICAL");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "crm_mon: CLUSTER CRIT: Connection to cluster failed: Connection refused\n");
}

#[test]
fn live_output_is_file_mode_output() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::new(tmp.path());
    let _cib = node.start_cib();

    // An empty cluster: no DC, no nodes, our stack named.
    let o = node.run("crm_mon", &["-1"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("  * Stack: heartbeat\n") && out.contains("  * Current DC: NONE\n"), "{out}");

    // A real cluster's CIB (DC, quorum, failures, several nodes).
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcmk-suite/xml/594.xml");
    let o = node.run("cibadmin", &["-R", "-x", suite.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));

    for args in [&["-1"][..], &["-1", "-r", "-f"], &["--output-as", "xml"], &["-s"], &["-1", "-n", "-A"]] {
        let live = node.run("crm_mon", args);
        let file = node.file_mode(args);
        assert_eq!(code(&live), 0, "{args:?}: {}", String::from_utf8_lossy(&live.stderr));
        // The file does not name its stack; live, it is ours.
        let file_out = masked(&file).replace("Stack: unknown", "Stack: heartbeat").replace("<stack type=\"unknown\"", "<stack type=\"heartbeat\"");
        assert_eq!(masked(&live), file_out, "crm_mon {args:?}: live vs file mode");
        assert_eq!((code(&live), String::from_utf8_lossy(&live.stderr)), (code(&file), String::from_utf8_lossy(&file.stderr)));
    }
    let out = String::from_utf8_lossy(&node.run("crm_mon", &["-1"]).stdout).into_owned();
    assert!(out.contains("partition with quorum"), "have-quorum is read: {out}");
    assert!(!out.contains("Current DC: NONE"), "dc-uuid is read: {out}");

    // The HTML page, written once from the live CIB.
    let page = node.root.join("status.html");
    let o = node.run("crm_mon", &["-1", "-h", page.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("hadev1") && html.contains("DcIPaddr"), "{html}");
}

/// Reads a child's stdout on a thread, so the test can wait with a
/// deadline.
fn reader(child: &mut Child) -> mpsc::Receiver<String> {
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(String::from_utf8_lossy(&buf[..n]).into_owned()).is_err() {
                break;
            }
        }
    });
    rx
}

/// Collects output until `pred` holds for it or `limit` passes.
fn wait_for(rx: &mpsc::Receiver<String>, acc: &mut String, limit: Duration, pred: impl Fn(&str) -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !pred(acc) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        if let Ok(s) = rx.recv_timeout(left) {
            acc.push_str(&s);
        }
    }
    true
}

#[test]
fn the_console_waits_for_the_cluster_and_redraws_on_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::new(tmp.path());

    // Started before the daemon, with a 1 s interval: it waits.
    let mut child = node.command("crm_mon").args(["-i", "1"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let rx = reader(&mut child);
    let mon = Proc(child);
    let mut acc = String::new();
    assert!(
        wait_for(&rx, &mut acc, Duration::from_secs(5), |s| s.contains("Waiting until cluster is available on this node ...")),
        "no waiting message: {acc:?}"
    );
    let _cib = node.start_cib();
    assert!(wait_for(&rx, &mut acc, Duration::from_secs(10), |s| s.contains("Stack: heartbeat")), "never connected: {acc:?}");
    drop(mon);

    // A 60 s interval: only a notification can bring the change in time.
    let mut child = node.command("crm_mon").args(["-i", "60"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let rx = reader(&mut child);
    let _mon = Proc(child);
    let mut acc = String::new();
    assert!(wait_for(&rx, &mut acc, Duration::from_secs(10), |s| s.contains("Cluster Summary:")), "no first frame: {acc:?}");
    // Let it subscribe before the change.
    std::thread::sleep(Duration::from_millis(500));
    node.cibadmin_ok(&["-C", "-o", "resources", "-X", r#"<primitive id="web" class="ocf" provider="heartbeat" type="Dummy"/>"#]);
    assert!(
        wait_for(&rx, &mut acc, Duration::from_secs(10), |s| s.matches("\x1b[2J").count() >= 2 && s.contains("1 resource instance configured")),
        "no redraw after the change: {acc:?}"
    );
}
