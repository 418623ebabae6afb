//! Fence devices and which nodes each can fence. Pure: a device is built
//! from the CIB (a `primitive class="stonith"`) or from an ha.cf line, and
//! answers "can you fence this node?" from its host rules.
//!
//! Host rules (Pacemaker's fencer parameters, removed from what the agent
//! gets):
//! - `pcmk_host_list`: the nodes the device can fence (names separated by
//!   blanks, commas or semicolons);
//! - `pcmk_host_map`: `node:port;node2:port2` — which port (plug) stands
//!   for which node; a mapped node can be fenced;
//! - `pcmk_host_check`: `static-list` (the two above), `dynamic-list` (ask
//!   the agent's `list` action), `none` (any node). The default is
//!   `static-list` when a list or map is given, else `dynamic-list`, as in
//!   Pacemaker 2.1; `status` is read as `dynamic-list` (the runner maps
//!   every non-zero exit of a fence agent to one error, so the "off" exit
//!   code 2 that `status` relies on cannot be told apart);
//! - `pcmk_host_argument`: the agent parameter that names the port
//!   (default `port`; `none` passes none). `nodename` always carries the
//!   target's name.
//! - `pcmk_delay_base` (a duration, or `node:duration;...` per target) and
//!   `pcmk_delay_max`: see [`crate::delay`].
//!
//! Heartbeat's `stonith TYPE FILE` and `stonith_host HOST TYPE VALUES`
//! lines become cluster-glue devices (lrmd's `from_hacf_stonith*`) that
//! ask the plugin for its host list (dynamic-list); `stonith_host`'s HOST
//! (`*` = every node) says on which node the device may run.

use std::collections::BTreeMap;

use cib::model::duration::parse_msec;
use cib::model::{AgentClass as CibClass, Cib};
use cib::op_digest::{is_fence_param, unconditional_only, OpParams};
use lrmd::resource::{AgentClass, ResourceSpec};

/// How a device decides which nodes it can fence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostCheck {
    StaticList,
    DynamicList,
    None,
}

impl HostCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            HostCheck::StaticList => "static-list",
            HostCheck::DynamicList => "dynamic-list",
            HostCheck::None => "none",
        }
    }
}

/// Where a device was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Cib,
    HaCf,
}

/// `pcmk_delay_base`: one delay, or one per target.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DelayBase {
    pub all_ms: u64,
    pub per_node: Vec<(String, u64)>,
}

impl DelayBase {
    /// `5s`, or `n1:1s;n2:5s` (blanks, commas or semicolons between pairs).
    pub fn parse(text: &str) -> DelayBase {
        if !text.contains(':') {
            return DelayBase {
                all_ms: parse_msec(text).unwrap_or(0),
                per_node: Vec::new(),
            };
        }
        let per_node = split_words(text)
            .filter_map(|w| w.split_once(':'))
            .map(|(n, d)| (n.to_string(), parse_msec(d).unwrap_or(0)))
            .collect();
        DelayBase {
            all_ms: 0,
            per_node,
        }
    }

    pub fn for_target(&self, target: &str) -> u64 {
        self.per_node
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(target))
            .map_or(self.all_ms, |(_, d)| *d)
    }
}

/// One fence device as this node's stonithd knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    /// The agent and the parameters it gets (fencer parameters removed).
    pub spec: ResourceSpec,
    pub host_list: Vec<String>,
    /// Node -> port, in the order written.
    pub host_map: Vec<(String, String)>,
    pub host_check: HostCheck,
    /// The agent parameter carrying the port; `None` for `none`.
    pub host_argument: Option<String>,
    pub delay_base: DelayBase,
    pub delay_max_ms: u64,
    pub origin: Origin,
}

/// Whether a device can fence a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capable {
    Yes,
    No,
    /// dynamic-list: the agent's `list` output decides.
    AskList,
}

fn split_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|w| !w.is_empty())
}

