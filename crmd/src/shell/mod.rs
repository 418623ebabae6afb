//! The crmd daemon's I/O around [`Controller`]: one tokio `select!` loop.
//!
//! ```text
//!  heartbeat API (t=msg t=crmd) --> wire::decode --> Event::Message / lrm ops / results
//!  ccm.sock views -----------------------------------> Event::Membership
//!  cib.sock diffs --> status::summarize ---------------> Event::CibChanged, action confirmations
//!  lrmd.sock events ----------------------------------> lrm_rsc_op writes, fail counts
//!  timers, SIGTERM -----------------------------------> Event::Timer / Event::Shutdown
//!                              Controller::handle --> Command --> heartbeat sends, timers,
//!                                                     status writes, compute, execute (te.rs)
//! ```
//!
//! - `mod.rs`: the loop, the controller's commands, the DC's status writes.
//! - `te.rs`: the DC's transition engine: computing (`policy.rs`), running
//!   the graph with [`tengine::Executor`], confirmations.
//! - `lrm_ops.rs`: the node side: actions on lrmd, their records in the
//!   CIB, fail counts, the node's history rebuilt at join.
//! - `fencing.rs`: the DC's fencing requests to stonithd, and which lost
//!   nodes must be fenced rather than taken as stopped.
//! - `lost_nodes.rs`: without fencing, a lost node's resources are
//!   recovered only after `lost-node-grace`.
//! - `quorum_loss.rs`: quorum lost, this node stops its resources at once.
//! - `cib_client.rs`: the async cib connections.
//!
//! [`run`] takes its connections from the caller (the binary opens them).

mod alerts;
mod attrs;
mod cib_client;
mod fencing;
mod lost_nodes;
mod lrm_ops;
pub mod policy;
mod quorum_loss;
mod te;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use cib::{Element, Version};
use tokio::time::Instant;
use transport::api_async::Heartbeat;
use transport::wire::Value;

use crate::controller::{Command, Config, Controller, Event, StatusUpdate, Timer};
use crate::message::{Destination, Message};
use crate::status;
use crate::wire::{self, Wire};
use crate::Phase;

pub use cib_client::CibClient;

/// What the daemon needs besides its connections.
#[derive(Debug, Clone)]
pub struct Setup {
    pub config: Config,
    pub cib_socket: PathBuf,
    pub ccm_socket: PathBuf,
    pub lrmd_socket: PathBuf,
    /// The pengine daemon (in-process scheduling when it is not there).
    pub pengine_socket: PathBuf,
    /// attrd (direct CIB writes of attributes when it is not there).
    pub attrd_socket: PathBuf,
    /// The local stonithd, which carries out the DC's fencing actions.
    pub stonithd_socket: PathBuf,
    /// How long to wait for cib/ccm/lrmd sockets at start.
    pub wait: Duration,
    /// The DC's keepalive period (`alive` messages).
    pub keepalive: Duration,
    /// Heartbeat's keepalive (ha.cf): the default `lost-node-grace` is
    /// twice this plus the lost node's longest operation.
    pub hb_keepalive: Duration,
    /// A follower that hears nothing from its DC's crmd for this long
    /// (while the DC's node stays a member) elects a new DC.
    pub dc_silence: Duration,
}

/// Epoch seconds (for `last-failure`, `shutdown` and the scheduler's now).
pub(crate) fn epoch() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Why the controller was fed an event, for the "State transition" line
/// (Pacemaker's cause and origin).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cause {
    cause: &'static str,
    origin: &'static str,
}

const C_CCM: Cause = Cause { cause: "C_CCM_CALLBACK", origin: "ccm_event" };
const C_MSG: Cause = Cause { cause: "C_HA_MESSAGE", origin: "route_message" };
const C_TIMER: Cause = Cause { cause: "C_TIMER_POPPED", origin: "crm_timer_popped" };
const C_CIB: Cause = Cause { cause: "C_FSA_INTERNAL", origin: "abort_transition_graph" };
const C_PE: Cause = Cause { cause: "C_IPC_MESSAGE", origin: "handle_response" };
const C_TE: Cause = Cause { cause: "C_FSA_INTERNAL", origin: "notify_crmd" };
const C_SHUTDOWN: Cause = Cause { cause: "C_SHUTDOWN", origin: "crm_shutdown" };

