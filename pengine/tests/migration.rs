//! Live migration (docs/PENGINE_MIGRATION.md) on three nodes: `vm`, an
//! `ocf:heartbeat:Dummy` with `allow-migrate=true`, and `web`, a Dummy
//! ordered after it (`vm then web`, mandatory) that runs on n3. A
//! location constraint (INFINITY) says where `vm` belongs.
//!
//! Each `tests/data/migration_NAME.xml` was run through Pacemaker 2.1.5's
//! own `/usr/sbin/crm_simulate -x FILE -S -G NAME.graph.xml`; its
//! Transition Summary and Executing Cluster Transition sections are in
//! `migration_NAME.expected` and its transition graph in
//! `migration_NAME.graph.xml`. Nothing here comes from our own output.
//!
//! - `move`: vm runs on n1, the constraint wants n2: migrate_to,
//!   migrate_from, stop, pseudo start; web is left alone.
//! - `partial`: migrate_to n1 -> n2 succeeded, no migrate_from: the
//!   migration continues with only a migrate_from.
//! - `failed_migrate_to`: the migrate_to failed: active on both ends
//!   (FAILED), recovered by stops and a start, no new migration.
//! - `dangling`: migrate_to and migrate_from both done, no stop on n1
//!   yet: only that stop.
//! - `partial_retarget`: a partial migration n1 -> n2 while the
//!   constraint now wants n3: stopped on both, started on n3.
//! - `move_not_allowed`: `move` with `allow-migrate=false`.

use std::collections::{BTreeMap, BTreeSet};

use cib::model::Cib;
use cib::Document;
use pengine::Schedule;
use tengine::graph::TransitionGraph;

fn cib(xml: &str) -> Cib {
    let doc = Document::parse(xml).expect("well-formed");
    Cib::from_document(&doc).expect("a CIB")
}

fn run(cib: &Cib) -> Schedule {
    pengine::schedule(cib, pengine::unpack(cib, 0))
}

/// The two sections of Pacemaker's output: summary lines as printed,
/// action lines with their whitespace collapsed (the execution order of
/// independent actions is the simulator's, so they are compared as a set).
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

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What crm_simulate would print for each action in our graph.
fn our_actions(s: &Schedule) -> BTreeSet<String> {
    (0..s.actions.len())
        .filter(|a| s.in_graph(*a))
        .filter_map(|a| {
            let act = &s.actions[a];
            let r = act.rsc?;
            let id = &s.ws.rsc(r).id;
            if act.pseudo {
                return Some(format!("* Pseudo action: {}", s.action_key(a)));
            }
            let node = &s.ws.node(act.node?).uname;
            let task = if act.interval_ms > 0 { format!("{}={}", act.task, act.interval_ms) } else { act.task.clone() };
            Some(format!("* Resource action: {id} {task} on {node}"))
        })
        .collect()
}

/// An action's migration meta-attributes and the keys of its inputs.
type Shape = (Vec<(String, String)>, BTreeSet<String>);

/// Per action key, its [`Shape`], for comparing graphs whose action ids
/// differ.
fn graph_shape(g: &TransitionGraph) -> BTreeMap<String, Shape> {
    let mut keyed = BTreeMap::new();
    for syn in &g.synapses {
        for a in &syn.actions {
            let meta: Vec<(String, String)> = ["CRM_meta_migrate_source", "CRM_meta_migrate_target", "CRM_meta_record_pending"]
                .iter()
                .filter_map(|k| a.attributes.get(k).map(|v| (k.to_string(), v.to_string())))
                .collect();
            let inputs = syn.inputs.iter().map(|i| format!("{} {}", i.operation_key, i.on_node.as_deref().unwrap_or(""))).collect();
            keyed.insert(format!("{} {}", a.header.operation_key, a.header.on_node.as_deref().unwrap_or("")), (meta, inputs));
        }
    }
    keyed
}

fn check(xml: &str, pacemaker_output: &str, pacemaker_graph: &str) {
    let cib = cib(xml);
    let s = run(&cib);
    let (summary, actions) = expected(pacemaker_output);
    assert_eq!(s.summary_lines(), summary, "Transition Summary");
    assert_eq!(our_actions(&s), actions, "actions in the graph");
    let theirs = TransitionGraph::from_xml(pacemaker_graph).expect("Pacemaker's graph parses");
    assert_eq!(graph_shape(&s.transition_graph(&cib)), graph_shape(&theirs), "graph: migration meta and inputs");
}

#[test]
fn a_moved_resource_migrates_and_what_follows_it_stays() {
    check(include_str!("data/migration_move.xml"), include_str!("data/migration_move.expected"), include_str!("data/migration_move.graph.xml"));
}

#[test]
fn a_partial_migration_continues_with_migrate_from() {
    check(include_str!("data/migration_partial.xml"), include_str!("data/migration_partial.expected"), include_str!("data/migration_partial.graph.xml"));
}

#[test]
fn a_failed_migrate_to_is_recovered_without_migrating() {
    check(
        include_str!("data/migration_failed_migrate_to.xml"),
        include_str!("data/migration_failed_migrate_to.expected"),
        include_str!("data/migration_failed_migrate_to.graph.xml"),
    );
}

#[test]
fn a_dangling_migration_stops_the_source() {
    check(include_str!("data/migration_dangling.xml"), include_str!("data/migration_dangling.expected"), include_str!("data/migration_dangling.graph.xml"));
}

#[test]
fn a_partial_migration_to_a_node_no_longer_chosen_restarts() {
    check(
        include_str!("data/migration_partial_retarget.xml"),
        include_str!("data/migration_partial_retarget.expected"),
        include_str!("data/migration_partial_retarget.graph.xml"),
    );
}

/// Without allow-migrate the same move is a stop and a start, and the
/// mandatory order restarts web.
#[test]
fn without_allow_migrate_a_move_is_a_restart() {
    check(
        include_str!("data/migration_move_not_allowed.xml"),
        include_str!("data/migration_move_not_allowed.expected"),
        include_str!("data/migration_move_not_allowed.graph.xml"),
    );
}
