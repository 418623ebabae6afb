//! Running agents directly, without the daemon: the library behind
//! `crm_resource`'s local agent commands (`--force-start`, `--force-stop`,
//! `--force-check`, `--force-promote`, `--force-demote`, `--list-standards`,
//! `--list-ocf-providers`, `--list-agents`, `--show-metadata`), with
//! Pacemaker 2.1.5's output and exit codes (checked side by side with
//! /usr/sbin/crm_resource in `tests/t70_local.rs`).
//!
//! Every function returns an [`Outcome`] (stdout text, stderr text, exit
//! code) so the binary only prints and exits.

use std::path::Path;

use cib::model::{AgentClass as CibClass, Cib};
use cib::op_digest::{find_operation, unconditional_only, OpParams};

use crate::agent::AgentDirs;
use crate::op::{rc, OpRequest, OpStatus};
use crate::resource::{AgentClass, ResourceSpec};
use crate::runner::{self, RunnerConfig, DEFAULT_TIMEOUT_MS};

/// What a command prints and how it exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    /// A `crm_exit_t` value.
    pub exit: u8,
}

impl Outcome {
    fn ok(stdout: String) -> Outcome {
        Outcome { stdout, stderr: String::new(), exit: 0 }
    }

    fn error(exit: u8, stderr: String) -> Outcome {
        Outcome { stdout: String::new(), stderr, exit }
    }
}

/// Pacemaker's `crm_exit_t` numbers and `crm_exit_str` words used here.
const EX_ERROR: u8 = 1;
const EX_NOSUCH: u8 = 105;

/// The exit code and its words for an agent's OCF rc (Pacemaker maps an
/// OCF rc to the crm_exit_t of the same number).
fn exit_for_rc(code: i32) -> (u8, &'static str) {
    match code {
        rc::OK => (0, "OK"),
        rc::INVALID_PARAM => (2, "Invalid parameter"),
        rc::UNIMPLEMENTED => (3, "Unimplemented"),
        rc::INSUFFICIENT_PRIV => (4, "Insufficient privileges"),
        rc::NOT_INSTALLED => (5, "Not installed"),
        rc::NOT_CONFIGURED => (6, "Not configured"),
        rc::NOT_RUNNING => (7, "Not running"),
        rc::RUNNING_PROMOTED => (8, "Promoted"),
        rc::FAILED_PROMOTED => (9, "Failed in promoted role"),
        rc::DEGRADED => (190, "Service active but more likely to fail soon"),
        rc::DEGRADED_PROMOTED => (191, "Service promoted but more likely to fail soon"),
        _ => (EX_ERROR, "Error occurred"),
    }
}

/// The five `--force-*` commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForceAction {
    Start,
    Stop,
    Check,
    Promote,
    Demote,
}

impl ForceAction {
    /// The agent action it runs.
    pub fn agent_action(self) -> &'static str {
        match self {
            ForceAction::Start => "start",
            ForceAction::Stop => "stop",
            ForceAction::Check => "monitor",
            ForceAction::Promote => "promote",
            ForceAction::Demote => "demote",
        }
    }

    /// The name crm_resource prints (`force-check`...).
    pub fn name(self) -> &'static str {
        match self {
            ForceAction::Start => "force-start",
            ForceAction::Stop => "force-stop",
            ForceAction::Check => "force-check",
            ForceAction::Promote => "force-promote",
            ForceAction::Demote => "force-demote",
        }
    }
}

/// Runs `action` of resource `rsc` here, with its parameters from the
/// configuration (instance attributes of the primitive and its parents,
/// sets without rules), the operation's timeout from the configuration
/// (else `timeout_ms`, else 20 s). The agent runs in the foreground;
/// its output is printed after the result line, as Pacemaker does.
pub fn force_action(cib: &Cib, rsc: &str, action: ForceAction, dirs: &AgentDirs, timeout_ms: Option<u64>) -> Outcome {
    let Some(prim) = cib.primitive(rsc.split_once(':').map_or(rsc, |(b, _)| b)) else {
        return Outcome::error(
            EX_NOSUCH,
            format!("crm_resource: Resource '{rsc}' not found\nError performing operation: No such object\n"),
        );
    };
    let class = match prim.class {
        CibClass::Ocf => AgentClass::Ocf,
        CibClass::Lsb => AgentClass::Lsb,
        CibClass::Heartbeat => AgentClass::Heartbeat,
        CibClass::Stonith => AgentClass::Stonith,
        _ => {
            return Outcome::error(
                3,
                format!(
                    "crm_resource: Class {} is not supported here\nError performing operation: Unimplemented\n",
                    prim.class.as_str()
                ),
            )
        }
    };
    let interval = 0;
    let params = OpParams::from_model(cib, &prim.id, action.agent_action(), interval, &unconditional_only)
        .expect("the primitive exists");
    let mut spec = ResourceSpec::new(&prim.id, class, prim.provider.as_deref(), &prim.agent_type);
    spec.params = params.params.into_iter().collect();
    let configured = find_operation(prim, action.agent_action(), interval).and_then(|o| o.timeout_ms);
    let timeout = timeout_ms.or(configured).unwrap_or(DEFAULT_TIMEOUT_MS);
    let mut req = OpRequest::new(&prim.id, action.agent_action(), interval, timeout);
    req.params = params.action_params.into_iter().collect();

    let cfg = RunnerConfig { dirs: dirs.clone(), ..RunnerConfig::default() };
    let result = block_on(runner::execute(&cfg, &spec, &req));

    let code = if result.status == OpStatus::Done || result.status == OpStatus::Error { result.rc } else { rc::UNKNOWN_ERROR };
    let mut stdout = format!(
        "Operation {} for {} ({}) returned {} ({})\n",
        action.name(),
        rsc,
        spec.standard_name(),
        code,
        rc::describe(code)
    );
    // The agent's own output follows, each stream with a final newline
    // added (as Pacemaker prints them).
    for data in [&result.stdout, &result.stderr] {
        if !data.is_empty() {
            stdout.push_str(data);
            stdout.push('\n');
        }
    }
    let (exit, words) = exit_for_rc(code);
    let stderr = if exit == 0 { String::new() } else { format!("crm_resource: Error performing operation: {words}\n") };
    Outcome { stdout, stderr, exit }
}

