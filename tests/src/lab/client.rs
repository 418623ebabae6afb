//! The lab's client: a user of the cluster's services, outside every node.
//!
//! It lives in the bridge namespace (`hl-<lab>-br`), which holds
//! `10.213.<k>.254/24` on each bridge `br<k>` (see [`LabSpec::client_addr`]):
//! it reaches every node's addresses and any floating address a resource
//! agent adds on a node's `eth<k>`, and is never killed, paused or cut with
//! a node. `Lab::client_command` runs a program there (`ha-lab client`).
//!
//! [`http_get`] is one HTTP/1.0 GET with bounded time; [`Probe`] polls an
//! address at a fixed interval, as the failover anchors were measured
//! (../shared/design/FAILOVER-ANCHORS.md: a client polling every 50 ms).
//! Both run in the namespace of the calling process: `ha-lab probe` is
//! started in the client namespace through `ha-lab client`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use super::{Lab, LabError, LabSpec};

impl Lab {
    /// A command run in the client namespace (plain `ip netns exec`: the
    /// bridge namespace has no PID namespace of its own). The program is
    /// taken from the bin dir when it is there, as for `Lab::command`.
    pub fn client_command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.spec.bridge_ns()]);
        let bin = self.spec.bin_dir.join(program);
        if bin.exists() {
            cmd.arg(bin);
        } else {
            cmd.arg(program);
        }
        cmd.args(args);
        cmd
    }

    /// The client's address on link 0.
    pub fn client_addr(&self) -> String {
        LabSpec::client_addr(0)
    }

    /// Gives the client its address on every bridge (done by `create`).
    pub(super) fn add_client_addresses(&self) -> Result<(), LabError> {
        let br = self.spec.bridge_ns();
        for k in 0..self.spec.links {
            super::sys::ip(&br, &["addr", "add", &format!("{}/24", LabSpec::client_addr(k)), "dev", &format!("br{k}")])?;
        }
        Ok(())
    }
}

/// Why a GET got no page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetError {
    /// Nothing listens, or nothing answered in time (no route, no ARP).
    Unreachable(String),
    /// Something answered, but not `200` with a body.
    Bad(String),
}

impl std::fmt::Display for GetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GetError::Unreachable(why) => write!(f, "no answer: {why}"),
            GetError::Bad(why) => write!(f, "bad answer: {why}"),
        }
    }
}

/// `GET /` on `ip:port` with HTTP/1.0; the body (trimmed) of a 200
/// answer. `timeout` bounds the connect and each read and write.
pub fn http_get(ip: &str, port: u16, timeout: Duration) -> Result<String, GetError> {
    let addr: SocketAddr =
        format!("{ip}:{port}").parse().map_err(|e| GetError::Bad(format!("address {ip}:{port}: {e}")))?;
    let unreachable = |e: std::io::Error| GetError::Unreachable(e.to_string());
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(unreachable)?;
    s.set_read_timeout(Some(timeout)).map_err(unreachable)?;
    s.set_write_timeout(Some(timeout)).map_err(unreachable)?;
    s.write_all(format!("GET / HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes()).map_err(unreachable)?;
    let mut raw = Vec::new();
    // A small server: the answer is one short page, capped anyway.
    s.take(64 * 1024).read_to_end(&mut raw).map_err(unreachable)?;
    parse_answer(&String::from_utf8_lossy(&raw))
}

/// The body of an HTTP answer whose status is 200.
fn parse_answer(text: &str) -> Result<String, GetError> {
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| GetError::Bad(format!("no header end in {text:?}")))?;
    let status = head.lines().next().unwrap_or("");
    let code = status.split_whitespace().nth(1).unwrap_or("");
    if code != "200" {
        return Err(GetError::Bad(format!("status line {status:?}")));
    }
    Ok(body.trim().to_string())
}

/// One poll's outcome, with its time since the probe started.
#[derive(Debug, Clone)]
pub struct Sample {
    pub at: Duration,
    pub answer: Result<String, GetError>,
}

/// Polls `ip:port` every `interval` (the next poll starts `interval`
/// after the previous one started, or at once if it took longer).
pub struct Probe {
    pub ip: String,
    pub port: u16,
    pub interval: Duration,
    /// Per-request bound; below the interval so a silent address does
    /// not slow the polling down.
    pub timeout: Duration,
}

impl Probe {
    pub fn new(ip: &str, port: u16, interval: Duration) -> Probe {
        Probe { ip: ip.to_string(), port, interval, timeout: interval.max(Duration::from_millis(20)) }
    }

    /// Polls until `done(sample)` says so or `limit` has passed; calls
    /// `each` with every sample. Returns the sample that ended it, or
    /// None on timeout.
    pub fn run(
        &self,
        limit: Duration,
        mut each: impl FnMut(&Sample),
        mut done: impl FnMut(&Sample) -> bool,
    ) -> Option<Sample> {
        let start = Instant::now();
        let mut next = start;
        while start.elapsed() < limit {
            let answer = http_get(&self.ip, self.port, self.timeout);
            let sample = Sample { at: start.elapsed(), answer };
            each(&sample);
            if done(&sample) {
                return Some(sample);
            }
            next += self.interval;
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            } else {
                next = now;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        assert_eq!(parse_answer("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nn2\n"), Ok("n2".to_string()));
        assert!(matches!(parse_answer("HTTP/1.0 404 Not Found\r\n\r\nx"), Err(GetError::Bad(_))));
        assert!(matches!(parse_answer("garbage"), Err(GetError::Bad(_))));
    }

    #[test]
    fn get_and_probe_on_loopback() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            for _ in 0..2 {
                let (mut c, _) = listener.accept().unwrap();
                let mut buf = [0u8; 512];
                let _ = c.read(&mut buf).unwrap();
                c.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nn7\n").unwrap();
            }
        });
        assert_eq!(http_get("127.0.0.1", port, Duration::from_secs(2)), Ok("n7".to_string()));
        let probe = Probe::new("127.0.0.1", port, Duration::from_millis(10));
        let mut seen = 0;
        let last = probe.run(Duration::from_secs(5), |_| seen += 1, |s| s.answer.is_ok());
        assert_eq!(last.unwrap().answer, Ok("n7".to_string()));
        assert_eq!(seen, 1);
        server.join().unwrap();
        // Nothing listens any more: refused, reported as unreachable, and
        // a probe waiting for an answer gives up at its limit.
        assert!(matches!(http_get("127.0.0.1", port, Duration::from_millis(200)), Err(GetError::Unreachable(_))));
        let started = Instant::now();
        assert!(probe.run(Duration::from_millis(100), |_| {}, |s| s.answer.is_ok()).is_none());
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
