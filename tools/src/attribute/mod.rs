//! Name/value attributes in the CIB as crm_attribute addresses them: a
//! scope (cluster options, a node's permanent or transient attributes,
//! resource/operation defaults, tickets), an optional set, and an nvpair
//! picked by name and/or id. crm_standby and crm_failcount are built on
//! the same operations, as Pacemaker's scripts are built on crm_attribute.
//!
//! # Layout
//!
//! - this module: [`Scope`], [`Target`], and the pure operations
//!   [`find`], [`update`], [`delete`] on a CIB tree;
//! - [`cli`], crm_attribute's command line and output;
//! - [`standby`], crm_standby;
//! - [`failcount`], crm_failcount.
//!
//! The search mirrors Pacemaker 2.1.5's XPath
//! `<section>[//node[@id=U]]//<set-type>[@id=SET]//nvpair[@id=ID and @name=NAME]`;
//! a new nvpair goes into the set `SET` (default `<section>-<node id>`,
//! `cib-bootstrap-options`, `<section>-options`...), with the id
//! `<set>-<name>` where `:` and `#` become `.`.

pub mod attrd_ipc;
pub mod cli;
pub mod failcount;
pub mod standby;

use cib::{Element, Node};

/// Which part of the CIB an attribute lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    CrmConfig,
    /// A node's permanent attributes (`-l forever`).
    Nodes,
    /// A node's transient attributes (`-l reboot`).
    Status,
    RscDefaults,
    OpDefaults,
    Tickets,
}

impl Scope {
    /// Parses a `-t`/`-l` value as Pacemaker maps them.
    pub fn parse(s: &str) -> Option<Scope> {
        Some(match s {
            "crm_config" => Scope::CrmConfig,
            "nodes" | "forever" => Scope::Nodes,
            "status" | "reboot" => Scope::Status,
            "rsc_defaults" => Scope::RscDefaults,
            "op_defaults" => Scope::OpDefaults,
            "tickets" => Scope::Tickets,
            _ => return None,
        })
    }

    /// The section name, as printed in `scope=...`.
    pub fn name(self) -> &'static str {
        match self {
            Scope::CrmConfig => "crm_config",
            Scope::Nodes => "nodes",
            Scope::Status => "status",
            Scope::RscDefaults => "rsc_defaults",
            Scope::OpDefaults => "op_defaults",
            Scope::Tickets => "tickets",
        }
    }

    /// The element that holds the sets.
    fn set_type(self, utilization: bool) -> &'static str {
        match self {
            Scope::CrmConfig => "cluster_property_set",
            Scope::RscDefaults | Scope::OpDefaults => "meta_attributes",
            Scope::Nodes if utilization => "utilization",
            Scope::Nodes | Scope::Status | Scope::Tickets => "instance_attributes",
        }
    }
}

/// One attribute (or a family of them, when name and id are absent).
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub scope: Option<Scope>,
    /// The node's id (`<node id>` / `<node_state id>`), for node scopes.
    pub node_id: Option<String>,
    /// `-s`: the set's id.
    pub set_name: Option<String>,
    /// `-i`: the nvpair's id.
    pub attr_id: Option<String>,
    /// `-n`: the nvpair's name.
    pub attr_name: Option<String>,
    /// `-z`: node utilization instead of attributes.
    pub utilization: bool,
}

/// A matching nvpair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: String,
    pub name: String,
    pub value: String,
    /// Child-element indices from the root, for editing.
    path: Vec<usize>,
}

impl Found {
    /// Describes the nvpair at `path` (child-element indices from the root).
    pub fn at(e: &Element, path: Vec<usize>) -> Found {
        Found {
            id: e.id().unwrap_or_default().to_string(),
            name: e.attr("name").unwrap_or_default().to_string(),
            value: e.attr("value").unwrap_or_default().to_string(),
            path,
        }
    }

    /// Where the nvpair is, for editing.
    pub fn path(&self) -> &[usize] {
        &self.path
    }
}

/// Why an update or delete could not be done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrError {
    /// More than one nvpair matches; the caller lists them.
    Multiple(Vec<Found>),
    /// The node has no `node_state` to hold a transient attribute.
    NoNodeState { set: String },
}

