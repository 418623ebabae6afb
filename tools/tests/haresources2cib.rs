//! haresources2cib: golden CIBs for the seeds' haresources lines, the
//! explicit argument mappings, and the seeds' invocations.
//!
//! Golden files: `tests/fixtures/haresources2cib/<case>.haresources` is
//! converted (with `ha.cf` beside it, a resource.d holding `drbddisk`,
//! `IPaddr`, `runhttpd.sh`, `runjboss.sh`, and an init.d holding the
//! rest) and compared with `<case>.xml`. `UPDATE_GOLDEN=1` rewrites them.

use std::path::{Path, PathBuf};
use std::process::Command;

use cib::model::Cib;
use tools::haresources2cib::{convert, Options};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/haresources2cib")
}

/// A configuration directory with resource.d and an init.d, as on the
/// seeds' machines.
fn confdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("resource.d")).unwrap();
    std::fs::create_dir(dir.path().join("init.d")).unwrap();
    for s in ["drbddisk", "IPaddr", "Filesystem", "runhttpd.sh", "runjboss.sh"] {
        std::fs::write(dir.path().join("resource.d").join(s), "#!/bin/sh\n").unwrap();
    }
    for s in ["httpd", "nginx", "tomcat", "mysql"] {
        std::fs::write(dir.path().join("init.d").join(s), "#!/bin/sh\n").unwrap();
    }
    std::fs::copy(fixtures().join("ha.cf"), dir.path().join("ha.cf")).unwrap();
    dir
}

fn options(conf: &Path) -> Options {
    Options { ocf: true, monitor: true, resource_d: conf.join("resource.d"), lsb_dir: conf.join("init.d") }
}

fn hacf() -> transport::hacf::HaCf {
    transport::hacf::parse(&std::fs::read_to_string(fixtures().join("ha.cf")).unwrap(), "ha.cf").0
}

fn cases() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".haresources").map(str::to_string))
        .collect();
    v.sort();
    assert!(v.len() >= 8, "fixtures missing");
    v
}

fn converted(case: &str, conf: &Path) -> (cib::Document, Vec<String>) {
    let text = std::fs::read_to_string(fixtures().join(format!("{case}.haresources"))).unwrap();
    let conv = convert(&text, &hacf(), &options(conf));
    (cib::Document::new(conv.cib), conv.warnings)
}

