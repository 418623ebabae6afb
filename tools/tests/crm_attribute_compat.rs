//! crm_attribute, crm_standby, crm_failcount and crm_resource's editing
//! forms, run side by side with Pacemaker 2.1.5's tools on copies of the
//! same CIB file: stdout, stderr, exit code and the resulting CIB (after
//! dropping formatting whitespace) must agree, except for the documented
//! divergences asserted at the end (docs/TOOLS.md).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cib::Document;

const SBIN: &str = "/usr/sbin";

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

fn run(program: &str, args: &[&str], cib: &Path) -> Run {
    let mut cmd = Command::new(program);
    cmd.args(args).env("CIB_file", cib).env_remove("CIB_shadow").env_remove("HA_NODENAME").env("HA_NODENAME", "");
    let out = common::output(&mut cmd, None);
    Run { code: out.code, stdout: out.stdout, stderr: out.stderr, cib: canonical(cib) }
}

fn ours(tool: &str) -> String {
    match tool {
        "crm_attribute" => env!("CARGO_BIN_EXE_crm_attribute").into(),
        "crm_standby" => env!("CARGO_BIN_EXE_crm_standby").into(),
        "crm_failcount" => env!("CARGO_BIN_EXE_crm_failcount").into(),
        "crm_resource" => env!("CARGO_BIN_EXE_crm_resource").into(),
        _ => panic!("{tool}"),
    }
}

/// Runs a sequence of commands on two copies of `base`; returns the
/// differences, one line each.
fn compare(base: &Path, steps: &[(&str, Vec<String>)], dir: &Path, tag: &str) -> Vec<String> {
    let theirs = dir.join(format!("{tag}-pcmk.xml"));
    let mine = dir.join(format!("{tag}-ours.xml"));
    std::fs::copy(base, &theirs).unwrap();
    std::fs::copy(base, &mine).unwrap();
    let mut diffs = Vec::new();
    for (tool, args) in steps {
        common::require_tool(&format!("{SBIN}/{tool}"));
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let p = run(&format!("{SBIN}/{tool}"), &a, &theirs);
        let o = run(&ours(tool), &a, &mine);
        let what = format!("{} {tool} {}", base.display(), args.join(" "));
        if p.code != o.code {
            diffs.push(format!("{what}: exit {:?} vs ours {:?} ({})", p.code, o.code, o.stderr.trim()));
        }
        if p.stdout != o.stdout {
            diffs.push(format!("{what}: stdout {:?} vs ours {:?}", p.stdout, o.stdout));
        }
        if p.stderr != o.stderr {
            diffs.push(format!("{what}: stderr {:?} vs ours {:?}", p.stderr, o.stderr));
        }
        if p.cib != o.cib {
            diffs.push(format!("{what}: resulting CIB differs"));
        }
    }
    diffs
}

