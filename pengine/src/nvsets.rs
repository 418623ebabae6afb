//! Turning name/value sets into tables (Pacemaker's
//! `pe__unpack_dataset_nvpairs`): sets in precedence order, each applied
//! only when its rules match, first definition of a name winning (or last,
//! when `overwrite`), `#default` removing an earlier value.

use std::collections::BTreeMap;

use cib::model::{by_precedence, NvSet};

use crate::rules::{all_match, RuleInput};

/// How names are spelled in the table.
pub type Canonical = fn(&str) -> &str;

/// Names as written.
pub fn as_written(name: &str) -> &str {
    name
}

/// Adds the pairs of the matching `sets` to `table`.
pub fn unpack_into(
    table: &mut BTreeMap<String, String>,
    sets: &[NvSet],
    first: Option<&str>,
    input: &RuleInput<'_>,
    overwrite: bool,
    canonical: Canonical,
) {
    for set in by_precedence(sets, first) {
        if !all_match(set.rule.iter().chain(set.extra_rules.iter()), input) {
            continue;
        }
        for pair in &set.pairs {
            let Some(value) = &pair.value else { continue };
            let name = canonical(&pair.name);
            if value == "#default" {
                if overwrite {
                    table.remove(name);
                }
                continue;
            }
            if overwrite || !table.contains_key(name) {
                table.insert(name.to_string(), value.clone());
            }
        }
    }
}

/// Pacemaker's `crm_is_true`.
pub fn is_true(value: Option<&str>) -> bool {
    value.is_some_and(|v| ["true", "on", "yes", "y", "1"].iter().any(|w| v.trim().eq_ignore_ascii_case(w)))
}
