//! Invariant: two partitions never both have quorum.
//!
//! The harness checks after every event that no two quorate views held by
//! running nodes are disjoint. Here clusters of 2 to 7 nodes (two-node rule
//! off, so that a 2-node split is a tie) are split into random groups,
//! re-split, with each tie-breaker and, for the ping tie-breaker, random
//! connectivity; every side must settle on its own view with the quorum
//! the rules give it.

mod sim;

use ccm::TieBreaker;
use sim::{seeds, Params, Sim};

fn random_groups(sim: &mut Sim) -> Vec<Vec<usize>> {
    let n = sim.len();
    let k = sim.rng().between(1, 4) as usize;
    let mut groups = vec![Vec::new(); k];
    for i in 0..n {
        let g = sim.rng().between(0, k as u64) as usize;
        groups[g].push(i);
    }
    groups.retain(|g| !g.is_empty());
    groups
}

#[test]
fn partitions_never_both_have_quorum() {
    for seed in seeds() {
        let mut rng = sim::Rng::new(seed ^ 0x20);
        let nodes = rng.between(2, 8) as usize;
        let tie_breaker = [TieBreaker::None, TieBreaker::LowestNode, TieBreaker::Ping][(seed % 3) as usize];
        let params = Params { nodes, configured: nodes, drop: 0.05, two_node: Some(false), tie_breaker, ..Params::default() };
        let mut sim = Sim::new(seed, params);
        sim.run_until_converged(10_000);
        for _ in 0..4 {
            let groups = random_groups(&mut sim);
            sim.partition(&groups);
            if tie_breaker == TieBreaker::Ping {
                for i in 0..nodes {
                    let up = sim.rng().chance(0.5);
                    sim.set_connectivity(i, up);
                }
            }
            // Part of the time the split is still settling when the next comes.
            let settle = sim.rng().chance(0.7);
            if settle {
                sim.run_until_converged(20_000);
                for g in &groups {
                    let v = sim.view(g[0]).unwrap().clone();
                    let majority = sim.majority(&v.members);
                    let tie = 2 * v.members.len() == nodes;
                    if !tie {
                        assert_eq!(v.quorum, majority, "seed {seed}: {v}");
                    } else if tie_breaker == TieBreaker::None {
                        assert!(!v.quorum, "seed {seed}: {v}");
                    } else if !v.members.contains("n1") {
                        assert!(!v.quorum, "seed {seed}: the half without n1 won: {v}");
                    }
                }
            } else {
                let t = sim.rng().between(0, 3000);
                sim.run_for(t);
            }
        }
    }
}