/// `pcmk_host_map`: `node:port` or `node=port` pairs separated by blanks or
/// semicolons (a port may be a comma list: `n2:2,3`).
pub fn parse_host_map(text: &str) -> Vec<(String, String)> {
    text.split(|c: char| c.is_whitespace() || c == ';')
        .filter_map(|w| w.split_once([':', '=']))
        .filter(|(n, p)| !n.is_empty() && !p.is_empty())
        .map(|(n, p)| (n.to_string(), p.to_string()))
        .collect()
}

/// The targets in an agent's `list` output: one per line, the text before
/// a comma (fence agents print `port,alias`), or blank-separated words
/// (cluster-glue's `stonith -l`).
pub fn parse_list_output(out: &str) -> Vec<String> {
    let mut v = Vec::new();
    for line in out.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line.split_once(',') {
            Some((port, _)) => v.push(port.trim().to_string()),
            None => v.extend(line.split_whitespace().map(str::to_string)),
        }
    }
    v
}

impl Device {
    /// A device from its configured parameters (`params` as the CIB gives
    /// them: fencer parameters are picked out here).
    pub fn from_params(
        id: &str,
        agent_type: &str,
        params: &BTreeMap<String, String>,
        origin: Origin,
    ) -> Device {
        let get = |n: &str| params.get(n).map(String::as_str).filter(|v| !v.is_empty());
        let host_list: Vec<String> = get("pcmk_host_list")
            .map(|l| split_words(l).map(str::to_string).collect())
            .unwrap_or_default();
        let host_map = get("pcmk_host_map").map(parse_host_map).unwrap_or_default();
        let host_check = match get("pcmk_host_check")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("static-list") => HostCheck::StaticList,
            Some("dynamic-list") | Some("status") => HostCheck::DynamicList,
            Some("none") => HostCheck::None,
            _ if !host_list.is_empty() || !host_map.is_empty() => HostCheck::StaticList,
            _ => HostCheck::DynamicList,
        };
        let host_argument = match get("pcmk_host_argument") {
            Some(a) if a.eq_ignore_ascii_case("none") => None,
            Some(a) => Some(a.to_string()),
            None => Some("port".to_string()),
        };
        let mut spec = ResourceSpec::new(id, AgentClass::Stonith, None, agent_type);
        spec.params = params
            .iter()
            .filter(|(k, _)| !is_fence_param(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Device {
            id: id.to_string(),
            spec,
            host_list,
            host_map,
            host_check,
            host_argument,
            delay_base: get("pcmk_delay_base")
                .map(DelayBase::parse)
                .unwrap_or_default(),
            delay_max_ms: get("pcmk_delay_max").and_then(parse_msec).unwrap_or(0),
            origin,
        }
    }

    /// The port the agent is told for `target`.
    pub fn port_for(&self, target: &str) -> String {
        self.host_map
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(target))
            .map_or_else(|| target.to_string(), |(_, p)| p.clone())
    }

    /// Whether this device can fence `target` by its static rules.
    pub fn capable(&self, target: &str) -> Capable {
        match self.host_check {
            HostCheck::None => Capable::Yes,
            HostCheck::DynamicList => Capable::AskList,
            HostCheck::StaticList => {
                let listed = self
                    .host_list
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(target))
                    || self
                        .host_map
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case(target));
                if listed {
                    Capable::Yes
                } else {
                    Capable::No
                }
            }
        }
    }

    /// dynamic-list: whether the agent's list names the target (or its port).
    pub fn listed(&self, target: &str, list: &[String]) -> bool {
        let port = self.port_for(target);
        list.iter()
            .any(|h| h.eq_ignore_ascii_case(target) || h.eq_ignore_ascii_case(&port))
    }

    /// The parameters of one fence action: the device's, the port under the
    /// host argument, and `nodename`.
    pub fn action_params(&self, target: &str) -> BTreeMap<String, String> {
        let mut p = BTreeMap::new();
        if let Some(arg) = &self.host_argument {
            p.insert(arg.clone(), self.port_for(target));
        }
        p.insert("nodename".to_string(), target.to_string());
        p
    }

    /// `class:type` as logs print it.
    pub fn agent(&self) -> String {
        self.spec.standard_name()
    }
}

