//! Split brain without fencing, in the lab (docs/SPLIT_BRAIN.md): one
//! ocf:heartbeat-rs:Dummy `d1` (monitor 2 s, witness log) preferring n1,
//! `multiple-active=stop_unexpected`, stonith-enabled=false,
//! no-quorum-policy=stop, ha.cf `ping 10.213.0.254` (the bridge
//! namespace, outside every node). n1 is started first, so it is the DC
//! and runs d1 when the faults come.
//!
//! - `two_nodes_with_pingd_the_side_without_the_ping_node_gives_up`
//!   (seed 003's setup: pingd and a rule banning d1 where `pingd` is 0 or
//!   undefined): n1 loses the ping node -> d1 moves to n2; then the link
//!   between n1 and n2 is cut: n1 has no quorum (ccm's ping
//!   tie-breaker), n2 keeps it and d1; never on both (witness log).
//! - `two_nodes_ping_tiebreak_alone_the_loser_stops_before_the_winner_starts`:
//!   the same without pingd, d1 still on n1 at the cut: n1 loses quorum
//!   and stops d1 at once (crmd's emergency stop), n2 starts it only
//!   after `lost-node-grace` (default here: 2 x 200 ms keepalive + the
//!   stop time): no overlap at all (ha-witness-check, no tolerance); the
//!   margin between n1's stop and n2's start is printed.
//! - `three_nodes_only_the_majority_runs`: {n1} | {n2,n3}: n1 loses
//!   quorum and stops d1, the majority runs it after the grace: no
//!   overlap; healed, one copy and still no overlap.
//! - `two_nodes_reaching_the_ping_node_double_run_until_healed`: the link
//!   cut with both sides reaching the ping node: both keep quorum and both
//!   run d1 (the documented price); healed, the double run is logged
//!   (pengine's "Resource d1 is active on 2 nodes") and n2's copy stopped
//!   at once, n1's kept (`stop_unexpected`).
//!
//! `T85_LOGS=1` prints every node's log after the tie-break cut (to see
//! the emergency stop and the grace in time).

mod t85_support;

use std::time::{Duration, Instant};

use t85_support::{wait_for, Cluster, PING};

const START: Duration = Duration::from_secs(90);
const SETTLE: Duration = Duration::from_secs(45);

