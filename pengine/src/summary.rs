//! The "Transition Summary" (Pacemaker's `LogActions` and the
//! `rsc-action-item` message of `pcmk_output.c`): one line per resource
//! that changes, naming the change (Start, Stop, Move, Recover, Restart...),
//! the nodes, and why when an action carries a reason.
//!
//! ```text
//!   * Stop       the-future-of-vaj     (   hb2 )  due to node availability
//! ```
//!
//! The change is left-aligned in 8 columns; the resource name and the
//! details are padded to widths that only grow (Pacemaker keeps them in
//! static variables, and formats the list for its log first), so
//! [`format_items`] takes the whole list.

use cib::model::Role;

use crate::schedule::Scheduler;
use crate::working_set::{NodeId, RscId};

/// One summary line before formatting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryItem {
    pub change: &'static str,
    pub rsc: String,
    /// Text inside the parentheses (`node1 -> node2`...).
    pub details: String,
    /// `due to ...`, `blocked`, or nothing.
    pub reason: Option<String>,
    /// A node action line (`Fence (reboot) node1 'reason'`), printed as
    /// is instead of the columns above.
    pub node_action: Option<String>,
}

/// Formats the items with Pacemaker's column widths. The widths grow
/// as lines are formatted (static variables in Pacemaker), and Pacemaker
/// formats the whole list once for its log before printing it, so the
/// printed lines all use the widths the first pass ended with.
pub fn format_items(items: &[SummaryItem]) -> Vec<String> {
    let mut rsc_width = 5usize;
    let mut detail_width = 5usize;
    let grow = |it: &SummaryItem, rw: &mut usize, dw: &mut usize| {
        if it.rsc.len() > *rw {
            *rw = it.rsc.len() + 2;
        }
        if it.details.len() > *dw {
            *dw = it.details.len();
        }
    };
    for it in items.iter().filter(|it| it.node_action.is_none()) {
        grow(it, &mut rsc_width, &mut detail_width);
    }
    let mut out = Vec::new();
    for it in items {
        if let Some(text) = &it.node_action {
            out.push(format!("  * {text}"));
            continue;
        }
        grow(it, &mut rsc_width, &mut detail_width);
        let reason = it.reason.as_deref().map(|r| format!("  {r}")).unwrap_or_default();
        out.push(format!("  * {:<8}   {:<rw$}   ( {:>dw$} ){}", it.change, it.rsc, it.details, reason, rw = rsc_width, dw = detail_width));
    }
    out
}

