//! The controller core: `handle(event, now) -> Vec<Command>`.
//!
//! Events (membership views, peer messages, CIB changes, transition
//! results, timers) are turned into FSA inputs; each input goes through
//! [`fsa::next`], the state is updated and the table's actions run. Actions
//! may raise further inputs, which are processed in order before `handle`
//! returns. No I/O, no clock: the shell executes the commands and feeds
//! their results back as events.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use ccm::View;
use cib::Version;

use crate::election::{beats, Candidate, Election};
use crate::fsa::{self, Action, Input, State};
use crate::join::{Join, Phase};
use crate::message::{Destination, Message};

/// Timing knobs (Pacemaker's cluster options of the same role).
#[derive(Debug, Clone)]
pub struct Config {
    /// This node's name.
    pub name: String,
    /// How long a candidate waits for no-votes before taking the DC role
    /// (`election-timeout`).
    pub election_timeout: Duration,
    /// How long a node waits for a DC before starting an election
    /// (`dc-deadtime`).
    pub dc_deadtime: Duration,
    /// How long the DC waits for join answers before going on without the
    /// silent nodes (`join-integration-timeout` / `join-finalization-timeout`).
    pub join_timeout: Duration,
}

impl Config {
    /// Defaults scaled for a LAN cluster: election 2 s, dc-deadtime 5 s
    /// (Pacemaker's 20 s waits for slow boots; our membership layer reports
    /// peers first), join timeout 5 s.
    pub fn new(name: impl Into<String>) -> Config {
        Config {
            name: name.into(),
            election_timeout: Duration::from_secs(2),
            dc_deadtime: Duration::from_secs(5),
            join_timeout: Duration::from_secs(5),
        }
    }
}

/// What the controller is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// ccm installed a new view.
    Membership(View),
    /// A peer's message.
    Message { from: String, msg: Message },
    /// The local CIB changed (any node sees this; the DC recomputes).
    CibChanged { version: Version },
    /// pengine finished computing transition `id`.
    TransitionComputed { id: u64 },
    /// tengine finished transition `id`; `complete` is false when it was
    /// aborted or an action failed (a new transition is computed).
    TransitionFinished { id: u64, complete: bool },
    /// A timer set by [`Command::SetTimer`] fired.
    Timer(Timer),
    /// The administrator asked for a clean shutdown.
    Shutdown,
    /// Our resources are stopped: exit.
    Stop,
    /// An unrecoverable local failure (lost the CIB or lrmd connection).
    Error,
    /// The crmd of `node` went silent (or said `leaving`) while its node
    /// stays a member (the shell's keepalives noticed): if it is our DC,
    /// look for a new one; if we are the DC and it is one of our joined
    /// nodes, its controller is gone (its resources' state is unknown
    /// until it rejoins).
    PeerLost { node: String },
    /// DC: the crmd of `node`, taken for lost, spoke again (it was only
    /// slow): offer it a join.
    PeerAlive { node: String },
    /// DC: the CIB lost node states it did not delete (a join sync took a
    /// newer copy from another node, with that node's status): every node
    /// joins again, so that the status is rebuilt.
    StatusLost,
}

/// The controller's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// The election timeout.
    Election,
    /// Waiting for a DC (dc-deadtime).
    DcDeadtime,
    /// DC: the join round's answers are due.
    Join,
    /// DC: offer again the members that fell out of a join round.
    Rejoin,
}

/// A line of the CIB status section the DC maintains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusUpdate {
    /// `dc-uuid` / `have-quorum` on `<cib>`.
    Dc { node: String, quorum: bool },
    /// A node's `join` value in its `node_state`.
    Join { node: String, phase: Phase },
    /// A node left the membership: `in_ccm="false"`, `crmd="offline"`,
    /// `join="down"`.
    Left { node: String },
    /// A member's crmd is gone: `crmd="offline"`, `join="down"`, its
    /// history kept (`status::crmd_lost_state`).
    CrmdLost { node: String },
}

