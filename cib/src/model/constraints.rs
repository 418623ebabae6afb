//! Constraints: location, colocation, ordering and ticket dependencies.
//!
//! Heartbeat 2.x / Pacemaker 0.6 wrote colocations and orderings with
//! `from` / `to`; they are presented in the current form, converted as
//! Pacemaker 1.0's upgrade did:
//! - colocation: `from` -> `rsc`, `to` -> `with-rsc`, `from_role` ->
//!   `rsc-role`, `to_role` -> `with-rsc-role`, `node_attribute` ->
//!   `node-attribute` ("place `from` where `to` is");
//! - ordering, read "`action` `from` `type` `to_action` `to`"
//!   (`type` defaults to `after`): with `type="before"`, `from`/`action`
//!   come first and `to`/`to_action` then; with `after`, `to`/`to_action`
//!   (or `action`, or start) come first and `from`/`action` (or start)
//!   then.
//!
//! Their `heartbeat_form` field says when this conversion happened.

use super::error::ModelError;
use super::read::{first_attr, opt_string, required, required_id, score_attr, Reader};
use super::role::Role;
use super::rules::Rule;
use super::score::Score;
use crate::xml::Element;

/// All constraints, by kind, each list in document order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Constraints {
    pub locations: Vec<Location>,
    pub colocations: Vec<Colocation>,
    pub orders: Vec<Order>,
    pub tickets: Vec<Ticket>,
}

/// An action a constraint can order or colocate by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RscAction {
    Start,
    Stop,
    Promote,
    Demote,
}

impl RscAction {
    pub fn parse(text: &str) -> Option<RscAction> {
        Some(match text.to_ascii_lowercase().as_str() {
            "start" => RscAction::Start,
            "stop" => RscAction::Stop,
            "promote" => RscAction::Promote,
            "demote" => RscAction::Demote,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RscAction::Start => "start",
            RscAction::Stop => "stop",
            RscAction::Promote => "promote",
            RscAction::Demote => "demote",
        }
    }
}

/// `kind` of an ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    Optional,
    Mandatory,
    Serialize,
}

impl OrderKind {
    pub fn parse(text: &str) -> Option<OrderKind> {
        Some(match text.to_ascii_lowercase().as_str() {
            "optional" => OrderKind::Optional,
            "mandatory" => OrderKind::Mandatory,
            "serialize" => OrderKind::Serialize,
            _ => return None,
        })
    }
}

/// `resource-discovery` of a location constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discovery {
    Always,
    Never,
    Exclusive,
}

/// `loss-policy` of a ticket constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossPolicy {
    Stop,
    Demote,
    Fence,
    Freeze,
}

/// `ordering` of a resource set (deprecated, but read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOrdering {
    Group,
    Listed,
}

/// `<resource_set>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSet {
    pub id: String,
    pub line: u32,
    pub id_ref: Option<String>,
    pub sequential: Option<bool>,
    pub require_all: Option<bool>,
    pub ordering: Option<SetOrdering>,
    pub action: Option<RscAction>,
    pub role: Option<Role>,
    pub score: Option<Score>,
    pub kind: Option<OrderKind>,
    /// The `resource_ref` ids, in order (resources or tags).
    pub resources: Vec<String>,
}

/// `<rsc_location>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub id: String,
    pub line: u32,
    /// The resource (or tag); `None` with `rsc_pattern` or sets.
    pub rsc: Option<String>,
    /// `rsc-pattern`: a regular expression over resource ids.
    pub rsc_pattern: Option<String>,
    pub sets: Vec<ResourceSet>,
    pub role: Option<Role>,
    /// With `score`: the node the score applies to.
    pub node: Option<String>,
    pub score: Option<Score>,
    /// Alternatively, rules that score nodes.
    pub rules: Vec<Rule>,
    /// Heartbeat 2.x / Pacemaker 1.0 `<lifetime>` rules.
    pub lifetime: Vec<Rule>,
    pub resource_discovery: Option<Discovery>,
}

/// `<rsc_colocation>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Colocation {
    pub id: String,
    pub line: u32,
    /// `None` only when written without one (Pacemaker then refuses the
    /// constraint unless its sets carry scores).
    pub score: Option<Score>,
    /// The dependent resource: placed relative to `with_rsc`.
    pub rsc: Option<String>,
    pub with_rsc: Option<String>,
    pub rsc_role: Option<Role>,
    pub with_rsc_role: Option<Role>,
    pub rsc_instance: Option<u32>,
    pub with_rsc_instance: Option<u32>,
    pub node_attribute: Option<String>,
    pub influence: Option<bool>,
    pub sets: Vec<ResourceSet>,
    pub lifetime: Vec<Rule>,
    /// Written with Heartbeat's `from`/`to`.
    pub heartbeat_form: bool,
}

