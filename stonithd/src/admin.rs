//! stonith_admin's command line: Pacemaker 2.1.5's flags where they
//! apply, its text and XML output, its exit codes (crm_exit_t).
//!
//! | flag | what | output |
//! |---|---|---|
//! | `-L` | devices registered here | one id a line, `N fence devices found` |
//! | `-l NODE` | devices here that can fence NODE | same |
//! | `-B/-F/-U NODE` | reboot / off / on (unfence) | nothing; exit code |
//! | `-H NODE\|*` | last successful fencing (`-V`: every record) | history lines, `N events found` |
//! | `-Q DEVICE` | the device's monitor, here | nothing; exit code |
//! | `-t SECONDS` | timeout (default 120) | |
//! | `-y SECONDS` | delay added to the devices' (`-1`: none at all) | |
//!
//! Exit codes: 0 ok, 1 failed or no device (ENODEV), 3 unsupported,
//! 64 usage, 102 no daemon, 124 timeout.

use std::path::Path;
use std::time::Duration;

use clap::Parser;

use crate::client::{client_name, Client};
use crate::error::Error;
use crate::history::{describe, later_succeeded, time_string};
use crate::protocol::{Event, FenceStatus, OpState};

#[derive(Parser, Debug)]
#[command(
    name = "stonith_admin",
    about = "stonith_admin - Access the Pacemaker fencing API",
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct Args {
    /// List all registered devices.
    #[arg(short = 'L', long = "list-registered")]
    pub list_registered: bool,
    /// List devices that can terminate the specified host.
    #[arg(short = 'l', long = "list", value_name = "HOST")]
    pub list: Option<String>,
    /// Check the named device's status.
    #[arg(short = 'Q', long = "query", value_name = "DEVICE")]
    pub query: Option<String>,
    /// Show last successful fencing operation for named node (or '*' for all nodes).
    #[arg(short = 'H', long = "history", value_name = "NODE")]
    pub history: Option<String>,
    /// Fence named host.
    #[arg(short = 'F', long = "fence", value_name = "HOST")]
    pub fence: Option<String>,
    /// Unfence named host.
    #[arg(short = 'U', long = "unfence", value_name = "HOST")]
    pub unfence: Option<String>,
    /// Reboot named host.
    #[arg(short = 'B', long = "reboot", value_name = "HOST")]
    pub reboot: Option<String>,
    /// Operation timeout in seconds (default 120).
    #[arg(
        short = 't',
        long = "timeout",
        value_name = "SECONDS",
        default_value_t = 120
    )]
    pub timeout: u64,
    /// Apply a fencing delay in seconds; pcmk_delay_base/max are added, -1 disables all.
    #[arg(
        short = 'y',
        long = "delay",
        value_name = "SECONDS",
        default_value_t = 0,
        allow_hyphen_values = true
    )]
    pub delay: i64,
    /// Broadcast wherever appropriate (the history is cluster-wide here already).
    #[arg(short = 'b', long = "broadcast")]
    pub broadcast: bool,
    /// Identify fencing operations in logs with the specified tag.
    #[arg(short = 'T', long = "tag", value_name = "TAG")]
    pub tag: Option<String>,
    /// Specify output format as one of: text (default), xml.
    #[arg(long = "output-as", value_name = "FORMAT", default_value = "text")]
    pub output_as: String,
    /// Increase debug output (with --history: show every record).
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Be less descriptive in output.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Show help options.
    #[arg(short = '?', long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// What the command prints and how it exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub exit: u8,
}

const EX_USAGE: u8 = 64;
const EX_DISCONNECT: u8 = 102;
const EX_TIMEOUT: u8 = 124;

