//! Differential tests against Pacemaker's own schema check.
//!
//! Pacemaker validates a CIB with libxml2's RelaxNG validator and the
//! `.rng` files it installs under /usr/share/pacemaker. `xmllint
//! --relaxng` runs exactly that validator on exactly those files, so its
//! verdict is Pacemaker's schema verdict (without the scheduler checks
//! `crm_verify` adds on top). These tests run when /usr/share/pacemaker
//! exists (the pacemaker-cli-utils / pacemaker-common packages); xmllint
//! comes from libxml2-utils and must then be installed.
//!
//! 1. Every CIB of the scheduler regression suite gets xmllint's verdict.
//! 2. Mutants of those CIBs (attribute removed, id duplicated, reference
//!    broken, bad score, unknown class, bad enumerated value, unknown
//!    attribute or element, element removed) get xmllint's verdict.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cib::{Document, Element};

const SUITE: &str = "../../shared/pcmk-suite/xml";
const RNG_DIR: &str = "/usr/share/pacemaker";

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(SUITE)
}

/// Pacemaker's schemas are installed; if not, say so and skip.
fn have_schemas() -> bool {
    if Path::new(RNG_DIR).join("pacemaker-3.0.rng").exists() {
        return true;
    }
    eprintln!("SKIPPED: {RNG_DIR} has no Pacemaker schemas (install pacemaker-cli-utils)");
    false
}

fn suite_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(suite_dir())
        .expect("the Pacemaker regression suite is in ../shared/pcmk-suite/xml")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    assert!(files.len() > 500, "suite looks incomplete: {} files", files.len());
    files
}

/// xmllint's verdict (true = valid) for each file, grouped by schema so
/// that xmllint runs once per schema version.
fn xmllint_verdicts(files: &[(PathBuf, String)]) -> BTreeMap<PathBuf, bool> {
    let mut by_schema: BTreeMap<&str, Vec<&PathBuf>> = BTreeMap::new();
    for (path, schema) in files {
        by_schema.entry(schema.as_str()).or_default().push(path);
    }
    let mut out = BTreeMap::new();
    for (schema, paths) in by_schema {
        if schema == "none" {
            // Pacemaker does not validate these at all.
            out.extend(paths.into_iter().map(|p| (p.clone(), true)));
            continue;
        }
        let rng = Path::new(RNG_DIR).join(format!("{schema}.rng"));
        assert!(rng.exists(), "{} missing", rng.display());
        for chunk in paths.chunks(200) {
            let output = Command::new("xmllint")
                .arg("--noout")
                .arg("--relaxng")
                .arg(&rng)
                .args(chunk.iter().map(|p| p.as_os_str()))
                .output()
                .expect("xmllint must be installed (apt-get install libxml2-utils)");
            let stderr = String::from_utf8_lossy(&output.stderr);
            for p in chunk {
                let name = p.display().to_string();
                let valid = stderr.lines().any(|l| l == format!("{name} validates"));
                let invalid = stderr.lines().any(|l| l == format!("{name} fails to validate"));
                assert!(valid != invalid, "no clear xmllint verdict for {name}:\n{stderr}");
                out.insert((*p).clone(), valid);
            }
        }
    }
    out
}

fn ours(path: &Path) -> (bool, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = Document::parse(&text).unwrap();
    let report = schemas::validate(&doc);
    let errors: Vec<String> = report.errors().map(|p| p.to_string()).collect();
    (report.is_valid(), errors.join("\n    "))
}

fn schema_name(doc: &Document) -> String {
    doc.root.attr("validate-with").unwrap_or("none").to_string()
}