/// `<rsc_order>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: String,
    pub line: u32,
    pub first: Option<String>,
    pub then: Option<String>,
    /// As written (see [`Order::first_action`] for the default).
    pub first_action: Option<RscAction>,
    pub then_action: Option<RscAction>,
    pub first_instance: Option<u32>,
    pub then_instance: Option<u32>,
    pub kind: Option<OrderKind>,
    /// The deprecated way to say the kind (0 = optional, else mandatory).
    pub score: Option<Score>,
    pub symmetrical: Option<bool>,
    pub require_all: Option<bool>,
    pub sets: Vec<ResourceSet>,
    pub lifetime: Vec<Rule>,
    /// Written with Heartbeat's `from`/`to`/`type`.
    pub heartbeat_form: bool,
}

/// `<rsc_ticket>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: String,
    pub line: u32,
    pub ticket: String,
    pub rsc: Option<String>,
    pub rsc_role: Option<Role>,
    pub loss_policy: Option<LossPolicy>,
    pub sets: Vec<ResourceSet>,
}

impl Order {
    /// `first-action`, defaulting to start.
    pub fn first_action(&self) -> RscAction {
        self.first_action.unwrap_or(RscAction::Start)
    }

    /// `then-action`, defaulting to the first action.
    pub fn then_action(&self) -> RscAction {
        self.then_action.unwrap_or_else(|| self.first_action())
    }

    /// The kind, or what the deprecated score implies (as Pacemaker reads
    /// it: 0 is optional, any other score or none is mandatory).
    pub fn effective_kind(&self) -> OrderKind {
        match (self.kind, self.score) {
            (Some(k), _) => k,
            (None, Some(s)) if s == Score::ZERO => OrderKind::Optional,
            _ => OrderKind::Mandatory,
        }
    }
}

const ROLE: &str = "a role";
const ACTION: &str = "start, stop, promote or demote";

fn lifetime<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Vec<Rule>, ModelError> {
    let mut out = Vec::new();
    for l in el.children_named("lifetime") {
        for rule in l.children_named("rule") {
            out.push(Rule::read(r, rule)?);
        }
    }
    Ok(out)
}

fn sets<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Vec<ResourceSet>, ModelError> {
    el.children_named("resource_set").map(|s| ResourceSet::read(r, s)).collect()
}

impl ResourceSet {
    fn read<'a>(r: &mut Reader<'a>, written: &'a Element) -> Result<ResourceSet, ModelError> {
        let (el, id_ref) = r.resolve(written)?;
        Ok(ResourceSet {
            id: required_id(el)?,
            line: el.line,
            id_ref,
            sequential: r.bool_attr(el, &["sequential"]),
            require_all: r.bool_attr(el, &["require-all"]),
            ordering: r.enum_attr(
                el,
                &["ordering"],
                |t| match t {
                    "group" => Some(SetOrdering::Group),
                    "listed" => Some(SetOrdering::Listed),
                    _ => None,
                },
                "group or listed",
            ),
            action: r.enum_attr(el, &["action"], RscAction::parse, ACTION),
            role: r.enum_attr(el, &["role"], Role::parse, ROLE),
            score: score_attr(el, &["score"]),
            kind: r.enum_attr(el, &["kind"], OrderKind::parse, "Optional, Mandatory or Serialize"),
            resources: el.children_named("resource_ref").map(required_id).collect::<Result<_, _>>()?,
        })
    }
}

impl Constraints {
    /// Reads the `<constraints>` section. Unknown elements are skipped
    /// with a warning (the tree keeps them).
    pub(crate) fn read<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Constraints, ModelError> {
        let mut c = Constraints::default();
        for child in el.elements() {
            match child.name.as_str() {
                "rsc_location" => c.locations.push(read_location(r, child)?),
                "rsc_colocation" => c.colocations.push(read_colocation(r, child)?),
                "rsc_order" => c.orders.push(read_order(r, child)?),
                "rsc_ticket" => c.tickets.push(read_ticket(r, child)?),
                other => r.warn(child, format!("ignoring unknown constraint <{other}>")),
            }
        }
        Ok(c)
    }
}

