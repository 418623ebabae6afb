//! A deterministic simulation of N ccm cores in one process: a fake clock,
//! a fake heartbeat (node up/dead reports after keepalive/deadtime-like
//! delays), and a fake network with per-message drop and delay, link cuts,
//! partitions, node crashes and restarts. Everything random comes from one
//! seed (splitmix64 below), so a failing seed replays exactly; set
//! `CCM_SIM_TRACE=1` to print every event of a run.
//!
//! Safety invariants are checked after every event (see [`Sim::install`]
//! and [`Sim::check_quorum`]); liveness (convergence) is asked for by the
//! tests with [`Sim::run_until_converged`].
//!
//! Each test file `tNN_*.rs` includes this module with `mod sim;`.

#![allow(dead_code)] // each test file uses part of the harness

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ccm::{Ccm, Command, Config, Destination, Input, Message, NodeStatus, TieBreaker, View};

/// splitmix64: tiny, good enough to drive a simulation, and seedable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (`lo` when the range is empty).
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.next_u64() % (hi - lo)
        }
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
}

/// The shape of one simulated cluster. Times in milliseconds.
#[derive(Debug, Clone)]
pub struct Params {
    /// Nodes that run: n1..nN.
    pub nodes: usize,
    /// Configured nodes (ha.cf `node` lines); at least `nodes`, the extra
    /// ones never run.
    pub configured: usize,
    /// Probability that a ccm message is lost.
    pub drop: f64,
    /// Message delay range; delays vary per message, so messages reorder.
    pub delay: (u64, u64),
    /// Heartbeat declares a peer dead this long after losing it...
    pub deadtime: u64,
    /// ...plus up to this much, independently per observer.
    pub jitter: u64,
    /// Heartbeat reports a peer up after a delay in this range.
    pub up_delay: (u64, u64),
    /// The cores' retry interval.
    pub retry: u64,
    /// Override the two-node rule (default: on for two configured nodes).
    pub two_node: Option<bool>,
    pub tie_breaker: TieBreaker,
    /// Check "no two disjoint quorate views" after every event (never
    /// under the two-node rule, which allows it by design).
    pub check_quorum: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            nodes: 3,
            configured: 3,
            drop: 0.0,
            delay: (1, 20),
            deadtime: 1000,
            jitter: 500,
            up_delay: (50, 500),
            retry: 200,
            two_node: None,
            tie_breaker: TieBreaker::None,
            check_quorum: true,
        }
    }
}

#[derive(Debug)]
enum Event {
    /// A ccm message arrives.
    Deliver { to: usize, from: usize, msg: Message },
    /// A core's timer fires (stale unless still the node's latest request).
    Tick { node: usize, incarnation: u64, at: u64 },
    /// A core's first tick after (re)start.
    Start { node: usize, incarnation: u64 },
    /// Heartbeat on `node` reports `peer` (stale unless `gen` is current).
    Report { node: usize, peer: usize, gen: u64 },
}

struct Node {
    name: String,
    /// None while crashed.
    ccm: Option<Ccm>,
    incarnation: u64,
    /// What `Command::Persist` stored: survives crashes.
    disk: u64,
    /// The last instance installed by any incarnation.
    last_installed: Option<u64>,
    /// The latest timer request.
    timer: Option<u64>,
    /// What heartbeat last told this node's core about each peer.
    reported: Vec<bool>,
    /// Generation of the pending report per peer; bumping it cancels.
    report_gen: Vec<u64>,
}

pub struct Sim {
    pub seed: u64,
    pub params: Params,
    /// The fake clock, in ms.
    pub now: u64,
    rng: Rng,
    nodes: Vec<Node>,
    configured: Vec<String>,
    /// Cut links, as (lower index, higher index).
    cut: BTreeSet<(usize, usize)>,
    queue: BTreeMap<(u64, u64), Event>,
    seq: u64,
    /// Every view installed, by instance: (node, view).
    installs: BTreeMap<u64, Vec<(usize, View)>>,
    trace: bool,
    /// Events processed (a bound against runaway runs).
    pub steps: u64,
}

impl Sim {
    /// A cluster whose running nodes all start now.
    pub fn new(seed: u64, params: Params) -> Sim {
        assert!(params.configured >= params.nodes);
        let configured: Vec<String> = (1..=params.configured).map(|i| format!("n{i}")).collect();
        let n = params.nodes;
        let nodes = (0..n)
            .map(|i| Node {
                name: configured[i].clone(),
                ccm: None,
                incarnation: 0,
                disk: 0,
                last_installed: None,
                timer: None,
                reported: vec![false; n],
                report_gen: vec![0; n],
            })
            .collect();
        let mut sim = Sim {
            seed,
            params,
            now: 0,
            rng: Rng::new(seed),
            nodes,
            configured,
            cut: BTreeSet::new(),
            queue: BTreeMap::new(),
            seq: 0,
            installs: BTreeMap::new(),
            trace: std::env::var_os("CCM_SIM_TRACE").is_some(),
            steps: 0,
        };
        for i in 0..n {
            sim.restart(i);
        }
        sim
    }

