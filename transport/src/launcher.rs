//! What heartbeat starts and what it does when a child exits: the pure
//! part of the launcher (the processes themselves are [`crate::children`]).
//!
//! ```text
//! ha.cf (crm, respawn, apiauth) + bin dir + "does this file exist?"
//!     --plan()--> [ChildSpec] in start order, findings (errors refuse the start)
//! child exit (how long it ran, exit code) + policy + RestartCounter
//!     --decide()--> Respawn | GiveUp | Reboot | Leave
//! ```
//!
//! Heartbeat 2.1's rules, as its config.c and heartbeat.c apply them:
//!
//! - `crm yes` adds, in this order, ccm, cib, lrmd, stonithd, attrd, crmd;
//!   ccm, cib and crmd are *failfast* (their death reboots the node), the
//!   others respawn. We add `pengine` before crmd (Heartbeat's crmd forked
//!   it itself; ours is a daemon of its own). `crm respawn` makes all of
//!   them respawn; `crm minimal` starts only ccm, cib, lrmd, pengine and
//!   crmd (failfast as with `yes`).
//! - A CRM daemon runs as the first uid of its `apiauth` line when ha.cf
//!   has one (Heartbeat's defaults were `uid=hacluster`), otherwise as
//!   heartbeat itself (root).
//! - `respawn USER /path/prog args` lines start `prog` as USER and respawn
//!   it. Programs under Heartbeat's own library directories
//!   (`/usr/lib/heartbeat/ipfail`, `/usr/lib64/heartbeat/pingd`, ...) are
//!   this project's binaries of the same file name, found in the bin dir,
//!   run as heartbeat's user (their sockets admit root and heartbeat's
//!   user only); one we do not have is skipped with a warning naming it.
//! - A child that ran less than [`SHORT_RUN_MS`] counts a short run; more
//!   than [`MAX_SHORT_RUNS`] in a row and it is given up ("respawning too
//!   fast"). A child exiting with code 100 asks not to be restarted.

use std::path::{Path, PathBuf};

use crate::hacf::{Crm, HaCf};

/// A run shorter than this counts towards "respawning too fast".
pub const SHORT_RUN_MS: u64 = 60_000;
/// More short runs in a row than this and the child is given up.
pub const MAX_SHORT_RUNS: u32 = 10;
/// Heartbeat's convention: a child exiting with this code is not
/// restarted (it has said it cannot run here).
pub const EXIT_NO_RESTART: i32 = 100;

/// What happens when the child exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Start it again (rate-limited).
    Respawn,
    /// Reboot the node: heartbeat exits and takes the node down with it.
    Failfast,
}

/// One program heartbeat runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSpec {
    /// The name logs use: the file name of the program (`ccm`, `pingd`).
    pub name: String,
    /// The program actually run.
    pub program: PathBuf,
    pub args: Vec<String>,
    /// User to run as; `None` is heartbeat's own user.
    pub user: Option<String>,
    pub policy: Policy,
}

impl ChildSpec {
    /// The command line as logs show it.
    pub fn command_line(&self) -> String {
        let mut s = self.program.display().to_string();
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }
}

/// A finding while planning; errors make heartbeat refuse to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Error(String),
    Warning(String),
}

/// The planned children (start order) and what was found on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub children: Vec<ChildSpec>,
    pub findings: Vec<Finding>,
}

impl Plan {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| matches!(f, Finding::Error(_)))
    }
}

/// One CRM daemon of the implicit list.
struct CrmDaemon {
    name: &'static str,
    args: &'static [&'static str],
    /// Failfast under `crm yes` / `minimal` (Heartbeat: ccm, cib, crmd).
    failfast: bool,
    /// Started by `crm minimal` too.
    minimal: bool,
    /// Being written by other sessions: absent is a warning, not an error.
    optional: bool,
}

/// Heartbeat 2.1's order plus pengine before crmd. Every daemon started
/// here must stay in the foreground: ccm and crmd daemonize unless `-f`.
const CRM_DAEMONS: &[CrmDaemon] = &[
    CrmDaemon { name: "ccm", args: &["-f"], failfast: true, minimal: true, optional: false },
    CrmDaemon { name: "cib", args: &[], failfast: true, minimal: true, optional: false },
    CrmDaemon { name: "lrmd", args: &[], failfast: false, minimal: true, optional: false },
    CrmDaemon { name: "stonithd", args: &[], failfast: false, minimal: false, optional: true },
    CrmDaemon { name: "attrd", args: &[], failfast: false, minimal: false, optional: true },
    CrmDaemon { name: "pengine", args: &[], failfast: false, minimal: true, optional: true },
    // crmd daemonizes unless `-f`, as ccm does.
    CrmDaemon { name: "crmd", args: &["-f"], failfast: true, minimal: true, optional: false },
];

