//! `failover-bench`: failover latency of the demo cluster (docs/FAILOVER.md).
//!
//! Builds a lab whose nodes run the full stack and serve
//! examples/cluster/web.xml (floating address + HTTP service), then
//! repeatedly powers off the node that answers and measures, from the
//! power-off to the first answer from another node, what a client outside
//! the nodes polling every 50 ms sees (as ../shared/design/FAILOVER-ANCHORS.md
//! measured Heartbeat 3.0.6 and Pacemaker). Two scenarios, interleaved:
//! `non-dc` (the active node is not the DC: the group is moved off the DC
//! first if needed) and `dc` (the active node is the DC: moved there
//! first). After each run the dead node is booted again and rejoins.
//! Prints every run, then p50/p90/max per scenario, and checks the witness
//! log for double runs. `--fencing` adds a fence_lab device: the lost
//! node is then fenced (through the lab's power relay) before the group
//! starts elsewhere, and that time is part of the figure.
//!
//! Needs root and the release (or debug) binaries beside this one:
//! `cargo build --release --workspace --bins`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use tests::lab::web::{percentile, Failover, Phase, WebCluster};
use tests::lab::{LabSpec, Media, Timing};

#[derive(Parser, Debug)]
#[command(name = "failover-bench", about = "Failover latency of the demo cluster in the lab")]
struct Args {
    /// Runs per scenario.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Scenarios to run (interleaved).
    #[arg(long, value_enum, default_values_t = [Scenario::NonDc, Scenario::Dc])]
    scenario: Vec<Scenario>,
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    #[arg(long, default_value_t = 100)]
    keepalive_ms: u64,
    #[arg(long, default_value_t = 500)]
    deadtime_ms: u64,
    /// Default: half the deadtime.
    #[arg(long)]
    warntime_ms: Option<u64>,
    /// Default: 4 x deadtime, at least 2 s.
    #[arg(long)]
    initdead_ms: Option<u64>,
    /// The lab's name (namespaces hl-NAME-*), root /tmp/ha-lab/NAME.
    #[arg(long, default_value = "fbench")]
    name: String,
    /// The repository (for agents/ocf/resource.d).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/.."))]
    repo: PathBuf,
    /// Append one JSON line per run to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// With fencing: a stonith:fence_lab device and stonith-enabled=true
    /// (the lost node is fenced through the lab's power relay before the
    /// group starts elsewhere).
    #[arg(long)]
    fencing: bool,
    /// Bound on one failover, in seconds.
    #[arg(long, default_value_t = 120)]
    limit_s: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Power off the active node while another node is the DC.
    NonDc,
    /// Power off the active node while it is the DC.
    Dc,
}

