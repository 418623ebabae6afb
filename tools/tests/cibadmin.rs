//! Our cibadmin, option by option, with exact expected output. The
//! expectations were measured on Pacemaker 2.1.5's cibadmin; the
//! compatibility test (cibadmin_compat.rs) re-checks many of them against
//! the real tool.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::BASE_CIB as BASE;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
    file: String,
}

/// Runs our cibadmin with `env` set (and nothing else that selects a CIB).
fn cibadmin_with(env: &[(&str, &str)], args: &[&str], stdin: &str) -> common::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cibadmin"));
    cmd.args(args).env_remove("CIB_file").env_remove("CIB_shadow").env_remove("CIB_shadow_dir");
    for (k, v) in env {
        cmd.env(k, v);
    }
    common::output(&mut cmd, Some(stdin.as_bytes()))
}

fn cibadmin_on(file: Option<&Path>, args: &[&str], stdin: &str) -> Out {
    let env: Vec<(&str, &str)> = file.map(|f| ("CIB_file", f.to_str().unwrap())).into_iter().collect();
    let out = cibadmin_with(&env, args, stdin);
    Out {
        code: out.code.expect("cibadmin exited"),
        stdout: out.stdout,
        stderr: out.stderr,
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

/// Values with line breaks, tabs, quotes and non-ASCII text come back
/// exactly, on stdout and in the file. Pacemaker 2.1.5 would print and
/// store `\n` and four spaces instead (cibadmin_compat.rs shows it).
#[test]
fn values_are_written_losslessly() {
    let cib = BASE.replace(
        r#"type="Dummy">"#,
        r#"type="Dummy" description="line 1&#10;line 2&#9;tab&#13; it&apos;s &quot;café&quot; &lt;b&gt; &amp; &#127;">"#,
    );
    let wanted = "line 1\nline 2\ttab\r it's \"café\" <b> & \u{7f}";
    let description = |text: &str| -> String {
        let doc = cib::Document::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"));
        doc.root.find("primitive", "r1").and_then(|p| p.attr("description")).unwrap().to_string()
    };
    let (q, _d) = run_with(&cib, &["-Q", "-o", "resources"], "");
    assert_eq!(q.code, 0, "{}", q.stderr);
    assert!(
        q.stdout.contains("description=\"line 1&#10;line 2&#9;tab&#13; it&apos;s &quot;café&quot; &lt;b&gt; &amp; \u{7f}\""),
        "{}",
        q.stdout
    );
    assert_eq!(description(&q.stdout), wanted);
    let (b, _d) = run_with(&cib, &["-B"], "");
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert_eq!(description(&b.file), wanted);
}

/// Comments before and after the root element are the user's and are
/// kept (Pacemaker drops them); a write that changes nothing does not
/// rewrite the file.
#[test]
fn comments_around_the_root_survive_and_no_op_writes_touch_nothing() {
    let commented = format!("<!-- managed by hand -->\n{BASE}<!-- end -->\n");
    let (b, _d) = run_with(&commented, &["-B"], "");
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert!(b.file.starts_with("<!-- managed by hand -->\n<cib admin_epoch=\"0\" epoch=\"6\" num_updates=\"4\""), "{}", b.file);
    assert!(b.file.ends_with("</cib>\n<!-- end -->\n"), "{}", b.file);

    // Written once in our layout, then a delete of nothing: same bytes, same inode.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cib.xml");
    std::fs::write(&f, &commented).unwrap();
    assert_eq!(cibadmin_on(Some(&f), &["-B"], "").code, 0);
    let before = (std::fs::read(&f).unwrap(), std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&f).unwrap()));
    let d = cibadmin_on(Some(&f), &["-D", "-X", r#"<primitive id="no-such"/>"#], "");
    assert_eq!((d.code, d.stderr.as_str()), (0, ""));
    let after = (std::fs::read(&f).unwrap(), std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&f).unwrap()));
    assert_eq!(before, after);
}

/// Writers hold cib::store's lock from reading the file to replacing it,
/// so concurrent cibadmins lose no update.
#[test]
fn concurrent_writers_lose_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cib.xml");
    std::fs::write(&f, BASE).unwrap();
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let f = f.clone();
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let o = cibadmin_on(Some(&f), &["-B"], "");
                    assert_eq!(o.code, 0, "{}", o.stderr);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let doc = cib::Document::parse(&std::fs::read_to_string(&f).unwrap()).unwrap();
    assert_eq!(doc.root.attr("epoch"), Some("45"), "40 bumps on epoch 5");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["cib.xml"], "no temporary or lock files are left beside a CIB_file");
}

/// The CIB is chosen by cib::env: CIB_shadow names a shadow copy (before
/// CIB_file), and a malformed HA_* variable is reported, not guessed at.
#[test]
fn shadow_copies_and_environment_errors() {
    let dir = tempfile::tempdir().unwrap();
    let shadow = dir.path().join("shadow.test");
    std::fs::write(&shadow, BASE).unwrap();
    let dir_str = dir.path().to_str().unwrap();
    let o = cibadmin_with(
        &[("CIB_shadow", "test"), ("CIB_shadow_dir", dir_str), ("CIB_file", "/nonexistent/cib.xml")],
        &["-B"],
        "",
    );
    assert_eq!((o.code, o.stderr.as_str()), (Some(0), ""));
    assert!(std::fs::read_to_string(&shadow).unwrap().contains(r#"epoch="6""#));

    let f = shadow.to_str().unwrap();
    let o = cibadmin_with(&[("CIB_file", f), ("HA_BINDADDR", "not-an-address")], &["-Q"], "");
    assert_eq!(o.code, Some(2));
    assert_eq!(o.stderr, "cibadmin: HA_BINDADDR=\"not-an-address\" is not valid: not an IPv4 or IPv6 address\n");
}
