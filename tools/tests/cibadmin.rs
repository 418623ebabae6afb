//! Our cibadmin, option by option, with exact expected output. The
//! expectations were measured on Pacemaker 2.1.5's cibadmin; the
//! compatibility test (cibadmin_compat.rs) re-checks many of them against
//! the real tool.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BASE: &str = r#"<cib admin_epoch="0" epoch="5" num_updates="3" validate-with="pacemaker-3.0" crm_feature_set="3.0.14">
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

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
    file: String,
}

fn cibadmin_on(file: Option<&Path>, args: &[&str], stdin: &str) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cibadmin"));
    cmd.args(args).env_remove("CIB_file").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(f) = file {
        cmd.env("CIB_file", f);
    }
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        file: file.and_then(|f| std::fs::read_to_string(f).ok()).unwrap_or_default(),
    }
}

/// Runs on a fresh copy of `content`.
fn run_with(content: &str, args: &[&str], stdin: &str) -> (Out, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let f: PathBuf = dir.path().join("cib.xml");
    std::fs::write(&f, content).unwrap();
    (cibadmin_on(Some(&f), args, stdin), dir)
}

fn run(args: &[&str]) -> Out {
    run_with(BASE, args, "").0
}

/// BASE as Pacemaker writes it back: status section added, new version.
fn base_written(version: &str) -> String {
    BASE.replace(r#"epoch="5" num_updates="3""#, version).replace("  </configuration>\n", "  </configuration>\n  <status/>\n")
}

#[test]
fn query_whole_section_xpath_and_paths() {
    let q = run(&["-Q"]);
    assert_eq!((q.code, q.stderr.as_str()), (0, ""));
    assert_eq!(q.stdout, base_written(r#"epoch="5" num_updates="3""#));
    assert_eq!(q.file, BASE, "a query leaves the file alone");

    let q = run(&["-Q", "-o", "nodes"]);
    assert_eq!(q.stdout, "<nodes>\n  <node id=\"n1\" uname=\"node1\"/>\n</nodes>\n");
    let q = run(&["--query", "--scope=resources", "--no-children"]);
    assert_eq!(q.stdout, "<resources/>\n");
    let q = run(&["-Q", "-o", "tags"]);
    assert_eq!((q.code, q.stdout.as_str(), q.stderr.as_str()), (105, "", "Call failed: No such device or address\n"));

    let q = run(&["-Q", "-A", "//nvpair"]);
    assert_eq!(
        q.stdout,
        "<xpath-query>\n  <nvpair id=\"o1\" name=\"stonith-enabled\" value=\"false\"/>\n  <nvpair id=\"r1-meta-tr\" name=\"target-role\" value=\"Started\"/>\n</xpath-query>\n"
    );
    let q = run(&["-Q", "-A", "//nvpair[@name='target-role']", "-e"]);
    assert_eq!(
        q.stdout,
        "/cib/configuration/resources/primitive[@id='r1']/meta_attributes[@id='r1-meta']/nvpair[@id='r1-meta-tr']\n"
    );
    let q = run(&["-Q", "--xpath", "//primitive[contains(@type,'Dum')]", "-n"]);
    assert_eq!(q.stdout, "<primitive id=\"r1\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>\n");
}

#[test]
fn create_modify_delete_replace_bump() {
    let c = run(&["-C", "-o", "resources", "-X", r#"<primitive id="r2" class="ocf" provider="heartbeat" type="Dummy"/>"#]);
    assert_eq!((c.code, c.stdout.as_str(), c.stderr.as_str()), (0, "", ""));
    let want = base_written(r#"epoch="6" num_updates="0""#).replace(
        "    </resources>",
        "      <primitive id=\"r2\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>\n    </resources>",
    );
    assert_eq!(c.file, want);

    let c = run(&["-C", "-o", "resources", "-X", r#"<primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/>"#]);
    assert_eq!(c.code, 108);
    assert_eq!(c.stderr, "Call failed: File exists\n");
    assert_eq!(
        c.stdout,
        "<failed>\n  <failed_update id=\"r1\" object_type=\"primitive\" operation=\"cib_create\" reason=\"File exists\">\n    <primitive id=\"r1\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>\n  </failed_update>\n</failed>\n"
    );
    assert_eq!(c.file, BASE, "a rejected update leaves the file byte-identical");

    let m = run(&["-M", "-X", r#"<nvpair id="r1-meta-tr" value="Stopped"/>"#]);
    assert_eq!(m.code, 0);
    assert_eq!(m.file, base_written(r#"epoch="6" num_updates="0""#).replace("value=\"Started\"", "value=\"Stopped\""));
    let m = run(&["-M", "-X", r#"<primitive id="nope" description="x"/>"#]);
    assert_eq!((m.code, m.stderr.as_str(), m.file.as_str()), (105, "Call failed: No such device or address\n", BASE));
    let m = run(&["-M", "-X", r#"<cib admin_epoch="admin_epoch++"/>"#]);
    assert!(m.file.starts_with(r#"<cib admin_epoch="1" epoch="5" num_updates="4""#), "{}", m.file);

    let d = run(&["-D", "-X", r#"<primitive id="r1"/>"#]);
    assert_eq!(d.code, 0);
    assert!(d.file.contains("    <resources/>\n") && d.file.contains(r#"epoch="6" num_updates="0""#));
    let d = run(&["-D", "-X", r#"<primitive id="nothing"/>"#]);
    assert_eq!(d.code, 0, "deleting nothing succeeds, as in Pacemaker");
    assert_eq!(d.file, base_written(r#"epoch="5" num_updates="3""#));

    let r = run(&["-R", "-o", "resources", "-X", "<resources/>"]);
    assert_eq!(r.code, 0);
    assert!(r.file.contains("    <resources/>\n"));

    let b = run(&["-B"]);
    assert_eq!(b.file, base_written(r#"epoch="6" num_updates="4""#));
}

#[test]
fn dangerous_commands_need_force() {
    for args in [&["-E"][..], &["-d", "-A", "//nvpair"]] {
        let o = run(args);
        assert_eq!(o.code, 107);
        assert_eq!(
            o.stderr,
            "The supplied command is considered dangerous.  To prevent accidental destruction of the cluster, the --force flag is required in order to proceed.\n"
        );
        assert_eq!(o.file, BASE);
    }
    let e = run(&["-E", "--force"]);
    assert_eq!(e.code, 0);
    assert!(e.file.starts_with(
        "<cib crm_feature_set=\"3.0.14\" validate-with=\"pacemaker-3.0\" epoch=\"6\" num_updates=\"0\" admin_epoch=\"1\">\n  <configuration>\n    <crm_config/>\n"
    ));
    let d = run(&["-d", "--force", "-A", "//nvpair"]);
    assert!(!d.file.contains("<nvpair"));
}

#[test]
fn replace_whole_cib_checks_versions() {
    let older = BASE.replace(r#"epoch="5""#, r#"epoch="4""#);
    let (o, _d) = run_with(BASE, &["-R", "-p"], &older);
    assert_eq!((o.code, o.stderr.as_str(), o.file.as_str()), (103, "Call failed: Update was older than existing configuration\n", BASE));

    let edited = BASE.replace(r#"value="false""#, r#"value="true""#);
    let (o, _d) = run_with(BASE, &["-R", "-p"], &edited);
    assert_eq!(o.code, 0);
    assert_eq!(o.file, base_written(r#"epoch="6" num_updates="0""#).replace(r#"value="false""#, r#"value="true""#));
}

#[test]
fn input_errors() {
    let o = run(&["-C", "-o", "resources", "-X", "<primitive"]);
    assert_eq!((o.code, o.stderr.as_str()), (78, "Couldn't parse input from input string.\n"));
    let o = run(&["-C", "-o", "resources", "-x", "/nonexistent/file.xml"]);
    assert_eq!((o.code, o.stderr.as_str()), (78, "Couldn't parse input from /nonexistent/file.xml.\n"));
    let o = run(&["-C", "-o", "resources", "-p"]);
    assert_eq!((o.code, o.stderr.as_str()), (78, "Couldn't parse input from STDIN.\n"));
    let o = run(&["-C", "-o", "resources"]);
    assert_eq!((o.code, o.stderr.as_str()), (70, "Call failed: Invalid argument\n"));
}

#[test]
fn schema_invalid_results_are_listed_and_refused() {
    let o = run(&["-C", "-o", "constraints", "-X", r#"<rsc_location id="o1" rsc="r1" node="node1" score="10"/>"#]);
    assert_eq!(o.code, 78);
    assert!(o.stderr.starts_with("   1 <cib admin_epoch=\"0\" epoch=\"6\" num_updates=\"0\""), "{}", o.stderr);
    assert!(o.stderr.ends_with("  24 \nCall failed: Update does not conform to the configured schema\n"), "{}", o.stderr);
    assert_eq!(o.file, BASE);
}

#[test]
fn cib_file_problems_and_live_mode() {
    let o = cibadmin_on(None, &["-Q"], "");
    assert_eq!(o.code, 102);
    assert_eq!(
        o.stderr,
        "Could not connect to the CIB: Transport endpoint is not connected\nInit failed, could not perform requested operations\n"
    );
    let o = cibadmin_on(Some(Path::new("/nonexistent/cib.xml")), &["-Q"], "");
    assert_eq!(o.code, 105);
    assert_eq!(o.stderr, "Could not connect to the CIB: No such device or address\nInit failed, could not perform requested operations\n");
    let (o, _d) = run_with("", &["-Q"], "");
    assert_eq!(o.code, 78);
    assert!(o.stderr.starts_with("Could not connect to the CIB: Update does not conform to the configured schema\n"));
}

#[test]
fn usage() {
    let o = cibadmin_on(None, &[], "");
    assert_eq!((o.code, o.stdout.as_str()), (64, ""));
    assert!(o.stderr.contains("Usage: cibadmin"));
    let o = cibadmin_on(None, &["-Q", "-Z"], "");
    assert_eq!(o.code, 64);
    assert!(o.stderr.starts_with("cibadmin: invalid option -- 'Z'\n") || o.stderr.contains(": invalid option -- 'Z'\n"));
    let o = cibadmin_on(None, &["-Q", "stray"], "");
    assert_eq!((o.code, o.stdout.as_str()), (64, "non-option ARGV-elements: stray \n"));
    let o = cibadmin_on(None, &["--help"], "");
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("Usage: cibadmin"));
    let o = cibadmin_on(None, &["-a"], "");
    assert_eq!(
        o.stdout,
        "<cib crm_feature_set=\"3.16.1\" validate-with=\"pacemaker-3.9\" epoch=\"1\" num_updates=\"0\" admin_epoch=\"0\">\n  <configuration>\n    <crm_config/>\n    <nodes/>\n    <resources/>\n    <constraints/>\n  </configuration>\n  <status/>\n</cib>\n"
    );
}

/// Seed 002: `cibadmin -Q > tmp.xml`, edit, `cibadmin -R -x tmp.xml`, on a
/// Heartbeat 2.x CIB (no validate-with), which we accept on purpose.
#[test]
fn seed_002_query_edit_replace_on_heartbeat_cib() {
    let hb = r#"<cib admin_epoch="0" epoch="2" num_updates="1" have_quorum="true" generated="false">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <attributes>
          <nvpair id="cib-bootstrap-options-symmetric-cluster" name="symmetric-cluster" value="true"/>
        </attributes>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
      <primitive id="IPaddr_1" class="ocf" type="IPaddr" provider="heartbeat">
        <instance_attributes id="IPaddr_1_inst_attr">
          <attributes>
            <nvpair id="IPaddr_1_attr_0" name="ip" value="192.168.0.100"/>
          </attributes>
        </instance_attributes>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
</cib>
"#;
    let dir = tempfile::tempdir().unwrap();
    let cib = dir.path().join("cib.xml");
    std::fs::write(&cib, hb).unwrap();
    let q = cibadmin_on(Some(&cib), &["-Q"], "");
    assert_eq!(q.code, 0, "{}", q.stderr);
    let tmp = dir.path().join("tmp.xml");
    std::fs::write(&tmp, q.stdout.replace("192.168.0.100", "192.168.0.200")).unwrap();
    let r = cibadmin_on(Some(&cib), &["-R", "-x", tmp.to_str().unwrap()], "");
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert!(r.file.contains(r#"value="192.168.0.200""#));
    assert!(r.file.starts_with(r#"<cib admin_epoch="0" epoch="3" num_updates="0""#), "{}", r.file);
}
