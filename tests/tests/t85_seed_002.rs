//! Seed 002 live: the scoring walk-through of the seed on a running
//! two-node cluster (the offline version is pengine/tests/seed_002.rs).
//!
//! The configuration is loaded the seed's way (`cibadmin -Q > tmp.xml`,
//! edit, `cibadmin -R -x tmp.xml`) in Heartbeat 2.x syntax
//! (`<attributes>` wrappers, underscore names): a group with
//! `resource_stickiness` 100 and `resource_failure_stickiness` -100, node
//! scores 200 (n1, the seed's mysql1) and 150 (n2, mysql2) from `#uname`
//! rules. The group holds two ocf:heartbeat-rs:Dummy resources (`db_ip`,
//! `mysql_db`, monitor every 2 s, witness log). A monitor failure is
//! injected by removing mysql_db's state file on the node running it.
//!
//! `the_group_moves_as_the_seeds_table_says`:
//! - start: n1 (200 against 150);
//! - 1st failure on n1: 200 + 100 - 100 = 200 > 150: recovered on n1;
//! - 2nd failure: 100 < 150: the group moves to n2;
//! - on n2, failures 1 and 2 (150, 50 against n1's 0) keep it there, the
//!   3rd (-50 < 0) moves it back to n1;
//! - `crm_failcount -G` reports 2 on n1 and 3 on n2 for mysql_db,
//!   `-D` resets them (then 0), and the group stays on n1.
//!
//! No double run throughout (witness log).

mod t85_support;

use std::time::Duration;

use t85_support::{wait_for, Cluster};

const START: Duration = Duration::from_secs(90);
const STEP: Duration = Duration::from_secs(45);

fn configuration(witness: &str) -> (String, String, String) {
    let crm_config = r#"<cluster_property_set id="seed-002-options">
        <attributes>
          <nvpair id="seed-002-stonith" name="stonith_enabled" value="false"/>
        </attributes>
      </cluster_property_set>"#
        .to_string();
    let prim = |id: &str| {
        format!(
            r#"<primitive id="{id}" class="ocf" type="Dummy" provider="heartbeat-rs">
          <operations>
            <op id="{id}_mon" interval="2s" name="monitor" timeout="20s"/>
          </operations>
          <instance_attributes id="{id}_inst_attr">
            <attributes>
              <nvpair id="{id}_attr_witness" name="witness" value="{witness}"/>
            </attributes>
          </instance_attributes>
        </primitive>"#
        )
    };
    let resources = format!(
        r#"<group id="group_mysql">
        <meta_attributes id="group_mysql_meta_attr">
          <attributes>
            <nvpair id="group_mysql_meta_attr_1" name="resource_stickiness" value="100"/>
            <nvpair id="group_mysql_meta_attr_2" name="resource_failure_stickiness" value="-100"/>
          </attributes>
        </meta_attributes>
        {}
        {}
      </group>"#,
        prim("db_ip"),
        prim("mysql_db")
    );
    let constraints = r##"<rsc_location id="rsc_location_group_mysql" rsc="group_mysql">
        <rule id="mysql1_group_mysql" score="200">
          <expression id="mysql1_group_mysql_expr" attribute="#uname" operation="eq" value="n1"/>
        </rule>
        <rule id="mysql2_group_mysql" score="150">
          <expression id="mysql2_group_mysql_expr" attribute="#uname" operation="eq" value="n2"/>
        </rule>
      </rsc_location>"##
        .to_string();
    (crm_config, resources, constraints)
}

/// Puts `inner` into the (possibly empty) section `name` of a CIB text.
fn insert(cib: &str, name: &str, inner: &str) -> String {
    let empty = format!("<{name}/>");
    if cib.contains(&empty) {
        return cib.replacen(&empty, &format!("<{name}>{inner}</{name}>"), 1);
    }
    let open = format!("<{name}>");
    assert!(cib.contains(&open), "no {name} section in\n{cib}");
    cib.replacen(&open, &format!("{open}{inner}"), 1)
}

/// crm_failcount -G's value for mysql_db on `node` (asked on `via`).
fn failcount(c: &Cluster, via: &str, node: &str) -> String {
    let out = c.ok(via, "crm_failcount", &["-G", "-U", node, "-r", "mysql_db"]);
    out.split_whitespace().find_map(|w| w.strip_prefix("value=")).unwrap_or_else(|| panic!("no value in {out:?}")).to_string()
}

struct Walk {
    c: Cluster,
    /// Witness start events of mysql_db seen so far.
    starts: usize,
}

impl Walk {
    fn mysql_starts(&self) -> Vec<String> {
        self.c.witness_events().into_iter().filter(|(_, e, r)| e == "start" && r == "mysql_db").map(|(n, _, _)| n).collect()
    }

