//! The fencing history: every request this node made or heard the result
//! of (results are broadcast, so every stonithd records every completed
//! operation), kept in memory, newest 500 at most (as Pacemaker keeps).
//! The text forms are Pacemaker 2.1.5's (`stonith_admin -H`).

use crate::protocol::{Event, OpState};

/// Entries kept.
pub const MAX_EVENTS: usize = 500;

#[derive(Debug, Clone, Default)]
pub struct History {
    events: Vec<Event>,
}

impl History {
    /// Records an event, replacing an earlier record of the same
    /// operation; a pending record never replaces a completed one.
    pub fn record(&mut self, ev: Event) {
        if let Some(old) = self.events.iter_mut().find(|e| e.id == ev.id) {
            if ev.state == OpState::Pending && old.state != OpState::Pending {
                return;
            }
            *old = ev;
            return;
        }
        self.events.push(ev);
        if self.events.len() > MAX_EVENTS {
            // Drop the oldest completed entry (pending ones are in use).
            if let Some(i) = self.events.iter().position(|e| e.state != OpState::Pending) {
                self.events.remove(i);
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.id == id)
    }

    /// Events for `target` (`None` or `*`: all), sorted as Pacemaker
    /// sorts them: pending first, then newest completion first.
    pub fn query(&self, target: Option<&str>) -> Vec<Event> {
        let mut v: Vec<Event> = self
            .events
            .iter()
            .filter(|e| target.is_none_or(|t| t == "*" || e.target.eq_ignore_ascii_case(t)))
            .cloned()
            .collect();
        sort(&mut v);
        v
    }
}

/// Pending first, then by completion, newest first.
pub fn sort(v: &mut [Event]) {
    v.sort_by_key(|e| {
        (
            e.state != OpState::Pending,
            std::cmp::Reverse(e.completed_ms),
        )
    });
}

/// Pacemaker's `stonith_action_str`.
pub fn action_words(action: &str) -> &str {
    match action {
        "on" => "unfencing",
        "off" => "turning off",
        "" => "fencing",
        a => a,
    }
}

fn state_words(s: OpState) -> &'static str {
    match s {
        OpState::Failed => "failed",
        OpState::Done => "successful",
        OpState::Pending => "pending",
    }
}

/// The node whose later equivalent attempt succeeded, for a failed event
/// (Pacemaker's `stonith__later_succeeded`); `history` sorted.
pub fn later_succeeded<'h>(ev: &Event, history: &'h [Event]) -> Option<&'h str> {
    if ev.state != OpState::Failed {
        return None;
    }
    let mut found = None;
    for h in history {
        if h.id == ev.id {
            break;
        }
        if h.state == OpState::Done
            && h.target.eq_ignore_ascii_case(&ev.target)
            && h.action == ev.action
            && h.completed_ms > ev.completed_ms
        {
            let Some(d) = h.delegate.as_deref() else {
                continue;
            };
            if ev
                .delegate
                .as_deref()
                .is_none_or(|x| x.eq_ignore_ascii_case(d))
            {
                return Some(d);
            }
            found.get_or_insert(d);
        }
    }
    found
}

/// One line of `stonith_admin -H` (Pacemaker's history description with
/// the failed-detail form): `reboot of n2 successful: delegate=n1,
/// client=stonith_admin.42, origin=n1, last-successful='2024-01-02 10:00:00Z'`.
pub fn describe(ev: &Event, full_history: bool, later: Option<&str>) -> String {
    let completed = ev.state != OpState::Pending;
    let mut s = format!(
        "{} of {} {}",
        action_words(&ev.action),
        ev.target,
        state_words(ev.state)
    );
    if ev.state == OpState::Failed {
        if let Some(r) = &ev.reason {
            s.push_str(&format!(" ({r})"));
        }
    }
    s.push_str(": ");
    if completed {
        if let Some(d) = &ev.delegate {
            s.push_str(&format!("delegate={d}, "));
        }
    }
    s.push_str(&format!("client={}, origin={}", ev.client, ev.origin));
    if completed {
        let word = if full_history {
            "completed"
        } else if ev.state == OpState::Failed {
            "last-failed"
        } else {
            "last-successful"
        };
        s.push_str(&format!(
            ", {word}='{}'",
            time_string(ev.completed_ms / 1000)
        ));
    }
    if let Some(n) = later {
        s.push_str(&format!(" (a later attempt from {n} succeeded)"));
    }
    s
}

