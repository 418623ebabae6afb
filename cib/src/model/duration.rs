//! Time spans as the CIB writes them: operation intervals, timeouts and
//! delays, parsed to milliseconds.
//!
//! Two syntaxes, as Pacemaker reads them:
//! - a number with an optional unit (`crm_get_msec`): blanks around the
//!   number are allowed; the unit is matched by prefix, case-insensitively:
//!   `ms`/`msec`, `us`/`usec`, `s`/`sec` (the default), `m`/`min`,
//!   `h`/`hr`. A decimal point ends the number (`1.5s` is 1 s).
//! - an ISO 8601 duration when the text starts with `P` (intervals only):
//!   `PT10S`, `P1DT2H`, `P2W`... Pacemaker also reads `H` and `S` before
//!   the `T` (`P10S` is ten seconds; the scheduler suite relies on it);
//!   `M` is months before `T` and minutes after it.
//!
//! Years count 365 days and months 30 days, as Pacemaker's newer releases
//! define it (2.1.5 itself dropped the first year and the first day of a
//! duration, an arithmetic slip we do not reproduce).

/// Milliseconds in a second, minute, hour and day.
const SECOND: u64 = 1000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// Pacemaker stores intervals in a `guint`.
pub const MAX_INTERVAL_MS: u64 = u32::MAX as u64;

/// A number with an optional unit, in milliseconds (`crm_get_msec`).
/// `None` when there is no number or the unit is unknown; negative
/// values are refused.
pub fn parse_msec(text: &str) -> Option<u64> {
    let t = text.trim_start();
    let number_len = t.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
    if number_len == 0 {
        return None;
    }
    let integer: &str = t[..number_len].split('.').next().unwrap_or("");
    let value: u64 = if integer.is_empty() { 0 } else { integer.parse().unwrap_or(u64::MAX) };
    let unit = t[number_len..].trim_start().to_ascii_lowercase();
    // Order matters: "ms" before "m", "us" before "s" (prefix matching).
    let (multiplier, divisor) = if unit.starts_with("ms") {
        (1, 1)
    } else if unit.starts_with("us") {
        (1, 1000)
    } else if unit.starts_with('s') {
        (SECOND, 1)
    } else if unit.starts_with('m') {
        (MINUTE, 1)
    } else if unit.starts_with('h') {
        (HOUR, 1)
    } else if unit.trim().is_empty() {
        (SECOND, 1)
    } else {
        return None;
    };
    Some(value.saturating_mul(multiplier) / divisor)
}

/// An operation interval in milliseconds (`crm_parse_interval_spec`):
/// ISO 8601 when it starts with `P`, otherwise [`parse_msec`]. Clamped to
/// [`MAX_INTERVAL_MS`]. `None` when unreadable (Pacemaker then uses 0).
pub fn parse_interval_ms(text: &str) -> Option<u64> {
    let ms = if text.starts_with('P') {
        IsoDuration::parse(text)?.approx_ms()
    } else {
        parse_msec(text)?
    };
    Some(ms.min(MAX_INTERVAL_MS))
}

/// An ISO 8601 duration, field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IsoDuration {
    pub years: u64,
    pub months: u64,
    /// Days, weeks included (a week is 7 days).
    pub days: u64,
    /// Hours, minutes and seconds together.
    pub seconds: u64,
}

impl IsoDuration {
    /// Parses `PnYnMnWnDTnHnMnS` (any subset, at least one field).
    pub fn parse(text: &str) -> Option<IsoDuration> {
        let body = text.strip_prefix('P')?;
        let mut d = IsoDuration::default();
        let mut in_time = false;
        let mut any = false;
        let mut rest = body;
        while let Some(c) = rest.chars().next() {
            if c == 'T' {
                in_time = true;
                rest = &rest[1..];
                continue;
            }
            let len = rest.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 {
                return None;
            }
            let n: u64 = rest[..len].parse().ok()?;
            let unit = rest[len..].chars().next()?;
            match unit {
                'Y' => d.years = d.years.saturating_add(n),
                'M' if in_time => d.seconds = d.seconds.saturating_add(n.saturating_mul(60)),
                'M' => d.months = d.months.saturating_add(n),
                'W' => d.days = d.days.saturating_add(n.saturating_mul(7)),
                'D' => d.days = d.days.saturating_add(n),
                'H' => d.seconds = d.seconds.saturating_add(n.saturating_mul(3600)),
                'S' => d.seconds = d.seconds.saturating_add(n),
                _ => return None,
            }
            any = true;
            rest = &rest[len + 1..];
        }
        any.then_some(d)
    }

