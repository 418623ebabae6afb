//! The typed, read-only view of a CIB, for the policy engine and the
//! tools.
//!
//! # Layout
//!
//! ```text
//!  xml::Document --Cib::from_document--> Cib { crm_config, nodes, resources,
//!   (the truth: edits,                        templates, constraints, rsc/op
//!    serialization)                           defaults, tags, alerts, acls,
//!                                             fencing topology, status }
//! ```
//!
//! - [`score`], [`duration`], [`role`]: the value types (INFINITY
//!   arithmetic, intervals in ms, roles).
//! - [`nvset`], [`rules`]: name/value sets and the rules that guard them.
//! - [`resources`], [`constraints`], [`nodes`], [`status`], and the small
//!   [`tags`], [`alerts`], [`acls`], [`fencing`]: one module per section.
//! - [`names`]: canonical spellings of Heartbeat 2.x option names.
//! - `read` (private): attribute plumbing and `id-ref` resolution.
//!
//! The model is derived from the lossless tree and never written back:
//! change the tree, then build a new model. Every item keeps its `id` and
//! the `line` it came from, so the engine and crm_verify can say what and
//! where. Both dialects are read: Pacemaker's (1.x to 3.x schemas) and
//! Heartbeat 2.x's (`<attributes>` wrappers, underscore names, `from`/`to`
//! constraints, `master_slave`, `have_quorum`, nodes of type `normal`).
//! docs/MODEL.md describes the types and the decisions behind them.

pub mod acls;
pub mod alerts;
pub mod constraints;
pub mod duration;
pub mod error;
pub mod fencing;
pub mod names;
pub mod nodes;
pub mod nvset;
mod read;
pub mod resources;
pub mod role;
pub mod rules;
pub mod score;
pub mod status;
pub mod tags;

pub use acls::Acls;
pub use alerts::Alert;
pub use constraints::{Colocation, Constraints, Location, Order, OrderKind, ResourceSet, RscAction, Ticket};
pub use error::{ModelError, ModelWarning};
pub use fencing::{FencingLevel, FencingTarget};
pub use nodes::{Node, NodeType};
pub use nvset::{by_precedence, NvPair, NvSet, NvSetKind};
pub use resources::{AgentClass, Bundle, CloneResource, Group, Operation, Primitive, Resource, Template};
pub use role::Role;
pub use rules::{Condition, Expression, Rule};
pub use score::Score;
pub use status::{LrmResource, LrmRscOp, NodeState, Status};
pub use tags::Tag;

use crate::version::Version;
use crate::xml::{Document, Element};
use read::{first_attr, opt_string, Reader};

/// Why [`Cib::from_text`] could not build a model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FromTextError {
    #[error("line {}: {}", .0.line, .0.message)]
    Parse(#[from] crate::xml::ParseError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Reads `<status>` into the typed model while the document is parsed
/// ([`Cib::from_text`]): operation records straight from their start
/// tags, then each `lrm_resource` and `node_state` as it closes, none of
/// them left in the tree.
#[derive(Default)]
struct StatusSink {
    node_states: Vec<NodeState>,
    /// The histories of the `node_state` being read.
    resources: Vec<status::LrmResource>,
    /// The records of the `lrm_resource` being read.
    ops: Vec<status::LrmRscOp>,
    warnings: Vec<ModelWarning>,
    failed: Option<ModelError>,
}

impl StatusSink {
    /// Whether `open` (root first) ends at `<cib><status>` and then `path`.
    fn under(open: &[Element], path: &[&str]) -> bool {
        open.len() == 2 + path.len()
            && open[0].name == "cib"
            && open[1].name == "status"
            && open[2..].iter().zip(path).all(|(e, p)| e.name == *p)
    }

    /// Reads a completed element with its own reader (references
    /// resolve within it).
    fn read<'e, T>(&mut self, el: &'e Element, read: impl FnOnce(&mut Reader<'e>, &'e Element) -> Result<T, ModelError>) -> Option<T> {
        let mut r = Reader::new(el);
        let v = read(&mut r, el);
        self.record(v, r)
    }

    fn record<T>(&mut self, read: Result<T, ModelError>, r: Reader<'_>) -> Option<T> {
        self.warnings.extend(r.warnings);
        match read {
            Ok(v) => Some(v),
            Err(e) => {
                self.failed.get_or_insert(e);
                None
            }
        }
    }
}

const HISTORY: &[&str] = &["node_state", "lrm", "lrm_resources", "lrm_resource"];

