//! The `ccm` daemon's tokio shell around [`crate::Ccm`].
//!
//! ```text
//!  heartbeat API (transport::api_async) --- t=nodestatus --> NodeStatus / Connectivity --+
//!                               \-- t=msg ccm_* ---> Received ------------------+--> Ccm::handle
//!  one timer (sleep_until) ------------------------> Tick ----------------------+        |
//!                                                                                        v
//!   Persist -> store.rs (write, fsync, rename) before anything that follows
//!   Send    -> heartbeat `send` (Message::to_fields as the message's fields)
//!   Install -> log line + publish.rs (every client of ccm.sock)
//!   Timer   -> the one deadline
//! ```
//!
//! Start-up: the core hears nothing until heartbeat's `initdead` has passed
//! since the shell started, or until every configured node is up, whichever
//! comes first; then it gets the node statuses heartbeat reports, all at
//! once ([`Ccm::handle_statuses`]), and the ccm messages that arrived
//! meanwhile. So a booting node does not
//! install a view of itself alone before it could hear its peers.
//!
//! [`run`] takes its connections and its shutdown signal from the caller
//! (the binary opens them before daemonizing).

mod publish;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use tokio::net::UnixListener;
use tokio::sync::watch;
use tokio::time::Instant;
use transport::wire::{Message as HbMessage, Value};

use crate::{Ccm, Command, Config, Destination, Input, Message, NodeStatus, View};
use transport::api_async::Heartbeat;
use store::InstanceStore;

/// Messages received before the core started are kept up to this many
/// (peers retry anyway; this only saves a retry interval).
const EARLY_MESSAGES: usize = 1000;

/// Everything the shell runs with.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The core's configuration (node name, configured nodes, retry).
    pub config: Config,
    /// ha.cf `ping` hosts and `ping_group` names: their status feeds
    /// [`Input::Connectivity`]; they are never members.
    pub ping_nodes: BTreeSet<String>,
    /// Heartbeat's `initdead`: the longest the core waits for peers at start.
    pub initdead: Duration,
    /// Where the promise is persisted.
    pub store: InstanceStore,
}

/// Why the shell stopped other than by its shutdown signal.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    #[error("heartbeat: {0}")]
    Heartbeat(#[from] transport::api::ApiError),
    #[error("heartbeat closed the connection")]
    HeartbeatGone,
    /// The promise could not be stored: continuing could break it.
    #[error("cannot persist instance {instance} in {path}: {source}")]
    Persist { instance: u64, path: String, source: std::io::Error },
}

/// A node is heard when heartbeat reports it `active` or `up` (`ping` for
/// a ping node).
fn is_up(status: &str) -> bool {
    matches!(status, "active" | "up" | "ping")
}

struct Shell {
    setup: Setup,
    core: Ccm,
    hb: Heartbeat,
    /// Heartbeat's latest status of every node it reported.
    statuses: BTreeMap<String, String>,
    /// The core has been started (after initdead or once all were up).
    started: bool,
    /// ccm messages that arrived before the start: (from, message).
    early: Vec<(String, Message)>,
    /// The last connectivity the core was told.
    connectivity: Option<bool>,
    /// The shell's clock origin: the core's `now` is the time since.
    origin: Instant,
    /// The one timer ([`Command::Timer`]).
    deadline: Option<Instant>,
    views: watch::Sender<Option<View>>,
}

