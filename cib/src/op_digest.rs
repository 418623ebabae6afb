//! Operation digests: `op-digest`, `op-restart-digest` and
//! `op-secure-digest` of the status section's `lrm_rsc_op`, computed
//! exactly as Pacemaker 2.1.5 computes them (docs/OP_DIGEST.md).
//!
//! # Layout
//!
//! ```text
//!  cib::model (primitive, op)  --OpParams::from_model-->  OpParams  --op_digest------> "3b5c..."
//!  graph action attributes     --OpParams::from_action-->   |      --only(names)----> restart digest
//!  lrmd request (params, ...)  --OpParams { .. }-------->   |      --without(names)-> secure digest
//!                                                           +--record(agent info)--> what the controller
//!                                                                                    writes in lrm_rsc_op
//! ```
//!
//! A digest is the MD5 of one `<parameters .../>` element holding the
//! operation's parameters as attributes, sorted by name (byte order),
//! written in Pacemaker's compact form with its escaping and framed by a
//! leading space and a trailing newline: the same framing and serializer
//! as the CIB's on-disk digest, so [`crate::store::on_disk_digest`] is
//! reused rather than copied. The parameters are the resource's instance
//! attributes plus the operation's own instance attributes (e.g.
//! `OCF_CHECK_LEVEL`), and for a recurring operation only, its timeout as
//! `CRM_meta_timeout` (ms); every other `CRM_meta_*` and a few
//! bookkeeping names never count.
//!
//! The scheduler (pengine) compares the digest it computes from the
//! configuration with the one recorded in the history to decide whether a
//! resource must be restarted or reloaded; the controller/lrmd records
//! the digest of the parameters it actually ran the agent with. Both use
//! this module, so what one writes the other reads back as "unchanged".

use std::collections::BTreeMap;

use crate::model::duration::parse_msec;
use crate::model::{by_precedence, Cib, NvSet, Operation, Primitive, Resource};
use crate::xml::Element;

/// Pacemaker's default operation timeout (`CRM_DEFAULT_OP_TIMEOUT_S`), ms.
pub const DEFAULT_TIMEOUT_MS: u64 = 20_000;

/// Names that never take part in a digest besides `CRM_meta_*`
/// (Pacemaker's `should_filter_for_digest`): bookkeeping the graph or the
/// history may carry alongside the parameters.
const NEVER_DIGESTED: &[&str] =
    &["id", "crm_feature_set", "op-digest", "on_node", "on_node_uuid", "pcmk_external_ip"];

/// What an operation runs with, as far as its digests are concerned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpParams {
    /// The resource's instance parameters (evaluated for the node), by
    /// name; sorted, which is also the order the digest uses.
    pub params: BTreeMap<String, String>,
    /// The operation's own instance attributes (e.g. `OCF_CHECK_LEVEL`);
    /// they override `params`. Kept apart so a caller can tell which
    /// parameters the agent declares and which the operation adds.
    pub action_params: BTreeMap<String, String>,
    /// 0 for a one-shot operation.
    pub interval_ms: u64,
    /// The operation's timeout; part of the digest of a recurring
    /// operation only (a changed monitor timeout reschedules the monitor).
    pub timeout_ms: u64,
}

impl OpParams {
    /// Parameters given as ordered name/value pairs; a later pair
    /// overrides an earlier one with the same name (as adding an
    /// attribute twice does in Pacemaker).
    pub fn new<N, V>(pairs: impl IntoIterator<Item = (N, V)>, interval_ms: u64, timeout_ms: u64) -> OpParams
    where
        N: Into<String>,
        V: Into<String>,
    {
        let params = pairs.into_iter().map(|(n, v)| (n.into(), v.into())).collect();
        OpParams { params, action_params: BTreeMap::new(), interval_ms, timeout_ms }
    }

