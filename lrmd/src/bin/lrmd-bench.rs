//! lrmd benchmark: N recurring monitors at a fixed interval for a while,
//! against a real `lrmd` daemon (the binary beside this one), printing
//! lrmd's CPU use and the start jitter of the monitor runs.
//!
//! ```text
//! cargo build --release -j2 -p lrmd
//! target/release/lrmd-bench                      # 1000 monitors, 10 s, 120 s
//! target/release/lrmd-bench --resources 100 --interval-ms 1000 --duration-s 10
//! target/release/lrmd-bench --in-phase          # every monitor due at the same moment
//! ```
//!
//! The agent is this very program (linked as the OCF agent `bench:Tick`;
//! it acts as the agent when started with `OCF_RESOURCE_INSTANCE` set): it
//! appends its resource name and its start and end time (CLOCK_MONOTONIC,
//! ns) to a log and exits 0. A compiled agent starts in well under a
//! millisecond, where a shell script takes several, so 1,000 agents
//! starting together do not queue for the CPU behind each other's shell
//! start-up: what is measured is lrmd, not an agent. Two jitter figures per run:
//! - start jitter = its start - (the previous run's end + interval): how
//!   late lrmd starts a run against its own schedule (a recurring op is
//!   due `interval` after the previous run completed, as in Pacemaker);
//!   includes lrmd noticing the exit and spawning the next run;
//! - start-to-start jitter = (its start - the previous run's start) -
//!   interval: the same plus the previous run's own duration (the figure
//!   earlier versions printed, with 10 ms /proc/uptime stamps).
//!
//! CPU % is lrmd's utime + stime from /proc/PID/stat over the measured
//! window (after all monitors are registered), divided by wall time; the
//! agents' own CPU is not lrmd's and is not counted.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use lrmd::client::Client;
use lrmd::op::OpRequest;
use lrmd::resource::{AgentClass, ResourceSpec};

#[derive(Parser)]
#[command(about = "Recurring-monitor benchmark for lrmd (CPU %, start jitter)")]
struct Args {
    /// Number of resources, each with one recurring monitor.
    #[arg(long, default_value_t = 1000)]
    resources: usize,
    /// Monitor interval.
    #[arg(long, default_value_t = 10_000)]
    interval_ms: u64,
    /// How long to measure after every monitor is running.
    #[arg(long, default_value_t = 120)]
    duration_s: u64,
    /// The lrmd binary (default: the one beside this program).
    #[arg(long)]
    lrmd: Option<PathBuf>,
    /// Start every monitor at once (the worst case: all in phase for
    /// ever) instead of spreading their first runs over one interval, as
    /// a cluster starting resources one after another does.
    #[arg(long)]
    in_phase: bool,
}

