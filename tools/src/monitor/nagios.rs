//! `crm_mon -s`: one line for monitoring systems such as Nagios.
//!
//! `CLUSTER OK: 2 nodes online, 1 standby node, 4 resource instances
//! configured`, or `CLUSTER WARN: No DC, offline node: n3`. Pacemaker
//! 2.1.5 exits 0 for both; only a cluster it cannot reach is CRIT.

use super::Snapshot;

/// The Nagios plugin exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NagiosCode {
    Ok = 0,
    Warning = 1,
    Critical = 2,
}

/// The status line and the state it reports.
pub fn render(snap: &Snapshot) -> (String, NagiosCode) {
    let ws = &snap.ws;
    let no_dc = ws.dc_node.is_none();
    let (mut online, mut standby, mut maintenance) = (0usize, 0usize, 0usize);
    let mut offline: Vec<String> = Vec::new();
    for n in &ws.nodes {
        if n.standby && n.online {
            standby += 1;
        } else if n.maintenance && n.online {
            maintenance += 1;
        } else if n.online {
            online += 1;
        } else {
            offline.push(format!("offline node: {}", n.uname));
        }
    }
    if no_dc || !offline.is_empty() {
        let mut s = String::from("CLUSTER WARN:");
        if no_dc {
            s.push_str(" No DC");
        }
        if no_dc && !offline.is_empty() {
            s.push(',');
        }
        if !offline.is_empty() {
            s.push(' ');
            s.push_str(&offline.join(" "));
        }
        return (s, NagiosCode::Warning);
    }
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut s = format!("CLUSTER OK: {online} node{} online", plural(online));
    if standby > 0 {
        s.push_str(&format!(", {standby} standby node{}", plural(standby)));
    }
    if maintenance > 0 {
        s.push_str(&format!(", {maintenance} maintenance node{}", plural(maintenance)));
    }
    let (r, _, _) = snap.resource_counts();
    s.push_str(&format!(", {r} resource instance{} configured", plural(r)));
    (s, NagiosCode::Ok)
}
