//! The typed model over real CIBs: every file of Pacemaker's scheduler
//! suite builds, a few are checked value by value, and a Heartbeat 2.x
//! CIB in the style of seed 002 reads as its author meant.

use std::path::PathBuf;

use cib::model::constraints::{Discovery, LossPolicy, OrderKind, RscAction};
use cib::model::names::{canonical_cluster_option, canonical_meta_attribute, is_heartbeat_instance_meta};
use cib::model::resources::{CloneElement, ContainerKind, OnFail};
use cib::model::rules::{BoolOp, Condition, DateOp, ExprOp};
use cib::model::status::{ExecStatus, JoinState, PeerState};
use cib::model::{AgentClass, Cib, FencingTarget, ModelError, NodeType, NvSet, Resource, Role, Score};
use cib::Document;

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcmk-suite/xml")
}

fn suite_cib(name: &str) -> Cib {
    let path = suite_dir().join(format!("{name}.xml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = Document::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    Cib::from_document(&doc).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn model_of(xml: &str) -> Result<Cib, ModelError> {
    Cib::from_document(&Document::parse(xml).expect("test XML parses"))
}

/// The unconditional value of `name` in these sets, first set first.
fn value<'a>(sets: &'a [NvSet], name: &str) -> Option<&'a str> {
    sets.iter().flat_map(|s| s.pairs.iter()).find(|p| p.name == name).and_then(|p| p.value.as_deref())
}

fn primitive<'a>(cib: &'a Cib, id: &str) -> &'a cib::model::Primitive {
    cib.primitive(id).unwrap_or_else(|| panic!("no primitive {id}"))
}

#[test]
fn every_suite_file_builds() {
    let dir = suite_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 537, "the suite has 537 CIBs");
    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    let (mut resources, mut ops, mut history) = (0, 0, 0);
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let doc = Document::parse(&text).unwrap();
        match Cib::from_document(&doc) {
            Ok(cib) => {
                // Nothing configured may be silently dropped.
                let config = doc.root.child("configuration").unwrap();
                let rsc_section = config.child("resources").unwrap();
                let expected = rsc_section.elements().filter(|e| e.name != "template").count();
                assert_eq!(cib.resources.len(), expected, "{}", path.display());
                let nodes = config.child("nodes").unwrap().elements().count();
                assert_eq!(cib.nodes.len(), nodes, "{}", path.display());
                let name = path.file_name().unwrap().to_string_lossy();
                warnings.extend(cib.warnings.iter().map(|w| format!("{name}: {w}")));
                resources += cib.primitives().count();
                ops += cib.primitives().map(|p| p.operations.len()).sum::<usize>();
                history += cib.status.node_states.iter().flat_map(|n| &n.lrm_resources).map(|r| r.ops.len()).sum::<usize>();
            }
            Err(e) => failures.push(format!("{}: {e}", path.file_name().unwrap().to_string_lossy())),
        }
    }
    assert!(failures.is_empty(), "{} files failed:\n{}", failures.len(), failures.join("\n"));
    // The suite's deliberately broken inputs, each reported where it is.
    assert_eq!(
        warnings,
        [
            "colocation-influence.xml: line 433: <rsc_colocation> influence=\"invalid\" is not a boolean; using the default",
            "failcount-block.xml: line 148: ignoring <node_state> without an id",
            "intervals.xml: line 74: <op> timeout=\"bad\" is not a time span; ignoring it",
            "order-wrong-kind.xml: line 34: <rsc_order> kind=\"foo\" is not Optional, Mandatory or Serialize; ignoring it",
            "resource-discovery.xml: line 131: ignoring <lrm> in <status>",
        ]
    );
    // Totals counted independently (ElementTree over the same files):
    // every <primitive> and every <lrm_rsc_op> of an identified node_state.
    assert_eq!(resources, 2620, "primitives");
    assert_eq!(history, 13073, "history entries");
    assert!(ops > 4519, "{ops}: every <op>, plus id-ref and template expansions");
}

