//! crm_resource `--output-as xml`, as Pacemaker 2.1.5 writes it: the
//! command runs as in text ([`super::execute`]), then its outcome and
//! the data it shows become the `<pacemaker-result>` (`crate::output`).
//!
//! | Command | Body |
//! | --- | --- |
//! | `-L` | `<resources>` as crm_mon's XML lists them (`<item>No resources</item>` when empty) |
//! | `-W -r RSC` | `<nodes resource="RSC">` with one `<node>` per place it runs (empty when stopped, no message) |
//! | `-q -r RSC` | `<resource_config>`: the resource's status element, then its configuration in `<xml>` as CDATA |
//! | `-g NAME -r RSC` | `<list name="attributes">` of `<item name="NAME">VALUE</item>` |
//! | `-O` / `-o` | `<operations>` of `<operation>` (none when nothing is listed) |
//! | editing forms | nothing; their information lines ("WARNING: Creating rsc_location ...") are text only |
//!
//! Errors: one `<error>` per reported line, except that the closing
//! "Error performing operation" line (and a message's indented or
//! "To prevent" continuation) joins the message before it (one GError
//! in Pacemaker).

use cib::{Element, Node};

use super::{find_resource, status, Args};
use crate::cib_file::Outcome;
use crate::output::{to_xml, Errors};

/// The XML outcome of a command whose text outcome is `text`; `cib` is
/// the CIB as read before the command, `ops` what `-O`/`-o` listed.
pub fn render(a: &Args, cib: Option<&Element>, text: Outcome, ops: Vec<Element>, request: &str) -> Outcome {
    let ok = text.code == 0;
    let ws = || cib.and_then(|c| status::working_set(c).ok());
    let mut errors = Errors::Joined;
    let mut body = Vec::new();
    if a.list_operations || a.list_all_operations {
        if !ops.is_empty() {
            let mut list = Element::new("operations");
            list.children.extend(ops.into_iter().map(Node::Element));
            body.push(list);
        }
    } else if a.list {
        let no_resources = text.stdout.trim_end() == "No resources";
        if ok || no_resources {
            if let Some(ws) = ws() {
                let mut list = crate::monitor::xml::resources_of(&ws);
                if no_resources {
                    list.children.clear();
                    list.children.push(Node::Element(text_element("item", "No resources")));
                }
                body.push(list);
            }
        }
    } else if a.cleanup || a.refresh || a.reprobe {
        // Information lines only ("Cleaned up ...").
    } else if a.locate && a.resource.is_some() {
        let name = a.resource.as_deref().unwrap_or_default();
        if ok {
            // "resource X is NOT running" is text only.
            errors = Errors::None;
            if let Some(ws) = ws() {
                let mut nodes = Element::new("nodes").with_attr("resource", name);
                if let Some(r) = status::find(&ws, name) {
                    for (node, promoted) in status::search(&ws, r, name) {
                        let mut e = text_element("node", &node);
                        if promoted {
                            e.set_attr("state", "promoted");
                        }
                        nodes.children.push(Node::Element(e));
                    }
                }
                body.push(nodes);
            }
        }
    } else if let (Some(name), true) = (&a.get_parameter, ok) {
        // Values printed one per line; none found leaves only the error.
        let values: Vec<&str> = text.stdout.lines().collect();
        if !values.is_empty() {
            let mut list = Element::new("list").with_attr("name", "attributes").with_attr("count", values.len().to_string());
            for v in values {
                list.children.push(Node::Element(text_element("item", v).with_attr("name", name)));
            }
            body.push(list);
        }
    } else if (a.query_xml || a.heartbeat_xml) && ok && a.set_parameter.is_none() && a.delete_parameter.is_none() {
        if let (Some(cib), Some(rsc)) = (cib, a.resource.as_deref()) {
            body.extend(resource_config(cib, rsc));
        }
    }
    to_xml(text, request, body, errors)
}

fn text_element(name: &str, text: &str) -> Element {
    let mut e = Element::new(name);
    e.children.push(Node::Text(text.to_string()));
    e
}

/// `-q`: the resource as crm_mon's XML shows it, then its configuration.
fn resource_config(cib: &Element, rsc: &str) -> Option<Element> {
    let config = find_resource(cib, rsc)?;
    let mut out = Element::new("resource_config");
    if let Ok(ws) = status::working_set(cib) {
        let found = ws.top_level.iter().flat_map(|&t| ws.subtree(t)).find(|&r| ws.rsc(r).id == rsc || ws.rsc(r).xml_id == rsc && ws.rsc(r).parent.is_none_or(|p| ws.rsc(p).xml_id != rsc));
        // Shown without inactive resources: a collection with nothing
        // active prints nothing (a stopped primitive still prints).
        let shown = found.filter(|&r| ws.rsc(r).is_primitive() || ws.is_active(r, false));
        if let Some(e) = shown.and_then(|r| crate::monitor::xml::resource(&ws, r)) {
            out.children.push(Node::Element(e));
        }
    }
    let instance = super::clone_instance(cib, rsc);
    let mut xml = Element::new("xml");
    xml.children.push(Node::CData(super::configured_xml(config, instance.as_ref().map(|(n, _)| n.as_str()))));
    out.children.push(Node::Element(xml));
    Some(out)
}
