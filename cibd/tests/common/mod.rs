//! Shared by the daemon tests: binaries, node directories, process guards.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

/// `cib` is this package's; `cibadmin` and `heartbeat` belong to others and
/// are built here (a no-op when up to date), never taken stale.
pub fn bin(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "tools", "--bin", "cibadmin", "-p", "transport", "--bin", "heartbeat"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(st.success(), "cargo build of cibadmin/heartbeat failed: {st}");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_cib")).parent().unwrap().join(name)
}

/// Kills its process on drop, whatever happens in the test.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// SIGTERM and wait (bounded).
    pub fn stop(mut self) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.0.id() as i32), nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One node's directories and environment.
pub struct Node {
    pub name: String,
    pub addr: String,
    pub conf: PathBuf,
    pub var: PathBuf,
    pub run: PathBuf,
}

impl Node {
    pub fn new(root: &Path, i: u32) -> Node {
        let dir = root.join(format!("n{i}"));
        let n = Node {
            name: format!("n{i}"),
            addr: format!("127.0.0.{i}"),
            conf: dir.join("conf"),
            var: dir.join("var"),
            run: dir.join("run"),
        };
        for d in [&n.conf, &n.var, &n.run] {
            std::fs::create_dir_all(d).unwrap();
        }
        n
    }

    pub fn command(&self, bin_name: &str) -> Command {
        let mut c = Command::new(bin(bin_name));
        c.env_remove("CIB_file")
            .env_remove("CIB_shadow")
            .env("HA_NODENAME", &self.name)
            .env("HA_CONFDIR", &self.conf)
            .env("HA_VARLIB", &self.var)
            .env("HA_RUNDIR", &self.run)
            .env("HA_BINDADDR", &self.addr);
        c
    }

    /// Starts the cib daemon and waits for its socket.
    pub fn start_cib(&self, args: &[&str]) -> Proc {
        let sock = self.run.join("cib.sock");
        let _ = std::fs::remove_file(&sock);
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.run.join("cib.log")).unwrap();
        let p = Proc(self.command("cib").args(args).stderr(log).stdout(Stdio::null()).spawn().unwrap());
        wait_for(Duration::from_secs(15), || sock.exists(), &format!("{}'s cib.sock", self.name));
        p
    }

    pub fn cibadmin(&self, args: &[&str]) -> Output {
        self.command("cibadmin").args(args).output().unwrap()
    }

    /// `cibadmin -Q`'s stdout, asserting success.
    pub fn query(&self, args: &[&str]) -> String {
        let o = self.cibadmin(&[&["-Q"], args].concat());
        assert!(o.status.success(), "{}: cibadmin -Q {args:?}: {}", self.name, String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.run.join("cib.log")).unwrap_or_default()
    }
}

pub fn wait_for(limit: Duration, mut ok: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}
