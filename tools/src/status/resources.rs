//! The resource list: one entry per top-level resource, as Pacemaker
//! 2.1.5's text printers write primitives (`pcmk__native_output_string`),
//! groups and clones (`pe__clone_default`).

use std::collections::BTreeMap;

use cib::model::{AgentClass, Role};
use pengine::{natural, NodeId, RscId, Variant, WorkingSet};

use super::text::Out;
use super::ShowOptions;

/// Writes "Full List of Resources" at `level`.
pub fn resource_list(out: &mut Out, ws: &WorkingSet, level: usize, opts: ShowOptions) {
    out.header(level, if opts.inactive { "Full List of Resources" } else { "Active Resources" });
    let mut printed = false;
    for &r in &ws.top_level {
        let active = ws.is_active(r, true);
        let partially = ws.is_active(r, false);
        if ws.rsc(r).flags.orphan && !active {
            // Deleted and stopped: nothing to show.
            continue;
        }
        if !partially && !opts.inactive {
            continue;
        }
        printed |= print_resource(out, ws, r, level + 1, opts);
    }
    if !printed {
        out.item(level + 1, if opts.inactive { "No resources" } else { "No active resources" });
    }
}

/// Writes one top-level (or child) resource; false when nothing was shown.
pub fn print_resource(out: &mut Out, ws: &WorkingSet, r: RscId, level: usize, opts: ShowOptions) -> bool {
    match ws.rsc(r).variant {
        Variant::Primitive(_) => {
            // Implicit resources (guest node connections) are not listed.
            if ws.rsc(r).meta("internal_rsc").is_some_and(|v| v == "true") {
                return false;
            }
            out.item(level, &primitive_text(ws, r, opts, out.shows_nodes()));
            true
        }
        Variant::Group => print_group(out, ws, r, level, opts),
        Variant::Clone(_) => print_clone(out, ws, r, level, opts),
        Variant::Bundle => print_bundle(out, ws, r, level, opts),
    }
}

/// A bundle (`pe__bundle_text`): a header, then one line per replica
/// (`pe__bundle_replica_output_text`): named after its connection (else
/// its container) and address, showing the primitive inside (else the
/// container), placed on the container's node.
fn print_bundle(out: &mut Out, ws: &WorkingSet, r: RscId, level: usize, opts: ShowOptions) -> bool {
    let res = ws.rsc(r);
    let Some(info) = res.bundle.as_deref() else {
        out.header(level, &format!("Container bundle: {}", res.id));
        return true;
    };
    out.header(
        level,
        &format!(
            "Container bundle{}: {} [{}]{}{}",
            if info.replicas > 1 { " set" } else { "" },
            res.id,
            info.image,
            if res.flags.unique { " (unique)" } else { "" },
            if res.flags.managed { "" } else { " (unmanaged)" }
        ),
    );
    let child_of = |id: &str| res.children.iter().copied().find(|&c| ws.rsc(c).id == id);
    for i in 0..info.replicas {
        let container = child_of(&format!("{}-{}-{i}", res.id, info.kind));
        let remote = if info.inside { child_of(&format!("{}-{i}", res.id)) } else { None };
        let inside = res.children.iter().copied().find(|&c| {
            let cr = ws.rsc(c);
            cr.bundle.is_none() && cr.meta("internal_rsc") != Some("true") && cr.id.rsplit_once(':').is_some_and(|(_, n)| n == i.to_string())
        });
        let Some(shown) = inside.or(container) else { continue };
        let mut name = remote.or(container).map(|x| ws.rsc(x).id.clone()).unwrap_or_default();
        if let Some(start) = info.ip_start {
            name.push_str(&format!(" ({})", std::net::Ipv4Addr::from(u32::from(start).wrapping_add(i))));
        }
        let node = container.and_then(|c| ws.rsc(c).running_on.first().copied());
        out.item(level + 1, &named_text(ws, shown, &name, node, opts, out.shows_nodes()));
    }
    true
}

/// How an OCF exit code reads in status output (`services_ocf_exitcode_str`).
pub fn ocf_exit_text(rc: i32) -> &'static str {
    match rc {
        0 => "ok",
        1 => "error",
        2 => "invalid parameter",
        3 => "unimplemented feature",
        4 => "insufficient privileges",
        5 => "not installed",
        6 => "not configured",
        7 => "not running",
        8 => "promoted",
        9 => "promoted (failed)",
        // Pacemaker 2.1.5's own spellings.
        190 => "OCF_DEGRADED",
        191 => "promoted (degraded)",
        _ => "unknown",
    }
}

/// The displayed role: Started reads Unpromoted inside a promotable clone.
fn displayable_role(ws: &WorkingSet, r: RscId) -> Role {
    let role = ws.rsc(r).role;
    if role == Role::Started && ws.in_promotable(r) {
        Role::Unpromoted
    } else {
        role
    }
}

