//! Runs one agent process (the tokio side of `agent`).
//!
//! - The agent gets its own process group, so a timeout can kill it and
//!   everything it started (SIGTERM to the group, then SIGKILL after a
//!   grace period).
//! - The operation ends when the agent process exits, not when its pipes
//!   close: an agent that double-forks a daemon leaves the pipes open in
//!   the daemon. After the exit the pipes are drained for a short while and
//!   then abandoned. The group is not killed after a normal exit, since
//!   that daemon is usually the very service the agent started.
//! - Output is kept up to a cap per stream; the rest is read and dropped so
//!   the agent never blocks on a full pipe.
//! - A run can be killed from outside (a cancelled operation): the same
//!   SIGTERM, grace, SIGKILL to the group as a timeout, so a hung monitor
//!   that was cancelled is not waited for.

use std::future::Future;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::io::{unix::AsyncFd, AsyncRead, AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::unix::pipe;

use crate::agent::{self, AgentDirs, ExitMapping, Invocation, Outcome, Plan};
use crate::op::{OpRequest, OpResult};
use crate::resource::ResourceSpec;
use crate::spawn::{self, Exit, Prepared};

/// Pacemaker's default operation timeout, used when a request gives none.
pub const DEFAULT_TIMEOUT_MS: u64 = 20_000;

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    pub dirs: AgentDirs,
    /// Environment every agent gets (the node's HA_* variables).
    pub base_env: Vec<(String, String)>,
    /// Bytes kept per stream (stdout, stderr).
    pub output_cap: usize,
    /// Between SIGTERM and SIGKILL when an agent times out.
    pub kill_grace: Duration,
    /// How long to keep reading pipes after the agent exited. What the
    /// agent wrote before exiting is read at once; this only waits for
    /// children that keep the pipes open (IPaddr2's background send_arp
    /// held them ~170 ms, which a 200 ms drain added to every takeover).
    pub drain: Duration,
}

impl Default for RunnerConfig {
    fn default() -> RunnerConfig {
        RunnerConfig {
            dirs: AgentDirs::default(),
            base_env: Vec::new(),
            output_cap: 64 * 1024,
            kill_grace: Duration::from_secs(2),
            drain: Duration::from_millis(50),
        }
    }
}

/// Plans and runs one request.
pub async fn execute(cfg: &RunnerConfig, spec: &ResourceSpec, req: &OpRequest) -> OpResult {
    execute_killable(cfg, spec, req, std::future::pending()).await
}

/// Plans and runs one request; when `kill` completes first, the agent's
/// process group is killed and the result is op-status Cancelled.
pub async fn execute_killable(
    cfg: &RunnerConfig,
    spec: &ResourceSpec,
    req: &OpRequest,
    kill: impl Future<Output = ()>,
) -> OpResult {
    match prepare(cfg, spec, req) {
        Ok(ready) => run_ready(cfg, &ready, kill).await,
        Err(immediate) => immediate,
    }
}

/// A planned request, ready to be spawned (as often as wanted: the server
/// keeps one per recurring operation).
#[derive(Debug, PartialEq, Eq)]
pub struct Ready {
    prepared: Prepared,
    stdin: Option<String>,
    mapping: ExitMapping,
    program: PathBuf,
    timeout_ms: u64,
}

impl Ready {
    fn new(inv: Invocation, timeout_ms: u64) -> Result<Ready, OpResult> {
        let timeout_ms = if timeout_ms == 0 { DEFAULT_TIMEOUT_MS } else { timeout_ms };
        match Prepared::new(&inv) {
            Some(prepared) => {
                Ok(Ready { prepared, stdin: inv.stdin, mapping: inv.mapping, program: inv.program, timeout_ms })
            }
            None => {
                let outcome = Outcome::SpawnFailed {
                    errno: Some(nix::libc::EINVAL),
                    message: "a parameter holds a NUL byte".into(),
                };
                Err(agent::map_outcome(inv.mapping, &inv.program, outcome, String::new(), String::new()))
            }
        }
    }
}

/// Plans a request: what to spawn, or its result when nothing is to be
/// run (an unknown agent class, a stonith `stop`...).
pub fn prepare(cfg: &RunnerConfig, spec: &ResourceSpec, req: &OpRequest) -> Result<Ready, OpResult> {
    match agent::plan(&cfg.dirs, &cfg.base_env, spec, req) {
        Plan::Immediate(r) => Err(r),
        Plan::Run(inv) => Ready::new(inv, req.timeout_ms),
    }
}

/// Runs one invocation to completion or timeout.
pub async fn run(cfg: &RunnerConfig, inv: Invocation, timeout_ms: u64) -> OpResult {
    run_killable(cfg, inv, timeout_ms, std::future::pending()).await
}

