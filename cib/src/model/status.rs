//! The status section: what each node's daemons last reported.
//!
//! Written by the cluster, not by people, so it is read leniently: a
//! `node_state` without an id is skipped with a warning, unknown state
//! words are kept in `Other`, and numbers that do not parse are warned
//! about. Heartbeat 2.x's underscore spellings (`rc_code`, `call_id`,
//! `op_status`, `transition_key`...) are read too.
//!
//! Operation results are data: `rc_code` is the agent's exit code and
//! `op_status` the executor's verdict, never an error of the model.

use super::error::ModelError;
use super::nvset::{NvSet, NvSetKind};
use super::read::{Attrs, first_attr, opt_string, parse_bool, required, required_id, Reader};
use crate::xml::Element;
use compact_str::CompactString;

/// `<status>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    pub node_states: Vec<NodeState>,
    /// `<tickets><ticket_state>`.
    pub tickets: Vec<TicketState>,
}

/// `<node_state>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeState {
    pub id: String,
    pub line: u32,
    pub uname: Option<String>,
    /// Member of the current membership.
    pub in_ccm: Option<bool>,
    /// Whether the node's crmd (controller) is up.
    pub crmd: Option<PeerState>,
    /// Heartbeat's messaging-layer view: `active` / `dead`.
    pub ha: Option<PeerState>,
    pub join: Option<JoinState>,
    pub expected: Option<JoinState>,
    pub crm_debug_origin: Option<String>,
    /// When the node asked to shut down (epoch seconds; 0 = not).
    pub shutdown: Option<i64>,
    pub clear_shutdown: Option<bool>,
    pub remote_node: Option<bool>,
    pub node_fenced: Option<bool>,
    pub node_in_maintenance: Option<bool>,
    /// `transient_attributes`: node attributes that do not survive a
    /// reboot (fail counts, last failures, promotion scores...).
    pub transient_attributes: Vec<NvSet>,
    /// The resource history (`lrm` / `lrm_resources`).
    pub lrm_resources: Vec<LrmResource>,
}

/// Up/down words of `crmd` and `ha`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerState {
    /// `online` (crmd) or `active` (ha).
    Online,
    /// `offline` (crmd) or `dead` (ha).
    Offline,
    Other(String),
}

impl PeerState {
    fn parse(text: &str) -> PeerState {
        match text {
            "online" | "active" => PeerState::Online,
            "offline" | "dead" => PeerState::Offline,
            other => PeerState::Other(other.to_string()),
        }
    }
}

/// Join states of `join` and `expected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinState {
    Member,
    Down,
    Pending,
    Banned,
    Other(String),
}

impl JoinState {
    fn parse(text: &str) -> JoinState {
        match text {
            "member" => JoinState::Member,
            "down" => JoinState::Down,
            "pending" => JoinState::Pending,
            "banned" => JoinState::Banned,
            other => JoinState::Other(other.to_string()),
        }
    }
}

/// `<lrm_resource>`: one resource's operation history on a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LrmResource {
    pub id: String,
    pub line: u32,
    pub class: String,
    pub provider: Option<String>,
    pub agent_type: String,
    /// The container a guest resource runs in.
    pub container: Option<String>,
    /// `shutdown-lock`: when the node's shutdown locked the resource to
    /// it (epoch seconds).
    pub shutdown_lock: Option<i64>,
    pub ops: Vec<LrmRscOp>,
}

/// Executor status of an operation (Pacemaker's `PCMK_EXEC_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecStatus {
    Pending,
    Done,
    Cancelled,
    Timeout,
    NotSupported,
    Error,
    ErrorHard,
    ErrorFatal,
    NotInstalled,
    NotConnected,
    Invalid,
    Unknown(i32),
}

impl ExecStatus {
    pub fn from_code(code: i32) -> ExecStatus {
        match code {
            -1 => ExecStatus::Pending,
            0 => ExecStatus::Done,
            1 => ExecStatus::Cancelled,
            2 => ExecStatus::Timeout,
            3 => ExecStatus::NotSupported,
            4 => ExecStatus::Error,
            5 => ExecStatus::ErrorHard,
            6 => ExecStatus::ErrorFatal,
            7 => ExecStatus::NotInstalled,
            8 => ExecStatus::NotConnected,
            9 => ExecStatus::Invalid,
            other => ExecStatus::Unknown(other),
        }
    }

