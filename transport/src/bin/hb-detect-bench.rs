//! `hb-detect-bench`: how long after a node is killed the other node
//! declares it dead, for a few keepalive/deadtime settings, beside the
//! real Heartbeat 3.0.6's figures (../shared/heartbeat-wire/README.md).
//!
//! Two `heartbeat` daemons (found beside this executable) run on
//! loopback addresses (127.0.0.61 and .62, one udpport) in a temporary
//! directory. For each setting and run: wait a pseudo-random fraction of
//! a keepalive (so kills fall anywhere in the keepalive cycle), SIGKILL
//! n2, time until n1's client API pushes `nodestatus n2 dead`, restart
//! n2, wait until n1 sees it active again. Prints min / p50 / p90 / p99
//! / max per setting. Every daemon is killed on exit, panic included.
//!
//! ```sh
//! cargo build --release -p transport --bins
//! target/release/hb-detect-bench --runs 20 --settings 100ms/500ms,1s/5s
//! ```

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;

use transport::api::Client;
use transport::time::parse_ms;

#[derive(Parser, Debug)]
#[command(name = "hb-detect-bench", about = "Kill-to-dead detection latency of heartbeat")]
struct Args {
    /// Kills per setting.
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// keepalive/deadtime pairs, Heartbeat's time syntax.
    #[arg(long, default_value = "100ms/500ms,200ms/1,1/5", value_delimiter = ',')]
    settings: Vec<String>,
    /// UDP port for the two daemons.
    #[arg(long, default_value_t = 47_600)]
    udpport: u16,
    /// Seed for the kill phases.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Kills the daemons whatever happens.
struct Daemon(Option<Child>);

impl Daemon {
    fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Node {
    name: &'static str,
    addr: &'static str,
    dir: PathBuf,
}

impl Node {
    fn write(&self, keepalive_ms: u64, deadtime_ms: u64, port: u16) -> anyhow::Result<()> {
        for d in ["conf", "var", "run"] {
            std::fs::create_dir_all(self.dir.join(d))?;
        }
        let warn = deadtime_ms / 2;
        let initdead = (deadtime_ms * 2).max(1000);
        let cf = format!(
            "logfile {}\nuse_logd no\nkeepalive {keepalive_ms}ms\ndeadtime {deadtime_ms}ms\nwarntime {warn}ms\n\
             initdead {initdead}ms\nudpport {port}\nucast lo 127.0.0.61\nucast lo 127.0.0.62\n\
             auto_failback on\nnode n1 n2\ncrm no\n",
            self.dir.join("ha-log").display()
        );
        std::fs::write(self.dir.join("conf/ha.cf"), cf)?;
        let keys = self.dir.join("conf/authkeys");
        std::fs::write(&keys, "auth 1\n1 sha1 bench\n")?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600))?;
        Ok(())
    }

    fn start(&self, heartbeat: &Path) -> anyhow::Result<Daemon> {
        let _ = std::fs::remove_file(self.dir.join("run/heartbeat.pid"));
        let child = Command::new(heartbeat)
            .arg("-f")
            .env("HA_NODENAME", self.name)
            .env("HA_CONFDIR", self.dir.join("conf"))
            .env("HA_VARLIB", self.dir.join("var"))
            .env("HA_RUNDIR", self.dir.join("run"))
            .env("HA_BINDADDR", self.addr)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", heartbeat.display()))?;
        Ok(Daemon(Some(child)))
    }

