//! Graphs built in code print as Pacemaker prints them; the reader refuses
//! what it could not write back.

use std::fs;

use tengine::{
    Action, ActionHeader, ActionKind, Error, GraphAttrs, Resource, Synapse, TransitionGraph,
};

const SUITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/pcmk-suite");

#[test]
fn a_graph_built_in_code_prints_as_the_suite_file() {
    let node = "86ad895f-1387-461e-a9b5-c52ed9537e13";
    let mut h = ActionHeader::new(ActionKind::RscOp, 2, "stop", "the-future-of-vaj_stop_0");
    h.on_node = Some("hb2".into());
    h.on_node_uuid = Some(node.into());
    let mut stop = Action::new(h);
    stop.resource = Some(Resource {
        element: "primitive".into(),
        id: "the-future-of-vaj".into(),
        long_id: None,
        class: Some("ocf".into()),
        provider: Some("heartbeat".into()),
        agent: Some("Dummy".into()),
    });
    // Given in any order; the writer sorts.
    stop.attributes.set("target_role", "started");
    stop.attributes.set("CRM_meta_timeout", "20000");
    stop.attributes.set("CRM_meta_on_node_uuid", node);
    stop.attributes.set("CRM_meta_on_node", "hb2");
    let mut g = TransitionGraph::new(GraphAttrs::new(0));
    g.synapses.push(Synapse {
        id: 0,
        priority: 0,
        actions: vec![stop],
        inputs: vec![],
    });

    let want = fs::read_to_string(format!("{SUITE}/exp/1484.exp")).unwrap();
    assert_eq!(g.to_xml(), want);
    assert_eq!(TransitionGraph::from_xml(&want).unwrap(), g);
}

#[test]
fn unfiltered_attributes_are_written_in_place_with_single_spaces() {
    let mut g = TransitionGraph::new(GraphAttrs::new(3));
    assert_eq!(
        g.to_xml(),
        "<transition_graph cluster-delay=\"60s\" stonith-timeout=\"60s\" failed-stop-offset=\"INFINITY\" \
         failed-start-offset=\"INFINITY\"  transition_id=\"3\"/>\n"
    );
    g.attrs.batch_limit = Some(0);
    g.attrs.migration_limit = Some("2".into());
    let mut a = Action::new(ActionHeader::new(
        ActionKind::PseudoEvent,
        1,
        "all_stopped",
        "all_stopped",
    ));
    a.attributes.set("crm_feature_set", "3.16.2");
    a.attributes.set("CRM_meta_timeout", "20000");
    a.attributes.set("zeta", "z");
    g.synapses.push(Synapse {
        id: 0,
        priority: 1_000_000,
        actions: vec![a],
        inputs: vec![],
    });
    let text = g.to_xml();
    assert!(text.starts_with(
        "<transition_graph cluster-delay=\"60s\" stonith-timeout=\"60s\" failed-stop-offset=\"INFINITY\" \
         failed-start-offset=\"INFINITY\" batch-limit=\"0\" transition_id=\"3\" migration-limit=\"2\">\n"
    ));
    assert!(text.contains("  <synapse id=\"0\" priority=\"1000000\">\n"));
    assert!(text.contains(
        "<attributes CRM_meta_timeout=\"20000\" crm_feature_set=\"3.16.2\" zeta=\"z\"/>\n"
    ));
    assert_eq!(TransitionGraph::from_xml(&text).unwrap(), g);
}

