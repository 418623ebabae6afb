//! `crm_failcount`: see [`tools::attribute::failcount`] and docs/TOOLS.md.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    tools::attribute::failcount::run(&args, &tools::cib_file::Context::from_process()).emit()
}
