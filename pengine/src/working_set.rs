//! The working set: the cluster as the scheduler sees it after unpacking
//! (Pacemaker's `pe_working_set_t`). Later stages read it and add to it
//! (scores, assignments, actions); the status printer reads it as is.
//!
//! Nodes and resources live in arenas (`Vec`) addressed by [`NodeId`] and
//! [`RscId`], so the graph of parents, children and "running on" links
//! needs no reference counting. Nodes are kept in Pacemaker's natural name
//! order ([`crate::natural`]), resources in document order with clone
//! instances and orphans appended where Pacemaker appends them.

use std::collections::{BTreeMap, BTreeSet};

use cib::model::{AgentClass, Role, Score};

use crate::options::ClusterOptions;

mod name_index;
pub use name_index::NameIndex;

/// Index of a node in [`WorkingSet::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub usize);

/// Index of a resource in [`WorkingSet::resources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RscId(pub usize);

/// What kind of node this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A full cluster member (Pacemaker `member`, Heartbeat `normal`).
    Cluster,
    /// A Heartbeat ping node: never runs resources.
    Ping,
    /// A Pacemaker Remote node reached through an `ocf:pacemaker:remote`
    /// connection resource of the same name.
    Remote,
    /// A guest node: a resource with the `remote-node` meta-attribute runs
    /// the node inside itself.
    Guest,
}

/// What a bundle's replicas are made of (Pacemaker's `pe__unpack_bundle`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleInfo {
    pub image: String,
    /// The container agent: `docker`, `podman` or `rkt`.
    pub kind: &'static str,
    pub replicas: u32,
    /// `ip-range-start`: replica N's address is this plus N.
    pub ip_start: Option<std::net::Ipv4Addr>,
    /// The bundle's primitive runs inside (remote connections, guest nodes).
    pub inside: bool,
    /// `promoted-max` > 0: the primitive's instances are promotable (the
    /// bundle's own implicit resources are not).
    pub promotable: bool,
}

/// One node and what unpacking learnt about it.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub uname: String,
    pub kind: NodeKind,
    /// Member of the membership, controller up and joined: may run
    /// resources.
    pub online: bool,
    /// Needs fencing: its state is unknown or it failed in a way only a
    /// reboot can fix.
    pub unclean: bool,
    /// Why the node would be fenced, in the order the reasons were found.
    pub fence_reasons: Vec<String>,
    /// Up but not yet a full member (join pending).
    pub pending: bool,
    /// Will not run resources (attribute `standby`, pending join, or a
    /// failure with `on-fail=standby`).
    pub standby: bool,
    /// Standby because an operation failed with `on-fail=standby`.
    pub standby_onfail: bool,
    /// Node attribute `maintenance` (or a `node_in_maintenance` state).
    pub maintenance: bool,
    /// The node asked to shut down (transient attribute `shutdown`).
    pub shutdown: bool,
    /// The controller expected the node to be up (`expected="member"`).
    pub expected_up: bool,
    /// No status entry seen for this node.
    pub unseen: bool,
    /// This node is the DC (`dc-uuid`).
    pub is_dc: bool,
    /// Its history has been unpacked.
    pub unpacked: bool,
    /// A remote node that was fenced since its connection last started.
    pub remote_was_fenced: bool,
    /// A remote or guest node that must be reset (its connection failed
    /// unrecoverably, its container failed, its host is unclean): it
    /// stays unclean when its own status entry is unpacked.
    pub remote_requires_reset: bool,
    /// The connection (remote) or container-side (guest) resource.
    pub remote_rsc: Option<RscId>,
    /// Node attributes: configured ones, overridden by transient ones,
    /// plus Pacemaker's built-ins (`#uname`, `#id`, `#kind`, `#is_dc`).
    pub attrs: BTreeMap<String, String>,
    pub utilization: BTreeMap<String, String>,
    /// Base score for every resource (`-INFINITY` when the node cannot run
    /// anything, e.g. offline or shutting down).
    pub weight: Score,
    /// Primitives active here, in the order they were found.
    pub running: Vec<RscId>,
}