fn gen(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let st = Command::new("python3")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/gen_cib.py"))
        .args(args)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("python3 runs gen_cib.py");
    assert!(st.success());
    out
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// The generated corpus: attribute commands in every scope, standby,
/// failcount queries, and crm_resource sequences (set, get, delete,
/// move, ban, clear, delete resource).
#[test]
fn generated_cibs_match_pacemaker() {
    let dir = tempfile::tempdir().unwrap();
    let running = gen(dir.path(), "running.xml", &["--nodes", "3", "--resources", "6", "--groups", "1", "--status", "running", "--seed", "1"]);
    let failures = gen(dir.path(), "failures.xml", &["--nodes", "3", "--resources", "6", "--groups", "1", "--status", "failures", "--fail-fraction", "0.5", "--seed", "3"]);
    let attr = |a: &[&str]| ("crm_attribute", s(a));
    let standby = |a: &[&str]| ("crm_standby", s(a));
    let fc = |a: &[&str]| ("crm_failcount", s(a));
    let res = |a: &[&str]| ("crm_resource", s(a));
    let sequences: Vec<Vec<(&str, Vec<String>)>> = vec![
        vec![attr(&["-n", "foo", "-v", "bar"]), attr(&["-n", "foo", "-G"]), attr(&["-n", "foo", "-G", "-q"]), attr(&["-n", "foo", "-D"]), attr(&["-n", "foo", "-D"]), attr(&["-n", "foo", "-G"])],
        vec![attr(&["-G"]), attr(&["-n", "stonith-enabled", "-G"]), attr(&["-n", "nope", "-G", "-d", "dflt"]), attr(&["-n", "nope", "-G", "-d", "dflt", "-q"])],
        vec![attr(&["-n", "foo", "-v", "1", "-N", "node01"]), attr(&["-n", "foo", "-G", "-N", "node01"]), attr(&["-n", "foo", "-D", "-N", "node01"])],
        vec![attr(&["-n", "foo", "-v", "2", "-N", "node01", "-l", "reboot"]), attr(&["-n", "foo", "-G", "-N", "node01", "-l", "reboot"]), attr(&["-n", "foo", "-D", "-N", "node01", "-l", "reboot"])],
        vec![attr(&["-n", "foo", "-v", "2", "-N", "node01", "-l", "reboot", "-i", "myid"]), attr(&["-n", "foo", "-v", "3", "-N", "node01", "-l", "reboot", "-s", "myset"]), attr(&["-n", "foo", "-G", "-N", "node01", "-l", "reboot"])],
        vec![attr(&["-n", "foo", "-G", "-N", "nodeX"]), attr(&["-n", "foo", "-v", "3", "-t", "rsc_defaults"]), attr(&["-n", "foo", "-v", "x", "-l", "bogus", "-N", "node01"]), attr(&["-D"])],
        vec![attr(&["-n", "foo", "-v", "3", "-t", "rsc_defaults", "-N", "node01"]), attr(&["-n", "resource-stickiness", "-G", "-t", "rsc_defaults", "-N", "node01"]), attr(&["-n", "foo", "-D", "-t", "rsc_defaults", "-N", "node01"])],
        vec![attr(&["-n", "timeout", "-v", "30s", "-t", "op_defaults", "-N", "node02"]), attr(&["-n", "x", "-v", "y", "-z", "-N", "node02"]), attr(&["-n", "x", "-G", "-z", "-N", "node02"])],
        vec![attr(&["-N", "node01", "-n", "rack", "-D", "-i", "nodes-1-rack"]), attr(&["-n", "mem", "-D", "-N", "node01", "-s", "nodes-1"]), attr(&["-G", "-N", "node01", "-q"]), attr(&["-G", "-N", "node01", "-i", "nodes-1-zone"])],
        vec![attr(&["-n", "a", "-v", "1", "-i", "custom"]), attr(&["-n", "a", "-v", "2"]), attr(&["-n", "a", "-G", "--id", "custom"]), attr(&["-n", "a", "-v", "3", "-s", "other"]), attr(&["-n", "a", "-G"]), attr(&["-n", "a", "-v", "4"]), attr(&["-n", "a", "-D"])],
        vec![attr(&["-n", "t", "-v", "1", "-t", "tickets"]), attr(&["-n", "sp:a#ce", "-v", "1"]), attr(&["-n", "v", "-v", "a<b\"&'"]), attr(&["-n", "v", "-G"])],
        vec![standby(&["-G", "-N", "node01"]), standby(&["-v", "on", "-N", "node01"]), standby(&["-G", "-N", "node01"]), standby(&["-G", "-N", "node01", "-q"]), standby(&["-D", "-N", "node01"]), standby(&["-G", "-N", "node01"])],
        vec![standby(&["-v", "on", "-N", "node02", "-l", "reboot"]), standby(&["-G", "-N", "node02"]), standby(&["-G", "-N", "node02", "-l", "reboot"]), standby(&["-D", "-N", "node02"]), standby(&["-G", "-N", "nodeX"])],
        vec![res(&["-r", "rsc00001", "-p", "foo", "-v", "bar"]), res(&["-r", "rsc00001", "-g", "foo"]), res(&["-r", "rsc00001", "-p", "foo", "-v", "m", "--meta"]), res(&["-r", "rsc00001", "-d", "foo"]), res(&["-r", "rsc00001", "-d", "foo", "--meta"]), res(&["-r", "rsc00001", "-g", "foo"])],
        vec![res(&["-r", "rsc00002", "-p", "y", "-v", "2", "--meta"]), res(&["-r", "rsc00002", "-p", "y", "-v", "3"]), res(&["-r", "rsc00002", "-g", "y", "--meta"]), res(&["-r", "nope", "-p", "a", "-v", "b"]), res(&["-r", "rsc00001", "-p", "foo"]), res(&["-p", "foo", "-v", "1"])],
        vec![res(&["-r", "rsc00001", "-M", "-N", "node02"]), res(&["-r", "rsc00001", "-M"]), res(&["-r", "rsc00001", "-B", "-N", "node03"]), res(&["-r", "rsc00001", "-M", "-N", "nodeX"]), res(&["-r", "rsc00001", "-U", "-N", "node03"]), res(&["-r", "rsc00001", "-U"]), res(&["-r", "rsc00001", "-U"])],
        vec![res(&["-r", "rsc00002", "-B"]), res(&["-r", "rsc00002", "-M", "-N", "node03"]), res(&["-r", "rsc00002", "-q"]), res(&["-r", "rsc00002", "-D", "-t", "primitive"]), res(&["-r", "rsc00002", "-U"]), res(&["-r", "rsc00002", "-D", "-t", "primitive"]), res(&["-r", "rsc00002", "-D"])],
    ];
    let mut diffs = Vec::new();
    let mut runs = 0;
    for (i, seq) in sequences.iter().enumerate() {
        runs += seq.len();
        diffs.extend(compare(&running, seq, dir.path(), &format!("r{i}")));
    }
    let fc_seq = vec![
        fc(&["-G", "-r", "rsc00001", "-N", "node01"]),
        fc(&["-G", "-r", "rsc00001", "-N", "node01", "-q"]),
        fc(&["-G", "-r", "rsc00001", "-U", "node01"]),
        fc(&["-G", "-r", "rsc00001", "-N", "node02"]),
        fc(&["-G", "-r", "rsc00001", "-N", "node01", "-n", "monitor", "-I", "10s"]),
        fc(&["-G", "-r", "rsc00001", "-N", "node01", "-n", "start"]),
        fc(&["-G", "-r", "rsc00001", "-N", "nodeX"]),
        fc(&["-G", "-N", "node01"]),
        fc(&["-r", "rsc00001", "-N", "node01"]),
    ];
    runs += fc_seq.len();
    diffs.extend(compare(&failures, &fc_seq, dir.path(), "fc"));
    assert!(diffs.is_empty(), "{} of {runs} runs differ:\n{}", diffs.len(), diffs.join("\n"));
}

/// A sample of Pacemaker's regression suite: cluster option and node
/// attribute round trips, and crm_resource parameter and move/clear
/// sequences on the first primitive.
#[test]
fn suite_sample_matches_pacemaker() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = 0;
    let mut diffs = Vec::new();
    for (i, f) in common::suite_files().iter().enumerate().filter(|(i, _)| i % 20 == 0) {
        let text = std::fs::read_to_string(f).unwrap();
        let Ok(doc) = Document::parse(&text) else { continue };
        let node = doc.root.descendants().find(|e| e.name == "node").and_then(|n| n.attr("uname")).map(str::to_string);
        let rsc = doc.root.descendants().find(|e| e.name == "primitive").and_then(|p| p.id()).map(str::to_string);
        let mut seq: Vec<(&str, Vec<String>)> = vec![
            ("crm_attribute", s(&["-n", "stonith-enabled", "-G"])),
            ("crm_attribute", s(&["-n", "test-opt", "-v", "1"])),
            ("crm_attribute", s(&["-n", "test-opt", "-G", "-q"])),
            ("crm_attribute", s(&["-n", "test-opt", "-D"])),
        ];
        if let Some(n) = &node {
            seq.push(("crm_attribute", s(&["-n", "test-attr", "-v", "x", "-N", n])));
            seq.push(("crm_attribute", s(&["-n", "test-attr", "-G", "-N", n])));
            seq.push(("crm_standby", s(&["-G", "-N", n])));
        }
        if let Some(r) = &rsc {
            seq.push(("crm_resource", s(&["-r", r, "-p", "test-param", "-v", "1"])));
            seq.push(("crm_resource", s(&["-r", r, "-g", "test-param"])));
            seq.push(("crm_resource", s(&["-r", r, "-d", "test-param"])));
            if let Some(n) = &node {
                seq.push(("crm_resource", s(&["-r", r, "-B", "-N", n])));
                seq.push(("crm_resource", s(&["-r", r, "-U"])));
            }
        }
        runs += seq.len();
        diffs.extend(compare(f, &seq, dir.path(), &format!("s{i}")));
    }
    let identical = runs - diffs.len().min(runs);
    eprintln!("{identical} of {runs} runs identical");
    for d in &diffs {
        eprintln!("{d}");
    }
    assert!(identical * 100 >= runs * 95, "{} of {runs} runs differ:\n{}", diffs.len(), diffs.join("\n"));
}

