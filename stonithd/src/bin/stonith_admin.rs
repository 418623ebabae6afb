//! `stonith_admin`: lists fence devices, fences nodes by hand, shows the
//! fencing history (see `stonithd::admin`).

use std::io::Write;

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let socket = match cib::env::HaEnv::from_process() {
        Ok(env) => env.socket(haenv::Daemon::Stonithd),
        Err(e) => {
            eprintln!("stonith_admin: {e}");
            std::process::exit(64);
        }
    };
    let o = stonithd::admin::run(&argv, &socket);
    let _ = std::io::stdout().write_all(o.stdout.as_bytes());
    let _ = std::io::stderr().write_all(o.stderr.as_bytes());
    std::process::exit(o.exit as i32);
}
