//! Name/value sets: `instance_attributes`, `meta_attributes`,
//! `utilization` and `cluster_property_set`.
//!
//! A set has an optional score (its precedence: higher first) and an
//! optional rule (it applies only when the rule matches). Heartbeat 2.x
//! put the nvpairs inside an `<attributes>` wrapper; both layouts read the
//! same, and [`NvSet::heartbeat_wrapper`] says which one was written.
//!
//! The model keeps sets and pairs in document order. Which value wins when
//! several sets define a name is decided by [`by_precedence`]: Pacemaker
//! takes sets by descending score and, among equal scores, the set
//! written *last* first (it builds the list backwards before a stable
//! sort; checked with Pacemaker 2.1.5's crm_resource); the first
//! definition of a name then wins. Rules and `#default` values are the
//! evaluator's business.

use super::error::ModelError;
use super::read::{id_or_empty, score_attr, Reader};
use super::rules::Rule;
use super::score::Score;
use crate::xml::Element;

/// Which kind of set this is (its element name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NvSetKind {
    Instance,
    Meta,
    Utilization,
    ClusterProperty,
}

impl NvSetKind {
    pub fn element_name(self) -> &'static str {
        match self {
            NvSetKind::Instance => "instance_attributes",
            NvSetKind::Meta => "meta_attributes",
            NvSetKind::Utilization => "utilization",
            NvSetKind::ClusterProperty => "cluster_property_set",
        }
    }
}

/// One set of name/value pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvSet {
    pub kind: NvSetKind,
    pub id: String,
    pub line: u32,
    /// Set when written as `<... id-ref="X"/>`: the fields are those of
    /// the referenced set X.
    pub id_ref: Option<String>,
    /// Precedence among sets of the same kind; `None` is 0.
    pub score: Option<Score>,
    /// The set applies only where this rule matches. (The schema allows
    /// one; Heartbeat's DTD allowed several, which Pacemaker combines with
    /// `and`: they are kept in `extra_rules`.)
    pub rule: Option<Rule>,
    pub extra_rules: Vec<Rule>,
    pub pairs: Vec<NvPair>,
    /// The pairs were inside Heartbeat 2.x's `<attributes>` wrapper.
    pub heartbeat_wrapper: bool,
}

/// `<nvpair>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvPair {
    pub id: String,
    pub line: u32,
    /// Set when written as `<nvpair id-ref="X"/>`: name and value come
    /// from nvpair X unless given here.
    pub id_ref: Option<String>,
    /// The name exactly as written (Heartbeat's underscores included);
    /// see [`super::names`] for the canonical spelling.
    pub name: String,
    /// `None` when the pair has no value (distinct from an empty value).
    pub value: Option<String>,
}

impl NvSet {
    /// Reads a set (following `id-ref`).
    pub(crate) fn read<'a>(r: &mut Reader<'a>, kind: NvSetKind, written: &'a Element) -> Result<NvSet, ModelError> {
        let (el, id_ref) = r.resolve(written)?;
        // Heartbeat 2.x: <instance_attributes><attributes><nvpair/>...
        let mut holders: Vec<&Element> = vec![el];
        let wrappers: Vec<&Element> = el.children_named("attributes").collect();
        let heartbeat_wrapper = !wrappers.is_empty();
        holders.extend(wrappers);
        let mut pairs = Vec::new();
        for holder in holders {
            for p in holder.children_named("nvpair") {
                pairs.push(NvPair::read(r, p)?);
            }
        }
        let mut rules = el.children_named("rule").map(|x| Rule::read(r, x)).collect::<Result<Vec<_>, _>>()?.into_iter();
        Ok(NvSet {
            kind,
            id: id_or_empty(el),
            line: el.line,
            id_ref,
            score: score_attr(el, &["score"]),
            rule: rules.next(),
            extra_rules: rules.collect(),
            pairs,
            heartbeat_wrapper,
        })
    }

    /// Reads every child of `parent` that is a set of this kind.
    pub(crate) fn read_all<'a>(r: &mut Reader<'a>, kind: NvSetKind, parent: &'a Element) -> Result<Vec<NvSet>, ModelError> {
        parent.children_named(kind.element_name()).map(|el| NvSet::read(r, kind, el)).collect()
    }

    /// The first pair with this name, as written (no canonicalisation, no
    /// rule evaluation).
    pub fn get(&self, name: &str) -> Option<&NvPair> {
        self.pairs.iter().find(|p| p.name == name)
    }

    /// Whether the set applies unconditionally.
    pub fn is_unconditional(&self) -> bool {
        self.rule.is_none() && self.extra_rules.is_empty()
    }
}

/// Sets in the order Pacemaker consults them: the set with id `first`
/// (crm_config's `cib-bootstrap-options`) before all others, then by
/// descending score (absent = 0), equal scores last-written first.
pub fn by_precedence<'s>(sets: &'s [NvSet], first: Option<&str>) -> Vec<&'s NvSet> {
    let mut v: Vec<&NvSet> = sets.iter().rev().collect();
    v.sort_by_key(|s| (Some(s.id.as_str()) != first, std::cmp::Reverse(s.score.unwrap_or(Score::ZERO))));
    v
}

