//! `crm_mon --output-as html` and `-h FILE`: a self-contained page (inline
//! style, no scripts, no external resources) with the summary, the nodes,
//! every resource (one table row per primitive instance), node
//! attributes and the failed actions.
//!
//! The page is built as an element tree and written by `cib::xml`'s
//! writer, so it is always well-formed (XHTML-compatible) and escaped.
//! Rows carry `data-*` attributes naming the node, resource or failure
//! they show, so tools (and our tests) can read the page back.

use cib::xml::Node;
use cib::Element;
use pengine::{RscId, Variant, WorkingSet};

use super::clock::ctime;
use super::snapshot::Snapshot;
use super::text::failed_action_line;
use super::Options;
use crate::status::nodes::{node_health, status_text};

const STYLE: &str = "body { font-family: sans-serif }
.bold { font-weight: bold }
.online { color: green }
.offline { color: red }
.maint { color: blue }
.standby { color: blue }
.health_red { color: red }
.health_yellow { color: GoldenRod }
.rsc-failed { color: red }
.rsc-failure-ignored { color: DarkGreen }
.rsc-managed { color: blue }
.rsc-multiple { color: orange }
.rsc-ok { color: green }
.warning { color: red; font-weight: bold }
table { border-collapse: collapse }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left }";

fn text(name: &str, t: impl Into<String>) -> Element {
    let mut e = Element::new(name);
    e.children.push(Node::Text(t.into()));
    e
}

fn span(class: Option<&str>, t: impl Into<String>) -> Element {
    let mut e = text("span", t);
    if let Some(c) = class {
        e.set_attr("class", c);
    }
    e
}

/// The page; `refresh` adds a meta refresh (seconds) for `-h FILE`.
pub fn render(snap: &Snapshot, opts: &Options, refresh: Option<u64>) -> String {
    let mut head = Element::new("head").with_child(text("title", "Cluster Status"));
    head = head.with_child(Element::new("meta").with_attr("charset", "utf-8"));
    if let Some(s) = refresh {
        head = head.with_child(Element::new("meta").with_attr("http-equiv", "refresh").with_attr("content", s.to_string()));
    }
    head = head.with_child(text("style", STYLE));
    let mut body = Element::new("body");
    for e in summary(snap) {
        body = body.with_child(e);
    }
    for e in nodes(snap) {
        body = body.with_child(e);
    }
    for e in resources(snap, opts) {
        body = body.with_child(e);
    }
    if opts.node_attributes {
        for e in attributes(snap) {
            body = body.with_child(e);
        }
    }
    for e in failures(snap, opts) {
        body = body.with_child(e);
    }
    let html = Element::new("html").with_attr("lang", "en").with_child(head).with_child(body);
    format!("<!DOCTYPE html>\n{}", html.to_xml())
}

fn summary(snap: &Snapshot) -> Vec<Element> {
    let ws = &snap.ws;
    let mut ul = Element::new("ul");
    let item = |label: &str, value: String| Element::new("li").with_child(span(Some("bold"), format!("{label}: "))).with_child(span(None, value));
    ul = ul.with_child(item("Stack", snap.stack().to_string()));
    let dc = match ws.dc_node {
        Some(dc) => Element::new("li").with_child(span(Some("bold"), "Current DC: ")).with_child(span(
            None,
            format!(
                "{} (version {}) - partition {} quorum",
                ws.node(dc).uname,
                snap.dc_version().unwrap_or("unknown"),
                if snap.with_quorum() { "with" } else { "WITHOUT" }
            ),
        )),
        None => Element::new("li").with_child(span(Some("bold"), "Current DC: ")).with_child(span(Some("warning"), "NONE")),
    };
    ul = ul.with_child(dc);
    ul = ul.with_child(item("Last updated", ctime(snap.now)));
    ul = ul.with_child(item("Last change", snap.last_change()));
    let n = snap.nodes_configured();
    ul = ul.with_child(Element::new("li").with_child(span(None, format!("{n} node{} configured", if n == 1 { "" } else { "s" }))));
    let (r, disabled, blocked) = snap.resource_counts();
    let mut counts = format!("{r} resource instance{} configured", if r == 1 { "" } else { "s" });
    if disabled > 0 || blocked > 0 {
        counts.push_str(&format!(" ({disabled} DISABLED, {blocked} BLOCKED)"));
    }
    ul = ul.with_child(Element::new("li").with_child(span(None, counts)));
    let mut out = vec![text("h2", "Cluster Summary"), ul];
    if ws.options.maintenance_mode {
        out.push(text("p", "Resource management is DISABLED: the cluster will not attempt to start, stop or recover services").with_attr("class", "warning"));
    } else if ws.options.stop_all_resources {
        out.push(text("p", "Resource management is DISABLED: the cluster will keep all resources stopped").with_attr("class", "warning"));
    }
    out
}