    pub fn code(self) -> i32 {
        match self {
            ExecStatus::Pending => -1,
            ExecStatus::Done => 0,
            ExecStatus::Cancelled => 1,
            ExecStatus::Timeout => 2,
            ExecStatus::NotSupported => 3,
            ExecStatus::Error => 4,
            ExecStatus::ErrorHard => 5,
            ExecStatus::ErrorFatal => 6,
            ExecStatus::NotInstalled => 7,
            ExecStatus::NotConnected => 8,
            ExecStatus::Invalid => 9,
            ExecStatus::Unknown(c) => c,
        }
    }
}

/// `<lrm_rsc_op>`: the last result of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LrmRscOp {
    pub id: CompactString,
    pub line: u32,
    /// start, stop, monitor, promote, notify, migrate_to...
    pub operation: CompactString,
    /// `rsc_op_interval`, e.g. `db_monitor_10000`.
    pub operation_key: Option<CompactString>,
    /// Order of execution on the node; -1 for pending or synthesized.
    pub call_id: i64,
    /// The agent's exit code.
    pub rc_code: i32,
    pub op_status: ExecStatus,
    pub interval_ms: u64,
    /// Epoch seconds.
    pub last_run: Option<i64>,
    pub last_rc_change: Option<i64>,
    /// Milliseconds.
    pub exec_time: Option<u64>,
    pub queue_time: Option<u64>,
    pub op_digest: Option<String>,
    /// Parameters whose change forces a restart (space-separated in XML).
    pub op_force_restart: Vec<String>,
    pub op_restart_digest: Option<String>,
    /// Parameters left out of `op_secure_digest`.
    pub op_secure_params: Vec<String>,
    pub op_secure_digest: Option<String>,
    /// `action:transition:target-rc:uuid`, as written.
    pub transition_key: Option<String>,
    /// `op-status:rc;transition-key`, as written.
    pub transition_magic: Option<String>,
    pub on_node: Option<CompactString>,
    pub crm_feature_set: Option<CompactString>,
    pub crm_debug_origin: Option<CompactString>,
    pub exit_reason: Option<CompactString>,
    pub migrate_source: Option<CompactString>,
    pub migrate_target: Option<CompactString>,
}

/// A decoded transition key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionKey {
    pub action_id: i32,
    pub transition_id: i32,
    pub target_rc: i32,
    pub uuid: String,
}

impl TransitionKey {
    /// `action:transition:target-rc:uuid` (Pacemaker's
    /// `decode_transition_key`).
    pub fn parse(text: &str) -> Option<TransitionKey> {
        let mut parts = text.splitn(4, ':');
        let action_id = parts.next()?.parse().ok()?;
        let transition_id = parts.next()?.parse().ok()?;
        let target_rc = parts.next()?.parse().ok()?;
        let uuid = parts.next()?.to_string();
        Some(TransitionKey { action_id, transition_id, target_rc, uuid })
    }
}

impl LrmRscOp {
    pub fn decoded_transition_key(&self) -> Option<TransitionKey> {
        self.transition_key.as_deref().and_then(TransitionKey::parse)
    }
}

/// `<ticket_state>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState {
    pub id: String,
    pub line: u32,
    pub granted: bool,
    pub standby: bool,
    /// Epoch seconds.
    pub last_granted: Option<i64>,
}

impl Status {
    pub(crate) fn read<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Status, ModelError> {
        let mut status = Status::default();
        for child in el.elements() {
            match child.name.as_str() {
                "node_state" => status.node_states.extend(read_node_state_checked(r, child)?),
                "tickets" => {
                    for t in child.children_named("ticket_state") {
                        status.tickets.push(TicketState {
                            id: required_id(t)?,
                            line: t.line,
                            granted: t.attr("granted").and_then(parse_bool).unwrap_or(false),
                            standby: t.attr("standby").and_then(parse_bool).unwrap_or(false),
                            last_granted: r.int_attr(t, &["last-granted"]),
                        });
                    }
                }
                other => r.warn(child, format!("ignoring <{other}> in <status>")),
            }
        }
        Ok(status)
    }

    /// The state of the node with this id.
    pub fn node(&self, id: &str) -> Option<&NodeState> {
        self.node_states.iter().find(|n| n.id == id)
    }
}

/// A `<node_state>` of `<status>`, or none (with a warning) without an id.
pub(crate) fn read_node_state_checked<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Option<NodeState>, ModelError> {
    read_node_state_with(r, el, Vec::new())
}

/// A `<node_state>` whose history (`lrm_resource`s read already, as the
/// parse went, in `taken`) precedes what its element still holds; none,
/// with a warning, without an id.
pub(crate) fn read_node_state_with<'a>(r: &mut Reader<'a>, el: &'a Element, taken: Vec<LrmResource>) -> Result<Option<NodeState>, ModelError> {
    if el.id().is_none() {
        r.warn(el, "ignoring <node_state> without an id");
        return Ok(None);
    }
    read_node_state(r, el, taken).map(Some)
}

