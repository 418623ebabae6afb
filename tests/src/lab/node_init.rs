//! The init process of a node: pid 1 of the node's PID namespace.
//!
//! `ha-lab node-init` runs under `unshare --pid --fork --uts --mount
//! --ipc --mount-proc` inside the node's network namespace. It gives the
//! node its host name and its own /run and /dev/shm (IPC names contain
//! process ids, which repeat across PID namespaces), says it is ready,
//! then reaps orphans for ever: a daemonized heartbeat is re-parented to
//! it, and `heartbeat -k` waits for that pid to vanish, which a zombie
//! never does. Killing this process kills the whole node.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;

/// Sets the node up, writes `ready`, and reaps children until killed.
pub fn run(hostname: &str, ready: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    nix::unistd::sethostname(hostname).context("sethostname")?;
    for dir in ["/run", "/dev/shm"] {
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "mode=0755,nosuid,nodev", "tmpfs", dir])
            .status()
            .with_context(|| format!("mount tmpfs on {dir}"))?;
        anyhow::ensure!(st.success(), "mount tmpfs on {dir}: {st}");
    }
    // /dev/shm is world-writable with the sticky bit, as on a host.
    let _ = Command::new("chmod").args(["1777", "/dev/shm"]).status();
    std::fs::write(ready, format!("{hostname}\n")).with_context(|| format!("write {}", ready.display()))?;
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::empty())) {
            Ok(_) => {}
            // No children right now: nothing to reap until one is adopted.
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}
