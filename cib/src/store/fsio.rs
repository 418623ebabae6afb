//! File-system primitives the store is built from: durable writes,
//! directory syncs, and `flock(2)` locks.
//!
//! Nothing here cleans up in `Drop`: a failed or interrupted write leaves
//! its temporary file behind exactly as a crash would, and the next writer
//! (holding the lock) removes it. That keeps the crash path and the error
//! path the same path, which is the one the tests exercise.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// Writes `bytes` to `path` (created with `mode` minus the umask, or
/// truncated) and waits until they are on stable storage.
pub(crate) fn write_synced(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Makes renames, links and unlinks inside `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Removes a file; a file that is already gone is fine.
pub(crate) fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A held `flock(2)` lock; released when dropped (or when the process
/// dies, which is why flock and not a lock file's mere existence).
#[derive(Debug)]
pub(crate) struct Lock {
    _flock: Flock<File>,
}

fn flock(file: File, exclusive: bool) -> io::Result<Lock> {
    let arg = if exclusive { FlockArg::LockExclusive } else { FlockArg::LockShared };
    let mut file = file;
    loop {
        match Flock::lock(file, arg) {
            Ok(l) => return Ok(Lock { _flock: l }),
            Err((f, Errno::EINTR)) => file = f,
            Err((_, e)) => return Err(io::Error::from(e)),
        }
    }
}

/// Locks a dedicated lock file, creating it if needed. A reader without
/// write access to the directory can still lock an existing lock file
/// read-only; `Ok(None)` means there is no lock file and none can be made,
/// so no writer has ever run there.
pub(crate) fn lock_file(path: &Path, exclusive: bool) -> io::Result<Option<Lock>> {
    // Never truncate: the lock file is empty, and others may hold it open.
    let file = match OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(path) {
        Ok(f) => f,
        Err(e) if !exclusive && e.kind() == io::ErrorKind::PermissionDenied => match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        },
        Err(e) => return Err(e),
    };
    flock(file, exclusive).map(Some)
}

/// Locks the file at `path` itself. Writers replace the file by renaming
/// a new one over it, so after the lock is granted we check that `path`
/// still names the inode we locked; if not, someone replaced it while we
/// waited, and we lock the new one instead. `Ok(None)`: no such file.
pub(crate) fn lock_inode(path: &Path, exclusive: bool) -> io::Result<Option<Lock>> {
    loop {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let locked = file.metadata()?;
        let lock = flock(file, exclusive)?;
        match fs::metadata(path) {
            Ok(now) if now.dev() == locked.dev() && now.ino() == locked.ino() => return Ok(Some(lock)),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
    }
}
