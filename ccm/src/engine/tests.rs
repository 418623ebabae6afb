//! Exact command lists for small scenarios (openraft style).

use super::*;
use crate::TieBreaker;

const RETRY: Duration = Duration::from_secs(1);

fn set(names: &str) -> BTreeSet<String> {
    names.split_whitespace().map(str::to_owned).collect()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn node(me: &str, configured: &str) -> Ccm {
    Ccm::new(Config::new(me, configured.split_whitespace()), 0)
}

fn up(n: &str) -> Input {
    Input::NodeStatus { node: n.into(), status: NodeStatus::Up }
}

fn dead(n: &str) -> Input {
    Input::NodeStatus { node: n.into(), status: NodeStatus::Dead }
}

fn recv(from: &str, msg: Message) -> Input {
    Input::Received { from: from.into(), msg }
}

fn view(instance: u64, members: &str, quorum: bool, leader: &str) -> View {
    View { instance, members: set(members), quorum, leader: leader.into() }
}

fn to_all(msg: Message) -> Command {
    Command::Send { to: Destination::All, msg }
}

fn to(n: &str, msg: Message) -> Command {
    Command::Send { to: Destination::Node(n.into()), msg }
}

fn propose(instance: u64, members: &str) -> Message {
    Message::Propose { instance, members: set(members) }
}

fn commit(instance: u64, members: &str, quorum: bool) -> Message {
    Message::Commit { instance, members: set(members), quorum }
}

fn persist(instance: u64) -> Command {
    Command::Persist { instance }
}

fn timer(at: Duration) -> Command {
    Command::Timer { at }
}

/// n1 of n1..n3, booted, with n2 up and in view 2 {n1 n2}.
fn leader_with_n2() -> Ccm {
    let mut n1 = node("n1", "n1 n2 n3");
    n1.handle(Input::Tick, ms(0));
    n1.handle(up("n2"), ms(10));
    n1.handle(recv("n2", Message::Ack { instance: 2 }), ms(20));
    assert_eq!(n1.view(), Some(&view(2, "n1 n2", true, "n1")));
    n1
}

#[test]
fn a_lone_configured_node_forms_its_view_at_the_first_tick() {
    let mut n1 = node("n1", "n1");
    assert_eq!(n1.handle(Input::Tick, ms(0)), vec![persist(1), Command::Install(view(1, "n1", true, "n1"))]);
    // Nothing unsettled: no timer, and further ticks do nothing.
    assert_eq!(n1.handle(Input::Tick, ms(5000)), vec![]);
}

#[test]
fn a_booting_node_alone_has_no_quorum_among_three() {
    let mut n1 = node("n1", "n1 n2 n3");
    assert_eq!(n1.handle(Input::Tick, ms(0)), vec![persist(1), Command::Install(view(1, "n1", false, "n1"))]);
}

#[test]
fn leader_proposes_the_up_set_and_commits_when_all_acked() {
    let mut n1 = node("n1", "n1 n2 n3");
    n1.handle(Input::Tick, ms(0));
    assert_eq!(
        n1.handle(up("n2"), ms(10)),
        vec![persist(2), to_all(propose(2, "n1 n2")), timer(ms(10) + RETRY)]
    );
    assert!(n1.is_leader());
    assert_eq!(
        n1.handle(recv("n2", Message::Ack { instance: 2 }), ms(20)),
        vec![Command::Install(view(2, "n1 n2", true, "n1")), to_all(commit(2, "n1 n2", true))]
    );
}

#[test]
fn follower_acks_its_leader_and_installs_the_commit() {
    let mut n2 = node("n2", "n1 n2 n3");
    assert_eq!(n2.handle(Input::Tick, ms(0)), vec![persist(1), Command::Install(view(1, "n2", false, "n2"))]);
    // n1 appears and leads; n2's view is stale until n1's round, so n2
    // asks it for one at once.
    assert_eq!(
        n2.handle(up("n1"), ms(10)),
        vec![to("n1", Message::Join { view: Some(1), highest: 1 }), timer(ms(10) + RETRY)]
    );
    assert_eq!(
        n2.handle(recv("n1", propose(2, "n1 n2")), ms(20)),
        vec![persist(2), to("n1", Message::Ack { instance: 2 }), timer(ms(20) + RETRY)]
    );
    assert_eq!(
        n2.handle(recv("n1", commit(2, "n1 n2", true)), ms(30)),
        vec![Command::Install(view(2, "n1 n2", true, "n1"))]
    );
    // Settled: the pending timer fires into nothing.
    assert_eq!(n2.handle(Input::Tick, ms(20) + RETRY), vec![]);
}

#[test]
fn a_stale_instance_is_nacked_with_the_highest_seen() {
    let mut n2 = Ccm::new(Config::new("n2", ["n1", "n2"]), 9);
    n2.handle(Input::Tick, ms(0));
    assert_eq!(n2.view().map(|v| v.instance), Some(10), "persisted 9, so the first view is 10");
    n2.handle(up("n1"), ms(1));
    assert_eq!(
        n2.handle(recv("n1", propose(4, "n1 n2")), ms(2)),
        vec![to("n1", Message::Nack { instance: 4, highest: 10 })]
    );
}

#[test]
fn a_nacked_leader_retries_above_the_highest() {
    let mut n1 = node("n1", "n1 n2");
    n1.handle(Input::Tick, ms(0));
    n1.handle(up("n2"), ms(1));
    assert_eq!(
        n1.handle(recv("n2", Message::Nack { instance: 2, highest: 10 }), ms(2)),
        vec![persist(11), to_all(propose(11, "n1 n2")), timer(ms(2) + RETRY)]
    );
    // A nack for an abandoned instance changes nothing more.
    assert_eq!(n1.handle(recv("n2", Message::Nack { instance: 2, highest: 10 }), ms(3)), vec![]);
}

#[test]
fn a_proposal_naming_nodes_we_do_not_see_waits_for_heartbeat() {
    let mut n2 = node("n2", "n1 n2 n3");
    n2.handle(Input::Tick, ms(0));
    n2.handle(up("n1"), ms(1));
    // n1 already sees n3, we do not yet.
    assert_eq!(n2.handle(recv("n1", propose(2, "n1 n2 n3")), ms(2)), vec![]);
    assert_eq!(
        n2.handle(up("n3"), ms(3)),
        vec![persist(2), to("n1", Message::Ack { instance: 2 }), timer(ms(3) + RETRY)]
    );
}

#[test]
fn proposals_from_a_node_that_is_not_our_leader_are_ignored() {
    let mut n3 = node("n3", "n1 n2 n3");
    n3.handle(Input::Tick, ms(0));
    n3.handle(up("n1"), ms(1));
    n3.handle(up("n2"), ms(1));
    assert_eq!(n3.handle(recv("n2", propose(5, "n2 n3")), ms(2)), vec![]);
    // Nor from a node heartbeat does not report up.
    assert_eq!(n3.handle(recv("n4", propose(5, "n1 n2 n3")), ms(2)), vec![]);
}

#[test]
fn leader_resends_the_proposal_to_members_that_did_not_ack() {
    let mut n1 = node("n1", "n1 n2 n3");
    n1.handle(Input::Tick, ms(0));
    n1.handle(up("n2"), ms(0));
    n1.handle(up("n3"), ms(0));
    // The round for {n1 n2} was replaced by one for {n1 n2 n3}.
    assert_eq!(n1.handle(recv("n2", Message::Ack { instance: 3 }), ms(5)), vec![]);
    // Too early: nothing.
    assert_eq!(n1.handle(Input::Tick, ms(500)), vec![]);
    assert_eq!(
        n1.handle(Input::Tick, RETRY),
        vec![to("n3", propose(3, "n1 n2 n3")), timer(RETRY + RETRY)]
    );
}

#[test]
fn a_member_dying_during_a_round_restarts_it() {
    let mut n1 = node("n1", "n1 n2 n3");
    n1.handle(Input::Tick, ms(0));
    n1.handle(up("n2"), ms(0));
    n1.handle(up("n3"), ms(0));
    assert_eq!(
        n1.handle(dead("n3"), ms(7)),
        vec![persist(4), to_all(propose(4, "n1 n2")), timer(ms(7) + RETRY)]
    );
    // A late ack for the abandoned round is ignored.
    assert_eq!(n1.handle(recv("n2", Message::Ack { instance: 3 }), ms(8)), vec![]);
}

#[test]
fn losing_the_leader_makes_the_next_node_lead() {
    let mut n2 = node("n2", "n1 n2 n3");
    n2.handle(Input::Tick, ms(0));
    n2.handle(up("n1"), ms(0));
    n2.handle(up("n3"), ms(0));
    n2.handle(recv("n1", propose(2, "n1 n2 n3")), ms(1));
    n2.handle(recv("n1", commit(2, "n1 n2 n3", true)), ms(2));
    assert!(!n2.is_leader());
    assert_eq!(
        n2.handle(dead("n1"), ms(100)),
        vec![persist(3), to_all(propose(3, "n2 n3")), timer(ms(100) + RETRY)]
    );
    assert_eq!(
        n2.handle(recv("n3", Message::Ack { instance: 3 }), ms(101)),
        vec![Command::Install(view(3, "n2 n3", true, "n2")), to_all(commit(3, "n2 n3", true))]
    );
}

#[test]
fn a_follower_that_missed_the_commit_acks_again() {
    let mut n2 = node("n2", "n1 n2 n3");
    n2.handle(Input::Tick, ms(0));
    n2.handle(up("n1"), ms(0));
    n2.handle(recv("n1", propose(2, "n1 n2")), ms(10));
    // The commit is lost; at the deadline n2 repeats its ack, which the
    // leader answers with the commit (next test).
    assert_eq!(
        n2.handle(Input::Tick, ms(10) + RETRY),
        vec![to("n1", Message::Ack { instance: 2 }), timer(ms(10) + RETRY + RETRY)]
    );
}

#[test]
fn a_restarted_follower_asks_for_a_round_and_gets_one() {
    // n2 acked 2, crashed before the commit, and restarts with 2 persisted.
    let mut n2 = Ccm::new(Config::new("n2", ["n1", "n2", "n3"]), 2);
    n2.handle(up("n1"), ms(0));
    assert_eq!(n2.handle(Input::Tick, RETRY), vec![to("n1", Message::Join { view: None, highest: 2 }), timer(RETRY + RETRY)]);
    // Heartbeat on n1 never noticed (the restart was shorter than deadtime).
    let mut n1 = leader_with_n2();
    assert_eq!(
        n1.handle(recv("n2", Message::Join { view: None, highest: 2 }), ms(50)),
        vec![persist(3), to_all(propose(3, "n1 n2")), timer(ms(50) + RETRY)]
    );
}

#[test]
fn a_join_sent_before_the_proposal_arrived_is_stale() {
    let mut n1 = leader_with_n2();
    assert_eq!(n1.handle(recv("n2", Message::Join { view: Some(1), highest: 1 }), ms(50)), vec![]);
    assert!(n1.settled());
}

#[test]
fn a_repeated_ack_after_the_commit_gets_the_commit_again() {
    let mut n1 = leader_with_n2();
    assert_eq!(
        n1.handle(recv("n2", Message::Ack { instance: 2 }), ms(30)),
        vec![to("n2", commit(2, "n1 n2", true))]
    );
}

#[test]
fn a_repeated_proposal_is_acked_again() {
    let mut n2 = node("n2", "n1 n2");
    n2.handle(Input::Tick, ms(0));
    n2.handle(up("n1"), ms(0));
    n2.handle(recv("n1", propose(2, "n1 n2")), ms(1));
    assert_eq!(n2.handle(recv("n1", propose(2, "n1 n2")), ms(2)), vec![to("n1", Message::Ack { instance: 2 })]);
    // A different proposal for the same instance is refused.
    n2.handle(up("n0"), ms(3));
    assert_eq!(
        n2.handle(recv("n0", propose(2, "n0 n1 n2")), ms(4)),
        vec![to("n0", Message::Nack { instance: 2, highest: 2 })]
    );
}

#[test]
fn a_commit_for_a_proposal_we_did_not_ack_is_ignored() {
    let mut n2 = node("n2", "n1 n2 n3");
    n2.handle(Input::Tick, ms(0));
    n2.handle(up("n1"), ms(0));
    n2.handle(recv("n1", propose(2, "n1 n2")), ms(1));
    assert_eq!(n2.handle(recv("n1", commit(2, "n1 n2 n3", true)), ms(2)), vec![]);
    assert_eq!(n2.handle(recv("n1", commit(3, "n1 n2", true)), ms(2)), vec![]);
    assert_eq!(n2.view(), Some(&view(1, "n2", false, "n2")));
}

#[test]
fn two_node_survivor_keeps_quorum() {
    let mut n1 = node("n1", "n1 n2");
    assert_eq!(n1.handle(Input::Tick, ms(0)), vec![persist(1), Command::Install(view(1, "n1", false, "n1"))]);
    n1.handle(up("n2"), ms(1));
    n1.handle(recv("n2", Message::Ack { instance: 2 }), ms(2));
    assert_eq!(n1.view(), Some(&view(2, "n1 n2", true, "n1")));
    assert_eq!(n1.handle(dead("n2"), ms(3)), vec![persist(3), Command::Install(view(3, "n1", true, "n1"))]);
}

#[test]
fn losing_ping_connectivity_on_a_tie_makes_a_new_view_without_quorum() {
    let mut cfg = Config::new("n1", ["n1", "n2", "n3", "n4"]);
    cfg.quorum.tie_breaker = TieBreaker::Ping;
    let mut n1 = Ccm::new(cfg, 0);
    n1.handle(Input::Tick, ms(0));
    n1.handle(up("n2"), ms(0));
    assert_eq!(
        n1.handle(recv("n2", Message::Ack { instance: 2 }), ms(1)),
        vec![Command::Install(view(2, "n1 n2", true, "n1")), to_all(commit(2, "n1 n2", true))]
    );
    assert_eq!(
        n1.handle(Input::Connectivity(false), ms(2)),
        vec![persist(3), to_all(propose(3, "n1 n2")), timer(ms(2) + RETRY)]
    );
    assert_eq!(
        n1.handle(recv("n2", Message::Ack { instance: 3 }), ms(3)),
        vec![Command::Install(view(3, "n1 n2", false, "n1")), to_all(commit(3, "n1 n2", false))]
    );
}

#[test]
fn events_about_ourselves_are_ignored() {
    let mut n1 = node("n1", "n1 n2");
    n1.handle(Input::Tick, ms(0));
    assert_eq!(n1.handle(dead("n1"), ms(1)), vec![]);
    assert_eq!(n1.up(), &set("n1"));
}

#[test]
fn statuses_at_start_make_one_round() {
    let mut n1 = node("n1", "n1 n2 n3");
    let statuses = ["n1", "n2", "n3"].map(|n| (n.to_string(), NodeStatus::Up));
    assert_eq!(
        n1.handle_statuses(statuses, ms(0)),
        vec![persist(1), to_all(propose(1, "n1 n2 n3")), timer(RETRY)]
    );
    // A follower proposes nothing; it asks its leader for a round.
    let mut n2 = node("n2", "n1 n2 n3");
    let statuses = [("n1".to_string(), NodeStatus::Up), ("n3".to_string(), NodeStatus::Dead)];
    assert_eq!(
        n2.handle_statuses(statuses, ms(0)),
        vec![to("n1", Message::Join { view: None, highest: 0 }), timer(RETRY)]
    );
    assert_eq!(n2.up(), &set("n1 n2"));
}

#[test]
fn a_follower_that_sees_the_old_leader_die_after_the_new_one_asks_at_once() {
    // n1 leads {n1 n2 n3} and dies. n2 notices first and proposes {n2 n3};
    // n3 still sees n1, its leader, so it drops that proposal. When n3
    // notices too, it asks n2 at once instead of a retry period later.
    let mut n3 = node("n3", "n1 n2 n3");
    n3.handle(Input::Tick, ms(0));
    n3.handle(up("n1"), ms(1));
    n3.handle(up("n2"), ms(2));
    n3.handle(recv("n1", propose(5, "n1 n2 n3")), ms(3));
    n3.handle(recv("n1", commit(5, "n1 n2 n3", true)), ms(4));
    assert_eq!(n3.view().map(|v| v.instance), Some(5));
    assert_eq!(n3.handle(recv("n2", propose(6, "n2 n3")), ms(10)), vec![]);
    assert_eq!(
        n3.handle(dead("n1"), ms(20)),
        vec![to("n2", Message::Join { view: Some(5), highest: 6 }), timer(ms(20) + RETRY)]
    );
    // n2 answers with its proposal again; n3 acks it.
    assert_eq!(
        n3.handle(recv("n2", propose(6, "n2 n3")), ms(21)),
        vec![persist(6), to("n2", Message::Ack { instance: 6 }), timer(ms(21) + RETRY)]
    );
}
