//! crm_resource's local agent commands (`lrmd::local`) side by side with
//! Pacemaker 2.1.5's /usr/sbin/crm_resource on Debian's
//! ocf:heartbeat:Dummy, with CIB_file: same stdout, stderr and exit code,
//! and the agent really starts and stops (its state file).

use std::path::Path;
use std::process::Command;

use cib::model::Cib;
use cib::Document;
use lrmd::agent::AgentDirs;
use lrmd::local::{self, ForceAction, Outcome};

const PCMK: &str = "/usr/sbin/crm_resource";

fn pacemaker(cib: Option<&Path>, args: &[&str]) -> Outcome {
    let mut cmd = Command::new(PCMK);
    if let Some(c) = cib {
        cmd.env("CIB_file", c);
    }
    let out = cmd.args(args).output().expect("Pacemaker's crm_resource is installed (pacemaker-cli-utils)");
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        exit: out.status.code().expect("exited") as u8,
    }
}

fn cib_with_dummy(dir: &Path, state: &Path) -> (std::path::PathBuf, Cib) {
    let text = format!(
        r#"<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o-s" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"/></nodes>
    <resources><primitive id="d" class="ocf" provider="heartbeat" type="Dummy">
      <instance_attributes id="d-ia"><nvpair id="d-s" name="state" value="{}"/></instance_attributes>
    </primitive></resources><constraints/>
  </configuration><status/></cib>"#,
        state.display()
    );
    let path = dir.join("cib.xml");
    std::fs::write(&path, &text).unwrap();
    (path, Cib::from_document(&Document::parse(&text).unwrap()).unwrap())
}

#[test]
fn force_commands_match_pacemaker_and_really_run_dummy() {
    assert!(Path::new("/usr/lib/ocf/resource.d/heartbeat/Dummy").exists(), "resource-agents is required");
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("d.state");
    let (path, cib) = cib_with_dummy(dir.path(), &state);
    let dirs = AgentDirs::default();
    // Each step: Pacemaker's tool, then ours, from the same state.
    let steps = [
        (ForceAction::Check, "--force-check", false, false),
        (ForceAction::Start, "--force-start", false, true),
        (ForceAction::Check, "--force-check", true, true),
        (ForceAction::Stop, "--force-stop", true, false),
        (ForceAction::Check, "--force-check", false, false),
        (ForceAction::Promote, "--force-promote", false, false),
        (ForceAction::Demote, "--force-demote", false, false),
    ];
    for (action, flag, running_before, running_after) in steps {
        assert_eq!(state.exists(), running_before, "{flag}: state before");
        let theirs = pacemaker(Some(&path), &[flag, "-r", "d"]);
        assert_eq!(state.exists(), running_after, "{flag}: Pacemaker's run");
        // Put the state back, then run ours from the same starting point.
        if running_before {
            std::fs::write(&state, "").unwrap();
        } else {
            let _ = std::fs::remove_file(&state);
        }
        let ours = local::force_action(&cib, "d", action, &dirs, None);
        assert_eq!(state.exists(), running_after, "{flag}: our run");
        assert_eq!(ours, theirs, "{flag}");
    }
    let theirs = pacemaker(Some(&path), &["--force-check", "-r", "nosuch"]);
    assert_eq!(local::force_action(&cib, "nosuch", ForceAction::Check, &dirs, None), theirs);
}

#[test]
fn listings_match_pacemaker() {
    let dirs = AgentDirs::default();
    assert_eq!(local::list_ocf_providers(&dirs), pacemaker(None, &["--list-ocf-providers"]));
    for spec in ["ocf:heartbeat", "ocf:pacemaker", "ocf:nosuch"] {
        assert_eq!(local::list_agents(spec, &dirs), pacemaker(None, &["--list-agents", spec]), "{spec}");
    }
    for spec in ["ocf:heartbeat:Dummy", "ocf:heartbeat:IPaddr2", "ocf:heartbeat:Nope"] {
        assert_eq!(local::show_metadata(spec, &dirs), pacemaker(None, &["--show-metadata", spec]), "{spec}");
    }
    // Standards: ours are the classes lrmd runs (Pacemaker's build lists
    // ocf, lsb, service, stonith; we run heartbeat instead of service).
    assert_eq!(local::list_standards().stdout, "ocf\nlsb\nheartbeat\nstonith\n");
}
