//! The smaller sections: nodes, fencing topology, ACLs, tags, alerts.

use super::nvset::{nvset, Names};
use super::{child, el, V};
use crate::datatype::Ty;
use crate::pattern::{all, attr, build, many, maybe, one_of, opt_attr, some, Body, Pat, Spec};

pub fn nodes(v: V) -> Spec {
    el("nodes", many(vec![child!("node", node(v))]))
}

fn node(v: V) -> Spec {
    let types: &'static [&'static str] =
        if v.ge(3, 0) { &["member", "ping", "remote"] } else { &["normal", "member", "ping", "remote"] };
    let mut sets = vec![child!("instance_attributes", nvset("instance_attributes", v, Names::Any))];
    if v.ge(1, 3) {
        sets.push(child!("utilization", nvset("utilization", v, Names::Any)));
    }
    el(
        "node",
        all(vec![
            // Node ids are cluster-layer ids (often numbers), not XML IDs.
            attr("id", Ty::Text),
            attr("uname", Ty::Text),
            opt_attr("type", Ty::Enum(types)),
            opt_attr("description", Ty::Text),
            opt_attr("score", Ty::Score),
            many(sets),
        ]),
    )
}

pub fn fencing_topology(v: V) -> Spec {
    el("fencing-topology", many(vec![child!("fencing-level", fencing_level(v))]))
}

fn fencing_level(v: V) -> Spec {
    let mut targets = vec![attr("target", Ty::Text), attr("target-pattern", Ty::Text)];
    if v.ge(2, 4) {
        targets.push(all(vec![attr("target-attribute", Ty::Text), attr("target-value", Ty::Text)]));
    }
    el(
        "fencing-level",
        all(vec![
            attr("id", Ty::Id),
            one_of(targets),
            attr("index", Ty::PositiveInt),
            attr("devices", Ty::DeviceList),
        ]),
    )
}

pub fn acls(v: V) -> Spec {
    if !v.ge(2, 0) {
        // The 1.x ACL syntax (acl_user, role with permissions inline) is
        // not modelled; accept it unchecked rather than reject it wrongly.
        return Spec { name: "acls", body: Body::Any };
    }
    let role_ref = || child!("role", el("role", attr("id", Ty::IdRef)));
    let holder = move |name: &'static str, id: Ty| {
        let mut parts = vec![attr("id", id), many(vec![role_ref()])];
        if v.ge(3, 8) {
            parts.push(opt_attr("name", Ty::Text));
        }
        el(name, all(parts))
    };
    el(
        "acls",
        many(vec![
            // acl_target ids are user names, not XML IDs.
            child!("acl_target", holder("acl_target", Ty::Text)),
            child!("acl_group", holder("acl_group", Ty::Id)),
            child!("acl_role", acl_role()),
        ]),
    )
}

fn acl_role() -> Spec {
    el(
        "acl_role",
        all(vec![
            attr("id", Ty::Id),
            opt_attr("description", Ty::Text),
            many(vec![child!("acl_permission", acl_permission())]),
        ]),
    )
}

fn acl_permission() -> Spec {
    el(
        "acl_permission",
        all(vec![
            attr("id", Ty::Id),
            attr("kind", Ty::Enum(&["read", "write", "deny"])),
            one_of(vec![
                attr("xpath", Ty::Text),
                attr("reference", Ty::IdRef),
                all(vec![attr("object-type", Ty::Text), opt_attr("attribute", Ty::Text)]),
            ]),
            opt_attr("description", Ty::Text),
        ]),
    )
}

pub fn tags(v: V) -> Spec {
    el("tags", many(vec![child!("tag", tag(v))]))
}

fn tag(v: V) -> Spec {
    // obj_ref ids were IDREFs until 3.3 made them plain text; from then
    // on dangling ones are only warned about (see crate::warnings).
    let target = if v.ge(3, 3) { Ty::Text } else { Ty::IdRef };
    el("tag", all(vec![attr("id", Ty::Id), some(vec![child!("obj_ref", el("obj_ref", attr("id", target)))])]))
}

pub fn alerts(v: V) -> Spec {
    el("alerts", many(vec![child!("alert", alert(v))]))
}

fn alert_sets(v: V) -> Pat {
    many(vec![
        child!("meta_attributes", nvset("meta_attributes", v, Names::Any)),
        child!("instance_attributes", nvset("instance_attributes", v, Names::Any)),
    ])
}

fn alert(v: V) -> Spec {
    let mut parts = vec![
        attr("id", Ty::Id),
        opt_attr("description", Ty::Text),
        attr("path", Ty::Text),
        alert_sets(v),
        many(vec![child!("recipient", recipient(v))]),
    ];
    if v.ge(2, 10) {
        parts.push(maybe("select", build(select)));
    }
    el("alert", all(parts))
}

fn recipient(v: V) -> Spec {
    el(
        "recipient",
        all(vec![attr("id", Ty::Id), opt_attr("description", Ty::Text), attr("value", Ty::Text), alert_sets(v)]),
    )
}

fn select() -> Spec {
    let empty = |name: &'static str| (name, build(move || el(name, Pat::Empty)));
    let attribute = || el("attribute", all(vec![attr("id", Ty::Id), attr("name", Ty::Text)]));
    el(
        "select",
        all(vec![
            maybe("select_attributes", build(move || el("select_attributes", many(vec![child!("attribute", attribute())])))),
            Pat::Elems { min: 0, max: Some(1), of: vec![empty("select_fencing")] },
            Pat::Elems { min: 0, max: Some(1), of: vec![empty("select_nodes")] },
            Pat::Elems { min: 0, max: Some(1), of: vec![empty("select_resources")] },
        ]),
    )
}
