//! haresources mode (`crm no`, Heartbeat 1.x style): the cluster's
//! configuration is generated from `$HA_CONFDIR/haresources` every time the
//! cib daemon starts, and the same engine as `crm yes` runs it
//! (docs/HARESOURCES_MODE.md).
//!
//! ```text
//!  ha.cf + haresources + resource.d/, init.d/
//!      --generate()--> CIB (haresources2cib's conversion: no OCF mapping,
//!                       no monitor operations, rsc_defaults
//!                       multiple-active=stop_unexpected)
//!  stored CIB + generated CIB
//!      --merge()-----> the CIB to run (epoch + 1 when the configuration
//!                       changed; the stored nodes section kept)
//! ```
//!
//! [`generate`] and [`merge`] are pure; [`at_start`] reads the files.
//!
//! Why these choices (the document gives the whole mapping):
//! - **No OCF mapping**: Heartbeat 1.x ran `$HA_CONFDIR/resource.d/NAME`,
//!   then `/etc/init.d/NAME`, whatever the name; an operator's own
//!   `resource.d/Filesystem` must keep running, not the OCF agent of that
//!   name. lrmd runs the `heartbeat` class from resource.d exactly so.
//! - **No monitor operations**: Heartbeat 1.x never watched a service; a
//!   stopped httpd does not move the group (seed 004).
//! - **`multiple-active=stop_unexpected`** in `rsc_defaults`: a double run
//!   found after a split brain heals keeps the copy where the policy wants
//!   it and stops only the other (docs/SPLIT_BRAIN.md).

use std::path::Path;

use anyhow::Context as _;
use cib::env::HaEnv;
use cib::Element;
use tools::haresources2cib::{self, Options};
use transport::hacf::{self, HaCf};
use transport::launcher;

/// Where init scripts are looked up (Heartbeat 1.x's second place).
pub const LSB_DIR: &str = "/etc/init.d";

/// The `rsc_defaults` set the generated configuration carries.
const RSC_DEFAULTS_ID: &str = "haresources-rsc-defaults";

/// A configuration generated from haresources.
#[derive(Debug, Clone)]
pub struct Generated {
    /// A whole CIB (Heartbeat 2.x syntax, as haresources2cib writes it),
    /// versions 0.
    pub cib: Element,
    /// What the conversion found (unknown agents, lines it could not read).
    pub warnings: Vec<String>,
}

/// The CIB that haresources and ha.cf describe: haresources2cib's
/// conversion without OCF mapping and monitors, plus `rsc_defaults`.
pub fn generate(haresources_text: &str, cf: &HaCf, resource_d: &Path, lsb_dir: &Path) -> Generated {
    let opts = Options { ocf: false, monitor: false, resource_d: resource_d.to_path_buf(), lsb_dir: lsb_dir.to_path_buf() };
    let conv = haresources2cib::convert(haresources_text, cf, &opts);
    let mut cib = conv.cib;
    if let Some(config) = cib.child_mut("configuration") {
        let defaults = Element::new("rsc_defaults").with_child(
            Element::new("meta_attributes").with_attr("id", RSC_DEFAULTS_ID).with_child(
                Element::new("attributes").with_child(
                    Element::new("nvpair")
                        .with_attr("id", format!("{RSC_DEFAULTS_ID}-multiple-active"))
                        .with_attr("name", "multiple-active")
                        .with_attr("value", "stop_unexpected"),
                ),
            ),
        );
        // The schema's order: crm_config, rsc_defaults, ..., nodes.
        let at = config.element_position(|e| e.name == "crm_config").map_or(0, |p| p + 1);
        config.insert_element(at, defaults);
    }
    Generated { cib, warnings: conv.warnings }
}

/// The CIB to run: the generated configuration in place of the stored
/// one, keeping what the cluster itself added there (the `nodes` entries
/// crmd writes) and the stored version. `None` when the configuration is
/// already the generated one (nothing to write, no version change);
/// otherwise the epoch is the stored one + 1 and `num_updates` 0, so
/// this copy is newer than the one the cluster ran when this node left.
pub fn merge(stored: &Element, generated: &Element) -> Option<Element> {
    let mut cib = generated.clone();
    let stored_config = stored.child("configuration");
    if let (Some(config), Some(nodes)) = (cib.child_mut("configuration"), stored_config.and_then(|c| c.child("nodes"))) {
        if let Some(at) = config.element_position(|e| e.name == "nodes") {
            config.remove_element(at);
            config.insert_element(at, nodes.clone());
        }
    }
    let same = stored_config.map(Element::to_xml_compact) == cib.child("configuration").map(Element::to_xml_compact);
    if same {
        return None;
    }
    let version = |name: &str| stored.attr(name).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    cib.set_attr("admin_epoch", version("admin_epoch").to_string());
    cib.set_attr("epoch", (version("epoch") + 1).to_string());
    cib.set_attr("num_updates", "0");
    // The run-time status is the cluster's, not the file's.
    if let (Some(status), Some(at)) = (stored.child("status"), cib.element_position(|e| e.name == "status")) {
        cib.remove_element(at);
        cib.insert_element(at, status.clone());
    }
    Some(cib)
}

