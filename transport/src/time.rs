//! Time values in ha.cf, read as Heartbeat reads them (cluster-glue's
//! `cl_get_msec`): a decimal number of seconds (`2`, `0.5`), or with a
//! unit `ms`/`msec` or `us`/`usec` (any case, spaces allowed before the
//! unit), rounded to the nearest millisecond. `5s` is *not* accepted, by
//! Heartbeat or here.

/// Milliseconds, or `None` when the text is not a time.
pub fn parse_ms(text: &str) -> Option<u64> {
    let t = text.trim_start();
    let num_len = t.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
    let (num, unit) = t.split_at(num_len);
    if num.is_empty() || num.bytes().filter(|&b| b == b'.').count() > 1 || !num.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let unit = unit.trim().to_ascii_lowercase();
    let scale = match unit.as_str() {
        "" => 1000.0,
        "ms" | "msec" => 1.0,
        "us" | "usec" => 0.001,
        _ => return None,
    };
    let v: f64 = num.parse().ok()?;
    let ms = v * scale + 0.5;
    (ms.is_finite() && ms < u64::MAX as f64 / 2.0).then_some(ms as u64)
}

/// Formats milliseconds the way the diagnostics quote them: whole seconds
/// as `30s`, others as `1500ms`.
pub fn show_ms(ms: u64) -> String {
    #[allow(clippy::manual_is_multiple_of)] // is_multiple_of is newer than rust-version 1.85
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_glue_examples() {
        for (t, ms) in [
            ("1", 1000),
            ("1000ms", 1000),
            ("1000000us", 1000),
            ("0.1", 100),
            ("100ms", 100),
            ("100000us", 100),
            ("0.001", 1),
            ("1ms", 1),
            ("1000us", 1),
            ("499us", 0),
            ("501us", 1),
            ("30", 30000),
            ("500 MS", 500),
            (".5", 500),
            ("2msec", 2),
        ] {
            assert_eq!(parse_ms(t), Some(ms), "{t}");
        }
        for t in ["", "5s", "abc", "1.2.3", ".", "2(K)", "-1", "1m"] {
            assert_eq!(parse_ms(t), None, "{t}");
        }
    }

    #[test]
    fn show() {
        assert_eq!(show_ms(30000), "30s");
        assert_eq!(show_ms(1500), "1500ms");
    }
}