    /// From a transition-graph action's attributes (or the parameter table
    /// the controller hands the executor): instance parameters plus
    /// `CRM_meta_*`. Interval and timeout come from `CRM_meta_interval`
    /// and `CRM_meta_timeout`, read as Pacemaker reads them (a missing or
    /// unreadable interval is 0).
    pub fn from_action<'a>(attrs: impl IntoIterator<Item = (&'a str, &'a str)>) -> OpParams {
        let mut out = OpParams::default();
        let mut timeout = None;
        for (name, value) in attrs {
            match name {
                // Already milliseconds: read as a plain number, not a duration.
                "CRM_meta_interval" => out.interval_ms = value.trim().parse().unwrap_or(0),
                "CRM_meta_timeout" => timeout = Some(value.to_string()),
                _ if is_digested_name(name) => {
                    out.params.insert(name.to_string(), value.to_string());
                }
                _ => {}
            }
        }
        out.timeout_ms = timeout.as_deref().and_then(|t| t.trim().parse().ok()).unwrap_or(0);
        // Pacemaker copies the timeout back as written; keep the exact
        // text when it is not the plain number we would write.
        if out.interval_ms > 0 {
            if let Some(t) = timeout.filter(|t| *t != out.timeout_ms.to_string()) {
                out.params.insert(META_TIMEOUT_VERBATIM.to_string(), t);
            }
        }
        out
    }

    /// The `<parameters>` element the digest hashes: attributes sorted by
    /// name, `CRM_meta_timeout` for a recurring operation.
    pub fn digest_element(&self) -> Element {
        self.element_where(|_| true)
    }

    fn element_where(&self, keep: impl Fn(&str) -> bool) -> Element {
        let mut all: BTreeMap<&str, String> = BTreeMap::new();
        for (name, value) in self.params.iter().chain(&self.action_params) {
            if name == META_TIMEOUT_VERBATIM {
                continue;
            }
            if is_digested_name(name) && keep(name) {
                all.insert(name, value.clone());
            }
        }
        if self.interval_ms > 0 && keep("CRM_meta_timeout") {
            let t = self.params.get(META_TIMEOUT_VERBATIM).cloned().unwrap_or_else(|| self.timeout_ms.to_string());
            all.insert("CRM_meta_timeout", t);
        }
        let mut el = Element::new("parameters");
        for (name, value) in all {
            el.set_attr(name, &value);
        }
        el
    }
}

/// Internal key holding a `CRM_meta_timeout` read from an action whose
/// text is not the canonical number (never a real parameter name: it
/// contains a space).
const META_TIMEOUT_VERBATIM: &str = "CRM_meta_timeout verbatim";

fn is_digested_name(name: &str) -> bool {
    !name.starts_with("CRM_meta_") && !NEVER_DIGESTED.contains(&name)
}

/// MD5 (lowercase hex) of a `<parameters>` element, framed as Pacemaker's
/// v1 digest.
pub fn digest_of(parameters: &Element) -> String {
    crate::store::on_disk_digest(parameters)
}

/// `op-digest`: all parameters (Pacemaker's "all parameters" digest).
pub fn op_digest(op: &OpParams) -> String {
    digest_of(&op.digest_element())
}

/// Digest of only the named parameters: `op-restart-digest` when `names`
/// are the parameters an agent cannot reload (the `op-force-restart`
/// list).
pub fn digest_only(op: &OpParams, names: &[&str]) -> String {
    digest_of(&op.element_where(|n| names.contains(&n)))
}

/// `op-secure-digest` as Pacemaker 2.1.5's scheduler recomputes it, to
/// compare with the record when the CIB was sanitized (secrets replaced):
/// all parameters minus the `private` ones (the record's
/// `op-secure-params`), never `CRM_meta_timeout` even for a recurring
/// operation (the controller hashes only parameters the agent declares),
/// and for fence devices minus Pacemaker's own `pcmk_*` device
/// parameters, which agents do not declare either. (Pacemaker 2.1.6
/// changed this recipe for records of feature set 3.16.0 and later; 2.1.5
/// is the reference here, checked with its `crm_resource --digests`.)
pub fn secure_digest(op: &OpParams, private: &[&str], fence_device: bool) -> String {
    let once = OpParams { interval_ms: 0, ..op.clone() };
    digest_of(&once.element_where(|n| !(private.contains(&n) || (fence_device && is_fence_param(n)))))
}

