//! The daemon shell: the local socket, the heartbeat link, the CIB watch,
//! and one task per fencing operation.
//!
//! ```text
//!  stonithd.sock clients --Request--> main loop --spawn--> fence task (origin)
//!  heartbeat t=stonithd  ----------->     |                  | capable device here (target is not us)? run it
//!  cib_watch (fresh CIB) ----------->     |                  | else query peers -> first can=1 -> exec there
//!                                         |                  | result: history + broadcast
//!                                         | query from a peer: answer can=1|0
//!                                         | exec from a peer: run it, broadcast the result
//!                                         | result from a peer: history (+ wake the origin's task)
//! ```
//!
//! State shared by the tasks (devices, the CIB's working set, history,
//! list cache, waiting operations) sits behind one mutex that is never
//! held across an await.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use cib::model::Cib;
use lrmd::op::{OpRequest, OpStatus};
use lrmd::runner::{self, RunnerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tools::cib_live;

use crate::delay;
use crate::device::{self, Capable, Device};
use crate::heartbeat::{self, Incoming, Link};
use crate::history::History;
use crate::protocol::{Event, FenceStatus, OpState, Peer, Reply, Request};
use crate::topology::{self, Level, Step, Topology};

/// How long a dynamic list stays fresh (Pacemaker caches it 60 s).
const LIST_FRESH: Duration = Duration::from_secs(60);
/// The `list` action's timeout when a request's timeout is longer.
const LIST_TIMEOUT_MS: u64 = 20_000;

#[derive(Debug, Clone)]
pub struct Options {
    pub node: String,
    /// `$HA_RUNDIR/stonithd.sock`
    pub socket: PathBuf,
    /// `$HA_RUNDIR/cib.sock`
    pub cib_socket: PathBuf,
    /// `$HA_RUNDIR/heartbeat.sock`; `None`: stand-alone (local devices only).
    pub heartbeat: Option<PathBuf>,
    /// `$HA_CONFDIR/ha.cf` (its stonith lines), when it exists.
    pub hacf: Option<PathBuf>,
    /// How long to wait for heartbeat at start.
    pub patience: Duration,
    /// How long the origin waits for a peer able to fence the target.
    pub query_wait: Duration,
    /// Agents, their directories and environment (lrmd's runner).
    pub runner: RunnerConfig,
}

impl Options {
    pub fn new(env: &cib::env::HaEnv, stand_alone: bool, runner: RunnerConfig) -> Options {
        use haenv::Daemon;
        let hacf = env.confdir.join("ha.cf");
        Options {
            node: env.nodename.clone(),
            socket: env.socket(Daemon::Stonithd),
            cib_socket: env.socket(Daemon::Cib),
            heartbeat: (!stand_alone).then(|| env.socket(Daemon::Heartbeat)),
            hacf: hacf.exists().then_some(hacf),
            patience: Duration::from_secs(30),
            query_wait: Duration::from_secs(2),
            runner,
        }
    }
}

/// What the tasks share.
struct State {
    devices: Vec<Device>,
    hacf_devices: Vec<Device>,
    /// The CIB's working set, for priority-fencing-delay.
    ws: Option<pengine::WorkingSet>,
    /// The CIB's fencing-topology.
    topology: Topology,
    /// The largest device delay any configured device may add (for the
    /// wait announced to clients).
    max_device_delay_ms: u64,
    history: History,
    lists: HashMap<String, (Instant, Vec<String>)>,
    /// Origin side: query replies and results, by operation id.
    queries: HashMap<String, mpsc::UnboundedSender<(String, bool)>>,
    results: HashMap<String, oneshot::Sender<Event>>,
    next_op: u64,
}

struct Ctx {
    me: String,
    runner: RunnerConfig,
    hb: Option<Link>,
    query_wait: Duration,
    state: Mutex<State>,
}

impl Ctx {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn broadcast(&self, msg: &Peer) {
        if let Some(hb) = &self.hb {
            hb.broadcast(msg);
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

type Job = (Request, mpsc::UnboundedSender<Reply>);

/// Runs until `shutdown` (or SIGTERM/SIGINT, or heartbeat going away).
pub async fn run(opts: Options, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let hacf_devices = match &opts.hacf {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let (cf, _) = transport::hacf::parse(&text, &p.to_string_lossy());
            device::devices_from_hacf(&cf, &opts.node)
        }
        None => Vec::new(),
    };
    for d in &hacf_devices {
        tracing::info!("stonithd: added '{}' ({}) from ha.cf", d.id, d.agent());
    }
    let (in_tx, mut in_rx) = mpsc::unbounded_channel::<Incoming>();
    let hb = match &opts.heartbeat {
        Some(sock) => Some(heartbeat::connect(sock, opts.patience, in_tx).await?),
        None => None,
    };
    let ctx = Arc::new(Ctx {
        me: opts.node.clone(),
        runner: opts.runner.clone(),
        hb,
        query_wait: opts.query_wait,
        state: Mutex::new(State {
            devices: hacf_devices.clone(),
            hacf_devices,
            ws: None,
            topology: Topology::default(),
            max_device_delay_ms: 0,
            history: History::default(),
            lists: HashMap::new(),
            queries: HashMap::new(),
            results: HashMap::new(),
            next_op: 0,
        }),
    });
    let (cib_tx, mut cib_rx) = mpsc::unbounded_channel();
    crate::cib_watch::spawn(opts.cib_socket.clone(), cib_tx);

    let listener = bind(&opts.socket)?;
    tracing::info!(
        "stonithd: listening on {} as {}",
        opts.socket.display(),
        opts.node
    );
    let (jobs_tx, mut jobs) = mpsc::channel::<Job>(64);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    tokio::pin!(shutdown);

    let result = loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                match authorize(&stream) {
                    Ok(()) => { tokio::spawn(serve(stream, jobs_tx.clone())); }
                    Err(e) => tracing::warn!("stonithd: refused a local connection: {e}"),
                }
            }
            Some((req, answer)) = jobs.recv() => handle_local(&ctx, req, answer),
            Some(root) = cib_rx.recv() => update_cib(&ctx, &root),
            Some(inc) = in_rx.recv() => match inc {
                Incoming::Peer { from, msg } => handle_peer(&ctx, from, msg),
                Incoming::Closed(why) => break Err(anyhow::anyhow!("lost the connection to heartbeat: {why}")),
            },
            _ = term.recv() => break Ok(()),
            _ = int.recv() => break Ok(()),
            _ = &mut shutdown => break Ok(()),
        }
    };
    let _ = std::fs::remove_file(&opts.socket);
    tracing::info!("stonithd: exiting");
    result
}

