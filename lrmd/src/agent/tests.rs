use super::*;

fn dirs() -> AgentDirs {
    AgentDirs {
        ocf_root: "/ocf".into(),
        init_d: "/init.d".into(),
        lsb_heartbeat: "/lsbhb".into(),
        resource_d: "/rd".into(),
        stonith_dir: "/sbin".into(),
        stonith_cmd: "/glue/stonith".into(),
    }
}

fn base() -> Vec<(String, String)> {
    vec![("HA_RSCTMP".into(), "/tmp/n1".into())]
}

fn run(plan: Plan) -> Invocation {
    match plan {
        Plan::Run(i) => i,
        Plan::Immediate(r) => panic!("expected a run, got {r:?}"),
    }
}

#[test]
fn ocf_invocation_has_the_full_environment() {
    let spec = ResourceSpec::new("d1", AgentClass::Ocf, Some("heartbeat"), "Dummy").with_param("fake", "x");
    let mut req = OpRequest::new("d1", "monitor", 10_000, 20_000);
    req.params.insert("OCF_CHECK_LEVEL".into(), "10".into());
    req.meta.insert("clone-max".into(), "2".into());
    let inv = run(plan(&dirs(), &base(), &spec, &req));
    assert_eq!(inv.program, PathBuf::from("/ocf/resource.d/heartbeat/Dummy"));
    assert_eq!(inv.args, ["monitor"]);
    assert_eq!(inv.mapping, ExitMapping::Ocf);
    let expect = [
        ("PATH", AGENT_PATH),
        ("HA_RSCTMP", "/tmp/n1"),
        ("OCF_RA_VERSION_MAJOR", "1"),
        ("OCF_RA_VERSION_MINOR", "1"),
        ("OCF_ROOT", "/ocf"),
        ("OCF_RESOURCE_INSTANCE", "d1"),
        ("OCF_RESOURCE_TYPE", "Dummy"),
        ("OCF_RESOURCE_PROVIDER", "heartbeat"),
        ("OCF_CHECK_LEVEL", "10"),
        ("OCF_RESKEY_fake", "x"),
        ("OCF_RESKEY_CRM_meta_clone_max", "2"),
        ("OCF_RESKEY_CRM_meta_interval", "10000"),
        ("OCF_RESKEY_CRM_meta_timeout", "20000"),
    ];
    let got: Vec<(&str, &str)> = inv.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(got, expect);
}

#[test]
fn ocf_without_provider_or_with_a_path_is_refused() {
    let spec = ResourceSpec::new("d1", AgentClass::Ocf, None, "Dummy");
    let req = OpRequest::new("d1", "start", 0, 1000);
    assert!(matches!(plan(&dirs(), &[], &spec, &req), Plan::Immediate(r) if r.rc == rc::NOT_CONFIGURED));
    let spec = ResourceSpec::new("d1", AgentClass::Ocf, Some("heartbeat"), "../../bin/sh");
    assert!(matches!(plan(&dirs(), &[], &spec, &req), Plan::Immediate(r) if r.status == OpStatus::NotInstalled));
}

#[test]
fn lsb_monitor_is_status_and_provider_heartbeat_uses_seed_002_dir() {
    let spec = ResourceSpec::new("web", AgentClass::Lsb, None, "nginx");
    let inv = run(plan(&dirs(), &base(), &spec, &OpRequest::new("web", "monitor", 0, 1000)));
    assert_eq!((inv.program, inv.args, inv.mapping), (PathBuf::from("/init.d/nginx"), vec!["status".to_string()], ExitMapping::LsbStatus));
    let spec = ResourceSpec::new("db", AgentClass::Lsb, Some("heartbeat"), "mysql");
    let inv = run(plan(&dirs(), &base(), &spec, &OpRequest::new("db", "start", 0, 1000)));
    assert_eq!((inv.program, inv.mapping), (PathBuf::from("/lsbhb/mysql"), ExitMapping::Lsb));
    assert!(matches!(
        plan(&dirs(), &base(), &spec, &OpRequest::new("db", "promote", 0, 1000)),
        Plan::Immediate(r) if r.rc == rc::UNIMPLEMENTED && r.status == OpStatus::NotSupported
    ));
    let mut v1 = spec.clone();
    v1.status_by_output = true;
    let inv = run(plan(&dirs(), &base(), &v1, &OpRequest::new("db", "status", 0, 1000)));
    assert_eq!(inv.mapping, ExitMapping::StatusByOutput);
}

