//! Numbered backups: `cib-N.raw` with `cib-N.raw.sig`, Pacemaker's names.
//!
//! Unlike Pacemaker we do not wrap the counter (it wraps at 100 and keeps
//! the next number in a `cib.last` file); numbers only grow, so the newest
//! backup is simply the highest N found in the directory and no counter
//! file can disagree with the files it counts.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One numbered backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The N of `cib-N.raw`; higher is newer.
    pub seq: u64,
    /// Path of the `.raw` file; its digest is beside it with `.sig` appended.
    pub path: PathBuf,
}

impl Backup {
    pub fn sig_path(&self) -> PathBuf {
        super::sig_path(&self.path)
    }
}

/// The file name of backup `seq`.
pub(crate) fn backup_name(seq: u64) -> String {
    format!("cib-{seq}.raw")
}

/// Parses `cib-N.raw` (and only that: not its `.sig`, not `.raw.bz2`).
fn parse_name(name: &str) -> Option<u64> {
    let n = name.strip_prefix("cib-")?.strip_suffix(".raw")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// All backups in `dir`, newest first.
pub(crate) fn list(dir: &Path) -> io::Result<Vec<Backup>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(seq) = entry.file_name().to_str().and_then(parse_name) {
            out.push(Backup { seq, path: entry.path() });
        }
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.seq));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_name(&backup_name(42)), Some(42));
        assert_eq!(parse_name("cib-7.raw.sig"), None);
        assert_eq!(parse_name("cib-.raw"), None);
        assert_eq!(parse_name("cib-+1.raw"), None);
        assert_eq!(parse_name("cib-1.raw.bz2"), None);
    }
}
