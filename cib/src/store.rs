//! The durable CIB store: `cib.xml` on disk with its digest, its previous
//! version, numbered backups, and a lock so concurrent writers never lose
//! an update. docs/STORE.md describes the on-disk layout.
//!
//! # Layout
//!
//! ```text
//!  $HA_VARLIB/crm/            (CibStore::open)       any file (CibStore::plain_file,
//!    cib.xml + cib.xml.sig    the live CIB            for CIB_file: no sig,
//!    cib.xml.last + .sig      the version before      no backups, same atomic
//!    cib-N.raw + .sig         numbered backups        write and lock)
//!    cib.xml.lock             flock(2) target
//!
//!  load()      -> verify digest -> Document (+ warnings)
//!  update(f)   -> lock -> load -> f(&mut doc) -> Ok: write / Err: nothing touched
//!  save(doc)   -> lock -> verify the current file -> write
//! ```
//!
//! - [`digest`]: the `.sig` content (Pacemaker's on-disk MD5).
//! - [`backup`]: numbered backup names and listing.
//! - `fsio`: durable writes, directory syncs, locks.
//!
//! A write never modifies a file in place: the new content goes to a
//! temporary file in the same directory, is fsynced, and is renamed over
//! the old one; then the directory is fsynced. A reader (or a node that
//! crashed mid-write) sees either the old or the new version, never a mix.

mod backup;
pub mod digest;
mod error;
mod fsio;

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub use backup::Backup;
pub use digest::on_disk_digest;
pub use error::{StoreError, UpdateError};

use crate::xml::Document;
use fsio::Lock;

/// Name of the live CIB inside the store directory.
pub const CIB_XML: &str = "cib.xml";
/// Name of the previous version (Heartbeat 2.x).
pub const CIB_XML_LAST: &str = "cib.xml.last";
/// Name of the lock file writers and readers `flock`.
pub const LOCK_FILE: &str = "cib.xml.lock";
/// Numbered backups kept unless configured otherwise.
pub const DEFAULT_KEEP_BACKUPS: usize = 10;

/// Temporary names used while the exclusive lock is held. They are fixed,
/// not random, so a writer that died leaves at most these behind and the
/// next writer removes them before starting.
const TMP_CIB: &str = "cib.xml.tmp";
const TMP_SIG: &str = "cib.xml.sig.tmp";
const TMP_LAST: &str = "cib.xml.last.tmp";
const TMP_LAST_SIG: &str = "cib.xml.last.sig.tmp";

/// Permissions of files the live store creates: the CIB can hold
/// passwords (stonith device parameters), so only the owner reads it, as
/// Pacemaker does.
const LIVE_MODE: u32 = 0o600;

/// `<file>.sig`
pub fn sig_path(file: &Path) -> PathBuf {
    let mut s = OsString::from(file.as_os_str());
    s.push(".sig");
    PathBuf::from(s)
}

/// A CIB on disk, either a node's live store or a plain file.
#[derive(Debug, Clone)]
pub struct CibStore {
    /// The CIB file: `<dir>/cib.xml`, or the plain file as given.
    path: PathBuf,
    kind: Kind,
    /// Test-only fault injection; see [`CrashPoint`].
    crash_at: Option<CrashPoint>,
    /// Start written files with `<?xml version="1.0"?>`. Pacemaker's tools
    /// write a `CIB_file` without one; see [`CibStore::without_declaration`].
    declaration: bool,
}

#[derive(Debug, Clone)]
enum Kind {
    /// `$HA_VARLIB/crm`: digests, `.last`, numbered backups, lock file.
    Live { dir: PathBuf, keep_backups: usize },
    /// `CIB_file`: the file alone, as Pacemaker's tools treat it.
    Plain,
}

/// Something the operator should hear about that did not stop the load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// `cib.xml` has no `.sig`: the documented way to edit it by hand is to
    /// stop the cluster, delete the sig, and edit; so this is accepted.
    Unsigned { path: PathBuf },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Unsigned { path } => write!(
                f,
                "{} has no digest ({} is missing): accepting it as edited by hand while the cluster was stopped",
                path.display(),
                sig_path(path).display()
            ),
        }
    }
}

/// A CIB read from disk.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub doc: Document,
    pub warnings: Vec<Warning>,
}

