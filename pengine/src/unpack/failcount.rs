//! Fail counts (Pacemaker's `pe_get_failcount`): the transient node
//! attributes `fail-count-RSC#OP_INTERVAL` (or, before feature set 3.0.13,
//! `fail-count-RSC`) and `last-failure-...`, summed per resource, and
//! forgotten once `failure-timeout` has passed since the last failure.

use cib::model::Score;

use crate::working_set::{NodeId, RscId, WorkingSet};

/// Whether a CIB of this feature set used per-resource fail counts.
pub fn is_legacy(feature_set: Option<&str>) -> bool {
    let parts = |s: &str| s.split('.').map(|p| p.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>();
    match feature_set {
        None => true,
        Some(v) => parts(v) < vec![3, 0, 13],
    }
}

/// A resource's failures on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: Score,
    /// Epoch seconds of the last failure (0 = unknown).
    pub last_failure: i64,
}

/// Whether `name` is `prefix-RSC[:N][#op_interval]` for this resource.
fn matches(name: &str, prefix: &str, rsc_name: &str, unique: bool, legacy: bool) -> bool {
    let Some(rest) = name.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')).and_then(|r| r.strip_prefix(rsc_name)) else {
        return false;
    };
    let mut rest = rest;
    if !unique {
        if let Some(after) = rest.strip_prefix(':') {
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                rest = &after[digits..];
            }
        }
    }
    if legacy {
        return rest.is_empty();
    }
    // "#" + operation + "_" + interval digits
    let Some(op) = rest.strip_prefix('#') else { return false };
    match op.rfind('_') {
        Some(i) => i > 0 && op.len() > i + 1 && op[i + 1..].bytes().all(|c| c.is_ascii_digit()),
        None => false,
    }
}

/// The fail count of `rsc` on `node`; with `effective`, 0 once the
/// resource's failure-timeout has passed since the last failure.
pub fn fail_count(ws: &WorkingSet, node: NodeId, rsc: RscId, effective: bool) -> Failures {
    let r = ws.rsc(rsc);
    let name = r.clone_name.as_deref().unwrap_or(&r.id);
    let base = if r.flags.unique { name } else { strip_instance(name) };
    let mut count = Score::ZERO;
    let mut last = 0i64;
    // The attributes are sorted by name: only those starting with
    // "fail-count-BASE" / "last-failure-BASE" can match (a scan of every
    // attribute per resource and node was quadratic with many failures).
    let attrs = &ws.node(node).attrs;
    let with_prefix = |prefix: &str| {
        let start = format!("{prefix}-{base}");
        attrs.range(start.clone()..).take_while(move |(k, _)| k.starts_with(start.as_str()))
    };
    for (k, v) in with_prefix("fail-count") {
        if matches(k, "fail-count", base, r.flags.unique, ws.legacy_failcounts) {
            count += Score::parse(v);
        }
    }
    for (k, v) in with_prefix("last-failure") {
        if matches(k, "last-failure", base, r.flags.unique, ws.legacy_failcounts) {
            if let Some(t) = crate::rules::scan_ll(v) {
                last = last.max(t);
            }
        }
    }
    if effective && count.value() > 0 && last > 0 && r.failure_timeout > 0 && ws.now > last + r.failure_timeout {
        count = Score::ZERO;
    }
    Failures { count, last_failure: last }
}

/// `clone_strip`: the id without a `:N` instance suffix.
pub fn strip_instance(id: &str) -> &str {
    match id.rfind(':') {
        Some(i) if i + 1 < id.len() && id[i + 1..].bytes().all(|c| c.is_ascii_digit()) => &id[..i],
        _ => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names() {
        assert!(matches("fail-count-db#monitor_10000", "fail-count", "db", false, false));
        assert!(matches("fail-count-db:1#start_0", "fail-count", "db", false, false));
        assert!(!matches("fail-count-db:1#start_0", "fail-count", "db", true, false));
        assert!(!matches("fail-count-db", "fail-count", "db", false, false));
        assert!(matches("fail-count-db", "fail-count", "db", false, true));
        assert!(!matches("fail-count-dbx#start_0", "fail-count", "db", false, false));
        assert!(is_legacy(Some("3.0.12")) && !is_legacy(Some("3.0.14")) && !is_legacy(Some("3.1")));
        assert_eq!(strip_instance("rsc:12"), "rsc");
        assert_eq!(strip_instance("a:b"), "a:b");
    }
}
