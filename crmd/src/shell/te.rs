//! The DC's transition engine: computes graphs (`policy::compute`) and
//! runs them with [`tengine::Executor`].
//!
//! - An `rsc_op` for node X goes to X's crmd as `lrm_op` (or runs here
//!   when X is us). X writes the `lrm_rsc_op` into the CIB; the DC
//!   confirms the action when that record reaches its own CIB copy
//!   (`observe_op`), so the next transition is computed from a CIB that
//!   holds every confirmed result (Pacemaker's te confirms from CIB diffs
//!   too). Actions that leave no record (cancel) answer with `lrm_result`.
//! - An aborted transition is drained: no new actions, and no new
//!   transition is computed until its actions in flight have answered or
//!   timed out, so a transition never works from a CIB missing results
//!   that are on their way.
//! - Fencing actions go to the local stonithd (`fencing.rs`).

use std::collections::BTreeMap;

use tengine::executor::Dispatch;
use tengine::{ActionResult, Executor, RunStatus, Step, TransitionGraph, INFINITY};

use super::{epoch, log_refusal, policy, Cause, Shell, C_PE, C_TE};
use crate::controller::Event;
use crate::status::{self, TransitionKey};
use crate::wire::Wire;

/// A transition being executed.
struct Running {
    id: u64,
    exec: Executor,
    aborted: bool,
    /// A result that was no failure but not what was expected (a probe
    /// finding a resource running): the transition ends incomplete so the
    /// controller recomputes.
    surprised: bool,
}

/// The DC's transition state.
pub(crate) struct Engine {
    /// This crmd's instance id: the last part of every transition key, so
    /// results of an earlier DC are never taken for ours.
    pub uuid: String,
    /// Computed graphs waiting for `ExecuteTransition`.
    graphs: BTreeMap<u64, TransitionGraph>,
    running: Option<Running>,
    /// A `ComputeTransition` held back while an aborted transition drains.
    deferred_compute: Option<(u64, Cause)>,
}

impl Engine {
    pub fn new() -> Engine {
        Engine { uuid: uuid::Uuid::new_v4().to_string(), graphs: BTreeMap::new(), running: None, deferred_compute: None }
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.running.as_ref().and_then(|r| r.exec.next_deadline())
    }

    pub fn expire(&mut self, now_ms: u64) {
        if let Some(r) = &mut self.running {
            for id in r.exec.expire(now_ms) {
                tracing::error!("crmd: action {id} of transition {} timed out", r.id);
            }
        }
    }

    /// `AbortTransition`: fire nothing more.
    pub fn abort(&mut self, id: u64) {
        if let Some(r) = &mut self.running {
            if r.id == id && !r.aborted {
                tracing::info!("crmd: transition {id} aborted");
                r.aborted = true;
                r.exec.abort(INFINITY);
            }
        }
    }

    pub(crate) fn complete(&mut self, transition: u64, action_id: i32, result: ActionResult) {
        if let Some(r) = &mut self.running {
            if r.id == transition && r.exec.complete(action_id, result).is_ok() {
                tracing::info!("crmd: action {action_id} of transition {transition} confirmed: {result:?}");
            }
        }
    }

    /// `node` left the membership: its actions in flight will never
    /// answer; fail them now rather than after their timeouts, so the
    /// drained transition ends and the recovery is computed at once.
    pub fn node_lost(&mut self, node: &str) {
        let Some(r) = &mut self.running else { return };
        let lost: Vec<i32> = r
            .exec
            .in_flight()
            .filter(|id| {
                // A fencing of that node is answered by stonithd, not by
                // the node: its leaving is what fencing brings about.
                r.exec.graph().action(*id).is_some_and(|a| {
                    a.header.on_node.as_deref() == Some(node) && Dispatch::of(a) != Dispatch::Fence
                })
            })
            .collect();
        for id in lost {
            tracing::warn!("crmd: action {id} of transition {} lost: {node} left", r.id);
            let _ = r.exec.complete(id, ActionResult::Failed);
        }
    }

