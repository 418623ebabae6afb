//! Alerts: the CIB's `alerts` section, and what each alert agent is run
//! with for a cluster event (docs/ALERTS.md). Pure: the shell
//! (`shell::alerts`) reads the section, feeds events and runs the agents.
//!
//! ```text
//!  <alerts>
//!    <alert id="file" path="/usr/lib/heartbeat-rs/alerts/alert_file">
//!      <meta_attributes> timeout, timestamp-format </meta_attributes>
//!      <instance_attributes> NAME=VALUE ... (the agent's environment) </instance_attributes>
//!      <select> <select_nodes/> <select_fencing/> <select_resources/> </select>
//!      <recipient id="r1" value="/var/log/cluster-alerts.log"> (own meta/instance attributes) </recipient>
//!    </alert>
//!  </alerts>
//!
//!  Event + alerts --runs()--> one Run per (alert, recipient) that selects
//!  the event's kind: path, timeout, environment (CRM_alert_* and
//!  CRM_notify_*, then the instance attributes)
//! ```
//!
//! As Pacemaker 2.1.5: an alert without `select` takes every kind; with
//! it, the kinds listed (`select_attributes` is parsed but attribute
//! events are not raised: docs/ALERTS.md); an alert without recipients
//! runs once with an empty `CRM_alert_recipient`; a recipient's meta and
//! instance attributes override the alert's; the default timeout is 30 s
//! and the default timestamp format `%H:%M:%S.%06N`; a probe that found
//! what was expected is not alerted.

use std::time::Duration;

use cib::Element;

/// The version alert agents are told (`CRM_alert_version`).
pub const VERSION: &str = "2.1.5";

/// Pacemaker's default `timestamp-format`.
pub const DEFAULT_TIMESTAMP_FORMAT: &str = "%H:%M:%S.%06N";

/// Pacemaker's default alert timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// One `<alert>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub id: String,
    pub path: String,
    pub settings: Settings,
    /// `None`: no `select` element, every kind.
    pub select: Option<Select>,
    pub recipients: Vec<Recipient>,
}

/// What an alert or a recipient sets (a recipient's override its alert's).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    pub timeout: Option<Duration>,
    pub timestamp_format: Option<String>,
    /// Instance attributes: extra environment of the agent.
    pub env: Vec<(String, String)>,
}

/// One `<recipient>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub id: String,
    pub value: String,
    pub settings: Settings,
}

/// The `select` element: which kinds of event the alert takes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Select {
    pub nodes: bool,
    pub fencing: bool,
    pub resources: bool,
    /// `select_attributes`, with the attribute names it lists (empty: all).
    pub attributes: Option<Vec<String>>,
}

/// A cluster event alert agents hear of.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A node joined (`desc` "member") or left ("lost") the membership.
    Node { node: String, nodeid: String, member: bool },
    /// A fencing operation ended (`rc` 0 on success).
    Fencing { target: String, task: String, rc: i32, desc: String },
    /// A resource operation's result on `node`.
    Resource { node: String, rsc: String, task: String, interval_ms: u64, rc: i32, status: i32, target_rc: i32, desc: String },
}

impl Event {
    /// `CRM_alert_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Node { .. } => "node",
            Event::Fencing { .. } => "fencing",
            Event::Resource { .. } => "resource",
        }
    }

    /// Whether Pacemaker alerts this event at all: a probe (monitor of
    /// interval 0) that found the expected state is routine.
    pub fn alerted(&self) -> bool {
        match self {
            Event::Resource { task, interval_ms: 0, rc, target_rc, .. } => !(task == "monitor" && rc == target_rc),
            _ => true,
        }
    }

    fn vars(&self) -> Vec<(&'static str, String)> {
        match self {
            Event::Node { node, nodeid, member } => vec![
                ("node", node.clone()),
                ("nodeid", nodeid.clone()),
                ("desc", if *member { "member" } else { "lost" }.to_string()),
            ],
            Event::Fencing { target, task, rc, desc } => {
                vec![("node", target.clone()), ("task", task.clone()), ("rc", rc.to_string()), ("desc", desc.clone())]
            }
            Event::Resource { node, rsc, task, interval_ms, rc, status, target_rc, desc } => vec![
                ("node", node.clone()),
                ("rsc", rsc.clone()),
                ("task", task.clone()),
                ("interval", interval_ms.to_string()),
                ("rc", rc.to_string()),
                ("status", status.to_string()),
                ("target_rc", target_rc.to_string()),
                ("desc", desc.clone()),
            ],
        }
    }
}

