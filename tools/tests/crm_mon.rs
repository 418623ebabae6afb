//! crm_mon's own behaviour: the HTML page lists the same nodes,
//! resources and failures as the XML output; `-s`; the refreshing modes
//! (`-i` redraws the terminal, `-h FILE` rewrites the page).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use cib::{Document, Element};

const BIN: &str = env!("CARGO_BIN_EXE_crm_mon");

fn suite(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/pcmk-suite/xml")).join(name)
}

fn output(cib: &PathBuf, args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).env("CIB_file", cib).output().expect("run crm_mon");
    assert!(out.status.success(), "crm_mon {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

fn all(e: &Element) -> Vec<&Element> {
    let mut v = vec![e];
    v.extend(e.descendants());
    v
}

/// (nodes, resources, failures) the XML lists.
fn from_xml(text: &str) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<(String, String)>) {
    let doc = Document::parse(text).expect("xml output parses");
    let nodes = doc.root.child("nodes").expect("nodes").children_named("node").map(|n| n.attr("name").unwrap().to_string()).collect();
    let rscs = all(doc.root.child("resources").expect("resources")).into_iter().filter(|e| e.name == "resource").map(|e| e.attr("id").unwrap().to_string()).collect();
    let failures = doc
        .root
        .child("failures")
        .map(|f| f.children_named("failure").map(|e| (e.attr("op_key").or(e.attr("id")).unwrap().to_string(), e.attr("node").unwrap().to_string())).collect())
        .unwrap_or_default();
    (nodes, rscs, failures)
}

/// The same from the page's `data-*` attributes.
fn from_html(text: &str) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<(String, String)>) {
    let body = text.strip_prefix("<!DOCTYPE html>\n").expect("doctype");
    let doc = Document::parse(body).expect("html page is well-formed");
    let els = all(&doc.root);
    let nodes = els.iter().filter_map(|e| e.attr("data-node")).map(str::to_string).collect();
    let rscs = els.iter().filter_map(|e| e.attr("data-resource")).map(str::to_string).collect();
    let failures = els.iter().filter_map(|e| Some((e.attr("data-failure")?.to_string(), e.attr("data-failure-node")?.to_string()))).collect();
    (nodes, rscs, failures)
}

#[test]
fn html_lists_what_xml_lists() {
    let cibs = [
        suite("clone-requires-quorum-recovery.xml"),
        suite("bug-5028.xml"),
        suite("bug-5025-2.xml"),
        suite("guest-node-cleanup.xml"),
        suite("1360.xml"),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/cib.xml")),
    ];
    let mut failures_seen = 0;
    for cib in &cibs {
        let xml = from_xml(&output(cib, &["--output-as", "xml"]));
        let html = from_html(&output(cib, &["--output-as", "html", "-r"]));
        assert_eq!(xml.0, html.0, "{}: nodes", cib.display());
        assert_eq!(xml.1, html.1, "{}: resources", cib.display());
        assert_eq!(xml.2, html.2, "{}: failures", cib.display());
        assert!(!xml.0.is_empty(), "{}: no nodes", cib.display());
        failures_seen += xml.2.len();
    }
    assert!(failures_seen > 0, "the sample must include failures");
}

#[test]
fn simple_status_is_one_nagios_line() {
    let ok = output(&suite("bug-5028.xml"), &["-s"]);
    assert_eq!(ok, "CLUSTER OK: 2 nodes online, 2 resource instances configured\n");
    let warn = output(&suite("clone-requires-quorum-recovery.xml"), &["-s"]);
    assert_eq!(warn, "CLUSTER WARN: offline node: rhel7-5\n");
}

#[test]
fn refreshing_mode_redraws_the_terminal() {
    let mut child = Command::new(BIN)
        .args(["-i", "1"])
        .env("CIB_file", suite("bug-5028.xml"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start crm_mon -i 1");
    std::thread::sleep(Duration::from_millis(2600));
    child.kill().expect("kill");
    let out = child.wait_with_output().expect("output");
    let text = String::from_utf8_lossy(&out.stdout);
    let frames: Vec<&str> = text.split("\x1b[H\x1b[2J").filter(|f| !f.is_empty()).collect();
    assert!(frames.len() >= 2, "expected at least two frames, got {}: {text:?}", frames.len());
    for f in &frames[..2] {
        assert!(f.starts_with("Cluster Summary:\n"), "frame: {f:?}");
        assert!(f.contains("Failed Resource Actions:"), "frame: {f:?}");
    }
}

#[test]
fn as_html_rewrites_the_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("status.html");
    let cib = dir.path().join("cib.xml");
    std::fs::copy(suite("bug-5028.xml"), &cib).expect("copy");
    let mut child = Command::new(BIN).args(["-i", "1", "-h"]).arg(&page).env("CIB_file", &cib).spawn().expect("start crm_mon -h");
    std::thread::sleep(Duration::from_millis(1500));
    let first = std::fs::read_to_string(&page).expect("page written");
    assert!(first.contains("bl460g6a") && first.contains("http-equiv=\"refresh\""), "{first}");
    // A change to the CIB shows on the next refresh.
    let text = std::fs::read_to_string(&cib).unwrap().replace("bl460g6a", "renamed-node");
    std::fs::write(&cib, text).unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    child.kill().expect("kill");
    let _ = child.wait();
    let second = std::fs::read_to_string(&page).expect("page rewritten");
    assert!(second.contains("renamed-node"), "{second}");
}

#[test]
fn daemonized_writer_keeps_running_in_the_background() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("status.html");
    let pid_file = dir.path().join("crm_mon.pid");
    let status = Command::new(BIN)
        .args(["-d", "-i", "1", "-h"])
        .arg(&page)
        .arg("-p")
        .arg(&pid_file)
        .env("CIB_file", suite("bug-5028.xml"))
        .status()
        .expect("run crm_mon -d");
    assert!(status.success(), "the launching process exits 0");
    std::thread::sleep(Duration::from_millis(1500));
    let pid: i32 = std::fs::read_to_string(&pid_file).expect("pid file").trim().parse().expect("pid");
    assert!(std::fs::read_to_string(&page).expect("page").contains("Cluster Summary"));
    // Stop the daemon we started (by its own pid).
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM).expect("daemon alive");
}
