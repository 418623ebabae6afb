//! The environment contract: where a node keeps its files and sockets.
//!
//! Several nodes can run on one machine because nothing is hard-wired:
//! every daemon and tool resolves its paths from the `HA_*` variables
//! below (docs/ENVIRONMENT.md is the reference), and the tools choose
//! between an offline file and the live cluster from `CIB_file` /
//! `CIB_shadow`, as Pacemaker's do.
//!
//! | variable      | default                 | meaning                                  |
//! |---------------|-------------------------|------------------------------------------|
//! | `HA_NODENAME` | `uname -n`              | this node's name                         |
//! | `HA_CONFDIR`  | `/etc/ha.d`             | ha.cf, authkeys, haresources, resource.d |
//! | `HA_VARLIB`   | `/var/lib/heartbeat`    | hb_uuid, hb_generation, crm/cib.xml      |
//! | `HA_RUNDIR`   | `/var/run/heartbeat`    | daemon sockets (`<daemon>.sock`)         |
//! | `HA_BINDADDR` | all addresses           | address the node's sockets bind to       |
//! | `HA_RSCTMP`   | `/run/resource-agents`  | agents' state directory                  |
//!
//! Resolution is a pure function of a lookup closure ([`HaEnv::resolve`]) so
//! tests never touch the real process environment; [`HaEnv::from_process`]
//! is the one-line wrapper binaries call.
//!
//! # Layout
//!
//! ```text
//! lookup(name) --HaEnv::resolve--> HaEnv { nodename, confdir, varlib, rundir,
//!                                          bindaddr, rsctmp, cib_source }
//!                                     |-- ha_cf(), authkeys(), cib_file(), ...  (paths)
//!                                     |-- socket(Daemon), pid_file(Daemon)     (HA_RUNDIR)
//!                                     '-- to_vars()  (the HA_* for a child process)
//! ```
//!
//! One file on purpose: this crate is the lowest one every process of the
//! project needs (transport's `heartbeat` as much as the CIB tools), so it
//! holds the contract and nothing else (docs/DECISIONS.md). The `cib`
//! crate re-exports it as `cib::env`.

use std::ffi::OsString;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Names of the variables, so callers that set them for children (the
/// launcher, lrmd) spell them the same way.
pub const HA_NODENAME: &str = "HA_NODENAME";
pub const HA_CONFDIR: &str = "HA_CONFDIR";
pub const HA_VARLIB: &str = "HA_VARLIB";
pub const HA_RUNDIR: &str = "HA_RUNDIR";
pub const HA_BINDADDR: &str = "HA_BINDADDR";
pub const HA_RSCTMP: &str = "HA_RSCTMP";
pub const CIB_FILE: &str = "CIB_file";
pub const CIB_SHADOW: &str = "CIB_shadow";
pub const CIB_SHADOW_DIR: &str = "CIB_shadow_dir";

pub const DEFAULT_CONFDIR: &str = "/etc/ha.d";
pub const DEFAULT_VARLIB: &str = "/var/lib/heartbeat";
pub const DEFAULT_RUNDIR: &str = "/var/run/heartbeat";
pub const DEFAULT_RSCTMP: &str = "/run/resource-agents";

/// Why the environment could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("{var}={value:?} is not valid: {reason}")]
    Invalid { var: &'static str, value: String, reason: &'static str },
    #[error("cannot determine the node name (set HA_NODENAME): {0}")]
    NoNodeName(String),
}

/// One node's resolved environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaEnv {
    /// This node's name as the cluster knows it (ha.cf `node` lines, CIB unames).
    pub nodename: String,
    /// Configuration directory: ha.cf, authkeys, haresources, resource.d/.
    pub confdir: PathBuf,
    /// Persistent state: hb_uuid, hb_generation, crm/.
    pub varlib: PathBuf,
    /// Runtime directory holding every daemon's socket.
    pub rundir: PathBuf,
    /// Address the node's sockets bind to; `None` means all addresses.
    pub bindaddr: Option<IpAddr>,
    /// State directory handed to every resource agent as `HA_RSCTMP`.
    pub rsctmp: PathBuf,
    /// Which CIB the tools operate on (`CIB_shadow` / `CIB_file` / live).
    pub cib_source: CibSource,
}

/// The daemons that own a socket under `HA_RUNDIR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Daemon {
    Heartbeat,
    Ccm,
    Cib,
    Crmd,
    Lrmd,
    Stonithd,
    Attrd,
    Pengine,
}

