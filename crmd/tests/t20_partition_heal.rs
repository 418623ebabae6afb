//! Invariant: after a partition heals, one DC.
//!
//! Clusters of 2 to 6 nodes are split into random groups (each group
//! settles on its own DC), then healed: the cluster must end with exactly
//! one DC that every node joined. Some splits are healed before they
//! settle.

mod sim;

use sim::{seeds, Params, Sim};

fn random_groups(sim: &mut Sim) -> Vec<Vec<usize>> {
    let n = sim.len();
    let k = sim.rng().between(2, 4) as usize;
    let mut groups = vec![Vec::new(); k];
    for i in 0..n {
        let g = sim.rng().between(0, k as u64) as usize;
        groups[g].push(i);
    }
    groups.retain(|g| !g.is_empty());
    groups
}

#[test]
fn one_dc_after_a_partition_heals() {
    for seed in seeds() {
        let mut rng = sim::Rng::new(seed ^ 0x20);
        let nodes = rng.between(2, 7) as usize;
        let drop = [0.0, 0.03][(seed % 2) as usize];
        let mut sim = Sim::new(seed, Params { nodes, drop, ..Params::default() });
        sim.run_until_converged(120_000);
        for _ in 0..3 {
            let groups = random_groups(&mut sim);
            sim.partition(&groups);
            if sim.rng().chance(0.7) {
                sim.run_until_converged(120_000);
                let components = sim.components().len();
                assert_eq!(sim.dcs().len(), components, "seed {seed}: one DC per side\n{}", sim.describe());
            } else {
                let ms = sim.rng().between(0, 3000);
                sim.run_for(ms);
            }
            sim.heal();
            sim.run_until_converged(120_000);
            assert_eq!(sim.dcs().len(), 1, "seed {seed}: healed\n{}", sim.describe());
        }
    }
}