fn crm_exit_str(code: u8) -> &'static str {
    match code {
        0 => "OK",
        1 => "Error occurred",
        3 => "Unimplemented",
        64 => "Incorrect usage",
        102 => "Not connected",
        124 => "Timeout occurred",
        _ => "Error occurred",
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Output in the chosen format.
struct Out {
    xml: bool,
    request: String,
    stdout: String,
    stderr: String,
}

impl Out {
    fn list(
        &mut self,
        title: &str,
        singular: &str,
        plural: &str,
        items: &[String],
        xml_items: &[String],
    ) {
        if self.xml {
            self.stdout.push_str(&format!(
                "  <list name=\"{}\" count=\"{}\">\n",
                xml_escape(title),
                xml_items.len()
            ));
            for i in xml_items {
                self.stdout.push_str(&format!("    {i}\n"));
            }
            self.stdout.push_str("  </list>\n");
        } else {
            for i in items {
                self.stdout.push_str(i);
                self.stdout.push('\n');
            }
            let noun = if items.len() == 1 { singular } else { plural };
            self.stdout
                .push_str(&format!("{} {noun} found\n", items.len()));
        }
    }

    fn finish(mut self, exit: u8, error: Option<String>) -> Outcome {
        if self.xml {
            let mut body = format!(
                "<pacemaker-result api-version=\"2.25\" request=\"{}\">\n",
                xml_escape(&self.request)
            );
            body.push_str(&self.stdout);
            match error {
                None => body.push_str(&format!("  <status code=\"{exit}\" message=\"{}\"/>\n", crm_exit_str(exit))),
                Some(e) => body.push_str(&format!(
                    "  <status code=\"{exit}\" message=\"{}\">\n    <errors>\n      <error>{}</error>\n    </errors>\n  </status>\n",
                    crm_exit_str(exit),
                    xml_escape(&e)
                )),
            }
            body.push_str("</pacemaker-result>\n");
            self.stdout = body;
        } else if let Some(e) = error {
            self.stderr.push_str(&e);
            self.stderr.push('\n');
        }
        Outcome {
            stdout: self.stdout,
            stderr: self.stderr,
            exit,
        }
    }
}

fn fence_event_xml(ev: &Event) -> String {
    let mut s = format!(
        "<fence_event action=\"{}\" target=\"{}\" client=\"{}\" origin=\"{}\"",
        xml_escape(&ev.action),
        xml_escape(&ev.target),
        xml_escape(&ev.client),
        xml_escape(&ev.origin)
    );
    match ev.state {
        OpState::Failed => {
            s.push_str(" status=\"failed\"");
            if let Some(r) = &ev.reason {
                s.push_str(&format!(" exit-reason=\"{}\"", xml_escape(r)));
            }
        }
        OpState::Done => s.push_str(" status=\"success\""),
        OpState::Pending => s.push_str(" status=\"pending\" extended-status=\"1\""),
    }
    if let Some(d) = &ev.delegate {
        s.push_str(&format!(" delegate=\"{}\"", xml_escape(d)));
    }
    if ev.state != OpState::Pending {
        s.push_str(&format!(
            " completed=\"{}\"",
            xml_escape(&time_string(ev.completed_ms / 1000))
        ));
    }
    s.push_str("/>");
    s
}

fn connect_error(e: &Error) -> (u8, String) {
    match e {
        Error::NotConnected(_) => (
            EX_DISCONNECT,
            "Could not connect to fencer: Transport endpoint is not connected".to_string(),
        ),
        Error::Timeout => (EX_TIMEOUT, "Timer expired".to_string()),
        Error::Refused { status, reason } => (status.exit_code(), reason.clone()),
        Error::Protocol(p) => (76, format!("Protocol error: {p}")),
    }
}

/// Runs stonith_admin with `argv` (program name first) against the
/// stonithd at `socket`.
pub fn run(argv: &[String], socket: &Path) -> Outcome {
    let args = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let code = if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp) {
                0
            } else {
                EX_USAGE
            };
            let text = e.render().to_string();
            return if code == 0 {
                Outcome {
                    stdout: text,
                    stderr: String::new(),
                    exit: 0,
                }
            } else {
                Outcome {
                    stdout: String::new(),
                    stderr: text,
                    exit: code,
                }
            };
        }
    };
    let xml = match args.output_as.as_str() {
        "text" => false,
        "xml" => true,
        other => {
            return Outcome {
                stdout: String::new(),
                stderr: format!(
                    "Error: Invalid output format '{other}' (text and xml are supported)\n"
                ),
                exit: EX_USAGE,
            };
        }
    };
    let request = argv.join(" ");
    let mut out = Out {
        xml,
        request,
        stdout: String::new(),
        stderr: String::new(),
    };
    let timeout = Duration::from_secs(args.timeout.max(1));

    let fence = [
        (&args.reboot, "reboot"),
        (&args.fence, "off"),
        (&args.unfence, "on"),
    ]
    .into_iter()
    .find_map(|(h, a)| h.clone().map(|h| (h, a)));
    if !(args.list_registered
        || args.list.is_some()
        || args.query.is_some()
        || args.history.is_some()
        || fence.is_some())
    {
        return Outcome {
            stdout: String::new(),
            stderr:
                "stonith_admin: no command given (one of -L, -l, -Q, -H, -B, -F, -U; see --help)\n"
                    .into(),
            exit: EX_USAGE,
        };
    }
    let mut client = match Client::connect(socket) {
        Ok(c) => c,
        Err(e) => {
            let (code, msg) = connect_error(&e);
            return out.finish(code, Some(msg));
        }
    };

    if let Some((target, action)) = fence {
        let delay = (args.delay >= 0).then(|| args.delay * 1000).or(Some(-1));
        let name = match &args.tag {
            Some(t) => format!("{t}.{}", std::process::id()),
            None => client_name("stonith_admin"),
        };
        return match client.fence(&target, action, timeout, delay, &name) {
            Ok(o) if o.succeeded() => out.finish(0, None),
            Ok(o) => {
                let why = o.reason().unwrap_or("unknown error").to_string();
                out.finish(
                    o.status().exit_code(),
                    Some(format!(
                        "stonith_admin: {} of {target} failed: {why}",
                        crate::history::action_words(action)
                    )),
                )
            }
            Err(e) => {
                let (code, msg) = connect_error(&e);
                out.finish(code, Some(msg))
            }
        };
    }
    if args.list_registered || args.list.is_some() {
        return match client.devices(args.list.as_deref(), timeout) {
            Ok(ids) => {
                let xml_items: Vec<String> = ids
                    .iter()
                    .map(|i| format!("<item name=\"device\">{}</item>", xml_escape(i)))
                    .collect();
                let title = "Registered fence devices";
                out.list(title, "fence device", "fence devices", &ids, &xml_items);
                out.finish(0, None)
            }
            Err(e) => {
                let (code, msg) = connect_error(&e);
                out.finish(
                    code,
                    Some(format!("Failed to list registered devices: {msg}")),
                )
            }
        };
    }
    if let Some(dev) = &args.query {
        return match client.monitor(dev, timeout) {
            Ok(()) => out.finish(0, None),
            Err(e) => {
                let (code, msg) = connect_error(&e);
                // Pacemaker prints nothing here; the reason helps.
                out.finish(code, Some(format!("stonith_admin: {msg}")))
            }
        };
    }
    if let Some(target) = &args.history {
        return match client.history(Some(target)) {
            Ok(events) => {
                let (mut lines, mut xml_items) = (Vec::new(), Vec::new());
                let latest = events.iter().find(|e| e.state == OpState::Done);
                if args.quiet {
                    if let Some(l) = latest {
                        out.stdout.push_str(&format!("{}\n", l.completed_ms / 1000));
                    }
                    return out.finish(0, None);
                }
                if args.verbose > 0 {
                    for e in &events {
                        lines.push(describe(e, true, later_succeeded(e, &events)));
                        xml_items.push(fence_event_xml(e));
                    }
                } else if let Some(l) = latest {
                    lines.push(describe(l, false, None));
                    xml_items.push(fence_event_xml(l));
                }
                out.list("Fencing history", "event", "events", &lines, &xml_items);
                out.finish(0, None)
            }
            Err(e) => {
                let (code, msg) = connect_error(&e);
                out.finish(code, Some(msg))
            }
        };
    }
    out.finish(1, Some("nothing to do".into()))
}

