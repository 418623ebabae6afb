//! The messaging core without I/O: `handle(input, now) -> Vec<Command>`.
//!
//! ```text
//! authenticated packets, timer ticks, client sends
//!        |
//!        v
//!   Engine::handle --> Send(message)          (shell signs it, all media)
//!                      Deliver(message)       (local clients, in order per sender)
//!                      NodeStatus / LinkStatus (client events)
//!                      Log(level, text)       (Heartbeat's words)
//! ```
//!
//! Liveness follows Heartbeat 3.0.6: a node is heard through any link; a
//! link is dead after `deadtime` without a packet on it ("Link n2:eth1
//! dead."), a node when no packet came on any link for `deadtime` ("node
//! n2: is dead"). A keepalive arriving more than `warntime` after the
//! previous one logs "Late heartbeat". Nodes never heard from are declared
//! dead `initdead` after start. Sequencing is in [`crate::sequence`].
//!
//! Control messages (`NS_rexmit`, `NS_nak_rexmit`, `NS_ackmsg`) carry no
//! sequence number and never refresh liveness, so a replayed one costs at
//! most a retransmission.
//!
//! Flow control (ours, on Heartbeat's acks): client messages wait in an
//! outbox while this node is more than `send_window` sequence numbers
//! ahead of what the slowest live peer acknowledged, so a receiver can
//! always get a lost message retransmitted from the history (which holds
//! `window` > `send_window` messages). Keepalives and control messages
//! never wait. A peer whose acknowledgements stop advancing for deadtime
//! while it holds the window back is left out until it acknowledges again
//! (it would otherwise stall the cluster until declared dead). Large
//! client messages go as fragments ([`crate::fragment`]).
//!
//! For Heartbeat 3.0.6 peers (docs/TRANSPORT.md, Interoperability) the
//! core also acknowledges every sender (`NS_ackmsg`, or a real node's
//! history fills and it pauses its clients) and answers a starting node's
//! `reqnodes` with `repnodes` (or it never declares its communication up).

use std::collections::{BTreeMap, VecDeque};

use uuid::Uuid;

use crate::compress::Algorithm;
use crate::fragment::{self, Fragment, Reassembler};

use crate::sequence::{Arrival, RecvWindow, SendHistory};
use crate::status::Status;
use crate::wire::{Message, Value};

/// Retransmission request: `dest`, `firstseq`, `lastseq` (hex).
pub const T_REXMIT: &str = "NS_rexmit";
/// "I no longer have those": the receiver gives them up at once.
pub const T_NAK_REXMIT: &str = "NS_nak_rexmit";
/// Flow-control acknowledgement: `dest`, `ackseq` (hex), "I have
/// everything you sent up to here". Heartbeat 3.0.6 keeps every message
/// in its history until all live nodes acknowledged it; without acks its
/// queue fills ("Message hist queue is filling up") and it pauses its
/// clients.
pub const T_ACKMSG: &str = "NS_ackmsg";
/// A starting Heartbeat asks one peer for the node list (sequenced,
/// `dest` set); it declares its communication up ("Comm_now_up") and
/// becomes `active` only when the `repnodes` answer comes.
pub const T_REQNODES: &str = "reqnodes";
/// The answer: `nodelist` and `delnodelist`, names each followed by a
/// space (`"n1 n2 "`, and `" "` for no deleted node), as captured.
pub const T_REPNODES: &str = "repnodes";
/// Acknowledge a sender every this many in-order messages (Heartbeat's
/// ACK_MSG_DIV: the captures show one ack per 10 sequence numbers).
pub const ACK_EVERY: u64 = 10;
/// A live peer whose acknowledgement has not advanced for this many
/// deadtimes while it holds the send window is no longer waited for
/// (under heavy loss a gap can take a few deadtimes to fill).
pub const FLOW_PATIENCE_DEADTIMES: u64 = 10;
/// Missing runs asked for in one round of retransmission requests.
pub const MAX_RUNS_PER_REQUEST: usize = 64;

/// Times and sizes the core works with (from ha.cf).
#[derive(Debug, Clone)]
pub struct Config {
    pub me: String,
    pub uuid: Uuid,
    pub generation: u64,
    /// Configured normal nodes (this one may be among them).
    pub nodes: Vec<String>,
    /// Link names (the media's device names), in ha.cf order, deduplicated.
    pub links: Vec<String>,
    pub keepalive_ms: u64,
    pub deadtime_ms: u64,
    pub warntime_ms: u64,
    pub initdead_ms: u64,
    /// Messages kept for retransmission, and sequence numbers a receiver
    /// waits for before declaring them lost.
    pub window: u64,
    /// Retransmission requests per gap before its messages are given up.
    pub max_rexmit_requests: u32,
    /// Ping pseudo-nodes (`ping ADDR`: one address, named by it;
    /// `ping_group NAME ADDR...`: up while any address answers).
    pub ping_nodes: Vec<PingNode>,
    /// How long a ping node may stay silent (`deadping`).
    pub deadping_ms: u64,
    /// How often an unfilled gap is asked for again.
    pub rexmit_interval_ms: u64,
    /// How far ahead of the slowest live peer's acknowledgement client
    /// messages may go (must stay below `window`).
    pub send_window: u64,
    /// Compression of fragmented bodies over `compression_threshold`
    /// bytes (ha.cf `compression`, `compression_threshold`).
    pub compression: Option<Algorithm>,
    pub compression_threshold: usize,
}

/// A `ping` or `ping_group` pseudo-node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingNode {
    pub name: String,
    pub hosts: Vec<String>,
}

/// A ping node's state: `init` until initdead, `ping` while answering,
/// `dead` after deadping without an answer.
#[derive(Debug, Clone)]
struct PingState {
    status: &'static str,
    last: Option<u64>,
    /// Per address: last answer, up.
    hosts: BTreeMap<String, Link>,
}

/// The clock, read by the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Monotonic milliseconds (only differences matter).
    pub mono_ms: u64,
    /// Wall-clock Unix seconds, for the `ts` field.
    pub unix_s: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Timer: send a keepalive if due, check deadlines. `load` is the
    /// `ld` field of the keepalive (/proc/loadavg).
    Tick { load: String },
    /// An ICMP echo reply from a ping address.
    PingReply { host: String },
    /// An authenticated message received on `link`.
    Packet { link: String, message: Message },
    /// A local client's message for `dest` (a node name) or all nodes.
    Send { dest: Option<String>, message: Message },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Sign and send on every medium.
    Send(Message),
    /// Hand to local clients.
    Deliver(Message),
    /// A node's status changed (`active`, `up`, `dead`...).
    NodeStatus { node: String, status: String },
    /// A link to a node changed (`up` or `dead`).
    LinkStatus { node: String, link: String, up: bool },
    /// Send an ICMP echo request to a ping address (every keepalive).
    Ping(String),
    Log(Level, String),
}

/// Packets dropped by the core, by reason (the shell adds its own
/// counters for what never reached the core).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub unknown_node: u64,
    pub no_sequence: u64,
    pub replayed: u64,
    pub old_generation: u64,
    pub lost: u64,
    pub rexmit_requests: u64,
    pub retransmitted: u64,
    /// Large messages sent as fragments / reassembled / dropped partial.
    pub fragmented: u64,
    pub reassembled: u64,
    pub frag_dropped: u64,
}