/// The state shown for an operation in flight (`native_pending_state`).
pub fn pending_state(task: Option<&str>) -> Option<&'static str> {
    Some(match task? {
        "start" => "Starting",
        "stop" => "Stopping",
        "migrate_to" | "migrate_from" => "Migrating",
        "promote" => "Promoting",
        "demote" => "Demoting",
        _ => return None,
    })
}

/// A failed probe of this resource recorded for a node (any node when
/// `node` is `None`): status shows the agent's reason, e.g. "not
/// installed" (`pe__failed_probe_for_rsc`).
fn failed_probe_rc(ws: &WorkingSet, r: RscId, node: Option<&str>) -> Option<i32> {
    let top = ws.top(r);
    let rsc_id = match ws.rsc(top).clone_info() {
        Some(c) => c.child_xml_id.as_str(),
        None => ws.rsc(r).id.as_str(),
    };
    ws.failed_ops.iter().find_map(|f| {
        let is_masked_probe = f.operation == "monitor" && f.interval_ms == 0 && (f.rc_code == 5 || f.rc_code == 2 || f.op_status == 7);
        let on = f.on_node.as_deref()?;
        if !is_masked_probe || node.is_some_and(|n| !n.eq_ignore_ascii_case(on)) {
            return None;
        }
        let (op_rsc, _, _) = parse_op_key(&f.op_key)?;
        (op_rsc == rsc_id).then_some(f.rc_code)
    })
}

/// Splits `rsc_task_interval` (`parse_op_key`); the resource id may
/// itself contain underscores.
fn parse_op_key(key: &str) -> Option<(&str, &str, u64)> {
    let (rest, interval) = key.rsplit_once('_')?;
    let interval = interval.parse().ok()?;
    // Notifications: rsc_post_notify_start_0 and friends.
    for special in ["_pre_notify_", "_post_notify_", "_confirmed-pre_notify_", "_confirmed-post_notify_"] {
        if let Some(i) = rest.find(special) {
            return Some((&rest[..i], &rest[i + 1..], interval));
        }
    }
    let (rsc, task) = rest.rsplit_once('_')?;
    // Tasks with an underscore: migrate_to, migrate_from.
    if task == "to" || task == "from" {
        if let Some(r) = rsc.strip_suffix("_migrate") {
            return Some((r, &rest[r.len() + 1..], interval));
        }
    }
    Some((rsc, task, interval))
}

/// One primitive's line (`pcmk__native_output_string`).
pub fn primitive_line(ws: &WorkingSet, r: RscId, opts: ShowOptions) -> String {
    primitive_text(ws, r, opts, true)
}

/// A primitive's line; without `show_node` the node name is left out, as
/// when resources are listed under their node (`pcmk_show_rsc_only`).
pub fn primitive_text(ws: &WorkingSet, r: RscId, opts: ShowOptions, show_node: bool) -> String {
    let res = ws.rsc(r);
    let node: Option<NodeId> = res.running_on.first().copied().or(res.pending_node);
    named_text(ws, r, ws.printable_id(r), node, opts, show_node)
}

