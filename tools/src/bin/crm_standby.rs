//! `crm_standby`: see [`tools::attribute::standby`] and docs/TOOLS.md.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    tools::attribute::standby::run(&args, &tools::cib_file::Context::from_process()).emit()
}
