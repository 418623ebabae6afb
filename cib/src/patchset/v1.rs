//! Applying the legacy format 1 patchset, which Pacemaker still writes when
//! the source CIB's feature set is 3.0.8 or older.
//!
//! ```xml
//! <diff format="1">
//!   <diff-removed admin_epoch=.. epoch=.. num_updates=..>
//!     <cib ...> ...old values, and removed subtrees marked
//!               __crm_diff_marker__="removed:top"... </cib>
//!   </diff-removed>
//!   <diff-added ...>
//!     <cib ...> ...new values, and added subtrees marked
//!               __crm_diff_marker__="added:top"... </cib>
//!   </diff-added>
//! </diff>
//! ```
//!
//! Elements are matched by name and id. Removal first: a subtree marked
//! `removed:top` is deleted, otherwise the attributes it lists (except
//! `id`) are removed and its children visited. Then addition: a subtree
//! marked `added:top` is appended, otherwise the listed attributes are set
//! (moved to the end, in patch order) and its children visited.
//!
//! Comments: Pacemaker 2.1.5 neither removes nor adds comments listed in a
//! v1 diff, so such a diff fails its own digest check there. We remove a
//! comment listed under `diff-removed` (matching by content) and append one
//! listed under `diff-added` that the element lacks, which is what the
//! diff says happened.
//!
//! v1 cannot express moves; we do not produce v1, only read it.

use super::PatchError;
use crate::xml::{Element, Node};

const MARKER: &str = "__crm_diff_marker__";

/// Applies a v1 patchset to a copy of `doc`.
pub fn apply_v1(doc: &Element, patch: &Element) -> Result<Element, PatchError> {
    let mut out = doc.clone();
    for (tag, remove) in [("diff-removed", true), ("diff-added", false)] {
        let Some(section) = patch.child(tag) else { continue };
        let mut roots = section.elements();
        let Some(root) = roots.next() else { continue };
        if roots.next().is_some() {
            return Err(PatchError::BadChange {
                path: format!("/diff/{tag}"),
                reason: "more than one change set".into(),
            });
        }
        if root.name != out.name || root.id() != out.id() {
            // Pacemaker logs an assertion and skips the section.
            continue;
        }
        if remove {
            removals(&mut out, root);
        } else {
            additions(&mut out, root);
        }
    }
    purge_markers(&mut out);
    Ok(out)
}

fn same(a: &Element, b: &Element) -> bool {
    a.name == b.name && a.id() == b.id()
}

fn removals(target: &mut Element, patch: &Element) {
    for (k, _) in patch.attrs() {
        if k != "id" {
            target.remove_attr(k);
        }
    }
    for pc in &patch.children {
        match pc {
            Node::Element(pe) => {
                let Some(i) = target.children.iter().position(|c| matches!(c, Node::Element(te) if same(te, pe)))
                else {
                    continue;
                };
                if pe.attr(MARKER) == Some("removed:top") {
                    target.children.remove(i);
                } else if let Node::Element(te) = &mut target.children[i] {
                    removals(te, pe);
                }
            }
            Node::Comment(text) => {
                if let Some(i) = target.children.iter().position(|c| matches!(c, Node::Comment(t) if t == text)) {
                    target.children.remove(i);
                }
            }
            _ => {}
        }
    }
}

fn additions(target: &mut Element, patch: &Element) {
    for (k, v) in patch.attrs() {
        // Re-adding puts the attribute last: the patch's order wins.
        target.remove_attr(k);
        target.set_attr(k, v);
    }
    for pc in &patch.children {
        match pc {
            Node::Element(pe) => {
                let found = target.children.iter().position(|c| matches!(c, Node::Element(te) if same(te, pe)));
                match found {
                    Some(i) => {
                        if let Node::Element(te) = &mut target.children[i] {
                            additions(te, pe);
                        }
                    }
                    None if pe.attr(MARKER) == Some("added:top") => target.children.push(pc.clone()),
                    // Pacemaker logs "Could not locate" and goes on.
                    None => {}
                }
            }
            Node::Comment(text)
                if !target.children.iter().any(|c| matches!(c, Node::Comment(t) if t == text)) =>
            {
                target.children.push(pc.clone());
            }
            _ => {}
        }
    }
}

fn purge_markers(e: &mut Element) {
    e.remove_attr(MARKER);
    for c in e.elements_mut() {
        purge_markers(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_element;

    #[test]
    fn applies_pacemaker_v1_output() {
        // Made by Pacemaker 2.1.5's crm_diff (a CIB without crm_feature_set).
        let old = parse_element(r#"<cib epoch="1" num_updates="2" admin_epoch="0"><configuration><resources><primitive id="r1" class="ocf" type="Dummy"/><!-- hello --><primitive id="r2" class="ocf" type="Dummy"/></resources><constraints/></configuration><status/></cib>"#).unwrap();
        let patch = parse_element(r#"<diff crm_feature_set="3.16.1" format="1" digest="6996f33293dea51649501c287ffd99f1">
  <diff-removed admin_epoch="0" epoch="1" num_updates="2">
    <cib epoch="1" admin_epoch="0" num_updates="2">
      <configuration><resources><primitive id="r1" type="Dummy"/><!-- hello --></resources></configuration>
    </cib>
  </diff-removed>
  <diff-added admin_epoch="0" epoch="2" num_updates="2">
    <cib epoch="2" num_updates="2" admin_epoch="0">
      <configuration><resources>
          <primitive id="r2" class="ocf" type="Dummy" x="1"/>
          <primitive id="r3" class="ocf" type="Dummy" __crm_diff_marker__="added:top"/>
      </resources></configuration>
    </cib>
  </diff-added>
</diff>"#).unwrap();
        let got = apply_v1(&old, &patch).unwrap();
        // v1 cannot move r2 before r1, so the order is the old one.
        assert_eq!(
            got.to_xml_compact(),
            r#"<cib epoch="2" num_updates="2" admin_epoch="0"><configuration><resources><primitive id="r1" class="ocf"/><primitive id="r2" class="ocf" type="Dummy" x="1"/><primitive id="r3" class="ocf" type="Dummy"/></resources><constraints/></configuration><status/></cib>"#
        );
    }

    #[test]
    fn removed_top_deletes_the_subtree() {
        let old = parse_element(r#"<cib><a id="1"><b id="2"/></a></cib>"#).unwrap();
        let patch = parse_element(r#"<diff format="1"><diff-removed><cib><a id="1"><b id="2" __crm_diff_marker__="removed:top"/></a></cib></diff-removed><diff-added/></diff>"#).unwrap();
        assert_eq!(apply_v1(&old, &patch).unwrap().to_xml_compact(), r#"<cib><a id="1"/></cib>"#);
    }
}
