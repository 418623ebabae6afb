//! The daemon's I/O: the store, the local socket, the heartbeat client
//! connection, and one `select!` loop that feeds [`Core`] and carries out
//! its commands.
//!
//! ```text
//!  cib.sock clients --frames--> Event::Client --+
//!  heartbeat.sock  --frames--> Event::Heartbeat -+--> Core::handle --> Command --> client writers,
//!  SIGTERM/SIGINT, shutdown future ------------+                                  heartbeat writer, store
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use cib::env::{Daemon, HaEnv};
use cib::store::CibStore;
use cib::{Document, Element};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tools::cib_live::{self, Call};
use tools::cibadmin::{as_pacemaker_loads_it, ops, schema_valid};
use transport::api;
use transport::wire::{Message, Value};

use crate::core::{ClientId, Command, Core, Input};
use crate::peer::PeerMsg;

/// How the daemon runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// No heartbeat: this node is the whole cluster (Pacemaker's cib `-s`).
    pub stand_alone: bool,
    /// How long to keep trying to reach heartbeat at start.
    pub connect_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { stand_alone: false, connect_timeout: Duration::from_secs(10) }
    }
}

/// Everything that reaches the loop.
enum Event {
    Client { client: ClientId, call_id: u64, call: Box<Call> },
    ClientGone(ClientId),
    Heartbeat(Message),
    HeartbeatClosed(String),
}

/// Loads the node's CIB from its store as Pacemaker's cib does at start:
/// text dropped, `<status/>` added, schema checked. No CIB yet gives an
/// empty one (`persisted == false`). A corrupt or invalid CIB stops the
/// daemon: which version to run is the operator's call.
pub fn load(store: &CibStore) -> anyhow::Result<(Element, bool)> {
    match store.load().with_context(|| format!("loading {}", store.path().display()))? {
        None => {
            tracing::info!("no {}: starting with an empty CIB", store.path().display());
            Ok((ops::empty_cib(0), false))
        }
        Some(loaded) => {
            for w in &loaded.warnings {
                tracing::warn!("{w}");
            }
            let root = as_pacemaker_loads_it(loaded.doc.root, &schema_valid)
                .map_err(|e| anyhow::anyhow!("{}: {e}", store.path().display()))?;
            Ok((root, true))
        }
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Runs the daemon until `shutdown` completes (or SIGTERM/SIGINT).
pub async fn run(env: HaEnv, opts: Options, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let store = CibStore::open(env.crm_dir())?;
    let (cib, persisted) = load(&store)?;
    // haresources mode: the configuration comes from haresources, read
    // again at every start; a changed one is written at once.
    let (cib, changed) = crate::haresources_mode::at_start(&env, cib)?;
    let persisted = persisted && !changed;
    let proposal = changed.then(|| cib.child("configuration").cloned()).flatten();
    let mut core = Core::new(&env.nodename, cib, persisted, Box::new(schema_valid));
    if let Some(config) = proposal {
        core = core.with_proposal(config);
    }
    if opts.stand_alone {
        core = core.stand_alone();
    }

    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let hb = if opts.stand_alone {
        None
    } else {
        let (reader, writer) = connect_heartbeat(&env.socket(Daemon::Heartbeat), opts.connect_timeout).await?;
        tokio::spawn(read_heartbeat(reader, tx.clone()));
        Some(spawn_writer_hb(writer))
    };

    let sock = env.socket(Daemon::Cib);
    let listener = bind(&sock)?;
    tracing::info!("cib: listening on {} as {}", sock.display(), env.nodename);

    let mut clients: HashMap<ClientId, mpsc::UnboundedSender<Vec<u8>>> = HashMap::new();
    let mut next_client: ClientId = 1;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    tokio::pin!(shutdown);

    let exec = |core: &mut Core, input: Input, clients: &HashMap<ClientId, mpsc::UnboundedSender<Vec<u8>>>| {
        for c in core.handle(input, now()) {
            carry_out(c, clients, hb.as_ref(), &store);
        }
    };
    exec(&mut core, Input::Start, &clients);

    let result = loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                match authorize(&stream) {
                    Ok(user) => {
                        let id = next_client;
                        next_client += 1;
                        let (r, w) = stream.into_split();
                        clients.insert(id, spawn_writer_client(w));
                        tokio::spawn(read_client(id, user, r, tx.clone()));
                    }
                    Err(e) => tracing::warn!("cib: refused a local connection: {e}"),
                }
            }
            Some(ev) = rx.recv() => match ev {
                Event::Client { client, call_id, call } => exec(&mut core, Input::Client { client, call_id, call }, &clients),
                Event::ClientGone(id) => {
                    clients.remove(&id);
                    exec(&mut core, Input::ClientGone(id), &clients);
                }
                Event::Heartbeat(m) => {
                    if let Some(input) = heartbeat_input(&m) {
                        exec(&mut core, input, &clients);
                    }
                }
                Event::HeartbeatClosed(why) => break Err(anyhow::anyhow!("lost the connection to heartbeat: {why}")),
            },
            _ = term.recv() => break Ok(()),
            _ = int.recv() => break Ok(()),
            _ = &mut shutdown => break Ok(()),
        }
    };
    exec(&mut core, Input::Stop, &clients);
    if let Some(hb) = hb {
        // Let the writer flush the Leave before the process goes.
        drop(hb.0);
        let _ = tokio::time::timeout(Duration::from_secs(1), hb.1).await;
    }
    let _ = std::fs::remove_file(&sock);
    tracing::info!("cib: stopped");
    result
}