impl NvPair {
    fn read<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<NvPair, ModelError> {
        let (target, id_ref) = r.resolve(el)?;
        // Pacemaker: a referencing pair may rename; the value comes from
        // the pair itself if given, else from the referenced one.
        let name = el.attr("name").or_else(|| target.attr("name"));
        let name = name
            .ok_or_else(|| ModelError::MissingAttribute { element: "nvpair".into(), attribute: "name", line: el.line })?
            .to_string();
        let value = el.attr("value").or_else(|| target.attr("value")).map(str::to_string);
        Ok(NvPair { id: id_or_empty(el), line: el.line, id_ref, name, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_element;

    #[test]
    fn pacemaker_layout_with_score_and_rule() {
        let el = parse_element(
            r##"<meta_attributes id="m" score="10">
                 <rule id="r" score="0"><expression id="e" attribute="#uname" operation="eq" value="n1"/></rule>
                 <nvpair id="p1" name="target-role" value="Stopped"/>
                 <nvpair id="p2" name="empty"/>
               </meta_attributes>"##,
        )
        .unwrap();
        let mut r = Reader::new(&el);
        let s = NvSet::read(&mut r, NvSetKind::Meta, &el).unwrap();
        assert_eq!((s.id.as_str(), s.score, s.heartbeat_wrapper), ("m", Some(Score::from(10)), false));
        assert_eq!(s.rule.as_ref().unwrap().id, "r");
        assert!(!s.is_unconditional());
        assert_eq!(s.get("target-role").unwrap().value.as_deref(), Some("Stopped"));
        assert_eq!(s.get("empty").unwrap().value, None);
    }

    #[test]
    fn precedence_matches_pacemaker() {
        let root = parse_element(
            r#"<primitive id="p">
                 <instance_attributes id="a"><nvpair id="a1" name="fake" value="AAA"/></instance_attributes>
                 <instance_attributes id="b"><nvpair id="b1" name="fake" value="BBB"/></instance_attributes>
                 <instance_attributes id="c" score="5"><nvpair id="c1" name="x" value="1"/></instance_attributes>
                 <instance_attributes id="cib-bootstrap-options" score="-5"/>
               </primitive>"#,
        )
        .unwrap();
        let mut r = Reader::new(&root);
        let sets = NvSet::read_all(&mut r, NvSetKind::Instance, &root).unwrap();
        let order = |first| by_precedence(&sets, first).iter().map(|s| s.id.as_str()).collect::<Vec<_>>();
        // crm_resource -g fake answers BBB for sets a then b.
        assert_eq!(order(None), ["c", "b", "a", "cib-bootstrap-options"]);
        assert_eq!(order(Some("cib-bootstrap-options")), ["cib-bootstrap-options", "c", "b", "a"]);
    }

    #[test]
    fn heartbeat_attributes_wrapper() {
        let el = parse_element(
            r##"<instance_attributes id="ia"><attributes>
                 <nvpair id="a0" name="ip" value="192.168.1.205"/>
                 <nvpair id="a1" name="target_role" value="started"/>
               </attributes></instance_attributes>"##,
        )
        .unwrap();
        let mut r = Reader::new(&el);
        let s = NvSet::read(&mut r, NvSetKind::Instance, &el).unwrap();
        assert!(s.heartbeat_wrapper);
        assert!(s.is_unconditional());
        let names: Vec<_> = s.pairs.iter().map(|p| (p.name.as_str(), p.value.as_deref().unwrap())).collect();
        assert_eq!(names, [("ip", "192.168.1.205"), ("target_role", "started")]);
    }

    #[test]
    fn id_refs_for_sets_and_pairs() {
        let root = parse_element(
            r##"<resources>
                 <primitive id="a"><meta_attributes id="shared"><nvpair id="sp" name="priority" value="5"/></meta_attributes></primitive>
                 <primitive id="b"><meta_attributes id-ref="shared"/>
                   <instance_attributes id="ib"><nvpair id-ref="sp"/><nvpair id-ref="sp" name="weight"/></instance_attributes></primitive>
                 <primitive id="c"><meta_attributes id-ref="nowhere"/></primitive>
               </resources>"##,
        )
        .unwrap();
        let mut r = Reader::new(&root);
        let b: Vec<&Element> = root.elements().collect();
        let s = NvSet::read(&mut r, NvSetKind::Meta, b[1].child("meta_attributes").unwrap()).unwrap();
        assert_eq!((s.id.as_str(), s.id_ref.as_deref()), ("shared", Some("shared")));
        assert_eq!(s.get("priority").unwrap().value.as_deref(), Some("5"));
        let i = NvSet::read(&mut r, NvSetKind::Instance, b[1].child("instance_attributes").unwrap()).unwrap();
        assert_eq!(i.pairs[0].name, "priority");
        assert_eq!((i.pairs[1].name.as_str(), i.pairs[1].value.as_deref()), ("weight", Some("5")));
        let err = NvSet::read(&mut r, NvSetKind::Meta, b[2].child("meta_attributes").unwrap()).unwrap_err();
        assert!(matches!(err, ModelError::DanglingIdRef { ref id_ref, .. } if id_ref == "nowhere"));
    }
}
