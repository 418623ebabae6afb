//! The controller's finite-state machine: states, inputs, actions and the
//! one transition table.
//!
//! The shape follows Pacemaker's controller (a table indexed by input and
//! state giving the next state and the actions to run); the table below is
//! written for this project and diverges where docs/CRMD.md says so. Every
//! `(state, input)` pair is pinned by `testdata/fsa_table.txt`.

use std::fmt;

/// A controller state. `Display` prints Pacemaker's names (`S_IDLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    /// The daemon is starting and has not seen a membership yet.
    Starting,
    /// Waiting for a DC to offer us a join.
    Pending,
    /// Taking part in a DC election.
    Election,
    /// DC: offering joins and collecting requests.
    Integration,
    /// DC: syncing the CIB and collecting join confirmations.
    FinalizeJoin,
    /// Joined to another node's DC.
    NotDc,
    /// DC: nothing to do.
    Idle,
    /// DC: waiting for the policy engine's transition.
    PolicyEngine,
    /// DC: a transition is being executed.
    TransitionEngine,
    /// Giving up the DC role.
    ReleaseDc,
    /// Shutting down cleanly (resources are being moved away).
    Stopping,
    /// Exiting now.
    Terminate,
    /// Something went wrong; the daemon exits and is respawned.
    Recovery,
    /// Frozen until an election or a stop.
    Halt,
    /// Never entered; kept because Pacemaker has it and logs may name it.
    Illegal,
}

impl State {
    pub const ALL: [State; 15] = [
        State::Starting,
        State::Pending,
        State::Election,
        State::Integration,
        State::FinalizeJoin,
        State::NotDc,
        State::Idle,
        State::PolicyEngine,
        State::TransitionEngine,
        State::ReleaseDc,
        State::Stopping,
        State::Terminate,
        State::Recovery,
        State::Halt,
        State::Illegal,
    ];

