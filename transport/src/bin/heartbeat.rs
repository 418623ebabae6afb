//! `heartbeat`: the messaging layer daemon (docs/TRANSPORT.md).
//!
//! Reads `$HA_CONFDIR/ha.cf` and `authkeys` (refusing to start on any
//! error, each printed as `file:line: error: ...`), establishes the node's
//! identity in `$HA_VARLIB`, opens the media and the client socket, then
//! daemonizes unless `-f`. `-k` stops the running daemon (pid file in
//! `$HA_RUNDIR`) and waits for it to finish.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::Parser;
use haenv::{Daemon, HaEnv};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

use transport::authkeys::Authkeys;
use transport::daemon::{self, Setup};
use transport::diag::{has_errors, Diagnostic};
use transport::identity::{Level as IdLevel, NodeIdentity};
use transport::{hacf, media};

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

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok()
}

fn stop(env: &HaEnv) -> anyhow::Result<i32> {
    let pidfile = env.pid_file(Daemon::Heartbeat);
    let Some(pid) = read_pid(&pidfile).filter(|&p| alive(p)) else {
        eprintln!("heartbeat: no heartbeat running (pid file {})", pidfile.display());
        return Ok(1);
    };
    kill(Pid::from_raw(pid), Signal::SIGTERM).context("cannot signal heartbeat")?;
    // Heartbeat waits for its children; ours has none yet, so this is
    // quick, but bound it anyway.
    for _ in 0..600 {
        if !alive(pid) {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("heartbeat (pid {pid}) did not stop within 30 s")
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

    let pidfile = env.pid_file(Daemon::Heartbeat);
    if let Some(pid) = read_pid(&pidfile).filter(|&p| alive(p)) {
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
    let listener =
        std::os::unix::net::UnixListener::bind(&sock_path).with_context(|| format!("cannot bind {}", sock_path.display()))?;
    listener.set_nonblocking(true)?;

    if !args.foreground {
        nix::unistd::daemon(false, false).context("cannot daemonize")?;
    }
    std::fs::write(&pidfile, format!("{}\n", std::process::id()))
        .with_context(|| format!("cannot write {}", pidfile.display()))?;
    init_logging(&cf, &nodename, args.debug, args.foreground)?;

    for ev in &established.events {
        match ev.level() {
            IdLevel::Warn => tracing::warn!("{ev}"),
            IdLevel::Info => tracing::info!("{ev}"),
        }
    }
    tracing::info!("Configuration validated. Starting heartbeat {}", env!("CARGO_PKG_VERSION"));

    let setup = Setup {
        nodename: nodename.clone(),
        hacf: cf,
        keys,
        identity: established.identity,
        uid: nix::unistd::geteuid().as_raw(),
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
    if read_pid(&pidfile) == Some(std::process::id() as i32) {
        let _ = std::fs::remove_file(&pidfile);
    }
    result?;
    Ok(0)
}

/// Heartbeat's log line shape: `Nov 22 11:07:33 node1 heartbeat: [30214]: WARN: text`.
struct HbFormat {
    node: String,
}

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for HbFormat
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
        write!(w, "{} {} heartbeat: [{}]: {level}: ", timestamp(), self.node, std::process::id())?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// Syslog-style local time stamp (`Nov 22 11:07:33`), UTC: no time zone
/// database is read.
fn timestamp() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = secs / 86_400;
    let (h, m, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{} {d:2} {h:02}:{m:02}:{s:02}", MONTHS[(month - 1) as usize])
}

fn open_log(path: &str) -> anyhow::Result<std::sync::Arc<std::fs::File>> {
    let f = std::fs::OpenOptions::new().create(true).append(true).open(path).with_context(|| format!("cannot open {path}"))?;
    Ok(std::sync::Arc::new(f))
}

/// logfile gets info and above, debugfile everything; with neither (or in
/// the foreground) stderr gets info and above (debug with -d).
fn init_logging(cf: &hacf::HaCf, node: &str, debug: u8, foreground: bool) -> anyhow::Result<()> {
    use tracing_subscriber::filter::LevelFilter;
    let verbose = debug > 0 || cf.debug > 0;
    type Boxed = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;
    let fmt = |w: std::sync::Arc<std::fs::File>, level: LevelFilter| -> Boxed {
        tracing_subscriber::fmt::layer()
            .event_format(HbFormat { node: node.to_string() })
            .with_ansi(false)
            .with_writer(w)
            .with_filter(level)
            .boxed()
    };
    let mut layers: Vec<Boxed> = Vec::new();
    if let Some(path) = cf.logfile.as_deref() {
        layers.push(fmt(open_log(path)?, LevelFilter::INFO));
    }
    if let Some(path) = cf.debugfile.as_deref() {
        layers.push(fmt(open_log(path)?, LevelFilter::DEBUG));
    }
    if foreground || layers.is_empty() {
        layers.push(
            tracing_subscriber::fmt::layer()
                .event_format(HbFormat { node: node.to_string() })
                .with_ansi(false)
                .with_writer(std::io::stderr)
                .with_filter(if verbose { LevelFilter::DEBUG } else { LevelFilter::INFO })
                .boxed(),
        );
    }
    let subscriber = tracing_subscriber::registry().with(layers);
    tracing::subscriber::set_global_default(subscriber).context("cannot set up logging")?;
    Ok(())
}