fn compare(cases: &[(PathBuf, String)], what: &str) {
    let verdicts = xmllint_verdicts(cases);
    let mut mismatches = Vec::new();
    for (path, _) in cases {
        let theirs = verdicts[path];
        let (mine, errors) = ours(path);
        if mine != theirs {
            let detail = if errors.is_empty() { String::new() } else { format!("\n    {errors}") };
            mismatches.push(format!("{}: xmllint valid={theirs}, ours valid={mine}{detail}", path.display()));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} {what} disagree with xmllint:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}

#[test]
fn suite_verdicts_match_xmllint() {
    if !have_schemas() {
        return;
    }
    let cases: Vec<(PathBuf, String)> = suite_files()
        .into_iter()
        .map(|p| {
            let doc = Document::parse(&std::fs::read_to_string(&p).unwrap()).unwrap();
            let schema = schema_name(&doc);
            (p, schema)
        })
        .collect();
    compare(&cases, "suite CIBs");
}

/// A small deterministic generator, so failures reproduce.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Paths (child-element indices from the root) of every element under
/// `configuration`, in document order.
fn config_paths(root: &Element) -> Vec<Vec<usize>> {
    fn walk(el: &Element, path: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        for (i, c) in el.elements().enumerate() {
            path.push(i);
            out.push(path.clone());
            walk(c, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    if let Some(pos) = root.element_position(|e| e.name == "configuration") {
        let mut path = vec![pos];
        walk(root.elements().nth(pos).unwrap(), &mut path, &mut out);
    }
    out
}

fn at<'a>(root: &'a Element, path: &[usize]) -> &'a Element {
    path.iter().fold(root, |e, &i| e.elements().nth(i).unwrap())
}

fn at_mut<'a>(root: &'a mut Element, path: &[usize]) -> &'a mut Element {
    path.iter().fold(root, |e, &i| e.elements_mut().nth(i).unwrap())
}

const REF_ATTRS: &[&str] =
    &["rsc", "with-rsc", "first", "then", "id-ref", "template", "reference"];
const ENUM_ATTRS: &[&str] = &[
    "role", "rsc-role", "with-rsc-role", "operation", "boolean-op", "kind", "type", "on-fail",
    "first-action", "then-action", "symmetrical", "sequential", "ordering", "loss-policy",
    "resource-discovery", "value-source",
];

/// Applies mutation `kind` to `doc`; returns a label, or None when the
/// document offers nothing to mutate that way.
fn mutate(doc: &mut Document, kind: usize, rng: &mut Lcg) -> Option<String> {
    let paths = config_paths(&doc.root);
    let pick = |rng: &mut Lcg, pred: &dyn Fn(&Element) -> bool| -> Option<Vec<usize>> {
        let candidates: Vec<&Vec<usize>> = paths.iter().filter(|p| pred(at(&doc.root, p))).collect();
        (!candidates.is_empty()).then(|| candidates[rng.below(candidates.len())].clone())
    };
    match kind {
        0 => {
            let p = pick(rng, &|e| e.attr_count() > 0)?;
            let el = at_mut(&mut doc.root, &p);
            let name = el.attrs().nth(rng.below(el.attr_count())).unwrap().0.to_string();
            el.remove_attr(&name);
            Some(format!("remove {}@{name}", el.name))
        }
        1 => {
            let with_ids: Vec<String> = paths.iter().filter_map(|p| at(&doc.root, p).id().map(String::from)).collect();
            if with_ids.len() < 2 {
                return None;
            }
            let p = pick(rng, &|e| e.id().is_some())?;
            let other = with_ids[rng.below(with_ids.len())].clone();
            let el = at_mut(&mut doc.root, &p);
            el.set_attr("id", other.clone());
            Some(format!("{} id -> {other}", el.name))
        }
        2 => {
            let p = pick(rng, &|e| REF_ATTRS.iter().any(|a| e.attr(a).is_some()) || e.name == "resource_ref")?;
            let el = at_mut(&mut doc.root, &p);
            let a = if el.name == "resource_ref" {
                "id"
            } else {
                REF_ATTRS.iter().find(|a| el.attr(a).is_some()).unwrap()
            };
            el.set_attr(a, "no_such_object");
            Some(format!("break {}@{a}", el.name))
        }
        3 => {
            let p = pick(rng, &|e| e.attr("score").is_some())?;
            let bad = ["bogus", "1.5", "infinity", "INFINITY+", ""][rng.below(5)];
            let el = at_mut(&mut doc.root, &p);
            el.set_attr("score", bad);
            Some(format!("{}@score = {bad:?}", el.name))
        }
        4 => {
            let p = pick(rng, &|e| e.attr("class").is_some())?;
            let class = ["foo", "OCF", "lsb", "ocf", "stonith", "service"][rng.below(6)];
            let el = at_mut(&mut doc.root, &p);
            el.set_attr("class", class);
            Some(format!("{}@class = {class}", el.name))
        }
        5 => {
            let p = pick(rng, &|e| ENUM_ATTRS.iter().any(|a| e.attr(a).is_some()))?;
            let el = at_mut(&mut doc.root, &p);
            let present: Vec<&str> = ENUM_ATTRS.iter().copied().filter(|a| el.attr(a).is_some()).collect();
            let a = present[rng.below(present.len())];
            let bad = ["Bogus", "master", "yes", "started", "xor", "1"][rng.below(6)];
            el.set_attr(a, bad);
            Some(format!("{}@{a} = {bad}", el.name))
        }
        6 => {
            let p = pick(rng, &|_| true)?;
            let el = at_mut(&mut doc.root, &p);
            let a = ["foo", "description", "id", "score", "name"][rng.below(5)];
            if el.attr(a).is_some() {
                return None;
            }
            el.set_attr(a, "x_added");
            Some(format!("add {}@{a}", el.name))
        }
        7 => {
            let p = pick(rng, &|_| true)?;
            let (last, parent) = p.split_last().unwrap();
            let parent_el = at_mut(&mut doc.root, parent);
            let removed = parent_el.remove_element(*last).unwrap();
            Some(format!("remove <{}> from <{}>", removed.name, parent_el.name))
        }
        8 => {
            let p = pick(rng, &|_| true)?;
            let el = at_mut(&mut doc.root, &p);
            let old = std::mem::replace(&mut el.name, "frobnicator".to_string());
            Some(format!("rename <{old}>"))
        }
        9 => {
            // Order matters in a few places (cib, rsc_location, constraints' lifetime).
            let p = pick(rng, &|e| e.elements().count() > 1)?;
            let el = at_mut(&mut doc.root, &p);
            let n = el.elements().count();
            let last = el.remove_element(n - 1).unwrap();
            let name = last.name.clone();
            el.insert_element(0, last);
            Some(format!("move <{name}> first in <{}>", el.name))
        }
        10 => {
            let p = pick(rng, &|e| e.id().is_some())?;
            let el = at_mut(&mut doc.root, &p);
            el.set_attr("id", ["1abc", "a b", "x:y", "-a"][rng.below(4)]);
            Some(format!("{} id not an NCName", el.name))
        }
        11 => {
            // A second copy of a child: cardinality and duplicate ids.
            let p = pick(rng, &|_| true)?;
            let (last, parent) = p.split_last().unwrap();
            let parent_el = at_mut(&mut doc.root, parent);
            let copy = parent_el.elements().nth(*last).unwrap().clone();
            let name = copy.name.clone();
            parent_el.insert_element(last + 1, copy);
            Some(format!("duplicate <{name}> in <{}>", parent_el.name))
        }
        _ => unreachable!(),
    }
}

