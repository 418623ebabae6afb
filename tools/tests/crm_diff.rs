//! crm_diff against Pacemaker's own crm_diff (/usr/sbin/crm_diff, from
//! pacemaker-cli-utils), side by side on edited suite CIBs:
//!
//! - both make the same patch (compared after parsing, so that escaping
//!   and indentation do not count) with the same exit code, in plain,
//!   `--cib` (with digest) and `--no-version` modes;
//! - Pacemaker applies our patch and we apply Pacemaker's, each giving
//!   the new document;
//! - error paths give the same exit codes and messages.
//!
//! Fails (does not skip) when Pacemaker's tool is missing.

mod common;

use std::path::Path;
use std::process::Command;

use cib::xml::{Document, Element, Node};

const PCMK: &str = "/usr/sbin/crm_diff";
const OURS: &str = env!("CARGO_BIN_EXE_crm_diff");

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(bin: &str, args: &[&str]) -> Out {
    common::require_tool(PCMK);
    let o = common::output(Command::new(bin).args(args), None);
    Out { code: o.code.unwrap_or(-1), stdout: o.stdout, stderr: o.stderr }
}

fn parse(s: &str) -> Element {
    Document::parse(s).unwrap_or_else(|e| panic!("unparseable output ({e}):\n{s}")).root
}

/// A tree with attributes sorted, for comparisons where attribute order
/// carries no meaning (--cib).
fn sorted_attrs(e: &Element) -> Element {
    let mut attrs: Vec<(&str, &str)> = e.attrs().collect();
    attrs.sort();
    let mut out = Element::new(e.name.as_str());
    for (k, v) in attrs {
        out.set_attr(k, v);
    }
    out.children = e
        .children
        .iter()
        .map(|c| match c {
            Node::Element(c) => Node::Element(sorted_attrs(c)),
            other => other.clone(),
        })
        .collect();
    out
}

/// Suite CIBs with a `<resources>` section, made to carry a feature set
/// recent enough that Pacemaker writes format 2 (it falls back to format 1
/// for 3.0.8 and older, which we never write).
fn corpus(limit: usize) -> Vec<(String, Element)> {
    let mut out = Vec::new();
    for p in common::suite_files() {
        let Ok(text) = std::fs::read_to_string(&p) else { continue };
        let Ok(doc) = Document::parse(&text) else { continue };
        let mut root = doc.root;
        if root.name != "cib" || root.descendants().all(|e| e.name != "resources") {
            continue;
        }
        // Pacemaker drops text content on output; keep to CIBs without it.
        if root.descendants().any(|e| e.children.iter().any(|c| matches!(c, Node::Text(_) | Node::CData(_)))) {
            continue;
        }
        let fs = root.attr("crm_feature_set").unwrap_or("0");
        if cib::patchset::digest::compare_versions(fs, "3.0.8") != std::cmp::Ordering::Greater {
            root.set_attr("crm_feature_set", "3.16.1");
        }
        out.push((p.file_name().unwrap().to_string_lossy().into_owned(), root));
        if out.len() == limit {
            break;
        }
    }
    assert!(out.len() >= 10, "too few suite CIBs ({})", out.len());
    out
}

/// A small deterministic generator, so a failure names a reproducible case.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

fn find_mut<'a>(e: &'a mut Element, name: &str) -> Option<&'a mut Element> {
    if e.name == name {
        return Some(e);
    }
    e.elements_mut().find_map(|c| find_mut(c, name))
}

/// Index paths of all elements named `name`.
fn all_named(e: &Element, name: &str, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    for (i, c) in e.children.iter().enumerate() {
        if let Node::Element(c) = c {
            prefix.push(i);
            if c.name == name {
                out.push(prefix.clone());
            }
            all_named(c, name, prefix, out);
            prefix.pop();
        }
    }
}

fn at<'a>(e: &'a mut Element, path: &[usize]) -> &'a mut Element {
    path.iter().fold(e, |cur, &i| match &mut cur.children[i] {
        Node::Element(c) => c,
        _ => unreachable!(),
    })
}

