//! The transition graph as typed data: what pengine builds, what the
//! executor runs, and what [`crate::read`] and [`crate::write`] read and write.
//!
//! The vocabulary is Pacemaker's wire vocabulary (`transition_graph`,
//! `synapse`, `rsc_op`, `operation_key`...), so a graph printed from this
//! model reads like the graphs in the field. Values that Pacemaker writes
//! as free text (durations such as `60s`, `INFINITY`) are kept as the text
//! that was written, with typed accessors beside them, so a graph survives
//! a read and a write byte for byte.

use cib::model::duration::parse_interval_ms;

/// Pacemaker's `INFINITY` score, the priority of synapses that must run even
/// after a transition was aborted (fencing, shutdowns).
pub const INFINITY: i32 = 1_000_000;

/// A whole transition: global settings and the synapses, in graph order.
///
/// Graph order matters: the executor scans synapses in this order on every
/// pass, which is what makes Pacemaker's execution order reproducible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionGraph {
    pub attrs: GraphAttrs,
    pub synapses: Vec<Synapse>,
}

/// The attributes of `<transition_graph>`, in the order Pacemaker writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphAttrs {
    /// `cluster-delay`: added to every action's own timeout (network slack).
    pub cluster_delay: String,
    /// `stonith-timeout`: how long a fencing action may take.
    pub stonith_timeout: Option<String>,
    /// `failed-stop-offset` (always `INFINITY` from Pacemaker's scheduler).
    pub failed_stop_offset: Option<String>,
    /// `failed-start-offset` (`INFINITY`, or `1` without start-failure-is-fatal).
    pub failed_start_offset: Option<String>,
    /// `batch-limit`: at most this many synapses in flight (0: no limit).
    /// `None` is the form of the regression suite's graphs, whose writer had
    /// the attribute filtered out (see docs/TENGINE.md, "Writer quirks").
    pub batch_limit: Option<i32>,
    pub transition_id: i32,
    /// `migration-limit`, written only when positive.
    pub migration_limit: Option<String>,
    /// `recheck-by`: epoch seconds at which the scheduler must rerun.
    pub recheck_by: Option<String>,
    /// Attributes this model does not know, kept in order after the known ones.
    pub extra: Vec<(String, String)>,
}

impl GraphAttrs {
    /// Pacemaker's defaults for a fresh transition: `cluster-delay=60s`,
    /// `stonith-timeout=60s`, both offsets `INFINITY`.
    pub fn new(transition_id: i32) -> Self {
        GraphAttrs {
            cluster_delay: "60s".into(),
            stonith_timeout: Some("60s".into()),
            failed_stop_offset: Some("INFINITY".into()),
            failed_start_offset: Some("INFINITY".into()),
            batch_limit: None,
            transition_id,
            migration_limit: None,
            recheck_by: None,
            extra: Vec::new(),
        }
    }

    /// `cluster-delay` in milliseconds, read as Pacemaker reads intervals
    /// (`60s`, `2min`, `PT1M`; see `cib::model::duration`); unreadable
    /// text counts as 0, as in Pacemaker.
    pub fn cluster_delay_ms(&self) -> u64 {
        parse_interval_ms(&self.cluster_delay).unwrap_or(0)
    }

    /// `stonith-timeout` in milliseconds; without one, Pacemaker falls back
    /// to the cluster delay.
    pub fn stonith_timeout_ms(&self) -> u64 {
        match &self.stonith_timeout {
            Some(t) => parse_interval_ms(t).unwrap_or(0),
            None => self.cluster_delay_ms(),
        }
    }
}

/// One node of the graph: a set of actions fired together once every input
/// action has been confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synapse {
    pub id: i32,
    /// The highest priority of the resource or action (0 when not written).
    /// After an abort, only synapses at or above the abort priority may fire
    /// real actions; fencing and shutdown synapses carry [`INFINITY`].
    pub priority: i32,
    pub actions: Vec<Action>,
    /// The `<trigger>`s: references to actions of other synapses. Pacemaker
    /// repeats the referenced action's header there, so it is kept whole.
    pub inputs: Vec<ActionHeader>,
}

