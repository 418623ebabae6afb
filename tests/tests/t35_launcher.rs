//! heartbeat as a launcher (docs/TRANSPORT.md "Launcher"), in lab nodes so
//! that "no process left behind" is checked on the node's own PID
//! namespace (`ps` inside the node sees only its processes):
//! - `respawn` lines start our binaries for Heartbeat's paths, skip the
//!   ones we do not have (mgmtd, with a warning naming it), respawn a killed
//!   child, and `heartbeat -k` leaves no process behind;
//! - `crm respawn` starts ccm, cib, lrmd, crmd (and stonithd, attrd,
//!   pengine when built); a `kill -9` of cib gets it respawned; `-k`
//!   stops them all;
//! - `crm yes`: the death of a failfast child (ccm) reboots the node
//!   ("Rebooting system"; reboot(2) ends the lab node's PID namespace);
//! - a missing CRM daemon: heartbeat refuses to start and names it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use tests::lab::{LabGuard, LabSpec, Media};

/// Builds what these tests run (never stale binaries). crmd, pengine,
/// attrd and stonithd are built when their packages have them; the CRM
/// tests need crmd and fail without it.
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
                "--bin", "cib", "-p", "lrmd", "--bin", "lrmd"
            ]),
            "cargo build of heartbeat, ccm, cib, lrmd failed"
        );
        for (pkg, bin) in [("crmd", "crmd"), ("pengined", "pengine"), ("attrd", "attrd"), ("stonithd", "stonithd")] {
            let _ = build(&["-p", pkg, "--bin", bin]);
        }
        assert!(nix::unistd::Uid::effective().is_root(), "the lab tests need root (namespaces, nftables)");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_ha-lab")).parent().unwrap().to_path_buf()
}

fn lab(nodes: usize) -> (LabGuard, tempfile::TempDir) {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let name = format!("l{}x{}", std::process::id() % 1_000_000, SEQ.fetch_add(1, Ordering::SeqCst));
    let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
    let spec = LabSpec::new(&name, tmp.path(), nodes, 1, &bin_dir());
    let mut spec = spec;
    spec.media = Media::Ucast;
    (LabGuard::create(spec).expect("create the lab"), tmp)
}

/// Replaces the lab's `crm no` with `lines`.
fn configure(lab: &LabGuard, node: &str, lines: &str) {
    let p = lab.spec.node_dir(node).join("conf/ha.cf");
    let text = std::fs::read_to_string(&p).unwrap().replace("crm no\n", lines);
    std::fs::write(&p, text).unwrap();
}

/// (pid, command name) of every process of the node but its init.
fn processes(lab: &LabGuard, node: &str) -> Vec<(i32, String)> {
    let o = lab.exec(node, "ps", &["-eo", "pid=,ppid=,comm="]).unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let pid: i32 = w.next()?.parse().ok()?;
            let _ppid = w.next()?;
            let comm = w.next()?.to_string();
            (pid != 1 && comm != "ps").then_some((pid, comm))
        })
        .collect()
}

fn pid_of(lab: &LabGuard, node: &str, comm: &str) -> Option<i32> {
    processes(lab, node).into_iter().find(|(_, c)| c == comm).map(|(p, _)| p)
}

