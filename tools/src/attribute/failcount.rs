//! crm_failcount: a resource's fail count on a node, read from the node's
//! transient attributes as Pacemaker 2.1.5's crm_failcount script reads
//! them (per-operation `fail-count-RSC#OP_INTERVAL` attributes summed, the
//! old single `fail-count-RSC` as a fallback), and cleared the way
//! `crm_resource --cleanup` clears them.
//!
//! Pacemaker 2.1.5's `-D` calls `crm_resource --cleanup`, which fails on
//! a CIB file; here it deletes the fail-count and last-failure attributes
//! and the failed operation history of the resource on that node, which
//! is what a cleanup leaves behind on a live cluster. `-v N` (N > 0) sets
//! the count, as Heartbeat 2.x's crm_failcount did.

use clap::Parser;

use super::cli::{execute, usage, Args as AttrArgs};
use super::{node_id, update, Scope, Target};
use crate::cib_file::{Context, Outcome, WriteError};
use crate::ExitCode;
use cib::{Element, Node};

/// Pacemaker's score infinity: sums at or above it print as INFINITY.
const INFINITY: u64 = 1_000_000;

const USAGE_TEXT: &str = "Usage: crm_failcount <command> [<options>]
Common options:
 --help                 Display this text, then exit
 --version              Display version information, then exit
 -V, --verbose          Specify multiple times to increase debug output
 -q, --quiet            Print only the value (if querying)

Commands:
 -G, --query            Query the current value of the resource's fail count
 -D, --delete           Delete resource's recorded failures

Additional Options:
 -r, --resource=value   Name of the resource to use (required)
 -n, --operation=value  Name of operation to use (instead of all operations)
 -I, --interval=value   If operation is specified, its interval
 -N, --node=value       Use failcount on named node (instead of local node)
";

#[derive(Parser, Debug)]
#[command(name = "crm_failcount", disable_version_flag = true, disable_help_flag = true)]
pub struct Args {
    #[arg(long = "help")]
    pub help: bool,
    #[arg(short = 'q', long = "quiet", short_alias = 'Q')]
    pub quiet: bool,
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[arg(short = 'G', long = "query", visible_alias = "get-value")]
    pub query: bool,
    #[arg(short = 'D', long = "delete", visible_alias = "delete-attr")]
    pub delete: bool,
    #[arg(short = 'r', long = "resource", visible_alias = "resource-id")]
    pub resource: Option<String>,
    #[arg(short = 'n', long = "operation")]
    pub operation: Option<String>,
    #[arg(short = 'I', long = "interval")]
    pub interval: Option<String>,
    /// Node (Heartbeat: -U)
    #[arg(short = 'N', long = "node", visible_alias = "uname", short_alias = 'U')]
    pub node: Option<String>,
    #[arg(short = 'v', long = "attr-value", allow_hyphen_values = true)]
    pub value: Option<String>,
    #[arg(short = 'i', long = "attr-id")]
    pub id: Option<String>,
    #[arg(short = 'l', long = "lifetime")]
    pub lifetime: Option<String>,
}

fn usage_error(msg: &str) -> Outcome {
    let mut o = Outcome::default();
    if !msg.is_empty() {
        o.err(&format!("error: {msg}\n"));
    }
    o.out(&format!("\n{USAGE_TEXT}"));
    o.exit(ExitCode::Usage)
}