/// What the controller asks the shell to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The FSA moved (the shell logs Pacemaker's "State transition" line).
    StateChange { from: State, to: State, input: Input },
    /// A warning or error from the table (an unexpected input).
    Log { action: Action, state: State, input: Input },
    Send { to: Destination, msg: Message },
    /// Arm (or re-arm) a timer.
    SetTimer { timer: Timer, after: Duration },
    CancelTimer(Timer),
    /// DC: fetch the CIB from `from` (it has the highest version) and make
    /// it the cluster's copy. The shell finishes this before carrying out
    /// the commands that follow (the join acks).
    SyncCib { from: String },
    /// DC: write into the CIB status section.
    WriteStatus(StatusUpdate),
    /// DC: run pengine on the current CIB; answer with
    /// [`Event::TransitionComputed`].
    ComputeTransition { id: u64 },
    /// DC: execute the transition computed as `id` with tengine; answer
    /// with [`Event::TransitionFinished`].
    ExecuteTransition { id: u64 },
    /// DC: stop transition `id` (no new actions; running ones finish).
    AbortTransition { id: u64 },
    /// Set our `shutdown` node attribute so that the DC moves our
    /// resources away.
    RequestShutdown,
    /// Exit the daemon (the launcher may respawn it).
    Exit,
}

/// Data an input carries through the FSA (Pacemaker's `fsa_data`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Data {
    None,
    /// The node an I_NODE_JOIN is about.
    Node(String),
    /// A join request.
    Request { from: String, version: Version },
    /// A confirmation (DC) or an ack (client).
    Answer { from: String, join_id: u64 },
}

/// One node's controller.
#[derive(Debug, Clone)]
pub struct Controller {
    config: Config,
    state: State,
    /// The current membership (None before ccm's first view).
    view: Option<View>,
    /// The DC we joined, or ourselves.
    dc: Option<String>,
    election: Election,
    /// DC side of the join.
    join: Join,
    /// Client side: the DC's join round we answered.
    client_join: Option<u64>,
    cib_version: Version,
    /// Id of the last transition asked for.
    pe_id: u64,
    /// The transition being executed, if any.
    te_running: Option<u64>,
    /// Client: we gave up the DC role since our last join. Our former
    /// followers may still take us for their DC, so our join request asks
    /// the new DC for a round offered to everyone.
    was_dc: bool,
    /// DC: the full round started for each former DC's request (a second
    /// request from it in that round is an ordinary one).
    resync_rounds: BTreeMap<String, u64>,
    /// DC: members whose crmd went away (`Event::PeerLost`); not offered
    /// joins by the rejoin timer (a dead crmd would make every round wait
    /// for the join timeout): they are offered one when their crmd speaks
    /// again (a vote from a respawned crmd, or `Event::PeerAlive`).
    crmd_lost: BTreeSet<String>,
    /// Timers currently armed (to cancel only what is armed).
    timers: BTreeSet<Timer>,
    queue: VecDeque<(Input, Data)>,
    out: Vec<Command>,
}

