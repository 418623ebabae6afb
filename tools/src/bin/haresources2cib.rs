//! haresources2cib: a Heartbeat 1.x haresources file into a CIB
//! (tools::haresources2cib has the mapping).

use clap::Parser;
use tools::haresources2cib::cli::{normalize_dashes, run, Args, Dirs};

fn main() -> std::process::ExitCode {
    let args = Args::parse_from(normalize_dashes(std::env::args()));
    let dirs = match cib::env::HaEnv::from_process() {
        Ok(env) => Dirs { confdir: env.confdir, varlib: env.varlib, lsb_dir: "/etc/init.d".into() },
        Err(e) => {
            eprintln!("haresources2cib: {e}");
            return std::process::ExitCode::from(tools::ExitCode::InvalidParam.code());
        }
    };
    run(&args, &dirs).emit()
}
