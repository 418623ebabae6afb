//! The part of the environment contract (docs/ENVIRONMENT.md) the
//! messaging layer needs: node name, HA_CONFDIR, HA_VARLIB, HA_RUNDIR,
//! HA_BINDADDR, with the contract's rules (empty means unset, directories
//! absolute, a bad address is an error naming the variable).
//!
//! Why not `cib::env`: the cib daemon will be a client of this crate's
//! API, so transport cannot depend on cib. The resolution rules are the
//! same; moving `HaEnv` down into this crate is left to a later session
//! (docs/TRANSPORT.md).

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("{var}={value:?}: {reason}")]
    Invalid { var: &'static str, value: String, reason: &'static str },
    #[error("cannot determine the node name: {0}")]
    NoNodeName(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEnv {
    pub nodename: String,
    pub confdir: PathBuf,
    pub varlib: PathBuf,
    pub rundir: PathBuf,
    pub bindaddr: Option<IpAddr>,
}

impl NodeEnv {
    pub fn from_process() -> Result<NodeEnv, EnvError> {
        NodeEnv::resolve(|n| std::env::var_os(n))
    }

    pub fn resolve(lookup: impl Fn(&str) -> Option<OsString>) -> Result<NodeEnv, EnvError> {
        let nonempty = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let nodename = match nonempty("HA_NODENAME") {
            Some(v) => v.to_string_lossy().into_owned(),
            None => nix::unistd::gethostname()
                .map_err(|e| EnvError::NoNodeName(e.to_string()))?
                .to_string_lossy()
                .into_owned(),
        };
        if nodename.is_empty() || nodename.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EnvError::Invalid { var: "HA_NODENAME", value: nodename, reason: "contains white space" });
        }
        let dir = |var: &'static str, default: &str| -> Result<PathBuf, EnvError> {
            let Some(v) = nonempty(var) else { return Ok(PathBuf::from(default)) };
            let p = PathBuf::from(v);
            if p.is_relative() {
                let value = p.to_string_lossy().into_owned();
                return Err(EnvError::Invalid { var, value, reason: "must be an absolute path" });
            }
            Ok(p)
        };
        let bindaddr = match nonempty("HA_BINDADDR") {
            None => None,
            Some(v) => {
                let s = v.to_string_lossy().into_owned();
                Some(s.trim().parse().map_err(|_| EnvError::Invalid {
                    var: "HA_BINDADDR",
                    value: s,
                    reason: "not an IPv4 or IPv6 address",
                })?)
            }
        };
        Ok(NodeEnv {
            nodename,
            confdir: dir("HA_CONFDIR", "/etc/ha.d")?,
            varlib: dir("HA_VARLIB", "/var/lib/heartbeat")?,
            rundir: dir("HA_RUNDIR", "/var/run/heartbeat")?,
            bindaddr,
        })
    }

    /// `$HA_RUNDIR/heartbeat.sock`: the client API.
    pub fn api_socket(&self) -> PathBuf {
        self.rundir.join("heartbeat.sock")
    }

    /// `$HA_RUNDIR/heartbeat.pid`.
    pub fn pid_file(&self) -> PathBuf {
        self.rundir.join("heartbeat.pid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_rules() {
        let env = |pairs: &'static [(&str, &str)]| {
            NodeEnv::resolve(move |n| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| OsString::from(v)))
        };
        let e = env(&[("HA_NODENAME", "n1"), ("HA_RUNDIR", "/tmp/r"), ("HA_VARLIB", ""), ("HA_BINDADDR", "127.0.0.2")])
            .unwrap();
        assert_eq!(e.api_socket(), PathBuf::from("/tmp/r/heartbeat.sock"));
        assert_eq!(e.varlib, PathBuf::from("/var/lib/heartbeat"));
        assert_eq!(e.bindaddr, Some("127.0.0.2".parse().unwrap()));
        assert!(env(&[("HA_NODENAME", "n1"), ("HA_RUNDIR", "rel")]).unwrap_err().to_string().contains("HA_RUNDIR"));
        assert!(env(&[("HA_NODENAME", "n1"), ("HA_BINDADDR", "x")]).unwrap_err().to_string().contains("HA_BINDADDR"));
    }
}
