//! Invariant: once stable, all members of a view agree on it (same instance,
//! same member list, same quorum), and that view is everyone running.
//!
//! Clusters of 1 to 7 nodes (some configured nodes never started) boot at
//! random moments over a lossy, reordering network and must converge.

mod sim;

use sim::{seeds, Params, Sim};

#[test]
fn booting_clusters_converge_to_one_view() {
    for seed in seeds() {
        let mut rng = sim::Rng::new(seed ^ 0x10);
        let nodes = rng.between(1, 8) as usize;
        let configured = nodes + rng.between(0, 3) as usize;
        let params = Params { nodes, configured, drop: 0.05, ..Params::default() };
        let mut sim = Sim::new(seed, params);
        sim.run_until_converged(10_000);
        let v = sim.view(0).unwrap().clone();
        assert_eq!(v.members, sim.alive_names(), "seed {seed}");
        let expect_quorum = if configured == 2 && nodes == 2 { true } else { sim.majority(&v.members) };
        assert_eq!(v.quorum, expect_quorum, "seed {seed}: {v}");
        assert_eq!(v.leader, "n1", "seed {seed}: the lowest name leads");
        // Stable means stable: nothing changes in a quiet minute.
        sim.run_for(60_000);
        for i in 0..sim.len() {
            assert_eq!(sim.view(i), Some(&v), "seed {seed}: {}", sim.describe());
        }
    }
}

#[test]
fn a_node_joining_later_gets_a_higher_instance_everywhere() {
    for seed in seeds() {
        let params = Params { nodes: 4, configured: 4, drop: 0.05, ..Params::default() };
        let mut sim = Sim::new(seed, params);
        sim.crash(3);
        sim.run_until_converged(10_000);
        let before = sim.view(0).unwrap().instance;
        assert_eq!(sim.view(0).unwrap().members.len(), 3);
        sim.restart(3);
        sim.run_until_converged(10_000);
        let after = sim.view(3).unwrap();
        assert!(after.instance > before, "seed {seed}");
        assert_eq!(after.members.len(), 4, "seed {seed}");
        assert!(after.quorum);
    }
}