/// What a committed `save` or `update` did.
#[derive(Debug, Clone)]
pub struct Committed<T> {
    /// What the update closure returned (`()` for `save`).
    pub value: T,
    /// False when the update left the document unchanged, in which case
    /// nothing on disk was touched.
    pub written: bool,
    /// The digest now in `cib.xml.sig` (live store, when written).
    pub digest: Option<String>,
    /// The numbered backup that now holds the previous version.
    pub backup: Option<PathBuf>,
    /// Warnings from reading the previous version.
    pub warnings: Vec<Warning>,
}

/// Test-only: where a write stops as if the process had died.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// New content and digest are in temporary files; nothing else moved.
    AfterTempWrite,
    /// The previous version has been archived (`.last`, `cib-N.raw`).
    AfterArchive,
    /// The old `cib.xml.sig` is gone; `cib.xml` is still the old version.
    AfterOldSigRemoved,
    /// `cib.xml` is the new version; its `.sig` is not in place yet.
    AfterDataRename,
}

/// The current file as read under the lock.
struct Current {
    doc: Document,
    /// Digest of `doc`, to sign the archived copies with.
    digest: String,
    warnings: Vec<Warning>,
}

impl CibStore {
    /// Opens (creating if needed) a live store directory, normally
    /// `$HA_VARLIB/crm`, keeping [`DEFAULT_KEEP_BACKUPS`] backups.
    pub fn open(dir: impl Into<PathBuf>) -> Result<CibStore, StoreError> {
        CibStore::open_keeping(dir, DEFAULT_KEEP_BACKUPS)
    }

