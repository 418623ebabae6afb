//! Records carry the digests Pacemaker 2.1.5 would compute: lrmd runs
//! Debian's ocf:heartbeat:Dummy with parameters, and the `op-digest` of its
//! records equals what the real `crm_resource --digests` computes from a
//! CIB configuring the same resource; the restart list follows the agent's
//! meta-data as Pacemaker's controller writes it.

mod common;

use std::process::Command;

use common::*;
use lrmd::op::{rc, OpRequest};

/// Pacemaker's "all parameters" digest for `d` on n1 at this interval.
fn pacemaker_digest(state: &str, interval_ms: u64) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cib = dir.path().join("cib.xml");
    std::fs::write(
        &cib,
        format!(
            r#"<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">
  <configuration><crm_config/><nodes><node id="1" uname="n1"/></nodes>
    <resources><primitive id="d" class="ocf" provider="heartbeat" type="Dummy">
      <instance_attributes id="d-ia"><nvpair id="d-s" name="state" value="{state}"/><nvpair id="d-f" name="fake" value="x y"/></instance_attributes>
    </primitive></resources><constraints/>
    <op_defaults><meta_attributes id="od"><nvpair id="od-t" name="timeout" value="20s"/></meta_attributes></op_defaults>
  </configuration><status/></cib>"#
        ),
    )
    .unwrap();
    let out = Command::new("/usr/sbin/crm_resource")
        .env("CIB_file", &cib)
        .args(["--digests", "-r", "d", "-N", "n1"])
        .arg(format!("CRM_meta_interval={interval_ms}"))
        .output()
        .expect("Pacemaker's crm_resource is installed (pacemaker-cli-utils)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines()
        .find(|l| l.ends_with("(all parameters)"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("crm_resource --digests gave {text}"))
        .to_string()
}

#[test]
fn dummy_records_carry_pacemakers_digests() {
    let d = Lrmd::start();
    let mut c = d.client();
    let state = d.rsctmp().join("digest-test.state");
    let state = state.to_str().unwrap();
    let mut spec = ocf("d", "heartbeat", "Dummy");
    spec.params.insert("state".into(), state.into());
    spec.params.insert("fake".into(), "x y".into());
    c.register(spec).unwrap();

    let start = op(&mut c, "d", "start", 0, 20_000);
    assert_eq!(start.rc, rc::OK, "{start:?}");
    assert_eq!(start.digests.op_digest.as_deref(), Some(pacemaker_digest(state, 0).as_str()));
    // Debian's Dummy advertises only the legacy reload: unique="1"
    // parameters must restart (the controller's list format).
    assert_eq!(start.digests.op_force_restart.as_deref(), Some("  state  "));
    assert!(start.digests.op_restart_digest.is_some());
    assert_eq!(start.digests.op_secure_params.as_deref(), Some(" "));
    assert_eq!(start.digests.op_secure_digest, None);

    let mon = c
        .exec_wait(OpRequest::new("d", "monitor", 10_000, 20_000), std::time::Duration::from_secs(30))
        .unwrap();
    assert_eq!(mon.rc, rc::OK, "{mon:?}");
    assert_eq!(mon.digests.op_digest.as_deref(), Some(pacemaker_digest(state, 10_000).as_str()));
    assert_eq!(mon.digests.op_force_restart, None, "recurring operations carry no restart list");

    let stop = op(&mut c, "d", "stop", 0, 20_000);
    let attrs: Vec<&str> = stop.cib_attrs().iter().map(|(k, _)| *k).collect::<Vec<_>>().leak().to_vec();
    assert!(attrs.contains(&"op-digest") && !attrs.contains(&"op-force-restart"), "{attrs:?}");
    let el = start.to_element("d_last_0");
    assert_eq!(el.attr("op-force-restart"), Some("  state  "));
}
