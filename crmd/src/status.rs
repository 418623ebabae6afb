//! The status section as crmd writes and reads it, without I/O: the
//! elements each write merges in (`cibadmin -M -c` semantics), the xpaths
//! of what is wiped, transition keys, and how a CIB diff is judged.
//!
//! Node ids: a node's id is its `<node>` entry's (a Heartbeat 2 CIB has
//! uuids there); a node without one gets an entry whose id is its name.

use cib::Element;
use tools::attribute::sanitize_id;

use crate::lrm::RscAgent;

/// `transition-key`: `action:transition:target_rc:te_uuid`, as Pacemaker
/// writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionKey {
    pub action_id: i32,
    pub transition: u64,
    pub target_rc: i32,
    pub uuid: String,
}

impl TransitionKey {
    pub fn parse(s: &str) -> Option<TransitionKey> {
        let mut it = s.splitn(4, ':');
        Some(TransitionKey {
            action_id: it.next()?.parse().ok()?,
            transition: it.next()?.parse().ok()?,
            target_rc: it.next()?.parse().ok()?,
            uuid: it.next()?.to_string(),
        })
    }
}

impl std::fmt::Display for TransitionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}:{}", self.action_id, self.transition, self.target_rc, self.uuid)
    }
}

/// The id of node `uname` in `cib` (its `<node>` entry), else its name.
pub fn node_id(cib: &Element, uname: &str) -> String {
    tools::attribute::node_id(cib, uname).unwrap_or_else(|| uname.to_string())
}

/// Whether `cib` has a `<node>` entry for `uname`.
pub fn has_node_entry(cib: &Element, uname: &str) -> bool {
    tools::attribute::node_id(cib, uname).is_some()
}

/// `<node id uname type="member"/>` for the nodes section.
pub fn node_entry(id: &str, uname: &str) -> Element {
    Element::new("node").with_attr("id", id).with_attr("uname", uname).with_attr("type", "member")
}

/// An empty `<node_state id uname>` to merge attributes or children into.
pub fn node_state(id: &str, uname: &str) -> Element {
    Element::new("node_state").with_attr("id", id).with_attr("uname", uname)
}

/// A member's state at a join phase (`join` as Pacemaker names it).
pub fn member_state(id: &str, uname: &str, join: &str) -> Element {
    node_state(id, uname)
        .with_attr("in_ccm", "true")
        .with_attr("crmd", "online")
        .with_attr("crm-debug-origin", "do_state_transition")
        .with_attr("join", join)
        .with_attr("expected", "member")
}

/// A node that left the membership.
pub fn left_state(id: &str, uname: &str) -> Element {
    node_state(id, uname)
        .with_attr("in_ccm", "false")
        .with_attr("crmd", "offline")
        .with_attr("crm-debug-origin", "peer_update_callback")
        .with_attr("join", "down")
}

/// A node whose crmd went away while the node stays a member (it died,
/// or said `leaving`): `crmd=offline join=down`, `in_ccm` and `expected`
/// untouched, its history kept. The scheduler then takes a node expected
/// up as unclean (Pacemaker's "peer is unexpectedly down") and fences it;
/// a node let go (`expected=down`) is simply offline. Written only with
/// fencing or for a node let go: without fencing the scheduler would take
/// the node's resources as stopped.
pub fn crmd_lost_state(id: &str, uname: &str) -> Element {
    node_state(id, uname)
        .with_attr("crmd", "offline")
        .with_attr("crm-debug-origin", "peer_update_callback")
        .with_attr("join", "down")
}

/// A node's `expected` value in its `node_state`, if any.
pub fn node_expected(cib: &Element, id: &str) -> Option<String> {
    let state = cib.child("status")?.children_named("node_state").find(|s| s.id() == Some(id))?;
    state.attr("expected").map(str::to_string)
}

