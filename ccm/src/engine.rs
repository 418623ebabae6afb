//! The membership core: heartbeat's node events and peers' messages in;
//! messages, views and timer requests out. No I/O, no clock, no randomness.
//!
//! docs/CCM.md states the protocol and why it is safe. In short:
//!
//! - The **leader** of a node is the lowest name among the nodes heartbeat
//!   reports up (itself included).
//! - A leader whose view differs from its up-set **proposes** that up-set
//!   with an instance greater than any it has seen or promised.
//! - A node **acks** a proposal when it comes from its own leader, names
//!   exactly its own up-set, and has an instance above every instance it
//!   promised before (persisted first). It never acks two proposals for one
//!   instance.
//! - When every proposed member acked, the leader **commits**: it installs
//!   the view, decides quorum once, and tells the members, who install the
//!   view only if it is the proposal they acked.
//! - Lost messages are recovered by retries: the leader re-sends its
//!   proposal to members that have not acked; a follower whose view is stale
//!   asks its leader for a round (`Join`).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::quorum::QuorumContext;
use crate::{Config, Message, View};

/// A node's status as heartbeat reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeStatus {
    /// `active` (or `up`): heartbeat hears the node.
    Up,
    /// `dead`: no heartbeat for `deadtime`.
    Dead,
}

/// What the shell feeds the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Heartbeat's node status event. Events about this node itself are
    /// ignored: a node always sees itself.
    NodeStatus { node: String, status: NodeStatus },
    /// A ccm message from peer `from`, as heartbeat delivered it.
    Received { from: String, msg: Message },
    /// Time passed; due when the last [`Command::Timer`] asked for it, but a
    /// tick at any time is harmless. The shell sends one at start (after
    /// heartbeat's `initdead`) so that the node forms its first view.
    Tick,
    /// Whether this node reaches its ping nodes (for [`crate::TieBreaker::Ping`]).
    Connectivity(bool),
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// One node (heartbeat's `sendnodemsg`).
    Node(String),
    /// Every node of the cluster (heartbeat's `sendclustermsg`); nodes that
    /// the message does not concern ignore it.
    All,
}

/// What the core asks the shell to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Store `instance` durably (HA_VARLIB) before carrying out the commands
    /// that follow; give it back to [`Ccm::new`] after a restart. This is the
    /// promise never to ack a lower instance again.
    Persist { instance: u64 },
    /// Send a message.
    Send { to: Destination, msg: Message },
    /// A new view: tell crmd and cib (membership event).
    Install(View),
    /// Deliver [`Input::Tick`] at `at`; replaces any earlier request.
    Timer { at: Duration },
}

/// A proposal as a node accepted or is waiting to accept it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Proposal {
    leader: String,
    instance: u64,
    members: BTreeSet<String>,
}

/// The leader's bookkeeping for a proposal in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Round {
    instance: u64,
    members: BTreeSet<String>,
    /// Members that acked, the leader included.
    acked: BTreeSet<String>,
}

/// One node's membership core.
#[derive(Debug, Clone)]
pub struct Ccm {
    config: Config,
    /// Nodes heartbeat reports up, always including this node: the only
    /// member list this node will propose or accept.
    up: BTreeSet<String>,
    /// Ping connectivity, for the tie-breaker; true until told otherwise.
    connectivity: bool,
    /// The installed view; none until the first one.
    view: Option<View>,
    /// Highest instance seen in any message or promised; proposals go above.
    highest: u64,
    /// Highest instance acked or proposed (persisted): never ack at or below.
    promised: u64,
    /// The proposal acked last (the leader's own while it leads a round):
    /// the only one a commit may install.
    accepted: Option<Proposal>,
    /// A proposal from our leader naming a member list we do not see yet;
    /// acked as soon as heartbeat's reports catch up.
    pending: Option<Proposal>,
    /// The round this node leads, if any.
    round: Option<Round>,
    /// When the next retry is due.
    deadline: Option<Duration>,
}

