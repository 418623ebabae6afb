//! Making a v2 patchset from two trees.
//!
//! Pacemaker does not diff trees directly: it marks the new tree with
//! per-node and per-attribute flags (created, deleted, dirty, moved, skip)
//! while walking old and new side by side, then writes the patch from the
//! flags. The *skip* flag matters most: once a node has been counted as
//! moved or created it is left out of later position computations, which is
//! what keeps one inserted node from turning every later sibling into a
//! "move". To produce byte-for-byte the same changes we replay that walk on
//! an arena that mirrors both trees and holds the flags; the input trees
//! are never modified.
//!
//! The work done is proportional to the size of the trees, but the patch
//! only contains what changed.

use super::path::{node_name, push_step};
use super::{PatchError, VERSION_FIELDS};
use crate::xml::{Element, Node};

/// How to compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Report attributes whose *position* changed (as a "set" of the same
    /// value). Off for CIBs, where attribute order carries no meaning:
    /// that is `crm_diff --cib` and the CIB manager; on for plain
    /// `crm_diff`.
    pub attr_moves: bool,
}

/// The v2 patchset turning `old` into `new`, comparing as a CIB (attribute
/// order ignored).
///
/// # Panics
///
/// If the roots differ in name or id: both trees must be versions of one
/// document. Use [`try_diff`] on untrusted input.
pub fn diff(old: &Element, new: &Element) -> Element {
    match try_diff(old, new) {
        Ok(patch) => patch,
        Err(e) => panic!("patchset::diff: {e}"),
    }
}

/// [`diff`] for trees that may not belong together.
pub fn try_diff(old: &Element, new: &Element) -> Result<Element, PatchError> {
    diff_with(old, new, DiffOptions::default())
}

/// The v2 patchset turning `old` into `new`.
///
/// The patch always has a `<version>` (values default to "1" when the
/// roots carry none, as Pacemaker's do); it has no `<change>` when the
/// trees are equal — see [`super::is_empty`].
pub fn diff_with(old: &Element, new: &Element, opts: DiffOptions) -> Result<Element, PatchError> {
    if old.name != new.name || old.id() != new.id() {
        return Err(PatchError::RootMismatch { old: old.name.clone(), new: new.name.clone() });
    }
    let mut old_t = Tree::default();
    let old_root = old_t.add_element(old, None);
    let mut new_t = Tree::default();
    let new_root = new_t.add_element(new, None);

    let mut w = Walk { old: old_t, new: new_t, opts, deleted: Vec::new() };
    w.mark_changes(old_root, new_root);

    let mut patch = Element::new("diff").with_attr("format", "2");
    let mut version = Element::new("version");
    for (tag, root) in [("source", old), ("target", new)] {
        let mut v = Element::new(tag);
        for f in VERSION_FIELDS {
            v.set_attr(f, root.attr(f).unwrap_or("1"));
        }
        version = version.with_child(v);
    }
    patch = patch.with_child(version);
    for d in std::mem::take(&mut w.deleted) {
        let mut change =
            Element::new("change").with_attr("operation", "delete").with_attr("path", d.path);
        if let Some(p) = d.position {
            change.set_attr("position", p.to_string());
        }
        patch = patch.with_child(change);
    }
    w.emit_changes(new_root, &mut patch);
    Ok(patch)
}

/// Flags Pacemaker keeps on a node while tracking changes.
#[derive(Debug, Default, Clone, Copy)]
struct NodeFlags {
    created: bool,
    moved: bool,
    /// Left out of position counts (see the module docs).
    skip: bool,
    /// Already compared; a second match to it is ignored.
    processed: bool,
}

#[derive(Debug, Clone)]
struct Attr {
    name: String,
    value: String,
    created: bool,
    dirty: bool,
    /// Present in old only; kept (at the end) so the patch can say "unset".
    deleted: bool,
    skip: bool,
}

/// A node of either tree, with the flags of the walk.
struct TNode<'a> {
    node: NodeRef<'a>,
    parent: Option<usize>,
    children: Vec<usize>,
    attrs: Vec<Attr>,
    flags: NodeFlags,
}

#[derive(Clone, Copy)]
enum NodeRef<'a> {
    /// The root (which is not wrapped in a `Node`).
    Root(&'a Element),
    Child(&'a Node),
}

impl<'a> NodeRef<'a> {
    fn element(self) -> Option<&'a Element> {
        match self {
            NodeRef::Root(e) | NodeRef::Child(Node::Element(e)) => Some(e),
            NodeRef::Child(_) => None,
        }
    }
    fn name(self) -> &'a str {
        match self {
            NodeRef::Root(e) => &e.name,
            NodeRef::Child(n) => node_name(n),
        }
    }
    fn id(self) -> Option<&'a str> {
        self.element().and_then(|e| e.id())
    }
    /// Content of a non-element node, compared to match comments etc.
    fn leaf(self) -> Option<(std::mem::Discriminant<Node>, &'a str)> {
        match self {
            NodeRef::Child(n @ (Node::Comment(t) | Node::Text(t) | Node::CData(t) | Node::Pi(t))) => {
                Some((std::mem::discriminant(n), t.as_str()))
            }
            _ => None,
        }
    }
    fn to_node(self) -> Node {
        match self {
            NodeRef::Root(e) => Node::Element(e.clone()),
            NodeRef::Child(n) => n.clone(),
        }
    }
}

