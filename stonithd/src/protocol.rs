//! What travels: the local protocol (`$HA_RUNDIR/stonithd.sock`, frames
//! of `tools::cib_live`: 4-byte big-endian length + compact XML) and the
//! cluster messages between stonithds (heartbeat, `t=stonithd`).
//!
//! Local requests and replies, one final reply per request in order; a
//! fence request is first answered `pending` with how long the client
//! should wait (the daemon knows the delays, the client does not):
//!
//! ```xml
//! <stonith_request op="fence" target="n2" action="reboot" timeout_ms="120000" [delay_ms="0"] client="stonith_admin.42"/>
//! <stonith_request op="devices" [target="n2"]/>
//! <stonith_request op="monitor" device="f1" timeout_ms="120000"/>
//! <stonith_request op="history" [target="n2"]/>
//! <stonith_reply rc="pending" wait_ms="135000"/>
//! <stonith_reply rc="ok" kind="fence|history"><event id=".." target=".." .../>...</stonith_reply>
//! <stonith_reply rc="ok" kind="devices"><device id="f1"/>...</stonith_reply>
//! <stonith_reply rc="ok" kind="monitor"/>
//! <stonith_reply rc="error" status="no-device|timeout|error|not-supported" reason="..."/>
//! ```
//!
//! Cluster messages (`st_op`):
//! - `query` (broadcast) `st_id target action origin`: who can fence it?
//! - `query_reply` (to the origin) `st_id can=1|0`;
//! - `exec` (to the chosen peer) `st_id target action origin client timeout_ms delay_ms`;
//! - `result` (broadcast) the event's fields: every stonithd records it.

use cib::Element;
use transport::wire::Message;

/// A fencing operation's state, as the history shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpState {
    Pending,
    Done,
    Failed,
}

impl OpState {
    pub fn as_str(self) -> &'static str {
        match self {
            OpState::Pending => "pending",
            OpState::Done => "done",
            OpState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<OpState> {
        [OpState::Pending, OpState::Done, OpState::Failed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Why an operation ended as it did (Pacemaker's execution status for
/// fencing, reduced to what happens here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FenceStatus {
    Done,
    /// No device anywhere could fence the target.
    NoDevice,
    /// The agent or the whole operation ran out of time.
    Timeout,
    /// The agent failed (or could not run).
    Error,
    /// The device does not do this action.
    NotSupported,
}

impl FenceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FenceStatus::Done => "done",
            FenceStatus::NoDevice => "no-device",
            FenceStatus::Timeout => "timeout",
            FenceStatus::Error => "error",
            FenceStatus::NotSupported => "not-supported",
        }
    }

    pub fn parse(s: &str) -> Option<FenceStatus> {
        [
            FenceStatus::Done,
            FenceStatus::NoDevice,
            FenceStatus::Timeout,
            FenceStatus::Error,
            FenceStatus::NotSupported,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// The crm_exit_t stonith_admin exits with (Pacemaker maps the
    /// result to an errno, then to an exit code: ENODEV and agent errors
    /// are 1, ETIME 124, EOPNOTSUPP 3).
    pub fn exit_code(self) -> u8 {
        match self {
            FenceStatus::Done => 0,
            FenceStatus::NoDevice | FenceStatus::Error => 1,
            FenceStatus::Timeout => 124,
            FenceStatus::NotSupported => 3,
        }
    }
}

/// One fencing operation, as recorded in every node's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `ORIGIN-PID-N-MS`: unique across the cluster.
    pub id: String,
    pub target: String,
    /// `reboot`, `off`, `on`.
    pub action: String,
    /// The node whose stonithd took the request.
    pub origin: String,
    /// Who asked (`stonith_admin.PID`, `crmd.PID`).
    pub client: String,
    /// The node that ran the device (when one did).
    pub delegate: Option<String>,
    pub state: OpState,
    pub status: FenceStatus,
    pub reason: Option<String>,
    /// Completion (or, while pending, request) time, ms since the epoch.
    pub completed_ms: i64,
}

const EVENT_FIELDS: [&str; 10] = [
    "id",
    "target",
    "action",
    "origin",
    "client",
    "delegate",
    "state",
    "status",
    "reason",
    "completed_ms",
];

impl Event {
    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            ("id", self.id.clone()),
            ("target", self.target.clone()),
            ("action", self.action.clone()),
            ("origin", self.origin.clone()),
            ("client", self.client.clone()),
        ];
        if let Some(d) = &self.delegate {
            v.push(("delegate", d.clone()));
        }
        v.push(("state", self.state.as_str().to_string()));
        v.push(("status", self.status.as_str().to_string()));
        if let Some(r) = &self.reason {
            v.push(("reason", r.clone()));
        }
        v.push(("completed_ms", self.completed_ms.to_string()));
        v
    }