    /// Like [`CibStore::open`], keeping the newest `keep_backups` numbered
    /// backups (0: make none).
    pub fn open_keeping(dir: impl Into<PathBuf>, keep_backups: usize) -> Result<CibStore, StoreError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(StoreError::io("create directory", &dir))?;
        Ok(CibStore { path: dir.join(CIB_XML), kind: Kind::Live { dir, keep_backups }, crash_at: None, declaration: true })
    }

    /// A plain file, for tools run with `CIB_file`: no digest, no backups,
    /// but the same atomic replacement and locking.
    pub fn plain_file(path: impl Into<PathBuf>) -> CibStore {
        CibStore { path: path.into(), kind: Kind::Plain, crash_at: None, declaration: true }
    }

    /// Writes files without an XML declaration, byte for byte as
    /// Pacemaker's tools write a `CIB_file` (cibadmin uses this).
    pub fn without_declaration(mut self) -> CibStore {
        self.declaration = false;
        self
    }

    /// The bytes written for `doc`.
    fn serialize(&self, doc: &Document) -> String {
        match self.declaration {
            true => doc.to_file_string(),
            false => doc.to_xml(),
        }
    }

    #[doc(hidden)]
    pub fn crash_at(mut self, point: CrashPoint) -> CibStore {
        self.crash_at = Some(point);
        self
    }

    /// The CIB file this store reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and verifies the CIB. `Ok(None)` when there is none yet.
    pub fn load(&self) -> Result<Option<Loaded>, StoreError> {
        // Readers of the live store share the lock so they never see the
        // moment between a new cib.xml and its new .sig.
        let _lock = match &self.kind {
            Kind::Live { dir, .. } => {
                let p = dir.join(LOCK_FILE);
                fsio::lock_file(&p, false).map_err(StoreError::io("lock", &p))?
            }
            Kind::Plain => None,
        };
        Ok(self.read_current()?.map(|c| Loaded { doc: c.doc, warnings: c.warnings }))
    }

    /// Writes `doc` as the new CIB. The current file, if any, must verify:
    /// a corrupt one is not silently replaced (it is evidence).
    pub fn save(&self, doc: &Document) -> Result<Committed<()>, StoreError> {
        loop {
            let Some(_lock) = self.lock_exclusive()? else {
                // Plain file that does not exist yet.
                match self.create_plain(doc)? {
                    true => return Ok(Committed { value: (), written: true, digest: None, backup: None, warnings: vec![] }),
                    false => continue, // someone else created it meanwhile; go through the lock
                }
            };
            let current = self.read_current()?;
            let warnings = current.as_ref().map(|c| c.warnings.clone()).unwrap_or_default();
            let (digest, backup) = self.write_locked(doc, current.as_ref())?;
            return Ok(Committed { value: (), written: true, digest, backup, warnings });
        }
    }

    /// Read-modify-write under the exclusive lock: re-reads the CIB, lets
    /// `f` change it, and writes the result only if `f` returned `Ok`. A
    /// rejected update leaves every file byte-identical; an update that
    /// changes nothing writes nothing.
    pub fn update<T, E>(&self, f: impl FnOnce(&mut Document) -> Result<T, E>) -> Result<Committed<T>, UpdateError<E>> {
        let Some(_lock) = self.lock_exclusive()? else {
            return Err(StoreError::NotFound { path: self.path.clone() }.into());
        };
        let current = self.read_current()?.ok_or_else(|| StoreError::NotFound { path: self.path.clone() })?;
        let mut doc = current.doc.clone();
        let value = f(&mut doc).map_err(UpdateError::Rejected)?;
        if doc == current.doc {
            return Ok(Committed { value, written: false, digest: None, backup: None, warnings: current.warnings });
        }
        let (digest, backup) = self.write_locked(&doc, Some(&current))?;
        Ok(Committed { value, written: true, digest, backup, warnings: current.warnings })
    }

    /// Numbered backups, newest first (empty for a plain file).
    pub fn backups(&self) -> Result<Vec<Backup>, StoreError> {
        match &self.kind {
            Kind::Live { dir, .. } => backup::list(dir).map_err(StoreError::io("list", dir)),
            Kind::Plain => Ok(Vec::new()),
        }
    }

    /// The newest earlier version that still verifies against its `.sig`:
    /// `cib.xml.last`, else the highest-numbered good `cib-N.raw`.
    pub fn newest_good_backup(&self) -> Option<PathBuf> {
        let Kind::Live { dir, .. } = &self.kind else { return None };
        let last = dir.join(CIB_XML_LAST);
        let numbered = backup::list(dir).unwrap_or_default().into_iter().map(|b| b.path);
        std::iter::once(last).chain(numbered).find(|p| verifies(p))
    }

    fn lock_exclusive(&self) -> Result<Option<Lock>, StoreError> {
        match &self.kind {
            Kind::Live { dir, .. } => {
                let p = dir.join(LOCK_FILE);
                fsio::lock_file(&p, true).map_err(StoreError::io("lock", &p))
            }
            Kind::Plain => fsio::lock_inode(&self.path, true).map_err(StoreError::io("lock", &self.path)),
        }
    }

    /// Reads the current file and, in the live store, checks its digest.
    fn read_current(&self) -> Result<Option<Current>, StoreError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io("read", &self.path)(e)),
        };
        let live = matches!(self.kind, Kind::Live { .. });
        let parse_error = |line, message: String| StoreError::Parse {
            path: self.path.clone(),
            line,
            message,
            newest_good_backup: if live { self.newest_good_backup() } else { None },
        };
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() as u32;
            parse_error(line, "not valid UTF-8".into())
        })?;
        if text.trim().is_empty() {
            return Err(parse_error(1, "file is empty".into()));
        }
        let doc = Document::parse(text).map_err(|e| parse_error(e.line, e.message))?;
        let digest = on_disk_digest(&doc.root);
        let mut warnings = Vec::new();
        if live {
            let sig = sig_path(&self.path);
            match digest::read_sig(&sig).map_err(StoreError::io("read", &sig))? {
                None => warnings.push(Warning::Unsigned { path: self.path.clone() }),
                Some(expected) if expected == digest => {}
                Some(expected) => {
                    return Err(StoreError::DigestMismatch {
                        path: self.path.clone(),
                        sig,
                        expected,
                        actual: digest,
                        newest_good_backup: self.newest_good_backup(),
                    })
                }
            }
        }
        Ok(Some(Current { doc, digest, warnings }))
    }

    fn crash_point(&self, point: CrashPoint) -> Result<(), StoreError> {
        match self.crash_at {
            Some(p) if p == point => Err(StoreError::SimulatedCrash { point }),
            _ => Ok(()),
        }
    }

    /// Writes `doc` with the exclusive lock held. Returns the new digest
    /// (live) and the backup made of the previous version.
    fn write_locked(
        &self,
        doc: &Document,
        current: Option<&Current>,
    ) -> Result<(Option<String>, Option<PathBuf>), StoreError> {
        let text = self.serialize(doc);
        // Digest what a reader will parse, not the tree in memory: they
        // differ if the caller built blank text nodes, which parsing drops.
        // This also proves the bytes we are about to install parse back.
        let written = Document::parse(&text).map_err(|e| StoreError::Parse {
            path: self.path.clone(),
            line: e.line,
            message: format!("refusing to write a document that does not parse back: {}", e.message),
            newest_good_backup: None,
        })?;
        match &self.kind {
            Kind::Plain => self.write_plain(&text).map(|()| (None, None)),
            Kind::Live { dir, keep_backups } => {
                let digest = on_disk_digest(&written.root);
                let backup = self.write_live(dir, *keep_backups, &text, &digest, current)?;
                Ok((Some(digest), backup))
            }
        }
    }

    fn write_live(
        &self,
        dir: &Path,
        keep_backups: usize,
        text: &str,
        digest: &str,
        current: Option<&Current>,
    ) -> Result<Option<PathBuf>, StoreError> {
        for t in [TMP_CIB, TMP_SIG, TMP_LAST, TMP_LAST_SIG] {
            let p = dir.join(t);
            fsio::remove_if_exists(&p).map_err(StoreError::io("remove stale", &p))?;
        }
        let tmp_cib = dir.join(TMP_CIB);
        let tmp_sig = dir.join(TMP_SIG);
        fsio::write_synced(&tmp_cib, text.as_bytes(), LIVE_MODE).map_err(StoreError::io("write", &tmp_cib))?;
        fsio::write_synced(&tmp_sig, digest.as_bytes(), LIVE_MODE).map_err(StoreError::io("write", &tmp_sig))?;
        self.crash_point(CrashPoint::AfterTempWrite)?;

        let mut backup = None;
        if let Some(cur) = current {
            backup = self.archive(dir, keep_backups, cur)?;
        }
        self.crash_point(CrashPoint::AfterArchive)?;

        self.install_pair(dir, &tmp_cib, &tmp_sig, &self.path)?;
        fsio::sync_dir(dir).map_err(StoreError::io("sync", dir))?;
        if keep_backups > 0 {
            self.prune(dir, keep_backups)?;
        }
        Ok(backup)
    }

    /// Replaces `dest` and `dest.sig` by `data_tmp` and `sig_tmp`. The
    /// old sig is removed first: a crash in between then leaves a file
    /// with no sig (accepted with a warning, and whole: either version)
    /// rather than a file with the other version's sig (refused as corrupt).
    fn install_pair(&self, dir: &Path, data_tmp: &Path, sig_tmp: &Path, dest: &Path) -> Result<(), StoreError> {
        let sig = sig_path(dest);
        fsio::remove_if_exists(&sig).map_err(StoreError::io("remove", &sig))?;
        fsio::sync_dir(dir).map_err(StoreError::io("sync", dir))?;
        if dest == self.path {
            self.crash_point(CrashPoint::AfterOldSigRemoved)?;
        }
        fs::rename(data_tmp, dest).map_err(StoreError::io("rename into place", dest))?;
        // rename(2) does nothing when both names are links to one inode
        // (re-archiving a version already archived after a crash).
        fsio::remove_if_exists(data_tmp).map_err(StoreError::io("remove", data_tmp))?;
        // Make the data rename durable before the sig appears, so no crash
        // can leave the new sig beside the old data.
        fsio::sync_dir(dir).map_err(StoreError::io("sync", dir))?;
        if dest == self.path {
            self.crash_point(CrashPoint::AfterDataRename)?;
        }
        fs::rename(sig_tmp, &sig).map_err(StoreError::io("rename into place", &sig))
    }

    /// Keeps the outgoing version as `cib.xml.last` and as the next
    /// numbered backup, each with a fresh `.sig` (the outgoing file may
    /// have had none if it was edited by hand). Copies are hard links:
    /// `cib.xml` is never written in place, so its inode is immutable.
    fn archive(&self, dir: &Path, keep_backups: usize, cur: &Current) -> Result<Option<PathBuf>, StoreError> {
        let mut made = None;
        if keep_backups > 0 {
            let seq = backup::list(dir).map_err(StoreError::io("list", dir))?.first().map_or(0, |b| b.seq + 1);
            let dest = dir.join(backup::backup_name(seq));
            let dest_sig = sig_path(&dest);
            fsio::remove_if_exists(&dest_sig).map_err(StoreError::io("remove", &dest_sig))?;
            fsio::remove_if_exists(&dest).map_err(StoreError::io("remove", &dest))?;
            self.link_or_copy(&self.path, &dest)?;
            fsio::write_synced(&dest_sig, cur.digest.as_bytes(), LIVE_MODE).map_err(StoreError::io("write", &dest_sig))?;
            made = Some(dest);
        }
        let tmp_last = dir.join(TMP_LAST);
        let tmp_last_sig = dir.join(TMP_LAST_SIG);
        self.link_or_copy(&self.path, &tmp_last)?;
        fsio::write_synced(&tmp_last_sig, cur.digest.as_bytes(), LIVE_MODE)
            .map_err(StoreError::io("write", &tmp_last_sig))?;
        self.install_pair(dir, &tmp_last, &tmp_last_sig, &dir.join(CIB_XML_LAST))?;
        Ok(made)
    }

    fn link_or_copy(&self, from: &Path, to: &Path) -> Result<(), StoreError> {
        if fs::hard_link(from, to).is_ok() {
            return Ok(());
        }
        // Some file systems refuse hard links; a synced copy is as good.
        let bytes = fs::read(from).map_err(StoreError::io("read", from))?;
        fsio::write_synced(to, &bytes, LIVE_MODE).map_err(StoreError::io("write", to))
    }

    fn prune(&self, dir: &Path, keep: usize) -> Result<(), StoreError> {
        for old in backup::list(dir).map_err(StoreError::io("list", dir))?.into_iter().skip(keep) {
            fsio::remove_if_exists(&old.path).map_err(StoreError::io("remove", &old.path))?;
            let sig = old.sig_path();
            fsio::remove_if_exists(&sig).map_err(StoreError::io("remove", &sig))?;
        }
        Ok(())
    }

    /// Replaces an existing plain file (lock held). The real file is
    /// replaced even when `path` is a symlink to it, and keeps its mode.
    fn write_plain(&self, text: &str) -> Result<(), StoreError> {
        let real = fs::canonicalize(&self.path).map_err(StoreError::io("resolve", &self.path))?;
        let mode = fs::metadata(&real).map_err(StoreError::io("stat", &real))?.permissions().mode() & 0o7777;
        let (dir, tmp) = plain_tmp(&real, None);
        fsio::remove_if_exists(&tmp).map_err(StoreError::io("remove stale", &tmp))?;
        fsio::write_synced(&tmp, text.as_bytes(), mode).map_err(StoreError::io("write", &tmp))?;
        // The umask applied at creation; restore the file's own mode.
        fs::set_permissions(&tmp, fs::Permissions::from_mode(mode)).map_err(StoreError::io("chmod", &tmp))?;
        self.crash_point(CrashPoint::AfterTempWrite)?;
        fs::rename(&tmp, &real).map_err(StoreError::io("rename into place", &real))?;
        fsio::sync_dir(&dir).map_err(StoreError::io("sync", &dir))
    }

    /// Creates a plain file that does not exist yet, atomically: the
    /// content is linked into place in one step, and only if nobody else
    /// created the file first (then `Ok(false)`).
    fn create_plain(&self, doc: &Document) -> Result<bool, StoreError> {
        static UNIQUE: AtomicU64 = AtomicU64::new(0);
        let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
        let (dir, tmp) = plain_tmp(&self.path, Some(n));
        fsio::write_synced(&tmp, self.serialize(doc).as_bytes(), 0o644).map_err(StoreError::io("write", &tmp))?;
        self.crash_point(CrashPoint::AfterTempWrite)?;
        let linked = fs::hard_link(&tmp, &self.path);
        fsio::remove_if_exists(&tmp).map_err(StoreError::io("remove", &tmp))?;
        match linked {
            Ok(()) => {
                fsio::sync_dir(&dir).map_err(StoreError::io("sync", &dir))?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(StoreError::io("create", &self.path)(e)),
        }
    }
}

/// A temporary name beside `file`: `.name.tmp` while the lock is held,
/// `.name.<pid>.<n>.tmp` when creating without one.
fn plain_tmp(file: &Path, unique: Option<u64>) -> (PathBuf, PathBuf) {
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut name = OsString::from(".");
    name.push(file.file_name().unwrap_or_default());
    match unique {
        Some(n) => name.push(format!(".{}.{n}.tmp", std::process::id())),
        None => name.push(".tmp"),
    }
    let tmp = dir.join(name);
    (dir, tmp)
}

/// True when `file` parses and matches its `.sig`.
fn verifies(file: &Path) -> bool {
    let (Ok(bytes), Ok(Some(sig))) = (fs::read(file), digest::read_sig(&sig_path(file))) else { return false };
    let Ok(text) = std::str::from_utf8(&bytes) else { return false };
    Document::parse(text).is_ok_and(|d| on_disk_digest(&d.root) == sig)
}
