//! Helpers shared by the tools' integration tests. Each test file is its
//! own crate and includes this with `mod common;`, using only part of it.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Pacemaker's scheduler regression suite (537 real CIBs).
pub fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcmk-suite/xml")
}

/// The suite's CIB files, sorted by name.
pub fn suite_files() -> Vec<PathBuf> {
    let dir = suite_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    assert!(files.len() > 100, "expected the regression suite's CIBs in {}", dir.display());
    files
}

/// Tests that compare with a Pacemaker tool fail, not skip, when it is
/// missing: CI installs pacemaker-cli-utils.
pub fn require_tool(path: &str) {
    assert!(Path::new(path).exists(), "{path} is missing: install pacemaker-cli-utils (CI does) to run this test");
}

/// A small, valid Pacemaker 3.0 CIB (no status section), as the cibadmin
/// tests start from it.
pub const BASE_CIB: &str = r#"<cib admin_epoch="0" epoch="5" num_updates="3" validate-with="pacemaker-3.0" crm_feature_set="3.0.14">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="o1" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="n1" uname="node1"/>
    </nodes>
    <resources>
      <primitive id="r1" class="ocf" provider="heartbeat" type="Dummy">
        <meta_attributes id="r1-meta">
          <nvpair id="r1-meta-tr" name="target-role" value="Started"/>
        </meta_attributes>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
</cib>
"#;

/// What a finished process left behind.
pub struct Output {
    /// `None` when it was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Starts `cmd`. Other sessions build in the same target directory, and
/// a binary being replaced cannot be executed for a moment (ETXTBSY, or
/// briefly missing): retried a few times, 200 ms apart, before failing.
pub fn spawn(cmd: &mut Command) -> std::process::Child {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Ok(c) => return c,
            Err(e) if tries < 10 && (e.kind() == std::io::ErrorKind::ExecutableFileBusy || e.kind() == std::io::ErrorKind::NotFound) => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            Err(e) => panic!("cannot run {:?}: {e}", cmd.get_program()),
        }
    }
}

/// Runs `cmd` with `stdin` as its standard input (empty if `None`) and
/// collects its output.
pub fn output(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = spawn(cmd);
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.unwrap_or_default().to_vec();
    // Fed from a thread so a tool that writes before it has read all its
    // input cannot deadlock with us; one that never reads it is not our
    // failure, hence the ignored result.
    let feeder = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
