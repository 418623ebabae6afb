//! The lab: N cluster nodes on one machine, each a separate host as far as
//! the cluster can tell (docs/LAB.md).
//!
//! ## Layout
//! - `spec`: the lab's shape (nodes, links, media, timing), the names and
//!   addresses derived from it, and each node's ha.cf/authkeys.
//! - `sys`: the `ip`/`nft`/`nsenter` calls and `/proc` reads.
//! - `node_init`: pid 1 of a node's PID namespace.
//! - `foreign`: Debian's heartbeat 3.0.6 inside a node (its own /etc/ha.d
//!   and /var/lib/heartbeat bind-mounted in the node's mount namespace).
//! - `web`: the demo cluster (full stack, floating address + HTTP
//!   service from examples/cluster) for its test and the failover bench.
//! - `client`: the client outside the nodes (bridge namespace, address
//!   `10.213.<k>.254`), HTTP GETs and a polling probe.
//! - `power`: the power switch relay (`ROOT/power.sock`) through which
//!   fence agents inside the nodes power other nodes off.
//! - this module: [`Lab`], the operations (create, boot, start, stop,
//!   kill, pause, cut, partition, loss, exec, destroy), and [`LabGuard`],
//!   which destroys a lab when dropped (also while a test panics).
//!
//! ```text
//!   hl-<lab>-n1 (netns)                 hl-<lab>-br (netns)
//!   [pid/uts/mount/ipc ns: node-init]
//!     eth0 10.213.0.1 ── veth ──────── n1l0 ─┐ br0
//!     eth1 10.213.1.1 ── veth ──────── n1l1 ─┼─ br1
//!   hl-<lab>-n2 ...                          │
//! ```
//!
//! Faults are made inside the node's own network namespace with nftables
//! (cut, partition, loss), never by taking links down: IPaddr2 brings an
//! interface up when it takes over, which would silently heal a cut.

pub mod client;
pub mod foreign;
pub mod node_init;
pub mod power;
pub mod spec;
pub mod sys;
pub mod web;

use std::path::{Path, PathBuf};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

pub use spec::{LabSpec, Media, Timing, NS_PREFIX};

/// What can go wrong building or driving a lab.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{0}")]
    Spec(String),
    #[error("cannot run `{cmd}`: {source}")]
    Spawn { cmd: String, source: std::io::Error },
    #[error("`{cmd}` failed with exit code {status}: {stderr}")]
    Command { cmd: String, status: i32, stderr: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    State { path: PathBuf, message: String },
    #[error("lab {lab}: namespace {ns} already exists (run `ha-lab destroy` or `ha-lab cleanup`)")]
    Exists { lab: String, ns: String },
    #[error("node {node}: {message}")]
    Node { node: String, message: String },
}

impl LabError {
    pub fn io(path: &Path, source: std::io::Error) -> LabError {
        LabError::Io { path: path.to_path_buf(), source }
    }

    fn node(node: &str, message: impl Into<String>) -> LabError {
        LabError::Node { node: node.to_string(), message: message.into() }
    }
}

/// A lab that exists on this machine (its namespaces and files).
pub struct Lab {
    pub spec: LabSpec,
    /// The `unshare` processes this process started, reaped on kill and
    /// destroy so a long-running test leaves no zombies.
    launched: Vec<Child>,
}

/// How long a node's init may take to come up, and a killed node to vanish.
const SETTLE: Duration = Duration::from_secs(10);

impl Lab {
    /// Builds the namespaces, links and files of `spec`, and boots every
    /// node (no heartbeat yet). On any failure what was built is removed.
    pub fn create(spec: LabSpec) -> Result<Lab, LabError> {
        spec.validate()?;
        let mut names = vec![spec.bridge_ns()];
        names.extend(spec.node_names().iter().map(|n| spec.node_ns(n)));
        if let Some(ns) = names.iter().find(|ns| sys::netns_exists(ns)) {
            return Err(LabError::Exists { lab: spec.name.clone(), ns: ns.clone() });
        }
        std::fs::create_dir_all(&spec.root).map_err(|e| LabError::io(&spec.root, e))?;
        let mut lab = Lab { spec, launched: Vec::new() };
        lab.save()?;
        if let Err(e) = lab.build() {
            let _ = lab.destroy();
            return Err(e);
        }
        Ok(lab)
    }

