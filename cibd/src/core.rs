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
        PeerMsg::Announce { version: v, digest: digest.into(), reply }
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
                Command::Reply { client: 5, call_id: 1, answer: Answer::Ok(None) },
            ]
        );
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
        assert!(matches!(&out[..], [Command::Log(_), Command::Reply { client: 7, call_id: 3, answer: Answer::Unavailable(_) }]));
        assert!(c.is_master());
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
        c.handle(Input::Peer { from: "n3".into(), msg: PeerMsg::Full { cib: old, force: false } }, 0);
        assert_eq!(c.cib(), &mine);
        let new = parse_element(r#"<cib epoch="5" num_updates="0" admin_epoch="0"><configuration><resources/></configuration><status/></cib>"#).unwrap();
        let out = c.handle(Input::Peer { from: "n3".into(), msg: PeerMsg::Full { cib: new.clone(), force: false } }, 0);
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
