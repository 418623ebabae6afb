//! `ha-httpd`: a tiny HTTP/1.0 server for the cluster tests and the demo,
//! managed by the `ocf:heartbeat-rs:Httpd` agent, and the HTTP GET its
//! monitor uses (so the agent needs no curl or wget).
//!
//! ```text
//! ha-httpd serve --ip 10.213.0.50 --port 8080 [--docroot DIR | --body TEXT] [--pidfile F]
//! ha-httpd get --ip 10.213.0.50 --port 8080 [--path /] [--timeout-ms 5000]
//! ```
//!
//! `serve` answers GET (and HEAD) with a file under `--docroot`
//! (`index.html` for a directory), else with `--body`, else with the
//! node's name (`$HA_NODENAME`) and a newline, so a client can see which
//! node serves it. One thread per connection; requests bigger than 8 KiB
//! or slower than 5 s are dropped. `get` prints the body and exits 0 on a
//! 200 answer, 1 on any other answer, 7 when nothing answers (OCF "not
//! running", which the agent's monitor passes on).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "ha-httpd", about = "Tiny HTTP server (and GET client) for cluster tests")]
struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve until killed.
    Serve {
        #[arg(long)]
        ip: IpAddr,
        #[arg(long)]
        port: u16,
        /// Serve files from this directory.
        #[arg(long, conflicts_with = "body")]
        docroot: Option<PathBuf>,
        /// Answer every request with this text.
        #[arg(long)]
        body: Option<String>,
        /// Write our pid here once listening.
        #[arg(long)]
        pidfile: Option<PathBuf>,
    },
    /// GET a path; print the body; exit 0 on 200.
    Get {
        #[arg(long)]
        ip: IpAddr,
        #[arg(long)]
        port: u16,
        #[arg(long, default_value = "/")]
        path: String,
        #[arg(long, default_value_t = 5000)]
        timeout_ms: u64,
    },
}

/// What every request gets when there is no docroot.
enum Content {
    Files(PathBuf),
    Body(String),
}

const MAX_REQUEST: u64 = 8 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    match Args::parse().cmd {
        Cmd::Serve { ip, port, docroot, body, pidfile } => {
            let content = match (docroot, body) {
                (Some(d), _) => Content::Files(d),
                (None, Some(b)) => Content::Body(b),
                (None, None) => Content::Body(format!("{}\n", node_name())),
            };
            match serve(SocketAddr::new(ip, port), content, pidfile.as_deref()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("ha-httpd: {e:#}");
                    ExitCode::from(1)
                }
            }
        }
        Cmd::Get { ip, port, path, timeout_ms } => get(SocketAddr::new(ip, port), &path, Duration::from_millis(timeout_ms)),
    }
}

fn node_name() -> String {
    std::env::var("HA_NODENAME")
        .ok()
        .filter(|n| !n.is_empty())
        .or_else(|| nix::unistd::gethostname().ok().map(|h| h.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".into())
}

fn serve(addr: SocketAddr, content: Content, pidfile: Option<&Path>) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
    if let Some(p) = pidfile {
        std::fs::write(p, format!("{}\n", std::process::id())).with_context(|| format!("writing {}", p.display()))?;
    }
    let content = std::sync::Arc::new(content);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let content = content.clone();
        std::thread::spawn(move || {
            let _ = answer(stream, &content);
        });
    }
    Ok(())
}

/// Reads one request and answers it.
fn answer(mut stream: TcpStream, content: &Content) -> std::io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new((&stream).take(MAX_REQUEST));
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip the headers: nothing in them changes the answer.
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let (status, body) = match method {
        "GET" | "HEAD" => respond(content, target),
        _ => ("405 Method Not Allowed", b"method not allowed\n".to_vec()),
    };
    let head = format!("HTTP/1.0 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    stream.write_all(head.as_bytes())?;
    if method != "HEAD" {
        stream.write_all(&body)?;
    }
    Ok(())
}

fn respond(content: &Content, target: &str) -> (&'static str, Vec<u8>) {
    match content {
        Content::Body(b) => ("200 OK", b.clone().into_bytes()),
        Content::Files(root) => match file_under(root, target).and_then(|p| std::fs::read(p).ok()) {
            Some(data) => ("200 OK", data),
            None => ("404 Not Found", b"not found\n".to_vec()),
        },
    }
}

/// The file a request path names, never outside `root`.
fn file_under(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let mut p = root.to_path_buf();
    for c in Path::new(path.trim_start_matches('/')).components() {
        match c {
            Component::Normal(n) => p.push(n),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if p.is_dir() {
        p.push("index.html");
    }
    Some(p)
}

fn get(addr: SocketAddr, path: &str, timeout: Duration) -> ExitCode {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, timeout) else {
        return ExitCode::from(7);
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let req = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    let mut reply = Vec::new();
    if stream.write_all(req.as_bytes()).is_err() || stream.take(1 << 20).read_to_end(&mut reply).is_err() {
        return ExitCode::from(1);
    }
    let text = String::from_utf8_lossy(&reply);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return ExitCode::from(1) };
    print!("{body}");
    let ok = head.lines().next().is_some_and(|l| l.split_whitespace().nth(1) == Some("200"));
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_stay_under_the_docroot() {
        let root = Path::new("/srv/www");
        assert_eq!(file_under(root, "/a/b.txt?x=1"), Some(PathBuf::from("/srv/www/a/b.txt")));
        assert_eq!(file_under(root, "/../etc/passwd"), None);
        assert_eq!(file_under(root, "/a/../../x"), None);
    }
}