/// The stonith primitives of the CIB that may run on `me`: not disabled
/// (`target-role=Stopped`), not banned from `me` by a `-INFINITY`
/// location constraint, and, in an asymmetric cluster, allowed here by a
/// positive one. Location rules are not evaluated (a constraint with
/// rules does not restrict the device).
pub fn devices_from_cib(cib: &Cib, ws: &pengine::WorkingSet, me: &str) -> Vec<Device> {
    let mut out = Vec::new();
    for prim in cib.primitives().filter(|p| p.class == CibClass::Stonith) {
        let disabled = ws
            .resources
            .iter()
            .find(|r| r.xml_id == prim.id)
            .and_then(|r| r.meta.get("target-role"))
            .is_some_and(|r| r.eq_ignore_ascii_case("stopped"));
        if disabled {
            continue;
        }
        let scores: Vec<_> = cib
            .constraints
            .locations
            .iter()
            .filter(|l| l.rsc.as_deref() == Some(prim.id.as_str()) && l.rules.is_empty())
            .filter(|l| {
                l.node
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(me))
            })
            .filter_map(|l| l.score)
            .collect();
        if scores.iter().any(|s| s.is_minus_infinity()) {
            continue;
        }
        if !ws.options.symmetric_cluster && !scores.iter().any(|s| s.value() > 0) {
            continue;
        }
        let params = OpParams::from_model(cib, &prim.id, "monitor", 0, &unconditional_only)
            .map(|p| p.params)
            .unwrap_or_default();
        out.push(Device::from_params(
            &prim.id,
            &prim.agent_type,
            &params,
            Origin::Cib,
        ));
    }
    out
}

/// The devices of ha.cf's `stonith` lines (every node) and of its
/// `stonith_host` lines whose HOST is `me` or `*`. Named
/// `hacf-TYPE-N` (N counts the lines from 1; a `/` in TYPE becomes `_`).
pub fn devices_from_hacf(cf: &transport::hacf::HaCf, me: &str) -> Vec<Device> {
    let name = |kind: &str, n: usize| format!("hacf-{}-{n}", kind.replace('/', "_"));
    let mut out = Vec::new();
    let mut n = 0;
    for s in &cf.stonith {
        n += 1;
        let spec = ResourceSpec::from_hacf_stonith(&name(&s.kind, n), &s.kind, &s.config_file);
        out.push(glue_device(spec));
    }
    for s in &cf.stonith_host {
        n += 1;
        if s.host != "*" && !s.host.eq_ignore_ascii_case(me) {
            continue;
        }
        let spec = ResourceSpec::from_hacf_stonith_host(&name(&s.kind, n), &s.kind, &s.params);
        out.push(glue_device(spec));
    }
    out
}

