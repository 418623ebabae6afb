//! `-M` (move), `-B` (ban) and `-U` (clear): the `cli-prefer-RSC` and
//! `cli-ban-RSC-on-NODE` location constraints (where a resource runs now
//! comes from [`super::status::active_nodes`]).

use super::status::active_nodes;
use super::{fail, remove_where, Args};
use crate::attribute::node_id;
use crate::cib_file::{rejected_listing, CibFile, Outcome, WriteError};
use crate::ExitCode;
use cib::{Element, Node};

pub(crate) fn ban_id(rsc: &str, node: &str) -> String {
    format!("cli-ban-{rsc}-on-{node}")
}

pub(crate) fn prefer_id(rsc: &str) -> String {
    format!("cli-prefer-{rsc}")
}

/// A `cli-*` location constraint, plain or (with a lifetime) as a rule
/// that ends at `until`.
pub(crate) fn constraint(rsc: &str, node: &str, ban: bool, until: Option<&str>) -> Element {
    let id = if ban { ban_id(rsc, node) } else { prefer_id(rsc) };
    let score = if ban { "-INFINITY" } else { "INFINITY" };
    let base = Element::new("rsc_location").with_attr("id", id.clone()).with_attr("rsc", rsc).with_attr("role", "Started");
    let Some(until) = until else { return base.with_attr("node", node).with_attr("score", score) };
    let (rule, expr, life) = if ban {
        (format!("{id}-rule"), format!("{id}-expr"), format!("{id}-lifetime"))
    } else {
        (format!("cli-prefer-rule-{rsc}"), format!("cli-prefer-expr-{rsc}"), format!("cli-prefer-lifetime-end-{rsc}"))
    };
    base.with_child(
        Element::new("rule")
            .with_attr("id", rule)
            .with_attr("score", score)
            .with_attr("boolean-op", "and")
            .with_child(
                Element::new("expression")
                    .with_attr("id", expr)
                    .with_attr("attribute", "#uname")
                    .with_attr("operation", "eq")
                    .with_attr("value", node)
                    .with_attr("type", "string"),
            )
            .with_child(Element::new("date_expression").with_attr("id", life).with_attr("operation", "lt").with_attr("end", until)),
    )
}

/// Adds `c` to the constraints, replacing one with the same id in place.
pub(crate) fn put(cib: &mut Element, c: Element) {
    let cons = cib.child_or_insert("configuration").child_or_insert("constraints");
    let id = c.id().unwrap_or_default().to_string();
    match cons.element_position(|e| e.id() == Some(&id)) {
        Some(n) => {
            cons.remove_element(n);
            cons.insert_element(n, c);
        }
        None => cons.children.push(Node::Element(c)),
    }
}

pub(crate) fn remove_id(cib: &mut Element, id: &str) -> bool {
    match cib.child_mut("configuration").and_then(|c| c.child_mut("constraints")) {
        Some(cons) => remove_where(cons, &|e| e.name == "rsc_location" && e.id() == Some(id)) > 0,
        None => false,
    }
}

fn warning(rsc: &str, node: &str) -> String {
    format!(
        "WARNING: Creating rsc_location constraint '{id}' with a score of -INFINITY for resource {rsc} on {node}.\n\
         \tThis will prevent {rsc} from running on {node} until the constraint is removed using the clear option or by editing the CIB with an appropriate tool\n\
         \tThis will be the case even if {node} is the last node in the cluster\n",
        id = ban_id(rsc, node)
    )
}

