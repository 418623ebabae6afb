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
use std::pin::Pin;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::agent::{self, AgentDirs, Invocation, Outcome, Plan};
use crate::op::{OpRequest, OpResult};
use crate::resource::ResourceSpec;

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
    match agent::plan(&cfg.dirs, &cfg.base_env, spec, req) {
        Plan::Immediate(r) => r,
        Plan::Run(inv) => {
            let timeout_ms = if req.timeout_ms == 0 { DEFAULT_TIMEOUT_MS } else { req.timeout_ms };
            run_killable(cfg, inv, timeout_ms, kill).await
        }
    }
}

/// Runs one invocation to completion or timeout.
pub async fn run(cfg: &RunnerConfig, inv: Invocation, timeout_ms: u64) -> OpResult {
    run_killable(cfg, inv, timeout_ms, std::future::pending()).await
}

/// Runs one invocation to completion, timeout, or `kill`.
pub async fn run_killable(cfg: &RunnerConfig, inv: Invocation, timeout_ms: u64, kill: impl Future<Output = ()>) -> OpResult {
    let mut cmd = tokio::process::Command::new(&inv.program);
    cmd.args(&inv.args)
        .env_clear()
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .current_dir("/")
        .process_group(0)
        .stdin(if inv.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // std spawns with posix_spawn (vfork, no pre_exec closure: the
    // process group is a spawn attribute), so this thread waits only for
    // the child's exec. Spawning from tokio's blocking pool instead was
    // tried: it overlaps spawns in a burst, but the thread hand-offs cost
    // more CPU than the waits they save (docs/LRMD.md, Benchmark).
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let outcome = Outcome::SpawnFailed { errno: e.raw_os_error(), message: e.to_string() };
            return agent::map_outcome(inv.mapping, &inv.program, outcome, String::new(), String::new());
        }
    };
    let pgid = child.id().map(|id| Pid::from_raw(id as i32));

    if let (Some(text), Some(mut stdin)) = (inv.stdin, child.stdin.take()) {
        // An agent that does not read its stdin must not block us: write
        // from a task and ignore EPIPE.
        tokio::spawn(async move {
            let _ = stdin.write_all(text.as_bytes()).await;
        });
    }
    // The pipes are read in this same future, alongside the wait: no task
    // per pipe, and what was read stays here when the reading is given up.
    let (mut out_buf, mut err_buf) = (Vec::new(), Vec::new());
    let outcome = {
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let cap = cfg.output_cap;
        let reads = async {
            tokio::join!(read_capped(stdout, cap, &mut out_buf), read_capped(stderr, cap, &mut err_buf));
        };
        tokio::pin!(reads);
        let mut reads_done = false;

        enum Ended {
            Exited(std::io::Result<std::process::ExitStatus>),
            TimedOut,
            Killed,
        }
        let ended = draining(reads.as_mut(), &mut reads_done, async {
            tokio::select! {
                status = child.wait() => Ended::Exited(status),
                _ = tokio::time::sleep(Duration::from_millis(timeout_ms)) => Ended::TimedOut,
                _ = kill => Ended::Killed,
            }
        })
        .await;
        let outcome = match ended {
            Ended::Exited(Ok(status)) => match (status.code(), status.signal()) {
                (Some(code), _) => Outcome::Exited(code),
                (None, Some(sig)) => Outcome::Signaled(sig),
                (None, None) => Outcome::Exited(1),
            },
            Ended::Exited(Err(e)) => Outcome::SpawnFailed { errno: e.raw_os_error(), message: e.to_string() },
            Ended::TimedOut | Ended::Killed => {
                // SIGTERM to the group, the grace for the agent to exit,
                // then SIGKILL to whatever is left (even if the agent
                // obeyed, its children may not have). The pipes are still
                // read meanwhile, so an agent blocked on a full pipe can
                // obey SIGTERM.
                if let Some(pgid) = pgid {
                    let _ = killpg(pgid, Signal::SIGTERM);
                    let _ = draining(reads.as_mut(), &mut reads_done, tokio::time::timeout(cfg.kill_grace, child.wait())).await;
                    let _ = killpg(pgid, Signal::SIGKILL);
                }
                let _ = draining(reads.as_mut(), &mut reads_done, child.wait()).await;
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
    let stdout = String::from_utf8_lossy(&out_buf).into_owned();
    let stderr = String::from_utf8_lossy(&err_buf).into_owned();
    agent::map_outcome(inv.mapping, &inv.program, outcome, stdout, stderr)
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
