//! Edits of a CIB's status section the way crm_simulate makes them
//! (Pacemaker 2.1.5's `pcmk_injections.c` and `pcmk__create_history_xml`):
//! node states, resource history entries, fail counts, tickets.
//!
//! Everything works on the CIB's root element in place. Time comes in as
//! an argument (`now`, epoch seconds): these functions read no clock.

use cib::xml::Element;

use super::Error;

/// The feature set Pacemaker 2.1.5 (as installed here) writes into the
/// history entries it makes up.
pub const FEATURE_SET: &str = "3.16.1";

/// `crm-debug-origin` of what crm_simulate writes (its `crm_system_name`).
pub const ORIGIN: &str = "crm_simulate";

/// The transition-engine id of history entries that no transition
/// produced (Pacemaker's `FAKE_TE_ID`).
const FAKE_TE_ID: &str = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

/// The first element in `e`'s subtree (itself included) satisfying
/// `pred`, mutably.
pub(crate) fn find_mut<'a>(e: &'a mut Element, pred: &dyn Fn(&Element) -> bool) -> Option<&'a mut Element> {
    if pred(e) {
        return Some(e);
    }
    let idx = e.elements().position(|c| c.descendants().any(pred))?;
    let child = e.elements_mut().nth(idx).expect("position of an element child");
    find_mut(child, pred)
}

/// The `n`th child element, mutably.
fn nth_mut(e: &mut Element, n: usize) -> &mut Element {
    e.elements_mut().nth(n).expect("index of an existing element child")
}

/// The status section, created (empty, at the end) when absent, as
/// crm_simulate adds one to any input lacking it.
pub fn status_mut(root: &mut Element) -> &mut Element {
    root.child_or_insert("status")
}

/// Pacemaker's `crm_xml_sanitize_id`: `:` and `#` cannot appear in an id.
pub fn sanitize_id(id: &str) -> String {
    id.chars().map(|c| if c == ':' || c == '#' { '.' } else { c }).collect()
}

/// The node id `query_node_uuid` finds for a node name (compared without
/// case): a configured node's id, a remote node's connection primitive
/// (`ocf:pacemaker:remote`), a guest node's `remote-node` value, or a
/// remote node's state entry; the first in document order.
pub fn query_node_uuid(root: &Element, uname: &str) -> Option<String> {
    let want = uname.to_ascii_lowercase();
    let eq = |v: Option<&str>| v.is_some_and(|v| v.to_ascii_lowercase() == want);
    let mut found = None;
    if let Some(config) = root.child("configuration") {
        if let Some(nodes) = config.child("nodes") {
            found = nodes.children_named("node").find(|n| eq(n.attr("uname"))).and_then(|n| n.id().map(String::from));
        }
        if found.is_none() {
            if let Some(resources) = config.child("resources") {
                for p in resources.children_named("primitive") {
                    let remote = p.attr("class") == Some("ocf") && p.attr("provider") == Some("pacemaker") && p.attr("type") == Some("remote");
                    if remote && eq(p.id()) {
                        found = p.id().map(String::from);
                        break;
                    }
                    let guest = p
                        .children_named("meta_attributes")
                        .flat_map(|m| m.children_named("nvpair"))
                        .find(|nv| nv.attr("name") == Some("remote-node") && eq(nv.attr("value")));
                    if let Some(nv) = guest {
                        found = nv.attr("value").map(String::from);
                        break;
                    }
                }
            }
        }
    }
    if found.is_none() {
        if let Some(status) = root.child("status") {
            found = status
                .children_named("node_state")
                .find(|s| s.attr("remote_node") == Some("true") && eq(s.id()))
                .and_then(|s| s.id().map(String::from));
        }
    }
    found
}

/// Adds `<node id=NAME uname=NAME/>` to the configuration unless some
/// `node` element already has that name (crm_simulate does this for
/// every node it touches once `--node-up` is given).
pub fn ensure_node_config(root: &mut Element, uname: &str) {
    if root.descendants().any(|e| e.name == "node" && e.attr("uname") == Some(uname)) {
        return;
    }
    let nodes = root.child_or_insert("configuration").child_or_insert("nodes");
    nodes.children.push(cib::xml::Node::Element(Element::new("node").with_attr("id", uname).with_attr("uname", uname)));
}