/// Runs until `shutdown` completes or heartbeat goes away. `hb` is a
/// signed-on connection; `listener` is `ccm.sock`.
pub async fn run(
    setup: Setup,
    mut hb: Heartbeat,
    listener: UnixListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ShellError> {
    let origin = Instant::now();
    let persisted = setup.store.load().map_err(|source| ShellError::Persist {
        instance: 0,
        path: setup.store.path().display().to_string(),
        source,
    })?;
    let core = Ccm::new(setup.config.clone(), persisted);
    tracing::info!(
        "ccm starting on {}: configured nodes {:?}, persisted instance {persisted}, retry {:?}, initdead {:?}",
        setup.config.me,
        setup.config.quorum.configured,
        setup.config.retry,
        setup.initdead
    );

    // Statuses as they are now; later changes come as events.
    let mut statuses = BTreeMap::new();
    for n in hb.nodes().await? {
        let s = hb.node_status(&n).await?;
        statuses.insert(n, s);
    }
    let (views, _) = watch::channel(None);
    tokio::spawn(publish::serve(listener, setup.config.me.clone(), views.subscribe()));

    let mut sh = Shell {
        setup,
        core,
        hb,
        statuses,
        started: false,
        early: Vec::new(),
        connectivity: None,
        origin,
        deadline: None,
        views,
    };
    let start_at = origin + sh.setup.initdead;
    if sh.all_up() {
        sh.start().await?;
    }
    tokio::pin!(shutdown);
    loop {
        let (started, deadline) = (sh.started, sh.deadline);
        let timer = async move {
            match (started, deadline) {
                (false, _) => tokio::time::sleep_until(start_at).await,
                (true, Some(d)) => tokio::time::sleep_until(d).await,
                (true, None) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            _ = timer => {
                if sh.started {
                    sh.deadline = None;
                    sh.feed(Input::Tick).await?;
                } else {
                    sh.start().await?;
                }
            }
            frame = sh.hb.next_frame() => match frame {
                None => return Err(ShellError::HeartbeatGone),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(m)) => sh.on_heartbeat(m).await?,
            },
        }
    }
}

impl Shell {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    /// Every configured node other than this one is up.
    fn all_up(&self) -> bool {
        let me = &self.setup.config.me;
        self.setup
            .config
            .quorum
            .configured
            .iter()
            .filter(|n| *n != me)
            .all(|n| self.statuses.get(n).is_some_and(|s| is_up(s)))
    }

    fn is_ping(&self, node: &str) -> bool {
        self.setup.ping_nodes.contains(node)
    }

    /// Starts the core: the statuses so far, a first tick, the messages
    /// that arrived meanwhile.
    async fn start(&mut self) -> Result<(), ShellError> {
        self.started = true;
        self.update_connectivity().await?;
        let up: Vec<(String, NodeStatus)> = self
            .statuses
            .iter()
            .filter(|(node, status)| !self.is_ping(node) && is_up(status))
            .map(|(node, _)| (node.clone(), NodeStatus::Up))
            .collect();
        let why = if self.all_up() { "every configured node is up" } else { "initdead passed" };
        tracing::info!("starting membership ({why}): up {:?}", up.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>());
        let commands = self.core.handle_statuses(up, self.now());
        self.execute(commands).await?;
        for (from, msg) in std::mem::take(&mut self.early) {
            self.feed(Input::Received { from, msg }).await?;
        }
        Ok(())
    }

    /// With ping nodes configured: connected while any of them is up.
    async fn update_connectivity(&mut self) -> Result<(), ShellError> {
        if self.setup.ping_nodes.is_empty() {
            return Ok(());
        }
        let c = self.setup.ping_nodes.iter().any(|p| self.statuses.get(p).is_some_and(|s| is_up(s)));
        if self.connectivity != Some(c) {
            self.connectivity = Some(c);
            tracing::info!("ping connectivity: {}", if c { "reached" } else { "lost" });
            self.feed(Input::Connectivity(c)).await?;
        }
        Ok(())
    }

    async fn on_heartbeat(&mut self, m: HbMessage) -> Result<(), ShellError> {
        match m.get_str("t") {
            Some("nodestatus") => {
                let (Some(node), Some(status)) = (m.get_str("node"), m.get_str("status")) else { return Ok(()) };
                let (node, status) = (node.to_string(), status.to_string());
                tracing::debug!("heartbeat: node {node} is {status}");
                self.statuses.insert(node.clone(), status.clone());
                if !self.started {
                    if self.all_up() {
                        self.start().await?;
                    }
                    return Ok(());
                }
                if self.is_ping(&node) {
                    return self.update_connectivity().await;
                }
                let status = if is_up(&status) { NodeStatus::Up } else { NodeStatus::Dead };
                self.feed(Input::NodeStatus { node, status }).await
            }
            Some("msg") => {
                let Some(Value::Struct(inner)) = m.get("msg") else { return Ok(()) };
                if !inner.get_str("t").is_some_and(|t| t.starts_with("ccm_")) {
                    return Ok(());
                }
                let Some(from) = inner.get_str("src").map(str::to_string) else { return Ok(()) };
                // Our own messages are never for us (the core would nack
                // its own proposal).
                if from == self.setup.config.me {
                    return Ok(());
                }
                let msg = match Message::from_fields(|k| inner.get_str(k)) {
                    Ok(msg) => msg,
                    Err(e) => {
                        tracing::warn!("ignoring a ccm message from {from}: {e}");
                        return Ok(());
                    }
                };
                tracing::debug!("from {from}: {msg:?}");
                if self.started {
                    self.feed(Input::Received { from, msg }).await
                } else {
                    if self.early.len() < EARLY_MESSAGES {
                        self.early.push((from, msg));
                    }
                    Ok(())
                }
            }
            // The reply to a `send`: nothing to do.
            Some("ok") => Ok(()),
            Some("error") => {
                tracing::warn!("heartbeat refused a message: {}", m.get_str("reason").unwrap_or("?"));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// One input through the core, and its commands carried out in order.
    async fn feed(&mut self, input: Input) -> Result<(), ShellError> {
        let commands = self.core.handle(input, self.now());
        self.execute(commands).await
    }

    /// Carries out the core's commands, in order: a `Persist` is on disk
    /// before anything after it happens.
    async fn execute(&mut self, commands: Vec<Command>) -> Result<(), ShellError> {
        for c in commands {
            match c {
                Command::Persist { instance } => {
                    self.setup.store.save(instance).map_err(|source| ShellError::Persist {
                        instance,
                        path: self.setup.store.path().display().to_string(),
                        source,
                    })?;
                }
                Command::Send { to, msg } => {
                    let mut m = HbMessage::new();
                    for (k, v) in msg.to_fields() {
                        m.push(k, Value::Str(v));
                    }
                    let dest = match &to {
                        Destination::Node(n) => Some(n.as_str()),
                        Destination::All => None,
                    };
                    tracing::debug!("to {}: {msg:?}", dest.unwrap_or("all"));
                    self.hb.send(dest, m).await?;
                }
                Command::Install(view) => {
                    tracing::info!("membership: {view}");
                    self.views.send_replace(Some(view));
                }
                Command::Timer { at } => self.deadline = Some(self.origin + at),
            }
        }
        Ok(())
    }
}
