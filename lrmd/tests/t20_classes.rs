//! LSB init scripts, Heartbeat resource.d scripts and fence agents, all
//! written by the test, run through the daemon socket.

mod common;

use common::*;
use lrmd::op::{rc, OpStatus};
use lrmd::resource::{AgentClass, ResourceSpec};

/// An init script whose service is "running" while its pid file exists,
/// with LSB status codes (3 = not running).
fn init_script(state: &std::path::Path) -> String {
    format!(
        "#!/bin/sh\nS={}\ncase \"$1\" in\n start) touch $S ;;\n stop) rm -f $S ;;\n \
         status) if [ -f $S ]; then echo \"svc is running\"; exit 0; else echo \"svc is stopped\"; exit 3; fi ;;\n \
         *) exit 3 ;;\nesac\nexit 0\n",
        state.display()
    )
}

#[test]
fn lsb_script_start_status_stop() {
    let d = Lrmd::start();
    let state = d.root().join("svc.pid");
    d.script(&d.init_d().join("svc"), &init_script(&state));
    let mut c = d.client();
    c.register(ResourceSpec::new("web", AgentClass::Lsb, None, "svc")).unwrap();
    assert_eq!(op(&mut c, "web", "monitor", 0, 5_000).rc, rc::NOT_RUNNING, "LSB status 3 is not running");
    assert_eq!(op(&mut c, "web", "start", 0, 5_000).rc, rc::OK);
    assert!(state.exists());
    assert_eq!(op(&mut c, "web", "monitor", 0, 5_000).rc, rc::OK);
    assert_eq!(op(&mut c, "web", "stop", 0, 5_000).rc, rc::OK);
    assert!(!state.exists());
    let r = op(&mut c, "web", "promote", 0, 5_000);
    assert_eq!((r.rc, r.status), (rc::UNIMPLEMENTED, OpStatus::NotSupported));
}

#[test]
fn lsb_provider_heartbeat_uses_the_seed_002_directory() {
    let d = Lrmd::start();
    let state = d.root().join("mysql.pid");
    d.script(&d.lsb_heartbeat().join("mysql"), &init_script(&state));
    let mut c = d.client();
    c.register(ResourceSpec::new("mysql_2", AgentClass::Lsb, Some("heartbeat"), "mysql")).unwrap();
    assert_eq!(op(&mut c, "mysql_2", "start", 0, 5_000).rc, rc::OK);
    assert!(state.exists());
    assert_eq!(op(&mut c, "mysql_2", "monitor", 0, 5_000).rc, rc::OK);
}

#[test]
fn v1_status_is_judged_by_its_words() {
    let d = Lrmd::start();
    // Exit codes say the opposite of the words; v1 mode believes the words.
    let flag = d.root().join("up");
    d.script(
        &d.init_d().join("old"),
        &format!(
            "#!/bin/sh\n[ \"$1\" = status ] || exit 0\nif [ -f {} ]; then echo 'OK'; exit 3; else echo 'No server process'; exit 0; fi\n",
            flag.display()
        ),
    );
    let mut c = d.client();
    let mut spec = ResourceSpec::new("old", AgentClass::Lsb, None, "old");
    spec.status_by_output = true;
    c.register(spec).unwrap();
    assert_eq!(op(&mut c, "old", "monitor", 0, 5_000).rc, rc::NOT_RUNNING);
    std::fs::write(&flag, "").unwrap();
    assert_eq!(op(&mut c, "old", "status", 0, 5_000).rc, rc::OK);
}

#[test]
fn resource_d_script_gets_haresources_arguments() {
    let d = Lrmd::start();
    let log = d.root().join("ipaddr.log");
    let up = d.root().join("ip.up");
    d.script(
        &d.resource_d().join("TestIP"),
        &format!(
            "#!/bin/sh\necho \"$#:$*\" >> {log}\nlast=$(eval echo \\${{$#}})\ncase $last in\n start) touch {up} ;;\n stop) rm -f {up} ;;\n \
             status) if [ -f {up} ]; then echo running; else echo stopped; fi ;;\nesac\nexit 0\n",
            log = log.display(),
            up = up.display()
        ),
    );
    let mut c = d.client();
    let spec = ResourceSpec::from_haresources("TestIP::192.168.0.150/24/eth0:0");
    c.register(spec).unwrap();
    let id = "TestIP::192.168.0.150/24/eth0:0";
    assert_eq!(op(&mut c, id, "monitor", 0, 5_000).rc, rc::NOT_RUNNING);
    assert_eq!(op(&mut c, id, "start", 0, 5_000).rc, rc::OK);
    assert_eq!(op(&mut c, id, "monitor", 0, 5_000).rc, rc::OK);
    assert_eq!(op(&mut c, id, "stop", 0, 5_000).rc, rc::OK);
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls,
        "2:192.168.0.150/24/eth0:0 status\n2:192.168.0.150/24/eth0:0 start\n\
         2:192.168.0.150/24/eth0:0 status\n2:192.168.0.150/24/eth0:0 stop\n"
    );
}

