//! The `heartbeat` daemon's tokio shell around [`crate::engine`].
//!
//! ```text
//!  UDP links --(decode, authenticate: media::RecvCounters)--+
//!  timer tick (engine.tick_interval_ms) --------------------+--> Engine::handle
//!  API clients (api.rs frames) -----------------------------+        |
//!                                                                    v
//!   Send -> sign with authkeys, every link, every destination
//!   Deliver / NodeStatus / LinkStatus -> pushed to signed-on clients
//!   Log -> tracing, in Heartbeat's words
//! ```
//!
//! [`run`] takes its sockets and shutdown signal from the caller (the
//! binary opens them before daemonizing, so errors reach the terminal).
//! `clientstatus` about another node travels as a cluster message
//! (`t=NS_clstat` / `t=NS_clstat_rsp`) answered by that node's daemon.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::net::{UdpSocket, UnixListener, UnixStream};
use tokio::sync::mpsc;

use crate::api;
use crate::authkeys::Authkeys;
use crate::engine::{Command, Config, Engine, Input, Level, Now};
use crate::hacf::{HaCf, Medium};
use crate::identity::NodeIdentity;
use crate::media::{LinkSocket, RecvCounters, MAX_PACKET};
use crate::wire::{Message, Value};

const T_CLSTAT: &str = "NS_clstat";
const T_CLSTAT_RSP: &str = "NS_clstat_rsp";

/// Everything the daemon runs with, already checked.
pub struct Setup {
    pub nodename: String,
    pub hacf: HaCf,
    pub keys: Authkeys,
    pub identity: NodeIdentity,
    /// The daemon's own uid: clients without an apiauth line must be root
    /// or this user.
    pub uid: u32,
    /// The children to start once the messaging layer is up
    /// (`crm` and `respawn` lines; docs/TRANSPORT.md "Launcher").
    pub children: Vec<crate::children::Launch>,
    /// The node's HA_* environment, passed to every child.
    pub child_env: Vec<(String, std::ffi::OsString)>,
    /// Where children write stdout/stderr (`None`: inherited).
    pub child_output: Option<std::path::PathBuf>,
    /// The raw ICMP socket for ping nodes (opened by the binary before
    /// daemonizing; `None` when ha.cf has no ping nodes).
    pub ping_socket: Option<socket2::Socket>,
}

/// The ping nodes of ha.cf: `ping ADDR` lines (named by the address)
/// and `ping_group NAME ADDR...` lines.
pub fn ping_nodes(cf: &HaCf) -> Vec<crate::engine::PingNode> {
    let mut v: Vec<crate::engine::PingNode> =
        cf.ping_nodes.iter().map(|h| crate::engine::PingNode { name: h.clone(), hosts: vec![h.clone()] }).collect();
    v.extend(cf.ping_groups.iter().map(|g| crate::engine::PingNode { name: g.name.clone(), hosts: g.hosts.clone() }));
    v
}

/// Every ping address resolved (a literal IPv4 address or a host name).
pub fn resolve_ping_hosts(cf: &HaCf) -> std::io::Result<BTreeMap<String, std::net::Ipv4Addr>> {
    use std::net::ToSocketAddrs;
    let mut out = BTreeMap::new();
    for p in ping_nodes(cf) {
        for h in p.hosts {
            let addr = match h.parse::<std::net::Ipv4Addr>() {
                Ok(a) => a,
                Err(_) => (h.as_str(), 0)
                    .to_socket_addrs()?
                    .find_map(|a| match a {
                        SocketAddr::V4(v4) => Some(*v4.ip()),
                        SocketAddr::V6(_) => None,
                    })
                    .ok_or_else(|| std::io::Error::other(format!("ping node {h}: no IPv4 address")))?,
            };
            out.insert(h, addr);
        }
    }
    Ok(out)
}

/// How [`run`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Shutdown was asked for; children stopped, peers told.
    Stopped,
    /// A failfast child died: heartbeat goes down as the node would
    /// reboot (no shutdown notice, children killed). The reason.
    Reboot(String),
}