/// Pacemaker's `pcmk_stonith_param`: parameters the fencer itself
/// interprets rather than the fence agent.
pub fn is_fence_param(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "stonith-timeout",
        "provides",
        "pcmk_host_argument",
        "pcmk_host_map",
        "pcmk_host_list",
        "pcmk_host_check",
        "pcmk_delay_max",
        "pcmk_delay_base",
    ];
    if EXACT.contains(&name) {
        return true;
    }
    name.strip_prefix("pcmk_").is_some_and(|rest| {
        ["_action", "_timeout", "_retries"].iter().any(|suffix| rest.ends_with(suffix) && rest.len() > suffix.len())
    })
}

/// The words of an `op-force-restart` / `op-secure-params` list.
pub fn list_words(list: &str) -> Vec<&str> {
    list.split_whitespace().collect()
}

/// One `<parameter>` of an agent's meta-data, as far as digests care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentParam {
    pub name: String,
    /// `reloadable="1"`: a change can be applied by `reload-agent`.
    pub reloadable: bool,
    /// `unique="1"`: pre-OCF-1.1 agents used this to mean "not reloadable".
    pub unique: bool,
    /// `private="1"`: a secret; left out of the secure digest.
    pub private: bool,
}

/// What the agent's meta-data says that the recorded digests depend on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgentInfo {
    /// Parameters in meta-data order.
    pub params: Vec<AgentParam>,
    /// Advertises the `reload-agent` action (OCF 1.1).
    pub reload_agent: bool,
    /// Advertises the legacy `reload` action.
    pub legacy_reload: bool,
}

impl AgentInfo {
    /// Reads an agent's meta-data XML. Errors only when it is not XML.
    pub fn from_metadata(xml: &str) -> Result<AgentInfo, crate::xml::ParseError> {
        let doc = crate::xml::Document::parse(&without_doctype(xml))?;
        let mut info = AgentInfo::default();
        for el in doc.root.descendants() {
            match el.name.as_str() {
                "parameter" if el.attr("name").is_some() => info.params.push(AgentParam {
                    name: el.attr("name").unwrap_or_default().to_string(),
                    reloadable: el.attr("reloadable").is_some_and(is_true),
                    unique: el.attr("unique").is_some_and(is_true),
                    private: el.attr("private").is_some_and(is_true),
                }),
                "action" => match el.attr("name") {
                    Some("reload-agent") => info.reload_agent = true,
                    Some("reload") => info.legacy_reload = true,
                    _ => {}
                },
                _ => {}
            }
        }
        Ok(info)
    }
}

/// Agents' meta-data starts with `<!DOCTYPE resource-agent SYSTEM
/// "ra-api-1.dtd">`, which the CIB parser (rightly, for a CIB) refuses;
/// the declaration says nothing digests need, so it is cut out.
fn without_doctype(xml: &str) -> std::borrow::Cow<'_, str> {
    let Some(start) = xml.find("<!DOCTYPE") else { return xml.into() };
    let rest = &xml[start..];
    let end = match (rest.find('['), rest.find('>')) {
        (Some(b), Some(g)) if b < g => rest.find("]>").map(|e| e + 2),
        (_, g) => g.map(|g| g + 1),
    };
    match end {
        Some(end) => format!("{}{}", &xml[..start], &rest[end..]).into(),
        None => xml.into(),
    }
}

/// Pacemaker's `crm_is_true`.
fn is_true(v: &str) -> bool {
    ["true", "on", "yes", "y", "1"].iter().any(|t| v.eq_ignore_ascii_case(t))
}

/// The digest attributes the controller writes on an `lrm_rsc_op`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recorded {
    /// `op-digest`.
    pub op_digest: String,
    /// `op-force-restart` and `op-restart-digest` (agents that can reload,
    /// one-shot operations only).
    pub restart: Option<(String, String)>,
    /// `op-secure-params`; `" "` when the agent has no private parameter.
    pub secure_params: Option<String>,
    /// `op-secure-digest`, when there are private parameters.
    pub secure_digest: Option<String>,
}

