//! Rules: the conditions attached to location constraints and to nvsets.
//!
//! A [`Rule`] combines [`Condition`]s with `and` / `or`; conditions test a
//! node attribute ([`Expression`]), the date ([`DateExpression`]), the
//! resource agent ([`RscExpression`]), the operation ([`OpExpression`]) or
//! are rules themselves. The model only describes them; evaluating them
//! (against a node, a resource and `now`) is the engine's job.
//!
//! Date-times (`start`, `end`) are kept as written: parsing ISO 8601
//! dates belongs with the evaluator, which owns the clock and time zone.

use super::error::ModelError;
use super::read::{required_enum, first_attr, id_or_empty, opt_string, required, score_attr, Reader};
use super::resources::AgentClass;
use super::role::Role;
use super::score::Score;
use crate::xml::Element;

/// `<rule>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub line: u32,
    /// Set when this rule was written as `<rule id-ref="..."/>` and
    /// resolved to the referenced rule (whose fields these are).
    pub id_ref: Option<String>,
    /// The score the rule gives when it matches; `None` when it has none
    /// (Pacemaker then uses 0, or `score_attribute`).
    pub score: Option<Score>,
    /// `score-attribute` (Heartbeat: `score_attribute`): take the score
    /// from this node attribute.
    pub score_attribute: Option<String>,
    pub boolean_op: BoolOp,
    /// Only applies to resources in this role.
    pub role: Option<Role>,
    pub conditions: Vec<Condition>,
}

/// How a rule combines its conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoolOp {
    #[default]
    And,
    Or,
}

/// One condition of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Expression(Expression),
    /// Boxed: a date expression is much larger than the others.
    Date(Box<DateExpression>),
    Resource(RscExpression),
    Op(OpExpression),
    Rule(Rule),
}

/// `<expression>`: a test on a node attribute (or on a resource
/// parameter / meta-attribute, with `value_source`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression {
    pub id: String,
    pub line: u32,
    /// The attribute, e.g. `#uname`, `#id`, `#kind`, `#is_dc` or any node
    /// attribute name.
    pub attribute: String,
    pub operation: ExprOp,
    pub value: Option<String>,
    /// `None` means "not written": Pacemaker then compares as a number for
    /// lt/lte/gt/gte and as a string otherwise.
    pub value_type: Option<ExprType>,
    pub value_source: ValueSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprOp {
    Lt,
    Gt,
    Lte,
    Gte,
    Eq,
    Ne,
    Defined,
    NotDefined,
}

impl ExprOp {
    pub fn parse(text: &str) -> Option<ExprOp> {
        Some(match text {
            "lt" => ExprOp::Lt,
            "gt" => ExprOp::Gt,
            "lte" => ExprOp::Lte,
            "gte" => ExprOp::Gte,
            "eq" => ExprOp::Eq,
            "ne" => ExprOp::Ne,
            "defined" => ExprOp::Defined,
            "not_defined" => ExprOp::NotDefined,
            _ => return None,
        })
    }
}

/// How an expression compares values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprType {
    String,
    /// `integer` (Pacemaker 2.1's name) or Heartbeat's `integer`.
    Integer,
    /// `number`: compared as floating point.
    Number,
    /// Dotted versions: 1.10 > 1.2.
    Version,
}

impl ExprType {
    pub fn parse(text: &str) -> Option<ExprType> {
        let is = |w: &str| text.eq_ignore_ascii_case(w);
        if is("string") {
            Some(ExprType::String)
        } else if is("integer") {
            Some(ExprType::Integer)
        } else if is("number") {
            Some(ExprType::Number)
        } else if is("version") {
            Some(ExprType::Version)
        } else {
            None
        }
    }
}

/// Where an expression's `value` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueSource {
    #[default]
    Literal,
    /// The value names a resource parameter.
    Param,
    /// The value names a resource meta-attribute.
    Meta,
}

/// `<date_expression>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateExpression {
    pub id: String,
    pub line: u32,
    pub operation: DateOp,
    /// ISO 8601 date-time, as written.
    pub start: Option<String>,
    /// ISO 8601 date-time, as written.
    pub end: Option<String>,
    /// `<duration>`: the end is `start + duration`.
    pub duration: Option<DurationSpec>,
    /// `<date_spec>`: a cron-like match.
    pub date_spec: Option<DateSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOp {
    /// The default (Heartbeat's DTD and Pacemaker agree).
    #[default]
    InRange,
    Gt,
    Lt,
    DateSpec,
}

/// `<duration>`: amounts to add to a date, field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DurationSpec {
    pub years: i64,
    pub months: i64,
    pub weeks: i64,
    pub days: i64,
    pub hours: i64,
    pub minutes: i64,
    pub seconds: i64,
}

/// `<date_spec>`: every given field must match `now`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DateSpec {
    pub id: String,
    pub line: u32,
    pub years: Option<Range>,
    pub months: Option<Range>,
    pub monthdays: Option<Range>,
    pub hours: Option<Range>,
    pub minutes: Option<Range>,
    pub seconds: Option<Range>,
    /// `yeardays` (the 3.x schema spells it `yearsdays`; both are read).
    pub yeardays: Option<Range>,
    pub weekyears: Option<Range>,
    pub weeks: Option<Range>,
    /// 1 = Monday ... 7 = Sunday.
    pub weekdays: Option<Range>,
    pub moon: Option<Range>,
}

