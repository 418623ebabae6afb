//! The processes heartbeat runs (the I/O half of the launcher; what to
//! run and what to do when one exits is [`crate::launcher`]).
//!
//! Each child gets the node's `HA_*` environment, its own process group
//! (a Ctrl-C on a foreground heartbeat reaches heartbeat only, which then
//! stops the children in order), and a parent-death signal (SIGTERM), so
//! that a heartbeat killed with SIGKILL does not leave its daemons
//! running without a messaging layer. Exits are reported on a channel the
//! daemon's select loop reads; [`Children::exited`] applies Heartbeat's
//! respawn rules and logs Heartbeat's lines:
//!
//! ```text
//! info: Starting child client "/b/ccm -f" (0,0)
//! info: Starting "/b/ccm -f" as uid 0  gid 0 (pid 4242)
//! WARN: Client /b/cib (pid=4243) killed by signal 9.
//! ERROR: Respawning client "/b/cib":
//! ERROR: Client /b/x respawning too fast
//! EMERG (logged as ERROR): Rebooting system.  Reason: ...
//! ```

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::sync::mpsc;

use crate::launcher::{decide, ChildSpec, Decision, RestartCounter};

/// A planned child with its user resolved.
#[derive(Debug, Clone)]
pub struct Launch {
    pub spec: ChildSpec,
    /// uid/gid to switch to; `None` keeps heartbeat's own.
    pub ids: Option<(u32, u32)>,
}

/// Resolves a user name (or a number) to its uid and primary gid.
pub fn resolve_user(user: &str) -> Result<(u32, u32), String> {
    if let Ok(uid) = user.parse::<u32>() {
        let gid = nix::unistd::User::from_uid(uid.into()).ok().flatten().map(|u| u.gid.as_raw()).unwrap_or(uid);
        return Ok((uid, gid));
    }
    match nix::unistd::User::from_name(user) {
        Ok(Some(u)) => Ok((u.uid.as_raw(), u.gid.as_raw())),
        Ok(None) => Err(format!("Invalid uid [{user}] specified for client child")),
        Err(e) => Err(format!("cannot look up user {user}: {e}")),
    }
}

/// Turns specs into launches: users looked up; a user other than our own
/// when we are not root is a warning (the child runs as us).
pub fn prepare(specs: Vec<ChildSpec>) -> Result<(Vec<Launch>, Vec<String>), String> {
    let me = nix::unistd::geteuid().as_raw();
    let mut warnings = Vec::new();
    let mut out = Vec::new();
    for spec in specs {
        let ids = match &spec.user {
            None => None,
            Some(u) => {
                let (uid, gid) = resolve_user(u)?;
                if me != 0 && uid != me {
                    warnings.push(format!("cannot run {} as {u}: heartbeat is not root; it runs as uid {me}", spec.name));
                    None
                } else if uid == me && me != 0 {
                    None
                } else {
                    Some((uid, gid))
                }
            }
        };
        out.push(Launch { spec, ids });
    }
    Ok((out, warnings))
}

/// One child's exit, as the waiting task saw it.
#[derive(Debug)]
pub struct ChildExit {
    pub index: usize,
    pub pid: i32,
    pub status: std::process::ExitStatus,
}

struct Running {
    pid: i32,
    started: Instant,
}

/// The children of one heartbeat.
pub struct Children {
    launches: Vec<Launch>,
    /// The node's HA_* variables, passed to every child.
    env: Vec<(String, OsString)>,
    /// Where the children's stdout and stderr go: ha.cf's log file when
    /// heartbeat runs detached (its own stderr is /dev/null then), else
    /// inherited.
    output: Option<std::path::PathBuf>,
    running: Vec<Option<Running>>,
    counters: Vec<RestartCounter>,
    tx: mpsc::UnboundedSender<ChildExit>,
    /// Set once shutdown began: exits are expected, nothing restarts.
    stopping: bool,
}

/// What an exit means for heartbeat as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Continue,
    /// A failfast child died: the node must go down (the reason).
    Reboot(String),
}

impl Children {
    pub fn new(
        launches: Vec<Launch>,
        env: Vec<(String, OsString)>,
        output: Option<std::path::PathBuf>,
    ) -> (Children, mpsc::UnboundedReceiver<ChildExit>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let n = launches.len();
        let c = Children {
            launches,
            env,
            output,
            running: (0..n).map(|_| None).collect(),
            counters: vec![RestartCounter::default(); n],
            tx,
            stopping: false,
        };
        (c, rx)
    }

    pub fn is_empty(&self) -> bool {
        self.launches.is_empty()
    }

    /// Starts every child in plan order. A child that cannot be started
    /// at all is logged; for a failfast one that is a reboot.
    pub fn start_all(&mut self) -> Outcome {
        for i in 0..self.launches.len() {
            if let Err(e) = self.start(i) {
                let cmd = self.launches[i].spec.command_line();
                tracing::error!("Cannot setup child process {cmd}: {e}");
                if self.launches[i].spec.policy == crate::launcher::Policy::Failfast {
                    return Outcome::Reboot(format!("failfast client {cmd} could not start"));
                }
            }
        }
        Outcome::Continue
    }