/// Where Pacemaker 2.1.5 fails or differs on purpose (docs/TOOLS.md).
#[test]
fn documented_divergences() {
    let dir = tempfile::tempdir().unwrap();
    let failures = gen(dir.path(), "failures.xml", &["--nodes", "3", "--resources", "6", "--status", "failures", "--fail-fraction", "0.5", "--seed", "3"]);
    // crm_failcount -D: Pacemaker's crm_resource --cleanup crashes on a
    // CIB file; ours removes the counts and the failed history.
    let mine = dir.path().join("fc.xml");
    std::fs::copy(&failures, &mine).unwrap();
    let before = canonical(&mine);
    assert!(before.contains("fail-count-rsc00001#monitor_10000") && before.contains("rsc00001_last_failure_0"));
    let o = run(&ours("crm_failcount"), &["-D", "-r", "rsc00001", "-N", "node01"], &mine);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert_eq!(o.stdout, "Cleaned up rsc00001 on node01\n");
    let after = canonical(&mine);
    assert!(!after.contains("fail-count-rsc00001#") && !after.contains("last-failure-rsc00001#"));
    assert!(!after.contains("rsc00001_last_failure_0"));
    assert!(after.contains("rsc00001_last_0"), "successful history stays");
    assert!(after.contains("fail-count-rsc00004#monitor_10000"), "other resources keep theirs");
    let q = run(&ours("crm_failcount"), &["-G", "-r", "rsc00001", "-N", "node01"], &mine);
    assert_eq!(q.stdout, "scope=status  name=fail-count-rsc00001 value=0\n");
    // -v N sets the count (Heartbeat 2.x); Pacemaker ignores it.
    let v = run(&ours("crm_failcount"), &["-v", "5", "-r", "rsc00002", "-U", "node02"], &mine);
    assert_eq!(v.code, Some(0));
    let q = run(&ours("crm_failcount"), &["-G", "-r", "rsc00002", "-U", "node02", "-q"], &mine);
    assert_eq!(q.stdout, "5\n");

    // Heartbeat's -p target_role / is_managed set the meta attribute the
    // engine obeys; Pacemaker 2.1.5 writes an instance attribute.
    let o = run(&ours("crm_resource"), &["-r", "rsc00001", "-p", "target_role", "-v", "stopped"], &mine);
    assert_eq!(o.stdout, "Set 'rsc00001' option: id=rsc00001-meta_attributes-target-role set=rsc00001-meta_attributes name=target-role value=Stopped\n");
    let o = run(&ours("crm_resource"), &["-r", "rsc00001", "-p", "is_managed", "-t", "primitive", "-v", "off"], &mine);
    assert!(o.stdout.contains("name=is-managed value=false"), "{}", o.stdout);
    let p = dir.path().join("p.xml");
    std::fs::copy(&failures, &p).unwrap();
    let pm = run(&format!("{SBIN}/crm_resource"), &["-r", "rsc00001", "-p", "target_role", "-v", "stopped"], &p);
    assert!(pm.stdout.contains("rsc00001-instance_attributes-target_role"), "Pacemaker 2.1.5 still writes the instance attribute: {}", pm.stdout);
    // -x -r prints the resource (Heartbeat); -H names the node.
    let x = run(&ours("crm_resource"), &["-x", "-r", "rsc00001"], &mine);
    assert!(x.stdout.starts_with("rsc00001\t(ocf:heartbeat:Dummy):\t Started node01\nResource XML:\n<primitive id=\"rsc00001\""), "{}", x.stdout);
    let m = run(&ours("crm_resource"), &["-M", "-r", "rsc00001", "-H", "node02"], &mine);
    assert_eq!(m.code, Some(0), "{}", m.stderr);
    assert!(canonical(&mine).contains(r#"<rsc_location id="cli-prefer-rsc00001" rsc="rsc00001" role="Started" node="node02" score="INFINITY"/>"#));
}