impl WorkingSet {
    /// Whether `r` is (in) a promotable resource, for showing Started as
    /// Unpromoted: a promotable clone's instance, or the primitive's
    /// instance inside a bundle with `promoted-max`.
    pub fn in_promotable(&self, r: RscId) -> bool {
        let top = self.rsc(self.top(r));
        top.flags.promotable
            || (top.bundle.as_ref().is_some_and(|b| b.promotable) && self.rsc(r).meta("internal_rsc") != Some("true") && top.id != self.rsc(r).id)
    }
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }
}

/// The shape of a resource.
#[derive(Debug, Clone)]
pub enum Variant {
    Primitive(PrimitiveInfo),
    Group,
    Clone(CloneInfo),
    /// A bundle: its replicas' resources are its children (per replica:
    /// address, the primitive's instance, container, remote connection;
    /// `Resource::bundle` has the layout). The scheduler assigns them as
    /// independent primitives so far; see docs/PENGINE.md.
    Bundle,
}

/// The agent of a primitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimitiveInfo {
    pub class: AgentClass,
    pub provider: Option<String>,
    pub agent: String,
    /// Operation configuration, for `on-fail` and the like.
    pub ops: Vec<cib::model::Operation>,
}

impl PrimitiveInfo {
    /// `class[:provider]:type`, as status output names the agent.
    pub fn agent_spec(&self) -> String {
        match &self.provider {
            Some(p) if self.class == AgentClass::Ocf => format!("{}:{}:{}", self.class.as_str(), p, self.agent),
            _ => format!("{}:{}", self.class.as_str(), self.agent),
        }
    }
}

/// Clone parameters (`pe__clone_*`).
#[derive(Debug, Clone)]
pub struct CloneInfo {
    pub clone_max: u32,
    pub clone_node_max: u32,
    pub promoted_max: u32,
    pub promoted_node_max: u32,
    /// Instances created so far (numbers 0..total are used).
    pub total_clones: u32,
    /// The id of the cloned primitive or group as configured.
    pub child_xml_id: String,
    /// The cloned primitive or group, to create more instances from
    /// (orphans found in the history).
    pub child_config: Box<cib::model::Resource>,
}

/// Per-resource state flags (Pacemaker's `pe_rsc_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RscFlags {
    /// The cluster may act on it (`is-managed`, no maintenance, no block).
    pub managed: bool,
    /// Deleted from the configuration but still in the history.
    pub orphan: bool,
    /// A globally unique clone (or an instance of one).
    pub unique: bool,
    pub promotable: bool,
    /// Failed and needs recovery.
    pub failed: bool,
    /// Must be stopped where it is (recovery of a failure).
    pub stop: bool,
    /// A failure could not be recovered (`on-fail=block`, stop failed
    /// without fencing, multiple-active=block): leave it alone.
    pub blocked: bool,
    /// Unmanaged because of maintenance (cluster, node or resource).
    pub maintenance: bool,
    /// A failure was ignored (`on-fail=ignore`).
    pub failure_ignored: bool,
    pub start_pending: bool,
    /// Its actions require fencing of a failed node first (`requires`).
    pub needs_fencing: bool,
    /// Its actions require quorum.
    pub needs_quorum: bool,
}

