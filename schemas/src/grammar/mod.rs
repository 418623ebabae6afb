//! The Pacemaker schema family (`pacemaker-1.0` ... `pacemaker-3.9`),
//! written as [`Spec`]s: one module per configuration section.
//!
//! One grammar serves every version; [`V::ge`] gates what a version
//! added or removed, so the differences between releases read as
//! `if v.ge(3, 7)` next to the rule they change.

mod cib;
mod constraints;
mod misc;
mod nvset;
mod resources;
mod rule;

use crate::pattern::{Body, Pat, Spec};

pub use cib::{cib, VALIDATE_WITH};

/// A `pacemaker-MAJOR.MINOR` schema version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V {
    pub major: u32,
    pub minor: u32,
}

impl V {
    /// At or after `major.minor`.
    pub fn ge(self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

/// A closed element: only what `pat` allows.
pub(crate) fn el(name: &'static str, pat: Pat) -> Spec {
    Spec { name, body: Body::Pattern(pat) }
}

/// Shorthand for a child slot built lazily from a closure.
macro_rules! child {
    ($name:expr, $f:expr) => {
        ($name, $crate::pattern::build(move || $f))
    };
}
pub(crate) use child;
