//! The lrmd daemon loop: a tokio shell around [`Core`].
//!
//! [`run`] takes its listener and shutdown signal from the caller (so tests
//! drive it in-process or as a binary). One task owns the core; connection
//! tasks send it requests over a channel, agent tasks send it results, and
//! it sleeps until the core's next wakeup. Every core command is carried
//! out here: `Run` spawns an agent task, `Kill` tells that task to kill
//! its agent, `Notify` goes to subscribers.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use cib::op_digest::AgentInfo;

use crate::core::{Command, Core, Now};
use crate::digest::{agent_key, AgentKey};
use crate::op::{OpRequest, OpResult, OpStatus};
use crate::resource::ResourceSpec;
use crate::protocol::{ClientMessage, Reply, Request, ServerMessage, MAX_LINE};
use crate::runner::{self, Ready, RunnerConfig};

type Outbox = mpsc::UnboundedSender<ServerMessage>;

enum Event {
    Request { client: u64, msg: ClientMessage, out: Outbox },
    Finished { call_id: u32, result: OpResult, agent_info: Option<(AgentKey, AgentInfo)> },
    Gone { client: u64 },
}

/// Recurring runs due within this much of a timer wake-up start with it
/// (`Core::tick_within`): with 1,000 monitors spread over 10 s, one
/// wake-up then starts two or three runs instead of one, and their exits
/// tend to be seen in one wake-up too. Starting a monitor 25 ms early is
/// nothing against intervals of seconds (docs/LRMD.md, Benchmark).
const TIMER_SLACK_MS: u64 = 25;

/// Whether a peer may use lrmd: root, or the user lrmd runs as.
pub fn peer_allowed(peer_uid: u32, own_uid: u32) -> bool {
    peer_uid == 0 || peer_uid == own_uid
}

