//! `ha-witness-check FILE...`: reads witness logs (lrmd::witness) and
//! proves that no two nodes ran the same resource at once. Prints each
//! overlap and exits 1 if there is one; prints a summary and exits 0 if
//! not; exits 2 on an unreadable log.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use lrmd::witness;

#[derive(Parser)]
#[command(name = "ha-witness-check", about = "Check witness logs: no resource ran on two nodes at once")]
struct Args {
    /// Witness logs (one shared file, or one per node).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut entries = Vec::new();
    for f in &args.files {
        let parsed = std::fs::read_to_string(f).map_err(|e| e.to_string()).and_then(|t| witness::parse(&t).map_err(|e| e.to_string()));
        match parsed {
            Ok(e) => entries.extend(e),
            Err(e) => {
                eprintln!("ha-witness-check: {}: {e}", f.display());
                return ExitCode::from(2);
            }
        }
    }
    let overlaps = witness::overlaps(&entries);
    for o in &overlaps {
        println!("DOUBLE RUN: {o}");
    }
    if overlaps.is_empty() {
        let starts = entries.iter().filter(|e| e.event == witness::Event::Start).count();
        println!("ok: {} events, {starts} starts, no resource ran on two nodes at once", entries.len());
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
