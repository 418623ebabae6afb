//! One scheduling run without I/O: a CIB in, the transition graph and the
//! series its input belongs to out. The same steps as `crm_simulate`
//! (ensure a status section, `pengine::unpack`, `pengine::schedule`,
//! `Schedule::transition_graph`), so the daemon and the simulator agree.

use cib::model::Cib;
use cib::{Document, Element};
use tengine::TransitionGraph;

use crate::series::Series;

/// The outcome of one run.
#[derive(Debug)]
pub struct Scheduled {
    pub graph: TransitionGraph,
    /// pe-input, or pe-warn / pe-error when crm_verify's checks found
    /// warnings / errors in the input (Pacemaker's "with warnings" and
    /// "with errors" transitions).
    pub series: Series,
    /// The series' bound from the CIB's cluster options.
    pub series_max: i64,
    /// The input as it is saved: the CIB with `execution-date` set, so
    /// that `crm_simulate -x` replays it at the time it was scheduled.
    pub input: Document,
    /// The time the scheduler ran at (epoch seconds).
    pub now: i64,
    /// Primitives found active on more than one node (a split brain that
    /// healed, or a resource started by hand): id and node names, for
    /// the error line operators grep (docs/SPLIT_BRAIN.md).
    pub multiply_active: Vec<(String, Vec<String>)>,
}

/// Schedules `cib` at its `execution-date` if it has one, else at
/// `wall_now`. (The server catches panics around this call.)
pub fn schedule(cib: &Element, wall_now: i64, transition_id: u64) -> Result<Scheduled, String> {
    schedule_inner(cib, wall_now, transition_id)
}

fn schedule_inner(cib: &Element, wall_now: i64, transition_id: u64) -> Result<Scheduled, String> {
    if cib.name != "cib" {
        return Err(format!("expected <cib>, got <{}>", cib.name));
    }
    let mut doc = Document { prolog: Vec::new(), root: cib.clone(), epilog: Vec::new() };
    tools::simulate::ensure_status(&mut doc);
    let model = Cib::from_document(&doc).map_err(|e| format!("unreadable CIB: {e}"))?;
    let now = model.execution_date.unwrap_or(wall_now);
    let ws = pengine::unpack(&model, now);
    let max_option = |s: Series| ws.options.all.get(s.option()).map(String::as_str);
    let verdict = tools::verify::verify(&doc, now);
    let series = if verdict.has_errors() {
        Series::Error
    } else if !verdict.warnings.is_empty() {
        Series::Warn
    } else {
        Series::Input
    };
    let series_max = series.max_from(max_option(series));
    let multiply_active = multiply_active(&ws);
    let schedule = pengine::schedule(&model, ws);
    let mut graph = schedule.transition_graph(&model);
    graph.attrs.transition_id = i32::try_from(transition_id).unwrap_or(i32::MAX);
    if doc.root.attr("execution-date").is_none() {
        doc.root.set_attr("execution-date", now.to_string());
    }
    Ok(Scheduled { graph, series, series_max, input: doc, now, multiply_active })
}

/// Primitives whose history shows them active on two nodes or more.
fn multiply_active(ws: &pengine::WorkingSet) -> Vec<(String, Vec<String>)> {
    ws.resources
        .iter()
        .filter(|r| matches!(r.variant, pengine::working_set::Variant::Primitive(_)) && r.running_on.len() > 1)
        .map(|r| (r.id.clone(), r.running_on.iter().map(|n| ws.node(*n).uname.clone()).collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::xml::parse_element;

    const ONE_NODE: &str = r#"<cib validate-with="pacemaker-3.0" have-quorum="1" epoch="1" num_updates="0" admin_epoch="0"><configuration>
<crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/>
<nvpair id="o2" name="pe-input-series-max" value="7"/></cluster_property_set></crm_config>
<nodes><node id="n1" uname="n1"/></nodes>
<resources><primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/></resources><constraints/></configuration>
<status><node_state id="n1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/></status></cib>"#;

    #[test]
    fn a_clean_cib_is_a_pe_input_with_its_max_and_date() {
        let s = schedule(&parse_element(ONE_NODE).unwrap(), 1_700_000_000, 5).unwrap();
        assert_eq!((s.series, s.series_max, s.now), (Series::Input, 7, 1_700_000_000));
        assert_eq!(s.graph.attrs.transition_id, 5);
        assert_eq!(s.input.root.attr("execution-date"), Some("1700000000"));
        // r1 is probed and started on n1.
        let xml = s.graph.to_xml();
        assert!(xml.contains(r#"operation_key="r1_start_0""#), "{xml}");
    }

    #[test]
    fn stonith_enabled_without_devices_is_a_pe_error() {
        let text = ONE_NODE.replace(r#"name="stonith-enabled" value="false""#, r#"name="stonith-enabled" value="true""#);
        let s = schedule(&parse_element(&text).unwrap(), 1_700_000_000, 0).unwrap();
        assert_eq!((s.series, s.series_max), (Series::Error, -1));
    }

    #[test]
    fn a_primitive_active_on_two_nodes_is_reported() {
        let op = |node: &str| {
            format!(
                r#"<node_state id="{node}" uname="{node}" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="{node}"><lrm_resources>
<lrm_resource id="r1" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="r1_last_0" operation_key="r1_start_0" operation="start" call-id="2" rc-code="0" op-status="0" interval="0" transition-key="1:1:0:x" transition-magic="0:0;1:1:0:x" crm_feature_set="3.16.1"/></lrm_resource>
</lrm_resources></lrm></node_state>"#
            )
        };
        let two = ONE_NODE
            .replace(r#"<nodes><node id="n1" uname="n1"/></nodes>"#, r#"<nodes><node id="n1" uname="n1"/><node id="n2" uname="n2"/></nodes>"#)
            .replace(
                r#"<status><node_state id="n1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/></status>"#,
                &format!("<status>{}{}</status>", op("n1"), op("n2")),
            );
        let s = schedule(&parse_element(&two).unwrap(), 1_700_000_000, 0).unwrap();
        assert_eq!(s.multiply_active, vec![("r1".to_string(), vec!["n1".to_string(), "n2".to_string()])]);
        let s = schedule(&parse_element(ONE_NODE).unwrap(), 1_700_000_000, 0).unwrap();
        assert!(s.multiply_active.is_empty());
    }

    #[test]
    fn not_a_cib_is_refused() {
        assert!(schedule(&parse_element("<configuration/>").unwrap(), 0, 0).is_err());
    }
}
