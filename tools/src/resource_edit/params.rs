//! A resource's instance and meta attributes: `-p`, `-g`, `-d`.

use super::fail;
use crate::attribute::{at_mut, multiple_listing, sanitize_id, Found};
use crate::cib_file::{rejected_listing, CibFile, Outcome, WriteError};
use crate::ExitCode;
use cib::{Element, Node};

/// Heartbeat 2.x spellings the seeds use, mapped to the meta attribute
/// the policy engine obeys, with the value in its canonical form.
/// Pacemaker 2.1.5 writes these as instance attributes, which the engine
/// then ignores; Heartbeat set the meta attribute.
pub fn heartbeat_meta(name: &str, value: &str) -> Option<(&'static str, String)> {
    match name {
        "target_role" => {
            let v = match value.to_ascii_lowercase().as_str() {
                "started" => "Started".to_string(),
                "stopped" => "Stopped".into(),
                "master" | "promoted" => "Master".into(),
                "slave" | "unpromoted" => "Slave".into(),
                _ => value.to_string(),
            };
            Some(("target-role", v))
        }
        "is_managed" => {
            let v = match value.to_ascii_lowercase().as_str() {
                "on" | "yes" | "true" | "1" | "y" => "true".to_string(),
                "off" | "no" | "false" | "0" | "n" => "false".into(),
                _ => value.to_string(),
            };
            Some(("is-managed", v))
        }
        _ => None,
    }
}

fn set_type(meta: bool) -> &'static str {
    if meta {
        "meta_attributes"
    } else {
        "instance_attributes"
    }
}

