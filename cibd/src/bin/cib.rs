//! `cib`: the CIB daemon (see the `cibd` crate and docs/CIB_DAEMON.md).

use clap::Parser;

#[derive(Parser)]
#[command(name = "cib", about = "The replicated Cluster Information Base daemon")]
struct Args {
    /// Run without heartbeat: this node is the whole cluster and the master.
    #[arg(short = 's', long = "stand-alone")]
    stand_alone: bool,
    /// More log output (repeatable).
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    verbose: u8,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let level = match args.verbose {
        0 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(level).with_ansi(false).init();
    let env = cib::env::HaEnv::from_process()?;
    let opts = cibd::shell::Options { stand_alone: args.stand_alone, ..Default::default() };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(cibd::shell::run(env, opts, std::future::pending()))
}
