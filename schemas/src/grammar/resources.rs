//! The `resources` section: primitives, templates, groups, clones,
//! masters and bundles, with their operations.

use super::nvset::{nvset, Names};
use super::{child, el, V};
use crate::datatype::Ty;
use crate::pattern::{all, attr, build, many, maybe, one_of, opt, opt_attr, Pat, Spec};

/// Resource agent classes a primitive may name (besides `ocf`, which also
/// needs a provider).
pub fn classes(v: V) -> &'static [&'static str] {
    if v.ge(1, 2) {
        &["lsb", "heartbeat", "stonith", "upstart", "service", "systemd", "nagios"]
    } else {
        &["lsb", "heartbeat", "stonith", "upstart"]
    }
}

pub fn resources(v: V) -> Spec {
    let mut kinds = vec![
        child!("primitive", primitive(v)),
        child!("group", group(v)),
        child!("clone", clone("clone", v)),
        child!("master", clone("master", v)),
    ];
    if v.ge(1, 2) {
        kinds.push(child!("template", template(v)));
    }
    if v.ge(2, 8) {
        kinds.push(child!("bundle", bundle(v)));
    }
    el("resources", many(kinds))
}

/// `class` (+ `provider` for ocf): the agent's standard.
fn class(v: V) -> Pat {
    one_of(vec![
        all(vec![attr("class", Ty::Enum(&["ocf"])), attr("provider", Ty::Text)]),
        attr("class", Ty::Enum(classes(v))),
    ])
}

/// Sets a primitive or template may carry.
fn primitive_sets(v: V) -> Pat {
    many(vec![
        child!("meta_attributes", nvset("meta_attributes", v, Names::ResourceMeta)),
        child!("instance_attributes", nvset("instance_attributes", v, Names::ResourceInstance)),
    ])
}

/// Sets any other resource may carry.
fn resource_sets(v: V) -> Pat {
    many(vec![
        child!("meta_attributes", nvset("meta_attributes", v, Names::Any)),
        child!("instance_attributes", nvset("instance_attributes", v, Names::Any)),
    ])
}

pub fn primitive(v: V) -> Spec {
    let agent = all(vec![class(v), attr("type", Ty::Text)]);
    let mut parts = vec![
        attr("id", Ty::Id),
        if v.ge(1, 2) { one_of(vec![agent, attr("template", Ty::IdRef)]) } else { agent },
        opt_attr("description", Ty::Text),
        primitive_sets(v),
        maybe("operations", build(move || operations(v))),
    ];
    if v.ge(1, 2) {
        parts.push(many(vec![child!("utilization", nvset("utilization", v, Names::Any))]));
    }
    el("primitive", all(parts))
}

fn template(v: V) -> Spec {
    el(
        "template",
        all(vec![
            attr("id", Ty::Id),
            class(v),
            attr("type", Ty::Text),
            opt_attr("description", Ty::Text),
            primitive_sets(v),
            maybe("operations", build(move || operations(v))),
            many(vec![child!("utilization", nvset("utilization", v, Names::Any))]),
        ]),
    )
}

fn group(v: V) -> Spec {
    el(
        "group",
        all(vec![
            attr("id", Ty::Id),
            opt_attr("description", Ty::Text),
            resource_sets(v),
            crate::pattern::some(vec![child!("primitive", primitive(v))]),
        ]),
    )
}

/// `clone` and `master`: one primitive or group inside.
fn clone(name: &'static str, v: V) -> Spec {
    el(
        name,
        all(vec![
            attr("id", Ty::Id),
            opt_attr("description", Ty::Text),
            resource_sets(v),
            Pat::Elems {
                min: 1,
                max: Some(1),
                of: vec![child!("primitive", primitive(v)), child!("group", group(v))],
            },
        ]),
    )
}

fn bundle(v: V) -> Spec {
    let mut runtimes = vec![child!("docker", container("docker", v)), child!("rkt", container("rkt", v))];
    if v.ge(3, 2) {
        runtimes.push(child!("podman", container("podman", v)));
    }
    el(
        "bundle",
        all(vec![
            attr("id", Ty::Id),
            opt_attr("description", Ty::Text),
            resource_sets(v),
            Pat::Elems { min: 1, max: Some(1), of: runtimes },
            maybe("network", build(move || network(v))),
            maybe("storage", build(storage)),
            maybe("primitive", build(move || primitive(v))),
        ]),
    )
}

