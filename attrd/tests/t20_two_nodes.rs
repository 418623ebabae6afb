//! Two nodes on 127.0.0.1-2, each a real `heartbeat`, `cib` and `attrd`:
//! an attribute of n2 set from n1 goes through heartbeat to n2's attrd,
//! which owns it and writes it; both CIBs show it; queries of another
//! node and of all nodes read it back. Every process is killed by a guard.

mod common;

use std::time::Duration;

use common::{wait_for, Node, Proc};

const PORT: u16 = 47_560;

fn configure(node: &Node) {
    let hacf = format!(
        "logfile {}\nuse_logd no\nkeepalive 200ms\ndeadtime 2\nwarntime 1\ninitdead 2\nudpport {PORT}\nucast lo 127.0.0.1\nucast lo 127.0.0.2\nnode n1 n2\ncrm no\n",
        node.dir.join("run/ha-log").display()
    );
    std::fs::write(node.dir.join("conf/ha.cf"), hacf).unwrap();
    let keys = node.dir.join("conf/authkeys");
    std::fs::write(&keys, "auth 1\n1 sha1 attrdtest\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn start_heartbeat(node: &Node) -> Proc {
    let err = std::fs::File::create(node.dir.join("run/hb.stderr")).unwrap();
    let p = Proc(node.command("heartbeat").arg("-f").stderr(err).spawn().unwrap());
    let sock = node.dir.join("run/heartbeat.sock");
    wait_for(Duration::from_secs(10), || sock.exists(), &format!("{}'s heartbeat.sock", node.name));
    p
}

#[test]
fn another_nodes_attribute_goes_to_its_attrd_through_heartbeat() {
    let tmp = tempfile::tempdir().unwrap();
    let nodes: Vec<Node> = (1..=2).map(|i| Node::new(tmp.path(), i)).collect();
    nodes.iter().for_each(configure);
    let _hbs: Vec<Proc> = nodes.iter().map(start_heartbeat).collect();
    let _cibs: Vec<Proc> = nodes.iter().map(|n| n.start("cib", &[], "cib.sock")).collect();
    // Both cib daemons must know each other before writes replicate.
    for n in &nodes {
        let log = || std::fs::read_to_string(n.dir.join("cib.log")).unwrap_or_default();
        wait_for(Duration::from_secs(15), || log().contains("joined at version"), &format!("{} to see its peer", n.name));
    }
    let _attrds: Vec<Proc> = nodes.iter().map(|n| n.start("attrd", &[], "attrd.sock")).collect();

    // From n1, for n2: n2's attrd takes it, and both CIBs get it.
    let (n1, n2) = (&nodes[0], &nodes[1]);
    // Heartbeat may take a moment to list n2's attrd as a client; retry the
    // send until n2 has the value (bounded).
    wait_for(
        Duration::from_secs(15),
        || {
            n1.ok("attrd_updater", &["-N", "n2", "-n", "pingd", "-U", "100"]);
            n2.run("attrd_updater", &["-n", "pingd", "-Q"]).status.success()
        },
        "n2's attrd to receive the update",
    );
    assert_eq!(n2.ok("attrd_updater", &["-n", "pingd", "-Q"]), "name=\"pingd\" host=\"n2\" value=\"100\"\n");
    for n in &nodes {
        wait_for(Duration::from_secs(10), || n.status().contains(r#"name="pingd" value="100""#), &format!("pingd in {}'s CIB", n.name));
    }
    // n1 never owned it.
    assert_eq!(n1.run("attrd_updater", &["-n", "pingd", "-Q"]).status.code(), Some(105));
    // Another node's value, and all nodes', from n1.
    assert_eq!(n1.ok("attrd_updater", &["-N", "n2", "-n", "pingd", "-Q"]), "name=\"pingd\" host=\"n2\" value=\"100\"\n");
    n1.ok("attrd_updater", &["-n", "pingd", "-U", "7"]);
    assert_eq!(n1.ok("attrd_updater", &["-A", "-n", "pingd", "-Q"]), "name=\"pingd\" host=\"n1\" value=\"7\"\nname=\"pingd\" host=\"n2\" value=\"100\"\n");

    // An increment and a delete sent to n2.
    n1.ok("attrd_updater", &["-N", "n2", "-n", "fail-count-r1#monitor_10000", "-U", "value++"]);
    n1.ok("attrd_updater", &["-N", "n2", "-n", "fail-count-r1#monitor_10000", "-U", "value++"]);
    wait_for(Duration::from_secs(10), || n1.status().contains(r#"name="fail-count-r1#monitor_10000" value="2""#), "n2's fail count 2 in n1's CIB");
    n1.ok("attrd_updater", &["-N", "n2", "-n", "pingd", "-D"]);
    wait_for(Duration::from_secs(10), || n2.ok("attrd_updater", &["-n", "pingd", "-Q"]).contains("value=\"\""), "n2's pingd deleted");
    for n in &nodes {
        wait_for(Duration::from_secs(10), || !n.status().contains(r#"value="100""#), &format!("pingd gone from {}'s CIB", n.name));
    }
}
