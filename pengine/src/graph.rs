//! Stage 8: the transition graph (Pacemaker's `pcmk__create_graph`), in
//! tengine's model so its writer produces the XML and its executor runs
//! it.
//!
//! An action goes into the graph when it is required and runnable.
//! Synapses follow Pacemaker's order: resource by resource (a group's
//! own pseudo-actions before its members'), each resource's actions
//! newest first; inputs are the orderings whose first action is in the
//! graph too.

use std::collections::{BTreeMap, HashMap};

use tengine::graph::{Action as GraphAction, ActionHeader, ActionKind, Attributes, GraphAttrs, Resource as GraphResource, Synapse, TransitionGraph};

use crate::nvsets::{as_written, unpack_into};
use crate::rules::RuleInput;
use crate::schedule::Schedule;
use crate::working_set::{RscId, Variant};

/// Default operation timeout (ms) when nothing configures one.
const DEFAULT_TIMEOUT_MS: u64 = 20_000;

impl Schedule {
    /// Whether an action goes into the graph (`should_add_action_to_graph`).
    pub fn in_graph(&self, a: usize) -> bool {
        let act = &self.actions[a];
        if !act.runnable || (act.optional && !self.always_in_graph.contains(&a)) {
            return false;
        }
        if act.pseudo || act.rsc.is_none() {
            return true;
        }
        match act.node {
            None => false,
            Some(n) => {
                let node = self.ws.node(n);
                node.online && !node.unclean
            }
        }
    }

    /// The graph's name for an action: `rsc_task_interval`.
    pub fn action_key(&self, a: usize) -> String {
        let act = &self.actions[a];
        match (act.rsc, act.task.as_str(), act.node) {
            (Some(r), "notify", _) if act.notify_key.is_some() => format!("{}_{}_0", self.ws.rsc(r).id, act.notify_key.as_deref().unwrap_or_default()),
            (Some(r), "cancel", _) => format!("{}_{}_{}", self.ws.rsc(r).id, act.cancel_task.as_deref().unwrap_or("monitor"), act.interval_ms),
            (Some(r), _, _) => format!("{}_{}_{}", self.ws.rsc(r).id, act.task, act.interval_ms),
            (None, "stonith", Some(n)) => format!("stonith-{}-{}", self.ws.node(n).uname, act.stonith_action.as_deref().unwrap_or("reboot")),
            (None, "do_shutdown", Some(n)) => format!("do_shutdown-{}", self.ws.node(n).uname),
            (None, "probe_again", Some(n)) => format!("probe_again-{}", self.ws.node(n).uname),
            _ => act.task.clone(),
        }
    }

    /// The key of an action of a clone instance known to the history
    /// under another name (an anonymous clone's instance as recorded,
    /// `rsc` or `rsc:N`): the graph's `operation_key` and DOT use it, the
    /// instance's own key becomes the internal one.
    pub fn history_key(&self, a: usize) -> Option<String> {
        let act = &self.actions[a];
        let r = act.rsc?;
        let res = self.ws.rsc(r);
        let name = res.clone_name.as_deref().filter(|c| *c != res.id && self.ws.rsc(self.ws.top(r)).clone_info().is_some())?;
        if let Some(k) = &act.notify_key {
            return Some(format!("{name}_{}_0", crate::notify::history_notify_key(k)));
        }
        let task = act.cancel_task.as_deref().unwrap_or(&act.task);
        Some(format!("{name}_{task}_{}", act.interval_ms))
    }

    /// Orderings the graph leaves out (`should_add_input_to_graph`):
    /// those of migrations, and an anti-colocation's between actions on
    /// two different nodes.
    pub fn skips_input(&self, e: &crate::orderings::Edge) -> bool {
        if e.flags.anti_colocation && !self.actions[e.first].optional {
            let (f, t) = (self.actions[e.first].node, self.actions[e.then].node);
            if f.is_some() && t.is_some() && f != t {
                return true;
            }
        }
        self.migration_skips_input(e)
    }

    /// Builds the transition graph.
    pub fn transition_graph(&self, cib: &cib::model::Cib) -> TransitionGraph {
        let mut graph = TransitionGraph::new(GraphAttrs::new(0));
        let mut order = Vec::new();
        // Each resource's actions, listed once: the walk below visits
        // every resource, and scanning every action for each was
        // quadratic (docs/SCALE.md).
        let mut by_rsc: Vec<Vec<usize>> = vec![Vec::new(); self.ws.resources.len()];
        for a in &self.actions {
            if let Some(r) = a.rsc {
                by_rsc[r.0].push(a.id);
            }
        }
        for top in &self.ws.top_level {
            self.collect_synapse_order(&by_rsc, *top, &mut order);
        }
        // Configured primitives by id, for their instance attributes (a
        // search of the configuration per action was quadratic).
        let prims = primitives_by_id(&cib.resources);
        for a in self.actions.iter().filter(|a| a.rsc.is_none()).map(|a| a.id).rev() {
            order.push(a);
        }
        let mut inputs: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for e in &self.edges {
            if e.flags.none || e.flags.derived || !self.in_graph(e.first) || !self.in_graph(e.then) || self.skips_input(e) {
                continue;
            }
            let list = inputs.entry(e.then).or_default();
            if !list.contains(&e.first) {
                list.push(e.first);
            }
        }
        for (i, a) in order.into_iter().filter(|a| self.in_graph(*a)).enumerate() {
            let action = self.graph_action(cib, &prims, a);
            let mut ins: Vec<usize> = inputs.get(&a).cloned().unwrap_or_default();
            ins.sort_by_key(|x| self.graph_id(*x));
            let priority = self.actions[a].rsc.map_or(0, |r| self.ws.rsc(r).meta("priority").map_or(0, |p| crate::rules::scan_ll(p).unwrap_or(0) as i32));
            graph.synapses.push(Synapse { id: i as i32, priority, actions: vec![action], inputs: ins.into_iter().map(|x| self.header(x)).collect() });
        }
        graph
    }

