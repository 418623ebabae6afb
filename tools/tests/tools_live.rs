//! crm_attribute, crm_standby, crm_failcount and crm_resource in live
//! mode, against one stand-alone cib daemon (`cib -s`): each command runs
//! live and on a `CIB_file` copy of the live CIB taken just before, and
//! both must give the same stdout, stderr and exit code and leave the same
//! CIB (the live one also records who changed it: `cib-last-written`,
//! `update-*`). Also: "not connected" (102) without a daemon, and a
//! concurrent change between query and replace makes the edit run again.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use cib::Element;

/// The tools under test are this package's; the daemon is the cibd
/// package's, built here (a no-op when up to date).
fn bin(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "cibd", "--bin", "cib", "-p", "tools", "--bin", "cibadmin"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(st.success(), "cargo build of cib failed: {st}");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_crm_resource")).parent().unwrap().join(name)
}

/// Kills the daemon on drop, whatever happens in the test.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Node {
    conf: PathBuf,
    var: PathBuf,
    run: PathBuf,
}

const NAME: &str = "n1";

impl Node {
    fn new(root: &Path) -> Node {
        let n = Node { conf: root.join("conf"), var: root.join("var"), run: root.join("run") };
        for d in [&n.conf, &n.var, &n.run] {
            std::fs::create_dir_all(d).unwrap();
        }
        n
    }

    fn command(&self, tool: &str) -> Command {
        let mut c = Command::new(bin(tool));
        c.env_remove("CIB_file")
            .env_remove("CIB_shadow")
            .env("HA_NODENAME", NAME)
            .env("HA_CONFDIR", &self.conf)
            .env("HA_VARLIB", &self.var)
            .env("HA_RUNDIR", &self.run)
            .env("HA_BINDADDR", "127.0.0.1");
        c
    }

    fn socket(&self) -> PathBuf {
        self.run.join("cib.sock")
    }