/// At daemon start: when ha.cf and haresources put this node in
/// haresources mode ([`launcher::haresources_mode`], the same test
/// heartbeat makes to start the CRM), the stored CIB merged with the
/// generated configuration. Returns the CIB to run and whether it changed
/// (and must be written). Outside haresources mode the stored CIB as is.
pub fn at_start(env: &HaEnv, stored: Element) -> anyhow::Result<(Element, bool)> {
    let Ok(cf_text) = std::fs::read_to_string(env.ha_cf()) else {
        return Ok((stored, false));
    };
    let (cf, _) = hacf::parse(&cf_text, &env.ha_cf().display().to_string());
    let path = env.haresources();
    let text = std::fs::read_to_string(&path).ok();
    if !launcher::haresources_mode(&cf, text.as_deref()) {
        return Ok((stored, false));
    }
    let text = text.unwrap_or_default();
    let generated = generate(&text, &cf, &env.resource_d(), Path::new(LSB_DIR));
    for w in &generated.warnings {
        tracing::warn!("haresources mode: {w}");
    }
    let Some(cib) = merge(&stored, &generated.cib) else {
        tracing::info!("haresources mode: the configuration matches {}", path.display());
        return Ok((stored, false));
    };
    let cib = tools::cibadmin::as_pacemaker_loads_it(cib, &tools::cibadmin::schema_valid)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("the configuration generated from {} does not validate", path.display()))?;
    tracing::info!(
        "haresources mode: configuration generated from {} (epoch {})",
        path.display(),
        cib.attr("epoch").unwrap_or("0")
    );
    Ok((cib, true))
}

/// A configuration without its `nodes` section (which crmd owns), in a
/// form two copies compare by.
fn without_nodes(config: &Element) -> String {
    let mut config = config.clone();
    if let Some(at) = config.element_position(|e| e.name == "nodes") {
        config.remove_element(at);
    }
    config.to_xml_compact()
}

