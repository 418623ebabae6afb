//! The lab's contact with the system: the `ip`, `nft` and `nsenter`
//! commands it runs, and what it reads from `/proc`.
//!
//! Every command that touches a network names a namespace (`ip -n NS`,
//! `ip netns exec NS`): the lab never changes the host's own interfaces,
//! addresses or firewall.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::LabError;

/// Runs a command to completion; a non-zero exit is an error carrying its
/// stderr, so a failed `ip`/`nft` call says why.
pub fn run(cmd: &mut Command) -> Result<Output, LabError> {
    let line = describe(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::Spawn { cmd: line.clone(), source: e })?;
    if !out.status.success() {
        return Err(LabError::Command {
            cmd: line,
            status: out.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out)
}

/// The command line as text, for error messages.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// `ip -n NS args...`.
pub fn ip(ns: &str, args: &[&str]) -> Result<Output, LabError> {
    run(Command::new("ip").arg("-n").arg(ns).args(args))
}

/// `ip netns exec NS nft -f -` with `script` on stdin.
pub fn nft(ns: &str, script: &str) -> Result<(), LabError> {
    use std::io::Write;
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns, "nft", "-f", "-"]);
    let line = format!("{} <<< {script:?}", describe(&cmd));
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| LabError::Spawn { cmd: line.clone(), source: e })?;
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(script.as_bytes())
        .map_err(|e| LabError::Spawn { cmd: line.clone(), source: e })?;
    let out = child.wait_with_output().map_err(|e| LabError::Spawn { cmd: line.clone(), source: e })?;
    if !out.status.success() {
        return Err(LabError::Command {
            cmd: line,
            status: out.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// Names of the existing network namespaces (`ip netns list`).
pub fn netns_list() -> Result<Vec<String>, LabError> {
    let out = run(Command::new("ip").args(["netns", "list"]))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        // "name (id: 3)" when the namespace has an id.
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect())
}

pub fn netns_exists(ns: &str) -> bool {
    Path::new("/run/netns").join(ns).exists()
}

/// Host pids of every process whose network namespace is `ns`.
pub fn netns_pids(ns: &str) -> Vec<i32> {
    match run(Command::new("ip").args(["netns", "pids", ns])) {
        Ok(out) => String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.trim().parse().ok()).collect(),
        Err(_) => Vec::new(),
    }
}

/// The pid of `pid` in each PID namespace from the host's down
/// (`NSpid:` of /proc/PID/status); `[host, 1]` marks a namespace's init.
pub fn ns_pids(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .map(|v| v.split_whitespace().filter_map(|p| p.parse().ok()).collect())
        })
        .unwrap_or_default()
}

/// The init (pid 1 of its own PID namespace) among the processes of
/// network namespace `ns`: the lab's node-init process.
pub fn node_init_pid(ns: &str) -> Option<i32> {
    netns_pids(ns).into_iter().find(|&p| {
        let v = ns_pids(p);
        v.len() >= 2 && v.last() == Some(&1)
    })
}

/// Sends `sig` to every pid, ignoring processes that are already gone.
pub fn signal_all(pids: &[i32], sig: nix::sys::signal::Signal) {
    for &p in pids {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), sig);
    }
}
