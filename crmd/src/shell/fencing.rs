//! Fencing on the DC: a transition's `stonith` action goes to the local
//! stonithd, and a node that left the membership uncleanly is kept as
//! "unclean" (its history stays) until it has been fenced.
//!
//! ```text
//!  graph <crm_event operation="stonith" on_node=N>
//!     -> fire_fence: spawn stonithd::client::fence_with_delay(stonithd.sock, N, reboot|off,
//!                    stonith-timeout, the priority delay noted with the graph)
//!     -> (task) FenceDone on a channel -> the select! loop -> on_fence_done:
//!          done:   node_state N cleanly down (in_ccm=false crmd=offline join=down
//!                  expected=down), its lrm and transient attributes wiped, THEN the
//!                  action is confirmed, so the starts ordered after it run on a CIB
//!                  that no longer shows N's resources as running
//!          failed: the action fails (after RETRY_PAUSE); the transition ends failed and
//!                  the scheduler, which still sees N unclean, schedules the fencing again
//! ```
//!
//! The request runs in a task of its own: stonithd waits out the delays
//! (the priority-fencing-delay we pass, the device's pcmk_delay_base/max)
//! before the agent runs, which may take many seconds, and the loop must
//! keep serving messages. The priority delay is judged when the graph is
//! computed, on the same CIB (`Fencer::note_graph`), as Pacemaker's
//! scheduler does.
//!
//! Giving up (`stonith-max-attempts`, default 10, as Pacemaker's
//! controller): the DC counts failed fencings per target (reset by a
//! success). When a failure brings a target's count to the maximum, the
//! DC logs `Too many failures (N) to fence T, giving up` and stops the
//! transition without computing a new one (Pacemaker's "wait" abort): the
//! DC goes idle, and only the next event (a CIB change, a node joining)
//! computes a transition, which tries once more. The fencing action is
//! never confirmed, so nothing ordered after it (the unclean node's
//! resources elsewhere) runs.
//!
//! Unfencing (`requires=unfencing`, or any fence device with
//! `provides=unfencing`, which makes every resource but the devices and
//! those with `requires=nothing|quorum` need it): before the first start,
//! promote or migrate_from of such a resource on a node since that node
//! came up, the DC has stonithd turn the node `on` (unfence it). The
//! action is held meanwhile (`hold_for_unfencing`, called by the
//! transition engine before it fires an action); once the node is
//! unfenced every held action fires, and a failed unfencing fails them
//! (the transition is recomputed and unfencing tried again after
//! RETRY_PAUSE). A node counts as unfenced until it is fenced or a graph
//! is computed from a CIB that shows it offline. Pacemaker schedules the
//! same `on` as a graph action ordered before the starts; here the
//! scheduler does not know about unfencing, so the DC's shell does it.
//!
//! Lost nodes (`must_fence_lost`): with `stonith-enabled` (Pacemaker's
//! default: true) a node that leaves without the DC having let it shut
//! down (`expected` is not `down`) keeps its `lrm` history and its
//! `expected=member`: the scheduler reads `in_ccm=false crmd=offline
//! expected=member` as unclean and schedules its fencing before any of its
//! resources is recovered (Pacemaker's determine_online_status_fencing).
//! Without fencing, a lost node is taken as stopped and wiped, as before.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use cib::Element;
use tengine::ActionResult;
use tokio::sync::mpsc::UnboundedSender;

use super::{epoch, log_refusal, Shell, C_TE};
use crate::controller::Event;
use crate::status;

/// How long a failed fencing is held before it is reported, which paces
/// the scheduler's retries.
const RETRY_PAUSE: Duration = Duration::from_secs(2);

/// `FenceDone::action_id` of an unfencing the DC started itself (not a
/// graph action).
const UNFENCE: i32 = -1;

/// How long an unfencing may take (stonith-timeout's default).
const UNFENCE_TIMEOUT: Duration = Duration::from_secs(60);

/// Pacemaker's default `stonith-max-attempts`.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

/// A fencing request that ended (on the channel back to the loop).
#[derive(Debug)]
pub(crate) struct FenceDone {
    transition: u64,
    action_id: i32,
    target: String,
    action: String,
    result: Result<stonithd::client::FenceOutcome, stonithd::Error>,
}