/// The three XML elements an action can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// `<rsc_op>`: a resource agent operation on a node.
    RscOp,
    /// `<pseudo_event>`: an ordering point with nothing to execute.
    PseudoEvent,
    /// `<crm_event>`: fencing, shutdown, fail-count clearing...
    CrmEvent,
}

impl ActionKind {
    pub fn element_name(self) -> &'static str {
        match self {
            ActionKind::RscOp => "rsc_op",
            ActionKind::PseudoEvent => "pseudo_event",
            ActionKind::CrmEvent => "crm_event",
        }
    }

    pub fn from_element_name(name: &str) -> Option<Self> {
        // Pacemaker compares these case-insensitively.
        match name.to_ascii_lowercase().as_str() {
            "rsc_op" => Some(ActionKind::RscOp),
            "pseudo_event" => Some(ActionKind::PseudoEvent),
            "crm_event" => Some(ActionKind::CrmEvent),
            _ => None,
        }
    }
}

/// The attributes on an action's own element: all a trigger repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionHeader {
    pub kind: ActionKind,
    /// `mode="cib"` on an `lrm_delete` crm_event: a CIB-only clean-up.
    /// Pacemaker writes it before `id`.
    pub mode: Option<String>,
    pub id: i32,
    /// `operation`: the task (`start`, `stop`, `monitor`, `stonith`...).
    pub operation: String,
    /// `operation_key`: `rsc_task_interval`, or a notify/pseudo key.
    pub operation_key: String,
    /// `internal_operation_key`: the key under the instance name, when the
    /// operation key uses a clone's name.
    pub internal_operation_key: Option<String>,
    /// `on_node`: the node's name.
    pub on_node: Option<String>,
    /// `on_node_uuid`: the node's id.
    pub on_node_uuid: Option<String>,
    /// `router_node`: the cluster node that relays to a remote/guest node.
    pub router_node: Option<String>,
}

impl ActionHeader {
    /// A header with only the always-present fields set.
    pub fn new(kind: ActionKind, id: i32, operation: &str, operation_key: &str) -> Self {
        ActionHeader {
            kind,
            mode: None,
            id,
            operation: operation.into(),
            operation_key: operation_key.into(),
            internal_operation_key: None,
            on_node: None,
            on_node_uuid: None,
            router_node: None,
        }
    }
}

/// One action with its details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub header: ActionHeader,
    /// `shutdown-lock`: the lock time of a resource locked to its node.
    pub shutdown_lock: Option<String>,
    /// Attributes this model does not know, written after the known ones.
    pub extra: Vec<(String, String)>,
    /// The affected resource (real resource actions only).
    pub resource: Option<Resource>,
    /// The `<attributes>`: instance attributes and `CRM_meta_*` values.
    pub attributes: Attributes,
    /// `<downed>`: ids of nodes this action is expected to bring down.
    pub downed: Option<Vec<String>>,
    /// `<maintenance>`: remote nodes whose maintenance flag this pseudo
    /// action updates, as (node id, `node_in_maintenance` = `1`/`0`).
    pub maintenance: Option<Vec<(String, Option<String>)>>,
}

impl Action {
    pub fn new(header: ActionHeader) -> Self {
        Action {
            header,
            shutdown_lock: None,
            extra: Vec::new(),
            resource: None,
            attributes: Attributes::default(),
            downed: None,
            maintenance: None,
        }
    }

    pub fn id(&self) -> i32 {
        self.header.id
    }

    pub fn kind(&self) -> ActionKind {
        self.header.kind
    }

