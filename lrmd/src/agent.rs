//! How each class of agent is found, called and understood. Pure: a
//! request becomes an [`Invocation`] (program, argv, environment, stdin),
//! and a process [`Outcome`] becomes an [`OpResult`]. The runner does the
//! I/O in between.
//!
//! | class | program | argv | result |
//! |---|---|---|---|
//! | ocf | `$OCF_ROOT/resource.d/PROVIDER/TYPE` | `ACTION` | exit code as is |
//! | lsb | `init.d/NAME` (`lsb_heartbeat/NAME` for provider heartbeat) | `start\|stop\|status` | LSB codes mapped to OCF |
//! | heartbeat | `resource.d/TYPE` | `ARG... start\|stop\|status` | status judged by its output |
//! | stonith | `stonith_dir/TYPE` | none; `name=value` lines on stdin | 0 ok, else error |
//! | stonith (not `fence_*`) | cluster-glue's `stonith -t TYPE` ([`glue`]) | `-E`/`-F`/`-p`, `-S`/`-l`/`-T`/`-m` | 0 ok, else error |

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::op::{rc, OpRequest, OpResult, OpStatus};
use crate::resource::{AgentClass, ResourceSpec};

/// Where agents live. Every directory is configurable so tests and the
/// lab can use agents the project ships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentDirs {
    /// `OCF_ROOT` (default /usr/lib/ocf).
    pub ocf_root: PathBuf,
    /// LSB init scripts (default /etc/init.d).
    pub init_d: PathBuf,
    /// Class lsb, provider heartbeat: seed 002's /usr/lib/lsb/resource.d/heartbeat.
    pub lsb_heartbeat: PathBuf,
    /// Heartbeat v1 scripts (default $HA_CONFDIR/resource.d).
    pub resource_d: PathBuf,
    /// Fence agents (default /usr/sbin, where fence-agents installs fence_*).
    pub stonith_dir: PathBuf,
    /// cluster-glue's stonith(8), which runs its plugins (default /usr/sbin/stonith).
    pub stonith_cmd: PathBuf,
}

impl Default for AgentDirs {
    fn default() -> AgentDirs {
        AgentDirs {
            ocf_root: PathBuf::from("/usr/lib/ocf"),
            init_d: PathBuf::from("/etc/init.d"),
            lsb_heartbeat: PathBuf::from("/usr/lib/lsb/resource.d/heartbeat"),
            resource_d: PathBuf::from("/etc/ha.d/resource.d"),
            stonith_dir: PathBuf::from("/usr/sbin"),
            stonith_cmd: PathBuf::from("/usr/sbin/stonith"),
        }
    }
}

/// OCF API version announced to agents (Pacemaker 2.1 announces 1.1).
pub const OCF_RA_VERSION_MAJOR: &str = "1";
pub const OCF_RA_VERSION_MINOR: &str = "1";

/// PATH for agents: lrmd's own environment is not passed on.
pub const AGENT_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// How the exit of a process is turned into an OCF code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitMapping {
    /// OCF: the exit code is the answer.
    Ocf,
    /// LSB `status`: 0 running, 1-3 not running, anything else an error.
    LsbStatus,
    /// LSB other actions: 0-7 mean what OCF's 0-7 mean, others are errors.
    Lsb,
    /// `status` judged by its output words (Heartbeat class, and LSB in
    /// haresources mode); the exit code is ignored.
    StatusByOutput,
    /// Fence agent: 0 ok, anything else an error.
    Stonith,
}

/// One process to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The complete environment (the runner clears its own first).
    pub env: Vec<(String, String)>,
    pub stdin: Option<String>,
    pub mapping: ExitMapping,
}

/// What to do for a request: run something, or answer at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Run(Invocation),
    Immediate(OpResult),
}

/// How a process ended, as the runner saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Signaled(i32),
    /// Killed by lrmd at its timeout (ms).
    TimedOut(u64),
    /// Killed by lrmd because its operation was cancelled.
    Cancelled,
    /// Could not be started: errno and message.
    SpawnFailed { errno: Option<i32>, message: String },
}

