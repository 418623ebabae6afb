//! Content patterns: what attributes and child elements an element may
//! have, in a small algebra modelled on RelaxNG's (choice, interleave,
//! group, optional, repetition), and its flattening into alternatives.
//!
//! A pattern mixes attributes and child elements, because the CIB schemas
//! do: a location constraint has *either* `score` and `node` attributes
//! *or* `rule` children. Matching works on the flattened form: every
//! pattern becomes a short list of [`Alt`]s (a disjunctive normal form),
//! and an element is valid when one alternative accepts it. The schemas'
//! choices are few and shallow, so the lists stay small.

use std::rc::Rc;

use crate::datatype::Ty;

/// Builds the spec of a child element on demand; specs are recursive
/// (rules nest), so children are described lazily.
pub type Build = Rc<dyn Fn() -> Spec>;

/// What one element may contain.
#[derive(Clone)]
pub struct Spec {
    pub name: &'static str,
    pub body: Body,
}

#[derive(Clone)]
pub enum Body {
    /// Checked against a pattern.
    Pattern(Pat),
    /// Checked against a pattern, but attributes and children the
    /// pattern does not mention are tolerated (Heartbeat 2.x dialect).
    Open(Pat),
    /// Anything at all, recursively, with no ids (the status section).
    Any,
}

