//! The `constraints` section: location, colocation, order and ticket
//! constraints and resource sets.

use super::rule::{self, for_constraints};
use super::{child, el, V};
use crate::datatype::Ty;
use crate::pattern::{all, attr, build, many, maybe, one_of, opt, opt_attr, seq, some, Pat, Spec};

pub fn roles(v: V) -> &'static [&'static str] {
    if v.ge(3, 7) {
        &["Stopped", "Started", "Promoted", "Unpromoted", "Master", "Slave"]
    } else {
        &["Stopped", "Started", "Master", "Slave"]
    }
}

const ACTIONS: &[&str] = &["start", "promote", "demote", "stop"];
const ORDER_KINDS: &[&str] = &["Optional", "Mandatory", "Serialize"];

pub fn constraints(v: V) -> Spec {
    let mut kinds = vec![
        child!("rsc_location", location(v)),
        child!("rsc_colocation", colocation(v)),
        child!("rsc_order", order(v)),
    ];
    if v.ge(1, 2) {
        kinds.push(child!("rsc_ticket", ticket(v)));
    }
    el("constraints", many(kinds))
}

fn sets(v: V) -> Pat {
    some(vec![child!("resource_set", resource_set(v))])
}

fn score_or_kind() -> Pat {
    opt(one_of(vec![attr("score", Ty::Score), attr("kind", Ty::Enum(ORDER_KINDS))]))
}

fn lifetime(v: V) -> Pat {
    maybe("lifetime", build(move || el("lifetime", rule::rules(for_constraints(v)))))
}

fn location(v: V) -> Spec {
    let mut parts = vec![
        attr("id", Ty::Id),
        one_of(vec![
            all(vec![
                one_of(vec![attr("rsc", Ty::IdRef), attr("rsc-pattern", Ty::Text)]),
                opt_attr("role", Ty::Enum(roles(v))),
            ]),
            sets(v),
        ]),
        one_of(vec![all(vec![attr("score", Ty::Score), attr("node", Ty::Text)]), rule::rules(for_constraints(v))]),
        lifetime(v),
    ];
    if v.ge(2, 2) {
        parts.push(opt_attr("resource-discovery", Ty::Enum(&["always", "never", "exclusive"])));
    }
    el("rsc_location", seq(parts))
}

fn colocation(v: V) -> Spec {
    let mut pair = vec![
        attr("rsc", Ty::IdRef),
        attr("with-rsc", Ty::IdRef),
        opt_attr("node-attribute", Ty::Text),
        opt_attr("rsc-role", Ty::Enum(roles(v))),
        opt_attr("with-rsc-role", Ty::Enum(roles(v))),
    ];
    if !v.ge(3, 0) {
        pair.push(opt_attr("score-attribute", Ty::Text));
        pair.push(opt_attr("score-attribute-mangle", Ty::Text));
    }
    let mut parts = vec![attr("id", Ty::Id), opt_attr("score", Ty::Score)];
    if v.ge(3, 6) {
        parts.push(opt_attr("influence", Ty::Text));
    }
    parts.push(lifetime(v));
    parts.push(one_of(vec![sets(v), all(pair)]));
    el("rsc_colocation", seq(parts))
}

fn order(v: V) -> Spec {
    el(
        "rsc_order",
        seq(vec![
            attr("id", Ty::Id),
            lifetime(v),
            opt_attr("symmetrical", Ty::Bool),
            opt_attr("require-all", Ty::Bool),
            score_or_kind(),
            one_of(vec![
                sets(v),
                all(vec![
                    attr("first", Ty::IdRef),
                    attr("then", Ty::IdRef),
                    opt_attr("first-action", Ty::Enum(ACTIONS)),
                    opt_attr("then-action", Ty::Enum(ACTIONS)),
                ]),
            ]),
        ]),
    )
}

fn ticket(v: V) -> Spec {
    el(
        "rsc_ticket",
        all(vec![
            attr("id", Ty::Id),
            one_of(vec![sets(v), all(vec![attr("rsc", Ty::IdRef), opt_attr("rsc-role", Ty::Enum(roles(v)))])]),
            attr("ticket", Ty::Text),
            opt_attr("loss-policy", Ty::Enum(&["stop", "demote", "fence", "freeze"])),
        ]),
    )
}

fn resource_set(v: V) -> Spec {
    el(
        "resource_set",
        one_of(vec![
            attr("id-ref", Ty::IdRef),
            all(vec![
                attr("id", Ty::Id),
                opt_attr("sequential", Ty::Bool),
                opt_attr("require-all", Ty::Bool),
                opt_attr("ordering", Ty::Enum(&["group", "listed"])),
                opt_attr("action", Ty::Enum(ACTIONS)),
                opt_attr("role", Ty::Enum(roles(v))),
                score_or_kind(),
                some(vec![child!("resource_ref", el("resource_ref", attr("id", Ty::IdRef)))]),
            ]),
        ]),
    )
}