    /// A resource's actions, newest first, then its children's.
    fn collect_synapse_order(&self, by_rsc: &[Vec<usize>], r: RscId, out: &mut Vec<usize>) {
        out.extend(by_rsc[r.0].iter().rev());
        for c in &self.ws.rsc(r).children {
            self.collect_synapse_order(by_rsc, *c, out);
        }
    }

    /// Graph ids start at 1, in creation order.
    fn graph_id(&self, a: usize) -> i32 {
        a as i32 + 1
    }

    fn header(&self, a: usize) -> ActionHeader {
        let act = &self.actions[a];
        let kind = if act.pseudo {
            ActionKind::PseudoEvent
        } else if (act.rsc.is_some() && act.task != "clear_failcount") || act.task == "probe_again" {
            ActionKind::RscOp
        } else {
            ActionKind::CrmEvent
        };
        let key = self.action_key(a);
        // An instance known to the history under another name (an
        // anonymous clone's `rsc:N` as recorded) is acted on under that
        // name; the instance's own key becomes the internal one.
        let mut h = match self.history_key(a) {
            Some(hk) => {
                let mut h = ActionHeader::new(kind, self.graph_id(a), &act.task, &hk);
                h.internal_operation_key = Some(key);
                h
            }
            None => ActionHeader::new(kind, self.graph_id(a), &act.task, &key),
        };
        if !act.pseudo {
            if let Some(n) = act.node {
                h.on_node = Some(self.ws.node(n).uname.clone());
                h.on_node_uuid = Some(self.ws.node(n).id.clone());
            }
        }
        h
    }