#[test]
fn fence_agent_reads_name_value_lines_on_stdin() {
    let d = Lrmd::start();
    let log = d.root().join("fence.log");
    d.script(
        &d.stonith_dir().join("fence_test"),
        &format!(
            // (lrmd also asks for meta-data, to record digests: not logged.)
            "#!/bin/sh\nport=; action=; seen=\nwhile read line; do seen=\"$seen$line\n\"\n case $line in port=*) port=${{line#port=}};; action=*) action=${{line#action=}};; esac\ndone\n\
             [ \"$action\" = metadata ] && exit 0\nprintf \"$seen\" >> {log}\n\
             [ \"$action\" = monitor ] && exit 0\n[ \"$port\" = node2 ] && exit 0\nexit 1\n",
            log = log.display()
        ),
    );
    let mut c = d.client();
    c.register(ResourceSpec::new("fence1", AgentClass::Stonith, None, "fence_test").with_param("port", "node2")).unwrap();
    assert_eq!(op(&mut c, "fence1", "start", 0, 5_000).rc, rc::OK);
    assert_eq!(op(&mut c, "fence1", "reboot", 0, 5_000).rc, rc::OK);
    assert_eq!(op(&mut c, "fence1", "stop", 0, 5_000).rc, rc::OK);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "port=node2\naction=monitor\nport=node2\naction=reboot\n");
    c.register(ResourceSpec::new("fence2", AgentClass::Stonith, None, "fence_test").with_param("port", "node9")).unwrap();
    assert_eq!(op(&mut c, "fence2", "off", 0, 5_000).rc, rc::UNKNOWN_ERROR);
}

#[test]
fn haresources_names_are_looked_up_in_resource_d_then_init_d() {
    let d = Lrmd::start();
    let dirs = lrmd::agent::AgentDirs { resource_d: d.resource_d(), init_d: d.init_d(), ..Default::default() };
    // `svc` is only an init script; `both` is in both places (resource.d
    // wins); `gone` is nowhere.
    let state = d.root().join("svc.pid");
    d.script(&d.init_d().join("svc"), &init_script(&state));
    let from_rd = d.root().join("from-resource.d");
    d.script(&d.resource_d().join("both"), &format!("#!/bin/sh\necho \"$@\" >> {}\necho running\n", from_rd.display()));
    d.script(&d.init_d().join("both"), "#!/bin/sh\nexit 1\n");

    let svc = ResourceSpec::from_haresources_in("svc", &dirs);
    assert_eq!((svc.class, svc.status_by_output), (AgentClass::Lsb, true));
    let both = ResourceSpec::from_haresources_in("both::arg1", &dirs);
    assert_eq!(both.class, AgentClass::Heartbeat);
    let gone = ResourceSpec::from_haresources_in("gone::x", &dirs);
    assert_eq!(gone.class, AgentClass::Heartbeat);

    let mut c = d.client();
    for s in [svc, both, gone] {
        c.register(s).unwrap();
    }
    assert_eq!(op(&mut c, "svc", "start", 0, 5_000).rc, rc::OK);
    assert!(state.exists(), "the init.d script ran");
    assert_eq!(op(&mut c, "svc", "monitor", 0, 5_000).rc, rc::OK, "v1 words: \"svc is running\"");
    assert_eq!(op(&mut c, "both::arg1", "start", 0, 5_000).rc, rc::OK);
    assert_eq!(std::fs::read_to_string(&from_rd).unwrap(), "arg1 start\n", "the resource.d script ran, with its argument");
    let r = op(&mut c, "gone::x", "start", 0, 5_000);
    assert_eq!(r.status, OpStatus::NotInstalled);
    assert!(r.exit_reason.unwrap().ends_with("conf/resource.d/gone is not installed"));
}
