//! Resources: primitives, groups, clones (and Heartbeat/Pacemaker 1.x
//! master/slave sets), bundles, and the templates primitives inherit from.
//!
//! A primitive that names a `template` is presented already expanded, as
//! Pacemaker expands it: class, provider and type come from the template;
//! its nvsets are the template's followed by its own (so its own win
//! ties, see [`super::nvset::by_precedence`]); its operations are
//! its own plus those of the template's that it does not override (same
//! name and role).
//!
//! Heartbeat 2.x also wrote meta-attributes as XML attributes on the
//! resource element (`<group id="g" resource_stickiness="100">`); Pacemaker
//! still reads them, with precedence over `meta_attributes` sets. They
//! are kept in `element_meta`.

use super::error::ModelError;
use super::nvset::{NvSet, NvSetKind};
use super::read::{first_attr, opt_string, parse_bool, required, required_id, Reader};
use super::role::Role;
use crate::xml::Element;

/// A resource of the `<resources>` section (or inside a group, clone or
/// bundle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Primitive(Primitive),
    Group(Group),
    Clone(CloneResource),
    /// Boxed: a bundle is much larger than the other variants.
    Bundle(Box<Bundle>),
}

/// The agent standard of a primitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AgentClass {
    Ocf,
    Lsb,
    /// Heartbeat 1.x resource.d scripts.
    Heartbeat,
    Stonith,
    Service,
    Systemd,
    Upstart,
    Nagios,
    Other(String),
}

impl AgentClass {
    pub fn parse(text: &str) -> AgentClass {
        match text {
            "ocf" => AgentClass::Ocf,
            "lsb" => AgentClass::Lsb,
            "heartbeat" => AgentClass::Heartbeat,
            "stonith" => AgentClass::Stonith,
            "service" => AgentClass::Service,
            "systemd" => AgentClass::Systemd,
            "upstart" => AgentClass::Upstart,
            "nagios" => AgentClass::Nagios,
            other => AgentClass::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            AgentClass::Ocf => "ocf",
            AgentClass::Lsb => "lsb",
            AgentClass::Heartbeat => "heartbeat",
            AgentClass::Stonith => "stonith",
            AgentClass::Service => "service",
            AgentClass::Systemd => "systemd",
            AgentClass::Upstart => "upstart",
            AgentClass::Nagios => "nagios",
            AgentClass::Other(s) => s,
        }
    }
}

/// `<primitive>` (template already applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Primitive {
    pub id: String,
    pub line: u32,
    pub class: AgentClass,
    /// OCF provider (`heartbeat`, `pacemaker`...).
    pub provider: Option<String>,
    /// The agent (`type` attribute).
    pub agent_type: String,
    /// The template this primitive was expanded from.
    pub template: Option<String>,
    pub description: Option<String>,
    pub instance_attributes: Vec<NvSet>,
    pub meta_attributes: Vec<NvSet>,
    pub utilization: Vec<NvSet>,
    pub operations: Vec<Operation>,
    /// Meta-attributes written as XML attributes (Heartbeat 2.x style).
    pub element_meta: Vec<(String, String)>,
}

/// `<template>`: a primitive skeleton.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub id: String,
    pub line: u32,
    pub class: AgentClass,
    pub provider: Option<String>,
    pub agent_type: String,
    pub description: Option<String>,
    pub instance_attributes: Vec<NvSet>,
    pub meta_attributes: Vec<NvSet>,
    pub utilization: Vec<NvSet>,
    pub operations: Vec<Operation>,
}

/// `<group>`: primitives started in order on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub line: u32,
    pub description: Option<String>,
    pub instance_attributes: Vec<NvSet>,
    pub meta_attributes: Vec<NvSet>,
    pub element_meta: Vec<(String, String)>,
    pub children: Vec<Primitive>,
}

/// Which element a clone was written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloneElement {
    /// `<clone>` (promotable when its `promotable` meta-attribute is true).
    Clone,
    /// Pacemaker 1.x `<master>`: always promotable.
    Master,
    /// Heartbeat 2.x `<master_slave>`: always promotable.
    MasterSlave,
}

/// `<clone>`, `<master>` or `<master_slave>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloneResource {
    pub id: String,
    pub line: u32,
    pub element: CloneElement,
    pub description: Option<String>,
    pub instance_attributes: Vec<NvSet>,
    pub meta_attributes: Vec<NvSet>,
    pub element_meta: Vec<(String, String)>,
    /// The cloned primitive or group.
    pub child: Box<Resource>,
}

