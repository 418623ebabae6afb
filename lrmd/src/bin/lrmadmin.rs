//! `lrmadmin`: talk to lrmd, in the spirit of Heartbeat's lrmadmin.
//!
//! ```text
//! lrmadmin -A RSC CLASS TYPE PROVIDER|NULL [NAME=VALUE...]   add a resource
//! lrmadmin -D RSC                                            delete it
//! lrmadmin -E RSC ACTION TIMEOUT_MS INTERVAL_MS [NAME=VALUE...]
//!          run an operation; a one-shot waits for its result and exits
//!          with its OCF rc; a recurring one prints its call id
//! lrmadmin -c RSC ACTION INTERVAL_MS                         cancel
//! lrmadmin -L                                                list resources
//! lrmadmin -I RSC                                            history
//! lrmadmin -W SECONDS                                        print events
//! lrmadmin -C                                                list classes
//! ```

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{ArgGroup, Parser};
use cib::env::{Daemon, HaEnv};
use lrmd::client::Client;
use lrmd::op::{OpRecord, OpRequest};
use lrmd::resource::{AgentClass, ResourceSpec};

#[derive(Parser, Debug)]
#[command(name = "lrmadmin", about = "Query and drive the local resource manager")]
#[command(group(ArgGroup::new("cmd").required(true).args(["add", "delete", "exec", "cancel", "list", "info", "watch", "classes"])))]
struct Args {
    /// lrmd's socket [default: $HA_RUNDIR/lrmd.sock]
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Add a resource: RSC CLASS TYPE PROVIDER|NULL [NAME=VALUE...]
    #[arg(short = 'A', long = "add", num_args = 4.., value_name = "ARG")]
    add: Option<Vec<String>>,
    /// Delete a resource
    #[arg(short = 'D', long = "delete", value_name = "RSC")]
    delete: Option<String>,
    /// Run an operation: RSC ACTION TIMEOUT_MS INTERVAL_MS [NAME=VALUE...]
    #[arg(short = 'E', long = "exec", num_args = 4.., value_name = "ARG")]
    exec: Option<Vec<String>>,
    /// Cancel an operation: RSC ACTION INTERVAL_MS
    #[arg(short = 'c', long = "cancel", num_args = 3, value_name = "ARG")]
    cancel: Option<Vec<String>>,
    /// List the resources
    #[arg(short = 'L', long = "list")]
    list: bool,
    /// Show a resource's operation history
    #[arg(short = 'I', long = "information", value_name = "RSC")]
    info: Option<String>,
    /// Print operation events for SECONDS
    #[arg(short = 'W', long = "watch", value_name = "SECONDS")]
    watch: Option<u64>,
    /// List the supported classes
    #[arg(short = 'C', long = "classes")]
    classes: bool,
}

fn params(args: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    args.iter()
        .map(|a| a.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).with_context(|| format!("{a:?} is not NAME=VALUE")))
        .collect()
}

fn print_record(r: &OpRecord) {
    println!(
        "{} call-id={} rc={} ({}) op-status={} ({}) interval={} exec-time={}ms queue-time={}ms{}",
        r.key,
        r.call_id,
        r.rc,
        lrmd::op::rc::describe(r.rc),
        r.status.code(),
        r.status,
        r.interval_ms,
        r.exec_ms,
        r.queue_ms,
        r.exit_reason.as_deref().map(|e| format!(" exit-reason=\"{e}\"")).unwrap_or_default()
    );
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.classes {
        for c in AgentClass::ALL {
            println!("{c}");
        }
        return Ok(());
    }
    let socket = match args.socket {
        Some(s) => s,
        None => HaEnv::from_process()?.socket(Daemon::Lrmd),
    };
    let mut client = Client::connect(&socket)?;
    if let Some(a) = args.add {
        let provider = Some(a[3].as_str()).filter(|p| *p != "NULL");
        let mut spec = ResourceSpec::new(&a[0], a[1].parse()?, provider, &a[2]);
        spec.params.extend(params(&a[4..])?);
        client.register(spec)?;
    } else if let Some(rsc) = args.delete {
        client.unregister(&rsc)?;
    } else if let Some(a) = args.exec {
        let timeout: u64 = a[2].parse().context("TIMEOUT_MS")?;
        let interval: u64 = a[3].parse().context("INTERVAL_MS")?;
        let mut op = OpRequest::new(&a[0], &a[1], interval, timeout);
        op.params.extend(params(&a[4..])?);
        if interval > 0 {
            println!("call-id={}", client.exec(op)?);
        } else {
            let wait = Duration::from_millis(timeout.max(1) + 10_000);
            let r = client.exec_wait(op, wait)?;
            print_record(&r);
            if !r.output.is_empty() {
                print!("{}", r.output);
            }
            std::process::exit(r.rc.clamp(0, 255));
        }
    } else if let Some(a) = args.cancel {
        client.cancel(&a[0], &a[1], a[2].parse().context("INTERVAL_MS")?)?;
    } else if args.list {
        for r in client.resources()? {
            println!("{}\t{}", r.id, r.standard_name());
        }
    } else if let Some(rsc) = args.info {
        let (records, recurring) = client.history(&rsc)?;
        for r in &records {
            print_record(r);
        }
        for op in recurring {
            println!("recurring {} every {}ms", op.key(), op.interval_ms);
        }
    } else if let Some(secs) = args.watch {
        client.subscribe()?;
        let end = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let left = end.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            if let Some(r) = client.next_event(left)? {
                print_record(&r);
            }
        }
    } else {
        bail!("no command");
    }
    Ok(())
}
