//! ISO 8601 date-times as Pacemaker reads them (`crm_time_new`), turned
//! into epoch seconds, and the calendar fields rules need.
//!
//! Accepted: a date as `YYYY-MM-DD`, `YYYY-DDD` (ordinal day) or
//! `YYYY-Www-D` (ISO week), optionally followed by `T` or a space and a
//! time `HH`, `HH:MM` or `HH:MM:SS`, optionally followed by `Z` or an
//! offset `+HH`, `+HH:MM`, `+HHMM` (or `-`). A date-time without an offset
//! is taken as UTC: the engine has no time zone (Pacemaker would use the
//! local one), which keeps results the same on every machine.

use crate::error::PengineError;

/// Parses a date-time into epoch seconds (UTC).
pub fn parse(text: &str) -> Result<i64, PengineError> {
    let err = |reason| PengineError::InvalidDate { text: text.to_string(), reason };
    let t = text.trim();
    let (date, rest) = match t.find(['T', ' ']) {
        Some(i) => (&t[..i], Some(t[i + 1..].trim())),
        None => (t, None),
    };
    let days = parse_date(date).ok_or_else(|| err("bad date"))?;
    let mut secs = days * 86_400;
    if let Some(rest) = rest {
        let (time, offset) = split_offset(rest);
        secs += parse_time(time).ok_or_else(|| err("bad time"))?;
        if let Some(off) = offset {
            secs -= parse_offset(off).ok_or_else(|| err("bad offset"))?;
        }
    }
    Ok(secs)
}

/// Days since 1970-01-01 of a date in any of the accepted forms.
fn parse_date(date: &str) -> Option<i64> {
    let parts: Vec<&str> = date.split('-').collect();
    let num = |s: &str| -> Option<i64> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    match parts.as_slice() {
        [y, m, d] if !m.starts_with('W') => {
            let (y, m, d) = (num(y)?, num(m)?, num(d)?);
            if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
                return None;
            }
            Some(days_from_civil(y, m, d))
        }
        [y, w, d] => {
            // ISO week date: week 1 holds the year's first Thursday.
            let (y, w, d) = (num(y)?, num(w.strip_prefix('W')?)?, num(d)?);
            if !(1..=53).contains(&w) || !(1..=7).contains(&d) {
                return None;
            }
            let jan4 = days_from_civil(y, 1, 4);
            let week1_monday = jan4 - (weekday(jan4) - 1);
            Some(week1_monday + (w - 1) * 7 + (d - 1))
        }
        [y, yd] if yd.len() == 3 => {
            let (y, yd) = (num(y)?, num(yd)?);
            if yd < 1 || yd > if is_leap(y) { 366 } else { 365 } {
                return None;
            }
            Some(days_from_civil(y, 1, 1) + yd - 1)
        }
        [ymd] if ymd.len() == 8 => {
            let (y, m, d) = (num(&ymd[..4])?, num(&ymd[4..6])?, num(&ymd[6..])?);
            if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
                return None;
            }
            Some(days_from_civil(y, m, d))
        }
        _ => None,
    }
}

fn split_offset(rest: &str) -> (&str, Option<&str>) {
    if let Some(t) = rest.strip_suffix('Z') {
        return (t, None);
    }
    match rest.find(['+', '-']) {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    }
}

fn parse_time(time: &str) -> Option<i64> {
    let fields: Vec<&str> = if time.contains(':') {
        time.split(':').collect()
    } else {
        // HH, HHMM or HHMMSS
        (0..time.len()).step_by(2).map(|i| time.get(i..i + 2)).collect::<Option<Vec<_>>>()?
    };
    if fields.is_empty() || fields.len() > 3 {
        return None;
    }
    let mut v = [0i64; 3];
    for (i, f) in fields.iter().enumerate() {
        // Seconds may carry a fraction, which Pacemaker drops.
        let f = if i == 2 { f.split('.').next()? } else { f };
        if f.is_empty() || !f.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        v[i] = f.parse().ok()?;
    }
    if v[0] > 24 || v[1] > 59 || v[2] > 60 {
        return None;
    }
    Some(v[0] * 3600 + v[1] * 60 + v[2])
}

fn parse_offset(off: &str) -> Option<i64> {
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i64>().ok()?, 0),
        4 => (digits[..2].parse::<i64>().ok()?, digits[2..].parse::<i64>().ok()?),
        _ => return None,
    };
    Some(sign * (h * 3600 + m * 60))
}

pub(crate) fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since the epoch of a proleptic Gregorian date (Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// ISO weekday of a day number: 1 = Monday ... 7 = Sunday.
fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7) + 1
}

/// The calendar fields of an instant (UTC), as `date_spec` tests them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    pub year: i64,
    pub month: i64,
    pub monthday: i64,
    pub yearday: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    pub weekyear: i64,
    pub week: i64,
    /// 1 = Monday ... 7 = Sunday.
    pub weekday: i64,
}

impl Calendar {
    pub fn of(epoch: i64) -> Calendar {
        let days = epoch.div_euclid(86_400);
        let secs = epoch.rem_euclid(86_400);
        let (year, month, monthday) = civil_from_days(days);
        let yearday = days - days_from_civil(year, 1, 1) + 1;
        let wd = weekday(days);
        // The ISO week-year is the year of this week's Thursday.
        let thursday = days - (wd - 1) + 3;
        let (weekyear, _, _) = civil_from_days(thursday);
        let week = (thursday - days_from_civil(weekyear, 1, 1)) / 7 + 1;
        Calendar {
            year,
            month,
            monthday,
            yearday,
            hour: secs / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
            weekyear,
            week,
            weekday: wd,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_pacemaker_accepts() {
        assert_eq!(parse("1970-01-01").unwrap(), 0);
        assert_eq!(parse("2023-01-01 10:00:00Z").unwrap(), 1_672_567_200);
        assert_eq!(parse("2023-01-01T10:00:00+02:00").unwrap(), 1_672_560_000);
        assert_eq!(parse("2005-020").unwrap(), parse("2005-01-20").unwrap());
        assert_eq!(parse("2005-020T12:30").unwrap(), parse("2005-01-20 12:30:00").unwrap());
        assert_eq!(parse("2009-W01-1").unwrap(), parse("2008-12-29").unwrap());
        assert!(parse("2005-13-01").is_err());
        assert!(parse("yesterday").is_err());
    }

    #[test]
    fn calendar_fields() {
        let c = Calendar::of(parse("2008-12-29T13:14:15Z").unwrap());
        assert_eq!((c.year, c.month, c.monthday, c.hour, c.minute, c.second), (2008, 12, 29, 13, 14, 15));
        assert_eq!((c.weekyear, c.week, c.weekday, c.yearday), (2009, 1, 1, 364));
    }
}
