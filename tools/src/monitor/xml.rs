//! `crm_mon --output-as xml`: the `<pacemaker-result>` document of
//! Pacemaker's crm_mon API schema (api-version 2.25, as 2.1.5 writes it).
//! Every section is present: summary, nodes, resources (inactive ones
//! too), node attributes, node history with timings, failures, bans,
//! tickets, status.

use cib::model::Role;
use cib::Element;
use pengine::options::NoQuorumPolicy;
use pengine::{NodeId, NodeKind, RscId, Variant, WorkingSet};

use super::clock::{ctime, iso_with_zone};
use super::snapshot::{display_task, exec_status_text, Snapshot};
use super::Options;
use crate::status::nodes::node_health;
use crate::status::resources::ocf_exit_text;

/// The API version crm_mon 2.1.5 declares.
pub const API_VERSION: &str = "2.25";

fn b(v: bool) -> &'static str {
    if v {
        "true"
    } else {
        "false"
    }
}

/// A remote node whose connection resource is an orphan still running:
/// Pacemaker's unpacker (`determine_remote_online_status`) counts the node
/// as shutting down, the connection being headed for Stopped (orphans are
/// stopped while `stop-orphan-resources` holds).
fn orphaned_connection_running(ws: &WorkingSet, n: &pengine::Node) -> bool {
    n.kind == NodeKind::Remote
        && ws.options.stop_orphan_resources
        && ws.resources.iter().any(|r| r.is_remote_node && r.id == n.uname && r.flags.orphan && !r.running_on.is_empty())
}

/// The whole document; `request` is the command line as invoked.
pub fn render(snap: &Snapshot, opts: &Options, request: &str) -> String {
    let mut root = Element::new("pacemaker-result").with_attr("api-version", API_VERSION).with_attr("request", request);
    root = root.with_child(summary(snap));
    root = root.with_child(nodes(snap, opts));
    root = root.with_child(resources(snap));
    if let Some(e) = node_attributes(snap) {
        root = root.with_child(e);
    }
    if let Some(e) = node_history(snap) {
        root = root.with_child(e);
    }
    if let Some(e) = failures(snap) {
        root = root.with_child(e);
    }
    if let Some(e) = bans(snap) {
        root = root.with_child(e);
    }
    if let Some(e) = tickets(snap) {
        root = root.with_child(e);
    }
    root = root.with_child(Element::new("status").with_attr("code", "0").with_attr("message", "OK"));
    root.to_xml()
}

fn summary(snap: &Snapshot) -> Element {
    let ws = &snap.ws;
    let mut s = Element::new("summary").with_child(Element::new("stack").with_attr("type", snap.stack()));
    s = s.with_child(match ws.dc_node {
        Some(dc) => Element::new("current_dc")
            .with_attr("present", "true")
            .with_attr("version", snap.dc_version().unwrap_or(""))
            .with_attr("name", ws.node(dc).uname.as_str())
            .with_attr("id", ws.node(dc).id.as_str())
            .with_attr("with_quorum", b(snap.with_quorum()))
            .with_attr("mixed_version", b(snap.mixed_version())),
        None => Element::new("current_dc").with_attr("present", "false"),
    });
    s = s.with_child(Element::new("last_update").with_attr("time", ctime(snap.now)));
    let attr = |n: &str| snap.root.attr(n).unwrap_or("").to_string();
    s = s.with_child(
        Element::new("last_change")
            .with_attr("time", attr("cib-last-written"))
            .with_attr("user", attr("update-user"))
            .with_attr("client", attr("update-client"))
            .with_attr("origin", attr("update-origin")),
    );
    s = s.with_child(Element::new("nodes_configured").with_attr("number", snap.nodes_configured().to_string()));
    let (n, disabled, blocked) = snap.resource_counts();
    s = s.with_child(
        Element::new("resources_configured")
            .with_attr("number", n.to_string())
            .with_attr("disabled", disabled.to_string())
            .with_attr("blocked", blocked.to_string()),
    );
    let o = &ws.options;
    let ms = |name: &str, default: u64| {
        o.all.get(name).and_then(|v| cib::model::duration::parse_msec(v)).unwrap_or(default).to_string()
    };
    let nq = match o.no_quorum_policy {
        NoQuorumPolicy::Freeze => "freeze",
        NoQuorumPolicy::Stop => "stop",
        NoQuorumPolicy::Demote => "demote",
        NoQuorumPolicy::Ignore => "ignore",
        NoQuorumPolicy::Suicide => "suicide",
    };
    // priority-fencing-delay is kept in whole seconds, then shown in ms.
    let pfd = o.all.get("priority-fencing-delay").and_then(|v| cib::model::duration::parse_msec(v)).map(|v| v / 1000 * 1000).unwrap_or(0);
    s.with_child(
        Element::new("cluster_options")
            .with_attr("stonith-enabled", b(o.stonith_enabled))
            .with_attr("symmetric-cluster", b(o.symmetric_cluster))
            .with_attr("no-quorum-policy", nq)
            .with_attr("maintenance-mode", b(o.maintenance_mode))
            .with_attr("stop-all-resources", b(o.stop_all_resources))
            .with_attr("stonith-timeout-ms", ms("stonith-timeout", 60_000))
            .with_attr("priority-fencing-delay-ms", pfd.to_string()),
    )
}

