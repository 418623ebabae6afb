//! Wall-clock times as Pacemaker's tools print them, in the local time
//! zone (the C library's `localtime_r`, so `TZ` is honoured exactly as it
//! is for Pacemaker's own binaries).

use nix::libc;

/// Broken-down local time of an epoch.
struct Local {
    tm: libc::tm,
}

extern "C" {
    // POSIX; the libc crate does not bind it on every target.
    fn tzset();
}

fn local(epoch: i64) -> Local {
    let t: libc::time_t = epoch as libc::time_t;
    // SAFETY: localtime_r only writes the struct we hand it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe {
        tzset();
        libc::localtime_r(&t, &mut tm);
    }
    Local { tm }
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `ctime`-style text without the newline: `Fri Mar  2 05:46:23 2012`
/// (`pcmk__epoch2str(t, 0)`).
pub fn ctime(epoch: i64) -> String {
    let l = local(epoch).tm;
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {}",
        DAYS[l.tm_wday.rem_euclid(7) as usize],
        MONTHS[l.tm_mon.rem_euclid(12) as usize],
        l.tm_mday,
        l.tm_hour,
        l.tm_min,
        l.tm_sec,
        l.tm_year as i64 + 1900
    )
}

/// `2012-03-02 05:46:23Z` or `2012-03-02 06:46:23 +01:00`: date, time of
/// day and zone, as crm_mon's XML writes `last-rc-change` of failures.
pub fn iso_with_zone(epoch: i64) -> String {
    let l = local(epoch).tm;
    let offset = l.tm_gmtoff;
    let zone = if offset == 0 {
        "Z".to_string()
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let a = offset.abs();
        format!(" {sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{zone}",
        l.tm_year as i64 + 1900,
        l.tm_mon + 1,
        l.tm_mday,
        l.tm_hour,
        l.tm_min,
        l.tm_sec
    )
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Pacemaker 2.1.5's `pcmk__readable_interval`: `10ms`, `60s`,
/// `1m35.134s`, `2h`: a unit is used only when the rest exceeds it
/// strictly, and the parts are written without separators.
pub fn readable_interval(ms: u64) -> String {
    const SEC: u64 = 1000;
    const MIN: u64 = 60 * SEC;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    let mut s = String::new();
    let mut rest = ms;
    for (unit, suffix) in [(DAY, "d"), (HOUR, "h"), (MIN, "m")] {
        if rest > unit {
            s.push_str(&format!("{}{suffix}", rest / unit));
            rest %= unit;
        }
    }
    if rest > SEC {
        if rest.is_multiple_of(SEC) {
            s.push_str(&format!("{}s", rest / SEC));
        } else {
            s.push_str(&format!("{}.{:03}s", rest / SEC, rest % SEC));
        }
    } else if rest > 0 || s.is_empty() {
        s.push_str(&format!("{rest}ms"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_as_pacemaker_writes_them() {
        assert_eq!(readable_interval(10), "10ms");
        assert_eq!(readable_interval(10_000), "10s");
        assert_eq!(readable_interval(30_160), "30.160s");
        assert_eq!(readable_interval(60_000), "60s");
        assert_eq!(readable_interval(95_134), "1m35.134s");
        assert_eq!(readable_interval(179_014), "2m59.014s");
    }
}
