//! `ipfail`: in a two-node cluster, gives this node's resources to the
//! peer when the peer reaches more ping nodes (see `attrd::ipfail` and
//! docs/PINGD.md). Heartbeat's ipfail took no options; `--delay-ms`
//! overrides the give-up delay (default: twice ha.cf's keepalive, the
//! "Delayed giveup in 4 seconds" of seed 001 at keepalive 2).

use std::time::Duration;

use anyhow::Context;
use cib::env::{Daemon, HaEnv};
use clap::Parser;
use transport::{api_async, hacf, service};

#[derive(Parser)]
#[command(name = "ipfail", about = "Gives this node's resources to the peer when the peer reaches more ping nodes")]
struct Args {
    /// Delay between deciding to give up and doing it (ms).
    #[arg(long = "delay-ms")]
    delay_ms: Option<u64>,
    /// More log output (repeatable).
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    verbose: u8,
}

fn main() {
    let args = Args::parse();
    match real_main(args) {
        Ok(()) => {}
        Err(e) => {
            tracing::error!("ipfail: {e:#}");
            eprintln!("ipfail: {e:#}");
            // Heartbeat's launcher does not restart a child exiting 100.
            let unsuitable = e.downcast_ref::<attrd::ipfail::shell::Unsuitable>().is_some();
            std::process::exit(if unsuitable { transport::launcher::EXIT_NO_RESTART } else { 1 });
        }
    }
}

fn real_main(args: Args) -> anyhow::Result<()> {
    let env = HaEnv::from_process()?;
    let cf_path = env.ha_cf();
    let text = std::fs::read_to_string(&cf_path).with_context(|| format!("cannot read {}", cf_path.display()))?;
    let (cf, _) = hacf::parse(&text, &cf_path.display().to_string());
    let me = env.nodename.to_ascii_lowercase();
    let hb_sock = env.socket(Daemon::Heartbeat);
    let (stream, signon) = api_async::signon(&hb_sock, "ipfail", Duration::from_secs(30))
        .with_context(|| format!("cannot sign on to heartbeat at {}", hb_sock.display()))?;
    service::init_logging("ipfail", &cf, &me, args.verbose, false)?;
    let delay_ms = args.delay_ms.unwrap_or((2 * signon.keepalive_ms).max(1000));
    let opts = attrd::ipfail::shell::Options { me: signon.node.clone(), delay_ms, attrd_socket: env.socket(Daemon::Attrd) };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move { attrd::ipfail::shell::run(api_async::Heartbeat::from_std(stream)?, opts).await })
}
