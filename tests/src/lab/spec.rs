//! What a lab is made of: its name, nodes, links, media and timing, the
//! names and addresses derived from them, and each node's configuration
//! files (ha.cf, authkeys, haresources).
//!
//! Naming (all inside namespaces the lab creates):
//! - network namespaces `hl-<lab>-br` (the bridges) and `hl-<lab>-n<i>`;
//! - in a node: `eth<k>` for link k, address `10.213.<k>.<i>/24`;
//! - in the bridge namespace: bridge `br<k>`, node ports `n<i>l<k>`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::LabError;

/// Prefix of every namespace a lab creates; `ha-lab cleanup` removes
/// whatever carries it.
pub const NS_PREFIX: &str = "hl-";

/// The heartbeat medium every link uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Media {
    /// `ucast eth<k> <peer address>` for every other node.
    Ucast,
    /// `bcast eth<k>`.
    Bcast,
    /// `mcast eth<k> 239.0.213.<k+1> <udpport> 1 0`.
    Mcast,
}

impl std::str::FromStr for Media {
    type Err = String;
    fn from_str(s: &str) -> Result<Media, String> {
        match s {
            "ucast" => Ok(Media::Ucast),
            "bcast" => Ok(Media::Bcast),
            "mcast" => Ok(Media::Mcast),
            _ => Err(format!("unknown medium {s:?} (ucast, bcast or mcast)")),
        }
    }
}

/// Heartbeat's timing, in milliseconds, written into every ha.cf.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Timing {
    pub keepalive_ms: u64,
    pub deadtime_ms: u64,
    pub warntime_ms: u64,
    pub initdead_ms: u64,
}

impl Default for Timing {
    /// Fast enough for tests (a kill is detected in about a second) and
    /// slow enough for two shared cores.
    fn default() -> Timing {
        Timing { keepalive_ms: 200, deadtime_ms: 1_000, warntime_ms: 500, initdead_ms: 2_000 }
    }
}

/// Everything needed to build (or rebuild) a lab; saved as `lab.json` in
/// the lab root so that each `ha-lab` invocation can find the lab again.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LabSpec {
    /// Short name: lower-case letters and digits, at most 12 characters.
    pub name: String,
    /// Directory holding lab.json and one directory per node.
    pub root: PathBuf,
    pub nodes: usize,
    /// Links per node (1 or 2).
    pub links: usize,
    pub media: Media,
    pub timing: Timing,
    pub udpport: u16,
    /// The sha1 key in every node's authkeys.
    pub secret: String,
    /// Where `heartbeat`, `cl_status` and `ha-lab` are.
    pub bin_dir: PathBuf,
    /// ha.cf's `crm` value: `no` (heartbeat alone, the default) or
    /// `respawn`/`yes`/`on`/`minimal`, which make heartbeat launch the CRM
    /// daemons found beside it in `bin_dir` (the full stack per node).
    #[serde(default = "crm_no")]
    pub crm: String,
    /// A `resource.d` directory of extra OCF providers (the project's
    /// `agents/ocf/resource.d`), merged over `/usr/lib/ocf/resource.d`
    /// inside every node (an overlay mount in the node's own mount
    /// namespace), so lrmd's default OCF_ROOT sees Debian's agents
    /// (IPaddr2) and ours (ocf:heartbeat-rs:Httpd) side by side while the
    /// host's /usr/lib/ocf stays untouched.
    #[serde(default)]
    pub ocf_overlay: Option<PathBuf>,
    /// A directory of fence agents (the project's `agents/fence`), merged
    /// over `/usr/sbin` inside every node the same way, so stonithd's and
    /// lrmd's default fence agent directory has `fence_lab` beside
    /// Debian's fence agents.
    #[serde(default)]
    pub fence_overlay: Option<PathBuf>,
}

fn crm_no() -> String {
    "no".to_string()
}

impl LabSpec {
    pub fn new(name: &str, root: &Path, nodes: usize, links: usize, bin_dir: &Path) -> LabSpec {
        LabSpec {
            name: name.to_string(),
            root: root.to_path_buf(),
            nodes,
            links,
            media: Media::Ucast,
            timing: Timing::default(),
            udpport: 694,
            secret: "LabSecret".to_string(),
            bin_dir: bin_dir.to_path_buf(),
            crm: crm_no(),
            ocf_overlay: None,
            fence_overlay: None,
        }
    }