/// Plans a request. `base_env` is what every agent gets (the node's HA_*
/// variables); the class adds its own.
pub fn plan(dirs: &AgentDirs, base_env: &[(String, String)], spec: &ResourceSpec, req: &OpRequest) -> Plan {
    // A name with a slash (or none) would leave the agent directory;
    // cluster-glue plugins have their own rule (`external/NAME`).
    let glue = spec.class == AgentClass::Stonith && glue::is_glue_type(&spec.agent_type);
    let bad_name = if glue {
        !glue::valid_type(&spec.agent_type)
    } else {
        spec.agent_type.is_empty() || spec.agent_type.contains('/') || spec.agent_type == ".."
    };
    if bad_name {
        return Plan::Immediate(OpResult::failed(
            rc::NOT_INSTALLED,
            OpStatus::NotInstalled,
            format!("invalid agent name {:?}", spec.agent_type),
        ));
    }
    // The caller's PATH (lrmd puts its own directory first, so agents find
    // the project's tools beside it) replaces the default.
    let mut env: Vec<(String, String)> = Vec::new();
    if !base_env.iter().any(|(k, _)| k == "PATH") {
        env.push(("PATH".into(), AGENT_PATH.into()));
    }
    env.extend(base_env.iter().cloned());
    match spec.class {
        AgentClass::Ocf => plan_ocf(dirs, env, spec, req),
        AgentClass::Lsb => {
            let dir = if spec.provider.as_deref() == Some("heartbeat") { &dirs.lsb_heartbeat } else { &dirs.init_d };
            let Some(action) = status_style_action(&req.action) else {
                return Plan::Immediate(unsupported(spec, &req.action));
            };
            let mapping = match (action, spec.status_by_output) {
                ("status", true) => ExitMapping::StatusByOutput,
                ("status", false) => ExitMapping::LsbStatus,
                _ => ExitMapping::Lsb,
            };
            Plan::Run(Invocation {
                program: dir.join(&spec.agent_type),
                args: vec![action.to_string()],
                env,
                stdin: None,
                mapping,
            })
        }
        AgentClass::Heartbeat => {
            let Some(action) = status_style_action(&req.action) else {
                return Plan::Immediate(unsupported(spec, &req.action));
            };
            let mut args = positional_args(&merged_params(spec, req));
            args.push(action.to_string());
            let mapping = if action == "status" { ExitMapping::StatusByOutput } else { ExitMapping::Lsb };
            Plan::Run(Invocation { program: dirs.resource_d.join(&spec.agent_type), args, env, stdin: None, mapping })
        }
        AgentClass::Stonith => {
            // A fence device has nothing to stop locally; starting it means
            // checking that the device answers.
            if req.action == "stop" {
                return Plan::Immediate(OpResult { rc: rc::OK, status: OpStatus::Done, exit_reason: None, stdout: String::new(), stderr: String::new() });
            }
            if glue {
                return glue::plan(&dirs.stonith_cmd, env, &spec.agent_type, &merged_params(spec, req), &req.action);
            }
            let action = match req.action.as_str() {
                "start" | "monitor" => "monitor",
                "meta-data" => "metadata",
                other => other,
            };
            let mut stdin = String::new();
            for (k, v) in merged_params(spec, req) {
                // A newline in a value would inject another parameter.
                if k != "action" && !k.contains(['\n', '=']) && !v.contains('\n') {
                    stdin.push_str(&format!("{k}={v}\n"));
                }
            }
            stdin.push_str(&format!("action={action}\n"));
            Plan::Run(Invocation {
                program: dirs.stonith_dir.join(&spec.agent_type),
                args: Vec::new(),
                env,
                stdin: Some(stdin),
                mapping: ExitMapping::Stonith,
            })
        }
    }
}

fn plan_ocf(dirs: &AgentDirs, mut env: Vec<(String, String)>, spec: &ResourceSpec, req: &OpRequest) -> Plan {
    let Some(provider) = spec.provider.as_deref().filter(|p| !p.is_empty()) else {
        return Plan::Immediate(OpResult::failed(
            rc::NOT_CONFIGURED,
            OpStatus::Error,
            format!("ocf resource {} has no provider", spec.id),
        ));
    };
    if provider.contains('/') || provider == ".." {
        return Plan::Immediate(OpResult::failed(rc::NOT_INSTALLED, OpStatus::NotInstalled, "invalid agent name"));
    }
    let root = dirs.ocf_root.to_string_lossy().into_owned();
    env.push(("OCF_RA_VERSION_MAJOR".into(), OCF_RA_VERSION_MAJOR.into()));
    env.push(("OCF_RA_VERSION_MINOR".into(), OCF_RA_VERSION_MINOR.into()));
    env.push(("OCF_ROOT".into(), root));
    env.push(("OCF_RESOURCE_INSTANCE".into(), spec.id.clone()));
    env.push(("OCF_RESOURCE_TYPE".into(), spec.agent_type.clone()));
    env.push(("OCF_RESOURCE_PROVIDER".into(), provider.to_string()));
    for (k, v) in merged_params(spec, req) {
        // OCF_CHECK_LEVEL is an operation attribute the agent reads bare.
        if k == "OCF_CHECK_LEVEL" {
            env.push((k, v));
        } else {
            env.push((format!("OCF_RESKEY_{k}"), v));
        }
    }
    for (k, v) in &req.meta {
        if k != "interval" && k != "timeout" {
            env.push((format!("OCF_RESKEY_CRM_meta_{}", k.replace('-', "_")), v.clone()));
        }
    }
    env.push(("OCF_RESKEY_CRM_meta_interval".into(), req.interval_ms.to_string()));
    env.push(("OCF_RESKEY_CRM_meta_timeout".into(), req.timeout_ms.to_string()));
    Plan::Run(Invocation {
        program: dirs.ocf_root.join("resource.d").join(provider).join(&spec.agent_type),
        args: vec![req.action.clone()],
        env,
        stdin: None,
        mapping: ExitMapping::Ocf,
    })
}

