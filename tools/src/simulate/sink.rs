//! The action sink of crm_simulate's simulated execution: it prints each
//! action through [`tengine::SimulatedSink`] and applies it to a copy of
//! the CIB as Pacemaker 2.1.5's `pcmk_simulate.c` does:
//!
//! - a resource action gets a history entry in its node's `lrm_resource`
//!   with the result the transition expected (`CRM_meta_op_target_rc`:
//!   0, 7 for a probe expecting "not running", 8 for promoted...), or the
//!   one `--op-fail` asks for, which also fails the action and records a
//!   fail count;
//! - fencing (other than `on`) marks the node cleanly down and drops its
//!   history and transient attributes;
//! - pseudo events and cluster events (`do_shutdown`, `clear_failcount`...)
//!   change nothing; they are only printed.

use std::collections::HashSet;
use std::rc::Rc;

use cib::op_digest::{op_digest, OpParams};
use cib::xml::Element;
use tengine::{Action, ActionResult, ActionSink, SimulatedSink};

use super::history::{self, Agent, OpResult};
use super::opspec;
use super::Error;

/// crm_simulate's sink: prints like [`SimulatedSink`], edits `cib`.
pub struct CibSink<'a> {
    /// The printer; its `lines` are the "Executing Cluster Transition"
    /// section, including the lines this sink adds (injected failures).
    pub printer: SimulatedSink,
    /// The CIB's root element (`<cib>`), edited in place.
    cib: &'a mut Element,
    /// Resource names the cluster knows (ids and the names clone
    /// instances' histories go by); decides which name an action's
    /// history is written under, as it decides the printed name.
    known: Rc<HashSet<String>>,
    /// `--op-fail` specifications, `RSC_TASK_INTERVAL@NODE=RC`.
    op_fail: Vec<String>,
    /// Epoch seconds for `last-rc-change` and `last-failure`.
    now: i64,
    /// Whether a node touched gets a configuration entry (crm_simulate
    /// does this once `--node-up` was given).
    add_node_config: bool,
    /// Problems Pacemaker reports on stderr (bad `--op-fail` specs,
    /// history that could not be written).
    pub errors: Vec<String>,
}

impl<'a> CibSink<'a> {
    pub fn new(cib: &'a mut Element, known: HashSet<String>, op_fail: Vec<String>, now: i64) -> Self {
        let known = Rc::new(known);
        let for_printer = Rc::clone(&known);
        CibSink {
            printer: SimulatedSink::with_resolver(Box::new(move |n| for_printer.contains(n))),
            cib,
            known,
            op_fail,
            now,
            add_node_config: false,
            errors: Vec::new(),
        }
    }

    /// Adds a configuration entry for every node touched (see the field).
    pub fn add_node_config(mut self, yes: bool) -> Self {
        self.add_node_config = yes;
        self
    }

    /// The injected exit code for this action, if an `--op-fail` spec
    /// names it (under the name printed or the configuration's name, any
    /// case), with the name that matched.
    fn injected_failure(&mut self, printed: &str, config: &str, task: &str, interval_ms: u64, node: &str) -> Option<(String, i32)> {
        for spec in &self.op_fail {
            let mut matched = None;
            for name in [printed, config] {
                let key = format!("{name}_{task}_{interval_ms}@{node}=");
                let prefix = spec.get(..key.len());
                if prefix.is_some_and(|p| p.eq_ignore_ascii_case(&key)) {
                    matched = Some(name.to_string());
                    break;
                }
            }
            let Some(name) = matched else { continue };
            match opspec::rc_of(spec) {
                Some(rc) => return Some((name, rc)),
                None => self.errors.push(format!("Invalid failed operation '{spec}' (result code must be integer)")),
            }
        }
        None
    }