fn container(name: &'static str, v: V) -> Spec {
    let promoted = if v.ge(3, 0) {
        opt(one_of(vec![attr("masters", Ty::Int), attr("promoted-max", Ty::Int)]))
    } else {
        opt_attr("masters", Ty::Int)
    };
    el(
        name,
        all(vec![
            attr("image", Ty::Text),
            opt_attr("replicas", Ty::Int),
            opt_attr("replicas-per-host", Ty::Int),
            promoted,
            opt_attr("run-command", Ty::Text),
            opt_attr("network", Ty::Text),
            opt_attr("options", Ty::Text),
        ]),
    )
}

fn network(v: V) -> Spec {
    let mut parts = vec![
        opt_attr("ip-range-start", Ty::Text),
        opt_attr("control-port", Ty::Int),
        opt_attr("host-interface", Ty::Text),
        opt_attr("host-netmask", Ty::Int),
        many(vec![child!("port-mapping", port_mapping())]),
    ];
    if v.ge(3, 0) {
        parts.push(opt_attr("add-host", Ty::Bool));
    }
    el("network", all(parts))
}

fn port_mapping() -> Spec {
    el(
        "port-mapping",
        all(vec![
            attr("id", Ty::Id),
            one_of(vec![
                all(vec![attr("port", Ty::Int), opt_attr("internal-port", Ty::Int)]),
                attr("range", Ty::PortRange),
            ]),
        ]),
    )
}

fn storage() -> Spec {
    el("storage", many(vec![child!("storage-mapping", storage_mapping())]))
}

fn storage_mapping() -> Spec {
    el(
        "storage-mapping",
        all(vec![
            attr("id", Ty::Id),
            one_of(vec![attr("source-dir", Ty::Text), attr("source-dir-root", Ty::Text)]),
            attr("target-dir", Ty::Text),
            opt_attr("options", Ty::Text),
        ]),
    )
}

fn operations(v: V) -> Spec {
    el(
        "operations",
        all(vec![
            opt_attr("id", Ty::Id),
            opt_attr("id-ref", Ty::IdRef),
            many(vec![child!("op", op(v))]),
        ]),
    )
}

/// Roles an `op` may be restricted to.
fn op_roles(v: V) -> &'static [&'static str] {
    if v.ge(3, 7) {
        &["Stopped", "Started", "Promoted", "Unpromoted", "Slave", "Master"]
    } else {
        &["Stopped", "Started", "Slave", "Master"]
    }
}

fn on_fail(v: V) -> &'static [&'static str] {
    if v.ge(3, 4) {
        &["ignore", "block", "demote", "stop", "restart", "standby", "fence", "restart-container"]
    } else {
        &["ignore", "block", "stop", "restart", "standby", "fence", "restart-container"]
    }
}

fn op(v: V) -> Spec {
    let mut parts = vec![
        attr("id", Ty::Id),
        attr("name", Ty::Text),
        attr("interval", Ty::Text),
        opt_attr("description", Ty::Text),
        opt(one_of(vec![attr("start-delay", Ty::Text), attr("interval-origin", Ty::Text)])),
        opt_attr("timeout", Ty::Text),
        opt_attr("enabled", Ty::Bool),
        opt_attr("record-pending", Ty::Bool),
        opt_attr("role", Ty::Enum(op_roles(v))),
        opt_attr("on-fail", Ty::Enum(on_fail(v))),
        many(vec![
            child!("meta_attributes", nvset("meta_attributes", v, Names::OpMeta)),
            child!("instance_attributes", nvset("instance_attributes", v, Names::OpInstance)),
        ]),
    ];
    if !v.ge(3, 0) {
        parts.push(opt_attr("requires", Ty::Enum(&["nothing", "quorum", "fencing", "unfencing"])));
    }
    el("op", all(parts))
}
