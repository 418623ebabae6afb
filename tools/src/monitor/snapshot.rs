//! One look at the cluster: the CIB as loaded, its typed model, and the
//! working set the policy engine unpacks from it, plus the derived facts
//! every renderer needs (the summary counts, operation history per node,
//! failures, bans, tickets).

use cib::model::status::LrmRscOp;
use cib::model::Cib;
use cib::{Document, Element};
use pengine::unpack::failcount::{fail_count, Failures};
use pengine::working_set::FailedOp;
use pengine::{NodeId, RscId, Variant, WorkingSet};

/// Why a CIB could not be looked at.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("could not read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: line {line}: {message}")]
    Parse { path: String, line: u32, message: String },
    #[error("{path}: {message}")]
    Model { path: String, message: String },
}

/// The cluster as crm_mon sees it at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The `<cib>` element as read (attributes such as `cib-last-written`
    /// are printed verbatim).
    pub root: Element,
    pub cib: Cib,
    pub ws: WorkingSet,
    /// When the snapshot was taken (epoch seconds): "Last updated".
    pub now: i64,
    /// Taken from the live cluster (not a file): the stack is then known
    /// to be ours even before the DC records it.
    pub live: bool,
    /// (resource instances, disabled, blocked) as counted while
    /// unpacking the status, before constraints are unpacked (a frozen
    /// ticket's block does not count).
    counts: (usize, usize, usize),
    /// Degraded results Pacemaker 2.1.5 lists as failed actions.
    degraded: Vec<FailedOp>,
}

/// Operations that returned a degraded result (190, 191) on an online
/// node: Pacemaker 2.1.5 records them as failed (its `remap_operation`
/// does not yet map them to success), once per operation key and node.
fn degraded_failures(cib: &Cib, ws: &WorkingSet) -> Vec<FailedOp> {
    let mut out: Vec<FailedOp> = Vec::new();
    for state in &cib.status.node_states {
        let Some(n) = ws.node_by_id(&state.id) else { continue };
        if !ws.node(n).online {
            continue;
        }
        for lrm in &state.lrm_resources {
            let Some(rsc) = ws.find_resource(&lrm.id) else { continue };
            for op in &lrm.ops {
                if !(op.rc_code == 190 || op.rc_code == 191) || op.op_status.code() != 0 {
                    continue;
                }
                let key = op.operation_key.as_deref().map(str::to_string).unwrap_or_else(|| format!("{}_{}_{}", lrm.id, op.operation, op.interval_ms));
                if ws.failed_ops.iter().chain(out.iter()).any(|f| f.op_key == key && f.node == n) {
                    continue;
                }
                out.push(FailedOp {
                    node: n,
                    rsc,
                    op_id: op.id.to_string(),
                    op_key: key,
                    operation: op.operation.to_string(),
                    interval_ms: op.interval_ms,
                    call_id: op.call_id,
                    rc_code: op.rc_code,
                    op_status: op.op_status.code(),
                    exit_reason: op.exit_reason.as_deref().map(str::to_string),
                    last_rc_change: op.last_rc_change,
                    exec_time: op.exec_time,
                    queue_time: op.queue_time,
                    on_node: op.on_node.as_deref().map(str::to_string),
                });
            }
        }
    }
    out
}

/// A resource's operation history on one node (`lrm_resource`).
#[derive(Debug, Clone)]
pub struct RscHistory<'a> {
    /// The id the history uses (`lrm_resource id`).
    pub lrm_id: &'a str,
    pub rsc: Option<RscId>,
    /// Operations shown, sorted by call id: 0-interval monitors are
    /// probes; notifications and "not running" probes are left out.
    pub ops: Vec<&'a LrmRscOp>,
}

/// Pacemaker's `pcmk_exec_status_str`.
pub fn exec_status_text(status: i32) -> &'static str {
    match status {
        -1 => "pending",
        0 => "complete",
        1 => "Cancelled",
        2 => "Timed Out",
        3 => "NOT SUPPORTED",
        4 => "Error",
        5 => "Hard error",
        6 => "Fatal error",
        7 => "Not installed",
        8 => "Internal communication failure",
        9 => "Cannot execute now",
        10 => "No fence device",
        11 => "Necessary CIB secrets are unavailable",
        _ => "UNKNOWN!",
    }
}

