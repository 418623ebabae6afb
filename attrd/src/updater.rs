//! attrd_updater's command line, with Pacemaker 2.1.5's flags, messages
//! and exit codes where they apply: `-n NAME` with one of `-U VALUE`,
//! `-B VALUE` (with `-d`), `-Y` (with `-d`), `-Q`, `-D`, `-R`; `-N NODE`,
//! `-A` (query all nodes), `-d DELAY` (dampening; `5`, `5s`, `500ms`),
//! `-l` / `-s` / `-p` accepted and ignored (2.1.5 ignores `-l` too).
//!
//! Query output: `name="NAME" host="NODE" value="VALUE"` per node.

use std::path::Path;

use clap::Parser;
use tools::cib_file::Outcome;
use tools::ExitCode;

use crate::client::{Client, DEFAULT_TIMEOUT};
use crate::error::Error;
use crate::protocol::Request;

#[derive(Parser, Debug)]
#[command(name = "attrd_updater", about = "query and update Pacemaker node attributes", disable_version_flag = true)]
pub struct Args {
    /// The attribute's name
    #[arg(short = 'n', long = "name")]
    pub name: Option<String>,
    /// Update attribute's value in attrd; if this changes it, it is also written to the CIB
    #[arg(short = 'U', long = "update", visible_short_alias = 'v', allow_hyphen_values = true)]
    pub update: Option<String>,
    /// Update attribute's value and dampening (requires -d)
    #[arg(short = 'B', long = "update-both", allow_hyphen_values = true)]
    pub update_both: Option<String>,
    /// Update attribute's dampening (requires -d)
    #[arg(short = 'Y', long = "update-delay")]
    pub update_delay: bool,
    /// Query the attribute's value from attrd
    #[arg(short = 'Q', long = "query")]
    pub query: bool,
    /// Unset the attribute in attrd (and remove it from the CIB)
    #[arg(short = 'D', long = "delete")]
    pub delete: bool,
    /// (Advanced) Force attrd to resend all current values to the CIB
    #[arg(short = 'R', long = "refresh")]
    pub refresh: bool,
    /// The time to wait (dampening) in seconds for further changes before writing
    #[arg(short = 'd', long = "delay")]
    pub delay: Option<String>,
    /// (Advanced) The attribute set in which to place the value (ignored)
    #[arg(short = 's', long = "set")]
    pub set: Option<String>,
    /// Set the attribute for the named node (instead of the local one)
    #[arg(short = 'N', long = "node")]
    pub node: Option<String>,
    /// Show values of the attribute for all nodes (query only)
    #[arg(short = 'A', long = "all")]
    pub all: bool,
    /// Lifetime of the node attribute (ignored: transient attributes only)
    #[arg(short = 'l', long = "lifetime")]
    pub lifetime: Option<String>,
    /// If this creates a new attribute, never write it to the CIB (ignored)
    #[arg(short = 'p', long = "private")]
    pub private: bool,
    /// (Deprecated) quiet
    #[arg(short = 'q', long = "quiet", hide = true)]
    pub quiet: bool,
    /// Increase debug output
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// A delay as attrd_updater takes it: a number of seconds, or with a unit
/// (`ms`, `s`, `m`/`min`, `h`).
pub fn parse_delay_ms(s: &str) -> Option<u64> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: u64 = t[..split].parse().ok()?;
    let mult = match t[split..].trim() {
        "" | "s" | "sec" => 1000,
        "ms" | "msec" => 1,
        "m" | "min" => 60_000,
        "h" | "hr" => 3_600_000,
        _ => return None,
    };
    Some(n * mult)
}

fn usage(o: &mut Outcome, msg: &str) {
    o.err(&format!("attrd_updater: {msg}\n"));
}