fn health_text(h: i32) -> &'static str {
    match h {
        h if h < 0 => "red",
        0 => "yellow",
        _ => "green",
    }
}

fn nodes(snap: &Snapshot, opts: &Options) -> Element {
    let ws = &snap.ws;
    let mut list = Element::new("nodes");
    for (i, n) in ws.nodes.iter().enumerate() {
        let mut e = Element::new("node")
            .with_attr("name", n.uname.as_str())
            .with_attr("id", n.id.as_str())
            .with_attr("online", b(n.online))
            .with_attr("standby", b(n.standby))
            .with_attr("standby_onfail", b(n.standby_onfail))
            .with_attr("maintenance", b(n.maintenance))
            .with_attr("pending", b(n.pending))
            .with_attr("unclean", b(n.unclean))
            .with_attr("health", health_text(node_health(ws, n)));
        if let Some(fs) = snap.node_feature_set(NodeId(i)) {
            e.set_attr("feature_set", fs);
        }
        e.set_attr("shutdown", b(n.shutdown || orphaned_connection_running(ws, n)));
        e.set_attr("expected_up", b(n.expected_up));
        e.set_attr("is_dc", b(n.is_dc));
        e.set_attr("resources_running", n.running.len().to_string());
        e.set_attr(
            "type",
            match n.kind {
                NodeKind::Cluster => "member",
                NodeKind::Remote | NodeKind::Guest => "remote",
                NodeKind::Ping => "ping",
            },
        );
        if n.kind == NodeKind::Guest {
            if let Some(container) = n.remote_rsc.and_then(|r| ws.rsc(r).container) {
                e.set_attr("id_as_resource", ws.rsc(container).id.as_str());
            }
        }
        if opts.group_by_node {
            for &r in &n.running {
                if let Some(x) = resource(ws, r) {
                    e = e.with_child(x);
                }
            }
        }
        list = list.with_child(e);
    }
    list
}

fn resources(snap: &Snapshot) -> Element {
    resources_of(&snap.ws)
}

/// The `<resources>` list of a working set: every configured resource,
/// inactive ones included, orphans only while active (also crm_resource
/// `-L`'s XML).
pub fn resources_of(ws: &WorkingSet) -> Element {
    let mut list = Element::new("resources");
    for &r in &ws.top_level {
        if ws.rsc(r).flags.orphan && !ws.is_active(r, true) {
            continue;
        }
        if let Some(e) = resource(ws, r) {
            list = list.with_child(e);
        }
    }
    list
}

