//! Unit tests of diff and apply, and the round-trip property over suite
//! CIBs. Expected patches were checked against Pacemaker 2.1.5's crm_diff
//! (tools/tests/crm_diff.rs compares with it for real).

use super::*;
use crate::xml::{parse_element, Node};

fn el(s: &str) -> Element {
    parse_element(s).unwrap()
}

/// The changes of a patch, one compact line each (no version).
fn changes(patch: &Element) -> Vec<String> {
    patch.children_named("change").map(|c| c.to_xml_compact()).collect()
}

fn round_trip(old: &str, new: &str) -> Element {
    let (old, new) = (el(old), el(new));
    let patch = diff_with(&old, &new, DiffOptions { attr_moves: true }).unwrap();
    let mut got = old.clone();
    apply_with(&mut got, &patch, ApplyOptions { check_version: false }).unwrap();
    assert_eq!(got.to_xml_compact(), new.to_xml_compact(), "patch:\n{}", patch.to_xml());
    patch
}

#[test]
fn version_block_defaults_to_one() {
    let p = diff(&el("<cib epoch='4'><a/></cib>"), &el("<cib epoch='5'><a/></cib>"));
    assert_eq!(
        p.child("version").unwrap().to_xml_compact(),
        r#"<version><source admin_epoch="1" epoch="4" num_updates="1"/><target admin_epoch="1" epoch="5" num_updates="1"/></version>"#
    );
    assert!(!is_empty(&p));
    assert!(is_empty(&diff(&el("<cib><a/></cib>"), &el("<cib><a/></cib>"))));
}

#[test]
fn mixed_changes_in_pacemaker_order() {
    // The pair from docs/PATCHSET.md; expected output is crm_diff's.
    let p = round_trip(
        r#"<cib epoch="1"><resources><primitive id="r1" class="ocf" type="Dummy"/><!-- hello --><primitive id="r2" class="ocf" type="Dummy"/></resources></cib>"#,
        r#"<cib epoch="2"><resources><primitive id="r2" class="ocf" type="Dummy" x="1"/><primitive id="r1" class="ocf"/><primitive id="r3" class="ocf" type="Dummy"/></resources></cib>"#,
    );
    assert_eq!(
        changes(&p),
        [
            r#"<change operation="delete" path="/cib/resources/comment" position="1"/>"#,
            r#"<change operation="modify" path="/cib"><change-list><change-attr name="epoch" operation="set" value="2"/></change-list><change-result><cib epoch="2"/></change-result></change>"#,
            r#"<change operation="modify" path="/cib/resources/primitive[@id=&apos;r2&apos;]"><change-list><change-attr name="x" operation="set" value="1"/></change-list><change-result><primitive id="r2" class="ocf" type="Dummy" x="1"/></change-result></change>"#,
            r#"<change operation="move" path="/cib/resources/primitive[@id=&apos;r2&apos;]" position="0"/>"#,
            r#"<change operation="modify" path="/cib/resources/primitive[@id=&apos;r1&apos;]"><change-list><change-attr name="type" operation="unset"/></change-list><change-result><primitive id="r1" class="ocf"/></change-result></change>"#,
            r#"<change operation="move" path="/cib/resources/primitive[@id=&apos;r1&apos;]" position="1"/>"#,
            r#"<change operation="create" path="/cib/resources" position="2"><primitive id="r3" class="ocf" type="Dummy"/></change>"#,
        ]
    );
}