/// `<bundle>`: a resource in containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub id: String,
    pub line: u32,
    pub description: Option<String>,
    pub runtime: Option<BundleRuntime>,
    pub network: Option<BundleNetwork>,
    pub storage: Vec<StorageMapping>,
    pub primitive: Option<Primitive>,
    pub instance_attributes: Vec<NvSet>,
    pub meta_attributes: Vec<NvSet>,
    pub utilization: Vec<NvSet>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Docker,
    Podman,
    Rkt,
}

/// `<docker>`, `<podman>` or `<rkt>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRuntime {
    pub kind: ContainerKind,
    pub line: u32,
    pub image: String,
    pub replicas: Option<u32>,
    pub replicas_per_host: Option<u32>,
    /// `promoted-max` (older: `masters`).
    pub promoted_max: Option<u32>,
    pub run_command: Option<String>,
    pub network: Option<String>,
    pub options: Option<String>,
}

/// `<network>` of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleNetwork {
    pub line: u32,
    pub ip_range_start: Option<String>,
    pub control_port: Option<u16>,
    pub host_interface: Option<String>,
    pub host_netmask: Option<u8>,
    pub add_host: Option<bool>,
    pub port_mappings: Vec<PortMapping>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub id: String,
    pub line: u32,
    pub port: Option<u16>,
    pub internal_port: Option<u16>,
    /// `first-last`, as written.
    pub range: Option<String>,
}

/// `<storage-mapping>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageMapping {
    pub id: String,
    pub line: u32,
    pub source_dir: Option<String>,
    pub source_dir_root: Option<String>,
    pub target_dir: String,
    pub options: Option<String>,
}

/// `<op>`: one configured operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub id: String,
    pub line: u32,
    /// start, stop, monitor, promote, demote, notify, migrate_to...
    pub name: String,
    /// 0 for a one-shot operation.
    pub interval_ms: u64,
    /// `interval-origin`, an ISO 8601 date-time, as written.
    pub interval_origin: Option<String>,
    pub timeout_ms: Option<u64>,
    /// `start-delay` (Heartbeat: `start_delay`).
    pub start_delay_ms: Option<u64>,
    pub role: Option<Role>,
    /// `on-fail` (Heartbeat: `on_fail`).
    pub on_fail: Option<OnFail>,
    /// `enabled`; Heartbeat wrote `disabled`, read here inverted.
    pub enabled: Option<bool>,
    pub record_pending: Option<bool>,
    /// `requires` (Heartbeat: `prereq`).
    pub requires: Option<Requires>,
    pub description: Option<String>,
    pub instance_attributes: Vec<NvSet>,
    pub meta_attributes: Vec<NvSet>,
}

/// What to do when an operation fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFail {
    /// `ignore` (Heartbeat also said `nothing`).
    Ignore,
    Block,
    Demote,
    Stop,
    Restart,
    Standby,
    Fence,
    RestartContainer,
}

impl OnFail {
    pub fn parse(text: &str) -> Option<OnFail> {
        Some(match text.to_ascii_lowercase().as_str() {
            "ignore" | "nothing" => OnFail::Ignore,
            "block" => OnFail::Block,
            "demote" => OnFail::Demote,
            "stop" => OnFail::Stop,
            "restart" => OnFail::Restart,
            "standby" => OnFail::Standby,
            "fence" => OnFail::Fence,
            "restart-container" => OnFail::RestartContainer,
            _ => return None,
        })
    }
}

/// What an action needs before it may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requires {
    Nothing,
    Quorum,
    Fencing,
    Unfencing,
}

impl Requires {
    pub fn parse(text: &str) -> Option<Requires> {
        Some(match text.to_ascii_lowercase().as_str() {
            "nothing" => Requires::Nothing,
            "quorum" => Requires::Quorum,
            "fencing" => Requires::Fencing,
            "unfencing" => Requires::Unfencing,
            _ => return None,
        })
    }
}

/// XML attributes that are structure, not meta-attributes.
const STRUCTURAL: &[&str] = &["id", "class", "provider", "type", "template", "description", "id-ref"];

