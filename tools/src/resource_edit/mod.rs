//! crm_resource's CIB-editing forms on a CIB file, as Pacemaker 2.1.5
//! performs them, plus the Heartbeat 2.x forms the seeds use:
//!
//! - `-p NAME -v VALUE [--meta]`, `-g NAME [--meta]`, `-d NAME [--meta]`
//!   ([`params`]); Heartbeat's `-p target_role|is_managed` set the meta
//!   attribute the engine obeys (`target-role`, `is-managed`);
//! - `-M [-N|-H NODE]`, `-B [-N NODE]`, `-U [-N NODE]` ([`location`]);
//! - `-D -t primitive|group`, and `-q` / Heartbeat's `-x` (the resource's
//!   XML);
//! - `-O` / `-o`: the operation history ([`operations`]).
//!
//! The status views read the working set `pengine::unpack` builds
//! ([`status`]): `-L` (the status printer's resource list), `-W [-Q]`, and
//! where a resource runs for `-M`/`-B` without a node and `-q`. History
//! edits ([`cleanup`]): `-C`, `-R`, Heartbeat's `-P [-H NODE]`.

pub mod cleanup;
pub mod location;
pub mod operations;
pub mod params;
pub mod status;
pub mod xml;

use clap::Parser;

use crate::attribute::cli::usage;
use crate::cib_file::{rejected_listing, Context, Outcome, WriteError};
use crate::output::{Destination, Format};
use crate::ExitCode;
use lrmd::agent::AgentDirs;
use lrmd::local::ForceAction;
use cib::{Element, Node};

#[derive(Parser, Debug, Default)]
#[command(name = "crm_resource", about = "Perform tasks related to cluster resources", disable_version_flag = true)]
pub struct Args {
    /// Resource ID
    #[arg(short = 'r', long = "resource")]
    pub resource: Option<String>,
    /// Set the named parameter
    #[arg(short = 'p', long = "set-parameter")]
    pub set_parameter: Option<String>,
    /// Value for -p
    #[arg(short = 'v', long = "parameter-value", allow_hyphen_values = true)]
    pub value: Option<String>,
    /// Display the named parameter
    #[arg(short = 'g', long = "get-parameter")]
    pub get_parameter: Option<String>,
    /// Delete the named parameter
    #[arg(short = 'd', long = "delete-parameter")]
    pub delete_parameter: Option<String>,
    /// Use meta attributes instead of instance attributes
    #[arg(short = 'm', long = "meta")]
    pub meta: bool,
    /// Move the resource (to -N NODE, else away from where it runs)
    #[arg(short = 'M', long = "move")]
    pub move_: bool,
    /// Ban the resource from a node
    #[arg(short = 'B', long = "ban")]
    pub ban: bool,
    /// Remove constraints created by --move and --ban
    #[arg(short = 'U', long = "clear", visible_alias = "un-move")]
    pub clear: bool,
    /// Delete the resource (needs -t)
    #[arg(short = 'D', long = "delete")]
    pub delete: bool,
    /// Resource type for -D: primitive, group...
    #[arg(short = 't', long = "resource-type")]
    pub resource_type: Option<String>,
    /// Node name (Heartbeat: -H)
    #[arg(short = 'N', long = "node", visible_alias = "host-uname", short_alias = 'H')]
    pub node: Option<String>,
    /// Lifetime of -M/-B constraints (ISO 8601 duration)
    #[arg(short = 'u', long = "lifetime")]
    pub lifetime: Option<String>,
    /// Print the resource's XML (Pacemaker: --query-xml)
    #[arg(short = 'q', long = "query-xml")]
    pub query_xml: bool,
    /// Heartbeat 2.x: print the resource's XML
    #[arg(short = 'x')]
    pub heartbeat_xml: bool,
    #[arg(short = 'Q', long = "quiet")]
    pub quiet: bool,
    /// List all cluster resources with status
    #[arg(short = 'L', long = "list")]
    pub list: bool,
    /// Show node(s) currently running the resource
    #[arg(short = 'W', long = "locate")]
    pub locate: bool,
    /// Clear the resource's failures (and fail counts)
    #[arg(short = 'C', long = "cleanup")]
    pub cleanup: bool,
    /// Delete the resource's history (failures included)
    #[arg(short = 'R', long = "refresh")]
    pub refresh: bool,
    /// List active resource operations, optionally filtered by --resource and/or --node
    #[arg(short = 'O', long = "list-operations")]
    pub list_operations: bool,
    /// List all resource operations, optionally filtered by --resource and/or --node
    #[arg(short = 'o', long = "list-all-operations")]
    pub list_all_operations: bool,
    /// Heartbeat 2.x: reprobe (forget the operation history of -H NODE, or of every node)
    #[arg(short = 'P', long = "reprobe")]
    pub reprobe: bool,
    /// Operation to clear instead of all (with -C -r)
    #[arg(short = 'n', long = "operation")]
    pub operation: Option<String>,
    /// Interval of the operation to clear (with -C -r -n)
    #[arg(short = 'I', long = "interval")]
    pub interval: Option<String>,
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Run the agent's start action here, bypassing the cluster
    #[arg(long = "force-start")]
    pub force_start: bool,
    /// Run the agent's stop action here, bypassing the cluster
    #[arg(long = "force-stop")]
    pub force_stop: bool,
    /// Run the agent's monitor action here, bypassing the cluster
    #[arg(long = "force-check")]
    pub force_check: bool,
    /// Run the agent's promote action here, bypassing the cluster
    #[arg(long = "force-promote")]
    pub force_promote: bool,
    /// Run the agent's demote action here, bypassing the cluster
    #[arg(long = "force-demote")]
    pub force_demote: bool,
    /// List the resource classes (standards) this node can run
    #[arg(long = "list-standards")]
    pub list_standards: bool,
    /// List the OCF providers installed here
    #[arg(long = "list-ocf-providers")]
    pub list_ocf_providers: bool,
    /// List the agents of CLASS[:PROVIDER]
    #[arg(long = "list-agents")]
    pub list_agents: Option<String>,
    /// Print the meta-data of CLASS[:PROVIDER]:TYPE
    #[arg(long = "show-metadata")]
    pub show_metadata: Option<String>,
    /// Specify output format as one of: text (default), xml
    #[arg(long = "output-as", value_name = "FORMAT")]
    pub output_as: Option<String>,
    /// Specify file name for output (or "-" for stdout)
    #[arg(long = "output-to", value_name = "DEST")]
    pub output_to: Option<String>,
}