/// The daemon's state besides the controller.
pub(crate) struct Shell {
    me: String,
    ctl: Controller,
    start: Instant,
    hb: Heartbeat,
    cib: CibClient,
    lrmd: lrmd::async_client::AsyncClient,
    timers: BTreeMap<Timer, Instant>,
    /// Events raised while carrying out commands, fed in order.
    events: VecDeque<(Event, Cause)>,
    /// The DC's transition engine.
    te: te::Engine,
    /// The DC's fencing requests (answered through the loop's channel).
    fencer: fencing::Fencer,
    /// Node side: operations asked of lrmd, by call id.
    ops: HashMap<u32, lrm_ops::PendingOp>,
    /// The node ids the CIB's `<node>` entries give (uname -> id).
    node_ids: BTreeMap<String, String>,
    pengine_socket: PathBuf,
    attrd_socket: PathBuf,
    /// When each peer last said `alive` (as a DC).
    heard: HashMap<String, Instant>,
    /// DC: when each joined follower last said `member_alive`.
    heard_members: HashMap<String, Instant>,
    /// DC: `dc-uuid` in the CIB may not name us (our write failed, e.g.
    /// forwarded to a master that died, or another copy replaced it): it
    /// is written again at the next keepalive tick. The cib daemons take
    /// the master from it (docs/CIB_DAEMON.md).
    dc_mark_stale: bool,
    /// The next keepalive tick.
    tick_at: Instant,
    keepalive: Duration,
    dc_silence: Duration,
    /// DC: lost nodes whose recovery waits for `lost-node-grace`.
    grace: lost_nodes::Grace,
    /// Heartbeat's keepalive (for the default grace).
    hb_keepalive: Duration,
    /// Quorum lost: the local resources being stopped at once.
    quorum_stop: quorum_loss::EmergencyStop,
    /// SIGTERM seen: a second one exits at once.
    shutting_down: bool,
    /// Alert agents (the CIB's alerts section).
    alerter: alerts::Alerter,
    exit: bool,
}