impl Select {
    fn takes(&self, ev: &Event) -> bool {
        match ev {
            Event::Node { .. } => self.nodes,
            Event::Fencing { .. } => self.fencing,
            Event::Resource { .. } => self.resources,
        }
    }
}

/// An agent to run for an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub alert_id: String,
    pub path: String,
    pub timeout: Duration,
    /// The whole environment the agent adds to crmd's.
    pub env: Vec<(String, String)>,
}

fn nvpairs(e: &Element, set: &str) -> Vec<(String, String)> {
    e.children_named(set)
        .flat_map(|s| s.children_named("nvpair"))
        .filter_map(|p| Some((p.attr("name")?.to_string(), p.attr("value").unwrap_or_default().to_string())))
        .collect()
}

fn settings(e: &Element) -> Settings {
    let meta = nvpairs(e, "meta_attributes");
    let get = |name: &str| meta.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    Settings {
        timeout: get("timeout").and_then(|t| cib::model::duration::parse_msec(&t)).map(Duration::from_millis),
        timestamp_format: get("timestamp-format"),
        env: nvpairs(e, "instance_attributes"),
    }
}

/// The alerts of a CIB (`configuration/alerts`); an alert without `id`
/// or `path` is skipped (the schema requires both).
pub fn parse(cib: &Element) -> Vec<Alert> {
    let Some(alerts) = cib.child("configuration").and_then(|c| c.child("alerts")) else { return Vec::new() };
    alerts
        .children_named("alert")
        .filter_map(|a| {
            let select = a.child("select").map(|s| Select {
                nodes: s.child("select_nodes").is_some(),
                fencing: s.child("select_fencing").is_some(),
                resources: s.child("select_resources").is_some(),
                attributes: s.child("select_attributes").map(|sa| {
                    sa.children_named("attribute").filter_map(|x| x.attr("name").map(str::to_string)).collect()
                }),
            });
            let recipients = a
                .children_named("recipient")
                .filter_map(|r| {
                    Some(Recipient {
                        id: r.id()?.to_string(),
                        value: r.attr("value").unwrap_or_default().to_string(),
                        settings: settings(r),
                    })
                })
                .collect();
            Some(Alert { id: a.id()?.to_string(), path: a.attr("path")?.to_string(), settings: settings(a), select, recipients })
        })
        .collect()
}

/// The agents to run for `ev`: one per alert that selects its kind and
/// per recipient (once with an empty recipient when there is none).
/// `seq` is this node's alert sequence number; `timestamp` formats the
/// event's time with a `timestamp-format`.
pub fn runs(alerts: &[Alert], ev: &Event, seq: u64, epoch: i64, usec: u32, timestamp: impl Fn(&str) -> String) -> Vec<Run> {
    if !ev.alerted() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for a in alerts.iter().filter(|a| a.select.as_ref().is_none_or(|s| s.takes(ev))) {
        let none = [None];
        let recipients: Vec<Option<&Recipient>> =
            if a.recipients.is_empty() { none.to_vec() } else { a.recipients.iter().map(Some).collect() };
        for r in recipients {
            let over = r.map(|r| &r.settings);
            let format = over
                .and_then(|s| s.timestamp_format.clone())
                .or_else(|| a.settings.timestamp_format.clone())
                .unwrap_or_else(|| DEFAULT_TIMESTAMP_FORMAT.to_string());
            let timeout = over.and_then(|s| s.timeout).or(a.settings.timeout).unwrap_or(DEFAULT_TIMEOUT);
            let mut vars: Vec<(&str, String)> = vec![
                ("kind", ev.kind().to_string()),
                ("version", VERSION.to_string()),
                ("recipient", r.map(|r| r.value.clone()).unwrap_or_default()),
                ("node_sequence", seq.to_string()),
                ("timestamp", timestamp(&format)),
                ("timestamp_epoch", epoch.to_string()),
                ("timestamp_usec", format!("{usec:06}")),
            ];
            vars.extend(ev.vars());
            // Both prefixes: CRM_notify_* is what ClusterMon's external
            // scripts read, and Pacemaker sets both.
            let mut env: Vec<(String, String)> = Vec::new();
            for prefix in ["CRM_alert_", "CRM_notify_"] {
                env.extend(vars.iter().map(|(k, v)| (format!("{prefix}{k}"), v.clone())));
            }
            let mut extra = a.settings.env.clone();
            for (k, v) in over.map(|s| s.env.clone()).unwrap_or_default() {
                extra.retain(|(n, _)| *n != k);
                extra.push((k, v));
            }
            env.extend(extra);
            out.push(Run { alert_id: a.id.clone(), path: a.path.clone(), timeout, env });
        }
    }
    out
}