#[test]
fn simple_file_values() {
    let cib = suite_cib("priority-fencing-delay");
    assert_eq!(cib.validate_with.as_deref(), Some("pacemaker-1.3"));
    assert_eq!(cib.version.epoch, 51);
    assert_eq!(cib.version.num_updates, 78);
    assert_eq!(cib.dc_uuid.as_deref(), Some("2"));
    assert_eq!(cib.have_quorum, Some(true));
    assert_eq!(value(&cib.crm_config, "no-quorum-policy"), Some("freeze"));
    assert_eq!(cib.nodes.iter().map(|n| n.uname.as_str()).collect::<Vec<_>>(), ["kiff-01", "kiff-02"]);
    assert!(cib.nodes.iter().all(|n| n.kind == NodeType::Member));
    let fence = primitive(&cib, "fence-kiff-01");
    assert_eq!((&fence.class, fence.agent_type.as_str()), (&AgentClass::Stonith, "fence_ipmilan"));
    assert_eq!(value(&fence.instance_attributes, "pcmk_host_list"), Some("kiff-01"));
    assert_eq!(fence.operations[0].interval_ms, 60_000);
    let dlm = primitive(&cib, "dlm");
    let mon = dlm.operations.iter().find(|o| o.name == "monitor").unwrap();
    assert_eq!((mon.interval_ms, mon.on_fail), (30_000, Some(OnFail::Fence)));
    let start = dlm.operations.iter().find(|o| o.name == "start").unwrap();
    assert_eq!((start.interval_ms, start.timeout_ms), (0, Some(90_000)));
    let Some(Resource::Clone(c)) = cib.resource("dlm-clone") else { panic!("dlm-clone") };
    assert_eq!(c.element, CloneElement::Clone);
    assert!(!c.is_promotable());
    assert_eq!(value(&c.meta_attributes, "interleave"), Some("true"));
}

#[test]
fn intervals_file() {
    let cib = suite_cib("intervals");
    let rsc3 = primitive(&cib, "rsc3");
    let monitors: Vec<u64> = rsc3.operations.iter().filter(|o| o.name == "monitor").map(|o| o.interval_ms).collect();
    assert_eq!(monitors, [40_000, 40_000], "40s and P40S are the same interval");
    let rsc4 = primitive(&cib, "rsc4");
    assert_eq!(rsc4.operations[0].interval_ms, 30_000);
    assert_eq!(rsc4.operations[0].on_fail, Some(OnFail::Block));
}

#[test]
fn templates_file() {
    let cib = suite_cib("template-1");
    assert!(!cib.templates.is_empty());
    let templated: Vec<_> = cib.primitives().filter(|p| p.template.is_some()).collect();
    assert!(!templated.is_empty());
    for p in templated {
        let t = cib.templates.iter().find(|t| Some(&t.id) == p.template.as_ref()).unwrap();
        assert_eq!((&p.class, &p.agent_type, &p.provider), (&t.class, &t.agent_type, &t.provider), "{}", p.id);
    }
}

#[test]
fn operations_id_ref_file() {
    let cib = suite_cib("bug-lf-2619");
    let with_ref: Vec<_> = cib.primitives().filter(|p| !p.operations.is_empty()).collect();
    assert!(with_ref.len() > 5);
    // Every primitive that says <operations id-ref="Dummy_default"/> gets
    // the operations of the referenced block.
    let names: Vec<_> = with_ref[1].operations.iter().map(|o| o.name.as_str()).collect();
    assert!(names.contains(&"monitor"), "{names:?}");
}

