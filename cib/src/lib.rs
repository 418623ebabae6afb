//! The Cluster Information Base (CIB): one XML document holding the
//! cluster's configuration and status.
//!
//! # Layout
//!
//! ```text
//!  bytes --xml::Document::parse--> xml tree --model::Cib::from_document--> typed view
//!    ^                               |   ^                             (read-only, for
//!    |                               |   | patchset::apply              the policy engine)
//!    +----- serialize <--------------+   +-- patchset::diff(old, new)
//!                                    |
//!                                 store (cib.xml + .sig, backups, lock)
//! ```
//!
//! - [`xml`]: the lossless tree. It is *the* representation: every edit goes
//!   through it and serialization is produced from it, so nothing a user
//!   wrote (unknown elements, comments, attribute order) is lost.
//! - [`version`]: `admin_epoch` / `epoch` / `num_updates` and their ordering.
//! - [`model`]: the typed, read-only view (docs/MODEL.md).
//! - [`patchset`]: Pacemaker's v2 patchsets, made and applied (docs/PATCHSET.md).
//! - [`store`]: the durable `cib.xml` with digest, backups and lock (docs/STORE.md).
//! - [`env`]: the `HA_*` environment contract, re-exported from `haenv`
//!   (docs/ENVIRONMENT.md).
//! - [`op_digest`]: Pacemaker's operation digests of `lrm_rsc_op` (docs/OP_DIGEST.md).
//!
//! The tree is deliberately untyped; typed views are derived from it where
//! a consumer needs semantics, never stored back.

pub mod env;
#[doc(hidden)]
pub mod fuzzing;
pub mod model;
pub mod op_digest;
pub mod patchset;
pub mod store;
pub mod version;
pub mod xml;

pub use version::Version;
pub use xml::{Document, Element, FlatElement, Node, ParseError, ParseSink};
