//! haresources2cib: a Heartbeat 1.x `haresources` file (with `ha.cf` for
//! the options) turned into a Heartbeat 2.x CIB, as Heartbeat 2.x's
//! `haresources2cib.py` produced it, minus that script's known bugs.
//!
//! ```text
//!  haresources --transport::haresources--> groups ─┐
//!  ha.cf ------transport::hacf-----------> options ├─ convert ──> <cib> (Heartbeat 2.x syntax)
//!  resource.d/, init.d/ (agent classes) ───────────┘             + warnings
//! ```
//!
//! # What a line becomes
//!
//! - `node rsc` (one resource): a primitive; `node rsc1 rsc2 ...`: a
//!   group `group_N`, whose members start left to right and stop right to
//!   left (group order). Either way a location constraint
//!   `rsc_location_<id>` with a rule of score 100 for `#uname eq node`.
//! - Ids and numbering follow the script: a one-resource line takes the
//!   running index (`runjboss.sh_4`), a group takes `group_<k>` with
//!   k = 1, 11, 21, ... and its members are numbered from k; an `IPaddr`
//!   is named by its address (`IPaddr_192_168_0_150`). A trailing `#name`
//!   on the line names the group (or primitive) instead.
//! - Arguments: `IPaddr`/`IPaddr2` (also a bare address) split
//!   `ip/bits/nic/broadcast` into `ip`, `cidr_netmask`, `nic`,
//!   `broadcast` (and `eth0:0` into `nic=eth0`, `iflabel=0`) — never
//!   swapping netmask and nic as the 2.1.3 script did; other known OCF
//!   agents ([`agents`]) name their `::` arguments in order
//!   (`Filesystem::dev::dir::fstype`); anything else keeps them as the
//!   numbered arguments `1`, `2`, ... of a `heartbeat`-class script
//!   (`drbddisk::r0`).
//! - A plain name (`httpd`) is `heartbeat` class when `resource.d` has
//!   it, else `lsb`.
//! - One monitor operation each (5 s / 5 s for addresses, 120 s / 60 s
//!   otherwise), unless monitoring is turned off.
//!
//! The crm_config options are the script's defaults, with
//! `default-resource-stickiness` from `auto_failback` and fencing from
//! `stonith_host` (docs/TOOLS.md says where we differ from the script).

pub mod agents;
pub mod cli;
mod ipaddr;

use std::path::PathBuf;

use cib::{Element, Node};
use transport::hacf::{AutoFailback, HaCf};
use transport::haresources::{self, Resource};

/// How to convert.
#[derive(Debug, Clone)]
pub struct Options {
    /// Map known agents to OCF (`--no-ocf` turns this off: every resource
    /// is then a resource.d script or an init script).
    pub ocf: bool,
    /// Add a monitor operation to every primitive (`--no-monitor`).
    pub monitor: bool,
    /// `$HA_CONFDIR/resource.d`: where `heartbeat`-class scripts live.
    pub resource_d: PathBuf,
    /// Where init scripts live (`/etc/init.d`), only to warn about
    /// names found in neither place.
    pub lsb_dir: PathBuf,
}

/// The converted CIB and what the operator should know about it.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub cib: Element,
    pub warnings: Vec<String>,
}

/// The script's cluster options, in its order. `default-resource-stickiness`
/// and `stonith-enabled` are filled from ha.cf.
const CONFIG_DEFAULTS: &[(&str, &str)] = &[
    ("symmetric-cluster", "true"),
    ("no-quorum-policy", "stop"),
    ("default-resource-stickiness", "0"),
    ("default-resource-failure-stickiness", "0"),
    ("stonith-enabled", "false"),
    ("stonith-action", "reboot"),
    ("startup-fencing", "true"),
    ("stop-orphan-resources", "true"),
    ("stop-orphan-actions", "true"),
    ("remove-after-stop", "false"),
    ("short-resource-names", "true"),
    ("transition-idle-timeout", "5min"),
    ("default-action-timeout", "20s"),
    ("is-managed-default", "true"),
    ("cluster-delay", "60s"),
    ("pe-error-series-max", "-1"),
    ("pe-warn-series-max", "-1"),
    ("pe-input-series-max", "-1"),
];

