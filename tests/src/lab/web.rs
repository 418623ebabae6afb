//! The demo cluster: a lab whose nodes run the full stack (heartbeat with
//! `crm respawn`) and serve examples/cluster/web.xml, a floating address
//! (ocf:heartbeat:IPaddr2) grouped with the demo HTTP service
//! (ocf:heartbeat-rs:Httpd, answering with the node's name). Shared by the
//! demo's test (t70_demo_cluster) and the failover benchmark
//! (`failover-bench`), so both measure the same thing the same way as
//! ../shared/design/FAILOVER-ANCHORS.md: from the power-off of the active
//! node to the first answer from another node, seen by a client outside
//! the nodes that polls every 50 ms.
//!
//! Every wait is bounded; the lab is a [`LabGuard`], destroyed on drop.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use super::{LabError, LabGuard, LabSpec};

/// The configuration the demo loads (the files under examples/cluster).
pub const CRM_CONFIG_XML: &str = include_str!("../../../examples/cluster/crm_config.xml");
pub const WEB_XML: &str = include_str!("../../../examples/cluster/web.xml");

/// The group's id in web.xml.
pub const GROUP: &str = "web";
/// The floating address the demo uses (link 0, above every node index).
pub const VIP: &str = "10.213.0.100";
pub const PORT: u16 = 80;

/// One failover, as the client saw it.
#[derive(Debug, Clone)]
pub struct Failover {
    /// The node powered off (it answered before).
    pub from: String,
    /// Whether it was the DC too.
    pub was_dc: bool,
    /// The first other node that answered.
    pub to: String,
    /// Power-off (the start of `ha-lab kill`) to that answer.
    pub elapsed: Duration,
    /// When each phase was first logged by a survivor, from the power-off
    /// (see [`Phase`]); a phase never logged is absent.
    pub phases: Vec<(Phase, Duration)>,
}

/// Milestones of a failover, as the survivors' ha-logs show them. The
/// logs stamp whole seconds, so the watcher stamps each line itself as it
/// appears (the files are polled every few milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// heartbeat: `node nX: is dead` (deadtime expired).
    Dead,
    /// ccm: a new `membership: instance` without the dead node.
    Membership,
    /// crmd: a DC enters S_POLICY_ENGINE (after an election and join when
    /// the DC died).
    PolicyEngine,
    /// crmd: the transition that recovers the group is computed.
    Computed,
    /// crmd: `initiating web-ip_start_0` (the first start sent).
    StartSent,
    /// crmd: `Operation web-ip_start_0: ok` (IPaddr2 done).
    AddressUp,
    /// crmd: `Operation web-httpd_start_0: ok`.
    ServiceUp,
}

impl Phase {
    pub const ALL: [Phase; 7] =
        [Phase::Dead, Phase::Membership, Phase::PolicyEngine, Phase::Computed, Phase::StartSent, Phase::AddressUp, Phase::ServiceUp];

    pub fn label(self) -> &'static str {
        match self {
            Phase::Dead => "declared dead",
            Phase::Membership => "new membership",
            Phase::PolicyEngine => "DC in S_POLICY_ENGINE",
            Phase::Computed => "transition computed",
            Phase::StartSent => "web-ip start sent",
            Phase::AddressUp => "web-ip started",
            Phase::ServiceUp => "web-httpd started",
        }
    }

    /// Which phase a log line marks, if any.
    pub fn of_line(line: &str) -> Option<Phase> {
        if line.contains(": is dead") {
            Some(Phase::Dead)
        } else if line.contains("membership: instance") {
            Some(Phase::Membership)
        } else if line.contains("-> S_POLICY_ENGINE") {
            Some(Phase::PolicyEngine)
        } else if line.contains("computed by pengine") || line.contains("computed in-process") {
            Some(Phase::Computed)
        } else if line.contains("initiating web-ip_start_0") {
            Some(Phase::StartSent)
        } else if line.contains("Operation web-ip_start_0: ok") {
            Some(Phase::AddressUp)
        } else if line.contains("Operation web-httpd_start_0: ok") {
            Some(Phase::ServiceUp)
        } else {
            None
        }
    }
}

/// Follows log files from their current end, stamping each new line with
/// the time since `t0`, in a thread, until dropped or stopped.
struct LogWatch {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<Vec<(Duration, String)>>>,
}

