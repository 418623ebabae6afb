//! Cross-check with the real `crm_verify -x` (pacemaker-cli-utils): on
//! small CIBs, its schema verdict matches ours. crm_verify also runs the
//! scheduler and complains about things beyond the schema (no STONITH
//! devices...), so only its schema messages are read.

use std::process::Command;

use cib::Document;

fn crm_verify_schema_valid(xml: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cib.xml");
    std::fs::write(&path, xml).unwrap();
    let out = Command::new("crm_verify")
        .arg("-x")
        .arg(&path)
        .output()
        .expect("crm_verify must be installed (apt-get install pacemaker-cli-utils)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    !(text.contains("validity error") || text.contains("fails to validate") || text.contains("did not pass schema validation"))
}

fn cib(resources: &str, constraints: &str) -> String {
    format!(
        r#"<cib validate-with="pacemaker-3.7" admin_epoch="0" epoch="1" num_updates="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="opts"><nvpair id="opts-se" name="stonith-enabled" value="false"/></cluster_property_set>
    </crm_config>
    <nodes><node id="1" uname="node1"/></nodes>
    <resources>
      <primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/>
      <primitive id="r2" class="lsb" type="foo"/>
      {resources}
    </resources>
    <constraints>{constraints}</constraints>
  </configuration>
  <status/>
</cib>"#
    )
}

#[test]
fn verdicts_match_crm_verify() {
    let cases = [
        ("baseline", cib("", "")),
        ("bad class", cib(r#"<primitive id="p" class="foo" type="x"/>"#, "")),
        ("ocf without provider", cib(r#"<primitive id="p" class="ocf" type="x"/>"#, "")),
        ("duplicate id", cib(r#"<primitive id="r1" class="lsb" type="x"/>"#, "")),
        ("dangling rsc", cib("", r#"<rsc_location id="l" rsc="nope" node="node1" score="1"/>"#)),
        ("bad score", cib("", r#"<rsc_location id="l" rsc="r1" node="node1" score="lots"/>"#)),
        ("good score", cib("", r#"<rsc_location id="l" rsc="r1" node="node1" score="-INFINITY"/>"#)),
        ("bad kind", cib("", r#"<rsc_order id="o" first="r1" then="r2" kind="Sometimes"/>"#)),
        ("good order", cib("", r#"<rsc_order id="o" first="r1" then="r2" kind="Optional"/>"#)),
        ("unknown element", cib(r#"<widget id="w"/>"#, "")),
        ("unknown op name", cib(r#"<primitive id="p" class="lsb" type="x"><operations><op id="p-o" name="frob" interval="0"/></operations></primitive>"#, "")),
        ("rule without score", cib("", r#"<rsc_location id="l" rsc="r1"><rule id="ru"><expression id="e" attribute="a" operation="defined"/></rule></rsc_location>"#)),
        ("Promoted role", cib("", r#"<rsc_colocation id="c" rsc="r1" with-rsc="r2" score="1" rsc-role="Promoted"/>"#)),
    ];
    let mut mismatches = Vec::new();
    for (what, xml) in &cases {
        let theirs = crm_verify_schema_valid(xml);
        let report = schemas::validate(&Document::parse(xml).unwrap());
        if theirs != report.is_valid() {
            mismatches.push(format!("{what}: crm_verify valid={theirs}, ours={:?}", report.problems));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