/// Client messages in flight beyond the slowest peer's acknowledgement
/// (below the 500-message history, leaving room for keepalives).
pub const SEND_WINDOW: u64 = 300;

/// Client requests are not read while this many messages (or fragments)
/// wait for the send window: the clients block, as Heartbeat pauses its
/// clients when its history fills.
pub const BACKLOG_LIMIT: usize = 2_000;

/// Frames queued for one client (replies, messages, events).
const PUSH_QUEUE: usize = 16_384;

/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_507;

/// How long a child is given to stop before SIGKILL.
pub const CHILD_STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// The engine's configuration from ha.cf.
pub fn engine_config(setup: &Setup) -> Config {
    let mut links: Vec<String> = Vec::new();
    for m in &setup.hacf.media {
        let dev = match m {
            Medium::Ucast { dev, .. } | Medium::Bcast { dev } | Medium::Mcast { dev, .. } => dev,
            Medium::Serial { .. } => continue,
        };
        if !links.contains(dev) {
            links.push(dev.clone());
        }
    }
    Config {
        me: setup.nodename.clone(),
        uuid: setup.identity.uuid,
        generation: setup.identity.generation,
        nodes: setup.hacf.nodes.clone(),
        links,
        keepalive_ms: setup.hacf.keepalive_ms,
        deadtime_ms: setup.hacf.deadtime_ms,
        warntime_ms: setup.hacf.warntime_ms,
        initdead_ms: setup.hacf.initdead_ms,
        // Heartbeat keeps its last 500 messages for retransmission.
        window: 500,
        max_rexmit_requests: (20 * setup.hacf.deadtime_ms / setup.hacf.keepalive_ms.max(1)).max(3) as u32,
        ping_nodes: ping_nodes(&setup.hacf),
        deadping_ms: setup.hacf.deadping_ms,
        // Re-ask for a gap twice a keepalive; give it up only after about
        // ten deadtimes of asking (a live sender holds everything a live
        // receiver has not acknowledged, so asking long is cheap; a dead
        // one resets the gap anyway).
        rexmit_interval_ms: (setup.hacf.keepalive_ms / 2).max(10),
        send_window: SEND_WINDOW,
        compression: crate::compress::Algorithm::from_name(&setup.hacf.compression).ok(),
        compression_threshold: setup.hacf.compression_threshold_kb as usize * 1024,
    }
}

enum FromClient {
    Connected { id: u64, uid: u32, gid: u32, push: mpsc::Sender<Message> },
    Request { id: u64, msg: Message },
    Gone { id: u64 },
}

struct ClientEntry {
    /// Set once signed on.
    name: Option<String>,
    uid: u32,
    gid: u32,
    push: mpsc::Sender<Message>,
}

struct Link {
    name: String,
    socket: Arc<UdpSocket>,
    destinations: Vec<SocketAddr>,
}

struct Daemon {
    setup: Setup,
    engine: Engine,
    links: Vec<Link>,
    recv: RecvCounters,
    clients: BTreeMap<u64, ClientEntry>,
    /// Remote clientstatus queries: request id -> (client, deadline).
    pending: BTreeMap<u64, (u64, u64)>,
    next_req: u64,
    start: Instant,
    send_errors: u64,
    push_dropped: u64,
    /// Ping socket and the address of every ping host name.
    ping: Option<Ping>,
}

struct Ping {
    socket: Arc<tokio::io::unix::AsyncFd<socket2::Socket>>,
    addrs: BTreeMap<String, std::net::Ipv4Addr>,
    ident: u16,
    seq: u16,
}