/// Serves `listener` until `shutdown` completes.
pub async fn run(listener: UnixListener, cfg: RunnerConfig, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let cfg = Arc::new(cfg);
    let origin = Instant::now();
    let now = move || Now {
        mono_ms: origin.elapsed().as_millis() as u64,
        epoch_s: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
    };
    let own_uid = nix::unistd::geteuid().as_raw();
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let mut core = Core::new();
    let mut subscribers: BTreeMap<u64, Outbox> = BTreeMap::new();
    // One kill switch per agent run under way, by call id.
    let mut kill_switches: BTreeMap<u32, oneshot::Sender<()>> = BTreeMap::new();
    // Recurring operations run the same invocation every time: planned
    // and turned into C strings once, by call id (checked against the
    // spec and request, which a re-registration may change; dropped when
    // the operation is reported cancelled).
    let mut prepared: HashMap<u32, (ResourceSpec, OpRequest, Arc<Ready>)> = HashMap::new();
    let mut next_client = 0u64;
    tokio::pin!(shutdown);

    loop {
        let wake = core.next_wakeup().map(|ms| tokio::time::Instant::from_std(origin + std::time::Duration::from_millis(ms)));
        let cmds = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                match stream.peer_cred() {
                    Ok(cred) if peer_allowed(cred.uid(), own_uid) => {
                        next_client += 1;
                        tokio::spawn(connection(next_client, stream, tx.clone()));
                    }
                    Ok(cred) => {
                        tracing::warn!(uid = cred.uid(), "refused a client: not root and not our user");
                        tokio::spawn(refuse(stream, format!("permission denied: uid {} is neither root nor lrmd's user", cred.uid())));
                    }
                    Err(e) => tracing::warn!(error = %e, "refused a client: no peer credentials"),
                }
                Vec::new()
            }
            Some(event) = rx.recv() => match event {
                Event::Request { client, msg, out } => {
                    if matches!(msg.request, Request::Subscribe) {
                        subscribers.insert(client, out.clone());
                    }
                    let (result, cmds) = handle(&mut core, msg.request, now());
                    let _ = out.send(ServerMessage::Reply { id: msg.id, result });
                    cmds
                }
                Event::Finished { call_id, result, agent_info } => {
                    if let Some((key, info)) = agent_info {
                        core.set_agent_info(key, info);
                    }
                    kill_switches.remove(&call_id);
                    core.finished(call_id, result, now())
                }
                Event::Gone { client } => {
                    subscribers.remove(&client);
                    Vec::new()
                }
            },
            _ = tokio::time::sleep_until(wake.unwrap_or_else(tokio::time::Instant::now)), if wake.is_some() => core.tick_within(now(), TIMER_SLACK_MS),
        };
        for cmd in cmds {
            match cmd {
                Command::Run { call_id, spec, request } => {
                    // Every run of a recurring op would be a line per
                    // interval per resource: those go to debug.
                    if request.interval_ms > 0 {
                        tracing::debug!(call_id, key = %request.key(), "running {}", spec.standard_name());
                    } else {
                        tracing::info!(call_id, key = %request.key(), "running {}", spec.standard_name());
                    }
                    let ready = match prepared.get(&call_id) {
                        Some((s, r, ready)) if *s == spec && *r == request => Ok(ready.clone()),
                        _ => runner::prepare(&cfg, &spec, &request).map(Arc::new),
                    };
                    if let (Ok(r), true) = (&ready, request.interval_ms > 0) {
                        prepared.insert(call_id, (spec.clone(), request.clone(), r.clone()));
                    }
                    let (cfg, tx) = (cfg.clone(), tx.clone());
                    let fetch_meta = core.wants_agent_info(&spec, &request);
                    let (kill_tx, kill_rx) = oneshot::channel::<()>();
                    kill_switches.insert(call_id, kill_tx);
                    tokio::spawn(async move {
                        // Only a sent kill kills: a dropped switch (lrmd
                        // shutting down) leaves the agent alone.
                        let kill = async {
                            if kill_rx.await.is_err() {
                                std::future::pending::<()>().await
                            }
                        };
                        let result = match ready {
                            Ok(ready) => runner::run_ready(&cfg, &ready, kill).await,
                            Err(immediate) => immediate,
                        };
                        // As Pacemaker's controller does, read the agent's
                        // meta-data once, after the first *successful*
                        // operation whose record needs it (the restart/
                        // secure lists): an agent that just failed or hung
                        // is not asked again, so its result is not delayed.
                        let succeeded = result.status == crate::op::OpStatus::Done
                            && matches!(result.rc, crate::op::rc::OK | crate::op::rc::RUNNING_PROMOTED);
                        let agent_info =
                            if fetch_meta && succeeded { agent_info(&cfg, &spec).await } else { None };
                        let _ = tx.send(Event::Finished { call_id, result, agent_info });
                    });
                }
                Command::Kill { call_id } => {
                    tracing::info!(call_id, "killing the agent of a cancelled operation");
                    if let Some(switch) = kill_switches.remove(&call_id) {
                        let _ = switch.send(());
                    }
                }
                Command::Notify(record) => {
                    if record.status == OpStatus::Cancelled {
                        prepared.remove(&record.call_id);
                    }
                    tracing::info!(call_id = record.call_id, key = %record.key, rc = record.rc, status = %record.status, "operation result");
                    subscribers.retain(|_, out| out.send(ServerMessage::Event(Box::new(record.clone()))).is_ok());
                }
            }
        }
    }
    Ok(())
}

/// Meta-data is printed, not computed; agents advertise 5 s for it.
const META_DATA_TIMEOUT_MS: u64 = 5_000;

