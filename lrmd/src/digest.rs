//! The digests lrmd writes on each record (`op-digest`, and where
//! Pacemaker's controller adds them `op-force-restart`/`op-restart-digest`
//! and `op-secure-params`/`op-secure-digest`), through the same function
//! the policy engine reads them with (`cib::op_digest`, docs/OP_DIGEST.md).
//!
//! The parameters hashed are those the agent ran with: the resource's
//! instance attributes, the operation's own (which override them), and for
//! a recurring operation its timeout. The lists need the agent's
//! meta-data; the shell fetches it once per agent (see `server`) and
//! hands it to the core as an [`AgentInfo`].

use cib::op_digest::{self, AgentInfo, OpParams};
use serde::{Deserialize, Serialize};

use crate::op::OpRequest;
use crate::resource::{AgentClass, ResourceSpec};

/// The digest attributes of one `lrm_rsc_op`; absent ones are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RecordDigests {
    #[serde(default)]
    pub op_digest: Option<String>,
    #[serde(default)]
    pub op_force_restart: Option<String>,
    #[serde(default)]
    pub op_restart_digest: Option<String>,
    #[serde(default)]
    pub op_secure_params: Option<String>,
    #[serde(default)]
    pub op_secure_digest: Option<String>,
}

impl RecordDigests {
    /// The attributes in the order Pacemaker writes them.
    pub fn attrs(&self) -> Vec<(&'static str, String)> {
        [
            ("op-digest", &self.op_digest),
            ("op-force-restart", &self.op_force_restart),
            ("op-restart-digest", &self.op_restart_digest),
            ("op-secure-params", &self.op_secure_params),
            ("op-secure-digest", &self.op_secure_digest),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect()
    }
}

/// Which agent a resource uses, for the meta-data cache.
pub type AgentKey = (AgentClass, Option<String>, String);

pub fn agent_key(spec: &ResourceSpec) -> AgentKey {
    (spec.class, spec.provider.clone(), spec.agent_type.clone())
}

/// Classes whose agents declare parameters in meta-data (Pacemaker's
/// `pcmk_ra_cap_params`).
pub fn class_has_params(class: AgentClass) -> bool {
    matches!(class, AgentClass::Ocf | AgentClass::Stonith)
}

/// Whether the record of this operation needs the agent's meta-data.
pub fn needs_agent_info(spec: &ResourceSpec, req: &OpRequest) -> bool {
    class_has_params(spec.class) && op_digest::needs_lists(&req.action)
}

/// The parameters the agent runs with, as the digest sees them.
pub fn op_params(spec: &ResourceSpec, req: &OpRequest) -> OpParams {
    let timeout = if req.timeout_ms == 0 { crate::runner::DEFAULT_TIMEOUT_MS } else { req.timeout_ms };
    OpParams {
        params: spec.params.clone().into_iter().collect(),
        action_params: req.params.clone().into_iter().collect(),
        interval_ms: req.interval_ms,
        timeout_ms: timeout,
    }
}

/// The digests of a completed operation.
pub fn for_record(spec: &ResourceSpec, req: &OpRequest, agent: Option<&AgentInfo>) -> RecordDigests {
    let rec = op_digest::record(&op_params(spec, req), &req.action, class_has_params(spec.class), agent);
    let (force, restart) = rec.restart.map_or((None, None), |(l, d)| (Some(l), Some(d)));
    RecordDigests {
        op_digest: Some(rec.op_digest),
        op_force_restart: force,
        op_restart_digest: restart,
        op_secure_params: rec.secure_params,
        op_secure_digest: rec.secure_digest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = r#"<resource-agent name="X"><parameters>
        <parameter name="state" unique="1"/><parameter name="fake" reloadable="1"/><parameter name="passwd" private="1"/>
      </parameters><actions><action name="reload-agent"/></actions></resource-agent>"#;

    #[test]
    fn records_carry_the_digests_pengine_computes() {
        let mut spec = ResourceSpec::new("d", AgentClass::Ocf, Some("heartbeat"), "Dummy");
        spec.params.insert("state".into(), "/run/d".into());
        spec.params.insert("passwd".into(), "x".into());
        let mut req = OpRequest::new("d", "start", 0, 20_000);
        req.params.insert("OCF_CHECK_LEVEL".into(), "10".into());
        let info = AgentInfo::from_metadata(META).unwrap();
        let d = for_record(&spec, &req, Some(&info));
        let pengine = OpParams::new([("state", "/run/d"), ("passwd", "x"), ("OCF_CHECK_LEVEL", "10")], 0, 20_000);
        assert_eq!(d.op_digest, Some(op_digest::op_digest(&pengine)));
        assert_eq!(d.op_force_restart.as_deref(), Some("  passwd state  "));
        assert_eq!(d.op_restart_digest, Some(op_digest::digest_only(&pengine, &["passwd", "state"])));
        assert_eq!(d.op_secure_params.as_deref(), Some("  passwd  "));
        assert_eq!(
            d.attrs().iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            ["op-digest", "op-force-restart", "op-restart-digest", "op-secure-params", "op-secure-digest"]
        );
        // Stop: op-digest only; lsb: op-digest only.
        assert_eq!(for_record(&spec, &OpRequest::new("d", "stop", 0, 20_000), Some(&info)).attrs().len(), 1);
        let lsb = ResourceSpec::new("l", AgentClass::Lsb, None, "x");
        assert!(!needs_agent_info(&lsb, &req));
        assert!(needs_agent_info(&spec, &req));
    }
}