fn nodes(snap: &Snapshot) -> Vec<Element> {
    let ws = &snap.ws;
    if ws.nodes.is_empty() {
        return Vec::new();
    }
    let mut ul = Element::new("ul");
    for n in &ws.nodes {
        let status = status_text(n);
        let class = if n.online { "online" } else { "offline" };
        let mut li = Element::new("li").with_attr("data-node", n.uname.as_str()).with_child(span(Some("bold"), format!("{}:", n.uname))).with_child(span(Some(class), format!(" {status}")));
        match node_health(ws, n) {
            h if h < 0 => li = li.with_child(span(Some("health_red"), " (health is RED)")),
            0 => li = li.with_child(span(Some("health_yellow"), " (health is YELLOW)")),
            _ => {}
        }
        ul = ul.with_child(li);
    }
    vec![text("h2", "Node List"), ul]
}

/// Every primitive instance under the resources shown, with the chain of
/// its collections.
fn rows(ws: &WorkingSet, r: RscId, parents: &mut Vec<String>, out: &mut Vec<(Vec<String>, RscId)>) {
    let res = ws.rsc(r);
    match res.variant {
        // Implicit resources (guest-node connections) too, as in the XML.
        Variant::Primitive(_) => out.push((parents.clone(), r)),
        _ => {
            parents.push(res.id.clone());
            for &c in &res.children {
                rows(ws, c, parents, out);
            }
            parents.pop();
        }
    }
}

fn resources(snap: &Snapshot, opts: &Options) -> Vec<Element> {
    let ws = &snap.ws;
    let mut list = Vec::new();
    for &r in &ws.top_level {
        if ws.rsc(r).flags.orphan && !ws.is_active(r, true) {
            continue;
        }
        if !opts.inactive && !ws.is_active(r, false) {
            continue;
        }
        rows(ws, r, &mut Vec::new(), &mut list);
    }
    let title = if opts.inactive { "Full List of Resources" } else { "Active Resources" };
    if list.is_empty() {
        return vec![text("h2", title), Element::new("ul").with_child(text("li", if opts.inactive { "No resources" } else { "No active resources" }))];
    }
    let mut table = Element::new("table");
    let mut header = Element::new("tr");
    for h in ["Resource", "Part of", "Agent", "Role", "Node(s)", "Flags"] {
        header = header.with_child(text("th", h));
    }
    table = table.with_child(header);
    for (parents, r) in list {
        let res = ws.rsc(r);
        let p = res.primitive().expect("rows only lists primitives");
        let role = res.role.as_str();
        let nodes: Vec<&str> = res.running_on.iter().map(|n| ws.node(*n).uname.as_str()).collect();
        let mut flags = Vec::new();
        if res.flags.orphan {
            flags.push("orphaned");
        }
        if res.flags.failed {
            flags.push("FAILED");
        }
        if res.flags.blocked {
            flags.push("blocked");
        } else if !res.flags.managed {
            flags.push("unmanaged");
        }
        if ws.is_disabled(r) {
            flags.push("disabled");
        }
        if res.flags.failure_ignored {
            flags.push("failure ignored");
        }
        let class = if res.flags.failed {
            "rsc-failed"
        } else if res.flags.failure_ignored {
            "rsc-failure-ignored"
        } else if !res.flags.managed {
            "rsc-managed"
        } else if res.running_on.len() > 1 {
            "rsc-multiple"
        } else {
            "rsc-ok"
        };
        let row = Element::new("tr")
            .with_attr("data-resource", ws.printable_id(r))
            .with_attr("class", class)
            .with_child(text("td", ws.printable_id(r)))
            .with_child(text("td", parents.join(" / ")))
            .with_child(text("td", p.agent_spec()))
            .with_child(text("td", role))
            .with_child(text("td", nodes.join(" ")))
            .with_child(text("td", flags.join(", ")));
        table = table.with_child(row);
    }
    vec![text("h2", title), table]
}

fn attributes(snap: &Snapshot) -> Vec<Element> {
    let ws = &snap.ws;
    let mut ul = Element::new("ul");
    let mut any = false;
    for (i, n) in ws.nodes.iter().enumerate() {
        let attrs = snap.display_attrs(pengine::NodeId(i));
        if !n.online || attrs.is_empty() {
            continue;
        }
        any = true;
        let mut inner = Element::new("ul");
        for (k, v) in attrs {
            inner = inner.with_child(text("li", format!("{k}: {v}")));
        }
        ul = ul.with_child(Element::new("li").with_child(span(Some("bold"), format!("Node: {}", n.uname))).with_child(inner));
    }
    if any {
        vec![text("h2", "Node Attributes"), ul]
    } else {
        Vec::new()
    }
}

fn failures(snap: &Snapshot, opts: &Options) -> Vec<Element> {
    let failed = snap.failed_actions();
    if failed.is_empty() {
        return Vec::new();
    }
    let mut ul = Element::new("ul");
    for f in failed {
        ul = ul.with_child(text("li", failed_action_line(snap, f, opts.detail)).with_attr("data-failure", f.op_key.as_str()).with_attr("data-failure-node", snap.ws.node(f.node).uname.as_str()));
    }
    vec![text("h2", "Failed Resource Actions"), ul]
}
