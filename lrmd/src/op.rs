//! Operations: what is asked of an agent (`OpRequest`), what the agent
//! answered (`OpResult`), and the record lrmd reports and keeps
//! (`OpRecord`, the CIB status section's `lrm_rsc_op`).
//!
//! Three result domains stay apart, as in Pacemaker: the agent's exit code
//! (`rc`, an OCF code after class mapping), the execution status
//! (`OpStatus`: did the agent run to completion at all), and errors of
//! lrmd itself (`LrmdError`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// OCF exit codes (the `rc-code` of `lrm_rsc_op`).
pub mod rc {
    pub const OK: i32 = 0;
    pub const UNKNOWN_ERROR: i32 = 1;
    pub const INVALID_PARAM: i32 = 2;
    pub const UNIMPLEMENTED: i32 = 3;
    pub const INSUFFICIENT_PRIV: i32 = 4;
    pub const NOT_INSTALLED: i32 = 5;
    pub const NOT_CONFIGURED: i32 = 6;
    pub const NOT_RUNNING: i32 = 7;
    pub const RUNNING_PROMOTED: i32 = 8;
    pub const FAILED_PROMOTED: i32 = 9;
    pub const DEGRADED: i32 = 190;
    pub const DEGRADED_PROMOTED: i32 = 191;

    /// The meaning, in the words Pacemaker's logs use.
    pub fn describe(rc: i32) -> &'static str {
        match rc {
            OK => "ok",
            UNKNOWN_ERROR => "error",
            INVALID_PARAM => "invalid parameter",
            UNIMPLEMENTED => "unimplemented feature",
            INSUFFICIENT_PRIV => "insufficient privileges",
            NOT_INSTALLED => "not installed",
            NOT_CONFIGURED => "not configured",
            NOT_RUNNING => "not running",
            RUNNING_PROMOTED => "promoted",
            FAILED_PROMOTED => "promoted (failed)",
            DEGRADED => "OCF_DEGRADED",
            DEGRADED_PROMOTED => "promoted (degraded)",
            _ => "unknown",
        }
    }
}

/// Pacemaker's execution status (`op-status`): whether the agent ran to
/// completion, independent of what it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpStatus {
    Pending,
    Done,
    Cancelled,
    Timeout,
    NotSupported,
    Error,
    NotInstalled,
}

impl OpStatus {
    /// The number stored in the CIB's `op-status` (enum pcmk_exec_status).
    pub fn code(self) -> i32 {
        match self {
            OpStatus::Pending => -1,
            OpStatus::Done => 0,
            OpStatus::Cancelled => 1,
            OpStatus::Timeout => 2,
            OpStatus::NotSupported => 3,
            OpStatus::Error => 4,
            OpStatus::NotInstalled => 7,
        }
    }
}

impl fmt::Display for OpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OpStatus::Pending => "pending",
            OpStatus::Done => "complete",
            OpStatus::Cancelled => "Cancelled",
            OpStatus::Timeout => "Timed Out",
            OpStatus::NotSupported => "NOT SUPPORTED",
            OpStatus::Error => "Error",
            OpStatus::NotInstalled => "Not installed",
        })
    }
}

/// `rsc_monitor_10000`: the key the CIB and the transition graph use.
pub fn operation_key(rsc: &str, action: &str, interval_ms: u64) -> String {
    format!("{rsc}_{action}_{interval_ms}")
}

/// One operation asked of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpRequest {
    pub rsc: String,
    /// `start`, `stop`, `monitor`, `promote`, `meta-data`... (for stonith
    /// also the fence actions `on`, `off`, `reboot`, `list`, `status`).
    pub action: String,
    /// 0 for a one-shot operation (a monitor with interval 0 is a probe);
    /// otherwise the operation repeats every `interval_ms`.
    #[serde(default)]
    pub interval_ms: u64,
    pub timeout_ms: u64,
    /// The operation's own instance attributes (e.g. `OCF_CHECK_LEVEL`);
    /// they override the resource's.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Extra meta attributes, passed as `OCF_RESKEY_CRM_meta_<name>`.
    #[serde(default)]
    pub meta: BTreeMap<String, String>,
    /// crmd's transition key, echoed in the result.
    #[serde(default)]
    pub transition_key: Option<String>,
}

impl OpRequest {
    pub fn new(rsc: &str, action: &str, interval_ms: u64, timeout_ms: u64) -> OpRequest {
        OpRequest {
            rsc: rsc.to_string(),
            action: action.to_string(),
            interval_ms,
            timeout_ms,
            params: BTreeMap::new(),
            meta: BTreeMap::new(),
            transition_key: None,
        }
    }

    pub fn key(&self) -> String {
        operation_key(&self.rsc, &self.action, self.interval_ms)
    }
}

