//! A foreign Heartbeat in a lab node: Debian's heartbeat 3.0.6
//! (`apt-get install heartbeat`), for interoperability tests.
//!
//! The real daemon takes no HA_* variables: it reads `/etc/ha.d` and keeps
//! its uuid, generation and FIFO in `/var/lib/heartbeat`, its API sockets
//! and pid file under `/run`. So the node gets its own copies of both
//! directories under `ROOT/n<i>/foreign/`, bind-mounted over the real paths
//! *inside the node's mount namespace* (private propagation: the host and
//! the other nodes never see them), and `/run/heartbeat/*` created on the
//! node's own /run tmpfs as the package's tmpfiles.d would. The node's
//! ha.cf and authkeys are the lab's (same timing, media, node names and
//! logfile), so the two implementations read the same configuration.
//!
//! A reboot (`kill` + `boot`) starts a new mount namespace: the mounts are
//! made again by every [`Lab::start_foreign`]; the copies under `foreign/`
//! stay, so the uuid persists and the generation grows, as on a real host.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{sys, Lab, LabError};

/// Where Debian's package puts the daemon.
pub const HEARTBEAT_306: &str = "/usr/libexec/heartbeat/heartbeat";
/// Debian's cl_status (ours is found first in the lab's PATH, so tests
/// name this one by its absolute path).
pub const CL_STATUS_306: &str = "/usr/bin/cl_status";

/// Host directories the package installed, copied per node.
const ETC_HA_D: &str = "/etc/ha.d";
const VAR_LIB_HEARTBEAT: &str = "/var/lib/heartbeat";

impl Lab {
    /// The node's copy of /etc/ha.d.
    pub fn foreign_conf_dir(&self, node: &str) -> PathBuf {
        self.spec.node_dir(node).join("foreign/etc-ha.d")
    }

    /// The node's copy of /var/lib/heartbeat.
    pub fn foreign_state_dir(&self, node: &str) -> PathBuf {
        self.spec.node_dir(node).join("foreign/var-lib-heartbeat")
    }

    /// stdout/stderr of the foreign daemon (its log goes to the node's
    /// ha-log through the logfile directive).
    pub fn foreign_output(&self, node: &str) -> PathBuf {
        self.spec.node_dir(node).join("foreign/output.log")
    }

    /// Fills `foreign/` from the package's directories (the scripts harc,
    /// rc.d, resource.d, shellfuncs) and the node's conf files. Called by
    /// [`Lab::start_foreign`]; re-copies conf files each time so a test may
    /// edit `conf/` (e.g. another key) before starting.
    fn prepare_foreign(&self, node: &str) -> Result<(), LabError> {
        self.spec.index(node)?;
        for dir in [ETC_HA_D, VAR_LIB_HEARTBEAT] {
            if !Path::new(dir).is_dir() {
                return Err(LabError::node(
                    node,
                    format!("{dir} is missing: install Debian's heartbeat 3.0.6 (apt-get install heartbeat)"),
                ));
            }
        }
        if !Path::new(HEARTBEAT_306).exists() {
            return Err(LabError::node(node, format!("{HEARTBEAT_306} is missing (apt-get install heartbeat)")));
        }
        let conf = self.foreign_conf_dir(node);
        let state = self.foreign_state_dir(node);
        std::fs::create_dir_all(&conf).map_err(|e| LabError::io(&conf, e))?;
        // `cp -a` keeps the package's owners and modes (hacluster-owned
        // state directories, executable scripts).
        sys::run(Command::new("cp").arg("-a").arg(format!("{ETC_HA_D}/.")).arg(&conf))?;
        if !state.exists() {
            std::fs::create_dir_all(&state).map_err(|e| LabError::io(&state, e))?;
            sys::run(Command::new("cp").arg("-a").arg(format!("{VAR_LIB_HEARTBEAT}/.")).arg(&state))?;
            // The host's identity files, if any, must not be shared.
            for f in ["hb_uuid", "hb_generation", "hostcache", "delhostcache", "fifo"] {
                let _ = std::fs::remove_file(state.join(f));
            }
        }
        let own = self.spec.node_dir(node).join("conf");
        for f in ["ha.cf", "authkeys", "haresources"] {
            sys::run(Command::new("cp").arg("-p").arg(own.join(f)).arg(conf.join(f)))?;
        }
        Ok(())
    }

    /// Starts Debian's heartbeat 3.0.6 on a node (booting it if off) with
    /// the node's ha.cf and authkeys. Returns once the daemon has detached.
    pub fn start_foreign(&mut self, node: &str) -> Result<(), LabError> {
        self.boot(node)?;
        self.prepare_foreign(node)?;
        let output = self.foreign_output(node);
        // One shell inside the node: mounts first (they live in the node's
        // mount namespace only), then the daemon with its output in a
        // file: it keeps stderr open after detaching, which would hold an
        // output pipe open for ever.
        let script = format!(
            "set -e\n\
             mountpoint -q {etc} || mount --bind {conf} {etc}\n\
             mountpoint -q {var} || mount --bind {state} {var}\n\
             for d in /run/heartbeat /run/heartbeat/ccm /run/heartbeat/crm /run/heartbeat/dopd /run/crm; do\n\
               mkdir -p $d; chown hacluster:haclient $d; chmod 0750 $d\n\
             done\n\
             exec {hb} >>{out} 2>&1 </dev/null\n",
            etc = ETC_HA_D,
            var = VAR_LIB_HEARTBEAT,
            conf = self.foreign_conf_dir(node).display(),
            state = self.foreign_state_dir(node).display(),
            hb = HEARTBEAT_306,
            out = output.display(),
        );
        let out = self.exec(node, "/bin/sh", &["-c", &script])?;
        if !out.status.success() {
            let log = std::fs::read_to_string(&output).unwrap_or_default();
            return Err(LabError::Command {
                cmd: format!("{node}: {HEARTBEAT_306}"),
                status: out.status.code().unwrap_or(-1),
                stderr: format!("{}{log}", String::from_utf8_lossy(&out.stderr)),
            });
        }
        Ok(())
    }

    /// `heartbeat -k` of the foreign daemon (graceful stop).
    pub fn stop_foreign(&self, node: &str) -> Result<(), LabError> {
        let out = self.exec(node, "/bin/sh", &["-c", &format!("exec {HEARTBEAT_306} -k >/dev/null 2>&1 </dev/null")])?;
        if out.status.success() {
            Ok(())
        } else {
            Err(LabError::node(node, format!("{HEARTBEAT_306} -k exited with {}", out.status)))
        }
    }
}