#[test]
fn tickets_and_dated_rules() {
    let cib = suite_cib("ticket-primitive-14");
    let t = &cib.constraints.tickets[0];
    assert_eq!((t.id.as_str(), t.ticket.as_str(), t.rsc.as_deref()), ("rsc1-dep-ticketA", "ticketA", Some("rsc1")));
    assert_eq!((t.rsc_role, t.loss_policy), (Some(Role::Started), Some(LossPolicy::Stop)));
    let ts = &cib.status.tickets[0];
    assert_eq!((ts.id.as_str(), ts.granted, ts.standby), ("ticketA", true, true));

    // date-1: node attribute sets guarded by date expressions.
    let cib = suite_cib("date-1");
    let loc = &cib.constraints.locations[0];
    assert_eq!((loc.id.as_str(), loc.rules[0].score), ("run_rsc1", Some(Score::from(100))));
    let dated: Vec<_> = cib
        .nodes
        .iter()
        .flat_map(|n| &n.instance_attributes)
        .filter_map(|s| match s.rule.as_ref()?.conditions.first()? {
            Condition::Date(d) => Some((d.operation, d.start.clone(), d.end.clone())),
            _ => None,
        })
        .collect();
    assert!(dated.contains(&(DateOp::InRange, None, Some("2005-001".to_string()))), "{dated:?}");
    assert!(dated.contains(&(DateOp::Gt, Some("2005-001".to_string()), None)), "{dated:?}");

    // date-2: cluster property sets with scores and a date_spec rule.
    let cib = suite_cib("date-2");
    let overrides = cib.crm_config.iter().find(|s| s.id == "overrides").unwrap();
    assert_eq!(overrides.score, Some(Score::from(2)));
    let Condition::Date(d) = &overrides.rule.as_ref().unwrap().conditions[0] else { panic!() };
    assert_eq!(d.operation, DateOp::DateSpec);
    let hours = d.date_spec.as_ref().unwrap().hours.unwrap();
    assert!(hours.contains(12) && !hours.contains(13));
}

#[test]
fn bundles_file() {
    let cib = suite_cib("bundle-order-partial-start");
    let bundles: Vec<_> = cib
        .resources
        .iter()
        .filter_map(|r| match r {
            Resource::Bundle(b) => Some(b),
            _ => None,
        })
        .collect();
    assert!(!bundles.is_empty());
    for b in bundles {
        let rt = b.runtime.as_ref().expect("a container runtime");
        assert_eq!(rt.kind, ContainerKind::Docker);
        assert!(!rt.image.is_empty());
    }
}

#[test]
fn history_values() {
    let cib = suite_cib("failcount-block");
    assert_eq!(cib.warnings.iter().filter(|w| w.message.contains("node_state")).count(), 1, "{:?}", cib.warnings);
    let pcmk1 = cib.status.node_states.iter().find(|n| n.uname.as_deref() == Some("pcmk-1")).unwrap();
    assert_eq!(pcmk1.crmd, Some(PeerState::Online));
    assert_eq!(pcmk1.join, Some(JoinState::Member));
    let ops: Vec<_> = pcmk1.lrm_resources.iter().flat_map(|r| &r.ops).collect();
    assert!(!ops.is_empty());
    assert!(ops.iter().all(|o| o.call_id >= -1 && o.transition_key.is_some()));
    assert!(ops.iter().any(|o| o.op_status == ExecStatus::Done));
}

