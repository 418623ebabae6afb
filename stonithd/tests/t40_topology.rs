//! Fencing topology on one node: a real stand-alone `cib -s` and
//! `stonithd -s`, the real stonith_admin, recording fence agents (one log
//! per device, so the order of the runs is read from their stamps):
//! - levels are tried in index order; a level fails at its first failed
//!   device and the next level is tried; the first level whose devices all
//!   succeed ends the operation, later levels never run;
//! - a reboot through a level of two devices is off, off, on, on;
//! - targets by name, by pattern (POSIX extended, unanchored) and by a node
//!   attribute of the CIB's nodes section;
//! - every level failing fails the operation with the last reason;
//! - a target without levels is fenced as before (first capable device);
//! - one history record per operation, not per device run;
//! - a node unfences itself (`on`) but never fences itself.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{agent_dir, calls, fence_rec, wait_for, Node};

/// (device, action, port, stamp) of every run, in time order.
fn runs(dir: &Path, devices: &[&str]) -> Vec<(String, String, String, u128)> {
    let mut all = Vec::new();
    for d in devices {
        for line in calls(&dir.join(format!("{d}.log"))) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let port = f[2].trim_start_matches("port=").to_string();
            all.push((d.to_string(), f[1].to_string(), port, f[4].parse().unwrap()));
        }
    }
    all.sort_by_key(|r| r.3);
    all
}

/// The runs against `port` as `device action` words, fence actions only.
fn fenced(dir: &Path, devices: &[&str], port: &str) -> Vec<String> {
    runs(dir, devices)
        .into_iter()
        .filter(|r| r.2 == port && matches!(r.1.as_str(), "off" | "on" | "reboot"))
        .map(|r| format!("{} {}", r.0, r.1))
        .collect()
}