impl Scenario {
    fn label(self) -> &'static str {
        match self {
            Scenario::NonDc => "non-DC",
            Scenario::Dc => "DC",
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("failover-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !nix::unistd::Uid::effective().is_root() {
        bail!("needs root (network, PID and mount namespaces)");
    }
    let bin_dir = std::env::current_exe()?.parent().context("no directory")?.to_path_buf();
    for b in ["heartbeat", "ccm", "cib", "lrmd", "crmd", "crm_mon", "cibadmin", "crm_resource", "ha-httpd", "ha-witness-check"] {
        if !bin_dir.join(b).exists() {
            bail!("{b} is not built in {} (cargo build --release --workspace --bins)", bin_dir.display());
        }
    }
    let repo = std::fs::canonicalize(&args.repo).with_context(|| format!("repository {}", args.repo.display()))?;
    let root = PathBuf::from("/tmp/ha-lab").join(&args.name);
    tests::lab::cleanup(Some(&args.name))?;
    let _ = std::fs::remove_dir_all(&root);
    let mut spec = LabSpec::new(&args.name, &root, args.nodes, 1, &bin_dir);
    spec.media = Media::Ucast;
    spec.timing = Timing {
        keepalive_ms: args.keepalive_ms,
        deadtime_ms: args.deadtime_ms,
        warntime_ms: args.warntime_ms.unwrap_or(args.deadtime_ms / 2),
        initdead_ms: args.initdead_ms.unwrap_or((args.deadtime_ms * 4).max(2_000)),
    };
    let setting = format!(
        "keepalive {} ms / deadtime {} ms{}",
        args.keepalive_ms,
        args.deadtime_ms,
        if args.fencing { ", fencing" } else { "" }
    );
    let limit = Duration::from_secs(args.limit_s);
    let slow = Duration::from_secs(120) + Duration::from_millis(args.deadtime_ms * 6);

    let mut c = if args.fencing { WebCluster::create_with_fencing(spec, &repo)? } else { WebCluster::create(spec, &repo)? };
    println!("# failover-bench: {} nodes, {setting}, {} runs per scenario", args.nodes, args.runs);
    c.start(slow).map_err(|e| anyhow::anyhow!("{e}\n{}", c.logs(30)))?;
    c.load("n1")?;
    c.wait("the service to answer", slow, |c| c.answer(Duration::from_secs(2)).is_some())?;

    let mut results: Vec<(Scenario, Failover)> = Vec::new();
    for i in 0..args.runs {
        for &sc in &args.scenario {
            let f = one_run(&mut c, sc, limit, slow).with_context(|| format!("run {} ({})\n{}", i + 1, sc.label(), c.logs(30)))?;
            let phases: Vec<String> =
                f.phases.iter().map(|(p, d)| format!("{} {:.3}", short(*p), d.as_secs_f64())).collect();
            println!(
                "run {:>2} {:<6}: {} -> {}  {:.3} s   [{}]",
                i + 1,
                sc.label(),
                f.from,
                f.to,
                f.elapsed.as_secs_f64(),
                phases.join(", ")
            );
            if let Some(path) = &args.json {
                use std::io::Write;
                let line = serde_json::json!({
                    "setting": setting, "scenario": sc.label(), "from": f.from, "to": f.to,
                    "was_dc": f.was_dc, "ms": f.elapsed.as_millis() as u64,
                    "phases_ms": f.phases.iter().map(|(p, d)| (p.label().to_string(), d.as_millis() as u64)).collect::<std::collections::BTreeMap<_, _>>(),
                });
                let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
                writeln!(file, "{line}")?;
            }
            results.push((sc, f));
        }
    }

    println!("\n| setting | killed | runs | p50 | p90 | max |\n| --- | --- | --- | --- | --- | --- |");
    for &sc in &args.scenario {
        let mut v: Vec<Duration> = results.iter().filter(|(s, _)| *s == sc).map(|(_, f)| f.elapsed).collect();
        v.sort();
        let p = |q| percentile(&v, q).map_or("-".to_string(), |d| format!("{:.2} s", d.as_secs_f64()));
        println!("| {setting} | {} | {} | {} | {} | {} |", sc.label(), v.len(), p(50), p(90), p(100));
    }
    // Where the time goes: the median time (from the power-off) at which
    // each phase first shows in a survivor's log.
    println!("\nmedian time from power-off to each phase (survivors' logs, stamped as lines appear):\n");
    print!("| phase |");
    for &sc in &args.scenario {
        print!(" {} |", sc.label());
    }
    print!("\n| --- |");
    for _ in &args.scenario {
        print!(" --- |");
    }
    println!();
    for p in Phase::ALL {
        print!("| {} |", p.label());
        for &sc in &args.scenario {
            let mut v: Vec<Duration> = results
                .iter()
                .filter(|(s, _)| *s == sc)
                .filter_map(|(_, f)| f.phases.iter().find(|(q, _)| *q == p).map(|(_, d)| *d))
                .collect();
            v.sort();
            let runs = results.iter().filter(|(s, _)| *s == sc).count();
            let seen = if v.len() == runs { String::new() } else { format!(" ({} of {runs} runs)", v.len()) };
            print!(" {}{seen} |", percentile(&v, 50).map_or("-".to_string(), |d| format!("{:.3} s", d.as_secs_f64())));
        }
        println!();
    }
    print!("| answer through the floating address |");
    for &sc in &args.scenario {
        let mut v: Vec<Duration> = results.iter().filter(|(s, _)| *s == sc).map(|(_, f)| f.elapsed).collect();
        v.sort();
        print!(" {} |", percentile(&v, 50).map_or("-".to_string(), |d| format!("{:.3} s", d.as_secs_f64())));
    }
    println!("\n");
    let check = std::process::Command::new(bin_dir.join("ha-witness-check")).arg(&c.witness).output()?;
    print!("{}", String::from_utf8_lossy(&check.stdout));
    if check.status.success() {
        println!("witness log: no double run ({} lines)", std::fs::read_to_string(&c.witness)?.lines().count());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("witness log: DOUBLE RUN (see above)");
        Ok(ExitCode::FAILURE)
    }
}

/// Puts the group where the scenario wants it, powers that node off,
/// measures, and brings the node back.
fn one_run(c: &mut WebCluster, sc: Scenario, limit: Duration, slow: Duration) -> anyhow::Result<Failover> {
    let active = c.answer(Duration::from_secs(5)).context("the service does not answer")?;
    let via = c.live_other(&active).context("no other live node")?;
    let dc = c.dc(&via).context("no DC")?;
    let target = match sc {
        Scenario::Dc => dc.clone(),
        Scenario::NonDc if active != dc => active.clone(),
        Scenario::NonDc => c.lab.spec.node_names().into_iter().find(|n| *n != dc).context("no non-DC node")?,
    };
    if target != active {
        c.move_to(&target, slow)?;
    }
    // Let the move's monitors and CIB updates settle: the kill should hit
    // a quiet cluster, as in the anchors' runs.
    std::thread::sleep(Duration::from_secs(2));
    let f = c.fail(&target, limit)?;
    if (sc == Scenario::Dc) != f.was_dc {
        bail!("{target} was{} the DC, expected the {} scenario", if f.was_dc { "" } else { " not" }, sc.label());
    }
    let fenced_again = c.rejoin_counting(&target, slow)?;
    if fenced_again > 0 {
        println!("   note: {target} was powered off {fenced_again} time(s) by the cluster while rejoining");
    }
    // Back: the group stays where it went (stickiness).
    c.wait("the service to answer after the rejoin", slow, |c| c.answer(Duration::from_secs(2)).is_some())?;
    Ok(f)
}

/// A short name for a phase in the per-run line.
fn short(p: Phase) -> &'static str {
    match p {
        Phase::Dead => "dead",
        Phase::Membership => "ccm",
        Phase::PolicyEngine => "pe",
        Phase::Computed => "graph",
        Phase::StartSent => "start",
        Phase::AddressUp => "ip",
        Phase::ServiceUp => "httpd",
    }
}
