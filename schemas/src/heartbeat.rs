//! The Heartbeat 2.x CIB dialect (no `validate-with`), as Heartbeat
//! 2.0/2.1 wrote it: `<attributes>` wrappers inside name/value sets,
//! underscore option names (`resource_stickiness`, `target_role`,
//! `no_quorum_policy`...), `type="normal"` nodes, `from`/`to` in order
//! and colocation constraints, `have_quorum`/`dc_uuid`/`ccm_transition`
//! on the root.
//!
//! Pacemaker 2.1 rejects such documents; we accept them. The grammar is
//! *open*: attributes and elements it does not mention are tolerated,
//! because Heartbeat's DTD was loose and its tools wrote many
//! variations. What it does insist on is what the cluster cannot work
//! without: ids where objects need them, unique ids, resource classes,
//! a provider for OCF agents, well-formed scores, and references that
//! point at something.

use crate::datatype::Ty;
use crate::grammar::child;
use crate::pattern::{all, attr, build, many, maybe, one_of, opt_attr, Body, Pat, Spec};

/// Heartbeat 2.x classes; `ocf` also needs a provider.
const CLASSES: &[&str] = &["lsb", "heartbeat", "stonith", "upstart", "service", "systemd", "nagios"];
const ROLES: &[&str] = &["Stopped", "Started", "Master", "Slave", "stopped", "started", "master", "slave"];

fn open(name: &'static str, pat: Pat) -> Spec {
    Spec { name, body: Body::Open(pat) }
}

pub fn cib() -> Spec {
    open(
        "cib",
        all(vec![
            opt_attr("admin_epoch", Ty::NonNegInt),
            opt_attr("epoch", Ty::NonNegInt),
            opt_attr("num_updates", Ty::NonNegInt),
            one("configuration", configuration),
            maybe("status", build(|| Spec { name: "status", body: Body::Any })),
        ]),
    )
}

fn one(name: &'static str, f: fn() -> Spec) -> Pat {
    crate::pattern::one(name, build(f))
}

fn configuration() -> Spec {
    open(
        "configuration",
        all(vec![
            one("crm_config", crm_config),
            one("nodes", nodes),
            one("resources", resources),
            one("constraints", constraints),
        ]),
    )
}

fn crm_config() -> Spec {
    open("crm_config", many(vec![child!("cluster_property_set", nvset("cluster_property_set"))]))
}

fn nodes() -> Spec {
    let node = open(
        "node",
        all(vec![
            attr("id", Ty::Text),
            opt_attr("type", Ty::Enum(&["normal", "member", "ping"])),
            many(vec![child!("instance_attributes", nvset("instance_attributes"))]),
        ]),
    );
    open("nodes", many(vec![("node", build(move || node.clone()))]))
}

/// A name/value set; the pairs may sit in an `<attributes>` wrapper.
fn nvset(name: &'static str) -> Spec {
    open(
        name,
        all(vec![
            attr("id", Ty::Id),
            opt_attr("score", Ty::Score),
            many(vec![
                child!("attributes", open("attributes", many(vec![child!("nvpair", nvpair())]))),
                child!("nvpair", nvpair()),
                child!("rule", rule()),
            ]),
        ]),
    )
}

fn nvpair() -> Spec {
    open("nvpair", all(vec![attr("id", Ty::Id), attr("name", Ty::Text), opt_attr("value", Ty::Text)]))
}

fn sets() -> Vec<(&'static str, crate::pattern::Build)> {
    vec![
        child!("instance_attributes", nvset("instance_attributes")),
        child!("meta_attributes", nvset("meta_attributes")),
        child!("utilization", nvset("utilization")),
    ]
}

fn resources() -> Spec {
    open(
        "resources",
        many(vec![
            child!("primitive", primitive()),
            child!("group", group()),
            child!("clone", wrapper("clone")),
            child!("master_slave", wrapper("master_slave")),
            child!("master", wrapper("master")),
        ]),
    )
}

fn primitive() -> Spec {
    let mut kids = sets();
    kids.push(child!("operations", open("operations", many(vec![child!("op", op())]))));
    open(
        "primitive",
        all(vec![
            attr("id", Ty::Id),
            one_of(vec![
                all(vec![attr("class", Ty::Enum(&["ocf"])), attr("provider", Ty::Text)]),
                all(vec![attr("class", Ty::Enum(CLASSES)), opt_attr("provider", Ty::Text)]),
            ]),
            attr("type", Ty::Text),
            many(kids),
        ]),
    )
}

fn op() -> Spec {
    open(
        "op",
        all(vec![
            attr("id", Ty::Id),
            attr("name", Ty::Text),
            opt_attr("role", Ty::Enum(ROLES)),
            many(sets()),
        ]),
    )
}

fn group() -> Spec {
    let mut kids = sets();
    kids.push(child!("primitive", primitive()));
    open("group", all(vec![attr("id", Ty::Id), many(kids)]))
}

fn wrapper(name: &'static str) -> Spec {
    let mut kids = sets();
    kids.push(child!("primitive", primitive()));
    kids.push(child!("group", group()));
    open(name, all(vec![attr("id", Ty::Id), many(kids)]))
}

fn rule() -> Spec {
    open(
        "rule",
        all(vec![
            attr("id", Ty::Id),
            opt_attr("score", Ty::Score),
            opt_attr("boolean_op", Ty::Enum(&["or", "and"])),
            opt_attr("boolean-op", Ty::Enum(&["or", "and"])),
            many(vec![
                child!(
                    "expression",
                    open(
                        "expression",
                        all(vec![
                            attr("id", Ty::Id),
                            attr("attribute", Ty::Text),
                            attr(
                                "operation",
                                Ty::Enum(&["lt", "gt", "lte", "gte", "eq", "ne", "defined", "not_defined"]),
                            ),
                        ]),
                    )
                ),
                child!("date_expression", open("date_expression", attr("id", Ty::Id))),
                child!("rule", rule()),
            ]),
        ]),
    )
}

fn constraints() -> Spec {
    let refs = |names: &[&'static str]| -> Vec<Pat> { names.iter().map(|n| opt_attr(n, Ty::IdRef)).collect() };
    let mut location = vec![attr("id", Ty::Id), opt_attr("score", Ty::Score)];
    location.extend(refs(&["rsc"]));
    location.push(many(vec![child!("rule", rule())]));
    let mut colocation = vec![attr("id", Ty::Id), opt_attr("score", Ty::Score)];
    colocation.extend(refs(&["from", "to", "rsc", "with-rsc"]));
    let mut order = vec![
        attr("id", Ty::Id),
        opt_attr("score", Ty::Score),
        opt_attr("type", Ty::Enum(&["before", "after"])),
        opt_attr("symmetrical", Ty::Enum(&["true", "false", "yes", "no", "1", "0"])),
    ];
    order.extend(refs(&["from", "to", "first", "then"]));
    open(
        "constraints",
        many(vec![
            child!("rsc_location", open("rsc_location", all(location.clone()))),
            child!("rsc_colocation", open("rsc_colocation", all(colocation.clone()))),
            child!("rsc_order", open("rsc_order", all(order.clone()))),
        ]),
    )
}
