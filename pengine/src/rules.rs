//! Rule evaluation (Pacemaker's `pe_eval_rules` family): whether a
//! [`Rule`] matches a node, a resource, an operation and a time.
//!
//! The model only describes rules; the engine owns the inputs they test.
//! Everything a rule may look at is in [`RuleInput`], so evaluation is a
//! pure function. Node-attribute expressions with no node see an empty
//! attribute table (as Pacemaker's do when it evaluates meta-attributes).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use cib::model::rules::{BoolOp, Condition, DateExpression, DateOp, DurationSpec, ExprOp, ExprType, Expression, ValueSource};
use cib::model::{AgentClass, Rule};

use crate::iso8601::{self, Calendar};

/// What a rule is evaluated against.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleInput<'a> {
    /// Epoch seconds.
    pub now: i64,
    /// The node's attributes (`#uname` and friends included).
    pub node_attrs: Option<&'a BTreeMap<String, String>>,
    /// The resource's agent: class, provider, type.
    pub rsc_agent: Option<(&'a AgentClass, Option<&'a str>, &'a str)>,
    /// The operation: name and interval (ms).
    pub op: Option<(&'a str, u64)>,
    /// Resource parameters and meta-attributes, for `value-source`.
    pub rsc_params: Option<&'a BTreeMap<String, String>>,
    pub rsc_meta: Option<&'a BTreeMap<String, String>>,
}

/// Whether every rule of a set matches (sets with several Heartbeat-style
/// rules need them all).
pub fn all_match<'r>(rules: impl IntoIterator<Item = &'r Rule>, input: &RuleInput<'_>) -> bool {
    rules.into_iter().all(|r| rule_matches(r, input))
}

/// Whether one rule matches.
pub fn rule_matches(rule: &Rule, input: &RuleInput<'_>) -> bool {
    if rule.conditions.is_empty() {
        // Pacemaker complains and treats an empty rule as passing.
        return true;
    }
    let mut results = rule.conditions.iter().map(|c| condition_matches(c, input));
    match rule.boolean_op {
        BoolOp::And => results.all(|m| m),
        BoolOp::Or => results.any(|m| m),
    }
}

fn condition_matches(c: &Condition, input: &RuleInput<'_>) -> bool {
    match c {
        Condition::Expression(e) => expression_matches(e, input),
        Condition::Date(d) => date_matches(d, input.now),
        Condition::Resource(r) => match input.rsc_agent {
            None => false,
            Some((class, provider, agent)) => {
                r.class.as_ref().is_none_or(|c| c == class)
                    && r.provider.as_deref().is_none_or(|p| Some(p) == provider)
                    && r.agent_type.as_deref().is_none_or(|t| t == agent)
            }
        },
        Condition::Op(o) => match input.op {
            None => false,
            Some((name, interval)) => o.name == name && o.interval_ms.is_none_or(|i| i == interval),
        },
        Condition::Rule(r) => rule_matches(r, input),
    }
}

fn expression_matches(e: &Expression, input: &RuleInput<'_>) -> bool {
    let left = input.node_attrs.and_then(|a| a.get(&e.attribute)).map(String::as_str);
    let right: Option<&str> = match e.value_source {
        ValueSource::Literal => e.value.as_deref(),
        ValueSource::Param => e.value.as_deref().and_then(|v| input.rsc_params?.get(v)).map(String::as_str),
        ValueSource::Meta => e.value.as_deref().and_then(|v| input.rsc_meta?.get(v)).map(String::as_str),
    };
    let cmp = match e.operation {
        ExprOp::Defined => return left.is_some(),
        ExprOp::NotDefined => return left.is_none(),
        _ => compare_values(left, right, e.value_type, e.operation),
    };
    match e.operation {
        ExprOp::Eq => cmp == Ordering::Equal,
        ExprOp::Ne => cmp != Ordering::Equal,
        ExprOp::Lt => cmp == Ordering::Less,
        ExprOp::Lte => cmp != Ordering::Greater,
        ExprOp::Gt => cmp == Ordering::Greater,
        ExprOp::Gte => cmp != Ordering::Less,
        ExprOp::Defined | ExprOp::NotDefined => unreachable!(),
    }
}