/// Position (among the status section's elements) of the `node_state`
/// for `uname`, found or created as `pcmk__inject_node` does: by name;
/// else by `uuid` (given, or what [`query_node_uuid`] finds), naming the
/// entry found; else a new entry `id=uuid uname=NAME` at the end.
///
/// Pacemaker aborts when it cannot tell the node's id; here that is an
/// error.
pub fn inject_node(root: &mut Element, uname: &str, uuid: Option<&str>, add_config: bool) -> Result<usize, Error> {
    if add_config {
        ensure_node_config(root, uname);
    }
    if let Some(pos) = status_mut(root).element_position(|e| e.name == "node_state" && e.attr("uname") == Some(uname)) {
        return Ok(pos);
    }
    let uuid = match uuid {
        Some(u) => Some(u.to_string()),
        None => query_node_uuid(root, uname),
    };
    let Some(uuid) = uuid else {
        return Err(Error::UnknownNode(uname.to_string()));
    };
    let status = status_mut(root);
    if let Some(pos) = status.element_position(|e| e.name == "node_state" && e.id() == Some(uuid.as_str())) {
        nth_mut(status, pos).set_attr("uname", uname);
        return Ok(pos);
    }
    status.children.push(cib::xml::Node::Element(Element::new("node_state").with_attr("id", uuid).with_attr("uname", uname)));
    Ok(status.elements().count() - 1)
}

/// The `node_state` at a position [`inject_node`] returned.
pub fn node_state_mut(root: &mut Element, pos: usize) -> &mut Element {
    nth_mut(status_mut(root), pos)
}

/// Marks a node up (member of the membership, controller online, joined,
/// expected up) or cleanly down (`pcmk__inject_node_state_change`).
pub fn set_node_up(state: &mut Element, up: bool) {
    let (in_ccm, crmd, join) = if up { ("true", "online", "member") } else { ("false", "offline", "down") };
    state.set_attr("in_ccm", in_ccm);
    state.set_attr("crmd", crmd);
    state.set_attr("join", join);
    state.set_attr("expected", join);
    state.set_attr("crm-debug-origin", ORIGIN);
}

/// Drops a node's resource history and transient attributes, as the
/// controller does when a node leaves or is fenced.
pub fn clear_node_history(state: &mut Element) {
    state.children.retain(|n| !matches!(n, cib::xml::Node::Element(e) if e.name == "lrm" || e.name == "transient_attributes"));
}

/// The agent of a resource whose history is injected.
#[derive(Debug, Clone, Copy)]
pub struct Agent<'a> {
    pub class: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub kind: Option<&'a str>,
}

/// Classes a history entry may be created for. Pacemaker accepts ocf,
/// stonith, service, upstart, systemd and lsb; Heartbeat's resource.d
/// class is first class in this project, so it is accepted too.
const INJECTABLE_CLASSES: &[&str] = &["ocf", "stonith", "service", "upstart", "systemd", "lsb", "heartbeat"];

/// The `lrm_resource` of a node's history for `resource` (or, failing
/// that, `lrm_name`), created under the name `lrm_name` when neither
/// exists (`pcmk__inject_resource_history`).
pub fn inject_resource_history<'a>(state: &'a mut Element, resource: &str, lrm_name: &str, agent: Agent<'_>) -> Result<&'a mut Element, Error> {
    for name in [resource, lrm_name] {
        let is = |e: &Element| e.name == "lrm_resource" && e.id() == Some(name);
        if state.descendants().any(is) {
            return Ok(find_mut(state, &is).expect("just found"));
        }
    }
    let node_id = state.id().unwrap_or("").to_string();
    let (Some(class), Some(kind)) = (agent.class, agent.kind) else {
        return Err(Error::NoAgent { resource: resource.to_string(), node: node_id });
    };
    if !INJECTABLE_CLASSES.iter().any(|c| c.eq_ignore_ascii_case(class)) {
        return Err(Error::InvalidClass { resource: resource.to_string(), class: class.to_string() });
    }
    if class.eq_ignore_ascii_case("ocf") && agent.provider.is_none() {
        return Err(Error::NoProvider(resource.to_string()));
    }
    if state.child("lrm").is_none() {
        let mut lrm = Element::new("lrm");
        if let Some(id) = state.id() {
            lrm.set_attr("id", id);
        }
        state.children.push(cib::xml::Node::Element(lrm));
    }
    let lrm = state.child_mut("lrm").expect("just ensured");
    let container = lrm.child_or_insert("lrm_resources");
    let mut rsc = Element::new("lrm_resource").with_attr("id", lrm_name).with_attr("class", class);
    if let Some(p) = agent.provider {
        rsc.set_attr("provider", p);
    }
    rsc.set_attr("type", kind);
    container.children.push(cib::xml::Node::Element(rsc));
    Ok(container.elements_mut().last().expect("just pushed"))
}