    /// A `CRM_meta_<name>` value.
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.attributes.get(&format!("CRM_meta_{name}"))
    }

    /// The action's own timeout in milliseconds: `CRM_meta_timeout` plus
    /// `CRM_meta_start_delay`, as Pacemaker's executor computes it.
    pub fn timeout_ms(&self) -> i64 {
        let int = |n| {
            self.meta(n)
                .and_then(|v| v.trim().parse::<i64>().ok())
                .unwrap_or(0)
                .max(0)
        };
        int("timeout") + int("start_delay")
    }

    /// `CRM_meta_interval` in milliseconds (0 for one-shot operations).
    pub fn interval_ms(&self) -> u32 {
        self.meta("interval")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// `CRM_meta_op_no_wait`: confirm as soon as it is sent.
    pub fn no_wait(&self) -> bool {
        self.meta("op_no_wait").is_some_and(is_true)
    }

    /// `CRM_meta_can_fail`: a failure does not stop the transition.
    pub fn can_fail(&self) -> bool {
        self.meta("can_fail").is_some_and(is_true)
    }

    /// Whether this is a fencing action (`crm_event operation="stonith"`).
    pub fn is_fencing(&self) -> bool {
        self.header.kind == ActionKind::CrmEvent
            && self.header.operation.eq_ignore_ascii_case("stonith")
    }
}

/// The resource element of a resource action (`<primitive>` in practice;
/// Pacemaker names it after the resource's configuration element).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub element: String,
    /// The id the executor should use (the configuration id for anonymous
    /// clone instances).
    pub id: String,
    /// `long-id`: the instance name (`rsc:1`) the resource may be known as.
    pub long_id: Option<String>,
    pub class: Option<String>,
    pub provider: Option<String>,
    /// `type`: the agent.
    pub agent: Option<String>,
}

/// The name/value pairs of `<attributes>`, in the order given.
///
/// Pacemaker writes them sorted by name (byte order), and names starting
/// with a digit, which cannot be XML attribute names, as `<param>` children
/// (Heartbeat resource.d scripts take positional arguments `1`, `2`...).
/// The writer does both; the order kept here matters only among `<param>`s.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attributes {
    pub pairs: Vec<(String, String)>,
}

impl Attributes {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets a value, replacing an existing one of the same name. A new
    /// name goes where Pacemaker writes it: attribute names in byte order
    /// ahead of the `<param>` names, which keep the order they are set in.
    /// (So a graph built in code equals the same graph read back.)
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        if let Some(pair) = self.pairs.iter_mut().find(|(n, _)| n == name) {
            pair.1 = value;
            return;
        }
        let at = if Self::is_param_name(name) {
            self.pairs.len()
        } else {
            self.pairs
                .iter()
                .position(|(n, _)| Self::is_param_name(n) || n.as_bytes() > name.as_bytes())
                .unwrap_or(self.pairs.len())
        };
        self.pairs.insert(at, (name.to_string(), value));
    }

    /// Whether a name is written as a `<param>` child rather than an attribute.
    pub fn is_param_name(name: &str) -> bool {
        name.starts_with(|c: char| c.is_ascii_digit())
    }
}

impl TransitionGraph {
    pub fn new(attrs: GraphAttrs) -> Self {
        TransitionGraph {
            attrs,
            synapses: Vec::new(),
        }
    }

    /// Every action, with the index of its synapse.
    pub fn actions(&self) -> impl Iterator<Item = (usize, &Action)> {
        self.synapses
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.actions.iter().map(move |a| (i, a)))
    }

    /// The action with this id.
    pub fn action(&self, id: i32) -> Option<&Action> {
        self.actions().map(|(_, a)| a).find(|a| a.id() == id)
    }
}

/// Pacemaker's `crm_is_true`: `true`, `on`, `yes`, `y`, `1`, any case.
fn is_true(text: &str) -> bool {
    ["true", "on", "yes", "y", "1"]
        .iter()
        .any(|w| text.trim().eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_booleans() {
        let mut attrs = GraphAttrs::new(0);
        assert_eq!(attrs.cluster_delay_ms(), 60_000);
        attrs.cluster_delay = "PT2M".into();
        attrs.stonith_timeout = None;
        assert_eq!(attrs.stonith_timeout_ms(), 120_000);
        attrs.cluster_delay = "soon".into();
        assert_eq!(attrs.cluster_delay_ms(), 0);
        for t in ["true", "TRUE", "on", "yes", "y", "1"] {
            assert!(is_true(t), "{t}");
        }
        for t in ["false", "0", "no", "", "maybe"] {
            assert!(!is_true(t), "{t}");
        }
    }
}
