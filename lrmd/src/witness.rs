//! The witness log: every start and stop of a resource, with the node that
//! ran it and a CLOCK_MONOTONIC timestamp, appended by the project's agents
//! (`witness` parameter) to a file all lab nodes share, and a checker that
//! proves no two nodes ran the same resource at once.
//!
//! One event per line: `MONO_NS NODE EVENT RSC`, e.g.
//! `1234567890123 node1 start web`. Events:
//! - `start`: written *before* the agent starts the service;
//! - `stop`: written *after* the agent has stopped it;
//! - `fenced`: written by the lab fence agent after it has powered `NODE`
//!   off (RSC is `-`): everything the node ran is over.
//!
//! So each node's recorded interval for a resource contains the time the
//! service really ran there, and disjoint recorded intervals prove the
//! service never ran twice. CLOCK_MONOTONIC is one clock for every PID and
//! network namespace of the machine (the lab creates no time namespaces),
//! so stamps from different lab nodes compare. Lines are shorter than
//! PIPE_BUF and written with one `write` to an `O_APPEND` file, so
//! concurrent writers never interleave.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::Path;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Event {
    Start,
    Stop,
    Fenced,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Start => "start",
            Event::Stop => "stop",
            Event::Fenced => "fenced",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        match s {
            "start" => Some(Event::Start),
            "stop" => Some(Event::Stop),
            "fenced" => Some(Event::Fenced),
            _ => None,
        }
    }
}

/// One line of the witness log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub mono_ns: u64,
    pub node: String,
    pub event: Event,
    /// The resource; `-` for `fenced`.
    pub rsc: String,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} {}", self.mono_ns, self.node, self.event.as_str(), self.rsc)
    }
}

/// A line that is not `MONO_NS NODE EVENT RSC`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("witness line {line}: {why}: {text:?}")]
pub struct ParseError {
    pub line: usize,
    pub why: &'static str,
    pub text: String,
}

/// Parses a witness log (blank lines are skipped).
pub fn parse(text: &str) -> Result<Vec<Entry>, ParseError> {
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let err = |why| ParseError { line: i + 1, why, text: l.to_string() };
        let f: Vec<&str> = l.split_whitespace().collect();
        let [ns, node, event, rsc] = f[..] else { return Err(err("expected 4 fields")) };
        let mono_ns = ns.parse().map_err(|_| err("bad timestamp"))?;
        let event = Event::parse(event).ok_or_else(|| err("unknown event"))?;
        out.push(Entry { mono_ns, node: node.to_string(), event, rsc: rsc.to_string() });
    }
    Ok(out)
}

/// Two nodes running one resource at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    pub rsc: String,
    /// The node that already ran it, and since when.
    pub running: String,
    pub running_since_ns: u64,
    /// The node that started it meanwhile, and when.
    pub started: String,
    pub started_ns: u64,
}

impl fmt::Display for Overlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} started on {} at {} ns while running on {} since {} ns",
            self.rsc, self.started, self.started_ns, self.running, self.running_since_ns
        )
    }
}

/// Every moment a resource was (possibly) active on two nodes. Events are
/// taken in timestamp order; at equal stamps stops and fencing come before
/// starts (a stop stamped after the service is gone cannot be later than
/// the other node's start it allowed). A start on a node that already runs
/// the resource (a repeated start) is not an overlap.
pub fn overlaps(entries: &[Entry]) -> Vec<Overlap> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.mono_ns.cmp(&b.mono_ns).then((a.event == Event::Start).cmp(&(b.event == Event::Start))));
    // rsc -> node -> since
    let mut active: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    let mut out = Vec::new();
    for e in sorted {
        match e.event {
            Event::Start => {
                let nodes = active.entry(&e.rsc).or_default();
                for (node, since) in nodes.iter() {
                    if *node != e.node {
                        out.push(Overlap {
                            rsc: e.rsc.clone(),
                            running: node.to_string(),
                            running_since_ns: *since,
                            started: e.node.clone(),
                            started_ns: e.mono_ns,
                        });
                    }
                }
                nodes.entry(&e.node).or_insert(e.mono_ns);
            }
            Event::Stop => {
                if let Some(nodes) = active.get_mut(e.rsc.as_str()) {
                    nodes.remove(e.node.as_str());
                }
            }
            Event::Fenced => {
                for nodes in active.values_mut() {
                    nodes.remove(e.node.as_str());
                }
            }
        }
    }
    out
}

/// CLOCK_MONOTONIC now, in nanoseconds.
pub fn mono_ns() -> u64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).expect("CLOCK_MONOTONIC exists");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

/// Appends one entry to the log at `path` with a single write.
pub fn append(path: &Path, entry: &Entry) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(format!("{entry}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(text: &str) -> Vec<Entry> {
        parse(text).unwrap()
    }

    #[test]
    fn lines_round_trip() {
        let e = Entry { mono_ns: 42, node: "n1".into(), event: Event::Start, rsc: "web".into() };
        assert_eq!(e.to_string(), "42 n1 start web");
        assert_eq!(parse("42 n1 start web\n\n").unwrap(), vec![e]);
        assert_eq!(parse("42 n1 begin web").unwrap_err().why, "unknown event");
        assert_eq!(parse("x n1 start web").unwrap_err().why, "bad timestamp");
        assert_eq!(parse("1 n1 start").unwrap_err().line, 1);
    }

    #[test]
    fn a_clean_failover_has_no_overlap() {
        let l = log("10 n1 start web\n20 n1 stop web\n20 n2 start web\n30 n2 stop web\n5 n2 start db\n");
        assert_eq!(overlaps(&l), vec![]);
    }

    #[test]
    fn a_start_before_the_other_nodes_stop_is_an_overlap() {
        let l = log("10 n1 start web\n25 n1 stop web\n20 n2 start web\n");
        let o = overlaps(&l);
        assert_eq!(o.len(), 1);
        assert_eq!((o[0].running.as_str(), o[0].started.as_str(), o[0].started_ns), ("n1", "n2", 20));
        assert_eq!(o[0].to_string(), "web started on n2 at 20 ns while running on n1 since 10 ns");
    }

    #[test]
    fn fencing_ends_what_the_node_ran_and_repeated_starts_are_fine() {
        // n1 never logged a stop: it was fenced at 15.
        let l = log("10 n1 start web\n11 n1 start web\n15 n1 fenced -\n16 n2 start web\n");
        assert_eq!(overlaps(&l), vec![]);
        // Without the fencing line it is a double run.
        let l = log("10 n1 start web\n16 n2 start web\n");
        assert_eq!(overlaps(&l).len(), 1);
    }

    #[test]
    fn monotonic_stamps_move_forward() {
        let a = mono_ns();
        let b = mono_ns();
        assert!(b >= a && a > 0);
    }
}
