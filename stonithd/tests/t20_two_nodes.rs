//! Two nodes on 127.0.0.1-2, each a real `heartbeat`, `cib` and
//! `stonithd`: a request on n1 for a device only n2 may run (banned from
//! n1) is executed by n2, and the result reaches n1 and both histories; a
//! request to fence n1 made on n1 is carried out by n2 even though n1
//! holds a device able to fence n1; the same from n2's side; a topology
//! level whose two devices run on different nodes. Every process is
//! killed by a guard.

mod common;

use std::time::Duration;

use common::{agent_dir, calls, fence_rec, wait_for, Node, Proc};

const PORT: u16 = 47_580;

fn configure(node: &Node) {
    let hacf = format!(
        "logfile {}\nuse_logd no\nkeepalive 200ms\ndeadtime 2\nwarntime 1\ninitdead 2\nudpport {PORT}\nucast lo 127.0.0.1\nucast lo 127.0.0.2\nnode n1 n2\ncrm no\n",
        node.dir.join("run/ha-log").display()
    );
    std::fs::write(node.dir.join("conf/ha.cf"), hacf).unwrap();
    let keys = node.dir.join("conf/authkeys");
    std::fs::write(&keys, "auth 1\n1 sha1 stonithdtest\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn start_heartbeat(node: &Node) -> Proc {
    let err = std::fs::File::create(node.dir.join("run/hb.stderr")).unwrap();
    let p = Proc(
        node.command("heartbeat")
            .arg("-f")
            .stderr(err)
            .spawn()
            .unwrap(),
    );
    let sock = node.dir.join("run/heartbeat.sock");
    wait_for(
        Duration::from_secs(10),
        || sock.exists(),
        &format!("{}'s heartbeat.sock", node.name),
    );
    p
}

#[test]
fn a_peer_runs_what_this_node_cannot_and_both_histories_record_it() {
    let tmp = tempfile::tempdir().unwrap();
    let agents = agent_dir(tmp.path());
    let log = tmp.path().join("calls.log");
    let nodes: Vec<Node> = (1..=2).map(|i| Node::new(tmp.path(), i)).collect();
    nodes.iter().for_each(configure);
    let _hbs: Vec<Proc> = nodes.iter().map(start_heartbeat).collect();
    let _cibs: Vec<Proc> = nodes
        .iter()
        .map(|n| n.start("cib", &[], "cib.sock"))
        .collect();
    for n in &nodes {
        wait_for(
            Duration::from_secs(15),
            || n.log("cib").contains("joined at version"),
            &format!("{} to see its peer", n.name),
        );
    }
    let (n1, n2) = (&nodes[0], &nodes[1]);
    n1.ok(
        "cibadmin",
        &["-C", "-o", "nodes", "-X", r#"<node id="1" uname="n1"/>"#],
    );
    n1.ok(
        "cibadmin",
        &["-C", "-o", "nodes", "-X", r#"<node id="2" uname="n2"/>"#],
    );
    // f_far may run on n2 only; f_both may fence n1 and n2 and run anywhere.
    n1.ok(
        "cibadmin",
        &[
            "-C",
            "-o",
            "resources",
            "-X",
            &fence_rec("f_far", &log, &[("pcmk_host_list", "n3")]),
        ],
    );
    n1.ok(
        "cibadmin",
        &[
            "-C",
            "-o",
            "resources",
            "-X",
            &fence_rec("f_both", &log, &[("pcmk_host_list", "n1 n2")]),
        ],
    );
    n1.ok(
        "cibadmin",
        &[
            "-C",
            "-o",
            "constraints",
            "-X",
            r#"<rsc_location id="far-not-n1" rsc="f_far" node="n1" score="-INFINITY"/>"#,
        ],
    );

    let dir = agents.to_str().unwrap();
    let _sds: Vec<Proc> = nodes
        .iter()
        .map(|n| {
            n.start(
                "stonithd",
                &["--stonith-dir", dir, "--query-wait-ms", "3000"],
                "stonithd.sock",
            )
        })
        .collect();
    wait_for(
        Duration::from_secs(15),
        || n1.admin(&["-L"]).0 == "f_both\n1 fence device found\n",
        "n1's devices",
    );
    wait_for(
        Duration::from_secs(15),
        || n2.admin(&["-L"]).0 == "f_far\nf_both\n2 fence devices found\n",
        "n2's devices",
    );
    assert_eq!(n1.admin(&["-l", "n3"]).0, "0 fence devices found\n");

    // n1 cannot fence n3; n2 can: n2 runs it, n1's client gets the result.
    let (out, err, code) = n1.admin(&["-B", "n3", "-t", "20"]);
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        ("", "", 0),
        "{}",
        n1.log("stonithd")
    );
    let c = calls(&log);
    assert!(
        c.iter()
            .any(|l| l.starts_with("n2 reboot port=n3 nodename=n3 ")),
        "{c:?}"
    );
    assert!(!c.iter().any(|l| l.starts_with("n1 reboot")), "{c:?}");
    for n in &nodes {
        wait_for(
            Duration::from_secs(10),
            || {
                let h = n.admin(&["-H", "n3"]).0;
                h.starts_with("reboot of n3 successful: delegate=n2, client=stonith_admin.")
                    && h.contains(", origin=n1, ")
            },
            &format!("n3's fencing in {}'s history", n.name),
        );
    }

    // n1 asked to fence n1: its own f_both could, but the target never
    // executes; n2 does it with its f_both.
    let before = calls(&log).len();
    assert_eq!(
        n1.admin(&["-F", "n1", "-t", "20"]).2,
        0,
        "{}",
        n1.log("stonithd")
    );
    let c = calls(&log);
    assert!(
        c[before..]
            .iter()
            .any(|l| l.starts_with("n2 off port=n1 nodename=n1 ")),
        "{c:?}"
    );
    assert!(
        !c[before..].iter().any(|l| l.starts_with("n1 off")),
        "{c:?}"
    );
    for n in &nodes {
        wait_for(
            Duration::from_secs(10),
            || {
                n.admin(&["-H", "n1"])
                    .0
                    .starts_with("turning off of n1 successful: delegate=n2, ")
            },
            &format!("n1's fencing in {}'s history", n.name),
        );
    }

    // From n2 for n2: n1 runs it.
    let before = calls(&log).len();
    assert_eq!(
        n2.admin(&["-B", "n2", "-t", "20"]).2,
        0,
        "{}",
        n2.log("stonithd")
    );
    assert!(
        calls(&log)[before..]
            .iter()
            .any(|l| l.starts_with("n1 reboot port=n2 nodename=n2 ")),
        "{:?}",
        calls(&log)
    );
    wait_for(
        Duration::from_secs(10),
        || {
            n1.admin(&["-H", "n2"])
                .0
                .starts_with("reboot of n2 successful: delegate=n1, ")
        },
        "n2's fencing in n1's history",
    );

    // Nobody can fence n4: a clear failure after the query wait.
    let (_, err, code) = n1.admin(&["-B", "n4", "-t", "20"]);
    assert_eq!(code, 1);
    assert!(err.contains("no device can fence n4"), "{err}");
    wait_for(
        Duration::from_secs(10),
        || {
            n2.admin(&["-H", "n4", "-V"])
                .0
                .contains("reboot of n4 failed")
        },
        "n4's failure in n2's history",
    );

    // A topology level whose devices live on different nodes: t_here may
    // run on n1, t_far only on n2. n1 runs its own, asks n2 for the other
    // (a step: n2 answers n1 alone and records nothing), and both
    // histories get the one operation.
    for d in [
        fence_rec("t_here", &log, &[("pcmk_host_list", "n5")]),
        fence_rec("t_far", &log, &[("pcmk_host_list", "n5")]),
    ] {
        n1.ok("cibadmin", &["-C", "-o", "resources", "-X", &d]);
    }
    n1.ok(
        "cibadmin",
        &["-C", "-o", "constraints", "-X", r#"<rsc_location id="t-far-not-n1" rsc="t_far" node="n1" score="-INFINITY"/>"#],
    );
    n1.ok(
        "cibadmin",
        &[
            "-C",
            "-o",
            "configuration",
            "-X",
            r#"<fencing-topology><fencing-level id="fl-n5" index="1" target="n5" devices="t_here,t_far"/></fencing-topology>"#,
        ],
    );
    wait_for(
        Duration::from_secs(15),
        || n1.admin(&["-L"]).0.contains("t_here
") && n2.admin(&["-L"]).0.contains("t_far
"),
        "the level's devices on both nodes",
    );
    std::thread::sleep(Duration::from_millis(500));
    let before = calls(&log).len();
    let (_, err, code) = n1.admin(&["-F", "n5", "-t", "20"]);
    assert_eq!(code, 0, "{err}\n{}", n1.log("stonithd"));
    let c: Vec<String> = calls(&log)[before..].iter().filter(|l| l.contains(" off ")).cloned().collect();
    assert_eq!(c.len(), 2, "{c:?}");
    assert!(c[0].starts_with("n1 off port=n5 nodename=n5 "), "{c:?}");
    assert!(c[1].starts_with("n2 off port=n5 nodename=n5 "), "{c:?}");
    for n in &nodes {
        wait_for(
            Duration::from_secs(10),
            || {
                let h = n.admin(&["-H", "n5", "-V"]).0;
                h.starts_with("turning off of n5 successful: delegate=n2, ") && h.ends_with("\n1 event found\n")
            },
            &format!("n5's one fencing in {}'s history", n.name),
        );
    }
}
