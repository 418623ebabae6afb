//! The node paths of v2 patchsets: `/cib/configuration/resources/primitive[@id='x']`.
//!
//! A path is a list of steps from the root; a step is an element name with
//! an optional `[@id='...']` predicate. Elements without an id are named by
//! their name alone (so a path always means the *first* such sibling, which
//! is why Pacemaker's format cannot tell apart id-less siblings of one
//! name). Comments are named `comment`, as libxml2 names comment nodes;
//! we extend the scheme to the other non-element nodes with `text`,
//! `cdata` and `processing-instruction` (Pacemaker never emits those).

use std::fmt::Write as _;

use crate::xml::Node;

use super::PatchError;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub id: Option<String>,
}

/// The step name of a node: its element name, or the libxml2-style name of
/// a non-element node.
pub fn node_name(node: &Node) -> &str {
    match node {
        Node::Element(e) => &e.name,
        Node::Comment(_) => "comment",
        Node::Text(_) => "text",
        Node::CData(_) => "cdata",
        Node::Pi(_) => "processing-instruction",
    }
}

/// Appends one step (`/name` or `/name[@id='x']`) to a path.
pub fn push_step(path: &mut String, name: &str, id: Option<&str>) {
    path.push('/');
    path.push_str(name);
    if let Some(id) = id {
        let _ = write!(path, "[@id='{id}']");
    }
}

/// Splits a path into steps.
///
/// Stricter than Pacemaker in one way and looser in another, both on
/// purpose: a predicate other than `[@id='...']` is an error here
/// (Pacemaker silently ignores it and matches by name alone, which could
/// patch the wrong node), and an id may contain `/` or spaces (Pacemaker's
/// `sscanf` splitting would cut it short).
pub fn parse(path: &str) -> Result<Vec<Step>, PatchError> {
    let bad = |reason: &str| PatchError::BadPath { path: path.to_string(), reason: reason.to_string() };
    let mut rest = path.strip_prefix('/').ok_or_else(|| bad("does not start with '/'"))?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        let name_end = rest.find(['/', '[']).unwrap_or(rest.len());
        let name = &rest[..name_end];
        if name.is_empty() {
            return Err(bad("empty step"));
        }
        rest = &rest[name_end..];
        let mut id = None;
        if let Some(pred) = rest.strip_prefix('[') {
            let (quote, body) = if let Some(b) = pred.strip_prefix("@id='") {
                ('\'', b)
            } else if let Some(b) = pred.strip_prefix("@id=\"") {
                ('"', b)
            } else {
                return Err(bad("only [@id='...'] predicates are supported"));
            };
            let close = format!("{quote}]");
            let end = body.find(&close).ok_or_else(|| bad("unterminated [@id=...] predicate"))?;
            id = Some(body[..end].to_string());
            rest = &body[end + close.len()..];
        }
        steps.push(Step { name: name.to_string(), id });
        match rest.strip_prefix('/') {
            Some(r) if !r.is_empty() => rest = r,
            Some(_) => return Err(bad("trailing '/'")),
            None if rest.is_empty() => {}
            None => return Err(bad("unexpected text after a predicate")),
        }
    }
    if steps.is_empty() {
        return Err(bad("no steps"));
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, id: Option<&str>) -> Step {
        Step { name: name.into(), id: id.map(Into::into) }
    }

    #[test]
    fn parses_pacemaker_paths() {
        assert_eq!(
            parse("/cib/configuration/resources/primitive[@id='r 1/x']").unwrap(),
            vec![
                step("cib", None),
                step("configuration", None),
                step("resources", None),
                step("primitive", Some("r 1/x")),
            ]
        );
        assert_eq!(parse("/cib/r/comment").unwrap()[2], step("comment", None));
        assert_eq!(parse("/a[@id=\"it's\"]").unwrap(), vec![step("a", Some("it's"))]);
    }

    #[test]
    fn rejects_what_it_cannot_follow() {
        for p in ["", "cib", "/", "/cib//x", "/cib/", "/x[@name='a']", "/x[@id='a'", "/x[@id='a']y"] {
            assert!(parse(p).is_err(), "{p:?} should be rejected");
        }
    }

    #[test]
    fn builds_steps() {
        let mut p = String::new();
        push_step(&mut p, "cib", None);
        push_step(&mut p, "primitive", Some("x"));
        assert_eq!(p, "/cib/primitive[@id='x']");
    }
}
