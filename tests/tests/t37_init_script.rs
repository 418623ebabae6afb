//! packaging/: the init script drives heartbeat as `service heartbeat
//! start|stop|status` does in the seeds (in a lab node, so "nothing left
//! behind" is checked on the node's own PID namespace), and install.sh
//! lays the files out where the init script and the systemd unit look.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;

use tests::lab::{LabGuard, LabSpec, Media};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn bin_dir() -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let ok = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "transport", "--bin", "heartbeat", "--bin", "cl_status"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build")
            .success();
        assert!(ok, "cargo build of heartbeat failed");
        assert!(nix::unistd::Uid::effective().is_root(), "the lab tests need root (namespaces, nftables)");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_ha-lab")).parent().unwrap().to_path_buf()
}

/// Runs the init script with `action` inside the node, heartbeat taken
/// from the build.
fn service(lab: &LabGuard, action: &str) -> Output {
    let script = repo().join("packaging/init.d/heartbeat");
    let heartbeat = bin_dir().join("heartbeat");
    let mut cmd = lab.command("n1", "sh", &[script.to_str().unwrap(), action]).unwrap();
    cmd.env("HEARTBEAT", &heartbeat);
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn the_init_script_starts_reports_and_stops_heartbeat() {
    let tmp = tempfile::Builder::new().prefix("ha-lab-").tempdir_in("/tmp").unwrap();
    let name = format!("i{}", std::process::id() % 1_000_000);
    let mut spec = LabSpec::new(&name, tmp.path(), 2, 1, &bin_dir());
    spec.media = Media::Ucast;
    let mut lab = LabGuard::create(spec).expect("create the lab");
    lab.boot("n1").unwrap();

    let o = service(&lab, "status");
    assert_eq!(o.status.code(), Some(3), "stopped: LSB 3\n{}", text(&o));
    assert!(text(&o).contains("heartbeat is stopped"), "{}", text(&o));

    let o = service(&lab, "start");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Starting High-Availability services: Done."), "{}", text(&o));
    let o = service(&lab, "status");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("is running on n1"), "{}", text(&o));
    let o = lab.exec("n1", "cl_status", &["hbstatus"]).unwrap();
    assert!(o.status.success(), "cl_status hbstatus: {}", text(&o));
    // Starting twice is not an error, and starts nothing more.
    let o = service(&lab, "start");
    assert!(o.status.success() && text(&o).contains("already running"), "{}", text(&o));

    let o = service(&lab, "restart");
    assert!(o.status.success(), "{}", text(&o));
    let o = service(&lab, "stop");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Stopping High-Availability services: Done."), "{}", text(&o));
    let o = lab.exec("n1", "ps", &["-eo", "pid=,comm="]).unwrap();
    let left: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("1 ") && !l.ends_with(" ps"))
        .map(str::to_owned)
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let o = service(&lab, "status");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    // Stopping what is stopped is not an error (LSB).
    assert!(service(&lab, "stop").status.success());
    let o = service(&lab, "frobnicate");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn install_lays_out_what_the_init_script_and_the_unit_name() {
    let bins = bin_dir();
    // install.sh wants every binary it installs: build the rest (debug).
    let ok = Command::new(env!("CARGO"))
        .args(["build", "-q", "--workspace", "--bins"])
        .current_dir(repo())
        .status()
        .unwrap()
        .success();
    assert!(ok, "cargo build --bins failed");
    let dest = tempfile::tempdir().unwrap();
    let o = Command::new("sh")
        .arg(repo().join("packaging/install.sh"))
        .env("DESTDIR", dest.path())
        .env("BIN", &bins)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let d = dest.path();
    for f in [
        "usr/lib/heartbeat-rs/heartbeat",
        "usr/lib/heartbeat-rs/crmd",
        "usr/lib/heartbeat-rs/stonithd",
        "usr/sbin/crm_mon",
        "usr/sbin/cl_status",
        "usr/lib/ocf/resource.d/heartbeat-rs/Dummy",
        "etc/init.d/heartbeat",
        "lib/systemd/system/heartbeat.service",
    ] {
        assert!(d.join(f).exists(), "{f} not installed");
    }
    // The unit and the init script start the heartbeat install.sh put in place.
    let unit = std::fs::read_to_string(d.join("lib/systemd/system/heartbeat.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/lib/heartbeat-rs/heartbeat\n"), "{unit}");
    assert!(unit.contains("ExecStop=/usr/lib/heartbeat-rs/heartbeat -k\n"), "{unit}");
    let init = std::fs::read_to_string(d.join("etc/init.d/heartbeat")).unwrap();
    assert!(init.contains("HEARTBEAT=${HEARTBEAT:-/usr/lib/heartbeat-rs/heartbeat}"));
}