/// The exit code of a fencing outcome (for callers mapping results).
pub fn exit_code(status: FenceStatus) -> u8 {
    status.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        std::iter::once("stonith_admin")
            .chain(a.iter().copied())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn usage_errors_and_no_daemon() {
        let nowhere = Path::new("/nonexistent/stonithd.sock");
        assert_eq!(run(&argv(&[]), nowhere).exit, 64);
        assert_eq!(run(&argv(&["--bogus"]), nowhere).exit, 64);
        assert_eq!(run(&argv(&["-L", "--output-as", "html"]), nowhere).exit, 64);
        let o = run(&argv(&["-L"]), nowhere);
        assert_eq!(
            (o.exit, o.stderr.as_str(), o.stdout.as_str()),
            (
                102,
                "Could not connect to fencer: Transport endpoint is not connected\n",
                ""
            )
        );
        let o = run(&argv(&["--output-as", "xml", "-L"]), nowhere);
        assert_eq!(o.exit, 102);
        assert_eq!(
            o.stdout,
            "<pacemaker-result api-version=\"2.25\" request=\"stonith_admin --output-as xml -L\">\n  <status code=\"102\" message=\"Not connected\">\n    <errors>\n      <error>Could not connect to fencer: Transport endpoint is not connected</error>\n    </errors>\n  </status>\n</pacemaker-result>\n"
        );
        assert_eq!(run(&argv(&["-?"]), nowhere).exit, 0);
    }
}
