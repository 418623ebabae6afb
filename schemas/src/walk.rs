//! Checks a tree against a grammar: each element against its [`Spec`],
//! then the document-wide `ID`/`IDREF` rules.

use std::collections::HashMap;

use cib::Element;

use crate::datatype::Ty;
use crate::pattern::{Alt, Body, Spec};
use crate::report::{Problem, Report, Severity};

/// One way an element fails one alternative.
enum Issue<'a> {
    AttrNotAllowed(&'a str),
    AttrMissing(&'static str),
    BadValue { attr: &'a str, value: &'a str },
    ChildNotAllowed(&'a Element),
    TooFew { names: Vec<&'static str>, min: u32 },
    TooMany { names: Vec<&'static str>, max: u32 },
    OutOfOrder(&'a Element),
    Text,
}

impl Issue<'_> {
    /// How far an alternative is from fitting. A wrong or missing value
    /// costs less than an attribute that has no place at all, so that `kind="Sometimes"` is reported as
    /// a bad kind rather than as an attribute the kind-less branch of a
    /// choice does not allow.
    fn cost(&self) -> u32 {
        match self {
            Issue::BadValue { .. } | Issue::AttrMissing(_) => 1,
            _ => 2,
        }
    }
}

/// Where an `ID` was first declared.
struct Declared {
    element: String,
    line: u32,
}

/// An `IDREF` waiting to be resolved once every `ID` is known.
struct Reference {
    from: Problem,
    attr: String,
    target: String,
}

#[derive(Default)]
pub struct Walker {
    report: Report,
    ids: HashMap<String, Declared>,
    refs: Vec<Reference>,
}

impl Walker {
    /// Checks `root` against `spec`, then resolves references.
    pub fn run(root: &Element, spec: &Spec) -> Report {
        let mut w = Walker::default();
        if root.name != spec.name {
            w.report
                .problems
                .push(Problem::error(root, format!("root element must be <{}>, not <{}>", spec.name, root.name)));
            return w.report;
        }
        w.check(root, spec);
        w.resolve_refs();
        w.report
    }

    fn check(&mut self, el: &Element, spec: &Spec) {
        let (pat, open) = match &spec.body {
            Body::Any => return,
            Body::Pattern(p) => (p, false),
            Body::Open(p) => (p, true),
        };
        let alts = pat.flatten();
        let scored: Vec<Vec<Issue>> = alts.iter().map(|a| issues(el, a, open)).collect();
        let cost = |issues: &[Issue]| issues.iter().map(Issue::cost).sum::<u32>();
        let best = (0..alts.len()).min_by_key(|&i| cost(&scored[i])).expect("a pattern has an alternative");
        let alt = &alts[best];
        for issue in &scored[best] {
            self.report_issue(el, issue, &alts);
        }
        self.record_ids(el, alt);
        for child in el.elements() {
            if let Some(leaf) = alt.elem(&child.name) {
                self.check(child, &(leaf.build)());
            }
        }
    }

    fn report_issue(&mut self, el: &Element, issue: &Issue, alts: &[Alt]) {
        let p = match issue {
            Issue::AttrNotAllowed(a) => Problem::error(el, format!("attribute '{a}' is not allowed here")),
            Issue::AttrMissing(a) => Problem::error(el, format!("missing required attribute '{a}'")),
            Issue::BadValue { attr, value } => {
                Problem::error(el, format!("invalid {attr} '{value}': expected {}", expected(alts, attr)))
            }
            Issue::ChildNotAllowed(c) => {
                Problem::error(c, format!("element <{}> is not allowed inside <{}>", c.name, el.name))
            }
            Issue::TooFew { names, min } => Problem::error(
                el,
                if *min == 1 {
                    format!("missing required child element <{}>", names.join("> or <"))
                } else {
                    format!("needs at least {min} <{}> child elements", names.join("> or <"))
                },
            ),
            Issue::TooMany { names, max } => {
                Problem::error(el, format!("at most {max} <{}> child element(s) allowed", names.join("> or <")))
            }
            Issue::OutOfOrder(c) => Problem::error(c, format!("element <{}> is out of order inside <{}>", c.name, el.name)),
            Issue::Text => Problem::error(el, "text content is not allowed here"),
        };
        self.report.problems.push(p);
    }

    fn record_ids(&mut self, el: &Element, alt: &Alt) {
        for (name, value) in el.attrs() {
            let Some(leaf) = alt.attr(name) else { continue };
            if !leaf.ty.accepts(value) {
                continue;
            }
            let value = value.trim();
            match leaf.ty {
                Ty::Id => {
                    if let Some(first) = self.ids.get(value) {
                        let msg = format!(
                            "duplicate id '{value}' (already used by <{}> on line {})",
                            first.element, first.line
                        );
                        self.report.problems.push(Problem::error(el, msg));
                    } else {
                        self.ids.insert(value.to_string(), Declared { element: el.name.clone(), line: el.line });
                    }
                }
                Ty::IdRef => self.refs.push(Reference {
                    from: Problem::error(el, String::new()),
                    attr: name.to_string(),
                    target: value.to_string(),
                }),
                _ => {}
            }
        }
    }

    fn resolve_refs(&mut self) {
        for r in std::mem::take(&mut self.refs) {
            if !self.ids.contains_key(&r.target) {
                let mut p = r.from;
                p.message = format!("{} refers to '{}', which is not the id of anything", r.attr, r.target);
                self.report.problems.push(p);
            }
        }
    }
}

/// Everything wrong with `el` under one alternative.
fn issues<'a>(el: &'a Element, alt: &Alt, open: bool) -> Vec<Issue<'a>> {
    let mut out = Vec::new();
    for (name, value) in el.attrs() {
        match alt.attr(name) {
            Some(leaf) if !leaf.ty.accepts(value) => out.push(Issue::BadValue { attr: name, value }),
            Some(_) => {}
            // Namespaced attributes (xmlns, xsi:...) are outside the CIB vocabulary.
            None if open || name.starts_with("xmlns") => {}
            None => out.push(Issue::AttrNotAllowed(name)),
        }
    }
    for leaf in &alt.attrs {
        if leaf.required && el.attr(leaf.name).is_none() {
            out.push(Issue::AttrMissing(leaf.name));
        }
    }
    let mut max_rank = 0;
    for child in el.elements() {
        match alt.elem(&child.name) {
            Some(leaf) => {
                if leaf.rank < max_rank {
                    out.push(Issue::OutOfOrder(child));
                }
                max_rank = max_rank.max(leaf.rank);
            }
            None if open => {}
            None => out.push(Issue::ChildNotAllowed(child)),
        }
    }
    for c in &alt.counts {
        let n = el.elements().filter(|e| c.names.contains(&e.name.as_str())).count() as u32;
        if n < c.min {
            out.push(Issue::TooFew { names: c.names.clone(), min: c.min });
        }
        if let Some(max) = c.max {
            if n > max {
                out.push(Issue::TooMany { names: c.names.clone(), max });
            }
        }
    }
    if !open && !el.text().trim().is_empty() {
        out.push(Issue::Text);
    }
    out
}

/// What any alternative would accept for `attr`, merged, so that a bad
/// `class` lists every class and not only those of the closest alternative.
fn expected(alts: &[Alt], attr: &str) -> String {
    let mut enum_values: Vec<&str> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    for a in alts {
        match a.attr(attr).map(|l| l.ty) {
            Some(Ty::Enum(vs)) => {
                for v in vs {
                    if !enum_values.contains(v) {
                        enum_values.push(v);
                    }
                }
            }
            Some(t) => {
                let d = t.describe();
                if !others.contains(&d) {
                    others.push(d);
                }
            }
            None => {}
        }
    }
    if !enum_values.is_empty() {
        others.insert(0, format!("one of: {}", enum_values.join(", ")));
    }
    others.join("; or ")
}

/// Turns every error of a report into a warning (used where Pacemaker
/// does not validate but we still have useful things to say).
pub fn demote(report: &mut Report) {
    for p in &mut report.problems {
        p.severity = Severity::Warning;
    }
}
