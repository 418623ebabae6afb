//! The "Negative Location Constraints" (`-L`, the XML's `<bans>`): every
//! node a location constraint scores below zero, as Pacemaker 2.1.5 lists
//! them after unpacking the constraints.
//!
//! Pacemaker makes one placement entry per fixed-node constraint, per
//! rule and per resource of a set (or tag), in document order, and
//! *prepends* each to its list; an "and" rule's nodes come from a
//! reversing copy of the node list (sorted by name), an "or" rule's are
//! appended in node order. Printing walks both lists from the front, so
//! entries come out in reverse order of creation, and an "and" rule's
//! nodes in reverse name order. Reproducing that order matters: scripts
//! and the compatibility test compare the output line by line.

use cib::model::rules::BoolOp;
use cib::model::{Location, Role, Rule, Score};
use pengine::rules::{all_match, rule_matches, RuleInput};
use pengine::NodeId;

use super::snapshot::{Ban, Snapshot};

/// One placement entry: a constraint applied to one resource.
struct Placement<'a> {
    id: &'a str,
    rsc: String,
    role: Option<Role>,
    /// Nodes with their scores, in the order Pacemaker keeps them.
    nodes: Vec<(NodeId, Score)>,
}

pub fn bans(snap: &Snapshot) -> Vec<Ban> {
    let mut placements = Vec::new();
    for loc in &snap.cib.constraints.locations {
        // A constraint whose `<lifetime>` has passed is not unpacked.
        if !loc.lifetime.is_empty() && !all_match(loc.lifetime.iter(), &RuleInput { now: snap.now, ..Default::default() }) {
            continue;
        }
        unpack(snap, loc, &mut placements);
    }
    let mut out = Vec::new();
    for p in placements.iter().rev() {
        for &(n, score) in &p.nodes {
            if score.value() < 0 {
                out.push(Ban {
                    id: p.id.to_string(),
                    rsc: p.rsc.clone(),
                    node: snap.ws.node(n).uname.clone(),
                    weight: score.value().to_string(),
                    promoted_only: p.role == Some(Role::Promoted),
                });
            }
        }
    }
    out
}

/// The resources a name stands for: itself, or a tag's members.
fn expand<'a>(snap: &'a Snapshot, name: &'a str, depth: usize) -> Option<Vec<&'a str>> {
    if snap.ws.find_resource(name).is_some() {
        return Some(vec![name]);
    }
    let tag = snap.cib.tags.iter().find(|t| t.id == name)?;
    if depth > 8 {
        return None;
    }
    let mut out = Vec::new();
    for r in &tag.refs {
        out.extend(expand(snap, r, depth + 1)?);
    }
    Some(out)
}

fn unpack<'a>(snap: &'a Snapshot, loc: &'a Location, out: &mut Vec<Placement<'a>>) {
    if !loc.sets.is_empty() {
        for set in &loc.sets {
            for name in &set.resources {
                // An unknown resource ends the constraint (what came
                // before it stays).
                let Some(rscs) = expand(snap, name, 0) else { return };
                for rsc in rscs {
                    one(snap, loc, rsc, set.role.or(loc.role), set.score.or(loc.score), out);
                }
            }
        }
        return;
    }
    let Some(name) = &loc.rsc else { return };
    let Some(rscs) = expand(snap, name, 0) else { return };
    for rsc in rscs {
        one(snap, loc, rsc, loc.role, loc.score, out);
    }
}

