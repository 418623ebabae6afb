//! Rules and their expressions. Four generations matter:
//! `rule-2.9` (score or score-attribute required on every rule),
//! `rule-3.4` (adds `rsc_expression` and `op_expression`),
//! `rule-3.5` (adds expression type `integer`) and
//! `rule-3.9` (scores optional, looser `date_expression`, `seconds` and
//! `minutes` in durations and date specs).

use super::{child, el, V};
use crate::datatype::Ty;
use crate::pattern::{all, attr, maybe, one, one_of, opt, opt_attr, some, Pat, Spec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Gen {
    R29,
    R34,
    R35,
    R39,
}

/// Rule generation used inside name/value sets at version `v`.
pub fn for_nvset(v: V) -> Gen {
    if v.ge(3, 9) {
        Gen::R39
    } else if v.ge(3, 5) {
        Gen::R35
    } else if v.ge(3, 4) {
        Gen::R34
    } else {
        Gen::R29
    }
}

/// Rule generation used by constraints at version `v` (constraints kept
/// `rule-2.9` through 3.4).
pub fn for_constraints(v: V) -> Gen {
    if v.ge(3, 9) {
        Gen::R39
    } else if v.ge(3, 5) {
        Gen::R35
    } else {
        Gen::R29
    }
}

pub fn rule(g: Gen) -> Spec {
    let score = one_of(vec![attr("score", Ty::Score), attr("score-attribute", Ty::Text)]);
    let mut content = vec![
        child!("expression", expression(g)),
        child!("date_expression", date_expression(g)),
        child!("rule", rule(g)),
    ];
    if g >= Gen::R34 {
        content.push(child!("rsc_expression", rsc_expression()));
        content.push(child!("op_expression", op_expression()));
    }
    let own = all(vec![
        attr("id", Ty::Id),
        opt_attr("boolean-op", Ty::Enum(&["or", "and"])),
        opt_attr("role", Ty::Text),
        some(content),
        if g == Gen::R39 { opt(score) } else { score },
    ]);
    el("rule", one_of(vec![attr("id-ref", Ty::IdRef), own]))
}

fn expression(g: Gen) -> Spec {
    let types: &'static [&'static str] =
        if g >= Gen::R35 { &["string", "integer", "number", "version"] } else { &["string", "number", "version"] };
    el(
        "expression",
        all(vec![
            attr("id", Ty::Id),
            attr("attribute", Ty::Text),
            attr(
                "operation",
                Ty::Enum(&["lt", "gt", "lte", "gte", "eq", "ne", "defined", "not_defined"]),
            ),
            opt_attr("value", Ty::Text),
            opt_attr("type", Ty::Enum(types)),
            opt_attr("value-source", Ty::Enum(&["literal", "param", "meta"])),
        ]),
    )
}

fn date_expression(g: Gen) -> Spec {
    let op = |name: &'static [&'static str]| attr("operation", Ty::Enum(name));
    let in_range = if g == Gen::R39 {
        all(vec![
            op(&["in_range"]),
            one_of(vec![
                attr("start", Ty::Text),
                attr("end", Ty::Text),
                all(vec![attr("start", Ty::Text), attr("end", Ty::Text)]),
            ]),
            maybe("duration", crate::pattern::build(move || date_fields("duration", g))),
        ])
    } else {
        all(vec![
            op(&["in_range"]),
            one_of(vec![
                all(vec![opt_attr("start", Ty::Text), attr("end", Ty::Text)]),
                all(vec![
                    attr("start", Ty::Text),
                    one("duration", crate::pattern::build(move || date_fields("duration", g))),
                ]),
            ]),
        ])
    };
    el(
        "date_expression",
        all(vec![
            attr("id", Ty::Id),
            one_of(vec![
                in_range,
                all(vec![op(&["gt"]), attr("start", Ty::Text)]),
                all(vec![op(&["lt"]), attr("end", Ty::Text)]),
                all(vec![
                    op(&["date_spec"]),
                    one("date_spec", crate::pattern::build(move || date_fields("date_spec", g))),
                ]),
            ]),
        ]),
    )
}

/// `duration` and `date_spec`: an id and optional calendar fields.
fn date_fields(name: &'static str, g: Gen) -> Spec {
    let fields: &[&'static str] = match (g, name) {
        (Gen::R39, "duration") => &[
            "years", "months", "weeks", "days", "hours", "minutes", "seconds", "monthdays", "weekdays",
            "yearsdays", "weekyears", "moon",
        ],
        (Gen::R39, _) => &[
            "years", "months", "monthdays", "hours", "minutes", "seconds", "yeardays", "weekyears", "weeks",
            "weekdays", "moon", "yearsdays",
        ],
        _ => &["hours", "monthdays", "weekdays", "yearsdays", "months", "weeks", "years", "weekyears", "moon"],
    };
    let mut parts: Vec<Pat> = vec![attr("id", Ty::Id)];
    parts.extend(fields.iter().map(|f| opt_attr(f, Ty::Text)));
    el(name, all(parts))
}

fn rsc_expression() -> Spec {
    el(
        "rsc_expression",
        all(vec![
            attr("id", Ty::Id),
            opt_attr("class", Ty::Text),
            opt_attr("provider", Ty::Text),
            opt_attr("type", Ty::Text),
        ]),
    )
}

fn op_expression() -> Spec {
    el("op_expression", all(vec![attr("id", Ty::Id), attr("name", Ty::Text), opt_attr("interval", Ty::Text)]))
}

/// A rule as the only kind of child, at least once (`lifetime`, and
/// `rsc_location`'s rule alternative).
pub fn rules(g: Gen) -> Pat {
    some(vec![child!("rule", rule(g))])
}