/// Element child index paths of every nvpair `t` addresses.
pub fn find(cib: &Element, t: &Target) -> Vec<Found> {
    let scope = t.scope.unwrap_or(Scope::CrmConfig);
    let mut out = Vec::new();
    let (top, sub): (&str, Option<&str>) = match scope {
        Scope::Status | Scope::Tickets => ("status", None),
        Scope::CrmConfig => ("configuration", Some("crm_config")),
        Scope::Nodes => ("configuration", Some("nodes")),
        Scope::RscDefaults => ("configuration", Some("rsc_defaults")),
        Scope::OpDefaults => ("configuration", Some("op_defaults")),
    };
    let mut path = Vec::new();
    let Some((i, top_el)) = child_at(cib, top) else { return out };
    path.push(i);
    let base = match sub {
        Some(s) => match child_at(top_el, s) {
            Some((j, e)) => {
                path.push(j);
                e
            }
            None => return out,
        },
        None => top_el,
    };
    // Narrow to the node (or the tickets element) first, like the XPath's
    // `//node[@id=U]` step.
    let mut bases: Vec<(Vec<usize>, &Element)> = Vec::new();
    match (scope, &t.node_id) {
        (Scope::Tickets, _) => descend(base, &mut path.clone(), &|e| e.name == "tickets", &mut bases),
        (Scope::Nodes, Some(id)) => {
            descend(base, &mut path.clone(), &|e| e.name == "node" && e.id() == Some(id), &mut bases)
        }
        (Scope::Status, Some(id)) => {
            descend(base, &mut path.clone(), &|e| e.name == "node_state" && e.id() == Some(id), &mut bases)
        }
        (Scope::Nodes | Scope::Status, None) => return out,
        _ => bases.push((path.clone(), base)),
    }
    // In the status section Pacemaker's set step is the
    // transient_attributes element, so `-s` names that.
    let set_type = if scope == Scope::Status { "transient_attributes" } else { scope.set_type(t.utilization) };
    let set_ok = |e: &Element| e.name == set_type && t.set_name.as_deref().is_none_or(|s| e.id() == Some(s));
    let mut sets = Vec::new();
    for (p, b) in bases {
        descend(b, &mut p.clone(), &set_ok, &mut sets);
    }
    let pair_ok = |e: &Element| {
        e.name == "nvpair"
            && t.attr_id.as_deref().is_none_or(|i| e.id() == Some(i))
            && t.attr_name.as_deref().is_none_or(|n| e.attr("name") == Some(n))
    };
    let mut pairs = Vec::new();
    for (p, s) in sets {
        descend(s, &mut p.clone(), &pair_ok, &mut pairs);
    }
    for (p, e) in pairs {
        if out.iter().any(|f: &Found| f.path == p) {
            continue; // nested sets would find the same nvpair twice
        }
        out.push(Found {
            id: e.id().unwrap_or_default().to_string(),
            name: e.attr("name").unwrap_or_default().to_string(),
            value: e.attr("value").unwrap_or_default().to_string(),
            path: p,
        });
    }
    out
}

fn child_at<'a>(e: &'a Element, name: &str) -> Option<(usize, &'a Element)> {
    e.children.iter().enumerate().find_map(|(i, c)| match c {
        Node::Element(x) if x.name == name => Some((i, x)),
        _ => None,
    })
}

/// Every descendant of `e` (not `e` itself) accepted by `ok`, in document
/// order, with its index path.
fn descend<'a>(e: &'a Element, path: &mut Vec<usize>, ok: &dyn Fn(&Element) -> bool, out: &mut Vec<(Vec<usize>, &'a Element)>) {
    for (i, c) in e.children.iter().enumerate() {
        if let Node::Element(x) = c {
            path.push(i);
            if ok(x) {
                out.push((path.clone(), x));
            }
            descend(x, path, ok, out);
            path.pop();
        }
    }
}

