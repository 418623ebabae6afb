//! A membership view: what ccm tells crmd and cib.

use std::collections::BTreeSet;
use std::fmt;

/// An agreed membership. Every member that installs instance `instance`
/// installs exactly this value (docs/CCM.md, "Safety").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The membership instance (Heartbeat's `ccm_transition` in the CIB):
    /// strictly greater than every instance this node installed before.
    pub instance: u64,
    /// The members, sorted by name.
    pub members: BTreeSet<String>,
    /// The partition may run resources.
    pub quorum: bool,
    /// The node that proposed the view (the lowest member name).
    pub leader: String,
}

impl fmt::Display for View {
    /// `instance 7: n1 n2 n3 (quorum, leader n1)`, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "instance {}:", self.instance)?;
        for m in &self.members {
            write!(f, " {m}")?;
        }
        let q = if self.quorum { "quorum" } else { "no quorum" };
        write!(f, " ({q}, leader {})", self.leader)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_reads_like_a_log_line() {
        let v = View {
            instance: 7,
            members: ["n2", "n1"].iter().map(|s| s.to_string()).collect(),
            quorum: true,
            leader: "n1".into(),
        };
        assert_eq!(v.to_string(), "instance 7: n1 n2 (quorum, leader n1)");
    }
}
