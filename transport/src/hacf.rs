//! `ha.cf`, read as Heartbeat 3.0.6 reads it, with its defaults and
//! start-up checks; findings come back as [`Diagnostic`]s.
//!
//! # Syntax (Heartbeat's)
//!
//! - A `#` anywhere starts a comment; leading white space is skipped.
//! - The first word is the directive, matched case-sensitively
//!   (`Keepalive` is not `keepalive`: Heartbeat refuses it, so do we).
//! - *Option* directives (`keepalive 2`, `node a b`) take each word after
//!   the directive (separated by blanks or commas) as one value, in turn:
//!   `auto_failback on auto_failback on` sets `on`, then fails on the
//!   value `auto_failback`.
//! - *Whole-line* directives (`ucast`, `mcast`, `ping_group`, `respawn`,
//!   `apiauth`, `stonith`, `stonith_host`) parse the rest of the line.
//! - Times are seconds or take `ms`/`us` ([`crate::time`]).
//!
//! # Deliberate differences from Heartbeat
//!
//! - A directive Heartbeat knows but this project does not implement
//!   (`hopfudge`, `realtime`, `msgfmt`...) is accepted with a warning
//!   naming it; a directive Heartbeat does not know is an error, as in
//!   Heartbeat (a mistyped `Deadtime` must not silently leave 30 s).
//! - Devices, users and commands are not looked up here (Heartbeat did it
//!   while parsing): that needs the host, and is done when links open and
//!   children start.
//! - Lenient numbers Heartbeat read with `atoi` (`compression_threshold
//!   2(K)` is 2) are accepted with a warning saying what was used.
//! - `initdead` below twice `deadtime` is a warning (Heartbeat's documented
//!   advice; it only refused `initdead < deadtime`), and `warntime` at or
//!   above `deadtime` is a warning (it can never fire).

use std::net::Ipv4Addr;

use crate::diag::Diagnostic;
use crate::identity::{GenerationMethod, UuidSource};
use crate::time::{parse_ms, show_ms};

/// Heartbeat's UDP port (`/etc/services` name `ha-cluster`).
pub const DEFAULT_UDPPORT: u16 = 694;

/// A heartbeat medium (a link to the other nodes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Medium {
    /// `bcast eth0`: UDP broadcast on the device.
    Bcast { dev: String },
    /// `mcast eth0 225.0.0.1 694 1 0`.
    Mcast { dev: String, group: Ipv4Addr, port: u16, ttl: u8, loopback: bool },
    /// `ucast eth0 10.0.0.2`: the peer's address or host name.
    Ucast { dev: String, peer: String },
    /// `serial /dev/ttyS0`.
    Serial { dev: String },
}

/// `auto_failback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoFailback {
    On,
    Off,
    /// Heartbeat's default: v1 behaviour without `nice_failback`.
    Legacy,
}

/// `crm` (Heartbeat's "release 2" switch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crm {
    /// haresources mode.
    No,
    /// CRM daemons started; ccm, cib and crmd are failfast (the node
    /// reboots if they die).
    Yes,
    /// CRM daemons all respawned instead of failfast.
    Respawn,
    /// `minimal`/`manual`: only cib, crmd, ccm, lrmd.
    Minimal,
}

/// `autojoin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoJoin {
    None,
    Other,
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingGroup {
    pub name: String,
    pub hosts: Vec<String>,
}

/// `respawn user /path/to/cmd args...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Respawn {
    pub user: String,
    /// The whole command line; the program is its first word.
    pub command: String,
}