#[test]
fn heartbeat_class_passes_haresources_arguments_before_the_action() {
    let spec = ResourceSpec::from_haresources("IPaddr::192.168.0.150/24/eth0:0");
    let inv = run(plan(&dirs(), &base(), &spec, &OpRequest::new(&spec.id, "start", 0, 1000)));
    assert_eq!(inv.program, PathBuf::from("/rd/IPaddr"));
    assert_eq!(inv.args, ["192.168.0.150/24/eth0:0", "start"]);
    let spec = ResourceSpec::from_haresources("Filesystem::/dev/drbd0::/data::ext3");
    let inv = run(plan(&dirs(), &base(), &spec, &OpRequest::new(&spec.id, "monitor", 0, 1000)));
    assert_eq!(inv.args, ["/dev/drbd0", "/data", "ext3", "status"]);
    assert_eq!(inv.mapping, ExitMapping::StatusByOutput);
}

#[test]
fn stonith_parameters_go_on_stdin() {
    let spec = ResourceSpec::new("f", AgentClass::Stonith, None, "fence_lab").with_param("port", "node2").with_param("evil", "a\nb");
    let inv = run(plan(&dirs(), &base(), &spec, &OpRequest::new("f", "reboot", 0, 1000)));
    assert_eq!(inv.program, PathBuf::from("/sbin/fence_lab"));
    assert_eq!(inv.stdin.as_deref(), Some("port=node2\naction=reboot\n"));
    let inv = run(plan(&dirs(), &base(), &spec, &OpRequest::new("f", "start", 0, 1000)));
    assert_eq!(inv.stdin.as_deref(), Some("port=node2\naction=monitor\n"));
    assert!(matches!(plan(&dirs(), &base(), &spec, &OpRequest::new("f", "stop", 0, 1000)), Plan::Immediate(r) if r.rc == 0));
}

#[test]
fn status_words() {
    assert_eq!(status_from_output("nginx is running."), rc::OK);
    assert_eq!(status_from_output("Status: OK"), rc::OK);
    assert_eq!(status_from_output("nginx is not running"), rc::NOT_RUNNING);
    assert_eq!(status_from_output("mysqld is Stopped"), rc::NOT_RUNNING);
    assert_eq!(status_from_output("No mysqld process"), rc::NOT_RUNNING);
    assert_eq!(status_from_output("ok"), rc::NOT_RUNNING);
    // cluster-glue's glob is *not*running*: "not" anywhere before "running".
    assert_eq!(status_from_output("Nothing running here"), rc::NOT_RUNNING);
    assert_eq!(status_from_output("apache (pid 42) is running..."), rc::OK);
    assert_eq!(status_from_output(""), rc::NOT_RUNNING);
}

#[test]
fn exit_codes_per_class() {
    let p = std::path::Path::new("/x");
    let m = |mapping, code| map_outcome(mapping, p, Outcome::Exited(code), String::new(), String::new()).rc;
    assert_eq!([0, 7, 8, 190].map(|c| m(ExitMapping::Ocf, c)), [0, 7, 8, 190]);
    assert_eq!([0, 1, 2, 3, 4, 150].map(|c| m(ExitMapping::LsbStatus, c)), [0, 7, 7, 7, 1, 1]);
    assert_eq!([0, 1, 5, 7, 42].map(|c| m(ExitMapping::Lsb, c)), [0, 1, 5, 7, 1]);
    assert_eq!([0, 2].map(|c| m(ExitMapping::Stonith, c)), [0, 1]);
    let r = map_outcome(ExitMapping::StatusByOutput, p, Outcome::Exited(3), "running\n".into(), String::new());
    assert_eq!(r.rc, rc::OK);
}