fn read_node_state<'a>(r: &mut Reader<'a>, el: &'a Element, mut lrm_resources: Vec<LrmResource>) -> Result<NodeState, ModelError> {
    let mut transient_attributes = Vec::new();
    for t in el.children_named("transient_attributes") {
        transient_attributes.extend(NvSet::read_all(r, NvSetKind::Instance, t)?);
        transient_attributes.extend(NvSet::read_all(r, NvSetKind::Utilization, t)?);
    }
    for lrm in el.children_named("lrm") {
        for list in lrm.children_named("lrm_resources") {
            for res in list.children_named("lrm_resource") {
                lrm_resources.push(read_lrm_resource(r, res)?);
            }
        }
    }
    lrm_resources.shrink_to_fit();
    Ok(NodeState {
        id: required_id(el)?,
        line: el.line,
        uname: opt_string(el, &["uname"]),
        in_ccm: r.bool_attr(el, &["in_ccm"]),
        crmd: first_attr(el, &["crmd"]).map(PeerState::parse),
        ha: first_attr(el, &["ha"]).map(PeerState::parse),
        join: first_attr(el, &["join"]).map(JoinState::parse),
        expected: first_attr(el, &["expected"]).map(JoinState::parse),
        crm_debug_origin: opt_string(el, &["crm-debug-origin"]),
        shutdown: r.int_attr(el, &["shutdown"]),
        clear_shutdown: r.bool_attr(el, &["clear_shutdown"]),
        remote_node: r.bool_attr(el, &["remote_node"]),
        node_fenced: r.bool_attr(el, &["node_fenced"]),
        node_in_maintenance: r.bool_attr(el, &["node_in_maintenance"]),
        transient_attributes,
        lrm_resources,
    })
}

fn read_lrm_resource<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<LrmResource, ModelError> {
    read_lrm_resource_with(r, el, Vec::new())
}

/// An `<lrm_resource>` whose records read already (as the parse went,
/// in `taken`) precede those its element still holds.
pub(crate) fn read_lrm_resource_with<'a>(r: &mut Reader<'a>, el: &'a Element, taken: Vec<LrmRscOp>) -> Result<LrmResource, ModelError> {
    // Sized exactly: most resources have one to three records, and a
    // vector grown by pushing holds room for four (~2 KB per resource,
    // 600 MB of a 32 x 10,000 status).
    let mut ops = Vec::with_capacity(taken.len() + el.children_named("lrm_rsc_op").count());
    ops.extend(taken);
    for op in el.children_named("lrm_rsc_op") {
        ops.push(read_lrm_rsc_op(r, op)?);
    }
    Ok(LrmResource {
        id: required_id(el)?,
        line: el.line,
        class: required(el, &["class"])?,
        provider: opt_string(el, &["provider"]),
        agent_type: required(el, &["type"])?,
        container: opt_string(el, &["container"]),
        shutdown_lock: r.int_attr(el, &["shutdown-lock"]),
        ops,
    })
}

fn words(el: &(impl Attrs + ?Sized), name: &str) -> Vec<String> {
    el.attr_value(name).map(|v| v.split_whitespace().map(str::to_string).collect()).unwrap_or_default()
}

/// An optional attribute as a [`CompactString`]: the short ones (operation
/// and node names, feature sets) are stored inline, a million times over
/// in a large status section.
fn opt_compact(el: &(impl Attrs + ?Sized), names: &[&str]) -> Option<CompactString> {
    first_attr(el, names).map(CompactString::from)
}

