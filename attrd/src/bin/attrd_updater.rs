//! `attrd_updater`: query and update node attributes through the local attrd.

fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let socket = match cib::env::HaEnv::from_process() {
        Ok(env) => env.socket(haenv::Daemon::Attrd),
        Err(e) => {
            eprintln!("attrd_updater: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    attrd::updater::run(&argv, &socket).emit()
}
