//! crm_node: node name, id, members and quorum (tools::node).

fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    tools::node::run_argv(&argv, &tools::cib_file::Context::from_process()).emit()
}