pub fn move_or_ban(file: &CibFile, current: &Element, rsc: &str, a: &Args) -> Outcome {
    let mut o = Outcome::default();
    let node = match &a.node {
        Some(n) => {
            if node_id(current, n).is_none() {
                return fail(o, &format!("crm_resource: Node '{n}' not found\n"), ExitCode::NoSuch);
            }
            n.clone()
        }
        None => {
            let active = active_nodes(current, rsc);
            if active.len() != 1 {
                o.err(&format!(
                    "crm_resource: Resource '{rsc}' not moved: active in {} locations.\nTo prevent '{rsc}' from running on a specific location, specify a node.\n",
                    active.len()
                ));
                return o.exit(ExitCode::Usage);
            }
            active[0].clone()
        }
    };
    // Moving to a node means preferring it; -M alone bans the current one.
    let ban = a.ban || a.node.is_none();
    if !ban && active_nodes(current, rsc).contains(&node) {
        o.err("crm_resource: Error performing operation: Requested item already exists\n");
        return o.exit(ExitCode::Exists);
    }
    let until = match &a.lifetime {
        Some(l) => match lifetime_end(l, now_secs()) {
            Some(u) => Some(u),
            None => {
                o.err(&format!("crm_resource: Invalid lifetime '{l}'\n"));
                return o.exit(ExitCode::InvalidParam);
            }
        },
        None => None,
    };
    if let Some(u) = &until {
        o.out(&format!("Migration will take effect until: {u}\n"));
    }
    if ban && !a.quiet {
        o.out(&warning(rsc, &node));
    }
    if !ban {
        // As 2.1.5's `cli_resource_move`: clear the old preference and
        // the ban on the target, each its own CIB operation (each moves
        // the epoch when it removes something), then add the preference
        // anew, at the end of the constraints.
        for id in [prefer_id(rsc), ban_id(rsc, &node)] {
            let exists = current.child("configuration").and_then(|c| c.child("constraints")).is_some_and(|c| c.children_named("rsc_location").any(|e| e.id() == Some(&id)));
            if exists {
                let result = file.edit(|cib| -> Result<(), ()> {
                    remove_id(cib, &id);
                    Ok(())
                });
                if result.is_err() {
                    return finish(o, result);
                }
            }
        }
    }
    let result = file.edit(|cib| -> Result<(), ()> {
        put(cib, constraint(rsc, &node, ban, until.as_deref()));
        Ok(())
    });
    finish(o, result)
}

pub fn clear(file: &CibFile, current: &Element, rsc: &str, node: Option<&str>) -> Outcome {
    let mut o = Outcome::default();
    let Some(cons) = current.child("configuration").and_then(|c| c.child("constraints")) else { return o };
    let mut doomed: Vec<String> = Vec::new();
    let ban_prefix = format!("cli-ban-{rsc}-on-");
    for c in cons.children_named("rsc_location") {
        let id = c.id().unwrap_or_default();
        if let Some(n) = id.strip_prefix(&ban_prefix) {
            if node.is_none_or(|want| want == n) {
                doomed.push(id.to_string());
            }
        }
    }
    if let Some(p) = cons.children_named("rsc_location").find(|c| c.id() == Some(&prefer_id(rsc))) {
        let target = p.attr("node").map(str::to_string).or_else(|| {
            p.descendants().find(|e| e.name == "expression" && e.attr("attribute") == Some("#uname")).and_then(|e| e.attr("value")).map(str::to_string)
        });
        if node.is_none() || target.as_deref() == node {
            doomed.push(prefer_id(rsc));
        }
    }
    for id in &doomed {
        o.out(&format!("Removing constraint: {id}\n"));
    }
    // The CIB operations as 2.1.5's `cli_resource_clear` makes them, node
    // by node: one for a rule-form (`--lifetime`) preference for the node,
    // one for the node's ban together with a plain preference for it.
    // Each moves the epoch when it removes something.
    let prefer = prefer_id(rsc);
    let prefer_el = cons.children_named("rsc_location").find(|c| c.id() == Some(&prefer));
    let prefer_is_rule = prefer_el.is_some_and(|p| p.attr("node").is_none());
    let nodes: Vec<String> = match node {
        Some(n) => vec![n.to_string()],
        None => current
            .child("configuration")
            .and_then(|c| c.child("nodes"))
            .map(|ns| ns.children_named("node").filter_map(|n| n.attr("uname").map(str::to_string)).collect())
            .unwrap_or_default(),
    };
    let targets = |n: &str| prefer_el.is_some_and(|p| p.attr("node") == Some(n) || p.descendants().any(|e| e.name == "expression" && e.attr("attribute") == Some("#uname") && e.attr("value") == Some(n)));
    let mut operations: Vec<Vec<String>> = Vec::new();
    for n in &nodes {
        let wanted = |id: &String| doomed.contains(id);
        if prefer_is_rule && targets(n) && wanted(&prefer) {
            operations.push(vec![prefer.clone()]);
        }
        let mut op: Vec<String> = vec![ban_id(rsc, n)].into_iter().filter(wanted).collect();
        if !prefer_is_rule && targets(n) && wanted(&prefer) {
            op.push(prefer.clone());
        }
        if !op.is_empty() {
            operations.push(op);
        }
    }
    // Whatever no node accounts for (a ban on a node no longer
    // configured), one operation each.
    for id in &doomed {
        if !operations.iter().flatten().any(|x| x == id) {
            operations.push(vec![id.clone()]);
        }
    }
    let mut removed: Vec<String> = Vec::new();
    for op in operations {
        let op: Vec<String> = op.into_iter().filter(|id| !removed.contains(id)).collect();
        if op.is_empty() {
            continue;
        }
        let result = file.edit(|cib| -> Result<(), ()> {
            for id in &op {
                remove_id(cib, id);
            }
            Ok(())
        });
        if result.is_err() {
            return finish(o, result);
        }
        removed.extend(op);
    }
    o
}

