//! The lab's power switch: a relay in the host's namespaces that fence
//! agents inside the nodes call to power a node off.
//!
//! ```text
//!  node n2: stonithd -> fence_lab relay=ROOT/power.sock -> ha-lab power off n1
//!                                                              | Unix socket (ROOT is visible
//!                                                              v  from every node's mount ns)
//!  host:    Relay (thread) -- Lab::kill(n1) + drop_floating --> "ok"
//! ```
//!
//! A process inside a lab node cannot see or signal another node's
//! processes (PID namespaces), so it cannot fence one by itself; a real
//! cluster has the same shape: a power switch reached over a network
//! the cluster's own links do not carry. Faults of the lab (cut,
//! partition, pause) never touch this path, so a fenced node is powered
//! off even while no cluster message gets through — which is exactly when
//! fencing is needed.
//!
//! Protocol: one request line, one answer line, then the connection
//! closes.
//!
//! | request | answer |
//! |---|---|
//! | `off NODE` | `ok off NODE` once every process of NODE is gone (an already-off node too) |
//! | `status NODE` | `on` / `off` |
//! | `list` | the node names, blank-separated |
//! | anything else, an unknown node | `error REASON` |
//!
//! Every `off` is appended to `ROOT/power.log` (`EPOCH_MS off NODE
//! ok|error`), for people; fence_lab's `fenced` line in the witness log
//! (CLOCK_MONOTONIC) is what orders a power-off against resource starts.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Lab, LabError, LabSpec};

/// The relay's socket in a lab root.
pub fn socket(root: &Path) -> PathBuf {
    root.join("power.sock")
}

/// The relay's log of power-offs in a lab root.
pub fn log(root: &Path) -> PathBuf {
    root.join("power.log")
}

/// How long a client waits for an answer (a kill waits for the node's
/// processes to vanish, at most the lab's settle time).
const ANSWER_WAIT: Duration = Duration::from_secs(30);

/// A running relay; stops (and removes its socket) when dropped.
pub struct Relay {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    /// Serves the lab in `root` on `root/power.sock` from a thread of
    /// this process (which must be in the host's PID namespace).
    pub fn start(root: &Path) -> Result<Relay, LabError> {
        // The lab must exist: each request opens it again (lab.json).
        Lab::open(root)?;
        let path = socket(root);
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).map_err(|e| LabError::io(&path, e))?;
        // Only root (the nodes' daemons and the host) may power nodes off.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(|e| LabError::io(&path, e))?;
        listener.set_nonblocking(true).map_err(|e| LabError::io(&path, e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let root = root.to_path_buf();
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || serve(listener, &root, &stop2));
        Ok(Relay { path, stop, thread: Some(thread) })
    }

    pub fn socket(&self) -> &Path {
        &self.path
    }

    /// Serves until the process ends (the `ha-lab power-relay` command).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Accepts until `stop`; each connection in a thread of its own, so a
/// `status` is not held behind a kill in progress.
fn serve(listener: UnixListener, root: &Path, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let root = root.to_path_buf();
                std::thread::spawn(move || handle(stream, &root));
            }
            // Non-blocking: poll the stop flag every 20 ms.
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn handle(stream: UnixStream, root: &Path) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut line = String::new();
    if BufReader::new(&stream).read_line(&mut line).is_err() {
        return;
    }
    let answer = answer(root, line.trim());
    let mut w = &stream;
    let _ = writeln!(w, "{answer}");
}

/// The answer to one request line.
pub fn answer(root: &Path, request: &str) -> String {
    let words: Vec<&str> = request.split_whitespace().collect();
    let mut lab = match Lab::open(root) {
        Ok(l) => l,
        Err(e) => return format!("error {e}"),
    };
    match words.as_slice() {
        ["list"] => lab.spec.node_names().join(" "),
        ["status", node] if known(&lab.spec, node) => {
            if lab.init_pid(node).is_some() { "on" } else { "off" }.to_string()
        }
        ["off", node] if known(&lab.spec, node) => {
            let r = lab.kill(node).and_then(|_| lab.drop_floating(node).map(|_| ()));
            let ok = r.is_ok();
            let _ = append_log(root, &format!("off {node} {}", if ok { "ok" } else { "error" }));
            match r {
                Ok(()) => format!("ok off {node}"),
                Err(e) => format!("error {e}"),
            }
        }
        ["status" | "off", node] => format!("error unknown node {node}"),
        _ => format!("error bad request '{request}' (off NODE, status NODE, list)"),
    }
}

fn known(spec: &LabSpec, node: &str) -> bool {
    spec.index(node).is_ok()
}

fn append_log(root: &Path, what: &str) -> std::io::Result<()> {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(log(root))?;
    writeln!(f, "{ms} {what}")
}

/// Sends one request to the relay at `socket` and returns its answer
/// line (`Err` when the relay is not there, or for an `error` answer).
pub fn request(socket: &Path, line: &str) -> Result<String, LabError> {
    let stream = UnixStream::connect(socket).map_err(|e| LabError::io(socket, e))?;
    stream.set_read_timeout(Some(ANSWER_WAIT)).map_err(|e| LabError::io(socket, e))?;
    let mut w = &stream;
    writeln!(w, "{line}").map_err(|e| LabError::io(socket, e))?;
    let mut answer = String::new();
    BufReader::new(&stream).read_line(&mut answer).map_err(|e| LabError::io(socket, e))?;
    let answer = answer.trim().to_string();
    match answer.strip_prefix("error ") {
        Some(why) => Err(LabError::State { path: socket.to_path_buf(), message: why.to_string() }),
        None if answer.is_empty() => {
            Err(LabError::State { path: socket.to_path_buf(), message: "the relay closed without answering".into() })
        }
        None => Ok(answer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lab.json for a lab that was never built: the relay answers from
    /// its spec and finds every node off.
    fn lab_root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let spec = LabSpec::new("prt", dir.path(), 3, 1, Path::new("/nonexistent"));
        let json = serde_json::to_string(&spec).unwrap();
        std::fs::write(LabSpec::state_file(dir.path()), json).unwrap();
        dir
    }

    #[test]
    fn the_relay_answers_one_line_per_request() {
        let dir = lab_root();
        let relay = Relay::start(dir.path()).unwrap();
        assert_eq!(relay.socket(), socket(dir.path()));
        assert_eq!(request(relay.socket(), "list").unwrap(), "n1 n2 n3");
        assert_eq!(request(relay.socket(), "status n2").unwrap(), "off");
        let err = |line: &str| match request(relay.socket(), line) {
            Err(LabError::State { message, .. }) => message,
            other => panic!("{line}: {other:?}"),
        };
        assert_eq!(err("status n9"), "unknown node n9");
        assert_eq!(err("off x1"), "unknown node x1");
        assert!(err("reboot n1").starts_with("bad request"));
        drop(relay);
        // Gone with its guard: nobody answers any more.
        assert!(!socket(dir.path()).exists());
        assert!(request(&socket(dir.path()), "list").is_err());
    }

    #[test]
    fn no_lab_no_relay() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Relay::start(dir.path()).is_err());
        assert!(answer(dir.path(), "list").starts_with("error "));
    }
}