impl Args {
    fn force_action(&self) -> Option<ForceAction> {
        [
            (self.force_start, ForceAction::Start),
            (self.force_stop, ForceAction::Stop),
            (self.force_check, ForceAction::Check),
            (self.force_promote, ForceAction::Promote),
            (self.force_demote, ForceAction::Demote),
        ]
        .into_iter()
        .find_map(|(set, action)| set.then_some(action))
    }
}

/// Where agents live: the standard directories, with `OCF_ROOT` and the
/// node's `HA_CONFDIR/resource.d` honoured so tests and the demo can run
/// the agents the project ships.
fn agent_dirs() -> AgentDirs {
    let mut dirs = AgentDirs::default();
    if let Some(root) = std::env::var_os("OCF_ROOT").filter(|v| !v.is_empty()) {
        dirs.ocf_root = root.into();
    }
    if let Ok(env) = cib::env::HaEnv::from_process() {
        dirs.resource_d = env.confdir.join("resource.d");
    }
    dirs
}

/// lrmd's local-agent outcome as this tool's.
fn from_local(l: lrmd::local::Outcome) -> Outcome {
    Outcome { stdout: l.stdout, stderr: l.stderr, code: l.exit }
}

/// Runs crm_resource with `argv` (program name first). With `--output-as
/// xml` the text outcome is turned into 2.1.5's document ([`xml`]).
pub fn run(argv: &[String], ctx: &Context) -> Outcome {
    let a = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => return usage(e),
    };
    let format = match Format::parse("crm_resource", a.output_as.as_deref(), true) {
        Ok(f) => f,
        Err(o) => return o,
    };
    let dest = match Destination::open("crm_resource", format, a.output_to.as_deref(), true) {
        Ok(d) => d,
        Err(o) => return o,
    };
    // What the command read before it ran (for the XML of `-q`, which
    // shows the resource as configured).
    let before = ctx.cib().and_then(|f| f.load()).ok();
    let mut ops = Vec::new();
    let mut out = execute_collecting(&a, ctx, &mut ops);
    // Every command that reads the CIB unpacks it first, and
    // Pacemaker warns then about a CIB without validation.
    let local_only = a.list_standards || a.list_ocf_providers || a.list_agents.is_some() || a.show_metadata.is_some();
    if !local_only {
        if let Some(cib) = &before {
            out.stderr = format!("{}{}", schema_warning(cib), out.stderr);
        }
    }
    let out = match format {
        Format::Text => out,
        Format::Xml | Format::Json => xml::render(&a, before.as_ref(), out, ops, &crate::output::request(argv)),
    };
    dest.deliver(out)
}

