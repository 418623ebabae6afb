//! Exact command lists for the controller's main paths.

use super::*;
use Command as C;
use Input as I;
use State as S;

const T0: Duration = Duration::ZERO;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn view(instance: u64, members: &[&str]) -> View {
    View {
        instance,
        members: members.iter().map(|s| s.to_string()).collect(),
        quorum: true,
        leader: members[0].to_string(),
    }
}

fn sc(from: State, to: State, input: Input) -> Command {
    C::StateChange { from, to, input }
}

fn set(timer: Timer, s: u64) -> Command {
    C::SetTimer { timer, after: secs(s) }
}

fn to(node: &str, msg: Message) -> Command {
    C::Send { to: Destination::Node(node.into()), msg }
}

fn msg(from: &str, msg: Message) -> Event {
    Event::Message { from: from.into(), msg }
}

/// A single node becomes DC at its first view, as far as the transition.
fn lone_dc() -> Controller {
    let mut c = Controller::new(Config::new("n1"), T0);
    c.handle(Event::Membership(view(1, &["n1"])), T0);
    c
}

#[test]
fn a_lone_node_elects_itself_joins_itself_and_computes() {
    let mut c = Controller::new(Config::new("n1"), T0);
    let cmds = c.handle(Event::Membership(view(1, &["n1"])), T0);
    assert_eq!(
        cmds,
        vec![
            sc(S::Starting, S::Pending, I::Pending),
            set(Timer::DcDeadtime, 5),
            sc(S::Pending, S::Election, I::Election),
            C::CancelTimer(Timer::DcDeadtime),
            C::Send { to: Destination::All, msg: Message::Vote { election_id: 1, age_ms: 0 } },
            set(Timer::Election, 2),
            sc(S::Election, S::Integration, I::ElectionDc),
            C::CancelTimer(Timer::Election),
            C::WriteStatus(StatusUpdate::Dc { node: "n1".into(), quorum: true }),
            set(Timer::Join, 5),
            sc(S::Integration, S::FinalizeJoin, I::Integrated),
            C::WriteStatus(StatusUpdate::Join { node: "n1".into(), phase: Phase::Confirmed }),
            set(Timer::Join, 5),
            sc(S::FinalizeJoin, S::PolicyEngine, I::Finalized),
            C::CancelTimer(Timer::Join),
            C::ComputeTransition { id: 1 },
        ]
    );
    assert_eq!(c.dc(), Some("n1"));
}

#[test]
fn transitions_run_and_cib_changes_recompute() {
    let mut c = lone_dc();
    assert_eq!(
        c.handle(Event::TransitionComputed { id: 1 }, secs(1)),
        vec![sc(S::PolicyEngine, S::TransitionEngine, I::PeSuccess), C::ExecuteTransition { id: 1 }]
    );
    assert_eq!(
        c.handle(Event::TransitionFinished { id: 1, complete: true }, secs(2)),
        vec![sc(S::TransitionEngine, S::Idle, I::TeSuccess)]
    );
    let v = Version::new(0, 2, 0);
    assert_eq!(
        c.handle(Event::CibChanged { version: v }, secs(3)),
        vec![sc(S::Idle, S::PolicyEngine, I::CibUpdate), C::ComputeTransition { id: 2 }]
    );
    // A newer change supersedes the computation; the stale answer is ignored.
    assert_eq!(c.handle(Event::CibChanged { version: v }, secs(3)), vec![C::ComputeTransition { id: 3 }]);
    assert_eq!(c.handle(Event::TransitionComputed { id: 2 }, secs(3)), vec![]);
    c.handle(Event::TransitionComputed { id: 3 }, secs(3));
    // A change during execution aborts it and recomputes.
    assert_eq!(
        c.handle(Event::CibChanged { version: v }, secs(4)),
        vec![
            sc(S::TransitionEngine, S::PolicyEngine, I::CibUpdate),
            C::AbortTransition { id: 3 },
            C::ComputeTransition { id: 4 },
        ]
    );
    // The aborted transition's late result changes nothing.
    assert_eq!(c.handle(Event::TransitionFinished { id: 3, complete: false }, secs(4)), vec![]);
    c.handle(Event::TransitionComputed { id: 4 }, secs(5));
    // A failed transition is recomputed.
    assert_eq!(
        c.handle(Event::TransitionFinished { id: 4, complete: false }, secs(6)),
        vec![sc(S::TransitionEngine, S::PolicyEngine, I::PeCalc), C::ComputeTransition { id: 5 }]
    );
}