    /// Pacemaker's name for the state.
    pub fn name(self) -> &'static str {
        match self {
            State::Starting => "S_STARTING",
            State::Pending => "S_PENDING",
            State::Election => "S_ELECTION",
            State::Integration => "S_INTEGRATION",
            State::FinalizeJoin => "S_FINALIZE_JOIN",
            State::NotDc => "S_NOT_DC",
            State::Idle => "S_IDLE",
            State::PolicyEngine => "S_POLICY_ENGINE",
            State::TransitionEngine => "S_TRANSITION_ENGINE",
            State::ReleaseDc => "S_RELEASE_DC",
            State::Stopping => "S_STOPPING",
            State::Terminate => "S_TERMINATE",
            State::Recovery => "S_RECOVERY",
            State::Halt => "S_HALT",
            State::Illegal => "S_ILLEGAL",
        }
    }

    /// The states in which this node acts as the DC.
    pub fn is_dc(self) -> bool {
        matches!(
            self,
            State::Integration | State::FinalizeJoin | State::Idle | State::PolicyEngine | State::TransitionEngine
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An FSA input. `Display` prints Pacemaker's names (`I_PE_CALC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Input {
    /// Nothing happened.
    Null,
    /// Start (or join) an election.
    Election,
    /// We won the election.
    ElectionDc,
    /// Client: a DC offered us a join (and we accept it).
    JoinOffer,
    /// DC: a node asked to join.
    JoinRequest,
    /// Client: the DC finalized our join. DC: a node confirmed its join.
    JoinResult,
    /// DC: every offered node has asked to join.
    Integrated,
    /// DC: every finalized node has confirmed.
    Finalized,
    /// Another node is the DC.
    NotDc,
    /// DC: something changed, compute a new transition.
    PeCalc,
    /// DC: the policy engine produced the transition.
    PeSuccess,
    /// DC: the transition completed.
    TeSuccess,
    /// DC: a node joined the membership (or asked to join again).
    NodeJoin,
    /// DC: the CIB changed.
    CibUpdate,
    /// Shut down cleanly (move resources away first).
    Shutdown,
    /// Resources are away: stop now.
    Stop,
    /// Exit at once.
    Terminate,
    /// A step failed; retry it.
    Fail,
    /// An unrecoverable error.
    Error,
    /// Give up the DC role.
    ReleaseDc,
    /// The DC role is given up.
    ReleaseSuccess,
    /// No DC showed up in time.
    DcTimeout,
    /// Wait for a DC.
    Pending,
    /// Freeze.
    Halt,
}

impl Input {
    pub const ALL: [Input; 24] = [
        Input::Null,
        Input::Election,
        Input::ElectionDc,
        Input::JoinOffer,
        Input::JoinRequest,
        Input::JoinResult,
        Input::Integrated,
        Input::Finalized,
        Input::NotDc,
        Input::PeCalc,
        Input::PeSuccess,
        Input::TeSuccess,
        Input::NodeJoin,
        Input::CibUpdate,
        Input::Shutdown,
        Input::Stop,
        Input::Terminate,
        Input::Fail,
        Input::Error,
        Input::ReleaseDc,
        Input::ReleaseSuccess,
        Input::DcTimeout,
        Input::Pending,
        Input::Halt,
    ];

    /// Pacemaker's name for the input.
    pub fn name(self) -> &'static str {
        match self {
            Input::Null => "I_NULL",
            Input::Election => "I_ELECTION",
            Input::ElectionDc => "I_ELECTION_DC",
            Input::JoinOffer => "I_JOIN_OFFER",
            Input::JoinRequest => "I_JOIN_REQUEST",
            Input::JoinResult => "I_JOIN_RESULT",
            Input::Integrated => "I_INTEGRATED",
            Input::Finalized => "I_FINALIZED",
            Input::NotDc => "I_NOT_DC",
            Input::PeCalc => "I_PE_CALC",
            Input::PeSuccess => "I_PE_SUCCESS",
            Input::TeSuccess => "I_TE_SUCCESS",
            Input::NodeJoin => "I_NODE_JOIN",
            Input::CibUpdate => "I_CIB_UPDATE",
            Input::Shutdown => "I_SHUTDOWN",
            Input::Stop => "I_STOP",
            Input::Terminate => "I_TERMINATE",
            Input::Fail => "I_FAIL",
            Input::Error => "I_ERROR",
            Input::ReleaseDc => "I_RELEASE_DC",
            Input::ReleaseSuccess => "I_RELEASE_SUCCESS",
            Input::DcTimeout => "I_DC_TIMEOUT",
            Input::Pending => "I_PENDING",
            Input::Halt => "I_HALT",
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the controller does on a transition, in the order listed.
/// `Display` prints Pacemaker-style `A_*` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// The input was unexpected in this state: log a warning.
    Warn,
    /// The input should never happen in this state: log an error.
    Error,
    /// Start a new election round and broadcast our vote.
    ElectionVote,
    /// Stop our election (cancel its timer; we lost or gave up).
    ElectionStop,
    /// Start waiting for a DC (dc-deadtime).
    DcTimerStart,
    /// Stop waiting for a DC.
    DcTimerStop,
    /// Become the DC: record ourselves as DC in the CIB.
    DcTakeover,
    /// Stop being the DC: forget the join, stop transitions.
    DcRelease,
    /// Offer a join to every member (a new join round).
    JoinOfferAll,
    /// Offer a join to one node (the input's node).
    JoinOfferOne,
    /// Record a node's join request.
    JoinProcessReq,
    /// Sync the CIB from the best node and send join acks.
    JoinFinalize,
    /// Record a node's join confirmation.
    JoinProcessAck,
    /// The join round is complete.
    JoinFinal,
    /// Client: answer the DC's offer with a join request.
    ClJoinRequest,
    /// Client: confirm the DC's join ack.
    ClJoinConfirm,
    /// Ask the policy engine for a transition.
    PeInvoke,
    /// Execute the computed transition.
    TeInvoke,
    /// Abort the running transition (a new one will be computed).
    TeCancel,
    /// Stop the running transition (joins are in progress).
    TeHalt,
    /// Ask the DC to move our resources away (set our shutdown attribute).
    ShutdownReq,
    /// Give up after an error: exit so the launcher respawns us.
    Recover,
    /// Exit the daemon.
    Exit,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Warn => "A_WARN",
            Action::Error => "A_ERROR",
            Action::ElectionVote => "A_ELECTION_VOTE",
            Action::ElectionStop => "A_ELECTION_STOP",
            Action::DcTimerStart => "A_DC_TIMER_START",
            Action::DcTimerStop => "A_DC_TIMER_STOP",
            Action::DcTakeover => "A_DC_TAKEOVER",
            Action::DcRelease => "A_DC_RELEASE",
            Action::JoinOfferAll => "A_DC_JOIN_OFFER_ALL",
            Action::JoinOfferOne => "A_DC_JOIN_OFFER_ONE",
            Action::JoinProcessReq => "A_DC_JOIN_PROCESS_REQ",
            Action::JoinFinalize => "A_DC_JOIN_FINALIZE",
            Action::JoinProcessAck => "A_DC_JOIN_PROCESS_ACK",
            Action::JoinFinal => "A_DC_JOIN_FINAL",
            Action::ClJoinRequest => "A_CL_JOIN_REQUEST",
            Action::ClJoinConfirm => "A_CL_JOIN_RESULT",
            Action::PeInvoke => "A_PE_INVOKE",
            Action::TeInvoke => "A_TE_INVOKE",
            Action::TeCancel => "A_TE_CANCEL",
            Action::TeHalt => "A_TE_HALT",
            Action::ShutdownReq => "A_SHUTDOWN_REQ",
            Action::Recover => "A_RECOVER",
            Action::Exit => "A_EXIT",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

use Action as A;
use State as S;

/// The transition table: the next state and the actions to run (in order)
/// when `input` arrives in `state`.
pub fn next(state: State, input: Input) -> (State, &'static [Action]) {
    // Groups used below. The DC states are Integration, FinalizeJoin, Idle,
    // PolicyEngine and TransitionEngine (`State::is_dc`).
    let same = state;
    match input {
        Input::Null => (same, &[]),

        // Leaving the DC role up front keeps "DC" equal to "in a DC state":
        // a DC that starts voting is no longer a DC.
        Input::Election => match state {
            S::Pending | S::NotDc | S::Election | S::Halt => (S::Election, &[A::DcTimerStop, A::ElectionVote]),
            S::Integration | S::FinalizeJoin | S::Idle | S::PolicyEngine | S::TransitionEngine => {
                (S::Election, &[A::TeHalt, A::DcRelease, A::ElectionVote])
            }
            S::Starting => (same, &[A::Warn]),
            S::ReleaseDc | S::Recovery | S::Stopping | S::Terminate | S::Illegal => (same, &[]),
        },

        Input::ElectionDc => match state {
            S::Election => (S::Integration, &[A::ElectionStop, A::DcTakeover, A::JoinOfferAll]),
            S::Integration | S::FinalizeJoin | S::Idle | S::PolicyEngine | S::TransitionEngine => {
                (S::Integration, &[A::Warn, A::TeHalt, A::JoinOfferAll])
            }
            S::Starting
            | S::Pending
            | S::NotDc
            | S::ReleaseDc
            | S::Stopping
            | S::Terminate
            | S::Recovery
            | S::Halt
            | S::Illegal => (same, &[A::Warn]),
        },

        Input::JoinOffer => match state {
            S::Pending | S::NotDc => (S::Pending, &[A::DcTimerStart, A::ClJoinRequest]),
            // The controller only raises this in S_ELECTION when the
            // offering DC beats us: we lose and accept.
            S::Election => (S::Pending, &[A::ElectionStop, A::DcTimerStart, A::ClJoinRequest]),
            S::Starting
            | S::Integration
            | S::FinalizeJoin
            | S::Idle
            | S::PolicyEngine
            | S::TransitionEngine
            | S::ReleaseDc
            | S::Stopping
            | S::Terminate
            | S::Recovery
            | S::Halt
            | S::Illegal => (same, &[A::Warn]),
        },

        Input::JoinRequest => match state {
            S::Integration => (same, &[A::JoinProcessReq]),
            // A late request re-opens integration.
            S::FinalizeJoin => (S::Integration, &[A::JoinProcessReq]),
            S::Idle | S::PolicyEngine | S::TransitionEngine => (S::Integration, &[A::TeHalt, A::JoinProcessReq]),
            S::Starting
            | S::Pending
            | S::Election
            | S::NotDc
            | S::ReleaseDc
            | S::Stopping
            | S::Terminate
            | S::Recovery
            | S::Halt
            | S::Illegal => (same, &[A::Warn]),
        },

        Input::JoinResult => match state {
            S::Pending => (S::NotDc, &[A::DcTimerStop, A::ClJoinConfirm]),
            S::NotDc => (same, &[A::ClJoinConfirm]),
            S::FinalizeJoin => (same, &[A::JoinProcessAck]),
            S::Integration | S::Idle | S::PolicyEngine | S::TransitionEngine => (same, &[A::Warn]),
            S::Starting
            | S::Election
            | S::ReleaseDc
            | S::Stopping
            | S::Terminate
            | S::Recovery
            | S::Halt
            | S::Illegal => (same, &[A::Warn]),
        },

        Input::Integrated => match state {
            S::Integration => (S::FinalizeJoin, &[A::JoinFinalize]),
            S::Idle | S::PolicyEngine | S::TransitionEngine => (same, &[]),
            S::Starting
            | S::Pending
            | S::Election
            | S::FinalizeJoin
            | S::NotDc
            | S::ReleaseDc
            | S::Stopping
            | S::Terminate
            | S::Recovery
            | S::Halt
            | S::Illegal => (same, &[A::Warn]),
        },

        Input::Finalized => match state {
            S::FinalizeJoin => (S::PolicyEngine, &[A::JoinFinal, A::PeInvoke]),
            S::Idle | S::PolicyEngine | S::TransitionEngine => (same, &[]),
            S::Starting
            | S::Pending
            | S::Election
            | S::Integration
            | S::NotDc
            | S::ReleaseDc
            | S::Stopping
            | S::Terminate
            | S::Recovery
            | S::Halt
            | S::Illegal => (same, &[A::Warn]),
        },

        Input::NotDc => match state {
            S::Pending => (S::NotDc, &[A::DcTimerStop]),
            S::NotDc => (same, &[]),
            S::Integration | S::FinalizeJoin | S::Idle | S::PolicyEngine | S::TransitionEngine => {
                (S::Recovery, &[A::Error, A::TeHalt, A::DcRelease, A::Recover])
            }
            S::Starting
            | S::Election
            | S::ReleaseDc
            | S::Stopping
            | S::Terminate
            | S::Recovery
            | S::Halt
            | S::Illegal => (same, &[A::Warn]),
        },

        Input::PeCalc | Input::CibUpdate => match state {
            S::Idle => (S::PolicyEngine, &[A::PeInvoke]),
            // A newer input supersedes the pending computation.
            S::PolicyEngine => (same, &[A::PeInvoke]),
            S::TransitionEngine => (S::PolicyEngine, &[A::TeCancel, A::PeInvoke]),
            // The join's end computes a transition anyway.
            S::Integration | S::FinalizeJoin => (same, &[]),
            // Every node sees CIB updates; only the DC acts on them.
            S::Pending | S::NotDc | S::Election | S::ReleaseDc | S::Recovery | S::Stopping | S::Halt
                if input == Input::CibUpdate =>
            {
                (same, &[])
            }
            S::Election | S::ReleaseDc | S::Recovery => (same, &[]),
            S::Pending | S::NotDc | S::Stopping | S::Halt => (same, &[A::Warn]),
            S::Starting | S::Terminate | S::Illegal => (same, &[A::Error]),
        },

        Input::PeSuccess => match state {
            S::PolicyEngine => (S::TransitionEngine, &[A::TeInvoke]),
            S::Integration | S::FinalizeJoin | S::Idle | S::TransitionEngine => (same, &[]),
            S::Starting
            | S::Pending
            | S::Election
            | S::NotDc
            | S::ReleaseDc
            | S::Stopping
            | S::Terminate
            | S::Recovery
            | S::Halt
            | S::Illegal => (same, &[A::Warn]),
        },

        Input::TeSuccess => match state {
            S::TransitionEngine => (S::Idle, &[]),
            S::Idle => (same, &[]),
            S::Integration | S::FinalizeJoin | S::PolicyEngine => (same, &[A::Warn]),
            S::Starting | S::Pending | S::NotDc => (same, &[A::Error]),
            S::Election | S::ReleaseDc | S::Stopping | S::Terminate | S::Recovery | S::Halt | S::Illegal => {
                (same, &[A::Warn])
            }
        },

        Input::NodeJoin => match state {
            S::Idle | S::TransitionEngine => (S::Integration, &[A::TeHalt, A::JoinOfferOne]),
            S::PolicyEngine | S::Integration | S::FinalizeJoin => (S::Integration, &[A::JoinOfferOne]),
            S::Starting
            | S::Pending
            | S::Election
            | S::NotDc
            | S::ReleaseDc
            | S::Stopping
            | S::Terminate
            | S::Recovery
            | S::Halt
            | S::Illegal => (same, &[A::Warn]),
        },

        // A DC keeps its role while it computes the transition that moves
        // its own resources away; I_STOP follows when that is done.
        Input::Shutdown => match state {
            S::Idle => (S::PolicyEngine, &[A::ShutdownReq, A::PeInvoke]),
            S::TransitionEngine => (S::PolicyEngine, &[A::ShutdownReq, A::TeCancel, A::PeInvoke]),
            S::PolicyEngine
            | S::Integration
            | S::FinalizeJoin
            | S::NotDc
            | S::Pending
            | S::Election
            | S::ReleaseDc => (same, &[A::ShutdownReq]),
            S::Starting | S::Recovery | S::Halt => (S::Stopping, &[A::Exit]),
            S::Stopping | S::Terminate | S::Illegal => (same, &[]),
        },

        Input::Stop => match state {
            S::Integration | S::FinalizeJoin | S::Idle | S::PolicyEngine | S::TransitionEngine => {
                (S::Stopping, &[A::TeHalt, A::DcRelease, A::Exit])
            }
            S::Election => (S::Stopping, &[A::ElectionStop, A::Exit]),
            S::Starting | S::Pending | S::NotDc | S::ReleaseDc | S::Recovery | S::Halt | S::Stopping => {
                (S::Stopping, &[A::DcTimerStop, A::Exit])
            }
            S::Terminate | S::Illegal => (same, &[A::Error]),
        },

        Input::Terminate => match state {
            S::Terminate => (same, &[]),
            _ => (S::Terminate, &[A::Exit]),
        },

        Input::Fail => match state {
            S::Integration | S::FinalizeJoin => (S::Integration, &[A::Warn, A::JoinOfferAll]),
            S::PolicyEngine => (S::Integration, &[A::Warn, A::JoinOfferAll]),
            S::TransitionEngine => (S::PolicyEngine, &[A::Warn, A::TeCancel, A::PeInvoke]),
            S::Idle => (S::PolicyEngine, &[A::Warn, A::PeInvoke]),
            S::Election => (same, &[A::Warn, A::ElectionVote]),
            S::Pending | S::NotDc => (S::Pending, &[A::Warn, A::DcTimerStart]),
            S::Starting => (S::Stopping, &[A::Warn, A::Exit]),
            S::ReleaseDc | S::Stopping | S::Terminate | S::Recovery | S::Halt | S::Illegal => (same, &[A::Warn]),
        },

        Input::Error => match state {
            S::Integration | S::FinalizeJoin | S::Idle | S::PolicyEngine | S::TransitionEngine => {
                (S::Recovery, &[A::Error, A::TeHalt, A::DcRelease, A::Recover])
            }
            S::Starting | S::Pending | S::Election | S::NotDc | S::ReleaseDc | S::Halt | S::Recovery => {
                (S::Recovery, &[A::Error, A::Recover])
            }
            S::Stopping | S::Terminate => (S::Terminate, &[A::Error, A::Exit]),
            S::Illegal => (same, &[A::Error]),
        },

        Input::ReleaseDc => match state {
            S::Integration | S::FinalizeJoin | S::Idle | S::PolicyEngine | S::TransitionEngine => {
                (S::ReleaseDc, &[A::TeHalt, A::DcRelease])
            }
            S::Election => (S::ReleaseDc, &[A::ElectionStop, A::DcRelease]),
            S::Starting
            | S::Pending
            | S::NotDc
            | S::ReleaseDc
            | S::Stopping
            | S::Terminate
            | S::Recovery
            | S::Halt
            | S::Illegal => (same, &[A::Warn]),
        },

        Input::ReleaseSuccess => match state {
            S::ReleaseDc => (S::Pending, &[A::DcTimerStart]),
            S::Starting
            | S::Pending
            | S::Election
            | S::Integration
            | S::FinalizeJoin
            | S::NotDc
            | S::Idle
            | S::PolicyEngine
            | S::TransitionEngine
            | S::Stopping
            | S::Terminate
            | S::Recovery
            | S::Halt
            | S::Illegal => (same, &[A::Warn]),
        },

        Input::DcTimeout => match state {
            S::Pending | S::NotDc | S::Halt => (S::Election, &[A::Warn, A::ElectionVote]),
            // Stale timers: the controller cancels the DC timer on leaving
            // these states, so a firing here is only logged.
            S::Election | S::Integration | S::FinalizeJoin | S::Idle | S::PolicyEngine | S::TransitionEngine => {
                (same, &[A::Warn])
            }
            S::Starting | S::ReleaseDc | S::Stopping | S::Terminate | S::Recovery | S::Illegal => (same, &[]),
        },

        Input::Pending => match state {
            S::Starting | S::NotDc | S::Halt => (S::Pending, &[A::DcTimerStart]),
            S::Election => (S::Pending, &[A::ElectionStop, A::DcTimerStart]),
            S::Pending => (same, &[]),
            S::Integration | S::FinalizeJoin | S::Idle | S::PolicyEngine | S::TransitionEngine => {
                (S::Pending, &[A::TeHalt, A::DcRelease, A::DcTimerStart])
            }
            S::ReleaseDc | S::Stopping | S::Terminate | S::Recovery | S::Illegal => (same, &[A::Warn]),
        },

        Input::Halt => match state {
            S::Integration | S::FinalizeJoin | S::Idle | S::PolicyEngine | S::TransitionEngine => {
                (S::Halt, &[A::TeHalt, A::DcRelease])
            }
            S::Election => (S::Halt, &[A::ElectionStop]),
            S::Starting | S::Pending | S::NotDc | S::ReleaseDc | S::Recovery => (S::Halt, &[A::DcTimerStop]),
            S::Halt | S::Stopping | S::Terminate | S::Illegal => (same, &[]),
        },
    }
}

/// One line of the golden table: `S_IDLE I_PE_CALC -> S_POLICY_ENGINE A_PE_INVOKE`.
pub fn table_line(state: State, input: Input) -> String {
    let (to, actions) = next(state, input);
    let mut line = format!("{state} {input} -> {to}");
    for a in actions {
        line.push(' ');
        line.push_str(a.name());
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOLDEN: &str = "src/fsa/testdata/fsa_table.txt";

    /// The whole table, one line per (state, input), grouped by state.
    fn render() -> String {
        let mut out = String::from(
            "# The controller FSA: `state input -> next-state actions...`, every pair.\n\
             # Regenerate with CRMD_UPDATE_GOLDEN=1 cargo test -p crmd fsa; review the diff.\n",
        );
        for s in State::ALL {
            out.push('\n');
            for i in Input::ALL {
                out.push_str(&table_line(s, i));
                out.push('\n');
            }
        }
        out
    }

    #[test]
    fn golden_table_covers_every_pair() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
        if std::env::var_os("CRMD_UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, render()).unwrap();
        }
        let golden = std::fs::read_to_string(&path).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for (n, line) in golden.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            assert!(words.len() >= 4 && words[2] == "->", "{GOLDEN}:{}: malformed: {line}", n + 1);
            let s = *State::ALL.iter().find(|s| s.name() == words[0]).unwrap_or_else(|| panic!("state {}", words[0]));
            let i = *Input::ALL.iter().find(|i| i.name() == words[1]).unwrap_or_else(|| panic!("input {}", words[1]));
            assert!(seen.insert((s, i)), "{GOLDEN}:{}: duplicate pair {s} {i}", n + 1);
            assert_eq!(table_line(s, i), line, "{GOLDEN}:{}", n + 1);
        }
        assert_eq!(seen.len(), State::ALL.len() * Input::ALL.len(), "every pair must be listed");
    }

    #[test]
    fn names_are_pacemakers() {
        assert_eq!(State::FinalizeJoin.to_string(), "S_FINALIZE_JOIN");
        assert_eq!(Input::ElectionDc.to_string(), "I_ELECTION_DC");
        assert_eq!(Action::JoinOfferAll.to_string(), "A_DC_JOIN_OFFER_ALL");
    }

    #[test]
    fn terminal_states_are_sticky() {
        for i in Input::ALL {
            let (to, _) = next(State::Terminate, i);
            assert_eq!(to, State::Terminate, "{i}");
        }
        // Only I_TERMINATE leaves S_ILLEGAL.
        for i in Input::ALL {
            let (to, _) = next(State::Illegal, i);
            let want = if i == Input::Terminate { State::Terminate } else { State::Illegal };
            assert_eq!(to, want, "{i}");
        }
    }
}