/// One resource: configured, a clone instance, or an orphan.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Unique id: the configured id, with `:N` for clone instances.
    pub id: String,
    /// The id in the configuration (without instance number).
    pub xml_id: String,
    /// The name the history used when it differs from `id` (anonymous
    /// clone instances are recorded without their number).
    pub clone_name: Option<String>,
    pub variant: Variant,
    pub parent: Option<RscId>,
    pub children: Vec<RscId>,
    pub description: Option<String>,
    /// Meta-attributes, canonical names, after inheritance and defaults.
    pub meta: BTreeMap<String, String>,
    pub flags: RscFlags,
    /// The role found in the history.
    pub role: Role,
    /// The role the history asks for next (`Unknown` = none).
    pub next_role: Role,
    /// Nodes it is active on, in the order found.
    pub running_on: Vec<NodeId>,
    /// Nodes whose history knows its state (probed or ran there).
    pub known_on: BTreeSet<NodeId>,
    /// Node scores so far: every node when the cluster is symmetric, plus
    /// what unpacking forced (e.g. `-INFINITY` after a hard error).
    pub allowed_nodes: BTreeMap<NodeId, Score>,
    /// An operation still in flight (not a probe).
    pub pending_task: Option<String>,
    pub pending_node: Option<NodeId>,
    /// Shutdown lock: stays stopped on this node until it comes back.
    pub lock_node: Option<NodeId>,
    pub lock_time: Option<i64>,
    /// A migration started (migrate_to) but not finished.
    pub partial_migration_source: Option<NodeId>,
    pub partial_migration_target: Option<NodeId>,
    /// Sources of dangling migrations (migrate_to and migrate_from both
    /// succeeded, no stop on the source yet): stopped there
    /// (`crate::migration`).
    pub dangling_migrations: Vec<NodeId>,
    /// Failures allowed on a node before it is banned (`INFINITY` default).
    pub migration_threshold: Score,
    /// Seconds after which a failure is forgotten (0 = never).
    pub failure_timeout: i64,
    /// Remote connection reconnect interval (ms).
    pub remote_reconnect_ms: u64,
    /// This primitive is the connection to a remote node of its id.
    pub is_remote_node: bool,
    /// The resource this one runs inside (guest node containers).
    pub container: Option<RscId>,
    /// A bundle's replica layout (image, replica count, address range),
    /// which status output prints.
    pub bundle: Option<Box<BundleInfo>>,
}

impl Resource {
    pub fn primitive(&self) -> Option<&PrimitiveInfo> {
        match &self.variant {
            Variant::Primitive(p) => Some(p),
            _ => None,
        }
    }

    pub fn clone_info(&self) -> Option<&CloneInfo> {
        match &self.variant {
            Variant::Clone(c) => Some(c),
            _ => None,
        }
    }

    pub fn is_primitive(&self) -> bool {
        matches!(self.variant, Variant::Primitive(_))
    }

    pub fn meta(&self, name: &str) -> Option<&str> {
        self.meta.get(name).map(String::as_str)
    }
}

/// A failed operation, kept for "Failed Resource Actions".
#[derive(Debug, Clone)]
pub struct FailedOp {
    pub node: NodeId,
    pub rsc: RscId,
    pub op_id: String,
    pub op_key: String,
    pub operation: String,
    pub interval_ms: u64,
    pub call_id: i64,
    pub rc_code: i32,
    pub op_status: i32,
    pub exit_reason: Option<String>,
    pub last_rc_change: Option<i64>,
    pub exec_time: Option<u64>,
    pub queue_time: Option<u64>,
    /// `on_node` as the history recorded it.
    pub on_node: Option<String>,
}

/// A placement decision taken while unpacking (`resource_location` calls
/// whose tag later stages may want to know).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackLocation {
    pub rsc: RscId,
    /// `None`: every node.
    pub node: Option<NodeId>,
    pub score: Score,
    pub tag: &'static str,
}

/// An action the history already implies (stop of a failed resource...).
/// Later stages turn these into real actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImpliedAction {
    pub rsc: RscId,
    pub node: NodeId,
    pub task: &'static str,
}

/// An action Pacemaker creates while unpacking, in creation order (they
/// get the lowest action ids, so the scheduler creates them first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EarlyAction {
    /// A recurring operation active since the last start (optional).
    Recurring(RscId, NodeId, String, u64),
    /// A stop or demote the history implies (`implied_actions[i]`).
    Implied(usize),
    /// A node's fencing (optional until scheduled), first reason given.
    Fence(NodeId),
}