impl Scheduler<'_> {
    pub(crate) fn summarize(&mut self) -> Vec<SummaryItem> {
        let mut out = Vec::new();
        // Node actions first: fencing (shutdowns carry no reason and are
        // not listed).
        // Pacemaker keeps its action list newest first.
        for a in self.actions.iter().rev() {
            if a.rsc.is_some() || a.optional || a.task != "stonith" {
                continue;
            }
            let (Some(n), Some(reason)) = (a.node, &a.reason) else { continue };
            let how = a.stonith_action.as_deref().unwrap_or("reboot");
            out.push(SummaryItem { change: "Fence", rsc: String::new(), details: String::new(), reason: None, node_action: Some(format!("Fence ({how}) {} '{reason}'", self.ws.node(n).uname)) });
        }
        for top in self.ws.top_level.clone() {
            self.log_actions(top, &mut out);
        }
        out
    }

    fn node_name(&self, n: Option<NodeId>) -> String {
        n.map(|n| self.ws.node(n).uname.clone()).unwrap_or_default()
    }

    /// `rsc_action_item`: the details and reason of one line.
    #[allow(clippy::too_many_arguments)]
    fn item(&self, change: &'static str, r: RscId, origin: Option<NodeId>, dest: Option<NodeId>, action: Option<usize>, source: Option<usize>, out: &mut Vec<SummaryItem>) {
        let res = self.ws.rsc(r);
        let role = res.role;
        let next = res.next_role;
        let need_role = role > Role::Started || next > Role::Unpromoted;
        let same_host = origin.is_some() && origin == dest;
        let same_role = role == next;
        let (o, d) = (self.node_name(origin), self.node_name(dest));
        let details = if need_role && origin.is_none() {
            format!("{} -> {} {}", role.as_str(), next.as_str(), d)
        } else if origin.is_none() {
            d
        } else if need_role && dest.is_none() {
            format!("{} {}", role.as_str(), o)
        } else if dest.is_none() {
            o
        } else if need_role && same_role && same_host {
            format!("{} {}", role.as_str(), o)
        } else if same_role && same_host {
            o
        } else if need_role && same_role {
            format!("{o} -> {d} {}", role.as_str())
        } else if same_role {
            format!("{o} -> {d}")
        } else if same_host {
            format!("{} -> {} {}", role.as_str(), next.as_str(), o)
        } else {
            format!("{} {} -> {} {}", role.as_str(), o, next.as_str(), d)
        };
        let source = source.or(action);
        let runnable = action.is_none_or(|a| self.actions[a].runnable);
        let src_reason = source.and_then(|s| self.actions[s].reason.clone());
        let reason = match (src_reason, runnable) {
            (Some(r), false) => Some(format!("due to {r} (blocked)")),
            (Some(r), true) => Some(format!("due to {r}")),
            (None, false) => Some("blocked".to_string()),
            (None, true) => None,
        };
        out.push(SummaryItem { change, rsc: res.id.clone(), details, reason, node_action: None });
    }

    /// `LogActions` for one resource (recursing into collections).
    fn log_actions(&mut self, r: RscId, out: &mut Vec<SummaryItem>) {
        let children = self.ws.rsc(r).children.clone();
        if !children.is_empty() {
            for c in children {
                self.log_actions(c, out);
            }
            return;
        }
        let next = self.assign[r.0].allocated_to;
        let mut current = None;
        if !self.ws.rsc(r).running_on.is_empty() {
            current = self.current_node(r);
            // A partial migration is "at" its source (`pe__find_active_on`).
            let res = self.ws.rsc(r);
            if let Some(src) = res.partial_migration_source.filter(|s| res.running_on.contains(s)) {
                current = Some(src);
            }
            if self.ws.rsc(r).role == Role::Stopped {
                self.ws.resources[r.0].role = Role::Started;
            }
        }
        let res = self.ws.rsc(r);
        if current.is_none() && res.flags.orphan {
            return;
        }
        if !res.flags.managed || (current.is_none() && next.is_none()) {
            return;
        }
        let moving = matches!((current, next), (Some(c), Some(n)) if c != n);
        let start = next.and_then(|n| self.find_action(r, "start", Some(n)));
        let stop = if start.is_none_or(|s| !self.actions[s].runnable) {
            self.find_action_any_node(r, "stop")
        } else {
            current.and_then(|c| self.find_action(r, "stop", Some(c)))
        };
        let failed = res.flags.failed;
        let promote = next.and_then(|n| self.find_action(r, "promote", Some(n)));
        let demote = next.and_then(|n| self.find_action(r, "demote", Some(n)));
        if res.role == res.next_role {
            if next.is_none() {
                return;
            }
            // A live migration (crate::migration) that can run.
            if current.is_some() && self.migrate_from_on(r, next).is_some_and(|m| self.actions[m].runnable) {
                self.item("Migrate", r, current, next, start, None, out);
                return;
            }
            match start {
                _ if start.is_none_or(|s| self.actions[s].optional) => {
                    let required = |a: Option<usize>| a.is_some_and(|a| !self.actions[a].optional);
                    if required(demote) && required(promote) {
                        self.item("Re-promote", r, current, next, promote, demote, out);
                    }
                }
                Some(s) if !self.actions[s].runnable => {
                    let src = if stop.is_some_and(|st| self.actions[st].reason.is_some()) { stop } else { Some(s) };
                    self.item("Stop", r, current, None, stop, src, out);
                }
                Some(_) if moving && current.is_some() => {
                    self.item(if failed { "Recover" } else { "Move" }, r, current, next, stop, None, out);
                }
                Some(_) if failed => self.item("Recover", r, current, None, stop, None, out),
                Some(s) => self.item("Restart", r, current, next, Some(s), None, out),
                None => {}
            }
            return;
        }
        let start_unrunnable = start.is_some_and(|s| !self.actions[s].runnable);
        if stop.is_some() && (res.next_role == Role::Stopped || start_unrunnable) {
            for node in res.running_on.clone() {
                let stop_op = self.find_action(r, "stop", Some(node));
                let src = if stop_op.is_some_and(|st| self.actions[st].reason.is_some()) { stop_op } else { start };
                self.item("Stop", r, Some(node), None, stop_op, src, out);
            }
        } else if stop.is_some() && failed && res.flags.stop {
            self.item("Recover", r, current, next, stop, start, out);
        } else if moving {
            self.item("Move", r, current, next, stop, None, out);
        } else if stop.is_some_and(|s| !self.actions[s].optional) {
            self.item("Restart", r, current, next, start, None, out);
        } else if res.role == Role::Promoted {
            self.item("Demote", r, current, next, demote, None, out);
        } else if res.next_role == Role::Promoted {
            self.item("Promote", r, current, next, promote, None, out);
        } else if res.role == Role::Stopped && res.next_role > Role::Stopped {
            self.item("Start", r, current, next, start, None, out);
        }
    }
}
