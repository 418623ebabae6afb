//! `attrd`: the node attribute daemon (see the `attrd` crate and docs/ATTRD.md).

use clap::Parser;

#[derive(Parser)]
#[command(name = "attrd", about = "Holds this node's transient attributes and writes them into the CIB")]
struct Args {
    /// Run without heartbeat: only this node's attributes.
    #[arg(short = 's', long = "stand-alone")]
    stand_alone: bool,
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
    rt.block_on(attrd::server::run(attrd::server::Options::new(&env, args.stand_alone), std::future::pending()))
}
