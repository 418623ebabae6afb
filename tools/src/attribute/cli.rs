//! crm_attribute: query, set and delete cluster options, node attributes
//! (permanent or transient), resource/operation defaults and tickets, as
//! Pacemaker 2.1.5's crm_attribute does on a CIB file.

use clap::Parser;

use super::{delete, find, multiple_listing, node_id, update, AttrError, Scope, Target};
use crate::cib_file::{rejected_listing, Context, Outcome, WriteError};
use crate::output::{Destination, Errors, Format};
use crate::ExitCode;

#[derive(Parser, Debug, Default)]
#[command(name = "crm_attribute", about = "Manage node's attributes and cluster options.", disable_version_flag = true)]
pub struct Args {
    /// Name of the attribute/option to operate on
    #[arg(short = 'n', long = "name", visible_alias = "attr-name")]
    pub name: Option<String>,
    /// Query the current value of the attribute/option
    #[arg(short = 'G', long = "query", visible_alias = "get-value")]
    pub query: bool,
    /// Update the value of the attribute/option
    #[arg(short = 'v', long = "update", visible_alias = "attr-value", allow_hyphen_values = true)]
    pub update: Option<String>,
    /// Delete the attribute/option
    #[arg(short = 'D', long = "delete", visible_alias = "delete-attr")]
    pub delete: bool,
    /// Set an attribute for the named node (instead of a cluster option)
    #[arg(short = 'N', long = "node", visible_alias = "node-uname", short_alias = 'U')]
    pub node: Option<String>,
    /// Which part of the configuration: crm_config, rsc_defaults, op_defaults, tickets, nodes, status
    #[arg(short = 't', long = "type")]
    pub kind: Option<String>,
    /// Lifetime of the node attribute: reboot or forever
    #[arg(short = 'l', long = "lifetime")]
    pub lifetime: Option<String>,
    /// Set an utilization attribute for the node
    #[arg(short = 'z', long = "utilization")]
    pub utilization: bool,
    /// (Advanced) The attribute set in which to place the value
    #[arg(short = 's', long = "set-name")]
    pub set_name: Option<String>,
    /// (Advanced) The ID used to identify the attribute
    #[arg(short = 'i', long = "id", visible_alias = "attr-id")]
    pub id: Option<String>,
    /// (Advanced) The default value to display if none is found
    #[arg(short = 'd', long = "default")]
    pub default: Option<String>,
    /// Print only the value on stdout
    #[arg(short = 'q', long = "quiet", short_alias = 'Q')]
    pub quiet: bool,
    /// Increase debug output
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Specify output format as one of: text (default), xml
    #[arg(long = "output-as", value_name = "FORMAT")]
    pub output_as: Option<String>,
    /// Specify file name for output (or "-" for stdout)
    #[arg(long = "output-to", value_name = "DEST")]
    pub output_to: Option<String>,
}

/// Which command, when several are given: delete, then update, then query.
enum Command {
    Query,
    Update(String),
    Delete,
}

/// Runs crm_attribute with `argv` (program name first).
///
/// `--output-as xml`: each value found is an `<attribute name value
/// scope [id]>` (`-q` changes nothing), each reported line an `<error>`;
/// the text's information lines ("Deleted ...", the list of ambiguous
/// matches) are not part of 2.1.5's XML.
pub fn run(argv: &[String], ctx: &Context) -> Outcome {
    let a = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => return usage(e),
    };
    let format = match Format::parse("crm_attribute", a.output_as.as_deref(), false) {
        Ok(f) => f,
        Err(o) => return o,
    };
    let dest = match Destination::open("crm_attribute", format, a.output_to.as_deref(), false) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let mut found = Vec::new();
    let text = execute_collecting(&a, ctx, &mut found);
    let o = match format {
        Format::Text => text,
        Format::Xml | Format::Json => crate::output::to_xml(text, &crate::output::request(argv), found, Errors::PerLine),
    };
    dest.deliver(o)
}

/// A command-line error, reported as clap formats it, with Pacemaker's
/// usage exit code.
pub(crate) fn usage(e: clap::Error) -> Outcome {
    let mut o = Outcome::default();
    let text = e.render().to_string();
    match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
            o.out(&text);
            o.exit(ExitCode::Ok)
        }
        _ => {
            o.err(&text);
            o.exit(ExitCode::Usage)
        }
    }
}

/// Runs the parsed command.
pub fn execute(a: &Args, ctx: &Context) -> Outcome {
    execute_collecting(a, ctx, &mut Vec::new())
}