impl crate::xml::ParseSink for StatusSink {
    fn take_empty(&mut self, open: &[Element], el: &crate::xml::FlatElement<'_>) -> bool {
        if el.name != "lrm_rsc_op" || !StatusSink::under(open, HISTORY) {
            return false;
        }
        if self.failed.is_none() {
            let mut r = Reader::detached();
            let read = status::read_lrm_rsc_op(&mut r, el);
            if let Some(op) = self.record(read, r) {
                self.ops.push(op);
            }
        }
        true
    }

    fn keep(&mut self, open: &[Element], el: Element) -> Option<Element> {
        if self.failed.is_some() {
            return (!StatusSink::under(open, &[])).then_some(el);
        }
        match el.name.as_str() {
            "lrm_rsc_op" if StatusSink::under(open, HISTORY) => {
                if let Some(op) = self.read(&el, |r, el| status::read_lrm_rsc_op(r, el)) {
                    self.ops.push(op);
                }
                None
            }
            "lrm_resource" if StatusSink::under(open, &HISTORY[..3]) => {
                let ops = std::mem::take(&mut self.ops);
                if let Some(res) = self.read(&el, |r, el| status::read_lrm_resource_with(r, el, ops)) {
                    self.resources.push(res);
                }
                None
            }
            "node_state" if StatusSink::under(open, &[]) => {
                let resources = std::mem::take(&mut self.resources);
                if let Some(state) = self.read(&el, |r, el| status::read_node_state_with(r, el, resources)) {
                    self.node_states.extend(state);
                }
                None
            }
            _ => Some(el),
        }
    }
}

/// A whole CIB, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cib {
    pub version: Version,
    /// `validate-with` (absent in Heartbeat 2.x files).
    pub validate_with: Option<String>,
    pub crm_feature_set: Option<String>,
    /// `have-quorum` (Heartbeat: `have_quorum`).
    pub have_quorum: Option<bool>,
    /// `dc-uuid` (Heartbeat: `dc_uuid`).
    pub dc_uuid: Option<String>,
    pub no_quorum_panic: Option<bool>,
    /// crm_simulate's `execution-date`: the "now" the file was captured
    /// for (epoch seconds).
    pub execution_date: Option<i64>,
    /// Heartbeat 2.x: the CCM membership instance.
    pub ccm_transition: Option<u64>,
    /// Heartbeat 2.x: the feature revision the configuration needs.
    pub cib_feature_revision: Option<String>,
    /// `crm_config`'s `cluster_property_set`s.
    pub crm_config: Vec<NvSet>,
    pub nodes: Vec<Node>,
    /// Top-level resources in document order (templates excluded).
    pub resources: Vec<Resource>,
    pub templates: Vec<Template>,
    pub constraints: Constraints,
    /// `rsc_defaults`' meta_attributes sets.
    pub rsc_defaults: Vec<NvSet>,
    /// `op_defaults`' meta_attributes sets.
    pub op_defaults: Vec<NvSet>,
    pub tags: Vec<Tag>,
    pub alerts: Vec<Alert>,
    pub acls: Acls,
    /// `fencing-topology` levels, in document order.
    pub fencing_topology: Vec<FencingLevel>,
    pub status: Status,
    /// What Pacemaker would have logged a complaint about.
    pub warnings: Vec<ModelWarning>,
}

impl Cib {
    /// Builds the model of a parsed document.
    pub fn from_document(doc: &Document) -> Result<Cib, ModelError> {
        Cib::from_element(&doc.root)
    }

    /// The model straight from a CIB's text, for large CIBs whose document
    /// is not needed afterwards (crm_simulate computing a graph): each
    /// `<node_state>` of `<status>` becomes typed as soon as it is parsed
    /// and its tree is dropped, so the operation history — a million
    /// records at 32 nodes x 10,000 resources — never exists as XML
    /// elements nor in the `id-ref` index (docs/SCALE.md). The result is
    /// [`Cib::from_document`]'s, but that an `id-ref` inside a node's
    /// status can only name an element of the same `<node_state>`.
    pub fn from_text(text: &str) -> Result<Cib, FromTextError> {
        Cib::read_status_as_parsed(|keep| Document::parse_with(text, keep))
    }

    /// [`Cib::from_text`] reading from a stream, so that not even the
    /// text is held whole (a 200 MB file otherwise sits beside the model
    /// while it is built). Lines are counted as the stream is read; a
    /// parse error names the line reached.
    pub fn from_reader(source: impl std::io::BufRead) -> Result<Cib, FromTextError> {
        Cib::read_status_as_parsed(|keep| Document::parse_stream_with(source, keep))
    }