/// `unpack_rsc_location` for one resource: a fixed node with a score, or
/// one entry per rule.
fn one<'a>(snap: &'a Snapshot, loc: &'a Location, rsc: &str, role: Option<Role>, score: Option<Score>, out: &mut Vec<Placement<'a>>) {
    if let (Some(node), Some(score)) = (&loc.node, score) {
        if let Some(n) = snap.ws.node_by_uname(node) {
            out.push(Placement { id: &loc.id, rsc: rsc.to_string(), role, nodes: vec![(n, score)] });
        }
        return;
    }
    for rule in &loc.rules {
        let Some(rule) = resolve(snap, rule) else { continue };
        let mut nodes = Vec::new();
        for (i, node) in snap.ws.nodes.iter().enumerate() {
            let input = RuleInput { now: snap.now, node_attrs: Some(&node.attrs), ..Default::default() };
            if !rule_matches(rule, &input) {
                continue;
            }
            let score = match (&rule.score_attribute, rule.score) {
                (None, Some(s)) => s,
                (Some(attr), None) => node.attr(attr).map(Score::parse).unwrap_or(Score::MINUS_INFINITY),
                (Some(_), Some(s)) => s,
                // Pacemaker: "no score specified (assuming 0)".
                (None, None) => Score::ZERO,
            };
            // An "and" rule starts from a copy of the node list, which
            // Pacemaker's copy reverses; an "or" rule appends its
            // matches in node order.
            match rule.boolean_op {
                BoolOp::And => nodes.insert(0, (NodeId(i), score)),
                BoolOp::Or => nodes.push((NodeId(i), score)),
            }
        }
        out.push(Placement { id: &rule.id, rsc: rsc.to_string(), role: rule.role, nodes });
    }
}

/// A rule, or the rule an `id-ref` names.
fn resolve<'r>(snap: &'r Snapshot, rule: &'r Rule) -> Option<&'r Rule> {
    match &rule.id_ref {
        None => Some(rule),
        Some(id) => snap.cib.constraints.locations.iter().flat_map(|l| l.rules.iter()).find(|r| &r.id == id && r.id_ref.is_none()),
    }
}

/// What unpacking the `rsc_ticket` constraints does to the status when
/// a ticket is revoked or on standby (Pacemaker applies the constraint at
/// once then, and crm_mon unpacks constraints whenever it shows bans or
/// tickets, i.e. also for XML): `loss-policy="fence"` marks the nodes
/// the resource runs on unclean ("deadman ticket was lost"), `freeze`
/// makes a running resource unmanaged and blocked. `stop` and `demote`
/// only change scores, which status output does not show.
pub fn apply_ticket_losses(snap: &mut Snapshot) {
    use cib::model::constraints::LossPolicy;
    let mut work: Vec<(pengine::RscId, Option<Role>, LossPolicy)> = Vec::new();
    for t in &snap.cib.constraints.tickets {
        let state = snap.cib.status.tickets.iter().find(|s| s.id == t.ticket);
        if state.is_some_and(|s| s.granted) {
            continue;
        }
        let policy = t.loss_policy.unwrap_or(LossPolicy::Stop);
        let mut names: Vec<(&str, Option<Role>)> = t.rsc.iter().map(|r| (r.as_str(), t.rsc_role)).collect();
        for set in &t.sets {
            names.extend(set.resources.iter().map(|r| (r.as_str(), set.role.or(t.rsc_role))));
        }
        for (name, role) in names {
            for rsc in expand(snap, name, 0).unwrap_or_default() {
                if let Some(r) = snap.ws.find_resource(rsc) {
                    work.push((r, role, policy));
                }
            }
        }
    }
    for (rsc, role, policy) in work {
        lose_ticket(snap, rsc, role, policy);
    }
}

fn lose_ticket(snap: &mut Snapshot, rsc: pengine::RscId, role: Option<Role>, policy: cib::model::constraints::LossPolicy) {
    use cib::model::constraints::LossPolicy;
    let kids = snap.ws.rsc(rsc).children.clone();
    if !kids.is_empty() {
        for k in kids {
            lose_ticket(snap, k, role, policy);
        }
        return;
    }
    let res = snap.ws.rsc(rsc);
    if res.running_on.is_empty() {
        return;
    }
    // "Started" (or no role) applies to every role.
    let role_matches = match role {
        None | Some(Role::Started) | Some(Role::Unknown) => true,
        Some(r) => r == res.role,
    };
    if !role_matches {
        return;
    }
    match policy {
        LossPolicy::Fence => {
            for n in res.running_on.clone() {
                snap.ws.nodes[n.0].unclean = true;
            }
        }
        LossPolicy::Freeze => {
            let r = &mut snap.ws.resources[rsc.0];
            r.flags.managed = false;
            r.flags.blocked = true;
        }
        LossPolicy::Stop | LossPolicy::Demote => {}
    }
}
