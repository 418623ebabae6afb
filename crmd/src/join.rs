//! The DC's side of the join protocol: which node is at which phase of the
//! current join round.
//!
//! ```text
//!  DC                               node
//!  JoinOffer{join_id}      ------>             phase Welcomed
//!                          <------  JoinRequest{join_id, cib_version}
//!                                              phase Integrated
//!  (all integrated: sync the CIB from the highest version)
//!  JoinAck{join_id}        ------>             phase Finalized
//!                          <------  JoinConfirm{join_id}
//!                                              phase Confirmed
//!  (all confirmed: compute a transition)
//! ```
//!
//! A node that does not answer within the join timeout is dropped from the
//! round (phase None) so that the DC can go on managing the others; the
//! controller offers it again later.

use std::collections::BTreeMap;

use cib::Version;

/// Where a node stands in the current join round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Not part of the round (never offered, dropped, or left).
    None,
    /// Offered; no request yet.
    Welcomed,
    /// Requested; waiting for the round to finalize.
    Integrated,
    /// Acked; waiting for its confirmation.
    Finalized,
    /// Fully joined.
    Confirmed,
}

impl Phase {
    /// The `join` value Pacemaker writes into `node_state`.
    pub fn cib_value(self) -> &'static str {
        match self {
            Phase::None => "down",
            Phase::Welcomed => "pending",
            Phase::Integrated => "integrated",
            Phase::Finalized => "finalized",
            Phase::Confirmed => "member",
        }
    }
}

/// The DC's join bookkeeping.
#[derive(Debug, Clone, Default)]
pub struct Join {
    /// The current round; messages of other rounds are stale.
    pub id: u64,
    phases: BTreeMap<String, Phase>,
    /// Each integrated node's CIB version (the DC syncs from the highest).
    versions: BTreeMap<String, Version>,
}

impl Join {
    /// Start a new round (offer to everyone).
    pub fn new_round(&mut self) -> u64 {
        self.id += 1;
        self.phases.clear();
        self.versions.clear();
        self.id
    }

    /// Forget everything (the DC role is given up).
    pub fn reset(&mut self) {
        self.phases.clear();
        self.versions.clear();
    }

    pub fn phase(&self, node: &str) -> Phase {
        self.phases.get(node).copied().unwrap_or(Phase::None)
    }

    pub fn set(&mut self, node: &str, phase: Phase) {
        if phase == Phase::None {
            self.phases.remove(node);
            self.versions.remove(node);
        } else {
            self.phases.insert(node.to_string(), phase);
        }
    }

    /// Record a join request; false if the node was not waiting for one.
    pub fn request(&mut self, node: &str, version: Version) -> bool {
        if self.phase(node) != Phase::Welcomed {
            return false;
        }
        self.set(node, Phase::Integrated);
        self.versions.insert(node.to_string(), version);
        true
    }

    /// Record a confirmation; false if the node was not finalized.
    pub fn confirm(&mut self, node: &str) -> bool {
        if self.phase(node) != Phase::Finalized {
            return false;
        }
        self.set(node, Phase::Confirmed);
        true
    }

    /// Nodes in `phase`, sorted.
    pub fn in_phase(&self, phase: Phase) -> Vec<String> {
        self.phases.iter().filter(|(_, p)| **p == phase).map(|(n, _)| n.clone()).collect()
    }

    /// No offered node is still to answer.
    pub fn integrated(&self) -> bool {
        self.in_phase(Phase::Welcomed).is_empty()
    }

    /// Every node of the round has confirmed.
    pub fn finalized(&self) -> bool {
        self.phases.values().all(|p| *p == Phase::Confirmed)
    }

    /// The integrated node with the highest CIB version; ties go to the
    /// `prefer` node (the DC), then to the lowest name.
    pub fn best_version(&self, prefer: &str) -> Option<(String, Version)> {
        let mut best: Option<(&String, Version)> = None;
        for (n, v) in &self.versions {
            let better = match best {
                None => true,
                Some((bn, bv)) => *v > bv || (*v == bv && n == prefer && bn != prefer),
            };
            if better {
                best = Some((n, *v));
            }
        }
        best.map(|(n, v)| (n.clone(), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_goes_through_every_phase() {
        let mut j = Join::default();
        let id = j.new_round();
        assert_eq!(id, 1);
        j.set("n1", Phase::Welcomed);
        j.set("n2", Phase::Welcomed);
        assert!(!j.integrated());
        assert!(!j.confirm("n1"), "no confirm before finalize");
        assert!(j.request("n1", Version::new(0, 5, 1)));
        assert!(!j.request("n1", Version::new(0, 5, 1)), "a second request is stale");
        assert!(j.request("n2", Version::new(0, 6, 0)));
        assert!(j.integrated());
        assert_eq!(j.best_version("n1"), Some(("n2".into(), Version::new(0, 6, 0))));
        for n in j.in_phase(Phase::Integrated) {
            j.set(&n, Phase::Finalized);
        }
        assert!(!j.finalized());
        assert!(j.confirm("n1") && j.confirm("n2"));
        assert!(j.finalized());
        assert_eq!(j.phase("n3"), Phase::None);
        assert_eq!(j.phase("n2").cib_value(), "member");
    }

    #[test]
    fn equal_versions_prefer_the_dc() {
        let mut j = Join::default();
        j.new_round();
        for n in ["n1", "n2", "n3"] {
            j.set(n, Phase::Welcomed);
            j.request(n, Version::new(0, 3, 3));
        }
        assert_eq!(j.best_version("n2").unwrap().0, "n2");
        assert_eq!(j.best_version("n9").unwrap().0, "n1");
    }
}