fn glue_device(spec: ResourceSpec) -> Device {
    Device {
        id: spec.id.clone(),
        spec,
        host_list: Vec::new(),
        host_map: Vec::new(),
        host_check: HostCheck::DynamicList,
        host_argument: Some("port".to_string()),
        delay_base: DelayBase::default(),
        delay_max_ms: 0,
        origin: Origin::HaCf,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn host_rules_and_defaults() {
        let d = Device::from_params(
            "f",
            "fence_x",
            &params(&[("pcmk_host_list", "n1, n2;n3"), ("ip", "1.2.3.4")]),
            Origin::Cib,
        );
        assert_eq!(d.host_check, HostCheck::StaticList);
        assert_eq!(d.capable("N2"), Capable::Yes);
        assert_eq!(d.capable("n4"), Capable::No);
        // Fencer parameters never reach the agent.
        assert_eq!(d.spec.params.keys().collect::<Vec<_>>(), ["ip"]);

        let d = Device::from_params(
            "f",
            "fence_x",
            &params(&[("pcmk_host_map", "n1:plug1;n2=7 n3:3,4")]),
            Origin::Cib,
        );
        assert_eq!(d.host_map.len(), 3);
        assert_eq!(d.port_for("n2"), "7");
        assert_eq!(d.port_for("n9"), "n9");
        assert_eq!(d.capable("n3"), Capable::Yes);
        assert_eq!(
            d.action_params("n1"),
            params(&[("port", "plug1"), ("nodename", "n1")])
        );

        let d = Device::from_params("f", "fence_x", &params(&[]), Origin::Cib);
        assert_eq!(d.host_check, HostCheck::DynamicList);
        assert_eq!(d.capable("n1"), Capable::AskList);
        assert!(d.listed("n1", &parse_list_output("n1,alias1\nn2,alias2\n")));
        assert!(!d.listed("n3", &parse_list_output("n1 n2\n")));

        let d = Device::from_params(
            "f",
            "fence_x",
            &params(&[("pcmk_host_check", "none"), ("pcmk_host_argument", "none")]),
            Origin::Cib,
        );
        assert_eq!(d.capable("anything"), Capable::Yes);
        assert_eq!(d.action_params("n1"), params(&[("nodename", "n1")]));

        let d = Device::from_params(
            "f",
            "fence_x",
            &params(&[
                ("pcmk_host_list", "n1"),
                ("pcmk_host_check", "dynamic-list"),
            ]),
            Origin::Cib,
        );
        assert_eq!(d.capable("n1"), Capable::AskList);
    }

    #[test]
    fn delay_base_alone_or_per_node() {
        assert_eq!(DelayBase::parse("5s").for_target("x"), 5000);
        assert_eq!(DelayBase::parse("250ms").for_target("x"), 250);
        let per = DelayBase::parse("n1:1s;n2:3s");
        assert_eq!(
            (
                per.for_target("n1"),
                per.for_target("N2"),
                per.for_target("n3")
            ),
            (1000, 3000, 0)
        );
        let d = Device::from_params(
            "f",
            "fence_x",
            &params(&[("pcmk_delay_base", "2"), ("pcmk_delay_max", "10s")]),
            Origin::Cib,
        );
        assert_eq!(
            (d.delay_base.for_target("n1"), d.delay_max_ms),
            (2000, 10_000)
        );
    }

    #[test]
    fn hacf_lines_become_glue_devices_placed_by_host() {
        let (cf, _) = transport::hacf::parse(
            "node n1 n2\nstonith baytech /etc/ha.d/conf/stonith.baytech\nstonith_host n2 external/ssh n1 n2\nstonith_host * null n1 n2\n",
            "ha.cf",
        );
        let on_n1 = devices_from_hacf(&cf, "n1");
        let ids: Vec<_> = on_n1.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["hacf-baytech-1", "hacf-null-3"]);
        assert!(on_n1
            .iter()
            .all(|d| d.host_check == HostCheck::DynamicList && d.origin == Origin::HaCf));
        let on_n2: Vec<_> = devices_from_hacf(&cf, "n2")
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(
            on_n2,
            ["hacf-baytech-1", "hacf-external_ssh-2", "hacf-null-3"]
        );
    }

    #[test]
    fn cib_devices_honour_bans_disabling_and_asymmetry() {
        let xml = r#"<cib admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config/><nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources>
 <primitive id="f1" class="stonith" type="fence_a"><instance_attributes id="f1-i"><nvpair id="f1-1" name="pcmk_host_list" value="n2"/><nvpair id="f1-2" name="ip" value="x"/></instance_attributes></primitive>
 <primitive id="f2" class="stonith" type="fence_b"/>
 <primitive id="f3" class="stonith" type="fence_c"><meta_attributes id="f3-m"><nvpair id="f3-m1" name="target-role" value="Stopped"/></meta_attributes></primitive>
 <primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/>
</resources>
<constraints><rsc_location id="l1" rsc="f2" node="n1" score="-INFINITY"/></constraints></configuration><status/></cib>"#;
        let cib = Cib::from_element(&cib::xml::parse_element(xml).unwrap()).unwrap();
        let ws = pengine::unpack(&cib, 0);
        let on = |me: &str| {
            devices_from_cib(&cib, &ws, me)
                .into_iter()
                .map(|d| d.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(on("n1"), ["f1"]);
        assert_eq!(on("n2"), ["f1", "f2"]);
        let f1 = &devices_from_cib(&cib, &ws, "n1")[0];
        assert_eq!(f1.spec.params, params(&[("ip", "x")]));
        assert_eq!(f1.host_list, ["n2"]);
    }
}
