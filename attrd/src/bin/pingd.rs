//! `pingd`: sets a node attribute from the ping nodes this node reaches
//! (see `attrd::pingd` and docs/PINGD.md). Heartbeat 2.x's flags:
//! `pingd [-a NAME] [-m MULTIPLIER] [-d DAMPEN] [-h HOST]... [-D] [-p PIDFILE]`.

use std::time::Duration;

use anyhow::Context;
use cib::env::{Daemon, HaEnv};
use clap::Parser;
use transport::{api_async, hacf, service};

#[derive(Parser)]
#[command(name = "pingd", about = "Sets a node attribute to multiplier x reachable ping nodes", disable_help_flag = true)]
struct Args {
    /// The attribute to set.
    #[arg(short = 'a', long = "attr-name", default_value = "pingd")]
    attribute: String,
    /// Points per reachable ping node.
    #[arg(short = 'm', long = "value-multiplier", default_value_t = 1)]
    multiplier: i64,
    /// How long a change must hold before it is written (seconds, or
    /// with a unit: 500ms, 5s, 1min).
    #[arg(short = 'd', long = "dampen", default_value = "0")]
    dampen: String,
    /// Count only these ping nodes (repeatable; each must be a ping node
    /// of ha.cf).
    #[arg(short = 'h', long = "ping-host")]
    hosts: Vec<String>,
    /// Attribute set (accepted for compatibility; attrd chooses the set).
    #[arg(short = 's', long = "attr-set")]
    _set: Option<String>,
    /// Attribute section (accepted for compatibility; always status).
    #[arg(short = 'S', long = "attr-section")]
    _section: Option<String>,
    /// Run in the background.
    #[arg(short = 'D', long = "daemonize")]
    daemonize: bool,
    /// Pid file (default $HA_RUNDIR/pingd.pid).
    #[arg(short = 'p', long = "pid-file")]
    pid_file: Option<std::path::PathBuf>,
    /// More log output (repeatable).
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    verbose: u8,
    /// Print help.
    #[arg(long = "help", action = clap::ArgAction::Help)]
    _help: Option<bool>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dampen_ms = attrd::updater::parse_delay_ms(&args.dampen).with_context(|| format!("bad dampen delay {:?}", args.dampen))?;
    let env = HaEnv::from_process()?;
    let cf_path = env.ha_cf();
    let text = std::fs::read_to_string(&cf_path).with_context(|| format!("cannot read {}", cf_path.display()))?;
    let (cf, _) = hacf::parse(&text, &cf_path.display().to_string());
    let me = env.nodename.to_ascii_lowercase();
    let hb_sock = env.socket(Daemon::Heartbeat);
    let (stream, _) = api_async::signon(&hb_sock, "pingd", Duration::from_secs(30))
        .with_context(|| format!("cannot sign on to heartbeat at {}", hb_sock.display()))?;
    if args.daemonize {
        nix::unistd::daemon(false, false).context("cannot daemonize")?;
    }
    let pidfile = args.pid_file.clone().unwrap_or_else(|| env.rundir.join("pingd.pid"));
    std::fs::write(&pidfile, format!("{}\n", std::process::id())).with_context(|| format!("cannot write {}", pidfile.display()))?;
    service::init_logging("pingd", &cf, &me, args.verbose, false)?;
    let opts = attrd::pingd::shell::Options {
        attribute: args.attribute,
        multiplier: args.multiplier,
        dampen_ms,
        hosts: args.hosts,
        attrd_socket: env.socket(Daemon::Attrd),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let r = rt.block_on(async move { attrd::pingd::shell::run(api_async::Heartbeat::from_std(stream)?, opts).await });
    let _ = std::fs::remove_file(&pidfile);
    if let Err(e) = &r {
        tracing::error!("pingd: {e:#}");
    }
    r
}