/// Whether a diff marks the node `id` down (`crmd=offline`,
/// `in_ccm=false` or a `join` other than `member`): the DC never writes
/// that of itself, so a diff that does carries another node's copy of
/// the CIB (partitions that merged, the other side's copy kept).
pub fn marks_down(diff: &Element, id: &str) -> bool {
    let path = format!("/cib/status/node_state[@id='{id}']");
    let down = |name: Option<&str>, value: Option<&str>| match (name, value) {
        (Some("crmd"), Some(v)) => v != "online",
        (Some("in_ccm"), Some(v)) => v != "true",
        (Some("join"), Some(v)) => v != "member",
        _ => false,
    };
    diff.children_named("change").any(|c| match c.attr("operation") {
        Some("modify") if c.attr("path") == Some(path.as_str()) => c
            .child("change-list")
            .is_some_and(|l| l.children_named("change-attr").any(|a| a.attr("operation") == Some("set") && down(a.attr("name"), a.attr("value")))),
        Some("create") if c.attr("path") == Some("/cib/status") => c
            .children_named("node_state")
            .any(|n| n.id() == Some(id) && ["crmd", "in_ccm", "join"].iter().any(|k| down(Some(k), n.attr(k)))),
        _ => false,
    })
}

/// The `dc-uuid` a diff sets on `<cib>`, if it does.
pub fn dc_uuid_set(diff: &Element) -> Option<String> {
    diff.children_named("change")
        .filter(|c| c.attr("path") == Some("/cib") && c.attr("operation") == Some("modify"))
        .filter_map(|c| c.child("change-list"))
        .flat_map(|l| l.children_named("change-attr"))
        .filter(|a| a.attr("name") == Some("dc-uuid") && a.attr("operation") == Some("set"))
        .filter_map(|a| a.attr("value"))
        .last()
        .map(str::to_string)
}

/// The `node_state` ids a diff deletes. The DC never deletes a
/// `node_state`; a diff that does comes from a CIB taken whole from
/// another node (a join sync from a newer copy, whose status is that
/// node's, often empty): the DC must rebuild the status.
pub fn deleted_node_states(diff: &Element) -> Vec<String> {
    let mut out = Vec::new();
    for change in diff.children_named("change") {
        if change.attr("operation") != Some("delete") {
            continue;
        }
        let path = change.attr("path").unwrap_or_default();
        if path == "/cib/status" {
            out.push("*".to_string());
        } else if let Some(rest) = path.strip_prefix("/cib/status/node_state[@id='") {
            // Only the node_state itself: a deeper path (its lrm, wiped
            // at every join) also ends in `']`.
            if let Some(id) = rest.strip_suffix("']").filter(|id| !id.contains('\'')) {
                out.push(id.to_string());
            }
        }
    }
    out
}

/// A node whose crmd the DC let shut down (`do_shutdown`): its node is
/// still a member, but nothing may run there.
pub fn shutdown_state(id: &str, uname: &str) -> Element {
    node_state(id, uname)
        .with_attr("crmd", "offline")
        .with_attr("crm-debug-origin", "do_shutdown")
        .with_attr("join", "down")
        .with_attr("expected", "down")
}

/// `dc-uuid` and `have-quorum` on `<cib>`.
pub fn dc_attrs(dc_id: &str, quorum: bool) -> Element {
    Element::new("cib").with_attr("dc-uuid", dc_id).with_attr("have-quorum", if quorum { "1" } else { "0" })
}

/// Xpath of a node's operation history.
pub fn lrm_xpath(id: &str) -> String {
    format!("//node_state[@id='{id}']/lrm")
}

/// Xpath of a node's transient attributes (fail counts, `shutdown`...).
pub fn transient_xpath(id: &str) -> String {
    format!("//node_state[@id='{id}']/transient_attributes")
}

/// Xpath of one resource's history on a node.
pub fn lrm_resource_xpath(id: &str, rsc: &str) -> String {
    format!("//node_state[@id='{id}']/lrm/lrm_resources/lrm_resource[@id='{rsc}']")
}

/// Xpath of one recorded operation of a resource on a node.
pub fn lrm_op_xpath(id: &str, rsc: &str, op_id: &str) -> String {
    format!("{}/lrm_rsc_op[@id='{op_id}']", lrm_resource_xpath(id, rsc))
}

/// `<node_state><lrm><lrm_resources>` with one resource and its records.
pub fn lrm_update(id: &str, uname: &str, rsc: &RscAgent, ops: Vec<Element>) -> Element {
    let mut r = Element::new("lrm_resource").with_attr("id", &rsc.id).with_attr("type", &rsc.agent).with_attr("class", &rsc.class);
    if let Some(p) = &rsc.provider {
        r.set_attr("provider", p);
    }
    for op in ops {
        r = r.with_child(op);
    }
    node_state(id, uname)
        .with_child(Element::new("lrm").with_attr("id", id).with_child(Element::new("lrm_resources").with_child(r)))
}

