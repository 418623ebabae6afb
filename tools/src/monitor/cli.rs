//! crm_mon's command line and run modes: one-shot (`-1`, `-s`, xml),
//! refreshing the terminal every `-i` seconds (the default), writing an
//! HTML page every interval (`-h FILE`), and running in the background
//! (`-d`, with `-h`).
//!
//! The CIB comes from `CIB_shadow` / `CIB_file` (re-read for every frame,
//! so edits show up on the next refresh) or, without them, from the local
//! cib daemon (queried for every frame; the console also redraws on the
//! daemon's change notifications). See [`super::source`].

use std::io::Write;
use std::time::Duration;

use clap::Parser;

use super::source::{Source, SourceError};
use super::{html, nagios, text, xml, Format, Options, Snapshot};

#[derive(Parser, Debug, Clone)]
#[command(
    name = "crm_mon",
    version,
    about = "Provides a summary of cluster's current state.",
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct Args {
    /// Display cluster status once as simple output on the console and exit
    #[arg(short = '1', long = "one-shot")]
    pub one_shot: bool,
    /// Update frequency (default is 5 seconds)
    #[arg(short = 'i', long = "interval", value_name = "TIMESPEC")]
    pub interval: Option<String>,
    /// Display inactive resources
    #[arg(short = 'r', long = "inactive")]
    pub inactive: bool,
    /// Display resource fail counts
    #[arg(short = 'f', long = "failcounts")]
    pub failcounts: bool,
    /// Display node attributes
    #[arg(short = 'A', long = "show-node-attributes")]
    pub node_attributes: bool,
    /// Group resources by node
    #[arg(short = 'n', long = "group-by-node")]
    pub group_by_node: bool,
    /// Display resource operation history
    #[arg(short = 'o', long = "operations")]
    pub operations: bool,
    /// Display resource operation history with timing details
    #[arg(short = 't', long = "timing-details")]
    pub timing: bool,
    /// Display cluster tickets
    #[arg(short = 'c', long = "tickets")]
    pub tickets: bool,
    /// Display negative location constraints
    #[arg(short = 'L', long = "neg-locations", num_args = 0..=1, default_missing_value = "")]
    pub neg_locations: Option<String>,
    /// Show more details (node IDs, individual clone instances)
    #[arg(short = 'R', long = "show-detail")]
    pub show_detail: bool,
    /// Display pending state if 'record-pending' is enabled (always on)
    #[arg(short = 'j', long = "pending")]
    pub pending: bool,
    /// Show fence history: 0 off, 1 failures and pending, 2 (default) and
    /// successes, 3 full history. Accepted for compatibility: the
    /// history is the fencer's, which a CIB file does not hold, so the
    /// output is as without it (as 2.1.5 shows it offline).
    #[arg(short = 'm', long = "fence-history", value_name = "LEVEL", num_args = 0..=1, default_missing_value = "2")]
    pub fence_history: Option<String>,
    /// Display the cluster status once as a simple one line output (suitable for nagios)
    #[arg(short = 's', long = "simple-status")]
    pub simple_status: bool,
    /// Write cluster status to the named HTML file
    #[arg(short = 'h', long = "as-html", value_name = "FILE")]
    pub as_html: Option<String>,
    /// Write cluster status as XML to stdout
    #[arg(short = 'X', long = "as-xml")]
    pub as_xml: bool,
    /// Run in the background as a daemon (requires -h)
    #[arg(short = 'd', long = "daemonize")]
    pub daemonize: bool,
    /// Specify file to store process ID in
    #[arg(short = 'p', long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<String>,
    /// Specify output format as one of: console (default), html, text, xml
    #[arg(long = "output-as", value_name = "FORMAT")]
    pub output_as: Option<String>,
    /// Specify file name for output (or "-" for stdout)
    #[arg(long = "output-to", value_name = "DEST")]
    pub output_to: Option<String>,
    /// Increase debug output
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Show help options
    #[arg(short = '?', long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Display software version and exit
    #[arg(short = '$', long = "version", action = clap::ArgAction::Version)]
    pub version: Option<bool>,
}

impl Args {
    pub fn options(&self) -> Options {
        Options {
            inactive: self.inactive,
            fail_counts: self.failcounts,
            node_attributes: self.node_attributes,
            group_by_node: self.group_by_node,
            operations: self.operations || self.timing,
            timing: self.timing,
            detail: self.show_detail,
            bans: self.neg_locations.is_some(),
            tickets: self.tickets,
        }
    }

    pub fn format(&self) -> Result<Format, String> {
        if self.as_xml {
            return Ok(Format::Xml);
        }
        match self.output_as.as_deref() {
            None | Some("console") | Some("text") => Ok(Format::Text),
            Some("xml") => Ok(Format::Xml),
            Some("html") => Ok(Format::Html),
            Some("json") => Ok(Format::Json),
            Some(other) => Err(format!("Invalid output format: {other}")),
        }
    }

