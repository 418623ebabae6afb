//! `crm_attribute`: see [`tools::attribute::cli`] and docs/TOOLS.md.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    tools::attribute::cli::run(&args, &tools::cib_file::Context::from_process()).emit()
}
