//! Unfencing (Pacemaker 2.1.5's `pcmk__order_vs_unfence`,
//! `trigger_unfencing`, `pcmk__node_unfenced`).
//!
//! Some fence devices (SCSI reservations, fabric switches) cut a node off
//! until it is explicitly let back in: "unfenced", a fencing action `on`.
//! A device configured with `provides=unfencing` turns the feature on;
//! resources configured after it then require unfencing by default
//! (`requires=unfencing`). Their probes and starts on a node come after
//! the node's `stonith 'on'` action, and a node whose status has no
//! `#node-unfenced` attribute gets unfenced in this transition:
//!
//! ```text
//!  stonith 'on' node3 ──> fencing_monitor_0 node3     (a fence device's probe: optional order)
//!                    └──> dlm:2_start_0 node3         (a start: a required unfencing requires it)
//! ```
//!
//! A Pacemaker Remote node records the digests of the devices that
//! unfenced it (`#digests-all`, `#digests-secure`); a device whose
//! definition changed since makes its unfencing required again
//! (`pe__compare_fencing_digest`). Cluster nodes rely on the devices'
//! own operation digests instead, as Pacemaker does.

use crate::actions::Action;
use crate::orderings::{OrderFlags, Side};
use crate::schedule::Scheduler;
use crate::working_set::{NodeId, RscId};

impl Scheduler<'_> {
    /// Which primitives need unfencing, and which are fence devices that
    /// take part in it, in configuration order: unfencing is enabled by
    /// the first device with `provides=unfencing`, and only resources
    /// unpacked after it default to requiring it (Pacemaker sets the flag
    /// while unpacking).
    fn unfencing_participants(&self) -> Vec<RscId> {
        if !self.ws.options.stonith_enabled {
            return Vec::new();
        }
        let mut enabled = false;
        let mut out = Vec::new();
        for i in 0..self.ws.resources.len() {
            let r = self.ws.rsc(RscId(i));
            let Some(p) = r.primitive() else { continue };
            let device = p.class == cib::model::AgentClass::Stonith;
            if device {
                if r.meta("provides").is_some_and(|v| v.eq_ignore_ascii_case("unfencing")) {
                    enabled = true;
                }
                if enabled {
                    out.push(RscId(i));
                }
                continue;
            }
            let remote = p.class == cib::model::AgentClass::Ocf && p.provider.as_deref() == Some("pacemaker") && p.agent == "remote";
            let needs = match r.meta("requires") {
                Some(v) => v.eq_ignore_ascii_case("unfencing"),
                None => enabled && !remote,
            };
            if needs {
                out.push(RscId(i));
            }
        }
        out
    }

    /// `pcmk__order_vs_unfence` for every probe and start of a resource
    /// that takes part in unfencing.
    pub(crate) fn schedule_unfencing(&mut self) {
        let participants = self.unfencing_participants();
        if participants.is_empty() {
            return;
        }
        let enabled = participants.iter().any(|r| self.ws.rsc(*r).primitive().is_some_and(|p| p.class == cib::model::AgentClass::Stonith));
        for a in 0..self.actions.len() {
            let act = &self.actions[a];
            let (Some(r), Some(node)) = (act.rsc, act.node) else { continue };
            let probe = act.task == "monitor" && act.interval_ms == 0;
            let start = act.task == "start";
            if !(probe || start) || !participants.contains(&r) {
                continue;
            }
            let unfence = self.unfence_op(node);
            // A start needs a required unfencing (it then restarts);
            // a probe is merely ordered after it.
            let flags = if start { OrderFlags { implies_then: true, ..Default::default() } } else { OrderFlags { optional: true, ..Default::default() } };
            self.order(Side::Action(unfence), Side::Action(a), flags);
            if enabled && !self.node_unfenced(node) && self.ws.node(node).online {
                let reason = format!("required by {} {}", self.ws.rsc(r).id, self.actions[a].task);
                if self.actions[unfence].reason.is_none() {
                    self.actions[unfence].reason = Some(reason);
                }
                self.actions[unfence].optional = false;
            }
        }
    }

    /// `pcmk__node_unfenced`: the node's status records an unfencing.
    fn node_unfenced(&self, node: NodeId) -> bool {
        self.ws.node(node).attr("#node-unfenced").is_some_and(|v| v != "0")
    }

    /// A node's `stonith 'on'` action (`pe_fence_op(node, "on")`),
    /// optional until something requires it.
    fn unfence_op(&mut self, node: NodeId) -> usize {
        let key = (None, "stonith-on_0".to_string(), Some(node));
        if let Some(i) = self.action_index.get(&key).copied() {
            return i;
        }
        let i = self.actions.len();
        self.actions.push(Action {
            id: i,
            rsc: None,
            task: "stonith".into(),
            interval_ms: 0,
            node: Some(node),
            optional: true,
            runnable: true,
            pseudo: false,
            reason: None,
            stonith_action: Some("on".into()),
            stopped_monitor: false,
            cancel_task: None,
            notify_key: None,
        });
        self.action_index.insert(key, i);
        if self.ws.node(node).kind == crate::working_set::NodeKind::Remote {
            self.compare_unfencing_digests(node, i);
        }
        i
    }

    /// `pe__compare_fencing_digest` for each device providing unfencing,
    /// against what the remote node recorded: a changed definition
    /// requires unfencing again; a change in private parameters only (a
    /// sanitized CIB) is reported and otherwise ignored.
    fn compare_unfencing_digests(&mut self, node: NodeId, unfence: usize) {
        let devices: Vec<RscId> = (0..self.ws.resources.len())
            .map(RscId)
            .filter(|r| {
                let rsc = self.ws.rsc(*r);
                rsc.primitive().is_some_and(|p| p.class == cib::model::AgentClass::Stonith)
                    && rsc.meta("provides").is_some_and(|v| v.eq_ignore_ascii_case("unfencing"))
            })
            .collect();
        for dev in devices {
            let n = self.ws.node(node);
            let Some(all) = n.attr("#digests-all").map(str::to_string) else { continue };
            let secure = n.attr("#digests-secure").map(str::to_string).unwrap_or_default();
            let rsc = self.ws.rsc(dev);
            let agent = rsc.primitive().map(|p| p.agent.clone()).unwrap_or_default();
            let id = rsc.id.clone();
            let unconditional = |set: &cib::model::NvSet| set.is_unconditional();
            let Some(params) = cib::op_digest::OpParams::from_index(self.cib, &self.primitives, &rsc.xml_id, "stonith-on", 0, &unconditional) else {
                continue;
            };
            let summary_has = |summary: &str, digest: &str| summary.split(',').any(|e| e == format!("{id}:{agent}:{digest}"));
            if summary_has(&all, &cib::op_digest::op_digest(&params)) {
                continue;
            }
            // Without an operation record, Pacemaker treats these as the
            // private parameters.
            let secure_calc = cib::op_digest::secure_digest(&params, &["passwd", "password", "user"], false);
            if summary_has(&secure, &secure_calc) {
                let uname = &self.ws.node(node).uname;
                self.notices.push(format!("Only 'private' parameters to {id} for unfencing {uname} changed"));
                continue;
            }
            self.actions[unfence].optional = false;
        }
    }
}
