//! The resource tree (Pacemaker's `unpack_resources` / `common_unpack`):
//! every configured resource with its meta-attributes and flags, clones
//! expanded into numbered instances.
//!
//! Meta-attributes are gathered as Pacemaker does: the element's own XML
//! attributes, its `meta_attributes` sets, then whatever the parent has
//! that it does not, then `rsc_defaults`. Names are canonicalised
//! (`target_role` is `target-role`), and Heartbeat 2.x's meta-attributes
//! written in `instance_attributes` count too (after the real meta sets).

use std::collections::BTreeMap;

use cib::model::duration::parse_msec;
use cib::model::names::{canonical_meta_attribute, is_heartbeat_instance_meta};
use cib::model::resources::{CloneElement, Requires};
use cib::model::{AgentClass, Cib, NvSet, Primitive, Resource as CibResource, Role, Score};

use crate::nvsets::{is_true, unpack_into};
use crate::options::NoQuorumPolicy;
use crate::rules::RuleInput;
use crate::working_set::{BundleInfo, CloneInfo, NodeId, PrimitiveInfo, Resource, RscFlags, RscId, Variant, WorkingSet};

/// Creates every configured resource.
pub(super) fn unpack_resources(ws: &mut WorkingSet, cib: &Cib) {
    for r in &cib.resources {
        let id = build(ws, cib, r, None, None);
        ws.add_top_level(id);
    }
    add_guest_connections(ws);
    fence_off_bundle_nodes(ws, cib);
    // Pacemaker lists resources by descending priority (a stable sort).
    let priority = |ws: &WorkingSet, r: RscId| ws.rsc(r).meta("priority").map_or(Score::ZERO, Score::parse);
    let mut order = ws.top_level.clone();
    order.sort_by_key(|r| std::cmp::Reverse(priority(ws, *r)));
    ws.top_level = order;
}

/// Creates one more instance of a clone (used for orphans found in the
/// history); returns it.
pub(crate) fn create_clone_instance(ws: &mut WorkingSet, cib: &Cib, clone: RscId) -> RscId {
    let info = ws.rsc(clone).clone_info().expect("a clone").clone();
    let n = info.total_clones;
    let child = build(ws, cib, &info.child_config, Some(clone), Some(n));
    if let Variant::Clone(c) = &mut ws.resources[clone.0].variant {
        c.total_clones += 1;
    }
    ws.resources[clone.0].children.push(child);
    if n >= info.clone_max {
        // Beyond clone-max: an orphan instance.
        for r in ws.subtree(child) {
            ws.resources[r.0].flags.orphan = true;
        }
    }
    child
}

/// The element-level pieces of a configured resource that meta-attributes
/// are built from.
struct Config<'c> {
    id: &'c str,
    element_meta: &'c [(String, String)],
    meta_sets: &'c [NvSet],
    instance_sets: &'c [NvSet],
    description: Option<&'c String>,
    primitive: Option<&'c Primitive>,
}

fn config_of(r: &CibResource) -> Config<'_> {
    match r {
        CibResource::Primitive(p) => Config {
            id: &p.id,
            element_meta: &p.element_meta,
            meta_sets: &p.meta_attributes,
            instance_sets: &p.instance_attributes,
            description: p.description.as_ref(),
            primitive: Some(p),
        },
        CibResource::Group(g) => Config {
            id: &g.id,
            element_meta: &g.element_meta,
            meta_sets: &g.meta_attributes,
            instance_sets: &g.instance_attributes,
            description: g.description.as_ref(),
            primitive: None,
        },
        CibResource::Clone(c) => Config {
            id: &c.id,
            element_meta: &c.element_meta,
            meta_sets: &c.meta_attributes,
            instance_sets: &c.instance_attributes,
            description: c.description.as_ref(),
            primitive: None,
        },
        CibResource::Bundle(b) => Config {
            id: &b.id,
            element_meta: &[],
            meta_sets: &b.meta_attributes,
            instance_sets: &b.instance_attributes,
            description: b.description.as_ref(),
            primitive: None,
        },
    }
}

