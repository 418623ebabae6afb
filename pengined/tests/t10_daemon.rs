//! The real `pengine` daemon on a temporary HA_RUNDIR / HA_VARLIB:
//! - suite CIBs sent through the socket give the graph the library gives;
//! - every input is saved as pe-input-N.bz2 with increasing transition ids;
//! - crm_simulate -x and crm_verify -x read a saved .bz2 input;
//! - the series wraps at pe-input-series-max;
//! - a scheduler panic is answered as an error and the server goes on
//!   (in-process server with a scheduler that panics on demand).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cib::model::Cib;
use cib::{Document, Element};

const SUITE: &str = "../../shared/pcmk-suite/xml";
/// A fixed scheduling time, so the daemon and the direct call agree.
const NOW: &str = "1700000000";

/// Kills the daemon on drop, whatever happens in the test.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Daemon {
    _proc: Proc,
    socket: PathBuf,
    inputs: PathBuf,
}

fn start(root: &Path) -> Daemon {
    let run = root.join("run");
    let var = root.join("var");
    std::fs::create_dir_all(&run).unwrap();
    let log = std::fs::File::create(root.join("pengine.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_pengine"))
        .env("HA_NODENAME", "n1")
        .env("HA_RUNDIR", &run)
        .env("HA_VARLIB", &var)
        .env("HA_CONFDIR", root.join("conf"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let p = Proc(child);
    let socket = run.join("pengine.sock");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "pengine.sock did not appear");
        std::thread::sleep(Duration::from_millis(20));
    }
    Daemon { _proc: p, socket, inputs: var.join("pengine") }
}

fn suite_cib(name: &str) -> Element {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SUITE).join(format!("{name}.xml"));
    let mut doc = Document::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
    if doc.root.attr("execution-date").is_none() {
        doc.root.set_attr("execution-date", NOW);
    }
    doc.root
}

/// The graph as crm_simulate computes it, with the daemon's transition id.
fn library_graph(cib: &Element, transition_id: i32) -> String {
    let mut doc = Document { prolog: vec![], root: cib.clone(), epilog: vec![] };
    tools::simulate::ensure_status(&mut doc);
    let model = Cib::from_document(&doc).unwrap();
    let ws = pengine::unpack(&model, model.execution_date.unwrap());
    let mut graph = pengine::schedule(&model, ws).transition_graph(&model);
    graph.attrs.transition_id = transition_id;
    graph.to_xml()
}

fn compute(socket: &Path, cib: &Element) -> Result<pengined::Computed, pengined::Error> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(pengined::client::compute(socket, cib, Duration::from_secs(60)))
}

#[test]
fn suite_cibs_through_the_socket_match_the_library() {
    let tmp = tempfile::tempdir().unwrap();
    let d = start(tmp.path());
    let names = ["1484", "594", "829", "bug-5186-partial-migrate", "clone-anon-probe-2", "group2", "params-0", "rec-node-13", "simple11", "group10"];
    for (i, name) in names.iter().enumerate() {
        let cib = suite_cib(name);
        let got = compute(&d.socket, &cib).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.transition_id, i as u64, "{name}");
        assert_eq!(got.graph.attrs.transition_id, i as i32);
        assert_eq!(got.graph.to_xml(), library_graph(&cib, i as i32), "{name}: daemon vs library");
        assert!(got.saved && got.input.exists(), "{name}: {}", got.input.display());
        assert!(got.input.starts_with(&d.inputs), "{}", got.input.display());
        let file = got.input.file_name().unwrap().to_string_lossy().into_owned();
        assert!(file.ends_with(".bz2") && file.starts_with("pe-"), "{file}");
    }
    // Not a CIB: an error, and the daemon still answers afterwards.
    let bad = cib::xml::parse_element("<configuration/>").unwrap();
    assert!(matches!(compute(&d.socket, &bad), Err(pengined::Error::Failed(_))));
    let again = compute(&d.socket, &suite_cib("1484")).unwrap();
    assert_eq!(again.transition_id, names.len() as u64, "a failed run does not use a transition id");
}

