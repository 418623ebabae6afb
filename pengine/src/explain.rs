//! `crm_simulate --explain RSC`: why a resource's allocation scores are
//! what they are.
//!
//! When asked ([`crate::schedule::schedule_explained`]), the scheduler
//! keeps a ledger: after each step that may change node scores (a
//! location constraint or rule, node health, stickiness, a fail count, a
//! colocation...), [`Scheduler::note`] compares every resource's node
//! scores with the last snapshot and records each change as a
//! [`Contribution`] named after that step. The scores themselves are
//! computed exactly as without the ledger; the ledger only watches. When
//! a primitive's scores are printed (`pcmk__primitive_assign`), its
//! contributions are copied into an [`Explanation`] per node, whose
//! [`Explanation::sum`] gives back the printed score.
//!
//! A change is recorded as the score added (`old + added = new` in
//! Pacemaker's saturating arithmetic); when no addition can give the new
//! value (a colocation that lifted a `-INFINITY`, which Pacemaker's
//! merging can do), the contribution replaces the running sum instead.

use std::collections::BTreeMap;

use cib::model::Score;

use crate::schedule::{Schedule, Scheduler};
use crate::working_set::{NodeId, RscId};

/// One term of a node's score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// What it comes from ("rsc_location loc1", "stickiness"...).
    pub source: String,
    pub score: Score,
    /// The score was set to this value rather than added to.
    pub replaces: bool,
}

/// The contributions to one resource's score on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub rsc: RscId,
    pub node: String,
    /// The score `-s` prints.
    pub score: Score,
    pub contributions: Vec<Contribution>,
}

impl Explanation {
    /// The contributions summed in the order they were made.
    pub fn sum(&self) -> Score {
        self.contributions.iter().fold(Score::ZERO, |acc, c| if c.replaces { c.score } else { acc + c.score })
    }

    /// `node: 200 = 200 (rsc_location l1) + 100 (stickiness)`.
    pub fn line(&self) -> String {
        let mut out = format!("{}: {} =", self.node, self.score);
        if self.contributions.is_empty() {
            out.push_str(" 0 (no contributions)");
        }
        for (i, c) in self.contributions.iter().enumerate() {
            let op = match (i, c.replaces) {
                (_, true) => " := ",
                (0, false) => " ",
                _ => " + ",
            };
            out.push_str(&format!("{op}{} ({})", c.score, c.source));
        }
        out
    }
}

/// The scheduler's record of score changes (see the module docs).
#[derive(Debug, Default)]
pub struct Ledger {
    /// Node scores of every resource as of the last note.
    snapshot: Vec<BTreeMap<NodeId, Score>>,
    entries: BTreeMap<(RscId, NodeId), Vec<Contribution>>,
}

impl Ledger {
    /// A new node entry that starts from `base` rather than zero.
    pub(crate) fn record_start(&mut self, r: RscId, n: NodeId, source: String, base: Score) {
        if self.snapshot.len() <= r.0 {
            self.snapshot.resize(r.0 + 1, BTreeMap::new());
        }
        self.snapshot[r.0].insert(n, base);
        self.entries.entry((r, n)).or_default().push(Contribution { source, score: base, replaces: false });
    }
}

/// The term that turns `old` into `new`.
fn delta(old: Score, new: Score) -> Contribution {
    let mk = |score, replaces| Contribution { source: String::new(), score, replaces };
    if old + new == new && (new.is_infinite() || old == Score::ZERO) {
        return mk(new, false);
    }
    if !old.is_infinite() && !new.is_infinite() {
        let d = Score::from((new.value() as i64 - old.value() as i64).clamp(i32::MIN as i64, i32::MAX as i64) as i32);
        if old + d == new {
            return mk(d, false);
        }
    }
    mk(new, true)
}

impl Scheduler<'_> {
    /// Records every score change since the last note as coming from
    /// `source` (nothing happens unless explaining).
    pub(crate) fn note(&mut self, source: impl FnOnce(&Self) -> String) {
        let Some(mut ledger) = self.ledger.take() else { return };
        ledger.snapshot.resize(self.ws.resources.len(), BTreeMap::new());
        let mut label: Option<String> = None;
        let mut source = Some(source);
        for (i, r) in self.ws.resources.iter().enumerate() {
            for (n, new) in &r.allowed_nodes {
                let old = ledger.snapshot[i].get(n).copied();
                if old == Some(*new) || (old.is_none() && *new == Score::ZERO) {
                    continue;
                }
                let label = label.get_or_insert_with(|| source.take().map_or_else(String::new, |f| f(self))).clone();
                let mut c = delta(old.unwrap_or(Score::ZERO), *new);
                c.source = label;
                ledger.entries.entry((RscId(i), *n)).or_default().push(c);
            }
            ledger.snapshot[i] = r.allowed_nodes.clone();
        }
        self.ledger = Some(ledger);
    }

    /// Keeps the contributions behind the scores about to be printed.
    pub(crate) fn record_explanations(&mut self, r: RscId) {
        self.note(|_| "unrecorded change".to_string());
        let Some(ledger) = &self.ledger else { return };
        for (n, s) in &self.ws.rsc(r).allowed_nodes {
            let contributions = ledger.entries.get(&(r, *n)).cloned().unwrap_or_default();
            self.explanations.push(Explanation { rsc: r, node: self.ws.node(*n).uname.clone(), score: *s, contributions });
        }
    }
}

/// The `--explain RSC` text: for each primitive of `name` (the resource
/// itself, or a group's or clone's members), one line per node; `None`
/// when no resource has that id.
pub fn explain(schedule: &Schedule, name: &str) -> Option<Vec<String>> {
    let ws = &schedule.ws;
    let targets: Vec<RscId> = (0..ws.resources.len()).map(RscId).filter(|r| ws.rsc(*r).id == name).collect();
    if targets.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for t in targets {
        for r in ws.subtree(t) {
            if !ws.rsc(r).children.is_empty() {
                continue;
            }
            out.push(format!("Allocation of {} (explain):", ws.rsc(r).id));
            let lines: Vec<&Explanation> = schedule.explanations.iter().filter(|e| e.rsc == r).collect();
            if lines.is_empty() {
                out.push("  (no allocation scores)".to_string());
            }
            for e in lines {
                out.push(format!("  {}", e.line()));
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_adds_when_it_can_and_replaces_otherwise() {
        let s = Score::from;
        assert_eq!(delta(s(100), s(250)), Contribution { source: String::new(), score: s(150), replaces: false });
        assert_eq!(delta(s(100), Score::MINUS_INFINITY).score, Score::MINUS_INFINITY);
        assert!(!delta(Score::INFINITY, Score::MINUS_INFINITY).replaces);
        assert!(delta(Score::MINUS_INFINITY, s(5)).replaces);
        assert!(delta(Score::INFINITY, s(5)).replaces);
    }
}
