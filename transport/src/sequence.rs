//! Reliable per-sender delivery: sequence numbers with the sender's
//! generation, duplicate and replay rejection, gap detection.
//!
//! Every message a node sends to the cluster (keepalives included) carries
//! `seq` (hex, from 1, per run) and `hg` (the generation, bumped at every
//! start, see [`crate::identity`]). A receiver keeps, per sender, a
//! [`RecvWindow`]: everything up to `delivered` has been handed on in
//! order; later messages wait in `held` until the gap before them is
//! filled by a retransmission or given up as lost. The sender keeps its
//! last messages in a [`SendHistory`] to answer retransmission requests.
//!
//! Why duplicates are not simply dropped: with several media the same
//! packet arrives once per link, and each copy is what keeps that link
//! "up". A copy is therefore accepted once per link while its sequence
//! number is recent; a second copy on the same link, or a copy of an old
//! number, is a replay.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::wire::Message;

/// How a received sequence number relates to what was seen before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arrival {
    /// First copy of a new message. `ready` are the messages that can now
    /// be delivered in order (this one and held ones after it), possibly
    /// none if a gap precedes it.
    New { ready: Vec<Message> },
    /// A recent message seen before, but not on this link (several media).
    OtherLink,
    /// Seen before on this link, or too old to tell: dropped.
    Replay,
    /// From an older generation than the sender's current one: dropped.
    OldGeneration,
}

/// A run of missing sequence numbers, `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub first: u64,
    pub last: u64,
}

/// Receive state for one sender.
#[derive(Debug, Clone, Default)]
pub struct RecvWindow {
    /// The sender's generation; `None` before its first message.
    generation: Option<u64>,
    /// Every sequence number up to this one has been delivered or given up.
    delivered: u64,
    /// Out-of-order messages waiting for the gap before them to fill.
    held: BTreeMap<u64, Message>,
    /// Links each recent sequence number arrived on (bounded by `window`).
    seen: BTreeMap<u64, BTreeSet<String>>,
    /// How many sequence numbers are remembered and may be waited for.
    window: u64,
    /// Sequence numbers skipped without delivery (far ahead of the
    /// window, or missing when the sender was declared dead), not yet
    /// reported: see [`RecvWindow::take_skipped`].
    skipped: u64,
}

impl RecvWindow {
    pub fn new(window: u64) -> RecvWindow {
        RecvWindow { window: window.max(1), ..RecvWindow::default() }
    }

    pub fn generation(&self) -> Option<u64> {
        self.generation
    }

    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Records the arrival of `seq` of generation `hg` on `link`.
    /// A higher generation means the sender restarted: its numbering
    /// starts again, so the window is reset to just before `seq`.
    pub fn arrive(&mut self, hg: u64, seq: u64, link: &str, message: Message) -> Arrival {
        match self.generation {
            Some(g) if hg < g => return Arrival::OldGeneration,
            Some(g) if hg == g => {}
            _ => {
                self.generation = Some(hg);
                self.delivered = seq.saturating_sub(1);
                self.held.clear();
                self.seen.clear();
            }
        }
        if seq <= self.delivered || self.held.contains_key(&seq) {
            let fresh_link = self.seen.get_mut(&seq).is_some_and(|links| links.insert(link.to_string()));
            return if fresh_link { Arrival::OtherLink } else { Arrival::Replay };
        }
        // Far ahead of what we have: everything before the window is lost
        // for good (the sender no longer holds it either).
        if seq > self.delivered + self.window {
            let floor = seq - self.window;
            let held_below = self.held.range(..=floor).count() as u64;
            self.skipped += floor - self.delivered - held_below;
            self.delivered = floor;
            self.held.retain(|&s, _| s > floor);
        }
        self.seen.insert(seq, BTreeSet::from([link.to_string()]));
        let floor = seq.saturating_sub(self.window);
        self.seen.retain(|&s, _| s > floor);
        self.held.insert(seq, message);
        Arrival::New { ready: self.drain() }
    }

