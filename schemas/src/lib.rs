//! CIB validation: does a CIB document follow the schema its
//! `validate-with` attribute names?
//!
//! # Layout
//!
//! ```text
//!  cib::Document --schema_of--> Schema --grammar--> Spec tree --walk--> Report
//!                                                                  |
//!                                               warnings (op names, tag refs)
//! ```
//!
//! - [`schema`]: which dialect a document claims (`validate-with`).
//! - [`datatype`]: attribute value types (score, boolean, ID...).
//! - [`pattern`]: a small RelaxNG-like algebra of attributes and child
//!   elements, flattened into alternatives for matching.
//! - [`grammar`]: the Pacemaker schema family 1.0 ... 3.9 as patterns,
//!   one module per configuration section, versions gated inline.
//! - [`heartbeat`]: the Heartbeat 2.x dialect, an open grammar.
//! - [`walk`]: checks a tree against a grammar, then `ID` uniqueness and
//!   `IDREF` targets.
//! - [`warnings`]: what `crm_verify` only warns about.
//! - [`report`]: problems with element, id and line.
//!
//! The rules are written here from what Pacemaker's RelaxNG schemas
//! require (docs/VALIDATION.md lists them and where we differ); the
//! `.rng` files are never read at run time.

pub mod datatype;
pub mod grammar;
pub mod heartbeat;
pub mod pattern;
pub mod report;
pub mod schema;
pub mod walk;
pub mod warnings;

pub use report::{Problem, Report, Severity};
pub use schema::Schema;

/// Which schema a document claims through `validate-with` on its root.
pub fn schema_of(doc: &cib::Document) -> Schema {
    Schema::from_validate_with(doc.root.attr("validate-with"))
}

/// Validates a whole CIB document against the schema it names.
///
/// Errors are what makes Pacemaker refuse the document (its schema
/// check); warnings are advice that does not.
pub fn validate(doc: &cib::Document) -> Report {
    let mut report = match schema_of(doc) {
        Schema::Pacemaker { major, minor } => {
            walk::Walker::run(&doc.root, &grammar::cib(grammar::V { major, minor }))
        }
        Schema::Heartbeat2 => walk::Walker::run(&doc.root, &heartbeat::cib()),
        Schema::None => {
            // Pacemaker checks nothing here; we still say what we see,
            // as warnings, so the verdict stays Pacemaker's.
            let mut r = walk::Walker::run(&doc.root, &heartbeat::cib());
            walk::demote(&mut r);
            r.problems.insert(
                0,
                Problem::warning(
                    &doc.root,
                    "schema validation of the configuration is disabled (validate-with=\"none\")",
                ),
            );
            r
        }
        Schema::Unknown => {
            let value = doc.root.attr("validate-with").unwrap_or_default();
            let mut r = Report::default();
            r.problems.push(Problem::error(&doc.root, format!("unknown schema in validate-with=\"{value}\"")));
            r
        }
    };
    warnings::add(doc, &mut report);
    report
}
