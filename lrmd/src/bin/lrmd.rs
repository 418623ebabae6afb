//! `lrmd`: the local resource manager daemon. Listens on
//! `$HA_RUNDIR/lrmd.sock` (docs/LRMD.md) and runs agents with the node's
//! HA_* environment.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use cib::env::{Daemon, HaEnv};
use lrmd::agent::AgentDirs;
use lrmd::runner::RunnerConfig;

#[derive(Parser, Debug)]
#[command(name = "lrmd", about = "Local resource manager: runs OCF, LSB, Heartbeat and fencing agents")]
struct Args {
    /// Socket to listen on [default: $HA_RUNDIR/lrmd.sock]
    #[arg(long)]
    socket: Option<PathBuf>,
    /// OCF_ROOT
    #[arg(long, default_value = "/usr/lib/ocf")]
    ocf_root: PathBuf,
    /// LSB init scripts
    #[arg(long, default_value = "/etc/init.d")]
    init_d: PathBuf,
    /// Class lsb, provider heartbeat
    #[arg(long, default_value = "/usr/lib/lsb/resource.d/heartbeat")]
    lsb_heartbeat_dir: PathBuf,
    /// Heartbeat resource.d scripts [default: $HA_CONFDIR/resource.d]
    #[arg(long)]
    resource_d: Option<PathBuf>,
    /// Fence agents
    #[arg(long, default_value = "/usr/sbin")]
    stonith_dir: PathBuf,
    /// cluster-glue's stonith(8), for class stonith types not named fence_*
    #[arg(long, default_value = "/usr/sbin/stonith")]
    stonith_cmd: PathBuf,
    /// Milliseconds between SIGTERM and SIGKILL for a timed-out agent
    #[arg(long, default_value_t = 2000)]
    kill_grace_ms: u64,
    /// Bytes of output kept per stream and operation
    #[arg(long, default_value_t = 64 * 1024)]
    output_cap: usize,
}

/// What every agent gets: the node's HA_* variables, and a PATH with
/// lrmd's own directory first, so the project's agents find the tools
/// built beside lrmd (ha-httpd, ha-witness, crm_attribute...) before the
/// system's.
fn agent_env(env: &HaEnv) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> =
        env.to_vars().into_iter().map(|(k, v)| (k.to_string(), v.to_string_lossy().into_owned())).collect();
    let own_dir = std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.to_string_lossy().into_owned()));
    let path = match own_dir {
        Some(d) if !d.contains(':') => format!("{d}:{}", lrmd::agent::AGENT_PATH),
        _ => lrmd::agent::AGENT_PATH.to_string(),
    };
    vars.insert(0, ("PATH".to_string(), path));
    vars
}

/// glibc's fastbins off (`M_MXFAST` 0). lrmd frees many small blocks per
/// agent run (requests, environments, records); held in fastbins, they
/// made every allocation over 1 KiB walk and merge them first
/// (`malloc_consolidate` was the top symbol of the 1,000-monitor
/// profile, and it grew with the heap). Without fastbins small frees go
/// to the per-thread cache or are merged at once. docs/LRMD.md, Benchmark.
fn tune_malloc() {
    // SAFETY: mallopt only sets an allocator parameter; it is called
    // before any thread is started.
    unsafe {
        nix::libc::mallopt(nix::libc::M_MXFAST, 0);
    }
}

fn main() -> anyhow::Result<()> {
    tune_malloc();
    let args = Args::parse();
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(false).init();
    let env = HaEnv::from_process()?;
    let socket = args.socket.unwrap_or_else(|| env.socket(Daemon::Lrmd));
    let cfg = RunnerConfig {
        dirs: AgentDirs {
            ocf_root: args.ocf_root,
            init_d: args.init_d,
            lsb_heartbeat: args.lsb_heartbeat_dir,
            resource_d: args.resource_d.unwrap_or_else(|| env.resource_d()),
            stonith_dir: args.stonith_dir,
            stonith_cmd: args.stonith_cmd,
        },
        base_env: agent_env(&env),
        output_cap: args.output_cap,
        kill_grace: Duration::from_millis(args.kill_grace_ms),
        ..RunnerConfig::default()
    };
    // Agents keep their state under HA_RSCTMP (Dummy's state file); it
    // must exist before the first start.
    std::fs::create_dir_all(&env.rsctmp).with_context(|| format!("creating {}", env.rsctmp.display()))?;
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        // A socket file left by a dead lrmd would make bind fail; one that
        // still answers means another lrmd is running.
        if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
            anyhow::bail!("another lrmd is listening on {}", socket.display());
        }
        let _ = std::fs::remove_file(&socket);
        let listener = tokio::net::UnixListener::bind(&socket).with_context(|| format!("binding {}", socket.display()))?;
        tracing::info!(socket = %socket.display(), node = %env.nodename, "lrmd listening");
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        };
        lrmd::server::run(listener, cfg, shutdown).await?;
        let _ = std::fs::remove_file(&socket);
        tracing::info!("lrmd stopped");
        Ok(())
    })
}
