//! What a resource is to lrmd: an id, the agent that manages it, and its
//! instance parameters. The class decides how the agent is found and called
//! (see `agent`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::LrmdError;

/// The agent standards lrmd runs, spelled as the CIB's `class` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentClass {
    /// `$OCF_ROOT/resource.d/PROVIDER/TYPE ACTION`, exit codes as OCF defines them.
    Ocf,
    /// An init script: `/etc/init.d/NAME start|stop|status`.
    Lsb,
    /// A Heartbeat v1 resource.d script: `TYPE [ARG...] start|stop|status`.
    Heartbeat,
    /// A fence-agents style agent: parameters as `name=value` lines on stdin.
    Stonith,
}

impl AgentClass {
    pub const ALL: [AgentClass; 4] = [AgentClass::Ocf, AgentClass::Lsb, AgentClass::Heartbeat, AgentClass::Stonith];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentClass::Ocf => "ocf",
            AgentClass::Lsb => "lsb",
            AgentClass::Heartbeat => "heartbeat",
            AgentClass::Stonith => "stonith",
        }
    }
}

impl fmt::Display for AgentClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AgentClass {
    type Err = LrmdError;
    fn from_str(s: &str) -> Result<Self, LrmdError> {
        AgentClass::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| LrmdError::UnknownClass(s.to_string()))
    }
}

/// A resource as registered with lrmd (the `<primitive>` minus operations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceSpec {
    /// The resource id (`OCF_RESOURCE_INSTANCE`).
    pub id: String,
    pub class: AgentClass,
    /// OCF provider (`heartbeat`, `pacemaker`...); for `lsb`, provider
    /// `heartbeat` selects seed 002's /usr/lib/lsb/resource.d/heartbeat.
    #[serde(default)]
    pub provider: Option<String>,
    /// The agent's name (`Dummy`, `nginx`, `IPaddr`, `fence_xvm`).
    #[serde(rename = "type")]
    pub agent_type: String,
    /// Instance attributes. For class heartbeat the keys "1", "2"... are
    /// the positional arguments, as haresources writes them.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Judge `status` by its output words instead of its exit code, as
    /// Heartbeat v1 (haresources mode) does for LSB scripts.
    #[serde(default)]
    pub status_by_output: bool,
}

impl ResourceSpec {
    pub fn new(id: &str, class: AgentClass, provider: Option<&str>, agent_type: &str) -> ResourceSpec {
        ResourceSpec {
            id: id.to_string(),
            class,
            provider: provider.map(str::to_string),
            agent_type: agent_type.to_string(),
            params: BTreeMap::new(),
            status_by_output: false,
        }
    }

    pub fn with_param(mut self, name: &str, value: &str) -> ResourceSpec {
        self.params.insert(name.to_string(), value.to_string());
        self
    }

    /// A haresources entry such as `IPaddr::192.168.0.150/24/eth0:0` or
    /// `Filesystem::/dev/sdb1::/data::ext3`: the type, then positional
    /// arguments split on `::` (stored as params "1", "2"...). The id is
    /// the whole entry, as Heartbeat v1 names its resources.
    pub fn from_haresources(entry: &str) -> ResourceSpec {
        let mut parts = entry.split("::");
        let agent_type = parts.next().unwrap_or_default();
        let mut spec = ResourceSpec::new(entry, AgentClass::Heartbeat, None, agent_type);
        for (i, arg) in parts.enumerate() {
            spec.params.insert((i + 1).to_string(), arg.to_string());
        }
        spec
    }

    /// A haresources entry resolved the way Heartbeat v1's ResourceManager
    /// finds its scripts (seed 004): `TYPE` in `resource.d` first (class
    /// heartbeat, arguments split on `::`), else in `init.d` (class lsb,
    /// status judged by its output words, as v1 does; an init script takes
    /// no arguments, so they are kept but not passed). Found in neither,
    /// it stays class heartbeat and fails as not installed when run.
    pub fn from_haresources_in(entry: &str, dirs: &crate::agent::AgentDirs) -> ResourceSpec {
        ResourceSpec::from_haresources_with(entry, dirs, |p| p.is_file())
    }

    /// [`ResourceSpec::from_haresources_in`] with the file test given
    /// (pure, for tests).
    pub fn from_haresources_with(
        entry: &str,
        dirs: &crate::agent::AgentDirs,
        exists: impl Fn(&std::path::Path) -> bool,
    ) -> ResourceSpec {
        let mut spec = ResourceSpec::from_haresources(entry);
        let name = spec.agent_type.clone();
        // Only a plain name can be looked up (the agent layer refuses
        // anything else at run time).
        let plain = !name.is_empty() && !name.contains('/') && name != "..";
        if plain && !exists(&dirs.resource_d.join(&name)) && exists(&dirs.init_d.join(&name)) {
            spec.class = AgentClass::Lsb;
            spec.status_by_output = true;
        }
        spec
    }