fn now(start: Instant) -> Now {
    Now {
        mono_ms: start.elapsed().as_millis() as u64,
        unix_s: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// Runs until `shutdown` completes, then tells the other nodes this one
/// is leaving (a last keepalive with `st=dead`).
pub async fn run(
    mut setup: Setup,
    links: Vec<LinkSocket>,
    listener: UnixListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<Ending> {
    let start = Instant::now();
    let engine = Engine::new(engine_config(&setup), now(start));
    let (udp_tx, mut udp_rx) = mpsc::channel::<(usize, Vec<u8>)>(1024);
    let mut opened = Vec::new();
    for (i, l) in links.into_iter().enumerate() {
        tracing::info!("{} link {} opened", l.description, l.name);
        let socket = Arc::new(UdpSocket::from_std(l.socket)?);
        let (rx, tx) = (socket.clone(), udp_tx.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; MAX_PACKET];
            loop {
                match rx.recv_from(&mut buf).await {
                    Ok((n, _)) => {
                        if tx.send((i, buf[..n].to_vec())).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => tracing::debug!("receive error: {e}"),
                }
            }
        });
        opened.push(Link { name: l.name, socket, destinations: l.destinations });
    }
    let (client_tx, mut client_rx) = mpsc::channel::<FromClient>(256);
    tokio::spawn(accept_loop(listener, client_tx));

    // Ping nodes: replies come back as host names on a channel.
    let (ping_tx, mut ping_rx) = mpsc::channel::<String>(256);
    let ping = match setup.ping_socket.take() {
        None => None,
        Some(sock) => {
            let addrs = resolve_ping_hosts(&setup.hacf)?;
            // SAFETY: the socket is moved in and owned by the AsyncFd for
            // its whole life; its descriptor does not change.
            let fd = unsafe { tokio::io::unix::AsyncFd::register(sock) }
                .map_err(|e| std::io::Error::other(format!("ping socket: {e}")))?;
            let socket = Arc::new(fd);
            let ident = crate::ping::ident();
            let by_addr: BTreeMap<std::net::Ipv4Addr, Vec<String>> =
                addrs.iter().fold(BTreeMap::new(), |mut m, (h, a)| {
                    m.entry(*a).or_default().push(h.clone());
                    m
                });
            tokio::spawn(ping_reader(socket.clone(), ident, by_addr, ping_tx));
            Some(Ping { socket, addrs, ident, seq: 0 })
        }
    };
    let launches = std::mem::take(&mut setup.children);
    let child_env = std::mem::take(&mut setup.child_env);
    let (mut children, mut child_rx) =
        crate::children::Children::new(launches, child_env, setup.child_output.take());
    let mut d = Daemon {
        engine,
        setup,
        links: opened,
        recv: RecvCounters::default(),
        clients: BTreeMap::new(),
        pending: BTreeMap::new(),
        next_req: 1,
        start,
        send_errors: 0,
        push_dropped: 0,
        ping,
    };
    let mut ticker = tokio::time::interval(std::time::Duration::from_millis(d.engine.tick_interval_ms()));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    // Heartbeat starts its clients once communication is up: ours is up
    // as soon as the sockets are open.
    let mut reboot = match children.start_all() {
        crate::children::Outcome::Reboot(why) => Some(why),
        crate::children::Outcome::Continue => None,
    };
    while reboot.is_none() {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(ev) = child_rx.recv() => {
                if let crate::children::Outcome::Reboot(why) = children.exited(ev) {
                    reboot = Some(why);
                }
            }
            _ = ticker.tick() => {
                let cmds = d.engine.handle(Input::Tick { load: load_average() }, now(d.start));
                d.execute(cmds).await;
                d.expire_pending();
            }
            Some((i, bytes)) = udp_rx.recv() => d.packet(i, bytes).await,
            Some(ev) = client_rx.recv(), if d.engine.backlog() < BACKLOG_LIMIT => d.client_event(ev).await,
            Some(host) = ping_rx.recv() => {
                let cmds = d.engine.handle(Input::PingReply { host }, now(d.start));
                d.execute(cmds).await;
            }
        }
    }
    if let Some(why) = reboot {
        // As a reboot would: no shutdown notice, children gone at once.
        children.kill_all();
        tracing::error!("Rebooting system.  Reason: {why}");
        return Ok(Ending::Reboot(why));
    }
    tracing::info!("Heartbeat shutdown in progress. ({})", std::process::id());
    // Children first (crmd first), while the messaging layer still runs
    // for them: keep serving the links and clients meanwhile.
    if !children.is_empty() {
        let stop = children.stop_all(&mut child_rx, CHILD_STOP_GRACE);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = ticker.tick() => {
                    let cmds = d.engine.handle(Input::Tick { load: load_average() }, now(d.start));
                    d.execute(cmds).await;
                    d.expire_pending();
                }
                Some((i, bytes)) = udp_rx.recv() => d.packet(i, bytes).await,
                Some(ev) = client_rx.recv() => d.client_event(ev).await,
            }
        }
    }
    let cmds = d.engine.leave(now(d.start));
    d.execute(cmds).await;
    tracing::info!("{} Heartbeat shutdown complete.", d.setup.nodename);
    Ok(Ending::Stopped)
}

