//! The daemon shell: the local socket, the heartbeat link, the clock and
//! a writer thread carrying [`core::Command::Write`]s to the cib daemon.
//!
//! ```text
//!  attrd.sock clients --Request--+
//!  heartbeat (t=attrd) ----------+--> main loop --core.handle(input, now_ms)--> Write --> writer thread --> cib.sock
//!  timer (core.next_due) --------+        | other node's attribute --> heartbeat::Link::send_to(node)
//!                                         | query of this node: from memory; of others: from the CIB
//! ```

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tools::cib_live;

use crate::cib_writer::CibWriter;
use crate::core::{Command, Core, Input};
use crate::heartbeat::{self, Incoming};
use crate::protocol::{NodeValue, Reply, Request};

#[derive(Debug, Clone)]
pub struct Options {
    pub node: String,
    /// `$HA_RUNDIR/attrd.sock`
    pub socket: PathBuf,
    /// `$HA_RUNDIR/cib.sock`
    pub cib_socket: PathBuf,
    /// `$HA_RUNDIR/heartbeat.sock`; `None`: stand-alone (this node only).
    pub heartbeat: Option<PathBuf>,
    /// How long to wait for the cib daemon / heartbeat at start.
    pub patience: Duration,
}

impl Options {
    pub fn new(env: &cib::env::HaEnv, stand_alone: bool) -> Options {
        use haenv::Daemon;
        Options {
            node: env.nodename.clone(),
            socket: env.socket(Daemon::Attrd),
            cib_socket: env.socket(Daemon::Cib),
            heartbeat: (!stand_alone).then(|| env.socket(Daemon::Heartbeat)),
            patience: Duration::from_secs(30),
        }
    }
}

type Job = (Request, oneshot::Sender<Reply>);

/// Runs until `shutdown` (or SIGTERM/SIGINT, or heartbeat going away).
pub async fn run(opts: Options, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let writer = CibWriter::new(&opts.cib_socket);
    // A restarted node starts with no transient attributes (seed 002:
    // fail counts are cleared when heartbeat restarts).
    clear_at_start(&writer, &opts.node, opts.patience).await?;

    let (in_tx, mut in_rx) = mpsc::unbounded_channel::<Incoming>();
    let hb = match &opts.heartbeat {
        Some(sock) => Some(heartbeat::connect(sock, opts.patience, in_tx).await?),
        None => None,
    };
    let writes = spawn_writer(writer.clone(), opts.node.clone());

    let listener = bind(&opts.socket)?;
    tracing::info!("attrd: listening on {} as {}", opts.socket.display(), opts.node);
    let (jobs_tx, mut jobs) = mpsc::channel::<Job>(64);
    let mut core = Core::new(&opts.node);
    let start = Instant::now();
    let now_ms = move || start.elapsed().as_millis() as u64;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    tokio::pin!(shutdown);

    let result = loop {
        let due = core.next_due().map(|d| start + Duration::from_millis(d));
        let timer = async {
            match due {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                match authorize(&stream) {
                    Ok(()) => { tokio::spawn(serve(stream, jobs_tx.clone())); }
                    Err(e) => tracing::warn!("attrd: refused a local connection: {e}"),
                }
            }
            Some((req, answer)) = jobs.recv() => {
                let reply = handle(&mut core, &opts.node, req, now_ms(), hb.as_ref(), &writes, &writer, answer);
                if let Some((reply, answer)) = reply {
                    let _ = answer.send(reply);
                }
            }
            Some(inc) = in_rx.recv() => match inc {
                Incoming::Request { from, req } => {
                    tracing::debug!("attrd: request from {from}: {req:?}");
                    let (tx, _) = oneshot::channel();
                    handle(&mut core, &opts.node, req, now_ms(), None, &writes, &writer, tx);
                }
                Incoming::Closed(why) => break Err(anyhow::anyhow!("lost the connection to heartbeat: {why}")),
            },
            _ = timer => {
                for c in core.handle(Input::Tick, now_ms()) {
                    let _ = writes.send(c);
                }
            }
            _ = term.recv() => break Ok(()),
            _ = int.recv() => break Ok(()),
            _ = &mut shutdown => break Ok(()),
        }
    };
    let _ = std::fs::remove_file(&opts.socket);
    tracing::info!("attrd: exiting");
    result
}

