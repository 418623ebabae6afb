//! `crmd`: the cluster resource manager daemon (docs/CRMD.md).
//!
//! Signs on to heartbeat as client `crmd` (waiting up to `--wait` seconds
//! for its socket), then connects to ccm, the cib and lrmd
//! (`$HA_RUNDIR/{ccm,cib,lrmd}.sock`, waiting as long for each),
//! daemonizes unless `-f`, and runs until SIGTERM has moved its resources
//! away or one of those connections is lost (heartbeat respawns it).
//! `-k` stops the running daemon (pid file `$HA_RUNDIR/crmd.pid`).

use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use haenv::{Daemon, HaEnv};

use crmd::shell::{self, Setup};
use crmd::Config;
use transport::{api_async as heartbeat, hacf, service};

#[derive(Parser, Debug)]
#[command(name = "crmd", about = "Cluster resource manager daemon")]
struct Args {
    /// Stay in the foreground (log to stderr too).
    #[arg(short = 'f')]
    foreground: bool,
    /// Stop the running crmd and wait for it to exit.
    #[arg(short = 'k')]
    kill: bool,
    /// Debug output.
    #[arg(short = 'd', action = clap::ArgAction::Count)]
    debug: u8,
    /// How long to wait for heartbeat, ccm, cib and lrmd at start, in seconds.
    #[arg(long, default_value_t = 20)]
    wait: u64,
    /// dc-deadtime: how long to wait for a DC before an election, in ms.
    #[arg(long, default_value_t = 5000)]
    dc_deadtime_ms: u64,
    /// election-timeout, in ms.
    #[arg(long, default_value_t = 2000)]
    election_timeout_ms: u64,
    /// How long the DC waits for join answers, in ms.
    #[arg(long, default_value_t = 5000)]
    join_timeout_ms: u64,
    /// How long followers wait for the DC's keepalive before electing a new
    /// DC, in ms. Long enough for a DC busy with a large CIB (its loop sends
    /// the keepalive between events).
    #[arg(long, default_value_t = 10_000)]
    dc_silence_ms: u64,
}

fn main() {
    let args = Args::parse();
    match real_main(args) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("crmd: {e:#}");
            tracing::error!("crmd: {e:#}");
            std::process::exit(1);
        }
    }
}

fn real_main(args: Args) -> anyhow::Result<i32> {
    let env = HaEnv::from_process()?;
    let pidfile = env.pid_file(Daemon::Crmd);
    if args.kill {
        return match service::stop(&pidfile, Duration::from_secs(120)).context("cannot stop crmd")? {
            service::Stop::NotRunning => {
                eprintln!("crmd: no crmd running (pid file {})", pidfile.display());
                Ok(1)
            }
            service::Stop::Stopped => Ok(0),
        };
    }
    let cf_path = env.ha_cf();
    let text = std::fs::read_to_string(&cf_path).with_context(|| format!("cannot read {}", cf_path.display()))?;
    let (cf, _) = hacf::parse(&text, &cf_path.display().to_string());
    let me = env.nodename.to_ascii_lowercase();
    if let Some(pid) = service::read_pid(&pidfile).filter(|&p| service::alive(p)) {
        bail!("crmd is already running [pid {pid}]");
    }
    std::fs::create_dir_all(&env.rundir).with_context(|| format!("cannot create {}", env.rundir.display()))?;

    let wait = Duration::from_secs(args.wait);
    let hb_sock = env.socket(Daemon::Heartbeat);
    let (hb_stream, signon) = heartbeat::signon(&hb_sock, "crmd", wait)
        .with_context(|| format!("cannot sign on to heartbeat at {}", hb_sock.display()))?;
    if signon.node != me {
        bail!("heartbeat runs as node {:?}, HA_NODENAME says {me:?}", signon.node);
    }
    if !args.foreground {
        nix::unistd::daemon(false, false).context("cannot daemonize")?;
    }
    std::fs::write(&pidfile, format!("{}\n", std::process::id()))
        .with_context(|| format!("cannot write {}", pidfile.display()))?;
    service::init_logging("crmd", &cf, &me, args.debug, args.foreground)?;

    let mut config = Config::new(&me);
    config.dc_deadtime = Duration::from_millis(args.dc_deadtime_ms);
    config.election_timeout = Duration::from_millis(args.election_timeout_ms);
    config.join_timeout = Duration::from_millis(args.join_timeout_ms);
    let setup = Setup {
        config,
        cib_socket: env.socket(Daemon::Cib),
        ccm_socket: env.socket(Daemon::Ccm),
        lrmd_socket: env.socket(Daemon::Lrmd),
        pengine_socket: env.socket(Daemon::Pengine),
        attrd_socket: env.socket(Daemon::Attrd),
        stonithd_socket: env.socket(Daemon::Stonithd),
        wait,
        keepalive: Duration::from_secs(1),
        hb_keepalive: Duration::from_millis(cf.keepalive_ms),
        dc_silence: Duration::from_millis(args.dc_silence_ms),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let result = rt.block_on(async move {
        let hb = heartbeat::Heartbeat::from_std(hb_stream)?;
        let interrupt = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        let r = shell::run(setup, hb, interrupt).await;
        if let Err(e) = &r {
            tracing::error!("crmd stopping: {e:#}");
        }
        r
    });
    if service::read_pid(&pidfile) == Some(std::process::id() as i32) {
        let _ = std::fs::remove_file(&pidfile);
    }
    result?;
    tracing::info!("crmd stopped");
    Ok(0)
}
