//! The two-node rule (docs/CCM.md, "Quorum"): in a cluster of two
//! configured nodes, a survivor keeps quorum after a split or its peer's
//! death (both may, after a split: fencing decides), but a node that boots
//! alone has no quorum until it has seen its peer.

mod sim;

use sim::{seeds, Params, Sim};

#[test]
fn two_node_survivors_keep_quorum_and_boots_wait_for_the_peer() {
    for seed in seeds() {
        let params = Params { nodes: 2, configured: 2, drop: 0.05, ..Params::default() };
        let mut sim = Sim::new(seed, params);
        sim.run_until_converged(10_000);
        assert!(sim.view(0).unwrap().quorum, "seed {seed}");

        sim.partition(&[vec![0], vec![1]]);
        sim.run_until_converged(10_000);
        for i in 0..2 {
            let v = sim.view(i).unwrap();
            assert_eq!(v.members.len(), 1, "seed {seed}");
            assert!(v.quorum, "seed {seed}: survivor {i} lost quorum: {v}");
        }

        // n2 reboots while still cut off: it waits for its peer.
        sim.crash(1);
        sim.restart(1);
        sim.run_until_converged(10_000);
        assert!(!sim.view(1).unwrap().quorum, "seed {seed}: {}", sim.describe());
        assert!(sim.view(0).unwrap().quorum, "seed {seed}");

        sim.heal_all();
        sim.run_until_converged(10_000);
        let v = sim.view(0).unwrap();
        assert_eq!(v.members.len(), 2, "seed {seed}");
        assert!(v.quorum, "seed {seed}");

        // Without the rule, a lone survivor has no quorum.
        let params = Params { nodes: 2, configured: 2, two_node: Some(false), ..Params::default() };
        let mut strict = Sim::new(seed, params);
        strict.run_until_converged(10_000);
        strict.crash(1);
        strict.run_until_converged(10_000);
        assert!(!strict.view(0).unwrap().quorum, "seed {seed}");
    }
}
