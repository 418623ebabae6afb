//! One failing and one passing case per validation rule, on small CIBs.

use cib::Document;
use schemas::{validate, Report, Schema};

/// A pacemaker-`schema` CIB whose resources and constraints sections are given.
fn cib(schema: &str, resources: &str, constraints: &str) -> Document {
    let text = format!(
        r#"<cib validate-with="{schema}" admin_epoch="0" epoch="1" num_updates="0">
  <configuration>
    <crm_config/>
    <nodes>
      <node id="1" uname="node1"/>
    </nodes>
    <resources>
      {resources}
    </resources>
    <constraints>
      {constraints}
    </constraints>
  </configuration>
  <status/>
</cib>"#
    );
    Document::parse(&text).unwrap()
}

const R1: &str = r#"<primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/>"#;
const R2: &str = r#"<primitive id="r2" class="lsb" type="foo"/>"#;

fn both(resources: &str) -> String {
    format!("{R1}\n{resources}\n{R2}")
}

fn errors(r: &Report) -> Vec<String> {
    r.errors().map(|p| p.to_string()).collect()
}

/// Asserts validity and returns the report.
#[track_caller]
fn valid(doc: &Document) -> Report {
    let r = validate(doc);
    assert!(r.is_valid(), "expected valid, got {:#?}", errors(&r));
    r
}

/// Asserts an error mentioning all of `needles`.
#[track_caller]
fn invalid(doc: &Document, needles: &[&str]) {
    let r = validate(doc);
    let errs = errors(&r);
    assert!(
        errs.iter().any(|e| needles.iter().all(|n| e.contains(n))),
        "expected an error containing {needles:?}, got {errs:#?}"
    );
}

