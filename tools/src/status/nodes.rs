//! The node list (Pacemaker's `node-list` text message): nodes in a
//! noteworthy state one per line, the others summarised as
//! `Online: [ ... ]`, `OFFLINE: [ ... ]` and their remote/guest forms.

use pengine::options::HealthStrategy;
use pengine::{Node, NodeKind, WorkingSet};

use super::text::Out;

/// A node's health: below 0 red, 0 yellow, above 0 green
/// (`pe__node_health`). Without a health strategy every node is green.
pub fn node_health(ws: &WorkingSet, node: &Node) -> i32 {
    if ws.options.node_health_strategy == HealthStrategy::None {
        return 1;
    }
    let mut rc = 1;
    for (name, value) in &node.attrs {
        if !name.starts_with("#health") {
            continue;
        }
        let v = value.trim();
        // The colour words count as themselves, whatever score the
        // strategy gives them; other values by their score.
        if v.eq_ignore_ascii_case("red") {
            return -1;
        } else if v.eq_ignore_ascii_case("yellow") {
            rc = 0;
        } else if !v.eq_ignore_ascii_case("green") {
            let score = cib::model::Score::parse(v);
            if score.is_minus_infinity() {
                return -1;
            } else if score.value() < 0 {
                rc = 0;
            }
        }
    }
    rc
}

/// The state words of a node shown on its own line (`node_text_status`).
pub fn status_text(n: &Node) -> &'static str {
    if n.unclean {
        if n.online {
            "UNCLEAN (online)"
        } else if n.pending {
            "UNCLEAN (pending)"
        } else {
            "UNCLEAN (offline)"
        }
    } else if n.pending {
        "pending"
    } else if n.standby_onfail && n.online {
        "standby (on-fail)"
    } else if n.standby {
        if n.online {
            if n.running.is_empty() {
                "standby"
            } else {
                "standby (with active resources)"
            }
        } else {
            "OFFLINE (standby)"
        }
    } else if n.maintenance {
        if n.online {
            "maintenance"
        } else {
            "OFFLINE (maintenance)"
        }
    } else if n.online {
        "online"
    } else {
        "OFFLINE"
    }
}

/// Writes the node list at `level`.
pub fn node_list(out: &mut Out, ws: &WorkingSet, level: usize) {
    let mut online = Vec::new();
    let mut offline = Vec::new();
    let mut online_remote = Vec::new();
    let mut offline_remote = Vec::new();
    let mut online_guest = Vec::new();
    if ws.nodes.is_empty() {
        return;
    }
    out.header(level, "Node List");
    for n in &ws.nodes {
        let health = node_health(ws, n);
        let individual = n.unclean || n.pending || (n.standby_onfail && n.online) || n.standby || n.maintenance || health <= 0;
        if !individual {
            let name = n.uname.clone();
            if n.online {
                match n.kind {
                    NodeKind::Guest => online_guest.push(name),
                    NodeKind::Remote => online_remote.push(name),
                    _ => online.push(name),
                }
            } else {
                match n.kind {
                    NodeKind::Remote => offline_remote.push(name),
                    NodeKind::Guest => {}
                    _ => offline.push(name),
                }
            }
            continue;
        }
        let kind = match n.kind {
            NodeKind::Guest => "GuestNode",
            NodeKind::Remote => "RemoteNode",
            _ => "Node",
        };
        let mut line = format!("{kind} {}: {}", n.uname, status_text(n));
        if health < 0 {
            line.push_str(" (health is RED)");
        } else if health == 0 {
            line.push_str(" (health is YELLOW)");
        }
        out.item(level + 1, &line);
    }
    for (name, list) in [
        ("Online", online),
        ("OFFLINE", offline),
        ("RemoteOnline", online_remote),
        ("RemoteOFFLINE", offline_remote),
        ("GuestOnline", online_guest),
    ] {
        if !list.is_empty() {
            out.named_item(level + 1, name, &format!("[ {} ]", list.join(" ")));
        }
    }
}