impl Recorded {
    /// The attributes in the order Pacemaker's controller adds them.
    pub fn attrs(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![("op-digest", self.op_digest.clone())];
        if let Some((list, digest)) = &self.restart {
            v.push(("op-force-restart", list.clone()));
            v.push(("op-restart-digest", digest.clone()));
        }
        if let Some(list) = &self.secure_params {
            v.push(("op-secure-params", list.clone()));
        }
        if let Some(d) = &self.secure_digest {
            v.push(("op-secure-digest", d.clone()));
        }
        v
    }
}

/// Actions whose records carry the restart/secure lists (Pacemaker's
/// `crm_op_needs_metadata`); others carry only `op-digest`.
const ACTIONS_WITH_LISTS: &[&str] =
    &["start", "monitor", "promote", "demote", "reload", "reload-agent", "migrate_to", "migrate_from", "notify"];

/// Whether the record of `action` carries the restart/secure lists (so
/// whoever records it needs the agent's meta-data).
pub fn needs_lists(action: &str) -> bool {
    ACTIONS_WITH_LISTS.contains(&action)
}

/// What the controller records for an operation run with `op`:
/// `op-digest` always; for classes with parameters (`ocf`, `stonith`),
/// the listed actions and known meta-data (`agent`), also the restart list
/// and digest (one-shot operations of agents that can reload) and the
/// secure list and digest.
pub fn record(op: &OpParams, action: &str, class_has_params: bool, agent: Option<&AgentInfo>) -> Recorded {
    let mut rec = Recorded { op_digest: op_digest(op), ..Recorded::default() };
    let Some(agent) = agent else { return rec };
    if !class_has_params || !ACTIONS_WITH_LISTS.contains(&action) {
        return rec;
    }
    // Lists are built walking the meta-data backwards (Pacemaker prepends
    // while parsing), and written as " " + " word" per word + " ".
    if op.interval_ms == 0 && (agent.reload_agent || agent.legacy_reload) {
        let restart: Vec<&str> = agent
            .params
            .iter()
            .rev()
            .filter(|p| if agent.reload_agent { !p.reloadable } else { p.unique })
            .map(|p| p.name.as_str())
            .collect();
        // The restart digest holds only listed parameters that were given
        // (never CRM_meta_timeout: one-shot operations have none).
        rec.restart = Some((word_list(&restart), digest_only(op, &restart)));
    }
    let private: Vec<&str> = agent.params.iter().rev().filter(|p| p.private).map(|p| p.name.as_str()).collect();
    if private.is_empty() {
        rec.secure_params = Some(" ".to_string());
    } else {
        // The parameters the agent declares and does not call private,
        // where the operation gives them a value (no timeout).
        let public: Vec<&str> = agent.params.iter().filter(|p| !p.private).map(|p| p.name.as_str()).collect();
        let once = OpParams { interval_ms: 0, ..op.clone() };
        rec.secure_params = Some(word_list(&private));
        rec.secure_digest = Some(digest_only(&once, &public));
    }
    rec
}

/// Pacemaker's list text: `"  a b  "` for words a, b; `""` for none.
fn word_list(words: &[&str]) -> String {
    if words.is_empty() {
        return String::new();
    }
    format!("  {}  ", words.join(" "))
}

/// How [`OpParams::from_model`] treats sets guarded by a rule: the model
/// has no rule evaluator (it needs the node and the time), so the caller
/// decides.
pub type RuleFilter<'f> = &'f dyn Fn(&NvSet) -> bool;

/// Sets without a rule apply; sets with one are skipped. Right wherever
/// the configuration uses no rules in instance attributes.
pub fn unconditional_only(set: &NvSet) -> bool {
    set.is_unconditional()
}

