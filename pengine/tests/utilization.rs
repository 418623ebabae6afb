//! Utilization and `placement-strategy` (docs/PENGINE_UTILIZATION.md):
//! `ocf:heartbeat:Dummy` resources with `cpu`/`memory` utilization on
//! nodes with capacities, under each strategy.
//!
//! Each `tests/data/utilization_NAME.xml` was run through Pacemaker
//! 2.1.5's own `/usr/sbin/crm_simulate -x FILE -S -D NAME.dot`; its
//! Transition Summary and Executing Cluster Transition sections are in
//! `utilization_NAME.expected`, its action graph in `utilization_NAME.dot`.
//! Nothing here comes from our own output. The start-up CIBs were written
//! by hand; `move` is Pacemaker's simulated result (`-O`) of a start-up
//! CIB with both resources placed on n1, with n1's cpu capacity then
//! lowered from 2 to 1.
//!
//! - `default`: capacities are ignored; three resources on two nodes.
//! - `utilization`: the same CIB under `utilization`: r3 (priority 10)
//!   goes first, r1 fills the other node, r2 has no room left.
//! - `minimal`: three small resources all go to n1 (nodes by name).
//! - `balanced`: each resource goes to the node with the most free
//!   capacity, counted name by name.
//! - `group`: a group (cpu 1 + 2) and a primitive colocated with it
//!   (cpu 1): no node has room for all three, so the group goes where
//!   most is free and the primitive stays stopped.
//! - `clone`: an anonymous clone of four instances at most two per node.
//! - `move`: n1 shrank: r2 moves, its stop ordered before
//!   `load_stopped_n1`, `load_stopped_n2` before its start.
//!
//! Three more come from random CIBs (strategy, capacities, utilization,
//! groups, colocations, locations, stickiness drawn at random; the third
//! is Pacemaker's simulated result of one with some capacities then
//! changed), kept because they once differed from Pacemaker:
//!
//! - `balanced_ties`: comparing free capacities is not transitive, so
//!   the order nodes are sorted from (GLib's hash table) and the sort
//!   algorithm decide;
//! - `most_free_tie`: nothing fits a resource and its colocated one, and
//!   two nodes are equally free: the hash table's order picks;
//! - `assignment_order`: a running group and sticky primitives, the group
//!   sorted by its last member's scores.

use std::collections::BTreeSet;

use cib::model::Cib;
use cib::Document;
use pengine::Schedule;

fn run(xml: &str) -> Schedule {
    let doc = Document::parse(xml).expect("well-formed");
    let cib = Cib::from_document(&doc).expect("a CIB");
    pengine::schedule(&cib, pengine::unpack(&cib, 0))
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Pacemaker's two sections: summary lines as printed, action lines with
/// whitespace collapsed (their execution order is the simulator's).
fn expected(text: &str) -> (Vec<String>, BTreeSet<String>) {
    let mut summary = Vec::new();
    let mut actions = BTreeSet::new();
    let mut section = "";
    for line in text.lines() {
        match line {
            "Transition Summary:" | "Executing Cluster Transition:" => section = line,
            "" => {}
            _ if section == "Transition Summary:" => summary.push(line.to_string()),
            _ => {
                actions.insert(collapse(line));
            }
        }
    }
    (summary, actions)
}

/// What crm_simulate prints for each action of our graph.
fn our_actions(s: &Schedule) -> BTreeSet<String> {
    (0..s.actions.len())
        .filter(|a| s.in_graph(*a))
        .filter_map(|a| {
            let act = &s.actions[a];
            if act.pseudo {
                return Some(format!("* Pseudo action: {}", s.action_key(a)));
            }
            let id = &s.ws.rsc(act.rsc?).id;
            let node = &s.ws.node(act.node?).uname;
            let task = if act.interval_ms > 0 { format!("{}={}", act.task, act.interval_ms) } else { act.task.clone() };
            Some(format!("* Resource action: {id} {task} on {node}"))
        })
        .collect()
}

/// The DOT lines (actions and orderings) that name a `load_stopped`
/// pseudo-action.
fn load_lines(dot: &str) -> BTreeSet<String> {
    dot.lines().filter(|l| l.contains("load_stopped")).map(collapse).collect()
}

fn check(xml: &str, pacemaker: &str, pacemaker_dot: &str) {
    let s = run(xml);
    let (summary, actions) = expected(pacemaker);
    assert_eq!(s.summary_lines(), summary, "Transition Summary");
    assert_eq!(our_actions(&s), actions, "executed actions");
    assert_eq!(load_lines(&s.to_dot()), load_lines(pacemaker_dot), "load_stopped in the action graph");
}

macro_rules! case {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            check(
                include_str!(concat!("data/utilization_", $name, ".xml")),
                include_str!(concat!("data/utilization_", $name, ".expected")),
                include_str!(concat!("data/utilization_", $name, ".dot")),
            );
        }
    };
}

case!(default_strategy_ignores_capacity, "default");
case!(utilization_strategy_places_by_priority_within_capacity, "utilization");
case!(minimal_strategy_fills_nodes_in_name_order, "minimal");
case!(balanced_strategy_prefers_the_most_free_capacity, "balanced");
case!(group_and_its_colocated_primitive_go_where_most_is_free, "group");
case!(clone_instances_count_against_capacity, "clone");
case!(a_shrunk_node_moves_a_resource_through_load_stopped, "move");
case!(balanced_sorting_starts_from_hash_table_order, "balanced_ties");
case!(equally_free_nodes_are_taken_in_hash_table_order, "most_free_tie");
case!(groups_are_ordered_by_their_last_member, "assignment_order");
