//! `ccm_tool`: prints this node's membership, from the ccm daemon's view
//! socket (`$HA_RUNDIR/ccm.sock`).
//!
//! | option | prints |
//! | --- | --- |
//! | (none) | `instance 7: n1 n2 n3 (quorum, leader n1)` |
//! | `-p` | the members, space-separated (Heartbeat's `ccm_tool -p`) |
//! | `-q` | `1` with quorum, `0` without (Heartbeat's `ccm_tool -q`) |
//! | `-i` | the instance |
//!
//! Exit codes: 0 a view was printed; 1 ccm runs but has no view yet
//! (prints `no view`); 2 ccm cannot be reached.

use std::time::Duration;

use clap::Parser;
use haenv::{Daemon, HaEnv};

#[derive(Parser, Debug)]
#[command(name = "ccm_tool", about = "Print the cluster membership as ccm sees it")]
struct Args {
    /// Print the members of this node's partition.
    #[arg(short = 'p', conflicts_with_all = ["quorum", "instance"])]
    partition: bool,
    /// Print 1 if the partition has quorum, else 0.
    #[arg(short = 'q', conflicts_with = "instance")]
    quorum: bool,
    /// Print the membership instance.
    #[arg(short = 'i')]
    instance: bool,
}

fn main() {
    let args = Args::parse();
    let env = match HaEnv::from_process() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("ccm_tool: {e}");
            std::process::exit(2);
        }
    };
    let view = match ccm::client::current(&env.socket(Daemon::Ccm), Duration::from_secs(5)) {
        Ok((_, v)) => v,
        Err(e) => {
            eprintln!("ccm_tool: {e}");
            std::process::exit(2);
        }
    };
    let Some(v) = view else {
        println!("no view");
        std::process::exit(1);
    };
    if args.partition {
        println!("{}", v.members.iter().map(String::as_str).collect::<Vec<_>>().join(" "));
    } else if args.quorum {
        println!("{}", u8::from(v.quorum));
    } else if args.instance {
        println!("{}", v.instance);
    } else {
        println!("{v}");
    }
}
