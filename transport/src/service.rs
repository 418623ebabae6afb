//! What a Heartbeat-style daemon binary needs around its core: Heartbeat's
//! log lines (`Nov 22 11:07:33 n1 heartbeat: [30214]: WARN: text`) on
//! ha.cf's logfile / debugfile / stderr, and stopping a running instance
//! through its pid file (`-k`). Shared by `heartbeat` and `ccm`.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

use crate::hacf::HaCf;

/// Heartbeat's log line shape for `program` on `node`.
struct LogFormat {
    program: &'static str,
    node: String,
}

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for LogFormat
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut w: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "ERROR",
            tracing::Level::WARN => "WARN",
            tracing::Level::INFO => "info",
            _ => "debug",
        };
        write!(w, "{} {} {}: [{}]: {level}: ", timestamp(), self.node, self.program, std::process::id())?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// Syslog-style time stamp (`Nov 22 11:07:33`), UTC: no time zone
/// database is read.
fn timestamp() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (h, m, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{} {d:2} {h:02}:{m:02}:{s:02}", MONTHS[(month - 1) as usize])
}

/// ha.cf's logfile gets info and up, debugfile everything; stderr gets
/// info and up (debug with `-d` or ha.cf's `debug`) in the foreground or
/// when neither file is set.
pub fn init_logging(program: &'static str, cf: &HaCf, node: &str, debug: u8, foreground: bool) -> io::Result<()> {
    type Boxed = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;
    let format = || LogFormat { program, node: node.to_string() };
    let file_layer = |path: &str, level: LevelFilter| -> io::Result<Boxed> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot open {path}: {e}")))?;
        Ok(tracing_subscriber::fmt::layer().event_format(format()).with_ansi(false).with_writer(Arc::new(f)).with_filter(level).boxed())
    };
    let mut layers: Vec<Boxed> = Vec::new();
    if let Some(p) = cf.logfile.as_deref() {
        layers.push(file_layer(p, LevelFilter::INFO)?);
    }
    if let Some(p) = cf.debugfile.as_deref() {
        layers.push(file_layer(p, LevelFilter::DEBUG)?);
    }
    // A child heartbeat launched has ha.cf's logfile as its stderr: writing
    // there too would log every line twice.
    let stderr_is_logfile = cf.logfile.as_deref().is_some_and(|p| same_file(Path::new(p), Path::new("/proc/self/fd/2")));
    if (foreground || layers.is_empty()) && !stderr_is_logfile {
        let verbose = debug > 0 || cf.debug > 0;
        layers.push(
            tracing_subscriber::fmt::layer()
                .event_format(format())
                .with_ansi(false)
                .with_writer(io::stderr)
                .with_filter(if verbose { LevelFilter::DEBUG } else { LevelFilter::INFO })
                .boxed(),
        );
    }
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layers))
        .map_err(|e| io::Error::other(format!("cannot set up logging: {e}")))
}

/// Whether two paths name the same file (device and inode).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// The pid a pid file names, if it names one.
pub fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether a process with this pid exists.
pub fn alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok()
}

/// What `-k` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// No live process behind the pid file.
    NotRunning,
    /// SIGTERM sent and the process exited within the wait.
    Stopped,
}

/// Sends SIGTERM to the process the pid file names and waits up to `wait`
/// for it to exit; a process still there after that is an error.
pub fn stop(pidfile: &Path, wait: Duration) -> io::Result<Stop> {
    let Some(pid) = read_pid(pidfile).filter(|&p| alive(p)) else {
        return Ok(Stop::NotRunning);
    };
    kill(Pid::from_raw(pid), Signal::SIGTERM).map_err(io::Error::from)?;
    let step = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    while waited < wait {
        if !alive(pid) {
            return Ok(Stop::Stopped);
        }
        std::thread::sleep(step);
        waited += step;
    }
    Err(io::Error::new(io::ErrorKind::TimedOut, format!("pid {pid} did not stop within {} s", wait.as_secs())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_file_follows_links_and_tells_files_apart() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a"), d.path().join("b"));
        std::fs::write(&a, "").unwrap();
        std::fs::write(&b, "").unwrap();
        std::os::unix::fs::symlink(&a, d.path().join("l")).unwrap();
        assert!(same_file(&a, &d.path().join("l")));
        assert!(!same_file(&a, &b));
        assert!(!same_file(&a, &d.path().join("missing")));
    }
}