fn read_location<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Location, ModelError> {
    Ok(Location {
        id: required_id(el)?,
        line: el.line,
        rsc: opt_string(el, &["rsc"]),
        rsc_pattern: opt_string(el, &["rsc-pattern"]),
        sets: sets(r, el)?,
        role: r.enum_attr(el, &["role"], Role::parse, ROLE),
        node: opt_string(el, &["node"]),
        score: score_attr(el, &["score"]),
        rules: el.children_named("rule").map(|x| Rule::read(r, x)).collect::<Result<_, _>>()?,
        lifetime: lifetime(r, el)?,
        resource_discovery: r.enum_attr(
            el,
            &["resource-discovery"],
            |t| match t {
                "always" => Some(Discovery::Always),
                "never" => Some(Discovery::Never),
                "exclusive" => Some(Discovery::Exclusive),
                _ => None,
            },
            "always, never or exclusive",
        ),
    })
}

fn read_colocation<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Colocation, ModelError> {
    let heartbeat_form = el.attr("rsc").is_none() && el.attr("from").is_some();
    Ok(Colocation {
        id: required_id(el)?,
        line: el.line,
        score: score_attr(el, &["score"]),
        rsc: opt_string(el, &["rsc", "from"]),
        with_rsc: opt_string(el, &["with-rsc", "to"]),
        rsc_role: r.enum_attr(el, &["rsc-role", "from_role"], Role::parse, ROLE),
        with_rsc_role: r.enum_attr(el, &["with-rsc-role", "to_role"], Role::parse, ROLE),
        rsc_instance: r.int_attr(el, &["rsc-instance"]),
        with_rsc_instance: r.int_attr(el, &["with-rsc-instance"]),
        node_attribute: opt_string(el, &["node-attribute", "node_attribute"]),
        influence: r.bool_attr_or_default(el, &["influence"]),
        sets: sets(r, el)?,
        lifetime: lifetime(r, el)?,
        heartbeat_form,
    })
}

fn read_order<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Order, ModelError> {
    let id = required_id(el)?;
    let mut action = |names: &[&str]| r.enum_attr(el, names, RscAction::parse, ACTION);
    let heartbeat_form = el.attr("first").is_none() && el.attr("from").is_some();
    let (first, then, first_action, then_action) = if heartbeat_form {
        let from = opt_string(el, &["from"]);
        let to = Some(required(el, &["to"])?);
        let hb_action = action(&["action"]);
        let hb_to_action = action(&["to_action"]);
        let before = first_attr(el, &["type"]).is_some_and(|t| t.contains("before"));
        if before {
            (from, to, hb_action, hb_to_action)
        } else {
            let start = Some(RscAction::Start);
            (to, from, hb_to_action.or(hb_action).or(start), hb_action.or(start))
        }
    } else {
        (
            opt_string(el, &["first"]),
            opt_string(el, &["then"]),
            action(&["first-action"]),
            action(&["then-action"]),
        )
    };
    Ok(Order {
        id,
        line: el.line,
        first,
        then,
        first_action,
        then_action,
        first_instance: r.int_attr(el, &["first-instance"]),
        then_instance: r.int_attr(el, &["then-instance"]),
        kind: r.enum_attr(el, &["kind"], OrderKind::parse, "Optional, Mandatory or Serialize"),
        score: score_attr(el, &["score"]),
        symmetrical: r.bool_attr(el, &["symmetrical"]),
        require_all: r.bool_attr(el, &["require-all"]),
        sets: sets(r, el)?,
        lifetime: lifetime(r, el)?,
        heartbeat_form,
    })
}