impl Ccm {
    /// A core for `config`, with the instance it last persisted
    /// ([`Command::Persist`]), or 0 on first start.
    pub fn new(config: Config, persisted: u64) -> Ccm {
        let up = BTreeSet::from([config.me.clone()]);
        Ccm {
            config,
            up,
            connectivity: true,
            view: None,
            highest: persisted,
            promised: persisted,
            accepted: None,
            pending: None,
            round: None,
            deadline: None,
        }
    }

    /// The installed view.
    pub fn view(&self) -> Option<&View> {
        self.view.as_ref()
    }

    /// The nodes heartbeat reports up, this one included.
    pub fn up(&self) -> &BTreeSet<String> {
        &self.up
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// This node leads: it has the lowest name among the nodes it sees.
    pub fn is_leader(&self) -> bool {
        self.leader() == self.config.me
    }

    /// The highest instance promised (the value last persisted).
    pub fn promised(&self) -> u64 {
        self.promised
    }

    /// Feeds one input at time `now` (any monotonic clock, e.g. time since
    /// the shell started) and returns what to do, in order.
    pub fn handle(&mut self, input: Input, now: Duration) -> Vec<Command> {
        let mut out = Vec::new();
        match input {
            Input::NodeStatus { node, status } => {
                if node != self.config.me {
                    match status {
                        NodeStatus::Up => self.up.insert(node),
                        NodeStatus::Dead => self.up.remove(&node),
                    };
                }
            }
            Input::Received { from, msg } => self.receive(&from, msg, now, &mut out),
            Input::Tick => {
                if self.deadline.is_some_and(|d| now >= d) {
                    self.deadline = None;
                    self.retry(now, &mut out);
                }
            }
            Input::Connectivity(c) => self.connectivity = c,
        }
        self.evaluate(now, &mut out);
        out
    }

    /// Several node statuses at once, evaluated once: the shell's start,
    /// with everything heartbeat reported during initdead. Fed one by one,
    /// a leader would run one round per node (and install a view of itself
    /// alone first); together, it proposes the whole up-set in one round.
    pub fn handle_statuses(
        &mut self,
        statuses: impl IntoIterator<Item = (String, NodeStatus)>,
        now: Duration,
    ) -> Vec<Command> {
        for (node, status) in statuses {
            if node != self.config.me {
                match status {
                    NodeStatus::Up => self.up.insert(node),
                    NodeStatus::Dead => self.up.remove(&node),
                };
            }
        }
        let mut out = Vec::new();
        self.evaluate(now, &mut out);
        out
    }

    fn leader(&self) -> &str {
        // `up` always holds this node, so it is never empty.
        self.up.first().map(String::as_str).unwrap_or(&self.config.me)
    }

    fn quorum_of(&self, members: &BTreeSet<String>) -> bool {
        let ctx = QuorumContext {
            had_quorum: self.view.as_ref().is_some_and(|v| v.quorum),
            connectivity: self.connectivity,
        };
        self.config.quorum.has_quorum(members, ctx)
    }

    /// A follower has nothing to ask for: its view is its up-set and no
    /// acked proposal is waiting for its commit.
    fn follower_in_sync(&self) -> bool {
        self.view.as_ref().is_some_and(|v| {
            v.members == self.up && self.accepted.as_ref().is_none_or(|a| a.instance <= v.instance)
        })
    }

    /// The instance of a proposal from our current leader that we acked
    /// and whose commit has not arrived.
    fn awaiting_commit(&self) -> Option<u64> {
        let a = self.accepted.as_ref()?;
        let newer = self.view.as_ref().is_none_or(|v| v.instance < a.instance);
        (newer && a.leader == self.leader() && a.leader != self.config.me).then_some(a.instance)
    }

    /// Nothing to do until something happens: no round in flight, and the
    /// view is the up-set (with the right quorum, for a leader; with no
    /// acked proposal outstanding, for a follower).
    pub fn settled(&self) -> bool {
        if self.is_leader() {
            self.round.is_none()
                && self
                    .view
                    .as_ref()
                    .is_some_and(|v| v.members == self.up && v.quorum == self.quorum_of(&self.up))
        } else {
            self.follower_in_sync()
        }
    }

    fn set_timer(&mut self, now: Duration, out: &mut Vec<Command>) {
        let at = now + self.config.retry;
        self.deadline = Some(at);
        out.push(Command::Timer { at });
    }

    /// Brings the node's role in line with its up-set: a leader starts a
    /// round when its view (or its round) is not the up-set; a follower acks
    /// a pending proposal that now matches. Then keeps the retry timer
    /// running exactly while something is unsettled.
    fn evaluate(&mut self, now: Duration, out: &mut Vec<Command>) {
        if self.is_leader() {
            self.pending = None;
            let round_current = self.round.as_ref().map(|r| r.members == self.up);
            let view_current = self
                .view
                .as_ref()
                .is_some_and(|v| v.members == self.up && v.quorum == self.quorum_of(&self.up));
            match round_current {
                Some(true) => {}
                Some(false) => self.start_round(now, out),
                None if !view_current => self.start_round(now, out),
                None => {}
            }
        } else {
            self.round = None;
            if let Some(p) = self.pending.take() {
                if p.leader == self.leader() && p.instance > self.promised {
                    if p.members == self.up {
                        self.accept(p, now, out);
                    } else {
                        self.pending = Some(p);
                    }
                }
            }
        }
        let unsettled = self.round.is_some() || (!self.is_leader() && !self.follower_in_sync());
        if !unsettled {
            self.deadline = None;
        } else if self.deadline.is_none() {
            if self.round.is_none() && !self.is_leader() {
                // A follower whose view just went stale asks its leader at
                // once rather than a retry period later: the leader's
                // proposal may have come while this node still saw the old
                // leader (and was dropped), and waiting for the next retry
                // added up to a keepalive to every failover.
                self.retry(now, out);
            } else {
                self.set_timer(now, out);
            }
        }
    }

    fn start_round(&mut self, now: Duration, out: &mut Vec<Command>) {
        let instance = self.highest.max(self.promised) + 1;
        self.highest = instance;
        self.promised = instance;
        out.push(Command::Persist { instance });
        let members = self.up.clone();
        let me = self.config.me.clone();
        self.accepted = Some(Proposal { leader: me.clone(), instance, members: members.clone() });
        self.round = Some(Round { instance, members: members.clone(), acked: BTreeSet::from([me]) });
        if members.len() == 1 {
            self.commit(out);
        } else {
            out.push(Command::Send { to: Destination::All, msg: Message::Propose { instance, members } });
            self.set_timer(now, out);
        }
    }

    fn commit(&mut self, out: &mut Vec<Command>) {
        let Some(round) = self.round.take() else { return };
        let quorum = self.quorum_of(&round.members);
        let view = View {
            instance: round.instance,
            members: round.members,
            quorum,
            leader: self.config.me.clone(),
        };
        out.push(Command::Install(view.clone()));
        if view.members.len() > 1 {
            let msg = Message::Commit { instance: view.instance, members: view.members.clone(), quorum };
            out.push(Command::Send { to: Destination::All, msg });
        }
        self.view = Some(view);
    }

    fn accept(&mut self, p: Proposal, now: Duration, out: &mut Vec<Command>) {
        self.promised = p.instance;
        out.push(Command::Persist { instance: p.instance });
        out.push(Command::Send { to: Destination::Node(p.leader.clone()), msg: Message::Ack { instance: p.instance } });
        self.accepted = Some(p);
        self.pending = None;
        // A full retry period for the commit to arrive.
        self.set_timer(now, out);
    }

    fn retry(&mut self, now: Duration, out: &mut Vec<Command>) {
        if let Some(r) = &self.round {
            for node in r.members.difference(&r.acked) {
                out.push(Command::Send {
                    to: Destination::Node(node.clone()),
                    msg: Message::Propose { instance: r.instance, members: r.members.clone() },
                });
            }
            self.set_timer(now, out);
        } else if !self.is_leader() && !self.follower_in_sync() {
            let leader = self.leader().to_owned();
            let msg = match self.awaiting_commit() {
                // The leader answers a repeated ack with the commit.
                Some(instance) => Message::Ack { instance },
                None => Message::Join { view: self.view.as_ref().map(|v| v.instance), highest: self.highest },
            };
            out.push(Command::Send { to: Destination::Node(leader), msg });
            self.set_timer(now, out);
        }
    }

    fn receive(&mut self, from: &str, msg: Message, now: Duration, out: &mut Vec<Command>) {
        // Heartbeat may still deliver a message from a node it has just
        // declared dead, or before announcing it: only nodes we see count.
        if from == self.config.me || !self.up.contains(from) {
            return;
        }
        match msg {
            Message::Propose { instance, members } => {
                self.highest = self.highest.max(instance);
                if self.leader() != from {
                    return;
                }
                let p = Proposal { leader: from.to_owned(), instance, members };
                if self.accepted.as_ref() == Some(&p) {
                    // A re-sent proposal: our ack was lost.
                    out.push(Command::Send { to: Destination::Node(from.to_owned()), msg: Message::Ack { instance } });
                } else if instance <= self.promised {
                    let msg = Message::Nack { instance, highest: self.highest };
                    out.push(Command::Send { to: Destination::Node(from.to_owned()), msg });
                } else if p.members == self.up {
                    self.accept(p, now, out);
                } else {
                    self.pending = Some(p);
                }
            }
            Message::Ack { instance } => {
                if let Some(r) = &mut self.round {
                    if r.instance == instance && r.members.contains(from) {
                        r.acked.insert(from.to_owned());
                        if r.acked == r.members {
                            self.commit(out);
                        }
                    }
                } else if let Some(v) = &self.view {
                    // The member acked again after we committed: it missed
                    // the commit.
                    if v.leader == self.config.me && v.instance == instance && v.members.contains(from) {
                        let msg = Message::Commit { instance, members: v.members.clone(), quorum: v.quorum };
                        out.push(Command::Send { to: Destination::Node(from.to_owned()), msg });
                    }
                }
            }
            Message::Nack { instance, highest } => {
                self.highest = self.highest.max(highest);
                if self.round.as_ref().is_some_and(|r| r.instance == instance) {
                    self.start_round(now, out);
                }
            }
            Message::Commit { instance, members, quorum } => {
                self.highest = self.highest.max(instance);
                let p = Proposal { leader: from.to_owned(), instance, members };
                let newer = self.view.as_ref().is_none_or(|v| v.instance < instance);
                if newer && self.accepted.as_ref() == Some(&p) {
                    let view = View { instance, members: p.members, quorum, leader: p.leader };
                    out.push(Command::Install(view.clone()));
                    self.view = Some(view);
                }
            }
            Message::Join { view, highest } => {
                self.highest = self.highest.max(highest);
                if !self.is_leader() {
                    return;
                }
                if let Some(r) = &self.round {
                    if r.members.contains(from) {
                        let msg = Message::Propose { instance: r.instance, members: r.members.clone() };
                        out.push(Command::Send { to: Destination::Node(from.to_owned()), msg });
                    }
                } else if let Some(v) = &self.view {
                    // A member of our view that has not installed it sent
                    // this before it saw our proposal (it has not seen our
                    // instance): stale, it got the commit since. Otherwise a
                    // different view, or an acked proposal our view does not
                    // cover (a leader since gone): one round puts everyone
                    // on a newer instance.
                    let stale = v.members.contains(from) && highest < v.instance;
                    if !stale && (view != Some(v.instance) || highest > v.instance) {
                        self.start_round(now, out);
                    }
                } else {
                    self.start_round(now, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