/// Agent mode: one OCF action of `bench:Tick`.
fn agent() -> ExitCode {
    let start = lrmd::witness::mono_ns();
    if std::env::args().nth(1).as_deref() == Some("meta-data") {
        println!("<resource-agent name=\"Tick\"><parameters/><actions/></resource-agent>");
        return ExitCode::SUCCESS;
    }
    let (Some(id), Some(log)) = (std::env::var_os("OCF_RESOURCE_INSTANCE"), std::env::var_os("OCF_RESKEY_log")) else {
        return ExitCode::from(6);
    };
    let line = format!("{} {} {}\n", id.to_string_lossy(), start, lrmd::witness::mono_ns());
    // One write to an O_APPEND file: lines of concurrent agents never mix.
    let written = std::fs::OpenOptions::new().create(true).append(true).open(log).and_then(|mut f| f.write_all(line.as_bytes()));
    if written.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// lrmd, killed on drop.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// (utime, stime) of a process, in clock ticks.
fn cpu_split(pid: u32) -> Result<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name (which may hold spaces).
    let rest = &stat[stat.rfind(')').context("stat format")? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14, stime 15.
    Ok((f[11].parse::<u64>()?, f[12].parse::<u64>()?))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() -> Result<ExitCode> {
    if std::env::var_os("OCF_RESOURCE_INSTANCE").is_some() {
        return Ok(agent());
    }
    let args = Args::parse();
    let lrmd_bin = match args.lrmd {
        Some(p) => p,
        None => std::env::current_exe()?.parent().context("bench binary has a directory")?.join("lrmd"),
    };
    if !lrmd_bin.exists() {
        bail!("{} not found: build lrmd first (cargo build --release -p lrmd)", lrmd_bin.display());
    }
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    for d in ["run", "rsctmp", "varlib", "conf/resource.d", "ocf/resource.d/bench"] {
        std::fs::create_dir_all(root.join(d))?;
    }
    std::os::unix::fs::symlink(std::env::current_exe()?, root.join("ocf/resource.d/bench/Tick"))?;
    let log = root.join("runs.log");
    let socket = root.join("run/lrmd.sock");

    let child = Command::new(&lrmd_bin)
        .env("HA_NODENAME", "bench")
        .env("HA_RUNDIR", root.join("run"))
        .env("HA_RSCTMP", root.join("rsctmp"))
        .env("HA_VARLIB", root.join("varlib"))
        .env("HA_CONFDIR", root.join("conf"))
        .arg("--ocf-root")
        .arg(root.join("ocf"))
        .arg("--socket")
        .arg(&socket)
        .stderr(std::fs::File::create(root.join("lrmd.log"))?)
        .spawn()
        .with_context(|| format!("starting {}", lrmd_bin.display()))?;
    let pid = child.id();
    let _daemon = Daemon(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut client = loop {
        match Client::connect(&socket) {
            Ok(c) => break c,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => bail!("lrmd did not open its socket: {e}"),
        }
    };

    let registering = Instant::now();
    for i in 0..args.resources {
        if !args.in_phase {
            // Monitor i starts at i/N of the first interval.
            let at = Duration::from_millis(args.interval_ms * i as u64 / args.resources as u64);
            if let Some(wait) = at.checked_sub(registering.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let id = format!("r{i}");
        let spec = ResourceSpec::new(&id, AgentClass::Ocf, Some("bench"), "Tick")
            .with_param("log", log.to_str().context("utf-8 temp path")?);
        client.register(spec)?;
        client.exec(OpRequest::new(&id, "monitor", args.interval_ms, 20_000))?;
    }
    // Let the first runs settle, then measure.
    std::thread::sleep(Duration::from_millis(args.interval_ms.min(5_000)));
    let (u0, s0) = cpu_split(pid)?;
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(args.duration_s));
    let (u1, s1) = cpu_split(pid)?;
    let wall = t0.elapsed().as_secs_f64();
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)?.unwrap_or(100) as f64;
    let pct = |ticks: u64| ticks as f64 / hz / wall * 100.0;
    let cpu_pct = pct((u1 + s1) - (u0 + s0));
    let (user_pct, sys_pct) = (pct(u1 - u0), pct(s1 - s0));

    // Jitter from the agents' own stamps: (start, end) per run.
    let mut runs_of: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for line in std::fs::read_to_string(&log)?.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let [id, start, end] = f[..] {
            if let (Ok(s), Ok(e)) = (start.parse::<u64>(), end.parse::<u64>()) {
                runs_of.entry(id.to_string()).or_default().push((s as f64 / 1e9, e as f64 / 1e9));
            }
        }
    }
    let interval_s = args.interval_ms as f64 / 1000.0;
    let mut late_ms = Vec::new();
    let mut s2s_ms = Vec::new();
    for v in runs_of.values() {
        for w in v.windows(2) {
            late_ms.push((w[1].0 - (w[0].1 + interval_s)) * 1000.0);
            s2s_ms.push(((w[1].0 - w[0].0) - interval_s) * 1000.0);
        }
    }
    late_ms.sort_by(|a, b| a.total_cmp(b));
    s2s_ms.sort_by(|a, b| a.total_cmp(b));
    let runs: usize = runs_of.values().map(Vec::len).sum();

    let phase = if args.in_phase { "all started at once" } else { "first runs spread over one interval" };
    println!("lrmd benchmark: {} recurring monitors every {} ms ({phase}), measured {:.0} s", args.resources, args.interval_ms, wall);
    println!("| metric | value |");
    println!("|---|---|");
    println!("| agent runs logged | {runs} |");
    println!("| lrmd CPU | {cpu_pct:.2} % (user {user_pct:.2}, system {sys_pct:.2}) |");
    println!("| lrmd CPU per run | {:.0} µs |", cpu_pct / 100.0 * wall * 1e6 / (args.resources as f64 * wall * 1000.0 / args.interval_ms as f64));
    for (name, v) in [("start jitter", &late_ms), ("start-to-start jitter", &s2s_ms)] {
        println!("| {name} p50 | {:.1} ms |", percentile(v, 0.50));
        println!("| {name} p99 | {:.1} ms |", percentile(v, 0.99));
        println!("| {name} max | {:.1} ms |", v.last().copied().unwrap_or(f64::NAN));
    }
    println!("(start jitter: start - (previous end + interval); start-to-start adds the previous run's duration)");
    drop(client);
    Path::new(&log).exists().then_some(()).context("no run was logged")?;
    Ok(ExitCode::SUCCESS)
}
