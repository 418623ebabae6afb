//! Attribute values: Pacemaker's `value++` / `value+=N` increments and the
//! names of fail-count attributes.

/// Pacemaker's INFINITY score.
pub const INFINITY: i64 = 1_000_000;

/// A score as Pacemaker reads one (`INFINITY`, `+INFINITY`, `-INFINITY`,
/// else a leading integer, capped at +-INFINITY; unreadable text is 0).
pub fn score(s: &str) -> i64 {
    let t = s.trim();
    match t {
        "INFINITY" | "+INFINITY" => return INFINITY,
        "-INFINITY" => return -INFINITY,
        _ => {}
    }
    let end = t.char_indices().find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+')))).map_or(t.len(), |(i, _)| i);
    t[..end].parse::<i64>().unwrap_or(0).clamp(-INFINITY, INFINITY)
}

/// The value to store when `requested` is written over `old`: `X++` adds
/// one and `X+=N` adds N (N may be INFINITY) to the old value (0 when
/// there is none), capped at INFINITY, as Pacemaker's attribute manager
/// expands the fail-count updates of the controller (`value++`). `X` is
/// any text without `+` (Pacemaker sends the word `value`); a bare `++`
/// works too. Anything else is stored as given.
pub fn expand(requested: &str, old: Option<&str>) -> String {
    let Some(p) = requested.find('+') else { return requested.to_string() };
    let rest = &requested[p..];
    let add = if rest == "++" {
        1
    } else if let Some(n) = rest.strip_prefix("+=") {
        if n.is_empty() {
            return requested.to_string();
        }
        score(n)
    } else {
        return requested.to_string();
    };
    let sum = (old.map_or(0, score) + add).clamp(-INFINITY, INFINITY);
    sum.to_string()
}

/// `fail-count-RSC#OP_INTERVALMS`, Pacemaker 2.1.5's per-operation name.
pub fn fail_count_name(rsc: &str, op: &str, interval_ms: u64) -> String {
    format!("fail-count-{rsc}#{op}_{interval_ms}")
}

/// `last-failure-RSC#OP_INTERVALMS`.
pub fn last_failure_name(rsc: &str, op: &str, interval_ms: u64) -> String {
    format!("last-failure-{rsc}#{op}_{interval_ms}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increments_expand_over_the_old_value() {
        assert_eq!(expand("value++", None), "1");
        assert_eq!(expand("value++", Some("1")), "2");
        assert_eq!(expand("++", Some("41")), "42");
        assert_eq!(expand("value+=5", Some("2")), "7");
        assert_eq!(expand("value+=INFINITY", Some("3")), "1000000");
        assert_eq!(expand("value++", Some("INFINITY")), "1000000");
        assert_eq!(expand("value+=", Some("3")), "value+=");
        assert_eq!(expand("a+b", Some("3")), "a+b");
        assert_eq!(expand("7", Some("3")), "7");
    }

    #[test]
    fn fail_count_names_are_pacemakers() {
        assert_eq!(fail_count_name("r1", "monitor", 10000), "fail-count-r1#monitor_10000");
        assert_eq!(last_failure_name("r1", "start", 0), "last-failure-r1#start_0");
        assert_eq!(score("-INFINITY"), -INFINITY);
        assert_eq!(score("12abc"), 12);
    }
}