/// The heartbeat side of the daemon: its outgoing queue and writer task.
type HbLink = (mpsc::UnboundedSender<Message>, tokio::task::JoinHandle<()>);

fn carry_out(c: Command, clients: &HashMap<ClientId, mpsc::UnboundedSender<Vec<u8>>>, hb: Option<&HbLink>, store: &CibStore) {
    match c {
        Command::Reply { client, call_id, answer } => {
            if let Some(w) = clients.get(&client) {
                let _ = w.send(cib_live::frame(&answer.to_xml(call_id)));
            }
        }
        Command::Send { dest, msg } => {
            let Some((hb, _)) = hb else { return };
            tracing::debug!("cib: sending {} to {}", msg.op_name(), dest.as_deref().unwrap_or("all"));
            let mut m = Message::new().with_str("t", "send");
            if let Some(d) = dest {
                m.push("dest", Value::Str(d));
            }
            m.push("msg", Value::Struct(msg.to_message()));
            let _ = hb.send(m);
        }
        Command::Persist(cib) => {
            if let Err(e) = store.save(&Document::new(cib)) {
                tracing::error!("cib: could not write {}: {e}", store.path().display());
            }
        }
        Command::Notify { clients: ids, patch } => {
            let f = cib_live::frame(&cib_live::notify_xml(&patch));
            for id in ids {
                if let Some(w) = clients.get(&id) {
                    let _ = w.send(f.clone());
                }
            }
        }
        Command::Log(s) => tracing::info!("cib: {s}"),
    }
}

/// Turns a frame pushed by heartbeat into an input for the core.
fn heartbeat_input(m: &Message) -> Option<Input> {
    match m.get_str("t")? {
        "msg" => {
            let Some(Value::Struct(inner)) = m.get("msg") else { return None };
            match PeerMsg::from_message(inner) {
                Ok(Some((from, msg))) => Some(Input::Peer { from, msg }),
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!("cib: {e}");
                    None
                }
            }
        }
        "nodestatus" => {
            let node = m.get_str("node")?.to_string();
            match m.get_str("status")? {
                "dead" => Some(Input::NodeDown(node)),
                "active" | "up" => Some(Input::NodeUp(node)),
                _ => None,
            }
        }
        "error" => {
            tracing::warn!("cib: heartbeat refused a request: {}", m.get_str("reason").unwrap_or("?"));
            None
        }
        _ => None,
    }
}