/// Runs attrd_updater with `argv` (program name first) against `socket`.
pub fn run(argv: &[String], socket: &Path) -> Outcome {
    let mut o = Outcome::default();
    let args = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let text = e.render().to_string();
            let help = matches!(e.kind(), clap::error::ErrorKind::DisplayHelp);
            if help {
                o.out(&text);
                return o.exit(ExitCode::Ok);
            }
            o.err(&text);
            return o.exit(ExitCode::Usage);
        }
    };
    let dampen_ms = match args.delay.as_deref().map(|d| (d, parse_delay_ms(d))) {
        None => None,
        Some((_, Some(ms))) => Some(ms),
        Some((d, None)) => {
            usage(&mut o, &format!("Invalid delay: {d}"));
            return o.exit(ExitCode::Usage);
        }
    };
    let name = args.name.clone();
    let Some(name) = name.or_else(|| args.refresh.then(String::new)) else {
        usage(&mut o, "Command requires --name argument");
        return o.exit(ExitCode::Usage);
    };
    if (args.update_both.is_some() || args.update_delay) && dampen_ms.is_none() {
        usage(&mut o, "Command requires --delay argument");
        return o.exit(ExitCode::Usage);
    }
    let node = args.node.clone();
    // Pacemaker takes the last command given; here one of them, in this order.
    let (req, shown_value) = if let Some(v) = args.update.clone().or(args.update_both.clone()) {
        (Request::Update { node, name: name.clone(), value: v.clone(), dampen_ms }, v)
    } else if args.update_delay {
        // The current value with a new delay: ask for it first.
        (Request::Update { node, name: name.clone(), value: String::new(), dampen_ms }, String::new())
    } else if args.delete {
        (Request::Delete { node, name: name.clone(), dampen_ms }, "(null)".to_string())
    } else if args.refresh {
        (Request::Refresh, String::new())
    } else {
        (Request::Query { node, name: name.clone(), all: args.all }, String::new())
    };
    let mut client = match Client::connect(socket, DEFAULT_TIMEOUT) {
        Ok(c) => c,
        Err(e) => {
            usage(&mut o, &format!("Could not connect to attrd: {}", errno_text(&e)));
            return o.exit(ExitCode::Disconnect);
        }
    };
    let req = match req {
        Request::Update { node, name, value: _, dampen_ms } if args.update_delay => {
            match client.query(node.as_deref(), &name) {
                Ok(v) => Request::Update { value: v.into_iter().next().and_then(|v| v.value).unwrap_or_default(), node, name, dampen_ms },
                Err(e) => return failed(o, &format!("Could not update {name}"), e),
            }
        }
        r => r,
    };
    match &req {
        Request::Query { name, .. } => match client.request(&req) {
            Ok(values) => {
                for v in values {
                    o.out(&format!("name=\"{name}\" host=\"{}\" value=\"{}\"\n", v.node, v.value.unwrap_or_default()));
                }
                o.exit(ExitCode::Ok)
            }
            Err(e) => failed(o, &format!("Could not query value of {name}"), e),
        },
        _ => match client.request(&req) {
            Ok(_) => o.exit(ExitCode::Ok),
            Err(e) => failed(o, &format!("Could not update {name}={shown_value}"), e),
        },
    }
}

fn errno_text(e: &Error) -> String {
    match e {
        Error::NotConnected(io) => io.kind().to_string().replace("connection refused", "Connection refused").replace("entity not found", "No such file or directory"),
        other => other.to_string(),
    }
}

fn failed(mut o: Outcome, what: &str, e: Error) -> Outcome {
    let code = match &e {
        Error::NoSuch => ExitCode::NoSuch,
        Error::NotConnected(_) => ExitCode::Disconnect,
        Error::Timeout => ExitCode::Timeout,
        _ => ExitCode::Error,
    };
    usage(&mut o, &format!("{what}: {}", errno_text(&e)));
    o.exit(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_read_as_seconds_unless_told() {
        assert_eq!(parse_delay_ms("5"), Some(5000));
        assert_eq!(parse_delay_ms("5s"), Some(5000));
        assert_eq!(parse_delay_ms("250ms"), Some(250));
        assert_eq!(parse_delay_ms("2min"), Some(120_000));
        assert_eq!(parse_delay_ms("soon"), None);
    }

    #[test]
    fn usage_errors_need_no_daemon() {
        let argv = |a: &[&str]| std::iter::once("attrd_updater").chain(a.iter().copied()).map(String::from).collect::<Vec<_>>();
        let o = run(&argv(&["-Q"]), Path::new("/nonexistent/attrd.sock"));
        assert_eq!((o.code, o.stderr.as_str()), (64, "attrd_updater: Command requires --name argument\n"));
        let o = run(&argv(&["-n", "a", "-Y"]), Path::new("/nonexistent/attrd.sock"));
        assert_eq!(o.code, 64);
        let o = run(&argv(&["-n", "a", "-Q"]), Path::new("/nonexistent/attrd.sock"));
        assert_eq!(o.code, 102);
        assert!(o.stderr.starts_with("attrd_updater: Could not connect to attrd: "), "{}", o.stderr);
    }
}