    fn start_cib(&self) -> Proc {
        let log = std::fs::File::create(self.run.join("cib.log")).unwrap();
        let p = Proc(self.command("cib").arg("-s").stderr(log).stdout(Stdio::null()).spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.socket().exists() {
            assert!(Instant::now() < deadline, "the cib daemon's socket did not appear");
            std::thread::sleep(Duration::from_millis(50));
        }
        p
    }

    fn live(&self, tool: &str, args: &[&str]) -> Output {
        self.command(tool).args(args).output().unwrap()
    }

    fn query(&self) -> String {
        let o = self.live("cibadmin", &["-Q"]);
        assert!(o.status.success(), "cibadmin -Q: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// The CIB without what only the live cluster records, whitespace
/// dropped.
fn comparable(text: &str) -> String {
    let mut root = cib::Document::parse(text).unwrap_or_else(|e| panic!("{e:?}: {text}")).root;
    tools::cibadmin::ops::strip_text(&mut root);
    for a in ["cib-last-written", "update-origin", "update-client", "update-user"] {
        root.remove_attr(a);
    }
    root.to_xml()
}

const CIB: &str = r#"<cib admin_epoch="0" epoch="1" num_updates="0" validate-with="pacemaker-3.0" crm_feature_set="3.0.14">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="o1" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="n1" uname="n1"/>
    </nodes>
    <resources>
      <primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/>
    </resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="n1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
      <transient_attributes id="n1">
        <instance_attributes id="status-n1">
          <nvpair id="status-n1-fail-count-r1.monitor_10000" name="fail-count-r1#monitor_10000" value="3"/>
          <nvpair id="status-n1-last-failure-r1.monitor_10000" name="last-failure-r1#monitor_10000" value="1700000000"/>
        </instance_attributes>
      </transient_attributes>
      <lrm id="n1">
        <lrm_resources>
          <lrm_resource id="r1" class="ocf" provider="heartbeat" type="Dummy">
            <lrm_rsc_op id="r1_last_0" operation_key="r1_start_0" operation="start" crm-debug-origin="do_update_resource" crm_feature_set="3.0.14" transition-key="2:1:0:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" transition-magic="0:0;2:1:0:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" call-id="2" rc-code="0" op-status="0" interval="0" last-rc-change="1700000000" exec-time="10" queue-time="0" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
            <lrm_rsc_op id="r1_last_failure_0" operation_key="r1_monitor_10000" operation="monitor" crm-debug-origin="do_update_resource" crm_feature_set="3.0.14" transition-key="3:1:0:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" transition-magic="0:7;3:1:0:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" call-id="3" rc-code="7" op-status="0" interval="10000" last-rc-change="1700000000" exec-time="10" queue-time="0" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
          </lrm_resource>
        </lrm_resources>
      </lrm>
    </node_state>
  </status>
</cib>
"#;

/// Runs `tool args` live and on a file copy of the live CIB; asserts the
/// same output and the same resulting CIB. Returns the exit code.
fn same_as_file_mode(node: &Node, dir: &Path, tool: &str, args: &[&str]) -> i32 {
    let file = dir.join("file-mode.xml");
    std::fs::write(&file, node.query()).unwrap();
    let live = node.live(tool, args);
    let offline = node.command(tool).env("CIB_file", &file).args(args).output().unwrap();
    assert_eq!(
        (code(&live), String::from_utf8_lossy(&live.stdout), String::from_utf8_lossy(&live.stderr)),
        (code(&offline), String::from_utf8_lossy(&offline.stdout), String::from_utf8_lossy(&offline.stderr)),
        "{tool} {args:?}: live vs file mode"
    );
    assert_eq!(
        comparable(&node.query()),
        comparable(&std::fs::read_to_string(&file).unwrap()),
        "{tool} {args:?}: resulting CIB, live vs file mode"
    );
    code(&live)
}

#[test]
fn editing_tools_work_live_as_on_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::new(tmp.path());

    // No daemon: Pacemaker's words with no cluster running (its
    // crm_failcount script exits 0 even then).
    for (tool, args, want) in [
        ("crm_attribute", &["-n", "x", "-G"][..], 102),
        ("crm_standby", &["-G"][..], 102),
        ("crm_failcount", &["-r", "r1", "-G"][..], 0),
        ("crm_resource", &["-L"][..], 102),
    ] {
        let o = node.live(tool, args);
        assert_eq!(code(&o), want, "{tool}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains("Transport endpoint is not connected"));
    }

    let _cib = node.start_cib();
    let input = tmp.path().join("input.xml");
    std::fs::write(&input, CIB).unwrap();
    let o = node.live("cibadmin", &["-R", "-x", input.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));

    let steps: &[(&str, &[&str], i32)] = &[
        ("crm_attribute", &["-n", "cluster-name", "-v", "lab"], 0),
        ("crm_attribute", &["-n", "cluster-name", "-G"], 0),
        ("crm_attribute", &["-n", "cluster-name", "-D"], 0),
        ("crm_attribute", &["-n", "cluster-name", "-G"], 105),
        ("crm_attribute", &["-N", "n1", "-n", "site", "-v", "east"], 0),
        ("crm_attribute", &["-N", "n1", "-n", "pingd", "-l", "reboot", "-v", "100"], 0),
        ("crm_attribute", &["-N", "n1", "-n", "pingd", "-l", "reboot", "-G", "-q"], 0),
        ("crm_standby", &["-v", "on"], 0),
        ("crm_standby", &["-G"], 0),
        ("crm_standby", &["-D"], 0),
        ("crm_failcount", &["-r", "r1", "-G"], 0),
        ("crm_failcount", &["-r", "r1", "-N", "n1", "-D"], 0),
        ("crm_failcount", &["-r", "r1", "-G", "-q"], 0),
        ("crm_resource", &["-r", "r1", "--meta", "-p", "target-role", "-v", "Stopped"], 0),
        ("crm_resource", &["-r", "r1", "--meta", "-g", "target-role"], 0),
        ("crm_resource", &["-r", "r1", "--meta", "-d", "target-role"], 0),
        ("crm_resource", &["-L"], 0),
        ("crm_resource", &["-W", "-r", "r1"], 0),
        ("crm_resource", &["-B", "-r", "r1", "-N", "n1"], 0),
        ("crm_resource", &["-U", "-r", "r1"], 0),
        ("crm_resource", &["-C", "-r", "r1"], 0),
        ("crm_resource", &["-P"], 0),
        ("crm_resource", &["-r", "nosuch", "-g", "x"], 105),
    ];
    for (tool, args, want) in steps {
        assert_eq!(same_as_file_mode(&node, tmp.path(), tool, args), *want, "{tool} {args:?}");
    }
    // The live CIB records who made the last configuration change.
    let root = cib::xml::parse_element(&node.query()).unwrap();
    assert_eq!(root.attr("update-client"), Some("crm_resource"));
}

/// Another client changes the configuration between our query and our
/// replace: the daemon refuses the replace (old epoch), and the edit is
/// redone on the newer CIB, keeping both changes.
#[test]
fn a_concurrent_change_makes_the_edit_run_again() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::new(tmp.path());
    let _cib = node.start_cib();
    let input = tmp.path().join("input.xml");
    std::fs::write(&input, CIB).unwrap();
    assert_eq!(code(&node.live("cibadmin", &["-R", "-x", input.to_str().unwrap()])), 0);

    let file = tools::cib_file::CibFile::from_source(Ok(cib::env::CibSource::Live { socket: node.socket() }))
        .unwrap_or_else(|_| panic!("the socket exists"));
    assert!(file.is_live());
    let epoch = |cib: &Element| cib.attr("epoch").and_then(|e| e.parse::<i64>().ok()).unwrap();
    let before = epoch(&cib::xml::parse_element(&node.query()).unwrap());
    let mut calls = 0;
    let result = file.edit(|cib: &mut Element| -> Result<(), ()> {
        calls += 1;
        if calls == 1 {
            let o = node.live("cibadmin", &["-C", "-o", "resources", "-X", r#"<primitive id="r2" class="ocf" provider="heartbeat" type="Dummy"/>"#]);
            assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
        }
        let res = cib.child_mut("configuration").unwrap().child_mut("resources").unwrap();
        res.children.push(cib::Node::Element(cib::xml::parse_element(r#"<primitive id="r3" class="ocf" provider="heartbeat" type="Dummy"/>"#).unwrap()));
        Ok(())
    });
    assert!(result.is_ok());
    assert_eq!(calls, 2, "the edit runs again after the refused replace");
    let now = cib::xml::parse_element(&node.query()).unwrap();
    let res = now.child("configuration").unwrap().child("resources").unwrap();
    let ids: Vec<&str> = res.elements().filter_map(|e| e.id()).collect();
    assert_eq!(ids, ["r1", "r2", "r3"]);
    // One epoch for the concurrent create, one for ours.
    assert_eq!(epoch(&now), before + 2);
}
