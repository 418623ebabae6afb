//! ipfail's decision, without I/O: compare this node's reachable ping
//! nodes with the peer's, give the resources up (after a delay) when the
//! peer reaches more, take them back when that is no longer so.
//!
//! ```text
//! Status (heartbeat) / Peer (the other ipfail) / Tick(now)
//!     --> Ipfail::handle --> Send(to peer) | GiveUp | Reclaim | Log
//! ```
//!
//! The exchange follows Heartbeat's ipfail: when this node's ping
//! connectivity changes (or the peer comes up) it asks the other side for
//! its count, sending its own; the side with fewer reachable ping nodes
//! gives up after `delay`. Equal counts change nothing. A node that gave
//! up takes its resources back when it reaches as many ping nodes as the
//! peer again, or when the peer dies (standing by for nobody would leave
//! the resources stopped).

use crate::pingd::core::Connectivity;

/// What the other side's ipfail says (heartbeat messages `t=ipfail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerMsg {
    /// "How many ping nodes do you reach? I reach N."
    CountRequest(usize),
    /// "I reach N." (the answer)
    Count(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// heartbeat's status of a node (ping node or the peer).
    Status { node: String, status: String },
    /// A message from the peer's ipfail.
    Peer(PeerMsg),
    /// Time passes (fires the delayed give-up).
    Tick,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send to the peer's ipfail.
    Send(PeerMsg),
    /// Put this node in standby: its resources go to the peer.
    GiveUp,
    /// Leave standby.
    Reclaim,
    /// A line for the log, in Heartbeat ipfail's words where it had some.
    Log(String),
}

/// ipfail's state for a two-node cluster.
#[derive(Debug, Clone)]
pub struct Ipfail {
    peer: String,
    ping: Connectivity,
    /// None until heartbeat said anything of the peer.
    peer_alive: Option<bool>,
    /// The peer's last reported count; None until it answered (since it
    /// last came up).
    peer_count: Option<usize>,
    /// This node is in standby because of ipfail.
    given_up: bool,
    /// When the delayed give-up fires (ms, the caller's clock).
    giveup_at: Option<u64>,
    delay_ms: u64,
}

impl Ipfail {
    /// `given_up`: this node is already in standby through ipfail (a
    /// respawned ipfail finds its predecessor's decision).
    pub fn new(peer: &str, ping_nodes: Vec<String>, delay_ms: u64, given_up: bool) -> Ipfail {
        Ipfail {
            peer: peer.to_string(),
            ping: Connectivity::new(ping_nodes, 1),
            peer_alive: None,
            peer_count: None,
            given_up,
            giveup_at: None,
            delay_ms,
        }
    }

    pub fn reachable(&self) -> usize {
        self.ping.reachable()
    }

    pub fn given_up(&self) -> bool {
        self.given_up
    }

    /// Feeds one input at time `now` (ms).
    pub fn handle(&mut self, input: Input, now: u64) -> Vec<Command> {
        let mut out = Vec::new();
        match input {
            Input::Status { node, status } if node == self.peer => {
                let alive = matches!(status.as_str(), "active" | "up");
                if Some(alive) != self.peer_alive {
                    self.peer_alive = Some(alive);
                    self.peer_count = None;
                    out.push(Command::Log(format!("Status update: Node {node} now has status {status}")));
                    if alive {
                        out.push(Command::Log("Asking other side for ping node count.".into()));
                        out.push(Command::Send(PeerMsg::CountRequest(self.reachable())));
                    }
                }
            }
            Input::Status { node, status } => {
                let before = self.reachable();
                if self.ping.set(&node, &status) {
                    out.push(Command::Log(format!("Status update: Node {node} now has status {status}")));
                    let now_reachable = self.reachable();
                    if now_reachable < before {
                        out.push(Command::Log("NS: We are dead. :<".into()));
                    } else {
                        out.push(Command::Log("NS: We are alive. :>".into()));
                    }
                    if self.peer_alive == Some(true) {
                        out.push(Command::Log("Asking other side for ping node count.".into()));
                        out.push(Command::Send(PeerMsg::CountRequest(now_reachable)));
                    }
                }
            }
            Input::Peer(PeerMsg::CountRequest(n)) => {
                self.peer_alive = Some(true);
                self.peer_count = Some(n);
                out.push(Command::Send(PeerMsg::Count(self.reachable())));
            }
            Input::Peer(PeerMsg::Count(n)) => {
                self.peer_alive = Some(true);
                self.peer_count = Some(n);
            }
            Input::Tick => {
                if self.giveup_at.is_some_and(|t| t <= now) {
                    self.giveup_at = None;
                    if self.should_give_up() && !self.given_up {
                        self.given_up = true;
                        out.push(Command::Log("giveup() called (timeout worked)".into()));
                        out.push(Command::GiveUp);
                    }
                }
                return out;
            }
        }
        self.evaluate(now, &mut out);
        out
    }

    /// The peer is up and reaches more ping nodes than this node.
    fn should_give_up(&self) -> bool {
        self.peer_alive == Some(true) && self.peer_count.is_some_and(|p| self.reachable() < p)
    }