/// The unpacked cluster.
#[derive(Debug, Clone)]
pub struct WorkingSet {
    /// Epoch seconds the computation is for.
    pub now: i64,
    pub options: ClusterOptions,
    /// `have-quorum` of the CIB.
    pub have_quorum: bool,
    pub dc_node: Option<NodeId>,
    /// Nodes in natural name order.
    pub nodes: Vec<Node>,
    /// Every resource: configured ones and their descendants, clone
    /// instances and orphans.
    pub resources: Vec<Resource>,
    /// Top-level resources in Pacemaker's order (configuration order,
    /// orphans appended as the history revealed them).
    pub top_level: Vec<RscId>,
    /// Whether each resource is in `top_level` (indexed by [`RscId`];
    /// kept by [`WorkingSet::add_top_level`]; reordering `top_level`
    /// keeps its members).
    pub on_top_level: Vec<bool>,
    pub failed_ops: Vec<FailedOp>,
    pub locations: Vec<UnpackLocation>,
    pub implied_actions: Vec<ImpliedAction>,
    /// Clone/group instances needing a stop because their container must
    /// be restarted.
    pub stop_needed: Vec<RscId>,
    /// Earliest time (epoch) at which something unpacked here changes on
    /// its own (a failure expiring): when to recheck.
    pub recheck_by: Option<i64>,
    /// Warnings for crm_verify-style reporting.
    pub warnings: Vec<String>,
    /// The CIB predates per-operation fail counts (feature set < 3.0.13):
    /// `fail-count-RSC` without `#op_interval` counts.
    pub legacy_failcounts: bool,
    /// Recurring operations active since the last start, per resource
    /// and node: (resource, node, task, interval in ms).
    /// A set: the scheduler asks it once per recurring operation and
    /// node.
    pub active_recurring: BTreeSet<(RscId, NodeId, String, u64)>,
    /// Fail counts whose failures expired: to be cleared on the node.
    pub clear_failcounts: Vec<(RscId, NodeId)>,
    /// Actions unpacking implies, in the order Pacemaker creates them.
    pub early_actions: Vec<EarlyAction>,
    /// Resources by id and history name ([`Self::find_resource_indexed`]).
    pub names: NameIndex,
}