/// The next call id for a resource's history: one more than the highest
/// recorded (never below 1).
pub fn next_call_id(lrm_resource: &Element) -> i64 {
    let max = lrm_resource.elements().filter_map(|op| op.attr("call-id")).filter_map(|c| c.trim().parse::<i64>().ok()).fold(0, i64::max);
    max + 1
}

/// One operation result to record (Pacemaker's `lrmd_event_data_t`, as
/// far as the history needs it).
#[derive(Debug, Clone)]
pub struct OpResult {
    /// The resource id the operation ran under (the configuration's name,
    /// not a clone instance's number).
    pub rsc_id: String,
    pub task: String,
    pub interval_ms: u64,
    pub call_id: i64,
    /// The agent's exit code.
    pub rc: i32,
    /// What the transition expected (`CRM_meta_op_target_rc`).
    pub target_rc: i32,
    pub exit_reason: String,
    /// Epoch seconds (`last-rc-change`).
    pub now: i64,
    /// `op-digest`, when the operation came with its parameters.
    pub digest: Option<String>,
    pub migrate_source: Option<String>,
    pub migrate_target: Option<String>,
    /// `CRM_meta_notify_type` / `CRM_meta_notify_operation` of a notify.
    pub notify: Option<(String, String)>,
}

/// `RSC_TASK_INTERVAL`.
pub fn op_key(rsc: &str, task: &str, interval_ms: u64) -> String {
    format!("{rsc}_{task}_{interval_ms}")
}

/// Records an operation result in a resource's history as
/// `pcmk__create_history_xml` does: a failed result (exit code other
/// than expected) under `RSC_last_failure_0` (and, for a one-shot
/// operation, `RSC_last_0` too), a recurring one under its key, any
/// other under `RSC_last_0`. An existing entry of that id is updated in
/// place (attributes it had and this does not set stay).
pub fn record_op(lrm_resource: &mut Element, op: &OpResult) {
    // A reload that worked is recorded as a start.
    let task = match op.task.as_str() {
        "reload" | "reload-agent" => "start",
        t => t,
    };
    let key = op_key(&op.rsc_id, task, op.interval_ms);
    let mut rc = op.rc;
    let mut ids = Vec::new();
    let mut exit_reason = String::new();
    if task == "notify" {
        let (kind, what) = op.notify.clone().unwrap_or_default();
        ids.push(format!("{}_{}_notify_{}_0", op.rsc_id, kind, what));
        // Notification failures are ignored.
        rc = 0;
    } else if matches!(task, "migrate_to" | "migrate_from") {
        // Migration history is kept apart: it spans two nodes and later
        // transitions need it.
        ids.push(key.clone());
    } else if rc != op.target_rc {
        ids.push(op_key(&op.rsc_id, "last_failure", 0));
        if op.interval_ms == 0 {
            ids.push(op_key(&op.rsc_id, "last", 0));
        }
        exit_reason = op.exit_reason.clone();
    } else if op.interval_ms > 0 {
        ids.push(key.clone());
    } else {
        ids.push(op_key(&op.rsc_id, "last", 0));
    }
    let transition_key = format!("{}:-1:{}:{FAKE_TE_ID}", op.call_id, op.target_rc);
    let magic = format!("0:{rc};{transition_key}");
    for id in ids {
        let entry = match lrm_resource.element_position(|e| e.name == "lrm_rsc_op" && e.id() == Some(id.as_str())) {
            Some(pos) => nth_mut(lrm_resource, pos),
            None => {
                lrm_resource.children.push(cib::xml::Node::Element(Element::new("lrm_rsc_op")));
                lrm_resource.elements_mut().last().expect("just pushed")
            }
        };
        entry.set_attr("id", id);
        entry.set_attr("operation_key", key.clone());
        entry.set_attr("operation", task);
        entry.set_attr("crm-debug-origin", ORIGIN);
        entry.set_attr("crm_feature_set", FEATURE_SET);
        entry.set_attr("transition-key", transition_key.clone());
        entry.set_attr("transition-magic", magic.clone());
        entry.set_attr("exit-reason", exit_reason.clone());
        entry.set_attr("call-id", op.call_id.to_string());
        entry.set_attr("rc-code", rc.to_string());
        entry.set_attr("op-status", "0");
        entry.set_attr("interval", op.interval_ms.to_string());
        entry.set_attr("last-rc-change", op.now.to_string());
        entry.set_attr("exec-time", "0");
        entry.set_attr("queue-time", "0");
        if matches!(op.task.as_str(), "migrate_to" | "migrate_from") {
            if let Some(s) = &op.migrate_source {
                entry.set_attr("migrate_source", s.clone());
            }
            if let Some(t) = &op.migrate_target {
                entry.set_attr("migrate_target", t.clone());
            }
        }
        if let Some(d) = &op.digest {
            entry.set_attr("op-digest", d.clone());
        }
    }
}