/// A fresh CIB: the device list (CIB devices, then ha.cf's) and the
/// working set for priority delays.
fn update_cib(ctx: &Ctx, root: &cib::Element) {
    let cib = match Cib::from_element(root) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("stonithd: ignoring an unreadable CIB: {e}");
            return;
        }
    };
    let ws = pengine::unpack(&cib, now_ms() / 1000);
    let mut devices = device::devices_from_cib(&cib, &ws, &ctx.me);
    // Every configured device's largest delay (wherever it may run).
    let max_delay = cib
        .primitives()
        .filter(|p| p.class == cib::model::AgentClass::Stonith)
        .filter_map(|p| {
            cib::op_digest::OpParams::from_model(
                &cib,
                &p.id,
                "monitor",
                0,
                &cib::op_digest::unconditional_only,
            )
        })
        .map(|op| Device::from_params("x", "x", &op.params, device::Origin::Cib))
        .map(|d| {
            d.delay_max_ms.max(d.delay_base.all_ms).max(
                d.delay_base
                    .per_node
                    .iter()
                    .map(|(_, v)| *v)
                    .max()
                    .unwrap_or(0),
            )
        })
        .max()
        .unwrap_or(0);
    let mut st = ctx.lock();
    devices.extend(st.hacf_devices.iter().cloned());
    let old: Vec<String> = st.devices.iter().map(|d| d.id.clone()).collect();
    for d in devices.iter().filter(|d| !old.contains(&d.id)) {
        tracing::info!(
            "stonithd: added '{}' ({}) to the device list ({} active devices)",
            d.id,
            d.agent(),
            devices.len()
        );
    }
    for id in old
        .iter()
        .filter(|id| !devices.iter().any(|d| &d.id == *id))
    {
        tracing::info!(
            "stonithd: removed '{id}' from the device list ({} active devices)",
            devices.len()
        );
    }
    // A changed device's list may change too.
    let unchanged: Vec<String> = devices
        .iter()
        .filter(|d| st.devices.contains(d))
        .map(|d| d.id.clone())
        .collect();
    st.lists.retain(|id, _| unchanged.contains(id));
    st.devices = devices;
    st.ws = Some(ws);
    st.topology = Topology::from_cib(&cib);
    st.max_device_delay_ms = max_delay;
}