/// Runs a future on a one-off current-thread runtime (the tools are
/// synchronous programs).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts").block_on(f)
}

/// `--list-standards`: the classes lrmd runs.
pub fn list_standards() -> Outcome {
    Outcome::ok(AgentClass::ALL.iter().map(|c| format!("{c}\n")).collect())
}

/// Executable files (or links to them) in `dir`, sorted by name.
fn executables(dir: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| std::fs::metadata(e.path()).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

fn providers(dirs: &AgentDirs) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dirs.ocf_root.join("resource.d"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

/// `--list-ocf-providers`.
pub fn list_ocf_providers(dirs: &AgentDirs) -> Outcome {
    Outcome::ok(providers(dirs).iter().map(|p| format!("{p}\n")).collect())
}

/// `--list-agents CLASS[:PROVIDER]`.
pub fn list_agents(spec: &str, dirs: &AgentDirs) -> Outcome {
    let (class, provider) = match spec.split_once(':') {
        Some((c, p)) => (c, Some(p)),
        None => (spec, None),
    };
    let agents: Vec<String> = match (class, provider) {
        ("ocf", Some(p)) => executables(&dirs.ocf_root.join("resource.d").join(p)),
        ("ocf", None) => {
            let mut all: Vec<String> =
                providers(dirs).iter().flat_map(|p| executables(&dirs.ocf_root.join("resource.d").join(p))).collect();
            all.sort();
            all.dedup();
            all
        }
        ("lsb", _) => executables(&dirs.init_d),
        ("heartbeat", _) => executables(&dirs.resource_d),
        ("stonith", _) => executables(&dirs.stonith_dir).into_iter().filter(|n| n.starts_with("fence_")).collect(),
        _ => Vec::new(),
    };
    if agents.is_empty() {
        let which = match provider {
            Some(p) => format!("standard '{class}' and provider '{p}'"),
            None => format!("standard '{class}'"),
        };
        return Outcome::error(EX_ERROR, format!("crm_resource: No agents found for {which}\nError performing operation: Error occurred\n"));
    }
    Outcome::ok(agents.iter().map(|a| format!("{a}\n")).collect())
}

/// `--show-metadata CLASS:PROVIDER:TYPE` (or `CLASS:TYPE`).
pub fn show_metadata(spec: &str, dirs: &AgentDirs) -> Outcome {
    let parts: Vec<&str> = spec.split(':').collect();
    let (class, provider, agent) = match parts[..] {
        [c, p, t] => (c, Some(p), t),
        [c, t] => (c, None, t),
        _ => {
            return Outcome::error(
                2,
                format!("crm_resource: '{spec}' is not a valid agent specification\nError performing operation: Invalid parameter\n"),
            )
        }
    };
    let failed = |why: &str| {
        Outcome::error(
            EX_NOSUCH,
            format!("crm_resource: Metadata query for {spec} failed: {why}\nError performing operation: No such object\n"),
        )
    };
    let Ok(class) = class.parse::<AgentClass>() else { return failed("No such device or address") };
    // Pacemaker names the instance after the agent for a meta-data query
    // (it shows in defaults such as Dummy's state file).
    let rsc = ResourceSpec::new(agent, class, provider, agent);
    let cfg = RunnerConfig { dirs: dirs.clone(), ..RunnerConfig::default() };
    let result = block_on(runner::execute(&cfg, &rsc, &OpRequest::new(agent, "meta-data", 0, 30_000)));
    if result.rc != rc::OK || result.stdout.trim().is_empty() {
        return failed("No such device or address");
    }
    Outcome::ok(result.stdout)
}