/// `pcmk__native_output_string` for `r` under `name`, placed on `node`
/// (the resource's current node, or for a bundle replica its
/// container's).
fn named_text(ws: &WorkingSet, r: RscId, name: &str, node: Option<NodeId>, opts: ShowOptions, show_node: bool) -> String {
    let res = ws.rsc(r);
    let p = res.primitive().expect("a primitive");
    let multiple = res.running_on.len() > 1;
    let mut node = node;
    if node.is_none() {
        node = res.lock_node;
    }
    // Listed without nodes (pcmk_show_rsc_only) or on several: no one node
    // to name, flag as unclean or locked.
    if multiple || !show_node {
        node = None;
    }
    let provider = if p.class == AgentClass::Ocf { p.provider.as_deref() } else { None };
    let mut s = format!("{}\t({}{}{}:{}):\t", name, p.class.as_str(), if provider.is_some() { ":" } else { "" }, provider.unwrap_or(""), p.agent);
    if res.flags.orphan {
        s.push_str(" ORPHANED");
    }
    let role = displayable_role(ws, r);
    if res.flags.failed {
        s.push_str(" FAILED");
        if role > Role::Unpromoted {
            s.push(' ');
            s.push_str(role.as_str());
        }
    } else {
        let state = opts.pending.then(|| pending_state(res.pending_task.as_deref())).flatten().unwrap_or(role.as_str());
        s.push(' ');
        s.push_str(state);
    }
    if let Some(n) = node.filter(|_| show_node) {
        s.push(' ');
        s.push_str(&ws.node(n).uname);
    }
    if role == Role::Stopped {
        if let Some(rc) = failed_probe_rc(ws, r, node.map(|n| ws.node(n).uname.as_str())) {
            s.push_str(&format!(" ({}) ", ocf_exit_text(rc)));
        }
    }
    let mut flags: Vec<String> = Vec::new();
    if let Some(n) = node {
        let nn = ws.node(n);
        if !nn.online && nn.unclean {
            flags.push("UNCLEAN".into());
        }
        if res.lock_node == Some(n) {
            flags.push("LOCKED".into());
        }
    }
    if opts.pending && res.pending_task.as_deref() == Some("monitor") {
        flags.push("Monitoring".into());
    }
    if let Some(tr) = res.meta("target-role") {
        match Role::parse(tr) {
            Some(Role::Stopped) => flags.push("disabled".into()),
            Some(Role::Unpromoted) if ws.rsc(ws.top(r)).flags.promotable => flags.push(format!("target-role:{tr}")),
            _ => {}
        }
    }
    if res.flags.blocked {
        flags.push("blocked".into());
    } else if !res.flags.managed {
        flags.push("unmanaged".into());
    }
    if res.flags.failure_ignored {
        flags.push("failure ignored".into());
    }
    if !flags.is_empty() {
        s.push_str(&format!(" ({})", flags.join(", ")));
    }
    if multiple || !show_node {
        // Pacemaker 2.1.5 adds it as a plain word (`pcmk__add_word`).
        if let Some(d) = &res.description {
            s.push(' ');
            s.push_str(d);
        }
    }
    if multiple && show_node {
        let names: Vec<&str> = res.running_on.iter().map(|n| ws.node(*n).uname.as_str()).collect();
        s.push_str(&format!(" [ {} ]", names.join(" ")));
    }
    s
}

fn print_group(out: &mut Out, ws: &WorkingSet, r: RscId, level: usize, opts: ShowOptions) -> bool {
    let res = ws.rsc(r);
    if res.children.is_empty() {
        return false;
    }
    let mut attrs: Vec<String> = Vec::new();
    // Without inactive resources (crm_mon's default) a partially active
    // group hides its stopped members and says how many there are.
    if !opts.inactive && !ws.is_active(r, true) && ws.is_active(r, false) {
        let n = res.children.iter().filter(|c| !ws.is_active(**c, true)).count();
        if n > 0 {
            attrs.push(format!("{n} member{} inactive", if n == 1 { "" } else { "s" }));
        }
    }
    if !res.flags.managed {
        attrs.push("unmanaged".into());
    }
    if ws.is_disabled(r) {
        attrs.push("disabled".into());
    }
    let header = if attrs.is_empty() { format!("Resource Group: {}", res.id) } else { format!("Resource Group: {} ({})", res.id, attrs.join(", ")) };
    out.header(level, &header);
    for &c in &res.children {
        if !opts.inactive && !ws.is_active(c, false) {
            continue;
        }
        print_resource(out, ws, c, level + 1, opts);
    }
    true
}

/// Whether any (`any`) or every resource of a subtree has a flag.
fn flag_recursive(ws: &WorkingSet, r: RscId, flag: fn(&pengine::Resource) -> bool, any: bool) -> bool {
    let sub = ws.subtree(r);
    if any {
        sub.iter().any(|x| flag(ws.rsc(*x)))
    } else {
        sub.iter().all(|x| flag(ws.rsc(*x)))
    }
}

/// The clone's configured target-role (its own or its instances').
fn configured_role(ws: &WorkingSet, clone: RscId) -> Option<Role> {
    let res = ws.rsc(clone);
    let tr = res.meta("target-role").or_else(|| res.children.first().and_then(|c| ws.rsc(*c).meta("target-role")))?;
    Role::parse(tr)
}

