//! hb_standby / hb_takeover (tools::hb_switch) on a two-node cluster CIB
//! in haresources2cib's shape (one group at home on node1, one web server
//! at home on node2, both running at home): each request's CIB edit, its
//! messages, and what the policy engine then does with the CIB, checked
//! with our crm_simulate and with Pacemaker 2.1.5's (the CIB is Pacemaker
//! syntax, so both read it). Also live against a stand-alone cib daemon,
//! and the scripts' argument errors.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

const CIB: &str = r##"<cib crm_feature_set="3.0.14" validate-with="pacemaker-3.0" epoch="5" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="node1">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="o1" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <rsc_defaults>
      <meta_attributes id="rsc-options">
        <nvpair id="rsc-options-stickiness" name="resource-stickiness" value="INFINITY"/>
      </meta_attributes>
    </rsc_defaults>
    <nodes>
      <node id="node1" uname="node1"/>
      <node id="node2" uname="node2"/>
    </nodes>
    <resources>
      <group id="group_1">
        <primitive id="IPaddr_192_168_0_150" class="ocf" provider="heartbeat" type="IPaddr"/>
        <primitive id="nginx_2" class="ocf" provider="heartbeat" type="Dummy"/>
      </group>
      <primitive id="httpd_3" class="ocf" provider="heartbeat" type="Dummy"/>
    </resources>
    <constraints>
      <rsc_location id="rsc_location_group_1" rsc="group_1">
        <rule id="prefered_location_group_1" score="100">
          <expression attribute="#uname" id="prefered_location_group_1_expr" operation="eq" value="node1"/>
        </rule>
      </rsc_location>
      <rsc_location id="rsc_location_httpd_3" rsc="httpd_3">
        <rule id="prefered_location_httpd_3" score="100">
          <expression attribute="#uname" id="prefered_location_httpd_3_expr" operation="eq" value="node2"/>
        </rule>
      </rsc_location>
    </constraints>
  </configuration>
  <status>
    <node_state id="node1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="node1"><lrm_resources>
        <lrm_resource id="IPaddr_192_168_0_150" class="ocf" provider="heartbeat" type="IPaddr">
          <lrm_rsc_op id="IPaddr_192_168_0_150_last_0" operation_key="IPaddr_192_168_0_150_start_0" operation="start" transition-key="1:1:0:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" transition-magic="0:0;1:1:0:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" call-id="2" rc-code="0" op-status="0" interval="0" crm_feature_set="3.0.14" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
        </lrm_resource>
        <lrm_resource id="nginx_2" class="ocf" provider="heartbeat" type="Dummy">
          <lrm_rsc_op id="nginx_2_last_0" operation_key="nginx_2_start_0" operation="start" transition-key="2:1:0:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" transition-magic="0:0;2:1:0:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" call-id="3" rc-code="0" op-status="0" interval="0" crm_feature_set="3.0.14" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
        </lrm_resource>
        <lrm_resource id="httpd_3" class="ocf" provider="heartbeat" type="Dummy">
          <lrm_rsc_op id="httpd_3_last_0" operation_key="httpd_3_monitor_0" operation="monitor" transition-key="3:1:7:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" transition-magic="0:7;3:1:7:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" call-id="1" rc-code="7" op-status="0" interval="0" crm_feature_set="3.0.14" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
    <node_state id="node2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="node2"><lrm_resources>
        <lrm_resource id="httpd_3" class="ocf" provider="heartbeat" type="Dummy">
          <lrm_rsc_op id="httpd_3_last_0" operation_key="httpd_3_start_0" operation="start" transition-key="4:1:0:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" transition-magic="0:0;4:1:0:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" call-id="2" rc-code="0" op-status="0" interval="0" crm_feature_set="3.0.14" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
        </lrm_resource>
        <lrm_resource id="IPaddr_192_168_0_150" class="ocf" provider="heartbeat" type="IPaddr">
          <lrm_rsc_op id="IPaddr_192_168_0_150_last_0" operation_key="IPaddr_192_168_0_150_monitor_0" operation="monitor" transition-key="5:1:7:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" transition-magic="0:7;5:1:7:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" call-id="1" rc-code="7" op-status="0" interval="0" crm_feature_set="3.0.14" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
        </lrm_resource>
        <lrm_resource id="nginx_2" class="ocf" provider="heartbeat" type="Dummy">
          <lrm_rsc_op id="nginx_2_last_0" operation_key="nginx_2_monitor_0" operation="monitor" transition-key="6:1:7:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" transition-magic="0:7;6:1:7:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" call-id="1" rc-code="7" op-status="0" interval="0" crm_feature_set="3.0.14" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
  </status>
