//! crm_node: this node's name and id, the cluster's members, quorum, and
//! removing a node — answered from the CIB when `CIB_file` names one.
//!
//! ```text
//!  Args ──> Command ──┬─ -n              HA_NODENAME / uname -n (no CIB needed)
//!                     ├─ -l -p -q -i -N  CIB_file: <nodes> + <status>; live: not connected (102)
//!                     └─ -R NAME --force CIB_file: node and its node_state removed
//! ```
//!
//! Pacemaker 2.1.5's crm_node asks the controller for everything and never
//! reads `CIB_file`; offline it fails with "Could not connect to
//! controller" (exit 102), which is what we print without `CIB_file`.
//! With `CIB_file` we answer from the file (a documented divergence, see
//! docs/TOOLS.md): membership is the `node_state`'s `in_ccm`, quorum the
//! root's `have-quorum`.

use clap::Parser;

use crate::cib_file::{Context, Outcome, Unavailable, WriteError};
use crate::ExitCode;
use cib::Element;

#[derive(Debug, Parser)]
#[command(name = "crm_node", about = "crm_node - Tool for displaying low-level node information", disable_version_flag = true)]
pub struct Args {
    /// Display this node's cluster id
    #[arg(short = 'i', long = "cluster-id")]
    pub cluster_id: bool,
    /// Display all known members (past and present) of this cluster
    #[arg(short = 'l', long = "list")]
    pub list: bool,
    /// Display the name used by the cluster for this node
    #[arg(short = 'n', long = "name")]
    pub name: bool,
    /// Display the members of this partition
    #[arg(short = 'p', long = "partition")]
    pub partition: bool,
    /// Display a 1 if our partition has quorum, 0 if not
    #[arg(short = 'q', long = "quorum")]
    pub quorum: bool,
    /// Display the name used by the cluster for the node with the specified ID
    #[arg(short = 'N', long = "name-for-id", value_name = "ID")]
    pub name_for_id: Option<String>,
    /// (Advanced) Remove the (stopped) node with the specified name from the configuration
    #[arg(short = 'R', long = "remove", value_name = "NAME")]
    pub remove: Option<String>,
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Be less descriptive in output.
    #[arg(short = 'Q', long = "quiet")]
    pub quiet: bool,
    /// Increase debug output
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// What was asked (Pacemaker takes the last command given; one is enough
/// here, in this precedence).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Command {
    Name,
    ClusterId,
    List,
    Partition,
    Quorum,
    NameForId(String),
    Remove(String),
}

fn command(args: &Args) -> Option<Command> {
    if let Some(n) = &args.remove {
        return Some(Command::Remove(n.clone()));
    }
    if let Some(id) = &args.name_for_id {
        return Some(Command::NameForId(id.clone()));
    }
    [
        (args.name, Command::Name),
        (args.cluster_id, Command::ClusterId),
        (args.list, Command::List),
        (args.partition, Command::Partition),
        (args.quorum, Command::Quorum),
    ]
    .into_iter()
    .find_map(|(set, c)| set.then_some(c))
}

/// Runs crm_node with `argv` (program name first); command-line errors
/// exit 64 as Pacemaker's do.
pub fn run_argv(argv: &[String], ctx: &Context) -> Outcome {
    match Args::try_parse_from(argv) {
        Ok(a) => run(&a, ctx),
        Err(e) if e.kind() == clap::error::ErrorKind::UnknownArgument => {
            // glib's words, the argument as written (`--output-as=xml`):
            // 2.1.5's crm_node has no formatted output, so `--output-as`
            // lands here too.
            let invalid = e.get(clap::error::ContextKind::InvalidArg).map(|v| v.to_string()).unwrap_or_default();
            let written = argv.iter().skip(1).find(|a| **a == invalid || a.starts_with(&format!("{invalid}="))).cloned().unwrap_or(invalid);
            let mut out = Outcome::default();
            out.err(&format!("crm_node: Unknown option {written}\n"));
            out.exit(ExitCode::Usage)
        }
        Err(e) => crate::attribute::cli::usage(e),
    }
}

const NOT_CONNECTED: &str = "error: Could not connect to controller: Connection refused\n";

