//! Anonymous clones of `ocf:heartbeat:Dummy` on three nodes
//! (docs/PENGINE.md, "Clones (tier T3)"): `base-clone`, and `app-clone`
//! ordered after it and colocated with it, interleaved.
//!
//! Each `tests/data/clone_NAME.xml` was run through Pacemaker 2.1.5's own
//! `/usr/sbin/crm_simulate -x FILE -S -D NAME.dot`: its Transition
//! Summary and Executing Cluster Transition sections are in
//! `clone_NAME.expected`, its action graph in `clone_NAME.dot`. Nothing
//! here comes from our own output. The start-up CIB was written by hand;
//! the others are Pacemaker's simulated result of it (`-O`), then:
//!
//! - `steady`: unchanged: nothing to do;
//! - `failed`: a failed monitor of `base` on n2 injected
//!   (`-i base_monitor_10000@n2=1`, saved with `-I`; the failure record
//!   was given the monitor's own `op-digest`, which the injection leaves
//!   out): only n2's `app` restarts, after n2's `base`, since the clones
//!   are interleaved;
//! - `failed_no_interleave`: the same with `interleave=false`: every
//!   `app` instance restarts after the whole `base-clone`;
//! - `node_lost`: both clones with `clone-max=2`, n2 taken down
//!   (`--node-down n2`): its instances start on the spare node n3, `app`
//!   after `base` there.

use std::collections::BTreeSet;

use cib::model::Cib;
use cib::Document;
use pengine::Schedule;

fn run(xml: &str) -> Schedule {
    let doc = Document::parse(xml).expect("well-formed");
    let cib = Cib::from_document(&doc).expect("a CIB");
    pengine::schedule(&cib, pengine::unpack(&cib, 0))
}

/// Pacemaker's Transition Summary lines as printed, and how many actions
/// it executed.
fn expected(text: &str) -> (Vec<String>, usize) {
    let mut summary = Vec::new();
    let mut actions = 0;
    let mut section = "";
    for line in text.lines() {
        match line {
            "Transition Summary:" | "Executing Cluster Transition:" => section = line,
            "" => {}
            _ if section == "Transition Summary:" => summary.push(line.to_string()),
            _ => actions += 1,
        }
    }
    (summary, actions)
}

/// A DOT file as a set of lines: actions and orderings, order-independent.
fn dot_lines(text: &str) -> BTreeSet<String> {
    text.lines().filter(|l| l.starts_with('"')).map(str::to_string).collect()
}

fn check(xml: &str, want: &str, want_dot: &str) {
    let s = run(xml);
    let (summary, n_actions) = expected(want);
    assert_eq!(s.summary_lines(), summary, "Transition Summary");
    let ours = dot_lines(&s.to_dot());
    let theirs = dot_lines(want_dot);
    let missing: Vec<_> = theirs.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&theirs).collect();
    assert!(missing.is_empty() && extra.is_empty(), "DOT differs\nmissing: {missing:#?}\nextra: {extra:#?}");
    let in_graph = (0..s.actions.len()).filter(|a| s.in_graph(*a)).count();
    assert_eq!(in_graph, n_actions, "actions executed");
}

#[test]
fn start_up_starts_app_after_base_on_every_node() {
    check(include_str!("data/clone_startup.xml"), include_str!("data/clone_startup.expected"), include_str!("data/clone_startup.dot"));
}

#[test]
fn a_settled_cluster_does_nothing() {
    check(include_str!("data/clone_steady.xml"), include_str!("data/clone_steady.expected"), include_str!("data/clone_steady.dot"));
}

#[test]
fn a_failed_instance_restarts_only_its_interleaved_peer() {
    check(include_str!("data/clone_failed.xml"), include_str!("data/clone_failed.expected"), include_str!("data/clone_failed.dot"));
}

#[test]
fn without_interleave_a_failed_instance_restarts_every_dependent_instance() {
    check(
        include_str!("data/clone_failed_no_interleave.xml"),
        include_str!("data/clone_failed_no_interleave.expected"),
        include_str!("data/clone_failed_no_interleave.dot"),
    );
}

#[test]
fn a_lost_node_moves_its_instances_to_the_spare_node() {
    check(include_str!("data/clone_node_lost.xml"), include_str!("data/clone_node_lost.expected"), include_str!("data/clone_node_lost.dot"));
}