/// An inclusive range as date_spec fields write it: `9`, `9-16`, `9-`
/// (no upper bound) or `-16` (no lower bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Range {
    /// Pacemaker's `pcmk__parse_ll_range`.
    pub fn parse(text: &str) -> Option<Range> {
        let t = text.trim();
        if t.is_empty() || t == "-" {
            return None;
        }
        if let Some(end) = t.strip_prefix('-') {
            return Some(Range { start: None, end: Some(end.parse().ok()?) });
        }
        match t.split_once('-') {
            None => {
                let v = t.parse().ok()?;
                Some(Range { start: Some(v), end: Some(v) })
            }
            Some((a, "")) => Some(Range { start: Some(a.parse().ok()?), end: None }),
            Some((a, b)) => Some(Range { start: Some(a.parse().ok()?), end: Some(b.parse().ok()?) }),
        }
    }

    pub fn contains(&self, v: i64) -> bool {
        self.start.is_none_or(|s| v >= s) && self.end.is_none_or(|e| v <= e)
    }
}

/// `<rsc_expression>`: matches resources by agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RscExpression {
    pub id: String,
    pub line: u32,
    pub class: Option<AgentClass>,
    pub provider: Option<String>,
    pub agent_type: Option<String>,
}

/// `<op_expression>`: matches operations by name and interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpExpression {
    pub id: String,
    pub line: u32,
    pub name: String,
    pub interval_ms: Option<u64>,
}

impl Rule {
    /// Reads a `<rule>` (following `id-ref`).
    pub(crate) fn read<'a>(r: &mut Reader<'a>, written: &'a Element) -> Result<Rule, ModelError> {
        let (el, id_ref) = r.resolve(written)?;
        let boolean_op = r.enum_attr(
            el,
            &["boolean-op", "boolean_op"],
            |t| match t {
                t if t.eq_ignore_ascii_case("and") => Some(BoolOp::And),
                t if t.eq_ignore_ascii_case("or") => Some(BoolOp::Or),
                _ => None,
            },
            "and or or",
        )
        .unwrap_or_default();
        let mut conditions = Vec::new();
        for child in el.elements() {
            let c = match child.name.as_str() {
                "expression" => Condition::Expression(read_expression(r, child)?),
                "date_expression" => Condition::Date(Box::new(read_date_expression(r, child)?)),
                "rsc_expression" => Condition::Resource(RscExpression {
                    id: id_or_empty(child),
                    line: child.line,
                    class: first_attr(child, &["class"]).map(AgentClass::parse),
                    provider: opt_string(child, &["provider"]),
                    agent_type: opt_string(child, &["type"]),
                }),
                "op_expression" => Condition::Op(OpExpression {
                    id: id_or_empty(child),
                    line: child.line,
                    name: required(child, &["name"])?,
                    interval_ms: child.attr("interval").map(|_| r.interval_attr(child, &["interval"])),
                }),
                "rule" => Condition::Rule(Rule::read(r, child)?),
                other => {
                    r.warn(child, format!("ignoring <{other}> inside <rule>"));
                    continue;
                }
            };
            conditions.push(c);
        }
        Ok(Rule {
            id: id_or_empty(el),
            line: el.line,
            id_ref,
            score: score_attr(el, &["score"]),
            score_attribute: opt_string(el, &["score-attribute", "score_attribute"]),
            boolean_op,
            role: r.enum_attr(el, &["role"], Role::parse, "a role"),
            conditions,
        })
    }
}

fn read_expression(r: &mut Reader<'_>, el: &Element) -> Result<Expression, ModelError> {
    let operation = required_enum(el, "operation", ExprOp::parse, "lt, gt, lte, gte, eq, ne, defined or not_defined")?;
    let value_source = r.enum_attr(
        el,
        &["value-source"],
        |t| match t {
            "literal" => Some(ValueSource::Literal),
            "param" => Some(ValueSource::Param),
            "meta" => Some(ValueSource::Meta),
            _ => None,
        },
        "literal, param or meta",
    )
    .unwrap_or_default();
    Ok(Expression {
        id: id_or_empty(el),
        line: el.line,
        attribute: required(el, &["attribute"])?,
        operation,
        value: opt_string(el, &["value"]),
        value_type: r.enum_attr(el, &["type"], ExprType::parse, "string, integer, number or version"),
        value_source,
    })
}

