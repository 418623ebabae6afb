//! The CIB of one node, without I/O: `handle(input, now) -> Vec<Command>`.
//!
//! ```text
//!  Input::Client (IPC call)  --+                       +--> Command::Reply     (to a local client)
//!  Input::Peer (cib message) --+--> Core::handle ------+--> Command::Send      (to one peer or all)
//!  Input::NodeUp/NodeDown    --+    (master: apply,    +--> Command::Persist   (cib.xml + sig)
//!  Input::Start/Stop         --+     replica: forward) +--> Command::Notify    (diff to subscribers)
//! ```
//!
//! **Who is master.** The DC: the node the CIB's `dc-uuid` names (crmd
//! writes it when it takes the DC role), when its cib daemon is known to
//! run (this node, or a peer that announced itself and that heartbeat has
//! not declared dead). Otherwise (no DC yet, or the DC's node is gone) the
//! lowest such node name, until a new DC writes `dc-uuid`. Every node
//! computes the same answer from the same CIB once announcements have
//! crossed. **Hand-over**: the write of the new `dc-uuid` is applied by
//! the old master, so it is ordered after every write that master
//! acknowledged; a write that reaches a node that is no longer master is
//! refused with [`NOT_MASTER`] and forwarded again by the replica that
//! sent it (never applied twice: the refusing node applied nothing). A
//! node whose master changes announces its version again, so the new
//! master pulls a newer copy a peer holds (a diff the old master sent
//! before it died that reached some nodes only).
//!
//! **No quorum, no configuration writes.** When the CIB says
//! `have-quorum="0"` (written by the DC of a partition without quorum),
//! or names a DC whose cib daemon is gone (between a DC's death or a
//! partition and the next DC's `dc-uuid` write, nobody knows whether this
//! side has quorum), the master refuses writes that change the
//! configuration (those that bump the epoch): when partitions merge, the
//! copy with quorum normally wins, and an acknowledged write of the other
//! side would be lost. Status writes go through (the status is rebuilt at
//! every join). A CIB that names no DC (a new cluster) allows them.
//!
//! **Writes** go to the master. It applies them with cibadmin's own
//! operations ([`tools::cibadmin::ops::perform`], Pacemaker's version
//! rules), broadcasts the change as a v2 patchset, persists it and answers.
//! A replica forwards a local write to the master and relays the answer;
//! since heartbeat delivers one sender's messages in order, the diff
//! reaches the forwarding replica before the answer does, so the client
//! that made a change reads it back from its own node at once.
//!
//! **Acknowledged configuration writes are never lost.** Three rules
//! (docs/CIB_DAEMON.md, "Replication rules"): the master answers a
//! configuration write only once every peer up at the time confirmed it
//! ([`PeerMsg::Applied`]; a peer declared dead first makes it
//! `unavailable`); after a peer is declared dead, configuration writes are
//! refused until a DC states quorum again (`dc-uuid`/`have-quorum`), so a
//! partition's minority acknowledges nothing; and an **authority** (the
//! master whose copy names it DC with quorum stated since the last loss)
//! wins over any non-authority copy, even one with a higher version (a
//! minority's unacknowledged writes), at merges and rejoins.
//!
//! **Queries** are answered from the local copy.
//!
//! **Replicas** apply each diff with the version check on. A diff whose
//! source is newer than the local copy means something was missed: the
//! replica asks the sender for its whole CIB. Stale diffs are ignored.
//!
//! **Joining.** On start a daemon broadcasts its version (`Announce`);
//! every peer answers with its own. Whoever learns of a higher version
//! (admin_epoch, epoch, num_updates), or of the master's different copy at
//! the same version, pulls the whole CIB from that peer (`SyncRequest` ->
//! `Full`). So every node converges on the highest copy.

use std::collections::{BTreeMap, BTreeSet};

use cib::patchset::{self, FailureClass};
use cib::store::on_disk_digest;
use cib::{Element, Node, Version};
use tools::cib_live::{Answer, Call, Op};
use tools::cibadmin::ops::{self, Command as CibCommand};

use crate::peer::PeerMsg;

/// A local IPC connection, numbered by the shell.
pub type ClientId = u64;

/// What the shell feeds in.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Connected to the cluster (or started stand-alone): announce ourselves.
    Start,
    /// Stopping: tell the peers.
    Stop,
    /// A local client's call; `call_id` is the client's own number.
    Client { client: ClientId, call_id: u64, call: Box<Call> },
    /// A local connection closed.
    ClientGone(ClientId),
    /// A message from the cib daemon of `from`.
    Peer { from: String, msg: PeerMsg },
    /// Heartbeat reports `node` up (active) or dead.
    NodeUp(String),
    NodeDown(String),
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Reply { client: ClientId, call_id: u64, answer: Answer },
    /// To `dest`, or to every node when `None`.
    Send { dest: Option<String>, msg: PeerMsg },
    /// Write this CIB to the node's store (already in its on-disk form).
    Persist(Element),
    /// Push this patchset to these subscribed clients.
    Notify { clients: Vec<ClientId>, patch: Element },
    Log(String),
}

/// A local client's write sent to the master.
struct Forwarded {
    client: ClientId,
    call_id: u64,
    /// The node it went to.
    master: String,
    /// Kept to send it again when that node was no longer master.
    call: Box<Call>,
    /// How many times it has been sent.
    sends: u32,
}

/// Where the answer to a write goes.
#[derive(Debug, Clone, PartialEq)]
enum ReplyTo {
    /// A local client (its connection and call number).
    Local { client: ClientId, call_id: u64 },
    /// A replica that forwarded the write (its node and call number).
    Peer { node: String, call: u64 },
}

/// A configuration write applied on the master whose answer waits until
/// every peer that was up when it was applied confirmed it (`Applied`):
/// only then is it on every node that could take over, so no later
/// failover or merge can drop it.
struct Pending {
    /// The version the write produced.
    version: Version,
    to: ReplyTo,
    answer: Answer,
    /// The peers that have not confirmed yet.
    waiting: BTreeSet<String>,
}

/// The reason a node that is not the master gives when refusing a
/// forwarded write (the sender forwards it again to the master it knows).
pub const NOT_MASTER: &str = "not the master:";

/// The call number of a haresources proposal's answer (forwarded writes
/// are numbered from 1 up and never reach it).
const PROPOSAL_CALL: u64 = u64::MAX;

/// How many times a forwarded write is sent before the client is told
/// the cluster has no master (a hand-over takes one round trip).
const MAX_SENDS: u32 = 4;

/// The time the shell passes in: seconds since the epoch (for
/// `cib-last-written`; the core reads no clock).
pub type UnixSecs = i64;

/// One node's CIB state machine.
pub struct Core {
    /// This node's name.
    me: String,
    /// The current CIB, as Pacemaker holds it in memory (status included).
    cib: Element,
    /// Peers whose cib daemon announced itself, with the version they said,
    /// and that heartbeat has not declared dead since.
    peers: BTreeMap<String, Version>,
    /// Our forwarded writes awaiting the master's answer, by our call
    /// number.
    forwarded: BTreeMap<u64, Forwarded>,
    /// The master when the last input was handled (a change is logged and
    /// announced).
    last_master: String,
    next_call: u64,
    /// Connections that asked for diff notifications.
    subscribers: BTreeSet<ClientId>,
    /// The on-disk form last persisted, so writes that only move
    /// `num_updates` or the status section do not rewrite cib.xml.
    persisted: Option<Element>,
    /// Schema check for configuration changes (`tools::cibadmin::schema_valid`
    /// in the daemon; tests may pass a simpler one).
    valid: Box<dyn Fn(&Element) -> bool + Send>,
    /// Configuration writes applied here as master, waiting for their
    /// peers' confirmations before they are acknowledged.
    pending: Vec<Pending>,
    /// A DC stated `have-quorum` (wrote `dc-uuid`/`have-quorum`) since
    /// this daemon started and since the last peer heartbeat declared
    /// dead: until then this side of a possible partition does not know
    /// whether it has quorum, and configuration writes are refused.
    quorum_stated: bool,
    /// `cib -s`: no cluster, no DC; the quorum rules do not apply.
    stand_alone: bool,
    /// Peers whose last announcement said they are an authority.
    peer_authority: BTreeSet<String>,
    /// Whether this node was an authority after the last input (a change
    /// is announced).
    last_authority: bool,
    /// haresources mode: the configuration this node generated from its
    /// file at start, until it is proposed to the first authority met.
    proposal: Option<Element>,
}