#[test]
fn failures_to_run_are_results() {
    let p = std::path::Path::new("/ocf/resource.d/x/Nope");
    let r = map_outcome(ExitMapping::Ocf, p, Outcome::SpawnFailed { errno: Some(2), message: "x".into() }, String::new(), String::new());
    assert_eq!((r.rc, r.status), (rc::NOT_INSTALLED, OpStatus::NotInstalled));
    assert_eq!(r.exit_reason.as_deref(), Some("agent /ocf/resource.d/x/Nope is not installed"));
    let r = map_outcome(ExitMapping::Ocf, p, Outcome::SpawnFailed { errno: Some(13), message: "x".into() }, String::new(), String::new());
    assert_eq!((r.rc, r.status), (rc::INSUFFICIENT_PRIV, OpStatus::Error));
    let r = map_outcome(ExitMapping::Ocf, p, Outcome::Signaled(11), String::new(), String::new());
    assert_eq!((r.rc, r.status), (rc::UNKNOWN_ERROR, OpStatus::Error));
    assert_eq!(r.exit_reason.as_deref(), Some("agent was killed by signal 11 (SIGSEGV)"));
    let r = map_outcome(ExitMapping::Ocf, p, Outcome::TimedOut(500), String::new(), String::new());
    assert_eq!((r.rc, r.status), (rc::UNKNOWN_ERROR, OpStatus::Timeout));
}

#[test]
fn exit_reason_is_the_last_prefixed_line() {
    let err = "noise\nocf-exit-reason:first\nmore\nocf-exit-reason: Configuration file /x missing\n";
    assert_eq!(exit_reason(err).as_deref(), Some("Configuration file /x missing"));
    assert_eq!(exit_reason("nothing"), None);
    assert_eq!(exit_reason(&format!("ocf-exit-reason:{}", "é".repeat(100))).unwrap().len(), 128);
}

#[test]
fn cluster_glue_plugins_run_through_stonith_8() {
    let req = |a: &str| OpRequest::new("f", a, 0, 1000);
    let spec = ResourceSpec::new("f", AgentClass::Stonith, None, "external/ssh")
        .with_param("hostlist", "n1 n2")
        .with_param("port", "n2")
        .with_param("PATH", "/evil");
    let inv = run(plan(&dirs(), &base(), &spec, &req("reboot")));
    assert_eq!(inv.program, PathBuf::from("/glue/stonith"));
    assert_eq!(inv.args, ["-t", "external/ssh", "-E", "-T", "reset", "n2"]);
    assert!(inv.env.contains(&("hostlist".into(), "n1 n2".into())));
    assert_eq!(inv.env.iter().filter(|(k, _)| k == "PATH").map(|(_, v)| v.as_str()).collect::<Vec<_>>(), [AGENT_PATH]);
    assert_eq!(inv.stdin, None);
    assert_eq!(run(plan(&dirs(), &base(), &spec, &req("start"))).args, ["-t", "external/ssh", "-E", "-S"]);
    assert_eq!(run(plan(&dirs(), &base(), &spec, &req("list"))).args, ["-t", "external/ssh", "-E", "-l"]);
    assert_eq!(run(plan(&dirs(), &base(), &spec, &req("meta-data"))).args, ["-t", "external/ssh", "-m"]);
    assert!(matches!(plan(&dirs(), &base(), &spec, &req("stop")), Plan::Immediate(r) if r.rc == 0));
    // ha.cf forms.
    let file = ResourceSpec::new("f", AgentClass::Stonith, None, "baytech").with_param(glue::CONFIG_FILE, "/etc/ha.d/conf/stonith.baytech");
    assert!(matches!(plan(&dirs(), &base(), &file, &req("off")), Plan::Immediate(r) if r.rc == rc::INVALID_PARAM), "off needs a port");
    let file = file.with_param("port", "n1");
    assert_eq!(run(plan(&dirs(), &base(), &file, &req("off"))).args, ["-t", "baytech", "-F", "/etc/ha.d/conf/stonith.baytech", "-T", "off", "n1"]);
    let hosts = ResourceSpec::new("f", AgentClass::Stonith, None, "baytech").with_param(glue::CONFIG_PARAMS, "10.0.0.3 login secret");
    assert_eq!(run(plan(&dirs(), &base(), &hosts, &req("monitor"))).args, ["-t", "baytech", "-p", "10.0.0.3 login secret", "-S"]);
    // Path tricks are refused; fence_* stays a fence-agents program.
    for bad in ["../x", "external/../../x", "external/", ".hidden", "a/b"] {
        let s = ResourceSpec::new("f", AgentClass::Stonith, None, bad);
        assert!(matches!(plan(&dirs(), &base(), &s, &req("monitor")), Plan::Immediate(r) if r.status == OpStatus::NotInstalled), "{bad}");
    }
    let fa = ResourceSpec::new("f", AgentClass::Stonith, None, "fence_xvm");
    assert_eq!(run(plan(&dirs(), &base(), &fa, &req("monitor"))).program, PathBuf::from("/sbin/fence_xvm"));
}