/// A Heartbeat 2.x cib.xml as seed 002 writes them (its curly quotes and
/// duplicate ids fixed): `<attributes>` wrappers, underscore names,
/// `have_quorum`/`dc_uuid`, nodes of type normal, a heartbeat-class
/// resource, target_role in instance_attributes, from/to constraints and
/// a master_slave set.
const HEARTBEAT_CIB: &str = r##"<cib admin_epoch="0" epoch="5" num_updates="12" have_quorum="true" dc_uuid="1c5e3bd8-aa3d-4b1e-a3ee-5c8d6b12a0f1" ccm_transition="4" cib_feature_revision="1.3" generated="true">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <attributes>
          <nvpair id="default-resource-failure-stickiness" name="default-resource-failure-stickiness" value="-100"/>
          <nvpair id="default-resource-stickiness" name="default-resource-stickiness" value="100"/>
          <nvpair id="opt-stonith" name="stonith_enabled" value="false"/>
          <nvpair id="opt-quorum" name="no_quorum_policy" value="ignore"/>
          <nvpair id="opt-symmetric" name="symmetric_cluster" value="true"/>
          <nvpair id="opt-idle" name="transition_idle_timeout" value="61s"/>
        </attributes>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="1c5e3bd8-aa3d-4b1e-a3ee-5c8d6b12a0f1" uname="mysql1" type="normal"/>
      <node id="77e2c9c1-0c4e-4b0e-b6a5-0a3e0a1b2c3d" uname="mysql2" type="normal">
        <instance_attributes id="mysql2-attrs">
          <attributes>
            <nvpair id="mysql2-ram" name="installed_ram" value="512"/>
          </attributes>
        </instance_attributes>
      </node>
    </nodes>
    <resources>
      <group id="group_mysql">
        <meta_attributes id="group-mysql_meta_attr">
          <attributes>
            <nvpair id="group-mysql_meta_attr-1" name="resource_stickiness" value="100"/>
            <nvpair id="group-mysql_meta_attr-2" name="resource_failure_stickiness" value="-100"/>
          </attributes>
        </meta_attributes>
        <primitive class="ocf" id="IPaddr_192_168_1_205" provider="heartbeat" type="IPaddr">
          <operations>
            <op id="IPaddr_192_168_1_205_mon" interval="5s" name="monitor" timeout="5s"/>
          </operations>
          <instance_attributes id="IPaddr_192_168_1_205_inst_attr">
            <attributes>
              <nvpair id="IPaddr_192_168_1_205_attr_0" name="ip" value="192.168.1.205"/>
            </attributes>
          </instance_attributes>
        </primitive>
        <primitive id="mysql_db" class="ocf" type="mysql" provider="heartbeat">
          <meta_attributes id="mysql_db_meta_attr">
            <attributes>
              <nvpair name="resource_stickiness" id="mysql_db_meta_attr_1" value="100"/>
              <nvpair name="resource_failure_stickiness" id="mysql_db_meta_attr_2" value="-100"/>
            </attributes>
          </meta_attributes>
        </primitive>
      </group>
      <primitive class="heartbeat" id="runhttpd.sh_2" provider="heartbeat" type="runhttpd.sh" resource_stickiness="INFINITY">
        <operations>
          <op id="runhttpd.sh_2_mon" interval="120s" name="monitor" timeout="60s" on_fail="restart" disabled="false"/>
        </operations>
        <instance_attributes id="runhttpd.sh_2">
          <attributes>
            <nvpair name="target_role" id="runhttpd.sh_2-target_role" value="started"/>
          </attributes>
        </instance_attributes>
      </primitive>
      <master_slave id="ms_drbd" notify="true" globally_unique="false">
        <instance_attributes id="ms_drbd_ia">
          <attributes>
            <nvpair id="ms_drbd_ia_1" name="clone_max" value="2"/>
            <nvpair id="ms_drbd_ia_2" name="master_max" value="1"/>
          </attributes>
        </instance_attributes>
        <primitive id="drbd0" class="ocf" provider="heartbeat" type="drbd"/>
      </master_slave>
    </resources>
    <constraints>
      <rsc_location id="rsc_location_group_mysql" rsc="group_mysql">
        <rule id="mysql1_group_mysql" score="200">
          <expression id="mysql1_group_mysql_expr" attribute="#uname" operation="eq" value="mysql1"/>
        </rule>
        <rule id="mysql2_group_mysql" score="150" boolean_op="and">
          <expression id="mysql2_group_mysql_expr" attribute="#uname" operation="eq" value="mysql2"/>
        </rule>
      </rsc_location>
      <rsc_location id="ram_pref" rsc="runhttpd.sh_2">
        <rule id="ram_rule" score_attribute="installed_ram">
          <expression id="ram_expr" attribute="installed_ram" operation="defined"/>
        </rule>
      </rsc_location>
      <rsc_colocation id="web_with_db" from="runhttpd.sh_2" to="group_mysql" score="infinity" to_role="started"/>
      <rsc_order id="web_after_db" from="runhttpd.sh_2" type="after" to="group_mysql"/>
      <rsc_order id="db_before_promote" from="group_mysql" action="start" type="before" to_action="promote" to="ms_drbd"/>
    </constraints>
  </configuration>
  <status>
    <node_state id="1c5e3bd8-aa3d-4b1e-a3ee-5c8d6b12a0f1" uname="mysql1" ha="active" crmd="online" join="member" expected="member" in_ccm="true">
      <transient_attributes id="1c5e3bd8-aa3d-4b1e-a3ee-5c8d6b12a0f1">
        <instance_attributes id="status-1c5e3bd8">
          <attributes>
            <nvpair id="status-fail-count-mysql_db" name="fail-count-mysql_db" value="1"/>
          </attributes>
        </instance_attributes>
      </transient_attributes>
      <lrm id="lrm-1c5e3bd8">
        <lrm_resources>
          <lrm_resource id="mysql_db" type="mysql" class="ocf" provider="heartbeat">
            <lrm_rsc_op id="mysql_db_start_0" operation="start" crm_feature_set="1.0.6" transition_key="12:3:2a4e" transition_magic="0:0;12:3:2a4e" call_id="6" rc_code="0" op_status="0" interval="0" op_digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
            <lrm_rsc_op id="mysql_db_monitor_120000" operation="monitor" crm_feature_set="1.0.6" transition_key="13:3:2a4e" transition_magic="0:7;13:3:2a4e" call_id="7" rc_code="7" op_status="0" interval="120000" op_digest="aa"/>
          </lrm_resource>
        </lrm_resources>
      </lrm>
    </node_state>
  </status>
