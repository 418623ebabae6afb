//! `heartbeat` refuses to start on configuration errors (each printed as
//! `file:line: error: ...`) and on an authkeys file others can read;
//! `heartbeat -k` and `cl_status` without a running daemon.

use std::path::Path;
use std::process::{Command, Output};

fn run(bin: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env("HA_NODENAME", "n1")
        .env("HA_CONFDIR", dir.join("conf"))
        .env("HA_VARLIB", dir.join("var"))
        .env("HA_RUNDIR", dir.join("run"))
        .env("HA_BINDADDR", "127.0.0.1")
        .output()
        .unwrap()
}

fn setup(hacf: &str, keys_mode: u32) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("conf")).unwrap();
    std::fs::write(t.path().join("conf/ha.cf"), hacf).unwrap();
    let keys = t.path().join("conf/authkeys");
    std::fs::write(&keys, "auth 1\n1 sha1 secret\n").unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(keys_mode)).unwrap();
    t
}

const GOOD: &str = "logfile /dev/null\nkeepalive 200ms\ndeadtime 1\ninitdead 2\nudpport 47520\nucast lo 127.0.0.2\nnode n1 n2\nauto_failback on\n";

#[test]
fn config_errors_name_file_and_line_and_nothing_starts() {
    let t = setup(&GOOD.replace("deadtime 1\n", "deadtime 1\nKeepalive 2\n"), 0o600);
    let o = run(env!("CARGO_BIN_EXE_heartbeat"), t.path(), &["-f"]);
    let err = String::from_utf8_lossy(&o.stderr);
    let file = t.path().join("conf/ha.cf");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("{}:4: error: Illegal directive [Keepalive]", file.display())), "{err}");
    assert!(err.contains("not starting"), "{err}");
    assert!(!t.path().join("run/heartbeat.pid").exists());
}

#[test]
fn local_node_must_be_configured() {
    let t = setup(&GOOD.replace("node n1 n2", "node n2 n3"), 0o600);
    let o = run(env!("CARGO_BIN_EXE_heartbeat"), t.path(), &["-f"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Current node [n1] not in configuration"));
}

#[test]
fn authkeys_readable_by_others_is_refused() {
    let t = setup(GOOD, 0o644);
    let o = run(env!("CARGO_BIN_EXE_heartbeat"), t.path(), &["-f"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("authkeys"), "{err}");
}

#[test]
fn nothing_running() {
    let t = setup(GOOD, 0o600);
    let o = run(env!("CARGO_BIN_EXE_heartbeat"), t.path(), &["-k"]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(env!("CARGO_BIN_EXE_cl_status"), t.path(), &["hbstatus"]);
    assert_eq!((String::from_utf8_lossy(&o.stdout).as_ref(), o.status.code()), ("Heartbeat is stopped on this machine.\n", Some(1)));
    let o = run(env!("CARGO_BIN_EXE_cl_status"), t.path(), &["nodestatus", "n2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Cannot signon with heartbeat"));
    let o = run(env!("CARGO_BIN_EXE_cl_status"), t.path(), &["bogus"]);
    assert_eq!(o.status.code(), Some(11));
    let o = run(env!("CARGO_BIN_EXE_cl_status"), t.path(), &[]);
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("Usage: cl_status <sub-command>"));
}