/// Path of the resource element.
fn resource_path(cib: &Element, rsc: &str) -> Option<Vec<usize>> {
    fn walk(e: &Element, rsc: &str, path: &mut Vec<usize>) -> bool {
        for (i, c) in e.children.iter().enumerate() {
            if let Node::Element(x) = c {
                path.push(i);
                if matches!(x.name.as_str(), "primitive" | "group" | "clone" | "master" | "bundle") && x.id() == Some(rsc) {
                    return true;
                }
                if walk(x, rsc, path) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let pos = |e: &Element, name: &str| {
        e.children.iter().position(|c| matches!(c, Node::Element(x) if x.name == name))
    };
    let ci = pos(cib, "configuration")?;
    let conf = cib.child("configuration")?;
    let ri = pos(conf, "resources")?;
    let res = conf.child("resources")?;
    let mut path = vec![ci, ri];
    walk(res, rsc, &mut path).then_some(path)
}

/// nvpairs named `name` in the resource's own sets of `kind` (any kind
/// when `None`), in document order.
fn matches(cib: &Element, rsc: &str, name: &str, kind: Option<&str>) -> Vec<Found> {
    let Some(path) = resource_path(cib, rsc) else { return vec![] };
    let mut r = cib;
    for &i in &path {
        r = match &r.children[i] {
            Node::Element(x) => x,
            _ => return vec![],
        };
    }
    let mut out = Vec::new();
    for (si, s) in r.children.iter().enumerate() {
        let Node::Element(set) = s else { continue };
        let ok = match kind {
            Some(k) => set.name == k,
            None => matches!(set.name.as_str(), "instance_attributes" | "meta_attributes" | "utilization"),
        };
        if !ok {
            continue;
        }
        collect(set, name, &mut [path.clone(), vec![si]].concat(), &mut out);
    }
    out
}

fn collect(e: &Element, name: &str, path: &mut Vec<usize>, out: &mut Vec<Found>) {
    for (i, c) in e.children.iter().enumerate() {
        if let Node::Element(x) = c {
            path.push(i);
            if x.name == "nvpair" && x.attr("name") == Some(name) {
                out.push(Found::at(x, path.clone()));
            }
            collect(x, name, path, out);
            path.pop();
        }
    }
}

pub fn get(cib: &Element, rsc: &str, name: &str, meta: bool) -> Outcome {
    let mut o = Outcome::default();
    // Pacemaker names the resource its lookup found (an anonymous clone's
    // primitive is its first instance, `dlm:0`), and evaluates the value
    // for the node it runs on, or without a node, saying so, when it runs
    // on several.
    let mut shown = rsc.to_string();
    if let Ok(ws) = super::status::working_set(cib) {
        if let Some(r) = super::status::find(&ws, rsc) {
            shown = ws.rsc(r).id.clone();
        }
        if super::status::active_nodes(cib, rsc).len() > 1 {
            o.err(&format!("{shown} is active on more than one node, returning the default value for {name}\n"));
        }
    }
    let found = matches(cib, rsc, name, Some(set_type(meta)));
    if found.is_empty() {
        o.err(&format!("Attribute '{name}' not found for '{shown}'\n"));
    }
    for f in found {
        o.out(&format!("{}\n", f.value));
    }
    o
}

pub fn set(file: &CibFile, rsc: &str, name: &str, value: &str, meta: bool, force: bool) -> Outcome {
    let mut o = Outcome::default();
    let (name, value, meta) = match heartbeat_meta(name, value) {
        Some((n, v)) => (n.to_string(), v, true),
        None => (name.to_string(), value.to_string(), meta),
    };
    let kind = set_type(meta);
    let result = file.edit(|cib| {
        if !meta && !force {
            if let Some(m) = matches(cib, rsc, &name, Some("meta_attributes")).into_iter().next() {
                return Err(format!(
                    "WARNING: There is already a meta attribute for '{rsc}' called '{name}' (id={id})\n         Delete '{id}' first or use the force option to override\n",
                    id = m.id
                ));
            }
        }
        if let Some(f) = matches(cib, rsc, &name, Some(kind)).into_iter().next() {
            at_mut(cib, f.path()).expect("found").set_attr("value", value.clone());
            return Ok(format!("Set '{rsc}' option: id={} name={name} value={value}\n", f.id));
        }
        let set_id = format!("{rsc}-{kind}");
        let id = sanitize_id(&format!("{set_id}-{name}"));
        let path = resource_path(cib, rsc).expect("resource exists");
        let r = at_mut(cib, &path).expect("resource");
        if !r.elements().any(|e| e.name == kind && e.id() == Some(&set_id)) {
            r.children.push(Node::Element(Element::new(kind).with_attr("id", set_id.clone())));
        }
        let set = r.elements_mut().find(|e| e.name == kind && e.id() == Some(&set_id)).expect("present");
        set.children.push(Node::Element(
            Element::new("nvpair").with_attr("id", id.clone()).with_attr("name", name.clone()).with_attr("value", value.clone()),
        ));
        Ok(format!("Set '{rsc}' option: id={id} set={set_id} name={name} value={value}\n"))
    });
    match result {
        Ok(msg) => {
            o.out(&msg);
            o
        }
        Err(WriteError::Edit(warning)) => {
            o.err(&warning);
            o.err("crm_resource: Error performing operation: Multiple items match request\n");
            o.exit(ExitCode::Multiple)
        }
        Err(WriteError::Invalid(rejected)) => {
            o.err(&rejected_listing(&rejected));
            o.err("crm_resource: Error performing operation: Update does not conform to the configured schema\n");
            o.exit(ExitCode::Config)
        }
        Err(WriteError::Unavailable(u)) => {
            let (msg, code) = u.report("crm_resource");
            fail(o, &msg, code)
        }
    }
}

pub fn delete(file: &CibFile, current: &Element, rsc: &str, name: &str, meta: bool) -> Outcome {
    let mut o = Outcome::default();
    let all = matches(current, rsc, name, None);
    if all.len() > 1 {
        o.out(&multiple_listing(Some(name), &all));
        o.out("\n");
    }
    let kind = set_type(meta);
    let result = file.edit(|cib| -> Result<Option<String>, ()> {
        let Some(f) = matches(cib, rsc, name, Some(kind)).into_iter().next() else { return Ok(None) };
        let (last, parent) = f.path().split_last().expect("below root");
        at_mut(cib, parent).expect("parent").children.remove(*last);
        Ok(Some(f.id))
    });
    match result {
        Ok(Some(id)) => {
            o.out(&format!("Deleted '{rsc}' option: id={id} name={name}\n"));
            o
        }
        Ok(None) => o,
        Err(WriteError::Invalid(rejected)) => {
            o.err(&rejected_listing(&rejected));
            o.exit(ExitCode::Config)
        }
        Err(WriteError::Edit(())) => o.exit(ExitCode::Error),
        Err(WriteError::Unavailable(u)) => {
            let (msg, code) = u.report("crm_resource");
            fail(o, &msg, code)
        }
    }
}