</cib>
"##;

fn bin(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "cibd", "--bin", "cib", "-p", "tools", "--bin", "cibadmin", "--bin", "crm_simulate"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(st.success(), "cargo build failed: {st}");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_hb_standby")).parent().unwrap().join(name)
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Runs a tool offline on `cib` as node `node`.
fn offline(tool: &str, cib: &Path, node: &str, args: &[&str]) -> Output {
    Command::new(bin(tool)).args(args).env("CIB_file", cib).env("HA_NODENAME", node).env_remove("CIB_shadow").output().unwrap()
}

/// The Transition Summary lines of a crm_simulate run on `cib`.
fn summary(simulate: &Path, cib: &Path) -> Vec<String> {
    let o = Command::new(simulate).args(["-S", "-x"]).arg(cib).env("TZ", "UTC").output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut lines = Vec::new();
    let mut inside = false;
    for l in text.lines() {
        if l.starts_with("Transition Summary:") {
            inside = true;
        } else if inside && (l.is_empty() || !l.starts_with("  *")) {
            break;
        } else if inside {
            lines.push(l.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    lines
}

/// Both engines, ours and Pacemaker 2.1.5's, must plan the same moves.
fn plan(cib: &Path) -> Vec<String> {
    let ours = summary(&bin("crm_simulate"), cib);
    let theirs = summary(Path::new("/usr/sbin/crm_simulate"), cib);
    assert_eq!(ours, theirs, "our policy engine and Pacemaker's disagree on {}", std::fs::read_to_string(cib).unwrap());
    ours
}

#[test]
fn standby_and_takeover_move_resources_as_heartbeat_did() {
    assert!(Path::new("/usr/sbin/crm_simulate").exists(), "Pacemaker's crm_simulate is missing (pacemaker-cli-utils)");
    let tmp = tempfile::tempdir().unwrap();
    let cib = tmp.path().join("cib.xml");
    std::fs::write(&cib, CIB).unwrap();
    assert_eq!(plan(&cib), Vec::<String>::new(), "everything runs at home");

    // node1 goes standby: its group moves to node2.
    let o = offline("hb_standby", &cib, "node1", &[]);
    assert_eq!((code(&o), String::from_utf8_lossy(&o.stderr).as_ref()), (0, "Going standby [all].\n"));
    assert!(o.stdout.is_empty());
    let p = plan(&cib);
    assert!(p.iter().any(|l| l.contains("Move IPaddr_192_168_0_150 ( node1 -> node2 )")), "{p:?}");
    assert!(p.iter().any(|l| l.contains("Move nginx_2 ( node1 -> node2 )")), "{p:?}");

    // node1 takes everything over: standby ends, all resources come here.
    let o = offline("hb_takeover", &cib, "node1", &[]);
    assert_eq!((code(&o), o.stdout.len(), o.stderr.len()), (0, 0, 0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&cib).unwrap();
    assert!(!text.contains(r#"name="standby""#), "{text}");
    let p = plan(&cib);
    assert_eq!(p, vec!["* Move httpd_3 ( node2 -> node1 )".to_string()]);
    // INFINITY stickiness is overcome by a time-limited ban on node2.
    let text = std::fs::read_to_string(&cib).unwrap();
    assert!(text.contains(r#"id="cli-ban-httpd_3-on-node2-lifetime""#), "{text}");

    // node1 gives back what is at home elsewhere (failback = foreign).
    let o = offline("hb_standby", &cib, "node1", &["failback"]);
    assert_eq!(String::from_utf8_lossy(&o.stderr), "Going standby [foreign].\n");
    let text = std::fs::read_to_string(&cib).unwrap();
    assert!(text.contains("cli-ban-httpd_3-on-node1") && !text.contains(r#"id="cli-prefer-httpd_3""#), "{text}");
    assert!(text.contains(r#"id="cli-prefer-group_1""#), "its own group stays preferred here");
    assert_eq!(plan(&cib), Vec::<String>::new(), "httpd_3 is already home on node2");

    // node2 takes back its own (takeover failback = local): clears nothing
    // of node1's, prefers httpd_3 on node2.
    let o = offline("hb_takeover", &cib, "node2", &["local"]);
    assert_eq!(code(&o), 0);
    // node1 gives up its local resources: the group leaves.
    let o = offline("hb_standby", &cib, "node1", &["local"]);
    assert_eq!(String::from_utf8_lossy(&o.stderr), "Going standby [local].\n");
    let p = plan(&cib);
    assert!(p.iter().any(|l| l.contains("Move nginx_2 ( node1 -> node2 )")), "{p:?}");

    // The pinning constraints are crm_resource's: -U clears them.
    let text = std::fs::read_to_string(&cib).unwrap();
    for id in ["cli-ban-group_1-on-node1", "cli-ban-httpd_3-on-node1", "cli-prefer-httpd_3"] {
        assert!(text.contains(&format!(r#"id="{id}""#)), "{id} missing: {text}");
    }
}

#[test]
fn errors_as_the_scripts_give_them() {
    let tmp = tempfile::tempdir().unwrap();
    let cib = tmp.path().join("cib.xml");
    std::fs::write(&cib, CIB).unwrap();
    let o = offline("hb_standby", &cib, "node1", &["everything"]);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stdout).ends_with(": wrong resources(everything).\nusage:\n"));
    assert!(String::from_utf8_lossy(&o.stderr).ends_with(" [all|foreign|local|failback]\n"));
    let o = offline("hb_takeover", &cib, "node1", &["all", "local"]);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stdout).ends_with(": too many arguments\nusage:\n"));
    // A node the CIB does not know: nothing changes.
    let o = offline("hb_standby", &cib, "node9", &[]);
    assert_eq!(code(&o), 105);
    assert_eq!(String::from_utf8_lossy(&o.stderr), "Going standby [all].\nhb_standby: node 'node9' is not in the cluster configuration\n");
    assert_eq!(std::fs::read_to_string(&cib).unwrap(), CIB);
}

/// Kills the daemon on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn live_through_the_cib_daemon() {
    let tmp = tempfile::tempdir().unwrap();
    for d in ["conf", "var", "run"] {
        std::fs::create_dir_all(tmp.path().join(d)).unwrap();
    }
    let env = |c: &mut Command| {
        c.env_remove("CIB_file")
            .env_remove("CIB_shadow")
            .env("HA_NODENAME", "node1")
            .env("HA_CONFDIR", tmp.path().join("conf"))
            .env("HA_VARLIB", tmp.path().join("var"))
            .env("HA_RUNDIR", tmp.path().join("run"))
            .env("HA_BINDADDR", "127.0.0.1");
    };
    let run = |tool: &str, args: &[&str]| {
        let mut c = Command::new(bin(tool));
        env(&mut c);
        c.args(args).output().unwrap()
    };
    // No daemon: Pacemaker's not-connected answer.
    let o = run("hb_standby", &[]);
    assert_eq!(code(&o), 102);
    assert!(String::from_utf8_lossy(&o.stderr).contains("hb_standby: Could not connect to the CIB: Transport endpoint is not connected"));

    let mut c = Command::new(bin("cib"));
    env(&mut c);
    let _daemon = Proc(c.arg("-s").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(15);
    while !tmp.path().join("run/cib.sock").exists() {
        assert!(Instant::now() < deadline, "the cib daemon's socket did not appear");
        std::thread::sleep(Duration::from_millis(50));
    }
    let file = tmp.path().join("input.xml");
    std::fs::write(&file, CIB).unwrap();
    let o = run("cibadmin", &["-R", "-x", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));

    let o = run("hb_standby", &["all"]);
    assert_eq!((code(&o), String::from_utf8_lossy(&o.stderr).as_ref()), (0, "Going standby [all].\n"));
    let q = String::from_utf8(run("cibadmin", &["-Q", "-o", "nodes"]).stdout).unwrap();
    assert!(q.contains(r#"name="standby" value="on""#), "{q}");
    let o = run("hb_takeover", &["foreign"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let q = String::from_utf8(run("cibadmin", &["-Q"]).stdout).unwrap();
    assert!(!q.contains(r#"name="standby""#) && q.contains(r#"id="cli-prefer-httpd_3""#) && !q.contains(r#"id="cli-prefer-group_1""#), "{q}");
    assert!(q.contains(r#"update-client="hb_takeover""#), "the change is recorded as hb_takeover's: {q}");
}