    /// Refresh interval: `-i`, Pacemaker's interval syntax (`5`, `5s`,
    /// `2m`, `500ms`), default 5 seconds.
    pub fn interval(&self) -> Result<Duration, String> {
        match &self.interval {
            None => Ok(Duration::from_secs(5)),
            Some(s) => {
                let ms = cib::model::duration::parse_interval_ms(s).ok_or_else(|| format!("Invalid value '{s}' for -i/--interval"))?;
                // A bare number is seconds for crm_mon.
                let ms = if s.trim().bytes().all(|c| c.is_ascii_digit()) { s.trim().parse::<u64>().unwrap_or(5) * 1000 } else { ms };
                Ok(Duration::from_millis(ms.max(1)))
            }
        }
    }
}

/// What one run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub stdout: String,
    pub stderr: String,
    pub code: u8,
}

/// Renders one frame of `format` from `source` (or the error Pacemaker
/// prints when it cannot look at the cluster).
pub fn frame(source: &Source, args: &Args, format: Format, request: &str, now: i64) -> Frame {
    match source.snapshot(now) {
        Ok(mut snap) => {
            prepare(&mut snap, args, format);
            render(&snap, args, format, request)
        }
        Err(e) => failure(&e, args, format, request),
    }
}

/// Pacemaker unpacks the constraints only when a section needs them
/// (bans, tickets; XML shows every section), and unpacking a revoked
/// ticket's constraints marks nodes unclean or resources frozen.
pub fn prepare(snap: &mut Snapshot, args: &Args, format: Format) {
    let opts = args.options();
    if !args.simple_status && (matches!(format, Format::Xml | Format::Json) || opts.bans || opts.tickets) {
        super::bans::apply_ticket_losses(snap);
    }
}

/// A frame from a snapshot.
pub fn render(snap: &Snapshot, args: &Args, format: Format, request: &str) -> Frame {
    let opts = args.options();
    if args.simple_status {
        let (line, _) = nagios::render(snap);
        return Frame { stdout: format!("{line}\n"), stderr: String::new(), code: 0 };
    }
    let stdout = match format {
        Format::Text => text::render(snap, &opts),
        Format::Xml => xml::render(snap, &opts, request),
        Format::Json => as_json(xml::render(snap, &opts, request)),
        Format::Html => html::render(snap, &opts, None),
    };
    // Pacemaker warns whenever it unpacks a CIB without validation.
    let stderr = if snap.root.attr("validate-with") == Some("none") {
        "Schema validation of configuration is disabled (enabling is encouraged and prevents common misconfigurations)\n".to_string()
    } else {
        String::new()
    };
    Frame { stdout, stderr, code: 0 }
}

/// What Pacemaker's crm_mon prints when it has nothing to show: a CIB
/// file it cannot read is "Could not connect to the CIB" and still exit 0;
/// a cluster it cannot reach is "Connection to cluster failed" and exit
/// 102 (`CLUSTER CRIT`, Nagios' 2, with `-s`).
pub fn failure(e: &SourceError, args: &Args, format: Format, request: &str) -> Frame {
    if args.verbose > 0 {
        eprintln!("crm_mon: {e}");
    }
    let (msg, code) = match e {
        SourceError::File(_) => ("Could not connect to the CIB: No such device or address".to_string(), crate::ExitCode::Ok),
        SourceError::Cluster(why) => (format!("crm_mon: Connection to cluster failed: {why}"), crate::ExitCode::Disconnect),
        SourceError::Env(e) => (format!("crm_mon: {e}"), crate::ExitCode::InvalidParam),
    };
    if args.simple_status && code != crate::ExitCode::Ok {
        let line = match e {
            SourceError::Cluster(why) => format!("crm_mon: CLUSTER CRIT: Connection to cluster failed: {why}\n"),
            _ => format!("crm_mon: CLUSTER CRIT: {msg}\n"),
        };
        return Frame { stdout: String::new(), stderr: line, code: nagios::NagiosCode::Critical as u8 };
    }
    if matches!(format, Format::Xml | Format::Json) && !args.simple_status {
        let out = format!(
            "<pacemaker-result api-version=\"{}\" request=\"{}\">\n  <status code=\"{}\" message=\"{}\">\n    <errors>\n      <error>{}</error>\n    </errors>\n  </status>\n</pacemaker-result>\n",
            xml::API_VERSION,
            escape(request),
            code.code(),
            code.describe(),
            escape_text(&msg)
        );
        let out = if format == Format::Json { as_json(out) } else { out };
        return Frame { stdout: out, stderr: String::new(), code: code.code() };
    }
    Frame { stdout: String::new(), stderr: format!("{msg}\n"), code: code.code() }
}

/// `--output-as json`: the XML document mapped mechanically.
fn as_json(xml: String) -> String {
    crate::output::json::xml_text_to_json(&xml).unwrap_or(xml)
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    cib::xml::write::escape_attr(&mut out, s, cib::xml::write::Escaping::Lossless);
    out
}

