//! Seed 002's scoring walk-through, step by step, on the CIB of
//! examples/cib.xml (Heartbeat 2.x syntax: a group `group_mysql` with
//! `resource_stickiness` 100 and `resource_failure_stickiness` -100,
//! node scores 200 on mysql1 and 150 on mysql2 from `#uname` rules).
//!
//! Each step adds a Heartbeat 2.x status section (node states, operation
//! history, `fail-count-mysql_db` transient attributes) and checks where
//! the scheduler puts the group and the score it gives each node:
//!
//! ```text
//!   node score + stickiness (where it runs) + fail count x failure stickiness
//! ```

use cib::model::Cib;
use cib::Document;
use pengine::Schedule;

const UUID: &str = "4f8a2d6e-1c3b-4a5d-9e7f-0123456789ab";
const IP: &str = "IPaddr_192_168_0_150";

fn example_cib() -> String {
    // The file itself, compiled in (the crate's purity rules forbid file
    // reads, tests included).
    include_str!("../../examples/cib.xml").to_string()
}

fn node_uuid(name: &str) -> &'static str {
    match name {
        "mysql1" => "f8a8e6ae-9a3f-4c0e-bb1d-2a8b3f1c0001",
        _ => "f8a8e6ae-9a3f-4c0e-bb1d-2a8b3f1c0002",
    }
}

/// One `lrm_rsc_op` in Heartbeat 2.x spelling.
fn op(rsc: &str, task: &str, interval: u32, call: u32, rc: u32) -> String {
    let target = if task == "monitor" && interval == 0 { 7 } else { 0 };
    format!(
        r#"<lrm_rsc_op id="{rsc}_{task}_{interval}" operation="{task}" call_id="{call}" rc_code="{rc}" op_status="{status}" interval="{interval}" crm_feature_set="2.0" transition_key="{call}:1:{target}:{UUID}" transition_magic="0:{rc};{call}:1:{target}:{UUID}"/>"#,
        status = if rc == target { 0 } else { 4 },
    )
}

/// A node's status: where the group runs (`running`), how often
/// mysql_db failed there (`failures`: its last monitor failed, fail count
/// set), and probes showing it stopped otherwise.
fn node_state(name: &str, running: bool, failures: u32) -> String {
    let uuid = node_uuid(name);
    let (ip_ops, db_ops) = if running {
        let mut db = format!("{}{}", op("mysql_db", "start", 0, 4, 0), op("mysql_db", "monitor", 60000, 5, 0));
        if failures > 0 {
            // The monitor found it dead: rc 7 where 0 was expected.
            db = format!("{}{}", op("mysql_db", "start", 0, 4, 0), op("mysql_db", "monitor", 60000, 6, 7));
        }
        (format!("{}{}", op(IP, "start", 0, 2, 0), op(IP, "monitor", 5000, 3, 0)), db)
    } else {
        (op(IP, "monitor", 0, 2, 7), op("mysql_db", "monitor", 0, 3, 7))
    };
    let attrs = if failures > 0 {
        format!(
            r#"<transient_attributes id="{uuid}"><instance_attributes id="status-{uuid}"><attributes>
                 <nvpair id="status-{uuid}-fc" name="fail-count-mysql_db" value="{failures}"/>
               </attributes></instance_attributes></transient_attributes>"#
        )
    } else {
        String::new()
    };
    format!(
        r#"<node_state id="{uuid}" uname="{name}" ha="active" in_ccm="true" crmd="online" join="member" expected="member">{attrs}
             <lrm id="{uuid}"><lrm_resources>
               <lrm_resource id="{IP}" type="IPaddr" class="ocf" provider="heartbeat">{ip_ops}</lrm_resource>
               <lrm_resource id="mysql_db" type="mysql" class="lsb" provider="heartbeat">{db_ops}</lrm_resource>
             </lrm_resources></lrm></node_state>"#
    )
}

/// Schedules the example CIB with a status section.
fn run(status: &str) -> Schedule {
    let xml = example_cib().replace("<status/>", &format!("<status>{status}</status>"));
    let doc = Document::parse(&xml).expect("well-formed");
    let cib = Cib::from_document(&doc).expect("a CIB");
    pengine::schedule(&cib, pengine::unpack(&cib, 0))
}

/// Where the group's members go, and the first member's score per node
/// (the score that decides for the whole group).
fn placement(s: &Schedule) -> (Option<String>, i32, i32) {
    let ip = s.ws.find_resource(IP).unwrap();
    let db = s.ws.find_resource("mysql_db").unwrap();
    let node = s.allocated_to[ip.0].map(|n| s.ws.node(n).uname.clone());
    assert_eq!(s.allocated_to[db.0], s.allocated_to[ip.0], "the group stays together");
    let score = |n: &str| {
        s.scores
            .iter()
            .find(|l| l.function == "pcmk__primitive_assign" && l.rsc == IP && l.node == n)
            .unwrap_or_else(|| panic!("no score for {IP} on {n}"))
            .score
            .value()
    };
    (node, score("mysql1"), score("mysql2"))
}

