//! Nodes: the configured ones, Pacemaker Remote and guest nodes implied by
//! resources, their attributes, and their online status from
//! `node_state` (Pacemaker's `unpack_nodes`, `determine_online_status`).

use std::collections::BTreeMap;

use cib::model::nodes::NodeType;
use cib::model::status::{JoinState, NodeState, PeerState};
use cib::model::{AgentClass, Cib, Resource as CibResource, Score};

use crate::natural;
use crate::nvsets::{as_written, is_true, unpack_into};
use crate::options::NoQuorumPolicy;
use crate::rules::RuleInput;
use crate::working_set::{Node, NodeId, NodeKind, Variant, WorkingSet};

fn new_node(id: &str, uname: &str, kind: NodeKind, unclean: bool) -> Node {
    Node {
        id: id.to_string(),
        uname: uname.to_string(),
        kind,
        online: false,
        unclean,
        fence_reasons: Vec::new(),
        pending: false,
        standby: false,
        standby_onfail: false,
        maintenance: false,
        shutdown: false,
        expected_up: false,
        unseen: true,
        is_dc: false,
        unpacked: false,
        remote_was_fenced: false,
        remote_requires_reset: false,
        remote_rsc: None,
        attrs: BTreeMap::new(),
        utilization: BTreeMap::new(),
        weight: Score::ZERO,
        running: Vec::new(),
    }
}

/// Pacemaker's built-in node attributes.
fn builtin_attrs(ws: &WorkingSet, node: &mut Node) {
    node.attrs.insert("#uname".into(), node.uname.clone());
    node.attrs.insert("#id".into(), node.id.clone());
    let kind = match node.kind {
        NodeKind::Cluster | NodeKind::Ping => "cluster",
        NodeKind::Remote => "remote",
        NodeKind::Guest => "container",
    };
    node.attrs.insert("#kind".into(), kind.into());
    node.attrs.insert("#is_dc".into(), if node.is_dc { "true" } else { "false" }.into());
    if let Some(name) = &ws.options.cluster_name {
        node.attrs.insert("#cluster-name".into(), name.clone());
    }
}

/// Creates the configured nodes and those implied by remote connection
/// and guest resources, in natural name order.
pub(super) fn unpack_nodes(ws: &mut WorkingSet, cib: &Cib) {
    let mut nodes = Vec::new();
    for n in &cib.nodes {
        let kind = match n.kind {
            NodeType::Member | NodeType::Normal => NodeKind::Cluster,
            NodeType::Ping => NodeKind::Ping,
            NodeType::Remote => NodeKind::Remote,
        };
        // All cluster nodes are unclean until their status entry is seen,
        // unless startup fencing is disabled.
        let unclean = kind == NodeKind::Cluster && ws.options.stonith_enabled && ws.options.startup_fencing;
        let mut node = new_node(&n.id, &n.uname, kind, unclean);
        node.is_dc = cib.dc_uuid.as_deref() == Some(n.id.as_str());
        node.weight = n.score.unwrap_or(Score::ZERO);
        builtin_attrs(ws, &mut node);
        let snapshot = node.attrs.clone();
        let input = RuleInput { now: ws.now, node_attrs: Some(&snapshot), ..Default::default() };
        unpack_into(&mut node.attrs, &n.instance_attributes, None, &input, false, as_written);
        unpack_into(&mut node.utilization, &n.utilization, None, &input, false, as_written);
        nodes.push(node);
    }
    // Remote connections and guests that are not configured as nodes.
    for (name, kind) in implied_nodes(cib) {
        if let Some(n) = nodes.iter_mut().find(|n: &&mut Node| n.id == name || n.uname == name) {
            // A remote node the nodes section names, run by a bundle or a
            // `remote-node` resource, is a guest node.
            if kind == NodeKind::Guest && n.kind == NodeKind::Remote {
                n.kind = NodeKind::Guest;
            }
            continue;
        }
        let mut node = new_node(&name, &name, kind, false);
        builtin_attrs(ws, &mut node);
        nodes.push(node);
    }
    // Stable sort: Pacemaker inserts each node before the first greater one.
    nodes.sort_by(|a, b| natural::compare(&a.uname, &b.uname));
    ws.dc_node = nodes.iter().position(|n| n.is_dc).map(NodeId);
    ws.nodes = nodes;
}

