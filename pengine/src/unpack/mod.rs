//! Stage 1 of the pipeline: unpacking the CIB into a [`WorkingSet`]
//! (Pacemaker's `cluster_status()`).
//!
//! ```text
//!  Cib ─ options ─> nodes (config) ─> resources (tree, clone instances)
//!        ─> node_state pass: attributes, online/unclean/standby...
//!        ─> history passes: each node's lrm_resource entries, in call
//!           order, give every resource its role, failures and location
//!        ─> remote/guest nodes' status from their connections
//! ```
//!
//! - [`nodes`]: configured nodes, node attributes, online status.
//! - [`resources`]: the resource tree with meta-attributes and flags.
//! - [`history`]: operation history -> roles, failures, orphans.
//! - [`failcount`]: fail counts and failure expiry.
//! - [`on_fail`]: what a failed operation asks for (`on-fail`).
//!
//! Unpacking never fails: odd entries are skipped with a warning in
//! [`WorkingSet::warnings`], as Pacemaker logs and carries on.

pub mod failcount;
pub mod history;
pub mod nodes;
pub mod on_fail;
pub mod resources;

use cib::model::Cib;

use crate::options::{ClusterOptions, NoQuorumPolicy};
use crate::working_set::WorkingSet;

/// Builds the working set of `cib` as of `now` (epoch seconds).
pub fn unpack(cib: &Cib, now: i64) -> WorkingSet {
    let mut options = ClusterOptions::from_sets(&cib.crm_config, now);
    if options.no_quorum_policy == NoQuorumPolicy::Suicide && !(cib.no_quorum_panic.unwrap_or(false) || cib.have_quorum.unwrap_or(false)) {
        // A cluster that never had quorum does not shoot itself.
        options.no_quorum_policy = NoQuorumPolicy::Stop;
    }
    let mut ws = WorkingSet {
        now,
        options,
        have_quorum: cib.have_quorum.unwrap_or(false),
        dc_node: None,
        nodes: Vec::new(),
        resources: Vec::new(),
        top_level: Vec::new(),
        on_top_level: Vec::new(),
        failed_ops: Vec::new(),
        locations: Vec::new(),
        implied_actions: Vec::new(),
        stop_needed: Vec::new(),
        recheck_by: None,
        warnings: Vec::new(),
        legacy_failcounts: failcount::is_legacy(cib.crm_feature_set.as_deref()),
        active_recurring: Default::default(),
        clear_failcounts: Vec::new(),
        early_actions: Vec::new(),
        names: Default::default(),
    };
    nodes::unpack_nodes(&mut ws, cib);
    resources::unpack_resources(&mut ws, cib);
    nodes::link_remote_nodes(&mut ws);
    history::unpack_status(&mut ws, cib);
    ws
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::working_set::NodeId;
    use cib::model::Role;

    fn ws(xml: &str, now: i64) -> WorkingSet {
        let doc = cib::Document::parse(xml).unwrap();
        unpack(&Cib::from_document(&doc).unwrap(), now)
    }

    /// A Heartbeat 2.x CIB: underscore option names, `<attributes>`
    /// wrappers, nodes of type normal, target_role in
    /// instance_attributes, Heartbeat status spellings.
    #[test]
    fn heartbeat_2_cib() {
        let w = ws(
            r#"<cib have_quorum="true" dc_uuid="u1" ccm_transition="2">
              <configuration>
                <crm_config><cluster_property_set id="opts"><attributes>
                  <nvpair id="o1" name="stonith_enabled" value="false"/>
                  <nvpair id="o2" name="symmetric_cluster" value="true"/>
                  <nvpair id="o3" name="no_quorum_policy" value="ignore"/>
                </attributes></cluster_property_set></crm_config>
                <nodes>
                  <node id="u1" uname="n1" type="normal"/>
                  <node id="u2" uname="n2" type="normal"/>
                  <node id="u3" uname="n10" type="normal"/>
                </nodes>
                <resources>
                  <primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr">
                    <instance_attributes id="ia"><attributes>
                      <nvpair id="a1" name="target_role" value="stopped"/>
                    </attributes></instance_attributes>
                  </primitive>
                  <primitive id="web" class="lsb" type="apache"/>
                </resources>
                <constraints/>
              </configuration>
              <status>
                <node_state id="u1" uname="n1" ha="active" in_ccm="true" crmd="online" join="member" expected="member">
                  <lrm id="u1"><lrm_resources>
                    <lrm_resource id="web" class="lsb" type="apache">
                      <lrm_rsc_op id="web_start_0" operation="start" call_id="3" rc_code="0" op_status="0" interval="0"
                        transition_key="0:1:0:4f8a2d6e-1c3b-4a5d-9e7f-0123456789ab" transition_magic="0:0;0:1:0:4f8a2d6e-1c3b-4a5d-9e7f-0123456789ab"/>
                    </lrm_resource>
                  </lrm_resources></lrm>
                </node_state>
                <node_state id="u2" uname="n2" ha="active" in_ccm="true" crmd="online" join="member" expected="member">
                  <transient_attributes id="u2"><instance_attributes id="t2"><attributes>
                    <nvpair id="s2" name="standby" value="on"/>
                  </attributes></instance_attributes></transient_attributes>
                </node_state>
              </status>
            </cib>"#,
            0,
        );
        assert!(!w.options.stonith_enabled);
        assert_eq!(w.options.no_quorum_policy, crate::options::NoQuorumPolicy::Ignore);
        let names: Vec<&str> = w.nodes.iter().map(|n| n.uname.as_str()).collect();
        assert_eq!(names, ["n1", "n2", "n10"], "natural order");
        assert!(w.nodes[0].online && w.nodes[0].is_dc);
        assert!(w.nodes[1].online && w.nodes[1].standby);
        // No status and no fencing: simply offline, not unclean.
        assert!(!w.nodes[2].online && !w.nodes[2].unclean);
        let ip = w.find_resource("ip").unwrap();
        assert!(w.is_disabled(ip), "target_role in instance_attributes counts");
        let web = w.find_resource("web").unwrap();
        assert_eq!(w.rsc(web).role, Role::Started);
        assert_eq!(w.rsc(web).running_on, [NodeId(0)]);
        assert_eq!(w.rsc(ip).role, Role::Stopped);
    }

    #[test]
    fn failure_timeout_expires_against_now() {
        let xml = |extra: &str| {
            format!(
                r#"<cib crm_feature_set="3.0.14" have-quorum="1"><configuration>
                <crm_config><cluster_property_set id="o"><nvpair id="s" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
                <nodes><node id="1" uname="n1"/></nodes>
                <resources><primitive id="d" class="ocf" provider="pacemaker" type="Dummy">
                  <meta_attributes id="m"><nvpair id="ft" name="failure-timeout" value="60s"/></meta_attributes>
                  <operations><op id="d-mon" name="monitor" interval="10s"/></operations></primitive></resources>
                <constraints/></configuration>
                <status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
                  <transient_attributes id="1"><instance_attributes id="t">
                    <nvpair id="f" name="fail-count-d#monitor_10000" value="1"/>
                    <nvpair id="l" name="last-failure-d#monitor_10000" value="1000"/>{extra}
                  </instance_attributes></transient_attributes>
                  <lrm id="1"><lrm_resources><lrm_resource id="d" class="ocf" provider="pacemaker" type="Dummy">
                    <lrm_rsc_op id="d_last_0" operation_key="d_start_0" operation="start" call-id="2" rc-code="0" op-status="0" interval="0" transition-key="1:1:0:4f8a2d6e-1c3b-4a5d-9e7f-0123456789ab" last-rc-change="900"/>
                    <lrm_rsc_op id="d_monitor_10000" operation_key="d_monitor_10000" operation="monitor" call-id="3" rc-code="7" op-status="0" interval="10000" transition-key="2:1:0:4f8a2d6e-1c3b-4a5d-9e7f-0123456789ab" last-rc-change="1000"/>
                  </lrm_resource></lrm_resources></lrm></node_state></status></cib>"#
            )
        };
        let fresh = ws(&xml(""), 1030);
        let d = fresh.find_resource("d").unwrap();
        assert!(fresh.rsc(d).flags.failed, "a recent monitor failure");
        assert_eq!(failcount::fail_count(&fresh, NodeId(0), d, true).count.value(), 1);
        assert_eq!(fresh.recheck_by, Some(1060));
        let old = ws(&xml(""), 5000);
        assert_eq!(failcount::fail_count(&old, NodeId(0), d, true).count.value(), 0, "expired");
        assert_eq!(failcount::fail_count(&old, NodeId(0), d, false).count.value(), 1);
    }
}
