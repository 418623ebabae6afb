//! Fencing topology (pure): the CIB's `fencing-topology` levels that apply
//! to a target, and the device runs each level stands for.
//!
//! ```text
//!  <fencing-level id index="1" target="n2" devices="ipmi"/>
//!  <fencing-level id index="2" target-pattern="^n[0-9]$" devices="pdu-a,pdu-b"/>
//!  <fencing-level id index="1" target-attribute="rack" target-value="r1" devices="..."/>
//!       -> levels_for("n2") = [1: ipmi], [2: pdu-a, pdu-b]
//!       -> steps(level 2, reboot) = off pdu-a, off pdu-b, on pdu-a, on pdu-b
//! ```
//!
//! Rules (Pacemaker's fencer):
//! - a level applies to a node by name (`target`, case-insensitive), by a
//!   POSIX extended regular expression over its name (`target-pattern`,
//!   unanchored), or by a node attribute of the CIB's `nodes` section
//!   (`target-attribute` = `target-value`);
//! - levels are tried in increasing `index`; the first level whose devices
//!   all succeed ends the fencing; a level fails at its first failed device;
//! - a target with no level is fenced without topology (each capable
//!   device in turn until one succeeds);
//! - a `reboot` through a level of several devices is done as `off` of
//!   every device, then `on` of every device: rebooting them one after the
//!   other would power the node up through the first device while the
//!   second still has to cut it. The `on` runs are best-effort: the node
//!   is already off when they start, which is what fencing must achieve.

use std::collections::BTreeMap;
use std::ffi::CString;

use cib::model::{Cib, FencingLevel, FencingTarget};

/// One level that applies to a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub index: u32,
    pub devices: Vec<String>,
}

/// One device run of a level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub device: String,
    pub action: String,
    /// Whether its failure fails the level (false for the `on` half of a
    /// remapped reboot).
    pub required: bool,
}

/// The configured levels and the node attributes they may refer to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    levels: Vec<FencingLevel>,
    /// uname -> permanent node attributes (the `nodes` section).
    node_attrs: BTreeMap<String, BTreeMap<String, String>>,
}