async fn ping_reader(
    socket: Arc<tokio::io::unix::AsyncFd<socket2::Socket>>,
    ident: u16,
    by_addr: BTreeMap<std::net::Ipv4Addr, Vec<String>>,
    tx: mpsc::Sender<String>,
) {
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 2048];
    loop {
        let Ok(mut guard) = socket.readable().await else { return };
        match guard.try_io(|s| s.get_ref().recv(&mut buf)) {
            Ok(Ok(n)) => {
                // SAFETY: recv initialised the first n bytes.
                let data: Vec<u8> = buf[..n].iter().map(|b| unsafe { b.assume_init() }).collect();
                let Some(src) = crate::ping::parse_reply(&data, ident) else { continue };
                for h in by_addr.get(&src).into_iter().flatten() {
                    if tx.send(h.clone()).await.is_err() {
                        return;
                    }
                }
            }
            Ok(Err(e)) => tracing::debug!("ping socket: {e}"),
            Err(_would_block) => {}
        }
    }
}

async fn accept_loop(listener: UnixListener, tx: mpsc::Sender<FromClient>) {
    let mut next_id = 1u64;
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let Ok(cred) = stream.peer_cred() else { continue };
        let id = next_id;
        next_id += 1;
        tokio::spawn(client_task(id, cred.uid(), cred.gid(), stream, tx.clone()));
    }
}

async fn client_task(id: u64, uid: u32, gid: u32, stream: UnixStream, tx: mpsc::Sender<FromClient>) {
    use tokio::io::AsyncWriteExt;
    let (mut rd, mut wr) = stream.into_split();
    // Deep enough for a burst of cluster messages to a client that reads
    // steadily; a client that stops reading loses pushes (counted).
    let (push_tx, mut push_rx) = mpsc::channel::<Message>(PUSH_QUEUE);
    if tx.send(FromClient::Connected { id, uid, gid, push: push_tx }).await.is_err() {
        return;
    }
    let reader_tx = tx.clone();
    let reader = tokio::spawn(async move {
        while let Ok(Some(msg)) = api::read_frame(&mut rd).await {
            if reader_tx.send(FromClient::Request { id, msg }).await.is_err() {
                break;
            }
        }
        let _ = reader_tx.send(FromClient::Gone { id }).await;
    });
    // Replies and pushes both come through `push_rx`, in the order the
    // daemon produced them.
    while let Some(m) = push_rx.recv().await {
        let Ok(f) = api::frame(&m) else { continue };
        if wr.write_all(&f).await.is_err() {
            break;
        }
    }
    reader.abort();
}

impl Daemon {
    async fn packet(&mut self, i: usize, bytes: Vec<u8>) {
        match self.recv.accept(&bytes, &self.setup.keys) {
            Ok(message) => {
                let link = self.links[i].name.clone();
                let cmds = self.engine.handle(Input::Packet { link, message }, now(self.start));
                self.execute(cmds).await;
            }
            Err(why) => tracing::debug!("dropped packet on {}: {why:?}", self.links[i].name),
        }
    }

