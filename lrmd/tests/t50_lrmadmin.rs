//! The lrmadmin CLI against a running lrmd, and the socket's peer check.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

fn lrmadmin(d: &Lrmd, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lrmadmin")).arg("--socket").arg(&d.socket).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn add_exec_info_list_delete() {
    let d = Lrmd::start();
    let o = lrmadmin(&d, &["-A", "d1", "ocf", "Dummy", "heartbeat", "fake=1"]);
    assert!(o.status.success(), "{o:?}");
    let o = lrmadmin(&d, &["-L"]);
    assert_eq!(stdout(&o), "d1\tocf:heartbeat:Dummy\n");
    let o = lrmadmin(&d, &["-E", "d1", "monitor", "5000", "0"]);
    assert_eq!(o.status.code(), Some(7), "a probe of a stopped Dummy exits 7: {o:?}");
    assert!(stdout(&o).starts_with("d1_monitor_0 call-id=1 rc=7 (not running) op-status=0 (complete) interval=0"), "{}", stdout(&o));
    let o = lrmadmin(&d, &["-E", "d1", "start", "5000", "0"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = lrmadmin(&d, &["-E", "d1", "monitor", "5000", "10000"]);
    assert_eq!(stdout(&o), "call-id=3\n");
    let o = lrmadmin(&d, &["-I", "d1"]);
    let info = stdout(&o);
    assert!(info.contains("d1_start_0 call-id=2 rc=0 (ok)"), "{info}");
    assert!(info.contains("recurring d1_monitor_10000 every 10000ms"), "{info}");
    assert!(lrmadmin(&d, &["-c", "d1", "monitor", "10000"]).status.success());
    assert!(!lrmadmin(&d, &["-c", "d1", "monitor", "10000"]).status.success());
    assert_eq!(lrmadmin(&d, &["-E", "d1", "stop", "5000", "0"]).status.code(), Some(0));
    assert!(lrmadmin(&d, &["-D", "d1"]).status.success());
    assert_eq!(stdout(&lrmadmin(&d, &["-L"])), "");
    let o = lrmadmin(&d, &["-E", "d1", "start", "5000", "0"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("resource \"d1\" is not registered"), "{o:?}");
}

#[test]
fn classes_are_listed() {
    let o = Command::new(env!("CARGO_BIN_EXE_lrmadmin")).arg("-C").output().unwrap();
    assert_eq!(stdout(&o), "ocf\nlsb\nheartbeat\nstonith\n");
}

/// Another user who can reach the socket file is still refused: the peer
/// check (SO_PEERCRED) is what guards lrmd, not the file mode. Needs root
/// to act as another user; as a normal user the check cannot be exercised.
#[test]
fn other_users_are_refused_by_peer_credentials() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("not root: cannot connect as another user; peer check covered by unit logic only");
        return;
    }
    let d = Lrmd::start();
    for p in [d.root(), &d.root().join("run"), &d.socket] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let o = Command::new(env!("CARGO_BIN_EXE_lrmadmin")).arg("--socket").arg(&d.socket).arg("-L").uid(65534).gid(65534).output().unwrap();
    assert!(!o.status.success(), "nobody was served: {o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("permission denied: uid 65534 is neither root nor lrmd's user"), "{o:?}");
    // Root still is.
    assert!(lrmadmin(&d, &["-L"]).status.success());
}