/// The DC's side of fencing: where stonithd listens and how results come
/// back to the loop.
pub(crate) struct Fencer {
    socket: PathBuf,
    done: UnboundedSender<FenceDone>,
    /// priority-fencing-delay per target, from the CIB the last graph was
    /// computed from (`note_graph`).
    delays: BTreeMap<String, u64>,
    /// Failed fencings per target since its last success.
    failures: FailCounts,
    /// `stonith-max-attempts` of the CIB the last graph came from.
    max_attempts: u32,
    /// Unfencing: which resources need it and which nodes have it.
    unfencing: Unfencing,
}

/// An action held until its node is unfenced.
struct Held {
    transition: u64,
    graph: tengine::TransitionGraph,
    action: tengine::Action,
}

/// The DC's unfencing state (pure).
#[derive(Default)]
pub(crate) struct Unfencing {
    /// Resources (configuration ids) that may start only on unfenced nodes.
    needs: BTreeSet<String>,
    /// Nodes unfenced since they came up.
    done: BTreeSet<String>,
    /// Nodes being unfenced now, with the actions waiting for it.
    waiting: BTreeMap<String, Vec<Held>>,
}

impl Unfencing {
    /// Whether `op` of resource `rsc` (a graph action's resource id, with
    /// `:N` for clone instances) on `node` must wait for its unfencing.
    pub fn must_wait(&self, rsc: &str, op: &str, node: &str) -> bool {
        let base = rsc.split(':').next().unwrap_or(rsc);
        matches!(op, "start" | "promote" | "migrate_from") && self.needs.contains(base) && !self.done.contains(node)
    }
}

/// The resources of this CIB that need their node unfenced first: those
/// with `requires=unfencing`, and, when any fence device has
/// `provides=unfencing` (meta attribute, or instance attribute as older
/// CIBs write it), every resource that is not a fence device and does
/// not say `requires=nothing` or `quorum`.
pub fn unfencing_resources(cib: &Element) -> BTreeSet<String> {
    let doc = cib::xml::Document::new(cib.clone());
    let Ok(model) = cib::model::Cib::from_document(&doc) else { return BTreeSet::new() };
    let ws = pengine::unpack(&model, epoch());
    let meta = |id: &str, name: &str| {
        ws.resources.iter().find(|r| r.xml_id == id).and_then(|r| r.meta.get(name).cloned())
    };
    let devices: BTreeSet<String> = model
        .primitives()
        .filter(|p| p.class == cib::model::AgentClass::Stonith)
        .map(|p| p.id.clone())
        .collect();
    let provides = devices.iter().any(|id| {
        let param = cib::op_digest::OpParams::from_model(&model, id, "monitor", 0, &cib::op_digest::unconditional_only)
            .and_then(|op| op.params.get("provides").cloned());
        meta(id, "provides").or(param).is_some_and(|v| v.eq_ignore_ascii_case("unfencing"))
    });
    ws.resources
        .iter()
        .filter(|r| r.children.is_empty() && !devices.contains(&r.xml_id))
        .filter(|r| {
            let requires = r.meta.get("requires").map(|v| v.to_ascii_lowercase());
            requires.as_deref() == Some("unfencing")
                || (provides && !matches!(requires.as_deref(), Some("nothing" | "quorum")))
        })
        .map(|r| r.xml_id.clone())
        .collect()
}

/// The nodes whose node_state says they are not up (left the membership
/// or their controller is offline): their unfencing must be done again.
fn nodes_down(cib: &Element) -> Vec<String> {
    cib.child("status")
        .into_iter()
        .flat_map(|s| s.children_named("node_state"))
        .filter(|n| n.attr("in_ccm") == Some("false") || n.attr("crmd") == Some("offline"))
        .filter_map(|n| n.attr("uname").map(str::to_string))
        .collect()
}

/// Failed fencings per target, and when to give up (pure, so the rule is
/// tested on its own).
#[derive(Debug, Default)]
pub(crate) struct FailCounts(BTreeMap<String, u32>);

impl FailCounts {
    /// A failed fencing of `target`: its new count, and whether it has
    /// reached `max` (the DC then stops retrying).
    pub fn failed(&mut self, target: &str, max: u32) -> (u32, bool) {
        let n = self.0.entry(target.to_string()).or_default();
        *n += 1;
        (*n, *n >= max)
    }

