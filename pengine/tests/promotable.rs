//! A promotable clone of `ocf:heartbeat:Stateful` (Debian's
//! resource-agents) on two nodes, through start-up, a better promotion
//! score elsewhere, a promotion score withdrawn with crm_attribute, a
//! failed demote, standby, a failed promoted monitor and node loss.
//! Every expected line is what Pacemaker 2.1.5's `crm_simulate -S`
//! printed for the same CIB (tests/data/promotable_*.xml: the start-up
//! CIB written by hand, the others produced from it by Pacemaker's own
//! simulation, `-O`, with `master-db`/`standby` edited or `-i`/`--node-down`
//! injected and saved with `-I`; the withdrawn score by Pacemaker's
//! `crm_attribute -D` on that file). The last two also compare the DOT
//! graph with Pacemaker's `-D` output (`*.dot`).

use cib::model::Cib;
use cib::Document;
use pengine::Schedule;

fn run(xml: &str) -> Schedule {
    let doc = Document::parse(xml).expect("well-formed");
    let cib = Cib::from_document(&doc).expect("a CIB");
    pengine::schedule(&cib, pengine::unpack(&cib, 0))
}

/// The actions that will run, as crm_simulate names them
/// (`promote n1`, `monitor=10000 n1`, `db-clone_promote_0`), sorted.
fn required(s: &Schedule) -> Vec<String> {
    let mut v: Vec<String> = s
        .actions
        .iter()
        .filter(|a| !a.optional && a.runnable && a.rsc.is_some())
        .map(|a| {
            let rsc = s.ws.rsc(a.rsc.unwrap());
            if a.pseudo {
                return format!("{}_{}_0", rsc.id, a.task);
            }
            let node = a.node.map(|n| s.ws.node(n).uname.clone()).unwrap_or_default();
            let task = if a.interval_ms > 0 { format!("{}={}", a.task, a.interval_ms) } else { a.task.clone() };
            format!("{task} {node}")
        })
        .collect();
    v.sort();
    v
}

fn check(xml: &str, summary: &[&str], actions: &[&str]) {
    let s = run(xml);
    assert_eq!(s.summary_lines(), summary);
    let mut want: Vec<String> = actions.iter().map(|a| a.to_string()).collect();
    want.sort();
    assert_eq!(required(&s), want);
}

#[test]
fn start_up_promotes_where_the_promotion_score_is_highest() {
    check(
        include_str!("data/promotable_fresh.xml"),
        &["  * Promote    db:0    ( Stopped -> Promoted n2 )", "  * Start      db:1    (                     n1 )"],
        &[
            "monitor n2",
            "monitor n1",
            "db-clone_start_0",
            "start n2",
            "start n1",
            "db-clone_running_0",
            "monitor=11000 n1",
            "db-clone_promote_0",
            "promote n2",
            "db-clone_promoted_0",
            "monitor=10000 n2",
        ],
    );
}

#[test]
fn a_settled_cluster_does_nothing() {
    check(include_str!("data/promotable_steady.xml"), &[], &[]);
}

#[test]
fn a_higher_promotion_score_moves_the_promoted_role() {
    check(
        include_str!("data/promotable_better_peer.xml"),
        &["  * Promote    db:0    ( Unpromoted -> Promoted n1 )", "  * Demote     db:1    ( Promoted -> Unpromoted n2 )"],
        &[
            "cancel=11000 n1",
            "cancel=10000 n2",
            "db-clone_demote_0",
            "demote n2",
            "db-clone_demoted_0",
            "db-clone_promote_0",
            "promote n1",
            "monitor=11000 n2",
            "db-clone_promoted_0",
            "monitor=10000 n1",
        ],
    );
}

