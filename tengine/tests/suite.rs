//! The regression suite's graphs (exp/NAME.exp) and simulations
//! (summary/NAME.summary), read from ../shared/pcmk-suite.

use std::fs;
use std::path::{Path, PathBuf};

use tengine::simulate::{known_in_graph, known_in_status};
use tengine::{run, SimulatedSink, TransitionGraph};

const SUITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/pcmk-suite");

fn cases() -> Vec<(String, PathBuf)> {
    let dir = Path::new(SUITE).join("exp");
    let mut cases: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the suite at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "exp"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    cases.sort();
    assert!(
        cases.len() > 500,
        "suite looks incomplete: {} graphs",
        cases.len()
    );
    cases
}

/// The lines of the "Executing Cluster Transition:" section.
fn executed_lines(summary: &str) -> Vec<String> {
    let mut lines = summary
        .lines()
        .skip_while(|l| *l != "Executing Cluster Transition:");
    assert!(
        lines.next().is_some(),
        "no Executing Cluster Transition section"
    );
    lines
        .take_while(|l| l.starts_with("  * "))
        .map(String::from)
        .collect()
}

#[test]
fn every_graph_round_trips_byte_identical() {
    let mut failures = Vec::new();
    let cases = cases();
    for (name, path) in &cases {
        let text = fs::read_to_string(path).unwrap();
        match TransitionGraph::from_xml(&text) {
            Ok(g) if g.to_xml() == text => {}
            Ok(g) => {
                let out = g.to_xml();
                let line = text
                    .lines()
                    .zip(out.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                failures.push(format!(
                    "{name}: line {}:\n  want {:?}\n  got  {:?}",
                    line + 1,
                    text.lines().nth(line),
                    out.lines().nth(line)
                ));
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_simulation_fires_in_pacemakers_order() {
    let mut failures = Vec::new();
    let cases = cases();
    for (name, path) in &cases {
        let graph = TransitionGraph::from_xml(&fs::read_to_string(path).unwrap()).unwrap();
        let summary = Path::new(SUITE)
            .join("summary")
            .join(format!("{name}.summary"));
        let want = executed_lines(&fs::read_to_string(&summary).unwrap());
        let cib_path = Path::new(SUITE).join("xml").join(format!("{name}.xml"));
        let cib = cib::xml::Document::parse(&fs::read_to_string(&cib_path).unwrap()).unwrap();
        let mut known = known_in_graph(&graph);
        known.extend(known_in_status(&cib.root));
        let mut sink = SimulatedSink::with_resolver(Box::new(move |n| known.contains(n)));
        run(&graph, &mut sink);
        if sink.lines != want {
            let at = want
                .iter()
                .zip(&sink.lines)
                .position(|(a, b)| a != b)
                .unwrap_or(want.len().min(sink.lines.len()));
            failures.push(format!(
                "{name}: line {at}: want {:?} got {:?} ({} vs {} lines)",
                want.get(at),
                sink.lines.get(at),
                want.len(),
                sink.lines.len()
            ));
        }
    }
    let passed = cases.len() - failures.len();
    eprintln!("simulation: {passed} of {} cases match", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every suite graph runs to completion when nothing fails (Pacemaker's
/// crm_simulate reported no failed transition for any of them).
#[test]
fn every_graph_completes_without_failures() {
    for (name, path) in cases() {
        let graph = TransitionGraph::from_xml(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(graph.problems(), vec![], "{name}");
        let outcome = run(&graph, &mut SimulatedSink::for_graph(&graph));
        assert_eq!(
            outcome.status,
            tengine::RunStatus::Complete,
            "{name}: {outcome:?}"
        );
        assert!(
            outcome.never_ran.is_empty() && outcome.failed_actions.is_empty(),
            "{name}"
        );
        assert_eq!(outcome.completed.len(), graph.synapses.len(), "{name}");
    }
}
