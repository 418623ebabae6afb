//! The project's fence_lab through stonithd really powers a lab node off:
//! a 2-node lab (network/PID/UTS/mount namespaces, tests::lab), a cib
//! daemon and a stonithd in the host's PID namespace (where fence_lab can
//! see the nodes' inits, agents/README.md) with a `stonith:fence_lab`
//! device whose list is the lab's pid files. `stonith_admin -B n2` kills
//! n2's whole PID namespace, n1 keeps running, the witness log gets
//! `n2 fenced`, and the history shows the operation. Needs root (skipped
//! with a message otherwise).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{agent_dir, wait_for, Node};
use tests::lab::{LabGuard, LabSpec};

fn lab_bin_dir() -> PathBuf {
    let st = Command::new(env!("CARGO"))
        .args([
            "build",
            "-q",
            "-p",
            "tests",
            "--bin",
            "ha-lab",
            "-p",
            "transport",
            "--bin",
            "heartbeat",
            "--bin",
            "cl_status",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build for ha-lab");
    assert!(st.success(), "cargo build of ha-lab failed: {st}");
    PathBuf::from(env!("CARGO_BIN_EXE_stonithd"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn fence_lab_powers_a_lab_node_off_through_stonithd() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: the lab needs root (namespaces)");
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("ha-lab-")
        .tempdir_in("/tmp")
        .unwrap();
    let name = format!("sd{}", std::process::id() % 1_000_000);
    let lab = LabGuard::create(LabSpec::new(
        &name,
        &tmp.path().join("lab"),
        2,
        1,
        &lab_bin_dir(),
    ))
    .expect("create the lab");
    let pids = tmp.path().join("lab/pids");
    let witness = tmp.path().join("witness.log");
    assert!(lab.init_pid("n1").is_some() && lab.init_pid("n2").is_some());

    // The fencer side, in the host's PID namespace.
    let host = Node::new(tmp.path(), 9);
    let agents = agent_dir(tmp.path());
    let _cib = host.start("cib", &["-s"], "cib.sock");
    let dev = format!(
        r#"<primitive id="lab-fence" class="stonith" type="fence_lab"><instance_attributes id="lf-i"><nvpair id="lf-1" name="pid_dir" value="{}"/><nvpair id="lf-2" name="witness" value="{}"/></instance_attributes></primitive>"#,
        pids.display(),
        witness.display()
    );
    host.ok("cibadmin", &["-C", "-o", "resources", "-X", &dev]);
    let _sd = host.start(
        "stonithd",
        &["-s", "--stonith-dir", agents.to_str().unwrap()],
        "stonithd.sock",
    );
    wait_for(
        Duration::from_secs(15),
        || host.admin(&["-L"]).0 == "lab-fence\n1 fence device found\n",
        "the device",
    );
    // Dynamic list: fence_lab lists the lab's nodes.
    assert_eq!(
        host.admin(&["-l", "n2"]).0,
        "lab-fence\n1 fence device found\n"
    );
    assert_eq!(host.admin(&["-l", "n7"]).0, "0 fence devices found\n");

    let (_, err, code) = host.admin(&["-B", "n2", "-t", "30"]);
    assert_eq!(code, 0, "{err}\n{}", host.log("stonithd"));
    // The whole node is gone; the other one is untouched.
    wait_for(
        Duration::from_secs(10),
        || lab.init_pid("n2").is_none(),
        "n2's init to die",
    );
    assert!(lab.init_pid("n1").is_some(), "n1 must survive n2's fencing");
    let w = std::fs::read_to_string(&witness).unwrap();
    assert!(
        w.lines()
            .any(|l| l.split_whitespace().nth(1) == Some("n2") && l.contains(" fenced ")),
        "{w}"
    );
    assert!(host
        .admin(&["-H", "n2"])
        .0
        .starts_with("reboot of n2 successful: delegate=n9, "));
    // Fencing a node that is already off succeeds (it is off).
    assert_eq!(host.admin(&["-F", "n2", "-t", "30"]).2, 0);
}
