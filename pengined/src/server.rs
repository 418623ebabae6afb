//! The daemon shell: the local socket, peer credentials, and one worker
//! that runs the scheduler for one request at a time (so transition ids
//! and series numbers follow the order requests arrived in).
//!
//! The scheduler is passed in ([`SchedulerFn`]) so tests can hand the
//! worker one that panics; the worker catches panics around whatever it
//! runs and answers an error, and the daemon goes on.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use cib::Element;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tools::cib_live;

use crate::compute::Scheduled;
use crate::protocol::{Done, Reply, Request};
use crate::series::SeriesDir;

/// The scheduling step: (CIB, wall-clock now, transition id) -> result.
pub type SchedulerFn = fn(&Element, i64, u64) -> Result<Scheduled, String>;

/// Where the daemon listens and saves.
#[derive(Debug, Clone)]
pub struct Options {
    /// `$HA_RUNDIR/pengine.sock`
    pub socket: PathBuf,
    /// `$HA_VARLIB/pengine`
    pub inputs: PathBuf,
    pub scheduler: SchedulerFn,
}

impl Options {
    pub fn new(env: &cib::env::HaEnv) -> Options {
        Options { socket: env.socket(haenv::Daemon::Pengine), inputs: env.pengine_dir(), scheduler: crate::compute::schedule }
    }
}

type Job = (Request, oneshot::Sender<Reply>);

/// Serves until `shutdown` completes (or SIGTERM/SIGINT), then removes the socket.
pub async fn run(opts: Options, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let listener = bind(&opts.socket)?;
    tracing::info!("pengine: listening on {}, inputs in {}", opts.socket.display(), opts.inputs.display());
    let (jobs, rx) = mpsc::channel::<Job>(64);
    let worker = tokio::spawn(work(rx, SeriesDir::new(&opts.inputs), opts.scheduler));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                match authorize(&stream) {
                    Ok(()) => { tokio::spawn(serve(stream, jobs.clone())); }
                    Err(e) => tracing::warn!("pengine: refused a local connection: {e}"),
                }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = &mut shutdown => break,
        }
    }
    worker.abort();
    let _ = std::fs::remove_file(&opts.socket);
    tracing::info!("pengine: exiting");
    Ok(())
}

/// Runs jobs in arrival order. Transition ids count from 0 for each run
/// of the daemon, as Pacemaker's scheduler counts them.
async fn work(mut rx: mpsc::Receiver<Job>, dir: SeriesDir, scheduler: SchedulerFn) {
    let mut transition_id: u64 = 0;
    while let Some((req, answer)) = rx.recv().await {
        let id = transition_id;
        let dir = dir.clone();
        let ran = tokio::task::spawn_blocking(move || run_one(&req.cib, id, &dir, scheduler)).await;
        let reply = match ran {
            Ok(r) => r,
            Err(e) => Reply::Failed(format!("the scheduler task failed: {e}")),
        };
        if matches!(reply, Reply::Done(_)) {
            transition_id += 1;
        }
        let _ = answer.send(reply);
    }
}

/// Schedules and saves one input; never panics.
fn run_one(cib: &Element, transition_id: u64, dir: &SeriesDir, scheduler: SchedulerFn) -> Reply {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let s = match catch_unwind(AssertUnwindSafe(|| scheduler(cib, now, transition_id))) {
        Ok(Ok(s)) => s,
        Ok(Err(why)) => {
            tracing::error!("pengine: could not schedule: {why}");
            return Reply::Failed(why);
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!("pengine: the scheduler panicked: {what}");
            return Reply::Failed(format!("the scheduler panicked: {what}"));
        }
    };
    for (rsc, nodes) in &s.multiply_active {
        // Pacemaker's scheduler error, with the cue this project adds.
        tracing::error!(
            "pengine: Resource {rsc} is active on {} nodes ({}): split brain healed? recovering per its multiple-active",
            nodes.len(),
            nodes.join(" ")
        );
    }
    let saved = match dir.save(s.series, s.series_max, &s.input.to_xml()) {
        Ok(saved) => saved,
        Err(e) => {
            // The graph is still good: the controller may run it.
            tracing::error!("pengine: could not save the input in {}: {e}", dir.dir.display());
            crate::series::Saved { path: dir.file(s.series, dir.current(s.series, s.series_max)), written: false }
        }
    };
    let with = match s.series {
        crate::series::Series::Input => "",
        crate::series::Series::Warn => " (with warnings)",
        crate::series::Series::Error => " (with errors)",
    };
    if saved.written {
        tracing::info!("pengine: Calculated transition {transition_id}{with}, saving inputs in {}", saved.path.display());
    } else {
        tracing::info!("pengine: Calculated transition {transition_id}{with}, input not saved");
    }
    let graph = match cib::xml::parse_element(&s.graph.to_xml()) {
        Ok(g) => g,
        Err(e) => return Reply::Failed(format!("the graph writer produced unreadable XML: {e:?}")),
    };
    Reply::Done(Done { transition_id, series: s.series.name().to_string(), input: saved.path, saved: saved.written, graph })
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
        let req = match cib_live::unframe(&body).and_then(|e| Request::from_xml(&e)) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("pengine: a client sent a bad frame: {e}");
                return;
            }
        };
        let call_id = req.call_id;
        let (tx, rx) = oneshot::channel();
        if jobs.send((req, tx)).await.is_err() {
            return;
        }
        let reply = rx.await.unwrap_or_else(|_| Reply::Failed("the policy engine is stopping".into()));
        if stream.write_all(&cib_live::frame(&reply.to_xml(call_id))).await.is_err() {
            return;
        }
    }
}

/// Local clients must be root or the daemon's own user (peer credentials).
fn authorize(stream: &UnixStream) -> anyhow::Result<()> {
    tools::local_ipc::check_peer_uid(stream.peer_cred()?.uid())
}

fn bind(sock: &Path) -> anyhow::Result<UnixListener> {
    Ok(UnixListener::from_std(tools::local_ipc::bind(sock, "pengine")?)?)
}