fn read_date_expression(r: &mut Reader<'_>, el: &Element) -> Result<DateExpression, ModelError> {
    let operation = r.enum_attr(
        el,
        &["operation"],
        |t| match t {
            "in_range" => Some(DateOp::InRange),
            "gt" => Some(DateOp::Gt),
            "lt" => Some(DateOp::Lt),
            "date_spec" => Some(DateOp::DateSpec),
            _ => None,
        },
        "in_range, gt, lt or date_spec",
    )
    .unwrap_or_default();
    let duration = el.child("duration").map(|d| {
        let mut field = |name: &str| r.int_attr::<i64>(d, &[name]).unwrap_or(0);
        DurationSpec {
            years: field("years"),
            months: field("months"),
            weeks: field("weeks"),
            days: field("days"),
            hours: field("hours"),
            minutes: field("minutes"),
            seconds: field("seconds"),
        }
    });
    let date_spec = el.child("date_spec").map(|d| {
        let mut field = |names: &[&str]| {
            let (name, text) = super::read::first_attr_named(d, names)?;
            let range = Range::parse(text);
            if range.is_none() {
                r.warn(d, format!("<date_spec> {name}=\"{text}\" is not a range; ignoring it"));
            }
            range
        };
        DateSpec {
            id: id_or_empty(d),
            line: d.line,
            years: field(&["years"]),
            months: field(&["months"]),
            monthdays: field(&["monthdays"]),
            hours: field(&["hours"]),
            minutes: field(&["minutes"]),
            seconds: field(&["seconds"]),
            yeardays: field(&["yeardays", "yearsdays"]),
            weekyears: field(&["weekyears"]),
            weeks: field(&["weeks"]),
            weekdays: field(&["weekdays"]),
            moon: field(&["moon"]),
        }
    });
    Ok(DateExpression {
        id: id_or_empty(el),
        line: el.line,
        operation,
        start: opt_string(el, &["start"]),
        end: opt_string(el, &["end"]),
        duration,
        date_spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_element;

    fn rule(xml: &str) -> Result<Rule, ModelError> {
        let el = parse_element(xml).unwrap();
        let mut r = Reader::new(&el);
        Rule::read(&mut r, &el)
    }

    #[test]
    fn nested_rule_with_every_condition() {
        let r = rule(
            r##"<rule id="r" score="-INFINITY" boolean-op="or" role="Master">
                 <expression id="e1" attribute="#uname" operation="eq" value="n1"/>
                 <expression id="e2" attribute="ram" operation="gte" value="1024" type="integer" value-source="param"/>
                 <date_expression id="d1" operation="date_spec"><date_spec id="ds" hours="9-16" weekdays="1-5"/></date_expression>
                 <date_expression id="d2" start="2005-001"><duration id="du" years="1"/></date_expression>
                 <rsc_expression id="re" class="ocf" provider="heartbeat" type="IPaddr2"/>
                 <op_expression id="oe" name="monitor" interval="10s"/>
                 <rule id="inner" score="0"><expression id="e3" attribute="x" operation="not_defined"/></rule>
               </rule>"##,
        )
        .unwrap();
        assert_eq!(r.score, Some(Score::MINUS_INFINITY));
        assert_eq!(r.boolean_op, BoolOp::Or);
        assert_eq!(r.role, Some(Role::Promoted));
        assert_eq!(r.conditions.len(), 7);
        let Condition::Expression(e2) = &r.conditions[1] else { panic!() };
        assert_eq!((e2.operation, e2.value_type, e2.value_source), (ExprOp::Gte, Some(ExprType::Integer), ValueSource::Param));
        let Condition::Date(d1) = &r.conditions[2] else { panic!() };
        let spec = d1.date_spec.as_ref().unwrap();
        assert_eq!(spec.hours, Some(Range { start: Some(9), end: Some(16) }));
        assert!(spec.weekdays.unwrap().contains(5) && !spec.weekdays.unwrap().contains(6));
        let Condition::Date(d2) = &r.conditions[3] else { panic!() };
        assert_eq!(d2.operation, DateOp::InRange);
        assert_eq!(d2.duration.unwrap().years, 1);
        let Condition::Op(oe) = &r.conditions[5] else { panic!() };
        assert_eq!(oe.interval_ms, Some(10_000));
        let Condition::Rule(inner) = &r.conditions[6] else { panic!() };
        assert_eq!(inner.id, "inner");
    }

    #[test]
    fn heartbeat_spellings() {
        let r = rule(
            r##"<rule id="r" score_attribute="installed_ram" boolean_op="or">
                 <expression id="e" attribute="#is_dc" operation="eq" value="true"/></rule>"##,
        )
        .unwrap();
        assert_eq!(r.score, None);
        assert_eq!(r.score_attribute.as_deref(), Some("installed_ram"));
        assert_eq!(r.boolean_op, BoolOp::Or);
    }

    #[test]
    fn bad_operation_is_an_error() {
        let e = rule(r##"<rule id="r" score="1"><expression id="e" attribute="a" operation="like" value="x"/></rule>"##);
        assert!(matches!(e, Err(ModelError::InvalidValue { ref attribute, .. }) if attribute == "operation"));
    }

    #[test]
    fn ranges() {
        assert_eq!(Range::parse("7"), Some(Range { start: Some(7), end: Some(7) }));
        assert_eq!(Range::parse("9-"), Some(Range { start: Some(9), end: None }));
        assert_eq!(Range::parse("-3"), Some(Range { start: None, end: Some(3) }));
        assert_eq!(Range::parse("1,2"), None);
        assert_eq!(Range::parse("-"), None);
    }
}
