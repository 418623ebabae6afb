//! Reading a transition graph: XML text -> [`cib::xml`] tree -> typed model.
//!
//! Strict where being lenient would lose content: an element or attribute
//! the model has no place for is an error rather than silently dropped
//! (unknown attributes of the graph and of actions are kept, since both
//! carry an `extra` list).

use cib::xml::{Document, Element, Node};

use crate::error::Error;
use crate::graph::{
    Action, ActionHeader, ActionKind, Attributes, GraphAttrs, Resource, Synapse, TransitionGraph,
};

impl TransitionGraph {
    /// Parses a graph from its XML text (an `<?xml?>` declaration is allowed).
    pub fn from_xml(text: &str) -> Result<Self, Error> {
        let doc = Document::parse(text)?;
        Self::from_element(&doc.root)
    }

    /// Builds a graph from a parsed `<transition_graph>` element.
    pub fn from_element(root: &Element) -> Result<Self, Error> {
        if root.name != "transition_graph" {
            return Err(Error::NotAGraph {
                line: root.line,
                found: root.name.clone(),
            });
        }
        let attrs = graph_attrs(root)?;
        let mut synapses = Vec::new();
        for child in elements_only(root)? {
            if child.name != "synapse" {
                return Err(unexpected(child, root));
            }
            synapses.push(synapse(child)?);
        }
        Ok(TransitionGraph { attrs, synapses })
    }
}

fn graph_attrs(e: &Element) -> Result<GraphAttrs, Error> {
    let mut attrs = GraphAttrs {
        cluster_delay: required(e, "cluster-delay")?.to_string(),
        stonith_timeout: None,
        failed_stop_offset: None,
        failed_start_offset: None,
        batch_limit: None,
        transition_id: int(e, "transition_id", required(e, "transition_id")?)?,
        migration_limit: None,
        recheck_by: None,
        extra: Vec::new(),
    };
    for (name, value) in e.attrs() {
        match name {
            "cluster-delay" | "transition_id" => {}
            "stonith-timeout" => attrs.stonith_timeout = Some(value.into()),
            "failed-stop-offset" => attrs.failed_stop_offset = Some(value.into()),
            "failed-start-offset" => attrs.failed_start_offset = Some(value.into()),
            "batch-limit" => attrs.batch_limit = Some(int(e, name, value)?),
            "migration-limit" => attrs.migration_limit = Some(value.into()),
            "recheck-by" => attrs.recheck_by = Some(value.into()),
            _ => attrs.extra.push((name.into(), value.into())),
        }
    }
    Ok(attrs)
}

fn synapse(e: &Element) -> Result<Synapse, Error> {
    let mut syn = Synapse {
        id: int(e, "id", required(e, "id")?)?,
        priority: 0,
        actions: Vec::new(),
        inputs: Vec::new(),
    };
    for (name, value) in e.attrs() {
        match name {
            "id" => {}
            "priority" => syn.priority = int(e, name, value)?,
            _ => return Err(unexpected_attr(e, name)),
        }
    }
    // Pacemaker writes exactly one <action_set> and then one <inputs>.
    let mut seen_actions = false;
    let mut seen_inputs = false;
    for child in elements_only(e)? {
        match child.name.as_str() {
            "action_set" if !seen_actions && !seen_inputs => {
                seen_actions = true;
                for a in elements_only(child)? {
                    syn.actions.push(action(a)?);
                }
            }
            "inputs" if !seen_inputs => {
                seen_inputs = true;
                for trigger in elements_only(child)? {
                    if trigger.name != "trigger" {
                        return Err(unexpected(trigger, child));
                    }
                    let mut refs = elements_only(trigger)?;
                    let (Some(r), None) = (refs.next(), refs.next()) else {
                        return Err(Error::MissingAttr {
                            line: trigger.line,
                            element: "trigger".into(),
                            attr: "(exactly one action)",
                        });
                    };
                    if let Some(grandchild) = elements_only(r)?.next() {
                        return Err(unexpected(grandchild, r));
                    }
                    let (header, extra) = header(r)?;
                    if let Some((name, _)) = extra.first() {
                        return Err(unexpected_attr(r, name));
                    }
                    syn.inputs.push(header);
                }
            }
            _ => return Err(unexpected(child, e)),
        }
    }
    if !seen_actions {
        return Err(Error::MissingAttr {
            line: e.line,
            element: "synapse".into(),
            attr: "<action_set>",
        });
    }
    Ok(syn)
}

