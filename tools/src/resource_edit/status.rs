//! crm_resource's views of the cluster's state, read from the working set
//! the policy engine unpacks (`pengine::unpack`), never from the raw
//! history: `-L` (the status printer's resource list), `-W` (where a
//! resource runs), and where-it-runs for `-M`/`-B`/`-q`.
//!
//! ```text
//!  CIB element --Cib::from_element--> model --pengine::unpack(now)--> WorkingSet
//!      -L: status::resources::resource_list (node names left off)
//!      -W: find (pe_find_any) -> node list (as cli_resource_search builds it)
//! ```

use cib::model::{Cib, Role};
use cib::Element;
use pengine::{RscId, Variant, WorkingSet};

use crate::cib_file::Outcome;
use crate::status::resources::resource_list;
use crate::status::text::Out;
use crate::status::ShowOptions;
use crate::ExitCode;

/// The working set of `cib` now, as the scheduler would see it.
pub fn working_set(cib: &Element) -> Result<WorkingSet, String> {
    let model = Cib::from_element(cib).map_err(|e| e.to_string())?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    Ok(pengine::unpack(&model, now))
}

/// `-L`: every resource, stopped ones included, without node names
/// (Pacemaker's `pcmk_show_inactive_rscs | pcmk_show_rsc_only |
/// pcmk_show_pending`). No resource at all is an error (105).
pub fn list(ws: &WorkingSet) -> Outcome {
    let mut out = Out::resources_only();
    resource_list(&mut out, ws, 0, ShowOptions { inactive: true, pending: true });
    let mut o = Outcome::default();
    let any = ws.top_level.iter().any(|&r| !ws.rsc(r).flags.orphan || ws.is_active(r, true));
    o.out(&out.finish());
    if !any {
        o.err("crm_resource: Error performing operation: No such object\n");
        return o.exit(ExitCode::NoSuch);
    }
    o
}

/// Looks a resource up as crm_resource does (`pe_find_resource_with_flags`
/// with renamed and anonymous-instance matches): depth first over the
/// configuration, the first resource whose id or history name is `name`,
/// or, for an instance of an anonymous clone, whose id without its `:N`
/// suffix is (instances of a globally unique clone need their number).
pub fn find(ws: &WorkingSet, name: &str) -> Option<RscId> {
    let matches = |r: RscId| {
        let res = ws.rsc(r);
        res.id == name || res.clone_name.as_deref() == Some(name) || (!res.flags.unique && res.id.split_once(':').is_some_and(|(base, _)| base == name))
    };
    ws.top_level.iter().flat_map(|&top| ws.subtree(top)).find(|&r| matches(r))
}

/// Where a resource runs, as `cli_resource_search` lists it: for a clone
/// (or an anonymous instance asked for by the name its history uses) the
/// nodes of every instance; otherwise the resource's own nodes. Pacemaker
/// prepends each entry, so the list comes out in reverse. `true` marks a
/// promoted one.
pub fn search(ws: &WorkingSet, r: RscId, requested: &str) -> Vec<(String, bool)> {
    let res = ws.rsc(r);
    let top = ws.top(r);
    let is_clone = |x: RscId| matches!(ws.rsc(x).variant, Variant::Clone(_));
    let instances_of = |clone: RscId| {
        let mut v = Vec::new();
        let promotable = ws.rsc(clone).flags.promotable;
        for &child in &ws.rsc(clone).children {
            for &n in &ws.rsc(child).running_on {
                v.insert(0, (ws.node(n).uname.clone(), promotable && ws.current_role(child) == Role::Promoted));
            }
        }
        v
    };
    if is_clone(r) {
        return instances_of(r);
    }
    if is_clone(top) && !res.flags.unique && res.clone_name.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(requested)) && !res.id.eq_ignore_ascii_case(requested) {
        return instances_of(top);
    }
    let promoted = ws.current_role(r) == Role::Promoted;
    res.running_on.iter().rev().map(|&n| (ws.node(n).uname.clone(), promoted)).collect()
}

/// `-W [-Q]`: `resource X is running on: NODE[ Promoted]` per node, or
/// `resource X is NOT running` on stderr; with `-Q` the node names alone.
pub fn locate(ws: &WorkingSet, r: RscId, requested: &str, quiet: bool) -> Outcome {
    let mut o = Outcome::default();
    let found = search(ws, r, requested);
    for (node, promoted) in &found {
        if quiet {
            o.out(&format!("{node}\n"));
        } else {
            o.out(&format!("resource {requested} is running on: {node}{}\n", if *promoted { " Promoted" } else { "" }));
        }
    }
    if found.is_empty() && !quiet {
        o.err(&format!("resource {requested} is NOT running\n"));
    }
    o
}

/// The nodes a resource is active on (for `-M`/`-B` without a node and
/// the `-q` summary), in the order the unpacker found them.
pub fn active_nodes(cib: &Element, rsc: &str) -> Vec<String> {
    let Ok(ws) = working_set(cib) else { return Vec::new() };
    let Some(r) = find(&ws, rsc) else { return Vec::new() };
    search(&ws, r, rsc).into_iter().map(|(n, _)| n).fold(Vec::new(), |mut v, n| {
        if !v.contains(&n) {
            v.push(n);
        }
        v
    })
}
