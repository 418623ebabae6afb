//! Quorum: may this partition run resources?
//!
//! A pure function of the member list, the configured node set (ha.cf's
//! `node` lines), and two facts the caller knows: whether the deciding
//! node's previous view had quorum (for the two-node rule) and whether it
//! reaches its ping nodes (for the ping tie-breaker).
//!
//! The rules, in order (docs/CCM.md explains why):
//! 1. Only configured nodes vote; a member that is not configured (autojoin)
//!    counts for nothing.
//! 2. More than half of the configured nodes: quorum.
//! 3. Exactly half, in a two-node cluster with `two_node`: quorum if the
//!    previous view had it (corosync's `two_node` with `wait_for_all`: a
//!    survivor keeps quorum, a node booting alone does not get it; fencing
//!    settles which survivor wins) and the node reaches its ping nodes
//!    (seed 003's reference-address arbitration: the side cut off from
//!    its ping nodes gives up).
//! 4. Exactly half otherwise: the [`TieBreaker`] decides.
//! 5. Less than half: no quorum.

use std::collections::BTreeSet;

/// Who wins a tie (exactly half of the configured nodes on each side).
///
/// Every rule here is safe: two disjoint halves can never both win, because
/// the lowest configured node name is in at most one of them. A tie-breaker
/// on ping connectivity alone would not be safe (both halves usually still
/// reach the router), so [`TieBreaker::Ping`] only ever takes a tie away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TieBreaker {
    /// Nobody wins a tie: exactly half is no quorum (Heartbeat's `majority`
    /// policy without a tie-breaker module).
    #[default]
    None,
    /// The half holding the lowest configured node name wins (corosync's
    /// `auto_tie_breaker` with `lowest`).
    LowestNode,
    /// As [`TieBreaker::LowestNode`], and the deciding node must also reach
    /// its ping nodes: a half cut off from the outside world never wins.
    Ping,
}

/// The quorum rules of one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumRules {
    /// The configured nodes (ha.cf `node` lines): the voters.
    pub configured: BTreeSet<String>,
    /// Apply the two-node rule (only meaningful with two configured nodes).
    pub two_node: bool,
    /// How to settle a tie in other even-sized clusters.
    pub tie_breaker: TieBreaker,
}

/// What a quorum decision may depend on besides the member list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuorumContext {
    /// The deciding node's previous view had quorum.
    pub had_quorum: bool,
    /// The deciding node reaches its ping nodes (true when none are set up).
    pub connectivity: bool,
}

impl QuorumRules {
    /// Rules for `configured` with the defaults: the two-node rule when
    /// exactly two nodes are configured, no tie-breaker.
    pub fn new(configured: BTreeSet<String>) -> Self {
        let two_node = configured.len() == 2;
        QuorumRules { configured, two_node, tie_breaker: TieBreaker::None }
    }

    /// Votes of `members`: how many of them are configured.
    pub fn votes(&self, members: &BTreeSet<String>) -> usize {
        members.intersection(&self.configured).count()
    }