impl OpParams {
    /// The parameters the cluster would run `task` (with `interval_ms`)
    /// of primitive `rsc` with, from the configuration: instance
    /// attributes of the primitive, then of its group/clone ancestors (a
    /// parent's only where the child does not set the name), then the
    /// matching operation's instance attributes; the timeout from the
    /// operation, its meta attributes, `op_defaults`, else 20 s.
    /// `None` when no such primitive exists.
    pub fn from_model(cib: &Cib, rsc: &str, task: &str, interval_ms: u64, applies: RuleFilter<'_>) -> Option<OpParams> {
        let (prim, ancestors) = find_with_ancestors(cib, rsc)?;
        Some(OpParams::from_found(cib, prim, &ancestors, task, interval_ms, applies))
    }

    /// [`OpParams::from_model`] finding the primitive through an index
    /// built once (the scheduler asks for every recorded operation).
    pub fn from_index(cib: &Cib, index: &PrimitiveIndex<'_>, rsc: &str, task: &str, interval_ms: u64, applies: RuleFilter<'_>) -> Option<OpParams> {
        let (prim, ancestors) = index.get(rsc)?;
        Some(OpParams::from_found(cib, prim, ancestors, task, interval_ms, applies))
    }

    fn from_found(cib: &Cib, prim: &Primitive, ancestors: &[&Resource], task: &str, interval_ms: u64, applies: RuleFilter<'_>) -> OpParams {
        let mut params = BTreeMap::new();
        fill_first_wins(&mut params, &prim.instance_attributes, applies);
        for a in ancestors.iter().rev() {
            fill_first_wins(&mut params, a.instance_attributes(), applies);
        }
        let op = find_operation(prim, task, interval_ms);
        let mut action_params = BTreeMap::new();
        if let Some(op) = op {
            fill_first_wins(&mut action_params, &op.instance_attributes, applies);
        }
        let timeout_ms = op.and_then(|o| op_timeout(o, applies)).or_else(|| defaults_timeout(cib, applies));
        OpParams { params, action_params, interval_ms, timeout_ms: timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS) }
    }
}

/// Pacemaker's `populate_hash` without overwrite: sets by precedence,
/// the first value of a name wins, and a value `#default` (any case)
/// removes whatever an earlier set gave, so the name falls back to the
/// agent's default.
fn fill_first_wins(params: &mut BTreeMap<String, String>, sets: &[NvSet], applies: RuleFilter<'_>) {
    for set in by_precedence(sets, None).into_iter().filter(|s| applies(s)) {
        for p in &set.pairs {
            let Some(v) = &p.value else { continue };
            if v.eq_ignore_ascii_case("#default") {
                params.remove(&p.name);
            } else {
                params.entry(p.name.clone()).or_insert_with(|| v.clone());
            }
        }
    }
}

/// The configured operation for (task, interval): Pacemaker matches the
/// name and the interval (`monitor` with interval 0 is a probe and
/// matches a configured interval-0 monitor only).
pub fn find_operation<'p>(prim: &'p Primitive, task: &str, interval_ms: u64) -> Option<&'p Operation> {
    prim.operations.iter().find(|o| o.name == task && o.interval_ms == interval_ms && o.enabled != Some(false))
        .or_else(|| prim.operations.iter().find(|o| o.name == task && o.interval_ms == interval_ms))
}

fn op_timeout(op: &Operation, applies: RuleFilter<'_>) -> Option<u64> {
    op.timeout_ms.or_else(|| meta_timeout(&op.meta_attributes, applies))
}

fn defaults_timeout(cib: &Cib, applies: RuleFilter<'_>) -> Option<u64> {
    meta_timeout(&cib.op_defaults, applies)
}

fn meta_timeout(sets: &[NvSet], applies: RuleFilter<'_>) -> Option<u64> {
    by_precedence(sets, None)
        .into_iter()
        .filter(|s| applies(s))
        .find_map(|s| s.get("timeout").and_then(|p| p.value.as_deref()))
        .and_then(parse_msec)
}

