//! cl_status with no heartbeat running, side by side with Heartbeat
//! 3.0.6's own (Debian's /usr/bin/cl_status): every sub-command, with and
//! without options and parameters, must give the same stdout, the same
//! stderr once cl_log's time stamp, host name and pid are masked, and the
//! same exit code. Ours looks for heartbeat in an empty HA_RUNDIR; the
//! real one in its fixed place, where nothing runs on a test machine
//! (checked: its `hbstatus` must say "stopped"). Fails, never skips, when
//! the real cl_status is missing (CI installs the heartbeat package).

use std::path::Path;
use std::process::Command;

const REAL: &str = "/usr/bin/cl_status";

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// `Nov 23 17:17:54 host cl_status: [123]: ERROR: x` -> `<log> ERROR: x`.
fn mask(stderr: &str) -> String {
    stderr
        .lines()
        .map(|l| match (l.find(" cl_status: ["), l.find("]: ")) {
            (Some(a), Some(b)) if a < b && l.as_bytes().first().is_some_and(u8::is_ascii_uppercase) => format!("<log>{}", &l[b + 2..]),
            _ => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect()
}

fn run(bin: &Path, rundir: &Path, args: &[&str]) -> Run {
    let out = Command::new(bin)
        .args(args)
        .env("HA_RUNDIR", rundir)
        .env("HA_NODENAME", "node1")
        .env_remove("HA_LOGFACILITY")
        .env_remove("HA_logfacility")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    Run { stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr: mask(&String::from_utf8_lossy(&out.stderr)), code: out.status.code() }
}

#[test]
fn every_sub_command_answers_as_heartbeats_when_it_is_down() {
    assert!(Path::new(REAL).exists(), "{REAL} is missing: install Debian's heartbeat package");
    let tmp = tempfile::tempdir().unwrap();
    let ours = Path::new(env!("CARGO_BIN_EXE_cl_status"));
    let real = Path::new(REAL);
    let probe = run(real, tmp.path(), &["hbstatus"]);
    assert_eq!(probe.stdout, "Heartbeat is stopped on this machine.\n", "a real heartbeat seems to run on this machine");

    let cases: &[&[&str]] = &[
        &[],
        &["-h"],
        &["hbstatus"],
        &["hbstatus", "-v"],
        &["hbstatus", "-m", "-v"],
        &["hbstatus", "-x"],
        &["listnodes"],
        &["listnodes", "-p"],
        &["listnodes", "-x"],
        &["nodestatus", "node1"],
        &["nodestatus"],
        &["nodeweight", "node1"],
        &["nodesite", "node1"],
        &["nodetype", "node1"],
        &["listhblinks", "node1"],
        &["listhblinks", "-v", "node1"],
        &["hblinkstatus", "node1", "eth0"],
        &["clientstatus", "node1", "ipfail", "100"],
        &["rscstatus"],
        &["rscstatus", "-m"],
        &["hbparameter", "-p", "deadtime"],
        &["hbparameter"],
        &["test"],
        &["bogus"],
        &["hbstatusx"],
        &["-m"],
    ];
    let mut differences = Vec::new();
    for args in cases {
        let (a, b) = (run(real, tmp.path(), args), run(ours, tmp.path(), args));
        if (&a.stdout, &a.stderr, a.code) != (&b.stdout, &b.stderr, b.code) {
            differences.push(format!(
                "cl_status {args:?}\n--- heartbeat (rc {:?})\n{}{}--- ours (rc {:?})\n{}{}",
                a.code, a.stdout, a.stderr, b.code, b.stdout, b.stderr
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn log_lines_carry_time_host_and_pid() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cl_status")).arg("nodestatus").arg("n1").env("HA_RUNDIR", tmp.path()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let first = err.lines().next().expect("a log line");
    // `Nov 23 17:17:54 host cl_status: [1234]: ERROR: Cannot signon with heartbeat`
    let fields: Vec<&str> = first.splitn(6, ' ').collect();
    assert_eq!(fields.len(), 6, "{first}");
    assert!(fields[0].len() == 3 && fields[2].len() == 8 && fields[2].matches(':').count() == 2, "{first}");
    assert!(first.contains(" cl_status: [") && first.ends_with("]: ERROR: Cannot signon with heartbeat"), "{first}");
}
