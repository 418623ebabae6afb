//! CIB validation: does a CIB document follow the schema its
//! `validate-with` attribute names?
//!
//! # Layout
//!
//! ```text
//!  cib::Document --schema_of--> Schema --validate--> Report { problems }
//! ```
//!
//! - [`Schema`]: which dialect a document claims (`validate-with`).
//! - [`Problem`] / [`Report`]: what was found, with element, id and line.
//!
//! The rules are written in Rust from what Pacemaker's RelaxNG schemas
//! require; Pacemaker's own `.rng` files are not used at run time.

pub mod report;
pub mod schema;

pub use report::{Problem, Report, Severity};
pub use schema::Schema;

/// Which schema a document claims through `validate-with` on its root.
pub fn schema_of(doc: &cib::Document) -> Schema {
    Schema::from_validate_with(doc.root.attr("validate-with"))
}

/// Validates a whole CIB document against the schema it names.
pub fn validate(doc: &cib::Document) -> Report {
    let mut report = Report::default();
    check_unique_ids(&doc.root, &mut report);
    report
}

/// XML `ID` attributes must be unique across the whole document.
fn check_unique_ids(root: &cib::Element, report: &mut Report) {
    let mut seen = std::collections::HashMap::new();
    for el in root.descendants() {
        if let Some(id) = el.id() {
            if let Some(first) = seen.insert(id.to_string(), el.line) {
                report.problems.push(Problem::error(
                    el,
                    format!("duplicate id '{id}' (first used on line {first})"),
                ));
            }
        }
    }
}