/// `crm_time_as_string` with date, time of day and time zone, in local
/// time: `2024-01-02 10:00:00Z` in UTC, `2024-01-02 11:00:00 +01:00`
/// elsewhere.
pub fn time_string(epoch: i64) -> String {
    let t: nix::libc::time_t = epoch as nix::libc::time_t;
    // SAFETY: localtime_r writes only into `tm`, which we own; `t` lives
    // for the call.
    let mut tm: nix::libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !nix::libc::localtime_r(&t, &mut tm).is_null() };
    if !ok {
        return epoch.to_string();
    }
    format_time(
        [
            tm.tm_year + 1900,
            tm.tm_mon + 1,
            tm.tm_mday,
            tm.tm_hour,
            tm.tm_min,
            tm.tm_sec,
        ],
        tm.tm_gmtoff,
    )
}

/// Date and time fields (year, month, day, hour, minute, second) and the
/// offset from UTC in seconds, as `crm_time_as_string` writes them.
pub fn format_time(f: [i32; 6], off: i64) -> String {
    let base = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        f[0], f[1], f[2], f[3], f[4], f[5]
    );
    if off == 0 {
        format!("{base}Z")
    } else {
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.abs();
        format!("{base} {sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::FenceStatus;

    fn ev(
        id: &str,
        target: &str,
        state: OpState,
        completed_ms: i64,
        delegate: Option<&str>,
    ) -> Event {
        Event {
            id: id.into(),
            target: target.into(),
            action: "reboot".into(),
            origin: "n1".into(),
            client: "stonith_admin.7".into(),
            delegate: delegate.map(str::to_string),
            state,
            status: if state == OpState::Failed {
                FenceStatus::Error
            } else {
                FenceStatus::Done
            },
            reason: (state == OpState::Failed).then(|| "fence agent failed".to_string()),
            completed_ms,
        }
    }

    #[test]
    fn records_replace_by_id_and_sort_pending_first() {
        let mut h = History::default();
        h.record(ev("a", "n2", OpState::Pending, 0, None));
        h.record(ev("b", "n2", OpState::Done, 1_000, Some("n1")));
        h.record(ev("c", "n3", OpState::Failed, 2_000, Some("n1")));
        h.record(ev("a", "n2", OpState::Done, 3_000, Some("n3")));
        // A late pending copy does not undo a result.
        h.record(ev("a", "n2", OpState::Pending, 0, None));
        let ids: Vec<_> = h.query(None).into_iter().map(|e| e.id).collect();
        assert_eq!(ids, ["a", "c", "b"]);
        assert_eq!(h.query(Some("N2")).len(), 2);
        assert_eq!(h.query(Some("*")).len(), 3);
        h.record(ev("p", "n4", OpState::Pending, 0, None));
        assert_eq!(h.query(None)[0].id, "p");
    }

    #[test]
    fn descriptions_are_pacemakers() {
        let done = ev("b", "n2", OpState::Done, 1_700_000_000_000, Some("n1"));
        assert_eq!(
            describe(&done, false, None),
            format!("reboot of n2 successful: delegate=n1, client=stonith_admin.7, origin=n1, last-successful='{}'", time_string(1_700_000_000))
        );
        let failed = ev("c", "n2", OpState::Failed, 1_699_999_999_000, Some("n1"));
        let hist = vec![done.clone(), failed.clone()];
        assert_eq!(later_succeeded(&failed, &hist), Some("n1"));
        assert_eq!(
            describe(&failed, true, later_succeeded(&failed, &hist)),
            format!("reboot of n2 failed (fence agent failed): delegate=n1, client=stonith_admin.7, origin=n1, completed='{}' (a later attempt from n1 succeeded)", time_string(1_699_999_999))
        );
        let mut off = ev("p", "n3", OpState::Pending, 0, None);
        off.action = "off".into();
        assert_eq!(
            describe(&off, true, None),
            "turning off of n3 pending: client=stonith_admin.7, origin=n1"
        );
        assert_eq!(
            format_time([2023, 11, 14, 22, 13, 20], 0),
            "2023-11-14 22:13:20Z"
        );
        assert_eq!(
            format_time([2026, 1, 2, 3, 4, 5], 3600),
            "2026-01-02 03:04:05 +01:00"
        );
        assert_eq!(
            format_time([2026, 1, 2, 3, 4, 5], -(5 * 3600 + 1800)),
            "2026-01-02 03:04:05 -05:30"
        );
    }
}