    /// The device of an ha.cf `stonith TYPE FILE` line (seeds 003/004:
    /// `stonith baytech /etc/ha.d/conf/stonith.baytech`): cluster-glue
    /// plugin TYPE reading its parameter values from FILE (`stonith -F`).
    /// Takes the fields of `transport::hacf::Stonith` (lrmd does not
    /// depend on the messaging layer); the caller names the device.
    pub fn from_hacf_stonith(id: &str, kind: &str, config_file: &str) -> ResourceSpec {
        ResourceSpec::new(id, AgentClass::Stonith, None, kind).with_param(crate::agent::glue::CONFIG_FILE, config_file)
    }

    /// The device of an ha.cf `stonith_host HOST TYPE VALUES...` line
    /// (`stonith_host * baytech 10.0.0.3 mylogin mysecret`): plugin TYPE
    /// with its parameter values in order (`stonith -p`). HOST (a node or
    /// `*`) says where the device may run: the caller's placement, not
    /// part of the device.
    pub fn from_hacf_stonith_host(id: &str, kind: &str, params: &str) -> ResourceSpec {
        ResourceSpec::new(id, AgentClass::Stonith, None, kind).with_param(crate::agent::glue::CONFIG_PARAMS, params)
    }

    /// `class:provider:type` as Pacemaker prints it.
    pub fn standard_name(&self) -> String {
        match &self.provider {
            Some(p) => format!("{}:{}:{}", self.class, p, self.agent_type),
            None => format!("{}:{}", self.class, self.agent_type),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haresources_entries_split_on_double_colon() {
        let s = ResourceSpec::from_haresources("IPaddr::192.168.0.150/24/eth0:0");
        assert_eq!(s.agent_type, "IPaddr");
        assert_eq!(s.params.get("1").map(String::as_str), Some("192.168.0.150/24/eth0:0"));
        assert_eq!(s.params.len(), 1);
        let s = ResourceSpec::from_haresources("Filesystem::/dev/drbd0::/data::ext3");
        assert_eq!(s.agent_type, "Filesystem");
        let args: Vec<_> = s.params.values().cloned().collect();
        assert_eq!(args, ["/dev/drbd0", "/data", "ext3"]);
        let s = ResourceSpec::from_haresources("nginx");
        assert_eq!((s.agent_type.as_str(), s.params.len()), ("nginx", 0));
    }

    #[test]
    fn haresources_names_come_from_resource_d_then_init_d() {
        let dirs = crate::agent::AgentDirs { resource_d: "/ha/resource.d".into(), init_d: "/etc/init.d".into(), ..Default::default() };
        let files = ["/ha/resource.d/IPaddr", "/ha/resource.d/httpd", "/etc/init.d/httpd", "/etc/init.d/nginx"];
        let exists = |p: &std::path::Path| files.iter().any(|f| std::path::Path::new(f) == p);
        let s = ResourceSpec::from_haresources_with("IPaddr::192.168.0.150/24/eth0", &dirs, exists);
        assert_eq!((s.class, s.status_by_output, s.params.len()), (AgentClass::Heartbeat, false, 1));
        // In both: resource.d wins.
        let s = ResourceSpec::from_haresources_with("httpd", &dirs, exists);
        assert_eq!(s.class, AgentClass::Heartbeat);
        let s = ResourceSpec::from_haresources_with("nginx", &dirs, exists);
        assert_eq!((s.class, s.status_by_output, s.id.as_str(), s.agent_type.as_str()), (AgentClass::Lsb, true, "nginx", "nginx"));
        let s = ResourceSpec::from_haresources_with("mysqld", &dirs, exists);
        assert_eq!(s.class, AgentClass::Heartbeat);
    }

    #[test]
    fn hacf_stonith_lines_become_cluster_glue_devices() {
        let s = ResourceSpec::from_hacf_stonith("st-baytech", "baytech", "/etc/ha.d/conf/stonith.baytech");
        assert_eq!((s.class, s.agent_type.as_str()), (AgentClass::Stonith, "baytech"));
        assert_eq!(s.params.get("stonith-config-file").map(String::as_str), Some("/etc/ha.d/conf/stonith.baytech"));
        let s = ResourceSpec::from_hacf_stonith_host("st-any", "external/ssh", "node1 node2");
        assert_eq!(s.agent_type, "external/ssh");
        assert_eq!(s.params.get("stonith-config-params").map(String::as_str), Some("node1 node2"));
    }

    #[test]
    fn class_names_round_trip() {
        for c in AgentClass::ALL {
            assert_eq!(c.as_str().parse::<AgentClass>().unwrap(), c);
        }
        assert!("upstart".parse::<AgentClass>().is_err());
    }
}
