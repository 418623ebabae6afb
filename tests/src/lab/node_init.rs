//! The init process of a node: pid 1 of the node's PID namespace.
//!
//! `ha-lab node-init` runs under `unshare --pid --fork --uts --mount
//! --ipc --mount-proc` inside the node's network namespace. It gives the
//! node its host name and its own /run and /dev/shm (IPC names contain
//! process ids, which repeat across PID namespaces), says it is ready,
//! then reaps orphans for ever: a daemonized heartbeat is re-parented to
//! it, and `heartbeat -k` waits for that pid to vanish, which a zombie
//! never does. Killing this process kills the whole node.
//!
//! With an OCF overlay (`LabSpec::ocf_overlay`) it also merges that
//! directory of providers over `/usr/lib/ocf/resource.d` (a read-only
//! overlayfs with both as lower layers), in the node's mount namespace
//! only: lrmd's default OCF_ROOT then finds Debian's agents and ours.
//! A fence overlay (`LabSpec::fence_overlay`) merges a directory of fence
//! agents over `/usr/sbin` the same way (stonithd's and lrmd's default
//! fence agent directory), so `fence_lab` is found inside the node.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;

/// Sets the node up, writes `ready`, and reaps children until killed.
pub fn run(hostname: &str, ready: &Path, ocf_overlay: Option<&Path>) -> anyhow::Result<()> {
    run_with(hostname, ready, ocf_overlay, None)
}

/// [`run`], with a fence agent overlay over `/usr/sbin` too.
pub fn run_with(hostname: &str, ready: &Path, ocf_overlay: Option<&Path>, fence_overlay: Option<&Path>) -> anyhow::Result<()> {
    use anyhow::Context;
    nix::unistd::sethostname(hostname).context("sethostname")?;
    if let Some(extra) = ocf_overlay {
        mount_ocf_overlay(extra)?;
    }
    if let Some(extra) = fence_overlay {
        mount_overlay(extra, FENCE_DIR)?;
    }
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

/// Where stonithd and lrmd look for fence agents by default.
const FENCE_DIR: &str = "/usr/sbin";

/// Merges `extra` over `target` (a read-only overlay with both as lower
/// layers, `extra` first), in this mount namespace only.
fn mount_overlay(extra: &Path, target: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    anyhow::ensure!(extra.is_dir(), "overlay {} is not a directory", extra.display());
    let opts = format!("lowerdir={}:{target}", extra.display());
    let st = Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &opts, target])
        .status()
        .with_context(|| format!("mount an overlay on {target}"))?;
    anyhow::ensure!(st.success(), "mount -t overlay -o {opts} {target}: {st}");
    Ok(())
}

/// Where lrmd looks for OCF providers by default.
const OCF_RESOURCE_D: &str = "/usr/lib/ocf/resource.d";

/// Merges `extra` (a directory of provider directories) over
/// `/usr/lib/ocf/resource.d`. Both are lower layers of a read-only
/// overlay, so nothing is ever written to either; the first layer wins
/// for a provider present in both. Without the host's
/// `/usr/lib/ocf/resource.d` (no resource-agents package) the node
/// cannot boot: the error says what to install.
fn mount_ocf_overlay(extra: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    anyhow::ensure!(extra.is_dir(), "OCF overlay {} is not a directory", extra.display());
    if !Path::new(OCF_RESOURCE_D).is_dir() {
        anyhow::bail!("{OCF_RESOURCE_D} is missing: install resource-agents (apt-get install resource-agents)");
    }
    let opts = format!("lowerdir={OCF_RESOURCE_D}:{}", extra.display());
    let st = Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &opts, OCF_RESOURCE_D])
        .status()
        .context("mount the OCF overlay")?;
    anyhow::ensure!(st.success(), "mount -t overlay -o {opts} {OCF_RESOURCE_D}: {st}");
    Ok(())
}