    /// An `lrm_result` message.
    pub fn remote_result(&mut self, transition: u64, action_id: i32, rc: i32, op_status: i32) {
        let target = self.target_rc(transition, action_id);
        let failed = op_status != 0 || rc != target;
        self.complete(transition, action_id, if failed { ActionResult::Failed } else { ActionResult::Ok });
    }

    fn target_rc(&self, transition: u64, action_id: i32) -> i32 {
        self.running
            .as_ref()
            .filter(|r| r.id == transition)
            .and_then(|r| r.exec.graph().action(action_id))
            .and_then(|a| a.meta("op_target_rc"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// An `lrm_rsc_op` seen in a CIB diff: confirms our action if it is
    /// one; otherwise returns why it calls for a new transition (an
    /// unexpected result: a failed recurring monitor...).
    pub fn observe_op(&mut self, op: &cib::Element) -> Option<String> {
        let key = op.attr("transition-key").and_then(TransitionKey::parse);
        let rc: i32 = op.attr("rc-code").and_then(|v| v.parse().ok()).unwrap_or(1);
        let op_status: i32 = op.attr("op-status").and_then(|v| v.parse().ok()).unwrap_or(4);
        if op_status == -1 {
            return None;
        }
        let action = op.attr("operation").unwrap_or_default().to_string();
        let interval: u64 = op.attr("interval").and_then(|v| v.parse().ok()).unwrap_or(0);
        let target = key.as_ref().map_or(0, |k| k.target_rc);
        let failed = status::is_failure(&action, interval, rc, op_status, target);
        if let Some(k) = &key {
            let ours = k.uuid == self.uuid && self.running.as_ref().is_some_and(|r| r.id == k.transition);
            let in_flight = ours
                && self.running.as_ref().is_some_and(|r| r.exec.in_flight().any(|id| id == k.action_id));
            if in_flight {
                if rc != target && !failed {
                    if let Some(r) = &mut self.running {
                        r.surprised = true;
                    }
                }
                self.complete(k.transition, k.action_id, if failed { ActionResult::Failed } else { ActionResult::Ok });
                return None;
            }
        }
        failed.then(|| format!("{} failed (rc={rc}, op-status={op_status})", op.attr("operation_key").unwrap_or("?")))
    }
}

/// A one-synapse graph carrying `action` to the node that runs it.
fn single_action_graph(graph: &TransitionGraph, action: &tengine::Action) -> String {
    let mut g = TransitionGraph::new(graph.attrs.clone());
    g.synapses.push(tengine::Synapse { id: 0, priority: 0, actions: vec![action.clone()], inputs: Vec::new() });
    g.to_xml()
}

impl Shell {
    /// `ComputeTransition`: query the CIB, schedule, hand the graph back
    /// as `TransitionComputed` (held while an aborted one drains).
    pub(crate) async fn te_compute(&mut self, id: u64, cause: Cause) -> anyhow::Result<()> {
        if self.te.running.is_some() {
            self.te.deferred_compute = Some((id, cause));
            return Ok(());
        }
        let mut cib = self.cib.query().await?;
        self.learn_node_ids(&cib);
        // The scheduler decides with this DC's quorum, never with a
        // `have-quorum` another partition wrote into a CIB this node took
        // over while the partitions merged (a minority DC would start
        // resources the majority runs: t85_split_brain).
        if let Some(v) = self.ctl.view() {
            cib.set_attr("have-quorum", if v.quorum { "1" } else { "0" });
        }
        match policy::compute(&self.pengine_socket, &cib, id, epoch()).await {
            Ok(graph) => {
                let n = graph.synapses.len();
                tracing::info!("crmd: transition {id}: {n} synapses (input version {})", cib::Version::of(&cib));
                self.fencer.note_graph(&cib, &graph);
                self.te.graphs.clear();
                self.te.graphs.insert(id, graph);
                self.events.push_back((Event::TransitionComputed { id }, C_PE));
            }
            Err(e) => tracing::error!("crmd: cannot compute transition {id}: {e:#}"),
        }
        Ok(())
    }

    /// `ExecuteTransition`.
    pub(crate) fn te_execute(&mut self, id: u64) {
        let Some(graph) = self.te.graphs.remove(&id) else {
            tracing::warn!("crmd: no graph for transition {id}");
            return;
        };
        tracing::info!("crmd: executing transition {id}");
        self.te.running = Some(Running { id, exec: Executor::new(graph), aborted: false, surprised: false });
    }

    /// Fires what is ready; reports the end of the transition.
    pub(crate) async fn drive_te(&mut self) -> anyhow::Result<()> {
        loop {
            let now = self.now_ms();
            let Some(r) = &mut self.te.running else { return Ok(()) };
            match r.exec.next(now) {
                Step::Fire(f) => {
                    if f.confirmed && f.dispatch == Dispatch::Pseudo {
                        continue;
                    }
                    let id = r.id;
                    let graph_attrs = r.exec.graph().clone();
                    let action = r.exec.action(&f).clone();
                    self.fire(id, &graph_attrs, &action, f.dispatch, f.confirmed).await?;
                }
                Step::Wait { .. } => return Ok(()),
                Step::Done(outcome) => {
                    let r = self.te.running.take().expect("running");
                    let complete = outcome.status == RunStatus::Complete && !r.surprised;
                    tracing::info!(
                        "crmd: transition {} ({}): {} completed, {} failed, {} never ran",
                        r.id,
                        match outcome.status {
                            RunStatus::Complete => "Complete",
                            RunStatus::Aborted => "Stopped",
                            _ => "Terminated",
                        },
                        outcome.completed.len(),
                        outcome.failed_actions.len(),
                        outcome.never_ran.len()
                    );
                    if !r.aborted {
                        self.events.push_back((Event::TransitionFinished { id: r.id, complete }, C_TE));
                    }
                    if let Some((id, cause)) = self.te.deferred_compute.take() {
                        self.te_compute(id, cause).await?;
                    }
                    return Ok(());
                }
            }
        }
    }

    async fn fire(
        &mut self,
        transition: u64,
        graph: &TransitionGraph,
        action: &tengine::Action,
        dispatch: Dispatch,
        confirmed: bool,
    ) -> anyhow::Result<()> {
        let aid = action.id();
        let node = action.header.on_node.clone().unwrap_or_default();
        let key = action.header.operation_key.clone();
        match dispatch {
            Dispatch::Pseudo => {}
            Dispatch::Rsc => {
                let target = action.meta("op_target_rc").and_then(|v| v.parse().ok()).unwrap_or(0);
                let tkey = TransitionKey { action_id: aid, transition, target_rc: target, uuid: self.te.uuid.clone() };
                tracing::info!("crmd: initiating {} on {node} (action {aid})", key);
                if node == self.me {
                    let me = self.me.clone();
                    self.run_action(&me, transition, action, &tkey.to_string()).await?;
                } else {
                    let w = Wire::LrmOp {
                        transition,
                        action_id: aid,
                        key: tkey.to_string(),
                        graph_xml: single_action_graph(graph, action),
                    };
                    self.send_wire(Some(&node), &w).await?;
                }
            }
            // Answered later, through `on_fence_done` (fencing.rs).
            Dispatch::Fence => self.fire_fence(transition, graph, action),
            Dispatch::Cluster => {
                let id = self.node_id(&node);
                let rsc = action.resource.as_ref().map(|r| r.id.clone()).unwrap_or_default();
                match action.header.operation.as_str() {
                    "do_shutdown" => {
                        tracing::info!("crmd: {node} may shut down now");
                        let a = self.cib.modify(Some("status"), status::shutdown_state(&id, &node)).await?;
                        log_refusal("node_state", &a);
                        if node == self.me {
                            self.events.push_back((Event::Stop, C_TE));
                        } else {
                            self.send_wire(Some(&node), &Wire::Shutdown).await?;
                        }
                    }
                    "clear_failcount" => {
                        tracing::info!("crmd: clearing the fail count of {rsc} on {node}");
                        self.clear_failcounts(&node, &rsc).await?;
                    }
                    "lrm_delete" => {
                        tracing::info!("crmd: deleting the history of {rsc} on {node}");
                        let a = self.cib.delete_xpath(&status::lrm_resource_xpath(&id, &rsc)).await?;
                        log_refusal("lrm_delete", &a);
                    }
                    other => tracing::warn!("crmd: ignoring cluster action {other} ({key})"),
                }
                if !confirmed {
                    self.te.complete(transition, aid, ActionResult::Ok);
                }
            }
        }
        Ok(())
    }

    /// The result of an action run here, for our own transition (the DC
    /// runs its own node's actions without messages).
    pub(crate) fn local_result(&mut self, transition: u64, action_id: i32, rc: i32, op_status: i32) {
        self.te.remote_result(transition, action_id, rc, op_status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRAPH: &str = r#"<transition_graph cluster-delay="60s" stonith-timeout="60s" failed-stop-offset="INFINITY" failed-start-offset="INFINITY" transition_id="1">
  <synapse id="0">
    <action_set>
      <rsc_op id="1" operation="start" operation_key="a_start_0" on_node="n1" on_node_uuid="n1">
        <primitive id="a" class="ocf" provider="heartbeat-rs" type="Dummy"/>
        <attributes CRM_meta_timeout="20000"/>
      </rsc_op>
    </action_set>
    <inputs/>
  </synapse>
  <synapse id="1">
    <action_set>
      <rsc_op id="2" operation="start" operation_key="b_start_0" on_node="n2" on_node_uuid="n2">
        <primitive id="b" class="ocf" provider="heartbeat-rs" type="Dummy"/>
        <attributes CRM_meta_timeout="20000"/>
      </rsc_op>
    </action_set>
    <inputs/>
  </synapse>
</transition_graph>
"#;

    fn running() -> Engine {
        let mut e = Engine::new();
        let mut exec = Executor::new(TransitionGraph::from_xml(GRAPH).unwrap());
        while let Step::Fire(_) = exec.next(0) {}
        e.running = Some(Running { id: 1, exec, aborted: false, surprised: false });
        e
    }

    fn op(key: &str, uuid: &str, rc: &str) -> cib::Element {
        cib::Element::new("lrm_rsc_op")
            .with_attr("operation_key", "a_start_0")
            .with_attr("operation", "start")
            .with_attr("transition-key", format!("{key}:{uuid}"))
            .with_attr("rc-code", rc)
            .with_attr("op-status", "0")
            .with_attr("interval", "0")
    }

    #[test]
    fn a_lost_nodes_actions_fail_at_once() {
        let mut e = running();
        e.node_lost("n2");
        let r = e.running.as_ref().unwrap();
        assert_eq!(r.exec.in_flight().collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn records_in_the_cib_confirm_only_our_own_actions() {
        let mut e = running();
        let uuid = e.uuid.clone();
        // Another crmd's key, or another transition: not ours; a success is no news.
        assert_eq!(e.observe_op(&op("1:1:0", "someone-else", "0")), None);
        assert_eq!(e.observe_op(&op("1:7:0", &uuid, "0")), None);
        assert_eq!(e.running.as_ref().unwrap().exec.in_flight().count(), 2);
        // Ours: confirmed.
        assert_eq!(e.observe_op(&op("1:1:0", &uuid, "0")), None);
        assert_eq!(e.running.as_ref().unwrap().exec.in_flight().collect::<Vec<_>>(), [2]);
        // A failure outside the transition calls for a new one.
        assert!(e.observe_op(&op("5:0:0", "old", "1")).unwrap().contains("failed"));
    }
}
