//! Invariant: at most one DC per membership view once stable.
//!
//! Clusters of 1 to 6 nodes start at random times with message loss and
//! reordering. Each must converge (one idle DC that every member joined);
//! from then on, while nothing fails, no event may produce a second DC for
//! a view, and the DC must not change.

mod sim;

use sim::{seeds, Params, Sim};

#[test]
fn one_dc_per_view_once_stable() {
    for seed in seeds() {
        let mut rng = sim::Rng::new(seed ^ 0x10);
        let nodes = rng.between(1, 7) as usize;
        let drop = [0.0, 0.02, 0.1][(seed % 3) as usize];
        let mut sim = Sim::new(seed, Params { nodes, drop, ..Params::default() });
        // Every node has started after 2 s.
        sim.run_for(2000);
        sim.run_until_converged(120_000);
        let dcs = sim.dcs();
        assert_eq!(dcs.len(), 1, "seed {seed}:\n{}", sim.describe());
        let until = sim.now + 30_000;
        sim.run_until_with(until, |s| {
            if let Err(e) = s.at_most_one_dc_per_view() {
                panic!("seed {seed}: {e}\n{}", s.describe());
            }
            assert_eq!(s.dcs(), dcs, "seed {seed}: the DC changed while stable\n{}", s.describe());
        });
        assert!(sim.converged(), "seed {seed}: lost convergence while stable\n{}", sim.describe());
    }
}
