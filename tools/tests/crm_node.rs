//! crm_node: side by side with Pacemaker 2.1.5's crm_node where both
//! answer the same (no cluster, no CIB_file), and our CIB_file answers
//! where Pacemaker has none (docs/TOOLS.md, crm_node).

mod common;

use std::process::Command;

const PCMK: &str = "/usr/sbin/crm_node";

fn ours() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crm_node"))
}

fn run(mut cmd: Command, args: &[&str], cib_file: Option<&std::path::Path>) -> (String, String, i32) {
    cmd.args(args).env_remove("CIB_file").env_remove("CIB_shadow").env("HA_NODENAME", "node2");
    if let Some(f) = cib_file {
        cmd.env("CIB_file", f);
    }
    let out = cmd.output().unwrap();
    (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap(), out.status.code().unwrap_or(-1))
}

const CIB: &str = r#"<cib admin_epoch="0" epoch="3" num_updates="7" validate-with="pacemaker-3.0" have-quorum="1">
  <configuration>
    <crm_config/>
    <nodes>
      <node id="1" uname="node1"/>
      <node id="2" uname="node2"/>
      <node id="3" uname="node3"/>
    </nodes>
    <resources/>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="3" uname="node3" in_ccm="false" crmd="offline" join="down" expected="down"/>
  </status>
</cib>
"#;

#[test]
fn without_a_cluster_as_pacemaker() {
    common::require_tool(PCMK);
    for args in [&["-l"][..], &["-p"], &["-q"], &["-i"], &["-N", "1"], &["-R", "node3"], &["-R", "node3", "--force"]] {
        let theirs = run(Command::new(PCMK), args, None);
        let mine = run(ours(), args, None);
        assert_eq!(mine, theirs, "crm_node {args:?}");
    }
}

#[test]
fn name_is_ha_nodename() {
    let (out, err, code) = run(ours(), &["-n"], None);
    assert_eq!((out.as_str(), err.as_str(), code), ("node2\n", "", 0));
}

#[test]
fn cib_file_answers() {
    common::require_tool(PCMK);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cib.xml");
    std::fs::write(&f, CIB).unwrap();
    // Pacemaker ignores CIB_file here and needs the controller.
    let theirs = run(Command::new(PCMK), &["-l"], Some(&f));
    assert_eq!(theirs.2, 102, "Pacemaker 2.1.5 answered -l offline: {theirs:?}");

    let ok = |args: &[&str]| {
        let (out, err, code) = run(ours(), args, Some(&f));
        assert_eq!((err.as_str(), code), ("", 0), "{args:?}");
        out
    };
    assert_eq!(ok(&["-l"]), "1 node1 member\n2 node2 member\n3 node3 lost\n");
    assert_eq!(ok(&["-p"]), "node1 node2\n");
    assert_eq!(ok(&["-q"]), "1\n");
    assert_eq!(ok(&["-i"]), "2\n");
    assert_eq!(ok(&["-N", "3"]), "node3\n");
    assert_eq!(run(ours(), &["-N", "9"], Some(&f)).2, 105);

    // -R needs --force, as in Pacemaker, then purges node3.
    assert_eq!(run(ours(), &["-R", "node3"], Some(&f)), run(Command::new(PCMK), &["-R", "node3"], Some(&f)));
    assert_eq!(ok(&["-R", "node3", "--force"]), "");
    let after = std::fs::read_to_string(&f).unwrap();
    assert!(!after.contains("node3"), "{after}");
    assert!(after.contains(r#"epoch="4""#), "a configuration change moves the epoch: {after}");
    assert_eq!(ok(&["-l"]), "1 node1 member\n2 node2 member\n");
    assert_eq!(run(ours(), &["-R", "node3", "--force"], Some(&f)).2, 105);
}

#[test]
fn usage_errors_exit_64() {
    assert_eq!(run(ours(), &["-N"], None).2, 64);
    assert_eq!(run(ours(), &[], None).2, 64);
    assert_eq!(run(Command::new(PCMK), &[], None).2, 64);
}
