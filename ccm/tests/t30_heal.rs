//! Invariant: a healed partition converges to one view.
//!
//! Random partitions and single link cuts (which make connectivity
//! non-transitive, so no agreement is possible until they heal) come and
//! go; once everything heals, all nodes must install one common view of
//! everyone, with quorum, within a bound.

mod sim;

use sim::{seeds, Params, Sim};

#[test]
fn healed_partitions_converge_to_one_view() {
    for seed in seeds() {
        let mut rng = sim::Rng::new(seed ^ 0x30);
        let nodes = rng.between(2, 8) as usize;
        let params = Params { nodes, configured: nodes, drop: 0.05, ..Params::default() };
        let mut sim = Sim::new(seed, params);
        for _ in 0..6 {
            let a = sim.rng().between(0, nodes as u64) as usize;
            let b = sim.rng().between(0, nodes as u64) as usize;
            match sim.rng().between(0, 3) {
                0 => sim.cut(a, b),
                1 => sim.heal(a, b),
                _ => {
                    let groups: Vec<Vec<usize>> = (0..nodes).fold(vec![vec![], vec![]], |mut g, i| {
                        g[(i + a) % 2].push(i);
                        g
                    });
                    sim.partition(&groups)
                }
            }
            let t = sim.rng().between(0, 4000);
            sim.run_for(t);
        }
        sim.heal_all();
        // Heartbeat needs at most its up delay to see everyone again; then
        // a few rounds.
        let took = sim.run_until_converged(10_000);
        let v = sim.view(0).unwrap().clone();
        assert_eq!(v.members, sim.alive_names(), "seed {seed}");
        assert!(v.quorum, "seed {seed}: {v}");
        assert!(took <= 10_000);
    }
}
