//! Patchsets: the XML diffs in which a CIB change travels between nodes and
//! which `crm_diff` prints and applies.
//!
//! The format is Pacemaker's "v2" patchset (`<diff format="2">`), produced
//! and consumed exactly as Pacemaker 2.1.5 does, so a patch made here can be
//! applied by Pacemaker's tools and the other way round. docs/PATCHSET.md
//! describes the format, how paths and positions are computed, and where
//! (and why) we deliberately differ.
//!
//! # Layout
//!
//! ```text
//!  old tree ─┐
//!            ├─ create::diff ──> <diff format="2"> ──> apply::apply(doc) ──> new tree
//!  new tree ─┘        │                 ^    │
//!                     │    digest::add  │    └─ version check, digest check
//!                     └─ path: /cib/configuration/resources/primitive[@id='x']
//! ```
//!
//! - [`create`]: computing a patchset from two trees (Pacemaker's change
//!   tracking, replayed on a scratch copy of the flags it keeps per node).
//! - [`apply`](mod@apply): applying a v2 patchset, atomically.
//! - [`v1`]: applying the legacy format 1 (`<diff-removed>`/`<diff-added>`).
//! - [`path`]: the restricted XPath that names a node in a change.
//! - [`digest`]: the MD5 a patchset may carry of its intended result.

pub mod apply;
pub mod create;
pub mod digest;
pub mod path;
pub mod v1;

pub use apply::{apply, apply_with, ApplyOptions};
pub use create::{diff, diff_with, try_diff, DiffOptions};

use crate::version::Version;
use crate::xml::Element;

/// Names of the version attributes, in the order patchsets list them.
pub(crate) const VERSION_FIELDS: [&str; 3] = Version::ATTRS;

/// Why a patchset could not be made or applied.
///
/// Each variant maps onto one of Pacemaker's result codes (see
/// [`PatchError::class`]), so a tool can report it the way Pacemaker does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// A change names a node that the document does not have.
    #[error("{path}: no match for {operation}")]
    NoMatch { operation: String, path: String },
    /// A change is malformed (unknown operation, missing content, ...).
    #[error("{path}: {reason}")]
    BadChange { path: String, reason: String },
    /// A path is not in the form `/name[@id='x']/...`.
    #[error("{path}: bad path: {reason}")]
    BadPath { path: String, reason: String },
    /// A move did not land where the patch said it would.
    #[error("{path}: moved to position {actual} instead of {wanted}")]
    MoveFailed { path: String, wanted: usize, actual: usize },
    /// The document is older than the patch's source: a full refresh is needed.
    #[error("current version {current} is older than the patch source {source_version}")]
    VersionTooLow { current: Version, source_version: Version },
    /// The document is newer than the patch's source: the patch is stale.
    #[error("current version {current} is newer than the patch source {source_version}")]
    VersionTooHigh { current: Version, source_version: Version },
    /// The patch does not move the version forward.
    #[error("patch does not change the version ({version})")]
    VersionUnchanged { version: Version },
    /// The result does not have the digest the patch carries.
    #[error("digest mismatch: patch expects {expected}, result has {calculated}")]
    DigestMismatch { expected: String, calculated: String },
    /// The `format` attribute names a format we do not know.
    #[error("unknown patch format {format:?}")]
    UnknownFormat { format: String },
    /// Two trees whose roots differ cannot be diffed.
    #[error("cannot diff <{old}> against <{new}>: the roots differ in name or id")]
    RootMismatch { old: String, new: String },
}

/// Pacemaker's result codes for patch failures, which decide the message
/// and exit status `crm_diff` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// `pcmk_rc_diff_failed`: "Application of update diff failed".
    DiffFailed,
    /// `pcmk_rc_diff_resync`: the receiver must ask for a full copy.
    DiffResync,
    /// `pcmk_rc_old_data`: "Update was older than existing configuration".
    OldData,
    /// `EINVAL`: an unusable patch (unknown format).
    Invalid,
}

impl PatchError {
    pub fn class(&self) -> FailureClass {
        match self {
            PatchError::VersionTooLow { .. } => FailureClass::DiffResync,
            PatchError::VersionTooHigh { .. } | PatchError::VersionUnchanged { .. } => {
                FailureClass::OldData
            }
            PatchError::UnknownFormat { .. } | PatchError::RootMismatch { .. } => {
                FailureClass::Invalid
            }
            _ => FailureClass::DiffFailed,
        }
    }
}

/// The `format` of a patchset: 1 when the attribute is absent, as Pacemaker
/// reads it.
pub fn format_of(patch: &Element) -> Result<u32, PatchError> {
    match patch.attr("format") {
        None => Ok(1),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| PatchError::UnknownFormat { format: v.to_string() }),
    }
}

/// True when a patchset carries no change at all.
pub fn is_empty(patch: &Element) -> bool {
    match patch.attr("format") {
        Some("2") => patch.children_named("change").next().is_none(),
        _ => ["diff-removed", "diff-added"]
            .iter()
            .all(|t| patch.child(t).is_none_or(|e| e.children.is_empty())),
    }
}

/// The (source, target) versions a patchset claims, as Pacemaker's
/// `xml_patch_versions` reads them: fields the patch does not name keep the
/// values passed in.
pub fn versions(patch: &Element, mut source: Version, mut target: Version) -> (Version, Version) {
    let read = |el: Option<&Element>, v: &mut Version| {
        let Some(el) = el else { return };
        for (i, name) in VERSION_FIELDS.iter().enumerate() {
            if let Some(raw) = el.attr(name) {
                // Pacemaker stores an unparseable number as -1, then treats
                // negatives as 0.
                let n = raw.trim().parse::<i64>().unwrap_or(-1).max(0) as u64;
                match i {
                    0 => v.admin_epoch = n,
                    1 => v.epoch = n,
                    _ => v.num_updates = n,
                }
            }
        }
    };
    if patch.attr("format") == Some("2") {
        let version = patch.child("version");
        read(version.and_then(|v| v.child("source")), &mut source);
        read(version.and_then(|v| v.child("target")), &mut target);
    } else {
        read(patch.child("diff-removed"), &mut source);
        read(patch.child("diff-added"), &mut target);
    }
    (source, target)
}

/// Pacemaker's `xml_patch_version_check`: a patch applies only to the exact
/// version it was made from, and must move the version forward.
pub fn check_version(doc: &Element, patch: &Element) -> Result<(), PatchError> {
    let current = Version::of(doc);
    // Defaults for a patch that names no versions: it counts as an update.
    let (source, target) = versions(patch, current, current.bump_updates());
    if current < source {
        return Err(PatchError::VersionTooLow { current, source_version: source });
    }
    if current > source {
        return Err(PatchError::VersionTooHigh { current, source_version: source });
    }
    let moved = target.admin_epoch > source.admin_epoch
        || target.epoch > source.epoch
        || target.num_updates > source.num_updates;
    if !moved {
        return Err(PatchError::VersionUnchanged { version: target });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