/// Connects and signs on as client `cib`, retrying while heartbeat starts.
async fn connect_heartbeat(socket: &Path, patience: Duration) -> anyhow::Result<(OwnedReadHalf, OwnedWriteHalf)> {
    let deadline = tokio::time::Instant::now() + patience;
    let stream = loop {
        match UnixStream::connect(socket).await {
            Ok(s) => break s,
            Err(e) if tokio::time::Instant::now() >= deadline => {
                bail!("cannot reach heartbeat at {}: {e}", socket.display())
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let (mut r, mut w) = stream.into_split();
    let signon = Message::new().with_str("t", "signon").with_str("client", "cib");
    w.write_all(&api::frame(&signon)?).await?;
    loop {
        let Some(m) = api::read_frame(&mut r).await? else { bail!("heartbeat closed the connection at sign-on") };
        match m.get_str("t") {
            Some("ok") => break,
            Some("error") => bail!("heartbeat refused sign-on: {}", m.get_str("reason").unwrap_or("?")),
            _ => {}
        }
    }
    Ok((r, w))
}

async fn read_heartbeat(mut r: OwnedReadHalf, tx: mpsc::UnboundedSender<Event>) {
    loop {
        match api::read_frame(&mut r).await {
            Ok(Some(m)) => {
                if tx.send(Event::Heartbeat(m)).is_err() {
                    return;
                }
            }
            Ok(None) => {
                let _ = tx.send(Event::HeartbeatClosed("closed".into()));
                return;
            }
            Err(e) => {
                let _ = tx.send(Event::HeartbeatClosed(e.to_string()));
                return;
            }
        }
    }
}

fn spawn_writer_hb(mut w: OwnedWriteHalf) -> HbLink {
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let task = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            match api::frame(&m) {
                Ok(bytes) => {
                    if w.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                Err(e) => tracing::error!("cib: cannot send a message to heartbeat: {e}"),
            }
        }
    });
    (tx, task)
}

fn spawn_writer_client(mut w: OwnedWriteHalf) -> mpsc::UnboundedSender<Vec<u8>> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if w.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    tx
}

async fn read_client(id: ClientId, user: String, mut r: OwnedReadHalf, tx: mpsc::UnboundedSender<Event>) {
    loop {
        let mut header = [0u8; 4];
        if r.read_exact(&mut header).await.is_err() {
            break;
        }
        let Ok(len) = cib_live::frame_len(header) else { break };
        let mut body = vec![0; len];
        if r.read_exact(&mut body).await.is_err() {
            break;
        }
        let parsed = cib_live::unframe(&body).and_then(|e| Call::from_xml(&e));
        match parsed {
            Ok((call_id, mut call)) => {
                // Who asks is what the kernel says, not what the client claims.
                call.user = user.clone();
                if tx.send(Event::Client { client: id, call_id, call: Box::new(call) }).is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!("cib: client {id} sent a bad frame: {e}");
                break;
            }
        }
    }
    let _ = tx.send(Event::ClientGone(id));
}

/// Local clients must be root or the daemon's own user (peer credentials).
fn authorize(stream: &UnixStream) -> anyhow::Result<String> {
    let cred = stream.peer_cred()?;
    let me = nix::unistd::geteuid().as_raw();
    if cred.uid() != 0 && cred.uid() != me {
        bail!("uid {} is neither root nor {me}", cred.uid());
    }
    let name = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(cred.uid()))
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| cred.uid().to_string());
    Ok(name)
}

/// Binds the local socket, replacing a stale one; mode 0600 on top of the
/// credential check.
fn bind(sock: &PathBuf) -> anyhow::Result<UnixListener> {
    if let Some(dir) = sock.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if std::os::unix::net::UnixStream::connect(sock).is_ok() {
        bail!("another cib daemon is listening on {}", sock.display());
    }
    let _ = std::fs::remove_file(sock);
    let l = UnixListener::bind(sock).with_context(|| format!("binding {}", sock.display()))?;
    std::fs::set_permissions(sock, std::fs::Permissions::from_mode(0o600))?;
    Ok(l)
}