/// `apiauth client uid=a,b gid=c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAuth {
    pub client: String,
    pub uids: Vec<String>,
    pub gids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stonith {
    pub kind: String,
    pub config_file: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StonithHost {
    /// A node name or `*`.
    pub host: String,
    pub kind: String,
    pub params: String,
}

/// The configuration, with Heartbeat's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaCf {
    pub logfile: Option<String>,
    pub debugfile: Option<String>,
    /// `None` for `logfacility none` or no directive.
    pub logfacility: Option<String>,
    pub use_logd: Option<bool>,
    pub keepalive_ms: u64,
    pub deadtime_ms: u64,
    pub warntime_ms: u64,
    pub initdead_ms: u64,
    /// How long a ping node may be silent (`deadping`, default deadtime).
    pub deadping_ms: u64,
    pub udpport: u16,
    pub baud: u32,
    pub media: Vec<Medium>,
    pub auto_failback: AutoFailback,
    /// Cluster nodes, lower-cased as Heartbeat stores them.
    pub nodes: Vec<String>,
    pub ping_nodes: Vec<String>,
    pub ping_groups: Vec<PingGroup>,
    pub respawn: Vec<Respawn>,
    pub apiauth: Vec<ApiAuth>,
    pub crm: Crm,
    /// Compression module: `zlib` (default) or `bz2`.
    pub compression: String,
    /// Messages larger than this many KB are compressed (default 2).
    pub compression_threshold_kb: u32,
    pub autojoin: AutoJoin,
    pub stonith: Vec<Stonith>,
    pub stonith_host: Vec<StonithHost>,
    pub watchdog: Option<String>,
    pub debug: u8,
    pub uuidfrom: UuidSource,
    pub gen_method: GenerationMethod,
}

impl Default for HaCf {
    /// Heartbeat's defaults before any line is read.
    fn default() -> HaCf {
        HaCf {
            logfile: None,
            debugfile: None,
            logfacility: None,
            use_logd: None,
            keepalive_ms: 1000,
            deadtime_ms: 30000,
            warntime_ms: 15000,
            initdead_ms: 30000,
            deadping_ms: 30000,
            udpport: DEFAULT_UDPPORT,
            baud: 19200,
            media: Vec::new(),
            auto_failback: AutoFailback::Legacy,
            nodes: Vec::new(),
            ping_nodes: Vec::new(),
            ping_groups: Vec::new(),
            respawn: Vec::new(),
            apiauth: Vec::new(),
            crm: Crm::No,
            compression: "zlib".into(),
            compression_threshold_kb: 2,
            autojoin: AutoJoin::None,
            stonith: Vec::new(),
            stonith_host: Vec::new(),
            watchdog: None,
            debug: 0,
            uuidfrom: UuidSource::File,
            gen_method: GenerationMethod::File,
        }
    }
}

/// Directives Heartbeat 3.0.6 knows that this project does not implement:
/// accepted, warned about by name.
const NOT_IMPLEMENTED: &[&str] = &[
    "cluster",
    "hopfudge",
    "rtprio",
    "realtime",
    "normalpoll",
    "msgfmt",
    "conn_logd_time",
    "log_badpack",
    "use_apphbd",
    "coredumps",
    "coreroot",
    "traditional_compression",
    "env",
    "max_rexmit_delay",
    "record_config_changes",
    "record_pengine_inputs",
    "enable_config_writes",
    "memreserve",
    "quorum_server",
    "nice_failback",
    "failfast",
    "syslogmsgfmt",
    "hbaping",
    "openais",
    "tipc",
];

/// Every directive implemented here.
const IMPLEMENTED: &[&str] = &[
    "logfile",
    "debugfile",
    "logfacility",
    "use_logd",
    "keepalive",
    "deadtime",
    "warntime",
    "initdead",
    "deadping",
    "udpport",
    "baud",
    "serial",
    "bcast",
    "mcast",
    "ucast",
    "auto_failback",
    "node",
    "ping",
    "ping_group",
    "respawn",
    "apiauth",
    "crm",
    "compression",
    "compression_threshold",
    "autojoin",
    "stonith",
    "stonith_host",
    "watchdog",
    "debug",
    "uuidfrom",
    "hbgenmethod",
];

const SYSLOG_FACILITIES: &[&str] = &[
    "auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news", "syslog", "user", "uucp", "local0",
    "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];

/// What was set explicitly, for the checks after the last line.
#[derive(Default)]
struct Seen {
    warntime: bool,
    initdead: bool,
    deadping: bool,
    baud: bool,
    udpport_line: Option<usize>,
    first_media_line: Option<usize>,
}

struct Parser<'a> {
    file: &'a str,
    cf: HaCf,
    diags: Vec<Diagnostic>,
    seen: Seen,
}

/// Parses the text of an ha.cf. `file` names it in diagnostics. The
/// configuration is usable when no diagnostic is an error.
pub fn parse(text: &str, file: &str) -> (HaCf, Vec<Diagnostic>) {
    let mut p = Parser { file, cf: HaCf::default(), diags: Vec::new(), seen: Seen::default() };
    for (n, raw) in text.lines().enumerate() {
        p.line(n + 1, raw);
    }
    p.finish();
    (p.cf, p.diags)
}

