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
//! Unfencing: the scheduler puts a `stonith` action with
//! `stonith_action=on` before the probes and starts of resources that
//! require unfencing on a node not yet unfenced (pengine's unfencing.rs).
//! It goes to stonithd like any fencing (action `on`); its success is not
//! a node going down: the DC sets the node's `#node-unfenced` transient
//! attribute (the time, through attrd, as Pacemaker's controller does)
//! and confirms the action, so the starts run and the next transitions
//! see the node unfenced. The attribute goes with the node's transient
//! attributes when it leaves, so a node is unfenced again each time it
//! comes up.
//!
//! Lost nodes (`must_fence_lost`): with `stonith-enabled` (Pacemaker's
//! default: true) a node that leaves without the DC having let it shut
//! down (`expected` is not `down`) keeps its `lrm` history and its
//! `expected=member`: the scheduler reads `in_ccm=false crmd=offline
//! expected=member` as unclean and schedules its fencing before any of its
//! resources is recovered (Pacemaker's determine_online_status_fencing).
//! Without fencing, a lost node is taken as stopped and wiped, as before.

use std::collections::BTreeMap;
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

/// The transient node attribute saying when a node was unfenced (the
/// scheduler does not unfence a node that has it).
pub const UNFENCED_ATTR: &str = "#node-unfenced";

/// Whether a fencing action is an unfencing (turning the node on), whose
/// success leaves the node up rather than down.
pub fn is_unfencing(action: &str) -> bool {
    action == "on"
}

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
        }
    }

    /// A graph was computed from `cib`: the priority delay of each node it
    /// fences, judged on that CIB (where the target is already out of the
    /// membership and its resources still count as running on it).
    pub fn note_graph(&mut self, cib: &Element, graph: &tengine::TransitionGraph) {
        self.delays.clear();
        self.max_attempts = max_attempts(cib);
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
        let ok = match &d.result {
            Ok(o) if o.succeeded() && is_unfencing(&d.action) => {
                tracing::warn!("crmd: {} was unfenced by {} at the request of crmd", d.target, o.delegate().unwrap_or("?"));
                true
            }
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
        let (by, outcome) = match &d.result {
            Ok(o) => (o.delegate().unwrap_or("?").to_string(), if ok { "OK".to_string() } else { o.reason().unwrap_or("Error").to_string() }),
            Err(e) => ("?".to_string(), format!("stonithd: {e}")),
        };
        let desc = format!("Operation {} of {} by {by} for crmd@{}: {outcome}", d.action, d.target, self.me);
        self.alert(crate::alerts::Event::Fencing { target: d.target.clone(), task: d.action.clone(), rc: if ok { 0 } else { 1 }, desc }).await?;
        if ok {
            self.fencer.failures.succeeded(&d.target);
            if is_unfencing(&d.action) {
                // The node is up and may now run what requires unfencing.
                self.attr_update(&d.target, UNFENCED_ATTR, &epoch().to_string()).await?;
            } else {
                self.write_fenced(&d.target).await?;
            }
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

    #[test]
    fn the_scheduler_unfences_a_node_before_starting_there_until_it_is_marked_unfenced() {
        // A device that provides unfencing, d stopped, n2 up and never
        // unfenced: the graph turns n2 on before d starts there.
        let state = |unfenced: bool| {
            let attrs = if unfenced {
                format!(r#"<transient_attributes id="n2"><instance_attributes id="st-n2"><nvpair id="st-n2-u" name="{UNFENCED_ATTR}" value="1700000000"/></instance_attributes></transient_attributes>"#)
            } else {
                String::new()
            };
            format!(r#"<node_state id="n2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member">{attrs}</node_state>"#)
        };
        let cib = |unfenced: bool| {
            let text = format!(
                r#"<cib admin_epoch="0" epoch="1" num_updates="0" have-quorum="1" dc-uuid="n2"><configuration><crm_config><cluster_property_set id="o"><nvpair id="o-s" name="stonith-enabled" value="true"/></cluster_property_set></crm_config><nodes><node id="n2" uname="n2"/></nodes><resources><primitive id="f" class="stonith" type="fence_scsi"><meta_attributes id="f-m"><nvpair id="f-p" name="provides" value="unfencing"/></meta_attributes></primitive><primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/></resources><constraints/></configuration><status>{}</status></cib>"#,
                state(unfenced)
            );
            cib::model::Cib::from_document(&cib::xml::Document::parse(&text).unwrap()).unwrap()
        };
        let model = cib(false);
        let g = pengine::schedule(&model, pengine::unpack(&model, 1_700_000_000)).transition_graph(&model);
        let on = g
            .synapses
            .iter()
            .flat_map(|s| s.actions.iter())
            .find(|a| a.is_fencing() && a.meta("stonith_action") == Some("on"))
            .expect("n2 is unfenced");
        assert!(is_unfencing(on.meta("stonith_action").unwrap()));
        let start = action(&g, "d_start_0", "n2").expect("d starts on n2");
        assert!(before(&g, start.id()).contains(&on.id()), "the start waits for the unfencing");
        // What on_fence_done writes after a successful `on`: no unfencing again.
        let model = cib(true);
        let g = pengine::schedule(&model, pengine::unpack(&model, 1_700_000_000)).transition_graph(&model);
        assert!(g.synapses.iter().flat_map(|s| s.actions.iter()).all(|a| !a.is_fencing()));
        assert!(action(&g, "d_start_0", "n2").is_some());
        assert!(!is_unfencing("reboot") && !is_unfencing("off"));
    }

    #[test]
    fn a_fenced_node_is_cleanly_down() {
        let e = fenced_state("id1", "n1");
        for (k, v) in [("id", "id1"), ("uname", "n1"), ("in_ccm", "false"), ("crmd", "offline"), ("join", "down"), ("expected", "down")] {
            assert_eq!(e.attr(k), Some(v), "{k}");
        }
    }
}
