//! Heartbeat's node table as pingd and ipfail read it at start: every
//! node with its type (`normal` or `ping`) and its status.

use transport::api::ApiError;
use transport::api_async::Heartbeat;
use transport::wire::Message;

/// One node heartbeat knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    /// `ping` for ping nodes and ping groups, `normal` for cluster nodes.
    pub kind: String,
    /// `active`, `up`, `init`, `dead`, or `ping`.
    pub status: String,
}

impl Node {
    pub fn is_ping(&self) -> bool {
        self.kind == "ping"
    }
}

/// Asks heartbeat for every node, its type and its status. Only before
/// any posted request (see [`Heartbeat::request`]).
pub async fn table(hb: &mut Heartbeat) -> Result<Vec<Node>, ApiError> {
    let mut out = Vec::new();
    for name in hb.nodes().await? {
        let r = hb.request(&Message::new().with_str("t", "nodetype").with_str("node", &name)).await?;
        let kind = r.get_str("type").unwrap_or("normal").to_string();
        let status = hb.node_status(&name).await?;
        out.push(Node { name, kind, status });
    }
    Ok(out)
}

/// A pushed `t=nodestatus` frame as (node, status).
pub fn status_event(m: &Message) -> Option<(&str, &str)> {
    if m.get_str("t") != Some("nodestatus") {
        return None;
    }
    Some((m.get_str("node")?, m.get_str("status")?))
}
