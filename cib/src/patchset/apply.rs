//! Applying a patchset (format 2 here, format 1 through [`super::v1`]).
//!
//! The order of work is Pacemaker's, because the positions in a patch only
//! mean what they mean under that order:
//!
//! 1. every change is looked up by path, in patch order; deletes and
//!    modifies happen at once, creates and moves are set aside (a moved
//!    node is parked at the end of its siblings meanwhile);
//! 2. the set-aside changes are sorted by position (stably) and done: a
//!    create inserts before the node now at that position, a move puts its
//!    node there.
//!
//! A delete that finds nothing is ignored (the node is already gone);
//! anything else that finds nothing fails the whole patch. The document is
//! changed only when everything succeeded (we work on a copy), where
//! Pacemaker's tools likewise discard a partly applied copy.

use super::digest::versioned_digest;
use super::path::{self, node_name, Step};
use super::{check_version, format_of, v1, PatchError};
use crate::xml::{Element, Node};

/// How to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Require the document to be at the patch's source version, and the
    /// patch to move it forward (`crm_diff --cib`, the CIB manager).
    pub check_version: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { check_version: true }
    }
}

/// Applies a patchset (format 1 or 2) to `doc`, checking versions as the
/// CIB manager does. On error `doc` is unchanged.
pub fn apply(doc: &mut Element, patch: &Element) -> Result<(), PatchError> {
    apply_with(doc, patch, ApplyOptions::default())
}

/// [`apply`] with options (e.g. without the version check, for
/// `crm_diff --patch` without `--cib`).
pub fn apply_with(doc: &mut Element, patch: &Element, opts: ApplyOptions) -> Result<(), PatchError> {
    let format = format_of(patch)?;
    if opts.check_version {
        check_version(doc, patch)?;
    }
    let result = match format {
        1 => v1::apply_v1(doc, patch)?,
        2 => apply_v2(doc, patch)?,
        _ => return Err(PatchError::UnknownFormat { format: format.to_string() }),
    };
    if let Some(expected) = patch.attr("digest") {
        let calculated = versioned_digest(&result, result.attr("crm_feature_set"));
        if !calculated.eq_ignore_ascii_case(expected) {
            return Err(PatchError::DigestMismatch { expected: expected.to_string(), calculated });
        }
    }
    *doc = result;
    Ok(())
}

/// Applies the changes of a v2 patchset to a copy of `doc`.
fn apply_v2(doc: &Element, patch: &Element) -> Result<Element, PatchError> {
    let mut a = Arena::from_element(doc);
    // (position, change, matched node) of the creates and moves set aside.
    let mut deferred: Vec<(i64, &Element, usize)> = Vec::new();

    for change in patch.elements() {
        let Some(op) = change.attr("operation") else { continue };
        let path_str = change.attr("path").unwrap_or("");
        let bad = |reason: &str| PatchError::BadChange { path: path_str.to_string(), reason: reason.to_string() };
        // Only deletes use a position for lookup (to pick one of several
        // comments); for creates and moves it is where the node goes.
        let lookup_pos = if op == "delete" { int_attr(change, "position") } else { None };
        let steps = path::parse(path_str)?;
        let found = a.search(&steps, lookup_pos);
        let Some(node) = found else {
            if op == "delete" {
                continue;
            }
            return Err(PatchError::NoMatch { operation: op.to_string(), path: path_str.to_string() });
        };
        match op {
            "create" | "move" => {
                deferred.push((int_attr(change, "position").unwrap_or(0), change, node));
                if op == "move" {
                    // Park it at the end so that it does not count while the
                    // other nodes find their positions.
                    if let Some(parent) = a.nodes[node].parent {
                        a.detach(node);
                        a.nodes[parent].children.push(node);
                        a.nodes[node].parent = Some(parent);
                    }
                }
            }
            "delete" => a.detach(node),
            "modify" => {
                let result = change
                    .child("change-result")
                    .and_then(|r| r.children.iter().find(|c| !matches!(c, Node::Text(_))))
                    .ok_or_else(|| bad("modify without a change-result"))?;
                let Node::Element(result) = result else {
                    return Err(bad("change-result does not hold an element"));
                };
                let NodeData::Element { attrs, .. } = &mut a.nodes[node].data else {
                    return Err(bad("modify names a node that is not an element"));
                };
                *attrs = result.attrs().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            }
            other => return Err(bad(&format!("unknown operation {other:?}"))),
        }
    }

    deferred.sort_by_key(|(pos, _, _)| *pos);
    for (position, change, node) in deferred {
        let path_str = change.attr("path").unwrap_or("");
        if change.attr("operation") == Some("create") {
            let content = change
                .children
                .iter()
                .find(|c| !matches!(c, Node::Text(t) if t.trim().is_empty()))
                .ok_or_else(|| PatchError::BadChange {
                    path: path_str.to_string(),
                    reason: "create without content".to_string(),
                })?;
            let child = a.add_node(content, None);
            let before = a.child_at(node, position);
            a.insert(node, child, before);
        } else {
            a.move_to(node, position, path_str)?;
        }
    }
    Ok(a.to_element(0))
}

fn int_attr(e: &Element, name: &str) -> Option<i64> {
    e.attr(name).and_then(|v| v.trim().parse().ok())
}

/// The document being patched, as an arena so that matched nodes keep
/// their identity while other changes move things around.
struct Arena {
    nodes: Vec<ANode>,
}