fn handle_local(ctx: &Arc<Ctx>, req: Request, answer: mpsc::UnboundedSender<Reply>) {
    match req {
        Request::History { target } => {
            let v = ctx.lock().history.query(target.as_deref());
            let _ = answer.send(Reply::History(v));
        }
        Request::Devices { target, timeout_ms } => {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let ids = match target {
                    None => ctx.lock().devices.iter().map(|d| d.id.clone()).collect(),
                    Some(t) => capable(&ctx, &t, timeout_ms)
                        .await
                        .into_iter()
                        .map(|d| d.id)
                        .collect(),
                };
                let _ = answer.send(Reply::Devices(ids));
            });
        }
        Request::Monitor { device, timeout_ms } => {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let dev = ctx.lock().devices.iter().find(|d| d.id == device).cloned();
                let reply = match dev {
                    None => Reply::Error {
                        status: FenceStatus::NoDevice,
                        reason: format!("No such device: {device}"),
                    },
                    Some(d) => {
                        let r = runner::execute(
                            &ctx.runner,
                            &d.spec,
                            &OpRequest::new(&d.id, "monitor", 0, timeout_ms),
                        )
                        .await;
                        if r.status == OpStatus::Done && r.rc == 0 {
                            Reply::MonitorOk
                        } else {
                            let (status, reason) = failure(&d, &r);
                            Reply::Error { status, reason }
                        }
                    }
                };
                let _ = answer.send(reply);
            });
        }
        Request::Fence {
            target,
            action,
            timeout_ms,
            delay_ms,
            client,
        } => {
            let (id, requested, wait_ms) = {
                let mut st = ctx.lock();
                st.next_op += 1;
                let id = format!(
                    "{}-{}-{}-{}",
                    ctx.me,
                    std::process::id(),
                    st.next_op,
                    now_ms()
                );
                // The DC's requests get priority-fencing-delay from our CIB;
                // an explicit delay replaces it.
                let requested = delay_ms.unwrap_or_else(|| {
                    st.ws
                        .as_ref()
                        .map_or(0, |ws| delay::priority_delay_ms(ws, &target) as i64)
                });
                // With a topology every device run may take the whole
                // timeout (and a query of the peers).
                let runs = st
                    .topology
                    .levels_for(&target)
                    .iter()
                    .map(|l| topology::steps(l, &action).len() as u64)
                    .sum::<u64>()
                    .max(1);
                let wait = runs * (timeout_ms + ctx.query_wait.as_millis() as u64)
                    + requested.max(0) as u64
                    + st.max_device_delay_ms;
                (id, requested, wait)
            };
            let ev = Event {
                id,
                target,
                action,
                origin: ctx.me.clone(),
                client,
                delegate: None,
                state: OpState::Pending,
                status: FenceStatus::Done,
                reason: None,
                completed_ms: now_ms(),
            };
            tracing::info!(
                "stonithd: client {} wants to fence ({}) '{}' [{}, delay {} ms]",
                ev.client,
                ev.action,
                ev.target,
                ev.id,
                requested
            );
            ctx.lock().history.record(ev.clone());
            let _ = answer.send(Reply::Pending { wait_ms });
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let deadline = Duration::from_millis(wait_ms);
                let id = ev.id.clone();
                let done = match tokio::time::timeout(
                    deadline,
                    fence_as_origin(&ctx, ev.clone(), timeout_ms, requested),
                )
                .await
                {
                    Ok(done) => done,
                    Err(_) => {
                        let mut st = ctx.lock();
                        st.queries.remove(&id);
                        st.results.remove(&id);
                        drop(st);
                        let failed = finished(
                            &ev,
                            None,
                            FenceStatus::Timeout,
                            Some(format!("no result within {wait_ms} ms")),
                        );
                        ctx.broadcast(&Peer::Result(failed.clone()));
                        failed
                    }
                };
                log_result(&done);
                ctx.lock().history.record(done.clone());
                let _ = answer.send(Reply::Fenced(done));
            });
        }
    }
}

