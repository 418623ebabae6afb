//! crm_mon: the cluster's status, once (`-1`), refreshing, as XML or as
//! an HTML page; see tools::monitor and docs/CRM_MON.md.


use clap::Parser;
use tools::monitor::cli::{run, Args};
use tools::ExitCode;

fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let args = match Args::try_parse_from(&argv) {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { ExitCode::Usage } else { ExitCode::Ok };
            let _ = e.print();
            return std::process::ExitCode::from(code.code());
        }
    };
    // Pacemaker echoes the command line in the XML's `request`, argv[0]
    // as invoked (`crm_mon` from PATH, `/usr/sbin/crm_mon` by path).
    std::process::ExitCode::from(run(&args, &argv.join(" ")))
}
