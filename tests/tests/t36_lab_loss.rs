//! Issue 5's loss test (docs/TRANSPORT.md "Loss test"): three lab nodes,
//! 20 % loss injected on every node's link (in and out, so 36 % between
//! two nodes), two senders (n1, n2) each sending `HB_LOSS_MESSAGES`
//! (default 10,000) messages through the client API, every
//! `HB_LOSS_BIG_EVERY`-th (default 2,500th) one of 1 MB. Every other node
//! (n3 both, n1 n2's, n2 n1's) must receive each message exactly once
//! and in order per sender, with the big ones intact.
//!
//! Clients connect from the host to the nodes' API sockets (the nodes'
//! HA_RUNDIR is under the lab root; the test runs as root, which
//! heartbeat lets in).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;
use std::time::{Duration, Instant};

use tests::lab::{LabGuard, LabSpec, Media};
use transport::api::Client;
use transport::wire::{Message, Value};

fn bin_dir() -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "transport", "--bin", "heartbeat", "--bin", "cl_status"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build for heartbeat and cl_status");
        assert!(st.success(), "cargo build of heartbeat/cl_status failed: {st}");
        assert!(nix::unistd::Uid::effective().is_root(), "the lab tests need root (namespaces, nftables)");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_ha-lab")).parent().unwrap().to_path_buf()
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// 1 MB of pseudo-random bytes (incompressible: all of it travels).
fn big_payload(seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn checksum(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn message(sender: &str, i: u64, big_every: u64) -> Message {
    let mut m = Message::new().with_str("t", "losstest").with_str("from", sender).with_str("i", &i.to_string());
    if big_every > 0 && i % big_every == big_every - 1 {
        let data = big_payload(i + if sender == "n1" { 0 } else { 1 << 32 });
        m.push("sum", Value::Str(checksum(&data).to_string()));
        m.push("data", Value::Binary(data));
    }
    m
}

fn connect(lab: &LabGuard, node: &str, name: &str) -> Client {
    let sock = lab.spec.node_dir(node).join("run/heartbeat.sock");
    Client::signon(&sock, name, Duration::from_secs(120)).expect("sign on")
}

/// What one receiver saw from each sender: next index expected, errors.
struct Seen {
    node: String,
    next: std::collections::BTreeMap<String, u64>,
    errors: Vec<String>,
    big: u64,
}

#[test]
fn under_20_percent_loss_every_message_arrives_once_and_in_order() {
    let count = env_or("HB_LOSS_MESSAGES", 10_000);
    let big_every = env_or("HB_LOSS_BIG_EVERY", 2_500);
    let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
    let name = format!("s{}", std::process::id() % 1_000_000);
    let mut spec = LabSpec::new(&name, tmp.path(), 3, 1, &bin_dir());
    spec.media = Media::Ucast;
    // 36 % loss between two nodes: at deadtime 1 s (5 keepalives) a node
    // is falsely declared dead now and then (0.36^5 = 0.6 % a second),
    // and a dead node's missing messages are given up. A deadtime of 15
    // keepalives (0.36^15 = 2e-7) suits such links.
    spec.timing.deadtime_ms = 3_000;
    spec.timing.warntime_ms = 1_500;
    spec.timing.initdead_ms = 6_000;
    let mut lab = LabGuard::create(spec).expect("create the lab");
    for n in ["n1", "n2", "n3"] {
        lab.start(n).unwrap();
    }
    let start = Instant::now();
    let active = |a: &str, b: &str| {
        let o = lab.exec(a, "cl_status", &["nodestatus", b]).unwrap();
        String::from_utf8_lossy(&o.stdout).trim() == "active"
    };
    while !(["n1", "n2", "n3"].iter().all(|a| ["n1", "n2", "n3"].iter().all(|b| active(a, b)))) {
        assert!(start.elapsed() < Duration::from_secs(10), "nodes not all active");
        std::thread::sleep(Duration::from_millis(50));
    }
    for n in ["n1", "n2", "n3"] {
        lab.loss(n, 0, 20).unwrap();
    }

    // Receivers first, each in its own thread.
    let expect: [(&str, &[&str]); 3] = [("n1", &["n2"]), ("n2", &["n1"]), ("n3", &["n1", "n2"])];
    let mut readers = Vec::new();
    for (node, from) in expect {
        let mut c = connect(&lab, node, "lossrecv");
        let from: Vec<String> = from.iter().map(|s| s.to_string()).collect();
        let node = node.to_string();
        readers.push(std::thread::spawn(move || {
            let mut seen = Seen { node, next: from.iter().map(|f| (f.clone(), 0)).collect(), errors: Vec::new(), big: 0 };
            let deadline = Instant::now() + Duration::from_secs(170);
            while seen.next.values().any(|&n| n < count) && seen.errors.len() < 20 {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    seen.errors.push(format!("timed out; got {:?} of {count}", seen.next));
                    break;
                }
                let Some(m) = c.next_message(left).expect("read from heartbeat") else { continue };
                if m.get_str("t") != Some("losstest") {
                    continue;
                }
                let (Some(src), Some(i)) = (m.get_str("from"), m.get_str("i").and_then(|i| i.parse::<u64>().ok())) else {
                    seen.errors.push(format!("malformed {m:?}"));
                    continue;
                };
                let Some(next) = seen.next.get_mut(src) else {
                    seen.errors.push(format!("message from {src} not expected here"));
                    continue;
                };
                if i != *next {
                    seen.errors.push(format!("from {src}: got {i}, expected {next}"));
                }
                *next = i + 1;
                if let Some(sum) = m.get_str("sum") {
                    seen.big += 1;
                    let data = m.get_binary("data").unwrap_or_default();
                    if data.len() != 1 << 20 || checksum(data).to_string() != sum {
                        seen.errors.push(format!("from {src}: big message {i} damaged ({} bytes)", data.len()));
                    }
                }
            }
            seen
        }));
    }
    let senders: Vec<_> = ["n1", "n2"]
        .into_iter()
        .map(|node| {
            let mut c = connect(&lab, node, "losssend");
            let node = node.to_string();
            std::thread::spawn(move || {
                for i in 0..count {
                    c.send(None, message(&node, i, big_every)).expect("send");
                }
            })
        })
        .collect();
    for s in senders {
        s.join().expect("sender");
    }
    let mut failures = Vec::new();
    for r in readers {
        let seen = r.join().expect("reader");
        let bigs = count.checked_div(big_every).unwrap_or(0) * seen.next.len() as u64;
        if seen.big != bigs {
            failures.push(format!("{}: {} big messages, expected {bigs}", seen.node, seen.big));
        }
        failures.extend(seen.errors.iter().map(|e| format!("{}: {e}", seen.node)));
    }
    let took = start.elapsed();
    let mut counters = String::new();
    for n in ["n1", "n2", "n3"] {
        let mut c = connect(&lab, n, "losscount");
        let v = c.counters().unwrap();
        let get = |k: &str| v.iter().find(|(n, _)| n == k).map(|(_, v)| *v).unwrap_or(0);
        counters.push_str(&format!(
            "{n}: lost {} rexmit_requests {} retransmitted {} replayed {} reassembled {} push_dropped {}\n",
            get("lost"),
            get("rexmit_requests"),
            get("retransmitted"),
            get("replayed"),
            get("reassembled"),
            get("push_dropped")
        ));
    }
    eprintln!("{count} messages per sender under 20% loss in {took:?}\n{counters}");
    assert!(failures.is_empty(), "{failures:#?}\n{counters}");
}
