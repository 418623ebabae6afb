//! Real `heartbeat` daemons on 127.0.0.x for features beyond the basics:
//! - ping and ping_group pseudo-nodes (loopback answers ICMP echo):
//!   status `ping`, `cl_status nodetype` answers `ping`, `listnodes -p`
//!   lists them, `hblinkstatus` per address;
//! - large messages: a 1 MB message through the client API reaches the
//!   other nodes' clients whole (compressed and fragmented on the way).
//!
//! Every process is killed by a guard, whatever happens.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use transport::api::Client;
use transport::wire::{Message, Value};

struct Node {
    name: String,
    addr: String,
    conf: PathBuf,
    var: PathBuf,
    run: PathBuf,
}

impl Node {
    /// Node `n<i>` on 127.0.0.<base+i> among `count` nodes; `extra` lines
    /// go into its ha.cf.
    fn new(root: &Path, i: u32, count: u32, base: u32, port: u16, extra: &str) -> Node {
        let dir = root.join(format!("n{i}"));
        let node = Node {
            name: format!("n{i}"),
            addr: format!("127.0.0.{}", base + i),
            conf: dir.join("conf"),
            var: dir.join("var"),
            run: dir.join("run"),
        };
        for d in [&node.conf, &node.var, &node.run] {
            std::fs::create_dir_all(d).unwrap();
        }
        let ucast: String = (1..=count).map(|j| format!("ucast lo 127.0.0.{}\n", base + j)).collect();
        let nodes: Vec<String> = (1..=count).map(|j| format!("n{j}")).collect();
        let hacf = format!(
            "logfile {}\nuse_logd no\nkeepalive 200ms\ndeadtime 1\nwarntime 500ms\ninitdead 2\n\
             udpport {port}\n{ucast}auto_failback on\nnode {}\ncrm no\n{extra}",
            dir.join("ha-log").display(),
            nodes.join(" ")
        );
        std::fs::write(node.conf.join("ha.cf"), hacf).unwrap();
        let keys = node.conf.join("authkeys");
        std::fs::write(&keys, "auth 1\n1 sha1 t15secret\n").unwrap();
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

    fn start(&self, guard: &mut Guard) {
        let c = self
            .command(env!("CARGO_BIN_EXE_heartbeat"))
            .arg("-f")
            .stderr(std::fs::File::create(self.run.join("stderr")).unwrap())
            .spawn()
            .unwrap();
        guard.0.push(c);
    }

    fn cl_status(&self, args: &[&str]) -> (String, i32) {
        let o: Output = self.command(env!("CARGO_BIN_EXE_cl_status")).args(args).output().unwrap();
        (String::from_utf8_lossy(&o.stdout).trim().to_string(), o.status.code().unwrap_or(-1))
    }

    fn client(&self, name: &str) -> Client {
        let sock = self.run.join("heartbeat.sock");
        wait_for("the API socket", Duration::from_secs(5), || sock.exists());
        Client::signon(&sock, name, Duration::from_secs(5)).unwrap()
    }
}

/// Kills what the test started, even when an assertion fails.
struct Guard(Vec<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ping_nodes_answered_by_loopback_are_ping_nodes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut guard = Guard(Vec::new());
    let n1 = Node::new(tmp.path(), 1, 1, 40, 47_531, "ping 127.0.0.49\nping_group grp 127.0.0.47 127.0.0.48\n");
    n1.start(&mut guard);
    wait_for("127.0.0.49 to be a ping node", Duration::from_secs(5), || {
        n1.cl_status(&["nodestatus", "127.0.0.49"]) == ("ping".into(), 0)
    });
    wait_for("grp", Duration::from_secs(5), || n1.cl_status(&["nodestatus", "grp"]) == ("ping".into(), 0));
    assert_eq!(n1.cl_status(&["nodetype", "127.0.0.49"]), ("ping".into(), 0));
    assert_eq!(n1.cl_status(&["nodetype", "grp"]), ("ping".into(), 0));
    assert_eq!(n1.cl_status(&["nodetype", "n1"]), ("normal".into(), 0));
    let (listed, code) = n1.cl_status(&["listnodes", "-p"]);
    assert_eq!(code, 0);
    let mut listed: Vec<&str> = listed.lines().map(str::trim).collect();
    listed.sort();
    assert_eq!(listed, ["127.0.0.49", "grp"]);
    assert_eq!(n1.cl_status(&["listnodes", "-n"]).0, "n1");
    assert_eq!(n1.cl_status(&["hblinkstatus", "grp", "127.0.0.48"]), ("up".into(), 0));
    let log = std::fs::read_to_string(tmp.path().join("n1/ha-log")).unwrap();
    assert!(log.contains("Status update for node grp: status ping"), "{log}");
}

/// A message of `size` bytes of pseudo-random (incompressible) data plus
/// a compressible text field.
fn big_message(size: usize, tag: u64) -> Message {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ tag;
    let data: Vec<u8> = (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    Message::new()
        .with_str("t", "bigtest")
        .with_str("tag", &tag.to_string())
        .with_str("text", &"a compressible line of text\n".repeat(2000))
        .with("data", Value::Binary(data))
}

#[test]
fn a_one_megabyte_message_reaches_every_other_node() {
    let tmp = tempfile::tempdir().unwrap();
    let mut guard = Guard(Vec::new());
    let nodes: Vec<Node> = (1..=3).map(|i| Node::new(tmp.path(), i, 3, 50, 47_532, "")).collect();
    for n in &nodes {
        n.start(&mut guard);
    }
    for a in &nodes {
        for b in &nodes {
            wait_for("all active", Duration::from_secs(5), || a.cl_status(&["nodestatus", &b.name]) == ("active".into(), 0));
        }
    }
    let mut receivers: Vec<Client> = nodes[1..].iter().map(|n| n.client("bigrecv")).collect();
    let mut sender = nodes[0].client("bigsend");
    let sent = big_message(1 << 20, 1);
    sender.send(None, sent.clone()).unwrap();
    let small = Message::new().with_str("t", "after").with_str("n", "1");
    sender.send(None, small).unwrap();
    for r in &mut receivers {
        let got = r.next_message(Duration::from_secs(20)).unwrap().expect("the 1 MB message");
        assert_eq!(got.get_str("t"), Some("bigtest"));
        assert_eq!(got.get_binary("data"), sent.get_binary("data"));
        assert_eq!(got.get_str("text"), sent.get_str("text"));
        assert_eq!(got.get_str("src"), Some("n1"));
        let next = r.next_message(Duration::from_secs(5)).unwrap().expect("the message after it");
        assert_eq!(next.get_str("t"), Some("after"), "order kept");
    }
    // Directed to n2: n2 gets it, n3 only the broadcast after it and
    // never reassembles the other node's message.
    let directed = big_message(1 << 20, 2);
    sender.send(Some("n2"), directed.clone()).unwrap();
    sender.send(None, Message::new().with_str("t", "after2")).unwrap();
    let got = receivers[0].next_message(Duration::from_secs(20)).unwrap().expect("the directed message");
    assert_eq!((got.get_str("tag"), got.get_str("dest")), (Some("2"), Some("n2")));
    assert_eq!(got.get_binary("data"), directed.get_binary("data"));
    let next = receivers[1].next_message(Duration::from_secs(20)).unwrap().expect("the broadcast after it");
    assert_eq!(next.get_str("t"), Some("after2"), "n3 must not get n2's message");
    let reassembled = receivers[1].counters().unwrap().into_iter().find(|(k, _)| k == "reassembled").unwrap().1;
    assert_eq!(reassembled, 1, "n3 reassembled only the broadcast one");
}