/// Every primitive of a configuration by id, with the resources that
/// contain it (outermost first): what [`find_with_ancestors`] finds, the
/// first in document order, without a search per lookup.
#[derive(Debug, Default)]
pub struct PrimitiveIndex<'c> {
    by_id: std::collections::HashMap<&'c str, (&'c Primitive, Vec<&'c Resource>)>,
}

impl<'c> PrimitiveIndex<'c> {
    pub fn new(cib: &'c Cib) -> PrimitiveIndex<'c> {
        fn add<'c>(r: &'c Resource, path: &mut Vec<&'c Resource>, index: &mut PrimitiveIndex<'c>) {
            let mut insert = |p: &'c Primitive, path: &Vec<&'c Resource>| {
                index.by_id.entry(p.id.as_str()).or_insert_with(|| (p, path.clone()));
            };
            match r {
                Resource::Primitive(p) => insert(p, path),
                Resource::Group(g) => {
                    path.push(r);
                    for p in &g.children {
                        insert(p, path);
                    }
                    path.pop();
                }
                Resource::Clone(c) => {
                    path.push(r);
                    add(&c.child, path, index);
                    path.pop();
                }
                Resource::Bundle(b) => {
                    if let Some(p) = &b.primitive {
                        path.push(r);
                        insert(p, path);
                        path.pop();
                    }
                }
            }
        }
        let mut index = PrimitiveIndex::default();
        for r in &cib.resources {
            add(r, &mut Vec::new(), &mut index);
        }
        index
    }

    /// The primitive `rsc` (a clone instance suffix `:N` is ignored) and
    /// its ancestors.
    pub fn get(&self, rsc: &str) -> Option<(&'c Primitive, &[&'c Resource])> {
        let id = rsc.split_once(':').map_or(rsc, |(base, _)| base);
        self.by_id.get(id).map(|(p, path)| (*p, path.as_slice()))
    }
}

