//! `crm_simulate --explain RSC`: each node's contributions must add up to
//! the score `-s` prints for that resource, on every public T1 case of
//! Pacemaker's scheduler suite; and on seed 002's CIB the terms are the
//! seed's formula (node score + stickiness + fail count x failure
//! stickiness).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cib::model::Score;

const SIM: &str = env!("CARGO_BIN_EXE_crm_simulate");

fn suite() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/pcmk-suite")).to_path_buf()
}

fn sim(args: &[String]) -> String {
    let out = Command::new(SIM).args(args).output().expect("run crm_simulate");
    assert!(out.status.success(), "crm_simulate {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `pcmk__primitive_assign` lines of `-s`: resource -> node -> score.
fn primitive_scores(out: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut m: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for line in out.lines() {
        let Some(rest) = line.strip_prefix("pcmk__primitive_assign: ") else { continue };
        let (rsc, rest) = rest.split_once(" allocation score on ").expect("score line");
        let (node, score) = rest.rsplit_once(": ").expect("score line");
        m.entry(rsc.to_string()).or_default().insert(node.to_string(), score.to_string());
    }
    m
}

/// One explained node: its printed score and its terms (score, source,
/// replaces).
struct Line {
    node: String,
    score: String,
    terms: Vec<(String, String, bool)>,
}

/// Parses `  node: S = T1 (src) + T2 (src) := T3 (src)`; sources may
/// hold parentheses.
fn parse_line(line: &str) -> Line {
    let (node, rest) = line.trim_start().split_once(": ").expect("node: ...");
    let (score, mut rest) = rest.split_once(" = ").expect("... = ...");
    let mut terms = Vec::new();
    let mut replaces = false;
    loop {
        let (value, after) = rest.split_once(" (").unwrap_or_else(|| panic!("term in {line:?}"));
        let mut depth = 1;
        let mut end = None;
        for (i, ch) in after.char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.unwrap_or_else(|| panic!("unbalanced {line:?}"));
        terms.push((value.to_string(), after[..end].to_string(), replaces));
        rest = &after[end + 1..];
        if rest.is_empty() {
            break;
        }
        if let Some(r) = rest.strip_prefix(" + ") {
            rest = r;
            replaces = false;
        } else if let Some(r) = rest.strip_prefix(" := ") {
            rest = r;
            replaces = true;
        } else {
            panic!("bad separator in {line:?}");
        }
    }
    Line { node: node.to_string(), score: score.to_string(), terms }
}

fn sum(terms: &[(String, String, bool)]) -> Score {
    terms.iter().fold(Score::ZERO, |acc, (v, _, replaces)| if *replaces { Score::parse(v) } else { acc + Score::parse(v) })
}

/// `--explain` sections: resource -> lines.
fn explained(out: &str) -> BTreeMap<String, Vec<Line>> {
    let mut m: BTreeMap<String, Vec<Line>> = BTreeMap::new();
    let mut cur: Option<String> = None;
    for line in out.lines() {
        if let Some(r) = line.strip_prefix("Allocation of ").and_then(|l| l.strip_suffix(" (explain):")) {
            cur = Some(r.to_string());
            m.entry(r.to_string()).or_default();
        } else if let Some(r) = &cur {
            if line.is_empty() {
                cur = None;
            } else if line != "  (no allocation scores)" {
                m.get_mut(r).unwrap().push(parse_line(line));
            }
        }
    }
    m
}

#[test]
fn sums_equal_the_printed_scores_on_every_t1_case() {
    let root = suite();
    let tsv = std::fs::read_to_string(root.join("tests.tsv")).expect("../shared/pcmk-suite/tests.tsv");
    let mut checked = 0;
    for row in tsv.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        if cols.get(1) != Some(&"T1") {
            continue;
        }
        let xml = root.join("xml").join(format!("{}.xml", cols[0]));
        let mut base: Vec<String> = vec!["-x".into(), xml.display().to_string(), "-Q".into()];
        base.extend(cols.get(2).unwrap_or(&"").split_whitespace().map(String::from));
        let scores = primitive_scores(&sim(&[base.clone(), vec!["-s".into()]].concat()));
        for (rsc, nodes) in &scores {
            let out = sim(&[base.clone(), vec!["-s".into(), "--explain".into(), rsc.clone()]].concat());
            // Asking for an explanation changes no score.
            assert_eq!(primitive_scores(&out), scores, "{}: scores changed with --explain", cols[0]);
            let ex = explained(&out);
            let lines = ex.get(rsc).unwrap_or_else(|| panic!("{}: no explanation of {rsc}", cols[0]));
            let got: BTreeMap<String, String> = lines.iter().map(|l| (l.node.clone(), l.score.clone())).collect();
            assert_eq!(&got, nodes, "{}: explained nodes of {rsc}", cols[0]);
            for l in lines {
                assert_eq!(sum(&l.terms), Score::parse(&l.score), "{}: {rsc} on {}: terms {:?}", cols[0], l.node, l.terms);
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "only {checked} node scores explained");
}

// Seed 002: the example CIB with a status section (Heartbeat 2.x names).
const UUID1: &str = "f8a8e6ae-9a3f-4c0e-bb1d-2a8b3f1c0001";
const UUID2: &str = "f8a8e6ae-9a3f-4c0e-bb1d-2a8b3f1c0002";
const IP: &str = "IPaddr_192_168_0_150";
/// The transition-key UUID of the operations.
const KEY: &str = "4f8a2d6e-1c3b-4a5d-9e7f-0123456789ab";

fn op(rsc: &str, task: &str, interval: u32, call: u32, rc: u32) -> String {
    let target = if task == "monitor" && interval == 0 { 7 } else { 0 };
    let status = if rc == target { 0 } else { 4 };
    format!(
        r#"<lrm_rsc_op id="{rsc}_{task}_{interval}" operation="{task}" call_id="{call}" rc_code="{rc}" op_status="{status}" interval="{interval}" crm_feature_set="2.0" transition_key="{call}:1:{target}:{KEY}" transition_magic="0:{rc};{call}:1:{target}:{KEY}"/>"#
    )
}

/// mysql1 runs the group and mysql_db failed there once; mysql2 is idle.
fn seed_cib_with_one_failure() -> PathBuf {
    let ran = format!("{}{}", op(IP, "start", 0, 2, 0), op(IP, "monitor", 5000, 3, 0));
    let db = format!("{}{}", op("mysql_db", "start", 0, 4, 0), op("mysql_db", "monitor", 60000, 6, 7));
    let idle_ip = op(IP, "monitor", 0, 2, 7);
    let idle_db = op("mysql_db", "monitor", 0, 3, 7);
    let state = |name: &str, uuid: &str, ip: &str, db: &str, fc: u32| {
        let attrs = if fc > 0 {
            format!(r#"<transient_attributes id="{uuid}"><instance_attributes id="st-{uuid}"><attributes><nvpair id="st-{uuid}-fc" name="fail-count-mysql_db" value="{fc}"/></attributes></instance_attributes></transient_attributes>"#)
        } else {
            String::new()
        };
        format!(
            r#"<node_state id="{uuid}" uname="{name}" ha="active" in_ccm="true" crmd="online" join="member" expected="member">{attrs}<lrm id="{uuid}"><lrm_resources><lrm_resource id="{IP}" type="IPaddr" class="ocf" provider="heartbeat">{ip}</lrm_resource><lrm_resource id="mysql_db" type="mysql" class="lsb" provider="heartbeat">{db}</lrm_resource></lrm_resources></lrm></node_state>"#
        )
    };
    let status = format!("<status>{}{}</status>", state("mysql1", UUID1, &ran, &db, 1), state("mysql2", UUID2, &idle_ip, &idle_db, 0));
    let cib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/cib.xml")).expect("examples/cib.xml");
    assert!(cib.contains("<status/>"), "examples/cib.xml has an empty status");
    let path = std::env::temp_dir().join(format!("explain-seed002-{}.xml", std::process::id()));
    std::fs::write(&path, cib.replace("<status/>", &status)).unwrap();
    path
}

#[test]
fn seed_002_terms_are_the_heartbeat_formula() {
    let path = seed_cib_with_one_failure();
    let out = sim(&["-x".into(), path.display().to_string(), "-Q".into(), "--explain".into(), "group_mysql".into()]);
    std::fs::remove_file(&path).ok();
    let ex = explained(&out);
    let first = &ex[IP];
    let line = |node: &str| first.iter().find(|l| l.node == node).unwrap_or_else(|| panic!("{node} in {out}"));
    // mysql1: 200 (location rule) + 100 (group stickiness) + -100 (one failure).
    let m1 = line("mysql1");
    let values: Vec<&str> = m1.terms.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(values, ["200", "100", "-100"], "{out}");
    assert!(m1.terms[0].1.contains("mysql1_group_mysql"), "{out}");
    assert!(m1.terms[1].1.contains("stickiness"), "{out}");
    assert!(m1.terms[2].1.contains("1 failure(s)") && m1.terms[2].1.contains("resource-failure-stickiness -100"), "{out}");
    assert_eq!(m1.score, "200");
    // mysql2: only its node score.
    let m2 = line("mysql2");
    assert_eq!(m2.score, "150");
    assert_eq!(m2.terms.len(), 1, "{out}");
    assert!(out.contains("Allocation of mysql_db (explain):"), "{out}");
}