/// `CRM_alert_timestamp`: `format` as strftime(3) reads it in the local
/// time zone, plus Pacemaker's `%N` for the fraction of the second (`%N`
/// nine digits; `%3N`, `%6N`, `%06N` that many).
pub fn format_timestamp(format: &str, epoch: i64, usec: u32) -> String {
    // The fraction first: strftime does not know %N.
    let mut pre = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            pre.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() {
                spec.push(d);
                chars.next();
            } else {
                break;
            }
        }
        match chars.next() {
            Some('N') => {
                let digits = spec.trim_start_matches('0').parse::<usize>().unwrap_or(9).clamp(1, 9);
                let nanos = format!("{:09}", u64::from(usec) * 1000);
                pre.push_str(&nanos[..digits]);
            }
            Some('%') if spec.is_empty() => pre.push_str("%%"),
            Some(other) => {
                pre.push('%');
                pre.push_str(&spec);
                pre.push(other);
            }
            None => pre.push('%'),
        }
    }
    strftime_local(&pre, epoch)
}

fn strftime_local(format: &str, epoch: i64) -> String {
    use nix::libc;
    let Ok(cformat) = std::ffi::CString::new(format) else { return format.to_string() };
    let t: libc::time_t = epoch as libc::time_t;
    // SAFETY: localtime_r and strftime write only into the struct and
    // buffer we own, whose size we pass.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let mut buf = vec![0u8; 256 + format.len() * 4];
    let n = unsafe {
        libc::localtime_r(&t, &mut tm);
        libc::strftime(buf.as_mut_ptr().cast(), buf.len(), cformat.as_ptr(), &tm)
    };
    buf.truncate(n);
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::Document;

    const CIB: &str = r#"<cib><configuration><alerts>
      <alert id="all" path="/bin/all">
        <meta_attributes id="m"><nvpair id="m1" name="timeout" value="5s"/><nvpair id="m2" name="timestamp-format" value="%Y"/></meta_attributes>
        <instance_attributes id="i"><nvpair id="i1" name="LEVEL" value="a"/><nvpair id="i2" name="KEEP" value="k"/></instance_attributes>
        <recipient id="r1" value="/tmp/one"/>
        <recipient id="r2" value="/tmp/two">
          <meta_attributes id="rm"><nvpair id="rm1" name="timeout" value="1500ms"/></meta_attributes>
          <instance_attributes id="ri"><nvpair id="ri1" name="LEVEL" value="b"/></instance_attributes>
        </recipient>
      </alert>
      <alert id="rsc-only" path="/bin/rsc"><select><select_resources/></select></alert>
      <alert id="no-path"/>
    </alerts></configuration></cib>"#;

    fn alerts() -> Vec<Alert> {
        parse(&Document::parse(CIB).unwrap().root)
    }

    fn env<'a>(r: &'a Run, name: &str) -> Option<&'a str> {
        r.env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn node_lost() -> Event {
        Event::Node { node: "n2".into(), nodeid: "2".into(), member: false }
    }

    #[test]
    fn the_section_is_read_with_recipients_settings_and_select() {
        let a = alerts();
        assert_eq!(a.len(), 2, "an alert without a path is skipped");
        assert_eq!(a[0].settings.timeout, Some(Duration::from_secs(5)));
        assert_eq!(a[0].recipients[1].settings.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(a[1].select, Some(Select { resources: true, ..Select::default() }));
    }

    #[test]
    fn each_recipient_gets_a_run_with_its_own_overrides() {
        let runs = runs(&alerts(), &node_lost(), 7, 1_700_000_000, 42, |f| format!("<{f}>"));
        assert_eq!(runs.len(), 2, "the resource-only alert takes no node event: {runs:?}");
        let (one, two) = (&runs[0], &runs[1]);
        assert_eq!(env(one, "CRM_alert_recipient"), Some("/tmp/one"));
        assert_eq!(env(two, "CRM_alert_recipient"), Some("/tmp/two"));
        assert_eq!((one.timeout, two.timeout), (Duration::from_secs(5), Duration::from_millis(1500)));
        assert_eq!((env(one, "LEVEL"), env(two, "LEVEL")), (Some("a"), Some("b")));
        assert_eq!(env(two, "KEEP"), Some("k"));
        for r in &runs {
            assert_eq!(env(r, "CRM_alert_kind"), Some("node"));
            assert_eq!(env(r, "CRM_alert_desc"), Some("lost"));
            assert_eq!(env(r, "CRM_alert_node"), Some("n2"));
            assert_eq!(env(r, "CRM_alert_nodeid"), Some("2"));
            assert_eq!(env(r, "CRM_alert_node_sequence"), Some("7"));
            assert_eq!(env(r, "CRM_alert_timestamp"), Some("<%Y>"));
            assert_eq!(env(r, "CRM_alert_timestamp_epoch"), Some("1700000000"));
            assert_eq!(env(r, "CRM_alert_timestamp_usec"), Some("000042"));
            assert_eq!(env(r, "CRM_notify_node"), Some("n2"), "ClusterMon's names too");
            assert_eq!(env(r, "CRM_alert_rsc"), None);
        }
    }

    #[test]
    fn resource_events_carry_the_operation_and_routine_probes_are_not_alerted() {
        let op = |task: &str, interval_ms: u64, rc: i32| Event::Resource {
            node: "n1".into(),
            rsc: "d1".into(),
            task: task.into(),
            interval_ms,
            rc,
            status: 0,
            target_rc: if task == "monitor" && interval_ms == 0 { 7 } else { 0 },
            desc: "x".into(),
        };
        let a = alerts();
        let r = runs(&a, &op("monitor", 10_000, 7), 1, 0, 0, |_| String::new());
        assert_eq!(r.len(), 3, "both recipients and the resource-only alert");
        let rsc = r.iter().find(|r| r.alert_id == "rsc-only").unwrap();
        assert_eq!(env(rsc, "CRM_alert_recipient"), Some(""), "no recipient: run once with none");
        assert_eq!(rsc.timeout, DEFAULT_TIMEOUT);
        for (k, v) in [("rsc", "d1"), ("task", "monitor"), ("interval", "10000"), ("rc", "7"), ("target_rc", "0"), ("status", "0")] {
            assert_eq!(env(rsc, &format!("CRM_alert_{k}")), Some(v), "{k}");
        }
        assert!(runs(&a, &op("monitor", 0, 7), 1, 0, 0, |_| String::new()).is_empty(), "a probe that found it stopped");
        assert_eq!(runs(&a, &op("monitor", 0, 0), 1, 0, 0, |_| String::new()).len(), 3, "a probe that found it running");
        let fencing = Event::Fencing { target: "n2".into(), task: "reboot".into(), rc: 0, desc: "ok".into() };
        assert_eq!(runs(&a, &fencing, 1, 0, 0, |_| String::new()).len(), 2);
    }

    #[test]
    fn timestamps_have_pacemakers_fraction_of_a_second() {
        std::env::set_var("TZ", "UTC");
        assert_eq!(format_timestamp(DEFAULT_TIMESTAMP_FORMAT, 1_700_000_000, 123_456), "22:13:20.123456");
        assert_eq!(format_timestamp("%Y-%m-%d %3N %N %% %s", 1_700_000_000, 5), "2023-11-14 000 000005000 % 1700000000");
    }
}