    /// The two-node rule is in force: both halves of a split may keep
    /// quorum (by design, fencing decides), so the exclusion check is off.
    pub fn two_node(&self) -> bool {
        self.params.configured == 2 && self.params.two_node.unwrap_or(true)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn name(&self, i: usize) -> &str {
        &self.nodes[i].name
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    pub fn alive(&self, i: usize) -> bool {
        self.nodes[i].ccm.is_some()
    }

    pub fn view(&self, i: usize) -> Option<&View> {
        self.nodes[i].ccm.as_ref().and_then(|c| c.view())
    }

    /// The nodes heartbeat has reported up to node `i`'s core (None if down).
    pub fn up_set(&self, i: usize) -> Option<&BTreeSet<String>> {
        self.nodes[i].ccm.as_ref().map(|c| c.up())
    }

    fn linked(&self, i: usize, j: usize) -> bool {
        i != j && !self.cut.contains(&(i.min(j), i.max(j)))
    }

    /// Heartbeat on `i` should eventually report `j` up.
    fn hears(&self, i: usize, j: usize) -> bool {
        self.alive(i) && self.alive(j) && self.linked(i, j)
    }

    fn schedule(&mut self, at: u64, ev: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), ev);
    }

    fn log(&self, what: impl FnOnce() -> String) {
        if self.trace {
            eprintln!("[seed {} t={}] {}", self.seed, self.now, what());
        }
    }

    /// Re-derives heartbeat's pending report of `j` on `i` after the truth
    /// may have changed: schedule the report, or cancel it if the truth went
    /// back to what was reported (a flap shorter than deadtime goes unseen).
    fn heartbeat_update(&mut self, i: usize, j: usize) {
        if i == j || !self.alive(i) {
            return;
        }
        let truth = self.hears(i, j);
        self.nodes[i].report_gen[j] += 1;
        if truth != self.nodes[i].reported[j] {
            let delay = if truth {
                self.rng.between(self.params.up_delay.0, self.params.up_delay.1)
            } else {
                self.params.deadtime + self.rng.between(0, self.params.jitter + 1)
            };
            let gen = self.nodes[i].report_gen[j];
            self.schedule(self.now + delay, Event::Report { node: i, peer: j, gen });
        }
    }

    fn heartbeat_update_pairs_of(&mut self, i: usize) {
        for j in 0..self.len() {
            self.heartbeat_update(i, j);
            self.heartbeat_update(j, i);
        }
    }

    // ----- faults -----

    /// The node dies: its core and timers are gone, its disk stays.
    pub fn crash(&mut self, i: usize) {
        self.log(|| format!("crash {}", self.nodes[i].name));
        let node = &mut self.nodes[i];
        node.ccm = None;
        node.timer = None;
        node.incarnation += 1;
        self.heartbeat_update_pairs_of(i);
    }

    /// The node (re)starts with what it persisted; heartbeat starts afresh.
    pub fn restart(&mut self, i: usize) {
        let mut config = Config::new(&self.nodes[i].name, self.configured.iter().cloned());
        config.retry = Duration::from_millis(self.params.retry);
        config.quorum.tie_breaker = self.params.tie_breaker;
        if let Some(t) = self.params.two_node {
            config.quorum.two_node = t;
        }
        let n = self.nodes.len();
        let node = &mut self.nodes[i];
        node.incarnation += 1;
        node.ccm = Some(Ccm::new(config, node.disk));
        node.timer = None;
        node.reported = vec![false; n];
        let incarnation = node.incarnation;
        self.log(|| format!("start {} (persisted {})", self.nodes[i].name, self.nodes[i].disk));
        self.heartbeat_update_pairs_of(i);
        let at = self.now + self.rng.between(0, self.params.up_delay.1);
        self.schedule(at, Event::Start { node: i, incarnation });
    }

    pub fn cut(&mut self, i: usize, j: usize) {
        if i != j && self.cut.insert((i.min(j), i.max(j))) {
            self.log(|| format!("cut {} {}", self.nodes[i].name, self.nodes[j].name));
            self.heartbeat_update(i, j);
            self.heartbeat_update(j, i);
        }
    }