    fn graph_action(&self, cib: &cib::model::Cib, prims: &HashMap<&str, &cib::model::Primitive>, a: usize) -> GraphAction {
        let act = &self.actions[a];
        let mut ga = GraphAction::new(self.header(a));
        let mut attrs = Attributes::default();
        let mut timeout = DEFAULT_TIMEOUT_MS;
        if let Some(r) = act.rsc {
            let res = self.ws.rsc(r);
            if let Variant::Primitive(p) = &res.variant {
                // Pseudo-actions of primitives (stops implied by fencing)
                // keep the attributes but name no resource.
                // An orphan instance known under a history name goes by
                // that name, so the command reaches that very copy
                // (`action2xml`).
                let orphan_name = res.clone_name.clone().filter(|_| res.flags.orphan && !res.flags.unique && res.parent.is_some());
                ga.resource = (!act.pseudo).then(|| GraphResource {
                    element: "primitive".into(),
                    // An anonymous clone's instance (a member of a cloned
                    // group too) goes by its configured id.
                    id: if res.flags.unique || res.parent.is_none_or(|p| self.ws.rsc(p).clone_info().is_none() && self.ws.rsc(p).parent.is_none_or(|g| self.ws.rsc(g).clone_info().is_none())) { res.id.clone() } else { res.xml_id.clone() },
                    long_id: (res.id != res.xml_id && !res.flags.unique).then(|| match &res.clone_name {
                        Some(c) if *c != res.xml_id => c.clone(),
                        _ => res.id.clone(),
                    }),
                    class: Some(p.class.as_str().to_string()),
                    provider: p.provider.clone(),
                    agent: Some(p.agent.clone()),
                });
                if let (Some(name), Some(g)) = (orphan_name, ga.resource.as_mut()) {
                    g.id = name;
                    g.long_id = Some(res.id.clone());
                }
                let op_name = act.cancel_task.as_deref().unwrap_or(&act.task);
                if let Some((when, what)) = act.notify_key.as_deref().and_then(|k| k.split_once("_notify_")) {
                    // What the agent is told (`pre`/`post`, `start`/`stop`...).
                    attrs.set("CRM_meta_notify_type", when);
                    attrs.set("CRM_meta_notify_operation", what);
                    attrs.set("CRM_meta_notify_key_type", when);
                    attrs.set("CRM_meta_notify_key_operation", what);
                }
                if let Some(t) = op_default_timeout(cib, self.ws.now) {
                    timeout = t;
                }
                // A configured operation's own settings travel as meta. A
                // probe without one of its own takes the timeout of the
                // most frequent recurring monitor.
                let probe = act.task == "monitor" && act.interval_ms == 0;
                let own = p.ops.iter().find(|o| o.name == op_name && o.interval_ms == act.interval_ms);
                if own.is_none() && probe {
                    if let Some(t) = p.ops.iter().filter(|o| o.name == "monitor" && o.interval_ms > 0 && o.enabled != Some(false)).min_by_key(|o| o.interval_ms).and_then(|o| o.timeout_ms) {
                        timeout = t;
                    }
                }
                if let Some(op) = own {
                    if let Some(t) = op.timeout_ms {
                        timeout = t;
                    }
                    attrs.set("CRM_meta_name", op.name.clone());
                    if let Some(d) = op.start_delay_ms {
                        attrs.set("CRM_meta_start_delay", d.to_string());
                    }
                    if let Some(r) = op.role {
                        attrs.set("CRM_meta_role", r.as_str());
                    }
                    if let Some(f) = &op.on_fail {
                        attrs.set("CRM_meta_on_fail", format!("{f:?}").to_ascii_lowercase().replace("restartcontainer", "restart-container"));
                    }
                }
                let node_attrs = act.node.map(|n| &self.ws.node(n).attrs);
                for (k, v) in instance_params(prims, &res.xml_id, self.ws.now, node_attrs) {
                    attrs.set(&k, v);
                }
                if act.interval_ms > 0 {
                    attrs.set("CRM_meta_interval", act.interval_ms.to_string());
                    attrs.set("CRM_meta_name", op_name);
                }
                if let Some(t) = &act.cancel_task {
                    attrs.set("CRM_meta_operation", t.clone());
                }
                if (act.task == "monitor" && act.interval_ms == 0) || act.stopped_monitor {
                    attrs.set("CRM_meta_op_target_rc", "7");
                } else if act.task == "monitor" && res.next_role == cib::model::Role::Promoted {
                    // A monitor of the promoted role expects "running promoted".
                    attrs.set("CRM_meta_op_target_rc", "8");
                }
                if act.stopped_monitor {
                    attrs.set("CRM_meta_role", "Stopped");
                }
            }
        }
        if !act.pseudo {
            if let Some(n) = act.node {
                attrs.set("CRM_meta_on_node", self.ws.node(n).uname.clone());
                attrs.set("CRM_meta_on_node_uuid", self.ws.node(n).id.clone());
            }
        }
        if let (Some(how), Some(n)) = (&act.stonith_action, act.node) {
            attrs.set("CRM_meta_stonith_action", how.clone());
            ga.downed = Some(vec![self.ws.node(n).id.clone()]);
        }
        if act.task == "do_shutdown" || act.task == "clear_failcount" || act.task == "probe_again" {
            attrs.set("CRM_meta_op_no_wait", "true");
        }
        if act.pseudo {
            if let Some(t) = op_default_timeout(cib, self.ws.now) {
                timeout = t;
            }
        }
        if act.rsc.is_some() || act.pseudo {
            attrs.set("CRM_meta_timeout", timeout.to_string());
        }
        self.add_migration_meta(a, &mut attrs);
        ga.attributes = attrs;
        ga
    }
}

/// `op_defaults` timeout, if set.
fn op_default_timeout(cib: &cib::model::Cib, now: i64) -> Option<u64> {
    let mut table = BTreeMap::new();
    unpack_into(&mut table, &cib.op_defaults, None, &RuleInput { now, ..Default::default() }, false, as_written);
    table.get("timeout").and_then(|v| cib::model::duration::parse_msec(v))
}

/// The instance attributes of a configured primitive, evaluated for a node.
fn instance_params(prims: &HashMap<&str, &cib::model::Primitive>, xml_id: &str, now: i64, node_attrs: Option<&BTreeMap<String, String>>) -> BTreeMap<String, String> {
    let mut table = BTreeMap::new();
    if let Some(p) = prims.get(xml_id) {
        let input = RuleInput { now, node_attrs, ..Default::default() };
        unpack_into(&mut table, &p.instance_attributes, None, &input, false, as_written);
    }
    table.retain(|k, _| !cib::model::names::is_heartbeat_instance_meta(k));
    table
}

/// Configured primitives (top level, in groups, in clones) by id; the
/// first in document order wins, as a search from the start would find.
fn primitives_by_id(rscs: &[cib::model::Resource]) -> HashMap<&str, &cib::model::Primitive> {
    fn walk<'c>(rscs: &'c [cib::model::Resource], out: &mut HashMap<&'c str, &'c cib::model::Primitive>) {
        use cib::model::Resource as R;
        for r in rscs {
            match r {
                R::Primitive(p) => {
                    out.entry(p.id.as_str()).or_insert(p);
                }
                R::Group(g) => {
                    for p in &g.children {
                        out.entry(p.id.as_str()).or_insert(p);
                    }
                }
                R::Clone(c) => walk(std::slice::from_ref(&c.child), out),
                _ => {}
            }
        }
    }
    let mut out = HashMap::new();
    walk(rscs, &mut out);
    out
}