/// LSB and Heartbeat scripts know start, stop and status; monitor is status.
fn status_style_action(action: &str) -> Option<&'static str> {
    match action {
        "start" => Some("start"),
        "stop" => Some("stop"),
        "status" | "monitor" => Some("status"),
        _ => None,
    }
}

fn unsupported(spec: &ResourceSpec, action: &str) -> OpResult {
    OpResult::failed(
        rc::UNIMPLEMENTED,
        OpStatus::NotSupported,
        format!("{} agents do not support the {action} action", spec.class),
    )
}

/// Resource parameters overridden by the operation's own.
fn merged_params(spec: &ResourceSpec, req: &OpRequest) -> BTreeMap<String, String> {
    let mut p = spec.params.clone();
    p.extend(req.params.iter().map(|(k, v)| (k.clone(), v.clone())));
    p
}

/// Heartbeat class arguments are the params named 1, 2, 3...; gaps are
/// skipped, as cluster-glue's lrmd did.
fn positional_args(params: &BTreeMap<String, String>) -> Vec<String> {
    let mut numbered: Vec<(u32, &String)> =
        params.iter().filter_map(|(k, v)| k.parse::<u32>().ok().filter(|n| *n > 0).map(|n| (n, v))).collect();
    numbered.sort();
    numbered.into_iter().map(|(_, v)| v.clone()).collect()
}

/// Judges a status by its output, as Heartbeat v1 and cluster-glue's
/// heartbeat class did: "stopped" or "not ... running" (any case), or the
/// word "No" (the seeds' rule), means stopped; otherwise "running" (any
/// case) or "OK" means running; anything else means stopped.
pub fn status_from_output(output: &str) -> i32 {
    let lower = output.to_lowercase();
    let not_running = lower.find("not").is_some_and(|i| lower[i + 3..].contains("running"));
    let word_no = output.split(|c: char| !c.is_alphanumeric()).any(|w| w == "No");
    if lower.contains("stopped") || not_running || word_no {
        rc::NOT_RUNNING
    } else if lower.contains("running") || output.contains("OK") {
        rc::OK
    } else {
        rc::NOT_RUNNING
    }
}

/// The agent's exit reason: the text after the last `ocf-exit-reason:`
/// prefix on stderr, capped at 128 bytes as Pacemaker does.
pub fn exit_reason(stderr: &str) -> Option<String> {
    let line = stderr.lines().rev().find_map(|l| l.split_once("ocf-exit-reason:").map(|(_, r)| r.trim()))?;
    let mut end = line.len().min(128);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    Some(line[..end].to_string()).filter(|s| !s.is_empty())
}

/// Turns a process outcome into the operation's result.
pub fn map_outcome(mapping: ExitMapping, program: &std::path::Path, outcome: Outcome, stdout: String, stderr: String) -> OpResult {
    let reason = exit_reason(&stderr);
    let (rc, status, reason) = match outcome {
        Outcome::Exited(code) => {
            let rc = match mapping {
                ExitMapping::Ocf => code,
                ExitMapping::LsbStatus => match code {
                    0 => rc::OK,
                    1..=3 => rc::NOT_RUNNING,
                    _ => rc::UNKNOWN_ERROR,
                },
                ExitMapping::Lsb => match code {
                    0..=7 => code,
                    _ => rc::UNKNOWN_ERROR,
                },
                ExitMapping::StatusByOutput => status_from_output(&format!("{stdout}\n{stderr}")),
                ExitMapping::Stonith => {
                    if code == 0 {
                        rc::OK
                    } else {
                        rc::UNKNOWN_ERROR
                    }
                }
            };
            (rc, OpStatus::Done, reason)
        }
        Outcome::Signaled(sig) => {
            let name = nix::sys::signal::Signal::try_from(sig).map(|s| s.as_str()).unwrap_or("unknown signal");
            (rc::UNKNOWN_ERROR, OpStatus::Error, Some(format!("agent was killed by signal {sig} ({name})")))
        }
        Outcome::TimedOut(ms) => (rc::UNKNOWN_ERROR, OpStatus::Timeout, Some(format!("agent timed out after {ms}ms"))),
        Outcome::Cancelled => (rc::OK, OpStatus::Cancelled, Some("operation cancelled: agent killed".to_string())),
        Outcome::SpawnFailed { errno, message } => {
            let path = program.display();
            match errno {
                Some(e) if e == nix::errno::Errno::ENOENT as i32 => {
                    (rc::NOT_INSTALLED, OpStatus::NotInstalled, Some(format!("agent {path} is not installed")))
                }
                Some(e) if e == nix::errno::Errno::EACCES as i32 => {
                    (rc::INSUFFICIENT_PRIV, OpStatus::Error, Some(format!("agent {path} is not executable")))
                }
                _ => (rc::UNKNOWN_ERROR, OpStatus::Error, Some(format!("cannot run agent {path}: {message}"))),
            }
        }
    };
    OpResult { rc, status, exit_reason: reason, stdout, stderr }
}

pub mod glue;

#[cfg(test)]
mod tests;
