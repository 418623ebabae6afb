//! Four real `heartbeat` daemons on 127.0.0.1-4 (one udpport, ucast lines
//! naming each other, HA_BINDADDR per node): n1-n3 share a key, n4 has
//! another. Checks, through `cl_status` and the client API:
//! - n1-n3 see each other active; n4 is never seen up, sees the others
//!   dead, and its packets are counted as rejected;
//! - a message sent through the API reaches the other node's client, and
//!   `clientstatus` asks the other node;
//! - SIGKILL of n3: n1 and n2 declare it dead within deadtime + one
//!   keepalive + 0.5 s; restarted, it comes back with a higher generation;
//! - n1 runs daemonized and `heartbeat -k` stops it.
//!
//! Every process is killed by a guard, whatever happens.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use transport::api::Client;
use transport::wire::Message;

const PORT: u16 = 47_510;
const KEEPALIVE_MS: u64 = 200;
const DEADTIME_MS: u64 = 1_000;

struct Node {
    name: String,
    addr: String,
    conf: PathBuf,
    var: PathBuf,
    run: PathBuf,
    log: PathBuf,
}

impl Node {
    fn new(root: &Path, i: u32, secret: &str) -> Node {
        let dir = root.join(format!("n{i}"));
        let node = Node {
            name: format!("n{i}"),
            addr: format!("127.0.0.{i}"),
            conf: dir.join("conf"),
            var: dir.join("var"),
            run: dir.join("run"),
            log: dir.join("ha-log"),
        };
        for d in [&node.conf, &node.var, &node.run] {
            std::fs::create_dir_all(d).unwrap();
        }
        let ucast: String = (1..=4).map(|j| format!("ucast lo 127.0.0.{j}\n")).collect();
        let hacf = format!(
            "logfile {}\nuse_logd no\nkeepalive {KEEPALIVE_MS}ms\ndeadtime {}\nwarntime 500ms\ninitdead 2\n\
             udpport {PORT}\n{ucast}auto_failback on\nnode n1 n2 n3 n4\ncrm no\n",
            node.log.display(),
            DEADTIME_MS / 1000
        );
        std::fs::write(node.conf.join("ha.cf"), hacf).unwrap();
        let keys = node.conf.join("authkeys");
        std::fs::write(&keys, format!("auth 1\n1 sha1 {secret}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
        node
    }

    fn command(&self, bin: &str) -> Command {
        let mut c = Command::new(bin);
        c.env("HA_NODENAME", &self.name)
            .env("HA_CONFDIR", &self.conf)
            .env("HA_VARLIB", &self.var)
            .env("HA_RUNDIR", &self.run)
            .env("HA_BINDADDR", &self.addr);
        c
    }

    fn start_foreground(&self) -> Child {
        self.command(env!("CARGO_BIN_EXE_heartbeat"))
            .arg("-f")
            .stderr(std::fs::File::create(self.run.join("stderr")).unwrap())
            .spawn()
            .unwrap()
    }

    fn cl_status(&self, args: &[&str]) -> Output {
        self.command(env!("CARGO_BIN_EXE_cl_status")).args(args).output().unwrap()
    }

    /// `cl_status nodestatus <node>` as (stdout, exit code).
    fn status_of(&self, node: &str) -> (String, i32) {
        let o = self.cl_status(&["nodestatus", node]);
        (String::from_utf8_lossy(&o.stdout).trim().to_string(), o.status.code().unwrap_or(-1))
    }

    fn client(&self, name: &str) -> Client {
        Client::signon(&self.run.join("heartbeat.sock"), name, Duration::from_secs(3)).unwrap()
    }

    fn generation(&self) -> u64 {
        std::fs::read_to_string(self.var.join("hb_generation")).unwrap().trim().parse().unwrap()
    }

    fn pid_file(&self) -> PathBuf {
        self.run.join("heartbeat.pid")
    }
}

/// Kills what the test started, even when an assertion fails.
#[derive(Default)]
struct Guard {
    children: Vec<Child>,
    pid_files: Vec<PathBuf>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for p in &self.pid_files {
            if let Some(pid) = std::fs::read_to_string(p).ok().and_then(|s| s.trim().parse::<i32>().ok()) {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
        }
    }
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

fn counter(c: &mut Client, name: &str) -> u64 {
    c.counters().unwrap().into_iter().find(|(k, _)| k == name).map(|(_, v)| v).unwrap()
}

#[test]
fn three_nodes_see_each_other_detect_a_kill_and_reject_a_foreign_key() {
    let tmp = tempfile::tempdir().unwrap();
    let n: Vec<Node> = (1..=4).map(|i| Node::new(tmp.path(), i, if i == 4 { "AnotherSecret" } else { "SharedSecret" })).collect();
    let mut guard = Guard::default();

    // n1 daemonizes: the command returns once the daemon is on its own.
    guard.pid_files.push(n[0].pid_file());
    let st = n[0].command(env!("CARGO_BIN_EXE_heartbeat")).status().unwrap();
    assert!(st.success(), "daemonizing heartbeat failed: {st}");
    for node in &n[1..] {
        let child = node.start_foreground();
        guard.children.push(child);
    }

    // All of n1-n3 active everywhere.
    for a in &n[..3] {
        for b in &n[..3] {
            wait_for(&format!("{} to see {} active", a.name, b.name), Duration::from_secs(5), || {
                a.status_of(&b.name) == ("active".into(), 0)
            });
        }
    }
    let o = n[0].cl_status(&["hbstatus"]);
    assert_eq!((String::from_utf8_lossy(&o.stdout).as_ref(), o.status.code()), ("Heartbeat is running on this machine.\n", Some(0)));
    let o = n[0].cl_status(&["hblinkstatus", "n2", "lo"]);
    assert_eq!((String::from_utf8_lossy(&o.stdout).as_ref(), o.status.code()), ("up\n", Some(0)));
    let o = n[0].cl_status(&["listnodes"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "n1\nn2\nn3\nn4\n");

    // Messages through the API, and clientstatus across nodes.
    let mut rx = n[0].client("testclient");
    let mut tx = n[1].client("sender");
    let o = n[1].cl_status(&["clientstatus", "n1", "testclient", "1000"]);
    assert_eq!((String::from_utf8_lossy(&o.stdout).as_ref(), o.status.code()), ("online\n", Some(0)));
    let o = n[1].cl_status(&["clientstatus", "n1", "nobody", "1000"]);
    assert_eq!((String::from_utf8_lossy(&o.stdout).as_ref(), o.status.code()), ("offline\n", Some(1)));
    tx.send(Some("n1"), Message::new().with_str("t", "hello").with_str("text", "from n2")).unwrap();
    let got = loop {
        let ev = rx.next_event().expect("a pushed message within the read timeout");
        if ev.get_str("t") == Some("msg") {
            break ev;
        }
    };
    let Some(transport::wire::Value::Struct(inner)) = got.get("msg") else { panic!("{got:?}") };
    assert_eq!((inner.get_str("t"), inner.get_str("text"), inner.get_str("src")), (Some("hello"), Some("from n2"), Some("n2")));

    // n4 has another key: never up anywhere, sees everyone dead, and its
    // packets are counted as rejected.
    for a in &n[..3] {
        let (s, rc) = a.status_of("n4");
        assert!(rc == 1 && (s == "dead" || s == "init"), "{} sees n4 {s}", a.name);
    }
    wait_for("n4 to give up on the others (initdead)", Duration::from_secs(5), || {
        n[3].status_of("n1") == ("dead".into(), 1)
    });
    for a in &n[..3] {
        let rejected = counter(&mut a.client("counters"), "rejected");
        assert!(rejected > 0, "{} counted no rejected packets", a.name);
    }
    assert!(counter(&mut n[3].client("counters"), "rejected") > 0);

    // SIGKILL n3: dead on n1 and n2 within deadtime + keepalive + 0.5 s.
    let old_generation = n[2].generation();
    let n3 = &mut guard.children[1];
    n3.kill().unwrap();
    n3.wait().unwrap();
    let bound = Duration::from_millis(DEADTIME_MS + KEEPALIVE_MS + 500);
    let mut seen = [false, false];
    let took = wait_for("n1 and n2 to declare n3 dead", bound, || {
        for (i, a) in n[..2].iter().enumerate() {
            seen[i] = seen[i] || a.status_of("n3") == ("dead".into(), 1);
        }
        seen == [true, true]
    });
    eprintln!("n3 declared dead {took:?} after SIGKILL");
    assert_eq!(n[0].status_of("n4").1, 1, "n4 still not up");

    // Restart n3: back, with a higher generation.
    guard.children[1] = n[2].start_foreground();
    wait_for("n1 to see n3 again", Duration::from_secs(5), || n[0].status_of("n3") == ("active".into(), 0));
    wait_for("n2 to see n3 again", Duration::from_secs(5), || n[1].status_of("n3") == ("active".into(), 0));
    let new_generation = n[2].generation();
    assert!(new_generation > old_generation);
    let log = std::fs::read_to_string(&n[0].log).unwrap();
    assert!(log.contains(&format!("info: node n3: restarted with generation {new_generation}")), "{log}");
    assert!(log.contains("WARN: node n3: is dead"), "{log}");
    assert!(log.contains("info: Link n3:lo dead."), "{log}");

    // heartbeat -k stops the daemonized n1; the others hear it leave.
    drop(rx);
    let st = n[0].command(env!("CARGO_BIN_EXE_heartbeat")).arg("-k").status().unwrap();
    assert!(st.success());
    assert!(!n[0].pid_file().exists());
    let o = n[0].cl_status(&["hbstatus"]);
    assert_eq!((String::from_utf8_lossy(&o.stdout).as_ref(), o.status.code()), ("Heartbeat is stopped on this machine.\n", Some(1)));
    wait_for("n2 to see n1 leave", Duration::from_secs(1), || n[1].status_of("n1") == ("dead".into(), 1));
}
