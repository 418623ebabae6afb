//! Fencing topology: which devices fence which nodes, level by level.

use super::error::ModelError;
use super::read::{opt_string, required, required_id, Reader};
use crate::xml::Element;

/// `<fencing-level>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FencingLevel {
    pub id: String,
    pub line: u32,
    /// Levels are tried in increasing index.
    pub index: u32,
    pub target: FencingTarget,
    /// Device ids, all of which must succeed (comma-separated in XML).
    pub devices: Vec<String>,
}

/// Which nodes a level applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FencingTarget {
    /// `target`: one node name.
    Node(String),
    /// `target-pattern`: a regular expression over node names.
    Pattern(String),
    /// `target-attribute` / `target-value`: nodes with that attribute.
    Attribute { name: String, value: String },
}

impl FencingLevel {
    pub(crate) fn read(r: &mut Reader<'_>, el: &Element) -> Result<FencingLevel, ModelError> {
        let target = if let Some(t) = opt_string(el, &["target"]) {
            FencingTarget::Node(t)
        } else if let Some(p) = opt_string(el, &["target-pattern"]) {
            FencingTarget::Pattern(p)
        } else {
            FencingTarget::Attribute { name: required(el, &["target-attribute"])?, value: required(el, &["target-value"])? }
        };
        let index = r.int_attr(el, &["index"]).ok_or_else(|| ModelError::MissingAttribute {
            element: el.name.clone(),
            attribute: "index",
            line: el.line,
        })?;
        Ok(FencingLevel {
            id: required_id(el)?,
            line: el.line,
            index,
            target,
            devices: required(el, &["devices"])?.split(',').map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).collect(),
        })
    }
}