#[test]
fn params_downed_maintenance_and_mode() {
    let text = r#"<transition_graph cluster-delay="60s" stonith-timeout="60s" failed-stop-offset="INFINITY" failed-start-offset="INFINITY"  transition_id="0">
  <synapse id="0">
    <action_set>
      <crm_event mode="cib" id="5" operation="lrm_delete" operation_key="r_delete_0" on_node="n1" on_node_uuid="1" router_node="n0" shutdown-lock="1600000000">
        <primitive id="r" long-id="r:0" class="lsb" type="foo"/>
        <attributes CRM_meta_on_node="n1" >
          <param name="1" value="a &quot;b&quot; &amp; &lt;c&gt;"/>
          <param name="2" value="second"/>
        </attributes>
        <downed>
          <node id="1"/>
        </downed>
      </crm_event>
    </action_set>
    <inputs>
      <trigger>
        <pseudo_event id="4" operation="maintenance_nodes" operation_key="maintenance_nodes"/>
      </trigger>
    </inputs>
  </synapse>
  <synapse id="1">
    <action_set>
      <pseudo_event id="4" operation="maintenance_nodes" operation_key="maintenance_nodes">
        <attributes />
        <maintenance>
          <node id="remote1" node_in_maintenance="1"/>
        </maintenance>
      </pseudo_event>
    </action_set>
    <inputs/>
  </synapse>
</transition_graph>
"#;
    let g = TransitionGraph::from_xml(text).unwrap();
    let a = &g.synapses[0].actions[0];
    assert_eq!(a.header.mode.as_deref(), Some("cib"));
    assert_eq!(a.header.router_node.as_deref(), Some("n0"));
    assert_eq!(a.shutdown_lock.as_deref(), Some("1600000000"));
    assert_eq!(a.attributes.get("1"), Some("a \"b\" & <c>"));
    assert_eq!(a.downed.as_deref(), Some(&["1".to_string()][..]));
    assert_eq!(
        g.synapses[1].actions[0].maintenance,
        Some(vec![("remote1".into(), Some("1".into()))])
    );
    assert_eq!(g.synapses[0].inputs[0].id, 4);
    assert_eq!(g.to_xml(), text);
}

#[test]
fn the_reader_refuses_what_it_could_not_write_back() {
    let graph = |body: &str| {
        format!(
            "<transition_graph cluster-delay=\"60s\" transition_id=\"0\">{body}</transition_graph>"
        )
    };
    let cases = [
        ("<cib/>".to_string(), "expected <transition_graph>"),
        ("<transition_graph transition_id=\"0\"/>".to_string(), "no cluster-delay"),
        (graph("<synapse id=\"x\"><action_set/></synapse>"), "not an integer"),
        (graph("<synapse id=\"0\" weight=\"1\"><action_set/></synapse>"), "unexpected attribute weight"),
        (graph("<synapse id=\"0\"><inputs/></synapse>"), "<action_set>"),
        (graph("<bogus/>"), "unexpected <bogus>"),
        (
            graph("<synapse id=\"0\"><action_set><rsc_op id=\"1\" operation=\"start\"/></action_set></synapse>"),
            "no operation_key",
        ),
        (
            graph("<synapse id=\"0\"><action_set><do_it id=\"1\" operation=\"a\" operation_key=\"b\"/></action_set></synapse>"),
            "unexpected <do_it>",
        ),
        (graph("<synapse id=\"0\"><action_set/><!-- note --></synapse>"), "unexpected text"),
        (
            graph("<synapse id=\"0\"><action_set/><inputs><trigger/></inputs></synapse>"),
            "exactly one action",
        ),
    ];
    for (text, want) in cases {
        let err = TransitionGraph::from_xml(&text).expect_err(&text);
        assert!(err.to_string().contains(want), "{text}: {err}");
    }
    assert!(matches!(
        TransitionGraph::from_xml("<a>"),
        Err(Error::Xml(_))
    ));
}

#[test]
fn accessors_read_pacemakers_values() {
    let text = fs::read_to_string(format!("{SUITE}/exp/1484.exp")).unwrap();
    let g = TransitionGraph::from_xml(&text).unwrap();
    assert_eq!(g.attrs.cluster_delay_ms(), 60_000);
    assert_eq!(g.attrs.stonith_timeout_ms(), 60_000);
    let a = g.action(2).unwrap();
    assert_eq!(a.timeout_ms(), 20_000);
    assert_eq!(a.interval_ms(), 0);
    assert!(!a.no_wait() && !a.can_fail() && !a.is_fencing());
    assert_eq!(a.meta("on_node"), Some("hb2"));
}
