//! Heartbeat's cluster-glue stonith plugins through lrmd's socket, with
//! the real `/usr/sbin/stonith` (Debian's cluster-glue package, which
//! Debian's heartbeat depends on): the `null` plugin and `external/ssh`
//! forms that work offline, and the ha.cf `stonith` / `stonith_host` lines.

mod common;

use std::path::Path;

use common::*;
use lrmd::op::{rc, OpRequest, OpStatus};
use lrmd::resource::{AgentClass, ResourceSpec};

fn require_cluster_glue() {
    assert!(
        Path::new("/usr/sbin/stonith").exists() && Path::new("/usr/lib/stonith/plugins/stonith2/null.so").exists(),
        "cluster-glue's stonith(8) and plugins are required (apt-get install -y cluster-glue; Debian's heartbeat pulls it in)"
    );
}

fn with_port(rsc: &str, action: &str, port: &str) -> OpRequest {
    let mut r = OpRequest::new(rsc, action, 0, 20_000);
    r.params.insert("port".into(), port.into());
    r
}

#[test]
fn null_plugin_status_list_fence_and_metadata() {
    require_cluster_glue();
    let d = Lrmd::start();
    let mut c = d.client();
    c.register(ResourceSpec::new("st", AgentClass::Stonith, None, "null").with_param("hostlist", "node1 node2")).unwrap();
    let r = op(&mut c, "st", "start", 0, 20_000);
    assert_eq!((r.rc, r.status), (rc::OK, OpStatus::Done), "{r:?}");
    assert_eq!(op(&mut c, "st", "monitor", 0, 20_000).rc, rc::OK);
    let r = op(&mut c, "st", "list", 0, 20_000);
    assert_eq!((r.rc, r.output.as_str()), (rc::OK, "node1\nnode2\n"));
    let r = c.exec_wait(with_port("st", "reboot", "node2"), std::time::Duration::from_secs(30)).unwrap();
    assert_eq!((r.rc, r.status), (rc::OK, OpStatus::Done), "{r:?}");
    let r = c.exec_wait(with_port("st", "off", "node1"), std::time::Duration::from_secs(30)).unwrap();
    assert_eq!(r.rc, rc::OK);
    let r = op(&mut c, "st", "reboot", 0, 20_000);
    assert_eq!((r.rc, r.status), (rc::INVALID_PARAM, OpStatus::Error), "reboot without a node is refused");
    let r = op(&mut c, "st", "meta-data", 0, 20_000);
    assert_eq!(r.rc, rc::OK);
    assert!(r.output.contains("<resource-agent name=\"null\">") && r.output.contains("hostlist"), "{}", r.output);
    assert_eq!(op(&mut c, "st", "stop", 0, 20_000).rc, rc::OK);

    // Without its parameters the plugin refuses: a failed operation.
    c.register(ResourceSpec::new("bare", AgentClass::Stonith, None, "null")).unwrap();
    assert_eq!(op(&mut c, "bare", "start", 0, 20_000).rc, rc::UNKNOWN_ERROR);
    // An unknown plugin fails too, and a path-like name never runs.
    c.register(ResourceSpec::new("nosuch", AgentClass::Stonith, None, "external/nosuch")).unwrap();
    assert_eq!(op(&mut c, "nosuch", "start", 0, 20_000).rc, rc::UNKNOWN_ERROR);
    c.register(ResourceSpec::new("evil", AgentClass::Stonith, None, "external/../../x")).unwrap();
    assert_eq!(op(&mut c, "evil", "start", 0, 20_000).status, OpStatus::NotInstalled);
}

#[test]
fn external_ssh_lists_its_hosts_and_describes_itself_offline() {
    require_cluster_glue();
    let d = Lrmd::start();
    let mut c = d.client();
    c.register(ResourceSpec::new("ssh", AgentClass::Stonith, None, "external/ssh").with_param("hostlist", "a b c")).unwrap();
    let r = op(&mut c, "ssh", "list", 0, 20_000);
    assert_eq!((r.rc, r.output.as_str()), (rc::OK, "a\nb\nc\n"), "{r:?}");
    let r = op(&mut c, "ssh", "meta-data", 0, 20_000);
    assert_eq!(r.rc, rc::OK);
    assert!(r.output.contains("<resource-agent name=\"external/ssh\">"), "{}", r.output);
}

#[test]
fn hacf_stonith_and_stonith_host_lines_run_their_devices() {
    require_cluster_glue();
    let d = Lrmd::start();
    // `stonith null FILE`: the file holds the values in the plugin's order.
    let file = d.root().join("conf/stonith.null");
    std::fs::write(&file, "# the hosts\nnodea nodeb\n").unwrap();
    let mut c = d.client();
    c.register(ResourceSpec::from_hacf_stonith("st-file", "null", file.to_str().unwrap())).unwrap();
    let r = op(&mut c, "st-file", "list", 0, 20_000);
    assert_eq!((r.rc, r.output.as_str()), (rc::OK, "nodea\nnodeb\n"), "{r:?}");
    assert_eq!(op(&mut c, "st-file", "start", 0, 20_000).rc, rc::OK);
    // `stonith_host * null nodec noded` (cluster-glue lowercases host names).
    c.register(ResourceSpec::from_hacf_stonith_host("st-host", "null", "nodec noded")).unwrap();
    let r = op(&mut c, "st-host", "list", 0, 20_000);
    assert_eq!((r.rc, r.output.as_str()), (rc::OK, "nodec\nnoded\n"), "{r:?}");
    let r = c.exec_wait(with_port("st-host", "reboot", "nodec"), std::time::Duration::from_secs(30)).unwrap();
    assert_eq!(r.rc, rc::OK);
}
