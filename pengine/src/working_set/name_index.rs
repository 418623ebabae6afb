//! Resources by name, for the lookups status unpacking repeats once per
//! history entry (`pe_find_resource`): a scan of every resource per entry
//! made unpacking quadratic (nodes x resources x resources; see
//! docs/SCALE.md).
//!
//! The index follows the arena as it grows (new resources are indexed on
//! the next lookup) and is told when a resource takes a history name
//! ([`NameIndex::note_name`]). Entries are only candidates: each lookup
//! checks them against the resource as it is now, so a stale entry (a
//! history name cleared since) is skipped rather than returned. When a
//! name has more than one candidate, the answer must be the first in
//! Pacemaker's search order, which the caller finds with the full search.

use std::collections::HashMap;

use super::RscId;

/// See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct NameIndex {
    /// Id or history name -> resources that had it when indexed.
    by_name: HashMap<String, Vec<RscId>>,
    /// Resources `0..indexed` of the arena are in `by_name`.
    indexed: usize,
}

/// What the index knows about a name.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    None,
    One(RscId),
    /// Several resources answer to the name: search in order.
    Ambiguous,
}

impl NameIndex {
    /// Indexes the resources added since the last call; `names(i)` gives
    /// resource `i`'s id and history name.
    pub fn catch_up<'a>(&mut self, len: usize, mut names: impl FnMut(usize) -> (&'a str, Option<&'a str>)) {
        while self.indexed < len {
            let (id, history) = names(self.indexed);
            let r = RscId(self.indexed);
            self.add(id, r);
            if let Some(h) = history.filter(|h| *h != id) {
                self.add(h, r);
            }
            self.indexed += 1;
        }
    }

    /// Resource `r` now also answers to `name`.
    pub fn note_name(&mut self, name: &str, r: RscId) {
        if r.0 < self.indexed {
            self.add(name, r);
        }
    }

    fn add(&mut self, name: &str, r: RscId) {
        let v = self.by_name.entry(name.to_string()).or_default();
        if !v.contains(&r) {
            v.push(r);
        }
    }

    /// The resources still answering to `name` (`matches(r)` checks one).
    pub fn lookup(&self, name: &str, matches: impl Fn(RscId) -> bool) -> Lookup {
        let Some(v) = self.by_name.get(name) else { return Lookup::None };
        let mut found = Lookup::None;
        for &r in v {
            if matches(r) {
                if found != Lookup::None {
                    return Lookup::Ambiguous;
                }
                found = Lookup::One(r);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_new_resources_and_history_names() {
        let names = [("a", None), ("b", Some("a:0")), ("c", Some("c"))];
        let mut ix = NameIndex::default();
        ix.catch_up(2, |i| names[i]);
        assert_eq!(ix.lookup("a", |_| true), Lookup::One(RscId(0)));
        assert_eq!(ix.lookup("a:0", |_| true), Lookup::One(RscId(1)));
        assert_eq!(ix.lookup("c", |_| true), Lookup::None);
        ix.catch_up(3, |i| names[i]);
        assert_eq!(ix.lookup("c", |_| true), Lookup::One(RscId(2)));
        ix.note_name("a", RscId(2));
        assert_eq!(ix.lookup("a", |_| true), Lookup::Ambiguous);
        // A stale candidate is skipped.
        assert_eq!(ix.lookup("a", |r| r != RscId(2)), Lookup::One(RscId(0)));
    }

    #[test]
    fn notes_for_unindexed_resources_wait_for_catch_up() {
        let mut ix = NameIndex::default();
        ix.note_name("x", RscId(0));
        assert_eq!(ix.lookup("x", |_| true), Lookup::None);
        ix.catch_up(1, |_| ("x", None));
        assert_eq!(ix.lookup("x", |_| true), Lookup::One(RscId(0)));
    }
}
