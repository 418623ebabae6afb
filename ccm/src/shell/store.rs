//! The persisted promise: the highest instance this node acked or
//! proposed (`Command::Persist`), in `$HA_VARLIB/ccm_instance`.
//!
//! Written to a temporary file, fsynced, renamed over the old one, and the
//! directory fsynced, so after a crash the file holds either the old or the
//! new value, never a torn one, and a promise the core made before sending
//! an ack is on disk before the ack leaves.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The instance file of one node.
#[derive(Debug, Clone)]
pub struct InstanceStore {
    path: PathBuf,
}

impl InstanceStore {
    /// The store in `varlib` (`ccm_instance`).
    pub fn new(varlib: &Path) -> InstanceStore {
        InstanceStore { path: varlib.join("ccm_instance") }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The persisted instance; 0 when the file does not exist (first
    /// start). A file that exists but does not hold a number is an error:
    /// starting from 0 could ack an instance promised before.
    pub fn load(&self) -> std::io::Result<u64> {
        match fs::read_to_string(&self.path) {
            Ok(s) => s.trim().parse().map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} does not hold an instance number: {:?}", self.path.display(), s.trim()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Stores `instance` durably.
    pub fn save(&self, instance: u64) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let tmp = self.path.with_extension("tmp");
        {
            let mut f = File::create(&tmp)?;
            writeln!(f, "{instance}")?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        File::open(dir)?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let s = InstanceStore::new(&dir.path().join("var"));
        assert_eq!(s.load().unwrap(), 0);
        s.save(7).unwrap();
        s.save(9).unwrap();
        assert_eq!(s.load().unwrap(), 9);
        assert!(!s.path().with_extension("tmp").exists());
        fs::write(s.path(), "garbage").unwrap();
        assert!(s.load().is_err());
    }
}