/// Collapses same-named siblings with the same id (or, without ids, the
/// same name) the way the CIB merges every status update Pacemaker makes
/// with a copy of the node's state: each child of the copy is merged into
/// the *first* matching child, so the first of several duplicates ends
/// with the attributes of the last, and the others stay as they were.
pub fn merge_like_cib_update(e: &mut Element) {
    // The first child of each (name, id), found in one pass: merging
    // changes neither, and a search per child was quadratic in the
    // siblings (each executed action merges the whole node state;
    // docs/SCALE.md).
    let keys: Vec<(String, Option<String>)> = e.elements().map(|c| (c.name.clone(), c.id().map(String::from))).collect();
    let mut first_of: std::collections::HashMap<&(String, Option<String>), usize> = std::collections::HashMap::new();
    for (i, key) in keys.iter().enumerate() {
        let first = *first_of.entry(key).or_insert(i);
        if first < i {
            let dup = e.elements().nth(i).expect("index below count").clone();
            merge_into(nth_mut(e, first), &dup);
        }
    }
    for child in e.elements_mut() {
        merge_like_cib_update(child);
    }
}

/// `add_xml_object`: attributes copied, children merged into their first
/// match by name and id, unmatched children appended.
fn merge_into(target: &mut Element, update: &Element) {
    for (k, v) in update.attrs() {
        target.set_attr(k, v);
    }
    for child in update.elements() {
        let id = child.id();
        match target.element_position(|c| c.name == child.name && c.id() == id) {
            Some(pos) => merge_into(nth_mut(target, pos), child),
            None => target.children.push(cib::xml::Node::Element(child.clone())),
        }
    }
}

/// Pacemaker's `char2score` for the old value of a `value++` update.
fn score_of(text: &str) -> i64 {
    const INFINITY: i64 = 1_000_000;
    match text.trim() {
        "INFINITY" | "+INFINITY" => INFINITY,
        "-INFINITY" => -INFINITY,
        t => {
            let digits: String = t.chars().enumerate().take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && (*c == '-' || *c == '+'))).map(|(_, c)| c).collect();
            digits.parse::<i64>().unwrap_or(0).clamp(-INFINITY, INFINITY)
        }
    }
}

/// Adds a transient node attribute (`inject_transient_attr`): into the
/// node's first `transient_attributes` / `instance_attributes` (created
/// with the node's id when missing) as an nvpair whose id is the set's id
/// and the name. An nvpair of that id already there is updated; a value
/// of `value++` adds one to the old value (1 when there was none), as the
/// CIB does when it merges the update. Returns the line crm_simulate
/// prints.
pub fn inject_transient_attr(state: &mut Element, name: &str, value: &str) -> String {
    let node_id = state.id().unwrap_or("").to_string();
    let line = format!("  * Injecting attribute {name}={value} into /node_state '{node_id}'");
    if state.child("transient_attributes").is_none() {
        state.children.push(cib::xml::Node::Element(Element::new("transient_attributes").with_attr("id", node_id.clone())));
    }
    let attrs = state.child_mut("transient_attributes").expect("just ensured");
    if attrs.child("instance_attributes").is_none() {
        attrs.children.push(cib::xml::Node::Element(Element::new("instance_attributes").with_attr("id", node_id.clone())));
    }
    let set = attrs.child_mut("instance_attributes").expect("just ensured");
    let set_id = set.id().unwrap_or("").to_string();
    let nv_id = sanitize_id(&format!("{set_id}-{name}"));
    let existing = set.element_position(|e| e.name == "nvpair" && e.id() == Some(nv_id.as_str()));
    let old = existing.and_then(|p| set.elements().nth(p).and_then(|e| e.attr("value")).map(String::from));
    let value = if value == "value++" {
        (old.as_deref().map(score_of).unwrap_or(0) + 1).min(1_000_000).to_string()
    } else {
        value.to_string()
    };
    match existing {
        Some(p) => {
            let nv = nth_mut(set, p);
            nv.set_attr("name", name);
            nv.set_attr("value", value);
        }
        None => set.children.push(cib::xml::Node::Element(Element::new("nvpair").with_attr("id", nv_id).with_attr("name", name).with_attr("value", value))),
    }
    line
}

