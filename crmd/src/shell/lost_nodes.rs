//! A node lost without fencing: its resources are recovered only after
//! `lost-node-grace`, the time its own emergency stop needs.
//!
//! ```text
//!  ccm view without N ---------> Grace::view: N left at t
//!  DC writes N left (write_left) with stonith-enabled=false, N not let go
//!  (expected != down), N's history shows resources
//!    -> nothing written: N's node_state stays as it was (the scheduler
//!       still sees its resources where they ran); wait until t + grace
//!  t + grace, N still not a member, we still DC
//!    -> N's actions in flight fail, N's status wiped (left, stopped),
//!       a new transition: its resources start elsewhere
//!  N back in the view before that -> the wait is dropped (its join
//!       rewrites its history from its lrmd)
//! ```
//!
//! Why: without fencing the two sides of a split react at the same
//! deadtime. The side without quorum stops its resources
//! (`quorum_loss.rs`) while the side with quorum would start them: a
//! double run for the length of the stop (measured 0-127 ms in the lab
//! before this, docs/SPLIT_BRAIN.md). The winner cannot know when the
//! loser's stop is over; it waits long enough for it: the heartbeat
//! keepalive twice (the two sides declare each other dead up to 1.25
//! keepalives apart, and the views follow) plus the lost node's stop time
//! as its history suggests (per resource it may run, its longest one-shot
//! operation: a stop takes about what a start took; summed, as the
//! emergency stop runs them in turn). `lost-node-grace` in `crm_config`
//! overrides that estimate.
//!
//! Not delayed: a node that shut down cleanly (`expected=down`), and any
//! node with fencing on (fencing, not time, proves the node stopped).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use cib::model::duration::parse_msec;
use cib::Element;
use tokio::time::Instant;

use super::{Cause, Shell};
use crate::controller::Event;

/// The cluster option naming the grace (ours; Pacemaker has none).
pub const OPTION: &str = "lost-node-grace";

/// Nodes that left the view and those whose recovery waits.
#[derive(Debug, Default)]
pub(crate) struct Grace {
    /// When each node left our view (the grace counts from there, so the
    /// election a lost DC causes is part of it, not added to it).
    left_at: BTreeMap<String, Instant>,
    /// Nodes whose status is kept until their deadline.
    waiting: BTreeMap<String, Instant>,
}

impl Grace {
    /// A new view: who left it (and when), who is back.
    pub fn view(&mut self, old: &BTreeSet<String>, new: &BTreeSet<String>, now: Instant) {
        for gone in old.difference(new) {
            self.left_at.insert(gone.clone(), now);
        }
        for n in new {
            self.left_at.remove(n);
            self.waiting.remove(n);
        }
    }

    pub fn is_waiting(&self, node: &str) -> bool {
        self.waiting.contains_key(node)
    }

    /// Waits `grace` from the moment `node` left (from `now` when this
    /// crmd did not see it leave). Returns the deadline, or None when it
    /// has passed already.
    pub fn wait(&mut self, node: &str, grace: Duration, now: Instant) -> Option<Instant> {
        let deadline = self.left_at.get(node).copied().unwrap_or(now) + grace;
        if deadline <= now {
            return None;
        }
        self.waiting.insert(node.to_string(), deadline);
        Some(deadline)
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.waiting.values().min().copied()
    }

    /// The nodes whose grace is over, no longer waiting.
    pub fn due(&mut self, now: Instant) -> Vec<String> {
        let due: Vec<String> = self.waiting.iter().filter(|(_, at)| **at <= now).map(|(n, _)| n.clone()).collect();
        for n in &due {
            self.waiting.remove(n);
        }
        due
    }
}

/// The `node_state` of node id `id` in `cib`.
fn node_state<'a>(cib: &'a Element, id: &str) -> Option<&'a Element> {
    cib.child("status")?.children_named("node_state").find(|n| n.id() == Some(id))
}

/// Whether the lost node `id` has anything to wait for: it was not let go
/// (`expected` is not `down`) and its history records resources.
pub(crate) fn needs_grace(cib: &Element, id: &str) -> bool {
    let Some(state) = node_state(cib, id) else { return false };
    state.attr("expected") != Some("down")
        && state
            .child("lrm")
            .and_then(|l| l.child("lrm_resources"))
            .is_some_and(|r| r.children_named("lrm_resource").next().is_some())
}