fn log_result(ev: &Event) {
    let outcome = match (ev.state, &ev.reason) {
        (OpState::Done, _) => "OK".to_string(),
        (_, Some(r)) => format!("{} ({r})", ev.status.as_str()),
        _ => ev.status.as_str().to_string(),
    };
    tracing::info!(
        "stonithd: operation '{}' targeting {} by {} for {}@{}: {outcome}",
        ev.action,
        ev.target,
        ev.delegate.as_deref().unwrap_or("(none)"),
        ev.client,
        ev.origin
    );
}

fn finished(
    ev: &Event,
    delegate: Option<&str>,
    status: FenceStatus,
    reason: Option<String>,
) -> Event {
    Event {
        delegate: delegate.map(str::to_string),
        state: if status == FenceStatus::Done {
            OpState::Done
        } else {
            OpState::Failed
        },
        status,
        reason,
        completed_ms: now_ms(),
        ..ev.clone()
    }
}

/// The origin's side of one request: a device here if we are not the
/// target, else (or when ours failed) the first peer that says it can.
async fn fence_as_origin(ctx: &Arc<Ctx>, ev: Event, timeout_ms: u64, requested: i64) -> Event {
    let levels = ctx.lock().topology.levels_for(&ev.target);
    if !levels.is_empty() {
        return fence_by_levels(ctx, ev, &levels, timeout_ms, requested).await;
    }
    let mut local_failure = None;
    if may_execute(&ctx.me, &ev.target, &ev.action) {
        let devs = capable(ctx, &ev.target, timeout_ms).await;
        if !devs.is_empty() {
            let (status, reason) =
                execute(ctx, &devs, &ev.target, &ev.action, timeout_ms, requested).await;
            let done = finished(&ev, Some(&ctx.me), status, reason);
            if status == FenceStatus::Done || ctx.hb.is_none() {
                ctx.broadcast(&Peer::Result(done.clone()));
                return done;
            }
            local_failure = Some(done);
        }
    }
    let give_up = |local_failure: Option<Event>| {
        let done = local_failure.unwrap_or_else(|| {
            let why = if ev.target.eq_ignore_ascii_case(&ctx.me) && ctx.hb.is_none() {
                format!("{} is this node, which never fences itself, and no peer can be asked (stand-alone)", ev.target)
            } else {
                format!("no device can fence {}", ev.target)
            };
            finished(&ev, None, FenceStatus::NoDevice, Some(why))
        });
        ctx.broadcast(&Peer::Result(done.clone()));
        done
    };
    let Some(hb) = ctx.hb.clone() else {
        return give_up(local_failure);
    };

    // Ask every peer; the first that can, runs it.
    let (rtx, rrx) = oneshot::channel();
    ctx.lock().results.insert(ev.id.clone(), rtx);
    let Some(peer) = ask_peers(ctx, &hb, &ev.id, &ev.target, &ev.action, None).await else {
        ctx.lock().results.remove(&ev.id);
        return give_up(local_failure);
    };
    tracing::info!(
        "stonithd: requesting that {peer} perform '{}' action targeting {}",
        ev.action,
        ev.target
    );
    hb.send_to(
        &peer,
        &Peer::Exec {
            st_id: ev.id.clone(),
            target: ev.target.clone(),
            action: ev.action.clone(),
            origin: ev.origin.clone(),
            client: ev.client.clone(),
            timeout_ms,
            delay_ms: requested,
            device: None,
        },
    );
    // The caller's deadline bounds this wait.
    rrx.await.unwrap_or_else(|_| {
        finished(
            &ev,
            Some(&peer),
            FenceStatus::Error,
            Some("lost track of the operation".into()),
        )
    })
}

