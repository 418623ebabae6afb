//! End to end: "DC failure: a new DC is elected and the cluster
//! continues; every CIB change acknowledged before the failure is present
//! afterwards" (issue 7). Three real nodes on 127.0.0.1-3 (heartbeat,
//! ccm, cib, attrd, pengine, lrmd, crmd each).
//!
//! - `a_dc_failure_loses_no_acknowledged_write`: a writer thread creates
//!   a `cluster_property_set` through a rotating node every 100 ms
//!   (cibadmin -C) and modifies a counter (cibadmin -M), remembering each
//!   write cibadmin acknowledged (exit 0). The DC crashes (every daemon
//!   SIGKILLed), twice in a row (the second time the DC elected after the
//!   first crash, the crashed node back). After each crash a new DC is
//!   elected among the survivors and writes go on; at the end every
//!   acknowledged write is in every node's CIB, and the counter holds the
//!   last acknowledged value.

mod cluster;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cluster::{wait_for, Cluster, Node};

const START: Duration = Duration::from_secs(60);

/// A node's command line for cibadmin, without borrowing the cluster.
#[derive(Clone)]
struct Target {
    env: Vec<(String, String)>,
    bin: std::path::PathBuf,
}

impl Target {
    fn of(n: &Node) -> Target {
        let c = n.command("cibadmin");
        let env = c
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_string_lossy().into_owned(), v?.to_string_lossy().into_owned())))
            .collect();
        Target { env, bin: cluster::bin("cibadmin") }
    }

    fn cibadmin(&self, args: &[&str]) -> bool {
        let mut c = std::process::Command::new(&self.bin);
        c.env_remove("CIB_file").env_remove("CIB_shadow").args(args);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.stdin(std::process::Stdio::null()).output().is_ok_and(|o| o.status.success())
    }
}

/// What the writer got acknowledged.
#[derive(Default)]
struct Acked {
    created: Vec<String>,
    /// The last acknowledged value of the counter.
    counter: Option<u64>,
    tried: u64,
}

fn writer(targets: Vec<Target>, stop: Arc<AtomicBool>, acked: Arc<Mutex<Acked>>) {
    let mut k = 0u64;
    while !stop.load(Ordering::Relaxed) {
        k += 1;
        let t = &targets[k as usize % targets.len()];
        let id = format!("w{k}");
        let set = format!(r#"<cluster_property_set id="{id}"><nvpair id="{id}-v" name="{id}" value="{k}"/></cluster_property_set>"#);
        let counter = format!(r#"<nvpair id="counter-v" name="counter" value="{k}"/>"#);
        let created = t.cibadmin(&["-C", "-o", "crm_config", "-X", &set]);
        let modified = t.cibadmin(&["-M", "-o", "crm_config", "-X", &counter]);
        let mut a = acked.lock().unwrap();
        a.tried += 1;
        if created {
            a.created.push(id);
        }
        if modified {
            a.counter = Some(k);
        }
        drop(a);
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn cib_of(n: &Node) -> String {
    String::from_utf8_lossy(&n.tool("cibadmin", &["-Q", "-o", "crm_config"]).stdout).into_owned()
}

/// The DC as the first live node other than `not` sees it.
fn dc_seen(c: &Cluster, not: &str) -> Option<String> {
    let via = c.nodes.iter().find(|n| n.name != not && !n.procs.is_empty())?;
    c.dc(&via.name).filter(|d| d.starts_with('n') && d != not)
}

#[test]
fn a_dc_failure_loses_no_acknowledged_write() {
    let mut c = Cluster::new(3, 47_670);
    for n in &mut c.nodes {
        n.start();
    }
    wait_for(
        START,
        || dc_seen(&c, "-").is_some() && c.nodes[0].crm_mon().contains("Online: [ n1 n2 n3 ]"),
        || format!("a DC and every node online\n{}\n{}", c.nodes[0].crm_mon(), c.logs()),
    );
    c.nodes[0].cibadmin(&[
        "-C",
        "-o",
        "crm_config",
        "-X",
        r#"<cluster_property_set id="counter"><nvpair id="counter-v" name="counter" value="0"/></cluster_property_set>"#,
    ]);

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Acked::default()));
    let targets: Vec<Target> = c.nodes.iter().map(Target::of).collect();
    let w = {
        let (stop, acked) = (stop.clone(), acked.clone());
        std::thread::spawn(move || writer(targets, stop, acked))
    };
    struct StopWriter(Arc<AtomicBool>);
    impl Drop for StopWriter {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let guard = StopWriter(stop);

    for round in 0..2 {
        std::thread::sleep(Duration::from_secs(3));
        let dc = dc_seen(&c, "-").expect("a DC");
        let before = acked.lock().unwrap().created.len();
        eprintln!("round {round}: crashing the DC {dc} ({before} writes acknowledged so far)");
        let t0 = Instant::now();
        c.node(&dc).crash();
        let mut new_dc = None;
        wait_for(
            Duration::from_secs(30),
            || {
                new_dc = dc_seen(&c, &dc);
                new_dc.is_some()
            },
            || format!("a new DC after {dc} crashed\n{}", c.logs()),
        );
        eprintln!("round {round}: {} is the DC after {:?}", new_dc.unwrap(), t0.elapsed());
        // The cluster goes on: writes are acknowledged again.
        wait_for(
            Duration::from_secs(30),
            || acked.lock().unwrap().created.len() > before + 5,
            || format!("writes acknowledged after the DC's crash\n{}", c.logs()),
        );
        c.node(&dc).start();
        wait_for(START, || c.nodes[0].crm_mon().contains("Online: [ n1 n2 n3 ]"), || {
            format!("{dc} back online\n{}\n{}", c.nodes[0].crm_mon(), c.logs())
        });
    }
    drop(guard);
    w.join().unwrap();

    let a = acked.lock().unwrap();
    eprintln!("{} of {} writes acknowledged", a.created.len(), a.tried);
    assert!(a.created.len() >= 20, "the writer got too few writes through: {}", a.created.len());
    // Every copy converges on the same CIB, holding every acknowledged write.
    wait_for(
        Duration::from_secs(20),
        || c.nodes.iter().map(cib_of).collect::<std::collections::BTreeSet<_>>().len() == 1,
        || "every node's CIB to be the same".into(),
    );
    for n in &c.nodes {
        let cib = cib_of(n);
        let lost: Vec<&String> = a.created.iter().filter(|id| !cib.contains(&format!(r#"id="{id}""#))).collect();
        assert!(lost.is_empty(), "{}: acknowledged writes missing: {lost:?}\n{}", n.name, c.logs());
        if let Some(v) = a.counter {
            // Later writes may have been applied without an answer (the
            // master died first), never earlier ones.
            let got: u64 = cib
                .split(r#"name="counter" value=""#)
                .nth(1)
                .and_then(|r| r.split('"').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            assert!(got >= v, "{}: counter {got}, last acknowledged {v}", n.name);
        }
    }
}