impl LogWatch {
    fn start(files: Vec<PathBuf>, t0: Instant) -> LogWatch {
        use std::io::{Read, Seek, SeekFrom};
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut open: Vec<(std::fs::File, String)> = files
                .iter()
                .filter_map(|p| {
                    let mut f = std::fs::File::open(p).ok()?;
                    f.seek(SeekFrom::End(0)).ok()?;
                    Some((f, String::new()))
                })
                .collect();
            let mut lines = Vec::new();
            // Bounded: the caller stops it; a lost caller still ends it.
            while !flag.load(Ordering::Relaxed) && t0.elapsed() < Duration::from_secs(600) {
                for (f, partial) in &mut open {
                    let mut buf = String::new();
                    if f.read_to_string(&mut buf).is_ok() && !buf.is_empty() {
                        let at = t0.elapsed();
                        partial.push_str(&buf);
                        while let Some(i) = partial.find('\n') {
                            lines.push((at, partial[..i].to_string()));
                            partial.drain(..=i);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            lines
        });
        LogWatch { stop, thread: Some(thread) }
    }

    fn finish(mut self) -> Vec<(Duration, String)> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or_default()
    }
}

impl Drop for LogWatch {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The first time each phase shows in the lines, in phase order.
pub fn phases_of(lines: &[(Duration, String)]) -> Vec<(Phase, Duration)> {
    let mut v: Vec<(Phase, Duration)> = Vec::new();
    for (at, l) in lines {
        if let Some(p) = Phase::of_line(l) {
            if !v.iter().any(|(q, _)| *q == p) {
                v.push((p, *at));
            }
        }
    }
    v.sort();
    v
}

/// A running demo cluster.
pub struct WebCluster {
    /// With fencing ([`WebCluster::create_with_fencing`]): the lab's power
    /// switch relay, through which fence_lab inside the nodes powers
    /// nodes off.
    pub relay: Option<super::power::Relay>,
    pub lab: LabGuard,
    /// The Httpd agent's witness log (outside the nodes).
    pub witness: PathBuf,
}

impl WebCluster {
    /// A lab of `spec.nodes` nodes with the full stack and the project's
    /// agents merged into /usr/lib/ocf inside each node; `repo` is the
    /// repository root (for agents/ocf/resource.d).
    pub fn create(mut spec: LabSpec, repo: &Path) -> Result<WebCluster, LabError> {
        spec.crm = "respawn".to_string();
        spec.ocf_overlay = Some(repo.join("agents/ocf/resource.d"));
        let witness = spec.root.join("witness.log");
        let lab = LabGuard::create(spec)?;
        std::fs::write(&witness, "").map_err(|e| LabError::io(&witness, e))?;
        Ok(WebCluster { relay: None, lab, witness })
    }

    /// [`WebCluster::create`] with fencing: the project's fence agents
    /// merged over /usr/sbin inside the nodes, the power switch relay
    /// running, and [`WebCluster::load`] then also sets
    /// `stonith-enabled=true` with a `stonith:fence_lab` device (every
    /// node; `relay=ROOT/power.sock`; its power-offs in the witness log).
    /// A lost node is then fenced before the group starts elsewhere
    /// (docs/CRMD.md, "Fencing").
    pub fn create_with_fencing(mut spec: LabSpec, repo: &Path) -> Result<WebCluster, LabError> {
        spec.fence_overlay = Some(repo.join("agents/fence"));
        let mut c = WebCluster::create(spec, repo)?;
        c.relay = Some(super::power::Relay::start(&c.lab.spec.root)?);
        Ok(c)
    }

    /// Starts heartbeat (and with it every CRM daemon) on every node and
    /// waits until a DC is elected and every node is online.
    pub fn start(&mut self, limit: Duration) -> Result<(), LabError> {
        for n in self.lab.spec.node_names() {
            self.lab.start(&n)?;
        }
        let all = self.lab.spec.node_names();
        self.wait("a DC and every node online", limit, |c| {
            c.dc(&all[0]).is_some() && c.online(&all[0]).is_some_and(|o| o == all)
        })
    }

