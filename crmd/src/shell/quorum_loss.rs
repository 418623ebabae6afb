//! Quorum lost: this node stops its resources at once, through lrmd,
//! without waiting for an election, a join and a transition.
//!
//! ```text
//!  ccm view, quorum true -> false (or a first view without quorum)
//!    -> no-quorum-policy from the local CIB: stop | suicide -> emergency stop
//!                                            ignore | freeze | demote -> nothing
//!    -> lrmd's history: what runs here, latest started first (stop_order)
//!    -> one stop at a time through lrmd (reverse start order keeps a group's
//!       order: the web server goes before its address); each result is
//!       recorded as any operation is (lrm_ops.rs: fail count, lrm_rsc_op)
//!  quorum back: the stops not yet begun are dropped (the scheduler decides)
//! ```
//!
//! Why not leave it to the scheduler: without fencing the two sides of a
//! split react at the same deadtime, and the side keeping quorum starts
//! what the losing side ran. The losing side's usual path (a DC of its
//! own, a transition on a view without quorum) takes tens to hundreds of
//! milliseconds more than the stop itself; the winning side waits
//! `lost-node-grace` (`lost_nodes.rs`) for the stop. The faster the stop
//! begins, the shorter that grace can be (docs/SPLIT_BRAIN.md).
//!
//! Not stopped here: fencing devices (class `stonith`: running one is not
//! a service, and the side without quorum fences nobody), resources the
//! CIB leaves unmanaged (`is-managed=false`, maintenance), and nothing at
//! all in maintenance-mode. `demote` is left to the scheduler (it keeps
//! unpromoted copies).

use std::collections::VecDeque;

use cib::Element;
use lrmd::op::{OpRecord, OpRequest, OpStatus};
use lrmd::resource::{AgentClass, ResourceSpec};
use pengine::options::NoQuorumPolicy;

use super::{epoch, Shell};
use crate::lrm;

/// The stop timeout when the CIB names none (Pacemaker's default).
const DEFAULT_STOP_TIMEOUT_MS: u64 = 20_000;

/// The transition key of an emergency stop: no transition, target rc 0.
/// The uuid is no crmd's, so no transition engine takes it for its own.
const EMERGENCY_KEY: &str = "0:0:0:quorum-lost";

/// One stop still to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stop {
    pub spec: ResourceSpec,
    pub timeout_ms: u64,
}

/// The node's emergency stop: what is left to stop, one at a time.
#[derive(Debug, Default)]
pub(crate) struct EmergencyStop {
    /// The quorum of the last view (None before the first view).
    had_quorum: Option<bool>,
    /// Stops not yet begun, in order.
    queue: VecDeque<Stop>,
    /// lrmd's call id of the stop running now.
    in_flight: Option<u32>,
}

impl EmergencyStop {
    /// A view with `quorum`: whether this is the moment quorum is lost
    /// (the first view without it). Quorum back drops the stops not yet
    /// begun.
    pub fn view(&mut self, quorum: bool) -> bool {
        let lost = !quorum && self.had_quorum != Some(false);
        if quorum && !self.queue.is_empty() {
            tracing::info!("crmd: quorum is back: {} emergency stops not begun are left to the scheduler", self.queue.len());
            self.queue.clear();
        }
        self.had_quorum = Some(quorum);
        lost
    }
}

/// Whether a resource's history says it may be active here: its latest
/// finished one-shot operation is not a successful stop, nor a probe
/// that found it stopped. A failed start or stop counts as active (a stop
/// is what Pacemaker would ask for too).
fn may_be_active(records: &[OpRecord]) -> Option<&OpRecord> {
    let last = records
        .iter()
        .filter(|r| r.interval_ms == 0 && r.status != OpStatus::Cancelled && r.status != OpStatus::Pending)
        .max_by_key(|r| r.call_id)?;
    let done = last.status == OpStatus::Done;
    let stopped = match last.action.as_str() {
        "stop" => done && last.rc == 0,
        "monitor" => done && last.rc == 7,
        "meta-data" | "validate-all" => true,
        _ => false,
    };
    (!stopped).then_some(last)
}

/// The resources lrmd may be running here, in the order to stop them:
/// the latest started (by lrmd call id) first. Fencing devices are left
/// out.
pub(crate) fn stop_order(local: &[(ResourceSpec, Vec<OpRecord>)]) -> Vec<ResourceSpec> {
    let mut active: Vec<(u32, &ResourceSpec)> = local
        .iter()
        .filter(|(spec, _)| spec.class != AgentClass::Stonith)
        .filter_map(|(spec, records)| {
            may_be_active(records)?;
            // The start that made it run orders it; else its latest op.
            let started = records
                .iter()
                .filter(|r| matches!(r.action.as_str(), "start" | "promote" | "migrate_from"))
                .map(|r| r.call_id)
                .max()
                .or_else(|| records.iter().map(|r| r.call_id).max())?;
            Some((started, spec))
        })
        .collect();
    active.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
    active.into_iter().map(|(_, s)| s.clone()).collect()
}

