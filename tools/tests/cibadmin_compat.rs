//! Our cibadmin against Pacemaker 2.1.5's, on copies of the same CIB file:
//! same exit code, same stdout and stderr, same resulting file (compared
//! after canonicalization with `cib-last-written` masked, and byte for byte
//! when the update is rejected).
//!
//! CI installs pacemaker-cli-utils, so a missing /usr/sbin/cibadmin is a
//! failure, not a skip.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cib::xml::{Escaping, Layout, Style};

const PACEMAKER: &str = "/usr/sbin/cibadmin";
const OURS: &str = env!("CARGO_BIN_EXE_cibadmin");

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    file: Vec<u8>,
}

fn run(tool: &str, cib: &Path, args: &[String], stdin: Option<&Path>) -> Run {
    let mut cmd = Command::new(tool);
    cmd.args(args).env("CIB_file", cib).env_remove("CIB_shadow");
    let input = stdin.map(|p| std::fs::read(p).unwrap());
    let out = common::output(&mut cmd, input.as_deref());
    Run { code: out.code, stdout: out.stdout, stderr: out.stderr, file: std::fs::read(cib).unwrap() }
}

/// Masks what is legitimately time-dependent.
fn mask(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("cib-last-written=\"") {
        let start = i + "cib-last-written=\"".len();
        out.push_str(&rest[..start]);
        let end = rest[start..].find('"').map(|e| start + e).unwrap_or(rest.len());
        out.push_str("MASKED");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A canonical form of a CIB file: parsed, re-serialized, time masked.
fn canonical(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match cib::Document::parse(&text) {
        Ok(doc) => mask(&doc.root.to_xml()),
        Err(_) => text.into_owned(),
    }
}

/// Runs both tools on copies of `src`; returns a description of every
/// difference (empty when they agree).
fn compare(src: &Path, args: &[String], stdin: Option<&Path>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let (theirs, ours) = (dir.path().join("pcmk.xml"), dir.path().join("ours.xml"));
    std::fs::copy(src, &theirs).unwrap();
    std::fs::copy(src, &ours).unwrap();
    let original = std::fs::read(src).unwrap();
    let p = run(PACEMAKER, &theirs, args, stdin);
    let o = run(OURS, &ours, args, stdin);
    let mut diffs = Vec::new();
    let what = format!("{} {:?}", src.file_name().unwrap().to_string_lossy(), args);
    if p.code != o.code {
        diffs.push(format!("{what}: exit {:?} vs ours {:?}", p.code, o.code));
    }
    if mask(&p.stdout) != mask(&o.stdout) {
        diffs.push(format!("{what}: stdout differs\n--- pacemaker\n{}\n--- ours\n{}", p.stdout, o.stdout));
    }
    if mask(&p.stderr) != mask(&o.stderr) {
        diffs.push(format!("{what}: stderr differs\n--- pacemaker\n{}\n--- ours\n{}", p.stderr, o.stderr));
    }
    if canonical(&p.file) != canonical(&o.file) {
        diffs.push(format!(
            "{what}: resulting file differs\n--- pacemaker\n{}\n--- ours\n{}",
            String::from_utf8_lossy(&p.file),
            String::from_utf8_lossy(&o.file)
        ));
    }
    if p.code != Some(0) && p.file == original && o.file != original {
        diffs.push(format!("{what}: rejected update changed our file"));
    }
    diffs
}

fn require_pacemaker() {
    common::require_tool(PACEMAKER);
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn first_id(text: &str, element: &str) -> Option<String> {
    let doc = cib::Document::parse(text).ok()?;
    doc.root.descendants().find(|e| e.name == element).and_then(|e| e.id().map(str::to_string))
}

/// Every tenth file of Pacemaker's regression suite.
fn suite_sample() -> Vec<PathBuf> {
    common::suite_files().into_iter().step_by(10).collect()
}

/// The operations compared on every sampled CIB.
fn operations(text: &str, dir: &Path, src: &Path) -> Vec<(Vec<String>, Option<PathBuf>)> {
    let mut ops = vec![
        (args(&["-B"]), None),
        (args(&["-Q", "-o", "resources"]), None),
        (args(&["-Q", "--xpath", "//primitive[@class='ocf']", "-e"]), None),
        (
            args(&["-C", "-o", "resources", "-X", r#"<primitive id="compat-new" class="ocf" provider="heartbeat" type="Dummy"/>"#]),
            None,
        ),
        (
            args(&["-C", "-o", "constraints", "-X", r#"<rsc_order id="compat-order" first="a" then="b"/>"#]),
            None,
        ),
        (
            args(&["-M", "-o", "crm_config", "-c", "-X", r#"<cluster_property_set id="compat-props"><nvpair id="compat-nv" name="no-quorum-policy" value="ignore"/></cluster_property_set>"#]),
            None,
        ),
        (args(&["-R", "-x", src.to_str().unwrap()]), None),
        (args(&["-D", "-X", r#"<primitive id="no-such-resource"/>"#]), None),
    ];
    if let Some(id) = first_id(text, "primitive") {
        ops.push((args(&["-C", "-o", "resources", "-X", &format!(r#"<primitive id="{id}" class="ocf" provider="heartbeat" type="Dummy"/>"#)]), None));
        ops.push((args(&["-M", "-X", &format!(r#"<primitive id="{id}" description="changed by compat test"/>"#)]), None));
        ops.push((args(&["-D", "-X", &format!(r#"<primitive id="{id}"/>"#)]), None));
        ops.push((args(&["-D", "--xpath", &format!("//primitive[@id='{id}']")]), None));
    }
    if let Some(id) = first_id(text, "rsc_location").or_else(|| first_id(text, "rsc_colocation")) {
        ops.push((args(&["-D", "-o", "constraints", "-X", &format!(r#"<rsc_location id="{id}"/>"#)]), None));
    }
    if let Some(id) = first_id(text, "cluster_property_set") {
        ops.push((args(&["-M", "-X", &format!(r#"<cluster_property_set id="{id}"><nvpair id="compat-pe" name="stop-all-resources" value="false"/></cluster_property_set>"#)]), None));
    }
    // Replace the whole configuration with an edited copy read from stdin,
    // the "cibadmin -Q > tmp; edit; cibadmin -R" workflow.
    if let Ok(doc) = cib::Document::parse(text) {
        let mut root = doc.root;
        if let Some(res) = root.child_mut("configuration").and_then(|c| c.child_mut("resources")) {
            res.children.push(cib::Node::Element(
                cib::Element::new("primitive")
                    .with_attr("id", "compat-edited")
                    .with_attr("class", "ocf")
                    .with_attr("provider", "heartbeat")
                    .with_attr("type", "Dummy"),
            ));
        }
        let edited = dir.join("edited.xml");
        std::fs::write(&edited, root.to_xml()).unwrap();
        ops.push((args(&["-R", "-p"]), Some(edited.clone())));
        // And an older one, which must be refused with the file untouched.
        let mut older = root.clone();
        older.set_attr("epoch", "0");
        older.set_attr("admin_epoch", "0");
        let older_path = dir.join("older.xml");
        std::fs::write(&older_path, older.to_xml()).unwrap();
        let v = cib::Version::of(&root);
        if v.admin_epoch > 0 || v.epoch > 0 {
            ops.push((args(&["-R", "-x", older_path.to_str().unwrap()]), None));
        }
        let resources = root.child("configuration").and_then(|c| c.child("resources")).cloned();
        if let Some(res) = resources {
            let p = dir.join("resources.xml");
            std::fs::write(&p, res.to_xml()).unwrap();
            ops.push((args(&["-R", "-o", "resources", "-x", p.to_str().unwrap()]), None));
        }
    }
    ops
}

#[test]
fn suite_cibs_behave_as_pacemaker() {
    require_pacemaker();
    let scratch = tempfile::tempdir().unwrap();
    let mut diffs = Vec::new();
    let mut compared = 0;
    for src in suite_sample() {
        let text = std::fs::read_to_string(&src).unwrap();
        for (a, stdin) in operations(&text, scratch.path(), &src) {
            diffs.extend(compare(&src, &a, stdin.as_deref()));
            compared += 1;
        }
    }
    assert!(compared > 400, "only {compared} comparisons");
    assert!(diffs.is_empty(), "{} differences in {compared} comparisons:\n{}", diffs.len(), diffs.join("\n\n"));
}

#[test]
fn generated_cibs_behave_as_pacemaker() {
    require_pacemaker();
    let dir = tempfile::tempdir().unwrap();
    let gen = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/gen_cib.py");
    let mut diffs = Vec::new();
    let shapes: &[&[&str]] = &[
        &["--nodes", "3", "--resources", "8", "--constraints", "4", "--seed", "1"],
        &["--nodes", "5", "--resources", "20", "--groups", "3", "--constraints", "10", "--status", "running", "--seed", "2"],
        &["--nodes", "4", "--resources", "12", "--clones", "2", "--promotable", "1", "--fencing", "--status", "failures", "--seed", "3"],
    ];
    for (i, shape) in shapes.iter().enumerate() {
        let out = dir.path().join(format!("gen{i}.xml"));
        let status = Command::new("python3").arg(&gen).args(*shape).arg("-o").arg(&out).status().expect("python3");
        assert!(status.success(), "gen_cib.py {shape:?} failed");
        let text = std::fs::read_to_string(&out).unwrap();
        for (a, stdin) in operations(&text, dir.path(), &out) {
            diffs.extend(compare(&out, &a, stdin.as_deref()));
        }
    }
    assert!(diffs.is_empty(), "{} differences:\n{}", diffs.len(), diffs.join("\n\n"));
}

#[test]
fn rejections_and_edge_cases_behave_as_pacemaker() {
    require_pacemaker();
    let dir = tempfile::tempdir().unwrap();
    let cib = dir.path().join("base.xml");
    std::fs::write(&cib, common::BASE_CIB).unwrap();
    let cases: &[&[&str]] = &[
        &["-Q", "-o", "bogus"],
        &["-Q", "-o", "tags"],
        &["-Q", "-A", "//nvpair", "-n"],
        &["-Q", "-A", "//nothing"],
        &["-C", "-o", "resources", "-X", r#"<primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/>"#],
        &["-C", "-o", "resources", "-X", r#"<primitive id="bad" class="nonsense"/>"#],
        &["-C", "-o", "constraints", "-X", r#"<rsc_location id="r1-meta" rsc="r1" node="node1" score="10"/>"#],
        &["-C", "-o", "tags", "-X", r#"<tag id="t1"><obj_ref id="r1"/></tag>"#],
        &["-C", "-o", "resources"],
        &["-C", "-o", "resources", "-X", ""],
        &["-M", "-X", r#"<primitive id="r9" description="x"/>"#],
        &["-M", "-c", "-o", "tags", "-X", r#"<tag id="t1"><obj_ref id="r1"/></tag>"#],
        &["-M", "-X", r#"<cib admin_epoch="admin_epoch++"/>"#],
        &["-M", "-X", r#"<cib epoch="1"/>"#],
        &["-M", "-X", r#"<nvpair id="r1-meta-tr" value="Started"/>"#],
        &["-R", "-o", "resources", "-X", r#"<primitive id="r9"/>"#],
        &["-D", "-X", r#"<NVPAIR name="TARGET-ROLE"/>"#],
        &["-D", "-A", "/cib"],
        &["-d", "-A", "//nvpair"],
        &["-d", "--force", "-A", "//nvpair"],
        &["-E"],
        &["-E", "--force"],
        &["-B", "-o", "status"],
        &["-Q", "extra"],
        &["-Z"],
        &["--x"],
        &["-X"],
        &["-a", "pacemaker-2.0"],
    ];
    let mut diffs = Vec::new();
    for case in cases {
        let a = args(case);
        // Usage errors print Pacemaker's own help text, which we do not copy:
        // compare only the exit code and the diagnostic line for those.
        let usage = matches!(case.first().copied(), Some("-Z" | "--x" | "-X")) || case.contains(&"extra");
        if usage {
            let p = run(PACEMAKER, &cib, &a, None);
            let o = run(OURS, &cib, &a, None);
            assert_eq!(p.code, o.code, "{case:?}");
            assert_eq!(p.stdout, o.stdout, "{case:?}");
            let diagnostic = |s: &str| s.lines().next().filter(|l| l.starts_with("cibadmin: ")).map(str::to_string);
            assert_eq!(diagnostic(&p.stderr), diagnostic(&o.stderr), "{case:?}");
        } else {
            diffs.extend(compare(&cib, &a, None));
        }
    }
    assert!(diffs.is_empty(), "{} differences:\n{}", diffs.len(), diffs.join("\n\n"));
}

/// Where we differ on purpose (docs/CIBADMIN.md, "Divergences"): Pacemaker
/// 2.1.5 escapes attribute values lossily (a newline becomes the two
/// characters `\n`, a tab four spaces, DEL `\177`, and after the first
/// non-ASCII character nothing is escaped, so `<` and `&` go out raw),
/// and what it prints or writes no longer reads back as the value. We
/// write such values losslessly. Both halves are checked against the real
/// tool: Pacemaker's bytes are exactly `cib::xml`'s Pacemaker215 rendering
/// of the tree we print (so we know precisely what it does), and only our
/// output and file give the value back.
#[test]
fn lossy_values_diverge_on_purpose() {
    require_pacemaker();
    let value = "line 1\nline 2\ttab it's \u{7f} café <b> &";
    let pacemaker_form = "line 1\\nline 2    tab it&apos;s \\177 café <b> &";
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("lossy.xml");
    let cib = common::BASE_CIB.replace(
        r#"type="Dummy">"#,
        r#"type="Dummy" description="line 1&#10;line 2&#9;tab it&apos;s &#127; café &lt;b&gt; &amp;">"#,
    );
    std::fs::write(&src, cib).unwrap();
    let description = |text: &str| -> Option<String> {
        let doc = cib::Document::parse(text).ok()?;
        doc.root.find("primitive", "r1")?.attr("description").map(str::to_string)
    };
    let pacemaker_style = Style { layout: Layout::Formatted, escaping: Escaping::Pacemaker215, omit_attrs: &[] };

    for a in [args(&["-Q"]), args(&["-Q", "-o", "resources"])] {
        let (theirs, ours) = (dir.path().join("pcmk.xml"), dir.path().join("ours.xml"));
        std::fs::copy(&src, &theirs).unwrap();
        std::fs::copy(&src, &ours).unwrap();
        let p = run(PACEMAKER, &theirs, &a, None);
        let o = run(OURS, &ours, &a, None);
        assert_eq!((p.code, o.code), (Some(0), Some(0)), "{a:?}: {} / {}", p.stderr, o.stderr);
        let printed = cib::Document::parse(&o.stdout).unwrap().root;
        assert_eq!(o.stdout, printed.to_xml(), "{a:?}: we print losslessly");
        assert_eq!(p.stdout, pacemaker_style.element(&printed), "{a:?}: Pacemaker prints its 2.1.5 escaping");
        assert!(p.stdout.contains(pacemaker_form), "{}", p.stdout);
        assert_eq!(description(&o.stdout).as_deref(), Some(value));
        assert_ne!(description(&p.stdout).as_deref(), Some(value));
    }

    // A write: Pacemaker stores the lossy form; our file keeps the value.
    let (theirs, ours) = (dir.path().join("pcmk.xml"), dir.path().join("ours.xml"));
    std::fs::copy(&src, &theirs).unwrap();
    std::fs::copy(&src, &ours).unwrap();
    let p = run(PACEMAKER, &theirs, &args(&["-B"]), None);
    let o = run(OURS, &ours, &args(&["-B"]), None);
    assert_eq!((p.code, o.code), (Some(0), Some(0)), "{} / {}", p.stderr, o.stderr);
    assert!(String::from_utf8_lossy(&p.file).contains(pacemaker_form));
    assert_eq!(description(&String::from_utf8(o.file).unwrap()).as_deref(), Some(value));
}