/// Nodes implied by resources: `ocf:pacemaker:remote` primitives name
/// remote nodes, the `remote-node` meta-attribute names guest nodes.
fn implied_nodes(cib: &Cib) -> Vec<(String, NodeKind)> {
    let mut out = Vec::new();
    for r in &cib.resources {
        // Resources inside clones cannot be remote connections.
        let prims = match r {
            CibResource::Primitive(p) => vec![p],
            CibResource::Group(g) => g.children.iter().collect(),
            _ => Vec::new(),
        };
        for p in prims {
            if p.class == AgentClass::Ocf && p.provider.as_deref() == Some("pacemaker") && p.agent_type == "remote" {
                out.push((p.id.clone(), NodeKind::Remote));
            }
            let guest = p.meta_attributes.iter().flat_map(|s| s.pairs.iter()).find(|pair| pair.name == "remote-node");
            if let Some(v) = guest.and_then(|pair| pair.value.clone()) {
                out.push((v, NodeKind::Guest));
            }
        }
        // A bundle's replicas that run its primitive are guest nodes.
        if let CibResource::Bundle(b) = r {
            if let Some(l) = super::resources::bundle_layout(b).filter(|l| l.inside) {
                out.extend((0..l.replicas).map(|i| (format!("{}-{i}", b.id), NodeKind::Guest)));
            }
        }
    }
    out
}

/// A remote node (a guest node when the history names the connection's
/// container) for an orphaned remote connection (history but no
/// configuration), as Pacemaker's `create_fake_resource` makes one while
/// unpacking the history: after the resources (so clone-max does not
/// count it), offline until its own status entry says otherwise.
/// Appended rather than inserted in name order, so that node ids never
/// shift during unpacking.
pub(super) fn orphan_remote_node(ws: &mut WorkingSet, id: &str, kind: NodeKind) -> NodeId {
    if let Some(n) = ws.nodes.iter().position(|n| n.id == id || n.uname == id) {
        return NodeId(n);
    }
    let mut node = new_node(id, id, kind, false);
    builtin_attrs(ws, &mut node);
    ws.nodes.push(node);
    NodeId(ws.nodes.len() - 1)
}

/// Points remote and guest nodes at the resources that provide them.
pub(super) fn link_remote_nodes(ws: &mut WorkingSet) {
    for i in 0..ws.nodes.len() {
        let node = &ws.nodes[i];
        match node.kind {
            NodeKind::Remote => {
                let rsc = (0..ws.resources.len()).find(|r| {
                    let res = &ws.resources[*r];
                    res.id == node.id && matches!(&res.variant, Variant::Primitive(p) if p.agent == "remote")
                });
                if let Some(r) = rsc {
                    ws.resources[r].is_remote_node = true;
                    ws.nodes[i].remote_rsc = Some(crate::working_set::RscId(r));
                }
            }
            NodeKind::Guest => {
                let rsc = (0..ws.resources.len()).find(|r| ws.resources[*r].id == node.id && ws.resources[*r].is_remote_node);
                if let Some(r) = rsc {
                    ws.nodes[i].remote_rsc = Some(crate::working_set::RscId(r));
                }
            }
            _ => {}
        }
    }
}