/// Broadcasts a query for `st_id` and returns the first peer (neither
/// us nor the target) that answers it can fence `target` — with `device`
/// when given — within the query wait.
async fn ask_peers(
    ctx: &Arc<Ctx>,
    hb: &Link,
    st_id: &str,
    target: &str,
    action: &str,
    device: Option<&str>,
) -> Option<String> {
    let (qtx, mut qrx) = mpsc::unbounded_channel();
    ctx.lock().queries.insert(st_id.to_string(), qtx);
    hb.broadcast(&Peer::Query {
        st_id: st_id.to_string(),
        target: target.to_string(),
        action: action.to_string(),
        origin: ctx.me.clone(),
        device: device.map(str::to_string),
    });
    let chosen = tokio::time::timeout(ctx.query_wait, async {
        while let Some((from, can)) = qrx.recv().await {
            if can && !from.eq_ignore_ascii_case(&ctx.me) && may_execute(&from, target, action) {
                return Some(from);
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    ctx.lock().queries.remove(st_id);
    chosen
}

/// Fencing through the target's topology levels: each level in turn,
/// every device of it (each run wherever that device can run: here, or
/// the first peer that has it), until a level succeeds. The delays are
/// waited once, before the first device run.
async fn fence_by_levels(ctx: &Arc<Ctx>, ev: Event, levels: &[Level], timeout_ms: u64, requested: i64) -> Event {
    let mut delay = requested;
    let mut last_failure = None;
    let mut run = 0;
    'levels: for level in levels {
        tracing::info!(
            "stonithd: trying fencing level {} ({}) for '{}' targeting {}",
            level.index,
            level.devices.join(","),
            ev.action,
            ev.target
        );
        let mut delegate = None;
        for step in topology::steps(level, &ev.action) {
            run += 1;
            let (who, status, reason) = run_step(ctx, &ev, &step, run, timeout_ms, delay).await;
            delay = -1;
            if status == FenceStatus::Done {
                delegate = who;
            } else if step.required {
                tracing::warn!(
                    "stonithd: fencing level {} for {} failed at {}: {}",
                    level.index,
                    ev.target,
                    step.device,
                    reason.as_deref().unwrap_or("?")
                );
                last_failure = Some((status, reason));
                continue 'levels;
            } else {
                tracing::warn!(
                    "stonithd: '{}' of {} through {} failed ({}); {} is off, which is what fencing needs",
                    step.action,
                    ev.target,
                    step.device,
                    reason.as_deref().unwrap_or("?"),
                    ev.target
                );
            }
        }
        let done = finished(&ev, delegate.as_deref(), FenceStatus::Done, None);
        ctx.broadcast(&Peer::Result(done.clone()));
        return done;
    }
    let (status, reason) = last_failure.unwrap_or((FenceStatus::NoDevice, None));
    let done = finished(&ev, None, status, reason);
    ctx.broadcast(&Peer::Result(done.clone()));
    done
}

/// One device run of a topology level: here when this node has the device
/// and is not the target, else on the first peer that has it. Returns
/// who ran it, the status and, on failure, why.
async fn run_step(
    ctx: &Arc<Ctx>,
    ev: &Event,
    step: &Step,
    run: usize,
    timeout_ms: u64,
    delay: i64,
) -> (Option<String>, FenceStatus, Option<String>) {
    if may_execute(&ctx.me, &ev.target, &step.action) {
        let here = capable(ctx, &ev.target, timeout_ms).await.into_iter().find(|d| d.id == step.device);
        if let Some(d) = here {
            let (status, reason) = execute(ctx, &[d], &ev.target, &step.action, timeout_ms, delay).await;
            return (Some(ctx.me.clone()), status, reason);
        }
    }
    let nobody = || {
        (None, FenceStatus::NoDevice, Some(format!("no node can fence {} with {}", ev.target, step.device)))
    };
    let Some(hb) = ctx.hb.clone() else { return nobody() };
    let st_id = format!("{}.{run}", ev.id);
    let (rtx, rrx) = oneshot::channel();
    ctx.lock().results.insert(st_id.clone(), rtx);
    let Some(peer) = ask_peers(ctx, &hb, &st_id, &ev.target, &step.action, Some(&step.device)).await else {
        ctx.lock().results.remove(&st_id);
        return nobody();
    };
    tracing::info!(
        "stonithd: requesting that {peer} perform '{}' action targeting {} with {}",
        step.action,
        ev.target,
        step.device
    );
    hb.send_to(
        &peer,
        &Peer::Exec {
            st_id: st_id.clone(),
            target: ev.target.clone(),
            action: step.action.clone(),
            origin: ev.origin.clone(),
            client: ev.client.clone(),
            timeout_ms,
            delay_ms: delay,
            device: Some(step.device.clone()),
        },
    );
    // The run's own timeout plus its delays, with room for the messages.
    let patience = Duration::from_millis(timeout_ms + delay.max(0) as u64 + ctx.lock().max_device_delay_ms)
        + ctx.query_wait * 2;
    match tokio::time::timeout(patience, rrx).await {
        Ok(Ok(r)) => (r.delegate.clone().or(Some(peer)), r.status, r.reason),
        _ => {
            ctx.lock().results.remove(&st_id);
            (Some(peer.clone()), FenceStatus::Timeout, Some(format!("{peer} did not report its run of {}", step.device)))
        }
    }
}

fn handle_peer(ctx: &Arc<Ctx>, from: String, msg: Peer) {
    match msg {
        Peer::Query {
            st_id,
            target,
            action,
            origin,
            device,
        } => {
            if from.eq_ignore_ascii_case(&ctx.me) {
                return; // our own broadcast
            }
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let can = may_execute(&ctx.me, &target, &action)
                    && capable(&ctx, &target, LIST_TIMEOUT_MS)
                        .await
                        .iter()
                        .any(|d| device.as_ref().is_none_or(|id| &d.id == id));
                if let Some(hb) = &ctx.hb {
                    hb.send_to(&origin, &Peer::QueryReply { st_id, can });
                }
            });
        }
        Peer::QueryReply { st_id, can } => {
            if let Some(tx) = ctx.lock().queries.get(&st_id) {
                let _ = tx.send((from, can));
            }
        }
        Peer::Exec {
            st_id,
            target,
            action,
            origin,
            client,
            timeout_ms,
            delay_ms,
            device,
        } => {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let ev = Event {
                    id: st_id,
                    target: target.clone(),
                    action: action.clone(),
                    origin,
                    client,
                    delegate: None,
                    state: OpState::Pending,
                    status: FenceStatus::Done,
                    reason: None,
                    completed_ms: now_ms(),
                };
                tracing::info!(
                    "stonithd: {} asked us to fence ({action}) {target}",
                    ev.origin
                );
                let done = if !may_execute(&ctx.me, &target, &action) {
                    finished(
                        &ev,
                        None,
                        FenceStatus::NoDevice,
                        Some(format!("{target} is this node, which never fences itself")),
                    )
                } else {
                    let mut devs = capable(&ctx, &target, timeout_ms).await;
                    if let Some(id) = &device {
                        devs.retain(|d| &d.id == id);
                    }
                    if devs.is_empty() {
                        finished(
                            &ev,
                            None,
                            FenceStatus::NoDevice,
                            Some(format!("no device on {} can fence {target}", ctx.me)),
                        )
                    } else {
                        let (status, reason) =
                            execute(&ctx, &devs, &target, &action, timeout_ms, delay_ms).await;
                        finished(&ev, Some(&ctx.me), status, reason)
                    }
                };
                if device.is_some() {
                    // One device of a topology level: only the origin
                    // needs it; the operation's result comes from there.
                    if let Some(hb) = &ctx.hb {
                        hb.send_to(&done.origin.clone(), &Peer::StepResult(done));
                    }
                    return;
                }
                log_result(&done);
                ctx.lock().history.record(done.clone());
                ctx.broadcast(&Peer::Result(done));
            });
        }
        Peer::StepResult(ev) => {
            if let Some(tx) = ctx.lock().results.remove(&ev.id) {
                let _ = tx.send(ev);
            }
        }
        Peer::Result(ev) => {
            let mut st = ctx.lock();
            if let Some(tx) = st.results.remove(&ev.id) {
                let _ = tx.send(ev.clone());
            }
            st.history.record(ev);
        }
    }
}