/// Carries one request out. Returns the reply to send now, or `None`
/// when a task answers later (queries of other nodes read the CIB).
#[allow(clippy::too_many_arguments)]
fn handle(
    core: &mut Core,
    me: &str,
    req: Request,
    now: u64,
    hb: Option<&heartbeat::Link>,
    writes: &std::sync::mpsc::Sender<Command>,
    writer: &CibWriter,
    answer: oneshot::Sender<Reply>,
) -> Option<(Reply, oneshot::Sender<Reply>)> {
    let remote = |node: &Option<String>| node.as_deref().filter(|n| *n != me).map(str::to_string);
    let input = match &req {
        Request::Update { node, name, value, dampen_ms } => match remote(node) {
            Some(n) => return Some((forward(hb, &n, &req), answer)),
            None => Input::Update { name: name.clone(), value: value.clone(), dampen_ms: *dampen_ms },
        },
        Request::Delete { node, name, dampen_ms } => match remote(node) {
            Some(n) => return Some((forward(hb, &n, &req), answer)),
            None => Input::Delete { name: name.clone(), dampen_ms: *dampen_ms },
        },
        Request::Refresh => Input::Refresh,
        Request::Query { node, name, all } => {
            let local = core.get(name).map(|a| NodeValue { node: me.to_string(), value: a.value.clone() });
            if !*all && remote(node).is_none() {
                return Some((local.map_or(Reply::NoSuch, |v| Reply::Ok(vec![v])), answer));
            }
            // Other nodes' values: as their attrds wrote them into the CIB.
            let (writer, name, me) = (writer.clone(), name.clone(), me.to_string());
            let only = if *all { None } else { remote(node) };
            tokio::task::spawn_blocking(move || {
                let reply = match writer.read(&name, only.as_deref()) {
                    Err(e) => Reply::Error(e),
                    Ok(mut values) => {
                        values.retain(|v| v.node != me);
                        values.extend(local);
                        values.sort_by(|a, b| a.node.cmp(&b.node));
                        if values.is_empty() {
                            Reply::NoSuch
                        } else {
                            Reply::Ok(values)
                        }
                    }
                };
                let _ = answer.send(reply);
            });
            return None;
        }
    };
    for c in core.handle(input, now) {
        let _ = writes.send(c);
    }
    Some((Reply::Ok(Vec::new()), answer))
}

fn forward(hb: Option<&heartbeat::Link>, node: &str, req: &Request) -> Reply {
    match hb {
        Some(link) if link.send_to(node, req) => Reply::Ok(Vec::new()),
        Some(_) => Reply::Error("the heartbeat connection is gone".into()),
        None => Reply::Error(format!("{node} is not this node and attrd runs without heartbeat")),
    }
}

async fn clear_at_start(writer: &CibWriter, node: &str, patience: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + patience;
    loop {
        let (w, n) = (writer.clone(), node.to_string());
        match tokio::task::spawn_blocking(move || w.clear(&n)).await? {
            Ok(()) => {
                tracing::info!("attrd: cleared the transient attributes of {node} in the CIB");
                return Ok(());
            }
            Err(e) if Instant::now() >= deadline => bail!("could not clear {node}'s transient attributes: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The writer thread: CIB writes one after the other, in order; a failed
/// write is retried (bounded) so a cib daemon restart loses nothing.
fn spawn_writer(writer: CibWriter, node: String) -> std::sync::mpsc::Sender<Command> {
    let (tx, rx) = std::sync::mpsc::channel::<Command>();
    std::thread::spawn(move || {
        while let Ok(Command::Write(pairs)) = rx.recv() {
            let mut tries = 0;
            loop {
                match writer.write(&node, &pairs) {
                    Ok(()) => {
                        tracing::debug!("attrd: wrote {pairs:?}");
                        break;
                    }
                    Err(e) if tries >= 30 => {
                        tracing::error!("attrd: giving up writing {pairs:?}: {e}");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!("attrd: could not write {pairs:?} (will retry): {e}");
                        tries += 1;
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            }
        }
    });
    tx
}

/// One client connection: requests in, replies out, in order.
async fn serve(mut stream: UnixStream, jobs: mpsc::Sender<Job>) {
    loop {
        let mut header = [0u8; 4];
        if stream.read_exact(&mut header).await.is_err() {
            return;
        }
        let Ok(len) = cib_live::frame_len(header) else { return };
        let mut body = vec![0; len];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        let reply = match cib_live::unframe(&body).and_then(|e| Request::from_xml(&e)) {
            Ok(req) => {
                let (tx, rx) = oneshot::channel();
                if jobs.send((req, tx)).await.is_err() {
                    return;
                }
                rx.await.unwrap_or_else(|_| Reply::Error("attrd is stopping".into()))
            }
            Err(e) => Reply::Error(format!("bad request: {e}")),
        };
        if stream.write_all(&cib_live::frame(&reply.to_xml())).await.is_err() {
            return;
        }
    }
}

/// Local clients must be root or the daemon's own user (peer credentials).
fn authorize(stream: &UnixStream) -> anyhow::Result<()> {
    tools::local_ipc::check_peer_uid(stream.peer_cred()?.uid())
}

fn bind(sock: &Path) -> anyhow::Result<UnixListener> {
    Ok(UnixListener::from_std(tools::local_ipc::bind(sock, "attrd")?)?)
}