/// An `<lrm_resource>`'s `<lrm_rsc_op>`, built or read straight from
/// the parser.
pub(crate) fn read_lrm_rsc_op(r: &mut Reader<'_>, el: &(impl Attrs + ?Sized)) -> Result<LrmRscOp, ModelError> {
    let missing = |attribute| ModelError::MissingAttribute { element: el.tag().to_string(), attribute, line: el.line() };
    let call_id = r.int_attr(el, &["call-id", "call_id"]).ok_or_else(|| missing("call-id"))?;
    let rc_code = r.int_attr(el, &["rc-code", "rc_code"]).ok_or_else(|| missing("rc-code"))?;
    let op_status = r.int_attr(el, &["op-status", "op_status"]).ok_or_else(|| missing("op-status"))?;
    // The history records intervals as plain milliseconds.
    let interval_ms = r.int_attr(el, &["interval"]).unwrap_or(0);
    Ok(LrmRscOp {
        id: required_id(el)?.into(),
        line: el.line(),
        operation: required(el, &["operation"])?.into(),
        operation_key: opt_compact(el, &["operation_key"]),
        call_id,
        rc_code,
        op_status: ExecStatus::from_code(op_status),
        interval_ms,
        last_run: r.int_attr(el, &["last-run", "last_run"]),
        last_rc_change: r.int_attr(el, &["last-rc-change", "last_rc_change"]),
        exec_time: r.int_attr(el, &["exec-time", "exec_time"]),
        queue_time: r.int_attr(el, &["queue-time", "queue_time"]),
        op_digest: opt_string(el, &["op-digest", "op_digest"]),
        op_force_restart: words(el, if el.attr_value("op-force-restart").is_some() { "op-force-restart" } else { "op_force_restart" }),
        op_restart_digest: opt_string(el, &["op-restart-digest", "op_restart_digest"]),
        op_secure_params: words(el, "op-secure-params"),
        op_secure_digest: opt_string(el, &["op-secure-digest"]),
        transition_key: opt_string(el, &["transition-key", "transition_key"]),
        transition_magic: opt_string(el, &["transition-magic", "transition_magic"]),
        on_node: opt_compact(el, &["on_node"]),
        crm_feature_set: opt_compact(el, &["crm_feature_set"]),
        crm_debug_origin: opt_compact(el, &["crm-debug-origin"]),
        exit_reason: opt_compact(el, &["exit-reason"]),
        migrate_source: opt_compact(el, &["migrate_source", "migrate_from"]),
        migrate_target: opt_compact(el, &["migrate_target"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_element;

    #[test]
    fn node_state_and_history() {
        let el = parse_element(
            r#"<status>
                 <node_state id="u1" uname="n1" in_ccm="true" crmd="online" ha="active" join="member" expected="member" shutdown="0">
                   <transient_attributes id="u1"><instance_attributes id="s-u1">
                     <nvpair id="f" name="fail-count-db#monitor_10000" value="2"/></instance_attributes></transient_attributes>
                   <lrm id="u1"><lrm_resources>
                     <lrm_resource id="db" class="ocf" provider="heartbeat" type="mysql">
                       <lrm_rsc_op id="db_monitor_10000" operation_key="db_monitor_10000" operation="monitor" call-id="12" rc-code="7"
                         op-status="0" interval="10000" last-rc-change="1700000000" exec-time="33" queue-time="0"
                         op-digest="abc" op-force-restart=" state  " transition-key="3:14:0:f2a1" transition-magic="0:7;3:14:0:f2a1"
                         on_node="n1" crm_feature_set="3.0.14"/>
                     </lrm_resource></lrm_resources></lrm>
                 </node_state>
                 <node_state uname="orphan"/>
                 <tickets><ticket_state id="T" granted="true" last-granted="100"/></tickets>
               </status>"#,
        )
        .unwrap();
        let mut r = Reader::new(&el);
        let s = Status::read(&mut r, &el).unwrap();
        assert_eq!(s.node_states.len(), 1);
        assert_eq!(r.warnings.len(), 1, "the id-less node_state is reported");
        let n = s.node("u1").unwrap();
        assert_eq!((n.in_ccm, n.crmd.clone(), n.join.clone(), n.shutdown), (Some(true), Some(PeerState::Online), Some(JoinState::Member), Some(0)));
        assert_eq!(n.transient_attributes[0].pairs[0].value.as_deref(), Some("2"));
        let op = &n.lrm_resources[0].ops[0];
        assert_eq!((op.call_id, op.rc_code, op.op_status, op.interval_ms), (12, 7, ExecStatus::Done, 10_000));
        assert_eq!(op.op_force_restart, ["state"]);
        assert_eq!(op.decoded_transition_key().unwrap().transition_id, 14);
        assert!(s.tickets[0].granted);
    }

    #[test]
    fn heartbeat_history_spellings() {
        let el = parse_element(
            r#"<lrm_rsc_op id="ip_start_0" operation="start" call_id="3" rc_code="0" op_status="0" interval="0"
                 transition_key="0:6:x" transition_magic="0:0;0:6:x" op_digest="d" crm_feature_set="1.0.6"/>"#,
        )
        .unwrap();
        let mut r = Reader::new(&el);
        let op = read_lrm_rsc_op(&mut r, &el).unwrap();
        assert_eq!((op.call_id, op.rc_code, op.op_status), (3, 0, ExecStatus::Done));
        assert_eq!(op.transition_key.as_deref(), Some("0:6:x"));
        assert_eq!(op.op_digest.as_deref(), Some("d"));
    }
}
