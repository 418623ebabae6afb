//! Invariant: a crashed node is removed from the view of the others within
//! a bounded time after heartbeat reports it dead.
//!
//! In a settled cluster, a minority of nodes crash at once (the rest keep
//! quorum). From the moment heartbeat has reported every crashed node dead
//! on every survivor, the survivors must all hold a view without them within
//! `BOUND` ms: ten retry intervals, with 5% of messages lost.

mod sim;

use sim::{seeds, Params, Sim};

const RETRY: u64 = 200;
const BOUND: u64 = 10 * RETRY;

#[test]
fn crashed_nodes_leave_the_view_within_a_bound() {
    let mut worst = 0;
    for seed in seeds() {
        let mut rng = sim::Rng::new(seed ^ 0x40);
        let nodes = rng.between(3, 8) as usize;
        let params = Params { nodes, configured: nodes, drop: 0.05, retry: RETRY, ..Params::default() };
        let mut sim = Sim::new(seed, params);
        sim.run_until_converged(10_000);
        let crashes = rng.between(1, (nodes as u64 - 1) / 2 + 1) as usize;
        let mut crashed = Vec::new();
        while crashed.len() < crashes {
            let i = rng.between(0, nodes as u64) as usize;
            if !crashed.contains(&i) {
                crashed.push(i);
                sim.crash(i);
            }
        }
        let names: Vec<String> = crashed.iter().map(|&i| sim.name(i).to_owned()).collect();
        let survivors: Vec<usize> = (0..nodes).filter(|i| !crashed.contains(i)).collect();
        let gone_from = |sim: &Sim, set: &dyn Fn(&Sim, usize) -> bool| survivors.iter().all(|&i| set(sim, i));
        // Until heartbeat everywhere has reported the crashes...
        while !gone_from(&sim, &|s, i| names.iter().all(|n| !s.up_set(i).unwrap().contains(n))) {
            sim.run_for(1);
        }
        let reported = sim.now;
        // ...then until every survivor's view is without them.
        while !gone_from(&sim, &|s, i| s.view(i).is_some_and(|v| names.iter().all(|n| !v.members.contains(n)))) {
            sim.run_for(1);
            assert!(sim.now - reported <= BOUND, "seed {seed}: {:?} still in a view: {}", names, sim.describe());
        }
        worst = worst.max(sim.now - reported);
        // And they agree, with quorum.
        sim.run_until_converged(BOUND);
        let v = sim.view(survivors[0]).unwrap();
        assert!(v.quorum, "seed {seed}: {v}");
    }
    eprintln!("worst removal after the last dead report: {worst} ms (bound {BOUND})");
}
