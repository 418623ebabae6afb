//! crm_simulate's injections and simulated execution compared with
//! Pacemaker 2.1.5's crm_simulate, run for real (/usr/sbin/crm_simulate;
//! the test fails when it is missing).
//!
//! - The simulated CIB: our execution of a suite case's expected graph
//!   leaves the status section Pacemaker's `crm_simulate -S -O` leaves
//!   (times aside: Pacemaker stamps results with the wall clock).
//! - Injections (-u -d -f -i -q -w -g -r -b -e): the same output and the
//!   same saved input (-I); and Pacemaker reads our injected CIB exactly
//!   as it reads its own ("Current cluster status").
//! - -F, -O and -X through our binary, executing the suite's graph with
//!   --execute-graph, against Pacemaker's -S.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cib::Document;
use tengine::TransitionGraph;
use tools::simulate::{self, Injections};

const PACEMAKER: &str = "/usr/sbin/crm_simulate";

fn suite() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/pcmk-suite"))
}

fn xml(name: &str) -> PathBuf {
    suite().join("xml").join(format!("{name}.xml"))
}

fn exp(name: &str) -> PathBuf {
    suite().join("exp").join(format!("{name}.exp"))
}

/// Runs a crm_simulate; returns (exit code, stdout, stderr).
fn sim(bin: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(bin).args(args).env_remove("CIB_file").output().expect("run crm_simulate");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Replaces the digits of a time value that starts at each occurrence of
/// `marker`, up to the next non-digit.
fn blank_digits_after(text: &str, marker: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        rest = &rest[i + marker.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push('T');
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// Blanks what depends on the moment of the run: `last-rc-change`, the
/// values of `last-failure-*` attributes and the lines announcing them.
fn timeless(text: &str) -> String {
    let t = blank_digits_after(text, "last-rc-change=\"");
    // nvpair name="last-failure-..." value="NNN"
    let mut out = String::new();
    for line in t.lines() {
        let line = if line.contains("name=\"last-failure-") {
            blank_digits_after(line, "value=\"")
        } else if line.contains("Injecting attribute last-failure-") {
            // "...last-failure-RSC#op_0=1700000000 into ..."
            let at = line.find('=').map(|i| i + 1).unwrap_or(line.len());
            let digits = line[at..].bytes().take_while(u8::is_ascii_digit).count();
            format!("{}T{}", &line[..at], &line[at + digits..])
        } else {
            line.to_string()
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Removes ` NAME="..."` attributes from a text.
fn drop_attr(text: &str, name: &str) -> String {
    let marker = format!(" {name}=\"");
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(&marker) {
        out.push_str(&rest[..i]);
        let after = &rest[i + marker.len()..];
        rest = after.find('"').map(|j| &after[j + 1..]).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// The status section of a saved CIB, times blanked. Pacemaker's
/// unpacking marks some history entries of clone instances with `uname`
/// and `rsc-id` in its in-memory copy, which `-I` then saves; that is the
/// scheduler's bookkeeping, not an injection, so it is left out.
fn status_section(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let start = text.find("<status").unwrap_or_else(|| panic!("{}: no status section", file.display()));
    drop_attr(&drop_attr(&timeless(&text[start..]), "uname"), "rsc-id")
}

/// Pacemaker's output without the Transition Summary section (which the
/// execution of a given graph does not print).
fn without_summary(text: &str) -> String {
    match (text.find("Transition Summary:\n"), text.find("Executing Cluster Transition:\n")) {
        (Some(a), Some(b)) => format!("{}{}", &text[..a], &text[b..]),
        _ => text.to_string(),
    }
}

#[test]
fn simulated_cib_matches_pacemakers_save_output() {
    common::require_tool(PACEMAKER);
    let dir = tempfile::tempdir().unwrap();
    let tsv = std::fs::read_to_string(suite().join("tests.tsv")).expect("the Pacemaker suite is required");
    // Every fourth case without extra arguments keeps the run short; the
    // whole suite agrees (docs/SIMULATE.md).
    let names: Vec<&str> = tsv.lines().skip(1).filter(|l| l.split('\t').nth(2).unwrap_or("").is_empty()).filter_map(|l| l.split('\t').next()).step_by(4).collect();
    assert!(names.len() > 100);
    let mut failures = Vec::new();
    for name in &names {
        let theirs = dir.path().join(format!("{name}.theirs.xml"));
        sim(PACEMAKER, &["-x", xml(name).to_str().unwrap(), "-S", "-O", theirs.to_str().unwrap()]);
        let mut doc = Document::parse(&std::fs::read_to_string(xml(name)).unwrap()).unwrap();
        simulate::ensure_status(&mut doc);
        let graph = TransitionGraph::from_xml(&std::fs::read_to_string(exp(name)).unwrap()).unwrap();
        let ws = simulate::unpack(&doc, cib::model::Cib::from_document(&doc).unwrap().execution_date.unwrap_or(0)).unwrap();
        simulate::run(&mut doc, &graph, &ws, &Injections::default(), None, true).unwrap();
        let ours = dir.path().join(format!("{name}.ours.xml"));
        std::fs::write(&ours, doc.to_xml()).unwrap();
        if status_section(&ours) != status_section(&theirs) {
            failures.push(name.to_string());
        }
    }
    println!("simulated status sections identical to Pacemaker's: {}/{}", names.len() - failures.len(), names.len());
    assert!(failures.is_empty(), "status sections differ: {failures:?}");
}

/// Injection runs: (case, arguments).
const INJECTIONS: &[(&str, &[&str])] = &[
    (
        "1360",
        &[
            "-u", "ssgtest1c", "-d", "ssgtest1b", "-f", "ssgtest1a", "-i", "dollies:0_monitor_10000@ssgtest1a=7", "-i", "VIP_start_0@ssgtest1c=0", "-i",
            "VIP_monitor_0@ssgtest1c=7", "-g", "t1", "-r", "t2", "-b", "t3", "-e", "t4", "-w", "1", "-q", "0",
        ],
    ),
    ("594", &["-d", "hadev2"]),
    ("594", &["-f", "hadev1", "-q", "false"]),
    ("clone-anon-failcount", &["-i", "UmDummy01_monitor_10000@srv01=1", "-i", "UmDummy01_monitor_10000@srv01=1", "-i", "clnPingd_start_0@srv02=1"]),
    ("clone-anon-failcount", &["-i", "nosuch_start_0@srv01=1", "-i", "bad-spec"]),
    ("promoted-7", &["-w", "true", "-g", "ticketA"]),
    ("whitebox-move", &["-d", "lxc1", "-i", "A_monitor_0@lxc2=7"]),
];

#[test]
fn injections_match_pacemaker() {
    common::require_tool(PACEMAKER);
    let ours_bin = env!("CARGO_BIN_EXE_crm_simulate");
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, args)) in INJECTIONS.iter().enumerate() {
        let input = xml(name);
        let run = |bin: &str, saved: &Path| {
            let mut a = vec!["-x", input.to_str().unwrap(), "-I", saved.to_str().unwrap()];
            a.extend_from_slice(args);
            sim(bin, &a)
        };
        let (ours_file, theirs_file) = (dir.path().join(format!("{i}.ours.xml")), dir.path().join(format!("{i}.theirs.xml")));
        let (ours_code, ours_out, ours_err) = run(ours_bin, &ours_file);
        let (theirs_code, theirs_out, theirs_err) = run(PACEMAKER, &theirs_file);
        assert_eq!(timeless(&ours_out), timeless(&theirs_out), "{name} {args:?}: output");
        if theirs_code.is_none() || theirs_code == Some(134) {
            // Pacemaker aborted (an assertion); we report an error.
            assert_ne!(ours_code, Some(0), "{name} {args:?}: exit code");
            continue;
        }
        assert_eq!(ours_code, theirs_code, "{name} {args:?}: exit code");
        for line in theirs_err.lines().filter(|l| l.starts_with("Invalid")) {
            assert!(ours_err.contains(line), "{name} {args:?}: Pacemaker reported {line:?}, we said {ours_err:?}");
        }
        assert_eq!(status_section(&ours_file), status_section(&theirs_file), "{name} {args:?}: saved status");
        // Pacemaker reads our injected CIB as it reads its own. Not with
        // guest nodes: Pacemaker's -I file also holds the connection
        // resources its unpacking added to its in-memory copy, which
        // change how it reads that file back (docs/SIMULATE.md).
        let has_guests = std::fs::read_to_string(&input).unwrap().contains("\"remote-node\"");
        if has_guests {
            continue;
        }
        let status = |f: &Path| sim(PACEMAKER, &["-x", f.to_str().unwrap()]).1;
        assert_eq!(status(&ours_file), status(&theirs_file), "{name} {args:?}: Pacemaker's reading of the injected CIB");
    }
}

#[test]
fn op_fail_save_output_and_in_place_match_pacemaker() {
    common::require_tool(PACEMAKER);
    let ours_bin = env!("CARGO_BIN_EXE_crm_simulate");
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("1360", &["-F", "dollies:0_stop_0@ssgtest1b=1", "-F", "dollies_stop_0@ssgtest1a=1"]),
        ("594", &["-F", "DcIPaddr_start_0@hadev1=1"]),
        ("clone-anon-failcount", &["-F", "UmIPaddr_stop_0@srv01=5", "-F", "bogus"]),
        ("1484", &[]),
    ];
    for (i, (name, args)) in cases.iter().enumerate() {
        let (ours_file, theirs_file) = (dir.path().join(format!("{i}.ours.xml")), dir.path().join(format!("{i}.theirs.xml")));
        let x = xml(name);
        let g = exp(name);
        let mut ours_args = vec!["-x", x.to_str().unwrap(), "--execute-graph", g.to_str().unwrap(), "-O", ours_file.to_str().unwrap()];
        ours_args.extend_from_slice(args);
        let mut theirs_args = vec!["-x", x.to_str().unwrap(), "-S", "-O", theirs_file.to_str().unwrap()];
        theirs_args.extend_from_slice(args);
        let (ours_code, ours_out, _) = sim(ours_bin, &ours_args);
        let (theirs_code, theirs_out, _) = sim(PACEMAKER, &theirs_args);
        assert_eq!(timeless(&ours_out), timeless(&without_summary(&theirs_out)), "{name} {args:?}: output");
        assert_eq!(ours_code, theirs_code, "{name} {args:?}: exit code");
        assert_eq!(status_section(&ours_file), status_section(&theirs_file), "{name} {args:?}: saved output");
    }
    // -X: the input file itself becomes the output.
    let copy = dir.path().join("inplace.xml");
    std::fs::copy(xml("1360"), &copy).unwrap();
    let (code, _, _) = sim(ours_bin, &["-x", copy.to_str().unwrap(), "--execute-graph", exp("1360").to_str().unwrap(), "-X"]);
    assert_eq!(code, Some(0));
    let theirs_file = dir.path().join("0.theirs.xml");
    sim(PACEMAKER, &["-x", xml("1360").to_str().unwrap(), "-S", "-O", theirs_file.to_str().unwrap()]);
    assert_eq!(status_section(&copy), status_section(&theirs_file), "-X writes the simulated CIB back");
}