fn build(ws: &mut WorkingSet, cib: &Cib, r: &CibResource, parent: Option<RscId>, instance: Option<u32>) -> RscId {
    let cfg = config_of(r);
    let id = match instance {
        Some(n) => format!("{}:{}", cfg.id, n),
        None => cfg.id.to_string(),
    };
    let mut meta = gather_meta(ws, cib, &cfg, parent, instance);
    if matches!(r, CibResource::Clone(_)) && !meta.contains_key("resource-stickiness") && !ws.options.all.contains_key("default-resource-stickiness") {
        // Clones are sticky by default (Pacemaker's `clone_unpack`); the
        // instances inherit it. Heartbeat's cluster-wide default still
        // wins where it is set.
        meta.insert("resource-stickiness".to_string(), "1".to_string());
    }
    let variant = match r {
        CibResource::Primitive(p) => Variant::Primitive(PrimitiveInfo {
            class: p.class.clone(),
            provider: p.provider.clone(),
            agent: p.agent_type.clone(),
            ops: p.operations.clone(),
        }),
        CibResource::Group(_) => Variant::Group,
        CibResource::Clone(c) => {
            let int = |name: &str, default: u32| -> u32 {
                match meta.get(name) {
                    // Invalid or negative values count as 0.
                    Some(v) => crate::rules::scan_ll(v).map_or(0, |n| n.clamp(0, u32::MAX as i64) as u32),
                    None => default,
                }
            };
            let nodes = nodes_known_now(ws, cib).max(1) as u32;
            let child_id = c.child.id().to_string();
            Variant::Clone(CloneInfo {
                clone_max: int("clone-max", nodes),
                // Anonymous clones run one instance per node at most
                // (Pacemaker 2.1.5 ignores a higher clone-node-max).
                clone_node_max: if is_true(meta.get("globally-unique").map(String::as_str)) { int("clone-node-max", 1) } else { int("clone-node-max", 1).min(1) },
                promoted_max: int("promoted-max", 1),
                promoted_node_max: int("promoted-node-max", 1),
                total_clones: 0,
                child_xml_id: child_id,
                child_config: c.child.clone(),
            })
        }
        CibResource::Bundle(_) => Variant::Bundle,
    };
    let rsc = Resource {
        id,
        xml_id: cfg.id.to_string(),
        clone_name: None,
        variant,
        parent,
        children: Vec::new(),
        description: cfg.description.cloned(),
        meta,
        flags: RscFlags::default(),
        // Pacemaker starts every resource as Stopped; the history says otherwise.
        role: Role::Stopped,
        next_role: Role::Unknown,
        running_on: Vec::new(),
        known_on: Default::default(),
        allowed_nodes: BTreeMap::new(),
        pending_task: None,
        pending_node: None,
        lock_node: None,
        lock_time: None,
        partial_migration_source: None,
        partial_migration_target: None,
        dangling_migrations: Vec::new(),
        migration_threshold: Score::INFINITY,
        failure_timeout: 0,
        remote_reconnect_ms: 0,
        is_remote_node: false,
        container: None,
        bundle: match r {
            CibResource::Bundle(b) => bundle_layout(b).map(Box::new),
            _ => None,
        },
    };
    let me = RscId(ws.resources.len());
    ws.resources.push(rsc);
    set_flags(ws, me, r, parent);

    match r {
        CibResource::Group(g) => {
            for child in &g.children {
                let c = build(ws, cib, &CibResource::Primitive(child.clone()), Some(me), instance);
                ws.resources[me.0].children.push(c);
            }
        }
        CibResource::Bundle(b) => create_bundle_replicas(ws, cib, me, b),
        CibResource::Clone(_) => {
            let max = ws.rsc(me).clone_info().map_or(1, |c| c.clone_max);
            // With clone-max=0 one instance still exists, for orphans to
            // attach to.
            for _ in 0..max.max(1) {
                create_clone_instance(ws, cib, me);
            }
        }
        _ => {}
    }
    if ws.options.symmetric_cluster {
        let all: Vec<NodeId> = (0..ws.nodes.len()).map(NodeId).collect();
        for n in all {
            ws.resources[me.0].allowed_nodes.entry(n).or_insert(Score::ZERO);
        }
    }
    me
}