impl WorkingSet {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0]
    }

    pub fn rsc(&self, id: RscId) -> &Resource {
        &self.resources[id.0]
    }

    pub fn node_by_uname(&self, uname: &str) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.uname.eq_ignore_ascii_case(uname)).map(NodeId)
    }

    pub fn node_by_id(&self, id: &str) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.id == id).map(NodeId)
    }

    /// The topmost ancestor (Pacemaker's `uber_parent`).
    pub fn top(&self, mut id: RscId) -> RscId {
        while let Some(p) = self.resources[id.0].parent {
            id = p;
        }
        id
    }

    /// The name status output uses: the configured id for instances of
    /// anonymous clones, the full id otherwise (`rsc_printable_id`).
    pub fn printable_id(&self, id: RscId) -> &str {
        let r = self.rsc(id);
        if r.flags.unique {
            &r.id
        } else {
            &r.xml_id
        }
    }

    /// Whether a resource counts as active (`fns->active`): for a
    /// primitive, on a node that is online or unclean (or offline while
    /// unmanaged); for a collection, all (`all`) or any of its children.
    pub fn is_active(&self, id: RscId, all: bool) -> bool {
        let r = self.rsc(id);
        match r.variant {
            Variant::Primitive(_) => r.running_on.iter().any(|n| {
                let node = self.node(*n);
                node.unclean || node.online || !r.flags.managed
            }),
            _ => {
                if r.children.is_empty() {
                    return false;
                }
                if all {
                    r.children.iter().all(|c| self.is_active(*c, true))
                } else {
                    r.children.iter().any(|c| self.is_active(*c, false))
                }
            }
        }
    }

    /// The current role of a resource (`fns->state(rsc, TRUE)`): its own
    /// for a primitive, the highest of its children otherwise.
    pub fn current_role(&self, id: RscId) -> Role {
        let r = self.rsc(id);
        if r.is_primitive() {
            return r.role;
        }
        r.children.iter().map(|c| self.current_role(*c)).max().unwrap_or(Role::Unknown)
    }

    /// Nodes where a resource or its descendants are active, plus pending
    /// nodes when `with_pending` (`fns->location(rsc, list, 1 or 2)`),
    /// without duplicates, in the order found.
    pub fn locations(&self, id: RscId, with_pending: bool) -> Vec<NodeId> {
        let mut out = Vec::new();
        self.collect_locations(id, with_pending, &mut out);
        out
    }

    fn collect_locations(&self, id: RscId, with_pending: bool, out: &mut Vec<NodeId>) {
        let r = self.rsc(id);
        if r.children.is_empty() {
            for n in &r.running_on {
                if !out.contains(n) {
                    out.push(*n);
                }
            }
            if with_pending {
                if let Some(n) = r.pending_node {
                    if !out.contains(&n) {
                        out.push(n);
                    }
                }
            }
        } else {
            for c in &r.children {
                self.collect_locations(*c, with_pending, out);
            }
        }
    }

    /// All descendants of a resource (depth first), itself included.
    pub fn subtree(&self, id: RscId) -> Vec<RscId> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let kids = self.rsc(out[i]).children.clone();
            out.splice(i + 1..i + 1, kids);
            i += 1;
        }
        out
    }

    /// Whether the resource's target-role disables it (`Stopped`, or
    /// `Unpromoted` in a promotable clone).
    pub fn is_disabled(&self, id: RscId) -> bool {
        match self.rsc(id).meta("target-role").and_then(Role::parse) {
            Some(Role::Stopped) => true,
            Some(Role::Unpromoted) => self.rsc(self.top(id)).flags.promotable,
            _ => false,
        }
    }

    /// [`Self::find_resource`] through [`Self::names`]: the same answer
    /// without a scan when the name is unambiguous. A resource that takes
    /// a history name must be told to the index
    /// ([`NameIndex::note_name`]).
    /// Appends a resource to the top-level list.
    pub fn add_top_level(&mut self, id: RscId) {
        self.top_level.push(id);
        if self.on_top_level.len() <= id.0 {
            self.on_top_level.resize(id.0 + 1, false);
        }
        self.on_top_level[id.0] = true;
    }

    pub fn find_resource_indexed(&mut self, id: &str) -> Option<RscId> {
        let resources = &self.resources;
        self.names.catch_up(resources.len(), |i| (resources[i].id.as_str(), resources[i].clone_name.as_deref()));
        let found = self.names.lookup(id, |r| {
            let res = &self.resources[r.0];
            res.id == id || res.clone_name.as_deref() == Some(id)
        });
        match found {
            name_index::Lookup::None => None,
            name_index::Lookup::One(r) if self.is_reachable(r) => Some(r),
            _ => self.find_resource(id),
        }
    }

    /// Whether the search from the top-level resources meets `r` (every
    /// resource but one being built).
    fn is_reachable(&self, r: RscId) -> bool {
        let mut cur = r;
        while let Some(p) = self.resources[cur.0].parent {
            if !self.resources[p.0].children.contains(&cur) {
                return false;
            }
            cur = p;
        }
        self.on_top_level.get(cur.0).copied().unwrap_or(false)
    }

    /// Looks a resource up by id or history name, searching every
    /// resource (`pe_find_resource` with renamed matches).
    pub fn find_resource(&self, id: &str) -> Option<RscId> {
        for top in &self.top_level {
            for r in self.subtree(*top) {
                let res = self.rsc(r);
                if res.id == id || res.clone_name.as_deref() == Some(id) {
                    return Some(r);
                }
            }
        }
        None
    }
}