fn element_meta(el: &Element) -> Vec<(String, String)> {
    el.attrs().filter(|(k, _)| !STRUCTURAL.contains(k)).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

impl Resource {
    /// Reads a resource element; `None` for elements that are not
    /// resources (`template`, unknown extensions).
    pub(crate) fn read<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Option<Resource>, ModelError> {
        Ok(Some(match el.name.as_str() {
            "primitive" => Resource::Primitive(Primitive::read(r, el)?),
            "group" => Resource::Group(Group::read(r, el)?),
            "clone" => Resource::Clone(CloneResource::read(r, el, CloneElement::Clone)?),
            "master" => Resource::Clone(CloneResource::read(r, el, CloneElement::Master)?),
            "master_slave" => Resource::Clone(CloneResource::read(r, el, CloneElement::MasterSlave)?),
            "bundle" => Resource::Bundle(Box::new(Bundle::read(r, el)?)),
            _ => return Ok(None),
        }))
    }

    pub fn id(&self) -> &str {
        match self {
            Resource::Primitive(p) => &p.id,
            Resource::Group(g) => &g.id,
            Resource::Clone(c) => &c.id,
            Resource::Bundle(b) => &b.id,
        }
    }

    pub fn line(&self) -> u32 {
        match self {
            Resource::Primitive(p) => p.line,
            Resource::Group(g) => g.line,
            Resource::Clone(c) => c.line,
            Resource::Bundle(b) => b.line,
        }
    }

    pub fn meta_attributes(&self) -> &[NvSet] {
        match self {
            Resource::Primitive(p) => &p.meta_attributes,
            Resource::Group(g) => &g.meta_attributes,
            Resource::Clone(c) => &c.meta_attributes,
            Resource::Bundle(b) => &b.meta_attributes,
        }
    }

    pub fn instance_attributes(&self) -> &[NvSet] {
        match self {
            Resource::Primitive(p) => &p.instance_attributes,
            Resource::Group(g) => &g.instance_attributes,
            Resource::Clone(c) => &c.instance_attributes,
            Resource::Bundle(b) => &b.instance_attributes,
        }
    }

    /// Every primitive in this resource, depth first in document order.
    pub fn primitives(&self) -> Vec<&Primitive> {
        let mut out = Vec::new();
        self.collect_primitives(&mut out);
        out
    }

    fn collect_primitives<'s>(&'s self, out: &mut Vec<&'s Primitive>) {
        match self {
            Resource::Primitive(p) => out.push(p),
            Resource::Group(g) => out.extend(g.children.iter()),
            Resource::Clone(c) => c.child.collect_primitives(out),
            Resource::Bundle(b) => out.extend(b.primitive.iter()),
        }
    }

    /// This resource or a descendant with this id.
    pub fn find(&self, id: &str) -> Option<&Resource> {
        if self.id() == id {
            return Some(self);
        }
        match self {
            Resource::Clone(c) => c.child.find(id),
            _ => None,
        }
    }
}

impl Primitive {
    pub(crate) fn read<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Primitive, ModelError> {
        let id = required_id(el)?;
        let template_id = el.attr("template");
        let template = match template_id {
            None => None,
            Some(t) => Some(r.find("template", t).ok_or_else(|| ModelError::UnknownTemplate {
                resource: id.clone(),
                template: t.to_string(),
                line: el.line,
            })?),
        };
        // Agent identity and element meta come from the template when
        // there is one (Pacemaker copies the template element).
        let source = template.unwrap_or(el);
        let class = first_attr(source, &["class"])
            .or_else(|| el.attr("class"))
            .map(AgentClass::parse)
            .ok_or_else(|| ModelError::MissingAttribute { element: el.name.clone(), attribute: "class", line: el.line })?;
        let agent_type = first_attr(source, &["type"])
            .or_else(|| el.attr("type"))
            .map(str::to_string)
            .ok_or_else(|| ModelError::MissingAttribute { element: el.name.clone(), attribute: "type", line: el.line })?;
        let provider = first_attr(source, &["provider"]).or_else(|| el.attr("provider")).map(str::to_string);

        let mut sets = |kind| -> Result<Vec<NvSet>, ModelError> {
            let mut v = match template {
                Some(t) => NvSet::read_all(r, kind, t)?,
                None => Vec::new(),
            };
            v.extend(NvSet::read_all(r, kind, el)?);
            Ok(v)
        };
        let instance_attributes = sets(NvSetKind::Instance)?;
        let meta_attributes = sets(NvSetKind::Meta)?;
        let utilization = sets(NvSetKind::Utilization)?;

        let own_ops = read_operations(r, el)?;
        let operations = match (template, own_ops) {
            (None, ops) => ops.unwrap_or_default(),
            (Some(t), None) => read_operations(r, t)?.unwrap_or_default(),
            (Some(t), Some(mut ops)) => {
                let keys: Vec<(String, Role)> = ops.iter().map(template_op_key).collect();
                for op in read_operations(r, t)?.unwrap_or_default() {
                    if !keys.contains(&template_op_key(&op)) {
                        ops.push(op);
                    }
                }
                ops
            }
        };
        Ok(Primitive {
            id,
            line: el.line,
            class,
            provider,
            agent_type,
            template: template_id.map(str::to_string),
            description: opt_string(el, &["description"]),
            instance_attributes,
            meta_attributes,
            utilization,
            operations,
            element_meta: element_meta(source),
        })
    }
}