/// Heartbeat's boolean words.
fn boolean(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "y" | "1" => Some(true),
        "false" | "off" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// C `atoi`: leading blanks, sign, digits; the rest ignored. Returns the
/// number and whether anything was ignored.
fn atoi(v: &str) -> (i64, bool) {
    let t = v.trim_start();
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).take(12).collect();
    let n: i64 = digits.parse().unwrap_or(0);
    (if neg { -n } else { n }, digits.len() != rest.len())
}

/// Shows Unicode white space (which ha.cf does not treat as such) as
/// `\u{a0}` so a diagnostic does not look like it quotes blanks.
fn escape(s: &str) -> String {
    s.chars().map(|c| if c.is_whitespace() && !c.is_ascii() { format!("\\u{{{:x}}}", c as u32) } else { c.to_string() }).collect()
}

/// Heartbeat's WHITESPACE: ASCII only.
fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c')
}

impl Parser<'_> {
    fn error(&mut self, line: usize, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(self.file, line, msg));
    }

    fn warn(&mut self, line: usize, msg: impl Into<String>) {
        self.diags.push(Diagnostic::warning(self.file, line, msg));
    }

    fn line(&mut self, line: usize, raw: &str) {
        let body = raw.trim_start_matches(is_whitespace);
        let body = body.split('#').next().unwrap_or("");
        let body = body.split(['\r', '\n']).next().unwrap_or("");
        if body.is_empty() {
            return;
        }
        let dir_len = body.find(is_whitespace).unwrap_or(body.len());
        let (mut directive, rest) = body.split_at(dir_len);
        if directive == "udp" {
            self.warn(line, "directive 'udp' replaced by 'bcast'");
            directive = "bcast";
        }
        if NOT_IMPLEMENTED.contains(&directive) {
            self.warn(line, format!("directive [{directive}] is not implemented; line ignored"));
            return;
        }
        if !IMPLEMENTED.contains(&directive) {
            let lower = directive.to_ascii_lowercase();
            if IMPLEMENTED.contains(&lower.as_str()) || NOT_IMPLEMENTED.contains(&lower.as_str()) {
                self.error(line, format!("Illegal directive [{directive}] (directives are lower case: {lower})"));
            } else if directive.chars().any(|c| c.is_whitespace()) {
                self.error(
                    line,
                    format!("Illegal directive [{}] (Unicode spaces, as copied from a web page, are not white space in ha.cf)", escape(directive)),
                );
            } else {
                self.error(line, format!("Illegal directive [{directive}]"));
            }
            return;
        }
        let rest = rest.trim_matches(is_whitespace);
        match directive {
            "ucast" | "mcast" | "ping_group" | "respawn" | "apiauth" | "stonith" | "stonith_host" => {
                self.whole_line(line, directive, rest)
            }
            _ => {
                let values: Vec<&str> = rest.split(|c| c == ',' || is_whitespace(c)).filter(|s| !s.is_empty()).collect();
                if values.is_empty() {
                    self.error(line, format!("{directive}: no value given"));
                    return;
                }
                if values.len() > 1 && !matches!(directive, "node" | "ping" | "bcast" | "serial") {
                    self.warn(
                        line,
                        format!(
                            "{directive} given {} values; Heartbeat applies each in turn and the last one counts",
                            values.len()
                        ),
                    );
                }
                for v in values {
                    self.option(line, directive, v);
                }
            }
        }
    }

    fn time(&mut self, line: usize, directive: &str, v: &str, allow_zero: bool) -> Option<u64> {
        match parse_ms(v) {
            Some(ms) if ms > 0 || allow_zero => Some(ms),
            _ => {
                self.error(line, format!("{directive}: invalid time [{v}] (seconds, or with ms/us)"));
                None
            }
        }
    }

    fn media_seen(&mut self, line: usize) {
        self.seen.first_media_line.get_or_insert(line);
    }

    fn option(&mut self, line: usize, directive: &str, v: &str) {
        let cf = &mut self.cf;
        match directive {
            "logfile" => cf.logfile = Some(v.to_string()),
            "debugfile" => cf.debugfile = Some(v.to_string()),
            "logfacility" => {
                if v == "none" {
                    cf.logfacility = None;
                } else if SYSLOG_FACILITIES.contains(&v) {
                    cf.logfacility = Some(v.to_string());
                } else {
                    self.error(line, format!("Log facility({}) not valid", escape(v)));
                }
            }
            "use_logd" => match boolean(v) {
                Some(b) => cf.use_logd = Some(b),
                None => self.error(line, format!("use_logd: invalid value [{v}] (yes or no)")),
            },
            "keepalive" => {
                if let Some(ms) = self.time(line, directive, v, false) {
                    self.cf.keepalive_ms = ms;
                }
            }
            "deadtime" => {
                if let Some(ms) = self.time(line, directive, v, true) {
                    self.cf.deadtime_ms = ms;
                }
            }
            "warntime" => {
                if let Some(ms) = self.time(line, directive, v, false) {
                    self.cf.warntime_ms = ms;
                    self.seen.warntime = true;
                }
            }
            "initdead" => {
                if let Some(ms) = self.time(line, directive, v, true) {
                    self.cf.initdead_ms = ms;
                    self.seen.initdead = true;
                }
            }
            "deadping" => {
                if let Some(ms) = self.time(line, directive, v, true) {
                    self.cf.deadping_ms = ms;
                    self.seen.deadping = true;
                }
            }
            "udpport" => match v.parse::<u16>() {
                Ok(p) if p > 0 => {
                    cf.udpport = p;
                    self.seen.udpport_line = Some(line);
                }
                _ => self.error(line, format!("invalid port [{v}] specified.")),
            },
            "baud" => {
                if self.seen.baud {
                    self.error(line, "Baudrate multiply specified.");
                    return;
                }
                self.seen.baud = true;
                match v.parse::<u32>() {
                    Ok(b) if [9600, 19200, 38400, 57600, 115200, 230400, 460800].contains(&b) => self.cf.baud = b,
                    _ => self.error(line, format!("invalid baudrate [{v}] specified.")),
                }
            }
            "serial" => {
                cf.media.push(Medium::Serial { dev: v.to_string() });
                self.media_seen(line);
            }
            "bcast" => {
                cf.media.push(Medium::Bcast { dev: v.to_string() });
                self.media_seen(line);
            }
            "auto_failback" => match (boolean(v), v.eq_ignore_ascii_case("legacy")) {
                (Some(true), _) => cf.auto_failback = AutoFailback::On,
                (Some(false), _) => cf.auto_failback = AutoFailback::Off,
                (None, true) => cf.auto_failback = AutoFailback::Legacy,
                (None, false) => self.error(line, format!("auto_failback: invalid value [{v}] (on, off or legacy)")),
            },
            "node" => {
                let name = v.to_ascii_lowercase();
                if cf.nodes.contains(&name) {
                    self.warn(line, format!("node {name} listed twice; counted once"));
                } else {
                    cf.nodes.push(name);
                }
            }
            "ping" => {
                if cf.ping_nodes.iter().any(|p| p == v) {
                    self.warn(line, format!("ping node {v} listed twice; counted once"));
                } else {
                    cf.ping_nodes.push(v.to_string());
                    self.media_seen(line);
                }
            }
            "crm" => {
                let crm = match v.to_ascii_lowercase().as_str() {
                    "respawn" => Some(Crm::Respawn),
                    "minimal" | "manual" => Some(Crm::Minimal),
                    "valgrind" => {
                        self.warn(line, "crm valgrind is not supported; treated as crm yes");
                        Some(Crm::Yes)
                    }
                    other => boolean(other).map(|b| if b { Crm::Yes } else { Crm::No }),
                };
                match crm {
                    Some(c) => self.cf.crm = c,
                    None => self.error(line, format!("crm: invalid value [{v}] (yes, no, respawn or minimal)")),
                }
            }
            "compression" => match v {
                "zlib" | "bz2" => cf.compression = v.to_string(),
                _ => self.error(line, format!("compression: unknown module [{v}] (zlib or bz2)")),
            },
            "compression_threshold" => {
                let (n, ignored) = atoi(v);
                if n <= 0 || n > i64::from(u32::MAX / 1024) {
                    self.error(line, format!("compress_threshhold({v}) invalid"));
                } else {
                    cf.compression_threshold_kb = n as u32;
                    if ignored {
                        self.warn(line, format!("compression_threshold [{v}] read as {n} (KB); the rest is ignored"));
                    }
                }
            }
            "autojoin" => match v.to_ascii_lowercase().as_str() {
                "none" => cf.autojoin = AutoJoin::None,
                "other" => cf.autojoin = AutoJoin::Other,
                "any" => cf.autojoin = AutoJoin::Any,
                _ => self.error(line, format!("Invalid autojoin directive [{v}]")),
            },
            "watchdog" => {
                if cf.watchdog.is_some() {
                    self.error(line, "Watchdog device multiply specified.");
                } else {
                    cf.watchdog = Some(v.to_string());
                }
            }
            "debug" => match v.parse::<u8>() {
                Ok(d) => cf.debug = d,
                Err(_) => self.error(line, format!("debug: invalid level [{v}] (0 to 255)")),
            },
            "uuidfrom" => match v {
                "file" => cf.uuidfrom = UuidSource::File,
                "nodename" => cf.uuidfrom = UuidSource::NodeName,
                _ => self.error(line, format!("Invalid uuidfrom directive [{v}]")),
            },
            "hbgenmethod" => match v {
                "file" => cf.gen_method = GenerationMethod::File,
                "time" => cf.gen_method = GenerationMethod::Time,
                _ => self.error(line, format!("Illegal hb generation method [{v}]")),
            },
            _ => unreachable!("every implemented option directive is matched: {directive}"),
        }
    }

    fn whole_line(&mut self, line: usize, directive: &str, rest: &str) {
        let words: Vec<&str> = rest.split(is_whitespace).filter(|s| !s.is_empty()).collect();
        match directive {
            "ucast" => {
                let dev = words.first().copied().unwrap_or("");
                match words.get(1) {
                    None => self.error(line, format!("ucast: [{dev}] missing target IP address/hostname")),
                    Some(peer) => {
                        if words.len() > 2 {
                            self.warn(line, format!("ucast: text after the address is ignored: [{}]", words[2..].join(" ")));
                        }
                        self.cf.media.push(Medium::Ucast { dev: dev.to_string(), peer: peer.to_string() });
                        self.media_seen(line);
                    }
                }
            }
            "mcast" => self.mcast(line, &words),
            "ping_group" => match words.split_first() {
                Some((name, hosts)) if !hosts.is_empty() => {
                    self.cf.ping_groups.push(PingGroup {
                        name: name.to_string(),
                        hosts: hosts.iter().map(|h| h.to_string()).collect(),
                    });
                    self.media_seen(line);
                }
                _ => self.error(line, "ping_group: a group name and at least one host are needed"),
            },
            "respawn" => {
                let Some((user, _)) = words.split_first() else {
                    self.error(line, "respawn: a user and a command are needed");
                    return;
                };
                let command = rest[rest.find(user).unwrap_or(0) + user.len()..].trim_matches(is_whitespace);
                if !command.starts_with('/') {
                    self.error(line, format!("Client child command [{command}] is not full pathname"));
                    return;
                }
                self.cf.respawn.push(Respawn { user: user.to_string(), command: command.to_string() });
            }
            "apiauth" => self.apiauth(line, rest, &words),
            "stonith" => match words.split_first() {
                Some((kind, file)) => self.cf.stonith.push(Stonith { kind: kind.to_string(), config_file: file.join(" ") }),
                None => self.error(line, "No Stonith type given"),
            },
            "stonith_host" => match words.as_slice() {
                [] => self.error(line, "No Stonith hostname argument given"),
                [_] => self.error(line, "No Stonith type given"),
                [host, kind, params @ ..] => self.cf.stonith_host.push(StonithHost {
                    host: host.to_ascii_lowercase(),
                    kind: kind.to_string(),
                    params: params.join(" "),
                }),
            },
            _ => unreachable!("whole-line directive {directive}"),
        }
    }

    fn mcast(&mut self, line: usize, words: &[&str]) {
        let dev = words.first().copied().unwrap_or("");
        let Some(group) = words.get(1) else {
            return self.error(line, format!("mcast [{dev}] missing mcast address"));
        };
        let group = match group.parse::<Ipv4Addr>() {
            Ok(g) if g.is_multicast() => g,
            _ => return self.error(line, format!("mcast [{dev}] bad addr [{group}] (not a multicast address 224.0.0.0-239.255.255.255)")),
        };
        let Some(port) = words.get(2) else {
            return self.error(line, format!("mcast [{dev}] missing port"));
        };
        let Some(port) = port.parse::<u16>().ok().filter(|&p| p > 0) else {
            return self.error(line, format!("mcast [{dev}] bad port [{port}]"));
        };
        let Some(ttl) = words.get(3) else {
            return self.error(line, format!("mcast [{dev}] missing ttl"));
        };
        let Some(ttl) = ttl.parse::<u8>().ok().filter(|&t| t <= 4) else {
            return self.error(line, format!("mcast [{dev}] bad ttl [{ttl}] (0 to 4)"));
        };
        let Some(lp) = words.get(4) else {
            return self.error(line, format!("mcast [{dev}] missing loop"));
        };
        let loopback = match *lp {
            "0" => false,
            "1" => true,
            _ => return self.error(line, format!("mcast [{dev}] bad loop [{lp}] (0 or 1)")),
        };
        if words.len() > 5 {
            self.warn(line, format!("mcast: text after the loop value is ignored: [{}]", words[5..].join(" ")));
        }
        self.cf.media.push(Medium::Mcast { dev: dev.to_string(), group, port, ttl, loopback });
        self.media_seen(line);
    }

    fn apiauth(&mut self, line: usize, rest: &str, words: &[&str]) {
        let bad = |p: &mut Self, why: &str| {
            p.error(line, format!("Invalid apiauth directive [{rest}]: {why} (syntax: apiauth client [uid=uidlist] [gid=gidlist])"))
        };
        let Some((client, specs)) = words.split_first() else {
            return bad(self, "no client name");
        };
        let (mut uids, mut gids) = (None, None);
        for s in specs {
            let (slot, list) = if let Some(l) = s.strip_prefix("uid=") {
                (&mut uids, l)
            } else if let Some(l) = s.strip_prefix("gid=") {
                (&mut gids, l)
            } else {
                return bad(self, "Missing uid or gid");
            };
            if slot.is_some() {
                return bad(self, "Duplicate uid or gid list");
            }
            *slot = Some(list.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect::<Vec<_>>());
        }
        if uids.is_none() && gids.is_none() {
            return bad(self, "One or the other must be specified");
        }
        if self.cf.apiauth.iter().any(|a| a.client == *client) {
            return self.error(line, format!("Duplicate apiauth directive for API client {client}"));
        }
        self.cf.apiauth.push(ApiAuth {
            client: client.to_string(),
            uids: uids.unwrap_or_default(),
            gids: gids.unwrap_or_default(),
        });
    }

    /// Heartbeat's checks after the whole file is read (init_config).
    fn finish(&mut self) {
        let cf = &mut self.cf;
        if !self.seen.warntime {
            cf.warntime_ms = cf.deadtime_ms / 2;
        }
        if !self.seen.initdead {
            cf.initdead_ms = if cf.deadtime_ms > 10_000 {
                cf.deadtime_ms
            } else if cf.deadtime_ms < 6_000 {
                12_000
            } else {
                2 * cf.deadtime_ms
            };
        }
        if !self.seen.deadping {
            cf.deadping_ms = cf.deadtime_ms;
        }
        let (ka, dt, wt, id, dp) = (cf.keepalive_ms, cf.deadtime_ms, cf.warntime_ms, cf.initdead_ms, cf.deadping_ms);
        // Heartbeat counts ping and ping_group as media too.
        let has_link = !cf.media.is_empty() || !cf.ping_nodes.is_empty() || !cf.ping_groups.is_empty();
        let nodes_empty = cf.nodes.is_empty();
        let (autojoin, crm, failback) = (cf.autojoin, cf.crm, cf.auto_failback);
        let logging = cf.logfile.is_some() || cf.debugfile.is_some() || cf.logfacility.is_some();
        let use_logd = cf.use_logd;

        if !has_link {
            self.error(0, "No heartbeat media defined");
        }
        if nodes_empty && autojoin != AutoJoin::Any {
            self.error(0, "no nodes defined");
        }
        if dt <= 2 * ka {
            self.error(0, format!("deadtime ({}) must be more than twice keepalive ({})", show_ms(dt), show_ms(ka)));
        }
        if self.seen.deadping && dp <= 2 * ka {
            self.error(0, format!("deadping ({}) must be more than twice keepalive ({})", show_ms(dp), show_ms(ka)));
        }
        if id < dt {
            self.error(0, format!("initdead ({}) is smaller than deadtime ({})", show_ms(id), show_ms(dt)));
        } else if id < 10_000 {
            self.warn(0, format!("initdead ({}) may be too small: it should be >= deadtime and >= 10 seconds", show_ms(id)));
        } else if self.seen.initdead && id < 2 * dt {
            self.warn(0, format!("initdead ({}) is less than twice deadtime ({})", show_ms(id), show_ms(dt)));
        }
        if wt >= dt {
            self.warn(0, format!("warntime ({}) is not less than deadtime ({}): no late heartbeat warning before a node is declared dead", show_ms(wt), show_ms(dt)));
        }
        if crm == Crm::No && autojoin != AutoJoin::None {
            self.error(0, "R1 style resource management conflicts with autojoin set: unset autojoin or enable crm");
        }
        if crm == Crm::No && failback == AutoFailback::Legacy {
            self.warn(0, "Deprecated 'legacy' auto_failback option selected: please convert to 'auto_failback on'");
        }
        if !logging && use_logd == Some(false) {
            self.error(0, "No log entry found in ha.cf and use_logd is set to off");
        }
        if let (Some(u), Some(m)) = (self.seen.udpport_line, self.seen.first_media_line) {
            if u > m {
                self.warn(u, format!("udpport should precede media lines (line {m}): Heartbeat uses it only for media declared after it; applied to all media here"));
            }
        }
    }
}