impl Daemon {
    pub const ALL: [Daemon; 8] = [
        Daemon::Heartbeat,
        Daemon::Ccm,
        Daemon::Cib,
        Daemon::Crmd,
        Daemon::Lrmd,
        Daemon::Stonithd,
        Daemon::Attrd,
        Daemon::Pengine,
    ];

    /// The binary name, which is also the socket's base name.
    pub fn name(self) -> &'static str {
        match self {
            Daemon::Heartbeat => "heartbeat",
            Daemon::Ccm => "ccm",
            Daemon::Cib => "cib",
            Daemon::Crmd => "crmd",
            Daemon::Lrmd => "lrmd",
            Daemon::Stonithd => "stonithd",
            Daemon::Attrd => "attrd",
            Daemon::Pengine => "pengine",
        }
    }
}

impl fmt::Display for Daemon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a tool finds the CIB it works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CibSource {
    /// Offline: read and write this file directly (no daemon, no .sig).
    File(PathBuf),
    /// Online: ask the node's cib daemon through this socket.
    Live { socket: PathBuf },
}

impl HaEnv {
    /// Resolves from the real process environment. Binaries call this once
    /// at start-up and pass the result down; libraries never read the
    /// environment themselves.
    pub fn from_process() -> Result<HaEnv, EnvError> {
        HaEnv::resolve(|name| std::env::var_os(name))
    }

    /// Resolves from `lookup` (a variable name to its value). Unset and
    /// empty `HA_*` variables both mean "use the default", so `HA_VARLIB=`
    /// in a shell does not silently mean the current directory. The node
    /// name falls back to the kernel's host name, which is what `uname -n`
    /// prints.
    pub fn resolve(lookup: impl Fn(&str) -> Option<OsString>) -> Result<HaEnv, EnvError> {
        let nonempty = |name: &str| lookup(name).filter(|v| !v.is_empty());

        let nodename = match nonempty(HA_NODENAME) {
            Some(v) => v
                .into_string()
                .map_err(|v| EnvError::Invalid { var: HA_NODENAME, value: v.to_string_lossy().into_owned(), reason: "not UTF-8" })?,
            None => nix::unistd::gethostname()
                .map_err(|e| EnvError::NoNodeName(e.to_string()))?
                .into_string()
                .map_err(|_| EnvError::NoNodeName("host name is not UTF-8".into()))?,
        };
        // A node without a name cannot match any ha.cf `node` line or CIB
        // uname; say so here rather than fail obscurely later.
        if nodename.is_empty() {
            return Err(EnvError::NoNodeName("host name is empty".into()));
        }
        if nodename.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EnvError::Invalid { var: HA_NODENAME, value: nodename, reason: "contains white space" });
        }

        let dir = |var: &'static str, default: &str| -> Result<PathBuf, EnvError> {
            let Some(v) = nonempty(var) else { return Ok(PathBuf::from(default)) };
            let p = PathBuf::from(v);
            // Daemons chdir("/") when they start, so a relative directory
            // would mean something different before and after; refuse it.
            if p.is_relative() {
                return Err(EnvError::Invalid {
                    var,
                    value: p.to_string_lossy().into_owned(),
                    reason: "must be an absolute path",
                });
            }
            Ok(p)
        };
        let confdir = dir(HA_CONFDIR, DEFAULT_CONFDIR)?;
        let varlib = dir(HA_VARLIB, DEFAULT_VARLIB)?;
        let rundir = dir(HA_RUNDIR, DEFAULT_RUNDIR)?;
        let rsctmp = dir(HA_RSCTMP, DEFAULT_RSCTMP)?;

        let bindaddr = match nonempty(HA_BINDADDR) {
            None => None,
            Some(v) => {
                let s = v.to_string_lossy();
                Some(s.trim().parse::<IpAddr>().map_err(|_| EnvError::Invalid {
                    var: HA_BINDADDR,
                    value: s.into_owned(),
                    reason: "not an IPv4 or IPv6 address",
                })?)
            }
        };

        let cib_source = cib_source(&lookup, &varlib, &rundir);
        Ok(HaEnv { nodename, confdir, varlib, rundir, bindaddr, rsctmp, cib_source })
    }

    /// `$HA_CONFDIR/ha.cf`
    pub fn ha_cf(&self) -> PathBuf {
        self.confdir.join("ha.cf")
    }

    /// `$HA_CONFDIR/authkeys`
    pub fn authkeys(&self) -> PathBuf {
        self.confdir.join("authkeys")
    }

    /// `$HA_CONFDIR/haresources`
    pub fn haresources(&self) -> PathBuf {
        self.confdir.join("haresources")
    }

    /// `$HA_CONFDIR/resource.d`: Heartbeat v1 style resource scripts.
    pub fn resource_d(&self) -> PathBuf {
        self.confdir.join("resource.d")
    }

    /// `$HA_VARLIB/hb_uuid`: this node's uuid, 16 raw bytes.
    pub fn uuid_file(&self) -> PathBuf {
        self.varlib.join("hb_uuid")
    }

    /// `$HA_VARLIB/hb_generation`: the restart counter.
    pub fn generation_file(&self) -> PathBuf {
        self.varlib.join("hb_generation")
    }

    /// `$HA_VARLIB/crm`: the CIB store's directory.
    pub fn crm_dir(&self) -> PathBuf {
        crm_dir(&self.varlib)
    }

    /// `$HA_VARLIB/crm/cib.xml`: the live CIB.
    pub fn cib_file(&self) -> PathBuf {
        self.crm_dir().join("cib.xml")
    }

    /// `$HA_VARLIB/pengine`: saved policy-engine inputs.
    pub fn pengine_dir(&self) -> PathBuf {
        self.varlib.join("pengine")
    }

    /// `$HA_RUNDIR/<daemon>.sock`
    pub fn socket(&self, daemon: Daemon) -> PathBuf {
        socket_path(&self.rundir, daemon)
    }

    /// `$HA_RUNDIR/<daemon>.pid`
    pub fn pid_file(&self, daemon: Daemon) -> PathBuf {
        self.rundir.join(format!("{}.pid", daemon.name()))
    }

    /// The `HA_*` variables that reproduce this environment, for a process
    /// this node starts (daemons, resource agents). `CIB_*` are not
    /// included: a daemon's children talk to the live cluster.
    pub fn to_vars(&self) -> Vec<(&'static str, OsString)> {
        let mut v = vec![
            (HA_NODENAME, OsString::from(&self.nodename)),
            (HA_CONFDIR, self.confdir.clone().into_os_string()),
            (HA_VARLIB, self.varlib.clone().into_os_string()),
            (HA_RUNDIR, self.rundir.clone().into_os_string()),
            (HA_RSCTMP, self.rsctmp.clone().into_os_string()),
        ];
        if let Some(a) = self.bindaddr {
            v.push((HA_BINDADDR, OsString::from(a.to_string())));
        }
        v
    }
}