/// What cib.xml holds: the CIB without its status (status is rebuilt by
/// the cluster at run time; a stale one from disk would mislead), as
/// Pacemaker writes it.
pub fn on_disk_form(cib: &Element) -> Element {
    let mut e = cib.clone();
    if let Some(status) = e.child_mut("status") {
        status.children.clear();
    }
    e
}

/// `on_disk_form` without `num_updates`: two CIBs with the same key need
/// not be written twice.
fn persist_key(cib: &Element) -> Element {
    let mut e = on_disk_form(cib);
    e.remove_attr("num_updates");
    e
}

/// Pacemaker's `cib-last-written` format (ctime without the newline), in
/// UTC: no time zone database is read (as heartbeat's logs).
pub fn ctime(t: UnixSecs) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        year
    )
}

impl Core {
    /// A node holding `cib` (loaded from its store, or an empty one).
    /// `persisted`: whether `cib` is what the store already holds.
    pub fn new(me: &str, cib: Element, persisted: bool, valid: Box<dyn Fn(&Element) -> bool + Send>) -> Core {
        let persisted = persisted.then(|| persist_key(&cib));
        Core {
            me: me.to_string(),
            cib,
            peers: BTreeMap::new(),
            forwarded: BTreeMap::new(),
            last_master: me.to_string(),
            next_call: 1,
            subscribers: BTreeSet::new(),
            persisted,
            valid,
            pending: Vec::new(),
            quorum_stated: false,
            stand_alone: false,
            peer_authority: BTreeSet::new(),
            last_authority: false,
            proposal: None,
        }
    }

    /// Runs without a cluster (`cib -s`): no DC will ever state quorum.
    pub fn stand_alone(mut self) -> Core {
        self.stand_alone = true;
        self
    }

    /// haresources mode: this node (re)started with a configuration it
    /// generated from its file. An authority's copy replaces ours at the
    /// join whatever the versions, so the configuration is proposed to it
    /// then, once, and that master writes it as any change (unless the
    /// cluster runs it already): the last node (re)started with a changed
    /// file decides (docs/HARESOURCES_MODE.md).
    pub fn with_proposal(mut self, config: Element) -> Self {
        self.proposal = Some(config);
        self
    }

    /// This node is an **authority**: the master, named DC by its copy,
    /// with `have-quorum="1"` stated since the last membership loss. Its
    /// copy holds every acknowledged configuration write (each waited for
    /// the confirmation of every peer up at the time, and the minority of
    /// a partition acknowledges none), so at a merge or rejoin it wins
    /// over a non-authority copy even when that one has a higher version
    /// (writes a minority applied but never acknowledged).
    pub fn authority(&self) -> bool {
        !self.stand_alone
            && self.quorum_stated
            && self.dc_in_cib() == Some(self.me.as_str())
            && self.cib.attr("have-quorum") == Some("1")
    }

    /// This node's master is an authority (this node itself, or a peer
    /// that announced itself as one): the node takes copies from that
    /// master only.
    fn follows_authority(&self) -> bool {
        self.authority() || self.peer_authority.contains(self.master())
    }

    pub fn cib(&self) -> &Element {
        &self.cib
    }

    /// The master (see the module docs): the DC the CIB names when its
    /// cib daemon runs, else the lowest running node name.
    pub fn master(&self) -> &str {
        if let Some(dc) = self.dc_in_cib() {
            if dc == self.me {
                return &self.me;
            }
            if let Some((name, _)) = self.peers.get_key_value(dc) {
                return name;
            }
        }
        self.peers.keys().map(String::as_str).chain([self.me.as_str()]).min().unwrap_or(&self.me)
    }

    /// The DC the CIB names, when its cib daemon is not known to run (it
    /// died, or is on the other side of a partition): until a new DC
    /// writes `dc-uuid` (with `have-quorum`), nobody knows whether this
    /// side has quorum.
    fn dc_gone(&self) -> Option<&str> {
        self.dc_in_cib().filter(|dc| *dc != self.me && !self.peers.contains_key(*dc))
    }

    /// The node name of the CIB's `dc-uuid`: the `<node>` entry with that
    /// id, else the id itself (crmd's node ids default to names).
    fn dc_in_cib(&self) -> Option<&str> {
        let id = self.cib.attr("dc-uuid").filter(|s| !s.is_empty())?;
        let by_entry = self
            .cib
            .child("configuration")
            .and_then(|c| c.child("nodes"))
            .and_then(|n| n.children_named("node").find(|n| n.id() == Some(id)))
            .and_then(|n| n.attr("uname"));
        Some(by_entry.unwrap_or(id))
    }

    pub fn is_master(&self) -> bool {
        self.master() == self.me
    }

    /// The peers this node knows to run a cib daemon.
    pub fn peers(&self) -> impl Iterator<Item = &str> {
        self.peers.keys().map(String::as_str)
    }

    fn announce(&self, reply: bool) -> PeerMsg {
        PeerMsg::Announce {
            version: Version::of(&self.cib),
            digest: on_disk_digest(&self.cib),
            reply,
            authority: self.authority(),
        }
    }

    fn full(&self, force: bool) -> PeerMsg {
        PeerMsg::Full { cib: self.cib.clone(), force, authority: self.authority() }
    }

    pub fn handle(&mut self, input: Input, now: UnixSecs) -> Vec<Command> {
        let mut out = Vec::new();
        self.handle_input(input, now, &mut out);
        let master = self.master().to_string();
        if master != self.last_master {
            out.push(Command::Log(format!("master is now {master} (was {})", self.last_master)));
            self.last_master = master;
            // The new master must hold the newest copy before it takes
            // writes: every node tells every other its version again, and
            // whoever is behind pulls (see "Hand-over" above).
            out.push(Command::Send { dest: None, msg: self.announce(false) });
        } else if self.authority() != self.last_authority {
            // Peers learn that this copy now wins (or no longer does).
            out.push(Command::Send { dest: None, msg: self.announce(false) });
        }
        self.last_authority = self.authority();
        out
    }

    fn handle_input(&mut self, input: Input, now: UnixSecs, out: &mut Vec<Command>) {
        match input {
            Input::Start => {
                out.push(Command::Send { dest: None, msg: self.announce(false) });
                self.persist_if_changed(out);
            }
            Input::Stop => out.push(Command::Send { dest: None, msg: PeerMsg::Leave }),
            Input::Client { client, call_id, call } => self.client_call(client, call_id, *call, now, out),
            Input::ClientGone(client) => {
                self.subscribers.remove(&client);
                self.forwarded.retain(|_, f| f.client != client);
            }
            Input::Peer { from, msg } => {
                if from != self.me {
                    self.peer(from, msg, now, out);
                }
            }
            Input::NodeUp(node) => {
                // A node counts once its cib daemon announces itself; one
                // back from the dead (a healed partition, a restarted
                // heartbeat) is asked to, by our announcement.
                if node != self.me && !self.peers.contains_key(&node) {
                    out.push(Command::Send { dest: Some(node), msg: self.announce(false) });
                }
            }
            Input::NodeDown(node) => self.peer_gone(&node, "is dead", true, out),
        }
    }

    fn client_call(&mut self, client: ClientId, call_id: u64, call: Call, now: UnixSecs, out: &mut Vec<Command>) {
        let reply = |answer| Command::Reply { client, call_id, answer };
        match call.op {
            Op::Notify => {
                self.subscribers.insert(client);
                out.push(reply(Answer::Ok(None)));
            }
            Op::Cib(CibCommand::Query) => {
                let answer = match ops::perform(&self.cib, &call.request, &*self.valid) {
                    Ok(s) => Answer::Ok(s.output),
                    Err(f) => Answer::Failed(f),
                };
                out.push(reply(answer));
            }
            _ if self.is_master() => {
                let me = self.me.clone();
                self.apply(&call, &me, ReplyTo::Local { client, call_id }, now, out);
            }
            _ => {
                let n = self.next_call;
                self.next_call += 1;
                let master = self.master().to_string();
                let f = Forwarded { client, call_id, master: master.clone(), call: Box::new(call.clone()), sends: 1 };
                self.forwarded.insert(n, f);
                out.push(Command::Send { dest: Some(master), msg: PeerMsg::Request { call: n, call_data: Box::new(call) } });
            }
        }
    }

    /// A forwarded write was refused by a node that is no longer master:
    /// send it to the master we know now (or apply it, if that is us).
    fn forward_again(&mut self, n: u64, mut f: Forwarded, now: UnixSecs, out: &mut Vec<Command>) {
        if self.is_master() {
            let me = self.me.clone();
            self.apply(&f.call, &me, ReplyTo::Local { client: f.client, call_id: f.call_id }, now, out);
            return;
        }
        if f.sends >= MAX_SENDS {
            let answer = Answer::Unavailable(format!("no master took the write after {} tries", f.sends));
            out.push(Command::Reply { client: f.client, call_id: f.call_id, answer });
            return;
        }
        f.sends += 1;
        f.master = self.master().to_string();
        let msg = PeerMsg::Request { call: n, call_data: f.call.clone() };
        out.push(Command::Send { dest: Some(f.master.clone()), msg });
        self.forwarded.insert(n, f);
    }

