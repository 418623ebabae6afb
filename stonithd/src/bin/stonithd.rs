//! `stonithd`: the fencing daemon (see the `stonithd` crate and docs/STONITHD.md).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use lrmd::agent::AgentDirs;
use lrmd::runner::RunnerConfig;

#[derive(Parser)]
#[command(
    name = "stonithd",
    about = "Fencing daemon: runs fence devices for the cluster and keeps the fencing history"
)]
struct Args {
    /// Run without heartbeat: this node's devices only.
    #[arg(short = 's', long = "stand-alone")]
    stand_alone: bool,
    /// Fence agents (fence_*)
    #[arg(long, default_value = "/usr/sbin")]
    stonith_dir: PathBuf,
    /// cluster-glue's stonith(8), for plugins (types not named fence_*)
    #[arg(long, default_value = "/usr/sbin/stonith")]
    stonith_cmd: PathBuf,
    /// How long (ms) to wait for a peer able to fence a target
    #[arg(long, default_value_t = 2000)]
    query_wait_ms: u64,
    /// More log output (repeatable).
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    verbose: u8,
}

/// The node's HA_* variables and a PATH with our own directory first, as
/// lrmd gives its agents (fence_lab finds ha-witness beside us).
fn agent_env(env: &cib::env::HaEnv) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = env
        .to_vars()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string_lossy().into_owned()))
        .collect();
    let own_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.to_string_lossy().into_owned()));
    let path = match own_dir {
        Some(d) if !d.contains(':') => format!("{d}:{}", lrmd::agent::AGENT_PATH),
        _ => lrmd::agent::AGENT_PATH.to_string(),
    };
    vars.insert(0, ("PATH".to_string(), path));
    vars
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let level = if args.verbose == 0 {
        tracing::Level::INFO
    } else {
        tracing::Level::DEBUG
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_ansi(false)
        .init();
    let env = cib::env::HaEnv::from_process()?;
    let runner = RunnerConfig {
        dirs: AgentDirs {
            stonith_dir: args.stonith_dir,
            stonith_cmd: args.stonith_cmd,
            ..AgentDirs::default()
        },
        base_env: agent_env(&env),
        ..RunnerConfig::default()
    };
    let mut opts = stonithd::server::Options::new(&env, args.stand_alone, runner);
    opts.query_wait = Duration::from_millis(args.query_wait_ms);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(stonithd::server::run(opts, std::future::pending()))
}