fn crm_dir(varlib: &Path) -> PathBuf {
    varlib.join("crm")
}

fn socket_path(rundir: &Path, daemon: Daemon) -> PathBuf {
    rundir.join(format!("{}.sock", daemon.name()))
}

/// Pacemaker 2.1.5's precedence: a non-empty `CIB_shadow` names a shadow
/// copy, then `CIB_file` when it is set at all (an empty value is a file
/// named "", which then fails as Pacemaker's does with "No such device or
/// address"), else the live cluster.
fn cib_source(lookup: &impl Fn(&str) -> Option<OsString>, varlib: &Path, rundir: &Path) -> CibSource {
    if let Some(name) = lookup(CIB_SHADOW).filter(|v| !v.is_empty()) {
        let dir = lookup(CIB_SHADOW_DIR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| crm_dir(varlib));
        let mut file = OsString::from("shadow.");
        file.push(name);
        return CibSource::File(dir.join(file));
    }
    if let Some(file) = lookup(CIB_FILE) {
        return CibSource::File(PathBuf::from(file));
    }
    CibSource::Live { socket: socket_path(rundir, Daemon::Cib) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> Result<HaEnv, EnvError> {
        let map: HashMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
        HaEnv::resolve(move |k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_heartbeat() {
        let e = env(&[("HA_NODENAME", "node1")]).unwrap();
        assert_eq!(e.nodename, "node1");
        assert_eq!(e.ha_cf(), Path::new("/etc/ha.d/ha.cf"));
        assert_eq!(e.resource_d(), Path::new("/etc/ha.d/resource.d"));
        assert_eq!(e.cib_file(), Path::new("/var/lib/heartbeat/crm/cib.xml"));
        assert_eq!(e.uuid_file(), Path::new("/var/lib/heartbeat/hb_uuid"));
        assert_eq!(e.generation_file(), Path::new("/var/lib/heartbeat/hb_generation"));
        assert_eq!(e.socket(Daemon::Cib), Path::new("/var/run/heartbeat/cib.sock"));
        assert_eq!(e.rsctmp, Path::new("/run/resource-agents"));
        assert_eq!(e.bindaddr, None);
        assert_eq!(e.cib_source, CibSource::Live { socket: PathBuf::from("/var/run/heartbeat/cib.sock") });
    }

    #[test]
    fn default_node_name_is_uname_n() {
        let out = std::process::Command::new("uname").arg("-n").output().expect("uname runs");
        let uname = String::from_utf8(out.stdout).unwrap().trim().to_string();
        assert_eq!(env(&[]).unwrap().nodename, uname);
        assert_eq!(env(&[("HA_NODENAME", "")]).unwrap().nodename, uname, "empty means unset");
    }

    #[test]
    fn overrides_and_derived_paths() {
        let e = env(&[
            ("HA_NODENAME", "n2"),
            ("HA_CONFDIR", "/lab/n2/etc"),
            ("HA_VARLIB", "/lab/n2/var"),
            ("HA_RUNDIR", "/lab/n2/run"),
            ("HA_BINDADDR", "127.0.0.2"),
            ("HA_RSCTMP", "/lab/n2/rsctmp"),
        ])
        .unwrap();
        assert_eq!(e.authkeys(), Path::new("/lab/n2/etc/authkeys"));
        assert_eq!(e.crm_dir(), Path::new("/lab/n2/var/crm"));
        assert_eq!(e.socket(Daemon::Lrmd), Path::new("/lab/n2/run/lrmd.sock"));
        assert_eq!(e.pid_file(Daemon::Heartbeat), Path::new("/lab/n2/run/heartbeat.pid"));
        assert_eq!(e.bindaddr, Some("127.0.0.2".parse().unwrap()));
        let back = e.to_vars();
        let again = HaEnv::resolve(|k| back.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).unwrap();
        assert_eq!(again, e, "to_vars reproduces the environment");
    }

    #[test]
    fn empty_values_mean_defaults() {
        let e = env(&[
            ("HA_NODENAME", "n"),
            ("HA_CONFDIR", ""),
            ("HA_VARLIB", ""),
            ("HA_RUNDIR", ""),
            ("HA_BINDADDR", ""),
            ("HA_RSCTMP", ""),
        ])
        .unwrap();
        assert_eq!(e, env(&[("HA_NODENAME", "n")]).unwrap());
    }

    #[test]
    fn invalid_values_are_refused() {
        let e = env(&[("HA_NODENAME", "n"), ("HA_BINDADDR", "not-an-ip")]).unwrap_err();
        assert!(matches!(e, EnvError::Invalid { var: "HA_BINDADDR", .. }), "{e}");
        let e = env(&[("HA_NODENAME", "n"), ("HA_VARLIB", "relative/dir")]).unwrap_err();
        assert!(e.to_string().contains("HA_VARLIB"), "{e}");
        for var in ["HA_CONFDIR", "HA_RUNDIR", "HA_RSCTMP"] {
            let e = env(&[("HA_NODENAME", "n"), (var, "rel")]).unwrap_err();
            assert!(matches!(e, EnvError::Invalid { var: v, .. } if v == var), "{e}");
        }
        assert!(env(&[("HA_NODENAME", "two words")]).is_err());
    }

    #[test]
    fn cib_source_precedence_matches_pacemaker() {
        let f = env(&[("HA_NODENAME", "n"), ("CIB_file", "/tmp/x.xml")]).unwrap();
        assert_eq!(f.cib_source, CibSource::File("/tmp/x.xml".into()));
        // Pacemaker 2.1.5 treats a set-but-empty CIB_file as a file named "".
        let f = env(&[("HA_NODENAME", "n"), ("CIB_file", "")]).unwrap();
        assert_eq!(f.cib_source, CibSource::File("".into()));
        let s = env(&[("HA_NODENAME", "n"), ("HA_VARLIB", "/v"), ("CIB_shadow", "test"), ("CIB_file", "/tmp/x.xml")]).unwrap();
        assert_eq!(s.cib_source, CibSource::File("/v/crm/shadow.test".into()));
        let s = env(&[("HA_NODENAME", "n"), ("CIB_shadow", "t"), ("CIB_shadow_dir", "/sh")]).unwrap();
        assert_eq!(s.cib_source, CibSource::File("/sh/shadow.t".into()));
        let l = env(&[("HA_NODENAME", "n"), ("HA_RUNDIR", "/r"), ("CIB_shadow", "")]).unwrap();
        assert_eq!(l.cib_source, CibSource::Live { socket: "/r/cib.sock".into() });
    }
}
