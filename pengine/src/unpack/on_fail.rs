//! What a failed operation asks for: the `on-fail` of the configured
//! operation (or of `op_defaults`), with Pacemaker's defaults (Pacemaker's
//! `unpack_operation` failure handling).

use std::collections::BTreeMap;

use cib::model::resources::OnFail;
use cib::model::{Cib, Role};

use crate::nvsets::{as_written, unpack_into};
use crate::rules::RuleInput;
use crate::working_set::{RscId, WorkingSet};

/// Failure responses, ordered from mildest to most severe as Pacemaker
/// ranks them when several failures of one resource compete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OnFailAction {
    Ignore,
    Demote,
    Recover,
    ResetRemote,
    RestartContainer,
    Migrate,
    Block,
    Stop,
    Standby,
    Fence,
}

/// How to respond to a failure of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailurePolicy {
    pub on_fail: OnFailAction,
    /// The role to put the resource in after the failure.
    pub fail_role: Role,
}

/// The failure policy of operation `task` with `interval_ms` of `rsc`.
pub fn policy(ws: &WorkingSet, cib: &Cib, rsc: RscId, task: &str, interval_ms: u64) -> FailurePolicy {
    let r = ws.rsc(rsc);
    let prim = r.primitive();
    let find = |name: &str| {
        // Disabled operations still say how their failures are handled.
        prim.and_then(|p| p.ops.iter().find(|op| op.name == name && op.interval_ms == interval_ms))
    };
    let mut config = find(task);
    if config.is_none() && (task == "migrate_to" || task == "migrate_from") {
        config = find("migrate");
    }
    let agent = prim.map(|p| (&p.class, p.provider.as_deref(), p.agent.as_str()));
    let input = RuleInput { now: ws.now, rsc_agent: agent, op: Some((task, interval_ms)), ..Default::default() };
    let mut defaults = BTreeMap::new();
    unpack_into(&mut defaults, &cib.op_defaults, None, &input, false, as_written);
    let default_on_fail = defaults.get("on-fail").or_else(|| defaults.get("on_fail")).map(String::as_str);

    let mut value: Option<OnFail> = match config.and_then(|c| c.on_fail) {
        Some(v) => Some(v),
        None => default_on_fail.and_then(OnFail::parse),
    };
    if task == "stop" && value == Some(OnFail::Standby) {
        // Not allowed for stop: back to the default.
        value = None;
    }
    let mut fail_role = Role::Unknown;
    let mut on_fail = match value {
        Some(OnFail::Block) => Some(OnFailAction::Block),
        Some(OnFail::Fence) if ws.options.stonith_enabled => Some(OnFailAction::Fence),
        Some(OnFail::Fence) => {
            fail_role = Role::Stopped;
            Some(OnFailAction::Stop)
        }
        Some(OnFail::Standby) => Some(OnFailAction::Standby),
        Some(OnFail::Ignore) => Some(OnFailAction::Ignore),
        Some(OnFail::Stop) => {
            fail_role = Role::Stopped;
            Some(OnFailAction::Stop)
        }
        Some(OnFail::Restart) => Some(OnFailAction::Recover),
        Some(OnFail::RestartContainer) if r.container.is_some() => Some(OnFailAction::RestartContainer),
        Some(OnFail::RestartContainer) => None,
        Some(OnFail::Demote) => Some(OnFailAction::Demote),
        None => None,
    };
    let is_probe = task == "monitor" && interval_ms == 0;
    if on_fail.is_none() && r.container.is_some() {
        on_fail = Some(OnFailAction::RestartContainer);
    } else if (on_fail.is_none() || !r.flags.managed) && r.is_remote_node && !is_probe && task != "start" {
        if !r.flags.managed {
            on_fail = Some(OnFailAction::Stop);
            fail_role = Role::Stopped;
        } else {
            on_fail = Some(OnFailAction::ResetRemote);
            if r.remote_reconnect_ms > 0 {
                fail_role = Role::Stopped;
            }
        }
    } else if on_fail.is_none() && task == "stop" {
        on_fail = Some(if ws.options.stonith_enabled { OnFailAction::Fence } else { OnFailAction::Block });
    }
    let on_fail = on_fail.unwrap_or(OnFailAction::Recover);
    if fail_role == Role::Unknown {
        fail_role = if task == "promote" { Role::Unpromoted } else { Role::Started };
    }
    FailurePolicy { on_fail, fail_role }
}
