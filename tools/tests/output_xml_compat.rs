//! `--output-as xml` of crm_resource and crm_attribute side by side with
//! Pacemaker 2.1.5's tools: stdout (the `<pacemaker-result>` document),
//! stderr, exit code and the resulting CIB, on suite CIBs (status forms)
//! and on copies edited step by step (move, ban, clear, set/get/delete
//! parameters, delete a resource; attribute update/query/delete). Both
//! programs run as the bare tool name (argv[0]), which the document
//! echoes in `request`. crm_verify's XML is in crm_verify_compat.rs;
//! crm_node 2.1.5 has no `--output-as` (see `crm_node_rejects_output_as`).

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use cib::Document;

const SBIN: &str = "/usr/sbin";

#[derive(Debug, PartialEq)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    cib: String,
}

fn canonical(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    match Document::parse(&text) {
        Ok(d) => {
            let mut root = d.root;
            tools::cibadmin::ops::strip_text(&mut root);
            root.to_xml()
        }
        Err(_) => text,
    }
}

fn ours(tool: &str) -> &'static str {
    match tool {
        "crm_attribute" => env!("CARGO_BIN_EXE_crm_attribute"),
        "crm_resource" => env!("CARGO_BIN_EXE_crm_resource"),
        "crm_node" => env!("CARGO_BIN_EXE_crm_node"),
        _ => panic!("{tool}"),
    }
}

fn run(program: &str, tool: &str, args: &[&str], cib: Option<&Path>) -> Run {
    let mut cmd = Command::new(program);
    cmd.arg0(tool).args(args).env_remove("CIB_shadow").env_remove("CIB_file").env("HA_NODENAME", "");
    if let Some(c) = cib {
        cmd.env("CIB_file", c);
    }
    let out = common::output(&mut cmd, None);
    Run { code: out.code, stdout: out.stdout, stderr: out.stderr, cib: cib.map(canonical).unwrap_or_default() }
}

