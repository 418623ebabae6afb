//! Writing a transition graph in Pacemaker's exact text.
//!
//! The layout is Pacemaker's formatted XML (two spaces per level, `/>` for
//! empty elements, a final newline), plus two quirks of the graphs in its
//! regression suite, whose writer output had two attributes filtered out
//! with the spaces around them left behind:
//!
//! - `<transition_graph>`: where `batch-limit` belongs (after
//!   `failed-start-offset`) an absent `batch-limit` leaves a second space:
//!   `failed-start-offset="INFINITY"  transition_id="0"`;
//! - `<attributes>`: the pairs are sorted by name (byte order) and, where
//!   `crm_feature_set` would sort, an absent `crm_feature_set` leaves a
//!   space: `CRM_meta_timeout="20000"  target_role="started"`, or
//!   `CRM_meta_timeout="20000" />` when it would be last.
//!
//! With the attribute present, each is written in its place with single
//! spaces, which is Pacemaker's unfiltered form.

use cib::xml::write::Escaping;
use crate::graph::{Action, ActionHeader, Attributes, Resource, Synapse, TransitionGraph};

/// The attribute whose absence leaves a gap in `<attributes>`.
const FEATURE_SET: &str = "crm_feature_set";

impl TransitionGraph {
    /// The graph as Pacemaker writes it (no XML declaration, final newline).
    pub fn to_xml(&self) -> String {
        let mut w = Writer { out: String::new() };
        w.graph(self);
        w.out
    }
}

struct Writer {
    out: String,
}

impl Writer {
    fn indent(&mut self, level: usize) {
        for _ in 0..level {
            self.out.push_str("  ");
        }
    }