    /// Messages that are now in order.
    fn drain(&mut self) -> Vec<Message> {
        let mut out = Vec::new();
        while let Some(m) = self.held.remove(&(self.delivered + 1)) {
            self.delivered += 1;
            out.push(m);
        }
        out
    }

    /// The first missing run, if any message is held after a gap.
    pub fn gap(&self) -> Option<Gap> {
        let (&next, _) = self.held.iter().next()?;
        Some(Gap { first: self.delivered + 1, last: next - 1 })
    }

    /// Every missing run before the last held message, at most `max`.
    pub fn gaps(&self, max: usize) -> Vec<Gap> {
        let mut out = Vec::new();
        let mut expect = self.delivered + 1;
        for &s in self.held.keys() {
            if out.len() == max {
                break;
            }
            if s > expect {
                out.push(Gap { first: expect, last: s - 1 });
            }
            expect = s + 1;
        }
        out
    }

    /// Gives up the first gap: returns `(delivered_before, next_held,
    /// count)` for the "lost packet(s)" warning and the messages now in
    /// order.
    pub fn give_up_gap(&mut self) -> Option<((u64, u64, u64), Vec<Message>)> {
        let gap = self.gap()?;
        let before = self.delivered;
        self.delivered = gap.last;
        let ready = self.drain();
        Some(((before, gap.last + 1, gap.last - gap.first + 1), ready))
    }

    /// Forgets held messages and gaps (the sender was declared dead):
    /// whatever was missing will not come.
    pub fn reset_after_death(&mut self) {
        if let Some((&last, _)) = self.held.iter().next_back() {
            self.skipped += last - self.delivered - self.held.len() as u64;
            self.delivered = last;
        }
        self.held.clear();
    }

    /// Sequence numbers skipped without delivery since the last call
    /// (the caller counts them as lost).
    pub fn take_skipped(&mut self) -> u64 {
        std::mem::take(&mut self.skipped)
    }
}

/// The last messages this node sent, for retransmission.
#[derive(Debug, Clone)]
pub struct SendHistory {
    messages: VecDeque<(u64, Message)>,
    capacity: usize,
}

impl SendHistory {
    pub fn new(capacity: usize) -> SendHistory {
        SendHistory { messages: VecDeque::new(), capacity: capacity.max(1) }
    }

    pub fn push(&mut self, seq: u64, message: Message) {
        if self.messages.len() == self.capacity {
            self.messages.pop_front();
        }
        self.messages.push_back((seq, message));
    }