/// Runs `steps` on two copies of `base`, ours and Pacemaker's; returns
/// (runs, differences). Once the two files differ, the later steps work
/// on different CIBs: they are not run (nor counted).
fn compare(base: &Path, steps: &[(&str, Vec<String>)], dir: &Path, tag: &str) -> (usize, Vec<String>) {
    let theirs = dir.join(format!("{tag}-pcmk.xml"));
    let mine = dir.join(format!("{tag}-ours.xml"));
    std::fs::copy(base, &theirs).unwrap();
    std::fs::copy(base, &mine).unwrap();
    let mut diffs = Vec::new();
    for (i, (tool, args)) in steps.iter().enumerate() {
        common::require_tool(&format!("{SBIN}/{tool}"));
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let p = run(&format!("{SBIN}/{tool}"), tool, &a, Some(&theirs));
        let o = run(ours(tool), tool, &a, Some(&mine));
        if p != o {
            let what = format!("{} {tool} {}", base.file_name().unwrap().to_string_lossy(), args.join(" "));
            let mut why = Vec::new();
            if p.code != o.code {
                why.push(format!("exit {:?} vs ours {:?}", p.code, o.code));
            }
            if p.stdout != o.stdout {
                why.push(format!("stdout\n{}\n  vs ours\n{}", p.stdout, o.stdout));
            }
            if p.stderr != o.stderr {
                why.push(format!("stderr {:?} vs ours {:?}", p.stderr, o.stderr));
            }
            if p.cib != o.cib {
                let first = p.cib.lines().zip(o.cib.lines()).find(|(a, b)| a != b).map(|(a, b)| format!("{a} / ours {b}")).unwrap_or_default();
                why.push(format!("resulting CIB differs: {first}"));
            }
            diffs.push(format!("{what}: {}", why.join("; ")));
            if p.cib != o.cib {
                return (i + 1, diffs);
            }
        }
    }
    (steps.len(), diffs)
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Resource ids of a CIB: (top-level ids, primitive ids), document order.
fn resource_ids(path: &Path) -> (Vec<String>, Vec<String>) {
    let doc = Document::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    let Some(res) = doc.root.child("configuration").and_then(|c| c.child("resources")) else { return (vec![], vec![]) };
    let top = res.elements().filter_map(|e| e.id().map(str::to_string)).collect();
    let prims = res.descendants().filter(|e| e.name == "primitive").filter_map(|e| e.id().map(str::to_string)).collect();
    (top, prims)
}

/// Suite CIBs without bundles (not unpacked as Pacemaker does for
/// crm_resource's views; docs/TOOLS.md).
fn sample(step: usize) -> Vec<PathBuf> {
    common::suite_files()
        .into_iter()
        .step_by(step)
        .filter(|f| !std::fs::read_to_string(f).unwrap().contains("<bundle"))
        .collect()
}

fn report(total: usize, diffs: &[String], required_percent: usize) {
    let same = total - diffs.len();
    eprintln!("{same}/{total} runs identical");
    if std::env::var_os("SHOW_DIFFS").is_some() {
        eprintln!("{}", diffs.join("\n"));
    }
    assert!(same * 100 >= total * required_percent, "{same}/{total} identical:\n{}", diffs.join("\n"));
}

/// The read-only forms on every 8th suite CIB: -L, -O, -o, -W and -q on
/// the first resources, -g, unknown resources and nodes.
#[test]
fn crm_resource_views_match_pacemaker() {
    let dir = tempfile::tempdir().unwrap();
    let (mut total, mut diffs) = (0, Vec::new());
    for f in sample(8) {
        let (top, prims) = resource_ids(&f);
        let mut steps: Vec<(&str, Vec<String>)> = vec![
            ("crm_resource", s(&["--output-as", "xml", "-L"])),
            ("crm_resource", s(&["--output-as", "xml", "-O"])),
            ("crm_resource", s(&["--output-as=xml", "-o"])),
            ("crm_resource", s(&["--output-as", "xml", "-W", "-r", "no-such-rsc"])),
            ("crm_resource", s(&["--output-as", "xml", "-O", "-N", "no-such-node"])),
        ];
        for r in top.iter().take(2).chain(prims.iter().take(2)) {
            steps.push(("crm_resource", s(&["--output-as", "xml", "-W", "-r", r])));
            steps.push(("crm_resource", s(&["--output-as", "xml", "-q", "-r", r])));
            steps.push(("crm_resource", s(&["--output-as", "xml", "-g", "target-role", "--meta", "-r", r])));
        }
        let (n, d) = compare(&f, &steps, dir.path(), "views");
        total += n;
        diffs.extend(d);
    }
    report(total, &diffs, 95);
}

/// Sequences of edits on copies of suite CIBs (every 20th): each step's
/// XML output and the resulting file.
#[test]
fn crm_resource_edits_match_pacemaker() {
    let dir = tempfile::tempdir().unwrap();
    let (mut total, mut diffs) = (0, Vec::new());
    for f in sample(20) {
        let (_, prims) = resource_ids(&f);
        let Some(r) = prims.first() else { continue };
        let doc = Document::parse(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let node = doc.root.descendants().find(|e| e.name == "node" && e.attr("uname").is_some()).and_then(|e| e.attr("uname")).unwrap_or("nosuch").to_string();
        let x = |v: &[&str]| ("crm_resource", ["--output-as", "xml"].iter().chain(v).map(|a| a.to_string()).collect::<Vec<_>>());
        let r = r.as_str();
        let steps = vec![
            x(&["-r", r, "-p", "comment", "-v", "hello world"]),
            x(&["-r", r, "-g", "comment"]),
            x(&["-r", r, "-p", "target-role", "-v", "Stopped", "--meta"]),
            x(&["-r", r, "-g", "target-role", "--meta"]),
            x(&["-r", r, "-d", "target-role", "--meta"]),
            x(&["-r", r, "-d", "comment"]),
            x(&["-r", r, "-g", "comment"]),
            x(&["-r", r, "-M", "-N", &node]),
            x(&["-r", r, "-M", "-N", &node]),
            x(&["-r", r, "-B", "-N", &node]),
            x(&["-r", r, "-U"]),
            x(&["-r", r, "-M"]),
            x(&["-r", r, "-B"]),
            x(&["-r", r, "-U", "-N", &node]),
            x(&["-r", r, "-M", "-N", &node, "--lifetime", "PT1H"]),
            x(&["-r", r, "-U"]),
            x(&["-r", r, "-D"]),
            x(&["-r", r, "-D", "-t", "primitive"]),
            x(&["-r", "nosuch", "-D", "-t", "primitive"]),
            x(&["-r", r, "-q"]),
            x(&["-L"]),
        ];
        let (n, d) = compare(&f, &steps, dir.path(), "edits");
        total += n;
        diffs.extend(d);
    }
    report(total, &diffs, 90);
}

/// crm_attribute's XML: queries (one `<attribute>` per value), updates,
/// deletes, ambiguity, errors, on every 20th suite CIB.
#[test]
fn crm_attribute_matches_pacemaker() {
    let dir = tempfile::tempdir().unwrap();
    let (mut total, mut diffs) = (0, Vec::new());
    for f in sample(20) {
        let doc = Document::parse(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let node = doc.root.descendants().find(|e| e.name == "node" && e.attr("uname").is_some()).and_then(|e| e.attr("uname")).unwrap_or("nosuch").to_string();
        let x = |v: &[&str]| ("crm_attribute", ["--output-as", "xml"].iter().chain(v).map(|a| a.to_string()).collect::<Vec<_>>());
        let n = node.as_str();
        let steps = vec![
            x(&["-n", "stonith-enabled", "-G"]),
            x(&["-n", "stonith-enabled", "-G", "-q"]),
            x(&["-n", "no-such-option", "-G"]),
            x(&["-n", "no-such-option", "-G", "-d", "dflt"]),
            x(&["-n", "opt1", "-v", "a"]),
            x(&["-n", "opt1", "-v", "b", "-s", "other-set"]),
            x(&["-n", "opt1", "-G"]),
            x(&["-n", "opt1", "-v", "c"]),
            x(&["-n", "opt1", "-D"]),
            x(&["-n", "opt1", "-D", "-s", "other-set"]),
            x(&["-n", "opt1", "-D"]),
            x(&["-n", "site", "-N", n, "-v", "x y"]),
            x(&["-n", "site", "-N", n, "-G"]),
            x(&["-n", "site", "-N", n, "-G", "-i", "nodes-x"]),
            x(&["-n", "pingd", "-N", n, "-l", "reboot", "-v", "100"]),
            x(&["-n", "pingd", "-N", n, "-l", "reboot", "-G"]),
            x(&["-n", "cpu", "-N", n, "-z", "-v", "4"]),
            x(&["-n", "cpu", "-N", n, "-z", "-G"]),
            x(&["-n", "site", "-N", n, "-D"]),
            x(&["-n", "x", "-N", "no-such-node", "-G"]),
            x(&["-n", "x", "-G", "-t", "rsc_defaults"]),
            x(&["-n", "x", "-t", "op_defaults", "-v", "1"]),
            x(&["-n", "x", "-t", "op_defaults", "-G"]),
            x(&["-D"]),
            x(&["-n", "a<b&c", "-v", "<1>"]),
        ];
        let (k, d) = compare(&f, &steps, dir.path(), "attr");
        total += k;
        diffs.extend(d);
    }
    report(total, &diffs, 95);
}

/// Formats other than text and xml, and an `--output-to` that cannot be
/// created, are refused before anything runs; `--output-to FILE` puts the
/// document in the file.
#[test]
fn formats_and_destinations_match_pacemaker() {
    let dir = tempfile::tempdir().unwrap();
    let f = common::suite_dir().join("1360.xml");
    let out_theirs = dir.path().join("theirs.xml");
    let out_mine = dir.path().join("mine.xml");
    for tool in ["crm_resource", "crm_attribute"] {
        let args: Vec<&str> = if tool == "crm_resource" { vec!["-L"] } else { vec!["-n", "stonith-enabled", "-G"] };
        for prefix in [&["--output-as", "yaml"][..], &["--output-as", "html"], &["--output-as", "xml", "--output-to", "/nonexistent/dir/out.xml"], &["--output-as", "text"]] {
            let a: Vec<&str> = prefix.iter().chain(&args).copied().collect();
            let (p, o) = (run(&format!("{SBIN}/{tool}"), tool, &a, Some(&f)), run(ours(tool), tool, &a, Some(&f)));
            assert_eq!(o, p, "{tool} {a:?}");
        }
        let with_dest = |dest: &Path| -> Vec<String> { ["--output-as", "xml", "--output-to", dest.to_str().unwrap()].iter().chain(&args).map(|s| s.to_string()).collect() };
        let pa = with_dest(&out_theirs);
        let p = run(&format!("{SBIN}/{tool}"), tool, &pa.iter().map(String::as_str).collect::<Vec<_>>(), Some(&f));
        let oa = with_dest(&out_mine);
        let o = run(ours(tool), tool, &oa.iter().map(String::as_str).collect::<Vec<_>>(), Some(&f));
        assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (p.code, "", ""), "{tool}");
        let (theirs, mine) = (std::fs::read_to_string(&out_theirs).unwrap(), std::fs::read_to_string(&out_mine).unwrap());
        assert_eq!(mine.replace(out_mine.to_str().unwrap(), "DEST"), theirs.replace(out_theirs.to_str().unwrap(), "DEST"), "{tool}");
        assert!(mine.contains("<status code=\"0\" message=\"OK\"/>"), "{mine}");
    }
    // No CIB to read: not connected (102), the error inside the document.
    for tool in ["crm_resource", "crm_attribute"] {
        let args: &[&str] = if tool == "crm_resource" { &["--output-as", "xml", "-L"] } else { &["--output-as", "xml", "-n", "x", "-G"] };
        let scratch = tempfile::tempdir().unwrap();
        let env = |c: &mut Command| {
            c.env("HA_RUNDIR", scratch.path()).env("HA_VARLIB", scratch.path());
        };
        let mut pc = Command::new(format!("{SBIN}/{tool}"));
        pc.arg0(tool).args(args).env_remove("CIB_file").env_remove("CIB_shadow");
        env(&mut pc);
        let mut oc = Command::new(ours(tool));
        oc.arg0(tool).args(args).env_remove("CIB_file").env_remove("CIB_shadow");
        env(&mut oc);
        let (p, o) = (common::output(&mut pc, None), common::output(&mut oc, None));
        assert_eq!((o.code, &o.stdout, &o.stderr), (p.code, &p.stdout, &p.stderr), "{tool} {args:?}");
    }
}

/// Pacemaker 2.1.5's crm_node has no formatted output: `--output-as` is
/// an unknown option, and ours says so in the same words.
#[test]
fn crm_node_rejects_output_as() {
    for args in [&["--output-as", "xml", "-l"][..], &["--output-as=xml", "-n"]] {
        let p = run(&format!("{SBIN}/crm_node"), "crm_node", args, None);
        let o = run(ours("crm_node"), "crm_node", args, None);
        assert_eq!(o, p, "crm_node {args:?}");
    }
}