#[test]
fn the_dc_joins_a_new_node_and_syncs_from_the_higher_cib() {
    let mut c = lone_dc();
    c.handle(Event::TransitionComputed { id: 1 }, secs(1));
    c.handle(Event::TransitionFinished { id: 1, complete: true }, secs(1));
    assert_eq!(
        c.handle(Event::Membership(view(2, &["n1", "n2"])), secs(10)),
        vec![
            sc(S::Idle, S::Integration, I::NodeJoin),
            to("n2", Message::JoinOffer { join_id: 1, age_ms: 10_000 }),
            set(Timer::Join, 5),
        ]
    );
    assert_eq!(c.join_phase("n2"), Phase::Welcomed);
    let newer = Version::new(0, 7, 3);
    assert_eq!(
        c.handle(msg("n2", Message::JoinRequest { join_id: 1, cib_version: newer, was_dc: false }), secs(10)),
        vec![
            C::WriteStatus(StatusUpdate::Join { node: "n2".into(), phase: Phase::Integrated }),
            sc(S::Integration, S::FinalizeJoin, I::Integrated),
            C::SyncCib { from: "n2".into() },
            to("n2", Message::JoinAck { join_id: 1 }),
            set(Timer::Join, 5),
        ]
    );
    // A duplicate request (answer to a repeated offer) is ignored.
    assert_eq!(c.handle(msg("n2", Message::JoinRequest { join_id: 1, cib_version: newer, was_dc: false }), secs(10)), vec![]);
    assert_eq!(
        c.handle(msg("n2", Message::JoinConfirm { join_id: 1 }), secs(11)),
        vec![
            C::WriteStatus(StatusUpdate::Join { node: "n2".into(), phase: Phase::Confirmed }),
            sc(S::FinalizeJoin, S::PolicyEngine, I::Finalized),
            C::CancelTimer(Timer::Join),
            C::ComputeTransition { id: 2 },
        ]
    );
    // n2 leaves: its status is written, quorum stated again (the cib
    // daemons wait for it after a loss) and a transition computed.
    assert_eq!(
        c.handle(Event::Membership(view(3, &["n1"])), secs(20)),
        vec![
            C::WriteStatus(StatusUpdate::Left { node: "n2".into() }),
            C::WriteStatus(StatusUpdate::Dc { node: "n1".into(), quorum: true }),
            C::ComputeTransition { id: 3 },
        ]
    );
    assert_eq!(c.join_phase("n2"), Phase::None);
}

#[test]
fn a_silent_node_is_dropped_from_the_round_and_offered_again_later() {
    let mut c = lone_dc();
    c.handle(Event::TransitionComputed { id: 1 }, secs(1));
    c.handle(Event::TransitionFinished { id: 1, complete: true }, secs(1));
    c.handle(Event::Membership(view(2, &["n1", "n2"])), secs(10));
    assert_eq!(
        c.handle(Event::Timer(Timer::Join), secs(15)),
        vec![
            set(Timer::Rejoin, 5),
            sc(S::Integration, S::FinalizeJoin, I::Integrated),
            set(Timer::Join, 5),
            sc(S::FinalizeJoin, S::PolicyEngine, I::Finalized),
            C::CancelTimer(Timer::Join),
            C::ComputeTransition { id: 2 },
        ]
    );
    assert_eq!(
        c.handle(Event::Timer(Timer::Rejoin), secs(20)),
        vec![
            sc(S::PolicyEngine, S::Integration, I::NodeJoin),
            to("n2", Message::JoinOffer { join_id: 1, age_ms: 20_000 }),
            set(Timer::Join, 5),
        ]
    );
    // A timer that was cancelled or never armed does nothing.
    assert_eq!(c.handle(Event::Timer(Timer::Election), secs(20)), vec![]);
}

