//! A deterministic simulation of N controller cores in one process: a fake
//! clock, a fake ccm (views follow the partitions, each node learns of a
//! new view after its own delay), a fake network with per-message drop and
//! delay (so messages reorder), partitions, crashes and restarts, and fake
//! pengine/tengine that answer after a delay. Everything random comes from
//! one seed (splitmix64), so a failing seed replays exactly; set
//! `CRMD_SIM_TRACE=1` to print every command of a run.
//!
//! Each test file `tNN_*.rs` includes this module with `mod sim;` and
//! checks one invariant.

#![allow(dead_code)] // each test file uses part of the harness

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ccm::View;
use crmd::{Command, Config, Controller, Destination, Event, Message, Phase, State, Timer};

/// splitmix64: tiny, seedable, good enough to drive a simulation.
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
        p > 0.0 && ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// The seeds a test runs: `CRMD_SIM_SEEDS` (default 200) from
/// `CRMD_SIM_FIRST_SEED` (default 0).
pub fn seeds() -> std::ops::Range<u64> {
    let n = std::env::var("CRMD_SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    let first = std::env::var("CRMD_SIM_FIRST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    first..first + n
}

/// The shape of one simulated cluster. Times in milliseconds.
#[derive(Debug, Clone)]
pub struct Params {
    pub nodes: usize,
    /// Probability that a controller message is lost.
    pub drop: f64,
    /// Message delay range.
    pub delay: (u64, u64),
    /// How long after a membership change each node learns of it.
    pub view_delay: (u64, u64),
    /// pengine's and tengine's answer delays.
    pub pe_delay: (u64, u64),
    pub te_delay: (u64, u64),
    /// Chance, per executed transition, that it ends incomplete.
    pub te_fail: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            nodes: 3,
            drop: 0.0,
            delay: (1, 30),
            view_delay: (20, 400),
            pe_delay: (5, 50),
            te_delay: (10, 300),
            te_fail: 0.05,
        }
    }
}

#[derive(Debug)]
enum Ev {
    Deliver { to: usize, from: usize, msg: Message },
    Timer { node: usize, inc: u64, timer: Timer, gen: u64 },
    View { node: usize, inc: u64, view: View },
    Pe { node: usize, inc: u64, id: u64 },
    Te { node: usize, inc: u64, id: u64, complete: bool },
    Start { node: usize, inc: u64 },
}

struct Node {
    name: String,
    /// None while down.
    ctl: Option<Controller>,
    /// Bumped at each crash and restart: events for an older incarnation
    /// are dropped.
    inc: u64,
    /// Generation of each armed timer (a re-arm or cancel bumps it).
    timers: BTreeMap<Timer, u64>,
    gen: u64,
    /// When this node's latest view is due (views arrive in order).
    last_view_at: u64,
}

pub struct Sim {
    pub seed: u64,
    pub params: Params,
    /// The fake clock, in ms.
    pub now: u64,
    rng: Rng,
    nodes: Vec<Node>,
    /// Partition group of each node; nodes talk only within a group.
    group: Vec<usize>,
    queue: BTreeMap<(u64, u64), Ev>,
    seq: u64,
    /// The last membership instance handed out.
    instance: u64,
    trace: bool,
    pub steps: u64,
}