/// What one run of an agent gave, after class mapping. Produced by the
/// runner; a timeout or a missing agent is a value here, not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    /// OCF exit code (LSB and Heartbeat codes already mapped).
    pub rc: i32,
    pub status: OpStatus,
    /// From the agent's last `ocf-exit-reason:` line, or lrmd's own words
    /// when the agent could not run.
    pub exit_reason: Option<String>,
    /// Captured standard output (capped); meta-data answers come here.
    pub stdout: String,
    pub stderr: String,
}

impl OpResult {
    pub fn failed(rc: i32, status: OpStatus, reason: impl Into<String>) -> OpResult {
        OpResult { rc, status, exit_reason: Some(reason.into()), stdout: String::new(), stderr: String::new() }
    }
}

/// A completed (or cancelled) operation as reported to clients and kept in
/// the history: the fields of the CIB's `lrm_rsc_op`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpRecord {
    pub rsc: String,
    /// `operation`
    pub action: String,
    /// `operation_key`
    pub key: String,
    /// `call-id`: lrmd's counter, one per request (recurring runs share it).
    pub call_id: u32,
    /// `rc-code`
    pub rc: i32,
    /// `op-status` (see `OpStatus::code`)
    pub status: OpStatus,
    /// `interval`, ms
    pub interval_ms: u64,
    /// `last-run`: Unix time this run started
    pub last_run: u64,
    /// `last-rc-change`: Unix time the rc last changed for this key
    pub last_rc_change: u64,
    /// `exec-time`, ms
    pub exec_ms: u64,
    /// `queue-time`, ms spent waiting behind other operations
    pub queue_ms: u64,
    pub exit_reason: Option<String>,
    pub transition_key: Option<String>,
    /// Agent output (meta-data, lrmadmin display); not stored in the CIB.
    pub output: String,
    /// `op-digest` and, where the controller adds them, the restart and
    /// secure lists and digests (none on a cancelled record).
    #[serde(default)]
    pub digests: crate::digest::RecordDigests,
}

impl OpRecord {
    /// The `lrm_rsc_op` attributes in Pacemaker's order (without `id` and
    /// `crm-debug-origin`, which crmd adds), digests last.
    pub fn cib_attrs(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            ("operation_key", self.key.clone()),
            ("operation", self.action.clone()),
        ];
        if let Some(t) = &self.transition_key {
            v.push(("transition-key", t.clone()));
            // transition-magic: "op-status:rc;transition-key".
            v.push(("transition-magic", format!("{}:{};{}", self.status.code(), self.rc, t)));
        }
        v.push(("exit-reason", self.exit_reason.clone().unwrap_or_default()));
        v.push(("call-id", self.call_id.to_string()));
        v.push(("rc-code", self.rc.to_string()));
        v.push(("op-status", self.status.code().to_string()));
        v.push(("interval", self.interval_ms.to_string()));
        v.push(("last-rc-change", self.last_rc_change.to_string()));
        v.push(("last-run", self.last_run.to_string()));
        v.push(("exec-time", self.exec_ms.to_string()));
        v.push(("queue-time", self.queue_ms.to_string()));
        v.extend(self.digests.attrs());
        v
    }

    /// One `lrm_rsc_op` element, as the status section stores it.
    pub fn to_element(&self, id: &str) -> cib::xml::Element {
        let mut el = cib::xml::Element::new("lrm_rsc_op");
        el.set_attr("id", id);
        for (k, v) in self.cib_attrs() {
            el.set_attr(k, &v);
        }
        el
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_keys_read_like_pacemakers() {
        assert_eq!(operation_key("rsc1", "monitor", 10000), "rsc1_monitor_10000");
        assert_eq!(OpRequest::new("d", "stop", 0, 20000).key(), "d_stop_0");
    }

    #[test]
    fn record_becomes_lrm_rsc_op() {
        let r = OpRecord {
            rsc: "d".into(),
            action: "start".into(),
            key: "d_start_0".into(),
            call_id: 3,
            rc: 0,
            status: OpStatus::Done,
            interval_ms: 0,
            last_run: 100,
            last_rc_change: 100,
            exec_ms: 12,
            queue_ms: 0,
            exit_reason: None,
            transition_key: Some("2:0:0:abc".into()),
            output: String::new(),
            digests: Default::default(),
        };
        assert_eq!(
            r.to_element("d_last_0").to_xml_compact(),
            "<lrm_rsc_op id=\"d_last_0\" operation_key=\"d_start_0\" operation=\"start\" \
             transition-key=\"2:0:0:abc\" transition-magic=\"0:0;2:0:0:abc\" exit-reason=\"\" \
             call-id=\"3\" rc-code=\"0\" op-status=\"0\" interval=\"0\" last-rc-change=\"100\" \
             last-run=\"100\" exec-time=\"12\" queue-time=\"0\"/>"
        );
    }
}