/// Pacemaker matches a template's operation against the primitive's by
/// name and role, counting no role, Started and Unpromoted as the same.
fn template_op_key(op: &Operation) -> (String, Role) {
    let role = match op.role {
        None | Some(Role::Started) | Some(Role::Unpromoted) => Role::Unknown,
        Some(other) => other,
    };
    (op.name.clone(), role)
}

/// The operations of the first `<operations>` child (following
/// `id-ref`); `None` when there is no such child.
fn read_operations<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Option<Vec<Operation>>, ModelError> {
    let Some(written) = el.child("operations") else { return Ok(None) };
    let (ops, _) = r.resolve(written)?;
    ops.children_named("op").map(|op| Operation::read(r, op)).collect::<Result<Vec<_>, _>>().map(Some)
}

impl Operation {
    fn read<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Operation, ModelError> {
        let enabled = match el.attr("enabled") {
            Some(_) => r.bool_attr(el, &["enabled"]),
            None => el.attr("disabled").map(|d| !parse_bool(d).unwrap_or(false)),
        };
        Ok(Operation {
            id: super::read::id_or_empty(el),
            line: el.line,
            name: required(el, &["name"])?,
            interval_ms: r.interval_attr(el, &["interval"]),
            interval_origin: opt_string(el, &["interval-origin"]),
            timeout_ms: r.msec_attr(el, &["timeout"]),
            start_delay_ms: r.msec_attr(el, &["start-delay", "start_delay"]),
            role: r.enum_attr(el, &["role"], Role::parse, "a role"),
            on_fail: r.enum_attr(el, &["on-fail", "on_fail"], OnFail::parse, "an on-fail policy"),
            enabled,
            record_pending: r.bool_attr(el, &["record-pending"]),
            requires: r.enum_attr(el, &["requires", "prereq"], Requires::parse, "nothing, quorum, fencing or unfencing"),
            description: opt_string(el, &["description"]),
            instance_attributes: NvSet::read_all(r, NvSetKind::Instance, el)?,
            meta_attributes: NvSet::read_all(r, NvSetKind::Meta, el)?,
        })
    }
}

impl Template {
    pub(crate) fn read<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Template, ModelError> {
        Ok(Template {
            id: required_id(el)?,
            line: el.line,
            class: AgentClass::parse(&required(el, &["class"])?),
            provider: opt_string(el, &["provider"]),
            agent_type: required(el, &["type"])?,
            description: opt_string(el, &["description"]),
            instance_attributes: NvSet::read_all(r, NvSetKind::Instance, el)?,
            meta_attributes: NvSet::read_all(r, NvSetKind::Meta, el)?,
            utilization: NvSet::read_all(r, NvSetKind::Utilization, el)?,
            operations: read_operations(r, el)?.unwrap_or_default(),
        })
    }
}

impl Group {
    fn read<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Group, ModelError> {
        Ok(Group {
            id: required_id(el)?,
            line: el.line,
            description: opt_string(el, &["description"]),
            instance_attributes: NvSet::read_all(r, NvSetKind::Instance, el)?,
            meta_attributes: NvSet::read_all(r, NvSetKind::Meta, el)?,
            element_meta: element_meta(el),
            children: el.children_named("primitive").map(|p| Primitive::read(r, p)).collect::<Result<_, _>>()?,
        })
    }
}