/// Runs crm_mon with parsed arguments; returns the process exit code.
pub fn run(args: &Args, request: &str) -> u8 {
    let format = match args.format() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("crm_mon: {e}");
            return crate::ExitCode::Usage.code();
        }
    };
    if let Some(level) = &args.fence_history {
        // C's atoi: leading digits, anything else 0.
        let digits: String = level.trim_start().chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.parse::<u64>().unwrap_or(0) > 3 {
            eprintln!("crm_mon: Fence history must be 0-3");
            return crate::ExitCode::Usage.code();
        }
    }
    let interval = match args.interval() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("crm_mon: {e}");
            return crate::ExitCode::Usage.code();
        }
    };
    // CIB_shadow / CIB_file, else the local cib daemon.
    let source = match cib::env::HaEnv::from_process() {
        Ok(env) => Source::from_env(env.cib_source),
        Err(e) => {
            let f = failure(&SourceError::Env(e), args, format, request);
            eprint!("{}", f.stderr);
            return f.code;
        }
    };
    if args.daemonize && args.as_html.is_none() && args.output_to.is_none() {
        eprintln!("crm_mon: --daemonize requires at least one of --output-to and --as-html");
        return crate::ExitCode::Usage.code();
    }
    if let Some(file) = args.as_html.clone() {
        if args.daemonize {
            if let Err(e) = daemonize(args.pid_file.as_deref()) {
                eprintln!("crm_mon: could not daemonize: {e}");
                return crate::ExitCode::Error.code();
            }
        }
        return html_loop(&source, args, &file, interval);
    }
    let one_shot = args.one_shot || args.simple_status || format != Format::Text;
    if one_shot {
        let f = frame(&source, args, format, request, super::clock::now());
        if let Err(e) = write_output(args.output_to.as_deref(), &f.stdout) {
            eprintln!("crm_mon: {e}");
            return crate::ExitCode::CantCreat.code();
        }
        eprint!("{}", f.stderr);
        return f.code;
    }
    console(&source, args, format, request, interval)
}

/// The refreshing console: clear the screen and redraw every interval, and
/// live also as soon as the CIB changes (the daemon's notifications). An
/// unreachable cluster is waited for, as Pacemaker's crm_mon does.
fn console(source: &Source, args: &Args, format: Format, request: &str, interval: Duration) -> u8 {
    let mut watch = None;
    loop {
        let shown = match source.snapshot(super::clock::now()) {
            Ok(mut snap) => {
                prepare(&mut snap, args, format);
                let f = render(&snap, args, format, request);
                format!("{}{}", f.stdout, f.stderr)
            }
            Err(SourceError::Cluster(_)) => {
                watch = None;
                "Waiting until cluster is available on this node ...\n".to_string()
            }
            Err(e) => failure(&e, args, format, request).stderr,
        };
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "\x1b[H\x1b[2J{shown}");
        if out.flush().is_err() {
            return 0;
        }
        drop(out);
        if source.is_live() && watch.is_none() {
            watch = source.watch(interval);
        }
        match watch.as_mut() {
            Some(w) => {
                if !w.wait() {
                    watch = None;
                    std::thread::sleep(interval);
                }
            }
            None => std::thread::sleep(interval),
        }
    }
}

fn write_output(dest: Option<&str>, text: &str) -> std::io::Result<()> {
    match dest {
        None | Some("-") => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()
        }
        Some(path) => std::fs::write(path, text),
    }
}

/// `-h FILE`: rewrite the page every interval (once with `-1`), through a
/// temporary file and a rename so a browser never reads half a page.
fn html_loop(source: &Source, args: &Args, file: &str, interval: Duration) -> u8 {
    loop {
        let now = super::clock::now();
        let page = match source.snapshot(now) {
            Ok(snap) => html::render(&snap, &args.options(), Some(interval.as_secs().max(1))),
            Err(e) => {
                let f = failure(&e, args, Format::Html, "");
                eprint!("{}", f.stderr);
                if args.one_shot {
                    return f.code;
                }
                std::thread::sleep(interval);
                continue;
            }
        };
        let tmp = format!("{file}.tmp.{}", std::process::id());
        if let Err(e) = std::fs::write(&tmp, page).and_then(|_| std::fs::rename(&tmp, file)) {
            eprintln!("crm_mon: cannot write {file}: {e}");
            return crate::ExitCode::CantCreat.code();
        }
        if args.one_shot {
            return 0;
        }
        std::thread::sleep(interval);
    }
}

/// Detaches from the terminal: fork (the parent exits 0), new session,
/// working directory `/`, standard streams on /dev/null; writes the pid
/// file if asked.
fn daemonize(pid_file: Option<&str>) -> Result<(), String> {
    use nix::unistd::{fork, setsid, ForkResult};
    // SAFETY: called before any thread is started; the child only
    // continues with this single thread.
    match unsafe { fork() }.map_err(|e| e.to_string())? {
        ForkResult::Parent { .. } => std::process::exit(0),
        ForkResult::Child => {}
    }
    setsid().map_err(|e| e.to_string())?;
    // Paths given relative to where we started must keep working.
    let devnull = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null").map_err(|e| e.to_string())?;
    use std::os::fd::AsRawFd;
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard descriptors.
        unsafe { nix::libc::dup2(devnull.as_raw_fd(), fd) };
    }
    if let Some(p) = pid_file {
        std::fs::write(p, format!("{}\n", std::process::id())).map_err(|e| e.to_string())?;
    }
    Ok(())
}