</cib>
"##;

#[test]
fn heartbeat_dialect() {
    let cib = model_of(HEARTBEAT_CIB).unwrap();
    assert!(cib.warnings.is_empty(), "{:?}", cib.warnings);
    // <cib> attributes, Heartbeat spellings.
    assert_eq!(cib.have_quorum, Some(true));
    assert_eq!(cib.dc_uuid.as_deref(), Some("1c5e3bd8-aa3d-4b1e-a3ee-5c8d6b12a0f1"));
    assert_eq!(cib.ccm_transition, Some(4));
    assert_eq!(cib.cib_feature_revision.as_deref(), Some("1.3"));
    assert_eq!(cib.validate_with, None);

    // crm_config inside <attributes>; names kept as written, canonical on request.
    let set = &cib.crm_config[0];
    assert!(set.heartbeat_wrapper);
    assert_eq!(set.pairs.len(), 6);
    let canon: Vec<_> = set.pairs.iter().map(|p| canonical_cluster_option(&p.name)).collect();
    assert_eq!(
        canon,
        [
            "default-resource-failure-stickiness",
            "default-resource-stickiness",
            "stonith-enabled",
            "no-quorum-policy",
            "symmetric-cluster",
            "cluster-delay"
        ]
    );
    assert_eq!(set.pairs[2].name, "stonith_enabled", "the name as written is kept");

    // Nodes of type normal.
    assert!(cib.nodes.iter().all(|n| n.kind == NodeType::Normal && n.kind.is_member()));
    assert_eq!(value(&cib.node_by_uname("mysql2").unwrap().instance_attributes, "installed_ram"), Some("512"));

    // Resources: group meta in <attributes>, underscore names.
    let Some(Resource::Group(g)) = cib.resource("group_mysql") else { panic!("group") };
    assert_eq!(g.children.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["IPaddr_192_168_1_205", "mysql_db"]);
    let meta = &g.meta_attributes[0];
    assert_eq!(canonical_meta_attribute(&meta.pairs[0].name), "resource-stickiness");
    assert_eq!(Score::parse(meta.pairs[1].value.as_deref().unwrap()), Score::from(-100));
    let ip = &g.children[0];
    assert_eq!(value(&ip.instance_attributes, "ip"), Some("192.168.1.205"));
    assert_eq!((ip.operations[0].interval_ms, ip.operations[0].timeout_ms), (5_000, Some(5_000)));

    // A heartbeat-class resource with meta in an XML attribute and
    // target_role in instance_attributes.
    let web = primitive(&cib, "runhttpd.sh_2");
    assert_eq!(web.class, AgentClass::Heartbeat);
    assert_eq!(web.element_meta, [("resource_stickiness".to_string(), "INFINITY".to_string())]);
    let target_role = web.instance_attributes[0].get("target_role").unwrap();
    assert!(is_heartbeat_instance_meta(&target_role.name));
    assert_eq!(Role::parse(target_role.value.as_deref().unwrap()), Some(Role::Started));
    let mon = &web.operations[0];
    assert_eq!((mon.interval_ms, mon.timeout_ms, mon.on_fail, mon.enabled), (120_000, Some(60_000), Some(OnFail::Restart), Some(true)));

    // master_slave.
    let Some(Resource::Clone(ms)) = cib.resource("ms_drbd") else { panic!("ms_drbd") };
    assert_eq!(ms.element, CloneElement::MasterSlave);
    assert!(ms.is_promotable());
    assert_eq!(canonical_meta_attribute("master_max"), "promoted-max");
    assert_eq!(value(&ms.instance_attributes, "clone_max"), Some("2"));

    // Constraints: rules with Heartbeat spellings, from/to forms.
    let loc = &cib.constraints.locations[0];
    let scores: Vec<_> = loc.rules.iter().map(|r| r.score.unwrap()).collect();
    assert_eq!(scores, [Score::from(200), Score::from(150)]);
    assert_eq!(loc.rules[1].boolean_op, BoolOp::And);
    let Condition::Expression(e) = &loc.rules[0].conditions[0] else { panic!() };
    assert_eq!((e.attribute.as_str(), e.operation, e.value.as_deref()), ("#uname", ExprOp::Eq, Some("mysql1")));
    let ram = &cib.constraints.locations[1].rules[0];
    assert_eq!((ram.score, ram.score_attribute.as_deref()), (None, Some("installed_ram")));
    let col = &cib.constraints.colocations[0];
    assert!(col.heartbeat_form);
    assert_eq!((col.rsc.as_deref(), col.with_rsc.as_deref(), col.score), (Some("runhttpd.sh_2"), Some("group_mysql"), Some(Score::INFINITY)));
    assert_eq!(col.with_rsc_role, Some(Role::Started));
    let o = &cib.constraints.orders[0];
    assert_eq!((o.first.as_deref(), o.then.as_deref()), (Some("group_mysql"), Some("runhttpd.sh_2")));
    assert_eq!((o.first_action(), o.then_action(), o.effective_kind()), (RscAction::Start, RscAction::Start, OrderKind::Mandatory));
    let o = &cib.constraints.orders[1];
    assert_eq!((o.first.as_deref(), o.first_action(), o.then.as_deref(), o.then_action()), (Some("group_mysql"), RscAction::Start, Some("ms_drbd"), RscAction::Promote));

    // Status with underscore spellings.
    let ns = &cib.status.node_states[0];
    assert_eq!((ns.ha.clone(), ns.in_ccm), (Some(PeerState::Online), Some(true)));
    assert_eq!(value(&ns.transient_attributes, "fail-count-mysql_db"), Some("1"));
    let ops = &ns.lrm_resources[0].ops;
    assert_eq!(ops.iter().map(|o| (o.call_id, o.rc_code, o.interval_ms)).collect::<Vec<_>>(), [(6, 0, 0), (7, 7, 120_000)]);
    assert_eq!(ops[1].transition_magic.as_deref(), Some("0:7;13:3:2a4e"));

    // Seed 002's arithmetic on these values: mysql1 after two failures.
    let node = loc.rules[0].score.unwrap();
    let stickiness = Score::parse(meta.pairs[0].value.as_deref().unwrap());
    let failure = Score::parse(meta.pairs[1].value.as_deref().unwrap());
    assert_eq!(node + stickiness + failure.times(2), Score::from(100));
}