    fn client(&self) -> anyhow::Result<Client> {
        let sock = self.dir.join("run/heartbeat.sock");
        let start = Instant::now();
        loop {
            if let Ok(c) = Client::signon(&sock, "detectbench", Duration::from_secs(30)) {
                return Ok(c);
            }
            if start.elapsed() > Duration::from_secs(10) {
                bail!("cannot sign on to {}", sock.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Waits for n1's push `nodestatus n2 <status>`; the instant it came.
fn wait_status(c: &mut Client, status: &str, limit: Duration) -> anyhow::Result<Instant> {
    let start = Instant::now();
    loop {
        let ev = c.next_event().context("reading n1's events")?;
        if ev.get_str("t") == Some("nodestatus") && ev.get_str("node") == Some("n2") && ev.get_str("status") == Some(status)
        {
            return Ok(Instant::now());
        }
        if start.elapsed() > limit {
            bail!("n2 not {status} within {limit:?}");
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The real Heartbeat's figure for a setting, from heartbeat-wire.
fn heartbeat_figure(keepalive_ms: u64, deadtime_ms: u64) -> &'static str {
    match (keepalive_ms, deadtime_ms) {
        (1000, 5000) => "dead 5-6 s after last packet; failover p50 5.88 s (5.15-6.11)",
        (2000, 30000) => "failover 29.4 s",
        _ => "not measured (declares dead deadtime..deadtime+1 s after last packet)",
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let exe = std::env::current_exe()?;
    let heartbeat = exe.parent().context("no directory")?.join("heartbeat");
    if !heartbeat.exists() {
        bail!("{} not found (cargo build -p transport --bins)", heartbeat.display());
    }
    let tmp = std::env::temp_dir().join(format!("hb-detect-bench-{}", std::process::id()));
    let nodes = [Node { name: "n1", addr: "127.0.0.61", dir: tmp.join("n1") }, Node {
        name: "n2",
        addr: "127.0.0.62",
        dir: tmp.join("n2"),
    }];
    let mut rows = Vec::new();
    let mut rng = args.seed | 1;
    for setting in &args.settings {
        let (ka, dt) = setting.split_once('/').with_context(|| format!("{setting}: keepalive/deadtime"))?;
        let bad = || format!("{setting}: bad time");
        let (ka, dt) = (parse_ms(ka).with_context(bad)?, parse_ms(dt).with_context(bad)?);
        for n in &nodes {
            n.write(ka, dt, args.udpport)?;
        }
        let mut n1 = nodes[0].start(&heartbeat)?;
        let mut n2 = nodes[1].start(&heartbeat)?;
        let mut c = nodes[0].client()?;
        if c.node_status("n2")? != "active" {
            wait_status(&mut c, "active", Duration::from_millis(10 * dt))?;
        }
        let mut samples = Vec::new();
        for run in 0..args.runs {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let phase = Duration::from_micros(rng % (ka * 1000).max(1));
            std::thread::sleep(Duration::from_millis(ka) + phase);
            let killed = Instant::now();
            n2.kill();
            let dead = wait_status(&mut c, "dead", Duration::from_millis(3 * dt + 2000))?;
            let ms = dead.duration_since(killed).as_secs_f64() * 1000.0;
            eprintln!("{setting} run {}: {ms:.0} ms", run + 1);
            samples.push(ms);
            n2 = nodes[1].start(&heartbeat)?;
            wait_status(&mut c, "active", Duration::from_millis(10 * dt + 5000))?;
        }
        n2.kill();
        n1.kill();
        samples.sort_by(|a, b| a.total_cmp(b));
        rows.push((ka, dt, samples));
    }
    let _ = std::fs::remove_dir_all(&tmp);
    println!("| keepalive | deadtime | runs | min | p50 | p90 | p99 | max | bound (deadtime + keepalive) | Heartbeat 3.0.6 |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (ka, dt, s) in rows {
        let f = |v: f64| format!("{:.0} ms", v);
        println!(
            "| {ka} ms | {dt} ms | {} | {} | {} | {} | {} | {} | {} ms | {} |",
            s.len(),
            f(s[0]),
            f(percentile(&s, 0.5)),
            f(percentile(&s, 0.9)),
            f(percentile(&s, 0.99)),
            f(s[s.len() - 1]),
            dt + ka,
            heartbeat_figure(ka, dt)
        );
    }
    Ok(())
}
