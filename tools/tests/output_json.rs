//! `--output-as json` of every tool that has an XML output (crm_mon,
//! crm_resource, crm_attribute, crm_verify): run each command twice, as
//! xml and as json, on a corpus (every 12th suite CIB and the CIBs
//! haresources2cib makes of the seeds' lines), and check that the JSON,
//! mapped back with `tools::output::json::to_element`, is the XML
//! document; that stderr and the exit code are the same; and that
//! `--output-to` writes the same JSON to a file (docs/TOOLS.md, "JSON
//! output").

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cib::Document;
use tools::output::json;

fn ours(tool: &str) -> &'static str {
    match tool {
        "crm_attribute" => env!("CARGO_BIN_EXE_crm_attribute"),
        "crm_resource" => env!("CARGO_BIN_EXE_crm_resource"),
        "crm_mon" => env!("CARGO_BIN_EXE_crm_mon"),
        "crm_verify" => env!("CARGO_BIN_EXE_crm_verify"),
        _ => panic!("{tool}"),
    }
}

fn run(tool: &str, args: &[String], cib: &Path) -> common::Output {
    let mut cmd = Command::new(ours(tool));
    cmd.args(args).env_remove("CIB_shadow").env("CIB_file", cib).env("HA_NODENAME", "");
    common::output(&mut cmd, None)
}

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = common::suite_files().into_iter().step_by(12).collect();
    let seeds = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/haresources2cib");
    let mut extra: Vec<PathBuf> = std::fs::read_dir(seeds).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "xml")).collect();
    extra.sort();
    files.extend(extra);
    files
}

/// The first primitive's id and the first node's uname of a CIB.
fn names(cib: &Path) -> (String, String) {
    let doc = Document::parse(&std::fs::read_to_string(cib).unwrap()).unwrap();
    let first = |name: &str, attr: &str| {
        doc.root.descendants().find(|e| e.name == name).and_then(|e| e.attr(attr)).unwrap_or("none").to_string()
    };
    (first("primitive", "id"), first("node", "uname"))
}

fn commands(cib: &Path) -> Vec<(&'static str, Vec<String>)> {
    let (rsc, node) = names(cib);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        ("crm_mon", s(&["-1"])),
        ("crm_mon", s(&["-1", "-r", "-f", "-A"])),
        ("crm_resource", s(&["-L"])),
        ("crm_resource", s(&["-W", "-r", &rsc])),
        ("crm_resource", s(&["-q", "-r", &rsc])),
        ("crm_resource", s(&["-g", "target-role", "--meta", "-r", &rsc])),
        ("crm_resource", s(&["-W", "-r", "no-such-resource"])),
        ("crm_attribute", s(&["-G", "-n", "stonith-enabled"])),
        ("crm_attribute", s(&["-G", "-N", &node, "-n", "standby"])),
        ("crm_verify", s(&["-L"])),
    ]
}

#[test]
fn json_maps_back_to_the_xml_document_for_every_tool() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = 0;
    let mut failures = Vec::new();
    for cib in corpus() {
        for (tool, args) in commands(&cib) {
            let with = |format: &str| {
                let mut a = args.clone();
                a.extend(["--output-as".to_string(), format.to_string()]);
                run(tool, &a, &cib)
            };
            let (x, j) = (with("xml"), with("json"));
            runs += 1;
            let what = format!("{} {tool} {}", cib.file_name().unwrap().to_string_lossy(), args.join(" "));
            if (x.code, &x.stderr) != (j.code, &j.stderr) {
                failures.push(format!("{what}: exit/stderr {:?} {:?} vs json {:?} {:?}", x.code, x.stderr, j.code, j.stderr));
                continue;
            }
            let Ok(mut doc) = Document::parse(&x.stdout) else {
                failures.push(format!("{what}: the xml output is not a document: {:?}", x.stdout));
                continue;
            };
            let value: serde_json::Value = match serde_json::from_str(&j.stdout) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{what}: not JSON ({e}): {:?}", j.stdout));
                    continue;
                }
            };
            // crm_mon's `last_update` is the clock when each run printed:
            // the two runs may straddle a second.
            clear_last_update(&mut doc.root);
            // `request` echoes the command line, which names the format.
            let as_run_with_xml = |mut e: cib::Element| {
                if let Some(r) = e.attr("request").map(|r| r.replace("--output-as json", "--output-as xml")) {
                    e.set_attr("request", r);
                }
                clear_last_update(&mut e);
                e
            };
            match json::to_element(&value).map(as_run_with_xml) {
                Ok(e) if e == doc.root => {}
                Ok(e) => failures.push(format!("{what}: maps back to\n{}\ninstead of\n{}", e.to_xml(), doc.root.to_xml())),
                Err(e) => failures.push(format!("{what}: {e}")),
            }
        }
        // --output-to: the same JSON in the file, nothing on stdout.
        let file = dir.path().join("out.json");
        let a: Vec<String> = ["-L", "--output-as", "json", "--output-to"].iter().map(|s| s.to_string()).chain([file.display().to_string()]).collect();
        let to_file = run("crm_resource", &a, &cib);
        let direct = run("crm_resource", &a[..3], &cib);
        assert_eq!(to_file.stdout, "", "{}", cib.display());
        // The same document but for `request`, which echoes the arguments.
        let without_request = |text: &str| {
            let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
            v["pacemaker-result"].as_object_mut().unwrap().remove("request");
            v
        };
        assert_eq!(without_request(&std::fs::read_to_string(&file).unwrap()), without_request(&direct.stdout), "{}", cib.display());
    }
    assert!(runs > 400, "only {runs} runs");
    assert!(failures.is_empty(), "{} of {runs} runs:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn an_unknown_format_is_still_refused() {
    let cib = common::suite_files().remove(0);
    let o = run("crm_resource", &["-L".into(), "--output-as".into(), "yaml".into()], &cib);
    assert_eq!(o.code, Some(1));
    assert!(o.stderr.contains("Error creating output format yaml"), "{}", o.stderr);
}

/// Blanks crm_mon's `<summary><last_update time>`.
fn clear_last_update(root: &mut cib::Element) {
    for summary in root.children.iter_mut() {
        let cib::Node::Element(summary) = summary else { continue };
        for child in summary.children.iter_mut() {
            if let cib::Node::Element(e) = child {
                if e.name == "last_update" {
                    e.set_attr("time", "");
                }
            }
        }
    }
}