    /// Length in milliseconds with 365-day years and 30-day months.
    pub fn approx_ms(&self) -> u64 {
        let days = self.years.saturating_mul(365).saturating_add(self.months.saturating_mul(30)).saturating_add(self.days);
        days.saturating_mul(DAY).saturating_add(self.seconds.saturating_mul(SECOND))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msec_units_as_crm_get_msec() {
        assert_eq!(parse_msec("100"), Some(100_000));
        assert_eq!(parse_msec(" 100 "), Some(100_000));
        assert_eq!(parse_msec("\t100\n"), Some(100_000));
        assert_eq!(parse_msec("100ms"), Some(100));
        assert_eq!(parse_msec("100 MSEC"), Some(100));
        assert_eq!(parse_msec("1000US"), Some(1));
        assert_eq!(parse_msec("1000usec"), Some(1));
        assert_eq!(parse_msec("12s"), Some(12_000));
        assert_eq!(parse_msec("12 sec"), Some(12_000));
        assert_eq!(parse_msec("1m"), Some(60_000));
        assert_eq!(parse_msec("1min"), Some(60_000));
        assert_eq!(parse_msec("13 min"), Some(780_000));
        assert_eq!(parse_msec("2\th"), Some(7_200_000));
        assert_eq!(parse_msec("1 hr"), Some(3_600_000));
        assert_eq!(parse_msec("1.5s"), Some(1000));
        assert_eq!(parse_msec("0"), Some(0));
    }

    #[test]
    fn msec_refuses_what_crm_get_msec_refuses() {
        assert_eq!(parse_msec(""), None);
        assert_eq!(parse_msec("     "), None);
        assert_eq!(parse_msec("abcxyz"), None);
        assert_eq!(parse_msec("100xs"), None);
        assert_eq!(parse_msec(" 100 xs "), None);
        assert_eq!(parse_msec("-100ms"), None);
    }

    #[test]
    fn intervals_in_both_syntaxes() {
        assert_eq!(parse_interval_ms("10s"), Some(10_000));
        assert_eq!(parse_interval_ms("10"), Some(10_000));
        assert_eq!(parse_interval_ms("0"), Some(0));
        assert_eq!(parse_interval_ms("1min"), Some(60_000));
        assert_eq!(parse_interval_ms("2h"), Some(7_200_000));
        assert_eq!(parse_interval_ms("PT10S"), Some(10_000));
        assert_eq!(parse_interval_ms("PT1M30S"), Some(90_000));
        assert_eq!(parse_interval_ms("P10S"), Some(10_000), "as the suite's intervals.xml uses");
        assert_eq!(parse_interval_ms("P1D"), Some(86_400_000));
        assert_eq!(parse_interval_ms("P1W"), Some(7 * 86_400_000));
        assert_eq!(parse_interval_ms("P1DT1H"), Some(90_000_000));
        assert_eq!(parse_interval_ms("P1M"), Some(30 * 86_400_000));
        assert_eq!(parse_interval_ms("P1Y"), Some(MAX_INTERVAL_MS), "365 days overflows a guint");
        assert_eq!(parse_interval_ms("P"), None);
        assert_eq!(parse_interval_ms("PT"), None);
        assert_eq!(parse_interval_ms("P5"), None);
        assert_eq!(parse_interval_ms("P5X"), None);
        assert_eq!(parse_interval_ms("soon"), None);
    }
}