#[test]
fn levels_in_order_all_devices_of_a_level_and_targets_by_name_pattern_attribute() {
    let tmp = tempfile::tempdir().unwrap();
    let n = Node::new(tmp.path(), 1);
    let agents = agent_dir(tmp.path());
    let logs = tmp.path();
    let _cib = n.start("cib", &["-s"], "cib.sock");
    n.ok(
        "cibadmin",
        &[
            "-C",
            "-o",
            "nodes",
            "-X",
            r#"<node id="1" uname="n1"/>"#,
        ],
    );
    n.ok(
        "cibadmin",
        &[
            "-C",
            "-o",
            "nodes",
            "-X",
            r#"<node id="7" uname="db7"><instance_attributes id="db7-a"><nvpair id="db7-rack" name="rack" value="r1"/></instance_attributes></node>"#,
        ],
    );
    let hosts = "n1 n2 n3 n4 n5 db7 web9";
    let devices = ["ipmi", "pdu_a", "pdu_b", "rackpdu", "plain"];
    for (id, fail) in [("ipmi", true), ("pdu_a", false), ("pdu_b", false), ("rackpdu", false), ("plain", false)] {
        let mut params = vec![("pcmk_host_list", hosts)];
        if fail {
            params.push(("fail", "1"));
        }
        let log = logs.join(format!("{id}.log"));
        n.ok("cibadmin", &["-C", "-o", "resources", "-X", &fence_rec(id, &log, &params)]);
    }
    // n2: the failing ipmi first, then both PDUs. n3 to n5 by pattern; n4
    // has a level 1 of its own (pdu_b alone) that succeeds. db7 by its
    // rack attribute. web9: no level.
    let topology = r#"<fencing-topology>
        <fencing-level id="fl-n2-1" index="1" target="n2" devices="ipmi"/>
        <fencing-level id="fl-n2-2" index="2" target="n2" devices="pdu_a,pdu_b"/>
        <fencing-level id="fl-pat-2" index="2" target-pattern="n[3-5]$" devices="ipmi,pdu_a"/>
        <fencing-level id="fl-n4-1" index="1" target="n4" devices="pdu_b"/>
        <fencing-level id="fl-rack-1" index="1" target-attribute="rack" target-value="r1" devices="rackpdu"/>
        <fencing-level id="fl-n5-3" index="3" target="n5" devices="pdu_b"/>
      </fencing-topology>"#;
    n.ok("cibadmin", &["-C", "-o", "configuration", "-X", topology]);
    let _sd = n.start("stonithd", &["-s", "--stonith-dir", agents.to_str().unwrap()], "stonithd.sock");
    wait_for(
        Duration::from_secs(15),
        || n.admin(&["-L"]).0.ends_with("5 fence devices found\n"),
        "the CIB's devices",
    );
    // The topology arrives with the same CIB; give the watch a moment.
    std::thread::sleep(Duration::from_millis(300));

    // n2: level 1 (ipmi) fails, level 2 reboots through both PDUs: all
    // off, then all on.
    let (out, err, code) = n.admin(&["-B", "n2"]);
    assert_eq!((out.as_str(), err.as_str(), code), ("", "", 0), "{}", n.log("stonithd"));
    assert_eq!(
        fenced(logs, &devices, "n2"),
        ["ipmi reboot", "pdu_a off", "pdu_b off", "pdu_a on", "pdu_b on"]
    );
    let h = n.admin(&["-H", "n2"]).0;
    assert!(h.starts_with("reboot of n2 successful: delegate=n1, ") && h.ends_with("\n1 event found\n"), "{h}");
    assert!(n.log("stonithd").contains("trying fencing level 2 (pdu_a,pdu_b) for 'reboot' targeting n2"));

    // n3 by pattern: its only level fails at ipmi; pdu_a never runs; the
    // operation fails with ipmi's reason.
    let (_, err, code) = n.admin(&["-F", "n3"]);
    assert_eq!(code, 1);
    assert!(err.contains("ipmi: power switch refused off of n3"), "{err}");
    assert_eq!(fenced(logs, &devices, "n3"), ["ipmi off"]);
    let h = n.admin(&["-H", "n3", "-V"]).0;
    assert!(h.starts_with("turning off of n3 failed (ipmi: power switch refused off of n3)"), "{h}");
    assert!(h.ends_with("\n1 event found\n"), "{h}");

    // n4: its own level 1 succeeds; the pattern's level 2 never runs.
    assert_eq!(n.admin(&["-F", "n4"]).2, 0);
    assert_eq!(fenced(logs, &devices, "n4"), ["pdu_b off"]);

    // n5: level 2 (pattern) fails, level 3 (by name) succeeds.
    assert_eq!(n.admin(&["-F", "n5"]).2, 0);
    assert_eq!(fenced(logs, &devices, "n5"), ["ipmi off", "pdu_b off"]);

    // db7 by its node attribute.
    assert_eq!(n.admin(&["-F", "db7"]).2, 0);
    assert_eq!(fenced(logs, &devices, "db7"), ["rackpdu off"]);

    // web9 has no level: the first capable device (ipmi) fails, then the
    // next one (pdu_a) succeeds, as without a topology.
    assert_eq!(n.admin(&["-F", "web9"]).2, 0);
    assert_eq!(fenced(logs, &devices, "web9"), ["ipmi off", "pdu_a off"]);

    // Unfencing (on) through the topology: one device per level, so on.
    assert_eq!(n.admin(&["-U", "n4"]).2, 0);
    assert_eq!(fenced(logs, &devices, "n4"), ["pdu_b off", "pdu_b on"]);
    let h = n.admin(&["-H", "n4"]).0;
    assert!(h.starts_with("unfencing of n4 successful: delegate=n1, "), "{h}");

    // A node unfences itself (no level for n1: first capable device that
    // succeeds), but never fences itself.
    assert_eq!(n.admin(&["-U", "n1"]).2, 0, "{}", n.log("stonithd"));
    assert_eq!(fenced(logs, &devices, "n1"), ["ipmi on", "pdu_a on"]);
    let (_, err, code) = n.admin(&["-F", "n1"]);
    assert_eq!(code, 1);
    assert!(err.contains("never fences itself"), "{err}");
    assert_eq!(fenced(logs, &devices, "n1"), ["ipmi on", "pdu_a on"]);
}