/// The grace for the lost node `id`: `lost-node-grace` when set (and
/// readable), else twice the heartbeat keepalive plus the node's stop
/// time, estimated from its history: for every resource it may still run
/// (its latest one-shot operation is not a successful stop, nor a probe
/// that found it stopped), the longest one-shot operation recorded
/// (`exec-time`: a stop takes about what a start took), summed, because
/// its emergency stop runs them one after the other.
pub(crate) fn grace_for(cib: &Element, id: &str, keepalive: Duration) -> Duration {
    if let Some(ms) = configured(cib) {
        return Duration::from_millis(ms);
    }
    let resources = node_state(cib, id).and_then(|s| s.child("lrm")).and_then(|l| l.child("lrm_resources"));
    let stop_ms: u64 = resources
        .map(|r| r.children_named("lrm_resource").map(stop_estimate_ms).sum())
        .unwrap_or(0);
    keepalive * 2 + Duration::from_millis(stop_ms)
}

/// One resource's stop time as its history suggests (0 when it is
/// stopped there).
fn stop_estimate_ms(rsc: &Element) -> u64 {
    let one_shot: Vec<&Element> =
        rsc.children_named("lrm_rsc_op").filter(|op| op.attr("interval").is_none_or(|i| i == "0")).collect();
    let last = one_shot.iter().find(|op| op.attr("id").is_some_and(|i| i.ends_with("_last_0")));
    let stopped = last.is_some_and(|op| {
        let rc = op.attr("rc-code");
        match op.attr("operation") {
            Some("stop") => rc == Some("0"),
            Some("monitor") => rc == Some("7"),
            _ => false,
        }
    });
    if stopped {
        return 0;
    }
    one_shot.iter().filter_map(|op| op.attr("exec-time")?.parse::<u64>().ok()).max().unwrap_or(0)
}

/// `lost-node-grace` from `crm_config` (a duration as the other cluster
/// options take: `500ms`, `2s`, a bare number in seconds). Read from the
/// XML directly (Heartbeat 2's `<attributes>` wrapper and `_` spelling
/// included), `cib-bootstrap-options` first: the option must be found
/// even when some other part of the CIB does not parse.
fn configured(cib: &Element) -> Option<u64> {
    let sets: Vec<&Element> =
        cib.child("configuration")?.child("crm_config")?.children_named("cluster_property_set").collect();
    let ordered = sets.iter().filter(|s| s.id() == Some("cib-bootstrap-options")).chain(sets.iter().filter(|s| s.id() != Some("cib-bootstrap-options")));
    for set in ordered {
        let pairs = set.children_named("nvpair").chain(set.children_named("attributes").flat_map(|a| a.children_named("nvpair")));
        for nv in pairs {
            if nv.attr("name").is_some_and(|n| n.replace('_', "-") == OPTION) {
                return nv.attr("value").and_then(parse_msec);
            }
        }
    }
    None
}

impl Shell {
    /// write_left's question: does `node`'s wipe wait? True when it was
    /// put (or already is) on hold.
    pub(crate) fn hold_lost_node(&mut self, node: &str, id: &str, cib: &Element) -> bool {
        if self.grace.is_waiting(node) {
            return true;
        }
        if !needs_grace(cib, id) {
            return false;
        }
        let grace = grace_for(cib, id, self.hb_keepalive);
        match self.grace.wait(node, grace, Instant::now()) {
            Some(deadline) => {
                tracing::warn!(
                    "crmd: {node} left uncleanly and fencing is off: its resources are recovered in {} ms ({OPTION} {} ms), once its own stop (quorum lost) is over",
                    deadline.saturating_duration_since(Instant::now()).as_millis(),
                    grace.as_millis()
                );
                true
            }
            None => false,
        }
    }

    /// The keepalive tick's and timers' wakeup: lost nodes whose grace is
    /// over are taken as stopped, and a transition recovers their
    /// resources.
    pub(crate) async fn lost_nodes_due(&mut self) -> anyhow::Result<()> {
        let due = self.grace.due(Instant::now());
        if due.is_empty() {
            return Ok(());
        }
        if !self.ctl.state().is_dc() {
            return Ok(());
        }
        for node in due {
            if self.ctl.view().is_some_and(|v| v.members.contains(&node)) {
                continue;
            }
            tracing::warn!("crmd: {OPTION} over for {node}: its resources are taken as stopped");
            // Actions sent to it meanwhile will never be answered.
            self.te.node_lost(&node);
            self.wipe_left(&node).await?;
            let version = self.ctl.cib_version();
            self.events.push_back((Event::CibChanged { version }, GRACE));
        }
        Ok(())
    }
}

