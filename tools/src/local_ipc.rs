//! What every daemon's local socket does alike (cib, attrd, pengine,
//! stonithd): bind `$HA_RUNDIR/<daemon>.sock` mode 0600, refusing to
//! steal it from a running daemon, and admit only root or the daemon's
//! own user by the peer credentials the kernel reports.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

use anyhow::{bail, Context as _};

/// Binds `sock` (non-blocking, ready for `tokio::net::UnixListener::from_std`),
/// replacing a stale socket file; another `daemon` answering there is an error.
pub fn bind(sock: &Path, daemon: &str) -> anyhow::Result<UnixListener> {
    if let Some(dir) = sock.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if UnixStream::connect(sock).is_ok() {
        bail!("another {daemon} is listening on {}", sock.display());
    }
    let _ = std::fs::remove_file(sock);
    let l = UnixListener::bind(sock).with_context(|| format!("binding {}", sock.display()))?;
    std::fs::set_permissions(sock, std::fs::Permissions::from_mode(0o600))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// A peer may talk to the daemon when it is root or the daemon's own user.
pub fn check_peer_uid(uid: u32) -> anyhow::Result<()> {
    let me = nix::unistd::geteuid().as_raw();
    if uid != 0 && uid != me {
        bail!("uid {uid} is neither root nor {me}");
    }
    Ok(())
}