/// Runs until the controller exits (`Ok`) or a connection is lost (`Err`:
/// heartbeat respawns the daemon).
pub async fn run(setup: Setup, hb: Heartbeat, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let me = setup.config.name.clone();
    let mut ccm = wait_for(setup.wait, "ccm", || ccm::client::watch(&setup.ccm_socket)).await?;
    let cib = CibClient::connect(&setup.cib_socket, setup.wait).await?;
    let mut diffs = cib_client::notifications(&setup.cib_socket, setup.wait).await?;
    let (lrmd, mut lrm_events) =
        wait_for(setup.wait, "lrmd", || lrmd::async_client::connect(&setup.lrmd_socket)).await?;
    lrmd.subscribe().await.context("lrmd subscribe")?;
    let (fence_tx, mut fence_rx) = tokio::sync::mpsc::unbounded_channel();
    let start = Instant::now();
    let mut shell = Shell {
        me: me.clone(),
        ctl: Controller::new(setup.config.clone(), Duration::ZERO),
        start,
        hb,
        cib,
        lrmd,
        timers: BTreeMap::new(),
        events: VecDeque::new(),
        te: te::Engine::new(),
        fencer: fencing::Fencer::new(&setup.stonithd_socket, fence_tx),
        ops: HashMap::new(),
        node_ids: BTreeMap::new(),
        pengine_socket: setup.pengine_socket.clone(),
        attrd_socket: setup.attrd_socket.clone(),
        heard: HashMap::new(),
        heard_members: HashMap::new(),
        dc_mark_stale: false,
        tick_at: start + setup.keepalive,
        keepalive: setup.keepalive,
        dc_silence: setup.dc_silence,
        grace: lost_nodes::Grace::default(),
        hb_keepalive: setup.hb_keepalive,
        quorum_stop: quorum_loss::EmergencyStop::default(),
        shutting_down: false,
        alerter: alerts::Alerter::default(),
        exit: false,
    };
    let cib_now = shell.cib.query().await?;
    shell.ctl.set_cib_version(Version::of(&cib_now));
    shell.learn_node_ids(&cib_now);
    tracing::info!("crmd: connected to heartbeat, ccm, cib and lrmd; waiting for the membership");

    tokio::pin!(shutdown);
    let mut term = signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut shutdown_done = false;
    while !shell.exit {
        let wake = shell.next_wakeup();
        tokio::select! {
            f = shell.hb.next_frame() => {
                match f {
                    Some(Ok(m)) => shell.on_heartbeat(m).await?,
                    Some(Err(e)) => bail!("heartbeat connection: {e}"),
                    None => bail!("heartbeat closed the connection"),
                }
            }
            v = ccm.next() => {
                match v.context("ccm")? {
                    Some(Some(view)) => {
                        let old = shell.ctl.view().map(|v| v.members.clone()).unwrap_or_default();
                        for gone in old.difference(&view.members) {
                            shell.te.node_lost(gone);
                        }
                        for (node, member) in old.symmetric_difference(&view.members).map(|n| (n.clone(), view.members.contains(n))) {
                            let nodeid = shell.node_id(&node);
                            shell.alert(crate::alerts::Event::Node { node, nodeid, member }).await?;
                        }
                        shell.grace.view(&old, &view.members, Instant::now());
                        // Before the controller's reaction: the stop must
                        // not wait for an election and a transition.
                        shell.quorum_view(view.quorum).await?;
                        shell.events.push_back((Event::Membership(view), C_CCM));
                    }
                    Some(None) => {}
                    None => bail!("ccm closed its socket"),
                }
            }
            d = diffs.recv() => {
                let Some(d) = d else { bail!("the cib closed the notification connection") };
                shell.on_diff(&d).await?;
            }
            r = lrm_events.recv() => {
                let Some(r) = r else { bail!("lrmd closed the connection") };
                let call_id = r.call_id;
                shell.on_lrm_event(r).await?;
                shell.emergency_stop_event(call_id).await?;
            }
            // The shell holds a sender, so the channel never closes.
            Some(done) = fence_rx.recv() => shell.on_fence_done(done).await?,
            _ = tokio::time::sleep_until(wake) => shell.on_wakeup().await?,
            _ = &mut shutdown, if !shutdown_done => {
                shutdown_done = true;
                shell.on_shutdown_signal();
            }
            _ = term.recv() => shell.on_shutdown_signal(),
        }
        shell.process().await?;
    }
    tracing::info!("crmd: exiting");
    Ok(())
}

fn signal(kind: tokio::signal::unix::SignalKind) -> anyhow::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind).context("cannot catch signals")
}

