//! crm_simulate: run the policy engine on a CIB and show what it sees and
//! would do.
//!
//! So far the first section is produced: "Current cluster status" (the
//! unpacked working set, printed as Pacemaker 2.1.5 prints it). Later
//! stages add Transition Summary, the graph (-G, -D) and scores (-s).
//! This binary is the only place the wall clock is read: the engine gets
//! `now` from -t, else the CIB's `execution-date`, else the clock.

use std::process::ExitCode as ProcessExit;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use clap::Parser;

use cib::model::Cib;
use cib::Document;
use tools::simulate::{self, Injections};
use tools::status::{cluster_status, ShowOptions};
use tools::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "crm_simulate", version, disable_version_flag = true, about = "Simulate a Pacemaker cluster's response to events")]
struct Args {
    /// Connect to the CIB manager and use the current CIB contents (here:
    /// the file named by CIB_file)
    #[arg(short = 'L', long = "live-check")]
    live_check: bool,
    /// Retrieve XML from the named file
    #[arg(short = 'x', long = "xml-file", value_name = "FILE")]
    xml_file: Option<String>,
    /// Simulate transition's execution and display resulting cluster status
    #[arg(short = 'S', long = "simulate")]
    simulate: bool,
    /// Process the supplied input and show what actions the cluster will take in response
    #[arg(short = 'R', long = "run")]
    run: bool,
    /// Explain a resource's allocation scores: each contribution per node
    /// (ours; Pacemaker has no such option)
    #[arg(long = "explain", value_name = "RSC")]
    explain: Option<String>,
    /// Show allocation scores
    #[arg(short = 's', long = "show-scores")]
    show_scores: bool,
    /// Save the transition graph (XML format) to the named file
    #[arg(short = 'G', long = "save-graph", value_name = "FILE")]
    save_graph: Option<String>,
    /// Save the transition graph (DOT format) to the named file
    #[arg(short = 'D', long = "save-dotfile", value_name = "FILE")]
    save_dotfile: Option<String>,
    /// Display only essential output
    #[arg(short = 'Q', long = "quiet")]
    quiet: bool,
    /// Set date/time (ISO 8601 format, see https://en.wikipedia.org/wiki/ISO_8601)
    #[arg(short = 't', long = "set-datetime", value_name = "DATETIME")]
    set_datetime: Option<String>,
    /// Like --simulate, but also store the results back to the input file
    #[arg(short = 'X', long = "in-place")]
    in_place: bool,
    /// Simulate bringing a node online
    #[arg(short = 'u', long = "node-up", value_name = "NODE")]
    node_up: Vec<String>,
    /// Simulate taking a node offline
    #[arg(short = 'd', long = "node-down", value_name = "NODE")]
    node_down: Vec<String>,
    /// Simulate a node failing
    #[arg(short = 'f', long = "node-fail", value_name = "NODE")]
    node_fail: Vec<String>,
    /// Generate a failure for the cluster to react to in the simulation
    /// (OPSPEC: ${resource}_${task}_${interval_in_ms}@${node}=${rc})
    #[arg(short = 'i', long = "op-inject", value_name = "OPSPEC")]
    op_inject: Vec<String>,
    /// If the specified task occurs during the simulation, have it fail
    /// with return code ${rc} (implies --simulate)
    #[arg(short = 'F', long = "op-fail", value_name = "OPSPEC")]
    op_fail: Vec<String>,
    /// Set to '1' (or 'true') to indicate cluster has quorum
    #[arg(short = 'q', long = "quorum", value_name = "QUORUM")]
    quorum: Option<String>,
    /// Set to '1' (or 'true') to indicate cluster has an active watchdog device
    #[arg(short = 'w', long = "watchdog", value_name = "DEVICE")]
    watchdog: Option<String>,
    /// Simulate granting a ticket
    #[arg(short = 'g', long = "ticket-grant", value_name = "TICKET")]
    ticket_grant: Vec<String>,
    /// Simulate revoking a ticket
    #[arg(short = 'r', long = "ticket-revoke", value_name = "TICKET")]
    ticket_revoke: Vec<String>,
    /// Simulate making a ticket standby
    #[arg(short = 'b', long = "ticket-standby", value_name = "TICKET")]
    ticket_standby: Vec<String>,
    /// Simulate activating a ticket
    #[arg(short = 'e', long = "ticket-activate", value_name = "TICKET")]
    ticket_activate: Vec<String>,
    /// Save the input configuration to the named file
    #[arg(short = 'I', long = "save-input", value_name = "FILE")]
    save_input: Option<String>,
    /// Save the output configuration to the named file
    #[arg(short = 'O', long = "save-output", value_name = "FILE")]
    save_output: Option<String>,
    /// Execute this transition graph (as saved with --save-graph) instead
    /// of computing one (implies --simulate; not in Pacemaker)
    #[arg(long = "execute-graph", value_name = "FILE")]
    execute_graph: Option<String>,
    /// Display software version and exit
    #[arg(short = '$', long = "version", action = clap::ArgAction::Version)]
    version: (),
}

