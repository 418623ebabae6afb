//! Debian's ocf:heartbeat:IPaddr2 adds and removes an address, run by lrmd
//! inside a network namespace the test creates: a dummy (or veth) interface with a
//! private /24 that exists only in that namespace, so nothing outside it
//! is ever touched. Needs root (CI has it); skipped with a message
//! otherwise. The namespace is always deleted, even when the test fails.

mod common;

use std::process::Command;

use common::*;
use lrmd::op::{rc, OpStatus};

/// A network namespace, deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn create() -> Netns {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("lrmdt{}-{nanos}", std::process::id());
        run(&["netns", "add", &name]);
        // From here on the guard exists, so a failure below still deletes it.
        let ns = Netns { name };
        // A dummy interface where the kernel has the module; otherwise a
        // veth pair with both ends inside the namespace.
        if !ns.try_ip(&["link", "add", "dum0", "type", "dummy"]) {
            ns.ip(&["link", "add", "dum0", "type", "veth", "peer", "name", "dum1"]);
            ns.ip(&["link", "set", "dum1", "up"]);
        }
        ns.ip(&["addr", "add", "10.213.7.1/24", "dev", "dum0"]);
        ns.ip(&["link", "set", "dum0", "up"]);
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n NAME ARGS...`, which must succeed; its stdout.
    fn ip(&self, args: &[&str]) -> String {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        run(&full)
    }

    fn try_ip(&self, args: &[&str]) -> bool {
        Command::new("ip").args(["-n", &self.name]).args(args).output().is_ok_and(|o| o.status.success())
    }

    fn addresses(&self) -> String {
        self.ip(&["-4", "addr", "show", "dev", "dum0"])
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "delete", &self.name]).status();
    }
}

fn run(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("iproute2's ip is installed");
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn ipaddr2_adds_and_removes_an_address_inside_a_namespace() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIPPED: network namespaces need root (CI runs this test as root)");
        return;
    }
    let ns = Netns::create();
    let d = Lrmd::start_in_netns(Some(&ns.name));
    let mut c = d.client();
    c.register(
        ocf("vip", "heartbeat", "IPaddr2")
            .with_param("ip", "10.213.7.50")
            .with_param("cidr_netmask", "24")
            .with_param("nic", "dum0"),
    )
    .unwrap();

    let probe = op(&mut c, "vip", "monitor", 0, 20_000);
    assert_eq!((probe.rc, probe.status), (rc::NOT_RUNNING, OpStatus::Done), "{probe:?}");
    let start = op(&mut c, "vip", "start", 0, 20_000);
    assert_eq!((start.rc, start.status), (rc::OK, OpStatus::Done), "{start:?}");
    assert!(ns.addresses().contains("inet 10.213.7.50/24"), "{}", ns.addresses());
    assert_eq!(op(&mut c, "vip", "monitor", 0, 20_000).rc, rc::OK);
    assert!(start.digests.op_digest.is_some(), "{start:?}");

    let stop = op(&mut c, "vip", "stop", 0, 20_000);
    assert_eq!((stop.rc, stop.status), (rc::OK, OpStatus::Done), "{stop:?}");
    assert!(!ns.addresses().contains("10.213.7.50"), "{}", ns.addresses());
    assert_eq!(op(&mut c, "vip", "monitor", 0, 20_000).rc, rc::NOT_RUNNING);
    // The address never existed outside the namespace.
    assert!(!run(&["-4", "addr", "show"]).contains("10.213.7.50"));
}
