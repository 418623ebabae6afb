//! End to end: the DC notices a follower's dead crmd (docs/CRMD.md,
//! "Liveness of crmd itself"). Three real nodes on 127.0.0.1-3, no
//! fencing, one ocf:heartbeat-rs:Dummy placed on a follower (not the DC).
//!
//! - `a_followers_dead_crmd_is_noticed_and_its_resource_waits_for_it`:
//!   the follower's crmd alone is SIGKILLed (its lrmd keeps the resource
//!   running). Within the silence timeout the DC notices; without fencing
//!   it leaves the node's status as it is (Pacemaker would take the node's
//!   resources as stopped and start them elsewhere: a double run), so the
//!   resource is **not** started anywhere else (it still runs there). The
//!   crmd started again rejoins; its history comes back from lrmd, and the
//!   resource never moved nor ran twice.

mod cluster;

use std::time::Duration;

use cluster::{wait_for, Cluster, Proc};

const START: Duration = Duration::from_secs(60);
/// The follower silence bound the test gives crmd (`--dc-silence-ms`).
const SILENCE_MS: u64 = 3000;

/// Every daemon of a node, crmd with a short silence timeout.
fn start_node(c: &mut Cluster, name: &str) {
    let n = c.node(name);
    for d in cluster::DAEMONS {
        let _ = std::fs::remove_file(n.run.join(format!("{d}.sock")));
        let _ = std::fs::remove_file(n.run.join(format!("{d}.pid")));
    }
    for d in cluster::DAEMONS.iter().filter(|d| **d != "crmd") {
        n.start_one(d);
    }
    start_crmd(c, name);
}

fn start_crmd(c: &mut Cluster, name: &str) {
    let n = c.node(name);
    let _ = std::fs::remove_file(n.run.join("crmd.pid"));
    let log = std::fs::OpenOptions::new().create(true).append(true).open(n.dir.join("crmd.stderr")).unwrap();
    let child = n
        .command("crmd")
        .args(["-f", "--dc-deadtime-ms", "3000", "--election-timeout-ms", "1000", "--join-timeout-ms", "3000"])
        .args(["--dc-silence-ms", &SILENCE_MS.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    n.procs.push(("crmd", Proc(child)));
}

/// The node_state attributes of `node` in `via`'s CIB.
fn node_state(c: &Cluster, via: &str, node: &str) -> String {
    let n = c.nodes.iter().find(|n| n.name == via).unwrap();
    let o = n.tool("cibadmin", &["-Q", "--xpath", &format!("//node_state[@uname='{node}']"), "--no-children"]);
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// How many times the DC's log says it started `d` on `node`.
fn starts(c: &Cluster, node: &str) -> usize {
    c.nodes
        .iter()
        .map(|n| n.crmd_log().lines().filter(|l| l.contains("initiating d_start_0") && l.contains(&format!("on {node}"))).count())
        .sum()
}

#[test]
fn a_followers_dead_crmd_is_noticed_and_its_resource_waits_for_it() {
    let mut c = Cluster::new(3, 47_660);
    for n in ["n1", "n2", "n3"] {
        start_node(&mut c, n);
    }
    let mut dc = None;
    wait_for(
        START,
        || {
            dc = c.dc("n1").filter(|d| d.starts_with('n'));
            dc.is_some() && c.nodes[0].crm_mon().contains("Online: [ n1 n2 n3 ]")
        },
        || format!("a DC and every node online\n{}\n{}", c.nodes[0].crm_mon(), c.logs()),
    );
    let dc = dc.unwrap();
    let follower = ["n1", "n2", "n3"].into_iter().find(|n| *n != dc).unwrap().to_string();
    let node = &c.nodes[0];
    node.cibadmin(&[
        "-C",
        "-o",
        "crm_config",
        "-X",
        r#"<cluster_property_set id="cib-bootstrap-options"><nvpair id="opt-stonith" name="stonith-enabled" value="false"/></cluster_property_set>"#,
    ]);
    node.cibadmin(&[
        "-C",
        "-o",
        "resources",
        "-X",
        r#"<primitive id="d" class="ocf" provider="heartbeat-rs" type="Dummy"><operations><op id="d-mon" name="monitor" interval="2s" timeout="20s"/></operations></primitive>"#,
    ]);
    node.cibadmin(&["-C", "-o", "constraints", "-X", &format!(r#"<rsc_location id="d-pref" rsc="d" node="{follower}" score="100"/>"#)]);
    c.wait_running_on("d", &follower, START);
    let started_before = starts(&c, &follower);
    assert!(started_before >= 1, "the DC's log names the start\n{}", c.logs());

    // The follower's crmd dies; its lrmd (and the resource) stay.
    c.node(&follower).kill("crmd");
    let dc_node = c.nodes.iter().position(|n| n.name == dc).unwrap();
    let noticed = format!("the controller of {follower} left; without fencing its resources stay where they run");
    wait_for(
        Duration::from_millis(SILENCE_MS + 15_000),
        || c.nodes[dc_node].crmd_log().contains(&noticed),
        || format!("the DC to notice {follower}'s dead crmd\n{}", c.logs()),
    );
    // Without fencing, Pacemaker would take the node's resources as
    // stopped and start them elsewhere while its lrmd still runs them:
    // the DC leaves its status as it is, and nothing moves.
    let state = node_state(&c, &dc, &follower);
    assert!(state.contains(r#"in_ccm="true""#) && state.contains(r#"crmd="online""#), "{state}");
    for _ in 0..20 {
        assert_eq!(c.running("d"), std::slice::from_ref(&follower), "d must stay on {follower} alone\n{}", c.logs());
        std::thread::sleep(Duration::from_millis(400));
    }

    // The crmd comes back: it rejoins and reports its history again.
    start_crmd(&mut c, &follower);
    wait_for(
        START,
        || {
            let mon = c.nodes.iter().find(|n| n.name == dc).unwrap().crm_mon();
            mon.contains("Online: [ n1 n2 n3 ]") && mon.contains(&format!("Started {follower}"))
        },
        || format!("{follower} online with d started there\n{}\n{}", c.nodes[0].crm_mon(), c.logs()),
    );
    assert!(c.nodes[dc_node].crmd_log().contains(&format!("join complete for {follower}")));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(c.running("d"), std::slice::from_ref(&follower), "{}", c.logs());
    assert_eq!(starts(&c, &follower), started_before, "d was not started again\n{}", c.logs());
}