fn log(lab: &LabGuard, node: &str) -> String {
    std::fs::read_to_string(lab.spec.log_file(node)).unwrap_or_default()
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn kill9(lab: &LabGuard, node: &str, pid: i32) {
    let o = lab.exec(node, "kill", &["-9", &pid.to_string()]).unwrap();
    assert!(o.status.success(), "{o:?}");
}

fn stop_leaves_nothing(lab: &LabGuard, node: &str) {
    lab.stop(node).expect("heartbeat -k");
    let left = processes(lab, node);
    assert!(left.is_empty(), "left behind on {node} after heartbeat -k: {left:?}\n{}", log(lab, node));
}

#[test]
fn respawn_lines_start_our_daemons_respawn_them_and_stop_with_heartbeat() {
    let (mut lab, _tmp) = lab(2);
    configure(
        &lab,
        "n1",
        "crm no\nrespawn root /usr/lib/heartbeat/lrmd\nrespawn hacluster /usr/lib/heartbeat/mgmtd -v\nrespawn root /bin/sleep 1000\n",
    );
    lab.start("n1").unwrap();
    wait_for("lrmd and sleep", Duration::from_secs(10), || {
        pid_of(&lab, "n1", "lrmd").is_some() && pid_of(&lab, "n1", "sleep").is_some()
    });
    let l = log(&lab, "n1");
    // hb_gui's management daemon: not written in this project.
    assert!(l.contains("this project has no mgmtd"), "{l}");
    assert!(l.contains("Starting child client \"/bin/sleep 1000\" (0,0)"), "{l}");
    // heartbeat runs detached: its children's output goes to its log.
    wait_for("lrmd's own output in ha-log", Duration::from_secs(5), || log(&lab, "n1").contains("lrmd listening"));

    let old = pid_of(&lab, "n1", "lrmd").unwrap();
    kill9(&lab, "n1", old);
    wait_for("lrmd respawned", Duration::from_secs(10), || pid_of(&lab, "n1", "lrmd").is_some_and(|p| p != old));
    let l = log(&lab, "n1");
    assert!(l.contains(&format!("(pid={old}) killed by signal 9.")), "{l}");
    assert!(l.contains("Respawning client \""), "{l}");
    stop_leaves_nothing(&lab, "n1");
}

fn require_crmd() {
    let crmd = bin_dir().join("crmd");
    assert!(crmd.exists(), "{} is not built: the CRM launcher tests need the crmd daemon", crmd.display());
}

#[test]
fn crm_respawn_starts_the_crm_daemons_and_respawns_a_killed_cib() {
    require_crmd();
    let (mut lab, _tmp) = lab(2);
    configure(&lab, "n1", "crm respawn\n");
    lab.start("n1").unwrap();
    let mut expected = vec!["heartbeat", "ccm", "cib", "lrmd", "crmd"];
    for optional in ["stonithd", "attrd", "pengine"] {
        if bin_dir().join(optional).exists() {
            expected.push(optional);
        }
    }
    wait_for("the CRM daemons", Duration::from_secs(10), || {
        let ps = processes(&lab, "n1");
        expected.iter().all(|e| ps.iter().any(|(_, c)| c == e))
    });
    let old = pid_of(&lab, "n1", "cib").unwrap();
    kill9(&lab, "n1", old);
    wait_for("cib respawned", Duration::from_secs(10), || pid_of(&lab, "n1", "cib").is_some_and(|p| p != old));
    assert!(pid_of(&lab, "n1", "heartbeat").is_some(), "crm respawn must not take heartbeat down");
    stop_leaves_nothing(&lab, "n1");
    let l = log(&lab, "n1");
    // Reverse order: crmd is stopped before ccm.
    let stopped = |what: &str| l.find(&format!("with SIGTERM ({}", bin_dir().join(what).display()));
    assert!(stopped("crmd").expect("crmd stopped") < stopped("ccm -f").expect("ccm stopped"), "{l}");
}

#[test]
fn crm_yes_takes_the_node_down_when_a_failfast_child_dies() {
    require_crmd();
    let (mut lab, _tmp) = lab(2);
    configure(&lab, "n1", "crm yes\n");
    // As Lab::start, with the opt-in for a real reboot of the node.
    lab.boot("n1").unwrap();
    let st = lab.command("n1", "heartbeat", &[]).unwrap().env("HA_FAILFAST_REBOOT", "1").status().unwrap();
    assert!(st.success(), "heartbeat: {st}");
    wait_for("ccm", Duration::from_secs(10), || pid_of(&lab, "n1", "ccm").is_some());
    // The node may go down before `kill` itself exits: reboot(2) kills
    // every process of the node's PID namespace, `kill` included.
    let o = lab.exec("n1", "kill", &["-9", &pid_of(&lab, "n1", "ccm").unwrap().to_string()]).unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert!(o.status.success() || o.status.signal() == Some(9), "{o:?}");
    // heartbeat reboots the node (HA_FAILFAST_REBOOT=1): in a lab node,
    // reboot(2) ends its PID namespace, init included.
    wait_for("the node to go down", Duration::from_secs(10), || lab.init_pid("n1").is_none());
    let l = log(&lab, "n1");
    assert!(l.contains("Rebooting system.  Reason: failfast client"), "{l}");
    // It boots again like any node.
    lab.start("n1").unwrap();
    wait_for("ccm again", Duration::from_secs(10), || pid_of(&lab, "n1", "ccm").is_some());
}

/// No lab needed: heartbeat refuses before opening anything.
#[test]
fn a_missing_crm_daemon_refuses_the_start_and_is_named() {
    let bins = bin_dir();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for sub in ["conf", "var", "run", "empty"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    std::fs::write(d.join("conf/ha.cf"), "ucast lo 127.0.0.2\nnode n1 n2\nauto_failback on\ncrm yes\n").unwrap();
    let keys = d.join("conf/authkeys");
    std::fs::write(&keys, "auth 1\n1 sha1 secret\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    let env = |p: &str| d.join(p).display().to_string();
    let o = Command::new(bins.join("heartbeat"))
        .arg("-f")
        .env_clear()
        .env("HA_NODENAME", "n1")
        .env("HA_CONFDIR", env("conf"))
        .env("HA_VARLIB", env("var"))
        .env("HA_RUNDIR", env("run"))
        .env("HA_BINDIR", env("empty"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    for name in ["ccm", "cib", "lrmd", "crmd"] {
        assert!(err.contains(&format!("error: CRM daemon {name} not found")), "{name}: {err}");
    }
    assert!(err.contains("warning: CRM daemon attrd not found"), "{err}");
    assert!(!Path::new(&env("run")).join("heartbeat.pid").exists());
}
