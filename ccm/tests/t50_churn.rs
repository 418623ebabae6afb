//! Invariant: instance numbers only increase on every node, across crashes
//! and restarts (the core persists its promise, the harness keeps the
//! "disk"), while nodes crash, restart, links flap and partitions come and
//! go. Every safety check of the harness runs after every event; at the end
//! everything heals and restarts and must converge.

mod sim;

use ccm::TieBreaker;
use sim::{seeds, Params, Sim};

#[test]
fn instances_only_increase_through_churn() {
    for seed in seeds() {
        let mut rng = sim::Rng::new(seed ^ 0x50);
        let nodes = rng.between(2, 8) as usize;
        let configured = nodes + rng.between(0, 2) as usize;
        let tie_breaker = [TieBreaker::None, TieBreaker::LowestNode, TieBreaker::Ping][(seed % 3) as usize];
        let params = Params { nodes, configured, drop: 0.1, tie_breaker, ..Params::default() };
        let mut sim = Sim::new(seed, params);
        let mut highest_seen = vec![0u64; nodes];
        for _ in 0..30 {
            let a = rng.between(0, nodes as u64) as usize;
            let b = rng.between(0, nodes as u64) as usize;
            match rng.between(0, 7) {
                0 if (0..nodes).filter(|&i| sim.alive(i)).count() > 1 => sim.crash(a),
                1 if !sim.alive(a) => sim.restart(a),
                2 => sim.cut(a, b),
                3 => sim.heal(a, b),
                4 => sim.partition(&[(0..nodes).filter(|i| i % 2 == a % 2).collect()]),
                5 => sim.heal_all(),
                _ => {
                    let up = rng.chance(0.7);
                    sim.set_connectivity(a, up);
                }
            }
            let t = rng.between(0, 2500);
            sim.run_for(t);
            // Also visible from outside: the views a node holds only grow.
            for (i, h) in highest_seen.iter_mut().enumerate() {
                if let Some(v) = sim.view(i) {
                    assert!(v.instance >= *h, "seed {seed}: {} went back to {v}", sim.name(i));
                    *h = v.instance;
                }
            }
        }
        sim.heal_all();
        for i in 0..nodes {
            if !sim.alive(i) {
                sim.restart(i);
            }
            sim.set_connectivity(i, true);
        }
        sim.run_until_converged(15_000);
    }
}