    fn read_status_as_parsed(
        parse: impl FnOnce(&mut dyn crate::xml::ParseSink) -> Result<Document, crate::xml::ParseError>,
    ) -> Result<Cib, FromTextError> {
        let mut sink = StatusSink::default();
        let doc = parse(&mut sink)?;
        if let Some(e) = sink.failed {
            return Err(e.into());
        }
        let mut cib = Cib::from_document(&doc)?;
        cib.status.node_states = sink.node_states;
        cib.warnings.append(&mut sink.warnings);
        Ok(cib)
    }

    /// Builds the model from a `<cib>` element.
    pub fn from_element(cib: &Element) -> Result<Cib, ModelError> {
        if cib.name != "cib" {
            return Err(ModelError::NotACib { found: cib.name.clone() });
        }
        let mut r = Reader::new(cib);
        let config = cib.child("configuration");
        fn child<'e>(parent: Option<&'e Element>, name: &str) -> Option<&'e Element> {
            parent.and_then(|p| p.child(name))
        }

        let crm_config = match child(config, "crm_config") {
            Some(s) => NvSet::read_all(&mut r, NvSetKind::ClusterProperty, s)?,
            None => Vec::new(),
        };
        let mut nodes = Vec::new();
        if let Some(s) = child(config, "nodes") {
            for n in s.children_named("node") {
                nodes.push(Node::read(&mut r, n)?);
            }
        }
        let mut resources = Vec::new();
        let mut templates = Vec::new();
        if let Some(s) = child(config, "resources") {
            for el in s.elements() {
                if el.name == "template" {
                    templates.push(Template::read(&mut r, el)?);
                } else if let Some(res) = Resource::read(&mut r, el)? {
                    resources.push(res);
                } else {
                    r.warn(el, format!("ignoring unknown resource type <{}>", el.name));
                }
            }
        }
        let constraints = match child(config, "constraints") {
            Some(s) => Constraints::read(&mut r, s)?,
            None => Constraints::default(),
        };
        let mut rsc_defaults = Vec::new();
        if let Some(s) = child(config, "rsc_defaults") {
            rsc_defaults = NvSet::read_all(&mut r, NvSetKind::Meta, s)?;
        }
        let mut op_defaults = Vec::new();
        if let Some(s) = child(config, "op_defaults") {
            op_defaults = NvSet::read_all(&mut r, NvSetKind::Meta, s)?;
        }
        let tags = match child(config, "tags") {
            Some(s) => s.children_named("tag").map(Tag::read).collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let mut alerts = Vec::new();
        if let Some(s) = child(config, "alerts") {
            for a in s.children_named("alert") {
                alerts.push(Alert::read(&mut r, a)?);
            }
        }
        let acls = child(config, "acls").map(Acls::read).unwrap_or_default();
        let mut fencing_topology = Vec::new();
        if let Some(s) = child(config, "fencing-topology") {
            for l in s.children_named("fencing-level") {
                fencing_topology.push(FencingLevel::read(&mut r, l)?);
            }
        }
        let status = match cib.child("status") {
            Some(s) => Status::read(&mut r, s)?,
            None => Status::default(),
        };

        let have_quorum = match first_attr(cib, &["have-quorum", "have_quorum"]) {
            None => None,
            Some(_) => r.bool_attr(cib, &["have-quorum", "have_quorum"]),
        };
        let no_quorum_panic = r.bool_attr(cib, &["no-quorum-panic"]);
        let execution_date = r.int_attr(cib, &["execution-date"]);
        let ccm_transition = r.int_attr(cib, &["ccm_transition"]);
        Ok(Cib {
            version: Version::of(cib),
            validate_with: opt_string(cib, &["validate-with"]),
            crm_feature_set: opt_string(cib, &["crm_feature_set"]),
            have_quorum,
            dc_uuid: opt_string(cib, &["dc-uuid", "dc_uuid"]),
            no_quorum_panic,
            execution_date,
            ccm_transition,
            cib_feature_revision: opt_string(cib, &["cib_feature_revision"]),
            crm_config,
            nodes,
            resources,
            templates,
            constraints,
            rsc_defaults,
            op_defaults,
            tags,
            alerts,
            acls,
            fencing_topology,
            status,
            warnings: r.warnings,
        })
    }

    /// The top-level resource, or resource nested in a clone, with this id.
    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.iter().find_map(|r| r.find(id))
    }

    /// Every primitive of the configuration (inside groups, clones and
    /// bundles too), in document order.
    pub fn primitives(&self) -> impl Iterator<Item = &Primitive> {
        self.resources.iter().flat_map(|r| r.primitives())
    }

    /// The primitive with this id, wherever it is nested.
    pub fn primitive(&self, id: &str) -> Option<&Primitive> {
        self.primitives().find(|p| p.id == id)
    }

    /// The configured node with this id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The configured node with this uname.
    pub fn node_by_uname(&self, uname: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.uname == uname)
    }
}