/// Runs one invocation to completion, timeout, or `kill`.
pub async fn run_killable(cfg: &RunnerConfig, inv: Invocation, timeout_ms: u64, kill: impl Future<Output = ()>) -> OpResult {
    match Ready::new(inv, timeout_ms) {
        Ok(ready) => run_ready(cfg, &ready, kill).await,
        Err(failed) => failed,
    }
}

/// Waits for `pid` to exit (its pidfd turns readable) and reaps it. Where
/// the kernel gives no pidfd, polls every 20 ms.
async fn exited(pid: Pid) -> std::io::Result<Exit> {
    if let Some(fd) = spawn::pidfd(pid) {
        // SAFETY: the OwnedFd moves into the AsyncFd, which neither
        // replaces nor closes it while registered.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE)? };
        loop {
            let mut ready = fd.readable().await?;
            match spawn::try_reap(pid)? {
                Some(exit) => return Ok(exit),
                None => ready.clear_ready(),
            }
        }
    }
    loop {
        if let Some(exit) = spawn::try_reap(pid)? {
            return Ok(exit);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A pipe end of ours, for tokio (already non-blocking).
fn receiver(fd: OwnedFd) -> Option<pipe::Receiver> {
    pipe::Receiver::from_owned_fd_unchecked(fd).ok()
}

/// Runs a prepared invocation to completion, timeout, or `kill`.
pub async fn run_ready(cfg: &RunnerConfig, ready: &Ready, kill: impl Future<Output = ()>) -> OpResult {
    let timeout_ms = ready.timeout_ms;
    // posix_spawn (vfork: this thread waits only for the child's exec).
    // Spawning from tokio's blocking pool instead was tried: it overlaps
    // spawns in a burst, but the thread hand-offs cost more CPU than the
    // waits they save (docs/LRMD.md, Benchmark).
    let child = match dev_null().and_then(|null| spawn::spawn(&ready.prepared, ready.stdin.is_some(), null)) {
        Ok(c) => c,
        Err(e) => {
            let outcome = Outcome::SpawnFailed { errno: e.raw_os_error(), message: e.to_string() };
            return agent::map_outcome(ready.mapping, &ready.program, outcome, String::new(), String::new());
        }
    };
    let pid = child.pid;
    let exit = exited(pid);
    tokio::pin!(exit);

    if let (Some(text), Some(fd)) = (ready.stdin.clone(), child.stdin) {
        // An agent that does not read its stdin must not block us: write
        // from a task and ignore EPIPE.
        let _ = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK));
        if let Ok(mut stdin) = pipe::Sender::from_owned_fd_unchecked(fd) {
            tokio::spawn(async move {
                let _ = stdin.write_all(text.as_bytes()).await;
            });
        }
    }
    let (mut out_buf, mut err_buf) = (Vec::new(), Vec::new());
    let cap = cfg.output_cap;
    // Fast path: most runs (a monitor) end within a few milliseconds with
    // little output. Wait for the exit alone for up to QUICK, then take
    // what the pipes hold without registering them with the event loop:
    // two registrations and their wake-ups less per run. An agent still
    // running by then takes the general path below (at worst one writing
    // more than a pipe holds waits QUICK for its reader); one whose pipes
    // a process it started keeps open is drained as below.
    let quick = QUICK.min(Duration::from_millis(timeout_ms));
    let early = tokio::select! {
        e = &mut exit => Some(e),
        _ = tokio::time::sleep(quick) => None,
    };
    if let Some(e) = early {
        let out_eof = read_now(&child.stdout, cap, &mut out_buf);
        let err_eof = read_now(&child.stderr, cap, &mut err_buf);
        if !(out_eof && err_eof) {
            let out = (!out_eof).then(|| receiver(child.stdout)).flatten();
            let err = (!err_eof).then(|| receiver(child.stderr)).flatten();
            let reads = async {
                tokio::join!(read_capped(out, cap, &mut out_buf), read_capped(err, cap, &mut err_buf));
            };
            let _ = tokio::time::timeout(cfg.drain, reads).await;
        }
        return finish(ready, exit_outcome(e), &out_buf, &err_buf);
    }
    // The pipes are read in this same future, alongside the wait: no task
    // per pipe, and what was read stays here when the reading is given up.
    let outcome = {
        let (stdout, stderr) = (receiver(child.stdout), receiver(child.stderr));
        let reads = async {
            tokio::join!(read_capped(stdout, cap, &mut out_buf), read_capped(stderr, cap, &mut err_buf));
        };
        tokio::pin!(reads);
        let mut reads_done = false;

        enum Ended {
            Exited(std::io::Result<Exit>),
            TimedOut,
            Killed,
        }
        let ended = draining(reads.as_mut(), &mut reads_done, async {
            tokio::select! {
                status = &mut exit => Ended::Exited(status),
                _ = tokio::time::sleep(Duration::from_millis(timeout_ms).saturating_sub(quick)) => Ended::TimedOut,
                _ = kill => Ended::Killed,
            }
        })
        .await;
        let outcome = match ended {
            Ended::Exited(e) => exit_outcome(e),
            Ended::TimedOut | Ended::Killed => {
                // SIGTERM to the group, the grace for the agent to exit,
                // then SIGKILL to whatever is left (even if the agent
                // obeyed, its children may not have). The pipes are still
                // read meanwhile, so an agent blocked on a full pipe can
                // obey SIGTERM.
                {
                    // The agent leads its own group: its pid is the group's id.
                    let _ = killpg(pid, Signal::SIGTERM);
                    let _ = draining(reads.as_mut(), &mut reads_done, tokio::time::timeout(cfg.kill_grace, &mut exit)).await;
                    let _ = killpg(pid, Signal::SIGKILL);
                }
                let _ = draining(reads.as_mut(), &mut reads_done, &mut exit).await;
                if matches!(ended, Ended::TimedOut) {
                    Outcome::TimedOut(timeout_ms)
                } else {
                    Outcome::Cancelled
                }
            }
        };
        if !reads_done {
            let _ = tokio::time::timeout(cfg.drain, reads).await;
        }
        outcome
    };
    finish(ready, outcome, &out_buf, &err_buf)
}

/// How long a run is waited for before its pipes are registered.
const QUICK: Duration = Duration::from_millis(50);

fn exit_outcome(e: std::io::Result<Exit>) -> Outcome {
    match e {
        Ok(Exit::Code(code)) => Outcome::Exited(code),
        Ok(Exit::Signal(sig)) => Outcome::Signaled(sig),
        Err(e) => Outcome::SpawnFailed { errno: e.raw_os_error(), message: e.to_string() },
    }
}

fn finish(ready: &Ready, outcome: Outcome, out: &[u8], err: &[u8]) -> OpResult {
    let (stdout, stderr) = (String::from_utf8_lossy(out).into_owned(), String::from_utf8_lossy(err).into_owned());
    agent::map_outcome(ready.mapping, &ready.program, outcome, stdout, stderr)
}

/// Reads what a (non-blocking) pipe holds now, keeping the first `cap`
/// bytes in `into`. True at end of file (every writer gone).
fn read_now(fd: &OwnedFd, cap: usize, into: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    loop {
        match nix::unistd::read(fd, &mut chunk) {
            Ok(0) => return true,
            Ok(n) => {
                let room = cap.saturating_sub(into.len());
                into.extend_from_slice(&chunk[..n.min(room)]);
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return false,
        }
    }
}

/// An agent's stdin when it gets none: one `/dev/null` opened once (and
/// kept), rather than a path walk per agent run.
fn dev_null() -> std::io::Result<&'static OwnedFd> {
    static DEV_NULL: std::sync::OnceLock<Option<OwnedFd>> = std::sync::OnceLock::new();
    DEV_NULL
        .get_or_init(|| std::fs::File::open("/dev/null").ok().map(OwnedFd::from))
        .as_ref()
        .ok_or_else(|| std::io::Error::other("cannot open /dev/null"))
}

/// Runs `fut` to completion while also driving the pipe reads (until they
/// are done: `done` remembers it, a finished join must not be polled).
async fn draining<T>(mut reads: Pin<&mut impl Future<Output = ()>>, done: &mut bool, fut: impl Future<Output = T>) -> T {
    tokio::pin!(fut);
    loop {
        tokio::select! {
            v = &mut fut => return v,
            _ = reads.as_mut(), if !*done => *done = true,
        }
    }
}

/// Reads a pipe to its end, keeping the first `cap` bytes in `into`; the
/// rest is read and dropped so the agent never blocks on a full pipe.
/// Bytes go straight into `into` (grown as output comes, usually never):
/// a fixed read buffer here would make every run's future kilobytes
/// bigger, and lrmd copies and allocates each run's future.
async fn read_capped(pipe: Option<impl AsyncRead + Unpin>, cap: usize, into: &mut Vec<u8>) {
    let Some(mut pipe) = pipe else { return };
    let mut discard = [0u8; 256];
    loop {
        let read = if into.len() < cap {
            into.reserve(256.min(cap - into.len()));
            let room = (cap - into.len()) as u64;
            (&mut pipe).take(room).read_buf(into).await
        } else {
            pipe.read(&mut discard).await
        };
        match read {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}