/// One resource element (`primitive`, `group`, `clone`, `bundle` forms).
pub fn resource(ws: &WorkingSet, r: RscId) -> Option<Element> {
    let res = ws.rsc(r);
    match &res.variant {
        Variant::Primitive(p) => {
            // Unlike the text, the XML lists implicit resources too
            // (guest nodes' connections).
            let role = displayable_role(ws, r);
            // An operation in flight names the state (`Starting`...).
            let state = crate::status::resources::pending_state(res.pending_task.as_deref()).unwrap_or(role.as_str());
            let mut e = Element::new("resource").with_attr("id", ws.printable_id(r)).with_attr("resource_agent", p.agent_spec()).with_attr("role", state);
            if let Some(tr) = res.meta("target-role") {
                e.set_attr("target_role", tr);
            }
            e.set_attr("active", b(ws.is_active(r, true)));
            e.set_attr("orphaned", b(res.flags.orphan));
            e.set_attr("blocked", b(res.flags.blocked));
            e.set_attr("managed", b(res.flags.managed));
            e.set_attr("failed", b(res.flags.failed));
            e.set_attr("failure_ignored", b(res.flags.failure_ignored));
            e.set_attr("nodes_running_on", res.running_on.len().to_string());
            // Only a pending monitor is named (pending probes are not
            // shown, other tasks are in the role).
            if res.pending_task.as_deref() == Some("monitor") {
                e.set_attr("pending", "Monitoring");
            }
            if let Some(l) = res.lock_node {
                e.set_attr("locked_to", ws.node(l).uname.as_str());
            }
            for &n in &res.running_on {
                let node = ws.node(n);
                e = e.with_child(Element::new("node").with_attr("name", node.uname.as_str()).with_attr("id", node.id.as_str()).with_attr("cached", b(node.online)));
            }
            Some(e)
        }
        Variant::Group => {
            let mut e = Element::new("group")
                .with_attr("id", res.id.as_str())
                .with_attr("number_resources", res.children.len().to_string())
                .with_attr("managed", b(res.flags.managed))
                .with_attr("disabled", b(ws.is_disabled(r)));
            // Pacemaker 2.1.5 does not show a group's description.
            for &c in &res.children {
                if let Some(x) = resource(ws, c) {
                    e = e.with_child(x);
                }
            }
            Some(e)
        }
        Variant::Clone(_) => {
            let mut e = Element::new("clone")
                .with_attr("id", res.id.as_str())
                .with_attr("multi_state", b(res.flags.promotable))
                .with_attr("unique", b(res.flags.unique))
                .with_attr("managed", b(res.flags.managed))
                .with_attr("disabled", b(ws.is_disabled(r)))
                .with_attr("failed", b(res.flags.failed))
                .with_attr("failure_ignored", b(res.flags.failure_ignored));
            // `configured_role_str`: the clone's own, else its first
            // instance's (a target-role set on the primitive inside).
            let first_child = res.children.first().and_then(|&c| ws.rsc(c).meta("target-role"));
            if let Some(tr) = res.meta("target-role").or(first_child) {
                e.set_attr("target_role", tr);
            }
            for &c in &res.children {
                if let Some(x) = resource(ws, c) {
                    e = e.with_child(x);
                }
            }
            Some(e)
        }
        Variant::Bundle => {
            let mut e = Element::new("bundle").with_attr("id", res.id.as_str());
            if let Some(info) = res.bundle.as_deref() {
                e.set_attr("type", info.kind);
                e.set_attr("image", info.image.as_str());
            }
            e.set_attr("unique", b(res.flags.unique));
            e.set_attr("managed", b(res.flags.managed));
            e.set_attr("failed", b(res.flags.failed));
            // `pe__bundle_xml`: one <replica> per replica, its address,
            // primitive instance, container and connection in that order.
            if let Some(info) = res.bundle.as_deref() {
                let by_id = |id: &str| res.children.iter().copied().find(|&c| ws.rsc(c).id == id);
                for i in 0..info.replicas {
                    let mut replica = Element::new("replica").with_attr("id", i.to_string());
                    let ip = info.ip_start.and_then(|s| by_id(&format!("{}-ip-{}", res.id, std::net::Ipv4Addr::from(u32::from(s).wrapping_add(i)))));
                    let inside = res.children.iter().copied().find(|&c| {
                        let cr = ws.rsc(c);
                        cr.meta("internal_rsc") != Some("true") && cr.id.rsplit_once(':').is_some_and(|(_, n)| n == i.to_string())
                    });
                    let container = by_id(&format!("{}-{}-{i}", res.id, info.kind));
                    let remote = if info.inside { by_id(&format!("{}-{i}", res.id)) } else { None };
                    for part in [ip, inside, container, remote].into_iter().flatten() {
                        if let Some(x) = resource(ws, part) {
                            replica = replica.with_child(x);
                        }
                    }
                    e = e.with_child(replica);
                }
            }
            Some(e)
        }
    }
}

fn displayable_role(ws: &WorkingSet, r: RscId) -> Role {
    let role = ws.rsc(r).role;
    if role == Role::Started && ws.in_promotable(r) {
        Role::Unpromoted
    } else {
        role
    }
}

fn node_attributes(snap: &Snapshot) -> Option<Element> {
    let ws = &snap.ws;
    let mut list = Element::new("node_attributes");
    let mut any = false;
    for (i, n) in ws.nodes.iter().enumerate() {
        if !n.online {
            continue;
        }
        let attrs = snap.display_attrs(NodeId(i));
        if attrs.is_empty() {
            continue;
        }
        any = true;
        let mut e = Element::new("node").with_attr("name", n.uname.as_str());
        for (name, value) in attrs {
            let mut a = Element::new("attribute").with_attr("name", name).with_attr("value", value);
            if let Some(x) = snap.ping_expected(NodeId(i), name) {
                a.set_attr("expected", x.to_string());
            }
            e = e.with_child(a);
        }
        list = list.with_child(e);
    }
    any.then_some(list)
}