impl Args {
    /// -S, or an option that implies it (-X, -F, --execute-graph).
    fn simulating(&self) -> bool {
        self.simulate || self.in_place || !self.op_fail.is_empty() || self.execute_graph.is_some()
    }

    fn injections(&self) -> Injections {
        Injections {
            quorum: self.quorum.clone(),
            watchdog: self.watchdog.clone(),
            node_up: self.node_up.clone(),
            node_down: self.node_down.clone(),
            node_fail: self.node_fail.clone(),
            ticket_grant: self.ticket_grant.clone(),
            ticket_revoke: self.ticket_revoke.clone(),
            ticket_standby: self.ticket_standby.clone(),
            ticket_activate: self.ticket_activate.clone(),
            op_inject: self.op_inject.clone(),
            op_fail: self.op_fail.clone(),
        }
    }
}

fn main() -> ProcessExit {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { ExitCode::Usage } else { ExitCode::Ok };
            let _ = e.print();
            return ProcessExit::from(code as u8);
        }
    };
    match run(&args) {
        Ok(()) => ProcessExit::from(ExitCode::Ok as u8),
        Err(e) => {
            eprintln!("crm_simulate: {e:#}");
            ProcessExit::from(ExitCode::DataErr as u8)
        }
    }
}

fn run(args: &Args) -> Result<()> {
    let path = match (&args.xml_file, args.live_check) {
        (Some(p), _) => p.clone(),
        (None, true) => std::env::var("CIB_file").map_err(|_| anyhow!("no live cluster connection: set CIB_file"))?,
        (None, false) => std::env::var("CIB_file").map_err(|_| anyhow!("no input: use --xml-file or --live-check"))?,
    };
    // Only injections, saving and simulating read the document again;
    // otherwise the model is read straight from the file as it streams
    // in, the status section never becoming a tree (docs/SCALE.md).
    let needs_doc = args.injections().any() || args.save_input.is_some() || args.execute_graph.is_some() || args.simulating() || args.in_place || args.save_output.is_some();
    let streamed = if needs_doc { None } else { Some(read_model_streaming(&path)?) };
    let (mut doc, mut model) = if let Some(model) = streamed {
        (Document::parse("<cib/>").map_err(|e| anyhow!("{}", e.message))?, Some(model))
    } else {
        let text = tools::cib_file::read_xml_input(&path).with_context(|| format!("could not read {path}"))?;
        let mut doc = Document::parse(&text).map_err(|e| anyhow!("{path}: line {}: {}", e.line, e.message))?;
        // Large CIBs: the text, the document, the model and the working
        // set would otherwise all be alive at the peak.
        drop(text);
        // The simulation works on a copy with a status section.
        simulate::ensure_status(&mut doc);
        let model = Cib::from_document(&doc).map_err(|e| anyhow!("{path}: {e}"))?;
        (doc, Some(model))
    };
    let model_ref = model.as_ref().expect("just built");
    let now = match &args.set_datetime {
        Some(t) => pengine::iso8601::parse(t)?,
        None => match model_ref.execution_date {
            Some(d) => d,
            None => SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0),
        },
    };
    let execution_date = model_ref.execution_date;
    let mut ws = pengine::unpack(model_ref, now);
    if !args.quiet {
        if let Some(t) = &args.set_datetime {
            // Pacemaker echoes the date as given.
            println!("Setting effective cluster time: {t}");
        } else if execution_date.is_some() {
            let c = pengine::iso8601::Calendar::of(now);
            println!(
                "Using the original execution date of: {:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
                c.year, c.month, c.monthday, c.hour, c.minute, c.second
            );
        }
        print!("{}", cluster_status(&ws, "Current cluster status", ShowOptions::default()));
    }
    let inj = args.injections();
    if inj.any() {
        let stage = simulate::inject_stage(&mut doc, &ws, &inj, args.set_datetime.as_deref(), args.quiet);
        if !args.quiet {
            println!();
            print!("{}", stage.text);
        }
        for e in stage.errors {
            eprintln!("{e}");
        }
        if let Some(e) = stage.fatal {
            return Err(e.into());
        }
        ws = simulate::unpack(&doc, now)?;
        // The document changed: the scheduler reads it again below.
        model = None;
    }
    if let Some(file) = &args.save_input {
        std::fs::write(file, doc.to_xml()).with_context(|| format!("could not write {file}"))?;
    }
    // Pacemaker separates the next section (Transition Summary...)
    // with a blank line; with neither -S nor -R nothing follows.
    if !args.quiet && (args.simulating() || args.run) {
        println!();
    }
    if let Some(file) = &args.execute_graph {
        let text = std::fs::read_to_string(file).with_context(|| format!("could not read {file}"))?;
        let graph = tengine::TransitionGraph::from_xml(&text).map_err(|e| anyhow!("{file}: {e}"))?;
        execute_transition(args, &mut doc, &graph, &ws, &inj, false)?;
    }
    // The scheduler: allocation scores (-s), Transition Summary (-S, -R).
    // -S without --execute-graph executes the graph the scheduler
    // computes, through execute_transition(.., spacer: true) after the
    // Transition Summary.
    // Pacemaker schedules only when asked to (-S, -R, -s, -G, -D).
    let process = args.simulating() || args.run || args.show_scores || args.explain.is_some() || args.save_graph.is_some() || args.save_dotfile.is_some();
    if args.execute_graph.is_none() && process {
        let scheduled_model = match model.take() {
            Some(m) => m,
            None => Cib::from_document(&doc).map_err(|e| anyhow!("{path}: {e}"))?,
        };
        // Only executing the graph (-S) needs the unpacked state again;
        // otherwise the scheduler takes it rather than a copy.
        let (input, kept) = if args.simulating() { (ws.clone(), Some(ws)) } else { (ws, None) };
        let schedule = if args.explain.is_some() { pengine::schedule_explained(&scheduled_model, input) } else { pengine::schedule(&scheduled_model, input) };
        print_schedule(args, &schedule);
        if let Some(rsc) = &args.explain {
            let lines = pengine::explain(&schedule, rsc).ok_or_else(|| anyhow!("no such resource: {rsc}"))?;
            for line in lines {
                println!("{line}");
            }
            println!();
        }
        let graph = schedule.transition_graph(&scheduled_model);
        if let Some(file) = &args.save_graph {
            std::fs::write(file, graph.to_xml()).with_context(|| format!("could not write {file}"))?;
        }
        if let Some(file) = &args.save_dotfile {
            std::fs::write(file, schedule.to_dot()).with_context(|| format!("could not write {file}"))?;
        }
        if let Some(ws) = &kept {
            execute_transition(args, &mut doc, &graph, ws, &inj, true)?;
        }
        // The process ends right after: freeing millions of small
        // allocations one by one took ~10 % of a large run, and the
        // operating system takes the memory back at once (docs/SCALE.md).
        std::mem::forget((schedule, graph, scheduled_model, kept));
    }
    let output = if args.in_place { Some(&path) } else { args.save_output.as_ref() };
    if let Some(file) = output {
        std::fs::write(file, doc.to_xml()).with_context(|| format!("could not write {file}"))?;
    }
    Ok(())
}

