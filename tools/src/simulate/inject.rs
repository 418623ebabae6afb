//! crm_simulate's synthetic cluster events (`--node-up`, `--node-down`,
//! `--node-fail`, `--op-inject`, `--quorum`, `--watchdog`, tickets):
//! changes made to the CIB before scheduling, as Pacemaker 2.1.5's
//! `pcmk__inject_scheduler_input` makes them, with the lines it prints
//! under "Performing Requested Modifications".

use cib::xml::{Element, Node};
use pengine::{Variant, WorkingSet};

use super::history::{self, Agent, OpResult};
use super::{opspec, Error};

/// What the command line asked to inject, in the order given per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Injections {
    /// `--quorum`: the CIB's `have-quorum`, as written.
    pub quorum: Option<String>,
    /// `--watchdog`: the `have-watchdog` cluster option, as written.
    pub watchdog: Option<String>,
    pub node_up: Vec<String>,
    pub node_down: Vec<String>,
    pub node_fail: Vec<String>,
    pub ticket_grant: Vec<String>,
    pub ticket_revoke: Vec<String>,
    pub ticket_standby: Vec<String>,
    pub ticket_activate: Vec<String>,
    /// `--op-inject` specs, `RSC_TASK_INTERVAL@NODE=RC`.
    pub op_inject: Vec<String>,
    /// `--op-fail` specs: applied while the transition runs, not here.
    pub op_fail: Vec<String>,
}

impl Injections {
    /// Whether anything is injected before scheduling. As in Pacemaker,
    /// `--quorum` alone does not count (it is applied only alongside
    /// another injection), nor does `--op-fail`.
    pub fn any(&self) -> bool {
        !(self.node_up.is_empty()
            && self.node_down.is_empty()
            && self.node_fail.is_empty()
            && self.op_inject.is_empty()
            && self.ticket_grant.is_empty()
            && self.ticket_revoke.is_empty()
            && self.ticket_standby.is_empty()
            && self.ticket_activate.is_empty()
            && self.watchdog.is_none())
    }

    /// Whether nodes touched get a configuration entry: crm_simulate
    /// turns that on for the whole run once `--node-up` is given.
    pub fn adds_node_config(&self) -> bool {
        !self.node_up.is_empty()
    }
}

/// What applying the injections printed.
#[derive(Debug, Default)]
pub struct Applied {
    /// "Performing Requested Modifications:" and its items.
    pub lines: Vec<String>,
    /// Problems crm_simulate reports and carries on after (stderr).
    pub errors: Vec<String>,
    /// What stopped the injections (Pacemaker aborts there); the lines
    /// printed up to that point are kept.
    pub fatal: Option<Error>,
}

/// Applies `inj` to the CIB rooted at `root`. `ws` is the cluster as
/// unpacked before, where `--op-inject` looks its resource up; `now`
/// (epoch seconds) stamps injected results and failures.
pub fn apply(root: &mut Element, ws: &WorkingSet, inj: &Injections, now: i64) -> Applied {
    let mut out = Applied { lines: vec!["Performing Requested Modifications:".to_string()], errors: Vec::new(), fatal: None };
    if let Err(e) = apply_all(root, ws, inj, now, &mut out) {
        out.fatal = Some(e);
    }
    out
}

fn apply_all(root: &mut Element, ws: &WorkingSet, inj: &Injections, now: i64, out: &mut Applied) -> Result<(), Error> {
    let add_config = inj.adds_node_config();
    if let Some(q) = &inj.quorum {
        out.lines.push(format!("  * Setting quorum: {q}"));
        root.set_attr("have-quorum", q.clone());
    }
    if let Some(w) = &inj.watchdog {
        out.lines.push(format!("  * Setting watchdog: {w}"));
        set_watchdog(root, w);
    }
    for node in &inj.node_up {
        out.lines.push(format!("  * Bringing node {node} online"));
        let pos = history::inject_node(root, node, None, add_config)?;
        let state = history::node_state_mut(root, pos);
        history::set_node_up(state, true);
        history::merge_like_cib_update(state);
    }
    for node in &inj.node_down {
        out.lines.push(format!("  * Taking node {node} offline"));
        let pos = history::inject_node(root, node, None, add_config)?;
        let state = history::node_state_mut(root, pos);
        history::set_node_up(state, false);
        history::merge_like_cib_update(state);
        history::clear_node_history(state);
    }
    for node in &inj.node_fail {
        out.lines.push(format!("  * Failing node {node}"));
        let pos = history::inject_node(root, node, None, add_config)?;
        let state = history::node_state_mut(root, pos);
        // Up as far as the controller knows, gone from the membership.
        history::set_node_up(state, true);
        state.set_attr("in_ccm", "false");
        history::merge_like_cib_update(state);
    }
    let tickets: [(&Vec<String>, &str, &str, bool); 4] = [
        (&inj.ticket_grant, "Granting ticket {}", "granted", true),
        (&inj.ticket_revoke, "Revoking ticket {}", "granted", false),
        (&inj.ticket_standby, "Making ticket {} standby", "standby", true),
        (&inj.ticket_activate, "Activating ticket {}", "standby", false),
    ];
    for (list, message, attr, value) in tickets {
        for ticket in list {
            out.lines.push(format!("  * {}", message.replace("{}", ticket)));
            set_ticket_attr(root, ticket, attr, value);
        }
    }
    for spec in &inj.op_inject {
        out.lines.push(format!("  * Injecting {spec} into the configuration"));
        inject_op(root, ws, spec, now, add_config, out)?;
    }
    Ok(())
}

