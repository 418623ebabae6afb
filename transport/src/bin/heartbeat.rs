//! `heartbeat`: the messaging layer daemon (docs/TRANSPORT.md).
//!
//! Reads `$HA_CONFDIR/ha.cf` and `authkeys` (refusing to start on any
//! error, each printed as `file:line: error: ...`), establishes the node's
//! identity in `$HA_VARLIB`, opens the media and the client socket, then
//! daemonizes unless `-f`. `-k` stops the running daemon (pid file in
//! `$HA_RUNDIR`) and waits for it to finish. With `crm` on or `respawn`
//! lines it runs its children (found in `$HA_BINDIR`, else beside this
//! executable); a failfast child's death ends heartbeat with exit code
//! [`REBOOT_EXIT_CODE`] after logging "Rebooting system".

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::Parser;
use haenv::{Daemon, HaEnv};

use transport::authkeys::Authkeys;
use transport::daemon::{self, Setup};
use transport::diag::{has_errors, Diagnostic};
use transport::identity::{Level as IdLevel, NodeIdentity};
use transport::{children, hacf, launcher, media, service};

/// Exit code of a heartbeat that "rebooted the node" because a failfast
/// child died. Heartbeat reboots the machine; this one calls reboot(2)
/// only when `HA_FAILFAST_REBOOT=1` (a lab node: in a child PID namespace
/// reboot(2) ends that namespace, every process of the node included),
/// and otherwise exits with this code.
const REBOOT_EXIT_CODE: i32 = 100;

/// How long `-k` waits: children get up to 30 s each to stop.
const STOP_WAIT: Duration = Duration::from_secs(300);

/// Where this project's daemons are: `$HA_BINDIR`, else the directory of
/// the running heartbeat executable.
fn bindir() -> anyhow::Result<std::path::PathBuf> {
    if let Some(d) = std::env::var_os("HA_BINDIR").filter(|d| !d.is_empty()) {
        return Ok(d.into());
    }
    let exe = std::env::current_exe().context("cannot find heartbeat's own executable")?;
    Ok(exe.parent().map(|p| p.to_path_buf()).unwrap_or_default())
}

/// `HA_FAILFAST_REBOOT=1`: a failfast child's death calls reboot(2).
/// Opt-in, because from the machine's own PID namespace that reboots the
/// machine (and in a container, ends the container); the lab's nodes are
/// where it is meant for (docs/TRANSPORT.md "Launcher").
fn failfast_reboots() -> bool {
    std::env::var("HA_FAILFAST_REBOOT").is_ok_and(|v| v == "1")
}

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[derive(Parser, Debug)]
#[command(name = "heartbeat", about = "Heartbeat messaging layer daemon")]
struct Args {
    /// Stay in the foreground (log to stderr unless ha.cf names files).
    #[arg(short = 'f')]
    foreground: bool,
    /// Stop the running heartbeat gracefully and wait for it to exit.
    #[arg(short = 'k')]
    kill: bool,
    /// More debug output (repeatable).
    #[arg(short = 'd', action = clap::ArgAction::Count)]
    debug: u8,
}

fn main() {
    let args = Args::parse();
    match real_main(args) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("heartbeat: {e:#}");
            std::process::exit(1);
        }
    }
}

fn stop(env: &HaEnv) -> anyhow::Result<i32> {
    let pidfile = env.pid_file(Daemon::Heartbeat);
    match service::stop(&pidfile, STOP_WAIT).context("cannot stop heartbeat")? {
        service::Stop::NotRunning => {
            eprintln!("heartbeat: no heartbeat running (pid file {})", pidfile.display());
            Ok(1)
        }
        service::Stop::Stopped => Ok(0),
    }
}

fn print_diags(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("{d}");
    }
}

