//! `crm_resource`: the CIB-editing forms, see [`tools::resource_edit`]
//! and docs/TOOLS.md.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    tools::resource_edit::run(&args, &tools::cib_file::Context::from_process()).emit()
}
