//! Three nodes on 127.0.0.1-3, each a real `heartbeat` plus a `cib`
//! daemon (HA_* environment per node, as transport's t10 test):
//! - a change made through any node appears on all three;
//! - the seed 002 `-Q` / edit / `-R -x` workflow on a replica takes
//!   effect cluster-wide;
//! - a node whose cib (and heartbeat) was stopped while changes were made
//!   syncs the newer CIB when it comes back, and persists it.
//!
//! Every process is killed by a guard, whatever happens.

mod common;

use std::time::Duration;

use common::{code, wait_for, Node, Proc};

const PORT: u16 = 47_530;

fn configure(node: &Node) {
    let ucast: String = (1..=3).map(|j| format!("ucast lo 127.0.0.{j}\n")).collect();
    let hacf = format!(
        "logfile {}\nuse_logd no\nkeepalive 200ms\ndeadtime 2\nwarntime 1\ninitdead 2\nudpport {PORT}\n{ucast}node n1 n2 n3\ncrm no\n",
        node.run.join("ha-log").display()
    );
    std::fs::write(node.conf.join("ha.cf"), hacf).unwrap();
    let keys = node.conf.join("authkeys");
    std::fs::write(&keys, "auth 1\n1 sha1 cibtest\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn start_heartbeat(node: &Node) -> Proc {
    let err = std::fs::File::create(node.run.join("hb.stderr")).unwrap();
    let p = Proc(node.command("heartbeat").arg("-f").stderr(err).spawn().unwrap());
    let sock = node.run.join("heartbeat.sock");
    wait_for(Duration::from_secs(10), || sock.exists(), &format!("{}'s heartbeat.sock", node.name));
    p
}

/// Waits until every node's `cibadmin -Q -o resources` satisfies `ok`.
fn on_all(nodes: &[Node], what: &str, ok: impl Fn(&str) -> bool) {
    for n in nodes {
        wait_for(Duration::from_secs(10), || ok(&n.query(&["-o", "resources"])), &format!("{what} on {}\n{}", n.name, n.log()));
    }
}

fn create(node: &Node, id: &str) {
    let xml = format!(r#"<primitive id="{id}" class="ocf" provider="heartbeat" type="Dummy"/>"#);
    let o = node.cibadmin(&["-C", "-o", "resources", "-X", &xml]);
    assert_eq!(code(&o), 0, "create {id} on {}: {}\n{}", node.name, String::from_utf8_lossy(&o.stderr), node.log());
}

#[test]
fn changes_replicate_and_a_restarted_node_syncs() {
    let tmp = tempfile::tempdir().unwrap();
    let nodes: Vec<Node> = (1..=3).map(|i| Node::new(tmp.path(), i)).collect();
    nodes.iter().for_each(configure);
    let mut hbs: Vec<Option<Proc>> = nodes.iter().map(|n| Some(start_heartbeat(n))).collect();
    let mut cibs: Vec<Option<Proc>> = nodes.iter().map(|n| Some(n.start_cib(&[]))).collect();
    // Wait until every daemon has heard the other two.
    for n in &nodes {
        wait_for(Duration::from_secs(15), || n.log().matches("joined at version").count() >= 2, &format!("{} to see its peers\n{}", n.name, n.log()));
    }

    // A change on the master, on a replica, and on the other replica.
    create(&nodes[0], "on_n1");
    on_all(&nodes, "on_n1", |r| r.contains("on_n1"));
    create(&nodes[2], "on_n3");
    on_all(&nodes, "on_n3", |r| r.contains("on_n3"));
    // The node that made the change reads it back at once.
    create(&nodes[1], "on_n2");
    assert!(nodes[1].query(&["-o", "resources"]).contains("on_n2"), "read-your-write on n2");
    on_all(&nodes, "on_n2", |r| r.contains("on_n2"));
    // A refusal on a replica comes back with the master's answer.
    let o = nodes[2].cibadmin(&["-C", "-o", "resources", "-X", r#"<primitive id="on_n1" class="ocf" provider="heartbeat" type="Dummy"/>"#]);
    assert_eq!(code(&o), 108, "{}", String::from_utf8_lossy(&o.stderr));

    // Seed 002 on a replica: query, edit, replace.
    let tmpxml = nodes[1].var.join("tmp.xml");
    std::fs::write(&tmpxml, nodes[1].query(&[]).replace(r#"id="on_n3" class="ocf" provider="heartbeat" type="Dummy""#, r#"id="on_n3" class="ocf" provider="heartbeat" type="Stateful""#)).unwrap();
    let o = nodes[1].cibadmin(&["-R", "-x", tmpxml.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    on_all(&nodes, "the replaced CIB", |r| r.contains(r#"type="Stateful""#));

    // n3 goes away (cib and heartbeat); changes are made meanwhile.
    cibs[2].take().unwrap().stop();
    hbs[2].take().unwrap().stop();
    create(&nodes[1], "while_n3_down");
    on_all(&nodes[..2], "while_n3_down", |r| r.contains("while_n3_down"));
    let on_disk = std::fs::read_to_string(nodes[2].var.join("crm/cib.xml")).unwrap();
    assert!(!on_disk.contains("while_n3_down"));

    // It comes back with its older CIB and syncs the newer one.
    hbs[2] = Some(start_heartbeat(&nodes[2]));
    cibs[2] = Some(nodes[2].start_cib(&[]));
    on_all(&nodes[2..], "the newer CIB on the restarted n3", |r| r.contains("while_n3_down"));
    let full: Vec<String> = nodes.iter().map(|n| n.query(&[])).collect();
    assert!(full.iter().all(|f| f == &full[0]), "copies differ:\n{}", full.join("\n"));
    wait_for(Duration::from_secs(5), || std::fs::read_to_string(nodes[2].var.join("crm/cib.xml")).unwrap().contains("while_n3_down"), "n3 to persist the synced CIB");
    let loaded = cib::store::CibStore::open(nodes[2].var.join("crm")).unwrap().load().unwrap().unwrap();
    assert!(loaded.warnings.is_empty(), "n3's cib.xml has a valid sig");
    drop(cibs);
    drop(hbs);
}