#[test]
fn a_younger_node_loses_to_the_dcs_offer_then_joins() {
    let mut c = Controller::new(Config::new("n2"), secs(30));
    c.handle(Event::Membership(view(5, &["n1", "n2"])), secs(30));
    assert_eq!(c.state(), S::Election);
    // n1 has been up 30 s: it beats us.
    assert_eq!(
        c.handle(msg("n1", Message::JoinOffer { join_id: 4, age_ms: 30_000 }), secs(30)),
        vec![
            sc(S::Election, S::Pending, I::Pending),
            C::CancelTimer(Timer::Election),
            set(Timer::DcDeadtime, 5),
            // I_JOIN_OFFER keeps S_PENDING (no state change), re-arms the timer.
            set(Timer::DcDeadtime, 5),
            to("n1", Message::JoinRequest { join_id: 4, cib_version: Version::default(), was_dc: false }),
        ]
    );
    assert_eq!(c.dc(), Some("n1"));
    // An ack from someone else, or for another round, is ignored.
    assert_eq!(c.handle(msg("n1", Message::JoinAck { join_id: 3 }), secs(31)), vec![]);
    assert_eq!(
        c.handle(msg("n1", Message::JoinAck { join_id: 4 }), secs(31)),
        vec![
            sc(S::Pending, S::NotDc, I::JoinResult),
            C::CancelTimer(Timer::DcDeadtime),
            to("n1", Message::JoinConfirm { join_id: 4 }),
        ]
    );
    // The DC's crmd goes silent while its node stays: a new election.
    let mut lost = c.clone();
    assert_eq!(lost.handle(Event::PeerLost { node: "n3".into() }, secs(35)), vec![], "not our DC");
    let cmds = lost.handle(Event::PeerLost { node: "n1".into() }, secs(35));
    assert_eq!(cmds[0], sc(S::NotDc, S::Election, I::Election));
    assert_eq!(lost.dc(), None);
    // The DC leaves: we are alone and elect ourselves.
    let mut alone = c.clone();
    let cmds = alone.handle(Event::Membership(view(6, &["n2"])), secs(40));
    assert_eq!(cmds[0], sc(S::NotDc, S::Election, I::Election));
    assert_eq!(alone.state(), S::PolicyEngine);
    assert_eq!(alone.dc(), Some("n2"));
    // A candidate we beat (n1 restarted, or its DC stepped down) makes us
    // run, as in Pacemaker: our vote to all makes it lose.
    assert_eq!(
        c.handle(msg("n1", Message::Vote { election_id: 9, age_ms: 0 }), secs(33)),
        vec![
            sc(S::NotDc, S::Election, I::Election),
            C::Send { to: Destination::All, msg: Message::Vote { election_id: 2, age_ms: 3000 } },
            set(Timer::Election, 2),
        ]
    );
    assert_eq!(c.dc(), None);
}

#[test]
fn election_by_no_votes_and_by_timeout() {
    let mut c = Controller::new(Config::new("n1"), T0);
    c.handle(Event::Membership(view(1, &["n1", "n2", "n3"])), T0);
    assert_eq!(c.state(), S::Election);
    // A no-vote for another candidacy does not count.
    assert_eq!(c.handle(msg("n2", Message::NoVote { election_id: 7 }), secs(1)), vec![]);
    assert_eq!(c.handle(msg("n2", Message::NoVote { election_id: 1 }), secs(1)), vec![]);
    let cmds = c.handle(msg("n3", Message::NoVote { election_id: 1 }), secs(1));
    assert_eq!(cmds[0], sc(S::Election, S::Integration, I::ElectionDc));
    assert_eq!(
        cmds[1..],
        [
            C::CancelTimer(Timer::Election),
            C::WriteStatus(StatusUpdate::Dc { node: "n1".into(), quorum: true }),
            to("n2", Message::JoinOffer { join_id: 1, age_ms: 1000 }),
            to("n3", Message::JoinOffer { join_id: 1, age_ms: 1000 }),
            set(Timer::Join, 5),
        ]
    );

    // Without every no-vote, the election timer decides.
    let mut c = Controller::new(Config::new("n1"), T0);
    c.handle(Event::Membership(view(1, &["n1", "n2"])), T0);
    let cmds = c.handle(Event::Timer(Timer::Election), secs(2));
    assert_eq!(cmds[0], sc(S::Election, S::Integration, I::ElectionDc));
}