fn config(c: &Cluster) {
    c.cib_create(
        "n1",
        "crm_config",
        r#"<cluster_property_set id="cib-bootstrap-options">
             <nvpair id="opt-stonith" name="stonith-enabled" value="false"/>
             <nvpair id="opt-nq" name="no-quorum-policy" value="stop"/>
           </cluster_property_set>"#,
    );
    c.cib_create(
        "n1",
        "resources",
        &format!(
            r#"<primitive id="d1" class="ocf" provider="heartbeat-rs" type="Dummy">
                 <meta_attributes id="d1-meta"><nvpair id="d1-ma" name="multiple-active" value="stop_unexpected"/></meta_attributes>
                 <instance_attributes id="d1-params"><nvpair id="d1-w" name="witness" value="{}"/></instance_attributes>
                 <operations><op id="d1-mon" name="monitor" interval="2s" timeout="20s"/></operations>
               </primitive>"#,
            c.witness.display()
        ),
    );
    c.cib_create("n1", "constraints", r#"<rsc_location id="d1-pref" rsc="d1" node="n1" score="100"/>"#);
}

/// Starts n1 first (it becomes the DC: the longer uptime wins), then
/// the others; loads the configuration; waits for d1 on n1.
fn cluster(prefix: &str, nodes: usize) -> Cluster {
    cluster_with(prefix, nodes, "")
}

/// [`cluster`] with more ha.cf lines.
fn cluster_with(prefix: &str, nodes: usize, extra: &str) -> Cluster {
    let mut c = Cluster::new(prefix, nodes, "respawn", &format!("ping {PING}\n{extra}"));
    c.start("n1");
    std::thread::sleep(Duration::from_secs(2));
    for n in c.nodes().into_iter().skip(1) {
        c.start(&n);
    }
    let all: Vec<String> = c.nodes();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    c.wait_online("n1", &all, START);
    config(&c);
    wait_for("d1 on n1", START, || c.running("d1") == ["n1"], || format!("{}\n{}", c.crm_mon("n1", &[]), c.logs(60)));
    c
}

/// ccm's quorum on a node (ccm_tool -q: 1 or 0).
fn quorum(c: &Cluster, node: &str) -> Option<bool> {
    let o = c.exec(node, "ccm_tool", &["-q"]);
    match String::from_utf8_lossy(&o.stdout).trim() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// Samples for `d` that d1 never runs on two nodes (witness log).
fn never_twice(c: &Cluster, d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        assert!(c.running("d1").len() < 2, "d1 runs on {:?}\n{}", c.running("d1"), c.logs(60));
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn split(c: &Cluster, groups: &[&[&str]]) {
    let g: Vec<Vec<String>> = groups.iter().map(|g| g.iter().map(|s| s.to_string()).collect()).collect();
    c.lab.partition(&g).unwrap();
}

/// Waits until n1's heartbeat reports the ping node dead.
fn wait_ping_dead(c: &Cluster, node: &str) {
    wait_for(
        &format!("{node} to see the ping node dead"),
        Duration::from_secs(10),
        || String::from_utf8_lossy(&c.exec(node, "cl_status", &["nodestatus", PING]).stdout).trim() == "dead",
        || c.logs(20),
    );
}

/// The longest time two nodes ran d1 at once, per the witness log
/// (CLOCK_MONOTONIC ns), counting only overlaps that began after
/// `after_ns`.
fn overlap_ns(c: &Cluster, after_ns: u64) -> u64 {
    let text = std::fs::read_to_string(&c.witness).unwrap_or_default();
    let mut since: std::collections::BTreeMap<String, u64> = Default::default();
    let mut worst = 0;
    for l in text.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.len() < 4 || (w[3] != "d1" && w[2] != "fenced") {
            continue;
        }
        let t: u64 = w[0].parse().unwrap();
        if w[2] == "start" {
            since.insert(w[1].to_string(), t);
        } else if let Some(began) = since.remove(w[1]) {
            for other in since.values() {
                let from = began.max(*other);
                if from > after_ns {
                    worst = worst.max(t - from);
                }
            }
        }
    }
    worst
}

/// The time stamp of the witness log's last event (0 when empty).
fn last_event_ns(c: &Cluster) -> u64 {
    let text = std::fs::read_to_string(&c.witness).unwrap_or_default();
    text.lines().last().and_then(|l| l.split_whitespace().next()).and_then(|t| t.parse().ok()).unwrap_or(0)
}

/// The margin between n1's last stop of d1 and the next start of d1 on
/// another node (negative: the start came first), in ms.
fn margin_ms(c: &Cluster) -> Option<f64> {
    let text = std::fs::read_to_string(&c.witness).unwrap_or_default();
    let events: Vec<(u64, String, String)> = text
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() < 4 || w[3] != "d1" {
                return None;
            }
            Some((w[0].parse().ok()?, w[1].to_string(), w[2].to_string()))
        })
        .collect();
    let stop = events.iter().rev().find(|(_, n, e)| n == "n1" && e == "stop")?.0;
    // The first start elsewhere after n1's last start.
    let n1_start = events.iter().rev().find(|(_, n, e)| n == "n1" && e == "start")?.0;
    let other = events.iter().find(|(t, n, e)| *t > n1_start && n != "n1" && e == "start")?.0;
    Some((other as f64 - stop as f64) / 1e6)
}

