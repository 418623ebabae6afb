//! crm_verify: check a CIB (tools::verify).

fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    tools::verify::cli::run_argv(&argv, &tools::cib_file::Context::from_process(), &mut std::io::stdin(), now).emit()
}