#[test]
fn a_candidate_or_dc_beaten_by_a_vote_concedes() {
    // A candidate.
    let mut c = Controller::new(Config::new("n2"), secs(5));
    c.handle(Event::Membership(view(1, &["n1", "n2"])), secs(5));
    assert_eq!(
        c.handle(msg("n1", Message::Vote { election_id: 3, age_ms: 5000 }), secs(5)),
        vec![
            to("n1", Message::NoVote { election_id: 3 }),
            sc(S::Election, S::Pending, I::Pending),
            C::CancelTimer(Timer::Election),
            set(Timer::DcDeadtime, 5),
        ]
    );
    // A DC (two DCs after a partition heals): the older one wins.
    let mut c = lone_dc();
    c.handle(Event::TransitionComputed { id: 1 }, secs(1));
    c.handle(Event::Membership(view(2, &["n0", "n1"])), secs(2));
    assert_eq!(
        c.handle(msg("n0", Message::Vote { election_id: 1, age_ms: 60_000 }), secs(3)),
        vec![
            to("n0", Message::NoVote { election_id: 1 }),
            sc(S::Integration, S::ReleaseDc, I::ReleaseDc),
            C::CancelTimer(Timer::Join),
            sc(S::ReleaseDc, S::Pending, I::ReleaseSuccess),
            set(Timer::DcDeadtime, 5),
        ]
    );
    assert_eq!(c.dc(), None);
}

#[test]
fn an_offer_from_a_weaker_dc_is_answered_with_a_vote() {
    let mut c = lone_dc();
    c.handle(Event::Membership(view(2, &["n1", "n2"])), secs(10));
    assert_eq!(
        c.handle(msg("n2", Message::JoinOffer { join_id: 1, age_ms: 500 }), secs(10)),
        vec![
            to("n2", Message::Vote { election_id: 1, age_ms: 10_000 }),
            // ...and offered a join, for when it has stepped down.
            to("n2", Message::JoinOffer { join_id: 1, age_ms: 10_000 }),
            set(Timer::Join, 5),
        ]
    );
    // Once it has stepped down, its request asks for a round for everyone
    // (its former followers must leave it); its answer in that round is an
    // ordinary one.
    let req = |join_id| msg("n2", Message::JoinRequest { join_id, cib_version: Version::default(), was_dc: true });
    assert_eq!(
        c.handle(req(1), secs(11)),
        vec![
            to("n2", Message::JoinOffer { join_id: 2, age_ms: 11_000 }),
            set(Timer::Join, 5),
        ]
    );
    assert_eq!(c.handle(req(2), secs(11))[0], C::WriteStatus(StatusUpdate::Join { node: "n2".into(), phase: Phase::Integrated }));
    // Messages from outside the view are ignored.
    assert_eq!(c.handle(msg("n9", Message::JoinOffer { join_id: 1, age_ms: 99_000 }), secs(10)), vec![]);
}

#[test]
fn shutdown_stop_and_errors() {
    let mut c = lone_dc();
    c.handle(Event::TransitionComputed { id: 1 }, secs(1));
    c.handle(Event::TransitionFinished { id: 1, complete: true }, secs(1));
    assert_eq!(
        c.handle(Event::Shutdown, secs(2)),
        vec![sc(S::Idle, S::PolicyEngine, I::Shutdown), C::RequestShutdown, C::ComputeTransition { id: 2 }]
    );
    c.handle(Event::TransitionComputed { id: 2 }, secs(2));
    assert_eq!(
        c.handle(Event::Stop, secs(3)),
        vec![
            sc(S::TransitionEngine, S::Stopping, I::Stop),
            C::AbortTransition { id: 2 },
            C::Exit,
        ]
    );
    // An unexpected input is logged as the table says.
    let mut c = Controller::new(Config::new("n1"), T0);
    c.handle(Event::Membership(view(1, &["n1", "n2"])), T0);
    c.handle(msg("n2", Message::Vote { election_id: 1, age_ms: 9000 }), secs(1));
    assert_eq!(c.state(), S::Pending);
    assert_eq!(
        c.handle(Event::Error, secs(1)),
        vec![
            sc(S::Pending, S::Recovery, I::Error),
            C::Log { action: Action::Error, state: S::Pending, input: I::Error },
            sc(S::Recovery, S::Terminate, I::Terminate),
            C::CancelTimer(Timer::DcDeadtime),
            C::Exit,
        ]
    );
}

