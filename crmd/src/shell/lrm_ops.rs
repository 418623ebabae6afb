//! The node side of resource operations: an action from the DC (or from
//! our own transition engine when we are the DC) runs on lrmd; its
//! record goes into our `node_state` in the CIB (after the fail count,
//! when it failed); recurring monitors report again whenever their
//! result changes. The DC confirms actions from those CIB records.

use lrmd::op::{OpRecord, OpStatus};
use tengine::TransitionGraph;

use super::{epoch, log_refusal, Shell};
use crate::lrm::{self, RscAgent};
use crate::status::{self, TransitionKey};
use crate::wire::Wire;

/// An operation asked of lrmd, until its (last) result.
#[derive(Debug, Clone)]
pub(crate) struct PendingOp {
    agent: RscAgent,
    /// The DC that asked (results that leave no record go to it).
    dc: String,
    transition: u64,
    action_id: i32,
    target_rc: i32,
    interval_ms: u64,
}

impl PendingOp {
    /// An operation this node runs of its own accord (the emergency stop
    /// on quorum loss): its result is recorded in the CIB as any other;
    /// a result that leaves no record goes to `me` for no transition.
    pub(crate) fn local(agent: RscAgent, me: &str, target_rc: i32) -> PendingOp {
        PendingOp { agent, dc: me.to_string(), transition: 0, action_id: 0, target_rc, interval_ms: 0 }
    }
}

impl Shell {
    /// `lrm_op` from the DC.
    pub(crate) async fn on_lrm_op(
        &mut self,
        dc: &str,
        transition: u64,
        action_id: i32,
        key: &str,
        graph_xml: &str,
    ) -> anyhow::Result<()> {
        if self.ctl.dc() != Some(dc) {
            // Two DCs for a moment (a partition healing): only ours may
            // act on our resources.
            tracing::warn!("crmd: refusing action {action_id} from {dc}, which is not our DC ({:?})", self.ctl.dc());
            if let Some(ours) = self.ctl.dc().map(str::to_string) {
                // Tell it: it holds an election at once (Another DC detected).
                self.send_wire(Some(dc), &Wire::Controller(crate::Message::OtherDc { dc: ours })).await?;
            }
            return self.report(dc, transition, action_id, 1, OpStatus::Error.code()).await;
        }
        let action = match TransitionGraph::from_xml(graph_xml) {
            Ok(g) => g.action(action_id).cloned(),
            Err(e) => {
                tracing::error!("crmd: unreadable action {action_id} from {dc}: {e}");
                None
            }
        };
        match action {
            Some(a) => self.run_action(dc, transition, &a, key).await,
            None => self.report(dc, transition, action_id, 1, OpStatus::Error.code()).await,
        }
    }