    fn from_fields(get: impl Fn(&str) -> Option<String>) -> Result<Event, String> {
        let need = |n: &str| get(n).ok_or_else(|| format!("event without {n}"));
        Ok(Event {
            id: need("id")?,
            target: need("target")?,
            action: need("action")?,
            origin: need("origin")?,
            client: get("client").unwrap_or_default(),
            delegate: get("delegate"),
            state: OpState::parse(&need("state")?).ok_or("bad state")?,
            status: FenceStatus::parse(&need("status")?).ok_or("bad status")?,
            reason: get("reason"),
            completed_ms: need("completed_ms")?
                .parse()
                .map_err(|_| "bad completed_ms")?,
        })
    }

    pub fn to_xml(&self) -> Element {
        self.fields()
            .into_iter()
            .fold(Element::new("event"), |e, (k, v)| e.with_attr(k, v))
    }

    pub fn from_xml(e: &Element) -> Result<Event, String> {
        Event::from_fields(|n| e.attr(n).map(str::to_string))
    }
}

/// A local request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `delay_ms`: `None` lets the daemon apply `priority-fencing-delay`
    /// (the DC's requests); `Some(d)`: d ms instead (stonith_admin
    /// `--delay`), `-1` disables device delays too.
    Fence {
        target: String,
        action: String,
        timeout_ms: u64,
        delay_ms: Option<i64>,
        client: String,
    },
    /// Registered devices; with a target, those that can fence it.
    Devices {
        target: Option<String>,
        timeout_ms: u64,
    },
    Monitor {
        device: String,
        timeout_ms: u64,
    },
    History {
        target: Option<String>,
    },
}

fn num<T: std::str::FromStr>(e: &Element, name: &str) -> Result<Option<T>, String> {
    e.attr(name)
        .map(|v| v.parse().map_err(|_| format!("bad {name} {v:?}")))
        .transpose()
}

impl Request {
    pub fn to_xml(&self) -> Element {
        let e = Element::new("stonith_request");
        match self {
            Request::Fence {
                target,
                action,
                timeout_ms,
                delay_ms,
                client,
            } => {
                let e = e
                    .with_attr("op", "fence")
                    .with_attr("target", target)
                    .with_attr("action", action)
                    .with_attr("timeout_ms", timeout_ms.to_string())
                    .with_attr("client", client);
                match delay_ms {
                    Some(d) => e.with_attr("delay_ms", d.to_string()),
                    None => e,
                }
            }
            Request::Devices { target, timeout_ms } => {
                let e = e
                    .with_attr("op", "devices")
                    .with_attr("timeout_ms", timeout_ms.to_string());
                match target {
                    Some(t) => e.with_attr("target", t),
                    None => e,
                }
            }
            Request::Monitor { device, timeout_ms } => e
                .with_attr("op", "monitor")
                .with_attr("device", device)
                .with_attr("timeout_ms", timeout_ms.to_string()),
            Request::History { target } => {
                let e = e.with_attr("op", "history");
                match target {
                    Some(t) => e.with_attr("target", t),
                    None => e,
                }
            }
        }
    }

    pub fn from_xml(e: &Element) -> Result<Request, String> {
        if e.name != "stonith_request" {
            return Err(format!("not a stonith_request: <{}>", e.name));
        }
        let s = |n: &str| e.attr(n).map(str::to_string);
        let need = |n: &str| s(n).ok_or_else(|| format!("request without {n}"));
        let timeout_ms = num(e, "timeout_ms")?.unwrap_or(crate::DEFAULT_TIMEOUT_MS);
        match e.attr("op") {
            Some("fence") => {
                let action = need("action")?;
                if !matches!(action.as_str(), "reboot" | "off" | "on") {
                    return Err(format!("unknown fence action {action:?}"));
                }
                Ok(Request::Fence {
                    target: need("target")?,
                    action,
                    timeout_ms,
                    delay_ms: num(e, "delay_ms")?,
                    client: s("client").unwrap_or_default(),
                })
            }
            Some("devices") => Ok(Request::Devices {
                target: s("target"),
                timeout_ms,
            }),
            Some("monitor") => Ok(Request::Monitor {
                device: need("device")?,
                timeout_ms,
            }),
            Some("history") => Ok(Request::History {
                target: s("target"),
            }),
            other => Err(format!("unknown op {other:?}")),
        }
    }
}

/// A local reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A fence request was taken; its result comes within `wait_ms`.
    Pending {
        wait_ms: u64,
    },
    /// The fence request's outcome (done or failed).
    Fenced(Event),
    Devices(Vec<String>),
    MonitorOk,
    History(Vec<Event>),
    Error {
        status: FenceStatus,
        reason: String,
    },
}