/// `<node_state>` with whole `<lrm>` of several resources (a node's
/// history rebuilt from lrmd at join).
pub fn lrm_full(id: &str, uname: &str, resources: Vec<(RscAgent, Vec<Element>)>) -> Element {
    let mut list = Element::new("lrm_resources");
    for (rsc, ops) in resources {
        let one = lrm_update(id, uname, &rsc, ops);
        if let Some(r) = one.child("lrm").and_then(|l| l.child("lrm_resources")).and_then(|l| l.elements().next()) {
            list = list.with_child(r.clone());
        }
    }
    node_state(id, uname).with_child(Element::new("lrm").with_attr("id", id).with_child(list))
}

/// One transient attribute of a node (`status-<id>-<name>` as
/// Pacemaker's attrd names it).
pub fn transient_attr(id: &str, uname: &str, name: &str, value: &str) -> Element {
    let nv = Element::new("nvpair")
        .with_attr("id", sanitize_id(&format!("status-{id}-{name}")))
        .with_attr("name", name)
        .with_attr("value", value);
    let set = Element::new("instance_attributes").with_attr("id", format!("status-{id}")).with_child(nv);
    node_state(id, uname).with_child(Element::new("transient_attributes").with_attr("id", id).with_child(set))
}

/// A node's transient attribute, if set.
pub fn transient_value(cib: &Element, id: &str, name: &str) -> Option<String> {
    let state = cib.child("status")?.children_named("node_state").find(|s| s.id() == Some(id))?;
    let ta = state.child("transient_attributes")?;
    ta.descendants().find(|e| e.name == "nvpair" && e.attr("name") == Some(name)).and_then(|e| e.attr("value")).map(str::to_string)
}

/// Whether a transient attribute is a fail count or last failure of
/// `rsc` (`fail-count-RSC`, `fail-count-RSC#OP_INTERVAL`, `last-failure-...`).
pub fn is_failure_attr(name: &str, rsc: &str) -> bool {
    ["fail-count-", "last-failure-"].iter().any(|p| {
        name.strip_prefix(p).and_then(|r| r.strip_prefix(rsc)).is_some_and(|rest| rest.is_empty() || rest.starts_with('#'))
    })
}

/// The fail count after one more failure: `INFINITY` for a failed start
/// (Pacemaker's default start-failure-is-fatal), else one more.
pub fn next_fail_count(current: Option<&str>, action: &str) -> String {
    if action == "start" {
        return "INFINITY".into();
    }
    match current {
        Some("INFINITY") | Some("+INFINITY") => "INFINITY".into(),
        Some(v) => (v.parse::<i64>().unwrap_or(0).saturating_add(1)).min(1_000_000).to_string(),
        None => "1".into(),
    }
}

/// A result is a failure when it is not what the transition expected.
/// A probe (monitor with interval 0) that finds the resource running,
/// stopped or promoted reports the state, not a failure.
pub fn is_failure(action: &str, interval_ms: u64, rc: i32, op_status: i32, target_rc: i32) -> bool {
    if op_status != 0 {
        return true;
    }
    if rc == target_rc {
        return false;
    }
    !(action == "monitor" && interval_ms == 0 && matches!(rc, 0 | 7 | 8))
}

/// Every `<lrm_rsc_op>` a diff creates or modifies (with its attributes
/// as they are now), and whether the diff touches anything else that
/// should make the DC recompute.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DiffSummary {
    pub ops: Vec<Element>,
    /// Why the change needs a new transition, apart from the ops.
    pub reason: Option<String>,
}

fn collect_ops(e: &Element, out: &mut Vec<Element>) {
    if e.name == "lrm_rsc_op" {
        out.push(e.clone());
        return;
    }
    for c in e.elements() {
        collect_ops(c, out);
    }
}