fn gather_meta(ws: &WorkingSet, cib: &Cib, cfg: &Config<'_>, parent: Option<RscId>, instance: Option<u32>) -> BTreeMap<String, String> {
    let mut meta = BTreeMap::new();
    for (k, v) in cfg.element_meta {
        meta.entry(canonical_meta_attribute(k).to_string()).or_insert_with(|| v.clone());
    }
    let agent = cfg.primitive.map(|p| (&p.class, p.provider.as_deref(), p.agent_type.as_str()));
    let input = RuleInput { now: ws.now, rsc_agent: agent, ..Default::default() };
    unpack_into(&mut meta, cfg.meta_sets, None, &input, false, canonical_meta_attribute);
    // Heartbeat 2.x read some meta-attributes from instance_attributes.
    let mut hb = BTreeMap::new();
    unpack_into(&mut hb, cfg.instance_sets, None, &input, false, |n| n);
    for (k, v) in hb {
        if is_heartbeat_instance_meta(&k) {
            meta.entry(canonical_meta_attribute(&k).to_string()).or_insert(v);
        }
    }
    if let Some(n) = instance {
        meta.entry("clone".to_string()).or_insert_with(|| n.to_string());
    }
    if let Some(p) = parent {
        for (k, v) in &ws.rsc(p).meta {
            meta.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    unpack_into(&mut meta, &cib.rsc_defaults, None, &input, false, canonical_meta_attribute);
    meta
}

/// Flags and numbers from meta-attributes and cluster options.
fn set_flags(ws: &mut WorkingSet, me: RscId, r: &CibResource, parent: Option<RscId>) {
    let opts = ws.options.clone();
    let res = &mut ws.resources[me.0];
    let mut flags = RscFlags { managed: opts.is_managed_default, ..Default::default() };
    if let Some(v) = res.meta("is-managed") {
        if !v.eq_ignore_ascii_case("default") {
            flags.managed = is_true(Some(v));
        }
    }
    if is_true(res.meta("maintenance")) || opts.maintenance_mode {
        flags.managed = false;
        flags.maintenance = true;
    }
    flags.unique = match r {
        // Unique unless one replica per host (`pe__unpack_bundle`).
        CibResource::Bundle(b) => b.runtime.as_ref().and_then(|rt| rt.replicas_per_host).is_some_and(|n| n > 1),
        _ => is_true(res.meta("globally-unique")),
    };
    flags.promotable = match r {
        CibResource::Clone(c) => c.element != CloneElement::Clone || is_true(res.meta("promotable")),
        _ => false,
    };
    if let Some(p) = parent {
        let _ = p; // children inherit through meta-attributes
    }
    if let CibResource::Primitive(p) = r {
        let is_fence_device = p.class == AgentClass::Stonith;
        let is_remote = p.class == AgentClass::Ocf && p.provider.as_deref() == Some("pacemaker") && p.agent_type == "remote";
        let requires = match res.meta("requires").and_then(Requires::parse) {
            Some(Requires::Fencing) | Some(Requires::Unfencing) if !opts.stonith_enabled => Requires::Quorum,
            Some(r) => r,
            None if is_fence_device || is_remote => Requires::Quorum,
            None if opts.stonith_enabled => Requires::Fencing,
            None if opts.no_quorum_policy == NoQuorumPolicy::Ignore => Requires::Nothing,
            None => Requires::Quorum,
        };
        flags.needs_quorum = requires != Requires::Nothing;
        flags.needs_fencing = matches!(requires, Requires::Fencing | Requires::Unfencing);
    }
    res.flags = flags;
    res.migration_threshold = match res.meta("migration-threshold") {
        Some(v) => Score::parse(v),
        None => Score::INFINITY,
    };
    if res.migration_threshold.value() < 0 {
        res.migration_threshold = Score::ZERO;
    }
    res.failure_timeout = res.meta("failure-timeout").and_then(parse_msec).map_or(0, |ms| (ms / 1000) as i64);
    res.remote_reconnect_ms = res.meta("reconnect_interval").and_then(parse_msec).unwrap_or(0);
    if let Some(Role::Stopped) = res.meta("target-role").and_then(Role::parse) {
        // next_role is decided by history and constraints; target-role
        // is applied after the history (see history.rs).
    }
}

/// How many replicas a bundle has and what each holds
/// (Pacemaker's `pe__unpack_bundle`): `replicas` (default `promoted-max`,
/// else 1); an address per replica with `ip-range-start`; and, when the
/// bundle has a primitive and a usable network (`ip-range-start` or
/// `control-port`), a remote connection named `BUNDLE-N` and a guest
/// node of that name for the primitive's instance.
pub fn bundle_layout(b: &cib::model::resources::Bundle) -> Option<BundleInfo> {
    use cib::model::resources::ContainerKind;
    let rt = b.runtime.as_ref()?;
    let replicas = match (rt.replicas, rt.promoted_max) {
        (Some(n), _) => n,
        (None, Some(p)) if p > 0 => p,
        _ => 1,
    };
    let kind = match rt.kind {
        ContainerKind::Docker => "docker",
        ContainerKind::Podman => "podman",
        ContainerKind::Rkt => "rkt",
    };
    let ip_start = b.network.as_ref().and_then(|n| n.ip_range_start.as_deref()).and_then(|s| s.trim().parse().ok());
    let network = ip_start.is_some() || b.network.as_ref().is_some_and(|n| n.control_port.is_some());
    let promotable = rt.promoted_max.is_some_and(|n| n > 0);
    Some(BundleInfo { image: rt.image.clone(), replicas, kind, ip_start, inside: b.primitive.is_some() && network, promotable })
}

/// The nodes Pacemaker knows while unpacking the resources so far: a
/// bundle's guest nodes appear only when that bundle is unpacked (unless
/// the nodes section names them), which a clone's default clone-max
/// counts.
fn nodes_known_now(ws: &WorkingSet, cib: &Cib) -> usize {
    ws.nodes.iter().filter(|n| !future_bundle_node(ws, cib, &n.uname)).count()
}

fn future_bundle_node(ws: &WorkingSet, cib: &Cib, uname: &str) -> bool {
    if cib.nodes.iter().any(|n| n.uname == uname || n.id == uname) {
        return false;
    }
    cib.resources.iter().any(|r| {
        let CibResource::Bundle(b) = r else { return false };
        let Some(l) = bundle_layout(b).filter(|l| l.inside) else { return false };
        let built = ws.resources.iter().any(|x| x.id == b.id);
        !built && (0..l.replicas).any(|i| format!("{}-{i}", b.id) == uname)
    })
}

/// A bundle's guest nodes are Pacemaker's creation while unpacking that
/// bundle (`create_remote_resource`): resources unpacked before it never
/// had them among their allowed nodes, those unpacked after have them at
/// -INFINITY (`disallow_node`), and the node itself weighs -INFINITY; only
/// the replica's own instance may run there.
fn fence_off_bundle_nodes(ws: &mut WorkingSet, cib: &Cib) {
    for b in 0..ws.resources.len() {
        let Some(info) = ws.resources[b].bundle.as_deref().filter(|i| i.inside).cloned() else { continue };
        let id = ws.resources[b].id.clone();
        let children = ws.resources[b].children.clone();
        for i in 0..info.replicas {
            let name = format!("{id}-{i}");
            let Some(guest) = ws.node_by_uname(&name) else { continue };
            let configured = cib.nodes.iter().any(|n| n.uname == name || n.id == name);
            ws.nodes[guest.0].weight = Score::MINUS_INFINITY;
            for r in 0..ws.resources.len() {
                let own = children.contains(&RscId(r)) && ws.resources[r].allowed_nodes.len() == 1 && ws.resources[r].allowed_nodes.contains_key(&guest);
                if own {
                    continue;
                }
                if r <= b && !configured {
                    ws.resources[r].allowed_nodes.remove(&guest);
                } else if let Some(score) = ws.resources[r].allowed_nodes.get_mut(&guest) {
                    *score = Score::MINUS_INFINITY;
                }
            }
        }
    }
}

/// The replicas of a bundle, as children of the bundle in Pacemaker's
/// per-replica order: address (`BUNDLE-ip-ADDR`, IPaddr2), the
/// primitive's instance (`PRIM:N`, allowed only on its guest node),
/// container (`BUNDLE-docker-N`...), remote connection (`BUNDLE-N`, on
/// the cluster nodes, inside the container).
fn create_bundle_replicas(ws: &mut WorkingSet, cib: &Cib, bundle: RscId, b: &cib::model::resources::Bundle) {
    let Some(layout) = bundle_layout(b) else { return };
    let implicit = |ws: &mut WorkingSet, id: String, provider: &str, agent: &str| -> RscId {
        let mut r = ws.rsc(bundle).clone();
        r.id = id.clone();
        r.xml_id = id;
        r.clone_name = None;
        r.variant = Variant::Primitive(PrimitiveInfo { class: AgentClass::Ocf, provider: Some(provider.into()), agent: agent.into(), ops: Vec::new() });
        r.parent = Some(bundle);
        r.children = Vec::new();
        r.description = None;
        r.bundle = None;
        r.meta.insert("internal_rsc".to_string(), "true".to_string());
        let managed = ws.rsc(bundle).flags.managed;
        r.flags = RscFlags { managed, maintenance: ws.rsc(bundle).flags.maintenance, needs_quorum: true, ..Default::default() };
        let me = RscId(ws.resources.len());
        ws.resources.push(r);
        ws.resources[bundle.0].children.push(me);
        me
    };
    for i in 0..layout.replicas {
        if let Some(start) = layout.ip_start {
            let addr = std::net::Ipv4Addr::from(u32::from(start).wrapping_add(i));
            implicit(ws, format!("{}-ip-{addr}", b.id), "heartbeat", "IPaddr2");
        }
        let child = match (&b.primitive, layout.inside) {
            (Some(p), true) => {
                let c = build(ws, cib, &CibResource::Primitive(p.clone()), Some(bundle), Some(i));
                ws.resources[c.0].flags.unique = ws.rsc(bundle).flags.unique;
                ws.resources[bundle.0].children.push(c);
                Some(c)
            }
            _ => None,
        };
        let container = implicit(ws, format!("{}-{}-{i}", b.id, layout.kind), "heartbeat", layout.kind);
        if layout.inside {
            let name = format!("{}-{i}", b.id);
            let remote = implicit(ws, name.clone(), "pacemaker", "remote");
            let r = &mut ws.resources[remote.0];
            r.is_remote_node = true;
            r.container = Some(container);
            // The connection and container run on cluster nodes only, the
            // primitive's instance only on its own guest node.
            if let Some(guest) = ws.node_by_uname(&name) {
                for x in [container, remote] {
                    ws.resources[x.0].allowed_nodes.remove(&guest);
                }
                if let Some(c) = child {
                    let allowed = &mut ws.resources[c.0].allowed_nodes;
                    allowed.retain(|n, _| *n == guest);
                    allowed.entry(guest).or_insert(Score::ZERO);
                    ws.resources[c.0].container = Some(container);
                }
            }
        }
    }
}

/// Guest nodes: a primitive with the `remote-node` meta-attribute runs a
/// Pacemaker Remote node inside itself, reached through an implicit
/// `ocf:pacemaker:remote` connection resource named after the node
/// (Pacemaker's `expand_remote_rsc_meta`). The connection is internal:
/// status output does not list it. Resources with a `container`
/// meta-attribute run inside the named resource.
fn add_guest_connections(ws: &mut WorkingSet) {
    let containers: Vec<(RscId, String)> = (0..ws.resources.len())
        .map(RscId)
        .filter(|r| ws.rsc(*r).is_primitive())
        .filter_map(|r| ws.rsc(r).meta("remote-node").map(|n| (r, n.to_string())))
        .collect();
    for (vm, name) in containers {
        if ws.find_resource(&name).is_some() {
            continue;
        }
        let mut meta = BTreeMap::new();
        meta.insert("internal_rsc".to_string(), "true".to_string());
        let vm_managed = ws.rsc(vm).flags.managed;
        let id = RscId(ws.resources.len());
        let mut conn = ws.rsc(vm).clone();
        conn.id = name.clone();
        conn.xml_id = name.clone();
        conn.clone_name = None;
        conn.variant = Variant::Primitive(PrimitiveInfo { class: AgentClass::Ocf, provider: Some("pacemaker".into()), agent: "remote".into(), ops: Vec::new() });
        conn.parent = None;
        conn.children = Vec::new();
        conn.description = None;
        conn.bundle = None;
        conn.meta = meta;
        conn.flags = RscFlags { managed: vm_managed, needs_quorum: true, ..Default::default() };
        conn.is_remote_node = true;
        conn.container = Some(vm);
        conn.failure_timeout = 0;
        conn.migration_threshold = Score::INFINITY;
        ws.resources.push(conn);
        ws.add_top_level(id);
    }
    for r in 0..ws.resources.len() {
        if let Some(c) = ws.resources[r].meta("container").map(str::to_string) {
            if let Some(cid) = ws.find_resource(&c) {
                ws.resources[r].container = Some(cid);
            }
        }
    }
}
