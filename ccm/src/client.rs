//! The view socket `$HA_RUNDIR/ccm.sock`: how crmd, cib and `ccm_tool`
//! learn the membership.
//!
//! # Protocol
//!
//! A Unix stream socket; the daemon writes, clients only read. Every line
//! is UTF-8, ends with `\n`, and is a kind word followed by
//! space-separated `name=value` tokens (node names never contain spaces or
//! commas: they are host names).
//!
//! ```text
//! ccm node=n1 protocol=1                                   first line, once
//! noview                                                   no view installed yet
//! view instance=7 quorum=1 leader=n1 members=n1,n2,n3      the current view
//! view instance=8 quorum=0 leader=n1 members=n1            ... each later one
//! ```
//!
//! After the greeting the daemon sends the current state at once (`view`
//! or `noview`), then one `view` line for every view it installs. A reader
//! that falls behind may miss intermediate views but always gets the latest
//! one: instances only increase, and the latest view is the membership.
//! Unknown tokens are ignored, so fields can be added later.
//!
//! [`watch`] (async, for daemons) and [`current`] (blocking, for tools)
//! are the two ways in.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncBufReadExt;

use crate::{Error, View};

/// The protocol version the greeting announces.
pub const PROTOCOL: u32 = 1;

/// The greeting line (without `\n`).
pub fn greeting(node: &str) -> String {
    format!("ccm node={node} protocol={PROTOCOL}")
}

/// The line (without `\n`) that announces `view`, or that there is none.
pub fn encode(view: Option<&View>) -> String {
    match view {
        None => "noview".to_string(),
        Some(v) => format!(
            "view instance={} quorum={} leader={} members={}",
            v.instance,
            u8::from(v.quorum),
            v.leader,
            v.members.iter().map(String::as_str).collect::<Vec<_>>().join(",")
        ),
    }
}

/// One line the daemon sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// The greeting: which node's ccm this is.
    Hello { node: String },
    /// No view is installed yet.
    NoView,
    /// The current view.
    View(View),
}

/// Decodes one line (with or without its `\n`).
pub fn decode(line: &str) -> Result<Line, Error> {
    let bad = |why| Error::BadLine { line: line.trim_end().to_string(), why };
    let mut words = line.split_whitespace();
    let kind = words.next().ok_or_else(|| bad("empty line"))?;
    let mut fields = std::collections::BTreeMap::new();
    for w in words {
        let (k, v) = w.split_once('=').ok_or_else(|| bad("a token without '='"))?;
        fields.insert(k, v);
    }
    match kind {
        "ccm" => Ok(Line::Hello { node: fields.get("node").ok_or_else(|| bad("no node"))?.to_string() }),
        "noview" => Ok(Line::NoView),
        "view" => {
            let instance = fields.get("instance").and_then(|v| v.parse().ok()).ok_or_else(|| bad("bad instance"))?;
            let quorum = match fields.get("quorum") {
                Some(&"1") => true,
                Some(&"0") => false,
                _ => return Err(bad("quorum is not 0 or 1")),
            };
            let leader = fields.get("leader").ok_or_else(|| bad("no leader"))?.to_string();
            let members: BTreeSet<String> = fields
                .get("members")
                .ok_or_else(|| bad("no members"))?
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect();
            Ok(Line::View(View { instance, members, quorum, leader }))
        }
        _ => Err(bad("unknown kind")),
    }
}

/// What the daemon at `socket` reports now: its node name and its view
/// (`None` before the first). Waits at most `timeout` for each line.
pub fn current(socket: &Path, timeout: Duration) -> Result<(String, Option<View>), Error> {
    let what = || format!("ccm socket {}", socket.display());
    let stream = std::os::unix::net::UnixStream::connect(socket).map_err(|e| Error::io(what(), e))?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| Error::io(what(), e))?;
    let mut r = BufReader::new(stream);
    let mut read = || -> Result<Line, Error> {
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(0) => Err(Error::Io { what: what(), message: "closed by the daemon".into() }),
            Ok(_) => decode(&line),
            Err(e) => Err(Error::io(what(), e)),
        }
    };
    let Line::Hello { node } = read()? else {
        return Err(Error::BadLine { line: String::new(), why: "no greeting first" });
    };
    match read()? {
        Line::NoView => Ok((node, None)),
        Line::View(v) => Ok((node, Some(v))),
        Line::Hello { .. } => Err(Error::BadLine { line: String::new(), why: "a second greeting" }),
    }
}

/// A subscription to one node's views ([`watch`]).
#[derive(Debug)]
pub struct Watcher {
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::net::UnixStream>>,
    /// The node whose ccm this is (from the greeting).
    pub node: String,
    what: String,
}

/// Connects to the view socket; [`Watcher::next`] then yields the current
/// state and every later view.
pub async fn watch(socket: &Path) -> Result<Watcher, Error> {
    let what = format!("ccm socket {}", socket.display());
    let stream = tokio::net::UnixStream::connect(socket).await.map_err(|e| Error::io(&what, e))?;
    let mut lines = tokio::io::BufReader::new(stream).lines();
    let first = lines.next_line().await.map_err(|e| Error::io(&what, e))?;
    match first.as_deref().map(decode) {
        Some(Ok(Line::Hello { node })) => Ok(Watcher { lines, node, what }),
        Some(Err(e)) => Err(e),
        _ => Err(Error::Io { what, message: "no greeting".into() }),
    }
}

impl Watcher {
    /// The next report: `Some(None)` while no view is installed,
    /// `Some(Some(view))` for a view, `None` when the daemon closed the
    /// socket (it stopped: the membership is unknown from then on).
    pub async fn next(&mut self) -> Result<Option<Option<View>>, Error> {
        loop {
            let Some(line) = self.lines.next_line().await.map_err(|e| Error::io(&self.what, e))? else {
                return Ok(None);
            };
            match decode(&line)? {
                Line::NoView => return Ok(Some(None)),
                Line::View(v) => return Ok(Some(Some(v))),
                // A repeated greeting says nothing new.
                Line::Hello { .. } => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> View {
        View {
            instance: 7,
            members: ["n3", "n1", "n2"].iter().map(|s| s.to_string()).collect(),
            quorum: true,
            leader: "n1".into(),
        }
    }

    #[test]
    fn lines_round_trip() {
        let v = view();
        assert_eq!(encode(Some(&v)), "view instance=7 quorum=1 leader=n1 members=n1,n2,n3");
        assert_eq!(decode(&encode(Some(&v))).unwrap(), Line::View(v));
        assert_eq!(decode("noview\n").unwrap(), Line::NoView);
        assert_eq!(decode(&greeting("n2")).unwrap(), Line::Hello { node: "n2".into() });
        // Fields added later are ignored.
        let l = decode("view instance=1 quorum=0 leader=n1 members=n1 extra=x").unwrap();
        assert!(matches!(l, Line::View(View { instance: 1, quorum: false, .. })));
    }

    #[test]
    fn bad_lines_are_refused() {
        for l in ["", "view instance=x quorum=1 leader=n1 members=n1", "view instance=1 quorum=2 leader=n1 members=n1", "what", "view novalue"] {
            assert!(decode(l).is_err(), "{l:?} accepted");
        }
    }
}