/// Reads a v2 patchset (`<diff format="2">`).
pub fn summarize(diff: &Element) -> DiffSummary {
    let mut s = DiffSummary::default();
    for change in diff.children_named("change") {
        let path = change.attr("path").unwrap_or_default();
        let op = change.attr("operation").unwrap_or_default();
        let mut note = |why: String| {
            if s.reason.is_none() {
                s.reason = Some(why);
            }
        };
        if path.starts_with("/cib/configuration") {
            note(format!("configuration {op} at {path}"));
            continue;
        }
        if !path.starts_with("/cib/status") {
            // dc-uuid, have-quorum, versions on <cib>: written by the DC.
            continue;
        }
        let content: Vec<&Element> = match op {
            "create" => change.elements().collect(),
            "modify" => change.child("change-result").map(|r| r.elements().collect()).unwrap_or_default(),
            _ => Vec::new(),
        };
        if path.contains("transient_attributes") || content.iter().any(|e| e.descendants().any(|d| d.name == "transient_attributes") || e.name == "nvpair" || e.name == "transient_attributes") {
            note(format!("transient attribute {op} at {path}"));
        }
        // A resource's whole history deleted (crm_resource -C) is news;
        // one record deleted (a cancelled monitor) is not.
        let last = path.rsplit('/').next().unwrap_or_default();
        if op == "delete" && (last.starts_with("lrm_resource") || path.contains("/transient_attributes")) {
            note(format!("resource history deleted at {path}"));
        }
        for c in content {
            collect_ops(c, &mut s.ops);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::xml::parse_element;

    #[test]
    fn deleted_node_states_are_found_in_a_diff() {
        let d = parse_element(
            r#"<diff format="2"><version><source admin_epoch="0" epoch="3" num_updates="9"/><target admin_epoch="0" epoch="4" num_updates="0"/></version>
            <change operation="delete" path="/cib/status/node_state[@id='n1']" position="0"/>
            <change operation="delete" path="/cib/status/node_state[@id='n2']/lrm" position="0"/>
            <change operation="delete" path="/cib/status/node_state[@id='n3']" position="1"/>
            <change operation="modify" path="/cib/status/node_state[@id='n4']"><change-list/></change>
            </diff>"#,
        )
        .unwrap();
        assert_eq!(deleted_node_states(&d), ["n1", "n3"]);
        let set = parse_element(
            r#"<diff format="2"><change operation="modify" path="/cib"><change-list><change-attr name="have-quorum" operation="set" value="1"/><change-attr name="dc-uuid" operation="set" value="n2"/></change-list></change></diff>"#,
        )
        .unwrap();
        assert_eq!(dc_uuid_set(&set).as_deref(), Some("n2"));
        assert_eq!(dc_uuid_set(&d), None);
        let down = parse_element(
            r#"<diff format="2"><change operation="modify" path="/cib/status/node_state[@id='n1']"><change-list><change-attr name="in_ccm" operation="set" value="false"/><change-attr name="crmd" operation="set" value="offline"/></change-list></change></diff>"#,
        )
        .unwrap();
        assert!(marks_down(&down, "n1"));
        assert!(!marks_down(&down, "n2"));
        let up = parse_element(
            r#"<diff format="2"><change operation="modify" path="/cib/status/node_state[@id='n1']"><change-list><change-attr name="join" operation="set" value="member"/></change-list></change>
            <change operation="create" path="/cib/status" position="0"><node_state id="n2" uname="n2" crmd="offline"/></change></diff>"#,
        )
        .unwrap();
        assert!(!marks_down(&up, "n1"));
        assert!(marks_down(&up, "n2"));
        let lost = crmd_lost_state("u2", "n2");
        assert_eq!(lost.attr("crmd"), Some("offline"));
        assert_eq!(lost.attr("join"), Some("down"));
        assert_eq!(lost.attr("in_ccm"), None, "membership is not the crmd's to change");
        assert_eq!(lost.attr("expected"), None, "a clean shutdown's expected=down stays");
    }

    #[test]
    fn transition_keys_round_trip() {
        let k = TransitionKey::parse("7:3:0:2668bbeb-06d5-40f9-936d-24cb7f87006a").unwrap();
        assert_eq!((k.action_id, k.transition, k.target_rc), (7, 3, 0));
        assert_eq!(k.to_string(), "7:3:0:2668bbeb-06d5-40f9-936d-24cb7f87006a");
        assert!(TransitionKey::parse("7:3").is_none());
    }

    #[test]
    fn node_states_carry_pacemakers_attributes() {
        assert_eq!(
            member_state("n1", "n1", "member").to_xml_compact(),
            r#"<node_state id="n1" uname="n1" in_ccm="true" crmd="online" crm-debug-origin="do_state_transition" join="member" expected="member"/>"#
        );
        let l = left_state("u2", "n2");
        assert_eq!((l.attr("in_ccm"), l.attr("crmd"), l.attr("join")), (Some("false"), Some("offline"), Some("down")));
        assert_eq!(dc_attrs("n1", true).to_xml_compact(), r#"<cib dc-uuid="n1" have-quorum="1"/>"#);
    }

    #[test]
    fn fail_counts_and_their_ids() {
        let e = transient_attr("n1", "n1", "fail-count-d#monitor_10000", "2");
        assert!(e.to_xml_compact().contains(r#"<nvpair id="status-n1-fail-count-d.monitor_10000" name="fail-count-d#monitor_10000" value="2"/>"#));
        let cib = Element::new("cib").with_child(Element::new("status").with_child(e));
        assert_eq!(transient_value(&cib, "n1", "fail-count-d#monitor_10000").as_deref(), Some("2"));
        assert_eq!(transient_value(&cib, "n2", "fail-count-d#monitor_10000"), None);
        assert_eq!(next_fail_count(Some("2"), "monitor"), "3");
        assert_eq!(next_fail_count(None, "monitor"), "1");
        assert_eq!(next_fail_count(Some("1"), "start"), "INFINITY");
        assert!(is_failure_attr("fail-count-d#monitor_10000", "d"));
        assert!(is_failure_attr("last-failure-d", "d"));
        assert!(!is_failure_attr("fail-count-d2#start_0", "d"));
    }

    #[test]
    fn failures_are_results_the_transition_did_not_expect() {
        assert!(!is_failure("start", 0, 0, 0, 0));
        assert!(is_failure("start", 0, 1, 0, 0));
        assert!(is_failure("stop", 0, 0, 2, 0), "a timeout fails whatever the rc");
        assert!(!is_failure("monitor", 0, 0, 0, 7), "a probe finding it running is news, not a failure");
        assert!(is_failure("monitor", 0, 1, 0, 7));
        assert!(is_failure("monitor", 10_000, 7, 0, 0));
    }

    #[test]
    fn diffs_are_summarized() {
        let d = parse_element(
            r#"<diff format="2"><version><source admin_epoch="0" epoch="1" num_updates="1"/><target admin_epoch="0" epoch="1" num_updates="2"/></version>
            <change operation="create" path="/cib/status/node_state[@id='n1']/lrm[@id='n1']/lrm_resources" position="0">
              <lrm_resource id="d"><lrm_rsc_op id="d_last_0" transition-key="1:2:0:u" rc-code="0" op-status="0"/></lrm_resource></change>
            <change operation="modify" path="/cib/status/node_state[@id='n1']"><change-list><change-attr name="join" operation="set" value="member"/></change-list><change-result><node_state id="n1" join="member"/></change-result></change>
            <change operation="modify" path="/cib"><change-list/><change-result><cib dc-uuid="n1"/></change-result></change></diff>"#,
        )
        .unwrap();
        let s = summarize(&d);
        assert_eq!(s.reason, None, "status writes of the DC and results are not news by themselves");
        assert_eq!(s.ops.len(), 1);
        assert_eq!(s.ops[0].attr("transition-key"), Some("1:2:0:u"));

        let d = parse_element(r#"<diff format="2"><change operation="modify" path="/cib/configuration/resources/primitive[@id='d']"/></diff>"#).unwrap();
        assert!(summarize(&d).reason.unwrap().contains("configuration"));
        let d = parse_element(r#"<diff format="2"><change operation="create" path="/cib/status/node_state[@id='n1']" position="0"><transient_attributes id="n1"/></change></diff>"#).unwrap();
        assert!(summarize(&d).reason.is_some());
        let d = parse_element(r#"<diff format="2"><change operation="delete" path="/cib/status/node_state[@id='n1']/lrm[@id='n1']/lrm_resources/lrm_resource[@id='d']"/></diff>"#).unwrap();
        assert!(summarize(&d).reason.is_some());
        let d = parse_element(r#"<diff format="2"><change operation="delete" path="/cib/status/node_state[@id='n1']/lrm[@id='n1']/lrm_resources/lrm_resource[@id='d']/lrm_rsc_op[@id='d_monitor_2000']"/></diff>"#).unwrap();
        assert_eq!(summarize(&d).reason, None, "a cancelled monitor's record going away is no news");
    }
}
