//! What `crm_verify` reports without rejecting a configuration: things
//! the schema allows but that are probably mistakes.

use std::collections::HashSet;

use cib::{Document, Element};

use crate::report::{Problem, Report};

/// Operation names the cluster itself knows how to schedule or that
/// resource agents commonly implement.
pub const KNOWN_OPS: &[&str] = &[
    "start", "stop", "monitor", "status", "promote", "demote", "notify", "migrate_to", "migrate_from",
    "meta-data", "validate-all", "reload", "reload-agent", "methods",
];

/// Appends warnings to `report`.
pub fn add(doc: &Document, report: &mut Report) {
    let Some(config) = doc.root.child("configuration") else { return };
    unknown_op_names(config, report);
    // Before pacemaker-3.3 obj_ref is an IDREF and the schema check
    // already rejects a dangling one.
    if !crate::schema_of(doc).at_least(1, 3) || crate::schema_of(doc).at_least(3, 3) {
        dangling_tag_refs(config, report);
    }
}

fn unknown_op_names(config: &Element, report: &mut Report) {
    let Some(resources) = config.child("resources") else { return };
    for op in resources.descendants().filter(|e| e.name == "op") {
        if let Some(name) = op.attr("name") {
            if !KNOWN_OPS.contains(&name) {
                report.problems.push(Problem::warning(op, format!("unknown operation name '{name}'")));
            }
        }
    }
}

/// `obj_ref` ids are plain text in the schema, so Pacemaker accepts a tag
/// naming nothing; the scheduler then ignores it.
fn dangling_tag_refs(config: &Element, report: &mut Report) {
    let Some(tags) = config.child("tags") else { return };
    let ids: HashSet<&str> = config.descendants().filter_map(|e| e.id()).collect();
    for r in tags.descendants().filter(|e| e.name == "obj_ref") {
        if let Some(id) = r.id() {
            if !ids.contains(id) {
                report.problems.push(Problem::warning(r, format!("tag refers to '{id}', which is not the id of anything")));
            }
        }
    }
}