pub fn run(argv: &[String], ctx: &Context) -> Outcome {
    let a = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => return usage(e),
        Err(_) => return usage_error(""),
    };
    let mut o = Outcome::default();
    if a.help {
        o.out(&format!("crm_failcount - Query or delete resource fail counts\n\n{USAGE_TEXT}"));
        return o;
    }
    if a.id.is_some() {
        o.err("warning: ignoring deprecated option '-i'\n");
    }
    if a.lifetime.is_some() {
        o.err("warning: ignoring deprecated option '-l'\n");
    }
    let set_to = a.value.as_deref().filter(|v| *v != "0");
    let command = if a.value.as_deref() == Some("0") || a.delete {
        Some('D')
    } else if set_to.is_some() {
        Some('v')
    } else if a.query {
        Some('G')
    } else {
        None
    };
    let with_warnings = |mut r: Outcome, o: &Outcome| {
        r.stderr.insert_str(0, &o.stderr);
        r
    };
    let Some(command) = command else { return with_warnings(usage_error("must specify a command"), &o) };
    let Some(rsc) = a.resource.clone() else { return with_warnings(usage_error("resource name required"), &o) };
    let Some(node) = a.node.clone().or_else(|| ctx.local_node.clone()) else {
        return with_warnings(usage_error("node name required"), &o);
    };
    let interval = match &a.interval {
        Some(i) => match parse_interval(i) {
            Some(ms) => ms,
            None => {
                o.err("warning: Unrecognized interval, using 0\n");
                0
            }
        },
        None => 0,
    };
    let op = a.operation.as_deref();
    let r = match command {
        'G' => query(ctx, &node, &rsc, op, interval, a.quiet),
        'v' => set(ctx, &node, &rsc, set_to.unwrap_or_default()),
        _ => cleanup(ctx, &node, &rsc, op, interval, a.quiet),
    };
    with_warnings(r, &o)
}