/// Pacemaker's closing line for a failed command.
pub(crate) fn fail(mut o: Outcome, lines: &str, code: ExitCode) -> Outcome {
    o.err(lines);
    o.err(&format!("Error performing operation: {}\n", describe(code)));
    o.exit(code)
}

fn describe(code: ExitCode) -> &'static str {
    match code {
        ExitCode::NoSuch => "No such object",
        ExitCode::Disconnect => "Not connected",
        ExitCode::Exists => "Requested item already exists",
        ExitCode::Multiple => "Multiple items match request",
        _ => code.describe(),
    }
}

pub fn execute(a: &Args, ctx: &Context) -> Outcome {
    execute_collecting(a, ctx, &mut Vec::new())
}

/// Runs the command; `-O`/`-o` also add their `<operation>`s to `ops`.
fn execute_collecting(a: &Args, ctx: &Context, ops: &mut Vec<Element>) -> Outcome {
    let o = Outcome::default();
    if a.list_standards {
        return from_local(lrmd::local::list_standards());
    }
    if a.list_ocf_providers {
        return from_local(lrmd::local::list_ocf_providers(&agent_dirs()));
    }
    if let Some(spec) = &a.list_agents {
        return from_local(lrmd::local::list_agents(spec, &agent_dirs()));
    }
    if let Some(spec) = &a.show_metadata {
        return from_local(lrmd::local::show_metadata(spec, &agent_dirs()));
    }
    if a.list_operations || a.list_all_operations {
        return operations_command(a, ctx, ops);
    }
    if a.list || a.cleanup || a.refresh || a.reprobe || (a.locate && a.resource.is_some()) {
        return status_command(a, ctx);
    }
    let Some(rsc) = a.resource.clone() else {
        let mut o = o;
        o.err("crm_resource: Must supply a resource id with -r\n");
        return o.exit(ExitCode::Usage);
    };
    if a.set_parameter.is_some() && a.value.is_none() {
        let mut o = o;
        o.err("crm_resource: You need to supply a value with the -v option\n");
        return o.exit(ExitCode::Usage);
    }
    let file = match ctx.cib().and_then(|f| f.load().map(|c| (f, c))) {
        Ok(x) => x,
        Err(u) => {
            let (msg, code) = u.report("crm_resource");
            return fail(o, &msg, code);
        }
    };
    let (file, current) = file;
    if a.delete && a.resource_type.is_none() {
        return fail(o, "crm_resource: You need to specify a resource type with -t\n", ExitCode::NoSuch);
    }
    if let Some(action) = a.force_action() {
        // The agent itself reports a missing resource, as Pacemaker's does.
        return match cib::model::Cib::from_element(&current) {
            Ok(model) => from_local(lrmd::local::force_action(&model, &rsc, action, &agent_dirs(), None)),
            Err(e) => fail(o, &format!("crm_resource: {e}\n"), ExitCode::Config),
        };
    }
    if find_resource(&current, &rsc).is_none() {
        return fail(o, &format!("crm_resource: Resource '{rsc}' not found\n"), ExitCode::NoSuch);
    }

    if let Some(name) = &a.set_parameter {
        return params::set(&file, &rsc, name, a.value.as_deref().unwrap_or_default(), a.meta, a.force);
    }
    if let Some(name) = &a.get_parameter {
        return params::get(&current, &rsc, name, a.meta);
    }
    if let Some(name) = &a.delete_parameter {
        return params::delete(&file, &current, &rsc, name, a.meta);
    }
    if a.move_ || a.ban {
        return location::move_or_ban(&file, &current, &rsc, a);
    }
    if a.clear {
        return location::clear(&file, &current, &rsc, a.node.as_deref());
    }
    if a.delete {
        return delete_resource(&file, &rsc, a.resource_type.as_deref());
    }
    if a.query_xml || a.heartbeat_xml {
        return query_xml(&current, &rsc);
    }
    let mut o = o;
    o.err("crm_resource: this command is not supported offline by this implementation\n");
    o.exit(ExitCode::Unimplemented)
}

