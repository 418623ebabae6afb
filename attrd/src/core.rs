//! The attribute table of one node, without I/O: requests and the clock
//! come in, CIB writes go out.
//!
//! ```text
//!  Input::Update / Delete / Refresh / Tick --handle(input, now_ms)--> Vec<Command::Write>
//!                                            next_due() -> when to Tick
//! ```
//!
//! Dampening as Pacemaker's attribute manager does it: a change to an
//! attribute with a delay (re)starts its timer, and the value is written
//! when the timer runs out — so a burst of changes closer together than
//! the delay ends in one write of the last value. Without a delay a
//! change is written at once. A change of the delay itself counts as a
//! change.

use std::collections::BTreeMap;

use crate::value::expand;

/// One attribute of this node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attr {
    /// `None`: deleted (known, no value; the CIB has no nvpair).
    pub value: Option<String>,
    /// Dampening delay.
    pub dampen_ms: u64,
    /// When the pending write is due (the timer), if one is pending.
    pub due: Option<u64>,
}

/// What the shell feeds the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Set `name` to `value` (expanded against the old value: `value++`,
    /// `value+=N`); `dampen_ms` changes the delay when given.
    Update { name: String, value: String, dampen_ms: Option<u64> },
    /// Remove the value (written as the removal of the nvpair).
    Delete { name: String, dampen_ms: Option<u64> },
    /// Write every attribute again (attrd_updater -R).
    Refresh,
    /// The clock moved: write what is due.
    Tick,
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Write these attributes of this node into the CIB status section:
    /// `Some(value)` sets the nvpair, `None` removes it.
    Write(Vec<(String, Option<String>)>),
}

/// The attributes of one node (this node's attrd owns them).
#[derive(Debug, Clone)]
pub struct Core {
    pub node: String,
    attrs: BTreeMap<String, Attr>,
}

impl Core {
    pub fn new(node: &str) -> Core {
        Core { node: node.to_string(), attrs: BTreeMap::new() }
    }

    /// The attribute, if it was ever set since start.
    pub fn get(&self, name: &str) -> Option<&Attr> {
        self.attrs.get(name)
    }

    /// All attributes, in name order.
    pub fn attrs(&self) -> impl Iterator<Item = (&String, &Attr)> {
        self.attrs.iter()
    }

    /// The earliest pending write, if any.
    pub fn next_due(&self) -> Option<u64> {
        self.attrs.values().filter_map(|a| a.due).min()
    }

    pub fn handle(&mut self, input: Input, now_ms: u64) -> Vec<Command> {
        match input {
            Input::Update { name, value, dampen_ms } => {
                let old = self.attrs.get(&name).and_then(|a| a.value.clone());
                let new = expand(&value, old.as_deref());
                self.change(name, Some(new), dampen_ms, now_ms)
            }
            Input::Delete { name, dampen_ms } => {
                if !self.attrs.contains_key(&name) {
                    // Nothing known here; still make sure the CIB has none
                    // (it may hold a value written before a restart).
                    return vec![Command::Write(vec![(name, None)])];
                }
                self.change(name, None, dampen_ms, now_ms)
            }
            Input::Refresh => {
                let all: Vec<_> = self.attrs.iter_mut().map(|(n, a)| {
                    a.due = None;
                    (n.clone(), a.value.clone())
                }).collect();
                if all.is_empty() {
                    Vec::new()
                } else {
                    vec![Command::Write(all)]
                }
            }
            Input::Tick => {
                let due: Vec<_> = self
                    .attrs
                    .iter_mut()
                    .filter(|(_, a)| a.due.is_some_and(|d| d <= now_ms))
                    .map(|(n, a)| {
                        a.due = None;
                        (n.clone(), a.value.clone())
                    })
                    .collect();
                if due.is_empty() {
                    Vec::new()
                } else {
                    vec![Command::Write(due)]
                }
            }
        }
    }

    fn change(&mut self, name: String, value: Option<String>, dampen_ms: Option<u64>, now_ms: u64) -> Vec<Command> {
        let a = self.attrs.entry(name.clone()).or_default();
        let mut changed = a.value != value;
        if let Some(d) = dampen_ms {
            changed |= a.dampen_ms != d;
            a.dampen_ms = d;
        }
        a.value = value;
        if !changed {
            return Vec::new();
        }
        if a.dampen_ms == 0 {
            a.due = None;
            vec![Command::Write(vec![(name, a.value.clone())])]
        } else {
            a.due = Some(now_ms + a.dampen_ms);
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upd(name: &str, value: &str, d: Option<u64>) -> Input {
        Input::Update { name: name.into(), value: value.into(), dampen_ms: d }
    }

    fn write(pairs: &[(&str, Option<&str>)]) -> Vec<Command> {
        vec![Command::Write(pairs.iter().map(|(n, v)| (n.to_string(), v.map(str::to_string))).collect())]
    }

    #[test]
    fn undamped_changes_are_written_at_once_and_only_when_changed() {
        let mut c = Core::new("n1");
        assert_eq!(c.handle(upd("a", "1", None), 0), write(&[("a", Some("1"))]));
        assert_eq!(c.handle(upd("a", "1", None), 5), vec![]);
        assert_eq!(c.handle(upd("a", "value++", None), 6), write(&[("a", Some("2"))]));
        assert_eq!(c.handle(Input::Delete { name: "a".into(), dampen_ms: None }, 7), write(&[("a", None)]));
        assert_eq!(c.get("a").unwrap().value, None);
        // Deleting what was never set still clears the CIB.
        assert_eq!(c.handle(Input::Delete { name: "b".into(), dampen_ms: None }, 8), write(&[("b", None)]));
    }

    #[test]
    fn dampening_coalesces_a_burst_into_one_write_of_the_last_value() {
        let mut c = Core::new("n1");
        assert_eq!(c.handle(upd("pingd", "100", Some(5000)), 0), vec![]);
        assert_eq!(c.next_due(), Some(5000));
        assert_eq!(c.handle(upd("pingd", "200", None), 1000), vec![]);
        assert_eq!(c.next_due(), Some(6000), "a change restarts the timer");
        assert_eq!(c.handle(upd("other", "x", None), 1500), write(&[("other", Some("x"))]));
        assert_eq!(c.handle(Input::Tick, 5999), vec![]);
        assert_eq!(c.handle(Input::Tick, 6000), write(&[("pingd", Some("200"))]));
        assert_eq!(c.next_due(), None);
        assert_eq!(c.handle(Input::Tick, 9000), vec![]);
        // Changing only the delay is a change.
        assert_eq!(c.handle(upd("pingd", "200", Some(100)), 10_000), vec![]);
        assert_eq!(c.handle(Input::Tick, 10_100), write(&[("pingd", Some("200"))]));
    }

    #[test]
    fn refresh_writes_everything() {
        let mut c = Core::new("n1");
        c.handle(upd("a", "1", None), 0);
        c.handle(upd("b", "2", Some(1000)), 0);
        assert_eq!(c.handle(Input::Refresh, 1), write(&[("a", Some("1")), ("b", Some("2"))]));
        assert_eq!(c.next_due(), None);
    }
}