fn finish(mut o: Outcome, result: Result<(), WriteError<()>>) -> Outcome {
    match result {
        Ok(()) => o,
        Err(WriteError::Invalid(rejected)) => {
            o.err(&rejected_listing(&rejected));
            o.err("crm_resource: Error performing operation: Update does not conform to the configured schema\n");
            o.exit(ExitCode::Config)
        }
        Err(WriteError::Edit(())) => o.exit(ExitCode::Error),
        Err(WriteError::Unavailable(u)) => {
            let (msg, code) = u.report("crm_resource");
            fail(o, &msg, code)
        }
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// `now` plus an ISO 8601 duration (`PT1H`, `P1D`, `P1Y2M3DT4H5M6S`,
/// `P2W`), as `YYYY-MM-DD HH:MM:SSZ`. Months and years move the calendar
/// date, as Pacemaker's date arithmetic does.
pub fn lifetime_end(duration: &str, now: i64) -> Option<String> {
    let rest = duration.strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut fields = [0i64; 7]; // Y M W D H M S
    let mut parse = |part: &str, units: &[(char, usize)]| -> Option<()> {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
            } else {
                let &(_, slot) = units.iter().find(|(u, _)| *u == c)?;
                fields[slot] = num.parse().ok()?;
                num.clear();
            }
        }
        num.is_empty().then_some(())
    };
    parse(date, &[('Y', 0), ('M', 1), ('W', 2), ('D', 3)])?;
    parse(time, &[('H', 4), ('M', 5), ('S', 6)])?;
    let (mut days, secs) = (now.div_euclid(86_400), now.rem_euclid(86_400));
    let (mut y, mut m, mut d) = civil_from_days(days);
    let months = m as i64 - 1 + fields[1] + 12 * (y + fields[0]);
    y = months.div_euclid(12);
    m = (months.rem_euclid(12) + 1) as u32;
    d = d.min(days_in_month(y, m));
    days = days_from_civil(y, m, d) + 7 * fields[2] + fields[3];
    let total = days * 86_400 + secs + 3600 * fields[4] + 60 * fields[5] + fields[6];
    let (days, s) = (total.div_euclid(86_400), total.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    Some(format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z", s / 3600, s % 3600 / 60, s % 60))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes() {
        // 2023-01-01 00:00:00Z
        let t = 1_672_531_200;
        assert_eq!(lifetime_end("PT1H", t).unwrap(), "2023-01-01 01:00:00Z");
        assert_eq!(lifetime_end("P1D", t).unwrap(), "2023-01-02 00:00:00Z");
        assert_eq!(lifetime_end("P1M", t + 30 * 86_400).unwrap(), "2023-02-28 00:00:00Z");
        assert_eq!(lifetime_end("P1Y2M3DT4H5M6S", t).unwrap(), "2024-03-04 04:05:06Z");
        assert_eq!(lifetime_end("P2W", t).unwrap(), "2023-01-15 00:00:00Z");
        assert_eq!(lifetime_end("1H", t), None);
    }
}