impl Reply {
    pub fn to_xml(&self) -> Element {
        let e = Element::new("stonith_reply");
        match self {
            Reply::Pending { wait_ms } => e
                .with_attr("rc", "pending")
                .with_attr("wait_ms", wait_ms.to_string()),
            Reply::Fenced(ev) => e
                .with_attr("rc", "ok")
                .with_attr("kind", "fence")
                .with_child(ev.to_xml()),
            Reply::History(evs) => evs.iter().fold(
                e.with_attr("rc", "ok").with_attr("kind", "history"),
                |e, ev| e.with_child(ev.to_xml()),
            ),
            Reply::Devices(ids) => ids.iter().fold(
                e.with_attr("rc", "ok").with_attr("kind", "devices"),
                |e, id| e.with_child(Element::new("device").with_attr("id", id)),
            ),
            Reply::MonitorOk => e.with_attr("rc", "ok").with_attr("kind", "monitor"),
            Reply::Error { status, reason } => e
                .with_attr("rc", "error")
                .with_attr("status", status.as_str())
                .with_attr("reason", reason),
        }
    }

    pub fn from_xml(e: &Element) -> Result<Reply, String> {
        if e.name != "stonith_reply" {
            return Err(format!("not a stonith_reply: <{}>", e.name));
        }
        let events = || {
            e.children_named("event")
                .map(Event::from_xml)
                .collect::<Result<Vec<_>, _>>()
        };
        match (e.attr("rc"), e.attr("kind")) {
            (Some("pending"), _) => Ok(Reply::Pending {
                wait_ms: num(e, "wait_ms")?.unwrap_or(0),
            }),
            (Some("ok"), Some("fence")) => events()?
                .into_iter()
                .next()
                .map(Reply::Fenced)
                .ok_or_else(|| "fence reply without event".into()),
            (Some("ok"), Some("history")) => Ok(Reply::History(events()?)),
            (Some("ok"), Some("devices")) => Ok(Reply::Devices(
                e.children_named("device")
                    .filter_map(|d| d.attr("id"))
                    .map(str::to_string)
                    .collect(),
            )),
            (Some("ok"), Some("monitor")) => Ok(Reply::MonitorOk),
            (Some("error"), _) => Ok(Reply::Error {
                status: e
                    .attr("status")
                    .and_then(FenceStatus::parse)
                    .unwrap_or(FenceStatus::Error),
                reason: e.attr("reason").unwrap_or_default().to_string(),
            }),
            (rc, kind) => Err(format!("unknown reply rc={rc:?} kind={kind:?}")),
        }
    }
}

/// Messages between stonithds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    Query {
        st_id: String,
        target: String,
        action: String,
        origin: String,
        /// A topology step: can the peer run this very device?
        device: Option<String>,
    },
    QueryReply {
        st_id: String,
        can: bool,
    },
    Exec {
        st_id: String,
        target: String,
        action: String,
        origin: String,
        client: String,
        timeout_ms: u64,
        delay_ms: i64,
        /// A topology step: run only this device and answer the origin
        /// alone with [`Peer::StepResult`] (one device of a level is not
        /// the operation's result).
        device: Option<String>,
    },
    Result(Event),
    /// The outcome of one topology step, to the origin only; never
    /// recorded in a history.
    StepResult(Event),
}

/// A topology step's device, as `st_device` (absent otherwise, so the
/// messages of a stonithd without topology are unchanged).
fn with_device(m: Message, device: &Option<String>) -> Message {
    match device {
        Some(d) => m.with_str("st_device", d),
        None => m,
    }
}

impl Peer {
    pub fn to_message(&self) -> Message {
        let m = Message::new().with_str("t", "stonithd");
        match self {
            Peer::Query {
                st_id,
                target,
                action,
                origin,
                device,
            } => with_device(
                m.with_str("st_op", "query")
                    .with_str("st_id", st_id)
                    .with_str("target", target)
                    .with_str("action", action)
                    .with_str("origin", origin),
                device,
            ),
            Peer::QueryReply { st_id, can } => m
                .with_str("st_op", "query_reply")
                .with_str("st_id", st_id)
                .with_str("can", if *can { "1" } else { "0" }),
            Peer::Exec {
                st_id,
                target,
                action,
                origin,
                client,
                timeout_ms,
                delay_ms,
                device,
            } => with_device(
                m.with_str("st_op", "exec")
                    .with_str("st_id", st_id)
                    .with_str("target", target)
                    .with_str("action", action)
                    .with_str("origin", origin)
                    .with_str("client", client)
                    .with_str("timeout_ms", &timeout_ms.to_string())
                    .with_str("delay_ms", &delay_ms.to_string()),
                device,
            ),
            Peer::Result(ev) => ev
                .fields()
                .into_iter()
                .fold(m.with_str("st_op", "result"), |m, (k, v)| m.with_str(k, &v)),
            Peer::StepResult(ev) => ev
                .fields()
                .into_iter()
                .fold(m.with_str("st_op", "step_result"), |m, (k, v)| m.with_str(k, &v)),
        }
    }