impl CloneResource {
    fn read<'a>(r: &mut Reader<'a>, el: &'a Element, element: CloneElement) -> Result<CloneResource, ModelError> {
        let id = required_id(el)?;
        let child_el = el.elements().find(|c| c.name == "primitive" || c.name == "group").ok_or_else(|| {
            ModelError::MissingChild { element: el.name.clone(), id: id.clone(), child: "primitive or group", line: el.line }
        })?;
        let child = Resource::read(r, child_el)?.expect("primitive or group is a resource");
        Ok(CloneResource {
            id,
            line: el.line,
            element,
            description: opt_string(el, &["description"]),
            instance_attributes: NvSet::read_all(r, NvSetKind::Instance, el)?,
            meta_attributes: NvSet::read_all(r, NvSetKind::Meta, el)?,
            element_meta: element_meta(el),
            child: Box::new(child),
        })
    }

    /// Whether instances can be promoted: a `master`/`master_slave`
    /// element, or `promotable=true` in an unconditional meta-attribute
    /// set (or as an XML attribute).
    pub fn is_promotable(&self) -> bool {
        if self.element != CloneElement::Clone {
            return true;
        }
        let in_sets = self
            .meta_attributes
            .iter()
            .filter(|s| s.is_unconditional())
            .flat_map(|s| s.pairs.iter())
            .find(|p| p.name == "promotable")
            .and_then(|p| p.value.as_deref());
        let in_element = self.element_meta.iter().find(|(k, _)| k == "promotable").map(|(_, v)| v.as_str());
        in_element.or(in_sets).and_then(parse_bool).unwrap_or(false)
    }
}