impl Sim {
    /// A cluster whose nodes start at random times within the first 2 s.
    pub fn new(seed: u64, params: Params) -> Sim {
        let n = params.nodes;
        let nodes = (0..n)
            .map(|i| Node { name: format!("n{}", i + 1), ctl: None, inc: 0, timers: BTreeMap::new(), gen: 0, last_view_at: 0 })
            .collect();
        let mut sim = Sim {
            seed,
            params,
            now: 0,
            rng: Rng::new(seed),
            nodes,
            group: vec![0; n],
            queue: BTreeMap::new(),
            seq: 0,
            instance: 0,
            trace: std::env::var_os("CRMD_SIM_TRACE").is_some(),
            steps: 0,
        };
        for i in 0..n {
            let at = sim.rng.between(0, 2000);
            let inc = sim.nodes[i].inc;
            sim.push(at, Ev::Start { node: i, inc });
        }
        sim
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    pub fn alive(&self, i: usize) -> bool {
        self.nodes[i].ctl.is_some()
    }

    pub fn state(&self, i: usize) -> Option<State> {
        self.nodes[i].ctl.as_ref().map(|c| c.state())
    }

    pub fn name(&self, i: usize) -> &str {
        &self.nodes[i].name
    }

    /// The nodes that act as DC now.
    pub fn dcs(&self) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.state(i).is_some_and(|s| s.is_dc())).collect()
    }

    fn push(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.queue.insert((at, self.seq), ev);
    }

    /// Crash a node: it stops at once; the others see a new view.
    pub fn crash(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        node.ctl = None;
        node.inc += 1;
        node.timers.clear();
        self.membership_changed();
    }

    /// Start a crashed node again (a new daemon, uptime 0).
    pub fn restart(&mut self, i: usize) {
        assert!(!self.alive(i));
        let inc = self.nodes[i].inc;
        self.push(self.now, Ev::Start { node: i, inc });
    }

    /// Split the cluster into `groups` (nodes not listed form one more).
    pub fn partition(&mut self, groups: &[Vec<usize>]) {
        let rest = groups.len();
        self.group = vec![rest; self.len()];
        for (g, members) in groups.iter().enumerate() {
            for &i in members {
                self.group[i] = g;
            }
        }
        self.membership_changed();
    }

    pub fn heal(&mut self) {
        self.group = vec![0; self.len()];
        self.membership_changed();
    }

    /// The groups of running nodes that can talk to each other.
    pub fn components(&self) -> Vec<Vec<usize>> {
        let mut by_group: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in 0..self.len() {
            if self.alive(i) {
                by_group.entry(self.group[i]).or_default().push(i);
            }
        }
        by_group.into_values().collect()
    }

    /// The fake ccm: each component gets a new view, delivered to each of
    /// its members after that member's own delay.
    fn membership_changed(&mut self) {
        let n = self.len();
        for comp in self.components() {
            self.instance += 1;
            let members: BTreeSet<String> = comp.iter().map(|&i| self.nodes[i].name.clone()).collect();
            let view = View {
                instance: self.instance,
                leader: members.iter().next().cloned().unwrap(),
                quorum: 2 * members.len() > n,
                members,
            };
            for &i in &comp {
                let (lo, hi) = self.params.view_delay;
                // ccm hands a node its views in order.
                let at = (self.now + self.rng.between(lo, hi)).max(self.nodes[i].last_view_at);
                self.nodes[i].last_view_at = at;
                let inc = self.nodes[i].inc;
                self.push(at, Ev::View { node: i, inc, view: view.clone() });
            }
        }
    }

    /// Process events up to `until` (ms), calling `check` after each.
    pub fn run_until_with(&mut self, until: u64, mut check: impl FnMut(&Sim)) {
        while let Some((&(at, seq), _)) = self.queue.iter().next() {
            if at > until {
                break;
            }
            let ev = self.queue.remove(&(at, seq)).unwrap();
            self.now = at;
            self.steps += 1;
            assert!(self.steps < 5_000_000, "seed {}: runaway simulation", self.seed);
            self.step(ev);
            check(self);
        }
        self.now = self.now.max(until);
    }

    pub fn run_for(&mut self, ms: u64) {
        self.run_until_with(self.now + ms, |_| {});
    }

    /// Run until [`Sim::converged`]; returns the time it took. Panics with
    /// the cluster's description after `limit` ms.
    pub fn run_until_converged(&mut self, limit: u64) -> u64 {
        let start = self.now;
        while !self.converged() {
            assert!(
                self.now - start < limit,
                "seed {}: not converged after {limit} ms:\n{}",
                self.seed,
                self.describe()
            );
            self.run_for(50);
        }
        self.now - start
    }

    /// Every component of running nodes has exactly one DC, idle, that
    /// every other member has joined (and that knows they joined), and
    /// everyone holds the component's view.
    pub fn converged(&self) -> bool {
        let components = self.components();
        if components.is_empty() {
            return false;
        }
        for comp in components {
            let members: BTreeSet<String> = comp.iter().map(|&i| self.nodes[i].name.clone()).collect();
            let ctls: Vec<&Controller> = comp.iter().map(|&i| self.nodes[i].ctl.as_ref().unwrap()).collect();
            if !ctls.iter().all(|c| c.view().is_some_and(|v| v.members == members)) {
                return false;
            }
            let dcs: Vec<&&Controller> = ctls.iter().filter(|c| c.state().is_dc()).collect();
            let [dc] = dcs[..] else { return false };
            if dc.state() != State::Idle {
                return false;
            }
            for c in &ctls {
                if c.name() == dc.name() {
                    continue;
                }
                if c.state() != State::NotDc || c.dc() != Some(dc.name()) || dc.join_phase(c.name()) != Phase::Confirmed
                {
                    return false;
                }
            }
        }
        true
    }

    /// At most one DC among the running members of each component that
    /// hold the same view instance.
    pub fn at_most_one_dc_per_view(&self) -> Result<(), String> {
        let mut by_instance: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
        for i in self.dcs() {
            let c = self.nodes[i].ctl.as_ref().unwrap();
            let inst = c.view().map(|v| v.instance).unwrap_or(0);
            by_instance.entry(inst).or_default().push(c.name());
        }
        for (inst, dcs) in by_instance {
            if dcs.len() > 1 {
                return Err(format!("view instance {inst} has DCs {dcs:?}"));
            }
        }
        Ok(())
    }

    pub fn describe(&self) -> String {
        let mut out = format!("t={} ms, groups {:?}\n", self.now, self.group);
        for n in &self.nodes {
            match &n.ctl {
                None => out.push_str(&format!("  {}: down\n", n.name)),
                Some(c) => out.push_str(&format!(
                    "  {}: {} dc={:?} view={}\n",
                    n.name,
                    c.state(),
                    c.dc(),
                    c.view().map(|v| v.to_string()).unwrap_or_default()
                )),
            }
        }
        out
    }

    fn step(&mut self, ev: Ev) {
        let now = Duration::from_millis(self.now);
        let (node, event) = match ev {
            Ev::Start { node, inc } => {
                if inc != self.nodes[node].inc || self.alive(node) {
                    return;
                }
                let name = self.nodes[node].name.clone();
                let mut config = Config::new(name);
                config.election_timeout = Duration::from_millis(2000);
                config.dc_deadtime = Duration::from_millis(5000);
                config.join_timeout = Duration::from_millis(3000);
                self.nodes[node].ctl = Some(Controller::new(config, now));
                self.membership_changed();
                return;
            }
            Ev::Deliver { to, from, msg } => {
                // Lost if either end went down or the link was cut meanwhile.
                if !self.alive(to) || !self.alive(from) || self.group[to] != self.group[from] {
                    return;
                }
                (to, Event::Message { from: self.nodes[from].name.clone(), msg })
            }
            Ev::Timer { node, inc, timer, gen } => {
                if inc != self.nodes[node].inc || self.nodes[node].timers.get(&timer) != Some(&gen) {
                    return;
                }
                self.nodes[node].timers.remove(&timer);
                (node, Event::Timer(timer))
            }
            Ev::View { node, inc, view } => {
                if inc != self.nodes[node].inc {
                    return;
                }
                (node, Event::Membership(view))
            }
            Ev::Pe { node, inc, id } => {
                if inc != self.nodes[node].inc {
                    return;
                }
                (node, Event::TransitionComputed { id })
            }
            Ev::Te { node, inc, id, complete } => {
                if inc != self.nodes[node].inc {
                    return;
                }
                (node, Event::TransitionFinished { id, complete })
            }
        };
        if self.trace {
            eprintln!("{:>7} {} <- {:?}", self.now, self.nodes[node].name, event);
        }
        let Some(ctl) = self.nodes[node].ctl.as_mut() else { return };
        let cmds = ctl.handle(event, now);
        for cmd in cmds {
            self.execute(node, cmd);
        }
    }

    fn execute(&mut self, node: usize, cmd: Command) {
        if self.trace {
            eprintln!("{:>7} {} -> {:?}", self.now, self.nodes[node].name, cmd);
        }
        let inc = self.nodes[node].inc;
        match cmd {
            Command::Send { to, msg } => {
                let targets: Vec<usize> = match to {
                    Destination::All => (0..self.len()).filter(|&j| j != node).collect(),
                    Destination::Node(name) => (0..self.len()).filter(|&j| self.nodes[j].name == name).collect(),
                };
                for j in targets {
                    if self.rng.chance(self.params.drop) {
                        continue;
                    }
                    let (lo, hi) = self.params.delay;
                    let at = self.now + self.rng.between(lo, hi);
                    self.push(at, Ev::Deliver { to: j, from: node, msg: msg.clone() });
                }
            }
            Command::SetTimer { timer, after } => {
                let n = &mut self.nodes[node];
                n.gen += 1;
                let gen = n.gen;
                n.timers.insert(timer, gen);
                let at = self.now + after.as_millis() as u64;
                self.push(at, Ev::Timer { node, inc, timer, gen });
            }
            Command::CancelTimer(timer) => {
                self.nodes[node].timers.remove(&timer);
            }
            Command::ComputeTransition { id } => {
                let (lo, hi) = self.params.pe_delay;
                let at = self.now + self.rng.between(lo, hi);
                self.push(at, Ev::Pe { node, inc, id });
            }
            Command::ExecuteTransition { id } => {
                let (lo, hi) = self.params.te_delay;
                let at = self.now + self.rng.between(lo, hi);
                let complete = !self.rng.chance(self.params.te_fail);
                self.push(at, Ev::Te { node, inc, id, complete });
            }
            Command::AbortTransition { id } => {
                self.push(self.now + 1, Ev::Te { node, inc, id, complete: false });
            }
            Command::Exit => {
                self.nodes[node].ctl = None;
                self.nodes[node].inc += 1;
                self.membership_changed();
            }
            Command::StateChange { .. }
            | Command::Log { .. }
            | Command::SyncCib { .. }
            | Command::WriteStatus(_)
            | Command::RequestShutdown => {}
        }
    }
}