/// `have-watchdog`: an existing nvpair of that name among the cluster
/// options is updated; else one is added to the `cib-bootstrap-options`
/// set (created at the end of `crm_config` when missing).
fn set_watchdog(root: &mut Element, value: &str) {
    let crm_config = root.child_or_insert("configuration").child_or_insert("crm_config");
    let existing = |e: &Element| e.name == "nvpair" && e.attr("name") == Some("have-watchdog");
    let in_sets = crm_config.elements().any(|s| s.name == "cluster_property_set" && s.descendants().any(existing));
    if in_sets {
        if let Some(nv) = history::find_mut(crm_config, &existing) {
            nv.set_attr("value", value);
            return;
        }
    }
    let set = match crm_config.element_position(|e| e.name == "cluster_property_set" && e.id() == Some("cib-bootstrap-options")) {
        Some(pos) => crm_config.elements_mut().nth(pos).expect("position of an element"),
        None => {
            crm_config.children.push(Node::Element(Element::new("cluster_property_set").with_attr("id", "cib-bootstrap-options")));
            crm_config.elements_mut().last().expect("just pushed")
        }
    };
    set.children.push(Node::Element(
        Element::new("nvpair").with_attr("id", "cib-bootstrap-options-have-watchdog").with_attr("name", "have-watchdog").with_attr("value", value),
    ));
}

/// `granted` / `standby` of a ticket's state in the status section.
fn set_ticket_attr(root: &mut Element, ticket: &str, attr: &str, value: bool) {
    let tickets = history::status_mut(root).child_or_insert("tickets");
    let state = match tickets.element_position(|e| e.name == "ticket_state" && e.id() == Some(ticket)) {
        Some(pos) => tickets.elements_mut().nth(pos).expect("position of an element"),
        None => {
            tickets.children.push(Node::Element(Element::new("ticket_state").with_attr("id", ticket)));
            tickets.elements_mut().last().expect("just pushed")
        }
    };
    state.set_attr(attr, if value { "true" } else { "false" });
}

/// Pacemaker's `pe_find_resource`: a resource by id, or by the name its
/// history goes by (an anonymous clone instance's bare name).
fn find_resource<'w>(ws: &'w WorkingSet, name: &str) -> Option<&'w pengine::Resource> {
    ws.resources.iter().find(|r| r.clone_name.as_deref() == Some(name) || r.id == name)
}

/// One `--op-inject`: a fail count when the result is a failure, then a
/// history entry with that result (expected result 0).
fn inject_op(root: &mut Element, ws: &WorkingSet, spec: &str, now: i64, add_config: bool, out: &mut Applied) -> Result<(), Error> {
    let parsed = match opspec::parse(spec) {
        Ok(p) => p,
        Err(e) => {
            out.errors.push(e);
            return Ok(());
        }
    };
    let Some(rsc) = find_resource(ws, &parsed.resource) else {
        out.errors.push(format!("Invalid resource name: {}", parsed.resource));
        return Ok(());
    };
    let (class, provider, kind) = match &rsc.variant {
        Variant::Primitive(p) => (Some(p.class.as_str().to_string()), p.provider.clone(), Some(p.agent.clone())),
        _ => (None, None, None),
    };
    let pos = history::inject_node(root, &parsed.node, None, add_config)?;
    let state = history::node_state_mut(root, pos);
    let lines = history::inject_failcount(state, &parsed.resource, &parsed.task, parsed.interval_ms, parsed.rc, now);
    out.lines.extend(lines);
    let agent = Agent { class: class.as_deref(), provider: provider.as_deref(), kind: kind.as_deref() };
    let lrm_rsc = history::inject_resource_history(state, &parsed.resource, &parsed.resource, agent)?;
    let op = OpResult {
        rsc_id: lrm_rsc.id().unwrap_or(&parsed.resource).to_string(),
        task: parsed.task.clone(),
        interval_ms: parsed.interval_ms,
        call_id: history::next_call_id(lrm_rsc),
        rc: parsed.rc,
        target_rc: 0,
        exit_reason: "Simulated action result".into(),
        now,
        // Injected results carry no parameters.
        digest: None,
        migrate_source: None,
        migrate_target: None,
        notify: None,
    };
    history::record_op(lrm_rsc, &op);
    history::merge_like_cib_update(history::node_state_mut(root, pos));
    Ok(())
}
