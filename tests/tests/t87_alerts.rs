//! Alerts end to end in the lab (docs/ALERTS.md): two nodes, fencing
//! off, one ocf:heartbeat-rs:Dummy `d1` (monitor 2 s) preferring n1, and
//! three alerts:
//!
//! - `all`: the project's agents/alerts/alert_file, every kind, to
//!   `all.log`;
//! - `rsc`: the same agent with `select_resources`, to `rsc.log`;
//! - `hung`: a script written here that sleeps far past its 2 s timeout
//!   (node events only).
//!
//! Checked: d1's start on n1 reaches both files with its fields; a probe
//! that found d1 stopped reaches none; a failed monitor (state file
//! removed) reaches both with rc 7; killing n2 gives n1's `all.log` a
//! node "lost" line and `rsc.log` no node line at all; the hung agent is
//! killed at its timeout (n1's log says so, its process is gone) and the
//! cluster carries on (d1 recovered, crm_mon answers); n2 started again
//! is a "member" line.

mod t85_support;

use std::path::Path;
use std::time::Duration;

use t85_support::{repo, wait_for, Cluster};

const START: Duration = Duration::from_secs(90);
const SETTLE: Duration = Duration::from_secs(45);

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_string).collect()
}

fn has(path: &Path, words: &[&str]) -> bool {
    lines(path).iter().any(|l| words.iter().all(|w| l.split_whitespace().any(|x| x == *w)))
}

#[test]
fn node_and_resource_events_reach_the_alert_agents() {
    let mut c = Cluster::new("alr", 2, "respawn", "");
    let dir = c.lab.spec.root.clone();
    let (all, rsc) = (dir.join("all.log"), dir.join("rsc.log"));
    let hung_mark = dir.join("hung.pid");
    let hung = dir.join("hung_alert");
    std::fs::write(&hung, format!("#!/bin/sh\necho $$ >> {}\nexec sleep 300\n", hung_mark.display())).unwrap();
    std::fs::set_permissions(&hung, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    c.start("n1");
    std::thread::sleep(Duration::from_secs(2));
    c.start("n2");
    c.wait_online("n1", &["n1", "n2"], START);
    c.cib_create(
        "n1",
        "crm_config",
        r#"<cluster_property_set id="cib-bootstrap-options"><nvpair id="o-st" name="stonith-enabled" value="false"/></cluster_property_set>"#,
    );
    let agent = repo().join("agents/alerts/alert_file");
    c.cib_create(
        "n1",
        "configuration",
        &format!(
            r#"<alerts>
                 <alert id="all" path="{agent}"><recipient id="all-r" value="{all}"/></alert>
                 <alert id="rsc" path="{agent}"><select><select_resources/></select><recipient id="rsc-r" value="{rsc}"/></alert>
                 <alert id="hung" path="{hung}">
                   <meta_attributes id="hung-m"><nvpair id="hung-t" name="timeout" value="2s"/></meta_attributes>
                   <select><select_nodes/></select>
                 </alert>
               </alerts>"#,
            agent = agent.display(),
            all = all.display(),
            rsc = rsc.display(),
            hung = hung.display()
        ),
    );
    c.cib_create(
        "n1",
        "resources",
        &format!(
            r#"<primitive id="d1" class="ocf" provider="heartbeat-rs" type="Dummy">
                 <instance_attributes id="d1-p"><nvpair id="d1-w" name="witness" value="{}"/></instance_attributes>
                 <operations><op id="d1-mon" name="monitor" interval="2s" timeout="20s"/></operations>
               </primitive>"#,
            c.witness.display()
        ),
    );
    c.cib_create("n1", "constraints", r#"<rsc_location id="d1-pref" rsc="d1" node="n1" score="100"/>"#);

    let ctx = |c: &Cluster| format!("all.log:\n{}\nrsc.log:\n{}\n{}", lines(&all).join("\n"), lines(&rsc).join("\n"), c.logs(60));
    // The start, on both files, with the operation's fields.
    let start = ["on=n1", "kind=resource", "node=n1", "rsc=d1", "task=start", "rc=0", "target_rc=0", "desc=\"ok\""];
    wait_for("d1's start alerted", SETTLE, || has(&all, &start) && has(&rsc, &start), || ctx(&c));
    wait_for("the first monitor alerted", SETTLE, || has(&all, &["rsc=d1", "task=monitor", "interval=2000", "rc=0"]), || ctx(&c));
    // Probes that found d1 stopped are routine: not alerted.
    assert!(!has(&all, &["task=monitor", "interval=0", "rc=7"]), "{}", ctx(&c));

    // A failed monitor.
    let state = c.lab.spec.node_dir("n1").join("rsctmp/Dummy-d1.state");
    assert!(state.exists(), "{}", ctx(&c));
    std::fs::remove_file(&state).unwrap();
    let failed = ["on=n1", "rsc=d1", "task=monitor", "interval=2000", "rc=7", "target_rc=0", "desc=\"not", "running\""];
    wait_for("the failed monitor alerted", SETTLE, || has(&all, &failed) && has(&rsc, &failed), || ctx(&c));

    // n2 lost: a node event on n1 for the file that takes every kind, none
    // for the resource-only one; the hung agent runs for it too.
    c.lab.kill("n2").unwrap();
    wait_for("n2's loss alerted on n1", SETTLE, || has(&all, &["on=n1", "kind=node", "node=n2", "desc=\"lost\""]), || ctx(&c));
    assert!(lines(&rsc).iter().all(|l| l.contains("kind=resource")), "{}", ctx(&c));

    // The hung agent: killed at 2 s, logged, the cluster carries on.
    wait_for("the hung agent killed at its timeout", SETTLE, || c.log("n1").contains("Alert agent hung"), || ctx(&c));
    assert!(c.log("n1").contains("timed out after 2000ms"), "{}", c.logs(40));
    for pid in lines(&hung_mark) {
        let alive = Path::new(&format!("/proc/{pid}")).exists()
            && std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default().contains("sleep");
        assert!(!alive, "hung agent {pid} still runs");
    }
    wait_for("d1 running on n1 again", SETTLE, || c.running("d1") == ["n1"] && state.exists(), || ctx(&c));
    assert!(c.crm_mon("n1", &[]).contains("Started n1"), "{}", c.crm_mon("n1", &[]));
    // n2 back: a "member" event on both nodes' side of the file.
    c.start("n2");
    wait_for("n2's return alerted on n1", START, || has(&all, &["on=n1", "kind=node", "node=n2", "desc=\"member\""]), || ctx(&c));
    // Sequence numbers of one node only grow.
    let seqs: Vec<u64> = lines(&all)
        .iter()
        .filter(|l| l.contains("on=n1"))
        .filter_map(|l| l.split_whitespace().nth(1).and_then(|s| s.parse().ok()))
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}
