//! The `cib` root, its version attributes, and `configuration`.

use super::{child, el, misc, nvset, resources, constraints, V};
use crate::datatype::Ty;
use crate::pattern::{all, attr, many, maybe, one, opt_attr, seq, Body, Pat, Spec};

/// Every `validate-with` value Pacemaker 2.1.5 knows.
pub const VALIDATE_WITH: &[&str] = &[
    "none", "pacemaker-0.6", "transitional-0.6", "pacemaker-0.7", "pacemaker-1.1", "pacemaker-next",
    "pacemaker-1.0", "pacemaker-1.2", "pacemaker-1.3", "pacemaker-2.0", "pacemaker-2.1", "pacemaker-2.2",
    "pacemaker-2.3", "pacemaker-2.4", "pacemaker-2.5", "pacemaker-2.6", "pacemaker-2.7", "pacemaker-2.8",
    "pacemaker-2.9", "pacemaker-2.10", "pacemaker-3.0", "pacemaker-3.1", "pacemaker-3.2", "pacemaker-3.3",
    "pacemaker-3.4", "pacemaker-3.5", "pacemaker-3.6", "pacemaker-3.7", "pacemaker-3.8", "pacemaker-3.9",
];

pub fn cib(v: V) -> Spec {
    let mut attrs = vec![
        opt_attr("validate-with", Ty::Enum(VALIDATE_WITH)),
        attr("admin_epoch", Ty::NonNegInt),
        attr("epoch", Ty::NonNegInt),
        attr("num_updates", Ty::NonNegInt),
        opt_attr("crm_feature_set", Ty::Text),
        opt_attr("remote-tls-port", Ty::NonNegInt),
        opt_attr("remote-clear-port", Ty::NonNegInt),
        opt_attr("have-quorum", Ty::Bool),
        opt_attr("dc-uuid", Ty::Text),
        opt_attr("cib-last-written", Ty::Text),
        opt_attr("no-quorum-panic", Ty::Bool),
    ];
    if v.ge(1, 2) {
        for name in ["update-origin", "update-client", "update-user", "execution-date"] {
            attrs.push(opt_attr(name, Ty::Text));
        }
    }
    el(
        "cib",
        seq(vec![
            all(attrs),
            one("configuration", crate::pattern::build(move || configuration(v))),
            maybe("status", crate::pattern::build(|| Spec { name: "status", body: Body::Any })),
        ]),
    )
}

fn configuration(v: V) -> Spec {
    let mut parts: Vec<Pat> = vec![
        one("crm_config", crate::pattern::build(move || crm_config(v))),
        maybe("rsc_defaults", crate::pattern::build(move || defaults("rsc_defaults", v))),
        maybe("op_defaults", crate::pattern::build(move || defaults("op_defaults", v))),
        one("nodes", crate::pattern::build(move || misc::nodes(v))),
        one("resources", crate::pattern::build(move || resources::resources(v))),
        one("constraints", crate::pattern::build(move || constraints::constraints(v))),
    ];
    if v.ge(1, 2) {
        parts.push(maybe("fencing-topology", crate::pattern::build(move || misc::fencing_topology(v))));
        parts.push(maybe("acls", crate::pattern::build(move || misc::acls(v))));
    }
    if v.ge(1, 3) {
        parts.push(maybe("tags", crate::pattern::build(move || misc::tags(v))));
    }
    if v.ge(2, 5) {
        parts.push(maybe("alerts", crate::pattern::build(move || misc::alerts(v))));
    }
    el("configuration", all(parts))
}

fn crm_config(v: V) -> Spec {
    el(
        "crm_config",
        many(vec![child!("cluster_property_set", nvset::nvset("cluster_property_set", v, nvset::Names::ClusterOptions))]),
    )
}

fn defaults(name: &'static str, v: V) -> Spec {
    el(name, many(vec![child!("meta_attributes", nvset::nvset("meta_attributes", v, nvset::Names::Any))]))
}