#[derive(Debug, Clone)]
struct Link {
    up: bool,
    last: u64,
}

#[derive(Debug, Clone)]
struct Peer {
    /// Heartbeat's node status: `init` until heard, then the sender's own
    /// `st`, or `dead`.
    status: String,
    /// Last time any sequenced packet came from it.
    last_heard: Option<u64>,
    /// Arrival time of its last keepalive, for "Late heartbeat".
    last_status: Option<u64>,
    links: BTreeMap<String, Link>,
    recv: RecvWindow,
    /// A gap being asked for: its first sequence number, when last
    /// requested, how many times.
    rexmit: Option<(u64, u64, u32)>,
    /// Its uuid (from `srcuuid`), for `destuuid` on messages to it.
    uuid: Option<Vec<u8>>,
    /// `(generation, seq)` last acknowledged with `NS_ackmsg`.
    acked: Option<(u64, u64)>,
    /// When we last sent it an ack.
    acked_at: u64,
    /// Flow control: the highest of our sequence numbers it acknowledged,
    /// and our last sequence number when it came up (it cannot ack what
    /// it never saw before that).
    acks_us: u64,
    flow_base: u64,
    /// When its acknowledgement last advanced.
    ack_progress_at: u64,
    /// Left out of flow control (not acknowledging).
    flow_ignored: bool,
}

/// One node's view of the cluster.
#[derive(Debug, Clone)]
pub struct Engine {
    cfg: Config,
    started: u64,
    next_seq: u64,
    next_keepalive: u64,
    history: SendHistory,
    peers: BTreeMap<String, Peer>,
    pings: BTreeMap<String, PingState>,
    /// Client messages (or fragments) waiting for the send window.
    outbox: VecDeque<Message>,
    reassembly: Reassembler,
    pub counters: Counters,
}