pub fn run(args: &Args, ctx: &Context) -> Outcome {
    let mut out = Outcome::default();
    let Some(cmd) = command(args) else {
        out.err("crm_node: no command given (one of -i -l -n -p -q -N -R); see --help\n");
        return out.exit(ExitCode::Usage);
    };
    if let Command::Name = cmd {
        return match &ctx.local_node {
            Some(n) => {
                out.out(&format!("{n}\n"));
                out.exit(ExitCode::Ok)
            }
            None => {
                out.err(NOT_CONNECTED);
                out.exit(ExitCode::Disconnect)
            }
        };
    }
    if let Command::Remove(_) = cmd {
        if !args.force {
            out.err("The supplied command is considered dangerous.  To prevent accidental destruction of the cluster, the --force flag is required in order to proceed.\n");
            return out.exit(ExitCode::Usage);
        }
    }
    let file = match ctx.cib() {
        Ok(f) => f,
        Err(Unavailable::NotConnected) => {
            out.err(NOT_CONNECTED);
            return out.exit(ExitCode::Disconnect);
        }
        Err(e) => {
            let (msg, code) = e.report("crm_node");
            out.err(&msg);
            return out.exit(code);
        }
    };
    if let Command::Remove(name) = cmd {
        return match file.edit(|cib| remove_node(cib, &name)) {
            Ok(()) => out.exit(ExitCode::Ok),
            Err(WriteError::Edit(())) => {
                out.err(&format!("error: Node {name} is not in the configuration or status\n"));
                out.exit(ExitCode::NoSuch)
            }
            Err(WriteError::Invalid(_)) => {
                out.err("error: Could not remove node: Update does not conform to the configured schema\n");
                out.exit(ExitCode::Config)
            }
            Err(WriteError::Unavailable(e)) => {
                let (msg, code) = e.report("crm_node");
                out.err(&msg);
                out.exit(code)
            }
        };
    }
    let cib = match file.load() {
        Ok(c) => c,
        Err(e) => {
            let (msg, code) = e.report("crm_node");
            out.err(&msg);
            return out.exit(code);
        }
    };
    let nodes = members(&cib);
    match cmd {
        Command::List => {
            for n in &nodes {
                out.out(&format!("{} {} {}\n", n.id, n.uname, if n.in_ccm { "member" } else { "lost" }));
            }
        }
        Command::Partition => {
            let names: Vec<&str> = nodes.iter().filter(|n| n.in_ccm).map(|n| n.uname.as_str()).collect();
            out.out(&format!("{}\n", names.join(" ")));
        }
        Command::Quorum => {
            let q = cib.attr("have-quorum").or_else(|| cib.attr("have_quorum"));
            let yes = matches!(q.map(str::to_ascii_lowercase).as_deref(), Some("true" | "1" | "yes" | "on"));
            out.out(if yes { "1\n" } else { "0\n" });
        }
        Command::ClusterId => {
            let me = ctx.local_node.as_deref().unwrap_or_default();
            match nodes.iter().find(|n| n.uname.eq_ignore_ascii_case(me)) {
                Some(n) => out.out(&format!("{}\n", n.id)),
                None => {
                    out.err(&format!("error: Could not map name={me} to a UUID\n"));
                    return out.exit(ExitCode::NoSuch);
                }
            }
        }
        Command::NameForId(id) => match nodes.iter().find(|n| n.id == id) {
            Some(n) => out.out(&format!("{}\n", n.uname)),
            None => {
                out.err(&format!("error: Could not map id={id} to a name\n"));
                return out.exit(ExitCode::NoSuch);
            }
        },
        Command::Name | Command::Remove(_) => unreachable!("handled above"),
    }
    out.exit(ExitCode::Ok)
}

/// A configured cluster node and whether the membership has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub uname: String,
    pub in_ccm: bool,
}

/// The cluster nodes of `<nodes>` (not remote or ping nodes), in
/// configuration order, with their membership from `<status>`.
pub fn members(cib: &Element) -> Vec<Member> {
    let status = cib.child("status");
    let Some(nodes) = cib.child("configuration").and_then(|c| c.child("nodes")) else { return Vec::new() };
    nodes
        .children_named("node")
        .filter(|n| matches!(n.attr("type"), None | Some("member" | "normal")))
        .filter_map(|n| {
            let id = n.attr("id")?.to_string();
            let uname = n.attr("uname").unwrap_or(&id).to_string();
            let in_ccm = status
                .into_iter()
                .flat_map(|s| s.children_named("node_state"))
                .find(|s| s.attr("id") == Some(id.as_str()))
                .is_some_and(|s| is_true(s.attr("in_ccm")));
            Some(Member { id, uname, in_ccm })
        })
        .collect()
}

/// `in_ccm` is `true` (or, from Pacemaker 2.1.7, a join timestamp).
fn is_true(v: Option<&str>) -> bool {
    match v {
        Some(v) => v == "true" || v == "1" || v.parse::<u64>().is_ok_and(|t| t > 0),
        None => false,
    }
}

/// Removes the node named `name` from `<nodes>` and its `node_state`
/// from `<status>`, as `crm_node -R` purges it from the CIB.
fn remove_node(cib: &mut Element, name: &str) -> Result<(), ()> {
    let mut ids = Vec::new();
    let mut removed = false;
    if let Some(nodes) = cib.child_mut("configuration").and_then(|c| c.child_mut("nodes")) {
        while let Some(i) = nodes.element_position(|e| e.name == "node" && e.attr("uname") == Some(name)) {
            if let Some(n) = nodes.remove_element(i) {
                ids.extend(n.attr("id").map(str::to_string));
            }
            removed = true;
        }
    }
    if let Some(status) = cib.child_mut("status") {
        while let Some(i) = status.element_position(|e| {
            e.name == "node_state" && (e.attr("uname") == Some(name) || e.attr("id").is_some_and(|id| ids.iter().any(|x| x == id)))
        }) {
            status.remove_element(i);
            removed = true;
        }
    }
    if removed {
        Ok(())
    } else {
        Err(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_from_nodes_and_status() {
        let cib = cib::xml::parse_element(
            r#"<cib><configuration><nodes><node id="1" uname="a"/><node id="2" uname="b"/><node id="r" uname="r" type="remote"/></nodes></configuration>
            <status><node_state id="1" uname="a" in_ccm="true" crmd="online"/><node_state id="2" uname="b" in_ccm="false"/></status></cib>"#,
        )
        .unwrap();
        let m = members(&cib);
        assert_eq!(m.len(), 2);
        assert!(m[0].in_ccm && !m[1].in_ccm);
    }

    #[test]
    fn remove_takes_node_and_state() {
        let mut cib = cib::xml::parse_element(
            r#"<cib><configuration><nodes><node id="1" uname="a"/><node id="2" uname="b"/></nodes></configuration><status><node_state id="1" uname="a"/></status></cib>"#,
        )
        .unwrap();
        assert_eq!(remove_node(&mut cib, "a"), Ok(()));
        assert!(cib.find_id("1").is_none());
        assert_eq!(remove_node(&mut cib, "zz"), Err(()));
    }
}
