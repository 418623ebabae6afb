//! A real attrd beside a real stand-alone cib daemon (`cib -s`) on a
//! temporary HA_* environment, driven by the real tools:
//! - attrd_updater -U, then crm_attribute -l reboot -G and crm_mon -1 -A show it;
//!   crm_attribute -l reboot -v / -D go through attrd;
//! - `value++` twice gives 2; crm_failcount -G / -D agree with attrd;
//! - a restarted attrd starts from an empty table and clears the CIB;
//! - dampening coalesces a burst into one CIB write (bounded waits).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

fn bin(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "cibd", "--bin", "cib", "-p", "tools"])
            .args(["--bin", "cibadmin", "--bin", "crm_attribute", "--bin", "crm_failcount", "--bin", "crm_mon"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(st.success(), "cargo build of cib and the tools failed: {st}");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_attrd")).parent().unwrap().join(name)
}

/// Kills its process on drop, whatever happens in the test.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    fn stop(mut self) {
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

struct Node {
    dir: PathBuf,
}

impl Node {
    fn new(root: &Path) -> Node {
        for d in ["conf", "var", "run"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        Node { dir: root.to_path_buf() }
    }

    fn command(&self, name: &str) -> Command {
        let mut c = Command::new(bin(name));
        c.env_remove("CIB_file")
            .env_remove("CIB_shadow")
            .env("HA_NODENAME", "n1")
            .env("HA_CONFDIR", self.dir.join("conf"))
            .env("HA_VARLIB", self.dir.join("var"))
            .env("HA_RUNDIR", self.dir.join("run"));
        c
    }

    fn start(&self, name: &str, args: &[&str], sock: &str) -> Proc {
        let sock = self.dir.join("run").join(sock);
        let _ = std::fs::remove_file(&sock);
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join(format!("{name}.log"))).unwrap();
        let p = Proc(self.command(name).args(args).stdout(Stdio::null()).stderr(log).spawn().unwrap());
        wait_for(Duration::from_secs(20), || sock.exists(), &format!("{name}'s socket"));
        p
    }

    fn run(&self, name: &str, args: &[&str]) -> Output {
        self.command(name).args(args).output().unwrap()
    }

    fn ok(&self, name: &str, args: &[&str]) -> String {
        let o = self.run(name, args);
        assert!(o.status.success(), "{name} {args:?}: exit {:?}: {}{}", o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    }

    fn status(&self) -> String {
        self.ok("cibadmin", &["-Q", "-o", "status"])
    }

    fn num_updates(&self) -> u64 {
        let cib = self.ok("cibadmin", &["-Q"]);
        let at = cib.find("num_updates=\"").unwrap() + "num_updates=\"".len();
        cib[at..].split('"').next().unwrap().parse().unwrap()
    }
}

fn wait_for(limit: Duration, mut ok: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const RSC: &str = r#"<primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/>"#;
const FAILS: &str = "fail-count-r1#monitor_10000";

#[test]
fn attributes_through_attrd_reach_the_cib_and_the_tools() {
    let tmp = tempfile::tempdir().unwrap();
    let n = Node::new(tmp.path());
    let _cib = n.start("cib", &["-s"], "cib.sock");
    n.ok("cibadmin", &["-C", "-o", "nodes", "-X", r#"<node id="1" uname="n1"/>"#]);
    n.ok("cibadmin", &["-C", "-o", "resources", "-X", RSC]);
    // A transient attribute left from before this attrd: cleared at its start.
    n.ok("cibadmin", &["-C", "-o", "status", "-X", r#"<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><transient_attributes id="1"><instance_attributes id="status-1"><nvpair id="status-1-stale" name="stale" value="1"/></instance_attributes></transient_attributes></node_state>"#]);
    let attrd = n.start("attrd", &["-s"], "attrd.sock");
    assert!(!n.status().contains("stale"), "attrd clears the node's transient attributes at start");

    // -U, then the CIB and the tools see it.
    n.ok("attrd_updater", &["-n", "color", "-U", "blue"]);
    assert_eq!(n.ok("attrd_updater", &["-n", "color", "-Q"]), "name=\"color\" host=\"n1\" value=\"blue\"\n");
    wait_for(Duration::from_secs(10), || n.status().contains(r#"<nvpair id="status-1-color" name="color" value="blue"/>"#), "color in the CIB");
    assert_eq!(n.ok("crm_attribute", &["-l", "reboot", "-n", "color", "-G", "-q"]).trim(), "blue");
    let mon = n.ok("crm_mon", &["-1", "-A"]);
    assert!(mon.contains("Node Attributes:") && mon.contains("color") && mon.contains("blue"), "{mon}");

    // crm_attribute -l reboot hands updates and deletes to attrd.
    n.ok("crm_attribute", &["-l", "reboot", "-n", "shape", "-v", "round"]);
    assert_eq!(n.ok("attrd_updater", &["-n", "shape", "-Q"]), "name=\"shape\" host=\"n1\" value=\"round\"\n");
    wait_for(Duration::from_secs(10), || n.status().contains(r#"name="shape" value="round""#), "shape in the CIB");
    n.ok("crm_attribute", &["-l", "reboot", "-n", "shape", "-D"]);
    assert_eq!(n.ok("attrd_updater", &["-n", "shape", "-Q"]), "name=\"shape\" host=\"n1\" value=\"\"\n");
    wait_for(Duration::from_secs(10), || !n.status().contains("shape"), "shape gone from the CIB");

    // value++ twice gives 2; crm_failcount agrees.
    n.ok("attrd_updater", &["-n", FAILS, "-U", "value++"]);
    n.ok("attrd_updater", &["-n", FAILS, "-U", "value++"]);
    assert_eq!(n.ok("attrd_updater", &["-n", FAILS, "-Q"]), format!("name=\"{FAILS}\" host=\"n1\" value=\"2\"\n"));
    wait_for(Duration::from_secs(10), || n.status().contains(&format!(r#"name="{FAILS}" value="2""#)), "the fail count in the CIB");
    let fc = n.ok("crm_failcount", &["-G", "-r", "r1", "-N", "n1"]);
    assert!(fc.contains("value=2"), "{fc}");

    // crm_failcount -D goes through attrd: attrd forgets it and the CIB loses it.
    n.ok("crm_failcount", &["-D", "-r", "r1", "-N", "n1"]);
    assert_eq!(n.ok("attrd_updater", &["-n", FAILS, "-Q"]), format!("name=\"{FAILS}\" host=\"n1\" value=\"\"\n"));
    wait_for(Duration::from_secs(10), || !n.status().contains(FAILS), "the fail count gone from the CIB");
    let fc = n.ok("crm_failcount", &["-G", "-r", "r1", "-N", "n1"]);
    assert!(fc.contains("value=0"), "{fc}");

    // Unknown attribute: Pacemaker's message and exit code.
    let o = n.run("attrd_updater", &["-n", "nope", "-Q"]);
    assert_eq!(o.status.code(), Some(105));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "attrd_updater: Could not query value of nope: attribute does not exist\n");

    // A restarted attrd starts empty and clears the CIB.
    attrd.stop();
    assert!(n.status().contains("color"), "values stay in the CIB while attrd is down");
    let _attrd = n.start("attrd", &["-s"], "attrd.sock");
    assert!(!n.status().contains("color"), "a restarted attrd clears the node's attributes");
    assert_eq!(n.run("attrd_updater", &["-n", "color", "-Q"]).status.code(), Some(105));
}

#[test]
fn dampening_coalesces_a_burst_into_one_write() {
    let tmp = tempfile::tempdir().unwrap();
    let n = Node::new(tmp.path());
    let _cib = n.start("cib", &["-s"], "cib.sock");
    n.ok("cibadmin", &["-C", "-o", "nodes", "-X", r#"<node id="1" uname="n1"/>"#]);
    let _attrd = n.start("attrd", &["-s"], "attrd.sock");
    let before = n.num_updates();
    let started = Instant::now();
    n.ok("attrd_updater", &["-n", "pingd", "-U", "100", "-d", "2"]);
    for v in ["200", "300", "400"] {
        n.ok("attrd_updater", &["-n", "pingd", "-U", v]);
    }
    // attrd has the last value at once; the CIB has nothing yet.
    assert_eq!(n.ok("attrd_updater", &["-n", "pingd", "-Q"]), "name=\"pingd\" host=\"n1\" value=\"400\"\n");
    if started.elapsed() < Duration::from_millis(1500) {
        assert!(!n.status().contains("pingd"), "written before the delay ran out");
    }
    wait_for(Duration::from_secs(10), || n.status().contains(r#"name="pingd" value="400""#), "the dampened value");
    assert!(started.elapsed() >= Duration::from_secs(2), "written after {:?}", started.elapsed());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(n.num_updates(), before + 1, "one write for the whole burst");
}