fn read_ticket<'a>(r: &mut Reader<'a>, el: &'a Element) -> Result<Ticket, ModelError> {
    Ok(Ticket {
        id: required_id(el)?,
        line: el.line,
        ticket: required(el, &["ticket"])?,
        rsc: opt_string(el, &["rsc"]),
        rsc_role: r.enum_attr(el, &["rsc-role"], Role::parse, ROLE),
        loss_policy: r.enum_attr(
            el,
            &["loss-policy"],
            |t| match t {
                "stop" => Some(LossPolicy::Stop),
                "demote" => Some(LossPolicy::Demote),
                "fence" => Some(LossPolicy::Fence),
                "freeze" => Some(LossPolicy::Freeze),
                _ => None,
            },
            "stop, demote, fence or freeze",
        ),
        sets: sets(r, el)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_element;

    fn constraints(xml: &str) -> Result<Constraints, ModelError> {
        let el = parse_element(xml).unwrap();
        let mut r = Reader::new(&el);
        Constraints::read(&mut r, &el)
    }

    #[test]
    fn current_forms() {
        let c = constraints(
            r##"<constraints>
                 <rsc_location id="l1" rsc="a" node="n1" score="-INFINITY" role="Promoted" resource-discovery="never"/>
                 <rsc_location id="l2" rsc-pattern="^db"><rule id="r" score="50"><expression id="e" attribute="#uname" operation="eq" value="n2"/></rule></rsc_location>
                 <rsc_colocation id="c1" rsc="a" with-rsc="b" score="INFINITY" rsc-role="Started" with-rsc-role="Master" node-attribute="site"/>
                 <rsc_order id="o1" first="a" then="b" kind="Serialize" symmetrical="false"/>
                 <rsc_order id="o2" first="a" first-action="promote" then="b" score="0"/>
                 <rsc_order id="o3"><resource_set id="s1" sequential="false" action="start"><resource_ref id="a"/><resource_ref id="b"/></resource_set>
                   <resource_set id="s2" require-all="false"><resource_ref id="c"/></resource_set></rsc_order>
                 <rsc_ticket id="t1" rsc="a" rsc-role="Promoted" ticket="T" loss-policy="demote"/>
               </constraints>"##,
        )
        .unwrap();
        let l1 = &c.locations[0];
        assert_eq!((l1.score, l1.role, l1.resource_discovery), (Some(Score::MINUS_INFINITY), Some(Role::Promoted), Some(Discovery::Never)));
        assert_eq!(c.locations[1].rules[0].score, Some(Score::from(50)));
        let c1 = &c.colocations[0];
        assert_eq!((c1.rsc_role, c1.with_rsc_role, c1.node_attribute.as_deref()), (Some(Role::Started), Some(Role::Promoted), Some("site")));
        assert!(!c1.heartbeat_form);
        assert_eq!(c.orders[0].effective_kind(), OrderKind::Serialize);
        assert_eq!(c.orders[0].symmetrical, Some(false));
        assert_eq!((c.orders[1].first_action(), c.orders[1].then_action()), (RscAction::Promote, RscAction::Promote));
        assert_eq!(c.orders[1].effective_kind(), OrderKind::Optional);
        let s = &c.orders[2].sets;
        assert_eq!((s[0].sequential, s[0].resources.len(), s[1].require_all), (Some(false), 2, Some(false)));
        assert_eq!(c.tickets[0].loss_policy, Some(LossPolicy::Demote));
    }

    #[test]
    fn heartbeat_from_to_forms() {
        let c = constraints(
            r##"<constraints>
                 <rsc_colocation id="c" from="web" to="ip" score="INFINITY" from_role="started" to_role="master"/>
                 <rsc_order id="after" from="web" to="ip"/>
                 <rsc_order id="after2" from="rsc1" action="start" type="after" to_action="promote" to="rsc2"/>
                 <rsc_order id="before" from="ip" type="before" to="web" action="stop"/>
               </constraints>"##,
        )
        .unwrap();
        let col = &c.colocations[0];
        assert!(col.heartbeat_form);
        assert_eq!((col.rsc.as_deref(), col.with_rsc.as_deref()), (Some("web"), Some("ip")));
        assert_eq!((col.rsc_role, col.with_rsc_role), (Some(Role::Started), Some(Role::Promoted)));
        // "start web after start ip": ip first.
        let o = &c.orders[0];
        assert_eq!((o.first.as_deref(), o.then.as_deref(), o.first_action(), o.then_action()), (Some("ip"), Some("web"), RscAction::Start, RscAction::Start));
        // The DTD's example: "start rsc1 after promote rsc2".
        let o = &c.orders[1];
        assert_eq!((o.first.as_deref(), o.first_action(), o.then.as_deref(), o.then_action()), (Some("rsc2"), RscAction::Promote, Some("rsc1"), RscAction::Start));
        let o = &c.orders[2];
        assert_eq!((o.first.as_deref(), o.first_action(), o.then.as_deref(), o.then_action()), (Some("ip"), RscAction::Stop, Some("web"), RscAction::Stop));
        assert!(o.heartbeat_form);
    }

    #[test]
    fn invalid_kind_reads_as_absent_with_a_warning() {
        // As in the suite's order-wrong-kind.xml (validate-with="none"):
        // Pacemaker resets the kind to Mandatory.
        let el = parse_element(r#"<constraints><rsc_order id="o" first="a" then="b" kind="foo"/></constraints>"#).unwrap();
        let mut r = Reader::new(&el);
        let c = Constraints::read(&mut r, &el).unwrap();
        assert_eq!((c.orders[0].kind, c.orders[0].effective_kind()), (None, OrderKind::Mandatory));
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].message.contains("kind=\"foo\""), "{}", r.warnings[0]);
    }
}
