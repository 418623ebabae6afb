//! The CIB of one node, without I/O: `handle(input, now) -> Vec<Command>`.
//!
//! ```text
//!  Input::Client (IPC call)  --+                       +--> Command::Reply     (to a local client)
//!  Input::Peer (cib message) --+--> Core::handle ------+--> Command::Send      (to one peer or all)
//!  Input::NodeUp/NodeDown    --+    (master: apply,    +--> Command::Persist   (cib.xml + sig)
//!  Input::Start/Stop         --+     replica: forward) +--> Command::Notify    (diff to subscribers)
//! ```
//!
//! **Who is master (interim).** The lowest node name among this node and
//! the peers whose cib daemon announced itself and that heartbeat has not
//! declared dead. crmd's DC election replaces this rule later; until then
//! every node computes the same answer once announcements have crossed.
//!
//! **Writes** go to the master. It applies them with cibadmin's own
//! operations ([`tools::cibadmin::ops::perform`], Pacemaker's version
//! rules), broadcasts the change as a v2 patchset, persists it and answers.
//! A replica forwards a local write to the master and relays the answer;
//! since heartbeat delivers one sender's messages in order, the diff
//! reaches the forwarding replica before the answer does, so the client
//! that made a change reads it back from its own node at once.
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
    /// Our forwarded writes awaiting the master's answer: our call number
    /// -> (client, client's call id, the master it went to).
    forwarded: BTreeMap<u64, (ClientId, u64, String)>,
    next_call: u64,
    /// Connections that asked for diff notifications.
    subscribers: BTreeSet<ClientId>,
    /// The on-disk form last persisted, so writes that only move
    /// `num_updates` or the status section do not rewrite cib.xml.
    persisted: Option<Element>,
    /// Schema check for configuration changes (`tools::cibadmin::schema_valid`
    /// in the daemon; tests may pass a simpler one).
    valid: Box<dyn Fn(&Element) -> bool + Send>,
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
            next_call: 1,
            subscribers: BTreeSet::new(),
            persisted,
            valid,
        }
    }

    pub fn cib(&self) -> &Element {
        &self.cib
    }

    /// The master by the interim rule (see the module docs).
    pub fn master(&self) -> &str {
        self.peers.keys().map(String::as_str).chain([self.me.as_str()]).min().unwrap_or(&self.me)
    }

    pub fn is_master(&self) -> bool {
        self.master() == self.me
    }

    /// The peers this node knows to run a cib daemon.
    pub fn peers(&self) -> impl Iterator<Item = &str> {
        self.peers.keys().map(String::as_str)
    }

    fn announce(&self, reply: bool) -> PeerMsg {
        PeerMsg::Announce { version: Version::of(&self.cib), digest: on_disk_digest(&self.cib), reply }
    }

    pub fn handle(&mut self, input: Input, now: UnixSecs) -> Vec<Command> {
        let mut out = Vec::new();
        match input {
            Input::Start => {
                out.push(Command::Send { dest: None, msg: self.announce(false) });
                self.persist_if_changed(&mut out);
            }
            Input::Stop => out.push(Command::Send { dest: None, msg: PeerMsg::Leave }),
            Input::Client { client, call_id, call } => self.client_call(client, call_id, *call, now, &mut out),
            Input::ClientGone(client) => {
                self.subscribers.remove(&client);
                self.forwarded.retain(|_, (c, _, _)| *c != client);
            }
            Input::Peer { from, msg } => {
                if from != self.me {
                    self.peer(from, msg, now, &mut out);
                }
            }
            Input::NodeUp(_) => {
                // Nothing yet: a node counts once its cib daemon announces itself.
            }
            Input::NodeDown(node) => self.peer_gone(&node, "is dead", &mut out),
        }
        out
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
                let answer = self.apply(&call, &self.me.clone(), now, out);
                out.push(reply(answer));
            }
            _ => {
                let n = self.next_call;
                self.next_call += 1;
                let master = self.master().to_string();
                self.forwarded.insert(n, (client, call_id, master.clone()));
                out.push(Command::Send { dest: Some(master), msg: PeerMsg::Request { call: n, call_data: Box::new(call) } });
            }
        }
    }

    fn peer(&mut self, from: String, msg: PeerMsg, now: UnixSecs, out: &mut Vec<Command>) {
        match msg {
            PeerMsg::Announce { version, digest, reply } => {
                let new_peer = self.peers.insert(from.clone(), version).is_none();
                if new_peer {
                    out.push(Command::Log(format!("cib daemon of {from} joined at version {version}")));
                }
                if !reply {
                    out.push(Command::Send { dest: Some(from.clone()), msg: self.announce(true) });
                }
                let mine = Version::of(&self.cib);
                let master_differs = version == mine && from == self.master() && digest != on_disk_digest(&self.cib);
                if version > mine || master_differs {
                    out.push(Command::Log(format!("{from} has version {version}, ours is {mine}: requesting its CIB")));
                    out.push(Command::Send { dest: Some(from), msg: PeerMsg::SyncRequest });
                }
            }
            PeerMsg::Leave => self.peer_gone(&from, "stopped its cib daemon", out),
            PeerMsg::Request { call, call_data } => {
                let answer = if self.is_master() {
                    self.apply(&call_data, &from, now, out)
                } else {
                    Answer::Unavailable(format!("{} is not the master ({} is)", self.me, self.master()))
                };
                out.push(Command::Send { dest: Some(from), msg: PeerMsg::Reply { call, answer } });
            }
            PeerMsg::Reply { call, answer } => {
                if let Some((client, call_id, _)) = self.forwarded.remove(&call) {
                    out.push(Command::Reply { client, call_id, answer });
                }
            }
            PeerMsg::Diff { patch } => self.apply_diff(&from, &patch, out),
            PeerMsg::SyncRequest => {
                out.push(Command::Send { dest: Some(from), msg: PeerMsg::Full { cib: self.cib.clone(), force: false } });
            }
            PeerMsg::Full { cib, force } => {
                let (theirs, mine) = (Version::of(&cib), Version::of(&self.cib));
                let from_master = from == self.master();
                if cib != self.cib && (theirs > mine || (from_master && (force || theirs == mine))) {
                    out.push(Command::Log(format!("replacing our CIB {mine} with {theirs} from {from}")));
                    self.install(cib, out);
                    if self.is_master() {
                        // Peers behind us learn that there is something newer.
                        out.push(Command::Send { dest: None, msg: self.announce(true) });
                    }
                }
            }
        }
    }

    /// A peer's cib daemon is gone: it is no longer a master candidate,
    /// and writes we forwarded to it will never be answered.
    fn peer_gone(&mut self, node: &str, why: &str, out: &mut Vec<Command>) {
        if self.peers.remove(node).is_some() {
            out.push(Command::Log(format!("{node} {why}; master is now {}", self.master())));
        }
        let lost: Vec<u64> = self.forwarded.iter().filter(|(_, (_, _, m))| m == node).map(|(n, _)| *n).collect();
        for n in lost {
            let (client, call_id, _) = self.forwarded.remove(&n).expect("listed above");
            let answer = Answer::Unavailable(format!("the master ({node}) left before answering"));
            out.push(Command::Reply { client, call_id, answer });
        }
    }

    /// Performs a write on the master copy.
    fn apply(&mut self, call: &Call, origin: &str, now: UnixSecs, out: &mut Vec<Command>) -> Answer {
        if call.op == Op::Sync {
            out.push(Command::Send { dest: None, msg: PeerMsg::Full { cib: self.cib.clone(), force: true } });
            return Answer::Ok(None);
        }
        let done = match ops::perform(&self.cib, &call.request, &*self.valid) {
            Ok(s) => s,
            Err(f) => return Answer::Failed(f),
        };
        let Some(mut new) = done.cib else { return Answer::Ok(done.output) };
        if new == self.cib {
            return Answer::Ok(done.output);
        }
        let old_version = Version::of(&self.cib);
        if Version::of(&new).epoch != old_version.epoch || Version::of(&new).admin_epoch != old_version.admin_epoch {
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
            Err(_) => PeerMsg::Full { cib: new.clone(), force: true },
        };
        out.push(Command::Send { dest: None, msg });
        self.cib = new;
        self.persist_if_changed(out);
        if let Ok(p) = patch {
            self.notify(p, out);
        }
        Answer::Ok(done.output)
    }

    fn apply_diff(&mut self, from: &str, patch: &Element, out: &mut Vec<Command>) {
        let mut next = self.cib.clone();
        match patchset::apply(&mut next, patch) {
            Ok(()) => {
                strip_blank_text(&mut next);
                self.cib = next;
                self.persist_if_changed(out);
                self.notify(patch.clone(), out);
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
        self.cib = cib;
        self.persist_if_changed(out);
        if let Some(p) = patch {
            self.notify(p, out);
        }
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
        let (client, call_id, _) = self.forwarded.remove(&call)?;
        Some(Command::Reply { client, call_id, answer: Answer::Unavailable(why.to_string()) })
    }
}

/// Patchsets carry no indentation, but a created subtree may bring text
/// nodes in; the in-memory CIB holds none (as Pacemaker's).
fn strip_blank_text(e: &mut Element) {
    e.children.retain(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()));
    for c in e.elements_mut() {
        strip_blank_text(c);
    }
}
