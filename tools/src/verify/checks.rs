//! Scheduler-level checks: what Pacemaker's scheduler reports as a
//! configuration error (`pcmk__config_err`) or warning while unpacking
//! and scheduling, for the cases that are cheap to see from the model.
//!
//! Errors:
//! - fencing enabled but no `stonith`-class resource;
//! - two operations of one resource with the same name and interval;
//! - an ordering `kind` that is not Mandatory/Optional/Serialize (only
//!   reachable when the schema does not check it);
//! - a promoted/unpromoted `target-role` outside a promotable clone.
//!
//! Warnings (which make crm_verify say "config may not be valid"):
//! - a node the scheduler would fence (unclean, fencing enabled);
//! - an orphan resource still active.

use std::collections::BTreeMap;

use cib::model::{AgentClass, Cib};
use cib::Document;

use super::{Finding, Verdict};

pub fn run(doc: &Document, now: i64, v: &mut Verdict) {
    let model = match Cib::from_document(doc) {
        Ok(m) => m,
        Err(e) => {
            v.errors.push(Finding { origin: "cluster_status", message: format!("Could not unpack the CIB: {e}") });
            return;
        }
    };
    let ws = pengine::unpack(&model, now);

    // SBD's watchdog (`have-watchdog`) fences without a device.
    let watchdog = ws.options.all.get("have-watchdog").is_some_and(|v| is_true(v));
    if ws.options.stonith_enabled && !watchdog && !model.primitives().any(|p| p.class == AgentClass::Stonith) {
        for m in [
            "Resource start-up disabled since no STONITH resources have been defined",
            "Either configure some or disable STONITH with the stonith-enabled option",
            "NOTE: Clusters with shared data need STONITH to ensure data integrity",
        ] {
            v.errors.push(Finding { origin: "unpack_resources", message: m.to_string() });
        }
    }

    for p in model.primitives() {
        let mut seen: BTreeMap<(String, u64), &str> = BTreeMap::new();
        // Only recurring operations can collide: one-shot ones are keyed
        // by name alone and Pacemaker takes the first.
        for op in p.operations.iter().filter(|op| op.interval_ms > 0) {
            let key = (op.name.clone(), op.interval_ms);
            match seen.get(&key) {
                Some(first) => v.errors.push(Finding {
                    origin: "is_op_dup",
                    message: format!(
                        "Operation {} is duplicate of {} (do not use same name and interval combination more than once per resource)",
                        op.id, first
                    ),
                }),
                None => {
                    seen.insert(key, &op.id);
                }
            }
        }
    }

    // `get_target_role`: a promoted or unpromoted target role outside a
    // promotable clone is ignored, as a configuration error.
    for r in (0..ws.resources.len()).map(pengine::RscId) {
        let Some(value) = ws.rsc(r).meta("target-role") else { continue };
        let role = match value.to_ascii_lowercase().as_str() {
            "promoted" | "master" => "Promoted",
            "unpromoted" | "slave" => "Unpromoted",
            _ => continue,
        };
        if !ws.rsc(ws.top(r)).flags.promotable {
            v.errors.push(Finding {
                origin: "get_target_role",
                message: format!("Ignoring 'target-role' for {} because '{role}' only makes sense for promotable clones", ws.rsc(r).id),
            });
        }
    }

    // Only turning group ordering off is warned about, and a group takes
    // the meta attributes of the clone it is in (`ordered=false` on the
    // clone reaches it): read from the unpacked resources, once per group.
    let mut warned_groups: Vec<&str> = Vec::new();
    for res in &ws.resources {
        if matches!(res.variant, pengine::Variant::Group) && res.meta("ordered").is_some_and(|o| !is_true(o)) && !warned_groups.contains(&res.xml_id.as_str()) {
            warned_groups.push(&res.xml_id);
            v.warnings.push(Finding {
                origin: "set_group_flag",
                message: "Support for the 'ordered' group meta-attribute is deprecated and will be removed in a future release (use a resource set instead)".into(),
            });
        }
    }

    // `pe_get_failcount`: a failure timeout is ignored, with a warning,
    // for a resource that has an `on-fail=block` operation whose failure
    // is recorded (`block_failure`: the op's `RSC_last_failure_0`, or its
    // own entry with an unexpected rc). Once per resource.
    let mut warned: Vec<String> = Vec::new();
    for res in ws.resources.iter().filter(|r| r.is_primitive() && r.failure_timeout > 0) {
        let base = res.xml_id.as_str();
        if warned.iter().any(|w| w == base) {
            continue;
        }
        let Some(prim) = doc.root.descendants().find(|e| e.name == "primitive" && e.id() == Some(base)) else { continue };
        let blocking: Vec<(&str, u64)> = prim
            .descendants()
            .filter(|op| op.name == "op" && op.attr("on-fail") == Some("block"))
            .map(|op| (op.attr("name").unwrap_or_default(), op.attr("interval").and_then(cib::model::duration::parse_interval_ms).unwrap_or(0)))
            .collect();
        let failed = doc.root.child("status").into_iter().flat_map(|st| st.descendants()).filter(|e| e.name == "lrm_resource" && e.id() == Some(base)).flat_map(|l| l.children_named("lrm_rsc_op")).any(|op| {
            blocking.iter().any(|(name, interval)| {
                let same_op = op.attr("operation").is_some_and(|t| t.eq_ignore_ascii_case(name)) && op.attr("interval").and_then(|i| i.trim().parse::<u64>().ok()).unwrap_or(0) == *interval;
                let id = op.id().unwrap_or_default();
                let unexpected = || {
                    let rc = op.attr("rc-code").and_then(|r| r.trim().parse::<i64>().ok()).unwrap_or(0);
                    let target = op.attr("transition-key").and_then(|k| k.split(':').nth(2)).and_then(|t| t.parse::<i64>().ok()).unwrap_or(-1);
                    rc != target
                };
                same_op && (id.eq_ignore_ascii_case(&format!("{base}_last_failure_0")) || (id.eq_ignore_ascii_case(&format!("{base}_{name}_{interval}")) && unexpected()))
            })
        });
        if failed {
            warned.push(base.to_string());
            v.warnings.push(Finding {
                origin: "pe_get_failcount",
                message: format!("Ignoring failure timeout {} for {} because it conflicts with on-fail=block", res.failure_timeout, res.id),
            });
        }
    }

    // A node state without an id cannot be matched to a node.
    if doc.root.child("status").is_some_and(|st| st.children_named("node_state").any(|n| n.id().is_none())) {
        v.warnings.push(Finding { origin: "unpack_node_state", message: "Ignoring malformed node_state entry without id".into() });
    }

    if ws.options.stonith_action == "poweroff" {
        v.warnings.push(Finding {
            origin: "unpack_config",
            message: "Support for stonith-action of 'poweroff' is deprecated and will be removed in a future release (use 'off' instead)".into(),
        });
    }
    on_fail(doc, ws.options.stonith_enabled, v);
    deprecated(doc, v);

    // `unpack_influence`: a colocation's `influence` must be a boolean.
    for colo in doc.root.descendants().filter(|e| e.name == "rsc_colocation") {
        if let Some(value) = colo.attr("influence") {
            let valid = ["true", "on", "yes", "y", "1", "false", "off", "no", "n", "0"].contains(&value.to_ascii_lowercase().as_str());
            if !valid {
                v.errors.push(Finding {
                    origin: "unpack_influence",
                    message: format!("Constraint '{}' has invalid value for influence (using default)", colo.attr("id").unwrap_or_default()),
                });
            }
        }
    }

    for order in doc.root.descendants().filter(|e| e.name == "rsc_order") {
        if let Some(kind) = order.attr("kind") {
            if !["mandatory", "optional", "serialize"].contains(&kind.to_ascii_lowercase().as_str()) {
                v.errors.push(Finding {
                    origin: "get_ordering_type",
                    message: format!(
                        "Resetting 'kind' for constraint {} to 'Mandatory' because '{kind}' is not valid",
                        order.attr("id").unwrap_or_default()
                    ),
                });
            }
        }
    }

    if ws.options.stonith_enabled {
        // Guest and remote nodes are recovered through their connection,
        // which Pacemaker does not report as a configuration warning.
        for n in ws.nodes.iter().filter(|n| n.unclean && n.kind == pengine::NodeKind::Cluster) {
            v.warnings.push(Finding { origin: "schedule_fencing", message: format!("Scheduling node {} for fencing", n.uname) });
        }
        // A remote node is fenced when the scheduler decides its
        // connection cannot be recovered (`pe_fence_node`, "remote
        // connection is unrecoverable"): only the schedule knows.
        if ws.nodes.iter().any(|n| n.kind == pengine::NodeKind::Remote) {
            let schedule = pengine::schedule(&model, pengine::unpack(&model, now));
            v.notices.extend(schedule.notices.iter().cloned());
            for a in schedule.actions.iter().filter(|a| a.rsc.is_none() && a.task == "stonith" && !a.optional) {
                let Some(n) = a.node.map(|n| schedule.ws.node(n)) else { continue };
                if n.kind == pengine::NodeKind::Remote && a.stonith_action.as_deref() != Some("on") {
                    v.warnings.push(Finding { origin: "schedule_fencing", message: format!("Scheduling node {} for fencing", n.uname) });
                }
            }
        }
        // A revoked ticket with `loss-policy=fence` fences the nodes its
        // resources run on ("deadman ticket was lost"), found when the
        // scheduler unpacks the constraints: the same rule crm_mon
        // applies (`monitor::bans::apply_ticket_losses`).
        if let Ok(mut snap) = crate::monitor::Snapshot::from_root("", doc.root.clone(), now) {
            crate::monitor::bans::apply_ticket_losses(&mut snap);
            for (i, n) in snap.ws.nodes.iter().enumerate() {
                if n.unclean && !ws.nodes[i].unclean && n.kind == pengine::NodeKind::Cluster {
                    v.warnings.push(Finding { origin: "schedule_fencing", message: format!("Scheduling node {} for fencing", n.uname) });
                }
            }
        }
    }
    // Bundle replicas are not unpacked yet (docs/PENGINE.md), so their
    // pieces would look like orphans and their guest nodes like unknown
    // nodes: leave those out.
    let bundles: Vec<&str> = doc.root.descendants().filter(|e| e.name == "bundle").filter_map(|e| e.attr("id")).collect();
    let in_bundle = |id: &str| bundles.iter().any(|b| id.starts_with(&format!("{b}-")));
    for w in ws.warnings.iter().filter(|w| w.contains("no longer in the configuration")) {
        if !bundles.iter().any(|b| w.contains(&format!("'{b}-"))) {
            v.warnings.push(Finding { origin: "unpack_node_state", message: capitalized(w) });
        }
    }
    for r in ws.resources.iter().filter(|r| r.flags.orphan && !r.running_on.is_empty() && !in_bundle(&r.id)) {
        for node in &r.running_on {
            v.warnings.push(Finding {
                origin: "process_rsc_state",
                message: format!("Detected active orphan {} running on {}", r.id, ws.node(*node).uname),
            });
        }
    }
}

