//! `cibadmin`: see `tools::cibadmin` and docs/CIBADMIN.md.

use tools::cibadmin::{run, schema_valid, ProcessIo};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    run(&args, &mut ProcessIo, &schema_valid).into()
}
