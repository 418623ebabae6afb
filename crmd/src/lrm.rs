//! The node side of resource operations, without I/O: a transition
//! graph's `rsc_op` into what lrmd is asked (register + exec), and lrmd's
//! records into the `lrm_rsc_op` elements the status section keeps.
//!
//! ```text
//!  <rsc_op operation="start" on_node="n1"><primitive id class provider type/>
//!         <attributes CRM_meta_timeout="20000" fake="x"/></rsc_op>
//!    --> ResourceSpec { id, class, provider, type, params: {fake: x} }
//!        OpRequest { action: start, timeout_ms: 20000, meta: {...}, transition_key }
//!  OpRecord --> <lrm_rsc_op id="d_last_0" ... crm-debug-origin="do_update_resource"/>
//! ```

use std::collections::BTreeMap;

use cib::Element;
use lrmd::op::{OpRecord, OpRequest};
use lrmd::resource::{AgentClass, ResourceSpec};
use tengine::Action;


/// What an agent of a resource is, for `<lrm_resource>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RscAgent {
    pub id: String,
    pub class: String,
    pub provider: Option<String>,
    pub agent: String,
}

/// Why an action cannot be run on lrmd.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LrmError {
    #[error("action {0} names no resource")]
    NoResource(i32),
    #[error("resource {rsc}: {why}")]
    BadResource { rsc: String, why: String },
}

/// What the node asks lrmd for one graph action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LrmCall {
    pub agent: RscAgent,
    pub spec: ResourceSpec,
    pub op: OpRequest,
    /// `CRM_meta_op_target_rc`, else 0.
    pub target_rc: i32,
}

/// The `CRM_meta_` names lrmd sets itself (from the request's interval
/// and timeout), which must not be passed twice.
const LRMD_OWN_META: [&str; 2] = ["interval", "timeout"];

/// Translates an `rsc_op` (start/stop/monitor/promote/demote/...) whose
/// transition key is `key`.
pub fn call_for(action: &Action, key: &str) -> Result<LrmCall, LrmError> {
    let r = action.resource.as_ref().ok_or(LrmError::NoResource(action.id()))?;
    let bad = |why: String| LrmError::BadResource { rsc: r.id.clone(), why };
    let class_name = r.class.clone().ok_or_else(|| bad("no class".into()))?;
    let class: AgentClass = class_name.parse().map_err(|e: lrmd::LrmdError| bad(e.to_string()))?;
    let agent_type = r.agent.clone().ok_or_else(|| bad("no type".into()))?;
    let mut params = BTreeMap::new();
    let mut meta = BTreeMap::new();
    for (k, v) in &action.attributes.pairs {
        if let Some(m) = k.strip_prefix("CRM_meta_") {
            if !LRMD_OWN_META.contains(&m) {
                meta.insert(m.to_string(), v.clone());
            }
        } else if k != "crm_feature_set" {
            params.insert(k.clone(), v.clone());
        }
    }
    let timeout_ms = action.timeout_ms().max(0) as u64;
    let mut op = OpRequest::new(&r.id, &action.header.operation, action.interval_ms() as u64, timeout_ms);
    op.meta = meta;
    op.transition_key = Some(key.to_string());
    let mut spec = ResourceSpec::new(&r.id, class, r.provider.as_deref(), &agent_type);
    spec.params = params;
    let target_rc = action.meta("op_target_rc").and_then(|v| v.parse().ok()).unwrap_or(0);
    Ok(LrmCall {
        agent: RscAgent { id: r.id.clone(), class: class_name, provider: r.provider.clone(), agent: agent_type },
        spec,
        op,
        target_rc,
    })
}

/// The id a record is kept under: recurring operations by their key,
/// the latest one-shot operation as `RSC_last_0` (Pacemaker's names).
pub fn record_id(r: &OpRecord) -> String {
    if r.interval_ms > 0 {
        r.key.clone()
    } else {
        format!("{}_last_0", r.rsc)
    }
}

/// The `lrm_rsc_op` elements for a record: its own, plus
/// `RSC_last_failure_0` when it failed.
pub fn record_elements(r: &OpRecord, failed: bool) -> Vec<Element> {
    let mut main = r.to_element(&record_id(r));
    main.set_attr("crm-debug-origin", "do_update_resource");
    main.set_attr("crm_feature_set", "3.16.1");
    let mut out = vec![main.clone()];
    if failed {
        let mut f = main;
        f.set_attr("id", format!("{}_last_failure_0", r.rsc));
        out.push(f);
    }
    out
}

/// The agent description of a registered resource.
pub fn agent_of(spec: &ResourceSpec) -> RscAgent {
    RscAgent { id: spec.id.clone(), class: spec.class.to_string(), provider: spec.provider.clone(), agent: spec.agent_type.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tengine::TransitionGraph;

    const GRAPH: &str = r#"<transition_graph cluster-delay="60s" stonith-timeout="60s" failed-stop-offset="INFINITY" failed-start-offset="INFINITY" transition_id="3">
  <synapse id="0">
    <action_set>
      <rsc_op id="7" operation="monitor" operation_key="d_monitor_10000" on_node="n1" on_node_uuid="n1">
        <primitive id="d" class="ocf" provider="heartbeat-rs" type="Dummy"/>
        <attributes CRM_meta_interval="10000" CRM_meta_name="monitor" CRM_meta_on_node="n1" CRM_meta_on_node_uuid="n1" CRM_meta_timeout="20000" fake="x"/>
      </rsc_op>
    </action_set>
    <inputs/>
  </synapse>
</transition_graph>
"#;

    #[test]
    fn an_rsc_op_becomes_a_register_and_an_exec() {
        let g = TransitionGraph::from_xml(GRAPH).unwrap();
        let a = g.action(7).unwrap();
        let c = call_for(a, "7:3:0:u").unwrap();
        assert_eq!(c.spec.id, "d");
        assert_eq!(c.spec.class, AgentClass::Ocf);
        assert_eq!(c.spec.provider.as_deref(), Some("heartbeat-rs"));
        assert_eq!(c.spec.params, BTreeMap::from([("fake".to_string(), "x".to_string())]));
        assert_eq!((c.op.action.as_str(), c.op.interval_ms, c.op.timeout_ms), ("monitor", 10_000, 20_000));
        assert_eq!(c.op.meta.get("name").map(String::as_str), Some("monitor"));
        assert!(!c.op.meta.contains_key("interval") && !c.op.meta.contains_key("timeout"));
        assert_eq!(c.op.transition_key.as_deref(), Some("7:3:0:u"));
        assert_eq!(c.target_rc, 0);
    }

    #[test]
    fn records_are_kept_under_pacemakers_ids() {
        let mut r = OpRecord {
            rsc: "d".into(),
            action: "start".into(),
            key: "d_start_0".into(),
            call_id: 3,
            rc: 1,
            status: lrmd::op::OpStatus::Done,
            interval_ms: 0,
            last_run: 1,
            last_rc_change: 1,
            exec_ms: 1,
            queue_ms: 0,
            exit_reason: None,
            transition_key: Some("1:1:0:u".into()),
            output: String::new(),
            digests: Default::default(),
        };
        let els = record_elements(&r, true);
        let ids: Vec<_> = els.iter().map(|e| e.attr("id").unwrap()).collect();
        assert_eq!(ids, ["d_last_0", "d_last_failure_0"]);
        r.interval_ms = 10_000;
        r.key = "d_monitor_10000".into();
        assert_eq!(record_id(&r), "d_monitor_10000");
    }
}
