//! `hb_standby [all|foreign|local|failback]`: Heartbeat's script over the
//! CRM-based cluster; see tools::hb_switch and docs/TOOLS.md.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    tools::hb_switch::run(tools::hb_switch::Command::Standby, &args, &tools::cib_file::Context::from_process()).emit()
}