/// The header fields of an action element, and its other attributes.
fn header(e: &Element) -> Result<(ActionHeader, Vec<(String, String)>), Error> {
    let kind = ActionKind::from_element_name(&e.name).ok_or_else(|| Error::Unexpected {
        line: e.line,
        element: e.name.clone(),
        parent: "action_set".into(),
    })?;
    let mut h = ActionHeader::new(
        kind,
        int(e, "id", required(e, "id")?)?,
        required(e, "operation")?,
        required(e, "operation_key")?,
    );
    let mut extra = Vec::new();
    for (name, value) in e.attrs() {
        let slot = match name {
            "id" | "operation" | "operation_key" => continue,
            "mode" => &mut h.mode,
            "internal_operation_key" => &mut h.internal_operation_key,
            "on_node" => &mut h.on_node,
            "on_node_uuid" => &mut h.on_node_uuid,
            "router_node" => &mut h.router_node,
            _ => {
                extra.push((name.to_string(), value.to_string()));
                continue;
            }
        };
        *slot = Some(value.to_string());
    }
    Ok((h, extra))
}

fn action(e: &Element) -> Result<Action, Error> {
    let (header, extra) = header(e)?;
    let mut a = Action::new(header);
    for (name, value) in extra {
        if name == "shutdown-lock" {
            a.shutdown_lock = Some(value);
        } else {
            a.extra.push((name, value));
        }
    }
    // Children come in Pacemaker's order: resource, attributes, downed,
    // maintenance; anything else (or a repeat) is refused.
    let mut stage = 0;
    for child in elements_only(e)? {
        match child.name.as_str() {
            "attributes" if stage < 2 => {
                a.attributes = attributes(child)?;
                stage = 2;
            }
            "downed" if stage < 3 => {
                a.downed = Some(node_ids(child)?.into_iter().map(|(id, _)| id).collect());
                stage = 3;
            }
            "maintenance" if stage < 4 => {
                a.maintenance = Some(node_ids(child)?);
                stage = 4;
            }
            _ if stage == 0 && child.attr("id").is_some() => {
                a.resource = Some(resource(child)?);
                stage = 1;
            }
            _ => return Err(unexpected(child, e)),
        }
    }
    Ok(a)
}

fn resource(e: &Element) -> Result<Resource, Error> {
    if let Some(child) = elements_only(e)?.next() {
        return Err(unexpected(child, e));
    }
    let mut r = Resource {
        element: e.name.clone(),
        id: required(e, "id")?.to_string(),
        long_id: None,
        class: None,
        provider: None,
        agent: None,
    };
    for (name, value) in e.attrs() {
        let slot = match name {
            "id" => continue,
            "long-id" => &mut r.long_id,
            "class" => &mut r.class,
            "provider" => &mut r.provider,
            "type" => &mut r.agent,
            _ => return Err(unexpected_attr(e, name)),
        };
        *slot = Some(value.to_string());
    }
    Ok(r)
}

fn attributes(e: &Element) -> Result<Attributes, Error> {
    let mut attrs = Attributes {
        pairs: e
            .attrs()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    };
    for param in elements_only(e)? {
        if param.name != "param" {
            return Err(unexpected(param, e));
        }
        attrs.pairs.push((
            required(param, "name")?.into(),
            required(param, "value")?.into(),
        ));
    }
    Ok(attrs)
}

/// The `<node id=".." [node_in_maintenance=".."]/>` children of `<downed>`
/// or `<maintenance>`.
fn node_ids(e: &Element) -> Result<Vec<(String, Option<String>)>, Error> {
    elements_only(e)?
        .map(|n| {
            if n.name != "node" {
                return Err(unexpected(n, e));
            }
            if let Some((name, _)) = n
                .attrs()
                .find(|(k, _)| *k != "id" && *k != "node_in_maintenance")
            {
                return Err(unexpected_attr(n, name));
            }
            Ok((
                required(n, "id")?.to_string(),
                n.attr("node_in_maintenance").map(String::from),
            ))
        })
        .collect()
}

/// The element children, refusing text, comments and processing
/// instructions (a graph has none, and the writer could not keep them).
fn elements_only(e: &Element) -> Result<impl Iterator<Item = &Element>, Error> {
    if e.children.iter().any(|c| !matches!(c, Node::Element(_))) {
        return Err(Error::UnexpectedText {
            line: e.line,
            parent: e.name.clone(),
        });
    }
    Ok(e.elements())
}

fn required<'e>(e: &'e Element, attr: &'static str) -> Result<&'e str, Error> {
    e.attr(attr).ok_or_else(|| Error::MissingAttr {
        line: e.line,
        element: e.name.clone(),
        attr,
    })
}

fn int(e: &Element, attr: &str, value: &str) -> Result<i32, Error> {
    value.parse().map_err(|_| Error::NotAnInteger {
        line: e.line,
        element: e.name.clone(),
        attr: attr.into(),
        value: value.into(),
    })
}

fn unexpected(child: &Element, parent: &Element) -> Error {
    Error::Unexpected {
        line: child.line,
        element: child.name.clone(),
        parent: parent.name.clone(),
    }
}

fn unexpected_attr(e: &Element, attr: &str) -> Error {
    Error::UnexpectedAttr {
        line: e.line,
        element: e.name.clone(),
        attr: attr.into(),
    }
}