/// Retries `connect` until it succeeds or `wait` has passed.
async fn wait_for<T, E: std::fmt::Display, F: Future<Output = Result<T, E>>>(
    wait: Duration,
    what: &str,
    mut connect: impl FnMut() -> F,
) -> anyhow::Result<T> {
    let deadline = Instant::now() + wait;
    loop {
        match connect().await {
            Ok(t) => return Ok(t),
            Err(e) if Instant::now() >= deadline => bail!("cannot reach {what}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

impl Shell {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// The earliest timer or transition deadline (far away when none).
    fn next_wakeup(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        let timer = self.timers.values().min().copied().unwrap_or(far);
        let te = self.te.next_deadline().map(|ms| self.start + Duration::from_millis(ms)).unwrap_or(far);
        let grace = self.grace.next_deadline().unwrap_or(far);
        timer.min(te).min(self.tick_at).min(grace)
    }

    async fn on_wakeup(&mut self) -> anyhow::Result<()> {
        let now = Instant::now();
        let due: Vec<Timer> = self.timers.iter().filter(|(_, at)| **at <= now).map(|(t, _)| *t).collect();
        for t in due {
            self.timers.remove(&t);
            self.events.push_back((Event::Timer(t), C_TIMER));
        }
        let now_ms = self.now_ms();
        self.te.expire(now_ms);
        self.lost_nodes_due().await?;
        if self.tick_at <= now {
            self.tick_at = now + self.keepalive;
            self.keepalive_tick(now).await?;
        }
        Ok(())
    }

    /// The DC says it is alive and checks that its joined followers do;
    /// a follower says so to its DC and checks that its DC does.
    async fn keepalive_tick(&mut self, now: Instant) -> anyhow::Result<()> {
        if self.ctl.state().is_dc() {
            self.check_followers(now);
            if self.dc_mark_stale {
                let quorum = self.ctl.view().is_some_and(|v| v.quorum);
                tracing::info!("crmd: writing dc-uuid again");
                self.write_status(StatusUpdate::Dc { node: self.me.clone(), quorum }).await?;
            }
            return self.send_wire(None, &Wire::Alive).await;
        }
        self.dc_mark_stale = false;
        self.heard_members.clear();
        let Some(dc) = self.ctl.dc().map(str::to_string) else { return Ok(()) };
        if dc == self.me || !matches!(self.ctl.state(), crate::State::NotDc | crate::State::Pending) {
            return Ok(());
        }
        if self.ctl.state() == crate::State::NotDc {
            self.send_wire(Some(&dc), &Wire::MemberAlive).await?;
        }
        let last = *self.heard.entry(dc.clone()).or_insert(now);
        if now.duration_since(last) >= self.dc_silence {
            tracing::warn!("crmd: the DC's crmd ({dc}) has been silent for {:?}: electing a new DC", now.duration_since(last));
            self.heard.remove(&dc);
            self.events.push_back((Event::PeerLost { node: dc }, C_TIMER));
        }
        Ok(())
    }

    /// DC: a joined follower whose crmd has been silent for the silence
    /// timeout while its node stays a member lost its controller
    /// (`Event::PeerLost`). A follower is given the whole timeout from the
    /// moment it is first seen joined.
    fn check_followers(&mut self, now: Instant) {
        let members: Vec<String> = self.ctl.view().map(|v| v.members.iter().cloned().collect()).unwrap_or_default();
        let joined: Vec<String> =
            members.into_iter().filter(|m| *m != self.me && self.ctl.join_phase(m) == Phase::Confirmed).collect();
        self.heard_members.retain(|n, _| joined.contains(n));
        for node in joined {
            let last = *self.heard_members.entry(node.clone()).or_insert(now);
            if now.duration_since(last) >= self.dc_silence {
                tracing::warn!(
                    "crmd: the crmd of {node} has been silent for {:?} while its node is a member: its controller left",
                    now.duration_since(last)
                );
                self.heard_members.remove(&node);
                self.events.push_back((Event::PeerLost { node }, C_TIMER));
            }
        }
    }

    fn on_shutdown_signal(&mut self) {
        if self.shutting_down {
            tracing::warn!("crmd: second shutdown request: exiting now");
            self.exit = true;
            return;
        }
        self.shutting_down = true;
        tracing::info!("crmd: shutdown requested");
        self.events.push_back((Event::Shutdown, C_SHUTDOWN));
    }

    async fn on_heartbeat(&mut self, frame: transport::wire::Message) -> anyhow::Result<()> {
        match frame.get_str("t") {
            Some("msg") => {}
            Some("error") => {
                tracing::debug!("crmd: heartbeat refused a send: {}", frame.get_str("reason").unwrap_or("?"));
                return Ok(());
            }
            _ => return Ok(()),
        }
        let Some(Value::Struct(inner)) = frame.get("msg") else { return Ok(()) };
        let Some(from) = inner.get_str("src").map(str::to_string) else { return Ok(()) };
        if from == self.me {
            return Ok(());
        }
        match wire::decode(inner) {
            Some(Wire::Controller(msg)) => self.events.push_back((Event::Message { from, msg }, C_MSG)),
            Some(Wire::LrmOp { transition, action_id, key, graph_xml }) => {
                self.on_lrm_op(&from, transition, action_id, &key, &graph_xml).await?
            }
            Some(Wire::LrmResult { transition, action_id, rc, op_status }) => {
                self.te.remote_result(transition, action_id, rc, op_status)
            }
            // Only `alive` counts: a node that stopped being DC but still
            // votes or joins must look silent to those who follow it.
            Some(Wire::Alive) => {
                self.heard.insert(from, Instant::now());
            }
            Some(Wire::Leaving) => {
                self.heard.remove(&from);
                self.heard_members.remove(&from);
                self.events.push_back((Event::PeerLost { node: from }, C_MSG));
            }
            Some(Wire::MemberAlive) => {
                self.heard_members.insert(from.clone(), Instant::now());
                if self.ctl.crmd_lost(&from) {
                    tracing::info!("crmd: the crmd of {from} speaks again: offering it a join");
                    self.events.push_back((Event::PeerAlive { node: from }, C_MSG));
                }
            }
            Some(Wire::Shutdown) => {
                tracing::info!("crmd: the DC ({from}) allows our shutdown");
                self.events.push_back((Event::Stop, C_MSG));
            }
            None => {}
        }
        Ok(())
    }

    /// A change of the local CIB: confirmations for the running
    /// transition, and a new transition when something relevant changed.
    async fn on_diff(&mut self, diff: &Element) -> anyhow::Result<()> {
        self.alerter.observe_diff(diff);
        if let Some(v) = diff.child("version").and_then(|v| v.child("target")) {
            self.ctl.set_cib_version(Version::of(v));
        }
        if self.ctl.state().is_dc() {
            // A copy of the CIB taken from another node (a join sync from a
            // newer copy, partitions that merged) replaces the status we
            // wrote: node states we never delete go, or our own is marked
            // down, or another DC is named. Every node joins again so the
            // status is rebuilt, and dc-uuid is written again.
            let me = self.node_id(&self.me);
            let lost = status::deleted_node_states(diff);
            let other_dc = status::dc_uuid_set(diff).filter(|dc| *dc != me);
            let why = if !lost.is_empty() {
                Some(format!("it lost node states ({})", lost.join(", ")))
            } else if status::marks_down(diff, &me) {
                Some(format!("it marks us ({}) down", self.me))
            } else {
                other_dc.map(|dc| format!("it names {dc} as the DC"))
            };
            if let Some(why) = why {
                tracing::warn!("crmd: the CIB was taken from another node ({why}): every node joins again to rebuild the status");
                self.events.push_back((Event::StatusLost, C_CIB));
            }
        }
        let summary = status::summarize(diff);
        let mut reason = summary.reason;
        for op in &summary.ops {
            if let Some(why) = self.te.observe_op(op) {
                reason.get_or_insert(why);
            }
        }
        if let Some(why) = reason {
            if self.ctl.state().is_dc() {
                tracing::info!("crmd: CIB change needs a new transition: {why}");
            }
            let version = self.ctl_cib_version();
            self.events.push_back((Event::CibChanged { version }, C_CIB));
        }
        Ok(())
    }

    fn ctl_cib_version(&self) -> Version {
        self.ctl.cib_version()
    }

    /// Feeds queued events to the controller and carries out its
    /// commands; runs the transition engine; until nothing is left.
    async fn process(&mut self) -> anyhow::Result<()> {
        loop {
            while let Some((ev, cause)) = self.events.pop_front() {
                let cmds = self.ctl.handle(ev, self.now());
                for c in cmds {
                    self.command(c, cause).await?;
                    if self.exit {
                        return Ok(());
                    }
                }
            }
            self.drive_te().await?;
            if self.events.is_empty() {
                return Ok(());
            }
        }
    }

    async fn command(&mut self, c: Command, cause: Cause) -> anyhow::Result<()> {
        match c {
            Command::StateChange { from, to, input } => tracing::info!(
                "State transition {from} -> {to} [ input={input} cause={} origin={} ]",
                cause.cause,
                cause.origin
            ),
            Command::Log { action, state, input } => {
                tracing::warn!("crmd: input {input} received in state {state} ({action:?})")
            }
            Command::Send { to, msg } => self.send(to, msg).await?,
            Command::SetTimer { timer, after } => {
                self.timers.insert(timer, Instant::now() + after);
            }
            Command::CancelTimer(t) => {
                self.timers.remove(&t);
            }
            Command::SyncCib { from } => {
                // The cib daemons already converge on the highest version,
                // or on the quorate master's copy when there is one
                // (docs/CIB_DAEMON.md, "Joining"); nothing to pull by hand.
                tracing::info!("crmd: {from} has the newest CIB; the cib daemons sync from it");
            }
            Command::WriteStatus(u) => self.write_status(u).await?,
            Command::ComputeTransition { id } => self.te_compute(id, cause).await?,
            Command::ExecuteTransition { id } => self.te_execute(id),
            Command::AbortTransition { id } => self.te.abort(id),
            Command::RequestShutdown => self.request_shutdown().await?,
            Command::Exit => {
                // Our followers need not wait for the keepalive to lapse.
                if let Err(e) = self.send_wire(None, &Wire::Leaving).await {
                    tracing::debug!("crmd: cannot say goodbye: {e:#}");
                }
                self.exit = true;
            }
        }
        Ok(())
    }

    pub(crate) async fn send_wire(&mut self, to: Option<&str>, w: &Wire) -> anyhow::Result<()> {
        self.hb.send(to, wire::encode(w)).await.context("heartbeat send")
    }

    async fn send(&mut self, to: Destination, msg: Message) -> anyhow::Result<()> {
        // Our own history goes into the CIB before we tell the DC that we
        // joined, so its first transition sees what runs here.
        if let (Destination::Node(_), Message::JoinConfirm { .. }) = (&to, &msg) {
            self.refresh_own_lrm().await?;
        }
        let w = Wire::Controller(msg);
        match to {
            Destination::All => self.send_wire(None, &w).await,
            Destination::Node(n) => self.send_wire(Some(&n), &w).await,
        }
    }

    /// Records the `<node>` ids of a CIB.
    pub(crate) fn learn_node_ids(&mut self, cib: &Element) {
        if let Some(nodes) = cib.child("configuration").and_then(|c| c.child("nodes")) {
            for n in nodes.children_named("node") {
                if let (Some(id), Some(uname)) = (n.id(), n.attr("uname")) {
                    self.node_ids.insert(uname.to_string(), id.to_string());
                }
            }
        }
    }

    pub(crate) fn node_id(&self, uname: &str) -> String {
        self.node_ids.get(uname).cloned().unwrap_or_else(|| uname.to_string())
    }

    /// Gives `uname` a `<node>` entry if it has none (a node's first join).
    async fn ensure_node_entry(&mut self, uname: &str) -> anyhow::Result<String> {
        if let Some(id) = self.node_ids.get(uname) {
            return Ok(id.clone());
        }
        let cib = self.cib.query().await?;
        self.learn_node_ids(&cib);
        if !status::has_node_entry(&cib, uname) {
            let answer = self.cib.modify(Some("nodes"), status::node_entry(uname, uname)).await?;
            log_refusal("add node entry", &answer);
            self.node_ids.insert(uname.to_string(), uname.to_string());
        }
        Ok(self.node_id(uname))
    }

    /// The DC's writes into the status section.
    async fn write_status(&mut self, u: StatusUpdate) -> anyhow::Result<()> {
        match u {
            StatusUpdate::Dc { node, quorum } => {
                let id = self.ensure_node_entry(&node).await?;
                tracing::info!("crmd: {node} is the DC (quorum: {quorum})");
                let a = self.cib.modify(None, status::dc_attrs(&id, quorum)).await?;
                log_refusal("dc-uuid", &a);
                // Retried at the next keepalive tick until it is in.
                self.dc_mark_stale = !matches!(a, tools::cib_live::Answer::Ok(_));
                self.mark_absent_nodes().await?;
            }
            StatusUpdate::Join { node, phase } => {
                let id = self.ensure_node_entry(&node).await?;
                if phase == Phase::Integrated && node != self.me {
                    // The node rewrites its history from its lrmd before
                    // confirming; what we had may be stale.
                    let a = self.cib.delete_xpath(&status::lrm_xpath(&id)).await?;
                    log_refusal("wipe lrm", &a);
                }
                if phase == Phase::Integrated || (phase == Phase::Confirmed && node == self.me) {
                    // A shutdown request of the node's previous crmd is over.
                    if status::transient_value(&self.cib.query().await?, &id, "shutdown").is_some() {
                        self.attr_delete(&node, "shutdown").await?;
                    }
                }
                let a = self.cib.modify(Some("status"), status::member_state(&id, &node, phase.cib_value())).await?;
                log_refusal("node_state", &a);
                if phase == Phase::Confirmed && node == self.me {
                    self.refresh_own_lrm().await?;
                }
                if phase == Phase::Confirmed {
                    tracing::info!("crmd: join complete for {node}");
                }
            }
            StatusUpdate::Left { node } => self.write_left(&node).await?,
            StatusUpdate::CrmdLost { node } => {
                let id = self.node_id(&node);
                let cib = self.cib.query().await?;
                let down = status::node_expected(&cib, &id).as_deref() == Some("down");
                if down || fencing::stonith_enabled(&cib) {
                    // Pacemaker's peer_update_callback: the scheduler
                    // fences a node whose controller left unexpectedly
                    // (or takes a node let go as cleanly offline).
                    tracing::warn!("crmd: the controller of {node} left; its resources' state is unknown until it rejoins or is fenced");
                    let a = self.cib.modify(Some("status"), status::crmd_lost_state(&id, &node)).await?;
                    log_refusal("node_state", &a);
                } else {
                    // Without fencing Pacemaker would take it as offline and
                    // its resources as stopped, though its lrmd still runs
                    // them: a double run. Its status stays as it is, so its
                    // resources stay where they run, until its crmd (which
                    // the launcher respawns) rejoins and reports them again.
                    tracing::warn!(
                        "crmd: the controller of {node} left; without fencing its resources stay where they run until it rejoins"
                    );
                }
            }
        }
        Ok(())
    }

    /// A new DC: nodes the status says are up but that are not in the
    /// view left while no DC was watching (often with the old DC).
    async fn mark_absent_nodes(&mut self) -> anyhow::Result<()> {
        let members = self.ctl.view().map(|v| v.members.clone()).unwrap_or_default();
        let cib = self.cib.query().await?;
        let absent: Vec<String> = cib
            .child("status")
            .map(|s| {
                s.children_named("node_state")
                    .filter(|n| n.attr("in_ccm") != Some("false") || n.child("lrm").is_some())
                    .filter_map(|n| n.attr("uname"))
                    .filter(|u| !members.contains(*u))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        for node in absent {
            self.write_left(&node).await?;
        }
        Ok(())
    }

    async fn write_left(&mut self, node: &str) -> anyhow::Result<()> {
        let id = self.node_id(node);
        let cib = self.cib.query().await?;
        if fencing::must_fence_lost(&cib, &id) {
            // Unclean: its history stays and `expected` stays `member`, so
            // the scheduler fences it before recovering anything it ran.
            tracing::warn!("crmd: {node} left uncleanly: it must be fenced before its resources run elsewhere");
            let a = self.cib.modify(Some("status"), status::left_state(&id, node)).await?;
            log_refusal("node_state", &a);
            return Ok(());
        }
        if self.hold_lost_node(node, &id, &cib) {
            // Without fencing: its status stays as it was until its own
            // emergency stop is over (lost_nodes.rs).
            return Ok(());
        }
        self.wipe_left(node).await
    }

    /// A lost node taken as stopped: left, its history and attributes gone.
    async fn wipe_left(&mut self, node: &str) -> anyhow::Result<()> {
        let id = self.node_id(node);
        tracing::info!("crmd: {node} is not a member: its resources are stopped, its attributes cleared");
        let a = self.cib.modify(Some("status"), status::left_state(&id, node)).await?;
        log_refusal("node_state", &a);
        // Without fencing (or after a clean shutdown) a lost node is taken
        // as stopped (as Pacemaker does with stonith-enabled=false); its
        // fail counts go with it
        // (seed 002: a restart clears them).
        for x in [status::lrm_xpath(&id), status::transient_xpath(&id)] {
            let a = self.cib.delete_xpath(&x).await?;
            log_refusal("wipe", &a);
        }
        Ok(())
    }

    /// Asks the DC to move our resources away (`shutdown` attribute); when
    /// no DC manages us, there is nothing to wait for.
    async fn request_shutdown(&mut self) -> anyhow::Result<()> {
        let Some(dc) = self.ctl.dc().map(str::to_string) else {
            self.events.push_back((Event::Stop, C_SHUTDOWN));
            return Ok(());
        };
        tracing::info!("crmd: asking the DC ({dc}) to stop our resources");
        let me = self.me.clone();
        self.attr_update(&me, "shutdown", &epoch().to_string()).await
    }
}

/// Logs a refused CIB write (the daemon goes on: the next transition
/// works from what the CIB holds).
pub(crate) fn log_refusal(what: &str, a: &tools::cib_live::Answer) {
    match a {
        tools::cib_live::Answer::Ok(_) => {}
        // Deleting what is not there is fine.
        tools::cib_live::Answer::Failed(f) if f.error == tools::cibadmin::ops::CibError::NoSuchObject => {}
        other => tracing::warn!("crmd: CIB update ({what}) failed: {other:?}"),
    }
}