const GRACE: Cause = Cause { cause: "C_TIMER_POPPED", origin: "lost_node_grace" };

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_grace_counts_from_the_view_that_lost_the_node() {
        let t0 = Instant::now();
        let mut g = Grace::default();
        g.view(&set(&["n1", "n2"]), &set(&["n2"]), t0);
        // The DC writes it left 300 ms later (an election in between).
        let d = g.wait("n1", Duration::from_millis(500), t0 + Duration::from_millis(300)).unwrap();
        assert_eq!(d, t0 + Duration::from_millis(500));
        assert!(g.is_waiting("n1"));
        assert_eq!(g.next_deadline(), Some(d));
        assert!(g.due(t0 + Duration::from_millis(499)).is_empty());
        assert_eq!(g.due(d), ["n1"]);
        assert!(!g.is_waiting("n1"));
        // Already over: no wait. Unknown departure: from now.
        assert_eq!(g.wait("n1", Duration::from_millis(100), t0 + Duration::from_millis(200)), None);
        assert_eq!(g.wait("n9", Duration::from_millis(100), t0), Some(t0 + Duration::from_millis(100)));
        // Back in the view: no more waiting.
        g.view(&set(&["n2"]), &set(&["n2", "n9"]), t0);
        assert!(!g.is_waiting("n9"));
        assert_eq!(g.next_deadline(), None);
    }

    fn cib(options: &str, n1: &str) -> Element {
        cib::xml::parse_element(&format!(
            r#"<cib admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config><cluster_property_set id="o">{options}</cluster_property_set></crm_config><nodes/><resources/><constraints/></configuration><status>{n1}</status></cib>"#
        ))
        .unwrap()
    }

    const RUNNING: &str = r#"<node_state id="n1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="n1"><lrm_resources><lrm_resource id="d" class="ocf" provider="heartbeat" type="Dummy">
        <lrm_rsc_op id="d_last_0" operation="start" interval="0" exec-time="40" rc-code="0" op-status="0"/>
        <lrm_rsc_op id="d_monitor_2000" operation="monitor" interval="2000" exec-time="900" rc-code="0" op-status="0"/>
        </lrm_resource><lrm_resource id="e" class="ocf" provider="heartbeat" type="Dummy">
        <lrm_rsc_op id="e_last_0" operation="start" interval="0" exec-time="30" rc-code="0" op-status="0"/>
        <lrm_rsc_op id="e_last_failure_0" operation="start" interval="0" exec-time="60" rc-code="1" op-status="0"/>
        </lrm_resource><lrm_resource id="f" class="ocf" provider="heartbeat" type="Dummy">
        <lrm_rsc_op id="f_last_0" operation="stop" interval="0" exec-time="500" rc-code="0" op-status="0"/>
        </lrm_resource><lrm_resource id="g" class="ocf" provider="heartbeat" type="Dummy">
        <lrm_rsc_op id="g_last_0" operation="monitor" interval="0" exec-time="500" rc-code="7" op-status="0"/>
        </lrm_resource></lrm_resources></lrm></node_state>"#;

    #[test]
    fn a_lost_node_running_something_waits_twice_the_keepalive_plus_its_stop_time() {
        let ka = Duration::from_millis(200);
        let c = cib("", RUNNING);
        assert!(needs_grace(&c, "n1"));
        // d 40 + e 60 (its longest one-shot op); f and g are stopped there;
        // a recurring monitor's time does not count: it is no stop.
        assert_eq!(grace_for(&c, "n1", ka), Duration::from_millis(400 + 40 + 60));
        let set = cib(r#"<nvpair id="o-g" name="lost-node-grace" value="2s"/>"#, RUNNING);
        assert_eq!(grace_for(&set, "n1", ka), Duration::from_secs(2));
        let zero = cib(r#"<nvpair id="o-g" name="lost-node-grace" value="0"/>"#, RUNNING);
        assert_eq!(grace_for(&zero, "n1", ka), Duration::ZERO);
        // Let go cleanly, nothing recorded, or unknown: nothing to wait for.
        assert!(!needs_grace(&cib("", &RUNNING.replace(r#"expected="member""#, r#"expected="down""#)), "n1"));
        assert!(!needs_grace(&cib("", r#"<node_state id="n1" uname="n1" in_ccm="true"/>"#), "n1"));
        assert!(!needs_grace(&c, "n2"));
    }
}