/// Records a failure's fail count and time (`pcmk__inject_failcount`):
/// nothing for success, nor for "not running" from a one-shot operation
/// (a probe finding the resource stopped).
pub fn inject_failcount(state: &mut Element, rsc: &str, task: &str, interval_ms: u64, rc: i32, now: i64) -> Vec<String> {
    if rc == 0 || (rc == 7 && interval_ms == 0) {
        return Vec::new();
    }
    vec![
        inject_transient_attr(state, &format!("fail-count-{rsc}#{task}_{interval_ms}"), "value++"),
        inject_transient_attr(state, &format!("last-failure-{rsc}#{task}_{interval_ms}"), &now.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::xml::parse_element;

    #[test]
    fn failed_one_shot_result_is_recorded_twice_and_success_replaces_last() {
        let mut rsc = parse_element(r#"<lrm_resource id="r" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="r_last_0" call-id="4" on_node="n1"/></lrm_resource>"#).unwrap();
        assert_eq!(next_call_id(&rsc), 5);
        let mut op = OpResult {
            rsc_id: "r".into(),
            task: "stop".into(),
            interval_ms: 0,
            call_id: 5,
            rc: 1,
            target_rc: 0,
            exit_reason: "User-injected result".into(),
            now: 100,
            digest: None,
            migrate_source: None,
            migrate_target: None,
            notify: None,
        };
        record_op(&mut rsc, &op);
        let ids: Vec<_> = rsc.elements().map(|e| e.id().unwrap().to_string()).collect();
        assert_eq!(ids, ["r_last_0", "r_last_failure_0"]);
        let last = rsc.elements().next().unwrap();
        // Updated in place: the old attribute stays, first, the new ones follow.
        assert_eq!(last.attr("on_node"), Some("n1"));
        assert_eq!(last.attr("transition-magic"), Some("0:1;5:-1:0:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"));
        assert_eq!(last.attr("exit-reason"), Some("User-injected result"));
        op.rc = 0;
        op.call_id = 6;
        op.task = "monitor".into();
        op.interval_ms = 10000;
        record_op(&mut rsc, &op);
        let mon = rsc.elements().last().unwrap();
        assert_eq!(mon.id(), Some("r_monitor_10000"));
        assert_eq!(mon.attr("exit-reason"), Some(""));
        assert_eq!(mon.attr("interval"), Some("10000"));
    }

    #[test]
    fn duplicate_ids_collapse_into_the_first() {
        let mut set = parse_element(r#"<s><nvpair id="a" name="x5" value="5"/><nvpair id="a" name="x1" value="1"/><nvpair id="b" name="y" value="2"/></s>"#).unwrap();
        merge_like_cib_update(&mut set);
        let pairs: Vec<_> = set.elements().map(|e| (e.id().unwrap(), e.attr("name").unwrap())).collect();
        assert_eq!(pairs, [("a", "x1"), ("a", "x1"), ("b", "y")]);
    }

    #[test]
    fn fail_counts_increment_by_nvpair_id() {
        let mut state = parse_element(r#"<node_state id="u1" uname="n1"/>"#).unwrap();
        assert!(inject_failcount(&mut state, "r", "monitor", 0, 7, 5).is_empty());
        let lines = inject_failcount(&mut state, "r:0", "monitor", 10000, 7, 5);
        assert_eq!(lines[0], "  * Injecting attribute fail-count-r:0#monitor_10000=value++ into /node_state 'u1'");
        inject_failcount(&mut state, "r:0", "monitor", 10000, 7, 6);
        let set = state.child("transient_attributes").unwrap().child("instance_attributes").unwrap();
        let pairs: Vec<_> = set.elements().map(|e| (e.id().unwrap(), e.attr("value").unwrap())).collect();
        assert_eq!(pairs, [("u1-fail-count-r.0.monitor_10000", "2"), ("u1-last-failure-r.0.monitor_10000", "6")]);
    }

    #[test]
    fn nodes_are_found_by_name_then_id_else_created() {
        let mut root = parse_element(
            r#"<cib><configuration><nodes><node id="u1" uname="n1"/></nodes><resources/></configuration><status><node_state id="u1"/></status></cib>"#,
        )
        .unwrap();
        assert_eq!(inject_node(&mut root, "n1", None, false).unwrap(), 0);
        assert_eq!(node_state_mut(&mut root, 0).attr("uname"), Some("n1"));
        assert!(matches!(inject_node(&mut root, "n2", None, false), Err(Error::UnknownNode(_))));
        assert_eq!(inject_node(&mut root, "n2", None, true).unwrap(), 1);
        assert!(root.find("node", "n2").is_some());
        assert_eq!(node_state_mut(&mut root, 1).id(), Some("n2"));
    }
}
