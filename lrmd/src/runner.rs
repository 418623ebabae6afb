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
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
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
    /// How long to keep reading pipes after the agent exited.
    pub drain: Duration,
}

impl Default for RunnerConfig {
    fn default() -> RunnerConfig {
        RunnerConfig {
            dirs: AgentDirs::default(),
            base_env: Vec::new(),
            output_cap: 64 * 1024,
            kill_grace: Duration::from_secs(2),
            drain: Duration::from_millis(200),
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
    let out_buf = Arc::new(Mutex::new(Vec::new()));
    let err_buf = Arc::new(Mutex::new(Vec::new()));
    let readers = [
        child.stdout.take().map(|s| tokio::spawn(read_capped(s, cfg.output_cap, out_buf.clone()))),
        child.stderr.take().map(|s| tokio::spawn(read_capped(s, cfg.output_cap, err_buf.clone()))),
    ];

    enum Ended {
        Exited(std::io::Result<std::process::ExitStatus>),
        TimedOut,
        Killed,
    }
    let ended = tokio::select! {
        status = child.wait() => Ended::Exited(status),
        _ = tokio::time::sleep(Duration::from_millis(timeout_ms)) => Ended::TimedOut,
        _ = kill => Ended::Killed,
    };
    let outcome = match ended {
        Ended::Exited(Ok(status)) => match (status.code(), status.signal()) {
            (Some(code), _) => Outcome::Exited(code),
            (None, Some(sig)) => Outcome::Signaled(sig),
            (None, None) => Outcome::Exited(1),
        },
        Ended::Exited(Err(e)) => Outcome::SpawnFailed { errno: e.raw_os_error(), message: e.to_string() },
        Ended::TimedOut => {
            kill_group(&mut child, pgid, cfg.kill_grace).await;
            Outcome::TimedOut(timeout_ms)
        }
        Ended::Killed => {
            kill_group(&mut child, pgid, cfg.kill_grace).await;
            Outcome::Cancelled
        }
    };

    let deadline = tokio::time::Instant::now() + cfg.drain;
    for handle in readers.into_iter().flatten() {
        let abort = handle.abort_handle();
        if tokio::time::timeout_at(deadline, handle).await.is_err() {
            abort.abort();
        }
    }
    let stdout = String::from_utf8_lossy(&out_buf.lock().expect("reader never panics")).into_owned();
    let stderr = String::from_utf8_lossy(&err_buf.lock().expect("reader never panics")).into_owned();
    agent::map_outcome(inv.mapping, &inv.program, outcome, stdout, stderr)
}

/// SIGTERM to the agent's process group, `grace` for the agent to exit,
/// then SIGKILL to whatever is left of the group (even if the agent itself
/// obeyed SIGTERM, its children may not have).
async fn kill_group(child: &mut tokio::process::Child, pgid: Option<Pid>, grace: Duration) {
    if let Some(pgid) = pgid {
        let _ = killpg(pgid, Signal::SIGTERM);
        let _ = tokio::time::timeout(grace, child.wait()).await;
        let _ = killpg(pgid, Signal::SIGKILL);
    }
    let _ = child.wait().await;
}

/// Reads a pipe to its end, keeping the first `cap` bytes in `into`
/// (shared, so what was read survives the task being aborted).
async fn read_capped(mut pipe: impl AsyncRead + Unpin, cap: usize, into: Arc<Mutex<Vec<u8>>>) {
    let mut chunk = [0u8; 8192];
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let mut buf = into.lock().expect("never poisoned");
                let room = cap.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
}