/// The forms that read the working set or edit the history.
fn status_command(a: &Args, ctx: &Context) -> Outcome {
    let o = Outcome::default();
    let (file, current) = match ctx.cib().and_then(|f| f.load().map(|c| (f, c))) {
        Ok(x) => x,
        Err(u) => {
            let (msg, code) = u.report("crm_resource");
            return fail(o, &msg, code);
        }
    };
    if a.reprobe {
        return cleanup::reprobe(&file, a.node.as_deref());
    }
    let ws = match status::working_set(&current) {
        Ok(ws) => ws,
        Err(e) => return fail(o, &format!("crm_resource: {e}\n"), ExitCode::Config),
    };
    if a.list {
        return status::list(&ws);
    }
    let found = match &a.resource {
        Some(name) => match status::find(&ws, name) {
            Some(r) => Some(r),
            None => return fail(o, &format!("crm_resource: Resource '{name}' not found\n"), ExitCode::NoSuch),
        },
        None => None,
    };
    if a.locate {
        let (r, name) = (found.expect("-W needs -r"), a.resource.as_deref().unwrap_or_default());
        return status::locate(&ws, r, name, a.quiet);
    }
    let forget = if a.refresh { cleanup::Forget::History } else { cleanup::Forget::Failures };
    let interval = match &a.interval {
        Some(i) => match crate::attribute::failcount::parse_interval(i) {
            Some(ms) => ms,
            None => return fail(o, &format!("crm_resource: Invalid interval specification '{i}'\n"), ExitCode::InvalidParam),
        },
        None => 0,
    };
    let op = a.operation.as_deref();
    match found {
        Some(r) => cleanup::resource(&file, &ws, r, a.node.as_deref(), op, interval, forget, a.quiet),
        None => cleanup::all(&file, &ws, a.node.as_deref(), op, interval, forget, a.quiet),
    }
}

/// `-O` / `-o`: the operation history ([`operations`]).
fn operations_command(a: &Args, ctx: &Context, xml: &mut Vec<Element>) -> Outcome {
    let o = Outcome::default();
    let current = match ctx.cib().and_then(|f| f.load()) {
        Ok(c) => c,
        Err(u) => {
            let (msg, code) = u.report("crm_resource");
            return fail(o, &msg, code);
        }
    };
    let model = match cib::model::Cib::from_element(&current) {
        Ok(m) => m,
        Err(e) => return fail(o, &format!("crm_resource: {e}\n"), ExitCode::Config),
    };
    let ws = match status::working_set(&current) {
        Ok(ws) => ws,
        Err(e) => return fail(o, &format!("crm_resource: {e}\n"), ExitCode::Config),
    };
    let which = if a.list_operations { operations::Which::Active } else { operations::Which::All };
    operations::list(&current, &model, &ws, a.resource.as_deref(), a.node.as_deref(), which, xml)
}

/// What Pacemaker says on stderr whenever it unpacks a CIB that turned
/// schema validation off.
fn schema_warning(cib: &Element) -> &'static str {
    if cib.attr("validate-with") == Some("none") {
        "Schema validation of configuration is disabled (enabling is encouraged and prevents common misconfigurations)\n"
    } else {
        ""
    }
}