/// Marks a node for fencing (Pacemaker's `pe_fence_node`).
pub(crate) fn fence_node(ws: &mut WorkingSet, node: NodeId, reason: String) {
    let n = &mut ws.nodes[node.0];
    match n.kind {
        NodeKind::Guest => {
            // A guest is "fenced" by recovering its container.
            if let Some(conn) = n.remote_rsc {
                if let Some(container) = ws.resources[conn.0].container {
                    let c = &mut ws.resources[container.0];
                    if !c.flags.failed && c.flags.managed {
                        c.flags.failed = true;
                        c.flags.stop = true;
                    }
                }
            }
            n.fence_reasons.push(reason);
        }
        NodeKind::Remote => {
            let managed = n.remote_rsc.map(|r| ws.resources[r.0].flags.managed).unwrap_or(true);
            let n = &mut ws.nodes[node.0];
            if managed {
                n.remote_requires_reset = true;
            }
            n.unclean = true;
            n.fence_reasons.push(reason);
            ws.early_actions.push(crate::working_set::EarlyAction::Fence(node));
        }
        _ => {
            if !n.unclean {
                n.unclean = true;
            }
            n.fence_reasons.push(reason);
            ws.early_actions.push(crate::working_set::EarlyAction::Fence(node));
        }
    }
}

/// First pass over a cluster node's `node_state`: transient attributes,
/// standby and maintenance, online status.
pub(super) fn unpack_node_state(ws: &mut WorkingSet, node: NodeId, state: &NodeState) {
    unpack_transient_attributes(ws, node, state);
    {
        let n = &mut ws.nodes[node.0];
        // Provisionally clean: it has been seen in this cluster's lifetime.
        n.unclean = false;
        n.unseen = false;
    }
    determine_online_status(ws, node, state);
    let n = &ws.nodes[node.0];
    if !ws.have_quorum && n.online && ws.options.no_quorum_policy == NoQuorumPolicy::Suicide {
        fence_node(ws, node, "cluster does not have quorum".into());
    }
}

/// Transient attributes override configured ones; `standby` and
/// `maintenance` take effect.
pub(super) fn unpack_transient_attributes(ws: &mut WorkingSet, node: NodeId, state: &NodeState) {
    let now = ws.now;
    let n = &mut ws.nodes[node.0];
    let snapshot = n.attrs.clone();
    let input = RuleInput { now, node_attrs: Some(&snapshot), ..Default::default() };
    unpack_into(&mut n.attrs, &state.transient_attributes, None, &input, true, as_written);
    if is_true(n.attr("standby")) {
        n.standby = true;
    }
    if is_true(n.attr("maintenance")) {
        n.maintenance = true;
    }
}

fn determine_online_status(ws: &mut WorkingSet, node: NodeId, state: &NodeState) {
    {
        let n = &mut ws.nodes[node.0];
        n.shutdown = false;
        n.expected_up = false;
        match n.attr("shutdown") {
            Some(s) if s != "0" => n.shutdown = true,
            _ => {
                if state.expected == Some(JoinState::Member) {
                    n.expected_up = true;
                }
            }
        }
    }
    let online = match ws.nodes[node.0].kind {
        NodeKind::Ping => {
            ws.nodes[node.0].unclean = false;
            false
        }
        _ if !ws.options.stonith_enabled => online_without_fencing(ws, node, state),
        _ => online_with_fencing(ws, node, state),
    };
    let n = &mut ws.nodes[node.0];
    if online {
        n.online = true;
    } else {
        n.weight = Score::MINUS_INFINITY;
    }
    if online && n.shutdown {
        n.weight = Score::MINUS_INFINITY;
    }
}

fn is_online_peer(state: &NodeState) -> bool {
    state.crmd == Some(PeerState::Online)
}

fn online_without_fencing(ws: &mut WorkingSet, node: NodeId, state: &NodeState) -> bool {
    if state.in_ccm != Some(true) {
        false
    } else if is_online_peer(state) {
        state.join == Some(JoinState::Member)
    } else if !ws.nodes[node.0].expected_up {
        false
    } else {
        fence_node(ws, node, "peer is unexpectedly down".into());
        false
    }
}