/// Runs the parsed command, adding each value a query prints to `found`
/// as the XML output's `<attribute>`.
fn execute_collecting(a: &Args, ctx: &Context, found_xml: &mut Vec<cib::Element>) -> Outcome {
    let tool = "crm_attribute";
    let mut o = Outcome::default();
    let cib = match ctx.cib().and_then(|f| f.load().map(|c| (f, c))) {
        Ok(x) => x,
        Err(u) => {
            let (msg, code) = u.report(tool);
            o.err(&msg);
            return o.exit(code);
        }
    };
    let (file, current) = cib;

    // Pacemaker's order: -l/-t, then "a node means forever", then the
    // node lookup for every scope except cluster options and tickets.
    let mut kind = if a.utilization { Some("nodes".to_string()) } else { a.lifetime.clone().or(a.kind.clone()) };
    if kind.is_none() && a.node.is_some() {
        kind = Some("forever".into());
    }
    let scope_name = match kind.as_deref() {
        None => "crm_config".to_string(),
        Some("reboot") => "status".into(),
        Some("forever") => "nodes".into(),
        Some(k) => k.to_string(),
    };
    let scope = Scope::parse(&scope_name);
    let mut node = None;
    if !matches!(scope, Some(Scope::CrmConfig | Scope::Tickets)) {
        let uname = a.node.clone().or_else(|| ctx.local_node.clone()).unwrap_or_default();
        match node_id(&current, &uname) {
            Some(id) => node = Some(id),
            None => {
                o.err(&format!("{tool}: Could not map name={uname} to a UUID\n"));
                return o.exit(ExitCode::NoSuch);
            }
        }
    }
    let command = if a.delete {
        Command::Delete
    } else if let Some(v) = &a.update {
        Command::Update(v.clone())
    } else {
        Command::Query
    };
    if matches!(command, Command::Delete) && a.name.is_none() {
        o.err(&format!("{tool}: Error: must specify attribute name or pattern to delete\n"));
        return o.exit(ExitCode::Usage);
    }
    let Some(scope) = scope else {
        // An unknown section: Pacemaker finds no XPath for it (ENOMSG).
        o.err(&format!("{tool}: Error performing operation: No message of desired type\n"));
        return o.exit(ExitCode::Protocol);
    };
    let target = Target {
        scope: Some(scope),
        node_id: if matches!(scope, Scope::Nodes | Scope::Status) { node.clone() } else { None },
        set_name: a.set_name.clone(),
        attr_id: a.id.clone(),
        attr_name: a.name.clone(),
        utilization: a.utilization,
    };

    // Transient attributes belong to attrd when it runs: it holds them and
    // writes them into the CIB (docs/ATTRD.md); writing the status
    // section behind its back would be undone by its next write.
    if matches!(scope, Scope::Status) && !matches!(command, Command::Query) {
        if let (Some(sock), Some(name)) = (super::attrd_ipc::live_socket(&ctx.source), &a.name) {
            let uname = a.node.clone().or_else(|| ctx.local_node.clone());
            if let Some(out) = via_attrd(&sock, uname, name, &command, &current, &target, a, o.clone()) {
                return out;
            }
        }
    }

    match command {
        Command::Query => {
            let found = find(&current, &target);
            if found.is_empty() {
                match &a.default {
                    Some(d) => print_value(&mut o, found_xml, a, scope, a.name.as_deref().unwrap_or("(null)"), d),
                    None => {
                        o.err(&format!("{tool}: Error performing operation: No such device or address\n"));
                        return o.exit(ExitCode::NoSuch);
                    }
                }
            }
            for f in &found {
                print_value(&mut o, found_xml, a, scope, &f.name, &f.value);
            }
            o.exit(ExitCode::Ok)
        }
        Command::Update(value) => {
            if a.name.is_none() && a.id.is_none() {
                o.err(&format!("{tool}: Error performing operation: Invalid argument\n"));
                return o.exit(ExitCode::Software);
            }
            let name = a.name.clone().unwrap_or_else(|| "(null)".into());
            let set = a.set_name.clone().unwrap_or_else(|| super::default_set_name(&target));
            match file.edit(|cib| update(cib, &target, &value)) {
                Ok(_) => o.exit(ExitCode::Ok),
                Err(WriteError::Edit(AttrError::Multiple(found))) => {
                    o.out(&multiple_listing(a.name.as_deref(), &found));
                    o.err(&format!(
                        "{tool}: Please choose from one of the matches below and supply the 'id' with --attr-id\n"
                    ));
                    o.exit(ExitCode::Multiple)
                }
                Err(WriteError::Edit(AttrError::NoNodeState { set })) => {
                    o.err(&format!(
                        "Error setting {name}={value} (section={}, set={set}): No such device or address\n",
                        scope.name()
                    ));
                    o.err(&format!("{tool}: Error performing operation: No such device or address\n"));
                    o.exit(ExitCode::NoSuch)
                }
                Err(WriteError::Invalid(rejected)) => {
                    o.err(&rejected_listing(&rejected));
                    o.err(&format!(
                        "Error setting {name}={value} (section={}, set={set}): Update does not conform to the configured schema\n",
                        scope.name()
                    ));
                    o.err(&format!("{tool}: Error performing operation: Unknown error 1016\n"));
                    o.exit(ExitCode::Config)
                }
                Err(WriteError::Unavailable(u)) => {
                    let (msg, code) = u.report(tool);
                    o.err(&msg);
                    o.exit(code)
                }
            }
        }
        Command::Delete => {
            // With --id Pacemaker deletes by id without looking first, and
            // reports the id it was not given as "(null)".
            let result = file.edit(|cib| match &a.id {
                Some(_) => {
                    let found = find(cib, &target);
                    for f in found.iter().rev() {
                        let (last, parent) = f.path.split_last().expect("below root");
                        super::at_mut(cib, parent).expect("parent").children.remove(*last);
                    }
                    Ok(Some(None))
                }
                None => delete(cib, &target).map(|f| f.map(|f| Some(f.id))),
            });
            match result {
                Ok(None) => o.exit(ExitCode::Ok),
                Ok(Some(id)) => {
                    if !a.quiet {
                        let kind = if node.is_some() { "attribute" } else { "option" };
                        let set = a.set_name.as_ref().map(|s| format!(" set={s}")).unwrap_or_default();
                        o.out(&format!(
                            "Deleted {} {kind}: id={}{set} name={}\n",
                            scope.name(),
                            id.as_deref().unwrap_or("(null)"),
                            a.name.as_deref().unwrap_or("(null)")
                        ));
                    }
                    o.exit(ExitCode::Ok)
                }
                Err(WriteError::Edit(AttrError::Multiple(found))) => {
                    o.out(&multiple_listing(a.name.as_deref(), &found));
                    o.exit(ExitCode::Ok)
                }
                Err(WriteError::Edit(AttrError::NoNodeState { .. })) => o.exit(ExitCode::Ok),
                Err(WriteError::Invalid(rejected)) => {
                    o.err(&rejected_listing(&rejected));
                    o.err(&format!("{tool}: Error performing operation: Update does not conform to the configured schema\n"));
                    o.exit(ExitCode::Config)
                }
                Err(WriteError::Unavailable(u)) => {
                    let (msg, code) = u.report(tool);
                    o.err(&msg);
                    o.exit(code)
                }
            }
        }
    }
}