    pub fn heal(&mut self, i: usize, j: usize) {
        if self.cut.remove(&(i.min(j), i.max(j))) {
            self.log(|| format!("heal {} {}", self.nodes[i].name, self.nodes[j].name));
            self.heartbeat_update(i, j);
            self.heartbeat_update(j, i);
        }
    }

    /// Cuts every link between different groups (nodes in no group are
    /// isolated) and heals every link inside a group.
    pub fn partition(&mut self, groups: &[Vec<usize>]) {
        let group_of = |i: usize| groups.iter().position(|g| g.contains(&i));
        for i in 0..self.len() {
            for j in i + 1..self.len() {
                match (group_of(i), group_of(j)) {
                    (Some(a), Some(b)) if a == b => self.heal(i, j),
                    _ => self.cut(i, j),
                }
            }
        }
    }

    pub fn heal_all(&mut self) {
        for (i, j) in std::mem::take(&mut self.cut) {
            self.cut.insert((i, j));
            self.heal(i, j);
        }
    }

    pub fn set_connectivity(&mut self, i: usize, up: bool) {
        self.feed(i, Input::Connectivity(up));
    }

    // ----- running -----

    /// Processes events up to and including time `until`.
    pub fn run_until(&mut self, until: u64) {
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > until {
                break;
            }
            let ((at, _), ev) = entry.remove_entry();
            self.now = at;
            self.steps += 1;
            assert!(self.steps < 5_000_000, "seed {}: runaway simulation", self.seed);
            self.process(ev);
            if self.params.check_quorum && !self.two_node() {
                self.check_quorum();
            }
        }
        self.now = until;
    }

    pub fn run_for(&mut self, ms: u64) {
        self.run_until(self.now + ms);
    }

    /// Runs until every alive node's view is the set of alive nodes it is
    /// connected with, all equal within each group; returns the time that
    /// took, or panics after `limit` ms.
    pub fn run_until_converged(&mut self, limit: u64) -> u64 {
        let start = self.now;
        while !self.converged() {
            assert!(
                self.now - start <= limit,
                "seed {}: not converged {} ms after t={}: {}",
                self.seed,
                limit,
                start,
                self.describe()
            );
            self.run_for(10);
        }
        self.now - start
    }

    /// Every alive node is settled and holds the same view as every node it
    /// is connected to, with exactly those nodes as members. Only meaningful when links
    /// among alive nodes form cliques (partitions, not odd single cuts).
    pub fn converged(&self) -> bool {
        (0..self.len()).filter(|&i| self.alive(i)).all(|i| {
            if !self.nodes[i].ccm.as_ref().is_some_and(|c| c.settled()) {
                return false;
            }
            let group: BTreeSet<String> = (0..self.len())
                .filter(|&j| j == i || self.hears(i, j))
                .map(|j| self.nodes[j].name.clone())
                .collect();
            let Some(v) = self.view(i) else { return false };
            v.members == group
                && (0..self.len()).filter(|&j| self.hears(i, j)).all(|j| self.view(j) == Some(v))
        })
    }

    /// Current views, for failure messages.
    pub fn describe(&self) -> String {
        (0..self.len())
            .map(|i| match (&self.nodes[i].ccm, self.view(i)) {
                (None, _) => format!("{}: down", self.nodes[i].name),
                (Some(c), v) => format!(
                    "{}: up={:?} view={}",
                    self.nodes[i].name,
                    c.up(),
                    v.map_or("none".to_owned(), |v| v.to_string())
                ),
            })
            .collect::<Vec<_>>()
            .join("; ")
            + &format!("; cut={:?}", self.cut)
    }

    fn process(&mut self, ev: Event) {
        match ev {
            Event::Deliver { to, from, msg } => {
                // Lost if the receiver is down or the link was cut in flight.
                if self.alive(to) && self.linked(from, to) {
                    let from = self.nodes[from].name.clone();
                    self.feed(to, Input::Received { from, msg });
                }
            }
            Event::Tick { node, incarnation, at } => {
                let n = &mut self.nodes[node];
                if n.incarnation == incarnation && n.timer == Some(at) {
                    n.timer = None;
                    self.feed(node, Input::Tick);
                }
            }
            Event::Start { node, incarnation } => {
                if self.nodes[node].incarnation == incarnation {
                    self.feed(node, Input::Tick);
                }
            }
            Event::Report { node, peer, gen } => {
                if self.alive(node) && self.nodes[node].report_gen[peer] == gen {
                    let up = self.hears(node, peer);
                    self.nodes[node].reported[peer] = up;
                    let status = if up { NodeStatus::Up } else { NodeStatus::Dead };
                    let peer = self.nodes[peer].name.clone();
                    self.feed(node, Input::NodeStatus { node: peer, status });
                }
            }
        }
    }

    /// Hands one input to node `i`'s core and carries out its commands.
    fn feed(&mut self, i: usize, input: Input) {
        let now = Duration::from_millis(self.now);
        self.log(|| format!("{} <- {:?}", self.nodes[i].name, input));
        let Some(ccm) = self.nodes[i].ccm.as_mut() else { return };
        let commands = ccm.handle(input, now);
        for c in commands {
            self.log(|| format!("{} -> {:?}", self.nodes[i].name, c));
            match c {
                Command::Persist { instance } => {
                    assert!(
                        instance > self.nodes[i].disk,
                        "seed {}: {} persisted {} after {}",
                        self.seed,
                        self.nodes[i].name,
                        instance,
                        self.nodes[i].disk
                    );
                    self.nodes[i].disk = instance;
                }
                Command::Send { to, msg } => match to {
                    Destination::Node(name) => {
                        let j = self.nodes.iter().position(|n| n.name == name).expect("known node");
                        self.send(i, j, msg);
                    }
                    Destination::All => {
                        for j in 0..self.len() {
                            if j != i {
                                self.send(i, j, msg.clone());
                            }
                        }
                    }
                },
                Command::Install(view) => self.install(i, view),
                Command::Timer { at } => {
                    let at = at.as_millis() as u64;
                    self.nodes[i].timer = Some(at);
                    let incarnation = self.nodes[i].incarnation;
                    self.schedule(at, Event::Tick { node: i, incarnation, at });
                }
            }
        }
    }

    fn send(&mut self, from: usize, to: usize, msg: Message) {
        if !self.linked(from, to) || self.rng.chance(self.params.drop) {
            return;
        }
        // Through heartbeat's name=value form, as the daemon will send it.
        let fields = msg.to_fields();
        let msg = Message::from_fields(|name| fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()))
            .expect("every message the core sends decodes");
        let at = self.now + self.rng.between(self.params.delay.0, self.params.delay.1 + 1);
        self.schedule(at, Event::Deliver { to, from, msg });
    }

    /// Checks, at every install: the node is a member; its instances only
    /// increase, across restarts too; and every other install of the same
    /// instance by a node whose member list overlaps is the same view.
    fn install(&mut self, i: usize, view: View) {
        let seed = self.seed;
        let name = self.nodes[i].name.clone();
        assert!(view.members.contains(&name), "seed {seed}: {name} installed a view without itself: {view}");
        if let Some(last) = self.nodes[i].last_installed {
            assert!(view.instance > last, "seed {seed}: {name} installed {view} after instance {last}");
        }
        self.nodes[i].last_installed = Some(view.instance);
        let same = self.installs.entry(view.instance).or_default();
        for (j, other) in same.iter() {
            if !other.members.is_disjoint(&view.members) {
                assert_eq!(
                    other, &view,
                    "seed {seed}: {name} and {} disagree on instance {}",
                    self.nodes[*j].name, view.instance
                );
            }
        }
        same.push((i, view));
    }

    /// No two quorate views held at once by alive nodes are disjoint.
    fn check_quorum(&self) {
        let quorate: Vec<(usize, &View)> =
            (0..self.len()).filter_map(|i| self.view(i).map(|v| (i, v))).filter(|(_, v)| v.quorum).collect();
        for (a, (i, v)) in quorate.iter().enumerate() {
            for (j, w) in &quorate[a + 1..] {
                assert!(
                    !v.members.is_disjoint(&w.members),
                    "seed {}: t={} {} holds {v} and {} holds {w}: two partitions with quorum",
                    self.seed,
                    self.now,
                    self.nodes[*i].name,
                    self.nodes[*j].name
                );
            }
        }
    }

    /// The members' configured votes are more than half the configured
    /// nodes (what quorum must be outside ties).
    pub fn majority(&self, members: &BTreeSet<String>) -> bool {
        2 * members.iter().filter(|m| self.configured.contains(m)).count() > self.configured.len()
    }

    pub fn alive_names(&self) -> BTreeSet<String> {
        (0..self.len()).filter(|&i| self.alive(i)).map(|i| self.nodes[i].name.clone()).collect()
    }
}

/// Seeds to run: `CCM_SIM_SEEDS` (default 200), from `CCM_SIM_FIRST_SEED`.
pub fn seeds() -> std::ops::Range<u64> {
    let n = std::env::var("CCM_SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    let first = std::env::var("CCM_SIM_FIRST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    first..first + n
}