/// What the CIB says about an emergency stop here: nothing (`None`:
/// the policy keeps resources running, or maintenance-mode), or the
/// stops allowed among `candidates` with their timeouts.
pub(crate) fn allowed_stops(cib: &Element, me: &str, candidates: Vec<ResourceSpec>) -> Option<Vec<Stop>> {
    let doc = cib::xml::Document::new(cib.clone());
    let Ok(model) = cib::model::Cib::from_document(&doc) else {
        // An unreadable CIB: the default policy (stop), every resource.
        return Some(candidates.into_iter().map(|spec| Stop { spec, timeout_ms: DEFAULT_STOP_TIMEOUT_MS }).collect());
    };
    let ws = pengine::unpack(&model, epoch());
    if !matches!(ws.options.no_quorum_policy, NoQuorumPolicy::Stop | NoQuorumPolicy::Suicide) || ws.options.maintenance_mode {
        return None;
    }
    if ws.node_by_uname(me).is_some_and(|n| ws.node(n).maintenance) {
        return None;
    }
    let stops = candidates
        .into_iter()
        .filter_map(|spec| {
            let Some(r) = ws.find_resource(&spec.id) else {
                // Not in the configuration any more: an orphan, stopped
                // (stop-orphan-resources' default).
                return Some(Stop { spec, timeout_ms: DEFAULT_STOP_TIMEOUT_MS });
            };
            let rsc = ws.rsc(r);
            if !rsc.flags.managed || rsc.flags.maintenance {
                return None;
            }
            let timeout_ms = rsc
                .primitive()
                .and_then(|p| p.ops.iter().find(|o| o.name == "stop" && o.interval_ms == 0))
                .and_then(|o| o.timeout_ms)
                .unwrap_or(DEFAULT_STOP_TIMEOUT_MS);
            Some(Stop { spec, timeout_ms })
        })
        .collect();
    Some(stops)
}

impl Shell {
    /// Every ccm view: on losing quorum, stop what runs here at once
    /// (no-quorum-policy permitting).
    pub(crate) async fn quorum_view(&mut self, quorum: bool) -> anyhow::Result<()> {
        if !self.quorum_stop.view(quorum) {
            return Ok(());
        }
        let mut local = Vec::new();
        for spec in self.lrmd.resources().await.map_err(|e| anyhow::anyhow!("lrmd: {e}"))? {
            let (records, _) = self.lrmd.history(&spec.id).await.map_err(|e| anyhow::anyhow!("lrmd: {e}"))?;
            local.push((spec, records));
        }
        let candidates = stop_order(&local);
        if candidates.is_empty() {
            return Ok(());
        }
        let cib = self.cib.query().await?;
        let Some(stops) = allowed_stops(&cib, &self.me, candidates) else {
            tracing::info!("crmd: quorum lost: no-quorum-policy keeps the local resources running");
            return Ok(());
        };
        if stops.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = stops.iter().map(|s| s.spec.id.as_str()).collect();
        tracing::warn!("crmd: Quorum lost: stopping {} local resources ({})", stops.len(), names.join(", "));
        self.quorum_stop.queue = stops.into();
        if self.quorum_stop.in_flight.is_none() {
            self.next_emergency_stop().await?;
        }
        Ok(())
    }

    /// After every lrmd event: the emergency stop in flight ended, so the
    /// next one begins.
    pub(crate) async fn emergency_stop_event(&mut self, call_id: u32) -> anyhow::Result<()> {
        if self.quorum_stop.in_flight == Some(call_id) {
            self.quorum_stop.in_flight = None;
            self.next_emergency_stop().await?;
        }
        Ok(())
    }

