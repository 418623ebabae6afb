//! `ccm`: the membership daemon (docs/CCM.md).
//!
//! Reads `$HA_CONFDIR/ha.cf` (configured nodes, ping nodes, keepalive,
//! initdead), signs on to heartbeat as client `ccm` (waiting up to 10 s for
//! its socket), opens `$HA_RUNDIR/ccm.sock`, then daemonizes unless `-f`.
//! `-k` stops the running daemon (pid file `$HA_RUNDIR/ccm.pid`).

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use haenv::{Daemon, HaEnv};

use ccm::shell::{self, store::InstanceStore, Setup};
use ccm::{Config, TieBreaker};
use transport::{api_async as heartbeat, hacf, service};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Tie {
    /// A tie has no quorum.
    None,
    /// The half with the lowest configured node name wins.
    Lowest,
    /// As `lowest`, and the deciding node must reach its ping nodes.
    Ping,
}

#[derive(Parser, Debug)]
#[command(name = "ccm", about = "Cluster membership daemon")]
struct Args {
    /// Stay in the foreground (log to stderr too).
    #[arg(short = 'f')]
    foreground: bool,
    /// Stop the running ccm and wait for it to exit.
    #[arg(short = 'k')]
    kill: bool,
    /// Debug output.
    #[arg(short = 'd', action = clap::ArgAction::Count)]
    debug: u8,
    /// Who wins a tie in an even-sized cluster (ha.cf has no directive).
    #[arg(long, value_enum, default_value = "none")]
    tie_breaker: Tie,
    /// How long to wait for heartbeat's socket at start, in seconds.
    #[arg(long, default_value_t = 10)]
    wait: u64,
}

fn main() {
    let args = Args::parse();
    match real_main(args) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("ccm: {e:#}");
            std::process::exit(1);
        }
    }
}

fn stop(env: &HaEnv) -> anyhow::Result<i32> {
    let pidfile = env.pid_file(Daemon::Ccm);
    match service::stop(&pidfile, Duration::from_secs(10)).context("cannot stop ccm")? {
        service::Stop::NotRunning => {
            eprintln!("ccm: no ccm running (pid file {})", pidfile.display());
            Ok(1)
        }
        service::Stop::Stopped => Ok(0),
    }
}

fn real_main(args: Args) -> anyhow::Result<i32> {
    let env = HaEnv::from_process()?;
    if args.kill {
        return stop(&env);
    }
    let cf_path = env.ha_cf();
    let text = std::fs::read_to_string(&cf_path).with_context(|| format!("cannot read {}", cf_path.display()))?;
    let file = cf_path.display().to_string();
    // heartbeat prints the warnings; ccm refuses only what heartbeat would.
    let (cf, diags) = hacf::parse(&text, &file);
    if transport::diag::has_errors(&diags) {
        for d in &diags {
            eprintln!("{d}");
        }
        bail!("configuration errors in {file}; not starting");
    }
    let me = env.nodename.to_ascii_lowercase();

    let pidfile = env.pid_file(Daemon::Ccm);
    if let Some(pid) = service::read_pid(&pidfile).filter(|&p| service::alive(p)) {
        bail!("ccm is already running [pid {pid}]");
    }
    std::fs::create_dir_all(&env.rundir).with_context(|| format!("cannot create {}", env.rundir.display()))?;

    // Heartbeat and the view socket before daemonizing: errors reach the
    // terminal.
    let hb_sock = env.socket(Daemon::Heartbeat);
    let (hb_stream, signon) = heartbeat::signon(&hb_sock, "ccm", Duration::from_secs(args.wait))
        .with_context(|| format!("cannot sign on to heartbeat at {}", hb_sock.display()))?;
    if signon.node != me {
        bail!("heartbeat runs as node {:?}, HA_NODENAME says {me:?}", signon.node);
    }
    let sock_path = env.socket(Daemon::Ccm);
    let _ = std::fs::remove_file(&sock_path);
    let listener =
        std::os::unix::net::UnixListener::bind(&sock_path).with_context(|| format!("cannot bind {}", sock_path.display()))?;
    listener.set_nonblocking(true)?;

    let mut config = Config::new(&me, cf.nodes.iter().map(|n| n.to_ascii_lowercase()));
    // A retry every keepalive: lost ccm messages cost about as much as a
    // late heartbeat. Never faster than 100 ms.
    config.retry = Duration::from_millis(cf.keepalive_ms.max(100));
    config.quorum.tie_breaker = match args.tie_breaker {
        Tie::None => TieBreaker::None,
        Tie::Lowest => TieBreaker::LowestNode,
        Tie::Ping => TieBreaker::Ping,
    };
    let mut ping_nodes: BTreeSet<String> = cf.ping_nodes.iter().cloned().collect();
    ping_nodes.extend(cf.ping_groups.iter().map(|g| g.name.clone()));
    let setup = Setup {
        config,
        ping_nodes,
        initdead: Duration::from_millis(cf.initdead_ms),
        store: InstanceStore::new(&env.varlib),
    };

    if !args.foreground {
        nix::unistd::daemon(false, false).context("cannot daemonize")?;
    }
    std::fs::write(&pidfile, format!("{}\n", std::process::id()))
        .with_context(|| format!("cannot write {}", pidfile.display()))?;
    service::init_logging("ccm", &cf, &me, args.debug, args.foreground)?;

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let result = rt.block_on(async move {
        let hb = heartbeat::Heartbeat::from_std(hb_stream)?;
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
        let r = shell::run(setup, hb, listener, shutdown).await;
        if let Err(e) = &r {
            tracing::error!("ccm stopping: {e}");
        }
        anyhow::Ok(r?)
    });
    let _ = std::fs::remove_file(&sock_path);
    if service::read_pid(&pidfile) == Some(std::process::id() as i32) {
        let _ = std::fs::remove_file(&pidfile);
    }
    result?;
    tracing::info!("ccm stopped");
    Ok(0)
}