impl Bundle {
    fn read<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Bundle, ModelError> {
        let mut runtime = None;
        for (name, kind) in [("docker", ContainerKind::Docker), ("podman", ContainerKind::Podman), ("rkt", ContainerKind::Rkt)] {
            if let Some(c) = el.child(name) {
                runtime = Some(BundleRuntime {
                    kind,
                    line: c.line,
                    image: required(c, &["image"])?,
                    replicas: r.int_attr(c, &["replicas"]),
                    replicas_per_host: r.int_attr(c, &["replicas-per-host"]),
                    promoted_max: r.int_attr(c, &["promoted-max", "masters"]),
                    run_command: opt_string(c, &["run-command"]),
                    network: opt_string(c, &["network"]),
                    options: opt_string(c, &["options"]),
                });
                break;
            }
        }
        let network = el.child("network").map(|n| BundleNetwork {
                line: n.line,
                ip_range_start: opt_string(n, &["ip-range-start"]),
                control_port: r.int_attr(n, &["control-port"]),
                host_interface: opt_string(n, &["host-interface"]),
                host_netmask: r.int_attr(n, &["host-netmask"]),
                add_host: r.bool_attr(n, &["add-host"]),
                port_mappings: n
                    .children_named("port-mapping")
                    .map(|m| PortMapping {
                        id: super::read::id_or_empty(m),
                        line: m.line,
                        port: r.int_attr(m, &["port"]),
                        internal_port: r.int_attr(m, &["internal-port"]),
                        range: opt_string(m, &["range"]),
                    })
                    .collect(),
            });
        let storage = match el.child("storage") {
            None => Vec::new(),
            Some(s) => s
                .children_named("storage-mapping")
                .map(|m| {
                    Ok(StorageMapping {
                        id: super::read::id_or_empty(m),
                        line: m.line,
                        source_dir: opt_string(m, &["source-dir"]),
                        source_dir_root: opt_string(m, &["source-dir-root"]),
                        target_dir: required(m, &["target-dir"])?,
                        options: opt_string(m, &["options"]),
                    })
                })
                .collect::<Result<_, ModelError>>()?,
        };
        Ok(Bundle {
            id: required_id(el)?,
            line: el.line,
            description: opt_string(el, &["description"]),
            runtime,
            network,
            storage,
            primitive: el.child("primitive").map(|p| Primitive::read(r, p)).transpose()?,
            instance_attributes: NvSet::read_all(r, NvSetKind::Instance, el)?,
            meta_attributes: NvSet::read_all(r, NvSetKind::Meta, el)?,
            utilization: NvSet::read_all(r, NvSetKind::Utilization, el)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_element;

    fn resources(xml: &str) -> Result<Vec<Resource>, ModelError> {
        let root = parse_element(xml).unwrap();
        let mut r = Reader::new(&root);
        let mut out = Vec::new();
        for el in root.elements() {
            if let Some(res) = Resource::read(&mut r, el)? {
                out.push(res);
            }
        }
        Ok(out)
    }

    #[test]
    fn template_expansion_merges_as_pacemaker_does() {
        let res = resources(
            r#"<resources>
                 <template id="tpl" class="ocf" provider="heartbeat" type="Dummy" is-managed="false">
                   <instance_attributes id="tpl-ia"><nvpair id="t1" name="state" value="/tmp/t"/></instance_attributes>
                   <operations>
                     <op id="t-mon" name="monitor" interval="10s" timeout="20s"/>
                     <op id="t-mon-m" name="monitor" interval="5s" role="Master"/>
                     <op id="t-start" name="start" interval="0" timeout="60s"/>
                   </operations>
                 </template>
                 <primitive id="p" template="tpl">
                   <instance_attributes id="p-ia"><nvpair id="p1" name="fake" value="1"/></instance_attributes>
                   <operations><op id="p-mon" name="monitor" interval="30s" role="Started"/></operations>
                 </primitive>
               </resources>"#,
        )
        .unwrap();
        assert_eq!(res.len(), 1, "templates are not resources");
        let Resource::Primitive(p) = &res[0] else { panic!() };
        assert_eq!((p.class.as_str(), p.provider.as_deref(), p.agent_type.as_str()), ("ocf", Some("heartbeat"), "Dummy"));
        assert_eq!(p.template.as_deref(), Some("tpl"));
        let sets: Vec<_> = p.instance_attributes.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(sets, ["tpl-ia", "p-ia"]);
        let ops: Vec<_> = p.operations.iter().map(|o| (o.id.as_str(), o.interval_ms)).collect();
        assert_eq!(ops, [("p-mon", 30_000), ("t-mon-m", 5_000), ("t-start", 0)]);
        assert_eq!(p.element_meta, [("is-managed".to_string(), "false".to_string())]);
    }

    #[test]
    fn unknown_template_is_an_error() {
        let e = resources(r#"<resources><primitive id="p" template="nope"/></resources>"#).unwrap_err();
        assert!(matches!(e, ModelError::UnknownTemplate { ref template, .. } if template == "nope"));
    }

    #[test]
    fn heartbeat_operation_spellings() {
        let res = resources(
            r#"<resources><primitive id="p" class="heartbeat" type="IPaddr">
                 <operations>
                   <op id="o1" name="monitor" interval="120s" timeout="60s" on_fail="nothing" start_delay="5s" prereq="fencing" disabled="true"/>
                   <op id="o2" name="start" timeout="90"/>
                 </operations></primitive></resources>"#,
        )
        .unwrap();
        let Resource::Primitive(p) = &res[0] else { panic!() };
        let o1 = &p.operations[0];
        assert_eq!((o1.interval_ms, o1.timeout_ms, o1.start_delay_ms), (120_000, Some(60_000), Some(5_000)));
        assert_eq!((o1.on_fail, o1.requires, o1.enabled), (Some(OnFail::Ignore), Some(Requires::Fencing), Some(false)));
        assert_eq!((p.operations[1].interval_ms, p.operations[1].timeout_ms), (0, Some(90_000)));
    }

    #[test]
    fn clones_and_masters() {
        let res = resources(
            r#"<resources>
                 <master_slave id="ms" notify="true"><primitive id="d" class="ocf" provider="heartbeat" type="drbd"/></master_slave>
                 <clone id="c"><meta_attributes id="cm"><nvpair id="cm1" name="promotable" value="true"/></meta_attributes>
                   <group id="g"><primitive id="g1" class="lsb" type="a"/><primitive id="g2" class="lsb" type="b"/></group></clone>
                 <clone id="plain"><primitive id="x" class="ocf" provider="pacemaker" type="Dummy"/></clone>
               </resources>"#,
        )
        .unwrap();
        let promotable: Vec<_> = res.iter().map(|r| match r { Resource::Clone(c) => c.is_promotable(), _ => panic!() }).collect();
        assert_eq!(promotable, [true, true, false]);
        let Resource::Clone(ms) = &res[0] else { panic!() };
        assert_eq!(ms.element, CloneElement::MasterSlave);
        assert_eq!(ms.element_meta, [("notify".to_string(), "true".to_string())]);
        let ids: Vec<_> = res[1].primitives().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["g1", "g2"]);
        assert_eq!(res[1].find("g").map(Resource::id), Some("g"));
        let e = resources(r#"<resources><clone id="empty"/></resources>"#).unwrap_err();
        assert!(matches!(e, ModelError::MissingChild { .. }));
    }
}
