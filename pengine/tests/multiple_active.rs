//! `multiple-active`: a primitive found running on two nodes (a healed
//! split brain, docs/SPLIT_BRAIN.md). Checked against Pacemaker 2.1.5's
//! crm_simulate on the same CIB (tests/data/multiply_active.xml: IP runs
//! on n1 and n2, n2 preferred).

use cib::model::Cib;
use cib::Document;
use pengine::Schedule;

fn run(policy: &str) -> Schedule {
    let xml = include_str!("data/multiply_active.xml").replace("stop_unexpected", policy);
    let doc = Document::parse(&xml).expect("well-formed");
    let cib = Cib::from_document(&doc).expect("a CIB");
    pengine::schedule(&cib, pengine::unpack(&cib, 0))
}

/// The actions that will run: `task node pseudo?`, sorted.
fn required(s: &Schedule) -> Vec<String> {
    let mut v: Vec<String> = s
        .actions
        .iter()
        .filter(|a| !a.optional && a.runnable && a.rsc.is_some())
        .map(|a| {
            let node = a.node.map(|n| s.ws.node(n).uname.clone()).unwrap_or_default();
            format!("{}_{} {}{}", a.task, a.interval_ms, node, if a.pseudo { " pseudo" } else { "" })
        })
        .collect();
    v.sort();
    v
}

#[test]
fn stop_unexpected_stops_only_the_copy_the_policy_does_not_want() {
    let s = run("stop_unexpected");
    // Pacemaker: stop on n1, a pseudo start, the monitor on n2; n2's copy
    // is never stopped.
    assert_eq!(required(&s), ["monitor_10000 n2", "start_0 n2 pseudo", "stop_0 n1"]);
    let reason = s.actions.iter().find(|a| a.task == "stop").and_then(|a| a.reason.clone());
    assert_eq!(reason.as_deref(), Some("being multiply active"));
}

#[test]
fn stop_start_default_stops_every_copy_then_starts_one() {
    let s = run("stop_start");
    assert_eq!(required(&s), ["monitor_10000 n2", "start_0 n2", "stop_0 n1", "stop_0 n2"]);
}