fn online_with_fencing(ws: &mut WorkingSet, node: NodeId, state: &NodeState) -> bool {
    let terminate = ws.nodes[node.0].attr("terminate").map(str::to_string);
    let do_terminate = match terminate.as_deref() {
        Some(t) if is_true(Some(t)) => true,
        // Could be a time() value.
        Some(t) => t.starts_with(|c: char| c.is_ascii_digit() && c != '0'),
        None => false,
    };
    let in_cluster = state.in_ccm;
    let crmd_online = is_online_peer(state);
    let expected = state.expected.clone().unwrap_or(JoinState::Down);
    let join = state.join.clone();
    let mut online = in_cluster == Some(true);

    if ws.nodes[node.0].shutdown {
        // Slightly different criteria: a dead peer cannot be shut down.
        online = crmd_online;
    } else if in_cluster.is_none() {
        fence_node(ws, node, "peer has not been seen by the cluster".into());
    } else if join == Some(JoinState::Banned) {
        fence_node(ws, node, "peer failed Pacemaker membership criteria".into());
    } else if !do_terminate && expected == JoinState::Down {
        if in_cluster == Some(true) || crmd_online {
            let n = &mut ws.nodes[node.0];
            n.standby = true;
            n.pending = true;
        }
    } else if do_terminate && join == Some(JoinState::Down) && in_cluster != Some(true) && !crmd_online {
        // Just shot.
        online = false;
    } else if in_cluster != Some(true) {
        fence_node(ws, node, "peer is no longer part of the cluster".into());
    } else if !crmd_online {
        fence_node(ws, node, "peer process is no longer available".into());
    } else if do_terminate {
        fence_node(ws, node, "termination was requested".into());
    } else if join == Some(JoinState::Member) {
        // Active.
    } else if matches!(join, Some(JoinState::Pending) | Some(JoinState::Down)) {
        let n = &mut ws.nodes[node.0];
        n.standby = true;
        n.pending = true;
    } else {
        fence_node(ws, node, "peer was in an unknown state".into());
    }
    online
}

/// Whether a node can be fenced (`pe_can_fence`): fencing enabled, a
/// fencing device configured, and quorum (or a policy or membership that
/// allows fencing without it).
pub(crate) fn can_fence(ws: &WorkingSet, node: NodeId) -> bool {
    let n = ws.node(node);
    if n.kind == NodeKind::Guest {
        return true;
    }
    let have_device = ws.resources.iter().any(|r| matches!(&r.variant, Variant::Primitive(p) if p.class == AgentClass::Stonith));
    if !ws.options.stonith_enabled || !have_device {
        return false;
    }
    ws.have_quorum || ws.options.no_quorum_policy == NoQuorumPolicy::Ignore || n.online
}

/// Online status of a remote or guest node, known only once the history
/// of its connection has been unpacked.
pub(super) fn determine_remote_online_status(ws: &mut WorkingSet, node: NodeId) {
    use cib::model::Role;
    let Some(rsc) = ws.nodes[node.0].remote_rsc else {
        ws.nodes[node.0].online = false;
        return;
    };
    let r = ws.rsc(rsc).clone();
    let container = r.container.map(|c| ws.rsc(c).clone());
    let host = if container.is_some() && r.running_on.len() == 1 { Some(r.running_on[0]) } else { None };
    let n = &mut ws.nodes[node.0];
    if r.role == Role::Started {
        n.online = true;
    }
    if r.role == Role::Started && r.next_role == Role::Stopped {
        n.shutdown = true;
    }
    let failed = container.as_ref().is_some_and(|c| c.flags.failed) || r.flags.failed;
    let stopped = r.role == Role::Stopped || container.as_ref().is_some_and(|c| c.role == Role::Stopped);
    if container.as_ref().is_some_and(|c| c.flags.failed) {
        n.online = false;
        n.remote_requires_reset = true;
    } else if failed || stopped {
        n.online = false;
    } else if let Some(h) = host {
        let hn = &ws.nodes[h.0];
        if !hn.online && hn.unclean {
            ws.nodes[node.0].online = false;
            ws.nodes[node.0].remote_requires_reset = true;
        }
    }
}
