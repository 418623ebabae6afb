//! pingd's pure part: which ping nodes answer, and the attribute value
//! that follows (multiplier x answering ping nodes). No I/O, no clock:
//! dampening is attrd's (the update carries the delay).

use std::collections::BTreeMap;

/// Whether a heartbeat node status means "this ping node answers".
/// Heartbeat reports `ping` for an answering ping node; `up`/`active`
/// are accepted too, so a ping node that is also a cluster node counts.
pub fn is_reachable(status: &str) -> bool {
    matches!(status, "ping" | "up" | "active")
}

/// The ping nodes pingd counts and what heartbeat last said of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connectivity {
    /// Ping node (or ping group) name -> answering.
    nodes: BTreeMap<String, bool>,
    multiplier: i64,
}

impl Connectivity {
    /// `nodes` are the ping nodes to count, each unreachable until told.
    pub fn new(nodes: impl IntoIterator<Item = String>, multiplier: i64) -> Connectivity {
        Connectivity { nodes: nodes.into_iter().map(|n| (n, false)).collect(), multiplier }
    }

    /// The ping nodes counted, in name order.
    pub fn nodes(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }

    /// Records heartbeat's status of `node`; true when that changed
    /// whether it is reachable. Statuses of other nodes are ignored.
    pub fn set(&mut self, node: &str, status: &str) -> bool {
        match self.nodes.get_mut(node) {
            Some(up) if *up != is_reachable(status) => {
                *up = is_reachable(status);
                true
            }
            _ => false,
        }
    }

    /// How many counted ping nodes answer.
    pub fn reachable(&self) -> usize {
        self.nodes.values().filter(|up| **up).count()
    }

    /// The attribute's value: multiplier x reachable ping nodes, capped
    /// at INFINITY (1000000) as every score is.
    pub fn value(&self) -> i64 {
        (self.multiplier.saturating_mul(self.reachable() as i64)).min(1_000_000)
    }
}

/// Chooses the ping nodes to count: every ping node heartbeat knows, or,
/// when hosts were named (`-h`), those of them heartbeat knows. Returns
/// the chosen nodes and the named hosts heartbeat does not ping.
pub fn choose(ping_nodes: &[String], hosts: &[String]) -> (Vec<String>, Vec<String>) {
    if hosts.is_empty() {
        return (ping_nodes.to_vec(), Vec::new());
    }
    let known = |h: &String| ping_nodes.iter().any(|p| p.eq_ignore_ascii_case(h));
    let chosen = ping_nodes.iter().filter(|p| hosts.iter().any(|h| h.eq_ignore_ascii_case(p))).cloned().collect();
    let unknown = hosts.iter().filter(|h| !known(h)).cloned().collect();
    (chosen, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_is_the_multiplier_times_the_answering_ping_nodes() {
        let mut c = Connectivity::new(["10.0.0.1".to_string(), "grp".to_string()], 100);
        assert_eq!(c.value(), 0, "nothing heard yet");
        assert!(c.set("10.0.0.1", "ping"));
        assert!(!c.set("10.0.0.1", "ping"), "no change");
        assert_eq!(c.value(), 100);
        assert!(c.set("grp", "ping"));
        assert_eq!((c.reachable(), c.value()), (2, 200));
        assert!(c.set("10.0.0.1", "dead"));
        assert_eq!(c.value(), 100);
        assert!(!c.set("n2", "dead"), "a cluster node is not counted");
        assert!(!c.set("grp", "up"), "up is reachable too");
        assert!(c.set("grp", "init"));
        assert_eq!(c.value(), 0);
    }

    #[test]
    fn the_value_is_capped_at_infinity() {
        let mut c = Connectivity::new(["a".to_string(), "b".to_string()], 900_000);
        c.set("a", "ping");
        c.set("b", "ping");
        assert_eq!(c.value(), 1_000_000);
    }

    #[test]
    fn named_hosts_narrow_the_ping_nodes() {
        let pn = vec!["10.0.0.1".to_string(), "10.0.0.2".to_string()];
        assert_eq!(choose(&pn, &[]), (pn.clone(), vec![]));
        assert_eq!(
            choose(&pn, &["10.0.0.2".to_string(), "10.9.9.9".to_string()]),
            (vec!["10.0.0.2".to_string()], vec!["10.9.9.9".to_string()])
        );
    }
}