    fn peer(&mut self, from: String, msg: PeerMsg, now: UnixSecs, out: &mut Vec<Command>) {
        match msg {
            PeerMsg::Announce { version, digest, reply, authority } => {
                let new_peer = self.peers.insert(from.clone(), version).is_none();
                if new_peer {
                    out.push(Command::Log(format!("cib daemon of {from} joined at version {version}")));
                }
                if authority {
                    self.peer_authority.insert(from.clone());
                } else {
                    self.peer_authority.remove(&from);
                }
                if !reply {
                    out.push(Command::Send { dest: Some(from.clone()), msg: self.announce(true) });
                }
                self.compare_copies(from, version, &digest, authority, out);
            }
            PeerMsg::Leave => self.peer_gone(&from, "stopped its cib daemon", false, out),
            PeerMsg::Request { call, call_data } => {
                let to = ReplyTo::Peer { node: from.clone(), call };
                if self.is_master() {
                    self.apply(&call_data, &from, to, now, out);
                } else {
                    let answer =
                        Answer::Unavailable(format!("{NOT_MASTER} {} is not the master ({} is)", self.me, self.master()));
                    self.answer(to, answer, out);
                }
            }
            PeerMsg::Reply { call: PROPOSAL_CALL, answer } => {
                out.push(Command::Log(format!("{from} answered our haresources configuration: {answer:?}")));
            }
            PeerMsg::Reply { call, answer } => {
                if let Some(f) = self.forwarded.remove(&call) {
                    match answer {
                        Answer::Unavailable(why) if why.starts_with(NOT_MASTER) => self.forward_again(call, f, now, out),
                        answer => out.push(Command::Reply { client: f.client, call_id: f.call_id, answer }),
                    }
                }
            }
            PeerMsg::Diff { patch } => {
                if self.follows_authority() && from != self.master() {
                    // A node that still takes itself for master (a minority
                    // rejoining): its changes are not part of our history.
                    out.push(Command::Log(format!("ignoring a diff from {from}, which is not the master")));
                } else {
                    self.apply_diff(&from, &patch, out);
                }
            }
            PeerMsg::SyncRequest => {
                out.push(Command::Send { dest: Some(from), msg: self.full(false) });
            }
            PeerMsg::Full { cib, force, authority } => {
                let (theirs, mine) = (Version::of(&cib), Version::of(&self.cib));
                let from_master = from == self.master();
                let take = if cib == self.cib {
                    false
                } else if authority && !self.authority() {
                    true
                } else if !authority && self.follows_authority() && !from_master {
                    false
                } else {
                    let tie_to_lower = authority && self.authority() && theirs == mine && from < self.me;
                    theirs > mine || (from_master && (force || theirs == mine)) || tie_to_lower
                };
                if take {
                    out.push(Command::Log(format!("replacing our CIB {mine} with {theirs} from {from}")));
                    self.install(cib, out);
                    if self.is_master() {
                        // Peers behind us learn that there is something newer.
                        out.push(Command::Send { dest: None, msg: self.announce(true) });
                    }
                }
            }
            PeerMsg::Applied { version } => self.confirmed(&from, version, out),
            PeerMsg::Propose { config } => self.proposed(from, config, now, out),
        }
    }

    /// A restarted haresources-mode node's configuration: the master
    /// writes it (keeping its own `nodes` section), with the usual rules
    /// for configuration writes; the answer goes back to the proposer,
    /// which logs it.
    fn proposed(&mut self, from: String, config: Element, now: UnixSecs, out: &mut Vec<Command>) {
        if !self.is_master() {
            out.push(Command::Log(format!("ignoring {from}'s proposed configuration: {} is the master", self.master())));
            return;
        }
        let Some(config) = crate::haresources_mode::configuration_to_write(&self.cib, &config) else {
            out.push(Command::Log(format!("{from}'s haresources configuration is the one running")));
            return;
        };
        out.push(Command::Log(format!("writing the configuration {from} generated from its haresources")));
        let request = ops::Request {
            command: Some(CibCommand::Replace),
            section: Some("configuration".into()),
            input: Some(config),
            ..ops::Request::default()
        };
        let call = Call { op: Op::Cib(CibCommand::Replace), request, client: "haresources".into(), user: "root".into() };
        self.apply(&call, &from, ReplyTo::Peer { node: from.clone(), call: PROPOSAL_CALL }, now, out);
    }

    /// A peer told us its version (and digest): pull its copy, push ours,
    /// or nothing. An authority's copy wins over a non-authority one
    /// whatever the versions; a node that follows an authority master
    /// takes copies from that master only; otherwise the highest version
    /// wins (the master's copy at equal versions).
    fn compare_copies(&mut self, from: String, version: Version, digest: &str, authority: bool, out: &mut Vec<Command>) {
        let mine = Version::of(&self.cib);
        let differs = version != mine || digest != on_disk_digest(&self.cib);
        if authority && !self.authority() {
            if differs {
                out.push(Command::Log(format!("{from} holds the authoritative copy ({version}, ours {mine}): requesting it")));
                out.push(Command::Send { dest: Some(from.clone()), msg: PeerMsg::SyncRequest });
            }
            if let Some(config) = self.proposal.take() {
                out.push(Command::Log(format!("proposing the configuration generated from haresources to {from}")));
                out.push(Command::Send { dest: Some(from), msg: PeerMsg::Propose { config } });
            }
        } else if self.authority() && !authority {
            // A peer ahead of us or beside us (a former minority's
            // unacknowledged writes) gets our copy; one behind pulls it
            // itself on our announcement.
            if differs && version >= mine {
                out.push(Command::Log(format!("{from} has a copy ({version}) outside our history ({mine}): sending ours")));
                out.push(Command::Send { dest: Some(from), msg: self.full(false) });
            }
        } else if self.follows_authority() && from != self.master() && !(authority && self.authority()) {
            // Our master decides what that peer takes.
        } else {
            // Two authorities (both halves of a two-node cluster kept
            // quorum): the highest version wins, the lower name at a tie.
            let master_differs = version == mine && differs && (from == self.master() || (authority && from < self.me));
            if version > mine || master_differs {
                out.push(Command::Log(format!("{from} has version {version}, ours is {mine}: requesting its CIB")));
                out.push(Command::Send { dest: Some(from), msg: PeerMsg::SyncRequest });
            }
        }
    }

    /// A peer confirmed it holds `version`: configuration writes that
    /// waited for it (and no one else) are acknowledged now.
    fn confirmed(&mut self, from: &str, version: Version, out: &mut Vec<Command>) {
        for p in &mut self.pending {
            if p.version <= version {
                p.waiting.remove(from);
            }
        }
        self.release(out);
    }

    /// Answers the pending writes every peer has confirmed, in order.
    fn release(&mut self, out: &mut Vec<Command>) {
        let (done, waiting): (Vec<Pending>, Vec<Pending>) =
            std::mem::take(&mut self.pending).into_iter().partition(|p| p.waiting.is_empty());
        self.pending = waiting;
        for p in done {
            self.answer(p.to, p.answer, out);
        }
    }

    fn answer(&self, to: ReplyTo, answer: Answer, out: &mut Vec<Command>) {
        match to {
            ReplyTo::Local { client, call_id } => out.push(Command::Reply { client, call_id, answer }),
            ReplyTo::Peer { node, call } => {
                out.push(Command::Send { dest: Some(node), msg: PeerMsg::Reply { call, answer } })
            }
        }
    }