    async fn next_emergency_stop(&mut self) -> anyhow::Result<()> {
        while let Some(stop) = self.quorum_stop.queue.pop_front() {
            let id = stop.spec.id.clone();
            let my_id = self.node_id(&self.me.clone());
            self.cancel_recurring(&id, &my_id).await?;
            let mut op = OpRequest::new(&id, "stop", 0, stop.timeout_ms);
            op.transition_key = Some(EMERGENCY_KEY.to_string());
            tracing::warn!("crmd: quorum lost: stopping {id} (emergency stop)");
            match self.lrmd.exec(op).await {
                Ok(call_id) => {
                    let me = self.me.clone();
                    self.ops.insert(call_id, super::lrm_ops::PendingOp::local(lrm::agent_of(&stop.spec), &me, 0));
                    self.quorum_stop.in_flight = Some(call_id);
                    return Ok(());
                }
                // The next one all the same: the scheduler retries this one.
                Err(e) => tracing::error!("crmd: emergency stop of {id}: lrmd: {e}"),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(rsc: &str, action: &str, call_id: u32, rc: i32) -> OpRecord {
        OpRecord {
            rsc: rsc.into(),
            action: action.into(),
            key: format!("{rsc}_{action}_0"),
            call_id,
            rc,
            status: OpStatus::Done,
            interval_ms: 0,
            last_run: 1,
            last_rc_change: 1,
            exec_ms: 10,
            queue_ms: 0,
            exit_reason: None,
            transition_key: None,
            output: String::new(),
            digests: Default::default(),
        }
    }

    fn spec(id: &str, class: AgentClass) -> ResourceSpec {
        ResourceSpec::new(id, class, Some("heartbeat"), "Dummy")
    }

    #[test]
    fn the_latest_started_is_stopped_first_and_stopped_ones_are_left() {
        let local = vec![
            // A group: ip started before web.
            (spec("ip", AgentClass::Ocf), vec![rec("ip", "monitor", 1, 7), rec("ip", "start", 3, 0)]),
            (spec("web", AgentClass::Ocf), vec![rec("web", "monitor", 2, 7), rec("web", "start", 4, 0)]),
            // Stopped already, or never running here.
            (spec("gone", AgentClass::Ocf), vec![rec("gone", "start", 5, 0), rec("gone", "stop", 6, 0)]),
            (spec("probed", AgentClass::Ocf), vec![rec("probed", "monitor", 7, 7)]),
            (spec("registered", AgentClass::Ocf), vec![]),
            // Found running by a probe: stopped too.
            (spec("found", AgentClass::Lsb), vec![rec("found", "monitor", 8, 0)]),
            // A failed stop may still run.
            (spec("stuck", AgentClass::Ocf), vec![rec("stuck", "start", 9, 0), rec("stuck", "stop", 10, 1)]),
            // A fencing device is no service.
            (spec("fence", AgentClass::Stonith), vec![rec("fence", "start", 11, 0)]),
        ];
        let order: Vec<String> = stop_order(&local).into_iter().map(|s| s.id).collect();
        assert_eq!(order, ["stuck", "found", "web", "ip"]);
    }

    #[test]
    fn quorum_lost_is_noticed_once_and_quorum_back_drops_what_is_left() {
        let mut e = EmergencyStop::default();
        assert!(!e.view(true));
        assert!(e.view(false));
        assert!(!e.view(false), "a second view without quorum is the same loss");
        e.queue.push_back(Stop { spec: spec("d", AgentClass::Ocf), timeout_ms: 1 });
        assert!(!e.view(true));
        assert!(e.queue.is_empty());
        assert!(e.view(false));
        // A node whose first view has no quorum stops what lrmd still runs
        // (a respawned crmd).
        assert!(EmergencyStop::default().view(false));
    }

    fn cib_text(options: &str, resources: &str) -> Element {
        cib::xml::parse_element(&format!(
            r#"<cib admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config><cluster_property_set id="o">{options}</cluster_property_set></crm_config><nodes><node id="n1" uname="n1"/></nodes><resources>{resources}</resources><constraints/></configuration><status/></cib>"#
        ))
        .unwrap()
    }

    const RSC: &str = r#"<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="d-stop" name="stop" interval="0" timeout="7s"/></operations></primitive>
        <primitive id="u" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="u-m"><nvpair id="u-m1" name="is-managed" value="false"/></meta_attributes></primitive>"#;

    fn ids(stops: Option<Vec<Stop>>) -> Option<Vec<(String, u64)>> {
        stops.map(|s| s.into_iter().map(|s| (s.spec.id, s.timeout_ms)).collect())
    }

    #[test]
    fn the_policy_and_the_configuration_decide_what_is_stopped() {
        let candidates = || vec![spec("d", AgentClass::Ocf), spec("u", AgentClass::Ocf), spec("orphan", AgentClass::Ocf)];
        let want = Some(vec![("d".to_string(), 7000), ("orphan".to_string(), DEFAULT_STOP_TIMEOUT_MS)]);
        // Default policy (stop); the unmanaged one is left alone.
        assert_eq!(ids(allowed_stops(&cib_text("", RSC), "n1", candidates())), want);
        let nq = |v: &str| format!(r#"<nvpair id="o-nq" name="no-quorum-policy" value="{v}"/>"#);
        assert_eq!(ids(allowed_stops(&cib_text(&nq("stop"), RSC), "n1", candidates())), want);
        // suicide without fencing is stop (Pacemaker); with fencing we
        // stop locally as well.
        assert_eq!(ids(allowed_stops(&cib_text(&nq("suicide"), RSC), "n1", candidates())), want);
        for keep in ["ignore", "freeze", "demote"] {
            assert_eq!(ids(allowed_stops(&cib_text(&nq(keep), RSC), "n1", candidates())), None, "{keep}");
        }
        let maint = r#"<nvpair id="o-m" name="maintenance-mode" value="true"/>"#;
        assert_eq!(ids(allowed_stops(&cib_text(maint, RSC), "n1", candidates())), None);
    }
}
