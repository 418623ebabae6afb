//! Operation specifications of `--op-inject` and `--op-fail`:
//! `${resource}_${task}_${interval_in_ms}@${node}=${rc}`.

/// A parsed `--op-inject` specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpSpec {
    pub resource: String,
    pub task: String,
    pub interval_ms: u64,
    pub node: String,
    pub rc: i32,
}

/// C `%d`: optional sign and digits after leading white space; `None`
/// when there are no digits.
fn scan_int(text: &str) -> Option<i32> {
    let t = text.trim_start();
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'-') => (-1i64, &t[1..]),
        Some(b'+') => (1, &t[1..]),
        _ => (1, t),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    let v: i64 = digits.parse().unwrap_or(i64::MAX);
    Some((sign * v).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

/// The exit code of a spec: the integer after its first `=` (what
/// `sscanf("%*[^=]=%d")` reads).
pub fn rc_of(spec: &str) -> Option<i32> {
    let (head, tail) = spec.split_once('=')?;
    if head.is_empty() {
        return None;
    }
    scan_int(tail)
}

/// Splits an operation key `RSC_TASK_INTERVAL` (Pacemaker's
/// `parse_op_key`): the interval after the last `_`, the task before it,
/// where tasks with an `_` of their own (`migrate_to`, `migrate_from`,
/// notifications `pre_notify_start`...) are recognised.
pub fn parse_op_key(key: &str) -> Option<(String, String, u64)> {
    let (rest, interval) = key.rsplit_once('_')?;
    if interval.is_empty() || !interval.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let interval: u64 = interval.parse().ok()?;
    for multi in ["migrate_to", "migrate_from"] {
        if let Some(rsc) = rest.strip_suffix(multi).and_then(|r| r.strip_suffix('_')) {
            if !rsc.is_empty() {
                return Some((rsc.to_string(), multi.to_string(), interval));
            }
        }
    }
    for when in ["_pre_notify_", "_post_notify_", "_confirmed-pre_notify_", "_confirmed-post_notify_"] {
        if let Some(at) = rest.find(when) {
            if at > 0 {
                return Some((rest[..at].to_string(), rest[at + 1..].to_string(), interval));
            }
        }
    }
    let (rsc, task) = rest.rsplit_once('_')?;
    if rsc.is_empty() || task.is_empty() {
        return None;
    }
    Some((rsc.to_string(), task.to_string(), interval))
}

/// Parses an `--op-inject` spec as crm_simulate does; the error is the
/// message it prints.
pub fn parse(spec: &str) -> Result<OpSpec, String> {
    // sscanf("%[^@]@%[^=]=%d"): each part non-empty, counting fields.
    let fields = |n: usize| format!("Invalid operation spec: {spec}.  Only found {n} fields");
    let Some((key, rest)) = spec.split_once('@').filter(|(k, _)| !k.is_empty()) else {
        return Err(fields(usize::from(!spec.is_empty() && !spec.starts_with('@'))));
    };
    let Some((node, rc)) = rest.split_once('=').filter(|(n, _)| !n.is_empty()) else {
        return Err(fields(if rest.is_empty() || rest.starts_with('=') { 1 } else { 2 }));
    };
    let Some(rc) = scan_int(rc) else {
        return Err(fields(2));
    };
    let Some((resource, task, interval_ms)) = parse_op_key(key) else {
        return Err(format!("Invalid operation key: {key}"));
    };
    Ok(OpSpec { resource, task, interval_ms, node: node.to_string(), rc })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_from_the_right() {
        assert_eq!(parse_op_key("memcached:0_monitor_20000"), Some(("memcached:0".into(), "monitor".into(), 20000)));
        assert_eq!(parse_op_key("my_rsc_stop_0"), Some(("my_rsc".into(), "stop".into(), 0)));
        assert_eq!(parse_op_key("vm_migrate_to_0"), Some(("vm".into(), "migrate_to".into(), 0)));
        assert_eq!(parse_op_key("db_post_notify_start_0"), Some(("db".into(), "post_notify_start".into(), 0)));
        assert_eq!(parse_op_key("rsc_start"), None);
        assert_eq!(parse_op_key("start_0"), None);
    }

    #[test]
    fn specs_need_three_fields() {
        assert_eq!(parse("r_monitor_10000@n1=7").unwrap(), OpSpec { resource: "r".into(), task: "monitor".into(), interval_ms: 10000, node: "n1".into(), rc: 7 });
        assert_eq!(parse("r_monitor_10000@n1").unwrap_err(), "Invalid operation spec: r_monitor_10000@n1.  Only found 2 fields");
        assert_eq!(parse("r_monitor_10000").unwrap_err(), "Invalid operation spec: r_monitor_10000.  Only found 1 fields");
        assert_eq!(rc_of("r_stop_0@n1=1"), Some(1));
        assert_eq!(rc_of("r_stop_0@n1=x"), None);
    }
}