#[test]
fn structural_errors_name_the_line() {
    let e = model_of("<configuration/>").unwrap_err();
    assert!(matches!(e, ModelError::NotACib { .. }));
    let e = model_of("<cib>\n<configuration><resources>\n<primitive class=\"ocf\" type=\"Dummy\"/></resources></configuration></cib>")
        .unwrap_err();
    assert_eq!(e, ModelError::MissingAttribute { element: "primitive".into(), attribute: "id", line: 3 });
    let e = model_of(r#"<cib><configuration><constraints><rsc_location id="l" rsc="a"><rule id-ref="gone"/></rsc_location></constraints></configuration></cib>"#)
        .unwrap_err();
    assert!(matches!(e, ModelError::DanglingIdRef { ref id_ref, .. } if id_ref == "gone"));
    assert!(e.to_string().contains("gone"));
}

#[test]
fn rule_id_refs_and_other_sections() {
    let cib = model_of(
        r##"<cib epoch="1" num_updates="0" admin_epoch="0" validate-with="pacemaker-3.7">
  <configuration>
    <crm_config/>
    <nodes><node id="1" uname="a"><utilization id="u"><nvpair id="u1" name="cpu" value="4"/></utilization></node></nodes>
    <resources><primitive id="r" class="ocf" provider="pacemaker" type="Dummy"/></resources>
    <constraints>
      <rsc_location id="l1" rsc="r"><rule id="shared" score="10"><expression id="e" attribute="#uname" operation="eq" value="a"/></rule></rsc_location>
      <rsc_location id="l2" rsc="r" resource-discovery="exclusive"><rule id-ref="shared"/></rsc_location>
    </constraints>
    <rsc_defaults><meta_attributes id="rd"><nvpair id="rd1" name="resource-stickiness" value="1"/></meta_attributes></rsc_defaults>
    <op_defaults><meta_attributes id="od"><rule id="odr" score="0"><op_expression id="oe" name="monitor" interval="10"/></rule><nvpair id="od1" name="timeout" value="30s"/></meta_attributes></op_defaults>
    <tags><tag id="t"><obj_ref id="r"/></tag></tags>
    <alerts><alert id="al" path="/bin/true"><recipient id="rc" value="/tmp/x"/></alert></alerts>
    <acls><acl_role id="ro"><acl_permission id="p" kind="read" xpath="/cib"/></acl_role><acl_target id="alice"><role id="ro"/></acl_target></acls>
    <fencing-topology>
      <fencing-level id="f1" index="1" target="a" devices="d1,d2"/>
      <fencing-level id="f2" index="2" target-attribute="rack" target-value="1" devices="d3"/>
    </fencing-topology>
  </configuration>
  <status/>
</cib>"##,
    )
    .unwrap();
    let l2 = &cib.constraints.locations[1];
    assert_eq!((l2.rules[0].id.as_str(), l2.rules[0].id_ref.as_deref(), l2.rules[0].score), ("shared", Some("shared"), Some(Score::from(10))));
    assert_eq!(l2.resource_discovery, Some(Discovery::Exclusive));
    assert_eq!(value(&cib.nodes[0].utilization, "cpu"), Some("4"));
    assert_eq!(value(&cib.rsc_defaults, "resource-stickiness"), Some("1"));
    let Condition::Op(oe) = &cib.op_defaults[0].rule.as_ref().unwrap().conditions[0] else { panic!() };
    assert_eq!((oe.name.as_str(), oe.interval_ms), ("monitor", Some(10_000)));
    assert_eq!(cib.tags[0].refs, ["r"]);
    assert_eq!(cib.alerts[0].recipients[0].value, "/tmp/x");
    assert_eq!((cib.acls.roles[0].permissions.len(), cib.acls.targets[0].roles.clone()), (1, vec!["ro".to_string()]));
    assert_eq!(cib.fencing_topology[0].devices, ["d1", "d2"]);
    assert_eq!(cib.fencing_topology[1].target, FencingTarget::Attribute { name: "rack".into(), value: "1".into() });
}


/// The first definition of `name` in Pacemaker's precedence order,
/// ignoring rules (none in the test input).
fn winning_value<'a>(sets: &'a [NvSet], name: &str) -> Option<&'a str> {
    cib::model::by_precedence(sets, None).into_iter().find_map(|s| s.get(name)).and_then(|p| p.value.as_deref())
}