/// The element at an index path.
pub(crate) fn at_mut<'a>(root: &'a mut Element, path: &[usize]) -> Option<&'a mut Element> {
    let mut e = root;
    for &i in path {
        e = match e.children.get_mut(i)? {
            Node::Element(x) => x,
            _ => return None,
        };
    }
    Some(e)
}

/// Pacemaker's `crm_xml_sanitize_id`: `:` and `#` are not allowed in ids.
pub fn sanitize_id(id: &str) -> String {
    id.chars().map(|c| if c == ':' || c == '#' { '.' } else { c }).collect()
}

/// The set a new attribute goes into when `-s` is not given.
pub fn default_set_name(t: &Target) -> String {
    let scope = t.scope.unwrap_or(Scope::CrmConfig);
    match scope {
        Scope::CrmConfig => "cib-bootstrap-options".into(),
        Scope::RscDefaults | Scope::OpDefaults => format!("{}-options", scope.name()),
        Scope::Tickets => "status-tickets".into(),
        Scope::Nodes | Scope::Status => match &t.node_id {
            Some(id) if t.utilization => format!("{}-{id}-utilization", scope.name()),
            Some(id) => format!("{}-{id}", scope.name()),
            None => scope.name().into(),
        },
    }
}

/// Sets the attribute: the one matching nvpair gets the value, or a new
/// one is created. Returns the nvpair's id.
pub fn update(cib: &mut Element, t: &Target, value: &str) -> Result<String, AttrError> {
    let found = find(cib, t);
    if found.len() > 1 {
        return Err(AttrError::Multiple(found));
    }
    if let Some(f) = found.into_iter().next() {
        let e = at_mut(cib, &f.path).expect("found path exists");
        e.set_attr("value", value);
        return Ok(f.id);
    }
    let scope = t.scope.unwrap_or(Scope::CrmConfig);
    let set_name = t.set_name.clone().unwrap_or_else(|| default_set_name(t));
    let name = t.attr_name.clone().unwrap_or_default();
    let id = t.attr_id.clone().unwrap_or_else(|| sanitize_id(&format!("{set_name}-{name}")));
    let set_type = scope.set_type(t.utilization);
    // The container the set hangs from.
    let holder: &mut Element = match scope {
        Scope::CrmConfig | Scope::RscDefaults | Scope::OpDefaults => {
            cib.child_or_insert("configuration").child_or_insert(scope.name())
        }
        Scope::Tickets => cib.child_or_insert("status").child_or_insert("tickets"),
        Scope::Nodes => {
            let node_id = t.node_id.clone().unwrap_or_default();
            let nodes = cib.child_or_insert("configuration").child_or_insert("nodes");
            match child_with_id(nodes, "node", &node_id) {
                Some(n) => n,
                None => {
                    nodes.children.push(Node::Element(Element::new("node").with_attr("id", node_id.clone())));
                    child_with_id(nodes, "node", &node_id).expect("just added")
                }
            }
        }
        Scope::Status => {
            let node_id = t.node_id.clone().unwrap_or_default();
            let status = cib.child_or_insert("status");
            let Some(state) = child_with_id(status, "node_state", &node_id) else {
                return Err(AttrError::NoNodeState { set: set_name });
            };
            child_with_id_or_insert(state, "transient_attributes", &node_id)
        }
    };
    let set = child_with_id_or_insert(holder, set_type, &set_name);
    match child_with_id(set, "nvpair", &id) {
        Some(p) => {
            p.set_attr("name", name);
            p.set_attr("value", value);
        }
        None => set.children.push(Node::Element(
            Element::new("nvpair").with_attr("id", id.clone()).with_attr("name", name).with_attr("value", value),
        )),
    }
    Ok(id)
}

/// Deletes the one matching nvpair. `Ok(None)`: nothing matched.
pub fn delete(cib: &mut Element, t: &Target) -> Result<Option<Found>, AttrError> {
    let found = find(cib, t);
    if found.len() > 1 {
        return Err(AttrError::Multiple(found));
    }
    let Some(f) = found.into_iter().next() else { return Ok(None) };
    let (last, parent) = f.path.split_last().expect("nvpair is below the root");
    at_mut(cib, parent).expect("parent exists").children.remove(*last);
    Ok(Some(f))
}

