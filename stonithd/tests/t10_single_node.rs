//! A real stonithd (`-s`) beside a real stand-alone cib daemon (`cib -s`)
//! on a temporary HA_* environment, driven by the real stonith_admin; the
//! devices run a recording fence agent written here (and the project's
//! fence_lab against a process of the test):
//! - -L / -l with static lists, dynamic lists (the agent's `list`), and a
//!   device removed from the CIB disappearing;
//! - -B runs the agent with port/nodename, -H shows it as Pacemaker does;
//! - a failing device gives exit 1 and its reason, in the history too;
//! - pcmk_delay_base is honoured, `--delay -1` disables it;
//! - the node itself is never the executor, even with a capable device;
//! - -Q; unknown targets; --output-as xml;
//! - fence_lab really kills the "node" (a process with a pid file).

mod common;

use std::time::{Duration, Instant};

use common::{agent_dir, calls, fence_rec, wait_for, Node, Proc};

#[test]
fn devices_fencing_delays_failures_and_history_on_one_node() {
    let tmp = tempfile::tempdir().unwrap();
    let n = Node::new(tmp.path(), 1);
    let agents = agent_dir(tmp.path());
    let log = tmp.path().join("calls.log");
    let pids = tmp.path().join("pids");
    std::fs::create_dir_all(&pids).unwrap();

    let _cib = n.start("cib", &["-s"], "cib.sock");
    n.ok(
        "cibadmin",
        &["-C", "-o", "nodes", "-X", r#"<node id="1" uname="n1"/>"#],
    );
    let devices = [
        fence_rec("f_static", &log, &[("pcmk_host_list", "n1 n2 n3")]),
        fence_rec("f_dyn", &log, &[("hosts", "n4 n7")]),
        fence_rec("f_fail", &log, &[("pcmk_host_list", "n5"), ("fail", "1")]),
        fence_rec(
            "f_delay",
            &log,
            &[("pcmk_host_list", "n6"), ("pcmk_delay_base", "2s")],
        ),
        format!(
            r#"<primitive id="f_lab" class="stonith" type="fence_lab"><instance_attributes id="f_lab-i"><nvpair id="f_lab-1" name="pid_dir" value="{}"/><nvpair id="f_lab-2" name="pcmk_host_list" value="lab1"/></instance_attributes></primitive>"#,
            pids.display()
        ),
    ];
    for d in &devices {
        n.ok("cibadmin", &["-C", "-o", "resources", "-X", d]);
    }
    let sd = n.start(
        "stonithd",
        &["-s", "--stonith-dir", agents.to_str().unwrap()],
        "stonithd.sock",
    );

    // -L: every registered device, in configuration order.
    let all = "f_static\nf_dyn\nf_fail\nf_delay\nf_lab\n5 fence devices found\n";
    wait_for(
        Duration::from_secs(15),
        || n.admin(&["-L"]).0 == all,
        "the CIB's devices in -L",
    );
    // -l: static lists, dynamic lists asked of the agent.
    assert_eq!(
        n.admin(&["-l", "n2"]),
        ("f_static\n1 fence device found\n".into(), String::new(), 0)
    );
    assert_eq!(n.admin(&["-l", "n4"]).0, "f_dyn\n1 fence device found\n");
    assert!(
        calls(&log).iter().any(|c| c.starts_with("n1 list ")),
        "{:?}",
        calls(&log)
    );
    assert_eq!(n.admin(&["-l", "n9"]).0, "0 fence devices found\n");
    // A device able to fence the node itself is listed...
    assert_eq!(n.admin(&["-l", "n1"]).0, "f_static\n1 fence device found\n");

    // -B: the agent runs here with the target as port and nodename.
    let (out, err, code) = n.admin(&["-B", "n2"]);
    assert_eq!((out.as_str(), err.as_str(), code), ("", "", 0));
    assert!(
        calls(&log)
            .iter()
            .any(|c| c.starts_with("n1 reboot port=n2 nodename=n2 ")),
        "{:?}",
        calls(&log)
    );
    // Dynamic list: n7 through f_dyn; -F is "off".
    assert_eq!(n.admin(&["-F", "n7"]).2, 0);
    assert!(calls(&log)
        .iter()
        .any(|c| c.starts_with("n1 off port=n7 nodename=n7 ")));

    // -H: the last successful operation, as Pacemaker prints it.
    let (out, _, code) = n.admin(&["-H", "n2"]);
    assert_eq!(code, 0);
    let line = out.lines().next().unwrap();
    assert!(
        line.starts_with("reboot of n2 successful: delegate=n1, client=stonith_admin."),
        "{out}"
    );
    assert!(
        line.contains(", origin=n1, last-successful='") && out.ends_with("'\n1 event found\n"),
        "{out}"
    );
    assert_eq!(n.admin(&["-H", "n8"]).0, "0 events found\n");
    let everything = n.admin(&["-H", "*", "-V"]).0;
    assert!(
        everything.contains("turning off of n7 successful")
            && everything.ends_with("2 events found\n"),
        "{everything}"
    );

    // A failing device: exit 1, the agent's reason on stderr and in the history.
    let (_, err, code) = n.admin(&["-F", "n5"]);
    assert_eq!(code, 1);
    assert!(err.contains("power switch refused off of n5"), "{err}");
    let hist = n.admin(&["-H", "n5", "-V"]).0;
    assert!(hist.starts_with("turning off of n5 failed (f_fail: power switch refused off of n5): delegate=n1, client=stonith_admin."), "{hist}");
    assert!(hist.ends_with("1 event found\n"));
    // No successful one: the plain form shows none.
    assert_eq!(n.admin(&["-H", "n5"]).0, "0 events found\n");

    // pcmk_delay_base=2s is waited for; --delay -1 disables it.
    let t = Instant::now();
    assert_eq!(n.admin(&["-B", "n6"]).2, 0);
    assert!(t.elapsed() >= Duration::from_secs(2), "{:?}", t.elapsed());
    let t = Instant::now();
    assert_eq!(n.admin(&["-B", "n6", "--delay", "-1"]).2, 0);
    assert!(
        t.elapsed() < Duration::from_millis(1800),
        "{:?}",
        t.elapsed()
    );
    // --delay adds to the device's.
    let t = Instant::now();
    assert_eq!(n.admin(&["-B", "n6", "-y", "1"]).2, 0);
    assert!(t.elapsed() >= Duration::from_secs(3), "{:?}", t.elapsed());

    // The node is never its own executor (stand-alone: nobody else to ask).
    let before = calls(&log).len();
    let (_, err, code) = n.admin(&["-B", "n1"]);
    assert_eq!(code, 1);
    assert!(err.contains("never fences itself"), "{err}");
    assert!(
        !calls(&log)[before..]
            .iter()
            .any(|c| c.contains("nodename=n1")),
        "{:?}",
        calls(&log)
    );
    // Nobody can fence n9.
    let (_, err, code) = n.admin(&["-B", "n9"]);
    assert_eq!(code, 1);
    assert!(err.contains("no device can fence n9"), "{err}");

    // -Q: the device's monitor.
    assert_eq!(n.admin(&["-Q", "f_static"]).2, 0);
    assert_eq!(n.admin(&["-Q", "f_fail"]).2, 1);
    assert_eq!(n.admin(&["-Q", "nosuch"]).2, 1);

    // XML output.
    let (out, _, code) = n.admin(&["--output-as", "xml", "-l", "n2"]);
    assert_eq!(code, 0);
    assert!(out.contains("<list name=\"Registered fence devices\" count=\"1\">\n    <item name=\"device\">f_static</item>\n  </list>\n  <status code=\"0\" message=\"OK\"/>\n</pacemaker-result>\n"), "{out}");
    let out = n.admin(&["--output-as", "xml", "-H", "n2"]).0;
    assert!(
        out.contains("<fence_event action=\"reboot\" target=\"n2\" client=\"stonith_admin.")
            && out.contains("status=\"success\" delegate=\"n1\" completed=\""),
        "{out}"
    );

    // fence_lab powers "lab1" off: a process of ours stands for the node.
    let victim = Proc(
        std::process::Command::new("sleep")
            .arg("600")
            .spawn()
            .unwrap(),
    );
    let pid = victim.0.id();
    let netns = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    std::fs::write(
        pids.join("lab1.pid"),
        format!("{pid} {}\n", netns.display()),
    )
    .unwrap();
    let (_, err, code) = n.admin(&["-B", "lab1"]);
    assert_eq!(code, 0, "{err}");
    let mut victim = victim;
    wait_for(
        Duration::from_secs(5),
        || victim.0.try_wait().ok().flatten().is_some(),
        "fence_lab to kill lab1",
    );

    // A device removed from the CIB leaves the list.
    n.ok(
        "cibadmin",
        &["-D", "-o", "resources", "-X", r#"<primitive id="f_dyn"/>"#],
    );
    wait_for(
        Duration::from_secs(10),
        || n.admin(&["-L"]).0 == "f_static\nf_fail\nf_delay\nf_lab\n4 fence devices found\n",
        "f_dyn gone from -L",
    );
    drop(sd);
    if std::env::var("STONITHD_TEST_SHOW_LOG").is_ok() {
        eprintln!("{}", n.log("stonithd"));
    }
    assert!(
        n.log("stonithd").contains("added 'f_static'"),
        "{}",
        n.log("stonithd")
    );
}

/// Heartbeat's ha.cf lines (seeds 003/004) are devices too: `stonith_host`
/// for this node or `*` (cluster-glue's `null` plugin through the real
/// stonith(8)); a `stonith_host` for another node is not ours.
#[test]
fn hacf_stonith_host_lines_are_devices() {
    if !std::path::Path::new("/usr/sbin/stonith").exists() {
        eprintln!("skipped: cluster-glue's /usr/sbin/stonith is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let n = Node::new(tmp.path(), 1);
    std::fs::write(
        n.dir.join("conf/ha.cf"),
        "node n1 n2\nstonith_host * null n3 n4\nstonith_host n2 null n5\ncrm yes\n",
    )
    .unwrap();
    let _cib = n.start("cib", &["-s"], "cib.sock");
    let _sd = n.start("stonithd", &["-s"], "stonithd.sock");
    assert_eq!(n.admin(&["-L"]).0, "hacf-null-1\n1 fence device found\n");
    assert_eq!(
        n.admin(&["-l", "n4"]).0,
        "hacf-null-1\n1 fence device found\n"
    );
    assert_eq!(n.admin(&["-l", "n5"]).0, "0 fence devices found\n");
    assert_eq!(n.admin(&["-B", "n3"]).2, 0);
    assert!(n
        .admin(&["-H", "n3"])
        .0
        .starts_with("reboot of n3 successful: delegate=n1, "));
    assert_eq!(n.admin(&["-Q", "hacf-null-1"]).2, 0);
    assert_eq!(n.admin(&["-B", "n5"]).2, 1);
}

fn node_state(id: &str, name: &str, online: bool, rsc: &str) -> String {
    let ccm = if online {
        r#"in_ccm="true" crmd="online" join="member""#
    } else {
        r#"in_ccm="false" crmd="offline" join="down""#
    };
    format!(
        r#"<node_state id="{id}" uname="{name}" {ccm} expected="member"><lrm id="{id}"><lrm_resources><lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_start_0" operation="start" crm-debug-origin="t" crm_feature_set="3.16.2" transition-key="1:1:0:t" transition-magic="0:0;1:1:0:t" exit-reason="" on_node="{name}" call-id="3" rc-code="0" op-status="0" interval="0" last-rc-change="1" exec-time="1" queue-time="0"/></lrm_resource></lrm_resources></lrm></node_state>"#
    )
}

/// crmd's path: `stonithd::client::fence` carries no delay, so stonithd
/// applies priority-fencing-delay from its CIB: n2 (gone from our view)
/// ran the priority-10 resource, so its fencing waits 2 s; n3 (not a
/// member) and stonith_admin's requests (explicit delay 0) do not wait.
#[test]
fn priority_fencing_delay_applies_to_the_dcs_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let n = Node::new(tmp.path(), 1);
    let agents = agent_dir(tmp.path());
    let log = tmp.path().join("calls.log");
    let _cib = n.start("cib", &["-s"], "cib.sock");
    n.ok("cibadmin", &["-C", "-o", "crm_config", "-X", r#"<cluster_property_set id="opts"><nvpair id="opts-pfd" name="priority-fencing-delay" value="2s"/></cluster_property_set>"#]);
    n.ok(
        "cibadmin",
        &["-C", "-o", "nodes", "-X", r#"<node id="1" uname="n1"/>"#],
    );
    n.ok(
        "cibadmin",
        &["-C", "-o", "nodes", "-X", r#"<node id="2" uname="n2"/>"#],
    );
    for (id, prio) in [("big", "10"), ("small", "1")] {
        let p = format!(
            r#"<primitive id="{id}" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="{id}-m"><nvpair id="{id}-p" name="priority" value="{prio}"/></meta_attributes></primitive>"#
        );
        n.ok("cibadmin", &["-C", "-o", "resources", "-X", &p]);
    }
    n.ok(
        "cibadmin",
        &[
            "-C",
            "-o",
            "resources",
            "-X",
            &fence_rec("f1", &log, &[("pcmk_host_list", "n2 n3")]),
        ],
    );
    n.ok(
        "cibadmin",
        &[
            "-C",
            "-o",
            "status",
            "-X",
            &node_state("1", "n1", true, "small"),
        ],
    );
    n.ok(
        "cibadmin",
        &[
            "-C",
            "-o",
            "status",
            "-X",
            &node_state("2", "n2", false, "big"),
        ],
    );
    let _sd = n.start(
        "stonithd",
        &["-s", "--stonith-dir", agents.to_str().unwrap()],
        "stonithd.sock",
    );
    wait_for(
        Duration::from_secs(15),
        || n.admin(&["-L"]).0 == "f1\n1 fence device found\n",
        "f1 in -L",
    );

    let sock = n.dir.join("run/stonithd.sock");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = Instant::now();
    let o = rt
        .block_on(stonithd::client::fence(
            &sock,
            "n2",
            "reboot",
            Duration::from_secs(20),
        ))
        .unwrap();
    let took = t.elapsed();
    assert!(o.succeeded() && o.delegate() == Some("n1"), "{o:?}");
    assert!(o.event.client.starts_with("crmd."), "{o:?}");
    assert!(
        took >= Duration::from_secs(2),
        "priority delay not applied: {took:?}\n{}",
        n.log("stonithd")
    );
    // n3 is not a member: no priority delay.
    let t = Instant::now();
    assert!(rt
        .block_on(stonithd::client::fence(
            &sock,
            "n3",
            "off",
            Duration::from_secs(20)
        ))
        .unwrap()
        .succeeded());
    assert!(
        t.elapsed() < Duration::from_millis(1800),
        "{:?}",
        t.elapsed()
    );
    // stonith_admin's explicit --delay 0 replaces the priority delay.
    let t = Instant::now();
    assert_eq!(n.admin(&["-B", "n2"]).2, 0);
    assert!(
        t.elapsed() < Duration::from_millis(1800),
        "{:?}",
        t.elapsed()
    );
    // The async history, newest first.
    let h = rt
        .block_on(stonithd::client::history(&sock, Some("n2")))
        .unwrap();
    assert_eq!(h.len(), 2);
    assert!(
        h[0].client.starts_with("stonith_admin.") && h[1].client.starts_with("crmd."),
        "{h:?}"
    );
    // A failing fencing is an outcome, not an error.
    let o = rt
        .block_on(stonithd::client::fence(
            &sock,
            "n9",
            "reboot",
            Duration::from_secs(5),
        ))
        .unwrap();
    assert!(
        !o.succeeded() && o.status() == stonithd::protocol::FenceStatus::NoDevice,
        "{o:?}"
    );
}