    /// The group runs on `node` alone (both members, by the witness log).
    fn on(&self, node: &str) -> bool {
        self.c.running("mysql_db") == [node] && self.c.running("db_ip") == [node]
    }

    /// Removes mysql_db's state file on `node` (its monitor then fails)
    /// and waits until mysql_db was started once more, on `then_on`, and
    /// the whole group runs there.
    fn fail(&mut self, node: &str, then_on: &str) {
        let state = self.c.lab.spec.node_dir(node).join("rsctmp/Dummy-mysql_db.state");
        assert!(state.exists(), "mysql_db is not running on {node} ({} missing)\n{}", state.display(), self.c.logs(40));
        std::fs::remove_file(&state).unwrap();
        let want = self.starts + 1;
        wait_for(
            &format!("mysql_db failed on {node} to start again on {then_on}"),
            STEP,
            || self.mysql_starts().len() >= want && self.on(then_on),
            || format!("{}\n{}", self.c.crm_mon(then_on, &["-f"]), self.c.logs(60)),
        );
        let starts = self.mysql_starts();
        assert_eq!(starts.len(), want, "exactly one restart: {starts:?}\n{}", self.c.logs(60));
        assert_eq!(starts.last().map(String::as_str), Some(then_on));
        self.starts = want;
        // Settled: it stays there (no second move behind the first).
        std::thread::sleep(Duration::from_secs(3));
        assert!(self.on(then_on), "the group left {then_on}\n{}", self.c.logs(60));
    }
}

#[test]
fn the_group_moves_as_the_seeds_table_says() {
    let mut c = Cluster::new("sd", 2, "respawn", "");
    c.start_all();
    c.wait_online("n1", &["n1", "n2"], START);

    // The seed's workflow: query, edit, replace; effective at once.
    let (crm_config, resources, constraints) = configuration(&c.witness.display().to_string());
    let current = c.ok("n1", "cibadmin", &["-Q"]);
    let edited = insert(&insert(&insert(&current, "crm_config", &crm_config), "resources", &resources), "constraints", &constraints);
    // A Heartbeat 2.x cib.xml names no schema (its dialect: docs/VALIDATION.md).
    let edited = edited.replacen(r#" validate-with="pacemaker-3.9""#, "", 1);
    let tmp = c.lab.spec.root.join("tmp.xml");
    std::fs::write(&tmp, edited).unwrap();
    c.ok("n1", "cibadmin", &["-R", "-x", &tmp.display().to_string()]);

    let mut w = Walk { c, starts: 0 };
    // a) start: the higher node score.
    wait_for("the group on n1", START, || w.on("n1"), || format!("{}\n{}", w.c.crm_mon("n1", &[]), w.c.logs(60)));
    w.starts = 1;
    std::thread::sleep(Duration::from_secs(3));
    assert!(w.on("n1") && w.mysql_starts() == ["n1"], "{}", w.c.logs(40));

    // b) one failure: 200 + 100 - 100 = 200 > 150, restarted in place.
    w.fail("n1", "n1");
    assert_eq!(failcount(&w.c, "n2", "n1"), "1");
    // c) a second one: 100 < 150, to n2.
    w.fail("n1", "n2");
    assert_eq!(failcount(&w.c, "n2", "n1"), "2");
    // d) on n2: 150 + 100 - 100 = 150 > 0, then 50 > 0, then -50 < 0.
    w.fail("n2", "n2");
    w.fail("n2", "n2");
    w.fail("n2", "n1");
    assert_eq!(failcount(&w.c, "n1", "n2"), "3");
    assert_eq!(failcount(&w.c, "n1", "n1"), "2");
    assert_eq!(w.mysql_starts(), ["n1", "n1", "n2", "n2", "n2", "n1"], "{}", w.c.logs(40));
    println!("crm_mon -1 -f after the walk:\n{}", w.c.crm_mon("n1", &["-f"]));

    // e) crm_failcount -D resets the counts; the group stays on n1.
    for node in ["n1", "n2"] {
        w.c.ok("n1", "crm_failcount", &["-D", "-U", node, "-r", "mysql_db"]);
    }
    for node in ["n1", "n2"] {
        wait_for(
            &format!("{node}'s fail count reset"),
            Duration::from_secs(20),
            || failcount(&w.c, "n2", node) == "0",
            || w.c.crm_mon("n2", &["-f"]),
        );
    }
    std::thread::sleep(Duration::from_secs(3));
    assert!(w.on("n1"), "{}", w.c.logs(40));
    assert_eq!(w.mysql_starts().len(), 6, "no restart from the reset\n{}", w.c.logs(40));
    w.c.witness_check().unwrap_or_else(|e| panic!("double run: {e}\n{}", w.c.logs(60)));
    w.c.lab.stop("n2").unwrap();
    w.c.lab.stop("n1").unwrap();
    w.c.witness_check().unwrap_or_else(|e| panic!("double run: {e}\n{}", w.c.logs(60)));
}