impl Controller {
    /// A controller that started at `now`.
    pub fn new(config: Config, now: Duration) -> Controller {
        Controller {
            election: Election::new(now),
            config,
            state: State::Starting,
            view: None,
            dc: None,
            join: Join::default(),
            client_join: None,
            cib_version: Version::default(),
            pe_id: 0,
            te_running: None,
            was_dc: false,
            resync_rounds: BTreeMap::new(),
            crmd_lost: BTreeSet::new(),
            timers: BTreeSet::new(),
            queue: VecDeque::new(),
            out: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The DC this node knows of (itself when it is the DC).
    pub fn dc(&self) -> Option<&str> {
        self.dc.as_deref()
    }

    pub fn view(&self) -> Option<&View> {
        self.view.as_ref()
    }

    /// The CIB version this node last saw.
    pub fn cib_version(&self) -> Version {
        self.cib_version
    }

    /// Records the local CIB's version without raising an input (the
    /// shell sees every change; only relevant ones become
    /// [`Event::CibChanged`]).
    pub fn set_cib_version(&mut self, version: Version) {
        self.cib_version = version;
    }

    /// The DC's join phase of `node`.
    pub fn join_phase(&self, node: &str) -> Phase {
        self.join.phase(node)
    }

    /// DC: whether `node`'s crmd is taken for gone (see `Event::PeerLost`).
    pub fn crmd_lost(&self, node: &str) -> bool {
        self.crmd_lost.contains(node)
    }

    /// Feed one event; returns the commands to carry out, in order.
    pub fn handle(&mut self, event: Event, now: Duration) -> Vec<Command> {
        match event {
            Event::Membership(view) => self.on_membership(view),
            Event::Message { from, msg } => self.on_message(from, msg, now),
            Event::CibChanged { version } => {
                self.cib_version = version;
                self.raise(Input::CibUpdate, Data::None);
            }
            Event::TransitionComputed { id } => {
                if id == self.pe_id && self.state == State::PolicyEngine {
                    self.raise(Input::PeSuccess, Data::None);
                }
            }
            Event::TransitionFinished { id, complete } => {
                if self.te_running == Some(id) {
                    self.te_running = None;
                    self.raise(if complete { Input::TeSuccess } else { Input::PeCalc }, Data::None);
                }
            }
            Event::Timer(t) => {
                if self.timers.remove(&t) {
                    self.on_timer(t);
                }
            }
            Event::Shutdown => self.raise(Input::Shutdown, Data::None),
            Event::Stop => self.raise(Input::Stop, Data::None),
            Event::Error => self.raise(Input::Error, Data::None),
            Event::PeerLost { node } => {
                if matches!(self.state, State::Pending | State::NotDc) && self.dc.as_deref() == Some(node.as_str()) {
                    self.dc = None;
                    self.raise(Input::Election, Data::None);
                } else if self.state.is_dc() && node != self.config.name && self.is_member(&node) {
                    self.follower_lost(node);
                }
            }
            Event::PeerAlive { node } => {
                if self.state.is_dc() && self.is_member(&node) && self.crmd_lost.remove(&node) {
                    self.raise(Input::NodeJoin, Data::Node(node));
                }
            }
            Event::StatusLost => {
                if self.state.is_dc() {
                    let quorum = self.view.as_ref().is_some_and(|v| v.quorum);
                    self.out.push(Command::WriteStatus(StatusUpdate::Dc { node: self.config.name.clone(), quorum }));
                    // No node named: a new round offered to everyone.
                    self.raise(Input::NodeJoin, Data::None);
                }
            }
        }
        self.run(now);
        std::mem::take(&mut self.out)
    }

    /// DC: a member's controller left (Pacemaker's peer_update_callback
    /// for a crmd that went offline): the node drops out of the join, its
    /// state is written down, and the scheduler decides (unclean: fence,
    /// or wait without fencing).
    fn follower_lost(&mut self, node: String) {
        if self.crmd_lost.contains(&node) {
            return;
        }
        self.crmd_lost.insert(node.clone());
        self.join.set(&node, Phase::None);
        self.out.push(Command::WriteStatus(StatusUpdate::CrmdLost { node }));
        self.check_join();
        self.raise(Input::PeCalc, Data::None);
    }

    fn raise(&mut self, input: Input, data: Data) {
        self.queue.push_back((input, data));
    }

    fn members(&self) -> Vec<String> {
        self.view.as_ref().map(|v| v.members.iter().cloned().collect()).unwrap_or_default()
    }

    fn is_member(&self, node: &str) -> bool {
        self.view.as_ref().is_some_and(|v| v.members.contains(node))
    }

    fn on_membership(&mut self, view: View) {
        // ccm's instances only grow; an older view is a reordered report.
        if self.view.as_ref().is_some_and(|v| view.instance < v.instance) {
            return;
        }
        let old: BTreeSet<String> = self.view.as_ref().map(|v| v.members.clone()).unwrap_or_default();
        let first = self.view.is_none();
        let quorum_changed = self.view.as_ref().is_some_and(|v| v.quorum != view.quorum);
        let joined: Vec<String> =
            view.members.iter().filter(|m| !old.contains(*m) && **m != self.config.name).cloned().collect();
        let left: Vec<String> = old.iter().filter(|m| !view.members.contains(*m)).cloned().collect();
        self.view = Some(view);
        if first || self.state == State::Starting {
            // Look for a DC by voting: an existing DC answers with its own
            // vote and an offer.
            self.raise(Input::Pending, Data::None);
            self.raise(Input::Election, Data::None);
            return;
        }
        if self.state.is_dc() {
            for node in &left {
                self.crmd_lost.remove(node);
                self.join.set(node, Phase::None);
                self.out.push(Command::WriteStatus(StatusUpdate::Left { node: node.clone() }));
            }
            if quorum_changed || !left.is_empty() {
                // Stated again even when unchanged: after a member is lost
                // the cib daemons refuse configuration writes until the DC
                // says whether this side has quorum (docs/CIB_DAEMON.md).
                let quorum = self.view.as_ref().is_some_and(|v| v.quorum);
                self.out.push(Command::WriteStatus(StatusUpdate::Dc { node: self.config.name.clone(), quorum }));
            }
            for node in joined {
                self.raise(Input::NodeJoin, Data::Node(node));
            }
            if !left.is_empty() || quorum_changed {
                self.check_join();
                self.raise(Input::PeCalc, Data::None);
            }
            return;
        }
        match self.state {
            // The no-votes we hold may no longer cover the members.
            State::Election => self.raise(Input::Election, Data::None),
            State::Pending | State::NotDc => {
                if let Some(dc) = self.dc.clone() {
                    if !self.is_member(&dc) {
                        self.dc = None;
                        self.raise(Input::Election, Data::None);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_message(&mut self, from: String, msg: Message, now: Duration) {
        // Messages from outside our view are from another partition or
        // from before a restart.
        if !self.is_member(&from) || from == self.config.name {
            return;
        }
        let me = self.config.name.clone();
        let age = self.election.compare_age_ms(now);
        let mine = Candidate { name: &me, age_ms: age };
        match msg {
            Message::Vote { election_id, age_ms } => {
                let theirs = Candidate { name: &from, age_ms };
                let they_win = beats(&theirs, &mine);
                match self.state {
                    s if s.is_dc() => {
                        if they_win {
                            self.send_to(&from, Message::NoVote { election_id });
                            self.raise(Input::ReleaseDc, Data::None);
                        } else {
                            self.send_vote(Destination::Node(from.clone()), now);
                            self.raise(Input::NodeJoin, Data::Node(from));
                        }
                    }
                    State::Election | State::Pending | State::NotDc => {
                        if they_win {
                            self.send_to(&from, Message::NoVote { election_id });
                            if self.state == State::Election {
                                self.raise(Input::Pending, Data::None);
                            }
                        } else if self.state == State::Election {
                            self.send_vote(Destination::Node(from), now);
                        } else {
                            // We beat the candidate: run ourselves, as
                            // Pacemaker does (our vote to all makes it
                            // lose). Our DC, if it still is one, answers
                            // the votes too; if it stepped down, this is
                            // how its followers find the next one.
                            self.raise(Input::Election, Data::None);
                        }
                    }
                    _ => {}
                }
            }
            Message::NoVote { election_id } => {
                self.election.no_vote(&from, election_id);
                self.check_election();
            }
            Message::JoinOffer { join_id, age_ms } => {
                let theirs = Candidate { name: &from, age_ms };
                let they_win = beats(&theirs, &mine);
                match self.state {
                    State::Pending | State::NotDc => self.accept_offer(from, join_id),
                    s if s.is_dc() || s == State::Election => {
                        if they_win {
                            if s.is_dc() {
                                self.raise(Input::ReleaseDc, Data::None);
                            } else {
                                self.raise(Input::Pending, Data::None);
                            }
                            self.accept_offer(from, join_id);
                        } else {
                            // Make the offering DC step down.
                            self.send_vote(Destination::Node(from.clone()), now);
                            if s.is_dc() {
                                self.raise(Input::NodeJoin, Data::Node(from));
                            }
                        }
                    }
                    _ => {}
                }
            }
            Message::JoinRequest { join_id, cib_version, was_dc } => {
                if !self.state.is_dc() {
                    return;
                }
                // Every round from the one started for this former DC's
                // request on was offered after it stepped down.
                let covered = self.resync_rounds.get(&from).is_some_and(|r| self.join.id >= *r);
                if was_dc && !covered {
                    self.resync_rounds.insert(from.clone(), self.join.id + 1);
                    // The other DC has stepped down: its followers may
                    // still think it is their DC. Offer everyone a new round.
                    self.raise(Input::NodeJoin, Data::None);
                } else if join_id != self.join.id {
                    // A request for an old round: offer the current one,
                    // unless it already was (its answer is on the way).
                    if self.join.phase(&from) == Phase::None {
                        self.raise(Input::NodeJoin, Data::Node(from));
                    }
                } else if self.join.phase(&from) == Phase::Welcomed {
                    self.raise(Input::JoinRequest, Data::Request { from, version: cib_version });
                }
                // Otherwise a duplicate answer to a repeated offer.
            }
            Message::JoinAck { join_id } => {
                if self.dc.as_deref() == Some(from.as_str())
                    && self.client_join == Some(join_id)
                    && matches!(self.state, State::Pending | State::NotDc)
                {
                    self.raise(Input::JoinResult, Data::Answer { from, join_id });
                }
            }
            Message::JoinConfirm { join_id } => {
                if join_id != self.join.id {
                    return;
                }
                match self.state {
                    State::FinalizeJoin => self.raise(Input::JoinResult, Data::Answer { from, join_id }),
                    // A node acked in this round confirms after another
                    // node's arrival sent the round back to integration
                    // (a node booting while the round finishes): counted,
                    // or the round would wait for it until the join timer
                    // dropped it, and with fencing the scheduler would
                    // fence a healthy node whose join never completed.
                    State::Integration if self.join.confirm(&from) => {
                        self.out.push(Command::WriteStatus(StatusUpdate::Join { node: from, phase: Phase::Confirmed }));
                    }
                    _ => {}
                }
            }
            Message::OtherDc { dc } => {
                // Another DC detected: an election among the members
                // decides which of us keeps the role, now, rather than
                // when the join rounds happen to cross.
                if self.state.is_dc() && dc != me {
                    self.raise(Input::Election, Data::None);
                }
            }
        }
    }

    fn accept_offer(&mut self, dc: String, join_id: u64) {
        self.raise(Input::JoinOffer, Data::Answer { from: dc, join_id });
    }

    fn on_timer(&mut self, t: Timer) {
        match t {
            // Nobody beat us in time: take the role (Pacemaker does too).
            Timer::Election => {
                if self.state == State::Election && self.election.running {
                    self.raise(Input::ElectionDc, Data::None);
                }
            }
            Timer::DcDeadtime => self.raise(Input::DcTimeout, Data::None),
            Timer::Join => {
                let silent = match self.state {
                    State::Integration => self.join.in_phase(Phase::Welcomed),
                    State::FinalizeJoin => self.join.in_phase(Phase::Finalized),
                    _ => Vec::new(),
                };
                if !silent.is_empty() {
                    for n in &silent {
                        self.join.set(n, Phase::None);
                    }
                    self.set_timer(Timer::Rejoin, self.config.join_timeout);
                    self.check_join();
                }
            }
            Timer::Rejoin => {
                if self.state.is_dc() {
                    for m in self.members() {
                        if m != self.config.name && self.join.phase(&m) == Phase::None && !self.crmd_lost.contains(&m) {
                            self.raise(Input::NodeJoin, Data::Node(m));
                        }
                    }
                }
            }
        }
    }

    /// Run queued inputs through the FSA.
    fn run(&mut self, now: Duration) {
        while let Some((input, data)) = self.queue.pop_front() {
            let from = self.state;
            let (to, actions) = fsa::next(from, input);
            if to != from {
                self.out.push(Command::StateChange { from, to, input });
                self.state = to;
            }
            for &a in actions {
                self.act(a, from, input, &data, now);
            }
        }
    }

    fn act(&mut self, action: Action, from: State, input: Input, data: &Data, now: Duration) {
        match action {
            Action::Warn | Action::Error => self.out.push(Command::Log { action, state: from, input }),
            Action::ElectionVote => {
                // A candidate follows no DC.
                if !self.state.is_dc() {
                    self.dc = None;
                }
                self.election.start(now);
                self.send_vote(Destination::All, now);
                self.set_timer(Timer::Election, self.config.election_timeout);
                self.check_election();
            }
            Action::ElectionStop => {
                self.election.stop();
                self.cancel_timer(Timer::Election);
            }
            Action::DcTimerStart => self.set_timer(Timer::DcDeadtime, self.config.dc_deadtime),
            Action::DcTimerStop => self.cancel_timer(Timer::DcDeadtime),
            Action::DcTakeover => {
                self.dc = Some(self.config.name.clone());
                self.cancel_timer(Timer::DcDeadtime);
                let quorum = self.view.as_ref().is_some_and(|v| v.quorum);
                self.out.push(Command::WriteStatus(StatusUpdate::Dc { node: self.config.name.clone(), quorum }));
            }
            Action::DcRelease => {
                self.dc = None;
                self.join.reset();
                self.crmd_lost.clear();
                self.resync_rounds.clear();
                self.was_dc = true;
                self.cancel_timer(Timer::Join);
                self.cancel_timer(Timer::Rejoin);
                if self.state == State::ReleaseDc {
                    // At once, before anything queued behind the release.
                    self.queue.push_front((Input::ReleaseSuccess, Data::None));
                }
            }
            Action::JoinOfferAll => self.offer_all(now),
            Action::JoinOfferOne => {
                let Data::Node(node) = data else {
                    // No node named: a new round for everyone.
                    self.offer_all(now);
                    return;
                };
                if self.is_member(node) {
                    self.join.set(node, Phase::Welcomed);
                    let age_ms = self.election.age_ms(now);
                    self.send_to(node, Message::JoinOffer { join_id: self.join.id, age_ms });
                    self.set_timer(Timer::Join, self.config.join_timeout);
                }
                // The node may be gone: see whether the round can go on.
                self.check_join();
            }
            Action::JoinProcessReq => {
                if let Data::Request { from, version } = data {
                    // Its crmd answers: it is back.
                    self.crmd_lost.remove(from);
                    if self.join.request(from, *version) {
                        self.out.push(Command::WriteStatus(StatusUpdate::Join {
                            node: from.clone(),
                            phase: Phase::Integrated,
                        }));
                    }
                }
                self.check_join();
            }
            Action::JoinFinalize => {
                let me = self.config.name.clone();
                if let Some((best, version)) = self.join.best_version(&me) {
                    if best != me && version > self.cib_version {
                        self.out.push(Command::SyncCib { from: best });
                        self.cib_version = version;
                    }
                }
                for n in self.join.in_phase(Phase::Integrated) {
                    if n == me {
                        self.join.set(&n, Phase::Confirmed);
                        self.out.push(Command::WriteStatus(StatusUpdate::Join { node: n, phase: Phase::Confirmed }));
                    } else {
                        self.join.set(&n, Phase::Finalized);
                        self.send_to(&n, Message::JoinAck { join_id: self.join.id });
                    }
                }
                self.set_timer(Timer::Join, self.config.join_timeout);
                self.check_join();
            }
            Action::JoinProcessAck => {
                if let Data::Answer { from, .. } = data {
                    if self.join.confirm(from) {
                        self.out.push(Command::WriteStatus(StatusUpdate::Join {
                            node: from.clone(),
                            phase: Phase::Confirmed,
                        }));
                    }
                }
                self.check_join();
            }
            Action::JoinFinal => self.cancel_timer(Timer::Join),
            Action::ClJoinRequest => {
                if let Data::Answer { from, join_id } = data {
                    self.dc = Some(from.clone());
                    self.client_join = Some(*join_id);
                    let msg =
                        Message::JoinRequest { join_id: *join_id, cib_version: self.cib_version, was_dc: self.was_dc };
                    self.send_to(from, msg);
                }
            }
            Action::ClJoinConfirm => {
                if let Data::Answer { from, join_id } = data {
                    self.was_dc = false;
                    self.send_to(from, Message::JoinConfirm { join_id: *join_id });
                }
            }
            Action::PeInvoke => {
                self.pe_id += 1;
                self.out.push(Command::ComputeTransition { id: self.pe_id });
            }
            Action::TeInvoke => {
                self.te_running = Some(self.pe_id);
                self.out.push(Command::ExecuteTransition { id: self.pe_id });
            }
            Action::TeCancel | Action::TeHalt => {
                if let Some(id) = self.te_running.take() {
                    self.out.push(Command::AbortTransition { id });
                }
            }
            Action::ShutdownReq => self.out.push(Command::RequestShutdown),
            Action::Recover => self.raise(Input::Terminate, Data::None),
            Action::Exit => {
                for t in std::mem::take(&mut self.timers) {
                    self.out.push(Command::CancelTimer(t));
                }
                self.out.push(Command::Exit);
            }
        }
    }

    /// A new join round offered to every member.
    fn offer_all(&mut self, now: Duration) {
        let id = self.join.new_round();
        let me = self.config.name.clone();
        // The DC joins itself without messages.
        self.join.set(&me, Phase::Welcomed);
        self.join.request(&me, self.cib_version);
        let age_ms = self.election.age_ms(now);
        for m in self.members() {
            if m != me {
                self.join.set(&m, Phase::Welcomed);
                self.send_to(&m, Message::JoinOffer { join_id: id, age_ms });
            }
        }
        self.set_timer(Timer::Join, self.config.join_timeout);
        self.check_join();
    }

    /// Raise I_ELECTION_DC when every other member has conceded.
    fn check_election(&mut self) {
        if self.state != State::Election {
            return;
        }
        let members = self.members();
        if self.election.won(&self.config.name, &members) {
            self.raise(Input::ElectionDc, Data::None);
        }
    }

    /// Raise I_INTEGRATED / I_FINALIZED when the round allows it.
    fn check_join(&mut self) {
        let pending = self.queue.iter().any(|(i, _)| matches!(i, Input::Integrated | Input::Finalized));
        if pending {
            return;
        }
        match self.state {
            State::Integration if self.join.integrated() => self.raise(Input::Integrated, Data::None),
            State::FinalizeJoin if self.join.finalized() => self.raise(Input::Finalized, Data::None),
            _ => {}
        }
    }

    fn send_vote(&mut self, to: Destination, now: Duration) {
        let msg = Message::Vote { election_id: self.election.id, age_ms: self.election.compare_age_ms(now) };
        self.out.push(Command::Send { to, msg });
    }

    fn send_to(&mut self, node: &str, msg: Message) {
        self.out.push(Command::Send { to: Destination::Node(node.to_string()), msg });
    }

    fn set_timer(&mut self, timer: Timer, after: Duration) {
        self.timers.insert(timer);
        self.out.push(Command::SetTimer { timer, after });
    }

    fn cancel_timer(&mut self, timer: Timer) {
        if self.timers.remove(&timer) {
            self.out.push(Command::CancelTimer(timer));
        }
    }
}

#[cfg(test)]
mod tests;