/// The model read as the file streams in. A file that does not parse is
/// read again whole, so the error names its line exactly as it would
/// otherwise (a stream's error names the line reached).
fn read_model_streaming(path: &str) -> Result<Cib> {
    let source = tools::cib_file::open_xml_input(path).with_context(|| format!("could not read {path}"))?;
    match Cib::from_reader(source) {
        Ok(model) => Ok(model),
        Err(cib::model::FromTextError::Model(e)) => Err(anyhow!("{path}: {e}")),
        Err(cib::model::FromTextError::Parse(_)) => {
            let text = tools::cib_file::read_xml_input(path).with_context(|| format!("could not read {path}"))?;
            Cib::from_text(&text).map_err(|e| anyhow!("{path}: {e}"))
        }
    }
}

/// Prints what the scheduler decided: `-s` score lines (even with -Q,
/// as Pacemaker does, followed by a blank line) and the Transition
/// Summary (with -S or -R, unless -Q).
fn print_schedule(args: &Args, schedule: &pengine::Schedule) {
    if args.show_scores {
        for line in &schedule.scores {
            println!("{line}");
        }
        println!();
    }
    if !args.quiet && (args.simulating() || args.run) {
        println!("Transition Summary:");
        for line in schedule.summary_lines() {
            println!("{line}");
        }
    }
}

/// Runs a transition against the simulated CIB and prints "Executing
/// Cluster Transition" and "Revised Cluster Status" (after a blank line
/// when `spacer`). A transition that cannot finish is an error, as
/// Pacemaker reports an invalid transition.
fn execute_transition(args: &Args, doc: &mut Document, graph: &tengine::TransitionGraph, ws: &pengine::WorkingSet, inj: &Injections, spacer: bool) -> Result<()> {
    let sim = simulate::run(doc, graph, ws, inj, args.set_datetime.as_deref(), args.quiet)?;
    if !args.quiet {
        if spacer {
            println!();
        }
        print!("{}", sim.text);
    }
    for e in &sim.executed.errors {
        eprintln!("{e}");
    }
    if sim.executed.invalid() {
        return Err(anyhow!("An invalid transition was produced"));
    }
    Ok(())
}