fn child_with_id<'a>(e: &'a mut Element, name: &str, id: &str) -> Option<&'a mut Element> {
    e.elements_mut().find(|c| c.name == name && c.id() == Some(id))
}

fn child_with_id_or_insert<'a>(e: &'a mut Element, name: &str, id: &str) -> &'a mut Element {
    if child_with_id(e, name, id).is_none() {
        e.children.push(Node::Element(Element::new(name).with_attr("id", id)));
    }
    child_with_id(e, name, id).expect("present")
}

/// Pacemaker's listing of ambiguous matches (stdout).
pub fn multiple_listing(name: Option<&str>, found: &[Found]) -> String {
    let mut s = format!("Multiple attributes match name={}\n", name.unwrap_or("(null)"));
    for f in found {
        s.push_str(&format!("  Value: {} \t(id={})\n", f.value, f.id));
    }
    s
}

/// The id of the node named `uname`: its `<node>` entry, else a remote
/// node (a `remote-node` meta attribute or an `ocf:pacemaker:remote`
/// primitive), whose id is its name.
pub fn node_id(cib: &Element, uname: &str) -> Option<String> {
    let config = cib.child("configuration")?;
    if let Some(nodes) = config.child("nodes") {
        if let Some(n) = nodes.children_named("node").find(|n| n.attr("uname") == Some(uname)) {
            return Some(n.id().unwrap_or(uname).to_string());
        }
    }
    let resources = config.child("resources")?;
    let remote = resources.descendants().any(|e| {
        (e.name == "primitive" && e.id() == Some(uname) && e.attr("type") == Some("remote") && e.attr("provider") == Some("pacemaker"))
            || (e.name == "nvpair" && e.attr("name") == Some("remote-node") && e.attr("value") == Some(uname))
    });
    remote.then(|| uname.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::xml::parse_element;

    fn cib() -> Element {
        parse_element(
            r#"<cib><configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="a" name="x" value="1"/></cluster_property_set></crm_config>
            <nodes><node id="1" uname="n1"/></nodes><resources/><constraints/></configuration>
            <status><node_state id="1" uname="n1"/></status></cib>"#,
        )
        .unwrap()
    }

    #[test]
    fn update_creates_in_default_sets() {
        let mut c = cib();
        let t = Target { scope: Some(Scope::Status), node_id: Some("1".into()), attr_name: Some("fail-count-r#monitor_0".into()), ..Default::default() };
        assert_eq!(update(&mut c, &t, "3").unwrap(), "status-1-fail-count-r.monitor_0");
        assert_eq!(find(&c, &t)[0].value, "3");
        let t = Target { scope: Some(Scope::CrmConfig), attr_name: Some("x".into()), ..Default::default() };
        assert_eq!(update(&mut c, &t, "2").unwrap(), "a");
        let t = Target { scope: Some(Scope::RscDefaults), attr_name: Some("s".into()), ..Default::default() };
        assert_eq!(update(&mut c, &t, "2").unwrap(), "rsc_defaults-options-s");
    }

    #[test]
    fn transient_attribute_needs_a_node_state() {
        let mut c = cib();
        let t = Target { scope: Some(Scope::Status), node_id: Some("2".into()), attr_name: Some("x".into()), ..Default::default() };
        assert_eq!(update(&mut c, &t, "1"), Err(AttrError::NoNodeState { set: "status-2".into() }));
    }

    #[test]
    fn delete_refuses_ambiguity() {
        let mut c = cib();
        let t = Target { scope: Some(Scope::CrmConfig), attr_name: Some("x".into()), set_name: Some("other".into()), ..Default::default() };
        update(&mut c, &t, "9").unwrap();
        let all = Target { scope: Some(Scope::CrmConfig), attr_name: Some("x".into()), ..Default::default() };
        assert!(matches!(delete(&mut c, &all), Err(AttrError::Multiple(v)) if v.len() == 2));
        assert_eq!(delete(&mut c, &t).unwrap().unwrap().id, "other-x");
        assert_eq!(node_id(&c, "n1").as_deref(), Some("1"));
        assert_eq!(node_id(&c, "n9"), None);
    }
}