    async fn execute(&mut self, cmds: Vec<Command>) {
        let mut queue: std::collections::VecDeque<Command> = cmds.into();
        while let Some(c) = queue.pop_front() {
            match c {
                Command::Send(m) => self.send(&m).await,
                Command::Deliver(m) => queue.extend(self.deliver(m)),
                Command::NodeStatus { node, status } => {
                    self.push_all(Message::new().with_str("t", "nodestatus").with_str("node", &node).with_str("status", &status))
                }
                Command::LinkStatus { node, link, up } => self.push_all(
                    Message::new()
                        .with_str("t", "linkstatus")
                        .with_str("node", &node)
                        .with_str("link", &link)
                        .with_str("status", if up { "up" } else { "dead" }),
                ),
                Command::Ping(host) => self.ping(&host),
                Command::Log(Level::Warn, s) => tracing::warn!("{s}"),
                Command::Log(Level::Info, s) => tracing::info!("{s}"),
                Command::Log(Level::Debug, s) => tracing::debug!("{s}"),
            }
        }
    }

    fn ping(&mut self, host: &str) {
        let Some(p) = self.ping.as_mut() else { return };
        let Some(addr) = p.addrs.get(host) else { return };
        p.seq = p.seq.wrapping_add(1);
        if let Err(e) = crate::ping::send(p.socket.get_ref(), *addr, p.ident, p.seq) {
            self.send_errors += 1;
            tracing::debug!("ping {host}: {e}");
        }
    }