/// An update or delete of a transient attribute handed to attrd; `None`
/// when attrd could not be reached (the caller edits the CIB itself).
#[allow(clippy::too_many_arguments)]
fn via_attrd(sock: &std::path::Path, node: Option<String>, name: &str, command: &Command, current: &cib::Element, target: &Target, a: &Args, mut o: Outcome) -> Option<Outcome> {
    use super::attrd_ipc::{call, Reply, Request};
    let req = match command {
        Command::Update(v) => Request::Update { node, name: name.to_string(), value: v.clone(), dampen_ms: None },
        Command::Delete => Request::Delete { node, name: name.to_string(), dampen_ms: None },
        Command::Query => return None,
    };
    match call(sock, &req, crate::cib_live::DEFAULT_TIMEOUT).ok()? {
        Reply::Ok(_) | Reply::NoSuch => {}
        Reply::Error(why) => {
            o.err(&format!("crm_attribute: Error performing operation: {why}\n"));
            return Some(o.exit(ExitCode::Error));
        }
    }
    if matches!(command, Command::Delete) && !a.quiet {
        // The line the CIB path prints, for the nvpair attrd will remove.
        if let Some(f) = find(current, target).first() {
            let set = a.set_name.as_ref().map(|s| format!(" set={s}")).unwrap_or_default();
            o.out(&format!("Deleted status attribute: id={}{set} name={name}\n", f.id));
        }
    }
    Some(o.exit(ExitCode::Ok))
}

fn print_value(o: &mut Outcome, xml: &mut Vec<cib::Element>, a: &Args, scope: Scope, name: &str, value: &str) {
    let mut e = cib::Element::new("attribute").with_attr("name", name).with_attr("value", value).with_attr("scope", scope.name());
    if let Some(id) = &a.id {
        e.set_attr("id", id.as_str());
    }
    xml.push(e);
    if a.quiet {
        o.out(&format!("{value}\n"));
    } else {
        let id = a.id.as_ref().map(|i| format!("id={i}")).unwrap_or_default();
        o.out(&format!("scope={} {id} name={name} value={value}\n", scope.name()));
    }
}