/// The resource element with this id (primitive, group, clone...).
pub fn find_resource<'a>(cib: &'a Element, id: &str) -> Option<&'a Element> {
    let resources = cib.child("configuration")?.child("resources")?;
    resources.descendants().find(|e| {
        matches!(e.name.as_str(), "primitive" | "group" | "clone" | "master" | "bundle") && e.id() == Some(id)
    })
}

fn delete_resource(file: &crate::cib_file::CibFile, rsc: &str, kind: Option<&str>) -> Outcome {
    let o = Outcome::default();
    let Some(kind) = kind else {
        return fail(o, "crm_resource: You need to specify a resource type with -t\n", ExitCode::NoSuch);
    };
    let result = file.edit(|cib| -> Result<(), ()> {
        if let Some(res) = cib.child_mut("configuration").and_then(|c| c.child_mut("resources")) {
            remove_where(res, &|e| e.name == kind && e.id() == Some(rsc));
        }
        Ok(())
    });
    match result {
        Ok(()) => o,
        Err(WriteError::Invalid(rejected)) => {
            let mut o = o;
            o.err(&rejected_listing(&rejected));
            o.err("crm_resource: Error performing operation: Invalid configuration\n");
            o.exit(ExitCode::Config)
        }
        Err(WriteError::Edit(())) => o.exit(ExitCode::Error),
        Err(WriteError::Unavailable(u)) => {
            let (msg, code) = u.report("crm_resource");
            fail(o, &msg, code)
        }
    }
}

/// Removes every descendant matching `pred` (the first level that matches
/// wins; its own descendants go with it).
pub(crate) fn remove_where(e: &mut Element, pred: &dyn Fn(&Element) -> bool) -> usize {
    let before = e.children.len();
    e.children.retain(|c| !matches!(c, Node::Element(x) if pred(x)));
    let mut n = before - e.children.len();
    for c in e.elements_mut() {
        n += remove_where(c, pred);
    }
    n
}

/// `-q` (and Heartbeat's `-x`): a one-line summary for a primitive, then
/// the resource's XML.
fn query_xml(cib: &Element, rsc: &str) -> Outcome {
    let mut o = Outcome::default();
    let e = find_resource(cib, rsc).expect("checked by the caller");
    let instance = clone_instance(cib, rsc);
    if e.name == "primitive" {
        let agent = match e.attr("provider") {
            Some(p) => format!("{}:{p}:{}", e.attr("class").unwrap_or_default(), e.attr("type").unwrap_or_default()),
            None => format!("{}:{}", e.attr("class").unwrap_or_default(), e.attr("type").unwrap_or_default()),
        };
        let nodes = match &instance {
            Some((_, nodes)) => nodes.clone(),
            None => status::active_nodes(cib, rsc),
        };
        let state = match nodes.as_slice() {
            [] => "Stopped".to_string(),
            [n] => format!("Started {n}"),
            many => format!("Started [ {} ]", many.join(" ")),
        };
        o.out(&format!("{rsc}\t({agent}):\t {state}\n"));
    }
    o.out("Resource XML:\n");
    o.out(&configured_xml(e, instance.as_ref().map(|(n, _)| n.as_str())));
    o
}

/// A primitive configured inside a clone is looked up, as 2.1.5's
/// `pe_find_resource` does, as its first instance: its instance number
/// and the nodes that instance runs on.
pub(crate) fn clone_instance(cib: &Element, rsc: &str) -> Option<(String, Vec<String>)> {
    let ws = status::working_set(cib).ok()?;
    let r = status::find(&ws, rsc)?;
    let res = ws.rsc(r);
    let parent = res.parent?;
    if !res.is_primitive() || ws.rsc(parent).clone_info().is_none() {
        return None;
    }
    let number = res.id.rsplit_once(':')?.1.to_string();
    Some((number, res.running_on.iter().map(|&n| ws.node(n).uname.clone()).collect()))
}

/// The resource's configuration as `-q` prints it: an instance's copy
/// carries its number in a `clone` attribute, as Pacemaker's does.
pub(crate) fn configured_xml(e: &Element, instance: Option<&str>) -> String {
    match instance {
        Some(n) => {
            let mut copy = e.clone();
            copy.set_attr("clone", n);
            copy.to_xml()
        }
        None => e.to_xml(),
    }
}