/// What the master writes so that the cluster runs a configuration a
/// restarted node generated from its haresources (`proposed`): `None`
/// when `cib` already runs it, else `proposed` with `cib`'s own `nodes`
/// section (node entries are the cluster's, not the file's).
pub fn configuration_to_write(cib: &Element, proposed: &Element) -> Option<Element> {
    let current = cib.child("configuration");
    if current.map(without_nodes) == Some(without_nodes(proposed)) {
        return None;
    }
    let mut config = proposed.clone();
    if let (Some(nodes), Some(at)) =
        (current.and_then(|c| c.child("nodes")), config.element_position(|e| e.name == "nodes"))
    {
        config.remove_element(at);
        config.insert_element(at, nodes.clone());
    }
    Some(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::{Document, Node};

    const SEED_000: &str = "n1 IPaddr::10.213.0.100/24/eth0 httpd\n";

    fn cf(extra: &str) -> HaCf {
        let (cf, _) = hacf::parse(&format!("bcast eth0\nnode n1 n2\n{extra}"), "ha.cf");
        cf
    }

    fn dirs() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("resource.d")).unwrap();
        std::fs::create_dir_all(d.path().join("init.d")).unwrap();
        std::fs::write(d.path().join("resource.d/IPaddr"), "#!/bin/sh\n").unwrap();
        std::fs::write(d.path().join("init.d/httpd"), "#!/bin/sh\n").unwrap();
        d
    }

    fn gen(text: &str, cf: &HaCf) -> Generated {
        let d = dirs();
        generate(text, cf, &d.path().join("resource.d"), &d.path().join("init.d"))
    }

    fn option(cib: &Element, name: &str) -> Option<String> {
        cib.descendants().find(|e| e.name == "nvpair" && e.attr("name") == Some(name)).and_then(|e| e.attr("value").map(str::to_string))
    }

    #[test]
    fn seed_000_is_a_group_of_v1_scripts_without_monitors() {
        let g = gen(SEED_000, &cf("auto_failback on\n"));
        assert!(g.warnings.is_empty(), "{:?}", g.warnings);
        let cib = &g.cib;
        let group = cib.descendants().find(|e| e.name == "group").expect("a group");
        let prims: Vec<(&str, &str, &str)> = group
            .children_named("primitive")
            .map(|p| (p.attr("id").unwrap(), p.attr("class").unwrap(), p.attr("type").unwrap()))
            .collect();
        // resource.d first, then init.d; never the OCF agent of that name.
        assert_eq!(prims, [("IPaddr_10_213_0_100", "heartbeat", "IPaddr"), ("httpd_2", "lsb", "httpd")]);
        let ip = group.children_named("primitive").next().unwrap();
        let arg = ip.descendants().find(|e| e.name == "nvpair").unwrap();
        assert_eq!((arg.attr("name"), arg.attr("value")), (Some("1"), Some("10.213.0.100/24/eth0")));
        assert!(cib.descendants().all(|e| e.name != "op"), "no monitor operations in v1 mode");
        // The line's node is preferred (100); auto_failback on: no stickiness.
        let rule = cib.descendants().find(|e| e.name == "rule").unwrap();
        assert_eq!(rule.attr("score"), Some("100"));
        assert_eq!(cib.descendants().find(|e| e.name == "expression").unwrap().attr("value"), Some("n1"));
        assert_eq!(option(cib, "default-resource-stickiness").as_deref(), Some("0"));
        assert_eq!(option(cib, "multiple-active").as_deref(), Some("stop_unexpected"));
        // Valid in its dialect, and the scheduler reads it.
        let doc = Document::new(cib.clone());
        let report = schemas::validate(&doc);
        assert!(report.is_valid(), "{report:?}\n{}", cib.to_xml());
        let model = cib::model::Cib::from_document(&doc).unwrap();
        assert_eq!(model.rsc_defaults.len(), 1);
        assert_eq!(pengine::unpack(&model, 0).top_level.len(), 1);
    }

    #[test]
    fn auto_failback_maps_to_stickiness() {
        let stickiness = |extra: &str| option(&gen(SEED_000, &cf(extra)).cib, "default-resource-stickiness");
        assert_eq!(stickiness("auto_failback on\n").as_deref(), Some("0"));
        assert_eq!(stickiness("auto_failback off\n").as_deref(), Some("INFINITY"));
        assert_eq!(stickiness("auto_failback legacy\n").as_deref(), Some("0"));
        // Heartbeat's default is legacy.
        assert_eq!(stickiness("").as_deref(), Some("0"));
    }

    #[test]
    fn merge_keeps_nodes_and_status_and_bumps_the_epoch_only_on_change() {
        let g = gen(SEED_000, &cf("auto_failback on\n")).cib;
        let mut stored = tools::cibadmin::ops::empty_cib(0);
        stored.set_attr("admin_epoch", "2");
        stored.set_attr("epoch", "7");
        stored.set_attr("num_updates", "4");
        stored
            .child_mut("configuration")
            .unwrap()
            .child_mut("nodes")
            .unwrap()
            .children
            .push(Node::Element(Element::new("node").with_attr("id", "n1").with_attr("uname", "n1").with_attr("type", "normal")));
        stored.child_mut("status").unwrap().children.push(Node::Element(Element::new("node_state").with_attr("id", "n1")));

        let merged = merge(&stored, &g).expect("a changed configuration");
        assert_eq!((merged.attr("admin_epoch"), merged.attr("epoch"), merged.attr("num_updates")), (Some("2"), Some("8"), Some("0")));
        assert!(merged.find("node", "n1").is_some(), "stored nodes kept");
        assert!(merged.find("node_state", "n1").is_some(), "status kept");
        assert!(merged.find("group", "group_1").is_some());
        // The same haresources again: nothing to do.
        assert!(merge(&merged, &g).is_none());
        // A changed file: a newer copy again.
        let g2 = gen("n2 IPaddr::10.213.0.100/24/eth0 httpd\n", &cf("auto_failback on\n")).cib;
        let again = merge(&merged, &g2).expect("changed");
        assert_eq!(again.attr("epoch"), Some("9"));
    }

    #[test]
    fn at_start_only_in_haresources_mode() {
        let d = dirs();
        let env = HaEnv::resolve(|k| match k {
            "HA_NODENAME" => Some("n1".into()),
            "HA_CONFDIR" => Some(d.path().as_os_str().to_owned()),
            "HA_VARLIB" => Some(d.path().join("var").into_os_string()),
            "HA_RUNDIR" => Some(d.path().join("run").into_os_string()),
            "HA_RSCTMP" => Some(d.path().join("tmp").into_os_string()),
            _ => None,
        })
        .unwrap();
        let stored = tools::cibadmin::ops::empty_cib(0);
        // No ha.cf: untouched.
        assert!(!at_start(&env, stored.clone()).unwrap().1);
        std::fs::write(d.path().join("ha.cf"), "bcast eth0\nnode n1 n2\nauto_failback off\n").unwrap();
        // No haresources, or an empty one: untouched.
        assert!(!at_start(&env, stored.clone()).unwrap().1);
        std::fs::write(d.path().join("haresources"), "# none\n").unwrap();
        assert!(!at_start(&env, stored.clone()).unwrap().1);
        // crm no (the default) with a group: generated.
        std::fs::write(d.path().join("haresources"), SEED_000).unwrap();
        let (cib, changed) = at_start(&env, stored.clone()).unwrap();
        assert!(changed);
        assert_eq!(option(&cib, "default-resource-stickiness").as_deref(), Some("INFINITY"));
        assert!(!at_start(&env, cib.clone()).unwrap().1, "regenerating the same file changes nothing");
        // crm yes: cib.xml is the operator's.
        std::fs::write(d.path().join("ha.cf"), "bcast eth0\nnode n1 n2\ncrm yes\n").unwrap();
        assert!(!at_start(&env, stored).unwrap().1);
    }
}