/// A DC (n1) with n2 joined, idle.
fn dc_with_n2() -> Controller {
    let mut c = lone_dc();
    c.handle(Event::TransitionComputed { id: 1 }, secs(1));
    c.handle(Event::TransitionFinished { id: 1, complete: true }, secs(1));
    c.handle(Event::Membership(view(2, &["n1", "n2"])), secs(10));
    c.handle(msg("n2", Message::JoinRequest { join_id: 1, cib_version: Version::default(), was_dc: false }), secs(10));
    c.handle(msg("n2", Message::JoinConfirm { join_id: 1 }), secs(11));
    c.handle(Event::TransitionComputed { id: 2 }, secs(11));
    c.handle(Event::TransitionFinished { id: 2, complete: true }, secs(12));
    assert_eq!((c.state(), c.join_phase("n2")), (S::Idle, Phase::Confirmed));
    c
}

#[test]
fn the_dc_writes_a_followers_lost_crmd_down_and_waits_for_it_to_speak_again() {
    let mut c = dc_with_n2();
    // n2's crmd went silent while n2 stays a member.
    assert_eq!(
        c.handle(Event::PeerLost { node: "n2".into() }, secs(30)),
        vec![
            C::WriteStatus(StatusUpdate::CrmdLost { node: "n2".into() }),
            sc(S::Idle, S::PolicyEngine, I::PeCalc),
            C::ComputeTransition { id: 3 },
        ]
    );
    assert!(c.crmd_lost("n2"));
    assert_eq!(c.join_phase("n2"), Phase::None);
    // Told twice (keepalive and `leaving`): once is enough.
    assert_eq!(c.handle(Event::PeerLost { node: "n2".into() }, secs(31)), vec![]);
    // The rejoin timer does not offer a dead crmd a join.
    c.timers.insert(Timer::Rejoin);
    assert_eq!(c.handle(Event::Timer(Timer::Rejoin), secs(35)), vec![]);
    // It speaks again (a slow crmd): offered a join.
    c.handle(Event::TransitionComputed { id: 3 }, secs(36));
    let cmds = c.handle(Event::PeerAlive { node: "n2".into() }, secs(40));
    assert_eq!(cmds[0], sc(S::TransitionEngine, S::Integration, I::NodeJoin));
    assert!(cmds.contains(&to("n2", Message::JoinOffer { join_id: 1, age_ms: 40_000 })), "{cmds:?}");
    c.handle(msg("n2", Message::JoinRequest { join_id: 1, cib_version: Version::default(), was_dc: false }), secs(40));
    assert!(!c.crmd_lost("n2"));
    // A respawned crmd votes: the DC answers with its vote and an offer.
    let mut d = dc_with_n2();
    d.handle(Event::PeerLost { node: "n2".into() }, secs(30));
    let cmds = d.handle(msg("n2", Message::Vote { election_id: 1, age_ms: 0 }), secs(33));
    assert!(cmds.contains(&to("n2", Message::JoinOffer { join_id: 1, age_ms: 33_000 })), "{cmds:?}");
    // A follower's PeerLost about a node that is not its DC, or about a
    // non-member, changes nothing on a DC either.
    let mut e = dc_with_n2();
    assert_eq!(e.handle(Event::PeerLost { node: "n9".into() }, secs(30)), vec![]);
    assert_eq!(e.handle(Event::PeerLost { node: "n1".into() }, secs(30)), vec![], "ourselves");
}

