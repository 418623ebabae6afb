//! One stand-alone cib daemon and the real cibadmin in live mode:
//! - refusals are byte-identical to file mode (same stdout, stderr, exit
//!   code) and leave the CIB untouched;
//! - the seed 002 workflow (`cibadmin -Q > tmp.xml; edit; cibadmin -R -x tmp.xml`)
//!   takes effect at once;
//! - cib.xml and cib.xml.sig are written, and a restarted daemon serves
//!   the same CIB;
//! - with no daemon, cibadmin says "not connected" (102).

mod common;

use common::{code, Node};

const R1: &str = r#"<primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/>"#;

/// Runs the same cibadmin command live and on a CIB_file holding the same
/// CIB, and asserts they agree byte for byte.
fn same_as_file_mode(node: &Node, args: &[&str]) -> i32 {
    let live = node.cibadmin(args);
    let file = node.var.join("file-mode.xml");
    std::fs::write(&file, node.query(&[])).unwrap();
    let offline = node.command("cibadmin").env("CIB_file", &file).args(args).output().unwrap();
    assert_eq!(
        (code(&live), String::from_utf8_lossy(&live.stdout), String::from_utf8_lossy(&live.stderr)),
        (code(&offline), String::from_utf8_lossy(&offline.stdout), String::from_utf8_lossy(&offline.stderr)),
        "cibadmin {args:?}: live vs file mode"
    );
    code(&live)
}

#[test]
fn live_cibadmin_against_one_daemon() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::new(tmp.path(), 1);

    let o = node.cibadmin(&["-Q"]);
    assert_eq!(code(&o), 102);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "Could not connect to the CIB: Transport endpoint is not connected\nInit failed, could not perform requested operations\n"
    );

    let cib = node.start_cib(&["--stand-alone"]);
    let empty = node.query(&[]);
    assert!(empty.starts_with("<cib ") && empty.contains(r#"epoch="0""#), "{empty}");
    assert!(node.var.join("crm/cib.xml.sig").exists(), "a new CIB is written with its digest at start");

    let o = node.cibadmin(&["-C", "-o", "resources", "-X", R1]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let after_create = node.query(&[]);
    assert!(after_create.contains(r#"epoch="1""#) && after_create.contains(r#"update-client="cibadmin""#), "{after_create}");

    // Refusals, compared with file mode; none changes the CIB.
    assert_eq!(same_as_file_mode(&node, &["-C", "-o", "resources", "-X", R1]), 108);
    assert_eq!(same_as_file_mode(&node, &["-Q", "-o", "resources", "-A", "//primitive[@id='nope']"]), 105);
    assert_eq!(same_as_file_mode(&node, &["-M", "-X", r#"<primitive id="nope" type="x"/>"#]), 105);
    assert_eq!(same_as_file_mode(&node, &["-E"]), 107);
    assert_eq!(same_as_file_mode(&node, &["-C", "-o", "resources"]), 70);
    assert_eq!(same_as_file_mode(&node, &["-R", "-X", r#"<cib epoch="0" admin_epoch="0" num_updates="0"><configuration/></cib>"#]), 103);
    assert_eq!(same_as_file_mode(&node, &["-Q", "-o", "resources"]), 0);
    assert_eq!(node.query(&[]), after_create, "refused operations changed the CIB");

    // Seed 002: query to a file, edit it, replace.
    let tmpxml = node.var.join("tmp.xml");
    std::fs::write(&tmpxml, node.query(&[]).replace(r#"type="Dummy""#, r#"type="Stateful""#)).unwrap();
    let o = node.cibadmin(&["-R", "-x", tmpxml.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let replaced = node.query(&["-o", "resources"]);
    assert!(replaced.contains(r#"type="Stateful""#), "{replaced}");

    // Modify, delete, bump, each visible at once.
    assert_eq!(code(&node.cibadmin(&["-M", "-X", r#"<primitive id="r1" description="web"/>"#])), 0);
    assert!(node.query(&["-o", "resources"]).contains(r#"description="web""#));
    let before_bump = cib::Version::of(&cib::xml::parse_element(&node.query(&[])).unwrap());
    assert_eq!(code(&node.cibadmin(&["-B"])), 0);
    let bumped = cib::Version::of(&cib::xml::parse_element(&node.query(&[])).unwrap());
    assert_eq!(bumped.epoch, before_bump.epoch + 1);

    // Persistence: the store verifies against its sig, and a restart serves it.
    let expected = node.query(&[]);
    let store = cib::store::CibStore::open(node.var.join("crm")).unwrap();
    let loaded = store.load().unwrap().expect("cib.xml exists");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert!(loaded.doc.root.find("primitive", "r1").is_some());
    cib.stop();
    assert!(!node.run.join("cib.sock").exists(), "the socket is removed at stop");
    let _cib = node.start_cib(&["--stand-alone"]);
    assert_eq!(node.query(&[]), expected, "after a restart");

    assert_eq!(code(&node.cibadmin(&["-D", "-X", r#"<primitive id="r1"/>"#])), 0);
    assert!(!node.query(&["-o", "resources"]).contains("r1"));
    assert_eq!(code(&node.cibadmin(&["-E", "--force"])), 0);
    let erased = cib::xml::parse_element(&node.query(&[])).unwrap();
    assert_eq!(erased.attr("admin_epoch"), Some("1"));
}