#[test]
fn schema_of_reads_validate_with() {
    let parse = |s: &str| schemas::schema_of(&Document::parse(s).unwrap());
    assert_eq!(parse("<cib/>"), Schema::Heartbeat2);
    assert_eq!(parse(r#"<cib validate-with="none"/>"#), Schema::None);
    assert_eq!(parse(r#"<cib validate-with="pacemaker-3.7"/>"#), Schema::Pacemaker { major: 3, minor: 7 });
    assert_eq!(parse(r#"<cib validate-with="pacemaker-2.10"/>"#), Schema::Pacemaker { major: 2, minor: 10 });
    assert_eq!(parse(r#"<cib validate-with="pacemaker-next"/>"#), Schema::LATEST);
    assert_eq!(parse(r#"<cib validate-with="bogus-1"/>"#), Schema::Unknown);
}

#[test]
fn baseline_is_valid() {
    valid(&cib("pacemaker-3.9", &both(""), ""));
}

#[test]
fn cib_needs_its_version_attributes_and_sections() {
    let doc = Document::parse(r#"<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration></cib>"#).unwrap();
    invalid(&doc, &["line 1", "cib", "missing required attribute 'admin_epoch'"]);
    let doc = Document::parse(r#"<cib validate-with="pacemaker-3.9" admin_epoch="0" epoch="1" num_updates="0"><configuration><nodes/><resources/><constraints/></configuration></cib>"#).unwrap();
    invalid(&doc, &["configuration", "<crm_config>"]);
    let doc = Document::parse(r#"<cib validate-with="pacemaker-3.9" admin_epoch="0" epoch="-1" num_updates="0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration></cib>"#).unwrap();
    invalid(&doc, &["invalid epoch '-1'"]);
}

#[test]
fn status_comes_after_configuration() {
    let doc = Document::parse(r#"<cib validate-with="pacemaker-3.9" admin_epoch="0" epoch="1" num_updates="0"><status/><configuration><crm_config/><nodes/><resources/><constraints/></configuration></cib>"#).unwrap();
    invalid(&doc, &["out of order"]);
}

#[test]
fn primitive_needs_class_type_and_provider_for_ocf() {
    invalid(&cib("pacemaker-3.9", r#"<primitive id="p" class="ocf" type="Dummy"/>"#, ""), &["primitive id=p", "'provider'"]);
    invalid(&cib("pacemaker-3.9", r#"<primitive id="p" class="lsb"/>"#, ""), &["primitive id=p", "'type'"]);
    invalid(&cib("pacemaker-3.9", r#"<primitive class="lsb" type="x"/>"#, ""), &["primitive", "'id'"]);
    valid(&cib("pacemaker-3.9", r#"<primitive id="p" class="systemd" type="x"/>"#, ""));
}

#[test]
fn unknown_resource_class_is_rejected() {
    let doc = cib("pacemaker-3.9", r#"<primitive id="p" class="foo" type="x"/>"#, "");
    invalid(&doc, &["line 8", "primitive id=p", "invalid class 'foo'", "ocf, lsb, heartbeat, stonith"]);
    // `alert` is an alerts section, not a resource class.
    invalid(&cib("pacemaker-3.9", r#"<primitive id="p" class="alert" type="x"/>"#, ""), &["class"]);
    valid(&cib("pacemaker-3.9", r#"<primitive id="p" class="nagios" type="x"/>"#, ""));
}

#[test]
fn primitive_may_use_a_template_instead() {
    let t = r#"<template id="t" class="ocf" provider="pacemaker" type="Dummy"/>"#;
    valid(&cib("pacemaker-3.9", &format!(r#"{t}<primitive id="p" template="t"/>"#), ""));
    invalid(&cib("pacemaker-3.9", &format!(r#"{t}<primitive id="p" template="nope"/>"#), ""), &["template refers to 'nope'"]);
}

#[test]
fn duplicate_ids_are_rejected() {
    let doc = cib("pacemaker-3.9", r#"<primitive id="p" class="lsb" type="x"/><primitive id="p" class="lsb" type="y"/>"#, "");
    invalid(&doc, &["duplicate id 'p'", "already used by <primitive>"]);
    // Node ids are not XML IDs and may repeat a resource id.
    valid(&cib("pacemaker-3.9", r#"<primitive id="node1" class="lsb" type="x"/><primitive id="n1" class="lsb" type="y"/>"#, ""));
}

#[test]
fn ids_must_be_names() {
    invalid(&cib("pacemaker-3.9", r#"<primitive id="1p" class="lsb" type="x"/>"#, ""), &["invalid id '1p'"]);
}

#[test]
fn constraint_references_must_resolve() {
    let rs = both("");
    valid(&cib("pacemaker-3.9", &rs, r#"<rsc_colocation id="c" rsc="r1" with-rsc="r2" score="INFINITY"/>"#));
    invalid(&cib("pacemaker-3.9", &rs, r#"<rsc_colocation id="c" rsc="r1" with-rsc="r9" score="INFINITY"/>"#), &["rsc_colocation id=c", "with-rsc refers to 'r9'"]);
    valid(&cib("pacemaker-3.9", &rs, r#"<rsc_order id="o" first="r1" then="r2" kind="Mandatory"/>"#));
    invalid(&cib("pacemaker-3.9", &rs, r#"<rsc_order id="o" first="r0" then="r2"/>"#), &["first refers to 'r0'"]);
    valid(&cib("pacemaker-3.9", &rs, r#"<rsc_location id="l" rsc="r1" node="node1" score="-INFINITY"/>"#));
    invalid(&cib("pacemaker-3.9", &rs, r#"<rsc_location id="l" rsc="rX" node="node1" score="5"/>"#), &["rsc refers to 'rX'"]);
    valid(&cib("pacemaker-3.9", &rs, r#"<rsc_ticket id="t" rsc="r1" ticket="T" loss-policy="stop"/>"#));
    invalid(&cib("pacemaker-3.9", &rs, r#"<rsc_ticket id="t" rsc="r5" ticket="T"/>"#), &["rsc refers to 'r5'"]);
}

#[test]
fn resource_set_refs_must_resolve() {
    let set = |r: &str| format!(r#"<rsc_order id="o"><resource_set id="s"><resource_ref id="r1"/><resource_ref id="{r}"/></resource_set></rsc_order>"#);
    valid(&cib("pacemaker-3.9", &both(""), &set("r2")));
    invalid(&cib("pacemaker-3.9", &both(""), &set("zz")), &["resource_ref", "id refers to 'zz'"]);
    invalid(&cib("pacemaker-3.9", &both(""), r#"<rsc_order id="o"><resource_set id="s"/></rsc_order>"#), &["resource_set id=s", "<resource_ref>"]);
}

#[test]
fn id_refs_on_sets_rules_and_operations_must_resolve() {
    let res = |r: &str| format!(r#"<primitive id="p" class="lsb" type="x"><meta_attributes id="m"><nvpair id="n" name="a" value="b"/></meta_attributes></primitive><primitive id="q" class="lsb" type="x"><meta_attributes id-ref="{r}"/></primitive>"#);
    valid(&cib("pacemaker-3.9", &res("m"), ""));
    invalid(&cib("pacemaker-3.9", &res("mm"), ""), &["meta_attributes", "id-ref refers to 'mm'"]);
    let rule = |r: &str| format!(r#"<rsc_location id="l1" rsc="r1"><rule id="ru" score="1"><expression id="e" attribute="a" operation="defined"/></rule></rsc_location><rsc_location id="l2" rsc="r2"><rule id-ref="{r}"/></rsc_location>"#);
    valid(&cib("pacemaker-3.9", &both(""), &rule("ru")));
    invalid(&cib("pacemaker-3.9", &both(""), &rule("rx")), &["rule", "id-ref refers to 'rx'"]);
    let ops = |r: &str| format!(r#"<primitive id="p" class="lsb" type="x"><operations id="ops"><op id="o1" name="monitor" interval="10s"/></operations></primitive><primitive id="q" class="lsb" type="x"><operations id-ref="{r}"/></primitive>"#);
    valid(&cib("pacemaker-3.9", &ops("ops"), ""));
    invalid(&cib("pacemaker-3.9", &ops("opz"), ""), &["operations", "id-ref refers to 'opz'"]);
}

#[test]
fn scores_must_be_integers_or_infinity() {
    for ok in ["10", "-5", "INFINITY", "+INFINITY", "-INFINITY"] {
        valid(&cib("pacemaker-3.9", &both(""), &format!(r#"<rsc_location id="l" rsc="r1" node="node1" score="{ok}"/>"#)));
    }
    for bad in ["inf", "1.5", "", "high"] {
        invalid(&cib("pacemaker-3.9", &both(""), &format!(r#"<rsc_location id="l" rsc="r1" node="node1" score="{bad}"/>"#)), &["rsc_location id=l", &format!("invalid score '{bad}'")]);
    }
}

#[test]
fn rule_scores_or_score_attribute() {
    let loc = |attrs: &str| format!(r#"<rsc_location id="l" rsc="r1"><rule id="ru" {attrs}><expression id="e" attribute="a" operation="defined"/></rule></rsc_location>"#);
    valid(&cib("pacemaker-3.9", &both(""), &loc(r#"score-attribute="pingd""#)));
    invalid(&cib("pacemaker-3.9", &both(""), &loc(r#"score="1" score-attribute="pingd""#)), &["rule id=ru"]);
    // Before 3.9 a rule must carry one of them.
    invalid(&cib("pacemaker-3.7", &both(""), &loc("")), &["rule id=ru", "score"]);
    valid(&cib("pacemaker-3.9", &both(""), &loc("")));
}

#[test]
fn enumerated_values_are_checked() {
    let expr = |op: &str, bop: &str| format!(r#"<rsc_location id="l" rsc="r1"><rule id="ru" score="1" boolean-op="{bop}"><expression id="e" attribute="a" operation="{op}" value="1"/></rule></rsc_location>"#);
    valid(&cib("pacemaker-3.9", &both(""), &expr("gte", "and")));
    invalid(&cib("pacemaker-3.9", &both(""), &expr("like", "and")), &["expression id=e", "invalid operation 'like'"]);
    invalid(&cib("pacemaker-3.9", &both(""), &expr("eq", "xor")), &["rule id=ru", "invalid boolean-op 'xor'"]);
    let coloc = |role: &str| format!(r#"<rsc_colocation id="c" rsc="r1" with-rsc="r2" score="1" rsc-role="{role}"/>"#);
    valid(&cib("pacemaker-3.7", &both(""), &coloc("Promoted")));
    invalid(&cib("pacemaker-3.6", &both(""), &coloc("Promoted")), &["invalid rsc-role 'Promoted'"]);
    invalid(&cib("pacemaker-3.9", &both(""), &coloc("master")), &["invalid rsc-role 'master'"]);
    let order = |attrs: &str| format!(r#"<rsc_order id="o" first="r1" then="r2" {attrs}/>"#);
    invalid(&cib("pacemaker-3.9", &both(""), &order(r#"kind="Sometimes""#)), &["invalid kind 'Sometimes'"]);
    invalid(&cib("pacemaker-3.9", &both(""), &order(r#"symmetrical="yes""#)), &["invalid symmetrical 'yes'"]);
    invalid(&cib("pacemaker-3.9", &both(""), &order(r#"kind="Optional" score="5""#)), &["rsc_order id=o"]);
    valid(&cib("pacemaker-3.9", &both(""), &order(r#"symmetrical="false" first-action="promote""#)));
}

#[test]
fn unknown_elements_and_attributes_are_rejected() {
    invalid(&cib("pacemaker-3.9", &both(r#"<widget id="w"/>"#), ""), &["widget id=w", "not allowed inside <resources>"]);
    invalid(&cib("pacemaker-3.9", r#"<primitive id="p" class="lsb" type="x" colour="red"/>"#, ""), &["attribute 'colour' is not allowed"]);
}

#[test]
fn clone_holds_exactly_one_resource() {
    invalid(&cib("pacemaker-3.9", r#"<clone id="c"/>"#, ""), &["clone id=c", "<primitive> or <group>"]);
    invalid(&cib("pacemaker-3.9", &format!(r#"<clone id="c">{R1}{R2}</clone>"#), ""), &["clone id=c", "at most 1"]);
    valid(&cib("pacemaker-3.9", &format!(r#"<clone id="c">{R1}</clone>"#), ""));
}

#[test]
fn retired_option_names_are_rejected_from_3_0() {
    let doc = |schema: &str| {
        let text = format!(r#"<cib validate-with="{schema}" admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config><cluster_property_set id="o"><nvpair id="n" name="stonith_enabled" value="false"/></cluster_property_set></crm_config><nodes/><resources/><constraints/></configuration></cib>"#);
        Document::parse(&text).unwrap()
    };
    invalid(&doc("pacemaker-3.0"), &["nvpair id=n", "invalid name 'stonith_enabled'"]);
    valid(&doc("pacemaker-2.10"));
}

#[test]
fn unknown_operation_names_only_warn() {
    let doc = cib("pacemaker-3.9", r#"<primitive id="p" class="lsb" type="x"><operations><op id="o" name="frobnicate" interval="0"/></operations></primitive>"#, "");
    let r = valid(&doc);
    let w: Vec<String> = r.warnings().map(|p| p.to_string()).collect();
    assert!(w.iter().any(|m| m.contains("op id=o") && m.contains("unknown operation name 'frobnicate'")), "{w:?}");
    let doc = cib("pacemaker-3.9", r#"<primitive id="p" class="lsb" type="x"><operations><op id="o" name="monitor" interval="0"/></operations></primitive>"#, "");
    assert_eq!(valid(&doc).warnings().count(), 0);
}

#[test]
fn validate_with_none_checks_nothing_but_warns() {
    let doc = cib("none", r#"<primitive id="p" class="foo" type="x"/><primitive id="p" class="lsb" type="y"/>"#, "");
    let r = valid(&doc);
    let w: Vec<String> = r.warnings().map(|p| p.to_string()).collect();
    assert!(w.iter().any(|m| m.contains("disabled")), "{w:?}");
    assert!(w.iter().any(|m| m.contains("duplicate id 'p'")), "{w:?}");
}

#[test]
fn unknown_schema_is_an_error() {
    invalid(&cib("pacemaker-9.9", R1, ""), &["unknown schema"]);
}

#[test]
fn display_names_line_element_and_id() {
    let doc = cib("pacemaker-3.9", r#"<primitive id="rsc1" class="foo" type="x"/>"#, "");
    let first = validate(&doc).errors().next().unwrap().to_string();
    assert!(first.starts_with("line 8: primitive id=rsc1: invalid class 'foo'"), "{first}");
}

/// A Heartbeat 2.x CIB (no validate-with), in seed 002's style.
fn hb2(resources: &str, constraints: &str) -> Document {
    let text = format!(
        r#"<cib admin_epoch="0" epoch="3" num_updates="1" have_quorum="true" dc_uuid="u1" ccm_transition="2" cib_feature_revision="1.3" generated="true">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <attributes>
          <nvpair id="o1" name="default-resource-stickiness" value="100"/>
          <nvpair id="o2" name="stonith_enabled" value="false"/>
          <nvpair id="o3" name="no_quorum_policy" value="ignore"/>
        </attributes>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="u1" uname="mysql1" type="normal"/>
    </nodes>
    <resources>
      {resources}
    </resources>
    <constraints>
      {constraints}
    </constraints>
  </configuration>
  <status/>
</cib>"#
    );
    Document::parse(&text).unwrap()
}

const HB_GROUP: &str = r#"<group id="group_mysql">
  <instance_attributes id="g_attr"><attributes><nvpair id="g1" name="target_role" value="started"/></attributes></instance_attributes>
  <primitive id="ip" class="ocf" type="IPaddr" provider="heartbeat">
    <operations><op id="ip_mon" interval="5s" name="monitor" timeout="5s"/></operations>
    <instance_attributes id="ip_attr"><attributes><nvpair id="ip_a0" name="ip" value="192.168.1.205"/></attributes></instance_attributes>
  </primitive>
  <primitive id="db" class="lsb" type="mysql" provider="heartbeat">
    <meta_attributes id="db_meta"><attributes><nvpair id="db_m1" name="resource_stickiness" value="100"/><nvpair id="db_m2" name="is_managed" value="true"/></attributes></meta_attributes>
  </primitive>
</group>"#;

#[test]
fn heartbeat2_dialect_is_accepted() {
    let doc = hb2(
        HB_GROUP,
        r##"<rsc_location id="loc" rsc="group_mysql"><rule id="loc_r" score="200"><expression id="loc_e" attribute="#uname" operation="eq" value="mysql1"/></rule></rsc_location>
           <rsc_order id="ord" from="db" type="after" to="ip"/>
           <rsc_colocation id="col" from="db" to="ip" score="INFINITY"/>"##,
    );
    assert_eq!(schemas::schema_of(&doc), Schema::Heartbeat2);
    valid(&doc);
}

#[test]
fn heartbeat2_keeps_id_class_and_reference_checks() {
    invalid(&hb2(&HB_GROUP.replace(r#"id="db_m2""#, r#"id="db_m1""#), ""), &["duplicate id 'db_m1'"]);
    invalid(&hb2(&HB_GROUP.replace(r#"class="lsb""#, r#"class="foo""#), ""), &["primitive id=db", "invalid class 'foo'"]);
    invalid(&hb2(&HB_GROUP.replace(r#" provider="heartbeat">
    <operations>"#, r#">
    <operations>"#), ""), &["primitive id=ip", "'provider'"]);
    invalid(&hb2(HB_GROUP, r#"<rsc_order id="ord" from="db" to="web"/>"#), &["rsc_order id=ord", "to refers to 'web'"]);
    invalid(&hb2(HB_GROUP, r#"<rsc_location id="loc" rsc="group_mysql"><rule id="r" score="lots"/></rsc_location>"#), &["rule id=r", "invalid score 'lots'"]);
}

/// The example CIB shipped with the project is Heartbeat 2.x syntax.
#[test]
fn shipped_example_cib_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/cib.xml");
    let doc = Document::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    valid(&doc);
}