    fn attr(&mut self, name: &str, value: &str) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        cib::xml::write::escape_attr(&mut self.out, value, Escaping::Lossless);
        self.out.push('"');
    }

    fn opt_attr(&mut self, name: &str, value: &Option<String>) {
        if let Some(v) = value {
            self.attr(name, v);
        }
    }

    fn graph(&mut self, g: &TransitionGraph) {
        let a = &g.attrs;
        self.out.push_str("<transition_graph");
        self.attr("cluster-delay", &a.cluster_delay);
        self.opt_attr("stonith-timeout", &a.stonith_timeout);
        self.opt_attr("failed-stop-offset", &a.failed_stop_offset);
        self.opt_attr("failed-start-offset", &a.failed_start_offset);
        match a.batch_limit {
            Some(limit) => self.attr("batch-limit", &limit.to_string()),
            None => self.out.push(' '),
        }
        self.attr("transition_id", &a.transition_id.to_string());
        self.opt_attr("migration-limit", &a.migration_limit);
        self.opt_attr("recheck-by", &a.recheck_by);
        for (n, v) in &a.extra {
            self.attr(n, v);
        }
        if g.synapses.is_empty() {
            self.out.push_str("/>\n");
            return;
        }
        self.out.push_str(">\n");
        for s in &g.synapses {
            self.synapse(s);
        }
        self.out.push_str("</transition_graph>\n");
    }

    fn synapse(&mut self, s: &Synapse) {
        self.indent(1);
        self.out.push_str("<synapse");
        self.attr("id", &s.id.to_string());
        if s.priority > 0 {
            self.attr("priority", &s.priority.to_string());
        }
        self.out.push_str(">\n");

        self.indent(2);
        if s.actions.is_empty() {
            self.out.push_str("<action_set/>\n");
        } else {
            self.out.push_str("<action_set>\n");
            for a in &s.actions {
                self.action(a, 3);
            }
            self.indent(2);
            self.out.push_str("</action_set>\n");
        }

        self.indent(2);
        if s.inputs.is_empty() {
            self.out.push_str("<inputs/>\n");
        } else {
            self.out.push_str("<inputs>\n");
            for input in &s.inputs {
                self.indent(3);
                self.out.push_str("<trigger>\n");
                self.header(input, &[], None, 4);
                self.out.push_str("/>\n");
                self.indent(3);
                self.out.push_str("</trigger>\n");
            }
            self.indent(2);
            self.out.push_str("</inputs>\n");
        }
        self.indent(1);
        self.out.push_str("</synapse>\n");
    }

    /// Writes `<kind attrs...` without closing the start tag.
    fn header(
        &mut self,
        h: &ActionHeader,
        extra: &[(String, String)],
        shutdown_lock: Option<&String>,
        level: usize,
    ) {
        self.indent(level);
        self.out.push('<');
        self.out.push_str(h.kind.element_name());
        self.opt_attr("mode", &h.mode);
        self.attr("id", &h.id.to_string());
        self.attr("operation", &h.operation);
        self.attr("operation_key", &h.operation_key);
        self.opt_attr("internal_operation_key", &h.internal_operation_key);
        self.opt_attr("on_node", &h.on_node);
        self.opt_attr("on_node_uuid", &h.on_node_uuid);
        self.opt_attr("router_node", &h.router_node);
        if let Some(lock) = shutdown_lock {
            self.attr("shutdown-lock", lock);
        }
        for (n, v) in extra {
            self.attr(n, v);
        }
    }

    fn action(&mut self, a: &Action, level: usize) {
        self.header(&a.header, &a.extra, a.shutdown_lock.as_ref(), level);
        self.out.push_str(">\n");
        if let Some(r) = &a.resource {
            self.resource(r, level + 1);
        }
        self.attributes(&a.attributes, level + 1);
        if let Some(downed) = &a.downed {
            self.node_list("downed", downed.iter().map(|id| (id, None)), level + 1);
        }
        if let Some(maint) = &a.maintenance {
            self.node_list(
                "maintenance",
                maint.iter().map(|(id, m)| (id, m.as_ref())),
                level + 1,
            );
        }
        self.indent(level);
        self.out.push_str("</");
        self.out.push_str(a.header.kind.element_name());
        self.out.push_str(">\n");
    }

    fn resource(&mut self, r: &Resource, level: usize) {
        self.indent(level);
        self.out.push('<');
        self.out.push_str(&r.element);
        self.attr("id", &r.id);
        self.opt_attr("long-id", &r.long_id);
        self.opt_attr("class", &r.class);
        self.opt_attr("provider", &r.provider);
        self.opt_attr("type", &r.agent);
        self.out.push_str("/>\n");
    }

    fn attributes(&mut self, attrs: &Attributes, level: usize) {
        let (params, mut plain): (Vec<_>, Vec<_>) = attrs
            .pairs
            .iter()
            .partition(|(n, _)| Attributes::is_param_name(n));
        plain.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let has_feature_set = plain.iter().any(|(n, _)| n == FEATURE_SET);

        self.indent(level);
        self.out.push_str("<attributes");
        let mut gap_written = has_feature_set;
        for (n, v) in plain {
            if !gap_written && n.as_bytes() > FEATURE_SET.as_bytes() {
                self.out.push(' ');
                gap_written = true;
            }
            self.attr(n, v);
        }
        if !gap_written {
            self.out.push(' ');
        }
        if params.is_empty() {
            self.out.push_str("/>\n");
            return;
        }
        self.out.push_str(">\n");
        for (n, v) in params {
            self.indent(level + 1);
            self.out.push_str("<param");
            self.attr("name", n);
            self.attr("value", v);
            self.out.push_str("/>\n");
        }
        self.indent(level);
        self.out.push_str("</attributes>\n");
    }

    fn node_list<'a>(
        &mut self,
        tag: &str,
        nodes: impl Iterator<Item = (&'a String, Option<&'a String>)>,
        level: usize,
    ) {
        let nodes: Vec<_> = nodes.collect();
        self.indent(level);
        self.out.push('<');
        self.out.push_str(tag);
        if nodes.is_empty() {
            self.out.push_str("/>\n");
            return;
        }
        self.out.push_str(">\n");
        for (id, maint) in nodes {
            self.indent(level + 1);
            self.out.push_str("<node");
            self.attr("id", id);
            if let Some(m) = maint {
                self.attr("node_in_maintenance", m);
            }
            self.out.push_str("/>\n");
        }
        self.indent(level);
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push_str(">\n");
    }
}