fn real_main(args: Args) -> anyhow::Result<i32> {
    let env = HaEnv::from_process()?;
    if args.kill {
        return stop(&env);
    }

    // Configuration: every finding printed, any error fatal.
    let cf_path = env.ha_cf();
    let text = std::fs::read_to_string(&cf_path).with_context(|| format!("cannot read {}", cf_path.display()))?;
    let file = cf_path.display().to_string();
    let (cf, mut diags) = hacf::parse(&text, &file);
    let nodename = env.nodename.to_ascii_lowercase();
    diags.extend(cf.check_local_node(&file, &nodename));
    print_diags(&diags);
    if has_errors(&diags) {
        bail!("configuration errors in {file}; not starting");
    }
    let keys_path = env.authkeys();
    let keys: Authkeys = match Authkeys::load(&keys_path) {
        Ok((k, warnings)) => {
            print_diags(&warnings);
            k
        }
        Err(transport::authkeys::AuthkeysError::Invalid { diagnostics, .. }) => {
            print_diags(&diagnostics);
            bail!("errors in {}; not starting", keys_path.display());
        }
        Err(e) => bail!("{e}"),
    };

    // The children: every missing program or unknown user is reported
    // before anything starts.
    // haresources mode (crm no with resources): the CRM runs them.
    let haresources_text = std::fs::read_to_string(env.haresources()).ok();
    let v1_mode = launcher::haresources_mode(&cf, haresources_text.as_deref());
    let plan = launcher::plan_for(&cf, v1_mode, &bindir()?, &is_executable);
    for f in &plan.findings {
        match f {
            launcher::Finding::Error(e) => eprintln!("{file}: error: {e}"),
            launcher::Finding::Warning(w) => eprintln!("{file}: warning: {w}"),
        }
    }
    if plan.has_errors() {
        bail!("cannot start the children ha.cf asks for; not starting");
    }
    let (launches, user_warnings) = children::prepare(plan.children).map_err(anyhow::Error::msg)?;
    for w in &user_warnings {
        eprintln!("{file}: warning: {w}");
    }

    let pidfile = env.pid_file(Daemon::Heartbeat);
    if let Some(pid) = service::read_pid(&pidfile).filter(|&p| service::alive(p)) {
        bail!("heartbeat is already running [pid {pid}]");
    }
    std::fs::create_dir_all(&env.rundir).with_context(|| format!("cannot create {}", env.rundir.display()))?;
    std::fs::create_dir_all(&env.varlib).with_context(|| format!("cannot create {}", env.varlib.display()))?;

    let now_unix = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let established = NodeIdentity::establish(&env.varlib, &nodename, cf.uuidfrom, cf.gen_method, now_unix)?;

    // Sockets before daemonizing, so failures reach the terminal.
    let links = media::open(&cf.media, cf.udpport, env.bindaddr)?;
    let sock_path = env.socket(Daemon::Heartbeat);
    let _ = std::fs::remove_file(&sock_path);
    let ping_socket = if cf.ping_nodes.is_empty() && cf.ping_groups.is_empty() {
        None
    } else {
        daemon::resolve_ping_hosts(&cf).context("ping nodes")?;
        Some(transport::ping::open()?)
    };
    let listener =
        std::os::unix::net::UnixListener::bind(&sock_path).with_context(|| format!("cannot bind {}", sock_path.display()))?;
    listener.set_nonblocking(true)?;

    if !args.foreground {
        nix::unistd::daemon(false, false).context("cannot daemonize")?;
    }
    std::fs::write(&pidfile, format!("{}\n", std::process::id()))
        .with_context(|| format!("cannot write {}", pidfile.display()))?;
    service::init_logging("heartbeat", &cf, &nodename, args.debug, args.foreground)?;

    for ev in &established.events {
        match ev.level() {
            IdLevel::Warn => tracing::warn!("{ev}"),
            IdLevel::Info => tracing::info!("{ev}"),
        }
    }
    tracing::info!("Configuration validated. Starting heartbeat {}", env!("CARGO_PKG_VERSION"));
    if v1_mode {
        tracing::info!("haresources mode: the resources of {} are run by the CRM", env.haresources().display());
    }
    // The findings again, now that the log exists.
    for f in &plan.findings {
        if let launcher::Finding::Warning(w) = f {
            tracing::warn!("{w}");
        }
    }

    // Detached, heartbeat's stderr is /dev/null: the children's output
    // goes to ha.cf's log file instead (debugfile if no logfile).
    let child_output =
        if args.foreground { None } else { cf.logfile.clone().or_else(|| cf.debugfile.clone()).map(Into::into) };
    let setup = Setup {
        nodename: nodename.clone(),
        hacf: cf,
        keys,
        identity: established.identity,
        uid: nix::unistd::geteuid().as_raw(),
        children: launches,
        child_output,
        ping_socket,
        child_env: env.to_vars().into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let result = rt.block_on(async move {
        let listener = tokio::net::UnixListener::from_std(listener)?;
        let shutdown = async {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
                return std::future::pending().await;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        };
        daemon::run(setup, links, listener, shutdown).await
    });
    let _ = std::fs::remove_file(&sock_path);
    if service::read_pid(&pidfile) == Some(std::process::id() as i32) {
        let _ = std::fs::remove_file(&pidfile);
    }
    match result? {
        daemon::Ending::Stopped => Ok(0),
        daemon::Ending::Reboot(_) => {
            if failfast_reboots() {
                // In a lab node, reboot(2) from its child PID namespace
                // ends that namespace only (the kernel kills its init and
                // every process in it): exactly the node's reboot, its
                // services included.
                // SAFETY: a plain system call; on success it does not return.
                unsafe { nix::libc::reboot(nix::libc::RB_AUTOBOOT) };
                tracing::error!("reboot(2) failed: {}", std::io::Error::last_os_error());
            }
            Ok(REBOOT_EXIT_CODE)
        }
    }
}
