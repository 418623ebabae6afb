//! `ccm`: the membership daemon (docs/CCM.md).
//!
//! Reads `$HA_CONFDIR/ha.cf` (configured nodes, ping nodes, keepalive,
//! initdead), signs on to heartbeat as client `ccm` (waiting up to 10 s for
//! its socket), opens `$HA_RUNDIR/ccm.sock`, then daemonizes unless `-f`.
//! `-k` stops the running daemon (pid file `$HA_RUNDIR/ccm.pid`).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use haenv::{Daemon, HaEnv};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

use ccm::shell::{self, heartbeat, store::InstanceStore, Setup};
use ccm::{Config, TieBreaker};
use transport::hacf;

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

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok()
}

fn stop(env: &HaEnv) -> anyhow::Result<i32> {
    let pidfile = env.pid_file(Daemon::Ccm);
    let Some(pid) = read_pid(&pidfile).filter(|&p| alive(p)) else {
        eprintln!("ccm: no ccm running (pid file {})", pidfile.display());
        return Ok(1);
    };
    kill(Pid::from_raw(pid), Signal::SIGTERM).context("cannot signal ccm")?;
    for _ in 0..200 {
        if !alive(pid) {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("ccm (pid {pid}) did not stop within 10 s")
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
    if let Some(pid) = read_pid(&pidfile).filter(|&p| alive(p)) {
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
    init_logging(&cf, &me, args.debug, args.foreground)?;

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
    if read_pid(&pidfile) == Some(std::process::id() as i32) {
        let _ = std::fs::remove_file(&pidfile);
    }
    result?;
    tracing::info!("ccm stopped");
    Ok(0)
}

/// Heartbeat's log line shape, with ccm as the program:
/// `Nov 22 11:07:33 n1 ccm: [30214]: info: text`.
struct LogFormat {
    node: String,
}

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for LogFormat
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut w: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "ERROR",
            tracing::Level::WARN => "WARN",
            tracing::Level::INFO => "info",
            _ => "debug",
        };
        write!(w, "{} {} ccm: [{}]: {level}: ", timestamp(), self.node, std::process::id())?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// `Nov 22 11:07:33`, UTC, as heartbeat's own lines (no time zone database).
fn timestamp() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (h, m, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let doe = z - z.div_euclid(146_097) * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{} {d:2} {h:02}:{m:02}:{s:02}", MONTHS[(month - 1) as usize])
}

/// ha.cf's logfile gets info and up, debugfile everything; stderr too in
/// the foreground or when neither is set.
fn init_logging(cf: &hacf::HaCf, node: &str, debug: u8, foreground: bool) -> anyhow::Result<()> {
    use tracing_subscriber::filter::LevelFilter;
    type Boxed = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;
    let file_layer = |path: &str, level: LevelFilter| -> anyhow::Result<Boxed> {
        let f = std::fs::OpenOptions::new().create(true).append(true).open(path).with_context(|| format!("cannot open {path}"))?;
        Ok(tracing_subscriber::fmt::layer()
            .event_format(LogFormat { node: node.to_string() })
            .with_ansi(false)
            .with_writer(std::sync::Arc::new(f))
            .with_filter(level)
            .boxed())
    };
    let mut layers: Vec<Boxed> = Vec::new();
    if let Some(p) = cf.logfile.as_deref() {
        layers.push(file_layer(p, LevelFilter::INFO)?);
    }
    if let Some(p) = cf.debugfile.as_deref() {
        layers.push(file_layer(p, LevelFilter::DEBUG)?);
    }
    if foreground || layers.is_empty() {
        let verbose = debug > 0 || cf.debug > 0;
        layers.push(
            tracing_subscriber::fmt::layer()
                .event_format(LogFormat { node: node.to_string() })
                .with_ansi(false)
                .with_writer(std::io::stderr)
                .with_filter(if verbose { LevelFilter::DEBUG } else { LevelFilter::INFO })
                .boxed(),
        );
    }
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layers)).context("cannot set up logging")?;
    Ok(())
}