#[test]
fn attribute_moves_only_when_asked() {
    let (old, new) = (el(r#"<cib><x id="1" a="1" b="2" c="3"/></cib>"#), el(r#"<cib><x id="1" a="1" c="3"/></cib>"#));
    let lists = |opts| {
        let p = diff_with(&old, &new, opts).unwrap();
        p.descendants()
            .filter(|e| e.name == "change-attr")
            .map(|e| format!("{}:{}", e.attr("operation").unwrap(), e.attr("name").unwrap()))
            .collect::<Vec<_>>()
    };
    // Removing b shifts c, which plain crm_diff reports as a set.
    assert_eq!(lists(DiffOptions { attr_moves: true }), ["set:c", "unset:b"]);
    assert_eq!(lists(DiffOptions { attr_moves: false }), ["unset:b"]);
    round_trip(r#"<cib><x id="1" a="1" b="2" c="3"/></cib>"#, r#"<cib><x id="1" c="3" b="2" a="1"/></cib>"#);
}

#[test]
fn reversal_is_four_moves() {
    let p = round_trip(
        "<cib><r><a id='1'/><b id='2'/><c id='3'/><d id='4'/></r></cib>",
        "<cib><r><d id='4'/><c id='3'/><b id='2'/><a id='1'/></r></cib>",
    );
    let moves: Vec<_> = p
        .children_named("change")
        .map(|c| format!("{}@{}", c.attr("path").unwrap(), c.attr("position").unwrap()))
        .collect();
    assert_eq!(
        moves,
        ["/cib/r/d[@id='4']@0", "/cib/r/c[@id='3']@1", "/cib/r/b[@id='2']@2", "/cib/r/a[@id='1']@3"]
    );
}

#[test]
fn an_insertion_does_not_move_later_siblings() {
    let p = round_trip(
        "<cib><r><a id='1'/><b id='2'/></r></cib>",
        "<cib><r><!--c--><n id='0'/><a id='1'/><b id='2'/></r></cib>",
    );
    assert_eq!(
        changes(&p),
        [
            r#"<change operation="create" path="/cib/r" position="0"><!--c--></change>"#,
            r#"<change operation="create" path="/cib/r" position="1"><n id="0"/></change>"#,
        ]
    );
}

#[test]
fn comments_are_matched_by_position_and_content() {
    let p = round_trip(
        "<cib><r><!--one--><a id='1'/><!--two--></r></cib>",
        "<cib><r><a id='1'/><!--two--><!--three--></r></cib>",
    );
    assert_eq!(
        changes(&p),
        [
            r#"<change operation="delete" path="/cib/r/comment" position="0"/>"#,
            r#"<change operation="create" path="/cib/r" position="2"><!--three--></change>"#,
        ]
    );
    // Unlike Pacemaker, a change of case is a change.
    round_trip("<cib><r><!--Hello--></r></cib>", "<cib><r><!--hello--></r></cib>");
}

#[test]
fn nested_and_text_changes_round_trip() {
    round_trip(
        "<cib><c><rs><g id='g'><p id='a'><ia id='ia'><nv id='n1' name='x' value='1'/></ia></p></g></rs></c></cib>",
        "<cib><c><rs><p id='a'><ia id='ia'><nv id='n1' name='x' value='2'/><nv id='n2' name='y' value='3'/></ia></p></rs></c></cib>",
    );
    round_trip("<cib><d>old text</d></cib>", "<cib><d>new text</d></cib>");
}

#[test]
fn version_check() {
    let old = el(r#"<cib admin_epoch="0" epoch="3" num_updates="7"><a/></cib>"#);
    let new = el(r#"<cib admin_epoch="0" epoch="4" num_updates="0"><a x="1"/></cib>"#);
    let patch = diff(&old, &new);

    let mut doc = old.clone();
    apply(&mut doc, &patch).unwrap();
    assert_eq!(doc, new);

    // Applying twice: the document is now newer than the patch source.
    let err = apply(&mut doc, &patch).unwrap_err();
    assert!(matches!(err, PatchError::VersionTooHigh { .. }), "{err}");
    assert_eq!(err.class(), FailureClass::OldData);
    assert_eq!(doc, new, "a failed apply changes nothing");

    let mut older = el(r#"<cib admin_epoch="0" epoch="2" num_updates="7"><a/></cib>"#);
    let err = apply(&mut older, &patch).unwrap_err();
    assert_eq!(err.class(), FailureClass::DiffResync);

    // Without the check the patch applies anyway.
    apply_with(&mut older, &patch, ApplyOptions { check_version: false }).unwrap();

    // A patch that does not move the version is refused.
    let same_version = diff(&old, &el(r#"<cib admin_epoch="0" epoch="3" num_updates="7"><a x="1"/></cib>"#));
    let err = apply(&mut old.clone(), &same_version).unwrap_err();
    assert!(matches!(err, PatchError::VersionUnchanged { .. }), "{err}");
}

#[test]
fn failures_name_the_path() {
    let doc = el("<cib><a id='1'/></cib>");
    let patch = el(r#"<diff format="2"><change operation="modify" path="/cib/a[@id='2']"><change-list/><change-result><a id="2"/></change-result></change></diff>"#);
    let err = apply_with(&mut doc.clone(), &patch, ApplyOptions { check_version: false }).unwrap_err();
    assert_eq!(err, PatchError::NoMatch { operation: "modify".into(), path: "/cib/a[@id='2']".into() });

    // A delete of something already gone is fine.
    let patch = el(r#"<diff format="2"><change operation="delete" path="/cib/a[@id='2']"/></diff>"#);
    apply_with(&mut doc.clone(), &patch, ApplyOptions { check_version: false }).unwrap();

    let patch = el(r#"<diff format="2"><change operation="frob" path="/cib/a[@id='1']"/></diff>"#);
    let err = apply_with(&mut doc.clone(), &patch, ApplyOptions { check_version: false }).unwrap_err();
    assert!(matches!(err, PatchError::BadChange { ref path, .. } if path == "/cib/a[@id='1']"), "{err}");

    let patch = el(r#"<diff format="7"/>"#);
    let err = apply_with(&mut doc.clone(), &patch, ApplyOptions { check_version: false }).unwrap_err();
    assert_eq!(err.class(), FailureClass::Invalid);
}

#[test]
fn digest_is_checked() {
    let old = el(r#"<cib crm_feature_set="3.16.1" admin_epoch="0" epoch="1" num_updates="0"><a/></cib>"#);
    let new = el(r#"<cib crm_feature_set="3.16.1" admin_epoch="0" epoch="2" num_updates="0"><a x="1"/></cib>"#);
    let mut patch = diff(&old, &new);
    digest::add_digest(&mut patch, &old, &new);
    let mut doc = old.clone();
    apply(&mut doc, &patch).unwrap();
    patch.set_attr("digest", "0123456789abcdef0123456789abcdef");
    let err = apply(&mut old.clone(), &patch).unwrap_err();
    assert!(matches!(err, PatchError::DigestMismatch { .. }), "{err}");
}

#[test]
fn roots_must_match() {
    assert!(matches!(try_diff(&el("<a/>"), &el("<b/>")), Err(PatchError::RootMismatch { .. })));
    assert!(try_diff(&el("<a id='1'/>"), &el("<a id='2'/>")).is_err());
}

#[test]
fn size_follows_the_change_not_the_document() {
    let mut big = Element::new("cib");
    let mut rs = Element::new("resources");
    for i in 0..2000 {
        rs = rs.with_child(Element::new("primitive").with_attr("id", format!("r{i}")).with_attr("class", "ocf"));
    }
    big = big.with_child(rs);
    let mut changed = big.clone();
    changed.child_mut("resources").unwrap().elements_mut().nth(1234).unwrap().set_attr("class", "lsb");
    let patch = diff(&big, &changed);
    assert!(patch.to_xml().len() < 600, "{}", patch.to_xml());
}

mod property {
    //! apply(old, diff(old, new)) == new for random edits of suite CIBs.

    use super::*;
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn suite_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcmk-suite/xml")
    }

    /// Suite CIBs small enough to edit quickly, without id-less siblings of
    /// one name (which the path format cannot tell apart; see PATCHSET.md).
    fn corpus() -> Vec<Element> {
        let dir = suite_dir();
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("suite directory {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .collect();
        names.sort();
        let docs: Vec<Element> = names
            .iter()
            .filter(|p| std::fs::metadata(p).map(|m| m.len() < 40_000).unwrap_or(false))
            .filter_map(|p| crate::xml::Document::parse(&std::fs::read_to_string(p).ok()?).ok())
            .map(|d| d.root)
            .filter(|r| !has_ambiguous_siblings(r))
            .take(60)
            .collect();
        assert!(docs.len() >= 20, "too few suite CIBs usable ({})", docs.len());
        docs
    }

    fn has_ambiguous_siblings(e: &Element) -> bool {
        let mut seen = std::collections::HashSet::new();
        for c in e.elements() {
            if !seen.insert((c.name.as_str(), c.id())) {
                return true;
            }
        }
        e.elements().any(has_ambiguous_siblings)
    }

    /// One random edit, driven by `r`.
    #[derive(Debug, Clone)]
    enum Edit {
        SetAttr(u32, u32, String),
        RemoveAttr(u32, u32),
        Delete(u32),
        Move(u32, u32),
        AddChild(u32, u32),
        AddComment(u32, u32, String),
    }

    fn edit_strategy() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<u32>(), any::<u32>(), "[a-z0-9 ]{0,6}").prop_map(|(a, b, s)| Edit::SetAttr(a, b, s)),
            (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Edit::RemoveAttr(a, b)),
            any::<u32>().prop_map(Edit::Delete),
            (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Edit::Move(a, b)),
            (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Edit::AddChild(a, b)),
            (any::<u32>(), any::<u32>(), "[a-z ]{1,8}").prop_map(|(a, b, s)| Edit::AddComment(a, b, s)),
        ]
    }

    /// Paths (child indexes) of every element below the root.
    fn element_paths(e: &Element, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        for (i, c) in e.children.iter().enumerate() {
            if let Node::Element(c) = c {
                prefix.push(i);
                out.push(prefix.clone());
                element_paths(c, prefix, out);
                prefix.pop();
            }
        }
    }

    fn at<'a>(e: &'a mut Element, path: &[usize]) -> &'a mut Element {
        let mut cur = e;
        for &i in path {
            cur = match &mut cur.children[i] {
                Node::Element(c) => c,
                _ => unreachable!("paths lead through elements"),
            };
        }
        cur
    }

    fn apply_edit(doc: &mut Element, edit: &Edit, serial: usize) {
        let mut paths = Vec::new();
        element_paths(doc, &mut Vec::new(), &mut paths);
        let pick = |n: u32| -> Vec<usize> {
            if paths.is_empty() {
                Vec::new()
            } else {
                paths[n as usize % paths.len()].clone()
            }
        };
        match edit {
            Edit::SetAttr(n, k, v) => {
                let target = at(doc, &pick(*n));
                let names: Vec<String> = target.attrs().map(|(k, _)| k.to_string()).filter(|k| k != "id").collect();
                let name = if names.is_empty() || k % 3 == 0 { format!("new{}", k % 5) } else { names[*k as usize % names.len()].clone() };
                target.set_attr(&name, v.as_str());
            }
            Edit::RemoveAttr(n, k) => {
                let target = at(doc, &pick(*n));
                let names: Vec<String> = target.attrs().map(|(k, _)| k.to_string()).filter(|k| k != "id").collect();
                if !names.is_empty() {
                    target.remove_attr(&names[*k as usize % names.len()]);
                }
            }
            Edit::Delete(n) => {
                let p = pick(*n);
                if let Some((&last, parent)) = p.split_last() {
                    at(doc, parent).children.remove(last);
                }
            }
            Edit::Move(n, to) => {
                let p = pick(*n);
                if let Some((&last, parent)) = p.split_last() {
                    let parent = at(doc, parent);
                    let node = parent.children.remove(last);
                    let to = *to as usize % (parent.children.len() + 1);
                    parent.children.insert(to, node);
                }
            }
            Edit::AddChild(n, to) => {
                let parent = at(doc, &pick(*n));
                let to = *to as usize % (parent.children.len() + 1);
                let child = Element::new("nvpair").with_attr("id", format!("prop-new-{serial}")).with_attr("value", "v");
                parent.children.insert(to, Node::Element(child));
            }
            Edit::AddComment(n, to, text) => {
                let parent = at(doc, &pick(*n));
                let to = *to as usize % (parent.children.len() + 1);
                parent.children.insert(to, Node::Comment(text.clone()));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn apply_of_diff_gives_new(doc_pick in any::<prop::sample::Index>(),
                                   edits in prop::collection::vec(edit_strategy(), 1..6),
                                   attr_moves in any::<bool>()) {
            thread_local!(static CORPUS: Vec<Element> = corpus());
            let old = CORPUS.with(|c| c[doc_pick.index(c.len())].clone());
            let mut new = old.clone();
            for (i, e) in edits.iter().enumerate() {
                apply_edit(&mut new, e, i);
            }
            let patch = diff_with(&old, &new, DiffOptions { attr_moves }).unwrap();
            let mut got = old.clone();
            apply_with(&mut got, &patch, ApplyOptions { check_version: false }).unwrap();
            if attr_moves {
                prop_assert_eq!(got.to_xml(), new.to_xml(), "patch:\n{}", patch.to_xml());
            } else {
                // Without attribute moves, only the attribute order may differ.
                prop_assert_eq!(canonical(&got), canonical(&new), "patch:\n{}", patch.to_xml());
            }
            // The patch describes the edit, not the document: each edit
            // costs at most a few changes naming one element.
            let budget = edits.len() * (600 + 3 * widest_start_tag(&old));
            prop_assert!(patch.to_xml().len() <= budget + 300, "patch too large:\n{}", patch.to_xml());
        }
    }

    /// Length of the longest start tag in the tree.
    fn widest_start_tag(doc: &Element) -> usize {
        doc.descendants()
            .map(|e| {
                let mut bare = Element::new(e.name.as_str());
                for (k, v) in e.attrs() {
                    bare.set_attr(k, v);
                }
                bare.to_xml_compact().len()
            })
            .max()
            .unwrap_or(0)
    }

    /// The tree with every element's attributes sorted by name.
    fn canonical(e: &Element) -> String {
        fn sort(e: &Element) -> Element {
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
                    Node::Element(c) => Node::Element(sort(c)),
                    other => other.clone(),
                })
                .collect();
            out
        }
        sort(e).to_xml()
    }
}