struct ANode {
    data: NodeData,
    parent: Option<usize>,
    children: Vec<usize>,
}

enum NodeData {
    Element { name: String, attrs: Vec<(String, String)>, line: u32 },
    Leaf(Node),
}

impl Arena {
    fn from_element(root: &Element) -> Arena {
        let mut a = Arena { nodes: Vec::new() };
        a.add_element(root, None);
        a
    }

    fn add_element(&mut self, e: &Element, parent: Option<usize>) -> usize {
        let idx = self.nodes.len();
        self.nodes.push(ANode {
            data: NodeData::Element {
                name: e.name.clone(),
                attrs: e.attrs().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                line: e.line,
            },
            parent,
            children: Vec::new(),
        });
        for c in &e.children {
            let ci = self.add_node(c, Some(idx));
            self.nodes[idx].children.push(ci);
        }
        idx
    }

    fn add_node(&mut self, n: &Node, parent: Option<usize>) -> usize {
        match n {
            Node::Element(e) => self.add_element(e, parent),
            other => {
                self.nodes.push(ANode { data: NodeData::Leaf(other.clone()), parent, children: Vec::new() });
                self.nodes.len() - 1
            }
        }
    }

    fn name(&self, idx: usize) -> &str {
        match &self.nodes[idx].data {
            NodeData::Element { name, .. } => name,
            NodeData::Leaf(n) => node_name(n),
        }
    }

    fn id(&self, idx: usize) -> Option<&str> {
        match &self.nodes[idx].data {
            NodeData::Element { attrs, .. } => attrs.iter().find(|(k, _)| k == "id").map(|(_, v)| v.as_str()),
            NodeData::Leaf(_) => None,
        }
    }

    /// Index of a node among its siblings (every kind of node counts, as in
    /// libxml2's sibling list).
    fn position(&self, idx: usize) -> usize {
        match self.nodes[idx].parent {
            Some(p) => self.nodes[p].children.iter().position(|&c| c == idx).unwrap_or(0),
            None => 0,
        }
    }

    /// Pacemaker's `search_v2_xpath`: follows the steps from the root. The
    /// position, if any, is for the last step and selects among non-element
    /// nodes only.
    fn search(&self, steps: &[Step], position: Option<i64>) -> Option<usize> {
        let (first, rest) = steps.split_first()?;
        let root_ok = self.name(0) == first.name && first.id.as_deref().is_none_or(|id| self.id(0) == Some(id));
        if !root_ok {
            return None;
        }
        let mut cur = 0;
        for (i, step) in rest.iter().enumerate() {
            let last = i + 1 == rest.len();
            cur = *self.nodes[cur].children.iter().find(|&&c| {
                if self.name(c) != step.name {
                    return false;
                }
                if let Some(id) = &step.id {
                    if self.id(c) != Some(id.as_str()) {
                        return false;
                    }
                }
                let is_leaf = matches!(self.nodes[c].data, NodeData::Leaf(_));
                match (last, is_leaf, position) {
                    (true, true, Some(p)) if p >= 0 => self.position(c) as i64 == p,
                    _ => true,
                }
            })?;
        }
        Some(cur)
    }

    fn detach(&mut self, idx: usize) {
        if let Some(p) = self.nodes[idx].parent.take() {
            self.nodes[p].children.retain(|&c| c != idx);
        }
    }

    /// The child of `parent` at `position`, if there is one.
    fn child_at(&self, parent: usize, position: i64) -> Option<usize> {
        usize::try_from(position).ok().and_then(|p| self.nodes[parent].children.get(p).copied())
    }

    /// Inserts `child` into `parent` before `before` (or at the end).
    fn insert(&mut self, parent: usize, child: usize, before: Option<usize>) {
        let at = before
            .and_then(|b| self.nodes[parent].children.iter().position(|&c| c == b))
            .unwrap_or(self.nodes[parent].children.len());
        self.nodes[parent].children.insert(at, child);
        self.nodes[child].parent = Some(parent);
    }

    /// Pacemaker's second-phase move: put `idx` at `position` among its
    /// siblings, and check that it landed there.
    fn move_to(&mut self, idx: usize, position: i64, path: &str) -> Result<(), PatchError> {
        let Some(parent) = self.nodes[idx].parent else {
            return Err(PatchError::BadChange { path: path.to_string(), reason: "cannot move the root".into() });
        };
        let current = self.position(idx) as i64;
        if position != current {
            // Counting as if `idx` were already gone from its old place.
            let p = if position > current { position + 1 } else { position };
            let before = self.child_at(parent, p);
            self.detach(idx);
            self.insert(parent, idx, before);
        }
        let actual = self.position(idx);
        if actual as i64 != position {
            return Err(PatchError::MoveFailed {
                path: path.to_string(),
                wanted: position.max(0) as usize,
                actual,
            });
        }
        Ok(())
    }

    fn to_element(&self, idx: usize) -> Element {
        let NodeData::Element { name, attrs, line } = &self.nodes[idx].data else {
            unreachable!("to_element is called on elements only");
        };
        let mut e = Element::new(name.as_str());
        e.line = *line;
        for (k, v) in attrs {
            e.set_attr(k, v.as_str());
        }
        for &c in &self.nodes[idx].children {
            e.children.push(match &self.nodes[c].data {
                NodeData::Element { .. } => Node::Element(self.to_element(c)),
                NodeData::Leaf(n) => n.clone(),
            });
        }
        e
    }
}