fn is_true(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1" | "y")
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// `on-fail` values the scheduler resets: `stop` on a stop operation,
/// `fence` with fencing disabled.
fn on_fail(doc: &Document, stonith_enabled: bool, v: &mut Verdict) {
    let bundled: Vec<&cib::Element> = doc.root.descendants().filter(|e| e.name == "bundle").collect();
    let in_bundle = |op: &cib::Element| bundled.iter().any(|b| b.descendants().any(|d| std::ptr::eq(d, op)));
    for op in doc.root.descendants().filter(|e| e.name == "op" && !in_bundle(e)) {
        let (Some(name), Some(on_fail)) = (op.attr("name"), op.attr("on-fail")) else { continue };
        let id = op.attr("id").unwrap_or_default();
        if name == "stop" && on_fail == "stop" {
            v.errors.push(Finding {
                origin: "unpack_operation_on_fail",
                message: format!("Resetting 'on-fail' for operation '{id}' to default value because 'stop' is not allowed for stop"),
            });
        } else if on_fail == "fence" && !stonith_enabled {
            v.errors.push(Finding {
                origin: "unpack_operation",
                message: format!("Resetting 'on-fail' for operation '{id}' to 'stop' because 'fence' is not valid when fencing is disabled"),
            });
        }
    }
}

/// Deprecated settings Pacemaker 2.1.5 warns about as configuration
/// warnings.
fn deprecated(doc: &Document, v: &mut Verdict) {
    let meta_value = |el: &cib::Element, name: &str| -> Option<String> {
        el.attr(name).map(str::to_string).or_else(|| {
            el.children_named("meta_attributes")
                .flat_map(|m| m.descendants())
                .find(|nv| nv.name == "nvpair" && nv.attr("name") == Some(name))
                .map(|nv| nv.attr("value").unwrap_or_default().to_string())
        })
    };
    let meta = |el: &cib::Element, name: &str| meta_value(el, name).is_some();
    for el in doc.root.descendants() {
        match el.name.as_str() {
            "primitive" | "group" | "clone" | "master" if meta(el, "restart-type") => v.warnings.push(Finding {
                origin: "pe__unpack_resource",
                message: "Support for restart-type is deprecated and will be removed in a future release".into(),
            }),
            "rsc_order" if el.attr("require-all").is_some_and(|r| !is_true(r)) => v.warnings.push(Finding {
                origin: "get_minimum_first_instances",
                message: "Support for require-all in ordering constraints is deprecated and will be removed in a future release (use clone-min clone meta-attribute instead)".into(),
            }),
            _ => {}
        }
    }
}