/// The script's interval syntax: plain seconds, units, ISO 8601.
pub fn parse_interval(s: &str) -> Option<u64> {
    let t = s.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    if digits_end > 0 {
        let n: u64 = t[..digits_end].parse().ok()?;
        let unit = t[digits_end..].trim();
        return Some(match unit {
            "" | "s" | "sec" => n * 1000,
            "ms" | "msec" => n,
            "m" | "min" => n * 60_000,
            "h" | "hr" => n * 3_600_000,
            "us" | "usec" => n / 1000,
            _ => return None,
        });
    }
    let rest = t.strip_prefix('P')?;
    if let Some(w) = rest.strip_suffix('W') {
        return w.parse::<u64>().ok().map(|w| w * 604_800_000);
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut total = 0u64;
    for (part, units) in [(date, &[('Y', 31_536_000_000u64), ('M', 2_592_000_000), ('D', 86_400_000)][..]), (time, &[('H', 3_600_000), ('M', 60_000), ('S', 1000)][..])] {
        let mut p = part;
        for (u, ms) in units {
            if let Some(i) = p.find(*u) {
                total += p[..i].parse::<u64>().ok()? * ms;
                p = &p[i + 1..];
            }
        }
        if !p.is_empty() {
            return None;
        }
    }
    Some(total)
}

fn query_single(ctx: &Context, node: &str, attr: &str, o: &mut Outcome) -> String {
    let a = AttrArgs {
        name: Some(attr.into()),
        node: Some(node.into()),
        kind: Some("status".into()),
        query: true,
        quiet: true,
        default: Some("0".into()),
        ..Default::default()
    };
    let r = execute(&a, ctx);
    o.err(&r.stderr);
    r.stdout.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn query(ctx: &Context, node: &str, rsc: &str, op: Option<&str>, interval: u64, quiet: bool) -> Outcome {
    let mut o = Outcome::default();
    let attr_rsc = format!("fail-count-{rsc}");
    let (mut display, mut count) = match op {
        Some(op) => {
            let d = format!("{attr_rsc}#{op}_{interval}");
            let c = query_single(ctx, node, &d, &mut o);
            (d, c)
        }
        None => {
            // The script reads the CIB with cibadmin; an unreadable one
            // reads as no fail counts.
            let cib = ctx.cib().and_then(|f| f.load()).ok();
            (attr_rsc.clone(), cib.map(|c| sum(&c, node, &format!("{attr_rsc}#"))).unwrap_or_else(|| "0".into()))
        }
    };
    if count == "0" {
        count = query_single(ctx, node, &attr_rsc, &mut o);
        if count != "0" {
            display = attr_rsc;
        }
    }
    if quiet {
        o.out(&format!("{count}\n"));
    } else {
        o.out(&format!("scope=status  name={display} value={count}\n"));
    }
    o
}

/// Sum of the node's transient attributes named `prefix*` whose values
/// are counts (digits or INFINITY).
fn sum(cib: &Element, node: &str, prefix: &str) -> String {
    let mut total = 0u64;
    let Some(status) = cib.child("status") else { return "0".into() };
    for state in status.children_named("node_state").filter(|s| s.attr("uname") == Some(node)) {
        for ta in state.children_named("transient_attributes") {
            for set in ta.children_named("instance_attributes") {
                for p in set.children_named("nvpair") {
                    if !p.attr("name").unwrap_or_default().starts_with(prefix) {
                        continue;
                    }
                    match p.attr("value").unwrap_or_default() {
                        "INFINITY" => return "INFINITY".into(),
                        v if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                            total = total.saturating_add(v.parse().unwrap_or(u64::MAX))
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    if total >= INFINITY { "INFINITY".into() } else { total.to_string() }
}

fn set(ctx: &Context, node: &str, rsc: &str, value: &str) -> Outcome {
    let a = AttrArgs {
        name: Some(format!("fail-count-{rsc}")),
        node: Some(node.into()),
        kind: Some("status".into()),
        update: Some(value.into()),
        ..Default::default()
    };
    execute(&a, ctx)
}

/// What a cleanup of `rsc` on `node` removes, as a pure edit.
pub fn clear(cib: &mut Element, node_id: &str, rsc: &str, op: Option<&str>, interval: u64) -> bool {
    let ids = resource_ids(cib, rsc);
    let mut changed = false;
    let Some(status) = cib.child_mut("status") else { return false };
    for state in status.elements_mut().filter(|s| s.name == "node_state" && s.id() == Some(node_id)) {
        // Attributes: fail-count-R, fail-count-R#op_interval, last-failure-R...
        for ta in state.elements_mut().filter(|e| e.name == "transient_attributes") {
            for set in ta.elements_mut().filter(|e| e.name == "instance_attributes") {
                let before = set.children.len();
                set.children.retain(|c| match c {
                    Node::Element(p) if p.name == "nvpair" => {
                        !ids.iter().any(|id| attr_matches(p.attr("name").unwrap_or_default(), id, op, interval))
                    }
                    _ => true,
                });
                changed |= set.children.len() != before;
            }
        }
        // History: the failed operations of the resource.
        for lrm in state.elements_mut().filter(|e| e.name == "lrm") {
            for lrs in lrm.elements_mut().filter(|e| e.name == "lrm_resources") {
                for lr in lrs.elements_mut().filter(|e| e.name == "lrm_resource") {
                    let rid = lr.id().unwrap_or_default();
                    if !ids.iter().any(|id| rid == id || rid.strip_prefix(id.as_str()).is_some_and(|r| r.starts_with(':'))) {
                        continue;
                    }
                    let before = lr.children.len();
                    lr.children.retain(|c| match c {
                        Node::Element(e) if e.name == "lrm_rsc_op" => !(failed(e) && op_matches(e, op, interval)),
                        _ => true,
                    });
                    changed |= lr.children.len() != before;
                }
            }
        }
    }
    changed
}

fn attr_matches(name: &str, rsc: &str, op: Option<&str>, interval: u64) -> bool {
    ["fail-count-", "last-failure-"].iter().any(|prefix| {
        let base = format!("{prefix}{rsc}");
        match op {
            Some(op) => name == format!("{base}#{op}_{interval}"),
            None => name == base || name.starts_with(&format!("{base}#")),
        }
    })
}

fn op_matches(e: &Element, op: Option<&str>, interval: u64) -> bool {
    match op {
        None => true,
        Some(op) => e.attr("operation") == Some(op) && e.attr("interval").and_then(|i| i.parse::<u64>().ok()).unwrap_or(0) == interval,
    }
}

/// A recorded failure: a `_last_failure_` entry, an execution error, or a
/// result other than the one the transition expected.
fn failed(e: &Element) -> bool {
    if e.id().is_some_and(|id| id.contains("_last_failure_")) {
        return true;
    }
    let status = e.attr("op-status").unwrap_or("0");
    if status != "0" && status != "-1" {
        return true;
    }
    let expected = e.attr("transition-key").and_then(|k| k.split(':').nth(2)).and_then(|t| t.parse::<i64>().ok());
    let rc = e.attr("rc-code").and_then(|r| r.parse::<i64>().ok());
    matches!((expected, rc), (Some(x), Some(r)) if x != r)
}

/// The resource and, for a group or clone, every primitive inside it.
fn resource_ids(cib: &Element, rsc: &str) -> Vec<String> {
    let mut ids = vec![rsc.to_string()];
    if let Some(r) = cib.child("configuration").and_then(|c| c.child("resources")).and_then(|r| r.find_id(rsc)) {
        ids.extend(r.descendants().filter(|e| e.name == "primitive").filter_map(|e| e.id()).map(str::to_string));
    }
    ids.dedup();
    ids
}

fn resource_exists(cib: &Element, rsc: &str) -> bool {
    let Some(res) = cib.child("configuration").and_then(|c| c.child("resources")) else { return false };
    res.descendants().any(|e| {
        matches!(e.name.as_str(), "primitive" | "group" | "clone" | "master" | "bundle") && e.id() == Some(rsc)
    })
}

fn cleanup(ctx: &Context, node: &str, rsc: &str, op: Option<&str>, interval: u64, quiet: bool) -> Outcome {
    let mut o = Outcome::default();
    let file = match ctx.cib() {
        Ok(f) => f,
        Err(u) => {
            let (msg, code) = u.report("crm_resource");
            o.err(&msg);
            return o.exit(code);
        }
    };
    // With attrd running, the fail counts are its to forget first (it
    // would write them back otherwise); the history is edited below.
    if let Some(sock) = super::attrd_ipc::live_socket(&ctx.source) {
        if let Ok(cib) = file.load() {
            for name in failure_attributes(&cib, node, rsc, op, interval) {
                let req = super::attrd_ipc::Request::Delete { node: Some(node.to_string()), name, dampen_ms: None };
                let _ = super::attrd_ipc::call(&sock, &req, crate::cib_live::DEFAULT_TIMEOUT);
            }
        }
    }
    let result = file.edit(|cib| {
        let Some(id) = node_id(cib, node) else { return Err(format!("crm_resource: Node '{node}' not found\n")) };
        if !resource_exists(cib, rsc) {
            return Err(format!("crm_resource: Resource '{rsc}' not found\n"));
        }
        clear(cib, &id, rsc, op, interval);
        Ok(())
    });
    match result {
        Ok(()) => {
            if !quiet {
                o.out(&format!("Cleaned up {rsc} on {node}\n"));
            }
            o
        }
        Err(WriteError::Edit(msg)) => {
            o.err(&msg);
            o.err("Error performing operation: No such object\n");
            o.exit(ExitCode::NoSuch)
        }
        Err(WriteError::Invalid(_)) => o.exit(ExitCode::Config),
        Err(WriteError::Unavailable(u)) => {
            let (msg, code) = u.report("crm_resource");
            o.err(&msg);
            o.exit(code)
        }
    }
}

/// The fail-count / last-failure attribute names of `rsc` recorded for
/// `node` in the status section (what a cleanup removes).
fn failure_attributes(cib: &Element, node: &str, rsc: &str, op: Option<&str>, interval: u64) -> Vec<String> {
    let ids = resource_ids(cib, rsc);
    let Some(status) = cib.child("status") else { return Vec::new() };
    let mut names: Vec<String> = status
        .children_named("node_state")
        .filter(|s| s.attr("uname") == Some(node))
        .flat_map(|s| s.descendants())
        .filter(|e| e.name == "nvpair")
        .filter_map(|p| p.attr("name"))
        .filter(|n| ids.iter().any(|id| attr_matches(n, id, op, interval)))
        .map(str::to_string)
        .collect();
    names.dedup();
    names
}

/// Sets `fail-count-RSC` directly (used by `-v N`).
pub fn set_count(cib: &mut Element, node_id: &str, rsc: &str, value: &str) -> bool {
    let t = Target {
        scope: Some(Scope::Status),
        node_id: Some(node_id.into()),
        attr_name: Some(format!("fail-count-{rsc}")),
        ..Default::default()
    };
    update(cib, &t, value).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_as_the_script_reads_them() {
        assert_eq!(parse_interval("10"), Some(10_000));
        assert_eq!(parse_interval("10s"), Some(10_000));
        assert_eq!(parse_interval("250ms"), Some(250));
        assert_eq!(parse_interval("2min"), Some(120_000));
        assert_eq!(parse_interval("PT1M30S"), Some(90_000));
        assert_eq!(parse_interval("P1W"), Some(604_800_000));
        assert_eq!(parse_interval("bogus"), None);
    }
}