impl Topology {
    pub fn from_cib(cib: &Cib) -> Topology {
        let node_attrs = cib
            .nodes
            .iter()
            .map(|n| {
                let attrs = n
                    .instance_attributes
                    .iter()
                    .filter(|set| set.rule.is_none())
                    .flat_map(|set| set.pairs.iter())
                    .filter_map(|p| p.value.clone().map(|v| (p.name.clone(), v)))
                    .collect();
                (n.uname.to_ascii_lowercase(), attrs)
            })
            .collect();
        Topology { levels: cib.fencing_topology.clone(), node_attrs }
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// The levels that apply to `target`, in increasing index (levels of
    /// the same index keep document order).
    pub fn levels_for(&self, target: &str) -> Vec<Level> {
        let mut out: Vec<Level> = self
            .levels
            .iter()
            .filter(|l| !l.devices.is_empty() && self.applies(&l.target, target))
            .map(|l| Level { index: l.index, devices: l.devices.clone() })
            .collect();
        out.sort_by_key(|l| l.index);
        out
    }

    fn applies(&self, rule: &FencingTarget, node: &str) -> bool {
        match rule {
            FencingTarget::Node(n) => n.eq_ignore_ascii_case(node),
            FencingTarget::Pattern(p) => posix_match(p, node).unwrap_or_else(|| {
                tracing::warn!("stonithd: invalid target-pattern '{p}' in fencing-topology: ignored");
                false
            }),
            FencingTarget::Attribute { name, value } => self
                .node_attrs
                .get(&node.to_ascii_lowercase())
                .and_then(|a| a.get(name))
                .is_some_and(|v| v == value),
        }
    }
}

/// The device runs of one level for `action`.
pub fn steps(level: &Level, action: &str) -> Vec<Step> {
    let step = |device: &String, action: &str, required: bool| Step {
        device: device.clone(),
        action: action.to_string(),
        required,
    };
    if action == "reboot" && level.devices.len() > 1 {
        let off = level.devices.iter().map(|d| step(d, "off", true));
        let on = level.devices.iter().map(|d| step(d, "on", false));
        off.chain(on).collect()
    } else {
        level.devices.iter().map(|d| step(d, action, true)).collect()
    }
}

/// Whether the POSIX extended regular expression `pattern` matches
/// somewhere in `text` (what Pacemaker's fencer does with
/// `target-pattern`, through the C library's regcomp/regexec); `None`
/// when the pattern does not compile.
pub fn posix_match(pattern: &str, text: &str) -> Option<bool> {
    let (pattern, text) = (CString::new(pattern).ok()?, CString::new(text).ok()?);
    // SAFETY: `re` is initialised by a successful regcomp before regexec
    // uses it and freed exactly once; both strings are NUL-terminated and
    // outlive the calls; no match offsets are asked for (nmatch 0).
    unsafe {
        let mut re: nix::libc::regex_t = std::mem::zeroed();
        if nix::libc::regcomp(&mut re, pattern.as_ptr(), nix::libc::REG_EXTENDED | nix::libc::REG_NOSUB) != 0 {
            return None;
        }
        let rc = nix::libc::regexec(&re, text.as_ptr(), 0, std::ptr::null_mut(), 0);
        nix::libc::regfree(&mut re);
        Some(rc == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cib(levels: &str) -> Cib {
        let text = format!(
            r#"<cib admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config/><nodes><node id="1" uname="n1"><instance_attributes id="n1-a"><nvpair id="n1-r" name="rack" value="r1"/></instance_attributes></node><node id="2" uname="n2"/><node id="3" uname="db3"><instance_attributes id="n3-a"><nvpair id="n3-r" name="rack" value="r2"/></instance_attributes></node></nodes><resources/><constraints/><fencing-topology>{levels}</fencing-topology></configuration><status/></cib>"#
        );
        Cib::from_document(&cib::xml::Document::parse(&text).unwrap()).unwrap()
    }

    fn level(index: u32, devices: &[&str]) -> Level {
        Level { index, devices: devices.iter().map(|d| d.to_string()).collect() }
    }

    #[test]
    fn levels_match_by_name_pattern_and_attribute_in_index_order() {
        let t = Topology::from_cib(&cib(
            r#"<fencing-level id="l3" index="3" target="n1" devices="last"/>
               <fencing-level id="l1" index="1" target="N1" devices="ipmi"/>
               <fencing-level id="l2" index="2" target-pattern="^n[0-9]+$" devices="pdu-a,pdu-b"/>
               <fencing-level id="l4" index="4" target-attribute="rack" target-value="r1" devices="rack1"/>"#,
        ));
        assert_eq!(
            t.levels_for("n1"),
            vec![level(1, &["ipmi"]), level(2, &["pdu-a", "pdu-b"]), level(3, &["last"]), level(4, &["rack1"])]
        );
        assert_eq!(t.levels_for("n2"), vec![level(2, &["pdu-a", "pdu-b"])]);
        assert_eq!(t.levels_for("db3"), vec![], "pattern does not match, rack r2");
        assert!(!t.is_empty());
        assert!(Topology::from_cib(&cib("")).is_empty());
    }

    #[test]
    fn a_bad_pattern_matches_nothing() {
        let t = Topology::from_cib(&cib(r#"<fencing-level id="l" index="1" target-pattern="n[" devices="x"/>"#));
        assert_eq!(t.levels_for("n1"), vec![]);
        assert_eq!(posix_match("n[", "n1"), None);
        assert_eq!(posix_match("1$", "n1"), Some(true));
        assert_eq!(posix_match("^1", "n1"), Some(false));
        assert_eq!(posix_match("(a|n)[0-9]{1,2}", "xn12"), Some(true), "extended syntax, unanchored");
    }

    #[test]
    fn a_reboot_through_several_devices_is_off_then_on() {
        let step = |d: &str, a: &str, required: bool| Step { device: d.into(), action: a.into(), required };
        assert_eq!(steps(&level(1, &["ipmi"]), "reboot"), vec![step("ipmi", "reboot", true)]);
        assert_eq!(
            steps(&level(2, &["a", "b"]), "reboot"),
            vec![step("a", "off", true), step("b", "off", true), step("a", "on", false), step("b", "on", false)]
        );
        assert_eq!(steps(&level(2, &["a", "b"]), "off"), vec![step("a", "off", true), step("b", "off", true)]);
        assert_eq!(steps(&level(2, &["a", "b"]), "on"), vec![step("a", "on", true), step("b", "on", true)]);
    }
}