fn print_clone(out: &mut Out, ws: &WorkingSet, r: RscId, level: usize, opts: ShowOptions) -> bool {
    let res = ws.rsc(r);
    let info = res.clone_info().expect("a clone");
    let mut attrs = Vec::new();
    if res.flags.promotable {
        attrs.push("promotable");
    }
    if res.flags.unique {
        attrs.push("unique");
    }
    if ws.is_disabled(r) {
        attrs.push("disabled");
    }
    if !res.flags.managed {
        attrs.push("unmanaged");
    }
    let header = if attrs.is_empty() {
        format!("Clone Set: {} [{}]", res.id, info.child_xml_id)
    } else {
        format!("Clone Set: {} [{}] ({})", res.id, info.child_xml_id, attrs.join(", "))
    };
    let mut header_done = false;
    let mut ensure_header = |out: &mut Out| {
        if !header_done {
            out.header(level, &header);
            header_done = true;
        }
    };

    let mut stopped: BTreeMap<String, String> = BTreeMap::new();
    let mut promoted: Vec<NodeId> = Vec::new();
    let mut started: Vec<NodeId> = Vec::new();
    for &child in &res.children {
        let c = ws.rsc(child);
        let partially = ws.is_active(child, false);
        let mut full = false;
        if res.flags.unique {
            if partially || !res.flags.orphan {
                full = true;
            }
        } else if opts.pending && c.pending_task.as_deref().is_some_and(|t| t != "probe") {
            full = true;
        } else if !partially {
            if !c.flags.orphan && opts.inactive {
                stopped.insert(c.id.clone(), "Stopped".into());
            }
        } else if flag_recursive(ws, child, |x| x.flags.orphan, true)
            || !flag_recursive(ws, child, |x| x.flags.managed, false)
            || flag_recursive(ws, child, |x| x.flags.failed, true)
        {
            full = true;
        } else if ws.is_active(child, true) {
            let locs = ws.locations(child, false);
            if locs.len() == 1 {
                let n = ws.node(locs[0]);
                if !n.online && n.unclean {
                    full = true;
                } else if ws.current_role(child) > Role::Unpromoted {
                    promoted.push(locs[0]);
                } else {
                    started.push(locs[0]);
                }
            } else {
                full = true;
            }
        } else {
            full = true;
        }
        if full {
            ensure_header(out);
            print_resource(out, ws, child, level + 1, opts);
        }
    }
    let by_name = |a: &NodeId, b: &NodeId| natural::compare(&ws.node(*a).uname, &ws.node(*b).uname);
    promoted.sort_by(by_name);
    started.sort_by(by_name);
    let mut active_instances = 0;
    if !promoted.is_empty() {
        active_instances += promoted.len();
        ensure_header(out);
        let names: Vec<&str> = promoted.iter().map(|n| ws.node(*n).uname.as_str()).collect();
        out.item(level + 1, &format!("Promoted: [ {} ]", names.join(" ")));
    }
    if !started.is_empty() {
        active_instances += started.len();
        ensure_header(out);
        let names: Vec<&str> = started.iter().map(|n| ws.node(*n).uname.as_str()).collect();
        let label = if res.flags.promotable {
            if configured_role(ws, r) == Some(Role::Unpromoted) {
                "Unpromoted (target-role)"
            } else {
                "Unpromoted"
            }
        } else {
            "Started"
        };
        out.item(level + 1, &format!("{label}: [ {} ]", names.join(" ")));
    }
    if opts.inactive {
        if !res.flags.unique && (info.clone_max as usize) > active_instances {
            stopped.clear();
            let mut candidates: Vec<NodeId> = res.allowed_nodes.keys().copied().collect();
            if candidates.is_empty() {
                candidates = res.known_on.iter().copied().collect();
            }
            candidates.sort_by(by_name);
            for n in candidates {
                if res.running_on.contains(&n) || guest_of_earlier_bundle(ws, r, n) {
                    continue;
                }
                let uname = ws.node(n).uname.clone();
                let state = match failed_probe_rc(ws, r, Some(&uname)) {
                    Some(rc) => format!("Stopped ({})", ocf_exit_text(rc)),
                    None if configured_role(ws, r) == Some(Role::Stopped) => "Stopped (disabled)".into(),
                    None => "Stopped".into(),
                };
                stopped.insert(uname, state);
            }
        }
        if !stopped.is_empty() {
            ensure_header(out);
            let mut states: Vec<&String> = stopped.values().collect();
            states.sort();
            states.dedup();
            for state in states {
                let mut names: Vec<&String> = stopped.iter().filter(|(_, s)| *s == state).map(|(n, _)| n).collect();
                names.sort_by(|a, b| natural::compare(a, b));
                let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
                out.item(level + 1, &format!("{state}: [ {} ]", names.join(" ")));
            }
        } else if active_instances == 0 {
            ensure_header(out);
        }
    }
    header_done
}

/// Whether `n` is the guest node of a bundle unpacked before `r`. Pacemaker
/// creates such a node while unpacking the bundle and marks it never to be
/// probed, so the symmetric default score skips it for every resource
/// unpacked later: it is not among their allowed nodes, hence in no
/// "Stopped" list (the working set keeps it at -INFINITY for scheduling).
fn guest_of_earlier_bundle(ws: &WorkingSet, r: RscId, n: NodeId) -> bool {
    let uname = &ws.node(n).uname;
    ws.resources[..r.0.min(ws.resources.len())].iter().any(|b| {
        b.bundle.as_deref().is_some_and(|info| info.inside && (0..info.replicas).any(|k| *uname == format!("{}-{k}", b.id)))
    })
}