    /// A peer's cib daemon is gone: it is no longer a master candidate,
    /// and writes we forwarded to it will never be answered. `lost`: heartbeat
    /// declared the node dead (it may be on the other side of a partition)
    /// rather than its daemon saying goodbye.
    fn peer_gone(&mut self, node: &str, why: &str, lost: bool, out: &mut Vec<Command>) {
        self.peer_authority.remove(node);
        if self.peers.remove(node).is_some() {
            out.push(Command::Log(format!("{node} {why}; master is now {}", self.master())));
            if lost && !self.stand_alone {
                // Which side of a partition has quorum is the DC's call,
                // after the membership changed.
                self.quorum_stated = false;
            }
        }
        let lost_fw: Vec<u64> = self.forwarded.iter().filter(|(_, f)| f.master == node).map(|(n, _)| *n).collect();
        for n in lost_fw {
            let f = self.forwarded.remove(&n).expect("listed above");
            // It may have been applied (and its diff sent) before the
            // master died: not sent again, so never applied twice.
            let answer = Answer::Unavailable(format!("the master ({node}) left before answering"));
            out.push(Command::Reply { client: f.client, call_id: f.call_id, answer });
        }
        // Writes waiting for the node's confirmation: a daemon that said
        // goodbye is simply not waited for; a node declared dead may sit in
        // another partition, so the write may not survive a merge and is
        // not acknowledged.
        let mut failed = Vec::new();
        for p in std::mem::take(&mut self.pending) {
            if lost && p.waiting.contains(node) {
                failed.push(p);
            } else {
                self.pending.push(p);
            }
        }
        for p in &mut self.pending {
            p.waiting.remove(node);
        }
        for p in failed {
            let answer = Answer::Unavailable(format!(
                "{node} was lost before it confirmed the change: it may or may not be kept"
            ));
            self.answer(p.to, answer, out);
        }
        self.release(out);
    }

    /// Performs a write on the master copy and answers it to `to`: at
    /// once, or, for a configuration change while peers run, once every
    /// peer confirmed it ([`Pending`]).
    fn apply(&mut self, call: &Call, origin: &str, to: ReplyTo, now: UnixSecs, out: &mut Vec<Command>) {
        let answer = self.perform(call, origin, now, out);
        let config_change = |v: Version| (v.admin_epoch, v.epoch);
        match answer {
            Ok((answer, Some(before))) if config_change(before) != config_change(Version::of(&self.cib)) && !self.peers.is_empty() => {
                let waiting = self.peers.keys().cloned().collect();
                self.pending.push(Pending { version: Version::of(&self.cib), to, answer, waiting });
            }
            Ok((answer, _)) | Err(answer) => self.answer(to, answer, out),
        }
    }

    /// The write itself: `Ok((answer, Some(version before)))` when the
    /// copy changed, `Ok((answer, None))` when it did not, `Err` when
    /// refused.
    fn perform(&mut self, call: &Call, origin: &str, now: UnixSecs, out: &mut Vec<Command>) -> Result<(Answer, Option<Version>), Answer> {
        if call.op == Op::Sync {
            out.push(Command::Send { dest: None, msg: self.full(true) });
            return Ok((Answer::Ok(None), None));
        }
        let done = ops::perform(&self.cib, &call.request, &*self.valid).map_err(Answer::Failed)?;
        if states_quorum(call) {
            // The DC's `dc-uuid`/`have-quorum` write, even one that changes
            // nothing: it has seen the membership since the last loss.
            self.quorum_stated = true;
        }
        let Some(mut new) = done.cib else { return Ok((Answer::Ok(done.output), None)) };
        if new == self.cib {
            return Ok((Answer::Ok(done.output), None));
        }
        let old_version = Version::of(&self.cib);
        let config_change = (Version::of(&new).admin_epoch, Version::of(&new).epoch) != (old_version.admin_epoch, old_version.epoch);
        if config_change && self.cib.attr("have-quorum") == Some("0") {
            return Err(Answer::Unavailable("the cluster partition has no quorum: configuration changes are refused".into()));
        }
        if config_change {
            if let Some(dc) = self.dc_gone() {
                return Err(Answer::Unavailable(format!(
                    "the DC ({dc}) is gone and no new DC has taken over yet: configuration changes are refused"
                )));
            }
            if !self.stand_alone && !self.quorum_stated && self.dc_in_cib().is_some() {
                return Err(Answer::Unavailable(
                    "the membership changed and the DC has not stated quorum since: configuration changes are refused".into(),
                ));
            }
            // A configuration change: Pacemaker's live CIB records when and
            // by whom (file mode does not: cib_no_mtime).
            new.set_attr("cib-last-written", ctime(now));
            new.set_attr("update-origin", origin);
            new.set_attr("update-client", &call.client);
            new.set_attr("update-user", &call.user);
        }
        let patch = patchset::try_diff(&self.cib, &new);
        let msg = match &patch {
            Ok(p) => PeerMsg::Diff { patch: p.clone() },
            // Roots that cannot be diffed (a replace with another root) go whole.
            Err(_) => PeerMsg::Full { cib: new.clone(), force: true, authority: false },
        };
        self.cib = new;
        let msg = match msg {
            PeerMsg::Full { cib, force, .. } => PeerMsg::Full { cib, force, authority: self.authority() },
            m => m,
        };
        out.push(Command::Send { dest: None, msg });
        self.persist_if_changed(out);
        if let Ok(p) = patch {
            self.notify(p, out);
        }
        Ok((Answer::Ok(done.output), Some(old_version)))
    }

    fn apply_diff(&mut self, from: &str, patch: &Element, out: &mut Vec<Command>) {
        let mut next = self.cib.clone();
        match patchset::apply(&mut next, patch) {
            Ok(()) => {
                strip_blank_text(&mut next);
                let before = Version::of(&self.cib);
                if diff_states_quorum(patch) {
                    self.quorum_stated = true;
                }
                self.cib = next;
                self.persist_if_changed(out);
                self.notify(patch.clone(), out);
                let after = Version::of(&self.cib);
                if (after.admin_epoch, after.epoch) != (before.admin_epoch, before.epoch) {
                    // The master acknowledges the write once we all hold it.
                    out.push(Command::Send { dest: Some(from.to_string()), msg: PeerMsg::Applied { version: after } });
                }
            }
            Err(e) if e.class() == FailureClass::OldData => {
                out.push(Command::Log(format!("ignoring a stale diff from {from}: {e}")));
            }
            Err(e) => {
                out.push(Command::Log(format!("diff from {from} does not apply ({e}): requesting a full copy")));
                out.push(Command::Send { dest: Some(from.to_string()), msg: PeerMsg::SyncRequest });
            }
        }
    }

    /// Takes a whole CIB from a peer.
    fn install(&mut self, cib: Element, out: &mut Vec<Command>) {
        let patch = patchset::try_diff(&self.cib, &cib).ok();
        let dc_attrs = |e: &Element| (e.attr("dc-uuid").map(str::to_string), e.attr("have-quorum").map(str::to_string));
        if dc_attrs(&cib) != dc_attrs(&self.cib) {
            // A DC's statement newer than what we had.
            self.quorum_stated = true;
        }
        self.cib = cib;
        self.persist_if_changed(out);
        if let Some(p) = patch {
            self.notify(p, out);
        }
        // Whoever waits for our confirmation (the master) gets it.
        out.push(Command::Send { dest: None, msg: PeerMsg::Applied { version: Version::of(&self.cib) } });
    }

    fn persist_if_changed(&mut self, out: &mut Vec<Command>) {
        let key = persist_key(&self.cib);
        if self.persisted.as_ref() != Some(&key) {
            self.persisted = Some(key);
            out.push(Command::Persist(on_disk_form(&self.cib)));
        }
    }

    fn notify(&self, patch: Element, out: &mut Vec<Command>) {
        if !self.subscribers.is_empty() {
            out.push(Command::Notify { clients: self.subscribers.iter().copied().collect(), patch });
        }
    }

    /// Fails a local client's forwarded write explicitly (the shell could
    /// not send it). Returns the reply to deliver, if the call was pending.
    pub fn send_failed(&mut self, call: u64, why: &str) -> Option<Command> {
        let f = self.forwarded.remove(&call)?;
        Some(Command::Reply { client: f.client, call_id: f.call_id, answer: Answer::Unavailable(why.to_string()) })
    }
}

/// A write of `dc-uuid`/`have-quorum` on `<cib>` (crmd's DC statement).
fn states_quorum(call: &Call) -> bool {
    call.request.input.as_ref().is_some_and(|e| e.name == "cib" && e.attr("have-quorum").is_some())
}

/// A patchset that sets `dc-uuid` or `have-quorum` on `/cib`.
fn diff_states_quorum(patch: &Element) -> bool {
    patch.children_named("change").filter(|c| c.attr("path") == Some("/cib")).any(|c| {
        c.descendants().any(|a| {
            a.name == "change-attr" && matches!(a.attr("name"), Some("dc-uuid" | "have-quorum")) && a.attr("operation") == Some("set")
        })
    })
}

