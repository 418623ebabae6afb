//! Heartbeat's cluster-glue stonith plugins (`stonith:external/ssh`,
//! `stonith:null`, `stonith:baytech`...), run through cluster-glue's own
//! command, `stonith(8)`: `stonith -t TYPE PARAMS ACTION`.
//!
//! A class stonith type not named `fence_*` (the fence-agents convention)
//! is a cluster-glue plugin, as in Pacemaker, whose fence_legacy wrapper
//! runs the same command.
//!
//! Parameters, in the three ways stonith(8) takes them:
//! - `stonith-config-file` = FILE: `-F FILE`, the ha.cf `stonith TYPE FILE`
//!   line (the file holds the values in the plugin's order);
//! - `stonith-config-params` = "V1 V2...": `-p "V1 V2..."`, the ha.cf
//!   `stonith_host HOST TYPE V1 V2...` line;
//! - otherwise every parameter as an environment variable and `-E`, as
//!   fence_legacy does (names and values never show in `ps`).
//!
//! Actions: `start`/`monitor`/`status` = `-S` (device status), `list` =
//! `-l`, `off`/`on`/`reboot` = `-T off|on|reset PORT`, `meta-data` = `-m`.

use std::collections::BTreeMap;

use super::{ExitMapping, Invocation, Plan};
use crate::op::{rc, OpResult, OpStatus};

/// `-F FILE` (ha.cf `stonith TYPE FILE`).
pub const CONFIG_FILE: &str = "stonith-config-file";
/// `-p "VALUES"` (ha.cf `stonith_host HOST TYPE VALUES`).
pub const CONFIG_PARAMS: &str = "stonith-config-params";

/// Whether a class stonith type names a cluster-glue plugin rather than
/// a fence-agents program.
pub fn is_glue_type(agent_type: &str) -> bool {
    !agent_type.starts_with("fence_")
}

/// A plugin name stonith(8) may load: `NAME` or `external/NAME`, each a
/// plain word (no path tricks).
pub fn valid_type(agent_type: &str) -> bool {
    let name = agent_type.strip_prefix("external/").unwrap_or(agent_type);
    !name.is_empty()
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// Plans one action of a cluster-glue plugin.
pub fn plan(
    stonith_cmd: &std::path::Path,
    mut env: Vec<(String, String)>,
    agent_type: &str,
    params: &BTreeMap<String, String>,
    action: &str,
) -> Plan {
    let mut args = vec!["-t".to_string(), agent_type.to_string()];
    if action == "meta-data" {
        args.push("-m".into());
        return Plan::Run(Invocation { program: stonith_cmd.to_path_buf(), args, env, stdin: None, mapping: ExitMapping::Stonith });
    }
    let port = params.get("port").or_else(|| params.get("nodename")).filter(|p| !p.is_empty());
    if let Some(file) = params.get(CONFIG_FILE) {
        args.extend(["-F".to_string(), file.clone()]);
    } else if let Some(values) = params.get(CONFIG_PARAMS) {
        args.extend(["-p".to_string(), values.clone()]);
    } else {
        for (k, v) in params {
            // Only names a shell could export; PATH and the node's HA_*
            // variables are lrmd's, never a device's.
            let exportable = !k.is_empty()
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !k.as_bytes()[0].is_ascii_digit();
            if exportable && k != "PATH" && !k.starts_with("HA_") && !v.contains('\0') {
                env.push((k.clone(), v.clone()));
            }
        }
        args.push("-E".into());
    }
    match action {
        "start" | "monitor" | "status" => args.push("-S".into()),
        "list" => args.push("-l".into()),
        "off" | "on" | "reboot" => {
            let Some(port) = port else {
                return Plan::Immediate(OpResult::failed(
                    rc::INVALID_PARAM,
                    OpStatus::Error,
                    format!("stonith {action} needs the node to act on (parameter port)"),
                ));
            };
            let how = if action == "reboot" { "reset" } else { action };
            args.extend(["-T".to_string(), how.to_string(), port.clone()]);
        }
        other => {
            return Plan::Immediate(OpResult::failed(
                rc::UNIMPLEMENTED,
                OpStatus::NotSupported,
                format!("cluster-glue stonith plugins do not support the {other} action"),
            ))
        }
    }
    Plan::Run(Invocation { program: stonith_cmd.to_path_buf(), args, env, stdin: None, mapping: ExitMapping::Stonith })
}