/// Applies `count` edits of the kinds an administrator makes.
fn edit(doc: &mut Element, rng: &mut Lcg, count: usize) -> Vec<&'static str> {
    let mut done = Vec::new();
    for n in 0..count {
        let kind = rng.next(9);
        let mut prims = Vec::new();
        all_named(doc, "primitive", &mut Vec::new(), &mut prims);
        let mut nvpairs = Vec::new();
        all_named(doc, "nvpair", &mut Vec::new(), &mut nvpairs);
        match kind {
            0 if !prims.is_empty() => {
                let p = at(doc, &prims[rng.next(prims.len())]);
                p.set_attr("description", format!("edited {n}"));
                done.push("attribute set");
            }
            1 if !prims.is_empty() => {
                let p = at(doc, &prims[rng.next(prims.len())]);
                p.remove_attr("provider");
                p.set_attr("type", "Dummy");
                done.push("attribute change/unset");
            }
            2 => {
                let res = find_mut(doc, "resources").unwrap();
                let at_pos = rng.next(res.children.len() + 1);
                let prim = Element::new("primitive")
                    .with_attr("id", format!("added-{n}"))
                    .with_attr("class", "ocf")
                    .with_attr("provider", "heartbeat")
                    .with_attr("type", "IPaddr2")
                    .with_child(
                        Element::new("instance_attributes").with_attr("id", format!("added-{n}-ia")).with_child(
                            Element::new("nvpair")
                                .with_attr("id", format!("added-{n}-ip"))
                                .with_attr("name", "ip")
                                .with_attr("value", "10.0.0.9"),
                        ),
                    );
                res.children.insert(at_pos, Node::Element(prim));
                done.push("primitive added");
            }
            3 if !prims.is_empty() => {
                let path = &prims[rng.next(prims.len())];
                let (last, parent) = path.split_last().unwrap();
                at(doc, parent).children.remove(*last);
                done.push("primitive removed");
            }
            4 => {
                let res = find_mut(doc, "resources").unwrap();
                if res.children.len() >= 2 {
                    let from = rng.next(res.children.len());
                    let node = res.children.remove(from);
                    let to = rng.next(res.children.len() + 1);
                    res.children.insert(to, node);
                    done.push("resource moved");
                }
            }
            5 => {
                if let Some(cons) = find_mut(doc, "constraints") {
                    cons.children.push(Node::Element(
                        Element::new("rsc_location")
                            .with_attr("id", format!("loc-{n}"))
                            .with_attr("rsc", "whatever")
                            .with_attr("node", "node1")
                            .with_attr("score", "INFINITY"),
                    ));
                    done.push("constraint added");
                }
            }
            6 if !nvpairs.is_empty() => {
                let nv = at(doc, &nvpairs[rng.next(nvpairs.len())]);
                nv.set_attr("value", format!("v{n}"));
                done.push("nvpair value");
            }
            7 => {
                let res = find_mut(doc, "resources").unwrap();
                let pos = rng.next(res.children.len() + 1);
                res.children.insert(pos, Node::Comment(format!(" note {n} ")));
                done.push("comment added");
            }
            _ => {
                // Remove a comment if there is one, else bump the epoch.
                let mut removed = false;
                if let Some(res) = find_mut(doc, "resources") {
                    if let Some(i) = res.children.iter().position(|c| matches!(c, Node::Comment(_))) {
                        res.children.remove(i);
                        removed = true;
                        done.push("comment removed");
                    }
                }
                if !removed {
                    let v = cib::Version::of(doc).bump_epoch();
                    v.write_to(doc);
                    done.push("epoch bumped");
                }
            }
        }
    }
    done
}

fn write(dir: &Path, name: &str, e: &Element) -> String {
    let p = dir.join(name);
    std::fs::write(&p, Document::new(e.clone()).to_file_string()).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn diffs_match_pacemaker_and_apply_both_ways() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut compared = 0;
    for (case, (name, old)) in corpus(45).into_iter().enumerate() {
        let mut rng = Lcg(case as u64 * 7919 + 17);
        let mut new = old.clone();
        let edits = edit(&mut new, &mut rng, 1 + case % 4);
        // A configuration change moves the version on, as the CIB does.
        let mut new_versioned = new.clone();
        cib::Version::of(&old).bump_epoch().write_to(&mut new_versioned);

        let old_f = write(dir, "old.xml", &old);
        for (target, modes) in [(&new, &["", "-u"][..]), (&new_versioned, &["", "-c"][..])] {
            let new_f = write(dir, "new.xml", target);
            for mode in modes {
                let ctx = format!("{name} {edits:?} mode {mode:?}");
                let mut args = vec!["-o", old_f.as_str(), "-n", new_f.as_str()];
                if !mode.is_empty() {
                    args.insert(0, mode);
                }
                let ours = run(OURS, &args);
                let theirs = run(PCMK, &args);
                assert_eq!(ours.code, theirs.code, "{ctx}: exit codes; ours stderr: {}", ours.stderr);
                if theirs.stdout.is_empty() {
                    assert!(ours.stdout.is_empty(), "{ctx}: we found a difference Pacemaker did not:\n{}", ours.stdout);
                    continue;
                }
                assert_eq!(parse(&ours.stdout), parse(&theirs.stdout), "{ctx}: patches differ");
                compared += 1;

                // Cross-apply: each tool applies the other's patch.
                let ours_patch = write(dir, "ours.patch", &parse(&ours.stdout));
                let theirs_patch = write(dir, "theirs.patch", &parse(&theirs.stdout));
                let check = if *mode == "-c" { vec!["-c"] } else { vec![] };
                for (bin, patch) in [(PCMK, &ours_patch), (OURS, &theirs_patch)] {
                    let mut a = check.clone();
                    a.extend(["-o", old_f.as_str(), "-p", patch.as_str()]);
                    let out = run(bin, &a);
                    assert_eq!(out.code, 0, "{ctx}: {bin} -p failed: {}", out.stderr);
                    let mut want = target.clone();
                    if *mode == "-u" {
                        // No versions in the patch: the old ones stay.
                        for f in cib::Version::ATTRS {
                            match old.attr(f) {
                                Some(v) => want.set_attr(f, v),
                                None => {
                                    want.remove_attr(f);
                                }
                            }
                        }
                    }
                    let got = parse(&out.stdout);
                    if *mode == "-c" {
                        assert_eq!(sorted_attrs(&got), sorted_attrs(&want), "{ctx}: {bin} applied");
                    } else {
                        assert_eq!(got, want, "{ctx}: {bin} applied");
                    }
                }
            }
        }
    }
    assert!(compared >= 60, "only {compared} non-empty patches compared");
}

