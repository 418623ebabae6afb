//! pingd in the lab (docs/PINGD.md), seed 003's lines as written:
//! `ping 10.213.0.254` (the bridge namespace, outside every node),
//! `apiauth pingd gid=haclient uid=hacluster` and
//! `respawn hacluster /usr/local/ha/lib/heartbeat/pingd -m 100 -d 5s`,
//! two nodes with `crm respawn`.
//!
//! - `pingd_follows_the_ping_node_and_crm_mon_shows_it`: both nodes get
//!   `pingd = 100` (crm_mon -1 -A on either node); n1 cut off from the
//!   ping node alone -> its pingd drops to 0 (after deadping and the 5 s
//!   dampening, never before the dampening ran out), n2 keeps 100;
//!   restored -> 100 again; n1's attrd killed (respawned empty) -> pingd
//!   sets 100 again. The launcher ran our pingd for Heartbeat's path and
//!   the log shows the updates.

mod t85_support;

use std::time::{Duration, Instant};

use t85_support::{wait_for, Cluster, PING};

const START: Duration = Duration::from_secs(90);

#[test]
fn pingd_follows_the_ping_node_and_crm_mon_shows_it() {
    let extra = format!(
        "ping {PING}\napiauth pingd gid=haclient uid=hacluster\nrespawn hacluster /usr/local/ha/lib/heartbeat/pingd -m 100 -d 5s\n"
    );
    let mut c = Cluster::new("pg", 2, "respawn", &extra);
    c.start_all();
    c.wait_online("n1", &["n1", "n2"], START);
    for n in ["n1", "n2"] {
        wait_for(
            &format!("pingd=100 for {n}"),
            Duration::from_secs(30),
            || c.node_attribute("n1", n, "pingd").as_deref() == Some("100"),
            || format!("{}\n{}", c.crm_mon("n1", &["-A"]), c.logs(60)),
        );
    }
    assert_eq!(c.node_attribute("n2", "n1", "pingd").as_deref(), Some("100"), "the same on n2\n{}", c.crm_mon("n2", &["-A"]));
    let log = c.log("n1");
    assert!(log.contains("Starting child client \"") && log.contains("/pingd -m 100 -d 5s"), "{log}");

    // n1 loses the ping node: 0 after deadping + dampening, not sooner.
    let cut = Instant::now();
    c.cut_ping("n1");
    let mut seen_zero_at = None;
    wait_for(
        "n1's pingd to drop to 0",
        Duration::from_secs(30),
        || {
            let z = c.node_attribute("n2", "n1", "pingd").as_deref() == Some("0");
            if z {
                seen_zero_at = Some(cut.elapsed());
            }
            z
        },
        || format!("{}\n{}", c.crm_mon("n2", &["-A"]), c.logs(60)),
    );
    let took = seen_zero_at.unwrap();
    println!("n1's pingd 100 -> 0 in the CIB {:.1} s after the cut (deadping 1 s + dampen 5 s)", took.as_secs_f64());
    assert!(took >= Duration::from_secs(5), "written before the 5 s dampening ran out: {took:?}");
    assert_eq!(c.node_attribute("n2", "n2", "pingd").as_deref(), Some("100"), "n2 still reaches it");
    let mon = c.crm_mon("n1", &["-A"]);
    assert_eq!(t85_support::node_attribute_in(&mon, "n1", "pingd").as_deref(), Some("0"), "{mon}");
    println!("crm_mon -1 -A on n1 with the ping node cut:\n{mon}");
    let log = c.log("n1");
    assert!(log.contains(&format!("Status update: Ping node {PING} now has status dead")), "{log}");
    assert!(log.contains("Updated pingd = 0"), "{log}");

    // Back.
    c.restore_ping("n1");
    wait_for(
        "n1's pingd back to 100",
        Duration::from_secs(30),
        || c.node_attribute("n2", "n1", "pingd").as_deref() == Some("100"),
        || format!("{}\n{}", c.crm_mon("n2", &["-A"]), c.logs(60)),
    );

    // attrd dies (heartbeat respawns it, and the new one clears n1's
    // transient attributes): pingd notices and sets its value again.
    let pid = c.ok("n1", "ps", &["-C", "attrd", "-o", "pid="]).trim().to_string();
    assert!(!pid.is_empty(), "attrd runs on n1");
    c.ok("n1", "kill", &["-9", &pid]);
    wait_for(
        "pingd to set its value again in the new attrd",
        Duration::from_secs(40),
        || c.log("n1").contains("(restarted?): setting it again"),
        || c.logs(60),
    );
    wait_for(
        "n1's pingd = 100 after attrd's restart",
        Duration::from_secs(30),
        || c.node_attribute("n2", "n1", "pingd").as_deref() == Some("100"),
        || format!("{}\n{}", c.crm_mon("n2", &["-A"]), c.logs(60)),
    );
    c.lab.stop("n2").unwrap();
    c.lab.stop("n1").unwrap();
}