fn hex(m: &Message, name: &str) -> Option<u64> {
    let s = m.get_str(name)?;
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

fn is_up(status: &str) -> bool {
    !matches!(status, "init" | "dead")
}

impl Engine {
    pub fn new(cfg: Config, now: Now) -> Engine {
        let peers = cfg
            .nodes
            .iter()
            .filter(|n| **n != cfg.me)
            .map(|n| {
                let links = cfg.links.iter().map(|l| (l.clone(), Link { up: false, last: 0 })).collect();
                let peer = Peer {
                    status: "init".into(),
                    last_heard: None,
                    last_status: None,
                    links,
                    recv: RecvWindow::new(cfg.window),
                    rexmit: None,
                    uuid: None,
                    acked: None,
                    acked_at: 0,
                    acks_us: 0,
                    flow_base: 0,
                    ack_progress_at: 0,
                    flow_ignored: false,
                };
                (n.clone(), peer)
            })
            .collect();
        let pings = cfg
            .ping_nodes
            .iter()
            .map(|p| {
                let hosts = p.hosts.iter().map(|h| (h.clone(), Link { up: false, last: 0 })).collect();
                (p.name.clone(), PingState { status: "init", last: None, hosts })
            })
            .collect();
        Engine {
            pings,
            history: SendHistory::new(cfg.window as usize),
            cfg,
            started: now.mono_ms,
            next_seq: 1,
            next_keepalive: now.mono_ms,
            peers,
            outbox: VecDeque::new(),
            reassembly: Reassembler::default(),
            counters: Counters::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Every node's status, this one (`active`) included, sorted by name.
    pub fn node_status(&self, node: &str) -> Option<&str> {
        if node == self.cfg.me {
            return Some("active");
        }
        if let Some(p) = self.pings.get(node) {
            return Some(p.status);
        }
        self.peers.get(node).map(|p| p.status.as_str())
    }

    /// `normal` or `ping` (Heartbeat's node types), `None` if unknown.
    pub fn node_type(&self, node: &str) -> Option<&'static str> {
        if self.pings.contains_key(node) {
            Some("ping")
        } else if node == self.cfg.me || self.peers.contains_key(node) {
            Some("normal")
        } else {
            None
        }
    }

    /// The nodes in ha.cf order, then the ping nodes (Heartbeat lists
    /// both; `cl_status listnodes -n/-p` filters by type).
    pub fn nodes(&self) -> Vec<String> {
        self.cfg.nodes.iter().chain(self.cfg.ping_nodes.iter().map(|p| &p.name)).cloned().collect()
    }

    /// Whether `node` is a normal cluster node (messages can go to it).
    pub fn is_cluster_node(&self, node: &str) -> bool {
        node == self.cfg.me || self.peers.contains_key(node)
    }

    /// `(link, up)` for a node; this node's own links are up while open.
    pub fn link_status(&self, node: &str) -> Option<Vec<(String, bool)>> {
        if node == self.cfg.me {
            return Some(self.cfg.links.iter().map(|l| (l.clone(), true)).collect());
        }
        if let Some(p) = self.pings.get(node) {
            // A ping node's links are its addresses, as in Heartbeat.
            return Some(p.hosts.iter().map(|(h, l)| (h.clone(), l.up)).collect());
        }
        let p = self.peers.get(node)?;
        Some(self.cfg.links.iter().map(|l| (l.clone(), p.links.get(l).is_some_and(|k| k.up))).collect())
    }

    /// How often the shell should send [`Input::Tick`]: deadlines are
    /// only noticed on a tick, so detection lags `deadtime` by at most
    /// this much.
    pub fn tick_interval_ms(&self) -> u64 {
        (self.cfg.keepalive_ms / 4).clamp(10, 250)
    }

    pub fn handle(&mut self, input: Input, now: Now) -> Vec<Command> {
        let mut out = Vec::new();
        match input {
            Input::Tick { load } => self.tick(&load, now, &mut out),
            Input::PingReply { host } => self.ping_reply(&host, now, &mut out),
            Input::Packet { link, message } => self.packet(&link, message, now, &mut out),
            Input::Send { dest, mut message } => {
                if let Some(d) = dest {
                    message.remove("dest");
                    message.push("dest", Value::Str(d));
                }
                self.queue(message);
                self.flush(now, &mut out);
            }
        }
        out
    }

    /// Client messages (or fragments of them) waiting for the window.
    pub fn backlog(&self) -> usize {
        self.outbox.len()
    }

    /// A client message into the outbox, fragmented when large.
    fn queue(&mut self, mut m: Message) {
        let size = m.to_netstring().map(|b| b.len()).unwrap_or(0);
        if size <= fragment::FRAGMENT_ABOVE {
            self.outbox.push_back(m);
            return;
        }
        // The receivers deliver the reassembled message itself: it names
        // its sender.
        m.remove("src");
        m.push("src", Value::Str(self.cfg.me.clone()));
        match fragment::split(&m, self.cfg.compression, self.cfg.compression_threshold) {
            Ok(frags) => {
                self.counters.fragmented += 1;
                self.outbox.extend(frags);
            }
            Err(e) => self.outbox.push_back(Message::new().with_str("t", "error").with_str("reason", &e.to_string())),
        }
    }

    /// Our last sequence number.
    fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Whether the slowest live, acknowledging peer lets us send one more.
    fn window_open(&mut self, now: Now, out: &mut Vec<Command>) -> bool {
        let last = self.last_seq();
        let mut open = true;
        for (name, p) in &mut self.peers {
            if !is_up(&p.status) || p.flow_ignored {
                continue;
            }
            let floor = p.acks_us.max(p.flow_base);
            if last.saturating_sub(floor) < self.cfg.send_window {
                continue;
            }
            let patience = FLOW_PATIENCE_DEADTIMES * self.cfg.deadtime_ms;
            if now.mono_ms > p.ack_progress_at + patience {
                p.flow_ignored = true;
                out.push(Command::Log(
                    Level::Warn,
                    format!("node {name}: no acknowledgement for {patience} ms; not waiting for it"),
                ));
                continue;
            }
            open = false;
        }
        open
    }

    fn flush(&mut self, now: Now, out: &mut Vec<Command>) {
        while !self.outbox.is_empty() && self.window_open(now, out) {
            let m = self.outbox.pop_front().expect("not empty");
            self.send_sequenced(m, now, out);
        }
    }

    /// Adds `destuuid` (when `dest` names a node heard from, as
    /// Heartbeat does), `src`, `srcuuid`, `seq`, `hg`, `ts`, `ttl`, keeps a
    /// copy for retransmission and sends.
    fn send_sequenced(&mut self, mut m: Message, now: Now, out: &mut Vec<Command>) {
        for f in ["destuuid", "src", "srcuuid", "seq", "hg", "ts", "ttl"] {
            m.remove(f);
        }
        if let Some(uuid) = m.get_str("dest").and_then(|d| self.peers.get(d)).and_then(|p| p.uuid.clone()) {
            m.push("destuuid", Value::Binary(uuid));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        m.push("src", Value::Str(self.cfg.me.clone()));
        m.push("srcuuid", Value::Binary(self.cfg.uuid.as_bytes().to_vec()));
        m.push("seq", Value::Str(format!("{seq:x}")));
        m.push("hg", Value::Str(format!("{:x}", self.cfg.generation)));
        m.push("ts", Value::Str(format!("{:x}", now.unix_s)));
        m.push("ttl", Value::Str("3".into()));
        self.history.push(seq, m.clone());
        out.push(Command::Send(m));
    }

    fn control(&self, t: &str, dest: &str, first: u64, last: u64, now: Now) -> Message {
        Message::new()
            .with_str("t", t)
            .with_str("dest", dest)
            .with_str("firstseq", &format!("{first:x}"))
            .with_str("lastseq", &format!("{last:x}"))
            .with_str("src", &self.cfg.me)
            .with("srcuuid", Value::Binary(self.cfg.uuid.as_bytes().to_vec()))
            .with_str("hg", &format!("{:x}", self.cfg.generation))
            .with_str("ts", &format!("{:x}", now.unix_s))
            .with_str("ttl", "3")
    }

    /// `NS_ackmsg` for `node` up to `seq`, in the captured field order:
    /// `t dest ackseq destuuid src srcuuid hg ts ttl` (no `seq`: NS_
    /// messages are unsequenced).
    fn ack(&self, node: &str, seq: u64, now: Now) -> Message {
        let mut m = Message::new().with_str("t", T_ACKMSG).with_str("dest", node).with_str("ackseq", &format!("{seq:x}"));
        if let Some(uuid) = self.peers.get(node).and_then(|p| p.uuid.clone()) {
            m.push("destuuid", Value::Binary(uuid));
        }
        m.with_str("src", &self.cfg.me)
            .with("srcuuid", Value::Binary(self.cfg.uuid.as_bytes().to_vec()))
            .with_str("hg", &format!("{:x}", self.cfg.generation))
            .with_str("ts", &format!("{:x}", now.unix_s))
            .with_str("ttl", "3")
    }

    /// Acknowledges `node` once ACK_EVERY more of its messages are in
    /// order with no gap (Heartbeat acks only below its first missing
    /// message, so the sender keeps what we still lack).
    /// `progress`: also when fewer than ACK_EVERY are new, if the last ack
    /// is a keepalive old (called from the timer).
    fn maybe_ack(&mut self, node: &str, progress: bool, now: Now, out: &mut Vec<Command>) {
        let Some(p) = self.peers.get(node) else { return };
        let Some(hg) = p.recv.generation() else { return };
        if !is_up(&p.status) {
            return;
        }
        // Everything up to `delivered` is in (the first missing message
        // is after it), so the sender may forget it.
        let upto = p.recv.delivered();
        let due = match p.acked {
            Some((g, s)) if g == hg => {
                upto >= s + ACK_EVERY || (progress && upto > s && now.mono_ms >= p.acked_at + self.cfg.keepalive_ms)
            }
            _ => upto > 0,
        };
        if due {
            let m = self.ack(node, upto, now);
            let p = self.peers.get_mut(node).expect("checked above");
            p.acked = Some((hg, upto));
            p.acked_at = now.mono_ms;
            out.push(Command::Send(m));
        }
    }

    /// Heartbeat-internal sequenced messages: `reqnodes` for us is
    /// answered with the node list; neither goes to local clients.
    fn internal(&mut self, src: &str, ready: Vec<Message>, now: Now, out: &mut Vec<Command>) -> Vec<Message> {
        let mut rest = Vec::with_capacity(ready.len());
        for m in ready {
            match m.get_str("t") {
                Some(T_REQNODES) => {
                    if m.get_str("dest") == Some(self.cfg.me.as_str()) {
                        let nodelist: String = self.cfg.nodes.iter().map(|n| format!("{n} ")).collect();
                        let reply = Message::new()
                            .with_str("dest", src)
                            .with_str("t", T_REPNODES)
                            .with_str("nodelist", &nodelist)
                            .with_str("delnodelist", " ");
                        self.send_sequenced(reply, now, out);
                    }
                }
                Some(T_REPNODES) => {}
                // Fragments of a message for another node are not kept.
                Some(fragment::T_FRAG) if m.get_str("dest").is_some_and(|d| d != self.cfg.me) => {}
                Some(fragment::T_FRAG) => match self.reassembly.accept(src, &m) {
                    Fragment::Pending => {}
                    Fragment::Complete(whole) => {
                        self.counters.reassembled += 1;
                        rest.push(whole);
                    }
                    Fragment::Dropped(why) => {
                        self.counters.frag_dropped += 1;
                        out.push(Command::Log(Level::Warn, format!("node {src}: partial large message dropped: {why:?}")));
                    }
                },
                _ => rest.push(m),
            }
        }
        rest
    }

    /// This node is stopping: a last keepalive with `st=dead` so the
    /// others mark it dead at once instead of after `deadtime`.
    pub fn leave(&mut self, now: Now) -> Vec<Command> {
        let mut out = Vec::new();
        let m = self.status_message("dead", "", now);
        self.send_sequenced(m, now, &mut out);
        out
    }

    fn status_message(&self, st: &str, load: &str, now: Now) -> Message {
        Status {
            st: st.into(),
            deadtime_ms: self.cfg.deadtime_ms,
            protocol: 1,
            src: self.cfg.me.clone(),
            srcuuid: self.cfg.uuid,
            seq: 0,
            generation: self.cfg.generation,
            timestamp: now.unix_s,
            load: load.to_string(),
            ttl: 3,
        }
        .to_message()
    }

    fn tick(&mut self, load: &str, now: Now, out: &mut Vec<Command>) {
        let t = now.mono_ms;
        if t >= self.next_keepalive {
            let status = self.status_message("active", load, now);
            self.send_sequenced(status, now, out);
            // Skip missed beats rather than bursting after a stall.
            while self.next_keepalive <= t {
                self.next_keepalive += self.cfg.keepalive_ms.max(1);
            }
            for p in &self.cfg.ping_nodes {
                out.extend(p.hosts.iter().map(|h| Command::Ping(h.clone())));
            }
        }
        self.ping_deadlines(now, out);
        self.flush(now, out);
        // Acknowledge progress not yet acknowledged, at most once a
        // keepalive (the every-tenth rule alone would leave the last
        // messages of a burst unacknowledged).
        let names: Vec<String> = self.peers.keys().cloned().collect();
        for n in names {
            self.maybe_ack(&n, true, now, out);
        }
        let deadtime = self.cfg.deadtime_ms;
        let initdead_over = t >= self.started + self.cfg.initdead_ms;
        let mut requests = Vec::new();
        let mut gave_up = Vec::new();
        for (name, p) in &mut self.peers {
            for (lname, l) in &mut p.links {
                if l.up && t > l.last + deadtime {
                    l.up = false;
                    out.push(Command::Log(Level::Info, format!("Link {name}:{lname} dead.")));
                    out.push(Command::LinkStatus { node: name.clone(), link: lname.clone(), up: false });
                }
            }
            let expired = match p.last_heard {
                Some(h) => is_up(&p.status) && t > h + deadtime,
                None => p.status == "init" && initdead_over,
            };
            if expired {
                p.status = "dead".into();
                p.recv.reset_after_death();
                let skipped = p.recv.take_skipped();
                if skipped > 0 {
                    self.counters.lost += skipped;
                    out.push(Command::Log(Level::Warn, format!("{skipped} lost packet(s) for [{name}] (declared dead)")));
                }
                self.reassembly.forget(name);
                p.rexmit = None;
                out.push(Command::Log(Level::Warn, format!("node {name}: is dead")));
                out.push(Command::NodeStatus { node: name.clone(), status: "dead".into() });
            }
            // Retransmission: ask for every missing run at once, again
            // every rexmit interval while the first gap is not filled,
            // and give it up after max_rexmit_requests.
            if let Some(gap) = p.recv.gap() {
                let (asked_at, times) = match p.rexmit {
                    Some((first, at, n)) if first == gap.first => (at, n),
                    _ => (0, 0),
                };
                if times > 0 && t < asked_at + self.cfg.rexmit_interval_ms {
                    continue;
                }
                if times >= self.cfg.max_rexmit_requests {
                    p.rexmit = None;
                    if let Some(((a, b, n), ready)) = p.recv.give_up_gap() {
                        self.counters.lost += n;
                        out.push(Command::Log(Level::Warn, format!("{n} lost packet(s) for [{name}] [{a}:{b}]")));
                        gave_up.push((name.clone(), ready));
                    }
                } else {
                    p.rexmit = Some((gap.first, t, times + 1));
                    requests.extend(p.recv.gaps(MAX_RUNS_PER_REQUEST).into_iter().map(|g| (name.clone(), g)));
                }
            }
        }
        for (name, ready) in gave_up {
            self.deliver_from(&name, ready, now, out);
        }
        for (name, gap) in requests {
            self.counters.rexmit_requests += 1;
            let m = self.control(T_REXMIT, &name, gap.first, gap.last, now);
            out.push(Command::Send(m));
        }
    }

    fn ping_reply(&mut self, host: &str, now: Now, out: &mut Vec<Command>) {
        let t = now.mono_ms;
        for (name, p) in &mut self.pings {
            let Some(l) = p.hosts.get_mut(host) else { continue };
            l.last = t;
            if !l.up {
                l.up = true;
                out.push(Command::Log(Level::Info, format!("Link {name}:{host} up.")));
                out.push(Command::LinkStatus { node: name.clone(), link: host.to_string(), up: true });
            }
            p.last = Some(t);
            if p.status != "ping" {
                p.status = "ping";
                out.push(Command::Log(Level::Info, format!("Status update for node {name}: status ping")));
                out.push(Command::NodeStatus { node: name.clone(), status: "ping".into() });
            }
        }
    }

    /// Ping nodes silent for deadping are dead (links per address);
    /// never heard, dead once initdead is over.
    fn ping_deadlines(&mut self, now: Now, out: &mut Vec<Command>) {
        let t = now.mono_ms;
        let deadping = self.cfg.deadping_ms;
        let initdead_over = t >= self.started + self.cfg.initdead_ms;
        for (name, p) in &mut self.pings {
            for (host, l) in &mut p.hosts {
                if l.up && t > l.last + deadping {
                    l.up = false;
                    out.push(Command::Log(Level::Info, format!("Link {name}:{host} dead.")));
                    out.push(Command::LinkStatus { node: name.clone(), link: host.clone(), up: false });
                }
            }
            let expired = match p.last {
                Some(h) => p.status == "ping" && t > h + deadping,
                None => p.status == "init" && initdead_over,
            };
            if expired {
                p.status = "dead";
                out.push(Command::Log(Level::Warn, format!("node {name}: is dead")));
                out.push(Command::NodeStatus { node: name.clone(), status: "dead".into() });
            }
        }
    }

    fn packet(&mut self, link: &str, m: Message, now: Now, out: &mut Vec<Command>) {
        let Some(src) = m.get_str("src").map(str::to_string) else {
            self.counters.no_sequence += 1;
            return;
        };
        if src == self.cfg.me {
            return; // our own broadcast coming back
        }
        if !self.peers.contains_key(&src) {
            self.counters.unknown_node += 1;
            return;
        }
        let t = m.get_str("t").unwrap_or("").to_string();
        let (Some(hg), seq) = (hex(&m, "hg"), hex(&m, "seq")) else {
            self.counters.no_sequence += 1;
            return;
        };
        let Some(seq) = seq else {
            // Control messages: only from the sender's current generation.
            if self.peers[&src].recv.generation() != Some(hg) {
                self.counters.old_generation += 1;
                return;
            }
            if m.get_str("dest") == Some(self.cfg.me.as_str()) {
                self.control_message(&src, &t, &m, now, out);
            }
            return;
        };
        let peer = self.peers.get_mut(&src).expect("checked above");
        let restarted = peer.recv.generation().is_some_and(|g| hg > g);
        let status_msg = if t == "status" { Status::from_message(&m).ok() } else { None };
        let m_uuid = m.get_binary("srcuuid").filter(|u| u.len() == 16).map(<[u8]>::to_vec);
        let arrival = peer.recv.arrive(hg, seq, link, m);
        let skipped = peer.recv.take_skipped();
        if skipped > 0 {
            self.counters.lost += skipped;
            out.push(Command::Log(Level::Warn, format!("{skipped} lost packet(s) for [{src}] (beyond the window)")));
        }
        let is_new = matches!(arrival, Arrival::New { .. });
        let ready = match arrival {
            Arrival::OldGeneration => {
                self.counters.old_generation += 1;
                return;
            }
            Arrival::Replay => {
                self.counters.replayed += 1;
                return;
            }
            Arrival::OtherLink => Vec::new(),
            Arrival::New { ready } => ready,
        };
        if restarted {
            peer.rexmit = None;
            // Its receive window starts again where it hears us now.
            peer.acks_us = 0;
            peer.flow_base = self.next_seq - 1;
            peer.ack_progress_at = now.mono_ms;
            self.reassembly.forget(&src);
            out.push(Command::Log(Level::Info, format!("node {src}: restarted with generation {hg}")));
        }
        if let Some(u) = m_uuid {
            peer.uuid = Some(u);
        }
        let t_ms = now.mono_ms;
        peer.last_heard = Some(t_ms);
        let l = peer.links.entry(link.to_string()).or_insert(Link { up: false, last: 0 });
        l.last = t_ms;
        if !l.up {
            l.up = true;
            out.push(Command::Log(Level::Info, format!("Link {src}:{link} up.")));
            out.push(Command::LinkStatus { node: src.clone(), link: link.to_string(), up: true });
        }
        if let Some(st) = status_msg.filter(|_| is_new) {
            if let Some(prev) = peer.last_status {
                let interval = t_ms - prev;
                if interval > self.cfg.warntime_ms && is_up(&peer.status) {
                    out.push(Command::Log(
                        Level::Warn,
                        format!("Late heartbeat: Node {src}: interval {interval} ms"),
                    ));
                }
            }
            peer.last_status = Some(t_ms);
            if peer.status != st.st {
                if !is_up(&peer.status) && is_up(&st.st) {
                    peer.acks_us = 0;
                    peer.flow_base = self.next_seq - 1;
                    peer.ack_progress_at = t_ms;
                    peer.flow_ignored = false;
                }
                if st.st == "dead" {
                    out.push(Command::Log(Level::Info, format!("Received shutdown notice from '{src}'.")));
                }
                peer.status = st.st.clone();
                out.push(Command::Log(Level::Info, format!("Status update for node {src}: status {}", st.st)));
                out.push(Command::NodeStatus { node: src.clone(), status: st.st });
            }
        }
        self.deliver_from(&src, ready, now, out);
        if is_new {
            self.maybe_ack(&src, false, now, out);
        }
    }

    /// In-order messages from `src`: heartbeat's own handled here,
    /// fragments reassembled, the rest to the clients.
    fn deliver_from(&mut self, src: &str, ready: Vec<Message>, now: Now, out: &mut Vec<Command>) {
        let ready = self.internal(src, ready, now, out);
        deliver(&self.cfg.me, ready, out);
    }

    fn control_message(&mut self, src: &str, t: &str, m: &Message, now: Now, out: &mut Vec<Command>) {
        if t == T_ACKMSG {
            let last = self.last_seq();
            if let (Some(ack), Some(p)) = (hex(m, "ackseq"), self.peers.get_mut(src)) {
                // An ack past what we sent is from an earlier run of ours.
                if ack <= last && ack > p.acks_us {
                    p.acks_us = ack;
                    p.ack_progress_at = now.mono_ms;
                    if p.flow_ignored {
                        p.flow_ignored = false;
                        out.push(Command::Log(Level::Info, format!("node {src}: acknowledging again")));
                    }
                }
            }
            self.flush(now, out);
            return;
        }
        let (Some(first), Some(last)) = (hex(m, "firstseq"), hex(m, "lastseq")) else { return };
        match t {
            T_REXMIT => {
                // Bounded by the history size whatever the request says.
                let last = last.min(first.saturating_add(self.cfg.window));
                let mut missing = None;
                for s in first..=last {
                    match self.history.get(s) {
                        Some(msg) => {
                            self.counters.retransmitted += 1;
                            out.push(Command::Send(msg.clone()));
                        }
                        None => {
                            missing.get_or_insert((s, s)).1 = s;
                        }
                    }
                }
                if let Some((a, b)) = missing {
                    out.push(Command::Send(self.control(T_NAK_REXMIT, src, a, b, now)));
                }
            }
            T_NAK_REXMIT => {
                let Some(p) = self.peers.get_mut(src) else { return };
                if p.recv.gap().is_some_and(|g| g.first <= last && first <= g.last) {
                    p.rexmit = None;
                    if let Some(((a, b, n), ready)) = p.recv.give_up_gap() {
                        self.counters.lost += n;
                        out.push(Command::Log(Level::Warn, format!("{n} lost packet(s) for [{src}] [{a}:{b}]")));
                        self.deliver_from(src, ready, now, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// In-order messages for local clients: keepalives stay inside, messages
/// for another node are not ours.
fn deliver(me: &str, ready: Vec<Message>, out: &mut Vec<Command>) {
    for m in ready {
        if m.get_str("t") == Some("status") {
            continue;
        }
        if m.get_str("dest").is_some_and(|d| d != me) {
            continue;
        }
        out.push(Command::Deliver(m));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N2: &str = "n2";

    fn cfg() -> Config {
        Config {
            me: "n1".into(),
            uuid: Uuid::from_bytes([1; 16]),
            generation: 100,
            nodes: vec!["n1".into(), "n2".into()],
            links: vec!["eth0".into(), "eth1".into()],
            keepalive_ms: 200,
            deadtime_ms: 1000,
            warntime_ms: 500,
            initdead_ms: 3000,
            window: 8,
            max_rexmit_requests: 2,
            ping_nodes: vec![],
            deadping_ms: 1000,
            rexmit_interval_ms: 200,
            send_window: 6,
            compression: Some(Algorithm::Zlib),
            compression_threshold: 2048,
        }
    }

    fn at(ms: u64) -> Now {
        Now { mono_ms: ms, unix_s: 1_700_000_000 + ms / 1000 }
    }

    fn tick() -> Input {
        Input::Tick { load: "0.00".into() }
    }

    /// A message from n2 as its engine would have sent it.
    fn from_n2(t: &str, seq: u64, hg: u64) -> Message {
        let mut m = Message::new().with_str("t", t);
        if t == "status" {
            m = Message::new()
                .with_str("t", "status")
                .with_str("st", "active")
                .with_str("dt", "3e8")
                .with_str("protocol", "1")
                .with_str("src", N2)
                .with("srcuuid", Value::Binary(vec![2; 16]))
                .with_str("seq", &format!("{seq:x}"))
                .with_str("hg", &format!("{hg:x}"))
                .with_str("ts", "0")
                .with_str("ld", "0.00")
                .with_str("ttl", "3");
        } else {
            m.push("src", Value::Str(N2.into()));
            m.push("seq", Value::Str(format!("{seq:x}")));
            m.push("hg", Value::Str(format!("{hg:x}")));
        }
        m
    }

    fn pkt(link: &str, m: Message) -> Input {
        Input::Packet { link: link.into(), message: m }
    }

    fn logs(cmds: &[Command]) -> Vec<String> {
        cmds.iter()
            .filter_map(|c| match c {
                Command::Log(_, s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    fn sent(cmds: &[Command]) -> Vec<&Message> {
        cmds.iter()
            .filter_map(|c| match c {
                Command::Send(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    /// The ack n1 sends n2, field by field as in the captures.
    fn ack_to_n2(seq: u64, now: Now) -> Message {
        Message::new()
            .with_str("t", "NS_ackmsg")
            .with_str("dest", N2)
            .with_str("ackseq", &format!("{seq:x}"))
            .with("destuuid", Value::Binary(vec![2; 16]))
            .with_str("src", "n1")
            .with("srcuuid", Value::Binary(cfg().uuid.as_bytes().to_vec()))
            .with_str("hg", "64")
            .with_str("ts", &format!("{:x}", now.unix_s))
            .with_str("ttl", "3")
    }

    fn acks(cmds: &[Command]) -> Vec<String> {
        sent(cmds)
            .into_iter()
            .filter(|m| m.get_str("t") == Some(T_ACKMSG))
            .map(|m| format!("{}:{}", m.get_str("dest").unwrap(), m.get_str("ackseq").unwrap()))
            .collect()
    }

    #[test]
    fn acks_the_first_message_then_every_tenth_in_order_and_none_over_a_gap() {
        let mut e = Engine::new(cfg(), at(0));
        let mut got = Vec::new();
        for seq in 1..=21 {
            got.extend(acks(&e.handle(pkt("eth0", from_n2("status", seq, 7)), at(seq * 10))));
        }
        assert_eq!(got, ["n2:1", "n2:b", "n2:15"]);
        // 30 late: nothing is acknowledged past 29 until it is filled.
        let mut got = Vec::new();
        for seq in (22..=29).chain([31, 32]) {
            got.extend(acks(&e.handle(pkt("eth0", from_n2("status", seq, 7)), at(seq * 10))));
        }
        assert!(got.is_empty(), "{got:?}");
        let c = e.handle(pkt("eth0", from_n2("status", 30, 7)), at(400));
        assert_eq!(acks(&c), ["n2:20"]);
        // A restart (higher generation) acknowledges its first message.
        let c = e.handle(pkt("eth0", from_n2("status", 1, 8)), at(500));
        assert_eq!(acks(&c), ["n2:1"]);
    }

    #[test]
    fn reqnodes_is_answered_with_the_node_list_and_kept_from_clients() {
        let mut e = Engine::new(cfg(), at(0));
        e.handle(pkt("eth0", from_n2("status", 1, 7)), at(10));
        let mut req = from_n2("reqnodes", 2, 7);
        req.push("dest", Value::Str("n1".into()));
        let c = e.handle(pkt("eth0", req), at(20));
        assert!(!c.iter().any(|c| matches!(c, Command::Deliver(_))), "{c:?}");
        let rep: Vec<&Message> = sent(&c).into_iter().filter(|m| m.get_str("t") == Some(T_REPNODES)).collect();
        assert_eq!(rep.len(), 1, "{c:?}");
        let names: Vec<&str> = rep[0].fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["dest", "t", "nodelist", "delnodelist", "destuuid", "src", "srcuuid", "seq", "hg", "ts", "ttl"]);
        assert_eq!(rep[0].get_str("nodelist"), Some("n1 n2 "));
        assert_eq!(rep[0].get_str("delnodelist"), Some(" "));
        assert_eq!(rep[0].get_binary("destuuid"), Some(&[2u8; 16][..]));
        // Our own repnodes from n2 (or one for another node) is not delivered either.
        let mut rep2 = from_n2("repnodes", 3, 7);
        rep2.push("dest", Value::Str("n1".into()));
        let c = e.handle(pkt("eth0", rep2), at(30));
        assert!(!c.iter().any(|c| matches!(c, Command::Deliver(_) | Command::Send(_))), "{c:?}");
    }

    #[test]
    fn keepalive_every_interval_with_sequence_and_generation() {
        let mut e = Engine::new(cfg(), at(0));
        let c = e.handle(tick(), at(0));
        assert_eq!(c.len(), 1);
        let m = sent(&c)[0];
        let st = Status::from_message(m).unwrap();
        assert_eq!((st.src.as_str(), st.seq, st.generation, st.deadtime_ms), ("n1", 1, 100, 1000));
        assert!(e.handle(tick(), at(150)).is_empty());
        let c = e.handle(tick(), at(200));
        assert_eq!(Status::from_message(sent(&c)[0]).unwrap().seq, 2);
    }

    #[test]
    fn node_and_links_come_up_then_die() {
        let mut e = Engine::new(cfg(), at(0));
        e.handle(tick(), at(0));
        let c = e.handle(pkt("eth0", from_n2("status", 1, 7)), at(10));
        assert_eq!(
            c,
            vec![
                Command::Log(Level::Info, "Link n2:eth0 up.".into()),
                Command::LinkStatus { node: N2.into(), link: "eth0".into(), up: true },
                Command::Log(Level::Info, "Status update for node n2: status active".into()),
                Command::NodeStatus { node: N2.into(), status: "active".into() },
                Command::Send(ack_to_n2(1, at(10))),
            ]
        );
        // The same packet on the second medium brings that link up only.
        let c = e.handle(pkt("eth1", from_n2("status", 1, 7)), at(11));
        assert_eq!(logs(&c), ["Link n2:eth1 up."]);
        // eth1 goes quiet; eth0 keeps the node up.
        let c = e.handle(pkt("eth0", from_n2("status", 2, 7)), at(400));
        assert!(c.is_empty(), "{c:?}");
        let c = e.handle(tick(), at(1012));
        assert_eq!(logs(&c), ["Link n2:eth1 dead."]);
        assert_eq!(e.node_status(N2), Some("active"));
        assert_eq!(e.link_status(N2).unwrap(), vec![("eth0".to_string(), true), ("eth1".to_string(), false)]);
        // Then everything goes quiet: dead after deadtime.
        let c = e.handle(tick(), at(1400));
        assert!(logs(&c).is_empty());
        let c = e.handle(tick(), at(1401));
        assert_eq!(logs(&c), ["Link n2:eth0 dead.", "node n2: is dead"]);
        assert!(c.contains(&Command::NodeStatus { node: N2.into(), status: "dead".into() }));
    }

    #[test]
    fn late_heartbeat_warning() {
        let mut e = Engine::new(cfg(), at(0));
        e.handle(pkt("eth0", from_n2("status", 1, 7)), at(0));
        let c = e.handle(pkt("eth0", from_n2("status", 2, 7)), at(400));
        assert!(logs(&c).is_empty());
        let c = e.handle(pkt("eth0", from_n2("status", 3, 7)), at(1000));
        assert_eq!(logs(&c), ["Late heartbeat: Node n2: interval 600 ms"]);
    }

    #[test]
    fn leaving_node_announces_it_and_peers_mark_it_dead_at_once() {
        let mut n2 = Engine::new(Config { me: N2.into(), ..cfg() }, at(0));
        let bye = sent(&n2.leave(at(5)))[0].clone();
        assert_eq!(Status::from_message(&bye).unwrap().st, "dead");
        let mut e = Engine::new(cfg(), at(0));
        e.handle(pkt("eth0", from_n2("status", 1, 7)), at(0));
        let mut bye = bye;
        bye.remove("hg");
        bye.push("hg", Value::Str("7".into()));
        bye.remove("seq");
        bye.push("seq", Value::Str("2".into()));
        let c = e.handle(pkt("eth0", bye), at(10));
        assert_eq!(logs(&c), ["Received shutdown notice from 'n2'.", "Status update for node n2: status dead"]);
        assert_eq!(e.node_status(N2), Some("dead"));
        // No second "is dead" when the deadline passes.
        assert!(!logs(&e.handle(tick(), at(5000))).iter().any(|l| l.contains("is dead")));
    }

    #[test]
    fn initdead_declares_silent_nodes_dead() {
        let mut e = Engine::new(cfg(), at(0));
        assert_eq!(e.node_status(N2), Some("init"));
        assert!(logs(&e.handle(tick(), at(2999))).is_empty());
        assert_eq!(logs(&e.handle(tick(), at(3000))), ["node n2: is dead"]);
        assert_eq!(e.node_status(N2), Some("dead"));
    }

    #[test]
    fn replays_and_old_generations_are_counted_and_do_not_keep_a_node_alive() {
        let mut e = Engine::new(cfg(), at(0));
        e.handle(pkt("eth0", from_n2("status", 5, 7)), at(0));
        for t in [300, 600, 900, 1000] {
            assert!(e.handle(pkt("eth0", from_n2("status", 5, 7)), at(t)).is_empty());
        }
        assert!(e.handle(pkt("eth0", from_n2("status", 9, 6)), at(1000)).is_empty());
        assert_eq!((e.counters.replayed, e.counters.old_generation), (4, 1));
        assert_eq!(logs(&e.handle(tick(), at(1001))), ["Link n2:eth0 dead.", "node n2: is dead"]);
    }

    #[test]
    fn restart_with_higher_generation_comes_back() {
        let mut e = Engine::new(cfg(), at(0));
        e.handle(pkt("eth0", from_n2("status", 40, 7)), at(0));
        e.handle(tick(), at(1001));
        assert_eq!(e.node_status(N2), Some("dead"));
        let c = e.handle(pkt("eth0", from_n2("status", 1, 8)), at(1500));
        assert_eq!(
            logs(&c),
            ["node n2: restarted with generation 8", "Link n2:eth0 up.", "Status update for node n2: status active"]
        );
    }

    #[test]
    fn gap_requests_retransmission_and_delivers_in_order() {
        let mut e = Engine::new(cfg(), at(0));
        e.handle(tick(), at(0));
        let c = e.handle(pkt("eth0", from_n2("app", 1, 7)), at(1));
        assert_eq!(c.iter().filter(|c| matches!(c, Command::Deliver(_))).count(), 1);
        // 2 and 3 lost; 4 is held.
        let c = e.handle(pkt("eth0", from_n2("app", 4, 7)), at(2));
        assert!(!c.iter().any(|c| matches!(c, Command::Deliver(_))));
        let c = e.handle(tick(), at(3));
        let req = sent(&c);
        assert_eq!(req.len(), 1);
        assert_eq!(req[0].get_str("t"), Some(T_REXMIT));
        assert_eq!(req[0].get_str("dest"), Some(N2));
        assert_eq!((req[0].get_str("firstseq"), req[0].get_str("lastseq")), (Some("2"), Some("3")));
        assert_eq!(e.counters.rexmit_requests, 1);
        // Retransmissions arrive: 2, 3, 4 delivered in order.
        e.handle(pkt("eth0", from_n2("app", 3, 7)), at(4));
        let c = e.handle(pkt("eth0", from_n2("app", 2, 7)), at(5));
        let seqs: Vec<_> = c
            .iter()
            .filter_map(|c| match c {
                Command::Deliver(m) => m.get_str("seq").map(str::to_string),
                _ => None,
            })
            .collect();
        assert_eq!(seqs, ["2", "3", "4"]);
    }

    #[test]
    fn unfilled_gap_is_given_up_with_heartbeats_warning() {
        let mut e = Engine::new(cfg(), at(0));
        e.handle(tick(), at(0));
        e.handle(pkt("eth0", from_n2("app", 124, 7)), at(1));
        e.handle(pkt("eth0", from_n2("app", 126, 7)), at(2));
        assert_eq!(sent(&e.handle(tick(), at(3))).len(), 1); // request 1
        assert!(sent(&e.handle(tick(), at(100))).is_empty()); // not yet again
        assert_eq!(sent(&e.handle(tick(), at(203))).len(), 2); // keepalive + request 2
        let c = e.handle(tick(), at(403));
        assert!(logs(&c).contains(&"1 lost packet(s) for [n2] [124:126]".to_string()), "{c:?}");
        assert!(c.iter().any(|c| matches!(c, Command::Deliver(m) if m.get_str("seq") == Some("7e"))));
        assert_eq!(e.counters.lost, 1);
    }

    #[test]
    fn answers_retransmission_requests_from_history_and_naks_the_rest() {
        let mut e = Engine::new(cfg(), at(0));
        for i in 0..10 {
            e.handle(Input::Send { dest: None, message: Message::new().with_str("t", "app") }, at(i));
        }
        // Window 8: seqs 3..=10 kept.
        e.handle(pkt("eth0", from_n2("status", 1, 7)), at(20));
        let req = Message::new()
            .with_str("t", T_REXMIT)
            .with_str("dest", "n1")
            .with_str("firstseq", "1")
            .with_str("lastseq", "4")
            .with_str("src", N2)
            .with_str("hg", "7");
        let c = e.handle(pkt("eth0", req), at(21));
        let s = sent(&c);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].get_str("seq"), Some("3"));
        assert_eq!(s[1].get_str("seq"), Some("4"));
        assert_eq!(s[2].get_str("t"), Some(T_NAK_REXMIT));
        assert_eq!((s[2].get_str("firstseq"), s[2].get_str("lastseq")), (Some("1"), Some("2")));
    }

    #[test]
    fn directed_messages_and_unknown_nodes() {
        let mut e = Engine::new(cfg(), at(0));
        let c = e.handle(Input::Send { dest: Some(N2.into()), message: Message::new().with_str("t", "x") }, at(0));
        assert_eq!(sent(&c)[0].get_str("dest"), Some(N2));
        let mut other = from_n2("x", 1, 7);
        other.push("dest", Value::Str("n3".into()));
        assert!(e.handle(pkt("eth0", other), at(1)).iter().all(|c| !matches!(c, Command::Deliver(_))));
        let mut stranger = Message::new().with_str("t", "status").with_str("src", "n9");
        stranger.push("seq", Value::Str("1".into()));
        assert!(e.handle(pkt("eth0", stranger), at(2)).is_empty());
        assert_eq!(e.counters.unknown_node, 1);
    }

    #[test]
    fn ping_nodes_are_ping_while_answering_and_dead_after_deadping() {
        let mut c = cfg();
        c.ping_nodes = vec![
            PingNode { name: "10.0.0.254".into(), hosts: vec!["10.0.0.254".into()] },
            PingNode { name: "routers".into(), hosts: vec!["10.0.0.1".into(), "10.0.0.2".into()] },
        ];
        let mut e = Engine::new(c, at(0));
        assert_eq!(e.node_type("routers"), Some("ping"));
        assert_eq!(e.node_type("n2"), Some("normal"));
        assert_eq!(e.node_type("x"), None);
        assert_eq!(e.nodes(), ["n1", "n2", "10.0.0.254", "routers"]);
        assert_eq!(e.node_status("routers"), Some("init"));
        // Every keepalive: one echo per address.
        let pings: Vec<_> = e.handle(tick(), at(0)).into_iter().filter(|c| matches!(c, Command::Ping(_))).collect();
        assert_eq!(
            pings,
            [Command::Ping("10.0.0.254".into()), Command::Ping("10.0.0.1".into()), Command::Ping("10.0.0.2".into())]
        );
        let out = e.handle(Input::PingReply { host: "10.0.0.2".into() }, at(50));
        assert_eq!(
            out,
            [
                Command::Log(Level::Info, "Link routers:10.0.0.2 up.".into()),
                Command::LinkStatus { node: "routers".into(), link: "10.0.0.2".into(), up: true },
                Command::Log(Level::Info, "Status update for node routers: status ping".into()),
                Command::NodeStatus { node: "routers".into(), status: "ping".into() },
            ]
        );
        assert_eq!(e.link_status("routers").unwrap(), [("10.0.0.1".into(), false), ("10.0.0.2".into(), true)]);
        // Another member keeps the group up while the first goes quiet.
        e.handle(Input::PingReply { host: "10.0.0.1".into() }, at(900));
        let out = e.handle(tick(), at(1100));
        assert!(logs(&out).contains(&"Link routers:10.0.0.2 dead.".to_string()), "{out:?}");
        assert_eq!(e.node_status("routers"), Some("ping"));
        // Silent for deadping: dead.
        let out = e.handle(tick(), at(1901));
        assert!(out.contains(&Command::NodeStatus { node: "routers".into(), status: "dead".into() }), "{out:?}");
        assert_eq!(e.node_status("routers"), Some("dead"));
        // The never-answering one is dead once initdead is over.
        assert_eq!(e.node_status("10.0.0.254"), Some("init"));
        let out = e.handle(tick(), at(3000));
        assert!(logs(&out).contains(&"node 10.0.0.254: is dead".to_string()), "{out:?}");
        let out = e.handle(Input::PingReply { host: "10.0.0.1".into() }, at(3100));
        assert!(out.contains(&Command::NodeStatus { node: "routers".into(), status: "ping".into() }));
    }

    fn ack_from_n2(seq: u64) -> Message {
        Message::new()
            .with_str("t", T_ACKMSG)
            .with_str("dest", "n1")
            .with_str("ackseq", &format!("{seq:x}"))
            .with_str("src", N2)
            .with_str("hg", "7")
    }

    fn app(i: u64) -> Input {
        Input::Send { dest: None, message: Message::new().with_str("t", "app").with_str("i", &i.to_string()) }
    }

    #[test]
    fn client_messages_wait_for_the_slowest_live_peers_acknowledgement() {
        let mut e = Engine::new(cfg(), at(0));
        e.handle(tick(), at(0)); // keepalive: seq 1
        e.handle(pkt("eth0", from_n2("status", 1, 7)), at(1)); // n2 active, base 1
        let mut sent_apps = 0;
        for i in 0..10 {
            sent_apps += sent(&e.handle(app(i), at(2))).iter().filter(|m| m.get_str("t") == Some("app")).count();
        }
        // Window 6 beyond n2's base (seq 1): seqs 2..=7.
        assert_eq!(sent_apps, 6);
        assert_eq!(e.backlog(), 4);
        // n2 acknowledges up to 4: three more go, in order.
        let c = e.handle(pkt("eth0", ack_from_n2(4)), at(3));
        let is: Vec<_> = sent(&c).iter().filter_map(|m| m.get_str("i").map(str::to_string)).collect();
        assert_eq!(is, ["6", "7", "8"]);
        assert_eq!(e.backlog(), 1);
        // An ack beyond what we sent (an earlier run of ours) is ignored.
        assert!(sent(&e.handle(pkt("eth0", ack_from_n2(999)), at(4))).is_empty());
        // n2 keeps sending keepalives but never acknowledges: after ten
        // deadtimes it is no longer waited for.
        for k in 2..=51 {
            e.handle(pkt("eth0", from_n2("status", k, 7)), at(k * 200));
        }
        let c = e.handle(tick(), at(10_004));
        assert!(logs(&c).contains(&"node n2: no acknowledgement for 10000 ms; not waiting for it".to_string()), "{c:?}");
        assert_eq!(e.backlog(), 0);
        // A dead peer holds nothing back either.
        let mut e = Engine::new(cfg(), at(0));
        for i in 0..10 {
            e.handle(app(i), at(1));
        }
        assert_eq!(e.backlog(), 0);
    }

    #[test]
    fn a_large_message_travels_as_fragments_and_arrives_whole_once() {
        let mut c1 = cfg();
        c1.send_window = 400;
        c1.window = 500;
        let mut n1 = Engine::new(c1, at(0));
        let mut c2 = cfg();
        c2.me = N2.into();
        c2.uuid = Uuid::from_bytes([2; 16]);
        c2.generation = 7;
        c2.window = 500;
        let mut n2 = Engine::new(c2, at(0));
        let mut x: u64 = 88_172_645_463_325_252;
        let data: Vec<u8> = (0..200_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect();
        let big = Message::new().with_str("t", "cib_sync").with("data", Value::Binary(data));
        let out = n1.handle(Input::Send { dest: None, message: big.clone() }, at(1));
        let frags = sent(&out);
        assert!(frags.len() > 100 && frags.iter().all(|m| m.get_str("t") == Some(fragment::T_FRAG)), "{}", frags.len());
        assert_eq!(n1.counters.fragmented, 1);
        // Lose every seventh fragment; the receiver asks and gets them.
        let mut delivered = Vec::new();
        let mut pending: Vec<Message> = frags.iter().enumerate().filter(|(i, _)| i % 7 != 3).map(|(_, m)| (*m).clone()).collect();
        for round in 0..5 {
            let mut back = Vec::new();
            for m in pending.drain(..) {
                for c in n2.handle(pkt("eth0", m), at(10 + round * 300)) {
                    match c {
                        Command::Deliver(m) => delivered.push(m),
                        Command::Send(m) => back.push(m),
                        _ => {}
                    }
                }
            }
            for c in n2.handle(tick(), at(10 + round * 300 + 1)) {
                if let Command::Send(m) = c {
                    back.push(m);
                }
            }
            for m in back {
                for c in n1.handle(pkt("eth0", m), at(10 + round * 300 + 2)) {
                    if let Command::Send(m) = c {
                        if m.get_str("seq").is_some() && m.get_str("t") != Some("status") {
                            pending.push(m);
                        }
                    }
                }
            }
        }
        assert_eq!(delivered.len(), 1, "exactly once");
        let got = &delivered[0];
        assert_eq!(got.get_str("src"), Some("n1"));
        assert_eq!(got.get_binary("data"), big.get_binary("data"));
        assert_eq!(n2.counters.reassembled, 1);
        assert_eq!(n2.counters.lost, 0);
    }
}