/// Patchsets carry no indentation, but a created subtree may bring text
/// nodes in; the in-memory CIB holds none (as Pacemaker's).
fn strip_blank_text(e: &mut Element) {
    e.children.retain(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()));
    for c in e.elements_mut() {
        strip_blank_text(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::xml::parse_element;
    use tools::cibadmin::ops::Request;

    fn core(me: &str) -> Core {
        Core::new(me, ops::empty_cib(0), false, Box::new(|_| true))
    }

    fn write(command: CibCommand, section: &str, xml: &str) -> Box<Call> {
        Box::new(Call {
            op: Op::Cib(command),
            request: Request {
                command: Some(command),
                section: Some(section.into()),
                input: Some(parse_element(xml).unwrap()),
                ..Request::default()
            },
            client: "cibadmin".into(),
            user: "root".into(),
        })
    }

    fn create_r1() -> Box<Call> {
        write(CibCommand::Create, "resources", r#"<primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/>"#)
    }

    fn announce(v: Version, digest: &str, reply: bool) -> PeerMsg {
        PeerMsg::Announce { version: v, digest: digest.into(), reply, authority: false }
    }

    /// A core that has heard `peers` announce themselves at its own version.
    fn with_peers(me: &str, peers: &[&str]) -> Core {
        let mut c = core(me);
        for p in peers {
            let (v, d) = (Version::of(c.cib()), on_disk_digest(c.cib()));
            c.handle(Input::Peer { from: p.to_string(), msg: announce(v, &d, true) }, 0);
        }
        c
    }

    #[test]
    fn start_announces_and_persists_a_new_cib() {
        let mut c = core("n1");
        let out = c.handle(Input::Start, 0);
        let d = on_disk_digest(c.cib());
        assert_eq!(
            out,
            vec![
                Command::Send { dest: None, msg: announce(Version::new(0, 0, 0), &d, false) },
                Command::Persist(c.cib().clone()),
            ]
        );
        // Loaded from the store: nothing to write.
        let mut loaded = Core::new("n1", ops::empty_cib(0), true, Box::new(|_| true));
        assert_eq!(loaded.handle(Input::Start, 0).len(), 1);
    }

    #[test]
    fn the_lowest_announced_node_is_master() {
        let mut c = with_peers("n2", &["n3"]);
        assert!(c.is_master());
        let (v, d) = (Version::of(c.cib()), on_disk_digest(c.cib()));
        let out = c.handle(Input::Peer { from: "n1".into(), msg: announce(v, &d, false) }, 0);
        assert_eq!(c.master(), "n1");
        // An announcement that is not itself a reply is answered directly.
        assert!(out.contains(&Command::Send { dest: Some("n1".into()), msg: announce(v, &d, true) }));
        c.handle(Input::NodeDown("n1".into()), 0);
        assert_eq!(c.master(), "n2");
    }

    #[test]
    fn master_applies_broadcasts_persists_and_answers() {
        let mut c = with_peers("n1", &["n2"]);
        let before = c.cib().clone();
        let out = c.handle(Input::Client { client: 5, call_id: 1, call: create_r1() }, 86_400 * 365);
        let after = c.cib().clone();
        assert_eq!(Version::of(&after), Version::new(0, 1, 0));
        assert_eq!(after.attr("cib-last-written"), Some("Fri Jan  1 00:00:00 1971"));
        assert_eq!(after.attr("update-origin"), Some("n1"));
        assert_eq!(
            out,
            vec![
                Command::Send { dest: None, msg: PeerMsg::Diff { patch: patchset::diff(&before, &after) } },
                Command::Persist(after.clone()),
            ]
        );
        // The answer waits for n2's confirmation of that version.
        let out = c.handle(Input::Peer { from: "n2".into(), msg: PeerMsg::Applied { version: Version::new(0, 0, 5) } }, 0);
        assert!(out.is_empty(), "{out:?}");
        let out = c.handle(Input::Peer { from: "n2".into(), msg: PeerMsg::Applied { version: Version::new(0, 1, 0) } }, 0);
        assert_eq!(out, vec![Command::Reply { client: 5, call_id: 1, answer: Answer::Ok(None) }]);
        // The same create again is refused, changes nothing, sends nothing.
        let out = c.handle(Input::Client { client: 5, call_id: 2, call: create_r1() }, 0);
        assert!(matches!(&out[..], [Command::Reply { answer: Answer::Failed(f), .. }] if f.error == ops::CibError::Exists));
        assert_eq!(c.cib(), &after);
    }

    #[test]
    fn replica_forwards_writes_and_relays_the_answer() {
        let mut c = with_peers("n2", &["n1"]);
        let out = c.handle(Input::Client { client: 7, call_id: 3, call: create_r1() }, 0);
        assert_eq!(out, vec![Command::Send { dest: Some("n1".into()), msg: PeerMsg::Request { call: 1, call_data: create_r1() } }]);
        assert_eq!(Version::of(c.cib()), Version::new(0, 0, 0), "a replica never applies a write itself");
        let out = c.handle(Input::Peer { from: "n1".into(), msg: PeerMsg::Reply { call: 1, answer: Answer::Ok(None) } }, 0);
        assert_eq!(out, vec![Command::Reply { client: 7, call_id: 3, answer: Answer::Ok(None) }]);
        // Queries are local.
        let q = Box::new(Call { op: Op::Cib(CibCommand::Query), request: Request { command: Some(CibCommand::Query), ..Request::default() }, client: "x".into(), user: "root".into() });
        let out = c.handle(Input::Client { client: 7, call_id: 4, call: q }, 0);
        assert_eq!(out, vec![Command::Reply { client: 7, call_id: 4, answer: Answer::Ok(Some(c.cib().clone())) }]);
    }

    #[test]
    fn a_write_in_flight_fails_when_the_master_goes() {
        let mut c = with_peers("n2", &["n1"]);
        c.handle(Input::Client { client: 7, call_id: 3, call: create_r1() }, 0);
        let out = c.handle(Input::NodeDown("n1".into()), 0);
        assert!(matches!(&out[..2], [Command::Log(_), Command::Reply { client: 7, call_id: 3, answer: Answer::Unavailable(_) }]));
        assert!(c.is_master());
        // The new master announces itself, so that a peer holding a newer
        // copy is pulled from before writes land on an old one.
        assert!(matches!(&out[2..], [Command::Log(_), Command::Send { dest: None, msg: PeerMsg::Announce { reply: false, .. } }]), "{out:?}");
    }

    /// `<cib dc-uuid=... have-quorum=...>` as crmd writes it.
    fn dc_write(dc: &str, quorum: bool) -> Box<Call> {
        Box::new(Call {
            op: Op::Cib(CibCommand::Modify),
            request: Request {
                command: Some(CibCommand::Modify),
                input: Some(parse_element(&format!(r#"<cib dc-uuid="{dc}" have-quorum="{}"/>"#, u8::from(quorum))).unwrap()),
                ..Request::default()
            },
            client: "crmd".into(),
            user: "root".into(),
        })
    }

    /// Delivers every command's messages (in order, perfectly) until none
    /// is left; returns the answers given to local clients, by node.
    fn deliver(nodes: &mut [Core], names: &[&str], mut queue: Vec<(usize, Command)>) -> Vec<(usize, Answer)> {
        let mut replies = Vec::new();
        let mut steps = 0;
        while !queue.is_empty() {
            steps += 1;
            assert!(steps < 10_000, "messages never settle");
            let (from, c) = queue.remove(0);
            match c {
                Command::Send { dest, msg } => {
                    for (j, n) in nodes.iter_mut().enumerate() {
                        if j != from && dest.as_deref().is_none_or(|d| d == names[j]) {
                            let input = Input::Peer { from: names[from].into(), msg: msg.clone() };
                            queue.extend(n.handle(input, 0).into_iter().map(|c| (j, c)));
                        }
                    }
                }
                Command::Reply { answer, .. } => replies.push((from, answer)),
                _ => {}
            }
        }
        replies
    }

    fn started(names: &[&str]) -> Vec<Core> {
        let mut nodes: Vec<Core> = names.iter().map(|n| core(n)).collect();
        let mut queue = Vec::new();
        for (i, n) in nodes.iter_mut().enumerate() {
            queue.extend(n.handle(Input::Start, 0).into_iter().map(|c| (i, c)));
        }
        deliver(&mut nodes, names, queue);
        nodes
    }

    #[test]
    fn the_dc_named_in_the_cib_is_master_once_its_write_is_applied() {
        let names = ["n1", "n2", "n3"];
        let mut nodes = started(&names);
        assert!(nodes.iter().all(|n| n.master() == "n1"), "no DC yet: the lowest name");
        // n2's crmd takes the DC role: its dc-uuid write goes through n1.
        let q = nodes[1].handle(Input::Client { client: 1, call_id: 1, call: dc_write("n2", true) }, 0);
        let replies = deliver(&mut nodes, &names, q.into_iter().map(|c| (1, c)).collect());
        assert!(matches!(&replies[..], [(1, Answer::Ok(_))]), "{replies:?}");
        assert!(nodes.iter().all(|n| n.master() == "n2"), "{:?}", nodes.iter().map(|n| n.master().to_string()).collect::<Vec<_>>());
        // A write from n3 is applied by n2 and reaches every copy.
        let q = nodes[2].handle(Input::Client { client: 1, call_id: 2, call: create_r1() }, 0);
        let replies = deliver(&mut nodes, &names, q.into_iter().map(|c| (2, c)).collect());
        assert!(matches!(&replies[..], [(2, Answer::Ok(_))]), "{replies:?}");
        assert!(nodes.iter().all(|n| n.cib() == nodes[1].cib()));
        // The DC's node dies: the lowest survivor is master until a new DC
        // writes dc-uuid; then that DC is. Meanwhile configuration writes
        // are refused (which side has quorum is not known yet).
        for n in [0usize, 2] {
            nodes[n].handle(Input::NodeDown("n2".into()), 0);
        }
        assert_eq!(nodes[0].master(), "n1");
        assert_eq!(nodes[2].master(), "n1");
        let mut two = vec![nodes.remove(0), nodes.remove(1)];
        let names2 = ["n1", "n3"];
        let q = two[1].handle(Input::Client { client: 1, call_id: 9, call: write(CibCommand::Create, "resources", r#"<primitive id="r9" class="ocf" provider="heartbeat" type="Dummy"/>"#) }, 0);
        let replies = deliver(&mut two, &names2, q.into_iter().map(|c| (1, c)).collect());
        assert!(matches!(&replies[..], [(1, Answer::Unavailable(w))] if w.contains("no new DC")), "{replies:?}");
        let q = two[1].handle(Input::Client { client: 1, call_id: 3, call: dc_write("n3", true) }, 0);
        let replies = deliver(&mut two, &names2, q.into_iter().map(|c| (1, c)).collect());
        assert!(matches!(&replies[..], [(1, Answer::Ok(_))]), "{replies:?}");
        assert!(two.iter().all(|n| n.master() == "n3"));
        assert!(two[0].cib().descendants().any(|e| e.id() == Some("r1")), "the acknowledged write survived");
    }

    #[test]
    fn a_write_refused_by_a_former_master_goes_to_the_new_one() {
        let mut c = with_peers("n3", &["n1", "n2"]);
        let out = c.handle(Input::Client { client: 7, call_id: 3, call: create_r1() }, 0);
        assert!(matches!(&out[..], [Command::Send { dest: Some(d), msg: PeerMsg::Request { call: 1, .. } }] if d == "n1"));
        // Meanwhile n1 applied the new DC's dc-uuid (n2) and refuses.
        let mut newer = c.cib().clone();
        newer.set_attr("dc-uuid", "n2");
        newer.set_attr("num_updates", "5");
        c.handle(Input::Peer { from: "n1".into(), msg: PeerMsg::Full { cib: newer, force: false, authority: false } }, 0);
        assert_eq!(c.master(), "n2");
        let refused = Answer::Unavailable(format!("{NOT_MASTER} n1 is not the master (n2 is)"));
        let out = c.handle(Input::Peer { from: "n1".into(), msg: PeerMsg::Reply { call: 1, answer: refused } }, 0);
        assert!(matches!(&out[..], [Command::Send { dest: Some(d), msg: PeerMsg::Request { call: 1, .. } }] if d == "n2"), "{out:?}");
        let out = c.handle(Input::Peer { from: "n2".into(), msg: PeerMsg::Reply { call: 1, answer: Answer::Ok(None) } }, 0);
        assert!(matches!(&out[..], [Command::Reply { client: 7, call_id: 3, answer: Answer::Ok(None) }]), "{out:?}");
        // A node that is not master refuses with the marker.
        let out = c.handle(Input::Peer { from: "n1".into(), msg: PeerMsg::Request { call: 9, call_data: create_r1() } }, 0);
        assert!(matches!(&out[..], [Command::Send { msg: PeerMsg::Reply { call: 9, answer: Answer::Unavailable(w) }, .. }] if w.starts_with(NOT_MASTER)));
    }

    #[test]
    fn without_quorum_configuration_writes_are_refused_and_status_writes_are_not() {
        let mut c = core("n1");
        c.handle(Input::Start, 0);
        let out = c.handle(Input::Client { client: 1, call_id: 1, call: dc_write("n1", false) }, 0);
        assert!(matches!(out.last(), Some(Command::Reply { answer: Answer::Ok(_), .. })), "{out:?}");
        let out = c.handle(Input::Client { client: 1, call_id: 2, call: create_r1() }, 0);
        assert!(matches!(&out[..], [Command::Reply { answer: Answer::Unavailable(w), .. }] if w.contains("no quorum")), "{out:?}");
        let status = write(CibCommand::Modify, "status", r#"<node_state id="n1" uname="n1" crmd="online"/>"#);
        let status = Box::new(Call { request: Request { allow_create: true, ..status.request.clone() }, ..*status });
        let out = c.handle(Input::Client { client: 1, call_id: 3, call: status }, 0);
        assert!(matches!(out.last(), Some(Command::Reply { answer: Answer::Ok(_), .. })), "{out:?}");
        // Quorum back: configuration writes again.
        c.handle(Input::Client { client: 1, call_id: 4, call: dc_write("n1", true) }, 0);
        let out = c.handle(Input::Client { client: 1, call_id: 5, call: create_r1() }, 0);
        assert!(matches!(out.last(), Some(Command::Reply { answer: Answer::Ok(_), .. })), "{out:?}");
    }

    #[test]
    fn a_node_back_from_the_dead_is_asked_to_announce_itself() {
        let mut c = with_peers("n1", &["n2"]);
        c.handle(Input::NodeDown("n2".into()), 0);
        let out = c.handle(Input::NodeUp("n2".into()), 0);
        assert!(matches!(&out[..], [Command::Send { dest: Some(d), msg: PeerMsg::Announce { reply: false, .. } }] if d == "n2"), "{out:?}");
        // A known peer is not asked again.
        let mut c = with_peers("n1", &["n2"]);
        assert!(c.handle(Input::NodeUp("n2".into()), 0).is_empty());
    }

    #[test]
    fn replicas_apply_diffs_and_resync_on_a_gap() {
        let mut master = with_peers("n1", &["n2"]);
        let mut replica = with_peers("n2", &["n1"]);
        let diffs: Vec<PeerMsg> = ["r1", "r2"]
            .iter()
            .flat_map(|id| {
                let call = write(CibCommand::Create, "resources", &format!(r#"<primitive id="{id}" class="ocf" provider="heartbeat" type="Dummy"/>"#));
                master.handle(Input::Client { client: 1, call_id: 1, call }, 0)
            })
            .filter_map(|c| match c {
                Command::Send { msg: m @ PeerMsg::Diff { .. }, .. } => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(diffs.len(), 2);
        // The first diff is lost: the second does not apply, a full copy is asked for.
        let out = replica.handle(Input::Peer { from: "n1".into(), msg: diffs[1].clone() }, 0);
        assert_eq!(out.last(), Some(&Command::Send { dest: Some("n1".into()), msg: PeerMsg::SyncRequest }));
        let out = master.handle(Input::Peer { from: "n2".into(), msg: PeerMsg::SyncRequest }, 0);
        let [Command::Send { msg: full, .. }] = &out[..] else { panic!("{out:?}") };
        replica.handle(Input::Peer { from: "n1".into(), msg: full.clone() }, 0);
        assert_eq!(replica.cib(), master.cib());
        // Diffs already contained in the copy are stale and ignored.
        let out = replica.handle(Input::Peer { from: "n1".into(), msg: diffs[0].clone() }, 0);
        assert!(matches!(&out[..], [Command::Log(_)]));
        assert_eq!(replica.cib(), master.cib());
    }

    #[test]
    fn a_node_pulls_from_a_peer_with_a_higher_version_only() {
        let mut c = with_peers("n1", &[]);
        let newer = Version::new(0, 5, 0);
        let out = c.handle(Input::Peer { from: "n3".into(), msg: announce(newer, "x", false) }, 0);
        assert_eq!(out.last(), Some(&Command::Send { dest: Some("n3".into()), msg: PeerMsg::SyncRequest }));
        // An older copy offered without force is not taken, even by a non-master.
        let old = parse_element(r#"<cib epoch="0" num_updates="0" admin_epoch="0"><configuration/><status/></cib>"#).unwrap();
        let mine = c.cib().clone();
        c.handle(Input::Peer { from: "n3".into(), msg: PeerMsg::Full { cib: old, force: false, authority: false } }, 0);
        assert_eq!(c.cib(), &mine);
        let new = parse_element(r#"<cib epoch="5" num_updates="0" admin_epoch="0"><configuration><resources/></configuration><status/></cib>"#).unwrap();
        let out = c.handle(Input::Peer { from: "n3".into(), msg: PeerMsg::Full { cib: new.clone(), force: false, authority: false } }, 0);
        assert_eq!(c.cib(), &new);
        assert!(out.contains(&Command::Persist(new)));
        // As master it tells everyone that a newer copy exists.
        assert!(out.iter().any(|c| matches!(c, Command::Send { dest: None, msg: PeerMsg::Announce { .. } })));
    }

    #[test]
    fn status_only_changes_are_not_written_to_disk() {
        let mut c = with_peers("n1", &[]);
        c.handle(Input::Start, 0);
        let call = write(CibCommand::Modify, "status", r#"<status><node_state id="n1" uname="n1"/></status>"#);
        let mut call = call;
        call.request.allow_create = true;
        let out = c.handle(Input::Client { client: 1, call_id: 1, call }, 0);
        assert_eq!(Version::of(c.cib()), Version::new(0, 0, 1));
        assert!(!out.iter().any(|c| matches!(c, Command::Persist(_))), "{out:?}");
        assert!(out.iter().any(|c| matches!(c, Command::Send { msg: PeerMsg::Diff { .. }, .. })));
    }

    #[test]
    fn subscribers_get_every_applied_diff() {
        let mut c = with_peers("n1", &[]);
        let sub = Box::new(Call { op: Op::Notify, request: Request::default(), client: "crmd".into(), user: "root".into() });
        c.handle(Input::Client { client: 9, call_id: 1, call: sub }, 0);
        let out = c.handle(Input::Client { client: 2, call_id: 1, call: create_r1() }, 0);
        assert!(out.iter().any(|c| matches!(c, Command::Notify { clients, .. } if clients == &[9])));
        c.handle(Input::ClientGone(9), 0);
        let out = c.handle(Input::Client { client: 2, call_id: 2, call: write(CibCommand::Delete, "resources", r#"<primitive id="r1"/>"#) }, 0);
        assert!(!out.iter().any(|c| matches!(c, Command::Notify { .. })));
    }

    fn prop(id: &str) -> Box<Call> {
        write(CibCommand::Create, "crm_config", &format!(r#"<cluster_property_set id="{id}"/>"#))
    }

    fn has(c: &Core, id: &str) -> bool {
        c.cib().descendants().any(|e| e.id() == Some(id))
    }

    /// Sends a local client's write on `nodes[i]` and delivers everything.
    fn write_on(nodes: &mut [Core], names: &[&str], i: usize, call: Box<Call>) -> Vec<(usize, Answer)> {
        let q = nodes[i].handle(Input::Client { client: 1, call_id: 1, call }, 0);
        deliver(nodes, names, q.into_iter().map(|c| (i, c)).collect())
    }

    #[test]
    fn a_peer_lost_before_confirming_fails_the_write() {
        let mut c = with_peers("n1", &["n2", "n3"]);
        c.handle(Input::Client { client: 1, call_id: 1, call: dc_write("n1", true) }, 0);
        let out = c.handle(Input::Client { client: 2, call_id: 7, call: create_r1() }, 0);
        assert!(!out.iter().any(|c| matches!(c, Command::Reply { .. })), "{out:?}");
        let v = Version::of(c.cib());
        assert!(c.handle(Input::Peer { from: "n2".into(), msg: PeerMsg::Applied { version: v } }, 0).is_empty());
        // n3 may be on the other side of a partition: not acknowledged.
        let out = c.handle(Input::NodeDown("n3".into()), 0);
        assert!(
            out.iter().any(|c| matches!(c, Command::Reply { client: 2, call_id: 7, answer: Answer::Unavailable(w) } if w.contains("n3 was lost"))),
            "{out:?}"
        );
        // A daemon that said goodbye is just not waited for.
        let mut c = with_peers("n1", &["n2"]);
        c.handle(Input::Client { client: 2, call_id: 8, call: create_r1() }, 0);
        let out = c.handle(Input::Peer { from: "n2".into(), msg: PeerMsg::Leave }, 0);
        assert!(out.iter().any(|c| matches!(c, Command::Reply { call_id: 8, answer: Answer::Ok(_), .. })), "{out:?}");
    }

    #[test]
    fn after_a_loss_configuration_writes_wait_for_the_dc_to_state_quorum() {
        let names = ["n1", "n2", "n3"];
        let mut nodes = started(&names);
        assert!(matches!(&write_on(&mut nodes, &names, 0, dc_write("n1", true))[..], [(0, Answer::Ok(_))]));
        assert!(matches!(&write_on(&mut nodes, &names, 1, prop("p1"))[..], [(1, Answer::Ok(_))]));
        // n3 is declared dead: n1 (DC, master) cannot know yet whether
        // its side has quorum.
        nodes[0].handle(Input::NodeDown("n3".into()), 0);
        nodes[1].handle(Input::NodeDown("n3".into()), 0);
        nodes.truncate(2);
        let names = ["n1", "n2"];
        let r = write_on(&mut nodes, &names, 1, prop("p2"));
        assert!(matches!(&r[..], [(1, Answer::Unavailable(w))] if w.contains("not stated quorum")), "{r:?}");
        // crmd restates it after the membership change (nothing changes).
        assert!(matches!(&write_on(&mut nodes, &names, 0, dc_write("n1", true))[..], [(0, Answer::Ok(_))]));
        assert!(matches!(&write_on(&mut nodes, &names, 1, prop("p2"))[..], [(1, Answer::Ok(_))]));
        assert!(nodes.iter().all(|n| has(n, "p2")));
    }

    #[test]
    fn a_node_starting_with_a_copy_that_names_it_dc_takes_no_configuration_write_alone() {
        let mut cib = ops::empty_cib(0);
        cib.set_attr("dc-uuid", "n1");
        cib.set_attr("have-quorum", "1");
        let mut c = Core::new("n1", cib, true, Box::new(|_| true));
        c.handle(Input::Start, 0);
        let out = c.handle(Input::Client { client: 1, call_id: 1, call: create_r1() }, 0);
        assert!(matches!(&out[..], [Command::Reply { answer: Answer::Unavailable(w), .. }] if w.contains("not stated quorum")), "{out:?}");
        // Stand-alone (`cib -s`) there is no DC to wait for.
        let mut cib = ops::empty_cib(0);
        cib.set_attr("dc-uuid", "n1");
        let mut c = Core::new("n1", cib, true, Box::new(|_| true)).stand_alone();
        let out = c.handle(Input::Client { client: 1, call_id: 1, call: create_r1() }, 0);
        assert!(matches!(out.last(), Some(Command::Reply { answer: Answer::Ok(_), .. })), "{out:?}");
    }

    /// haresources mode: n1 restarts with a configuration generated from a
    /// changed file while n2 runs the cluster as an authority. n2's copy
    /// replaces n1's at the join, n1's proposal is written through n2,
    /// and both end up with it (n2's nodes section kept); a second
    /// restart with the same file changes nothing.
    #[test]
    fn a_restarted_node_proposes_its_haresources_configuration_to_the_authority() {
        let names = ["n1", "n2"];
        let mut nodes = started(&names);
        assert!(matches!(&write_on(&mut nodes, &names, 1, dc_write("n2", true))[..], [(1, Answer::Ok(_))]));
        let node = r#"<node id="n1" uname="n1"/>"#;
        assert!(matches!(&write_on(&mut nodes, &names, 1, write(CibCommand::Create, "nodes", node))[..], [(1, Answer::Ok(_))]));
        // n1 stops; n2 carries on alone.
        nodes[0].handle(Input::Stop, 0);
        nodes[1].handle(Input::Peer { from: "n1".into(), msg: PeerMsg::Leave }, 0);
        nodes.remove(0);
        assert!(nodes[0].authority());
        for round in 0..2 {
            let mut config = nodes[0].cib().child("configuration").unwrap().clone();
            config.child_mut("nodes").unwrap().children.clear();
            let rsc = parse_element(r#"<primitive id="from-file" class="ocf" provider="heartbeat" type="Dummy"/>"#).unwrap();
            if round == 0 {
                config.child_mut("resources").unwrap().children.push(Node::Element(rsc));
            }
            let v = Version::of(nodes[0].cib());
            // The restarted n1's copy is ahead of n2's (epoch + 1) but
            // not an authority.
            let mut cib = nodes[0].cib().clone();
            cib.remove_attr("dc-uuid");
            cib.set_attr("epoch", (v.epoch + 1).to_string());
            let n1 = Core::new("n1", cib, true, Box::new(|_| true)).with_proposal(config);
            nodes.insert(0, n1);
            let q = nodes[0].handle(Input::Start, 0).into_iter().map(|c| (0, c)).collect();
            deliver(&mut nodes, &names, q);
            for n in &nodes {
                assert!(has(n, "from-file"), "{} lacks the file's resource (round {round})", n.me);
                assert!(has(n, "n1"), "{} lost the cluster's node entry", n.me);
                assert_eq!(n.cib(), nodes[1].cib(), "{} differs", n.me);
            }
            if round == 1 {
                assert_eq!(Version::of(nodes[1].cib()), v, "the same file again writes nothing");
            }
            nodes[0].handle(Input::Stop, 0);
            nodes[1].handle(Input::Peer { from: "n1".into(), msg: PeerMsg::Leave }, 0);
            nodes.remove(0);
        }
    }

    /// A two-node link cut without fencing: both halves keep quorum, both
    /// DCs are authorities and write. At the heal the two copies must
    /// converge (the higher version; the lower name at equal versions)
    /// instead of each ignoring the other as "not the master".
    #[test]
    fn two_authorities_converge_at_the_heal() {
        for extra_on_n2 in [true, false] {
            let names = ["n1", "n2"];
            let mut nodes = started(&names);
            assert!(matches!(&write_on(&mut nodes, &names, 0, dc_write("n1", true))[..], [(0, Answer::Ok(_))]));
            let mut n2 = vec![nodes.remove(1)];
            let mut n1 = nodes;
            n1[0].handle(Input::NodeDown("n2".into()), 0);
            n2[0].handle(Input::NodeDown("n1".into()), 0);
            assert!(matches!(&write_on(&mut n1, &["n1"], 0, dc_write("n1", true))[..], [(0, Answer::Ok(_))]));
            assert!(matches!(&write_on(&mut n2, &["n2"], 0, dc_write("n2", true))[..], [(0, Answer::Ok(_))]));
            assert!(matches!(&write_on(&mut n1, &["n1"], 0, prop("on-n1"))[..], [(0, Answer::Ok(_))]));
            assert!(matches!(&write_on(&mut n2, &["n2"], 0, prop("on-n2"))[..], [(0, Answer::Ok(_))]));
            if extra_on_n2 {
                assert!(matches!(&write_on(&mut n2, &["n2"], 0, prop("more-on-n2"))[..], [(0, Answer::Ok(_))]));
            }
            assert!(n1[0].authority() && n2[0].authority());
            let mut nodes = vec![n1.remove(0), n2.remove(0)];
            let mut queue = Vec::new();
            for (i, p) in [(0usize, "n2"), (1, "n1")] {
                queue.extend(nodes[i].handle(Input::NodeUp(p.into()), 0).into_iter().map(|c| (i, c)));
            }
            deliver(&mut nodes, &names, queue);
            assert_eq!(nodes[0].cib(), nodes[1].cib(), "the copies converged (extra write on n2: {extra_on_n2})");
            let winner = if extra_on_n2 { "on-n2" } else { "on-n1" };
            assert!(has(&nodes[0], winner), "{winner} kept");
            assert_eq!(nodes[0].master(), nodes[1].master());
        }
    }

    /// The chaos run's lost writes, reduced: a partition {n1} | {n2, n3}
    /// with n1 the DC. n1 applies writes until heartbeat declares the
    /// others dead (never acknowledged: nobody confirmed them), the
    /// majority elects n2 and acknowledges fewer writes. When the
    /// partition heals, n1's copy has the higher version, but the
    /// majority's authority copy wins: every acknowledged write survives.
    #[test]
    fn at_a_merge_the_quorate_copy_wins_over_a_minority_with_a_higher_version() {
        let names = ["n1", "n2", "n3"];
        let mut nodes = started(&names);
        assert!(matches!(&write_on(&mut nodes, &names, 0, dc_write("n1", true))[..], [(0, Answer::Ok(_))]));
        assert!(matches!(&write_on(&mut nodes, &names, 2, prop("before"))[..], [(2, Answer::Ok(_))]));
        let mut acked = vec!["before"];
        // The link cut: n1 alone.
        let mut n1 = vec![nodes.remove(0)];
        let mut maj = nodes;
        let (one, two) = (["n1"], ["n2", "n3"]);
        for id in ["lost-1", "lost-2", "lost-3"] {
            let r = write_on(&mut n1, &one, 0, prop(id));
            assert!(r.is_empty(), "not answered before n2 and n3 confirm: {r:?}");
        }
        let out = n1[0].handle(Input::NodeDown("n2".into()), 0);
        assert!(out.iter().all(|c| !matches!(c, Command::Reply { answer: Answer::Ok(_), .. })), "{out:?}");
        n1[0].handle(Input::NodeDown("n3".into()), 0);
        let r = write_on(&mut n1, &one, 0, prop("lost-4"));
        assert!(matches!(&r[..], [(0, Answer::Unavailable(_))]), "alone, before its DC states quorum: {r:?}");
        for n in &mut maj {
            n.handle(Input::NodeDown("n1".into()), 0);
        }
        assert!(matches!(&write_on(&mut maj, &two, 1, dc_write("n2", true))[..], [(1, Answer::Ok(_))]));
        assert!(matches!(&write_on(&mut maj, &two, 1, prop("majority"))[..], [(1, Answer::Ok(_))]));
        acked.push("majority");
        assert!(Version::of(n1[0].cib()) > Version::of(maj[0].cib()), "the minority's copy is ahead");
        // The heal: heartbeat reports the nodes up again on both sides.
        let mut nodes = vec![n1.remove(0), maj.remove(0), maj.remove(0)];
        let mut queue = Vec::new();
        for (i, peers) in [(0usize, vec!["n2", "n3"]), (1, vec!["n1"]), (2, vec!["n1"])] {
            for p in peers {
                queue.extend(nodes[i].handle(Input::NodeUp(p.into()), 0).into_iter().map(|c| (i, c)));
            }
        }
        deliver(&mut nodes, &names, queue);
        for n in &nodes {
            for id in &acked {
                assert!(has(n, id), "{id} missing on {}", n.me);
            }
            assert_eq!(n.cib(), nodes[1].cib(), "{} differs", n.me);
            assert_eq!(n.master(), "n2");
        }
    }

    #[test]
    fn ctime_matches_the_c_library() {
        assert_eq!(ctime(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(ctime(1_700_000_000), "Tue Nov 14 22:13:20 2023");
        assert_eq!(ctime(951_782_400), "Tue Feb 29 00:00:00 2000");
    }

    /// Three cores and a perfect network: whatever node a write is made
    /// on, every copy ends up identical.
    #[test]
    fn three_nodes_converge() {
        let names = ["n1", "n2", "n3"];
        let mut nodes: Vec<Core> = names.iter().map(|n| core(n)).collect();
        let mut queue: Vec<(usize, Command)> = Vec::new();
        for (i, n) in nodes.iter_mut().enumerate() {
            queue.extend(n.handle(Input::Start, 0).into_iter().map(|c| (i, c)));
        }
        let run = |nodes: &mut Vec<Core>, mut queue: Vec<(usize, Command)>| {
            let mut replies = Vec::new();
            while !queue.is_empty() {
                let (from, c) = queue.remove(0);
                match c {
                    Command::Send { dest, msg } => {
                        for (j, n) in nodes.iter_mut().enumerate() {
                            if j != from && dest.as_deref().is_none_or(|d| d == names[j]) {
                                let input = Input::Peer { from: names[from].into(), msg: msg.clone() };
                                queue.extend(n.handle(input, 0).into_iter().map(|c| (j, c)));
                            }
                        }
                    }
                    Command::Reply { answer, .. } => replies.push(answer),
                    _ => {}
                }
            }
            replies
        };
        run(&mut nodes, queue);
        assert!(nodes.iter().all(|n| n.master() == "n1"));
        for (i, id) in [(2usize, "a"), (1, "b"), (0, "c")] {
            let call = write(CibCommand::Create, "resources", &format!(r#"<primitive id="{id}" class="ocf" provider="heartbeat" type="Dummy"/>"#));
            let q = nodes[i].handle(Input::Client { client: 1, call_id: 1, call }, 0).into_iter().map(|c| (i, c)).collect();
            assert_eq!(run(&mut nodes, q), vec![Answer::Ok(None)]);
        }
        assert_eq!(Version::of(nodes[0].cib()), Version::new(0, 3, 0));
        assert!(nodes.iter().all(|n| n.cib() == nodes[0].cib()));
    }
}