    /// The lab whose `lab.json` is in `root`.
    pub fn open(root: &Path) -> Result<Lab, LabError> {
        let path = LabSpec::state_file(root);
        let text = std::fs::read_to_string(&path).map_err(|e| LabError::io(&path, e))?;
        let spec = serde_json::from_str(&text).map_err(|e| LabError::State { path, message: e.to_string() })?;
        Ok(Lab { spec, launched: Vec::new() })
    }

    fn save(&self) -> Result<(), LabError> {
        let path = LabSpec::state_file(&self.spec.root);
        let text = serde_json::to_string_pretty(&self.spec).expect("a spec serializes");
        std::fs::write(&path, text + "\n").map_err(|e| LabError::io(&path, e))
    }

    fn build(&mut self) -> Result<(), LabError> {
        let s = self.spec.clone();
        let br = s.bridge_ns();
        sys::run(Command::new("ip").args(["netns", "add", &br]))?;
        sys::ip(&br, &["link", "set", "lo", "up"])?;
        for k in 0..s.links {
            let bridge = format!("br{k}");
            // No multicast snooping: without a querier it may drop mcast.
            sys::ip(&br, &["link", "add", &bridge, "type", "bridge", "mcast_snooping", "0"])?;
            sys::ip(&br, &["link", "set", &bridge, "up"])?;
        }
        self.add_client_addresses()?;
        for (idx, node) in s.node_names().iter().enumerate() {
            let i = idx + 1;
            let ns = s.node_ns(node);
            sys::run(Command::new("ip").args(["netns", "add", &ns]))?;
            sys::ip(&ns, &["link", "set", "lo", "up"])?;
            for k in 0..s.links {
                let dev = LabSpec::dev(k);
                let port = format!("n{i}l{k}");
                // Both ends are created straight inside lab namespaces, so
                // no interface ever appears on the host.
                sys::ip(&ns, &["link", "add", &dev, "type", "veth", "peer", "name", &port, "netns", &br])?;
                sys::ip(&br, &["link", "set", &port, "master", &format!("br{k}"), "up"])?;
                sys::ip(&ns, &["addr", "add", &format!("{}/24", s.addr(i, k)), "brd", "+", "dev", &dev])?;
                sys::ip(&ns, &["link", "set", &dev, "up"])?;
            }
            s.write_node_files(i)?;
            self.boot(node)?;
        }
        Ok(())
    }

    /// The host pid of the node's init, if the node is running.
    pub fn init_pid(&self, node: &str) -> Option<i32> {
        sys::node_init_pid(&self.spec.node_ns(node))
    }

