//! What the converter knows about agents: the OCF agents whose `::`
//! arguments it can name (positional argument *i* becomes parameter *i*),
//! and their default monitor operation.
//!
//! The parameter order is the order in which Heartbeat 1.x's resource.d
//! wrappers took their arguments, which is also the order Heartbeat 2.x's
//! converter used; the names are the agents' OCF parameter names.

/// One OCF agent the converter maps arguments for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OcfAgent {
    pub name: &'static str,
    /// Parameter names, in argument order. The last one takes every
    /// remaining argument, joined by spaces.
    pub params: &'static [&'static str],
    /// Monitor (interval, timeout).
    pub monitor: (&'static str, &'static str),
}

/// Addresses are cheap to check and losing one hurts: 5 s / 5 s.
const FAST: (&str, &str) = ("5s", "5s");
/// Everything else: every 2 minutes, 60 s to answer.
const SLOW: (&str, &str) = ("120s", "60s");

/// IP address agents: `ip/bits/nic/broadcast` is one argument, split by
/// [`super::ipaddr`], so only the names matter here.
const IPADDR: &[&str] = &["ip", "cidr_netmask", "nic", "broadcast", "iflabel"];

const AGENTS: &[OcfAgent] = &[
    OcfAgent { name: "IPaddr", params: IPADDR, monitor: FAST },
    OcfAgent { name: "IPaddr2", params: IPADDR, monitor: FAST },
    OcfAgent { name: "IPsrcaddr", params: &["ipaddress"], monitor: FAST },
    OcfAgent { name: "IPv6addr", params: &["ipv6addr"], monitor: FAST },
    OcfAgent { name: "Filesystem", params: &["device", "directory", "fstype", "options"], monitor: SLOW },
    OcfAgent { name: "apache", params: &["configfile", "httpd", "port", "statusurl", "options", "testregex"], monitor: SLOW },
    OcfAgent { name: "AudibleAlarm", params: &["nodelist"], monitor: SLOW },
    OcfAgent { name: "db2", params: &["instance", "admin"], monitor: SLOW },
    OcfAgent { name: "Delay", params: &["startdelay", "stopdelay", "mondelay"], monitor: SLOW },
    OcfAgent { name: "ICP", params: &["driveid", "device"], monitor: SLOW },
    OcfAgent { name: "LinuxSCSI", params: &["scsi"], monitor: SLOW },
    OcfAgent { name: "LVM", params: &["volgrpname"], monitor: SLOW },
    OcfAgent { name: "MailTo", params: &["email", "subject"], monitor: SLOW },
    OcfAgent { name: "oracle", params: &["sid", "home", "user", "ipcrm"], monitor: SLOW },
    OcfAgent { name: "oralsnr", params: &["sid", "home", "user", "listener"], monitor: SLOW },
    OcfAgent { name: "portblock", params: &["protocol", "portno", "action"], monitor: SLOW },
    OcfAgent { name: "Raid1", params: &["raidconf", "raiddev", "homehost"], monitor: SLOW },
    OcfAgent { name: "SendArp", params: &["ip", "nic"], monitor: SLOW },
    OcfAgent { name: "ServeRAID", params: &["serveraid", "mergegroup"], monitor: SLOW },
    OcfAgent { name: "WinPopup", params: &["hostfile"], monitor: SLOW },
    OcfAgent { name: "Xinetd", params: &["service"], monitor: SLOW },
    OcfAgent { name: "Xen", params: &["xmfile"], monitor: SLOW },
];

/// The OCF agent `name` maps to, if the converter knows it.
pub fn ocf(name: &str) -> Option<&'static OcfAgent> {
    AGENTS.iter().find(|a| a.name == name)
}

/// An address agent, whose single argument is `ip/bits/nic/broadcast`.
pub fn is_address_agent(name: &str) -> bool {
    matches!(name, "IPaddr" | "IPaddr2")
}