impl HaCf {
    /// Heartbeat's check that the local node is configured (it needs the
    /// node name, which the parser does not know).
    pub fn check_local_node(&self, file: &str, nodename: &str) -> Option<Diagnostic> {
        let name = nodename.to_ascii_lowercase();
        (self.autojoin != AutoJoin::Any && !self.nodes.contains(&name)).then(|| {
            Diagnostic::error(file, 0, format!("Current node [{name}] not in configuration! (declare it with a 'node' line)"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        parse(text, "ha.cf").1.iter().map(|d| d.to_string()).collect()
    }

    const LAB: &str = "# generated for node1\nlogfile /var/log/ha-log\ndebugfile /var/log/ha-debug\nlogfacility none\nuse_logd no\nkeepalive 1\ndeadtime 5\nwarntime 3\ninitdead 10\nudpport 694\nucast eth0 10.99.0.2\nauto_failback on\nnode node1\nnode node2\ncrm no\n";

    #[test]
    fn lab_config() {
        let (cf, d) = parse(LAB, "ha.cf");
        assert_eq!(d, []);
        assert_eq!((cf.keepalive_ms, cf.deadtime_ms, cf.warntime_ms, cf.initdead_ms), (1000, 5000, 3000, 10000));
        assert_eq!(cf.media, [Medium::Ucast { dev: "eth0".into(), peer: "10.99.0.2".into() }]);
        assert_eq!(cf.nodes, ["node1", "node2"]);
        assert_eq!(cf.auto_failback, AutoFailback::On);
        assert_eq!(cf.crm, Crm::No);
        assert!(cf.check_local_node("ha.cf", "Node1").is_none());
        assert!(cf.check_local_node("ha.cf", "node3").is_some());
    }

    #[test]
    fn defaults() {
        let (cf, d) = parse("bcast eth0\nnode a\nauto_failback off\n", "ha.cf");
        assert_eq!(d, []);
        assert_eq!((cf.keepalive_ms, cf.deadtime_ms, cf.warntime_ms, cf.initdead_ms), (1000, 30000, 15000, 30000));
        assert_eq!(cf.udpport, 694);
        assert_eq!((cf.compression.as_str(), cf.compression_threshold_kb), ("zlib", 2));
        let (cf, _) = parse("bcast eth0\nnode a\ndeadtime 8\n", "ha.cf");
        assert_eq!(cf.initdead_ms, 16000);
        let (cf, _) = parse("bcast eth0\nnode a\ndeadtime 500ms\nkeepalive 100ms\n", "ha.cf");
        assert_eq!(cf.initdead_ms, 12000);
    }

    #[test]
    fn timing_checks() {
        assert_eq!(
            lines("bcast eth0\nnode a\nauto_failback on\nkeepalive 2\ndeadtime 4\ninitdead 3\nwarntime 5\n"),
            [
                "ha.cf: error: deadtime (4s) must be more than twice keepalive (2s)",
                "ha.cf: error: initdead (3s) is smaller than deadtime (4s)",
                "ha.cf: warning: warntime (5s) is not less than deadtime (4s): no late heartbeat warning before a node is declared dead",
            ]
        );
        assert_eq!(
            lines("bcast eth0\nnode a\nauto_failback on\ndeadtime 30\ninitdead 40\n"),
            ["ha.cf: warning: initdead (40s) is less than twice deadtime (30s)"]
        );
    }

    #[test]
    fn directive_errors() {
        assert_eq!(
            lines("Keepalive 1\nfoo bar\nhopfudge 1\nudp eth1\nnode a\nauto_failback on\nmcast eth0 225.0.0.1 694 5 0\nucast eth0\nkeepalive 1x\ncrm maybe\napiauth x\napiauth y uid=a uid=b\nrespawn hacluster ipfail\nbaud 1234\nbaud 9600\nwatchdog /dev/w\nwatchdog /dev/w\n"),
            [
                "ha.cf:1: error: Illegal directive [Keepalive] (directives are lower case: keepalive)",
                "ha.cf:2: error: Illegal directive [foo]",
                "ha.cf:3: warning: directive [hopfudge] is not implemented; line ignored",
                "ha.cf:4: warning: directive 'udp' replaced by 'bcast'",
                "ha.cf:7: error: mcast [eth0] bad ttl [5] (0 to 4)",
                "ha.cf:8: error: ucast: [eth0] missing target IP address/hostname",
                "ha.cf:9: error: keepalive: invalid time [1x] (seconds, or with ms/us)",
                "ha.cf:10: error: crm: invalid value [maybe] (yes, no, respawn or minimal)",
                "ha.cf:11: error: Invalid apiauth directive [x]: One or the other must be specified (syntax: apiauth client [uid=uidlist] [gid=gidlist])",
                "ha.cf:12: error: Invalid apiauth directive [y uid=a uid=b]: Duplicate uid or gid list (syntax: apiauth client [uid=uidlist] [gid=gidlist])",
                "ha.cf:13: error: Client child command [ipfail] is not full pathname",
                "ha.cf:14: error: invalid baudrate [1234] specified.",
                "ha.cf:15: error: Baudrate multiply specified.",
                "ha.cf:17: error: Watchdog device multiply specified.",
            ]
        );
    }

    #[test]
    fn whole_line_directives() {
        let (cf, d) = parse(
            "mcast eth1 225.0.0.75 694 1 0 # comment\nnode A,B\nping_group g 1.2.3.4 5.6.7.8\napiauth ipfail gid=root uid=root\nrespawn hacluster /usr/lib/heartbeat/pingd -m 100 -d 5s\nstonith_host * baytech 10.0.0.3 mylogin mysecret\nstonith baytech /etc/ha.d/conf/stonith.baytech\nauto_failback on\n",
            "ha.cf",
        );
        assert_eq!(d, []);
        assert_eq!(
            cf.media,
            [Medium::Mcast { dev: "eth1".into(), group: Ipv4Addr::new(225, 0, 0, 75), port: 694, ttl: 1, loopback: false }]
        );
        assert_eq!(cf.nodes, ["a", "b"]);
        assert_eq!(cf.ping_groups[0].hosts, ["1.2.3.4", "5.6.7.8"]);
        assert_eq!(cf.apiauth[0], ApiAuth { client: "ipfail".into(), uids: vec!["root".into()], gids: vec!["root".into()] });
        assert_eq!(cf.respawn[0].command, "/usr/lib/heartbeat/pingd -m 100 -d 5s");
        assert_eq!(cf.stonith_host[0].params, "10.0.0.3 mylogin mysecret");
        assert_eq!(cf.stonith[0].config_file, "/etc/ha.d/conf/stonith.baytech");
    }
}
