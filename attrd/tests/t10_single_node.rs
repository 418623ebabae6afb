//! A real attrd beside a real stand-alone cib daemon (`cib -s`) on a
//! temporary HA_* environment, driven by the real tools:
//! - attrd_updater -U, then crm_attribute -l reboot -G and crm_mon -1 -A show it;
//!   crm_attribute -l reboot -v / -D go through attrd;
//! - `value++` twice gives 2; crm_failcount -G / -D agree with attrd;
//! - a restarted attrd starts from an empty table and clears the CIB;
//! - dampening coalesces a burst into one CIB write (bounded waits).

mod common;

use std::time::{Duration, Instant};

use common::{wait_for, Node};

const RSC: &str = r#"<primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/>"#;
const FAILS: &str = "fail-count-r1#monitor_10000";

#[test]
fn attributes_through_attrd_reach_the_cib_and_the_tools() {
    let tmp = tempfile::tempdir().unwrap();
    let n = Node::new(tmp.path(), 1);
    let _cib = n.start("cib", &["-s"], "cib.sock");
    n.ok("cibadmin", &["-C", "-o", "nodes", "-X", r#"<node id="1" uname="n1"/>"#]);
    n.ok("cibadmin", &["-C", "-o", "resources", "-X", RSC]);
    // A transient attribute left from before this attrd: cleared at its start.
    n.ok("cibadmin", &["-C", "-o", "status", "-X", r#"<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><transient_attributes id="1"><instance_attributes id="status-1"><nvpair id="status-1-stale" name="stale" value="1"/></instance_attributes></transient_attributes></node_state>"#]);
    let attrd = n.start("attrd", &["-s"], "attrd.sock");
    assert!(!n.status().contains("stale"), "attrd clears the node's transient attributes at start");

    // -U, then the CIB and the tools see it.
    n.ok("attrd_updater", &["-n", "color", "-U", "blue"]);
    assert_eq!(n.ok("attrd_updater", &["-n", "color", "-Q"]), "name=\"color\" host=\"n1\" value=\"blue\"\n");
    wait_for(Duration::from_secs(10), || n.status().contains(r#"<nvpair id="status-1-color" name="color" value="blue"/>"#), "color in the CIB");
    assert_eq!(n.ok("crm_attribute", &["-l", "reboot", "-n", "color", "-G", "-q"]).trim(), "blue");
    let mon = n.ok("crm_mon", &["-1", "-A"]);
    assert!(mon.contains("Node Attributes:") && mon.contains("color") && mon.contains("blue"), "{mon}");

    // crm_attribute -l reboot hands updates and deletes to attrd.
    n.ok("crm_attribute", &["-l", "reboot", "-n", "shape", "-v", "round"]);
    assert_eq!(n.ok("attrd_updater", &["-n", "shape", "-Q"]), "name=\"shape\" host=\"n1\" value=\"round\"\n");
    wait_for(Duration::from_secs(10), || n.status().contains(r#"name="shape" value="round""#), "shape in the CIB");
    n.ok("crm_attribute", &["-l", "reboot", "-n", "shape", "-D"]);
    assert_eq!(n.ok("attrd_updater", &["-n", "shape", "-Q"]), "name=\"shape\" host=\"n1\" value=\"\"\n");
    wait_for(Duration::from_secs(10), || !n.status().contains("shape"), "shape gone from the CIB");

    // value++ twice gives 2; crm_failcount agrees.
    n.ok("attrd_updater", &["-n", FAILS, "-U", "value++"]);
    n.ok("attrd_updater", &["-n", FAILS, "-U", "value++"]);
    assert_eq!(n.ok("attrd_updater", &["-n", FAILS, "-Q"]), format!("name=\"{FAILS}\" host=\"n1\" value=\"2\"\n"));
    wait_for(Duration::from_secs(10), || n.status().contains(&format!(r#"name="{FAILS}" value="2""#)), "the fail count in the CIB");
    let fc = n.ok("crm_failcount", &["-G", "-r", "r1", "-N", "n1"]);
    assert!(fc.contains("value=2"), "{fc}");

    // crm_failcount -D goes through attrd: attrd forgets it and the CIB loses it.
    n.ok("crm_failcount", &["-D", "-r", "r1", "-N", "n1"]);
    assert_eq!(n.ok("attrd_updater", &["-n", FAILS, "-Q"]), format!("name=\"{FAILS}\" host=\"n1\" value=\"\"\n"));
    wait_for(Duration::from_secs(10), || !n.status().contains(FAILS), "the fail count gone from the CIB");
    let fc = n.ok("crm_failcount", &["-G", "-r", "r1", "-N", "n1"]);
    assert!(fc.contains("value=0"), "{fc}");

    // Unknown attribute: Pacemaker's message and exit code.
    let o = n.run("attrd_updater", &["-n", "nope", "-Q"]);
    assert_eq!(o.status.code(), Some(105));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "attrd_updater: Could not query value of nope: attribute does not exist\n");

    // A restarted attrd starts empty and clears the CIB.
    attrd.stop();
    assert!(n.status().contains("color"), "values stay in the CIB while attrd is down");
    let _attrd = n.start("attrd", &["-s"], "attrd.sock");
    assert!(!n.status().contains("color"), "a restarted attrd clears the node's attributes");
    assert_eq!(n.run("attrd_updater", &["-n", "color", "-Q"]).status.code(), Some(105));
}

#[test]
fn dampening_coalesces_a_burst_into_one_write() {
    let tmp = tempfile::tempdir().unwrap();
    let n = Node::new(tmp.path(), 1);
    let _cib = n.start("cib", &["-s"], "cib.sock");
    n.ok("cibadmin", &["-C", "-o", "nodes", "-X", r#"<node id="1" uname="n1"/>"#]);
    let _attrd = n.start("attrd", &["-s"], "attrd.sock");
    let before = n.num_updates();
    let started = Instant::now();
    n.ok("attrd_updater", &["-n", "pingd", "-U", "100", "-d", "2"]);
    for v in ["200", "300", "400"] {
        n.ok("attrd_updater", &["-n", "pingd", "-U", v]);
    }
    // attrd has the last value at once; the CIB has nothing yet.
    assert_eq!(n.ok("attrd_updater", &["-n", "pingd", "-Q"]), "name=\"pingd\" host=\"n1\" value=\"400\"\n");
    if started.elapsed() < Duration::from_millis(1500) {
        assert!(!n.status().contains("pingd"), "written before the delay ran out");
    }
    wait_for(Duration::from_secs(10), || n.status().contains(r#"name="pingd" value="400""#), "the dampened value");
    assert!(started.elapsed() >= Duration::from_secs(2), "written after {:?}", started.elapsed());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(n.num_updates(), before + 1, "one write for the whole burst");
}