#[test]
fn standby_of_the_promoted_node_promotes_the_other() {
    check(
        include_str!("data/promotable_standby.xml"),
        &["  * Promote    db:0    ( Unpromoted -> Promoted n1 )", "  * Stop       db:1    (               Promoted n2 )  due to node availability"],
        &[
            "cancel=11000 n1",
            "db-clone_demote_0",
            "demote n2",
            "db-clone_demoted_0",
            "db-clone_stop_0",
            "stop n2",
            "db-clone_stopped_0",
            "db-clone_promote_0",
            "promote n1",
            "db-clone_promoted_0",
            "monitor=10000 n1",
        ],
    );
}

#[test]
fn a_failed_promoted_instance_is_recovered_in_place() {
    check(
        include_str!("data/promotable_failed.xml"),
        &["  * Recover    db:1    ( Promoted n2 )"],
        &[
            "db-clone_demote_0",
            "demote n2",
            "db-clone_demoted_0",
            "db-clone_stop_0",
            "stop n2",
            "db-clone_stopped_0",
            "db-clone_start_0",
            "start n2",
            "db-clone_running_0",
            "db-clone_promote_0",
            "promote n2",
            "monitor=10000 n2",
            "db-clone_promoted_0",
        ],
    );
}

#[test]
fn losing_the_promoted_node_promotes_the_survivor() {
    check(
        include_str!("data/promotable_node_down.xml"),
        &["  * Promote    db:0    ( Unpromoted -> Promoted n1 )"],
        &["cancel=11000 n1", "db-clone_promote_0", "promote n1", "db-clone_promoted_0", "monitor=10000 n1"],
    );
}

/// The action graph as DOT equals Pacemaker's `crm_simulate -D` for the
/// same CIB (compared as sets of lines: actions and orderings).
fn check_dot(xml: &str, expected_dot: &str) {
    let s = run(xml);
    let lines = |t: &str| -> std::collections::BTreeSet<String> { t.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect() };
    let ours = s.to_dot();
    let (want, got) = (lines(expected_dot), lines(&ours));
    let missing: Vec<&String> = want.difference(&got).collect();
    let extra: Vec<&String> = got.difference(&want).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:#?}\nextra {extra:#?}");
}

/// The agent withdraws the promoted node's promotion score
/// (`crm_attribute -N n2 -n master-db -D -l reboot`, what Stateful's
/// `crm_master -D` does): the other node, which keeps one, is promoted.
#[test]
fn a_withdrawn_promotion_score_moves_the_promoted_role() {
    let xml = include_str!("data/promotable_score_withdrawn.xml");
    check(
        xml,
        &["  * Promote    db:0    ( Unpromoted -> Promoted n1 )", "  * Demote     db:1    ( Promoted -> Unpromoted n2 )"],
        &[
            "cancel=11000 n1",
            "cancel=10000 n2",
            "db-clone_demote_0",
            "demote n2",
            "db-clone_demoted_0",
            "db-clone_promote_0",
            "promote n1",
            "monitor=11000 n2",
            "db-clone_promoted_0",
            "monitor=10000 n1",
        ],
    );
    check_dot(xml, include_str!("data/promotable_score_withdrawn.dot"));
}

/// That demotion failed (injected by Pacemaker's own `crm_simulate -i
/// db_demote_0@n2=1`): the instance is recovered as unpromoted on n2
/// and n1 is promoted once it has stopped and started again.
#[test]
fn a_failed_demote_recovers_the_instance_and_promotes_the_peer() {
    let xml = include_str!("data/promotable_demote_failed.xml");
    check(
        xml,
        &["  * Promote    db:0    ( Unpromoted -> Promoted n1 )", "  * Recover    db:1    (             Unpromoted n2 )"],
        &[
            "cancel=11000 n1",
            "db-clone_stop_0",
            "stop n2",
            "db-clone_stopped_0",
            "db-clone_start_0",
            "start n2",
            "db-clone_running_0",
            "monitor=11000 n2",
            "db-clone_promote_0",
            "promote n1",
            "db-clone_promoted_0",
            "monitor=10000 n1",
        ],
    );
    check_dot(xml, include_str!("data/promotable_demote_failed.dot"));
}