    fn record(&mut self, action: &Action) -> Result<ActionResult, Error> {
        let rsc = action.resource.as_ref().expect("checked by the caller");
        let config_name = rsc.id.as_str();
        let mut name = config_name;
        if !self.known.contains(name) {
            if let Some(long) = rsc.long_id.as_deref().filter(|l| self.known.contains(*l)) {
                name = long;
            }
        }
        let task = action.header.operation.as_str();
        let node = action.header.on_node.clone().unwrap_or_else(|| "(null)".into());
        let target_rc = action.meta("op_target_rc").and_then(|v| v.trim().parse::<i32>().ok()).unwrap_or(0).max(0);
        // A remote node's state entry goes by the node's name.
        let uuid = match &action.header.router_node {
            Some(_) => Some(node.clone()),
            None => action.header.on_node_uuid.clone(),
        };
        let pos = history::inject_node(self.cib, &node, uuid.as_deref(), self.add_node_config)?;
        let state = history::node_state_mut(self.cib, pos);
        let agent = Agent { class: rsc.class.as_deref(), provider: rsc.provider.as_deref(), kind: rsc.agent.as_deref() };
        let call_id = history::next_call_id(history::inject_resource_history(state, name, config_name, agent)?);

        // Printed before a failure is announced, as Pacemaker does.
        let result = self.printer.rsc(action);
        let interval_ms = u64::from(action.interval_ms());
        let mut rc = target_rc;
        let mut outcome = result;
        if let Some((matched, injected)) = self.injected_failure(name, config_name, task, interval_ms, &node) {
            rc = injected;
            outcome = ActionResult::Failed;
            self.printer.lines.push(format!("Pretending action {} failed with rc={rc}", action.id()));
            let state = history::node_state_mut(self.cib, pos);
            let lines = history::inject_failcount(state, &matched, task, interval_ms, rc, self.now);
            self.printer.lines.extend(lines);
        }
        let pairs = action.attributes.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let op = OpResult {
            rsc_id: config_name.to_string(),
            task: task.to_string(),
            interval_ms,
            call_id,
            rc,
            target_rc,
            exit_reason: "User-injected result".into(),
            now: self.now,
            digest: Some(op_digest(&OpParams::from_action(pairs))),
            migrate_source: action.meta("migrate_source").map(String::from),
            migrate_target: action.meta("migrate_target").map(String::from),
            notify: action.meta("notify_type").zip(action.meta("notify_operation")).map(|(t, o)| (t.to_string(), o.to_string())),
        };
        let state = history::node_state_mut(self.cib, pos);
        let lrm_rsc = history::inject_resource_history(state, name, config_name, agent)?;
        history::record_op(lrm_rsc, &op);
        history::merge_like_cib_update(history::node_state_mut(self.cib, pos));
        Ok(outcome)
    }
}

impl ActionSink for CibSink<'_> {
    fn rsc(&mut self, action: &Action) -> ActionResult {
        let op = action.header.operation.as_str();
        // Reprobes leave no history; a missing resource is the printer's
        // refusal; deletions and meta-data calls are shown, not recorded.
        if op == "reprobe" || action.resource.is_none() || op.eq_ignore_ascii_case("delete") || op.eq_ignore_ascii_case("meta-data") {
            return self.printer.rsc(action);
        }
        match self.record(action) {
            Ok(result) => result,
            Err(e) => {
                // Pacemaker gives up on the action without printing it.
                self.errors.push(e.to_string());
                ActionResult::Failed
            }
        }
    }

    fn pseudo(&mut self, action: &Action) {
        self.printer.pseudo(action);
    }

    fn fence(&mut self, action: &Action) -> ActionResult {
        let result = self.printer.fence(action);
        let how = action.meta("stonith_action").unwrap_or("");
        if !how.eq_ignore_ascii_case("on") {
            let target = action.header.on_node.clone().unwrap_or_default();
            match history::inject_node(self.cib, &target, None, self.add_node_config) {
                Ok(pos) => {
                    let state = history::node_state_mut(self.cib, pos);
                    history::set_node_up(state, false);
                    state.set_attr("crm-debug-origin", "simulate_fencing_action");
                    history::clear_node_history(state);
                }
                Err(e) => self.errors.push(e.to_string()),
            }
        }
        result
    }

    fn cluster(&mut self, action: &Action) -> ActionResult {
        self.printer.cluster(action)
    }
}
