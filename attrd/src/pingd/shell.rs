//! pingd's daemon loop: heartbeat's ping-node statuses in, attrd updates
//! out. A change that attrd cannot take (attrd restarting) is retried
//! every second until it is taken; heartbeat going away ends the loop
//! (heartbeat respawns pingd with its next generation).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use transport::api_async::Heartbeat;

use super::core::{choose, Connectivity};
use super::nodes;
use crate::client::AsyncClient;
use crate::protocol::Request;

/// What the command line chose.
#[derive(Debug, Clone)]
pub struct Options {
    /// The attribute to set (`-a`, default `pingd`).
    pub attribute: String,
    /// Points per answering ping node (`-m`).
    pub multiplier: i64,
    /// attrd's dampening delay for the attribute (`-d`).
    pub dampen_ms: u64,
    /// Ping nodes to count (`-h`); empty: every ping node of ha.cf.
    pub hosts: Vec<String>,
    pub attrd_socket: PathBuf,
}

/// Hands one change to the local attrd (`value` None deletes).
pub async fn attrd_set(socket: &std::path::Path, name: &str, value: Option<&str>, dampen_ms: u64) -> Result<(), crate::Error> {
    let mut c = AsyncClient::connect(socket, Duration::from_secs(5)).await?;
    let dampen_ms = (dampen_ms > 0).then_some(dampen_ms);
    let req = match value {
        Some(v) => Request::Update { node: None, name: name.to_string(), value: v.to_string(), dampen_ms },
        None => Request::Delete { node: None, name: name.to_string(), dampen_ms },
    };
    c.request(&req).await.map(drop)
}

/// The local attrd's value of `name` on this node (None: unknown to it).
/// Errors when attrd cannot be asked.
pub async fn attrd_get(socket: &std::path::Path, name: &str) -> Result<Option<String>, crate::Error> {
    let mut c = AsyncClient::connect(socket, Duration::from_secs(5)).await?;
    match c.query(None, name).await {
        Ok(v) => Ok(v.into_iter().next().and_then(|nv| nv.value).filter(|v| !v.is_empty())),
        Err(crate::Error::NoSuch) => Ok(None),
        Err(e) => Err(e),
    }
}

/// How often the helpers check that attrd still holds what they set: a
/// respawned attrd starts empty (it clears the node's transient
/// attributes), and nothing else would tell them.
pub const RECHECK: Duration = Duration::from_secs(5);

/// Runs until heartbeat goes away (an error: the launcher respawns pingd).
pub async fn run(mut hb: Heartbeat, opts: Options) -> anyhow::Result<()> {
    let table = nodes::table(&mut hb).await?;
    let ping: Vec<String> = table.iter().filter(|n| n.is_ping()).map(|n| n.name.clone()).collect();
    let (chosen, unknown) = choose(&ping, &opts.hosts);
    for h in unknown {
        tracing::warn!("host {h} is not a ping node of ha.cf (ping / ping_group): not counted");
    }
    if chosen.is_empty() {
        tracing::warn!("no ping nodes to count: {} stays 0", opts.attribute);
    }
    let mut conn = Connectivity::new(chosen, opts.multiplier);
    for n in &table {
        conn.set(&n.name, &n.status);
    }
    tracing::info!(
        "pingd: counting {} ping node(s) [{}], {} = {} x reachable, dampen {} ms",
        conn.nodes().count(),
        conn.nodes().collect::<Vec<_>>().join(" "),
        opts.attribute,
        opts.multiplier,
        opts.dampen_ms
    );
    // The value attrd has taken; None until the first update went through.
    let mut sent: Option<i64> = None;
    let mut failing = false;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut checked = tokio::time::Instant::now();
    loop {
        if let Some(v) = sent.filter(|_| checked.elapsed() >= RECHECK) {
            checked = tokio::time::Instant::now();
            if let Ok(held) = attrd_get(&opts.attrd_socket, &opts.attribute).await {
                if held.as_deref() != Some(v.to_string().as_str()) {
                    tracing::info!("attrd holds {}={held:?}, not {v} (restarted?): setting it again", opts.attribute);
                    sent = None;
                }
            }
        }
        let value = conn.value();
        if sent != Some(value) {
            match attrd_set(&opts.attrd_socket, &opts.attribute, Some(&value.to_string()), opts.dampen_ms).await {
                Ok(()) => {
                    tracing::info!("Updated {} = {value} ({} of {} ping nodes reachable)", opts.attribute, conn.reachable(), conn.nodes().count());
                    sent = Some(value);
                    failing = false;
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!("cannot update {} = {value} through attrd: {e}; retrying every second", opts.attribute);
                    }
                    failing = true;
                }
            }
        }
        tokio::select! {
            frame = hb.next_frame() => match frame {
                None => bail!("heartbeat closed the connection"),
                Some(Err(e)) => bail!("heartbeat connection: {e}"),
                Some(Ok(m)) => {
                    if let Some((node, status)) = nodes::status_event(&m) {
                        if conn.set(node, status) {
                            tracing::info!("Status update: Ping node {node} now has status {status}");
                        }
                    }
                }
            },
            _ = tick.tick() => {}
        }
    }
}
