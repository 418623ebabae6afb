//! Blocking writes of one node's transient attributes into the CIB status
//! section through the local cib daemon (`tools::cib_live`), in the shape
//! Pacemaker's attribute manager writes them:
//!
//! ```xml
//! <node_state id="ID" uname="NODE">
//!   <transient_attributes id="ID">
//!     <instance_attributes id="status-ID">
//!       <nvpair id="status-ID-NAME" name="NAME" value="VALUE"/>
//! ```
//!
//! `ID` is the node's id in the configuration (`<node id uname>`), else
//! the id of an existing `node_state` with that uname, else the name.
//! Sets are one `modify` (with create); removals are XPath deletes.

use std::path::PathBuf;
use std::time::Duration;

use cib::Element;
use tools::cib_live::{Answer, Call, LiveCib, Op};
use tools::cibadmin::ops::{CibError, Command, Request};

use crate::protocol::NodeValue;

/// How long one CIB call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The local cib daemon, seen from attrd.
#[derive(Debug, Clone)]
pub struct CibWriter {
    pub socket: PathBuf,
}

fn call(cib: &mut LiveCib, op: Command, request: Request) -> Result<Option<Element>, String> {
    let call = Call { op: Op::Cib(op), request: Request { command: Some(op), ..request }, client: "attrd".into(), user: String::new() };
    match cib.call(&call).map_err(|e| e.to_string())? {
        Answer::Ok(out) => Ok(out),
        Answer::Failed(f) if f.error == CibError::NoSuchObject => Ok(None),
        Answer::Failed(f) => Err(f.error.to_string()),
        Answer::Unavailable(why) => Err(why),
    }
}

/// `[@a='v']` with the value quoted for XPath 1.0 (no escapes there).
fn pred(attr: &str, v: &str) -> String {
    if v.contains('\'') {
        format!("[@{attr}=\"{v}\"]")
    } else {
        format!("[@{attr}='{v}']")
    }
}

/// The id under which `node`'s status lives.
pub fn node_id(cib: &Element, node: &str) -> String {
    if let Some(id) = tools::attribute::node_id(cib, node) {
        return id;
    }
    cib.child("status")
        .and_then(|s| s.children_named("node_state").find(|n| n.attr("uname") == Some(node)))
        .and_then(|n| n.id())
        .unwrap_or(node)
        .to_string()
}

/// The status-section element that sets `pairs` of `node`.
pub fn update_xml(id: &str, node: &str, pairs: &[(&str, &str)]) -> Element {
    let set_id = format!("status-{id}");
    let mut set = Element::new("instance_attributes").with_attr("id", &set_id);
    for (name, value) in pairs {
        let nv_id = tools::attribute::sanitize_id(&format!("{set_id}-{name}"));
        set = set.with_child(Element::new("nvpair").with_attr("id", nv_id).with_attr("name", *name).with_attr("value", *value));
    }
    Element::new("node_state")
        .with_attr("id", id)
        .with_attr("uname", node)
        .with_child(Element::new("transient_attributes").with_attr("id", id).with_child(set))
}

impl CibWriter {
    pub fn new(socket: impl Into<PathBuf>) -> CibWriter {
        CibWriter { socket: socket.into() }
    }

    fn connect(&self) -> Result<LiveCib, String> {
        LiveCib::connect(&self.socket, CALL_TIMEOUT).map_err(|e| format!("cib daemon at {}: {e}", self.socket.display()))
    }

    fn whole(cib: &mut LiveCib) -> Result<Element, String> {
        call(cib, Command::Query, Request::default())?.ok_or_else(|| "empty query answer".to_string())
    }

    /// Removes every transient attribute of `node` (attrd's start: a
    /// restarted node has no fail counts).
    pub fn clear(&self, node: &str) -> Result<(), String> {
        let mut cib = self.connect()?;
        let xpath = format!("//node_state{}/transient_attributes", pred("uname", node));
        call(&mut cib, Command::Delete, Request { section: Some(xpath), xpath: true, multiple: true, ..Request::default() })?;
        Ok(())
    }

    /// Writes `pairs` (`None`: remove) of `node`.
    pub fn write(&self, node: &str, pairs: &[(String, Option<String>)]) -> Result<(), String> {
        let mut cib = self.connect()?;
        let id = node_id(&Self::whole(&mut cib)?, node);
        let sets: Vec<(&str, &str)> = pairs.iter().filter_map(|(n, v)| v.as_deref().map(|v| (n.as_str(), v))).collect();
        if !sets.is_empty() {
            let input = update_xml(&id, node, &sets);
            call(&mut cib, Command::Modify, Request { section: Some("status".into()), input: Some(input), allow_create: true, ..Request::default() })?;
        }
        for (name, _) in pairs.iter().filter(|(_, v)| v.is_none()) {
            let xpath = format!("//node_state{}/transient_attributes/instance_attributes/nvpair{}", pred("id", &id), pred("name", name));
            call(&mut cib, Command::Delete, Request { section: Some(xpath), xpath: true, multiple: true, ..Request::default() })?;
        }
        Ok(())
    }

    /// `name` of `node` (or of every node) as the CIB holds it.
    pub fn read(&self, name: &str, node: Option<&str>) -> Result<Vec<NodeValue>, String> {
        let mut cib = self.connect()?;
        Ok(values_in(&Self::whole(&mut cib)?, name, node))
    }
}

/// The transient values of `name` in a CIB's status section.
pub fn values_in(cib: &Element, name: &str, node: Option<&str>) -> Vec<NodeValue> {
    let Some(status) = cib.child("status") else { return Vec::new() };
    let mut out = Vec::new();
    for state in status.children_named("node_state") {
        let uname = state.attr("uname").unwrap_or_default();
        if node.is_some_and(|n| n != uname) {
            continue;
        }
        let value = state
            .children_named("transient_attributes")
            .flat_map(|t| t.children_named("instance_attributes"))
            .flat_map(|s| s.children_named("nvpair"))
            .find(|p| p.attr("name") == Some(name))
            .and_then(|p| p.attr("value"));
        if let Some(v) = value {
            out.push(NodeValue { node: uname.to_string(), value: Some(v.to_string()) });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::xml::parse_element;

    #[test]
    fn ids_and_shapes_are_pacemakers() {
        let cib = parse_element(
            r#"<cib><configuration><nodes><node id="1" uname="n1"/></nodes></configuration>
               <status><node_state id="7" uname="n7"><transient_attributes id="7"><instance_attributes id="status-7">
               <nvpair id="status-7-pingd" name="pingd" value="100"/></instance_attributes></transient_attributes></node_state></status></cib>"#,
        )
        .unwrap();
        assert_eq!(node_id(&cib, "n1"), "1");
        assert_eq!(node_id(&cib, "n7"), "7");
        assert_eq!(node_id(&cib, "n9"), "n9");
        let x = update_xml("1", "n1", &[("fail-count-r1#monitor_10000", "2")]).to_xml_compact();
        assert_eq!(
            x,
            r#"<node_state id="1" uname="n1"><transient_attributes id="1"><instance_attributes id="status-1"><nvpair id="status-1-fail-count-r1.monitor_10000" name="fail-count-r1#monitor_10000" value="2"/></instance_attributes></transient_attributes></node_state>"#
        );
        assert_eq!(values_in(&cib, "pingd", None), vec![NodeValue { node: "n7".into(), value: Some("100".into()) }]);
        assert!(values_in(&cib, "pingd", Some("n1")).is_empty());
        assert_eq!(pred("name", "it's"), "[@name=\"it's\"]");
    }
}