    /// Runs one `rsc_op` here.
    pub(crate) async fn run_action(
        &mut self,
        dc: &str,
        transition: u64,
        action: &tengine::Action,
        key: &str,
    ) -> anyhow::Result<()> {
        let aid = action.id();
        let my_id = self.node_id(&self.me.clone());
        if action.header.operation == "cancel" {
            let rsc = action.resource.as_ref().map(|r| r.id.clone()).unwrap_or_default();
            let task = action.meta("operation").unwrap_or("monitor").to_string();
            let interval = action.interval_ms() as u64;
            if let Err(e) = self.lrmd.cancel(&rsc, &task, interval).await {
                tracing::debug!("crmd: cancel {rsc}_{task}_{interval}: {e}");
            }
            self.ops.retain(|_, p| !(p.agent.id == rsc && p.interval_ms == interval));
            let a = self.cib.delete_xpath(&status::lrm_op_xpath(&my_id, &rsc, &format!("{rsc}_{task}_{interval}"))).await?;
            log_refusal("delete cancelled op", &a);
            return self.report(dc, transition, aid, 0, 0).await;
        }
        let call = match lrm::call_for(action, key) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("crmd: cannot run action {aid}: {e}");
                return self.report(dc, transition, aid, 6, OpStatus::Error.code()).await;
            }
        };
        if call.op.action == "stop" {
            self.cancel_recurring(&call.agent.id, &my_id).await?;
        }
        tracing::info!("crmd: performing {} (transition key {key})", call.op.key());
        let interval_ms = call.op.interval_ms;
        let pending = PendingOp {
            agent: call.agent.clone(),
            dc: dc.to_string(),
            transition,
            action_id: aid,
            target_rc: call.target_rc,
            interval_ms,
        };
        let r = async {
            self.lrmd.register(call.spec.clone()).await?;
            self.lrmd.exec(call.op.clone()).await
        }
        .await;
        match r {
            Ok(call_id) => {
                if interval_ms > 0 {
                    // A replaced recurring op reports cancelled; forget it.
                    self.ops.retain(|_, p| !(p.agent.id == call.agent.id && p.interval_ms == interval_ms));
                }
                self.ops.insert(call_id, pending);
                Ok(())
            }
            Err(lrmd::LrmdError::Refused(why)) => {
                tracing::error!("crmd: lrmd refused {}: {why}", call.op.key());
                self.report(dc, transition, aid, 1, OpStatus::Error.code()).await
            }
            Err(e) => Err(anyhow::anyhow!("lrmd: {e}")),
        }
    }

    /// Before a stop: its recurring monitors end and leave the history.
    pub(crate) async fn cancel_recurring(&mut self, rsc: &str, my_id: &str) -> anyhow::Result<()> {
        let recurring: Vec<(u32, u64)> =
            self.ops.iter().filter(|(_, p)| p.agent.id == rsc && p.interval_ms > 0).map(|(c, p)| (*c, p.interval_ms)).collect();
        for (call_id, interval) in recurring {
            self.ops.remove(&call_id);
            if let Err(e) = self.lrmd.cancel(rsc, "monitor", interval).await {
                tracing::debug!("crmd: cancel {rsc}_monitor_{interval}: {e}");
            }
            let a = self.cib.delete_xpath(&status::lrm_op_xpath(my_id, rsc, &format!("{rsc}_monitor_{interval}"))).await?;
            log_refusal("delete recurring op", &a);
        }
        Ok(())
    }

    /// Tells the DC about a result that leaves no record in the CIB.
    async fn report(&mut self, dc: &str, transition: u64, action_id: i32, rc: i32, op_status: i32) -> anyhow::Result<()> {
        if dc == self.me {
            self.local_result(transition, action_id, rc, op_status);
            Ok(())
        } else {
            self.send_wire(Some(dc), &Wire::LrmResult { transition, action_id, rc, op_status }).await
        }
    }

    /// A result from lrmd: fail count first, then the record.
    pub(crate) async fn on_lrm_event(&mut self, r: OpRecord) -> anyhow::Result<()> {
        if r.status == OpStatus::Cancelled {
            return Ok(());
        }
        let Some(p) = self.ops.get(&r.call_id).cloned() else {
            // Not ours (lrmadmin, or an operation of an earlier crmd).
            return Ok(());
        };
        if r.interval_ms == 0 {
            self.ops.remove(&r.call_id);
        }
        let failed = status::is_failure(&r.action, r.interval_ms, r.rc, r.status.code(), p.target_rc);
        let level = if failed { tracing::Level::WARN } else { tracing::Level::INFO };
        let text = format!(
            "Operation {}: {} (node={}, call={}, rc={}, status={}, confirmed={})",
            r.key,
            lrmd::op::rc::describe(r.rc),
            self.me,
            r.call_id,
            r.rc,
            r.status,
            r.interval_ms == 0
        );
        if level == tracing::Level::WARN {
            tracing::warn!("crmd: {text}");
        } else {
            tracing::info!("crmd: {text}");
        }
        let desc = if r.status == OpStatus::Done { lrmd::op::rc::describe(r.rc).to_string() } else { r.status.to_string() };
        let ev = crate::alerts::Event::Resource {
            node: self.me.clone(),
            rsc: r.rsc.clone(),
            task: r.action.clone(),
            interval_ms: r.interval_ms,
            rc: r.rc,
            status: r.status.code(),
            target_rc: p.target_rc,
            desc,
        };
        self.alert(ev).await?;
        let me = self.me.clone();
        let id = self.node_id(&me);
        if failed {
            // A failed start is fatal (start-failure-is-fatal): INFINITY.
            let name = format!("fail-count-{}#{}_{}", r.rsc, r.action, r.interval_ms);
            let value = if r.action == "start" { "INFINITY" } else { "value++" };
            self.attr_update(&me, &name, value).await?;
            let last = format!("last-failure-{}#{}_{}", r.rsc, r.action, r.interval_ms);
            self.attr_update(&me, &last, &epoch().to_string()).await?;
        }
        let update = status::lrm_update(&id, &me, &p.agent, lrm::record_elements(&r, failed));
        let a = self.cib.modify(Some("status"), update).await?;
        if !matches!(a, tools::cib_live::Answer::Ok(_)) {
            log_refusal("operation record", &a);
            // The DC cannot see the record: answer it directly.
            if r.interval_ms == 0 || r.transition_key.as_deref().and_then(TransitionKey::parse).is_some_and(|k| k.transition == p.transition) {
                self.report(&p.dc, p.transition, p.action_id, r.rc, r.status.code()).await?;
            }
        }
        Ok(())
    }

    /// Replaces our `lrm` section with lrmd's history (at join: the DC
    /// wiped it, the new transition must see what runs here).
    pub(crate) async fn refresh_own_lrm(&mut self) -> anyhow::Result<()> {
        let me = self.me.clone();
        let id = self.node_id(&me);
        let mut resources = Vec::new();
        for spec in self.lrmd.resources().await.map_err(|e| anyhow::anyhow!("lrmd: {e}"))? {
            let (records, _) = self.lrmd.history(&spec.id).await.map_err(|e| anyhow::anyhow!("lrmd: {e}"))?;
            let mut ops = Vec::new();
            let target = |r: &OpRecord| r.transition_key.as_deref().and_then(TransitionKey::parse).map_or(0, |k| k.target_rc);
            let done: Vec<&OpRecord> = records.iter().filter(|r| r.status != OpStatus::Cancelled && r.status != OpStatus::Pending).collect();
            // The latest one-shot operation, and the latest failure.
            let one_shot = done.iter().filter(|r| r.interval_ms == 0).max_by_key(|r| r.call_id);
            if let Some(r) = one_shot {
                ops.extend(lrm::record_elements(r, false));
            }
            let failure = done
                .iter()
                .filter(|r| r.interval_ms == 0 && status::is_failure(&r.action, 0, r.rc, r.status.code(), target(r)))
                .max_by_key(|r| r.call_id);
            if let Some(r) = failure {
                if let Some(f) = lrm::record_elements(r, true).into_iter().nth(1) {
                    ops.push(f);
                }
            }
            // Recurring monitors still running (a stop cancels them).
            let live: Vec<u64> = self.ops.values().filter(|p| p.agent.id == spec.id && p.interval_ms > 0).map(|p| p.interval_ms).collect();
            for r in done.iter().filter(|r| r.interval_ms > 0 && live.contains(&r.interval_ms)) {
                let failed = status::is_failure(&r.action, r.interval_ms, r.rc, r.status.code(), target(r));
                ops.extend(lrm::record_elements(r, failed).into_iter().take(1));
            }
            if !ops.is_empty() {
                resources.push((lrm::agent_of(&spec), ops));
            }
        }
        let n = resources.len();
        let a = self.cib.delete_xpath(&status::lrm_xpath(&id)).await?;
        log_refusal("wipe own lrm", &a);
        let a = self.cib.modify(Some("status"), status::lrm_full(&id, &me, resources)).await?;
        log_refusal("own lrm", &a);
        tracing::info!("crmd: recorded the history of {n} resources from lrmd");
        Ok(())
    }
}