#[test]
fn two_nodes_with_pingd_the_side_without_the_ping_node_gives_up() {
    let c = cluster_with("sba", 2, "respawn hacluster /usr/lib/heartbeat/pingd -m 100 -d 1s\n");
    c.cib_create(
        "n1",
        "constraints",
        r#"<rsc_location id="d1-connected" rsc="d1">
             <rule id="d1-connected-rule" score="-INFINITY" boolean-op="or">
               <expression id="d1-connected-undef" attribute="pingd" operation="not_defined"/>
               <expression id="d1-connected-zero" attribute="pingd" operation="lte" value="0" type="number"/>
             </rule>
           </rsc_location>"#,
    );
    never_twice(&c, Duration::from_secs(2));
    assert_eq!(c.running("d1"), ["n1"], "{}", c.logs(40));
    // n1's uplink to the router fails first: pingd drops to 0 there and
    // the rule sends d1 to n2 while the nodes still see each other.
    c.cut_ping("n1");
    wait_ping_dead(&c, "n1");
    wait_for(
        "d1 to leave n1 for n2",
        SETTLE,
        || {
            assert!(c.running("d1").len() < 2, "d1 runs on {:?}\n{}", c.running("d1"), c.logs(60));
            c.running("d1") == ["n2"]
        },
        || format!("{}\n{}", c.crm_mon("n2", &["-A"]), c.logs(60)),
    );
    // Then the link between them.
    split(&c, &[&["n1"], &["n2"]]);
    wait_for("n1 to lose quorum", SETTLE, || quorum(&c, "n1") == Some(false), || c.logs(40));
    assert_eq!(quorum(&c, "n2"), Some(true), "n2 keeps quorum\n{}", c.logs(40));
    never_twice(&c, Duration::from_secs(6));
    assert_eq!(c.running("d1"), ["n2"], "{}", c.logs(40));
    let log = c.log("n1");
    assert!(log.contains("ping connectivity: lost"), "{log}");
    c.witness_check().unwrap_or_else(|e| panic!("double run: {e}\n{}", c.logs(80)));

    // Healed: still one copy.
    c.lab.heal().unwrap();
    c.restore_ping("n1");
    never_twice(&c, Duration::from_secs(8));
    assert_eq!(c.running("d1").len(), 1, "{}", c.logs(40));
    c.witness_check().unwrap_or_else(|e| panic!("double run: {e}\n{}", c.logs(80)));
}

#[test]
fn two_nodes_ping_tiebreak_alone_the_loser_stops_before_the_winner_starts() {
    let c = cluster("sbd", 2);
    // n1 cannot reach the ping node any more, then the link is cut.
    c.cut_ping("n1");
    wait_ping_dead(&c, "n1");
    never_twice(&c, Duration::from_secs(2));
    assert_eq!(c.running("d1"), ["n1"], "without pingd nothing moves before the split");
    let t0 = Instant::now();
    split(&c, &[&["n1"], &["n2"]]);
    wait_for("d1 on n2 alone", SETTLE, || c.running("d1") == ["n2"], || format!("{}\n{}", c.crm_mon("n2", &[]), c.logs(80)));
    println!("link cut: d1 stopped on n1 and running on n2 {:.1} s later", t0.elapsed().as_secs_f64());
    assert_eq!(quorum(&c, "n1"), Some(false), "n1 cannot reach the ping node: no quorum\n{}", c.logs(40));
    assert_eq!(quorum(&c, "n2"), Some(true), "n2 keeps quorum\n{}", c.logs(40));
    never_twice(&c, Duration::from_secs(5));
    let overlap = overlap_ns(&c, 0);
    println!("overlap of d1 on n1 and n2 at the cut (witness log): {:.1} ms", overlap as f64 / 1e6);
    println!("n1's stop came {:.1} ms before n2's start", margin_ms(&c).unwrap_or(f64::NAN));
    if std::env::var_os("T85_LOGS").is_some() {
        println!("{}", c.logs(400));
    }
    assert!(c.log("n1").contains("Quorum lost: stopping 1 local resources"), "n1's emergency stop\n{}", c.logs(60));
    assert!(c.log("n2").contains("lost-node-grace"), "n2 waits for the grace\n{}", c.logs(60));
    assert_eq!(overlap, 0, "n1 stopped d1 {overlap} ns after n2 started it\n{}", c.logs(60));
    c.witness_check().unwrap_or_else(|e| panic!("double run: {e}\n{}", c.logs(80)));
}