#[test]
fn golden_cibs_of_the_seeds_lines() {
    let conf = confdir();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for case in cases() {
        let (doc, warnings) = converted(&case, conf.path());
        assert!(warnings.is_empty(), "{case}: unexpected warnings {warnings:?}");
        let got = doc.to_file_string();
        let path = fixtures().join(format!("{case}.xml"));
        if update {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
        if got != want {
            failures.push(format!("{case}: output differs from {}:\n{got}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_converted_cib_validates_and_unpacks() {
    let conf = confdir();
    for case in cases() {
        let (doc, _) = converted(&case, conf.path());
        let report = schemas::validate(&doc);
        assert!(report.is_valid(), "{case}: {report:?}");
        let model = Cib::from_document(&doc).unwrap_or_else(|e| panic!("{case}: {e}"));
        let ws = pengine::unpack(&model, 0);
        let lines = std::fs::read_to_string(fixtures().join(format!("{case}.haresources"))).unwrap();
        // One top-level resource per line.
        assert_eq!(ws.top_level.len(), lines.lines().filter(|l| !l.trim().is_empty()).count(), "{case}");
        assert_eq!(model.constraints.locations.len(), ws.top_level.len(), "{case}");
    }
}

/// (primitive id, nvpair name) -> value, over every primitive.
fn params(doc: &cib::Document) -> Vec<(String, String, String)> {
    let model = Cib::from_document(doc).unwrap();
    let mut out = Vec::new();
    for p in model.primitives() {
        for set in &p.instance_attributes {
            for nv in &set.pairs {
                out.push((p.id.clone(), nv.name.clone(), nv.value.clone().unwrap_or_default()));
            }
        }
    }
    out
}

fn has(ps: &[(String, String, String)], id: &str, name: &str, value: &str) -> bool {
    ps.iter().any(|(i, n, v)| i == id && n == name && v == value)
}

#[test]
fn explicit_mappings() {
    let conf = confdir();
    let get = |case: &str| params(&converted(case, conf.path()).0);

    // A bare address with netmask and interface; never nic=24.
    let p = get("seed000_vip_httpd");
    assert!(has(&p, "IPaddr_192_168_10_118", "ip", "192.168.10.118"));
    assert!(has(&p, "IPaddr_192_168_10_118", "cidr_netmask", "24"));
    assert!(has(&p, "IPaddr_192_168_10_118", "nic", "eth0"));

    // eth0:0 is an interface with a label.
    let p = get("seed001_label");
    assert!(has(&p, "IPaddr_192_168_0_150", "nic", "eth0"));
    assert!(has(&p, "IPaddr_192_168_0_150", "iflabel", "0"));
    assert!(has(&p, "IPaddr_192_168_0_150", "cidr_netmask", "24"));

    // Seed 002's bug: nic="24", cidr_netmask="bond0". Not here.
    let p = get("seed002_netmask_nic");
    assert!(has(&p, "IPaddr_172_18_57_83", "cidr_netmask", "24"));
    assert!(has(&p, "IPaddr_172_18_57_83", "nic", "bond0"));
    assert!(!p.iter().any(|(_, n, v)| n == "nic" && v == "24"));

    let p = get("seed003_broadcast");
    assert!(has(&p, "IPaddr_192_168_100_100", "broadcast", "192.168.100.255"));
    assert!(has(&p, "IPaddr_192_168_100_100", "nic", "eth0"));

    let p = get("seed003_nfs");
    assert!(has(&p, "Filesystem_2", "device", "192.168.100.9:/data/html"));
    assert!(has(&p, "Filesystem_2", "directory", "/var/www/html"));
    assert!(has(&p, "Filesystem_2", "fstype", "nfs"));

    let p = get("seed004_drbd");
    assert!(has(&p, "drbddisk_2", "1", "r0"));
    assert!(has(&p, "Filesystem_3", "device", "/dev/drbd1"));
}

#[test]
fn classes_groups_locations_and_monitors() {
    let conf = confdir();
    let (doc, _) = converted("seed002_groups", conf.path());
    let model = Cib::from_document(&doc).unwrap();
    let class = |id: &str| model.primitive(id).map(|p| format!("{:?}", p.class).to_lowercase());
    // resource.d has them: heartbeat class, as in seed 002's cib.xml.
    assert_eq!(class("runhttpd.sh_2").as_deref(), Some("heartbeat"));
    assert_eq!(class("runjboss.sh_4").as_deref(), Some("heartbeat"));
    assert_eq!(class("IPaddr_192_168_1_205").as_deref(), Some("ocf"));
    let root = &doc.root;
    let group = root.find("group", "group_1").expect("group_1");
    let order: Vec<_> = group.elements().filter_map(|e| e.attr("id")).collect();
    assert_eq!(order, ["IPaddr_192_168_1_205", "runhttpd.sh_2"], "start order is the line's order");
    let loc = root.find("rsc_location", "rsc_location_group_1").expect("location");
    let expr = loc.descendants().find(|e| e.name == "expression").unwrap();
    assert_eq!(expr.attr("value"), Some("node1"));
    assert_eq!(loc.child("rule").unwrap().attr("score"), Some("100"));
    let op = |id: &str| root.find("op", id).map(|o| (o.attr("interval").unwrap().to_string(), o.attr("timeout").unwrap().to_string()));
    assert_eq!(op("IPaddr_192_168_1_205_mon"), Some(("5s".into(), "5s".into())));
    assert_eq!(op("runhttpd.sh_2_mon"), Some(("120s".into(), "60s".into())));

    // A plain name not in resource.d is an init script.
    let (doc, _) = converted("seed000_vip_httpd", conf.path());
    let model = Cib::from_document(&doc).unwrap();
    assert_eq!(format!("{:?}", model.primitive("httpd_2").unwrap().class).to_lowercase(), "lsb");
}

#[test]
fn auto_failback_and_stonith_from_ha_cf() {
    let conf = confdir();
    let cf = |text: &str| transport::hacf::parse(text, "ha.cf").0;
    let opt = |doc: &cib::Element, name: &str| {
        doc.descendants().find(|e| e.name == "nvpair" && e.attr("name") == Some(name)).and_then(|e| e.attr("value")).map(str::to_string)
    };
    let line = "node1 10.0.0.1 httpd\n";
    let on = convert(line, &cf("node node1 node2\nauto_failback on\n"), &options(conf.path()));
    assert_eq!(opt(&on.cib, "default-resource-stickiness").as_deref(), Some("0"));
    assert_eq!(opt(&on.cib, "stonith-enabled").as_deref(), Some("false"));
    let off = convert(line, &cf("node node1 node2\nauto_failback off\nstonith_host * baytech 10.0.0.3 login secret\n"), &options(conf.path()));
    assert_eq!(opt(&off.cib, "default-resource-stickiness").as_deref(), Some("INFINITY"));
    assert_eq!(opt(&off.cib, "stonith-enabled").as_deref(), Some("true"));
    let dev = off.cib.find("primitive", "stonith_4").expect("stonith device numbered after the resources");
    assert_eq!(dev.attr("class"), Some("stonith"));
    assert!(off.cib.find("clone", "clone_4").is_some(), "'*' clones the device");
    assert!(off.warnings.iter().any(|w| w.contains("baytech")), "{:?}", off.warnings);
    let doc = cib::Document::new(off.cib);
    assert!(schemas::validate(&doc).is_valid());
}

#[test]
fn user_ids_no_monitor_no_ocf() {
    let conf = confdir();
    let cf = transport::hacf::parse("node node1\n", "ha.cf").0;
    let mut o = options(conf.path());
    let c = convert("node1 10.0.0.1 httpd #web\nnode1 nginx #proxy\n", &cf, &o);
    assert!(c.cib.find("group", "web").is_some());
    assert!(c.cib.find("rsc_location", "rsc_location_web").is_some());
    assert!(c.cib.find("primitive", "proxy").is_some());
    o.monitor = false;
    o.ocf = false;
    let c = convert("node1 IPaddr::10.0.0.1/24/eth0 httpd\n", &cf, &o);
    assert!(c.cib.descendants().all(|e| e.name != "op"));
    let ip = c.cib.find("primitive", "IPaddr_10_0_0_1").unwrap();
    assert_eq!(ip.attr("class"), Some("heartbeat"), "--no-ocf: resource.d/IPaddr with its argument");
    let nv = ip.descendants().find(|e| e.name == "nvpair").unwrap();
    assert_eq!((nv.attr("name"), nv.attr("value")), (Some("1"), Some("10.0.0.1/24/eth0")));
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_haresources2cib"))
}

#[test]
fn seed_invocations() {
    let conf = confdir();
    let varlib = tempfile::tempdir().unwrap();
    let hares = conf.path().join("haresources");
    std::fs::copy(fixtures().join("seed002_groups.haresources"), &hares).unwrap();
    let run = |args: &[&str]| {
        bin()
            .args(args)
            .env("HA_CONFDIR", conf.path())
            .env("HA_VARLIB", varlib.path())
            .env("HA_NODENAME", "node1")
            .current_dir(conf.path())
            .output()
            .unwrap()
    };
    // Seed 002: `haresources2cib.py --stdout -c ha.cf haresources`.
    let out = run(&["--stdout", "-c", "ha.cf", "haresources"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(r#"id="runhttpd.sh_2""#), "{stdout}");
    // Its typo'd spelling with an en dash means the same.
    let typo = run(&["\u{2013}stout", "-c", "ha.cf", "haresources"]);
    assert_eq!(String::from_utf8(typo.stdout).unwrap(), stdout);

    // Seed 002, second form: no --stdout writes $HA_VARLIB/crm/cib.xml ...
    let out = run(&["haresources"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let written = varlib.path().join("crm/cib.xml");
    let loaded = cib::store::CibStore::open(varlib.path().join("crm")).unwrap().load().unwrap().expect("cib.xml");
    assert!(loaded.doc.root.find("group", "group_1").is_some());
    assert!(varlib.path().join("crm/cib.xml.sig").exists(), "written with its digest");
    // ... and refuses to overwrite it.
    let before = std::fs::read(&written).unwrap();
    let out = run(&["haresources"]);
    assert_eq!(out.status.code(), Some(108));
    assert!(String::from_utf8_lossy(&out.stderr).contains("please remove them before generating new cib.xml"));
    assert_eq!(std::fs::read(&written).unwrap(), before);

    // Defaults come from HA_CONFDIR.
    let out = run(&["--stdout"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), stdout);
}
