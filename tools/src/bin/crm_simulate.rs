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
    /// Display software version and exit
    #[arg(short = '$', long = "version", action = clap::ArgAction::Version)]
    version: (),
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
    let text = std::fs::read_to_string(&path).with_context(|| format!("could not read {path}"))?;
    let doc = Document::parse(&text).map_err(|e| anyhow!("{path}: line {}: {}", e.line, e.message))?;
    let model = Cib::from_document(&doc).map_err(|e| anyhow!("{path}: {e}"))?;
    let now = match &args.set_datetime {
        Some(t) => pengine::iso8601::parse(t)?,
        None => match model.execution_date {
            Some(d) => d,
            None => SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0),
        },
    };
    let ws = pengine::unpack(&model, now);
    if !args.quiet {
        if let Some(t) = &args.set_datetime {
            // Pacemaker echoes the date as given.
            println!("Setting effective cluster time: {t}");
        } else if model.execution_date.is_some() {
            let c = pengine::iso8601::Calendar::of(now);
            println!(
                "Using the original execution date of: {:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
                c.year, c.month, c.monthday, c.hour, c.minute, c.second
            );
        }
        print!("{}", cluster_status(&ws, "Current cluster status", ShowOptions::default()));
        // Pacemaker separates the next section (Transition Summary...)
        // with a blank line; with neither -S nor -R nothing follows.
        if args.simulate || args.run {
            println!();
        }
    }
    if args.save_graph.is_some() || args.save_dotfile.is_some() || args.show_scores {
        eprintln!("crm_simulate: scores and transition graphs are not implemented yet (policy engine stage 1 only)");
    }
    Ok(())
}