fn tool(name: &str) -> PathBuf {
    // Built by the tools package; build it here (a no-op when up to date).
    let st = Command::new(env!("CARGO"))
        .args(["build", "-q", "-p", "tools", "--bin", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(st.success());
    PathBuf::from(env!("CARGO_BIN_EXE_pengine")).parent().unwrap().join(name)
}

#[test]
fn saved_inputs_replay_with_crm_simulate_and_crm_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let d = start(tmp.path());
    let cib = suite_cib("group2");
    let got = compute(&d.socket, &cib).unwrap();
    assert_eq!(got.input, d.inputs.join("pe-input-0.bz2"));
    let plain = tmp.path().join("group1.xml");
    std::fs::write(&plain, Document { prolog: vec![], root: cib, epilog: vec![] }.to_xml()).unwrap();

    let sim = tool("crm_simulate");
    let run = |f: &Path| Command::new(&sim).env_remove("CIB_file").arg("-x").arg(f).arg("-S").output().unwrap();
    let (from_bz2, from_xml) = (run(&got.input), run(&plain));
    assert!(from_bz2.status.success(), "{}", String::from_utf8_lossy(&from_bz2.stderr));
    let text = String::from_utf8_lossy(&from_bz2.stdout);
    assert!(text.contains("Transition Summary:") && text.contains("Revised Cluster Status:"), "{text}");
    assert_eq!(text, String::from_utf8_lossy(&from_xml.stdout), "the saved input replays as the original");

    let verify = Command::new(tool("crm_verify")).env_remove("CIB_file").arg("-x").arg(&got.input).output().unwrap();
    let plain_verify = Command::new(tool("crm_verify")).env_remove("CIB_file").arg("-x").arg(&plain).output().unwrap();
    assert_eq!(verify.status.code(), plain_verify.status.code());
    assert_ne!(verify.status.code(), Some(1), "crm_verify could not read the .bz2: {}", String::from_utf8_lossy(&verify.stderr));
}

#[test]
fn the_series_wraps_at_its_max() {
    let tmp = tempfile::tempdir().unwrap();
    let d = start(tmp.path());
    let mut cib = suite_cib("group2");
    let opts = Element::new("cluster_property_set").with_attr("id", "series").with_child(
        Element::new("nvpair").with_attr("id", "series-max").with_attr("name", "pe-input-series-max").with_attr("value", "2"),
    );
    let cfg = cib.child_mut("configuration").unwrap().child_or_insert("crm_config");
    cfg.children.push(cib::Node::Element(opts));
    let files: Vec<String> = (0..5)
        .map(|_| compute(&d.socket, &cib).unwrap().input.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["pe-input-0.bz2", "pe-input-1.bz2", "pe-input-0.bz2", "pe-input-1.bz2", "pe-input-0.bz2"]);
    assert_eq!(std::fs::read_to_string(d.inputs.join("pe-input.last")).unwrap().trim(), "1");
}

fn panics_on_marker(cib: &Element, now: i64, id: u64) -> Result<pengined::compute::Scheduled, String> {
    if cib.attr("crash-me").is_some() {
        panic!("scheduler bug on purpose");
    }
    pengined::compute::schedule(cib, now, id)
}

#[test]
fn a_scheduler_panic_is_answered_and_the_server_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let socket = tmp.path().join("pengine.sock");
    let opts = pengined::server::Options { socket: socket.clone(), inputs: tmp.path().join("pengine"), scheduler: panics_on_marker };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(pengined::server::run(opts, async {
            let _ = stopped.await;
        }));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut crash = suite_cib("group2");
        crash.set_attr("crash-me", "1");
        match pengined::client::compute(&socket, &crash, Duration::from_secs(30)).await {
            Err(pengined::Error::Failed(why)) => assert!(why.contains("scheduler bug on purpose"), "{why}"),
            other => panic!("expected a failure, got {other:?}"),
        }
        let ok = pengined::client::compute(&socket, &suite_cib("group2"), Duration::from_secs(30)).await.unwrap();
        assert_eq!(ok.transition_id, 0);
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    });
    assert!(!socket.exists(), "the socket is removed on shutdown");
}

#[test]
fn no_daemon_is_not_connected() {
    let tmp = tempfile::tempdir().unwrap();
    let e = compute(&tmp.path().join("pengine.sock"), &suite_cib("group2")).unwrap_err();
    assert!(matches!(e, pengined::Error::NotConnected { .. }), "{e}");
}
