//! ipfail's daemon loop: heartbeat's statuses and the peer's messages
//! into [`Ipfail`], its commands out (messages through heartbeat, the
//! standby attribute through attrd). A standby change attrd cannot take
//! yet is retried every half second.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::bail;
use transport::api_async::Heartbeat;
use transport::wire::Value;

use super::core::{Command, Input, Ipfail};
use super::wire;
use crate::pingd::nodes;
use crate::pingd::shell::{attrd_get, attrd_set, RECHECK};

/// The attribute ipfail's give-up sets (reboot lifetime).
pub const STANDBY: &str = "standby";

#[derive(Debug, Clone)]
pub struct Options {
    /// This node's name (heartbeat's).
    pub me: String,
    /// Delay between deciding to give up and doing it.
    pub delay_ms: u64,
    pub attrd_socket: PathBuf,
}

/// Why ipfail cannot run here (the binary exits 100: do not respawn).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unsuitable(pub String);

/// Whether this node is in standby through a transient attribute now
/// (a respawned ipfail inherits its predecessor's give-up).
async fn standby_now(opts: &Options) -> bool {
    let Ok(mut c) = crate::client::AsyncClient::connect(&opts.attrd_socket, Duration::from_secs(5)).await else { return false };
    c.query(None, STANDBY).await.is_ok_and(|v| v.iter().any(|nv| nv.value.as_deref() == Some("on")))
}

/// Runs until heartbeat goes away.
pub async fn run(mut hb: Heartbeat, opts: Options) -> anyhow::Result<()> {
    let table = nodes::table(&mut hb).await?;
    let cluster: Vec<&str> = table.iter().filter(|n| !n.is_ping()).map(|n| n.name.as_str()).collect();
    let ping: Vec<String> = table.iter().filter(|n| n.is_ping()).map(|n| n.name.clone()).collect();
    if cluster.len() != 2 {
        return Err(Unsuitable(format!("ipfail works in two-node clusters; ha.cf has {} nodes", cluster.len())).into());
    }
    if ping.is_empty() {
        return Err(Unsuitable("no ping nodes in ha.cf (ping / ping_group): ipfail has nothing to compare".into()).into());
    }
    let Some(peer) = cluster.iter().find(|n| **n != opts.me).map(|s| s.to_string()) else {
        return Err(Unsuitable(format!("this node ({}) is not among ha.cf's nodes", opts.me)).into());
    };
    let given_up = standby_now(&opts).await;
    let mut f = Ipfail::new(&peer, ping, opts.delay_ms, given_up);
    tracing::info!("ipfail: peer {peer}, ping nodes compared every change, give-up delay {} ms{}", opts.delay_ms, if given_up { " (in standby)" } else { "" });
    let start = Instant::now();
    let now = || start.elapsed().as_millis() as u64;
    // The standby value still to hand to attrd (Some(true): on).
    let mut pending: Option<bool> = None;
    let mut cmds = Vec::new();
    for n in &table {
        cmds.extend(f.handle(Input::Status { node: n.name.clone(), status: n.status.clone() }, now()));
    }
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut checked = tokio::time::Instant::now();
    loop {
        // A respawned attrd starts without our standby: set it again.
        if f.given_up() && pending.is_none() && checked.elapsed() >= RECHECK {
            checked = tokio::time::Instant::now();
            if let Ok(held) = attrd_get(&opts.attrd_socket, STANDBY).await {
                if held.as_deref() != Some("on") {
                    tracing::info!("attrd holds {STANDBY}={held:?} while we gave up (restarted?): setting it again");
                    pending = Some(true);
                }
            }
        }
        for c in cmds.drain(..) {
            match c {
                Command::Log(l) => tracing::info!("{l}"),
                Command::Send(m) => hb.send(Some(&peer), wire::to_message(m)).await?,
                Command::GiveUp => pending = Some(true),
                Command::Reclaim => pending = Some(false),
            }
        }
        if let Some(on) = pending {
            match attrd_set(&opts.attrd_socket, STANDBY, on.then_some("on"), 0).await {
                Ok(()) => {
                    if on {
                        tracing::info!("{} wants to go standby [all]: {STANDBY}=on", opts.me);
                    } else {
                        tracing::info!("{} leaves standby: {STANDBY} removed", opts.me);
                    }
                    pending = None;
                }
                Err(e) => tracing::warn!("cannot set {STANDBY} through attrd: {e}; retrying"),
            }
        }
        tokio::select! {
            frame = hb.next_frame() => match frame {
                None => bail!("heartbeat closed the connection"),
                Some(Err(e)) => bail!("heartbeat connection: {e}"),
                Some(Ok(m)) => {
                    if let Some((node, status)) = nodes::status_event(&m) {
                        cmds = f.handle(Input::Status { node: node.to_string(), status: status.to_string() }, now());
                    } else if m.get_str("t") == Some("msg") {
                        if let Some(Value::Struct(inner)) = m.get("msg") {
                            let from_peer = inner.get_str("src").is_some_and(|s| s.eq_ignore_ascii_case(&peer));
                            if let (true, Some(pm)) = (from_peer, wire::from_message(inner)) {
                                cmds = f.handle(Input::Peer(pm), now());
                            }
                        }
                    } else if m.get_str("t") == Some("error") {
                        tracing::warn!("heartbeat refused a message: {}", m.get_str("reason").unwrap_or("?"));
                    }
                }
            },
            _ = tick.tick() => cmds = f.handle(Input::Tick, now()),
        }
    }
}