/// Converts the text of a haresources file.
pub fn convert(haresources_text: &str, hacf: &HaCf, opts: &Options) -> Conversion {
    let mut conv = Converter { opts, warnings: Vec::new() };
    let (groups, diags) = haresources::parse(haresources_text, "haresources");
    conv.warnings.extend(diags.iter().map(ToString::to_string));
    if !hacf.nodes.is_empty() {
        let bad = haresources::check_nodes(&groups, &hacf.nodes, "haresources");
        conv.warnings.extend(bad.iter().map(|d| format!("{d} (not a node of ha.cf)")));
    }

    let mut resources = Element::new("resources");
    let mut constraints = Element::new("constraints");
    // The script's two counters: one-resource lines take `id_index`,
    // groups take `group_index` (stepping by 10) for their members.
    let mut id_index = 1usize;
    let mut group_index = 1usize;
    for group in &groups {
        let mut members: Vec<&Resource> = group.resources.iter().collect();
        let user_id = match members.last() {
            Some(last) if last.text.starts_with('#') && last.text.len() > 1 => {
                let id = last.text[1..].to_string();
                members.pop();
                Some(id)
            }
            _ => None,
        };
        match members.as_slice() {
            [] => conv.warnings.push(format!("haresources:{}: can not parse this line: no resources", group.line)),
            [only] => {
                let (id, prim) = conv.primitive(only, id_index, user_id.as_deref());
                resources.children.push(Node::Element(prim));
                constraints.children.push(Node::Element(location(&id, &group.node)));
                id_index += 1;
            }
            many => {
                let gid = user_id.unwrap_or_else(|| format!("group_{group_index}"));
                let mut g = Element::new("group").with_attr("id", &gid);
                for (n, rsc) in many.iter().enumerate() {
                    g.children.push(Node::Element(conv.primitive(rsc, group_index + n, None).1));
                }
                resources.children.push(Node::Element(g));
                constraints.children.push(Node::Element(location(&gid, &group.node)));
                group_index += 10;
                id_index += many.len() + 1;
            }
        }
    }
    let stonith = conv.stonith_devices(hacf, &mut id_index, &mut resources, &mut constraints);

    let stickiness = match hacf.auto_failback {
        AutoFailback::Off => "INFINITY",
        AutoFailback::On | AutoFailback::Legacy => "0",
    };
    let mut attributes = Element::new("attributes");
    for (name, default) in CONFIG_DEFAULTS {
        let value = match *name {
            "default-resource-stickiness" => stickiness,
            "stonith-enabled" if stonith => "true",
            _ => default,
        };
        attributes.children.push(Node::Element(nvpair(&format!("cib-bootstrap-options-{name}"), name, value)));
    }
    let crm_config = Element::new("crm_config")
        .with_child(Element::new("cluster_property_set").with_attr("id", "cib-bootstrap-options").with_child(attributes));
    let configuration = Element::new("configuration")
        .with_child(crm_config)
        .with_child(Element::new("nodes"))
        .with_child(resources)
        .with_child(constraints);
    let cib = Element::new("cib")
        .with_attr("admin_epoch", "0")
        .with_attr("epoch", "0")
        .with_attr("num_updates", "0")
        .with_child(configuration)
        .with_child(Element::new("status"));
    Conversion { cib, warnings: conv.warnings }
}

struct Converter<'a> {
    opts: &'a Options,
    warnings: Vec<String>,
}