    /// `target` was fenced: it starts again from zero.
    pub fn succeeded(&mut self, target: &str) {
        self.0.remove(target);
    }
}

impl Fencer {
    pub fn new(socket: &Path, done: UnboundedSender<FenceDone>) -> Fencer {
        Fencer {
            socket: socket.to_path_buf(),
            done,
            delays: BTreeMap::new(),
            failures: FailCounts::default(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            unfencing: Unfencing::default(),
        }
    }

    /// A graph was computed from `cib`: the priority delay of each node it
    /// fences, judged on that CIB (where the target is already out of the
    /// membership and its resources still count as running on it).
    pub fn note_graph(&mut self, cib: &Element, graph: &tengine::TransitionGraph) {
        self.delays.clear();
        self.max_attempts = max_attempts(cib);
        self.unfencing.needs = unfencing_resources(cib);
        for node in nodes_down(cib) {
            self.unfencing.done.remove(&node);
        }
        let targets: Vec<String> = graph
            .synapses
            .iter()
            .flat_map(|s| s.actions.iter())
            .filter(|a| a.is_fencing())
            .filter_map(|a| a.header.on_node.clone())
            .collect();
        if targets.is_empty() {
            return;
        }
        let doc = cib::xml::Document::new(cib.clone());
        let Ok(model) = cib::model::Cib::from_document(&doc) else { return };
        let ws = pengine::unpack(&model, epoch());
        for t in targets {
            let d = stonithd::delay::priority_delay_ms(&ws, &t);
            self.delays.insert(t, d);
        }
    }
}

/// `stonith-max-attempts` of this CIB (cib-bootstrap-options first, as
/// every cluster option); absent, unreadable or below 1: the default 10.
pub fn max_attempts(cib: &Element) -> u32 {
    let doc = cib::xml::Document::new(cib.clone());
    let Ok(model) = cib::model::Cib::from_document(&doc) else { return DEFAULT_MAX_ATTEMPTS };
    cib::model::by_precedence(&model.crm_config, Some("cib-bootstrap-options"))
        .into_iter()
        .flat_map(|set| set.pairs.iter())
        .find(|p| p.name == "stonith-max-attempts")
        .and_then(|p| p.value.as_deref())
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(DEFAULT_MAX_ATTEMPTS)
}

/// Whether `stonith-enabled` is on in this CIB, as the scheduler reads it
/// (default true). A CIB we cannot read counts as fencing enabled: keeping
/// a lost node's history is the safe side (its resources are not started
/// elsewhere), wiping it is not.
pub fn stonith_enabled(cib: &Element) -> bool {
    let doc = cib::xml::Document::new(cib.clone());
    match cib::model::Cib::from_document(&doc) {
        Ok(model) => pengine::options::ClusterOptions::from_sets(&model.crm_config, epoch()).stonith_enabled,
        Err(_) => true,
    }
}

/// A node (by node id) that left the membership must be fenced before
/// its resources count as stopped: fencing is enabled and the DC did not
/// let it shut down (its node_state does not say `expected=down`).
pub fn must_fence_lost(cib: &Element, id: &str) -> bool {
    if !stonith_enabled(cib) {
        return false;
    }
    let expected = cib
        .child("status")
        .and_then(|s| s.children_named("node_state").find(|n| n.id() == Some(id)))
        .and_then(|n| n.attr("expected"));
    expected != Some("down")
}

/// The node_state of a node fencing has powered off: cleanly down, so the
/// scheduler takes it as offline and clean (Pacemaker's
/// send_stonith_update writes the same values).
pub fn fenced_state(id: &str, uname: &str) -> Element {
    status::node_state(id, uname)
        .with_attr("in_ccm", "false")
        .with_attr("crmd", "offline")
        .with_attr("crm-debug-origin", "send_stonith_update")
        .with_attr("join", "down")
        .with_attr("expected", "down")
}

impl Shell {
    /// A `stonith` action of transition `transition`: asks the local
    /// stonithd in a task; the result comes back as [`FenceDone`].
    pub(crate) fn fire_fence(&mut self, transition: u64, graph: &tengine::TransitionGraph, action: &tengine::Action) {
        let aid = action.id();
        let target = action.header.on_node.clone().unwrap_or_default();
        let how = action.meta("stonith_action").unwrap_or("reboot").to_string();
        let timeout = Duration::from_millis(graph.attrs.stonith_timeout_ms());
        tracing::warn!(
            "crmd: Requesting fencing ({how}) of node {target} | action={aid} transition={transition} timeout={}",
            timeout.as_millis()
        );
        // The DC's priority delay (0 when none applies); stonithd adds
        // the device's pcmk_delay_base/max on the executing node.
        let delay = self.fencer.delays.get(&target).copied().unwrap_or(0);
        if delay > 0 {
            tracing::warn!("crmd: fencing of {target} delayed by priority-fencing-delay ({delay} ms): it ran the most important resources");
        }
        let socket = self.fencer.socket.clone();
        let tx = self.fencer.done.clone();
        tokio::spawn(async move {
            let result = stonithd::client::fence_with_delay(&socket, &target, &how, timeout, Some(delay as i64)).await;
            if !result.as_ref().is_ok_and(|o| o.succeeded()) {
                // The scheduler asks again at once; without a pause an
                // absent stonithd (or a device failing fast) would spin the
                // DC through transitions.
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            // The loop owns the receiver for as long as it runs.
            let _ = tx.send(FenceDone { transition, action_id: aid, target, action: how, result });
        });
    }

    /// The end of a fencing request: on success the target's status is
    /// written as cleanly down before the action is confirmed.
    pub(crate) async fn on_fence_done(&mut self, d: FenceDone) -> anyhow::Result<()> {
        if d.action_id == UNFENCE {
            return self.on_unfence_done(d).await;
        }
        let ok = match &d.result {
            Ok(o) if o.succeeded() => {
                tracing::warn!(
                    "crmd: Peer {} was terminated ({}) by {} on behalf of crmd: OK",
                    d.target,
                    d.action,
                    o.delegate().unwrap_or("?")
                );
                true
            }
            Ok(o) => {
                tracing::error!(
                    "crmd: Fencing of {} ({}) failed: {} ({:?}); it will be retried",
                    d.target,
                    d.action,
                    o.reason().unwrap_or("no reason given"),
                    o.status()
                );
                false
            }
            Err(e) => {
                tracing::error!("crmd: Fencing of {} ({}) failed: stonithd: {e}; it will be retried", d.target, d.action);
                false
            }
        };
        if ok {
            self.fencer.failures.succeeded(&d.target);
            self.fencer.unfencing.done.remove(&d.target);
            self.write_fenced(&d.target).await?;
            self.te.complete(d.transition, d.action_id, ActionResult::Ok);
            return Ok(());
        }
        let (count, give_up) = self.fencer.failures.failed(&d.target, self.fencer.max_attempts);
        if !give_up {
            self.te.complete(d.transition, d.action_id, ActionResult::Failed);
            return Ok(());
        }
        tracing::warn!("crmd: Too many failures ({count}) to fence {}, giving up", d.target);
        // Pacemaker's "wait" abort: the transition fires nothing more and
        // its end computes no new one (the controller sees it finished,
        // S_IDLE), so the DC does not spin on a fencing that keeps
        // failing. The action stays unconfirmed: what waits for it never
        // runs.
        self.te.abort(d.transition);
        self.te.complete(d.transition, d.action_id, ActionResult::Failed);
        self.events.push_back((Event::TransitionFinished { id: d.transition, complete: true }, C_TE));
        Ok(())
    }

    /// Called before an action fires: true when it must wait for its node
    /// to be unfenced (it is held, and the unfencing started if it is
    /// not under way); it fires from `on_unfence_done`.
    pub(crate) fn hold_for_unfencing(
        &mut self,
        transition: u64,
        graph: &tengine::TransitionGraph,
        action: &tengine::Action,
    ) -> bool {
        let node = action.header.on_node.clone().unwrap_or_default();
        let rsc = action.resource.as_ref().map(|r| r.id.as_str()).unwrap_or("");
        if !self.fencer.unfencing.must_wait(rsc, &action.header.operation, &node) {
            return false;
        }
        let held = Held { transition, graph: graph.clone(), action: action.clone() };
        if let Some(waiting) = self.fencer.unfencing.waiting.get_mut(&node) {
            waiting.push(held);
            return true;
        }
        self.fencer.unfencing.waiting.insert(node.clone(), vec![held]);
        tracing::warn!("crmd: Requesting unfencing (on) of node {node} before {} starts there", rsc);
        let socket = self.fencer.socket.clone();
        let tx = self.fencer.done.clone();
        tokio::spawn(async move {
            // No delay: unfencing races nothing.
            let result = stonithd::client::fence_with_delay(&socket, &node, "on", UNFENCE_TIMEOUT, Some(-1)).await;
            if !result.as_ref().is_ok_and(|o| o.succeeded()) {
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            let _ = tx.send(FenceDone { transition, action_id: UNFENCE, target: node, action: "on".into(), result });
        });
        true
    }

    /// The end of an unfencing: the held actions fire, or fail.
    async fn on_unfence_done(&mut self, d: FenceDone) -> anyhow::Result<()> {
        let held = self.fencer.unfencing.waiting.remove(&d.target).unwrap_or_default();
        let ok = match &d.result {
            Ok(o) if o.succeeded() => {
                tracing::warn!("crmd: {} was unfenced by {}", d.target, o.delegate().unwrap_or("?"));
                true
            }
            Ok(o) => {
                tracing::error!(
                    "crmd: Unfencing of {} failed: {} ({:?}); nothing that requires unfencing starts there",
                    d.target,
                    o.reason().unwrap_or("no reason given"),
                    o.status()
                );
                false
            }
            Err(e) => {
                tracing::error!("crmd: Unfencing of {} failed: stonithd: {e}", d.target);
                false
            }
        };
        if ok {
            self.fencer.unfencing.done.insert(d.target.clone());
        }
        for h in held {
            // An action of a transition aborted meanwhile is not started
            // (the next transition decides afresh); it is failed so the
            // draining transition can end.
            if ok && self.te.is_live(h.transition) {
                self.fire(h.transition, &h.graph, &h.action, tengine::executor::Dispatch::Rsc, false).await?;
            } else {
                self.te.complete(h.transition, h.action.id(), ActionResult::Failed);
            }
        }
        Ok(())
    }

    /// `node` was fenced: nothing of it runs any more.
    async fn write_fenced(&mut self, node: &str) -> anyhow::Result<()> {
        let id = self.node_id(node);
        let a = self.cib.modify(Some("status"), fenced_state(&id, node)).await?;
        log_refusal("node_state", &a);
        for x in [status::lrm_xpath(&id), status::transient_xpath(&id)] {
            let a = self.cib.delete_xpath(&x).await?;
            log_refusal("wipe", &a);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cib(stonith: Option<&str>, expected: Option<&str>) -> Element {
        let opt = stonith
            .map(|v| format!(r#"<cluster_property_set id="o"><nvpair id="o-s" name="stonith-enabled" value="{v}"/></cluster_property_set>"#))
            .unwrap_or_default();
        let exp = expected.map(|e| format!(r#" expected="{e}""#)).unwrap_or_default();
        let text = format!(
            r#"<cib admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config>{opt}</crm_config><nodes/><resources/><constraints/></configuration><status><node_state id="n1" uname="n1" in_ccm="true" crmd="online" join="member"{exp}/></status></cib>"#
        );
        cib::xml::parse_element(&text).unwrap()
    }

    #[test]
    fn a_lost_node_is_fenced_unless_fencing_is_off_or_it_was_let_go() {
        // Pacemaker's default is stonith-enabled=true.
        assert!(must_fence_lost(&cib(None, Some("member")), "n1"));
        assert!(must_fence_lost(&cib(Some("true"), Some("member")), "n1"));
        // A node the DC never saw join (no expected) is unclean too.
        assert!(must_fence_lost(&cib(Some("true"), None), "n1"));
        assert!(must_fence_lost(&cib(Some("true"), None), "n9"));
        // Shut down through do_shutdown: clean.
        assert!(!must_fence_lost(&cib(Some("true"), Some("down")), "n1"));
        // No fencing: a lost node is taken as stopped.
        assert!(!must_fence_lost(&cib(Some("false"), Some("member")), "n1"));
        assert!(!stonith_enabled(&cib(Some("false"), None)));
    }

    /// Two nodes, a fence device, `d` started on n1 (its `lrm` history, if
    /// `history`);
    /// n1's node_state as the DC writes it (`n1_state`), n2 a member.
    fn two_nodes(n1_state: Element, history: bool) -> cib::model::Cib {
        let lrm = r#"<lrm id="n1"><lrm_resources><lrm_resource id="d" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="d_last_0" operation_key="d_start_0" operation="start" crm-debug-origin="t" crm_feature_set="3.0.14" transition-key="2:1:0:x" transition-magic="0:0;2:1:0:x" call-id="2" rc-code="0" op-status="0" interval="0" last-rc-change="1" exec-time="1" queue-time="0" op-digest="x"/></lrm_resource></lrm_resources></lrm>"#;
        let n1 = if history { n1_state.with_child(cib::xml::parse_element(lrm).unwrap()) } else { n1_state };
        let n2 = status::member_state("n2", "n2", "member");
        let text = format!(
            r#"<cib admin_epoch="0" epoch="1" num_updates="0" have-quorum="1" dc-uuid="n2"><configuration><crm_config><cluster_property_set id="o"><nvpair id="o-s" name="stonith-enabled" value="true"/></cluster_property_set></crm_config><nodes><node id="n1" uname="n1"/><node id="n2" uname="n2"/></nodes><resources><primitive id="f" class="stonith" type="fence_lab"/><primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/></resources><constraints/></configuration><status>{}{}</status></cib>"#,
            n1.to_xml_compact(),
            n2.to_xml_compact()
        );
        cib::model::Cib::from_document(&cib::xml::Document::parse(&text).unwrap()).unwrap()
    }

    /// The graph's action ids that `id` waits for, transitively.
    fn before(g: &tengine::TransitionGraph, id: i32) -> std::collections::BTreeSet<i32> {
        let mut seen = std::collections::BTreeSet::new();
        let mut todo = vec![id];
        while let Some(a) = todo.pop() {
            for syn in g.synapses.iter().filter(|s| s.actions.iter().any(|x| x.id() == a)) {
                for i in syn.inputs.iter().map(|t| t.id) {
                    if seen.insert(i) {
                        todo.push(i);
                    }
                }
            }
        }
        seen
    }

    fn action<'a>(g: &'a tengine::TransitionGraph, key: &str, node: &str) -> Option<&'a tengine::Action> {
        g.synapses
            .iter()
            .flat_map(|s| s.actions.iter())
            .find(|a| a.header.operation_key == key && a.header.on_node.as_deref() == Some(node))
    }

    #[test]
    fn the_scheduler_fences_a_node_that_left_before_recovering_its_resources() {
        // What the DC writes for a node that left uncleanly: unclean.
        let model = two_nodes(status::left_state("n1", "n1"), true);
        let ws = pengine::unpack(&model, 1_700_000_000);
        let n1 = ws.node_by_uname("n1").unwrap();
        assert!(ws.node(n1).unclean && !ws.node(n1).online);
        let g = pengine::schedule(&model, ws).transition_graph(&model);
        let fence = action(&g, "stonith-n1-reboot", "n1").expect("n1 is fenced");
        let start = action(&g, "d_start_0", "n2").expect("d is recovered on n2");
        assert!(before(&g, start.id()).contains(&fence.id()), "the start waits for the fencing");

        // Once fenced (what on_fence_done writes, history wiped): clean, no
        // fencing, d simply started on n2.
        let model = two_nodes(fenced_state("n1", "n1"), false);
        let ws = pengine::unpack(&model, 1_700_000_000);
        let n1 = ws.node_by_uname("n1").unwrap();
        assert!(!ws.node(n1).unclean && !ws.node(n1).online);
        let g = pengine::schedule(&model, ws).transition_graph(&model);
        assert!(g.synapses.iter().flat_map(|s| s.actions.iter()).all(|a| !a.is_fencing()));
        assert!(action(&g, "d_start_0", "n2").is_some());
    }

    #[test]
    fn fencing_gives_up_at_stonith_max_attempts_and_a_success_resets_the_count() {
        let mut f = FailCounts::default();
        for n in 1..3 {
            assert_eq!(f.failed("n1", 3), (n, false));
        }
        assert_eq!(f.failed("n1", 3), (3, true), "the third failure reaches the maximum");
        assert_eq!(f.failed("n2", 3), (1, false), "counted per target");
        // Another event's transition tries again; still too many.
        assert_eq!(f.failed("n1", 3), (4, true));
        f.succeeded("n1");
        assert_eq!(f.failed("n1", 3), (1, false));
    }

    #[test]
    fn stonith_max_attempts_is_read_from_the_cluster_options() {
        let with = |v: &str| {
            cib::xml::parse_element(&format!(
                r#"<cib admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="o-m" name="stonith-max-attempts" value="{v}"/></cluster_property_set></crm_config><nodes/><resources/><constraints/></configuration><status/></cib>"#
            ))
            .unwrap()
        };
        assert_eq!(max_attempts(&cib(None, None)), 10);
        assert_eq!(max_attempts(&with("3")), 3);
        assert_eq!(max_attempts(&with("0")), 10);
        assert_eq!(max_attempts(&with("lots")), 10);
    }

    fn with_resources(resources: &str) -> Element {
        cib::xml::parse_element(&format!(
            r#"<cib admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config/><nodes><node id="n1" uname="n1"/></nodes><resources>{resources}</resources><constraints/></configuration><status><node_state id="n1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/><node_state id="n2" uname="n2" in_ccm="false" crmd="offline" join="down"/></status></cib>"#
        ))
        .unwrap()
    }

    #[test]
    fn which_resources_wait_for_unfencing() {
        let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let prims = r#"<primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>
            <primitive id="b" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="b-m"><nvpair id="b-r" name="requires" value="quorum"/></meta_attributes></primitive>
            <clone id="c"><primitive id="ci" class="ocf" provider="heartbeat" type="Dummy"/></clone>"#;
        // No device provides unfencing, nobody asks for it.
        let plain = r#"<primitive id="f" class="stonith" type="fence_rec"/>"#;
        assert_eq!(unfencing_resources(&with_resources(&format!("{plain}{prims}"))), set(&[]));
        // A device with provides=unfencing: every resource but the device
        // and requires=quorum; the clone's primitive by its id.
        let provides = r#"<primitive id="f" class="stonith" type="fence_scsi"><meta_attributes id="f-m"><nvpair id="f-p" name="provides" value="unfencing"/></meta_attributes></primitive>"#;
        assert_eq!(unfencing_resources(&with_resources(&format!("{provides}{prims}"))), set(&["a", "ci"]));
        // The older instance-attribute form.
        let old = r#"<primitive id="f" class="stonith" type="fence_scsi"><instance_attributes id="f-i"><nvpair id="f-p" name="provides" value="unfencing"/></instance_attributes></primitive>"#;
        assert_eq!(unfencing_resources(&with_resources(&format!("{old}{prims}"))), set(&["a", "ci"]));
        // requires=unfencing alone.
        let asks = r#"<primitive id="x" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="x-m"><nvpair id="x-r" name="requires" value="unfencing"/></meta_attributes></primitive>"#;
        assert_eq!(unfencing_resources(&with_resources(&format!("{plain}{prims}{asks}"))), set(&["x"]));

        let mut u = Unfencing { needs: set(&["a", "ci"]), ..Default::default() };
        assert!(u.must_wait("a", "start", "n1"));
        assert!(u.must_wait("ci:1", "promote", "n1"), "a clone instance by its primitive");
        assert!(!u.must_wait("a", "stop", "n1"), "stopping never waits");
        assert!(!u.must_wait("a", "monitor", "n1"));
        assert!(!u.must_wait("b", "start", "n1"));
        u.done.insert("n1".into());
        assert!(!u.must_wait("a", "start", "n1"), "unfenced already");
        assert!(u.must_wait("a", "migrate_from", "n2"));
        assert_eq!(nodes_down(&with_resources("")), vec!["n2".to_string()]);
    }

    #[test]
    fn a_fenced_node_is_cleanly_down() {
        let e = fenced_state("id1", "n1");
        for (k, v) in [("id", "id1"), ("uname", "n1"), ("in_ccm", "false"), ("crmd", "offline"), ("join", "down"), ("expected", "down")] {
            assert_eq!(e.attr(k), Some(v), "{k}");
        }
    }
}