    fn start(&mut self, i: usize) -> std::io::Result<()> {
        let l = &self.launches[i];
        let cmd = l.spec.command_line();
        let (uid, gid) = l.ids.unwrap_or((nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw()));
        tracing::info!("Starting child client \"{cmd}\" ({uid},{gid})");
        let mut c = tokio::process::Command::new(&l.spec.program);
        c.args(&l.spec.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .current_dir("/")
            .kill_on_drop(false);
        if let Some((uid, gid)) = l.ids {
            c.uid(uid).gid(gid);
        }
        if let Some(path) = &self.output {
            match std::fs::OpenOptions::new().create(true).append(true).open(path) {
                Ok(f) => {
                    let f2 = f.try_clone()?;
                    c.stdout(f).stderr(f2);
                }
                Err(e) => tracing::warn!("cannot open {} for {cmd}'s output: {e}", path.display()),
            }
        }
        // SAFETY: only async-signal-safe calls (setpgid, prctl) between
        // fork and exec.
        unsafe {
            c.pre_exec(|| {
                nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
                nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
                Ok(())
            });
        }
        let mut child = c.spawn()?;
        let pid = child.id().map(|p| p as i32).unwrap_or(0);
        tracing::info!("Starting \"{cmd}\" as uid {uid}  gid {gid} (pid {pid})");
        self.running[i] = Some(Running { pid, started: Instant::now() });
        let tx = self.tx.clone();
        tokio::spawn(async move {
            if let Ok(status) = child.wait().await {
                let _ = tx.send(ChildExit { index: i, pid, status });
            }
        });
        Ok(())
    }

    /// Pids of the running children, in start order (for tests and logs).
    pub fn pids(&self) -> Vec<(String, i32)> {
        self.launches
            .iter()
            .zip(&self.running)
            .filter_map(|(l, r)| r.as_ref().map(|r| (l.spec.name.clone(), r.pid)))
            .collect()
    }

    /// A child exited: log it as Heartbeat does and apply the rules.
    pub fn exited(&mut self, ev: ChildExit) -> Outcome {
        let i = ev.index;
        let Some(r) = self.running[i].take_if(|r| r.pid == ev.pid) else { return Outcome::Continue };
        let cmd = self.launches[i].spec.command_line();
        let code = ev.status.code();
        match (code, ev.status.signal()) {
            (Some(c), _) => tracing::warn!("Client {cmd} exited with return code {c}."),
            (None, Some(s)) => tracing::warn!("Client {cmd} (pid={}) killed by signal {s}.", ev.pid),
            (None, None) => tracing::warn!("Client {cmd} (pid={}) exited.", ev.pid),
        }
        let ran = r.started.elapsed().as_millis() as u64;
        let policy = self.launches[i].spec.policy;
        match decide(policy, &mut self.counters[i], ran, code, self.stopping) {
            Decision::Leave => Outcome::Continue,
            Decision::GiveUp => {
                tracing::error!("Client {cmd} respawning too fast");
                Outcome::Continue
            }
            Decision::Respawn => {
                tracing::error!("Respawning client \"{cmd}\":");
                if let Err(e) = self.start(i) {
                    tracing::error!("Cannot setup child process {cmd}: {e}");
                }
                Outcome::Continue
            }
            Decision::Reboot => Outcome::Reboot(format!("failfast client {cmd} died")),
        }
    }

    /// Stops the children in reverse start order (crmd first): SIGTERM,
    /// up to `grace` for it to exit, then SIGKILL to its process group.
    pub async fn stop_all(&mut self, rx: &mut mpsc::UnboundedReceiver<ChildExit>, grace: Duration) {
        self.stopping = true;
        for i in (0..self.launches.len()).rev() {
            let Some(pid) = self.running[i].as_ref().map(|r| r.pid) else { continue };
            let cmd = self.launches[i].spec.command_line();
            tracing::info!("Killing pid {pid} with SIGTERM ({cmd})");
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            let deadline = tokio::time::Instant::now() + grace;
            while self.running[i].is_some() {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(ev)) => {
                        self.exited(ev);
                    }
                    Ok(None) => break,
                    Err(_) => {
                        tracing::warn!("{cmd} (pid {pid}) did not stop within {} s: SIGKILL", grace.as_secs());
                        let _ = kill(Pid::from_raw(-pid), Signal::SIGKILL);
                        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                        if let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
                            self.exited(ev);
                        }
                        self.running[i] = None;
                    }
                }
            }
            // Whatever the child left in its process group goes too.
            let _ = kill(Pid::from_raw(-pid), Signal::SIGKILL);
        }
    }

    /// A reboot: every child and its process group killed at once.
    pub fn kill_all(&mut self) {
        self.stopping = true;
        for r in self.running.iter_mut().rev() {
            if let Some(r) = r.take() {
                let _ = kill(Pid::from_raw(-r.pid), Signal::SIGKILL);
                let _ = kill(Pid::from_raw(r.pid), Signal::SIGKILL);
            }
        }
    }
}
