//! Stage 3: location constraints (Pacemaker's `unpack_rsc_location` and
//! `pcmk__apply_location`).
//!
//! A constraint names a resource (or a tag of resources, or resource
//! sets) and either a node with a score or rules that score nodes
//! (`score`, or `score-attribute` read from each node). A `role` limits
//! it to resources whose next role is that role; `<lifetime>` rules
//! (Heartbeat 2.x) switch the whole constraint off when they do not match.
//!
//! On a colocated group the constraint scores the group and its first
//! member; later members get entries with score 0, since the first
//! member's scores already stand for the whole group.

use cib::model::{Location, Role, Rule, Score};

use crate::rules::{all_match, rule_matches, RuleInput};
use crate::schedule::Scheduler;
use crate::working_set::{NodeId, RscId, Variant};

/// A location constraint made concrete: scores per node.
struct NodeScores {
    /// What `--explain` calls it.
    label: String,
    role: Option<Role>,
    scores: Vec<(NodeId, Score)>,
}

impl Scheduler<'_> {
    /// Node health (`pcmk__apply_node_health`): the sum of a node's
    /// `#health-*` attributes (red, yellow and green scored by the
    /// strategy, numbers as written) scores every resource there, except
    /// that a negative sum spares resources with `allow-unhealthy-nodes`.
    pub(crate) fn apply_node_health(&mut self) {
        use crate::options::HealthStrategy;
        let o = &self.ws.options;
        if o.node_health_strategy == HealthStrategy::None {
            return;
        }
        let base = if matches!(o.node_health_strategy, HealthStrategy::Progressive | HealthStrategy::Custom) { o.node_health_base } else { Score::ZERO };
        let (red, yellow, green) = (o.node_health_red, o.node_health_yellow, o.node_health_green);
        for n in 0..self.ws.nodes.len() {
            let mut health = base;
            for (k, v) in &self.ws.nodes[n].attrs {
                if !k.starts_with("#health") {
                    continue;
                }
                health += match v.to_ascii_lowercase().as_str() {
                    "red" => red,
                    "yellow" => yellow,
                    "green" => green,
                    _ => Score::parse(v),
                };
            }
            if health.value() == 0 {
                continue;
            }
            for top in self.ws.top_level.clone() {
                if health.value() < 0 && crate::nvsets::is_true(self.ws.rsc(top).meta("allow-unhealthy-nodes")) {
                    continue;
                }
                self.apply_location(top, &NodeScores { label: String::new(), role: None, scores: vec![(NodeId(n), health)] });
            }
            self.note(|s| format!("node health of {}", s.ws.nodes[n].uname));
        }
    }

    /// Applies every `rsc_location` of the configuration.
    pub(crate) fn apply_locations(&mut self) {
        let cib = self.cib;
        for loc in &cib.constraints.locations {
            if !loc.lifetime.is_empty() && !all_match(loc.lifetime.iter(), &RuleInput { now: self.ws.now, ..Default::default() }) {
                continue;
            }
            let targets = self.location_targets(loc);
            for rsc in targets {
                for ns in self.location_scores(loc) {
                    if ns.role == Some(Role::Promoted) {
                        self.promoted_locations.entry(rsc).or_default().extend(ns.scores.iter().copied());
                    }
                    self.apply_location(rsc, &ns);
                    self.note(|_| ns.label.clone());
                }
            }
        }
    }

    /// The resources a constraint is about: `rsc` (a resource or a tag)
    /// and the resources of its sets.
    fn location_targets(&self, loc: &Location) -> Vec<RscId> {
        let mut names: Vec<&str> = Vec::new();
        if let Some(r) = &loc.rsc {
            names.push(r);
        }
        for set in &loc.sets {
            names.extend(set.resources.iter().map(String::as_str));
        }
        let mut out = Vec::new();
        for name in names {
            out.extend(self.expand_resource_ref(name));
        }
        out
    }

    /// A resource id, or the resources a tag refers to.
    pub(crate) fn expand_resource_ref(&self, name: &str) -> Vec<RscId> {
        if let Some(r) = self.find_configured(name) {
            return vec![r];
        }
        if let Some(tag) = self.cib.tags.iter().find(|t| t.id == name) {
            return tag.refs.iter().flat_map(|n| self.expand_resource_ref(n)).collect();
        }
        // A template stands for every primitive made from it.
        if self.cib.templates.iter().any(|t| t.id == name) {
            let mut out = Vec::new();
            collect_from_template(&self.cib.resources, name, &mut out);
            return out.iter().filter_map(|id| self.find_configured(id)).collect();
        }
        Vec::new()
    }

    /// A configured (not instance) resource by id.
    pub(crate) fn find_configured(&self, id: &str) -> Option<RscId> {
        self.configured.get(id).copied()
    }

    /// The node scores of a constraint: its node and score, or one set
    /// per rule.
    fn location_scores(&self, loc: &Location) -> Vec<NodeScores> {
        let mut out = Vec::new();
        if let (Some(node), Some(score)) = (&loc.node, loc.score) {
            if let Some(n) = self.ws.node_by_uname(node) {
                out.push(NodeScores { label: format!("rsc_location {}", loc.id), role: loc.role, scores: vec![(n, score)] });
            }
            return out;
        }
        for rule in &loc.rules {
            let Some(rule) = self.resolve_rule(rule) else { continue };
            let mut scores = Vec::new();
            for (i, node) in self.ws.nodes.iter().enumerate() {
                let input = RuleInput { now: self.ws.now, node_attrs: Some(&node.attrs), ..Default::default() };
                if !rule_matches(rule, &input) {
                    continue;
                }
                let score = match (&rule.score_attribute, rule.score) {
                    (Some(attr), _) => match node.attr(attr) {
                        Some(v) => Score::parse(v),
                        None => Score::MINUS_INFINITY,
                    },
                    (None, Some(s)) => s,
                    // A rule without a score takes the constraint's.
                    (None, None) => loc.score.unwrap_or(Score::ZERO),
                };
                scores.push((NodeId(i), score));
            }
            out.push(NodeScores { label: format!("rsc_location {} rule {}", loc.id, rule.id), role: rule.role.or(loc.role), scores });
        }
        out
    }

    /// A rule, or the rule an `id-ref` names.
    fn resolve_rule<'r>(&'r self, rule: &'r Rule) -> Option<&'r Rule> {
        match &rule.id_ref {
            None => Some(rule),
            Some(id) => self.cib.constraints.locations.iter().flat_map(|l| l.rules.iter()).find(|r| &r.id == id && r.id_ref.is_none()),
        }
    }

    fn apply_location(&mut self, rsc: RscId, ns: &NodeScores) {
        match self.ws.rsc(rsc).variant {
            Variant::Group => {
                self.apply_location_one(rsc, ns);
                let colocated = self.group_colocated(rsc);
                let members = self.ws.rsc(rsc).children.clone();
                let zeroed = NodeScores { label: ns.label.clone(), role: ns.role, scores: ns.scores.iter().map(|(n, _)| (*n, Score::ZERO)).collect() };
                for (i, m) in members.into_iter().enumerate() {
                    let use_zero = colocated && i > 0;
                    self.apply_location(m, if use_zero { &zeroed } else { ns });
                }
            }
            Variant::Clone(_) => {
                self.apply_location_one(rsc, ns);
                for c in self.ws.rsc(rsc).children.clone() {
                    self.apply_location(c, ns);
                }
            }
            _ => self.apply_location_one(rsc, ns),
        }
    }

    fn apply_location_one(&mut self, rsc: RscId, ns: &NodeScores) {
        if let Some(role) = ns.role {
            // "Started" limits nothing (it is any active role).
            if role != Role::Started && role != Role::Unknown && role != self.ws.rsc(rsc).next_role {
                return;
            }
        }
        for (node, score) in &ns.scores {
            let e = self.ws.resources[rsc.0].allowed_nodes.entry(*node);
            match e {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(*score);
                }
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    *o.get_mut() += *score;
                }
            }
        }
    }

    /// A group's members are colocated unless `collocated=false`.
    pub(crate) fn group_colocated(&self, group: RscId) -> bool {
        self.ws.rsc(group).meta("collocated").is_none_or(|v| crate::nvsets::is_true(Some(v)))
    }
}

/// Ids of the configured primitives made from a template.
fn collect_from_template(rscs: &[cib::model::Resource], template: &str, out: &mut Vec<String>) {
    use cib::model::Resource as R;
    for r in rscs {
        match r {
            R::Primitive(p) if p.template.as_deref() == Some(template) => out.push(p.id.clone()),
            R::Group(g) => {
                for p in &g.children {
                    if p.template.as_deref() == Some(template) {
                        out.push(p.id.clone());
                    }
                }
            }
            R::Clone(c) => collect_from_template(std::slice::from_ref(&c.child), template, out),
            _ => {}
        }
    }
}