#[test]
fn three_nodes_only_the_majority_runs() {
    let c = cluster("sbb", 3);
    let t0 = Instant::now();
    split(&c, &[&["n1"], &["n2", "n3"]]);
    wait_for(
        "d1 on n2 or n3 alone",
        SETTLE,
        || {
            let r = c.running("d1");
            r == ["n2"] || r == ["n3"]
        },
        || format!("{}\n{}", c.crm_mon("n2", &[]), c.logs(80)),
    );
    println!("partition {{n1}} | {{n2,n3}}: d1 moved to the majority in {:.1} s", t0.elapsed().as_secs_f64());
    assert_eq!(quorum(&c, "n1"), Some(false), "{}", c.logs(40));
    assert_eq!(quorum(&c, "n2"), Some(true), "{}", c.logs(40));
    never_twice(&c, Duration::from_secs(5));
    let mon = c.crm_mon("n1", &[]);
    assert!(mon.contains("WITHOUT quorum") || mon.contains("without quorum"), "{mon}");
    // Both sides react at deadtime: the minority stops d1 at once, the
    // majority waits lost-node-grace before starting it.
    let overlap = overlap_ns(&c, 0);
    println!("overlap of d1 at the partition (witness log): {:.1} ms", overlap as f64 / 1e6);
    println!("n1's stop came {:.1} ms before the majority's start", margin_ms(&c).unwrap_or(f64::NAN));
    assert!(c.log("n1").contains("Quorum lost: stopping 1 local resources"), "n1's emergency stop\n{}", c.logs(60));
    assert_eq!(overlap, 0, "n1 stopped d1 {overlap} ns after the majority started it\n{}", c.logs(60));
    c.witness_check().unwrap_or_else(|e| panic!("double run: {e}\n{}", c.logs(80)));

    // Healed: one cluster, one copy, and no new overlap.
    let healed_at = last_event_ns(&c);
    c.lab.heal().unwrap();
    c.wait_online("n2", &["n1", "n2", "n3"], SETTLE);
    never_twice(&c, Duration::from_secs(5));
    assert_eq!(c.running("d1").len(), 1, "{}", c.logs(40));
    assert_eq!(overlap_ns(&c, healed_at), 0, "a double run after the heal\n{}", c.logs(80));
    c.witness_check().unwrap_or_else(|e| panic!("double run: {e}\n{}", c.logs(80)));
}

/// Healing needs the DC to rebuild the status after the merge (both
/// sides wrote theirs at the same CIB version and the cib daemons keep
/// one copy) and to schedule with its own quorum (crmd).
#[test]
fn two_nodes_reaching_the_ping_node_double_run_until_healed() {
    let c = cluster("sbc", 2);
    split(&c, &[&["n1"], &["n2"]]);
    // Nothing tells the sides apart: both keep quorum, n2 starts d1 too.
    wait_for(
        "d1 on both sides",
        SETTLE,
        || c.running("d1") == ["n1", "n2"],
        || format!("{}\n{}", c.crm_mon("n2", &[]), c.logs(80)),
    );
    assert_eq!((quorum(&c, "n1"), quorum(&c, "n2")), (Some(true), Some(true)), "{}", c.logs(40));

    // Healing: detected, the unexpected copy (n2's) stopped, n1's kept.
    let t0 = Instant::now();
    c.lab.heal().unwrap();
    let stops_before = c.witness_events().iter().filter(|(n, e, _)| n == "n1" && e == "stop").count();
    wait_for("d1 on n1 alone", SETTLE, || c.running("d1") == ["n1"], || format!("{}\n{}", c.crm_mon("n1", &[]), c.logs(80)));
    println!("healed: the double run ended {:.1} s after the heal", t0.elapsed().as_secs_f64());
    let stops_after = c.witness_events().iter().filter(|(n, e, _)| n == "n1" && e == "stop").count();
    assert_eq!(stops_before, stops_after, "n1's copy was never stopped (stop_unexpected)\n{}", c.logs(60));
    let logs = format!("{}{}", c.log("n1"), c.log("n2"));
    assert!(logs.contains("Resource d1 is active on 2 nodes"), "the double run is logged\n{}", c.logs(80));
    never_twice(&c, Duration::from_secs(5));
    c.wait_online("n1", &["n1", "n2"], SETTLE);
    // The witness proves the double run happened (and only then).
    let report = c.witness_check().expect_err("the partition did double-run d1");
    assert!(report.contains("d1"), "{report}");
}
