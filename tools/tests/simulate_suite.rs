//! crm_simulate's simulated execution against Pacemaker 2.1.5's scheduler
//! regression suite, independent of our scheduler: for every case, the
//! suite's expected graph (exp/NAME.exp) runs against xml/NAME.xml through
//! `tools::simulate`, and what we print from "Executing Cluster
//! Transition:" to the end (executed actions, the date notice, "Revised
//! Cluster Status") must equal summary/NAME.summary from that line on.
//!
//! tools/tests/simulate.pass is a ratchet: every case listed must pass; a
//! case that passes but is not listed is reported so it can be added
//! (`SIMULATE_WRITE_PASS=1` rewrites the file). Per-tier counts are
//! printed with `cargo test -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use cib::model::Cib;
use cib::Document;
use tengine::TransitionGraph;
use tools::simulate::{self, Injections};

fn suite() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/pcmk-suite"))
}

/// The summary from "Executing Cluster Transition:" to the end.
fn expected_tail(summary: &str) -> String {
    match summary.find("Executing Cluster Transition:\n") {
        Some(i) => summary[i..].to_string(),
        None => String::new(),
    }
}

/// Our text for one case; the suite's summaries were written without
/// the "Setting effective cluster time" notice, so it is left out.
fn ours(name: &str, args: &str) -> Result<String, String> {
    let read = |dir: &str, ext: &str| {
        let p = suite().join(dir).join(format!("{name}.{ext}"));
        std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
    };
    let mut doc = Document::parse(&read("xml", "xml")?).map_err(|e| format!("parse: {e:?}"))?;
    let graph = TransitionGraph::from_xml(&read("exp", "exp")?).map_err(|e| format!("graph: {e}"))?;
    let model = Cib::from_document(&doc).map_err(|e| format!("model: {e}"))?;
    let words: Vec<&str> = args.split_whitespace().collect();
    let date = words.iter().position(|w| *w == "-t").and_then(|i| words.get(i + 1)).copied();
    let now = match date {
        Some(d) => pengine::iso8601::parse(d).map_err(|e| e.to_string())?,
        None => model.execution_date.unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64),
    };
    let ws = pengine::unpack(&model, now);
    let sim = simulate::run(&mut doc, &graph, &ws, &Injections::default(), date, false).map_err(|e| e.to_string())?;
    Ok(sim.text.lines().filter(|l| !l.starts_with("Setting effective cluster time:")).map(|l| format!("{l}\n")).collect())
}

/// The part of a text up to the blank line before "Revised Cluster
/// Status:" (the executed actions and the date notice).
fn executing_part(text: &str) -> &str {
    text.split("\nRevised Cluster Status:").next().unwrap_or(text)
}

#[test]
fn executing_and_revised_status_match_pacemaker() {
    let tsv = std::fs::read_to_string(suite().join("tests.tsv")).expect("the Pacemaker suite (../shared/pcmk-suite) is required");
    let ratchet_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/simulate.pass");
    let ratchet_text = std::fs::read_to_string(ratchet_path).unwrap_or_default();
    let ratchet: BTreeSet<&str> = ratchet_text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();

    // tier -> (whole tail, executing part, total)
    let mut per_tier: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut passing = BTreeSet::new();
    let mut regressions = Vec::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, tier, args) = (cols[0], cols.get(1).copied().unwrap_or("?"), cols.get(2).copied().unwrap_or(""));
        let summary = std::fs::read_to_string(suite().join("summary").join(format!("{name}.summary"))).unwrap_or_default();
        let expected = expected_tail(&summary);
        let got = ours(name, args);
        let whole = got.as_deref() == Ok(expected.as_str());
        let executing = got.as_deref().is_ok_and(|g| executing_part(g) == executing_part(&expected));
        let e = per_tier.entry(tier.to_string()).or_default();
        e.2 += 1;
        e.1 += usize::from(executing);
        if whole {
            e.0 += 1;
            passing.insert(name.to_string());
        } else if ratchet.contains(name) {
            regressions.push(format!("{name}:\n--- expected\n{expected}--- ours\n{}", got.unwrap_or_else(|e| e)));
        }
    }
    let (mut all, mut exec, mut total) = (0, 0, 0);
    for (tier, (pass, executing, n)) in &per_tier {
        println!("{tier}: {pass}/{n} whole (executing section {executing}/{n})");
        all += pass;
        exec += executing;
        total += n;
    }
    println!("all: {all}/{total} whole (executing section {exec}/{total})");
    let failing: Vec<&str> = tsv.lines().skip(1).filter_map(|l| l.split('\t').next()).filter(|n| !passing.contains(*n)).collect();
    println!("not passing: {}", failing.join(" "));
    if let Ok(show) = std::env::var("SIMULATE_SHOW") {
        // Print one case's texts side by side for debugging.
        let summary = std::fs::read_to_string(suite().join("summary").join(format!("{show}.summary"))).unwrap_or_default();
        println!("--- expected\n{}--- ours\n{}", expected_tail(&summary), ours(&show, "").unwrap_or_else(|e| e));
    }
    let new: Vec<&str> = passing.iter().map(String::as_str).filter(|n| !ratchet.contains(n)).collect();
    if !new.is_empty() {
        println!("newly passing (add to tools/tests/simulate.pass): {}", new.join(" "));
    }
    if std::env::var_os("SIMULATE_WRITE_PASS").is_some() {
        let text: String = passing.iter().map(|n| format!("{n}\n")).collect();
        std::fs::write(ratchet_path, text).unwrap();
    }
    assert!(regressions.is_empty(), "{} listed case(s) no longer pass:\n{}", regressions.len(), regressions.join("\n"));
}