/// A pattern over an element's attributes and children.
#[derive(Clone)]
pub enum Pat {
    Attr { name: &'static str, ty: Ty, required: bool },
    /// Between `min` and `max` children, in total, named among `of`.
    Elems { min: u32, max: Option<u32>, of: Vec<(&'static str, Build)> },
    /// All parts, children in any order (RelaxNG interleave).
    All(Vec<Pat>),
    /// All parts; the children each part matches come after those of
    /// the parts before it (RelaxNG group). Only meaningful at top level.
    Seq(Vec<Pat>),
    /// Exactly one of the parts.
    OneOf(Vec<Pat>),
    Opt(Box<Pat>),
    Empty,
}

/// A required attribute.
pub fn attr(name: &'static str, ty: Ty) -> Pat {
    Pat::Attr { name, ty, required: true }
}

/// An optional attribute.
pub fn opt_attr(name: &'static str, ty: Ty) -> Pat {
    Pat::Attr { name, ty, required: false }
}

/// Exactly one child element.
pub fn one(name: &'static str, build: Build) -> Pat {
    Pat::Elems { min: 1, max: Some(1), of: vec![(name, build)] }
}

/// At most one child element.
pub fn maybe(name: &'static str, build: Build) -> Pat {
    Pat::Elems { min: 0, max: Some(1), of: vec![(name, build)] }
}

/// Any number of children among these.
pub fn many(of: Vec<(&'static str, Build)>) -> Pat {
    Pat::Elems { min: 0, max: None, of }
}

/// At least one child among these.
pub fn some(of: Vec<(&'static str, Build)>) -> Pat {
    Pat::Elems { min: 1, max: None, of }
}

pub fn all(parts: Vec<Pat>) -> Pat {
    Pat::All(parts)
}

pub fn seq(parts: Vec<Pat>) -> Pat {
    Pat::Seq(parts)
}

pub fn one_of(parts: Vec<Pat>) -> Pat {
    Pat::OneOf(parts)
}

pub fn opt(p: Pat) -> Pat {
    Pat::Opt(Box::new(p))
}

/// Wraps a spec-building function as a [`Build`].
pub fn build(f: impl Fn() -> Spec + 'static) -> Build {
    Rc::new(f)
}

/// An attribute slot in one alternative.
#[derive(Clone)]
pub struct AttrLeaf {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
}

/// A child-element slot in one alternative.
#[derive(Clone)]
pub struct ElemLeaf {
    pub name: &'static str,
    pub build: Build,
    /// Position of the top-level group part it belongs to; children must
    /// appear in non-decreasing rank.
    pub rank: u32,
}

/// A cardinality constraint over children with these names.
#[derive(Clone)]
pub struct Count {
    pub names: Vec<&'static str>,
    pub min: u32,
    pub max: Option<u32>,
}

/// One way of satisfying a pattern: a flat set of slots.
#[derive(Clone, Default)]
pub struct Alt {
    pub attrs: Vec<AttrLeaf>,
    pub elems: Vec<ElemLeaf>,
    pub counts: Vec<Count>,
}

impl Alt {
    fn merge(&self, other: &Alt) -> Alt {
        let mut out = self.clone();
        out.attrs.extend(other.attrs.iter().cloned());
        out.elems.extend(other.elems.iter().cloned());
        out.counts.extend(other.counts.iter().cloned());
        out
    }

    pub fn attr(&self, name: &str) -> Option<&AttrLeaf> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub fn elem(&self, name: &str) -> Option<&ElemLeaf> {
        self.elems.iter().find(|e| e.name == name)
    }
}

impl Pat {
    /// The alternatives this pattern allows.
    pub fn flatten(&self) -> Vec<Alt> {
        match self {
            Pat::Seq(parts) => product(parts, true),
            other => other.flatten_ranked(0),
        }
    }

    fn flatten_ranked(&self, rank: u32) -> Vec<Alt> {
        match self {
            Pat::Empty => vec![Alt::default()],
            Pat::Attr { name, ty, required } => vec![Alt {
                attrs: vec![AttrLeaf { name, ty: *ty, required: *required }],
                ..Alt::default()
            }],
            Pat::Elems { min, max, of } => vec![Alt {
                elems: of.iter().map(|(name, b)| ElemLeaf { name, build: b.clone(), rank }).collect(),
                counts: vec![Count { names: of.iter().map(|(n, _)| *n).collect(), min: *min, max: *max }],
                ..Alt::default()
            }],
            Pat::All(parts) | Pat::Seq(parts) => {
                let mut alts = vec![Alt::default()];
                for p in parts {
                    let pa = p.flatten_ranked(rank);
                    alts = alts.iter().flat_map(|a| pa.iter().map(move |b| a.merge(b))).collect();
                }
                alts
            }
            Pat::OneOf(parts) => parts.iter().flat_map(|p| p.flatten_ranked(rank)).collect(),
            Pat::Opt(inner) => match &**inner {
                // Cheap special cases that avoid doubling the alternatives.
                Pat::Attr { name, ty, .. } => Pat::Attr { name, ty: *ty, required: false }.flatten_ranked(rank),
                Pat::Elems { max, of, .. } => {
                    Pat::Elems { min: 0, max: *max, of: of.clone() }.flatten_ranked(rank)
                }
                p => {
                    let mut alts = vec![Alt::default()];
                    alts.extend(p.flatten_ranked(rank));
                    alts
                }
            },
        }
    }
}

/// Cartesian product of the parts' alternatives; `ranked` gives each part
/// its own rank so that the group's order is enforced.
fn product(parts: &[Pat], ranked: bool) -> Vec<Alt> {
    let mut alts = vec![Alt::default()];
    for (i, p) in parts.iter().enumerate() {
        let pa = p.flatten_ranked(if ranked { i as u32 } else { 0 });
        alts = alts.iter().flat_map(|a| pa.iter().map(move |b| a.merge(b))).collect();
    }
    alts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf() -> Build {
        build(|| Spec { name: "x", body: Body::Any })
    }

    #[test]
    fn choices_multiply_and_optionals_of_leaves_do_not() {
        let p = all(vec![
            attr("id", Ty::Id),
            opt_attr("a", Ty::Text),
            opt(one_of(vec![attr("score", Ty::Score), attr("kind", Ty::Text)])),
            one_of(vec![some(vec![("set", leaf())]), all(vec![attr("first", Ty::IdRef), attr("then", Ty::IdRef)])]),
        ]);
        assert_eq!(p.flatten().len(), 3 * 2);
    }

    #[test]
    fn seq_ranks_parts() {
        let p = seq(vec![one("a", leaf()), maybe("b", leaf())]);
        let alts = p.flatten();
        assert_eq!(alts.len(), 1);
        assert_eq!(alts[0].elem("a").unwrap().rank, 0);
        assert_eq!(alts[0].elem("b").unwrap().rank, 1);
    }
}
