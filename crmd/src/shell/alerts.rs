//! Alert agents, run on this node's events (`crate::alerts` decides what
//! runs with which environment; docs/ALERTS.md).
//!
//! The alerts section is read from the CIB when first needed and again
//! after a change under `/cib/configuration`. Each agent is a process of
//! its own (its own process group), started without waiting: crmd's loop
//! never waits for an agent; a task per agent kills its group at the
//! timeout and logs how it ended.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cib::Element;

use super::Shell;
use crate::alerts::{self, Alert, Event, Run};

/// The alerts this node knows, and its alert sequence number.
#[derive(Debug, Default)]
pub(crate) struct Alerter {
    config: Vec<Alert>,
    /// The section must be read (again) before the next event.
    stale: bool,
    seq: u64,
    read_once: bool,
}

impl Alerter {
    /// A CIB change: is the alerts section possibly different now?
    pub(crate) fn observe_diff(&mut self, diff: &Element) {
        let touches = diff.descendants().filter(|e| e.name == "change").any(|c| {
            let path = c.attr("path").unwrap_or_default();
            path.starts_with("/cib/configuration") || (path == "/cib" && c.attr("operation") != Some("modify"))
        });
        self.stale |= touches;
    }
}

impl Shell {
    /// Runs the alert agents that take `ev`.
    pub(crate) async fn alert(&mut self, ev: Event) -> anyhow::Result<()> {
        if !ev.alerted() {
            return Ok(());
        }
        if self.alerter.stale || !self.alerter.read_once {
            let cib = self.cib.query().await?;
            self.alerter.config = alerts::parse(&cib);
            self.alerter.stale = false;
            self.alerter.read_once = true;
        }
        if self.alerter.config.is_empty() {
            return Ok(());
        }
        self.alerter.seq += 1;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let (secs, usec) = (now.as_secs() as i64, now.subsec_micros());
        let runs = alerts::runs(&self.alerter.config, &ev, self.alerter.seq, secs, usec, |f| alerts::format_timestamp(f, secs, usec));
        for run in runs {
            tokio::spawn(run_agent(run));
        }
        Ok(())
    }
}

async fn run_agent(run: Run) {
    let mut cmd = tokio::process::Command::new(&run.path);
    cmd.envs(run.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("crmd: Could not execute alert {} ({}): {e}", run.alert_id, run.path);
            return;
        }
    };
    let pid = child.id();
    let stderr = child.stderr.take();
    let read_err = async move {
        use tokio::io::AsyncReadExt as _;
        let mut text = String::new();
        if let Some(mut e) = stderr {
            // Bounded: an agent's complaint, not a log stream.
            let _ = (&mut e).take(4096).read_to_string(&mut text).await;
        }
        text
    };
    match tokio::time::timeout(run.timeout, async { tokio::join!(child.wait(), read_err) }).await {
        Ok((Ok(st), _)) if st.success() => tracing::debug!("crmd: alert {} ({}) done", run.alert_id, run.path),
        Ok((Ok(st), err)) => {
            tracing::warn!("crmd: Alert agent {} ({}) failed: {st}: {}", run.alert_id, run.path, err.trim())
        }
        Ok((Err(e), _)) => tracing::warn!("crmd: Alert agent {} ({}): {e}", run.alert_id, run.path),
        Err(_) => {
            if let Some(pid) = pid {
                // The agent's whole group: whatever it started goes too.
                let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL);
            }
            let _ = child.wait().await;
            tracing::warn!("crmd: Alert agent {} ({}) timed out after {}ms", run.alert_id, run.path, ms(run.timeout));
        }
    }
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}