fn node_history(snap: &Snapshot) -> Option<Element> {
    let ws = &snap.ws;
    let history = snap.history();
    if history.is_empty() {
        return None;
    }
    let mut list = Element::new("node_history");
    for (n, rscs) in history {
        let mut node_el = Element::new("node").with_attr("name", ws.node(n).uname.as_str());
        let mut any = false;
        for h in rscs {
            let Some(r) = h.rsc else { continue };
            if h.ops.is_empty() {
                continue;
            }
            any = true;
            let f = snap.failures(n, r);
            let mut rh = Element::new("resource_history")
                .with_attr("id", ws.printable_id(r))
                .with_attr("orphan", "false")
                .with_attr("migration-threshold", ws.rsc(r).migration_threshold.value().to_string());
            if f.count.value() > 0 {
                rh.set_attr("fail-count", f.count.value().to_string());
            }
            if f.last_failure > 0 {
                rh.set_attr("last-failure", ctime(f.last_failure));
            }
            for op in h.ops {
                let mut o = Element::new("operation_history")
                    .with_attr("call", op.call_id.to_string())
                    .with_attr("task", display_task(op))
                    // Read with a minimum of 0: a pending op's -1 shows as 0.
                    .with_attr("rc", op.rc_code.max(0).to_string())
                    .with_attr("rc_text", ocf_exit_text(op.rc_code.max(0)));
                if op.interval_ms != 0 {
                    o.set_attr("interval", format!("{}ms", op.interval_ms));
                }
                if let Some(t) = op.last_rc_change.filter(|t| *t > 0) {
                    o.set_attr("last-rc-change", ctime(t));
                }
                if let Some(e) = op.exec_time {
                    o.set_attr("exec-time", format!("{e}ms"));
                }
                if let Some(q) = op.queue_time {
                    o.set_attr("queue-time", format!("{q}ms"));
                }
                rh = rh.with_child(o);
            }
            node_el = node_el.with_child(rh);
        }
        if any {
            list = list.with_child(node_el);
        }
    }
    Some(list)
}

fn failures(snap: &Snapshot) -> Option<Element> {
    let failed = snap.failed_actions();
    if failed.is_empty() {
        return None;
    }
    let mut list = Element::new("failures");
    for f in failed {
        let key_name = if snap.failure_has_op_key(f) { "op_key" } else { "id" };
        let mut e = Element::new("failure")
            .with_attr(key_name, f.op_key.as_str())
            .with_attr("node", snap.ws.node(f.node).uname.as_str())
            .with_attr("exitstatus", ocf_exit_text(f.rc_code))
            .with_attr("exitreason", f.exit_reason.as_deref().unwrap_or("none"))
            .with_attr("exitcode", f.rc_code.to_string())
            .with_attr("call", f.call_id.to_string())
            .with_attr("status", exec_status_text(f.op_status));
        if let Some(t) = f.last_rc_change.filter(|t| *t > 0) {
            e.set_attr("last-rc-change", iso_with_zone(t));
            if let Some(q) = f.queue_time {
                e.set_attr("queued", q.to_string());
            }
            if let Some(x) = f.exec_time {
                e.set_attr("exec", x.to_string());
            }
            e.set_attr("interval", f.interval_ms.to_string());
            e.set_attr("task", f.operation.as_str());
        }
        list = list.with_child(e);
    }
    Some(list)
}

fn bans(snap: &Snapshot) -> Option<Element> {
    let bans = snap.bans();
    if bans.is_empty() {
        return None;
    }
    let mut list = Element::new("bans");
    for x in bans {
        list = list.with_child(
            Element::new("ban")
                .with_attr("id", x.id.as_str())
                .with_attr("resource", x.rsc.as_str())
                .with_attr("node", x.node.as_str())
                .with_attr("weight", x.weight.as_str())
                .with_attr("promoted-only", b(x.promoted_only))
                .with_attr("master_only", b(x.promoted_only)),
        );
    }
    Some(list)
}

fn tickets(snap: &Snapshot) -> Option<Element> {
    let tickets = snap.tickets();
    if tickets.is_empty() {
        return None;
    }
    let mut list = Element::new("tickets");
    for t in tickets {
        let mut e = Element::new("ticket")
            .with_attr("id", t.id.as_str())
            .with_attr("status", if t.granted { "granted" } else { "revoked" })
            .with_attr("standby", b(t.standby));
        if let Some(lg) = t.last_granted {
            e.set_attr("last-granted", ctime(lg));
        }
        list = list.with_child(e);
    }
    Some(list)
}