    pub fn from_message(m: &Message) -> Option<Peer> {
        if m.get_str("t") != Some("stonithd") {
            return None;
        }
        let s = |n: &str| m.get_str(n).map(str::to_string);
        Some(match m.get_str("st_op")? {
            "query" => Peer::Query {
                st_id: s("st_id")?,
                target: s("target")?,
                action: s("action")?,
                origin: s("origin")?,
                device: s("st_device"),
            },
            "query_reply" => Peer::QueryReply {
                st_id: s("st_id")?,
                can: m.get_str("can")? == "1",
            },
            "exec" => Peer::Exec {
                st_id: s("st_id")?,
                target: s("target")?,
                action: s("action")?,
                origin: s("origin")?,
                client: s("client").unwrap_or_default(),
                timeout_ms: s("timeout_ms")?.parse().ok()?,
                delay_ms: s("delay_ms")?.parse().ok()?,
                device: s("st_device"),
            },
            "result" | "step_result" => {
                let ev = Event::from_fields(|n| if EVENT_FIELDS.contains(&n) { s(n) } else { None }).ok()?;
                if m.get_str("st_op")? == "result" {
                    Peer::Result(ev)
                } else {
                    Peer::StepResult(ev)
                }
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        Event {
            id: "n1-7-1-5".into(),
            target: "n2".into(),
            action: "reboot".into(),
            origin: "n1".into(),
            client: "crmd.9".into(),
            delegate: Some("n3".into()),
            state: OpState::Failed,
            status: FenceStatus::Timeout,
            reason: Some("agent timed out".into()),
            completed_ms: 1_700_000_000_123,
        }
    }

    #[test]
    fn local_messages_round_trip() {
        let reqs = [
            Request::Fence {
                target: "n2".into(),
                action: "off".into(),
                timeout_ms: 5000,
                delay_ms: Some(-1),
                client: "x.1".into(),
            },
            Request::Fence {
                target: "n2".into(),
                action: "reboot".into(),
                timeout_ms: 5000,
                delay_ms: None,
                client: "x.1".into(),
            },
            Request::Devices {
                target: None,
                timeout_ms: 1,
            },
            Request::Devices {
                target: Some("n2".into()),
                timeout_ms: 1,
            },
            Request::Monitor {
                device: "f1".into(),
                timeout_ms: 3,
            },
            Request::History {
                target: Some("*".into()),
            },
        ];
        for r in reqs {
            assert_eq!(Request::from_xml(&r.to_xml()), Ok(r));
        }
        let replies = [
            Reply::Pending { wait_ms: 10 },
            Reply::Fenced(event()),
            Reply::Devices(vec!["a".into(), "b".into()]),
            Reply::MonitorOk,
            Reply::History(vec![
                event(),
                Event {
                    delegate: None,
                    reason: None,
                    state: OpState::Pending,
                    ..event()
                },
            ]),
            Reply::Error {
                status: FenceStatus::NoDevice,
                reason: "none".into(),
            },
        ];
        for r in replies {
            assert_eq!(Reply::from_xml(&r.to_xml()), Ok(r));
        }
        let bad = Request::Fence {
            target: "n2".into(),
            action: "explode".into(),
            timeout_ms: 1,
            delay_ms: None,
            client: String::new(),
        };
        assert!(Request::from_xml(&bad.to_xml()).is_err());
    }

    #[test]
    fn peer_messages_round_trip() {
        let msgs = [
            Peer::Query {
                st_id: "i".into(),
                target: "n2".into(),
                action: "reboot".into(),
                origin: "n1".into(),
                device: None,
            },
            Peer::Query {
                st_id: "i".into(),
                target: "n2".into(),
                action: "off".into(),
                origin: "n1".into(),
                device: Some("pdu-a".into()),
            },
            Peer::QueryReply {
                st_id: "i".into(),
                can: true,
            },
            Peer::QueryReply {
                st_id: "i".into(),
                can: false,
            },
            Peer::Exec {
                st_id: "i".into(),
                target: "n2".into(),
                action: "off".into(),
                origin: "n1".into(),
                client: "c".into(),
                timeout_ms: 9,
                delay_ms: -1,
                device: None,
            },
            Peer::Exec {
                st_id: "i.2".into(),
                target: "n2".into(),
                action: "on".into(),
                origin: "n1".into(),
                client: "c".into(),
                timeout_ms: 9,
                delay_ms: 0,
                device: Some("pdu-b".into()),
            },
            Peer::Result(event()),
            Peer::StepResult(event()),
        ];
        for m in msgs {
            assert_eq!(Peer::from_message(&m.to_message()), Some(m));
        }
        assert_eq!(
            Peer::from_message(&Message::new().with_str("t", "attrd")),
            None
        );
    }
}
