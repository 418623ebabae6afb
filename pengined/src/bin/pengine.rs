//! `pengine`: the policy-engine daemon (see the `pengined` crate and
//! docs/PENGINED.md).

use clap::Parser;

#[derive(Parser)]
#[command(name = "pengine", about = "The policy engine: schedules CIBs sent to $HA_RUNDIR/pengine.sock")]
struct Args {
    /// More log output (repeatable).
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    verbose: u8,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let level = if args.verbose == 0 { tracing::Level::INFO } else { tracing::Level::DEBUG };
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(level).with_ansi(false).init();
    let env = cib::env::HaEnv::from_process()?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(pengined::server::run(pengined::server::Options::new(&env), std::future::pending()))
}