    fn evaluate(&mut self, now: u64, out: &mut Vec<Command>) {
        let should = self.should_give_up();
        if should && !self.given_up && self.giveup_at.is_none() {
            out.push(Command::Log("Giving up because we were told that we have less ping nodes.".into()));
            out.push(Command::Log(format!("Delayed giveup in {} seconds.", self.delay_ms.div_ceil(1000))));
            self.giveup_at = Some(now + self.delay_ms);
        }
        if !should && self.giveup_at.take().is_some() {
            out.push(Command::Log("Giveup cancelled: we reach as many ping nodes as the other side.".into()));
        }
        let peer_dead = self.peer_alive == Some(false);
        let as_good = self.peer_count.is_some_and(|p| self.reachable() >= p);
        if self.given_up && !should && (peer_dead || as_good) {
            self.given_up = false;
            let why = if peer_dead { "the other side is dead" } else { "we reach as many ping nodes as the other side" };
            out.push(Command::Log(format!("Taking resources back: {why}.")));
            out.push(Command::Reclaim);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(node: &str, status: &str) -> Input {
        Input::Status { node: node.into(), status: status.into() }
    }

    fn actions(cmds: &[Command]) -> Vec<Command> {
        cmds.iter().filter(|c| !matches!(c, Command::Log(_))).cloned().collect()
    }

    fn up_pair() -> Ipfail {
        let mut f = Ipfail::new("slave", vec!["192.168.0.1".into()], 4000, false);
        assert_eq!(actions(&f.handle(status("192.168.0.1", "ping"), 0)), vec![]);
        assert_eq!(actions(&f.handle(status("slave", "active"), 0)), vec![Command::Send(PeerMsg::CountRequest(1))]);
        assert_eq!(actions(&f.handle(Input::Peer(PeerMsg::Count(1)), 10)), vec![]);
        f
    }

    #[test]
    fn the_side_that_lost_its_ping_node_gives_up_after_the_delay() {
        let mut f = up_pair();
        // The peer's last word (1) is enough to decide; its answer to the
        // new request confirms it.
        let c = f.handle(status("192.168.0.1", "dead"), 1000);
        assert!(c.contains(&Command::Log("NS: We are dead. :<".into())), "{c:?}");
        assert!(c.contains(&Command::Log("Delayed giveup in 4 seconds.".into())), "{c:?}");
        assert_eq!(actions(&c), vec![Command::Send(PeerMsg::CountRequest(0))]);
        assert_eq!(f.handle(Input::Peer(PeerMsg::Count(1)), 1100), vec![]);
        assert_eq!(f.handle(Input::Tick, 4900), vec![], "not before the delay");
        let c = f.handle(Input::Tick, 5000);
        assert_eq!(actions(&c), vec![Command::GiveUp]);
        assert!(f.given_up());
        assert_eq!(actions(&f.handle(Input::Tick, 9000)), vec![], "once");
        // Back: as good as the peer again, the resources come back.
        let c = f.handle(status("192.168.0.1", "ping"), 20_000);
        assert_eq!(actions(&c), vec![Command::Send(PeerMsg::CountRequest(1)), Command::Reclaim]);
        assert!(!f.given_up());
    }

    #[test]
    fn the_side_that_still_reaches_its_ping_node_answers_and_stays() {
        let mut f = up_pair();
        // The peer lost its ping node and asks.
        let c = f.handle(Input::Peer(PeerMsg::CountRequest(0)), 1000);
        assert_eq!(actions(&c), vec![Command::Send(PeerMsg::Count(1))]);
        assert_eq!(actions(&f.handle(Input::Tick, 60_000)), vec![]);
        assert!(!f.given_up());
    }

    #[test]
    fn a_recovery_within_the_delay_cancels_the_giveup() {
        let mut f = up_pair();
        f.handle(status("192.168.0.1", "dead"), 1000);
        f.handle(Input::Peer(PeerMsg::Count(1)), 1100);
        let c = f.handle(status("192.168.0.1", "ping"), 2000);
        assert!(c.iter().any(|c| matches!(c, Command::Log(l) if l.starts_with("Giveup cancelled"))), "{c:?}");
        assert_eq!(actions(&f.handle(Input::Tick, 10_000)), vec![]);
    }

    #[test]
    fn equal_counts_change_nothing_and_a_dead_peer_gets_the_resources_back() {
        let mut f = up_pair();
        f.handle(status("192.168.0.1", "dead"), 0);
        assert_eq!(actions(&f.handle(Input::Peer(PeerMsg::Count(0)), 10)), vec![], "both lost it: nobody gives up");
        assert_eq!(actions(&f.handle(Input::Tick, 10_000)), vec![]);
        // Now the peer reaches it again: give up, then the peer dies.
        f.handle(Input::Peer(PeerMsg::CountRequest(1)), 11_000);
        assert_eq!(actions(&f.handle(Input::Tick, 15_000)), vec![Command::GiveUp]);
        assert_eq!(actions(&f.handle(status("slave", "dead"), 16_000)), vec![Command::Reclaim]);
    }

    #[test]
    fn a_respawned_ipfail_that_finds_itself_in_standby_reclaims_when_fit() {
        let mut f = Ipfail::new("slave", vec!["gw".into()], 4000, true);
        f.handle(status("gw", "ping"), 0);
        let c = f.handle(status("slave", "active"), 0);
        assert_eq!(actions(&c), vec![Command::Send(PeerMsg::CountRequest(1))]);
        assert_eq!(actions(&f.handle(Input::Peer(PeerMsg::Count(1)), 10)), vec![Command::Reclaim]);
    }
}