    /// Loads crm_config.xml and web.xml (VIP and witness filled in)
    /// through a node's cib.
    pub fn load(&self, via: &str) -> Result<(), LabError> {
        let root = &self.lab.spec.root;
        let web = root.join("web.xml");
        let text = WEB_XML.replace("@VIP@", VIP).replace("@WITNESS@", &self.witness.display().to_string());
        std::fs::write(&web, text).map_err(|e| LabError::io(&web, e))?;
        let cfg = root.join("crm_config.xml");
        std::fs::write(&cfg, CRM_CONFIG_XML).map_err(|e| LabError::io(&cfg, e))?;
        let cfg = cfg.display().to_string();
        // The DC may have created the property set already (dc-version...).
        if !self.tool(via, "cibadmin", &["-M", "-o", "crm_config", "-x", &cfg])?.status.success() {
            self.checked(via, "cibadmin", &["-C", "-o", "crm_config", "-x", &cfg])?;
        }
        self.checked(via, "cibadmin", &["-C", "-o", "resources", "-x", &web.display().to_string()])?;
        if self.relay.is_some() {
            self.load_fencing(via)?;
        }
        Ok(())
    }

    /// `stonith-enabled=true` and the fence_lab device (see
    /// [`WebCluster::create_with_fencing`]).
    fn load_fencing(&self, via: &str) -> Result<(), LabError> {
        let root = &self.lab.spec.root;
        let opts = root.join("fencing-options.xml");
        let text = r#"<cluster_property_set id="cib-bootstrap-options"><nvpair id="opt-stonith-enabled" name="stonith-enabled" value="true"/></cluster_property_set>"#;
        std::fs::write(&opts, text).map_err(|e| LabError::io(&opts, e))?;
        self.checked(via, "cibadmin", &["-M", "-o", "crm_config", "-x", &opts.display().to_string()])?;
        let device = root.join("fencing-device.xml");
        let text = format!(
            r#"<primitive id="fence-lab" class="stonith" type="fence_lab"><instance_attributes id="fence-lab-params"><nvpair id="fence-lab-relay" name="relay" value="{}"/><nvpair id="fence-lab-witness" name="witness" value="{}"/><nvpair id="fence-lab-hosts" name="pcmk_host_list" value="{}"/></instance_attributes></primitive>"#,
            super::power::socket(root).display(),
            self.witness.display(),
            self.lab.spec.node_names().join(" ")
        );
        std::fs::write(&device, text).map_err(|e| LabError::io(&device, e))?;
        self.checked(via, "cibadmin", &["-C", "-o", "resources", "-x", &device.display().to_string()])?;
        Ok(())
    }

    fn tool(&self, node: &str, program: &str, args: &[&str]) -> Result<Output, LabError> {
        self.lab.exec(node, program, args)
    }

    fn checked(&self, node: &str, program: &str, args: &[&str]) -> Result<Output, LabError> {
        let o = self.tool(node, program, args)?;
        if !o.status.success() {
            return Err(LabError::Command {
                cmd: format!("{node}: {program} {}", args.join(" ")),
                status: o.status.code().unwrap_or(-1),
                stderr: String::from_utf8_lossy(&o.stderr).trim().to_string(),
            });
        }
        Ok(o)
    }

    /// `crm_mon -1` on a node (stdout and stderr).
    pub fn crm_mon(&self, node: &str) -> String {
        match self.tool(node, "crm_mon", &["-1"]) {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
            Err(e) => format!("crm_mon on {node}: {e}"),
        }
    }

    /// The DC as `crm_mon -1` on `via` shows it.
    pub fn dc(&self, via: &str) -> Option<String> {
        let mon = self.crm_mon(via);
        let line = mon.lines().find(|l| l.contains("Current DC:"))?;
        let dc = line.split_whitespace().skip_while(|w| *w != "DC:").nth(1)?;
        dc.starts_with('n').then(|| dc.to_string())
    }

    /// The online nodes as `crm_mon -1` on `via` lists them, sorted.
    pub fn online(&self, via: &str) -> Option<Vec<String>> {
        let mon = self.crm_mon(via);
        let line = mon.lines().find(|l| l.trim_start().starts_with("* Online:") || l.trim_start().starts_with("Online:"))?;
        let inner = line.split('[').nth(1)?.split(']').next()?;
        let mut v: Vec<String> = inner.split_whitespace().map(str::to_string).collect();
        v.sort();
        Some(v)
    }

    /// One GET of the floating address from the client; the body (the
    /// serving node's name) or None. Bounded by `limit`.
    pub fn answer(&self, limit: Duration) -> Option<String> {
        self.probe(None, Duration::from_millis(50), limit)
    }