/// The primitive `rsc` (a clone instance suffix `:N` is ignored) and the
/// resources that contain it, outermost first.
fn find_with_ancestors<'c>(cib: &'c Cib, rsc: &str) -> Option<(&'c Primitive, Vec<&'c Resource>)> {
    let id = rsc.split_once(':').map_or(rsc, |(base, _)| base);
    fn walk<'c>(r: &'c Resource, id: &str, path: &mut Vec<&'c Resource>) -> Option<&'c Primitive> {
        match r {
            Resource::Primitive(p) => (p.id == id).then_some(p),
            Resource::Group(g) => {
                let p = g.children.iter().find(|p| p.id == id)?;
                path.push(r);
                Some(p)
            }
            Resource::Clone(c) => {
                path.push(r);
                let found = walk(&c.child, id, path);
                if found.is_none() {
                    path.pop();
                }
                found
            }
            Resource::Bundle(b) => {
                let p = b.primitive.as_ref().filter(|p| p.id == id)?;
                path.push(r);
                Some(p)
            }
        }
    }
    for r in &cib.resources {
        let mut path = Vec::new();
        if let Some(p) = walk(r, id, &mut path) {
            return Some((p, path));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md5_of(text: &str) -> String {
        crate::store::digest::md5_hex(text)
    }

    #[test]
    fn empty_parameters_digest_like_pacemaker() {
        // The digest of a Dummy with no parameters, found throughout the suite.
        assert_eq!(op_digest(&OpParams::default()), "f2317cad3d54cec5d7d7aa7d0bf35cf8");
        assert_eq!(op_digest(&OpParams::default()), md5_of(" <parameters/>\n"));
    }

    #[test]
    fn sorted_filtered_and_timeout_for_recurring_only() {
        let pairs = [("zeta", "1"), ("CRM_meta_name", "monitor"), ("alpha", "a&b"), ("on_node", "n1")];
        let once = OpParams::new(pairs, 0, 30_000);
        assert_eq!(op_digest(&once), md5_of(" <parameters alpha=\"a&amp;b\" zeta=\"1\"/>\n"));
        let rec = OpParams::new(pairs, 10_000, 30_000);
        assert_eq!(op_digest(&rec), md5_of(" <parameters CRM_meta_timeout=\"30000\" alpha=\"a&amp;b\" zeta=\"1\"/>\n"));
    }

    #[test]
    fn later_pairs_override_earlier() {
        let a = OpParams::new([("x", "1"), ("x", "2")], 0, 0);
        assert_eq!(op_digest(&a), op_digest(&OpParams::new([("x", "2")], 0, 0)));
    }

    #[test]
    fn from_action_reads_graph_attributes() {
        let op = OpParams::from_action([
            ("CRM_meta_interval", "10000"),
            ("CRM_meta_timeout", "20000"),
            ("CRM_meta_on_node", "n1"),
            ("state", "/x"),
        ]);
        assert_eq!(op, OpParams::new([("state", "/x")], 10_000, 20_000));
        // An odd timeout text is hashed as written.
        let odd = OpParams::from_action([("CRM_meta_interval", "1000"), ("CRM_meta_timeout", "020000")]);
        assert_eq!(op_digest(&odd), md5_of(" <parameters CRM_meta_timeout=\"020000\"/>\n"));
    }

    #[test]
    fn restart_and_secure_subsets() {
        let op = OpParams::new([("state", "s"), ("fake", "f"), ("passwd", "p")], 0, 20_000);
        assert_eq!(digest_only(&op, &["state", "passwd", "absent"]), md5_of(" <parameters passwd=\"p\" state=\"s\"/>\n"));
        let rec = OpParams { interval_ms: 10_000, ..op.clone() };
        assert_eq!(secure_digest(&rec, &["passwd"], false), md5_of(" <parameters fake=\"f\" state=\"s\"/>\n"));
        let fence = OpParams::new([("pcmk_host_list", "n1"), ("ipaddr", "x"), ("pcmk_reboot_action", "off")], 0, 0);
        assert_eq!(secure_digest(&fence, &[], true), md5_of(" <parameters ipaddr=\"x\"/>\n"));
        assert!(is_fence_param("pcmk_monitor_timeout") && !is_fence_param("pcmk_timeout"));
        assert_eq!(list_words("  passwd  user "), vec!["passwd", "user"]);
    }

    const META: &str = r#"<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="Dummy" version="1.0">
 <parameters>
  <parameter name="state" unique="1"><content type="string"/></parameter>
  <parameter name="passwd" private="1"><content type="string"/></parameter>
  <parameter name="fake" reloadable="1"><content type="string"/></parameter>
 </parameters>
 <actions><action name="start"/><action name="reload-agent"/><action name="reload"/></actions>
</resource-agent>"#;

    #[test]
    fn controller_record_lists_and_digests() {
        let info = AgentInfo::from_metadata(META).unwrap();
        assert!(info.reload_agent && info.legacy_reload);
        let op = OpParams::new([("state", "s"), ("fake", "f"), ("passwd", "p")], 0, 20_000);
        let rec = record(&op, "start", true, Some(&info));
        assert_eq!(rec.restart, Some(("  passwd state  ".to_string(), md5_of(" <parameters passwd=\"p\" state=\"s\"/>\n"))));
        assert_eq!(rec.secure_params.as_deref(), Some("  passwd  "));
        assert_eq!(rec.secure_digest, Some(md5_of(" <parameters fake=\"f\" state=\"s\"/>\n")));
        // Recurring: no restart list; the secure digest has no timeout
        // (nor undeclared parameters).
        let mut mon = OpParams { interval_ms: 10_000, ..op.clone() };
        mon.params.insert("undeclared".into(), "u".into());
        let rec = record(&mon, "monitor", true, Some(&info));
        assert_eq!(rec.restart, None);
        assert_eq!(rec.secure_digest, Some(md5_of(" <parameters fake=\"f\" state=\"s\"/>\n")));
        // Stop and classes without parameters: only op-digest.
        assert_eq!(record(&op, "stop", true, Some(&info)).attrs().len(), 1);
        assert_eq!(record(&op, "start", false, Some(&info)).attrs().len(), 1);
    }
}