    pub fn validate(&self) -> Result<(), LabError> {
        let bad = |why: &str| Err(LabError::Spec(why.to_string()));
        if self.name.is_empty()
            || self.name.len() > 12
            || !self.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return bad("the lab name must be 1-12 lower-case letters or digits");
        }
        if !(1..=250).contains(&self.nodes) {
            return bad("a lab has 1 to 250 nodes");
        }
        if !(1..=2).contains(&self.links) {
            return bad("a node has one or two links");
        }
        if !["no", "off", "yes", "on", "respawn", "minimal", "manual"].contains(&self.crm.as_str()) {
            return bad("crm must be no, yes, on, respawn, minimal or manual");
        }
        if self.ocf_overlay.as_ref().is_some_and(|d| !d.is_absolute()) {
            return bad("the OCF overlay must be an absolute path");
        }
        if !self.root.is_absolute() {
            return bad("the lab root must be an absolute path (daemons chdir to /)");
        }
        // A node mounts its own tmpfs on these, hiding the lab's files.
        for hidden in ["/run", "/dev/shm", "/var/run"] {
            if self.root.starts_with(hidden) {
                return bad("the lab root must not be under /run or /dev/shm (each node mounts its own there)");
            }
        }
        Ok(())
    }

    /// Node names, `n1`..`nN`.
    pub fn node_names(&self) -> Vec<String> {
        (1..=self.nodes).map(|i| format!("n{i}")).collect()
    }

    /// 1-based index of a node name, checked.
    pub fn index(&self, node: &str) -> Result<usize, LabError> {
        node.strip_prefix('n')
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|i| (1..=self.nodes).contains(i))
            .ok_or_else(|| LabError::Spec(format!("no node {node:?} in lab {} (n1..n{})", self.name, self.nodes)))
    }

    pub fn bridge_ns(&self) -> String {
        format!("{NS_PREFIX}{}-br", self.name)
    }

    pub fn node_ns(&self, node: &str) -> String {
        format!("{NS_PREFIX}{}-{node}", self.name)
    }

    /// `eth<k>`, the name of link k inside every node.
    pub fn dev(link: usize) -> String {
        format!("eth{link}")
    }

    pub fn addr(&self, i: usize, link: usize) -> String {
        format!("10.213.{link}.{i}")
    }

    /// The client's address on link k, in the bridge namespace: outside
    /// every node, as a user of the cluster's services is (node indexes
    /// stop at 250).
    pub fn client_addr(link: usize) -> String {
        format!("10.213.{link}.254")
    }

    pub fn mcast_group(link: usize) -> String {
        format!("239.0.213.{}", link + 1)
    }

    pub fn node_dir(&self, node: &str) -> PathBuf {
        self.root.join(node)
    }

    pub fn state_file(root: &Path) -> PathBuf {
        root.join("lab.json")
    }

    /// The HA_* environment of a node (docs/ENVIRONMENT.md), plus a PATH
    /// that finds the project's binaries first.
    pub fn env(&self, node: &str) -> Vec<(String, String)> {
        let dir = self.node_dir(node);
        let path = format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", self.bin_dir.display());
        vec![
            ("HA_NODENAME".into(), node.into()),
            ("HA_CONFDIR".into(), dir.join("conf").display().to_string()),
            ("HA_VARLIB".into(), dir.join("var").display().to_string()),
            ("HA_RUNDIR".into(), dir.join("run").display().to_string()),
            ("HA_RSCTMP".into(), dir.join("rsctmp").display().to_string()),
            ("PATH".into(), path),
        ]
    }

    pub fn log_file(&self, node: &str) -> PathBuf {
        self.node_dir(node).join("ha-log")
    }

    /// The node's ha.cf: every node lists all nodes; ucast lines name the
    /// peers only (a node needs no packets to itself).
    pub fn ha_cf(&self, i: usize) -> String {
        let t = &self.timing;
        let node = format!("n{i}");
        let mut media = String::new();
        for k in 0..self.links {
            let dev = Self::dev(k);
            match self.media {
                Media::Ucast => {
                    for j in (1..=self.nodes).filter(|&j| j != i) {
                        media.push_str(&format!("ucast {dev} {}\n", self.addr(j, k)));
                    }
                }
                Media::Bcast => media.push_str(&format!("bcast {dev}\n")),
                Media::Mcast => {
                    media.push_str(&format!("mcast {dev} {} {} 1 0\n", Self::mcast_group(k), self.udpport))
                }
            }
        }
        format!(
            "# written by ha-lab for node {node} of lab {lab}\n\
             logfile {log}\n\
             use_logd no\n\
             keepalive {ka}ms\n\
             deadtime {dt}ms\n\
             warntime {wt}ms\n\
             initdead {id}ms\n\
             udpport {port}\n\
             {media}\
             auto_failback on\n\
             node {nodes}\n\
             crm {crm}\n",
            lab = self.name,
            log = self.log_file(&node).display(),
            ka = t.keepalive_ms,
            dt = t.deadtime_ms,
            wt = t.warntime_ms,
            id = t.initdead_ms,
            port = self.udpport,
            nodes = self.node_names().join(" "),
            crm = self.crm,
        )
    }

    /// Writes a node's directories and configuration files (authkeys
    /// 0600, as heartbeat demands). Existing HA_VARLIB content (uuid,
    /// generation) is kept: a rebuilt node keeps its identity.
    pub fn write_node_files(&self, i: usize) -> Result<(), LabError> {
        use std::os::unix::fs::PermissionsExt;
        let node = format!("n{i}");
        let dir = self.node_dir(&node);
        for sub in ["conf", "var", "run", "rsctmp"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| LabError::io(&dir.join(sub), e))?;
        }
        let conf = dir.join("conf");
        let write = |name: &str, text: &str| {
            let p = conf.join(name);
            std::fs::write(&p, text).map_err(|e| LabError::io(&p, e))
        };
        write("ha.cf", &self.ha_cf(i))?;
        write("authkeys", &format!("auth 1\n1 sha1 {}\n", self.secret))?;
        let keys = conf.join("authkeys");
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).map_err(|e| LabError::io(&keys, e))?;
        // No resources yet: later tests (cluster failover) write their own.
        write("haresources", "")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> LabSpec {
        LabSpec::new("t1", Path::new("/tmp/lab"), 3, 2, Path::new("/bin"))
    }

    #[test]
    fn names_and_addresses() {
        let s = spec();
        assert_eq!(s.bridge_ns(), "hl-t1-br");
        assert_eq!(s.node_ns("n2"), "hl-t1-n2");
        assert_eq!(s.addr(2, 1), "10.213.1.2");
        assert_eq!(s.index("n3").unwrap(), 3);
        assert!(s.index("n4").is_err());
        assert!(s.index("x1").is_err());
    }

    #[test]
    fn validation() {
        assert!(spec().validate().is_ok());
        let mut s = spec();
        s.name = "Bad-Name".into();
        assert!(s.validate().is_err());
        let mut s = spec();
        s.links = 3;
        assert!(s.validate().is_err());
        let mut s = spec();
        s.root = "/run/lab".into();
        assert!(s.validate().is_err());
        let mut s = spec();
        s.crm = "maybe".into();
        assert!(s.validate().is_err());
        let mut s = spec();
        s.ocf_overlay = Some("agents/ocf".into());
        assert!(s.validate().is_err());
    }

    #[test]
    fn ha_cf_media() {
        let mut s = spec();
        let cf = s.ha_cf(1);
        assert!(cf.contains("ucast eth0 10.213.0.2\nucast eth0 10.213.0.3\nucast eth1 10.213.1.2\nucast eth1 10.213.1.3\n"), "{cf}");
        assert!(!cf.contains("10.213.0.1\n"));
        assert!(cf.contains("node n1 n2 n3\n"));
        assert!(cf.contains("keepalive 200ms\ndeadtime 1000ms\n"));
        assert!(cf.ends_with("crm no\n"), "{cf}");
        s.crm = "respawn".into();
        assert!(s.ha_cf(1).ends_with("crm respawn\n"));
        s.crm = "no".into();
        s.media = Media::Bcast;
        assert!(s.ha_cf(1).contains("bcast eth0\nbcast eth1\n"));
        s.media = Media::Mcast;
        assert!(s.ha_cf(2).contains("mcast eth0 239.0.213.1 694 1 0\nmcast eth1 239.0.213.2 694 1 0\n"));
    }

    #[test]
    fn generated_ha_cf_parses_without_errors() {
        for media in [Media::Ucast, Media::Bcast, Media::Mcast] {
            let mut s = spec();
            s.media = media;
            let (cf, diags) = transport::hacf::parse(&s.ha_cf(2), "ha.cf");
            assert!(!transport::diag::has_errors(&diags), "{media:?}: {diags:?}");
            assert!(cf.check_local_node("ha.cf", "n2").is_none());
        }
    }
}
