//! Test harness: a real `lrmd` process with its own HA_* directories, an
//! OCF root that links the system's agents, the project's agents and a
//! per-test provider, and helpers to write agents.
#![allow(dead_code)]

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use lrmd::client::Client;
use lrmd::op::{OpRecord, OpRequest};
use lrmd::resource::{AgentClass, ResourceSpec};

pub const SYSTEM_OCF: &str = "/usr/lib/ocf";

pub struct Lrmd {
    pub dir: tempfile::TempDir,
    pub child: Child,
    pub socket: PathBuf,
}

impl Lrmd {
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
    pub fn rsctmp(&self) -> PathBuf {
        self.root().join("rsctmp")
    }
    /// Directory of the per-test OCF provider `test`.
    pub fn ocf_test_dir(&self) -> PathBuf {
        self.root().join("ocf/resource.d/test")
    }
    pub fn init_d(&self) -> PathBuf {
        self.root().join("init.d")
    }
    pub fn resource_d(&self) -> PathBuf {
        self.root().join("conf/resource.d")
    }
    pub fn lsb_heartbeat(&self) -> PathBuf {
        self.root().join("lsbhb")
    }
    pub fn stonith_dir(&self) -> PathBuf {
        self.root().join("fence")
    }

    pub fn start() -> Lrmd {
        Lrmd::start_in_netns(None)
    }

    /// Starts lrmd inside network namespace `netns` (through `ip netns
    /// exec`, which execs lrmd itself, so the child is lrmd). Its socket
    /// is a path, which every namespace can reach.
    pub fn start_in_netns(netns: Option<&str>) -> Lrmd {
        Lrmd::start_with(netns, "node1")
    }

    /// Starts lrmd as node `node` (its HA_NODENAME).
    pub fn start_as(node: &str) -> Lrmd {
        Lrmd::start_with(None, node)
    }

    pub fn start_with(netns: Option<&str>, node: &str) -> Lrmd {
        assert!(
            Path::new(SYSTEM_OCF).join("resource.d/heartbeat/Dummy").exists(),
            "Debian's resource-agents package is required (apt-get install -y resource-agents)"
        );
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["run", "rsctmp", "varlib", "conf/resource.d", "ocf/resource.d/test", "init.d", "lsbhb", "fence"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        // The system's agents and their shell library, plus ours.
        symlink(Path::new(SYSTEM_OCF).join("lib"), root.join("ocf/lib")).unwrap();
        symlink(Path::new(SYSTEM_OCF).join("resource.d/heartbeat"), root.join("ocf/resource.d/heartbeat")).unwrap();
        let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("../agents/ocf/resource.d/heartbeat-rs");
        symlink(ours.canonicalize().unwrap(), root.join("ocf/resource.d/heartbeat-rs")).unwrap();

        let socket = root.join("run/lrmd.sock");
        // lrmd's log goes to a file beside its state, to read after a failure.
        let log = std::fs::File::create(root.join("lrmd.log")).unwrap();
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(env!("CARGO_BIN_EXE_lrmd"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_lrmd")),
        };
        let child = cmd
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HA_NODENAME", node)
            .env("HA_RUNDIR", root.join("run"))
            .env("HA_RSCTMP", root.join("rsctmp"))
            .env("HA_VARLIB", root.join("varlib"))
            .env("HA_CONFDIR", root.join("conf"))
            .arg("--ocf-root")
            .arg(root.join("ocf"))
            .arg("--init-d")
            .arg(root.join("init.d"))
            .arg("--lsb-heartbeat-dir")
            .arg(root.join("lsbhb"))
            .arg("--stonith-dir")
            .arg(root.join("fence"))
            .arg("--kill-grace-ms")
            .arg("500")
            .stderr(log)
            .spawn()
            .expect("lrmd binary runs");
        let lrmd = Lrmd { dir, child, socket };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Client::connect(&lrmd.socket).is_err() {
            assert!(Instant::now() < deadline, "lrmd did not open its socket");
            std::thread::sleep(Duration::from_millis(20));
        }
        lrmd
    }

    pub fn client(&self) -> Client {
        let mut c = Client::connect(&self.socket).unwrap();
        c.subscribe().unwrap();
        c
    }

    /// Writes an executable script.
    pub fn script(&self, path: &Path, body: &str) {
        std::fs::write(path, body).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Whether lrmd is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Lrmd {
    fn drop(&mut self) {
        self.stop_daemon();
        // Services the agents left running (ha-httpd, a double-forked
        // daemon) name this test's directory on their command lines.
        kill_marked(&self.root().to_string_lossy());
    }
}

impl Lrmd {
    fn stop_daemon(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn ocf(id: &str, provider: &str, agent: &str) -> ResourceSpec {
    ResourceSpec::new(id, AgentClass::Ocf, Some(provider), agent)
}

/// Runs one operation through the socket and waits for its result.
pub fn op(c: &mut Client, rsc: &str, action: &str, interval_ms: u64, timeout_ms: u64) -> OpRecord {
    c.exec_wait(OpRequest::new(rsc, action, interval_ms, timeout_ms), Duration::from_millis(timeout_ms + 10_000)).unwrap()
}

/// Kills every process whose command line mentions `marker` (processes the
/// test itself caused to exist, found by a unique temp path).
pub fn kill_marked(marker: &str) {
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) else { continue };
        if String::from_utf8_lossy(&cmd).contains(marker) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }
}

pub fn pids_marked(marker: &str) -> Vec<i32> {
    let mut v = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) else { continue };
        // Zombies have an empty cmdline and are not running.
        if String::from_utf8_lossy(&cmd).contains(marker) {
            v.push(pid);
        }
    }
    v
}
