//! DC election among the members of a membership view.
//!
//! Every candidate broadcasts a vote carrying its uptime. A node that
//! receives a vote compares it with itself ([`beats`]): if the voter wins,
//! it answers with a no-vote and stops being a candidate; otherwise it
//! answers with its own vote, which makes the voter lose. A candidate that
//! holds a no-vote from every other member of the view for its current
//! election id is the DC. If the election timer fires first, the candidate
//! takes the role anyway (as Pacemaker does); a second DC that this may
//! create is removed by the DC conflict rule in the controller.
//!
//! The rule: the longer uptime wins, counted in whole seconds so that a
//! few milliseconds of message delay do not flip the comparison; equal
//! uptimes are decided by the lower node name. The rule is a strict total
//! order on (seconds, name), so two nodes that compare each other at the
//! same moment agree.

use std::collections::BTreeSet;
use std::time::Duration;

/// A comparable candidacy: uptime and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub name: &'a str,
    pub age_ms: u64,
}

/// Whether `a` wins against `b`.
pub fn beats(a: &Candidate<'_>, b: &Candidate<'_>) -> bool {
    let (sa, sb) = (a.age_ms / 1000, b.age_ms / 1000);
    if sa != sb {
        return sa > sb;
    }
    a.name < b.name
}

/// This node's side of the election.
#[derive(Debug, Clone)]
pub struct Election {
    /// Our election id, bumped at every candidacy so that no-votes for an
    /// older candidacy are not counted.
    pub id: u64,
    /// Whether we are a candidate right now.
    pub running: bool,
    /// Members that sent a no-vote for `id`.
    pub no_votes: BTreeSet<String>,
    /// When this daemon started (for the uptime).
    started: Duration,
    /// The uptime our current vote carried. A candidate compares others'
    /// votes with this, not with its uptime now: two candidates that voted
    /// at the same moment then compare the same two numbers, both ways.
    pub voted_age_ms: u64,
}

impl Election {
    pub fn new(started: Duration) -> Election {
        Election { id: 0, running: false, no_votes: BTreeSet::new(), started, voted_age_ms: 0 }
    }

    /// Our uptime at `now`.
    pub fn age_ms(&self, now: Duration) -> u64 {
        now.saturating_sub(self.started).as_millis() as u64
    }

    /// Start a new candidacy at `now`; returns its id.
    pub fn start(&mut self, now: Duration) -> u64 {
        self.voted_age_ms = self.age_ms(now);
        self.id += 1;
        self.running = true;
        self.no_votes.clear();
        self.id
    }

    pub fn stop(&mut self) {
        self.running = false;
        self.no_votes.clear();
    }

    /// Record a no-vote; stale ids and non-candidates ignore it.
    pub fn no_vote(&mut self, from: &str, id: u64) {
        if self.running && id == self.id {
            self.no_votes.insert(from.to_string());
        }
    }

    /// The uptime to compare a vote with: the one we voted with while we
    /// are a candidate, our uptime now otherwise.
    pub fn compare_age_ms(&self, now: Duration) -> u64 {
        if self.running {
            self.voted_age_ms
        } else {
            self.age_ms(now)
        }
    }

    /// Whether every other member has conceded.
    pub fn won<'a>(&self, me: &str, members: impl IntoIterator<Item = &'a String>) -> bool {
        self.running && members.into_iter().all(|m| m == me || self.no_votes.contains(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, age_ms: u64) -> Candidate<'_> {
        Candidate { name, age_ms }
    }

    #[test]
    fn longer_uptime_wins_in_whole_seconds_then_lower_name() {
        assert!(beats(&c("n2", 5000), &c("n1", 4999)));
        assert!(!beats(&c("n1", 4999), &c("n2", 5000)));
        // Same second: the name decides, both ways agree.
        assert!(beats(&c("n1", 4001), &c("n2", 4999)));
        assert!(!beats(&c("n2", 4999), &c("n1", 4001)));
        assert!(!beats(&c("n1", 10), &c("n1", 10)));
    }

    #[test]
    fn wins_only_with_every_no_vote_of_the_current_candidacy() {
        let members: Vec<String> = ["n1", "n2", "n3"].iter().map(|s| s.to_string()).collect();
        let mut e = Election::new(Duration::ZERO);
        assert!(!e.won("n1", &members));
        let id = e.start(Duration::ZERO);
        e.no_vote("n2", id);
        assert!(!e.won("n1", &members));
        e.no_vote("n3", id - 1); // stale
        assert!(!e.won("n1", &members));
        e.no_vote("n3", id);
        assert!(e.won("n1", &members));
        let id2 = e.start(Duration::ZERO);
        assert!(id2 > id && !e.won("n1", &members));
        e.stop();
        e.no_vote("n2", id2);
        assert!(!e.won("n1", ["n1".to_string()].iter()));
    }
}