/// Pacemaker's `compare_attr_expr_vals`: the type defaults to a number
/// for ordering operators (floating point if either side has a dot) and
/// to a case-insensitive string otherwise; a side that does not parse as
/// a number makes the comparison a string one.
fn compare_values(left: Option<&str>, right: Option<&str>, ty: Option<ExprType>, op: ExprOp) -> Ordering {
    let (l, r) = match (left, right) {
        (Some(l), Some(r)) => (l, r),
        (None, None) => return Ordering::Equal,
        (Some(_), None) => return Ordering::Greater,
        (None, Some(_)) => return Ordering::Less,
    };
    let ty = ty.unwrap_or(match op {
        ExprOp::Lt | ExprOp::Lte | ExprOp::Gt | ExprOp::Gte => {
            if l.contains('.') || r.contains('.') {
                ExprType::Number
            } else {
                ExprType::Integer
            }
        }
        _ => ExprType::String,
    });
    let strings = || l.to_ascii_lowercase().cmp(&r.to_ascii_lowercase());
    match ty {
        ExprType::String => strings(),
        ExprType::Integer => match (scan_ll(l), scan_ll(r)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => strings(),
        },
        ExprType::Number => match (scan_double(l), scan_double(r)) {
            (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            _ => strings(),
        },
        ExprType::Version => compare_version(l, r),
    }
}

/// `strtoll` as Pacemaker's `pcmk__scan_ll` uses it: a leading integer,
/// trailing characters ignored; `None` when there are no digits.
pub(crate) fn scan_ll(text: &str) -> Option<i64> {
    let t = text.trim_start();
    let (sign, digits) = match t.as_bytes().first() {
        Some(b'-') => (-1i128, &t[1..]),
        Some(b'+') => (1, &t[1..]),
        _ => (1, t),
    };
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let v: i128 = digits[..n].parse().unwrap_or(i128::MAX);
    Some((sign * v).clamp(i64::MIN as i128, i64::MAX as i128) as i64)
}

/// `strtod` as `pcmk__scan_double` uses it: the longest leading number.
fn scan_double(text: &str) -> Option<f64> {
    let t = text.trim_start();
    (1..=t.len()).rev().filter(|i| t.is_char_boundary(*i)).find_map(|i| t[..i].parse::<f64>().ok())
}

/// Pacemaker's `compare_version`: dot-separated numbers, missing parts
/// count as smaller.
fn compare_version(a: &str, b: &str) -> Ordering {
    let parts = |s: &str| s.split('.').map(|p| scan_ll(p).unwrap_or(0)).collect::<Vec<_>>();
    let (a, b) = (parts(a), parts(b));
    for i in 0..a.len().max(b.len()) {
        match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            (Some(_), None) => return Ordering::Greater,
            (None, Some(_)) => return Ordering::Less,
            _ => {}
        }
    }
    Ordering::Equal
}

fn date_matches(d: &DateExpression, now: i64) -> bool {
    let parse = |t: &Option<String>| t.as_deref().and_then(|s| iso8601::parse(s).ok());
    let start = parse(&d.start);
    let mut end = parse(&d.end);
    match d.operation {
        DateOp::InRange => {
            if end.is_none() {
                if let (Some(s), Some(dur)) = (start, d.duration.as_ref()) {
                    end = Some(add_duration(s, dur));
                }
            }
            if start.is_none() && end.is_none() {
                return false;
            }
            start.is_none_or(|s| now >= s) && end.is_none_or(|e| now <= e)
        }
        DateOp::Gt => start.is_some_and(|s| now > s),
        DateOp::Lt => end.is_some_and(|e| now < e),
        DateOp::DateSpec => match &d.date_spec {
            None => false,
            Some(spec) => {
                let c = Calendar::of(now);
                let checks = [
                    (&spec.years, c.year),
                    (&spec.months, c.month),
                    (&spec.monthdays, c.monthday),
                    (&spec.hours, c.hour),
                    (&spec.minutes, c.minute),
                    (&spec.seconds, c.second),
                    (&spec.yeardays, c.yearday),
                    (&spec.weekyears, c.weekyear),
                    (&spec.weeks, c.week),
                    (&spec.weekdays, c.weekday),
                ];
                checks.iter().all(|(range, v)| range.as_ref().is_none_or(|r| r.contains(*v)))
            }
        },
    }
}