/// Directories where Heartbeat (and Pacemaker on Heartbeat) installed
/// their daemons; `respawn` lines naming them mean our binaries.
pub const HEARTBEAT_DIRS: &[&str] = &[
    "/usr/lib/heartbeat",
    "/usr/lib64/heartbeat",
    "/usr/local/lib/heartbeat",
    "/usr/local/lib64/heartbeat",
    "/usr/local/ha/lib/heartbeat",
    "/usr/libexec/heartbeat",
    "/usr/lib/pacemaker",
    "/usr/lib64/pacemaker",
    "/usr/libexec/pacemaker",
];

/// The children ha.cf asks for. `bindir` is where this project's
/// binaries are; `exists` says whether a program file is there (a
/// closure, so the plan is testable without files).
pub fn plan(cf: &HaCf, bindir: &Path, exists: &dyn Fn(&Path) -> bool) -> Plan {
    plan_for(cf, false, bindir, exists)
}

/// haresources mode (docs/HARESOURCES_MODE.md): `crm no` (Heartbeat's
/// default) and at least one resource group in haresources. Heartbeat 1.x
/// ran those groups with its own scripts; here the CRM runs them, from a
/// CIB the cib daemon generates out of haresources. With no group there
/// is nothing to manage, and heartbeat runs alone as before.
pub fn haresources_mode(cf: &HaCf, haresources_text: Option<&str>) -> bool {
    cf.crm == Crm::No && haresources_text.is_some_and(|t| !crate::haresources::parse(t, "haresources").0.is_empty())
}

/// [`plan`], and in haresources mode (see [`haresources_mode`]) the CRM
/// daemons as `crm respawn` starts them: a v1 configuration never asked
/// for the node to reboot when a daemon dies.
pub fn plan_for(cf: &HaCf, haresources_mode: bool, bindir: &Path, exists: &dyn Fn(&Path) -> bool) -> Plan {
    let mut p = Plan::default();
    let v1 = haresources_mode && cf.crm == Crm::No;
    let crm = if v1 { Crm::Respawn } else { cf.crm };
    let word = if v1 { "no (haresources mode)" } else { crm_word(cf.crm) };
    if crm != Crm::No {
        for d in CRM_DAEMONS {
            if crm == Crm::Minimal && !d.minimal {
                continue;
            }
            let program = bindir.join(d.name);
            if !exists(&program) {
                if d.optional {
                    p.findings.push(Finding::Warning(format!(
                        "CRM daemon {} not found ({}); not started",
                        d.name,
                        program.display()
                    )));
                } else {
                    p.findings.push(Finding::Error(format!(
                        "CRM daemon {} not found ({}): cannot run with crm {word}",
                        d.name,
                        program.display(),
                    )));
                }
                continue;
            }
            let policy = if d.failfast && crm != Crm::Respawn { Policy::Failfast } else { Policy::Respawn };
            let user = cf.apiauth.iter().find(|a| a.client == d.name).and_then(|a| a.uids.first().cloned());
            p.children.push(ChildSpec {
                name: d.name.to_string(),
                program,
                args: d.args.iter().map(|s| s.to_string()).collect(),
                user,
                policy,
            });
        }
    }
    for r in &cf.respawn {
        let mut words = r.command.split_whitespace();
        let Some(path) = words.next() else { continue };
        let args: Vec<String> = words.map(str::to_string).collect();
        let path = Path::new(path);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let in_hb_dir = path.parent().is_some_and(|d| HEARTBEAT_DIRS.iter().any(|h| Path::new(h) == d));
        let program = if in_hb_dir { bindir.join(&name) } else { path.to_path_buf() };
        if p.children.iter().any(|c| c.program == program) {
            p.findings.push(Finding::Warning(format!(
                "respawn {}: {name} is already started by crm {word}; line ignored",
                r.command,
            )));
            continue;
        }
        if !exists(&program) {
            if in_hb_dir {
                p.findings.push(Finding::Warning(format!(
                    "respawn {}: this project has no {name} ({} not found); not started",
                    r.command,
                    program.display()
                )));
            } else {
                p.findings.push(Finding::Error(format!(
                    "Client child command [{}] is not executable",
                    path.display()
                )));
            }
            continue;
        }
        // Our own programs (pingd, ipfail...) are clients of attrd and
        // heartbeat, whose sockets admit root and heartbeat's user only:
        // they run as heartbeat, as the CRM daemons do without an apiauth
        // line. Anything else runs as the line says.
        let user = if in_hb_dir { None } else { Some(r.user.clone()) };
        p.children.push(ChildSpec { name, program, args, user, policy: Policy::Respawn });
    }
    p
}

