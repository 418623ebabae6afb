//! Cluster nodes of the configuration (`<nodes>`).

use super::error::ModelError;
use super::nvset::{NvSet, NvSetKind};
use super::read::{opt_string, required_id, score_attr, Reader};
use super::score::Score;
use crate::xml::Element;

/// `<node>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The node's UUID (Heartbeat) or numeric id (Corosync).
    pub id: String,
    pub line: u32,
    /// `uname -n` of the node. Pacemaker requires it; when it is missing
    /// the id stands in, as the only other name the node has.
    pub uname: String,
    pub kind: NodeType,
    pub description: Option<String>,
    /// Heartbeat 2.x / Pacemaker 1.x `score` on a node (a base score for
    /// every resource).
    pub score: Option<Score>,
    pub instance_attributes: Vec<NvSet>,
    pub utilization: Vec<NvSet>,
}

/// `type` of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeType {
    /// `member`, and the default.
    #[default]
    Member,
    /// Heartbeat 2.x's name for a member node; behaves as [`NodeType::Member`].
    Normal,
    /// A Heartbeat ping node: never runs resources.
    Ping,
    /// A Pacemaker Remote node.
    Remote,
}

impl NodeType {
    pub fn parse(text: &str) -> Option<NodeType> {
        Some(match text.to_ascii_lowercase().as_str() {
            "member" => NodeType::Member,
            "normal" => NodeType::Normal,
            "ping" => NodeType::Ping,
            "remote" => NodeType::Remote,
            _ => return None,
        })
    }

    /// Whether the node is a full cluster member (member or normal).
    pub fn is_member(self) -> bool {
        matches!(self, NodeType::Member | NodeType::Normal)
    }
}

impl Node {
    pub(crate) fn read<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Node, ModelError> {
        let id = required_id(el)?;
        let kind = r.enum_attr(el, &["type"], NodeType::parse, "member, normal, ping or remote");
        Ok(Node {
            uname: opt_string(el, &["uname"]).unwrap_or_else(|| id.clone()),
            id,
            line: el.line,
            kind: kind.unwrap_or_default(),
            description: opt_string(el, &["description"]),
            score: score_attr(el, &["score"]),
            instance_attributes: NvSet::read_all(r, NvSetKind::Instance, el)?,
            utilization: NvSet::read_all(r, NvSetKind::Utilization, el)?,
        })
    }
}