#[test]
fn our_stdout_is_byte_identical_on_a_typical_change() {
    let tmp = tempfile::tempdir().unwrap();
    let (name, old) = corpus(12).into_iter().nth(5).unwrap();
    let mut new = old.clone();
    edit(&mut new, &mut Lcg(3), 3);
    cib::Version::of(&old).bump_epoch().write_to(&mut new);
    let o = write(tmp.path(), "o.xml", &old);
    let n = write(tmp.path(), "n.xml", &new);
    for mode in ["-c", "-u"] {
        let args = [mode, "-o", &o, "-n", &n];
        let (ours, theirs) = (run(OURS, &args), run(PCMK, &args));
        assert_eq!(ours.stdout, theirs.stdout, "{name} {mode}");
        assert_eq!(ours.code, 1);
    }
}

#[test]
fn errors_match_pacemaker() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let old = Document::parse(r#"<cib crm_feature_set="3.16.1" admin_epoch="0" epoch="5" num_updates="1"><configuration><resources><primitive id="a" class="ocf" type="Dummy"/></resources></configuration></cib>"#).unwrap().root;
    let mut new = old.clone();
    new.set_attr("epoch", "6");
    let o = write(d, "o.xml", &old);
    let n = write(d, "n.xml", &new);
    let patch_out = run(PCMK, &["-c", "-o", &o, "-n", &n]);
    let patch = write(d, "p.xml", &parse(&patch_out.stdout));
    let mut older = old.clone();
    older.set_attr("epoch", "4");
    let older_f = write(d, "older.xml", &older);
    let bad_format = write(d, "bad.xml", &parse(&patch_out.stdout.replace("format=\"2\"", "format=\"9\"")));
    let bad_path = write(
        d,
        "badpath.xml",
        &parse(r#"<diff format="2"><change operation="modify" path="/cib/configuration/nothing"><change-list/><change-result><nothing/></change-result></change></diff>"#),
    );
    let cases: Vec<Vec<&str>> = vec![
        vec!["-o", &o, "-n", &o],                 // no difference: 0
        vec!["-c", "-o", &n, "-p", &patch],       // already applied: 103
        vec!["-c", "-o", &older_f, "-p", &patch], // too old: 1, refresh
        vec!["-o", &o, "-p", &bad_format],        // 70
        vec!["-o", &o, "-p", &bad_path],          // 1
        vec!["-c", "-u", "-o", &o, "-n", &n],     // 64
        vec!["-o", "/nonexistent", "-n", &n],     // 65
        vec!["-o", &o],                           // 65, second fragment
        vec!["-o", &o, "-p", &patch, "-u"],       // warning, applies
    ];
    for args in cases {
        let (ours, theirs) = (run(OURS, &args), run(PCMK, &args));
        assert_eq!(ours.code, theirs.code, "{args:?}: {}", ours.stderr);
        assert_eq!(
            ours.stderr.lines().next(),
            theirs.stderr.lines().next(),
            "{args:?}: first line of stderr"
        );
        assert_eq!(ours.stdout.is_empty(), theirs.stdout.is_empty(), "{args:?}");
    }
}