    pub fn get(&self, seq: u64) -> Option<&Message> {
        let (first, _) = self.messages.front()?;
        let i = seq.checked_sub(*first)? as usize;
        self.messages.get(i).filter(|(s, _)| *s == seq).map(|(_, m)| m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(n: u64) -> Message {
        Message::new().with_str("n", &n.to_string())
    }

    fn ns(ready: &[Message]) -> Vec<String> {
        ready.iter().map(|m| m.get_str("n").unwrap().to_string()).collect()
    }

    #[test]
    fn in_order_delivery_and_duplicates_per_link() {
        let mut w = RecvWindow::new(10);
        assert_eq!(w.arrive(5, 7, "eth0", m(7)), Arrival::New { ready: vec![m(7)] });
        assert_eq!(w.arrive(5, 8, "eth0", m(8)), Arrival::New { ready: vec![m(8)] });
        // Same packet on the second medium: accepted once for that link.
        assert_eq!(w.arrive(5, 8, "eth1", m(8)), Arrival::OtherLink);
        assert_eq!(w.arrive(5, 8, "eth1", m(8)), Arrival::Replay);
        assert_eq!(w.arrive(5, 8, "eth0", m(8)), Arrival::Replay);
        assert_eq!(w.arrive(4, 100, "eth0", m(100)), Arrival::OldGeneration);
    }

    #[test]
    fn skipped_numbers_are_counted() {
        let mut w = RecvWindow::new(10);
        w.arrive(1, 1, "l", m(1));
        w.arrive(1, 3, "l", m(3));
        w.arrive(1, 5, "l", m(5));
        w.reset_after_death();
        assert_eq!(w.take_skipped(), 2, "2 and 4");
        assert_eq!(w.take_skipped(), 0);
        // 30 is 25 past the window of 10 after 5: 6..=20 skipped.
        w.arrive(1, 30, "l", m(30));
        assert_eq!(w.take_skipped(), 15);
    }

    #[test]
    fn every_missing_run_is_listed() {
        let mut w = RecvWindow::new(100);
        for s in [1, 4, 5, 9, 12] {
            w.arrive(1, s, "l", m(s));
        }
        assert_eq!(w.gaps(10), [Gap { first: 2, last: 3 }, Gap { first: 6, last: 8 }, Gap { first: 10, last: 11 }]);
        assert_eq!(w.gaps(1), [Gap { first: 2, last: 3 }]);
        assert_eq!(w.gap(), Some(Gap { first: 2, last: 3 }));
    }

    #[test]
    fn gap_is_held_then_filled() {
        let mut w = RecvWindow::new(10);
        w.arrive(1, 1, "l", m(1));
        let Arrival::New { ready } = w.arrive(1, 4, "l", m(4)) else { panic!() };
        assert!(ready.is_empty());
        assert_eq!(w.gap(), Some(Gap { first: 2, last: 3 }));
        let Arrival::New { ready } = w.arrive(1, 3, "l", m(3)) else { panic!() };
        assert!(ready.is_empty());
        assert_eq!(w.gap(), Some(Gap { first: 2, last: 2 }));
        let Arrival::New { ready } = w.arrive(1, 2, "l", m(2)) else { panic!() };
        assert_eq!(ns(&ready), ["2", "3", "4"]);
        assert_eq!(w.gap(), None);
    }

    #[test]
    fn giving_up_reports_the_lost_range() {
        let mut w = RecvWindow::new(10);
        w.arrive(1, 124, "l", m(124));
        w.arrive(1, 126, "l", m(126));
        let ((before, next, count), ready) = w.give_up_gap().unwrap();
        // Heartbeat: "1 lost packet(s) for [node2] [124:126]".
        assert_eq!((before, next, count), (124, 126, 1));
        assert_eq!(ns(&ready), ["126"]);
    }

    #[test]
    fn restart_with_higher_generation_resets() {
        let mut w = RecvWindow::new(10);
        w.arrive(1, 50, "l", m(50));
        assert_eq!(w.arrive(2, 1, "l", m(1)), Arrival::New { ready: vec![m(1)] });
        assert_eq!(w.generation(), Some(2));
        assert_eq!(w.arrive(1, 51, "l", m(51)), Arrival::OldGeneration);
    }

    #[test]
    fn window_bounds_what_is_waited_for() {
        let mut w = RecvWindow::new(4);
        w.arrive(1, 1, "l", m(1));
        let Arrival::New { ready } = w.arrive(1, 20, "l", m(20)) else { panic!() };
        // The window is 17..=20: 2..=16 fell out of it, 17..=19 are awaited.
        assert!(ready.is_empty());
        assert_eq!(w.gap(), Some(Gap { first: 17, last: 19 }));
        // An old number outside the remembered window is a replay.
        assert_eq!(w.arrive(1, 1, "other", m(1)), Arrival::Replay);
    }

    #[test]
    fn history_is_bounded() {
        let mut h = SendHistory::new(3);
        for s in 1..=5 {
            h.push(s, m(s));
        }
        assert_eq!(h.get(2), None);
        assert_eq!(h.get(3), Some(&m(3)));
        assert_eq!(h.get(5), Some(&m(5)));
        assert_eq!(h.get(6), None);
    }
}