/// Adds a `<duration>` to an instant, months and years by the calendar.
fn add_duration(start: i64, d: &DurationSpec) -> i64 {
    let secs = d.weeks * 7 * 86_400 + d.days * 86_400 + d.hours * 3600 + d.minutes * 60 + d.seconds;
    let months = d.years * 12 + d.months;
    if months == 0 {
        return start + secs;
    }
    let c = Calendar::of(start);
    let total = c.year * 12 + (c.month - 1) + months;
    let (y, m) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let text = format!("{y:04}-{m:02}-01");
    let first = iso8601::parse(&text).unwrap_or(start);
    // Keep the day of month, clamped to the new month's length.
    let mut day_start = first + (c.monthday - 1) * 86_400;
    while Calendar::of(day_start).month != m {
        day_start -= 86_400;
    }
    day_start + c.hour * 3600 + c.minute * 60 + c.second + secs
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::xml::parse_element;

    fn rule(xml: &str) -> Rule {
        let doc = cib::Document::parse(&format!(
            r#"<cib><configuration><crm_config><cluster_property_set id="s">{xml}</cluster_property_set></crm_config></configuration></cib>"#
        ))
        .unwrap();
        let cib = cib::model::Cib::from_document(&doc).unwrap();
        cib.crm_config[0].rule.clone().unwrap()
    }

    #[test]
    fn attribute_comparisons_follow_pacemaker_types() {
        let mut attrs = BTreeMap::new();
        attrs.insert("ram".to_string(), "1024".to_string());
        attrs.insert("ver".to_string(), "1.10".to_string());
        let input = RuleInput { node_attrs: Some(&attrs), ..Default::default() };
        let r = |x| rule_matches(&rule(x), &input);
        assert!(r(r#"<rule id="r"><expression id="e" attribute="ram" operation="gt" value="999"/></rule>"#));
        // As strings, "1024" < "999".
        assert!(r(r#"<rule id="r"><expression id="e" attribute="ram" operation="lt" value="999" type="string"/></rule>"#));
        assert!(r(r#"<rule id="r"><expression id="e" attribute="ver" operation="gt" value="1.9" type="version"/></rule>"#));
        assert!(r(r#"<rule id="r"><expression id="e" attribute="none" operation="not_defined"/></rule>"#));
        assert!(!r(r#"<rule id="r" boolean-op="and"><expression id="e" attribute="ram" operation="defined"/><expression id="f" attribute="x" operation="defined"/></rule>"#));
        assert!(r(r#"<rule id="r" boolean-op="or"><expression id="e" attribute="ram" operation="defined"/><expression id="f" attribute="x" operation="defined"/></rule>"#));
    }

    #[test]
    fn dates() {
        let now = iso8601::parse("2005-01-20T12:30:00Z").unwrap();
        let input = RuleInput { now, ..Default::default() };
        let r = |x| rule_matches(&rule(x), &input);
        assert!(r(r#"<rule id="r"><date_expression id="d" operation="date_spec"><date_spec id="s" hours="9-16"/></date_expression></rule>"#));
        assert!(!r(r#"<rule id="r"><date_expression id="d" operation="date_spec"><date_spec id="s" hours="13-16"/></date_expression></rule>"#));
        assert!(r(r#"<rule id="r"><date_expression id="d" operation="gt" start="2005-01-01"/></rule>"#));
        assert!(r(r#"<rule id="r"><date_expression id="d" operation="in_range" start="2005-01-01"><duration id="u" months="1"/></date_expression></rule>"#));
        assert!(!r(r#"<rule id="r"><date_expression id="d" operation="in_range" start="2005-01-01"><duration id="u" days="2"/></date_expression></rule>"#));
        let _ = parse_element("<x/>");
    }

    #[test]
    fn scanning_numbers_like_strtoll() {
        assert_eq!(scan_ll("12abc"), Some(12));
        assert_eq!(scan_ll("-3"), Some(-3));
        assert_eq!(scan_ll("abc"), None);
        assert_eq!(scan_double("3.5x"), Some(3.5));
    }
}
