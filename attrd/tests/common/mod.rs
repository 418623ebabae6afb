//! Shared by the attrd tests: binaries, node directories, process guards.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

pub fn bin(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "cibd", "--bin", "cib", "-p", "tools"])
            .args(["--bin", "cibadmin", "--bin", "crm_attribute", "--bin", "crm_failcount", "--bin", "crm_mon", "-p", "transport", "--bin", "heartbeat"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(st.success(), "cargo build of cib and the tools failed: {st}");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_attrd")).parent().unwrap().join(name)
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
    pub fn stop(mut self) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.0.id() as i32), nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

pub struct Node {
    pub name: String,
    pub dir: PathBuf,
    pub addr: String,
}

impl Node {
    /// Node `n{i}` on 127.0.0.{i}, its directories under `root/n{i}`.
    pub fn new(root: &Path, i: u32) -> Node {
        let dir = root.join(format!("n{i}"));
        for d in ["conf", "var", "run"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        Node { name: format!("n{i}"), dir, addr: format!("127.0.0.{i}") }
    }

    pub fn command(&self, name: &str) -> Command {
        let mut c = Command::new(bin(name));
        c.env_remove("CIB_file")
            .env_remove("CIB_shadow")
            .env("HA_NODENAME", &self.name)
            .env("HA_BINDADDR", &self.addr)
            .env("HA_CONFDIR", self.dir.join("conf"))
            .env("HA_VARLIB", self.dir.join("var"))
            .env("HA_RUNDIR", self.dir.join("run"));
        c
    }

    pub fn start(&self, name: &str, args: &[&str], sock: &str) -> Proc {
        let sock = self.dir.join("run").join(sock);
        let _ = std::fs::remove_file(&sock);
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join(format!("{name}.log"))).unwrap();
        let p = Proc(self.command(name).args(args).stdout(Stdio::null()).stderr(log).spawn().unwrap());
        wait_for(Duration::from_secs(20), || sock.exists(), &format!("{name}'s socket"));
        p
    }

    pub fn run(&self, name: &str, args: &[&str]) -> Output {
        self.command(name).args(args).output().unwrap()
    }

    pub fn ok(&self, name: &str, args: &[&str]) -> String {
        let o = self.run(name, args);
        assert!(o.status.success(), "{name} {args:?}: exit {:?}: {}{}", o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    }

    pub fn status(&self) -> String {
        self.ok("cibadmin", &["-Q", "-o", "status"])
    }

    pub fn num_updates(&self) -> u64 {
        let cib = self.ok("cibadmin", &["-Q"]);
        let at = cib.find("num_updates=\"").unwrap() + "num_updates=\"".len();
        cib[at..].split('"').next().unwrap().parse().unwrap()
    }
}

pub fn wait_for(limit: Duration, mut ok: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

