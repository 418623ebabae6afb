//! `ha-witness`: appends one event to a witness log (lrmd::witness), with
//! this node's name and a CLOCK_MONOTONIC stamp. The project's agents call
//! it when their `witness` parameter is set:
//!
//! ```text
//! ha-witness --file /lab/witness.log start web      # before starting
//! ha-witness --file /lab/witness.log stop web       # after stopping
//! ha-witness --file /lab/witness.log --node n2 fenced -
//! ```

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Parser;
use lrmd::witness::{self, Entry, Event};

#[derive(Parser)]
#[command(name = "ha-witness", about = "Append a start/stop/fenced event to a witness log")]
struct Args {
    /// The witness log (created if missing; appended to).
    #[arg(long)]
    file: PathBuf,
    /// The node the event is about [default: $HA_NODENAME, else the host name].
    #[arg(long)]
    node: Option<String>,
    /// start, stop or fenced.
    event: String,
    /// The resource (`-` for fenced).
    rsc: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let Some(event) = Event::parse(&args.event) else { bail!("unknown event {:?} (start, stop, fenced)", args.event) };
    let node = match args.node.or_else(|| std::env::var("HA_NODENAME").ok().filter(|n| !n.is_empty())) {
        Some(n) => n,
        None => nix::unistd::gethostname()?.to_string_lossy().into_owned(),
    };
    if node.contains(char::is_whitespace) || args.rsc.contains(char::is_whitespace) || args.rsc.is_empty() {
        bail!("node and resource names must be non-empty words");
    }
    let entry = Entry { mono_ns: witness::mono_ns(), node, event, rsc: args.rsc };
    witness::append(&args.file, &entry).with_context(|| format!("appending to {}", args.file.display()))
}
