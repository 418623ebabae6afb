//! Shared by the stonithd tests: binaries, node directories, process
//! guards, the recording fence agent.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

pub fn bin(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args([
                "build",
                "-q",
                "-p",
                "cibd",
                "--bin",
                "cib",
                "-p",
                "tools",
                "--bin",
                "cibadmin",
                "-p",
                "transport",
                "--bin",
                "heartbeat",
            ])
            .args(["-p", "lrmd", "--bin", "ha-witness"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(
            st.success(),
            "cargo build of cib, cibadmin and heartbeat failed: {st}"
        );
    });
    PathBuf::from(env!("CARGO_BIN_EXE_stonithd"))
        .parent()
        .unwrap()
        .join(name)
}

/// Kills its process on drop, whatever happens in the test.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fence agent in the fence-agents convention (parameters on stdin)
/// that appends `NODE ACTION port=P nodename=N NANOS` to its `log`
/// parameter for every call. `list` prints its `hosts` parameter; with
/// `fail=1`, monitor and the fence actions fail with a message.
pub const FENCE_REC: &str = r#"#!/bin/sh
action=""; port=""; nodename=""; log=""; hosts=""; fail=""
while IFS= read -r line; do
    case "$line" in
        action=*) action="${line#action=}" ;;
        port=*) port="${line#port=}" ;;
        nodename=*) nodename="${line#nodename=}" ;;
        log=*) log="${line#log=}" ;;
        hosts=*) hosts="${line#hosts=}" ;;
        fail=*) fail="${line#fail=}" ;;
    esac
done
echo "$HA_NODENAME $action port=$port nodename=$nodename $(date +%s%N)" >> "$log"
case "$action" in
    list) for h in $hosts; do echo "$h"; done; exit 0 ;;
    monitor|status) if [ "$fail" = 1 ]; then echo "device unreachable" >&2; exit 1; fi; exit 0 ;;
    metadata) echo "<resource-agent name='fence_rec'/>"; exit 0 ;;
    reboot|off|on) if [ "$fail" = 1 ]; then echo "power switch refused $action of $port" >&2; exit 1; fi; exit 0 ;;
    *) exit 1 ;;
esac
"#;

/// A directory of fence agents: fence_rec, and the project's fence_lab.
pub fn agent_dir(root: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = root.join("fence");
    std::fs::create_dir_all(&dir).unwrap();
    let rec = dir.join("fence_rec");
    std::fs::write(&rec, FENCE_REC).unwrap();
    std::fs::set_permissions(&rec, std::fs::Permissions::from_mode(0o755)).unwrap();
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("../agents/fence/fence_lab");
    std::os::unix::fs::symlink(lab.canonicalize().unwrap(), dir.join("fence_lab")).unwrap();
    dir
}

/// The lines of the agent's call log.
pub fn calls(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A stonith primitive running fence_rec with these parameters.
pub fn fence_rec(id: &str, log: &Path, params: &[(&str, &str)]) -> String {
    let mut nv = format!(
        r#"<nvpair id="{id}-log" name="log" value="{}"/>"#,
        log.display()
    );
    for (k, v) in params {
        nv.push_str(&format!(
            r#"<nvpair id="{id}-{k}" name="{k}" value="{v}"/>"#
        ));
    }
    format!(
        r#"<primitive id="{id}" class="stonith" type="fence_rec"><instance_attributes id="{id}-i">{nv}</instance_attributes></primitive>"#
    )
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
        Node {
            name: format!("n{i}"),
            dir,
            addr: format!("127.0.0.{i}"),
        }
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
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{name}.log")))
            .unwrap();
        let p = Proc(
            self.command(name)
                .args(args)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        wait_for(
            Duration::from_secs(20),
            || sock.exists(),
            &format!("{name}'s socket"),
        );
        p
    }

    pub fn run(&self, name: &str, args: &[&str]) -> Output {
        self.command(name).args(args).output().unwrap()
    }

    pub fn ok(&self, name: &str, args: &[&str]) -> String {
        let o = self.run(name, args);
        assert!(
            o.status.success(),
            "{name} {args:?}: exit {:?}: {}{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// `stonith_admin ARGS`: (stdout, stderr, exit code).
    pub fn admin(&self, args: &[&str]) -> (String, String, i32) {
        let o = self.run("stonith_admin", args);
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
            o.status.code().unwrap_or(-1),
        )
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default()
    }
}

pub fn wait_for(limit: Duration, mut ok: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