impl Converter<'_> {
    /// One resource of a line, numbered `index` unless it is an address
    /// or the line named it.
    fn primitive(&mut self, rsc: &Resource, index: usize, user_id: Option<&str>) -> (String, Element) {
        let agent = rsc.agent.as_str();
        let ocf = if self.opts.ocf && !rsc.args.is_empty() { agents::ocf(agent) } else { None };
        let id = match user_id {
            Some(id) => id.to_string(),
            None if agent == "IPaddr" && !rsc.args.is_empty() => {
                let ip = rsc.args[0].split('/').next().unwrap_or_default();
                format!("IPaddr_{}", ip.replace('.', "_"))
            }
            None => format!("{agent}_{index}"),
        };

        // Attributes in alphabetical order, as the script's XML writer
        // printed them.
        let mut prim = Element::new("primitive");
        prim.set_attr("class", self.class_of(rsc, ocf.is_some()));
        prim.set_attr("id", &id);
        if ocf.is_some() {
            prim.set_attr("provider", "heartbeat");
        }
        prim.set_attr("type", agent);

        if self.opts.monitor {
            let (interval, timeout) = ocf.map_or(("120s", "60s"), |a| a.monitor);
            let op = Element::new("op")
                .with_attr("id", format!("{id}_mon"))
                .with_attr("interval", interval)
                .with_attr("name", "monitor")
                .with_attr("timeout", timeout);
            prim.children.push(Node::Element(Element::new("operations").with_child(op)));
        }

        let params: Vec<(usize, &str, String)> = match ocf {
            Some(a) if agents::is_address_agent(agent) => {
                if rsc.args.len() > 1 {
                    self.warnings.push(format!("{}: only the first argument of {agent} is used", rsc.text));
                }
                ipaddr::split(&rsc.args[0]).into_iter().map(|(i, v)| (i, a.params[i], v)).collect()
            }
            Some(a) => {
                let mut out = Vec::new();
                for (i, name) in a.params.iter().enumerate().take(rsc.args.len()) {
                    let value = if i + 1 == a.params.len() { rsc.args[i..].join(" ") } else { rsc.args[i].clone() };
                    out.push((i, *name, value));
                }
                out
            }
            None => Vec::new(),
        };
        let mut attributes = Element::new("attributes");
        if ocf.is_some() {
            for (i, name, value) in params {
                attributes.children.push(Node::Element(nvpair(&format!("{id}_attr_{i}"), name, &value)));
            }
        } else {
            // A resource.d script takes its arguments positionally.
            for (i, value) in rsc.args.iter().enumerate() {
                let n = (i + 1).to_string();
                attributes.children.push(Node::Element(nvpair(&format!("{id}_attr_{n}"), &n, value)));
            }
        }
        if attributes.elements().next().is_some() {
            let set = Element::new("instance_attributes").with_attr("id", format!("{id}_inst_attr")).with_child(attributes);
            prim.children.push(Node::Element(set));
        }
        (id, prim)
    }

    /// `ocf` when mapped; otherwise a script with arguments is a
    /// resource.d script, and a plain name is one when resource.d has it,
    /// else an init script.
    fn class_of(&mut self, rsc: &Resource, ocf: bool) -> &'static str {
        if ocf {
            return "ocf";
        }
        let in_resource_d = self.opts.resource_d.join(&rsc.agent).exists();
        if in_resource_d {
            return "heartbeat";
        }
        if !rsc.args.is_empty() {
            self.warnings.push(format!(
                "{}: {} is not in {}; it takes arguments, so it is kept as a heartbeat-class script",
                rsc.text,
                rsc.agent,
                self.opts.resource_d.display()
            ));
            return "heartbeat";
        }
        if !self.opts.lsb_dir.join(&rsc.agent).exists() {
            self.warnings.push(format!(
                "{} is an unknown Resource Agent (neither in {} nor in {}); assuming an init script",
                rsc.agent,
                self.opts.resource_d.display(),
                self.opts.lsb_dir.display()
            ));
        }
        "lsb"
    }

    /// Fencing devices from `stonith_host` lines, as the script laid them
    /// out: `stonith_N` located on the line's host, or cloned on every
    /// node for `*`. Returns whether any device was defined.
    fn stonith_devices(&mut self, hacf: &HaCf, id_index: &mut usize, resources: &mut Element, constraints: &mut Element) -> bool {
        for sh in &hacf.stonith_host {
            let id = format!("stonith_{id_index}");
            let mut prim = Element::new("primitive")
                .with_attr("class", "stonith")
                .with_attr("id", &id)
                .with_attr("type", &sh.kind);
            if self.opts.monitor {
                let ops = Element::new("operations")
                    .with_child(
                        Element::new("op")
                            .with_attr("id", format!("{id}_mon"))
                            .with_attr("interval", "5s")
                            .with_attr("name", "monitor")
                            .with_attr("timeout", "20s"),
                    )
                    .with_child(
                        Element::new("op")
                            .with_attr("id", format!("{id}_start"))
                            .with_attr("interval", "0")
                            .with_attr("name", "start")
                            .with_attr("timeout", "20s"),
                    );
                prim.children.push(Node::Element(ops));
            }
            if !sh.params.trim().is_empty() {
                // The script asked the stonith plugin for its parameter
                // names (`stonith -n -t TYPE`); we do not run plugins here.
                self.warnings.push(format!(
                    "stonith_host {} {}: the parameters \"{}\" need the names {} expects; set them with crm_resource -r {id} -p NAME -v VALUE",
                    sh.host, sh.kind, sh.params, sh.kind
                ));
            }
            if sh.host == "*" {
                let clone_id = format!("clone_{id_index}");
                let meta = Element::new("meta_attributes").with_attr("id", format!("{clone_id}_meta_attrs")).with_child(
                    Element::new("attributes")
                        .with_child(nvpair(&format!("{clone_id}_attr_1"), "clone-max", &hacf.nodes.len().max(1).to_string()))
                        .with_child(nvpair(&format!("{clone_id}_attr_2"), "clone-node-max", "1")),
                );
                let clone = Element::new("clone").with_attr("id", &clone_id).with_child(meta).with_child(prim);
                resources.children.push(Node::Element(clone));
            } else {
                resources.children.push(Node::Element(prim));
                constraints.children.push(Node::Element(location(&id, &sh.host)));
            }
            *id_index += 1;
        }
        !hacf.stonith_host.is_empty()
    }
}

fn nvpair(id: &str, name: &str, value: &str) -> Element {
    Element::new("nvpair").with_attr("id", id).with_attr("name", name).with_attr("value", value)
}

/// The line's preferred node: score 100 for `#uname eq node`.
fn location(rsc: &str, node: &str) -> Element {
    let expr = Element::new("expression")
        .with_attr("attribute", "#uname")
        .with_attr("id", format!("prefered_location_{rsc}_expr"))
        .with_attr("operation", "eq")
        .with_attr("value", node);
    let rule = Element::new("rule").with_attr("id", format!("prefered_location_{rsc}")).with_attr("score", "100").with_child(expr);
    Element::new("rsc_location").with_attr("id", format!("rsc_location_{rsc}")).with_attr("rsc", rsc).with_child(rule)
}