    async fn send(&mut self, m: &Message) {
        let mut bytes = match m.sign(&self.setup.keys) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("cannot sign message: {e}");
                return;
            }
        };
        // Heartbeat's compression past compression_threshold (whole
        // message inside `_compressed_payload`).
        let threshold = self.setup.hacf.compression_threshold_kb as usize * 1024;
        if bytes.len() > threshold {
            if let Ok(algo) = crate::compress::Algorithm::from_name(&self.setup.hacf.compression) {
                match crate::compress::wrap(m, algo).and_then(|w| w.sign(&self.setup.keys)) {
                    Ok(c) if c.len() < bytes.len() => bytes = c,
                    Ok(_) => {}
                    Err(e) => tracing::debug!("cannot compress message: {e}"),
                }
            }
        }
        if bytes.len() > MAX_DATAGRAM {
            self.send_errors += 1;
            tracing::error!("message of {} bytes does not fit a datagram; not sent", bytes.len());
            return;
        }
        for l in &self.links {
            for dest in &l.destinations {
                if let Err(e) = l.socket.send_to(&bytes, dest).await {
                    self.send_errors += 1;
                    tracing::debug!("send to {dest} on {}: {e}", l.name);
                }
            }
        }
    }

    fn push_all(&mut self, m: Message) {
        for c in self.clients.values() {
            if c.name.is_some() && c.push.try_send(m.clone()).is_err() {
                self.push_dropped += 1;
            }
        }
    }

    fn reply(&mut self, id: u64, m: Message) {
        if let Some(c) = self.clients.get(&id) {
            if c.push.try_send(m).is_err() {
                self.push_dropped += 1;
            }
        }
    }

    fn client_online(&self, name: &str) -> bool {
        self.clients.values().any(|c| c.name.as_deref() == Some(name))
    }

    /// Cluster messages for this node: client-status queries are answered
    /// here, everything else goes to the clients.
    fn deliver(&mut self, m: Message) -> Vec<Command> {
        match m.get_str("t") {
            Some(T_CLSTAT) => {
                let (Some(src), Some(client), Some(reqid)) = (m.get_str("src"), m.get_str("client"), m.get_str("reqid"))
                else {
                    return Vec::new();
                };
                let status = if self.client_online(client) { "online" } else { "offline" };
                let rsp = Message::new()
                    .with_str("t", T_CLSTAT_RSP)
                    .with_str("client", client)
                    .with_str("reqid", reqid)
                    .with_str("status", status);
                return self.engine.handle(Input::Send { dest: Some(src.to_string()), message: rsp }, now(self.start));
            }
            Some(T_CLSTAT_RSP) => {
                let Some(reqid) = m.get_str("reqid").and_then(|r| r.parse::<u64>().ok()) else { return Vec::new() };
                if let Some((client, _)) = self.pending.remove(&reqid) {
                    let status = m.get_str("status").unwrap_or("offline").to_string();
                    self.reply(client, api::ok().with_str("status", &status));
                }
            }
            _ => self.push_all(Message::new().with_str("t", "msg").with("msg", Value::Struct(m))),
        }
        Vec::new()
    }

    fn expire_pending(&mut self) {
        let t = now(self.start).mono_ms;
        let expired: Vec<u64> = self.pending.iter().filter(|(_, (_, dl))| *dl <= t).map(|(k, _)| *k).collect();
        for k in expired {
            if let Some((client, _)) = self.pending.remove(&k) {
                self.reply(client, api::error("timed out waiting for the node's answer"));
            }
        }
    }

    fn authorized(&self, client: &str, uid: u32, gid: u32) -> bool {
        // Root is always let in: it can read authkeys and forge anything
        // anyway, and the launcher runs this project's own helpers
        // (pingd, ipfail) as root even where ha.cf's apiauth line names
        // hacluster for Heartbeat's.
        if uid == 0 {
            return true;
        }
        let Some(rule) = self.setup.hacf.apiauth.iter().find(|a| a.client == client) else {
            return uid == 0 || uid == self.setup.uid;
        };
        let uid_ok = rule.uids.iter().any(|u| {
            u.parse::<u32>().ok().or_else(|| nix::unistd::User::from_name(u).ok().flatten().map(|u| u.uid.as_raw()))
                == Some(uid)
        });
        let gid_ok = rule.gids.iter().any(|g| {
            g.parse::<u32>().ok().or_else(|| nix::unistd::Group::from_name(g).ok().flatten().map(|g| g.gid.as_raw()))
                == Some(gid)
        });
        uid_ok || gid_ok
    }

    async fn client_event(&mut self, ev: FromClient) {
        match ev {
            FromClient::Connected { id, uid, gid, push } => {
                self.clients.insert(id, ClientEntry { name: None, uid, gid, push });
            }
            FromClient::Gone { id } => {
                if let Some(ClientEntry { name: Some(n), .. }) = self.clients.remove(&id) {
                    tracing::debug!("client {n} signed off");
                }
            }
            FromClient::Request { id, msg } => {
                let reply = self.request(id, msg).await;
                if let Some(r) = reply {
                    self.reply(id, r);
                }
            }
        }
    }

    /// Answers one request; `None` when the answer comes later.
    async fn request(&mut self, id: u64, m: Message) -> Option<Message> {
        let c = self.clients.get(&id)?;
        let t = m.get_str("t").unwrap_or("");
        if c.name.is_none() && t != "signon" {
            return Some(api::error("not signed on"));
        }
        let field = |n: &str| m.get_str(n).unwrap_or("").to_string();
        let unknown = |n: &str| api::error(&format!("unknown node {n}"));
        Some(match t {
            "signon" => {
                let name = field("client");
                if name.is_empty() || name.contains(char::is_whitespace) {
                    return Some(api::error("bad client name"));
                }
                let (uid, gid) = (c.uid, c.gid);
                if !self.authorized(&name, uid, gid) {
                    tracing::warn!("client {name} (uid {uid} gid {gid}) refused by apiauth");
                    return Some(api::error("not authorized"));
                }
                self.clients.get_mut(&id).expect("present").name = Some(name);
                api::ok()
                    .with_str("node", &self.setup.nodename)
                    .with_str("deadtime", &self.setup.hacf.deadtime_ms.to_string())
                    .with_str("keepalive", &self.setup.hacf.keepalive_ms.to_string())
            }
            "nodelist" => api::ok().with_str("nodes", &self.engine.nodes().join(" ")),
            "nodestatus" => match self.engine.node_status(&field("node")) {
                Some(s) => api::ok().with_str("status", s),
                None => unknown(&field("node")),
            },
            "nodetype" => match self.engine.node_type(&field("node")) {
                Some(t) => api::ok().with_str("type", t),
                None => unknown(&field("node")),
            },
            "links" => match self.engine.link_status(&field("node")) {
                Some(l) => api::ok().with_str("links", &l.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(" ")),
                None => unknown(&field("node")),
            },
            "linkstatus" => match self.engine.link_status(&field("node")) {
                None => unknown(&field("node")),
                Some(l) => match l.iter().find(|(n, _)| *n == field("link")) {
                    Some((_, up)) => api::ok().with_str("status", if *up { "up" } else { "dead" }),
                    None => api::error(&format!("no link {} to {}", field("link"), field("node"))),
                },
            },
            "clientstatus" => {
                let node = field("node");
                let client = field("client");
                if node == self.setup.nodename {
                    let s = if self.client_online(&client) { "online" } else { "offline" };
                    api::ok().with_str("status", s)
                } else if !self.engine.is_cluster_node(&node) && self.engine.node_type(&node).is_some() {
                    // Ping nodes run no clients.
                    api::ok().with_str("status", "offline")
                } else {
                    match self.engine.node_status(&node) {
                        None => unknown(&node),
                        Some("dead" | "init") => api::ok().with_str("status", "offline"),
                        Some(_) => {
                            let reqid = self.next_req;
                            self.next_req += 1;
                            let timeout: u64 = field("timeout").parse().unwrap_or(500);
                            self.pending.insert(reqid, (id, now(self.start).mono_ms + timeout));
                            let q = Message::new()
                                .with_str("t", T_CLSTAT)
                                .with_str("client", &client)
                                .with_str("reqid", &reqid.to_string());
                            let cmds = self.engine.handle(Input::Send { dest: Some(node), message: q }, now(self.start));
                            self.execute(cmds).await;
                            return None;
                        }
                    }
                }
            }
            "send" => {
                let Some(Value::Struct(inner)) = m.get("msg") else { return Some(api::error("no msg")) };
                if inner.get_str("t").is_none_or(|t| t.starts_with("NS_")) {
                    return Some(api::error("a message needs a t field not starting with NS_"));
                }
                if inner.fields.iter().any(|f| !matches!(f.value, Value::Str(_) | Value::Binary(_))) {
                    return Some(api::error("only string and binary fields can be signed"));
                }
                let dest = m.get_str("dest").map(str::to_string);
                if let Some(d) = &dest {
                    if !self.engine.is_cluster_node(d) {
                        return Some(unknown(d));
                    }
                }
                let cmds = self.engine.handle(Input::Send { dest, message: inner.clone() }, now(self.start));
                self.execute(cmds).await;
                api::ok()
            }
            "counters" => {
                let e = self.engine.counters;
                let r = self.recv;
                let mut out = api::ok();
                for (k, v) in [
                    ("received", r.received),
                    ("malformed", r.malformed),
                    ("rejected", r.rejected),
                    ("unknown_node", e.unknown_node),
                    ("no_sequence", e.no_sequence),
                    ("replayed", e.replayed),
                    ("old_generation", e.old_generation),
                    ("lost", e.lost),
                    ("rexmit_requests", e.rexmit_requests),
                    ("retransmitted", e.retransmitted),
                    ("fragmented", e.fragmented),
                    ("reassembled", e.reassembled),
                    ("frag_dropped", e.frag_dropped),
                    ("backlog", self.engine.backlog() as u64),
                    ("send_errors", self.send_errors),
                    ("push_dropped", self.push_dropped),
                ] {
                    out.push(k, Value::Str(v.to_string()));
                }
                out
            }
            other => api::error(&format!("unknown request {other:?}")),
        })
    }
}
