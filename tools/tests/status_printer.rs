//! The status printer against Pacemaker 2.1.5's own scheduler regression
//! suite: for every case of ../shared/pcmk-suite/tests.tsv, the "Current
//! cluster status" section our crm_simulate logic prints for xml/NAME.xml
//! must equal the one in summary/NAME.summary (written by Pacemaker's
//! crm_simulate -S).
//!
//! tools/tests/status_printer.pass is a ratchet: every case listed must
//! pass; a case that passes but is not listed is reported so it can be
//! added. Per-tier pass counts are printed (`cargo test -- --nocapture`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use cib::model::Cib;
use cib::Document;
use tools::status::{cluster_status, ShowOptions};

fn suite() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/pcmk-suite"))
}

/// The "Current cluster status" section of a summary, with the blank
/// line that ends it.
fn expected_section(summary: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in summary.lines() {
        if line.starts_with("Current cluster status:") {
            inside = true;
        } else if inside && !line.is_empty() && !line.starts_with(' ') {
            break;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// What our crm_simulate prints for one case.
fn ours(name: &str, args: &str) -> Result<String, String> {
    let path = suite().join("xml").join(format!("{name}.xml"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc = Document::parse(&text).map_err(|e| format!("parse: {e:?}"))?;
    let model = Cib::from_document(&doc).map_err(|e| format!("model: {e}"))?;
    let words: Vec<&str> = args.split_whitespace().collect();
    let date = words.iter().position(|w| *w == "-t").and_then(|i| words.get(i + 1));
    let now = match date {
        Some(d) => pengine::iso8601::parse(d).map_err(|e| e.to_string())?,
        // As crm_simulate: the CIB's execution-date, else the clock.
        None => model.execution_date.unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64),
    };
    let ws = pengine::unpack(&model, now);
    Ok(cluster_status(&ws, "Current cluster status", ShowOptions::default()) + "\n")
}

#[test]
fn current_cluster_status_matches_pacemaker() {
    let tsv = std::fs::read_to_string(suite().join("tests.tsv")).expect("the Pacemaker suite (../shared/pcmk-suite) is required");
    let ratchet_text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/status_printer.pass")).unwrap_or_default();
    let ratchet: BTreeSet<&str> = ratchet_text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();

    let mut per_tier: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut passing = BTreeSet::new();
    let mut regressions = Vec::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, tier, args) = (cols[0], cols.get(1).copied().unwrap_or("?"), cols.get(2).copied().unwrap_or(""));
        let summary = std::fs::read_to_string(suite().join("summary").join(format!("{name}.summary"))).unwrap_or_default();
        let expected = expected_section(&summary);
        let got = ours(name, args);
        let ok = got.as_deref() == Ok(expected.as_str());
        let e = per_tier.entry(tier.to_string()).or_default();
        e.1 += 1;
        if ok {
            e.0 += 1;
            passing.insert(name.to_string());
        } else if ratchet.contains(name) {
            regressions.push(format!("{name}:\n--- expected\n{expected}--- ours\n{}", got.unwrap_or_else(|e| e)));
        }
    }
    for (tier, (pass, total)) in &per_tier {
        println!("{tier}: {pass}/{total}");
    }
    let new: Vec<&String> = passing.iter().filter(|n| !ratchet.contains(n.as_str())).collect();
    if !new.is_empty() {
        println!("newly passing (add to tools/tests/status_printer.pass): {}", new.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "));
    }
    if std::env::var_os("STATUS_PRINTER_WRITE_PASS").is_some() {
        let text: String = passing.iter().map(|n| format!("{n}\n")).collect();
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/status_printer.pass"), text).unwrap();
    }
    assert!(regressions.is_empty(), "{} listed case(s) no longer pass:\n{}", regressions.len(), regressions.join("\n"));
}

/// Our crm_simulate binary against Pacemaker's, run for real: with -L
/// (the CIB from CIB_file) the whole output must be identical, with -S
/// the part up to "Transition Summary" (the sections we do not produce
/// yet).
#[test]
fn crm_simulate_binary_matches_pacemakers() {
    use std::process::Command;
    let pacemaker = "/usr/sbin/crm_simulate";
    assert!(std::path::Path::new(pacemaker).exists(), "Pacemaker's crm_simulate is required (pacemaker-cli-utils)");
    let ours = env!("CARGO_BIN_EXE_crm_simulate");
    let run = |bin: &str, xml: &PathBuf, args: &[&str]| -> String {
        let out = Command::new(bin).args(args).env("CIB_file", xml).output().expect("run crm_simulate");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let cases: &[(&str, &[&str])] = &[
        ("date-2", &["-L", "-t", "2005-020T12:30"]),
        ("date-3", &["-L", "-t", "2005-020T11:30"]),
        ("1484", &["-L"]),
        ("clone-anon-failcount", &["-L"]),
        ("promoted-7", &["-L"]),
        ("shutdown-lock", &["-L"]),
        ("994", &["-S", "-L"]),
        ("whitebox-move", &["-S", "-L"]),
    ];
    for (name, args) in cases {
        let xml = suite().join("xml").join(format!("{name}.xml"));
        let theirs = run(pacemaker, &xml, args);
        let mine = run(ours, &xml, args);
        // Both sides up to the Transition Summary (the scheduler's
        // sections are measured by tests/pcmk_suite.rs).
        let upto = |s: String| match s.find("Transition Summary:") {
            Some(i) => s[..i].to_string(),
            None => s,
        };
        let (theirs, mine) = (upto(theirs), upto(mine));
        assert_eq!(mine, theirs, "{name} {args:?}");
    }
}