/// The task name status output uses: 0-interval monitors are probes.
pub fn display_task(op: &LrmRscOp) -> &str {
    if op.operation.eq_ignore_ascii_case("monitor") && op.interval_ms == 0 {
        "probe"
    } else {
        &op.operation
    }
}

impl Snapshot {
    /// Reads and unpacks a CIB file at `now`.
    pub fn load(path: &str, now: i64) -> Result<Snapshot, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read { path: path.to_string(), source })?;
        Snapshot::from_text(path, &text, now)
    }

    pub fn from_text(path: &str, text: &str, now: i64) -> Result<Snapshot, LoadError> {
        let doc = Document::parse(text).map_err(|e| LoadError::Parse { path: path.to_string(), line: e.line, message: e.message })?;
        Snapshot::from_root(path, doc.root, now)
    }

    /// From a `<cib>` element already parsed (a live query's answer);
    /// `origin` names it in errors.
    pub fn from_root(origin: &str, root: Element, now: i64) -> Result<Snapshot, LoadError> {
        let doc = Document::new(root);
        let cib = Cib::from_document(&doc).map_err(|e| LoadError::Model { path: origin.to_string(), message: e.to_string() })?;
        let ws = pengine::unpack(&cib, now);
        let degraded = degraded_failures(&cib, &ws);
        let mut snap = Snapshot { root: doc.root, cib, ws, now, live: false, counts: (0, 0, 0), degraded };
        snap.counts = snap.count_resources();
        Ok(snap)
    }

    /// The value of the first `nvpair` named `name` anywhere in the CIB
    /// (how Pacemaker finds `cluster-infrastructure` and `dc-version`).
    pub fn first_nvpair(&self, name: &str) -> Option<&str> {
        self.root.descendants().find(|e| e.name == "nvpair" && e.attr("name") == Some(name)).and_then(|e| e.attr("value"))
    }

    /// The "Stack:" of the summary: the DC's `cluster-infrastructure`
    /// when recorded; else `heartbeat` for a live cluster (the only
    /// messaging layer this stack runs on) and Pacemaker's `unknown` for
    /// a file.
    pub fn stack(&self) -> &str {
        match self.first_nvpair("cluster-infrastructure") {
            Some(s) => s,
            None if self.live => "heartbeat",
            None => "unknown",
        }
    }

    pub fn dc_version(&self) -> Option<&str> {
        self.first_nvpair("dc-version")
    }

    /// `have-quorum` as Pacemaker reads it (`crm_is_true`).
    pub fn with_quorum(&self) -> bool {
        self.root.attr("have-quorum").is_some_and(is_true)
    }

    /// "Last change": `cib-last-written[ by USER][ via CLIENT][ on ORIGIN]`.
    pub fn last_change(&self) -> String {
        let get = |n: &str| self.root.attr(n);
        let (w, u, c, o) = (get("cib-last-written"), get("update-user"), get("update-client"), get("update-origin"));
        let mut s = String::from(w.unwrap_or(""));
        if let Some(u) = u {
            s.push_str(" by ");
            s.push_str(u);
        }
        if let Some(c) = c {
            s.push_str(" via ");
            s.push_str(c);
        }
        if let Some(o) = o {
            s.push_str(" on ");
            s.push_str(o);
        }
        s
    }

    /// (resource instances, disabled, blocked), as Pacemaker counts them
    /// while unpacking (`pe__count_common`): every primitive that is not a
    /// stopped orphan.
    pub fn resource_counts(&self) -> (usize, usize, usize) {
        self.counts
    }

    /// "N nodes configured": every node the unpacker knows, bundle
    /// replicas' guest nodes included.
    pub fn nodes_configured(&self) -> usize {
        self.ws.nodes.len()
    }

    fn count_resources(&self) -> (usize, usize, usize) {
        let ws = &self.ws;
        let (mut n, mut disabled, mut blocked) = (0, 0, 0);
        for &top in &ws.top_level {
            for r in ws.subtree(top) {
                let res = ws.rsc(r);
                if !res.children.is_empty() || matches!(res.variant, Variant::Group | Variant::Clone(_)) {
                    continue;
                }
                if res.flags.orphan && res.role <= cib::model::Role::Stopped {
                    continue;
                }
                // A bundle without replicas (no container runtime) counts
                // for nothing.
                if matches!(res.variant, Variant::Bundle) {
                    continue;
                }
                n += 1;
                if ws.is_disabled(r) {
                    disabled += 1;
                }
                if res.flags.blocked {
                    blocked += 1;
                }
            }
        }
        (n, disabled, blocked)
    }

    /// A node's feature set for display: only for online cluster nodes
    /// (`<3.15.1` when the attribute predates it). Pacemaker 2.1.5 does
    /// not yet require the node to be expected up.
    pub fn node_feature_set(&self, n: NodeId) -> Option<&str> {
        let node = self.ws.node(n);
        if node.online && !matches!(node.kind, pengine::NodeKind::Remote | pengine::NodeKind::Guest) {
            Some(node.attr("#feature-set").unwrap_or("<3.15.1"))
        } else {
            None
        }
    }

    /// Whether fully up nodes run different feature sets.
    pub fn mixed_version(&self) -> bool {
        let mut seen: Option<&str> = None;
        for i in 0..self.ws.nodes.len() {
            if let Some(fs) = self.node_feature_set(NodeId(i)) {
                match seen {
                    None => seen = Some(fs),
                    Some(s) if s != fs => return true,
                    _ => {}
                }
            }
        }
        false
    }

    /// Node attributes shown by `-A`: everything but Pacemaker's own
    /// (`#...`), fail counts, last failures, shutdown, terminate, standby;
    /// sorted by name.
    pub fn display_attrs(&self, n: NodeId) -> Vec<(&str, &str)> {
        const HIDDEN: [&str; 6] = ["fail-count-", "last-failure-", "shutdown", "terminate", "standby", "#"];
        self.ws.node(n).attrs.iter().filter(|(k, _)| !HIDDEN.iter().any(|p| k.starts_with(p))).map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    /// For ping resources running on the node whose attribute this is:
    /// the score full connectivity gives (host count × multiplier).
    pub fn ping_expected(&self, n: NodeId, attr: &str) -> Option<i64> {
        for &r in &self.ws.node(n).running {
            for r in self.ws.subtree(r) {
                let res = self.ws.rsc(r);
                let Some(p) = res.primitive() else { continue };
                if !(p.agent.eq_ignore_ascii_case("ping") || p.agent.eq_ignore_ascii_case("pingd")) {
                    continue;
                }
                let params = self.instance_params(&res.xml_id);
                let name = params.iter().find(|(k, _)| k == "name").map(|(_, v)| v.as_str()).unwrap_or("pingd");
                if !name.eq_ignore_ascii_case(attr) {
                    continue;
                }
                let hosts = params.iter().find(|(k, _)| k == "host_list").map(|(_, v)| v.split(' ').count() as i64).unwrap_or(0);
                let multiplier = params.iter().find(|(k, _)| k == "multiplier").and_then(|(_, v)| v.trim().parse::<i64>().ok()).unwrap_or(1);
                return Some(hosts * multiplier);
            }
        }
        None
    }

    /// A primitive's instance attributes as written (first set wins).
    fn instance_params(&self, xml_id: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let Some(prim) = self.root.child("configuration").and_then(|c| c.find("primitive", xml_id)) else { return out };
        for set in prim.children_named("instance_attributes") {
            for nv in set.descendants().filter(|e| e.name == "nvpair") {
                if let (Some(k), Some(v)) = (nv.attr("name"), nv.attr("value")) {
                    if !out.iter().any(|(n, _)| n == k) {
                        out.push((k.to_string(), v.to_string()));
                    }
                }
            }
        }
        out
    }

    /// Online nodes with a status entry, in status-section order, with
    /// their resource histories (`node-summary`).
    pub fn history(&self) -> Vec<(NodeId, Vec<RscHistory<'_>>)> {
        let mut out = Vec::new();
        for state in &self.cib.status.node_states {
            let Some(n) = self.ws.node_by_id(&state.id) else { continue };
            if !self.ws.node(n).online {
                continue;
            }
            let mut rscs = Vec::new();
            for lrm in &state.lrm_resources {
                let mut ops: Vec<&LrmRscOp> = lrm
                    .ops
                    .iter()
                    .filter(|op| {
                        let task = display_task(op);
                        !(op.operation == "notify" || (task == "probe" && op.rc_code == 7))
                    })
                    .collect();
                // GLib's stable merge sort by call id; pending (-1) last.
                // Equal call ids (a recurring op and its last failure)
                // go by last-rc-change (`sort_op_by_callid`).
                ops.sort_by(|a, b| {
                    (a.call_id < 0, a.call_id).cmp(&(b.call_id < 0, b.call_id)).then_with(|| match (a.last_rc_change, b.last_rc_change) {
                        (Some(x), Some(y)) if a.call_id == b.call_id => x.cmp(&y),
                        _ => std::cmp::Ordering::Equal,
                    })
                });
                rscs.push(RscHistory { lrm_id: &lrm.id, rsc: self.ws.find_resource(&lrm.id), ops });
            }
            out.push((n, rscs));
        }
        out
    }

    /// Fail count and last failure of a resource on a node as status
    /// output shows them (`pe_get_failcount` with default flags): an
    /// expired `failure-timeout` does not hide the count (only the
    /// scheduler's "effective" count drops it), and the last failure is
    /// only reported along with a positive count.
    pub fn failures(&self, n: NodeId, r: RscId) -> Failures {
        let mut f = fail_count(&self.ws, n, r, false);
        if f.count.value() <= 0 {
            f.last_failure = 0;
        }
        f
    }

    /// Failed operations worth showing: probes that found the agent
    /// missing or misconfigured are masked (`pcmk_xe_mask_probe_failure`).
    /// Degraded results (OCF 190/191) are failures for Pacemaker 2.1.5,
    /// which crm_mon follows, though the scheduler (after the newer
    /// Pacemaker the regression suite comes from) takes them as success.
    pub fn failed_actions(&self) -> Vec<&FailedOp> {
        self.ws
            .failed_ops
            .iter()
            .chain(self.degraded.iter())
            .filter(|f| {
                let probe = f.operation == "monitor" && f.interval_ms == 0;
                !(probe && (f.rc_code == 5 || f.rc_code == 2 || f.op_status == 7))
            })
            .collect()
    }

    /// Whether the history entry behind a failure has an
    /// `operation_key` attribute (the XML names the key `op_key` then,
    /// `id` otherwise).
    pub fn failure_has_op_key(&self, f: &FailedOp) -> bool {
        let node = self.ws.node(f.node);
        self.cib
            .status
            .node_states
            .iter()
            .filter(|s| s.id == node.id)
            .flat_map(|s| s.lrm_resources.iter())
            .flat_map(|l| l.ops.iter())
            .find(|op| op.id == f.op_id && op.call_id == f.call_id)
            .map(|op| op.operation_key.is_some())
            .unwrap_or(true)
    }

    /// Negative location constraints (`-L`, and the XML's `<bans>`);
    /// see [`super::bans`].
    pub fn bans(&self) -> Vec<Ban> {
        super::bans::bans(self)
    }
}

/// A ticket as status output shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: String,
    pub granted: bool,
    pub standby: bool,
    pub last_granted: Option<i64>,
}

impl Snapshot {
    /// Tickets: those with a state in the status section, then those
    /// only named by `rsc_ticket` constraints (revoked until granted).
    pub fn tickets(&self) -> Vec<Ticket> {
        let mut out: Vec<Ticket> = self
            .cib
            .status
            .tickets
            .iter()
            .map(|t| Ticket { id: t.id.clone(), granted: t.granted, standby: t.standby, last_granted: t.last_granted })
            .collect();
        for c in &self.cib.constraints.tickets {
            if !out.iter().any(|t| t.id == c.ticket) {
                out.push(Ticket { id: c.ticket.clone(), granted: false, standby: false, last_granted: None });
            }
        }
        out
    }
}

/// A negative location constraint on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    pub id: String,
    pub rsc: String,
    pub node: String,
    pub weight: String,
    pub promoted_only: bool,
}

/// `crm_is_true`.
pub fn is_true(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "true" | "on" | "yes" | "y" | "1")
}