/// Runs the agent's `meta-data` action and reads what digests need.
/// `None` if the agent gives none or it is not XML (records then carry
/// `op-digest` only, as Pacemaker's do without meta-data).
async fn agent_info(cfg: &RunnerConfig, spec: &crate::resource::ResourceSpec) -> Option<(AgentKey, AgentInfo)> {
    let req = crate::op::OpRequest::new(&spec.id, "meta-data", 0, META_DATA_TIMEOUT_MS);
    let out = runner::execute(cfg, spec, &req).await;
    if out.rc != crate::op::rc::OK {
        tracing::warn!(agent = %spec.standard_name(), rc = out.rc, "no meta-data: records carry op-digest only");
        return None;
    }
    match AgentInfo::from_metadata(&out.stdout) {
        Ok(info) => Some((agent_key(spec), info)),
        Err(e) => {
            tracing::warn!(agent = %spec.standard_name(), error = %e, "unreadable meta-data");
            None
        }
    }
}

/// Applies one request to the core (subscriptions are the loop's own).
fn handle(core: &mut Core, req: Request, now: Now) -> (Result<Reply, String>, Vec<Command>) {
    let err = |e: crate::LrmdError| e.to_string();
    match req {
        Request::Register { resource } => {
            core.register(resource);
            (Ok(Reply::Done), Vec::new())
        }
        Request::Unregister { rsc } => match core.unregister(&rsc, now) {
            Ok(cmds) => (Ok(Reply::Done), cmds),
            Err(e) => (Err(err(e)), Vec::new()),
        },
        Request::Exec { op } => match core.exec(op, now) {
            Ok((id, cmds)) => (Ok(Reply::CallId(id)), cmds),
            Err(e) => (Err(err(e)), Vec::new()),
        },
        Request::Cancel { rsc, action, interval_ms } => match core.cancel(&rsc, &action, interval_ms, now) {
            Ok(cmds) => (Ok(Reply::Done), cmds),
            Err(e) => (Err(err(e)), Vec::new()),
        },
        Request::Resources => (Ok(Reply::Resources(core.resources().cloned().collect())), Vec::new()),
        Request::History { rsc } => match core.history(&rsc) {
            Some(records) => (Ok(Reply::History { records, recurring: core.recurring(&rsc) }), Vec::new()),
            None => (Err(err(crate::LrmdError::NoSuchResource(rsc))), Vec::new()),
        },
        Request::Subscribe => (Ok(Reply::Done), Vec::new()),
    }
}

/// Tells a refused client why, then closes. Its first request is read
/// (and ignored) first, so the client sees the answer rather than EPIPE.
async fn refuse(stream: UnixStream, why: String) {
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_vec(&ServerMessage::Reply { id: 0, result: Err(why) }).expect("serializes");
    line.push(b'\n');
    let _ = write.write_all(&line).await;
    let mut discard = Vec::new();
    let mut reader = BufReader::new(read.take(MAX_LINE as u64));
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), reader.read_until(b'\n', &mut discard)).await;
}

/// One client: reads request lines, writes replies and events.
async fn connection(client: u64, stream: UnixStream, tx: mpsc::UnboundedSender<Event>) {
    let (read, mut write) = stream.into_split();
    let (out, mut outbox) = mpsc::unbounded_channel::<ServerMessage>();
    let writer = tokio::spawn(async move {
        while let Some(msg) = outbox.recv().await {
            let mut line = serde_json::to_vec(&msg).expect("messages always serialize");
            line.push(b'\n');
            if write.write_all(&line).await.is_err() {
                break;
            }
        }
    });
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        // Read at most MAX_LINE (+1 to see that it was exceeded).
        let n = match (&mut reader).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line).await {
            Ok(n) => n,
            Err(_) => break,
        };
        if n == 0 {
            break;
        }
        if line.len() > MAX_LINE {
            tracing::warn!(client, "line too long, closing the connection");
            break;
        }
        match serde_json::from_slice::<ClientMessage>(&line) {
            Ok(msg) => {
                if tx.send(Event::Request { client, msg, out: out.clone() }).is_err() {
                    break;
                }
            }
            Err(e) => {
                // Without a readable id there is nothing to answer to.
                let _ = out.send(ServerMessage::Reply { id: 0, result: Err(format!("bad request: {e}")) });
            }
        }
    }
    let _ = tx.send(Event::Gone { client });
    drop(out);
    let _ = writer.await;
}