#[derive(Default)]
struct Tree<'a> {
    nodes: Vec<TNode<'a>>,
}

impl<'a> Tree<'a> {
    fn add_element(&mut self, e: &'a Element, parent: Option<usize>) -> usize {
        self.add(NodeRef::Root(e), parent)
    }

    fn add(&mut self, node: NodeRef<'a>, parent: Option<usize>) -> usize {
        let idx = self.nodes.len();
        let attrs = node
            .element()
            .map(|e| {
                e.attrs()
                    .map(|(k, v)| Attr {
                        name: k.to_string(),
                        value: v.to_string(),
                        created: false,
                        dirty: false,
                        deleted: false,
                        skip: false,
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.nodes.push(TNode { node, parent, children: Vec::new(), attrs, flags: NodeFlags::default() });
        if let Some(e) = node.element() {
            for c in &e.children {
                let ci = self.add(NodeRef::Child(c), Some(idx));
                self.nodes[idx].children.push(ci);
            }
        }
        idx
    }

    /// Pacemaker's `pcmk__xml_position`: the number of siblings up to and
    /// including this node that are not marked `skip` (when `skip_aware`),
    /// minus one. For an unskipped node that is the index it would have if
    /// the skipped ones were not there; a skipped node gets one less, which
    /// matters when comments are matched by position.
    fn position(&self, idx: usize, skip_aware: bool) -> isize {
        let Some(parent) = self.nodes[idx].parent else { return 0 };
        let sibs = &self.nodes[parent].children;
        let upto = sibs.iter().position(|&s| s == idx).expect("a child is among its parent's children");
        let counted = sibs[..=upto]
            .iter()
            .filter(|&&s| !(skip_aware && self.nodes[s].flags.skip))
            .count();
        counted as isize - 1
    }

    /// The path of a node (see [`super::path`]).
    fn path(&self, idx: usize) -> String {
        let mut chain = vec![idx];
        let mut cur = idx;
        while let Some(p) = self.nodes[cur].parent {
            chain.push(p);
            cur = p;
        }
        let mut path = String::new();
        for &i in chain.iter().rev() {
            let n = self.nodes[i].node;
            push_step(&mut path, n.name(), n.id());
        }
        path
    }

    /// Pacemaker's `pcmk__xml_match`: the child of `parent` that corresponds
    /// to `needle` (a node of the *other* tree). Elements match by name and,
    /// if the needle has one, id: the first such child wins. Other nodes
    /// match only at the same skip-aware position with the same content.
    fn find_match(&self, parent: usize, other: &Tree<'_>, needle: usize) -> Option<usize> {
        let nref = other.nodes[needle].node;
        match nref.leaf() {
            None => {
                let (name, id) = (nref.name(), nref.id());
                self.nodes[parent].children.iter().copied().find(|&c| {
                    let cref = self.nodes[c].node;
                    cref.element().is_some()
                        && cref.name() == name
                        && (id.is_none() || cref.id() == id)
                })
            }
            Some(content) => {
                let wanted = other.position(needle, true);
                for &c in &self.nodes[parent].children {
                    let offset = self.position(c, true);
                    if offset < wanted {
                        continue;
                    }
                    if offset > wanted {
                        return None;
                    }
                    if self.nodes[c].flags.skip {
                        continue;
                    }
                    // Pacemaker compares comments case-insensitively, so a
                    // change of case alone would be lost; we compare exactly.
                    return (self.nodes[c].node.leaf() == Some(content)).then_some(c);
                }
                None
            }
        }
    }
}

/// A deletion, recorded during the walk and written first.
struct Deleted {
    path: String,
    position: Option<isize>,
}

struct Walk<'a> {
    old: Tree<'a>,
    new: Tree<'a>,
    opts: DiffOptions,
    deleted: Vec<Deleted>,
}

impl Walk<'_> {
    /// Pacemaker's `mark_xml_changes` for a matched pair.
    fn mark_changes(&mut self, old: usize, new: usize) {
        if self.new.nodes[new].flags.processed {
            return;
        }
        self.new.nodes[new].flags.processed = true;
        if self.new.nodes[new].node.element().is_some() {
            self.diff_attrs(old, new);
        }

        // Old children: recurse into matches, record deletions.
        for oc in self.old.nodes[old].children.clone() {
            match self.new.find_match(new, &self.old, oc) {
                Some(nc) => self.mark_changes(oc, nc),
                None => self.mark_deleted(oc, new),
            }
        }

        // New children: creations and moves.
        for nc in self.new.nodes[new].children.clone() {
            match self.old.find_match(old, &self.new, nc) {
                None => {
                    self.new.nodes[nc].flags.skip = true;
                    self.mark_created(nc);
                }
                Some(oc) => {
                    let p_new = self.new.position(nc, true);
                    let p_old = self.old.position(oc, true);
                    if p_old != p_new {
                        self.new.nodes[nc].flags.moved = true;
                        if p_old > p_new {
                            self.old.nodes[oc].flags.skip = true;
                        } else {
                            self.new.nodes[nc].flags.skip = true;
                        }
                    }
                }
            }
        }
    }

    fn mark_created(&mut self, idx: usize) {
        self.new.nodes[idx].flags.created = true;
        for c in self.new.nodes[idx].children.clone() {
            self.mark_created(c);
        }
    }

    /// Records `old_child` (absent from `new_parent`) as deleted. Only
    /// non-element nodes get a position: an element is found by its path.
    fn mark_deleted(&mut self, old_child: usize, new_parent: usize) {
        let node = self.old.nodes[old_child].node;
        let mut path = self.new.path(new_parent);
        push_step(&mut path, node.name(), node.id());
        let position = node.leaf().map(|_| self.old.position(old_child, true));
        self.deleted.push(Deleted { path, position });
        self.old.nodes[old_child].flags.skip = true;
    }

    /// Pacemaker's `xml_diff_attrs`: flags each attribute of `new` as
    /// created, changed, moved or (appended, from old) deleted.
    fn diff_attrs(&mut self, old: usize, new: usize) {
        for a in &mut self.new.nodes[new].attrs {
            a.created = true;
        }
        for oi in 0..self.old.nodes[old].attrs.len() {
            let (name, old_value) = {
                let a = &self.old.nodes[old].attrs[oi];
                (a.name.clone(), a.value.clone())
            };
            let found = self.new.nodes[new].attrs.iter().position(|a| a.name == name && !a.deleted);
            match found {
                None => self.new.nodes[new].attrs.push(Attr {
                    name,
                    value: old_value,
                    created: false,
                    dirty: false,
                    deleted: true,
                    skip: false,
                }),
                Some(ni) => {
                    self.new.nodes[new].attrs[ni].created = false;
                    if self.new.nodes[new].attrs[ni].value != old_value {
                        self.new.nodes[new].attrs[ni].dirty = true;
                    } else if self.opts.attr_moves {
                        let p_new = attr_position(&self.new.nodes[new].attrs, ni);
                        let p_old = attr_position(&self.old.nodes[old].attrs, oi);
                        if p_old != p_new {
                            self.new.nodes[new].attrs[ni].dirty = true;
                            if p_old > p_new {
                                self.old.nodes[old].attrs[oi].skip = true;
                            } else {
                                self.new.nodes[new].attrs[ni].skip = true;
                            }
                        }
                    }
                }
            }
        }
        for a in &mut self.new.nodes[new].attrs {
            if a.created {
                a.dirty = true;
            }
        }
    }

    /// Pacemaker's `add_xml_changes_to_patchset`: writes the changes of the
    /// subtree at `idx` in document order.
    fn emit_changes(&self, idx: usize, patch: &mut Element) {
        let t = &self.new;
        let n = &t.nodes[idx];
        if n.flags.created {
            let Some(parent) = n.parent else { return };
            let change = Element::new("change")
                .with_attr("operation", "create")
                .with_attr("path", t.path(parent))
                .with_attr("position", t.position(idx, false).to_string());
            let mut change = change;
            change.children.push(n.node.to_node());
            patch.children.push(Node::Element(change));
            return;
        }

        let changed: Vec<&Attr> = n.attrs.iter().filter(|a| a.deleted || a.dirty).collect();
        if !changed.is_empty() {
            let mut list = Element::new("change-list");
            for a in changed {
                let mut ca = Element::new("change-attr").with_attr("name", a.name.as_str());
                if a.deleted {
                    ca.set_attr("operation", "unset");
                } else {
                    ca.set_attr("operation", "set");
                    ca.set_attr("value", a.value.as_str());
                }
                list = list.with_child(ca);
            }
            let mut result = Element::new(n.node.name());
            for a in n.attrs.iter().filter(|a| !a.deleted) {
                result.set_attr(&a.name, a.value.as_str());
            }
            let change = Element::new("change")
                .with_attr("operation", "modify")
                .with_attr("path", t.path(idx))
                .with_child(list)
                .with_child(Element::new("change-result").with_child(result));
            patch.children.push(Node::Element(change));
        }

        for &c in &n.children {
            self.emit_changes(c, patch);
        }

        if n.flags.moved {
            let change = Element::new("change")
                .with_attr("operation", "move")
                .with_attr("path", t.path(idx))
                .with_attr("position", t.position(idx, false).to_string());
            patch.children.push(Node::Element(change));
        }
    }
}

/// Position of attribute `i`, counted as [`Tree::position`] counts nodes.
fn attr_position(attrs: &[Attr], i: usize) -> isize {
    attrs[..=i].iter().filter(|a| !a.skip).count() as isize - 1
}