#[test]
fn a_start_goes_to_the_higher_node_score() {
    let s = run(&format!("{}{}", node_state("mysql1", false, 0), node_state("mysql2", false, 0)));
    assert_eq!(placement(&s), (Some("mysql1".into()), 200, 150));
    let lines = s.summary_lines().join("\n");
    assert!(lines.contains("Start      IPaddr_192_168_0_150") && lines.contains("( mysql1 )"), "{lines}");
}

#[test]
fn running_adds_stickiness_once_for_the_group() {
    let s = run(&format!("{}{}", node_state("mysql1", true, 0), node_state("mysql2", false, 0)));
    assert_eq!(placement(&s), (Some("mysql1".into()), 300, 150));
    assert!(s.summary_lines().is_empty(), "nothing to do: {:?}", s.summary_lines());
}

#[test]
fn one_failure_stays() {
    let s = run(&format!("{}{}", node_state("mysql1", true, 1), node_state("mysql2", false, 0)));
    assert_eq!(placement(&s), (Some("mysql1".into()), 200, 150));
    let lines = s.summary_lines().join("\n");
    assert!(lines.contains("Recover    mysql_db") && lines.contains("( mysql1 )"), "restarted in place: {lines}");
}

#[test]
fn two_failures_move_it() {
    let s = run(&format!("{}{}", node_state("mysql1", true, 2), node_state("mysql2", false, 0)));
    assert_eq!(placement(&s), (Some("mysql2".into()), 100, 150));
    let lines = s.summary_lines().join("\n");
    assert!(lines.contains("mysql1 -> mysql2"), "{lines}");
}

#[test]
fn on_mysql2_the_scores_are_0_and_250() {
    // mysql1 keeps its 2 failures; the group runs on mysql2.
    let s = run(&format!("{}{}", node_state_failed_elsewhere("mysql1", 2), node_state("mysql2", true, 0)));
    assert_eq!(placement(&s), (Some("mysql2".into()), 0, 250));
}

#[test]
fn three_failures_on_mysql2_move_it_back() {
    let s = run(&format!("{}{}", node_state_failed_elsewhere("mysql1", 2), node_state("mysql2", true, 3)));
    assert_eq!(placement(&s), (Some("mysql1".into()), 0, -50));
    let lines = s.summary_lines().join("\n");
    assert!(lines.contains("mysql2 -> mysql1"), "{lines}");
}

#[test]
fn mysql2_negative_never_gets_it_again() {
    // Back on mysql1: 200 + 100 - 200 = 100 against 150 - 300 = -150.
    let s = run(&format!("{}{}", node_state("mysql1", true, 2), node_state_failed_elsewhere("mysql2", 3)));
    let (node, _, m2) = placement(&s);
    assert_eq!(node.as_deref(), Some("mysql1"));
    assert_eq!(m2, -150);
    for failures in 3..8 {
        let s = run(&format!("{}{}", node_state("mysql1", true, failures), node_state_failed_elsewhere("mysql2", 3)));
        let (node, _, m2) = placement(&s);
        assert_ne!(node.as_deref(), Some("mysql2"), "{failures} failures on mysql1");
        assert_eq!(m2, -150);
    }
}

/// A node the group left: stopped there (its last stop succeeded), with
/// its fail count kept.
fn node_state_failed_elsewhere(name: &str, failures: u32) -> String {
    let uuid = node_uuid(name);
    format!(
        r#"<node_state id="{uuid}" uname="{name}" ha="active" in_ccm="true" crmd="online" join="member" expected="member">
             <transient_attributes id="{uuid}"><instance_attributes id="status-{uuid}"><attributes>
               <nvpair id="status-{uuid}-fc" name="fail-count-mysql_db" value="{failures}"/>
             </attributes></instance_attributes></transient_attributes>
             <lrm id="{uuid}"><lrm_resources>
               <lrm_resource id="{IP}" type="IPaddr" class="ocf" provider="heartbeat">{}{}</lrm_resource>
               <lrm_resource id="mysql_db" type="mysql" class="lsb" provider="heartbeat">{}{}</lrm_resource>
             </lrm_resources></lrm></node_state>"#,
        op(IP, "start", 0, 2, 0),
        op(IP, "stop", 0, 8, 0),
        op("mysql_db", "start", 0, 4, 0),
        op("mysql_db", "stop", 0, 7, 0),
    )
}