    /// Powers a node on: a new PID/UTS/mount/IPC namespace whose init is
    /// `ha-lab node-init`. Like a reboot, it empties the node's HA_RUNDIR
    /// and HA_RSCTMP (on a real host both are on tmpfs), so a stale pid
    /// file cannot name a process of the new namespace. No-op if running.
    pub fn boot(&mut self, node: &str) -> Result<(), LabError> {
        self.spec.index(node)?;
        if self.init_pid(node).is_some() {
            return Ok(());
        }
        let dir = self.spec.node_dir(node);
        for sub in ["run", "rsctmp"] {
            let d = dir.join(sub);
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).map_err(|e| LabError::io(&d, e))?;
        }
        // A reboot loses the addresses agents added (IPaddr2's floating
        // address): only the lab's own stay on the node's links.
        self.drop_floating(node)?;
        let ready = dir.join("init.ready");
        let _ = std::fs::remove_file(&ready);
        let log_path = dir.join("init.log");
        let log = std::fs::File::create(&log_path).map_err(|e| LabError::io(&log_path, e))?;
        let log2 = log.try_clone().map_err(|e| LabError::io(&log_path, e))?;
        let ha_lab = self.spec.bin_dir.join("ha-lab");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.spec.node_ns(node)])
            .args(["unshare", "--pid", "--fork", "--uts", "--mount", "--ipc", "--mount-proc", "--propagation", "private"])
            .arg(&ha_lab)
            .args(["node-init", "--hostname", node, "--ready"])
            .arg(&ready);
        if let Some(extra) = &self.spec.ocf_overlay {
            cmd.arg("--ocf-overlay").arg(extra);
        }
        if let Some(extra) = &self.spec.fence_overlay {
            cmd.arg("--fence-overlay").arg(extra);
        }
        cmd
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            // Its own process group: a Ctrl-C at the ha-lab command line
            // must not power the node off.
            .process_group(0);
        let line = sys::describe(&cmd);
        let child = cmd.spawn().map_err(|e| LabError::Spawn { cmd: line, source: e })?;
        self.launched.push(child);
        let start = Instant::now();
        while !ready.exists() {
            if start.elapsed() > SETTLE {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(LabError::node(node, format!("init not ready after {SETTLE:?}: {log}")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // For the lab fence agent (agents/fence/fence_lab, pid_dir=ROOT/pids):
        // the init's host pid and its network namespace, which identifies it.
        if let Some(pid) = self.init_pid(node) {
            let pids = self.spec.root.join("pids");
            let net = std::fs::read_link(format!("/proc/{pid}/ns/net")).map_err(|e| LabError::io(&pids, e))?;
            std::fs::create_dir_all(&pids).map_err(|e| LabError::io(&pids, e))?;
            let f = pids.join(format!("{node}.pid"));
            std::fs::write(&f, format!("{pid} {}\n", net.display())).map_err(|e| LabError::io(&f, e))?;
        }
        Ok(())
    }

    /// A command run inside the node (all its namespaces), with the node's
    /// HA_* environment and the project's binaries first in PATH.
    pub fn command(&self, node: &str, program: &str, args: &[&str]) -> Result<Command, LabError> {
        let pid = self.init_pid(node).ok_or_else(|| LabError::node(node, "is not running (boot it first)"))?;
        let mut cmd = Command::new("nsenter");
        cmd.arg("-t").arg(pid.to_string()).args(["-n", "-p", "-u", "-m", "-i", "--"]);
        let bin = self.spec.bin_dir.join(program);
        if bin.exists() {
            cmd.arg(bin);
        } else {
            cmd.arg(program);
        }
        cmd.args(args).env_clear();
        for (k, v) in self.spec.env(node) {
            cmd.env(k, v);
        }
        Ok(cmd)
    }

    /// Runs a command on the node and returns its output, whatever its
    /// exit status (`cl_status` answers with exit codes).
    pub fn exec(&self, node: &str, program: &str, args: &[&str]) -> Result<Output, LabError> {
        let mut cmd = self.command(node, program, args)?;
        let line = sys::describe(&cmd);
        cmd.stdin(Stdio::null()).output().map_err(|e| LabError::Spawn { cmd: line, source: e })
    }

    /// Starts the node's heartbeat (booting the node if it is off); returns
    /// when the daemon has opened its media and detached.
    pub fn start(&mut self, node: &str) -> Result<(), LabError> {
        self.boot(node)?;
        self.checked(node, "heartbeat", &[])
    }

    /// `heartbeat -k`: a graceful stop (peers get the shutdown notice).
    pub fn stop(&self, node: &str) -> Result<(), LabError> {
        self.checked(node, "heartbeat", &["-k"])
    }

    fn checked(&self, node: &str, program: &str, args: &[&str]) -> Result<(), LabError> {
        let out = self.exec(node, program, args)?;
        if out.status.success() {
            Ok(())
        } else {
            Err(LabError::Command {
                cmd: format!("{node}: {program} {}", args.join(" ")),
                status: out.status.code().unwrap_or(-1),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }

    /// Powers a node off hard: SIGKILL to its init, so the kernel kills
    /// every process of its PID namespace at once (heartbeat, agents,
    /// services). Its network namespace, links and files stay.
    pub fn kill(&mut self, node: &str) -> Result<(), LabError> {
        self.spec.index(node)?;
        let ns = self.spec.node_ns(node);
        if let Some(pid) = sys::node_init_pid(&ns) {
            sys::signal_all(&[pid], Signal::SIGKILL);
        }
        let start = Instant::now();
        while !sys::netns_pids(&ns).is_empty() {
            if start.elapsed() > SETTLE {
                return Err(LabError::node(node, format!("processes left after kill: {:?}", sys::netns_pids(&ns))));
            }
            // A paused node: the init's parent (`unshare`, in the host's
            // PID namespace but the node's network namespace) is stopped
            // too and would never reap the dead init. Once the init is
            // gone nothing of the node can run again: let it go on.
            if sys::node_init_pid(&ns).is_none() {
                sys::signal_all(&sys::netns_pids(&ns), Signal::SIGCONT);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.reap();
        Ok(())
    }

    /// Removes every IPv4 address from the node's links but the lab's own
    /// (`10.213.<k>.<i>`): what resource agents added, such as IPaddr2's
    /// floating address. A killed node's network namespace keeps them and
    /// would still answer ARP for them, which a powered-off host does not:
    /// `ha-lab kill --drop-floating` calls this right after the kill, and
    /// every boot calls it, as a reboot starts with bare interfaces.
    pub fn drop_floating(&self, node: &str) -> Result<Vec<String>, LabError> {
        let i = self.spec.index(node)?;
        let ns = self.spec.node_ns(node);
        let mut dropped = Vec::new();
        for k in 0..self.spec.links {
            let dev = LabSpec::dev(k);
            let own = self.spec.addr(i, k);
            let out = sys::ip(&ns, &["-4", "-o", "addr", "show", "dev", &dev])?;
            for cidr in inet_addresses(&String::from_utf8_lossy(&out.stdout)) {
                if cidr.split('/').next() != Some(own.as_str()) {
                    sys::ip(&ns, &["addr", "del", &cidr, "dev", &dev])?;
                    dropped.push(cidr);
                }
            }
        }
        Ok(dropped)
    }

    /// Freezes every process of the node (SIGSTOP), as a hung host would
    /// be: its sockets stay open, but nothing answers.
    pub fn pause(&self, node: &str) -> Result<(), LabError> {
        self.spec.index(node)?;
        // Twice, to catch a process forked between listing and stopping.
        for _ in 0..2 {
            sys::signal_all(&sys::netns_pids(&self.spec.node_ns(node)), Signal::SIGSTOP);
        }
        Ok(())
    }

    pub fn resume(&self, node: &str) -> Result<(), LabError> {
        self.spec.index(node)?;
        sys::signal_all(&sys::netns_pids(&self.spec.node_ns(node)), Signal::SIGCONT);
        Ok(())
    }

    fn link_checked(&self, node: &str, link: usize) -> Result<String, LabError> {
        self.spec.index(node)?;
        if link >= self.spec.links {
            return Err(LabError::Spec(format!("no link {link} (links 0..{})", self.spec.links)));
        }
        Ok(LabSpec::dev(link))
    }

    /// Cuts one link of a node: every packet in or out of `eth<link>` is
    /// dropped by nftables in the node's namespace. The interface stays up.
    pub fn cut(&self, node: &str, link: usize) -> Result<(), LabError> {
        let dev = self.link_checked(node, link)?;
        let table = format!("halab_cut_{dev}");
        let rules = [format!("iifname \"{dev}\" drop"), format!("oifname \"{dev}\" drop")];
        sys::nft(&self.spec.node_ns(node), &replace_table(&table, &rules[0], &rules[1]))
    }

    pub fn restore(&self, node: &str, link: usize) -> Result<(), LabError> {
        let dev = self.link_checked(node, link)?;
        sys::nft(&self.spec.node_ns(node), &delete_table(&format!("halab_cut_{dev}")))
    }

    /// Drops `percent` % of the packets that leave or arrive on one link of
    /// a node, chosen at random per packet (nftables `numgen random`; this
    /// machine's kernel has no netem). 0 removes the loss.
    pub fn loss(&self, node: &str, link: usize, percent: u32) -> Result<(), LabError> {
        let dev = self.link_checked(node, link)?;
        let table = format!("halab_loss_{dev}");
        let ns = self.spec.node_ns(node);
        if percent == 0 {
            return sys::nft(&ns, &delete_table(&table));
        }
        if percent > 100 {
            return Err(LabError::Spec(format!("loss {percent}% is over 100%")));
        }
        // numgen yields 0..=99, and nft refuses a comparison with 100.
        let pick = if percent == 100 { String::new() } else { format!("numgen random mod 100 < {percent} ") };
        let rin = format!("iifname \"{dev}\" {pick}drop");
        let rout = format!("oifname \"{dev}\" {pick}drop");
        sys::nft(&ns, &replace_table(&table, &rin, &rout))
    }

    /// Splits the cluster: a node hears only the nodes of its own group
    /// (on every link). Nodes named in no group form one more group.
    /// Replaces any earlier partition.
    pub fn partition(&self, groups: &[Vec<String>]) -> Result<(), LabError> {
        let all = self.spec.node_names();
        let mut groups: Vec<Vec<String>> = groups.to_vec();
        for g in &groups {
            for n in g {
                self.spec.index(n)?;
            }
        }
        let rest: Vec<String> = all.iter().filter(|n| !groups.iter().flatten().any(|m| m == *n)).cloned().collect();
        if !rest.is_empty() {
            groups.push(rest);
        }
        for node in &all {
            let mine = groups.iter().find(|g| g.contains(node)).expect("every node is in a group");
            let others: Vec<String> = all
                .iter()
                .filter(|n| !mine.contains(n))
                .flat_map(|n| {
                    let i = self.spec.index(n).expect("a lab node");
                    (0..self.spec.links).map(move |k| (i, k))
                })
                .map(|(i, k)| self.spec.addr(i, k))
                .collect();
            let ns = self.spec.node_ns(node);
            if others.is_empty() {
                sys::nft(&ns, &delete_table("halab_partition"))?;
                continue;
            }
            let set = others.join(", ");
            let rin = format!("ip saddr {{ {set} }} drop");
            let rout = format!("ip daddr {{ {set} }} drop");
            sys::nft(&ns, &replace_table("halab_partition", &rin, &rout))?;
        }
        Ok(())
    }

    /// Removes any partition.
    pub fn heal(&self) -> Result<(), LabError> {
        for node in self.spec.node_names() {
            sys::nft(&self.spec.node_ns(&node), &delete_table("halab_partition"))?;
        }
        Ok(())
    }

    /// The nftables tables (faults) active on a node.
    pub fn faults(&self, node: &str) -> Result<Vec<String>, LabError> {
        self.spec.index(node)?;
        let out = sys::run(Command::new("ip").args(["netns", "exec", &self.spec.node_ns(node), "nft", "list", "tables"]))?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("table inet "))
            .map(str::to_string)
            .collect())
    }

    /// Removes everything of the lab from the machine: every process in
    /// its namespaces, the namespaces (and with them every interface), and
    /// lab.json. Logs and node directories stay for post-mortems.
    /// Goes on past errors and returns the first.
    pub fn destroy(&mut self) -> Result<(), LabError> {
        let mut names: Vec<String> = self.spec.node_names().iter().map(|n| self.spec.node_ns(n)).collect();
        names.push(self.spec.bridge_ns());
        let mut first = None;
        for ns in names.iter().filter(|ns| sys::netns_exists(ns)) {
            if let Err(e) = remove_netns(ns) {
                first.get_or_insert(e);
            }
        }
        // Every launched `unshare` lived in a namespace just emptied.
        for mut c in self.launched.drain(..) {
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(LabSpec::state_file(&self.spec.root));
        first.map_or(Ok(()), Err)
    }

    /// Waits for the `unshare` processes this process launched whose
    /// node has died.
    fn reap(&mut self) {
        self.launched.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
    }
}

/// Kills every process of a network namespace and deletes it.
fn remove_netns(ns: &str) -> Result<(), LabError> {
    let start = Instant::now();
    loop {
        let pids = sys::netns_pids(ns);
        if pids.is_empty() {
            break;
        }
        // SIGCONT too: a paused node must not keep a stopped init around.
        sys::signal_all(&pids, Signal::SIGKILL);
        sys::signal_all(&pids, Signal::SIGCONT);
        if start.elapsed() > SETTLE {
            return Err(LabError::Spec(format!("{ns}: processes survive SIGKILL: {pids:?}")));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    sys::run(Command::new("ip").args(["netns", "del", ns]))?;
    Ok(())
}

/// Removes every namespace whose name starts with `hl-` (or
/// `hl-<lab>-` when a lab is named): leftovers of labs whose owner died
/// without destroying them. Returns the namespaces removed.
pub fn cleanup(lab: Option<&str>) -> Result<Vec<String>, LabError> {
    let prefix = match lab {
        Some(name) => format!("{NS_PREFIX}{name}-"),
        None => NS_PREFIX.to_string(),
    };
    let mut removed = Vec::new();
    let mut first = None;
    for ns in sys::netns_list()?.into_iter().filter(|n| n.starts_with(&prefix)) {
        match remove_netns(&ns) {
            Ok(()) => removed.push(ns),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    first.map_or(Ok(removed), Err)
}

/// The `A.B.C.D/N` of every `inet` line of `ip -4 -o addr show`.
fn inet_addresses(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            w.find(|t| *t == "inet")?;
            w.next().map(str::to_string)
        })
        .collect()
}

/// An nft script that (re)creates `table` with one input and one output
/// rule. The leading `table` line creates it if missing so the `delete`
/// never fails; the whole script is applied atomically.
fn replace_table(table: &str, rule_in: &str, rule_out: &str) -> String {
    format!(
        "table inet {table}\ndelete table inet {table}\ntable inet {table} {{\n\
         \tchain lab_in {{ type filter hook input priority 0; {rule_in}; }}\n\
         \tchain lab_out {{ type filter hook output priority 0; {rule_out}; }}\n}}\n"
    )
}

/// An nft script that removes `table` whether it exists or not.
fn delete_table(table: &str) -> String {
    format!("table inet {table}\ndelete table inet {table}\n")
}

/// A lab that is destroyed when this guard is dropped, including while a
/// test unwinds from a failed assertion.
pub struct LabGuard(pub Lab);

impl LabGuard {
    pub fn create(spec: LabSpec) -> Result<LabGuard, LabError> {
        Lab::create(spec).map(LabGuard)
    }
}

impl std::ops::Deref for LabGuard {
    type Target = Lab;
    fn deref(&self) -> &Lab {
        &self.0
    }
}

impl std::ops::DerefMut for LabGuard {
    fn deref_mut(&mut self) -> &mut Lab {
        &mut self.0
    }
}

impl Drop for LabGuard {
    fn drop(&mut self) {
        if let Err(e) = self.0.destroy() {
            eprintln!("ha-lab: destroying lab {}: {e}", self.0.spec.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_of_ip_o() {
        let text = "2: eth0    inet 10.213.0.1/24 brd 10.213.0.255 scope global eth0\\       valid_lft forever preferred_lft forever\n\
                    2: eth0    inet 10.213.0.100/24 brd 10.213.0.255 scope global secondary eth0\\       valid_lft forever\n";
        assert_eq!(inet_addresses(text), ["10.213.0.1/24", "10.213.0.100/24"]);
        assert!(inet_addresses("").is_empty());
    }

    #[test]
    fn nft_scripts() {
        assert_eq!(delete_table("t"), "table inet t\ndelete table inet t\n");
        let s = replace_table("t", "iifname \"eth0\" drop", "oifname \"eth0\" drop");
        assert!(s.starts_with("table inet t\ndelete table inet t\ntable inet t {\n"), "{s}");
        assert!(s.contains("chain lab_in { type filter hook input priority 0; iifname \"eth0\" drop; }"), "{s}");
        assert!(s.contains("chain lab_out { type filter hook output priority 0; oifname \"eth0\" drop; }"), "{s}");
    }
}
