//! What a ccm core is told at start.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::quorum::QuorumRules;

/// Configuration of one node's ccm core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// This node's name (heartbeat's node name, `uname -n`).
    pub me: String,
    /// Quorum rules; their `configured` set is ha.cf's `node` list and always
    /// contains [`Config::me`].
    pub quorum: QuorumRules,
    /// How long a leader waits for acks before re-sending its proposal, and
    /// how often a follower whose view is stale asks its leader for a round.
    pub retry: Duration,
}

impl Config {
    /// Defaults: one second between retries, [`QuorumRules::new`] rules.
    /// `me` is added to `configured` if the node list forgot it.
    pub fn new(me: &str, configured: impl IntoIterator<Item = impl Into<String>>) -> Config {
        let mut nodes: BTreeSet<String> = configured.into_iter().map(Into::into).collect();
        nodes.insert(me.to_owned());
        Config { me: me.to_owned(), quorum: QuorumRules::new(nodes), retry: Duration::from_secs(1) }
    }
}