fn crm_word(crm: Crm) -> &'static str {
    match crm {
        Crm::No => "no",
        Crm::Yes => "yes",
        Crm::Respawn => "respawn",
        Crm::Minimal => "minimal",
    }
}

/// Consecutive short runs of one child.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestartCounter {
    pub short_runs: u32,
}

/// What to do about a child that exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start it again now.
    Respawn,
    /// Too many quick deaths (or exit 100): leave it stopped, log an error.
    GiveUp,
    /// A failfast child died: the node goes down.
    Reboot,
    /// Heartbeat is stopping: expected, nothing to do.
    Leave,
}

/// Heartbeat's rule for a child that ran `ran_ms` and exited with `code`
/// (`None` when killed by a signal).
pub fn decide(policy: Policy, counter: &mut RestartCounter, ran_ms: u64, code: Option<i32>, stopping: bool) -> Decision {
    if stopping {
        return Decision::Leave;
    }
    if policy == Policy::Failfast {
        return Decision::Reboot;
    }
    if code == Some(EXIT_NO_RESTART) {
        return Decision::GiveUp;
    }
    if ran_ms < SHORT_RUN_MS {
        counter.short_runs += 1;
    } else {
        counter.short_runs = 0;
    }
    if counter.short_runs > MAX_SHORT_RUNS {
        counter.short_runs = 0;
        return Decision::GiveUp;
    }
    Decision::Respawn
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hacf;

    fn cf(text: &str) -> HaCf {
        let (cf, diags) = hacf::parse(&format!("bcast lo\nnode a\nauto_failback on\n{text}"), "ha.cf");
        assert!(!crate::diag::has_errors(&diags), "{diags:?}");
        cf
    }

    fn names(p: &Plan) -> Vec<(&str, Policy)> {
        p.children.iter().map(|c| (c.name.as_str(), c.policy)).collect()
    }

    #[test]
    fn haresources_mode_is_crm_no_with_a_resource_group() {
        let line = Some("n1 IPaddr::10.0.0.1/24/eth0 httpd\n");
        assert!(haresources_mode(&cf(""), line));
        assert!(haresources_mode(&cf("crm no\n"), line));
        assert!(!haresources_mode(&cf("crm yes\n"), line));
        assert!(!haresources_mode(&cf("crm no\n"), Some("# nothing\n\n")));
        assert!(!haresources_mode(&cf("crm no\n"), None));
    }

    #[test]
    fn crm_yes_starts_the_daemons_in_heartbeats_order_with_failfast_core() {
        let all = |_: &Path| true;
        let p = plan(&cf("crm yes\n"), Path::new("/b"), &all);
        use Policy::*;
        assert_eq!(
            names(&p),
            [
                ("ccm", Failfast),
                ("cib", Failfast),
                ("lrmd", Respawn),
                ("stonithd", Respawn),
                ("attrd", Respawn),
                ("pengine", Respawn),
                ("crmd", Failfast)
            ]
        );
        assert_eq!(p.children[0].command_line(), "/b/ccm -f");
        assert!(p.findings.is_empty());
        let p = plan(&cf("crm respawn\n"), Path::new("/b"), &all);
        assert!(p.children.iter().all(|c| c.policy == Respawn));
        let p = plan(&cf("crm minimal\n"), Path::new("/b"), &all);
        assert_eq!(names(&p).iter().map(|n| n.0).collect::<Vec<_>>(), ["ccm", "cib", "lrmd", "pengine", "crmd"]);
        assert!(plan(&cf("crm no\n"), Path::new("/b"), &all).children.is_empty());
        // haresources mode: crm no with resources runs the daemons as crm respawn.
        let p = plan_for(&cf("crm no\n"), true, Path::new("/b"), &all);
        assert_eq!(names(&p).len(), 7);
        assert!(p.children.iter().all(|c| c.policy == Respawn));
        assert!(plan_for(&cf("crm yes\n"), true, Path::new("/b"), &all).children.iter().any(|c| c.policy == Failfast));
        let p = plan_for(&cf("crm no\n"), true, Path::new("/b"), &|p: &Path| !p.ends_with("crmd"));
        assert!(p.findings.contains(&Finding::Error("CRM daemon crmd not found (/b/crmd): cannot run with crm no (haresources mode)".into())));
    }

    #[test]
    fn a_missing_core_daemon_is_an_error_and_optional_ones_warnings() {
        let some = |p: &Path| ["/b/ccm", "/b/cib", "/b/lrmd"].contains(&p.to_str().unwrap());
        let p = plan(&cf("crm on\n"), Path::new("/b"), &some);
        assert!(p.has_errors());
        assert_eq!(
            p.findings,
            [
                Finding::Warning("CRM daemon stonithd not found (/b/stonithd); not started".into()),
                Finding::Warning("CRM daemon attrd not found (/b/attrd); not started".into()),
                Finding::Warning("CRM daemon pengine not found (/b/pengine); not started".into()),
                Finding::Error("CRM daemon crmd not found (/b/crmd): cannot run with crm yes".into()),
            ]
        );
        assert_eq!(names(&p).len(), 3);
    }

    #[test]
    fn users_come_from_apiauth_lines() {
        let p = plan(&cf("crm yes\napiauth cib uid=hacluster,root\n"), Path::new("/b"), &|_: &Path| true);
        assert_eq!(p.children[1].user.as_deref(), Some("hacluster"));
        assert_eq!(p.children[0].user, None);
    }

    #[test]
    fn respawn_lines_map_heartbeat_paths_to_our_binaries() {
        let text = "respawn hacluster /usr/lib64/heartbeat/pingd -m 100 -d 5s\n\
                    respawn hacluster /usr/lib/heartbeat/ipfail\n\
                    respawn root /bin/sleep 1000\n\
                    respawn root /nonexistent/prog\n\
                    respawn hacluster /usr/local/lib/heartbeat/cibmon -d\n";
        let exists = |p: &Path| ["/b/pingd", "/bin/sleep"].contains(&p.to_str().unwrap());
        let p = plan(&cf(text), Path::new("/b"), &exists);
        assert_eq!(p.children.len(), 2);
        assert_eq!(p.children[0].command_line(), "/b/pingd -m 100 -d 5s");
        assert_eq!(p.children[0].user, None, "ours run as heartbeat");
        assert_eq!(p.children[1].command_line(), "/bin/sleep 1000");
        assert_eq!(p.children[1].user.as_deref(), Some("root"));
        assert_eq!(
            p.findings,
            [
                Finding::Warning(
                    "respawn /usr/lib/heartbeat/ipfail: this project has no ipfail (/b/ipfail not found); not started"
                        .into()
                ),
                Finding::Error("Client child command [/nonexistent/prog] is not executable".into()),
                Finding::Warning(
                    "respawn /usr/local/lib/heartbeat/cibmon -d: this project has no cibmon (/b/cibmon not found); not started"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn a_respawn_line_for_a_crm_daemon_is_not_started_twice() {
        let p = plan(&cf("crm yes\nrespawn hacluster /usr/lib/heartbeat/attrd\n"), Path::new("/b"), &|_: &Path| true);
        assert_eq!(p.children.iter().filter(|c| c.name == "attrd").count(), 1);
        assert!(matches!(&p.findings[..], [Finding::Warning(w)] if w.contains("already started by crm yes")));
    }

    #[test]
    fn respawning_too_fast_gives_up_after_ten_short_runs() {
        let mut c = RestartCounter::default();
        for _ in 0..MAX_SHORT_RUNS {
            assert_eq!(decide(Policy::Respawn, &mut c, 10, Some(1), false), Decision::Respawn);
        }
        assert_eq!(decide(Policy::Respawn, &mut c, 10, None, false), Decision::GiveUp);
        // A long run resets the count.
        let mut c = RestartCounter { short_runs: 10 };
        assert_eq!(decide(Policy::Respawn, &mut c, SHORT_RUN_MS, Some(0), false), Decision::Respawn);
        assert_eq!(c.short_runs, 0);
        assert_eq!(decide(Policy::Respawn, &mut c, 10, Some(EXIT_NO_RESTART), false), Decision::GiveUp);
        assert_eq!(decide(Policy::Failfast, &mut c, 999_999, Some(0), false), Decision::Reboot);
        assert_eq!(decide(Policy::Failfast, &mut c, 1, None, true), Decision::Leave);
    }
}