/// Whether `node` may carry out `action` against `target`: never its own
/// fencing, but its own unfencing (`on`) yes, as Pacemaker's fencer
/// allows (fabric devices such as fence_scsi must unfence from the
/// target itself).
fn may_execute(node: &str, target: &str, action: &str) -> bool {
    action == "on" || !node.eq_ignore_ascii_case(target)
}

/// The devices here that can fence `target` (dynamic lists asked of the
/// agent, cached), in configuration order.
async fn capable(ctx: &Arc<Ctx>, target: &str, timeout_ms: u64) -> Vec<Device> {
    let devices = ctx.lock().devices.clone();
    let mut out = Vec::new();
    for d in devices {
        match d.capable(target) {
            Capable::Yes => out.push(d),
            Capable::No => {}
            Capable::AskList => {
                let cached = ctx
                    .lock()
                    .lists
                    .get(&d.id)
                    .filter(|(at, _)| at.elapsed() < LIST_FRESH)
                    .map(|(_, l)| l.clone());
                let list = match cached {
                    Some(l) => l,
                    None => {
                        let req = OpRequest::new(&d.id, "list", 0, timeout_ms.min(LIST_TIMEOUT_MS));
                        let r = runner::execute(&ctx.runner, &d.spec, &req).await;
                        if r.status != OpStatus::Done || r.rc != 0 {
                            tracing::warn!("stonithd: {} list failed: {}", d.id, failure(&d, &r).1);
                            continue;
                        }
                        let l = device::parse_list_output(&r.stdout);
                        ctx.lock()
                            .lists
                            .insert(d.id.clone(), (Instant::now(), l.clone()));
                        l
                    }
                };
                if d.listed(target, &list) {
                    out.push(d);
                }
            }
        }
    }
    out
}