const KINDS: usize = 12;

#[test]
fn mutant_verdicts_match_xmllint() {
    if !have_schemas() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    let mut labels = BTreeMap::new();
    for (i, path) in suite_files().iter().enumerate() {
        let text = std::fs::read_to_string(path).unwrap();
        let original = Document::parse(&text).unwrap();
        if schema_name(&original) == "none" {
            continue;
        }
        let mut rng = Lcg(i as u64 + 1);
        for kind in (0..KINDS).chain(0..KINDS) {
            let mut doc = original.clone();
            let Some(label) = mutate(&mut doc, kind, &mut rng) else { continue };
            let stem = path.file_stem().unwrap().to_string_lossy();
            let out = dir.path().join(format!("{stem}.m{}.xml", cases.len()));
            std::fs::write(&out, doc.to_file_string()).unwrap();
            labels.insert(out.clone(), label);
            cases.push((out, schema_name(&doc)));
        }
    }
    assert!(cases.len() > 3000, "too few mutants: {}", cases.len());
    let verdicts = xmllint_verdicts(&cases);
    let mut mismatches = Vec::new();
    let mut invalid = 0;
    for (path, _) in &cases {
        let theirs = verdicts[path];
        invalid += usize::from(!theirs);
        let (mine, errors) = ours(path);
        if mine != theirs {
            mismatches.push(format!(
                "{} [{}]: xmllint valid={theirs}, ours valid={mine}\n    {errors}",
                path.file_name().unwrap().to_string_lossy(),
                labels[path]
            ));
        }
    }
    eprintln!("{} mutants, {invalid} invalid per xmllint, {} disagreements", cases.len(), mismatches.len());
    // The mutants must exercise both verdicts, or the test proves little.
    assert!(invalid > cases.len() / 3, "only {invalid} of {} mutants are invalid", cases.len());
    assert!(
        mismatches.is_empty(),
        "{} of {} mutants disagree with xmllint:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}