#[test]
fn a_dc_whose_status_was_lost_offers_everyone_a_new_join() {
    let mut c = dc_with_n2();
    let cmds = c.handle(Event::StatusLost, secs(30));
    assert_eq!(
        cmds,
        vec![
            C::WriteStatus(StatusUpdate::Dc { node: "n1".into(), quorum: true }),
            sc(S::Idle, S::Integration, I::NodeJoin),
            to("n2", Message::JoinOffer { join_id: 2, age_ms: 30_000 }),
            set(Timer::Join, 5),
        ]
    );
    // The DC rejoins itself in that round (its own history is rewritten
    // when it confirms), then n2.
    c.handle(msg("n2", Message::JoinRequest { join_id: 2, cib_version: Version::default(), was_dc: false }), secs(30));
    let cmds = c.handle(msg("n2", Message::JoinConfirm { join_id: 2 }), secs(31));
    assert!(cmds.contains(&C::WriteStatus(StatusUpdate::Join { node: "n2".into(), phase: Phase::Confirmed })));
    assert_eq!(c.state(), S::PolicyEngine);
    // Not a DC: nothing to rebuild.
    let mut f = Controller::new(Config::new("n3"), T0);
    assert_eq!(f.handle(Event::StatusLost, T0), vec![]);
}

#[test]
fn a_dc_told_of_another_dc_holds_an_election_at_once() {
    let mut c = dc_with_n2();
    // n2 refused our action: it follows n3.
    let cmds = c.handle(msg("n2", Message::OtherDc { dc: "n3".into() }), secs(20));
    assert_eq!(
        cmds,
        vec![
            sc(S::Idle, S::Election, I::Election),
            C::Send { to: Destination::All, msg: Message::Vote { election_id: 2, age_ms: 20_000 } },
            set(Timer::Election, 2),
        ]
    );
    assert_eq!(c.dc(), None);
    // Further refusals during the election change nothing.
    assert_eq!(c.handle(msg("n2", Message::OtherDc { dc: "n3".into() }), secs(20)), vec![]);
    // A node that names us is no news.
    let mut c = dc_with_n2();
    assert_eq!(c.handle(msg("n2", Message::OtherDc { dc: "n1".into() }), secs(20)), vec![]);
}

/// The failover bench's wrongly fenced rejoiner: a node boots while the
/// DC's round is finishing, which sends the round back to integration;
/// the confirmation of the node already acked in that round must count.
#[test]
fn a_confirmation_crossing_a_nodes_arrival_completes_the_round() {
    let mut c = lone_dc();
    c.handle(Event::TransitionComputed { id: 1 }, secs(1));
    c.handle(Event::TransitionFinished { id: 1, complete: true }, secs(1));
    c.handle(Event::Membership(view(2, &["n1", "n2"])), secs(10));
    let cmds = c.handle(msg("n2", Message::JoinRequest { join_id: 1, cib_version: Version::default(), was_dc: false }), secs(10));
    assert!(cmds.contains(&to("n2", Message::JoinAck { join_id: 1 })), "{cmds:?}");
    assert_eq!(c.state(), S::FinalizeJoin);
    // n3 boots: offered the same round, which goes back to integration.
    let cmds = c.handle(Event::Membership(view(3, &["n1", "n2", "n3"])), secs(10));
    assert!(cmds.contains(&to("n3", Message::JoinOffer { join_id: 1, age_ms: 10_000 })), "{cmds:?}");
    assert_eq!(c.state(), S::Integration);
    // n2's confirmation (sent for the ack above) arrives now.
    assert_eq!(
        c.handle(msg("n2", Message::JoinConfirm { join_id: 1 }), secs(10)),
        vec![C::WriteStatus(StatusUpdate::Join { node: "n2".into(), phase: Phase::Confirmed })]
    );
    c.handle(msg("n3", Message::JoinRequest { join_id: 1, cib_version: Version::default(), was_dc: false }), secs(11));
    let cmds = c.handle(msg("n3", Message::JoinConfirm { join_id: 1 }), secs(11));
    assert!(cmds.contains(&C::ComputeTransition { id: 2 }), "the round is complete: {cmds:?}");
    assert_eq!((c.join_phase("n2"), c.join_phase("n3")), (Phase::Confirmed, Phase::Confirmed));
}