    /// `ha-lab probe` in the client namespace: the first answer (other
    /// than `not`), polling every `interval`, within `limit`.
    fn probe(&self, not: Option<&str>, interval: Duration, limit: Duration) -> Option<String> {
        let interval_ms = interval.as_millis().to_string();
        let limit_s = limit.as_secs().max(1).to_string();
        let port = PORT.to_string();
        let mut args = vec![
            "--name",
            &self.lab.spec.name,
            "--root",
            self.lab.spec.root.to_str()?,
            "probe",
            "-q",
            "--ip",
            VIP,
            "--port",
            &port,
            "--interval-ms",
            &interval_ms,
            "--limit-s",
            &limit_s,
        ];
        if let Some(n) = not {
            args.extend(["--until-not", n]);
        }
        let o = self.lab.client_command("ha-lab", &args).output().ok()?;
        o.status.success().then(|| String::from_utf8_lossy(&o.stdout).trim().to_string()).filter(|s| !s.is_empty())
    }

    /// Nodes whose eth0 carries the floating address.
    pub fn vip_holders(&self) -> Vec<String> {
        self.lab
            .spec
            .node_names()
            .into_iter()
            .filter(|n| {
                let ns = self.lab.spec.node_ns(n);
                super::sys::ip(&ns, &["-4", "-o", "addr", "show", "dev", "eth0"])
                    .map(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("inet {VIP}/")))
                    .unwrap_or(false)
            })
            .collect()
    }

    /// Nodes running the HTTP service according to the witness log (a
    /// start not followed by a stop on that node).
    pub fn witnessed_running(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.witness).unwrap_or_default();
        let mut running: Vec<String> = Vec::new();
        for l in text.lines() {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() < 3 {
                continue;
            }
            match w[2] {
                "start" if !running.iter().any(|n| n == w[1]) => running.push(w[1].to_string()),
                "stop" | "fenced" => running.retain(|n| n != w[1]),
                _ => {}
            }
        }
        running.sort();
        running
    }

    /// Powers `node` off (and drops its floating address, as a powered-off
    /// host answers no ARP) and polls every 50 ms until another node
    /// answers through the floating address.
    pub fn fail(&mut self, node: &str, limit: Duration) -> Result<Failover, LabError> {
        let was_dc = self.live_other(node).and_then(|v| self.dc(&v)).as_deref() == Some(node);
        let survivors: Vec<PathBuf> =
            self.lab.spec.node_names().iter().filter(|n| *n != node).map(|n| self.lab.spec.log_file(n)).collect();
        let t0 = Instant::now();
        let watch = LogWatch::start(survivors, t0);
        self.lab.kill(node)?;
        self.lab.drop_floating(node)?;
        self.witness_power_off(node)?;
        let to = self.probe(Some(node), Duration::from_millis(50), limit).ok_or_else(|| LabError::Node {
            node: node.to_string(),
            message: format!("no other node answered within {limit:?} after its power-off"),
        })?;
        let elapsed = t0.elapsed();
        // The DC logs the starts' results a moment after the service
        // answers: keep reading a little so the phases are complete.
        std::thread::sleep(Duration::from_millis(500));
        let phases = phases_of(&watch.finish());
        Ok(Failover { from: node.to_string(), was_dc, to, elapsed, phases })
    }

    /// Records in the witness log that `node` runs nothing any more (the
    /// `fenced` event fence_lab writes): once `Lab::kill` has returned,
    /// every process of the node is gone. Without it the checker would
    /// take the dead node's last start as still running.
    fn witness_power_off(&self, node: &str) -> Result<(), LabError> {
        let bin = self.lab.spec.bin_dir.join("ha-witness");
        let mut cmd = std::process::Command::new(&bin);
        cmd.arg("--file").arg(&self.witness).args(["--node", node, "fenced", "-"]);
        super::sys::run(&mut cmd).map(|_| ())
    }

    /// A running node other than `node`.
    pub fn live_other(&self, node: &str) -> Option<String> {
        self.lab.spec.node_names().into_iter().find(|n| n != node && self.lab.init_pid(n).is_some())
    }

    /// Boots a powered-off node, starts its heartbeat, and waits until
    /// `crm_mon` on it lists every node online.
    pub fn rejoin(&mut self, node: &str, limit: Duration) -> Result<(), LabError> {
        self.rejoin_counting(node, limit).map(|_| ())
    }

