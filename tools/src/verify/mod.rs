//! crm_verify: is a CIB well formed, valid against its schema, and free
//! of the common misconfigurations Pacemaker's scheduler reports?
//!
//! ```text
//!  -x FILE | -X TEXT | -p | -L (CIB_file) ──parse──> Document
//!      ──schemas::validate──> schema problems (errors stop here)
//!      ──checks (cib::model + pengine::unpack)──> config errors / warnings
//!      ──report──> stderr lines, summary, exit code (0 or 78)
//! ```
//!
//! - [`checks`]: the scheduler-level findings, each with the id of the
//!   element it is about.
//! - [`cli`]: options, sources, Pacemaker 2.1.5's messages and exit codes.
//!
//! At default verbosity Pacemaker prints only schema problems and the
//! summary; `-V` adds config errors and `-VV` config warnings, in its
//! `(function) \tlevel: message` log form, which we mirror.

pub mod checks;
pub mod cli;

use cib::Document;

/// One finding at the scheduler level, as Pacemaker logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Pacemaker's function name, kept so `-V` output reads the same.
    pub origin: &'static str,
    pub message: String,
}

/// Everything found in one CIB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Schema problems (each names its element, id and line).
    pub schema_errors: Vec<schemas::Problem>,
    /// `validate-with="none"`.
    pub schema_disabled: bool,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
    /// The scheduler's information lines (`out->info`), printed on
    /// stdout ("Only 'private' parameters to ... changed").
    pub notices: Vec<String>,
}

impl Verdict {
    pub fn has_errors(&self) -> bool {
        !self.schema_errors.is_empty() || !self.errors.is_empty()
    }
}

/// Checks a parsed CIB. `now` is epoch seconds (for failure expiry).
pub fn verify(doc: &Document, now: i64) -> Verdict {
    let mut v = Verdict::default();
    let report = schemas::validate(doc);
    v.schema_disabled = matches!(schemas::schema_of(doc), schemas::Schema::None);
    v.schema_errors = report.errors().cloned().collect();
    if !v.schema_errors.is_empty() {
        // Pacemaker stops at a schema failure: nothing is unpacked.
        return v;
    }
    checks::run(doc, now, &mut v);
    v
}
