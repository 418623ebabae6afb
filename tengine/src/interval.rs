//! The small value syntaxes graphs carry: durations (`60s`, `500ms`,
//! `PT1M`) and booleans (`true`, `yes`, `1`...), read as Pacemaker reads them.

/// A duration in milliseconds, or `None` if the text is not one.
///
/// A bare number is seconds; units `ms`/`msec`, `us`/`usec`, `s`/`sec`,
/// `m`/`min`, `h`/`hr` may follow, with optional white space. Text
/// starting with `P` is an ISO 8601 duration (`P1DT2H`, `PT90S`, `P2W`).
pub fn parse_ms(text: &str) -> Option<u64> {
    let t = text.trim();
    if let Some(iso) = t.strip_prefix('P') {
        return parse_iso8601(iso);
    }
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    if digits == 0 {
        return None;
    }
    let n: u64 = t[..digits].parse().ok()?;
    let unit = t[digits..].trim().to_ascii_lowercase();
    let ms = match unit.as_str() {
        "" | "s" | "sec" => n.checked_mul(1000)?,
        "ms" | "msec" => n,
        "us" | "usec" => n / 1000,
        "m" | "min" => n.checked_mul(60_000)?,
        "h" | "hr" => n.checked_mul(3_600_000)?,
        _ => return None,
    };
    Some(ms)
}

/// `PnW`, or `PnDTnHnMnS` with any part left out (years and months,
/// whose length depends on the calendar, are refused).
fn parse_iso8601(rest: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut in_time = false;
    let mut num = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c {
            '0'..='9' => num.push(c),
            'T' if !in_time && num.is_empty() => in_time = true,
            _ => {
                let n: u64 = num.parse().ok()?;
                num.clear();
                let unit_ms: u64 = match (in_time, c) {
                    (false, 'W') => 7 * 86_400_000,
                    (false, 'D') => 86_400_000,
                    (true, 'H') => 3_600_000,
                    (true, 'M') => 60_000,
                    (true, 'S') => 1000,
                    _ => return None,
                };
                total = total.checked_add(n.checked_mul(unit_ms)?)?;
                any = true;
            }
        }
    }
    (any && num.is_empty()).then_some(total)
}

/// Pacemaker's idea of a true value.
pub fn is_true(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "true" | "on" | "yes" | "y" | "1"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_ms("60s"), Some(60_000));
        assert_eq!(parse_ms("60"), Some(60_000));
        assert_eq!(parse_ms("500ms"), Some(500));
        assert_eq!(parse_ms("2min"), Some(120_000));
        assert_eq!(parse_ms("1h"), Some(3_600_000));
        assert_eq!(parse_ms(" 5 s "), Some(5000));
        assert_eq!(parse_ms("PT1M30S"), Some(90_000));
        assert_eq!(parse_ms("P1DT1H"), Some(90_000_000));
        assert_eq!(parse_ms("P2W"), Some(14 * 86_400_000));
        assert_eq!(parse_ms("s"), None);
        assert_eq!(parse_ms("10 parsecs"), None);
        assert_eq!(parse_ms("PT"), None);
        assert_eq!(parse_ms("P1Y"), None);
    }

    #[test]
    fn booleans() {
        for t in ["true", "TRUE", "on", "yes", "y", "1"] {
            assert!(is_true(t), "{t}");
        }
        for t in ["false", "0", "no", "", "maybe"] {
            assert!(!is_true(t), "{t}");
        }
    }
}