    /// Does a partition of `members` have quorum?
    pub fn has_quorum(&self, members: &BTreeSet<String>, ctx: QuorumContext) -> bool {
        let total = self.configured.len();
        let votes = self.votes(members);
        if total == 0 || 2 * votes < total {
            return false;
        }
        if 2 * votes > total {
            return true;
        }
        // Exactly half.
        if total == 2 && self.two_node {
            return ctx.had_quorum && ctx.connectivity;
        }
        let holds_lowest = self.configured.first().is_some_and(|n| members.contains(n));
        match self.tie_breaker {
            TieBreaker::None => false,
            TieBreaker::LowestNode => holds_lowest,
            TieBreaker::Ping => holds_lowest && ctx.connectivity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &str) -> BTreeSet<String> {
        names.split_whitespace().map(str::to_owned).collect()
    }

    const FRESH: QuorumContext = QuorumContext { had_quorum: false, connectivity: true };
    const HAD: QuorumContext = QuorumContext { had_quorum: true, connectivity: true };

    #[test]
    fn majority_of_configured_nodes() {
        let r = QuorumRules::new(set("a b c d e"));
        assert!(r.has_quorum(&set("a b c"), FRESH));
        assert!(!r.has_quorum(&set("a b"), HAD));
        assert!(r.has_quorum(&set("c d e"), FRESH));
        // Unconfigured members do not vote.
        assert!(!r.has_quorum(&set("a b x y z"), FRESH));
        assert_eq!(r.votes(&set("a b x y z")), 2);
    }

    #[test]
    fn single_configured_node_always_has_quorum() {
        let r = QuorumRules::new(set("a"));
        assert!(r.has_quorum(&set("a"), FRESH));
        assert!(!r.has_quorum(&set("b"), FRESH));
    }

    #[test]
    fn nobody_configured_means_no_quorum() {
        let r = QuorumRules::new(BTreeSet::new());
        assert!(!r.has_quorum(&set("a"), HAD));
    }

    #[test]
    fn two_node_rule_keeps_but_never_grants() {
        let r = QuorumRules::new(set("a b"));
        assert!(r.two_node);
        assert!(r.has_quorum(&set("a b"), FRESH));
        assert!(r.has_quorum(&set("a"), HAD), "a survivor keeps quorum");
        assert!(!r.has_quorum(&set("a"), FRESH), "a node booting alone waits for its peer");
        let mut strict = r.clone();
        strict.two_node = false;
        assert!(!strict.has_quorum(&set("a"), HAD));
    }

    #[test]
    fn two_node_survivor_cut_off_from_its_ping_nodes_gives_up() {
        let r = QuorumRules::new(set("a b"));
        let cut_off = QuorumContext { had_quorum: true, connectivity: false };
        assert!(!r.has_quorum(&set("a"), cut_off));
        // Both nodes together need no ping node.
        assert!(r.has_quorum(&set("a b"), cut_off));
    }

    #[test]
    fn ties_without_tie_breaker_lose() {
        let r = QuorumRules::new(set("a b c d"));
        assert!(!r.has_quorum(&set("a b"), HAD));
        assert!(!r.has_quorum(&set("c d"), HAD));
    }

    #[test]
    fn lowest_node_wins_the_tie() {
        let mut r = QuorumRules::new(set("a b c d"));
        r.tie_breaker = TieBreaker::LowestNode;
        assert!(r.has_quorum(&set("a d"), FRESH));
        assert!(!r.has_quorum(&set("b c"), FRESH));
        // The two-node rule does not apply to four nodes.
        assert!(!r.has_quorum(&set("b c"), HAD));
    }

    #[test]
    fn ping_only_takes_a_tie_away() {
        let mut r = QuorumRules::new(set("a b c d"));
        r.tie_breaker = TieBreaker::Ping;
        let cut_off = QuorumContext { had_quorum: true, connectivity: false };
        assert!(r.has_quorum(&set("a b"), FRESH));
        assert!(!r.has_quorum(&set("a b"), cut_off));
        assert!(!r.has_quorum(&set("c d"), FRESH));
        // A majority does not need the ping nodes.
        assert!(r.has_quorum(&set("b c d"), cut_off));
    }

    #[test]
    fn two_disjoint_partitions_never_both_win() {
        // Exhaustive over every split of six configured nodes, every rule.
        let names = ["a", "b", "c", "d", "e", "f"];
        let configured: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
        for tb in [TieBreaker::None, TieBreaker::LowestNode, TieBreaker::Ping] {
            let mut r = QuorumRules::new(configured.clone());
            r.tie_breaker = tb;
            for mask in 0u32..(1 << names.len()) {
                let left: BTreeSet<String> =
                    (0..names.len()).filter(|i| mask & (1 << i) != 0).map(|i| names[i].to_owned()).collect();
                let right: BTreeSet<String> = configured.difference(&left).cloned().collect();
                for ctx in [FRESH, HAD, QuorumContext { had_quorum: true, connectivity: false }] {
                    assert!(
                        !(r.has_quorum(&left, ctx) && r.has_quorum(&right, ctx)),
                        "{tb:?} {left:?} {right:?}"
                    );
                }
            }
        }
    }
}