/// Which of several instance_attributes sets wins, against Pacemaker's own
/// crm_resource (2.1.5 in /usr/sbin; CI installs pacemaker-cli-utils).
#[test]
fn set_precedence_agrees_with_crm_resource() {
    let cases: [(&str, &str); 4] = [
        // Equal scores: the set written last wins.
        (r#"<instance_attributes id="a"><nvpair id="a1" name="fake" value="AAA"/></instance_attributes>
            <instance_attributes id="b"><nvpair id="b1" name="fake" value="BBB"/></instance_attributes>"#, "BBB"),
        // A higher score wins wherever it is written.
        (r#"<instance_attributes id="a" score="5"><nvpair id="a1" name="fake" value="AAA"/></instance_attributes>
            <instance_attributes id="b"><nvpair id="b1" name="fake" value="BBB"/></instance_attributes>"#, "AAA"),
        (r#"<instance_attributes id="a"><nvpair id="a1" name="fake" value="AAA"/></instance_attributes>
            <instance_attributes id="b" score="-1"><nvpair id="b1" name="fake" value="BBB"/></instance_attributes>
            <instance_attributes id="c" score="-1"><nvpair id="c1" name="other" value="CCC"/></instance_attributes>"#, "AAA"),
        // Within a set, the first pair of a name wins.
        (r#"<instance_attributes id="a"><nvpair id="a1" name="fake" value="AAA"/><nvpair id="a2" name="fake" value="A2"/></instance_attributes>"#, "AAA"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (sets, expected)) in cases.iter().enumerate() {
        let xml = format!(
            r#"<cib admin_epoch="0" epoch="1" num_updates="0" validate-with="pacemaker-3.7">
  <configuration><crm_config/><nodes><node id="1" uname="n1"/></nodes>
    <resources><primitive id="p" class="ocf" provider="pacemaker" type="Dummy">{sets}</primitive></resources>
    <constraints/></configuration><status/></cib>"#
        );
        let path = dir.path().join(format!("case{i}.xml"));
        std::fs::write(&path, &xml).unwrap();
        let out = std::process::Command::new("/usr/sbin/crm_resource")
            .args(["-r", "p", "-g", "fake"])
            .env("CIB_file", &path)
            .output()
            .expect("crm_resource (pacemaker-cli-utils) must be installed");
        let pacemaker = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(pacemaker, *expected, "case {i}: crm_resource itself");
        let cib = model_of(&xml).unwrap();
        assert_eq!(winning_value(&primitive(&cib, "p").instance_attributes, "fake"), Some(*expected), "case {i}");
    }
}

/// `Cib::from_text` and `Cib::from_reader` (the status read as it is
/// parsed) give the same model as parsing the whole document first, line
/// numbers included, on every suite file; warnings may come in another
/// order.
#[test]
fn from_text_equals_from_document_on_the_suite() {
    let dir = suite_dir();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "xml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let whole = Cib::from_document(&Document::parse(&text).unwrap()).unwrap();
        let from_text = Cib::from_text(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Streamed through a small buffer: lines are counted, not looked up.
        let reader = std::io::BufReader::with_capacity(64, text.as_bytes());
        let streamed = Cib::from_reader(reader).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for mut lean in [from_text, streamed] {
            let mut want = whole.warnings.clone();
            want.sort_by_key(|w| format!("{w:?}"));
            lean.warnings.sort_by_key(|w| format!("{w:?}"));
            assert_eq!(lean.warnings, want, "{}", path.display());
            lean.warnings = whole.warnings.clone();
            assert!(lean == whole, "{}: the models differ", path.display());
        }
        n += 1;
    }
    assert_eq!(n, 537);
    // Errors name the line either way.
    let e = Cib::from_text("<cib>\n<status>\n<node_state id=\"1\">\n<lrm>\n<lrm_resources>\n<lrm_resource/>\n</lrm_resources></lrm></node_state></status></cib>").unwrap_err();
    assert!(e.to_string().starts_with("line 6:"), "{e}");
    let e = Cib::from_text("<cib>\n<status>\n</cib>").unwrap_err();
    assert!(e.to_string().starts_with("line 3:"), "{e}");
    let e = Cib::from_reader("<cib>\n<status>\n</cib>".as_bytes()).unwrap_err();
    assert!(e.to_string().starts_with("line 3:"), "{e}");
    let bom = Cib::from_reader("\u{feff}<cib><status/></cib>".as_bytes()).unwrap();
    assert!(bom.status.node_states.is_empty());
    let e = Cib::from_reader("<cib>\n<status a=\"\u{1}\"/></cib>".as_bytes()).unwrap_err();
    assert!(e.to_string().contains("U+0001"), "{e}");
}