/// Runs the fence action here: the delay once, then each capable device
/// in turn until one succeeds. Returns the status and, on failure, why.
async fn execute(
    ctx: &Ctx,
    devs: &[Device],
    target: &str,
    action: &str,
    timeout_ms: u64,
    requested: i64,
) -> (FenceStatus, Option<String>) {
    let wait = delay::total_delay_ms(requested, devs.first(), target, delay::random_u64());
    if wait > 0 {
        tracing::info!(
            "stonithd: delaying '{action}' action targeting {target} using {} for {wait} ms",
            devs[0].id
        );
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
    let mut last = (
        FenceStatus::NoDevice,
        Some(format!("no device can fence {target}")),
    );
    for d in devs {
        let mut req = OpRequest::new(&d.id, action, 0, timeout_ms);
        req.params = d
            .action_params(target)
            .into_iter()
            .collect::<BTreeMap<_, _>>();
        let r = runner::execute(&ctx.runner, &d.spec, &req).await;
        tracing::info!(
            "stonithd: operation '{action}' targeting {target} using {} returned {} ({:?})",
            d.id,
            r.rc,
            r.status
        );
        if r.status == OpStatus::Done && r.rc == 0 {
            return (FenceStatus::Done, None);
        }
        let (status, reason) = failure(d, &r);
        last = (status, Some(reason));
    }
    last
}

/// A failed run's status and a reason naming the device.
fn failure(d: &Device, r: &lrmd::op::OpResult) -> (FenceStatus, String) {
    let status = match r.status {
        OpStatus::Timeout => FenceStatus::Timeout,
        OpStatus::NotSupported => FenceStatus::NotSupported,
        _ => FenceStatus::Error,
    };
    let detail = r
        .exit_reason
        .clone()
        .or_else(|| {
            r.stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| format!("rc {}", r.rc));
    (status, format!("{}: {detail}", d.id))
}

/// One client connection: requests in, replies out, in order; a fence
/// request's `pending` reply comes before its final one.
async fn serve(mut stream: UnixStream, jobs: mpsc::Sender<Job>) {
    loop {
        let mut header = [0u8; 4];
        if stream.read_exact(&mut header).await.is_err() {
            return;
        }
        let Ok(len) = cib_live::frame_len(header) else {
            return;
        };
        let mut body = vec![0; len];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        match cib_live::unframe(&body).and_then(|e| Request::from_xml(&e)) {
            Ok(req) => {
                let (tx, mut rx) = mpsc::unbounded_channel();
                if jobs.send((req, tx)).await.is_err() {
                    return;
                }
                loop {
                    let reply = rx.recv().await.unwrap_or(Reply::Error {
                        status: FenceStatus::Error,
                        reason: "stonithd is stopping".into(),
                    });
                    if stream
                        .write_all(&cib_live::frame(&reply.to_xml()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    if !matches!(reply, Reply::Pending { .. }) {
                        break;
                    }
                }
            }
            Err(e) => {
                let reply = Reply::Error {
                    status: FenceStatus::Error,
                    reason: format!("bad request: {e}"),
                };
                if stream
                    .write_all(&cib_live::frame(&reply.to_xml()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

/// Local clients must be root or the daemon's own user (peer credentials).
fn authorize(stream: &UnixStream) -> anyhow::Result<()> {
    tools::local_ipc::check_peer_uid(stream.peer_cred()?.uid())
}

fn bind(sock: &Path) -> anyhow::Result<UnixListener> {
    Ok(UnixListener::from_std(tools::local_ipc::bind(sock, "stonithd")?)?)
}
