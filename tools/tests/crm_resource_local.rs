//! crm_resource's local agent commands (--force-*, listings) side by side
//! with Pacemaker 2.1.5's on the same CIB_file, running Debian's real
//! ocf:heartbeat:Dummy, which must really start and stop.

mod common;

use std::process::Command;

use common::{output, require_tool};

const PACEMAKER: &str = "/usr/sbin/crm_resource";
const OURS: &str = env!("CARGO_BIN_EXE_crm_resource");

fn cib_with_dummy(state: &std::path::Path) -> String {
    format!(
        r#"<cib admin_epoch="0" epoch="1" num_updates="0" validate-with="pacemaker-3.7" crm_feature_set="3.16.2">
  <configuration>
    <crm_config/>
    <nodes/>
    <resources>
      <primitive id="d1" class="ocf" provider="heartbeat" type="Dummy">
        <instance_attributes id="d1-ia">
          <nvpair id="d1-state" name="state" value="{}"/>
        </instance_attributes>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>
"#,
        state.display()
    )
}

fn run(tool: &str, cib: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = output(Command::new(tool).args(args).env("CIB_file", cib), None);
    (out.code, out.stdout, out.stderr)
}

#[test]
fn force_commands_match_pacemaker_and_really_run_the_agent() {
    require_tool(PACEMAKER);
    assert!(
        std::path::Path::new("/usr/lib/ocf/resource.d/heartbeat/Dummy").exists(),
        "install resource-agents (CI does) to run this test"
    );
    let dir = tempfile::tempdir().unwrap();
    let cib = dir.path().join("cib.xml");
    for tool in [PACEMAKER, OURS] {
        let state = dir.path().join(format!("state-{}", tool.len()));
        std::fs::write(&cib, cib_with_dummy(&state)).unwrap();
        let steps: [(&[&str], bool); 6] = [
            (&["--force-check", "-r", "d1"], false),
            (&["--force-start", "-r", "d1"], true),
            (&["--force-check", "-r", "d1"], true),
            (&["--force-stop", "-r", "d1"], false),
            (&["--force-check", "-r", "d1"], false),
            (&["--force-check", "-r", "nosuch"], false),
        ];
        for (args, running_after) in steps {
            let ours = run(OURS, &cib, args);
            let theirs = run(PACEMAKER, &cib, args);
            // Each tool ran the agent once; run both, then check the state
            // file reflects the command.
            assert_eq!(ours, theirs, "{args:?}");
            assert_eq!(state.exists(), running_after, "{args:?}: Dummy's state file");
        }
    }
}

#[test]
fn listings_match_pacemaker() {
    require_tool(PACEMAKER);
    let dir = tempfile::tempdir().unwrap();
    let cib = dir.path().join("cib.xml");
    std::fs::write(&cib, cib_with_dummy(&dir.path().join("s"))).unwrap();
    for args in [
        &["--list-ocf-providers"][..],
        &["--list-agents", "ocf:heartbeat"],
        &["--list-agents", "ocf:nosuch"],
        &["--show-metadata", "ocf:heartbeat:Dummy"],
        &["--show-metadata", "ocf:heartbeat:NoSuchAgent"],
    ] {
        assert_eq!(run(OURS, &cib, args), run(PACEMAKER, &cib, args), "{args:?}");
    }
    // Deliberate difference: we list the classes lrmd runs (heartbeat
    // instead of Pacemaker's service), see docs/LRMD.md.
    let (code, stdout, _) = run(OURS, &cib, &["--list-standards"]);
    assert_eq!((code, stdout.as_str()), (Some(0), "ocf\nlsb\nheartbeat\nstonith\n"));
}