    /// [`WebCluster::rejoin`], powering the node on again if the cluster
    /// powers it off meanwhile (a fence of the rejoining node, seen with
    /// fencing when its join round timed out); returns how many times that
    /// happened. At most 3 times, then an error.
    pub fn rejoin_counting(&mut self, node: &str, limit: Duration) -> Result<usize, LabError> {
        let all = self.lab.spec.node_names();
        let start = Instant::now();
        let mut boots = 0;
        loop {
            if self.lab.init_pid(node).is_none() {
                if boots > 3 {
                    return Err(LabError::Node { node: node.to_string(), message: "powered off again 3 times while rejoining".into() });
                }
                self.lab.start(node)?;
                boots += 1;
            }
            if self.online(node).is_some_and(|o| o == all) && self.dc(node).is_some() {
                return Ok(boots - 1);
            }
            if start.elapsed() > limit {
                return Err(LabError::Spec(format!("timed out after {limit:?} waiting for {node} back online")));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Moves the group to `node` (crm_resource -M), waits until it answers
    /// from there, then clears the move constraint (stickiness keeps it).
    pub fn move_to(&self, node: &str, limit: Duration) -> Result<(), LabError> {
        let via = node;
        self.checked(via, "crm_resource", &["-M", "-r", GROUP, "-N", node])?;
        let want = node.to_string();
        let r = self.wait(&format!("{GROUP} to answer from {node}"), limit, |c| {
            c.answer(Duration::from_secs(1)).as_deref() == Some(want.as_str())
        });
        self.checked(via, "crm_resource", &["-U", "-r", GROUP])?;
        r
    }

    /// Polls `ok` every 200 ms until it holds or `limit` passes.
    pub fn wait(&self, what: &str, limit: Duration, mut ok: impl FnMut(&WebCluster) -> bool) -> Result<(), LabError> {
        let start = Instant::now();
        while !ok(self) {
            if start.elapsed() > limit {
                return Err(LabError::Spec(format!("timed out after {limit:?} waiting for {what}")));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    /// The last lines of every node's ha-log, for failure messages.
    pub fn logs(&self, lines: usize) -> String {
        let mut s = String::new();
        for n in self.lab.spec.node_names() {
            let text = std::fs::read_to_string(self.lab.spec.log_file(&n)).unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            s.push_str(&format!("--- {n} ha-log (last {lines} lines):\n"));
            for l in &all[all.len().saturating_sub(lines)..] {
                s.push_str(l);
                s.push('\n');
            }
        }
        s
    }
}

/// Percentile `p` (0-100) of sorted samples, nearest rank.
pub fn percentile(sorted: &[Duration], p: u32) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p as usize * sorted.len()).div_ceil(100)).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let ms = |v: &[u64]| v.iter().map(|&m| Duration::from_millis(m)).collect::<Vec<_>>();
        let s = ms(&(1..=20).collect::<Vec<_>>());
        assert_eq!(percentile(&s, 50), Some(Duration::from_millis(10)));
        assert_eq!(percentile(&s, 90), Some(Duration::from_millis(18)));
        assert_eq!(percentile(&s, 100), Some(Duration::from_millis(20)));
        assert_eq!(percentile(&ms(&[7]), 50), Some(Duration::from_millis(7)));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn phases_from_log_lines() {
        let ms = Duration::from_millis;
        let lines = vec![
            (ms(10), "Nov 23 16:48:23 n3 heartbeat: [7]: WARN: node n1: is dead".to_string()),
            (ms(12), "Nov 23 16:48:23 n3 ccm: [8]: info: membership: instance 4: n2 n3 (quorum, leader n2)".to_string()),
            (ms(13), "Nov 23 16:48:23 n2 heartbeat: [7]: WARN: node n1: is dead".to_string()),
            (ms(20), "crmd: [14]: info: crmd: initiating web-ip_start_0 on n3 (action 4)".to_string()),
            (ms(30), "crmd: [14]: info: crmd: Operation web-httpd_start_0: ok (node=n3, call=5, rc=0)".to_string()),
            (ms(31), "crmd: [14]: info: crmd: Operation web-httpd_monitor_10000: ok".to_string()),
        ];
        assert_eq!(
            phases_of(&lines),
            [(Phase::Dead, ms(10)), (Phase::Membership, ms(12)), (Phase::StartSent, ms(20)), (Phase::ServiceUp, ms(30))]
        );
    }

    #[test]
    fn the_example_configuration_has_its_placeholders() {
        assert!(WEB_XML.contains("@VIP@") && WEB_XML.contains("@WITNESS@"));
        assert!(WEB_XML.contains(&format!("<group id=\"{GROUP}\">")));
        assert!(CRM_CONFIG_XML.contains("stonith-enabled"));
    }
}
