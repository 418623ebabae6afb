//! Structural checks on a graph: what would make the executor stall or
//! confuse two actions. Pacemaker's executor does not check these up front;
//! it simply never finishes ("Terminated"). Checking lets crmd and
//! crm_simulate say why.

use std::collections::{HashMap, VecDeque};

use crate::graph::TransitionGraph;

/// One structural problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Two actions share an id; results for them cannot be told apart.
    DuplicateAction { id: i32 },
    /// A synapse waits for an action no synapse contains: it can never fire.
    MissingInput { synapse: i32, input: i32 },
    /// These synapses wait on each other, directly or through others.
    Cycle { synapses: Vec<i32> },
}

impl TransitionGraph {
    /// Every structural problem, in graph order (empty for a sound graph).
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut owner: HashMap<i32, usize> = HashMap::new();
        for (s, a) in self.actions() {
            if owner.insert(a.id(), s).is_some() {
                problems.push(Problem::DuplicateAction { id: a.id() });
            }
        }

        // Edges from the synapse owning an input to the synapse waiting on it.
        let n = self.synapses.len();
        let mut waiting_on = vec![0usize; n];
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (s, syn) in self.synapses.iter().enumerate() {
            for input in &syn.inputs {
                match owner.get(&input.id) {
                    Some(&from) => {
                        dependents[from].push(s);
                        waiting_on[s] += 1;
                    }
                    None => problems.push(Problem::MissingInput {
                        synapse: syn.id,
                        input: input.id,
                    }),
                }
            }
        }

        // Kahn's algorithm: whatever cannot be ordered lies on or behind a cycle.
        let mut queue: VecDeque<usize> = (0..n).filter(|&s| waiting_on[s] == 0).collect();
        let mut ordered = vec![false; n];
        while let Some(s) = queue.pop_front() {
            ordered[s] = true;
            for &d in &dependents[s] {
                waiting_on[d] -= 1;
                if waiting_on[d] == 0 {
                    queue.push_back(d);
                }
            }
        }
        let stuck: Vec<i32> = (0..n)
            .filter(|&s| !ordered[s])
            .map(|s| self.synapses[s].id)
            .collect();
        if !stuck.is_empty() {
            problems.push(Problem::Cycle { synapses: stuck });
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Action, ActionHeader, ActionKind, GraphAttrs, Synapse};

    fn pseudo(id: i32) -> Action {
        Action::new(ActionHeader::new(
            ActionKind::PseudoEvent,
            id,
            "p",
            &format!("p{id}"),
        ))
    }

    fn graph(edges: &[(i32, &[i32])]) -> TransitionGraph {
        let mut g = TransitionGraph::new(GraphAttrs::new(0));
        for (i, (id, inputs)) in edges.iter().enumerate() {
            g.synapses.push(Synapse {
                id: i as i32,
                priority: 0,
                actions: vec![pseudo(*id)],
                inputs: inputs.iter().map(|&x| pseudo(x).header).collect(),
            });
        }
        g
    }

    #[test]
    fn sound_graph() {
        assert!(graph(&[(1, &[]), (2, &[1]), (3, &[1, 2])])
            .problems()
            .is_empty());
    }

    #[test]
    fn problems_found() {
        let g = graph(&[
            (1, &[]),
            (1, &[]),
            (3, &[9]),
            (4, &[5]),
            (5, &[4]),
            (6, &[5]),
        ]);
        assert_eq!(
            g.problems(),
            vec![
                Problem::DuplicateAction { id: 1 },
                Problem::MissingInput {
                    synapse: 2,
                    input: 9
                },
                Problem::Cycle {
                    synapses: vec![3, 4, 5]
                },
            ]
        );
    }
}
